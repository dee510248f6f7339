#include "core/cpu.h"

static int best = -1, active = -1;

enum tn_isa tn_isa_best(void)
{
	if (best < 0) {
		__builtin_cpu_init();
		if (__builtin_cpu_supports("avx512f"))
			best = TN_ISA_AVX512;
		else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
			best = TN_ISA_AVX2;
		else
			best = TN_ISA_GENERIC;
	}
	return (enum tn_isa)best;
}

enum tn_isa tn_isa_active(void)
{
	return active < 0 ? tn_isa_best() : (enum tn_isa)active;
}

enum tn_isa tn_isa_use(enum tn_isa isa)
{
	enum tn_isa prev = tn_isa_active();
	active = isa < tn_isa_best() ? (int)isa : (int)tn_isa_best();
	return prev;
}

const char *tn_isa_name(enum tn_isa isa)
{
	return isa == TN_ISA_AVX512 ? "avx512" : isa == TN_ISA_AVX2 ? "avx2" : "generic";
}
