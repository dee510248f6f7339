/* EncNet as mmsegmentation builds it: EncHead on a dilated ResNetV1c (deep stem, output stride
 * 8), with mmseg's state_dict names (backbone.*, decode_head.*). */
#ifndef TN_ENCNET_H
#define TN_ENCNET_H

#include <stdint.h>

#include "net/net.h"

struct tn_encnet_cfg {
	int depth;       /* 50 or 101 */
	int num_classes; /* 1..255 */
	int add_lateral; /* EncHead add_lateral: fuse stages 2 and 3 into the bottleneck output */
};

/* Builds the graph for an in_h x in_w normalised RGB input.  The net's output is the logits
 * resized to the input (bilinear, align_corners=False) [num_classes, in_h, in_w], as mmseg's
 * decode_head.predict gives them; *se_node gets the SE classifier's logits [num_classes, 1, 1]
 * (kept, so its values survive tn_net_forward).  auxiliary_head.* tensors (training only) are
 * ignored by tn_net_check. */
int tn_encnet_build(struct tn_net *net, const struct tn_encnet_cfg *cfg, int in_h, int in_w, int *se_node);

/* Per-class presence probabilities: sigmoid of the SE logits after tn_net_forward. */
void tn_encnet_scene(const struct tn_net *net, int se_node, float *probs);

/* Depth, class count and lateral fusion from a checkpoint's tensors (decode_head.conv_seg.weight,
 * the number of backbone.layer3 blocks, decode_head.lateral_convs.*).  Fields the caller set
 * (non-zero depth / num_classes) are checked against the tensors instead. */
int tn_encnet_infer(const struct tn_param_source *src, struct tn_encnet_cfg *cfg);

/* mmseg's whole-image inference on an RGB image: rescale keeping the ratio to fit (long, short)
 * = the larger and smaller of in_h and in_w (mmcv imrescale: sides int(side * factor + 0.5),
 * cv2 INTER_LINEAR), (x - mean) / std with the ImageNet mean and std, the network (re-planned
 * when the size changes), logits resized (bilinear, align_corners=False) to the image's size,
 * argmax (the first class wins ties).  mask gets img->w * img->h class indices (malloc'd); if
 * logits is not NULL it gets a malloc'd copy of the network output [C][*lh][*lw].  ms (3
 * values, or NULL): milliseconds spent resizing, in the network, after it. */
struct tn_image;
int tn_encnet_predict(struct tn_net *net, int in_h, int in_w, const struct tn_image *img, uint8_t **mask,
		      float **logits, int *lh, int *lw, double ms[3]);

#endif
