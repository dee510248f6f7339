/* The .w model file (safetensors layout): mmap + header validation, half conversions, writer. */
#include "io/wfile.h"

#include "core/error.h"
#include "core/tensor.h"
#include "io/file.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* A header larger than this is hostile or not a .w file (real ones are a few hundred KB). */
#define WF_MAX_HEADER ((uint64_t)100 << 20)

static const char *dtype_name(enum tn_dtype d)
{
	switch (d) {
	case TN_DTYPE_F32: return "F32";
	case TN_DTYPE_F16: return "F16";
	case TN_DTYPE_BF16: return "BF16";
	default: return "?";
	}
}

static size_t dtype_size(enum tn_dtype d)
{
	return d == TN_DTYPE_F32 ? 4 : 2;
}

/* ---- half-precision conversions (bit exact, independent of the FPU's modes) ---- */

static float bits_to_f32(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

static uint32_t f32_to_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

float tn_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
	if (exp == 0) {
		/* zero or subnormal: mant * 2^-24, exact in float */
		float v = (float)mant * 0x1p-24f;
		return bits_to_f32(f32_to_bits(v) | sign);
	}
	if (exp == 31) /* inf or NaN, payload kept */
		return bits_to_f32(sign | 0x7f800000u | (mant << 13));
	return bits_to_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

/* Round to nearest even; returns -1 when f is NaN/inf or its magnitude rounds past 65504. */
static int f32_to_f16(float f, uint16_t *out)
{
	uint32_t u = f32_to_bits(f);
	uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
	uint32_t a = u & 0x7fffffffu;
	if (a >= 0x477ff000u) /* 65520 and up round to inf; includes inf and NaN */
		return -1;
	if (a >= 0x38800000u) { /* normal half: drop 13 mantissa bits */
		uint32_t h = (a - 0x38000000u) >> 13, rem = a & 0x1fff;
		if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
			h++; /* a carry into the exponent is the right answer */
		*out = (uint16_t)(sign | h);
		return 0;
	}
	if (a <= 0x33000000u) { /* at most 2^-25: rounds to zero (the tie goes to even 0) */
		*out = sign;
		return 0;
	}
	/* subnormal half: value * 2^24 rounded to an integer (1024 becomes the smallest normal) */
	uint32_t e = a >> 23, mant = (a & 0x7fffff) | 0x800000;
	uint32_t shift = 126 - e; /* 14..24 */
	uint32_t h = mant >> shift, rem = mant & ((1u << shift) - 1), halfway = 1u << (shift - 1);
	if (rem > halfway || (rem == halfway && (h & 1)))
		h++;
	*out = (uint16_t)(sign | h);
	return 0;
}

float tn_bf16_to_f32(uint16_t h)
{
	return bits_to_f32((uint32_t)h << 16);
}

/* Round to nearest even; returns -1 when f is NaN/inf or rounds up to inf. */
static int f32_to_bf16(float f, uint16_t *out)
{
	uint32_t u = f32_to_bits(f);
	if ((u & 0x7f800000u) == 0x7f800000u)
		return -1;
	u += 0x7fffu + ((u >> 16) & 1);
	if ((u & 0x7f800000u) == 0x7f800000u)
		return -1;
	*out = (uint16_t)(u >> 16);
	return 0;
}

static uint16_t load_u16le(const unsigned char *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t load_u32le(const unsigned char *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

void tn_wtensor_to_f32(const struct tn_wtensor *t, float *dst)
{
	const unsigned char *p = t->data;
	size_t n = t->numel;
	switch (t->dtype) {
	case TN_DTYPE_F32:
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		if (n)
			memcpy(dst, p, n * 4);
#else
		for (size_t i = 0; i < n; i++)
			dst[i] = bits_to_f32(load_u32le(p + 4 * i));
#endif
		break;
	case TN_DTYPE_F16:
		for (size_t i = 0; i < n; i++)
			dst[i] = tn_f16_to_f32(load_u16le(p + 2 * i));
		break;
	case TN_DTYPE_BF16:
		for (size_t i = 0; i < n; i++)
			dst[i] = tn_bf16_to_f32(load_u16le(p + 2 * i));
		break;
	default:
		/* tn_wfile_open admits no other dtype */
		memset(dst, 0, n * sizeof *dst);
		break;
	}
}

/* ---- reading ---- */

static int cmp_tensor_name(const void *a, const void *b)
{
	return strcmp(((const struct tn_wtensor *)a)->name, ((const struct tn_wtensor *)b)->name);
}

struct range {
	uint64_t begin, end;
	const char *name;
};

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;
	if (x->begin != y->begin)
		return x->begin < y->begin ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

/* "[21,1]" into buf, for messages. */
static const char *shape_str(char *buf, size_t cap, int ndim, const int64_t *shape)
{
	size_t k = 0;
	buf[0] = 0;
	k += (size_t)snprintf(buf + k, cap - k, "[");
	for (int i = 0; i < ndim && k < cap; i++)
		k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? "," : "", (long long)shape[i]);
	if (k < cap)
		snprintf(buf + k, cap - k, "]");
	return buf;
}

static int parse_dtype(const char *path, const char *name, json_t *v, enum tn_dtype *out)
{
	if (!json_is_string(v))
		return tn_fail(TN_E_FORMAT, "%s: tensor '%s': dtype is not a string", path, name);
	const char *s = json_string_value(v);
	if (strcmp(s, "F32") == 0)
		*out = TN_DTYPE_F32;
	else if (strcmp(s, "F16") == 0)
		*out = TN_DTYPE_F16;
	else if (strcmp(s, "BF16") == 0)
		*out = TN_DTYPE_BF16;
	else
		return tn_fail(TN_E_UNSUPPORTED,
			       "%s: tensor '%s': unsupported dtype '%.32s' (a .w file stores F32, F16 or BF16)",
			       path, name, s);
	return 0;
}

/* Checks one tensor entry and fills t (data pointer set later); r gets its byte range. */
static int parse_entry(const char *path, const char *name, json_t *e, size_t data_len,
		       struct tn_wtensor *t, struct range *r)
{
	if (!json_is_object(e))
		return tn_fail(TN_E_FORMAT, "%s: tensor '%s': entry is not a JSON object", path, name);
	json_t *jd = json_object_get(e, "dtype"), *js = json_object_get(e, "shape"),
	       *jo = json_object_get(e, "data_offsets");
	if (!jd || !js || !jo)
		return tn_fail(TN_E_FORMAT, "%s: tensor '%s': missing \"%s\"", path, name,
			       !jd ? "dtype" : !js ? "shape" : "data_offsets");
	t->name = name;
	int rc = parse_dtype(path, name, jd, &t->dtype);
	if (rc)
		return rc;

	if (!json_is_array(js))
		return tn_fail(TN_E_FORMAT, "%s: tensor '%s': shape is not an array", path, name);
	size_t nd = json_array_size(js);
	if (nd > TN_MAX_DIMS)
		return tn_fail(TN_E_UNSUPPORTED, "%s: tensor '%s': %zu dimensions (at most %d)", path,
			       name, nd, TN_MAX_DIMS);
	t->ndim = (int)nd;
	size_t numel = 1;
	for (size_t i = 0; i < nd; i++) {
		json_t *d = json_array_get(js, i);
		if (!json_is_integer(d) || json_integer_value(d) < 0)
			return tn_fail(TN_E_FORMAT,
				       "%s: tensor '%s': shape element %zu is not a non-negative integer",
				       path, name, i);
		t->shape[i] = (int64_t)json_integer_value(d);
	}
	for (size_t i = 0; i < nd; i++)
		if (__builtin_mul_overflow(numel, (size_t)t->shape[i], &numel))
			return tn_fail(TN_E_FORMAT, "%s: tensor '%s': shape %s overflows", path, name,
				       shape_str((char[160]){0}, 160, t->ndim, t->shape));
	t->numel = numel;
	size_t bytes;
	if (__builtin_mul_overflow(numel, dtype_size(t->dtype), &bytes))
		return tn_fail(TN_E_FORMAT, "%s: tensor '%s': shape %s overflows", path, name,
			       shape_str((char[160]){0}, 160, t->ndim, t->shape));

	if (!json_is_array(jo) || json_array_size(jo) != 2 ||
	    !json_is_integer(json_array_get(jo, 0)) || !json_is_integer(json_array_get(jo, 1)))
		return tn_fail(TN_E_FORMAT, "%s: tensor '%s': data_offsets is not [begin,end]", path,
			       name);
	json_int_t b = json_integer_value(json_array_get(jo, 0));
	json_int_t en = json_integer_value(json_array_get(jo, 1));
	if (b < 0 || en < b)
		return tn_fail(TN_E_FORMAT, "%s: tensor '%s': data_offsets [%lld,%lld] out of order",
			       path, name, (long long)b, (long long)en);
	if ((uint64_t)en > data_len)
		return tn_fail(TN_E_FORMAT,
			       "%s: tensor '%s': data_offsets [%lld,%lld] past the end of the data area "
			       "(%zu bytes; truncated file?)",
			       path, name, (long long)b, (long long)en, data_len);
	if ((uint64_t)(en - b) != bytes) {
		char sb[160];
		return tn_fail(TN_E_FORMAT,
			       "%s: tensor '%s': data_offsets [%lld,%lld] hold %llu bytes but shape %s %s "
			       "needs %zu",
			       path, name, (long long)b, (long long)en, (unsigned long long)(en - b),
			       shape_str(sb, sizeof sb, t->ndim, t->shape), dtype_name(t->dtype), bytes);
	}
	r->begin = (uint64_t)b;
	r->end = (uint64_t)en;
	r->name = name;
	return 0;
}

static int parse_metadata(const char *path, json_t *m, struct tn_wfile *wf)
{
	if (json_is_null(m))
		return 0;
	if (!json_is_object(m))
		return tn_fail(TN_E_FORMAT, "%s: __metadata__ is not a JSON object", path);
	size_t n = json_object_size(m);
	if (!n)
		return 0;
	wf->meta_keys = calloc(n, sizeof *wf->meta_keys);
	wf->meta_vals = calloc(n, sizeof *wf->meta_vals);
	if (!wf->meta_keys || !wf->meta_vals)
		return tn_fail(TN_E_NOMEM, "%s: out of memory", path);
	const char *k;
	json_t *v;
	json_object_foreach(m, k, v) {
		if (!json_is_string(v))
			return tn_fail(TN_E_FORMAT, "%s: __metadata__ '%s' is not a string", path, k);
		/* the strings live in json_root, which the wfile owns */
		wf->meta_keys[wf->n_meta] = (char *)k;
		wf->meta_vals[wf->n_meta] = (char *)json_string_value(v);
		wf->n_meta++;
	}
	return 0;
}

static int parse_header(struct tn_wfile *wf, const char *path, const char *hdr, size_t hlen,
			size_t data_len, const unsigned char *data)
{
	json_error_t jerr;
	json_t *root = json_loadb(hdr, hlen, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return tn_fail(TN_E_FORMAT, "%s: header JSON, line %d column %d: %s", path, jerr.line,
			       jerr.column, jerr.text);
	wf->json_root = root;
	if (!json_is_object(root))
		return tn_fail(TN_E_FORMAT, "%s: header JSON is not an object", path);

	json_t *meta = json_object_get(root, "__metadata__");
	size_t nt = json_object_size(root) - (meta ? 1 : 0);
	if (meta) {
		int rc = parse_metadata(path, meta, wf);
		if (rc)
			return rc;
	}
	wf->t = calloc(nt ? nt : 1, sizeof *wf->t);
	struct range *rg = calloc(nt ? nt : 1, sizeof *rg);
	if (!wf->t || !rg) {
		free(rg);
		return tn_fail(TN_E_NOMEM, "%s: out of memory for %zu tensors", path, nt);
	}
	const char *k;
	json_t *v;
	json_object_foreach(root, k, v) {
		if (strcmp(k, "__metadata__") == 0)
			continue;
		int rc = parse_entry(path, k, v, data_len, &wf->t[wf->n], &rg[wf->n]);
		if (rc) {
			free(rg);
			return rc;
		}
		wf->t[wf->n].data = data + rg[wf->n].begin;
		wf->n++;
	}
	qsort(rg, wf->n, sizeof *rg, cmp_range);
	for (size_t i = 1; i < wf->n; i++) {
		if (rg[i].begin < rg[i - 1].end) {
			int rc = tn_fail(TN_E_FORMAT,
					 "%s: tensors '%s' [%llu,%llu] and '%s' [%llu,%llu] overlap", path,
					 rg[i - 1].name, (unsigned long long)rg[i - 1].begin,
					 (unsigned long long)rg[i - 1].end, rg[i].name,
					 (unsigned long long)rg[i].begin, (unsigned long long)rg[i].end);
			free(rg);
			return rc;
		}
	}
	free(rg);
	qsort(wf->t, wf->n, sizeof *wf->t, cmp_tensor_name);
	return 0;
}

int tn_wfile_sniff(const unsigned char *head, size_t n, uint64_t size)
{
	if (n < 9 || size < 9)
		return 0;
	uint64_t hlen = (uint64_t)load_u32le(head) | ((uint64_t)load_u32le(head + 4) << 32);
	return hlen >= 2 && hlen <= size - 8 && head[8] == '{';
}

int tn_wfile_open(const char *path, struct tn_wfile *wf)
{
	memset(wf, 0, sizeof *wf);
	if (!path)
		return tn_fail(TN_E_INVAL, "no model file given");
	char *pcopy = strdup(path);
	if (!pcopy)
		return tn_fail(TN_E_NOMEM, "%s: out of memory", path);
	wf->path = pcopy;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int rc = tn_fail(TN_E_IO, "%s: %s", path, strerror(errno));
		tn_wfile_close(wf);
		return rc;
	}
	struct stat st;
	int rc = 0;
	if (fstat(fd, &st) != 0)
		rc = tn_fail(TN_E_IO, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = tn_fail(TN_E_IO, "%s: not a regular file", path);
	else if (st.st_size < 8)
		rc = tn_fail(TN_E_FORMAT, "%s: not a .w/safetensors file (%lld bytes, too short)", path,
			     (long long)st.st_size);
	else if ((uint64_t)st.st_size > SIZE_MAX)
		rc = tn_fail(TN_E_FORMAT, "%s: too large to map", path);
	if (rc) {
		close(fd);
		tn_wfile_close(wf);
		return rc;
	}
	size_t size = (size_t)st.st_size;
	void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
	int e = errno;
	close(fd);
	if (map == MAP_FAILED) {
		rc = tn_fail(TN_E_IO, "%s: cannot map: %s", path, strerror(e));
		tn_wfile_close(wf);
		return rc;
	}
	wf->map = map;
	wf->map_len = size;

	const unsigned char *p = map;
	uint64_t hlen = (uint64_t)load_u32le(p) | ((uint64_t)load_u32le(p + 4) << 32);
	size_t avail = size - 8;
	if (!tn_wfile_sniff(p, size, size) && tn_ckpt_sniff(p, size)) {
		/* the most common mix-up: the training checkpoint given for the model */
		rc = tn_fail(TN_E_FORMAT, "%s: a PyTorch checkpoint, not a .w model: convert it first with "
			     "weightconv %s -o MODEL.w", path, path);
	} else if (hlen > avail) {
		/* a plausible JSON start means a cut file; anything else is another format */
		if (hlen <= WF_MAX_HEADER && avail > 0 && p[8] == '{')
			rc = tn_fail(TN_E_FORMAT,
				     "%s: truncated: header says %llu bytes but only %zu follow the "
				     "length",
				     path, (unsigned long long)hlen, avail);
		else
			rc = tn_fail(TN_E_FORMAT,
				     "%s: not a .w/safetensors file (header length %llu larger than the "
				     "file)",
				     path, (unsigned long long)hlen);
	} else if (hlen > WF_MAX_HEADER) {
		rc = tn_fail(TN_E_FORMAT, "%s: header of %llu bytes exceeds the limit of %llu", path,
			     (unsigned long long)hlen, (unsigned long long)WF_MAX_HEADER);
	} else if (hlen < 2 || p[8] != '{') {
		rc = tn_fail(TN_E_FORMAT, "%s: not a .w/safetensors file (header does not start with '{')",
			     path);
	} else {
		rc = parse_header(wf, path, (const char *)p + 8, (size_t)hlen, avail - (size_t)hlen,
				  p + 8 + hlen);
	}
	if (rc) {
		tn_wfile_close(wf);
		return rc;
	}
	return 0;
}

void tn_wfile_close(struct tn_wfile *wf)
{
	if (wf->map)
		munmap(wf->map, wf->map_len);
	free(wf->t);
	free(wf->meta_keys);
	free(wf->meta_vals);
	if (wf->json_root)
		json_decref(wf->json_root);
	free((void *)wf->path);
	memset(wf, 0, sizeof *wf);
}

const struct tn_wtensor *tn_wfile_find(const struct tn_wfile *wf, const char *name)
{
	if (!wf->n || !name)
		return NULL;
	struct tn_wtensor key = {.name = name};
	return bsearch(&key, wf->t, wf->n, sizeof *wf->t, cmp_tensor_name);
}

const char *tn_wfile_meta(const struct tn_wfile *wf, const char *key)
{
	for (size_t i = 0; i < wf->n_meta; i++)
		if (strcmp(wf->meta_keys[i], key) == 0)
			return wf->meta_vals[i];
	return NULL;
}

/* ---- writing ---- */

static int set_new(json_t *obj, const char *key, json_t *val)
{
	return json_object_set_new(obj, key, val);
}

/* Builds the header JSON; returns the compact text (malloc'd by jansson) or NULL with tn_fail set. */
static char *build_header(const char *path, const struct tn_wwrite_tensor *t, size_t n,
			  const char *const *mk, const char *const *mv, size_t n_meta,
			  enum tn_dtype store, size_t *data_len, int *code)
{
	json_t *root = json_object();
	*code = TN_E_NOMEM;
	if (!root) {
		tn_fail(TN_E_NOMEM, "%s: out of memory", path);
		return NULL;
	}
	if (n_meta) {
		json_t *m = json_object();
		if (!m || set_new(root, "__metadata__", m)) {
			tn_fail(TN_E_NOMEM, "%s: out of memory", path);
			goto fail;
		}
		for (size_t i = 0; i < n_meta; i++) {
			*code = TN_E_INVAL;
			if (!mk[i] || !mv[i]) {
				tn_fail(TN_E_INVAL, "%s: metadata pair %zu is NULL", path, i);
				goto fail;
			}
			if (json_object_get(m, mk[i])) {
				tn_fail(TN_E_INVAL, "%s: metadata key '%s' given twice", path, mk[i]);
				goto fail;
			}
			json_t *s = json_string(mv[i]);
			if (!s || set_new(m, mk[i], s)) {
				tn_fail(TN_E_INVAL, "%s: metadata '%.64s' is not valid UTF-8", path, mk[i]);
				goto fail;
			}
		}
	}
	size_t off = 0, es = dtype_size(store);
	for (size_t i = 0; i < n; i++) {
		const char *name = t[i].name;
		*code = TN_E_INVAL;
		if (!name || !*name) {
			tn_fail(TN_E_INVAL, "%s: tensor %zu has no name", path, i);
			goto fail;
		}
		if (strcmp(name, "__metadata__") == 0 || json_object_get(root, name)) {
			tn_fail(TN_E_INVAL, "%s: tensor name '%s' %s", path, name,
				strcmp(name, "__metadata__") == 0 ? "is reserved" : "given twice");
			goto fail;
		}
		if (t[i].ndim < 0 || t[i].ndim > TN_MAX_DIMS || (t[i].ndim && !t[i].shape)) {
			tn_fail(TN_E_INVAL, "%s: tensor '%s': %d dimensions (0 to %d allowed)", path, name,
				t[i].ndim, TN_MAX_DIMS);
			goto fail;
		}
		size_t numel, bytes;
		if (tn_shape_numel(t[i].ndim, t[i].shape, &numel) || tn_mul_size(numel, es, &bytes) ||
		    __builtin_add_overflow(off, bytes, &off)) {
			tn_fail(TN_E_INVAL, "%s: tensor '%s': shape %s is negative or too large", path,
				name, shape_str((char[160]){0}, 160, t[i].ndim, t[i].shape));
			goto fail;
		}
		if (numel && !t[i].f32) {
			tn_fail(TN_E_INVAL, "%s: tensor '%s' has no data", path, name);
			goto fail;
		}
		*code = TN_E_NOMEM;
		json_t *e = json_object(), *sh = json_array(), *of = json_array();
		if (!e || !sh || !of) {
			json_decref(e);
			json_decref(sh);
			json_decref(of);
			tn_fail(TN_E_NOMEM, "%s: out of memory", path);
			goto fail;
		}
		int bad = set_new(e, "dtype", json_string(dtype_name(store)));
		for (int d = 0; d < t[i].ndim; d++)
			bad |= json_array_append_new(sh, json_integer((json_int_t)t[i].shape[d]));
		bad |= set_new(e, "shape", sh);
		bad |= json_array_append_new(of, json_integer((json_int_t)(off - bytes)));
		bad |= json_array_append_new(of, json_integer((json_int_t)off));
		bad |= set_new(e, "data_offsets", of);
		bad |= set_new(root, name, e);
		if (bad) {
			*code = TN_E_INVAL;
			tn_fail(TN_E_INVAL, "%s: tensor name '%.64s' is not valid UTF-8 (or out of memory)",
				path, name);
			goto fail;
		}
	}
	/* jansson >= 2.8 keeps insertion order: metadata first, then tensors as given */
	char *s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	if (!s) {
		*code = TN_E_NOMEM;
		tn_fail(TN_E_NOMEM, "%s: out of memory", path);
		return NULL;
	}
	*data_len = off;
	*code = 0;
	return s;
fail:
	json_decref(root);
	return NULL;
}

static void fmt_value(char *buf, size_t cap, float v)
{
	snprintf(buf, cap, "%.9g", (double)v);
}

/* Converts and writes one tensor's data in chunks. */
static int write_data(struct tn_out *o, const char *path, const struct tn_wwrite_tensor *t,
		      enum tn_dtype store)
{
	size_t numel;
	tn_shape_numel(t->ndim, t->shape, &numel); /* checked by build_header */
	unsigned char buf[1 << 14];
	size_t es = dtype_size(store), per = sizeof buf / es;
	for (size_t i = 0; i < numel; i += per) {
		size_t m = numel - i < per ? numel - i : per;
		const float *src = t->f32 + i;
		for (size_t j = 0; j < m; j++) {
			unsigned char *q = buf + j * es;
			if (store == TN_DTYPE_F32) {
				uint32_t u = f32_to_bits(src[j]);
				q[0] = (unsigned char)u;
				q[1] = (unsigned char)(u >> 8);
				q[2] = (unsigned char)(u >> 16);
				q[3] = (unsigned char)(u >> 24);
				continue;
			}
			uint16_t h;
			int bad = store == TN_DTYPE_F16 ? f32_to_f16(src[j], &h) : f32_to_bf16(src[j], &h);
			if (bad) {
				char vb[32];
				fmt_value(vb, sizeof vb, src[j]);
				return tn_fail(TN_E_INVAL, "%s: tensor '%s' has a value %s that %s cannot hold",
					       path, t->name, vb, store == TN_DTYPE_F16 ? "fp16" : "bf16");
			}
			q[0] = (unsigned char)h;
			q[1] = (unsigned char)(h >> 8);
		}
		int rc = tn_out_write(o, buf, m * es);
		if (rc)
			return rc;
	}
	return 0;
}

int tn_wfile_write(const char *path, const struct tn_wwrite_tensor *t, size_t n,
		   const char *const *meta_keys, const char *const *meta_vals, size_t n_meta,
		   enum tn_dtype store)
{
	const char *name = path && strcmp(path, "-") ? path : "standard output";
	if (store != TN_DTYPE_F32 && store != TN_DTYPE_F16 && store != TN_DTYPE_BF16)
		return tn_fail(TN_E_INVAL, "%s: a .w file stores F32, F16 or BF16", name);
	if ((n && !t) || (n_meta && (!meta_keys || !meta_vals)))
		return tn_fail(TN_E_INVAL, "%s: no tensors or metadata given", name);
	size_t data_len = 0;
	int code;
	char *hdr = build_header(name, t, n, meta_keys, meta_vals, n_meta, store, &data_len, &code);
	if (!hdr)
		return code;
	/* pad the header with spaces so the data area starts 8-byte aligned (as safetensors does) */
	size_t hl = strlen(hdr), padded = (hl + 7) & ~(size_t)7;
	unsigned char lenb[8];
	for (int i = 0; i < 8; i++)
		lenb[i] = (unsigned char)((uint64_t)padded >> (8 * i));
	static const char spaces[] = "        ";

	struct tn_out o;
	int rc = tn_out_open(&o, path);
	if (rc) {
		free(hdr);
		return rc;
	}
	rc = tn_out_write(&o, lenb, 8);
	if (!rc)
		rc = tn_out_write(&o, hdr, hl);
	if (!rc)
		rc = tn_out_write(&o, spaces, padded - hl);
	free(hdr);
	for (size_t i = 0; !rc && i < n; i++)
		rc = write_data(&o, name, &t[i], store);
	if (rc) {
		tn_out_abort(&o);
		return rc;
	}
	return tn_out_commit(&o);
}
