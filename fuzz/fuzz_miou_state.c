/* The evaluate-miou state-file parser; an accepted state is merged into itself and scored. */
#include "fuzz_common.h"
#include "eval/miou.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tn_confusion c;
	if (tn_confusion_parse_state(data, size, "fuzz.state", &c))
		return 0;
	struct tn_confusion d;
	if (tn_confusion_init(&d, c.n) == 0) {
		if (tn_confusion_merge(&d, &c, "fuzz.state") == 0 && tn_confusion_pixels(&d) != tn_confusion_pixels(&c))
			abort();
		tn_confusion_free(&d);
	}
	for (int nan_absent = 0; nan_absent < 2; nan_absent++) {
		struct tn_miou m;
		if (tn_miou_compute(&c, nan_absent, &m) == 0)
			tn_miou_free(&m);
	}
	tn_confusion_free(&c);
	return 0;
}
