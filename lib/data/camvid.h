/* CamVid label conversion: label_colors.txt, colour -> class index, the SegNet 32->11 grouping,
 * nearest resize of label masks, the seeded split. */
#ifndef TN_CAMVID_H
#define TN_CAMVID_H

#include "io/image.h"

#include <stddef.h>
#include <stdint.h>

/* 255 is the ignore index, so a colour table holds at most 255 classes. */
#define TN_CAMVID_MAX_CLASSES 255
#define TN_CAMVID_NAME_MAX 64

struct tn_camvid_class {
	uint8_t rgb[3];
	char name[TN_CAMVID_NAME_MAX];
};

struct tn_camvid_colors {
	int n;
	int void_class; /* index of the class named "Void", -1 if none */
	struct tn_camvid_class cls[TN_CAMVID_MAX_CLASSES];
};

/* Parses label_colors.txt: one class per line, "R G B<whitespace>Name", components 0..255,
 * the name one word of printable characters; blank lines are skipped, CRLF accepted.  A bad
 * line, a repeated colour or name, binary data or no class at all is an error naming
 * `name` and the line number. */
int tn_camvid_parse_colors(const char *text, size_t len, const char *name, struct tn_camvid_colors *out);

/* Parses the Kaggle CamVid class_dict.csv: the header "name,r,g,b", then one "Name,R,G,B" line
 * per class (no quoting; blanks around fields ignored; CRLF and a UTF-8 BOM accepted).  Errors
 * as above. */
int tn_camvid_parse_class_dict(const char *text, size_t len, const char *name, struct tn_camvid_colors *out);

/* The SegNet 11 classes and their display colours; entry 11 is Void (black). */
#define TN_CAMVID11_N 11
extern const char *const tn_camvid11_names[TN_CAMVID11_N];
extern const uint8_t tn_camvid11_palette[TN_CAMVID11_N + 1][3];

/* The SegNet group (0..10) of a 32-class name (case-insensitive), TN_CAMVID11_N for Void,
 * -1 for a name outside the standard 32. */
int tn_camvid_group11(const char *name);

/* Exact RGB -> output value lookup. */
struct tn_camvid_lut {
	int n;
	uint32_t key[TN_CAMVID_MAX_CLASSES]; /* 0xRRGGBB, ascending */
	uint8_t val[TN_CAMVID_MAX_CLASSES];
};

/* Builds the lookup from the colour table; map[i] is the output value of class i. */
void tn_camvid_lut_init(struct tn_camvid_lut *lut, const struct tn_camvid_colors *c, const uint8_t *map);

/* rgb (w x h x 3) -> out (w x h values).  An unknown colour is an error naming `name`, the
 * first such pixel (x,y), its colour and how many pixels are unknown, unless unknown_value is
 * 0..255: then those pixels get it and *unknown counts them. */
int tn_camvid_map_rgb(const struct tn_camvid_lut *lut, const struct tn_image *rgb, const char *name,
		      int unknown_value, uint8_t *out, size_t *unknown);

/* An index mask (w x h x 1) through map[0..nmap-1]; a value >= nmap is an error naming
 * `name`, the first such pixel and the value. */
int tn_camvid_map_index(const uint8_t *map, int nmap, const struct tn_image *mask, const char *name,
			uint8_t *out);

enum tn_nearest { TN_NEAREST_PIL, TN_NEAREST_CV };

/* Nearest-neighbour resize of a one-byte-per-pixel mask, (sw x sh) -> (dw x dh).
 * TN_NEAREST_PIL: PIL Image.resize(NEAREST), source x = (int)(x0) with x0 = s/2 + d*s
 *   accumulated in double, s = sw/dw (a 2x shrink picks the odd pixels);
 * TN_NEAREST_CV: OpenCV INTER_NEAREST, floor(d*sw/dw) (the even pixels). */
int tn_resize_nearest_u8(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh,
			 enum tn_nearest conv);

/* cv2.resize(INTER_LINEAR) of an 8-bit image of any channel count, computed in float by
 * tn_resize_bilinear_cv and rounded to nearest. dst is allocated. */
int tn_resize_bilinear_u8(const struct tn_image *src, int dw, int dh, struct tn_image *dst);

enum { TN_SPLIT_TRAIN, TN_SPLIT_VAL, TN_SPLIT_TEST };

/* Seeded split of n items in the SegNet proportions 367:101:233 (701 items give exactly
 * 367/101/233): ntrain = round(n*367/701), nval = round(n*101/701), the rest test.  A
 * Fisher-Yates shuffle of 0..n-1 driven by splitmix64(seed) puts its first ntrain positions in
 * train, the next nval in val.  split[i] receives TN_SPLIT_* of item i. */
int tn_camvid_split(size_t n, uint64_t seed, int *split);

#endif
