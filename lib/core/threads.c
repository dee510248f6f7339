/* One thread count for the process: OpenMP for our kernels and the same count for BLIS.
 * Debian's BLIS 0.9 does not recognise recent CPUs (e.g. AMD Zen 5) and silently falls back to
 * its generic C kernels; we pick the kernel set from the CPU's features ourselves, and only
 * sets the CPU can run. */
#include "core/threads.h"

#include <blis.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int nthreads = 1;

/* BLIS 0.9 reads BLIS_ARCH_TYPE as the number of an arch_t, not a name. */
static int pick_blis_arch(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
		return BLIS_ARCH_SKX;
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return BLIS_ARCH_HASWELL;
	return -1; /* leave BLIS's own choice */
}

int tn_threads_init(int requested)
{
	int n = requested;
	if (n <= 0) {
		const char *env = getenv("OMP_NUM_THREADS");
		if (env && *env) {
			char *end;
			long v = strtol(env, &end, 10);
			if ((*end == 0 || *end == ',') && v > 0 && v <= 1024)
				n = (int)v;
		}
	}
	if (n <= 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);
		n = cores > 0 ? (int)(cores > 1024 ? 1024 : cores) : 1;
	}
	nthreads = n;
	omp_set_num_threads(n);
	/* BLIS reads BLIS_ARCH_TYPE once, at its first call; a user's own setting wins. */
	const char *user = getenv("BLIS_ARCH_TYPE");
	int id = user && *user ? -1 : pick_blis_arch();
	if (id >= 0) {
		char num[16];
		snprintf(num, sizeof num, "%d", id);
		setenv("BLIS_ARCH_TYPE", num, 1);
	}
	bli_thread_set_num_threads(n);
	return n;
}

int tn_threads(void)
{
	return nthreads;
}
