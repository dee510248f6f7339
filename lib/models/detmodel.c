#include "models/detmodel.h"

#include "core/clock.h"
#include "core/error.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int meta_int(const struct tn_wfile *wf, const char *key, int lo, int hi, int dflt, int *out)
{
	const char *v = tn_wfile_meta(wf, key);
	if (!v) {
		*out = dflt;
		return 0;
	}
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return tn_fail(TN_E_FORMAT, "%s: metadata '%s' is '%s', not a number from %d to %d", wf->path, key, v,
			       lo, hi);
	*out = (int)n;
	return 0;
}

static int load_names(struct tn_detmodel *m)
{
	int nc = m->info.nc;
	m->class_names = calloc((size_t)nc, sizeof(char *));
	if (!m->class_names)
		return tn_fail(TN_E_NOMEM, "out of memory");
	const char *v = tn_wfile_meta(&m->wf, "class_names");
	json_t *arr = v ? json_loads(v, 0, NULL) : NULL;
	if (v && (!json_is_array(arr) || json_array_size(arr) != (size_t)nc)) {
		json_decref(arr);
		return tn_fail(TN_E_FORMAT, "%s: metadata 'class_names' is not a list of %d names", m->wf.path, nc);
	}
	for (int i = 0; i < nc; i++) {
		char buf[32];
		const char *s = arr ? json_string_value(json_array_get(arr, (size_t)i)) : NULL;
		if (!s) {
			snprintf(buf, sizeof buf, "class%d", i);
			s = buf;
		}
		if (!(m->class_names[i] = strdup(s))) {
			json_decref(arr);
			return tn_fail(TN_E_NOMEM, "out of memory");
		}
	}
	json_decref(arr);
	return 0;
}

int tn_detmodel_open(struct tn_detmodel *m, const char *path)
{
	memset(m, 0, sizeof *m);
	int rc = tn_wfile_open(path, &m->wf);
	if (rc)
		return rc;
	const char *arch = tn_wfile_meta(&m->wf, "arch"), *yaml = tn_wfile_meta(&m->wf, "yaml");
	const char *ver = tn_wfile_meta(&m->wf, "format_version"), *norm = tn_wfile_meta(&m->wf, "normalize");
	if (!arch || strcmp(arch, "yolov5") != 0) {
		rc = tn_fail(TN_E_UNSUPPORTED, "%s: arch '%s' is not a detector this program runs (yolov5)", path,
			     arch ? arch : "(none)");
		goto fail;
	}
	if ((ver && strcmp(ver, "1")) || (norm && strcmp(norm, "div255"))) {
		rc = tn_fail(TN_E_UNSUPPORTED, "%s: .w format version or normalisation not supported", path);
		goto fail;
	}
	if (!yaml) {
		rc = tn_fail(TN_E_FORMAT, "%s: metadata has no 'yaml' (the model config)", path);
		goto fail;
	}
	if ((rc = meta_int(&m->wf, "input_height", 32, 4096, 640, &m->in_h)) ||
	    (rc = meta_int(&m->wf, "input_width", 32, 4096, 640, &m->in_w)))
		goto fail;
	struct tn_param_source src;
	tn_param_source_wfile(&src, &m->wf);
	if ((rc = tn_yolo_build(&m->net, yaml, path, &src, tn_wfile_meta(&m->wf, "module_attrs"), m->in_h, m->in_w,
				&m->info)))
		goto fail;
	if ((rc = load_names(m)))
		goto fail;
	char *report = NULL;
	int problems = tn_net_check(&m->net, &src, &report);
	if (problems) {
		char *nl = report ? strchr(report, '\n') : NULL;
		if (nl)
			*nl = 0;
		rc = tn_fail(TN_E_FORMAT, "%s: %s%s (weightconv --check lists all %d)", path,
			     report ? report : "tensor mismatch", problems > 1 ? ", ..." : "", problems);
		free(report);
		goto fail;
	}
	free(report);
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
	if (m->class_names)
		for (int i = 0; i < m->info.nc; i++)
			free(m->class_names[i]);
	free(m->class_names);
	tn_net_free(&m->net);
	if (m->wf.map)
		tn_wfile_close(&m->wf);
	memset(m, 0, sizeof *m);
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
	float *in = tn_net_input_data(&m->net);
	size_t plane = (size_t)lb.out_h * lb.out_w;
	for (size_t i = 0; i < plane; i++)
		for (int c = 0; c < 3; c++)
			in[(size_t)c * plane + i] = (float)boxed.px[i * 3 + (size_t)c] / 255.0f;
	tn_image_free(&boxed);
	double t1 = tn_now_ms();
	if ((rc = tn_net_forward(&m->net)))
		return rc;
	double t2 = tn_now_ms();
	int C, rows, no;
	const float *pred = tn_net_output(&m->net, &C, &rows, &no);
	if (raw) {
		*raw = malloc(sizeof(float) * (size_t)rows * no);
		if (!*raw)
			return tn_fail(TN_E_NOMEM, "out of memory for the head output");
		memcpy(*raw, pred, sizeof(float) * (size_t)rows * no);
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
