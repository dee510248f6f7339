#include "io/frames.h"

#include "core/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A frame may not exceed this: a 16-bit RGB PNM of 100 million pixels is 600 MB. */
#define MAX_FRAME_BYTES ((size_t)1 << 30)

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Markers up to EOI; entropy-coded data after each SOS is skipped up to the next real marker
 * (0xFF followed by a byte that is not stuffing, a restart marker or fill). */
static long long jpeg_length(const uint8_t *b, size_t len)
{
	size_t p = 2;
	int in_scan = 0;
	for (;;) {
		if (in_scan) {
			for (;; p++) {
				if (p + 1 >= len)
					return 0;
				if (b[p] != 0xFF)
					continue;
				uint8_t m = b[p + 1];
				if (m == 0x00 || (m >= 0xD0 && m <= 0xD7) || m == 0xFF)
					continue;
				break;
			}
			in_scan = 0;
		}
		if (p + 2 > len)
			return 0;
		if (b[p] != 0xFF)
			return -1;
		uint8_t m = b[p + 1];
		if (m == 0xFF) { /* fill byte before a marker */
			p++;
			continue;
		}
		if (m == 0xD9)
			return (long long)(p + 2);
		if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
			p += 2;
			continue;
		}
		if (m == 0xD8 || m == 0x00)
			return -1;
		if (p + 4 > len)
			return 0;
		size_t seg = (size_t)b[p + 2] << 8 | b[p + 3];
		if (seg < 2)
			return -1;
		p += 2 + seg;
		in_scan = m == 0xDA;
	}
}

/* Chunks up to and including IEND. */
static long long png_length(const uint8_t *b, size_t len)
{
	size_t p = 8;
	for (;;) {
		if (p + 8 > len)
			return 0;
		uint32_t n = be32(b + p);
		if (n > 0x7fffffffu)
			return -1;
		int iend = memcmp(b + p + 4, "IEND", 4) == 0;
		p += 12 + (size_t)n;
		if (p > MAX_FRAME_BYTES)
			return -1;
		if (iend)
			return p <= len ? (long long)p : 0;
	}
}

int tn_pnm_field(const uint8_t *b, size_t len, size_t *p, unsigned long *v)
{
	for (;;) {
		if (*p >= len)
			return 0;
		if (b[*p] == '#') {
			while (*p < len && b[*p] != '\n' && b[*p] != '\r')
				(*p)++;
		} else if (b[*p] == ' ' || (b[*p] >= '\t' && b[*p] <= '\r')) {
			(*p)++;
		} else {
			break;
		}
	}
	if (b[*p] < '0' || b[*p] > '9')
		return -1;
	unsigned long n = 0;
	while (*p < len && b[*p] >= '0' && b[*p] <= '9') {
		n = n * 10 + (unsigned long)(b[*p] - '0');
		if (n > 0x7fffffff)
			return -1;
		(*p)++;
	}
	if (*p >= len)
		return 0; /* the number may go on */
	*v = n;
	return 1;
}

static long long pnm_length(const uint8_t *b, size_t len)
{
	size_t p = 2;
	unsigned long w = 0, h = 0, maxval = 0;
	int r;
	if ((r = tn_pnm_field(b, len, &p, &w)) <= 0 || (r = tn_pnm_field(b, len, &p, &h)) <= 0 ||
	    (r = tn_pnm_field(b, len, &p, &maxval)) <= 0)
		return r;
	if (p >= len)
		return 0;
	if (!(b[p] == ' ' || (b[p] >= '\t' && b[p] <= '\r')) || maxval == 0 || maxval > 65535)
		return -1;
	p++;
	unsigned long long raster = (unsigned long long)w * h * (b[1] == '6' ? 3 : 1) * (maxval > 255 ? 2 : 1);
	if (raster > MAX_FRAME_BYTES)
		return -1;
	return (long long)(p + raster) <= (long long)len ? (long long)(p + raster) : 0;
}

long long tn_frame_length(const uint8_t *buf, size_t len)
{
	if (len < 3)
		return len == 0 ? 0 : (buf[0] == 0xFF || buf[0] == 0x89 || buf[0] == 'P') ? 0 : -1;
	if (buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF)
		return jpeg_length(buf, len);
	if (buf[0] == 0x89 && buf[1] == 'P' && buf[2] == 'N')
		return len < 8 ? 0 : memcmp(buf, "\x89PNG\r\n\x1a\n", 8) ? -1 : png_length(buf, len);
	if (buf[0] == 'P' && (buf[1] == '5' || buf[1] == '6'))
		return pnm_length(buf, len);
	return -1;
}

void tn_frames_init(struct tn_frames *f, int fd, const char *name)
{
	memset(f, 0, sizeof *f);
	f->fd = fd;
	f->name = name;
}

/* Reads what is available (at least one byte, or the end) after the held bytes. */
static int fill(struct tn_frames *f)
{
	if (f->eof)
		return 0;
	if (f->cap - f->len < 4096) {
		if (f->cap >= MAX_FRAME_BYTES + (1u << 16))
			return tn_fail(TN_E_FORMAT, "%s: frame %ld is over %zu bytes", f->name, f->count + 1,
				       MAX_FRAME_BYTES);
		size_t ncap = f->cap ? 2 * f->cap : 1u << 16;
		uint8_t *nb = realloc(f->buf, ncap + 1);
		if (!nb)
			return tn_fail(TN_E_NOMEM, "%s: out of memory for frame %ld", f->name, f->count + 1);
		f->buf = nb;
		f->cap = ncap;
	}
	for (;;) {
		ssize_t got = read(f->fd, f->buf + f->len, f->cap - f->len);
		if (got > 0) {
			f->len += (size_t)got;
			return 0;
		}
		if (got == 0) {
			f->eof = 1;
			return 0;
		}
		if (errno != EINTR)
			return tn_fail(TN_E_IO, "%s: read error: %s", f->name, strerror(errno));
	}
}

/* Drops the frame handed out last, keeping the bytes after it. */
static void consume(struct tn_frames *f)
{
	if (!f->frame_len)
		return;
	memmove(f->buf, f->buf + f->frame_len, f->len - f->frame_len);
	f->len -= f->frame_len;
	f->frame_len = 0;
}

int tn_frames_more(struct tn_frames *f)
{
	int rc;
	while (f->len == f->frame_len && !f->eof)
		if ((rc = fill(f)))
			return rc;
	return f->len > f->frame_len;
}

int tn_frames_next(struct tn_frames *f, const uint8_t **data, size_t *len)
{
	int rc;
	consume(f);
	size_t scanned = 0; /* rescanning a big JPEG after every small read would be quadratic */
	for (;;) {
		if (f->len == 0 && f->eof)
			return 0;
		long long n = 0;
		if (f->eof || f->len < (1u << 20) || f->len >= 2 * scanned) {
			n = tn_frame_length(f->buf, f->len);
			scanned = f->len;
		}
		if (n > 0) {
			f->frame_len = (size_t)n;
			break;
		}
		if (n < 0 && f->count > 0)
			return tn_fail(TN_E_FORMAT, "%s: the bytes after frame %ld start no JPEG, PNG or PNM image",
				       f->name, f->count);
		if (f->eof) { /* cut short, or (first frame) unknown: the decoder says which */
			f->frame_len = f->len;
			break;
		}
		if ((rc = fill(f)))
			return rc;
	}
	f->count++;
	*data = f->buf;
	*len = f->frame_len;
	return 1;
}

void tn_frames_free(struct tn_frames *f)
{
	free(f->buf);
	memset(f, 0, sizeof *f);
}
