/* PASCAL VOC segmentation data sets as bubbliiiing's voc_annotation.py sees them: the label
 * names of SegmentationClass in os.listdir order, the random train/val/test split, and the
 * label checks (raw palette indices, values < num_classes or 255, a JPEG for each label). */
#ifndef TN_VOC_H
#define TN_VOC_H

#include <stddef.h>
#include <stdint.h>

/* Label file names ending in ".png" (case-sensitive, as upstream), without their folder. */
struct tn_voc_names {
	char **name;
	size_t n;
};

/* Lists dir in readdir order (= Python's os.listdir), or sorted bytewise when sort is set. */
int tn_voc_list(const char *dir, int sort, struct tn_voc_names *out);
void tn_voc_names_free(struct tn_voc_names *names);

enum tn_voc_set { TN_VOC_TEST = 0, TN_VOC_TRAIN = 1, TN_VOC_VAL = 2 };

/* The upstream split of n names: tv = int(n*trainval), tr = int(tv*train) in doubles;
 * random.seed(seed); trainval = sample(range(n), tv); train = sample(trainval, tr).
 * which[i] gets the set of name i; *ntv and *ntr (may be NULL) the two sizes.
 * Fractions must be in [0, 1]. */
int tn_voc_split(size_t n, double trainval, double train, uint64_t seed, uint8_t *which,
		 size_t *ntv, size_t *ntr);

/* The text of one list file ("trainval", "train", "val" or "test"): the names in list
 * order, each without its last 4 characters (".png") and followed by "\n".  malloc'd. */
int tn_voc_list_text(const struct tn_voc_names *names, const uint8_t *which, const char *list,
		     char **text, size_t *len);

/* Reads a label as np.array(Image.open(path), np.uint8) sees a one-channel PNG (palette
 * indices, never colours) and sets hist[v] to its count of value v; *w and *h (may be NULL)
 * get its size.  An RGB/RGBA/16-bit, unreadable or truncated label is an error naming path. */
int tn_voc_label_hist(const char *path, size_t max_pixels, uint64_t hist[256], int *w, int *h);

enum tn_voc_values {
	TN_VOC_VALUES_OK = 0,
	TN_VOC_VALUES_BINARY,	/* only 0 and 255: a 0/255 object mask */
	TN_VOC_VALUES_RANGE,	/* a value in [num_classes, 255) */
};
/* Judges one label's values; for a problem writes a one-line reason into why (no file name). */
int tn_voc_label_values(const uint64_t hist[256], int num_classes, char *why, size_t whylen);

#endif
