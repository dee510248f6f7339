/* 3x3 stride-1 convolution by Winograd F(4x4, 3x3): each 4x4 output tile costs 36 products per
 * input channel instead of 144.  The 36 elementwise products over channels are 36 GEMMs.
 * Shapes as tn_conv2d; weights are transformed once, at load. */
#ifndef TN_WINOGRAD_H
#define TN_WINOGRAD_H

#include <stddef.h>

#include "ops/conv.h"

/* Whether a conv takes the Winograd path (3x3, stride 1, dilation 1, one group, big enough). */
int tn_winograd_eligible(const struct tn_conv *cv, int h, int w);
/* Transformed weights: 36 * cout * cin floats, U[pos][cout][cin] = (G g G^T)[pos]. */
size_t tn_winograd_weight_floats(const struct tn_conv *cv);
void tn_winograd_transform_weights(const struct tn_conv *cv, float *u);
size_t tn_winograd_workspace(const struct tn_conv *cv, int h, int w);
/* y = conv(x) without bias or activation (the caller's epilogue adds them). */
void tn_winograd_conv(const struct tn_conv *cv, const float *u, const float *x, int h, int w, float *y,
		      float *work);

#endif
