/* The model families: one row each says what a .w of that arch is and how it is run, so that
 * weightconv, the infer-* programs and flops-count ask one table instead of each keeping a list. */
#ifndef TN_REGISTRY_H
#define TN_REGISTRY_H

#include "io/ckpt.h"
#include "io/wfile.h"
#include "models/classify.h"
#include "models/deeplab.h"
#include "models/yolo.h"
#include "net/net.h"

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

/* Which family's code a row is: weightconv's converter is chosen by it (its table's length is
 * checked at compile time). */
enum tn_family_kind {
	TN_FAMILY_YOLOV5,
	TN_FAMILY_DEEPLAB,
	TN_FAMILY_ENCNET,
	TN_FAMILY_CLASSIFIER, /* torchvision's; the arch names which */
	TN_FAMILY_COUNT
};

/* A metadata key of a family's .w, in the order weightconv writes them */
enum {
	TN_META_WRITE = 1,    /* weightconv writes it */
	TN_META_OPTIONAL = 2, /* ... only when there is something to say (see cnn-w(5)) */
	TN_META_READ = 4,     /* the family's reader reads it (through tn_wmeta_*) */
};
struct tn_meta_key {
	const char *key;
	unsigned flags; /* TN_META_* */
};

/* What a family's builder makes of a .w's metadata: the network, not yet planned or loaded,
 * and what the task's pipeline needs.  The family-specific fields are 0 for the others. */
struct tn_wmodel {
	struct tn_net net;
	int num_classes, in_h, in_w;
	enum tn_backbone backbone; /* deeplabv3plus */
	int downsample, fill;
	int depth, add_lateral, se_node; /* encnet: ResNet depth, lateral fusion, the SE classifier */
	enum tn_cls_arch cls_arch;       /* classifiers: which; the crop is in_h */
	int resize, transform_input;
	struct tn_yolo_info yolo;        /* yolov5 */
	const char *yaml;                /* yolov5: the config, in the .w's metadata */
	int max_stride; /* > 0: input sides must be multiples of it (yolov5's largest stride) */
};

struct tn_family;
/* Reads the family's metadata from an open .w and builds its network for in_h x in_w (0: the
 * file's input size).  On failure nothing is left to free. */
typedef int tn_build_from_w(const struct tn_family *fam, const struct tn_wfile *wf, int in_h, int in_w,
			    struct tn_wmodel *out);

/* The rows' builders, each in its task's model file (segmodel.c, classify.c, detmodel.c). */
tn_build_from_w tn_yolo_from_w, tn_deeplab_from_w, tn_encnet_from_w, tn_cls_from_w;

struct tn_family {
	const char *arch; /* metadata 'arch' and weightconv -a */
	enum tn_task task;
	enum tn_prep prep;
	const char *normalize;          /* metadata 'normalize' the reader requires when present */
	const struct tn_meta_key *keys; /* terminated by a NULL key */
	/* 1 when a checkpoint's tensor names are this family's (weightconv without -a) */
	int (*recognise)(const struct tn_ckpt *ck);
	tn_build_from_w *build_from_w;
	enum tn_family_kind kind;
};

/* The rows: tn_n_families of them. */
extern const struct tn_family tn_families[];
extern const int tn_n_families;

/* The row of an arch ("mobilenetv2" is taken for mobilenet_v2), or NULL. */
const struct tn_family *tn_family_find(const char *arch);
/* The row of an open .w's 'arch' (*arch gets it, or NULL when absent), or NULL. */
const struct tn_family *tn_family_of(const struct tn_wfile *wf, const char **arch);
/* The flags of a key in the row, or 0 when it does not list it. */
unsigned tn_family_key_flags(const struct tn_family *f, const char *key);
/* The first row whose recogniser takes the checkpoint, or NULL. */
const struct tn_family *tn_family_recognise(const struct tn_ckpt *ck);
/* "yolov5, deeplabv3plus, ..." of one task, or of all when task < 0, in a static buffer. */
const char *tn_family_list(int task);

#endif
