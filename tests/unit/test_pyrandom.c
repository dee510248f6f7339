/* lib/data/pyrandom against CPython's random module: the same seeds must give the same
 * getrandbits, random(), _randbelow and sample() results, in both branches of sample().
 * The expected numbers are printed by /usr/bin/python3 at test time. */
#include "check.h"
#include "core/error.h"
#include "data/pyrandom.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Each case is one line "label values...", made by Python and by us the same way. */
static const char *py_prog =
	"import math, random\n"
	"def out(label, vals): print(label, *vals)\n"
	"for s in [0, 1, 42, 4294967295, 4294967296, 12345678901234, 2**64 - 1]:\n"
	"    random.seed(s)\n"
	"    out('u32 %d' % s, [random.getrandbits(32) for _ in range(5)])\n"
	"    out('bits %d' % s, [random.getrandbits(k) for k in (1, 7, 31, 33, 40, 63, 64)])\n"
	"    out('random %d' % s, [repr(random.random()) for _ in range(3)])\n"
	"random.seed(7)\n"
	"out('u32 far', [random.getrandbits(32) for _ in range(1300)][-3:])\n"
	"random.seed(0)\n"
	"out('below', [random._inst._randbelow(n) for n in (1, 2, 3, 5, 10, 1000, 2**31 + 1, 2**40 + 3, 2**63 + 5)])\n"
	"cases = [(10, 10, 0), (1, 1, 0), (21, 3, 0), (22, 3, 0), (30, 5, 3), (30, 6, 3), (100, 6, 1),\n"
	"         (100, 30, 2), (200, 20, 5), (1464, 1464, 0), (2913, 2621, 0), (10582, 100, 0),\n"
	"         (10582, 10582, 9), (5, 0, 0), (86, 7, 4), (85, 7, 4), (342, 114, 0), (343, 114, 0)]\n"
	"for n, k, s in cases:\n"
	"    k3 = 21 + (4 ** math.ceil(math.log(k * 3, 4)) if k > 5 else 0)\n"
	"    random.seed(s)\n"
	"    out('sample %d %d %d pool=%d' % (n, k, s, n <= k3), random.sample(range(n), k))\n"
	"random.seed(0)\n"
	"tv = random.sample(range(10), 10)\n"
	"out('split10', tv + random.sample(tv, 9))\n";

static char *lines[64];
static int nlines;

static int run_python(void)
{
	char path[] = "/tmp/test_pyrandom.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -1;
	size_t len = strlen(py_prog);
	int ok = write(fd, py_prog, len) == (ssize_t)len;
	close(fd);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s", path);
	FILE *p = ok ? popen(cmd, "r") : NULL;
	if (!p) {
		unlink(path);
		return -1;
	}
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof buf - 1, p);
	buf[n] = 0;
	int rc = pclose(p);
	unlink(path);
	for (char *s = buf; *s && nlines < 64;) {
		char *nl = strchr(s, '\n');
		if (nl)
			*nl = 0;
		lines[nlines++] = s;
		if (!nl)
			break;
		s = nl + 1;
	}
	return rc == 0 ? 0 : -1;
}

/* The Python line whose label starts the same way as ours, or NULL. */
static const char *py_line(const char *label)
{
	size_t n = strlen(label);
	for (int i = 0; i < nlines; i++)
		if (strncmp(lines[i], label, n) == 0 && (lines[i][n] == ' ' || lines[i][n] == 0))
			return lines[i];
	return NULL;
}

static char got[1 << 18];
static size_t used;

static void start(const char *label)
{
	used = (size_t)snprintf(got, sizeof got, "%s", label);
}

static void add_u(uint64_t v)
{
	if (used < sizeof got)
		used += (size_t)snprintf(got + used, sizeof got - used, " %llu", (unsigned long long)v);
}

static void compare(const char *label)
{
	const char *want = py_line(label);
	CHECK(want && strcmp(want, got) == 0, "%s equals CPython", label);
	if (want && strcmp(want, got) != 0)
		printf("#   python: %.300s\n#   ours:   %.300s\n", want, got);
}

int main(void)
{
	if (run_python()) {
		CHECK(0, "/usr/bin/python3 printed the reference numbers");
		return check_done();
	}
	struct tn_pyrandom r;
	static const uint64_t seeds[] = {0, 1, 42, 4294967295ull, 4294967296ull, 12345678901234ull,
					 UINT64_MAX};
	char label[128];
	for (size_t i = 0; i < sizeof seeds / sizeof *seeds; i++) {
		unsigned long long s = seeds[i];
		tn_pyrandom_seed(&r, seeds[i]);
		snprintf(label, sizeof label, "u32 %llu", s);
		start(label);
		for (int j = 0; j < 5; j++)
			add_u(tn_pyrandom_u32(&r));
		compare(label);
		snprintf(label, sizeof label, "bits %llu", s);
		start(label);
		static const int ks[] = {1, 7, 31, 33, 40, 63, 64};
		for (int j = 0; j < 7; j++)
			add_u(tn_pyrandom_getrandbits(&r, ks[j]));
		compare(label);
		/* random(): the Python repr read back is the exact double */
		snprintf(label, sizeof label, "random %llu", s);
		const char *want = py_line(label);
		int same = want != NULL;
		const char *p = want ? want + strlen(label) : "";
		for (int j = 0; j < 3; j++) {
			char *end;
			double v = strtod(p, &end);
			same = same && end != p && v == tn_pyrandom_random(&r);
			p = end;
		}
		CHECK(same, "%s equals CPython", label);
	}
	tn_pyrandom_seed(&r, 7);
	start("u32 far");
	for (int j = 0; j < 1300; j++) {
		uint32_t v = tn_pyrandom_u32(&r);
		if (j >= 1297)
			add_u(v);
	}
	compare("u32 far");

	tn_pyrandom_seed(&r, 0);
	start("below");
	static const uint64_t ns[] = {1, 2, 3, 5, 10, 1000, 2147483649ull, 1099511627779ull,
				      9223372036854775813ull};
	for (size_t j = 0; j < sizeof ns / sizeof *ns; j++)
		add_u(tn_pyrandom_randbelow(&r, ns[j]));
	compare("below");

	static const size_t cases[][3] = {{10, 10, 0},	   {1, 1, 0},	    {21, 3, 0},	     {22, 3, 0},
					  {30, 5, 3},	   {30, 6, 3},	    {100, 6, 1},     {100, 30, 2},
					  {200, 20, 5},	   {1464, 1464, 0}, {2913, 2621, 0}, {10582, 100, 0},
					  {10582, 10582, 9}, {5, 0, 0},	    {86, 7, 4},	     {85, 7, 4},
					  {342, 114, 0},   {343, 114, 0}};
	int pools = 0, sets = 0;
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		size_t n = cases[c][0], k = cases[c][1];
		size_t *pop = malloc(n * sizeof *pop), *out = malloc((k ? k : 1) * sizeof *out);
		for (size_t i = 0; i < n; i++)
			pop[i] = i;
		int pool = tn_pyrandom_sample_uses_pool(n, k);
		pools += pool;
		sets += !pool;
		snprintf(label, sizeof label, "sample %zu %zu %zu pool=%d", n, k, cases[c][2], pool);
		tn_pyrandom_seed(&r, cases[c][2]);
		int rc = tn_pyrandom_sample(&r, pop, n, k, out);
		start(label);
		for (size_t i = 0; i < k; i++)
			add_u(out[i]);
		CHECK(rc == 0, "sample(range(%zu), %zu) succeeds", n, k);
		compare(label); /* the label carries the branch, so a wrong branch fails too */
		free(pop);
		free(out);
	}
	CHECK(pools >= 5 && sets >= 5, "both branches of sample() exercised (%d pool, %d set)", pools,
	      sets);

	/* voc_annotation's two-step split on 10 names */
	size_t pop[10], tv[10], tr[9];
	for (size_t i = 0; i < 10; i++)
		pop[i] = i;
	tn_pyrandom_seed(&r, 0);
	int rc = tn_pyrandom_sample(&r, pop, 10, 10, tv);
	rc |= tn_pyrandom_sample(&r, tv, 10, 9, tr);
	start("split10");
	for (int i = 0; i < 10; i++)
		add_u(tv[i]);
	for (int i = 0; i < 9; i++)
		add_u(tr[i]);
	CHECK(rc == 0, "split of 10 succeeds");
	compare("split10");

	size_t one = 0;
	CHECK(tn_pyrandom_sample(&r, pop, 3, 4, &one) == TN_E_INVAL, "sample larger than population refused");
	return check_done();
}
