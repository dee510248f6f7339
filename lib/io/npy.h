/* NumPy .npy files (version 1.0, little-endian float32 / uint8), for debug dumps and tests. */
#ifndef TN_NPY_H
#define TN_NPY_H

#include <stddef.h>
#include <stdint.h>

int tn_npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape);
/* Reads a C-order '<f4' array; *data malloc'd. */
int tn_npy_read_f32(const char *path, float **data, int *ndim, int64_t shape[8]);

#endif
