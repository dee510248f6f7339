/* ResNet-50/101/152 bottleneck backbones with PyTorch state_dict names: torchvision's ResNet
 * (conv1/bn1 stem) and mmsegmentation's ResNetV1c (deep stem, dilated stages).
 *
 * EncNet and the classifiers build on it. */
#ifndef TN_RESNET_H
#define TN_RESNET_H

#include "net/net.h"

struct tn_resnet_cfg {
	int depth;     /* 50, 101 or 152 */
	int deep_stem; /* mmseg ResNetV1c: stem.0/1, 3/4, 6/7 = three 3x3 conv+BN+ReLU 3->32(s2)->32->64;
			* else torchvision's conv1 7x7 s2 + bn1 */
	int strides[4];   /* per stage; torchvision {1, 2, 2, 2}; 0 entries mean that default */
	int dilations[4]; /* per stage; {1, 1, 1, 1} when 0; mmseg output stride 8: {1, 1, 2, 4} */
	int contract_dilation; /* mmseg: the first block of a dilated stage uses dilation / 2 */
};

/* Builds stem, max-pool (3, s2, p1) and the four stages on node x.  Names: prefix + "conv1" /
 * "bn1" (or prefix + "stem.N"), prefix + "layer1.0.conv1", ".bn1", ..., ".downsample.0" / ".1".
 * Bottlenecks put the stride on the 3x3 conv (torchvision v1.5, mmseg style 'pytorch'); the
 * 3x3's padding equals its dilation.  outs[k] gets stage k's output node (256, 512, 1024, 2048
 * channels).  Returns 0, or a negative TN_E_* code (bad config, out of memory). */
int tn_resnet_build(struct tn_net *net, int x, const char *prefix, const struct tn_resnet_cfg *cfg,
		    int outs[4]);

#endif
