/* A planned net runs without allocating: a net with every kind of node (and every conv path)
 * is planned, loaded and run once, then run again while the library's calls to malloc,
 * calloc, realloc, aligned_alloc and posix_memalign are counted (this test is linked with
 * --wrap for them; BLIS and OpenMP allocate in their own libraries, unseen and outside our
 * plan).  At 1 and 2 threads, and again after a re-plan at another size. */
#include "check.h"
#include "core/error.h"
#include "core/threads.h"
#include "core/peak.h"
#include "net/net.h"
#include "net/profile.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int counting;
static long allocs;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
int __real_posix_memalign(void **p, size_t align, size_t n);

static void count(void)
{
	if (__atomic_load_n(&counting, __ATOMIC_RELAXED))
		__atomic_fetch_add(&allocs, 1, __ATOMIC_RELAXED);
}

void *__wrap_malloc(size_t n)
{
	count();
	return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	count();
	return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	count();
	return __real_realloc(p, n);
}

void *__wrap_aligned_alloc(size_t align, size_t n)
{
	count();
	return __real_aligned_alloc(align, n);
}

int __wrap_posix_memalign(void **p, size_t align, size_t n)
{
	count();
	return __real_posix_memalign(p, align, n);
}

/* --- weights: the net's own expected shapes, filled with small pseudo-random values ---------- */

static const struct tn_param *find(const struct tn_net *net, const char *name)
{
	for (size_t i = 0; i < net->n_params; i++)
		if (!strcmp(net->params[i].name, name))
			return &net->params[i];
	return NULL;
}

static int src_shape(void *ctx, const char *name, int *ndim, int64_t *shape)
{
	const struct tn_param *p = find(ctx, name);
	if (!p)
		return -1;
	*ndim = p->ndim;
	memcpy(shape, p->shape, sizeof(int64_t) * (size_t)p->ndim);
	return 0;
}

static void src_read(void *ctx, const char *name, float *dst)
{
	const struct tn_param *p = find(ctx, name);
	size_t n = 1;
	for (int d = 0; d < p->ndim; d++)
		n *= (size_t)p->shape[d];
	uint32_t h = 2166136261u;
	for (const char *c = name; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	int positive = strstr(name, "running_var") != NULL;
	for (size_t i = 0; i < n; i++) {
		h = h * 1664525u + 1013904223u;
		float v = (float)(h >> 8) / (float)(1u << 24); /* [0, 1) */
		dst[i] = positive ? 0.5f + v : (v - 0.5f) * 0.5f;
	}
}

static size_t src_count(void *ctx)
{
	(void)ctx;
	return 0;
}

static const char *src_name_at(void *ctx, size_t i)
{
	(void)ctx, (void)i;
	return NULL;
}

/* --- the net -------------------------------------------------------------------------------- */

static int conv(struct tn_net *net, int x, const char *name, int cin, int cout, int k, int stride, int pad,
		int dil, int groups, enum tn_act act)
{
	char bn[64];
	snprintf(bn, sizeof bn, "%s_bn", name);
	return tn_net_conv(net, x, &(struct tn_conv_args){.name = name, .bn = bn, .cin = cin, .cout = cout,
			.groups = groups, .k = k, .stride = stride, .pad = pad, .dil = dil, .act = act});
}

static void param(struct tn_net *net, int node, const char *name, int ndim, int64_t a, int64_t b, int64_t c,
		  int64_t d)
{
	int64_t shape[4] = {a, b, c, d};
	tn_net_param(net, node, name, ndim, shape);
}

/* Every node kind, every conv path (im2col, 1x1, depthwise padded and per tap, Winograd,
 * dilated tap by tap, pre-activation, residual), both pooling paths, both transposed convs. */
static int build(struct tn_net *net, int size)
{
	tn_net_init(net);
	int x = tn_net_input(net, 3, size, size);
	int f = tn_net_op(net, TN_NODE_SPACE2DEPTH, &x, 1, NULL, 0);              /* 12 x s/2 */
	int a = conv(net, f, "stem", 12, 64, 3, 1, 1, 1, 1, TN_ACT_SILU);        /* im2col */
	int w = conv(net, a, "wino", 64, 64, 3, 1, 1, 1, 1, TN_ACT_RELU);        /* Winograd */
	int s = conv(net, w, "sparse", 64, 64, 3, 1, 6, 6, 1, TN_ACT_RELU);      /* dilated, tap by tap */
	tn_net_set_residual(net, s, a, TN_CONV_RES_RELU);
	int dw = tn_net_conv(net, s, &(struct tn_conv_args){.name = "dw", .cin = 64, .cout = 64, .groups = 64,
			.k = 3, .stride = 2, .pad = 1, .act = TN_ACT_RELU6, .flags = TN_CONV_RELU_IN}); /* depthwise: s/4 */
	int dw2 = tn_net_conv(net, dw, &(struct tn_conv_args){.name = "dw2", .cin = 64, .cout = 64, .groups = 64,
			.kh = 1, .kw = 3, .stride = 1, .stride_w = 2, .pad_w = 1}); /* depthwise, tap by tap */
	int pw = conv(net, dw2, "pw", 64, 32, 1, 1, 0, 1, 1, TN_ACT_NONE);       /* 1x1: 32 x s/4 x s/8 */
	int up = tn_net_deconv(net, pw, "up", 1, 32, 32, 2, 2, 0, 0, 1);         /* 32 x s/2 x s/4 */
	int updw = tn_net_deconv(net, up, "updw", 0, 32, 32, 3, 1, 1, 0, 32);     /* depthwise */
	int r = tn_net_resize(net, updw, a);                                      /* 32 x s/2 */
	int mp[4] = {2, 2, 0, 1}, same[4] = {5, 1, 2, 0}, ap[4] = {3, 1, 1, 0}, scale = 2;
	int p1 = tn_net_op(net, TN_NODE_MAXPOOL, &r, 1, mp, 4);                  /* ceil mode: s/4 */
	int p2 = tn_net_op(net, TN_NODE_MAXPOOL, &p1, 1, same, 4);               /* same size */
	int p3 = tn_net_op(net, TN_NODE_AVGPOOL, &p2, 1, ap, 4);
	int u = tn_net_op(net, TN_NODE_UPSAMPLE, &p3, 1, &scale, 1);             /* s/2 */
	int cat_in[2] = {u, r};
	int cat = tn_net_concat(net, cat_in, 2);                                  /* 64 x s/2 */
	int hid = 8, k = 3, add_max = 1, groups = 4;
	int se = tn_net_op(net, TN_NODE_SE, &cat, 1, &hid, 1);
	param(net, se, "se.fc.0.weight", 2, 8, 64, 0, 0);
	param(net, se, "se.fc.2.weight", 2, 64, 8, 0, 0);
	int eca = tn_net_op(net, TN_NODE_ECA, &se, 1, &k, 1);
	param(net, eca, "eca.conv.weight", 3, 1, 1, 3, 0);
	int ese = tn_net_op(net, TN_NODE_ESE, &eca, 1, &add_max, 1);
	param(net, ese, "ese.fc.weight", 4, 64, 64, 1, 1);
	param(net, ese, "ese.fc.bias", 1, 64, 0, 0, 0);
	int sa = tn_net_op(net, TN_NODE_SA, &ese, 1, &groups, 1);
	static const char *const sa_names[6] = {"cweight", "cbias", "sweight", "sbias", "gn.weight", "gn.bias"};
	for (int j = 0; j < 6; j++) {
		char n[32];
		snprintf(n, sizeof n, "sa.%s", sa_names[j]);
		param(net, sa, n, j < 4 ? 4 : 1, j < 4 ? 1 : 8, 8, 1, 1);
	}
	int sum_in[2] = {sa, cat}, relu = 1;
	int sum = tn_net_op(net, TN_NODE_ADD, sum_in, 2, &relu, 1);
	int codes = 4;
	int enc = tn_net_op(net, TN_NODE_ENCODING, &sum, 1, &codes, 1);
	static const char *const enc_names[6] = {"0.codewords", "0.scale", "1.weight", "1.bias", "1.running_mean",
						 "1.running_var"};
	for (int j = 0; j < 6; j++) {
		char n[32];
		snprintf(n, sizeof n, "enc.%s", enc_names[j]);
		param(net, enc, n, j ? 1 : 2, 4, 64, 0, 0);
	}
	int g = tn_net_linear(net, enc, "enc_fc", 64, 64);
	int gate_in[2] = {sum, g};
	int gate = tn_net_op(net, TN_NODE_CHANNEL_GATE, gate_in, 2, NULL, 0);
	int gap = tn_net_gap(net, gate);
	int back = tn_net_resize_ac(net, gap, gate);
	int lv[2];
	lv[0] = conv(net, back, "head0", 64, 21, 1, 1, 0, 1, 1, TN_ACT_NONE);    /* 3 anchors x (2 + 5) */
	int down = conv(net, back, "down", 64, 64, 3, 2, 1, 1, 1, TN_ACT_SILU);
	lv[1] = conv(net, down, "head1", 64, 21, 1, 1, 0, 1, 1, TN_ACT_NONE);
	int det_args[2] = {3, 2};
	int det = tn_net_op(net, TN_NODE_DETECT, lv, 2, det_args, 2);
	param(net, det, "det.anchors", 3, 2, 3, 2, 0);
	return det < 0 ? -1 : tn_net_plan(net);
}

/* Runs the planned net once to warm up, then once counting; returns the output's checksum bytes. */
static long forward_allocs(struct tn_net *net, float *out, size_t cap, size_t *n_out)
{
	float *in = tn_net_input_data(net);
	size_t n_in = (size_t)net->in_c * net->in_h * net->in_w;
	for (size_t i = 0; i < n_in; i++)
		in[i] = (float)((i * 7919) % 255) / 255.0f;
	tn_net_forward(net);
	__atomic_store_n(&allocs, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&counting, 1, __ATOMIC_RELAXED);
	tn_net_forward(net);
	__atomic_store_n(&counting, 0, __ATOMIC_RELAXED);
	int c, h, w;
	const float *y = tn_net_output(net, &c, &h, &w);
	*n_out = (size_t)c * h * w;
	if (*n_out <= cap)
		memcpy(out, y, sizeof(float) * *n_out);
	return __atomic_load_n(&allocs, __ATOMIC_RELAXED);
}

/* A profiled forward still allocates nothing; its rows cover every node, slowest first, with
 * the conv's multiply-accumulates and its module's name. */
static void check_profile(struct tn_net *net)
{
	struct tn_profile_row *rows;
	int n_rows;
	CHECK(tn_profile_rows(net, &rows, &n_rows) == TN_E_INVAL, "no profile before tn_net_profile");
	CHECK(tn_net_profile(net, 1) == 0, "profiling on");
	static float out[1 << 16];
	size_t n_out;
	long n = forward_allocs(net, out, sizeof out / sizeof out[0], &n_out);
	CHECK(n == 0 && net->profile_runs == 2, "a profiled tn_net_forward allocates nothing (%ld), 2 runs counted", n);
	int rc = tn_profile_rows(net, &rows, &n_rows);
	CHECK(rc == 0 && n_rows == net->n, "one profile row per node (%d of %d)", n_rows, net->n);
	if (rc)
		return;
	int sorted = 1, stem = 0, unnamed = 0;
	double total = 0;
	for (int i = 0; i < n_rows; i++) {
		sorted &= i == 0 || rows[i - 1].ms >= rows[i].ms;
		total += rows[i].ms;
		/* at 40x56 the stem reads 12 x 20x28 (after space-to-depth) and writes 64 x 20x28 */
		if (!strcmp(rows[i].name, "stem"))
			stem = !strcmp(rows[i].op, "Conv2d") && rows[i].c == 64 && rows[i].h == 20 && rows[i].w == 28 &&
			       rows[i].macs == 64.0 * 20 * 28 * 12 * 9;
		unnamed += !strncmp(rows[i].name, "node", 4) && atoi(rows[i].name + 4) == rows[i].node &&
			   net->nodes[rows[i].node].n_p == 0 && !net->nodes[rows[i].node].conv_name[0];
	}
	CHECK(sorted && total > 0, "rows slowest first, %.3f ms in all", total);
	CHECK(stem, "the stem's row: Conv2d, 64x20x28, 64*20*28*12*9 MACs");
	CHECK(unnamed >= 3, "nodes without a tensor are named by their index (%d)", unnamed);
	free(rows);
	tn_net_profile(net, 0);
	CHECK(!net->profile_ms, "profiling off");
}

/* The measured peak is positive and comes from the widest path this CPU has. */
static void check_peak(void)
{
	const char *isa;
	double g = tn_fma_peak_gflops(1, &isa);
	const char *want = "scalar";
#if defined(__x86_64__)
	__builtin_cpu_init();
	want = __builtin_cpu_supports("avx512f") ? "avx512"
	       : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? "avx2" : "scalar";
#endif
	CHECK(g > 0.1 && !strcmp(isa, want), "FMA peak %.1f GFLOP/s on one thread with %s (the CPU has %s)", g, isa,
	      want);
}

int main(void)
{
	check_peak();
	enum { CAP = 1 << 16 };
	static float out[2][CAP];
	size_t n_out[2] = {0, 0};
	int seen[TN_NODE_COUNT] = {0};
	for (int t = 1; t <= 2; t++) {
		tn_threads_init(t);
		struct tn_net net;
		__atomic_store_n(&allocs, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&counting, 1, __ATOMIC_RELAXED);
		int rc = build(&net, 64);
		__atomic_store_n(&counting, 0, __ATOMIC_RELAXED);
		CHECK(rc == 0 && allocs > 0, "%d thread(s): the test net builds and plans (%ld allocations counted: "
		      "the wrappers are in place) %s", t, allocs, rc ? tn_errmsg() : "");
		if (rc)
			continue;
		for (int i = 0; i < net.n; i++)
			seen[net.nodes[i].op] = 1;
		struct tn_param_source src = {&net, src_shape, src_read, src_count, src_name_at, "test weights"};
		rc = tn_net_load(&net, &src);
		CHECK(rc == 0, "%d thread(s): weights load %s", t, rc ? tn_errmsg() : "");
		long n = forward_allocs(&net, out[t - 1], CAP, &n_out[t - 1]);
		CHECK(n == 0, "%d thread(s): tn_net_forward allocates nothing (%ld allocations)", t, n);
		rc = tn_net_set_input_size(&net, 40, 56);
		size_t unused;
		static float other[CAP];
		n = rc ? -1 : forward_allocs(&net, other, CAP, &unused);
		CHECK(n == 0, "%d thread(s): after a re-plan at 56x40, tn_net_forward allocates nothing (%ld)", t, n);
		if (t == 1)
			check_profile(&net);
		tn_net_free(&net);
	}
	int all = 1;
	for (int op = 0; op < TN_NODE_COUNT; op++)
		all &= seen[op];
	CHECK(all, "the test net holds every kind of node");
	CHECK(n_out[0] && n_out[0] == n_out[1] && n_out[0] <= CAP && !memcmp(out[0], out[1], sizeof(float) * n_out[0]),
	      "the same output bytes with 1 and 2 threads (%zu values)", n_out[0]);
	return check_done();
}
