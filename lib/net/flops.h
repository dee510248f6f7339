/* Parameters and multiply-accumulates of a planned network, under a stated convention.
 *
 * Parameters are the PyTorch parameters of each node (buffers such as BatchNorm running
 * statistics and Detect anchors are not parameters):
 *   BN unfolded: conv weight + conv bias + BatchNorm weight and bias (model.parameters());
 *   BN folded:   conv weight + one bias per output channel (ultralytics' fused model).
 * MACs per node, by convention (FLOPs = 2 x MACs in every convention):
 *   CONV         conv and transposed-conv MACs only, bias excluded:
 *                  conv cout*oh*ow*(cin/groups)*kh*kw, transposed conv cin*h*w*(cout/groups)*k*k;
 *   THOP         what thop 0.1.x profile counts (ultralytics-thop 2.x the same): convs as
 *                  out elements*(cin/groups)*kh*kw (also for transposed convs), BatchNorm 4 per
 *                  element, nearest upsampling 1 per output element, the attention blocks'
 *                  Linear / Conv1d / 1x1 conv multiplies and adaptive pooling (kernel+1 per
 *                  output); max pooling, activations, concat, sums, F.interpolate, torch.mean
 *                  nothing;
 *   ULTRALYTICS  the README's "GFLOPs at 640" (thop of 2021): conv MACs + 1 per BatchNorm
 *                  output element, counted at a max-stride square input and scaled by
 *                  (h/stride)(w/stride) as model_info() does.
 * With BN folded no BatchNorm is left to count. */
#ifndef TN_FLOPS_H
#define TN_FLOPS_H

#include <stdint.h>

#include "net/net.h"

enum tn_flops_convention {
	TN_FLOPS_CONV,
	TN_FLOPS_THOP,
	TN_FLOPS_ULTRALYTICS,
};

struct tn_flops_opts {
	enum tn_flops_convention convention;
	int bn_folded;
	int probe; /* ULTRALYTICS: count at probe x probe and scale (0: at the planned size) */
	int blocks; /* without a yaml: one row per top-level module (the name up to its first dot,
		     * e.g. "inception3a"), parameter-free nodes joining the row before them */
};

/* One row: a YOLOv5 layer (model.<i>), a conv module with its BatchNorm, or a block. */
struct tn_flops_row {
	char name[TN_NAME_MAX];
	char module[48]; /* yaml module type, or the node kind */
	int c, h, w;     /* output shape of the row's last node */
	int64_t params;
	double macs;     /* whole numbers, except after a probe's scaling */
};

struct tn_flops {
	struct tn_flops_row *rows;
	int n;
	int64_t params;
	double macs;
};

/* Counts the planned net.  yaml (optional): the YOLOv5 config, to group nodes into its
 * layers and name their modules; without it each conv (or named node) is a row.  With
 * o->probe the net is planned at the probe size for the count and re-planned at its own
 * size afterwards.  *out is filled (tn_flops_free it). */
int tn_flops_count(struct tn_net *net, const struct tn_flops_opts *o, const char *yaml,
		   struct tn_flops *out);
void tn_flops_free(struct tn_flops *f);
/* "conv", "thop", "ultralytics" */
int tn_flops_convention_parse(const char *s, enum tn_flops_convention *out);
const char *tn_flops_convention_name(enum tn_flops_convention c);

#endif
