/* The two letterbox wrappers on small decoded images.  The first 6 bytes choose the target size,
 * stride, auto-rect flag and fill; the rest is the image (64 Kpixel limit keeps runs fast). */
#include "fuzz_common.h"
#include "image/letterbox_cv.h"
#include "image/resample.h"
#include "io/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 6)
		return 0;
	int want_w = 1 + data[0] % 160, want_h = 1 + data[1] % 160;
	int stride = data[2] % 65; /* 0 is refused with auto-rect */
	int auto_rect = data[3] & 1, pil = data[3] & 2;
	uint8_t fill = data[4];
	(void)data[5];
	struct tn_image img;
	if (tn_image_decode_rgb(data + 6, size - 6, "fuzz", 1u << 16, &img))
		return 0;
	struct tn_image out;
	if (pil) {
		struct tn_letterbox lb;
		if (tn_letterbox_pil(&img, want_w, want_h, fill, &out, &lb) == 0) {
			if (out.w != want_w || out.h != want_h || lb.nw > want_w || lb.nh > want_h)
				abort();
			tn_image_free(&out);
		}
	} else {
		struct tn_yolo_letterbox lb;
		if (tn_letterbox_yolo(&img, want_h, want_w, stride, auto_rect, fill, &out, &lb) == 0) {
			if (out.w <= 0 || out.h <= 0 || out.w > want_w || out.h > want_h)
				abort();
			tn_image_free(&out);
		}
	}
	tn_image_free(&img);
	return 0;
}
