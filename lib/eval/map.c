#include "eval/map.h"

#include "core/error.h"
#include "core/tensor.h"
#include "eval/coco.h"
#include "eval/miou.h"
#include "io/file.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NPX TN_MAP_NPX
#define NAP 101  /* compute_ap's recall grid */

/* ---- growth and the image table ---- */

static int grow(void **p, size_t *cap, size_t need, size_t elem, const char *what)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap : 64, bytes;
	while (nc < need)
		if (tn_mul_size(nc, 2, &nc))
			return tn_fail(TN_E_NOMEM, "%s: too many", what);
	if (tn_mul_size(nc, elem, &bytes))
		return tn_fail(TN_E_NOMEM, "%s: too many", what);
	void *q = realloc(*p, bytes);
	if (!q)
		return tn_fail(TN_E_NOMEM, "%s: out of memory", what);
	*p = q;
	*cap = nc;
	return 0;
}

struct hent {
	char *key;
	uint32_t idx;
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct hent *hash_slot(const struct tn_map_data *d, const char *key)
{
	struct hent *t = (struct hent *)d->hash;
	size_t mask = d->hash_cap - 1;
	for (size_t i = hash_str(key) & mask;; i = (i + 1) & mask)
		if (!t[i].key || strcmp(t[i].key, key) == 0)
			return &t[i];
}

static int hash_put(struct tn_map_data *d, const char *key, uint32_t idx)
{
	if ((d->hash_used + 1) * 4 > d->hash_cap * 3) {
		/* keep the load under 3/4 (aliases count too): rebuild at twice the size */
		size_t ncap = d->hash_cap ? d->hash_cap * 2 : 1024;
		struct hent *old = (struct hent *)d->hash, *t = calloc(ncap, sizeof *t);
		if (!t)
			return tn_fail(TN_E_NOMEM, "image table: out of memory");
		size_t ocap = d->hash_cap;
		d->hash = (uint32_t *)t;
		d->hash_cap = ncap;
		for (size_t i = 0; i < ocap; i++)
			if (old[i].key)
				*hash_slot(d, old[i].key) = old[i];
		free(old);
	}
	struct hent *e = hash_slot(d, key);
	if (e->key)
		return 0;
	e->key = strdup(key);
	if (!e->key)
		return tn_fail(TN_E_NOMEM, "image table: out of memory");
	e->idx = idx;
	d->hash_used++;
	return 0;
}

static int hash_get(const struct tn_map_data *d, const char *key, uint32_t *idx)
{
	if (!d->hash)
		return 0;
	struct hent *e = hash_slot(d, key);
	if (!e->key)
		return 0;
	*idx = e->idx;
	return 1;
}

int tn_map_init(struct tn_map_data *d, int n)
{
	memset(d, 0, sizeof *d);
	if (n < 0 || n > TN_MAP_MAX_CLASSES)
		return tn_fail(TN_E_INVAL, "%d classes: must be 1 to %d", n, TN_MAP_MAX_CLASSES);
	d->n = n;
	d->max_class = -1;
	return 0;
}

void tn_map_free(struct tn_map_data *d)
{
	for (size_t i = 0; i < d->nimages; i++)
		free(d->images[i].key);
	struct hent *t = (struct hent *)d->hash;
	for (size_t i = 0; i < d->hash_cap; i++)
		free(t[i].key);
	free(d->hash);
	free(d->images);
	free(d->labels);
	free(d->dets);
	free(d->labels_dir);
	memset(d, 0, sizeof *d);
}

static int add_image(struct tn_map_data *d, const char *key, uint32_t *index)
{
	if (d->nimages >= UINT32_MAX - 1)
		return tn_fail(TN_E_INVAL, "more than %u images", UINT32_MAX - 1);
	int rc = grow((void **)&d->images, &d->cap_images, d->nimages + 1, sizeof *d->images, "images");
	if (rc)
		return rc;
	struct tn_map_image *im = &d->images[d->nimages];
	memset(im, 0, sizeof *im);
	im->key = strdup(key);
	if (!im->key)
		return tn_fail(TN_E_NOMEM, "images: out of memory");
	if ((rc = hash_put(d, key, (uint32_t)d->nimages)))
		return rc;
	*index = (uint32_t)d->nimages++;
	return 0;
}

/* All digits, at most 19 of them: its value. */
static int digits_value(const char *s, unsigned long long *v)
{
	size_t l = strlen(s);
	if (l == 0 || l > 19 || strspn(s, "0123456789") != l)
		return 0;
	*v = strtoull(s, NULL, 10);
	return 1;
}

int tn_map_image_index(struct tn_map_data *d, const char *key, int numeric, int create,
		       uint32_t *index)
{
	if (hash_get(d, key, index))
		return 0;
	unsigned long long v;
	if (digits_value(key, &v)) {
		/* COCO style: the number 42 (or "42") names the file 000000000042.txt */
		char buf[32];
		int w0 = snprintf(buf, sizeof buf, "%llu", v);
		for (int w = w0; w <= 20; w++) {
			snprintf(buf, sizeof buf, "%0*llu", w, v);
			if (strcmp(buf, key) && hash_get(d, buf, index) && d->images[*index].has_label_file)
				return hash_put(d, key, *index); /* alias, so the next look-up is direct */
		}
	}
	(void)numeric;
	if (!create)
		return TN_E_INVAL;
	return add_image(d, key, index);
}

/* ---- label files ---- */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int tn_map_parse_labels(struct tn_map_data *d, uint32_t image, const char *buf, size_t len,
			const char *name)
{
	struct tn_map_image *im = &d->images[image];
	if (memchr(buf, '\0', len))
		return tn_fail(TN_E_FORMAT, "%s: binary data, not a YOLO label file", name);
	im->label_off = d->nlabels;
	im->nlabels = 0;
	const char *p = buf, *end = buf + len;
	uint64_t line = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		line++;
		char tok[5][64];
		int nt = 0;
		const char *s = p;
		for (;;) {
			while (s < e && is_space(*s))
				s++;
			if (s >= e)
				break;
			const char *t = s;
			while (s < e && !is_space(*s))
				s++;
			if (nt < 5) {
				size_t tl = (size_t)(s - t);
				if (tl >= sizeof tok[0])
					return tn_fail(TN_E_FORMAT, "%s: line %" PRIu64 ": field %d is not a number",
						       name, line, nt + 1);
				memcpy(tok[nt], t, tl);
				tok[nt][tl] = 0;
			}
			nt++;
		}
		p = nl ? nl + 1 : end;
		if (nt == 0)
			continue;
		if (nt != 5)
			return tn_fail(TN_E_FORMAT,
				       "%s: line %" PRIu64 ": %d fields, expected 5 ('class cx cy w h')%s", name,
				       line, nt,
				       nt > 6 ? "; polygon labels are not read: convert them to boxes" : "");
		double v[5];
		static const char *const what[5] = {"class", "cx", "cy", "w", "h"};
		for (int k = 0; k < 5; k++) {
			char *q;
			v[k] = strtod(tok[k], &q);
			if (q == tok[k] || *q)
				return tn_fail(TN_E_FORMAT, "%s: line %" PRIu64 ": %s '%s' is not a number", name,
					       line, what[k], tok[k]);
			if (!isfinite(v[k]))
				return tn_fail(TN_E_FORMAT, "%s: line %" PRIu64 ": %s is %s", name, line, what[k],
					       tok[k]);
			if (v[k] < 0)
				return tn_fail(TN_E_FORMAT, "%s: line %" PRIu64 ": %s %s is negative", name, line,
					       what[k], tok[k]);
			if (k > 0 && v[k] > 1)
				return tn_fail(TN_E_FORMAT,
					       "%s: line %" PRIu64 ": %s %s is above 1 (coordinates must be "
					       "normalised to 0..1)",
					       name, line, what[k], tok[k]);
		}
		if (v[0] != floor(v[0]) || v[0] >= TN_MAP_MAX_CLASSES)
			return tn_fail(TN_E_FORMAT, "%s: line %" PRIu64 ": class %s is not a whole number below %d",
				       name, line, tok[0], TN_MAP_MAX_CLASSES);
		int cls = (int)v[0];
		if (d->n && cls >= d->n)
			return tn_fail(TN_E_FORMAT, "%s: line %" PRIu64 ": class %d, but there are only %d classes (0..%d)",
				       name, line, cls, d->n, d->n - 1);
		/* ultralytics drops exact duplicates */
		int dup = 0;
		for (size_t i = im->label_off; i < d->nlabels && !dup; i++) {
			const struct tn_map_label *o = &d->labels[i];
			dup = o->cls == cls && o->cx == v[1] && o->cy == v[2] && o->w == v[3] && o->h == v[4];
		}
		if (dup) {
			if (d->duplicate_labels++ == 0)
				d->first_duplicate_file = im->key;
			continue;
		}
		int rc = grow((void **)&d->labels, &d->cap_labels, d->nlabels + 1, sizeof *d->labels, "labels");
		if (rc)
			return rc;
		d->labels[d->nlabels++] = (struct tn_map_label){v[1], v[2], v[3], v[4], cls};
		im->nlabels++;
		if (cls > d->max_class)
			d->max_class = cls;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int tn_map_load_labels(struct tn_map_data *d, const char *dir)
{
	DIR *dp = opendir(dir);
	if (!dp)
		return tn_fail(TN_E_IO, "%s: %s", dir, strerror(errno));
	char **names = NULL;
	size_t nn = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(dp))) {
		size_t l = strlen(de->d_name);
		if (l <= 4 || de->d_name[0] == '.' || strcmp(de->d_name + l - 4, ".txt") != 0)
			continue;
		if ((rc = grow((void **)&names, &cap, nn + 1, sizeof *names, "label files")))
			break;
		if (!(names[nn] = strdup(de->d_name))) {
			rc = tn_fail(TN_E_NOMEM, "label files: out of memory");
			break;
		}
		nn++;
	}
	closedir(dp);
	if (!rc)
		qsort(names, nn, sizeof *names, cmp_str);
	size_t dl = strlen(dir);
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	for (size_t i = 0; i < nn && !rc; i++) {
		size_t l = strlen(names[i]);
		char *path = malloc(dl + l + 2);
		if (!path) {
			rc = tn_fail(TN_E_NOMEM, "label files: out of memory");
			break;
		}
		snprintf(path, dl + l + 2, "%.*s/%s", (int)dl, dir, names[i]);
		struct stat st;
		if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
			free(path);
			continue;
		}
		uint8_t *buf;
		size_t len;
		uint32_t idx;
		names[i][l - 4] = 0;
		if (!(rc = tn_read_all(path, 256u << 20, &buf, &len))) {
			if (!(rc = add_image(d, names[i], &idx))) {
				d->images[idx].has_label_file = 1;
				rc = tn_map_parse_labels(d, idx, (const char *)buf, len, path);
			}
			free(buf);
		}
		free(path);
	}
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	if (!rc && !(d->labels_dir = strdup(dir)))
		rc = tn_fail(TN_E_NOMEM, "out of memory");
	return rc;
}

/* ---- detections: JSON lines or COCO results arrays ---- */

/* Where a record is, for messages: "FILE: line N" or "FILE: record N". */
struct rec_at {
	const char *name, *unit;
	uint64_t n;
};

static int rec_fail(const struct rec_at *at, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rec_fail(const struct rec_at *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return tn_fail(TN_E_FORMAT, "%s: %s %" PRIu64 ": %s", at->name, at->unit, at->n, msg);
}

static int num_field(json_t *o, const char *key, double *v, const struct rec_at *at)
{
	json_t *x = json_object_get(o, key);
	if (!x)
		return rec_fail(at, "no \"%s\" field%s", key,
				!strcmp(key, "width") || !strcmp(key, "height")
					? " (the image size in pixels is needed in every record: make the "
					  "detections with infer-detect -f jsonl or -f coco)"
					: "");
	if (!json_is_number(x))
		return rec_fail(at, "\"%s\" is not a number", key);
	*v = json_number_value(x);
	if (!isfinite(*v) || *v < 0)
		return rec_fail(at, "\"%s\" is %g, not a number >= 0", key, *v);
	return 0;
}

/* A COCO results array's category_id as a class index (JSON lines hold class indices). */
static int array_class(const struct tn_map_data *d, double *cat, const struct rec_at *at)
{
	int id = (int)*cat;
	if (d->array_ids == TN_MAP_IDS_COCO91) {
		int c = tn_coco91_to_80(id);
		if (c < 0)
			return rec_fail(at, "category_id %d is not one of COCO's category ids (the class names are "
					"COCO's 80, so an array holds COCO's ids 1..90)", id);
		*cat = c;
	} else if (d->array_ids == TN_MAP_IDS_UNKNOWN && id >= TN_COCO_CLASSES && tn_coco91_to_80(id) >= 0) {
		/* infer-detect -f coco writes COCO's ids for a COCO model: never guess */
		return rec_fail(at, "category_id %d may be a COCO category id (1..90): give --names with COCO's 80 "
				"class names, or -n N if the ids are class indices", id);
	}
	return 0;
}

/* infer-detect --val's optional "letterbox": [w, h, W, H]; lb stays zero without it. */
static int letterbox_field(json_t *o, int lb[4], const struct rec_at *at)
{
	json_t *a = json_object_get(o, "letterbox");
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) != 4)
		return rec_fail(at, "\"letterbox\" is not [w, h, W, H]");
	for (int j = 0; j < 4; j++) {
		json_t *x = json_array_get(a, (size_t)j);
		if (!json_is_integer(x) || json_integer_value(x) < 1 || json_integer_value(x) > 1 << 20)
			return rec_fail(at, "\"letterbox\" value %d is not a whole number from 1 to %d", j + 1, 1 << 20);
		lb[j] = (int)json_integer_value(x);
	}
	return 0;
}

/* One detection object; array: it came from a COCO results array. */
static int add_record(struct tn_map_data *d, json_t *o, const struct rec_at *at, int array)
{
	char key[48];
	const char *k = key;
	double cat, bb[4], score, w, h;
	int lb[4] = {0};
	if (!json_is_object(o))
		return rec_fail(at, "not a JSON object");
	json_t *id = json_object_get(o, "image_id");
	if (!id)
		return rec_fail(at, "no \"image_id\" field");
	int numeric = 0;
	if (json_is_string(id)) {
		k = json_string_value(id);
		if (!*k || strlen(k) != json_string_length(id) || strchr(k, '/'))
			return rec_fail(at, "\"image_id\" must be a file stem (not empty, no '/')");
	} else if (json_is_integer(id) && json_integer_value(id) >= 0) {
		snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
		numeric = 1;
	} else {
		return rec_fail(at, "\"image_id\" must be a string or a whole number >= 0");
	}
	int rc;
	if ((rc = num_field(o, "category_id", &cat, at)) || (rc = num_field(o, "score", &score, at)) ||
	    (rc = num_field(o, "width", &w, at)) || (rc = num_field(o, "height", &h, at)) ||
	    (rc = letterbox_field(o, lb, at)))
		return rc;
	if (cat != floor(cat) || cat >= TN_MAP_MAX_CLASSES)
		return rec_fail(at, "\"category_id\" %g is not a whole number below %d", cat, TN_MAP_MAX_CLASSES);
	if (array && (rc = array_class(d, &cat, at)))
		return rc;
	if (d->n && cat >= d->n)
		return rec_fail(at, "category_id %d, but there are only %d classes (0..%d)", (int)cat, d->n, d->n - 1);
	if (w <= 0 || h <= 0)
		return rec_fail(at, "image size %gx%g", w, h);
	json_t *b = json_object_get(o, "bbox");
	if (!b)
		return rec_fail(at, "no \"bbox\" field");
	if (!json_is_array(b) || json_array_size(b) != 4)
		return rec_fail(at, "\"bbox\" is not [x, y, w, h]");
	for (int j = 0; j < 4; j++) {
		json_t *x = json_array_get(b, (size_t)j);
		bb[j] = json_is_number(x) ? json_number_value(x) : NAN;
		if (!isfinite(bb[j]) || bb[j] < 0)
			return rec_fail(at, "\"bbox\" value %d is %s", j + 1, json_is_number(x) ? "negative" : "not a number");
	}
	uint32_t idx;
	if ((rc = tn_map_image_index(d, k, numeric, 1, &idx)))
		return rc;
	struct tn_map_image *im = &d->images[idx];
	if (im->width == 0) {
		im->width = w;
		im->height = h;
		memcpy(im->lb, lb, sizeof lb);
		im->size_line = at->n;
		im->size_file = at->name;
		if (!im->has_label_file && d->missing_label_images++ == 0)
			d->first_missing = im->key;
	} else if (im->width != w || im->height != h) {
		return rec_fail(at, "image '%s' is %gx%g here but %gx%g on %s %" PRIu64, im->key, w, h, im->width,
				im->height, at->unit, im->size_line);
	} else if (memcmp(im->lb, lb, sizeof lb)) {
		return rec_fail(at, "image '%s' has the letterbox [%d, %d, %d, %d] here but [%d, %d, %d, %d] on %s %" PRIu64,
				im->key, lb[0], lb[1], lb[2], lb[3], im->lb[0], im->lb[1], im->lb[2], im->lb[3], at->unit,
				im->size_line);
	}
	if ((rc = grow((void **)&d->dets, &d->cap_dets, d->ndets + 1, sizeof *d->dets, "detections")))
		return rc;
	struct tn_map_det *dt = &d->dets[d->ndets];
	dt->box[0] = bb[0];
	dt->box[1] = bb[1];
	dt->box[2] = bb[0] + bb[2];
	dt->box[3] = bb[1] + bb[3];
	dt->score = score;
	if (lb[0]) { /* val.py's float32 values (x2 = x + w within a double's rounding) */
		for (int j = 0; j < 4; j++)
			dt->box[j] = (float)dt->box[j];
		dt->score = (float)score;
	}
	dt->cls = (int32_t)cat;
	dt->image = idx;
	dt->seq = d->ndets;
	dt->tp = 0;
	d->ndets++;
	if (dt->cls > d->max_class)
		d->max_class = dt->cls;
	return 0;
}

int tn_map_add_json_line(struct tn_map_data *d, const char *line, size_t len, const char *name,
			 uint64_t lineno)
{
	size_t i = 0;
	while (i < len && (is_space(line[i]) || line[i] == '\n'))
		i++;
	if (i == len)
		return 0;
	struct rec_at at = {name, "line", lineno};
	json_error_t err;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &err);
	if (!o)
		return rec_fail(&at, "bad JSON: %s (column %d)", err.text, err.column);
	int rc = add_record(d, o, &at, 0);
	json_decref(o);
	return rc;
}

static int read_fail(const char *name)
{
	return tn_fail(TN_E_IO, "%s: read error: %s", name, strerror(errno));
}

/* The next byte that is not JSON white space; newlines are counted into *lines. */
static int next_nonblank(FILE *fp, uint64_t *lines)
{
	int c;
	while ((c = getc(fp)) == ' ' || c == '\t' || c == '\r' || c == '\n')
		*lines += c == '\n';
	return c;
}

static int read_lines(struct tn_map_data *d, FILE *fp, const char *name, uint64_t lineno)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	while (!rc && (len = getline(&line, &cap, fp)) >= 0)
		rc = tn_map_add_json_line(d, line, (size_t)len, name, ++lineno);
	free(line);
	return rc ? rc : ferror(fp) ? read_fail(name) : 0;
}

/* c for a message: itself when printable. */
static const char *show_byte(int c, char buf[8])
{
	snprintf(buf, 8, c > ' ' && c < 0x7f ? "'%c'" : "byte %d", c);
	return buf;
}

/* '[' has been read: records one at a time (one parsed object in memory), then ']'; more
 * arrays may follow, as shards concatenate. */
static int read_array(struct tn_map_data *d, FILE *fp, const char *name)
{
	struct rec_at at = {name, "record", 0};
	uint64_t lines = 0, first = 1; /* the current array's first record number */
	char b[8];
	for (;;) {
		int c = next_nonblank(fp, &lines);
		if (c != ']' || at.n + 1 != first) {
			ungetc(c, fp);
			at.n++;
			json_error_t err;
			json_t *o = json_loadf(fp, JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, &err);
			if (!o)
				return ferror(fp) ? read_fail(name)
						  : rec_fail(&at, "bad JSON: %s%s", err.text,
							     feof(fp) ? " (the array is cut short)" : "");
			int rc = add_record(d, o, &at, 1);
			json_decref(o);
			if (rc)
				return rc;
			c = next_nonblank(fp, &lines);
			if (c == ',')
				continue;
			if (c != ']')
				return ferror(fp) ? read_fail(name)
				       : c == EOF ? rec_fail(&at, "the array is cut short (no ']' after it)")
						  : rec_fail(&at, "',' or ']' expected after it, not %s", show_byte(c, b));
		}
		c = next_nonblank(fp, &lines);
		if (c == EOF)
			return ferror(fp) ? read_fail(name) : 0;
		if (c != '[')
			return tn_fail(TN_E_FORMAT, "%s: %s after the end of the array (give one JSON array, or "
				       "JSON lines)", name, show_byte(c, b));
		first = at.n + 1;
	}
}

int tn_map_read_dets(struct tn_map_data *d, FILE *fp, const char *name)
{
	uint64_t lines = 0;
	int c = next_nonblank(fp, &lines);
	if (c == EOF)
		return ferror(fp) ? read_fail(name) : 0;
	if (c == '[')
		return read_array(d, fp, name);
	ungetc(c, fp);
	return read_lines(d, fp, name, lines);
}

/* ---- the metric pieces ---- */

double tn_linspace(double start, double stop, int num, int i)
{
	if (i == num - 1 && num > 1)
		return stop;
	double step = (stop - start) / (double)(num - 1);
	return (double)i * step + start;
}

double tn_box_iou(const double a[4], const double b[4])
{
	double iw = fmin(a[2], b[2]) - fmax(a[0], b[0]);
	double ih = fmin(a[3], b[3]) - fmax(a[1], b[1]);
	double inter = (iw > 0 ? iw : 0) * (ih > 0 ? ih : 0);
	double aa = (a[2] - a[0]) * (a[3] - a[1]), ab = (b[2] - b[0]) * (b[3] - b[1]);
	return inter / (aa + ab - inter + 1e-7);
}

float tn_box_iou_f32(const double a[4], const double b[4])
{
	float a0 = (float)a[0], a1 = (float)a[1], a2 = (float)a[2], a3 = (float)a[3];
	float b0 = (float)b[0], b1 = (float)b[1], b2 = (float)b[2], b3 = (float)b[3];
	float iw = fminf(a2, b2) - fmaxf(a0, b0), ih = fminf(a3, b3) - fmaxf(a1, b1);
	float inter = (iw > 0 ? iw : 0) * (ih > 0 ? ih : 0);
	float aa = (a2 - a0) * (a3 - a1), ab = (b2 - b0) * (b3 - b1);
	return inter / (aa + ab - inter + 1e-7f);
}

void tn_map_match(const int32_t *lcls, const double (*lbox)[4], size_t nl, const int32_t *dcls,
		  const double (*dbox)[4], size_t nd, const double *thresholds, int nt, int f32, uint16_t *tp,
		  double *work)
{
	for (size_t j = 0; j < nd; j++)
		tp[j] = 0;
	if (!nl || !nd)
		return;
	double *iou = work;         /* [label][detection], -1 across classes */
	double *best = work + nl * nd; /* per detection: its best label, as a double */
	for (size_t i = 0; i < nl; i++)
		for (size_t j = 0; j < nd; j++)
			iou[i * nd + j] = lcls[i] != dcls[j] ? -1
					  : f32	       ? tn_box_iou_f32(lbox[i], dbox[j])
							 : tn_box_iou(lbox[i], dbox[j]);
	/* Each detection takes its best label (same class, highest IoU; ties go to the higher
	 * label index, as NumPy's reversed argsort leaves them on small arrays); at threshold t
	 * it keeps it when that IoU >= t.  Each label then goes to the lowest detection index
	 * among those that took it: process_batch's two np.unique steps. */
	for (size_t j = 0; j < nd; j++) {
		size_t b = 0;
		for (size_t i = 1; i < nl; i++)
			if (iou[i * nd + j] >= iou[b * nd + j])
				b = i;
		best[j] = (double)b;
	}
	for (int t = 0; t < nt; t++) {
		double thr = f32 ? (float)thresholds[t] : thresholds[t];
		for (size_t i = 0; i < nl; i++) {
			for (size_t j = 0; j < nd; j++) {
				if ((size_t)best[j] == i && iou[i * nd + j] >= thr) {
					tp[j] |= (uint16_t)(1u << t);
					break;
				}
			}
		}
	}
}

double tn_np_interp(double x, const double *xp, const double *fp, size_t n, double left, double right)
{
	if (isnan(x))
		return x;
	if (x < xp[0])
		return left;
	if (x > xp[n - 1])
		return right;
	/* j: the last index with xp[j] <= x, as NumPy's binary search finds on sorted xp */
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (x >= xp[mid])
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t j = lo - 1;
	if (j == n - 1 || xp[j] == x)
		return fp[j];
	double slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j]);
	double r = slope * (x - xp[j]) + fp[j];
	if (isnan(r)) {
		r = slope * (x - xp[j + 1]) + fp[j + 1];
		if (isnan(r) && fp[j] == fp[j + 1])
			r = fp[j];
	}
	return r;
}

double tn_map_compute_ap(const double *recall, const double *precision, size_t n, double *work)
{
	double *mrec = work, *mpre = work + n + 2;
	mrec[0] = 0.0;
	mpre[0] = 1.0;
	for (size_t i = 0; i < n; i++) {
		mrec[i + 1] = recall[i];
		mpre[i + 1] = precision[i];
	}
	mrec[n + 1] = 1.0;
	mpre[n + 1] = 0.0;
	for (size_t i = n + 1; i-- > 0;) /* the envelope: running maximum from the right */
		if (mpre[i + 1] > mpre[i])
			mpre[i] = mpre[i + 1];
	double x[NAP], y[NAP], t[NAP - 1];
	for (int k = 0; k < NAP; k++) {
		x[k] = tn_linspace(0, 1, NAP, k);
		y[k] = tn_np_interp(x[k], mrec, mpre, n + 2, mpre[0], mpre[n + 1]);
	}
	for (int k = 0; k < NAP - 1; k++) /* np.trapz: d * (y[1:] + y[:-1]) / 2.0, pairwise sum */
		t[k] = (x[k + 1] - x[k]) * (y[k + 1] + y[k]) / 2.0;
	return tn_numpy_sum(t, NAP - 1);
}

void tn_map_smooth(const double *y, double f, double *out)
{
	/* nearbyint rounds half to even, as Python's round does */
	int nf = (int)nearbyint(NPX * f * 2) / 2 + 1, half = nf / 2;
	double yp[3 * NPX + 1]; /* room for f up to 1 */
	for (int k = 0; k < half; k++) {
		yp[k] = y[0];
		yp[NPX + half + k] = y[NPX - 1];
	}
	memcpy(yp + half, y, NPX * sizeof *y);
	const double w = 1.0 / nf;
	for (int k = 0; k < NPX; k++) {
		double s = 0;
		for (int m = 0; m < nf; m++)
			s += yp[k + m] * w;
		out[k] = s;
	}
}

static float clip_to(float v, float hi)
{
	return v < 0.0f ? 0.0f : v > hi ? hi : v;
}

/* val.py's label of an image infer-detect --val saw, in float32 as NumPy and torch compute it.
 * LoadImagesAndLabels: xywhn2xyxy into the letterbox (ratio r times load_image's w and h, plus
 * the paddings), xyxy2xywhn clipped to W, H less 1e-3; val.py: times W, H, xywh2xyxy, then
 * scale_boxes(ratio_pad): minus the paddings, divided by h / h0 (x too), clipped to w0, h0. */
static void label_box_val(const struct tn_map_image *im, const struct tn_map_label *l, double box[4])
{
	int w = im->lb[0], h = im->lb[1], W = im->lb[2], H = im->lb[3];
	double r = fmin(fmin((double)H / h, (double)W / w), 1.0); /* letterbox, scaleup=False */
	float pw = (float)((W - nearbyint(w * r)) / 2), ph = (float)((H - nearbyint(h * r)) / 2);
	float sw = (float)(r * w), sh = (float)(r * h), fw = (float)W, fh = (float)H;
	float cx = (float)l->cx, cy = (float)l->cy, bw = (float)l->w, bh = (float)l->h;
	float xm = (float)(W - 1e-3), ym = (float)(H - 1e-3);
	float x1 = clip_to(sw * (cx - bw / 2) + pw, xm), y1 = clip_to(sh * (cy - bh / 2) + ph, ym);
	float x2 = clip_to(sw * (cx + bw / 2) + pw, xm), y2 = clip_to(sh * (cy + bh / 2) + ph, ym);
	float ncx = (x1 + x2) / 2 / fw, ncy = (y1 + y2) / 2 / fh, nw = (x2 - x1) / fw, nh = (y2 - y1) / fh;
	float px = ncx * fw, py = ncy * fh, pbw = nw * fw, pbh = nh * fh;
	float g = (float)((double)h / im->height), w0 = (float)im->width, h0 = (float)im->height;
	box[0] = clip_to((px - pbw / 2 - pw) / g, w0);
	box[1] = clip_to((py - pbh / 2 - ph) / g, h0);
	box[2] = clip_to((px + pbw / 2 - pw) / g, w0);
	box[3] = clip_to((py + pbh / 2 - ph) / g, h0);
}

void tn_map_label_box(const struct tn_map_image *im, const struct tn_map_label *l, double box[4])
{
	if (im->lb[0]) {
		label_box_val(im, l, box);
		return;
	}
	double cx = l->cx * im->width, cy = l->cy * im->height;
	double w = l->w * im->width, h = l->h * im->height;
	box[0] = cx - w / 2;
	box[1] = cy - h / 2;
	box[2] = cx + w / 2;
	box[3] = cy + h / 2;
}

/* ---- the whole computation ---- */

static const struct tn_map_data *sort_data;
static uint32_t *sort_rank;

static int cmp_image_key(const void *a, const void *b)
{
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
	return strcmp(sort_data->images[i].key, sort_data->images[j].key);
}

/* Images in key order, then by decreasing score, then input order: the order val.py's NMS
 * hands each image's detections over in. */
static int cmp_det_image(const void *a, const void *b)
{
	const struct tn_map_det *p = a, *q = b;
	uint32_t rp = sort_rank[p->image], rq = sort_rank[q->image];
	if (rp != rq)
		return rp < rq ? -1 : 1;
	if (p->score != q->score)
		return p->score > q->score ? -1 : 1;
	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* All detections by decreasing score; ties in the order above (argsort(-conf) leaves them
 * unspecified). */
static int cmp_det_score(const void *a, const void *b)
{
	const struct tn_map_det *p = a, *q = b;
	if (p->score != q->score)
		return p->score > q->score ? -1 : 1;
	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

static int match_all(struct tn_map_data *d, const double *thr)
{
	size_t cap = 0, wcap = 0, lccap = 0;
	double (*lbox)[4] = NULL, (*dbox)[4] = NULL, *work = NULL;
	int32_t *lcls = NULL, *dcls = NULL;
	uint16_t *tp = NULL;
	size_t dcap = 0;
	int rc = 0;
	for (size_t s = 0; s < d->ndets && !rc;) {
		size_t e = s;
		uint32_t im = d->dets[s].image;
		while (e < d->ndets && d->dets[e].image == im)
			e++;
		const struct tn_map_image *img = &d->images[im];
		size_t nl = img->nlabels, nd = e - s, nw;
		if (nl) {
			if ((rc = grow((void **)&lbox, &cap, nl, sizeof *lbox, "labels")) ||
			    (rc = grow((void **)&lcls, &lccap, nl, sizeof *lcls, "labels")))
				break;
			for (size_t i = 0; i < nl; i++) {
				const struct tn_map_label *l = &d->labels[img->label_off + i];
				tn_map_label_box(img, l, lbox[i]);
				lcls[i] = l->cls;
			}
			size_t oldcap = dcap;
			if ((rc = grow((void **)&dbox, &dcap, nd, sizeof *dbox, "detections")))
				break;
			if (dcap != oldcap) {
				free(dcls);
				free(tp);
				dcls = malloc(dcap * sizeof *dcls);
				tp = malloc(dcap * sizeof *tp);
				if (!dcls || !tp) {
					rc = tn_fail(TN_E_NOMEM, "detections: out of memory");
					break;
				}
			}
			for (size_t j = 0; j < nd; j++) {
				memcpy(dbox[j], d->dets[s + j].box, sizeof dbox[j]);
				dcls[j] = d->dets[s + j].cls;
			}
			if (tn_mul_size(nl + 1, nd, &nw) || (rc = grow((void **)&work, &wcap, nw, sizeof *work, "IoU matrix"))) {
				rc = rc ? rc : tn_fail(TN_E_NOMEM, "image '%s': %zu labels x %zu detections: too many",
						       img->key, nl, nd);
				break;
			}
			tn_map_match(lcls, (const double (*)[4])lbox, nl, dcls, (const double (*)[4])dbox, nd, thr,
				     TN_MAP_NIOU, img->lb[0] != 0, tp, work);
			for (size_t j = 0; j < nd; j++)
				d->dets[s + j].tp = tp[j];
		}
		s = e;
	}
	free(lbox);
	free(dbox);
	free(work);
	free(lcls);
	free(dcls);
	free(tp);
	return rc;
}

static int curves_alloc(struct tn_map_curves **out, int nc)
{
	struct tn_map_curves *cv = calloc(1, sizeof *cv);
	size_t rows = (size_t)(nc ? nc : 1), cells;
	if (!cv || tn_mul_size(rows, 4 * NPX, &cells) || tn_mul_size(cells, sizeof(double), &cells)) {
		free(cv);
		return tn_fail(TN_E_NOMEM, "curves of %d classes: too many", nc);
	}
	cv->ncls = nc;
	cv->cls = malloc(rows * sizeof *cv->cls);
	cv->p = calloc(1, cells);
	if (!cv->cls || !cv->p) {
		free(cv->cls);
		free(cv->p);
		free(cv);
		return tn_fail(TN_E_NOMEM, "curves of %d classes: out of memory", nc);
	}
	cv->r = cv->p + rows * NPX;
	cv->f1 = cv->r + rows * NPX;
	cv->pr = cv->f1 + rows * NPX;
	*out = cv;
	return 0;
}

/* The thick "all classes" curves: plot_pr_curve's mean over the classes that have a PR curve,
 * plot_mc_curve's smooth(mean, 0.05) over all classes with labels. */
static void curves_means(struct tn_map_curves *cv, const struct tn_map_result *r)
{
	double *rows[3] = {cv->p, cv->r, cv->f1}, *all[3] = {cv->p_all, cv->r_all, cv->f1_all};
	double mean[NPX];
	for (int q = 0; q < 3; q++) {
		for (int j = 0; j < NPX; j++) {
			double s = 0;
			for (int i = 0; i < cv->ncls; i++)
				s += rows[q][(size_t)i * NPX + j];
			mean[j] = cv->ncls ? s / cv->ncls : 0;
		}
		tn_map_smooth(mean, 0.05, all[q]);
	}
	for (int j = 0; j < NPX; j++) {
		double s = 0;
		int k = 0;
		for (int i = 0; i < cv->ncls; i++)
			if (r->cls[cv->cls[i]].detections) {
				s += cv->pr[(size_t)i * NPX + j];
				k++;
			}
		cv->pr_all[j] = k ? s / k : 0;
	}
}

/* The P and R curves of one class on the px grid, as ap_per_class interpolates them;
 * conf: the class's detections by decreasing score, negated (ascending). */
static void class_pr_at(const double *negconf, const double *rec, const double *prec, size_t np,
			const double *px, int npx, double *pc, double *rc)
{
	for (int k = 0; k < npx; k++) {
		rc[k] = tn_np_interp(-px[k], negconf, rec, np, 0.0, rec[np - 1]);
		pc[k] = tn_np_interp(-px[k], negconf, prec, np, 1.0, prec[np - 1]);
	}
}

/* Scratch for every step, allocated before any work so that running out of memory leaves
 * nothing half done.  nd: detections; n: classes. */
struct map_scratch {
	uint32_t *order, *rank; /* images by key; each image's place in that order */
	uint64_t *cstart;       /* class c's detections are bycls[cstart[c] .. cstart[c + 1]) */
	size_t *bycls;          /* detection indices grouped by class, each group in score order */
	double *negconf, *rec, *prec; /* one class at one threshold, one value per detection */
	double *work;           /* compute_ap's padded recall and envelope (2 * (nd + 2)) */
	double *px, *f1, *sm;   /* the confidence grid, the mean F1 curve and its smoothing */
	double *pc, *rcv;       /* one class's P and R curves when none are kept */
	double *pv, *rv, *a50, *av; /* per class with labels, for the means */
};

static int scratch_alloc(struct map_scratch *w, int n, size_t nd, size_t nimages)
{
	size_t m = nd ? nd : 1;
	w->order = malloc(nimages * sizeof *w->order);
	w->rank = malloc(nimages * sizeof *w->rank);
	w->cstart = calloc((size_t)n + 1, sizeof *w->cstart);
	w->negconf = malloc(m * sizeof *w->negconf);
	w->rec = malloc(m * sizeof *w->rec);
	w->prec = malloc(m * sizeof *w->prec);
	w->work = malloc(2 * (nd + 2) * sizeof *w->work);
	w->bycls = malloc(m * sizeof *w->bycls);
	w->px = malloc(NPX * sizeof *w->px);
	w->f1 = calloc(NPX, sizeof *w->f1);
	w->sm = malloc(NPX * sizeof *w->sm);
	w->pc = malloc(NPX * sizeof *w->pc);
	w->rcv = malloc(NPX * sizeof *w->rcv);
	w->pv = malloc((size_t)n * sizeof *w->pv);
	w->rv = malloc((size_t)n * sizeof *w->rv);
	w->a50 = malloc((size_t)n * sizeof *w->a50);
	w->av = malloc((size_t)n * sizeof *w->av);
	return w->order && w->rank && w->cstart && w->negconf && w->rec && w->prec && w->work && w->bycls &&
			       w->px && w->f1 && w->sm && w->pc && w->rcv && w->pv && w->rv && w->a50 && w->av
		       ? 0
		       : -1;
}

static void scratch_free(struct map_scratch *w)
{
	free(w->order);
	free(w->rank);
	free(w->cstart);
	free(w->negconf);
	free(w->rec);
	free(w->prec);
	free(w->work);
	free(w->bycls);
	free(w->px);
	free(w->f1);
	free(w->sm);
	free(w->pc);
	free(w->rcv);
	free(w->pv);
	free(w->rv);
	free(w->a50);
	free(w->av);
}

/* val.py's process_batch, image by image in the order val.py visits them, then all detections
 * by decreasing score as ap_per_class's argsort(-conf) takes them. */
static int match_in_val_order(struct tn_map_data *d, const struct tn_map_result *r, struct map_scratch *w)
{
	size_t nd = d->ndets;
	for (size_t i = 0; i < d->nimages; i++)
		w->order[i] = (uint32_t)i;
	sort_data = d;
	qsort(w->order, d->nimages, sizeof *w->order, cmp_image_key);
	for (size_t i = 0; i < d->nimages; i++)
		w->rank[w->order[i]] = (uint32_t)i;
	sort_rank = w->rank;
	if (nd) /* d->dets is NULL without detections, and qsort(NULL, 0) is undefined */
		qsort(d->dets, nd, sizeof *d->dets, cmp_det_image);
	for (size_t i = 0; i < nd; i++)
		d->dets[i].seq = i; /* now the canonical order, which breaks score ties below */
	double thr[TN_MAP_NIOU];
	memcpy(thr, r->iou_thresholds, sizeof thr);
	int rc = match_all(d, thr);
	if (!rc && nd)
		qsort(d->dets, nd, sizeof *d->dets, cmp_det_score);
	return rc;
}

/* ap_per_class's unique_classes and nt: labels and detections per class, and each class's
 * detections in score order (a stable counting sort).  *any_tp: some detection matched. */
static int group_by_class(const struct tn_map_data *d, struct tn_map_result *r, struct map_scratch *w,
			  int *any_tp)
{
	int n = r->n;
	size_t nd = d->ndets;
	for (int c = 0; c < n; c++)
		r->cls[c].cls = c;
	for (size_t i = 0; i < d->nlabels; i++) {
		r->cls[d->labels[i].cls].instances++;
		r->instances++;
	}
	*any_tp = 0;
	for (size_t i = 0; i < nd; i++) {
		r->cls[d->dets[i].cls].detections++;
		*any_tp |= d->dets[i].tp != 0;
	}
	for (int c = 0; c < n; c++)
		w->cstart[c + 1] = w->cstart[c] + r->cls[c].detections;
	uint64_t *pos = malloc(((size_t)n + 1) * sizeof *pos);
	if (!pos)
		return tn_fail(TN_E_NOMEM, "metrics: out of memory");
	memcpy(pos, w->cstart, ((size_t)n + 1) * sizeof *pos);
	for (size_t i = 0; i < nd; i++)
		w->bycls[pos[d->dets[i].cls]++] = i;
	free(pos);
	return 0;
}

/* ap_per_class's cumulative TPs and FPs of one class at IoU threshold t: recall and precision
 * after each of its np detections (ix: their indices, by decreasing score). */
static void class_recall_precision(const struct tn_map_data *d, const size_t *ix, size_t np, uint64_t instances,
				   int t, double *rec, double *prec)
{
	double nl = (double)instances + 1e-16, tpc = 0, fpc = 0;
	for (size_t i = 0; i < np; i++) {
		int hit = (d->dets[ix[i]].tp >> t) & 1;
		tpc += hit;
		fpc += !hit;
		rec[i] = tpc / nl;
		prec[i] = tpc / (tpc + fpc);
	}
}

/* Class c's np detections (indices into d->dets, by confidence); their negated confidences,
 * the x of the P and R curves, in w->negconf. */
static const size_t *class_dets(const struct tn_map_data *d, struct map_scratch *w, int c, size_t np)
{
	const size_t *ix = w->bycls + w->cstart[c];
	for (size_t i = 0; i < np; i++)
		w->negconf[i] = -d->dets[ix[i]].score;
	return ix;
}

/* The first class from *c on that has labels, with class_dets done for it in *ix; NULL when none
 * is left.  Both passes of ap_per_class walk the classes this way. */
static struct tn_map_class *next_labelled(const struct tn_map_data *d, struct tn_map_result *r,
					  struct map_scratch *w, int *c, const size_t **ix)
{
	for (; *c < r->n; ++*c)
		if (r->cls[*c].instances) {
			*ix = class_dets(d, w, *c, r->cls[*c].detections);
			return &r->cls[*c];
		}
	return NULL;
}

/* ap_per_class's loop over the classes with labels: compute_ap at every IoU threshold, and at
 * IoU 0.5 the P, R (and, for plots, PR) curves against confidence and the class's F1 curve.
 * w->f1 ends as f1.mean(0), summed in class order. */
static void class_curves(const struct tn_map_data *d, struct tn_map_result *r, struct map_scratch *w,
			 struct tn_map_curves *cv, int nc)
{
	int row = 0;
	const size_t *ix;
	struct tn_map_class *k;
	for (int c = 0; (k = next_labelled(d, r, w, &c, &ix)); c++) {
		size_t np = k->detections;
		double *pcm = cv ? cv->p + (size_t)row * NPX : w->pc, *rcm = cv ? cv->r + (size_t)row * NPX : w->rcv;
		if (cv)
			cv->cls[row] = c;
		if (np) {
			for (int t = 0; t < TN_MAP_NIOU; t++) {
				class_recall_precision(d, ix, np, k->instances, t, w->rec, w->prec);
				k->ap_t[t] = tn_map_compute_ap(w->rec, w->prec, np, w->work);
				if (t == 0) {
					class_pr_at(w->negconf, w->rec, w->prec, np, w->px, NPX, pcm, rcm);
					if (cv) /* val.py's py: the envelope compute_ap left in work, at recall px */
						for (int j = 0; j < NPX; j++)
							cv->pr[(size_t)row * NPX + j] =
								tn_np_interp(w->px[j], w->work, w->work + np + 2, np + 2,
									     w->work[np + 2], w->work[2 * np + 3]);
				}
			}
		} else {
			memset(pcm, 0, NPX * sizeof *pcm);
			memset(rcm, 0, NPX * sizeof *rcm);
		}
		for (int j = 0; j < NPX; j++) {
			double f = 2 * pcm[j] * rcm[j] / (pcm[j] + rcm[j] + 1e-16);
			w->f1[j] = row ? w->f1[j] + f : f;
			if (cv)
				cv->f1[(size_t)row * NPX + j] = f;
		}
		row++;
	}
	for (int j = 0; j < NPX; j++)
		w->f1[j] /= nc;
}

/* ap_per_class: i = smooth(f1.mean(0), 0.1).argmax(), the first of equal maxima. */
static int best_confidence(struct map_scratch *w)
{
	tn_map_smooth(w->f1, 0.1, w->sm);
	int best = 0;
	for (int j = 1; j < NPX; j++)
		if (w->sm[j] > w->sm[best])
			best = j;
	return best;
}

/* ap_per_class's p[:, i], r[:, i], ap50 and ap.mean(1) per class at confidence px[best], then
 * Metric.mean_results: their means over the classes with labels. */
static void class_results_and_means(const struct tn_map_data *d, struct tn_map_result *r, struct map_scratch *w,
				    int best)
{
	int m = 0;
	const size_t *ix;
	struct tn_map_class *k;
	for (int c = 0; (k = next_labelled(d, r, w, &c, &ix)); c++) {
		size_t np = k->detections;
		if (np) {
			class_recall_precision(d, ix, np, k->instances, 0, w->rec, w->prec);
			class_pr_at(w->negconf, w->rec, w->prec, np, w->px + best, 1, &k->p, &k->r);
		}
		k->ap50 = k->ap_t[0];
		k->ap = tn_numpy_sum(k->ap_t, TN_MAP_NIOU) / TN_MAP_NIOU;
		w->pv[m] = k->p;
		w->rv[m] = k->r;
		w->a50[m] = k->ap50;
		w->av[m] = k->ap;
		m++;
	}
	r->mp = tn_numpy_sum(w->pv, (size_t)m) / m;
	r->mr = tn_numpy_sum(w->rv, (size_t)m) / m;
	r->map50 = tn_numpy_sum(w->a50, (size_t)m) / m;
	r->map = tn_numpy_sum(w->av, (size_t)m) / m;
}

int tn_map_compute(struct tn_map_data *d, struct tn_map_result *r)
{
	memset(r, 0, sizeof *r);
	if (d->nimages == 0)
		return tn_fail(TN_E_INVAL, "no images: %s holds no label files and there are no detections",
			       d->labels_dir ? d->labels_dir : "the labels folder");
	if (!d->n)
		d->n = d->max_class >= 0 ? d->max_class + 1 : 1;
	int n = d->n, rc = 0;
	for (int t = 0; t < TN_MAP_NIOU; t++)
		r->iou_thresholds[t] = tn_linspace(0.5, 0.95, TN_MAP_NIOU, t);
	r->n = n;
	r->images = d->nimages;
	r->detections = d->ndets;
	r->cls = calloc((size_t)n, sizeof *r->cls);
	struct map_scratch w = {0};
	if (scratch_alloc(&w, n, d->ndets, d->nimages) || !r->cls) {
		rc = tn_fail(TN_E_NOMEM, "metrics: out of memory");
		goto out;
	}
	int any_tp;
	if ((rc = match_in_val_order(d, r, &w)) || (rc = group_by_class(d, r, &w, &any_tp)))
		goto out;
	for (int k = 0; k < NPX; k++)
		w.px[k] = tn_linspace(0, 1, NPX, k);
	int nc = 0;
	for (int c = 0; c < n; c++)
		nc += r->cls[c].instances > 0;
	r->nclasses = nc;
	struct tn_map_curves *cv = NULL;
	if (d->want_curves) {
		if ((rc = curves_alloc(&r->curves, nc)))
			goto out;
		cv = r->curves;
		memcpy(cv->px, w.px, sizeof cv->px);
	}
	if ((!any_tp && !cv) || nc == 0)
		goto out; /* val.py: every metric stays 0 */
	class_curves(d, r, &w, cv, nc);
	if (cv)
		curves_means(cv, r);
	if (!any_tp) { /* curves drawn, but val.py's metrics stay 0 */
		for (int c = 0; c < n; c++)
			memset(r->cls[c].ap_t, 0, sizeof r->cls[c].ap_t);
		goto out;
	}
	int best = best_confidence(&w);
	r->conf = w.px[best];
	class_results_and_means(d, r, &w, best);
out:
	scratch_free(&w);
	if (rc)
		tn_map_result_free(r);
	return rc;
}

void tn_map_result_free(struct tn_map_result *r)
{
	free(r->cls);
	r->cls = NULL;
	if (r->curves) {
		free(r->curves->cls);
		free(r->curves->p);
		free(r->curves);
		r->curves = NULL;
	}
}

/* ---- reports ---- */

void tn_map_write_table(FILE *fp, const struct tn_map_result *r, const char *const *names)
{
	fprintf(fp, "%22s%11s%11s%11s%11s%11s%11s\n", "Class", "Images", "Instances", "P", "R", "mAP50",
		"mAP50-95");
	fprintf(fp, "%22s%11" PRIu64 "%11" PRIu64 "%11.3g%11.3g%11.3g%11.3g\n", "all", r->images,
		r->instances, r->mp, r->mr, r->map50, r->map);
	if (r->n < 2)
		return;
	for (int c = 0; c < r->n; c++) {
		const struct tn_map_class *k = &r->cls[c];
		if (k->instances)
			fprintf(fp, "%22s%11" PRIu64 "%11" PRIu64 "%11.3g%11.3g%11.3g%11.3g\n", names[c], r->images,
				k->instances, k->p, k->r, k->ap50, k->ap);
	}
}

void tn_map_write_json(FILE *fp, const struct tn_map_result *r, const char *const *names)
{
	fprintf(fp,
		"{\"num_classes\": %d, \"images\": %" PRIu64 ", \"instances\": %" PRIu64
		", \"detections\": %" PRIu64 ",\n \"p\": %.17g, \"r\": %.17g, \"map50\": %.17g, \"map50_95\": %.17g, "
		"\"conf\": %.17g,\n \"iou_thresholds\": [",
		r->n, r->images, r->instances, r->detections, r->mp, r->mr, r->map50, r->map, r->conf);
	for (int t = 0; t < TN_MAP_NIOU; t++)
		fprintf(fp, "%s%.17g", t ? ", " : "", r->iou_thresholds[t]);
	fputs("],\n \"classes\": [", fp);
	for (int c = 0; c < r->n; c++) {
		const struct tn_map_class *k = &r->cls[c];
		fprintf(fp, "%s\n  {\"class\": %d, \"name\": ", c ? "," : "", c);
		tn_json_str(fp, names[c]);
		fprintf(fp, ", \"instances\": %" PRIu64 ", \"detections\": %" PRIu64, k->instances, k->detections);
		if (!k->instances) {
			fputs(", \"p\": null, \"r\": null, \"ap50\": null, \"ap50_95\": null, \"ap\": null}", fp);
			continue;
		}
		fprintf(fp, ", \"p\": %.17g, \"r\": %.17g, \"ap50\": %.17g, \"ap50_95\": %.17g, \"ap\": [", k->p,
			k->r, k->ap50, k->ap);
		for (int t = 0; t < TN_MAP_NIOU; t++)
			fprintf(fp, "%s%.17g", t ? ", " : "", k->ap_t[t]);
		fputs("]}", fp);
	}
	fputs("]}\n", fp);
}

void tn_map_write_csv(FILE *fp, const struct tn_map_result *r, const char *const *names)
{
	fputs("class,images,instances,detections,p,r,ap50,ap50_95\n", fp);
	fprintf(fp, "all,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.17g,%.17g,%.17g,%.17g\n", r->images,
		r->instances, r->detections, r->mp, r->mr, r->map50, r->map);
	for (int c = 0; c < r->n; c++) {
		const struct tn_map_class *k = &r->cls[c];
		tn_csv_field(fp, names[c]);
		fprintf(fp, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, r->images, k->instances, k->detections);
		if (k->instances)
			fprintf(fp, ",%.17g,%.17g,%.17g,%.17g\n", k->p, k->r, k->ap50, k->ap);
		else
			fputs(",,,,\n", fp);
	}
}
