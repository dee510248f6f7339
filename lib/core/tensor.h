/* Overflow-checked sizes of tensors and buffers. */
#ifndef TN_TENSOR_H
#define TN_TENSOR_H

#include <stddef.h>
#include <stdint.h>

/* Overflow-checked products: return 0, or TN_E_INVAL with a detail naming what overflowed. */
int tn_mul_size(size_t a, size_t b, size_t *out);
int tn_shape_numel(int ndim, const int64_t *shape, size_t *out);

#endif
