/* Transposed convolution (and the asymmetric convolutions of CrossConv): the fast paths against
 * the naive reference and PyTorch's outputs (scripts/ref/deconv-golden.py), thread-count
 * determinism. */
#include "bufs.h"
#include "check.h"
#include "core/threads.h"
#include "io/npy.h"
#include "ops/conv.h"
#include "ops/deconv.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static float *load(const char *dir, const char *op, int k, const char *part, size_t *numel)
{
	char path[1024];
	int64_t shape[8];
	int nd;
	float *d = NULL;
	snprintf(path, sizeof path, "%s/%s_%d_%s.npy", dir, op, k, part);
	if (tn_npy_read_f32(path, &d, &nd, shape))
		return NULL;
	size_t n = 1;
	for (int i = 0; i < nd; i++)
		n *= (size_t)shape[i];
	if (numel)
		*numel = n;
	return d;
}

static void deconv_cases(const char *dir)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/deconv_cases.txt", dir);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL, "PyTorch deconv cases at %s", path);
	if (!f)
		return;
	int k, cin, cout, h, w, ks, s, p, op, g, bias, n = 0;
	while (fscanf(f, "%d %d %d %d %d %d %d %d %d %d %d", &k, &cin, &cout, &h, &w, &ks, &s, &p, &op, &g, &bias) == 11) {
		size_t ny;
		float *x = load(dir, "deconv", k, "x", NULL), *wt = load(dir, "deconv", k, "w", NULL);
		float *b = load(dir, "deconv", k, "b", NULL), *yref = load(dir, "deconv", k, "y", &ny);
		if (!x || !wt || !b || !yref) {
			CHECK(0, "deconv case %d: reference files readable", k);
			continue;
		}
		struct tn_deconv dc = {cin, cout, ks, s, p, op, g, wt, bias ? b : NULL};
		int oh = tn_deconv_out_size(h, ks, s, p, op), ow = tn_deconv_out_size(w, ks, s, p, op);
		CHECK((size_t)cout * oh * ow == ny, "deconv case %d: output %dx%dx%d as PyTorch's", k, cout, oh, ow);
		if ((size_t)cout * oh * ow != ny)
			continue;
		float *y = malloc(sizeof(float) * ny), *y2 = malloc(sizeof(float) * ny), *yr = malloc(sizeof(float) * ny);
		float *work = malloc(sizeof(float) * (tn_deconv2d_workspace(&dc, h, w) + 1));
		omp_set_num_threads(1);
		tn_deconv2d(&dc, x, h, w, y, work);
		omp_set_num_threads(2);
		tn_deconv2d(&dc, x, h, w, y2, work);
		tn_deconv2d_ref(&dc, x, h, w, yr);
		double d = max_rel_diff(y, yref, ny), dr = max_rel_diff(yr, yref, ny);
		CHECK(d < 1e-5 && dr < 1e-6,
		      "deconv vs PyTorch case %d (cin %d cout %d %dx%d k%d s%d p%d op%d g%d bias%d): fast %.2e, naive %.2e",
		      k, cin, cout, h, w, ks, s, p, op, g, bias, d, dr);
		CHECK(memcmp(y, y2, sizeof(float) * ny) == 0, "deconv case %d: same bytes with 1 and 2 threads", k);
		free(x), free(wt), free(b), free(yref), free(y), free(y2), free(yr), free(work);
		n++;
	}
	fclose(f);
	CHECK(n >= 9, "%d PyTorch deconv cases compared", n);
}

static void aconv_cases(const char *dir)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/aconv_cases.txt", dir);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL, "PyTorch asymmetric conv cases at %s", path);
	if (!f)
		return;
	int k, cin, cout, h, w, kh, kw, sh, sw, ph, pw, g, n = 0;
	while (fscanf(f, "%d %d %d %d %d %d %d %d %d %d %d %d", &k, &cin, &cout, &h, &w, &kh, &kw, &sh, &sw, &ph, &pw,
		      &g) == 12) {
		size_t ny;
		float *x = load(dir, "aconv", k, "x", NULL), *wt = load(dir, "aconv", k, "w", NULL);
		float *b = load(dir, "aconv", k, "b", NULL), *yref = load(dir, "aconv", k, "y", &ny);
		if (!x || !wt || !b || !yref) {
			CHECK(0, "asymmetric conv case %d: reference files readable", k);
			continue;
		}
		struct tn_conv cv = {cin, cout, kh, kw, sh, ph, 1, g, TN_ACT_NONE, wt, b, NULL, sw, pw, NULL};
		int oh = tn_conv_out_size(h, kh, sh, ph, 1), ow = tn_conv_out_size(w, kw, sw, pw, 1);
		CHECK((size_t)cout * oh * ow == ny, "asymmetric conv case %d: output size as PyTorch's", k);
		if ((size_t)cout * oh * ow != ny)
			continue;
		float *y = malloc(sizeof(float) * ny), *yr = malloc(sizeof(float) * ny);
		float *work = malloc(sizeof(float) * (tn_conv2d_workspace(&cv, h, w, 0, 1) + 1));
		tn_conv2d(&cv, x, h, w, y, NULL, 0, work, 1);
		tn_conv2d_ref(&cv, x, h, w, yr, NULL, 0);
		double d = max_rel_diff(y, yref, ny), dr = max_rel_diff(yr, yref, ny);
		CHECK(d < 1e-5 && dr < 1e-6, "conv k%dx%d s(%d,%d) p(%d,%d) g%d vs PyTorch: fast %.2e, naive %.2e", kh, kw,
		      sh, sw, ph, pw, g, d, dr);
		free(x), free(wt), free(b), free(yref), free(y), free(yr), free(work);
		n++;
	}
	fclose(f);
	CHECK(n >= 6, "%d PyTorch asymmetric conv cases compared", n);
}

static void sizes(void)
{
	CHECK(tn_deconv_out_size(20, 2, 2, 0, 0) == 40, "k2 s2 doubles the size");
	CHECK(tn_deconv_out_size(20, 3, 2, 1, 1) == 40, "k3 s2 p1 output_padding 1 doubles the size");
	CHECK(tn_deconv_out_size(1, 1, 1, 1, 0) == 0, "padding that crops everything gives no output");
	CHECK(tn_deconv_out_size(0, 2, 2, 0, 0) == 0, "an empty input gives no output");
}

int main(void)
{
	tn_threads_init(2);
	sizes();
	const char *ref = getenv("REF_DIR");
	char dir[400], cmd[2048];
	snprintf(dir, sizeof dir, "%s/deconv", ref && *ref ? ref : "build/ref");
	snprintf(cmd, sizeof cmd,
		 "mkdir -p '%s' && { [ -f '%s/aconv_cases.txt' ] || /usr/bin/python3 scripts/ref/deconv-golden.py '%s'; }",
		 dir, dir, dir);
	int rc = system(cmd);
	CHECK(rc == 0, "scripts/ref/deconv-golden.py wrote the PyTorch references");
	if (rc == 0) {
		deconv_cases(dir);
		aconv_cases(dir);
	}
	return check_done();
}
