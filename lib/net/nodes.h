/* The op table: one row per kind of node, indexed by enum tn_node_op, holding everything the
 * graph needs to know about that op.  A new op is an enum value, a row and a builder call. */
#ifndef TN_NODES_H
#define TN_NODES_H

#include <stddef.h>

#include "net/flops.h"
#include "net/net.h"

struct tn_node_ops {
	const char *name; /* the PyTorch module or function, as flops-count prints it */
	/* Sets nd->c, h, w from its inputs (planned before it): 0, or TN_E_SHAPE with the reason. */
	int (*shape)(const struct tn_net *net, struct tn_node *nd);
	/* Floats of workspace forward needs on nthreads threads (after shape): its scratch, and a
	 * copy per thread where each thread keeps one. */
	size_t (*work)(const struct tn_net *net, const struct tn_node *nd, int nthreads);
	/* The node's output from its inputs, in the arena; allocates nothing and cannot fail.
	 * work: the planned workspace (64-byte aligned); at most nthreads threads use it. */
	void (*forward)(const struct tn_net *net, const struct tn_node *nd, float *work, int nthreads);
	/* Multiply-accumulates at the planned size, under o's convention (flops.h). */
	double (*macs)(const struct tn_net *net, const struct tn_node *nd, const struct tn_flops_opts *o);
};

/* TN_NODE_COUNT rows (checked where it is defined); every row has every function. */
extern const struct tn_node_ops tn_node_ops[];

#endif
