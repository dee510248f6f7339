#include "models/wmeta.h"

#include "core/clock.h"
#include "core/error.h"
#include "image/resample.h"
#include "io/image.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tn_wmeta_int(const struct tn_wfile *wf, const char *key, int lo, int hi, int dflt, int *out)
{
	const char *v = tn_wfile_meta(wf, key);
	if (!v) {
		if (dflt < lo)
			return tn_fail(TN_E_FORMAT, "%s: metadata has no '%s'", wf->path, key);
		*out = dflt;
		return 0;
	}
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi)
		return tn_fail(TN_E_FORMAT, "%s: metadata '%s' is '%s', not a number from %d to %d", wf->path, key, v,
			       lo, hi);
	*out = (int)n;
	return 0;
}

void tn_wmeta_names_free(char **names, int n)
{
	if (names)
		for (int i = 0; i < n; i++)
			free(names[i]);
	free(names);
}

int tn_wmeta_names(const struct tn_wfile *wf, int n, char ***out)
{
	char **names = calloc((size_t)n, sizeof(char *));
	if (!names)
		return tn_fail(TN_E_NOMEM, "out of memory");
	const char *v = tn_wfile_meta(wf, "class_names");
	json_t *arr = v ? json_loads(v, 0, NULL) : NULL;
	int rc = 0;
	if (v && (!json_is_array(arr) || json_array_size(arr) != (size_t)n))
		rc = tn_fail(TN_E_FORMAT, "%s: metadata 'class_names' is not a list of %d names", wf->path, n);
	for (int i = 0; !rc && i < n; i++) {
		char buf[32];
		const char *s = buf;
		if (arr) {
			s = json_string_value(json_array_get(arr, (size_t)i));
			if (!s)
				rc = tn_fail(TN_E_FORMAT, "%s: class name %d is not a string", wf->path, i);
		} else {
			snprintf(buf, sizeof buf, "class%d", i);
		}
		if (!rc && !(names[i] = strdup(s)))
			rc = tn_fail(TN_E_NOMEM, "out of memory");
	}
	json_decref(arr);
	if (rc) {
		tn_wmeta_names_free(names, n);
		return rc;
	}
	*out = names;
	return 0;
}

int tn_wmeta_check_format(const struct tn_wfile *wf, const char *normalize)
{
	const char *ver = tn_wfile_meta(wf, "format_version"), *norm = tn_wfile_meta(wf, "normalize");
	if (ver && strcmp(ver, "1") != 0)
		return tn_fail(TN_E_UNSUPPORTED, "%s: .w format version %s is newer than this program (1)", wf->path, ver);
	/* imagenet: (x - mean) / std with the ImageNet mean and std of 0..255 RGB (mmseg) */
	if (norm && strcmp(norm, normalize) != 0)
		return tn_fail(TN_E_UNSUPPORTED, "%s: input normalisation '%s', but %s is what %s models use",
			       wf->path, norm, normalize, tn_wfile_meta(wf, "arch") ? tn_wfile_meta(wf, "arch") : "these");
	return 0;
}

int tn_wmeta_load_net(struct tn_net *net, const struct tn_wfile *wf)
{
	int rc = tn_wmeta_check_tensors(net, wf);
	if (rc)
		return rc;
	struct tn_param_source src;
	tn_param_source_wfile(&src, wf);
	if ((rc = tn_net_plan(net)) || (rc = tn_net_load(net, &src)))
		tn_fail_prefix(rc, wf->path);
	return rc;
}

int tn_wmeta_check_tensors(const struct tn_net *net, const struct tn_wfile *wf)
{
	struct tn_param_source src;
	tn_param_source_wfile(&src, wf);
	char *report = NULL;
	int problems = tn_net_check(net, &src, &report);
	int rc = 0;
	if (problems) {
		char *nl = report ? strchr(report, '\n') : NULL;
		if (nl)
			*nl = 0;
		rc = tn_fail(TN_E_FORMAT, "%s: %s%s (weightconv --check lists all %d)", wf->path,
			     report ? report : "tensor mismatch", problems > 1 ? ", ..." : "", problems);
	}
	free(report);
	return rc;
}

void tn_wmeta_release(char **names, int n, struct tn_net *net, struct tn_wfile *wf)
{
	tn_wmeta_names_free(names, n);
	tn_net_free(net);
	if (wf->map)
		tn_wfile_close(wf);
}

float *tn_wmeta_forward_div255(struct tn_net *net, struct tn_image *boxed, double *t_input, int *c, int *h,
			       int *w)
{
	static const float zero[3] = {0, 0, 0}, div255[3] = {255, 255, 255};
	tn_image_to_planes(boxed, zero, div255, tn_net_input_data(net));
	tn_image_free(boxed);
	*t_input = tn_now_ms();
	tn_net_forward(net);
	return (float *)tn_net_output(net, c, h, w);
}

int tn_wmeta_copy_output(const float *out, size_t n, float **copy, const char *what)
{
	*copy = malloc(sizeof(float) * n);
	if (!*copy)
		return tn_fail(TN_E_NOMEM, "out of memory for the %s", what);
	memcpy(*copy, out, sizeof(float) * n);
	return 0;
}
