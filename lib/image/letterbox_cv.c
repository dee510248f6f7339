/* detect.py's input side: OpenCV 4.6 cv2.resize(INTER_LINEAR) on 8-bit interleaved images, bit
 * for bit, and utils/augmentations.letterbox on top of it.
 *
 * What OpenCV 4.6 (x86-64, SSE2 baseline, as Debian builds it) does for 8-bit INTER_LINEAR:
 *  - same size: a copy;
 *  - scale factors src/dst exactly 2 on both axes (|s - round(s)| < DBL_EPSILON): INTER_AREA's
 *    2x2 fast path, (a+b+c+d+2)>>2 for 1, 3 and 4 channels, round-half-even of sum*0.25f
 *    otherwise;
 *  - else fixed point: source position (d+0.5)*scale-0.5 in double, cast to float, floored;
 *    weights saturate_cast<short>((1-f)*2048) and (f*2048) (round half to even, each on its
 *    own; they always add to 2048); columns clamped at both borders (border weight 2048),
 *    rows clamped but keeping both row weights.  Horizontal pass into ints; vertical pass
 *    ((r0>>4)*b0>>16) + ((r1>>4)*b1>>16), then (t+2)>>2, for every byte of the row (checked
 *    against cv2 4.6 on all row widths 1..240: the SIMD loop and the scalar tail agree). */
#include "image/letterbox_cv.h"
#include "image/resample.h"

#include "core/error.h"
#include "core/tensor.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CV_COEF_BITS 11
#define CV_COEF_ONE (1 << CV_COEF_BITS)

/* cvRound on a float: round half to even (the SSE conversion in the default mode). */
static inline int cv_round_f(float v)
{
	return (int)nearbyintf(v);
}

static inline int16_t cv_sat_s16(float v)
{
	int r = cv_round_f(v);
	return (int16_t)(r < SHRT_MIN ? SHRT_MIN : r > SHRT_MAX ? SHRT_MAX : r);
}

/* Position table along one axis: first tap and its two 11-bit weights, from the positions the
 * float resize computes (frac: out floats of scratch). */
static void cv_u8_axis(int in, int out, int clamp, int *ofs, int16_t *w, float *frac)
{
	int first_edge;
	tn_cv_axis(in, out, ofs, frac, clamp, &first_edge);
	for (int d = 0; d < out; d++) {
		w[2 * d] = cv_sat_s16((1.0f - frac[d]) * CV_COEF_ONE);
		w[2 * d + 1] = cv_sat_s16(frac[d] * CV_COEF_ONE);
	}
}

/* Horizontal pass of one source row into dw*cn ints. */
static void cv_u8_hrow(const uint8_t *s, int sw, int cn, int dw, const int *xo, const int16_t *xa,
		       int32_t *d)
{
	for (int x = 0; x < dw; x++) {
		int sx = xo[x];
		const uint8_t *p = s + (size_t)sx * cn;
		int32_t *o = d + (size_t)x * cn;
		if (sx >= sw - 1) { /* right border: OpenCV copies the column at full weight */
			for (int k = 0; k < cn; k++)
				o[k] = p[k] * CV_COEF_ONE;
		} else {
			int32_t a0 = xa[2 * x], a1 = xa[2 * x + 1];
			for (int k = 0; k < cn; k++)
				o[k] = p[k] * a0 + p[k + cn] * a1;
		}
	}
}

/* OpenCV's vertical pass for 8 bits (its SIMD loop and its scalar specialisation agree):
 * each row value is shifted down 4 bits, multiplied by the 11-bit weight keeping the high 16
 * bits of the product (_mm_mulhi_epi16), the two summed, then rounded by (t + 2) >> 2.  This
 * truncates twice, so it is not the exact (r0*b0 + r1*b1 + 2^21) >> 22. */
static void cv_u8_vrow(const int32_t *r0, const int32_t *r1, int b0, int b1, int width, uint8_t *o)
{
	for (int x = 0; x < width; x++) {
		int t = (((r0[x] >> 4) * b0) >> 16) + (((r1[x] >> 4) * b1) >> 16);
		t = (t + 2) >> 2;
		o[x] = (uint8_t)(t < 0 ? 0 : t > 255 ? 255 : t);
	}
}

/* INTER_AREA's fast path for an exact 2x shrink. */
static void cv_u8_area2x(const struct tn_image *src, struct tn_image *dst)
{
	int cn = src->channels, dw = dst->w, dh = dst->h;
	size_t sstride = (size_t)src->w * cn, dstride = (size_t)dw * cn;
	int half_up = cn == 1 || cn == 3 || cn == 4;
#pragma omp parallel for schedule(static) if ((size_t)dh * dstride > 65536)
	for (int y = 0; y < dh; y++) {
		const uint8_t *a = src->px + (size_t)(2 * y) * sstride, *b = a + sstride;
		uint8_t *o = dst->px + (size_t)y * dstride;
		for (int x = 0; x < dw; x++)
			for (int k = 0; k < cn; k++) {
				size_t i = (size_t)2 * x * cn + k;
				int sum = a[i] + a[i + cn] + b[i] + b[i + cn];
				o[(size_t)x * cn + k] =
					(uint8_t)(half_up ? (sum + 2) >> 2 : cv_round_f((float)sum * 0.25f));
			}
	}
}

/* The fixed-point bilinear path; tables carved from one allocation. */
static int cv_u8_linear(const struct tn_image *src, struct tn_image *dst)
{
	int cn = src->channels, sw = src->w, sh = src->h, dw = dst->w, dh = dst->h;
	int width = dw * cn; /* checked to fit an int by the caller */
	size_t tab = ((size_t)dw + dh) * (sizeof(int) + 2 * sizeof(int16_t) + sizeof(float));
	char *mem = malloc(tab);
	if (!mem)
		return tn_fail(TN_E_NOMEM, "resize: out of memory for %dx%d tables", dw, dh);
	int *xo = (int *)mem, *yo = xo + dw;
	int16_t *xa = (int16_t *)(yo + dh), *ya = xa + 2 * (size_t)dw;
	float *frac = (float *)(ya + 2 * (size_t)dh); /* 4-byte aligned: 2 int16 per entry */
	cv_u8_axis(sw, dw, 1, xo, xa, frac);
	cv_u8_axis(sh, dh, 0, yo, ya, frac + dw);
	size_t sstride = (size_t)sw * cn;
	int failed = 0;
	/* Each thread takes a contiguous band of output rows, so it can reuse the horizontally
	 * resized source rows of its previous output row. */
#pragma omp parallel if ((size_t)dh * width > 65536)
	{
		int nt = omp_get_num_threads(), t = omp_get_thread_num();
		int y0 = (int)((long long)dh * t / nt), y1 = (int)((long long)dh * (t + 1) / nt);
		int32_t *rows = y1 > y0 ? malloc(2 * (size_t)width * sizeof *rows) : NULL;
		if (y1 > y0 && !rows) {
#pragma omp atomic write
			failed = 1;
			y1 = y0;
		}
		int32_t *buf[2] = {rows, rows ? rows + width : NULL};
		int tag[2] = {-1, -1}; /* source row held by each buffer */
		for (int y = y0; y < y1; y++) {
			int use[2], fill[2];
			tn_cv_row_slots(tag, yo[y], sh, use, fill);
			for (int b = 0; b < 2; b++)
				if (fill[b] >= 0)
					cv_u8_hrow(src->px + (size_t)fill[b] * sstride, sw, cn, dw, xo, xa, buf[b]);
			cv_u8_vrow(buf[use[0]], buf[use[1]], ya[2 * y], ya[2 * y + 1], width,
				   dst->px + (size_t)y * width);
		}
		free(rows);
	}
	free(mem);
	if (failed)
		return tn_fail(TN_E_NOMEM, "resize: out of memory for %dx%d row buffers", dw, cn);
	return 0;
}

/* Checks the sizes and allocates dst; *copied when dst is src's copy (same size). */
static int cv_u8_start(const struct tn_image *src, int dw, int dh, struct tn_image *dst, int *copied)
{
	memset(dst, 0, sizeof *dst);
	*copied = 0;
	if (!src || !src->px || src->w <= 0 || src->h <= 0 || src->channels <= 0)
		return tn_fail(TN_E_INVAL, "resize: empty source image");
	if (dw <= 0 || dh <= 0)
		return tn_fail(TN_E_INVAL, "resize: target size %dx%d is empty", dw, dh);
	int cn = src->channels;
	if ((long long)src->w * cn > INT_MAX / 2 || (long long)dw * cn > INT_MAX / 2)
		return tn_fail(TN_E_INVAL, "resize: rows of %d or %d pixels x %d channels are too long",
			       src->w, dw, cn);
	size_t bytes;
	if (tn_mul_size((size_t)dw * cn, (size_t)dh, &bytes))
		return TN_E_INVAL;
	dst->px = malloc(bytes);
	if (!dst->px)
		return tn_fail(TN_E_NOMEM, "resize: out of memory for %dx%d", dw, dh);
	dst->w = dw;
	dst->h = dh;
	dst->channels = cn;
	if (dw == src->w && dh == src->h) {
		memcpy(dst->px, src->px, bytes);
		*copied = 1;
	}
	return 0;
}

int tn_resize_linear_cv_u8(const struct tn_image *src, int dw, int dh, struct tn_image *dst)
{
	int copied, rc = cv_u8_start(src, dw, dh, dst, &copied);
	if (rc || copied)
		return rc;
	double scx = 1.0 / ((double)dw / src->w), scy = 1.0 / ((double)dh / src->h);
	double isx = nearbyint(scx), isy = nearbyint(scy);
	if (isx == 2 && isy == 2 && fabs(scx - isx) < DBL_EPSILON && fabs(scy - isy) < DBL_EPSILON) {
		cv_u8_area2x(src, dst);
		return 0;
	}
	rc = cv_u8_linear(src, dst);
	if (rc)
		tn_image_free(dst);
	return rc;
}

/* ---- INTER_AREA, shrinking (what val.py's load_image uses when r < 1) ----
 * OpenCV 4.6 for 8 bits: same size is a copy; when both scale factors are integers (within
 * DBL_EPSILON) it sums each cell in ints and rounds sum * (1.f/area) (the exact 2x case takes
 * the (a+b+c+d+2)>>2 path above); else per axis a table of (source, dest, float weight) taps,
 * a horizontal pass per source row into floats in table order, the rows weighted and summed
 * in float, then rounded half to even.  Enlarging is not an area resize (refused). */

struct area_tap {
	int si, di;
	float alpha;
};

static int area_taps(int ssize, int dsize, int cn, double scale, struct area_tap *t)
{
	int k = 0;
	for (int d = 0; d < dsize; d++) {
		double f1 = d * scale, f2 = f1 + scale;
		double cell = scale < ssize - f1 ? scale : ssize - f1;
		int s1 = (int)ceil(f1), s2 = (int)floor(f2);
		if (s2 > ssize - 1)
			s2 = ssize - 1;
		if (s1 > s2)
			s1 = s2;
		if (s1 - f1 > 1e-3) /* the partly covered first source pixel */
			t[k++] = (struct area_tap){(s1 - 1) * cn, d * cn, (float)((s1 - f1) / cell)};
		for (int s = s1; s < s2; s++)
			t[k++] = (struct area_tap){s * cn, d * cn, (float)(1.0 / cell)};
		if (f2 - s2 > 1e-3) {
			double part = f2 - s2 < 1.0 ? f2 - s2 : 1.0;
			t[k++] = (struct area_tap){s2 * cn, d * cn, (float)((part < cell ? part : cell) / cell)};
		}
	}
	return k;
}

static inline uint8_t cv_sat_u8(float v)
{
	int r = cv_round_f(v);
	return (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
}

/* Integer factors other than exactly 2x2. */
static void cv_u8_area_int(const struct tn_image *src, int sx, int sy, struct tn_image *dst)
{
	int cn = src->channels, dw = dst->w, dh = dst->h;
	size_t sstride = (size_t)src->w * cn, dstride = (size_t)dw * cn;
	float scale = 1.f / (float)(sx * sy);
#pragma omp parallel for schedule(static) if ((size_t)dh * dstride > 65536)
	for (int y = 0; y < dh; y++)
		for (int x = 0; x < dw; x++)
			for (int c = 0; c < cn; c++) {
				int sum = 0;
				for (int j = 0; j < sy; j++) {
					const uint8_t *p = src->px + (size_t)(y * sy + j) * sstride + (size_t)x * sx * cn + c;
					for (int i = 0; i < sx; i++)
						sum += p[(size_t)i * cn];
				}
				dst->px[(size_t)y * dstride + (size_t)x * cn + c] = cv_sat_u8((float)sum * scale);
			}
}

static int cv_u8_area_general(const struct tn_image *src, double scx, double scy, struct tn_image *dst)
{
	int cn = src->channels, sw = src->w, sh = src->h, dw = dst->w, dh = dst->h;
	size_t width = (size_t)dw * cn, nx = 2 * (size_t)sw + 2, ny = 2 * (size_t)sh + 2;
	struct area_tap *xt = malloc((nx + ny) * sizeof *xt);
	int *rowofs = malloc(((size_t)dh + 1) * sizeof *rowofs);
	if (!xt || !rowofs) {
		free(xt);
		free(rowofs);
		return tn_fail(TN_E_NOMEM, "resize: out of memory for %dx%d area tables", dw, dh);
	}
	struct area_tap *yt = xt + nx;
	int nxt = area_taps(sw, dw, cn, scx, xt), nyt = area_taps(sh, dh, 1, scy, yt);
	for (int k = 0, y = 0; k < nyt; k++) /* first tap of each output row */
		if (k == 0 || yt[k].di != yt[k - 1].di)
			rowofs[y++] = k;
	rowofs[dh] = nyt;
	size_t sstride = (size_t)sw * cn;
	int failed = 0;
#pragma omp parallel if ((size_t)dh * width > 65536)
	{
		float *buf = malloc(2 * width * sizeof *buf), *sum = buf ? buf + width : NULL;
		if (!buf) {
#pragma omp atomic write
			failed = 1;
		}
#pragma omp for schedule(static)
		for (int y = 0; y < dh; y++) {
			if (!buf)
				continue;
			for (size_t i = 0; i < width; i++)
				sum[i] = 0.f;
			for (int j = rowofs[y]; j < rowofs[y + 1]; j++) {
				const uint8_t *s = src->px + (size_t)yt[j].si * sstride;
				float beta = yt[j].alpha;
				for (size_t i = 0; i < width; i++)
					buf[i] = 0.f;
				for (int k = 0; k < nxt; k++) {
					float a = xt[k].alpha;
					for (int c = 0; c < cn; c++)
						buf[xt[k].di + c] += (float)s[xt[k].si + c] * a;
				}
				for (size_t i = 0; i < width; i++)
					sum[i] += beta * buf[i];
			}
			uint8_t *o = dst->px + (size_t)y * width;
			for (size_t i = 0; i < width; i++)
				o[i] = cv_sat_u8(sum[i]);
		}
		free(buf);
	}
	free(xt);
	free(rowofs);
	if (failed)
		return tn_fail(TN_E_NOMEM, "resize: out of memory for area row buffers");
	return 0;
}

int tn_resize_area_cv_u8(const struct tn_image *src, int dw, int dh, struct tn_image *dst)
{
	if (src && (dw > src->w || dh > src->h)) {
		memset(dst, 0, sizeof *dst);
		return tn_fail(TN_E_INVAL, "resize: area resize of %dx%d to %dx%d does not shrink", src->w, src->h,
			       dw, dh);
	}
	int copied, rc = cv_u8_start(src, dw, dh, dst, &copied);
	if (rc || copied)
		return rc;
	double scx = 1.0 / ((double)dw / src->w), scy = 1.0 / ((double)dh / src->h);
	double isx = nearbyint(scx), isy = nearbyint(scy);
	if (fabs(scx - isx) < DBL_EPSILON && fabs(scy - isy) < DBL_EPSILON) {
		if (isx == 2 && isy == 2)
			cv_u8_area2x(src, dst);
		else
			cv_u8_area_int(src, (int)isx, (int)isy, dst);
	} else {
		rc = cv_u8_area_general(src, scx, scy, dst);
	}
	if (rc)
		tn_image_free(dst);
	return rc;
}

int tn_letterbox_yolo(const struct tn_image *rgb, int want_h, int want_w, int stride, int auto_rect,
		      uint8_t fill, struct tn_image *out, struct tn_yolo_letterbox *lb)
{
	memset(out, 0, sizeof *out);
	if (!rgb || !rgb->px || rgb->w <= 0 || rgb->h <= 0 || rgb->channels <= 0)
		return tn_fail(TN_E_INVAL, "letterbox: empty source image");
	if (want_w <= 0 || want_h <= 0)
		return tn_fail(TN_E_INVAL, "letterbox: target size %dx%d is empty", want_w, want_h);
	if (auto_rect && stride <= 0)
		return tn_fail(TN_E_INVAL, "letterbox: stride %d must be positive", stride);
	int w0 = rgb->w, h0 = rgb->h;
	double rh = (double)want_h / h0, rw = (double)want_w / w0, r = rh < rw ? rh : rw;
	/* Python's round(): half to even, in double */
	double nwd = nearbyint(w0 * r), nhd = nearbyint(h0 * r);
	if (!(nwd >= 1 && nhd >= 1 && nwd <= want_w && nhd <= want_h))
		return tn_fail(TN_E_INVAL,
			       "letterbox: a %dx%d image scales to %.0fx%.0f inside %dx%d (too elongated)",
			       w0, h0, nwd, nhd, want_w, want_h);
	int nw = (int)nwd, nh = (int)nhd;
	int dw = want_w - nw, dh = want_h - nh;
	if (auto_rect) {
		dw %= stride;
		dh %= stride;
	}
	double pw = dw / 2.0, ph = dh / 2.0;
	int top = (int)nearbyint(ph - 0.1), bottom = (int)nearbyint(ph + 0.1);
	int left = (int)nearbyint(pw - 0.1), right = (int)nearbyint(pw + 0.1);
	int ow = nw + left + right, oh = nh + top + bottom;

	/* cv2.resize only when the size changes */
	int rc = tn_resize_pad(rgb, nw, nh, nw != w0 || nh != h0 ? tn_resize_linear_cv_u8 : NULL, ow, oh, left,
			       top, fill, out);
	if (rc)
		return rc;
	if (lb) {
		lb->out_w = ow;
		lb->out_h = oh;
		lb->new_w = nw;
		lb->new_h = nh;
		lb->left = left;
		lb->top = top;
		lb->ratio = r;
		lb->pad_w = pw;
		lb->pad_h = ph;
	}
	return 0;
}
