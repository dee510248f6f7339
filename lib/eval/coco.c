#include "eval/coco.h"

#include <string.h>

/* Category ids 12, 26, 29, 30, 45, 66, 68, 69, 71 and 83 were dropped from COCO's detection set. */
static const unsigned char coco91[TN_COCO_CLASSES] = {
	1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21,
	22, 23, 24, 25, 27, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
	46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65,
	67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
};

static const char *const coco80_names[TN_COCO_CLASSES] = {
	"person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
	"traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
	"horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
	"handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
	"baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
	"wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich", "orange",
	"broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch", "potted plant",
	"bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
	"microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
	"teddy bear", "hair drier", "toothbrush",
};

/* Spellings of YOLOv5 releases before coco.yaml was renamed. */
static const struct {
	int cls;
	const char *name;
} legacy[] = {
	{3, "motorbike"}, {4, "aeroplane"}, {57, "sofa"}, {58, "pottedplant"}, {60, "diningtable"}, {62, "tvmonitor"},
};

int tn_coco80_to_91(int cls)
{
	return cls >= 0 && cls < TN_COCO_CLASSES ? coco91[cls] : -1;
}

int tn_coco91_to_80(int id)
{
	for (int c = 0; c < TN_COCO_CLASSES; c++)
		if (coco91[c] == id)
			return c;
	return -1;
}

static int name_matches(int cls, const char *name)
{
	if (!strcmp(name, coco80_names[cls]))
		return 1;
	for (size_t k = 0; k < sizeof legacy / sizeof legacy[0]; k++)
		if (legacy[k].cls == cls && !strcmp(name, legacy[k].name))
			return 1;
	return 0;
}

int tn_names_are_coco80(const char *const *names, int n)
{
	if (n != TN_COCO_CLASSES || !names)
		return 0;
	for (int c = 0; c < n; c++)
		if (!names[c] || !name_matches(c, names[c]))
			return 0;
	return 1;
}
