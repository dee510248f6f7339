#include "core/tensor.h"

#include "core/error.h"

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
