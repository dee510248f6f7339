/* What every model program reads from a .w file's metadata, and the one-line tensor check. */
#ifndef TN_WMETA_H
#define TN_WMETA_H

#include "io/wfile.h"
#include "net/net.h"

struct tn_family;
/* Metadata is read only through these, for a family fam whose registry row lists the key as
 * read (fam NULL: a key every family writes); any other key is an internal error, so that a
 * reader cannot drift from the table unnoticed. */

/* metadata[key], or NULL when absent. */
int tn_wmeta_str(const struct tn_family *fam, const struct tn_wfile *wf, const char *key, const char **out);
/* metadata[key] as an integer in [lo, hi]; dflt when absent (absent is an error if dflt < lo). */
int tn_wmeta_int(const struct tn_family *fam, const struct tn_wfile *wf, const char *key, int lo, int hi,
		 int dflt, int *out);
/* The n class names of 'class_names' (a JSON list), or "class0".. when absent; *names malloc'd. */
int tn_wmeta_names(const struct tn_family *fam, const struct tn_wfile *wf, int n, char ***names);
void tn_wmeta_names_free(char **names, int n);
/* format_version, and normalize (when present) equal to the one the family's pipeline applies:
 * "div255" or "imagenet". */
int tn_wmeta_check_format(const struct tn_family *fam, const struct tn_wfile *wf);
struct tn_wmodel;
/* A task's reader: opens path into wf, takes the row of its arch (*fam), which must be of the
 * task ("arch 'x' is not <what> this program runs", with the task's archs when list), checks
 * format_version and normalize and runs the row's builder at in_h x in_w (0: the file's); the
 * network moves from w to net.  On failure wf may be left open (wf->map). */
int tn_wmeta_open(const char *path, int task, const char *what, int list, struct tn_wfile *wf,
		  const struct tn_family **fam, int in_h, int in_w, struct tn_wmodel *w, struct tn_net *net);
/* Every tensor against the network; the first problem becomes the error (with the count). */
int tn_wmeta_check_tensors(const struct tn_net *net, const struct tn_wfile *wf);
/* The tensor check, then plan and load the network's weights from the .w. */
int tn_wmeta_load_net(struct tn_net *net, const struct tn_wfile *wf);
/* Frees what a model opened from a .w holds: its n class names, its network and the file. */
void tn_wmeta_release(char **names, int n, struct tn_net *net, struct tn_wfile *wf);

struct tn_image;
/* The YOLOv5 and DeepLabV3+ pipelines' network step: the letterboxed image x/255 into the
 * input (divided, not multiplied by 1/255, as upstream does), the image freed, a forward pass.
 * *t_input gets tn_now_ms() once the input is in place; returns the output [c, h, w]. */
float *tn_wmeta_forward_div255(struct tn_net *net, struct tn_image *boxed, double *t_input, int *c, int *h,
			       int *w);
/* *copy: a malloc'd copy of the n floats of an output (what: for the message). */
int tn_wmeta_copy_output(const float *out, size_t n, float **copy, const char *what);

#endif
