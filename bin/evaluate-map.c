/* evaluate-map: P, R, mAP@0.5 and mAP@0.5:0.95 of detections (JSON lines or a COCO results
 * array) against YOLO label files, as ultralytics/yolov5 val.py computes them.  Shards merge by
 * concatenation. */
#include "cli/cli.h"
#include "cli/opts.h"
#include "core/error.h"
#include "eval/coco.h"
#include "eval/map.h"
#include "eval/mapplot.h"
#include "io/file.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum format { FMT_TABLE, FMT_CSV, FMT_JSON };

struct opts {
	int n; /* 0 = not given */
	const char *labels, *model, *names_file, *plots;
	enum format format;
	int nformats, quiet;
	char **files;
	int nfiles;
};

static void usage(void)
{
	printf("Usage: %s --labels DIR [OPTIONS] [DETS...]\n"
	       "Evaluate detections against YOLO label files: per-class P, R, AP@0.5 and AP@0.5:0.95,\n"
	       "and their means, as ultralytics/yolov5 val.py computes them.  Detections are objects\n"
	       "(image_id, category_id, bbox [x,y,w,h] in pixels, score, width, height) as JSON lines\n"
	       "(infer-detect -f jsonl) or one JSON array (-f coco), read from the files in turn or\n"
	       "from standard input; shards simply concatenate.  An array's category ids are COCO's\n"
	       "1..90 when the class names are COCO's 80, else class indices.  Images whose records\n"
	       "carry infer-detect --val's \"letterbox\" are scored exactly as val.py scores them.\n"
	       "\n"
	       "      --labels DIR      folder of label files <image_id>.txt (\"class cx cy w h\")\n"
	       "  -m, --model MODEL.w   the model that made the detections: its number of classes\n"
	       "                        and class names\n"
	       "  -n, --num-classes N   number of classes (default: the model's, else 1 + the\n"
	       "                        largest class seen)\n"
	       "      --names FILE      class names, one per line (default: the model's)\n"
	       "      --csv             CSV report\n"
	       "      --json            JSON report\n"
	       "      --plots OUT       also val.py's PR, F1, P, R curves and confusion matrix: PNG (by\n"
	       "                        gnuplot) and CSV files in the folder OUT\n"
	       "  -q, --quiet           no warnings\n"
	       "  -h, --help            show this help\n"
	       "      --version         show versions\n",
	       cli_prog());
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	memset(o, 0, sizeof *o);
	const struct cli_opt rows[] = {
		CLI_STRING("labels", 0, &o->labels),
		CLI_STRING("model", 'm', &o->model),
		CLI_INT("num-classes", 'n', &o->n, 1, TN_MAP_MAX_CLASSES),
		CLI_STRING("names", 0, &o->names_file),
		CLI_SET("csv", 0, &o->format, FMT_CSV, &o->nformats),
		CLI_SET("json", 0, &o->format, FMT_JSON, &o->nformats),
		CLI_STRING("plots", 0, &o->plots),
		CLI_END,
	};
	int first = cli_opts_parse(argc, argv, rows, usage, &o->quiet);
	o->files = argv + first;
	o->nfiles = argc - first;
	if (!o->labels)
		cli_usage_error("the ground truth is needed: --labels DIR");
	if (o->nformats > 1)
		cli_usage_error("--csv and --json exclude each other");
	int stdin_uses = o->nfiles == 0;
	for (int i = 0; i < o->nfiles; i++)
		stdin_uses += strcmp(o->files[i], "-") == 0;
	if (stdin_uses > 1)
		cli_usage_error("standard input ('-') given more than once");
	if (o->nfiles == 0 && isatty(STDIN_FILENO))
		cli_usage_error("standard input is a terminal: give the detection files or pipe them in");
}

static void read_dets(struct tn_map_data *d, const char *path)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!fp)
		cli_die("%s: %s", path, strerror(errno));
	if (tn_map_read_dets(d, fp, cli_display_path(path)))
		cli_fail();
	if (fp != stdin)
		fclose(fp);
}

int main(int argc, char **argv)
{
	struct opts o;
	cli_init(argv[0]);
	parse_args(argc, argv, &o);
	struct tn_map_plots plots;
	if (o.plots && tn_map_plots_open(&plots, o.plots))
		cli_fail();

	const char **names = NULL;
	uint8_t *names_text = NULL;
	int nnames = 0;
	if (o.model) {
		/* --names renames the model's classes */
		names = cli_model_names(o.model, TN_MAP_MAX_CLASSES, o.n, !o.names_file, &o.n, &names_text);
		nnames = o.n;
	}
	if (o.names_file) {
		names = cli_read_names(o.names_file, TN_MAP_MAX_CLASSES, &nnames, &names_text);
		if (o.model && nnames != o.n)
			cli_die("%s: %d class names, but the model %s has %d classes", cli_display_path(o.names_file),
				nnames, o.model, o.n);
		if (o.n && nnames != o.n)
			cli_die("%s: %d class names, but -n %d", cli_display_path(o.names_file), nnames, o.n);
		o.n = nnames;
	}

	struct tn_map_data d;
	if (tn_map_init(&d, o.n) || tn_map_load_labels(&d, o.labels))
		cli_fail();
	/* what the category ids of a COCO results array are (see cnn-detections(5)) */
	d.array_ids = names && tn_names_are_coco80(names, nnames) ? TN_MAP_IDS_COCO91
		      : names || (o.n && o.n != TN_COCO_CLASSES) ? TN_MAP_IDS_INDEX
								  : TN_MAP_IDS_UNKNOWN;
	if (o.nfiles == 0)
		read_dets(&d, "-");
	for (int i = 0; i < o.nfiles; i++)
		read_dets(&d, o.files[i]);

	struct tn_map_result r;
	d.want_curves = o.plots != NULL;
	if (tn_map_compute(&d, &r))
		cli_fail();
	if (!o.quiet) {
		if (d.missing_label_images)
			cli_warn("warning: %zu image%s with detections but no label file in %s (the first: '%s'), "
				 "counted as image%s without objects",
				 d.missing_label_images, d.missing_label_images == 1 ? "" : "s", o.labels,
				 d.first_missing, d.missing_label_images == 1 ? "" : "s");
		if (d.duplicate_labels)
			cli_warn("warning: %zu duplicate label line%s dropped, as ultralytics does (the first in "
				 "'%s.txt')",
				 d.duplicate_labels, d.duplicate_labels == 1 ? "" : "s", d.first_duplicate_file);
		if (r.instances == 0)
			cli_warn("warning: no labels found in %s, so every metric is 0", o.labels);
	}
	if (!names)
		names = cli_number_names(r.n, NULL, &names_text);
	if (o.plots && tn_map_plots_finish(&plots, &d, &r, names))
		cli_fail();

	switch (o.format) {
	case FMT_TABLE: tn_map_write_table(stdout, &r, names); break;
	case FMT_CSV: tn_map_write_csv(stdout, &r, names); break;
	case FMT_JSON: tn_map_write_json(stdout, &r, names); break;
	}
	tn_map_result_free(&r);
	tn_map_free(&d);
	free(names);
	free(names_text);
	cli_close_stdout();
	return 0;
}
