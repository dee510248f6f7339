#include "models/segmodel.h"

#include "models/encnet.h"
#include "models/registry.h"
#include "models/wmeta.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/tensor.h"
#include "image/resample.h"
#include "ops/basic.h"

#include <stdlib.h>
#include <string.h>

/* Both segmentation families' metadata start with the backbone's name. */
static int read_backbone(const struct tn_family *fam, const struct tn_wfile *wf, struct tn_wmodel *w,
			 const char **bb)
{
	memset(w, 0, sizeof *w);
	return tn_wmeta_str(fam, wf, "backbone", bb);
}

/* The EncNet metadata: backbone resnet50|resnet101, add_lateral, classes and input size. */
int tn_encnet_from_w(const struct tn_family *fam, const struct tn_wfile *wf, int in_h, int in_w,
		     struct tn_wmodel *w)
{
	const char *bb;
	int rc = read_backbone(fam, wf, w, &bb);
	if (rc)
		return rc;
	w->depth = bb && strcmp(bb, "resnet50") == 0 ? 50 : bb && strcmp(bb, "resnet101") == 0 ? 101 : 0;
	if (!w->depth)
		return tn_fail(TN_E_FORMAT, "%s: metadata 'backbone' is '%s' (resnet50 or resnet101)", wf->path,
			       bb ? bb : "(none)");
	if ((rc = tn_wmeta_int(fam, wf, "num_classes", 1, 255, -1, &w->num_classes)) ||
	    (rc = tn_wmeta_int(fam, wf, "input_height", 32, 4096, 512, &w->in_h)) ||
	    (rc = tn_wmeta_int(fam, wf, "input_width", 32, 4096, 512, &w->in_w)) ||
	    (rc = tn_wmeta_int(fam, wf, "add_lateral", 0, 1, 0, &w->add_lateral)))
		return rc;
	struct tn_encnet_cfg cfg = {w->depth, w->num_classes, w->add_lateral};
	if ((rc = tn_encnet_build(&w->net, &cfg, in_h ? in_h : w->in_h, in_w ? in_w : w->in_w, &w->se_node))) {
		tn_fail_prefix(rc, wf->path);
		tn_net_free(&w->net);
	}
	return rc;
}

int tn_deeplab_from_w(const struct tn_family *fam, const struct tn_wfile *wf, int in_h, int in_w,
		      struct tn_wmodel *w)
{
	const char *bb;
	int rc = read_backbone(fam, wf, w, &bb);
	if (!rc && (!bb || tn_backbone_parse(bb, &w->backbone)))
		rc = tn_fail(TN_E_FORMAT, "%s: metadata 'backbone' is '%s' (mobilenet or xception)", wf->path,
			     bb ? bb : "(none)");
	if (rc || (rc = tn_wmeta_int(fam, wf, "downsample", 8, 16, 16, &w->downsample)) ||
	    (rc = tn_wmeta_int(fam, wf, "num_classes", 1, 255, -1, &w->num_classes)) ||
	    (rc = tn_wmeta_int(fam, wf, "input_height", 32, 4096, 512, &w->in_h)) ||
	    (rc = tn_wmeta_int(fam, wf, "input_width", 32, 4096, 512, &w->in_w)) ||
	    (rc = tn_wmeta_int(fam, wf, "letterbox_fill", 0, 255, 128, &w->fill)))
		return rc;
	if ((rc = tn_deeplab_build(&w->net, w->backbone, w->downsample, w->num_classes, in_h ? in_h : w->in_h,
				   in_w ? in_w : w->in_w))) {
		tn_fail_prefix(rc, wf->path);
		tn_net_free(&w->net);
	}
	return rc;
}

int tn_segmodel_describe(struct tn_segmodel *m, const char *path)
{
	memset(m, 0, sizeof *m);
	struct tn_wmodel w;
	int rc = tn_wmeta_open(path, TN_TASK_SEGMENT, "a segmentation model", 0, &m->wf, &m->fam, 0, 0, &w, &m->net);
	if (rc)
		goto fail;
	m->encnet = m->fam->prep == TN_PREP_MMSEG_RESIZE;
	m->num_classes = w.num_classes;
	m->in_h = w.in_h;
	m->in_w = w.in_w;
	m->backbone = w.backbone;
	m->downsample = w.downsample;
	m->fill = (uint8_t)w.fill;
	m->depth = w.depth;
	m->add_lateral = w.add_lateral;
	m->se_node = w.se_node;
	if ((rc = tn_wmeta_names(m->fam, &m->wf, m->num_classes, &m->class_names)))
		goto fail;
	tn_palette_for_classes(m->num_classes, m->palette);
	return 0;
fail:
	tn_segmodel_close(m);
	return rc;
}

int tn_segmodel_open(struct tn_segmodel *m, const char *path)
{
	int rc = tn_segmodel_describe(m, path);
	if (!rc && (rc = tn_wmeta_load_net(&m->net, &m->wf)))
		tn_segmodel_close(m);
	return rc;
}

void tn_segmodel_close(struct tn_segmodel *m)
{
	tn_wmeta_release(m->class_names, m->num_classes, &m->net, &m->wf);
	memset(m, 0, sizeof *m);
}

int tn_segmodel_predict(struct tn_segmodel *m, const struct tn_image *img, uint8_t **mask_out,
			float **logits_out)
{
	if (m->encnet) {
		double ms[3] = {0, 0, 0};
		int rc = tn_encnet_predict(&m->net, m->in_h, m->in_w, img, mask_out, logits_out, &m->logits_h,
					   &m->logits_w, ms);
		m->ms_letterbox = ms[0];
		m->ms_network = ms[1];
		m->ms_post = ms[2];
		return rc;
	}
	m->logits_h = m->in_h;
	m->logits_w = m->in_w;
	struct tn_image boxed = {0};
	struct tn_letterbox lb;
	double t0 = tn_now_ms();
	int rc = tn_letterbox_pil(img, m->in_w, m->in_h, m->fill, &boxed, &lb);
	if (rc)
		return rc;
	double t1;
	int C, H, W;
	float *out = tn_wmeta_forward_div255(&m->net, &boxed, &t1, &C, &H, &W);
	double t2 = tn_now_ms();
	if (logits_out && (rc = tn_wmeta_copy_output(out, (size_t)C * H * W, logits_out, "logits")))
		return rc;
	/* Only the letterboxed image area survives the crop. */
	if ((rc = tn_softmax_channels_rect(out, C, H, W, lb.dy, lb.dx, lb.nh, lb.nw)))
		return rc;
	const float *crop = out + (size_t)lb.dy * W + lb.dx;
	if ((rc = tn_resize_argmax(crop, C, lb.nh, lb.nw, (long)H * W, W, img->h, img->w, mask_out)))
		return rc;
	m->ms_letterbox = t1 - t0;
	m->ms_network = t2 - t1;
	m->ms_post = tn_now_ms() - t2;
	return 0;
}

int tn_segmodel_scene(const struct tn_segmodel *m, float *probs)
{
	if (!m->encnet)
		return tn_fail(TN_E_UNSUPPORTED, "%s: only EncNet models predict which classes are present",
			       m->wf.path);
	tn_encnet_scene(&m->net, m->se_node, probs);
	return 0;
}

int tn_segmeta_parse_size(const char *s, int *h, int *w)
{
	char *end;
	long a = strtol(s, &end, 10);
	if (end == s)
		return tn_fail(TN_E_INVAL, "size '%s' is not HxW", s);
	long b = a;
	if (*end == 'x' || *end == 'X') {
		const char *p = end + 1;
		b = strtol(p, &end, 10);
		if (end == p)
			return tn_fail(TN_E_INVAL, "size '%s' is not HxW", s);
	}
	if (*end || a < 32 || b < 32 || a > 4096 || b > 4096)
		return tn_fail(TN_E_INVAL, "size '%s' must be HxW with each side from 32 to 4096", s);
	*h = (int)a;
	*w = (int)b;
	return 0;
}

void tn_seg_count(const uint8_t *mask, size_t npx, int n, uint64_t *counts)
{
	memset(counts, 0, sizeof *counts * (size_t)n);
	for (size_t i = 0; i < npx; i++)
		if (mask[i] < n)
			counts[mask[i]]++;
}

int tn_seg_cutout(const struct tn_image *img, const uint8_t *mask, struct tn_image *out)
{
	size_t npx = (size_t)img->w * img->h;
	*out = (struct tn_image){img->w, img->h, 3, calloc(npx * 3, 1)};
	if (!out->px)
		return tn_fail(TN_E_NOMEM, "out of memory for the cutout");
	for (size_t i = 0; i < npx; i++)
		if (mask[i] != 0)
			memcpy(out->px + 3 * i, img->px + 3 * i, 3);
	return 0;
}
