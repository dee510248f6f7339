/* SiLU and the sigmoid over rows, with AVX-512 and AVX2+FMA paths chosen at run time (the
 * compiler does not vectorise the exp for AVX2 on its own).  Both vector paths run the same
 * operations lane by lane, tails included (masked), so the two give the same bits and a value's
 * result does not depend on where it sits in a row; the portable path (tn_expf) rounds
 * differently. */
#include "ops/fastmath.h"

#include "core/cpu.h"

#include <immintrin.h>

/* exp(-v), as tn_expf(-v) but with FMAs */
__attribute__((target("avx2,fma"))) static inline __m256 exp_neg256(__m256 v)
{
	const __m256 x = _mm256_min_ps(_mm256_max_ps(_mm256_sub_ps(_mm256_setzero_ps(), v), _mm256_set1_ps(-87.0f)),
				       _mm256_set1_ps(88.0f));
	const __m256 fn = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
					  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m256 r = _mm256_fnmadd_ps(fn, _mm256_set1_ps(0.693359375f), x);
	r = _mm256_fnmadd_ps(fn, _mm256_set1_ps(-2.12194440e-4f), r);
	__m256 p = _mm256_set1_ps(1.9875691500e-4f);
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
	p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
	const __m256 e = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
	const __m256i bits =
		_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fn), _mm256_set1_epi32(127)), 23);
	return _mm256_mul_ps(e, _mm256_castsi256_ps(bits));
}

__attribute__((target("avx512f"))) static inline __m512 exp_neg512(__m512 v)
{
	const __m512 x = _mm512_min_ps(_mm512_max_ps(_mm512_sub_ps(_mm512_setzero_ps(), v), _mm512_set1_ps(-87.0f)),
				       _mm512_set1_ps(88.0f));
	const __m512 fn = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
					       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
	__m512 r = _mm512_fnmadd_ps(fn, _mm512_set1_ps(0.693359375f), x);
	r = _mm512_fnmadd_ps(fn, _mm512_set1_ps(-2.12194440e-4f), r);
	__m512 p = _mm512_set1_ps(1.9875691500e-4f);
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
	p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
	const __m512 e = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
	const __m512i bits =
		_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(fn), _mm512_set1_epi32(127)), 23);
	return _mm512_mul_ps(e, _mm512_castsi512_ps(bits));
}

/* y[i] = f(y[i] + b) with f(v) = v / (1 + exp(-v)) (silu) or 1 / (1 + exp(-v)) */
static inline float silu_or_sigmoid(float v, int silu)
{
	return (silu ? v : 1.0f) / (1.0f + tn_expf(-v));
}

__attribute__((target("avx2,fma"))) static inline void rows_avx2(float *y, size_t n, float b, int silu)
{
	const __m256 bias = _mm256_set1_ps(b), one = _mm256_set1_ps(1.0f);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		const __m256 v = _mm256_add_ps(_mm256_loadu_ps(y + i), bias);
		_mm256_storeu_ps(y + i, _mm256_div_ps(silu ? v : one, _mm256_add_ps(one, exp_neg256(v))));
	}
	if (i < n) { /* the tail through the same lanes: a value's bits do not depend on its place */
		const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)),
						     _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
		const __m256 v = _mm256_add_ps(_mm256_maskload_ps(y + i, m), bias);
		_mm256_maskstore_ps(y + i, m, _mm256_div_ps(silu ? v : one, _mm256_add_ps(one, exp_neg256(v))));
	}
}

__attribute__((target("avx512f,avx2,fma"))) static inline void rows_avx512(float *y, size_t n, float b, int silu)
{
	const __m512 bias = _mm512_set1_ps(b), one = _mm512_set1_ps(1.0f);
	size_t i = 0;
	for (; i + 16 <= n; i += 16) {
		const __m512 v = _mm512_add_ps(_mm512_loadu_ps(y + i), bias);
		_mm512_storeu_ps(y + i, _mm512_div_ps(silu ? v : one, _mm512_add_ps(one, exp_neg512(v))));
	}
	rows_avx2(y + i, n - i, b, silu);
}

static void rows_generic(float *restrict y, size_t n, float b, int silu)
{
	for (size_t i = 0; i < n; i++)
		y[i] = silu_or_sigmoid(y[i] + b, silu);
}

static void apply_rows(float *y, size_t stride, int rows, size_t n, const float *b, int silu)
{
	const enum tn_isa isa = tn_isa_active();
	for (int r = 0; r < rows; r++) {
		const float br = b ? b[r] : 0.0f;
		if (isa == TN_ISA_AVX512)
			rows_avx512(y + r * stride, n, br, silu);
		else if (isa == TN_ISA_AVX2)
			rows_avx2(y + r * stride, n, br, silu);
		else
			rows_generic(y + r * stride, n, br, silu);
	}
}

void tn_silu_bias_rows(float *y, size_t stride, int rows, size_t n, const float *b)
{
	apply_rows(y, stride, rows, n, b, 1);
}

void tn_silu_bias(float *y, size_t n, float b)
{
	apply_rows(y, 0, 1, n, &b, 1);
}

void tn_sigmoid_rows(float *y, size_t stride, int rows, size_t n)
{
	apply_rows(y, stride, rows, n, NULL, 0);
}
