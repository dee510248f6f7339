/* Semantic segmentation metrics: a confusion matrix over label masks, the per-class IoU,
 * recall (PA) and precision, mIoU, mPA and accuracy as bubbliiiing's utils_metrics computes them
 * (or with mmsegmentation's NaN-for-absent convention), a mergeable state file, and the report
 * formats of evaluate-miou. */
#ifndef TN_MIOU_H
#define TN_MIOU_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Masks are 8-bit, so at most 256 classes. */
#define TN_MIOU_MAX_CLASSES 256

/* A confusion matrix: counts[gt * n + pred], rows = ground truth, columns = prediction. */
struct tn_confusion {
	int n;
	uint64_t *counts; /* n*n, malloc'd */
	uint64_t images;  /* image pairs added (summed by merge) */
};

/* Allocates an all-zero n-class matrix (1 <= n <= TN_MIOU_MAX_CLASSES). */
int tn_confusion_init(struct tn_confusion *c, int n);
void tn_confusion_free(struct tn_confusion *c);

/* Adds one w x h prediction/ground-truth pair (one byte per pixel, row-major) and counts one
 * image.  GT pixels >= n (255 included) are ignored, as upstream fast_hist does; a prediction
 * value >= n anywhere is an error naming pred_name and the first such pixel, and leaves c
 * unchanged. */
int tn_confusion_add(struct tn_confusion *c, const uint8_t *pred, const uint8_t *gt, int w, int h,
		     const char *pred_name);

/* Adds src into dst (counts and images).  The class counts must agree (error naming src_name)
 * and no count may overflow; dst is unchanged on error. */
int tn_confusion_merge(struct tn_confusion *dst, const struct tn_confusion *src,
		       const char *src_name);

/* Total counted pixels (the sum of all counts). */
uint64_t tn_confusion_pixels(const struct tn_confusion *c);

/* The state file: text, so shards from any machine merge.
 *   cnnkit-miou-state 1
 *   num_classes N
 *   images K
 *   pixels P          (the sum of all counts, a check against truncation)
 *   N lines of N decimal uint64 counts, rows = GT, columns = prediction
 *   end
 * Writing goes to fp (the caller makes it atomic); errors show up on the stream. */
void tn_confusion_write_state(const struct tn_confusion *c, FILE *fp);
/* Parses a state file held in buf[0..len) into a new matrix; name is used in messages, which
 * give the line of the first problem. */
int tn_confusion_parse_state(const uint8_t *buf, size_t len, const char *name,
			     struct tn_confusion *out);

/* Metrics as fractions (not percentages). */
struct tn_miou_class {
	double iou, recall, precision;
	uint64_t tp, gt_pixels, pred_pixels;
};
struct tn_miou {
	int n;
	int nan_absent;
	struct tn_miou_class *cls; /* n entries, malloc'd */
	double miou, mpa, mprecision, accuracy;
	uint64_t pixels, images;
};

/* Computes the metrics of c.  nan_absent = 0: upstream (bubbliiiing) rules, every denominator
 * clamped to at least 1, so a class absent from both sides scores 0 and counts in the means.
 * nan_absent = 1: mmsegmentation rules, a metric with a zero denominator is NaN and the means
 * skip NaNs (a mean of only NaNs is NaN; accuracy is NaN with no pixels).  Means follow
 * np.nanmean exactly, including NumPy's pairwise summation order. */
int tn_miou_compute(const struct tn_confusion *c, int nan_absent, struct tn_miou *m);
void tn_miou_free(struct tn_miou *m);

/* NumPy's pairwise sum of a[0..n) (the order np.sum uses on a contiguous float64 array). */
double tn_numpy_sum(const double *a, size_t n);

/* Python's repr() of a double (the shortest string that reads back to the same value, in
 * fixed notation for 1e-4 <= |x| < 1e16 and with ".0" when it is whole, else "1e+16" style;
 * "nan", "inf", "-inf").  buf needs 32 bytes. */
void tn_py_repr(double x, char *buf, size_t size);
/* str(round(np.float64(x), 2)) after NumPy's rules: rint(x*100)/100, then repr. */
void tn_py_round2_repr(double x, char *buf, size_t size);

/* Reports.  names holds m->n class names.  Each writes to fp; errors show up on the stream. */
/* Upstream get_miou lines: "===><name>:\tIou-<v>; Recall (equal to the PA)-<v>; Precision-<v>"
 * per class, then "===> mIoU: <v>; mPA: <v>; Accuracy: <v>", v = str(round(x*100, 2)). */
void tn_miou_write_upstream(FILE *fp, const struct tn_miou *m, const char *const *names);
/* An aligned table of percentages with 2 decimals ("-" for NaN), then a summary line. */
void tn_miou_write_table(FILE *fp, const struct tn_miou *m, const char *const *names);
/* One JSON object (see evaluate-miou(1)); fractions with %.17g, null for NaN. */
void tn_miou_write_json(FILE *fp, const struct tn_miou *m, const char *const *names);
/* CSV, LF endings: "class,iou,recall,precision,gt_pixels,pred_pixels", one row per class, then
 * the rows "mean" (mIoU, mPA, mean precision) and "accuracy" (accuracy, pixel count). */
void tn_miou_write_csv(FILE *fp, const struct tn_miou *m, const char *const *names);
/* confusion_matrix.csv as upstream writes it with Python's csv module: CRLF, minimal quoting,
 * a header of " " and the names, then per GT class its name and the counts per prediction. */
void tn_confusion_write_csv(FILE *fp, const struct tn_confusion *c, const char *const *names);

/* The 21 PASCAL VOC class names, bubbliiiing's spelling ("background", "aeroplane", ...). */
extern const char *const tn_voc_class_names[21];

#endif
