/* lib/eval/miou: confusion counting, upstream and mmseg metrics, Python number formatting,
 * the state file and the report formats. */
#include "check.h"

#include "core/error.h"
#include "eval/miou.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The hand-made case of tests/evaluate-miou.bats (NumPy 1.24 prints mIoU 54.38 for it), as one 65x1 row, 4 classes:
 * class 0: 10 right; class 1: 29 right, 5 called 3; class 3: 9 right, 6 called 1;
 * class 2 absent from both; 4 pixels labelled 255 (predicted 3) and 2 labelled 7 (ignored). */
static void known_case(uint8_t *gt, uint8_t *pred, int *len)
{
	int k = 0;
	for (int i = 0; i < 10; i++, k++)
		gt[k] = 0, pred[k] = 0;
	for (int i = 0; i < 29; i++, k++)
		gt[k] = 1, pred[k] = 1;
	for (int i = 0; i < 5; i++, k++)
		gt[k] = 1, pred[k] = 3;
	for (int i = 0; i < 9; i++, k++)
		gt[k] = 3, pred[k] = 3;
	for (int i = 0; i < 6; i++, k++)
		gt[k] = 3, pred[k] = 1;
	for (int i = 0; i < 4; i++, k++)
		gt[k] = 255, pred[k] = 3;
	for (int i = 0; i < 2; i++, k++)
		gt[k] = 7, pred[k] = 0;
	*len = k;
}

static char *mem_text(void (*fn)(FILE *, const void *), const void *arg, size_t *len)
{
	char *buf = NULL;
	FILE *fp = open_memstream(&buf, len);
	fn(fp, arg);
	fclose(fp);
	return buf;
}

static void state_writer(FILE *fp, const void *c)
{
	tn_confusion_write_state(c, fp);
}

static const char *const names4[4] = {"zero", "one, with a comma", "two \"quoted\"", "three"};

static void confusion_writer(FILE *fp, const void *c)
{
	tn_confusion_write_csv(fp, c, names4);
}

static void upstream_writer(FILE *fp, const void *m)
{
	tn_miou_write_upstream(fp, m, names4);
}

static int parse_fails(const char *text, const char *want)
{
	struct tn_confusion c;
	int rc = tn_confusion_parse_state((const uint8_t *)text, strlen(text), "s.state", &c);
	if (rc == 0) {
		tn_confusion_free(&c);
		return 0;
	}
	return strstr(tn_errmsg(), want) != NULL && strncmp(tn_errmsg(), "s.state: ", 9) == 0;
}

static void test_repr(void)
{
	static const struct {
		double x;
		const char *want;
	} cases[] = {
		{72.5, "72.5"}, {100.0, "100.0"}, {0.0, "0.0"}, {-0.0, "-0.0"}, {0.1, "0.1"},
		{1e16, "1e+16"}, {1e-5, "1e-05"}, {123456789012345678.0, "1.2345678901234568e+17"},
		{0.0001, "0.0001"}, {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
		{0.30000000000000004, "0.30000000000000004"}, {9007199254740992.0, "9007199254740992.0"},
		{-1.5, "-1.5"}, {1e22, "1e+22"}, {9223372036854775808.0, "9.223372036854776e+18"},
		{9999999999999998.0, "9999999999999998.0"}, {0.001, "0.001"},
		{1.0 / 3, "0.3333333333333333"}, {2.2250738585072014e-308, "2.2250738585072014e-308"},
		{123.456, "123.456"}, {1000000000000000.2, "1000000000000000.2"}, {NAN, "nan"},
		{INFINITY, "inf"}, {-INFINITY, "-inf"},
	};
	char buf[48];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		tn_py_repr(cases[i].x, buf, sizeof buf);
		CHECK(strcmp(buf, cases[i].want) == 0, "repr(%.17g) = %s (got %s)", cases[i].x, cases[i].want, buf);
	}
	/* str(round(np.float64(v), 2)), values from NumPy 1.24 */
	static const struct {
		double x;
		const char *want;
	} rcases[] = {
		{54.375, "54.38"}, {2.675, "2.68"}, {12.345, "12.34"}, {0.005, "0.0"}, {99.995, "100.0"},
		{72.499999, "72.5"}, {100.0, "100.0"}, {0.0, "0.0"}, {33.33333333333333, "33.33"},
		{54.37499999999999, "54.37"}, {81.35593220338983, "81.36"}, {NAN, "nan"},
	};
	for (size_t i = 0; i < sizeof rcases / sizeof rcases[0]; i++) {
		tn_py_round2_repr(rcases[i].x, buf, sizeof buf);
		CHECK(strcmp(buf, rcases[i].want) == 0, "str(round(%.17g, 2)) = %s (got %s)", rcases[i].x,
		      rcases[i].want, buf);
	}
}

static void test_numpy_sum(void)
{
	/* np.sum([1/(i+1) for i in range(n)]) from NumPy 1.24; n=200 differs from a plain loop */
	static const struct {
		size_t n;
		double want;
	} cases[] = {{5, 2.283333333333333}, {10, 2.9289682539682538}, {200, 5.878030948121444},
		     {257, 6.128236013400938}};
	double a[300];
	for (int i = 0; i < 300; i++)
		a[i] = 1.0 / (i + 1);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		double s = tn_numpy_sum(a, cases[i].n);
		CHECK(s == cases[i].want, "pairwise sum of 1/(i+1), n=%zu: %.17g (got %.17g)", cases[i].n,
		      cases[i].want, s);
	}
}

static void test_counts_and_metrics(void)
{
	uint8_t gt[80], pred[80];
	int len;
	known_case(gt, pred, &len);
	struct tn_confusion c;
	CHECK(tn_confusion_init(&c, 0) != 0, "0 classes refused");
	CHECK(tn_confusion_init(&c, 257) != 0, "257 classes refused");
	CHECK(tn_confusion_init(&c, 4) == 0, "4 classes");
	CHECK(tn_confusion_add(&c, pred, gt, len, 1, "p.png") == 0, "add the known case");
	CHECK(c.images == 1 && tn_confusion_pixels(&c) == 59, "59 pixels counted, 255 and 7 ignored (%llu)",
	      (unsigned long long)tn_confusion_pixels(&c));
	CHECK(c.counts[1 * 4 + 3] == 5 && c.counts[3 * 4 + 1] == 6 && c.counts[1 * 4 + 1] == 29,
	      "rows are GT, columns prediction");

	pred[40] = 4;
	CHECK(tn_confusion_add(&c, pred, gt, 21, 3, "bad.png") == TN_E_FORMAT,
	      "prediction value 4 of 4 classes refused");
	CHECK(strstr(tn_errmsg(), "bad.png: prediction value 4 at (x=19, y=1)") != NULL, "message: %s",
	      tn_errmsg());
	CHECK(c.images == 1 && tn_confusion_pixels(&c) == 59, "a refused image changes nothing");
	pred[40] = 1;

	struct tn_miou m;
	CHECK(tn_miou_compute(&c, 0, &m) == 0, "upstream metrics");
	CHECK(m.cls[0].iou == 1.0 && m.cls[1].iou == 29.0 / 40 && m.cls[2].iou == 0.0 &&
		      m.cls[3].iou == 9.0 / 20,
	      "IoU 1, 29/40, 0 (absent), 9/20");
	CHECK(m.cls[1].recall == 29.0 / 34 && m.cls[1].precision == 29.0 / 35, "recall, precision of class 1");
	CHECK(m.cls[2].recall == 0.0 && m.cls[2].precision == 0.0, "absent class counts 0");
	CHECK(m.miou == (1.0 + 0.725 + 0.0 + 0.45) / 4, "mIoU averages the absent class as 0 (%.17g)", m.miou);
	CHECK(m.accuracy == 48.0 / 59 && m.pixels == 59, "accuracy 48/59");
	size_t tl;
	char *txt = mem_text(upstream_writer, &m, &tl);
	CHECK(strstr(txt, "===>one, with a comma:\tIou-72.5; Recall (equal to the PA)-85.29; Precision-82.86\n") &&
		      strstr(txt, "===>zero:\tIou-100.0; Recall (equal to the PA)-100.0; Precision-100.0\n") &&
		      strstr(txt, "===>two \"quoted\":\tIou-0.0; Recall (equal to the PA)-0.0; Precision-0.0\n") &&
		      strstr(txt, "===> mIoU: 54.38; mPA: 61.32; Accuracy: 81.36\n"),
	      "upstream lines");
	if (!strstr(txt, "mIoU: 54.38"))
		printf("# got:\n%s", txt);
	free(txt);
	tn_miou_free(&m);

	CHECK(tn_miou_compute(&c, 1, &m) == 0, "mmseg metrics");
	CHECK(isnan(m.cls[2].iou) && isnan(m.cls[2].recall) && isnan(m.cls[2].precision),
	      "absent class is NaN");
	CHECK(m.miou == (1.0 + 0.725 + 0.45) / 3, "mIoU skips it (%.17g)", m.miou);
	txt = mem_text(upstream_writer, &m, &tl);
	CHECK(strstr(txt, "Iou-nan") && strstr(txt, "===> mIoU: 72.5;"), "nan-absent lines: nan, mIoU 72.5");
	free(txt);
	tn_miou_free(&m);

	/* no pixels at all */
	struct tn_confusion e;
	tn_confusion_init(&e, 2);
	tn_miou_compute(&e, 0, &m);
	CHECK(m.miou == 0 && m.accuracy == 0, "empty matrix: upstream gives 0");
	tn_miou_free(&m);
	tn_miou_compute(&e, 1, &m);
	CHECK(isnan(m.miou) && isnan(m.accuracy), "empty matrix: mmseg gives NaN");
	tn_miou_free(&m);

	/* the confusion CSV */
	txt = mem_text(confusion_writer, &c, &tl);
	CHECK(strcmp(txt, " ,zero,\"one, with a comma\",\"two \"\"quoted\"\"\",three\r\n"
			  "zero,10,0,0,0\r\n"
			  "\"one, with a comma\",0,29,0,5\r\n"
			  "\"two \"\"quoted\"\"\",0,0,0,0\r\n"
			  "three,0,6,0,9\r\n") == 0,
	      "confusion_matrix.csv: CRLF, minimal quoting");
	free(txt);

	/* state round trip and merge */
	char *st = mem_text(state_writer, &c, &tl);
	struct tn_confusion r;
	CHECK(tn_confusion_parse_state((uint8_t *)st, tl, "s.state", &r) == 0, "state reads back");
	CHECK(r.n == 4 && r.images == 1 && memcmp(r.counts, c.counts, 16 * sizeof *c.counts) == 0,
	      "same counts and image count");
	CHECK(tn_confusion_merge(&r, &c, "t.state") == 0 && r.images == 2 && r.counts[5] == 58, "merge adds");
	CHECK(tn_confusion_merge(&r, &e, "e.state") != 0 && strstr(tn_errmsg(), "e.state: 2 classes"),
	      "merge of 2 into 4 classes refused: %s", tn_errmsg());
	r.counts[0] = UINT64_MAX;
	CHECK(tn_confusion_merge(&r, &c, "o.state") != 0 && r.images == 2, "overflow refused, nothing changed");
	tn_confusion_free(&r);
	tn_confusion_free(&e);

	/* damaged states */
	CHECK(parse_fails("", "not an evaluate-miou state"), "empty file");
	CHECK(parse_fails("P5\n1 1\n255\n", "not an evaluate-miou state"), "other file");
	CHECK(parse_fails("cnnkit-miou-state 2\n", "version 2"), "future version");
	CHECK(parse_fails("cnnkit-miou-state 1\nnum_classes 0\n", "num_classes 0"), "0 classes");
	CHECK(parse_fails("cnnkit-miou-state 1\nnum_classes 2\nimages 1\npixels 3\n1 2\n", "truncated"),
	      "missing row");
	CHECK(parse_fails("cnnkit-miou-state 1\nnum_classes 2\nimages 1\npixels 3\n1 2\n0 0\n", "'end'"),
	      "missing end");
	CHECK(parse_fails("cnnkit-miou-state 1\nnum_classes 2\nimages 1\npixels 4\n1 2\n0 0\nend\n", "add up"),
	      "sum differs from pixels");
	CHECK(parse_fails("cnnkit-miou-state 1\nnum_classes 2\nimages 1\npixels 3\n1 2 0\n0 0\nend\n",
			  "line 5"),
	      "extra count");
	CHECK(parse_fails("cnnkit-miou-state 1\nnum_classes 2\nimages 1\npixels 3\n1 -2\n0 0\nend\n", "line 5"),
	      "negative count");
	CHECK(parse_fails("cnnkit-miou-state 1\nnum_classes 2\nimages 1\npixels 0\n"
			  "18446744073709551616 0\n0 0\nend\n",
			  "below 2^64"),
	      "count above 2^64");
	CHECK(parse_fails("cnnkit-miou-state 1\nnum_classes 2\nimages 1\npixels 3\n1 2\n0 0\nend\nx", "after"),
	      "text after end");
	CHECK(!parse_fails("cnnkit-miou-state 1\nnum_classes 2\nimages 1\npixels 3\n1 2\n0 0\nend\n", ""),
	      "a good small state parses");
	free(st);
	tn_confusion_free(&c);
}

int main(void)
{
	test_repr();
	test_numpy_sum();
	test_counts_and_metrics();
	return check_done();
}
