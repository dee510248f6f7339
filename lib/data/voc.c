/* VOC segmentation lists and label checks, reproducing voc_annotation.py's choices: names in
 * os.listdir order, Python's random split, lines in listdir order (not in sampled order). */
#include "data/voc.h"

#include "core/error.h"
#include "core/tensor.h"
#include "data/pyrandom.h"
#include "io/file.h"
#include "io/image.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ends_png(const char *s)
{
	size_t n = strlen(s);
	return n >= 4 && memcmp(s + n - 4, ".png", 4) == 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b); /* bytewise = code-point order */
}

void tn_voc_names_free(struct tn_voc_names *names)
{
	for (size_t i = 0; i < names->n; i++)
		free(names->name[i]);
	free(names->name);
	names->name = NULL;
	names->n = 0;
}

int tn_voc_list(const char *dir, int sort, struct tn_voc_names *out)
{
	out->name = NULL;
	out->n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return tn_fail(TN_E_IO, "%s: %s", dir, strerror(errno));
	size_t cap = 0;
	int rc = 0;
	for (;;) {
		errno = 0;
		struct dirent *e = readdir(d);
		if (!e) {
			if (errno)
				rc = tn_fail(TN_E_IO, "%s: %s", dir, strerror(errno));
			break;
		}
		/* os.listdir drops only "." and ".."; anything else named *.png counts, as upstream */
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") || !ends_png(e->d_name))
			continue;
		if (out->n == cap) {
			size_t ncap = cap ? cap * 2 : 256, bytes;
			if (tn_mul_size(ncap, sizeof *out->name, &bytes)) {
				rc = tn_fail(TN_E_NOMEM, "%s: too many files", dir);
				break;
			}
			char **nn = realloc(out->name, bytes);
			if (!nn) {
				rc = tn_fail(TN_E_NOMEM, "%s: out of memory listing files", dir);
				break;
			}
			out->name = nn;
			cap = ncap;
		}
		if (!(out->name[out->n] = strdup(e->d_name))) {
			rc = tn_fail(TN_E_NOMEM, "%s: out of memory listing files", dir);
			break;
		}
		out->n++;
	}
	closedir(d);
	if (rc) {
		tn_voc_names_free(out);
		return rc;
	}
	if (sort && out->n > 1)
		qsort(out->name, out->n, sizeof *out->name, cmp_names);
	return 0;
}

int tn_voc_split(size_t n, double trainval, double train, uint64_t seed, uint8_t *which,
		 size_t *ntv, size_t *ntr)
{
	if (!(trainval >= 0 && trainval <= 1) || !(train >= 0 && train <= 1))
		return tn_fail(TN_E_INVAL, "split fractions must be in [0, 1], not %g and %g", trainval,
			       train);
	/* int(num * trainval_percent), int(tv * train_percent): double products, truncated */
	size_t tv = (size_t)((double)n * trainval), tr = (size_t)((double)tv * train);
	if (tv > n)
		tv = n;
	if (tr > tv)
		tr = tv;
	size_t bytes;
	if (tn_mul_size(n ? n : 1, sizeof(size_t), &bytes))
		return tn_fail(TN_E_NOMEM, "%zu names are too many to split", n);
	size_t *pop = malloc(bytes), *tvs = malloc(bytes), *trs = malloc(bytes);
	int rc = 0;
	if (!pop || !tvs || !trs) {
		rc = tn_fail(TN_E_NOMEM, "out of memory splitting %zu names", n);
		goto done;
	}
	for (size_t i = 0; i < n; i++)
		pop[i] = i;
	struct tn_pyrandom r;
	tn_pyrandom_seed(&r, seed);
	if ((rc = tn_pyrandom_sample(&r, pop, n, tv, tvs)) || (rc = tn_pyrandom_sample(&r, tvs, tv, tr, trs)))
		goto done;
	memset(which, TN_VOC_TEST, n);
	for (size_t i = 0; i < tv; i++)
		which[tvs[i]] = TN_VOC_VAL;
	for (size_t i = 0; i < tr; i++)
		which[trs[i]] = TN_VOC_TRAIN;
	if (ntv)
		*ntv = tv;
	if (ntr)
		*ntr = tr;
done:
	free(pop);
	free(tvs);
	free(trs);
	return rc;
}

static int in_list(uint8_t set, const char *list)
{
	if (!strcmp(list, "trainval"))
		return set != TN_VOC_TEST;
	if (!strcmp(list, "train"))
		return set == TN_VOC_TRAIN;
	if (!strcmp(list, "val"))
		return set == TN_VOC_VAL;
	return set == TN_VOC_TEST;
}

int tn_voc_list_text(const struct tn_voc_names *names, const uint8_t *which, const char *list,
		     char **text, size_t *len)
{
	if (strcmp(list, "trainval") && strcmp(list, "train") && strcmp(list, "val") && strcmp(list, "test"))
		return tn_fail(TN_E_INVAL, "no list called '%s'", list);
	size_t total = 1;
	for (size_t i = 0; i < names->n; i++)
		if (in_list(which[i], list))
			total += strlen(names->name[i]) - 3; /* drops ".png", adds "\n" */
	char *t = malloc(total), *p = t;
	if (!t)
		return tn_fail(TN_E_NOMEM, "out of memory for the %s list", list);
	for (size_t i = 0; i < names->n; i++) {
		if (!in_list(which[i], list))
			continue;
		size_t k = strlen(names->name[i]) - 4;
		memcpy(p, names->name[i], k);
		p += k;
		*p++ = '\n';
	}
	*p = 0;
	*text = t;
	*len = (size_t)(p - t);
	return 0;
}

int tn_voc_label_hist(const char *path, size_t max_pixels, uint64_t hist[256], int *w, int *h)
{
	struct tn_image img;
	uint8_t *buf;
	size_t len;
	int rc = tn_read_all(path, 0, &buf, &len);
	if (rc)
		return rc;
	if (len == 0) { /* say so plainly: a failed copy or export leaves these */
		free(buf);
		return tn_fail(TN_E_FORMAT, "%s: empty file, not a PNG label", path);
	}
	rc = tn_mask_decode(buf, len, path, max_pixels, &img);
	free(buf);
	if (rc)
		return rc;
	if (img.channels != 1) {
		tn_image_free(&img);
		return tn_fail(TN_E_FORMAT, "%s: label has %d channels, expected one", path, img.channels);
	}
	memset(hist, 0, 256 * sizeof *hist);
	size_t npix = (size_t)img.w * (size_t)img.h; /* the decoder checked this product */
	for (size_t i = 0; i < npix; i++)
		hist[img.px[i]]++;
	if (w)
		*w = img.w;
	if (h)
		*h = img.h;
	tn_image_free(&img);
	return 0;
}

int tn_voc_label_values(const uint64_t hist[256], int num_classes, char *why, size_t whylen)
{
	if (whylen)
		why[0] = 0;
	if (num_classes > 255)
		return TN_VOC_VALUES_OK;
	uint64_t mid = 0;
	for (int v = 1; v < 255; v++)
		mid += hist[v];
	if (hist[0] && hist[255] && !mid) {
		snprintf(why, whylen,
			 "0/255 binary mask: 255 means 'ignore', so the object is lost; "
			 "label the object with its class index (1 for two classes)");
		return TN_VOC_VALUES_BINARY;
	}
	int nbad = 0;
	size_t used = 0;
	for (int v = num_classes < 1 ? 0 : num_classes; v < 255; v++) {
		if (!hist[v])
			continue;
		if (nbad == 0)
			used = (size_t)snprintf(why, whylen,
						"values out of range for %d classes (0..%d, 255 = ignore):",
						num_classes, num_classes - 1);
		if (nbad < 5 && used < whylen)
			used += (size_t)snprintf(why + used, whylen - used, "%s %d (%llu px)",
						 nbad ? "," : "", v, (unsigned long long)hist[v]);
		nbad++;
	}
	if (nbad > 5 && used < whylen)
		snprintf(why + used, whylen - used, " and %d more values", nbad - 5);
	return nbad ? TN_VOC_VALUES_RANGE : TN_VOC_VALUES_OK;
}
