/* EncNet: mmseg EncHead on ResNetV1c-D8. */
#include "models/encnet.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/tensor.h"
#include "image/letterbox_cv.h"
#include "image/resample.h"
#include "io/image.h"
#include "models/resnet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEAD "decode_head."
#define CHANNELS 512
#define CODES 32

/* EncModule: encoding_project (ConvModule 1x1) -> Encoding -> BatchNorm1d -> ReLU -> mean over
 * codes = e; fc (Linear + sigmoid) gates the bottleneck output x: relu(x + x * gamma). */
static int enc_module(struct tn_net *net, int x, int *e_out)
{
	int p = tn_net_conv(net, x, &(struct tn_conv_args){.name = HEAD "enc_module.encoding_project.conv",
			.bn = HEAD "enc_module.encoding_project.bn", .cin = CHANNELS, .cout = CHANNELS,
			.groups = 1, .k = 1, .stride = 1, .act = TN_ACT_RELU});
	int codes = CODES;
	int e = tn_net_op(net, TN_NODE_ENCODING, &p, 1, &codes, 1);
	static const char *const names[6] = {"0.codewords", "0.scale", "1.weight", "1.bias", "1.running_mean",
					     "1.running_var"};
	for (int k = 0; k < 6; k++) {
		char name[TN_NAME_MAX];
		int64_t shape[2] = {CODES, CHANNELS};
		snprintf(name, sizeof name, HEAD "enc_module.encoding.%s", names[k]);
		tn_net_param(net, e, name, k == 0 ? 2 : 1, shape);
	}
	int g = tn_net_linear(net, e, HEAD "enc_module.fc.0", CHANNELS, CHANNELS);
	int in[2] = {x, g};
	*e_out = e;
	return tn_net_op(net, TN_NODE_CHANNEL_GATE, in, 2, NULL, 0);
}

int tn_encnet_build(struct tn_net *net, const struct tn_encnet_cfg *cfg, int in_h, int in_w, int *se_node)
{
	tn_net_init(net);
	if (cfg->depth != 50 && cfg->depth != 101)
		return tn_fail(TN_E_INVAL, "EncNet backbone depth %d (50 or 101)", cfg->depth);
	if (cfg->num_classes < 1 || cfg->num_classes > 255)
		return tn_fail(TN_E_INVAL, "%d classes (must be 1 to 255)", cfg->num_classes);
	if (in_h < 32 || in_w < 32 || in_h > 4096 || in_w > 4096)
		return tn_fail(TN_E_INVAL, "input size %dx%d (must be 32 to 4096)", in_w, in_h);
	int x = tn_net_input(net, 3, in_h, in_w);
	/* ResNetV1c-D8: strides 1,2,1,1, dilations 1,1,2,4, first block of a dilated stage halved */
	struct tn_resnet_cfg rc = {cfg->depth, 1, {1, 2, 1, 1}, {1, 1, 2, 4}, 1};
	int outs[4];
	int rc_build = tn_resnet_build(net, x, "backbone.", &rc, outs);
	if (rc_build)
		return rc_build;
	int feat = tn_net_conv(net, outs[3], &(struct tn_conv_args){.name = HEAD "bottleneck.conv",
			.bn = HEAD "bottleneck.bn", .cin = 2048, .cout = CHANNELS, .groups = 1, .k = 3,
			.stride = 1, .pad = 1, .act = TN_ACT_RELU});
	if (cfg->add_lateral) {
		/* Stages 2 and 3 share stage 4's 1/8 size here, so mmseg's resize of the laterals is
		 * the identity. */
		int cat[3] = {feat, -1, -1};
		for (int k = 0; k < 2; k++) {
			char c[TN_NAME_MAX], b[TN_NAME_MAX];
			snprintf(c, sizeof c, HEAD "lateral_convs.%d.conv", k);
			snprintf(b, sizeof b, HEAD "lateral_convs.%d.bn", k);
			cat[k + 1] = tn_net_conv(net, outs[k + 1], &(struct tn_conv_args){.name = c, .bn = b,
					.cin = 512 << k, .cout = CHANNELS, .groups = 1, .k = 1, .stride = 1,
					.act = TN_ACT_RELU});
		}
		int y = tn_net_concat(net, cat, 3);
		feat = tn_net_conv(net, y, &(struct tn_conv_args){.name = HEAD "fusion.conv",
				.bn = HEAD "fusion.bn", .cin = 3 * CHANNELS, .cout = CHANNELS, .groups = 1,
				.k = 3, .stride = 1, .pad = 1, .act = TN_ACT_RELU});
	}
	int e = -1;
	int y = enc_module(net, feat, &e);
	/* cls_seg: Dropout2d (identity at test) + conv_seg 1x1 with bias, at 1/8 */
	y = tn_net_conv(net, y, &(struct tn_conv_args){.name = HEAD "conv_seg", .bias = 1, .cin = CHANNELS,
			.cout = cfg->num_classes, .groups = 1, .k = 1, .stride = 1});
	int logits = tn_net_resize(net, y, x);
	int se = tn_net_linear(net, e, HEAD "se_layer", CHANNELS, cfg->num_classes);
	tn_net_keep(net, se);
	tn_net_set_output(net, logits);
	tn_net_ignore(net, "auxiliary_head.");
	*se_node = se;
	return tn_net_build_error(net, "EncNet");
}

void tn_encnet_scene(const struct tn_net *net, int se_node, float *probs)
{
	int c, h, w;
	const float *z = tn_net_node_output(net, se_node, &c, &h, &w);
	for (int k = 0; k < c; k++)
		probs[k] = (float)(1.0 / (1.0 + exp(-(double)z[k])));
}

int tn_encnet_infer(const struct tn_param_source *src, struct tn_encnet_cfg *cfg)
{
	int ndim;
	int64_t shape[TN_MAX_DIMS];
	if (src->shape(src->ctx, HEAD "conv_seg.weight", &ndim, shape) != 0)
		return tn_fail(TN_E_FORMAT, "%s: no tensor 'decode_head.conv_seg.weight': not an mmseg EncNet "
			       "checkpoint", src->label);
	if (ndim != 4 || shape[0] < 1 || shape[0] > 255)
		return tn_fail(TN_E_FORMAT, "%s: tensor 'decode_head.conv_seg.weight' has a shape that gives no "
			       "class count (1 to 255)", src->label);
	if (cfg->num_classes && cfg->num_classes != shape[0])
		return tn_fail(TN_E_INVAL, "%s: %d classes asked for, but decode_head.conv_seg.weight has %lld rows",
			       src->label, cfg->num_classes, (long long)shape[0]);
	cfg->num_classes = (int)shape[0];
	/* ResNet-50 has 6 blocks in stage 3, ResNet-101 23. */
	int depth = src->shape(src->ctx, "backbone.layer3.22.conv1.weight", &ndim, shape) == 0 ? 101
		    : src->shape(src->ctx, "backbone.layer3.5.conv1.weight", &ndim, shape) == 0 ? 50 : 0;
	if (!depth && !cfg->depth)
		return tn_fail(TN_E_FORMAT, "%s: no backbone.layer3 blocks: cannot tell ResNet-50 from 101; give "
			       "--backbone", src->label);
	if (cfg->depth && depth && cfg->depth != depth)
		return tn_fail(TN_E_INVAL, "%s: --backbone resnet%d, but the tensors are a ResNet-%d", src->label,
			       cfg->depth, depth);
	if (!cfg->depth)
		cfg->depth = depth;
	cfg->add_lateral = src->shape(src->ctx, HEAD "lateral_convs.0.conv.weight", &ndim, shape) == 0;
	return 0;
}

int tn_encnet_predict(struct tn_net *net, int in_h, int in_w, const struct tn_image *img, uint8_t **mask_out,
		      float **logits_out, int *lh, int *lw, double ms[3])
{
	static const float mean[3] = {123.675f, 116.28f, 103.53f}, std[3] = {58.395f, 57.12f, 57.375f};
	double t0 = tn_now_ms();
	*mask_out = NULL;
	if (logits_out)
		*logits_out = NULL;
	if (img->channels != 3 || img->w < 1 || img->h < 1)
		return tn_fail(TN_E_INVAL, "EncNet needs an RGB image, not %dx%dx%d", img->w, img->h, img->channels);
	/* mmcv rescale_size with a (long, short) scale, in double as Python computes it */
	double lo = in_h < in_w ? in_h : in_w, hi = in_h < in_w ? in_w : in_h;
	double ilo = img->h < img->w ? img->h : img->w, ihi = img->h < img->w ? img->w : img->h;
	double sf = fmin(hi / ihi, lo / ilo);
	int nw = (int)(img->w * sf + 0.5), nh = (int)(img->h * sf + 0.5);
	if (nw < 32 || nh < 32)
		return tn_fail(TN_E_INVAL, "image %dx%d rescales to %dx%d, below the 32x32 EncNet needs", img->w,
			       img->h, nw, nh);
	struct tn_image rs = {0};
	const struct tn_image *src = img;
	int rc;
	if (nw != img->w || nh != img->h) {
		if ((rc = tn_resize_linear_cv_u8(img, nw, nh, &rs)))
			return rc;
		src = &rs;
	}
	if ((net->in_h != nh || net->in_w != nw) && (rc = tn_net_set_input_size(net, nh, nw))) {
		tn_image_free(&rs);
		return rc;
	}
	tn_image_to_planes(src, mean, std, tn_net_input_data(net));
	tn_image_free(&rs);
	double t1 = tn_now_ms();
	tn_net_forward(net);
	double t2 = tn_now_ms();
	int C, H, W;
	const float *out = tn_net_output(net, &C, &H, &W);
	*lh = H;
	*lw = W;
	if (logits_out) {
		*logits_out = malloc(sizeof(float) * (size_t)C * H * W);
		if (!*logits_out)
			return tn_fail(TN_E_NOMEM, "out of memory for the logits");
		memcpy(*logits_out, out, sizeof(float) * (size_t)C * H * W);
	}
	if ((rc = tn_resize_argmax(out, C, H, W, (long)H * W, W, img->h, img->w, mask_out)))
		goto fail;
	if (ms) {
		ms[0] = t1 - t0;
		ms[1] = t2 - t1;
		ms[2] = tn_now_ms() - t2;
	}
	return 0;
fail:
	if (logits_out) {
		free(*logits_out);
		*logits_out = NULL;
	}
	return rc;
}
