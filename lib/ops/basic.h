/* The small ops: pooling, resize inside the network, concat, softmax.  Planar float maps,
 * batch 1: x[c][h][w]. */
#ifndef TN_BASIC_H
#define TN_BASIC_H

/* Global average pooling: y[c] = mean over h of (mean over w), as torch.mean(x, 2/3). */
void tn_gap(const float *x, int c, int h, int w, float *y);
/* F.interpolate(x, (oh, ow), mode='bilinear', align_corners=True). */
int tn_resize_bilinear_ac(const float *x, int c, int h, int w, float *y, int oh, int ow);
/* Softmax over channels at every pixel, in place. */
int tn_softmax_channels(float *x, int c, int h, int w);
/* The same, only inside the rectangle of rh rows and rw columns at (y0, x0). */
int tn_softmax_channels_rect(float *x, int c, int h, int w, int y0, int x0, int rh, int rw);

#endif
