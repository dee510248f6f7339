/* YOLOv5 from its yaml.  The modules and their state_dict names:
 *   Conv          model.i.conv (no bias) + model.i.bn (eps 1e-3), SiLU
 *   C3            cv1, cv2, cv3 + m.j.cv1/cv2 (Bottleneck, e=1); cv3(cat(m(cv1 x), cv2 x))
 *   Bottleneck    cv1 (1x1), cv2 (3x3), + x when shortcut and c1 == c2
 *   SPPF / SPP    cv1, three chained 5x5 max-pools (SPPF) or pools 5/9/13 (SPP), cv2 on the concat
 *   Focus         conv.conv/conv.bn on the 2x2 space-to-depth of x
 *   Concat, nn.Upsample (nearest), Detect (m.j 1x1 convs with bias, anchors [nl][na][2])
 *   DWConv        Conv with groups gcd(c1, c2)
 *   CrossConv     cv1 Conv (1,k) stride (1,s), cv2 Conv (k,1) stride (s,1) groups g; + x if shortcut, c1 == c2
 *   C3x           C3 whose m.j are CrossConv(c_, c_, 3, 1, g, 1.0, shortcut)
 *   GhostConv     cv1 Conv(c1, c2/2, k, s, g), cv2 depthwise 5x5 Conv on it; cat(cv1, cv2)
 *   GhostBottleneck  conv.0 GhostConv(c1, c2/2), conv.1 depthwise kxk stride 2 (no act) when s == 2,
 *                 conv.2 GhostConv(c2/2, c2, no act); plus x, or when s == 2 plus shortcut.0
 *                 (depthwise kxk stride 2, no act) then shortcut.1 (1x1, no act)
 *   C3Ghost       C3 whose m.j are GhostBottleneck(c_, c_)
 *   nn.ConvTranspose2d [c2, k, s, p, output_padding, groups, bias] (model.i.weight [c1, c2/g, k, k])
 *   DWConvTranspose2d  [c2, k, s, p, output_padding], groups gcd(c1, c2), with bias
 *   SEAttention, ECAAttention, EffectiveSE, ShuffleAttention (the attention-module tutorial's): input channels ch[f],
 *   output unchanged; hidden sizes from the weights when available (see yolo.h). */
#include "models/yolo.h"

#include "core/error.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_LAYERS 512

struct ctx {
	struct tn_net *net;
	const char *name;
	yaml_document_t *doc;
	const struct tn_param_source *shapes;
	json_t *attrs;
	double gd, gw;
	int nc, na;
	const yaml_node_t *anchors;
	int out[MAX_LAYERS]; /* node of each layer's output */
	int ch[MAX_LAYERS];  /* its channels */
	int line;            /* yaml line of the layer being built */
	int last_is_detect;  /* the layer built last is Detect (the net's output) */
	int layer;
	struct tn_yolo_info *info;
};

static int err(const struct ctx *c, const char *fmt, const char *a)
{
	char msg[400];
	snprintf(msg, sizeof msg, fmt, a);
	return tn_fail(TN_E_FORMAT, "%s: line %d: layer %d: %s", c->name, c->line, c->layer, msg);
}

/* --- yaml values ------------------------------------------------------------------------ */

static const yaml_node_t *node(const struct ctx *c, yaml_node_item_t id)
{
	return yaml_document_get_node(c->doc, id);
}

static const yaml_node_t *map_get(const struct ctx *c, const yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = node(c, p->key);
		if (k && k->type == YAML_SCALAR_NODE && strcmp((const char *)k->data.scalar.value, key) == 0)
			return node(c, p->value);
	}
	return NULL;
}

static int seq_len(const yaml_node_t *n)
{
	return n && n->type == YAML_SEQUENCE_NODE ? (int)(n->data.sequence.items.top - n->data.sequence.items.start)
						  : -1;
}

static const yaml_node_t *seq_at(const struct ctx *c, const yaml_node_t *n, int i)
{
	return i < seq_len(n) ? node(c, n->data.sequence.items.start[i]) : NULL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int is_plain(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static int as_number(const yaml_node_t *n, double *v)
{
	const char *s = scalar(n);
	if (!s || !is_plain(n) || !*s)
		return -1;
	char *end;
	*v = strtod(s, &end);
	return *end || !isfinite(*v) ? -1 : 0;
}

static int as_int(const yaml_node_t *n, int *v)
{
	double d;
	if (as_number(n, &d) || d != floor(d) || fabs(d) > 1e6)
		return -1;
	*v = (int)d;
	return 0;
}

/* Python truthiness of a yaml arg: True/False/true/false, numbers. */
static int as_bool(const yaml_node_t *n, int *v)
{
	const char *s = scalar(n);
	double d;
	if (!s)
		return -1;
	if (!strcmp(s, "True") || !strcmp(s, "true")) {
		*v = 1;
		return 0;
	}
	if (!strcmp(s, "False") || !strcmp(s, "false")) {
		*v = 0;
		return 0;
	}
	if (as_number(n, &d) == 0) {
		*v = d != 0;
		return 0;
	}
	return -1;
}

static int is_none(const yaml_node_t *n)
{
	const char *s = scalar(n);
	return s && (!strcmp(s, "None") || !strcmp(s, "null") || !strcmp(s, "~") || !*s);
}

/* args[i], or NULL when it is absent or None and the caller's default applies. */
static const yaml_node_t *arg_at(const struct ctx *c, const yaml_node_t *args, int i)
{
	const yaml_node_t *n = seq_at(c, args, i);
	return n && !is_none(n) ? n : NULL;
}

/* args[i] as an int, bool or number into *v, else the default; an error on a bad value. */
static int arg_int(struct ctx *c, const yaml_node_t *args, int i, int dflt, int *v, const char *what)
{
	const yaml_node_t *n = arg_at(c, args, i);
	*v = dflt;
	return n && as_int(n, v) ? err(c, "argument '%s' is not a whole number", what) : 0;
}

static int arg_double(struct ctx *c, const yaml_node_t *args, int i, double dflt, double *v, const char *what)
{
	const yaml_node_t *n = arg_at(c, args, i);
	*v = dflt;
	return n && as_number(n, v) ? err(c, "argument '%s' is not a number", what) : 0;
}

static int arg_bool(struct ctx *c, const yaml_node_t *args, int i, int dflt, int *v, const char *what)
{
	const yaml_node_t *n = arg_at(c, args, i);
	*v = dflt;
	return n && as_bool(n, v) ? err(c, "argument '%s' is not True or False", what) : 0;
}

/* --- module building -------------------------------------------------------------------- */

static int make_divisible(double x)
{
	return (int)ceil(x / 8.0) * 8;
}

static int gcd(int a, int b)
{
	while (b) {
		int t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* Conv with a kh x kw kernel and 'same' padding (k/2 per axis, as autopad). */
static int conv_hw(struct ctx *c, int x, const char *prefix, int c1, int c2, int kh, int kw, int sh, int sw, int g,
		   enum tn_act act)
{
	char cn[TN_NAME_MAX], bn[TN_NAME_MAX];
	snprintf(cn, sizeof cn, "%s.conv", prefix);
	snprintf(bn, sizeof bn, "%s.bn", prefix);
	return tn_net_conv(c->net, x, &(struct tn_conv_args){.name = cn, .bn = bn, .bn_eps = 1e-3f, .cin = c1,
			.cout = c2, .groups = g, .kh = kh, .kw = kw, .stride = sh, .pad = kh / 2, .stride_w = sw,
			.pad_w = kw / 2, .act = act});
}

static int conv_act(struct ctx *c, int x, const char *prefix, int c1, int c2, int k, int s, int p, int g,
		    enum tn_act act)
{
	char cn[TN_NAME_MAX], bn[TN_NAME_MAX];
	snprintf(cn, sizeof cn, "%s.conv", prefix);
	snprintf(bn, sizeof bn, "%s.bn", prefix);
	if (p < 0)
		p = k / 2;
	return tn_net_conv(c->net, x, &(struct tn_conv_args){.name = cn, .bn = bn, .bn_eps = 1e-3f, .cin = c1,
			.cout = c2, .groups = g, .k = k, .stride = s, .pad = p, .act = act});
}

static int conv(struct ctx *c, int x, const char *prefix, int c1, int c2, int k, int s, int p, int g)
{
	return conv_act(c, x, prefix, c1, c2, k, s, p, g, TN_ACT_SILU);
}

static int crossconv(struct ctx *c, int x, const char *prefix, int c1, int c2, int k, int s, int g, double e,
		     int shortcut)
{
	char p1[TN_NAME_MAX], p2[TN_NAME_MAX];
	int c_ = (int)(c2 * e);
	snprintf(p1, sizeof p1, "%s.cv1", prefix);
	snprintf(p2, sizeof p2, "%s.cv2", prefix);
	int y = conv_hw(c, x, p1, c1, c_, 1, k, 1, s, 1, TN_ACT_SILU);
	y = conv_hw(c, y, p2, c_, c2, k, 1, s, 1, g, TN_ACT_SILU);
	if (shortcut && c1 == c2)
		tn_net_set_residual(c->net, y, x, 0);
	return y;
}

/* GhostConv: half the channels from cv1, the other half a depthwise 5x5 of them. */
static int ghostconv(struct ctx *c, int x, const char *prefix, int c1, int c2, int k, int s, int g, enum tn_act act)
{
	char p[TN_NAME_MAX];
	int c_ = c2 / 2;
	snprintf(p, sizeof p, "%s.cv1", prefix);
	int a = conv_act(c, x, p, c1, c_, k, s, -1, g, act);
	snprintf(p, sizeof p, "%s.cv2", prefix);
	int b = conv_act(c, a, p, c_, c_, 5, 1, -1, c_, act);
	int xs[2] = {a, b};
	return tn_net_concat(c->net, xs, 2);
}

static int ghost_bottleneck(struct ctx *c, int x, const char *prefix, int c1, int c2, int k, int s)
{
	char p[TN_NAME_MAX];
	int c_ = c2 / 2;
	snprintf(p, sizeof p, "%s.conv.0", prefix);
	int y = ghostconv(c, x, p, c1, c_, 1, 1, 1, TN_ACT_SILU);
	if (s == 2) {
		snprintf(p, sizeof p, "%s.conv.1", prefix);
		y = conv_act(c, y, p, c_, c_, k, s, -1, c_, TN_ACT_NONE);
	}
	snprintf(p, sizeof p, "%s.conv.2", prefix);
	y = ghostconv(c, y, p, c_, c2, 1, 1, 1, TN_ACT_NONE);
	if (s != 2) {
		int xs[2] = {y, x};
		return tn_net_op(c->net, TN_NODE_ADD, xs, 2, NULL, 0);
	}
	snprintf(p, sizeof p, "%s.shortcut.0", prefix);
	int sc = conv_act(c, x, p, c1, c1, k, s, -1, c1, TN_ACT_NONE);
	snprintf(p, sizeof p, "%s.shortcut.1", prefix);
	sc = conv_act(c, sc, p, c1, c2, 1, 1, -1, 1, TN_ACT_NONE);
	tn_net_set_residual(c->net, sc, y, 0);
	return sc;
}

static int bottleneck(struct ctx *c, int x, const char *prefix, int c1, int c2, int shortcut, int g, double e)
{
	char p1[TN_NAME_MAX], p2[TN_NAME_MAX];
	int c_ = (int)(c2 * e);
	snprintf(p1, sizeof p1, "%s.cv1", prefix);
	snprintf(p2, sizeof p2, "%s.cv2", prefix);
	int y = conv(c, x, p1, c1, c_, 1, 1, -1, 1);
	y = conv(c, y, p2, c_, c2, 3, 1, -1, g);
	if (shortcut && c1 == c2)
		tn_net_set_residual(c->net, y, x, 0);
	return y;
}

enum c3_kind { C3_PLAIN, C3_X, C3_GHOST };

static int c3(struct ctx *c, int x, const char *prefix, int c1, int c2, int n, int shortcut, int g, double e,
	      enum c3_kind kind)
{
	char p[TN_NAME_MAX];
	int c_ = (int)(c2 * e);
	snprintf(p, sizeof p, "%s.cv1", prefix);
	int a = conv(c, x, p, c1, c_, 1, 1, -1, 1);
	for (int j = 0; j < n; j++) {
		snprintf(p, sizeof p, "%s.m.%d", prefix, j);
		if (kind == C3_X)
			a = crossconv(c, a, p, c_, c_, 3, 1, g, 1.0, shortcut);
		else if (kind == C3_GHOST)
			a = ghost_bottleneck(c, a, p, c_, c_, 3, 1);
		else
			a = bottleneck(c, a, p, c_, c_, shortcut, g, 1.0);
	}
	snprintf(p, sizeof p, "%s.cv2", prefix);
	int b = conv(c, x, p, c1, c_, 1, 1, -1, 1);
	int xs[2] = {a, b};
	int cat = tn_net_concat(c->net, xs, 2);
	snprintf(p, sizeof p, "%s.cv3", prefix);
	return conv(c, cat, p, 2 * c_, c2, 1, 1, -1, 1);
}

static int pool(struct ctx *c, int x, int k)
{
	int args[3] = {k, 1, k / 2};
	return tn_net_op(c->net, TN_NODE_MAXPOOL, &x, 1, args, 3);
}

/* SPPF (chained 5x5 pools) or SPP (pools of each size in ks on x). */
static int spp(struct ctx *c, int x, const char *prefix, int c1, int c2, const int *ks, int nk, int chained)
{
	char p[TN_NAME_MAX];
	int c_ = c1 / 2;
	snprintf(p, sizeof p, "%s.cv1", prefix);
	int y = conv(c, x, p, c1, c_, 1, 1, -1, 1);
	int parts[TN_NODE_MAX_IN] = {y};
	for (int j = 0; j < nk; j++)
		parts[j + 1] = pool(c, chained ? parts[j] : y, ks[j]);
	int cat = tn_net_concat(c->net, parts, nk + 1);
	snprintf(p, sizeof p, "%s.cv2", prefix);
	return conv(c, cat, p, c_ * (nk + 1), c2, 1, 1, -1, 1);
}

/* --- one builder per module (parse_model's branches) ------------------------------------ */

/* One layer as parse_model reads it, before the module's own arguments. */
struct layer {
	const char *mod;
	const yaml_node_t *args;
	int from[TN_NODE_MAX_IN], nf; /* layer numbers; -1 is the input image */
	int n;                        /* repeats, scaled by depth_multiple */
	int x, c1;                    /* the first input's node and channels */
	int c2;                       /* output channels: args[0] width-scaled (SCALED), else c1 */
	int kind;                     /* the table's variant for builders shared by modules */
	char prefix[TN_NAME_MAX];     /* model.i */
};

/* Modules outside the C3 family repeat as an nn.Sequential when n > 1: model.i.j. */
static const char *repeat_name(const struct layer *l, int j, char *buf, size_t size)
{
	if (l->n > 1)
		snprintf(buf, size, "%s.%d", l->prefix, j);
	else
		snprintf(buf, size, "%s", l->prefix);
	return buf;
}

/* kind 1: DWConv, whose groups are gcd(c1, c2). */
static int build_conv(struct ctx *c, struct layer *l)
{
	char pj[TN_NAME_MAX];
	int k, s, p, g;
	if (arg_int(c, l->args, 1, 1, &k, "k") || arg_int(c, l->args, 2, 1, &s, "s") ||
	    arg_int(c, l->args, 3, -1, &p, "p") || arg_int(c, l->args, 4, 1, &g, "g"))
		return -1;
	if (l->kind)
		g = gcd(l->c1, l->c2);
	if (k < 1 || k > 15 || s < 1 || s > 8 || p < -1 || p > 15 || g < 1 || l->c1 % g || l->c2 % g)
		return err(c, "%s: kernel, stride, padding or groups out of range", l->mod);
	int y = l->x;
	for (int j = 0; j < l->n; j++)
		y = conv(c, y, repeat_name(l, j, pj, sizeof pj), j ? l->c2 : l->c1, l->c2, k, s, p, g);
	return y;
}

/* kind: enum c3_kind, the blocks in m. */
static int build_c3(struct ctx *c, struct layer *l)
{
	int sc, g;
	double e;
	if (arg_bool(c, l->args, 1, 1, &sc, "shortcut") || arg_int(c, l->args, 2, 1, &g, "g") ||
	    arg_double(c, l->args, 3, 0.5, &e, "e"))
		return -1;
	if (!(e > 0.0 && e <= 16.0)) /* also NaN: the width below must convert to an int */
		return err(c, "%s: expansion e out of range (0, 16]", l->mod);
	int c_ = (int)(l->c2 * e);
	if (c_ < 1 || c_ > 100000 || g < 1 || c_ % g || (l->kind == C3_GHOST && c_ % 4))
		return err(c, "%s: hidden width, groups or ghost halves do not divide", l->mod);
	return c3(c, l->x, l->prefix, l->c1, l->c2, l->n, sc, g, e, (enum c3_kind)l->kind);
}

static int build_crossconv(struct ctx *c, struct layer *l)
{
	char pj[TN_NAME_MAX];
	int k, s, g, sc;
	double e;
	if (arg_int(c, l->args, 1, 3, &k, "k") || arg_int(c, l->args, 2, 1, &s, "s") ||
	    arg_int(c, l->args, 3, 1, &g, "g") || arg_double(c, l->args, 4, 1.0, &e, "e") ||
	    arg_bool(c, l->args, 5, 0, &sc, "shortcut"))
		return -1;
	if (!(e > 0.0 && e <= 16.0))
		return err(c, "%s: expansion e out of range (0, 16]", l->mod);
	int c_ = (int)(l->c2 * e);
	if (k < 1 || k > 15 || s < 1 || s > 8 || g < 1 || c_ < 1 || c_ > 100000 || c_ % g || l->c2 % g)
		return err(c, "%s: kernel, stride, groups or width out of range", l->mod);
	int y = l->x;
	for (int j = 0; j < l->n; j++)
		y = crossconv(c, y, repeat_name(l, j, pj, sizeof pj), j ? l->c2 : l->c1, l->c2, k, s, g, e, sc);
	return y;
}

static int build_ghostconv(struct ctx *c, struct layer *l)
{
	char pj[TN_NAME_MAX];
	int k, s, g, act;
	if (arg_int(c, l->args, 1, 1, &k, "k") || arg_int(c, l->args, 2, 1, &s, "s") ||
	    arg_int(c, l->args, 3, 1, &g, "g") || arg_bool(c, l->args, 4, 1, &act, "act"))
		return -1;
	if (k < 1 || k > 15 || s < 1 || s > 8 || g < 1 || l->c1 % g || (l->c2 / 2) % g || l->c2 % 2)
		return err(c, "%s: kernel, stride or groups out of range, or odd channels", l->mod);
	int y = l->x;
	for (int j = 0; j < l->n; j++)
		y = ghostconv(c, y, repeat_name(l, j, pj, sizeof pj), j ? l->c2 : l->c1, l->c2, k, s, g,
			      act ? TN_ACT_SILU : TN_ACT_NONE);
	return y;
}

static int build_ghost_bottleneck(struct ctx *c, struct layer *l)
{
	char pj[TN_NAME_MAX];
	int k, s;
	if (arg_int(c, l->args, 1, 3, &k, "k") || arg_int(c, l->args, 2, 1, &s, "s"))
		return -1;
	if (k < 1 || k > 15 || s < 1 || s > 8 || l->c2 % 4)
		return err(c, "%s: kernel or stride out of range, or channels not a multiple of 4", l->mod);
	int y = l->x;
	for (int j = 0; j < l->n; j++)
		y = ghost_bottleneck(c, y, repeat_name(l, j, pj, sizeof pj), j ? l->c2 : l->c1, l->c2, k, s);
	return y;
}

/* kind 1: DWConvTranspose2d, [c2, k, s, p, output_padding] with groups gcd(c1, c2) and a bias. */
static int build_convtranspose(struct ctx *c, struct layer *l)
{
	char pj[TN_NAME_MAX];
	int dw = l->kind;
	int k, s, p, op, g = 1, bias = 1, d = 1;
	if (arg_int(c, l->args, 1, dw ? 1 : -1, &k, "k") || arg_int(c, l->args, 2, 1, &s, "s") ||
	    arg_int(c, l->args, 3, 0, &p, "p") || arg_int(c, l->args, 4, 0, &op, "output_padding"))
		return -1;
	if (!dw && (arg_int(c, l->args, 5, 1, &g, "groups") || arg_bool(c, l->args, 6, 1, &bias, "bias") ||
		    arg_int(c, l->args, 7, 1, &d, "dilation")))
		return -1;
	if (dw)
		g = gcd(l->c1, l->c2);
	if (k < 1 || k > 16 || s < 1 || s > 16 || p < 0 || p > 16 || op < 0 || op >= s || d != 1 || g < 1 ||
	    l->c1 % g || l->c2 % g)
		return err(c, "%s: kernel, stride, padding, output_padding or groups out of range (dilation 1 only)",
			   l->mod);
	int y = l->x;
	for (int j = 0; j < l->n; j++)
		y = tn_net_deconv(c->net, y, repeat_name(l, j, pj, sizeof pj), bias, j ? l->c2 : l->c1, l->c2, k, s,
				  p, op, g);
	return y;
}

static int build_bottleneck(struct ctx *c, struct layer *l)
{
	char pj[TN_NAME_MAX];
	int sc, g;
	if (arg_bool(c, l->args, 1, 1, &sc, "shortcut") || arg_int(c, l->args, 2, 1, &g, "g"))
		return -1;
	int y = l->x;
	for (int j = 0; j < l->n; j++)
		y = bottleneck(c, y, repeat_name(l, j, pj, sizeof pj), j ? l->c2 : l->c1, l->c2, sc, g, 0.5);
	return y;
}

static int build_sppf(struct ctx *c, struct layer *l)
{
	int k;
	if (arg_int(c, l->args, 1, 5, &k, "k"))
		return -1;
	if (k < 1 || k % 2 == 0 || k > 31)
		return err(c, "%s: pool size must be odd", l->mod);
	const int ks[3] = {k, k, k};
	return spp(c, l->x, l->prefix, l->c1, l->c2, ks, 3, 1);
}

static int build_spp(struct ctx *c, struct layer *l)
{
	int ks[6] = {5, 9, 13}, nk = 3;
	const yaml_node_t *kl = seq_at(c, l->args, 1);
	if (kl && !is_none(kl)) {
		nk = seq_len(kl);
		if (nk < 1 || nk > 6)
			return err(c, "%s: 1 to 6 pool sizes", l->mod);
		for (int j = 0; j < nk; j++)
			if (as_int(seq_at(c, kl, j), &ks[j]) || ks[j] < 1 || ks[j] % 2 == 0 || ks[j] > 63)
				return err(c, "%s: pool sizes must be odd", l->mod);
	}
	return spp(c, l->x, l->prefix, l->c1, l->c2, ks, nk, 0);
}

static int build_focus(struct ctx *c, struct layer *l)
{
	char pj[TN_NAME_MAX];
	int k, s, p;
	if (arg_int(c, l->args, 1, 1, &k, "k") || arg_int(c, l->args, 2, 1, &s, "s") ||
	    arg_int(c, l->args, 3, -1, &p, "p"))
		return -1;
	int sd = tn_net_op(c->net, TN_NODE_SPACE2DEPTH, &l->x, 1, NULL, 0);
	snprintf(pj, sizeof pj, "%s.conv", l->prefix);
	return conv(c, sd, pj, 4 * l->c1, l->c2, k, s, p, 1);
}

static int build_concat(struct ctx *c, struct layer *l)
{
	int xs[TN_NODE_MAX_IN];
	l->c2 = 0;
	for (int j = 0; j < l->nf; j++) {
		xs[j] = c->out[l->from[j] + 1];
		l->c2 += c->ch[l->from[j] + 1];
	}
	return tn_net_concat(c->net, xs, l->nf);
}

static int build_upsample(struct ctx *c, struct layer *l)
{
	int sc;
	const char *mode = scalar(seq_at(c, l->args, 2));
	if (arg_int(c, l->args, 1, -1, &sc, "scale_factor") || sc < 1 || sc > 16)
		return err(c, "%s: only whole scale factors are supported", l->mod);
	if (mode && strcmp(mode, "nearest"))
		return err(c, "nn.Upsample mode '%s' is not supported (only nearest)", mode);
	return tn_net_op(c->net, TN_NODE_UPSAMPLE, &l->x, 1, &sc, 1);
}

/* m.j: a 1x1 conv with bias per level, then the decoding with the anchors [nl][na][2]. */
static int build_detect(struct ctx *c, struct layer *l)
{
	char p[TN_NAME_MAX + 24];
	int no = c->nc + 5, convs[TN_NODE_MAX_IN];
	for (int j = 0; j < l->nf; j++)
		if (l->from[j] < 0)
			return err(c, "%s cannot take the input image", l->mod);
	for (int j = 0; j < l->nf; j++) {
		const int f = l->from[j] + 1;
		snprintf(p, sizeof p, "%s.m.%d", l->prefix, j);
		convs[j] = tn_net_conv(c->net, c->out[f], &(struct tn_conv_args){.name = p, .bias = 1,
				.cin = c->ch[f], .cout = c->na * no, .groups = 1, .k = 1, .stride = 1});
	}
	int ia[2] = {c->na, c->nc};
	int y = tn_net_op(c->net, TN_NODE_DETECT, convs, l->nf, ia, 2);
	snprintf(p, sizeof p, "%s.anchors", l->prefix);
	int64_t s[3] = {l->nf, c->na, 2};
	tn_net_param(c->net, y, p, 3, s);
	c->info->nl = l->nf;
	l->c2 = 0;
	return y;
}

/* The shape of a tensor the weights hold, for the attention blocks' hyper-parameters. */
static int weight_shape(struct ctx *c, const char *name, int64_t *shape, int *ndim)
{
	return c->shapes ? c->shapes->shape(c->shapes->ctx, name, ndim, shape) : -1;
}

static json_t *layer_attr(struct ctx *c, const char *attr)
{
	char key[16];
	snprintf(key, sizeof key, "%d", c->layer);
	return json_object_get(json_object_get(c->attrs, key), attr);
}

/* fc.0 [hid, ch] and fc.2 [ch, hid]; hid from the weights, else ch / reduction. */
static int build_se(struct ctx *c, struct layer *l)
{
	char pn[TN_NAME_MAX + 24];
	int64_t shape[TN_MAX_DIMS];
	int nd, r, hid, ch = l->c1;
	snprintf(pn, sizeof pn, "%s.fc.0.weight", l->prefix);
	if (weight_shape(c, pn, shape, &nd) == 0 && nd == 2 && shape[0] > 0 && shape[0] <= ch) {
		hid = (int)shape[0];
	} else {
		if (arg_int(c, l->args, 1, 16, &r, "reduction"))
			return -1;
		if (r < 1 || ch / r < 1)
			return err(c, "%s: reduction leaves no hidden units", l->mod);
		hid = ch / r;
	}
	int y = tn_net_op(c->net, TN_NODE_SE, &l->x, 1, &hid, 1);
	int64_t s1[2] = {hid, ch}, s2[2] = {ch, hid};
	tn_net_param(c->net, y, pn, 2, s1);
	snprintf(pn, sizeof pn, "%s.fc.2.weight", l->prefix);
	tn_net_param(c->net, y, pn, 2, s2);
	return y;
}

/* conv [1, 1, k]; k from the weights, else args[1]. */
static int build_eca(struct ctx *c, struct layer *l)
{
	char pn[TN_NAME_MAX + 24];
	int64_t shape[TN_MAX_DIMS];
	int nd, k;
	snprintf(pn, sizeof pn, "%s.conv.weight", l->prefix);
	if (weight_shape(c, pn, shape, &nd) == 0 && nd == 3 && shape[2] > 0 && shape[2] < 64) {
		k = (int)shape[2];
	} else if (arg_int(c, l->args, 1, 3, &k, "k_size")) {
		return -1;
	}
	if (k < 1 || k % 2 == 0)
		return err(c, "%s: kernel size must be odd", l->mod);
	int y = tn_net_op(c->net, TN_NODE_ECA, &l->x, 1, &k, 1);
	int64_t s[3] = {1, 1, k};
	tn_net_param(c->net, y, pn, 3, s);
	return y;
}

/* fc [ch, ch, 1, 1] with bias; add_maxpool from the checkpoint's attributes, else args[1]. */
static int build_effective_se(struct ctx *c, struct layer *l)
{
	char pn[TN_NAME_MAX + 24];
	int add_max, ch = l->c1;
	json_t *a = layer_attr(c, "add_maxpool");
	if (a)
		add_max = json_is_true(a) || (json_is_integer(a) && json_integer_value(a) != 0);
	else if (arg_bool(c, l->args, 1, 0, &add_max, "add_maxpool"))
		return -1;
	int y = tn_net_op(c->net, TN_NODE_ESE, &l->x, 1, &add_max, 1);
	int64_t sw[4] = {ch, ch, 1, 1}, sb[1] = {ch};
	snprintf(pn, sizeof pn, "%s.fc.weight", l->prefix);
	tn_net_param(c->net, y, pn, 4, sw);
	snprintf(pn, sizeof pn, "%s.fc.bias", l->prefix);
	tn_net_param(c->net, y, pn, 1, sb);
	return y;
}

/* G groups: from the weights (cweight [1, ch/2G, 1, 1]), else the checkpoint's attributes,
 * else args[2]. */
static int build_shuffle_attention(struct ctx *c, struct layer *l)
{
	static const char *const names[6] = {"cweight", "cbias", "sweight", "sbias", "gn.weight", "gn.bias"};
	char pn[TN_NAME_MAX + 24];
	int64_t shape[TN_MAX_DIMS];
	int nd, g, ch = l->c1;
	snprintf(pn, sizeof pn, "%s.cweight", l->prefix);
	json_t *a = layer_attr(c, "G");
	if (weight_shape(c, pn, shape, &nd) == 0 && nd == 4 && shape[1] > 0 && ch % (2 * shape[1]) == 0)
		g = (int)(ch / (2 * shape[1]));
	else if (a && json_is_integer(a))
		g = (int)json_integer_value(a);
	else if (arg_int(c, l->args, 2, 8, &g, "G"))
		return -1;
	if (g < 1 || ch % (2 * g))
		return err(c, "%s: channels must divide into 2*G groups", l->mod);
	int y = tn_net_op(c->net, TN_NODE_SA, &l->x, 1, &g, 1);
	int64_t s4[4] = {1, ch / (2 * g), 1, 1}, s1[1] = {ch / (2 * g)};
	for (int j = 0; j < 6; j++) {
		snprintf(pn, sizeof pn, "%s.%s", l->prefix, names[j]);
		if (j < 4)
			tn_net_param(c->net, y, pn, 4, s4);
		else
			tn_net_param(c->net, y, pn, 1, s1);
	}
	return y;
}

/* SCALED: args[0] is the output channels, scaled by width_multiple (parse_model's list of
 * modules with c1, c2 = ch[f], args[0]).  MANY_IN: 'from' may list several layers. */
enum { SCALED = 1, MANY_IN = 2 };

static const struct module {
	const char *name;
	int (*build)(struct ctx *c, struct layer *l); /* the output node, < 0 on failure */
	int flags;
	int kind;
} modules[] = {
	{"Conv", build_conv, SCALED, 0},
	{"DWConv", build_conv, SCALED, 1},
	{"C3", build_c3, SCALED, C3_PLAIN},
	{"C3x", build_c3, SCALED, C3_X},
	{"C3Ghost", build_c3, SCALED, C3_GHOST},
	{"Bottleneck", build_bottleneck, SCALED, 0},
	{"CrossConv", build_crossconv, SCALED, 0},
	{"GhostConv", build_ghostconv, SCALED, 0},
	{"GhostBottleneck", build_ghost_bottleneck, SCALED, 0},
	{"nn.ConvTranspose2d", build_convtranspose, SCALED, 0},
	{"DWConvTranspose2d", build_convtranspose, SCALED, 1},
	{"SPPF", build_sppf, SCALED, 0},
	{"SPP", build_spp, SCALED, 0},
	{"Focus", build_focus, SCALED, 0},
	{"Concat", build_concat, MANY_IN, 0},
	{"nn.Upsample", build_upsample, 0, 0},
	{"Detect", build_detect, MANY_IN, 0},
	{"SEAttention", build_se, 0, 0},
	{"ECAAttention", build_eca, 0, 0},
	{"EffectiveSE", build_effective_se, 0, 0},
	{"ShuffleAttention", build_shuffle_attention, 0, 0},
};

static const struct module *find_module(const char *name)
{
	for (size_t j = 0; j < sizeof modules / sizeof modules[0]; j++)
		if (!strcmp(name, modules[j].name))
			return &modules[j];
	return NULL;
}

/* --- parse_model ------------------------------------------------------------------------ */

/* 'from': a layer number or a list of them, negative ones counted back from layer i. */
static int read_from(struct ctx *c, int i, const yaml_node_t *fn, struct layer *l)
{
	if (fn && fn->type == YAML_SEQUENCE_NODE) {
		l->nf = seq_len(fn);
		if (l->nf < 1 || l->nf > TN_NODE_MAX_IN)
			return err(c, "'from' lists 1 to 8 layers%s", "");
		for (int j = 0; j < l->nf; j++)
			if (as_int(seq_at(c, fn, j), &l->from[j]))
				return err(c, "'from' entries are layer numbers%s", "");
	} else {
		l->nf = 1;
		if (as_int(fn, &l->from[0]))
			return err(c, "'from' is a layer number or a list of them%s", "");
	}
	for (int j = 0; j < l->nf; j++) {
		int f = l->from[j] < 0 ? i + l->from[j] : l->from[j];
		if (f < -1 || f >= i)
			return err(c, "'from' names a layer that does not come before this one%s", "");
		l->from[j] = f; /* -1: the input image */
	}
	return 0;
}

/* 'number': the repeats, scaled by depth_multiple when more than one. */
static int read_number(struct ctx *c, const yaml_node_t *nn, int *n)
{
	if (as_int(nn, n) || *n < 1 || *n > 1000)
		return err(c, "'number' is not a positive whole number%s", "");
	if (*n > 1) {
		int scaled = (int)rint(*n * c->gd);
		*n = scaled > 1 ? scaled : 1;
	}
	return 0;
}

/* A failed builder: the net's reason when a net call failed, named by line and layer; else the
 * builder's own, reported already. */
static int layer_failed(struct ctx *c)
{
	int rc = tn_net_build_error(c->net, c->name);
	if (rc == TN_E_FORMAT) {
		char where[TN_NAME_MAX + 64];
		snprintf(where, sizeof where, "%s: line %d: layer %d", c->name, c->line, c->layer);
		return tn_fail_prefix(TN_E_FORMAT, where);
	}
	return rc ? rc : TN_E_FORMAT;
}

static int build_layer(struct ctx *c, int i, const yaml_node_t *row)
{
	struct layer l = {0};
	int rc;
	c->layer = i;
	c->line = (int)row->start_mark.line + 1;
	if (seq_len(row) != 4)
		return err(c, "a layer is [from, number, module, args]%s", "");
	l.mod = scalar(seq_at(c, row, 2));
	l.args = seq_at(c, row, 3);
	if (!l.mod)
		return err(c, "module name is not a string%s", "");
	if (l.args && l.args->type != YAML_SEQUENCE_NODE)
		return err(c, "args of %s are not a list", l.mod);
	if ((rc = read_from(c, i, seq_at(c, row, 0), &l)) || (rc = read_number(c, seq_at(c, row, 1), &l.n)))
		return rc;
	snprintf(l.prefix, sizeof l.prefix, "model.%d", i);
	for (int j = 0; j < l.nf; j++)
		if (c->ch[l.from[j] + 1] < 1)
			return err(c, "'from' names a layer without a feature map (%s)", "Detect");
	l.x = c->out[l.from[0] + 1];
	l.c1 = l.c2 = c->ch[l.from[0] + 1];
	const struct module *m = find_module(l.mod);
	if (m && (m->flags & SCALED)) {
		int a0;
		if (arg_int(c, l.args, 0, -1, &a0, "c2") || a0 < 1)
			return err(c, "%s needs its output channels as the first argument", l.mod);
		l.c2 = a0 == c->na * (c->nc + 5) ? a0 : make_divisible(a0 * c->gw);
	}
	if (l.nf != 1 && !(m && (m->flags & MANY_IN)))
		return err(c, "%s takes one input", l.mod);
	if (!m)
		return err(c, "unknown module '%s'", l.mod);
	l.kind = m->kind;
	int y = m->build(c, &l);
	if (y < 0)
		return layer_failed(c);
	c->out[i + 1] = y;
	c->ch[i + 1] = l.c2;
	c->last_is_detect = m->build == build_detect;
	return 0;
}

static int parse_header(struct ctx *c, const yaml_node_t *root, struct tn_yolo_info *info)
{
	const yaml_node_t *nc = map_get(c, root, "nc"), *gd = map_get(c, root, "depth_multiple");
	const yaml_node_t *gw = map_get(c, root, "width_multiple"), *an = map_get(c, root, "anchors");
	const yaml_node_t *act = map_get(c, root, "activation"), *ch = map_get(c, root, "ch");
	c->line = 1;
	if (as_int(nc, &c->nc) || c->nc < 1 || c->nc > 100000)
		return tn_fail(TN_E_FORMAT, "%s: 'nc' (the number of classes) is missing or not a positive number", c->name);
	if (as_number(gd, &c->gd) || c->gd <= 0 || c->gd > 10 || as_number(gw, &c->gw) || c->gw <= 0 || c->gw > 10)
		return tn_fail(TN_E_FORMAT, "%s: 'depth_multiple' and 'width_multiple' must be positive numbers", c->name);
	if (act && !is_none(act) && strcmp(scalar(act) ? scalar(act) : "", "nn.SiLU()"))
		return tn_fail(TN_E_UNSUPPORTED, "%s: line %d: activation '%s' is not supported (SiLU only)", c->name,
			       (int)act->start_mark.line + 1, scalar(act) ? scalar(act) : "?");
	int inch = 3;
	if (ch && (as_int(ch, &inch) || inch != 3))
		return tn_fail(TN_E_UNSUPPORTED, "%s: only 3-channel input is supported", c->name);
	c->anchors = an;
	if (an && an->type == YAML_SEQUENCE_NODE) {
		int l0 = seq_len(seq_at(c, an, 0));
		if (l0 < 2 || l0 % 2)
			return tn_fail(TN_E_FORMAT, "%s: line %d: 'anchors' must list w,h pairs per level", c->name,
				       (int)an->start_mark.line + 1);
		c->na = l0 / 2;
	} else if (as_int(an, &c->na) || c->na < 1 || c->na > 32) {
		return tn_fail(TN_E_FORMAT, "%s: 'anchors' is missing or not a list of levels", c->name);
	}
	info->nc = c->nc;
	info->na = c->na;
	return 0;
}

/* libyaml's scanner takes time quadratic in the flow nesting depth ("[[[[..." of 50000 levels
 * runs for minutes), so an event pass that stops at a depth no model config needs comes first. */
int tn_yaml_too_deep(const char *text, int limit)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, deep = 0;
	if (!yaml_parser_initialize(&p))
		return 0; /* the loader reports out of memory */
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	while (!deep && yaml_parser_parse(&p, &ev)) {
		yaml_event_type_t t = ev.type;
		yaml_event_delete(&ev);
		if (t == YAML_SEQUENCE_START_EVENT || t == YAML_MAPPING_START_EVENT)
			deep = ++depth > limit;
		else if (t == YAML_SEQUENCE_END_EVENT || t == YAML_MAPPING_END_EVENT)
			depth--;
		else if (t == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&p); /* a syntax error stops the loop; the loader reports it */
	return deep;
}

int tn_yolo_build(struct tn_net *net, const char *yaml, const char *name,
		  const struct tn_param_source *shapes, const char *attrs_json, int in_h, int in_w,
		  struct tn_yolo_info *info)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ctx *c = calloc(1, sizeof *c);
	int rc = 0;
	memset(info, 0, sizeof *info);
	tn_net_init(net);
	if (!c)
		return tn_fail(TN_E_NOMEM, "out of memory");
	if (tn_yaml_too_deep(yaml, TN_YAML_MAX_DEPTH)) {
		free(c);
		return tn_fail(TN_E_FORMAT, "%s: yaml nested deeper than %d levels (limit)", name, TN_YAML_MAX_DEPTH);
	}
	if (!yaml_parser_initialize(&parser)) {
		free(c);
		return tn_fail(TN_E_NOMEM, "out of memory");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)yaml, strlen(yaml));
	if (!yaml_parser_load(&parser, &doc)) {
		rc = tn_fail(TN_E_FORMAT, "%s: line %zu: yaml syntax error: %s", name, parser.problem_mark.line + 1,
			     parser.problem ? parser.problem : "unreadable");
		yaml_parser_delete(&parser);
		free(c);
		return rc;
	}
	yaml_parser_delete(&parser);
	*c = (struct ctx){.net = net, .name = name, .doc = &doc, .shapes = shapes, .info = info};
	if (attrs_json)
		c->attrs = json_loads(attrs_json, 0, NULL);
	const yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		rc = tn_fail(TN_E_FORMAT, "%s: not a model config (a mapping with nc, backbone, head)", name);
		goto out;
	}
	if ((rc = parse_header(c, root, info)))
		goto out;
	const yaml_node_t *parts[2] = {map_get(c, root, "backbone"), map_get(c, root, "head")};
	if (seq_len(parts[0]) < 1 || seq_len(parts[1]) < 1) {
		rc = tn_fail(TN_E_FORMAT, "%s: 'backbone' and 'head' must be lists of layers", name);
		goto out;
	}
	c->out[0] = tn_net_input(net, 3, in_h, in_w);
	c->ch[0] = 3;
	int i = 0;
	for (int part = 0; part < 2 && !rc; part++)
		for (int j = 0; j < seq_len(parts[part]) && !rc; j++, i++) {
			if (i + 1 >= MAX_LAYERS) {
				rc = tn_fail(TN_E_FORMAT, "%s: more than %d layers", name, MAX_LAYERS - 1);
				break;
			}
			rc = build_layer(c, i, seq_at(c, parts[part], j));
		}
	if (rc)
		goto out;
	if (!c->last_is_detect) {
		rc = tn_fail(TN_E_FORMAT, "%s: the last layer must be Detect", name);
		goto out;
	}
	info->n_layers = i;
	info->max_stride = 32;
out:
	if (rc)
		tn_net_free(net);
	json_decref(c->attrs);
	yaml_document_delete(&doc);
	free(c);
	return rc;
}
