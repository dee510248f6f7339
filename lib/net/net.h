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
	TN_NODE_ENCODING,  /* EncNet Encoding + BatchNorm1d + ReLU + mean over codes -> [c,1,1];
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
	int like;  /* RESIZE_AC: node whose size to take */
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
	float *wino;    /* Winograd-transformed weights of the convs that use them */
	float *arena;
	size_t arena_floats;
	float *work;
	size_t work_floats;
	int threads; /* the thread count work_floats was planned for */
	int failed; /* a builder call failed: TN_NET_NOMEM, or TN_NET_BAD_LAYER with the reason left by tn_fail */
	char ignore[2][32]; /* tensors under these prefixes are neither expected nor unexpected */
};

enum { TN_NET_NOMEM = 1, TN_NET_BAD_LAYER = 2 };

void tn_net_init(struct tn_net *net);
void tn_net_free(struct tn_net *net);

/* Builder calls return the new node's index (or -1 once net->failed is set). */
/* The error for a failed build of `what`: out of memory, or the bad layer's reason. */
int tn_net_build_error(const struct tn_net *net, const char *what);
int tn_net_input(struct tn_net *net, int c, int h, int w);
/* conv_name: module with .weight [cout, cin/groups, k, k] (+ .bias [cout] if has_bias);
 * bn_name: BatchNorm2d module (eps bn_eps) or NULL. */
int tn_net_conv(struct tn_net *net, int x, const char *conv_name, int has_bias, const char *bn_name,
		int cin, int cout, int k, int stride, int pad, int dil, int groups, enum tn_act act);
/* The same with a kh x kw kernel and separate vertical / horizontal strides and paddings. */
int tn_net_conv2(struct tn_net *net, int x, const char *conv_name, int has_bias, const char *bn_name,
		 int cin, int cout, int kh, int kw, int stride_h, int stride_w, int pad_h, int pad_w, int dil,
		 int groups, enum tn_act act);
/* nn.Linear as a 1x1 conv on a 1x1 map: conv_name has .weight [cout, cin] and .bias [cout]. */
int tn_net_linear(struct tn_net *net, int x, const char *conv_name, int cin, int cout);
/* Tensors named prefix... in a checkpoint are ignored (GoogLeNet's training-only aux heads). */
void tn_net_ignore(struct tn_net *net, const char *prefix);
/* Transposed conv: conv_name has .weight [cin, cout/groups, k, k] (+ .bias [cout] if has_bias). */
int tn_net_deconv(struct tn_net *net, int x, const char *conv_name, int has_bias, int cin, int cout, int k,
		  int stride, int pad, int out_pad, int groups);
/* Adds a residual to the last conv node: y += res (or relu(res) with TN_CONV_RES_RELU). */
void tn_net_set_residual(struct tn_net *net, int conv_node, int res, int flags);
void tn_net_set_flags(struct tn_net *net, int conv_node, int flags);
int tn_net_gap(struct tn_net *net, int x);
int tn_net_resize_ac(struct tn_net *net, int x, int like);
int tn_net_concat(struct tn_net *net, const int *xs, int n);
/* Ops without weights of their own, and ops with named parameters (added with tn_net_param). */
int tn_net_op(struct tn_net *net, enum tn_node_op op, const int *xs, int n, const int *iarg, int n_iarg);
/* Declares parameter `name` (PyTorch shape ndim/shape) of node i. */
void tn_net_param(struct tn_net *net, int i, const char *name, int ndim, const int64_t *shape);
void tn_net_set_bn_eps(struct tn_net *net, int conv_node, float eps);
/* Changes the input size and plans again (weights stay loaded). */
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

/* Parameter sources over a loaded checkpoint and an open .w file. */
struct tn_wfile;
void tn_param_source_ckpt(struct tn_param_source *src, const struct tn_ckpt *ck, const char *label);
void tn_param_source_wfile(struct tn_param_source *src, const struct tn_wfile *wf);

#endif
