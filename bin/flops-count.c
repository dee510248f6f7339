/* flops-count: parameters, multiply-accumulates and FLOPs of a model, in total or per layer. */
#include "cli/cli.h"
#include "cli/opts.h"
#include "core/error.h"
#include "io/file.h"
#include "io/wfile.h"
#include "models/classify.h"
#include "models/deeplab.h"
#include "models/registry.h"
#include "models/wmeta.h"
#include "models/yolo.h"
#include "net/flops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum format { FMT_TEXT, FMT_CSV, FMT_JSON };

struct opts {
	const char *model; /* .w file */
	const char *arch;  /* or a built-in architecture */
	const char *cfg;   /* yolov5 yaml */
	enum tn_backbone backbone;
	int downsample, downsample_given;
	int classes, classes_given; /* yolov5: replaces the yaml's nc */
	int naive; /* inception: without the 1x1 reductions */
	int size_h, size_w; /* 0: the model's */
	int size_square;    /* --size N rather than HxW (for detect.py's warning) */
	int quiet, nformats;
	int have_convention;
	struct tn_flops_opts fo;
	int per_layer;
	enum format format;
};

static void usage(void)
{
	printf("Usage: flops-count -m MODEL.w [--size HxW] [options]\n"
	       "       flops-count --arch yolov5 --cfg MODEL.yaml [-n CLASSES] [--size HxW] [options]\n"
	       "       flops-count --arch deeplabv3plus --backbone mobilenet|xception [--downsample 8|16]\n"
	       "                   [-n CLASSES] [--size HxW] [options]\n"
	       "       flops-count --arch googlenet|googlenet-keras|resnet50|mobilenet_v2 [-n CLASSES]\n"
	       "                   [--size N] [options]\n"
	       "       flops-count --arch inception [--naive] [--size HxW] [options]\n"
	       "Count parameters, multiply-accumulates (MACs) and FLOPs (2 x MACs).\n\n"
	       "  -m, --model FILE       a .w model (from weightconv)\n"
	       "      --arch NAME        a built-in architecture: yolov5, deeplabv3plus, googlenet\n"
	       "                         (torchvision, no aux heads), googlenet-keras (the TensorFlow tutorial's Keras\n"
	       "                         layout with both auxiliary classifiers), resnet50, mobilenet_v2,\n"
	       "                         or inception (the Keras Inception 3a module on a 192-channel map)\n"
	       "      --naive            inception: no 1x1 reductions before the 3x3 and 5x5 convs\n"
	       "      --cfg FILE         yolov5: the model yaml\n"
	       "      --backbone NAME    deeplabv3plus: mobilenet or xception (default mobilenet)\n"
	       "      --downsample N     deeplabv3plus: output stride 8 or 16 (default 16); EncNet's is\n"
	       "                         always 8\n"
	       "  -n, --num-classes N    classes (default: the yaml's nc for yolov5, 21 for deeplabv3plus,\n"
	       "                         1000 for classifiers); --classes and --nc are old spellings\n"
	       "      --size HxW         input size, height first, or N for NxN (default: the model's;\n"
	       "                         640 yolov5, 512 deeplabv3plus, 224 classifiers, 28 inception);\n"
	       "                         yolov5 rounds it up to a multiple of its largest stride (32),\n"
	       "                         as detect.py does, with its warning\n"
	       "      --convention NAME  what counts as a MAC: conv (convolutions only), thop (thop's\n"
	       "                         profile rules), ultralytics (the YOLOv5 README's GFLOPs)\n"
	       "                         (default: ultralytics for yolov5, conv otherwise)\n"
	       "      --bn MODE          unfolded (default: BatchNorm weight and bias are parameters,\n"
	       "                         and counted ops) or folded (into the conv bias, as a fused model)\n"
	       "      --per-layer        one row per layer (yolov5: model.<i>; otherwise per conv)\n"
	       "      --per-block        one row per top-level module (conv1, inception3a, layer1, ...)\n"
	       "      --csv              comma-separated values\n"
	       "      --json             a JSON object\n"
	       "  -q, --quiet            no warnings\n"
	       "  -h, --help             this help\n"
	       "      --version          versions of the toolkit and its libraries\n");
}

/* The row callbacks: each gets the options and the argument. */
static void set_arch(void *dest, const char *arg)
{
	if (strcmp(arg, "yolov5") && strcmp(arg, "deeplabv3plus") && strcmp(arg, "googlenet-keras") &&
	    strcmp(arg, "inception") && tn_cls_arch_parse(arg, &(enum tn_cls_arch){0}))
		cli_usage_error("--arch: '%s' is not yolov5, deeplabv3plus, googlenet, googlenet-keras, "
				"resnet50, mobilenet_v2 or inception", arg);
	((struct opts *)dest)->arch = arg;
}

static void set_backbone(void *dest, const char *arg)
{
	if (tn_backbone_parse(arg, &((struct opts *)dest)->backbone))
		cli_usage_error("--backbone: %s", tn_errmsg());
}

static void set_size(void *dest, const char *arg)
{
	struct opts *o = dest;
	o->size_square = cli_parse_size("--size", arg, 32, 4096, &o->size_h, &o->size_w);
}

static void set_convention(void *dest, const char *arg)
{
	struct opts *o = dest;
	if (tn_flops_convention_parse(arg, &o->fo.convention))
		cli_usage_error("--convention: %s", tn_errmsg());
	o->have_convention = 1;
}

static void set_per_block(void *dest, const char *arg)
{
	(void)arg;
	struct opts *o = dest;
	o->per_layer = o->fo.blocks = 1;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const char *const bn[] = {"unfolded", "folded", NULL}; /* fo.bn_folded */
	*o = (struct opts){.downsample = 16, .classes = 21, .backbone = TN_BACKBONE_MOBILENET};
	const struct cli_opt rows[] = {
		CLI_STRING("model", 'm', &o->model),
		CLI_CALL("arch", 0, o, set_arch, required_argument),
		CLI_STRING("cfg", 0, &o->cfg),
		{.name = "num-classes", .letter = 'n', .kind = CLI_OPT_INT, .dest = &o->classes, .min = 1, .max = 100000,
		 .given = &o->classes_given},
		CLI_OLD("nc", "num-classes"),
		CLI_OLD("classes", "num-classes"),
		CLI_CALL("backbone", 0, o, set_backbone, required_argument),
		{.name = "downsample", .kind = CLI_OPT_INT, .dest = &o->downsample, .min = 8, .max = 16,
		 .allowed = (const int[]){8, 16, 0}, .what = "8 or 16", .given = &o->downsample_given},
		CLI_CALL("size", 0, o, set_size, required_argument),
		CLI_CALL("convention", 0, o, set_convention, required_argument),
		CLI_CHOICE("bn", 0, &o->fo.bn_folded, bn, "folded or unfolded"),
		CLI_FLAG("per-layer", 0, &o->per_layer),
		CLI_CALL("per-block", 0, o, set_per_block, no_argument),
		CLI_FLAG("naive", 0, &o->naive),
		CLI_SET("csv", 0, &o->format, FMT_CSV, &o->nformats),
		CLI_SET("json", 0, &o->format, FMT_JSON, &o->nformats),
		CLI_END,
	};
	int first = cli_opts_parse(argc, argv, rows, usage, &o->quiet);
	if (first < argc)
		cli_usage_error("unexpected argument '%s'", argv[first]);
	if (!o->model == !o->arch)
		cli_usage_error("give a model (-m FILE) or an architecture (--arch NAME), not both");
	if (o->arch && !strcmp(o->arch, "yolov5") && !o->cfg)
		cli_usage_error("--arch yolov5 needs --cfg MODEL.yaml");
	if (o->cfg && !(o->arch && !strcmp(o->arch, "yolov5")))
		cli_usage_error("--cfg goes with --arch yolov5");
	if (o->model && o->classes_given)
		cli_usage_error("-n goes with --arch: a .w model has its own classes");
	if (o->downsample_given && !(o->arch && !strcmp(o->arch, "deeplabv3plus")))
		cli_usage_error("--downsample goes with --arch deeplabv3plus (a .w model has its own; EncNet's "
				"output stride is always 8)");
	if (o->nformats > 1)
		cli_usage_error("--csv and --json exclude each other");
	if (o->naive && !(o->arch && !strcmp(o->arch, "inception")))
		cli_usage_error("--naive goes with --arch inception");
}

/* The yaml with its nc replaced: a leading "nc:" wins over a later one (the builder reads
 * the first key); only a block-style document can take it. */
static char *yaml_with_nc(const char *text, int nc)
{
	const char *p = text;
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p == '{' || *p == '%' || !strncmp(p, "---", 3))
		cli_die("-n: %s is not a plain block-style yaml", "the config");
	size_t n = strlen(text) + 32;
	char *s = malloc(n);
	if (!s)
		cli_die("out of memory");
	snprintf(s, n, "nc: %d\n%s", nc, text);
	return s;
}

struct model {
	struct tn_net net;
	struct tn_wfile wf;
	char *yaml; /* yolov5 */
	char label[300];
	const char *arch;
};

/* detect.py's check_img_size: the size rounded up to a multiple of the model's largest stride,
 * with detect.py's warning; 1 when that changed it. */
static int round_to_stride(const struct opts *o, int s, int h, int w, int *rh, int *rw)
{
	*rh = (h + s - 1) / s * s;
	*rw = (w + s - 1) / s * s;
	if (*rh == h && *rw == w)
		return 0;
	if (!o->quiet && o->size_square)
		cli_warn("WARNING \u26a0\ufe0f --img-size %d must be multiple of max stride %d, updating to %d", h, s,
			 *rh);
	else if (!o->quiet)
		cli_warn("WARNING \u26a0\ufe0f --img-size [%d, %d] must be multiple of max stride %d, updating to "
			 "[%d, %d]", h, w, s, *rh, *rw);
	return 1;
}

static void build_yolo(struct model *m, const struct opts *o, const char *yaml, const char *name, int h, int w)
{
	struct tn_yolo_info info;
	if (tn_yolo_build(&m->net, yaml, name, NULL, NULL, h, w, &info))
		cli_fail();
	int rh, rw;
	if (round_to_stride(o, info.max_stride, h, w, &rh, &rw)) {
		tn_net_free(&m->net);
		if (tn_yolo_build(&m->net, yaml, name, NULL, NULL, rh, rw, &info))
			cli_fail();
	}
	if (tn_net_plan(&m->net))
		cli_die("%s: %s", name, tn_errmsg());
}

/* A .w through its family's builder, at --size when given; a size its family cannot take is
 * rounded as detect.py does. */
static void open_wfile(const struct opts *o, struct model *m)
{
	snprintf(m->label, sizeof m->label, "%s", o->model);
	if (tn_wfile_open(o->model, &m->wf))
		cli_fail();
	const char *arch;
	const struct tn_family *fam = tn_family_of(&m->wf, &arch);
	if (!fam)
		cli_die("%s: arch '%s' is not one this program counts (%s)", o->model, arch ? arch : "(none)",
			tn_family_list(-1));
	m->arch = fam->arch;
	if (fam->task == TN_TASK_CLASSIFY && o->size_h != o->size_w)
		cli_usage_error("--size: a classifier's input is square");
	struct tn_wmodel w;
	if (tn_wmeta_check_format(fam, &m->wf) || fam->build_from_w(fam, &m->wf, o->size_h, o->size_w, &w))
		cli_fail();
	int rh, rw;
	if (w.max_stride && round_to_stride(o, w.max_stride, w.in_h, w.in_w, &rh, &rw)) {
		tn_net_free(&w.net);
		if (fam->build_from_w(fam, &m->wf, rh, rw, &w))
			cli_fail();
	}
	m->net = w.net;
	if (w.yaml && !(m->yaml = strdup(w.yaml)))
		cli_die("out of memory");
	if (tn_wmeta_check_tensors(&m->net, &m->wf))
		cli_fail();
	if (tn_net_plan(&m->net))
		cli_die("%s: %s", o->model, tn_errmsg());
}

static void open_model(const struct opts *o, struct model *m)
{
	memset(m, 0, sizeof *m);
	if (o->arch && !strcmp(o->arch, "yolov5")) {
		uint8_t *buf;
		size_t len;
		if (tn_read_all(o->cfg, 4u << 20, &buf, &len))
			cli_fail();
		m->yaml = o->classes_given ? yaml_with_nc((const char *)buf, o->classes) : (char *)buf;
		if (o->classes_given)
			free(buf);
		m->arch = "yolov5";
		snprintf(m->label, sizeof m->label, "%s", o->cfg);
		build_yolo(m, o, m->yaml, o->cfg, o->size_h ? o->size_h : 640, o->size_w ? o->size_w : 640);
		return;
	}
	enum tn_cls_arch ca;
	int classes = o->classes_given ? o->classes : 1000;
	if (o->arch && !strcmp(o->arch, "googlenet-keras")) {
		m->arch = o->arch;
		snprintf(m->label, sizeof m->label, "GoogLeNet, Keras layout with auxiliary classifiers, %d classes", classes);
		if (o->size_h != o->size_w)
			cli_usage_error("--size: the Keras GoogLeNet takes a square input");
		if (tn_googlenet_keras_build(&m->net, classes, o->size_h ? o->size_h : 224, o->size_h ? o->size_h : 224) ||
		    tn_net_plan(&m->net))
			cli_fail();
		return;
	}
	if (o->arch && !strcmp(o->arch, "inception")) {
		m->arch = o->arch;
		snprintf(m->label, sizeof m->label, "Inception 3a%s on 192 channels", o->naive ? ", naive" : "");
		if (tn_inception_build(&m->net, o->naive, o->size_h ? o->size_h : 28, o->size_w ? o->size_w : 28) ||
		    tn_net_plan(&m->net))
			cli_fail();
		return;
	}
	if (o->arch && !tn_cls_arch_parse(o->arch, &ca)) {
		m->arch = tn_cls_arch_name(ca);
		snprintf(m->label, sizeof m->label, "%s (torchvision), %d classes", m->arch, classes);
		if (tn_cls_build(&m->net, ca, classes, o->size_h ? o->size_h : 224, o->size_w ? o->size_w : 224) ||
		    tn_net_plan(&m->net))
			cli_fail();
		return;
	}
	if (o->arch) {
		m->arch = "deeplabv3plus";
		snprintf(m->label, sizeof m->label, "deeplabv3plus %s df%d, %d classes", tn_backbone_name(o->backbone),
			 o->downsample, o->classes);
		if (tn_deeplab_build(&m->net, o->backbone, o->downsample, o->classes, o->size_h ? o->size_h : 512,
				     o->size_w ? o->size_w : 512) ||
		    tn_net_plan(&m->net))
			cli_fail();
		return;
	}
	open_wfile(o, m);
}

static void close_model(struct model *m)
{
	tn_net_free(&m->net);
	if (m->wf.map)
		tn_wfile_close(&m->wf);
	free(m->yaml);
}

/* --- output ------------------------------------------------------------------------------ */

static const char *convention_text(const struct tn_flops_opts *fo)
{
	switch (fo->convention) {
	case TN_FLOPS_THOP:
		return "thop 0.1.x profile rules (conv, BatchNorm 4/element, upsample 1/element)";
	case TN_FLOPS_ULTRALYTICS:
		return fo->probe ? "ultralytics README GFLOPs (conv + 1 per BatchNorm element, counted at the stride "
				   "and scaled)"
				 : "ultralytics README GFLOPs (conv + 1 per BatchNorm element)";
	default:
		return "convolution MACs only";
	}
}

static void print_text(const struct opts *o, const struct model *m, const struct tn_net *net,
		       const struct tn_flops *f)
{
	if (o->per_layer) {
		int wn = 5, wm = 6;
		for (int r = 0; r < f->n; r++) {
			int a = (int)strlen(f->rows[r].name), b = (int)strlen(f->rows[r].module);
			wn = a > wn ? a : wn;
			wm = b > wm ? b : wm;
		}
		printf("%-*s  %-*s  %16s  %12s  %16s  %18s\n", wn, "layer", wm, "module", "output", "params", "MACs",
		       "FLOPs");
		for (int r = 0; r < f->n; r++) {
			const struct tn_flops_row *x = &f->rows[r];
			char shape[48];
			snprintf(shape, sizeof shape, "%dx%dx%d", x->c, x->h, x->w);
			printf("%-*s  %-*s  %16s  %12lld  %16.0f  %18.0f\n", wn, x->name, wm, x->module, shape,
			       (long long)x->params, x->macs, 2 * x->macs);
		}
		printf("%-*s  %-*s  %16s  %12lld  %16.0f  %18.0f\n\n", wn, "total", wm, "", "", (long long)f->params,
		       f->macs, 2 * f->macs);
	}
	printf("model        %s (%s)\n", m->label, m->arch);
	printf("input        %dx%d\n", net->in_h, net->in_w);
	printf("convention   %s, BatchNorm %s\n", convention_text(&o->fo), o->fo.bn_folded ? "folded" : "unfolded");
	printf("parameters   %lld (%.2f M)\n", (long long)f->params, f->params / 1e6);
	printf("MACs         %.0f (%.2f G)\n", f->macs, f->macs / 1e9);
	printf("FLOPs        %.0f (%.1f G)\n", 2 * f->macs, 2 * f->macs / 1e9);
}

static void print_csv(const struct opts *o, const struct tn_flops *f)
{
	if (!o->per_layer) {
		printf("params,macs,flops\n%lld,%.0f,%.0f\n", (long long)f->params, f->macs, 2 * f->macs);
		return;
	}
	printf("layer,module,c,h,w,params,macs,flops\n");
	for (int r = 0; r < f->n; r++) {
		const struct tn_flops_row *x = &f->rows[r];
		printf("%s,%s,%d,%d,%d,%lld,%.0f,%.0f\n", x->name, x->module, x->c, x->h, x->w, (long long)x->params,
		       x->macs, 2 * x->macs);
	}
	printf("total,,,,,%lld,%.0f,%.0f\n", (long long)f->params, f->macs, 2 * f->macs);
}

static void print_json(const struct opts *o, const struct model *m, const struct tn_net *net,
		       const struct tn_flops *f)
{
	printf("{\"model\": ");
	cli_json_str(stdout, m->label);
	printf(", \"arch\": \"%s\", \"input\": [%d, %d], \"convention\": \"%s\", \"bn\": \"%s\",\n", m->arch, net->in_h,
	       net->in_w, tn_flops_convention_name(o->fo.convention), o->fo.bn_folded ? "folded" : "unfolded");
	printf(" \"params\": %lld, \"macs\": %.0f, \"flops\": %.0f, \"gflops\": %.1f", (long long)f->params, f->macs,
	       2 * f->macs, 2 * f->macs / 1e9);
	if (o->per_layer) {
		printf(",\n \"layers\": [");
		for (int r = 0; r < f->n; r++) {
			const struct tn_flops_row *x = &f->rows[r];
			printf("%s\n  {\"layer\": ", r ? "," : "");
			cli_json_str(stdout, x->name);
			printf(", \"module\": ");
			cli_json_str(stdout, x->module);
			printf(", \"shape\": [%d, %d, %d], \"params\": %lld, \"macs\": %.0f, \"flops\": %.0f}", x->c, x->h,
			       x->w, (long long)x->params, x->macs, 2 * x->macs);
		}
		printf("]");
	}
	printf("}\n");
}

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	struct opts o;
	parse_args(argc, argv, &o);
	struct model m;
	open_model(&o, &m);
	int yolo = !strcmp(m.arch, "yolov5");
	if (!o.have_convention)
		o.fo.convention = yolo ? TN_FLOPS_ULTRALYTICS : TN_FLOPS_CONV;
	/* model_info() profiles a max(stride, 32) square and scales to the size */
	if (yolo && o.fo.convention == TN_FLOPS_ULTRALYTICS)
		o.fo.probe = 32;
	struct tn_net *net = &m.net;
	struct tn_flops f;
	if (tn_flops_count(net, &o.fo, yolo ? m.yaml : NULL, &f))
		cli_die("%s: %s", m.label, tn_errmsg());
	if (o.format == FMT_CSV)
		print_csv(&o, &f);
	else if (o.format == FMT_JSON)
		print_json(&o, &m, net, &f);
	else
		print_text(&o, &m, net, &f);
	tn_flops_free(&f);
	close_model(&m);
	cli_close_stdout();
	return 0;
}
