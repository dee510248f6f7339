/* MobileNetV2 (torchvision, and bubbliiiing's copy for DeepLabV3+).  Residuals are decided at
 * construction, before dilation turns strides to 1, as bubbliiiing's code does. */
#include "models/mobilenetv2.h"

#include <stdio.h>

/* The dilation _nostride_dilate(d) gives a 3x3 conv: stride-2 convs become stride 1 with
 * dilation d/2, others get dilation d. */
static void nostride_dilate(int d, int *stride, int *dil)
{
	if (d <= 1)
		return;
	if (*stride == 2) {
		*stride = 1;
		*dil = d / 2;
	} else {
		*dil = d;
	}
}

/* The d DeepLabV3+ applies to block idx for its output stride. */
static int block_dilate(int output_stride, int idx)
{
	if (output_stride == 8)
		return idx >= 14 ? 4 : idx >= 7 ? 2 : 1;
	if (output_stride == 16)
		return idx >= 14 ? 2 : 1;
	return 1;
}

/* Names of the conv and BatchNorm of step j of block idx; last: the linear projection. */
static void step_names(const struct tn_mbv2_cfg *cfg, int idx, int j, int last, char *conv, char *bn)
{
	if (cfg->names == TN_MBV2_FLAT) {
		snprintf(conv, TN_NAME_MAX, "%sfeatures.%d.conv.%d", cfg->prefix, idx, 3 * j);
		snprintf(bn, TN_NAME_MAX, "%sfeatures.%d.conv.%d", cfg->prefix, idx, 3 * j + 1);
	} else if (last) {
		snprintf(conv, TN_NAME_MAX, "%sfeatures.%d.conv.%d", cfg->prefix, idx, j);
		snprintf(bn, TN_NAME_MAX, "%sfeatures.%d.conv.%d", cfg->prefix, idx, j + 1);
	} else {
		snprintf(conv, TN_NAME_MAX, "%sfeatures.%d.conv.%d.0", cfg->prefix, idx, j);
		snprintf(bn, TN_NAME_MAX, "%sfeatures.%d.conv.%d.1", cfg->prefix, idx, j);
	}
}

/* InvertedResidual: [1x1 expand to inp*t, ReLU6] (t > 1), 3x3 depthwise, ReLU6, 1x1 project. */
static int block(struct tn_net *net, const struct tn_mbv2_cfg *cfg, int x, int idx, int inp, int oup,
		 int stride, int t)
{
	char cn[TN_NAME_MAX], bn[TN_NAME_MAX];
	int hidden = inp * t, y = x, j = 0;
	int dstride = stride, dil = 1;
	nostride_dilate(block_dilate(cfg->output_stride, idx), &dstride, &dil);
	if (t != 1) {
		step_names(cfg, idx, j++, 0, cn, bn);
		y = tn_net_conv(net, y, &(struct tn_conv_args){.name = cn, .bn = bn, .cin = inp, .cout = hidden,
				.groups = 1, .k = 1, .stride = 1, .act = TN_ACT_RELU6});
	}
	step_names(cfg, idx, j++, 0, cn, bn);
	y = tn_net_conv(net, y, &(struct tn_conv_args){.name = cn, .bn = bn, .cin = hidden, .cout = hidden,
			.groups = hidden, .k = 3, .stride = dstride, .pad = dil, .dil = dil, .act = TN_ACT_RELU6});
	step_names(cfg, idx, j, 1, cn, bn);
	y = tn_net_conv(net, y, &(struct tn_conv_args){.name = cn, .bn = bn, .cin = hidden, .cout = oup,
			.groups = 1, .k = 1, .stride = 1});
	if (stride == 1 && inp == oup)
		tn_net_set_residual(net, y, x, 0);
	return y;
}

int tn_mbv2_build(struct tn_net *net, int x, const struct tn_mbv2_cfg *cfg, int *low)
{
	/* t (expansion), c (channels), n (blocks), s (first block's stride) per stage */
	static const int stages[7][4] = {{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2},
					 {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
	char cn[TN_NAME_MAX], bn[TN_NAME_MAX];
	snprintf(cn, sizeof cn, "%sfeatures.0.0", cfg->prefix);
	snprintf(bn, sizeof bn, "%sfeatures.0.1", cfg->prefix);
	int y = tn_net_conv(net, x, &(struct tn_conv_args){.name = cn, .bn = bn, .cin = 3, .cout = 32,
			.groups = 1, .k = 3, .stride = 2, .pad = 1, .act = TN_ACT_RELU6});
	int inp = 32, idx = 1;
	for (int s = 0; s < 7; s++)
		for (int r = 0; r < stages[s][2]; r++, idx++) {
			y = block(net, cfg, y, idx, inp, stages[s][1], r == 0 ? stages[s][3] : 1, stages[s][0]);
			inp = stages[s][1];
			if (idx == 3 && low)
				*low = y;
		}
	return y;
}
