/* SiLU over a row, with AVX-512 and AVX2+FMA paths chosen at run time (the compiler does not vectorise
 * the exp for AVX2 on its own). */
#include "ops/fastmath.h"

#include "core/cpu.h"

#include <immintrin.h>

__attribute__((target("avx2,fma"))) static inline void silu_bias_avx2(float *y, size_t n, float b)
{
	const __m256 lo = _mm256_set1_ps(-87.0f), hi = _mm256_set1_ps(88.0f);
	const __m256 log2e = _mm256_set1_ps(1.44269504088896341f), one = _mm256_set1_ps(1.0f);
	const __m256 c1 = _mm256_set1_ps(0.693359375f), c2 = _mm256_set1_ps(-2.12194440e-4f);
	const __m256 bias = _mm256_set1_ps(b);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		__m256 v = _mm256_add_ps(_mm256_loadu_ps(y + i), bias);
		__m256 x = _mm256_min_ps(_mm256_max_ps(_mm256_sub_ps(_mm256_setzero_ps(), v), lo), hi);
		__m256 fn = _mm256_round_ps(_mm256_mul_ps(x, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
		__m256 r = _mm256_fnmadd_ps(fn, c1, x);
		r = _mm256_fnmadd_ps(fn, c2, r);
		__m256 p = _mm256_set1_ps(1.9875691500e-4f);
		p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
		p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
		p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
		p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
		p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
		__m256 e = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, one));
		__m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fn), _mm256_set1_epi32(127)), 23);
		e = _mm256_mul_ps(e, _mm256_castsi256_ps(bits));
		_mm256_storeu_ps(y + i, _mm256_div_ps(v, _mm256_add_ps(one, e)));
	}
	for (; i < n; i++) {
		float v = y[i] + b;
		y[i] = v / (1.0f + tn_expf(-v));
	}
}

/* The AVX2 path's operations, 16 lanes wide: the same bits. */
__attribute__((target("avx512f,avx2,fma"))) static inline void silu_bias_avx512(float *y, size_t n, float b)
{
	const __m512 lo = _mm512_set1_ps(-87.0f), hi = _mm512_set1_ps(88.0f);
	const __m512 log2e = _mm512_set1_ps(1.44269504088896341f), one = _mm512_set1_ps(1.0f);
	const __m512 c1 = _mm512_set1_ps(0.693359375f), c2 = _mm512_set1_ps(-2.12194440e-4f);
	const __m512 bias = _mm512_set1_ps(b);
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		__m512 v = _mm512_add_ps(_mm512_loadu_ps(y + i), bias);
		__m512 x = _mm512_min_ps(_mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), v), lo), hi);
		__m512 fn = _mm512_roundscale_ps(_mm512_mul_ps(x, log2e), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
		__m512 r = _mm512_fnmadd_ps(fn, c1, x);
		r = _mm512_fnmadd_ps(fn, c2, r);
		__m512 p = _mm512_set1_ps(1.9875691500e-4f);
		p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
		p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
		p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
		p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
		p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
		__m512 e = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, one));
		__m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(fn), _mm512_set1_epi32(127)), 23);
		e = _mm512_mul_ps(e, _mm512_castsi512_ps(bits));
		_mm512_storeu_ps(y + i, _mm512_div_ps(v, _mm512_add_ps(one, e)));
	}
	silu_bias_avx2(y + i, n - i, b); /* its 8-wide steps and scalar tail: the AVX2 path's bits */
}

static void silu_bias_generic(float *restrict y, size_t n, float b)
{
	for (size_t i = 0; i < n; i++) {
		float v = y[i] + b;
		y[i] = v / (1.0f + tn_expf(-v));
	}
}

void tn_silu_bias_rows(float *y, size_t stride, int rows, size_t n, const float *b)
{
	const enum tn_isa isa = tn_isa_active();
	for (int r = 0; r < rows; r++) {
		if (isa == TN_ISA_AVX512)
			silu_bias_avx512(y + r * stride, n, b[r]);
		else if (isa == TN_ISA_AVX2)
			silu_bias_avx2(y + r * stride, n, b[r]);
		else
			silu_bias_generic(y + r * stride, n, b[r]);
	}
}

void tn_silu_bias(float *y, size_t n, float b)
{
	const enum tn_isa isa = tn_isa_active();
	if (isa == TN_ISA_AVX512)
		silu_bias_avx512(y, n, b);
	else if (isa == TN_ISA_AVX2)
		silu_bias_avx2(y, n, b);
	else
		silu_bias_generic(y, n, b);
}
