/* The network builder and the activation planner: state_dict names and counts match the
 * upstream key lists, buffers are reused by liveness, and no two tensors alive at once share
 * memory. */
#include "check.h"
#include "core/error.h"
#include "models/deeplab.h"
#include "net/net.h"
#include "net/nodes.h"

#include <string.h>

static size_t node_floats(const struct tn_node *nd)
{
	return (size_t)nd->c * nd->h * nd->w;
}

/* The concat whose channel slice node k's output is (its block at the slice's place), or -1. */
static int slice_of(const struct tn_net *net, int k)
{
	for (int i = k + 1; i < net->n; i++) {
		const struct tn_node *cat = &net->nodes[i];
		if (cat->op != TN_NODE_CONCAT)
			continue;
		size_t off = 0;
		for (int m = 0; m < cat->n_in; m++) {
			const struct tn_node *x = &net->nodes[cat->in[m]];
			if (cat->in[m] == k && x->offset == cat->offset + off)
				return i;
			off += node_floats(x);
		}
	}
	return -1;
}

/* A block is alive from its first writer's step to its last reader's: a concat's block from
 * the step of the first slice written into it.  No two blocks alive at once overlap, and no
 * slice is read after its concat's block is freed.  *slices counts the slices. */
static int overlap_free(const struct tn_net *net, int *slices)
{
	int first[1024], owner[1024];
	if (net->n > 1024)
		return 0;
	*slices = 0;
	for (int i = 0; i < net->n; i++)
		first[i] = i;
	for (int k = 0; k < net->n; k++) {
		owner[k] = slice_of(net, k);
		if (owner[k] >= 0) {
			(*slices)++;
			if (first[owner[k]] > k)
				first[owner[k]] = k;
			if (net->nodes[k].last_use > net->nodes[owner[k]].last_use)
				return 0;
		}
	}
	for (int i = 0; i < net->n; i++)
		for (int j = 0; j < net->n; j++) {
			if (i == j || owner[i] >= 0 || owner[j] >= 0 || first[i] > first[j])
				continue;
			const struct tn_node *a = &net->nodes[i], *b = &net->nodes[j];
			if (a->last_use < first[j])
				continue; /* a is dead before b is written */
			size_t a0 = a->offset, a1 = a0 + node_floats(a), b0 = b->offset, b1 = b0 + node_floats(b);
			if (a0 < b1 && b0 < a1)
				return 0;
		}
	return 1;
}

static void check_model(enum tn_backbone bb, int df, size_t want_keys, size_t want_params)
{
	struct tn_net net;
	int rc = tn_deeplab_build(&net, bb, df, 21, 512, 512);
	CHECK(rc == 0, "%s ds%d builds", tn_backbone_name(bb), df);
	size_t keys = net.n_params, learnable = 0, bns = 0;
	for (size_t i = 0; i < net.n_params; i++) {
		const struct tn_param *p = &net.params[i];
		size_t n = 1;
		for (int d = 0; d < p->ndim; d++)
			n *= (size_t)p->shape[d];
		if (strstr(p->name, ".running_mean"))
			bns++;
		if (!strstr(p->name, ".running_"))
			learnable += n;
	}
	/* The upstream state_dict adds num_batches_tracked to each BatchNorm. */
	CHECK(keys + bns == want_keys, "%s: %zu state_dict keys (upstream %zu)", tn_backbone_name(bb), keys + bns,
	      want_keys);
	CHECK(learnable == want_params, "%s: %zu learnable parameters (upstream %zu)", tn_backbone_name(bb),
	      learnable, want_params);
	rc = tn_net_plan(&net);
	CHECK(rc == 0, "%s ds%d plans", tn_backbone_name(bb), df);
	size_t total = 0;
	for (int i = 0; i < net.n; i++)
		total += node_floats(&net.nodes[i]);
	CHECK(net.arena_floats * 4 < total, "%s ds%d: arena %zu MB, a quarter of the %zu MB of all activations",
	      tn_backbone_name(bb), df, net.arena_floats * 4 >> 20, total * 4 >> 20);
	int slices;
	CHECK(overlap_free(&net, &slices), "%s ds%d: no two live activations share memory", tn_backbone_name(bb), df);
	/* ASPP's five branches and the decoder's two inputs are written into their concats */
	CHECK(slices == 7, "%s ds%d: %d outputs written straight into a concat (want 7)", tn_backbone_name(bb), df,
	      slices);
	const struct tn_node *out = &net.nodes[net.output];
	CHECK(out->c == 21 && out->h == 512 && out->w == 512, "%s ds%d: logits 21x512x512", tn_backbone_name(bb),
	      df);
	tn_net_free(&net);
}

/* After a refused builder call (ret < 0; void calls pass -1): the net is failed for a bad layer
 * and tn_net_build_error gives TN_E_FORMAT with a reason holding want. */
static void expect_refused(struct tn_net *net, int ret, const char *what, const char *want)
{
	int rc = tn_net_build_error(net, "the test net");
	CHECK(ret < 0 && net->failed == TN_NET_BAD_LAYER && rc == TN_E_FORMAT && strstr(tn_errmsg(), want),
	      "%s: refused with the reason \"%s\"", what, tn_errmsg());
	tn_net_free(net);
}

/* A net of an 8x8x8 input and one conv; *x and *y get their nodes. */
static void small_net(struct tn_net *net, int *x, int *y)
{
	tn_net_init(net);
	*x = tn_net_input(net, 8, 8, 8);
	*y = tn_net_conv(net, *x, &(struct tn_conv_args){.name = "m.conv", .cin = 8, .cout = 8, .groups = 1, .k = 1,
			.stride = 1});
}

/* Every builder call that cannot build says why, and a model's build error shows it. */
static void builder_errors(void)
{
	struct tn_net net;
	int x, y;
	char longname[200];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;

	small_net(&net, &x, &y);
	CHECK(y == 1 && tn_net_build_error(&net, "the test net") == 0, "a good net has no build error");
	tn_net_free(&net);

	int args[5] = {3, 2, 1, 0, 0};
	small_net(&net, &x, &y);
	expect_refused(&net, tn_net_op(&net, TN_NODE_MAXPOOL, &y, 1, args, 5), "tn_net_op with 5 integers",
		       "MaxPool2d: 5 integer arguments (at most 4)");
	int nine[9] = {0, 1, 1, 1, 1, 1, 1, 1, 1};
	small_net(&net, &x, &y);
	expect_refused(&net, tn_net_op(&net, TN_NODE_ADD, nine, 9, NULL, 0), "tn_net_op with 9 inputs",
		       "add: 9 inputs (1 to 8)");
	small_net(&net, &x, &y);
	expect_refused(&net, tn_net_op(&net, TN_NODE_GAP, nine, 0, NULL, 0), "tn_net_op without inputs",
		       "mean: 0 inputs (1 to 8)");
	int bad_in[2] = {y, -1};
	small_net(&net, &x, &y);
	expect_refused(&net, tn_net_op(&net, TN_NODE_ADD, bad_in, 2, NULL, 0), "tn_net_op reading node -1",
		       "add: reads node -1, which does not exist");
	small_net(&net, &x, &y);
	expect_refused(&net, tn_net_op(&net, TN_NODE_CONV, &y, 1, NULL, 0), "tn_net_op making a conv",
		       "op 1 (Conv2d) is not built by tn_net_op");
	small_net(&net, &x, &y);
	expect_refused(&net, tn_net_op(&net, TN_NODE_RESIZE, &y, 1, NULL, 0), "tn_net_op making a resize",
		       "(interpolate) is not built by tn_net_op");
	small_net(&net, &x, &y);
	expect_refused(&net, tn_net_concat(&net, nine, 9), "tn_net_concat of 9 maps", "cat: 9 inputs (1 to 8)");
	small_net(&net, &x, &y);
	expect_refused(&net, tn_net_concat(&net, bad_in, 2), "tn_net_concat with node -1",
		       "cat: reads node -1, which does not exist");
	small_net(&net, &x, &y);
	expect_refused(&net, tn_net_resize(&net, y, 7), "tn_net_resize like node 7",
		       "interpolate: reads node 7, which does not exist (2 nodes)");

	small_net(&net, &x, &y);
	expect_refused(&net, tn_net_conv(&net, y, &(struct tn_conv_args){.name = longname, .cin = 8, .cout = 8,
			.groups = 1, .k = 1, .stride = 1}), "a conv named with 199 characters",
		       "aaa...: a name longer than 95 characters");
	small_net(&net, &x, &y);
	expect_refused(&net, tn_net_conv(&net, y, &(struct tn_conv_args){.name = "m.c2", .bn = longname, .cin = 8,
			.cout = 8, .groups = 1, .k = 1, .stride = 1}), "a BatchNorm named with 199 characters",
		       "a name longer than 95 characters");
	small_net(&net, &x, &y);
	expect_refused(&net, tn_net_linear(&net, y, "m.fc", 0, 8), "a linear layer of 0 inputs",
		       "m.fc: a conv of 0 to 8 channels in 1 groups (kernel 1x1) is impossible");

	static const int bad_deconv[][5] = {{8, 8, 0, 2, 0}, {8, 6, 4, 2, 0}, {8, 8, 1, 0, 0}, {8, 8, 1, 2, 2}};
	for (size_t k = 0; k < sizeof bad_deconv / sizeof bad_deconv[0]; k++) {
		const int *d = bad_deconv[k];
		small_net(&net, &x, &y);
		expect_refused(&net, tn_net_deconv(&net, y, "m.up", 0, d[0], d[1], 2, d[3], 0, d[4], d[2]),
			       "an impossible transposed conv", "m.up: a transposed conv of");
	}
	small_net(&net, &x, &y);
	int up = tn_net_deconv(&net, y, "m.up", 1, 8, 8, 2, 2, 0, 1, 8);
	CHECK(up == 2 && tn_net_build_error(&net, "the test net") == 0,
	      "a depthwise transposed conv with output padding below its stride builds");
	tn_net_free(&net);

	int64_t shape[5] = {8, 1, 1, 1, 1};
	small_net(&net, &x, &y);
	int se = tn_net_op(&net, TN_NODE_ESE, &y, 1, NULL, 0);
	for (int k = 0; k < 7; k++) {
		char name[32];
		snprintf(name, sizeof name, "m.p%d", k);
		tn_net_param(&net, se, name, 1, shape);
	}
	expect_refused(&net, -1, "a seventh parameter",
		       "m.p6: more than 6 parameters on one EffectiveSE node");
	small_net(&net, &x, &y);
	tn_net_param(&net, y, "m.p", 5, shape);
	expect_refused(&net, -1, "a parameter of 5 dimensions", "m.p: 5 dimensions (at most 4)");
	small_net(&net, &x, &y);
	tn_net_param(&net, y, "p", 1, shape);
	expect_refused(&net, -1, "a parameter without its module", "p: a parameter is named module.tensor");
	small_net(&net, &x, &y);
	tn_net_param(&net, y, longname, 1, shape);
	expect_refused(&net, -1, "a parameter named with 199 characters", "a name longer than 119 characters");
	small_net(&net, &x, &y);
	tn_net_param(&net, 5, "m.p", 1, shape);
	expect_refused(&net, -1, "a parameter of node 5", "m.p: reads node 5, which does not exist");

	small_net(&net, &x, &y);
	tn_net_ignore(&net, "aux1.");
	tn_net_ignore(&net, "aux2.");
	tn_net_ignore(&net, "aux3.");
	expect_refused(&net, -1, "a third ignored prefix", "ignored prefix 'aux3.': a third one (at most 2)");
	small_net(&net, &x, &y);
	tn_net_ignore(&net, longname);
	expect_refused(&net, -1, "an ignored prefix of 199 characters", "longer than 31 characters");

	small_net(&net, &x, &y);
	int g = tn_net_gap(&net, y);
	tn_net_set_residual(&net, g, y, 0);
	expect_refused(&net, -1, "a residual on a mean", "a residual added to node 2, a mean rather than a conv");
	small_net(&net, &x, &y);
	tn_net_set_residual(&net, y, 9, 0);
	expect_refused(&net, -1, "a residual from node 9", "m.conv: reads node 9, which does not exist");
	small_net(&net, &x, &y);
	tn_net_set_output(&net, 4);
	expect_refused(&net, -1, "node 4 as the output", "the output: reads node 4, which does not exist");
	small_net(&net, &x, &y);
	tn_net_keep(&net, -3);
	expect_refused(&net, -1, "keeping node -3", "a kept output: reads node -3, which does not exist");

	/* The first failure is the one reported; the calls after it build nothing. */
	small_net(&net, &x, &y);
	tn_net_op(&net, TN_NODE_MAXPOOL, &y, 1, args, 5);
	int after = tn_net_concat(&net, nine, 9);
	expect_refused(&net, after, "a failure after a failure", "MaxPool2d: 5 integer arguments");
}

/* Every op has its row, and every row every function (a row left out is all NULL). */
/* A concat's inputs are written into it, including one read again after the concat (its block
 * must live until then); an input read twice by one concat is copied. */
static void concat_in_place(void)
{
	struct tn_net net;
	int x, a;
	small_net(&net, &x, &a);
	const struct tn_conv_args c8 = {.name = "m.b", .cin = 8, .cout = 8, .groups = 1, .k = 3, .stride = 1, .pad = 1};
	int b = tn_net_conv(&net, a, &c8);
	int cat = tn_net_concat(&net, (int[]){a, b}, 2);
	int d = tn_net_conv(&net, cat, &(struct tn_conv_args){.name = "m.d", .cin = 16, .cout = 8, .groups = 1,
							      .k = 1, .stride = 1});
	int e = tn_net_conv(&net, a, &(struct tn_conv_args){.name = "m.e", .cin = 8, .cout = 8, .groups = 1, .k = 1,
							    .stride = 1});
	int twice = tn_net_concat(&net, (int[]){d, e, d}, 3);
	tn_net_set_output(&net, twice);
	int rc = tn_net_plan(&net), slices = 0;
	CHECK(rc == 0 && overlap_free(&net, &slices), "a concat written in place plans without overlaps");
	CHECK(slices == 3, "%d outputs written into a concat (want 3: a, b and e)", slices);
	CHECK(net.nodes[cat].last_use >= e, "the concat's block lives while its slice a is read");
	tn_net_free(&net);
}

static void op_table(void)
{
	int complete = 0;
	for (int op = 0; op < TN_NODE_COUNT; op++) {
		const struct tn_node_ops *t = &tn_node_ops[op];
		int ok = t->name && t->shape && t->work && t->forward && t->macs;
		if (!ok)
			printf("# op %d: row incomplete\n", op);
		complete += ok;
	}
	CHECK(complete == TN_NODE_COUNT, "%d of %d ops have a name, shape, work, forward and MAC count", complete,
	      TN_NODE_COUNT);
}

int main(void)
{
	op_table();
	builder_errors();
	concat_in_place();
	/* Counts from ../shared/notes/segmentation-keys-*.txt (bubbliiiing, 21 classes). */
	check_model(TN_BACKBONE_MOBILENET, 16, 371, 5818149);
	check_model(TN_BACKBONE_MOBILENET, 8, 371, 5818149);
	check_model(TN_BACKBONE_XCEPTION, 16, 857, 54713557);
	check_model(TN_BACKBONE_XCEPTION, 8, 857, 54713557);
	struct tn_net net;
	CHECK(tn_deeplab_build(&net, TN_BACKBONE_MOBILENET, 12, 21, 512, 512) != 0, "downsample 12 is refused");
	CHECK(tn_deeplab_build(&net, TN_BACKBONE_MOBILENET, 16, 0, 512, 512) != 0, "0 classes are refused");
	/* A conv with no groups, or channels the groups do not divide, is refused by the builder
	 * with a reason (a division by zero, found by fuzzing yaml configs, came from groups 0). */
	static const int bad[][3] = {{8, 8, 0}, {0, 8, 1}, {8, 0, 1}, {8, 6, 4}, {6, 8, 4}};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		tn_net_init(&net);
		int x = tn_net_input(&net, bad[k][0] > 0 ? bad[k][0] : 1, 8, 8);
		int y = tn_net_conv(&net, x, &(struct tn_conv_args){.name = "m.conv", .cin = bad[k][0],
				.cout = bad[k][1], .groups = bad[k][2], .k = 3, .stride = 1, .pad = 1});
		int after = tn_net_conv(&net, x, &(struct tn_conv_args){.name = "m.next", .cin = 8, .cout = 8,
				.groups = 1, .k = 1, .stride = 1});
		int rc = tn_net_build_error(&net, "the test net");
		CHECK(y < 0 && after < 0 && net.failed == TN_NET_BAD_LAYER && rc == TN_E_FORMAT &&
			      strstr(tn_errmsg(), "m.conv: a conv of") != NULL,
		      "conv %d -> %d channels in %d groups refused: %s", bad[k][0], bad[k][1], bad[k][2], tn_errmsg());
		tn_net_free(&net);
	}
	return check_done();
}
