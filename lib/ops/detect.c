/* YOLOv5 Detect's decoding (models/yolo.py, inference): the network's last op. */
#include "ops/detect.h"

#include "core/error.h"
#include "core/tensor.h"
#include "ops/fastmath.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t tn_detect_decode_work(int no, int nthreads)
{
	return (size_t)(nthreads > 0 ? nthreads : 1) * no * TN_DETECT_BLOCK;
}

/* In blocks of TN_DETECT_BLOCK pixels of one anchor: each of the no planes' block is copied
 * into work and put through the vector sigmoid there, then written out as rows. */
void tn_detect_decode(const float *x, int na, int no, int h, int w, float stride, const float *anchors,
		      float *y, float *work, int nthreads)
{
	const size_t hw = (size_t)h * w, B = TN_DETECT_BLOCK;
	const long nblk = (long)((hw + B - 1) / B), ntasks = na * nblk;
#pragma omp parallel num_threads(nthreads)
	{
		float *t = work + (size_t)omp_get_thread_num() * no * B;
#pragma omp for schedule(static)
		for (long task = 0; task < ntasks; task++) {
			const int a = (int)(task / nblk);
			const size_t p0 = (size_t)(task % nblk) * B, n = hw - p0 < B ? hw - p0 : B;
			const float *src = x + (size_t)a * no * hw + p0;
			for (int k = 0; k < no; k++)
				memcpy(t + k * B, src + (size_t)k * hw, sizeof(float) * n);
			tn_sigmoid_rows(t, B, no, n);
			const float aw = anchors[(size_t)a * 2] * stride, ah = anchors[(size_t)a * 2 + 1] * stride;
			for (size_t i = 0; i < n; i++) {
				const size_t p = p0 + i;
				float *r = y + ((size_t)a * hw + p) * no;
				for (int k = 0; k < no; k++)
					r[k] = t[k * B + i];
				const float gx = (float)(p % w), gy = (float)(p / w);
				r[0] = (r[0] * 2.0f - 0.5f + gx) * stride;
				r[1] = (r[1] * 2.0f - 0.5f + gy) * stride;
				r[2] = (r[2] * 2.0f) * (r[2] * 2.0f) * aw;
				r[3] = (r[3] * 2.0f) * (r[3] * 2.0f) * ah;
			}
		}
	}
}
