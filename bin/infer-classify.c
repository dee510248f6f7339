/* infer-classify: the top-k classes of images under a classifier .w, with torchvision's
 * preprocessing (resize 256, centre crop 224, ImageNet mean and std). */
#include "core/clock.h"
#include "cli/cli.h"
#include "cli/inputs.h"
#include "cli/profile.h"
#include "core/error.h"
#include "core/threads.h"
#include "io/file.h"
#include "io/image.h"
#include "io/npy.h"
#include "models/classify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct opts {
	const char *model;
	const char *output; /* NULL or "-" = stdout */
	const char *logits; /* .npy of the raw logits (one image) */
	struct cli_inputs_spec inputs;
	const char *names;
	int k;
	int crop, resize; /* 0: the model's */
	int json;
	int timing;
	int threads;
	size_t max_pixels;
};

static void usage(void)
{
	printf("Usage: infer-classify -m MODEL.w [-k N] [-f text|jsonl] [-o OUT] [--logits OUT.npy] [FILE|DIR|-]...\n"
	       "       infer-classify -m MODEL.w --list FILE [--images DIR [--ext EXT]] [options]\n"
	       "Classify JPEG, PNG or PNM images: the k most probable classes with their softmax\n"
	       "probabilities.  Text output: one line per class, best first, CLASS, PROB and NAME\n"
	       "separated by tabs; with many images each line starts with the image path and a tab\n"
	       "(with a stream of frames on standard input, the frame number).  A folder stands for\n"
	       "its images sorted by name.\n\n"
	       "  -m, --model FILE       the classifier .w (from weightconv -a googlenet|resnet50|mobilenet_v2)\n"
	       "  -k, --top N            classes per image (default 5)\n"
	       "  -f, --format FMT       text (default) or jsonl: one JSON object per image (also --json)\n"
	       "  -o, --output FILE      write the results to FILE (default: standard output)\n"
	       "      --logits FILE      also write the raw logits as .npy [classes] (one image)\n"
	       "      --list FILE        classify every image named in FILE (one per line; blank lines\n"
	       "                         and # comments skipped)\n"
	       "      --images DIR       with --list: entries are names, read as DIR/NAME.EXT\n"
	       "      --ext EXT          with --images: the extension (default jpg)\n"
	       "      --names FILE       class names, one per line (default: the model's)\n"
	       "      --size N           centre crop N x N (default: the model's, 224)\n"
	       "      --resize N         shorter side resized to N before the crop (default 256/224 of\n"
	       "                         the crop)\n"
	       CLI_PROFILE_HELP
	       "  -t, --threads N        threads (default: OMP_NUM_THREADS, else all cores)\n"
	       "      --max-pixels N     refuse images with more pixels (default 100000000)\n"
	       "      --time             print milliseconds per stage for each image on stderr\n"
	       "  -q, --quiet            accepted as in every cnnkit program (nothing to silence)\n"
	       "  -h, --help             this help\n"
	       "      --version          versions of the toolkit and its libraries\n");
}

/* -f text|jsonl (json too): a row's callback, dest the options */
static void set_format(void *dest, const char *arg)
{
	if (strcmp(arg, "text") && strcmp(arg, "jsonl") && strcmp(arg, "json"))
		cli_usage_error("--format: '%s' is not text or jsonl", arg);
	((struct opts *)dest)->json = strcmp(arg, "text") != 0;
}

static struct cli_profile profile; /* --profile */

static void parse_args(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.k = 5, .max_pixels = TN_IMAGE_MAX_PIXELS_DEFAULT};
	const struct cli_opt rows[] = {
		CLI_STRING("model", 'm', &o->model),
		CLI_INT("top", 'k', &o->k, 1, 100000),
		CLI_FLAG("json", 0, &o->json),
		CLI_CALL("format", 'f', o, set_format, required_argument),
		CLI_STRING("output", 'o', &o->output),
		CLI_STRING("logits", 0, &o->logits),
		CLI_INPUTS_ROWS(&o->inputs, &o->threads, &o->max_pixels),
		CLI_STRING("names", 0, &o->names),
		CLI_INT("size", 0, &o->crop, 32, 4096),
		CLI_INT("resize", 0, &o->resize, 32, 4096),
		CLI_FLAG("time", 0, &o->timing),
		CLI_PROFILE_ROW(&profile),
		CLI_END,
	};
	/* no quiet field: nothing chatty to silence, -q is taken as every program takes it */
	cli_inputs_args(&o->inputs, o->model, argc, argv, cli_opts_parse(argc, argv, rows, usage, NULL));
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
	enum cli_inputs_kind kind;
};

/* Classifies one image and prints its lines; returns 0 or a library error. */
static int classify_one(struct run *r, const struct opts *o, const struct cli_input *it, FILE *fp)
{
	const char *label = it->name;
	struct tn_image img;
	double t0 = tn_now_ms(), decode_ms;
	int rc = cli_input_decode(it, o->max_pixels, 0, &img, &decode_ms);
	if (rc)
		return rc;
	rc = tn_clsmodel_predict(&r->m, &img, r->logits);
	tn_image_free(&img);
	if (!rc) /* softmax and top-k: too short to show */
		cli_profile_image(&profile, decode_ms, r->m.ms_preprocess, 0);
	if (rc) {
		tn_fail_prefix(rc, label);
		return rc;
	}
	if (o->timing)
		fprintf(stderr, "%s: %s: decode %.1f ms, resize+crop %.1f ms, network %.1f ms, total %.1f ms\n",
			cli_prog(), label, decode_ms, r->m.ms_preprocess, r->m.ms_network, tn_now_ms() - t0);
	int n = r->m.num_classes;
	tn_cls_softmax(r->logits, n, r->prob);
	tn_cls_topk(r->prob, n, r->k, r->top);
	if (o->json) {
		fputs("{\"image\": ", fp);
		if (r->kind == CLI_INPUTS_STREAM)
			fprintf(fp, "%ld", it->frame);
		else
			cli_json_str(fp, it->path);
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
			if (r->kind == CLI_INPUTS_MANY)
				fprintf(fp, "%s\t", it->path);
			else if (r->kind == CLI_INPUTS_STREAM)
				fprintf(fp, "%ld\t", it->frame);
			fprintf(fp, "%d\t%.6f\t%s\n", c, r->prob[c], r->names[c]);
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
	cli_profile_start(&profile, &r.m.net);
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
	struct cli_inputs in;
	cli_inputs_open(&in, &o.inputs);
	r.kind = in.kind;
	if (in.kind != CLI_INPUTS_ONE && o.logits)
		cli_usage_error("--logits takes one image");
	/* Results go to a temporary file renamed at the end: complete or absent. */
	struct tn_out out;
	if (tn_out_open(&out, o.output))
		cli_fail();
	int failed = 0;
	struct cli_input it;
	for (int got; (got = cli_inputs_next(&in, &it)) != 0;) {
		if (got > 0 && !(got = classify_one(&r, &o, &it, out.fp)))
			continue;
		if (in.kind == CLI_INPUTS_ONE) {
			tn_out_abort(&out);
			cli_fail();
		}
		cli_warn("%s", tn_errmsg());
		failed++;
	}
	cli_inputs_close(&in);
	cli_profile_end(&profile);
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
