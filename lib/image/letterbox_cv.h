/* detect.py's input side, bit for bit: OpenCV 4.6 cv2.resize on 8-bit images and
 * utils/augmentations.letterbox on top of it. */
#ifndef TN_LETTERBOX_CV_H
#define TN_LETTERBOX_CV_H

#include <stdint.h>

#include "io/image.h"

/* detect.py's letterbox (utils/augmentations.letterbox) for an RGB image: r = min(H/h0, W/w0)
 * (with scaleup), new size rounded half-to-even, padding to a multiple of `stride` when
 * auto_rect (else to W x H), split dw/2, dh/2 with top = round(dh-0.1), bottom = round(dh+0.1)
 * (likewise left/right), border colour `fill`, resize by cv2.resize INTER_LINEAR on uint8 (with
 * OpenCV's switch to INTER_AREA for exact 2x shrinks) only when the size changes. */
struct tn_yolo_letterbox {
	int out_w, out_h;     /* letterboxed size */
	int new_w, new_h;     /* resized image inside it */
	int left, top;        /* integer padding applied */
	double ratio;         /* r */
	double pad_w, pad_h;  /* dw/2, dh/2 as floats, as scale_boxes assumes */
};
int tn_letterbox_yolo(const struct tn_image *rgb, int want_h, int want_w, int stride, int auto_rect,
		      uint8_t fill, struct tn_image *out, struct tn_yolo_letterbox *lb);
/* cv2.resize(src, (dw, dh), interpolation=INTER_LINEAR) of an 8-bit image with any channel
 * count, bit-exact (fixed-point 11-bit weights, OpenCV 4.6's rounding, INTER_AREA for exact 2x
 * shrinks).  dst is allocated. */
int tn_resize_linear_cv_u8(const struct tn_image *src, int dw, int dh, struct tn_image *dst);

/* cv2.resize(src, (dw, dh), interpolation=INTER_AREA) of an 8-bit image with any channel count,
 * shrinking only (dw <= w, dh <= h), bit-exact with OpenCV 4.6: integer factors sum each cell,
 * other factors use OpenCV's float weight tables.  dst is allocated. */
int tn_resize_area_cv_u8(const struct tn_image *src, int dw, int dh, struct tn_image *dst);

#endif
