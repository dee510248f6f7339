/* YOLO label-file parsing for one image, then the metrics over those labels.  The first byte
 * chooses a fixed class count (0: taken from the labels). */
#include "fuzz_common.h"
#include "eval/map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct tn_map_data d;
	if (tn_map_init(&d, data[0] % 8))
		return 0;
	uint32_t idx;
	if (tn_map_image_index(&d, "img", 0, 1, &idx) == 0 && (d.images[idx].has_label_file = 1) &&
	    tn_map_parse_labels(&d, idx, (const char *)data + 1, size - 1, "img.txt") == 0) {
		struct tn_map_result r;
		if (tn_map_compute(&d, &r) == 0)
			tn_map_result_free(&r);
	}
	tn_map_free(&d);
	return 0;
}
