/* Test buffers for the kernel tests: a reproducible random stream (each test sets its seed),
 * NaN-filled scratch, and the error measure the tolerances are stated in. */
#ifndef TN_TEST_BUFS_H
#define TN_TEST_BUFS_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static uint32_t test_rng = 12345;

/* Uniform in [-1, 1) */
static inline float frand(void)
{
	test_rng = test_rng * 1664525u + 1013904223u;
	return (float)(test_rng >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
}

static inline float *rand_buf(size_t n)
{
	float *p = malloc(sizeof(float) * (n ? n : 1));
	for (size_t i = 0; i < n; i++)
		p[i] = frand();
	return p;
}

/* Scratch filled with NaN: a path that reads scratch it did not write shows in its output. */
static inline float *nan_buf(size_t n)
{
	float *p = malloc(sizeof(float) * (n ? n : 1));
	for (size_t i = 0; i < n; i++)
		p[i] = NAN;
	return p;
}

/* Largest absolute difference over the largest reference magnitude; a NaN sticks. */
static inline double max_rel_diff(const float *a, const float *b, size_t n)
{
	double m = 0, scale = 1e-6;
	for (size_t i = 0; i < n; i++)
		if (fabs(b[i]) > scale)
			scale = fabs(b[i]);
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - b[i]);
		if (!(d <= m))
			m = d;
	}
	return m / scale;
}

#endif
