#include "models/registry.h"

#include "models/classify.h"

#include <stdio.h>
#include <string.h>

#define COMMON_HEAD {"format_version", 0}, {"arch", 0}
#define COMMON_TAIL {"producer", 0}, {"source", 0}

static const struct tn_meta_key deeplab_keys[] = {
	COMMON_HEAD, {"backbone", 0}, {"downsample", 0}, {"num_classes", 0}, {"input_height", 0},
	{"input_width", 0}, {"letterbox_fill", 0}, {"normalize", 0}, COMMON_TAIL, {"class_names", 1}, {0, 0},
};
static const struct tn_meta_key encnet_keys[] = {
	COMMON_HEAD, {"backbone", 0}, {"num_classes", 0}, {"add_lateral", 0}, {"input_height", 0},
	{"input_width", 0}, {"normalize", 0}, COMMON_TAIL, {"class_names", 1}, {0, 0},
};
static const struct tn_meta_key yolo_keys[] = {
	COMMON_HEAD, {"yaml", 0}, {"num_classes", 0}, {"class_names", 0}, {"input_height", 0},
	{"input_width", 0}, {"letterbox_fill", 0}, {"normalize", 0}, COMMON_TAIL, {"module_attrs", 1}, {0, 0},
};
static const struct tn_meta_key cls_keys[] = {
	COMMON_HEAD, {"num_classes", 0}, {"input_height", 0}, {"input_width", 0}, {"resize", 0},
	{"transform_input", 0}, COMMON_TAIL, {"class_names", 0}, {0, 0},
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
	{"yolov5", TN_TASK_DETECT, TN_PREP_CV_LETTERBOX, "div255", yolo_keys, is_yolo},
	{"deeplabv3plus", TN_TASK_SEGMENT, TN_PREP_PIL_LETTERBOX, "div255", deeplab_keys, is_deeplab},
	{"encnet", TN_TASK_SEGMENT, TN_PREP_MMSEG_RESIZE, "imagenet", encnet_keys, is_encnet},
	{"googlenet", TN_TASK_CLASSIFY, TN_PREP_TV_CROP, "imagenet", cls_keys, is_googlenet},
	{"resnet50", TN_TASK_CLASSIFY, TN_PREP_TV_CROP, "imagenet", cls_keys, is_resnet50},
	{"mobilenet_v2", TN_TASK_CLASSIFY, TN_PREP_TV_CROP, "imagenet", cls_keys, is_mobilenet_v2},
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
