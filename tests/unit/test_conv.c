/* Convolution and the small ops: the fast paths against the naive references over a sweep of
 * shapes, thread-count determinism, and PyTorch's own outputs (scripts/ref/ops-golden.py). */
#include "bufs.h"
#include "check.h"
#include "core/threads.h"
#include "io/npy.h"
#include "ops/basic.h"
#include "ops/conv.h"
#include "ops/winograd.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ccase {
	int cin, cout, h, w, k, stride, pad, dil, groups;
	enum tn_act act;
	int flags, res;
};

static void sweep_against_ref(void)
{
	static const struct ccase cases[] = {
		{3, 32, 33, 31, 3, 2, 1, 1, 1, TN_ACT_RELU6, 0, 0},
		{16, 24, 9, 7, 1, 1, 0, 1, 1, TN_ACT_NONE, 0, 0},
		{16, 16, 9, 7, 1, 1, 0, 1, 1, TN_ACT_NONE, 0, 1},
		{8, 12, 10, 10, 1, 2, 0, 1, 1, TN_ACT_RELU, 0, 0},
		{32, 32, 17, 13, 3, 1, 1, 1, 32, TN_ACT_RELU6, 0, 0},
		{32, 32, 17, 13, 3, 2, 1, 1, 32, TN_ACT_RELU6, 0, 0},
		{24, 24, 15, 15, 3, 1, 2, 2, 24, TN_ACT_NONE, TN_CONV_RELU_IN, 0},
		{24, 24, 15, 15, 3, 2, 4, 4, 24, TN_ACT_NONE, TN_CONV_RELU_IN, 0},
		{20, 28, 12, 11, 3, 1, 6, 6, 1, TN_ACT_RELU, 0, 0},
		{20, 28, 12, 11, 3, 1, 12, 12, 1, TN_ACT_RELU, 0, 0},
		{16, 8, 8, 8, 3, 1, 1, 1, 4, TN_ACT_NONE, 0, 0},
		{8, 8, 8, 8, 5, 1, 2, 1, 2, TN_ACT_NONE, TN_CONV_RELU_IN, 0},
		{12, 12, 7, 9, 1, 1, 0, 1, 1, TN_ACT_NONE, TN_CONV_RES_RELU, 1},
		{6, 5, 1, 1, 3, 1, 1, 1, 1, TN_ACT_RELU, 0, 0},
		{4, 6, 20, 20, 7, 2, 3, 1, 1, TN_ACT_NONE, 0, 0},
		{40, 40, 13, 13, 3, 1, 1, 1, 40, TN_ACT_NONE, TN_CONV_RELU_IN | TN_CONV_RES_RELU, 1},
		{16, 16, 11, 9, 5, 1, 4, 2, 16, TN_ACT_RELU, TN_CONV_RELU_IN, 1}, /* depthwise 5x5, padded path */
		{8, 8, 1, 40, 3, 1, 1, 1, 8, TN_ACT_NONE, 0, 0},                 /* depthwise on one row */
		/* depthwise on wide maps: several bands of rows, each with its halo */
		{4, 4, 40, 1000, 3, 1, 1, 1, 4, TN_ACT_NONE, TN_CONV_RELU_IN, 0},
		{4, 4, 41, 1500, 3, 2, 2, 2, 4, TN_ACT_RELU, 0, 0},
		{3, 3, 30, 1200, 5, 1, 2, 1, 3, TN_ACT_NONE, 0, 1},
		/* im2col with K = 2304 over 1024 columns: the channels are split and the GEMMs accumulate */
		{256, 8, 32, 32, 3, 1, 6, 6, 1, TN_ACT_RELU, TN_CONV_RELU_IN, 1},
		{6, 6, 17, 19, 5, 2, 2, 1, 6, TN_ACT_NONE, 0, 0}, /* depthwise 5x5 stride 2, padded path */
		/* dilated convs on small maps: tap by tap over the outputs each tap can reach */
		{256, 8, 32, 32, 3, 1, 6, 6, 1, TN_ACT_RELU, 0, 1},
		{64, 8, 32, 32, 3, 1, 18, 18, 1, TN_ACT_RELU, 0, 1},
		{64, 8, 20, 20, 3, 1, 2, 6, 1, TN_ACT_NONE, 0, 0}, /* whole-width taps shifted sideways */
		{64, 12, 20, 24, 3, 1, 12, 12, 1, TN_ACT_NONE, 0, 0},
		{64, 5, 20, 20, 3, 1, 24, 24, 1, TN_ACT_NONE, 0, 1}, /* the outer taps reach nothing */
		{72, 6, 9, 11, 5, 1, 6, 3, 1, TN_ACT_RELU, 0, 0},
		/* Winograd F(4,3): tiles that fit, partial edge tiles, padding 0 and 2 */
		{64, 16, 8, 8, 3, 1, 1, 1, 1, TN_ACT_RELU, 0, 0},
		{64, 17, 13, 9, 3, 1, 1, 1, 1, TN_ACT_NONE, 0, 1},
		{32, 40, 30, 22, 3, 1, 0, 1, 1, TN_ACT_RELU, 0, 0},
		{17, 33, 11, 15, 3, 1, 2, 1, 1, TN_ACT_NONE, 0, 0},
		{64, 48, 37, 41, 3, 1, 1, 1, 1, TN_ACT_RELU, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct ccase *c = &cases[i];
		struct tn_conv cv = {c->cin, c->cout, c->k, c->k, c->stride, c->pad, c->dil, c->groups, c->act, NULL,
				     NULL, NULL, 0, 0, NULL};
		int oh = tn_conv_out_size(c->h, c->k, c->stride, c->pad, c->dil);
		int ow = tn_conv_out_size(c->w, c->k, c->stride, c->pad, c->dil);
		size_t nx = (size_t)c->cin * c->h * c->w, ny = (size_t)c->cout * oh * ow;
		float *x = rand_buf(nx), *wt = rand_buf((size_t)c->cout * (c->cin / c->groups) * c->k * c->k);
		float *b = rand_buf((size_t)c->cout), *res = c->res ? rand_buf(ny) : NULL;
		float *y = malloc(sizeof(float) * ny), *y2 = malloc(sizeof(float) * ny), *yr = malloc(sizeof(float) * ny);
		for (size_t k = 0; k < ny; k++) /* an output left unwritten shows as NaN */
			y[k] = y2[k] = NAN;
		float *work = nan_buf(tn_conv2d_workspace(&cv, c->h, c->w, c->flags, 2));
		cv.weight = wt;
		cv.bias = b;
		float *u = NULL;
		if (tn_conv2d_uses_winograd(&cv, c->h, c->w, c->flags)) {
			u = malloc(sizeof(float) * tn_winograd_weight_floats(&cv));
			tn_winograd_transform_weights(&cv, u);
			cv.wino = u;
		}
		tn_conv2d_ref(&cv, x, c->h, c->w, yr, res, c->flags);
		omp_set_num_threads(1);
		tn_conv2d(&cv, x, c->h, c->w, y, res, c->flags, work, 1);
		omp_set_num_threads(2);
		tn_conv2d(&cv, x, c->h, c->w, y2, res, c->flags, work, 2);
		double d = max_rel_diff(y, yr, ny);
		/* Winograd's transforms add a few roundings: still far below the 1e-3 end-to-end budget. */
		CHECK(d < (u ? 1e-5 : 2e-6),
		      "conv cin=%d cout=%d %dx%d k%d s%d p%d d%d g%d act%d flags%d res%d%s: fast vs naive %.2e",
		      c->cin, c->cout, c->h, c->w, c->k, c->stride, c->pad, c->dil, c->groups, c->act, c->flags,
		      c->res, u ? " (Winograd)" : "", d);
		CHECK(memcmp(y, y2, sizeof(float) * ny) == 0, "conv case %zu: same bytes with 1 and 2 threads", i);
		free(x), free(wt), free(b), free(res), free(y), free(y2), free(yr), free(work), free(u);
	}
}

/* kh x kw kernels with separate vertical / horizontal strides and paddings (CrossConv's 1xk and
 * kx1): every path (1x1 GEMM, depthwise, im2col) against the naive reference. */
struct acase {
	int cin, cout, h, w, kh, kw, sh, sw, ph, pw, dil, groups;
	enum tn_act act;
	int flags, res;
};

static void asymmetric_against_ref(void)
{
	static const struct acase cases[] = {
		{16, 16, 13, 11, 1, 3, 1, 1, 0, 1, 1, 1, TN_ACT_SILU, 0, 0},  /* CrossConv cv1 */
		{16, 16, 13, 11, 3, 1, 1, 1, 1, 0, 1, 1, TN_ACT_SILU, 0, 1},  /* CrossConv cv2 + shortcut */
		{16, 24, 13, 11, 1, 3, 1, 2, 0, 1, 1, 1, TN_ACT_NONE, 0, 0},  /* stride (1, 2) */
		{24, 16, 13, 11, 3, 1, 2, 1, 1, 0, 1, 1, TN_ACT_RELU, 0, 0},  /* stride (2, 1) */
		{16, 16, 9, 10, 3, 1, 2, 1, 1, 0, 1, 4, TN_ACT_NONE, 0, 0},   /* grouped */
		{12, 12, 9, 10, 1, 5, 1, 2, 0, 2, 1, 12, TN_ACT_NONE, 0, 0},  /* depthwise 1x5 */
		{12, 12, 9, 10, 5, 1, 2, 1, 2, 0, 1, 12, TN_ACT_RELU6, TN_CONV_RELU_IN, 0},
		{12, 12, 9, 10, 3, 3, 1, 1, 0, 2, 2, 12, TN_ACT_NONE, 0, 1},  /* depthwise, dilated */
		/* depthwise wider than 64 taps on the unpadded path (unequal strides): every tap's range
		 * is its own (a fixed table of 64 once read past its end) */
		{4, 4, 5, 90, 1, 71, 2, 1, 0, 35, 1, 4, TN_ACT_NONE, 0, 0},
		{16, 8, 7, 9, 1, 1, 1, 2, 0, 0, 1, 1, TN_ACT_NONE, 0, 0},     /* 1x1, not the GEMM path */
		{16, 8, 7, 9, 1, 1, 1, 1, 1, 0, 1, 1, TN_ACT_NONE, 0, 0},     /* 1x1 padded vertically */
		/* 3x3 stride 1 big enough for Winograd, but padding (1, 0): must not take it */
		{32, 32, 24, 24, 3, 3, 1, 1, 1, 0, 1, 1, TN_ACT_SILU, 0, 0},
		{32, 32, 24, 24, 3, 3, 1, 2, 1, 1, 1, 1, TN_ACT_NONE, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct acase *c = &cases[i];
		struct tn_conv cv = {c->cin, c->cout, c->kh, c->kw, c->sh, c->ph, c->dil, c->groups, c->act, NULL,
				     NULL, NULL, c->sw, c->pw, NULL};
		int oh = tn_conv_out_size(c->h, c->kh, c->sh, c->ph, c->dil);
		int ow = tn_conv_out_size(c->w, c->kw, c->sw, c->pw, c->dil);
		size_t nx = (size_t)c->cin * c->h * c->w, ny = (size_t)c->cout * oh * ow;
		float *x = rand_buf(nx), *wt = rand_buf((size_t)c->cout * (c->cin / c->groups) * c->kh * c->kw);
		float *b = rand_buf((size_t)c->cout), *res = c->res ? rand_buf(ny) : NULL;
		float *y = malloc(sizeof(float) * ny), *y2 = malloc(sizeof(float) * ny), *yr = malloc(sizeof(float) * ny);
		for (size_t k = 0; k < ny; k++) /* an output left unwritten shows as NaN */
			y[k] = y2[k] = NAN;
		float *work = nan_buf(tn_conv2d_workspace(&cv, c->h, c->w, c->flags, 2));
		cv.weight = wt;
		cv.bias = b;
		int wino = tn_conv2d_uses_winograd(&cv, c->h, c->w, c->flags);
		CHECK(!wino || (c->sh == c->sw && c->ph == c->pw), "asym case %zu: no Winograd with two paddings", i);
		tn_conv2d_ref(&cv, x, c->h, c->w, yr, res, c->flags);
		omp_set_num_threads(1);
		tn_conv2d(&cv, x, c->h, c->w, y, res, c->flags, work, 1);
		omp_set_num_threads(2);
		tn_conv2d(&cv, x, c->h, c->w, y2, res, c->flags, work, 2);
		double d = max_rel_diff(y, yr, ny);
		CHECK(d < 2e-6, "conv cin=%d cout=%d %dx%d k%dx%d s(%d,%d) p(%d,%d) d%d g%d -> %dx%d: fast vs naive %.2e",
		      c->cin, c->cout, c->h, c->w, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->dil, c->groups, oh, ow, d);
		CHECK(memcmp(y, y2, sizeof(float) * ny) == 0, "asym conv case %zu: same bytes with 1 and 2 threads", i);
		free(x), free(wt), free(b), free(res), free(y), free(y2), free(yr), free(work);
	}
	/* The reference itself on a hand-worked case: 1x3 kernel of ones, padding (0, 1), stride (1, 2). */
	float x[6] = {1, 2, 3, 4, 5, 6}, w3[3] = {1, 1, 1}, y[4];
	struct tn_conv cv = {1, 1, 1, 3, 1, 0, 1, 1, TN_ACT_NONE, w3, NULL, NULL, 2, 1, NULL};
	tn_conv2d_ref(&cv, x, 2, 3, y, NULL, 0);
	CHECK(y[0] == 3 && y[1] == 5 && y[2] == 9 && y[3] == 11, "1x3 conv, padding (0,1), stride (1,2) by hand");
}

/* Which 3x3 convs take Winograd: on maps of 16 tiles or fewer only with 64+ input channels. */
static void winograd_choice(void)
{
	static const struct {
		int cin, h, w, pad, want;
	} cases[] = {
		{64, 8, 8, 1, 1}, {63, 16, 16, 1, 0}, {32, 14, 14, 1, 0}, {32, 28, 28, 1, 1},
		{16, 30, 22, 0, 1}, {15, 30, 22, 0, 0}, {64, 7, 7, 1, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct tn_conv cv = {cases[i].cin, 32, 3, 3, 1, cases[i].pad, 1, 1, TN_ACT_NONE, NULL, NULL, NULL, 0, 0, NULL};
		CHECK(tn_conv2d_uses_winograd(&cv, cases[i].h, cases[i].w, 0) == cases[i].want,
		      "3x3 conv, %d channels in on %dx%d: %s Winograd", cases[i].cin, cases[i].h, cases[i].w,
		      cases[i].want ? "takes" : "does not take");
	}
}

static void resize_broadcast(void)
{
	float one[2] = {1.5f, -2.0f}, out[2 * 5 * 7], work[36];
	tn_resize_bilinear_ac(one, 2, 1, 1, out, 5, 7, work);
	int ok = 1;
	for (int i = 0; i < 35; i++)
		ok &= out[i] == 1.5f && out[35 + i] == -2.0f;
	CHECK(ok, "bilinear align_corners from 1x1 is a broadcast");
	float src[4] = {0, 1, 2, 3}, up[9];
	tn_resize_bilinear_ac(src, 1, 2, 2, up, 3, 3, work);
	CHECK(up[0] == 0 && up[2] == 1 && up[6] == 2 && up[8] == 3 && up[4] == 1.5f,
	      "bilinear align_corners keeps corners and interpolates the centre");
}

/* Reads REF/name and returns its data, or NULL. */
static float *load(const char *dir, const char *name, int k, const char *part, int64_t *shape, int *ndim)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/%s_%d_%s.npy", dir, name, k, part);
	float *d = NULL;
	if (tn_npy_read_f32(path, &d, ndim, shape))
		return NULL;
	return d;
}

static void against_pytorch(const char *dir)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/conv_cases.txt", dir);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL, "PyTorch conv cases at %s", path);
	if (!f)
		return;
	int k, cin, cout, h, w, kh, kw, s, p, d, g, n = 0;
	while (fscanf(f, "%d %d %d %d %d %d %d %d %d %d %d", &k, &cin, &cout, &h, &w, &kh, &kw, &s, &p,
		      &d, &g) == 11) {
		int64_t shape[8];
		int nd;
		float *x = load(dir, "conv", k, "x", shape, &nd), *wt = load(dir, "conv", k, "w", shape, &nd);
		float *b = load(dir, "conv", k, "b", shape, &nd), *yref = load(dir, "conv", k, "y", shape, &nd);
		if (!x || !wt || !b || !yref) {
			CHECK(0, "conv case %d: reference files readable", k);
			continue;
		}
		struct tn_conv cv = {cin, cout, kh, kw, s, p, d, g, TN_ACT_NONE, wt, b, NULL, 0, 0, NULL};
		float *u = NULL;
		if (tn_conv2d_uses_winograd(&cv, h, w, 0)) {
			u = malloc(sizeof(float) * tn_winograd_weight_floats(&cv));
			tn_winograd_transform_weights(&cv, u);
			cv.wino = u;
		}
		size_t ny = (size_t)shape[1] * shape[2] * shape[3];
		float *y = malloc(sizeof(float) * ny);
		float *work = malloc(sizeof(float) * (tn_conv2d_workspace(&cv, h, w, 0, 1) + 1));
		tn_conv2d(&cv, x, h, w, y, NULL, 0, work, 1);
		double diff = max_rel_diff(y, yref, ny);
		CHECK(diff < 1e-5, "conv vs PyTorch case %d (cin %d cout %d %dx%d k%d s%d p%d d%d g%d%s): rel %.2e",
		      k, cin, cout, h, w, kh, s, p, d, g, u ? ", Winograd" : "", diff);
		free(x), free(wt), free(b), free(yref), free(y), free(work), free(u);
		n++;
	}
	fclose(f);
	CHECK(n >= 30, "%d PyTorch conv cases compared", n);

	snprintf(path, sizeof path, "%s/resize_cases.txt", dir);
	f = fopen(path, "r");
	int c, oh, ow;
	n = 0;
	while (f && fscanf(f, "%d %d %d %d %d %d", &k, &c, &h, &w, &oh, &ow) == 6) {
		int64_t shape[8];
		int nd;
		float *x = load(dir, "resize", k, "x", shape, &nd), *yref = load(dir, "resize", k, "y", shape, &nd);
		if (!x || !yref) {
			CHECK(0, "resize case %d readable", k);
			continue;
		}
		size_t ny = (size_t)c * oh * ow;
		float *y = malloc(sizeof(float) * ny);
		float *work = malloc(sizeof(float) * tn_resize_bilinear_ac_workspace(oh, ow));
		tn_resize_bilinear_ac(x, c, h, w, y, oh, ow, work);
		double diff = max_rel_diff(y, yref, ny);
		/* PyTorch's AVX2 build contracts the weight products into FMAs: a few ulp apart. */
		CHECK(diff < 1e-5, "bilinear align_corners vs PyTorch %dx%d -> %dx%d: rel %.2e", h, w, oh, ow, diff);
		free(x), free(yref), free(y), free(work);
		n++;
	}
	if (f)
		fclose(f);
	CHECK(n >= 4, "%d PyTorch resize cases compared", n);

	snprintf(path, sizeof path, "%s/gap_cases.txt", dir);
	f = fopen(path, "r");
	n = 0;
	while (f && fscanf(f, "%d %d %d %d", &k, &c, &h, &w) == 4) {
		int64_t shape[8];
		int nd;
		float *x = load(dir, "gap", k, "x", shape, &nd), *yref = load(dir, "gap", k, "y", shape, &nd);
		if (!x || !yref) {
			CHECK(0, "gap case %d readable", k);
			continue;
		}
		float *y = malloc(sizeof(float) * (size_t)c);
		tn_gap(x, c, h, w, y);
		double diff = max_rel_diff(y, yref, (size_t)c);
		CHECK(diff < 1e-6, "global average pool vs PyTorch %dx%dx%d: rel %.2e", c, h, w, diff);
		free(x), free(yref), free(y);
		n++;
	}
	if (f)
		fclose(f);
	CHECK(n >= 2, "%d PyTorch global pooling cases compared", n);

	/* Max pooling is exact whatever the order; the average may differ in the last bit. */
	snprintf(path, sizeof path, "%s/pool_cases.txt", dir);
	f = fopen(path, "r");
	n = 0;
	int pk, ps, pp, ceil_mode, avg, poh, pow;
	while (f && fscanf(f, "%d %d %d %d %d %d %d %d %d %d %d", &k, &c, &h, &w, &pk, &ps, &pp, &ceil_mode, &avg,
			   &poh, &pow) == 11) {
		int64_t shape[8];
		int nd;
		float *x = load(dir, "pool", k, "x", shape, &nd), *yref = load(dir, "pool", k, "y", shape, &nd);
		if (!x || !yref) {
			CHECK(0, "pool case %d readable", k);
			continue;
		}
		size_t ny = (size_t)c * poh * pow;
		float *y = malloc(sizeof(float) * ny);
		float *work = malloc(sizeof(float) * tn_pool2d_workspace(w, 1));
		tn_pool2d(x, c, h, w, y, poh, pow, pk, ps, pp, avg, work, 1);
		free(work);
		double diff = max_rel_diff(y, yref, ny);
		CHECK(avg ? diff < 1e-6 : diff == 0.0, "%s pool %d/%d/%d%s vs PyTorch on %dx%dx%d: rel %.2e",
		      avg ? "average" : "max", pk, ps, pp, ceil_mode ? " ceil" : "", c, h, w, diff);
		free(x), free(yref), free(y);
		n++;
	}
	if (f)
		fclose(f);
	CHECK(n >= 18, "%d PyTorch pooling cases compared", n);

	snprintf(path, sizeof path, "%s/softmax_cases.txt", dir);
	f = fopen(path, "r");
	n = 0;
	while (f && fscanf(f, "%d %d %d %d", &k, &c, &h, &w) == 4) {
		int64_t shape[8];
		int nd;
		float *x = load(dir, "softmax", k, "x", shape, &nd), *yref = load(dir, "softmax", k, "y", shape, &nd);
		if (!x || !yref) {
			CHECK(0, "softmax case %d readable", k);
			continue;
		}
		tn_softmax_channels(x, c, h, w);
		double diff = max_rel_diff(x, yref, (size_t)c * h * w);
		CHECK(diff < 1e-6, "softmax over channels vs PyTorch %dx%dx%d: rel %.2e", c, h, w, diff);
		free(x), free(yref);
		n++;
	}
	if (f)
		fclose(f);
	CHECK(n >= 1, "%d PyTorch softmax cases compared", n);

	snprintf(path, sizeof path, "%s/upsample_cases.txt", dir);
	f = fopen(path, "r");
	n = 0;
	int sc;
	while (f && fscanf(f, "%d %d %d %d %d", &k, &c, &h, &w, &sc) == 5) {
		int64_t shape[8];
		int nd;
		float *x = load(dir, "upsample", k, "x", shape, &nd), *yref = load(dir, "upsample", k, "y", shape, &nd);
		if (!x || !yref) {
			CHECK(0, "upsample case %d readable", k);
			continue;
		}
		size_t ny = (size_t)c * h * sc * w * sc;
		float *y = malloc(sizeof(float) * ny);
		tn_upsample_nearest(x, c, h, w, y, sc);
		CHECK(memcmp(y, yref, sizeof(float) * ny) == 0, "nearest upsampling x%d vs PyTorch on %dx%dx%d: equal", sc,
		      c, h, w);
		free(x), free(yref), free(y);
		n++;
	}
	if (f)
		fclose(f);
	CHECK(n >= 5, "%d PyTorch upsampling cases compared", n);
}

int main(void)
{
	tn_threads_init(2);
	sweep_against_ref();
	asymmetric_against_ref();
	winograd_choice();
	resize_broadcast();
	const char *ref = getenv("REF_DIR");
	char dir[400], cmd[2048];
	snprintf(dir, sizeof dir, "%s/ops", ref && *ref ? ref : "build/ref");
	snprintf(cmd, sizeof cmd, "mkdir -p '%s' && { [ -f '%s/upsample_cases.txt' ] || /usr/bin/python3 scripts/ref/ops-golden.py '%s'; }",
		 dir, dir, dir);
	int rc = system(cmd);
	CHECK(rc == 0, "scripts/ref/ops-golden.py wrote the PyTorch references");
	if (rc == 0)
		against_pytorch(dir);
	return check_done();
}
