/* Convolution without an im2col matrix, over weights packed once at load.
 *
 * The weights go into blocks of 8 output channels, [K][8] per block (K = cin * kh * kw, in
 * PyTorch's order), and a register-blocked kernel accumulates 8 channels x 48 pixels (AVX-512)
 * or 4 x 24 (AVX2+FMA) over the K taps, the weight broadcast and the pixels loaded as vectors.
 * A strided or padded conv first copies its input, zero-padded and split into stride phases
 * (space to depth), so that every tap of every conv reads contiguous pixels; output rows are
 * then runs of one flattened pixel index.  Bias, activation and residual are applied as each
 * tile is stored.  Shapes and contract as tn_conv2d. */
#ifndef TN_CONVDIRECT_H
#define TN_CONVDIRECT_H

#include <stddef.h>

#include "ops/conv.h"

/* Whether the direct path can run this conv (one group, not depthwise, at most 64 taps). */
int tn_conv_direct_eligible(const struct tn_conv *cv);
/* Packed weights: ceil(cout / 8) * 8 * K floats, zero rows past cout. */
size_t tn_conv_direct_weight_floats(const struct tn_conv *cv);
void tn_conv_direct_pack(const struct tn_conv *cv, float *packed);
/* Floats of scratch: the padded, phase-split copies of the input (0 when none is needed). */
size_t tn_conv_direct_workspace(const struct tn_conv *cv, int h, int w, int flags, int nthreads);
/* y = act(conv(x) + bias) + res; packed from tn_conv_direct_pack.  Output bytes depend on the
 * path (core/cpu.h's tn_isa_active) but not on the thread count; allocates nothing. */
void tn_conv_direct(const struct tn_conv *cv, const float *packed, const float *x, int h, int w, float *y,
		    const float *res, int flags, float *work, int nthreads);

#endif
