/* The resamplers the upstream pipelines use, reproduced bit for bit. */
#ifndef TN_RESAMPLE_H
#define TN_RESAMPLE_H

#include "io/image.h"

/* PIL Image.resize(size, BICUBIC) of an 8-bit image (any channel count): two-pass fixed point,
 * horizontal pass first, 22-bit coefficients, antialiased when shrinking. dst is allocated. */
int tn_resize_bicubic_pil(const struct tn_image *src, int dw, int dh, struct tn_image *dst);
/* The same with Pillow's BILINEAR (triangle) filter, antialiased when shrinking. */
int tn_resize_bilinear_pil(const struct tn_image *src, int dw, int dh, struct tn_image *dst);

/* dst = a W x H canvas of `fill` with src pasted at (left, top); src must fit.  dst is allocated. */
int tn_image_pad(const struct tn_image *src, int W, int H, int left, int top, uint8_t fill,
		 struct tn_image *dst);

/* A resampler: src to dw x dh into dst, which it allocates. */
typedef int (*tn_resize_fn)(const struct tn_image *src, int dw, int dh, struct tn_image *dst);
/* src resized to nw x nh with `resize` (kept as it is when resize is NULL), then tn_image_pad'ed
 * into W x H at (left, top): the body of both letterbox flavours.  dst is allocated. */
int tn_resize_pad(const struct tn_image *src, int nw, int nh, tn_resize_fn resize, int W, int H, int left,
		  int top, uint8_t fill, struct tn_image *dst);

/* The DeepLabV3+ letterbox: scale = min(W/iw, H/ih) in double, nw = (int)(iw*scale),
 * nh = (int)(ih*scale), PIL-bicubic resize to (nw, nh), paste onto a (fill,fill,fill) canvas of
 * W x H at ((W-nw)/2, (H-nh)/2).  Reports nw, nh, dx, dy. dst is allocated. */
struct tn_letterbox {
	int nw, nh, dx, dy;
};
int tn_letterbox_pil(const struct tn_image *src, int W, int H, uint8_t fill, struct tn_image *dst,
		     struct tn_letterbox *lb);

/* cv2.resize(src, (dw, dh), interpolation=INTER_LINEAR) of a planar float map with c channels
 * (src[c][sh][sw] -> dst[c][dh][dw]), as OpenCV computes it for float32 (half-pixel centres,
 * border clamp, float coefficients, horizontal then vertical).  src_stride_h/src_stride_c let
 * the source be a crop of a larger map: element (k, y, x) is at src[k*sc + y*sh_stride + x]. */
void tn_resize_bilinear_cv(const float *src, int c, int sh, int sw, long src_stride_c,
			   long src_stride_h, float *dst, int dh, int dw);

/* The same, computing only output rows [y0, y0+ny) into dst[c][ny][dw], so a large map can be
 * produced in bands. */
void tn_resize_bilinear_cv_rows(const float *src, int c, int sh, int sw, long src_stride_c,
				long src_stride_h, float *dst, int dh, int dw, int y0, int ny);
/* The same without allocating: work holds tn_resize_bilinear_cv_workspace(dh, dw, nthreads)
 * floats, for at most nthreads threads (the two above allocate it per call). */
size_t tn_resize_bilinear_cv_workspace(int dh, int dw, int nthreads);
void tn_resize_bilinear_cv_work(const float *src, int c, int sh, int sw, long src_stride_c, long src_stride_h,
				float *dst, int dh, int dw, int y0, int ny, float *work, int nthreads);

/* PIL Image.blend(a, b, alpha) of two same-sized RGB images: a + alpha*(b - a) with alpha a C
 * float, truncated; written into out (same size). */
void tn_blend_pil(const struct tn_image *a, const struct tn_image *b, float alpha,
		  struct tn_image *out);

/* OpenCV's INTER_LINEAR source positions along one axis (in -> out samples), shared by the
 * float resize here and the 8-bit one (letterbox_cv.c): ofs[d] the first tap, frac[d] the
 * second one's weight.  clamp_taps: the horizontal table zeroes the weight at the borders and
 * *first_edge gets the first d whose second tap is past the end; the vertical one does not
 * (its rows are clamped later, keeping 1-f and f). */
void tn_cv_axis(int in, int out, int *ofs, float *frac, int clamp_taps, int *first_edge);
/* INTER_LINEAR's vertical pass keeps two horizontally resized source rows, tag[b] the row buffer b
 * holds (-1: none).  For source rows yo and yo + 1 (clamped to 0..sh-1) sets use[0], use[1] to the
 * buffers to blend and fill[b] to the row to resize into buffer b first (-1: it is there already),
 * reusing what the previous output row left: the u8 and float resizers share it. */
void tn_cv_row_slots(int tag[2], int yo, int sh, int use[2], int fill[2]);

/* The network input from an interleaved RGB image: out[c][y][x] = (px - sub[c]) / div[c] in float
 * (sub 0, div 255 is the x/255 of the YOLOv5 and DeepLabV3+ pipelines, bit for bit). */
void tn_image_to_planes(const struct tn_image *img, const float sub[3], const float div[3], float *out);

/* The class mask of score maps resized as above to dw x dh: per output pixel the first class
 * with the largest resized score (np.argmax), computed in bands of rows so that the full-size
 * scores (C floats a pixel) are never held.  *mask is malloc'd, dw*dh bytes. */
int tn_resize_argmax(const float *src, int c, int sh, int sw, long src_stride_c, long src_stride_h, int dh, int dw,
		     uint8_t **mask);

#endif
