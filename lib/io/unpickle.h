/* A restricted unpickler: it turns a pickle (protocols 0-5) into a tree of plain values and
 * never runs anything.  Globals are references checked against an allow-list; calling one
 * (REDUCE, NEWOBJ, INST, OBJ) only records an "object" node (class, args, later BUILD state),
 * except for a few builtins whose meaning is plain data, when allowed: collections.OrderedDict
 * (a DICT), builtins.set/frozenset, and _codecs.encode(text, 'latin1') / builtins.bytes() (how
 * protocols < 3 write bytes).
 *
 * Nodes may be shared (the pickle memo) and may even form cycles, as Python objects can;
 * consumers must bound their own walks.  All nodes belong to the tn_pickle that made them. */
#ifndef TN_UNPICKLE_H
#define TN_UNPICKLE_H

#include <stddef.h>
#include <stdint.h>

enum tn_pk_type {
	TN_PK_NONE,
	TN_PK_BOOL,      /* u.i is 0 or 1 */
	TN_PK_INT,       /* u.i */
	TN_PK_BIGINT,    /* an int outside int64: u.s holds its little-endian two's complement bytes */
	TN_PK_FLOAT,     /* u.f */
	TN_PK_STR,       /* u.s: UTF-8, NUL-terminated (len excludes the NUL) */
	TN_PK_BYTES,     /* u.s (also bytearray) */
	TN_PK_LIST,      /* u.seq */
	TN_PK_TUPLE,     /* u.seq */
	TN_PK_SET,       /* u.seq, duplicates not removed */
	TN_PK_FROZENSET, /* u.seq */
	TN_PK_DICT,      /* u.seq.v[2k] = key k, v[2k+1] = its value, in insertion order; u.seq.n counts
			  * entries; u.seq.cls is the class global for an OrderedDict, else NULL */
	TN_PK_GLOBAL,    /* u.g: an allowed "module.name", never resolved */
	TN_PK_OBJECT,    /* u.obj: cls(*args, **kwargs) recorded, not run */
	TN_PK_PERSID,    /* u.pid: the persistent id value (BINPERSID/PERSID) */
};

struct tn_pk {
	enum tn_pk_type type;
	int depth;            /* 1 + deepest child seen when built (a bound, not exact under sharing) */
	struct tn_pk *state;  /* BUILD state for OBJECT (and DICT: e.g. OrderedDict _metadata), or NULL */
	union {
		int64_t i;
		double f;
		struct {
			char *p;
			size_t len;
		} s;
		struct {
			struct tn_pk **v;
			size_t n, cap; /* n items (DICT: n pairs); cap in slots */
			const struct tn_pk *cls;
		} seq;
		struct {
			char *name;   /* "module.name" (python 2 "__builtin__" and "copy_reg" renamed) */
			size_t modlen; /* name[modlen] is the '.' between module and name */
		} g;
		struct {
			struct tn_pk *cls;    /* a GLOBAL */
			struct tn_pk *args;   /* a TUPLE (possibly empty) */
			struct tn_pk *kwargs; /* a DICT (NEWOBJ_EX) or NULL */
			struct tn_pk *items;  /* LIST of APPENDed items or NULL */
			struct tn_pk *dictitems; /* DICT of SETITEMs or NULL */
			int newobj;           /* 1: cls.__new__ (NEWOBJ), 0: a call (REDUCE/INST/OBJ) */
		} obj;
		struct tn_pk *pid;
	} u;
};

struct tn_unpickle_opts {
	/* NULL-terminated allow-list: "module.name" exactly, or "prefix.*" for any global whose
	 * dotted name starts with "prefix.".  Any other global is an error naming it. */
	const char *const *allow;
	/* Limits; 0 = default. */
	int max_depth;       /* nesting (default 500) */
	size_t max_nodes;    /* values created (default 1<<22) */
	size_t max_stack;    /* stack + mark stack entries (default 1<<20) */
	size_t max_memo;     /* highest memo index + 1 (default 1<<22) */
};

struct tn_pk_chunk;
struct tn_pickle {
	struct tn_pk *root;
	size_t nodes;
	struct tn_pk_chunk *chunks; /* private */
};

/* Unpickles buf[0..len) up to its STOP; *used (may be NULL) gets the bytes consumed, so
 * pickles written back to back can be read in turn.  Messages name the byte offset and do
 * not name the file, except the forbidden-global one: "pickle references forbidden global
 * 'os.system'". */
int tn_unpickle(const uint8_t *buf, size_t len, const struct tn_unpickle_opts *opts, struct tn_pickle *out,
		size_t *used);
void tn_pickle_free(struct tn_pickle *p);

/* Helpers for consumers. */
/* The value of the last entry whose key is the string key, or NULL (d must be a DICT). */
const struct tn_pk *tn_pk_dict_get(const struct tn_pk *d, const char *key);
/* 1 if v is a GLOBAL named full ("module.name"). */
int tn_pk_is_global(const struct tn_pk *v, const char *full);
/* For an OBJECT made by calling/instantiating a global: that global's name, else NULL. */
const char *tn_pk_callee(const struct tn_pk *v);
const char *tn_pk_type_name(enum tn_pk_type t);
/* Calls fn on every value the unpickle created, reachable or not, in no particular order. */
void tn_pickle_each(const struct tn_pickle *p, void (*fn)(const struct tn_pk *v, void *ctx), void *ctx);

#endif
