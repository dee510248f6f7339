#include "eval/miou.h"

#include "core/error.h"
#include "core/tensor.h"
#include "io/file.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const tn_voc_class_names[21] = {
	"background", "aeroplane", "bicycle", "bird",  "boat",        "bottle", "bus",
	"car",        "cat",       "chair",   "cow",   "diningtable", "dog",    "horse",
	"motorbike",  "person",    "pottedplant", "sheep", "sofa",    "train",  "tvmonitor",
};

/* ---- confusion matrix ---- */

int tn_confusion_init(struct tn_confusion *c, int n)
{
	memset(c, 0, sizeof *c);
	if (n < 1 || n > TN_MIOU_MAX_CLASSES)
		return tn_fail(TN_E_INVAL, "%d classes: must be 1 to %d", n, TN_MIOU_MAX_CLASSES);
	c->counts = calloc((size_t)n * (size_t)n, sizeof *c->counts);
	if (!c->counts)
		return tn_fail(TN_E_NOMEM, "confusion matrix of %d classes: out of memory", n);
	c->n = n;
	return 0;
}

void tn_confusion_free(struct tn_confusion *c)
{
	free(c->counts);
	c->counts = NULL;
	c->n = 0;
	c->images = 0;
}

int tn_confusion_add(struct tn_confusion *c, const uint8_t *pred, const uint8_t *gt, int w, int h,
		     const char *pred_name)
{
	size_t npix;
	if (w < 0 || h < 0 || tn_mul_size((size_t)w, (size_t)h, &npix))
		return tn_fail(TN_E_INVAL, "%s: bad size %dx%d", pred_name, w, h);
	unsigned n = (unsigned)c->n;
	/* Checked first so a bad prediction leaves the matrix as it was.  Upstream would
	 * silently count such a pixel in another cell or crash in its reshape. */
	for (size_t i = 0; i < npix; i++) {
		if (pred[i] >= n) {
			size_t y = i / (size_t)(w ? w : 1), x = i - y * (size_t)(w ? w : 1);
			return tn_fail(TN_E_FORMAT,
				       "%s: prediction value %u at (x=%zu, y=%zu), but there are only %u "
				       "classes (0..%u)",
				       pred_name, pred[i], x, y, n, n - 1);
		}
	}
	uint64_t *counts = c->counts;
	for (size_t i = 0; i < npix; i++) {
		unsigned g = gt[i];
		if (g < n) /* 255 and every other value >= n are "ignore" */
			counts[g * n + pred[i]]++;
	}
	c->images++;
	return 0;
}

int tn_confusion_merge(struct tn_confusion *dst, const struct tn_confusion *src,
		       const char *src_name)
{
	if (src->n != dst->n)
		return tn_fail(TN_E_INVAL, "%s: %d classes, but the states before it have %d", src_name,
			       src->n, dst->n);
	size_t nn = (size_t)dst->n * (size_t)dst->n;
	uint64_t t;
	for (size_t i = 0; i < nn; i++)
		if (__builtin_add_overflow(dst->counts[i], src->counts[i], &t))
			return tn_fail(TN_E_INVAL, "%s: a count overflows 64 bits when merged", src_name);
	if (__builtin_add_overflow(dst->images, src->images, &t))
		return tn_fail(TN_E_INVAL, "%s: the image count overflows 64 bits when merged", src_name);
	for (size_t i = 0; i < nn; i++)
		dst->counts[i] += src->counts[i];
	dst->images += src->images;
	return 0;
}

uint64_t tn_confusion_pixels(const struct tn_confusion *c)
{
	uint64_t s = 0;
	size_t nn = (size_t)c->n * (size_t)c->n;
	for (size_t i = 0; i < nn; i++)
		s += c->counts[i];
	return s;
}

/* ---- state file ---- */

#define STATE_MAGIC "cnnkit-miou-state"
#define STATE_VERSION 1

void tn_confusion_write_state(const struct tn_confusion *c, FILE *fp)
{
	int n = c->n;
	fprintf(fp, "%s %d\nnum_classes %d\nimages %" PRIu64 "\npixels %" PRIu64 "\n", STATE_MAGIC,
		STATE_VERSION, n, c->images, tn_confusion_pixels(c));
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			fprintf(fp, "%" PRIu64 "%c", c->counts[(size_t)i * n + j], j + 1 < n ? ' ' : '\n');
	fputs("end\n", fp);
}

struct cursor {
	const char *p, *end;
	const char *name;
	int line;
};

/* The next line without its newline (and a CR before it); 0 at the end of the buffer. */
static int next_line(struct cursor *cur, const char **s, size_t *len)
{
	if (cur->p >= cur->end)
		return 0;
	const char *nl = memchr(cur->p, '\n', (size_t)(cur->end - cur->p));
	const char *e = nl ? nl : cur->end;
	*s = cur->p;
	*len = (size_t)(e - cur->p);
	if (*len && (*s)[*len - 1] == '\r')
		(*len)--;
	cur->p = nl ? nl + 1 : cur->end;
	cur->line++;
	return 1;
}

/* Parses a decimal uint64 at *s (no sign); advances *s.  0 on success. */
static int parse_u64(const char **s, const char *e, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	if (p >= e || *p < '0' || *p > '9')
		return -1;
	while (p < e && *p >= '0' && *p <= '9') {
		if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			return -1;
		p++;
	}
	*s = p;
	*out = v;
	return 0;
}

/* A line "<key> <u64>" exactly. */
static int keyed_u64(struct cursor *cur, const char *key, uint64_t *out)
{
	const char *s;
	size_t len;
	size_t kl = strlen(key);
	if (!next_line(cur, &s, &len))
		return tn_fail(TN_E_FORMAT, "%s: ends before the '%s' line (truncated?)", cur->name, key);
	const char *e = s + len;
	if (len <= kl || memcmp(s, key, kl) != 0 || s[kl] != ' ')
		return tn_fail(TN_E_FORMAT, "%s: line %d: expected '%s <number>'", cur->name, cur->line, key);
	s += kl + 1;
	if (parse_u64(&s, e, out) || s != e)
		return tn_fail(TN_E_FORMAT, "%s: line %d: '%s' needs a whole number below 2^64", cur->name,
			       cur->line, key);
	return 0;
}

static int parse_header(struct cursor *cur)
{
	const char *s;
	size_t len;
	size_t ml = strlen(STATE_MAGIC);
	if (!next_line(cur, &s, &len) || len <= ml || memcmp(s, STATE_MAGIC " ", ml + 1) != 0)
		return tn_fail(TN_E_FORMAT,
			       "%s: not an evaluate-miou state file (no '" STATE_MAGIC
			       "' first line; make one with --save-state)",
			       cur->name);
	const char *p = s + ml + 1, *e = s + len;
	uint64_t v;
	if (parse_u64(&p, e, &v) || p != e)
		return tn_fail(TN_E_FORMAT, "%s: line 1: bad format version", cur->name);
	if (v != STATE_VERSION)
		return tn_fail(TN_E_UNSUPPORTED,
			       "%s: state format version %" PRIu64 ", but this evaluate-miou reads version %d "
			       "(save the state again with this version)",
			       cur->name, v, STATE_VERSION);
	return 0;
}

int tn_confusion_parse_state(const uint8_t *buf, size_t len, const char *name,
			     struct tn_confusion *out)
{
	struct cursor cur = {(const char *)buf, (const char *)buf + len, name, 0};
	uint64_t n, images, pixels;
	memset(out, 0, sizeof *out);
	if (memchr(buf, '\0', len))
		return tn_fail(TN_E_FORMAT, "%s: not an evaluate-miou state file (binary data)", name);
	int rc = parse_header(&cur);
	if (rc)
		return rc;
	if ((rc = keyed_u64(&cur, "num_classes", &n)))
		return rc;
	if (n < 1 || n > TN_MIOU_MAX_CLASSES)
		return tn_fail(TN_E_FORMAT, "%s: line %d: num_classes %" PRIu64 " is not from 1 to %d", name,
			       cur.line, n, TN_MIOU_MAX_CLASSES);
	if ((rc = keyed_u64(&cur, "images", &images)) || (rc = keyed_u64(&cur, "pixels", &pixels)))
		return rc;
	if ((rc = tn_confusion_init(out, (int)n)))
		return rc;
	out->images = images;
	uint64_t sum = 0;
	for (uint64_t i = 0; i < n; i++) {
		const char *s;
		size_t l;
		if (!next_line(&cur, &s, &l)) {
			rc = tn_fail(TN_E_FORMAT, "%s: ends after %" PRIu64 " of %" PRIu64 " matrix rows (truncated?)",
				     name, i, n);
			goto fail;
		}
		const char *e = s + l;
		for (uint64_t j = 0; j < n; j++) {
			if (j > 0) {
				if (s >= e || *s != ' ') {
					rc = tn_fail(TN_E_FORMAT, "%s: line %d: %" PRIu64 " counts, expected %" PRIu64,
						     name, cur.line, j, n);
					goto fail;
				}
				s++;
			}
			uint64_t *v = &out->counts[i * n + j];
			if (parse_u64(&s, e, v)) {
				rc = tn_fail(TN_E_FORMAT,
					     "%s: line %d: count %" PRIu64 " is not a whole number below 2^64", name,
					     cur.line, j + 1);
				goto fail;
			}
			if (__builtin_add_overflow(sum, *v, &sum)) {
				rc = tn_fail(TN_E_FORMAT, "%s: line %d: the counts overflow 64 bits", name, cur.line);
				goto fail;
			}
		}
		if (s != e) {
			rc = tn_fail(TN_E_FORMAT, "%s: line %d: more than %" PRIu64 " counts or stray text", name,
				     cur.line, n);
			goto fail;
		}
	}
	const char *s;
	size_t l;
	if (!next_line(&cur, &s, &l) || l != 3 || memcmp(s, "end", 3) != 0) {
		rc = tn_fail(TN_E_FORMAT, "%s: line %d: expected 'end' after the matrix (truncated?)", name,
			     cur.line + 1);
		goto fail;
	}
	if (cur.p != cur.end) {
		rc = tn_fail(TN_E_FORMAT, "%s: line %d: text after 'end'", name, cur.line + 1);
		goto fail;
	}
	if (sum != pixels) {
		rc = tn_fail(TN_E_FORMAT,
			     "%s: the counts add up to %" PRIu64 ", not the %" PRIu64 " pixels recorded (damaged file)",
			     name, sum, pixels);
		goto fail;
	}
	return 0;
fail:
	tn_confusion_free(out);
	return rc;
}

/* ---- metrics ---- */

/* NumPy's pairwise_sum for float64: 8 accumulators in blocks of up to 128, halves above. */
double tn_numpy_sum(const double *a, size_t n)
{
	if (n < 8) {
		double r = 0.;
		for (size_t i = 0; i < n; i++)
			r += a[i];
		return r;
	}
	if (n <= 128) {
		double r[8];
		size_t i;
		for (int k = 0; k < 8; k++)
			r[k] = a[k];
		for (i = 8; i < n - (n % 8); i += 8)
			for (int k = 0; k < 8; k++)
				r[k] += a[i + k];
		double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
		for (; i < n; i++)
			res += a[i];
		return res;
	}
	size_t n2 = n / 2;
	n2 -= n2 % 8;
	return tn_numpy_sum(a, n2) + tn_numpy_sum(a + n2, n - n2);
}

/* np.nanmean: NaNs replaced by 0 for the (pairwise) sum, divided by the count of the rest. */
static double nanmean(const double *v, double *tmp, int n)
{
	int cnt = 0;
	for (int i = 0; i < n; i++) {
		tmp[i] = isnan(v[i]) ? 0.0 : v[i];
		cnt += !isnan(v[i]);
	}
	return cnt ? tn_numpy_sum(tmp, (size_t)n) / (double)cnt : NAN;
}

static double ratio(double num, double den, int nan_absent)
{
	if (nan_absent)
		return den == 0 ? NAN : num / den;
	return num / (den > 1 ? den : 1); /* upstream np.maximum(den, 1) */
}

int tn_miou_compute(const struct tn_confusion *c, int nan_absent, struct tn_miou *m)
{
	int n = c->n;
	memset(m, 0, sizeof *m);
	m->cls = calloc((size_t)n, sizeof *m->cls);
	double *v = calloc(4 * (size_t)n, sizeof *v);
	if (!m->cls || !v) {
		free(m->cls);
		free(v);
		m->cls = NULL;
		return tn_fail(TN_E_NOMEM, "metrics: out of memory");
	}
	double *iou = v, *rec = v + n, *prec = v + 2 * n, *tmp = v + 3 * n;
	m->n = n;
	m->nan_absent = nan_absent;
	m->images = c->images;
	uint64_t trace = 0, total = 0;
	for (int i = 0; i < n; i++) {
		struct tn_miou_class *k = &m->cls[i];
		k->tp = c->counts[(size_t)i * n + i];
		for (int j = 0; j < n; j++) {
			k->gt_pixels += c->counts[(size_t)i * n + j];
			k->pred_pixels += c->counts[(size_t)j * n + i];
		}
		trace += k->tp;
		total += k->gt_pixels;
	}
	for (int i = 0; i < n; i++) {
		struct tn_miou_class *k = &m->cls[i];
		/* float64 arithmetic as upstream does on its float histogram (exact below 2^53) */
		double tp = (double)k->tp, g = (double)k->gt_pixels, p = (double)k->pred_pixels;
		k->iou = iou[i] = ratio(tp, g + p - tp, nan_absent);
		k->recall = rec[i] = ratio(tp, g, nan_absent);
		k->precision = prec[i] = ratio(tp, p, nan_absent);
	}
	m->miou = nanmean(iou, tmp, n);
	m->mpa = nanmean(rec, tmp, n);
	m->mprecision = nanmean(prec, tmp, n);
	m->accuracy = ratio((double)trace, (double)total, nan_absent);
	m->pixels = total;
	free(v);
	return 0;
}

void tn_miou_free(struct tn_miou *m)
{
	free(m->cls);
	m->cls = NULL;
}

/* ---- Python number formatting ---- */

/* Shortest decimal digits of x > 0 that read back as x: digits in dig (NUL-terminated), and
 * decpt such that x = 0.<dig> * 10^decpt.  Among the shortest, the nearest to x. */
static void shortest_digits(double x, char *dig, int *decpt)
{
	char tmp[40];
	for (int p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof tmp, "%.*e", p - 1, x);
		char *e = strchr(tmp, 'e');
		int ex = atoi(e + 1);
		if (strtod(tmp, NULL) != x) {
			/* The correctly rounded p digits miss; at a power of two the neighbour on
			 * the wider side of the rounding interval may still hit. */
			uint64_t mant = 0;
			for (char *q = tmp; q < e; q++)
				if (*q != '.')
					mant = mant * 10 + (uint64_t)(*q - '0');
			int up = strtod(tmp, NULL) < x;
			uint64_t cand[2] = {up ? mant + 1 : mant - 1, up ? mant - 1 : mant + 1};
			int hit = 0;
			for (int k = 0; k < 2 && !hit; k++) {
				char c2[48];
				snprintf(c2, sizeof c2, "%" PRIu64 "e%d", cand[k], ex - (p - 1));
				if (cand[k] > 0 && strtod(c2, NULL) == x) {
					snprintf(tmp, sizeof tmp, "%" PRIu64, cand[k]);
					/* a carry (999+1) only happens where fewer digits would have hit */
					int len = (int)strlen(tmp);
					if (len != p)
						continue;
					memcpy(dig, tmp, (size_t)p + 1);
					*decpt = ex + 1;
					hit = 1;
				}
			}
			if (!hit)
				continue;
		} else {
			int k = 0;
			for (char *q = tmp; q < e; q++)
				if (*q != '.')
					dig[k++] = *q;
			dig[k] = 0;
			*decpt = ex + 1;
		}
		/* drop trailing zeros ("1.0e+02" at p=2 cannot happen at the first hit, but be sure) */
		size_t l = strlen(dig);
		while (l > 1 && dig[l - 1] == '0')
			dig[--l] = 0;
		return;
	}
}

void tn_py_repr(double x, char *buf, size_t size)
{
	if (isnan(x)) {
		snprintf(buf, size, "nan");
		return;
	}
	if (isinf(x)) {
		snprintf(buf, size, x < 0 ? "-inf" : "inf");
		return;
	}
	if (x == 0) {
		snprintf(buf, size, signbit(x) ? "-0.0" : "0.0");
		return;
	}
	char dig[24] = "0", out[48];
	int decpt = 0, k = 0;
	shortest_digits(fabs(x), dig, &decpt);
	int nd = (int)strlen(dig);
	if (x < 0)
		out[k++] = '-';
	if (decpt <= -4 || decpt > 16) {
		/* exponent form as Python: "1e-05", "1.5e+16" */
		out[k++] = dig[0];
		if (nd > 1) {
			out[k++] = '.';
			memcpy(out + k, dig + 1, (size_t)nd - 1);
			k += nd - 1;
		}
		int ex = decpt - 1;
		k += snprintf(out + k, sizeof out - (size_t)k, "e%c%02d", ex < 0 ? '-' : '+', ex < 0 ? -ex : ex);
	} else if (decpt <= 0) {
		out[k++] = '0';
		out[k++] = '.';
		for (int i = 0; i < -decpt; i++)
			out[k++] = '0';
		memcpy(out + k, dig, (size_t)nd);
		k += nd;
	} else if (decpt < nd) {
		memcpy(out + k, dig, (size_t)decpt);
		k += decpt;
		out[k++] = '.';
		memcpy(out + k, dig + decpt, (size_t)(nd - decpt));
		k += nd - decpt;
	} else {
		memcpy(out + k, dig, (size_t)nd);
		k += nd;
		for (int i = nd; i < decpt; i++)
			out[k++] = '0';
		out[k++] = '.';
		out[k++] = '0';
	}
	out[k] = 0;
	snprintf(buf, size, "%s", out);
}

void tn_py_round2_repr(double x, char *buf, size_t size)
{
	/* np.round(x, 2): multiply by 10**2, round half to even, divide back */
	tn_py_repr(rint(x * 100.0) / 100.0, buf, size);
}

/* ---- reports ---- */

void tn_miou_write_upstream(FILE *fp, const struct tn_miou *m, const char *const *names)
{
	char a[48], b[48], c[48];
	for (int i = 0; i < m->n; i++) {
		const struct tn_miou_class *k = &m->cls[i];
		tn_py_round2_repr(k->iou * 100, a, sizeof a);
		tn_py_round2_repr(k->recall * 100, b, sizeof b);
		tn_py_round2_repr(k->precision * 100, c, sizeof c);
		fprintf(fp, "===>%s:\tIou-%s; Recall (equal to the PA)-%s; Precision-%s\n", names[i], a, b, c);
	}
	tn_py_round2_repr(m->miou * 100, a, sizeof a);
	tn_py_round2_repr(m->mpa * 100, b, sizeof b);
	tn_py_round2_repr(m->accuracy * 100, c, sizeof c);
	fprintf(fp, "===> mIoU: %s; mPA: %s; Accuracy: %s\n", a, b, c);
}

static void pct(char *buf, size_t size, double x)
{
	if (isnan(x))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.2f", x * 100);
}

void tn_miou_write_table(FILE *fp, const struct tn_miou *m, const char *const *names)
{
	int w = 5;
	for (int i = 0; i < m->n; i++) {
		int l = (int)strlen(names[i]);
		if (l > w)
			w = l;
	}
	char a[32], b[32], c[32];
	fprintf(fp, "%-*s %9s %9s %9s %14s %14s\n", w, "class", "IoU", "Recall", "Precision", "GT pixels",
		"pred pixels");
	for (int i = 0; i < m->n; i++) {
		const struct tn_miou_class *k = &m->cls[i];
		pct(a, sizeof a, k->iou);
		pct(b, sizeof b, k->recall);
		pct(c, sizeof c, k->precision);
		fprintf(fp, "%-*s %9s %9s %9s %14" PRIu64 " %14" PRIu64 "\n", w, names[i], a, b, c,
			k->gt_pixels, k->pred_pixels);
	}
	pct(a, sizeof a, m->miou);
	pct(b, sizeof b, m->mpa);
	pct(c, sizeof c, m->accuracy);
	fprintf(fp, "mIoU %s  mPA %s  accuracy %s  (%" PRIu64 " image%s, %" PRIu64 " pixels%s)\n", a, b,
		c, m->images, m->images == 1 ? "" : "s", m->pixels,
		m->nan_absent ? ", absent classes skipped" : "");
}

static void json_num(FILE *fp, double x)
{
	if (isnan(x) || isinf(x))
		fputs("null", fp);
	else
		fprintf(fp, "%.17g", x);
}

/* `"key": value` for each of n keys, after `first` and then ", ": the per-class and the summary
 * objects share them. */
static void json_fields(FILE *fp, const char *first, int n, const char *const *keys, const double *v)
{
	for (int j = 0; j < n; j++) {
		fprintf(fp, "%s\"%s\": ", j ? ", " : first, keys[j]);
		json_num(fp, v[j]);
	}
}

void tn_miou_write_json(FILE *fp, const struct tn_miou *m, const char *const *names)
{
	fprintf(fp, "{\"num_classes\": %d, \"classes\": [", m->n);
	for (int i = 0; i < m->n; i++) {
		const struct tn_miou_class *k = &m->cls[i];
		fputs(i ? ",\n  {\"name\": " : "\n  {\"name\": ", fp);
		tn_json_str(fp, names[i]);
		json_fields(fp, ", ", 3, (const char *const[]){"iou", "recall", "precision"},
			    (const double[]){k->iou, k->recall, k->precision});
		fprintf(fp, ", \"gt_pixels\": %" PRIu64 ", \"pred_pixels\": %" PRIu64 "}", k->gt_pixels,
			k->pred_pixels);
	}
	json_fields(fp, "],\n ", 4, (const char *const[]){"miou", "mpa", "mprecision", "accuracy"},
		    (const double[]){m->miou, m->mpa, m->mprecision, m->accuracy});
	fprintf(fp, ", \"pixels\": %" PRIu64 ", \"images\": %" PRIu64 ", \"nan_absent\": %s}\n", m->pixels,
		m->images, m->nan_absent ? "true" : "false");
}

static void csv_num(FILE *fp, double x)
{
	if (!isnan(x))
		fprintf(fp, "%.17g", x);
}

/* ",iou,recall,precision" of a class or of the mean. */
static void csv_rates(FILE *fp, double iou, double recall, double precision)
{
	const double v[3] = {iou, recall, precision};
	for (int j = 0; j < 3; j++) {
		fputc(',', fp);
		csv_num(fp, v[j]);
	}
}

void tn_miou_write_csv(FILE *fp, const struct tn_miou *m, const char *const *names)
{
	fputs("class,iou,recall,precision,gt_pixels,pred_pixels\n", fp);
	for (int i = 0; i < m->n; i++) {
		const struct tn_miou_class *k = &m->cls[i];
		tn_csv_field(fp, names[i]);
		csv_rates(fp, k->iou, k->recall, k->precision);
		fprintf(fp, ",%" PRIu64 ",%" PRIu64 "\n", k->gt_pixels, k->pred_pixels);
	}
	fputs("mean", fp);
	csv_rates(fp, m->miou, m->mpa, m->mprecision);
	fprintf(fp, ",%" PRIu64 ",%" PRIu64 "\n", m->pixels, m->pixels);
	fputs("accuracy,", fp);
	csv_num(fp, m->accuracy);
	fprintf(fp, ",,,%" PRIu64 ",\n", m->pixels);
}

void tn_confusion_write_csv(FILE *fp, const struct tn_confusion *c, const char *const *names)
{
	fputc(' ', fp);
	for (int i = 0; i < c->n; i++) {
		fputc(',', fp);
		tn_csv_field(fp, names[i]);
	}
	fputs("\r\n", fp);
	for (int i = 0; i < c->n; i++) {
		tn_csv_field(fp, names[i]);
		for (int j = 0; j < c->n; j++)
			fprintf(fp, ",%" PRIu64, c->counts[(size_t)i * c->n + j]);
		fputs("\r\n", fp);
	}
}
