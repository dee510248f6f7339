/* The resamplers against their upstream: PIL 9.4 BICUBIC resize and the bubbliiiing letterbox
 * (byte-exact, on the darknet photos and a sweep of sizes), OpenCV 4.6 INTER_LINEAR on float32
 * maps of 1..21 channels (max difference reported; expected 0), PIL Image.blend (byte-exact).
 * References: scripts/ref/resample-ref.py, as in test_image.c. */
#include "check.h"
#include "core/error.h"
#include "image/resample.h"
#include "io/image.h"
#include "refs.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SCRIPT "scripts/ref/resample-ref.py"

static float *read_f32(const char *rel, size_t n)
{
	size_t len;
	float *f = (float *)slurp(refpath(rel), &len);
	if (f && len != n * sizeof(float)) {
		free(f);
		return NULL;
	}
	return f;
}

/* Differing bytes and the largest difference. */
static long img_diff(const struct tn_image *a, const struct tn_image *b, int *maxd)
{
	*maxd = 0;
	if (a->w != b->w || a->h != b->h || a->channels != b->channels)
		return -1;
	long d = 0;
	for (size_t i = 0; i < (size_t)a->w * a->h * a->channels; i++) {
		int e = abs(a->px[i] - b->px[i]);
		d += e != 0;
		if (e > *maxd)
			*maxd = e;
	}
	return d;
}

static double cv_worst; /* largest |ours - cv2| over all cases */

static void cv_case(const char *in, int c, int sh, int sw, int dh, int dw, const char *outp)
{
	size_t nin = (size_t)c * sh * sw, nout = (size_t)c * dh * dw;
	float *x = read_f32(in, nin), *want = read_f32(outp, nout);
	float *got = malloc(nout * sizeof *got);
	if (!x || !want || !got) {
		CHECK(0, "read %s / %s", in, outp);
		goto out;
	}
	tn_resize_bilinear_cv(x, c, sh, sw, (long)sh * sw, sw, got, dh, dw);
	double md = 0;
	long nd = 0;
	for (size_t i = 0; i < nout; i++) {
		double e = fabs((double)got[i] - want[i]);
		nd += got[i] != want[i];
		if (e > md)
			md = e;
	}
	if (md > cv_worst)
		cv_worst = md;
	CHECK(nd == 0, "cv2 INTER_LINEAR %d ch %dx%d -> %dx%d: %ld values differ, max diff %g", c, sh,
	      sw, dh, dw, nd, md);
	/* The same map as a crop of a larger one (strided source). */
	long sc = (long)(sh + 3) * (sw + 5), shs = sw + 5;
	float *big = calloc((size_t)c * sc, sizeof *big);
	for (int k = 0; k < c; k++)
		for (int y = 0; y < sh; y++)
			memcpy(big + k * sc + (y + 2) * shs + 3, x + ((size_t)k * sh + y) * sw,
			       (size_t)sw * sizeof *big);
	tn_resize_bilinear_cv(big + 2 * shs + 3, c, sh, sw, sc, shs, got, dh, dw);
	CHECK(memcmp(got, want, nout * sizeof *got) == 0, "... and from a strided crop");
	free(big);
out:
	free(x);
	free(want);
	free(got);
}

static void run_manifest(void)
{
	FILE *f = fopen(refpath("manifest.txt"), "r");
	char line[2048], kind[32], a[1024], b[1024], o[1024];
	int w, h, c, sh, sw, nw, nh;
	double alpha;
	CHECK(f != NULL, "manifest %s", refpath("manifest.txt"));
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		struct tn_image src, got, want;
		int md = 0;
		if (sscanf(line, "%31s", kind) != 1)
			continue;
		if (strcmp(kind, "bicubic") == 0 &&
		    sscanf(line, "%*s %1023s %d %d %1023s", a, &w, &h, o) == 4) {
			read_pnm(refpath(a), &src);
			read_pnm(refpath(o), &want);
			int rc = tn_resize_bicubic_pil(&src, w, h, &got);
			long d = rc ? -2 : img_diff(&got, &want, &md);
			CHECK(d == 0, "PIL bicubic %s %dx%d ch %d -> %dx%d (%ld bytes differ, max %d)", a,
			      src.w, src.h, src.channels, w, h, d, md);
			tn_image_free(&src);
			tn_image_free(&got);
			tn_image_free(&want);
		} else if (strcmp(kind, "letterbox") == 0 &&
			   sscanf(line, "%*s %1023s %d %d %1023s %d %d", a, &w, &h, o, &nw, &nh) == 6) {
			struct tn_letterbox lb;
			read_pnm(refpath(a), &src);
			read_pnm(refpath(o), &want);
			int rc = tn_letterbox_pil(&src, w, h, 128, &got, &lb);
			long d = rc ? -2 : img_diff(&got, &want, &md);
			CHECK(d == 0 && lb.nw == nw && lb.nh == nh && lb.dx == (w - nw) / 2 &&
				      lb.dy == (h - nh) / 2,
			      "letterbox %s %dx%d into %dx%d: resized to %dx%d at %d,%d (%ld bytes differ)",
			      a, src.w, src.h, w, h, lb.nw, lb.nh, lb.dx, lb.dy, d);
			tn_image_free(&src);
			tn_image_free(&got);
			tn_image_free(&want);
		} else if (strcmp(kind, "cvlinear") == 0 &&
			   sscanf(line, "%*s %1023s %d %d %d %d %d %1023s", a, &c, &sh, &sw, &h, &w,
				  o) == 7) {
			cv_case(a, c, sh, sw, h, w, o);
		} else if (strcmp(kind, "blend") == 0 &&
			   sscanf(line, "%*s %1023s %1023s %lf %1023s", a, b, &alpha, o) == 4) {
			struct tn_image ib;
			read_pnm(refpath(a), &src);
			read_pnm(refpath(b), &ib);
			read_pnm(refpath(o), &want);
			got = src;
			got.px = malloc((size_t)src.w * src.h * 3);
			tn_blend_pil(&src, &ib, (float)alpha, &got);
			long d = img_diff(&got, &want, &md);
			CHECK(d == 0, "PIL blend alpha %g over all byte pairs (%ld differ)", alpha, d);
			tn_image_free(&src);
			tn_image_free(&ib);
			tn_image_free(&got);
			tn_image_free(&want);
		}
	}
	fclose(f);
	printf("# cv2 INTER_LINEAR: max difference over all cases %g\n", cv_worst);
}

static void test_edges(void)
{
	uint8_t px[3] = {10, 20, 30};
	struct tn_image one = {.w = 1, .h = 1, .channels = 3, .px = px}, out;
	CHECK(tn_resize_bicubic_pil(&one, 0, 5, &out) == TN_E_INVAL, "bicubic to width 0 refused");
	CHECK(tn_resize_bicubic_pil(&one, 3, 2, &out) == 0 && out.px[0] == 10 && out.px[17] == 30,
	      "1x1 upscaled stays flat");
	tn_image_free(&out);
	struct tn_letterbox lb;
	uint8_t *thin = calloc(3 * 10000, 1);
	struct tn_image tall = {.w = 1, .h = 10000, .channels = 3, .px = thin};
	int rc = tn_letterbox_pil(&tall, 512, 512, 128, &out, &lb);
	CHECK(rc == TN_E_INVAL && strstr(tn_errmsg(), "1x10000"), "1x10000 letterbox refused: %s",
	      tn_errmsg());
	free(thin);
	/* Note 2: width 49 into 512 gives 511, not 512. */
	uint8_t *p49 = calloc(3 * 49 * 49, 1);
	struct tn_image sq = {.w = 49, .h = 49, .channels = 3, .px = p49};
	rc = tn_letterbox_pil(&sq, 512, 512, 128, &out, &lb);
	CHECK(rc == 0 && lb.nw == 511 && lb.nh == 511 && lb.dx == 0 && out.px[0] == 0 &&
		      out.px[(size_t)511 * 512 * 3] == 128,
	      "49x49 letterboxes to 511x511 with a 1-px gray strip");
	tn_image_free(&out);
	free(p49);
}

/* Speed on the real sizes: a photo to the 512 letterbox; 21 probability maps back up. */
static void test_speed(void)
{
	struct tn_image photo, out;
	struct tn_letterbox lb;
	if (tn_image_read_rgb("/usr/share/darknet/data/kite.jpg", 0, &photo) != 0) {
		SKIP("kite.jpg not readable");
		return;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	int rc = tn_letterbox_pil(&photo, 512, 512, 128, &out, &lb);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	CHECK(rc == 0, "letterbox %dx%d -> 512: %.1f ms", photo.w, photo.h, ms);
	tn_image_free(&out);
	size_t nin = (size_t)21 * lb.nh * lb.nw, nout = (size_t)21 * photo.h * photo.w;
	float *x = malloc(nin * sizeof *x), *y = malloc(nout * sizeof *y);
	for (size_t i = 0; i < nin; i++)
		x[i] = (float)(i % 977) / 977.0f;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tn_resize_bilinear_cv(x, 21, lb.nh, lb.nw, (long)lb.nh * lb.nw, lb.nw, y, photo.h, photo.w);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
	CHECK(y[nout - 1] >= 0, "bilinear 21x%dx%d -> %dx%d: %.1f ms", lb.nh, lb.nw, photo.h, photo.w,
	      ms);
	free(x);
	free(y);
	tn_image_free(&photo);
}

/* Resize-then-argmax equals the argmax of the whole resize, the first of equal maxima
 * winning, over several bands and chunks, at 1 and 2 threads. */
static void test_resize_argmax(void)
{
	const int c = 5, sh = 23, sw = 31, dh = 71, dw = 97;
	float *x = malloc(sizeof(float) * c * sh * sw), *y = malloc(sizeof(float) * c * dh * dw);
	uint32_t r = 99;
	for (int i = 0; i < c * sh * sw; i++) {
		r = r * 1664525u + 1013904223u;
		x[i] = (float)(r >> 28) / 4.0f;
	}
	memcpy(x + 3 * sh * sw, x + 1 * sh * sw, sizeof(float) * sh * sw); /* class 3 ties class 1 */
	tn_resize_bilinear_cv(x, c, sh, sw, (long)sh * sw, sw, y, dh, dw);
	size_t wrong = 0, ties = 0;
	for (int threads = 1; threads <= 2; threads++) {
		omp_set_num_threads(threads);
		uint8_t *mask = NULL;
		int rc = tn_resize_argmax(x, c, sh, sw, (long)sh * sw, sw, dh, dw, &mask);
		CHECK(rc == 0 && mask, "resize-argmax %dx%dx%d -> %dx%d runs at %d threads", c, sh, sw, dh, dw, threads);
		if (!mask)
			continue;
		wrong = ties = 0;
		const size_t n = (size_t)dh * dw;
		for (size_t i = 0; i < n; i++) {
			int best = 0, at_max = 0;
			for (int k = 1; k < c; k++)
				if (y[k * n + i] > y[best * n + i])
					best = k;
			for (int k = 0; k < c; k++)
				at_max += y[k * n + i] == y[best * n + i];
			ties += at_max > 1;
			wrong += mask[i] != best;
		}
		CHECK(wrong == 0 && ties > 100, "resize-argmax at %d threads: %zu of %zu pixels differ (%zu with ties)",
		      threads, wrong, n, ties);
		free(mask);
	}
	free(x);
	free(y);
}

int main(void)
{
	test_edges();
	test_resize_argmax();
	if (ref_setup(SCRIPT, "resample", "/tmp/cnnkit-rsref.XXXXXX") != 0) {
		CHECK(0, "generate references with " SCRIPT " (run from the top of the tree)");
		ref_cleanup();
		return check_done();
	}
	run_manifest();
	test_speed();
	ref_cleanup();
	return check_done();
}
