/* Classifiers (torchvision names), the Keras GoogLeNet for counting, and torchvision's
 * ImageNet preprocessing.  Details that matter for agreement with PyTorch:
 * - GoogLeNet's max-pools use ceil_mode=True and its BatchNorms eps 0.001; torchvision's
 *   "5x5" branch is a 3x3 conv (branch3.1);
 * - Resize(256) gives the longer side int(256 * long / short) and resizes with PIL's
 *   bilinear filter (antialiased when shrinking); CenterCrop rounds half to even. */
#include "core/clock.h"
#include "image/resample.h"
#include "models/classify.h"

#include "core/error.h"
#include "core/tensor.h"
#include "models/mobilenetv2.h"
#include "models/registry.h"
#include "models/resnet.h"
#include "models/wmeta.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tn_cls_arch_parse(const char *s, enum tn_cls_arch *out)
{
	if (!strcmp(s, "googlenet"))
		*out = TN_CLS_GOOGLENET;
	else if (!strcmp(s, "resnet50"))
		*out = TN_CLS_RESNET50;
	else if (!strcmp(s, "mobilenet_v2") || !strcmp(s, "mobilenetv2"))
		*out = TN_CLS_MOBILENET_V2;
	else
		return tn_fail(TN_E_INVAL, "unknown classifier '%s' (googlenet, resnet50 or mobilenet_v2)", s);
	return 0;
}

const char *tn_cls_arch_name(enum tn_cls_arch a)
{
	return a == TN_CLS_GOOGLENET ? "googlenet" : a == TN_CLS_RESNET50 ? "resnet50" : "mobilenet_v2";
}

const char *tn_cls_fc_weight(enum tn_cls_arch a)
{
	return a == TN_CLS_MOBILENET_V2 ? "classifier.1.weight" : "fc.weight";
}

int tn_cls_guess_arch(const struct tn_ckpt *ck, enum tn_cls_arch *out)
{
	if (tn_ckpt_find(ck, "inception3a.branch1.conv.weight") && tn_ckpt_find(ck, "fc.weight"))
		*out = TN_CLS_GOOGLENET;
	else if (tn_ckpt_find(ck, "layer4.2.conv3.weight") && tn_ckpt_find(ck, "fc.weight"))
		*out = TN_CLS_RESNET50;
	else if (tn_ckpt_find(ck, "features.18.0.weight") && tn_ckpt_find(ck, "classifier.1.weight"))
		*out = TN_CLS_MOBILENET_V2;
	else
		return TN_E_FORMAT;
	return 0;
}

/* --- GoogLeNet (torchvision) ------------------------------------------------------------ */

/* BasicConv2d: conv (no bias) + BatchNorm(eps 0.001) + ReLU. */
static int basic_conv(struct tn_net *net, int x, const char *name, int cin, int cout, int k, int stride,
		      int pad)
{
	char c[TN_NAME_MAX], b[TN_NAME_MAX];
	snprintf(c, sizeof c, "%s.conv", name);
	snprintf(b, sizeof b, "%s.bn", name);
	return tn_net_conv(net, x, &(struct tn_conv_args){.name = c, .bn = b, .bn_eps = 0.001f, .cin = cin,
			.cout = cout, .groups = 1, .k = k, .stride = stride, .pad = pad, .act = TN_ACT_RELU});
}

static int maxpool(struct tn_net *net, int x, int k, int stride, int pad, int ceil_mode)
{
	int a[4] = {k, stride, pad, ceil_mode};
	return tn_net_op(net, TN_NODE_MAXPOOL, &x, 1, a, 4);
}

/* Inception widths: 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj. */
static const int inception_cfg[9][6] = {
	{64, 96, 128, 16, 32, 32},     {128, 128, 192, 32, 96, 64},   {192, 96, 208, 16, 48, 64},
	{160, 112, 224, 24, 64, 64},   {128, 128, 256, 24, 64, 64},   {112, 144, 288, 32, 64, 64},
	{256, 160, 320, 32, 128, 128}, {256, 160, 320, 32, 128, 128}, {384, 192, 384, 48, 128, 128},
};
static const char *const inception_names[9] = {"3a", "3b", "4a", "4b", "4c", "4d", "4e", "5a", "5b"};

static int inception_tv(struct tn_net *net, int x, const char *name, int cin, const int *w)
{
	char n[TN_NAME_MAX];
	int b[4];
	snprintf(n, sizeof n, "%s.branch1", name);
	b[0] = basic_conv(net, x, n, cin, w[0], 1, 1, 0);
	snprintf(n, sizeof n, "%s.branch2.0", name);
	b[1] = basic_conv(net, x, n, cin, w[1], 1, 1, 0);
	snprintf(n, sizeof n, "%s.branch2.1", name);
	b[1] = basic_conv(net, b[1], n, w[1], w[2], 3, 1, 1);
	snprintf(n, sizeof n, "%s.branch3.0", name);
	b[2] = basic_conv(net, x, n, cin, w[3], 1, 1, 0);
	snprintf(n, sizeof n, "%s.branch3.1", name);
	b[2] = basic_conv(net, b[2], n, w[3], w[4], 3, 1, 1); /* torchvision's known 3x3 */
	b[3] = maxpool(net, x, 3, 1, 1, 1);
	snprintf(n, sizeof n, "%s.branch4.1", name);
	b[3] = basic_conv(net, b[3], n, cin, w[5], 1, 1, 0);
	return tn_net_concat(net, b, 4);
}

static int googlenet(struct tn_net *net, int x, int nc)
{
	int y = basic_conv(net, x, "conv1", 3, 64, 7, 2, 3);
	y = maxpool(net, y, 3, 2, 0, 1);
	y = basic_conv(net, y, "conv2", 64, 64, 1, 1, 0);
	y = basic_conv(net, y, "conv3", 64, 192, 3, 1, 1);
	y = maxpool(net, y, 3, 2, 0, 1);
	int cin = 192;
	for (int i = 0; i < 9; i++) {
		char name[32];
		if (i == 2)
			y = maxpool(net, y, 3, 2, 0, 1);
		if (i == 7)
			y = maxpool(net, y, 2, 2, 0, 1);
		snprintf(name, sizeof name, "inception%s", inception_names[i]);
		const int *w = inception_cfg[i];
		y = inception_tv(net, y, name, cin, w);
		cin = w[0] + w[2] + w[4] + w[5];
	}
	y = tn_net_gap(net, y);
	tn_net_ignore(net, "aux1.");
	tn_net_ignore(net, "aux2.");
	return tn_net_linear(net, y, "fc", 1024, nc);
}

/* --- MobileNetV2 (torchvision): features.18 and the classifier on the shared features ---- */

static int mobilenet_v2(struct tn_net *net, int x, int nc)
{
	int y = tn_mbv2_build(net, x, &(struct tn_mbv2_cfg){.prefix = "", .names = TN_MBV2_TORCHVISION,
			.output_stride = 32}, NULL);
	y = tn_net_conv(net, y, &(struct tn_conv_args){.name = "features.18.0", .bn = "features.18.1",
			.cin = 320, .cout = 1280, .groups = 1, .k = 1, .stride = 1, .act = TN_ACT_RELU6});
	y = tn_net_gap(net, y);
	return tn_net_linear(net, y, "classifier.1", 1280, nc);
}

static int check_size(int num_classes, int in_h, int in_w)
{
	if (num_classes < 1 || num_classes > 100000)
		return tn_fail(TN_E_INVAL, "%d classes (must be 1 to 100000)", num_classes);
	if (in_h < 32 || in_w < 32 || in_h > 4096 || in_w > 4096)
		return tn_fail(TN_E_INVAL, "input size %dx%d (must be 32 to 4096)", in_w, in_h);
	return 0;
}

int tn_cls_build(struct tn_net *net, enum tn_cls_arch arch, int num_classes, int in_h, int in_w)
{
	int rc = check_size(num_classes, in_h, in_w);
	if (rc)
		return rc;
	tn_net_init(net);
	int x = tn_net_input(net, 3, in_h, in_w);
	if (arch == TN_CLS_GOOGLENET) {
		googlenet(net, x, num_classes);
	} else if (arch == TN_CLS_MOBILENET_V2) {
		mobilenet_v2(net, x, num_classes);
	} else {
		struct tn_resnet_cfg cfg = {.depth = 50};
		int outs[4];
		if ((rc = tn_resnet_build(net, x, "", &cfg, outs)))
			return rc;
		tn_net_linear(net, tn_net_gap(net, outs[3]), "fc", 2048, num_classes);
	}
	return tn_net_build_error(net, tn_cls_arch_name(arch));
}

/* --- Keras GoogLeNet (counting) ------------------------------------------------------------ */

static int kconv(struct tn_net *net, int x, const char *name, int cin, int cout, int k, int stride)
{
	/* Keras 'same' padding; at the sizes used the shapes equal a symmetric k/2 */
	return tn_net_conv(net, x, &(struct tn_conv_args){.name = name, .bias = 1, .cin = cin, .cout = cout,
			.groups = 1, .k = k, .stride = stride, .pad = k / 2, .act = TN_ACT_RELU});
}

static int inception_keras(struct tn_net *net, int x, const char *name, int cin, const int *w, int naive)
{
	char n[TN_NAME_MAX];
	int b[4];
	snprintf(n, sizeof n, "%s.branch1", name);
	b[0] = kconv(net, x, n, cin, w[0], 1, 1);
	int r2 = x, r3 = x, c2 = cin, c3 = cin;
	if (!naive) {
		snprintf(n, sizeof n, "%s.branch2.0", name);
		r2 = kconv(net, x, n, cin, c2 = w[1], 1, 1);
	}
	snprintf(n, sizeof n, "%s.branch2.1", name);
	b[1] = kconv(net, r2, n, c2, w[2], 3, 1);
	if (!naive) {
		snprintf(n, sizeof n, "%s.branch3.0", name);
		r3 = kconv(net, x, n, cin, c3 = w[3], 1, 1);
	}
	snprintf(n, sizeof n, "%s.branch3.1", name);
	b[2] = kconv(net, r3, n, c3, w[4], 5, 1);
	b[3] = maxpool(net, x, 3, 1, 1, 0);
	if (naive)
		return tn_net_concat(net, b, 4); /* the paper's naive module: the pooled map itself */
	snprintf(n, sizeof n, "%s.branch4.1", name);
	b[3] = kconv(net, b[3], n, cin, w[5], 1, 1);
	return tn_net_concat(net, b, 4);
}

/* AvgPool 5/3, 1x1 conv 128, Flatten + Dense 1024 (a conv over the whole 4x4 map has the same
 * weights and multiplies), Dense classes. */
static int aux_keras(struct tn_net *net, int x, const char *name, int cin, int nc)
{
	char n[TN_NAME_MAX];
	int a[4] = {5, 3, 0, 0};
	int y = tn_net_op(net, TN_NODE_AVGPOOL, &x, 1, a, 4);
	snprintf(n, sizeof n, "%s.conv", name);
	y = kconv(net, y, n, cin, 128, 1, 1);
	snprintf(n, sizeof n, "%s.fc1", name);
	y = tn_net_conv(net, y, &(struct tn_conv_args){.name = n, .bias = 1, .cin = 128, .cout = 1024,
			.groups = 1, .k = 4, .stride = 1, .act = TN_ACT_RELU});
	snprintf(n, sizeof n, "%s.fc2", name);
	return tn_net_linear(net, y, n, 1024, nc);
}

int tn_googlenet_keras_build(struct tn_net *net, int num_classes, int in_h, int in_w)
{
	int rc = check_size(num_classes, in_h, in_w);
	if (rc)
		return rc;
	if (in_h != 224 || in_w != 224)
		return tn_fail(TN_E_INVAL, "Keras GoogLeNet input %dx%d: its Flatten layers fix it to 224x224",
			       in_w, in_h);
	tn_net_init(net);
	int x = tn_net_input(net, 3, in_h, in_w);
	int y = kconv(net, x, "convolution-1", 3, 64, 7, 2);
	y = maxpool(net, y, 3, 2, 1, 0);
	y = kconv(net, y, "convolution-2", 64, 192, 3, 1);
	y = maxpool(net, y, 3, 2, 1, 0);
	int cin = 192;
	for (int i = 0; i < 9; i++) {
		char name[32];
		if (i == 2 || i == 7)
			y = maxpool(net, y, 3, 2, 1, 0);
		snprintf(name, sizeof name, "inception-%s", inception_names[i]);
		y = inception_keras(net, y, name, cin, inception_cfg[i], 0);
		cin = inception_cfg[i][0] + inception_cfg[i][2] + inception_cfg[i][4] + inception_cfg[i][5];
		if (i == 2)
			aux_keras(net, y, "AuxiliaryClassifier-1", cin, num_classes);
		if (i == 5)
			aux_keras(net, y, "AuxiliaryClassifier-2", cin, num_classes);
	}
	int a[4] = {in_h / 32, 1, 0, 0};
	y = tn_net_op(net, TN_NODE_AVGPOOL, &y, 1, a, 4);
	tn_net_linear(net, y, "linear", 1024, num_classes);
	return tn_net_build_error(net, "GoogLeNet");
}

int tn_inception_build(struct tn_net *net, int naive, int h, int w)
{
	if (h < 1 || w < 1 || h > 4096 || w > 4096)
		return tn_fail(TN_E_INVAL, "input size %dx%d (must be 1 to 4096)", w, h);
	tn_net_init(net);
	int x = tn_net_input(net, 192, h, w);
	inception_keras(net, x, "inception-3a", 192, inception_cfg[0], naive);
	return tn_net_build_error(net, "an Inception module");
}

/* --- preprocessing ------------------------------------------------------------------------ */

/* Python's round() of x / 2 for a whole x: half to even. */
static int half_round_even(int x)
{
	int q = x / 2;
	return (x % 2 && q % 2) ? q + 1 : q;
}

int tn_cls_preprocess(const struct tn_image *img, int resize, int crop, int transform_input, float *out)
{
	static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
	if (!img || !img->px || img->channels != 3 || img->w < 1 || img->h < 1)
		return tn_fail(TN_E_INVAL, "preprocess: not an RGB image");
	if (crop < 1 || resize < crop)
		return tn_fail(TN_E_INVAL, "preprocess: resize %d smaller than the crop %d", resize, crop);
	int shorter = img->w < img->h ? img->w : img->h, longer = img->w < img->h ? img->h : img->w;
	long nl = (long)((double)resize * longer / shorter);
	if (nl > 65535)
		return tn_fail(TN_E_INVAL, "image %dx%d: too elongated to resize", img->w, img->h);
	int dw = img->w <= img->h ? resize : (int)nl, dh = img->w <= img->h ? (int)nl : resize;
	struct tn_image r;
	int rc = tn_resize_bilinear_pil(img, dw, dh, &r);
	if (rc)
		return rc;
	int top = half_round_even(dh - crop), left = half_round_even(dw - crop);
	const size_t plane = (size_t)crop * crop;
	for (int c = 0; c < 3; c++) {
		/* transform_input: x * (std / 0.5) + (mean - 0.5) / 0.5, each constant rounded once */
		float ts = (float)(std[c] / 0.5), tb = (float)((mean[c] - 0.5) / 0.5);
		for (int y = 0; y < crop; y++)
			for (int x = 0; x < crop; x++) {
				float v = (float)r.px[((size_t)(top + y) * dw + (size_t)(left + x)) * 3 + (size_t)c] / 255.0f;
				v = (v - mean[c]) / std[c];
				if (transform_input)
					v = v * ts + tb;
				out[(size_t)c * plane + (size_t)y * crop + x] = v;
			}
	}
	tn_image_free(&r);
	return 0;
}

/* --- model files -------------------------------------------------------------------------- */

/* A square crop: in_h (0: the file's input_height). */
int tn_cls_from_w(const struct tn_family *fam, const struct tn_wfile *wf, int in_h, int in_w,
		  struct tn_wmodel *w)
{
	(void)in_w;
	memset(w, 0, sizeof *w);
	int rc = tn_cls_arch_parse(fam->arch, &w->cls_arch);
	if (rc || (rc = tn_wmeta_int(fam, wf, "num_classes", 1, 100000, -1, &w->num_classes)) ||
	    (rc = tn_wmeta_int(fam, wf, "input_height", 32, 4096, 224, &w->in_h)) ||
	    (rc = tn_wmeta_int(fam, wf, "resize", 32, 4096, 256, &w->resize)) ||
	    (rc = tn_wmeta_int(fam, wf, "transform_input", 0, 1, 0, &w->transform_input)))
		return rc;
	if (in_h)
		w->in_h = in_h;
	w->in_w = w->in_h;
	if ((rc = tn_cls_build(&w->net, w->cls_arch, w->num_classes, w->in_h, w->in_w))) {
		tn_fail_prefix(rc, wf->path);
		tn_net_free(&w->net);
	}
	return rc;
}

int tn_clsmodel_describe(struct tn_clsmodel *m, const char *path, int crop, int resize)
{
	memset(m, 0, sizeof *m);
	struct tn_wmodel w;
	const struct tn_family *fam;
	int rc = tn_wmeta_open(path, TN_TASK_CLASSIFY, "a classifier", 1, &m->wf, &fam, crop, crop, &w, &m->net);
	if (rc)
		goto fail;
	m->arch = w.cls_arch;
	m->num_classes = w.num_classes;
	m->crop = w.in_h;
	m->resize = w.resize;
	m->transform_input = w.transform_input;
	if (resize)
		m->resize = resize;
	else if (crop) /* keep torchvision's 256/224 ratio */
		m->resize = (int)((long)crop * 256 / 224);
	if (m->resize < m->crop) {
		rc = tn_fail(TN_E_INVAL, "%s: resize %d is smaller than the crop %d", path, m->resize, m->crop);
		goto fail;
	}
	if ((rc = tn_wmeta_names(fam, &m->wf, m->num_classes, &m->class_names)))
		goto fail;
	return 0;
fail:
	tn_clsmodel_close(m);
	return rc;
}

int tn_clsmodel_open(struct tn_clsmodel *m, const char *path, int crop, int resize)
{
	int rc = tn_clsmodel_describe(m, path, crop, resize);
	if (!rc && (rc = tn_wmeta_load_net(&m->net, &m->wf)))
		tn_clsmodel_close(m);
	return rc;
}

void tn_clsmodel_close(struct tn_clsmodel *m)
{
	tn_wmeta_release(m->class_names, m->num_classes, &m->net, &m->wf);
	memset(m, 0, sizeof *m);
}

int tn_clsmodel_predict(struct tn_clsmodel *m, const struct tn_image *img, float *logits)
{
	double t0 = tn_now_ms();
	int rc = tn_cls_preprocess(img, m->resize, m->crop, m->transform_input, tn_net_input_data(&m->net));
	if (rc)
		return rc;
	double t1 = tn_now_ms();
	tn_net_forward(&m->net);
	m->ms_preprocess = t1 - t0;
	m->ms_network = tn_now_ms() - t1;
	int c, h, w;
	const float *out = tn_net_output(&m->net, &c, &h, &w);
	memcpy(logits, out, sizeof(float) * (size_t)m->num_classes);
	return 0;
}

void tn_cls_softmax(const float *logits, int n, double *prob)
{
	double mx = logits[0], sum = 0.0;
	for (int i = 1; i < n; i++)
		mx = logits[i] > mx ? logits[i] : mx;
	for (int i = 0; i < n; i++)
		sum += prob[i] = exp((double)logits[i] - mx);
	for (int i = 0; i < n; i++)
		prob[i] /= sum;
}

void tn_cls_topk(const double *v, int n, int k, int *idx)
{
	/* k is small: insertion into a sorted list of k */
	int have = 0;
	for (int i = 0; i < n; i++) {
		int at = have;
		while (at > 0 && v[i] > v[idx[at - 1]])
			at--;
		if (at >= k)
			continue;
		int last = have < k ? have : k - 1;
		for (int j = last; j > at; j--)
			idx[j] = idx[j - 1];
		idx[at] = i;
		if (have < k)
			have++;
	}
}
