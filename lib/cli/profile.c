#include "cli/profile.h"

#include "cli/cli.h"
#include "core/peak.h"
#include "core/threads.h"
#include "net/profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A stage outside the network, its time summed over the images */
struct cli_stage {
	const char *name;
	double ms;
};

static double percent(double part, double whole)
{
	return whole > 0 ? 100 * part / whole : 0;
}

/* GFLOP/s of a row: 2 FLOPs per multiply-accumulate */
static double gflops(double macs, double ms)
{
	return ms > 0 ? 2 * macs / (ms * 1e6) : 0;
}

static void print_csv(const struct tn_profile_row *r, int n, const struct cli_stage *stages, int n_stages,
		      int images, double peak)
{
	fprintf(stderr, "layer,op,channels,height,width,ms,macs,gflops,peak_percent\n");
	for (int i = 0; i < n; i++) {
		double g = gflops(r[i].macs, r[i].ms);
		fprintf(stderr, "%s,%s,%d,%d,%d,%.4f,%.0f,%.2f,%.2f\n", r[i].name, r[i].op, r[i].c, r[i].h, r[i].w,
			r[i].ms, r[i].macs, g, percent(g, peak));
	}
	for (int s = 0; s < n_stages; s++)
		fprintf(stderr, "%s,stage,,,,%.4f,0,,\n", stages[s].name, stages[s].ms / images);
}

static void print_text(const struct tn_profile_row *r, int n, const struct cli_stage *stages, int n_stages,
		       int images, double peak)
{
	double net_ms = 0, net_macs = 0, other_ms = 0;
	for (int i = 0; i < n; i++)
		net_ms += r[i].ms, net_macs += r[i].macs;
	for (int s = 0; s < n_stages; s++)
		other_ms += stages[s].ms / images;
	fprintf(stderr, "%9s %6s %8s %8s %6s  %-17s %-14s %s\n", "ms", "%time", "GMACs", "GFLOP/s", "%peak", "op",
		"output", "layer");
	for (int i = 0; i < n; i++) {
		char shape[48];
		snprintf(shape, sizeof shape, "%dx%dx%d", r[i].c, r[i].h, r[i].w);
		double g = gflops(r[i].macs, r[i].ms);
		fprintf(stderr, "%9.3f %6.1f %8.3f %8.1f %6.1f  %-17s %-14s %s\n", r[i].ms, percent(r[i].ms, net_ms),
			r[i].macs / 1e9, g, percent(g, peak), r[i].op, shape, r[i].name);
	}
	double g = gflops(net_macs, net_ms);
	fprintf(stderr, "%9.3f %6.1f %8.3f %8.1f %6.1f  network (%d nodes)\n", net_ms, 100.0, net_macs / 1e9, g,
		percent(g, peak), n);
	for (int s = 0; s < n_stages; s++)
		fprintf(stderr, "%9.3f %6s %8s %8s %6s  %s\n", stages[s].ms / images, "", "", "", "", stages[s].name);
	fprintf(stderr, "%9.3f %6s %8s %8s %6s  per image, all stages\n", net_ms + other_ms, "", "", "", "");
}

void cli_profile_arg(void *mode, const char *arg)
{
	if (arg && strcmp(arg, "csv"))
		cli_usage_error("--profile: '%s' is not csv (--profile prints a table, --profile=csv CSV)", arg);
	*(int *)mode = arg ? CLI_PROFILE_CSV : CLI_PROFILE_TEXT;
}

void cli_profile_start(struct cli_profile *p, struct tn_net *net)
{
	p->net = net;
	if (p->mode && tn_net_profile(net, 1))
		cli_fail();
}

void cli_profile_image(struct cli_profile *p, double decode_ms, double pre_ms, double post_ms)
{
	p->stage[0] += decode_ms;
	p->stage[1] += pre_ms;
	p->stage[2] += post_ms;
	p->images++;
}

void cli_profile_end(struct cli_profile *p)
{
	if (!p->mode || !p->images)
		return;
	const struct cli_stage stages[3] = {
		{"decode", p->stage[0]}, {"pre-processing", p->stage[1]}, {"post-processing", p->stage[2]}};
	struct tn_profile_row *rows;
	int n;
	if (tn_profile_rows(p->net, &rows, &n))
		cli_fail();
	const char *isa;
	int threads = tn_threads(), csv = p->mode == CLI_PROFILE_CSV;
	double peak = tn_fma_peak_gflops(threads, &isa);
	fprintf(stderr, "%s%s: profile of %d image%s on %d thread%s; measured FMA peak %.1f GFLOP/s (%s)\n",
		csv ? "# " : "", cli_prog(), p->images, p->images == 1 ? "" : "s", threads, threads == 1 ? "" : "s",
		peak, isa);
	if (csv)
		print_csv(rows, n, stages, 3, p->images, peak);
	else
		print_text(rows, n, stages, 3, p->images, peak);
	free(rows);
}
