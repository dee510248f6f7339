/* YOLOv5 Detect's decoding (models/yolo.py, inference): the network's last op. */
#include "ops/detect.h"

#include "core/error.h"
#include "core/tensor.h"
#include "ops/fastmath.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tn_detect_decode(const float *x, int na, int no, int h, int w, float stride, const float *anchors,
		      float *y)
{
	const size_t hw = (size_t)h * w;
#pragma omp parallel for schedule(static)
	for (int a = 0; a < na; a++)
		for (size_t p = 0; p < hw; p++) {
			float *r = y + ((size_t)a * hw + p) * no;
			const float *src = x + (size_t)a * no * hw + p;
			for (int k = 0; k < no; k++)
				r[k] = tn_sigmoidf(src[(size_t)k * hw]);
			float gx = (float)(p % w), gy = (float)(p / w);
			r[0] = (r[0] * 2.0f - 0.5f + gx) * stride;
			r[1] = (r[1] * 2.0f - 0.5f + gy) * stride;
			float aw = anchors[(size_t)a * 2] * stride, ah = anchors[(size_t)a * 2 + 1] * stride;
			r[2] = (r[2] * 2.0f) * (r[2] * 2.0f) * aw;
			r[3] = (r[3] * 2.0f) * (r[3] * 2.0f) * ah;
		}
}
