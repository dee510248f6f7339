/* Our own vector kernels, on every instruction-set path this CPU runs (core/cpu.h):
 * - the direct convolution over packed weights (ops/convdirect.c) against the naive reference,
 *   over a sweep of shapes with tails (channels not a multiple of 8, odd widths, 1x1 maps),
 *   strides, paddings, dilations, kernels up to the 6x6 stem, fused epilogues; the same bytes
 *   at 1 and 2 threads; and its place in tn_conv2d;
 * - SiLU and the sigmoid (ops/fastmath.c) against double precision;
 * - YOLOv5's Detect decoding (ops/detect.c) against its formula in double precision. */
#include "bufs.h"
#include "check.h"
#include "core/cpu.h"
#include "ops/conv.h"
#include "ops/convdirect.h"
#include "ops/detect.h"
#include "ops/fastmath.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct dcase {
	int cin, cout, h, w, kh, kw, sh, sw, ph, pw, dil;
	enum tn_act act;
	int flags, res;
};

static const struct dcase cases[] = {
	{1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, TN_ACT_NONE, 0, 0},        /* 1x1 map, one channel */
	{3, 32, 64, 64, 6, 6, 2, 2, 2, 2, 1, TN_ACT_SILU, 0, 0},     /* YOLOv5's stem */
	{3, 5, 17, 23, 6, 6, 2, 2, 2, 2, 1, TN_ACT_SILU, 0, 0},      /* the stem on odd sizes */
	{32, 32, 40, 40, 3, 3, 1, 1, 1, 1, 1, TN_ACT_SILU, 0, 1},    /* C3 bottleneck with shortcut */
	{16, 24, 13, 11, 3, 3, 2, 2, 1, 1, 1, TN_ACT_RELU, 0, 0},    /* 3x3 stride 2, odd sizes */
	{17, 9, 7, 5, 3, 3, 1, 1, 1, 1, 1, TN_ACT_RELU6, 0, 0},      /* tails everywhere */
	{8, 8, 1, 1, 3, 3, 1, 1, 1, 1, 1, TN_ACT_NONE, 0, 0},        /* 1x1 map, 3x3 kernel */
	{64, 255, 20, 20, 1, 1, 1, 1, 0, 0, 1, TN_ACT_NONE, 0, 0},   /* Detect's 1x1, 255 outputs */
	{37, 13, 9, 50, 1, 1, 1, 1, 0, 0, 1, TN_ACT_SILU, 0, 1},     /* 1x1 read in place, residual */
	{12, 20, 15, 14, 3, 3, 1, 1, 2, 2, 2, TN_ACT_RELU, 0, 0},    /* dilated */
	{12, 20, 31, 29, 3, 3, 2, 2, 4, 4, 4, TN_ACT_NONE, 0, 0},    /* dilated, stride 2 */
	{10, 11, 12, 13, 5, 5, 1, 1, 2, 2, 1, TN_ACT_NONE, TN_CONV_RELU_IN, 0},
	{10, 11, 12, 13, 1, 1, 1, 1, 0, 0, 1, TN_ACT_NONE, TN_CONV_RELU_IN, 1}, /* Xception's pre-ReLU */
	{9, 7, 11, 12, 3, 3, 1, 1, 1, 1, 1, TN_ACT_NONE, TN_CONV_RES_RELU, 1},
	{16, 16, 13, 11, 1, 3, 1, 1, 0, 1, 1, TN_ACT_SILU, 0, 0},    /* CrossConv's 1x3 */
	{16, 24, 13, 11, 1, 3, 1, 2, 0, 1, 1, TN_ACT_NONE, 0, 0},    /* stride (1, 2) */
	{24, 16, 13, 11, 3, 1, 2, 1, 1, 0, 1, TN_ACT_RELU, 0, 1},    /* stride (2, 1) */
	{7, 9, 23, 19, 7, 7, 3, 3, 3, 3, 1, TN_ACT_RELU, 0, 0},      /* stride 3 */
	{24, 16, 13, 11, 1, 1, 2, 2, 0, 0, 1, TN_ACT_NONE, 0, 0},    /* ResNet's 1x1 stride-2 shortcut */
	{5, 3, 8, 8, 3, 3, 1, 1, 0, 0, 1, TN_ACT_NONE, 0, 0},        /* no padding, 3x3 in place */
	{40, 33, 49, 47, 3, 3, 1, 1, 1, 1, 1, TN_ACT_SILU, 0, 1},    /* many tiles, tails */
	{6, 8, 3, 100, 1, 9, 1, 1, 0, 4, 1, TN_ACT_NONE, 0, 0},      /* wide rows, 1x9 */
	/* input copies of several bands (BAND_FLOATS), the last one short */
	{64, 20, 130, 70, 3, 3, 1, 1, 1, 1, 1, TN_ACT_SILU, 0, 1},
	{48, 9, 150, 101, 3, 3, 2, 2, 1, 1, 1, TN_ACT_RELU, 0, 0},
	{40, 12, 90, 90, 5, 5, 1, 1, 4, 4, 2, TN_ACT_NONE, TN_CONV_RELU_IN, 0},
};

static void run_case(const struct dcase *c, enum tn_isa isa)
{
	struct tn_conv cv = {.cin = c->cin, .cout = c->cout, .kh = c->kh, .kw = c->kw, .stride = c->sh,
			     .pad = c->ph, .dil = c->dil, .groups = 1, .act = c->act, .stride_w = c->sw,
			     .pad_w = c->pw};
	const int oh = tn_conv_out_size(c->h, c->kh, c->sh, c->ph, c->dil);
	const int ow = tn_conv_out_size(c->w, c->kw, c->sw, c->pw, c->dil);
	const size_t nx = (size_t)c->cin * c->h * c->w, ny = (size_t)c->cout * oh * ow;
	const size_t nw = (size_t)c->cout * c->cin * c->kh * c->kw;
	/* x ends its allocation, so a vector read past its last pixel is caught by ASan */
	float *x = rand_buf(nx), *wt = rand_buf(nw), *b = rand_buf((size_t)c->cout);
	float *res = c->res ? rand_buf(ny) : NULL;
	float *y1 = nan_buf(ny), *y2 = nan_buf(ny), *yr = malloc(sizeof(float) * ny);
	float *packed = nan_buf(tn_conv_direct_weight_floats(&cv));
	float *work = nan_buf(tn_conv_direct_workspace(&cv, c->h, c->w, c->flags, 2));
	cv.weight = wt;
	cv.bias = b;
	tn_conv_direct_pack(&cv, packed);
	tn_conv2d_ref(&cv, x, c->h, c->w, yr, res, c->flags);
	tn_conv_direct(&cv, packed, x, c->h, c->w, y1, res, c->flags, work, 1);
	tn_conv_direct(&cv, packed, x, c->h, c->w, y2, res, c->flags, work, 2);
	double d = max_rel_diff(y1, yr, ny);
	CHECK(d < 2e-6, "%s: cin %d cout %d %dx%d k%dx%d s(%d,%d) p(%d,%d) d%d act%d flags%d res%d: %.2e",
	      tn_isa_name(isa), c->cin, c->cout, c->h, c->w, c->kh, c->kw, c->sh, c->sw, c->ph, c->pw, c->dil,
	      c->act, c->flags, c->res, d);
	CHECK(memcmp(y1, y2, sizeof(float) * ny) == 0, "%s: case cin %d cout %d %dx%d: same bytes at 1 and 2 threads",
	      tn_isa_name(isa), c->cin, c->cout, c->h, c->w);
	free(x), free(wt), free(b), free(res), free(y1), free(y2), free(yr), free(packed), free(work);
}

/* tn_conv2d takes the direct path once the weights are packed, and only for one group. */
static void dispatch(void)
{
	struct tn_conv cv = {.cin = 16, .cout = 16, .kh = 3, .kw = 3, .stride = 1, .pad = 1, .dil = 1, .groups = 1};
	CHECK(tn_conv2d_uses_direct(&cv, 20, 20, 0), "3x3 one group: direct");
	cv.groups = 4;
	CHECK(!tn_conv2d_uses_direct(&cv, 20, 20, 0), "grouped: not direct");
	cv.groups = 16;
	cv.cout = 16;
	CHECK(!tn_conv2d_uses_direct(&cv, 20, 20, 0), "depthwise: not direct");
	struct tn_conv big = {.cin = 256, .cout = 256, .kh = 3, .kw = 3, .stride = 1, .pad = 1, .dil = 1, .groups = 1};
	CHECK(tn_conv2d_uses_direct(&big, 20, 20, 0), "3x3 on 256 channels (K 2304): direct");
	big.cin = 257;
	CHECK(!tn_conv2d_uses_direct(&big, 20, 20, 0), "3x3 on 257 channels: BLIS or Winograd");
	struct tn_conv pw = {.cin = 512, .cout = 64, .kh = 1, .kw = 1, .stride = 1, .dil = 1, .groups = 1};
	CHECK(tn_conv2d_uses_direct(&pw, 20, 20, 0), "1x1 on 512 channels: direct");
	pw.cin = 728;
	CHECK(!tn_conv2d_uses_direct(&pw, 20, 20, 0), "1x1 on 728 channels: BLIS");
	struct tn_conv fc = {.cin = 1024, .cout = 1000, .kh = 1, .kw = 1, .stride = 1, .dil = 1, .groups = 1};
	CHECK(tn_conv2d_uses_direct(&fc, 1, 1, 0), "GoogLeNet's fc (1024 channels, one pixel): direct");
	fc.cin = 2048;
	CHECK(!tn_conv2d_uses_direct(&fc, 1, 1, 0), "Xception's ASPP pooling branch (2048 channels, one pixel): BLIS");
	struct tn_conv aspp = {.cin = 256, .cout = 256, .kh = 3, .kw = 3, .stride = 1, .pad = 18, .dil = 18, .groups = 1};
	CHECK(!tn_conv2d_uses_direct(&aspp, 32, 32, 0), "ASPP's dilation 18 on 32x32 stays on the sparse-tap path");

	/* through tn_conv2d, with its own workspace size */
	struct tn_conv c3 = {.cin = 19, .cout = 21, .kh = 3, .kw = 3, .stride = 2, .pad = 1, .dil = 1, .groups = 1,
			     .act = TN_ACT_SILU};
	const int h = 33, w = 30, oh = tn_conv_out_size(h, 3, 2, 1, 1), ow = tn_conv_out_size(w, 3, 2, 1, 1);
	float *x = rand_buf((size_t)19 * h * w), *wt = rand_buf((size_t)21 * 19 * 9), *b = rand_buf(21);
	float *y = nan_buf((size_t)21 * oh * ow), *yr = malloc(sizeof(float) * 21 * oh * ow);
	float *packed = malloc(sizeof(float) * tn_conv_direct_weight_floats(&c3));
	float *work = nan_buf(tn_conv2d_workspace(&c3, h, w, 0, 2));
	c3.weight = wt;
	c3.bias = b;
	tn_conv_direct_pack(&c3, packed);
	c3.packed = packed;
	tn_conv2d(&c3, x, h, w, y, NULL, 0, work, 2);
	tn_conv2d_ref(&c3, x, h, w, yr, NULL, 0);
	double d = max_rel_diff(y, yr, (size_t)21 * oh * ow);
	CHECK(d < 2e-6, "tn_conv2d with packed weights against the reference: %.2e", d);
	free(x), free(wt), free(b), free(y), free(yr), free(packed), free(work);
}

/* SiLU with a bias, the epilogue of YOLOv5's convs: every path within 2 ulp-ish of double
 * precision over odd lengths (tails), and the AVX2 and AVX-512 paths bit-identical. */
static void silu_paths(void)
{
	enum { N = 1000 };
	static float in[N], out[3][N];
	for (int i = 0; i < N; i++)
		in[i] = (float)(i - 500) * 0.05f; /* -25 .. 25 */
	const enum tn_isa prev = tn_isa_active();
	for (int isa = TN_ISA_GENERIC; isa <= (int)tn_isa_best(); isa++) {
		tn_isa_use((enum tn_isa)isa);
		memcpy(out[isa], in, sizeof in);
		tn_silu_bias(out[isa], N - 3, 0.25f);
		double worst = 0;
		for (int i = 0; i < N - 3; i++) {
			double v = (double)in[i] + 0.25, want = v / (1.0 + exp(-v));
			double e = fabs(out[isa][i] - want) / (fabs(want) > 1e-3 ? fabs(want) : 1e-3);
			worst = e > worst ? e : worst;
		}
		CHECK(worst < 1e-6 && memcmp(out[isa] + N - 3, in + N - 3, 3 * sizeof(float)) == 0,
		      "%s SiLU: worst relative error %.2e, nothing written past n", tn_isa_name((enum tn_isa)isa), worst);
	}
	if (tn_isa_best() == TN_ISA_AVX512)
		CHECK(memcmp(out[TN_ISA_AVX2], out[TN_ISA_AVX512], sizeof out[0]) == 0, "AVX2 and AVX-512 SiLU: same bits");
	else
		SKIP("AVX-512 SiLU: this CPU does not run it");
	tn_isa_use(prev);
}

/* Detect decoding, two levels' worth of odd sizes (block tails), 85 values per row. */
static void detect_decode_paths(void)
{
	const int na = 3, no = 85, h = 7, w = 9;
	const size_t hw = (size_t)h * w, n = (size_t)na * no * hw;
	const float anchors[6] = {1.25f, 1.625f, 2.0f, 3.75f, 4.125f, 2.875f}, stride = 16.0f;
	float *x = rand_buf(n), *y1 = nan_buf(n), *y2 = nan_buf(n);
	float *work = nan_buf(tn_detect_decode_work(no, 2));
	for (size_t i = 0; i < n; i++)
		x[i] *= 12.0f; /* logits over -12 .. 12 */
	const enum tn_isa prev = tn_isa_active();
	for (int isa = TN_ISA_GENERIC; isa <= (int)tn_isa_best(); isa++) {
		tn_isa_use((enum tn_isa)isa);
		tn_detect_decode(x, na, no, h, w, stride, anchors, y1, work, 1);
		tn_detect_decode(x, na, no, h, w, stride, anchors, y2, work, 2);
		double worst = 0;
		for (int a = 0; a < na; a++)
			for (size_t p = 0; p < hw; p++)
				for (int k = 0; k < no; k++) {
					double s = 1.0 / (1.0 + exp(-(double)x[((size_t)a * no + k) * hw + p])), want = s;
					if (k == 0)
						want = (s * 2 - 0.5 + (double)(p % w)) * stride;
					else if (k == 1)
						want = (s * 2 - 0.5 + (double)(p / w)) * stride;
					else if (k == 2 || k == 3)
						want = 4 * s * s * anchors[a * 2 + k - 2] * stride;
					double got = y1[((size_t)a * hw + p) * no + k];
					/* xy cancel to near 0 at 2s - 0.5 = -grid: there the scale is the stride */
					double scale = k < 2 ? stride : 1e-3;
					double e = fabs(got - want) / (fabs(want) > scale ? fabs(want) : scale);
					worst = e > worst || got != got ? (got != got ? INFINITY : e) : worst;
				}
		CHECK(worst < 2e-6, "%s Detect decoding: worst relative error %.2e", tn_isa_name((enum tn_isa)isa), worst);
		CHECK(memcmp(y1, y2, sizeof(float) * n) == 0, "%s Detect decoding: same bytes at 1 and 2 threads",
		      tn_isa_name((enum tn_isa)isa));
	}
	tn_isa_use(prev);
	free(x), free(y1), free(y2), free(work);
}

int main(void)
{
	test_rng = 777;
	omp_set_dynamic(0);
	const enum tn_isa best = tn_isa_best();
	printf("# widest path on this CPU: %s\n", tn_isa_name(best));
	for (int isa = TN_ISA_GENERIC; isa <= TN_ISA_AVX512; isa++) {
		if (isa > (int)best) {
			SKIP("%s: this CPU does not run it", tn_isa_name((enum tn_isa)isa));
			continue;
		}
		tn_isa_use((enum tn_isa)isa);
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
			run_case(&cases[i], (enum tn_isa)isa);
	}
	tn_isa_use(best);
	dispatch();
	silu_paths();
	detect_decode_paths();
	return check_done();
}
