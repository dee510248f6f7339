/* YOLOv5's post-processing:
 * utils/general.non_max_suppression (v7.0 semantics, one image) and
 * scale_boxes + clip_boxes + detect.py's rounding.
 *
 * Precision follows the torch code: every tensor op in float32, Python scalars (conf_thres,
 * pad, gain) cast to float32 first, torchvision's IoU in float compared with the double
 * iou_thres.  Differences from upstream, on purpose: no wall-clock time limit; the confidence
 * sort is stable (upstream's torch argsort is not, so among exactly equal confidences
 * upstream's order is arbitrary and ours is the candidate order). */
#include "detect/nms.h"

#include "core/error.h"
#include "core/tensor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NMS_MAX_CAND 30000 /* upstream max_nms: boxes kept for NMS after the sort */

void tn_nms_opts_default(struct tn_nms_opts *o)
{
	memset(o, 0, sizeof *o);
	o->conf_thres = 0.25f;
	o->iou_thres = 0.45f;
	o->max_det = 1000;
	o->max_wh = 7680.0f;
}

struct cand {
	float x1, y1, x2, y2, conf;
	int cls;
	size_t idx; /* candidate order, the tie-break */
};

struct cand_list {
	struct cand *v;
	size_t n, cap;
};

static int cand_push(struct cand_list *l, const struct cand *c)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256, bytes;
		if (tn_mul_size(cap, sizeof *l->v, &bytes))
			return TN_E_NOMEM;
		struct cand *v = realloc(l->v, bytes);
		if (!v)
			return tn_fail(TN_E_NOMEM, "nms: out of memory for %zu candidates", cap);
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = *c;
	l->v[l->n].idx = l->n;
	l->n++;
	return 0;
}

/* Decreasing confidence, then candidate order: a stable descending sort. */
static int cand_cmp(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;
	if (a->conf != b->conf)
		return a->conf > b->conf ? -1 : 1;
	return (a->idx > b->idx) - (a->idx < b->idx);
}

static int class_wanted(const struct tn_nms_opts *o, int c)
{
	if (!o->classes || o->n_classes <= 0)
		return 1;
	for (int i = 0; i < o->n_classes; i++)
		if (o->classes[i] == c)
			return 1;
	return 0;
}

/* torchvision receives iou_thres as a Python float (double) and compares the float IoU with it
 * in double.  The options hold a float, so recover the double the user typed: the shortest
 * decimal that reads back as this float (0.6f -> 0.6, which is below 0.6f). */
static double thres_as_typed(float t)
{
	char buf[32];
	if (!isfinite(t))
		return t;
	for (int p = 1; p <= 9; p++) {
		snprintf(buf, sizeof buf, "%.*g", p, (double)t);
		if (strtof(buf, NULL) == t)
			return strtod(buf, NULL);
	}
	return t;
}

/* The float f for which x > f exactly when (double)x > t, for every float x: t itself when
 * it is a float, else the float just below it. */
static float float_below(double t)
{
	float f = (float)t;
	return (double)f > t ? nextafterf(f, -INFINITY) : f;
}

/* std::max / std::min as torchvision's kernel uses them (NaN handling included). */
static inline float smax(float a, float b)
{
	return a < b ? b : a;
}

static inline float smin(float a, float b)
{
	return b < a ? b : a;
}

int tn_nms(const float *pred, int n, int nc, const struct tn_nms_opts *o, struct tn_det **out,
	   int *n_out)
{
	*out = NULL;
	*n_out = 0;
	if (!o)
		return tn_fail(TN_E_INVAL, "nms: no options");
	if (n < 0 || nc < 1)
		return tn_fail(TN_E_INVAL, "nms: %d rows of %d classes", n, nc);
	if (n > 0 && !pred)
		return tn_fail(TN_E_INVAL, "nms: no predictions");
	if (o->max_det < 0)
		return tn_fail(TN_E_INVAL, "nms: max_det %d is negative", o->max_det);
	if (o->n_classes > 0 && !o->classes)
		return tn_fail(TN_E_INVAL, "nms: %d class filters but no list", o->n_classes);
	size_t row = (size_t)nc + 5, total;
	if (tn_mul_size(row, (size_t)n, &total))
		return TN_E_INVAL;
	if (n == 0 || o->max_det == 0)
		return 0;

	/* Candidates: obj > conf, then obj*cls > conf (best class, or each class). */
	int multi = o->multi_label && nc > 1;
	float ct = o->conf_thres;
	struct cand_list cl = {0};
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const float *p = pred + (size_t)i * row;
		float obj = p[4];
		if (!(obj > ct))
			continue;
		struct cand c;
		c.x1 = p[0] - p[2] / 2;
		c.y1 = p[1] - p[3] / 2;
		c.x2 = p[0] + p[2] / 2;
		c.y2 = p[1] + p[3] / 2;
		if (multi) {
			for (int k = 0; k < nc; k++) {
				float conf = p[5 + k] * obj;
				if (conf > ct && class_wanted(o, k)) {
					c.conf = conf;
					c.cls = k;
					if ((rc = cand_push(&cl, &c)))
						goto done;
				}
			}
			continue;
		}
		/* torch.max: first index of the maximum; a NaN wins and then fails "> conf" */
		float best = p[5] * obj;
		int j = 0, nan = isnan(best);
		for (int k = 1; k < nc && !nan; k++) {
			float conf = p[5 + k] * obj;
			if (isnan(conf))
				nan = 1;
			else if (conf > best)
				best = conf, j = k;
		}
		if (nan || !(best > ct) || !class_wanted(o, j))
			continue;
		c.conf = best;
		c.cls = j;
		if ((rc = cand_push(&cl, &c)))
			goto done;
	}
	if (cl.n == 0)
		goto done;
	qsort(cl.v, cl.n, sizeof *cl.v, cand_cmp);
	size_t m = cl.n < NMS_MAX_CAND ? cl.n : NMS_MAX_CAND;

	/* Boxes offset by class (float32), areas as torchvision computes them; one array per
	 * coordinate, so that the overlap loop below vectorises. */
	float *bx = malloc(m * 5 * sizeof *bx);
	unsigned char *sup = calloc(m, 1);
	int *keep = malloc(m * sizeof *keep);
	if (!bx || !sup || !keep) {
		free(bx);
		free(sup);
		free(keep);
		rc = tn_fail(TN_E_NOMEM, "nms: out of memory for %zu boxes", m);
		goto done;
	}
	float wh = o->agnostic ? 0.0f : o->max_wh;
	float *X1 = bx, *Y1 = bx + m, *X2 = bx + 2 * m, *Y2 = bx + 3 * m, *AREA = bx + 4 * m;
	for (size_t i = 0; i < m; i++) {
		float off = (float)cl.v[i].cls * wh;
		X1[i] = cl.v[i].x1 + off;
		Y1[i] = cl.v[i].y1 + off;
		X2[i] = cl.v[i].x2 + off;
		Y2[i] = cl.v[i].y2 + off;
		AREA[i] = (X2[i] - X1[i]) * (Y2[i] - Y1[i]);
	}
	const float it = float_below(thres_as_typed(o->iou_thres));
	int nk = 0;
	for (size_t i = 0; i < m && nk < o->max_det; i++) {
		if (sup[i])
			continue;
		keep[nk++] = (int)i;
		const float ax1 = X1[i], ay1 = Y1[i], ax2 = X2[i], ay2 = Y2[i], aa = AREA[i];
		/* every later box, suppressed or not: suppression only ever sets the flag */
		for (size_t j = i + 1; j < m; j++) {
			float xx1 = smax(ax1, X1[j]), yy1 = smax(ay1, Y1[j]);
			float xx2 = smin(ax2, X2[j]), yy2 = smin(ay2, Y2[j]);
			float w = smax(0.0f, xx2 - xx1), h = smax(0.0f, yy2 - yy1);
			float inter = w * h;
			float ovr = inter / (aa + AREA[j] - inter);
			sup[j] |= ovr > it;
		}
	}
	free(bx);
	free(sup);
	struct tn_det *d = malloc((size_t)(nk > 0 ? nk : 1) * sizeof *d);
	if (!d) {
		free(keep);
		rc = tn_fail(TN_E_NOMEM, "nms: out of memory for %d detections", nk);
		goto done;
	}
	for (int k = 0; k < nk; k++) {
		const struct cand *c = &cl.v[keep[k]];
		d[k].x1 = c->x1;
		d[k].y1 = c->y1;
		d[k].x2 = c->x2;
		d[k].y2 = c->y2;
		d[k].conf = c->conf;
		d[k].cls = c->cls;
	}
	free(keep);
	*out = d;
	*n_out = nk;
done:
	free(cl.v);
	return rc;
}

static inline float clampf(float v, float hi)
{
	/* torch.clamp_: NaN stays NaN */
	return v < 0.0f ? 0.0f : v > hi ? hi : v;
}

static void shift_scale_clip(struct tn_det *d, int n, float g, float pw, float ph, int w0, int h0)
{
	float fw = (float)w0, fh = (float)h0;
	for (int i = 0; i < n; i++) {
		d[i].x1 = clampf((d[i].x1 - pw) / g, fw);
		d[i].x2 = clampf((d[i].x2 - pw) / g, fw);
		d[i].y1 = clampf((d[i].y1 - ph) / g, fh);
		d[i].y2 = clampf((d[i].y2 - ph) / g, fh);
	}
}

void tn_scale_boxes(struct tn_det *d, int n, const struct tn_yolo_letterbox *lb, int w0, int h0,
		    int round_pixels)
{
	if (!d || n <= 0 || !lb || w0 <= 0 || h0 <= 0)
		return;
	/* Python floats (double) from the shapes; torch casts them to float32 for the ops. */
	double gh = (double)lb->out_h / h0, gw = (double)lb->out_w / w0;
	double gain = gh < gw ? gh : gw;
	shift_scale_clip(d, n, (float)gain, (float)((lb->out_w - w0 * gain) / 2), (float)((lb->out_h - h0 * gain) / 2),
			 w0, h0);
	if (round_pixels) /* torch.round: half to even */
		for (int i = 0; i < n; i++) {
			d[i].x1 = nearbyintf(d[i].x1);
			d[i].y1 = nearbyintf(d[i].y1);
			d[i].x2 = nearbyintf(d[i].x2);
			d[i].y2 = nearbyintf(d[i].y2);
		}
}

void tn_scale_boxes_ratio_pad(struct tn_det *d, int n, double gain, double pad_w, double pad_h, int w0, int h0)
{
	if (!d || n <= 0 || w0 <= 0 || h0 <= 0)
		return;
	shift_scale_clip(d, n, (float)gain, (float)pad_w, (float)pad_h, w0, h0);
}
