/* MobileNetV2's features with PyTorch state_dict names, for torchvision's classifier and for
 * DeepLabV3+ (bubbliiiing's copy of the same network, dilated for output stride 16 or 8). */
#ifndef TN_MOBILENETV2_H
#define TN_MOBILENETV2_H

#include "net/net.h"

/* How a block's convs and BatchNorms are named (block i, step j of its conv-BN(-ReLU6)s):
 * torchvision nests each conv-BN-ReLU6 (features.i.conv.j.0 / .1) but not the last, linear
 * projection (features.i.conv.j / .j+1); bubbliiiing's block is one flat Sequential
 * (features.i.conv.3j / .3j+1). */
enum tn_mbv2_names {
	TN_MBV2_TORCHVISION,
	TN_MBV2_FLAT,
};

struct tn_mbv2_cfg {
	const char *prefix;        /* before "features.": "" (torchvision) or "backbone." (DeepLabV3+) */
	enum tn_mbv2_names names;
	int output_stride;         /* 32: as torchvision; 16 or 8: DeepLabV3+'s _nostride_dilate of
				    * features 14-17 (16) or 7-17 (8) */
};

/* Builds features.0 to features.17 on node x (3 channels) and returns the last one's output
 * (320 channels at 1/output_stride); *low, when low is not NULL, gets features.3's (24 channels
 * at 1/4, DeepLabV3+'s low-level feature).  torchvision's features.18 (1x1 to 1280) is part of
 * the classifier's head.  Failures are kept by the net (tn_net_build_error). */
int tn_mbv2_build(struct tn_net *net, int x, const struct tn_mbv2_cfg *cfg, int *low);

#endif
