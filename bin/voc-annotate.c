/* voc-annotate: bubbliiiing's voc_annotation.py job on a VOCdevkit tree: the trainval, train,
 * val and test lists (the same bytes as the Python script for the same folder order and seed)
 * and a check of every label, naming each bad file instead of crashing. */
#include "cli/cli.h"
#include "cli/inputs.h"
#include "cli/opts.h"
#include "core/error.h"
#include "data/voc.h"
#include "eval/miou.h"
#include "io/file.h"
#include "io/image.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct opts {
	const char *devkit; /* VOCdevkit folder */
	const char *year;
	const char *outdir; /* NULL = ImageSets/Segmentation in the set */
	const char *model;  /* -m: the class count and names */
	int n, n_given;
	double trainval, train;
	unsigned long long seed;
	int sort, check, csv, json, quiet;
	size_t max_pixels;
};

static void usage(void)
{
	printf("Usage: voc-annotate [OPTION]... [VOCDEVKIT]\n"
	       "Write the segmentation lists trainval.txt, train.txt, val.txt and test.txt of a\n"
	       "VOCdevkit tree (VOCDEVKIT/VOC2007/SegmentationClass/*.png) as bubbliiiing's\n"
	       "voc_annotation.py does, and check every label first.  VOCDEVKIT defaults to\n"
	       "./VOCdevkit.  The per-value pixel histogram goes to standard output.\n\n"
	       "  -m, --model MODEL.w   the model to train: its number of classes and class names\n"
	       "  -n, --num-classes N   classes, so label values must be < N or 255 (default: the\n"
	       "                        model's, else 21 with VOC's names)\n"
	       "      --trainval F      fraction of the labels in trainval (default 1.0)\n"
	       "      --train F         fraction of trainval in train (default 0.9)\n"
	       "      --seed S          Python random.seed value (default 0)\n"
	       "      --sort            sort the names first (lists independent of the file system;\n"
	       "                        default: directory order, as Python's os.listdir)\n"
	       "      --year YEAR       the set folder is VOC<YEAR> (default 2007)\n"
	       "  -o, --out-dir DIR     where the lists go (default VOC<YEAR>/ImageSets/Segmentation)\n"
	       "      --no-check        write the lists without reading the labels\n"
	       "      --csv             histogram as CSV (value,class,pixels,labels)\n"
	       "      --json            histogram as JSON ({\"values\": [{value, class, pixels, labels}]})\n"
	       "      --max-pixels N    refuse labels with more pixels (default 100000000)\n"
	       "  -q, --quiet           no summary or progress on standard error\n"
	       "  -h, --help            this help\n"
	       "      --version         versions of the toolkit and its libraries\n");
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.devkit = "VOCdevkit", .year = "2007", .n = 21, .trainval = 1.0,
			   .train = 0.9, .check = 1, .max_pixels = TN_IMAGE_MAX_PIXELS_DEFAULT};
	const struct cli_opt rows[] = {
		CLI_STRING("model", 'm', &o->model),
		{.name = "num-classes", .letter = 'n', .kind = CLI_OPT_INT, .dest = &o->n, .min = 1, .max = 256,
		 .given = &o->n_given},
		CLI_REAL("trainval", 0, &o->trainval, 0, 0), /* checked once all are read */
		CLI_REAL("train", 0, &o->train, 0, 0),
		CLI_INT("seed", 0, &o->seed, 0, INT64_MAX),
		CLI_FLAG("sort", 0, &o->sort),
		CLI_STRING("year", 0, &o->year),
		CLI_STRING("out-dir", 'o', &o->outdir),
		CLI_SET("no-check", 0, &o->check, 0, NULL),
		CLI_FLAG("csv", 0, &o->csv),
		CLI_FLAG("json", 0, &o->json),
		CLI_INT("max-pixels", 0, &o->max_pixels, 1, INT64_MAX),
		CLI_END,
	};
	int first = cli_opts_parse(argc, argv, rows, usage, &o->quiet);
	if (argc - first > 1)
		cli_usage_error("one VOCdevkit folder, not %d", argc - first);
	if (first < argc)
		o->devkit = argv[first];
	if (!(o->trainval >= 0 && o->trainval <= 1))
		cli_usage_error("--trainval must be in [0, 1], not %g", o->trainval);
	if (!(o->train >= 0 && o->train <= 1))
		cli_usage_error("--train must be in [0, 1], not %g", o->train);
	if (!*o->year || strchr(o->year, '/'))
		cli_usage_error("--year: '%s' is not a year", o->year);
	if (o->csv && o->json)
		cli_usage_error("--csv and --json exclude each other");
	if ((o->csv || o->json) && !o->check)
		cli_usage_error("--%s prints the histogram, which --no-check skips", o->csv ? "csv" : "json");
}

/* mkdir -p: the list folder may not exist yet in a fresh tree. */
static void make_dirs(const char *path)
{
	char *p = strdup(path);
	if (!p)
		cli_die("out of memory");
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char end = *s;
		*s = 0;
		if (mkdir(p, 0777) && errno != EEXIST)
			cli_die("%s: %s", p, strerror(errno));
		*s = end;
		if (!end)
			break;
	}
	struct stat st;
	if (stat(path, &st) || !S_ISDIR(st.st_mode))
		cli_die("%s: not a folder", path);
	free(p);
}

struct census {
	uint64_t pixels[256]; /* over all good labels */
	size_t labels[256];   /* labels holding each value */
	size_t problems, bad_labels;
};

static int progress_shown;

static void end_progress(void)
{
	if (progress_shown) {
		fputc('\n', stderr);
		progress_shown = 0;
	}
}

static void problem(struct census *c, int *label_bad, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void problem(struct census *c, int *label_bad, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	end_progress();
	cli_warn("%s", msg);
	c->problems++;
	if (!*label_bad)
		c->bad_labels++;
	*label_bad = 1;
}

/* Every label: readable one-channel PNG, values in range, not a 0/255 mask, a JPEG beside it. */
static void check_labels(const struct opts *o, const char *segdir, const char *imgdir,
			 const struct tn_voc_names *names, struct census *c)
{
	int show = !o->quiet && isatty(STDERR_FILENO);
	for (size_t i = 0; i < names->n; i++) {
		int bad = 0;
		char *label = cli_path_join(segdir, names->name[i], "");
		uint64_t hist[256];
		if (tn_voc_label_hist(label, o->max_pixels, hist, NULL, NULL)) {
			problem(c, &bad, "%s", tn_errmsg()); /* the detail names the file */
		} else {
			char why[512];
			if (tn_voc_label_values(hist, o->n, why, sizeof why))
				problem(c, &bad, "%s: %s", label, why);
			for (int v = 0; v < 256; v++) {
				c->pixels[v] += hist[v];
				c->labels[v] += hist[v] > 0;
			}
		}
		size_t k = strlen(names->name[i]) - 4;
		char *img;
		if (asprintf(&img, "%s/%.*s.jpg", imgdir, (int)k, names->name[i]) < 0)
			cli_die("out of memory");
		struct stat st;
		if (stat(img, &st) || !S_ISREG(st.st_mode))
			problem(c, &bad, "%s: no matching image %s", label, img);
		free(img);
		free(label);
		if (show && (i % 16 == 15 || i + 1 == names->n)) {
			fprintf(stderr, "\r%s: checking labels %zu/%zu", cli_prog(), i + 1, names->n);
			progress_shown = 1;
		}
	}
	end_progress();
}

/* names: the model's, else NULL (VOC's for 21 classes) */
static const char *value_name(int v, int n, const char *const *names)
{
	if (v == 255 && n <= 255)
		return "ignore";
	if (v >= n)
		return "out of range";
	if (names)
		return names[v];
	return n == 21 ? tn_voc_class_names[v] : "";
}

static void print_histogram(const struct census *c, int n, const char *const *names, const struct opts *o)
{
	if (o->json) {
		printf("{\"num_classes\": %d, \"values\": [", n);
		const char *sep = "";
		for (int v = 0; v < 256; v++)
			if (c->pixels[v]) {
				printf("%s\n  {\"value\": %d, \"class\": ", sep, v);
				cli_json_str(stdout, value_name(v, n, names));
				printf(", \"pixels\": %llu, \"labels\": %zu}", (unsigned long long)c->pixels[v], c->labels[v]);
				sep = ",";
			}
		printf("]}\n");
		return;
	}
	if (o->csv) {
		printf("value,class,pixels,labels\n");
		for (int v = 0; v < 256; v++)
			if (c->pixels[v])
				printf("%d,%s,%llu,%zu\n", v, value_name(v, n, names),
				       (unsigned long long)c->pixels[v], c->labels[v]);
		return;
	}
	/* upstream's table first, byte for byte, then one that says what the values mean */
	char dashes[38];
	memset(dashes, '-', 37);
	dashes[37] = 0;
	printf("%s\n| %15s | %15s |\n%s\n", dashes, "Key", "Value", dashes);
	uint64_t total = 0;
	for (int v = 0; v < 256; v++) {
		total += c->pixels[v];
		if (c->pixels[v])
			printf("| %15d | %15llu |\n%s\n", v, (unsigned long long)c->pixels[v], dashes);
	}
	printf("\n%5s  %-12s %14s %8s %8s\n", "value", "class", "pixels", "share", "labels");
	for (int v = 0; v < 256; v++)
		if (c->pixels[v])
			printf("%5d  %-12s %14llu %7.2f%% %8zu\n", v, value_name(v, n, names),
			       (unsigned long long)c->pixels[v], 100.0 * (double)c->pixels[v] / (double)total,
			       c->labels[v]);
}

/* The set-wide diagnoses upstream prints after its table. */
static void diagnose_set(const struct census *c)
{
	uint64_t mid = 0, above0 = 0;
	for (int v = 1; v < 256; v++) {
		above0 += c->pixels[v];
		if (v < 255)
			mid += c->pixels[v];
	}
	if (c->pixels[0] && c->pixels[255] && !mid)
		cli_warn("warning: the labels hold only 0 and 255: objects must be class indices, "
			 "not 255");
	else if (c->pixels[0] && !above0)
		cli_warn("warning: the labels hold only background (0)");
}

static void write_lists(const char *outdir, const struct tn_voc_names *names, const uint8_t *which)
{
	static const char *const lists[4] = {"trainval", "test", "train", "val"};
	struct tn_out out[4];
	char *path[4];
	for (int i = 0; i < 4; i++) {
		char *text;
		size_t len;
		if (tn_voc_list_text(names, which, lists[i], &text, &len))
			cli_fail();
		if (asprintf(&path[i], "%s/%s.txt", outdir, lists[i]) < 0)
			cli_die("out of memory");
		if (tn_out_open(&out[i], path[i]))
			cli_fail();
		tn_out_write(&out[i], text, len);
		free(text);
	}
	/* all four are complete before any is renamed into place */
	for (int i = 0; i < 4; i++) {
		if (tn_out_commit(&out[i])) {
			for (int j = i + 1; j < 4; j++)
				tn_out_abort(&out[j]);
			cli_fail();
		}
		free(path[i]);
	}
}

int main(int argc, char **argv)
{
	struct opts o;
	cli_init(argv[0]);
	parse_args(argc, argv, &o);
	const char **class_names = NULL;
	unsigned char *names_text = NULL;
	if (o.model) {
		class_names = cli_model_names(o.model, 256, o.n_given ? o.n : 0, 1, &o.n, &names_text);
	}

	char *setdir, *segdir = NULL, *imgdir = NULL, *outdir = NULL;
	if (asprintf(&setdir, "%s/VOC%s", o.devkit, o.year) < 0)
		cli_die("out of memory");
	segdir = cli_path_join(setdir, "SegmentationClass", "");
	imgdir = cli_path_join(setdir, "JPEGImages", "");
	outdir = o.outdir ? strdup(o.outdir) : cli_path_join(setdir, "ImageSets/Segmentation", "");
	if (!outdir)
		cli_die("out of memory");

	struct tn_voc_names names;
	if (tn_voc_list(segdir, o.sort, &names))
		cli_fail();
	if (names.n == 0)
		cli_die("%s: no .png labels", segdir);
	uint8_t *which = malloc(names.n);
	size_t ntv, ntr;
	if (!which)
		cli_die("out of memory");
	if (tn_voc_split(names.n, o.trainval, o.train, o.seed, which, &ntv, &ntr))
		cli_fail();

	if (o.check) {
		static struct census c;
		check_labels(&o, segdir, imgdir, &names, &c);
		print_histogram(&c, o.n, class_names, &o);
		fflush(stdout);
		if (!o.quiet)
			diagnose_set(&c);
		if (c.problems)
			cli_die("%zu problem%s in %zu of %zu labels; no lists written", c.problems,
				c.problems == 1 ? "" : "s", c.bad_labels, names.n);
	}
	make_dirs(outdir);
	write_lists(outdir, &names, which);
	if (!o.quiet)
		cli_warn("%zu labels: train %zu, val %zu, test %zu; lists in %s", names.n, ntr, ntv - ntr,
			 names.n - ntv, outdir);
	free(which);
	tn_voc_names_free(&names);
	free(setdir);
	free(segdir);
	free(imgdir);
	free(outdir);
	free(class_names);
	free(names_text);
	cli_close_stdout();
	return 0;
}
