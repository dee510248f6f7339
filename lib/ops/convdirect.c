/* Direct convolution over packed weights; see convdirect.h. */
#include "ops/convdirect.h"

#include "core/cpu.h"
#include "ops/fastmath.h"

#include <immintrin.h>
#include <omp.h>
#include <string.h>

#define MR 8        /* output channels per packed block and per tile */
#define TILE_W 48   /* pixels a tile holds (the AVX-512 kernel's width) */
#define TAPS_MAX 64 /* kh * kw the tap offset table holds */

/* A conv's input as the kernels read it: channel c, tap t, flattened output pixel n reads
 * base[c * cstride + toff[t] + n]; output pixel n is row n / pitch, column n % pitch. */
struct geometry {
	int oh, ow, sy, sx, rq, wq; /* rq x wq: one phase plane of the padded input */
	int copy;                   /* the input is copied (padding, stride or ReLU) */
	int band;                   /* output rows per band: the copy holds one band's input rows */
	int halo;                   /* phase rows a band reads past its own: (kh - 1) * dil / sy */
	size_t cstride;             /* floats between channels of the copy */
	size_t pitch;               /* floats between output rows on the flattened index */
	ptrdiff_t toff[TAPS_MAX];
};

/* A band's copy of the input stays in L2 (about 512 KB) between its writing and its reads. */
#define BAND_FLOATS (1u << 17)

static void geometry(const struct tn_conv *cv, int h, int w, int flags, struct geometry *g)
{
	const int sy = cv->stride, sx = tn_conv_sw(cv), py = cv->pad, px = tn_conv_pw(cv), d = cv->dil;
	g->oh = tn_conv_out_size(h, cv->kh, sy, py, d);
	g->ow = tn_conv_out_size(w, cv->kw, sx, px, d);
	g->sy = sy;
	g->sx = sx;
	g->copy = sy != 1 || sx != 1 || py || px || (flags & TN_CONV_RELU_IN);
	g->halo = (cv->kh - 1) * d / sy;
	size_t plane;
	if (g->copy) {
		g->rq = (h + 2 * py + sy - 1) / sy;
		g->wq = (w + 2 * px + sx - 1) / sx;
		const size_t row = (size_t)cv->cin * sy * sx * g->wq; /* one phase row of every plane */
		size_t band = BAND_FLOATS / (row ? row : 1);
		band = band > (size_t)g->halo + 1 ? band - g->halo : 1;
		g->band = band < (size_t)g->oh ? (int)band : (g->oh > 0 ? g->oh : 1);
		plane = (size_t)(g->band + g->halo) * g->wq;
		g->cstride = (size_t)sy * sx * plane;
	} else {
		g->rq = h;
		g->wq = w;
		g->band = g->oh > 0 ? g->oh : 1;
		plane = (size_t)h * w;
		g->cstride = plane;
	}
	g->pitch = (size_t)g->wq;
	for (int ky = 0; ky < cv->kh; ky++)
		for (int kx = 0; kx < cv->kw; kx++) {
			const int dy = ky * d, dx = kx * d;
			size_t phase = (size_t)(dy % sy) * sx + (size_t)(dx % sx);
			g->toff[ky * cv->kw + kx] =
				(ptrdiff_t)(phase * plane + (size_t)(dy / sy) * g->wq + (size_t)(dx / sx));
		}
}

int tn_conv_direct_eligible(const struct tn_conv *cv)
{
	return cv->groups == 1 && cv->kh * cv->kw <= TAPS_MAX && cv->cin > 0 && cv->cout > 0;
}

size_t tn_conv_direct_weight_floats(const struct tn_conv *cv)
{
	return (size_t)(cv->cout + MR - 1) / MR * MR * cv->cin * cv->kh * cv->kw;
}

void tn_conv_direct_pack(const struct tn_conv *cv, float *packed)
{
	const size_t K = (size_t)cv->cin * cv->kh * cv->kw;
	const int nblocks = (cv->cout + MR - 1) / MR;
	for (int b = 0; b < nblocks; b++)
		for (size_t k = 0; k < K; k++)
			for (int r = 0; r < MR; r++) {
				int co = b * MR + r;
				packed[((size_t)b * K + k) * MR + r] = co < cv->cout ? cv->weight[(size_t)co * K + k] : 0.0f;
			}
}

/* Whether each thread copies and computes its own output rows, band by band in a copy of its
 * own: the copy stays in the core that reads it and no thread waits for another.  Maps of
 * fewer rows share each band instead, as an uneven split of a few rows would cost more. */
static int private_bands(const struct geometry *g, int nthreads)
{
	return g->copy && nthreads > 1 && g->oh >= 8 * nthreads;
}

size_t tn_conv_direct_workspace(const struct tn_conv *cv, int h, int w, int flags, int nthreads)
{
	struct geometry g;
	geometry(cv, h, w, flags, &g);
	const size_t copies = private_bands(&g, nthreads) ? (size_t)nthreads : 1;
	return g.copy ? copies * cv->cin * g.cstride : 0;
}

/* One phase row: dst[j] = src[j * sx + off] where that is inside [0, w), else 0 (through
 * ReLU when relu_in); no bounds tested in the interior. */
static void phase_row(float *dst, int wq, const float *src, int w, int sx, int off, int relu_in)
{
	int lo = off >= 0 ? 0 : (-off + sx - 1) / sx;
	int hi = w - 1 - off >= 0 ? (w - 1 - off) / sx + 1 : 0;
	hi = hi > wq ? wq : hi;
	lo = lo > hi ? hi : lo;
	memset(dst, 0, sizeof(float) * lo);
	const float *s = src + off;
	if (relu_in)
		for (int j = lo; j < hi; j++)
			dst[j] = s[(size_t)j * sx] > 0.0f ? s[(size_t)j * sx] : 0.0f;
	else if (sx == 1)
		memcpy(dst + lo, s + lo, sizeof(float) * (hi - lo));
	else if (sx == 2)
		for (int j = lo; j < hi; j++)
			dst[j] = s[2 * (size_t)j];
	else
		for (int j = lo; j < hi; j++)
			dst[j] = s[(size_t)j * sx];
	memset(dst + hi, 0, sizeof(float) * (wq - hi));
}

/* Phase rows [i0, i0 + n) of channel c of the input, zero-padded (through ReLU if asked) and
 * split into its sy x sx phases: phase (ry, rx), row i, column j holds padded pixel
 * (i * sy + ry, j * sx + rx); it goes to row i - i0 of the phase's plane in dst. */
static void copy_phases(const struct tn_conv *cv, const struct geometry *g, const float *xc, int h, int w,
			int relu_in, int i0, int n, float *dst)
{
	const int py = cv->pad, px = tn_conv_pw(cv);
	const size_t plane_floats = g->cstride / ((size_t)g->sy * g->sx);
	for (int ry = 0; ry < g->sy; ry++)
		for (int rx = 0; rx < g->sx; rx++) {
			float *plane = dst + ((size_t)ry * g->sx + rx) * plane_floats;
			for (int i = i0; i < i0 + n; i++) {
				float *row = plane + (size_t)(i - i0) * g->wq;
				const int iy = i * g->sy + ry - py;
				if (iy < 0 || iy >= h)
					memset(row, 0, sizeof(float) * g->wq);
				else
					phase_row(row, g->wq, xc + (size_t)iy * w, w, g->sx, rx - px, relu_in);
			}
		}
}

/* The tile kernels: tile[r][p] = sum over c, t of wk[(c * taps + t) * MR + r] *
 * xb[c * cstride + toff[t] + p] for the n (<= their width) pixels p; the sum runs in k order. */
typedef void tile_fn(const float *wk, const float *xb, const ptrdiff_t *toff, int taps, int cin, size_t cstride,
		     int n, float *tile);

static void tile_generic(const float *wk, const float *xb, const ptrdiff_t *toff, int taps, int cin,
			 size_t cstride, int n, float *tile)
{
	float acc[MR][TILE_W];
	memset(acc, 0, sizeof acc);
	for (int c = 0; c < cin; c++)
		for (int t = 0; t < taps; t++, wk += MR) {
			const float *xk = xb + c * cstride + toff[t];
			for (int r = 0; r < MR; r++)
				for (int p = 0; p < n; p++)
					acc[r][p] += wk[r] * xk[p];
		}
	for (int r = 0; r < MR; r++)
		memcpy(tile + r * TILE_W, acc[r], sizeof(float) * n);
}

__attribute__((target("avx2,fma"))) static __m256i lanes_below(int n)
{
	return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

#define ROW256(r)                                                                                  \
	b = _mm256_broadcast_ss(wk + (r));                                                         \
	a##r##0 = _mm256_fmadd_ps(b, x0, a##r##0);                                                 \
	if (nv > 1)                                                                                \
		a##r##1 = _mm256_fmadd_ps(b, x1, a##r##1);                                         \
	if (nv > 2)                                                                                \
		a##r##2 = _mm256_fmadd_ps(b, x2, a##r##2)
#define STORE256(r)                                                                                \
	_mm256_storeu_ps(tile + (r)*TILE_W, a##r##0);                                              \
	if (nv > 1)                                                                                \
		_mm256_storeu_ps(tile + (r)*TILE_W + 8, a##r##1);                                  \
	if (nv > 2)                                                                                \
		_mm256_storeu_ps(tile + (r)*TILE_W + 16, a##r##2)

/* Four channels (wk's rows r0..r0+3) by nv (1 to 3) vectors of 8 pixels: up to 12
 * accumulators, 3 inputs, 1 broadcast; short tails run only the vectors they need, as in
 * tile_avx512_nv. */
__attribute__((target("avx2,fma"), always_inline)) static inline void
tile_avx2_half(const float *wk, const float *xb, const ptrdiff_t *toff, int taps, int cin, size_t cstride, int n,
	       float *tile, const int nv)
{
	const __m256i m0 = lanes_below(n), m1 = lanes_below(n - 8), m2 = lanes_below(n - 16);
	__m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
	__m256 a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
	for (int c = 0; c < cin; c++) {
		const float *xc = xb + c * cstride;
		for (int t = 0; t < taps; t++, wk += MR) {
			const float *xk = xc + toff[t];
			const __m256 x0 = _mm256_maskload_ps(xk, m0);
			const __m256 x1 = nv > 1 ? _mm256_maskload_ps(xk + 8, m1) : x0;
			const __m256 x2 = nv > 2 ? _mm256_maskload_ps(xk + 16, m2) : x0;
			_mm_prefetch((const char *)(xk + 24), _MM_HINT_T0); /* as in tile_avx512_nv */
			_mm_prefetch((const char *)(xk + 40), _MM_HINT_T0);
			__m256 b;
			ROW256(0);
			ROW256(1);
			ROW256(2);
			ROW256(3);
		}
	}
	STORE256(0);
	STORE256(1);
	STORE256(2);
	STORE256(3);
}

__attribute__((target("avx2,fma"))) static void tile_avx2(const float *wk, const float *xb, const ptrdiff_t *toff,
							   int taps, int cin, size_t cstride, int n, float *tile)
{
	const int nv = n > 16 ? 3 : n > 8 ? 2 : 1;
	for (int half = 0; half < 2; half++) {
		const float *w = wk + 4 * half;
		float *t = tile + 4 * half * TILE_W;
		if (nv == 3)
			tile_avx2_half(w, xb, toff, taps, cin, cstride, n, t, 3);
		else if (nv == 2)
			tile_avx2_half(w, xb, toff, taps, cin, cstride, n, t, 2);
		else
			tile_avx2_half(w, xb, toff, taps, cin, cstride, n, t, 1);
	}
}

__attribute__((target("avx512f"))) static __mmask16 mask16(int n)
{
	return n <= 0 ? 0 : n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1);
}

#define ROW512(r)                                                                                  \
	b = _mm512_set1_ps(wk[r]);                                                                 \
	a##r##0 = _mm512_fmadd_ps(b, x0, a##r##0);                                                 \
	if (nv > 1)                                                                                \
		a##r##1 = _mm512_fmadd_ps(b, x1, a##r##1);                                         \
	if (nv > 2)                                                                                \
		a##r##2 = _mm512_fmadd_ps(b, x2, a##r##2)
#define STORE512(r)                                                                                \
	_mm512_storeu_ps(tile + (r)*TILE_W, a##r##0);                                              \
	if (nv > 1)                                                                                \
		_mm512_storeu_ps(tile + (r)*TILE_W + 16, a##r##1);                                 \
	if (nv > 2)                                                                                \
		_mm512_storeu_ps(tile + (r)*TILE_W + 32, a##r##2)

/* Eight channels by nv (1 to 3) vectors of 16 pixels: up to 24 accumulators, 3 inputs and 1
 * broadcast (of 32 registers).  A tile's tail of up to 16 or 32 pixels runs only the vectors
 * it needs; each pixel's sum is the same whichever width computes it. */
__attribute__((target("avx512f"), always_inline)) static inline void
tile_avx512_nv(const float *wk, const float *xb, const ptrdiff_t *toff, int taps, int cin, size_t cstride, int n,
	       float *tile, const int nv)
{
	const __mmask16 m0 = mask16(n), m1 = mask16(n - 16), m2 = mask16(n - 32);
	__m512 a00 = _mm512_setzero_ps(), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
	__m512 a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
	__m512 a40 = a00, a41 = a00, a42 = a00, a50 = a00, a51 = a00, a52 = a00;
	__m512 a60 = a00, a61 = a00, a62 = a00, a70 = a00, a71 = a00, a72 = a00;
	for (int c = 0; c < cin; c++) {
		const float *xc = xb + c * cstride;
		for (int t = 0; t < taps; t++, wk += MR) {
			const float *xk = xc + toff[t];
			const __m512 x0 = _mm512_maskz_loadu_ps(m0, xk);
			const __m512 x1 = nv > 1 ? _mm512_maskz_loadu_ps(m1, xk + 16) : x0;
			const __m512 x2 = nv > 2 ? _mm512_maskz_loadu_ps(m2, xk + 32) : x0;
			/* the next pixel block's input, which the hardware prefetcher, following
			 * one stream per channel and row, does not see coming */
			_mm_prefetch((const char *)(xk + TILE_W), _MM_HINT_T0);
			_mm_prefetch((const char *)(xk + TILE_W + 16), _MM_HINT_T0);
			_mm_prefetch((const char *)(xk + TILE_W + 32), _MM_HINT_T0);
			__m512 b;
			ROW512(0);
			ROW512(1);
			ROW512(2);
			ROW512(3);
			ROW512(4);
			ROW512(5);
			ROW512(6);
			ROW512(7);
		}
	}
	STORE512(0);
	STORE512(1);
	STORE512(2);
	STORE512(3);
	STORE512(4);
	STORE512(5);
	STORE512(6);
	STORE512(7);
}

__attribute__((target("avx512f"))) static void tile_avx512(const float *wk, const float *xb, const ptrdiff_t *toff,
							    int taps, int cin, size_t cstride, int n, float *tile)
{
	if (n > 32)
		tile_avx512_nv(wk, xb, toff, taps, cin, cstride, n, tile, 3);
	else if (n > 16)
		tile_avx512_nv(wk, xb, toff, taps, cin, cstride, n, tile, 2);
	else
		tile_avx512_nv(wk, xb, toff, taps, cin, cstride, n, tile, 1);
}

/* Bias and activation on rows [0, nrows) of a tile, n pixels each, while it is in cache:
 * SiLU for all rows in one call (a call per row costs as much as the SiLU), the others through
 * conv.c's epilogue. */
static void finish_tile(const struct tn_conv *cv, float *tile, int co0, int nrows, int n)
{
	if (cv->act != TN_ACT_SILU) {
		for (int r = 0; r < nrows; r++)
			tn_conv_epilogue(cv, co0 + r, tile + r * TILE_W, (size_t)n, NULL, 0);
		return;
	}
	float b[MR];
	for (int r = 0; r < nrows; r++)
		b[r] = cv->bias ? cv->bias[co0 + r] : 0.0f;
	tn_silu_bias_rows(tile, TILE_W, nrows, (size_t)n, b);
}

/* Writes rows [0, nrows) of a finished tile (pixels n0 .. n0+n of the flattened index) into y,
 * skipping the columns past ow, adding the residual. */
static void store_tile(const struct geometry *g, const float *tile, int co0, int nrows, size_t n0, int n, float *y,
		       const float *res, int flags)
{
	const size_t npix = (size_t)g->oh * g->ow;
	for (size_t p = n0; p < n0 + (size_t)n;) {
		const size_t oy = p / g->pitch, ox = p % g->pitch;
		size_t seg = g->pitch - ox;
		if (seg > n0 + (size_t)n - p)
			seg = n0 + (size_t)n - p;
		if (ox < (size_t)g->ow) {
			const size_t valid = seg < g->ow - ox ? seg : g->ow - ox;
			for (int r = 0; r < nrows; r++) {
				const size_t at = (size_t)(co0 + r) * npix + oy * g->ow + ox;
				const float *src = tile + r * TILE_W + (p - n0);
				float *dst = y + at;
				if (!res)
					memcpy(dst, src, sizeof(float) * valid);
				else if (flags & TN_CONV_RES_RELU)
					for (size_t i = 0; i < valid; i++)
						dst[i] = src[i] + (res[at + i] > 0.0f ? res[at + i] : 0.0f);
				else
					for (size_t i = 0; i < valid; i++)
						dst[i] = src[i] + res[at + i];
			}
		}
		p += seg;
	}
}

struct kernel {
	tile_fn *tile;
	int width; /* pixels per tile */
};

/* Tasks [part, part + 1) of nparts of one band's (pixel block, channel block) grid, pixel
 * blocks outermost so that a thread reuses a block's input across the channel blocks; base
 * holds the band's input (output rows r0 .. r0 + nr) on the flattened index. */
static void band_tasks(const struct tn_conv *cv, const struct geometry *g, struct kernel k, const float *packed,
		       const float *base, int r0, int nr, long part, long nparts, float *y, const float *res,
		       int flags, float *tile)
{
	const int taps = cv->kh * cv->kw;
	const size_t K = (size_t)cv->cin * taps;
	const long ncb = (cv->cout + MR - 1) / MR;
	const size_t npix_flat = (size_t)(nr - 1) * g->pitch + (size_t)g->ow;
	const long nb = (long)((npix_flat + k.width - 1) / k.width), ntasks = nb * ncb;
	const long lo = ntasks * part / nparts, hi = ntasks * (part + 1) / nparts;
	for (long task = lo; task < hi; task++) {
		const long pb = task / ncb, cb = task % ncb;
		const size_t n0 = (size_t)pb * k.width;
		const int n = (int)(npix_flat - n0 < (size_t)k.width ? npix_flat - n0 : (size_t)k.width);
		k.tile(packed + (size_t)cb * K * MR, base + n0, g->toff, taps, cv->cin, g->cstride, n, tile);
		const int nrows = cv->cout - (int)cb * MR < MR ? cv->cout - (int)cb * MR : MR;
		finish_tile(cv, tile, (int)cb * MR, nrows, n);
		store_tile(g, tile, (int)cb * MR, nrows, (size_t)r0 * g->pitch + n0, n, y, res, flags);
	}
}

/* Phase rows the band of output rows r0 .. r0 + nr reads. */
static int band_rows(const struct geometry *g, int r0, int nr)
{
	return nr + g->halo < g->rq - r0 ? nr + g->halo : g->rq - r0;
}

/* That band's input, all channels, copied by one thread. */
static void copy_band(const struct tn_conv *cv, const struct geometry *g, const float *x, int h, int w, int flags,
		      int r0, int nr, float *dst)
{
	const int rows = band_rows(g, r0, nr);
	for (int c = 0; c < cv->cin; c++)
		copy_phases(cv, g, x + (size_t)c * h * w, h, w, flags & TN_CONV_RELU_IN, r0, rows,
			    dst + (size_t)c * g->cstride);
}

void tn_conv_direct(const struct tn_conv *cv, const float *packed, const float *x, int h, int w, float *y,
		    const float *res, int flags, float *work, int nthreads)
{
	struct geometry g;
	geometry(cv, h, w, flags, &g);
	const enum tn_isa isa = tn_isa_active();
	const struct kernel k = {isa == TN_ISA_AVX512 ? tile_avx512 : isa == TN_ISA_AVX2 ? tile_avx2 : tile_generic,
				 isa == TN_ISA_AVX2 ? 24 : TILE_W};
	const int mine = private_bands(&g, nthreads);
#pragma omp parallel num_threads(nthreads)
	{
		const long nt = omp_get_num_threads(), id = omp_get_thread_num();
		float tile[MR * TILE_W] __attribute__((aligned(64)));
		if (mine) {
			float *copy = work + (size_t)id * cv->cin * g.cstride;
			const int end = (int)(g.oh * (id + 1) / nt);
			for (int r0 = (int)(g.oh * id / nt); r0 < end; r0 += g.band) {
				const int nr = end - r0 < g.band ? end - r0 : g.band;
				copy_band(cv, &g, x, h, w, flags, r0, nr, copy);
				band_tasks(cv, &g, k, packed, copy, r0, nr, 0, 1, y, res, flags, tile);
			}
		} else {
			/* Shared bands: the threads copy a band's input rows by channel, then share
			 * its tasks in static ranges. */
			for (int r0 = 0; r0 < g.oh; r0 += g.band) {
				const int nr = g.oh - r0 < g.band ? g.oh - r0 : g.band;
				const float *base = x + (size_t)r0 * g.pitch;
				if (g.copy) {
					const int rows = band_rows(&g, r0, nr);
#pragma omp for schedule(static)
					for (int c = 0; c < cv->cin; c++)
						copy_phases(cv, &g, x + (size_t)c * h * w, h, w,
							    flags & TN_CONV_RELU_IN, r0, rows, work + (size_t)c * g.cstride);
					base = work;
				}
				band_tasks(cv, &g, k, packed, base, r0, nr, id, nt, y, res, flags, tile);
				if (g.copy) {
#pragma omp barrier
				}
			}
		}
	}
}
