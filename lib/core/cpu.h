/* The instruction-set paths our own kernels have, chosen at run time from the CPU's flags
 * (machines of one kind differ: AVX-512 on one, only AVX2 on the next), and narrowed on
 * demand so that tests run every path the CPU can. */
#ifndef TN_CPU_H
#define TN_CPU_H

enum tn_isa {
	TN_ISA_GENERIC, /* portable C */
	TN_ISA_AVX2,    /* AVX2 + FMA */
	TN_ISA_AVX512,  /* AVX-512F */
};

/* The widest path this CPU runs. */
enum tn_isa tn_isa_best(void);
/* The path the kernels take: tn_isa_best() unless narrowed by tn_isa_use. */
enum tn_isa tn_isa_active(void);
/* For tests: take this path from now on (capped at tn_isa_best()); returns the previous one.
 * Not thread-safe: call it between forwards. */
enum tn_isa tn_isa_use(enum tn_isa isa);
const char *tn_isa_name(enum tn_isa isa);

#endif
