/* exp and sigmoid written so the compiler vectorises loops over them (glibc's expf is a call per
 * element).  Cephes-style: exp(x) = 2^n * p(r), r = x - n ln 2, |r| <= ln2/2, a degree-6
 * polynomial; about 2 ulp relative error over the float range. */
#ifndef TN_FASTMATH_H
#define TN_FASTMATH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline float tn_expf(float x)
{
	x = x < -87.0f ? -87.0f : x;
	x = x > 88.0f ? 88.0f : x;
	float t = x * 1.44269504088896341f;
	/* round to nearest by truncating t +- 0.5: a conversion every SIMD unit has */
	int n = (int)(t + (t >= 0.0f ? 0.5f : -0.5f));
	float fn = (float)n;
	float r = x - fn * 0.693359375f;
	r = r + fn * 2.12194440e-4f;
	float p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	float y = p * r * r + r + 1.0f;
	int32_t bits = (int32_t)((uint32_t)(n + 127) << 23);
	float scale;
	memcpy(&scale, &bits, sizeof scale);
	return y * scale;
}

static inline float tn_sigmoidf(float x)
{
	return 1.0f / (1.0f + tn_expf(-x));
}

/* y[i] = silu(y[i] + b), vectorised for the CPU at hand. */
void tn_silu_bias(float *y, size_t n, float b);
/* The same over rows rows of n, stride floats apart, row r with bias b[r]. */
void tn_silu_bias_rows(float *y, size_t stride, int rows, size_t n, const float *b);
/* y = sigmoid(y) over rows rows of n, stride floats apart, vectorised as tn_silu_bias. */
void tn_sigmoid_rows(float *y, size_t stride, int rows, size_t n);

#endif
