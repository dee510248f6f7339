/* Image codecs against PIL: decodes pixel-exact (photos, every PNG type, CMYK/gray JPEG),
 * masks as np.array(Image.open(f), np.uint8), errors for bad input, the encoders read back by
 * PIL, and the palettes.  References: scripts/ref/resample-ref.py into $REF_DIR/resample
 * (regenerated when older than the script), or a temporary folder. */
#include "check.h"
#include "refs.h"
#include "core/error.h"
#include "io/image.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define SCRIPT "scripts/ref/resample-ref.py"

static int spit(const char *path, const void *d, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = fwrite(d, 1, n, f) == n;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Count of differing bytes, or -1 for a shape mismatch. */
static long img_diff(const struct tn_image *a, const struct tn_image *b)
{
	if (a->w != b->w || a->h != b->h || a->channels != b->channels)
		return -1;
	long d = 0;
	for (size_t i = 0; i < (size_t)a->w * a->h * a->channels; i++)
		d += a->px[i] != b->px[i];
	return d;
}

static void run_manifest(void)
{
	FILE *f = fopen(refpath("manifest.txt"), "r");
	char line[2048], kind[32], a[1024], b[1024];
	int n;
	CHECK(f != NULL, "manifest %s", refpath("manifest.txt"));
	if (!f)
		return;
	while (fgets(line, sizeof line, f)) {
		struct tn_image got, want;
		if (sscanf(line, "%31s", kind) != 1)
			continue;
		if (strcmp(kind, "rgb") == 0 && sscanf(line, "%*s %1023s %1023s", a, b) == 2) {
			int rc = tn_image_read_rgb(refpath(a), 0, &got);
			read_pnm(refpath(b), &want);
			long d = rc ? -2 : img_diff(&got, &want);
			CHECK(d == 0, "decode %s = PIL convert('RGB') (diff %ld%s%s)", a, d,
			      rc ? ": " : "", rc ? tn_errmsg() : "");
			tn_image_free(&got);
			tn_image_free(&want);
		} else if (strcmp(kind, "mask") == 0 && sscanf(line, "%*s %1023s %1023s", a, b) == 2) {
			int rc = tn_mask_read(refpath(a), 0, &got);
			read_pnm(refpath(b), &want);
			long d = rc ? -2 : img_diff(&got, &want);
			CHECK(d == 0, "mask %s = np.array(Image.open(f), uint8) (diff %ld%s%s)", a, d,
			      rc ? ": " : "", rc ? tn_errmsg() : "");
			tn_image_free(&got);
			tn_image_free(&want);
		} else if (strcmp(kind, "rgberr") == 0 && sscanf(line, "%*s %1023s", a) == 1) {
			int rc = tn_image_read_rgb(refpath(a), 0, &got);
			CHECK(rc == TN_E_FORMAT && strstr(tn_errmsg(), a), "decode %s fails: %s", a,
			      rc ? tn_errmsg() : "(no error)");
			tn_image_free(&got);
		} else if (strcmp(kind, "maskerr") == 0 && sscanf(line, "%*s %1023s", a) == 1) {
			int rc = tn_mask_read(refpath(a), 0, &got);
			CHECK(rc == TN_E_FORMAT && strstr(tn_errmsg(), "label is") &&
				      strstr(tn_errmsg(), "expected an 8-bit indexed or grayscale PNG"),
			      "mask %s refused: %s", a, rc ? tn_errmsg() : "(no error)");
			tn_image_free(&got);
		} else if (strcmp(kind, "palette") == 0 && sscanf(line, "%*s %d %1023s", &n, a) == 2) {
			uint8_t pal[256][3];
			size_t len;
			uint8_t *w = slurp(refpath(a), &len);
			tn_palette_for_classes(n, pal);
			CHECK(w && len == 768 && memcmp(w, pal, 768) == 0,
			      "palette for %d classes = bubbliiiing's", n);
			free(w);
		}
	}
	fclose(f);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* A PNG that stops right after a valid IHDR. */
static size_t png_header_only(uint8_t *buf, uint32_t w, uint32_t h, int depth, int ct)
{
	static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	memcpy(buf, sig, 8);
	put32(buf + 8, 13);
	memcpy(buf + 12, "IHDR", 4);
	put32(buf + 16, w);
	put32(buf + 20, h);
	buf[24] = (uint8_t)depth, buf[25] = (uint8_t)ct, buf[26] = buf[27] = buf[28] = 0;
	put32(buf + 29, (uint32_t)crc32(0, buf + 12, 17));
	return 33;
}

static void test_limits(void)
{
	uint8_t buf[64];
	struct tn_image img;
	size_t n = png_header_only(buf, 100000, 100000, 8, 2);
	int rc = tn_image_decode_rgb(buf, n, "big.png", 0, &img);
	CHECK(rc == TN_E_FORMAT && strstr(tn_errmsg(), "big.png: image is 100000x100000 pixels, over "
							"the limit of 100000000 (see --max-pixels)"),
	      "pixel limit before allocation: %s", tn_errmsg());
	rc = tn_mask_decode(buf, n, "big.png", 0, &img);
	CHECK(rc == TN_E_FORMAT && strstr(tn_errmsg(), "label is RGB (3 channels)"),
	      "RGB label refused before the size check: %s", tn_errmsg());
	n = png_header_only(buf, 100, 100, 8, 0);
	rc = tn_image_decode_rgb(buf, n, "small.png", 5000, &img);
	CHECK(rc == TN_E_FORMAT && strstr(tn_errmsg(), "over the limit of 5000"),
	      "explicit max_pixels: %s", tn_errmsg());
	rc = tn_image_decode_rgb(buf, n, "small.png", 0, &img);
	CHECK(rc == TN_E_FORMAT && strstr(tn_errmsg(), "small.png"), "PNG without IDAT: %s",
	      tn_errmsg());
	n = png_header_only(buf, 0, 10, 8, 0);
	rc = tn_image_decode_rgb(buf, n, "zero.png", 0, &img);
	CHECK(rc == TN_E_FORMAT && strstr(tn_errmsg(), "zero.png"), "zero-width PNG: %s",
	      tn_errmsg());
	static const uint8_t pgm[] = "P5 3 2 255\n\1\2\3\4\5";
	rc = tn_mask_decode(pgm, sizeof pgm - 1, "t.pgm", 0, &img);
	CHECK(rc == TN_E_FORMAT && strstr(tn_errmsg(), "t.pgm: truncated PGM"), "truncated PGM: %s",
	      tn_errmsg());
	static const uint8_t pgm0[] = "P5 0 2 255\n";
	rc = tn_mask_decode(pgm0, sizeof pgm0 - 1, "z.pgm", 0, &img);
	CHECK(rc == TN_E_FORMAT && strstr(tn_errmsg(), "z.pgm"), "zero-size PGM: %s", tn_errmsg());
	rc = tn_mask_decode((const uint8_t *)"hello", 5, "x.txt", 0, &img);
	CHECK(rc == TN_E_FORMAT && strstr(tn_errmsg(), "x.txt: not a PNG or PGM"), "not a label: %s",
	      tn_errmsg());
	rc = tn_image_read_rgb("/nonexistent/x.jpg", 0, &img);
	CHECK(rc != 0 && strstr(tn_errmsg(), "/nonexistent/x.jpg"), "missing file: %s", tn_errmsg());
}

/* Every prefix and some byte flips of a file: an error or an image, never a crash. */
static void test_robust(const char *rel, int mask)
{
	size_t len;
	uint8_t *b = slurp(refpath(rel), &len);
	if (!b) {
		CHECK(0, "read %s", rel);
		return;
	}
	int crashes = 0, errs = 0;
	size_t step = len > 4000 ? len / 1500 : 1;
	for (size_t cut = 0; cut < len; cut += step) {
		struct tn_image img;
		uint8_t *c = malloc(cut ? cut : 1); /* exact size so ASan sees overreads */
		memcpy(c, b, cut);
		int rc = mask ? tn_mask_decode(c, cut, rel, 0, &img) : tn_image_decode_rgb(c, cut, rel, 0, &img);
		errs += rc != 0;
		tn_image_free(&img);
		free(c);
	}
	unsigned seed = 1;
	for (int t = 0; t < 300; t++) {
		struct tn_image img;
		uint8_t *c = malloc(len);
		memcpy(c, b, len);
		for (int k = 0; k < 3; k++) {
			seed = seed * 1103515245u + 12345u;
			c[(seed >> 8) % len] ^= (uint8_t)(1u << ((seed >> 4) & 7));
		}
		int rc = mask ? tn_mask_decode(c, len, rel, 0, &img) : tn_image_decode_rgb(c, len, rel, 0, &img);
		(void)rc;
		tn_image_free(&img);
		free(c);
	}
	free(b);
	CHECK(crashes == 0 && errs > 0, "%s: truncations and bit flips end cleanly (%d errors)", rel,
	      errs);
}

static void test_encoders(void)
{
	char dir[1100], path[1200];
	snprintf(dir, sizeof dir, "%s/enc.%d", refdir, (int)getpid());
	if (mkdir(dir, 0777) != 0) {
		CHECK(0, "mkdir %s", dir);
		return;
	}
	uint8_t voc[256][3];
	tn_palette_voc(voc);
	static const int sizes[][3] = {{1, 1, 21}, {37, 23, 21}, {64, 5, 2}, {300, 200, 256}, {7, 9, 3}};
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		int w = sizes[s][0], h = sizes[s][1], npal = sizes[s][2];
		uint8_t *idx = malloc((size_t)w * h);
		for (int i = 0; i < w * h; i++)
			idx[i] = (uint8_t)((i * 7 + i / w) % (npal + 1));
		if (w * h > 3)
			idx[3] = 255; /* void, past npal when npal < 256 */
		uint8_t *png = NULL, *png2 = NULL;
		size_t len = 0, len2 = 0;
		int rc = tn_png_encode_indexed(idx, w, h, (const uint8_t(*)[3])voc, npal, &png, &len);
		int rc2 = tn_png_encode_indexed(idx, w, h, (const uint8_t(*)[3])voc, npal, &png2, &len2);
		CHECK(rc == 0 && rc2 == 0 && len == len2 && memcmp(png, png2, len) == 0,
		      "indexed PNG %dx%d npal %d encodes deterministically", w, h, npal);
		struct tn_image m;
		rc = tn_mask_decode(png, len, "enc", 0, &m);
		CHECK(rc == 0 && m.w == w && m.h == h && memcmp(m.px, idx, (size_t)w * h) == 0,
		      "indexed PNG %dx%d reads back through tn_mask_decode", w, h);
		tn_image_free(&m);
		snprintf(path, sizeof path, "%s/m%zu.png", dir, s);
		spit(path, png, len);
		snprintf(path, sizeof path, "%s/m%zu.idx", dir, s);
		spit(path, idx, (size_t)w * h);
		snprintf(path, sizeof path, "%s/m%zu.pal", dir, s);
		spit(path, voc, (size_t)3 * npal);
		free(png);
		free(png2);
		free(idx);
	}
	/* JPEG: encode a photo, decode it ourselves; PIL must decode it to the same pixels. */
	struct tn_image photo, back;
	int rc = tn_image_read_rgb("/usr/share/darknet/data/horses.jpg", 0, &photo);
	uint8_t *jpg = NULL;
	size_t jlen = 0;
	if (rc == 0)
		rc = tn_jpeg_encode_rgb(&photo, 75, &jpg, &jlen);
	CHECK(rc == 0 && jlen > 1000, "JPEG encode at quality 75 (%zu bytes)", jlen);
	if (rc == 0 && tn_image_decode_rgb(jpg, jlen, "enc.jpg", 0, &back) == 0) {
		snprintf(path, sizeof path, "%s/j.jpg", dir);
		spit(path, jpg, jlen);
		snprintf(path, sizeof path, "%s/j.src", dir);
		spit(path, "/usr/share/darknet/data/horses.jpg\n", 35);
		snprintf(path, sizeof path, "%s/j.ppm", dir);
		FILE *f = fopen(path, "wb");
		fprintf(f, "P6\n%d %d\n255\n", back.w, back.h);
		fwrite(back.px, 1, (size_t)back.w * back.h * 3, f);
		fclose(f);
		long err = 0;
		for (size_t i = 0; i < (size_t)back.w * back.h * 3; i++)
			err += abs(back.px[i] - photo.px[i]);
		CHECK(back.w == photo.w && back.h == photo.h &&
			      err < (long)back.w * back.h * 3 * 4,
		      "JPEG round trip close to the original (mean abs err %.2f)",
		      (double)err / ((double)back.w * back.h * 3));
		tn_image_free(&back);
	}
	free(jpg);
	tn_image_free(&photo);
	struct tn_image bad = {.w = 2, .h = 2, .channels = 3, .px = (uint8_t[12]){0}};
	CHECK(tn_jpeg_encode_rgb(&bad, 0, &jpg, &jlen) == TN_E_INVAL, "JPEG quality 0 refused");
	char cmd[8192];
	snprintf(cmd, sizeof cmd,
		 "/usr/bin/python3 " SCRIPT " --check '%s' >'%s.log' 2>&1; r=$?; "
		 "sed 's/^/# /' '%s.log'; rm -f '%s.log'; exit $r",
		 dir, dir, dir, dir);
	fflush(stdout);
	rc = system(cmd);
	CHECK(rc == 0, "PIL reads our palette PNGs as mode P with the same indices and palette; "
		       "our JPEG decodes equal PIL's; our quality-75 JPEG = PIL's save, byte for byte");
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
}

static void test_palette(void)
{
	uint8_t p[256][3];
	tn_palette_voc(p);
	CHECK(p[1][0] == 128 && p[1][1] == 0 && p[15][0] == 192 && p[15][1] == 128 &&
		      p[15][2] == 128 && p[20][0] == 0 && p[20][1] == 64 && p[20][2] == 128 &&
		      p[255][0] == 224 && p[255][1] == 224 && p[255][2] == 192,
	      "VOC palette entries 1, 15, 20, 255");
}

int main(void)
{
	test_palette();
	if (ref_setup(SCRIPT, "resample", "/tmp/cnnkit-imgref.XXXXXX") != 0) {
		CHECK(0, "generate references with " SCRIPT " (run from the top of the tree)");
		ref_cleanup();
		return check_done();
	}
	run_manifest();
	test_limits();
	test_robust("odd.jpg", 0);
	test_robust("p4.png", 0);
	test_robust("rgba16.png", 0);
	test_robust("p8.png", 1);
	test_robust("lab.pgm", 1);
	test_encoders();
	ref_cleanup();
	return check_done();
}
