/* DeepLabV3+ (bubbliiiing).  Details that matter for exact agreement:
 * - MobileNetV2's residuals are decided at construction, before dilation turns strides to 1
 *   (models/mobilenetv2.c);
 * - Xception blocks without a skip conv add relu(input): their first pre-ReLU runs in place;
 * - the low-level feature of Xception is block2's sepconv2 output, before the next pre-ReLU;
 * - every resize inside the network is bilinear with align_corners=True. */
#include "models/deeplab.h"

#include "core/error.h"
#include "models/mobilenetv2.h"

#include <stdio.h>
#include <string.h>

int tn_backbone_parse(const char *name, enum tn_backbone *out)
{
	if (strcmp(name, "mobilenet") == 0 || strcmp(name, "mobilenetv2") == 0)
		*out = TN_BACKBONE_MOBILENET;
	else if (strcmp(name, "xception") == 0)
		*out = TN_BACKBONE_XCEPTION;
	else
		return tn_fail(TN_E_INVAL, "unknown backbone '%s' (mobilenet or xception)", name);
	return 0;
}

const char *tn_backbone_name(enum tn_backbone b)
{
	return b == TN_BACKBONE_XCEPTION ? "xception" : "mobilenet";
}

/* --- Xception ---------------------------------------------------------------------------- */

/* SeparableConv2d: [pre-ReLU] depthwise -> BN [-> ReLU] -> pointwise -> BN [-> ReLU]. */
static int sepconv(struct tn_net *net, int x, const char *name, int cin, int cout, int stride,
		   int dil, int activate_first)
{
	char dw[80], bn1[80], pw[80], bn2[80];
	snprintf(dw, sizeof dw, "%s.depthwise", name);
	snprintf(bn1, sizeof bn1, "%s.bn1", name);
	snprintf(pw, sizeof pw, "%s.pointwise", name);
	snprintf(bn2, sizeof bn2, "%s.bn2", name);
	enum tn_act act = activate_first ? TN_ACT_NONE : TN_ACT_RELU;
	int y = tn_net_conv(net, x, &(struct tn_conv_args){.name = dw, .bn = bn1, .cin = cin, .cout = cin,
			.groups = cin, .k = 3, .stride = stride, .pad = dil, .dil = dil, .act = act,
			.flags = activate_first ? TN_CONV_RELU_IN : 0});
	return tn_net_conv(net, y, &(struct tn_conv_args){.name = pw, .bn = bn2, .cin = cin, .cout = cout,
			.groups = 1, .k = 1, .stride = 1, .act = act});
}

static int xception_block(struct tn_net *net, int x, int n, int in, int out, int stride, int atrous,
			  int grow_first, int *hook)
{
	char name[64], skip[64], skipbn[64];
	int filters = grow_first ? out : in;
	int skip_node = -1;
	if (in != out || stride != 1) {
		snprintf(skip, sizeof skip, "backbone.block%d.skip", n);
		snprintf(skipbn, sizeof skipbn, "backbone.block%d.skipbn", n);
		skip_node = tn_net_conv(net, x, &(struct tn_conv_args){.name = skip, .bn = skipbn, .cin = in,
				.cout = out, .groups = 1, .k = 1, .stride = stride});
	}
	snprintf(name, sizeof name, "backbone.block%d.sepconv1", n);
	int y = sepconv(net, x, name, in, filters, 1, atrous, 1);
	snprintf(name, sizeof name, "backbone.block%d.sepconv2", n);
	y = sepconv(net, y, name, filters, out, 1, atrous, 1);
	if (hook)
		*hook = y;
	snprintf(name, sizeof name, "backbone.block%d.sepconv3", n);
	y = sepconv(net, y, name, out, out, stride, atrous, 1);
	if (skip_node >= 0)
		tn_net_set_residual(net, y, skip_node, 0);
	else
		tn_net_set_residual(net, y, x, TN_CONV_RES_RELU);
	return y;
}

static int xception(struct tn_net *net, int x, int df, int *low, int *deep_c, int *low_c)
{
	int s3 = df == 16 ? 2 : 1;
	int rate = 16 / df;
	int y = tn_net_conv(net, x, &(struct tn_conv_args){.name = "backbone.conv1", .bn = "backbone.bn1",
			.cin = 3, .cout = 32, .groups = 1, .k = 3, .stride = 2, .pad = 1, .act = TN_ACT_RELU});
	y = tn_net_conv(net, y, &(struct tn_conv_args){.name = "backbone.conv2", .bn = "backbone.bn2",
			.cin = 32, .cout = 64, .groups = 1, .k = 3, .stride = 1, .pad = 1, .act = TN_ACT_RELU});
	y = xception_block(net, y, 1, 64, 128, 2, 1, 1, NULL);
	y = xception_block(net, y, 2, 128, 256, 2, 1, 1, low);
	y = xception_block(net, y, 3, 256, 728, s3, 1, 1, NULL);
	for (int n = 4; n <= 19; n++)
		y = xception_block(net, y, n, 728, 728, 1, rate, 1, NULL);
	y = xception_block(net, y, 20, 728, 1024, 1, rate, 0, NULL);
	y = sepconv(net, y, "backbone.conv3", 1024, 1536, 1, rate, 0);
	y = sepconv(net, y, "backbone.conv4", 1536, 1536, 1, rate, 0);
	y = sepconv(net, y, "backbone.conv5", 1536, 2048, 1, rate, 0);
	*deep_c = 2048;
	*low_c = 256;
	return y;
}

/* --- head ------------------------------------------------------------------------------- */

static int aspp(struct tn_net *net, int x, int dim_in, int rate)
{
	int b[5];
	b[0] = tn_net_conv(net, x, &(struct tn_conv_args){.name = "aspp.branch1.0", .bias = 1,
			.bn = "aspp.branch1.1", .cin = dim_in, .cout = 256, .groups = 1, .k = 1, .stride = 1,
			.dil = rate, .act = TN_ACT_RELU});
	b[1] = tn_net_conv(net, x, &(struct tn_conv_args){.name = "aspp.branch2.0", .bias = 1,
			.bn = "aspp.branch2.1", .cin = dim_in, .cout = 256, .groups = 1, .k = 3, .stride = 1,
			.pad = 6 * rate, .dil = 6 * rate, .act = TN_ACT_RELU});
	b[2] = tn_net_conv(net, x, &(struct tn_conv_args){.name = "aspp.branch3.0", .bias = 1,
			.bn = "aspp.branch3.1", .cin = dim_in, .cout = 256, .groups = 1, .k = 3, .stride = 1,
			.pad = 12 * rate, .dil = 12 * rate, .act = TN_ACT_RELU});
	b[3] = tn_net_conv(net, x, &(struct tn_conv_args){.name = "aspp.branch4.0", .bias = 1,
			.bn = "aspp.branch4.1", .cin = dim_in, .cout = 256, .groups = 1, .k = 3, .stride = 1,
			.pad = 18 * rate, .dil = 18 * rate, .act = TN_ACT_RELU});
	int g = tn_net_gap(net, x);
	g = tn_net_conv(net, g, &(struct tn_conv_args){.name = "aspp.branch5_conv", .bias = 1,
			.bn = "aspp.branch5_bn", .cin = dim_in, .cout = 256, .groups = 1, .k = 1, .stride = 1,
			.act = TN_ACT_RELU});
	b[4] = tn_net_resize_ac(net, g, x);
	int cat = tn_net_concat(net, b, 5);
	return tn_net_conv(net, cat, &(struct tn_conv_args){.name = "aspp.conv_cat.0", .bias = 1,
			.bn = "aspp.conv_cat.1", .cin = 256 * 5, .cout = 256, .groups = 1, .k = 1, .stride = 1,
			.act = TN_ACT_RELU});
}

int tn_deeplab_build(struct tn_net *net, enum tn_backbone backbone, int downsample, int num_classes,
		     int in_h, int in_w)
{
	if (downsample != 8 && downsample != 16)
		return tn_fail(TN_E_INVAL, "downsample factor %d (must be 8 or 16)", downsample);
	if (num_classes < 1 || num_classes > 255)
		return tn_fail(TN_E_INVAL, "%d classes (must be 1 to 255)", num_classes);
	if (in_h < 32 || in_w < 32 || in_h > 4096 || in_w > 4096)
		return tn_fail(TN_E_INVAL, "input size %dx%d (must be 32 to 4096)", in_w, in_h);
	tn_net_init(net);
	int x = tn_net_input(net, 3, in_h, in_w);
	int low = -1, deep_c = 320, low_c = 24, deep;
	if (backbone == TN_BACKBONE_XCEPTION) {
		deep = xception(net, x, downsample, &low, &deep_c, &low_c);
	} else {
		struct tn_mbv2_cfg mb = {.prefix = "backbone.", .names = TN_MBV2_FLAT, .output_stride = downsample};
		deep = tn_mbv2_build(net, x, &mb, &low);
	}
	int a = aspp(net, deep, deep_c, 16 / downsample);
	int s = tn_net_conv(net, low, &(struct tn_conv_args){.name = "shortcut_conv.0", .bias = 1,
			.bn = "shortcut_conv.1", .cin = low_c, .cout = 48, .groups = 1, .k = 1, .stride = 1,
			.act = TN_ACT_RELU});
	int up = tn_net_resize_ac(net, a, s);
	int cat_in[2] = {up, s};
	int y = tn_net_concat(net, cat_in, 2);
	y = tn_net_conv(net, y, &(struct tn_conv_args){.name = "cat_conv.0", .bias = 1, .bn = "cat_conv.1",
			.cin = 304, .cout = 256, .groups = 1, .k = 3, .stride = 1, .pad = 1,
			.act = TN_ACT_RELU});
	y = tn_net_conv(net, y, &(struct tn_conv_args){.name = "cat_conv.4", .bias = 1, .bn = "cat_conv.5",
			.cin = 256, .cout = 256, .groups = 1, .k = 3, .stride = 1, .pad = 1,
			.act = TN_ACT_RELU});
	y = tn_net_conv(net, y, &(struct tn_conv_args){.name = "cls_conv", .bias = 1, .cin = 256,
			.cout = num_classes, .groups = 1, .k = 1, .stride = 1});
	tn_net_resize_ac(net, y, x);
	return tn_net_build_error(net, "DeepLabV3+");
}
