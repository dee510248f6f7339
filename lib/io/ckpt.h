/* The torch.save checkpoint reader: the zip container (read from its central directory) and a
 * restricted unpickler that builds plain data and never runs code. */
#ifndef TN_CKPT_H
#define TN_CKPT_H

#include <stddef.h>
#include <stdint.h>

enum tn_dtype {
	TN_DTYPE_F32,
	TN_DTYPE_F16,
	TN_DTYPE_BF16,
	TN_DTYPE_F64,
	TN_DTYPE_I64,
	TN_DTYPE_I32,
	TN_DTYPE_I8,
	TN_DTYPE_U8,
	TN_DTYPE_BOOL,
};

#define TN_MAX_DIMS 8

struct tn_ckpt_tensor {
	char *name;             /* state_dict key, wrapper and "module." prefixes removed */
	enum tn_dtype dtype;    /* the storage's dtype in the checkpoint */
	int ndim;
	int64_t shape[TN_MAX_DIMS];
	float *f32;             /* contiguous float32 copy for floating dtypes; NULL otherwise */
	int64_t *i64;           /* contiguous copy for integer/bool dtypes; NULL otherwise */
	size_t numel;
};

struct tn_ckpt {
	struct tn_ckpt_tensor *t;
	size_t n;
	/* Set when the file holds a pickled ultralytics model object (a YOLOv5 .pt) rather than a
	 * state_dict; its tensors are then named as model.state_dict() would name them. */
	char *model_class; /* e.g. "models.yolo.Model" */
	char *yaml_json;   /* the model's 'yaml' attribute (its config dict) as JSON, or NULL */
	char *names_json;  /* class names as a JSON array, or NULL */
	char *attrs_json;  /* {"<layer>": {"type": class, attr: scalar...}} for model.model's layers */
};

/* Loads a torch.save file (zip format, or the legacy format).  Accepts a bare state_dict, the
 * wrappers {'state_dict': ...}, {'model': ...} (a dict of tensors), and ultralytics checkpoints
 * whose 'ema' or 'model' is a pickled nn.Module (its module tree is read as data, never run;
 * 'ema' wins when set); strips "module." prefixes.  Any pickle global outside the allow-list is
 * an error naming it. */
int tn_ckpt_load(const char *path, struct tn_ckpt *out);
/* 1 when the first n bytes of a file start like a torch.save checkpoint: a zip ("PK\3\4") or a
 * legacy one (a pickle, protocol 2 to 5).  A .w can start so too: ask tn_wfile_sniff first. */
int tn_ckpt_sniff(const unsigned char *head, size_t n);
void tn_ckpt_free(struct tn_ckpt *ck);
const struct tn_ckpt_tensor *tn_ckpt_find(const struct tn_ckpt *ck, const char *name);

#endif
