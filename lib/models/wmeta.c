#include "models/wmeta.h"

#include "core/clock.h"
#include "core/error.h"
#include "image/resample.h"
#include "io/image.h"
#include "models/registry.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tn_wmeta_str(const struct tn_family *fam, const struct tn_wfile *wf, const char *key, const char **out)
{
	int listed = 1;
	for (int i = 0; !fam && i < tn_n_families; i++)
		listed &= (tn_family_key_flags(&tn_families[i], key) & TN_META_WRITE) != 0;
	if (fam)
		listed = (tn_family_key_flags(fam, key) & TN_META_READ) != 0;
	if (!listed)
		return tn_fail(TN_E_INVAL, "%s: internal error: metadata key '%s' is not one the registry lists as "
			       "read by %s", wf->path, key, fam ? fam->arch : "every family");
	*out = tn_wfile_meta(wf, key);
	return 0;
}

int tn_wmeta_int(const struct tn_family *fam, const struct tn_wfile *wf, const char *key, int lo, int hi,
		 int dflt, int *out)
{
	const char *v;
	int rc = tn_wmeta_str(fam, wf, key, &v);
	if (rc)
		return rc;
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

int tn_wmeta_names(const struct tn_family *fam, const struct tn_wfile *wf, int n, char ***out)
{
	const char *v;
	int rc = tn_wmeta_str(fam, wf, "class_names", &v);
	if (rc)
		return rc;
	char **names = calloc((size_t)n, sizeof(char *));
	if (!names)
		return tn_fail(TN_E_NOMEM, "out of memory");
	json_t *arr = v ? json_loads(v, 0, NULL) : NULL;
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

int tn_wmeta_check_format(const struct tn_family *fam, const struct tn_wfile *wf)
{
	const char *ver, *norm, *arch;
	int rc;
	if ((rc = tn_wmeta_str(fam, wf, "format_version", &ver)) || (rc = tn_wmeta_str(fam, wf, "normalize", &norm)) ||
	    (rc = tn_wmeta_str(fam, wf, "arch", &arch)))
		return rc;
	if (ver && strcmp(ver, "1") != 0)
		return tn_fail(TN_E_UNSUPPORTED, "%s: .w format version %s is newer than this program (1)", wf->path, ver);
	/* imagenet: (x - mean) / std with the ImageNet mean and std of 0..255 RGB (mmseg) */
	if (norm && strcmp(norm, fam->normalize) != 0)
		return tn_fail(TN_E_UNSUPPORTED, "%s: input normalisation '%s', but %s is what %s models use",
			       wf->path, norm, fam->normalize, arch ? arch : "these");
	return 0;
}

int tn_wmeta_open(const char *path, int task, const char *what, int list, struct tn_wfile *wf,
		  const struct tn_family **fam, int in_h, int in_w, struct tn_wmodel *w, struct tn_net *net)
{
	int rc = tn_wfile_open(path, wf);
	if (rc)
		return rc;
	const char *arch;
	const struct tn_family *f = *fam = tn_family_of(wf, &arch);
	if (!f || (int)f->task != task)
		return tn_fail(TN_E_UNSUPPORTED, "%s: arch '%s' is not %s this program runs%s%s%s", path,
			       arch ? arch : "(none)", what, list ? " (" : "", list ? tn_family_list(task) : "",
			       list ? ")" : "");
	if ((rc = tn_wmeta_check_format(f, wf)) || (rc = f->build_from_w(f, wf, in_h, in_w, w)))
		return rc;
	*net = w->net;
	tn_net_init(&w->net);
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
