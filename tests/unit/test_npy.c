/* .npy: our writer's bytes equal numpy's np.save, numpy loads what we write, we read what numpy
 * writes (versions 1.0 and 2.0), and bad files fail with a message naming the file. */
#include "check.h"
#include "tmpdir.h"

#include "core/error.h"
#include "io/npy.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int have_numpy(void)
{
	return access("/usr/bin/python3", X_OK) == 0 &&
	       system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") == 0;
}

static void write_bytes(const char *path, const void *b, size_t n)
{
	FILE *fp = fopen(path, "wb");
	fwrite(b, 1, n, fp);
	fclose(fp);
}

/* Runs python code (written to a file) with the test folder as argv[1]; returns its status. */
static int run_py(const char *code)
{
	const char *py = tmp("t.py");
	write_bytes(py, code, strlen(code));
	char cmd[512];
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s", py, dir);
	return system(cmd);
}

struct shape_case {
	const char *file;
	int ndim;
	int64_t shape[8];
};

static const struct shape_case cases[] = {
	{"s0.npy", 0, {0}},
	{"s1.npy", 1, {3}},
	{"s2.npy", 2, {2, 3}},
	{"s4.npy", 4, {1, 2, 3, 4}},
	{"s8.npy", 8, {1, 2, 1, 2, 1, 2, 1, 3}},
	{"empty.npy", 2, {0, 5}},
	{"wide.npy", 2, {12345678901LL, 0}},
	{"long.npy", 1, {1000}},
};
#define NCASES (sizeof cases / sizeof cases[0])

static float value(size_t i)
{
	return (float)i * 0.5f - 3.0f;
}

static void test_write_and_read(void)
{
	float *buf = malloc(1000 * sizeof *buf);
	for (size_t i = 0; i < 1000; i++)
		buf[i] = value(i);
	for (size_t c = 0; c < NCASES; c++) {
		const struct shape_case *sc = &cases[c];
		int rc = tn_npy_write_f32(tmp(sc->file), buf, sc->ndim, sc->shape);
		CHECK(rc == 0, "write %s (%d dims): %s", sc->file, sc->ndim, rc ? tn_errmsg() : "ok");
		float *back = NULL;
		int nd = -1;
		int64_t sh[8] = {0};
		rc = tn_npy_read_f32(tmp(sc->file), &back, &nd, sh);
		int same = rc == 0 && nd == sc->ndim;
		size_t numel = 1;
		for (int i = 0; same && i < nd; i++) {
			same &= sh[i] == sc->shape[i];
			numel *= (size_t)sh[i];
		}
		for (size_t i = 0; same && i < numel; i++)
			same &= back[i] == value(i);
		CHECK(same, "read back %s: shape and values (%s)", sc->file, rc ? tn_errmsg() : "ok");
		free(back);
	}
	free(buf);

	/* special values survive bit for bit */
	uint32_t bits[4] = {0x7fc01234u, 0xff800000u, 0x80000000u, 0x00000001u};
	float sp[4];
	memcpy(sp, bits, sizeof sp);
	int64_t s4[1] = {4};
	float *back = NULL;
	int nd;
	int64_t sh[8];
	int rc = tn_npy_write_f32(tmp("special.npy"), sp, 1, s4);
	rc = rc ? rc : tn_npy_read_f32(tmp("special.npy"), &back, &nd, sh);
	CHECK(rc == 0 && memcmp(back, bits, sizeof bits) == 0, "NaN payload, -inf, -0, denormal kept");
	free(back);

	int64_t neg[1] = {-2};
	rc = tn_npy_write_f32(tmp("neg.npy"), sp, 1, neg);
	CHECK(rc < 0 && strstr(tn_errmsg(), "neg.npy: negative dimension -2") &&
		      access(tmp("neg.npy"), F_OK) != 0,
	      "negative dimension refused: %s", tn_errmsg());
	rc = tn_npy_write_f32(tmp("no/dir/x.npy"), sp, 1, s4);
	CHECK(rc < 0 && strstr(tn_errmsg(), "no/dir/x.npy"), "unwritable target: %s", tn_errmsg());
	int64_t huge[3] = {INT64_MAX, INT64_MAX, 2};
	rc = tn_npy_write_f32(tmp("huge.npy"), sp, 3, huge);
	CHECK(rc < 0 && strstr(tn_errmsg(), "too large"), "overflowing shape refused: %s", tn_errmsg());
}

static const char numpy_check[] =
	"import io, os, sys\n"
	"import numpy as np\n"
	"d = sys.argv[1]\n"
	"cases = [('s0.npy', ()), ('s1.npy', (3,)), ('s2.npy', (2, 3)), ('s4.npy', (1, 2, 3, 4)),\n"
	"         ('s8.npy', (1, 2, 1, 2, 1, 2, 1, 3)), ('empty.npy', (0, 5)),\n"
	"         ('wide.npy', (12345678901, 0)), ('long.npy', (1000,))]\n"
	"bad = 0\n"
	"for f, shape in cases:\n"
	"    n = int(np.prod(shape))\n"
	"    want = (np.arange(n, dtype=np.float32) * np.float32(0.5) - np.float32(3)).reshape(shape)\n"
	"    a = np.load(os.path.join(d, f))\n"
	"    if a.dtype != np.dtype('<f4') or a.shape != shape or not np.array_equal(a, want):\n"
	"        print('# numpy.load of %s gives %s %s' % (f, a.dtype, a.shape)); bad = 1\n"
	"    b = io.BytesIO(); np.save(b, want)\n"
	"    if open(os.path.join(d, f), 'rb').read() != b.getvalue():\n"
	"        print('# %s differs from np.save output' % f); bad = 1\n"
	"sys.exit(bad)\n";

static const char numpy_write[] =
	"import os, sys\n"
	"import numpy as np\n"
	"from numpy.lib import format as fmt\n"
	"d = sys.argv[1]\n"
	"a = (np.arange(24, dtype='<f4') / 8).reshape(2, 3, 4)\n"
	"np.save(os.path.join(d, 'np1.npy'), a)\n"
	"with open(os.path.join(d, 'np2.npy'), 'wb') as f:\n"
	"    fmt.write_array(f, a, version=(2, 0))\n"
	"np.save(os.path.join(d, 'f8.npy'), a.astype('<f8'))\n"
	"np.save(os.path.join(d, 'be.npy'), a.astype('>f4'))\n"
	"np.save(os.path.join(d, 'fortran.npy'), np.asfortranarray(a))\n"
	"np.save(os.path.join(d, 'u8.npy'), a.astype(np.uint8))\n"
	"np.save(os.path.join(d, 'scalar.npy'), np.float32(2.5))\n";

static void expect_fail(const char *path, const char *want, const char *what)
{
	float *d = (float *)1;
	int nd;
	int64_t sh[8];
	int rc = tn_npy_read_f32(path, &d, &nd, sh);
	const char *msg = tn_errmsg();
	CHECK(rc < 0 && d == NULL && strncmp(msg, path, strlen(path)) == 0 && strstr(msg, want),
	      "%s: %s", what, rc ? msg : "accepted");
	if (!rc)
		free(d);
}

/* A v1.0 file with header text h (padded to 64 with spaces and a newline) and n data bytes. */
static void craft(const char *path, const char *h, size_t ndata)
{
	unsigned char b[4096] = {0};
	size_t hl = strlen(h), total = 10 + hl + 1;
	total = (total + 63) / 64 * 64;
	memcpy(b, "\x93NUMPY\x01\x00", 8);
	b[8] = (unsigned char)((total - 10) & 0xff);
	b[9] = (unsigned char)((total - 10) >> 8);
	memcpy(b + 10, h, hl);
	memset(b + 10 + hl, ' ', total - 10 - hl - 1);
	b[total - 1] = '\n';
	write_bytes(path, b, total + ndata);
}

static void test_numpy(void)
{
	if (!have_numpy()) {
		SKIP("numpy for /usr/bin/python3 not available");
		return;
	}
	CHECK(run_py(numpy_check) == 0,
	      "numpy.load reads every file we wrote, and our bytes equal np.save's");
	CHECK(run_py(numpy_write) == 0, "numpy wrote its files");
	float *d = NULL;
	int nd = 0;
	int64_t sh[8];
	int ok1 = tn_npy_read_f32(tmp("np1.npy"), &d, &nd, sh) == 0 && nd == 3 && sh[0] == 2 &&
		  sh[1] == 3 && sh[2] == 4 && d[23] == 23.0f / 8;
	free(d);
	CHECK(ok1, "reads numpy's v1.0 file");
	d = NULL;
	int ok2 = tn_npy_read_f32(tmp("np2.npy"), &d, &nd, sh) == 0 && nd == 3 && d[5] == 5.0f / 8;
	free(d);
	CHECK(ok2, "reads numpy's v2.0 file");
	d = NULL;
	int ok3 = tn_npy_read_f32(tmp("scalar.npy"), &d, &nd, sh) == 0 && nd == 0 && d[0] == 2.5f;
	free(d);
	CHECK(ok3, "reads numpy's 0-d file");
	expect_fail(tmp("f8.npy"), "dtype '<f8' is not supported", "float64 refused");
	expect_fail(tmp("be.npy"), "dtype '>f4' is not supported", "big-endian refused");
	expect_fail(tmp("u8.npy"), "dtype '|u1' is not supported", "uint8 refused");
	expect_fail(tmp("fortran.npy"), "Fortran-order", "Fortran order refused");
}

static void test_hostile(void)
{
	const char *p;
	p = tmp("zero.npy");
	write_bytes(p, "", 0);
	expect_fail(p, "not a .npy file", "empty file");
	p = tmp("png.npy");
	write_bytes(p, "\x89PNG\r\n\x1a\n", 8);
	expect_fail(p, "not a .npy file", "a PNG file");
	p = tmp("v9.npy");
	write_bytes(p, "\x93NUMPY\x09\x00\x10\x00", 10);
	expect_fail(p, "version 9.0 is not supported", "unknown version");
	p = tmp("hcut.npy");
	write_bytes(p, "\x93NUMPY\x01\x00\x76\x00{'descr'", 18);
	expect_fail(p, "truncated .npy header", "header cut short");
	p = tmp("big2.npy");
	write_bytes(p, "\x93NUMPY\x02\x00\xff\xff\xff\x7f{", 13);
	expect_fail(p, "implausibly large", "v2 header length 2 GB");

	p = tmp("trunc.npy");
	craft(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 20);
	expect_fail(p, "truncated: shape needs 24 data bytes but the file has 20", "data cut short");
	p = tmp("extra.npy");
	craft(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 28);
	expect_fail(p, "trailing bytes", "bytes after the data");
	p = tmp("notuple.npy");
	craft(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (3), }", 12);
	expect_fail(p, "shape (n) is not a tuple", "shape (3) without comma");
	p = tmp("negdim.npy");
	craft(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }", 12);
	expect_fail(p, "shape element is not a non-negative integer", "negative dimension");
	p = tmp("ovf.npy");
	craft(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 8), }", 0);
	expect_fail(p, "shape too large", "overflowing shape");
	p = tmp("bigdim.npy");
	craft(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 0);
	expect_fail(p, "dimension too large", "dimension past int64");
	p = tmp("dims9.npy");
	craft(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 4);
	expect_fail(p, "more than 8 dimensions", "9 dimensions");
	p = tmp("nokey.npy");
	craft(p, "{'descr': '<f4', 'shape': (2,), }", 8);
	expect_fail(p, "lacks 'fortran_order'", "missing key");
	p = tmp("dupkey.npy");
	craft(p, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8);
	expect_fail(p, "unexpected or repeated key 'descr'", "repeated key");
	p = tmp("struct.npy");
	craft(p, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8);
	expect_fail(p, "structured", "structured dtype");
	p = tmp("junk.npy");
	craft(p, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } junk", 8);
	expect_fail(p, "text after the dict", "text after the dict");
	p = tmp("unterminated.npy");
	craft(p, "{'descr': '<f4", 8);
	expect_fail(p, "descr is not a string", "unterminated string");
	p = tmp("dq.npy");
	craft(p, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}", 8);
	float *d = NULL;
	int nd;
	int64_t sh[8];
	int rc = tn_npy_read_f32(p, &d, &nd, sh);
	CHECK(rc == 0 && nd == 1 && sh[0] == 2, "double quotes, no trailing comma accepted: %s",
	      rc ? tn_errmsg() : "ok");
	free(d);
	expect_fail(tmp("missing.npy"), "No such file", "missing file");
}

/* Byte mutations of a good file's header: never a crash, and anything accepted is consistent. */
static void test_mutation(void)
{
	float x[6] = {1, 2, 3, 4, 5, 6};
	int64_t s[2] = {2, 3};
	const char *good = tmp("good.npy"), *mut = tmp("mut.npy");
	tn_npy_write_f32(good, x, 2, s);
	unsigned char buf[256];
	FILE *fp = fopen(good, "rb");
	size_t len = fread(buf, 1, sizeof buf, fp);
	fclose(fp);
	uint32_t seed = 777;
	int sane = 1, accepted = 0;
	for (int it = 0; it < 2000; it++) {
		unsigned char b[256];
		memcpy(b, buf, len);
		for (int k = 0; k <= it % 3; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t pos = (seed >> 8) % 128;
			seed = seed * 1103515245u + 12345u;
			b[pos] = (unsigned char)(seed >> 16);
		}
		write_bytes(mut, b, len);
		float *d = NULL;
		int nd = 0;
		int64_t sh[8];
		if (tn_npy_read_f32(mut, &d, &nd, sh) == 0) {
			accepted++;
			size_t n = 1;
			for (int i = 0; i < nd; i++)
				n *= (size_t)sh[i];
			sane &= nd >= 0 && nd <= 8 && n * 4 + 128 == len;
			free(d);
		}
	}
	CHECK(sane, "2000 mutated headers: no crash, accepted shapes match the data (%d accepted)",
	      accepted);
}

int main(void)
{
	if (tmpdir_make("/tmp/tn-npy-XXXXXX") != 0)
		return 1;
	test_write_and_read();
	test_numpy();
	test_hostile();
	test_mutation();
	tmpdir_remove();
	return check_done();
}
