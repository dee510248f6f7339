/* The model families: one row each says what a .w of that arch is and how it is run, so that
 * weightconv, the infer-* programs and flops-count ask one table instead of each keeping a list. */
#ifndef TN_REGISTRY_H
#define TN_REGISTRY_H

#include "io/ckpt.h"

enum tn_task {
	TN_TASK_SEGMENT,  /* infer-seg: a class per pixel */
	TN_TASK_DETECT,   /* infer-detect: boxes */
	TN_TASK_CLASSIFY, /* infer-classify: a class per image */
};

/* How an image becomes the network's input (pre-processing) */
enum tn_prep {
	TN_PREP_PIL_LETTERBOX, /* bubbliiiing's: PIL bicubic into a grey (128) letterbox, x/255 */
	TN_PREP_MMSEG_RESIZE,  /* mmseg's: keep-ratio resize, ImageNet mean/std */
	TN_PREP_CV_LETTERBOX,  /* ultralytics': cv2 INTER_LINEAR into a 114 letterbox, x/255 */
	TN_PREP_TV_CROP,       /* torchvision's: Resize(256), CenterCrop(224), ImageNet mean/std */
};

/* A metadata key a family's .w carries, in the order weightconv writes them */
struct tn_meta_key {
	const char *key;
	int optional; /* written only when there is something to say (see cnn-w(5)) */
};

struct tn_family {
	const char *arch; /* metadata 'arch' and weightconv -a */
	enum tn_task task;
	enum tn_prep prep;
	const char *normalize;          /* metadata 'normalize' the reader requires when present */
	const struct tn_meta_key *keys; /* terminated by a NULL key */
	/* 1 when a checkpoint's tensor names are this family's (weightconv without -a) */
	int (*recognise)(const struct tn_ckpt *ck);
};

/* The rows: tn_n_families of them. */
extern const struct tn_family tn_families[];
extern const int tn_n_families;

/* The row of an arch ("mobilenetv2" is taken for mobilenet_v2), or NULL. */
const struct tn_family *tn_family_find(const char *arch);
/* The first row whose recogniser takes the checkpoint, or NULL. */
const struct tn_family *tn_family_recognise(const struct tn_ckpt *ck);
/* "yolov5, deeplabv3plus, ..." of one task, or of all when task < 0, in a static buffer. */
const char *tn_family_list(int task);

#endif
