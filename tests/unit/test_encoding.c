/* EncNet's Encoding layer: the blocked, threaded kernel against the pixel-by-pixel reference
 * over a sweep of shapes (pixel counts around the 64-pixel block, soft and peaked assignments),
 * and the channel gate against its formula. */
#include "check.h"

#include "ops/encoding.h"

#include <math.h>
#include <stdlib.h>

static float frand(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return (float)((*s >> 8) & 0xffff) / 65536.0f;
}

int main(void)
{
	static const int cs[] = {1, 3, 64, 512};
	static const size_t hws[] = {1, 63, 64, 65, 300};
	static const int ks[] = {1, 4, 32};
	static const float temps[] = {0.01f, 1.0f}; /* soft, peaked */
	unsigned seed = 7;
	for (size_t a = 0; a < sizeof cs / sizeof *cs; a++)
		for (size_t b = 0; b < sizeof hws / sizeof *hws; b++)
			for (size_t d = 0; d < sizeof ks / sizeof *ks; d++)
				for (size_t t = 0; t < 2; t++) {
					int c = cs[a], k = ks[d];
					size_t hw = hws[b];
					float *x = malloc(sizeof(float) * c * hw), *cw = malloc(sizeof(float) * k * c);
					float *e1 = malloc(sizeof(float) * c), *e2 = malloc(sizeof(float) * c);
					float sc[32], w[32], bb[32], m[32], v[32];
					for (size_t i = 0; i < (size_t)c * hw; i++)
						x[i] = frand(&seed) * 2.0f;
					for (int i = 0; i < k * c; i++)
						cw[i] = frand(&seed) * 2.0f;
					for (int j = 0; j < k; j++) {
						sc[j] = -temps[t] * (0.5f + frand(&seed));
						w[j] = 0.5f + frand(&seed);
						bb[j] = frand(&seed) - 0.5f;
						m[j] = frand(&seed) * (float)hw * 0.1f;
						v[j] = 0.5f + frand(&seed) * (float)hw;
					}
					size_t nw = 0;
					int r0 = tn_encoding_workspace(c, hw, k, &nw);
					float *work = malloc(sizeof(float) * nw);
					int r1 = tn_encoding(x, c, hw, k, cw, sc, w, bb, m, v, 1e-5f, work, e1);
					int r2 = tn_encoding_ref(x, c, hw, k, cw, sc, w, bb, m, v, 1e-5f, e2);
					double worst = 0.0, scale = 1e-6;
					for (int i = 0; i < c; i++) {
						worst = fmax(worst, fabs((double)e1[i] - e2[i]));
						scale = fmax(scale, fabs((double)e2[i]));
					}
					CHECK(!r0 && !r1 && !r2 && worst <= 1e-5 * scale,
					      "encoding c=%d hw=%zu k=%d scale x%g: max diff %.3g of max %.3g", c, hw, k,
					      (double)temps[t], worst, scale);
					free(work);
					free(x);
					free(cw);
					free(e1);
					free(e2);
				}
	float x[6] = {-2.0f, -0.5f, 0.0f, 0.25f, 1.0f, 3.0f}, g[2] = {-1.0f, 2.0f}, y[6];
	tn_channel_gate(x, 2, 3, g, y);
	int ok = 1;
	for (int i = 0; i < 6; i++) {
		float gamma = 1.0f / (1.0f + expf(-g[i / 3]));
		float want = x[i] + x[i] * gamma;
		ok &= y[i] == (want > 0.0f ? want : 0.0f);
	}
	CHECK(ok, "channel gate: relu(x + x * sigmoid(g)) per channel");
	CHECK(tn_encoding(x, 0, 3, 1, g, g, g, g, g, g, 1e-5f, NULL, y) < 0, "encoding with 0 channels is refused");
	return check_done();
}
