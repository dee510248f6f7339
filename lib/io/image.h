/* Image decoding/encoding (libjpeg-turbo, libspng) and label masks.  Pixels are 8-bit,
 * interleaved, row-major. */
#ifndef TN_IMAGE_H
#define TN_IMAGE_H

#include <stddef.h>
#include <stdint.h>

struct tn_image {
	int w, h;
	int channels; /* 3 (RGB) for photos, 1 for masks */
	uint8_t *px;  /* w*h*channels bytes, malloc'd */
};

/* Default pixel limit for decoding (width*height); 0 in the call means this default. */
#define TN_IMAGE_MAX_PIXELS_DEFAULT (100u * 1000u * 1000u)

/* Decodes a JPEG, PNG or binary PNM (P5/P6; sniffed from the magic bytes) into RGB exactly as
 * PIL's Image.open(...).convert('RGB') does (JPEG: libjpeg-turbo defaults, ISLOW DCT, fancy
 * upsampling; gray/palette/RGBA PNG converted, alpha dropped, 16-bit reduced as PIL does; PNM
 * samples scaled to 0..255 when maxval is not 255).
 * name is used in error messages.  Truncated or corrupt data is an error, not a partial image. */
int tn_image_decode_rgb(const uint8_t *buf, size_t len, const char *name, size_t max_pixels,
			struct tn_image *out);
/* Reads path ("-" = stdin) and decodes it as above. */
int tn_image_read_rgb(const char *path, size_t max_pixels, struct tn_image *out);
/* The same, then turned upright by the JPEG's EXIF orientation, as OpenCV's imread does (PIL,
 * and so the segmentation pipeline, does not). */
int tn_image_read_rgb_upright(const char *path, size_t max_pixels, struct tn_image *out);
int tn_image_decode_rgb_upright(const uint8_t *buf, size_t len, const char *name, size_t max_pixels,
				struct tn_image *out);
/* The EXIF orientation tag (1..8) of a JPEG; 1 when absent or unreadable. */
int tn_jpeg_exif_orientation(const uint8_t *buf, size_t len);

/* Decodes a label/prediction mask: 8-bit (or lower bit depth) palette PNG giving the palette
 * indices (never expanded), 8-bit grayscale PNG giving values, or binary PGM (P5, maxval<256).
 * RGB/RGBA/16-bit PNGs are refused with a message saying the label is RGB rather than indexed. */
int tn_mask_decode(const uint8_t *buf, size_t len, const char *name, size_t max_pixels,
		   struct tn_image *out);
int tn_mask_read(const char *path, size_t max_pixels, struct tn_image *out);

void tn_image_free(struct tn_image *img);

/* Encodes an 8-bit palette PNG (one byte per pixel = class index) with the given palette of
 * npal RGB entries (npal <= 256); the result is malloc'd into *out. */
int tn_png_encode_indexed(const uint8_t *idx, int w, int h, const uint8_t (*palette)[3], int npal,
			  uint8_t **out, size_t *out_len);
/* Encodes an RGB image as JPEG at the given quality (1..100). */
int tn_jpeg_encode_rgb(const struct tn_image *img, int quality, uint8_t **out, size_t *out_len);

/* Encodes an RGB image as PNG. */
int tn_png_encode_rgb(const struct tn_image *img, uint8_t **out, size_t *out_len);
/* 1 when a file name ends in .png (any case): pictures are then PNG, else JPEG. */
int tn_name_is_png(const char *path);
/* Writes a picture a person looks at to path ("-" = stdout): PNG, or JPEG at quality 90. */
int tn_picture_write(const char *path, const struct tn_image *img, int png);

/* The VOC palette (bitget order) for indices 0..255: entry i for i<=255; 255 is (224,224,192). */
void tn_palette_voc(uint8_t palette[256][3]);
/* The upstream palette for n classes (VOC colours for n <= 21, HSV hues otherwise), 255 as VOC. */
void tn_palette_for_classes(int n, uint8_t palette[256][3]);

#endif
