#include "net/net.h"

#include "core/clock.h"
#include "core/error.h"
#include "core/tensor.h"
#include "core/threads.h"
#include "io/wfile.h"
#include "net/flops.h"
#include "net/nodes.h"
#include "ops/convdirect.h"
#include "ops/winograd.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tn_net_init(struct tn_net *net)
{
	memset(net, 0, sizeof *net);
	net->output = -1;
}

void tn_net_free(struct tn_net *net)
{
	free(net->nodes);
	free(net->params);
	free(net->weights);
	free(net->prepared);
	free(net->arena);
	free(net->work);
	free(net->profile_ms);
	tn_net_init(net);
}

/* --- building --------------------------------------------------------------------------- */

/* Marks the net failed with the reason; the first failure's reason stays.  Returns -1. */
__attribute__((format(printf, 2, 3))) static int bad_layer(struct tn_net *net, const char *fmt, ...)
{
	if (net->failed)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(net->error, sizeof net->error, fmt, ap);
	va_end(ap);
	net->failed = TN_NET_BAD_LAYER;
	return -1;
}

static int out_of_memory(struct tn_net *net)
{
	if (!net->failed)
		net->failed = TN_NET_NOMEM;
	return -1;
}

/* 0 if node x exists for `what` to read.  A negative x once the net failed is that failure,
 * already recorded; otherwise it is a wrong index of the caller's. */
static int check_node(struct tn_net *net, int x, const char *what)
{
	if (net->failed)
		return -1;
	if (x < 0 || x >= net->n)
		return bad_layer(net, "%s: reads node %d, which does not exist (%d nodes)", what, x, net->n);
	return 0;
}

static int check_name(struct tn_net *net, const char *name, size_t cap)
{
	if (strlen(name) >= cap)
		return bad_layer(net, "%.40s...: a name longer than %zu characters", name, cap - 1);
	return 0;
}

int tn_net_build_error(const struct tn_net *net, const char *what)
{
	if (!net->failed)
		return 0;
	if (net->failed == TN_NET_BAD_LAYER)
		return tn_fail(TN_E_FORMAT, "%s", net->error);
	return tn_fail(TN_E_NOMEM, "out of memory building %s", what);
}

static int add_node(struct tn_net *net, enum tn_node_op op)
{
	if (net->failed)
		return -1;
	if (net->n == net->cap) {
		int ncap = net->cap ? net->cap * 2 : 64;
		struct tn_node *nn = realloc(net->nodes, sizeof *nn * (size_t)ncap);
		if (!nn)
			return out_of_memory(net);
		net->nodes = nn;
		net->cap = ncap;
	}
	struct tn_node *nd = &net->nodes[net->n];
	memset(nd, 0, sizeof *nd);
	nd->op = op;
	nd->res = -1;
	nd->like = -1;
	if (!net->output_set)
		net->output = net->n;
	return net->n++;
}

static void add_param(struct tn_net *net, const char *prefix, const char *suffix, int ndim,
		      int64_t a, int64_t b, int64_t c, int64_t d)
{
	if (net->failed)
		return;
	if (net->n_params == net->cap_params) {
		size_t ncap = net->cap_params ? net->cap_params * 2 : 256;
		struct tn_param *np = realloc(net->params, sizeof *np * ncap);
		if (!np) {
			out_of_memory(net);
			return;
		}
		net->params = np;
		net->cap_params = ncap;
	}
	struct tn_param *p = &net->params[net->n_params];
	if (snprintf(p->name, sizeof p->name, "%s.%s", prefix, suffix) >= (int)sizeof p->name) {
		bad_layer(net, "%.40s...: a name longer than %zu characters", prefix, sizeof p->name - 1);
		return;
	}
	net->n_params++;
	p->ndim = ndim;
	int64_t s[4] = {a, b, c, d};
	memcpy(p->shape, s, sizeof s);
}

int tn_net_input(struct tn_net *net, int c, int h, int w)
{
	int i = add_node(net, TN_NODE_INPUT);
	if (i < 0)
		return -1;
	net->nodes[i].c = c;
	net->nodes[i].h = h;
	net->nodes[i].w = w;
	net->in_c = c;
	net->in_h = h;
	net->in_w = w;
	return i;
}

/* A conv, or with weight_ndim 2 an nn.Linear (its weight [cout, cin]). */
static int add_conv(struct tn_net *net, int x, const struct tn_conv_args *a, int weight_ndim)
{
	const char *name = a->name ? a->name : "";
	const int kh = a->k ? a->k : a->kh, kw = a->k ? a->k : a->kw, dil = a->dil ? a->dil : 1;
	const int stride_w = a->stride_w ? a->stride_w : a->stride, pad_w = a->stride_w ? a->pad_w : a->pad;
	if (check_node(net, x, name) || check_name(net, name, TN_NAME_MAX) ||
	    (a->bn && check_name(net, a->bn, TN_NAME_MAX)))
		return -1;
	if (a->cin < 1 || a->cout < 1 || a->groups < 1 || a->cin % a->groups || a->cout % a->groups || kh < 1 ||
	    kw < 1 || a->stride < 1 || stride_w < 1 || dil < 1 || a->pad < 0 || pad_w < 0)
		return bad_layer(net, "%s: a conv of %d to %d channels in %d groups (kernel %dx%d) is impossible", name,
				 a->cin, a->cout, a->groups, kh, kw);
	int i = add_node(net, TN_NODE_CONV);
	if (i < 0)
		return -1;
	struct tn_node *nd = &net->nodes[i];
	nd->in[0] = x;
	nd->n_in = 1;
	nd->conv = (struct tn_conv){a->cin, a->cout, kh, kw, a->stride, a->pad, dil, a->groups, a->act,
				    NULL, NULL, NULL, 0, 0, NULL};
	if (stride_w != a->stride || pad_w != a->pad) {
		nd->conv.stride_w = stride_w;
		nd->conv.pad_w = pad_w;
	}
	nd->flags = a->flags;
	snprintf(nd->conv_name, sizeof nd->conv_name, "%s", name);
	snprintf(nd->bn_name, sizeof nd->bn_name, "%s", a->bn ? a->bn : "");
	nd->has_bias = a->bias;
	nd->bn_eps = a->bn_eps > 0.0f ? a->bn_eps : 1e-5f;
	add_param(net, name, "weight", weight_ndim, a->cout, a->cin / a->groups, kh, kw);
	if (a->bias)
		add_param(net, name, "bias", 1, a->cout, 0, 0, 0);
	if (a->bn) {
		add_param(net, a->bn, "weight", 1, a->cout, 0, 0, 0);
		add_param(net, a->bn, "bias", 1, a->cout, 0, 0, 0);
		add_param(net, a->bn, "running_mean", 1, a->cout, 0, 0, 0);
		add_param(net, a->bn, "running_var", 1, a->cout, 0, 0, 0);
	}
	return net->failed ? -1 : i;
}

int tn_net_conv(struct tn_net *net, int x, const struct tn_conv_args *a)
{
	return add_conv(net, x, a, 4);
}

int tn_net_linear(struct tn_net *net, int x, const char *name, int cin, int cout)
{
	const struct tn_conv_args a = {.name = name, .bias = 1, .cin = cin, .cout = cout, .groups = 1, .k = 1,
				       .stride = 1};
	return add_conv(net, x, &a, 2);
}

int tn_net_deconv(struct tn_net *net, int x, const char *name, int has_bias, int cin, int cout, int k,
		  int stride, int pad, int out_pad, int groups)
{
	if (check_node(net, x, name) || check_name(net, name, TN_NAME_MAX))
		return -1;
	if (cin < 1 || cout < 1 || groups < 1 || cin % groups || cout % groups || k < 1 || stride < 1 || pad < 0 ||
	    out_pad < 0 || out_pad >= stride)
		return bad_layer(net, "%s: a transposed conv of %d to %d channels in %d groups (kernel %d, stride %d, "
				 "output padding %d) is impossible", name, cin, cout, groups, k, stride, out_pad);
	int i = add_node(net, TN_NODE_DECONV);
	if (i < 0)
		return -1;
	struct tn_node *nd = &net->nodes[i];
	nd->in[0] = x;
	nd->n_in = 1;
	nd->deconv = (struct tn_deconv){cin, cout, k, stride, pad, out_pad, groups, NULL, NULL};
	snprintf(nd->conv_name, sizeof nd->conv_name, "%s", name);
	nd->has_bias = has_bias;
	add_param(net, name, "weight", 4, cin, cout / groups, k, k);
	if (has_bias)
		add_param(net, name, "bias", 1, cout, 0, 0, 0);
	return net->failed ? -1 : i;
}

void tn_net_set_residual(struct tn_net *net, int conv_node, int res, int flags)
{
	if (check_node(net, conv_node, "a residual"))
		return;
	struct tn_node *nd = &net->nodes[conv_node];
	if (nd->op != TN_NODE_CONV) {
		bad_layer(net, "a residual added to node %d, a %s rather than a conv", conv_node,
			  tn_node_ops[nd->op].name);
		return;
	}
	if (check_node(net, res, nd->conv_name))
		return;
	nd->res = res;
	nd->flags |= flags;
}

/* A node of op reading xs[0..n) (each checked), with iarg copied. */
static int add_op(struct tn_net *net, enum tn_node_op op, const int *xs, int n, const int *iarg, int n_iarg)
{
	const char *what = tn_node_ops[op].name;
	if (net->failed)
		return -1;
	if (n < 1 || n > TN_NODE_MAX_IN)
		return bad_layer(net, "%s: %d inputs (1 to %d)", what, n, TN_NODE_MAX_IN);
	if (n_iarg < 0 || n_iarg > 4)
		return bad_layer(net, "%s: %d integer arguments (at most 4)", what, n_iarg);
	for (int k = 0; k < n; k++)
		if (check_node(net, xs[k], what))
			return -1;
	int i = add_node(net, op);
	if (i < 0)
		return -1;
	memcpy(net->nodes[i].in, xs, sizeof(int) * (size_t)n);
	net->nodes[i].n_in = n;
	if (n_iarg)
		memcpy(net->nodes[i].iarg, iarg, sizeof(int) * (size_t)n_iarg);
	return i;
}

int tn_net_gap(struct tn_net *net, int x)
{
	return add_op(net, TN_NODE_GAP, &x, 1, NULL, 0);
}

static int add_resize(struct tn_net *net, enum tn_node_op op, int x, int like)
{
	if (check_node(net, like, tn_node_ops[op].name))
		return -1;
	int i = add_op(net, op, &x, 1, NULL, 0);
	if (i >= 0)
		net->nodes[i].like = like;
	return i;
}

int tn_net_resize_ac(struct tn_net *net, int x, int like)
{
	return add_resize(net, TN_NODE_RESIZE_AC, x, like);
}

int tn_net_resize(struct tn_net *net, int x, int like)
{
	return add_resize(net, TN_NODE_RESIZE, x, like);
}

int tn_net_concat(struct tn_net *net, const int *xs, int n)
{
	return add_op(net, TN_NODE_CONCAT, xs, n, NULL, 0);
}

int tn_net_op(struct tn_net *net, enum tn_node_op op, const int *xs, int n, const int *iarg, int n_iarg)
{
	/* these carry more than inputs and integers: each has its own builder */
	if ((unsigned)op >= TN_NODE_COUNT || op == TN_NODE_INPUT || op == TN_NODE_CONV || op == TN_NODE_DECONV ||
	    op == TN_NODE_RESIZE || op == TN_NODE_RESIZE_AC)
		return bad_layer(net, "op %d (%s) is not built by tn_net_op", (int)op,
				 (unsigned)op < TN_NODE_COUNT ? tn_node_ops[op].name : "unknown");
	return add_op(net, op, xs, n, iarg, n_iarg);
}

void tn_net_param(struct tn_net *net, int i, const char *name, int ndim, const int64_t *shape)
{
	if (check_node(net, i, name))
		return;
	struct tn_node *nd = &net->nodes[i];
	const char *dot = strrchr(name, '.');
	if (nd->n_p == TN_NODE_MAX_PARAMS) {
		bad_layer(net, "%s: more than %d parameters on one %s node", name, TN_NODE_MAX_PARAMS,
			  tn_node_ops[nd->op].name);
		return;
	}
	if (ndim < 0 || ndim > 4) {
		bad_layer(net, "%s: %d dimensions (at most 4)", name, ndim);
		return;
	}
	if (check_name(net, name, sizeof nd->p[0].name))
		return;
	if (!dot || dot == name) {
		bad_layer(net, "%s: a parameter is named module.tensor", name);
		return;
	}
	struct tn_node_param *p = &nd->p[nd->n_p++];
	snprintf(p->name, sizeof p->name, "%s", name);
	p->numel = 1;
	int64_t s[4] = {0, 0, 0, 0};
	for (int d = 0; d < ndim; d++) {
		s[d] = shape[d];
		p->numel *= (size_t)shape[d];
	}
	char prefix[sizeof p->name];
	snprintf(prefix, sizeof prefix, "%.*s", (int)(dot - name), name);
	add_param(net, prefix, dot + 1, ndim, s[0], s[1], s[2], s[3]);
}

void tn_net_ignore(struct tn_net *net, const char *prefix)
{
	if (net->failed)
		return;
	if (strlen(prefix) >= sizeof net->ignore[0]) {
		bad_layer(net, "ignored prefix '%.40s...': longer than %zu characters", prefix, sizeof net->ignore[0] - 1);
		return;
	}
	for (int k = 0; k < 2; k++)
		if (!net->ignore[k][0]) {
			snprintf(net->ignore[k], sizeof net->ignore[k], "%s", prefix);
			return;
		}
	bad_layer(net, "ignored prefix '%s': a third one (at most 2)", prefix);
}

void tn_net_set_output(struct tn_net *net, int i)
{
	if (check_node(net, i, "the output"))
		return;
	net->output = i;
	net->output_set = 1;
}

void tn_net_keep(struct tn_net *net, int i)
{
	if (!check_node(net, i, "a kept output"))
		net->nodes[i].keep = 1;
}

int tn_net_set_input_size(struct tn_net *net, int h, int w)
{
	net->nodes[0].h = h;
	net->nodes[0].w = w;
	net->in_h = h;
	net->in_w = w;
	int rc = tn_net_plan(net);
	if (rc)
		net->in_h = net->in_w = 0;
	return rc;
}

/* --- checking ------------------------------------------------------------------------- */

struct report {
	char *buf;
	size_t len, cap;
	int count;
};

static void report_add(struct report *r, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof line)
		n = sizeof line - 1;
	r->count++;
	if (r->len + (size_t)n + 2 > r->cap) {
		size_t ncap = (r->cap + (size_t)n + 2) * 2;
		char *nb = realloc(r->buf, ncap);
		if (!nb)
			return;
		r->buf = nb;
		r->cap = ncap;
	}
	memcpy(r->buf + r->len, line, (size_t)n);
	r->len += (size_t)n;
	r->buf[r->len++] = '\n';
	r->buf[r->len] = 0;
}

static void shape_str(char *out, size_t cap, int ndim, const int64_t *shape)
{
	size_t used = (size_t)snprintf(out, cap, "[");
	for (int i = 0; i < ndim && used < cap; i++)
		used += (size_t)snprintf(out + used, cap - used, "%s%lld", i ? ", " : "", (long long)shape[i]);
	if (used < cap)
		snprintf(out + used, cap - used, "]");
}

static const struct tn_param *find_param(const struct tn_net *net, const char *name)
{
	for (size_t i = 0; i < net->n_params; i++)
		if (strcmp(net->params[i].name, name) == 0)
			return &net->params[i];
	return NULL;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

int tn_net_check(const struct tn_net *net, const struct tn_param_source *src, char **report)
{
	struct report r = {0};
	for (size_t i = 0; i < net->n_params; i++) {
		const struct tn_param *p = &net->params[i];
		int ndim;
		int64_t shape[TN_MAX_DIMS];
		if (src->shape(src->ctx, p->name, &ndim, shape) != 0) {
			report_add(&r, "missing tensor '%s'", p->name);
			continue;
		}
		int same = ndim == p->ndim;
		for (int d = 0; same && d < ndim; d++)
			same = shape[d] == p->shape[d];
		if (!same) {
			char have[128], want[128];
			shape_str(have, sizeof have, ndim, shape);
			shape_str(want, sizeof want, p->ndim, p->shape);
			report_add(&r, "tensor '%s': shape %s, the model expects %s", p->name, have, want);
		}
	}
	size_t n = src->count(src->ctx);
	for (size_t i = 0; i < n; i++) {
		const char *name = src->name_at(src->ctx, i);
		/* BatchNorm counters, and the pixel anchors YOLOv5 before v6.0 kept as a buffer (stale:
		 * they are recomputed from the anchors and strides), are no weights. */
		if (ends_with(name, ".num_batches_tracked") || ends_with(name, ".anchor_grid"))
			continue;
		if ((net->ignore[0][0] && strncmp(name, net->ignore[0], strlen(net->ignore[0])) == 0) ||
		    (net->ignore[1][0] && strncmp(name, net->ignore[1], strlen(net->ignore[1])) == 0))
			continue;
		if (!find_param(net, name))
			report_add(&r, "unexpected tensor '%s'", name);
	}
	*report = r.buf;
	return r.count;
}

/* --- planning ------------------------------------------------------------------------- */

static int infer_shapes(struct tn_net *net)
{
	for (int i = 0; i < net->n; i++) {
		struct tn_node *nd = &net->nodes[i];
		int rc = tn_node_ops[nd->op].shape(net, nd);
		if (rc)
			return rc;
	}
	return 0;
}

struct block {
	size_t off, len;
};

/* First fit over the gaps between live blocks (kept sorted by offset). */
static size_t arena_alloc(struct block *live, int *n_live, size_t len, size_t *top)
{
	size_t pos = 0;
	int at = 0;
	for (; at < *n_live; at++) {
		if (live[at].off >= pos + len)
			break;
		size_t end = live[at].off + live[at].len;
		if (end > pos)
			pos = end;
	}
	memmove(&live[at + 1], &live[at], sizeof *live * (size_t)(*n_live - at));
	live[at] = (struct block){pos, len};
	(*n_live)++;
	if (pos + len > *top)
		*top = pos + len;
	return pos;
}

static void arena_release(struct block *live, int *n_live, size_t off)
{
	for (int i = 0; i < *n_live; i++)
		if (live[i].off == off) {
			memmove(&live[i], &live[i + 1], sizeof *live * (size_t)(*n_live - i - 1));
			(*n_live)--;
			return;
		}
}

/* Outputs written straight into a concat's block, so that the concat copies nothing: into[j]
 * is the concat whose channels slice[j] (floats) onward node j writes, else -1.  A node
 * qualifies when the concat reads it once and nothing pins it (the input, a kept output, an
 * output of its own concat); its readers must end by the concat's last use, which is moved
 * later if need be.  Needs last_use set. */
static void concat_slices(struct tn_net *net, int *into, size_t *slice)
{
	for (int i = 0; i < net->n; i++)
		into[i] = -1;
	for (int i = 0; i < net->n; i++) {
		struct tn_node *cat = &net->nodes[i];
		if (cat->op != TN_NODE_CONCAT)
			continue;
		size_t off = 0;
		for (int k = 0; k < cat->n_in; k++) {
			const int j = cat->in[k];
			struct tn_node *x = &net->nodes[j];
			int once = 1;
			for (int m = 0; m < cat->n_in; m++)
				once &= m == k || cat->in[m] != j;
			if (once && j > 0 && into[j] < 0 && x->op != TN_NODE_CONCAT && !x->keep && j != net->output) {
				into[j] = i;
				slice[j] = off;
				if (x->last_use > cat->last_use)
					cat->last_use = x->last_use;
			}
			off += (size_t)x->c * x->h * x->w;
		}
	}
}

int tn_net_plan(struct tn_net *net)
{
	if (net->failed)
		return tn_net_build_error(net, "the network");
	net->threads = tn_threads();
	int rc = infer_shapes(net);
	if (rc)
		return rc;
	for (int i = 0; i < net->n; i++)
		net->nodes[i].last_use = i;
	for (int i = 0; i < net->n; i++) {
		struct tn_node *nd = &net->nodes[i];
		for (int k = 0; k < nd->n_in; k++)
			net->nodes[nd->in[k]].last_use = i;
		if (nd->res >= 0)
			net->nodes[nd->res].last_use = i;
	}
	for (int i = 0; i < net->n; i++)
		if (net->nodes[i].keep || i == net->output)
			net->nodes[i].last_use = net->n;
	struct block *live = malloc(sizeof *live * (size_t)(net->n + 1));
	int *into = malloc(sizeof *into * (size_t)(net->n + 1));
	size_t *slice = malloc(sizeof *slice * (size_t)(net->n + 1));
	if (!live || !into || !slice) {
		free(live), free(into), free(slice);
		return tn_fail(TN_E_NOMEM, "out of memory planning the network");
	}
	concat_slices(net, into, slice);
	int n_live = 0;
	size_t top = 0, work = 0;
	for (int i = 0; i < net->n; i++) {
		struct tn_node *nd = &net->nodes[i];
		const int owner = into[i] >= 0 ? into[i] : i; /* the node whose block holds this output */
		if (owner != i && into[owner] == -2) {
			nd->offset = net->nodes[owner].offset + slice[i];
		} else if (into[i] == -2) {
			/* a concat placed by its first slice's producer */
		} else {
			struct tn_node *o = &net->nodes[owner];
			size_t len;
			if (tn_mul_size((size_t)o->c * o->h, (size_t)o->w, &len)) {
				free(live), free(into), free(slice);
				return TN_E_INVAL;
			}
			len = (len + 15) & ~(size_t)15; /* 64-byte aligned blocks */
			o->offset = arena_alloc(live, &n_live, len, &top);
			if (owner != i) {
				into[owner] = -2;
				nd->offset = o->offset + slice[i];
			}
		}
		size_t ws = tn_node_ops[nd->op].work(net, nd, net->threads);
		if (ws > work)
			work = ws;
		/* Inputs whose last reader is this node are free for the nodes after it; a slice
		 * goes with its concat. */
		for (int j = 0; j < i; j++)
			if (net->nodes[j].last_use == i && into[j] < 0)
				arena_release(live, &n_live, net->nodes[j].offset);
	}
	free(live), free(into), free(slice);
	size_t work_bytes;
	if (tn_mul_size((work + 15) & ~(size_t)15, sizeof(float), &work_bytes))
		return tn_fail(TN_E_NOMEM, "a workspace of %zu floats overflows", work);
	free(net->arena);
	free(net->work);
	net->arena_floats = top;
	net->work_floats = work;
	net->arena = aligned_alloc(64, (top ? top : 16) * sizeof(float));
	net->work = work ? aligned_alloc(64, work_bytes) : NULL;
	if (!net->arena || (work && !net->work))
		return tn_fail(TN_E_NOMEM, "out of memory for %zu MB of activations",
			       (top + work) * sizeof(float) >> 20);
	return 0;
}

/* --- loading ---------------------------------------------------------------------------- */

static int read_param(const struct tn_param_source *src, const char *prefix, const char *suffix,
		      float *dst, size_t numel)
{
	char name[TN_NAME_MAX + 24];
	int ndim;
	int64_t shape[TN_MAX_DIMS];
	snprintf(name, sizeof name, "%s.%s", prefix, suffix);
	size_t have = 0;
	if (src->shape(src->ctx, name, &ndim, shape) != 0 || tn_shape_numel(ndim, shape, &have) ||
	    have != numel)
		return tn_fail(TN_E_SHAPE, "%s: tensor '%s' missing or mis-shaped", src->label, name);
	src->read(src->ctx, name, dst);
	return 0;
}

/* How a conv's weights are prepared at load: packed for the direct kernels, Winograd-
 * transformed, or used as they are; and how many floats that takes. */
static size_t prepared_floats(const struct tn_net *net, const struct tn_node *nd, int *direct)
{
	const struct tn_node *a = &net->nodes[nd->in[0]];
	*direct = tn_conv2d_uses_direct(&nd->conv, a->h, a->w, nd->flags);
	if (*direct)
		return tn_conv_direct_weight_floats(&nd->conv);
	if (tn_conv2d_uses_winograd(&nd->conv, a->h, a->w, nd->flags))
		return tn_winograd_weight_floats(&nd->conv);
	return 0;
}

/* Prepares, once, the weights of the convs that need it (needs tn_net_plan's shapes). */
static int prepare_weights(struct tn_net *net)
{
	size_t total = 0;
	int direct;
	for (int i = 0; i < net->n; i++)
		if (net->nodes[i].op == TN_NODE_CONV)
			total += prepared_floats(net, &net->nodes[i], &direct);
	free(net->prepared);
	net->prepared = NULL;
	if (!total)
		return 0;
	net->prepared = malloc(total * sizeof(float));
	if (!net->prepared)
		return tn_fail(TN_E_NOMEM, "out of memory for the packed weights");
	float *p = net->prepared;
	for (int i = 0; i < net->n; i++) {
		struct tn_node *nd = &net->nodes[i];
		if (nd->op != TN_NODE_CONV)
			continue;
		size_t n = prepared_floats(net, nd, &direct);
		nd->conv.packed = NULL;
		nd->conv.wino = NULL;
		if (!n)
			continue;
		if (direct) {
			tn_conv_direct_pack(&nd->conv, p);
			nd->conv.packed = p;
		} else {
			tn_winograd_transform_weights(&nd->conv, p);
			nd->conv.wino = p;
		}
		p += n;
	}
	return 0;
}

int tn_net_load(struct tn_net *net, const struct tn_param_source *src)
{
	size_t total = 0;
	for (int i = 0; i < net->n; i++) {
		const struct tn_node *nd = &net->nodes[i];
		if (nd->op == TN_NODE_DECONV) {
			const struct tn_deconv *dc = &nd->deconv;
			total += (size_t)dc->cin * (dc->cout / dc->groups) * dc->k * dc->k + (size_t)dc->cout;
		}
		if (nd->op != TN_NODE_CONV)
			continue;
		const struct tn_conv *cv = &nd->conv;
		total += (size_t)cv->cout * (cv->cin / cv->groups) * cv->kh * cv->kw + (size_t)cv->cout;
	}
	for (int i = 0; i < net->n; i++)
		for (int k = 0; k < net->nodes[i].n_p; k++)
			total += net->nodes[i].p[k].numel;
	free(net->weights);
	net->weights = malloc((total ? total : 1) * sizeof(float));
	if (!net->weights)
		return tn_fail(TN_E_NOMEM, "out of memory for the weights");
	float *p = net->weights;
	float *bn = NULL;
	int rc = 0;
	for (int i = 0; i < net->n && !rc; i++) {
		struct tn_node *nd = &net->nodes[i];
		if (nd->op == TN_NODE_DECONV) {
			struct tn_deconv *dc = &nd->deconv;
			size_t nw = (size_t)dc->cin * (dc->cout / dc->groups) * dc->k * dc->k;
			float *w = p, *b = p + nw;
			p = b + dc->cout;
			rc = read_param(src, nd->conv_name, "weight", w, nw);
			if (!rc && nd->has_bias)
				rc = read_param(src, nd->conv_name, "bias", b, dc->cout);
			dc->weight = w;
			dc->bias = nd->has_bias ? b : NULL;
			continue;
		}
		if (nd->op != TN_NODE_CONV)
			continue;
		struct tn_conv *cv = &nd->conv;
		size_t per = (size_t)(cv->cin / cv->groups) * cv->kh * cv->kw;
		float *w = p, *b = p + per * cv->cout;
		p = b + cv->cout;
		rc = read_param(src, nd->conv_name, "weight", w, per * cv->cout);
		if (!rc && nd->has_bias)
			rc = read_param(src, nd->conv_name, "bias", b, cv->cout);
		else
			memset(b, 0, sizeof(float) * cv->cout);
		if (!rc && nd->bn_name[0]) {
			float *nb = realloc(bn, sizeof(float) * 4 * cv->cout);
			if (!nb) {
				rc = tn_fail(TN_E_NOMEM, "out of memory");
				break;
			}
			bn = nb;
			float *gamma = bn, *beta = bn + cv->cout, *mean = bn + 2 * cv->cout, *var = bn + 3 * cv->cout;
			rc = read_param(src, nd->bn_name, "weight", gamma, cv->cout);
			if (!rc)
				rc = read_param(src, nd->bn_name, "bias", beta, cv->cout);
			if (!rc)
				rc = read_param(src, nd->bn_name, "running_mean", mean, cv->cout);
			if (!rc)
				rc = read_param(src, nd->bn_name, "running_var", var, cv->cout);
			if (rc)
				break;
			/* y = gamma * (conv + b - mean) / sqrt(var + eps) + beta, folded in double. */
			for (int co = 0; co < cv->cout; co++) {
				double sc = gamma[co] / sqrt((double)var[co] + nd->bn_eps);
				for (size_t k = 0; k < per; k++)
					w[(size_t)co * per + k] = (float)(w[(size_t)co * per + k] * sc);
				b[co] = (float)((b[co] - (double)mean[co]) * sc + beta[co]);
			}
		}
		cv->weight = w;
		cv->bias = b;
	}
	free(bn);
	for (int i = 0; i < net->n && !rc; i++)
		for (int k = 0; k < net->nodes[i].n_p && !rc; k++) {
			struct tn_node_param *np = &net->nodes[i].p[k];
			char *dot = strrchr(np->name, '.');
			char prefix[TN_NAME_MAX + 24];
			snprintf(prefix, sizeof prefix, "%.*s", (int)(dot - np->name), np->name);
			np->data = p;
			p += np->numel;
			rc = read_param(src, prefix, dot + 1, np->data, np->numel);
		}
	if (!rc)
		rc = prepare_weights(net);
	return rc;
}

float *tn_net_input_data(struct tn_net *net)
{
	return net->arena + net->nodes[0].offset;
}

/* A profile's MACs: thop's convention, BatchNorm folded as it is here */
static const struct tn_flops_opts profile_flops = {.convention = TN_FLOPS_THOP, .bn_folded = 1};

void tn_net_forward(struct tn_net *net)
{
	if (net->profile_ms) {
		for (int i = 0; i < net->n; i++) {
			const struct tn_node_ops *op = &tn_node_ops[net->nodes[i].op];
			double t0 = tn_now_ms();
			op->forward(net, &net->nodes[i], net->work, net->threads);
			net->profile_ms[i] += tn_now_ms() - t0;
			net->profile_ms[net->n + i] += op->macs(net, &net->nodes[i], &profile_flops);
		}
		net->profile_runs++;
		return;
	}
	for (int i = 0; i < net->n; i++)
		tn_node_ops[net->nodes[i].op].forward(net, &net->nodes[i], net->work, net->threads);
}

int tn_net_profile(struct tn_net *net, int on)
{
	free(net->profile_ms);
	net->profile_ms = NULL;
	net->profile_runs = 0;
	if (on && !(net->profile_ms = calloc(2 * (size_t)(net->n ? net->n : 1), sizeof *net->profile_ms)))
		return tn_fail(TN_E_NOMEM, "out of memory");
	return 0;
}

const float *tn_net_node_output(const struct tn_net *net, int i, int *c, int *h, int *w)
{
	const struct tn_node *nd = &net->nodes[i];
	*c = nd->c;
	*h = nd->h;
	*w = nd->w;
	return net->arena + nd->offset;
}

const float *tn_net_output(const struct tn_net *net, int *c, int *h, int *w)
{
	return tn_net_node_output(net, net->output, c, h, w);
}

/* --- parameter sources ------------------------------------------------------------------ */

static int ckpt_shape(void *ctx, const char *name, int *ndim, int64_t *shape)
{
	const struct tn_ckpt_tensor *t = tn_ckpt_find(ctx, name);
	if (!t)
		return -1;
	*ndim = t->ndim;
	memcpy(shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
	return 0;
}

static void ckpt_read(void *ctx, const char *name, float *dst)
{
	const struct tn_ckpt_tensor *t = tn_ckpt_find(ctx, name);
	for (size_t i = 0; i < t->numel; i++)
		dst[i] = t->f32 ? t->f32[i] : (float)t->i64[i];
}

static size_t ckpt_count(void *ctx)
{
	return ((const struct tn_ckpt *)ctx)->n;
}

static const char *ckpt_name_at(void *ctx, size_t i)
{
	return ((const struct tn_ckpt *)ctx)->t[i].name;
}

void tn_param_source_ckpt(struct tn_param_source *src, const struct tn_ckpt *ck, const char *label)
{
	*src = (struct tn_param_source){(void *)ck, ckpt_shape, ckpt_read, ckpt_count, ckpt_name_at, label};
}

static int wf_shape(void *ctx, const char *name, int *ndim, int64_t *shape)
{
	const struct tn_wtensor *t = tn_wfile_find(ctx, name);
	if (!t)
		return -1;
	*ndim = t->ndim;
	memcpy(shape, t->shape, sizeof(int64_t) * (size_t)t->ndim);
	return 0;
}

static void wf_read(void *ctx, const char *name, float *dst)
{
	tn_wtensor_to_f32(tn_wfile_find(ctx, name), dst);
}

static size_t wf_count(void *ctx)
{
	return ((const struct tn_wfile *)ctx)->n;
}

static const char *wf_name_at(void *ctx, size_t i)
{
	return ((const struct tn_wfile *)ctx)->t[i].name;
}

void tn_param_source_wfile(struct tn_param_source *src, const struct tn_wfile *wf)
{
	*src = (struct tn_param_source){(void *)wf, wf_shape, wf_read, wf_count, wf_name_at, wf->path};
}
