/* A segmentation model loaded from a .w file, and the upstream predict pipeline around it:
 * letterbox (PIL bicubic onto gray), x/255, network, softmax, crop, OpenCV-bilinear resize of
 * the probabilities to the original size, argmax (first index wins ties). */
#ifndef TN_SEGMODEL_H
#define TN_SEGMODEL_H

#include <stdint.h>

#include "io/image.h"
#include "io/wfile.h"
#include "models/deeplab.h"
#include "net/net.h"

struct tn_family;

struct tn_segmodel {
	struct tn_wfile wf;
	const struct tn_family *fam; /* its registry row */
	struct tn_net net;
	enum tn_backbone backbone;
	int downsample, num_classes, in_h, in_w;
	uint8_t fill;
	char **class_names; /* num_classes names */
	uint8_t palette[256][3];
	/* Milliseconds the last predict spent in each stage. */
	double ms_letterbox, ms_network, ms_post;
	/* arch "encnet" (mmseg EncNet): ResNet depth, lateral fusion, the SE classifier's node. */
	int encnet, depth, add_lateral, se_node;
	int logits_h, logits_w; /* size of the last predict's logits */
};

/* Opens the file and builds the network its metadata describes, without checking or loading
 * the tensors (for weightconv --check, which reports every mismatch). */
int tn_segmodel_describe(struct tn_segmodel *m, const char *path);
/* Opens, validates against the architecture, loads and plans.  Errors name the file. */
int tn_segmodel_open(struct tn_segmodel *m, const char *path);
void tn_segmodel_close(struct tn_segmodel *m);

/* Runs the whole pipeline on an RGB image.  mask gets w*h class indices (malloc'd).  If
 * logits is not NULL it gets a malloc'd copy of the raw network output [C][in_h][in_w]. */
int tn_segmodel_predict(struct tn_segmodel *m, const struct tn_image *img, uint8_t **mask,
			float **logits);

/* EncNet only: the last predict's per-class presence probabilities (sigmoid of the SE
 * classifier), num_classes values; TN_E_UNSUPPORTED for other models. */
int tn_segmodel_scene(const struct tn_segmodel *m, float *probs);

/* The metadata a .w file carries for a segmentation model; shared by weightconv. */
/* Pixels of each class in a w*h mask: counts[k] for k < n; indices >= n are not counted. */
void tn_seg_count(const uint8_t *mask, size_t npx, int n, uint64_t *counts);
/* predict.py's mix_type 2: the photo's pixels where the class is not 0 (background), black
 * elsewhere; out has the photo's size and is malloc'd. */
int tn_seg_cutout(const struct tn_image *img, const uint8_t *mask, struct tn_image *out);

int tn_segmeta_parse_size(const char *s, int *h, int *w);

#endif
