/* Hot loops of our own kernels get an AVX2 clone next to the baseline x86-64 one, and the
 * loader picks one by the CPU (GCC's target_clones, an ifunc): the build stays portable.
 * ISO C mode keeps floating-point contraction off, so both clones give the same bits.  Put it
 * on a function called per channel or per row, not inside an OpenMP region's body, which GCC
 * outlines into a function the attribute does not reach. */
#ifndef TN_SIMD_H
#define TN_SIMD_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__)
#define TN_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define TN_SIMD_CLONES
#endif

#endif
