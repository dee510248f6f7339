/* infer-seg: segment images with a .w model, as the upstream predict does. */
#include "cli/cli.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/threads.h"
#include "io/file.h"
#include "io/image.h"
#include "io/npy.h"
#include "models/segmodel.h"
#include "ops/resample.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct opts {
	const char *model;
	const char *output;  /* mask PNG; NULL or "-" = stdout */
	const char *overlay; /* blended JPEG */
	const char *logits;  /* .npy of the raw network output */
	const char *list;    /* file of image paths */
	const char *outdir;  /* with --list */
	const char *input;
	int threads;
	int quiet;
	int timing;
	int scene;           /* EncNet: print the class-presence probabilities */
	size_t max_pixels;
};

static _Noreturn void usage(void)
{
	printf("Usage: infer-seg -m MODEL.w [-o MASK.png] [--overlay OUT.jpg] [--logits OUT.npy]\n"
	       "                 [-t N] [FILE|-]\n"
	       "       infer-seg -m MODEL.w --list FILE -O DIR [--overlay DIR] [-t N]\n"
	       "Segment a JPEG or PNG image; write the class mask as a palette PNG.\n\n"
	       "  -m, --model FILE       the .w model (from weightconv)\n"
	       "  -o, --output FILE      mask PNG (default: standard output)\n"
	       "      --overlay FILE     also write the image blended with the mask colours (JPEG;\n"
	       "                         a folder with --list)\n"
	       "      --logits FILE      also write the raw network output as .npy [C,H,W]\n"
	       "      --scene            EncNet: print each class's presence probability (the SE\n"
	       "                         classifier) on standard output: index, probability, name;\n"
	       "                         the mask is then written only with -o\n"
	       "      --list FILE        segment every image named in FILE (one path per line)\n"
	       "  -O, --output-dir DIR   with --list: write DIR/NAME.png for each image\n"
	       "  -t, --threads N        threads (default: OMP_NUM_THREADS, else all cores)\n"
	       "      --max-pixels N     refuse images with more pixels (default 100000000)\n"
	       "      --time             print milliseconds per stage for each image on stderr\n"
	       "  -q, --quiet            no progress messages\n"
	       "  -h, --help             this help\n"
	       "      --version          versions of the toolkit and its libraries\n");
	cli_close_stdout();
	exit(0);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_OVERLAY = 256, OPT_LOGITS, OPT_LIST, OPT_MAXPIX, OPT_TIME, OPT_VERSION, OPT_SCENE };
	static const struct option longopts[] = {
		{"model", required_argument, 0, 'm'},
		{"output", required_argument, 0, 'o'},
		{"overlay", required_argument, 0, OPT_OVERLAY},
		{"logits", required_argument, 0, OPT_LOGITS},
		{"list", required_argument, 0, OPT_LIST},
		{"output-dir", required_argument, 0, 'O'},
		{"threads", required_argument, 0, 't'},
		{"max-pixels", required_argument, 0, OPT_MAXPIX},
		{"time", no_argument, 0, OPT_TIME},
		{"scene", no_argument, 0, OPT_SCENE},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, OPT_VERSION},
		{0, 0, 0, 0},
	};
	*o = (struct opts){.max_pixels = TN_IMAGE_MAX_PIXELS_DEFAULT};
	int c;
	while ((c = getopt_long(argc, argv, "m:o:O:t:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->model = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case OPT_OVERLAY:
			o->overlay = optarg;
			break;
		case OPT_LOGITS:
			o->logits = optarg;
			break;
		case OPT_LIST:
			o->list = optarg;
			break;
		case 'O':
			o->outdir = optarg;
			break;
		case 't':
			o->threads = (int)cli_parse_long("--threads", optarg, 1, 1024);
			break;
		case OPT_MAXPIX:
			o->max_pixels = (size_t)cli_parse_long("--max-pixels", optarg, 1, 4000000000L);
			break;
		case OPT_TIME:
			o->timing = 1;
			break;
		case OPT_SCENE:
			o->scene = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case 'h':
			usage();
		case OPT_VERSION:
			cli_version();
		default:
			cli_usage_error("unknown option");
		}
	}
	if (!o->model)
		cli_usage_error("no model: give -m MODEL.w");
	if (o->list) {
		if (!o->outdir)
			cli_usage_error("--list needs -O DIR for the masks");
		if (optind != argc || o->output || o->logits || o->scene)
			cli_usage_error("--list takes no input file, -o, --logits or --scene");
	} else {
		if (o->outdir)
			cli_usage_error("-O goes with --list");
		if (optind < argc - 1)
			cli_usage_error("more than one input file (use --list for many)");
		o->input = optind < argc ? argv[optind] : "-";
		if (strcmp(o->input, "-") == 0 && isatty(STDIN_FILENO))
			cli_usage_error("no input: give an image file or pipe one in");
	}
	int to_stdout = !o->list && (o->output ? strcmp(o->output, "-") == 0 : !o->scene);
	int extra_stdout = (o->overlay && strcmp(o->overlay, "-") == 0) + (o->logits && strcmp(o->logits, "-") == 0) +
			   o->scene;
	if (to_stdout + extra_stdout > 1)
		cli_usage_error("only one output can go to standard output: give -o FILE for the mask");
	if (to_stdout && isatty(STDOUT_FILENO))
		cli_usage_error("refusing to write a PNG to a terminal: redirect it or give -o FILE");
}

/* One line per class: index, presence probability, name. */
static void print_scene(const struct tn_segmodel *m)
{
	float p[256];
	tn_segmodel_scene(m, p);
	for (int k = 0; k < m->num_classes; k++)
		printf("%d %.6f %s\n", k, p[k], m->class_names[k]);
}

/* Writes the mask (and optional extras) for one image; returns 0 or a library error. */
static int segment_one(struct tn_segmodel *m, const struct opts *o, const char *input,
		       const char *mask_path, const char *overlay_path, const char *logits_path)
{
	struct tn_image img;
	double t0 = tn_now_ms();
	int rc = tn_image_read_rgb(input, o->max_pixels, &img);
	if (rc)
		return rc;
	uint8_t *mask = NULL, *png = NULL;
	float *logits = NULL;
	size_t png_len = 0;
	double t1 = tn_now_ms();
	rc = tn_segmodel_predict(m, &img, &mask, logits_path ? &logits : NULL);
	if (!rc)
		rc = tn_png_encode_indexed(mask, img.w, img.h, (const uint8_t(*)[3])m->palette, 256, &png,
					   &png_len);
	if (rc)
		tn_fail_prefix(rc, strcmp(input, "-") ? input : "standard input");
	if (!rc && logits_path) {
		int64_t shape[3] = {m->num_classes, m->logits_h, m->logits_w};
		rc = tn_npy_write_f32(logits_path, logits, 3, shape);
	}
	if (!rc && overlay_path) {
		struct tn_image colour = {img.w, img.h, 3, malloc((size_t)img.w * img.h * 3)};
		struct tn_image blend = {img.w, img.h, 3, malloc((size_t)img.w * img.h * 3)};
		if (!colour.px || !blend.px) {
			rc = tn_fail(TN_E_NOMEM, "out of memory for the overlay");
		} else {
			for (size_t i = 0; i < (size_t)img.w * img.h; i++)
				memcpy(colour.px + 3 * i, m->palette[mask[i]], 3);
			/* Upstream blends 70 % mask colour over 30 % photo. */
			tn_blend_pil(&img, &colour, 0.7f, &blend);
			uint8_t *jpg = NULL;
			size_t jpg_len = 0;
			rc = tn_jpeg_encode_rgb(&blend, 90, &jpg, &jpg_len);
			if (!rc)
				rc = tn_write_file(overlay_path, jpg, jpg_len);
			free(jpg);
		}
		free(colour.px);
		free(blend.px);
	}
	if (!rc && o->scene)
		print_scene(m);
	/* The mask goes last, so a failure above leaves no mask that looks complete. */
	if (!rc && mask_path)
		rc = tn_write_file(mask_path, png, png_len);
	if (!rc && o->timing)
		fprintf(stderr, "%s: %s: decode %.1f ms, letterbox %.1f ms, network %.1f ms, "
			"softmax+resize+argmax %.1f ms, total %.1f ms\n", cli_prog(), input, t1 - t0,
			m->ms_letterbox, m->ms_network, m->ms_post, tn_now_ms() - t0);
	free(png);
	free(mask);
	free(logits);
	tn_image_free(&img);
	return rc;
}

static char *join_output(const char *dir, const char *input, const char *ext)
{
	const char *base = strrchr(input, '/') ? strrchr(input, '/') + 1 : input;
	const char *dot = strrchr(base, '.');
	size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	size_t n = strlen(dir) + stem + strlen(ext) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%.*s%s", dir, (int)stem, base, ext);
	return p;
}

static int run_list(struct tn_segmodel *m, const struct opts *o)
{
	uint8_t *buf;
	size_t len;
	if (tn_read_all(o->list, 64u << 20, &buf, &len))
		cli_fail();
	int failed = 0, done = 0;
	char *save = NULL;
	/* Output names seen so far: two inputs named alike must not overwrite each other. */
	char **seen = NULL;
	size_t n_seen = 0;
	for (char *line = strtok_r((char *)buf, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		if (!*line)
			continue;
		char *mask = join_output(o->outdir, line, ".png");
		int dup = 0;
		for (size_t k = 0; mask && k < n_seen && !dup; k++)
			dup = strcmp(seen[k], mask) == 0;
		if (dup) {
			cli_warn("%s: skipped: its mask would overwrite %s from an earlier line", line, mask);
			free(mask);
			failed++;
			continue;
		}
		char **ns = realloc(seen, sizeof *seen * (n_seen + 1));
		if (!ns || !mask || !(ns[n_seen] = strdup(mask)))
			cli_die("out of memory");
		seen = ns;
		n_seen++;
		char *overlay = o->overlay ? join_output(o->overlay, line, ".jpg") : NULL;
		if (!mask || (o->overlay && !overlay))
			cli_die("out of memory");
		if (segment_one(m, o, line, mask, overlay, NULL)) {
			cli_warn("%s", tn_errmsg());
			failed++;
		}
		done++;
		free(mask);
		free(overlay);
	}
	free(buf);
	for (size_t k = 0; k < n_seen; k++)
		free(seen[k]);
	free(seen);
	if (!o->quiet && isatty(STDERR_FILENO))
		fprintf(stderr, "%s: %d images, %d failed\n", cli_prog(), done, failed);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	cli_init(argv[0]);
	parse_args(argc, argv, &o);
	tn_threads_init(o.threads);
	struct tn_segmodel m;
	if (tn_segmodel_open(&m, o.model))
		cli_fail();
	if (o.scene && !m.encnet)
		cli_die("%s: --scene needs an EncNet model (its SE classifier); this one is %s", o.model,
			"DeepLabV3+");
	int status;
	if (o.list) {
		status = run_list(&m, &o);
	} else {
		if (segment_one(&m, &o, o.input, o.output ? o.output : o.scene ? NULL : "-", o.overlay, o.logits))
			cli_fail();
		status = 0;
	}
	tn_segmodel_close(&m);
	cli_close_stdout();
	return status;
}
