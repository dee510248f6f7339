/* The YOLOv5 yaml builder on arbitrary text, for a 64x64 input, without weights or attributes.
 * Inputs are capped at 16 KB: the real configs are about 2 KB. */
#include "fuzz_common.h"
#include "models/yolo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16384)
		return 0;
	char *text = fuzz_strdup(data, size);
	if (!text)
		return 0;
	struct tn_net net;
	struct tn_yolo_info info;
	if (tn_yolo_build(&net, text, "fuzz.yaml", NULL, NULL, 64, 64, &info) == 0)
		tn_net_free(&net);
	free(text);
	return 0;
}
