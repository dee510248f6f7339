/* YOLOv5 built from its yaml config with ultralytics parse_model semantics (depth and width
 * multiples, make_divisible by 8, `from` lists, repeats), state_dict names model.<i>.... */
#ifndef TN_YOLO_H
#define TN_YOLO_H

#include "net/net.h"

struct tn_yolo_info {
	int nc;          /* classes */
	int na, nl;      /* anchors per level, levels */
	int max_stride;  /* 32 for P3-P5 */
	int n_layers;
};

/* yaml: the config text (YAML, or the JSON weightconv stores).  name: for messages.
 * shapes: optional, the tensors at hand (checkpoint or .w); the attention blocks' hidden sizes
 * are taken from them when present, as the attention-module tutorial's yaml arguments are unreliable.
 * attrs_json: optional per-layer attributes pickled in an ultralytics checkpoint (e.g.
 * EffectiveSE's add_maxpool).  Builds for an in_h x in_w input. */
int tn_yolo_build(struct tn_net *net, const char *yaml, const char *name,
		  const struct tn_param_source *shapes, const char *attrs_json, int in_h, int in_w,
		  struct tn_yolo_info *info);

/* A model yaml nested deeper than this is refused before it is parsed. */
#define TN_YAML_MAX_DEPTH 64
/* Whether text's yaml nests deeper than limit (sequences and mappings); 0 on a syntax error. */
int tn_yaml_too_deep(const char *text, int limit);

#endif
