/* YOLOv5's post-processing as detect.py and val.py do it: candidate filtering, non-maximum
 * suppression, boxes scaled back to the original image and rounded. */
#ifndef TN_NMS_H
#define TN_NMS_H

#include "image/letterbox_cv.h"

/* A detection in original-image pixels. */
struct tn_det {
	float x1, y1, x2, y2;
	float conf;
	int cls;
};

struct tn_nms_opts {
	float conf_thres;   /* 0.25 in detect.py */
	float iou_thres;    /* 0.45 */
	int max_det;        /* 1000 in detect.py */
	int multi_label;    /* 0 in detect.py */
	int agnostic;       /* class-agnostic NMS */
	const int *classes; /* keep only these classes (NULL = all) */
	int n_classes;
	float max_wh;       /* class offset for batched NMS: 7680 (v6.1+), 4096 (v6.0) */
};
void tn_nms_opts_default(struct tn_nms_opts *o);

/* Non-maximum suppression over the Detect output pred[n][5+nc] (cx, cy, w, h, obj, cls...,
 * already decoded, in letterboxed-input pixels), exactly as utils/general.non_max_suppression:
 * obj > conf, then obj*cls > conf (best class, or every class over conf with multi_label), xywh ->
 * xyxy, class offset added in float32, greedy suppression with IoU strictly greater than
 * iou_thres, max_det kept, no time limit.  Ties in confidence keep candidate order (stable).
 * *out is malloc'd (may be NULL when *n_out is 0); sorted by decreasing confidence. */
int tn_nms(const float *pred, int n, int nc, const struct tn_nms_opts *o, struct tn_det **out,
	   int *n_out);

/* utils/general.scale_boxes + detect.py's rounding: gain and padding recomputed from the shapes
 * as upstream does (gain = min(out_h/h0, out_w/w0), pad = ((out_w - w0*gain)/2,
 * (out_h - h0*gain)/2), in the precision upstream uses), boxes shifted, divided, clipped to the
 * original image (w0 x h0), then x1,y1,x2,y2 rounded half-to-even when round_pixels. */
void tn_scale_boxes(struct tn_det *d, int n, const struct tn_yolo_letterbox *lb, int w0, int h0,
		    int round_pixels);
/* scale_boxes(..., ratio_pad) as val.py calls it: x - pad_w, y - pad_h, then / gain (the
 * height's ratio, for x too: val.py's boxes are in that space, whose width is w0 * gain_w / gain
 * rather than w0), in float32 with the Python floats cast as torch does, clipped to w0 x h0 in
 * that order (clip_boxes), not rounded. */
void tn_scale_boxes_ratio_pad(struct tn_det *d, int n, double gain, double pad_w, double pad_h, int w0, int h0);

#endif
