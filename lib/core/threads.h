/* One thread count for the whole process, and the BLIS kernel set for this CPU. */
#ifndef TN_THREADS_H
#define TN_THREADS_H

/* requested > 0: use it; else OMP_NUM_THREADS; else all online cores.  Also picks the BLIS
 * kernel set from the CPU's features before the first BLIS call.  Returns the count. */
int tn_threads_init(int requested);
int tn_threads(void);

#endif
