#include "io/unpickle.h"

#include "core/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_NODES 1024

/* The opcodes, under the names Lib/pickle.py gives them. */
enum {
	OP_MARK = '(', OP_STOP = '.', OP_POP = '0', OP_POP_MARK = '1', OP_DUP = '2', OP_FLOAT = 'F',
	OP_INT = 'I', OP_BININT = 'J', OP_BININT1 = 'K', OP_LONG = 'L', OP_BININT2 = 'M', OP_NONE = 'N',
	OP_PERSID = 'P', OP_BINPERSID = 'Q', OP_REDUCE = 'R', OP_STRING = 'S', OP_BINSTRING = 'T',
	OP_SHORT_BINSTRING = 'U', OP_UNICODE = 'V', OP_BINUNICODE = 'X', OP_APPEND = 'a', OP_BUILD = 'b',
	OP_GLOBAL = 'c', OP_DICT = 'd', OP_EMPTY_DICT = '}', OP_APPENDS = 'e', OP_GET = 'g', OP_BINGET = 'h',
	OP_INST = 'i', OP_LONG_BINGET = 'j', OP_LIST = 'l', OP_EMPTY_LIST = ']', OP_OBJ = 'o', OP_PUT = 'p',
	OP_BINPUT = 'q', OP_LONG_BINPUT = 'r', OP_SETITEM = 's', OP_TUPLE = 't', OP_EMPTY_TUPLE = ')',
	OP_SETITEMS = 'u', OP_BINFLOAT = 'G',
	/* protocol 2 */
	OP_PROTO = 0x80, OP_NEWOBJ = 0x81, OP_EXT1 = 0x82, OP_EXT2 = 0x83, OP_EXT4 = 0x84, OP_TUPLE1 = 0x85,
	OP_TUPLE2 = 0x86, OP_TUPLE3 = 0x87, OP_NEWTRUE = 0x88, OP_NEWFALSE = 0x89, OP_LONG1 = 0x8a,
	OP_LONG4 = 0x8b,
	/* protocol 3 */
	OP_BINBYTES = 'B', OP_SHORT_BINBYTES = 'C',
	/* protocol 4 */
	OP_SHORT_BINUNICODE = 0x8c, OP_BINUNICODE8 = 0x8d, OP_BINBYTES8 = 0x8e, OP_EMPTY_SET = 0x8f,
	OP_ADDITEMS = 0x90, OP_FROZENSET = 0x91, OP_NEWOBJ_EX = 0x92, OP_STACK_GLOBAL = 0x93, OP_MEMOIZE = 0x94,
	OP_FRAME = 0x95,
	/* protocol 5 */
	OP_BYTEARRAY8 = 0x96, OP_NEXT_BUFFER = 0x97, OP_READONLY_BUFFER = 0x98,
};

struct tn_pk_chunk {
	struct tn_pk_chunk *next;
	size_t used;
	struct tn_pk n[CHUNK_NODES];
};

struct up {
	const uint8_t *b;
	size_t len, pos, op; /* op: offset of the opcode being run, for messages */
	struct tn_pickle *pk;
	const char *const *allow;
	int max_depth;
	size_t max_nodes, max_stack, max_memo;
	struct tn_pk **stack;
	size_t sp, scap;
	size_t *marks;
	size_t nmarks, mcap;
	struct tn_pk **memo;
	size_t memo_cap, memo_count;
	size_t ops;
	int err; /* code of the last failure recorded */
	int done; /* STOP was run */
};

static int perr(struct up *u, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(struct up *u, int code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	u->err = code;
	return tn_fail(code, "pickle offset %zu: %s", u->op, msg);
}

static struct tn_pk *node(struct up *u, enum tn_pk_type t)
{
	struct tn_pickle *pk = u->pk;
	if (pk->nodes >= u->max_nodes) {
		perr(u, TN_E_FORMAT, "more than %zu objects (limit)", u->max_nodes);
		return NULL;
	}
	if (!pk->chunks || pk->chunks->used == CHUNK_NODES) {
		struct tn_pk_chunk *c = malloc(sizeof *c);
		if (!c) {
			perr(u, TN_E_NOMEM, "out of memory");
			return NULL;
		}
		c->used = 0;
		c->next = pk->chunks;
		pk->chunks = c;
	}
	struct tn_pk *v = &pk->chunks->n[pk->chunks->used++];
	memset(v, 0, sizeof *v);
	v->type = t;
	v->depth = 1;
	pk->nodes++;
	return v;
}

/* Raises parent's depth bound after it gained child; fails past the nesting limit. */
static int deepen(struct up *u, struct tn_pk *parent, const struct tn_pk *child)
{
	if (child->depth >= parent->depth)
		parent->depth = child->depth + 1;
	if (parent->depth > u->max_depth)
		return perr(u, TN_E_FORMAT, "objects nested deeper than %d levels (limit)", u->max_depth);
	return 0;
}

static int seq_add(struct up *u, struct tn_pk *c, struct tn_pk *item)
{
	size_t slots = c->type == TN_PK_DICT ? 2 * c->u.seq.n : c->u.seq.n;
	if (slots == c->u.seq.cap) {
		size_t ncap = c->u.seq.cap ? 2 * c->u.seq.cap : 4;
		struct tn_pk **nv = ncap < c->u.seq.cap ? NULL : realloc(c->u.seq.v, ncap * sizeof *nv);
		if (!nv)
			return perr(u, TN_E_NOMEM, "out of memory");
		c->u.seq.v = nv;
		c->u.seq.cap = ncap;
	}
	c->u.seq.v[slots] = item;
	return deepen(u, c, item);
}

static int dict_set(struct up *u, struct tn_pk *d, struct tn_pk *k, struct tn_pk *v)
{
	int rc = seq_add(u, d, k);
	if (!rc) {
		/* seq_add placed k at 2n; the value goes to 2n+1 (cap is always even). */
		d->u.seq.v[2 * d->u.seq.n + 1] = v;
		d->u.seq.n++;
		rc = deepen(u, d, v);
	}
	return rc;
}

static int list_add(struct up *u, struct tn_pk *l, struct tn_pk *item)
{
	int rc = seq_add(u, l, item);
	if (!rc)
		l->u.seq.n++;
	return rc;
}

/* ---- stack ---- */

static size_t mark_base(const struct up *u)
{
	return u->nmarks ? u->marks[u->nmarks - 1] : 0;
}

static int push(struct up *u, struct tn_pk *v)
{
	if (!v)
		return u->err ? u->err : TN_E_NOMEM; /* the maker already set the detail */
	if (u->sp + u->nmarks >= u->max_stack)
		return perr(u, TN_E_FORMAT, "stack deeper than %zu entries (limit)", u->max_stack);
	if (u->sp == u->scap) {
		size_t ncap = u->scap ? 2 * u->scap : 64;
		struct tn_pk **ns = realloc(u->stack, ncap * sizeof *ns);
		if (!ns)
			return perr(u, TN_E_NOMEM, "out of memory");
		u->stack = ns;
		u->scap = ncap;
	}
	u->stack[u->sp++] = v;
	return 0;
}

static struct tn_pk *pop(struct up *u)
{
	if (u->sp <= mark_base(u)) {
		perr(u, TN_E_FORMAT, "stack underflow");
		return NULL;
	}
	return u->stack[--u->sp];
}

static struct tn_pk *top(struct up *u)
{
	if (u->sp <= mark_base(u)) {
		perr(u, TN_E_FORMAT, "stack underflow");
		return NULL;
	}
	return u->stack[u->sp - 1];
}

static int push_mark(struct up *u)
{
	if (u->sp + u->nmarks >= u->max_stack)
		return perr(u, TN_E_FORMAT, "stack deeper than %zu entries (limit)", u->max_stack);
	if (u->nmarks == u->mcap) {
		size_t ncap = u->mcap ? 2 * u->mcap : 16;
		size_t *nm = realloc(u->marks, ncap * sizeof *nm);
		if (!nm)
			return perr(u, TN_E_NOMEM, "out of memory");
		u->marks = nm;
		u->mcap = ncap;
	}
	u->marks[u->nmarks++] = u->sp;
	return 0;
}

/* Pops the topmost mark; the items above it are stack[*start .. sp). */
static int pop_mark(struct up *u, size_t *start)
{
	if (!u->nmarks)
		return perr(u, TN_E_FORMAT, "no MARK on the stack");
	*start = u->marks[--u->nmarks];
	return 0;
}

/* ---- input ---- */

static int need(struct up *u, size_t n, const uint8_t **p)
{
	if (n > u->len - u->pos)
		return perr(u, TN_E_FORMAT, "truncated (needs %zu more bytes, %zu left)", n, u->len - u->pos);
	*p = u->b + u->pos;
	u->pos += n;
	return 0;
}

static uint64_t le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = n - 1; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static int readline(struct up *u, const char **s, size_t *n)
{
	const uint8_t *start = u->b + u->pos;
	const uint8_t *nl = memchr(start, '\n', u->len - u->pos);
	if (!nl)
		return perr(u, TN_E_FORMAT, "truncated (text argument without a newline)");
	*s = (const char *)start;
	*n = (size_t)(nl - start);
	u->pos += *n + 1;
	return 0;
}

static int read_len(struct up *u, int width, size_t *n)
{
	const uint8_t *p = NULL;
	int rc = need(u, (size_t)width, &p);
	if (rc)
		return rc;
	uint64_t v = le(p, width);
	if (width == 4 && (v & 0x80000000u) && u->b[u->op] == OP_BINSTRING)
		return perr(u, TN_E_FORMAT, "negative length");
	if (v > u->len - u->pos)
		return perr(u, TN_E_FORMAT, "a %llu-byte argument but only %zu bytes left", (unsigned long long)v,
			    u->len - u->pos);
	*n = (size_t)v;
	return 0;
}

/* ---- value constructors ---- */

static struct tn_pk *make_bytes(struct up *u, enum tn_pk_type t, const void *p, size_t n)
{
	struct tn_pk *v = node(u, t);
	if (!v)
		return NULL;
	v->u.s.p = malloc(n + 1);
	if (!v->u.s.p) {
		perr(u, TN_E_NOMEM, "out of memory for a %zu-byte string", n);
		return NULL;
	}
	if (n)
		memcpy(v->u.s.p, p, n);
	v->u.s.p[n] = 0;
	v->u.s.len = n;
	return v;
}

static struct tn_pk *make_int(struct up *u, int64_t i, enum tn_pk_type t)
{
	struct tn_pk *v = node(u, t);
	if (v)
		v->u.i = i;
	return v;
}

/* A little-endian two's complement integer of n bytes (LONG1/LONG4). */
static struct tn_pk *make_long(struct up *u, const uint8_t *p, size_t n)
{
	if (n == 0)
		return make_int(u, 0, TN_PK_INT);
	uint8_t ext = (p[n < 8 ? n - 1 : 7] & 0x80) ? 0xff : 0;
	int fits = 1;
	for (size_t i = 8; i < n; i++)
		fits &= p[i] == ext;
	if (!fits)
		return make_bytes(u, TN_PK_BIGINT, p, n);
	uint64_t v = le(p, n < 8 ? (int)n : 8);
	if (n < 8 && ext)
		v |= ~(uint64_t)0 << (8 * n);
	return make_int(u, (int64_t)v, TN_PK_INT);
}

/* &stack[i]: the stack is NULL until the first push, and NULL + 0 is undefined behaviour. */
static struct tn_pk **stack_at(struct up *u, size_t i)
{
	return u->stack ? u->stack + i : NULL;
}

static struct tn_pk *make_seq(struct up *u, enum tn_pk_type t, struct tn_pk **items, size_t n)
{
	struct tn_pk *v = node(u, t);
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (list_add(u, v, items[i]))
			return NULL;
	return v;
}

static int parse_i64(const char *s, size_t n, int64_t *out)
{
	char buf[32];
	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	char *end;
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* UNICODE (protocol 0): raw-unicode-escape, i.e. latin-1 bytes plus \uXXXX and \UXXXXXXXX. */
static struct tn_pk *make_raw_unicode(struct up *u, const char *s, size_t n)
{
	char *o = malloc(2 * n + 1);
	if (!o) {
		perr(u, TN_E_NOMEM, "out of memory");
		return NULL;
	}
	size_t k = 0;
	for (size_t i = 0; i < n;) {
		int digits = 0;
		if (s[i] == '\\' && i + 1 < n)
			digits = s[i + 1] == 'u' ? 4 : s[i + 1] == 'U' ? 8 : 0;
		uint32_t cp = 0;
		int ok = digits && i + 2 + (size_t)digits <= n;
		for (int d = 0; ok && d < digits; d++) {
			int h = hexval((unsigned char)s[i + 2 + d]);
			ok = h >= 0;
			cp = cp << 4 | (uint32_t)(h < 0 ? 0 : h);
		}
		if (ok && cp <= 0x10ffff) {
			k += put_utf8(o + k, cp);
			i += 2 + (size_t)digits;
		} else {
			k += put_utf8(o + k, (unsigned char)s[i]);
			i++;
		}
	}
	struct tn_pk *v = make_bytes(u, TN_PK_STR, o, k);
	free(o);
	return v;
}

/* STRING (protocol 0): a quoted Python 2 str literal. */
static struct tn_pk *make_quoted(struct up *u, const char *s, size_t n)
{
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\r'))
		n--;
	if (n < 2 || (s[0] != '\'' && s[0] != '"') || s[n - 1] != s[0]) {
		perr(u, TN_E_FORMAT, "STRING argument is not quoted");
		return NULL;
	}
	s++;
	n -= 2;
	char *o = malloc(n + 1);
	if (!o) {
		perr(u, TN_E_NOMEM, "out of memory");
		return NULL;
	}
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 == n) {
			o[k++] = s[i];
			continue;
		}
		char c = s[++i];
		const char *simple = strchr("\\'\"abfnrtv", c);
		if (c && simple) {
			o[k++] = "\\'\"\a\b\f\n\r\t\v"[simple - "\\'\"abfnrtv"];
		} else if (c == 'x' && i + 2 < n && hexval((unsigned char)s[i + 1]) >= 0 &&
			   hexval((unsigned char)s[i + 2]) >= 0) {
			o[k++] = (char)(hexval((unsigned char)s[i + 1]) << 4 | hexval((unsigned char)s[i + 2]));
			i += 2;
		} else if (c >= '0' && c <= '7') {
			int v = 0, d = 0;
			while (d < 3 && i < n && s[i] >= '0' && s[i] <= '7') {
				v = v * 8 + (s[i] - '0');
				i++;
				d++;
			}
			i--;
			o[k++] = (char)v;
		} else if (c == '\n') {
			/* line continuation: nothing */
		} else {
			o[k++] = '\\';
			o[k++] = c;
		}
	}
	struct tn_pk *v = make_bytes(u, TN_PK_STR, o, k);
	free(o);
	return v;
}

static int allowed(const struct up *u, const char *full)
{
	for (const char *const *a = u->allow; a && *a; a++) {
		size_t n = strlen(*a);
		if (n >= 2 && (*a)[n - 1] == '*' && (*a)[n - 2] == '.') {
			if (strncmp(full, *a, n - 1) == 0)
				return 1;
		} else if (strcmp(full, *a) == 0) {
			return 1;
		}
	}
	return 0;
}

static struct tn_pk *make_global(struct up *u, const char *mod, size_t mlen, const char *name, size_t nlen)
{
	/* Python 3 reads protocol 0-2 pickles with these Python 2 module names mapped. */
	if (mlen == 11 && memcmp(mod, "__builtin__", 11) == 0) {
		mod = "builtins";
		mlen = 8;
	} else if (mlen == 8 && memcmp(mod, "copy_reg", 8) == 0) {
		mod = "copyreg";
		mlen = 7;
	}
	if (!mlen || !nlen || memchr(mod, 0, mlen) || memchr(name, 0, nlen) || mlen > 4096 || nlen > 4096) {
		perr(u, TN_E_FORMAT, "malformed global name");
		return NULL;
	}
	struct tn_pk *v = node(u, TN_PK_GLOBAL);
	if (!v)
		return NULL;
	char *full = malloc(mlen + nlen + 2);
	if (!full) {
		perr(u, TN_E_NOMEM, "out of memory");
		return NULL;
	}
	memcpy(full, mod, mlen);
	full[mlen] = '.';
	memcpy(full + mlen + 1, name, nlen);
	full[mlen + nlen + 1] = 0;
	v->type = TN_PK_NONE; /* so a failure below does not leak: free() only frees GLOBAL names */
	if (!allowed(u, full)) {
		u->err = tn_fail(TN_E_UNSUPPORTED, "pickle references forbidden global '%.300s'", full);
		free(full);
		return NULL;
	}
	v->type = TN_PK_GLOBAL;
	v->u.g.name = full;
	v->u.g.modlen = mlen;
	return v;
}

/* Protocol 2 pickles bytes as _codecs.encode(text, 'latin1'): the text's code points are the bytes. */
static struct tn_pk *latin1_bytes(struct up *u, const struct tn_pk *text)
{
	const unsigned char *s = (const unsigned char *)text->u.s.p;
	size_t n = text->u.s.len, k = 0;
	char *o = malloc(n + 1);
	if (!o) {
		perr(u, TN_E_NOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x80) {
			o[k++] = (char)s[i];
		} else if ((s[i] == 0xc2 || s[i] == 0xc3) && i + 1 < n && (s[i + 1] & 0xc0) == 0x80) {
			o[k++] = (char)((s[i] & 3) << 6 | (s[i + 1] & 0x3f));
			i++;
		} else {
			free(o);
			perr(u, TN_E_FORMAT, "_codecs.encode: text is not latin-1");
			return NULL;
		}
	}
	struct tn_pk *v = make_bytes(u, TN_PK_BYTES, o, k);
	free(o);
	return v;
}

/* cls(*args) for REDUCE/INST/OBJ (newobj 0) or cls.__new__(cls, *args) for NEWOBJ (newobj 1). */
static struct tn_pk *make_call(struct up *u, struct tn_pk *cls, struct tn_pk *args, struct tn_pk *kwargs,
			       int newobj)
{
	if (cls->type != TN_PK_GLOBAL) {
		perr(u, TN_E_UNSUPPORTED, "calling a %s (only named globals can be called)",
		     tn_pk_type_name(cls->type));
		return NULL;
	}
	if (args->type != TN_PK_TUPLE) {
		perr(u, TN_E_FORMAT, "arguments of '%.200s' are a %s, not a tuple", cls->u.g.name,
		     tn_pk_type_name(args->type));
		return NULL;
	}
	const char *name = cls->u.g.name;
	size_t na = args->u.seq.n;
	struct tn_pk *a0 = na ? args->u.seq.v[0] : NULL;
	int is_seq = a0 && (a0->type == TN_PK_LIST || a0->type == TN_PK_TUPLE || a0->type == TN_PK_SET ||
			    a0->type == TN_PK_FROZENSET);
	if (!kwargs && strcmp(name, "collections.OrderedDict") == 0 && (na == 0 || (na == 1 && is_seq))) {
		struct tn_pk *d = node(u, TN_PK_DICT);
		if (!d)
			return NULL;
		d->u.seq.cls = cls;
		for (size_t i = 0; na && i < a0->u.seq.n; i++) {
			struct tn_pk *kv = a0->u.seq.v[i];
			if ((kv->type != TN_PK_TUPLE && kv->type != TN_PK_LIST) || kv->u.seq.n != 2) {
				perr(u, TN_E_FORMAT, "OrderedDict item %zu is not a pair", i);
				return NULL;
			}
			if (dict_set(u, d, kv->u.seq.v[0], kv->u.seq.v[1]))
				return NULL;
		}
		return d;
	}
	if (!kwargs && !newobj && (strcmp(name, "builtins.set") == 0 || strcmp(name, "builtins.frozenset") == 0) &&
	    (na == 0 || (na == 1 && is_seq)))
		return make_seq(u, name[9] == 's' ? TN_PK_SET : TN_PK_FROZENSET, na ? a0->u.seq.v : NULL,
				na ? a0->u.seq.n : 0);
	if (!kwargs && !newobj && strcmp(name, "builtins.bytes") == 0 && na == 0)
		return make_bytes(u, TN_PK_BYTES, "", 0); /* protocol < 3 spelling of b'' */
	if (!kwargs && !newobj && strcmp(name, "_codecs.encode") == 0 && na == 2 && a0->type == TN_PK_STR &&
	    args->u.seq.v[1]->type == TN_PK_STR &&
	    (strcmp(args->u.seq.v[1]->u.s.p, "latin1") == 0 || strcmp(args->u.seq.v[1]->u.s.p, "latin-1") == 0))
		return latin1_bytes(u, a0);
	struct tn_pk *o = node(u, TN_PK_OBJECT);
	if (!o)
		return NULL;
	o->u.obj.cls = cls;
	o->u.obj.args = args;
	o->u.obj.kwargs = kwargs;
	o->u.obj.newobj = newobj;
	if (deepen(u, o, args) || (kwargs && deepen(u, o, kwargs)))
		return NULL;
	return o;
}

/* BUILD: sets an object's state (its __setstate__ argument). */
static int op_build(struct up *u)
{
	struct tn_pk *state = pop(u), *t;
	if (!state || !(t = top(u)))
		return u->err ? u->err : TN_E_FORMAT;
	if (t->type != TN_PK_OBJECT && t->type != TN_PK_DICT)
		return perr(u, TN_E_FORMAT, "BUILD on a %s", tn_pk_type_name(t->type));
	if (t->state && t->state->type == TN_PK_DICT && state->type == TN_PK_DICT && t->state != state) {
		/* A second BUILD updates the instance dict, as Python's default __setstate__ does;
		 * merge into a fresh dict since the first state may be shared through the memo. */
		struct tn_pk *m = node(u, TN_PK_DICT), *parts[2] = {t->state, state};
		if (!m)
			return u->err;
		for (int k = 0; k < 2; k++)
			for (size_t i = 0; i < parts[k]->u.seq.n; i++)
				if (dict_set(u, m, parts[k]->u.seq.v[2 * i], parts[k]->u.seq.v[2 * i + 1]))
					return u->err;
		t->state = state = m;
	} else {
		t->state = state;
	}
	return deepen(u, t, state);
}

/* The container that APPEND/SETITEM(S) add to: the object itself or an object's side list/dict. */
static struct tn_pk *target(struct up *u, struct tn_pk *t, enum tn_pk_type want)
{
	if (t->type == want)
		return t;
	if (t->type == TN_PK_OBJECT) {
		struct tn_pk **slot = want == TN_PK_LIST ? &t->u.obj.items : &t->u.obj.dictitems;
		if (!*slot) {
			*slot = node(u, want);
			if (!*slot)
				return NULL;
		}
		return *slot;
	}
	perr(u, TN_E_FORMAT, "%s to a %s", want == TN_PK_LIST ? "APPEND" : "SETITEM", tn_pk_type_name(t->type));
	return NULL;
}

static int memo_put(struct up *u, size_t idx)
{
	struct tn_pk *v = top(u);
	if (!v)
		return TN_E_FORMAT;
	/* Python's pickler numbers memo entries densely, so an index far beyond the number of
	 * opcodes seen so far is hostile; refusing it keeps the memo array small. */
	if (idx >= u->max_memo || idx > u->ops)
		return perr(u, TN_E_FORMAT, "memo index %zu out of range (limit %zu)", idx,
			    u->ops < u->max_memo ? u->ops : u->max_memo);
	if (idx >= u->memo_cap) {
		size_t ncap = u->memo_cap ? u->memo_cap : 64;
		while (ncap <= idx)
			ncap *= 2;
		struct tn_pk **nm = realloc(u->memo, ncap * sizeof *nm);
		if (!nm)
			return perr(u, TN_E_NOMEM, "out of memory");
		memset(nm + u->memo_cap, 0, (ncap - u->memo_cap) * sizeof *nm);
		u->memo = nm;
		u->memo_cap = ncap;
	}
	if (!u->memo[idx])
		u->memo_count++;
	u->memo[idx] = v;
	return 0;
}

static int memo_get(struct up *u, size_t idx)
{
	if (idx >= u->memo_cap || !u->memo[idx])
		return perr(u, TN_E_FORMAT, "memo index %zu was never stored", idx);
	return push(u, u->memo[idx]);
}

static int line_index(struct up *u, size_t *idx)
{
	const char *s = NULL;
	size_t n = 0;
	int64_t v;
	int rc = readline(u, &s, &n);
	if (rc)
		return rc;
	if (parse_i64(s, n, &v) || v < 0)
		return perr(u, TN_E_FORMAT, "bad memo index");
	*idx = (size_t)v;
	return 0;
}

static int ERR(const struct up *u)
{
	return u->err ? u->err : TN_E_FORMAT;
}

/* ---- opcode handlers, by family (Lib/pickle.py's load_* methods) ---- */

/* Takes the items above the topmost mark off the stack: they stay readable at stack[*start ..
 * *start + *n) until the next push. */
static int pop_marked(struct up *u, size_t *start, size_t *n)
{
	int rc = pop_mark(u, start);
	if (rc)
		return rc;
	*n = u->sp - *start;
	u->sp = *start;
	return 0;
}

static int op_proto(struct up *u)
{
	const uint8_t *p = NULL;
	int rc = need(u, 1, &p);
	if (rc)
		return rc;
	if (*p > 5)
		return perr(u, TN_E_UNSUPPORTED, "pickle protocol %d (0-5 supported)", *p);
	return 0;
}

/* Framing is only a read-ahead hint. */
static int op_frame(struct up *u)
{
	const uint8_t *p = NULL;
	return need(u, 8, &p);
}

static int op_stop(struct up *u)
{
	struct tn_pk *v = pop(u);
	if (!v)
		return ERR(u);
	u->pk->root = v;
	u->done = 1;
	return 0;
}

/* ---- the stack and its marks ---- */

static int op_mark(struct up *u)
{
	return push_mark(u);
}

/* Pops a bare mark too, as Python does. */
static int op_pop(struct up *u)
{
	size_t start = 0;
	if (u->sp == mark_base(u) && u->nmarks)
		return pop_mark(u, &start);
	return pop(u) ? 0 : TN_E_FORMAT;
}

static int op_pop_mark(struct up *u)
{
	size_t start = 0, n = 0;
	return pop_marked(u, &start, &n);
}

static int op_dup(struct up *u)
{
	struct tn_pk *v = top(u);
	return v ? push(u, v) : TN_E_FORMAT;
}

/* ---- constants and numbers ---- */

static int op_constant(struct up *u)
{
	uint8_t opc = u->b[u->op];
	if (opc == OP_NONE)
		return push(u, node(u, TN_PK_NONE));
	return push(u, make_int(u, opc == OP_NEWTRUE, TN_PK_BOOL));
}

/* INT and LONG: decimal text lines.  Protocol 0 writes True and False as INT 01 and 00, and
 * Python 2 ends a LONG with 'L'. */
static int op_decimal(struct up *u)
{
	int is_int = u->b[u->op] == OP_INT;
	const char *s = NULL;
	size_t n = 0;
	int64_t iv;
	int rc = readline(u, &s, &n);
	if (rc)
		return rc;
	if (is_int && n == 2 && s[0] == '0' && (s[1] == '0' || s[1] == '1'))
		return push(u, make_int(u, s[1] == '1', TN_PK_BOOL));
	if (!is_int && n && s[n - 1] == 'L')
		n--;
	if (parse_i64(s, n, &iv))
		return perr(u, TN_E_UNSUPPORTED,
			    is_int ? "INT literal not a 64-bit integer" : "LONG literal not a 64-bit integer");
	return push(u, make_int(u, iv, TN_PK_INT));
}

/* BININT is signed; BININT1 and BININT2 are not. */
static int op_binint(struct up *u)
{
	uint8_t opc = u->b[u->op];
	int width = opc == OP_BININT ? 4 : opc == OP_BININT2 ? 2 : 1;
	const uint8_t *p = NULL;
	int rc = need(u, (size_t)width, &p);
	if (rc)
		return rc;
	uint64_t v = le(p, width);
	return push(u, make_int(u, opc == OP_BININT ? (int32_t)(uint32_t)v : (int64_t)v, TN_PK_INT));
}

static int op_binlong(struct up *u)
{
	uint8_t opc = u->b[u->op];
	const uint8_t *p = NULL;
	int rc = need(u, opc == OP_LONG1 ? 1 : 4, &p);
	if (rc)
		return rc;
	size_t n = (size_t)le(p, opc == OP_LONG1 ? 1 : 4);
	if (opc == OP_LONG4 && (n & 0x80000000u))
		return perr(u, TN_E_FORMAT, "negative LONG4 length");
	if ((rc = need(u, n, &p)))
		return rc;
	return push(u, make_long(u, p, n));
}

static int op_float(struct up *u)
{
	const char *s = NULL;
	size_t n = 0;
	char buf[64], *end;
	struct tn_pk *v;
	int rc = readline(u, &s, &n);
	if (rc)
		return rc;
	if (n == 0 || n >= sizeof buf)
		return perr(u, TN_E_FORMAT, "bad FLOAT literal");
	memcpy(buf, s, n);
	buf[n] = 0;
	double d = strtod(buf, &end);
	if (*end)
		return perr(u, TN_E_FORMAT, "bad FLOAT literal");
	if (!(v = node(u, TN_PK_FLOAT)))
		return ERR(u);
	v->u.f = d;
	return push(u, v);
}

/* A big-endian IEEE double. */
static int op_binfloat(struct up *u)
{
	const uint8_t *p = NULL;
	struct tn_pk *v;
	int rc = need(u, 8, &p);
	if (rc)
		return rc;
	uint64_t bits = 0;
	for (int i = 0; i < 8; i++)
		bits = bits << 8 | p[i];
	if (!(v = node(u, TN_PK_FLOAT)))
		return ERR(u);
	memcpy(&v->u.f, &bits, sizeof bits);
	return push(u, v);
}

/* ---- strings and bytes ---- */

/* STRING and UNICODE: protocol 0's escaped text lines. */
static int op_text_string(struct up *u)
{
	const char *s = NULL;
	size_t n = 0;
	int rc = readline(u, &s, &n);
	if (rc)
		return rc;
	return push(u, u->b[u->op] == OP_STRING ? make_quoted(u, s, n) : make_raw_unicode(u, s, n));
}

/* str, bytes and bytearray with a 1-, 4- or 8-byte length. */
static int op_counted(struct up *u)
{
	uint8_t opc = u->b[u->op];
	int is_str = opc == OP_BINSTRING || opc == OP_SHORT_BINSTRING || opc == OP_BINUNICODE ||
		     opc == OP_SHORT_BINUNICODE || opc == OP_BINUNICODE8;
	int width = 4;
	if (opc == OP_SHORT_BINSTRING || opc == OP_SHORT_BINBYTES || opc == OP_SHORT_BINUNICODE)
		width = 1;
	else if (opc == OP_BINUNICODE8 || opc == OP_BINBYTES8 || opc == OP_BYTEARRAY8)
		width = 8;
	const uint8_t *p = NULL;
	size_t n = 0;
	int rc = read_len(u, width, &n);
	if (rc || (rc = need(u, n, &p)))
		return rc;
	return push(u, make_bytes(u, is_str ? TN_PK_STR : TN_PK_BYTES, p, n));
}

/* ---- containers ---- */

static int op_empty(struct up *u)
{
	uint8_t opc = u->b[u->op];
	return push(u, node(u, opc == OP_EMPTY_TUPLE  ? TN_PK_TUPLE
			       : opc == OP_EMPTY_LIST ? TN_PK_LIST
			       : opc == OP_EMPTY_DICT ? TN_PK_DICT
						      : TN_PK_SET));
}

/* TUPLE1..3: the top 1 to 3 items, no mark. */
static int op_tuple_n(struct up *u)
{
	size_t n = (size_t)(u->b[u->op] - OP_TUPLE1 + 1);
	if (u->sp - mark_base(u) < n)
		return perr(u, TN_E_FORMAT, "stack underflow");
	u->sp -= n;
	return push(u, make_seq(u, TN_PK_TUPLE, stack_at(u, u->sp), n));
}

/* TUPLE, LIST, FROZENSET: the items above the mark. */
static int op_marked_seq(struct up *u)
{
	uint8_t opc = u->b[u->op];
	size_t start = 0, n = 0;
	int rc = pop_marked(u, &start, &n);
	if (rc)
		return rc;
	return push(u, make_seq(u, opc == OP_TUPLE ? TN_PK_TUPLE : opc == OP_LIST ? TN_PK_LIST : TN_PK_FROZENSET,
				stack_at(u, start), n));
}

static int op_dict(struct up *u)
{
	size_t start = 0, n = 0;
	struct tn_pk *v;
	int rc = pop_marked(u, &start, &n);
	if (rc)
		return rc;
	if (n % 2)
		return perr(u, TN_E_FORMAT, "DICT with an odd number of items");
	if (!(v = node(u, TN_PK_DICT)))
		return ERR(u);
	for (size_t i = 0; i < n; i += 2)
		if ((rc = dict_set(u, v, u->stack[start + i], u->stack[start + i + 1])))
			return rc;
	return push(u, v);
}

static int op_append(struct up *u)
{
	struct tn_pk *a, *b, *c;
	if (!(a = pop(u)) || !(b = top(u)) || !(c = target(u, b, TN_PK_LIST)))
		return ERR(u);
	return list_add(u, c, a) || (c != b && deepen(u, b, c)) ? ERR(u) : 0;
}

/* APPENDS to a list or an object, ADDITEMS to a set only. */
static int op_appends(struct up *u)
{
	uint8_t opc = u->b[u->op];
	size_t start = 0, n = 0;
	struct tn_pk *b, *c;
	int rc = pop_marked(u, &start, &n);
	if (rc)
		return rc;
	if (!(b = top(u)))
		return ERR(u);
	if (opc == OP_ADDITEMS && b->type != TN_PK_SET)
		return perr(u, TN_E_FORMAT, "ADDITEMS to a %s", tn_pk_type_name(b->type));
	if (!(c = opc == OP_ADDITEMS ? b : target(u, b, TN_PK_LIST)))
		return ERR(u);
	for (size_t i = 0; i < n; i++)
		if (list_add(u, c, u->stack[start + i]))
			return ERR(u);
	return c != b && deepen(u, b, c) ? ERR(u) : 0;
}

static int op_setitem(struct up *u)
{
	struct tn_pk *a, *b, *c, *v;
	if (!(a = pop(u)) || !(c = pop(u)) || !(b = top(u)) || !(v = target(u, b, TN_PK_DICT)))
		return ERR(u);
	return dict_set(u, v, c, a) || (v != b && deepen(u, b, v)) ? ERR(u) : 0;
}

static int op_setitems(struct up *u)
{
	size_t start = 0, n = 0;
	struct tn_pk *b, *v;
	int rc = pop_marked(u, &start, &n);
	if (rc)
		return rc;
	if (n % 2)
		return perr(u, TN_E_FORMAT, "SETITEMS with an odd number of items");
	if (!(b = top(u)) || !(v = target(u, b, TN_PK_DICT)))
		return ERR(u);
	for (size_t i = 0; i < n; i += 2)
		if (dict_set(u, v, u->stack[start + i], u->stack[start + i + 1]))
			return ERR(u);
	return v != b && deepen(u, b, v) ? ERR(u) : 0;
}

/* ---- globals (the allow-list) and calls ---- */

/* GLOBAL pushes module.name; INST calls it at once with the items above the mark. */
static int op_global(struct up *u)
{
	const char *s = NULL, *s2 = NULL;
	size_t n = 0, n2 = 0, start = 0;
	struct tn_pk *a, *b;
	int rc;
	if ((rc = readline(u, &s, &n)) || (rc = readline(u, &s2, &n2)))
		return rc;
	if (!(a = make_global(u, s, n, s2, n2)))
		return ERR(u);
	if (u->b[u->op] == OP_GLOBAL)
		return push(u, a);
	if ((rc = pop_marked(u, &start, &n)))
		return rc;
	if (!(b = make_seq(u, TN_PK_TUPLE, stack_at(u, start), n)))
		return ERR(u);
	return push(u, make_call(u, a, b, NULL, 0));
}

static int op_stack_global(struct up *u)
{
	struct tn_pk *a, *b, *v;
	if (!(b = pop(u)) || !(a = pop(u)))
		return ERR(u);
	if (a->type != TN_PK_STR || b->type != TN_PK_STR)
		return perr(u, TN_E_FORMAT, "STACK_GLOBAL operands are not strings");
	if (!(v = make_global(u, a->u.s.p, a->u.s.len, b->u.s.p, b->u.s.len)))
		return ERR(u);
	return push(u, v);
}

/* OBJ: MARK cls args... */
static int op_obj(struct up *u)
{
	size_t start = 0, n = 0;
	struct tn_pk *b;
	int rc = pop_marked(u, &start, &n);
	if (rc)
		return rc;
	if (n == 0)
		return perr(u, TN_E_FORMAT, "OBJ without a class");
	if (!(b = make_seq(u, TN_PK_TUPLE, stack_at(u, start + 1), n - 1)))
		return ERR(u);
	return push(u, make_call(u, u->stack[start], b, NULL, 0));
}

/* REDUCE and NEWOBJ: cls args */
static int op_reduce(struct up *u)
{
	struct tn_pk *a, *b;
	if (!(b = pop(u)) || !(a = pop(u)))
		return ERR(u);
	return push(u, make_call(u, a, b, NULL, u->b[u->op] == OP_NEWOBJ));
}

static int op_newobj_ex(struct up *u)
{
	struct tn_pk *a, *b, *c;
	if (!(c = pop(u)) || !(b = pop(u)) || !(a = pop(u)))
		return ERR(u);
	if (c->type != TN_PK_DICT)
		return perr(u, TN_E_FORMAT, "NEWOBJ_EX keyword arguments are not a dict");
	return push(u, make_call(u, a, b, c, 1));
}

/* ---- the memo ---- */

/* The index argument of PUT/GET (a text line), BINPUT/BINGET (1 byte), LONG_BINPUT/LONG_BINGET (4). */
static int memo_index(struct up *u, size_t *idx)
{
	uint8_t opc = u->b[u->op];
	const uint8_t *p = NULL;
	if (opc == OP_PUT || opc == OP_GET)
		return line_index(u, idx);
	int width = opc == OP_BINPUT || opc == OP_BINGET ? 1 : 4;
	int rc = need(u, (size_t)width, &p);
	if (!rc)
		*idx = (size_t)le(p, width);
	return rc;
}

/* MEMOIZE takes the next free index. */
static int op_put(struct up *u)
{
	size_t idx = 0;
	int rc;
	if (u->b[u->op] == OP_MEMOIZE)
		return memo_put(u, u->memo_count);
	return (rc = memo_index(u, &idx)) ? rc : memo_put(u, idx);
}

static int op_get(struct up *u)
{
	size_t idx = 0;
	int rc = memo_index(u, &idx);
	return rc ? rc : memo_get(u, idx);
}

/* ---- persistent ids and what is refused ---- */

/* PERSID reads the id as a text line, BINPERSID pops it. */
static int op_persid(struct up *u)
{
	const char *s = NULL;
	size_t n = 0;
	struct tn_pk *a, *v;
	int rc;
	if (u->b[u->op] == OP_PERSID) {
		if ((rc = readline(u, &s, &n)))
			return rc;
		if (!(a = make_bytes(u, TN_PK_STR, s, n)))
			return ERR(u);
	} else if (!(a = pop(u))) {
		return ERR(u);
	}
	if (!(v = node(u, TN_PK_PERSID)))
		return ERR(u);
	v->u.pid = a;
	if ((rc = deepen(u, v, a)))
		return rc;
	return push(u, v);
}

/* No effect on a value we only read. */
static int op_readonly_buffer(struct up *u)
{
	return top(u) ? 0 : TN_E_FORMAT;
}

static int op_refused(struct up *u)
{
	if (u->b[u->op] == OP_NEXT_BUFFER)
		return perr(u, TN_E_UNSUPPORTED, "out-of-band buffers (NEXT_BUFFER) are not supported");
	return perr(u, TN_E_UNSUPPORTED, "extension registry opcodes (EXT1/2/4) are not supported");
}

/* Opcode byte -> {name, handler}; a byte without a handler is an unknown opcode. */
#define OP(code, fn) [OP_##code] = {#code, fn}
static const struct opcode {
	const char *name;
	int (*run)(struct up *u);
} opcodes[256] = {
	OP(PROTO, op_proto), OP(FRAME, op_frame), OP(STOP, op_stop),

	OP(MARK, op_mark), OP(POP, op_pop), OP(POP_MARK, op_pop_mark), OP(DUP, op_dup),

	OP(NONE, op_constant), OP(NEWTRUE, op_constant), OP(NEWFALSE, op_constant),
	OP(INT, op_decimal), OP(LONG, op_decimal),
	OP(BININT, op_binint), OP(BININT1, op_binint), OP(BININT2, op_binint),
	OP(LONG1, op_binlong), OP(LONG4, op_binlong),
	OP(FLOAT, op_float), OP(BINFLOAT, op_binfloat),

	OP(STRING, op_text_string), OP(UNICODE, op_text_string),
	OP(BINSTRING, op_counted), OP(SHORT_BINSTRING, op_counted), OP(BINUNICODE, op_counted),
	OP(SHORT_BINUNICODE, op_counted), OP(BINUNICODE8, op_counted),
	OP(BINBYTES, op_counted), OP(SHORT_BINBYTES, op_counted), OP(BINBYTES8, op_counted),
	OP(BYTEARRAY8, op_counted),

	OP(EMPTY_TUPLE, op_empty), OP(EMPTY_LIST, op_empty), OP(EMPTY_DICT, op_empty), OP(EMPTY_SET, op_empty),
	OP(TUPLE1, op_tuple_n), OP(TUPLE2, op_tuple_n), OP(TUPLE3, op_tuple_n),
	OP(TUPLE, op_marked_seq), OP(LIST, op_marked_seq), OP(FROZENSET, op_marked_seq),
	OP(DICT, op_dict),
	OP(APPEND, op_append), OP(APPENDS, op_appends), OP(ADDITEMS, op_appends),
	OP(SETITEM, op_setitem), OP(SETITEMS, op_setitems),

	OP(GLOBAL, op_global), OP(INST, op_global), OP(STACK_GLOBAL, op_stack_global),
	OP(OBJ, op_obj), OP(REDUCE, op_reduce), OP(NEWOBJ, op_reduce), OP(NEWOBJ_EX, op_newobj_ex),
	OP(BUILD, op_build),

	OP(PUT, op_put), OP(BINPUT, op_put), OP(LONG_BINPUT, op_put), OP(MEMOIZE, op_put),
	OP(GET, op_get), OP(BINGET, op_get), OP(LONG_BINGET, op_get),

	OP(PERSID, op_persid), OP(BINPERSID, op_persid),
	OP(READONLY_BUFFER, op_readonly_buffer),
	OP(EXT1, op_refused), OP(EXT2, op_refused), OP(EXT4, op_refused), OP(NEXT_BUFFER, op_refused),
};
#undef OP

/* Runs one opcode; u->done set at STOP. */
static int step(struct up *u)
{
	const uint8_t *p = NULL;
	u->op = u->pos;
	if (need(u, 1, &p))
		return perr(u, TN_E_FORMAT, "truncated (no STOP opcode)");
	u->ops++;
	if (!opcodes[*p].run)
		return perr(u, TN_E_FORMAT, "unknown opcode 0x%02x", *p);
	return opcodes[*p].run(u);
}

int tn_unpickle(const uint8_t *buf, size_t len, const struct tn_unpickle_opts *opts, struct tn_pickle *out,
		size_t *used)
{
	struct up u = {0};
	memset(out, 0, sizeof *out);
	u.b = buf;
	u.len = len;
	u.pk = out;
	u.allow = opts ? opts->allow : NULL;
	u.max_depth = opts && opts->max_depth ? opts->max_depth : 500;
	u.max_nodes = opts && opts->max_nodes ? opts->max_nodes : (size_t)1 << 22;
	u.max_stack = opts && opts->max_stack ? opts->max_stack : (size_t)1 << 20;
	u.max_memo = opts && opts->max_memo ? opts->max_memo : (size_t)1 << 22;
	int rc = 0;
	while (!u.done && !(rc = step(&u)))
		;
	free(u.stack);
	free(u.marks);
	free(u.memo);
	if (rc) {
		tn_pickle_free(out);
		return rc;
	}
	if (used)
		*used = u.pos;
	return 0;
}

void tn_pickle_free(struct tn_pickle *p)
{
	struct tn_pk_chunk *c = p->chunks;
	while (c) {
		for (size_t i = 0; i < c->used; i++) {
			struct tn_pk *v = &c->n[i];
			switch (v->type) {
			case TN_PK_STR: case TN_PK_BYTES: case TN_PK_BIGINT:
				free(v->u.s.p);
				break;
			case TN_PK_LIST: case TN_PK_TUPLE: case TN_PK_SET: case TN_PK_FROZENSET: case TN_PK_DICT:
				free(v->u.seq.v);
				break;
			case TN_PK_GLOBAL:
				free(v->u.g.name);
				break;
			default:
				break;
			}
		}
		struct tn_pk_chunk *next = c->next;
		free(c);
		c = next;
	}
	memset(p, 0, sizeof *p);
}

const struct tn_pk *tn_pk_dict_get(const struct tn_pk *d, const char *key)
{
	const struct tn_pk *found = NULL;
	if (!d || d->type != TN_PK_DICT)
		return NULL;
	for (size_t i = 0; i < d->u.seq.n; i++) {
		const struct tn_pk *k = d->u.seq.v[2 * i];
		if (k->type == TN_PK_STR && strcmp(k->u.s.p, key) == 0 && strlen(key) == k->u.s.len)
			found = d->u.seq.v[2 * i + 1];
	}
	return found;
}

int tn_pk_is_global(const struct tn_pk *v, const char *full)
{
	return v && v->type == TN_PK_GLOBAL && strcmp(v->u.g.name, full) == 0;
}

const char *tn_pk_callee(const struct tn_pk *v)
{
	if (!v || v->type != TN_PK_OBJECT || v->u.obj.cls->type != TN_PK_GLOBAL)
		return NULL;
	return v->u.obj.cls->u.g.name;
}

const char *tn_pk_type_name(enum tn_pk_type t)
{
	static const char *const names[] = {"None",  "bool",  "int",       "int",    "float",
					    "str",   "bytes", "list",      "tuple",  "set",
					    "frozenset", "dict", "global", "object", "persistent id"};
	return (unsigned)t < sizeof names / sizeof *names ? names[t] : "?";
}

void tn_pickle_each(const struct tn_pickle *p, void (*fn)(const struct tn_pk *v, void *ctx), void *ctx)
{
	for (const struct tn_pk_chunk *c = p->chunks; c; c = c->next)
		for (size_t i = 0; i < c->used; i++)
			fn(&c->n[i], ctx);
}
