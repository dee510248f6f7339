/* detect.py's pre- and post-processing against its upstream: cv2.resize INTER_LINEAR on uint8
 * (OpenCV 4.6, byte-exact, darknet photos and random images of 1-4 channels), yolov5's
 * letterbox (byte-exact, with its numbers), non_max_suppression (torch + torchvision, same
 * boxes in the same order) and scale_boxes + round (bit-exact floats).
 * References: scripts/ref/detect-ops-ref.py, run into $REF_DIR/detect-ops or a temp folder. */
#include "check.h"
#include "refs.h"
#include "core/error.h"
#include "detect/nms.h"
#include "io/image.h"
#include "io/npy.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SCRIPT "scripts/ref/detect-ops-ref.py"

/* Photo decodes, cached by path (the manifest lists each photo once, first). */
static struct {
	char path[512];
	struct tn_image img;
} photos[16];
static int n_photos;

static const struct tn_image *photo(const char *path)
{
	for (int i = 0; i < n_photos; i++)
		if (strcmp(photos[i].path, path) == 0)
			return &photos[i].img;
	return NULL;
}

/* Differing bytes (or -1 on a shape mismatch) and where the first one is. */
static long bytes_diff(const uint8_t *a, const uint8_t *b, size_t n, size_t *first)
{
	long d = 0;
	*first = 0;
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i] && d++ == 0)
			*first = i;
	return d;
}

static uint8_t *read_raw(const char *rel, size_t n)
{
	size_t len;
	uint8_t *b = slurp(refpath(rel), &len);
	if (b && len != n) {
		free(b);
		return NULL;
	}
	return b;
}

static void do_photo(const char *path, const char *rawf, int w, int h)
{
	if (n_photos >= 16)
		return;
	struct tn_image *im = &photos[n_photos].img;
	int rc = tn_image_read_rgb(path, 0, im);
	uint8_t *want = read_raw(rawf, (size_t)w * h * 3);
	size_t first;
	int ok = rc == 0 && want && im->w == w && im->h == h && im->channels == 3 &&
		 bytes_diff(im->px, want, (size_t)w * h * 3, &first) == 0;
	CHECK(ok, "tn_image_read_rgb(%s) equals PIL's RGB decode (%dx%d)", path, w, h);
	snprintf(photos[n_photos].path, sizeof photos[n_photos].path, "%s", path);
	n_photos++;
	free(want);
}

static int resize_cases, resize_bad;

static void check_resize(const struct tn_image *src, int dw, int dh, const uint8_t *want,
			 const char *what, int verbose)
{
	struct tn_image got;
	int rc = tn_resize_linear_cv_u8(src, dw, dh, &got);
	size_t n = (size_t)dw * dh * src->channels, first = 0;
	long d = rc ? -1 : bytes_diff(got.px, want, n, &first);
	resize_cases++;
	if (d != 0) {
		resize_bad++;
		if (resize_bad <= 10)
			printf("# resize %s %dx%dx%d -> %dx%d: %ld bytes differ (first at %zu: %d vs %d)%s\n",
			       what, src->w, src->h, src->channels, dw, dh, d, first,
			       d > 0 ? got.px[first] : -1, want[first], rc ? tn_errmsg() : "");
	}
	if (verbose)
		CHECK(d == 0, "cv2.resize %s %dx%d ch%d -> %dx%d byte-exact (%ld differ)", what, src->w,
		      src->h, src->channels, dw, dh, d);
	if (!rc)
		tn_image_free(&got);
}

static void do_resize(const char *path, int c, int dw, int dh, const char *outf)
{
	const struct tn_image *p = photo(path);
	uint8_t *want = read_raw(outf, (size_t)dw * dh * c);
	if (!p || !want) {
		CHECK(0, "read %s / %s", path, outf);
		free(want);
		return;
	}
	struct tn_image g = {0};
	const struct tn_image *src = p;
	if (c == 1) { /* the script resizes the photo's channel 1 */
		g.w = p->w;
		g.h = p->h;
		g.channels = 1;
		g.px = malloc((size_t)p->w * p->h);
		for (size_t i = 0; i < (size_t)p->w * p->h; i++)
			g.px[i] = p->px[3 * i + 1];
		src = &g;
	}
	const char *base = strrchr(path, '/');
	check_resize(src, dw, dh, want, base ? base + 1 : path, 1);
	tn_image_free(&g);
	free(want);
}

static uint8_t *blob;
static size_t blob_len;

static void do_rcase(int sw, int sh, int c, int dw, int dh, size_t ioff, size_t ooff)
{
	size_t nin = (size_t)sw * sh * c, nout = (size_t)dw * dh * c;
	if (!blob || ioff + nin > blob_len || ooff + nout > blob_len) {
		resize_cases++;
		resize_bad++;
		return;
	}
	struct tn_image src = {sw, sh, c, blob + ioff};
	check_resize(&src, dw, dh, blob + ooff, "random", 0);
}

static void do_letterbox(const char *line)
{
	char path[512], outf[256];
	int wh, ww, aut, ow, oh, nw, nh, left, top;
	double ratio, pw, ph;
	if (sscanf(line, "letterbox %511s %d %d %d %255s %d %d %d %d %d %d %lf %lf %lf", path, &wh,
		   &ww, &aut, outf, &ow, &oh, &nw, &nh, &left, &top, &ratio, &pw, &ph) != 14) {
		CHECK(0, "manifest line: %s", line);
		return;
	}
	const struct tn_image *p = photo(path);
	struct tn_image got;
	struct tn_yolo_letterbox lb;
	int rc = p ? tn_letterbox_yolo(p, wh, ww, 32, aut, 114, &got, &lb) : -1;
	if (rc) {
		CHECK(0, "letterbox %s %dx%d: %s", path, ww, wh, tn_errmsg());
		return;
	}
	uint8_t *want = read_raw(outf, (size_t)ow * oh * 3);
	size_t first = 0;
	long d = want && got.w == ow && got.h == oh ? bytes_diff(got.px, want, (size_t)ow * oh * 3, &first)
						    : -1;
	int nums = lb.out_w == ow && lb.out_h == oh && lb.new_w == nw && lb.new_h == nh &&
		   lb.left == left && lb.top == top && lb.ratio == ratio && lb.pad_w == pw &&
		   lb.pad_h == ph;
	const char *base = strrchr(path, '/');
	CHECK(d == 0 && nums,
	      "letterbox %s to %dx%d auto=%d: %dx%d (inner %dx%d at %d,%d) byte-exact (%ld differ, "
	      "numbers %s)",
	      base ? base + 1 : path, ww, wh, aut, got.w, got.h, lb.new_w, lb.new_h, lb.left, lb.top,
	      d, nums ? "equal" : "DIFFER");
	free(want);
	tn_image_free(&got);
}

static int parse_classes(const char *s, int *cls, int max)
{
	int n = 0;
	if (strcmp(s, "-") == 0)
		return 0;
	while (*s && n < max) {
		cls[n++] = (int)strtol(s, (char **)&s, 10);
		if (*s == ',')
			s++;
	}
	return n;
}

static void do_nms(const char *line)
{
	char inf[256], outf[256], conf[32], iou[32], clist[256];
	int nc, maxdet, multi, agn, maxwh, k;
	if (sscanf(line, "nms %255s %d %31s %31s %d %d %d %d %255s %d %255s", inf, &nc, conf, iou,
		   &maxdet, &multi, &agn, &maxwh, clist, &k, outf) != 11) {
		CHECK(0, "manifest line: %s", line);
		return;
	}
	float *pred = NULL, *want = NULL;
	int nd = 0;
	int64_t shi[8], sho[8];
	if (tn_npy_read_f32(refpath(inf), &pred, &nd, shi) || nd != 2 || shi[1] != 5 + nc) {
		CHECK(0, "read %s: %s", inf, tn_errmsg());
		free(pred);
		return;
	}
	if (k > 0 && (tn_npy_read_f32(refpath(outf), &want, &nd, sho) || nd != 2 || sho[0] != k ||
		      sho[1] != 6)) {
		CHECK(0, "read %s: %s", outf, tn_errmsg());
		free(pred);
		free(want);
		return;
	}
	int classes[64];
	struct tn_nms_opts o;
	tn_nms_opts_default(&o);
	o.conf_thres = strtof(conf, NULL); /* as a program parses the option */
	o.iou_thres = strtof(iou, NULL);
	o.max_det = maxdet;
	o.multi_label = multi;
	o.agnostic = agn;
	o.max_wh = (float)maxwh;
	o.n_classes = parse_classes(clist, classes, 64);
	o.classes = o.n_classes ? classes : NULL;
	struct tn_det *d = NULL;
	int n = 0;
	int rc = tn_nms(pred, (int)shi[0], nc, &o, &d, &n);
	int same = rc == 0 && n == k, first_bad = -1;
	for (int i = 0; same && i < n; i++) {
		const float *w = want + (size_t)i * 6;
		if (d[i].x1 != w[0] || d[i].y1 != w[1] || d[i].x2 != w[2] || d[i].y2 != w[3] ||
		    d[i].conf != w[4] || d[i].cls != (int)w[5]) {
			same = 0;
			first_bad = i;
		}
	}
	if (first_bad >= 0)
		printf("# row %d: ours %g %g %g %g %g %d, torch %g %g %g %g %g %g\n", first_bad,
		       d[first_bad].x1, d[first_bad].y1, d[first_bad].x2, d[first_bad].y2,
		       d[first_bad].conf, d[first_bad].cls, want[first_bad * 6], want[first_bad * 6 + 1],
		       want[first_bad * 6 + 2], want[first_bad * 6 + 3], want[first_bad * 6 + 4],
		       want[first_bad * 6 + 5]);
	CHECK(same,
	      "nms %s: %d rows, nc %d, conf %s iou %s max_det %d multi %d agnostic %d max_wh %d "
	      "classes %s: %d boxes, torch %d, identical in order and value",
	      inf, (int)shi[0], nc, conf, iou, maxdet, multi, agn, maxwh, clist, n, k);
	free(d);
	free(pred);
	free(want);
}

static void do_scale(const char *line)
{
	char inf[256], rf[256], uf[256];
	int n, w0, h0, ow, oh;
	if (sscanf(line, "scale %255s %d %d %d %d %d %255s %255s", inf, &n, &w0, &h0, &ow, &oh, rf,
		   uf) != 8) {
		CHECK(0, "manifest line: %s", line);
		return;
	}
	float *b = NULL, *wr = NULL, *wu = NULL;
	int nd;
	int64_t sh[8];
	if (tn_npy_read_f32(refpath(inf), &b, &nd, sh) || tn_npy_read_f32(refpath(rf), &wr, &nd, sh) ||
	    tn_npy_read_f32(refpath(uf), &wu, &nd, sh)) {
		CHECK(0, "read %s: %s", inf, tn_errmsg());
		goto out;
	}
	struct tn_det *d = malloc((size_t)n * 2 * sizeof *d);
	for (int i = 0; i < n; i++) {
		d[i].x1 = d[n + i].x1 = b[4 * i];
		d[i].y1 = d[n + i].y1 = b[4 * i + 1];
		d[i].x2 = d[n + i].x2 = b[4 * i + 2];
		d[i].y2 = d[n + i].y2 = b[4 * i + 3];
	}
	struct tn_yolo_letterbox lb = {0};
	lb.out_w = ow;
	lb.out_h = oh;
	tn_scale_boxes(d, n, &lb, w0, h0, 1);
	tn_scale_boxes(d + n, n, &lb, w0, h0, 0);
	int bad_r = 0, bad_u = 0;
	double md = 0;
	for (int i = 0; i < n; i++) {
		float gr[4] = {d[i].x1, d[i].y1, d[i].x2, d[i].y2};
		float gu[4] = {d[n + i].x1, d[n + i].y1, d[n + i].x2, d[n + i].y2};
		for (int k = 0; k < 4; k++) {
			bad_r += gr[k] != wr[4 * i + k];
			bad_u += gu[k] != wu[4 * i + k];
			if (fabs((double)gu[k] - wu[4 * i + k]) > md)
				md = fabs((double)gu[k] - wu[4 * i + k]);
		}
	}
	CHECK(bad_r == 0 && bad_u == 0,
	      "scale_boxes %dx%d -> %dx%d, %d boxes: rounded %d differ, unrounded %d differ (max %g)",
	      ow, oh, w0, h0, n, bad_r, bad_u, md);
	free(d);
out:
	free(b);
	free(wr);
	free(wu);
}

/* Cases with no reference: bad input must fail cleanly. */
static void edge_cases(void)
{
	uint8_t px[12] = {0};
	struct tn_image src = {2, 2, 3, px}, out;
	struct tn_yolo_letterbox lb;
	CHECK(tn_resize_linear_cv_u8(&src, 0, 5, &out) == TN_E_INVAL && !out.px,
	      "resize to zero width is refused");
	struct tn_image empty = {0, 0, 3, NULL};
	CHECK(tn_resize_linear_cv_u8(&empty, 4, 4, &out) == TN_E_INVAL, "empty source refused");
	uint8_t line[3 * 4000] = {0};
	struct tn_image thin = {4000, 1, 3, line};
	CHECK(tn_letterbox_yolo(&thin, 640, 640, 32, 1, 114, &out, &lb) == TN_E_INVAL && !out.px,
	      "a 4000x1 image (scales to 640x0) is refused: %s", tn_errmsg());
	CHECK(tn_letterbox_yolo(&src, 640, 640, 0, 1, 114, &out, &lb) == TN_E_INVAL,
	      "stride 0 refused");
	CHECK(tn_letterbox_yolo(&src, 64, 64, 32, 0, 114, &out, &lb) == 0 && out.w == 64 &&
		      out.h == 64 && lb.new_w == 64,
	      "2x2 upscaled to 64x64");
	tn_image_free(&out);

	struct tn_nms_opts o;
	tn_nms_opts_default(&o);
	CHECK(o.conf_thres == 0.25f && o.iou_thres == 0.45f && o.max_det == 1000 &&
		      o.max_wh == 7680.0f && !o.multi_label && !o.agnostic && !o.classes,
	      "nms defaults are detect.py's");
	struct tn_det *d = (struct tn_det *)1;
	int n = -1;
	CHECK(tn_nms(NULL, 0, 80, &o, &d, &n) == 0 && n == 0 && d == NULL, "no rows: no boxes");
	CHECK(tn_nms(NULL, 3, 80, &o, &d, &n) == TN_E_INVAL, "rows without data refused");
	CHECK(tn_nms((float[6]){1, 1, 1, 1, 1, 1}, 1, 0, &o, &d, &n) == TN_E_INVAL,
	      "nc 0 refused");
	/* Non-finite rows: no crash; NaN obj or class drops the row. */
	float bad[4][7] = {{NAN, NAN, NAN, NAN, 0.9f, 0.9f, 0.1f},
			   {10, 10, INFINITY, 5, 0.9f, 0.9f, 0.1f},
			   {10, 10, 5, 5, NAN, 0.9f, 0.1f},
			   {10, 10, 5, 5, 0.9f, NAN, 0.9f}};
	int rc = tn_nms(&bad[0][0], 4, 2, &o, &d, &n);
	CHECK(rc == 0 && n == 2, "NaN/inf rows: %d boxes kept (want 2)", n);
	free(d);
	o.max_det = 0;
	CHECK(tn_nms(&bad[0][0], 4, 2, &o, &d, &n) == 0 && n == 0, "max_det 0: no boxes");
	struct tn_det sd = {NAN, -5, 1e9f, 0.5f, 1, 0};
	lb.out_w = 640;
	lb.out_h = 640;
	tn_scale_boxes(&sd, 1, &lb, 100, 100, 1);
	CHECK(isnan(sd.x1) && sd.y1 == 0 && sd.x2 == 100 && sd.y2 == 0,
	      "scale_boxes clips (NaN stays NaN): %g %g %g %g", sd.x1, sd.y1, sd.x2, sd.y2);
}

int main(void)
{
	edge_cases();
	if (ref_setup(SCRIPT, "detect-ops", "/tmp/tn-detect-XXXXXX")) {
		CHECK(0, "run %s (needs /usr/bin/python3 with torch, torchvision, cv2)", SCRIPT);
		return check_done();
	}
	size_t mlen;
	char *man = (char *)slurp(refpath("manifest.txt"), &mlen);
	CHECK(man != NULL, "reference manifest in %s", refdir);
	if (!man)
		return check_done();
	for (char *line = strtok(man, "\n"); line; line = strtok(NULL, "\n")) {
		char a[512], b[256];
		int w, h, c, dw, dh, sw, sh;
		size_t io, oo;
		if (sscanf(line, "photo %511s %255s %d %d", a, b, &w, &h) == 4)
			do_photo(a, b, w, h);
		else if (sscanf(line, "resize %511s %d %d %d %255s", a, &c, &dw, &dh, b) == 5)
			do_resize(a, c, dw, dh, b);
		else if (sscanf(line, "blob %255s", b) == 1)
			blob = slurp(refpath(b), &blob_len);
		else if (sscanf(line, "rcase %d %d %d %d %d %zu %zu", &sw, &sh, &c, &dw, &dh, &io,
				&oo) == 7)
			do_rcase(sw, sh, c, dw, dh, io, oo);
		else if (strncmp(line, "letterbox ", 10) == 0)
			do_letterbox(line);
		else if (strncmp(line, "nms ", 4) == 0)
			do_nms(line);
		else if (strncmp(line, "scale ", 6) == 0)
			do_scale(line);
		else
			CHECK(0, "unknown manifest line: %.80s", line);
	}
	CHECK(resize_cases > 1500 && resize_bad == 0,
	      "cv2.resize on random images (1-4 channels, every row width 1..240, 2x up/down): "
	      "%d of %d cases differ",
	      resize_bad, resize_cases);
	free(blob);
	free(man);
	for (int i = 0; i < n_photos; i++)
		tn_image_free(&photos[i].img);
	ref_cleanup();
	return check_done();
}
