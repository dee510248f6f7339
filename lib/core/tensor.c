#include "core/tensor.h"

#include "core/error.h"

#include <stdlib.h>

int tn_mul_size(size_t a, size_t b, size_t *out)
{
	if (__builtin_mul_overflow(a, b, out))
		return tn_fail(TN_E_INVAL, "size %zu x %zu overflows", a, b);
	return 0;
}

int tn_shape_numel(int ndim, const int64_t *shape, size_t *out)
{
	size_t n = 1;
	for (int i = 0; i < ndim; i++) {
		if (shape[i] < 0)
			return tn_fail(TN_E_INVAL, "negative dimension %lld", (long long)shape[i]);
		if (tn_mul_size(n, (size_t)shape[i], &n))
			return TN_E_INVAL;
	}
	*out = n;
	return 0;
}

int tn_tensor_alloc(struct tn_tensor *t, int n, int c, int h, int w)
{
	int64_t shape[4] = {n, c, h, w};
	size_t count = 0, bytes = 0;
	t->data = NULL;
	t->owned = 0;
	if (tn_shape_numel(4, shape, &count) || tn_mul_size(count, sizeof(float), &bytes))
		return TN_E_INVAL;
	t->data = calloc(count ? count : 1, sizeof(float));
	if (!t->data)
		return tn_fail(TN_E_NOMEM, "out of memory for a %dx%dx%dx%d tensor", n, c, h, w);
	t->n = n;
	t->c = c;
	t->h = h;
	t->w = w;
	t->owned = 1;
	return 0;
}

void tn_tensor_free(struct tn_tensor *t)
{
	if (t->owned)
		free(t->data);
	t->data = NULL;
	t->owned = 0;
}
