/* CPython's random module, reproduced so that data-set splits match Python byte for byte:
 * MT19937 seeded as random.seed(int) (init_by_array over the 32-bit words of |seed|),
 * getrandbits, _randbelow and random.sample with both of CPython 3.11's branches. */
#ifndef TN_PYRANDOM_H
#define TN_PYRANDOM_H

#include <stddef.h>
#include <stdint.h>

#define TN_PYRANDOM_N 624

struct tn_pyrandom {
	uint32_t mt[TN_PYRANDOM_N];
	int index; /* next word of mt to temper; N = regenerate first */
};

/* random.seed(s) for an integer s >= 0 (Python seeds with |s|, so pass the absolute value). */
void tn_pyrandom_seed(struct tn_pyrandom *r, uint64_t seed);
/* MT19937 init_by_array with a key of nkey 32-bit words (nkey >= 1), as CPython uses. */
void tn_pyrandom_seed_array(struct tn_pyrandom *r, const uint32_t *key, size_t nkey);
/* The next tempered 32-bit output (genrand_uint32). */
uint32_t tn_pyrandom_u32(struct tn_pyrandom *r);
/* random.getrandbits(k) for 0 <= k <= 64 (k = 0 gives 0 and draws nothing). */
uint64_t tn_pyrandom_getrandbits(struct tn_pyrandom *r, int k);
/* random.random(): 53-bit double in [0, 1). */
double tn_pyrandom_random(struct tn_pyrandom *r);
/* random._randbelow(n) for n >= 1: rejection sampling on bit_length(n) bits; 0 for n = 0
 * (where Python would loop forever). */
uint64_t tn_pyrandom_randbelow(struct tn_pyrandom *r, uint64_t n);
/* random.sample(pop, k): out[0..k) gets k of the n values of pop in Python's order.  Takes
 * the pool branch when n <= 21 + (k > 5 ? 4**ceil(log(3k, 4)) : 0), else the set branch,
 * exactly as CPython 3.11 decides.  Returns 0, TN_E_INVAL (k > n) or TN_E_NOMEM. */
int tn_pyrandom_sample(struct tn_pyrandom *r, const size_t *pop, size_t n, size_t k, size_t *out);
/* 1 when sample(n, k) takes the pool branch, 0 for the set branch. */
int tn_pyrandom_sample_uses_pool(size_t n, size_t k);

#endif
