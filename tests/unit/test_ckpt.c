/* The checkpoint reader against real torch.save files written by scripts/ref/make-ckpt-fixtures.py:
 * good files must give exactly the expected names, shapes and values; hostile ones must fail
 * with the right message and no crash.  Run from the top of the tree. */
#include "check.h"

#include "core/error.h"
#include "io/ckpt.h"
#include "io/file.h"
#include "io/unpickle.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static char dir[64];

static const char *dtype_name(enum tn_dtype d)
{
	static const char *const n[] = {"f32", "f16", "bf16", "f64", "i64", "i32", "i8", "u8", "bool"};
	return (unsigned)d < sizeof n / sizeof *n ? n[d] : "?";
}

static char *fixture(const char *name)
{
	static char buf[512];
	snprintf(buf, sizeof buf, "%s/%s", dir, name);
	return buf;
}

/* Compares one "tensor ..." line with the loaded tensor; returns a description of the first
 * mismatch or NULL. */
static const char *compare(const struct tn_ckpt *ck, char *line, char *why, size_t n)
{
	char *save, *tok = strtok_r(line, " \n", &save); /* "tensor" */
	char *name = strtok_r(NULL, " \n", &save), *dt = strtok_r(NULL, " \n", &save);
	const struct tn_ckpt_tensor *t = tn_ckpt_find(ck, name);
	(void)tok;
	if (!t)
		return snprintf(why, n, "'%s' missing", name), why;
	if (strcmp(dtype_name(t->dtype), dt) != 0)
		return snprintf(why, n, "dtype %s, expected %s", dtype_name(t->dtype), dt), why;
	int nd = atoi(strtok_r(NULL, " \n", &save));
	if (t->ndim != nd)
		return snprintf(why, n, "ndim %d, expected %d", t->ndim, nd), why;
	for (int i = 0; i < nd; i++)
		if (t->shape[i] != strtoll(strtok_r(NULL, " \n", &save), NULL, 10))
			return snprintf(why, n, "dim %d is %" PRId64, i, t->shape[i]), why;
	size_t numel = strtoull(strtok_r(NULL, " \n", &save), NULL, 10);
	if (t->numel != numel)
		return snprintf(why, n, "numel %zu, expected %zu", t->numel, numel), why;
	for (size_t i = 0; i < numel; i++) {
		char *v = strtok_r(NULL, " \n", &save);
		if (!v)
			return "expected.txt short";
		if (t->f32) {
			uint32_t bits, want = (uint32_t)strtoul(v, NULL, 16);
			memcpy(&bits, &t->f32[i], 4);
			if (bits != want)
				return snprintf(why, n, "element %zu is %08x (%g), expected %08x", i, bits, t->f32[i], want),
				       why;
		} else if (!t->i64 || t->i64[i] != strtoll(v, NULL, 10)) {
			return snprintf(why, n, "element %zu is %" PRId64 ", expected %s", i, t->i64 ? t->i64[i] : 0, v),
			       why;
		}
	}
	if (strtok_r(NULL, " \n", &save))
		return "expected.txt has extra values";
	return NULL;
}

static void good_files(void)
{
	FILE *fp = fopen(fixture("expected.txt"), "r");
	CHECK(fp != NULL, "expected.txt written");
	if (!fp)
		return;
	char *line = NULL;
	size_t cap = 0;
	struct tn_ckpt ck = {0};
	int loaded = 0;
	char file[256] = "";
	while (getline(&line, &cap, fp) > 0) {
		if (strncmp(line, "file ", 5) == 0) {
			size_t want;
			tn_ckpt_free(&ck);
			sscanf(line + 5, "%255s %zu", file, &want);
			int rc = tn_ckpt_load(fixture(file), &ck);
			loaded = rc == 0;
			CHECK(rc == 0, "%s loads%s%s", file, rc ? ": " : "", rc ? tn_errmsg() : "");
			if (loaded)
				CHECK(ck.n == want, "%s: %zu tensors (expected %zu)", file, ck.n, want);
		} else if (loaded) {
			char why[256], name[256];
			sscanf(line, "tensor %255s", name);
			const char *bad = compare(&ck, line, why, sizeof why);
			CHECK(bad == NULL, "%s: tensor '%s' exact%s%s", file, name, bad ? ": " : "", bad ? bad : "");
		}
	}
	tn_ckpt_free(&ck);
	free(line);
	fclose(fp);
}

static void hostile_files(void)
{
	FILE *fp = fopen(fixture("hostile.txt"), "r");
	CHECK(fp != NULL, "hostile.txt written");
	if (!fp)
		return;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, fp) > 0) {
		char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');
		if (!tab)
			continue;
		*tab = 0;
		if (nl)
			*nl = 0;
		struct tn_ckpt ck;
		int rc = tn_ckpt_load(fixture(line), &ck);
		const char *msg = rc ? tn_errmsg() : "(loaded)";
		CHECK(rc < 0 && strstr(msg, tab + 1) && strncmp(msg, dir, strlen(dir)) == 0 && ck.n == 0 && !ck.t,
		      "%s refused: %s", line, msg);
		if (rc == 0)
			tn_ckpt_free(&ck);
	}
	free(line);
	fclose(fp);
}

/* ---- plain pickles: a canonical text form that the generator also writes ---- */

struct sb {
	char *p;
	size_t n, cap;
};

static void put(struct sb *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct sb *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (s->n + (size_t)k + 1 > s->cap) {
		s->cap = 2 * (s->n + (size_t)k + 1);
		s->p = realloc(s->p, s->cap);
	}
	va_start(ap, fmt);
	vsnprintf(s->p + s->n, (size_t)k + 1, fmt, ap);
	va_end(ap);
	s->n += (size_t)k;
}

static void hex(struct sb *s, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put(s, "%02x", (unsigned char)p[i]);
}

static void canon(struct sb *s, const struct tn_pk *v, int depth)
{
	if (depth > 50) {
		put(s, "...");
		return;
	}
	switch (v->type) {
	case TN_PK_NONE: put(s, "N"); break;
	case TN_PK_BOOL: put(s, v->u.i ? "T" : "F"); break;
	case TN_PK_INT: put(s, "i%" PRId64, v->u.i); break;
	case TN_PK_BIGINT: put(s, "I"); hex(s, v->u.s.p, v->u.s.len); break;
	case TN_PK_FLOAT: {
		uint64_t b;
		memcpy(&b, &v->u.f, 8);
		put(s, "f%016" PRIx64, b);
		break;
	}
	case TN_PK_STR: put(s, "s%zu:", v->u.s.len); hex(s, v->u.s.p, v->u.s.len); break;
	case TN_PK_BYTES: put(s, "b%zu:", v->u.s.len); hex(s, v->u.s.p, v->u.s.len); break;
	case TN_PK_LIST: case TN_PK_TUPLE: case TN_PK_SET: case TN_PK_FROZENSET: {
		const char *open = v->type == TN_PK_LIST ? "[" : v->type == TN_PK_TUPLE ? "(" : v->type == TN_PK_SET ? "S{" : "z{";
		put(s, "%s", open);
		for (size_t i = 0; i < v->u.seq.n; i++) {
			if (i)
				put(s, ",");
			canon(s, v->u.seq.v[i], depth + 1);
		}
		put(s, "%s", v->type == TN_PK_LIST ? "]" : v->type == TN_PK_TUPLE ? ")" : "}");
		break;
	}
	case TN_PK_DICT:
		put(s, "{");
		for (size_t i = 0; i < v->u.seq.n; i++) {
			if (i)
				put(s, ",");
			canon(s, v->u.seq.v[2 * i], depth + 1);
			put(s, ":");
			canon(s, v->u.seq.v[2 * i + 1], depth + 1);
		}
		put(s, "}");
		break;
	default: put(s, "<%s>", tn_pk_type_name(v->type)); break;
	}
}

static const char *const plain_allow[] = {"collections.OrderedDict", "builtins.set", "builtins.frozenset",
					      "_codecs.encode", "builtins.bytes", NULL};

static void plain_pickles(void)
{
	struct tn_unpickle_opts o = {.allow = plain_allow};
	for (int proto = 0; proto <= 5; proto++) {
		char name[32];
		uint8_t *pkl = NULL, *want = NULL;
		size_t plen = 0, wlen = 0, used = 0;
		snprintf(name, sizeof name, "plain_p%d.pkl", proto);
		int rc = tn_read_all(fixture(name), 0, &pkl, &plen);
		snprintf(name, sizeof name, "plain_p%d.txt", proto);
		rc |= tn_read_all(fixture(name), 0, &want, &wlen);
		struct tn_pickle pk;
		if (!rc)
			rc = tn_unpickle(pkl, plen, &o, &pk, &used);
		CHECK(rc == 0 && used == plen, "protocol %d plain pickle unpickles%s%s", proto, rc ? ": " : "",
		      rc ? tn_errmsg() : "");
		if (!rc) {
			struct sb s = {0};
			canon(&s, pk.root, 0);
			put(&s, "\n");
			CHECK(strcmp(s.p, (char *)want) == 0, "protocol %d plain pickle: same values as Python", proto);
			if (strcmp(s.p, (char *)want) != 0)
				printf("#   got  %s#   want %s", s.p, (char *)want);
			free(s.p);
			tn_pickle_free(&pk);
		}
		free(pkl);
		free(want);
	}
}

/* Records for classes a later model loader will allow; forbidden otherwise. */
static void records(void)
{
	static const uint8_t p[] = "\x80\x02" "cmodels.common\nConv\n" "q\x00)\x81q\x01}q\x02(X\x01\x00\x00\x00kK\x07"
				   "X\x01\x00\x00\x00lh\x00ub" "h\x01" "]q\x03K\x01" "a" "\x86.";
	static const char *const allow[] = {"models.*", NULL};
	struct tn_unpickle_opts o = {.allow = allow};
	struct tn_pickle pk;
	int rc = tn_unpickle(p, sizeof p - 1, &o, &pk, NULL);
	CHECK(rc == 0, "NEWOBJ/BUILD of an allowed models.* class%s%s", rc ? ": " : "", rc ? tn_errmsg() : "");
	if (!rc) {
		const struct tn_pk *t = pk.root, *obj = t->u.seq.v[0];
		CHECK(t->type == TN_PK_TUPLE && t->u.seq.n == 2, "a 2-tuple");
		CHECK(obj->type == TN_PK_OBJECT && obj->u.obj.newobj && strcmp(tn_pk_callee(obj), "models.common.Conv") == 0,
		      "record of class models.common.Conv");
		const struct tn_pk *k = tn_pk_dict_get(obj->state, "k"), *l = tn_pk_dict_get(obj->state, "l");
		CHECK(k && k->type == TN_PK_INT && k->u.i == 7, "state k = 7");
		CHECK(tn_pk_is_global(l, "models.common.Conv"), "state l is the class global (shared via memo)");
		CHECK(t->u.seq.v[0] == obj && t->u.seq.v[1]->type == TN_PK_LIST, "memo sharing kept");
		tn_pickle_free(&pk);
	}
	o.allow = NULL;
	rc = tn_unpickle(p, sizeof p - 1, &o, &pk, NULL);
	CHECK(rc < 0 && strstr(tn_errmsg(), "forbidden global 'models.common.Conv'"), "refused without allow-list: %s",
	      tn_errmsg());
	/* Truncations at every length fail cleanly. */
	int clean = 1;
	o.allow = allow;
	for (size_t n = 0; n + 1 < sizeof p - 1; n++) {
		if (tn_unpickle(p, n, &o, &pk, NULL) == 0) {
			clean = 0;
			tn_pickle_free(&pk);
		}
	}
	CHECK(clean, "every truncation of a pickle is an error");
}

int main(void)
{
	char cmd[256];
	snprintf(dir, sizeof dir, "/tmp/test_ckpt.XXXXXX");
	if (!mkdtemp(dir)) {
		CHECK(0, "mkdtemp");
		return check_done();
	}
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/ref/make-ckpt-fixtures.py %s", dir);
	int st = system(cmd);
	CHECK(st == 0, "make-ckpt-fixtures.py ran (status %d)", st);
	if (st == 0) {
		good_files();
		hostile_files();
		plain_pickles();
	}
	records();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return check_done();
}
