/* Convolution as PyTorch's F.conv2d (zero padding, dilation, groups). */
#include "ops/conv.h"

#include "core/simd.h"
#include "ops/convdirect.h"
#include "ops/fastmath.h"
#include "ops/winograd.h"

#include <blis.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* im2col goes in chunks of output rows: about IM2COL_CHUNK_FLOATS (512 KB, so the column
 * matrix is still in L2 when the GEMM packs it), but not fewer than IM2COL_MIN_COLUMNS
 * columns, below which the GEMM would repack the weights for too little work, as long as
 * that stays within IM2COL_MAX_FLOATS (8 MB). */
#define IM2COL_CHUNK_FLOATS (1u << 17)
#define IM2COL_MIN_COLUMNS 1024
#define IM2COL_MAX_FLOATS (1u << 21)

/* The chunk of an im2col conv: rows of output and input channels (of the group's cg) at a time.
 * When the column matrix of enough rows for all channels would pass IM2COL_MAX_FLOATS (deep
 * dilated convs such as ASPP's: K = 18432), the channels are split instead of the rows and the
 * GEMMs accumulate, so each weight is packed once rather than once per few rows. */
static void im2col_plan(size_t taps, int cg, int oh, int ow, int *rows_out, int *nc_out)
{
	size_t width = ow > 0 ? (size_t)ow : 1, k = taps * (size_t)cg;
	size_t rows = IM2COL_CHUNK_FLOATS / (k * width);
	size_t min_rows = (IM2COL_MIN_COLUMNS + width - 1) / width;
	size_t max_rows = oh > 0 ? (size_t)oh : 1;
	if (rows < min_rows)
		rows = min_rows;
	if (rows > max_rows)
		rows = max_rows;
	size_t nc = (size_t)cg;
	if (rows * k * width > IM2COL_MAX_FLOATS) {
		nc = IM2COL_MAX_FLOATS / (taps * rows * width);
		if (nc < 1) {
			nc = 1;
			rows = IM2COL_MAX_FLOATS / (taps * width);
			rows = rows < 1 ? 1 : rows;
		}
	}
	*rows_out = (int)rows;
	*nc_out = (int)nc;
}

int tn_conv_out_size(int in, int k, int stride, int pad, int dil)
{
	long span = (long)dil * (k - 1) + 1;
	long n = (long)in + 2L * pad - span;
	if (n < 0 || stride <= 0)
		return 0;
	return (int)(n / stride + 1);
}

static int is_depthwise(const struct tn_conv *cv)
{
	return cv->groups == cv->cin && cv->groups == cv->cout && cv->groups > 1;
}

static int is_pointwise(const struct tn_conv *cv)
{
	return cv->kh == 1 && cv->kw == 1 && cv->stride == 1 && cv->pad == 0 && tn_conv_sw(cv) == 1 &&
	       tn_conv_pw(cv) == 0 && cv->groups == 1;
}

static float apply_act(enum tn_act act, float v)
{
	switch (act) {
	case TN_ACT_RELU:
		return v > 0.0f ? v : 0.0f;
	case TN_ACT_RELU6:
		return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
	case TN_ACT_SILU:
		return v / (1.0f + tn_expf(-v));
	default:
		return v;
	}
}

static inline float relu(float v)
{
	return v > 0.0f ? v : 0.0f;
}

TN_SIMD_CLONES
void tn_conv_epilogue(const struct tn_conv *cv, int co, float *y, size_t n, const float *r, int flags)
{
	float b = cv->bias ? cv->bias[co] : 0.0f;
	switch (cv->act) {
	case TN_ACT_RELU:
		for (size_t i = 0; i < n; i++)
			y[i] = relu(y[i] + b);
		break;
	case TN_ACT_RELU6:
		for (size_t i = 0; i < n; i++) {
			float v = y[i] + b;
			v = v > 0.0f ? v : 0.0f; /* two selects the compiler turns into max/min */
			y[i] = v < 6.0f ? v : 6.0f;
		}
		break;
	case TN_ACT_SILU:
		tn_silu_bias(y, n, b);
		break;
	default:
		for (size_t i = 0; i < n; i++)
			y[i] += b;
	}
	if (r) {
		if (flags & TN_CONV_RES_RELU)
			for (size_t i = 0; i < n; i++)
				y[i] += relu(r[i]);
		else
			for (size_t i = 0; i < n; i++)
				y[i] += r[i];
	}
}

int tn_conv2d_uses_winograd(const struct tn_conv *cv, int h, int w, int flags)
{
	/* Winograd knows one stride and one padding. */
	return !(flags & TN_CONV_RELU_IN) && tn_conv_sw(cv) == cv->stride && tn_conv_pw(cv) == cv->pad &&
	       tn_winograd_eligible(cv, h, w);
}

/* A dilated conv on a small map reads mostly padding: with dilation 18 on 32x32 (ASPP at output
 * stride 16) a corner tap touches 14x14 of the 32x32 outputs.  Such convs run tap by tap, each
 * tap a GEMM over only the outputs whose input is inside the image: (cout x cin) times the
 * shifted input rectangle, accumulated into y.  Taps whose rectangle spans whole output rows
 * write y directly (and read the input in place when they need no column shift). */
#define SPARSE_TAPS_MAX_FLOATS (1u << 22)

struct tap_rect {
	int oy0, ny, ox0, nx; /* valid outputs */
	int dy, dx;           /* input = output + (dy, dx) */
};

static struct tap_rect tap_rect(const struct tn_conv *cv, int h, int w, int oh, int ow, int ky, int kx)
{
	struct tap_rect r;
	r.dy = ky * cv->dil - cv->pad;
	r.dx = kx * cv->dil - tn_conv_pw(cv);
	int y0 = r.dy < 0 ? -r.dy : 0, y1 = h - r.dy < oh ? h - r.dy : oh;
	int x0 = r.dx < 0 ? -r.dx : 0, x1 = w - r.dx < ow ? w - r.dx : ow;
	r.oy0 = y0;
	r.ny = y1 > y0 ? y1 - y0 : 0;
	r.ox0 = x0;
	r.nx = x1 > x0 ? x1 - x0 : 0;
	return r;
}

/* Whether the tap-by-tap path pays: stride 1, one group, a single-row-free GEMM size, at most
 * 80% of the tap-output pairs inside the image, and its buffers within bounds. */
static int sparse_taps_eligible(const struct tn_conv *cv, int h, int w, int oh, int ow, int flags)
{
	if (cv->dil < 2 || cv->stride != 1 || tn_conv_sw(cv) != 1 || cv->groups != 1 ||
	    (flags & TN_CONV_RELU_IN) || cv->cin < 64 || cv->kh * cv->kw > 49)
		return 0;
	size_t npix = (size_t)oh * ow, valid = 0;
	if ((size_t)(cv->cin + cv->cout) * npix > SPARSE_TAPS_MAX_FLOATS)
		return 0;
	for (int ky = 0; ky < cv->kh; ky++)
		for (int kx = 0; kx < cv->kw; kx++) {
			struct tap_rect r = tap_rect(cv, h, w, oh, ow, ky, kx);
			valid += (size_t)r.ny * r.nx;
		}
	return valid * 10 <= npix * (size_t)(cv->kh * cv->kw) * 8;
}

static void conv_sparse_taps(const struct tn_conv *cv, const float *x, int h, int w, float *y, int oh, int ow,
			     float *work)
{
	const size_t npix = (size_t)oh * ow, hw = (size_t)h * w;
	const int taps = cv->kh * cv->kw, cin = cv->cin, cout = cv->cout;
	int first = 1;
	/* whole-width taps first (they can set y rather than add), then the others */
	for (int pass = 0; pass < 2; pass++)
		for (int t = 0; t < taps; t++) {
			struct tap_rect r = tap_rect(cv, h, w, oh, ow, t / cv->kw, t % cv->kw);
			if (r.ny == 0 || r.nx == 0 || (r.nx == ow) != (pass == 0))
				continue;
			if (first && !(r.ny == oh && r.nx == ow)) {
				memset(y, 0, sizeof(float) * (size_t)cout * npix);
				first = 0;
			}
			const size_t nv = (size_t)r.ny * r.nx;
			const float *b = x + (size_t)(r.oy0 + r.dy) * w + r.ox0 + r.dx;
			size_t ldb = hw;
			if (!(r.dx == 0 && r.nx == w && ow == w)) {
				/* gather the shifted rectangle: cin x (ny * nx) */
				float *col = work;
#pragma omp parallel for schedule(static)
				for (int c = 0; c < cin; c++)
					for (int i = 0; i < r.ny; i++)
						memcpy(col + (size_t)c * nv + (size_t)i * r.nx,
						       x + c * hw + (size_t)(r.oy0 + i + r.dy) * w + r.ox0 + r.dx,
						       sizeof(float) * r.nx);
				b = col;
				ldb = nv;
			}
			float one = 1.0f, beta = first ? 0.0f : 1.0f;
			if (r.nx == ow) {
				bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, cout, (dim_t)nv, cin, &one,
					  (float *)cv->weight + t, (inc_t)cin * taps, taps, (float *)b, (inc_t)ldb, 1,
					  &beta, y + (size_t)r.oy0 * ow, (inc_t)npix, 1);
			} else {
				float *prod = work + (size_t)cin * nv, zero = 0.0f;
				bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, cout, (dim_t)nv, cin, &one,
					  (float *)cv->weight + t, (inc_t)cin * taps, taps, (float *)b, (inc_t)ldb, 1,
					  &zero, prod, (inc_t)nv, 1);
#pragma omp parallel for schedule(static)
				for (int o = 0; o < cout; o++)
					for (int i = 0; i < r.ny; i++) {
						float *yr = y + (size_t)o * npix + (size_t)(r.oy0 + i) * ow + r.ox0;
						const float *pr = prod + (size_t)o * nv + (size_t)i * r.nx;
						for (int j = 0; j < r.nx; j++)
							yr[j] += pr[j];
					}
			}
			first = 0;
		}
	if (first) /* no tap inside the image */
		memset(y, 0, sizeof(float) * (size_t)cout * npix);
}

static size_t conv_workspace_unpacked(const struct tn_conv *cv, int h, int w, int flags, int nthreads);

/* Depthwise bands: about 64 KB of padded rows each; *floats per thread, 0 when the strides
 * differ or a band would pass 64 MB (then the bounds are tested per tap instead). */
static int depthwise_band(const struct tn_conv *cv, int w, int oh, size_t *floats)
{
	const int wp = w + 2 * tn_conv_pw(cv), halo = (cv->kh - 1) * cv->dil;
	int band = (int)((16384 / (wp > 0 ? wp : 1) - halo) / cv->stride);
	band = band < 1 ? 1 : band > oh ? (oh > 0 ? oh : 1) : band;
	const size_t band_floats = ((size_t)(band - 1) * cv->stride + halo + 1) * wp;
	const int padded = cv->stride == tn_conv_sw(cv) && band_floats <= ((size_t)1 << 24);
	*floats = padded ? (band_floats + 15) & ~(size_t)15 : 0; /* threads' copies 64 bytes apart */
	return band;
}

/* Where the direct kernel goes, from per-layer timings on AVX-512 (Zen 5): it keeps a pixel
 * block's input, K x 48 floats, in L2 up to about K = 2304 (256 channels of 3x3); a 1x1 conv
 * on more than 768 channels reads one plane per channel and BLIS's packing wins there.
 *
 * Three choices that measured faster are not taken, because each flips one or two more
 * near-tied pixels (top-2 margin under 1e-3) of the Xception photo test than its bound of
 * 99.99 % equal allows (person.jpg: 27 of 271,360 differ with the paths below, as before this
 * kernel; 28 or 29 with any of them): the direct kernel for 1x1 convs on 513 to 768 channels
 * (Xception's 728: 1.9x faster), Winograd rather than direct for 3x3s of 256+ channels over
 * maps of 96x96 or more (DeepLab's decoder: 1.7x), and the direct kernel for 1x1 convs on one
 * pixel over more than 1024 channels (ASPP's pooling branch on Xception: 4x). */
static int direct_pays(const struct tn_conv *cv, int oh, int ow)
{
	const long taps = (long)cv->kh * cv->kw, k = taps * cv->cin;
	/* On one pixel a conv is a matrix-vector product, bound by reading the weights: BLIS packs
	 * them all for one column, the direct kernel reads its packed copy once (GoogLeNet's fc:
	 * 1.6 -> 0.5 ms).  Up to 1024 channels, as Xception's 2048-channel pooling branch is one
	 * of the three choices below. */
	if (oh == 1 && ow == 1 && taps == 1 && cv->cin <= 1024)
		return 1;
	return k <= 2304 && (taps > 1 || cv->cin <= 512);
}

int tn_conv2d_uses_direct(const struct tn_conv *cv, int h, int w, int flags)
{
	if (is_depthwise(cv) || !tn_conv_direct_eligible(cv))
		return 0;
	int oh = tn_conv_out_size(h, cv->kh, cv->stride, cv->pad, cv->dil);
	int ow = tn_conv_out_size(w, cv->kw, tn_conv_sw(cv), tn_conv_pw(cv), cv->dil);
	return oh > 0 && ow > 0 && !sparse_taps_eligible(cv, h, w, oh, ow, flags) && direct_pays(cv, oh, ow);
}

size_t tn_conv2d_workspace(const struct tn_conv *cv, int h, int w, int flags, int nthreads)
{
	if (tn_conv2d_uses_direct(cv, h, w, flags)) {
		/* The other paths stay possible until the weights are packed. */
		size_t direct = tn_conv_direct_workspace(cv, h, w, flags, nthreads);
		size_t other = conv_workspace_unpacked(cv, h, w, flags, nthreads);
		return direct > other ? direct : other;
	}
	return conv_workspace_unpacked(cv, h, w, flags, nthreads);
}

static size_t conv_workspace_unpacked(const struct tn_conv *cv, int h, int w, int flags, int nthreads)
{
	/* Room for either path: the Winograd one runs only once its weights are transformed. */
	size_t wino = tn_conv2d_uses_winograd(cv, h, w, flags) ? tn_winograd_workspace(cv, h, w) : 0;
	int oh = tn_conv_out_size(h, cv->kh, cv->stride, cv->pad, cv->dil);
	int ow = tn_conv_out_size(w, cv->kw, tn_conv_sw(cv), tn_conv_pw(cv), cv->dil);
	if (is_depthwise(cv)) {
		size_t per_thread;
		depthwise_band(cv, w, oh, &per_thread);
		per_thread *= (size_t)(nthreads > 0 ? nthreads : 1);
		return per_thread > wino ? per_thread : wino;
	}
	if (is_pointwise(cv) && !(flags & TN_CONV_RELU_IN))
		return wino;
	size_t taps = (size_t)cv->kh * cv->kw;
	int rows, nc;
	im2col_plan(taps, cv->cin / cv->groups, oh, ow, &rows, &nc);
	size_t im2col = taps * (size_t)nc * (size_t)rows * (size_t)ow;
	if (sparse_taps_eligible(cv, h, w, oh, ow, flags)) {
		size_t sparse = (size_t)(cv->cin + cv->cout) * oh * ow;
		im2col = sparse > im2col ? sparse : im2col;
	}
	return im2col > wino ? im2col : wino;
}

/* Depthwise, one channel: each kernel tap adds a shifted input row into the output row, over
 * the output columns [lo[kx], hi[kx]] whose input column is inside the image. */
TN_SIMD_CLONES
/* The outputs [*lo, *hi] of a row that tap kx reaches inside the image (ix = ox*sx + off). */
static void tap_range(int kx, int d, int px, int sx, int w, int ow, int *lo, int *hi)
{
	int off = kx * d - px;
	*lo = off >= 0 ? 0 : (-off + sx - 1) / sx;
	*hi = (w - 1 - off) >= 0 ? (w - 1 - off) / sx : -1;
	if (*hi > ow - 1)
		*hi = ow - 1;
}

static void depthwise_plane(const struct tn_conv *cv, const float *xc, int h, int w, const float *wc,
			    float *yc, int oh, int ow, int relu_in)
{
	const int s = cv->stride, p = cv->pad, d = cv->dil, kh = cv->kh, kw = cv->kw;
	const int sx = tn_conv_sw(cv), px = tn_conv_pw(cv);
	for (int oy = 0; oy < oh; oy++) {
		float *yr = yc + (size_t)oy * ow;
		memset(yr, 0, sizeof(float) * ow);
		for (int ky = 0; ky < kh; ky++) {
			int iy = oy * s - p + ky * d;
			if (iy < 0 || iy >= h)
				continue;
			const float *xr = xc + (size_t)iy * w;
			for (int kx = 0; kx < kw; kx++) {
				float wv = wc[ky * kw + kx];
				int off = kx * d - px, lo, hi;
				tap_range(kx, d, px, sx, w, ow, &lo, &hi);
				if (sx == 1) {
					const float *xs = xr + off;
					if (relu_in)
						for (int ox = lo; ox <= hi; ox++)
							yr[ox] += wv * relu(xs[ox]);
					else
						for (int ox = lo; ox <= hi; ox++)
							yr[ox] += wv * xs[ox];
				} else {
					for (int ox = lo; ox <= hi; ox++) {
						float v = xr[ox * sx + off];
						yr[ox] += wv * (relu_in ? relu(v) : v);
					}
				}
			}
		}
	}
}

/* 3x3 depthwise rows from the padded copy; s is a constant where it is inlined, so the
 * stride-1 loop reads contiguous memory. */
static inline void depthwise3x3_rows(const float *xp, int wp, const float *wc, float *yc, int oh, int ow, int s,
				     int d)
{
	const float w0 = wc[0], w1 = wc[1], w2 = wc[2], w3 = wc[3], w4 = wc[4], w5 = wc[5], w6 = wc[6],
		    w7 = wc[7], w8 = wc[8];
	for (int oy = 0; oy < oh; oy++) {
		const float *r0 = xp + (size_t)oy * s * wp, *r1 = r0 + (size_t)d * wp, *r2 = r1 + (size_t)d * wp;
		float *yr = yc + (size_t)oy * ow;
		for (int ox = 0; ox < ow; ox++) {
			const int i = ox * s;
			float acc = w0 * r0[i];
			acc += w1 * r0[i + d];
			acc += w2 * r0[i + 2 * d];
			acc += w3 * r1[i];
			acc += w4 * r1[i + d];
			acc += w5 * r1[i + 2 * d];
			acc += w6 * r2[i];
			acc += w7 * r2[i + d];
			acc += w8 * r2[i + 2 * d];
			yr[ox] = acc;
		}
	}
}

/* Depthwise, one channel, in bands of output rows: the input rows a band reads are copied,
 * zero-padded (and through ReLU when relu_in), into xp, rows wp floats apart, which stays in
 * cache; then every output is one pass over its taps with no bounds to test.  The stride is the
 * same along both axes; band rows of output per copy. */
TN_SIMD_CLONES
static void depthwise_plane_padded(const struct tn_conv *cv, const float *xc, int h, int w, const float *wc,
				   float *yc, int oh, int ow, int relu_in, float *xp, int wp, int band)
{
	const int p = cv->pad, px = tn_conv_pw(cv), d = cv->dil, kh = cv->kh, kw = cv->kw, s = cv->stride;
	for (int oy0 = 0; oy0 < oh; oy0 += band) {
		const int nr = oh - oy0 < band ? oh - oy0 : band;
		const int in_rows = (nr - 1) * s + (kh - 1) * d + 1, iy0 = oy0 * s - p;
		for (int r = 0; r < in_rows; r++) {
			float *dr = xp + (size_t)r * wp;
			const int iy = iy0 + r;
			if (iy < 0 || iy >= h) {
				memset(dr, 0, sizeof(float) * wp);
				continue;
			}
			const float *xr = xc + (size_t)iy * w;
			memset(dr, 0, sizeof(float) * px);
			if (relu_in)
				for (int ix = 0; ix < w; ix++)
					dr[px + ix] = relu(xr[ix]);
			else
				memcpy(dr + px, xr, sizeof(float) * w);
			memset(dr + px + w, 0, sizeof(float) * (size_t)(wp - px - w));
		}
		float *yb = yc + (size_t)oy0 * ow;
		if (kh == 3 && kw == 3 && s == 1) {
			depthwise3x3_rows(xp, wp, wc, yb, nr, ow, 1, d);
			continue;
		}
		if (kh == 3 && kw == 3 && s == 2) {
			depthwise3x3_rows(xp, wp, wc, yb, nr, ow, 2, d);
			continue;
		}
		for (int oy = 0; oy < nr; oy++) {
			float *yr = yb + (size_t)oy * ow;
			memset(yr, 0, sizeof(float) * ow);
			for (int ky = 0; ky < kh; ky++) {
				const float *xr = xp + (size_t)(oy * s + ky * d) * wp;
				for (int kx = 0; kx < kw; kx++) {
					const float wv = wc[ky * kw + kx], *xs = xr + kx * d;
					for (int ox = 0; ox < ow; ox++)
						yr[ox] += wv * xs[(size_t)ox * s];
				}
			}
		}
	}
}

/* Depthwise: one channel per task, through a padded copy per thread (work) when the strides
 * are equal, else testing the image bounds per tap. */
static void conv_depthwise(const struct tn_conv *cv, const float *x, int h, int w, float *y,
			   int oh, int ow, int relu_in, float *work, int nthreads)
{
	const int wp = w + 2 * tn_conv_pw(cv);
	size_t per_thread;
	const int band = depthwise_band(cv, w, oh, &per_thread);
#pragma omp parallel num_threads(nthreads)
	{
		float *xp = per_thread ? work + per_thread * (size_t)omp_get_thread_num() : NULL;
#pragma omp for schedule(static)
		for (int c = 0; c < cv->cout; c++) {
			const float *xc = x + (size_t)c * h * w, *wc = cv->weight + (size_t)c * cv->kh * cv->kw;
			float *yc = y + (size_t)c * oh * ow;
			if (xp)
				depthwise_plane_padded(cv, xc, h, w, wc, yc, oh, ow, relu_in, xp, wp, band);
			else
				depthwise_plane(cv, xc, h, w, wc, yc, oh, ow, relu_in);
		}
	}
}

/* Gathers output rows [r0, r0+nr) of one group into col[k][nr*ow]: for each kernel tap, the
 * output columns whose input column falls inside the image are copied, the rest zeroed. */
static void im2col_rows(const struct tn_conv *cv, const float *x, int nch, int h, int w, int ow, int r0,
			int nr, int relu_in, float *col)
{
	const int kh = cv->kh, kw = cv->kw;
	const int s = cv->stride, p = cv->pad, d = cv->dil, sx = tn_conv_sw(cv), px = tn_conv_pw(cv);
	const size_t ncol = (size_t)nr * ow;
	const int K = nch * kh * kw;
#pragma omp parallel for schedule(static)
	for (int kk = 0; kk < K; kk++) {
		int c = kk / (kh * kw), ky = (kk / kw) % kh, kx = kk % kw;
		const float *xc = x + (size_t)c * h * w;
		float *dst = col + (size_t)kk * ncol;
		int off = kx * d - px; /* ix = ox*sx + off */
		int lo = off >= 0 ? 0 : (-off + sx - 1) / sx;
		int hi = (w - 1 - off) >= 0 ? (w - 1 - off) / sx + 1 : 0; /* exclusive */
		if (hi > ow)
			hi = ow;
		if (lo > hi)
			lo = hi;
		for (int r = 0; r < nr; r++) {
			int iy = (r0 + r) * s - p + ky * d;
			float *dr = dst + (size_t)r * ow;
			if (iy < 0 || iy >= h) {
				memset(dr, 0, sizeof(float) * ow);
				continue;
			}
			const float *xr = xc + (size_t)iy * w + off;
			for (int ox = 0; ox < lo; ox++)
				dr[ox] = 0.0f;
			if (relu_in)
				for (int ox = lo; ox < hi; ox++)
					dr[ox] = relu(xr[(size_t)ox * sx]);
			else if (sx == 1)
				memcpy(dr + lo, xr + lo, sizeof(float) * (size_t)(hi - lo));
			else
				for (int ox = lo; ox < hi; ox++)
					dr[ox] = xr[(size_t)ox * sx];
			for (int ox = hi; ox < ow; ox++)
				dr[ox] = 0.0f;
		}
	}
}

/* The epilogue over columns [c0, c0+nc) of every output channel. */
static void epilogue_all(const struct tn_conv *cv, float *y, const float *res, size_t npix, size_t c0,
			 size_t nc, int flags)
{
#pragma omp parallel for schedule(static)
	for (int co = 0; co < cv->cout; co++)
		tn_conv_epilogue(cv, co, y + (size_t)co * npix + c0, nc,
			       res ? res + (size_t)co * npix + c0 : NULL, flags);
}

void tn_conv2d(const struct tn_conv *cv, const float *x, int h, int w, float *y, const float *res,
	       int flags, float *work, int nthreads)
{
	const int oh = tn_conv_out_size(h, cv->kh, cv->stride, cv->pad, cv->dil);
	const int ow = tn_conv_out_size(w, cv->kw, tn_conv_sw(cv), tn_conv_pw(cv), cv->dil);
	const size_t npix = (size_t)oh * ow;
	const int relu_in = flags & TN_CONV_RELU_IN;
	if (cv->packed && tn_conv2d_uses_direct(cv, h, w, flags)) {
		tn_conv_direct(cv, cv->packed, x, h, w, y, res, flags, work, nthreads);
		return;
	}
	if (cv->wino && tn_conv2d_uses_winograd(cv, h, w, flags)) {
		tn_winograd_conv(cv, cv->wino, x, h, w, y, work);
	} else if (is_depthwise(cv)) {
		conv_depthwise(cv, x, h, w, y, oh, ow, relu_in, work, nthreads);
	} else if (sparse_taps_eligible(cv, h, w, oh, ow, flags)) {
		conv_sparse_taps(cv, x, h, w, y, oh, ow, work);
	} else if (is_pointwise(cv) && !relu_in) {
		/* In column chunks, so the epilogue finds its outputs still in cache. */
		const size_t chunk = npix < 4096 ? npix : 4096;
		for (size_t c0 = 0; c0 < npix; c0 += chunk) {
			size_t nc = npix - c0 < chunk ? npix - c0 : chunk;
			float one = 1.0f, zero = 0.0f;
			bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, cv->cout, (dim_t)nc, cv->cin, &one,
				  (float *)cv->weight, cv->cin, 1, (float *)x + c0, (inc_t)npix, 1, &zero, y + c0,
				  (inc_t)npix, 1);
			epilogue_all(cv, y, res, npix, c0, nc, flags);
		}
		return;
	} else {
		const int cg = cv->cin / cv->groups, og = cv->cout / cv->groups;
		const int taps = cv->kh * cv->kw, K = cg * taps;
		int rows, nc;
		im2col_plan((size_t)taps, cg, oh, ow, &rows, &nc);
		for (int r0 = 0; r0 < oh; r0 += rows) {
			int nr = oh - r0 < rows ? oh - r0 : rows;
			for (int g = 0; g < cv->groups; g++) {
				const float *xg = x + (size_t)g * cg * h * w;
				const float *wg = cv->weight + (size_t)g * og * K;
				float *yg = y + (size_t)g * og * npix;
				for (int c0 = 0; c0 < cg; c0 += nc) {
					int n = cg - c0 < nc ? cg - c0 : nc;
					im2col_rows(cv, xg + (size_t)c0 * h * w, n, h, w, ow, r0, nr, relu_in, work);
					float one = 1.0f, beta = c0 ? 1.0f : 0.0f;
					bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, og, nr * ow, n * taps, &one,
						  (float *)wg + (size_t)c0 * taps, K, 1, work, nr * ow, 1, &beta,
						  yg + (size_t)r0 * ow, (inc_t)npix, 1);
				}
			}
			epilogue_all(cv, y, res, npix, (size_t)r0 * ow, (size_t)nr * ow, flags);
		}
		return;
	}
	epilogue_all(cv, y, res, npix, 0, npix, flags);
}

void tn_conv2d_ref(const struct tn_conv *cv, const float *x, int h, int w, float *y,
		   const float *res, int flags)
{
	const int oh = tn_conv_out_size(h, cv->kh, cv->stride, cv->pad, cv->dil);
	const int ow = tn_conv_out_size(w, cv->kw, tn_conv_sw(cv), tn_conv_pw(cv), cv->dil);
	const int cg = cv->cin / cv->groups, og = cv->cout / cv->groups;
	for (int co = 0; co < cv->cout; co++) {
		int g = co / og;
		for (int oy = 0; oy < oh; oy++)
			for (int ox = 0; ox < ow; ox++) {
				double acc = 0.0;
				for (int ci = 0; ci < cg; ci++)
					for (int ky = 0; ky < cv->kh; ky++)
						for (int kx = 0; kx < cv->kw; kx++) {
							int iy = oy * cv->stride - cv->pad + ky * cv->dil;
							int ix = ox * tn_conv_sw(cv) - tn_conv_pw(cv) + kx * cv->dil;
							if (iy < 0 || iy >= h || ix < 0 || ix >= w)
								continue;
							float v = x[((size_t)(g * cg + ci) * h + iy) * w + ix];
							if (flags & TN_CONV_RELU_IN)
								v = relu(v);
							acc += (double)v *
							       cv->weight[(((size_t)co * cg + ci) * cv->kh + ky) * cv->kw + kx];
						}
				float v = apply_act(cv->act, (float)acc + (cv->bias ? cv->bias[co] : 0.0f));
				size_t i = ((size_t)co * oh + oy) * ow + ox;
				if (res)
					v += (flags & TN_CONV_RES_RELU) ? relu(res[i]) : res[i];
				y[i] = v;
			}
	}
}
