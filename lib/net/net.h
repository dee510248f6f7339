/* A network: a list of nodes in execution order, each a layer whose parameters carry their
 * PyTorch state_dict names.  The same graph serves inference, weightconv --check and
 * flops-count.  Activations live in one arena planned by liveness. */
#ifndef TN_NET_H
#define TN_NET_H

#include <stddef.h>
#include <stdint.h>

#include "io/ckpt.h"
#include "ops/conv.h"
#include "ops/deconv.h"

/* The ops a node can be; each has its row in the op table (net/nodes.h). */
enum tn_node_op {
	TN_NODE_INPUT,
	TN_NODE_CONV,      /* conv (+ folded BN) + act (+ residual) */
	TN_NODE_GAP,       /* global average pool to 1x1 */
	TN_NODE_RESIZE_AC, /* bilinear, align_corners=True, to the size of node `like` */
	TN_NODE_CONCAT,    /* along channels, inputs in order */
	TN_NODE_MAXPOOL,   /* iarg: kernel, stride, padding (-inf), ceil_mode */
	TN_NODE_UPSAMPLE,  /* nearest, iarg[0] = integer scale */
	TN_NODE_SPACE2DEPTH, /* YOLOv5 Focus's slicing */
	TN_NODE_SE,        /* SEAttention, iarg[0] = hidden width */
	TN_NODE_ECA,       /* ECAAttention, iarg[0] = kernel size */
	TN_NODE_ESE,       /* EffectiveSE, iarg[0] = add_maxpool */
	TN_NODE_SA,        /* ShuffleAttention, iarg[0] = groups */
	TN_NODE_DETECT,    /* YOLOv5 Detect decoding; iarg: anchors per level, classes */
	TN_NODE_DECONV,    /* transposed conv (+ bias), PyTorch ConvTranspose2d */
	TN_NODE_ADD,       /* sum of two maps of one shape; iarg[0] = 1: ReLU after the sum */
	TN_NODE_AVGPOOL,   /* iarg: kernel, stride, padding, ceil_mode; padding counts (PyTorch default) */
	TN_NODE_RESIZE,    /* bilinear, align_corners=False (half-pixel centres), to the size of `like` */
	TN_NODE_ENCODING,  /* EncNet Encoding + BatchNorm1d (eps 1e-5) + ReLU + mean over codes -> [c,1,1];
			    * iarg[0] = codes; p: codewords, scale, BN1d weight, bias, mean, var */
	TN_NODE_CHANNEL_GATE, /* relu(x + x * sigmoid(g)), in: x [c,h,w], g [c,1,1] */
	TN_NODE_COUNT
};

#define TN_NODE_MAX_IN 8
#define TN_NAME_MAX 96
#define TN_NODE_MAX_PARAMS 6

/* A parameter of a non-conv node, loaded as float32. */
struct tn_node_param {
	char name[TN_NAME_MAX + 24];
	size_t numel;
	float *data;
};

struct tn_node {
	enum tn_node_op op;
	int in[TN_NODE_MAX_IN];
	int n_in;
	int res;   /* CONV: residual node or -1 */
	int like;  /* RESIZE_AC, RESIZE: node whose size to take */
	int keep;  /* its output outlives the forward (tn_net_keep) */
	int flags; /* CONV: TN_CONV_* */
	struct tn_conv conv;
	struct tn_deconv deconv; /* DECONV */
	char conv_name[TN_NAME_MAX]; /* CONV, DECONV: module holding .weight (and .bias) */
	char bn_name[TN_NAME_MAX];   /* CONV: BatchNorm module, or "" */
	int has_bias;
	float bn_eps;
	int iarg[4];          /* op-specific integers (see enum tn_node_op) */
	struct tn_node_param p[TN_NODE_MAX_PARAMS];
	int n_p;
	int c, h, w;          /* output shape, set by tn_net_plan */
	size_t offset;        /* in the arena, floats */
	int last_use;
};

/* A parameter the network expects, with its PyTorch shape. */
struct tn_param {
	char name[TN_NAME_MAX + 24];
	int ndim;
	int64_t shape[4];
};

struct tn_net {
	struct tn_node *nodes;
	int n, cap;
	int output;
	int in_c, in_h, in_w;
	struct tn_param *params;
	size_t n_params, cap_params;
	float *weights; /* folded weights and biases, one allocation */
	float *prepared; /* packed or Winograd-transformed weights of the convs that use them */
	float *arena;
	size_t arena_floats;
	float *work;
	size_t work_floats;
	int threads; /* the thread count work_floats was planned for */
	int output_set; /* output was chosen by tn_net_set_output */
	int failed; /* a builder call failed: TN_NET_NOMEM, or TN_NET_BAD_LAYER with its reason in error */
	char error[256];
	char ignore[2][32]; /* tensors under these prefixes are neither expected nor unexpected */
	double *profile_ms; /* when profiling (tn_net_profile): each node's summed time, then (from
			     * index n) its summed MACs, as the input size may change between forwards */
	int profile_runs;   /* forwards summed there */
};

enum { TN_NET_NOMEM = 1, TN_NET_BAD_LAYER = 2 };

void tn_net_init(struct tn_net *net);
void tn_net_free(struct tn_net *net);

/* Building.  Each builder call returns the new node's index, or -1 with the net marked failed
 * (net->failed) and the reason kept: the first failure's, since the calls after it build
 * nothing.  A model builds its whole graph, then asks tn_net_build_error once. */

/* 0 if every builder call succeeded; else TN_E_FORMAT with the bad call's reason, or TN_E_NOMEM
 * ("out of memory building <what>"), left for tn_errmsg. */
int tn_net_build_error(const struct tn_net *net, const char *what);
int tn_net_input(struct tn_net *net, int c, int h, int w);

/* A conv (+ folded BatchNorm) + activation, for tn_net_conv with designated initialisers.
 * Fields left out are 0: no bias, no BatchNorm, eps 1e-5, no padding, dilation 1, no
 * activation; cin, cout, groups, the kernel and the stride are always given. */
struct tn_conv_args {
	const char *name;  /* module with .weight [cout, cin/groups, kh, kw] */
	int bias;          /* it also has .bias [cout] */
	const char *bn;    /* BatchNorm2d module folded in, or NULL */
	float bn_eps;      /* its eps; 0: PyTorch's 1e-5 (YOLOv5 and GoogLeNet use 1e-3) */
	int cin, cout, groups;
	int k;             /* a k x k kernel; or 0, and kh x kw */
	int kh, kw;
	int stride, pad;
	int dil;           /* 0 or 1: none */
	int stride_w, pad_w; /* the horizontal ones when they differ (CrossConv's 1xk); stride_w 0: the same */
	enum tn_act act;
	int flags;         /* TN_CONV_RELU_IN: relu(x) in (Xception's pre-activation) */
};
int tn_net_conv(struct tn_net *net, int x, const struct tn_conv_args *a);
/* nn.Linear as a 1x1 conv on a 1x1 map: name has .weight [cout, cin] and .bias [cout]. */
int tn_net_linear(struct tn_net *net, int x, const char *name, int cin, int cout);
/* Transposed conv: name has .weight [cin, cout/groups, k, k] (+ .bias [cout] if has_bias). */
int tn_net_deconv(struct tn_net *net, int x, const char *name, int has_bias, int cin, int cout, int k,
		  int stride, int pad, int out_pad, int groups);
/* Adds a residual to a conv node: y += res (or relu(res) with TN_CONV_RES_RELU). */
void tn_net_set_residual(struct tn_net *net, int conv_node, int res, int flags);
int tn_net_gap(struct tn_net *net, int x);
/* Bilinear resizes of x to the size of node `like`: align_corners=True, and False (half-pixel
 * centres, F.interpolate's default). */
int tn_net_resize_ac(struct tn_net *net, int x, int like);
int tn_net_resize(struct tn_net *net, int x, int like);
/* Up to TN_NODE_MAX_IN maps of one size, along channels. */
int tn_net_concat(struct tn_net *net, const int *xs, int n);
/* The other ops: their inputs (1 to TN_NODE_MAX_IN) and up to 4 integer arguments (see enum
 * tn_node_op); parameters are declared with tn_net_param. */
int tn_net_op(struct tn_net *net, enum tn_node_op op, const int *xs, int n, const int *iarg, int n_iarg);
/* Declares parameter `name` ("module.tensor", PyTorch shape ndim <= 4 / shape) of node i, its
 * next of at most TN_NODE_MAX_PARAMS. */
void tn_net_param(struct tn_net *net, int i, const char *name, int ndim, const int64_t *shape);
/* Tensors named prefix... (up to 2 prefixes of 31 characters) in a checkpoint are neither
 * expected nor unexpected (GoogLeNet's training-only aux heads). */
void tn_net_ignore(struct tn_net *net, const char *prefix);
/* The net's output is node i (by default the last node built). */
void tn_net_set_output(struct tn_net *net, int i);
/* Node i's output stays readable after tn_net_forward (tn_net_node_output): the planner gives
 * its memory to no later node.  The net's output is always kept. */
void tn_net_keep(struct tn_net *net, int i);

/* Changes the input size and plans again (weights stay loaded).  On failure no plan is left:
 * in_h and in_w are 0 until a size plans. */
int tn_net_set_input_size(struct tn_net *net, int h, int w);

/* Where parameters come from: a checkpoint or a .w file.  get() returns the tensor's shape and
 * data as float32 into a caller buffer, or a negative code if absent. */
struct tn_param_source {
	void *ctx;
	/* shape query: returns 0 and fills ndim/shape, or -1 if the name is absent */
	int (*shape)(void *ctx, const char *name, int *ndim, int64_t *shape);
	/* copies numel floats */
	void (*read)(void *ctx, const char *name, float *dst);
	/* every name the source holds, for "unexpected" reports */
	size_t (*count)(void *ctx);
	const char *(*name_at)(void *ctx, size_t i);
	const char *label; /* file name for messages */
};

/* Checks every expected parameter is present with the right shape, and nothing unexpected
 * (BatchNorm num_batches_tracked is ignored).  Each problem is appended to *report (malloc'd,
 * one per line); returns the number of problems. */
int tn_net_check(const struct tn_net *net, const struct tn_param_source *src, char **report);
/* Computes shapes, plans the arena and allocates it. */
int tn_net_plan(struct tn_net *net);
/* Loads parameters (folding BatchNorm into the convs).  Call tn_net_check first. */
int tn_net_load(struct tn_net *net, const struct tn_param_source *src);
/* Input buffer (c*h*w floats) to fill before tn_net_forward. */
float *tn_net_input_data(struct tn_net *net);
/* Runs the planned and loaded net on its input.  It allocates nothing and cannot fail: every
 * op's scratch was sized by the plan, for the thread count in use then (tn_threads()). */
void tn_net_forward(struct tn_net *net);
const float *tn_net_output(const struct tn_net *net, int *c, int *h, int *w);
/* Turns per-node timing on (zeroed) or off.  While on, every forward adds each node's wall
 * time to net->profile_ms[node] (a clock read per node; nothing is allocated). */
int tn_net_profile(struct tn_net *net, int on);
/* A kept node's output after tn_net_forward (tn_net_keep), and its shape. */
const float *tn_net_node_output(const struct tn_net *net, int i, int *c, int *h, int *w);

/* Parameter sources over a loaded checkpoint and an open .w file. */
struct tn_wfile;
void tn_param_source_ckpt(struct tn_param_source *src, const struct tn_ckpt *ck, const char *label);
void tn_param_source_wfile(struct tn_param_source *src, const struct tn_wfile *wf);

#endif
