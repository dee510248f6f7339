#include "net/profile.h"

#include "core/error.h"
#include "net/nodes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The module a node's first tensor belongs to: "model.2.cv1.conv.weight" -> "model.2.cv1.conv" */
static void node_name(const struct tn_net *net, int i, char *out, size_t size)
{
	const struct tn_node *nd = &net->nodes[i];
	const char *full = nd->conv_name[0] ? NULL : nd->n_p ? nd->p[0].name : NULL;
	if (nd->conv_name[0]) {
		snprintf(out, size, "%s", nd->conv_name);
	} else if (full && strrchr(full, '.')) {
		snprintf(out, size, "%.*s", (int)(strrchr(full, '.') - full), full);
	} else {
		snprintf(out, size, "node%d", i);
	}
}

static int slower_first(const void *pa, const void *pb)
{
	const struct tn_profile_row *a = pa, *b = pb;
	if (a->ms != b->ms)
		return a->ms < b->ms ? 1 : -1;
	return a->node - b->node;
}

int tn_profile_rows(const struct tn_net *net, struct tn_profile_row **rows, int *n)
{
	*rows = NULL;
	*n = 0;
	if (!net->profile_ms || net->profile_runs < 1)
		return tn_fail(TN_E_INVAL, "the network was not profiled");
	struct tn_profile_row *r = calloc((size_t)(net->n ? net->n : 1), sizeof *r);
	if (!r)
		return tn_fail(TN_E_NOMEM, "out of memory");
	for (int i = 0; i < net->n; i++) {
		const struct tn_node *nd = &net->nodes[i];
		r[i].node = i;
		node_name(net, i, r[i].name, sizeof r[i].name);
		r[i].op = tn_node_ops[nd->op].name;
		r[i].c = nd->c, r[i].h = nd->h, r[i].w = nd->w;
		r[i].ms = net->profile_ms[i] / net->profile_runs;
		r[i].macs = net->profile_ms[net->n + i] / net->profile_runs;
	}
	qsort(r, (size_t)net->n, sizeof *r, slower_first);
	*rows = r;
	*n = net->n;
	return 0;
}
