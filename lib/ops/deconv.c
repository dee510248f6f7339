/* Transposed convolution as PyTorch's ConvTranspose2d (zero "padding" crops, out_pad extends). */
#include "ops/deconv.h"

#include <blis.h>
#include <string.h>

/* Column tiles are bounded so a big map does not need a (cout*k*k) x (H*W) matrix at once. */
#define COL_MAX_FLOATS (1u << 21)

int tn_deconv_out_size(int in, int k, int stride, int pad, int out_pad)
{
	long n = ((long)in - 1) * stride - 2L * pad + k + out_pad;
	if (in < 1 || k < 1 || stride < 1 || n < 1 || n > (1L << 30))
		return 0;
	return (int)n;
}

static int is_depthwise(const struct tn_deconv *dc)
{
	return dc->groups == dc->cin && dc->groups == dc->cout;
}

static size_t tile_rows(const struct tn_deconv *dc, int h, int w)
{
	size_t m = (size_t)(dc->cout / dc->groups) * dc->k * dc->k;
	size_t rows = COL_MAX_FLOATS / (m * (size_t)(w > 0 ? w : 1));
	if (rows < 1)
		rows = 1;
	return rows > (size_t)h ? (size_t)h : rows;
}

size_t tn_deconv2d_workspace(const struct tn_deconv *dc, int h, int w)
{
	if (is_depthwise(dc))
		return 0;
	return (size_t)(dc->cout / dc->groups) * dc->k * dc->k * tile_rows(dc, h, w) * (size_t)w;
}

/* Input columns ix whose output column ix*s + off lies in [0, ow): [*lo, *hi). */
static void in_range(int w, int ow, int s, int off, int *lo, int *hi)
{
	int a = off >= 0 ? 0 : (-off + s - 1) / s;
	int b = ow - 1 - off >= 0 ? (ow - 1 - off) / s + 1 : 0;
	if (b > w)
		b = w;
	if (a > b)
		a = b;
	*lo = a;
	*hi = b;
}

/* One channel in, one out: each input row scatters into the rows its taps reach. */
static void deconv_depthwise(const struct tn_deconv *dc, const float *x, int h, int w, float *y, int oh, int ow)
{
	const int k = dc->k, s = dc->stride, p = dc->pad;
#pragma omp parallel for schedule(static)
	for (int c = 0; c < dc->cout; c++) {
		const float *xc = x + (size_t)c * h * w, *wc = dc->weight + (size_t)c * k * k;
		float *yc = y + (size_t)c * oh * ow;
		memset(yc, 0, sizeof(float) * (size_t)oh * ow);
		for (int iy = 0; iy < h; iy++)
			for (int ky = 0; ky < k; ky++) {
				int oy = iy * s - p + ky;
				if (oy < 0 || oy >= oh)
					continue;
				float *yr = yc + (size_t)oy * ow;
				const float *xr = xc + (size_t)iy * w;
				for (int kx = 0; kx < k; kx++) {
					int lo, hi, off = kx - p;
					float wv = wc[ky * k + kx];
					in_range(w, ow, s, off, &lo, &hi);
					for (int ix = lo; ix < hi; ix++)
						yr[ix * s + off] += wv * xr[ix];
				}
			}
	}
}

void tn_deconv2d(const struct tn_deconv *dc, const float *x, int h, int w, float *y, float *work)
{
	const int k = dc->k, s = dc->stride, p = dc->pad;
	const int oh = tn_deconv_out_size(h, k, s, p, dc->out_pad), ow = tn_deconv_out_size(w, k, s, p, dc->out_pad);
	const size_t npix = (size_t)oh * ow;
	if (is_depthwise(dc)) {
		deconv_depthwise(dc, x, h, w, y, oh, ow);
	} else {
		const int cg = dc->cin / dc->groups, og = dc->cout / dc->groups, m = og * k * k;
		const int rows = (int)tile_rows(dc, h, w);
		memset(y, 0, sizeof(float) * npix * dc->cout);
		for (int r0 = 0; r0 < h; r0 += rows) {
			const int nr = h - r0 < rows ? h - r0 : rows, ncol = nr * w;
			for (int g = 0; g < dc->groups; g++) {
				/* col[m][ncol] = W_g^T X_g: W_g is [cg][m] row-major, read transposed by strides. */
				float one = 1.0f, zero = 0.0f;
				bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, m, ncol, cg, &one,
					  (float *)dc->weight + (size_t)g * cg * m, 1, m,
					  (float *)x + (size_t)g * cg * h * w + (size_t)r0 * w, (inc_t)h * w, 1, &zero, work,
					  ncol, 1);
				/* col2im: each output channel is summed by one thread in a fixed order. */
#pragma omp parallel for schedule(static)
				for (int o = 0; o < og; o++) {
					float *yo = y + (size_t)(g * og + o) * npix;
					for (int ky = 0; ky < k; ky++)
						for (int kx = 0; kx < k; kx++) {
							const float *col = work + ((size_t)(o * k + ky) * k + kx) * ncol;
							int lo, hi, off = kx - p;
							in_range(w, ow, s, off, &lo, &hi);
							for (int r = 0; r < nr; r++) {
								int oy = (r0 + r) * s - p + ky;
								if (oy < 0 || oy >= oh)
									continue;
								float *yr = yo + (size_t)oy * ow;
								const float *cr = col + (size_t)r * w;
								for (int ix = lo; ix < hi; ix++)
									yr[ix * s + off] += cr[ix];
							}
						}
				}
			}
		}
	}
	if (dc->bias) {
#pragma omp parallel for schedule(static)
		for (int c = 0; c < dc->cout; c++) {
			float b = dc->bias[c], *yc = y + (size_t)c * npix;
			for (size_t i = 0; i < npix; i++)
				yc[i] += b;
		}
	}
}

void tn_deconv2d_ref(const struct tn_deconv *dc, const float *x, int h, int w, float *y)
{
	const int k = dc->k, s = dc->stride, p = dc->pad;
	const int oh = tn_deconv_out_size(h, k, s, p, dc->out_pad), ow = tn_deconv_out_size(w, k, s, p, dc->out_pad);
	const int cg = dc->cin / dc->groups, og = dc->cout / dc->groups;
	for (int co = 0; co < dc->cout; co++) {
		int g = co / og, o = co % og;
		for (int oy = 0; oy < oh; oy++)
			for (int ox = 0; ox < ow; ox++) {
				double acc = dc->bias ? dc->bias[co] : 0.0;
				for (int ci = g * cg; ci < (g + 1) * cg; ci++)
					for (int ky = 0; ky < k; ky++) {
						int ty = oy + p - ky;
						if (ty < 0 || ty % s || ty / s >= h)
							continue;
						for (int kx = 0; kx < k; kx++) {
							int tx = ox + p - kx;
							if (tx < 0 || tx % s || tx / s >= w)
								continue;
							acc += (double)x[((size_t)ci * h + ty / s) * w + tx / s] *
							       dc->weight[(((size_t)ci * og + o) * k + ky) * k + kx];
						}
					}
				y[((size_t)co * oh + oy) * ow + ox] = (float)acc;
			}
	}
}
