#include "ops/basic.h"

#include "core/error.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

void tn_gap(const float *x, int c, int h, int w, float *y)
{
#pragma omp parallel for schedule(static)
	for (int k = 0; k < c; k++) {
		const float *xc = x + (size_t)k * h * w;
		float acc_rows = 0.0f;
		/* Mean over H first (per column), then over W, as the upstream ASPP does. */
		for (int ix = 0; ix < w; ix++) {
			float col = 0.0f;
			for (int iy = 0; iy < h; iy++)
				col += xc[(size_t)iy * w + ix];
			acc_rows += col / (float)h;
		}
		y[k] = acc_rows / (float)w;
	}
}

/* PyTorch computes the source position in float: scale = (in-1)/(out-1), src = scale*dst. */
static void ac_table(int in, int out, int *i0, int *i1, float *l1)
{
	float scale = out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
	for (int d = 0; d < out; d++) {
		float src = scale * (float)d;
		int a = (int)src;
		if (a > in - 1)
			a = in - 1;
		i0[d] = a;
		i1[d] = a + (a < in - 1 ? 1 : 0);
		l1[d] = src - (float)a;
	}
}

size_t tn_resize_bilinear_ac_workspace(int oh, int ow)
{
	return 3 * ((size_t)oh + (size_t)ow);
}

/* Tables in work: source rows and columns (ints), then their weights. */
void tn_resize_bilinear_ac(const float *x, int c, int h, int w, float *y, int oh, int ow, float *work)
{
	_Static_assert(sizeof(int) == sizeof(float), "tables of ints in a float workspace");
	int *ty0 = (int *)work, *ty1 = ty0 + oh, *tx0 = ty1 + oh, *tx1 = tx0 + ow;
	float *ly = work + 2 * ((size_t)oh + ow), *lx = ly + oh;
	ac_table(h, oh, ty0, ty1, ly);
	ac_table(w, ow, tx0, tx1, lx);
#pragma omp parallel for schedule(static)
	for (int k = 0; k < c; k++) {
		const float *xc = x + (size_t)k * h * w;
		float *yc = y + (size_t)k * oh * ow;
		for (int oy = 0; oy < oh; oy++) {
			const float *r0 = xc + (size_t)ty0[oy] * w, *r1 = xc + (size_t)ty1[oy] * w;
			float h1 = ly[oy], h0 = 1.0f - h1;
			float *yr = yc + (size_t)oy * ow;
			for (int ox = 0; ox < ow; ox++) {
				float w1 = lx[ox], w0 = 1.0f - w1;
				int a = tx0[ox], b = tx1[ox];
				yr[ox] = h0 * (w0 * r0[a] + w1 * r0[b]) + h1 * (w0 * r1[a] + w1 * r1[b]);
			}
		}
	}
}

int tn_softmax_channels(float *x, int c, int h, int w)
{
	return tn_softmax_channels_rect(x, c, h, w, 0, 0, h, w);
}

/* Row by row, so the loops over pixels are contiguous and vectorise. */
int tn_softmax_channels_rect(float *x, int c, int h, int w, int y0, int x0, int rh, int rw)
{
	const size_t plane = (size_t)h * w;
	int failed = 0;
#pragma omp parallel
	{
		float *m = malloc(sizeof(float) * 2 * (size_t)(rw > 0 ? rw : 1));
		float *sum = m ? m + rw : NULL;
		if (!m) {
#pragma omp atomic write
			failed = 1;
		}
#pragma omp for schedule(static)
		for (int y = y0; y < y0 + rh; y++) {
			if (!m)
				continue;
			float *row = x + (size_t)y * w + x0;
			for (int i = 0; i < rw; i++) {
				m[i] = row[i];
				sum[i] = 0.0f;
			}
			for (int k = 1; k < c; k++) {
				const float *r = row + (size_t)k * plane;
				for (int i = 0; i < rw; i++)
					m[i] = r[i] > m[i] ? r[i] : m[i];
			}
			for (int k = 0; k < c; k++) {
				float *r = row + (size_t)k * plane;
				for (int i = 0; i < rw; i++) {
					r[i] = expf(r[i] - m[i]);
					sum[i] += r[i];
				}
			}
			for (int k = 0; k < c; k++) {
				float *r = row + (size_t)k * plane;
				for (int i = 0; i < rw; i++)
					r[i] /= sum[i];
			}
		}
		free(m);
	}
	return failed ? tn_fail(TN_E_NOMEM, "out of memory for softmax rows") : 0;
}

/* Stride-1 max pooling that keeps the size (k = 2p + 1, GoogLeNet's and Inception's pool
 * branch).  Both passes run over the whole plane as one long vectorisable loop; the columns
 * whose window crosses a row end are then redone clipped.  Planes up to SAME_POOL_MAX. */
#define SAME_POOL_MAX 4096
static void maxpool_same_s1(const float *x, int c, int h, int w, float *y, int p)
{
	const int hw = h * w;
#pragma omp parallel for schedule(static)
	for (int ch = 0; ch < c; ch++) {
		const float *xc = x + (size_t)ch * hw;
		float *yc = y + (size_t)ch * hw;
		float col[SAME_POOL_MAX]; /* the vertical maxima */
		memcpy(col, xc, sizeof(float) * hw);
		for (int d = 1; d <= p && d < h; d++) {
			const int s = d * w;
			for (int i = 0; i < hw - s; i++)
				col[i] = xc[i + s] > col[i] ? xc[i + s] : col[i];
			for (int i = s; i < hw; i++)
				col[i] = xc[i - s] > col[i] ? xc[i - s] : col[i];
		}
		memcpy(yc, col, sizeof(float) * hw);
		for (int d = 1; d <= p && d < hw; d++) {
			for (int i = 0; i < hw - d; i++)
				yc[i] = col[i + d] > yc[i] ? col[i + d] : yc[i];
			for (int i = d; i < hw; i++)
				yc[i] = col[i - d] > yc[i] ? col[i - d] : yc[i];
		}
		for (int oy = 0; oy < h; oy++) {
			const float *cr = col + (size_t)oy * w;
			float *yr = yc + (size_t)oy * w;
			for (int ox = 0; ox < w; ox++) {
				if (ox == p && w - p > p)
					ox = w - p;
				int x0 = ox - p < 0 ? 0 : ox - p, x1 = ox + p + 1 > w ? w : ox + p + 1;
				float m = cr[x0];
				for (int ix = x0 + 1; ix < x1; ix++)
					m = cr[ix] > m ? cr[ix] : m;
				yr[ox] = m;
			}
		}
	}
}

/* Two rows per thread (the window's rows reduced into one; its even and odd columns), 64
 * bytes apart. */
static size_t pool_row_floats(int w)
{
	return ((size_t)w + 15) & ~(size_t)15;
}

size_t tn_pool2d_workspace(int w, int nthreads)
{
	return 2 * pool_row_floats(w) * (size_t)nthreads;
}

/* Where tap offset off of a stride-2 window reads: split[base + ox] is row[2 * ox + off] when
 * split holds row's even columns, then its odd ones from split + half. */
static size_t stride2_tap(int off, size_t half, ptrdiff_t *base)
{
	*base = off & 1 ? (off - 1) / 2 : off / 2;
	return off & 1 ? half : 0;
}

/* Max (-inf padding) or average (padding counted, as count_include_pad=True) pooling with
 * windows clipped to the input, for any output size (ceil mode).  Per output row the window's
 * input rows are first reduced into one row (contiguous, vectorisable), then across columns. */
void tn_pool2d(const float *x, int c, int h, int w, float *y, int oh, int ow, int k, int stride,
		   int pad, int avg, float *work, int nthreads)
{
	if (!avg && stride == 1 && k == 2 * pad + 1 && oh == h && ow == w && (size_t)h * w <= SAME_POOL_MAX) {
		maxpool_same_s1(x, c, h, w, y, pad);
		return;
	}
#pragma omp parallel for schedule(static) num_threads(nthreads)
	for (int ch = 0; ch < c; ch++) {
		const float *xc = x + (size_t)ch * h * w;
		float *yc = y + (size_t)ch * oh * ow;
		float *row = work + 2 * pool_row_floats(w) * (size_t)omp_get_thread_num();
		float *split = row + pool_row_floats(w);
		const size_t half = ((size_t)w + 1) / 2;
		for (int oy = 0; oy < oh; oy++) {
			int y0 = oy * stride - pad, y1 = y0 + k;
			int dh = (y1 < h + pad ? y1 : h + pad) - y0;
			y0 = y0 < 0 ? 0 : y0;
			y1 = y1 > h ? h : y1;
			memcpy(row, xc + (size_t)y0 * w, sizeof(float) * (size_t)w);
			for (int iy = y0 + 1; iy < y1; iy++) {
				const float *xr = xc + (size_t)iy * w;
				if (avg)
					for (int ix = 0; ix < w; ix++)
						row[ix] += xr[ix];
				else
					for (int ix = 0; ix < w; ix++)
						row[ix] = xr[ix] > row[ix] ? xr[ix] : row[ix];
			}
			/* columns whose window lies inside the row: tap by tap, vectorisable */
			int lo = (pad + stride - 1) / stride, hi = w - k + pad >= 0 ? (w - k + pad) / stride + 1 : 0;
			hi = hi < ow ? hi : ow;
			float *yr = yc + (size_t)oy * ow;
			if (lo < hi && stride == 2 && !avg) {
				/* even and odd columns apart, so that every tap reads contiguously */
				for (size_t i = 0; i < half; i++)
					split[i] = row[2 * i];
				for (size_t i = 0; 2 * i + 1 < (size_t)w; i++)
					split[half + i] = row[2 * i + 1];
				for (int j = 0; j < k; j++) {
					ptrdiff_t b;
					const float *src = split + stride2_tap(j - pad, half, &b);
					if (j == 0)
						for (int ox = lo; ox < hi; ox++)
							yr[ox] = src[ox + b];
					else
						for (int ox = lo; ox < hi; ox++)
							yr[ox] = src[ox + b] > yr[ox] ? src[ox + b] : yr[ox];
				}
			} else if (lo < hi) {
				for (int ox = lo; ox < hi; ox++)
					yr[ox] = row[ox * stride - pad];
				for (int j = 1; j < k; j++) {
					const int off = j - pad;
					if (avg)
						for (int ox = lo; ox < hi; ox++)
							yr[ox] += row[ox * stride + off];
					else
						for (int ox = lo; ox < hi; ox++) {
							float v = row[ox * stride + off];
							yr[ox] = v > yr[ox] ? v : yr[ox];
						}
				}
				if (avg)
					for (int ox = lo; ox < hi; ox++)
						yr[ox] /= (float)(dh * k);
			}
			for (int ox = 0; ox < ow; ox++) {
				if (ox == lo && lo < hi)
					ox = hi;
				if (ox >= ow)
					break;
				int x0 = ox * stride - pad, x1 = x0 + k;
				int dw = (x1 < w + pad ? x1 : w + pad) - x0;
				x0 = x0 < 0 ? 0 : x0;
				x1 = x1 > w ? w : x1;
				float m = row[x0];
				if (avg) {
					for (int ix = x0 + 1; ix < x1; ix++)
						m += row[ix];
					m /= (float)(dh * dw);
				} else {
					for (int ix = x0 + 1; ix < x1; ix++)
						m = row[ix] > m ? row[ix] : m;
				}
				yr[ox] = m;
			}
		}
	}
}

void tn_upsample_nearest(const float *x, int c, int h, int w, float *y, int s)
{
	const int oh = h * s, ow = w * s;
	/* each input row is spread once, then its copies are plain row copies */
#pragma omp parallel for schedule(static)
	for (int ch = 0; ch < c; ch++)
		for (int iy = 0; iy < h; iy++) {
			const float *xr = x + ((size_t)ch * h + iy) * w;
			float *yr = y + ((size_t)ch * oh + (size_t)iy * s) * ow;
			if (s == 2)
				for (int ix = 0; ix < w; ix++)
					yr[2 * ix] = yr[2 * ix + 1] = xr[ix];
			else
				for (int ox = 0; ox < ow; ox++)
					yr[ox] = xr[ox / s];
			for (int k = 1; k < s; k++)
				memcpy(yr + (size_t)k * ow, yr, sizeof(float) * (size_t)ow);
		}
}

void tn_space_to_depth2(const float *x, int c, int h, int w, float *y)
{
	const int oh = (h + 1) / 2, ow = (w + 1) / 2;
	static const int dy[4] = {0, 1, 0, 1}, dx[4] = {0, 0, 1, 1};
	for (int q = 0; q < 4; q++)
#pragma omp parallel for schedule(static)
		for (int ch = 0; ch < c; ch++) {
			const float *xc = x + (size_t)ch * h * w;
			float *yc = y + ((size_t)q * c + ch) * oh * ow;
			for (int oy = 0; oy < oh; oy++)
				for (int ox = 0; ox < ow; ox++) {
					int iy = 2 * oy + dy[q], ix = 2 * ox + dx[q];
					yc[(size_t)oy * ow + ox] = iy < h && ix < w ? xc[(size_t)iy * w + ix] : 0.0f;
				}
		}
}

void tn_add(const float *a, const float *b, size_t n, int relu, float *y)
{
	if (relu)
#pragma omp parallel for schedule(static)
		for (size_t k = 0; k < n; k++) {
			float v = a[k] + b[k];
			y[k] = v > 0.0f ? v : 0.0f;
		}
	else
#pragma omp parallel for schedule(static)
		for (size_t k = 0; k < n; k++)
			y[k] = a[k] + b[k];
}

void tn_concat(const float *const *xs, const int *cs, int n, size_t hw, float *y)
{
	for (int k = 0; k < n; k++) {
		if (xs[k] != y) /* else written in place by its producer */
			memcpy(y, xs[k], sizeof(float) * hw * (size_t)cs[k]);
		y += hw * (size_t)cs[k];
	}
}
