#include "models/registry.h"

#include "models/classify.h"

#include <stdio.h>
#include <string.h>

/* W: weightconv writes it, O: only when known, R: the reader reads it */
#define W TN_META_WRITE
#define O (TN_META_WRITE | TN_META_OPTIONAL)
#define R TN_META_READ
/* every reader checks format_version and normalize, and names the arch in the message */
#define COMMON_HEAD {"format_version", W | R}, {"arch", W | R}
#define COMMON_TAIL {"producer", W}, {"source", W}

static const struct tn_meta_key deeplab_keys[] = {
	COMMON_HEAD, {"backbone", W | R}, {"downsample", W | R}, {"num_classes", W | R}, {"input_height", W | R},
	{"input_width", W | R}, {"letterbox_fill", W | R}, {"normalize", W | R}, COMMON_TAIL, {"class_names", O | R},
	{0, 0},
};
static const struct tn_meta_key encnet_keys[] = {
	COMMON_HEAD, {"backbone", W | R}, {"num_classes", W | R}, {"add_lateral", W | R}, {"input_height", W | R},
	{"input_width", W | R}, {"normalize", W | R}, COMMON_TAIL, {"class_names", O | R}, {0, 0},
};
/* the classes are the yaml's nc, and the letterbox is always 114 */
static const struct tn_meta_key yolo_keys[] = {
	COMMON_HEAD, {"yaml", W | R}, {"num_classes", W}, {"class_names", W | R}, {"input_height", W | R},
	{"input_width", W | R}, {"letterbox_fill", W}, {"normalize", W | R}, COMMON_TAIL, {"module_attrs", O | R},
	{0, 0},
};
/* the crop is square (input_height); normalize is not written, but checked when present */
static const struct tn_meta_key cls_keys[] = {
	COMMON_HEAD, {"num_classes", W | R}, {"input_height", W | R}, {"input_width", W}, {"resize", W | R},
	{"transform_input", W | R}, COMMON_TAIL, {"class_names", W | R}, {"normalize", R}, {0, 0},
};

/* mmseg's EncHead has codewords no other family has */
static int is_encnet(const struct tn_ckpt *ck)
{
	return tn_ckpt_find(ck, "decode_head.enc_module.encoding.0.codewords") != NULL;
}

static int is_classifier(const struct tn_ckpt *ck, enum tn_cls_arch want)
{
	enum tn_cls_arch a;
	return !ck->yaml_json && !tn_cls_guess_arch(ck, &a) && a == want;
}
static int is_googlenet(const struct tn_ckpt *ck) { return is_classifier(ck, TN_CLS_GOOGLENET); }
static int is_resnet50(const struct tn_ckpt *ck) { return is_classifier(ck, TN_CLS_RESNET50); }
static int is_mobilenet_v2(const struct tn_ckpt *ck) { return is_classifier(ck, TN_CLS_MOBILENET_V2); }

/* A pickled ultralytics model carries its yaml; a bare state_dict has model.<i>... names and a
 * Detect anchors buffer. */
static int is_yolo(const struct tn_ckpt *ck)
{
	if (ck->yaml_json)
		return 1;
	for (size_t i = 0; i < ck->n; i++) {
		const char *nm = ck->t[i].name;
		size_t len = strlen(nm);
		if (strncmp(nm, "model.", 6) == 0 && len > 8 && strcmp(nm + len - 8, ".anchors") == 0)
			return 1;
	}
	return 0;
}

/* Either backbone's first tensor */
static int is_deeplab(const struct tn_ckpt *ck)
{
	return tn_ckpt_find(ck, "backbone.features.0.0.weight") || tn_ckpt_find(ck, "backbone.block1.skip.weight");
}

/* No two recognisers take the same checkpoint, so the order is the one the messages list. */
const struct tn_family tn_families[] = {
	{"yolov5", TN_TASK_DETECT, TN_PREP_CV_LETTERBOX, "div255", yolo_keys, is_yolo, tn_yolo_from_w,
	 TN_FAMILY_YOLOV5},
	{"deeplabv3plus", TN_TASK_SEGMENT, TN_PREP_PIL_LETTERBOX, "div255", deeplab_keys, is_deeplab,
	 tn_deeplab_from_w, TN_FAMILY_DEEPLAB},
	{"encnet", TN_TASK_SEGMENT, TN_PREP_MMSEG_RESIZE, "imagenet", encnet_keys, is_encnet, tn_encnet_from_w,
	 TN_FAMILY_ENCNET},
	{"googlenet", TN_TASK_CLASSIFY, TN_PREP_TV_CROP, "imagenet", cls_keys, is_googlenet, tn_cls_from_w,
	 TN_FAMILY_CLASSIFIER},
	{"resnet50", TN_TASK_CLASSIFY, TN_PREP_TV_CROP, "imagenet", cls_keys, is_resnet50, tn_cls_from_w,
	 TN_FAMILY_CLASSIFIER},
	{"mobilenet_v2", TN_TASK_CLASSIFY, TN_PREP_TV_CROP, "imagenet", cls_keys, is_mobilenet_v2, tn_cls_from_w,
	 TN_FAMILY_CLASSIFIER},
};
const int tn_n_families = (int)(sizeof tn_families / sizeof tn_families[0]);

const struct tn_family *tn_family_find(const char *arch)
{
	if (arch && !strcmp(arch, "mobilenetv2"))
		arch = "mobilenet_v2";
	for (int i = 0; arch && i < tn_n_families; i++)
		if (!strcmp(tn_families[i].arch, arch))
			return &tn_families[i];
	return NULL;
}

const struct tn_family *tn_family_of(const struct tn_wfile *wf, const char **arch)
{
	*arch = tn_wfile_meta(wf, "arch");
	return tn_family_find(*arch);
}

unsigned tn_family_key_flags(const struct tn_family *f, const char *key)
{
	for (const struct tn_meta_key *k = f->keys; k->key; k++)
		if (!strcmp(k->key, key))
			return k->flags;
	return 0;
}

const struct tn_family *tn_family_recognise(const struct tn_ckpt *ck)
{
	for (int i = 0; i < tn_n_families; i++)
		if (tn_families[i].recognise(ck))
			return &tn_families[i];
	return NULL;
}

const char *tn_family_list(int task)
{
	static char buf[256];
	size_t used = 0;
	buf[0] = 0;
	for (int i = 0; i < tn_n_families; i++)
		if ((task < 0 || (int)tn_families[i].task == task) && used < sizeof buf)
			used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", used ? ", " : "",
						 tn_families[i].arch);
	return buf;
}
