/* infer-classify: the top-k classes of images under a classifier .w, with torchvision's
 * preprocessing (resize 256, centre crop 224, ImageNet mean and std). */
#include "core/clock.h"
#include "cli/cli.h"
#include "core/error.h"
#include "core/threads.h"
#include "io/file.h"
#include "io/image.h"
#include "io/npy.h"
#include "models/classify.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct opts {
	const char *model;
	const char *output; /* NULL or "-" = stdout */
	const char *logits; /* .npy of the raw logits (one image) */
	const char *list;
	const char *names;
	const char *input;
	int k;
	int crop, resize; /* 0: the model's */
	int json;
	int timing;
	int threads;
	size_t max_pixels;
};

static _Noreturn void usage(void)
{
	printf("Usage: infer-classify -m MODEL.w [-k N] [--json] [-o OUT] [--logits OUT.npy] [FILE|-]\n"
	       "       infer-classify -m MODEL.w --list FILE [-k N] [--json] [-o OUT]\n"
	       "Classify JPEG or PNG images: the k most probable classes with their softmax\n"
	       "probabilities.  Text output: one line per class, 'CLASS PROB NAME', best first; with\n"
	       "--list each line starts with the image path and a tab.\n\n"
	       "  -m, --model FILE       the classifier .w (from weightconv -a googlenet|resnet50|mobilenet_v2)\n"
	       "  -k, --top N            classes per image (default 5)\n"
	       "      --json             JSON lines: one object per image\n"
	       "  -o, --output FILE      write the results to FILE (default: standard output)\n"
	       "      --logits FILE      also write the raw logits as .npy [classes] (one image)\n"
	       "      --list FILE        classify every image named in FILE (one path per line)\n"
	       "      --names FILE       class names, one per line (default: the model's)\n"
	       "      --size N           centre crop N x N (default: the model's, 224)\n"
	       "      --resize N         shorter side resized to N before the crop (default 256/224 of\n"
	       "                         the crop)\n"
	       "  -t, --threads N        threads (default: OMP_NUM_THREADS, else all cores)\n"
	       "      --max-pixels N     refuse images with more pixels (default 100000000)\n"
	       "      --time             print milliseconds per stage for each image on stderr\n"
	       "  -h, --help             this help\n"
	       "      --version          versions of the toolkit and its libraries\n");
	cli_close_stdout();
	exit(0);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_JSON = 256, OPT_LOGITS, OPT_LIST, OPT_NAMES, OPT_SIZE, OPT_RESIZE, OPT_MAXPIX, OPT_TIME, OPT_VERSION };
	static const struct option longopts[] = {
		{"model", required_argument, 0, 'm'},
		{"top", required_argument, 0, 'k'},
		{"json", no_argument, 0, OPT_JSON},
		{"output", required_argument, 0, 'o'},
		{"logits", required_argument, 0, OPT_LOGITS},
		{"list", required_argument, 0, OPT_LIST},
		{"names", required_argument, 0, OPT_NAMES},
		{"size", required_argument, 0, OPT_SIZE},
		{"resize", required_argument, 0, OPT_RESIZE},
		{"threads", required_argument, 0, 't'},
		{"max-pixels", required_argument, 0, OPT_MAXPIX},
		{"time", no_argument, 0, OPT_TIME},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, OPT_VERSION},
		{0, 0, 0, 0},
	};
	*o = (struct opts){.k = 5, .max_pixels = TN_IMAGE_MAX_PIXELS_DEFAULT};
	int c;
	while ((c = getopt_long(argc, argv, "m:k:o:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': o->model = optarg; break;
		case 'k': o->k = (int)cli_parse_long("--top", optarg, 1, 100000); break;
		case OPT_JSON: o->json = 1; break;
		case 'o': o->output = optarg; break;
		case OPT_LOGITS: o->logits = optarg; break;
		case OPT_LIST: o->list = optarg; break;
		case OPT_NAMES: o->names = optarg; break;
		case OPT_SIZE: o->crop = (int)cli_parse_long("--size", optarg, 32, 4096); break;
		case OPT_RESIZE: o->resize = (int)cli_parse_long("--resize", optarg, 32, 4096); break;
		case 't': o->threads = (int)cli_parse_long("--threads", optarg, 1, 1024); break;
		case OPT_MAXPIX:
			o->max_pixels = (size_t)cli_parse_long("--max-pixels", optarg, 1, 4000000000L);
			break;
		case OPT_TIME: o->timing = 1; break;
		case 'h': usage();
		case OPT_VERSION: cli_version();
		default: cli_usage_error("unknown option");
		}
	}
	if (!o->model)
		cli_usage_error("no model: give -m MODEL.w");
	if (o->list) {
		if (optind != argc || o->logits)
			cli_usage_error("--list takes no input file and no --logits");
	} else {
		if (optind < argc - 1)
			cli_usage_error("more than one input file (use --list for many)");
		o->input = optind < argc ? argv[optind] : "-";
		if (strcmp(o->input, "-") == 0 && isatty(STDIN_FILENO))
			cli_usage_error("no input: give an image file or pipe one in");
	}
	if (o->crop && o->resize && o->resize < o->crop)
		cli_usage_error("--resize %d is smaller than --size %d", o->resize, o->crop);
	if (o->logits && !strcmp(o->logits, "-") && (!o->output || !strcmp(o->output, "-")))
		cli_usage_error("only one output can go to standard output: give -o FILE for the classes");
}

struct run {
	struct tn_clsmodel m;
	const char **names; /* class names in use */
	float *logits;
	double *prob;
	int *top;
	int k;
};

/* Classifies one image and prints its lines; returns 0 or a library error. */
static int classify_one(struct run *r, const struct opts *o, const char *input, FILE *fp)
{
	const char *label = strcmp(input, "-") ? input : "standard input";
	struct tn_image img;
	double t0 = tn_now_ms();
	int rc = tn_image_read_rgb(input, o->max_pixels, &img);
	if (rc)
		return rc;
	double t1 = tn_now_ms();
	rc = tn_clsmodel_predict(&r->m, &img, r->logits);
	tn_image_free(&img);
	if (rc) {
		tn_fail_prefix(rc, label);
		return rc;
	}
	if (o->timing)
		fprintf(stderr, "%s: %s: decode %.1f ms, resize+crop %.1f ms, network %.1f ms, total %.1f ms\n",
			cli_prog(), label, t1 - t0, r->m.ms_preprocess, r->m.ms_network, tn_now_ms() - t0);
	int n = r->m.num_classes;
	tn_cls_softmax(r->logits, n, r->prob);
	tn_cls_topk(r->prob, n, r->k, r->top);
	if (o->json) {
		fputs("{\"image\": ", fp);
		cli_json_str(fp, input);
		fputs(", \"top\": [", fp);
		for (int i = 0; i < r->k; i++) {
			int c = r->top[i];
			fprintf(fp, "%s{\"class\": %d, \"name\": ", i ? ", " : "", c);
			cli_json_str(fp, r->names[c]);
			fprintf(fp, ", \"prob\": %.9g, \"logit\": %.9g}", r->prob[c], r->logits[c]);
		}
		fputs("]}\n", fp);
	} else {
		for (int i = 0; i < r->k; i++) {
			int c = r->top[i];
			if (o->list)
				fprintf(fp, "%s\t", input);
			fprintf(fp, "%d %.6f %s\n", c, r->prob[c], r->names[c]);
		}
	}
	if (o->logits) {
		int64_t shape[1] = {n};
		rc = tn_npy_write_f32(o->logits, r->logits, 1, shape);
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	cli_init(argv[0]);
	parse_args(argc, argv, &o);
	tn_threads_init(o.threads);
	struct run r = {0};
	if (tn_clsmodel_open(&r.m, o.model, o.crop, o.resize))
		cli_fail();
	int n = r.m.num_classes;
	unsigned char *names_text = NULL;
	const char **file_names = NULL;
	if (o.names) {
		int count;
		file_names = cli_read_names(o.names, 100000, &count, &names_text);
		if (count != n) {
			free(file_names);
			free(names_text);
			cli_die("%s: %d class names, but the model has %d classes", o.names, count, n);
		}
	}
	r.names = file_names ? file_names : (const char **)r.m.class_names;
	r.k = o.k < n ? o.k : n;
	r.logits = malloc(sizeof *r.logits * (size_t)n);
	r.prob = malloc(sizeof *r.prob * (size_t)n);
	r.top = malloc(sizeof *r.top * (size_t)r.k);
	if (!r.logits || !r.prob || !r.top)
		cli_die("out of memory");
	/* Results go to a temporary file renamed at the end: complete or absent. */
	struct tn_out out;
	if (tn_out_open(&out, o.output))
		cli_fail();
	int failed = 0;
	if (o.list) {
		uint8_t *buf;
		size_t len;
		if (tn_read_all(o.list, 64u << 20, &buf, &len)) {
			tn_out_abort(&out);
			cli_fail();
		}
		char *save = NULL;
		for (char *line = strtok_r((char *)buf, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
			if (!*line)
				continue;
			if (classify_one(&r, &o, line, out.fp)) {
				cli_warn("%s", tn_errmsg());
				failed++;
			}
		}
		free(buf);
	} else if (classify_one(&r, &o, o.input, out.fp)) {
		tn_out_abort(&out);
		cli_fail();
	}
	if (tn_out_commit(&out))
		cli_fail();
	free(r.logits);
	free(r.prob);
	free(r.top);
	free(file_names);
	free(names_text);
	tn_clsmodel_close(&r.m);
	cli_close_stdout();
	return failed ? 1 : 0;
}
