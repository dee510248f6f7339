/* Where a profiled forward's time went: one row per node, with its work and speed. */
#ifndef TN_PROFILE_H
#define TN_PROFILE_H

#include "net/net.h"

struct tn_profile_row {
	int node;
	char name[TN_NAME_MAX]; /* the state_dict module (a conv's), or "node<index>" for a node without one */
	const char *op;         /* the PyTorch module or function (the op table's name) */
	int c, h, w;            /* output shape */
	double ms;              /* per forward */
	double macs;            /* per forward: multiply-accumulates (thop's convention, BatchNorm folded) */
};

/* The rows of a net profiled with tn_net_profile, slowest first (ties in node order), times
 * divided by the forwards run; *rows malloc'd.  0, or TN_E_INVAL when nothing was profiled. */
int tn_profile_rows(const struct tn_net *net, struct tn_profile_row **rows, int *n);

#endif
