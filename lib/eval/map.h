/* Detection metrics as ultralytics/yolov5 val.py computes them (v7.0 and later; read at v7.0 and
 * v7.0-549): per image, process_batch matching of detections to labels at the ten IoU thresholds
 * 0.5:0.05:0.95, then ap_per_class (101-point interpolated AP over the precision envelope, P and R
 * at the confidence of the maximum of the box-filtered mean F1 curve).  Ground truth comes from
 * YOLO label files, detections from JSON lines or COCO results arrays with COCO field names
 * (see evaluate-map(1)). */
#ifndef TN_MAP_H
#define TN_MAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TN_MAP_NIOU 10
#define TN_MAP_MAX_CLASSES 65536
#define TN_MAP_NPX 1000 /* ap_per_class's grid np.linspace(0, 1, 1000) */

/* Boxes are x1, y1, x2, y2 in pixels. */
struct tn_map_label {
	double cx, cy, w, h; /* normalised to 0..1, as in the label file */
	int32_t cls;
};

struct tn_map_det {
	double box[4];   /* x1 y1 x2 y2 */
	double score;
	int32_t cls;
	uint32_t image;  /* index into images */
	uint64_t seq;    /* input order, for ties */
	uint16_t tp;     /* bit t: true positive at threshold t (set by tn_map_compute) */
};

struct tn_map_image {
	char *key;            /* label file stem, else the image_id as given (numbers in decimal) */
	int has_label_file;
	size_t label_off, nlabels; /* into labels */
	double width, height; /* pixels; 0 until a detection line gives them */
	int lb[4];            /* infer-detect --val's "letterbox": load_image's w, h and the canvas
			       * W, H; zeros when not given.  Given, the image is scored as val.py
			       * scores it: labels through its dataloader and scale_boxes; boxes,
			       * scores and IoUs float32 */
	uint64_t size_line;   /* line that gave the size (for messages) */
	const char *size_file;
};

/* What category_id means in a COCO results array (JSON lines always hold class indices):
 * infer-detect -f coco writes COCO's category ids 1..90 exactly when the class names are COCO's
 * 80 classes, else class indices. */
enum tn_map_ids {
	TN_MAP_IDS_UNKNOWN, /* no names: an id that can only be a COCO category id (>= 80) is refused */
	TN_MAP_IDS_INDEX,   /* class indices (the names are not COCO's 80) */
	TN_MAP_IDS_COCO91,  /* COCO category ids, mapped back to class indices 0..79 */
};

/* Everything read: labels of every label file, detections of every record. */
struct tn_map_data {
	int n;           /* classes, 0 = not fixed (then 1 + the largest class seen) */
	enum tn_map_ids array_ids; /* set before reading detections; 0 = TN_MAP_IDS_UNKNOWN */
	int max_class;   /* largest class seen, -1 if none */
	struct tn_map_image *images;
	size_t nimages, cap_images;
	struct tn_map_label *labels;
	size_t nlabels, cap_labels;
	struct tn_map_det *dets;
	size_t ndets, cap_dets;
	uint32_t *hash;   /* open addressing, image index + 1 (0 = empty) */
	size_t hash_cap, hash_used;
	size_t missing_label_images; /* images with detections and no label file */
	const char *first_missing;   /* key of the first one */
	size_t duplicate_labels;     /* exact duplicate label lines dropped */
	const char *first_duplicate_file;
	char *labels_dir;
	int want_curves;  /* set before tn_map_compute to have it fill r->curves */
};

/* n: the number of classes when known (from -n or names), 0 to take 1 + the largest seen. */
int tn_map_init(struct tn_map_data *d, int n);
void tn_map_free(struct tn_map_data *d);

/* Reads every regular file DIR/<stem>.txt (in byte order of the names) as YOLO labels:
 * lines "class cx cy w h", class a whole number, the rest in 0..1; blank lines skipped; exact
 * duplicate lines dropped (as ultralytics does) and counted in d->duplicate_labels.  Errors name
 * the file and line.  Call it once, before adding detections. */
int tn_map_load_labels(struct tn_map_data *d, const char *dir);

/* Parses one label file's text (buf[0..len)) for an image; name is used in messages. */
int tn_map_parse_labels(struct tn_map_data *d, uint32_t image, const char *buf, size_t len,
			const char *name);

/* Adds one JSON line {"image_id": s|n, "category_id": c, "bbox": [x, y, w, h], "score": s,
 * "width": W, "height": H} with an optional "letterbox": [w, h, W, H] (infer-detect --val: the
 * boxes are then val.py's float32 values); blank lines are ignored.  name and lineno are for messages. */
int tn_map_add_json_line(struct tn_map_data *d, const char *line, size_t len, const char *name,
			 uint64_t lineno);
/* Adds every detection of a stream: JSON lines as above, or, when the first byte that is not
 * white space is '[', one JSON array of the same objects (infer-detect -f coco; several arrays
 * one after another are read in turn), parsed one object at a time.  Errors name the file and
 * the line or record. */
int tn_map_read_dets(struct tn_map_data *d, FILE *fp, const char *name);

/* Finds or adds the image with this key; *index receives it.  numeric: the id was a number,
 * which also matches a label file whose stem is that number with leading zeros. */
int tn_map_image_index(struct tn_map_data *d, const char *key, int numeric, int create,
		       uint32_t *index);

struct tn_map_class {
	int cls;
	uint64_t instances;   /* labels of this class */
	uint64_t detections;  /* detections of this class */
	double p, r, ap50, ap;        /* ap = mean AP over the 10 thresholds (AP@0.5:0.95) */
	double ap_t[TN_MAP_NIOU];     /* AP at each threshold */
};

/* The curves val.py draws from ap_per_class (PR_curve.png, F1_curve.png, P_curve.png,
 * R_curve.png), at IoU 0.5, for the classes with labels.  Rows are TN_MAP_NPX long. */
struct tn_map_curves {
	int ncls;             /* classes with labels, in class order */
	int *cls;             /* their class numbers */
	double *p, *r, *f1;   /* ncls rows: P, R and F1 at confidence px (zero rows without detections) */
	double *pr;           /* ncls rows: the precision envelope at recall px; a class without
			       * detections has no curve (a zero row, left out of pr_all) */
	double px[TN_MAP_NPX];
	double pr_all[TN_MAP_NPX];  /* mean of the pr rows of classes with detections; 0 without any */
	double p_all[TN_MAP_NPX], r_all[TN_MAP_NPX], f1_all[TN_MAP_NPX]; /* smooth(mean, 0.05); 0 without classes */
};

struct tn_map_result {
	int n;
	uint64_t images, instances, detections;
	int nclasses;               /* classes with labels (val.py's ap_class) */
	struct tn_map_class *cls;   /* n entries, indexed by class; instances == 0: not evaluated */
	double mp, mr, map50, map;  /* means over the classes with labels */
	double conf;                /* the confidence at which P and R are read */
	double iou_thresholds[TN_MAP_NIOU];
	struct tn_map_curves *curves; /* NULL unless d->want_curves */
};

/* Matches, then computes every metric (and the curves when d->want_curves; they are drawn even
 * when no detection is a true positive, where val.py's metrics are all 0 and it draws nothing).
 * Sets d->n if it was 0.  Fails if a class is >= n. */
int tn_map_compute(struct tn_map_data *d, struct tn_map_result *r);
void tn_map_result_free(struct tn_map_result *r);

/* ---- the pieces, exported for tests ---- */

/* np.linspace(start, stop, num) element i, computed as NumPy does. */
double tn_linspace(double start, double stop, int num, int i);
/* box_iou of two x1y1x2y2 boxes: inter / (area_a + area_b - inter + 1e-7). */
double tn_box_iou(const double a[4], const double b[4]);
/* The same in float32, step by step as torch computes val.py's box_iou (a: the label). */
float tn_box_iou_f32(const double a[4], const double b[4]);
/* process_batch for one image: labels (class + box) and detections (class + box) in the order
 * val.py sees them (detections by decreasing score).  tp[j] receives bit t set when detection j
 * is a true positive at thresholds[t].  f32: IoUs and thresholds in float32, as torch has them
 * (boxes holding float32 values).  work: (nl + 1) * nd doubles of scratch. */
void tn_map_match(const int32_t *lcls, const double (*lbox)[4], size_t nl, const int32_t *dcls,
		  const double (*dbox)[4], size_t nd, const double *thresholds, int nt, int f32, uint16_t *tp,
		  double *work);
/* np.interp(x, xp, fp, left, right) at one point, xp non-decreasing, n >= 1. */
double tn_np_interp(double x, const double *xp, const double *fp, size_t n, double left, double right);
/* compute_ap('interp'): sentinels, precision envelope, trapezoid over np.interp at the 101
 * points np.linspace(0, 1, 101).  n points of the recall/precision curve; work: 2*(n+2) doubles,
 * left holding compute_ap's mrec (n+2) then its envelope mpre (n+2), which val.py plots. */
double tn_map_compute_ap(const double *recall, const double *precision, size_t n, double *work);
/* smooth(y, f) of utils/metrics.py for a 1000-point y: a box filter of round(2000 f) / 2 + 1 taps
 * (101 for the metric's 0.1, 51 for the charts' 0.05), ends padded with the edge values; 0 < f <= 1. */
void tn_map_smooth(const double *y, double f, double *out);
/* A label's box in pixels (x1 y1 x2 y2), as val.py scales xywh and converts it; for an image
 * with a letterbox, through val.py's dataloader and scale_boxes (float32 values). */
void tn_map_label_box(const struct tn_map_image *im, const struct tn_map_label *l, double box[4]);

/* Reports.  names has r->n entries. */
/* val.py's table: "%22s" + "%11s" * 6 header (Class Images Instances P R mAP50 mAP50-95), the
 * "all" row, then per class with labels when n > 1, as "%22s%11i%11i%11.3g%11.3g%11.3g%11.3g". */
void tn_map_write_table(FILE *fp, const struct tn_map_result *r, const char *const *names);
void tn_map_write_csv(FILE *fp, const struct tn_map_result *r, const char *const *names);
void tn_map_write_json(FILE *fp, const struct tn_map_result *r, const char *const *names);

#endif
