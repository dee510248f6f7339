/* DeepLabV3+ as in bubbliiiing/deeplabv3-plus-pytorch (MobileNetV2 or Xception backbone,
 * downsample factor 8 or 16), with its state_dict names. */
#ifndef TN_DEEPLAB_H
#define TN_DEEPLAB_H

#include "net/net.h"

enum tn_backbone {
	TN_BACKBONE_MOBILENET,
	TN_BACKBONE_XCEPTION,
};

int tn_backbone_parse(const char *name, enum tn_backbone *out);
const char *tn_backbone_name(enum tn_backbone b);
/* Builds the graph for an in_h x in_w RGB input; logits [num_classes, in_h, in_w]. */
int tn_deeplab_build(struct tn_net *net, enum tn_backbone backbone, int downsample, int num_classes,
		     int in_h, int in_w);

#endif
