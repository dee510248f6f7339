/* YOLOv5's Detect decoding: the network's last op (its post-processing is lib/detect). */
#ifndef TN_DETECT_H
#define TN_DETECT_H

/* YOLOv5 Detect at inference, one level: x [na*no][h][w] is the level's 1x1 conv output
 * (no = 5 + classes), anchors [na][2] in grid units.  y gets na*h*w rows (anchor, y, x) of no
 * values: all through the sigmoid s, then xy = (2s - 0.5 + grid) * stride and
 * wh = (2s)^2 * anchor * stride. */
#include <stddef.h>

#define TN_DETECT_BLOCK 32 /* pixels decoded at a time */

/* Floats of work tn_detect_decode needs on nthreads threads. */
size_t tn_detect_decode_work(int no, int nthreads);
/* work: tn_detect_decode_work(no, nthreads) floats.  The output bytes do not depend on the
 * thread count. */
void tn_detect_decode(const float *x, int na, int no, int h, int w, float stride, const float *anchors,
		      float *y, float *work, int nthreads);

#endif
