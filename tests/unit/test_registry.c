/* The model-family table: lookups, recognisers that each take their own family's checkpoint and
 * no other's, and cnn-w(5) naming every metadata key weightconv writes for each arch (the test
 * runs from the source tree's top, as tests/run starts it). */
#include "check.h"

#include "io/ckpt.h"
#include "models/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A checkpoint of just these tensor names (no data: the recognisers look at names only) */
static struct tn_ckpt fake_ckpt(const char *const *names, int n, char *yaml)
{
	struct tn_ckpt ck = {0};
	ck.t = calloc((size_t)n, sizeof *ck.t);
	for (int i = 0; i < n; i++)
		ck.t[i].name = (char *)names[i];
	ck.n = (size_t)n;
	ck.yaml_json = yaml;
	return ck;
}

static void test_lookup(void)
{
	for (int i = 0; i < tn_n_families; i++)
		CHECK(tn_family_find(tn_families[i].arch) == &tn_families[i], "find %s", tn_families[i].arch);
	CHECK(tn_family_find("mobilenetv2") == tn_family_find("mobilenet_v2"), "mobilenetv2 is mobilenet_v2");
	CHECK(!tn_family_find("yolov8") && !tn_family_find(NULL), "unknown arch: NULL");
	CHECK(!strcmp(tn_family_list(-1), "yolov5, deeplabv3plus, encnet, googlenet, resnet50, mobilenet_v2"),
	      "all archs: %s", tn_family_list(-1));
	CHECK(!strcmp(tn_family_list(TN_TASK_CLASSIFY), "googlenet, resnet50, mobilenet_v2"), "classifiers: %s",
	      tn_family_list(TN_TASK_CLASSIFY));
	for (int i = 0; i < tn_n_families; i++) {
		const struct tn_family *f = &tn_families[i];
		int fv = 0, arch = 0, n = 0;
		for (const struct tn_meta_key *k = f->keys; k->key; k++, n++) {
			fv += !strcmp(k->key, "format_version");
			arch += !strcmp(k->key, "arch") && !k->optional;
		}
		CHECK(fv == 1 && arch == 1 && n < 32, "%s writes format_version and arch once (%d keys)", f->arch, n);
	}
}

static void test_recognise(void)
{
	static const char *const yolo[] = {"model.0.conv.weight", "model.24.anchors"};
	static const char *const deeplab_mb[] = {"backbone.features.0.0.weight", "cls_conv.weight"};
	static const char *const deeplab_xc[] = {"backbone.block1.skip.weight", "cls_conv.weight"};
	static const char *const encnet[] = {"backbone.stem.0.weight", "decode_head.enc_module.encoding.0.codewords"};
	static const char *const googlenet[] = {"inception3a.branch1.conv.weight", "fc.weight"};
	static const char *const resnet50[] = {"layer4.2.conv3.weight", "fc.weight"};
	static const char *const mobilenet[] = {"features.18.0.weight", "classifier.1.weight"};
	static const char *const other[] = {"encoder.weight", "decoder.weight"};
	struct {
		const char *const *names;
		int n;
		char *yaml;
		const char *want;
	} cases[] = {
		{yolo, 2, NULL, "yolov5"},
		{other, 2, "{\"nc\": 80}", "yolov5"}, /* a pickled model carries its yaml */
		{deeplab_mb, 2, NULL, "deeplabv3plus"},
		{deeplab_xc, 2, NULL, "deeplabv3plus"},
		{encnet, 2, NULL, "encnet"},
		{googlenet, 2, NULL, "googlenet"},
		{resnet50, 2, NULL, "resnet50"},
		{mobilenet, 2, NULL, "mobilenet_v2"},
		{other, 2, NULL, NULL},
	};
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		struct tn_ckpt ck = fake_ckpt(cases[c].names, cases[c].n, cases[c].yaml);
		const struct tn_family *f = tn_family_recognise(&ck);
		int takers = 0;
		for (int i = 0; i < tn_n_families; i++)
			takers += tn_families[i].recognise(&ck);
		CHECK(cases[c].want ? f && !strcmp(f->arch, cases[c].want) && takers == 1 : !f && !takers,
		      "checkpoint %zu is %s (recognised as %s by %d)", c, cases[c].want ? cases[c].want : "nothing",
		      f ? f->arch : "nothing", takers);
		free(ck.t);
	}
}

/* The man page's paragraph on one arch: from its ".TP" tag line to the next ".TP" or ".PP". */
static char *man_section(const char *man, const char *arch)
{
	char tag[64];
	snprintf(tag, sizeof tag, "\n.TP\n.B %s\n", arch);
	const char *p = strstr(man, tag);
	if (!p) { /* the classifiers share one paragraph */
		snprintf(tag, sizeof tag, " %s", arch);
		p = strstr(man, "\n.TP\n.BR googlenet ");
		const char *eol = p ? strchr(p + 5, '\n') : NULL;
		const char *hit = p ? strstr(p + 5, tag) : NULL;
		if (!hit || hit > eol)
			p = NULL;
	}
	if (!p)
		return NULL;
	const char *body = strchr(p + 1, '\n');
	const char *end = body;
	while (end && strncmp(end, "\n.TP", 4) && strncmp(end, "\n.PP", 4))
		end = strchr(end + 1, '\n');
	size_t n = end ? (size_t)(end - body) : strlen(body);
	char *s = malloc(n + 1);
	memcpy(s, body, n);
	s[n] = 0;
	return s;
}

/* troff text names a key as ".B key" or ".BR key ..." */
static int mentions(const char *text, const char *key)
{
	char b[64], br[64];
	snprintf(b, sizeof b, "\n.B %s\n", key);
	snprintf(br, sizeof br, "\n.BR %s ", key);
	return strstr(text, b) || strstr(text, br);
}

/* a tagged paragraph (.TP, or .TQ for a second tag) explains the key */
static int defines(const char *text, const char *key)
{
	char tp[64], tq[64];
	snprintf(tp, sizeof tp, "\n.TP\n.B %s\n", key);
	snprintf(tq, sizeof tq, "\n.TQ\n.B %s\n", key);
	return strstr(text, tp) || strstr(text, tq);
}

static void test_man_page(void)
{
	FILE *fp = fopen("man/man5/cnn-w.5", "r");
	if (!fp) {
		CHECK(0, "man/man5/cnn-w.5 is readable (run from the source tree's top)");
		return;
	}
	static char man[1 << 17];
	size_t n = fread(man, 1, sizeof man - 1, fp);
	man[n] = 0;
	fclose(fp);
	const char *keys_list = strstr(man, "\nThe keys:\n");
	for (int i = 0; i < tn_n_families; i++) {
		const struct tn_family *f = &tn_families[i];
		char *sec = man_section(man, f->arch);
		CHECK(sec != NULL, "cnn-w(5) has a paragraph on %s", f->arch);
		for (const struct tn_meta_key *k = f->keys; sec && k->key; k++) {
			/* these three every arch writes, which the page says once */
			int common = !strcmp(k->key, "format_version") || !strcmp(k->key, "producer") ||
				     !strcmp(k->key, "source");
			CHECK((common || mentions(sec, k->key)) && keys_list && defines(keys_list, k->key),
			      "cnn-w(5) names %s's key %s and says what it means", f->arch, k->key);
		}
		free(sec);
	}
}

int main(void)
{
	test_lookup();
	test_recognise();
	test_man_page();
	return check_done();
}
