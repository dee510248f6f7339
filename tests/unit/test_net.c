/* The network builder and the activation planner: state_dict names and counts match the
 * upstream key lists, buffers are reused by liveness, and no two tensors alive at once share
 * memory. */
#include "check.h"
#include "models/deeplab.h"
#include "net/net.h"

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

int main(void)
{
	/* Counts from ../shared/notes/segmentation-keys-*.txt (bubbliiiing, 21 classes). */
	check_model(TN_BACKBONE_MOBILENET, 16, 371, 5818149);
	check_model(TN_BACKBONE_MOBILENET, 8, 371, 5818149);
	check_model(TN_BACKBONE_XCEPTION, 16, 857, 54713557);
	check_model(TN_BACKBONE_XCEPTION, 8, 857, 54713557);
	struct tn_net net;
	CHECK(tn_deeplab_build(&net, TN_BACKBONE_MOBILENET, 12, 21, 512, 512) != 0, "downsample 12 is refused");
	CHECK(tn_deeplab_build(&net, TN_BACKBONE_MOBILENET, 16, 0, 512, 512) != 0, "0 classes are refused");
	return check_done();
}
