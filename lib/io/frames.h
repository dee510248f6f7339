/* A stream of concatenated images (JPEG, PNG, binary PNM), as `ffmpeg -f image2pipe` writes,
 * cut into frames without decoding them.  One frame is held at a time, so memory stays at the
 * size of the largest frame however long the stream is. */
#ifndef TN_FRAMES_H
#define TN_FRAMES_H

#include <stddef.h>
#include <stdint.h>

struct tn_frames {
	int fd;
	const char *name; /* for messages, e.g. "standard input" */
	uint8_t *buf;
	size_t cap, len;  /* bytes held; the current frame is buf[0, frame_len) */
	size_t frame_len;
	long count;       /* frames returned so far */
	int eof;
};

void tn_frames_init(struct tn_frames *f, int fd, const char *name);
/* The next frame: 1 with *data, *len valid until the next call, 0 at the end of the stream, or
 * a negative TN_E_* code (read error, out of memory, bytes that start no image).  A frame cut
 * short by the end of the stream, and a first frame in no format known here, are returned
 * whole so that the decoder says what is wrong with them. */
int tn_frames_next(struct tn_frames *f, const uint8_t **data, size_t *len);
/* 1 when more bytes follow the current frame (waits for them or for the end), 0 if not,
 * negative on a read error. */
int tn_frames_more(struct tn_frames *f);
void tn_frames_free(struct tn_frames *f);

/* The length of the image at the start of buf: > 0 when complete, 0 when more bytes are
 * needed, -1 when buf starts no JPEG, PNG or binary PNM (P5/P6) image or its structure is
 * broken.  Exposed for the tests and the fuzzer. */
long long tn_frame_length(const uint8_t *buf, size_t len);

/* One number of a PNM header at *p, after white space and # comments: 1 when read (and *p moved
 * past it), 0 when the bytes end before the number does, -1 when something else is there. */
int tn_pnm_field(const uint8_t *buf, size_t len, size_t *p, unsigned long *v);

#endif
