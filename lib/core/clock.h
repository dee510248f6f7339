/* Monotonic milliseconds, for the per-stage timings programs print on request. */
#ifndef TN_CLOCK_H
#define TN_CLOCK_H

#include <time.h>

static inline double tn_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

#endif
