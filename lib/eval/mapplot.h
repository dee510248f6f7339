/* val.py's pictures (plots=True): ConfusionMatrix, and evaluate-map --plots, which writes the
 * curves and the matrix as CSV files and has scripts/plot-map draw them with gnuplot into
 * PR_curve.png, F1_curve.png, P_curve.png, R_curve.png and confusion_matrix.png. */
#ifndef TN_MAPPLOT_H
#define TN_MAPPLOT_H

#include "eval/map.h"

#include <stdint.h>

/* ConfusionMatrix's defaults in val.py */
#define TN_MAP_CM_CONF 0.25
#define TN_MAP_CM_IOU 0.45

/* ConfusionMatrix.process_batch over every image, as val.py calls it: an image with labels and
 * no detections adds its labels to the background row; an image with labels and detections is
 * matched (detections with score > conf, pairs of IoU > iou whatever their classes, each
 * detection's best label, then each label's best detection, ties to the higher index); an image
 * without labels adds nothing.  Unmatched detections count as background only in an image where
 * some pair matched, as upstream.  m: (n+1)^2 counts, m[pred * (n+1) + true], n = background.
 * Call after tn_map_compute (which fixes d->n). */
int tn_map_confusion(const struct tn_map_data *d, double conf, double iou, uint64_t *m);

/* The CSV files the charts are drawn from (formats in evaluate-map(1)); names has r->n entries. */
void tn_map_write_curve_csv(FILE *fp, const struct tn_map_result *r, const char *const *names, int which);
void tn_map_write_confusion_csv(FILE *fp, int n, const uint64_t *m, const char *const *names);
enum { TN_MAP_CURVE_PR, TN_MAP_CURVE_F1, TN_MAP_CURVE_P, TN_MAP_CURVE_R };

struct tn_map_plots {
	char *dir;    /* the output folder */
	char *script; /* plot-map */
};

/* Before any work: finds plot-map ($CNNKIT_PLOT_MAP, else next to the running program:
 * ../share/cnnkit/plot-map as installed, ../../scripts/plot-map in the build tree), asks it
 * whether it can draw (gnuplot with PNG output), then makes dir as mkdir -p does. */
int tn_map_plots_open(struct tn_map_plots *p, const char *dir);

/* After tn_map_compute with d->want_curves: writes metrics.csv (the --csv report),
 * PR_curve.csv, F1_curve.csv, P_curve.csv, R_curve.csv and confusion_matrix.csv into a hidden
 * folder in dir, runs plot-map on them, and moves them into dir once the five PNGs are there.
 * On failure no file of this run is left in dir (plot-map moves its PNGs in only when all five
 * are drawn).  Frees p. */
int tn_map_plots_finish(struct tn_map_plots *p, const struct tn_map_data *d, const struct tn_map_result *r,
			const char *const *names);

#endif
