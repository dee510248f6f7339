/* The resamplers of the upstream pipelines, reproduced bit for bit:
 * Pillow 9.4 BICUBIC resize (fixed point, two passes), the DeepLabV3+ letterbox, OpenCV 4.6
 * INTER_LINEAR on float32 maps, and Pillow's Image.blend. */
#include "image/resample.h"

#include "core/error.h"
#include "core/tensor.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* ---- Pillow's separable resampling (bicubic, bilinear) ---- */

#define PIL_PREC 22 /* coefficient fraction bits (32 - 8 - 2) */

static double cubic_keys(double x)
{
	const double a = -0.5;
	if (x < 0.0)
		x = -x;
	if (x < 1.0)
		return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
	if (x < 2.0)
		return (((x - 5) * x + 8) * x - 4) * a;
	return 0.0;
}

static double triangle(double x)
{
	if (x < 0.0)
		x = -x;
	return x < 1.0 ? 1.0 - x : 0.0;
}

/* A Pillow filter: its support at scale 1, its kernel, and the name for messages. */
struct pil_filter {
	double support;
	double (*kernel)(double);
	const char *what;
};

static const struct pil_filter pil_bicubic = {2.0, cubic_keys, "bicubic resize"};
static const struct pil_filter pil_bilinear = {1.0, triangle, "bilinear resize"};

/* Per output pixel: first input index, tap count, and ksize fixed-point taps. */
struct pil_coeffs {
	int ksize;
	int *bounds; /* [out][2] = xmin, count */
	int32_t *k;  /* [out][ksize] */
};

static void pil_coeffs_free(struct pil_coeffs *c)
{
	free(c->bounds);
	free(c->k);
}

/* Pillow's precompute_coeffs + normalize_coeffs_8bpc for the box [0, in_size). */
static int pil_coeffs_make(int in_size, int out_size, const struct pil_filter *f, struct pil_coeffs *c)
{
	float in0 = 0.0f, in1 = (float)in_size;
	double scale = (double)(in1 - in0) / out_size, filterscale = scale < 1.0 ? 1.0 : scale;
	double support = f->support * filterscale;
	int ksize = (int)ceil(support) * 2 + 1;
	size_t nk;
	memset(c, 0, sizeof *c);
	if (tn_mul_size((size_t)out_size, (size_t)ksize, &nk))
		return TN_E_INVAL;
	c->ksize = ksize;
	c->bounds = malloc((size_t)out_size * 2 * sizeof *c->bounds);
	c->k = malloc(nk * sizeof *c->k);
	double *w = malloc((size_t)ksize * sizeof *w);
	if (!c->bounds || !c->k || !w) {
		free(w);
		pil_coeffs_free(c);
		return tn_fail(TN_E_NOMEM, "%s: out of memory", f->what);
	}
	for (int xx = 0; xx < out_size; xx++) {
		double center = in0 + (xx + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale;
		int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
		if (xmin < 0)
			xmin = 0;
		if (xmax > in_size)
			xmax = in_size;
		xmax -= xmin;
		for (int x = 0; x < xmax; x++) {
			w[x] = f->kernel((x + xmin - center + 0.5) * ss);
			ww += w[x];
		}
		int32_t *k = c->k + (size_t)xx * ksize;
		for (int x = 0; x < ksize; x++) {
			double v = 0.0;
			if (x < xmax)
				v = ww != 0.0 ? w[x] / ww : w[x];
			/* round half away from zero, as Pillow does */
			k[x] = v < 0 ? (int32_t)(-0.5 + v * (1 << PIL_PREC))
				     : (int32_t)(0.5 + v * (1 << PIL_PREC));
		}
		c->bounds[2 * xx] = xmin;
		c->bounds[2 * xx + 1] = xmax;
	}
	free(w);
	return 0;
}

static inline uint8_t pil_clip8(int32_t v)
{
	if (v >= (1 << PIL_PREC << 8))
		return 255;
	if (v <= 0)
		return 0;
	return (uint8_t)(v >> PIL_PREC);
}

/* in: rows [y0, y0+nrows) of a (w x ?) image with ch channels -> out: nrows x ow. */
static void pil_horizontal(const uint8_t *in, int w, int ch, int y0, int nrows,
			   const struct pil_coeffs *c, int ow, uint8_t *out)
{
#pragma omp parallel for schedule(static)
	for (int y = 0; y < nrows; y++) {
		const uint8_t *row = in + (size_t)(y0 + y) * w * ch;
		uint8_t *o = out + (size_t)y * ow * ch;
		for (int xx = 0; xx < ow; xx++) {
			const int32_t *k = c->k + (size_t)xx * c->ksize;
			int xmin = c->bounds[2 * xx], n = c->bounds[2 * xx + 1];
			for (int b = 0; b < ch; b++) {
				int32_t ss = 1 << (PIL_PREC - 1);
				const uint8_t *s = row + (size_t)xmin * ch + b;
				for (int x = 0; x < n; x++)
					ss += s[(size_t)x * ch] * k[x];
				o[(size_t)xx * ch + b] = pil_clip8(ss);
			}
		}
	}
}

/* in: rows of width w (row 0 = source row `yshift`) -> out: oh x w. */
static void pil_vertical(const uint8_t *in, int w, int ch, int yshift, const struct pil_coeffs *c,
			 int oh, uint8_t *out)
{
	size_t rowlen = (size_t)w * ch;
#pragma omp parallel for schedule(static)
	for (int yy = 0; yy < oh; yy++) {
		const int32_t *k = c->k + (size_t)yy * c->ksize;
		int ymin = c->bounds[2 * yy] - yshift, n = c->bounds[2 * yy + 1];
		uint8_t *o = out + (size_t)yy * rowlen;
		for (size_t i = 0; i < rowlen; i++) {
			int32_t ss = 1 << (PIL_PREC - 1);
			const uint8_t *s = in + (size_t)ymin * rowlen + i;
			for (int y = 0; y < n; y++)
				ss += s[(size_t)y * rowlen] * k[y];
			o[i] = pil_clip8(ss);
		}
	}
}

static int pil_resize(const struct tn_image *src, int dw, int dh, const struct pil_filter *f,
		      struct tn_image *dst)
{
	memset(dst, 0, sizeof *dst);
	if (!src || !src->px || src->w <= 0 || src->h <= 0 || src->channels <= 0)
		return tn_fail(TN_E_INVAL, "%s: empty source image", f->what);
	if (dw <= 0 || dh <= 0)
		return tn_fail(TN_E_INVAL, "%s: target size %dx%d is empty", f->what, dw, dh);
	int ch = src->channels, rc;
	size_t out_bytes, tmp_bytes;
	if (tn_mul_size((size_t)dw * ch, (size_t)dh, &out_bytes))
		return TN_E_INVAL;
	dst->px = malloc(out_bytes);
	if (!dst->px)
		return tn_fail(TN_E_NOMEM, "%s: out of memory for %dx%d", f->what, dw, dh);
	dst->w = dw;
	dst->h = dh;
	dst->channels = ch;
	int need_h = dw != src->w, need_v = dh != src->h;
	if (!need_h && !need_v) {
		memcpy(dst->px, src->px, out_bytes);
		return 0;
	}
	struct pil_coeffs cv = {0}, chz = {0};
	uint8_t *tmp = NULL;
	if (need_v && (rc = pil_coeffs_make(src->h, dh, f, &cv)))
		goto fail;
	if (!need_h) {
		pil_vertical(src->px, src->w, ch, 0, &cv, dh, dst->px);
		pil_coeffs_free(&cv);
		return 0;
	}
	if ((rc = pil_coeffs_make(src->w, dw, f, &chz)))
		goto fail;
	if (!need_v) {
		pil_horizontal(src->px, src->w, ch, 0, src->h, &chz, dw, dst->px);
		pil_coeffs_free(&chz);
		return 0;
	}
	/* Only the source rows the vertical pass reads go through the horizontal pass. */
	int yfirst = cv.bounds[0], ylast = cv.bounds[2 * dh - 2] + cv.bounds[2 * dh - 1];
	if (tn_mul_size((size_t)dw * ch, (size_t)(ylast - yfirst), &tmp_bytes)) {
		rc = TN_E_INVAL;
		goto fail;
	}
	tmp = malloc(tmp_bytes ? tmp_bytes : 1);
	if (!tmp) {
		rc = tn_fail(TN_E_NOMEM, "%s: out of memory", f->what);
		goto fail;
	}
	pil_horizontal(src->px, src->w, ch, yfirst, ylast - yfirst, &chz, dw, tmp);
	pil_vertical(tmp, dw, ch, yfirst, &cv, dh, dst->px);
	free(tmp);
	pil_coeffs_free(&cv);
	pil_coeffs_free(&chz);
	return 0;
fail:
	free(tmp);
	pil_coeffs_free(&cv);
	pil_coeffs_free(&chz);
	tn_image_free(dst);
	return rc;
}

int tn_resize_bicubic_pil(const struct tn_image *src, int dw, int dh, struct tn_image *dst)
{
	return pil_resize(src, dw, dh, &pil_bicubic, dst);
}

int tn_resize_bilinear_pil(const struct tn_image *src, int dw, int dh, struct tn_image *dst)
{
	return pil_resize(src, dw, dh, &pil_bilinear, dst);
}

int tn_image_pad(const struct tn_image *src, int W, int H, int left, int top, uint8_t fill,
		 struct tn_image *dst)
{
	const int ch = src->channels;
	size_t bytes;
	memset(dst, 0, sizeof *dst);
	if (left < 0 || top < 0 || left + src->w > W || top + src->h > H)
		return tn_fail(TN_E_INVAL, "pad: a %dx%d image does not fit %dx%d at (%d,%d)", src->w, src->h, W, H,
			       left, top);
	if (tn_mul_size((size_t)W * ch, (size_t)H, &bytes))
		return TN_E_INVAL;
	dst->px = malloc(bytes ? bytes : 1);
	if (!dst->px)
		return tn_fail(TN_E_NOMEM, "letterbox: out of memory for %dx%d", W, H);
	dst->w = W;
	dst->h = H;
	dst->channels = ch;
	memset(dst->px, fill, bytes);
	for (int y = 0; y < src->h; y++)
		memcpy(dst->px + ((size_t)(y + top) * W + left) * ch, src->px + (size_t)y * src->w * ch,
		       (size_t)src->w * ch);
	return 0;
}

int tn_resize_pad(const struct tn_image *src, int nw, int nh, tn_resize_fn resize, int W, int H, int left,
		  int top, uint8_t fill, struct tn_image *dst)
{
	struct tn_image r = {0};
	const struct tn_image *inner = src;
	if (resize) {
		int rc = resize(src, nw, nh, &r);
		if (rc)
			return rc;
		inner = &r;
	}
	int rc = tn_image_pad(inner, W, H, left, top, fill, dst);
	tn_image_free(&r);
	return rc;
}

int tn_letterbox_pil(const struct tn_image *src, int W, int H, uint8_t fill, struct tn_image *dst,
		     struct tn_letterbox *lb)
{
	memset(dst, 0, sizeof *dst);
	if (!src || !src->px || src->w <= 0 || src->h <= 0)
		return tn_fail(TN_E_INVAL, "letterbox: empty source image");
	if (W <= 0 || H <= 0)
		return tn_fail(TN_E_INVAL, "letterbox: target size %dx%d is empty", W, H);
	double sx = (double)W / src->w, sy = (double)H / src->h, scale = sx < sy ? sx : sy;
	int nw = (int)(src->w * scale), nh = (int)(src->h * scale);
	if (nw <= 0 || nh <= 0)
		return tn_fail(TN_E_INVAL,
			       "letterbox: a %dx%d image scales to %dx%d inside %dx%d (too elongated)",
			       src->w, src->h, nw, nh, W, H);
	int dx = (W - nw) / 2, dy = (H - nh) / 2;
	int rc = tn_resize_pad(src, nw, nh, tn_resize_bicubic_pil, W, H, dx, dy, fill, dst);
	if (!rc && lb)
		*lb = (struct tn_letterbox){.nw = nw, .nh = nh, .dx = dx, .dy = dy};
	return rc;
}

/* ---- OpenCV INTER_LINEAR, float32 ---- */

void tn_cv_row_slots(int tag[2], int yo, int sh, int use[2], int fill[2])
{
	int s0 = yo < 0 ? 0 : yo >= sh ? sh - 1 : yo, s1 = yo + 1 < 0 ? 0 : yo + 1 >= sh ? sh - 1 : yo + 1;
	int i0 = tag[0] == s0 ? 0 : tag[1] == s0 ? 1 : -1;
	int i1 = tag[0] == s1 ? 0 : tag[1] == s1 ? 1 : -1;
	fill[0] = fill[1] = -1;
	if (i0 < 0) {
		i0 = i1 >= 0 ? 1 - i1 : 0;
		tag[i0] = fill[i0] = s0;
	}
	if (i1 < 0 && s1 == s0)
		i1 = i0;
	if (i1 < 0) {
		i1 = 1 - i0;
		tag[i1] = fill[i1] = s1;
	}
	use[0] = i0;
	use[1] = i1;
}

void tn_cv_axis(int in, int out, int *ofs, float *frac, int clamp_taps, int *first_edge)
{
	double scale = 1.0 / ((double)out / in);
	*first_edge = out;
	for (int d = 0; d < out; d++) {
		float f = (float)((d + 0.5) * scale - 0.5);
		int s = (int)floorf(f);
		f -= (float)s;
		if (clamp_taps) {
			if (s < 0)
				s = 0, f = 0.0f;
			if (s + 1 >= in) {
				if (*first_edge > d)
					*first_edge = d;
				if (s >= in - 1)
					s = in - 1, f = 0.0f;
			}
		}
		ofs[d] = s;
		frac[d] = f;
	}
}

/* Horizontal pass of one row: taps up to xmax, then the border column copied. */
static void cv_hrow(const float *s, const int *xo, const float *xa, int dw, int xmax, float *d)
{
	int x = 0;
	for (; x < xmax; x++) {
		float a1 = xa[x], a0 = 1.0f - a1;
		d[x] = s[xo[x]] * a0 + s[xo[x] + 1] * a1;
	}
	for (; x < dw; x++)
		d[x] = s[xo[x]];
}

/* One output value of OpenCV's horizontal pass, from the same rules as cv_axis. */
static float cv_hval(const float *s, int sw, double scx, int x)
{
	float f = (float)((x + 0.5) * scx - 0.5);
	int sx = (int)floorf(f);
	f -= (float)sx;
	if (sx < 0)
		sx = 0, f = 0.0f;
	if (sx + 1 >= sw) /* OpenCV copies the border column */
		return s[sw - 1];
	return s[sx] * (1.0f - f) + s[sx + 1] * f;
}

/* The same numbers as the table-driven path, with no memory of its own (fallback). */
static void cv_linear_slow(const float *src, int c, int sh, int sw, long sc, long shs, float *dst,
			   int dh, int dw, int y0, int ny)
{
	double scx = 1.0 / ((double)dw / sw), scy = 1.0 / ((double)dh / sh);
	for (int k = 0; k < c; k++)
		for (int y = y0; y < y0 + ny; y++) {
			float fy = (float)((y + 0.5) * scy - 0.5);
			int sy = (int)floorf(fy);
			fy -= (float)sy;
			int s0 = sy < 0 ? 0 : sy >= sh ? sh - 1 : sy;
			int s1 = sy + 1 < 0 ? 0 : sy + 1 >= sh ? sh - 1 : sy + 1;
			const float *r0 = src + k * sc + (long)s0 * shs, *r1 = src + k * sc + (long)s1 * shs;
			float *o = dst + ((size_t)k * ny + (y - y0)) * dw;
			for (int x = 0; x < dw; x++)
				o[x] = cv_hval(r0, sw, scx, x) * (1.0f - fy) + cv_hval(r1, sw, scx, x) * fy;
		}
}

/* cv::resize's INTER_AREA fast path for an exact 2x shrink (which INTER_LINEAR becomes).
 * Its sum order depends on the channel count of the interleaved map: SIMD for 1 and 4
 * channels adds row pairs, the scalar loop adds left to right. */
static void cv_area2x(const float *src, int c, long sc, long sh_stride, float *dst, int y0, int ny, int dw)
{
	int pairs = c == 1 || c == 4;
	int simd_end = c == 1 ? dw / 4 * 4 : dw; /* SSE covers 4 lanes at a time for 1 channel */
#pragma omp parallel for schedule(static)
	for (int k = 0; k < c; k++) {
		for (int y = y0; y < y0 + ny; y++) {
			const float *r0 = src + k * sc + (long)(2 * y) * sh_stride;
			const float *r1 = r0 + sh_stride;
			float *o = dst + ((size_t)k * ny + (y - y0)) * dw;
			for (int x = 0; x < dw; x++) {
				float a = r0[2 * x], b = r0[2 * x + 1], e = r1[2 * x], f = r1[2 * x + 1];
				float sum = pairs && x < simd_end ? (a + b) + (e + f) : ((a + b) + e) + f;
				o[x] = sum * 0.25f;
			}
		}
	}
}

void tn_resize_bilinear_cv(const float *src, int c, int sh, int sw, long src_stride_c,
			   long src_stride_h, float *dst, int dh, int dw)
{
	tn_resize_bilinear_cv_rows(src, c, sh, sw, src_stride_c, src_stride_h, dst, dh, dw, 0, dh);
}

/* Tables (source rows and columns, their weights), then two resized rows per thread. */
static size_t cv_row_floats(int dw)
{
	return (2 * (size_t)dw + 15) & ~(size_t)15;
}

size_t tn_resize_bilinear_cv_workspace(int dh, int dw, int nthreads)
{
	return 2 * ((size_t)dw + (size_t)dh) + cv_row_floats(dw) * (size_t)nthreads;
}

void tn_resize_bilinear_cv_rows(const float *src, int c, int sh, int sw, long src_stride_c,
				long src_stride_h, float *dst, int dh, int dw, int y0, int ny)
{
	int nthreads = omp_get_max_threads();
	float *work = malloc(tn_resize_bilinear_cv_workspace(dh > 0 ? dh : 0, dw > 0 ? dw : 0, nthreads) * sizeof(float));
	if (!work) { /* the interface cannot fail: compute without tables instead */
		if (c > 0 && sh > 0 && sw > 0 && dh > 0 && dw > 0 && y0 >= 0 && ny > 0 && y0 + ny <= dh)
			cv_linear_slow(src, c, sh, sw, src_stride_c, src_stride_h, dst, dh, dw, y0, ny);
		return;
	}
	tn_resize_bilinear_cv_work(src, c, sh, sw, src_stride_c, src_stride_h, dst, dh, dw, y0, ny, work, nthreads);
	free(work);
}

void tn_resize_bilinear_cv_work(const float *src, int c, int sh, int sw, long src_stride_c, long src_stride_h,
				float *dst, int dh, int dw, int y0, int ny, float *work, int nthreads)
{
	if (c <= 0 || sh <= 0 || sw <= 0 || dh <= 0 || dw <= 0 || y0 < 0 || ny <= 0 || y0 + ny > dh)
		return;
	if (sh == dh && sw == dw) {
		for (int k = 0; k < c; k++)
			for (int y = y0; y < y0 + ny; y++)
				memcpy(dst + ((size_t)k * ny + (y - y0)) * dw,
				       src + k * src_stride_c + (long)y * src_stride_h,
				       (size_t)sw * sizeof *dst);
		return;
	}
	double scx = 1.0 / ((double)dw / sw), scy = 1.0 / ((double)dh / sh);
	int isx = (int)lrint(scx), isy = (int)lrint(scy);
	if (isx == 2 && isy == 2 && fabs(scx - isx) < DBL_EPSILON && fabs(scy - isy) < DBL_EPSILON) {
		cv_area2x(src, c, src_stride_c, src_stride_h, dst, y0, ny, dw);
		return;
	}
	_Static_assert(sizeof(int) == sizeof(float), "tables of ints in a float workspace");
	int *xo = (int *)work, *yo = xo + dw;
	float *xa = work + (size_t)dw + dh, *ya = xa + dw;
	int xmax, unused;
	tn_cv_axis(sw, dw, xo, xa, 1, &xmax);
	tn_cv_axis(sh, dh, yo, ya, 0, &unused);
	float *rows_base = work + 2 * ((size_t)dw + dh);
#pragma omp parallel num_threads(nthreads)
	{
		float *rows = rows_base + cv_row_floats(dw) * (size_t)omp_get_thread_num();
#pragma omp for schedule(static)
		for (int k = 0; k < c; k++) {
			const float *plane = src + k * src_stride_c;
			float *buf[2] = {rows, rows + dw};
			int tag[2] = {-1, -1}; /* source row held by each buffer */
			for (int y = y0; y < y0 + ny; y++) {
				int use[2], fill[2];
				tn_cv_row_slots(tag, yo[y], sh, use, fill);
				for (int b = 0; b < 2; b++)
					if (fill[b] >= 0)
						cv_hrow(plane + (long)fill[b] * src_stride_h, xo, xa, dw, xmax, buf[b]);
				const float *r[2] = {buf[use[0]], buf[use[1]]};
				float b1 = ya[y], b0 = 1.0f - b1;
				float *o = dst + ((size_t)k * ny + (y - y0)) * dw;
				for (int x = 0; x < dw; x++)
					o[x] = r[0][x] * b0 + r[1][x] * b1;
			}
		}
	}
}

/* ---- Pillow blend ---- */

void tn_blend_pil(const struct tn_image *a, const struct tn_image *b, float alpha,
		  struct tn_image *out)
{
	size_t n = (size_t)a->w * a->h * a->channels;
	const uint8_t *pa = a->px, *pb = b->px;
	uint8_t *po = out->px;
	if (alpha >= 0 && alpha <= 1.0) {
		for (size_t i = 0; i < n; i++) {
			float v = (float)pa[i] + alpha * (float)((int)pb[i] - (int)pa[i]);
			po[i] = (uint8_t)v;
		}
	} else { /* extrapolation clips */
		for (size_t i = 0; i < n; i++) {
			float v = (float)pa[i] + alpha * (float)((int)pb[i] - (int)pa[i]);
			po[i] = v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)v;
		}
	}
}

void tn_image_to_planes(const struct tn_image *img, const float sub[3], const float div[3], float *out)
{
	const size_t plane = (size_t)img->w * img->h;
	for (size_t i = 0; i < plane; i++)
		for (int c = 0; c < 3; c++)
			out[(size_t)c * plane + i] = ((float)img->px[i * 3 + (size_t)c] - sub[c]) / div[c];
}

int tn_resize_argmax(const float *src, int c, int sh, int sw, long src_stride_c, long src_stride_h, int dh, int dw,
		     uint8_t **mask_out)
{
	const int band = 32;
	size_t npix;
	*mask_out = NULL;
	if (tn_mul_size((size_t)dw, (size_t)dh, &npix))
		return TN_E_INVAL;
	float *part = malloc(sizeof(float) * (size_t)band * dw * c);
	uint8_t *mask = malloc(npix ? npix : 1);
	if (!part || !mask) {
		free(part);
		free(mask);
		return tn_fail(TN_E_NOMEM, "out of memory for a %dx%d mask", dw, dh);
	}
	for (int y0 = 0; y0 < dh; y0 += band) {
		int ny = dh - y0 < band ? dh - y0 : band;
		size_t n = (size_t)ny * dw;
		tn_resize_bilinear_cv_rows(src, c, sh, sw, src_stride_c, src_stride_h, part, dh, dw, y0, ny);
		uint8_t *mrow = mask + (size_t)y0 * dw;
		/* in chunks of pixels, class by class: contiguous loops that vectorise; the first
		 * of equal maxima wins, as in torch.argmax */
		enum { CHUNK = 512 };
#pragma omp parallel for schedule(static)
		for (size_t i0 = 0; i0 < n; i0 += CHUNK) {
			const size_t m = n - i0 < CHUNK ? n - i0 : CHUNK;
			float bv[CHUNK];
			int best[CHUNK];
			for (size_t i = 0; i < m; i++) {
				bv[i] = part[i0 + i];
				best[i] = 0;
			}
			for (int k = 1; k < c; k++) {
				const float *pk = part + (size_t)k * n + i0;
				for (size_t i = 0; i < m; i++) {
					const int more = pk[i] > bv[i];
					bv[i] = more ? pk[i] : bv[i];
					best[i] = more ? k : best[i];
				}
			}
			for (size_t i = 0; i < m; i++)
				mrow[i0 + i] = (uint8_t)best[i];
		}
	}
	free(part);
	*mask_out = mask;
	return 0;
}
