/* Image classifiers with torchvision's state_dict names (GoogLeNet with BatchNorm, ResNet-50,
 * MobileNetV2), the Keras GoogLeNet layout of the TensorFlow GoogLeNet tutorial for counting, and torchvision's ImageNet
 * preprocessing: PIL-bilinear resize of the shorter side to 256, centre crop 224, ToTensor,
 * Normalize(mean, std). */
#ifndef TN_CLASSIFY_H
#define TN_CLASSIFY_H

#include "io/image.h"
#include "io/wfile.h"
#include "net/net.h"

enum tn_cls_arch {
	TN_CLS_GOOGLENET,    /* torchvision googlenet; aux1/aux2 (training only) are ignored */
	TN_CLS_RESNET50,     /* torchvision resnet50 */
	TN_CLS_MOBILENET_V2, /* torchvision mobilenet_v2 */
};

/* "googlenet", "resnet50", "mobilenet_v2" (also "mobilenetv2"). */
int tn_cls_arch_parse(const char *s, enum tn_cls_arch *out);
const char *tn_cls_arch_name(enum tn_cls_arch a);
/* The state_dict key of the final Linear's weight ([classes, features]). */
const char *tn_cls_fc_weight(enum tn_cls_arch a);

/* The classifier a checkpoint's tensor names imply (0), or a negative code if none fits. */
int tn_cls_guess_arch(const struct tn_ckpt *ck, enum tn_cls_arch *out);

/* Builds the classifier for a 3 x in_h x in_w input; output [num_classes, 1, 1] logits. */
int tn_cls_build(struct tn_net *net, enum tn_cls_arch arch, int num_classes, int in_h, int in_w);

/* The TensorFlow GoogLeNet tutorial's Keras GoogLeNet (no BatchNorm, biased convs, 5x5 branch convs, both auxiliary
 * classifiers), for counting: 13,374,120 parameters at 1000 classes.  Names follow the Keras
 * summary: "convolution-1", "inception-3a.branch1", "AuxiliaryClassifier-1.fc1", "linear".
 * Its Flatten layers fix the input to 224x224. */
int tn_googlenet_keras_build(struct tn_net *net, int num_classes, int in_h, int in_w);
/* One Keras Inception module (3a: 64, 96/128, 16/32, pool 32) on a 192-channel h x w map; with
 * naive set, the paper's module without 1x1 reductions (the 3x3 and 5x5 read all 192 channels). */
int tn_inception_build(struct tn_net *net, int naive, int h, int w);

/* torchvision's eval transform: Resize(resize) (shorter side, PIL bilinear), CenterCrop(crop),
 * ToTensor, Normalize(ImageNet mean, std); transform_input then maps to GoogLeNet's
 * (x - 0.5) / 0.5 as torchvision's googlenet does for its pretrained weights.
 * out: 3 x crop x crop floats. */
int tn_cls_preprocess(const struct tn_image *img, int resize, int crop, int transform_input, float *out);

/* A classifier opened from a .w file. */
struct tn_clsmodel {
	struct tn_wfile wf;
	struct tn_net net;
	enum tn_cls_arch arch;
	int num_classes, crop, resize, transform_input;
	char **class_names;
	double ms_preprocess, ms_network; /* the last predict's stages */
};

/* Opens the file and builds its network without checking or loading the tensors.  crop and
 * resize of 0 take the metadata's (input_height, resize; default 224, 256). */
int tn_clsmodel_describe(struct tn_clsmodel *m, const char *path, int crop, int resize);
/* Opens, checks every tensor, plans and loads. */
int tn_clsmodel_open(struct tn_clsmodel *m, const char *path, int crop, int resize);
void tn_clsmodel_close(struct tn_clsmodel *m);
/* Preprocesses and runs the network; logits gets num_classes floats. */
int tn_clsmodel_predict(struct tn_clsmodel *m, const struct tn_image *img, float *logits);

/* Softmax of n logits into prob (in double, so tiny probabilities keep their order). */
void tn_cls_softmax(const float *logits, int n, double *prob);
/* The k largest of n values, best first (lower index first on ties). */
void tn_cls_topk(const double *v, int n, int k, int *idx);

#endif
