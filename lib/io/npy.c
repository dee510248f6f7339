/* NumPy .npy float32 arrays: a writer whose bytes equal numpy 1.24's np.save, and a reader for
 * C-order '<f4' arrays (format versions 1.0, 2.0 and 3.0). */
#include "io/npy.h"

#include "core/error.h"
#include "io/file.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NPY_MAX_DIMS 8
#define NPY_MAX_HEADER (1u << 20)

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

static int shape_numel(const char *path, int ndim, const int64_t *shape, size_t *numel,
		       size_t *bytes)
{
	size_t n = 1;
	for (int i = 0; i < ndim; i++) {
		if (shape[i] < 0)
			return tn_fail(TN_E_INVAL, "%s: negative dimension %lld", path,
				       (long long)shape[i]);
		if ((uint64_t)shape[i] > SIZE_MAX || __builtin_mul_overflow(n, (size_t)shape[i], &n))
			return tn_fail(TN_E_INVAL, "%s: shape too large", path);
	}
	if (__builtin_mul_overflow(n, sizeof(float), bytes))
		return tn_fail(TN_E_INVAL, "%s: shape too large", path);
	*numel = n;
	return 0;
}

/* Writes data as little-endian float32, converting in chunks on big-endian hosts. */
static int write_f32le(struct tn_out *o, const float *data, size_t numel)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return tn_out_write(o, data, numel * sizeof(float));
#else
	unsigned char buf[4096];
	for (size_t i = 0; i < numel; i += sizeof buf / 4) {
		size_t m = numel - i < sizeof buf / 4 ? numel - i : sizeof buf / 4;
		for (size_t j = 0; j < m; j++) {
			uint32_t u;
			memcpy(&u, data + i + j, 4);
			for (int k = 0; k < 4; k++)
				buf[4 * j + k] = (unsigned char)(u >> (8 * k));
		}
		int rc = tn_out_write(o, buf, m * 4);
		if (rc)
			return rc;
	}
	return 0;
#endif
}

int tn_npy_write_f32(const char *path, const float *data, int ndim, const int64_t *shape)
{
	const char *name = path && strcmp(path, "-") ? path : "standard output";
	if (ndim < 0 || ndim > NPY_MAX_DIMS || (ndim && !shape))
		return tn_fail(TN_E_INVAL, "%s: %d dimensions (0 to %d allowed)", name, ndim,
			       NPY_MAX_DIMS);
	size_t numel = 0, bytes = 0;
	int rc = shape_numel(name, ndim, shape, &numel, &bytes);
	if (rc)
		return rc;
	if (numel && !data)
		return tn_fail(TN_E_INVAL, "%s: no data", name);

	/* The header text numpy 1.24 writes: sorted keys, the shape's repr, then spare spaces
	 * so the first dimension can grow to 21 digits in place, then padding to 64 bytes. */
	char hdr[512];
	size_t k = (size_t)snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
	for (int i = 0; i < ndim; i++)
		k += (size_t)snprintf(hdr + k, sizeof hdr - k, "%s%lld", i ? ", " : "",
				      (long long)shape[i]);
	k += (size_t)snprintf(hdr + k, sizeof hdr - k, "%s), }", ndim == 1 ? "," : "");
	if (ndim > 0) {
		int digits = snprintf(NULL, 0, "%lld", (long long)shape[0]);
		for (int i = digits; i < 21; i++)
			hdr[k++] = ' ';
	}
	size_t hlen = k + 1; /* with the final newline */
	size_t pad = 64 - (10 + hlen) % 64;
	memset(hdr + k, ' ', pad);
	k += pad;
	hdr[k++] = '\n';
	unsigned char pre[10];
	memcpy(pre, npy_magic, 6);
	pre[6] = 1;
	pre[7] = 0;
	pre[8] = (unsigned char)(k & 0xff);
	pre[9] = (unsigned char)(k >> 8);

	struct tn_out o;
	rc = tn_out_open(&o, path);
	if (rc)
		return rc;
	rc = tn_out_write(&o, pre, sizeof pre);
	if (!rc)
		rc = tn_out_write(&o, hdr, k);
	if (!rc && numel)
		rc = write_f32le(&o, data, numel);
	if (rc) {
		tn_out_abort(&o);
		return rc;
	}
	return tn_out_commit(&o);
}

/* ---- reading: a small parser for the Python dict literal numpy writes ---- */

struct hparse {
	const char *s, *end;
	const char *path;
};

static void skip_ws(struct hparse *h)
{
	while (h->s < h->end && (*h->s == ' ' || *h->s == '\t' || *h->s == '\n' || *h->s == '\r'))
		h->s++;
}

static int eat(struct hparse *h, char c)
{
	skip_ws(h);
	if (h->s < h->end && *h->s == c) {
		h->s++;
		return 1;
	}
	return 0;
}

/* A quoted string (no escapes: numpy's keys and dtype strings never need them). */
static int parse_str(struct hparse *h, char *out, size_t cap)
{
	skip_ws(h);
	if (h->s >= h->end || (*h->s != '\'' && *h->s != '"'))
		return -1;
	char q = *h->s++;
	size_t n = 0;
	while (h->s < h->end && *h->s != q) {
		if (*h->s == '\\' || n + 1 >= cap)
			return -1;
		out[n++] = *h->s++;
	}
	if (h->s >= h->end)
		return -1;
	h->s++;
	out[n] = 0;
	return 0;
}

static int parse_word(struct hparse *h, const char *w)
{
	skip_ws(h);
	size_t n = strlen(w);
	if ((size_t)(h->end - h->s) >= n && memcmp(h->s, w, n) == 0) {
		h->s += n;
		return 1;
	}
	return 0;
}

/* "(2, 3)", "(3,)", "()"; a one-element tuple needs its comma, as in Python. */
static int parse_shape(struct hparse *h, int *ndim, int64_t shape[NPY_MAX_DIMS])
{
	if (!eat(h, '('))
		return tn_fail(TN_E_FORMAT, "%s: .npy header: shape is not a tuple", h->path);
	int n = 0, comma = 0;
	for (;;) {
		if (eat(h, ')'))
			break;
		skip_ws(h);
		if (h->s >= h->end || *h->s < '0' || *h->s > '9')
			return tn_fail(TN_E_FORMAT, "%s: .npy header: shape element is not a non-negative integer",
				       h->path);
		int64_t v = 0;
		while (h->s < h->end && *h->s >= '0' && *h->s <= '9') {
			if (v > (INT64_MAX - (*h->s - '0')) / 10)
				return tn_fail(TN_E_FORMAT, "%s: .npy header: dimension too large",
					       h->path);
			v = v * 10 + (*h->s++ - '0');
		}
		if (h->s < h->end && *h->s == 'L') /* Python 2 long */
			h->s++;
		if (n == NPY_MAX_DIMS)
			return tn_fail(TN_E_UNSUPPORTED, "%s: more than %d dimensions", h->path,
				       NPY_MAX_DIMS);
		shape[n++] = v;
		comma = eat(h, ',');
		if (!comma) {
			if (!eat(h, ')'))
				return tn_fail(TN_E_FORMAT, "%s: .npy header: bad shape tuple", h->path);
			break;
		}
	}
	if (n == 1 && !comma)
		return tn_fail(TN_E_FORMAT, "%s: .npy header: shape (n) is not a tuple", h->path);
	*ndim = n;
	return 0;
}

static int parse_header(const char *path, const char *txt, size_t len, int *ndim,
			int64_t shape[NPY_MAX_DIMS])
{
	struct hparse h = {txt, txt + len, path};
	int seen_descr = 0, seen_fortran = 0, seen_shape = 0;
	char key[32], val[64];
	if (!eat(&h, '{'))
		return tn_fail(TN_E_FORMAT, "%s: .npy header is not a dict", path);
	for (;;) {
		if (eat(&h, '}'))
			break;
		if (parse_str(&h, key, sizeof key) || !eat(&h, ':'))
			return tn_fail(TN_E_FORMAT, "%s: .npy header: expected 'key': value", path);
		if (strcmp(key, "descr") == 0 && !seen_descr) {
			seen_descr = 1;
			if (parse_str(&h, val, sizeof val)) {
				if (h.s < h.end && *h.s == '[')
					return tn_fail(TN_E_UNSUPPORTED,
						       "%s: structured .npy arrays are not supported",
						       path);
				return tn_fail(TN_E_FORMAT, "%s: .npy header: descr is not a string",
					       path);
			}
			if (strcmp(val, "<f4") != 0)
				return tn_fail(TN_E_UNSUPPORTED,
					       "%s: .npy dtype '%s' is not supported (only little-endian "
					       "float32 '<f4'; use a.astype('<f4'))",
					       path, val);
		} else if (strcmp(key, "fortran_order") == 0 && !seen_fortran) {
			seen_fortran = 1;
			if (parse_word(&h, "True"))
				return tn_fail(TN_E_UNSUPPORTED,
					       "%s: Fortran-order .npy arrays are not supported (save "
					       "numpy.ascontiguousarray(a))",
					       path);
			if (!parse_word(&h, "False"))
				return tn_fail(TN_E_FORMAT, "%s: .npy header: fortran_order is not a bool",
					       path);
		} else if (strcmp(key, "shape") == 0 && !seen_shape) {
			seen_shape = 1;
			int rc = parse_shape(&h, ndim, shape);
			if (rc)
				return rc;
		} else {
			return tn_fail(TN_E_FORMAT, "%s: .npy header: unexpected or repeated key '%s'",
				       path, key);
		}
		if (!eat(&h, ',')) {
			if (!eat(&h, '}'))
				return tn_fail(TN_E_FORMAT, "%s: .npy header: expected ',' or '}'", path);
			break;
		}
	}
	skip_ws(&h);
	if (h.s != h.end)
		return tn_fail(TN_E_FORMAT, "%s: .npy header: text after the dict", path);
	if (!seen_descr || !seen_fortran || !seen_shape)
		return tn_fail(TN_E_FORMAT, "%s: .npy header lacks '%s'", path,
			       !seen_descr ? "descr" : !seen_fortran ? "fortran_order" : "shape");
	return 0;
}

static int read_exact(FILE *fp, void *buf, size_t n)
{
	return fread(buf, 1, n, fp) == n ? 0 : -1;
}

int tn_npy_read_f32(const char *path, float **data, int *ndim, int64_t shape[8])
{
	int is_stdin = !path || strcmp(path, "-") == 0;
	const char *name = is_stdin ? "standard input" : path;
	*data = NULL;
	FILE *fp = is_stdin ? stdin : fopen(path, "rb");
	if (!fp)
		return tn_fail(TN_E_IO, "%s: %s", name, strerror(errno));
	char *hdr = NULL;
	float *buf = NULL;
	int rc = 0;
	unsigned char pre[12];
	if (read_exact(fp, pre, 8) || memcmp(pre, npy_magic, 6) != 0) {
		rc = tn_fail(TN_E_FORMAT, "%s: not a .npy file (no \\x93NUMPY magic)", name);
		goto out;
	}
	size_t hlen, prelen;
	if (pre[6] == 1 && pre[7] == 0) {
		if (read_exact(fp, pre + 8, 2)) {
			rc = tn_fail(TN_E_FORMAT, "%s: truncated .npy header", name);
			goto out;
		}
		hlen = (size_t)pre[8] | ((size_t)pre[9] << 8);
		prelen = 10;
	} else if ((pre[6] == 2 || pre[6] == 3) && pre[7] == 0) {
		if (read_exact(fp, pre + 8, 4)) {
			rc = tn_fail(TN_E_FORMAT, "%s: truncated .npy header", name);
			goto out;
		}
		hlen = (size_t)pre[8] | ((size_t)pre[9] << 8) | ((size_t)pre[10] << 16) |
		       ((size_t)pre[11] << 24);
		prelen = 12;
	} else {
		rc = tn_fail(TN_E_UNSUPPORTED, "%s: .npy format version %d.%d is not supported", name,
			     pre[6], pre[7]);
		goto out;
	}
	if (hlen > NPY_MAX_HEADER) {
		rc = tn_fail(TN_E_FORMAT, "%s: .npy header of %zu bytes is implausibly large", name,
			     hlen);
		goto out;
	}
	hdr = malloc(hlen + 1);
	if (!hdr) {
		rc = tn_fail(TN_E_NOMEM, "%s: out of memory", name);
		goto out;
	}
	if (read_exact(fp, hdr, hlen)) {
		rc = tn_fail(TN_E_FORMAT, "%s: truncated .npy header (%zu bytes announced)", name, hlen);
		goto out;
	}
	hdr[hlen] = 0;
	int nd = 0;
	int64_t shp[NPY_MAX_DIMS] = {0};
	rc = parse_header(name, hdr, hlen, &nd, shp);
	if (rc)
		goto out;
	size_t numel = 0, bytes = 0;
	rc = shape_numel(name, nd, shp, &numel, &bytes);
	if (rc)
		goto out;
	/* For a regular file the size must match before anything big is allocated. */
	struct stat st;
	if (!is_stdin && fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode)) {
		uint64_t want = (uint64_t)prelen + hlen + bytes;
		if ((uint64_t)st.st_size != want) {
			rc = tn_fail(TN_E_FORMAT, "%s: %s: shape needs %zu data bytes but the file has %lld",
				     name, (uint64_t)st.st_size < want ? "truncated" : "trailing bytes",
				     bytes, (long long)st.st_size - (long long)(prelen + hlen));
			goto out;
		}
	}
	buf = malloc(bytes ? bytes : 1);
	if (!buf) {
		rc = tn_fail(TN_E_NOMEM, "%s: out of memory for %zu bytes", name, bytes);
		goto out;
	}
	if (read_exact(fp, buf, bytes)) {
		rc = tn_fail(TN_E_FORMAT, "%s: truncated: shape needs %zu data bytes", name, bytes);
		goto out;
	}
	if (!is_stdin && fgetc(fp) != EOF) {
		rc = tn_fail(TN_E_FORMAT, "%s: trailing bytes after the array data", name);
		goto out;
	}
#if !(defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__)
	for (size_t i = 0; i < numel; i++) {
		const unsigned char *p = (const unsigned char *)(buf + i);
		uint32_t u = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
			     ((uint32_t)p[3] << 24);
		memcpy(buf + i, &u, 4);
	}
#endif
	*ndim = nd;
	for (int i = 0; i < nd; i++)
		shape[i] = shp[i];
	*data = buf;
	buf = NULL;
out:
	if (!rc && ferror(fp))
		rc = tn_fail(TN_E_IO, "%s: read error", name);
	free(hdr);
	free(buf);
	if (!is_stdin)
		fclose(fp);
	if (rc && *data) {
		free(*data);
		*data = NULL;
	}
	return rc;
}
