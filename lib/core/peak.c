/* Enough independent accumulators to cover the FMA latency on both pipes (4 cycles x 2 pipes
 * needs 8; 16 zmm / 12 ymm leave slack), kept in registers by writing each one out. */
#include "core/peak.h"

#include "core/clock.h"

#include <omp.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TN_X86 1
#endif

#define FMA_ITERS 10000000L /* about 25 ms a repeat at 200 GFLOP/s */

#ifdef TN_X86
__attribute__((target("avx512f"))) static double fmas_avx512(long iters)
{
	__m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
	__m512 a0 = _mm512_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
	__m512 a8 = a0, a9 = a0, a10 = a0, a11 = a0, a12 = a0, a13 = a0, a14 = a0, a15 = a0;
	for (long i = 0; i < iters; i++) {
		a0 = _mm512_fmadd_ps(a0, m, c), a1 = _mm512_fmadd_ps(a1, m, c);
		a2 = _mm512_fmadd_ps(a2, m, c), a3 = _mm512_fmadd_ps(a3, m, c);
		a4 = _mm512_fmadd_ps(a4, m, c), a5 = _mm512_fmadd_ps(a5, m, c);
		a6 = _mm512_fmadd_ps(a6, m, c), a7 = _mm512_fmadd_ps(a7, m, c);
		a8 = _mm512_fmadd_ps(a8, m, c), a9 = _mm512_fmadd_ps(a9, m, c);
		a10 = _mm512_fmadd_ps(a10, m, c), a11 = _mm512_fmadd_ps(a11, m, c);
		a12 = _mm512_fmadd_ps(a12, m, c), a13 = _mm512_fmadd_ps(a13, m, c);
		a14 = _mm512_fmadd_ps(a14, m, c), a15 = _mm512_fmadd_ps(a15, m, c);
	}
	__m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
				 _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
	s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)),
					   _mm512_add_ps(_mm512_add_ps(a12, a13), _mm512_add_ps(a14, a15))));
	volatile float sink = _mm512_reduce_add_ps(s);
	(void)sink;
	return (double)iters * 16 * 16 * 2;
}

__attribute__((target("avx2,fma"))) static double fmas_avx2(long iters)
{
	__m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
	__m256 a0 = _mm256_set1_ps(1.0f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
	__m256 a8 = a0, a9 = a0, a10 = a0, a11 = a0;
	for (long i = 0; i < iters; i++) {
		a0 = _mm256_fmadd_ps(a0, m, c), a1 = _mm256_fmadd_ps(a1, m, c);
		a2 = _mm256_fmadd_ps(a2, m, c), a3 = _mm256_fmadd_ps(a3, m, c);
		a4 = _mm256_fmadd_ps(a4, m, c), a5 = _mm256_fmadd_ps(a5, m, c);
		a6 = _mm256_fmadd_ps(a6, m, c), a7 = _mm256_fmadd_ps(a7, m, c);
		a8 = _mm256_fmadd_ps(a8, m, c), a9 = _mm256_fmadd_ps(a9, m, c);
		a10 = _mm256_fmadd_ps(a10, m, c), a11 = _mm256_fmadd_ps(a11, m, c);
	}
	__m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
				 _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
	s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
	float out[8];
	_mm256_storeu_ps(out, s);
	volatile float sink = out[0] + out[7];
	(void)sink;
	return (double)iters * 12 * 8 * 2;
}
#endif

static double fmas_scalar(long iters)
{
	float a[8] = {1, 1, 1, 1, 1, 1, 1, 1};
	for (long i = 0; i < iters; i++)
		for (int k = 0; k < 8; k++)
			a[k] = a[k] * 0.999999f + 1e-7f;
	volatile float sink = a[0] + a[7];
	(void)sink;
	return (double)iters * 8 * 2;
}

double tn_fma_peak_gflops(int nthreads, const char **isa)
{
	double (*run)(long) = fmas_scalar;
	const char *name = "scalar";
#ifdef TN_X86
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		run = fmas_avx512, name = "avx512";
	else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		run = fmas_avx2, name = "avx2";
#endif
	if (isa)
		*isa = name;
	if (nthreads < 1)
		nthreads = 1;
	double best = 0;
	for (int rep = 0; rep < 3; rep++) {
		double flops = 0, t0 = tn_now_ms();
#pragma omp parallel num_threads(nthreads) reduction(+ : flops)
		flops += run(FMA_ITERS);
		double gflops = flops / ((tn_now_ms() - t0) * 1e6);
		if (gflops > best)
			best = gflops;
	}
	return best;
}
