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

/* A node is alive from its own step to its last reader's. */
static int overlap_free(const struct tn_net *net)
{
	for (int i = 0; i < net->n; i++)
		for (int j = i + 1; j < net->n; j++) {
			const struct tn_node *a = &net->nodes[i], *b = &net->nodes[j];
			if (a->last_use < j)
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
	CHECK(overlap_free(&net), "%s ds%d: no two live activations share memory", tn_backbone_name(bb), df);
	const struct tn_node *out = &net.nodes[net.output];
	CHECK(out->c == 21 && out->h == 512 && out->w == 512, "%s ds%d: logits 21x512x512", tn_backbone_name(bb),
	      df);
	tn_net_free(&net);
}

/* Every op has its row, and every row every function (a row left out is all NULL). */
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
		int y = tn_net_conv(&net, x, "m.conv", 0, NULL, bad[k][0], bad[k][1], 3, 1, 1, 1, bad[k][2], TN_ACT_NONE);
		int after = tn_net_conv(&net, x, "m.next", 0, NULL, 8, 8, 1, 1, 0, 1, 1, TN_ACT_NONE);
		int rc = tn_net_build_error(&net, "the test net");
		CHECK(y < 0 && after < 0 && net.failed == TN_NET_BAD_LAYER && rc == TN_E_FORMAT &&
			      strstr(tn_errmsg(), "m.conv: a conv of") != NULL,
		      "conv %d -> %d channels in %d groups refused: %s", bad[k][0], bad[k][1], bad[k][2], tn_errmsg());
		tn_net_free(&net);
	}
	return check_done();
}
