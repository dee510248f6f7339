/* weightconv: a PyTorch checkpoint -> a self-describing .w model file; --info and --check. */
#include "cli/cli.h"
#include "cli/opts.h"
#include "core/error.h"
#include "io/ckpt.h"
#include "io/file.h"
#include "io/wfile.h"
#include "models/classify.h"
#include "models/deeplab.h"
#include "models/encnet.h"
#include "models/registry.h"
#include "models/segmodel.h"
#include "models/yolo.h"
#include "net/net.h"

#include <math.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum mode { MODE_CONVERT, MODE_INFO, MODE_CHECK };

struct opts {
	enum mode mode;
	const char *arch;
	const char *backbone; /* NULL: inferred from the tensor names */
	int downsample;
	int num_classes;      /* 0: inferred from cls_conv.weight */
	int in_h, in_w;
	const char *names_file;
	const char *cfg;      /* yolov5: the yaml for a bare state_dict */
	int downsample_given;
	int size_given;
	int fp16;
	int quiet;
	int transform_input; /* googlenet: -1 = default (1, as torchvision's pretrained weights) */
	const char *output;
	const char *input;
};

static void usage(void)
{
	printf("Usage: weightconv [-a ARCH] [--backbone NAME] [--downsample 8|16] [-n CLASSES]\n"
	       "                  [--names FILE] [--size HxW] [--fp16] CHECKPOINT -o OUT.w\n"
	       "       weightconv [--cfg MODEL.yaml] [--names FILE] YOLOV5.pt -o OUT.w\n"
	       "       weightconv --info MODEL.w\n"
	       "       weightconv --check [-a ARCH ...] CHECKPOINT|MODEL.w\n"
	       "Convert a PyTorch checkpoint (torch.save zip) into a .w model file.\n\n"
	       "  -a, --arch ARCH        deeplabv3plus, yolov5, encnet (mmseg), or a classifier: googlenet,\n"
	       "                         resnet50, mobilenet_v2 (default: from the checkpoint's tensor names)\n"
	       "      --transform-input 0|1  googlenet: whether the model maps ImageNet-normalised input\n"
	       "                         to (x-0.5)/0.5 first, as torchvision's pretrained one (default 1)\n"
	       "      --cfg FILE         yolov5: the model yaml, for a checkpoint that is a bare state_dict\n"
	       "      --backbone NAME    deeplabv3plus: mobilenet or xception; encnet: resnet50 or\n"
	       "                         resnet101 (default: from the tensor names, which must agree)\n"
	       "      --downsample N     deeplabv3plus: backbone output stride, 8 or 16 (default 16);\n"
	       "                         refused for encnet, whose output stride is always 8\n"
	       "  -n, --num-classes N    classes (default: rows of cls_conv.weight)\n"
	       "      --names FILE       class names, one per line\n"
	       "      --size HxW         network input size, height first, or N for NxN (default\n"
	       "                         512x512; yolov5 640x640; classifiers 224x224, the crop)\n"
	       "      --fp16             store weights as float16 (half the size)\n"
	       "  -o, --output FILE      the .w file to write (- for standard output)\n"
	       "      --info             print a .w file's metadata and tensor table\n"
	       "      --check            check every tensor against the architecture\n"
	       "  -q, --quiet            no warnings or notes\n"
	       "  -h, --help             this help\n"
	       "      --version          versions of the toolkit and its libraries\n");
}

/* 0 for a DeepLabV3+ backbone name, 1 for an EncNet one, -1 for neither. */
static int backbone_family(const char *name)
{
	enum tn_backbone b;
	if (!strcmp(name, "resnet50") || !strcmp(name, "resnet101"))
		return 1;
	return tn_backbone_parse(name, &b) ? -1 : 0;
}

static _Noreturn void encnet_downsample_error(void)
{
	cli_usage_error("--downsample: EncNet's output stride is always 8 (a dilated ResNet): leave it out");
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.mode = MODE_CONVERT, .downsample = 16, .in_h = 512, .in_w = 512, .transform_input = -1};
	const struct cli_opt rows[] = {
		CLI_STRING("arch", 'a', &o->arch),
		CLI_STRING("backbone", 0, &o->backbone),
		{.name = "downsample", .kind = CLI_OPT_INT, .dest = &o->downsample, .min = 8, .max = 16,
		 .allowed = (const int[]){8, 16, 0}, .what = "must be 8 or 16", .given = &o->downsample_given},
		CLI_INT("num-classes", 'n', &o->num_classes, 1, 100000),
		CLI_STRING("names", 0, &o->names_file),
		{.name = "size", .kind = CLI_OPT_HXW, .dest = &o->in_h, .dest2 = &o->in_w, .min = 32, .max = 4096,
		 .given = &o->size_given},
		CLI_STRING("cfg", 0, &o->cfg),
		CLI_FLAG("fp16", 0, &o->fp16),
		CLI_INT("transform-input", 0, &o->transform_input, 0, 1),
		CLI_STRING("output", 'o', &o->output),
		CLI_SET("info", 0, &o->mode, MODE_INFO, NULL),
		CLI_SET("check", 0, &o->mode, MODE_CHECK, NULL),
		CLI_END,
	};
	int first = cli_opts_parse(argc, argv, rows, usage, &o->quiet);
	if (first != argc - 1)
		cli_usage_error(first >= argc ? "no input file" : "more than one input file");
	o->input = argv[first];
	if (o->arch && !tn_family_find(o->arch))
		cli_usage_error("--arch: unknown architecture '%s' (known: deeplabv3plus, encnet, yolov5, googlenet, "
				"resnet50, mobilenet_v2)", o->arch);
	if (o->backbone && backbone_family(o->backbone) < 0)
		cli_usage_error("--backbone: unknown backbone '%s' (deeplabv3plus: mobilenet, xception; encnet: "
				"resnet50, resnet101)", o->backbone);
	if (o->arch && o->backbone && (!strcmp(o->arch, "deeplabv3plus") || !strcmp(o->arch, "encnet")) &&
	    backbone_family(o->backbone) != !strcmp(o->arch, "encnet"))
		cli_usage_error("--backbone %s is not one of %s's (%s)", o->backbone, o->arch,
				!strcmp(o->arch, "encnet") ? "resnet50 or resnet101" : "mobilenet or xception");
	if (o->arch && (o->backbone || o->downsample_given) && strcmp(o->arch, "deeplabv3plus") && strcmp(o->arch, "encnet"))
		cli_usage_error("--%s goes with deeplabv3plus or encnet, not %s", o->backbone ? "backbone" : "downsample",
				o->arch);
	if (o->arch && o->downsample_given && !strcmp(o->arch, "encnet"))
		encnet_downsample_error();
	if (o->mode == MODE_CONVERT && !o->output)
		cli_usage_error("no output file: give -o OUT.w");
	if (o->mode != MODE_CONVERT && o->output)
		cli_usage_error("-o goes with a conversion, not --info or --check");
}

/* A .w, or anything that does not start as a torch.save file, is checked as a .w (whose reader
 * explains what it is not). */
static int is_wfile(const char *path)
{
	unsigned char head[9];
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return 0; /* let the checkpoint reader report it */
	size_t n = fread(head, 1, sizeof head, fp);
	long size = fseek(fp, 0, SEEK_END) == 0 ? ftell(fp) : -1;
	fclose(fp);
	return n >= 2 && (tn_wfile_sniff(head, n, size < 0 ? 0 : (uint64_t)size) || !tn_ckpt_sniff(head, n));
}

static void print_info(const char *path)
{
	struct tn_wfile wf;
	if (tn_wfile_open(path, &wf))
		cli_fail();
	printf("file: %s\n", path);
	for (size_t i = 0; i < wf.n_meta; i++)
		printf("%s: %s\n", wf.meta_keys[i], wf.meta_vals[i]);
	static const char *dtype_names[] = {"F32", "F16", "BF16"};
	size_t total = 0;
	printf("%-56s %-5s %s\n", "tensor", "dtype", "shape");
	for (size_t i = 0; i < wf.n; i++) {
		const struct tn_wtensor *t = &wf.t[i];
		char shape[128];
		size_t used = (size_t)snprintf(shape, sizeof shape, "[");
		for (int d = 0; d < t->ndim && used < sizeof shape; d++)
			used += (size_t)snprintf(shape + used, sizeof shape - used, "%s%lld", d ? ", " : "",
						 (long long)t->shape[d]);
		if (used < sizeof shape)
			snprintf(shape + used, sizeof shape - used, "]");
		printf("%-56s %-5s %s\n", t->name, t->dtype <= TN_DTYPE_BF16 ? dtype_names[t->dtype] : "?", shape);
		total += t->numel;
	}
	printf("%zu tensors, %zu values\n", wf.n, total);
	tn_wfile_close(&wf);
}

/* The backbone and class count a checkpoint implies, where the user did not say. */
static void infer_from_ckpt(const struct tn_ckpt *ck, struct opts *o, enum tn_backbone *bb)
{
	/* each backbone's first tensor that the other lacks */
	static const char *const sign[2] = {"backbone.features.0.0.weight", "backbone.block1.skip.weight"};
	int have = tn_ckpt_find(ck, sign[1]) ? TN_BACKBONE_XCEPTION
		   : tn_ckpt_find(ck, sign[0]) ? TN_BACKBONE_MOBILENET
					       : -1;
	if (o->backbone && backbone_family(o->backbone) != 0)
		cli_die("%s: --backbone %s is an EncNet backbone, but this is a DeepLabV3+ checkpoint: its "
			"backbones are mobilenet and xception", o->input, o->backbone);
	if (o->backbone) {
		tn_backbone_parse(o->backbone, bb);
		/* a wrong one would list every tensor as missing or unexpected */
		if (have >= 0 && (int)*bb != have)
			cli_die("%s: --backbone %s, but the checkpoint's backbone is %s (it has %s): the backbones are "
				"mobilenet and xception; leave --backbone out to take it from the checkpoint",
				o->input, o->backbone, tn_backbone_name((enum tn_backbone)have),
				sign[have == TN_BACKBONE_XCEPTION]);
	} else if (have >= 0) {
		*bb = (enum tn_backbone)have;
	} else {
		cli_die("%s: neither a MobileNetV2 nor an Xception DeepLabV3+ state_dict "
			"(no %s or %s); give --backbone", o->input, sign[0], sign[1]);
	}
	if (!o->num_classes) {
		const struct tn_ckpt_tensor *cls = tn_ckpt_find(ck, "cls_conv.weight");
		if (!cls || cls->ndim != 4 || cls->shape[0] < 1 || cls->shape[0] > 255)
			cli_die("%s: cannot tell the number of classes (no usable cls_conv.weight); give -n",
				o->input);
		o->num_classes = (int)cls->shape[0];
	}
}

static char *read_names_json(const char *path, int n)
{
	uint8_t *buf;
	size_t len;
	if (tn_read_all(path, 1 << 20, &buf, &len))
		cli_fail();
	json_t *arr = json_array();
	char *save = NULL;
	for (char *line = strtok_r((char *)buf, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save))
		if (*line)
			json_array_append_new(arr, json_string(line));
	free(buf);
	if (json_array_size(arr) != (size_t)n)
		cli_die("%s: %zu class names, but the model has %d classes", path, json_array_size(arr), n);
	char *s = json_dumps(arr, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(arr);
	if (!s)
		cli_die("%s: class names are not valid UTF-8", path);
	return s;
}

static int report_check(const struct tn_net *net, const struct tn_param_source *src, const char *what)
{
	char *report = NULL;
	int problems = tn_net_check(net, src, &report);
	size_t missing = 0;
	for (const char *l = report; l && (l = strstr(l, "missing tensor '")); l++)
		missing++;
	if (missing * 2 > net->n_params) {
		/* another architecture: one line, not a line per tensor */
		const char *first = strstr(report, "missing tensor '") + 16;
		cli_warn("%s: not the tensors of %s: %zu of its %zu are missing (the first: '%.*s'); check -a and "
			 "--backbone", src->label, what, missing, net->n_params, (int)strcspn(first, "'"), first);
	} else if (problems) {
		for (char *line = report; line && *line;) {
			char *nl = strchr(line, '\n');
			if (nl)
				*nl = 0;
			cli_warn("%s: %s", src->label, line);
			line = nl ? nl + 1 : NULL;
		}
		cli_warn("%s: %d problem%s against %s", src->label, problems, problems == 1 ? "" : "s",
			 "the architecture");
	}
	free(report);
	return problems;
}

static void check_wfile_classifier(const char *path)
{
	struct tn_clsmodel m;
	if (tn_clsmodel_describe(&m, path, 0, 0))
		cli_fail();
	struct tn_param_source src;
	tn_param_source_wfile(&src, &m.wf);
	if (report_check(&m.net, &src, tn_cls_arch_name(m.arch)))
		exit(1);
	printf("%s: ok: %s, %d classes, %zu tensors match\n", path, tn_cls_arch_name(m.arch), m.num_classes, m.wf.n);
	tn_clsmodel_close(&m);
}

static void check_wfile(const char *path)
{
	struct tn_wfile wf;
	if (tn_wfile_open(path, &wf))
		cli_fail();
	const char *arch;
	const struct tn_family *fam = tn_family_of(&wf, &arch);
	int classifier = fam && fam->task == TN_TASK_CLASSIFY;
	tn_wfile_close(&wf);
	if (classifier) {
		check_wfile_classifier(path);
		return;
	}
	struct tn_segmodel m;
	if (tn_segmodel_describe(&m, path))
		cli_fail();
	struct tn_param_source src;
	tn_param_source_wfile(&src, &m.wf);
	if (report_check(&m.net, &src, m.fam->arch))
		exit(1);
	if (m.encnet)
		printf("%s: ok: encnet resnet%d, %d classes, %zu tensors match\n", path, m.depth, m.num_classes,
		       m.wf.n);
	else
		printf("%s: ok: deeplabv3plus %s, downsample %d, %d classes, %zu tensors match\n", path,
		       tn_backbone_name(m.backbone), m.downsample, m.num_classes, m.wf.n);
	tn_segmodel_close(&m);
}

/* Every float tensor must be finite: a NaN in a checkpoint is a broken training run. */
static void check_finite(const struct tn_ckpt *ck, const struct tn_net *net, const char *path)
{
	for (size_t i = 0; i < net->n_params; i++) {
		const struct tn_ckpt_tensor *t = tn_ckpt_find(ck, net->params[i].name);
		if (!t->f32)
			cli_die("%s: tensor '%s' is not floating point", path, t->name);
		for (size_t k = 0; k < t->numel; k++)
			if (!isfinite(t->f32[k]))
				cli_die("%s: tensor '%s' holds %s at element %zu", path, t->name,
					isnan(t->f32[k]) ? "NaN" : "an infinity", k);
	}
}

/* A file's metadata values by key, written in the order its family's row lists the keys. */
struct meta {
	const struct tn_family *fam;
	const char *vals[32];
	char num[8][24];
	int n_num;
};

static void meta_set(struct meta *m, const char *key, const char *val)
{
	for (int i = 0; m->fam->keys[i].key; i++)
		if (!strcmp(m->fam->keys[i].key, key) && (m->fam->keys[i].flags & TN_META_WRITE)) {
			m->vals[i] = val;
			return;
		}
	cli_die("internal error: %s files have no metadata key '%s'", m->fam->arch, key);
}

static void meta_set_int(struct meta *m, const char *key, int v)
{
	char *s = m->num[m->n_num++];
	snprintf(s, sizeof m->num[0], "%d", v);
	meta_set(m, key, s);
}

/* The .w keeps the PyTorch names and the unfolded values; BatchNorm is folded at load. */
static void write_model(const struct opts *o, const struct tn_ckpt *ck, const struct tn_net *net,
			struct meta *m, enum tn_dtype store)
{
	char producer[64];
	snprintf(producer, sizeof producer, "weightconv %s", CNNKIT_VERSION);
	meta_set(m, "format_version", "1");
	meta_set(m, "arch", m->fam->arch);
	meta_set(m, "producer", producer);
	meta_set(m, "source", strrchr(o->input, '/') ? strrchr(o->input, '/') + 1 : o->input);
	const char *keys[32], *vals[32];
	size_t n_meta = 0;
	for (int i = 0; m->fam->keys[i].key; i++) {
		unsigned flags = m->fam->keys[i].flags;
		if (!(flags & TN_META_WRITE) || (!m->vals[i] && (flags & TN_META_OPTIONAL)))
			continue;
		if (!m->vals[i])
			cli_die("internal error: metadata key '%s' of %s not set", m->fam->keys[i].key, m->fam->arch);
		keys[n_meta] = m->fam->keys[i].key;
		vals[n_meta++] = m->vals[i];
	}
	struct tn_wwrite_tensor *wt = calloc(net->n_params, sizeof *wt);
	if (!wt)
		cli_die("out of memory");
	for (size_t i = 0; i < net->n_params; i++) {
		const struct tn_ckpt_tensor *t = tn_ckpt_find(ck, net->params[i].name);
		wt[i] = (struct tn_wwrite_tensor){t->name, t->ndim, t->shape, t->f32};
	}
	int rc = tn_wfile_write(o->output, wt, net->n_params, keys, vals, n_meta, store);
	free(wt);
	if (rc)
		cli_fail();
}

static void convert_deeplab(struct opts *o, struct tn_ckpt *ck, const struct tn_family *fam)
{
	enum tn_backbone bb;
	infer_from_ckpt(ck, o, &bb);
	struct tn_net net;
	if (tn_deeplab_build(&net, bb, o->downsample, o->num_classes, o->in_h, o->in_w))
		cli_fail();
	struct tn_param_source src;
	tn_param_source_ckpt(&src, ck, o->input);
	char what[64];
	snprintf(what, sizeof what, "deeplabv3plus %s", tn_backbone_name(bb));
	if (report_check(&net, &src, what))
		exit(1);
	check_finite(ck, &net, o->input);
	if (o->mode == MODE_CHECK) {
		printf("%s: ok: deeplabv3plus %s, %d classes, %zu tensors match (the downsample factor cannot be "
		       "checked: the weights are the same for 8 and 16)\n", o->input, tn_backbone_name(bb),
		       o->num_classes, net.n_params);
		tn_net_free(&net);
		return;
	}
	/* The weights are the same shape for 8 and 16: say which one the file will run with. */
	if (!o->downsample_given && !o->quiet)
		cli_warn("%s: no --downsample given: assuming 16, as upstream's default", o->input);
	struct meta m = {.fam = fam};
	char *names = o->names_file ? read_names_json(o->names_file, o->num_classes) : NULL;
	meta_set(&m, "backbone", tn_backbone_name(bb));
	meta_set_int(&m, "downsample", o->downsample);
	meta_set_int(&m, "num_classes", o->num_classes);
	meta_set_int(&m, "input_height", o->in_h);
	meta_set_int(&m, "input_width", o->in_w);
	meta_set(&m, "letterbox_fill", "128");
	meta_set(&m, "normalize", m.fam->normalize);
	meta_set(&m, "class_names", names);
	write_model(o, ck, &net, &m, o->fp16 ? TN_DTYPE_F16 : TN_DTYPE_F32);
	free(names);
	tn_net_free(&net);
}

/* Default class names "class0".. as a JSON array. */
static char *default_names(int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++) {
		char b[32];
		snprintf(b, sizeof b, "class%d", i);
		json_array_append_new(a, json_string(b));
	}
	char *s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

/* mmseg EncNet from an mmcv checkpoint; the FCN auxiliary_head (training only) is left out. */
static void convert_encnet(struct opts *o, struct tn_ckpt *ck, const struct tn_family *fam)
{
	if (o->downsample_given)
		encnet_downsample_error();
	struct tn_param_source src;
	tn_param_source_ckpt(&src, ck, o->input);
	struct tn_encnet_cfg cfg = {0, o->num_classes, 0};
	if (o->backbone && (cfg.depth = !strcmp(o->backbone, "resnet50") ? 50 : !strcmp(o->backbone, "resnet101") ? 101 : 0) == 0)
		cli_usage_error("--backbone: EncNet runs on resnet50 or resnet101, not '%s'", o->backbone);
	struct tn_net net;
	int se;
	if (tn_encnet_infer(&src, &cfg) || tn_encnet_build(&net, &cfg, o->in_h, o->in_w, &se))
		cli_fail();
	if (report_check(&net, &src, "encnet"))
		exit(1);
	check_finite(ck, &net, o->input);
	size_t aux = 0;
	for (size_t i = 0; i < ck->n; i++)
		aux += strncmp(ck->t[i].name, "auxiliary_head.", 15) == 0;
	if (o->mode == MODE_CHECK) {
		printf("%s: ok: encnet resnet%d, %d classes%s, %zu tensors match", o->input, cfg.depth,
		       cfg.num_classes, cfg.add_lateral ? ", lateral fusion" : "", net.n_params);
		if (aux)
			printf(" (%zu auxiliary_head tensors, training only, not used)", aux);
		putchar('\n');
		tn_net_free(&net);
		return;
	}
	if (aux && !o->quiet)
		cli_warn("%s: note: leaving out %zu auxiliary_head.* tensors (mmseg's FCN head, used only in training)",
			 o->input, aux);
	struct meta m = {.fam = fam};
	char backbone[16];
	snprintf(backbone, sizeof backbone, "resnet%d", cfg.depth);
	char *names = o->names_file ? read_names_json(o->names_file, cfg.num_classes) : NULL;
	meta_set(&m, "backbone", backbone);
	meta_set_int(&m, "num_classes", cfg.num_classes);
	meta_set(&m, "add_lateral", cfg.add_lateral ? "1" : "0");
	meta_set_int(&m, "input_height", o->in_h);
	meta_set_int(&m, "input_width", o->in_w);
	meta_set(&m, "normalize", m.fam->normalize);
	meta_set(&m, "class_names", names);
	write_model(o, ck, &net, &m, o->fp16 ? TN_DTYPE_F16 : TN_DTYPE_F32);
	free(names);
	tn_net_free(&net);
}

static void convert_yolo(struct opts *o, struct tn_ckpt *ck, const struct tn_family *fam)
{
	char *yaml = NULL;
	if (o->cfg) {
		uint8_t *buf;
		size_t len;
		if (tn_read_all(o->cfg, 4u << 20, &buf, &len))
			cli_fail();
		yaml = (char *)buf;
	} else if (ck->yaml_json) {
		yaml = strdup(ck->yaml_json);
	} else {
		cli_die("%s: a bare YOLOv5 state_dict: give the model's yaml with --cfg", o->input);
	}
	const char *yaml_name = o->cfg ? o->cfg : o->input;
	struct tn_param_source src;
	tn_param_source_ckpt(&src, ck, o->input);
	struct tn_net net;
	struct tn_yolo_info info;
	if (tn_yolo_build(&net, yaml, yaml_name, &src, ck->attrs_json, o->in_h, o->in_w, &info))
		cli_fail();
	if (o->num_classes && o->num_classes != info.nc)
		cli_die("%s: -n %d, but the model has %d classes", o->input, o->num_classes, info.nc);
	if (report_check(&net, &src, "yolov5 (its yaml)"))
		exit(1);
	check_finite(ck, &net, o->input);
	if (o->mode == MODE_CHECK) {
		printf("%s: ok: yolov5, %d classes, %d layers, %zu tensors match\n", o->input, info.nc, info.n_layers,
		       net.n_params);
		free(yaml);
		tn_net_free(&net);
		return;
	}
	char *names = NULL;
	if (o->names_file)
		names = read_names_json(o->names_file, info.nc);
	else if (ck->names_json) {
		json_t *a = json_loads(ck->names_json, 0, NULL);
		if (json_array_size(a) == (size_t)info.nc)
			names = strdup(ck->names_json);
		json_decref(a);
	}
	if (!names)
		names = default_names(info.nc);
	/* Real ultralytics weights are float16: keep them so, losslessly, unless told otherwise. */
	int all_half = 1;
	for (size_t i = 0; i < net.n_params; i++)
		all_half &= tn_ckpt_find(ck, net.params[i].name)->dtype == TN_DTYPE_F16;
	struct meta m = {.fam = fam};
	meta_set(&m, "yaml", yaml);
	meta_set_int(&m, "num_classes", info.nc);
	meta_set(&m, "class_names", names);
	meta_set_int(&m, "input_height", o->in_h);
	meta_set_int(&m, "input_width", o->in_w);
	meta_set(&m, "letterbox_fill", "114");
	meta_set(&m, "normalize", m.fam->normalize);
	meta_set(&m, "module_attrs", ck->attrs_json);
	write_model(o, ck, &net, &m, o->fp16 || all_half ? TN_DTYPE_F16 : TN_DTYPE_F32);
	free(names);
	free(yaml);
	tn_net_free(&net);
}

/* torchvision classifiers: the state_dict as it is; GoogLeNet's aux heads are left out. */
static void convert_classifier(struct opts *o, struct tn_ckpt *ck, const struct tn_family *fam)
{
	enum tn_cls_arch arch;
	if (tn_cls_arch_parse(fam->arch, &arch))
		cli_fail();
	const struct tn_ckpt_tensor *fc = tn_ckpt_find(ck, tn_cls_fc_weight(arch));
	if (!o->num_classes) {
		if (!fc || fc->ndim != 2 || fc->shape[0] < 1 || fc->shape[0] > 100000)
			cli_die("%s: cannot tell the number of classes (no usable %s); give -n", o->input,
				tn_cls_fc_weight(arch));
		o->num_classes = (int)fc->shape[0];
	}
	if (!o->size_given)
		o->in_h = o->in_w = 224;
	if (o->in_h != o->in_w)
		cli_die("--size %dx%d: a classifier's centre crop is square", o->in_h, o->in_w);
	struct tn_net net;
	if (tn_cls_build(&net, arch, o->num_classes, o->in_h, o->in_w))
		cli_fail();
	struct tn_param_source src;
	tn_param_source_ckpt(&src, ck, o->input);
	if (report_check(&net, &src, tn_cls_arch_name(arch)))
		exit(1);
	check_finite(ck, &net, o->input);
	if (o->mode == MODE_CHECK) {
		printf("%s: ok: %s, %d classes, %zu tensors match\n", o->input, tn_cls_arch_name(arch), o->num_classes,
		       net.n_params);
		tn_net_free(&net);
		return;
	}
	struct meta m = {.fam = fam};
	char *names = o->names_file ? read_names_json(o->names_file, o->num_classes) : default_names(o->num_classes);
	meta_set_int(&m, "num_classes", o->num_classes);
	meta_set_int(&m, "input_height", o->in_h);
	meta_set_int(&m, "input_width", o->in_h);
	meta_set_int(&m, "resize", (int)((long)o->in_h * 256 / 224));
	meta_set(&m, "transform_input", arch == TN_CLS_GOOGLENET && o->transform_input != 0 ? "1" : "0");
	meta_set(&m, "class_names", names);
	write_model(o, ck, &net, &m, o->fp16 ? TN_DTYPE_F16 : TN_DTYPE_F32);
	free(names);
	tn_net_free(&net);
}

/* The converter of each kind of registry row */
static void (*const convert[])(struct opts *, struct tn_ckpt *, const struct tn_family *) = {
	[TN_FAMILY_YOLOV5] = convert_yolo,
	[TN_FAMILY_DEEPLAB] = convert_deeplab,
	[TN_FAMILY_ENCNET] = convert_encnet,
	[TN_FAMILY_CLASSIFIER] = convert_classifier,
};
_Static_assert(sizeof convert / sizeof convert[0] == TN_FAMILY_COUNT, "a converter for every kind of family");

int main(int argc, char **argv)
{
	struct opts o;
	cli_init(argv[0]);
	parse_args(argc, argv, &o);
	if (o.mode == MODE_INFO) {
		print_info(o.input);
		cli_close_stdout();
		return 0;
	}
	if (o.mode == MODE_CHECK && is_wfile(o.input)) {
		check_wfile(o.input);
		cli_close_stdout();
		return 0;
	}
	struct tn_ckpt ck;
	if (tn_ckpt_load(o.input, &ck))
		cli_fail();
	/* a --cfg is a YOLOv5 model's; a checkpoint nothing recognises gets DeepLabV3+'s message */
	const struct tn_family *fam = o.arch ? tn_family_find(o.arch)
				      : o.cfg ? tn_family_find("yolov5")
					      : tn_family_recognise(&ck);
	if (!fam)
		fam = tn_family_find("deeplabv3plus");
	if (fam->task != TN_TASK_SEGMENT && (o.backbone || o.downsample_given))
		cli_usage_error("%s: --%s goes with deeplabv3plus or encnet, and this is a %s checkpoint", o.input,
				o.backbone ? "backbone" : "downsample", fam->arch);
	if (!o.size_given && fam->task != TN_TASK_CLASSIFY)
		o.in_h = o.in_w = fam->task == TN_TASK_DETECT ? 640 : 512;
	convert[fam->kind](&o, &ck, fam);
	tn_ckpt_free(&ck);
	if (o.mode == MODE_CHECK)
		cli_close_stdout();
	return 0;
}
