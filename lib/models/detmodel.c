#include "models/detmodel.h"

#include "models/registry.h"
#include "models/wmeta.h"

#include "core/clock.h"
#include "core/error.h"
#include "image/resample.h"

#include <stdlib.h>
#include <string.h>

int tn_detmodel_open(struct tn_detmodel *m, const char *path)
{
	memset(m, 0, sizeof *m);
	int rc = tn_wfile_open(path, &m->wf);
	if (rc)
		return rc;
	const char *arch = tn_wfile_meta(&m->wf, "arch"), *yaml = tn_wfile_meta(&m->wf, "yaml");
	const struct tn_family *fam = tn_family_find(arch);
	if (!fam || fam->task != TN_TASK_DETECT) {
		rc = tn_fail(TN_E_UNSUPPORTED, "%s: arch '%s' is not a detector this program runs (%s)", path,
			     arch ? arch : "(none)", tn_family_list(TN_TASK_DETECT));
		goto fail;
	}
	if ((rc = tn_wmeta_check_format(&m->wf, fam->normalize)))
		goto fail;
	if (!yaml) {
		rc = tn_fail(TN_E_FORMAT, "%s: metadata has no 'yaml' (the model config)", path);
		goto fail;
	}
	if ((rc = tn_wmeta_int(&m->wf, "input_height", 32, 4096, 640, &m->in_h)) ||
	    (rc = tn_wmeta_int(&m->wf, "input_width", 32, 4096, 640, &m->in_w)))
		goto fail;
	struct tn_param_source src;
	tn_param_source_wfile(&src, &m->wf);
	if ((rc = tn_yolo_build(&m->net, yaml, path, &src, tn_wfile_meta(&m->wf, "module_attrs"), m->in_h, m->in_w,
				&m->info)))
		goto fail;
	if ((rc = tn_wmeta_names(&m->wf, m->info.nc, &m->class_names)))
		goto fail;
	if ((rc = tn_wmeta_check_tensors(&m->net, &m->wf)))
		goto fail;
	if ((rc = tn_net_plan(&m->net)) || (rc = tn_net_load(&m->net, &src))) {
		tn_fail_prefix(rc, path);
		goto fail;
	}
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
	if ((lb.out_h != m->planned_h || lb.out_w != m->planned_w)) {
		if ((rc = tn_net_set_input_size(&m->net, lb.out_h, lb.out_w))) {
			tn_image_free(&boxed);
			return rc;
		}
		m->planned_h = lb.out_h;
		m->planned_w = lb.out_w;
	}
	double t1;
	int C, rows, no;
	const float *pred = tn_wmeta_forward_div255(&m->net, &boxed, &t1, &C, &rows, &no);
	double t2 = tn_now_ms();
	if (raw) {
		if ((rc = tn_wmeta_copy_output(pred, (size_t)rows * no, raw, "head output")))
			return rc;
		*raw_rows = rows;
	}
	if ((rc = tn_nms(pred, rows, m->info.nc, o, dets, n)))
		return rc;
	tn_scale_boxes(*dets, *n, &lb, img->w, img->h, round_pixels);
	m->ms_letterbox = t1 - t0;
	m->ms_network = t2 - t1;
	m->ms_nms = tn_now_ms() - t2;
	return 0;
}
