/* evaluate-miou: confusion matrix and mIoU of predicted masks against ground-truth labels, as
 * bubbliiiing's get_miou.py computes them, for one pair, a list of pairs or a VOC-style list of
 * names; states of shards merge into the exact total. */
#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/inputs.h"
#include "core/clock.h"
#include "core/error.h"
#include "eval/miou.h"
#include "io/file.h"
#include "io/image.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum format { FMT_TABLE, FMT_CSV, FMT_JSON, FMT_UPSTREAM };

struct opts {
	int n; /* 0 = not given */
	const char *model, *names_file, *gt, *pairs, *save_state, *confusion;
	const char *list, *gt_dir, *pred_dir, *gt_ext, *pred_ext; /* list mode */
	enum format format;
	int nformats, nan_absent, quiet, merge;
	char **files;
	int nfiles;
	size_t max_pixels;
};

struct pair {
	const char *pred, *gt;
	int line; /* in the list file */
};

/* The pairs to evaluate and the memory their paths live in. */
struct pairlist {
	struct pair *v;
	size_t n;
	struct cli_list list; /* the list file; paths of --pairs point into it */
	char **owned;   /* paths built in list mode, n * 2 */
};

static void usage(void)
{
	printf("Usage: %s (-m MODEL.w | -n N) --gt LABEL [PRED]\n"
	       "       %s (-m MODEL.w | -n N) --pairs LIST\n"
	       "       %s (-m MODEL.w | -n N) --list NAMES --gt-dir DIR --pred-dir DIR\n"
	       "       %s --merge STATE...\n"
	       "Compare predicted masks with ground-truth labels: confusion matrix, per-class IoU,\n"
	       "recall (PA) and precision, mIoU, mPA and accuracy, as bubbliiiing's get_miou.py.\n"
	       "PRED defaults to standard input.  Label values >= N (255 included) are ignored.\n"
	       "\n"
	       "  -m, --model MODEL.w   the model that made the masks: its number of classes and\n"
	       "                        class names\n"
	       "  -n, --num-classes N   number of classes (1..256)\n"
	       "      --names FILE      class names, one per line (default: the model's, else VOC\n"
	       "                        names for N=21)\n"
	       "      --gt FILE         ground-truth label of the one prediction\n"
	       "      --pairs FILE      lines \"PRED GT\": evaluate every pair\n"
	       "      --list NAMES      VOC-style list of image names (no extension), one per line:\n"
	       "                        evaluate PRED_DIR/NAME.png against GT_DIR/NAME.png\n"
	       "      --gt-dir DIR      folder of the ground-truth labels (with --list)\n"
	       "      --pred-dir DIR    folder of the predicted masks (with --list)\n"
	       "      --gt-ext EXT      label file extension (default png)\n"
	       "      --pred-ext EXT    prediction file extension (default png)\n"
	       "      --merge           the arguments are state files to add up\n"
	       "      --save-state FILE write the confusion matrix state for a later --merge\n"
	       "      --confusion-matrix FILE\n"
	       "                        write confusion_matrix.csv as upstream does (or --confusion)\n"
	       "      --csv             CSV report\n"
	       "      --json            JSON report\n"
	       "      --upstream        upstream get_miou's text lines\n"
	       "      --nan-absent      mmsegmentation rule: classes with no pixels are NaN, not 0\n"
	       "      --max-pixels N    refuse masks with more pixels (default 100000000)\n"
	       "  -q, --quiet           no progress bar (drawn only on a terminal), no warnings\n"
	       "  -h, --help            show this help\n"
	       "      --version         show versions\n",
	       cli_prog(), cli_prog(), cli_prog(), cli_prog());
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof *o);
	o->max_pixels = TN_IMAGE_MAX_PIXELS_DEFAULT;
	const struct cli_opt rows[] = {
		CLI_STRING("model", 'm', &o->model),
		CLI_INT("num-classes", 'n', &o->n, 1, TN_MIOU_MAX_CLASSES),
		CLI_STRING("names", 0, &o->names_file),
		CLI_STRING("gt", 0, &o->gt),
		CLI_STRING("pairs", 0, &o->pairs),
		CLI_FLAG("merge", 0, &o->merge),
		CLI_STRING("save-state", 0, &o->save_state),
		CLI_STRING("confusion", 0, &o->confusion),
		CLI_ALIAS("confusion-matrix", "confusion"),
		CLI_STRING("list", 0, &o->list),
		CLI_STRING("gt-dir", 0, &o->gt_dir),
		CLI_STRING("pred-dir", 0, &o->pred_dir),
		CLI_STRING("gt-ext", 0, &o->gt_ext),
		CLI_STRING("pred-ext", 0, &o->pred_ext),
		CLI_SET("csv", 0, &o->format, FMT_CSV, &o->nformats),
		CLI_SET("json", 0, &o->format, FMT_JSON, &o->nformats),
		CLI_SET("upstream", 0, &o->format, FMT_UPSTREAM, &o->nformats),
		CLI_FLAG("nan-absent", 0, &o->nan_absent),
		CLI_INT("max-pixels", 0, &o->max_pixels, 1, 4000000000L),
		CLI_END,
	};
	int first = cli_opts_parse(argc, argv, rows, usage, &o->quiet);
	o->files = argv + first;
	o->nfiles = argc - first;
	int modes = (o->gt != NULL) + (o->pairs != NULL) + (o->list != NULL) + o->merge;
	if (modes == 0)
		cli_usage_error("give --gt LABEL, --pairs LIST, --list NAMES or --merge STATE...");
	if (modes > 1)
		cli_usage_error("--gt, --pairs, --list and --merge exclude each other");
	if (o->list && (!o->gt_dir || !o->pred_dir))
		cli_usage_error("--list needs --gt-dir DIR and --pred-dir DIR");
	if (!o->list && (o->gt_dir || o->pred_dir || o->gt_ext || o->pred_ext))
		cli_usage_error("--gt-dir, --pred-dir, --gt-ext and --pred-ext go with --list");
	if (o->list && o->nfiles > 0)
		cli_usage_error("--list takes no further files ('%s')", o->files[0]);
	if (o->nformats > 1)
		cli_usage_error("--csv, --json and --upstream exclude each other");
	if (!o->merge && !o->n && !o->names_file && !o->model)
		cli_usage_error("the number of classes is needed: -m MODEL.w, -n N or --names FILE");
	if (o->merge && o->nfiles == 0)
		cli_usage_error("--merge needs at least one state file");
	if (o->pairs && o->nfiles > 0)
		cli_usage_error("--pairs takes no further files ('%s')", o->files[0]);
	if (o->gt && o->nfiles > 1)
		cli_usage_error("--gt takes one prediction, not %d files", o->nfiles);
	if (o->gt && strcmp(o->gt, "-") == 0 && (o->nfiles == 0 || strcmp(o->files[0], "-") == 0))
		cli_usage_error("the label and the prediction cannot both be standard input");
	if (o->gt && strcmp(o->gt, "-") != 0 && (o->nfiles == 0 || strcmp(o->files[0], "-") == 0) &&
	    isatty(STDIN_FILENO))
		cli_usage_error("standard input is a terminal: give the prediction file or pipe one in");
	if (o->save_state && o->confusion && !strcmp(o->save_state, "-") && !strcmp(o->confusion, "-"))
		cli_usage_error("--save-state and --confusion cannot both write to standard output");
}

static void push_pair(struct pairlist *pl, size_t *cap, const char *pred, const char *gt, int line)
{
	if (pl->n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		struct pair *np = realloc(pl->v, *cap * sizeof *np);
		if (!np)
			cli_die("out of memory");
		pl->v = np;
	}
	pl->v[pl->n++] = (struct pair){pred, gt, line};
}

/* "PRED GT" per line, whitespace-separated; the paths point into pl->list. */
static void read_pairs(const char *path, struct pairlist *pl)
{
	size_t cap = 0;
	memset(pl, 0, sizeof *pl);
	cli_list_read(path, "'PRED GT' lines", &pl->list);
	for (size_t i = 0; i < pl->list.n; i++) {
		char *tok[3] = {NULL, NULL, NULL}, *save = NULL;
		int nt = 0;
		for (char *t = strtok_r(pl->list.entry[i], " \t\r\v\f", &save); t && nt < 3;
		     t = strtok_r(NULL, " \t\r\v\f", &save))
			tok[nt++] = t;
		if (nt != 2)
			cli_die("%s: line %d: expected 'PRED GT' (two paths without spaces), got %s", cli_display_path(path),
				pl->list.line[i], nt == 1 ? "one field" : "more than two fields");
		push_pair(pl, &cap, tok[0], tok[1], pl->list.line[i]);
	}
	if (pl->n == 0)
		cli_die("%s: no 'PRED GT' lines", cli_display_path(path));
}

/* A VOC ImageSets list: one image name per line, without folder or extension (upstream's
 * val.txt); each names PRED_DIR/NAME.EXT and GT_DIR/NAME.EXT. */
static void read_list(const struct opts *o, struct pairlist *pl)
{
	size_t cap = 0;
	memset(pl, 0, sizeof *pl);
	cli_list_read(o->list, "image names", &pl->list);
	pl->owned = calloc(2 * pl->list.n + 1, sizeof *pl->owned);
	if (!pl->owned)
		cli_die("out of memory");
	for (size_t i = 0; i < pl->list.n; i++) {
		const char *s = pl->list.entry[i];
		char *pred = cli_path_join(o->pred_dir, s, o->pred_ext ? o->pred_ext : "png");
		char *gt = cli_path_join(o->gt_dir, s, o->gt_ext ? o->gt_ext : "png");
		pl->owned[2 * pl->n] = pred;
		pl->owned[2 * pl->n + 1] = gt;
		push_pair(pl, &cap, pred, gt, pl->list.line[i]);
	}
	if (pl->n == 0)
		cli_die("%s: no image names", cli_display_path(o->list));
}

static void free_pairlist(struct pairlist *pl)
{
	for (size_t i = 0; pl->owned && i < 2 * pl->n; i++)
		free(pl->owned[i]);
	free(pl->owned);
	free(pl->v);
	cli_list_free(&pl->list);
}

/* Every file is looked for before any is read, so a name missing near the end of a long list
 * fails in a second, not after the work. */
static void check_present(const struct pairlist *pl, const char *list)
{
	for (size_t i = 0; i < pl->n; i++) {
		const char *f[2] = {pl->v[i].pred, pl->v[i].gt};
		for (int k = 0; k < 2; k++)
			if (strcmp(f[k], "-") != 0 && access(f[k], R_OK) != 0)
				cli_die("%s: %s (%s %s, line %d)", f[k], strerror(errno),
					k ? "ground truth of" : "prediction of", cli_display_path(list), pl->v[i].line);
	}
}

static int progress_shown;
static int binary_warned;

static void end_progress(void)
{
	if (progress_shown) {
		fputc('\n', stderr);
		progress_shown = 0;
	}
}

/* "[#####.....] 12/40 images  3s left", redrawn at most 10 times a second and at the end. */
static void show_progress(size_t done, size_t total, double t0, double *last)
{
	double now = tn_now_ms();
	if (done < total && done > 0 && now - *last < 100)
		return;
	*last = now;
	enum { WIDTH = 30 };
	char bar[WIDTH + 1];
	size_t fill = total ? done * WIDTH / total : WIDTH;
	for (size_t i = 0; i < WIDTH; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[WIDTH] = 0;
	fprintf(stderr, "\r%s: [%s] %zu/%zu images", cli_prog(), bar, done, total);
	if (done > 0 && done < total)
		fprintf(stderr, "  %.0fs left ", (now - t0) / 1e3 * (double)(total - done) / (double)done);
	else
		fputs("           ", stderr);
	progress_shown = 1;
}

static _Noreturn void fail(void)
{
	end_progress();
	cli_fail();
}

/* Only 0 and 255 in a label is the usual 0/255 binary mask: 255 is "ignore" here. */
static void check_binary_label(const struct tn_image *g, const char *name, int n, int quiet)
{
	if (quiet || n > 255)
		return;
	size_t npix = (size_t)g->w * (size_t)g->h;
	int zero = 0, ff = 0;
	for (size_t i = 0; i < npix; i++) {
		if (g->px[i] == 0)
			zero = 1;
		else if (g->px[i] == 255)
			ff = 1;
		else
			return;
	}
	if (!zero || !ff)
		return;
	if (binary_warned++ == 0) {
		end_progress();
		cli_warn("%s: warning: label holds only 0 and 255; 255 is ignored, so only background "
			 "counts (binary labels need 0 and 1)", name);
	}
}

static void eval_pair(struct tn_confusion *c, const char *pred, const char *gt, size_t max_pixels, int quiet)
{
	struct tn_image p = {0}, g = {0};
	if (tn_mask_read(gt, max_pixels, &g))
		fail();
	if (tn_mask_read(pred, max_pixels, &p))
		fail();
	if (p.channels != 1 || g.channels != 1) {
		end_progress();
		cli_die("%s: not a one-channel mask", cli_display_path(p.channels != 1 ? pred : gt));
	}
	if (p.w != g.w || p.h != g.h) {
		end_progress();
		cli_die("%s: prediction is %dx%d, but its label %s is %dx%d", cli_display_path(pred), p.w, p.h,
			cli_display_path(gt), g.w, g.h);
	}
	check_binary_label(&g, cli_display_path(gt), c->n, quiet);
	if (tn_confusion_add(c, p.px, g.px, p.w, p.h, cli_display_path(pred)))
		fail();
	tn_image_free(&p);
	tn_image_free(&g);
}

static void merge_states(struct tn_confusion *acc, char **files, int nfiles)
{
	for (int i = 0; i < nfiles; i++) {
		uint8_t *buf;
		size_t len;
		struct tn_confusion s;
		if (tn_read_all(files[i], 64u << 20, &buf, &len))
			cli_fail();
		if (tn_confusion_parse_state(buf, len, cli_display_path(files[i]), &s))
			cli_fail();
		free(buf);
		if (i == 0)
			*acc = s;
		else if (tn_confusion_merge(acc, &s, cli_display_path(files[i])))
			cli_fail();
		if (i > 0)
			tn_confusion_free(&s);
	}
}

static void write_state(const char *path, const struct tn_confusion *c)
{
	struct tn_out o;
	if (tn_out_open(&o, path))
		cli_fail();
	tn_confusion_write_state(c, o.fp);
	if (tn_out_commit(&o))
		cli_fail();
}

static void write_confusion(const char *path, const struct tn_confusion *c, const char *const *names)
{
	struct tn_out o;
	if (tn_out_open(&o, path))
		cli_fail();
	tn_confusion_write_csv(o.fp, c, names);
	if (tn_out_commit(&o))
		cli_fail();
}

int main(int argc, char **argv)
{
	struct opts o;
	cli_init(argv[0]);
	parse_args(argc, argv, &o);

	const char **names = NULL, *names_from = NULL;
	uint8_t *names_text = NULL;
	int nnames = 0, nmodel = 0;
	if (o.model) {
		/* --names renames the model's classes */
		names = cli_model_names(o.model, TN_MIOU_MAX_CLASSES, o.n, !o.names_file, &nmodel, &names_text);
		if (!o.n && !o.merge)
			o.n = nmodel;
		nnames = nmodel;
		names_from = o.model;
	}
	if (o.names_file) {
		names = cli_read_names(o.names_file, TN_MIOU_MAX_CLASSES, &nnames, &names_text);
		names_from = cli_display_path(o.names_file);
		if (o.model && nnames != nmodel)
			cli_die("%s: %d class names, but the model %s has %d classes", names_from, nnames, o.model,
				nmodel);
		if (o.n && nnames != o.n)
			cli_die("%s: %d class names, but -n %d", names_from, nnames, o.n);
		if (!o.n && !o.merge)
			o.n = nnames;
	}

	struct tn_confusion c;
	if (o.merge) {
		merge_states(&c, o.files, o.nfiles);
		if (o.n && o.n != c.n)
			cli_die("%s: %d classes, but -n %d", cli_display_path(o.files[0]), c.n, o.n);
		if (o.model && nmodel != c.n)
			cli_die("%s: %d classes, but the model %s has %d", cli_display_path(o.files[0]), c.n, o.model, nmodel);
	} else {
		if (tn_confusion_init(&c, o.n))
			cli_fail();
		if (o.gt) {
			eval_pair(&c, o.nfiles ? o.files[0] : "-", o.gt, o.max_pixels, o.quiet);
		} else {
			struct pairlist pl;
			if (o.pairs)
				read_pairs(o.pairs, &pl);
			else
				read_list(&o, &pl);
			check_present(&pl, o.pairs ? o.pairs : o.list);
			int show = !o.quiet && isatty(STDERR_FILENO);
			double t0 = tn_now_ms(), last = 0;
			if (show)
				show_progress(0, pl.n, t0, &last);
			for (size_t i = 0; i < pl.n; i++) {
				eval_pair(&c, pl.v[i].pred, pl.v[i].gt, o.max_pixels, o.quiet);
				if (show)
					show_progress(i + 1, pl.n, t0, &last);
			}
			end_progress();
			free_pairlist(&pl);
		}
		if (binary_warned > 1)
			cli_warn("warning: %d more labels hold only 0 and 255", binary_warned - 1);
	}
	if (names && nnames != c.n)
		cli_die("%s: %d class names, but %d classes", names_from, nnames, c.n);
	if (!names)
		names = cli_number_names(c.n, c.n == 21 ? tn_voc_class_names : NULL, &names_text);

	struct tn_miou m;
	if (tn_miou_compute(&c, o.nan_absent, &m))
		cli_fail();
	if (o.save_state)
		write_state(o.save_state, &c);
	if (o.confusion)
		write_confusion(o.confusion, &c, names);
	/* stdout taken by a state or matrix written there: no report */
	int stdout_taken = (o.save_state && !strcmp(o.save_state, "-")) ||
			   (o.confusion && !strcmp(o.confusion, "-"));
	if (!stdout_taken) {
		switch (o.format) {
		case FMT_TABLE: tn_miou_write_table(stdout, &m, names); break;
		case FMT_CSV: tn_miou_write_csv(stdout, &m, names); break;
		case FMT_JSON: tn_miou_write_json(stdout, &m, names); break;
		case FMT_UPSTREAM: tn_miou_write_upstream(stdout, &m, names); break;
		}
	}
	tn_miou_free(&m);
	tn_confusion_free(&c);
	free(names);
	free(names_text);
	cli_close_stdout();
	return 0;
}
