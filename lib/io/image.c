/* Image decoding and encoding: JPEG through TurboJPEG, PNG through libspng, binary PGM by hand.
 * Photos come out as RGB exactly as PIL's Image.open(f).convert('RGB') gives them; masks as
 * the stored indices/values, as np.array(Image.open(f), np.uint8) gives them. */
#include "io/image.h"

#include "core/error.h"
#include "core/tensor.h"
#include "io/file.h"
#include "io/frames.h"

#include <spng.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <turbojpeg.h>

enum kind { KIND_OTHER, KIND_JPEG, KIND_PNG, KIND_PGM, KIND_PPM };

static enum kind sniff(const uint8_t *buf, size_t len)
{
	if (len >= 3 && buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF)
		return KIND_JPEG;
	if (len >= 4 && buf[0] == 0x89 && buf[1] == 'P' && buf[2] == 'N' && buf[3] == 'G')
		return KIND_PNG;
	if (len >= 2 && buf[0] == 'P' && buf[1] == '5')
		return KIND_PGM;
	if (len >= 2 && buf[0] == 'P' && buf[1] == '6')
		return KIND_PPM;
	return KIND_OTHER;
}

static const char *nm(const char *name)
{
	return name ? name : "image";
}

/* Checks w x h against the pixel limit and allocates w*h*ch bytes. */
static int alloc_pixels(const char *name, size_t w, size_t h, int ch, size_t max_pixels,
			struct tn_image *out)
{
	size_t npx, bytes;
	if (w == 0 || h == 0)
		return tn_fail(TN_E_FORMAT, "%s: image is %zux%zu pixels (empty)", nm(name), w, h);
	if (max_pixels == 0)
		max_pixels = TN_IMAGE_MAX_PIXELS_DEFAULT;
	if (w > 0x7fffffff || h > 0x7fffffff || tn_mul_size(w, h, &npx) || npx > max_pixels)
		return tn_fail(TN_E_FORMAT,
			       "%s: image is %zux%zu pixels, over the limit of %zu (see --max-pixels)",
			       nm(name), w, h, max_pixels);
	if (tn_mul_size(npx, (size_t)ch, &bytes))
		return tn_fail_prefix(TN_E_INVAL, nm(name));
	out->px = malloc(bytes);
	if (!out->px)
		return tn_fail(TN_E_NOMEM, "%s: out of memory for %zux%zu pixels", nm(name), w, h);
	out->w = (int)w;
	out->h = (int)h;
	out->channels = ch;
	return 0;
}

void tn_image_free(struct tn_image *img)
{
	if (!img)
		return;
	free(img->px);
	img->px = NULL;
	img->w = img->h = img->channels = 0;
}

/* ---- JPEG ---- */

/* Offset just past the first SOS segment header, or 0 if the marker walk fails. */
static size_t jpeg_scan_start(const uint8_t *buf, size_t len)
{
	size_t p = 2;
	while (p + 4 <= len) {
		if (buf[p] != 0xFF)
			return 0;
		uint8_t m = buf[p + 1];
		if (m == 0xFF) { /* fill byte */
			p++;
			continue;
		}
		if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) { /* markers without length */
			p += 2;
			continue;
		}
		size_t seg = ((size_t)buf[p + 2] << 8) | buf[p + 3];
		if (seg < 2 || p + 2 + seg > len)
			return 0;
		p += 2 + seg;
		if (m == 0xDA)
			return p;
	}
	return 0;
}

/* True when an EOI marker (FF D9) follows the entropy-coded data, i.e. the file is not cut. */
static int jpeg_has_eoi(const uint8_t *buf, size_t len)
{
	size_t start = jpeg_scan_start(buf, len);
	if (!start)
		return 0;
	for (size_t i = len - 1; i > start; i--)
		if (buf[i] == 0xD9 && buf[i - 1] == 0xFF)
			return 1;
	return 0;
}

/* PIL opens CMYK JPEGs with Adobe polarity (inverted) and converts with
 * r = nk - nk*c/255 (rounded as MULDIV255), nk = 255 - k. */
static uint8_t muldiv255(int a, int b)
{
	int t = a * b + 128;
	return (uint8_t)(((t >> 8) + t) >> 8);
}

static void cmyk_to_rgb(const uint8_t *cmyk, uint8_t *rgb, size_t npx)
{
	for (size_t i = 0; i < npx; i++) {
		int c = 255 - cmyk[4 * i], m = 255 - cmyk[4 * i + 1];
		int y = 255 - cmyk[4 * i + 2], k = 255 - cmyk[4 * i + 3];
		int nk = 255 - k;
		rgb[3 * i] = (uint8_t)(nk - muldiv255(c, nk));
		rgb[3 * i + 1] = (uint8_t)(nk - muldiv255(m, nk));
		rgb[3 * i + 2] = (uint8_t)(nk - muldiv255(y, nk));
	}
}

static int jpeg_decode(const uint8_t *buf, size_t len, const char *name, size_t max_pixels,
		       struct tn_image *out)
{
	tjhandle tj = tjInitDecompress();
	if (!tj)
		return tn_fail(TN_E_NOMEM, "%s: cannot start the JPEG decoder", nm(name));
	int w = 0, h = 0, subsamp = -1, cs = -1, rc;
	uint8_t *tmp = NULL;
	if (tjDecompressHeader3(tj, buf, (unsigned long)len, &w, &h, &subsamp, &cs) != 0) {
		rc = tn_fail(TN_E_FORMAT, "%s: bad JPEG: %s", nm(name), tjGetErrorStr2(tj));
		goto done;
	}
	rc = alloc_pixels(name, (size_t)(w > 0 ? w : 0), (size_t)(h > 0 ? h : 0), 3, max_pixels,
			  out);
	if (rc)
		goto done;
	int pf = TJPF_RGB;
	uint8_t *dst = out->px;
	size_t npx = (size_t)w * (size_t)h;
	if (cs == TJCS_GRAY || cs == TJCS_CMYK || cs == TJCS_YCCK) {
		pf = cs == TJCS_GRAY ? TJPF_GRAY : TJPF_CMYK;
		tmp = malloc(npx * (pf == TJPF_GRAY ? 1 : 4));
		if (!tmp) {
			rc = tn_fail(TN_E_NOMEM, "%s: out of memory", nm(name));
			goto done;
		}
		dst = tmp;
	}
	if (tjDecompress2(tj, buf, (unsigned long)len, dst, w, 0, h, pf, TJFLAG_ACCURATEDCT) != 0) {
		/* Warnings count as errors, except stray bytes between markers, which PIL also
		 * accepts (and which decode the same), provided the file is not cut short. */
		const char *msg = tjGetErrorStr2(tj);
		if (tjGetErrorCode(tj) != TJERR_WARNING || !strstr(msg, "extraneous bytes") ||
		    !jpeg_has_eoi(buf, len)) {
			rc = tn_fail(TN_E_FORMAT, "%s: corrupt or truncated JPEG: %s", nm(name), msg);
			goto done;
		}
	}
	if (pf == TJPF_GRAY) {
		for (size_t i = 0; i < npx; i++)
			out->px[3 * i] = out->px[3 * i + 1] = out->px[3 * i + 2] = tmp[i];
	} else if (pf == TJPF_CMYK) {
		cmyk_to_rgb(tmp, out->px, npx);
	}
done:
	if (rc)
		tn_image_free(out);
	free(tmp);
	tjDestroy(tj);
	return rc;
}

int tn_jpeg_encode_rgb(const struct tn_image *img, int quality, uint8_t **out, size_t *out_len)
{
	if (!img || !img->px || img->channels != 3 || img->w <= 0 || img->h <= 0)
		return tn_fail(TN_E_INVAL, "JPEG encode: need a non-empty RGB image");
	if (quality < 1 || quality > 100)
		return tn_fail(TN_E_INVAL, "JPEG encode: quality %d not in 1..100", quality);
	tjhandle tj = tjInitCompress();
	if (!tj)
		return tn_fail(TN_E_NOMEM, "cannot start the JPEG encoder");
	unsigned char *jb = NULL;
	unsigned long jlen = 0;
	int rc = 0;
	if (tjCompress2(tj, img->px, img->w, 0, img->h, TJPF_RGB, &jb, &jlen, TJSAMP_420, quality,
			TJFLAG_ACCURATEDCT) != 0) {
		rc = tn_fail(TN_E_FORMAT, "JPEG encode: %s", tjGetErrorStr2(tj));
	} else {
		*out = malloc(jlen ? jlen : 1);
		if (!*out) {
			rc = tn_fail(TN_E_NOMEM, "JPEG encode: out of memory");
		} else {
			memcpy(*out, jb, jlen);
			*out_len = jlen;
		}
	}
	tjFree(jb);
	tjDestroy(tj);
	return rc;
}

/* ---- PNG ---- */

/* A decoded PNG in its stored format: rows of `stride` bytes, 16-bit samples big-endian. */
struct png_raw {
	struct spng_ihdr ihdr;
	uint8_t *data;
	size_t stride;
	uint8_t pal[256][3];
};

static const char *png_type_name(int ct)
{
	switch (ct) {
	case SPNG_COLOR_TYPE_GRAYSCALE: return "grayscale";
	case SPNG_COLOR_TYPE_TRUECOLOR: return "RGB";
	case SPNG_COLOR_TYPE_INDEXED: return "indexed";
	case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA: return "gray+alpha";
	case SPNG_COLOR_TYPE_TRUECOLOR_ALPHA: return "RGBA";
	}
	return "unknown";
}

static int png_channels(int ct)
{
	switch (ct) {
	case SPNG_COLOR_TYPE_TRUECOLOR: return 3;
	case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA: return 2;
	case SPNG_COLOR_TYPE_TRUECOLOR_ALPHA: return 4;
	}
	return 1;
}

/* Reads the header; `check` (may be NULL) vets the type before anything big is allocated. */
static int png_decode_raw(const uint8_t *buf, size_t len, const char *name, size_t max_pixels,
			  int (*check)(const struct spng_ihdr *, const char *), struct png_raw *r)
{
	memset(r, 0, sizeof *r);
	spng_ctx *ctx = spng_ctx_new(0);
	if (!ctx)
		return tn_fail(TN_E_NOMEM, "%s: cannot start the PNG decoder", nm(name));
	int rc = 0, e;
	size_t size, npx;
	spng_set_chunk_limits(ctx, 64u << 20, 256u << 20);
	if ((e = spng_set_png_buffer(ctx, buf, len)) || (e = spng_get_ihdr(ctx, &r->ihdr))) {
		/* spng refuses some absurd sizes itself ("arithmetic overflow"): name the size instead */
		size_t lim = max_pixels ? max_pixels : TN_IMAGE_MAX_PIXELS_DEFAULT;
		if (len >= 24 && memcmp(buf + 12, "IHDR", 4) == 0) {
			size_t w = (size_t)buf[16] << 24 | (size_t)buf[17] << 16 | (size_t)buf[18] << 8 | buf[19];
			size_t h = (size_t)buf[20] << 24 | (size_t)buf[21] << 16 | (size_t)buf[22] << 8 | buf[23];
			if (tn_mul_size(w, h, &npx) || npx > lim) {
				rc = tn_fail(TN_E_FORMAT, "%s: image is %zux%zu pixels, over the limit of %zu (see --max-pixels)",
					     nm(name), w, h, lim);
				goto done;
			}
		}
		rc = tn_fail(TN_E_FORMAT, "%s: bad PNG: %s", nm(name), spng_strerror(e));
		goto done;
	}
	if (check && (rc = check(&r->ihdr, name)))
		goto done;
	struct spng_ihdr *ih = &r->ihdr;
	if (ih->width == 0 || ih->height == 0) {
		rc = tn_fail(TN_E_FORMAT, "%s: image is %ux%u pixels (empty)", nm(name), ih->width,
			     ih->height);
		goto done;
	}
	if (max_pixels == 0)
		max_pixels = TN_IMAGE_MAX_PIXELS_DEFAULT;
	if (tn_mul_size(ih->width, ih->height, &npx) || npx > max_pixels) {
		rc = tn_fail(TN_E_FORMAT,
			     "%s: image is %ux%u pixels, over the limit of %zu (see --max-pixels)",
			     nm(name), ih->width, ih->height, max_pixels);
		goto done;
	}
	for (int i = 0; i < 256; i++) /* PIL's default for entries PLTE lacks: a gray ramp */
		r->pal[i][0] = r->pal[i][1] = r->pal[i][2] = (uint8_t)i;
	if (ih->color_type == SPNG_COLOR_TYPE_INDEXED) {
		struct spng_plte plte;
		if ((e = spng_get_plte(ctx, &plte))) {
			rc = tn_fail(TN_E_FORMAT, "%s: bad PNG palette: %s", nm(name),
				     spng_strerror(e));
			goto done;
		}
		for (uint32_t i = 0; i < plte.n_entries && i < 256; i++) {
			r->pal[i][0] = plte.entries[i].red;
			r->pal[i][1] = plte.entries[i].green;
			r->pal[i][2] = plte.entries[i].blue;
		}
	}
	size_t bits = (size_t)ih->bit_depth * (size_t)png_channels(ih->color_type);
	if (tn_mul_size(ih->width, bits, &r->stride)) {
		rc = tn_fail_prefix(TN_E_INVAL, nm(name));
		goto done;
	}
	r->stride = (r->stride + 7) / 8;
	if ((e = spng_decoded_image_size(ctx, SPNG_FMT_RAW, &size))) {
		rc = tn_fail(TN_E_FORMAT, "%s: bad PNG: %s", nm(name), spng_strerror(e));
		goto done;
	}
	if (size != r->stride * ih->height) {
		rc = tn_fail(TN_E_FORMAT, "%s: PNG decoder reports an unexpected size", nm(name));
		goto done;
	}
	r->data = calloc(size, 1); /* spng ORs sub-byte interlaced pixels into place */
	if (!r->data) {
		rc = tn_fail(TN_E_NOMEM, "%s: out of memory for %ux%u pixels", nm(name), ih->width,
			     ih->height);
		goto done;
	}
	if ((e = spng_decode_image(ctx, r->data, size, SPNG_FMT_RAW, 0))) {
		rc = tn_fail(TN_E_FORMAT, "%s: corrupt or truncated PNG: %s", nm(name),
			     spng_strerror(e));
		goto done;
	}
done:
	if (rc) {
		free(r->data);
		r->data = NULL;
	}
	spng_ctx_free(ctx);
	return rc;
}

/* Sample x of a row with sub-byte depth d (1, 2, 4), MSB first. */
static inline unsigned packed_at(const uint8_t *row, size_t x, int d)
{
	size_t bit = x * (size_t)d;
	return (row[bit >> 3] >> (8 - d - (int)(bit & 7))) & ((1u << d) - 1);
}

/* Turns one decoded PNG row into o (the image's width times its channels bytes). */
typedef void (*png_row_fn)(const struct png_raw *r, const uint8_t *row, uint8_t *o);

/* png_decode_raw, then out sized for its pixels with ch channels and filled row by row: the
 * RGB and the label decoders differ only in `convert`. */
static int png_decode_rows(const uint8_t *buf, size_t len, const char *name, size_t max_pixels,
			   int (*check)(const struct spng_ihdr *, const char *), int ch, png_row_fn convert,
			   struct tn_image *out)
{
	struct png_raw r;
	int rc = png_decode_raw(buf, len, name, max_pixels, check, &r);
	if (rc)
		return rc;
	if (!(rc = alloc_pixels(name, r.ihdr.width, r.ihdr.height, ch, max_pixels, out)))
		for (size_t y = 0; y < r.ihdr.height; y++)
			convert(&r, r.data + y * r.stride, out->px + y * r.ihdr.width * ch);
	free(r.data);
	return rc;
}

/* One row to RGB as PIL's convert('RGB') does. */
static void png_row_rgb(const struct png_raw *r, const uint8_t *row, uint8_t *o)
{
	size_t w = r->ihdr.width;
	int d = r->ihdr.bit_depth, ct = r->ihdr.color_type;
	int bps = d == 16 ? 2 : 1;                /* bytes per sample (sub-byte handled apart) */
	int nch = png_channels(ct);
	for (size_t x = 0; x < w; x++, o += 3) {
		if (ct == SPNG_COLOR_TYPE_INDEXED) {
			unsigned i = d < 8 ? packed_at(row, x, d) : row[x];
			memcpy(o, r->pal[i], 3);
		} else if (ct == SPNG_COLOR_TYPE_GRAYSCALE) {
			unsigned v;
			if (d < 8) /* PIL scales 1/2/4-bit gray to 0..255 */
				v = packed_at(row, x, d) * (d == 1 ? 255u : d == 2 ? 85u : 17u);
			else if (d == 8)
				v = row[x];
			else { /* PIL opens 16-bit gray as mode I and clips it to 255 */
				v = ((unsigned)row[2 * x] << 8) | row[2 * x + 1];
				if (v > 255)
					v = 255;
			}
			o[0] = o[1] = o[2] = (uint8_t)v;
		} else {
			/* 16-bit colour / gray+alpha: PIL keeps the high byte; alpha dropped. */
			const uint8_t *s = row + x * (size_t)nch * bps;
			if (ct == SPNG_COLOR_TYPE_GRAYSCALE_ALPHA) {
				o[0] = o[1] = o[2] = s[0];
			} else {
				o[0] = s[0];
				o[1] = s[bps];
				o[2] = s[2 * bps];
			}
		}
	}
}

static int png_decode_rgb(const uint8_t *buf, size_t len, const char *name, size_t max_pixels,
			  struct tn_image *out)
{
	return png_decode_rows(buf, len, name, max_pixels, NULL, 3, png_row_rgb, out);
}

static int mask_png_check(const struct spng_ihdr *ih, const char *name)
{
	int ct = ih->color_type;
	if (ct == SPNG_COLOR_TYPE_INDEXED || (ct == SPNG_COLOR_TYPE_GRAYSCALE && ih->bit_depth <= 8))
		return 0;
	if (ct == SPNG_COLOR_TYPE_GRAYSCALE)
		return tn_fail(TN_E_FORMAT,
			       "%s: label is 16-bit grayscale, expected an 8-bit indexed or grayscale PNG",
			       nm(name));
	return tn_fail(TN_E_FORMAT,
		       "%s: label is %s (%d channels), expected an 8-bit indexed or grayscale PNG",
		       nm(name), png_type_name(ct), png_channels(ct));
}

/* np.array(Image.open(f), np.uint8) of one row: palette indices as stored; gray 1-bit is PIL
 * mode '1' (0/1), 2- and 4-bit gray are scaled to 0..255 by PIL. */
static void png_row_mask(const struct png_raw *r, const uint8_t *row, uint8_t *o)
{
	size_t w = r->ihdr.width;
	int d = r->ihdr.bit_depth;
	unsigned mul = 1;
	if (r->ihdr.color_type == SPNG_COLOR_TYPE_GRAYSCALE)
		mul = d == 2 ? 85u : d == 4 ? 17u : 1u;
	if (d == 8)
		memcpy(o, row, w);
	else
		for (size_t x = 0; x < w; x++)
			o[x] = (uint8_t)(packed_at(row, x, d) * mul);
}

static int png_decode_mask(const uint8_t *buf, size_t len, const char *name, size_t max_pixels,
			   struct tn_image *out)
{
	return png_decode_rows(buf, len, name, max_pixels, mask_png_check, 1, png_row_mask, out);
}

/* 8-bit PNG of the given header (and palette, if any) into a malloc'd buffer. */
static int png_encode(const struct spng_ihdr *ih, const struct spng_plte *plte, const void *px, size_t n,
		      uint8_t **out, size_t *out_len)
{
	spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
	if (!ctx)
		return tn_fail(TN_E_NOMEM, "cannot start the PNG encoder");
	int e, rc = 0;
	struct spng_ihdr h = *ih;
	if ((e = spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1)) ||
	    (e = spng_set_option(ctx, SPNG_IMG_COMPRESSION_LEVEL, 6)) || (e = spng_set_ihdr(ctx, &h)) ||
	    (plte && (e = spng_set_plte(ctx, (struct spng_plte *)plte))) ||
	    (e = spng_encode_image(ctx, px, n, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE))) {
		rc = tn_fail(TN_E_FORMAT, "PNG encode: %s", spng_strerror(e));
	} else {
		*out = spng_get_png_buffer(ctx, out_len, &e);
		if (!*out)
			rc = tn_fail(TN_E_NOMEM, "PNG encode: %s", spng_strerror(e));
	}
	spng_ctx_free(ctx);
	return rc;
}

int tn_png_encode_indexed(const uint8_t *idx, int w, int h, const uint8_t (*palette)[3], int npal,
			  uint8_t **out, size_t *out_len)
{
	size_t n;
	if (w <= 0 || h <= 0 || npal < 0 || npal > 256 || (npal > 0 && !palette))
		return tn_fail(TN_E_INVAL, "PNG encode: bad size %dx%d or palette of %d entries", w,
			       h, npal);
	if (tn_mul_size((size_t)w, (size_t)h, &n))
		return TN_E_INVAL;
	/* Every stored index needs a PLTE entry; entries past npal get the VOC colours. */
	unsigned maxv = 0;
	for (size_t i = 0; i < n; i++)
		if (idx[i] > maxv)
			maxv = idx[i];
	struct spng_plte plte;
	uint8_t voc[256][3];
	tn_palette_voc(voc);
	memset(&plte, 0, sizeof plte);
	plte.n_entries = (uint32_t)npal > maxv + 1 ? (uint32_t)npal : maxv + 1;
	for (uint32_t i = 0; i < plte.n_entries; i++) {
		const uint8_t *c = (int)i < npal ? palette[i] : voc[i];
		plte.entries[i].red = c[0];
		plte.entries[i].green = c[1];
		plte.entries[i].blue = c[2];
		plte.entries[i].alpha = 255;
	}
	struct spng_ihdr ih = {.width = (uint32_t)w, .height = (uint32_t)h, .bit_depth = 8,
			       .color_type = SPNG_COLOR_TYPE_INDEXED};
	return png_encode(&ih, &plte, idx, n, out, out_len);
}

int tn_png_encode_rgb(const struct tn_image *img, uint8_t **out, size_t *out_len)
{
	*out = NULL;
	*out_len = 0;
	if (img->channels != 3 || img->w <= 0 || img->h <= 0)
		return tn_fail(TN_E_INVAL, "PNG encode: bad image %dx%dx%d", img->w, img->h, img->channels);
	struct spng_ihdr ih = {.width = (uint32_t)img->w, .height = (uint32_t)img->h, .bit_depth = 8,
			       .color_type = SPNG_COLOR_TYPE_TRUECOLOR};
	return png_encode(&ih, NULL, img->px, (size_t)img->w * img->h * 3, out, out_len);
}

int tn_name_is_png(const char *path)
{
	const char *dot = path ? strrchr(path, '.') : NULL;
	return dot && !strchr(dot, '/') && !strcasecmp(dot, ".png");
}

int tn_picture_write(const char *path, const struct tn_image *img, int png)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = png ? tn_png_encode_rgb(img, &buf, &len) : tn_jpeg_encode_rgb(img, 90, &buf, &len);
	if (!rc)
		rc = tn_write_file(path, buf, len);
	free(buf);
	return rc;
}

/* ---- PGM (P5) ---- */

/* Reads one header number, skipping whitespace and # comments. */
static int pnm_number(const uint8_t *buf, size_t len, size_t *p, unsigned *v)
{
	unsigned long n;
	if (tn_pnm_field(buf, len, p, &n) != 1)
		return -1;
	*v = (unsigned)n;
	return 0;
}

static int pgm_decode(const uint8_t *buf, size_t len, const char *name, size_t max_pixels,
		      struct tn_image *out)
{
	size_t p = 2;
	unsigned w, h, maxval;
	if (pnm_number(buf, len, &p, &w) || pnm_number(buf, len, &p, &h) ||
	    pnm_number(buf, len, &p, &maxval) || p >= len ||
	    !(buf[p] == ' ' || (buf[p] >= '\t' && buf[p] <= '\r')))
		return tn_fail(TN_E_FORMAT, "%s: bad PGM header", nm(name));
	p++; /* exactly one whitespace byte before the raster */
	if (maxval == 0 || maxval > 255)
		return tn_fail(TN_E_FORMAT, "%s: PGM maxval %u, expected 1..255 (8-bit)", nm(name),
			       maxval);
	int rc = alloc_pixels(name, w, h, 1, max_pixels, out);
	if (rc)
		return rc;
	size_t n = (size_t)w * h;
	if (len - p < n) {
		tn_image_free(out);
		return tn_fail(TN_E_FORMAT, "%s: truncated PGM: %zu of %zu pixel bytes", nm(name),
			       len - p, n);
	}
	memcpy(out->px, buf + p, n);
	return 0;
}

/* Binary PGM (P5) or PPM (P6) as RGB, for frames piped from ffmpeg (-c:v ppm) and netpbm;
 * maxval under 256 is one byte a sample, else two, big-endian; samples scale to 0..255. */
static int pnm_decode_rgb(const uint8_t *buf, size_t len, const char *name, size_t max_pixels,
			  struct tn_image *out)
{
	size_t p = 2;
	unsigned w, h, maxval;
	const char *what = buf[1] == '6' ? "PPM" : "PGM";
	if (pnm_number(buf, len, &p, &w) || pnm_number(buf, len, &p, &h) ||
	    pnm_number(buf, len, &p, &maxval) || p >= len ||
	    !(buf[p] == ' ' || (buf[p] >= '\t' && buf[p] <= '\r')))
		return tn_fail(TN_E_FORMAT, "%s: bad %s header", nm(name), what);
	p++;
	if (maxval == 0 || maxval > 65535)
		return tn_fail(TN_E_FORMAT, "%s: %s maxval %u, expected 1..65535", nm(name), what, maxval);
	int rc = alloc_pixels(name, w, h, 3, max_pixels, out);
	if (rc)
		return rc;
	const size_t npx = (size_t)w * h, ch = buf[1] == '6' ? 3 : 1, bps = maxval > 255 ? 2 : 1;
	if ((len - p) / (ch * bps) < npx) {
		tn_image_free(out);
		return tn_fail(TN_E_FORMAT, "%s: truncated %s: %zu of %zu pixel bytes", nm(name), what, len - p,
			       npx * ch * bps);
	}
	const uint8_t *s = buf + p;
	for (size_t i = 0; i < npx; i++)
		for (int c = 0; c < 3; c++) {
			size_t k = i * ch + (ch == 3 ? (size_t)c : 0);
			unsigned v = bps == 2 ? (unsigned)s[2 * k] << 8 | s[2 * k + 1] : s[k];
			if (v > maxval)
				v = maxval;
			out->px[3 * i + (size_t)c] = maxval == 255 ? (uint8_t)v : (uint8_t)((v * 255u * 2 + maxval) / (2 * maxval));
		}
	return 0;
}

/* ---- entry points ---- */

int tn_image_decode_rgb(const uint8_t *buf, size_t len, const char *name, size_t max_pixels,
			struct tn_image *out)
{
	memset(out, 0, sizeof *out);
	switch (sniff(buf, len)) {
	case KIND_JPEG: return jpeg_decode(buf, len, name, max_pixels, out);
	case KIND_PNG: return png_decode_rgb(buf, len, name, max_pixels, out);
	case KIND_PGM:
	case KIND_PPM: return pnm_decode_rgb(buf, len, name, max_pixels, out);
	default: break;
	}
	if (len == 0)
		return tn_fail(TN_E_FORMAT, "%s: empty file, not a JPEG, PNG or PNM image", nm(name));
	return tn_fail(TN_E_FORMAT, "%s: not a JPEG, PNG or PNM image", nm(name));
}

int tn_mask_decode(const uint8_t *buf, size_t len, const char *name, size_t max_pixels,
		   struct tn_image *out)
{
	memset(out, 0, sizeof *out);
	switch (sniff(buf, len)) {
	case KIND_PNG: return png_decode_mask(buf, len, name, max_pixels, out);
	case KIND_PGM: return pgm_decode(buf, len, name, max_pixels, out);
	case KIND_JPEG:
		return tn_fail(TN_E_FORMAT,
			       "%s: label is a JPEG image, expected an 8-bit indexed or grayscale PNG",
			       nm(name));
	default: break;
	}
	return tn_fail(TN_E_FORMAT, "%s: not a PNG or PGM (P5) label", nm(name));
}

static int read_then(const char *path, size_t max_pixels, struct tn_image *out,
		     int (*dec)(const uint8_t *, size_t, const char *, size_t, struct tn_image *))
{
	const char *name = (!path || strcmp(path, "-") == 0) ? "standard input" : path;
	uint8_t *buf;
	size_t len;
	memset(out, 0, sizeof *out);
	int rc = tn_read_all(path, 0, &buf, &len);
	if (rc)
		return rc;
	rc = dec(buf, len, name, max_pixels, out);
	free(buf);
	return rc;
}

int tn_image_read_rgb(const char *path, size_t max_pixels, struct tn_image *out)
{
	return read_then(path, max_pixels, out, tn_image_decode_rgb);
}

/* The EXIF orientation (1..8) of a JPEG, or 1 when it has none or it cannot be read.  Only the
 * first APP1 "Exif" segment's IFD0 is looked at, every offset checked against the segment. */
int tn_jpeg_exif_orientation(const uint8_t *buf, size_t len)
{
	size_t p = 2;
	if (len < 4 || buf[0] != 0xFF || buf[1] != 0xD8)
		return 1;
	while (p + 4 <= len && buf[p] == 0xFF) {
		int marker = buf[p + 1];
		size_t seg = ((size_t)buf[p + 2] << 8) | buf[p + 3];
		if (marker == 0xDA || marker == 0xD9 || seg < 2 || p + 2 + seg > len)
			return 1; /* start of scan: no EXIF before the image data */
		const uint8_t *d = buf + p + 4;
		size_t n = seg - 2;
		if (marker == 0xE1 && n >= 14 && memcmp(d, "Exif\0\0", 6) == 0) {
			const uint8_t *t = d + 6;
			size_t tn = n - 6;
			int le = t[0] == 'I' && t[1] == 'I';
			if (!le && !(t[0] == 'M' && t[1] == 'M'))
				return 1;
#define RD16(q) (le ? (uint32_t)(q)[0] | (uint32_t)(q)[1] << 8 : (uint32_t)(q)[0] << 8 | (uint32_t)(q)[1])
#define RD32(q) (le ? (uint32_t)(q)[0] | (uint32_t)(q)[1] << 8 | (uint32_t)(q)[2] << 16 | (uint32_t)(q)[3] << 24 \
		    : (uint32_t)(q)[0] << 24 | (uint32_t)(q)[1] << 16 | (uint32_t)(q)[2] << 8 | (uint32_t)(q)[3])
			uint32_t ifd = RD32(t + 4);
			if (ifd > tn - 2)
				return 1;
			uint32_t count = RD16(t + ifd);
			for (uint32_t i = 0; i < count; i++) {
				size_t e = (size_t)ifd + 2 + (size_t)i * 12;
				if (e + 12 > tn)
					return 1;
				if (RD16(t + e) == 0x0112) {
					uint32_t v = RD16(t + e + 8);
					return v >= 1 && v <= 8 ? (int)v : 1;
				}
			}
#undef RD16
#undef RD32
			return 1;
		}
		p += 2 + seg;
	}
	return 1;
}

/* Turns an image so that its EXIF orientation becomes 1 (as OpenCV's imread does). */
static int apply_orientation(struct tn_image *img, int o)
{
	if (o <= 1)
		return 0;
	const int w = img->w, h = img->h, c = img->channels;
	const int swap = o >= 5; /* 5..8 transpose the axes */
	const int ow = swap ? h : w, oh = swap ? w : h;
	uint8_t *dst = malloc((size_t)w * h * c);
	if (!dst)
		return tn_fail(TN_E_NOMEM, "out of memory turning an image upright");
	for (int y = 0; y < oh; y++)
		for (int x = 0; x < ow; x++) {
			int sx, sy; /* source pixel of output (x, y) */
			switch (o) {
			case 2: sx = w - 1 - x, sy = y; break;
			case 3: sx = w - 1 - x, sy = h - 1 - y; break;
			case 4: sx = x, sy = h - 1 - y; break;
			case 5: sx = y, sy = x; break;
			case 6: sx = y, sy = h - 1 - x; break;
			case 7: sx = w - 1 - y, sy = h - 1 - x; break;
			default: sx = w - 1 - y, sy = x; break; /* 8 */
			}
			memcpy(dst + ((size_t)y * ow + x) * c, img->px + ((size_t)sy * w + sx) * c, (size_t)c);
		}
	free(img->px);
	img->px = dst;
	img->w = ow;
	img->h = oh;
	return 0;
}

int tn_image_decode_rgb_upright(const uint8_t *buf, size_t len, const char *name, size_t max_pixels,
				struct tn_image *out)
{
	int rc = tn_image_decode_rgb(buf, len, name, max_pixels, out);
	if (!rc && (rc = apply_orientation(out, tn_jpeg_exif_orientation(buf, len))))
		tn_image_free(out);
	return rc;
}

int tn_image_read_rgb_upright(const char *path, size_t max_pixels, struct tn_image *out)
{
	return read_then(path, max_pixels, out, tn_image_decode_rgb_upright);
}

int tn_mask_read(const char *path, size_t max_pixels, struct tn_image *out)
{
	return read_then(path, max_pixels, out, tn_mask_decode);
}
