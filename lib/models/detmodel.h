/* A YOLOv5 detector loaded from a .w file, and detect.py's pipeline around it: letterbox
 * (OpenCV INTER_LINEAR, rectangular, colour 114), x/255, network, Detect decoding, NMS, boxes
 * scaled back to the image and rounded. */
#ifndef TN_DETMODEL_H
#define TN_DETMODEL_H

#include "detect/nms.h"
#include "io/image.h"
#include "io/wfile.h"
#include "models/yolo.h"
#include "net/net.h"

struct tn_detmodel {
	struct tn_wfile wf;
	struct tn_net net;
	struct tn_yolo_info info;
	int in_h, in_w;     /* --size: the letterbox's long side limits */
	int planned_h, planned_w;
	char **class_names;
	double ms_letterbox, ms_network, ms_nms; /* the last detect's stages */
};

int tn_detmodel_open(struct tn_detmodel *m, const char *path);
/* detect.py's check_img_size: size rounded up to a multiple of the model's largest stride. */
int tn_detmodel_round_size(const struct tn_detmodel *m, int size);
void tn_detmodel_close(struct tn_detmodel *m);
/* Detects in an RGB image; *dets malloc'd (NULL when none), in original-image pixels, rounded
 * to whole pixels as detect.py does when round_pixels.
 * raw (optional) gets a malloc'd copy of the decoded head output [*raw_rows][5+nc]. */
int tn_detmodel_detect(struct tn_detmodel *m, const struct tn_image *img, const struct tn_nms_opts *o,
		       int round_pixels, struct tn_det **dets, int *n, float **raw, int *raw_rows);
/* What val.py's dataloader did to one image: load_image resized it to w x h, letterbox put it on
 * a lb_w x lb_h canvas (scaled by r = min(lb_h/h, lb_w/w, 1), padded (lb_w - round(w r))/2 and
 * (lb_h - round(h r))/2 on each side).  Labels are mapped through the same steps. */
struct tn_val_shape {
	int w, h;
	int lb_w, lb_h;
};

/* val.py's pipeline for one image: load_image (long side to img_size, ceil sizes, INTER_AREA
 * when shrinking, INTER_LINEAR when enlarging), letterbox(auto=False, scaleup=False) onto the
 * batch's shape_h x shape_w (colour 114), NMS with o, boxes scaled back with the dataloader's
 * ratio_pad (gain = resized h / h0 for x and y, pad = the letterbox's dw/2, dh/2), clipped, not
 * rounded: val.py's boxes bit for bit (x is in its space, see tn_scale_boxes_ratio_pad).
 * *vs receives the shapes. */
int tn_detmodel_detect_val(struct tn_detmodel *m, const struct tn_image *img, int img_size, int shape_h,
			   int shape_w, const struct tn_nms_opts *o, struct tn_det **dets, int *n,
			   struct tn_val_shape *vs);

#endif
