/* Enough independent accumulators to cover the FMA latency on both pipes (4 cycles x 2 pipes
 * needs 8; 12 leave slack), kept in registers by writing each one out rather than as an array. */
#include "core/peak.h"

#include "core/clock.h"
#include "core/cpu.h"

#include <omp.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define TN_X86 1
#endif

#define FMA_ITERS 10000000L /* about 25 ms a repeat at 200 GFLOP/s */

#ifdef TN_X86
/* One function per vector width: 12 accumulators, each one's chain a*m+c, summed at the end so
 * that none is dead.  FLOPs: iterations x 12 x lanes x 2. */
#define FMA_KERNEL(fn, isa, vec, lanes, set1, fmadd, add, store)                              \
	__attribute__((target(isa))) static double fn(long iters)                               \
	{                                                                                         \
		/* distinct starts, or the compiler merges the identical chains into one */          \
		vec m = set1(0.999999f), c = set1(1e-7f), a0 = set1(1.0f), a1 = set1(1.01f);       \
		vec a2 = set1(1.02f), a3 = set1(1.03f), a4 = set1(1.04f), a5 = set1(1.05f);        \
		vec a6 = set1(1.06f), a7 = set1(1.07f), a8 = set1(1.08f), a9 = set1(1.09f);        \
		vec a10 = set1(1.1f), a11 = set1(1.11f);                                           \
		for (long i = 0; i < iters; i++) {                                                \
			a0 = fmadd(a0, m, c), a1 = fmadd(a1, m, c), a2 = fmadd(a2, m, c);         \
			a3 = fmadd(a3, m, c), a4 = fmadd(a4, m, c), a5 = fmadd(a5, m, c);         \
			a6 = fmadd(a6, m, c), a7 = fmadd(a7, m, c), a8 = fmadd(a8, m, c);         \
			a9 = fmadd(a9, m, c), a10 = fmadd(a10, m, c), a11 = fmadd(a11, m, c);     \
		}                                                                                 \
		vec s = add(add(add(a0, a1), add(a2, a3)), add(add(a4, a5), add(a6, a7)));        \
		s = add(s, add(add(a8, a9), add(a10, a11)));                                      \
		float out[lanes];                                                                 \
		store(out, s);                                                                    \
		volatile float sink = out[0] + out[lanes - 1];                                    \
		(void)sink;                                                                       \
		return (double)iters * 12 * lanes * 2;                                            \
	}

FMA_KERNEL(fmas_avx512, "avx512f", __m512, 16, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_storeu_ps)
FMA_KERNEL(fmas_avx2, "avx2,fma", __m256, 8, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_storeu_ps)
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
	/* the widest path the CPU runs, as the kernels choose it */
	if (tn_isa_best() == TN_ISA_AVX512)
		run = fmas_avx512, name = "avx512";
	else if (tn_isa_best() == TN_ISA_AVX2)
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
