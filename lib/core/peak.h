/* This machine's fp32 multiply-add peak, measured, so that a profile can say how far a layer
 * is from it (machines of one kind differ: AVX-512 on one, AVX2 on the next). */
#ifndef TN_PEAK_H
#define TN_PEAK_H

/* GFLOP/s of independent FMAs on nthreads threads with the widest vectors this CPU runs
 * (about 0.1 s; best of three).  *isa (may be NULL) gets "avx512", "avx2" or "scalar". */
double tn_fma_peak_gflops(int nthreads, const char **isa);

#endif
