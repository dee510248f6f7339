/* Counting parameters and MACs over a planned graph; the conventions are in flops.h. */
#include "net/flops.h"

#include "core/error.h"
#include "models/yolo.h"
#include "net/nodes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

int tn_flops_convention_parse(const char *s, enum tn_flops_convention *out)
{
	if (!strcmp(s, "conv"))
		*out = TN_FLOPS_CONV;
	else if (!strcmp(s, "thop"))
		*out = TN_FLOPS_THOP;
	else if (!strcmp(s, "ultralytics"))
		*out = TN_FLOPS_ULTRALYTICS;
	else
		return tn_fail(TN_E_INVAL, "unknown convention '%s' (conv, thop or ultralytics)", s);
	return 0;
}

const char *tn_flops_convention_name(enum tn_flops_convention c)
{
	return c == TN_FLOPS_THOP ? "thop" : c == TN_FLOPS_ULTRALYTICS ? "ultralytics" : "conv";
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/* Buffers are not parameters (model.parameters() leaves them out). */
static int is_buffer(const char *name)
{
	return ends_with(name, "anchors") || ends_with(name, "anchor_grid") || ends_with(name, "running_mean") ||
	       ends_with(name, "running_var") || ends_with(name, "num_batches_tracked");
}

static void node_params(const struct tn_node *nd, int bn_folded, int64_t *params)
{
	int64_t p = 0;
	if (nd->op == TN_NODE_CONV) {
		const struct tn_conv *cv = &nd->conv;
		p = (int64_t)cv->cout * (cv->cin / cv->groups) * cv->kh * cv->kw;
		if (nd->has_bias)
			p += cv->cout;
		if (nd->bn_name[0])
			p += bn_folded ? (nd->has_bias ? 0 : cv->cout) : 2 * (int64_t)cv->cout;
	} else if (nd->op == TN_NODE_DECONV) {
		const struct tn_deconv *dc = &nd->deconv;
		p = (int64_t)dc->cin * (dc->cout / dc->groups) * dc->k * dc->k + (nd->has_bias ? dc->cout : 0);
	}
	for (int k = 0; k < nd->n_p; k++)
		if (!is_buffer(nd->p[k].name))
			p += (int64_t)nd->p[k].numel;
	*params = p;
}

/* MACs of node i at the net's planned size (doubles are exact to 2^53). */
static double node_macs(const struct tn_net *net, int i, const struct tn_flops_opts *o)
{
	return tn_node_ops[net->nodes[i].op].macs(net, &net->nodes[i], o);
}

/* --- YOLOv5 layers --------------------------------------------------------------------- */

/* Module names of the yaml's backbone + head rows; *n of them, *mods malloc'd. */
static int yaml_modules(const char *text, char (**mods)[48], int *n)
{
	yaml_parser_t p;
	yaml_document_t doc;
	*mods = NULL;
	*n = 0;
	if (tn_yaml_too_deep(text, TN_YAML_MAX_DEPTH))
		return tn_fail(TN_E_FORMAT, "model config: yaml nested deeper than %d levels (limit)", TN_YAML_MAX_DEPTH);
	if (!yaml_parser_initialize(&p))
		return tn_fail(TN_E_NOMEM, "out of memory");
	yaml_parser_set_input_string(&p, (const unsigned char *)text, strlen(text));
	int ok = yaml_parser_load(&p, &doc);
	yaml_parser_delete(&p);
	if (!ok)
		return tn_fail(TN_E_FORMAT, "model config: yaml syntax error");
	int rc = 0, cap = 0;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	static const char *const parts[2] = {"backbone", "head"};
	for (int part = 0; part < 2 && root && root->type == YAML_MAPPING_NODE && !rc; part++) {
		yaml_node_t *seq = NULL;
		for (yaml_node_pair_t *kv = root->data.mapping.pairs.start; kv < root->data.mapping.pairs.top; kv++) {
			yaml_node_t *k = yaml_document_get_node(&doc, kv->key);
			if (k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, parts[part]))
				seq = yaml_document_get_node(&doc, kv->value);
		}
		if (!seq || seq->type != YAML_SEQUENCE_NODE)
			continue;
		for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
			yaml_node_t *row = yaml_document_get_node(&doc, *it);
			yaml_node_t *m = NULL;
			if (row && row->type == YAML_SEQUENCE_NODE && row->data.sequence.items.top - row->data.sequence.items.start >= 3)
				m = yaml_document_get_node(&doc, row->data.sequence.items.start[2]);
			if (*n == cap) {
				cap = cap ? 2 * cap : 64;
				void *nm = realloc(*mods, sizeof **mods * (size_t)cap);
				if (!nm) {
					rc = tn_fail(TN_E_NOMEM, "out of memory");
					break;
				}
				*mods = nm;
			}
			snprintf((*mods)[*n], sizeof **mods, "%s",
				 m && m->type == YAML_SCALAR_NODE ? (const char *)m->data.scalar.value : "?");
			(*n)++;
		}
	}
	yaml_document_delete(&doc);
	return rc;
}

/* "model.<i>..." -> i, else -1. */
static int layer_of(const char *name)
{
	int i, len = 0;
	if (sscanf(name, "model.%d%n", &i, &len) != 1 || (name[len] && name[len] != '.') || i < 0)
		return -1;
	return i;
}

static int node_layer_name(const struct tn_node *nd)
{
	if ((nd->op == TN_NODE_CONV || nd->op == TN_NODE_DECONV) && nd->conv_name[0])
		return layer_of(nd->conv_name);
	return nd->n_p ? layer_of(nd->p[0].name) : -1;
}

static int is_paramless(const char *mod)
{
	return !strcmp(mod, "Concat") || !strcmp(mod, "nn.Upsample");
}

/* Assigns every node a layer.  A run of unnamed nodes between layers a and b belongs, from
 * its end: to b if b is a Focus (its space-to-depth comes first), then one node to each
 * parameter-free layer a+1 .. b-1 (Concat, nn.Upsample), the rest to a (a C3's or GhostConv's
 * trailing concat, a sum). */
static void assign_layers(const struct tn_net *net, const char (*mods)[48], int nmods, int *layer)
{
	int i = 1, prev = -1;
	layer[0] = -1;
	while (i < net->n) {
		int l = node_layer_name(&net->nodes[i]);
		if (l >= 0 && l < nmods) {
			layer[i++] = prev = l;
			continue;
		}
		int j = i;
		while (j < net->n) {
			int lj = node_layer_name(&net->nodes[j]);
			if (lj >= 0 && lj < nmods)
				break;
			j++;
		}
		int next = j < net->n ? node_layer_name(&net->nodes[j]) : nmods;
		int end = j; /* nodes [i, end) still to place */
		if (next < nmods && !strcmp(mods[next], "Focus") && end > i)
			layer[--end] = next;
		for (int m = next - 1; m > prev && end > i; m--)
			if (is_paramless(mods[m]))
				layer[--end] = m;
		for (int k = i; k < end; k++)
			layer[k] = prev >= 0 ? prev : 0;
		i = j;
	}
}

/* --- counting --------------------------------------------------------------------------- */

static const char *node_kind(const struct tn_node *nd)
{
	if (nd->op == TN_NODE_CONV && nd->bn_name[0])
		return "Conv2d+BN";
	return tn_node_ops[nd->op].name;
}

static void node_row_name(const struct tn_node *nd, char *out, size_t cap)
{
	if ((nd->op == TN_NODE_CONV || nd->op == TN_NODE_DECONV) && nd->conv_name[0]) {
		snprintf(out, cap, "%s", nd->conv_name);
	} else if (nd->n_p) {
		/* the module holding the parameter: its name up to the last dot */
		const char *dot = strrchr(nd->p[0].name, '.');
		int len = dot ? (int)(dot - nd->p[0].name) : (int)strlen(nd->p[0].name);
		snprintf(out, cap, "%.*s", len, nd->p[0].name);
	} else {
		snprintf(out, cap, "%s", node_kind(nd));
	}
}

/* Rows by top-level module name, in order of first appearance.  A node without a name of its
 * own joins: a concat or sum whose inputs share a row, that row (a block's closing concat);
 * else the row of all its readers (a pooling in front of a block); else its input's row. */
static int assign_blocks(const struct tn_net *net, int *layer)
{
	char (*keys)[TN_NAME_MAX] = malloc(sizeof *keys * (size_t)net->n);
	if (!keys)
		return -1;
	int nrows = 0;
	for (int i = 0; i < net->n; i++) {
		const struct tn_node *nd = &net->nodes[i];
		layer[i] = -1;
		if (nd->op != TN_NODE_CONV && nd->op != TN_NODE_DECONV && !nd->n_p)
			continue;
		char name[TN_NAME_MAX];
		node_row_name(nd, name, sizeof name);
		name[strcspn(name, ".")] = 0;
		int r = 0;
		while (r < nrows && strcmp(keys[r], name))
			r++;
		if (r == nrows)
			snprintf(keys[nrows++], sizeof *keys, "%s", name);
		layer[i] = r;
	}
	free(keys);
	for (int i = 1; i < net->n; i++) {
		const struct tn_node *nd = &net->nodes[i];
		if (layer[i] >= 0 || (nd->op != TN_NODE_CONCAT && nd->op != TN_NODE_ADD))
			continue;
		int r = layer[nd->in[0]];
		for (int k = 1; k < nd->n_in; k++)
			r = layer[nd->in[k]] == r ? r : -1;
		layer[i] = r;
	}
	for (int i = net->n - 1; i > 0; i--) {
		if (layer[i] >= 0)
			continue;
		int r = -2; /* no reader yet */
		for (int j = i + 1; j < net->n && r != -1; j++) {
			const struct tn_node *b = &net->nodes[j];
			int reads = b->res == i;
			for (int k = 0; k < b->n_in; k++)
				reads |= b->in[k] == i;
			if (reads)
				r = r == -2 || r == layer[j] ? layer[j] : -1;
		}
		layer[i] = r < 0 ? -1 : r;
	}
	for (int i = 1; i < net->n; i++)
		if (layer[i] < 0)
			layer[i] = net->nodes[i].n_in ? layer[net->nodes[i].in[0]] : -1;
	return nrows;
}

int tn_flops_count(struct tn_net *net, const struct tn_flops_opts *o, const char *yaml, struct tn_flops *out)
{
	memset(out, 0, sizeof *out);
	if (net->n < 1 || !net->nodes)
		return tn_fail(TN_E_INVAL, "an empty network");
	int rc = 0, nmods = 0;
	char (*mods)[48] = NULL;
	int *layer = calloc((size_t)net->n, sizeof *layer);
	double *macs = calloc((size_t)net->n, sizeof *macs);
	if (!layer || !macs) {
		rc = tn_fail(TN_E_NOMEM, "out of memory");
		goto done;
	}
	if (yaml && (rc = yaml_modules(yaml, &mods, &nmods)))
		goto done;
	if (o->convention == TN_FLOPS_ULTRALYTICS && o->probe > 0) {
		int h = net->in_h, w = net->in_w;
		if ((rc = tn_net_set_input_size(net, o->probe, o->probe)))
			goto done;
		const double scale = (double)h / o->probe * ((double)w / o->probe);
		for (int i = 0; i < net->n; i++)
			macs[i] = node_macs(net, i, o) * scale;
		if ((rc = tn_net_set_input_size(net, h, w)))
			goto done;
	} else {
		for (int i = 0; i < net->n; i++)
			macs[i] = node_macs(net, i, o);
	}
	int nrows = 0;
	if (nmods) {
		assign_layers(net, (const char (*)[48])mods, nmods, layer);
		nrows = nmods;
	} else if (o->blocks) {
		nrows = assign_blocks(net, layer);
		if (nrows < 0) {
			rc = tn_fail(TN_E_NOMEM, "out of memory");
			goto done;
		}
	} else {
		for (int i = 0; i < net->n; i++) {
			int64_t p;
			node_params(&net->nodes[i], o->bn_folded, &p);
			int row = net->nodes[i].op == TN_NODE_CONV || net->nodes[i].op == TN_NODE_DECONV || p || macs[i];
			layer[i] = row ? nrows++ : -1;
		}
	}
	out->rows = calloc(nrows ? (size_t)nrows : 1, sizeof *out->rows);
	if (!out->rows) {
		rc = tn_fail(TN_E_NOMEM, "out of memory");
		goto done;
	}
	out->n = nrows;
	for (int r = 0; r < nrows && nmods; r++) {
		snprintf(out->rows[r].name, sizeof out->rows[r].name, "model.%d", r);
		snprintf(out->rows[r].module, sizeof out->rows[r].module, "%s", mods[r]);
	}
	for (int i = 0; i < net->n; i++) {
		const struct tn_node *nd = &net->nodes[i];
		int64_t p;
		node_params(nd, o->bn_folded, &p);
		out->params += p;
		out->macs += macs[i];
		if (layer[i] < 0)
			continue;
		struct tn_flops_row *r = &out->rows[layer[i]];
		if (o->blocks && !nmods) {
			int named = nd->op == TN_NODE_CONV || nd->op == TN_NODE_DECONV || nd->n_p;
			if (named && !r->name[0]) {
				node_row_name(nd, r->name, sizeof r->name);
				r->name[strcspn(r->name, ".")] = 0;
				snprintf(r->module, sizeof r->module, "%s", node_kind(nd));
			} else if (named) {
				snprintf(r->module, sizeof r->module, "block");
			}
		} else if (!nmods) {
			node_row_name(nd, r->name, sizeof r->name);
			snprintf(r->module, sizeof r->module, "%s", node_kind(nd));
		}
		r->params += p;
		r->macs += macs[i];
		r->c = nd->c;
		r->h = nd->h;
		r->w = nd->w;
	}
done:
	free(mods);
	free(layer);
	free(macs);
	if (rc)
		tn_flops_free(out);
	return rc;
}

void tn_flops_free(struct tn_flops *f)
{
	free(f->rows);
	memset(f, 0, sizeof *f);
}
