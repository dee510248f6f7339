/* The .w model file: a safetensors file (8-byte little-endian header length, a JSON header
 * mapping tensor name -> {dtype, shape, data_offsets}, raw little-endian data) whose
 * "__metadata__" (string -> string, as safetensors requires) says how to run the model. */
#ifndef TN_WFILE_H
#define TN_WFILE_H

#include <stddef.h>
#include <stdint.h>

#include "io/ckpt.h"

/* Storage dtypes of a .w file: "F32", "F16", "BF16". */

struct tn_wtensor {
	const char *name;
	enum tn_dtype dtype; /* F32, F16 or BF16 */
	int ndim;
	int64_t shape[TN_MAX_DIMS];
	size_t numel;
	const void *data;    /* points into the mapping */
};

struct tn_wfile {
	const char *path;
	void *map;
	size_t map_len;
	struct tn_wtensor *t; /* sorted by name */
	size_t n;
	char **meta_keys, **meta_vals; /* __metadata__ */
	size_t n_meta;
	void *json_root;      /* owned header document */
};

/* 1 when head (the first n bytes of a file of size bytes) starts a .w/safetensors file: a
 * header length that fits in the file, then '{'. */
int tn_wfile_sniff(const unsigned char *head, size_t n, uint64_t size);

/* mmaps path and validates the whole header before touching data: header length within the
 * file, valid JSON object, every entry with a known dtype, shape elements that don't overflow,
 * data_offsets [begin,end) inside the data area with end-begin == numel*dtype size, no two
 * tensors overlapping, metadata values all strings.  Errors name the file and the tensor. */
int tn_wfile_open(const char *path, struct tn_wfile *wf);
void tn_wfile_close(struct tn_wfile *wf);
const struct tn_wtensor *tn_wfile_find(const struct tn_wfile *wf, const char *name);
/* Metadata value for key, or NULL. */
const char *tn_wfile_meta(const struct tn_wfile *wf, const char *key);
/* Converts a tensor's data to float32 into dst (numel floats). */
void tn_wtensor_to_f32(const struct tn_wtensor *t, float *dst);

/* Writing: tensors (float32 source data) stored as F32 or F16, with metadata pairs; written
 * atomically (temporary file + rename).  Tensor data are 8-byte aligned in the file. */
struct tn_wwrite_tensor {
	const char *name;
	int ndim;
	const int64_t *shape;
	const float *f32;
};
int tn_wfile_write(const char *path, const struct tn_wwrite_tensor *t, size_t n,
		   const char *const *meta_keys, const char *const *meta_vals, size_t n_meta,
		   enum tn_dtype store);

/* IEEE half and bfloat16 (stored as their bit patterns) to float, exactly. */
float tn_f16_to_f32(uint16_t h);
float tn_bf16_to_f32(uint16_t h);

#endif
