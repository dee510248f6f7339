/* lib/eval/coco: the 80-class <-> 91-category id table and the COCO-names test, by hand and
 * against torchvision's list of COCO's 91 categories (index = category id, "N/A" = unused). */
#include "check.h"
#include "eval/coco.h"

#include <stdio.h>
#include <string.h>

/* torchvision's COCO category list, one name per line: index 0 is the background. */
static char cats[91][32];

static int read_torchvision(void)
{
	FILE *p = popen("/usr/bin/python3 -c 'from torchvision.models.detection import "
			"FasterRCNN_ResNet50_FPN_Weights as W\n"
			"print(\"\\n\".join(W.COCO_V1.meta[\"categories\"]))' 2>/dev/null",
			"r");
	if (!p)
		return -1;
	int n = 0;
	char line[64];
	while (n < 92 && fgets(line, sizeof line, p)) {
		line[strcspn(line, "\n")] = 0;
		if (n < 91)
			snprintf(cats[n], sizeof cats[n], "%s", line);
		n++;
	}
	return pclose(p) == 0 && n == 91 ? 0 : -1;
}

int main(void)
{
	CHECK(tn_coco80_to_91(0) == 1, "class 0 (person) is category 1");
	CHECK(tn_coco80_to_91(11) == 13, "class 11 (stop sign) is category 13: 12 is unused");
	CHECK(tn_coco80_to_91(79) == 90, "class 79 (toothbrush) is category 90");
	CHECK(tn_coco80_to_91(-1) == -1 && tn_coco80_to_91(80) == -1, "no category outside 0..79");
	CHECK(tn_coco91_to_80(1) == 0 && tn_coco91_to_80(13) == 11 && tn_coco91_to_80(90) == 79,
	      "categories 1, 13, 90 are classes 0, 11, 79");
	CHECK(tn_coco91_to_80(12) == -1 && tn_coco91_to_80(83) == -1, "unused categories 12 and 83 are -1");
	CHECK(tn_coco91_to_80(0) == -1 && tn_coco91_to_80(91) == -1 && tn_coco91_to_80(-5) == -1,
	      "0, 91 and negatives are no category");
	int round = 1;
	for (int c = 0; c < TN_COCO_CLASSES; c++)
		round &= tn_coco91_to_80(tn_coco80_to_91(c)) == c && (c == 0 || tn_coco80_to_91(c) > tn_coco80_to_91(c - 1));
	CHECK(round, "the table is increasing and its inverse is exact");

	if (read_torchvision()) {
		SKIP("torchvision's COCO category list (python3-torchvision not usable)");
		return check_done();
	}
	const char *names[TN_COCO_CLASSES];
	int k = 0, same = 1;
	for (int id = 1; id <= 90; id++) {
		if (!strcmp(cats[id], "N/A")) {
			same &= tn_coco91_to_80(id) == -1;
			continue;
		}
		same &= k < TN_COCO_CLASSES && tn_coco91_to_80(id) == k && tn_coco80_to_91(k) == id;
		if (k < TN_COCO_CLASSES)
			names[k] = cats[id];
		k++;
	}
	CHECK(same && k == TN_COCO_CLASSES, "every category id maps as torchvision's list numbers them");
	CHECK(tn_names_are_coco80(names, TN_COCO_CLASSES), "torchvision's 80 names are COCO's");
	/* the older YOLOv5 spellings (coco.yaml before the rename) */
	const char *legacy[TN_COCO_CLASSES];
	memcpy(legacy, names, sizeof legacy);
	legacy[3] = "motorbike";
	legacy[4] = "aeroplane";
	legacy[57] = "sofa";
	legacy[58] = "pottedplant";
	legacy[60] = "diningtable";
	legacy[62] = "tvmonitor";
	CHECK(tn_names_are_coco80(legacy, TN_COCO_CLASSES), "the legacy spellings are COCO's names too");
	legacy[62] = "sofa";
	CHECK(!tn_names_are_coco80(legacy, TN_COCO_CLASSES), "a legacy spelling in the wrong place is not");
	const char *swapped[TN_COCO_CLASSES];
	memcpy(swapped, names, sizeof swapped);
	swapped[1] = names[2];
	swapped[2] = names[1];
	CHECK(!tn_names_are_coco80(swapped, TN_COCO_CLASSES), "COCO's names in another order are not");
	CHECK(!tn_names_are_coco80(names, 79) && !tn_names_are_coco80(NULL, 80), "79 names, or none, are not");
	return check_done();
}
