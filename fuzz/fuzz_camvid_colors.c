/* The camvid-prep colour tables (label_colors.txt, and class_dict.csv when the first byte is odd);
 * an accepted table maps a small image of its own colours, each to its own class. */
#include "fuzz_common.h"
#include "data/camvid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tn_camvid_colors c;
	if (size == 0)
		return 0;
	int csv = data[0] & 1;
	int rc = csv ? tn_camvid_parse_class_dict((const char *)data + 1, size - 1, "fuzz.csv", &c)
		     : tn_camvid_parse_colors((const char *)data + 1, size - 1, "fuzz.txt", &c);
	if (rc)
		return 0;
	uint8_t map[TN_CAMVID_MAX_CLASSES];
	for (int i = 0; i < c.n; i++)
		map[i] = (uint8_t)i;
	static struct tn_camvid_lut lut;
	tn_camvid_lut_init(&lut, &c, map);
	uint8_t px[3 * 8], out[8];
	for (int i = 0; i < 8; i++)
		memcpy(px + 3 * i, c.cls[i % c.n].rgb, 3);
	struct tn_image im = {.w = 4, .h = 2, .channels = 3, .px = px};
	if (tn_camvid_map_rgb(&lut, &im, "fuzz", -1, out, NULL))
		abort();
	for (int i = 0; i < 8; i++)
		if (out[i] != i % c.n)
			abort();
	return 0;
}
