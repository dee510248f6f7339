#include "eval/mapplot.h"

#include "core/error.h"
#include "core/tensor.h"
#include "io/file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the confusion matrix ---- */

/* An image's detections in the order NMS hands them to val.py: decreasing score, then input. */
static int cmp_det_ptr(const void *a, const void *b)
{
	const struct tn_map_det *p = *(const struct tn_map_det *const *)a, *q = *(const struct tn_map_det *const *)b;
	if (p->image != q->image)
		return p->image < q->image ? -1 : 1;
	if (p->score != q->score)
		return p->score > q->score ? -1 : 1;
	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* process_batch of one image: dets are those over the confidence threshold, in order. */
static void confusion_image(const struct tn_map_data *d, const struct tn_map_image *im,
			    const struct tn_map_det *const *dets, size_t nd, double thr, uint64_t *m,
			    double *iou, long *best_label, long *best_det)
{
	size_t nl = im->nlabels, w = (size_t)d->n + 1;
	const struct tn_map_label *lab = d->labels + im->label_off;
	int f32 = im->lb[0] != 0; /* infer-detect --val: float32, as torch has them */
	if (f32)
		thr = (float)thr;
	for (size_t i = 0; i < nl; i++) {
		double lb[4];
		tn_map_label_box(im, &lab[i], lb);
		for (size_t j = 0; j < nd; j++)
			iou[i * nd + j] = f32 ? tn_box_iou_f32(lb, dets[j]->box) : tn_box_iou(lb, dets[j]->box);
		best_det[i] = -1;
	}
	/* The matches are the pairs over the threshold.  Upstream sorts them by decreasing IoU
	 * (a reversed argsort, which puts equal IoUs in reverse order) and keeps each detection's
	 * first pair, then sorts the rest again and keeps each label's first: the best label of
	 * each detection, then the best of those detections for each label, ties to the higher
	 * index both times. */
	int any = 0;
	for (size_t j = 0; j < nd; j++) {
		best_label[j] = -1;
		for (size_t i = 0; i < nl; i++)
			if (iou[i * nd + j] > thr && (best_label[j] < 0 || iou[i * nd + j] >= iou[(size_t)best_label[j] * nd + j]))
				best_label[j] = (long)i;
		if (best_label[j] >= 0) {
			size_t i = (size_t)best_label[j];
			if (best_det[i] < 0 || iou[i * nd + j] >= iou[i * nd + (size_t)best_det[i]])
				best_det[i] = (long)j;
			any = 1;
		}
	}
	for (size_t i = 0; i < nl; i++) {
		size_t pred = best_det[i] >= 0 ? (size_t)dets[best_det[i]]->cls : (size_t)d->n;
		m[pred * w + (size_t)lab[i].cls]++;
	}
	if (!any) /* upstream counts no false positive in an image without a single match */
		return;
	for (size_t j = 0; j < nd; j++) {
		long i = best_label[j];
		if (i < 0 || best_det[i] != (long)j)
			m[(size_t)dets[j]->cls * w + (size_t)d->n]++;
	}
}

int tn_map_confusion(const struct tn_map_data *d, double conf, double iou_thres, uint64_t *m)
{
	size_t w = (size_t)d->n + 1, nd = d->ndets;
	memset(m, 0, w * w * sizeof *m);
	const struct tn_map_det **dets = malloc((nd ? nd : 1) * sizeof *dets);
	if (!dets)
		return tn_fail(TN_E_NOMEM, "confusion matrix: out of memory");
	for (size_t i = 0; i < nd; i++)
		dets[i] = &d->dets[i];
	if (nd)
		qsort(dets, nd, sizeof *dets, cmp_det_ptr);
	int rc = 0;
	size_t s = 0;
	for (uint32_t im = 0; im < d->nimages && !rc; im++) {
		const struct tn_map_image *img = &d->images[im];
		size_t e = s, nl = img->nlabels;
		while (e < nd && dets[e]->image == im)
			e++;
		/* those over the threshold, kept in order in place (this slice is not read again) */
		size_t k = 0;
		for (size_t j = s; j < e; j++)
			if (dets[j]->score > conf)
				dets[s + k++] = dets[j];
		if (nl) {
			size_t cells;
			double *iou = NULL;
			long *best = NULL;
			if (tn_mul_size(nl, k ? k : 1, &cells) == 0 && cells <= SIZE_MAX / sizeof *iou) {
				iou = malloc(cells * sizeof *iou);
				best = malloc((nl + k) * sizeof *best);
			}
			if (iou && best)
				confusion_image(d, img, dets + s, k, iou_thres, m, iou, best, best + k);
			else
				rc = tn_fail(TN_E_NOMEM, "image '%s': %zu labels x %zu detections: too many", img->key,
					     nl, k);
			free(iou);
			free(best);
		}
		s = e;
	}
	free(dets);
	return rc;
}

/* ---- the CSV files ---- */

void tn_map_write_curve_csv(FILE *fp, const struct tn_map_result *r, const char *const *names, int which)
{
	const struct tn_map_curves *cv = r->curves;
	const double *rows = which == TN_MAP_CURVE_PR ? cv->pr
			     : which == TN_MAP_CURVE_F1 ? cv->f1
			     : which == TN_MAP_CURVE_P	? cv->p
							: cv->r;
	const double *all = which == TN_MAP_CURVE_PR ? cv->pr_all
			    : which == TN_MAP_CURVE_F1 ? cv->f1_all
			    : which == TN_MAP_CURVE_P  ? cv->p_all
						       : cv->r_all;
	/* plot_pr_curve has a curve only for the classes with detections */
	int pr = which == TN_MAP_CURVE_PR;
	fputs(pr ? "recall" : "confidence", fp);
	for (int i = 0; i < cv->ncls; i++) {
		if (pr && !r->cls[cv->cls[i]].detections)
			continue;
		fputc(',', fp);
		tn_csv_field(fp, names[cv->cls[i]]);
	}
	fputs(",all classes\n", fp);
	for (int j = 0; j < TN_MAP_NPX; j++) {
		fprintf(fp, "%.17g", cv->px[j]);
		for (int i = 0; i < cv->ncls; i++)
			if (!pr || r->cls[cv->cls[i]].detections)
				fprintf(fp, ",%.17g", rows[(size_t)i * TN_MAP_NPX + j]);
		fprintf(fp, ",%.17g\n", all[j]);
	}
}

void tn_map_write_confusion_csv(FILE *fp, int n, const uint64_t *m, const char *const *names)
{
	fputs("predicted/true", fp);
	for (int c = 0; c <= n; c++) {
		fputc(',', fp);
		tn_csv_field(fp, c < n ? names[c] : "background");
	}
	fputc('\n', fp);
	for (int p = 0; p <= n; p++) {
		tn_csv_field(fp, p < n ? names[p] : "background");
		for (int t = 0; t <= n; t++)
			fprintf(fp, ",%" PRIu64, m[(size_t)p * ((size_t)n + 1) + (size_t)t]);
		fputc('\n', fp);
	}
}

/* ---- plot-map ---- */

static int find_script(char **out)
{
	const char *env = getenv("CNNKIT_PLOT_MAP");
	if (env && *env) {
		if (access(env, X_OK) != 0)
			return tn_fail(TN_E_IO, "%s (CNNKIT_PLOT_MAP): %s", env, strerror(errno));
		*out = strdup(env);
		return *out ? 0 : tn_fail(TN_E_NOMEM, "out of memory");
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return tn_fail(TN_E_IO, "plot-map: cannot find the running program (/proc/self/exe: %s); set CNNKIT_PLOT_MAP",
			       strerror(errno));
	exe[n] = 0;
	*strrchr(exe, '/') = 0;
	/* installed: PREFIX/bin and PREFIX/share/cnnkit; the build tree: BUILD/bin under the top */
	static const char *const rel[] = {"../share/cnnkit/plot-map", "../../scripts/plot-map"};
	for (int i = 0; i < 2; i++) {
		if (asprintf(out, "%s/%s", exe, rel[i]) < 0)
			return tn_fail(TN_E_NOMEM, "out of memory");
		if (access(*out, X_OK) == 0)
			return 0;
		free(*out);
	}
	*out = NULL;
	return tn_fail(TN_E_IO, "plot-map: not found in %s/../share/cnnkit nor %s/../../scripts; set CNNKIT_PLOT_MAP", exe,
		       exe);
}

/* Runs argv with standard output and error into a pipe; a failure reports its last line. */
static int run_tool(char *const argv[])
{
	int fds[2];
	if (pipe(fds) != 0)
		return tn_fail(TN_E_IO, "%s: %s", argv[0], strerror(errno));
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
	posix_spawn_file_actions_addclose(&fa, fds[0]);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	pid_t pid;
	int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[1]);
	if (e) {
		close(fds[0]);
		return tn_fail(TN_E_IO, "%s: cannot run: %s", argv[0], strerror(e));
	}
	char tail[512], buf[4096];
	size_t len = 0;
	for (;;) {
		ssize_t got = read(fds[0], buf, sizeof buf);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		/* keep the last sizeof tail - 1 bytes */
		size_t g = (size_t)got, keep = sizeof tail - 1;
		if (g >= keep) {
			memcpy(tail, buf + g - keep, keep);
			len = keep;
		} else {
			if (len + g > keep) {
				memmove(tail, tail + (len + g - keep), keep - g);
				len = keep - g;
			}
			memcpy(tail + len, buf, g);
			len += g;
		}
	}
	close(fds[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return tn_fail(TN_E_IO, "%s: %s", argv[0], strerror(errno));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	while (len && (tail[len - 1] == '\n' || tail[len - 1] == '\r'))
		len--;
	tail[len] = 0;
	char *line = strrchr(tail, '\n');
	line = line ? line + 1 : tail;
	if (*line)
		return tn_fail(TN_E_IO, "%s", line);
	if (WIFSIGNALED(st))
		return tn_fail(TN_E_IO, "%s: killed by signal %d", argv[0], WTERMSIG(st));
	return tn_fail(TN_E_IO, "%s: failed (exit status %d)", argv[0], WEXITSTATUS(st));
}

int tn_map_plots_open(struct tn_map_plots *p, const char *dir)
{
	memset(p, 0, sizeof *p);
	int rc = find_script(&p->script);
	if (!rc) {
		char *argv[] = {p->script, "--check", NULL};
		rc = run_tool(argv);
	}
	if (!rc)
		rc = tn_mkdir_p(dir);
	if (!rc && !(p->dir = strdup(dir)))
		rc = tn_fail(TN_E_NOMEM, "out of memory");
	if (rc) {
		free(p->script);
		p->script = NULL;
	}
	return rc;
}

static const char *const plot_files[] = {"metrics.csv",  "PR_curve.csv", "F1_curve.csv",
					 "P_curve.csv", "R_curve.csv",	"confusion_matrix.csv"};
enum { NPLOT_FILES = sizeof plot_files / sizeof plot_files[0] };

static void write_plot_file(FILE *fp, int k, const struct tn_map_result *r, const char *const *names,
			    const uint64_t *m)
{
	static const int curve[] = {0, TN_MAP_CURVE_PR, TN_MAP_CURVE_F1, TN_MAP_CURVE_P, TN_MAP_CURVE_R};
	if (k == 0)
		tn_map_write_csv(fp, r, names);
	else if (k < NPLOT_FILES - 1)
		tn_map_write_curve_csv(fp, r, names, curve[k]);
	else
		tn_map_write_confusion_csv(fp, r->n, m, names);
}

int tn_map_plots_finish(struct tn_map_plots *p, const struct tn_map_data *d, const struct tn_map_result *r,
			const char *const *names)
{
	int rc = 0, staged = 0;
	char *stage = NULL, *from = NULL, *to = NULL;
	uint64_t *m = NULL;
	size_t w = (size_t)r->n + 1, cells;
	if (!r->curves) {
		rc = tn_fail(TN_E_INVAL, "plots: the curves were not computed");
		goto out;
	}
	if (tn_mul_size(w, w, &cells) || cells > SIZE_MAX / sizeof *m || !(m = malloc(cells * sizeof *m))) {
		rc = tn_fail(TN_E_NOMEM, "confusion matrix of %d classes: out of memory", r->n);
		goto out;
	}
	if ((rc = tn_map_confusion(d, TN_MAP_CM_CONF, TN_MAP_CM_IOU, m)))
		goto out;
	if (asprintf(&stage, "%s/.evaluate-map.XXXXXX", p->dir) < 0) {
		stage = NULL;
		rc = tn_fail(TN_E_NOMEM, "out of memory");
		goto out;
	}
	if (!mkdtemp(stage)) {
		rc = tn_fail(TN_E_IO, "%s: cannot write there: %s", p->dir, strerror(errno));
		free(stage);
		stage = NULL;
		goto out;
	}
	for (; staged < NPLOT_FILES; staged++) {
		free(from);
		if (asprintf(&from, "%s/%s", stage, plot_files[staged]) < 0) {
			from = NULL;
			rc = tn_fail(TN_E_NOMEM, "out of memory");
			goto out;
		}
		FILE *fp = fopen(from, "w");
		if (!fp) {
			rc = tn_fail(TN_E_IO, "%s/%s: cannot create: %s", p->dir, plot_files[staged], strerror(errno));
			goto out;
		}
		write_plot_file(fp, staged, r, names, m);
		int bad = ferror(fp);
		if ((fclose(fp) != 0 || bad) && !rc) {
			rc = tn_fail(TN_E_IO, "%s/%s: write error: %s", p->dir, plot_files[staged],
				     strerror(errno ? errno : EIO));
			staged++; /* remove it too */
			goto out;
		}
	}
	char *argv[] = {p->script, "-o", p->dir, stage, NULL};
	if ((rc = run_tool(argv)))
		goto out;
	for (int k = 0; k < NPLOT_FILES; k++) {
		free(from);
		free(to);
		from = to = NULL;
		if (asprintf(&from, "%s/%s", stage, plot_files[k]) < 0 || asprintf(&to, "%s/%s", p->dir, plot_files[k]) < 0) {
			rc = tn_fail(TN_E_NOMEM, "out of memory");
			goto out;
		}
		if (rename(from, to) != 0) {
			rc = tn_fail(TN_E_IO, "%s: cannot write: %s", to, strerror(errno));
			goto out;
		}
	}
out:
	/* whatever is still staged goes (after the renames, nothing is) */
	for (int k = 0; stage && k < staged; k++) {
		free(from);
		if (asprintf(&from, "%s/%s", stage, plot_files[k]) < 0) {
			from = NULL;
			break;
		}
		unlink(from);
	}
	if (stage)
		rmdir(stage);
	free(stage);
	free(from);
	free(to);
	free(m);
	free(p->script);
	free(p->dir);
	p->script = p->dir = NULL;
	return rc;
}
