/* Detections: up to the first NUL a label file for image "1" (so detections can match labels),
 * the rest a detection stream (JSON lines or a COCO results array); then the metrics. */
#include "fuzz_common.h"
#include "eval/map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tn_map_data d;
	if (tn_map_init(&d, 0))
		return 0;
	const char *s = (const char *)data;
	const char *nul = memchr(s, 0, size);
	size_t pos = 0;
	int rc = 0;
	if (nul) {
		uint32_t idx;
		rc = tn_map_image_index(&d, "1", 0, 1, &idx);
		if (!rc) {
			d.images[idx].has_label_file = 1; /* as tn_map_load_labels marks it */
			rc = tn_map_parse_labels(&d, idx, s, (size_t)(nul - s), "1.txt");
		}
		pos = (size_t)(nul - s) + 1;
	}
	FILE *fp = !rc && pos < size ? fmemopen((void *)(s + pos), size - pos, "r") : NULL;
	if (fp) {
		d.array_ids = (enum tn_map_ids)(size % 3);
		rc = tn_map_read_dets(&d, fp, "fuzz.dets");
		fclose(fp);
	}
	if (!rc) {
		struct tn_map_result r;
		if (tn_map_compute(&d, &r) == 0)
			tn_map_result_free(&r);
	}
	tn_map_free(&d);
	return 0;
}
