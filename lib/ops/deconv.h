/* Transposed 2-D convolution as PyTorch's nn.ConvTranspose2d (dilation 1), NCHW, batch 1.
 *   x: [cin][h][w]  weight: [cin][cout/groups][k][k]  bias: [cout] or NULL
 *   y: [cout][oh][ow], oh = (h - 1)*stride - 2*pad + k + out_pad (likewise ow)
 * Input pixel (iy, ix) adds x * weight[.., ky, kx] to output (iy*stride - pad + ky, ix*stride - pad + kx). */
#ifndef TN_DECONV_H
#define TN_DECONV_H

#include <stddef.h>

struct tn_deconv {
	int cin, cout, k, stride, pad, out_pad, groups;
	const float *weight;
	const float *bias;
};

/* Output size, or 0 when the parameters give none. */
int tn_deconv_out_size(int in, int k, int stride, int pad, int out_pad);
/* Floats of scratch space tn_deconv2d needs for this input size. */
size_t tn_deconv2d_workspace(const struct tn_deconv *dc, int h, int w);
/* The fast path: depthwise directly; otherwise per group a GEMM W^T X into columns
 * [cout/groups * k * k][pixels] (in input-row tiles), then col2im by output channel.
 * Output bytes do not depend on the thread count. */
void tn_deconv2d(const struct tn_deconv *dc, const float *x, int h, int w, float *y, float *work);
/* Naive reference (sums in double), for tests. */
void tn_deconv2d_ref(const struct tn_deconv *dc, const float *x, int h, int w, float *y);

#endif
