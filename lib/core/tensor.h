/* A float32 NCHW tensor (batch 1 in practice), contiguous.  It owns its buffer or borrows it
 * (from the mmap'd model file or from the activation arena). */
#ifndef TN_TENSOR_H
#define TN_TENSOR_H

#include <stddef.h>
#include <stdint.h>

struct tn_tensor {
	int n, c, h, w;
	float *data;
	int owned; /* 1: malloc'd here, freed by tn_tensor_free */
};

/* Overflow-checked products: return 0, or TN_E_INVAL with a detail naming what overflowed. */
int tn_mul_size(size_t a, size_t b, size_t *out);
int tn_shape_numel(int ndim, const int64_t *shape, size_t *out);
static inline size_t tn_numel(const struct tn_tensor *t)
{
	return (size_t)t->n * t->c * t->h * t->w;
}
/* Allocates an owned, zeroed tensor. */
int tn_tensor_alloc(struct tn_tensor *t, int n, int c, int h, int w);
void tn_tensor_free(struct tn_tensor *t);

#endif
