/* The YOLOv5 attention blocks the attention-module tutorial adds (SE, ECA, EffectiveSE,
 * ShuffleAttention), on a planar map x[c][h][w]: y = x * gate, y [c][h][w]
 * (y may be x for the first three, whose work holds the channel statistics).
 * Parameter shapes are the PyTorch ones (see each function). */
#ifndef TN_ATTENTION_H
#define TN_ATTENTION_H

#include <stddef.h>

/* SEAttention: s = sigmoid(W2 relu(W1 mean_hw(x))); W1 fc.0.weight [hid][c], W2 fc.2.weight [c][hid]. */
size_t tn_se_workspace(int c, int hid);
void tn_se(const float *x, int c, int h, int w, const float *w1, const float *w2, int hid, float *work, float *y);
/* The work of ECA and EffectiveSE. */
size_t tn_gate_workspace(int c);
/* ECAAttention: s = sigmoid(conv1d_k(mean_hw(x)) over the channel axis, zero padding (k-1)/2,
 * no bias); k = conv.weight [1][1][k]. */
void tn_eca(const float *x, int c, int h, int w, const float *kw, int k, float *work, float *y);
/* EffectiveSE: s = mean_hw(x) (or 0.5*mean + 0.5*max with add_maxpool); s = fc(s) (fc.weight
 * [c][c][1][1], fc.bias [c]); gate = relu6(s + 3) / 6. */
void tn_effective_se(const float *x, int c, int h, int w, const float *fw, const float *fb, int add_maxpool,
		     float *work, float *y);
/* ShuffleAttention with G groups: per group, the first half of its channels gets a channel gate
 * sigmoid(cweight*mean + cbias), the second half a spatial gate sigmoid(sweight*GN(x) + sbias)
 * (GroupNorm with one channel per group, eps 1e-5, affine gn.weight/gn.bias); then the channel
 * shuffle with 2 groups.  Parameters are [c/(2G)] each.  out must not alias x. */
void tn_shuffle_attention(const float *x, int c, int h, int w, int groups, const float *cweight,
			  const float *cbias, const float *sweight, const float *sbias, const float *gnw,
			  const float *gnb, float *out);

#endif
