/* infer-seg: segment images with a .w model, as the upstream predict does. */
#include "cli/cli.h"
#include "cli/inputs.h"
#include "cli/profile.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/threads.h"
#include "image/resample.h"
#include "io/file.h"
#include "io/image.h"
#include "io/npy.h"
#include "models/segmodel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct opts {
	const char *model;
	const char *output;  /* mask PNG; NULL or "-" = stdout */
	const char *overlay; /* blended picture; a folder for many images; "-" = stdout */
	const char *cutout;  /* the photo's non-background pixels on black; as overlay */
	int count;           /* print each class's pixels: 1 upstream's table, 2 JSON lines */
	const char *logits;  /* .npy of the raw network output */
	const char *outdir;  /* masks of many images */
	struct cli_inputs_spec inputs;
	double alpha;        /* the mask colours' weight in the overlay (checked as a double, as given) */
	int exif;            /* turn photos upright by their EXIF orientation */
	int threads;
	int quiet;
	int timing;
	int scene;           /* EncNet: print the class-presence probabilities */
	size_t max_pixels;
};

static void usage(void)
{
	printf("Usage: infer-seg -m MODEL.w [-o MASK.png] [--overlay OUT.jpg] [--logits OUT.npy]\n"
	       "                 [-t N] [FILE|-]\n"
	       "       infer-seg -m MODEL.w -O DIR [--overlay DIR] [-t N] FILE|DIR...\n"
	       "       infer-seg -m MODEL.w --list FILE [--images DIR [--ext EXT]] -O DIR [options]\n"
	       "Segment JPEG, PNG or PNM images; write each class mask as a palette PNG.  A folder\n"
	       "stands for its images sorted by name; standard input may carry one image or a stream\n"
	       "of frames (ffmpeg -f image2pipe), whose masks go out as a stream of PNGs.\n\n"
	       "  -m, --model FILE       the .w model (from weightconv)\n"
	       "  -o, --output FILE      mask PNG (default: standard output)\n"
	       "      --overlay FILE     also write the image blended with the mask colours (PNG if\n"
	       "                         FILE ends in .png, else JPEG; a folder for many images; - for\n"
	       "                         standard output, a JPEG stream for frames)\n"
	       "      --alpha A          the mask colours' weight in the overlay (default 0.7, upstream's)\n"
	       "      --cutout FILE      also write the photo's pixels of non-background classes on black\n"
	       "                         (predict.py's mix_type 2); PNG or JPEG by name, a folder or -\n"
	       "                         as --overlay\n"
	       "      --count[=FMT]      print each class's pixel count and share on standard output:\n"
	       "                         text (upstream's table, the default) or json (a line per image);\n"
	       "                         the masks then go only to -o or -O\n"
	       "      --logits FILE      also write the raw network output as .npy [C,H,W]\n"
	       "      --scene            EncNet: print each class's presence probability (the SE\n"
	       "                         classifier) on standard output: index, probability, name;\n"
	       "                         the mask is then written only with -o\n"
	       "      --exif             turn photos upright by their EXIF orientation first (the\n"
	       "                         upstream predict, with PIL, does not; infer-detect does)\n"
	       "      --list FILE        segment every image named in FILE (one per line; blank lines\n"
	       "                         and # comments skipped)\n"
	       "      --images DIR       with --list: entries are names, read as DIR/NAME.EXT\n"
	       "      --ext EXT          with --images: the extension (default jpg)\n"
	       "  -O, --output-dir DIR   masks of many images as DIR/NAME.png (created if missing)\n"
	       CLI_PROFILE_HELP
	       "  -t, --threads N        threads (default: OMP_NUM_THREADS, else all cores)\n"
	       "      --max-pixels N     refuse images with more pixels (default 100000000)\n"
	       "      --time             print milliseconds per stage for each image on stderr\n"
	       "  -q, --quiet            no progress messages\n"
	       "  -h, --help             this help\n"
	       "      --version          versions of the toolkit and its libraries\n");
}

static int is_stdout(const char *path)
{
	return path && !strcmp(path, "-");
}

/* --count[=text|json]: upstream's table (1) or JSON lines (2). */
static void set_count(void *dest, const char *arg)
{
	struct opts *o = dest;
	if (!arg || !strcmp(arg, "text"))
		o->count = 1;
	else if (!strcmp(arg, "json"))
		o->count = 2;
	else
		cli_usage_error("--count: '%s' is not text or json", arg);
}

static struct cli_profile profile; /* --profile */

static void parse_args(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.max_pixels = TN_IMAGE_MAX_PIXELS_DEFAULT, .alpha = 0.7};
	const struct cli_opt rows[] = {
		CLI_STRING("model", 'm', &o->model),
		CLI_STRING("output", 'o', &o->output),
		CLI_STRING("overlay", 0, &o->overlay),
		CLI_REAL("alpha", 0, &o->alpha, 0, 1),
		CLI_STRING("cutout", 0, &o->cutout),
		CLI_CALL("count", 0, o, set_count, optional_argument),
		CLI_STRING("logits", 0, &o->logits),
		CLI_INPUTS_ROWS(&o->inputs, &o->threads, &o->max_pixels),
		CLI_STRING("output-dir", 'O', &o->outdir),
		CLI_FLAG("exif", 0, &o->exif),
		CLI_FLAG("time", 0, &o->timing),
		CLI_PROFILE_ROW(&profile),
		CLI_FLAG("scene", 0, &o->scene),
		CLI_END,
	};
	cli_inputs_args(&o->inputs, o->model, argc, argv, cli_opts_parse(argc, argv, rows, usage, &o->quiet));
	if (o->outdir && o->output)
		cli_usage_error("-o and -O exclude each other");
}

/* One line per class: index, presence probability, name. */
static void print_scene(const struct tn_segmodel *m)
{
	float p[256];
	tn_segmodel_scene(m, p);
	for (int k = 0; k < m->num_classes; k++)
		printf("%d %.6f %s\n", k, p[k], m->class_names[k]);
}

/* Where one input's outputs go (NULL: not written). */
struct dest {
	char *mask, *overlay, *cutout;
	int overlay_png, cutout_png;
	const char *logits;
};

static int write_overlay(const struct tn_segmodel *m, const struct opts *o, const struct tn_image *img,
			 const uint8_t *mask, const struct dest *to)
{
	int rc;
	struct tn_image colour = {img->w, img->h, 3, malloc((size_t)img->w * img->h * 3)};
	struct tn_image blend = {img->w, img->h, 3, malloc((size_t)img->w * img->h * 3)};
	if (!colour.px || !blend.px) {
		rc = tn_fail(TN_E_NOMEM, "out of memory for the overlay");
	} else {
		for (size_t i = 0; i < (size_t)img->w * img->h; i++)
			memcpy(colour.px + 3 * i, m->palette[mask[i]], 3);
		/* Upstream blends 70 % mask colour over 30 % photo. */
		tn_blend_pil(img, &colour, o->alpha, &blend);
		rc = tn_picture_write(to->overlay, &blend, to->overlay_png);
	}
	free(colour.px);
	free(blend.px);
	return rc;
}

/* predict.py's count=True table, or a JSON line: the pixels of each class and their share. */
static void print_count(const struct tn_segmodel *m, const struct opts *o, const struct cli_input *it,
			enum cli_inputs_kind kind, const uint8_t *mask, const struct tn_image *img)
{
	static const char dashes[] = "---------------------------------------------------------------";
	uint64_t counts[256];
	size_t total = (size_t)img->w * img->h;
	tn_seg_count(mask, total, m->num_classes, counts);
	if (o->count == 2) {
		fputs("{\"image\": ", stdout);
		if (kind == CLI_INPUTS_STREAM)
			printf("%ld", it->frame);
		else
			cli_json_str(stdout, it->name);
		printf(", \"pixels\": %zu, \"classes\": [", total);
		for (int k = 0; k < m->num_classes; k++) {
			printf("%s{\"class\": %d, \"name\": ", k ? ", " : "", k);
			cli_json_str(stdout, m->class_names[k]);
			printf(", \"pixels\": %llu, \"percent\": %.4f}", (unsigned long long)counts[k],
			       100.0 * (double)counts[k] / (double)total);
		}
		fputs("]}\n", stdout);
		return;
	}
	if (kind != CLI_INPUTS_ONE)
		printf("%s\n", it->name);
	printf("%s\n|%25s | %15s | %15s|\n%s\n", dashes, "Key", "Value", "Ratio", dashes);
	for (int k = 0; k < m->num_classes; k++)
		if (counts[k])
			printf("|%25s | %15llu | %14.2f%%|\n%s\n", m->class_names[k], (unsigned long long)counts[k],
			       100.0 * (double)counts[k] / (double)total, dashes);
}

/* Writes the mask (and optional extras) for one image; returns 0 or a library error. */
static int segment_one(struct tn_segmodel *m, const struct opts *o, const struct cli_input *it,
		       enum cli_inputs_kind kind, const struct dest *to)
{
	struct tn_image img;
	double t0 = tn_now_ms(), decode_ms;
	int rc = cli_input_decode(it, o->max_pixels, o->exif, &img, &decode_ms);
	if (rc)
		return rc;
	uint8_t *mask = NULL, *png = NULL;
	float *logits = NULL;
	size_t png_len = 0;
	rc = tn_segmodel_predict(m, &img, &mask, to->logits ? &logits : NULL);
	if (!rc)
		cli_profile_image(&profile, decode_ms, m->ms_letterbox, m->ms_post);
	if (!rc)
		rc = tn_png_encode_indexed(mask, img.w, img.h, (const uint8_t(*)[3])m->palette, 256, &png,
					   &png_len);
	if (rc)
		tn_fail_prefix(rc, it->name);
	if (!rc && to->logits) {
		int64_t shape[3] = {m->num_classes, m->logits_h, m->logits_w};
		rc = tn_npy_write_f32(to->logits, logits, 3, shape);
	}
	if (!rc && to->overlay)
		rc = write_overlay(m, o, &img, mask, to);
	if (!rc && to->cutout) {
		struct tn_image cut;
		if (!(rc = tn_seg_cutout(&img, mask, &cut)))
			rc = tn_picture_write(to->cutout, &cut, to->cutout_png);
		tn_image_free(&cut);
	}
	if (!rc && o->count)
		print_count(m, o, it, kind, mask, &img);
	if (!rc && o->scene)
		print_scene(m);
	/* The mask goes last, so a failure above leaves no mask that looks complete. */
	if (!rc && to->mask)
		rc = tn_write_file(to->mask, png, png_len);
	if (!rc && o->timing)
		fprintf(stderr, "%s: %s: decode %.1f ms, letterbox %.1f ms, network %.1f ms, "
			"softmax+resize+argmax %.1f ms, total %.1f ms\n", cli_prog(), it->name, decode_ms,
			m->ms_letterbox, m->ms_network, m->ms_post, tn_now_ms() - t0);
	free(png);
	free(mask);
	free(logits);
	tn_image_free(&img);
	return rc;
}

/* The masks go to standard output when -o - says so, or by default when neither -o nor -O is
 * given and no picture or text (--overlay -, --cutout -, --scene, --count) takes it. */
static int masks_to_stdout(const struct opts *o)
{
	if (o->output)
		return is_stdout(o->output);
	return !o->outdir && !is_stdout(o->overlay) && !is_stdout(o->cutout) && !o->scene && !o->count;
}

/* Checks what the outputs can be for this kind of input, and makes their folders before any
 * work, so that a mistyped folder is not found after the whole data set has run. */
static void check_outputs(const struct opts *o, enum cli_inputs_kind kind)
{
	int one = kind == CLI_INPUTS_ONE;
	if (!one && (o->logits || o->scene))
		cli_usage_error("--logits and --scene take one image");
	if (!one && o->output && !is_stdout(o->output))
		cli_usage_error("-o FILE takes one image: give -O DIR for the masks");
	if (kind == CLI_INPUTS_MANY && !o->outdir && !o->count && !is_stdout(o->output))
		cli_usage_error("many images need -O DIR for the masks");
	if (kind == CLI_INPUTS_MANY && (is_stdout(o->overlay) || is_stdout(o->cutout)))
		cli_usage_error("many images need a folder for the overlays and cutouts, not -");
	int masks_stdout = masks_to_stdout(o);
	int to_stdout = masks_stdout + is_stdout(o->overlay) + is_stdout(o->cutout) + is_stdout(o->logits) +
			o->scene + !!o->count;
	if (to_stdout > 1)
		cli_usage_error("only one output can go to standard output: give -o FILE or -O DIR for the masks");
	if (masks_stdout && isatty(STDOUT_FILENO))
		cli_usage_error("refusing to write a PNG to a terminal: redirect it or give -o FILE");
	if (o->outdir && tn_mkdir_p(o->outdir))
		cli_fail();
	const char *folders[2] = {o->overlay, o->cutout};
	for (int i = 0; i < 2 && !one; i++)
		if (folders[i] && !is_stdout(folders[i]) && tn_mkdir_p(folders[i]))
			cli_fail();
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		cli_die("out of memory");
	return d;
}

static void plan_outputs(const struct opts *o, enum cli_inputs_kind kind, const struct cli_input *it,
			 struct dest *to)
{
	memset(to, 0, sizeof *to);
	if (o->outdir)
		to->mask = cli_path_join(o->outdir, it->stem, "png");
	else if (o->output && kind == CLI_INPUTS_ONE)
		to->mask = xstrdup(o->output);
	else if (masks_to_stdout(o))
		to->mask = xstrdup("-"); /* one PNG, or a stream of them */
	to->overlay = cli_picture_path(o->overlay, kind, it, &to->overlay_png);
	to->cutout = cli_picture_path(o->cutout, kind, it, &to->cutout_png);
	to->logits = o->logits;
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
	cli_profile_start(&profile, &m.net);
	if (o.scene && !m.encnet)
		cli_die("%s: --scene needs an EncNet model (its SE classifier); this one is %s", o.model,
			"DeepLabV3+");
	struct cli_inputs in;
	cli_inputs_open(&in, &o.inputs);
	check_outputs(&o, in.kind);
	int failed = 0, done = 0;
	struct cli_input it;
	for (int got; (got = cli_inputs_next(&in, &it)) != 0;) {
		if (got > 0) {
			struct dest to;
			plan_outputs(&o, in.kind, &it, &to);
			got = segment_one(&m, &o, &it, in.kind, &to);
			free(to.mask);
			free(to.overlay);
			free(to.cutout);
			done++;
		}
		if (!got)
			continue;
		if (in.kind == CLI_INPUTS_ONE)
			cli_fail();
		cli_warn("%s", tn_errmsg());
		failed++;
	}
	if (in.kind == CLI_INPUTS_MANY && !o.quiet && isatty(STDERR_FILENO))
		fprintf(stderr, "%s: %d images, %d failed\n", cli_prog(), done, failed);
	cli_inputs_close(&in);
	cli_profile_end(&profile);
	tn_segmodel_close(&m);
	cli_close_stdout();
	return failed ? 1 : 0;
}
