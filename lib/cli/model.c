/* The class count and names a .w model carries, for the programs that evaluate its output. */
#include "cli/cli.h"

#include "core/error.h"
#include "io/wfile.h"
#include "models/wmeta.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

const char **cli_model_names(const char *path, int max, int n, int want_names, int *count,
			     unsigned char **text)
{
	struct tn_wfile wf;
	if (tn_wfile_open(path, &wf))
		cli_fail(); /* a PyTorch checkpoint gets the library's "convert it first" line */
	int have = 0;
	if (tn_wmeta_int(NULL, &wf, "num_classes", 1, INT_MAX, -1, &have))
		cli_fail();
	if (have > max)
		cli_die("%s: the model has %d classes, more than %s takes (%d)", path, have, cli_prog(), max);
	if (n && have != n)
		cli_die("%s: the model has %d classes, but -n %d", path, have, n);
	n = have;
	*count = n;
	*text = NULL;
	const char *listed;
	if (tn_wmeta_str(NULL, &wf, "class_names", &listed))
		cli_fail();
	if (!want_names || !listed) {
		tn_wfile_close(&wf);
		return NULL;
	}
	char **owned;
	if (tn_wmeta_names(NULL, &wf, n, &owned))
		cli_fail();
	tn_wfile_close(&wf);
	/* one block of text, freed by the caller as cli_read_names' */
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += strlen(owned[i]) + 1;
	const char **names = calloc((size_t)n + 1, sizeof *names);
	char *s = malloc(len);
	if (!names || !s)
		cli_die("out of memory");
	*text = (unsigned char *)s;
	for (int i = 0; i < n; i++) {
		size_t k = strlen(owned[i]) + 1;
		memcpy(s, owned[i], k);
		names[i] = s;
		s += k;
	}
	tn_wmeta_names_free(owned, n);
	return names;
}
