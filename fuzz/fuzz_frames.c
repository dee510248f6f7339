/* Frame streams on standard input: the splitter read through a file descriptor (its buffering
 * and compaction) must cut the bytes exactly where tn_frame_length says, and every frame decodes
 * or is refused with a message. */
#include "fuzz_common.h"
#include "io/frames.h"
#include "io/image.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("frames", 0);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	struct tn_frames f;
	tn_frames_init(&f, fd, "fuzz");
	const uint8_t *d;
	size_t len, off = 0;
	int r;
	while ((r = tn_frames_next(&f, &d, &len)) > 0) {
		if (len == 0 || len > size - off || memcmp(d, data + off, len) != 0)
			abort();
		long long n = tn_frame_length(data + off, size - off);
		/* a frame is what the splitter measures, or (first frame unknown, or cut short) the rest */
		if (!(n == (long long)len || (n <= 0 && len == size - off)))
			abort();
		struct tn_image img;
		if (tn_image_decode_rgb(d, len, "fuzz", 1u << 20, &img) == 0)
			tn_image_free(&img);
		off += len;
	}
	tn_frames_free(&f);
	close(fd);
	return 0;
}
