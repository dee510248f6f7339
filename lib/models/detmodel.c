#include "models/detmodel.h"

#include "models/registry.h"
#include "models/wmeta.h"

#include "core/clock.h"
#include "core/error.h"
#include "image/resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The yaml (the model config), module_attrs and the input size; the tensors' shapes settle the
 * attention blocks' hidden sizes. */
int tn_yolo_from_w(const struct tn_family *fam, const struct tn_wfile *wf, int in_h, int in_w,
		   struct tn_wmodel *w)
{
	memset(w, 0, sizeof *w);
	const char *attrs;
	int rc = tn_wmeta_str(fam, wf, "yaml", &w->yaml);
	if (rc)
		return rc;
	if (!w->yaml)
		return tn_fail(TN_E_FORMAT, "%s: metadata has no 'yaml' (the model config)", wf->path);
	if ((rc = tn_wmeta_int(fam, wf, "input_height", 32, 4096, 640, &w->in_h)) ||
	    (rc = tn_wmeta_int(fam, wf, "input_width", 32, 4096, 640, &w->in_w)) ||
	    (rc = tn_wmeta_str(fam, wf, "module_attrs", &attrs)))
		return rc;
	w->in_h = in_h ? in_h : w->in_h;
	w->in_w = in_w ? in_w : w->in_w;
	struct tn_param_source src;
	tn_param_source_wfile(&src, wf);
	if ((rc = tn_yolo_build(&w->net, w->yaml, wf->path, &src, attrs, w->in_h, w->in_w, &w->yolo))) {
		tn_net_free(&w->net);
		return rc;
	}
	w->num_classes = w->yolo.nc;
	w->max_stride = w->yolo.max_stride;
	return 0;
}

int tn_detmodel_open(struct tn_detmodel *m, const char *path)
{
	memset(m, 0, sizeof *m);
	struct tn_wmodel w;
	const struct tn_family *fam;
	int rc = tn_wmeta_open(path, TN_TASK_DETECT, "a detector", 1, &m->wf, &fam, 0, 0, &w, &m->net);
	if (rc)
		goto fail;
	m->info = w.yolo;
	m->in_h = w.in_h;
	m->in_w = w.in_w;
	if ((rc = tn_wmeta_names(fam, &m->wf, m->info.nc, &m->class_names)))
		goto fail;
	if ((rc = tn_wmeta_load_net(&m->net, &m->wf)))
		goto fail;
	m->planned_h = m->in_h;
	m->planned_w = m->in_w;
	return 0;
fail:
	tn_detmodel_close(m);
	return rc;
}

void tn_detmodel_close(struct tn_detmodel *m)
{
	tn_wmeta_release(m->class_names, m->info.nc, &m->net, &m->wf);
	memset(m, 0, sizeof *m);
}

int tn_detmodel_round_size(const struct tn_detmodel *m, int size)
{
	int s = m->info.max_stride > 0 ? m->info.max_stride : 32;
	return (size + s - 1) / s * s;
}

/* Network and NMS on a letterboxed image; boxes stay in its pixels. */
static int detect_net(struct tn_detmodel *m, struct tn_image *boxed, const struct tn_nms_opts *o,
		      struct tn_det **dets, int *n, float **raw, int *raw_rows)
{
	int rc;
	if (boxed->h != m->planned_h || boxed->w != m->planned_w) {
		if ((rc = tn_net_set_input_size(&m->net, boxed->h, boxed->w)))
			return rc;
		m->planned_h = boxed->h;
		m->planned_w = boxed->w;
	}
	double t1;
	int C, rows, no;
	const float *pred = tn_wmeta_forward_div255(&m->net, boxed, &t1, &C, &rows, &no);
	double t2 = tn_now_ms();
	if (raw) {
		if ((rc = tn_wmeta_copy_output(pred, (size_t)rows * no, raw, "head output")))
			return rc;
		*raw_rows = rows;
	}
	rc = tn_nms(pred, rows, m->info.nc, o, dets, n);
	m->ms_network = t2 - t1;
	m->ms_nms = tn_now_ms() - t2;
	return rc;
}

/* Network and NMS on a letterboxed image (freed here); boxes stay in its pixels.  The
 * letterbox began at t0: both detect paths time it up to here. */
static int detect_boxed(struct tn_detmodel *m, double t0, struct tn_image *boxed, const struct tn_nms_opts *o,
			struct tn_det **dets, int *n, float **raw, int *raw_rows)
{
	m->ms_letterbox = tn_now_ms() - t0;
	int rc = detect_net(m, boxed, o, dets, n, raw, raw_rows);
	tn_image_free(boxed);
	return rc;
}

int tn_detmodel_detect(struct tn_detmodel *m, const struct tn_image *img, const struct tn_nms_opts *o,
		       int round_pixels, struct tn_det **dets, int *n, float **raw, int *raw_rows)
{
	struct tn_image boxed = {0};
	struct tn_yolo_letterbox lb;
	double t0 = tn_now_ms();
	*dets = NULL;
	*n = 0;
	int rc = tn_letterbox_yolo(img, m->in_h, m->in_w, m->info.max_stride, 1, 114, &boxed, &lb);
	if (rc)
		return rc;
	if ((rc = detect_boxed(m, t0, &boxed, o, dets, n, raw, raw_rows)))
		return rc;
	tn_scale_boxes(*dets, *n, &lb, img->w, img->h, round_pixels);
	return 0;
}

int tn_detmodel_detect_val(struct tn_detmodel *m, const struct tn_image *img, int img_size, int shape_h,
			   int shape_w, const struct tn_nms_opts *o, struct tn_det **dets, int *n,
			   struct tn_val_shape *vs)
{
	double t0 = tn_now_ms();
	*dets = NULL;
	*n = 0;
	/* load_image: the long side to img_size, sizes rounded up; INTER_AREA shrinks */
	int w0 = img->w, h0 = img->h, w = w0, h = h0, rc;
	double r = (double)img_size / (h0 > w0 ? h0 : w0);
	struct tn_image sized = {0}, boxed = {0};
	const struct tn_image *src = img;
	if (r != 1) {
		w = (int)ceil(w0 * r);
		h = (int)ceil(h0 * r);
		rc = r < 1 ? tn_resize_area_cv_u8(img, w, h, &sized) : tn_resize_linear_cv_u8(img, w, h, &sized);
		if (rc)
			return rc;
		src = &sized;
	}
	/* letterbox(auto=False, scaleup=False).  A batch shape is at least stride*pad larger than
	 * the sizes it was computed from, so r = 1 and only padding is added; an image whose
	 * EXIF orientation swaps its sides where exif_size does not (5 and 7) may be larger than
	 * its shape, and is then shrunk into it (INTER_LINEAR) */
	double pw, ph;
	if (w <= shape_w && h <= shape_h) {
		pw = (shape_w - w) / 2.0;
		ph = (shape_h - h) / 2.0;
		rc = tn_image_pad(src, shape_w, shape_h, (int)nearbyint(pw - 0.1), (int)nearbyint(ph - 0.1), 114, &boxed);
	} else {
		struct tn_yolo_letterbox lb;
		rc = tn_letterbox_yolo(src, shape_h, shape_w, m->info.max_stride, 0, 114, &boxed, &lb);
		pw = lb.pad_w;
		ph = lb.pad_h;
	}
	tn_image_free(&sized);
	if (rc)
		return rc;
	if ((rc = detect_boxed(m, t0, &boxed, o, dets, n, NULL, NULL)))
		return rc;
	/* scale_boxes with the dataloader's ratio_pad: gain h/h0, the letterbox's half paddings */
	tn_scale_boxes_ratio_pad(*dets, *n, (double)h / h0, pw, ph, w0, h0);
	vs->w = w;
	vs->h = h;
	vs->lb_w = shape_w;
	vs->lb_h = shape_h;
	return 0;
}
