/* The .w reader and writer: round trips in F32/F16/BF16 (rounding checked against an independent
 * decoder and against NumPy), metadata, lookup, and hostile files that must fail cleanly with a
 * message naming the file and the problem. */
#include "check.h"
#include "tmpdir.h"

#include "core/error.h"
#include "io/wfile.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int exists(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0;
}

static uint32_t fbits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

static float bitsf(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

/* Independent fp16 decoder (ldexp arithmetic rather than bit shuffling). */
static float half_value(uint16_t h)
{
	int e = (h >> 10) & 0x1f, m = h & 0x3ff;
	double v = e == 0 ? ldexp(m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1024 + m, e - 25);
	return (float)((h & 0x8000) ? -v : v);
}

/* Writes an 8-byte length (hlen, or strlen(json) when hlen is UINT64_MAX), json, then data. */
static void write_raw(const char *path, uint64_t hlen, const char *json, const void *data,
		      size_t dlen)
{
	FILE *fp = fopen(path, "wb");
	size_t jl = strlen(json);
	if (hlen == UINT64_MAX)
		hlen = jl;
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(hlen >> (8 * i));
	fwrite(b, 1, 8, fp);
	fwrite(json, 1, jl, fp);
	if (dlen)
		fwrite(data, 1, dlen, fp);
	fclose(fp);
}

/* Opens path expecting failure with a message that names the file and contains want. */
static void expect_fail(const char *path, const char *want, const char *what)
{
	struct tn_wfile wf;
	int rc = tn_wfile_open(path, &wf);
	const char *msg = tn_errmsg();
	CHECK(rc < 0 && strncmp(msg, path, strlen(path)) == 0 && strstr(msg, want), "%s: %s", what,
	      rc < 0 ? msg : "opened");
	CHECK(wf.map == NULL && wf.t == NULL && wf.json_root == NULL, "%s: nothing left open", what);
	if (rc == 0)
		tn_wfile_close(&wf);
}

static int have_python(void)
{
	return access("/usr/bin/python3", X_OK) == 0 && access("scripts/ref/wfile-check.py", R_OK) == 0;
}

static void test_f32_roundtrip(void)
{
	float a[6] = {1.5f, -0.0f, 3.4028235e38f, 1e-45f, INFINITY, bitsf(0x7fc01234u)};
	float b[3] = {0.25f, 0.5f, 0.75f};
	float s = 42.0f;
	int64_t sa[2] = {2, 3}, sb[1] = {3}, sz[2] = {0, 4};
	struct tn_wwrite_tensor t[4] = {
		{"zeta.weight", 2, sa, a},
		{"alpha.bias", 1, sb, b},
		{"mid.scalar", 0, NULL, &s},
		{"empty", 2, sz, NULL},
	};
	const char *mk[2] = {"arch", "class_names"};
	const char *mv[2] = {"deeplabv3plus", "[\"background\", \"caf\xc3\xa9\"]"};
	const char *p = tmp("f32.w");
	int rc = tn_wfile_write(p, t, 4, mk, mv, 2, TN_DTYPE_F32);
	CHECK(rc == 0, "write F32: %s", rc ? tn_errmsg() : "ok");

	struct tn_wfile wf;
	rc = tn_wfile_open(p, &wf);
	CHECK(rc == 0, "open F32: %s", rc ? tn_errmsg() : "ok");
	if (rc)
		return;
	CHECK(wf.n == 4, "4 tensors (%zu)", wf.n);
	CHECK(strcmp(wf.t[0].name, "alpha.bias") == 0 && strcmp(wf.t[1].name, "empty") == 0 &&
		      strcmp(wf.t[2].name, "mid.scalar") == 0 && strcmp(wf.t[3].name, "zeta.weight") == 0,
	      "tensors sorted by name");
	const struct tn_wtensor *z = tn_wfile_find(&wf, "zeta.weight");
	CHECK(z && z->dtype == TN_DTYPE_F32 && z->ndim == 2 && z->shape[0] == 2 && z->shape[1] == 3 &&
		      z->numel == 6,
	      "find zeta.weight, shape [2,3]");
	if (z) {
		float out[6];
		tn_wtensor_to_f32(z, out);
		int same = 1;
		for (int i = 0; i < 6; i++)
			same &= fbits(out[i]) == fbits(a[i]);
		CHECK(same, "F32 values bit exact (-0, max, denormal, inf, NaN payload)");
	}
	const struct tn_wtensor *m = tn_wfile_find(&wf, "mid.scalar");
	float sv = 0;
	if (m)
		tn_wtensor_to_f32(m, &sv);
	CHECK(m && m->ndim == 0 && m->numel == 1 && sv == 42.0f, "0-d tensor round trip");
	const struct tn_wtensor *e = tn_wfile_find(&wf, "empty");
	CHECK(e && e->numel == 0 && e->shape[0] == 0 && e->shape[1] == 4, "zero-size tensor kept");
	CHECK(tn_wfile_find(&wf, "missing") == NULL && tn_wfile_find(&wf, "alpha") == NULL &&
		      tn_wfile_find(&wf, "zzz") == NULL,
	      "find of an absent name is NULL");
	CHECK(wf.n_meta == 2 && tn_wfile_meta(&wf, "arch") &&
		      strcmp(tn_wfile_meta(&wf, "arch"), "deeplabv3plus") == 0 &&
		      strcmp(tn_wfile_meta(&wf, "class_names"), mv[1]) == 0,
	      "metadata round trip (UTF-8, quotes)");
	CHECK(tn_wfile_meta(&wf, "palette") == NULL, "absent metadata key is NULL");
	const unsigned char *mp = wf.map;
	uint64_t hl = 0;
	for (int i = 0; i < 8; i++)
		hl |= (uint64_t)mp[i] << (8 * i);
	size_t end = 8 + hl;
	while (end > 8 && mp[end - 1] == ' ')
		end--;
	CHECK((8 + hl) % 8 == 0 && mp[8] == '{' && mp[end - 1] == '}' && 8 + hl - end < 8,
	      "data area 8-byte aligned by space padding (header %llu bytes)", (unsigned long long)hl);
	CHECK(strncmp((const char *)mp + 8, "{\"__metadata__\":{\"arch\":\"deeplabv3plus\"", 39) == 0,
	      "header: compact JSON, metadata first");
	const char *zt = strstr((const char *)mp + 8, "\"zeta.weight\"");
	const char *at = strstr((const char *)mp + 8, "\"alpha.bias\"");
	CHECK(zt && at && zt < at && zt < (const char *)mp + 8 + hl, "header: tensors in the given order");
	CHECK(wf.map_len == 8 + hl + 4 * (6 + 3 + 1), "no holes: file is header + data exactly");
	tn_wfile_close(&wf);
	CHECK(wf.map == NULL && wf.n == 0, "close clears the struct");
	tn_wfile_close(&wf); /* twice is harmless */

	if (have_python()) {
		char cmd[512];
		snprintf(cmd, sizeof cmd,
			 "/usr/bin/python3 scripts/ref/wfile-check.py %s > %s 2>&1", p, tmp("py.out"));
		int st = system(cmd);
		FILE *fp = fopen(tmp("py.out"), "r");
		char out[2048] = {0};
		if (fp) {
			size_t got = fread(out, 1, sizeof out - 1, fp);
			out[got] = 0;
			fclose(fp);
		}
		CHECK(st == 0 && strstr(out, "tensor zeta.weight F32 [2,3]\n") &&
			      strstr(out, "tensor mid.scalar F32 []\n") &&
			      strstr(out, "meta arch \"deeplabv3plus\"\n") && strstr(out, "ok 4 tensors"),
		      "Python (struct+json+numpy) reads the file: %s", st ? out : "ok");
	} else {
		SKIP("no /usr/bin/python3 or not run from the repository top");
	}
}

/* Every fp16 value, every midpoint, and the floats just either side of each midpoint. */
static void test_f16_rounding(void)
{
	size_t cap = 32768 * 8 + 16, n = 0;
	float *v = malloc(cap * sizeof *v);
	uint16_t *want = malloc(cap * sizeof *want);
	for (uint32_t p = 0; p <= 0x7bff; p++) {
		for (int sg = 0; sg < 2; sg++) {
			uint16_t s = sg ? 0x8000 : 0;
			float x = half_value((uint16_t)p);
			v[n] = sg ? -x : x;
			want[n++] = (uint16_t)(s | p);
			if (p == 0x7bff)
				continue;
			float mid = (x + half_value((uint16_t)(p + 1))) / 2;
			v[n] = sg ? -mid : mid;
			want[n++] = (uint16_t)(s | (p + (p & 1)));
			float up = nextafterf(mid, INFINITY), dn = nextafterf(mid, 0);
			v[n] = sg ? -up : up;
			want[n++] = (uint16_t)(s | (p + 1));
			v[n] = sg ? -dn : dn;
			want[n++] = (uint16_t)(s | p);
		}
	}
	/* just below the overflow threshold, and float32 subnormals */
	v[n] = nextafterf(65520.0f, 0);
	want[n++] = 0x7bff;
	v[n] = 1e-40f;
	want[n++] = 0;
	v[n] = -1e-40f;
	want[n++] = 0x8000;
	int64_t sh[1] = {(int64_t)n};
	struct tn_wwrite_tensor t = {"all", 1, sh, v};
	const char *p16 = tmp("f16.w"), *p32 = tmp("f16ref.w");
	int rc = tn_wfile_write(p16, &t, 1, NULL, NULL, 0, TN_DTYPE_F16);
	CHECK(rc == 0, "write F16 (%zu values): %s", n, rc ? tn_errmsg() : "ok");
	CHECK(tn_wfile_write(p32, &t, 1, NULL, NULL, 0, TN_DTYPE_F32) == 0, "write its F32 twin");
	struct tn_wfile wf;
	rc = tn_wfile_open(p16, &wf);
	CHECK(rc == 0, "open F16: %s", rc ? tn_errmsg() : "ok");
	if (!rc) {
		const struct tn_wtensor *w = tn_wfile_find(&wf, "all");
		const unsigned char *d = w->data;
		size_t bad = 0, badv = 0, first = n;
		float *back = malloc(n * sizeof *back);
		tn_wtensor_to_f32(w, back);
		for (size_t i = 0; i < n; i++) {
			uint16_t h = (uint16_t)(d[2 * i] | (d[2 * i + 1] << 8));
			if (h != want[i]) {
				bad++;
				if (first == n)
					first = i;
			}
			if (fbits(back[i]) != fbits(half_value(want[i])))
				badv++;
		}
		CHECK(w->dtype == TN_DTYPE_F16 && bad == 0,
		      "F16 correctly rounded, nearest even, subnormals included (%zu wrong, first %g)",
		      bad, first < n ? (double)v[first] : 0.0);
		CHECK(badv == 0, "F16 -> float32 exact for every value (%zu wrong)", badv);
		free(back);
		tn_wfile_close(&wf);
	}
	if (have_python()) {
		char cmd[512];
		snprintf(cmd, sizeof cmd,
			 "/usr/bin/python3 scripts/ref/wfile-check.py %s --expect-rounded %s >/dev/null",
			 p16, p32);
		CHECK(system(cmd) == 0, "F16 data equal NumPy's float16 cast of the same floats");
	} else {
		SKIP("no /usr/bin/python3");
	}
	free(v);
	free(want);

	/* values fp16 cannot hold are refused, and no file is left behind */
	float bad_vals[4] = {1e6f, 65520.0f, INFINITY, NAN};
	const char *words[4] = {"1000000", "65520", "inf", "nan"};
	for (int i = 0; i < 4; i++) {
		float x[2] = {0.5f, bad_vals[i]};
		int64_t s2[1] = {2};
		struct tn_wwrite_tensor bt = {"x", 1, s2, x};
		const char *pb = tmp("bad16.w");
		rc = tn_wfile_write(pb, &bt, 1, NULL, NULL, 0, TN_DTYPE_F16);
		char want_msg[64];
		snprintf(want_msg, sizeof want_msg, "tensor 'x' has a value %s that fp16 cannot hold",
			 words[i]);
		CHECK(rc < 0 && strstr(tn_errmsg(), want_msg) && !exists(pb), "F16 refuses %s: %s",
		      words[i], tn_errmsg());
	}
}

static void test_bf16_rounding(void)
{
	size_t n = 0, cap = 0x7f80 * 8 + 16;
	float *v = malloc(cap * sizeof *v);
	uint16_t *want = malloc(cap * sizeof *want);
	for (uint32_t p = 0; p <= 0x7f7f; p++) {
		for (int sg = 0; sg < 2; sg++) {
			uint32_t s = sg ? 0x80000000u : 0;
			uint16_t hs = (uint16_t)(s >> 16);
			v[n] = bitsf(s | (p << 16));
			want[n++] = (uint16_t)(hs | p);
			if (p == 0x7f7f)
				continue;
			uint32_t mid = (p << 16) | 0x8000; /* exactly halfway */
			v[n] = bitsf(s | mid);
			want[n++] = (uint16_t)(hs | (p + (p & 1)));
			v[n] = bitsf(s | (mid + 1));
			want[n++] = (uint16_t)(hs | (p + 1));
			v[n] = bitsf(s | (mid - 1));
			want[n++] = (uint16_t)(hs | p);
		}
	}
	v[n] = bitsf(0x7f7f7fffu); /* largest float that stays finite */
	want[n++] = 0x7f7f;
	int64_t sh[1] = {(int64_t)n};
	struct tn_wwrite_tensor t = {"all", 1, sh, v};
	const char *pb = tmp("bf16.w"), *p32 = tmp("bf16ref.w");
	int rc = tn_wfile_write(pb, &t, 1, NULL, NULL, 0, TN_DTYPE_BF16);
	CHECK(rc == 0, "write BF16 (%zu values): %s", n, rc ? tn_errmsg() : "ok");
	CHECK(tn_wfile_write(p32, &t, 1, NULL, NULL, 0, TN_DTYPE_F32) == 0, "write its F32 twin");
	struct tn_wfile wf;
	rc = tn_wfile_open(pb, &wf);
	if (!rc) {
		const struct tn_wtensor *w = tn_wfile_find(&wf, "all");
		const unsigned char *d = w->data;
		float *back = malloc(n * sizeof *back);
		tn_wtensor_to_f32(w, back);
		size_t bad = 0, badv = 0;
		for (size_t i = 0; i < n; i++) {
			uint16_t h = (uint16_t)(d[2 * i] | (d[2 * i + 1] << 8));
			bad += h != want[i];
			badv += fbits(back[i]) != (uint32_t)want[i] << 16;
		}
		CHECK(w->dtype == TN_DTYPE_BF16 && bad == 0, "BF16 correctly rounded, nearest even (%zu wrong)", bad);
		CHECK(badv == 0, "BF16 -> float32 exact (%zu wrong)", badv);
		free(back);
		tn_wfile_close(&wf);
	} else {
		CHECK(0, "open BF16: %s", tn_errmsg());
	}
	if (have_python()) {
		char cmd[512];
		snprintf(cmd, sizeof cmd,
			 "/usr/bin/python3 scripts/ref/wfile-check.py %s --expect-rounded %s >/dev/null",
			 pb, p32);
		CHECK(system(cmd) == 0, "BF16 data equal NumPy integer rounding of the same floats");
	} else {
		SKIP("no /usr/bin/python3");
	}
	free(v);
	free(want);
	float x[1] = {bitsf(0x7f7f8000u)};
	int64_t s1[1] = {1};
	struct tn_wwrite_tensor bt = {"big", 1, s1, x};
	rc = tn_wfile_write(tmp("badbf.w"), &bt, 1, NULL, NULL, 0, TN_DTYPE_BF16);
	CHECK(rc < 0 && strstr(tn_errmsg(), "tensor 'big' has a value") && strstr(tn_errmsg(), "bf16"),
	      "BF16 refuses a value that rounds to inf: %s", tn_errmsg());
}

static void test_write_errors(void)
{
	float x[4] = {1, 2, 3, 4};
	int64_t s[1] = {4}, neg[1] = {-1};
	const char *p = tmp("werr.w");
	struct tn_wwrite_tensor dup[2] = {{"a", 1, s, x}, {"a", 1, s, x}};
	int rc = tn_wfile_write(p, dup, 2, NULL, NULL, 0, TN_DTYPE_F32);
	CHECK(rc < 0 && strstr(tn_errmsg(), "'a' given twice") && !exists(p), "duplicate name: %s",
	      tn_errmsg());
	struct tn_wwrite_tensor res = {"__metadata__", 1, s, x};
	rc = tn_wfile_write(p, &res, 1, NULL, NULL, 0, TN_DTYPE_F32);
	CHECK(rc < 0 && strstr(tn_errmsg(), "reserved"), "reserved name: %s", tn_errmsg());
	struct tn_wwrite_tensor ng = {"n", 1, neg, x};
	rc = tn_wfile_write(p, &ng, 1, NULL, NULL, 0, TN_DTYPE_F32);
	CHECK(rc < 0 && strstr(tn_errmsg(), "tensor 'n'"), "negative dim: %s", tn_errmsg());
	int64_t s9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
	struct tn_wwrite_tensor d9 = {"d9", 9, s9, x};
	rc = tn_wfile_write(p, &d9, 1, NULL, NULL, 0, TN_DTYPE_F32);
	CHECK(rc < 0 && strstr(tn_errmsg(), "9 dimensions"), "9 dims: %s", tn_errmsg());
	const char *k[1] = {"source"}, *bv[1] = {"bad \xff utf8"};
	struct tn_wwrite_tensor ok = {"ok", 1, s, x};
	rc = tn_wfile_write(p, &ok, 1, k, bv, 1, TN_DTYPE_F32);
	CHECK(rc < 0 && strstr(tn_errmsg(), "UTF-8"), "invalid UTF-8 metadata: %s", tn_errmsg());
	rc = tn_wfile_write(p, &ok, 1, NULL, NULL, 0, TN_DTYPE_I64);
	CHECK(rc < 0, "storing I64 refused: %s", tn_errmsg());
	rc = tn_wfile_write(tmp("no/such/dir.w"), &ok, 1, NULL, NULL, 0, TN_DTYPE_F32);
	CHECK(rc == TN_E_IO && strstr(tn_errmsg(), "no/such/dir.w"), "unwritable target: %s",
	      tn_errmsg());
	CHECK(!exists(p), "no file left after the refusals");
	rc = tn_wfile_write(p, NULL, 0, NULL, NULL, 0, TN_DTYPE_F32);
	struct tn_wfile wf;
	CHECK(rc == 0 && tn_wfile_open(p, &wf) == 0 && wf.n == 0 && wf.n_meta == 0,
	      "a file with no tensors round trips");
	if (wf.map)
		tn_wfile_close(&wf);
}

/* A valid F32 tensor stored at an odd-aligned offset after a 1-element F16 one. */
static void test_unaligned(void)
{
	const char *p = tmp("unal.w");
	unsigned char data[2 + 8];
	data[0] = 0x00;
	data[1] = 0x3c; /* 1.0 in fp16 */
	float f[2] = {3.25f, -7.5f};
	memcpy(data + 2, f, 8);
	write_raw(p, UINT64_MAX,
		  "{\"h\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]},"
		  "\"f\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[2,10]}}",
		  data, sizeof data);
	struct tn_wfile wf;
	int rc = tn_wfile_open(p, &wf);
	CHECK(rc == 0, "mixed dtypes, unaligned data, unpadded header: %s", rc ? tn_errmsg() : "ok");
	if (rc)
		return;
	float o[2] = {0}, h = 0;
	tn_wtensor_to_f32(tn_wfile_find(&wf, "f"), o);
	tn_wtensor_to_f32(tn_wfile_find(&wf, "h"), &h);
	CHECK(o[0] == 3.25f && o[1] == -7.5f && h == 1.0f, "unaligned values read");
	tn_wfile_close(&wf);
}

static void test_hostile(void)
{
	char big[4096];
	const char *p;
	unsigned char zeros[128] = {0};

	p = tmp("empty.w");
	write_raw(p, 0, "", NULL, 0);
	if (truncate(p, 0) != 0)
		perror(p);
	expect_fail(p, "not a .w/safetensors file (0 bytes", "zero-length file");

	p = tmp("short.w");
	FILE *fp = fopen(p, "wb");
	fwrite("abc", 1, 3, fp);
	fclose(fp);
	expect_fail(p, "too short", "3-byte file");

	p = tmp("past.w");
	memset(big, ' ', 100);
	big[0] = '{';
	big[100] = 0;
	write_raw(p, 4096, big, NULL, 0);
	expect_fail(p, "truncated: header says 4096 bytes but only 100", "header length past the file");

	p = tmp("png.w");
	fp = fopen(p, "wb");
	fwrite("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 1, 16, fp);
	fclose(fp);
	expect_fail(p, "not a .w/safetensors file (header length", "a PNG file");

	p = tmp("huge.w");
	write_raw(p, (uint64_t)200 << 20, "{", NULL, 0);
	if (truncate(p, (off_t)300 << 20) != 0) /* sparse: costs no disk */
		perror(p);
	expect_fail(p, "exceeds the limit", "header of 200 MB inside a 300 MB file");
	unlink(p);

	p = tmp("notjson.w");
	write_raw(p, UINT64_MAX, "{\"a\": nope}", NULL, 0);
	expect_fail(p, "header JSON, line 1 column", "not JSON");

	p = tmp("array.w");
	write_raw(p, UINT64_MAX, "[1,2,3]", NULL, 0);
	expect_fail(p, "header does not start with '{'", "JSON array at top");

	p = tmp("trail.w");
	write_raw(p, UINT64_MAX, "{} x", NULL, 0);
	expect_fail(p, "header JSON", "garbage after the object");

	p = tmp("dupkey.w");
	write_raw(p, UINT64_MAX, "{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}", NULL, 0);
	expect_fail(p, "duplicate", "duplicate key");

	p = tmp("dtype.w");
	write_raw(p, UINT64_MAX, "{\"t\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}",
		  zeros, 8);
	expect_fail(p, "tensor 't': unsupported dtype 'I64'", "unknown dtype");

	p = tmp("neg.w");
	write_raw(p, UINT64_MAX, "{\"t\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}",
		  NULL, 0);
	expect_fail(p, "tensor 't': shape element 0 is not a non-negative integer", "negative dim");

	p = tmp("float.w");
	write_raw(p, UINT64_MAX, "{\"t\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}",
		  zeros, 8);
	expect_fail(p, "shape element 0 is not", "non-integer dim");

	p = tmp("ovf.w");
	write_raw(p, UINT64_MAX,
		  "{\"t\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,16],"
		  "\"data_offsets\":[0,0]}}",
		  NULL, 0);
	expect_fail(p, "tensor 't': shape [4294967296,4294967296,16] overflows", "overflowing shape");

	p = tmp("ovf2.w");
	write_raw(p, UINT64_MAX,
		  "{\"t\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,0]}}",
		  NULL, 0);
	expect_fail(p, "overflows", "shape whose byte count overflows");

	p = tmp("bigint.w");
	write_raw(p, UINT64_MAX,
		  "{\"t\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,0]}}",
		  NULL, 0);
	expect_fail(p, "header JSON", "integer too big for JSON");

	p = tmp("dims.w");
	write_raw(p, UINT64_MAX,
		  "{\"t\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}",
		  zeros, 4);
	expect_fail(p, "9 dimensions", "too many dims");

	p = tmp("pastend.w");
	write_raw(p, UINT64_MAX,
		  "{\"t\":{\"dtype\":\"F32\",\"shape\":[21,1],\"data_offsets\":[0,84]}}", zeros, 40);
	expect_fail(p, "tensor 't': data_offsets [0,84] past the end of the data area (40 bytes",
		    "data_offsets past the end");

	p = tmp("order.w");
	write_raw(p, UINT64_MAX, "{\"t\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,4]}}",
		  zeros, 8);
	expect_fail(p, "out of order", "begin > end");

	p = tmp("size.w");
	write_raw(p, UINT64_MAX,
		  "{\"cls_conv.weight\":{\"dtype\":\"F32\",\"shape\":[21,1],\"data_offsets\":[0,80]}}",
		  zeros, 84);
	expect_fail(p, "tensor 'cls_conv.weight': data_offsets [0,80] hold 80 bytes but shape [21,1] F32 needs 84",
		    "size mismatch");

	p = tmp("overlap.w");
	write_raw(p, UINT64_MAX,
		  "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
		  "\"b\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[12,20]}}",
		  zeros, 20);
	expect_fail(p, "tensors 'a' [0,16] and 'b' [12,20] overlap", "overlapping tensors");

	p = tmp("offs.w");
	write_raw(p, UINT64_MAX, "{\"t\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}",
		  zeros, 4);
	expect_fail(p, "data_offsets is not [begin,end]", "one offset");

	p = tmp("missing.w");
	write_raw(p, UINT64_MAX, "{\"t\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", zeros, 4);
	expect_fail(p, "tensor 't': missing \"shape\"", "entry without shape");

	p = tmp("entry.w");
	write_raw(p, UINT64_MAX, "{\"t\":[1]}", NULL, 0);
	expect_fail(p, "tensor 't': entry is not a JSON object", "entry not an object");

	p = tmp("meta.w");
	write_raw(p, UINT64_MAX, "{\"__metadata__\":{\"arch\":\"x\",\"num_classes\":21}}", NULL, 0);
	expect_fail(p, "__metadata__ 'num_classes' is not a string", "metadata value not a string");

	p = tmp("meta2.w");
	write_raw(p, UINT64_MAX, "{\"__metadata__\":[\"x\"]}", NULL, 0);
	expect_fail(p, "__metadata__ is not a JSON object", "metadata not an object");

	p = tmp("nul.w");
	fp = fopen(p, "wb");
	fwrite("\x0a\0\0\0\0\0\0\0{\"a\0\":1} ", 1, 18, fp);
	fclose(fp);
	expect_fail(p, "header JSON", "NUL byte inside the header");

	expect_fail(dir, "not a regular file", "a directory");
	expect_fail(tmp("does-not-exist.w"), "No such file", "a missing file");
}

/* Cut a good file at every length, and flip bytes of its header: never a crash or a success
 * that lies about the data. */
static void test_truncation_and_mutation(void)
{
	float x[12];
	for (int i = 0; i < 12; i++)
		x[i] = (float)i;
	int64_t sa[2] = {3, 2}, sb[1] = {6};
	struct tn_wwrite_tensor t[2] = {{"a", 2, sa, x}, {"b", 1, sb, x + 6}};
	const char *mk[1] = {"arch"}, *mv[1] = {"deeplabv3plus"};
	const char *good = tmp("good.w");
	tn_wfile_write(good, t, 2, mk, mv, 1, TN_DTYPE_F32);
	FILE *fp = fopen(good, "rb");
	unsigned char buf[1024];
	size_t len = fread(buf, 1, sizeof buf, fp);
	fclose(fp);
	uint64_t hl = 0;
	for (int i = 0; i < 8; i++)
		hl |= (uint64_t)buf[i] << (8 * i);

	const char *cut = tmp("cut.w");
	int all_fail = 1, msg_ok = 1;
	for (size_t n = 0; n < len; n++) {
		fp = fopen(cut, "wb");
		fwrite(buf, 1, n, fp);
		fclose(fp);
		struct tn_wfile wf;
		if (tn_wfile_open(cut, &wf) == 0) {
			all_fail = 0;
			tn_wfile_close(&wf);
		} else if (n > 8 + hl && !strstr(tn_errmsg(), "truncated file?")) {
			msg_ok = 0;
		} else if (n > 8 && n < 8 + hl && !strstr(tn_errmsg(), "truncated: header says")) {
			msg_ok = 0;
		}
	}
	CHECK(all_fail, "every cut of a good file (%zu lengths) is refused", len);
	CHECK(msg_ok, "cuts in the header say 'truncated: header says', in the data 'truncated file?'");

	/* deterministic byte mutations in the length and the header */
	uint32_t seed = 12345;
	int crashes_would_show = 1, opened = 0;
	const char *mut = tmp("mut.w");
	for (int it = 0; it < 3000; it++) {
		unsigned char b[1024];
		memcpy(b, buf, len);
		int nflip = 1 + it % 3;
		for (int k = 0; k < nflip; k++) {
			seed = seed * 1103515245u + 12345u;
			size_t pos = (seed >> 8) % (8 + hl);
			seed = seed * 1103515245u + 12345u;
			b[pos] = (unsigned char)(seed >> 16);
		}
		fp = fopen(mut, "wb");
		fwrite(b, 1, len, fp);
		fclose(fp);
		struct tn_wfile wf;
		if (tn_wfile_open(mut, &wf) == 0) {
			opened++;
			/* whatever it says must stay inside the mapping */
			for (size_t i = 0; i < wf.n; i++) {
				const unsigned char *d = wf.t[i].data;
				size_t bytes = wf.t[i].numel * (wf.t[i].dtype == TN_DTYPE_F32 ? 4 : 2);
				if (d < (const unsigned char *)wf.map ||
				    d + bytes > (const unsigned char *)wf.map + wf.map_len)
					crashes_would_show = 0;
			}
			tn_wfile_close(&wf);
		}
	}
	CHECK(crashes_would_show, "3000 mutated headers: no crash, every accepted range inside the file (%d accepted)",
	      opened);
}

/* A checkpoint given as a model is named as one; a .w whose header length starts like a
 * pickle (0x80 0x02 = 640 bytes) is still a .w. */
static void test_sniff(void)
{
	unsigned char w[8 + 640];
	memset(w, ' ', sizeof w);
	memcpy(w, "\x80\x02\0\0\0\0\0\0", 8);
	memcpy(w + 8, "{\"__metadata__\":{\"arch\":\"x\"}}", 29);
	FILE *fp = fopen(tmp("pickle-like.w"), "wb");
	fwrite(w, 1, sizeof w, fp);
	fclose(fp);
	CHECK(tn_ckpt_sniff(w, sizeof w) && tn_wfile_sniff(w, sizeof w, sizeof w), "its first bytes fit both sniffs");
	struct tn_wfile wf;
	int rc = tn_wfile_open(tmp("pickle-like.w"), &wf);
	CHECK(rc == 0 && wf.n == 0 && !strcmp(tn_wfile_meta(&wf, "arch"), "x"), "a .w with a 640-byte header opens");
	if (rc == 0)
		tn_wfile_close(&wf);
	CHECK(!tn_wfile_sniff(w, sizeof w, 600), "a header longer than the file is no .w");
	static const unsigned char zip[] = "PK\3\4\0\0\x08\x08\0\0\0\0\0\0\0\0";
	fp = fopen(tmp("ckpt.pth"), "wb");
	fwrite(zip, 1, sizeof zip - 1, fp);
	fclose(fp);
	CHECK(tn_ckpt_sniff(zip, sizeof zip - 1) && !tn_wfile_sniff(zip, sizeof zip - 1, sizeof zip - 1),
	      "a zip is a checkpoint, not a .w");
	CHECK(tn_wfile_open(tmp("ckpt.pth"), &wf) != 0 &&
		      strstr(tn_errmsg(), "a PyTorch checkpoint, not a .w model: convert it first with weightconv "),
	      "opening a checkpoint as a model says to convert it: %s", tn_errmsg());
}

int main(void)
{
	if (tmpdir_make("/tmp/tn-wfile-XXXXXX") != 0)
		return 1;
	test_f32_roundtrip();
	test_f16_rounding();
	test_bf16_rounding();
	test_write_errors();
	test_unaligned();
	test_hostile();
	test_truncation_and_mutation();
	test_sniff();
	tmpdir_remove();
	return check_done();
}
