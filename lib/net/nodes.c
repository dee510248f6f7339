/* Each op's shape rule, workspace, kernel call and MAC count (the conventions are in flops.h).
 * The kernels themselves live in lib/ops; here they only meet the graph. */
#include "net/nodes.h"

#include "core/error.h"
#include "image/resample.h"
#include "ops/attention.h"
#include "ops/basic.h"
#include "ops/detect.h"
#include "ops/encoding.h"

#include <string.h>

static const struct tn_node *input(const struct tn_net *net, const struct tn_node *nd, int k)
{
	return &net->nodes[nd->in[k]];
}

static const float *input_data(const struct tn_net *net, const struct tn_node *nd, int k)
{
	return net->arena + net->nodes[nd->in[k]].offset;
}

static float *output_data(const struct tn_net *net, const struct tn_node *nd)
{
	return net->arena + nd->offset;
}

static double out_elems(const struct tn_node *nd)
{
	return (double)nd->c * nd->h * nd->w;
}

static size_t no_work(const struct tn_net *net, const struct tn_node *nd, int nthreads)
{
	(void)net, (void)nd, (void)nthreads;
	return 0;
}

static double no_macs(const struct tn_net *net, const struct tn_node *nd, const struct tn_flops_opts *o)
{
	(void)net, (void)nd, (void)o;
	return 0;
}

/* The shape of the first input (attention blocks, channel gate's x). */
static int same_shape(const struct tn_net *net, struct tn_node *nd)
{
	const struct tn_node *a = input(net, nd, 0);
	nd->c = a->c;
	nd->h = a->h;
	nd->w = a->w;
	return 0;
}

/* --- input --------------------------------------------------------------------------------- */

/* Its shape is the network's input size, set by tn_net_input and tn_net_set_input_size. */
static int input_shape(const struct tn_net *net, struct tn_node *nd)
{
	(void)net, (void)nd;
	return 0;
}

static void input_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	(void)net, (void)nd, (void)work, (void)nthreads;
}

/* --- conv and transposed conv ---------------------------------------------------------------- */

static int conv_shape(const struct tn_net *net, struct tn_node *nd)
{
	const struct tn_node *a = input(net, nd, 0);
	const struct tn_conv *cv = &nd->conv;
	if (a->c != cv->cin)
		return tn_fail(TN_E_SHAPE, "%s: input has %d channels, expected %d", nd->conv_name, a->c, cv->cin);
	nd->c = cv->cout;
	nd->h = tn_conv_out_size(a->h, cv->kh, cv->stride, cv->pad, cv->dil);
	nd->w = tn_conv_out_size(a->w, cv->kw, tn_conv_sw(cv), tn_conv_pw(cv), cv->dil);
	if (nd->h <= 0 || nd->w <= 0)
		return tn_fail(TN_E_SHAPE, "%s: input %dx%d too small", nd->conv_name, a->w, a->h);
	if (nd->res >= 0) {
		const struct tn_node *r = &net->nodes[nd->res];
		if (r->c != nd->c || r->h != nd->h || r->w != nd->w)
			return tn_fail(TN_E_SHAPE, "%s: residual shape differs", nd->conv_name);
	}
	return 0;
}

static size_t conv_work(const struct tn_net *net, const struct tn_node *nd, int nthreads)
{
	const struct tn_node *a = input(net, nd, 0);
	return tn_conv2d_workspace(&nd->conv, a->h, a->w, nd->flags, nthreads);
}

static void conv_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	const struct tn_node *a = input(net, nd, 0);
	const float *res = nd->res >= 0 ? net->arena + net->nodes[nd->res].offset : NULL;
	tn_conv2d(&nd->conv, input_data(net, nd, 0), a->h, a->w, output_data(net, nd), res, nd->flags, work,
		  nthreads);
}

/* Bias excluded; a BatchNorm counts 4 per output element in thop, 1 in 2021's ultralytics. */
static double conv_macs(const struct tn_net *net, const struct tn_node *nd, const struct tn_flops_opts *o)
{
	(void)net;
	const struct tn_conv *cv = &nd->conv;
	const double out = out_elems(nd);
	double m = out * (cv->cin / cv->groups) * cv->kh * cv->kw;
	if (nd->bn_name[0] && !o->bn_folded)
		m += o->convention == TN_FLOPS_THOP ? 4 * out : o->convention == TN_FLOPS_ULTRALYTICS ? out : 0;
	return m;
}

static int deconv_shape(const struct tn_net *net, struct tn_node *nd)
{
	const struct tn_node *a = input(net, nd, 0);
	const struct tn_deconv *dc = &nd->deconv;
	if (a->c != dc->cin)
		return tn_fail(TN_E_SHAPE, "%s: input has %d channels, expected %d", nd->conv_name, a->c, dc->cin);
	nd->c = dc->cout;
	nd->h = tn_deconv_out_size(a->h, dc->k, dc->stride, dc->pad, dc->out_pad);
	nd->w = tn_deconv_out_size(a->w, dc->k, dc->stride, dc->pad, dc->out_pad);
	if (nd->h <= 0 || nd->w <= 0)
		return tn_fail(TN_E_SHAPE, "%s: input %dx%d gives no output", nd->conv_name, a->w, a->h);
	return 0;
}

static size_t deconv_work(const struct tn_net *net, const struct tn_node *nd, int nthreads)
{
	(void)nthreads;
	const struct tn_node *a = input(net, nd, 0);
	return tn_deconv2d_workspace(&nd->deconv, a->h, a->w);
}

static void deconv_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	(void)nthreads;
	const struct tn_node *a = input(net, nd, 0);
	tn_deconv2d(&nd->deconv, input_data(net, nd, 0), a->h, a->w, output_data(net, nd), work);
}

static double deconv_macs(const struct tn_net *net, const struct tn_node *nd, const struct tn_flops_opts *o)
{
	const struct tn_deconv *dc = &nd->deconv;
	const struct tn_node *a = input(net, nd, 0);
	if (o->convention == TN_FLOPS_CONV) /* every input pixel meets k*k weights per output channel of its group */
		return (double)dc->cin * a->h * a->w * (dc->cout / dc->groups) * dc->k * dc->k;
	return out_elems(nd) * (dc->cin / dc->groups) * dc->k * dc->k; /* thop's formula */
}

/* --- pooling and resizing ---------------------------------------------------------------------- */

static int gap_shape(const struct tn_net *net, struct tn_node *nd)
{
	nd->c = input(net, nd, 0)->c;
	nd->h = nd->w = 1;
	return 0;
}

static void gap_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	(void)work, (void)nthreads;
	const struct tn_node *a = input(net, nd, 0);
	tn_gap(input_data(net, nd, 0), a->c, a->h, a->w, output_data(net, nd));
}

/* To the size of node `like`. */
static int resize_shape(const struct tn_net *net, struct tn_node *nd)
{
	nd->c = input(net, nd, 0)->c;
	nd->h = net->nodes[nd->like].h;
	nd->w = net->nodes[nd->like].w;
	return 0;
}

static size_t resize_ac_work(const struct tn_net *net, const struct tn_node *nd, int nthreads)
{
	(void)net, (void)nthreads;
	return tn_resize_bilinear_ac_workspace(nd->h, nd->w);
}

static void resize_ac_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	(void)nthreads;
	const struct tn_node *a = input(net, nd, 0);
	tn_resize_bilinear_ac(input_data(net, nd, 0), a->c, a->h, a->w, output_data(net, nd), nd->h, nd->w, work);
}

static size_t resize_work(const struct tn_net *net, const struct tn_node *nd, int nthreads)
{
	(void)net;
	return tn_resize_bilinear_cv_workspace(nd->h, nd->w, nthreads);
}

static void resize_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	const struct tn_node *a = input(net, nd, 0);
	tn_resize_bilinear_cv_work(input_data(net, nd, 0), a->c, a->h, a->w, (long)a->h * a->w, a->w,
				   output_data(net, nd), nd->h, nd->w, 0, nd->h, work, nthreads);
}

/* PyTorch's pooling output size; in ceil mode the last window must start inside the input or
 * its left padding. */
static int pool_out_size(int in, int k, int stride, int pad, int ceil_mode)
{
	if (stride <= 0 || in + 2 * pad < k)
		return 0;
	int o = (in + 2 * pad - k + (ceil_mode ? stride - 1 : 0)) / stride + 1;
	if (ceil_mode && (o - 1) * stride >= in + pad)
		o--;
	return o;
}

/* iarg: kernel, stride, padding, ceil_mode */
static int pool_shape(const struct tn_net *net, struct tn_node *nd)
{
	const struct tn_node *a = input(net, nd, 0);
	nd->c = a->c;
	nd->h = pool_out_size(a->h, nd->iarg[0], nd->iarg[1], nd->iarg[2], nd->iarg[3]);
	nd->w = pool_out_size(a->w, nd->iarg[0], nd->iarg[1], nd->iarg[2], nd->iarg[3]);
	if (nd->h <= 0 || nd->w <= 0)
		return tn_fail(TN_E_SHAPE, "pooling input %dx%d too small", a->w, a->h);
	return 0;
}

static size_t pool_work(const struct tn_net *net, const struct tn_node *nd, int nthreads)
{
	return tn_pool2d_workspace(input(net, nd, 0)->w, nthreads);
}

/* nd->h, nd->w: floor or ceil mode, as planned */
static void pool_forward(const struct tn_net *net, const struct tn_node *nd, int avg, float *work, int nthreads)
{
	const struct tn_node *a = input(net, nd, 0);
	tn_pool2d(input_data(net, nd, 0), a->c, a->h, a->w, output_data(net, nd), nd->h, nd->w, nd->iarg[0],
		  nd->iarg[1], nd->iarg[2], avg, work, nthreads);
}

static void maxpool_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	pool_forward(net, nd, 0, work, nthreads);
}

static void avgpool_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	pool_forward(net, nd, 1, work, nthreads);
}

/* thop: kernel adds + 1 divide per output element */
static double avgpool_macs(const struct tn_net *net, const struct tn_node *nd, const struct tn_flops_opts *o)
{
	(void)net;
	return o->convention == TN_FLOPS_CONV ? 0 : ((double)nd->iarg[0] * nd->iarg[0] + 1) * out_elems(nd);
}

/* iarg[0]: the integer scale */
static int upsample_shape(const struct tn_net *net, struct tn_node *nd)
{
	const struct tn_node *a = input(net, nd, 0);
	nd->c = a->c;
	nd->h = a->h * nd->iarg[0];
	nd->w = a->w * nd->iarg[0];
	return 0;
}

static void upsample_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	(void)work, (void)nthreads;
	const struct tn_node *a = input(net, nd, 0);
	tn_upsample_nearest(input_data(net, nd, 0), a->c, a->h, a->w, output_data(net, nd), nd->iarg[0]);
}

/* thop 0.1.x: one per output element; 2021's thop: none */
static double upsample_macs(const struct tn_net *net, const struct tn_node *nd, const struct tn_flops_opts *o)
{
	(void)net;
	return o->convention == TN_FLOPS_THOP ? out_elems(nd) : 0;
}

static int space2depth_shape(const struct tn_net *net, struct tn_node *nd)
{
	const struct tn_node *a = input(net, nd, 0);
	if (a->h % 2 || a->w % 2)
		return tn_fail(TN_E_SHAPE, "Focus needs an even input size, not %dx%d", a->w, a->h);
	nd->c = 4 * a->c;
	nd->h = a->h / 2;
	nd->w = a->w / 2;
	return 0;
}

static void space2depth_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	(void)work, (void)nthreads;
	const struct tn_node *a = input(net, nd, 0);
	tn_space_to_depth2(input_data(net, nd, 0), a->c, a->h, a->w, output_data(net, nd));
}

/* --- sums and concatenation ------------------------------------------------------------------ */

static int concat_shape(const struct tn_net *net, struct tn_node *nd)
{
	const struct tn_node *a = input(net, nd, 0);
	nd->c = 0;
	nd->h = a->h;
	nd->w = a->w;
	for (int k = 0; k < nd->n_in; k++) {
		const struct tn_node *b = input(net, nd, k);
		if (b->h != nd->h || b->w != nd->w)
			return tn_fail(TN_E_SHAPE, "concat of maps of different sizes");
		nd->c += b->c;
	}
	return 0;
}

static void concat_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	(void)work, (void)nthreads;
	const float *xs[TN_NODE_MAX_IN];
	int cs[TN_NODE_MAX_IN];
	for (int k = 0; k < nd->n_in; k++) {
		xs[k] = input_data(net, nd, k);
		cs[k] = input(net, nd, k)->c;
	}
	tn_concat(xs, cs, nd->n_in, (size_t)nd->h * nd->w, output_data(net, nd));
}

/* iarg[0] = 1: ReLU after the sum */
static int add_shape(const struct tn_net *net, struct tn_node *nd)
{
	const struct tn_node *a = input(net, nd, 0);
	if (nd->n_in != 2)
		return tn_fail(TN_E_SHAPE, "sum of maps of different shapes");
	const struct tn_node *b = input(net, nd, 1);
	if (a->c != b->c || a->h != b->h || a->w != b->w)
		return tn_fail(TN_E_SHAPE, "sum of maps of different shapes");
	return same_shape(net, nd);
}

static void add_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	(void)work, (void)nthreads;
	tn_add(input_data(net, nd, 0), input_data(net, nd, 1), (size_t)nd->c * nd->h * nd->w, nd->iarg[0],
	       output_data(net, nd));
}

/* --- attention blocks (iarg[0]: SE hidden width, ECA kernel, ESE add_maxpool, SA groups) ------- */

static size_t se_work(const struct tn_net *net, const struct tn_node *nd, int nthreads)
{
	(void)net, (void)nthreads;
	return tn_se_workspace(nd->c, nd->iarg[0]);
}

static void se_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	(void)nthreads;
	const struct tn_node *a = input(net, nd, 0);
	tn_se(input_data(net, nd, 0), a->c, a->h, a->w, nd->p[0].data, nd->p[1].data, nd->iarg[0], work,
	      output_data(net, nd));
}

/* AdaptiveAvgPool2d(1), Linear C->h, Linear h->C */
static double se_macs(const struct tn_net *net, const struct tn_node *nd, const struct tn_flops_opts *o)
{
	const struct tn_node *a = input(net, nd, 0);
	double c = nd->c, hw = (double)a->h * a->w;
	return o->convention == TN_FLOPS_CONV ? 0 : (hw + 1) * c + 2 * c * nd->iarg[0];
}

/* ECA's and EffectiveSE's channel means and gates */
static size_t gate_stats_work(const struct tn_net *net, const struct tn_node *nd, int nthreads)
{
	(void)net, (void)nthreads;
	return tn_gate_workspace(nd->c);
}

static void eca_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	(void)nthreads;
	const struct tn_node *a = input(net, nd, 0);
	tn_eca(input_data(net, nd, 0), a->c, a->h, a->w, nd->p[0].data, nd->iarg[0], work, output_data(net, nd));
}

/* AdaptiveAvgPool2d(1), Conv1d(1, 1, k) over the C values */
static double eca_macs(const struct tn_net *net, const struct tn_node *nd, const struct tn_flops_opts *o)
{
	const struct tn_node *a = input(net, nd, 0);
	return o->convention == TN_FLOPS_CONV ? 0 : ((double)a->h * a->w + 1) * nd->c + (double)nd->c * nd->iarg[0];
}

static void ese_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	(void)nthreads;
	const struct tn_node *a = input(net, nd, 0);
	tn_effective_se(input_data(net, nd, 0), a->c, a->h, a->w, nd->p[0].data, nd->p[1].data, nd->iarg[0], work,
			output_data(net, nd));
}

/* x.mean (functional), 1x1 Conv2d C->C */
static double ese_macs(const struct tn_net *net, const struct tn_node *nd, const struct tn_flops_opts *o)
{
	(void)net, (void)o;
	return (double)nd->c * nd->c;
}

static void sa_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	(void)work, (void)nthreads;
	const struct tn_node *a = input(net, nd, 0);
	tn_shuffle_attention(input_data(net, nd, 0), a->c, a->h, a->w, nd->iarg[0], nd->p[0].data, nd->p[1].data,
			     nd->p[2].data, nd->p[3].data, nd->p[4].data, nd->p[5].data, output_data(net, nd));
}

/* AdaptiveAvgPool2d(1) on half the channels; GroupNorm is not hooked */
static double sa_macs(const struct tn_net *net, const struct tn_node *nd, const struct tn_flops_opts *o)
{
	const struct tn_node *a = input(net, nd, 0);
	return o->convention == TN_FLOPS_CONV ? 0 : ((double)a->h * a->w + 1) * nd->c / 2;
}

/* --- YOLOv5 Detect (iarg: anchors per level, classes; p[0]: anchors [levels][na][2]) ---------- */

/* rows: level, anchor, y, x; each row cx, cy, w, h, obj, classes */
static int detect_shape(const struct tn_net *net, struct tn_node *nd)
{
	const int no = nd->iarg[1] + 5;
	size_t rows = 0;
	for (int k = 0; k < nd->n_in; k++) {
		const struct tn_node *b = input(net, nd, k);
		if (b->c != nd->iarg[0] * no)
			return tn_fail(TN_E_SHAPE, "Detect input %d has %d channels, expected %d", k, b->c,
				       nd->iarg[0] * no);
		rows += (size_t)nd->iarg[0] * b->h * b->w;
	}
	if (rows > (size_t)1 << 30)
		return tn_fail(TN_E_SHAPE, "Detect output too large");
	nd->c = 1;
	nd->h = (int)rows;
	nd->w = no;
	return 0;
}

/* The stride of a level is the input height over its height. */
static size_t detect_work(const struct tn_net *net, const struct tn_node *nd, int nthreads)
{
	(void)net;
	return tn_detect_decode_work(nd->iarg[1] + 5, nthreads);
}

static void detect_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	const int na = nd->iarg[0], no = nd->iarg[1] + 5;
	float *y = output_data(net, nd);
	for (int lvl = 0; lvl < nd->n_in; lvl++) {
		const struct tn_node *b = input(net, nd, lvl);
		tn_detect_decode(input_data(net, nd, lvl), na, no, b->h, b->w, (float)net->in_h / (float)b->h,
				 nd->p[0].data + (size_t)lvl * na * 2, y, work, nthreads);
		y += (size_t)na * b->h * b->w * no;
	}
}

/* --- EncNet (ENCODING: iarg[0] codes, p: codewords, scale, BatchNorm1d weight, bias, mean, var) - */

/* Also refuses sizes whose workspace would overflow, so the forward cannot fail. */
static int encoding_shape(const struct tn_net *net, struct tn_node *nd)
{
	const struct tn_node *a = input(net, nd, 0);
	size_t floats;
	if (nd->iarg[0] < 1 || nd->n_p != 6)
		return tn_fail(TN_E_SHAPE, "encoding node without its codes");
	int rc = tn_encoding_workspace(a->c, (size_t)a->h * a->w, nd->iarg[0], &floats);
	if (rc)
		return rc;
	nd->c = a->c;
	nd->h = nd->w = 1;
	return 0;
}

static size_t encoding_work(const struct tn_net *net, const struct tn_node *nd, int nthreads)
{
	(void)nthreads;
	const struct tn_node *a = input(net, nd, 0);
	size_t floats;
	tn_encoding_workspace(a->c, (size_t)a->h * a->w, nd->iarg[0], &floats);
	return floats;
}

/* Its sizes were checked by encoding_shape: it cannot fail. */
static void encoding_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	(void)nthreads;
	const struct tn_node *a = input(net, nd, 0);
	tn_encoding(input_data(net, nd, 0), a->c, (size_t)a->h * a->w, nd->iarg[0], nd->p[0].data, nd->p[1].data,
		    nd->p[2].data, nd->p[3].data, nd->p[4].data, nd->p[5].data, nd->bn_eps > 0.0f ? nd->bn_eps : 1e-5f,
		    work, output_data(net, nd));
}

/* every pixel meets every codeword twice: distance, then aggregation */
static double encoding_macs(const struct tn_net *net, const struct tn_node *nd, const struct tn_flops_opts *o)
{
	(void)o;
	const struct tn_node *a = input(net, nd, 0);
	return 2.0 * nd->iarg[0] * a->c * a->h * a->w;
}

/* in: x [c,h,w], g [c,1,1] */
static int gate_shape(const struct tn_net *net, struct tn_node *nd)
{
	const struct tn_node *a = input(net, nd, 0);
	const struct tn_node *g = nd->n_in == 2 ? input(net, nd, 1) : NULL;
	if (!g || g->c != a->c || g->h != 1 || g->w != 1)
		return tn_fail(TN_E_SHAPE, "channel gate of %d channels from a %dx%dx%d vector", a->c, g ? g->c : 0,
			       g ? g->h : 0, g ? g->w : 0);
	return same_shape(net, nd);
}

static void gate_forward(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads)
{
	(void)work, (void)nthreads;
	const struct tn_node *a = input(net, nd, 0);
	tn_channel_gate(input_data(net, nd, 0), a->c, (size_t)a->h * a->w, input_data(net, nd, 1),
			output_data(net, nd));
}

/* x * sigmoid(g) */
static double gate_macs(const struct tn_net *net, const struct tn_node *nd, const struct tn_flops_opts *o)
{
	const struct tn_node *a = input(net, nd, 0);
	return o->convention == TN_FLOPS_CONV ? 0 : (double)a->c * a->h * a->w;
}

/* --- the table ------------------------------------------------------------------------------ */

const struct tn_node_ops tn_node_ops[] = {
	[TN_NODE_INPUT] = {"input", input_shape, no_work, input_forward, no_macs},
	[TN_NODE_CONV] = {"Conv2d", conv_shape, conv_work, conv_forward, conv_macs},
	[TN_NODE_GAP] = {"mean", gap_shape, no_work, gap_forward, no_macs},
	[TN_NODE_RESIZE_AC] = {"interpolate", resize_shape, resize_ac_work, resize_ac_forward, no_macs},
	[TN_NODE_CONCAT] = {"cat", concat_shape, no_work, concat_forward, no_macs},
	[TN_NODE_MAXPOOL] = {"MaxPool2d", pool_shape, pool_work, maxpool_forward, no_macs},
	[TN_NODE_UPSAMPLE] = {"Upsample", upsample_shape, no_work, upsample_forward, upsample_macs},
	[TN_NODE_SPACE2DEPTH] = {"space-to-depth", space2depth_shape, no_work, space2depth_forward, no_macs},
	[TN_NODE_SE] = {"SEAttention", same_shape, se_work, se_forward, se_macs},
	[TN_NODE_ECA] = {"ECAAttention", same_shape, gate_stats_work, eca_forward, eca_macs},
	[TN_NODE_ESE] = {"EffectiveSE", same_shape, gate_stats_work, ese_forward, ese_macs},
	[TN_NODE_SA] = {"ShuffleAttention", same_shape, no_work, sa_forward, sa_macs},
	[TN_NODE_DETECT] = {"Detect", detect_shape, detect_work, detect_forward, no_macs},
	[TN_NODE_DECONV] = {"ConvTranspose2d", deconv_shape, deconv_work, deconv_forward, deconv_macs},
	[TN_NODE_ADD] = {"add", add_shape, no_work, add_forward, no_macs},
	[TN_NODE_AVGPOOL] = {"AvgPool2d", pool_shape, pool_work, avgpool_forward, avgpool_macs},
	[TN_NODE_RESIZE] = {"interpolate", resize_shape, resize_work, resize_forward, no_macs},
	[TN_NODE_ENCODING] = {"Encoding", encoding_shape, encoding_work, encoding_forward, encoding_macs},
	[TN_NODE_CHANNEL_GATE] = {"gate", gate_shape, no_work, gate_forward, gate_macs},
};

_Static_assert(sizeof tn_node_ops / sizeof tn_node_ops[0] == TN_NODE_COUNT, "one row in tn_node_ops per op");
