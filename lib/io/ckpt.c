#include "io/ckpt.h"

#include "core/error.h"
#include "core/tensor.h"
#include "io/file.h"
#include "io/unpickle.h"
#include "io/wfile.h"
#include "io/zip.h"

#include <jansson.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Globals a torch.save state_dict may name.  Nothing here is ever run: tensor builders are
 * interpreted below, OrderedDict and set become plain containers. */
static const char *const ckpt_allow[] = {
	"collections.OrderedDict",
	"torch._utils._rebuild_tensor",
	"torch._utils._rebuild_tensor_v2",
	"torch._utils._rebuild_parameter",
	"torch._tensor._rebuild_from_type_v2",
	"torch.Tensor",
	"torch.nn.parameter.Parameter",
	"torch.FloatStorage",
	"torch.HalfStorage",
	"torch.BFloat16Storage",
	"torch.DoubleStorage",
	"torch.LongStorage",
	"torch.IntStorage",
	"torch.CharStorage",
	"torch.ByteStorage",
	"torch.BoolStorage",
	/* storage types we cannot convert: allowed so the error says so instead of "forbidden" */
	"torch.ShortStorage", "torch.ComplexFloatStorage", "torch.ComplexDoubleStorage", "torch.UntypedStorage",
	"torch.float32", "torch.float", "torch.float16", "torch.half", "torch.bfloat16",
	"torch.float64", "torch.double", "torch.int64", "torch.long", "torch.int32", "torch.int",
	"torch.int8", "torch.uint8", "torch.bool",
	"builtins.set",
	"builtins.frozenset",
	"_codecs.encode", /* how protocol 2 spells a bytes object */
	"builtins.bytes", /* ... and an empty one */
	/* ultralytics checkpoints pickle whole modules; they become records, nothing is run */
	"models.*",
	"torch.nn.modules.*",
	"timm.*",
	"numpy.core.multiarray._reconstruct",
	"numpy.core.multiarray.scalar",
	"numpy.ndarray",
	"numpy.dtype",
	"pathlib.PosixPath",
	"pathlib.WindowsPath",
	NULL,
};

static const struct {
	const char *cls;
	enum tn_dtype dt;
	size_t size;
} storage_types[] = {
	{"torch.FloatStorage", TN_DTYPE_F32, 4}, {"torch.HalfStorage", TN_DTYPE_F16, 2},
	{"torch.BFloat16Storage", TN_DTYPE_BF16, 2}, {"torch.DoubleStorage", TN_DTYPE_F64, 8},
	{"torch.LongStorage", TN_DTYPE_I64, 8}, {"torch.IntStorage", TN_DTYPE_I32, 4},
	{"torch.CharStorage", TN_DTYPE_I8, 1}, {"torch.ByteStorage", TN_DTYPE_U8, 1},
	{"torch.BoolStorage", TN_DTYPE_BOOL, 1},
};

static size_t dtype_size(enum tn_dtype dt)
{
	for (size_t i = 0; i < sizeof storage_types / sizeof *storage_types; i++)
		if (storage_types[i].dt == dt)
			return storage_types[i].size;
	return 0;
}

/* A storage of the legacy format, laid out after the pickles. */
struct lstor {
	const char *key;
	enum tn_dtype dt;
	const uint8_t *data;
	uint64_t numel;
	int known; /* dtype seen in a persistent id */
};

struct ld {
	const char *path;
	const uint8_t *buf;
	size_t len;
	int legacy;
	struct tn_zip zip;
	char *prefix; /* "<archive>/" of the zip entries */
	struct lstor *ls;
	size_t nls;
	size_t budget; /* bytes of tensor copies still allowed */
	struct tn_pickle pk;
};

static int bad(const struct ld *l, int code, const char *name, const char *why)
{
	if (name)
		return tn_fail(code, "%s: tensor '%.200s': %s", l->path, name, why);
	return tn_fail(code, "%s: %s", l->path, why);
}

static int storage_type(const struct tn_pk *g, enum tn_dtype *dt, size_t *es)
{
	if (!g || g->type != TN_PK_GLOBAL)
		return -1;
	for (size_t i = 0; i < sizeof storage_types / sizeof *storage_types; i++)
		if (strcmp(g->u.g.name, storage_types[i].cls) == 0) {
			*dt = storage_types[i].dt;
			*es = storage_types[i].size;
			return 0;
		}
	return -1;
}

static int cmp_lstor(const void *a, const void *b)
{
	return strcmp(((const struct lstor *)a)->key, ((const struct lstor *)b)->key);
}

static struct lstor *lstor_find(const struct ld *l, const char *key)
{
	struct lstor k = {.key = key};
	return l->nls ? bsearch(&k, l->ls, l->nls, sizeof *l->ls, cmp_lstor) : NULL;
}

/* Resolves a persistent id ('storage', StorageClass, key, location, numel[, view]) to its bytes. */
static int resolve_storage(struct ld *l, const char *name, const struct tn_pk *pidnode, enum tn_dtype *dt,
			   const uint8_t **data, uint64_t *numel)
{
	char why[512];
	size_t es;
	if (!pidnode || pidnode->type != TN_PK_PERSID)
		return bad(l, TN_E_FORMAT, name, "storage argument is not a persistent id");
	const struct tn_pk *pid = pidnode->u.pid;
	if (pid->type != TN_PK_TUPLE || pid->u.seq.n < 5 || pid->u.seq.v[0]->type != TN_PK_STR ||
	    strcmp(pid->u.seq.v[0]->u.s.p, "storage") != 0)
		return bad(l, TN_E_FORMAT, name, "persistent id is not a ('storage', ...) tuple");
	struct tn_pk **f = pid->u.seq.v;
	if (storage_type(f[1], dt, &es)) {
		snprintf(why, sizeof why, "unsupported storage type %.200s",
			 f[1]->type == TN_PK_GLOBAL ? f[1]->u.g.name : tn_pk_type_name(f[1]->type));
		return bad(l, TN_E_UNSUPPORTED, name, why);
	}
	if (f[2]->type != TN_PK_STR || f[4]->type != TN_PK_INT || f[4]->u.i < 0)
		return bad(l, TN_E_FORMAT, name, "malformed storage persistent id (key or size)");
	const char *key = f[2]->u.s.p;
	uint64_t n = (uint64_t)f[4]->u.i, bytes;
	if (__builtin_mul_overflow(n, (uint64_t)es, &bytes))
		return bad(l, TN_E_FORMAT, name, "storage size overflows");
	if (!l->legacy) {
		size_t plen = strlen(l->prefix), klen = strlen(key);
		char *ename = malloc(plen + klen + 6);
		if (!ename)
			return bad(l, TN_E_NOMEM, name, "out of memory");
		memcpy(ename, l->prefix, plen);
		memcpy(ename + plen, "data/", 5);
		memcpy(ename + plen + 5, key, klen + 1);
		const struct tn_zip_entry *e = tn_zip_find(&l->zip, ename);
		if (!e) {
			snprintf(why, sizeof why, "storage entry '%.200s' missing from the archive", ename);
			free(ename);
			return bad(l, TN_E_FORMAT, name, why);
		}
		free(ename);
		if (e->size < bytes) {
			snprintf(why, sizeof why, "storage '%.100s' claims %llu elements (%llu bytes) but holds %llu bytes",
				 key, (unsigned long long)n, (unsigned long long)bytes, (unsigned long long)e->size);
			return bad(l, TN_E_FORMAT, name, why);
		}
		*data = tn_zip_data(&l->zip, e);
		*numel = n;
		return 0;
	}
	struct lstor *s = lstor_find(l, key);
	if (!s) {
		snprintf(why, sizeof why, "storage '%.100s' missing from the file", key);
		return bad(l, TN_E_FORMAT, name, why);
	}
	if (s->dt != *dt)
		return bad(l, TN_E_FORMAT, name, "storage used with two different types");
	*data = s->data;
	*numel = s->numel;
	if (pid->u.seq.n >= 6 && f[5]->type == TN_PK_TUPLE) {
		/* Old view storages: (view_key, offset, size) inside the root storage. */
		const struct tn_pk *vm = f[5];
		if (vm->u.seq.n != 3 || vm->u.seq.v[1]->type != TN_PK_INT || vm->u.seq.v[2]->type != TN_PK_INT)
			return bad(l, TN_E_FORMAT, name, "malformed storage view");
		int64_t off = vm->u.seq.v[1]->u.i, cnt = vm->u.seq.v[2]->u.i;
		if (off < 0 || cnt < 0 || (uint64_t)off > s->numel || (uint64_t)cnt > s->numel - (uint64_t)off)
			return bad(l, TN_E_FORMAT, name, "storage view outside its storage");
		*data = s->data + (uint64_t)off * es;
		*numel = (uint64_t)cnt;
	}
	return 0;
}

/* Element i of a little-endian storage, as float or integer. */
static float load_f(enum tn_dtype dt, const uint8_t *p)
{
	switch (dt) {
	case TN_DTYPE_F32: {
		float f;
		memcpy(&f, p, 4);
		return f;
	}
	case TN_DTYPE_F16:
		return tn_f16_to_f32((uint16_t)(p[0] | p[1] << 8));
	case TN_DTYPE_BF16:
		return tn_bf16_to_f32((uint16_t)(p[0] | p[1] << 8));
	default: {
		double d;
		memcpy(&d, p, 8);
		return (float)d;
	}
	}
}

static int64_t load_i(enum tn_dtype dt, const uint8_t *p)
{
	switch (dt) {
	case TN_DTYPE_I64: {
		int64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	case TN_DTYPE_I32: {
		int32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	case TN_DTYPE_I8:
		return (int8_t)p[0];
	case TN_DTYPE_BOOL:
		return p[0] != 0;
	default:
		return p[0];
	}
}

static int is_float(enum tn_dtype dt)
{
	return dt == TN_DTYPE_F32 || dt == TN_DTYPE_F16 || dt == TN_DTYPE_BF16 || dt == TN_DTYPE_F64;
}

/* The argument tuple of the _rebuild_tensor(_v2) call behind v, or NULL if v is no tensor. */
static const struct tn_pk *tensor_args(const struct tn_pk *v, int *v2)
{
	for (int hop = 0; hop < 4 && v; hop++) {
		const char *fn = tn_pk_callee(v);
		if (!fn)
			return NULL;
		const struct tn_pk *a = v->u.obj.args;
		if (strcmp(fn, "torch._utils._rebuild_tensor_v2") == 0 || strcmp(fn, "torch._utils._rebuild_tensor") == 0) {
			*v2 = fn[strlen(fn) - 1] == '2';
			return a;
		}
		if (strcmp(fn, "torch._utils._rebuild_parameter") == 0 && a->u.seq.n >= 1) {
			v = a->u.seq.v[0];
		} else if (strcmp(fn, "torch._tensor._rebuild_from_type_v2") == 0 && a->u.seq.n >= 3 &&
			   a->u.seq.v[2]->type == TN_PK_TUPLE) {
			/* (func, type, args, state): func(*args) is the tensor */
			if (tn_pk_is_global(a->u.seq.v[0], "torch._utils._rebuild_tensor_v2")) {
				*v2 = 1;
				return a->u.seq.v[2];
			}
			return NULL;
		} else {
			return NULL;
		}
	}
	return NULL;
}

static int int_tuple(const struct tn_pk *t, int64_t *out, int *n)
{
	if (!t || (t->type != TN_PK_TUPLE && t->type != TN_PK_LIST) || t->u.seq.n > TN_MAX_DIMS)
		return -1;
	for (size_t i = 0; i < t->u.seq.n; i++) {
		if (t->u.seq.v[i]->type != TN_PK_INT)
			return -1;
		out[i] = t->u.seq.v[i]->u.i;
	}
	*n = (int)t->u.seq.n;
	return 0;
}

static int make_tensor(struct ld *l, const char *name, const struct tn_pk *args, struct tn_ckpt_tensor *t)
{
	char why[512];
	enum tn_dtype dt = TN_DTYPE_F32;
	const uint8_t *data = NULL;
	uint64_t snumel = 0;
	int64_t size[TN_MAX_DIMS], stride[TN_MAX_DIMS];
	int nd, nds;
	if (args->type != TN_PK_TUPLE || args->u.seq.n < 4)
		return bad(l, TN_E_FORMAT, name, "tensor rebuild call has too few arguments");
	struct tn_pk **a = args->u.seq.v;
	int rc = resolve_storage(l, name, a[0], &dt, &data, &snumel);
	if (rc)
		return rc;
	if (a[1]->type != TN_PK_INT || a[1]->u.i < 0)
		return bad(l, TN_E_FORMAT, name, "bad storage offset");
	if (int_tuple(a[2], size, &nd))
		return bad(l, TN_E_FORMAT, name, "size is not a tuple of at most 8 integers");
	if (int_tuple(a[3], stride, &nds) || nds != nd)
		return bad(l, TN_E_FORMAT, name, "stride is not a tuple of integers matching the size");
	uint64_t numel = 1, maxoff = (uint64_t)a[1]->u.i;
	for (int i = 0; i < nd; i++) {
		if (size[i] < 0 || stride[i] < 0)
			return bad(l, TN_E_FORMAT, name, "negative size or stride");
		if (__builtin_mul_overflow(numel, (uint64_t)size[i], &numel) || numel > INT64_MAX)
			return bad(l, TN_E_FORMAT, name, "element count overflows");
	}
	if (numel > 0) {
		for (int i = 0; i < nd; i++) {
			uint64_t span;
			if (__builtin_mul_overflow((uint64_t)(size[i] - 1), (uint64_t)stride[i], &span) ||
			    __builtin_add_overflow(maxoff, span, &maxoff))
				return bad(l, TN_E_FORMAT, name, "size and stride overflow");
		}
		if (maxoff >= snumel) {
			snprintf(why, sizeof why, "size, stride and offset reach element %llu of a %llu-element storage",
				 (unsigned long long)maxoff, (unsigned long long)snumel);
			return bad(l, TN_E_FORMAT, name, why);
		}
	} else if (maxoff > snumel) {
		return bad(l, TN_E_FORMAT, name, "storage offset past the end of its storage");
	}
	int fl = is_float(dt);
	size_t osz = fl ? sizeof(float) : sizeof(int64_t), bytes;
	if (numel > SIZE_MAX || tn_mul_size((size_t)numel, osz, &bytes))
		return bad(l, TN_E_FORMAT, name, "tensor too large");
	if (bytes > l->budget)
		return bad(l, TN_E_FORMAT, name,
			   "tensor copies would exceed 8 times the file size (overlapping or broadcast views?)");
	l->budget -= bytes;
	void *buf = malloc(bytes ? bytes : osz);
	if (!buf)
		return bad(l, TN_E_NOMEM, name, "out of memory");
	t->dtype = dt;
	t->ndim = nd;
	memcpy(t->shape, size, sizeof(int64_t) * (size_t)nd);
	t->numel = (size_t)numel;
	if (fl)
		t->f32 = buf;
	else
		t->i64 = buf;
	/* Walk the output in row-major order with one counter per dimension. */
	size_t es = dtype_size(dt);
	int64_t idx[TN_MAX_DIMS] = {0};
	uint64_t off = (uint64_t)a[1]->u.i;
	for (size_t k = 0; k < (size_t)numel; k++) {
		const uint8_t *p = data + off * es;
		if (fl)
			t->f32[k] = load_f(dt, p);
		else
			t->i64[k] = load_i(dt, p);
		for (int d = nd - 1; d >= 0; d--) {
			if (++idx[d] < size[d]) {
				off += (uint64_t)stride[d];
				break;
			}
			off -= (uint64_t)stride[d] * (uint64_t)(size[d] - 1);
			idx[d] = 0;
		}
	}
	return 0;
}

static int has_tensors(const struct tn_pk *d)
{
	int v2;
	if (!d || d->type != TN_PK_DICT)
		return 0;
	for (size_t i = 0; i < d->u.seq.n; i++)
		if (tensor_args(d->u.seq.v[2 * i + 1], &v2))
			return 1;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp((*(const struct tn_ckpt_tensor *const *)a)->name, (*(const struct tn_ckpt_tensor *const *)b)->name);
}

static int is_module(const struct tn_pk *v);
static int extract_model(struct ld *l, const struct tn_pk *model, struct tn_ckpt *out);

static int extract(struct ld *l, struct tn_ckpt *out)
{
	const struct tn_pk *root = l->pk.root, *sd = NULL;
	if (root->type == TN_PK_DICT) {
		/* ultralytics: 'ema' (when set) is the model to use, else 'model' */
		const struct tn_pk *ema = tn_pk_dict_get(root, "ema"), *model = tn_pk_dict_get(root, "model");
		if (is_module(ema))
			return extract_model(l, ema, out);
		if (is_module(model))
			return extract_model(l, model, out);
	}
	if (has_tensors(root)) {
		sd = root;
	} else if (root->type == TN_PK_DICT) {
		static const char *const wrappers[] = {"state_dict", "model"};
		for (int i = 0; i < 2 && !sd; i++)
			if (has_tensors(tn_pk_dict_get(root, wrappers[i])))
				sd = tn_pk_dict_get(root, wrappers[i]);
	}
	if (!sd) {
		if (root->type == TN_PK_DICT)
			return tn_fail(TN_E_FORMAT,
				       "%s: no state_dict found: the top-level dict holds no tensors and has no "
				       "'state_dict' or 'model' entry that is a dict of tensors",
				       l->path);
		const char *what = tn_pk_callee(root) ? tn_pk_callee(root) : tn_pk_type_name(root->type);
		return tn_fail(TN_E_FORMAT, "%s: no state_dict found: the top-level object is a %.200s, not a dict",
			       l->path, what);
	}
	out->t = calloc(sd->u.seq.n, sizeof *out->t);
	if (!out->t)
		return tn_fail(TN_E_NOMEM, "%s: out of memory", l->path);
	for (size_t i = 0; i < sd->u.seq.n; i++) {
		const struct tn_pk *k = sd->u.seq.v[2 * i], *v = sd->u.seq.v[2 * i + 1];
		int v2;
		const struct tn_pk *args = tensor_args(v, &v2);
		if (!args)
			continue; /* non-tensor entries (e.g. extra state) are not weights */
		if (k->type != TN_PK_STR || strlen(k->u.s.p) != k->u.s.len)
			return tn_fail(TN_E_FORMAT, "%s: state_dict key %zu is a %s, not a plain string", l->path, i,
				       tn_pk_type_name(k->type));
		const char *name = k->u.s.p;
		if (strncmp(name, "module.", 7) == 0)
			name += 7;
		struct tn_ckpt_tensor *t = &out->t[out->n];
		if (!(t->name = strdup(name)))
			return tn_fail(TN_E_NOMEM, "%s: out of memory", l->path);
		out->n++;
		int rc = make_tensor(l, k->u.s.p, args, t);
		if (rc)
			return rc;
	}
	if (out->n == 0)
		return tn_fail(TN_E_FORMAT, "%s: no state_dict found (a dict without tensors)", l->path);
	struct tn_ckpt_tensor **ix = malloc(out->n * sizeof *ix);
	if (!ix)
		return tn_fail(TN_E_NOMEM, "%s: out of memory", l->path);
	for (size_t i = 0; i < out->n; i++)
		ix[i] = &out->t[i];
	qsort(ix, out->n, sizeof *ix, cmp_name);
	for (size_t i = 1; i < out->n; i++)
		if (strcmp(ix[i - 1]->name, ix[i]->name) == 0) {
			int rc = tn_fail(TN_E_FORMAT, "%s: tensor name '%.200s' appears twice (after removing \"module.\")",
					 l->path, ix[i]->name);
			free(ix);
			return rc;
		}
	free(ix);
	return 0;
}

/* --- ultralytics checkpoints: a pickled module tree ------------------------------------ */

#define MODULE_DEPTH_MAX 64

struct pending {
	char *name;
	const struct tn_pk *args;
};

struct walk {
	struct ld *l;
	struct pending *p;
	size_t n, cap;
};

static int is_module(const struct tn_pk *v)
{
	return v && v->type == TN_PK_OBJECT && v->state && v->state->type == TN_PK_DICT;
}

static int set_has(const struct tn_pk *set, const char *key)
{
	if (!set || (set->type != TN_PK_SET && set->type != TN_PK_FROZENSET && set->type != TN_PK_LIST))
		return 0;
	for (size_t i = 0; i < set->u.seq.n; i++)
		if (set->u.seq.v[i]->type == TN_PK_STR && strcmp(set->u.seq.v[i]->u.s.p, key) == 0)
			return 1;
	return 0;
}

static int add_pending(struct walk *w, const char *prefix, const char *key, const struct tn_pk *args)
{
	if (w->n == w->cap) {
		size_t ncap = w->cap ? 2 * w->cap : 256;
		struct pending *np = realloc(w->p, ncap * sizeof *np);
		if (!np)
			return tn_fail(TN_E_NOMEM, "%s: out of memory", w->l->path);
		w->p = np;
		w->cap = ncap;
	}
	size_t len = strlen(prefix) + strlen(key) + 1;
	char *name = malloc(len);
	if (!name)
		return tn_fail(TN_E_NOMEM, "%s: out of memory", w->l->path);
	snprintf(name, len, "%s%s", prefix, key);
	w->p[w->n++] = (struct pending){name, args};
	return 0;
}

/* Names as nn.Module.state_dict(): parameters, persistent buffers, then children, depth first. */
static int walk_module(struct walk *w, const struct tn_pk *m, const char *prefix, int depth)
{
	if (depth > MODULE_DEPTH_MAX)
		return tn_fail(TN_E_FORMAT, "%s: modules nested deeper than %d", w->l->path, MODULE_DEPTH_MAX);
	const struct tn_pk *st = m->state;
	const struct tn_pk *params = tn_pk_dict_get(st, "_parameters");
	const struct tn_pk *buffers = tn_pk_dict_get(st, "_buffers");
	const struct tn_pk *skip = tn_pk_dict_get(st, "_non_persistent_buffers_set");
	const struct tn_pk *children = tn_pk_dict_get(st, "_modules");
	const struct tn_pk *groups[2] = {params, buffers};
	for (int g = 0; g < 2; g++) {
		const struct tn_pk *d = groups[g];
		if (!d || d->type != TN_PK_DICT)
			continue;
		for (size_t i = 0; i < d->u.seq.n; i++) {
			const struct tn_pk *k = d->u.seq.v[2 * i], *v = d->u.seq.v[2 * i + 1];
			int v2;
			const struct tn_pk *args = tensor_args(v, &v2);
			if (k->type != TN_PK_STR || !args || (g == 1 && set_has(skip, k->u.s.p)))
				continue;
			int rc = add_pending(w, prefix, k->u.s.p, args);
			if (rc)
				return rc;
		}
	}
	if (!children || children->type != TN_PK_DICT)
		return 0;
	for (size_t i = 0; i < children->u.seq.n; i++) {
		const struct tn_pk *k = children->u.seq.v[2 * i], *v = children->u.seq.v[2 * i + 1];
		if (k->type != TN_PK_STR || !is_module(v))
			continue;
		size_t len = strlen(prefix) + k->u.s.len + 2;
		char *sub = malloc(len);
		if (!sub)
			return tn_fail(TN_E_NOMEM, "%s: out of memory", w->l->path);
		snprintf(sub, len, "%s%s.", prefix, k->u.s.p);
		int rc = walk_module(w, v, sub, depth + 1);
		free(sub);
		if (rc)
			return rc;
	}
	return 0;
}

/* Plain pickled data (the yaml dict, names, scalar attributes) as JSON; NULL for anything else. */
static json_t *pk_to_json(const struct tn_pk *v, int depth)
{
	if (!v || depth > 64)
		return NULL;
	switch (v->type) {
	case TN_PK_NONE:
		return json_null();
	case TN_PK_BOOL:
		return json_boolean(v->u.i);
	case TN_PK_INT:
		return json_integer(v->u.i);
	case TN_PK_FLOAT:
		return json_real(v->u.f);
	case TN_PK_STR:
		return json_stringn(v->u.s.p, v->u.s.len);
	case TN_PK_LIST:
	case TN_PK_TUPLE: {
		json_t *a = json_array();
		for (size_t i = 0; a && i < v->u.seq.n; i++) {
			json_t *e = pk_to_json(v->u.seq.v[i], depth + 1);
			if (!e || json_array_append_new(a, e)) {
				json_decref(a);
				return NULL;
			}
		}
		return a;
	}
	case TN_PK_DICT: {
		json_t *o = json_object();
		for (size_t i = 0; o && i < v->u.seq.n; i++) {
			const struct tn_pk *k = v->u.seq.v[2 * i];
			char num[32];
			const char *key = k->type == TN_PK_STR ? k->u.s.p : NULL;
			if (k->type == TN_PK_INT) {
				snprintf(num, sizeof num, "%lld", (long long)k->u.i);
				key = num;
			}
			json_t *e = key ? pk_to_json(v->u.seq.v[2 * i + 1], depth + 1) : NULL;
			if (!e || json_object_set_new(o, key, e)) {
				json_decref(o);
				return NULL;
			}
		}
		return o;
	}
	default:
		return NULL;
	}
}

static char *dump_json(json_t *j)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	return s;
}

/* names: a list, or (v7+) a dict {index: name}, as a JSON array in index order. */
static char *names_to_json(const struct tn_pk *names)
{
	if (names && (names->type == TN_PK_LIST || names->type == TN_PK_TUPLE))
		return dump_json(pk_to_json(names, 0));
	if (!names || names->type != TN_PK_DICT)
		return NULL;
	json_t *a = json_array();
	for (int64_t want = 0; a && (size_t)want < names->u.seq.n; want++) {
		const struct tn_pk *found = NULL;
		for (size_t i = 0; i < names->u.seq.n; i++)
			if (names->u.seq.v[2 * i]->type == TN_PK_INT && names->u.seq.v[2 * i]->u.i == want)
				found = names->u.seq.v[2 * i + 1];
		if (!found || found->type != TN_PK_STR) {
			json_decref(a);
			return NULL;
		}
		json_array_append_new(a, json_stringn(found->u.s.p, found->u.s.len));
	}
	return dump_json(a);
}

/* Scalar attributes of each layer of model.model (e.g. EffectiveSE.add_maxpool, the class). */
static char *layer_attrs_json(const struct tn_pk *model)
{
	const struct tn_pk *seq = tn_pk_dict_get(tn_pk_dict_get(model->state, "_modules"), "model");
	if (!is_module(seq))
		return NULL;
	const struct tn_pk *layers = tn_pk_dict_get(seq->state, "_modules");
	if (!layers || layers->type != TN_PK_DICT)
		return NULL;
	json_t *all = json_object();
	for (size_t i = 0; all && i < layers->u.seq.n; i++) {
		const struct tn_pk *k = layers->u.seq.v[2 * i], *m = layers->u.seq.v[2 * i + 1];
		if (k->type != TN_PK_STR || !is_module(m))
			continue;
		json_t *o = json_object();
		const struct tn_pk *cls = m->u.obj.cls;
		if (cls && cls->type == TN_PK_GLOBAL)
			json_object_set_new(o, "class", json_string(cls->u.g.name));
		const struct tn_pk *st = m->state;
		for (size_t j = 0; j < st->u.seq.n; j++) {
			const struct tn_pk *ak = st->u.seq.v[2 * j], *av = st->u.seq.v[2 * j + 1];
			if (ak->type != TN_PK_STR || ak->u.s.p[0] == '_' || strcmp(ak->u.s.p, "training") == 0)
				continue;
			if (av->type == TN_PK_BOOL || av->type == TN_PK_INT || av->type == TN_PK_FLOAT ||
			    av->type == TN_PK_STR || av->type == TN_PK_NONE)
				json_object_set_new(o, ak->u.s.p, pk_to_json(av, 0));
		}
		json_object_set_new(all, k->u.s.p, o);
	}
	return dump_json(all);
}

static int extract_model(struct ld *l, const struct tn_pk *model, struct tn_ckpt *out)
{
	struct walk w = {.l = l};
	int rc = walk_module(&w, model, "", 0);
	if (!rc && w.n == 0)
		rc = tn_fail(TN_E_FORMAT, "%s: the pickled model holds no tensors", l->path);
	if (!rc && !(out->t = calloc(w.n, sizeof *out->t)))
		rc = tn_fail(TN_E_NOMEM, "%s: out of memory", l->path);
	for (size_t i = 0; !rc && i < w.n; i++) {
		struct tn_ckpt_tensor *t = &out->t[out->n++];
		t->name = w.p[i].name;
		w.p[i].name = NULL;
		rc = make_tensor(l, t->name, w.p[i].args, t);
	}
	for (size_t i = 0; i < w.n; i++)
		free(w.p[i].name);
	free(w.p);
	if (rc)
		return rc;
	const struct tn_pk *cls = model->u.obj.cls;
	out->model_class = strdup(cls && cls->type == TN_PK_GLOBAL ? cls->u.g.name : "?");
	const struct tn_pk *yaml = tn_pk_dict_get(model->state, "yaml");
	out->yaml_json = yaml && yaml->type == TN_PK_DICT ? dump_json(pk_to_json(yaml, 0)) : NULL;
	out->names_json = names_to_json(tn_pk_dict_get(model->state, "names"));
	out->attrs_json = layer_attrs_json(model);
	if (!out->model_class)
		return tn_fail(TN_E_NOMEM, "%s: out of memory", l->path);
	return 0;
}

static const struct tn_unpickle_opts ckpt_opts = {.allow = ckpt_allow};

static int load_zip(struct ld *l)
{
	int rc = tn_zip_open(&l->zip, l->buf, l->len);
	if (rc)
		return tn_fail_prefix(rc, l->path);
	const struct tn_zip_entry *pkl = NULL;
	for (size_t i = 0; i < l->zip.n; i++) {
		const char *nm = l->zip.e[i].name;
		size_t n = strlen(nm);
		if (n >= 8 && strcmp(nm + n - 8, "data.pkl") == 0 && (n == 8 || nm[n - 9] == '/')) {
			if (pkl)
				return tn_fail(TN_E_FORMAT, "%s: several data.pkl entries ('%.200s', '%.200s')", l->path,
					       pkl->name, nm);
			pkl = &l->zip.e[i];
		}
	}
	if (!pkl)
		return tn_fail(TN_E_FORMAT, "%s: a zip archive without a data.pkl entry: not a torch.save file",
			       l->path);
	size_t plen = strlen(pkl->name) - 8;
	if (!(l->prefix = strndup(pkl->name, plen)))
		return tn_fail(TN_E_NOMEM, "%s: out of memory", l->path);
	char bo[512];
	snprintf(bo, sizeof bo, "%.400sbyteorder", l->prefix);
	const struct tn_zip_entry *e = tn_zip_find(&l->zip, bo);
	if (e && !(e->size == 6 && memcmp(tn_zip_data(&l->zip, e), "little", 6) == 0))
		return tn_fail(TN_E_UNSUPPORTED, "%s: big-endian checkpoints are not supported", l->path);
	rc = tn_unpickle(tn_zip_data(&l->zip, pkl), pkl->size, &ckpt_opts, &l->pk, NULL);
	if (rc)
		return tn_fail_prefix(rc, l->path);
	return 0;
}

/* The element type of every storage key named by a persistent id (legacy format). */
static void note_pid(const struct tn_pk *v, void *ctx)
{
	struct ld *l = ctx;
	enum tn_dtype dt;
	size_t es;
	if (v->type != TN_PK_PERSID || v->u.pid->type != TN_PK_TUPLE || v->u.pid->u.seq.n < 5)
		return;
	struct tn_pk **f = v->u.pid->u.seq.v;
	if (f[2]->type != TN_PK_STR || storage_type(f[1], &dt, &es))
		return;
	struct lstor *s = lstor_find(l, f[2]->u.s.p);
	if (s && !s->known) {
		s->dt = dt;
		s->known = 1;
	}
}

static const uint8_t legacy_magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

/* Legacy torch.save (before 1.6): pickles of the magic number, the protocol version, system
 * info, the object and the storage keys, then each storage as an 8-byte count and its data. */
static int load_legacy(struct ld *l)
{
	struct tn_pickle p;
	size_t pos = 0, used;
	int rc;
	l->legacy = 1;
	for (int i = 0; i < 3; i++) {
		if ((rc = tn_unpickle(l->buf + pos, l->len - pos, NULL, &p, &used)))
			return tn_fail_prefix(rc, l->path);
		pos += used;
		const struct tn_pk *r = p.root;
		int ok = i == 0   ? r->type == TN_PK_BIGINT && r->u.s.len == 10 && !memcmp(r->u.s.p, legacy_magic, 10)
			 : i == 1 ? r->type == TN_PK_INT && r->u.i == 1001
				  : r->type == TN_PK_DICT;
		if (i == 2 && ok) {
			const struct tn_pk *le = tn_pk_dict_get(r, "little_endian");
			ok = le && le->type == TN_PK_BOOL && le->u.i == 1;
		}
		tn_pickle_free(&p);
		if (!ok)
			return tn_fail(TN_E_UNSUPPORTED, "%s: %s", l->path,
				       i == 0   ? "not a torch.save file (neither zip nor legacy magic number)"
				       : i == 1 ? "legacy torch.save file with an unknown protocol version"
						: "legacy torch.save file: bad system info or big-endian");
	}
	if ((rc = tn_unpickle(l->buf + pos, l->len - pos, &ckpt_opts, &l->pk, &used)))
		return tn_fail_prefix(rc, l->path);
	pos += used;
	if ((rc = tn_unpickle(l->buf + pos, l->len - pos, NULL, &p, &used)))
		return tn_fail_prefix(rc, l->path);
	pos += used;
	const struct tn_pk *keys = p.root;
	rc = 0;
	if (keys->type != TN_PK_LIST) {
		rc = tn_fail(TN_E_FORMAT, "%s: legacy storage key list is not a list", l->path);
		goto out;
	}
	l->ls = calloc(keys->u.seq.n ? keys->u.seq.n : 1, sizeof *l->ls);
	if (!l->ls) {
		rc = tn_fail(TN_E_NOMEM, "%s: out of memory", l->path);
		goto out;
	}
	for (size_t i = 0; i < keys->u.seq.n; i++) {
		if (keys->u.seq.v[i]->type != TN_PK_STR) {
			rc = tn_fail(TN_E_FORMAT, "%s: legacy storage key %zu is not a string", l->path, i);
			goto out;
		}
		if (!(l->ls[i].key = strdup(keys->u.seq.v[i]->u.s.p))) {
			rc = tn_fail(TN_E_NOMEM, "%s: out of memory", l->path);
			goto out;
		}
		l->nls++;
	}
	/* Types come from the persistent ids; offsets follow the key list's order. */
	struct lstor *order = malloc(l->nls * sizeof *order + 1);
	if (!order) {
		rc = tn_fail(TN_E_NOMEM, "%s: out of memory", l->path);
		goto out;
	}
	memcpy(order, l->ls, l->nls * sizeof *order);
	qsort(l->ls, l->nls, sizeof *l->ls, cmp_lstor);
	tn_pickle_each(&l->pk, note_pid, l);
	for (size_t i = 0; i < l->nls; i++) {
		struct lstor *s = lstor_find(l, order[i].key);
		uint64_t n, bytes;
		if (!s->known) {
			rc = tn_fail(TN_E_FORMAT, "%s: legacy storage '%.100s' has no known type", l->path, s->key);
			break;
		}
		if (l->len - pos < 8) {
			rc = tn_fail(TN_E_FORMAT, "%s: truncated (storage '%.100s' missing)", l->path, s->key);
			break;
		}
		memcpy(&n, l->buf + pos, 8);
		pos += 8;
		if (__builtin_mul_overflow(n, (uint64_t)dtype_size(s->dt), &bytes) || bytes > l->len - pos) {
			rc = tn_fail(TN_E_FORMAT, "%s: truncated (storage '%.100s' of %llu elements runs past the end)",
				     l->path, s->key, (unsigned long long)n);
			break;
		}
		s->data = l->buf + pos;
		s->numel = n;
		pos += bytes;
	}
	free(order);
out:
	tn_pickle_free(&p);
	return rc;
}

static void unmap(const uint8_t *buf, size_t len, int mapped)
{
	if (mapped)
		munmap((void *)buf, len);
	else
		free((void *)buf);
}

static int read_file(const char *path, const uint8_t **buf, size_t *len, int *mapped)
{
	*mapped = 0;
	if (strcmp(path, "-") != 0) {
		int fd = open(path, O_RDONLY);
		struct stat st;
		if (fd < 0)
			return tn_fail(TN_E_IO, "%s: %s", path, strerror(errno));
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t)st.st_size <= SIZE_MAX) {
			void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
			close(fd);
			if (m == MAP_FAILED)
				return tn_fail(TN_E_IO, "%s: cannot map: %s", path, strerror(errno));
			*buf = m;
			*len = (size_t)st.st_size;
			*mapped = 1;
			return 0;
		}
		close(fd);
	}
	uint8_t *b;
	int rc = tn_read_all(path, 0, &b, len);
	if (rc)
		return rc;
	*buf = b;
	return 0;
}

int tn_ckpt_sniff(const unsigned char *head, size_t n)
{
	if (n >= 4 && memcmp(head, "PK\3\4", 4) == 0)
		return 1;
	return n >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5;
}

int tn_ckpt_load(const char *path, struct tn_ckpt *out)
{
	struct ld l = {.path = path};
	int mapped, rc;
	memset(out, 0, sizeof *out);
	if ((rc = read_file(path, &l.buf, &l.len, &mapped)))
		return rc;
	l.budget = l.len > (SIZE_MAX - ((size_t)64 << 20)) / 8 ? SIZE_MAX : 8 * l.len + ((size_t)64 << 20);
	if (tn_wfile_sniff(l.buf, l.len, l.len))
		rc = tn_fail(TN_E_FORMAT, "%s: a .w model file, already converted (see inside with weightconv --info %s)",
			     path, path);
	else if (l.len >= 4 && memcmp(l.buf, "PK\3\4", 4) == 0)
		rc = load_zip(&l);
	else if (l.len >= 2 && l.buf[0] == 0x80 && l.buf[1] <= 5)
		rc = load_legacy(&l);
	else if (l.len >= 262 && memcmp(l.buf + 257, "ustar", 5) == 0)
		rc = tn_fail(TN_E_UNSUPPORTED, "%s: tar-format torch.save file (torch < 0.4) not supported; re-save with torch>=1.6", path);
	else
		rc = load_zip(&l); /* a zip with a preamble, or garbage: let the zip reader explain */
	if (!rc)
		rc = extract(&l, out);
	if (rc)
		tn_ckpt_free(out);
	tn_pickle_free(&l.pk);
	tn_zip_close(&l.zip);
	free(l.prefix);
	for (size_t i = 0; i < l.nls; i++)
		free((char *)l.ls[i].key);
	free(l.ls);
	unmap(l.buf, l.len, mapped);
	return rc;
}

void tn_ckpt_free(struct tn_ckpt *ck)
{
	for (size_t i = 0; i < ck->n; i++) {
		free(ck->t[i].name);
		free(ck->t[i].f32);
		free(ck->t[i].i64);
	}
	free(ck->t);
	free(ck->model_class);
	free(ck->yaml_json);
	free(ck->names_json);
	free(ck->attrs_json);
	memset(ck, 0, sizeof *ck);
}

const struct tn_ckpt_tensor *tn_ckpt_find(const struct tn_ckpt *ck, const char *name)
{
	for (size_t i = 0; i < ck->n; i++)
		if (strcmp(ck->t[i].name, name) == 0)
			return &ck->t[i];
	return NULL;
}
