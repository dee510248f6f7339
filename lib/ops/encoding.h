/* EncNet's context encoding (mmsegmentation EncModule): the Encoding layer with its
 * BatchNorm1d, ReLU and mean over codes, and the channel gate it drives. */
#ifndef TN_ENCODING_H
#define TN_ENCODING_H

#include <stddef.h>

/* x: [c][hw] (a CHW map), codewords: [k][c], scale: [k]; BatchNorm1d over the k codes:
 * bn_w, bn_b, bn_mean, bn_var: [k].  e: [c] out.
 *   a_ik = softmax over k of scale_k * ||x_i - code_k||^2     (per pixel i)
 *   E_k  = sum over pixels i of a_ik * (x_i - code_k)          (a sum, not a mean: [k][c])
 *   e    = mean over k of relu(bn(E_k))
 * Accumulates in double; threads split codes, pixels or channels, never a sum, so the bytes
 * do not depend on the thread count.  work: tn_encoding_workspace floats, 8-byte aligned.
 * Returns 0, or TN_E_INVAL for sizes tn_encoding_workspace refuses. */
int tn_encoding(const float *x, int c, size_t hw, int k, const float *codewords, const float *scale,
		const float *bn_w, const float *bn_b, const float *bn_mean, const float *bn_var, float eps,
		float *work, float *e);
/* Floats of work for these sizes into *floats; TN_E_INVAL when a size is below 1 or overflows. */
int tn_encoding_workspace(int c, size_t hw, int k, size_t *floats);

/* The same, computed pixel by pixel as the formula reads (for tests). */
int tn_encoding_ref(const float *x, int c, size_t hw, int k, const float *codewords, const float *scale,
		    const float *bn_w, const float *bn_b, const float *bn_mean, const float *bn_var,
		    float eps, float *e);

/* y[ch] = relu(x[ch] + x[ch] * sigmoid(g[ch])), x and y: [c][hw], g: [c] (fc logits).
 * In float, in PyTorch's order (x*gamma rounded, then added).  y may equal x. */
void tn_channel_gate(const float *x, int c, size_t hw, const float *g, float *y);

#endif
