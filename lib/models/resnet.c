/* ResNet bottleneck backbones (torchvision ResNet, mmseg ResNetV1c). */
#include "models/resnet.h"

#include "core/error.h"

#include <stdio.h>
#include <string.h>

/* relu(bn3(conv3(...)) + shortcut): the sum is a node of its own because the conv epilogue
 * applies its activation before a residual. */
static int bottleneck(struct tn_net *net, int x, const char *name, int inplanes, int planes, int stride,
		      int dil)
{
	char c[3][TN_NAME_MAX], b[3][TN_NAME_MAX], dc[TN_NAME_MAX], db[TN_NAME_MAX];
	for (int k = 0; k < 3; k++) {
		snprintf(c[k], sizeof c[k], "%s.conv%d", name, k + 1);
		snprintf(b[k], sizeof b[k], "%s.bn%d", name, k + 1);
	}
	int out = planes * 4;
	int y = tn_net_conv(net, x, &(struct tn_conv_args){.name = c[0], .bn = b[0], .cin = inplanes,
			.cout = planes, .groups = 1, .k = 1, .stride = 1, .act = TN_ACT_RELU});
	y = tn_net_conv(net, y, &(struct tn_conv_args){.name = c[1], .bn = b[1], .cin = planes, .cout = planes,
			.groups = 1, .k = 3, .stride = stride, .pad = dil, .dil = dil, .act = TN_ACT_RELU});
	y = tn_net_conv(net, y, &(struct tn_conv_args){.name = c[2], .bn = b[2], .cin = planes, .cout = out,
			.groups = 1, .k = 1, .stride = 1});
	int sc = x; /* built after conv3, in state_dict order */
	if (stride != 1 || inplanes != out) {
		snprintf(dc, sizeof dc, "%s.downsample.0", name);
		snprintf(db, sizeof db, "%s.downsample.1", name);
		sc = tn_net_conv(net, x, &(struct tn_conv_args){.name = dc, .bn = db, .cin = inplanes,
				.cout = out, .groups = 1, .k = 1, .stride = stride});
	}
	int in[2] = {y, sc}, relu = 1;
	return tn_net_op(net, TN_NODE_ADD, in, 2, &relu, 1);
}

int tn_resnet_build(struct tn_net *net, int x, const char *prefix, const struct tn_resnet_cfg *cfg,
		    int outs[4])
{
	static const int blocks50[4] = {3, 4, 6, 3}, blocks101[4] = {3, 4, 23, 3}, blocks152[4] = {3, 8, 36, 3};
	const int *blocks = cfg->depth == 50 ? blocks50 : cfg->depth == 101 ? blocks101
						       : cfg->depth == 152 ? blocks152 : NULL;
	if (!blocks)
		return tn_fail(TN_E_INVAL, "ResNet depth %d (50, 101 or 152)", cfg->depth);
	int strides[4], dils[4];
	for (int s = 0; s < 4; s++) {
		strides[s] = cfg->strides[s] ? cfg->strides[s] : (s == 0 ? 1 : 2);
		dils[s] = cfg->dilations[s] ? cfg->dilations[s] : 1;
		if (strides[s] < 1 || strides[s] > 2 || dils[s] < 1 || dils[s] > 32)
			return tn_fail(TN_E_INVAL, "ResNet stage %d: stride %d, dilation %d", s + 1, strides[s],
				       dils[s]);
	}
	if (strlen(prefix) > 40)
		return tn_fail(TN_E_INVAL, "ResNet prefix '%s' too long", prefix);
	char c[TN_NAME_MAX], b[TN_NAME_MAX];
	int y;
	if (cfg->deep_stem) {
		static const int ch[4] = {3, 32, 32, 64};
		y = x;
		for (int k = 0; k < 3; k++) {
			snprintf(c, sizeof c, "%sstem.%d", prefix, 3 * k);
			snprintf(b, sizeof b, "%sstem.%d", prefix, 3 * k + 1);
			y = tn_net_conv(net, y, &(struct tn_conv_args){.name = c, .bn = b, .cin = ch[k],
					.cout = ch[k + 1], .groups = 1, .k = 3, .stride = k == 0 ? 2 : 1,
					.pad = 1, .act = TN_ACT_RELU});
		}
	} else {
		snprintf(c, sizeof c, "%sconv1", prefix);
		snprintf(b, sizeof b, "%sbn1", prefix);
		y = tn_net_conv(net, x, &(struct tn_conv_args){.name = c, .bn = b, .cin = 3, .cout = 64,
				.groups = 1, .k = 7, .stride = 2, .pad = 3, .act = TN_ACT_RELU});
	}
	int pool[4] = {3, 2, 1, 0};
	y = tn_net_op(net, TN_NODE_MAXPOOL, &y, 1, pool, 4);
	int inplanes = 64;
	for (int s = 0; s < 4; s++) {
		int planes = 64 << s;
		for (int i = 0; i < blocks[s]; i++) {
			char name[TN_NAME_MAX];
			snprintf(name, sizeof name, "%slayer%d.%d", prefix, s + 1, i);
			int dil = dils[s];
			if (i == 0 && dil > 1 && cfg->contract_dilation)
				dil /= 2;
			y = bottleneck(net, y, name, inplanes, planes, i == 0 ? strides[s] : 1, dil);
			inplanes = planes * 4;
		}
		outs[s] = y;
	}
	char what[32];
	snprintf(what, sizeof what, "ResNet-%d", cfg->depth);
	return tn_net_build_error(net, what);
}
