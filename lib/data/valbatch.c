#include "data/valbatch.h"

#include "core/error.h"

#include <math.h>
#include <stdlib.h>

/* numpy's ordering of doubles: NaN last. */
static int np_less(double a, double b)
{
	return a < b || (b != b && a == a);
}

/* Moves a[i]'s element down the 1-based heap a[1..n] to its place. */
static void np_sift(const double *v, size_t *a, size_t i, size_t n)
{
	size_t tmp = a[i];
	for (size_t j = i << 1; j <= n;) {
		if (j < n && np_less(v[a[j]], v[a[j + 1]]))
			j++;
		if (!np_less(v[tmp], v[a[j]]))
			break;
		a[i] = a[j];
		i = j;
		j += j;
	}
	a[i] = tmp;
}

static void np_aheapsort(const double *v, size_t *tosort, size_t n)
{
	size_t *a = tosort - 1; /* 1-based heap */
	for (size_t l = n >> 1; l > 0; --l)
		np_sift(v, a, l, n);
	for (; n > 1;) {
		size_t tmp = a[n];
		a[n] = a[1];
		a[1] = tmp;
		n--;
		np_sift(v, a, 1, n);
	}
}

#define SWAPZ(a, b) do { size_t t_ = (a); (a) = (b); (b) = t_; } while (0)

void tn_np_argsort(const double *v, size_t n, size_t *idx)
{
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	if (n < 2)
		return;
	size_t *pl = idx, *pr = idx + n - 1;
	size_t *stack[128], **sp = stack;
	int depth[128], *dp = depth;
	int cdepth = 0;
	for (size_t m = n; m > 1; m >>= 1) /* numpy: twice the index of the highest set bit */
		cdepth++;
	cdepth *= 2;
	for (;;) {
		if (cdepth < 0) {
			np_aheapsort(v, pl, (size_t)(pr - pl) + 1);
			goto pop;
		}
		while (pr - pl > 15) {
			size_t *pm = pl + ((pr - pl) >> 1), *pi, *pj;
			if (np_less(v[*pm], v[*pl]))
				SWAPZ(*pm, *pl);
			if (np_less(v[*pr], v[*pm]))
				SWAPZ(*pr, *pm);
			if (np_less(v[*pm], v[*pl]))
				SWAPZ(*pm, *pl);
			double vp = v[*pm];
			pi = pl;
			pj = pr - 1;
			SWAPZ(*pm, *pj);
			for (;;) {
				do
					++pi;
				while (np_less(v[*pi], vp));
				do
					--pj;
				while (np_less(vp, v[*pj]));
				if (pi >= pj)
					break;
				SWAPZ(*pi, *pj);
			}
			SWAPZ(*pi, *(pr - 1));
			if (pi - pl < pr - pi) { /* the larger part waits on the stack */
				*sp++ = pi + 1;
				*sp++ = pr;
				pr = pi - 1;
			} else {
				*sp++ = pl;
				*sp++ = pi - 1;
				pl = pi + 1;
			}
			*dp++ = --cdepth;
		}
		for (size_t *pi = pl + 1; pi <= pr; ++pi) { /* insertion sort */
			size_t vi = *pi, *pj = pi, *pk = pi - 1;
			double x = v[vi];
			while (pj > pl && np_less(x, v[*pk]))
				*pj-- = *pk--;
			*pj = vi;
		}
pop:
		if (sp == stack)
			break;
		pr = *(--sp);
		pl = *(--sp);
		cdepth = *(--dp);
	}
}

int tn_val_batch_shapes(size_t n, const int *w, const int *h, int batch_size, int img_size, int stride,
			double pad, int *shape_h, int *shape_w)
{
	if (n == 0)
		return 0;
	double *ar = malloc(n * sizeof *ar);
	size_t *order = malloc(n * sizeof *order);
	if (!ar || !order) {
		free(ar);
		free(order);
		return tn_fail(TN_E_NOMEM, "out of memory for %zu image shapes", n);
	}
	for (size_t i = 0; i < n; i++)
		ar[i] = (double)h[i] / w[i];
	tn_np_argsort(ar, n, order);
	for (size_t b0 = 0; b0 < n; b0 += (size_t)batch_size) {
		size_t b1 = b0 + (size_t)batch_size < n ? b0 + (size_t)batch_size : n;
		double mini = ar[order[b0]], maxi = mini;
		for (size_t k = b0; k < b1; k++) {
			double a = ar[order[k]];
			mini = a < mini ? a : mini;
			maxi = a > maxi ? a : maxi;
		}
		double sh = 1, sw = 1; /* relative to img_size: all tall, all wide, or mixed */
		if (maxi < 1)
			sh = maxi;
		else if (mini > 1)
			sw = 1 / mini;
		int ph = (int)ceil(sh * img_size / stride + pad) * stride;
		int pw = (int)ceil(sw * img_size / stride + pad) * stride;
		for (size_t k = b0; k < b1; k++) {
			shape_h[order[k]] = ph;
			shape_w[order[k]] = pw;
		}
	}
	free(ar);
	free(order);
	return 0;
}
