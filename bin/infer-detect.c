/* infer-detect: detect objects with a YOLOv5 .w model, as detect.py does. */
#include "cli/cli.h"
#include "cli/inputs.h"
#include "cli/profile.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/threads.h"
#include "data/valbatch.h"
#include "eval/coco.h"
#include "io/draw.h"
#include "io/file.h"
#include "io/image.h"
#include "io/npy.h"
#include "models/detmodel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum format { FMT_TEXT, FMT_JSONL, FMT_YOLO, FMT_COCO };

struct opts {
	const char *model;
	const char *output;  /* NULL or "-" = stdout */
	const char *outdir;  /* --format yolo: one DIR/NAME.txt per image */
	const char *raw;     /* .npy of the head output */
	const char *draw;    /* picture with the boxes (a folder for many inputs; "-" = stdout) */
	struct cli_inputs_spec inputs;
	enum format format;
	struct tn_nms_opts nms;
	int classes[1024];
	int save_conf;
	int no_round;
	int size_h, size_w;  /* 0: the model's */
	int line_thickness;  /* 0: from the image size */
	int hide_labels, hide_conf;
	int threads;
	int verbose;
	int quiet;
	size_t max_pixels;
	int val;             /* --val: val.py's settings and preprocessing */
	int batch_size;      /* --batch-size: val.py's rectangular batches */
	int conf_set, iou_set, maxdet_set;
};

static void usage(void)
{
	printf("Usage: infer-detect -m MODEL.w [options] [FILE|DIR|-]...\n"
	       "       infer-detect -m MODEL.w --list FILE [--images DIR [--ext EXT]] [options]\n"
	       "Detect objects in JPEG, PNG or PNM images with a YOLOv5 model, as detect.py does.\n"
	       "A folder stands for its images sorted by name; standard input may carry one image or\n"
	       "a stream of frames (ffmpeg -f image2pipe), numbered from 1.\n\n"
	       "  -m, --model FILE       the .w model (from weightconv)\n"
	       "  -o, --output FILE      where the detections go (default: standard output)\n"
	       "  -f, --format FMT       text (default: class conf x1 y1 x2 y2 name), jsonl (COCO fields\n"
	       "                         plus width and height), yolo (detect.py --save-txt), coco (one\n"
	       "                         JSON array of results); --json is -f jsonl\n"
	       "      --save-conf        yolo format: append the confidence, as detect.py --save-conf\n"
	       "      --conf X           confidence threshold (default 0.25; also --conf-thres)\n"
	       "      --iou X            NMS IoU threshold (default 0.45; also --iou-thres)\n"
	       "      --max-det N        at most N detections per image (default 1000)\n"
	       "      --classes LIST     keep only these class indices (0,16 or 0 16)\n"
	       "      --agnostic         class-agnostic NMS (also --agnostic-nms)\n"
	       "      --multi-label      a box may carry every class over the threshold\n"
	       "      --size N|HxW       inference size (default: the model's, 640; also --imgsz),\n"
	       "                         rounded up to a multiple of 32 as detect.py does\n"
	       "      --list FILE        detect in every image named in FILE (one per line; blank lines\n"
	       "                         and # comments skipped)\n"
	       "      --images DIR       with --list: entries are names, read as DIR/NAME.EXT\n"
	       "      --ext EXT          with --images: the extension (default jpg)\n"
	       "  -O, --output-dir DIR   with --format yolo: DIR/NAME.txt per image (created if missing)\n"
	       "      --draw FILE        also write the image with labelled boxes (PNG if FILE ends in\n"
	       "                         .png, else JPEG); a folder for many images; - for standard\n"
	       "                         output (a JPEG stream; the detections then need -o)\n"
	       "      --line-thickness N box lines N pixels wide (default: from the image size)\n"
	       "      --hide-labels      draw boxes without labels\n"
	       "      --hide-conf        draw labels without confidences\n"
	       "      --raw FILE         also write the decoded head output as .npy [rows, 5+classes]\n"
	       "      --no-round         keep sub-pixel box coordinates (detect.py rounds them)\n"
	       "      --val              as val.py: conf 0.001, IoU 0.6, max-det 300, multi-label, boxes\n"
	       "                         not rounded, its resize (INTER_AREA when shrinking) and\n"
	       "                         rectangular batch shapes; needs files or --list, not a stream\n"
	       "      --batch-size N     with --val: images per batch of the aspect-ratio-sorted list\n"
	       "                         (default 32), which sets each image's letterbox shape\n"
	       CLI_PROFILE_HELP
	       "  -t, --threads N        threads (default: OMP_NUM_THREADS, else all cores)\n"
	       "      --max-pixels N     refuse images with more pixels (default 100000000)\n"
	       "  -v, --verbose          print detect.py's line per image and its speed summary (also\n"
	       "                         --time)\n"
	       "  -q, --quiet            no warnings\n"
	       "  -h, --help             this help\n"
	       "      --version          versions of the toolkit and its libraries\n");
}

/* --classes 0,16: a row's callback, dest the options */
static void parse_classes(void *dest, const char *arg)
{
	struct opts *o = dest;
	char *copy = strdup(arg), *save = NULL;
	int n = 0;
	if (!copy)
		cli_die("out of memory");
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (n == 1024)
			cli_usage_error("--classes: at most 1024 classes");
		o->classes[n++] = (int)cli_parse_long("--classes", t, 0, 100000);
	}
	free(copy);
	if (!n)
		cli_usage_error("--classes: give class indices separated by commas");
	o->nms.classes = o->classes;
	o->nms.n_classes = n;
}

/* detect.py takes `--classes 0 16`: the numbers after --classes join its argument. */
static void join_class_args(int *argc, char **argv, char **joined)
{
	*joined = NULL;
	for (int i = 1; i + 1 < *argc; i++) {
		if (strcmp(argv[i], "--classes") != 0)
			continue;
		int j = i + 2;
		while (j < *argc && argv[j][0] >= '0' && argv[j][0] <= '9' && strspn(argv[j], "0123456789,") == strlen(argv[j]))
			j++;
		if (j == i + 2)
			return;
		size_t n = 0;
		for (int k = i + 1; k < j; k++)
			n += strlen(argv[k]) + 1;
		char *s = malloc(n + 1);
		if (!s)
			cli_die("out of memory");
		s[0] = 0;
		for (int k = i + 1; k < j; k++)
			strcat(strcat(s, k > i + 1 ? "," : ""), argv[k]);
		argv[i + 1] = *joined = s;
		memmove(argv + i + 2, argv + j, sizeof *argv * (size_t)(*argc - j + 1));
		*argc -= j - i - 2;
		return;
	}
}

/* --val: its checks, and val.py's settings where the user gave none. */
static void val_settings(struct opts *o)
{
	if (!o->inputs.list && (o->inputs.nfiles == 0 || (o->inputs.nfiles == 1 && !strcmp(o->inputs.files[0], "-"))))
		cli_usage_error("--val needs the whole list first: give --list or image files, not standard input");
	if (o->raw)
		cli_usage_error("--raw does not go with --val");
	if (o->size_h != o->size_w)
		cli_usage_error("--val takes one --size, as val.py's --imgsz");
	if (!o->conf_set)
		o->nms.conf_thres = 0.001f;
	if (!o->iou_set)
		o->nms.iou_thres = 0.6f;
	if (!o->maxdet_set)
		o->nms.max_det = 300;
	o->nms.multi_label = 1;
	o->no_round = 1;
	if (!o->batch_size)
		o->batch_size = 32;
}

static struct cli_profile profile; /* --profile */

static void parse_args(int argc, char **argv, struct opts *o)
{
	static const char *const formats[] = {"text", "jsonl", "yolo", "coco", NULL}; /* enum format */
	memset(o, 0, sizeof *o);
	o->max_pixels = TN_IMAGE_MAX_PIXELS_DEFAULT;
	tn_nms_opts_default(&o->nms);
	const struct cli_opt rows[] = {
		CLI_STRING("model", 'm', &o->model),
		CLI_STRING("output", 'o', &o->output),
		CLI_CHOICE("format", 'f', &o->format, formats, "text, jsonl, yolo or coco"),
		CLI_SET("json", 0, &o->format, FMT_JSONL, NULL),
		CLI_FLAG("save-conf", 0, &o->save_conf),
		CLI_REAL_GIVEN("conf", 0, &o->nms.conf_thres, 0, 1, &o->conf_set),
		CLI_ALIAS("conf-thres", "conf"),
		CLI_REAL_GIVEN("iou", 0, &o->nms.iou_thres, 0, 1, &o->iou_set),
		CLI_ALIAS("iou-thres", "iou"),
		CLI_INT_GIVEN("max-det", 0, &o->nms.max_det, 1, 100000, &o->maxdet_set),
		CLI_CALL("classes", 0, o, parse_classes, required_argument),
		CLI_FLAG("agnostic", 0, &o->nms.agnostic),
		CLI_ALIAS("agnostic-nms", "agnostic"),
		CLI_FLAG("multi-label", 0, &o->nms.multi_label),
		CLI_HXW("size", 0, &o->size_h, &o->size_w, 1, 4096),
		CLI_ALIAS("imgsz", "size"),
		CLI_ALIAS("img-size", "size"),
		CLI_INPUTS_ROWS(&o->inputs, &o->threads, &o->max_pixels),
		CLI_STRING("output-dir", 'O', &o->outdir),
		CLI_STRING("raw", 0, &o->raw),
		CLI_FLAG("no-round", 0, &o->no_round),
		CLI_STRING("draw", 0, &o->draw),
		CLI_INT("line-thickness", 0, &o->line_thickness, 1, 1000),
		CLI_FLAG("hide-labels", 0, &o->hide_labels),
		CLI_FLAG("hide-conf", 0, &o->hide_conf),
		CLI_FLAG("verbose", 'v', &o->verbose),
		CLI_ALIAS("time", "verbose"),
		CLI_PROFILE_ROW(&profile),
		CLI_FLAG("val", 0, &o->val),
		CLI_INT("batch-size", 0, &o->batch_size, 1, 1000000),
		CLI_END,
	};
	cli_inputs_args(&o->inputs, o->model, argc, argv, cli_opts_parse(argc, argv, rows, usage, &o->quiet));
	if (o->batch_size && !o->val)
		cli_usage_error("--batch-size goes with --val");
	if (o->val)
		val_settings(o);
	if (o->outdir && o->format != FMT_YOLO)
		cli_usage_error("-O goes with --format yolo");
	if (o->save_conf && o->format != FMT_YOLO)
		cli_usage_error("--save-conf goes with --format yolo");
	int draw_stdout = o->draw && !strcmp(o->draw, "-");
	int dets_stdout = !o->outdir && (o->output ? !strcmp(o->output, "-") : !draw_stdout);
	if (dets_stdout + draw_stdout + (o->raw && !strcmp(o->raw, "-")) > 1)
		cli_usage_error("only one output can go to standard output: give -o FILE");
}

/* What one run shares between images. */
struct run {
	struct tn_detmodel m;
	struct opts o;
	enum cli_inputs_kind kind;
	int coco91;         /* -f coco writes COCO's category ids: the model has COCO's 80 classes */
	FILE *fp;           /* the detections; NULL when only pictures are wanted */
	int first_coco;
	int done, total;    /* total: 0 when not known (a stream) */
	int *val_h, *val_w; /* --val: each input's letterbox shape, in input order */
	struct tn_val_shape vs; /* --val: the current image's load_image size and letterbox */
	double pre, inf, nms;
};

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* val.py's image id: int(stem) if stem.isnumeric() else stem, always valid JSON. */
static void write_image_id(FILE *fp, const char *stem)
{
	if (all_digits(stem) && strlen(stem) <= 18)
		fprintf(fp, "%llu", strtoull(stem, NULL, 10));
	else
		cli_json_str(fp, stem);
}

static void write_dets(FILE *fp, struct run *r, const struct cli_input *it, const struct tn_image *img,
		       const struct tn_det *d, int n)
{
	const struct opts *o = &r->o;
	switch (o->format) {
	case FMT_TEXT: /* tab-separated: paths and names such as "traffic light" stay one field */
		for (int i = 0; i < n; i++) {
			if (r->kind == CLI_INPUTS_MANY)
				fprintf(fp, "%s\t", it->path);
			else if (r->kind == CLI_INPUTS_STREAM)
				fprintf(fp, "%ld\t", it->frame);
			if (o->no_round)
				fprintf(fp, "%d\t%.5f\t%.3f\t%.3f\t%.3f\t%.3f\t%s\n", d[i].cls, d[i].conf, d[i].x1, d[i].y1,
					d[i].x2, d[i].y2, r->m.class_names[d[i].cls]);
			else
				fprintf(fp, "%d\t%.5f\t%.0f\t%.0f\t%.0f\t%.0f\t%s\n", d[i].cls, d[i].conf, d[i].x1, d[i].y1,
					d[i].x2, d[i].y2, r->m.class_names[d[i].cls]);
		}
		break;
	case FMT_JSONL:
	case FMT_COCO:
		for (int i = 0; i < n; i++) {
			int category = o->format == FMT_COCO && r->coco91 ? tn_coco80_to_91(d[i].cls) : d[i].cls;
			if (o->format == FMT_COCO)
				fputs(r->first_coco ? "[" : ",\n", fp);
			r->first_coco = 0;
			fputs("{\"image_id\": ", fp);
			write_image_id(fp, it->stem);
			if (o->val) /* every bit of the float32 values val.py scores: x2 = x + w, y2 = y + h
				     * exactly, then the shapes evaluate-map maps the labels through */
				fprintf(fp, ", \"category_id\": %d, \"bbox\": [%.9g, %.9g, %.17g, %.17g], \"score\": %.9g, "
					"\"letterbox\": [%d, %d, %d, %d]", category, d[i].x1, d[i].y1,
					(double)d[i].x2 - d[i].x1, (double)d[i].y2 - d[i].y1, d[i].conf, r->vs.w, r->vs.h,
					r->vs.lb_w, r->vs.lb_h);
			else
				fprintf(fp, ", \"category_id\": %d, \"bbox\": [%g, %g, %g, %g], \"score\": %.5f", category,
					d[i].x1, d[i].y1, d[i].x2 - d[i].x1, d[i].y2 - d[i].y1, d[i].conf);
			fprintf(fp, ", \"width\": %d, \"height\": %d}%s", img->w, img->h, o->format == FMT_JSONL ? "\n" : "");
		}
		break;
	case FMT_YOLO:
		/* detect.py --save-txt: lowest confidence first, float32 maths, %g. */
		for (int i = n - 1; i >= 0; i--) {
			float cx = (d[i].x1 + d[i].x2) / 2.0f, cy = (d[i].y1 + d[i].y2) / 2.0f;
			float w = d[i].x2 - d[i].x1, h = d[i].y2 - d[i].y1;
			fprintf(fp, "%d %g %g %g %g", d[i].cls, (double)(cx / (float)img->w), (double)(cy / (float)img->h),
				(double)(w / (float)img->w), (double)(h / (float)img->h));
			if (o->save_conf)
				fprintf(fp, " %g", (double)d[i].conf);
			fputc('\n', fp);
		}
		break;
	}
}

/* The picture: each box in its class's colour, a tab with the name and confidence above it, or
 * inside when there is no room above; labels are kept inside the picture. */
static int draw_picture(const struct run *r, const struct cli_input *it, const struct tn_image *img,
			const struct tn_det *d, int n)
{
	const struct tn_detmodel *m = &r->m;
	const struct opts *o = &r->o;
	uint8_t pal[256][3];
	int ncol = m->info.nc > 21 ? (m->info.nc < 255 ? m->info.nc : 255) : 22;
	tn_palette_for_classes(ncol, pal); /* hues around the circle */
	struct tn_image pic = {img->w, img->h, 3, malloc((size_t)img->w * img->h * 3)};
	if (!pic.px)
		return tn_fail(TN_E_NOMEM, "out of memory for the picture");
	memcpy(pic.px, img->px, (size_t)img->w * img->h * 3);
	int thick = o->line_thickness ? o->line_thickness : img->w > 800 ? img->w / 400 : 2;
	int scale = img->w >= 640 ? 2 : 1;
	static const uint8_t black[3] = {0, 0, 0}, white[3] = {255, 255, 255};
	for (int i = n - 1; i >= 0; i--) { /* the most confident drawn last, on top */
		const uint8_t *c = pal[(d[i].cls * 37) % ncol]; /* neighbouring classes far apart in hue */
		int x1 = (int)d[i].x1, y1 = (int)d[i].y1, x2 = (int)d[i].x2, y2 = (int)d[i].y2;
		tn_draw_rect(&pic, x1, y1, x2, y2, c, thick);
		if (o->hide_labels)
			continue;
		char label[160];
		if (o->hide_conf)
			snprintf(label, sizeof label, "%s", m->class_names[d[i].cls]);
		else
			snprintf(label, sizeof label, "%s %.2f", m->class_names[d[i].cls], d[i].conf);
		int tw = tn_draw_text_width(label, scale) + 2 * scale, th = 9 * scale;
		int tx, ty;
		tn_draw_label_origin(pic.w, pic.h, x1, y1, tw, th, &tx, &ty);
		tn_draw_fill(&pic, tx, ty, tx + tw - 1, ty + th - 1, c);
		int bright = c[0] * 299 + c[1] * 587 + c[2] * 114 > 128000;
		tn_draw_text(&pic, tx + 2 * scale, ty + scale, label, bright ? black : white, scale);
	}
	int png;
	char *path = cli_picture_path(o->draw, r->kind, it, &png);
	int rc = tn_picture_write(path, &pic, png);
	free(path);
	free(pic.px);
	return rc;
}

/* detect.py's line: "image i/n path: HxW 1 bicycle, 2 cars, 12.3ms" */
static void print_verbose(const struct run *r, const struct cli_input *it, const struct tn_det *d, int n)
{
	const struct tn_detmodel *m = &r->m;
	if (r->kind == CLI_INPUTS_STREAM)
		fprintf(stderr, "frame %ld: %dx%d ", it->frame, m->planned_h, m->planned_w);
	else
		fprintf(stderr, "image %d/%d %s: %dx%d ", r->done + 1, r->total, it->name, m->planned_h, m->planned_w);
	int shown = 0;
	for (int c = 0; c < m->info.nc; c++) {
		int k = 0;
		for (int i = 0; i < n; i++)
			k += d[i].cls == c;
		if (k)
			fprintf(stderr, "%s%d %s%s", shown++ ? ", " : "", k, m->class_names[c], k > 1 ? "s" : "");
	}
	fprintf(stderr, "%s%s%.1fms\n", shown ? "" : "(no detections)", ", ", m->ms_network);
}

/* Detects in one input; the detections go to r->fp or, with -O, to DIR/NAME.txt. */
static int detect_one(struct run *r, const struct cli_input *it)
{
	const struct opts *o = &r->o;
	struct tn_detmodel *m = &r->m;
	struct tn_image img;
	double t0 = tn_now_ms(), decode_ms;
	int rc = cli_input_decode(it, o->max_pixels, 1, &img, &decode_ms);
	if (rc)
		return rc;
	struct tn_det *d = NULL;
	float *raw = NULL;
	int n = 0, rows = 0;
	if (o->val)
		rc = tn_detmodel_detect_val(m, &img, m->in_h, r->val_h[r->done], r->val_w[r->done], &o->nms, &d, &n,
					    &r->vs);
	else
		rc = tn_detmodel_detect(m, &img, &o->nms, !o->no_round, &d, &n, o->raw ? &raw : NULL, &rows);
	if (rc) {
		tn_fail_prefix(rc, it->name);
	} else {
		cli_profile_image(&profile, decode_ms, m->ms_letterbox, m->ms_nms);
	}
	if (!rc && o->raw) {
		int64_t shape[2] = {rows, m->info.nc + 5};
		rc = tn_npy_write_f32(o->raw, raw, 2, shape);
	}
	if (!rc && o->draw)
		rc = draw_picture(r, it, &img, d, n);
	if (!rc && o->outdir) {
		char *path = cli_path_join(o->outdir, it->stem, "txt");
		struct tn_out out;
		if (!(rc = tn_out_open(&out, path))) {
			write_dets(out.fp, r, it, &img, d, n);
			rc = tn_out_commit(&out);
		}
		free(path);
	} else if (!rc && r->fp) {
		write_dets(r->fp, r, it, &img, d, n);
	}
	if (!rc && o->verbose) {
		print_verbose(r, it, d, n);
		r->pre += tn_now_ms() - t0 - m->ms_network - m->ms_nms;
		r->inf += m->ms_network;
		r->nms += m->ms_nms;
	}
	r->done++;
	free(d);
	free(raw);
	tn_image_free(&img);
	return rc;
}

/* The checks that need the inputs' kind, and the output folders made before any work. */
static void check_outputs(struct run *r)
{
	const struct opts *o = &r->o;
	if (r->kind != CLI_INPUTS_ONE) {
		if (o->raw)
			cli_usage_error("--raw takes one image, not %s", r->kind == CLI_INPUTS_STREAM ? "a stream" : "many");
		if (o->format == FMT_YOLO && !o->outdir)
			cli_usage_error("--format yolo with many images needs -O DIR for the label files");
		if (o->draw && strcmp(o->draw, "-") && tn_mkdir_p(o->draw))
			cli_fail();
	}
	if (o->outdir && tn_mkdir_p(o->outdir))
		cli_fail();
}

static int cmp_path(const void *a, const void *b, void *paths)
{
	char **p = paths;
	return strcmp(p[*(const size_t *)a], p[*(const size_t *)b]);
}

/* --val: every image is read once before any detection, to lay out val.py's batches: its
 * dataloader sorts the paths, takes each size as exif_size does (width and height swapped
 * for EXIF orientations 6 and 8 only, though imread also transposes 5 and 7), sorts by
 * aspect ratio and gives each batch one shape.  Any unreadable input stops the run here. */
static void val_plan(struct run *r)
{
	struct cli_inputs in;
	struct cli_input it;
	cli_inputs_open(&in, &r->o.inputs);
	if (in.kind == CLI_INPUTS_STREAM)
		cli_usage_error("--val needs image files, not a stream");
	size_t cap = in.n ? in.n : 1, n = 0;
	int *w = malloc(cap * sizeof *w), *h = malloc(cap * sizeof *h);
	char **paths = calloc(cap, sizeof *paths);
	size_t *order = malloc(cap * sizeof *order);
	int *sh = malloc(cap * sizeof *sh), *sw = malloc(cap * sizeof *sw);
	r->val_h = malloc(cap * sizeof *r->val_h);
	r->val_w = malloc(cap * sizeof *r->val_w);
	if (!w || !h || !paths || !order || !sh || !sw || !r->val_h || !r->val_w)
		cli_die("out of memory for %zu images", cap);
	for (int got; (got = cli_inputs_next(&in, &it)) != 0;) {
		struct tn_image img;
		if (got < 0 || tn_image_decode_rgb_upright(it.data, it.len, it.name, r->o.max_pixels, &img))
			cli_fail();
		if (n == cap || !strcmp(it.path, "-"))
			cli_usage_error("--val needs image files, not standard input");
		int orient = tn_jpeg_exif_orientation(it.data, it.len), t = orient == 5 || orient == 7;
		w[n] = t ? img.h : img.w;
		h[n] = t ? img.w : img.h;
		tn_image_free(&img);
		if (!(paths[n] = strdup(it.path)))
			cli_die("out of memory");
		order[n] = n;
		n++;
	}
	cli_inputs_close(&in);
	qsort_r(order, n, sizeof *order, cmp_path, paths);
	int *ws = malloc((n ? n : 1) * sizeof *ws), *hs = malloc((n ? n : 1) * sizeof *hs);
	if (!ws || !hs)
		cli_die("out of memory");
	for (size_t k = 0; k < n; k++) {
		ws[k] = w[order[k]];
		hs[k] = h[order[k]];
	}
	if (tn_val_batch_shapes(n, ws, hs, r->o.batch_size, r->m.in_h, r->m.info.max_stride, 0.5, sh, sw))
		cli_fail();
	for (size_t k = 0; k < n; k++) {
		r->val_h[order[k]] = sh[k];
		r->val_w[order[k]] = sw[k];
	}
	for (size_t k = 0; k < n; k++)
		free(paths[k]);
	free(paths);
	free(order);
	free(w);
	free(h);
	free(ws);
	free(hs);
	free(sh);
	free(sw);
}

int main(int argc, char **argv)
{
	static struct run r;
	char *joined;
	cli_init(argv[0]);
	join_class_args(&argc, argv, &joined);
	parse_args(argc, argv, &r.o);
	struct opts *o = &r.o;
	tn_threads_init(o->threads);
	if (tn_detmodel_open(&r.m, o->model))
		cli_fail();
	cli_profile_start(&profile, &r.m.net);
	if (o->size_h) {
		int h = tn_detmodel_round_size(&r.m, o->size_h), w = tn_detmodel_round_size(&r.m, o->size_w);
		if ((h != o->size_h || w != o->size_w) && !o->quiet) /* detect.py's check_img_size, word for word */
			cli_warn("WARNING ⚠️ --img-size [%d, %d] must be multiple of max stride %d, updating to [%d, %d]",
				 o->size_h, o->size_w, r.m.info.max_stride, h, w);
		r.m.in_h = h;
		r.m.in_w = w;
	}
	for (int i = 0; i < o->nms.n_classes; i++)
		if (o->classes[i] >= r.m.info.nc)
			cli_usage_error("--classes: %d, but the model has %d classes", o->classes[i], r.m.info.nc);
	r.coco91 = tn_names_are_coco80((const char *const *)r.m.class_names, r.m.info.nc);
	if (o->val)
		val_plan(&r);
	struct cli_inputs in;
	cli_inputs_open(&in, &o->inputs);
	r.kind = in.kind;
	r.total = in.kind == CLI_INPUTS_STREAM ? 0 : (int)(in.n ? in.n : 1);
	check_outputs(&r);
	/* Detections are written to a temporary file and renamed at the end: complete or absent. */
	struct tn_out out;
	int to_file = !o->outdir && !(o->draw && !strcmp(o->draw, "-") && !o->output);
	if (to_file && tn_out_open(&out, o->output))
		cli_fail();
	r.fp = to_file ? out.fp : NULL;
	r.first_coco = 1;
	int failed = 0;
	struct cli_input it;
	for (int got; (got = cli_inputs_next(&in, &it)) != 0;) {
		if (got > 0 && !(got = detect_one(&r, &it)))
			continue;
		if (in.kind == CLI_INPUTS_ONE || o->val) { /* --val: its plan holds only for the whole list */
			if (to_file)
				tn_out_abort(&out);
			cli_fail();
		}
		cli_warn("%s", tn_errmsg());
		failed++;
	}
	cli_profile_end(&profile);
	if (o->verbose && r.done)
		fprintf(stderr, "Speed: %.1fms pre-process, %.1fms inference, %.1fms NMS per image at shape "
			"(1, 3, %d, %d)\n", r.pre / r.done, r.inf / r.done, r.nms / r.done, r.m.planned_h, r.m.planned_w);
	if (to_file) {
		if (o->format == FMT_COCO)
			fputs(r.first_coco ? "[]\n" : "]\n", r.fp);
		if (tn_out_commit(&out))
			cli_fail();
	}
	cli_inputs_close(&in);
	free(r.val_h);
	free(r.val_w);
	tn_detmodel_close(&r.m);
	free(joined);
	cli_close_stdout();
	return failed ? 1 : 0;
}
