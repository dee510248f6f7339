/* CPython's Mersenne Twister and the parts of random.py that data-set splits use.  The
 * generator is the MT19937 reference algorithm; seeding, bit extraction and sampling follow
 * CPython 3.11 (_randommodule.c, random.py) so the same seed draws the same numbers. */
#include "data/pyrandom.h"

#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MT_N = TN_PYRANDOM_N, MT_M = 397 };
#define MT_MATRIX_A 0x9908b0dfu
#define MT_UPPER 0x80000000u
#define MT_LOWER 0x7fffffffu

static void init_genrand(struct tn_pyrandom *r, uint32_t s)
{
	r->mt[0] = s;
	for (uint32_t i = 1; i < MT_N; i++)
		r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + i;
	r->index = MT_N;
}

void tn_pyrandom_seed_array(struct tn_pyrandom *r, const uint32_t *key, size_t nkey)
{
	static const uint32_t zero = 0;
	if (nkey == 0) { /* CPython always passes at least one word */
		key = &zero;
		nkey = 1;
	}
	init_genrand(r, 19650218u);
	uint32_t *mt = r->mt;
	size_t i = 1, j = 0;
	for (size_t k = nkey > MT_N ? nkey : MT_N; k; k--) {
		mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525u)) + key[j] + (uint32_t)j;
		i++;
		j++;
		if (i >= MT_N) {
			mt[0] = mt[MT_N - 1];
			i = 1;
		}
		if (j >= nkey)
			j = 0;
	}
	for (size_t k = MT_N - 1; k; k--) {
		mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941u)) - (uint32_t)i;
		i++;
		if (i >= MT_N) {
			mt[0] = mt[MT_N - 1];
			i = 1;
		}
	}
	mt[0] = 0x80000000u; /* a non-zero initial state is assured */
	r->index = MT_N;
}

void tn_pyrandom_seed(struct tn_pyrandom *r, uint64_t seed)
{
	/* CPython splits |seed| into 32-bit words, least significant first; 0 is one word. */
	uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
	tn_pyrandom_seed_array(r, key, key[1] ? 2 : 1);
}

static void regenerate(struct tn_pyrandom *r)
{
	uint32_t *mt = r->mt;
	int k;
	for (k = 0; k < MT_N; k++) {
		uint32_t y = (mt[k] & MT_UPPER) | (mt[(k + 1) % MT_N] & MT_LOWER);
		mt[k] = mt[(k + MT_M) % MT_N] ^ (y >> 1) ^ ((y & 1u) ? MT_MATRIX_A : 0u);
	}
	r->index = 0;
}

uint32_t tn_pyrandom_u32(struct tn_pyrandom *r)
{
	if (r->index >= MT_N)
		regenerate(r);
	uint32_t y = r->mt[r->index++];
	y ^= y >> 11;
	y ^= (y << 7) & 0x9d2c5680u;
	y ^= (y << 15) & 0xefc60000u;
	y ^= y >> 18;
	return y;
}

uint64_t tn_pyrandom_getrandbits(struct tn_pyrandom *r, int k)
{
	if (k <= 0)
		return 0;
	if (k > 64)
		k = 64;
	/* Words fill from the least significant end; the last one keeps its top bits. */
	uint64_t v = 0;
	for (int shift = 0; k > 0; shift += 32, k -= 32) {
		uint32_t w = tn_pyrandom_u32(r);
		if (k < 32)
			w >>= 32 - k;
		v |= (uint64_t)w << shift;
	}
	return v;
}

double tn_pyrandom_random(struct tn_pyrandom *r)
{
	uint32_t a = tn_pyrandom_u32(r) >> 5, b = tn_pyrandom_u32(r) >> 6;
	return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

static int bit_length(uint64_t n)
{
	int k = 0;
	while (n) {
		k++;
		n >>= 1;
	}
	return k;
}

uint64_t tn_pyrandom_randbelow(struct tn_pyrandom *r, uint64_t n)
{
	if (n == 0)
		return 0;
	int k = bit_length(n); /* not of n-1: Python's choice, and every rejected draw counts */
	uint64_t v = tn_pyrandom_getrandbits(r, k);
	while (v >= n)
		v = tn_pyrandom_getrandbits(r, k);
	return v;
}

int tn_pyrandom_sample_uses_pool(size_t n, size_t k)
{
	if (n <= 21)
		return 1;
	if (k <= 5)
		return 0;
	/* random.py: setsize = 21 + 4 ** ceil(log(k * 3, 4)), with math.log in doubles. */
	double c = ceil(log((double)k * 3.0) / log(4.0));
	if (c >= 31)
		return 1; /* the set size exceeds any n we can hold */
	uint64_t setsize = 21 + ((uint64_t)1 << (2 * (int)c));
	return (uint64_t)n <= setsize;
}

int tn_pyrandom_sample(struct tn_pyrandom *r, const size_t *pop, size_t n, size_t k, size_t *out)
{
	if (k > n)
		return tn_fail(TN_E_INVAL, "random sample of %zu from a population of %zu", k, n);
	if (k == 0)
		return 0;
	if (tn_pyrandom_sample_uses_pool(n, k)) {
		size_t *pool = malloc(n * sizeof *pool);
		if (!pool)
			return tn_fail(TN_E_NOMEM, "out of memory for a random sample of %zu", n);
		memcpy(pool, pop, n * sizeof *pool);
		for (size_t i = 0; i < k; i++) {
			size_t j = (size_t)tn_pyrandom_randbelow(r, n - i);
			out[i] = pool[j];
			pool[j] = pool[n - i - 1]; /* the unchosen tail item fills the hole */
		}
		free(pool);
		return 0;
	}
	/* Set branch: redraw indices already chosen; a bitmap stands in for Python's set. */
	unsigned char *seen = calloc(n / 8 + 1, 1);
	if (!seen)
		return tn_fail(TN_E_NOMEM, "out of memory for a random sample of %zu", n);
	for (size_t i = 0; i < k; i++) {
		size_t j = (size_t)tn_pyrandom_randbelow(r, n);
		while (seen[j / 8] & (1u << (j % 8)))
			j = (size_t)tn_pyrandom_randbelow(r, n);
		seen[j / 8] |= (unsigned char)(1u << (j % 8));
		out[i] = pop[j];
	}
	free(seen);
	return 0;
}
