/* infer-detect: detect objects with a YOLOv5 .w model, as detect.py does. */
#include "cli/cli.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/threads.h"
#include "io/draw.h"
#include "io/file.h"
#include "io/image.h"
#include "io/npy.h"
#include "models/detmodel.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum format { FMT_TEXT, FMT_JSONL, FMT_YOLO, FMT_COCO };

struct opts {
	const char *model;
	const char *output;  /* NULL or "-" = stdout */
	const char *list;
	const char *outdir;  /* --format yolo with --list: one .txt per image */
	const char *raw;     /* .npy of the head output */
	const char *draw;    /* picture with the boxes (a folder with --list) */
	const char *input;
	enum format format;
	struct tn_nms_opts nms;
	int classes[1024];
	int save_conf;
	int no_round;
	int size_h, size_w;  /* 0: the model's */
	int threads;
	int verbose;
	size_t max_pixels;
};

static _Noreturn void usage(void)
{
	printf("Usage: infer-detect -m MODEL.w [options] [FILE|-]\n"
	       "       infer-detect -m MODEL.w --list FILE [options]\n"
	       "Detect objects in a JPEG or PNG image with a YOLOv5 model, as detect.py does.\n\n"
	       "  -m, --model FILE       the .w model (from weightconv)\n"
	       "  -o, --output FILE      where the detections go (default: standard output)\n"
	       "  -f, --format FMT       text (default: class conf x1 y1 x2 y2 name), jsonl (COCO fields\n"
	       "                         plus width and height), yolo (detect.py --save-txt), coco (one\n"
	       "                         JSON array of results)\n"
	       "      --save-conf        yolo format: append the confidence, as detect.py --save-conf\n"
	       "      --conf X           confidence threshold (default 0.25)\n"
	       "      --iou X            NMS IoU threshold (default 0.45)\n"
	       "      --max-det N        at most N detections per image (default 1000)\n"
	       "      --classes LIST     keep only these class indices (comma-separated)\n"
	       "      --agnostic         class-agnostic NMS\n"
	       "      --multi-label      a box may carry every class over the threshold\n"
	       "      --size N|HxW       inference size (default: the model's, 640)\n"
	       "      --list FILE        detect in every image named in FILE (one path per line)\n"
	       "  -O, --output-dir DIR   with --list and --format yolo: DIR/NAME.txt per image\n"
	       "      --draw FILE        also write the image with labelled boxes (JPEG; a folder with\n"
	       "                         --list)\n"
	       "      --raw FILE         also write the decoded head output as .npy [rows, 5+classes]\n"
	       "      --no-round         keep sub-pixel box coordinates (detect.py rounds them)\n"
	       "  -t, --threads N        threads (default: OMP_NUM_THREADS, else all cores)\n"
	       "      --max-pixels N     refuse images with more pixels (default 100000000)\n"
	       "  -v, --verbose          print pre-process, inference and NMS milliseconds per image\n"
	       "  -h, --help             this help\n"
	       "      --version          versions of the toolkit and its libraries\n");
	cli_close_stdout();
	exit(0);
}

static void parse_classes(struct opts *o, const char *arg)
{
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

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum { OPT_SAVECONF = 256, OPT_CONF, OPT_IOU, OPT_MAXDET, OPT_CLASSES, OPT_AGNOSTIC, OPT_MULTI, OPT_SIZE,
	       OPT_LIST, OPT_RAW, OPT_NOROUND, OPT_DRAW, OPT_MAXPIX, OPT_VERSION };
	static const struct option longopts[] = {
		{"model", required_argument, 0, 'm'},
		{"output", required_argument, 0, 'o'},
		{"format", required_argument, 0, 'f'},
		{"save-conf", no_argument, 0, OPT_SAVECONF},
		{"conf", required_argument, 0, OPT_CONF},
		{"iou", required_argument, 0, OPT_IOU},
		{"max-det", required_argument, 0, OPT_MAXDET},
		{"classes", required_argument, 0, OPT_CLASSES},
		{"agnostic", no_argument, 0, OPT_AGNOSTIC},
		{"multi-label", no_argument, 0, OPT_MULTI},
		{"size", required_argument, 0, OPT_SIZE},
		{"list", required_argument, 0, OPT_LIST},
		{"output-dir", required_argument, 0, 'O'},
		{"raw", required_argument, 0, OPT_RAW},
		{"no-round", no_argument, 0, OPT_NOROUND},
		{"draw", required_argument, 0, OPT_DRAW},
		{"threads", required_argument, 0, 't'},
		{"max-pixels", required_argument, 0, OPT_MAXPIX},
		{"verbose", no_argument, 0, 'v'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, OPT_VERSION},
		{0, 0, 0, 0},
	};
	memset(o, 0, sizeof *o);
	o->max_pixels = TN_IMAGE_MAX_PIXELS_DEFAULT;
	tn_nms_opts_default(&o->nms);
	int c;
	while ((c = getopt_long(argc, argv, "m:o:f:O:t:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o->model = optarg;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'f':
			if (!strcmp(optarg, "text"))
				o->format = FMT_TEXT;
			else if (!strcmp(optarg, "jsonl"))
				o->format = FMT_JSONL;
			else if (!strcmp(optarg, "yolo"))
				o->format = FMT_YOLO;
			else if (!strcmp(optarg, "coco"))
				o->format = FMT_COCO;
			else
				cli_usage_error("--format: '%s' is not text, jsonl, yolo or coco", optarg);
			break;
		case OPT_SAVECONF:
			o->save_conf = 1;
			break;
		case OPT_CONF:
			o->nms.conf_thres = (float)cli_parse_double("--conf", optarg);
			if (!(o->nms.conf_thres >= 0 && o->nms.conf_thres <= 1))
				cli_usage_error("--conf: must be from 0 to 1");
			break;
		case OPT_IOU:
			o->nms.iou_thres = (float)cli_parse_double("--iou", optarg);
			if (!(o->nms.iou_thres >= 0 && o->nms.iou_thres <= 1))
				cli_usage_error("--iou: must be from 0 to 1");
			break;
		case OPT_MAXDET:
			o->nms.max_det = (int)cli_parse_long("--max-det", optarg, 1, 100000);
			break;
		case OPT_CLASSES:
			parse_classes(o, optarg);
			break;
		case OPT_AGNOSTIC:
			o->nms.agnostic = 1;
			break;
		case OPT_MULTI:
			o->nms.multi_label = 1;
			break;
		case OPT_SIZE: {
			char *x = strchr(optarg, 'x');
			if (x) {
				*x = 0;
				o->size_h = (int)cli_parse_long("--size", optarg, 32, 4096);
				o->size_w = (int)cli_parse_long("--size", x + 1, 32, 4096);
			} else {
				o->size_h = o->size_w = (int)cli_parse_long("--size", optarg, 32, 4096);
			}
			break;
		}
		case OPT_LIST:
			o->list = optarg;
			break;
		case 'O':
			o->outdir = optarg;
			break;
		case OPT_RAW:
			o->raw = optarg;
			break;
		case OPT_NOROUND:
			o->no_round = 1;
			break;
		case OPT_DRAW:
			o->draw = optarg;
			break;
		case 't':
			o->threads = (int)cli_parse_long("--threads", optarg, 1, 1024);
			break;
		case OPT_MAXPIX:
			o->max_pixels = (size_t)cli_parse_long("--max-pixels", optarg, 1, 4000000000L);
			break;
		case 'v':
			o->verbose = 1;
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
		if (optind != argc || o->raw)
			cli_usage_error("--list takes no input file and no --raw");
		if (o->format == FMT_YOLO && !o->outdir)
			cli_usage_error("--format yolo with --list needs -O DIR for the label files");
	} else {
		if (optind < argc - 1)
			cli_usage_error("more than one input file (use --list for many)");
		o->input = optind < argc ? argv[optind] : "-";
		if (strcmp(o->input, "-") == 0 && isatty(STDIN_FILENO))
			cli_usage_error("no input: give an image file or pipe one in");
	}
	if (o->outdir && !(o->list && o->format == FMT_YOLO))
		cli_usage_error("-O goes with --list and --format yolo");
	if (o->save_conf && o->format != FMT_YOLO)
		cli_usage_error("--save-conf goes with --format yolo");
	if (o->raw && !strcmp(o->raw, "-") && (!o->output || !strcmp(o->output, "-")))
		cli_usage_error("only one output can go to standard output: give -o FILE");
}

/* The image id: the file name without folder and extension. */
static void image_stem(const char *path, char *out, size_t cap)
{
	if (!strcmp(path, "-")) {
		snprintf(out, cap, "stdin");
		return;
	}
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *dot = strrchr(base, '.');
	int n = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
	snprintf(out, cap, "%.*s", n, base);
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static void write_dets(FILE *fp, const struct opts *o, const struct tn_detmodel *m, const char *input,
		       const struct tn_image *img, const struct tn_det *d, int n, int *first_coco)
{
	char stem[512];
	image_stem(input, stem, sizeof stem);
	switch (o->format) {
	case FMT_TEXT:
		for (int i = 0; i < n; i++) {
			if (o->list)
				fprintf(fp, "%s ", input);
			if (o->no_round)
				fprintf(fp, "%d %.5f %.3f %.3f %.3f %.3f %s\n", d[i].cls, d[i].conf, d[i].x1, d[i].y1, d[i].x2,
					d[i].y2, m->class_names[d[i].cls]);
			else
				fprintf(fp, "%d %.5f %.0f %.0f %.0f %.0f %s\n", d[i].cls, d[i].conf, d[i].x1, d[i].y1, d[i].x2,
					d[i].y2, m->class_names[d[i].cls]);
		}
		break;
	case FMT_JSONL:
	case FMT_COCO:
		for (int i = 0; i < n; i++) {
			if (o->format == FMT_COCO)
				fputs(*first_coco ? "[" : ",\n", fp);
			*first_coco = 0;
			fputs("{\"image_id\": ", fp);
			if (all_digits(stem) && strlen(stem) < 16)
				fputs(stem, fp);
			else
				cli_json_str(fp, stem);
			fprintf(fp, ", \"category_id\": %d, \"bbox\": [%g, %g, %g, %g], \"score\": %.5f", d[i].cls,
				d[i].x1, d[i].y1, d[i].x2 - d[i].x1, d[i].y2 - d[i].y1, d[i].conf);
			if (o->format == FMT_JSONL)
				fprintf(fp, ", \"width\": %d, \"height\": %d}\n", img->w, img->h);
			else
				fputc('}', fp);
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

/* The picture: each box in its class's colour, a tab above it with the name and confidence. */
static int draw_picture(const struct tn_detmodel *m, const struct opts *o, const char *input,
			const struct tn_image *img, const struct tn_det *d, int n)
{
	uint8_t pal[256][3];
	int ncol = m->info.nc > 21 ? (m->info.nc < 255 ? m->info.nc : 255) : 22;
	tn_palette_for_classes(ncol, pal); /* hues around the circle */
	struct tn_image pic = {img->w, img->h, 3, malloc((size_t)img->w * img->h * 3)};
	if (!pic.px)
		return tn_fail(TN_E_NOMEM, "out of memory for the picture");
	memcpy(pic.px, img->px, (size_t)img->w * img->h * 3);
	int thick = img->w > 800 ? img->w / 400 : 2, scale = img->w >= 640 ? 2 : 1;
	static const uint8_t black[3] = {0, 0, 0}, white[3] = {255, 255, 255};
	for (int i = n - 1; i >= 0; i--) { /* the most confident drawn last, on top */
		const uint8_t *c = pal[(d[i].cls * 37) % ncol]; /* neighbouring classes far apart in hue */
		int x1 = (int)d[i].x1, y1 = (int)d[i].y1, x2 = (int)d[i].x2, y2 = (int)d[i].y2;
		tn_draw_rect(&pic, x1, y1, x2, y2, c, thick);
		char label[160];
		snprintf(label, sizeof label, "%s %.2f", m->class_names[d[i].cls], d[i].conf);
		int tw = tn_draw_text_width(label, scale) + 2 * scale, th = 9 * scale;
		int ty = y1 - th >= 0 ? y1 - th : y1;
		tn_draw_fill(&pic, x1, ty, x1 + tw, ty + th - 1, c);
		int bright = c[0] * 299 + c[1] * 587 + c[2] * 114 > 128000;
		tn_draw_text(&pic, x1 + 2 * scale, ty + scale, label, bright ? black : white, scale);
	}
	char path[4096];
	if (o->list) {
		char stem[512];
		image_stem(input, stem, sizeof stem);
		snprintf(path, sizeof path, "%s/%s.jpg", o->draw, stem);
	} else {
		snprintf(path, sizeof path, "%s", o->draw);
	}
	uint8_t *jpg = NULL;
	size_t len = 0;
	int rc = tn_jpeg_encode_rgb(&pic, 90, &jpg, &len);
	if (!rc)
		rc = tn_write_file(path, jpg, len);
	free(jpg);
	free(pic.px);
	return rc;
}

/* Detects in one image; the detections go to fp (or, --format yolo with -O, to DIR/NAME.txt). */
struct stats {
	int done, total;
	double pre, inf, nms;
	int h, w;
};

static int detect_one(struct tn_detmodel *m, const struct opts *o, const char *input, FILE *fp,
		      int *first_coco, struct stats *stats)
{
	struct tn_image img;
	double t0 = tn_now_ms();
	int rc = tn_image_read_rgb_upright(input, o->max_pixels, &img);
	if (rc)
		return rc;
	struct tn_det *d = NULL;
	float *raw = NULL;
	int n = 0, rows = 0;
	rc = tn_detmodel_detect(m, &img, &o->nms, !o->no_round, &d, &n, o->raw ? &raw : NULL, &rows);
	if (rc) {
		tn_fail_prefix(rc, strcmp(input, "-") ? input : "standard input");
	} else if (o->raw) {
		int64_t shape[2] = {rows, m->info.nc + 5};
		rc = tn_npy_write_f32(o->raw, raw, 2, shape);
	}
	if (!rc && o->draw)
		rc = draw_picture(m, o, input, &img, d, n);
	if (!rc && o->outdir) {
		char stem[512], path[4096];
		image_stem(input, stem, sizeof stem);
		snprintf(path, sizeof path, "%s/%s.txt", o->outdir, stem);
		struct tn_out out;
		if (!(rc = tn_out_open(&out, path))) {
			write_dets(out.fp, o, m, input, &img, d, n, first_coco);
			rc = tn_out_commit(&out);
		}
	} else if (!rc) {
		write_dets(fp, o, m, input, &img, d, n, first_coco);
	}
	if (!rc && o->verbose) {
		/* detect.py's line: "image i/n path: HxW 1 bicycle, 2 cars, 12.3ms" */
		fprintf(stderr, "image %d/%d %s: %dx%d ", stats->done + 1, stats->total, input, m->planned_h,
			m->planned_w);
		int shown = 0;
		for (int c = 0; c < m->info.nc; c++) {
			int k = 0;
			for (int i = 0; i < n; i++)
				k += d[i].cls == c;
			if (k)
				fprintf(stderr, "%s%d %s%s", shown++ ? ", " : "", k, m->class_names[c], k > 1 ? "s" : "");
		}
		fprintf(stderr, "%s%s%.1fms\n", shown ? "" : "(no detections)", ", ", m->ms_network);
		stats->pre += tn_now_ms() - t0 - m->ms_network - m->ms_nms;
		stats->inf += m->ms_network;
		stats->nms += m->ms_nms;
		stats->h = m->planned_h;
		stats->w = m->planned_w;
	}
	stats->done++;
	free(d);
	free(raw);
	tn_image_free(&img);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	cli_init(argv[0]);
	parse_args(argc, argv, &o);
	tn_threads_init(o.threads);
	struct tn_detmodel m;
	if (tn_detmodel_open(&m, o.model))
		cli_fail();
	if (o.size_h) {
		m.in_h = o.size_h;
		m.in_w = o.size_w;
	}
	for (int i = 0; i < o.nms.n_classes; i++)
		if (o.classes[i] >= m.info.nc)
			cli_usage_error("--classes: %d, but the model has %d classes", o.classes[i], m.info.nc);
	/* Detections are written to a temporary file and renamed at the end: complete or absent. */
	struct tn_out out;
	int to_file = !o.outdir;
	if (to_file && tn_out_open(&out, o.output))
		cli_fail();
	FILE *fp = to_file ? out.fp : NULL;
	int first_coco = 1, failed = 0;
	struct stats stats = {0, 1, 0, 0, 0, 0, 0};
	if (o.list) {
		uint8_t *buf;
		size_t len;
		if (tn_read_all(o.list, 64u << 20, &buf, &len))
			cli_fail();
		stats.total = 0;
		for (size_t i = 0; i < len; i++)
			stats.total += buf[i] == '\n' || (i + 1 == len && buf[i] != '\n');
		char *save = NULL;
		for (char *line = strtok_r((char *)buf, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
			if (!*line)
				continue;
			if (detect_one(&m, &o, line, fp, &first_coco, &stats)) {
				cli_warn("%s", tn_errmsg());
				failed++;
			}
		}
		free(buf);
	} else if (detect_one(&m, &o, o.input, fp, &first_coco, &stats)) {
		if (to_file)
			tn_out_abort(&out);
		cli_fail();
	}
	if (o.verbose && stats.done)
		fprintf(stderr, "Speed: %.1fms pre-process, %.1fms inference, %.1fms NMS per image at shape "
			"(1, 3, %d, %d)\n", stats.pre / stats.done, stats.inf / stats.done, stats.nms / stats.done,
			stats.h, stats.w);
	if (to_file) {
		if (o.format == FMT_COCO)
			fputs(first_coco ? "[]\n" : "]\n", fp);
		if (tn_out_commit(&out))
			cli_fail();
	}
	tn_detmodel_close(&m);
	cli_close_stdout();
	return failed ? 1 : 0;
}
