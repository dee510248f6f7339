#include "ops/attention.h"

#include <math.h>
#include <string.h>

static float sigmoidf(float v)
{
	return 1.0f / (1.0f + expf(-v));
}

/* Mean over H then W per channel, as torch's adaptive_avg_pool2d to 1x1 (one reduction). */
static void channel_means(const float *x, int c, int h, int w, float *m)
{
	const size_t n = (size_t)h * w;
#pragma omp parallel for schedule(static)
	for (int k = 0; k < c; k++) {
		const float *p = x + (size_t)k * n;
		double acc = 0.0;
		for (size_t i = 0; i < n; i++)
			acc += p[i];
		m[k] = (float)(acc / (double)n);
	}
}

static void scale_channels(const float *x, int c, size_t n, const float *s, float *y)
{
#pragma omp parallel for schedule(static)
	for (int k = 0; k < c; k++) {
		const float *p = x + (size_t)k * n;
		float *q = y + (size_t)k * n;
		for (size_t i = 0; i < n; i++)
			q[i] = p[i] * s[k];
	}
}

size_t tn_se_workspace(int c, int hid)
{
	return 2 * (size_t)c + (size_t)hid;
}

void tn_se(const float *x, int c, int h, int w, const float *w1, const float *w2, int hid, float *work, float *y)
{
	float *m = work, *s = m + c, *z = s + c;
	channel_means(x, c, h, w, m);
	for (int j = 0; j < hid; j++) {
		float acc = 0.0f;
		for (int k = 0; k < c; k++)
			acc += w1[(size_t)j * c + k] * m[k];
		z[j] = acc > 0.0f ? acc : 0.0f;
	}
	for (int k = 0; k < c; k++) {
		float acc = 0.0f;
		for (int j = 0; j < hid; j++)
			acc += w2[(size_t)k * hid + j] * z[j];
		s[k] = sigmoidf(acc);
	}
	scale_channels(x, c, (size_t)h * w, s, y);
}

size_t tn_gate_workspace(int c)
{
	return 2 * (size_t)c;
}

void tn_eca(const float *x, int c, int h, int w, const float *kw, int k, float *work, float *y)
{
	float *m = work, *s = m + c;
	channel_means(x, c, h, w, m);
	int pad = (k - 1) / 2;
	for (int i = 0; i < c; i++) {
		float acc = 0.0f;
		for (int t = 0; t < k; t++) {
			int j = i - pad + t;
			if (j >= 0 && j < c)
				acc += kw[t] * m[j];
		}
		s[i] = sigmoidf(acc);
	}
	scale_channels(x, c, (size_t)h * w, s, y);
}

void tn_effective_se(const float *x, int c, int h, int w, const float *fw, const float *fb, int add_maxpool,
		     float *work, float *y)
{
	float *m = work, *s = m + c;
	const size_t n = (size_t)h * w;
	channel_means(x, c, h, w, m);
	if (add_maxpool)
		for (int k = 0; k < c; k++) {
			const float *p = x + (size_t)k * n;
			float mx = -INFINITY;
			for (size_t i = 0; i < n; i++)
				mx = p[i] > mx ? p[i] : mx;
			m[k] = 0.5f * m[k] + 0.5f * mx;
		}
	for (int o = 0; o < c; o++) {
		float acc = fb[o];
		for (int k = 0; k < c; k++)
			acc += fw[(size_t)o * c + k] * m[k];
		float g = acc + 3.0f;
		g = g < 0.0f ? 0.0f : (g > 6.0f ? 6.0f : g);
		s[o] = g / 6.0f;
	}
	scale_channels(x, c, n, s, y);
}

void tn_shuffle_attention(const float *x, int c, int h, int w, int groups, const float *cweight,
			  const float *cbias, const float *sweight, const float *sbias, const float *gnw,
			  const float *gnb, float *out)
{
	const size_t n = (size_t)h * w;
	const int per = c / groups, half = per / 2;
	/* Channel k of the (b*G, c/G) view is channel g*per + k of x; the concat keeps it in place;
	 * the shuffle then sends channel i (of c) to 2*(i % (c/2)) + i / (c/2). */
#pragma omp parallel for schedule(static)
	for (int ch = 0; ch < c; ch++) {
		int k = ch % per;
		const float *p = x + (size_t)ch * n;
		int dst = 2 * (ch % (c / 2)) + ch / (c / 2);
		float *q = out + (size_t)dst * n;
		double sum = 0.0;
		for (size_t i = 0; i < n; i++)
			sum += p[i];
		float mean = (float)(sum / (double)n);
		if (k < half) {
			float gate = sigmoidf(cweight[k] * mean + cbias[k]);
			for (size_t i = 0; i < n; i++)
				q[i] = p[i] * gate;
		} else {
			int j = k - half;
			double var = 0.0;
			for (size_t i = 0; i < n; i++) {
				double d = p[i] - (double)mean;
				var += d * d;
			}
			float inv = (float)(1.0 / sqrt(var / (double)n + 1e-5));
			for (size_t i = 0; i < n; i++) {
				float gn = (p[i] - mean) * inv * gnw[j] + gnb[j];
				q[i] = p[i] * sigmoidf(sweight[j] * gn + sbias[j]);
			}
		}
	}
}
