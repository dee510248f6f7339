/* Label-mask decoding (palette/gray PNG, PGM) with a 1 Mpixel limit. */
#include "fuzz_common.h"
#include "io/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tn_image img;
	if (tn_mask_decode(data, size, "fuzz", 1u << 20, &img) == 0) {
		if (img.channels != 1 || img.w <= 0 || img.h <= 0 || (size_t)img.w * img.h > (1u << 20))
			abort();
		volatile uint8_t sink = img.px[(size_t)img.w * img.h - 1];
		(void)sink;
		tn_image_free(&img);
	}
	return 0;
}
