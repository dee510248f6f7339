/* EncNet's Encoding layer and channel gate (see encoding.h for the formulas). */
#include "ops/encoding.h"

#include "core/error.h"
#include "core/tensor.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int check_args(int c, size_t hw, int k, size_t *n)
{
	if (c < 1 || k < 1 || hw < 1)
		return tn_fail(TN_E_INVAL, "encoding: %d channels, %d codes, %zu pixels", c, k, hw);
	size_t bytes;
	if (tn_mul_size(hw, (size_t)k, n) || tn_mul_size(*n, sizeof(double), &bytes) ||
	    tn_mul_size((size_t)k * sizeof(double), (size_t)c, &bytes))
		return tn_fail(TN_E_INVAL, "encoding: %zu pixels x %d codes x %d channels overflows", hw, k, c);
	return 0;
}

/* BatchNorm1d over codes, ReLU, mean over codes: agg is [k][c] in double. */
static void finish(const double *agg, int c, int k, const float *bn_w, const float *bn_b,
		   const float *bn_mean, const float *bn_var, float eps, float *e)
{
	for (int ch = 0; ch < c; ch++) {
		double s = 0.0;
		for (int j = 0; j < k; j++) {
			double inv = 1.0 / sqrt((double)bn_var[j] + eps);
			double v = (agg[(size_t)j * c + ch] - bn_mean[j]) * inv * bn_w[j] + bn_b[j];
			s += v > 0.0 ? v : 0.0;
		}
		e[ch] = (float)(s / k);
	}
}

/* The assignments [k][hw] and the aggregate [k][c], in doubles. */
int tn_encoding_workspace(int c, size_t hw, int k, size_t *floats)
{
	size_t n, agg;
	int rc = check_args(c, hw, k, &n);
	if (!rc && (tn_mul_size((size_t)k, (size_t)c, &agg) || n > SIZE_MAX / 2 - agg))
		rc = tn_fail(TN_E_INVAL, "encoding: %zu pixels x %d codes x %d channels overflows", hw, k, c);
	*floats = rc ? 0 : 2 * (n + agg);
	return rc;
}

int tn_encoding(const float *x, int c, size_t hw, int k, const float *codewords, const float *scale,
		const float *bn_w, const float *bn_b, const float *bn_mean, const float *bn_var, float eps,
		float *work, float *e)
{
	size_t n;
	int rc = check_args(c, hw, k, &n);
	if (rc)
		return rc;
	/* logit[j][i], then the assignment weights in place */
	double *a = (double *)work, *agg = a + n;
	/* Threads own blocks of pixels, each summed over channels in one order; a block of x stays
	 * in cache while every code reads it. */
	const size_t blk = 64;
	const long nblk = (long)((hw + blk - 1) / blk);
#pragma omp parallel for schedule(static)
	for (long b = 0; b < nblk; b++) {
		size_t i0 = (size_t)b * blk, i1 = i0 + blk < hw ? i0 + blk : hw;
		for (int j = 0; j < k; j++) {
			double *aj = a + (size_t)j * hw;
			for (size_t i = i0; i < i1; i++)
				aj[i] = 0.0;
			for (int ch = 0; ch < c; ch++) {
				const float *xc = x + (size_t)ch * hw;
				double cw = codewords[(size_t)j * c + ch];
				for (size_t i = i0; i < i1; i++) {
					double t = xc[i] - cw;
					aj[i] += t * t;
				}
			}
			/* softmax over codes comes next: keep the scaled logit */
			for (size_t i = i0; i < i1; i++)
				aj[i] *= scale[j];
		}
		for (size_t i = i0; i < i1; i++) {
			double m = a[i];
			for (int j = 1; j < k; j++)
				m = a[(size_t)j * hw + i] > m ? a[(size_t)j * hw + i] : m;
			double s = 0.0;
			for (int j = 0; j < k; j++) {
				double v = exp(a[(size_t)j * hw + i] - m);
				a[(size_t)j * hw + i] = v;
				s += v;
			}
			for (int j = 0; j < k; j++)
				a[(size_t)j * hw + i] /= s;
		}
	}
	/* E[j][ch] = sum_i a_ji (x_ci - c_jc): a thread owns channels, whose row of x stays in cache
	 * for every code. */
#pragma omp parallel for schedule(static)
	for (int ch = 0; ch < c; ch++) {
		const float *xc = x + (size_t)ch * hw;
		for (int j = 0; j < k; j++) {
			const double *aj = a + (size_t)j * hw;
			double cw = codewords[(size_t)j * c + ch];
			/* 8 partial sums in a fixed order: the adds pipeline (and vectorise) */
			double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
			size_t i = 0;
			for (; i + 8 <= hw; i += 8)
				for (int u = 0; u < 8; u++)
					s[u] += aj[i + u] * (xc[i + u] - cw);
			for (; i < hw; i++)
				s[0] += aj[i] * (xc[i] - cw);
			agg[(size_t)j * c + ch] = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
		}
	}
	finish(agg, c, k, bn_w, bn_b, bn_mean, bn_var, eps, e);
	return 0;
}

int tn_encoding_ref(const float *x, int c, size_t hw, int k, const float *codewords, const float *scale,
		    const float *bn_w, const float *bn_b, const float *bn_mean, const float *bn_var,
		    float eps, float *e)
{
	size_t n;
	int rc = check_args(c, hw, k, &n);
	if (rc)
		return rc;
	double *agg = calloc((size_t)k * c, sizeof(double));
	double *w = malloc((size_t)k * sizeof(double));
	if (!agg || !w) {
		free(agg);
		free(w);
		return tn_fail(TN_E_NOMEM, "encoding: out of memory");
	}
	for (size_t i = 0; i < hw; i++) {
		double m = -INFINITY, s = 0.0;
		for (int j = 0; j < k; j++) {
			double d = 0.0;
			for (int ch = 0; ch < c; ch++) {
				double t = (double)x[(size_t)ch * hw + i] - codewords[(size_t)j * c + ch];
				d += t * t;
			}
			w[j] = scale[j] * d;
			m = w[j] > m ? w[j] : m;
		}
		for (int j = 0; j < k; j++)
			s += (w[j] = exp(w[j] - m));
		for (int j = 0; j < k; j++)
			for (int ch = 0; ch < c; ch++)
				agg[(size_t)j * c + ch] +=
					w[j] / s * ((double)x[(size_t)ch * hw + i] - codewords[(size_t)j * c + ch]);
	}
	finish(agg, c, k, bn_w, bn_b, bn_mean, bn_var, eps, e);
	free(agg);
	free(w);
	return 0;
}

void tn_channel_gate(const float *x, int c, size_t hw, const float *g, float *y)
{
#pragma omp parallel for schedule(static)
	for (int ch = 0; ch < c; ch++) {
		float gamma = 1.0f / (1.0f + expf(-g[ch]));
		const float *xc = x + (size_t)ch * hw;
		float *yc = y + (size_t)ch * hw;
		for (size_t i = 0; i < hw; i++) {
			float t = xc[i] * gamma;
			float v = xc[i] + t;
			yc[i] = v > 0.0f ? v : 0.0f;
		}
	}
}
