/* 2-D convolution, NCHW, batch 1, with BatchNorm already folded into weight and bias.
 *   x: [cin][h][w]  weight: [cout][cin/groups][kh][kw]  bias: [cout] or NULL
 *   y: [cout][oh][ow], oh = (h + 2*pad - dil*(kh-1) - 1)/stride + 1 (likewise ow, with
 *   stride_w and pad_w when stride_w is set)
 * y = act(conv(x) + bias) + res, where res (same shape as y) is optional. */
#ifndef TN_CONV_H
#define TN_CONV_H

#include <stddef.h>

enum tn_act {
	TN_ACT_NONE,
	TN_ACT_RELU,
	TN_ACT_RELU6,
	TN_ACT_SILU, /* x * sigmoid(x) */
};

enum tn_conv_flags {
	TN_CONV_RELU_IN = 1,  /* read relu(x) instead of x (Xception's pre-activation) */
	TN_CONV_RES_RELU = 2, /* add relu(res) instead of res */
};

struct tn_conv {
	int cin, cout, kh, kw, stride, pad, dil, groups;
	enum tn_act act;
	const float *weight;
	const float *bias;
	const float *wino; /* Winograd-transformed weights (tn_winograd_*), or NULL */
	/* Horizontal stride and padding when they differ from the vertical ones (CrossConv's 1xk);
	 * stride_w 0 (the default of a positional initialiser) means stride and pad serve both. */
	int stride_w, pad_w;
	const float *packed; /* weights packed for the direct kernels (tn_conv_direct_pack), or NULL */
};

static inline int tn_conv_sw(const struct tn_conv *cv)
{
	return cv->stride_w ? cv->stride_w : cv->stride;
}

static inline int tn_conv_pw(const struct tn_conv *cv)
{
	return cv->stride_w ? cv->pad_w : cv->pad;
}

int tn_conv_out_size(int in, int k, int stride, int pad, int dil);
/* Whether tn_conv2d takes the Winograd path for this conv (then cv->wino must be set). */
int tn_conv2d_uses_winograd(const struct tn_conv *cv, int h, int w, int flags);
/* Whether tn_conv2d takes the direct path over packed weights (then cv->packed must be set;
 * without it the conv runs on one of the other paths). */
int tn_conv2d_uses_direct(const struct tn_conv *cv, int h, int w, int flags);
/* Bias, activation and residual on n outputs of channel co (y and r point at them). */
void tn_conv_epilogue(const struct tn_conv *cv, int co, float *y, size_t n, const float *r, int flags);
/* Floats of scratch space tn_conv2d needs for this input size on nthreads threads. */
size_t tn_conv2d_workspace(const struct tn_conv *cv, int h, int w, int flags, int nthreads);
/* The fast path: packed direct kernels where the weights are packed, else 1x1 as GEMM,
 * depthwise direct, Winograd, the rest im2col (in row tiles) + BLIS GEMM.
 * work: tn_conv2d_workspace(.., nthreads) floats, 64-byte aligned; at most nthreads threads
 * run the kernels that keep a copy per thread.  Allocates nothing; output bytes do not depend
 * on the thread count. */
void tn_conv2d(const struct tn_conv *cv, const float *x, int h, int w, float *y, const float *res,
	       int flags, float *work, int nthreads);
/* Naive reference with the same contract, for tests. */
void tn_conv2d_ref(const struct tn_conv *cv, const float *x, int h, int w, float *y,
		   const float *res, int flags);

#endif
