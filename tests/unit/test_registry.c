/* The model-family table: lookups, recognisers that each take their own family's checkpoint and
 * no other's, and cnn-w(5) naming every metadata key weightconv writes for each arch (the test
 * runs from the source tree's top, as tests/run starts it). */
#include "check.h"

#include "core/error.h"
#include "io/ckpt.h"
#include "io/file.h"
#include "models/registry.h"
#include "models/wmeta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
			arch += !strcmp(k->key, "arch") && k->flags == (TN_META_WRITE | TN_META_READ);
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
			if (!(k->flags & TN_META_WRITE))
				continue;
			/* these three every arch writes, which the page says once */
			int common = !strcmp(k->key, "format_version") || !strcmp(k->key, "producer") ||
				     !strcmp(k->key, "source");
			CHECK((common || mentions(sec, k->key)) && keys_list && defines(keys_list, k->key),
			      "cnn-w(5) names %s's key %s and says what it means", f->arch, k->key);
		}
		free(sec);
		/* a key the reader reads but weightconv does not write is still one the page explains */
		for (const struct tn_meta_key *k = f->keys; k->key; k++)
			CHECK((k->flags & (TN_META_WRITE | TN_META_READ)) && (k->flags & TN_META_WRITE || (keys_list &&
			      defines(keys_list, k->key))), "%s reads key %s, which it writes or cnn-w(5) explains",
			      f->arch, k->key);
	}
}

/* A value for each key weightconv writes: 3 classes, a 64x64 input */
static const char *sample(const struct tn_family *f, const char *key, const char *yaml)
{
	static const char *const vals[][2] = {
		{"format_version", "1"}, {"downsample", "16"}, {"num_classes", "3"}, {"input_height", "64"},
		{"input_width", "64"}, {"letterbox_fill", "128"}, {"add_lateral", "1"}, {"resize", "73"},
		{"transform_input", "1"}, {"producer", "test"}, {"source", "test"},
		{"class_names", "[\"a\", \"b\", \"c\"]"},
	};
	if (!strcmp(key, "arch"))
		return f->arch;
	if (!strcmp(key, "normalize"))
		return f->normalize;
	if (!strcmp(key, "backbone"))
		return f->kind == TN_FAMILY_ENCNET ? "resnet50" : "mobilenet";
	if (!strcmp(key, "yaml"))
		return yaml;
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
		if (!strcmp(vals[i][0], key))
			return vals[i][1];
	return NULL; /* a key this test has no value for (an optional one is left out) */
}

/* Each row's builder on a .w of just the metadata weightconv writes: since the readers fetch keys
 * only through tn_wmeta_*, which refuses a key the row does not list as read, a reader that
 * drifts from its row fails here. */
static void test_builders(void)
{
	char dir[] = "/tmp/test_registry.XXXXXX", path[64];
	CHECK(mkdtemp(dir) != NULL, "a temporary folder");
	snprintf(path, sizeof path, "%s/m.w", dir);
	uint8_t *cfg;
	size_t len;
	char *yaml = NULL;
	if (!tn_read_all("scripts/ref/yolov5/cfg/yolov5n.yaml", 1 << 20, &cfg, &len)) {
		yaml = malloc(len + 8);
		snprintf(yaml, len + 8, "nc: 3\n%s", (const char *)cfg); /* the first nc wins */
		free(cfg);
	}
	CHECK(yaml != NULL, "scripts/ref/yolov5/cfg/yolov5n.yaml is readable");
	for (int i = 0; yaml && i < tn_n_families; i++) {
		const struct tn_family *f = &tn_families[i];
		const char *keys[32], *vals[32];
		size_t n = 0;
		for (const struct tn_meta_key *k = f->keys; k->key; k++) {
			const char *v = k->flags & TN_META_WRITE ? sample(f, k->key, yaml) : NULL;
			CHECK(v || (k->flags & TN_META_OPTIONAL) || !(k->flags & TN_META_WRITE), "a value for %s", k->key);
			if (v) {
				keys[n] = k->key;
				vals[n++] = v;
			}
		}
		struct tn_wfile wf;
		struct tn_wmodel w;
		char **names = NULL;
		int rc = tn_wfile_write(path, NULL, 0, keys, vals, n, TN_DTYPE_F32);
		if (!rc && !(rc = tn_wfile_open(path, &wf))) {
			if (!(rc = tn_wmeta_check_format(f, &wf)) && !(rc = f->build_from_w(f, &wf, 0, 0, &w))) {
				rc = tn_wmeta_names(f, &wf, w.num_classes, &names);
				CHECK(w.num_classes == 3 && w.in_h == 64 && w.in_w == 64 && w.net.n > 0,
				      "%s: 3 classes at 64x64 (%d, %dx%d)", f->arch, w.num_classes, w.in_h, w.in_w);
				tn_wmeta_names_free(names, w.num_classes);
				tn_net_free(&w.net);
			}
			tn_wfile_close(&wf);
		}
		CHECK(!rc, "%s's reader reads only keys its row lists: %s", f->arch, rc ? tn_errmsg() : "ok");
	}
	free(yaml);
	unlink(path);
	rmdir(dir);
}

/* The getters refuse a key the row does not list, and for any family one not every row writes. */
static void test_unlisted_key(void)
{
	char dir[] = "/tmp/test_registry.XXXXXX", path[64];
	CHECK(mkdtemp(dir) != NULL, "a temporary folder");
	snprintf(path, sizeof path, "%s/m.w", dir);
	const char *keys[] = {"arch", "num_classes", "resize"}, *vals[] = {"deeplabv3plus", "3", "73"};
	struct tn_wfile wf;
	CHECK(!tn_wfile_write(path, NULL, 0, keys, vals, 3, TN_DTYPE_F32) && !tn_wfile_open(path, &wf), "a .w");
	const struct tn_family *dl = tn_family_find("deeplabv3plus");
	const char *v;
	int n = 0;
	CHECK(!tn_wmeta_int(dl, &wf, "num_classes", 1, 255, -1, &n) && n == 3, "deeplabv3plus reads num_classes");
	CHECK(tn_wmeta_int(dl, &wf, "resize", 1, 255, -1, &n) == TN_E_INVAL && strstr(tn_errmsg(), "internal error"),
	      "deeplabv3plus does not read resize: %s", tn_errmsg());
	CHECK(!tn_wmeta_str(NULL, &wf, "num_classes", &v) && !strcmp(v, "3"), "every family writes num_classes");
	CHECK(tn_wmeta_str(NULL, &wf, "resize", &v) == TN_E_INVAL, "not every family writes resize");
	tn_wfile_close(&wf);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_lookup();
	test_recognise();
	test_man_page();
	test_builders();
	test_unlisted_key();
	return check_done();
}
