/* The small ops: pooling, resize inside the network, sum, concat, softmax.  Planar float maps,
 * batch 1: x[c][h][w]. */
#ifndef TN_BASIC_H
#define TN_BASIC_H

#include <stddef.h>

/* Global average pooling: y[c] = mean over h of (mean over w), as torch.mean(x, 2/3). */
void tn_gap(const float *x, int c, int h, int w, float *y);
/* F.interpolate(x, (oh, ow), mode='bilinear', align_corners=True); y [c][oh][ow].
 * work: tn_resize_bilinear_ac_workspace(oh, ow) floats for the tables. */
size_t tn_resize_bilinear_ac_workspace(int oh, int ow);
void tn_resize_bilinear_ac(const float *x, int c, int h, int w, float *y, int oh, int ow, float *work);
/* Softmax over channels at every pixel, in place. */
int tn_softmax_channels(float *x, int c, int h, int w);
/* The same, only inside the rectangle of rh rows and rw columns at (y0, x0). */
int tn_softmax_channels_rect(float *x, int c, int h, int w, int y0, int x0, int rh, int rw);

/* Max (avg = 0) or average (avg = 1, padding counted) pooling into an oh x ow output, which may
 * be one larger than floor mode gives (ceil_mode=True); windows are clipped to the input.
 * y [c][oh][ow]; work: tn_pool2d_workspace(w, nthreads) floats, a row per thread, for at most
 * nthreads threads. */
size_t tn_pool2d_workspace(int w, int nthreads);
void tn_pool2d(const float *x, int c, int h, int w, float *y, int oh, int ow, int k, int stride, int pad,
	       int avg, float *work, int nthreads);
/* nn.Upsample(scale_factor=s, mode='nearest'): y[c][i][j] = x[c][i/s][j/s]. */
void tn_upsample_nearest(const float *x, int c, int h, int w, float *y, int s);
/* YOLOv5 Focus's space-to-depth: channels of x[::2,::2], x[1::2,::2], x[::2,1::2], x[1::2,1::2]. */
void tn_space_to_depth2(const float *x, int c, int h, int w, float *y);
/* y[i] = a[i] + b[i] over n floats, through ReLU when relu (ResNet's block sum). */
void tn_add(const float *a, const float *b, size_t n, int relu, float *y);
/* torch.cat along channels: xs[k] is [cs[k]][hw]; y is [sum of cs][hw]. */
void tn_concat(const float *const *xs, const int *cs, int n, size_t hw, float *y);

#endif
