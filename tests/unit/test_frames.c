/* The frame splitter for image streams on standard input (JPEG, PNG, binary PNM), and where
 * infer-detect puts box labels. */
#include "check.h"

#include "core/error.h"
#include "io/draw.h"
#include "io/frames.h"
#include "io/image.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static size_t put(uint8_t *b, size_t at, const void *s, size_t n)
{
	memcpy(b + at, s, n);
	return at + n;
}

/* A small RGB picture encoded as JPEG and PNG by our own encoders. */
static void make_images(uint8_t **jpg, size_t *jlen, uint8_t **png, size_t *plen)
{
	struct tn_image img = {37, 23, 3, malloc(37 * 23 * 3)};
	for (int i = 0; i < 37 * 23 * 3; i++)
		img.px[i] = (uint8_t)(i * 7 + (i / 111) * 13);
	tn_jpeg_encode_rgb(&img, 90, jpg, jlen);
	tn_png_encode_rgb(&img, png, plen);
	free(img.px);
}

/* Writes buf to a pipe from a child, reads frames back; returns the count, lengths in lens. */
static int split(const uint8_t *buf, size_t len, size_t *lens, int max, int *err)
{
	int fds[2];
	if (pipe(fds))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		for (size_t off = 0; off < len;) { /* small writes: frames cross read boundaries */
			size_t n = len - off < 1000 ? len - off : 1000;
			if (write(fds[1], buf + off, n) < 0)
				_exit(1);
			off += n;
		}
		_exit(0);
	}
	close(fds[1]);
	struct tn_frames f;
	tn_frames_init(&f, fds[0], "pipe");
	int n = 0, r;
	const uint8_t *d;
	size_t l;
	*err = 0;
	while ((r = tn_frames_next(&f, &d, &l)) > 0)
		if (n < max)
			lens[n++] = l;
	*err = r;
	tn_frames_free(&f);
	close(fds[0]);
	return n;
}

int main(void)
{
	uint8_t *jpg, *png;
	size_t jl, pl;
	make_images(&jpg, &jl, &png, &pl);
	static const char ppm_head[] = "P6\n# a comment\n4 3\n255\n", pgm_head[] = "P5 2 2 65535\n";
	size_t ppm_len = sizeof ppm_head - 1 + 4 * 3 * 3, pgm_len = sizeof pgm_head - 1 + 2 * 2 * 2;

	CHECK(tn_frame_length(jpg, jl) == (long long)jl, "a whole JPEG is one frame (%zu bytes)", jl);
	CHECK(tn_frame_length(png, pl) == (long long)pl, "a whole PNG is one frame (%zu bytes)", pl);
	CHECK(tn_frame_length(jpg, jl - 1) == 0 && tn_frame_length(png, pl - 1) == 0,
	      "one byte short: more bytes needed, not a frame");
	CHECK(tn_frame_length((const uint8_t *)"GIF89a", 6) == -1, "a GIF starts no frame known here");

	uint8_t *s = malloc(3 * (jl + pl) + ppm_len + pgm_len + 64);
	size_t at = put(s, 0, jpg, jl);
	at = put(s, at, png, pl);
	at = put(s, at, ppm_head, sizeof ppm_head - 1);
	memset(s + at, 200, 36);
	at += 36;
	at = put(s, at, pgm_head, sizeof pgm_head - 1);
	memset(s + at, 0xff, 8);
	at += 8;
	at = put(s, at, jpg, jl);
	size_t lens[16];
	int err, n = split(s, at, lens, 16, &err);
	CHECK(n == 5 && err == 0 && lens[0] == jl && lens[1] == pl && lens[2] == ppm_len && lens[3] == pgm_len &&
		      lens[4] == jl,
	      "JPEG, PNG, PPM (with a comment), 16-bit PGM and JPEG again: five frames of their own lengths");

	/* each frame decodes: the PNM ones as RGB */
	struct tn_image im;
	CHECK(tn_image_decode_rgb(s + jl + pl, ppm_len, "ppm", 0, &im) == 0 && im.w == 4 && im.h == 3 && im.px[0] == 200,
	      "a P6 frame decodes to RGB");
	tn_image_free(&im);
	CHECK(tn_image_decode_rgb(s + jl + pl + ppm_len, pgm_len, "pgm", 0, &im) == 0 && im.w == 2 && im.px[0] == 255 &&
		      im.px[1] == 255 && im.px[2] == 255,
	      "a 16-bit P5 frame decodes to gray RGB, 65535 -> 255");
	tn_image_free(&im);

	at = put(s, 0, jpg, jl);
	at = put(s, at, "junk", 4);
	n = split(s, at, lens, 16, &err);
	CHECK(n == 1 && err < 0 && strstr(tn_errmsg(), "after frame 1 start no JPEG, PNG or PNM image"),
	      "bytes after a frame that start no image: an error naming the frame, not ignored (%s)", tn_errmsg());

	at = put(s, 0, jpg, jl);
	at = put(s, at, png, pl / 2);
	n = split(s, at, lens, 16, &err);
	CHECK(n == 2 && err == 0 && lens[1] == pl / 2, "a frame cut short is handed over whole, for the decoder to refuse");

	n = split((const uint8_t *)"", 0, lens, 16, &err);
	CHECK(n == 0 && err == 0, "an empty stream has no frames");

	int x, y;
	tn_draw_label_origin(640, 480, 100, 50, 80, 18, &x, &y);
	CHECK(x == 100 && y == 32, "room above the box: the label sits on it");
	tn_draw_label_origin(640, 480, 100, 5, 80, 18, &x, &y);
	CHECK(x == 100 && y == 5, "no room above: inside the box, at its top");
	tn_draw_label_origin(640, 480, 600, 50, 80, 18, &x, &y);
	CHECK(x == 560 && y == 32, "at the right edge: moved left to stay in the picture");
	tn_draw_label_origin(640, 480, 10, 470, 80, 18, &x, &y);
	CHECK(x == 10 && y == 452, "a box at the bottom: its label is moved up into the picture");
	tn_draw_label_origin(50, 10, 10, 0, 80, 18, &x, &y);
	CHECK(x == 0 && y == 0, "a label larger than the picture starts at its corner");
	free(s);
	free(jpg);
	free(png);
	return check_done();
}
