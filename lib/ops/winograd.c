/* Winograd F(4x4, 3x3) with the interpolation points 0, +-1, +-2 and infinity (Lavin & Gray).
 *   U = G g G^T (6x6 per filter), V = B^T d B (6x6 per input tile), Y = A^T (sum_c U . V) A.
 * Tiles are processed in chunks so the transformed input and products stay a few MB. */
#include "ops/winograd.h"

#include <blis.h>
#include <string.h>

#define TILE 4
#define ALPHA 6
#define NPOS (ALPHA * ALPHA)
#define CHUNK_FLOATS (8u << 20) /* transformed input + products per chunk */

/* On maps of 16 tiles or fewer (16x16 and smaller) the 36 GEMMs are too thin to pay for the
 * transforms unless there are many input channels (measured on GoogLeNet's 14x14 and 7x7 layers). */
int tn_winograd_eligible(const struct tn_conv *cv, int h, int w)
{
	if (!(cv->kh == 3 && cv->kw == 3 && cv->stride == 1 && cv->dil == 1 && cv->groups == 1 &&
	      cv->cin >= 16 && cv->cout >= 16 && h >= 8 && w >= 8))
		return 0;
	int oh = h + 2 * cv->pad - 2, ow = w + 2 * cv->pad - 2;
	int ntiles = ((oh + TILE - 1) / TILE) * ((ow + TILE - 1) / TILE);
	return ntiles > 16 || cv->cin >= 64;
}

size_t tn_winograd_weight_floats(const struct tn_conv *cv)
{
	return (size_t)NPOS * cv->cout * cv->cin;
}

void tn_winograd_transform_weights(const struct tn_conv *cv, float *u)
{
	static const double G[ALPHA][3] = {
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	};
	const size_t plane = (size_t)cv->cout * cv->cin;
#pragma omp parallel for schedule(static)
	for (int o = 0; o < cv->cout; o++)
		for (int c = 0; c < cv->cin; c++) {
			const float *g = cv->weight + ((size_t)o * cv->cin + c) * 9;
			double tmp[ALPHA][3];
			for (int i = 0; i < ALPHA; i++)
				for (int j = 0; j < 3; j++)
					tmp[i][j] = G[i][0] * g[0 * 3 + j] + G[i][1] * g[1 * 3 + j] + G[i][2] * g[2 * 3 + j];
			for (int i = 0; i < ALPHA; i++)
				for (int j = 0; j < ALPHA; j++) {
					double v = tmp[i][0] * G[j][0] + tmp[i][1] * G[j][1] + tmp[i][2] * G[j][2];
					u[(size_t)(i * ALPHA + j) * plane + (size_t)o * cv->cin + c] = (float)v;
				}
		}
}

static int tiles_per_chunk(const struct tn_conv *cv, int ntiles)
{
	size_t per_tile = (size_t)NPOS * (cv->cin + cv->cout);
	size_t t = CHUNK_FLOATS / per_tile;
	if (t < 16)
		t = 16;
	if (t > (size_t)ntiles)
		t = (size_t)ntiles;
	return (int)t;
}

size_t tn_winograd_workspace(const struct tn_conv *cv, int h, int w)
{
	int oh = h + 2 * cv->pad - 2, ow = w + 2 * cv->pad - 2;
	int ntiles = ((oh + TILE - 1) / TILE) * ((ow + TILE - 1) / TILE);
	return (size_t)tiles_per_chunk(cv, ntiles) * NPOS * (cv->cin + cv->cout);
}

/* V = B^T d B for one 6x6 patch d, written with stride vs between positions. */
static inline void input_transform(const float d[ALPHA][ALPHA], float *v, size_t vs)
{
	float t[ALPHA][ALPHA];
	for (int j = 0; j < ALPHA; j++) {
		float d0 = d[0][j], d1 = d[1][j], d2 = d[2][j], d3 = d[3][j], d4 = d[4][j], d5 = d[5][j];
		t[0][j] = 4 * d0 - 5 * d2 + d4;
		t[1][j] = -4 * (d1 + d2) + d3 + d4;
		t[2][j] = 4 * (d1 - d2) - d3 + d4;
		t[3][j] = -2 * (d1 - d3) - d2 + d4;
		t[4][j] = 2 * (d1 - d3) - d2 + d4;
		t[5][j] = 4 * d1 - 5 * d3 + d5;
	}
	for (int i = 0; i < ALPHA; i++) {
		float d0 = t[i][0], d1 = t[i][1], d2 = t[i][2], d3 = t[i][3], d4 = t[i][4], d5 = t[i][5];
		float *r = v + (size_t)i * ALPHA * vs;
		r[0 * vs] = 4 * d0 - 5 * d2 + d4;
		r[1 * vs] = -4 * (d1 + d2) + d3 + d4;
		r[2 * vs] = 4 * (d1 - d2) - d3 + d4;
		r[3 * vs] = -2 * (d1 - d3) - d2 + d4;
		r[4 * vs] = 2 * (d1 - d3) - d2 + d4;
		r[5 * vs] = 4 * d1 - 5 * d3 + d5;
	}
}

/* Y = A^T m A for one tile of products m (read with stride ms between positions). */
static inline void output_transform(const float *m, size_t ms, float y[TILE][TILE])
{
	float t[TILE][ALPHA];
	for (int j = 0; j < ALPHA; j++) {
		float m0 = m[(0 * ALPHA + j) * ms], m1 = m[(1 * ALPHA + j) * ms], m2 = m[(2 * ALPHA + j) * ms];
		float m3 = m[(3 * ALPHA + j) * ms], m4 = m[(4 * ALPHA + j) * ms], m5 = m[(5 * ALPHA + j) * ms];
		float a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4;
		t[0][j] = m0 + a + c;
		t[1][j] = b + 2 * d;
		t[2][j] = a + 4 * c;
		t[3][j] = b + 8 * d + m5;
	}
	for (int i = 0; i < TILE; i++) {
		float m0 = t[i][0], m1 = t[i][1], m2 = t[i][2], m3 = t[i][3], m4 = t[i][4], m5 = t[i][5];
		float a = m1 + m2, b = m1 - m2, c = m3 + m4, d = m3 - m4;
		y[i][0] = m0 + a + c;
		y[i][1] = b + 2 * d;
		y[i][2] = a + 4 * c;
		y[i][3] = b + 8 * d + m5;
	}
}

void tn_winograd_conv(const struct tn_conv *cv, const float *u, const float *x, int h, int w, float *y,
		      float *work)
{
	const int cin = cv->cin, cout = cv->cout, pad = cv->pad;
	const int oh = h + 2 * pad - 2, ow = w + 2 * pad - 2;
	const int tw = (ow + TILE - 1) / TILE, th = (oh + TILE - 1) / TILE;
	const int ntiles = tw * th;
	const int chunk = tiles_per_chunk(cv, ntiles);
	float *v = work;                               /* [36][cin][chunk] */
	float *m = work + (size_t)NPOS * cin * chunk;  /* [36][cout][chunk] */
	const size_t plane = (size_t)cout * cin;
	for (int t0 = 0; t0 < ntiles; t0 += chunk) {
		const int nt = ntiles - t0 < chunk ? ntiles - t0 : chunk;
#pragma omp parallel for schedule(static)
		for (int c = 0; c < cin; c++) {
			const float *xc = x + (size_t)c * h * w;
			for (int k = 0; k < nt; k++) {
				int ty = (t0 + k) / tw, tx = (t0 + k) % tw;
				int y0 = ty * TILE - pad, x0 = tx * TILE - pad;
				float d[ALPHA][ALPHA];
				if (y0 >= 0 && x0 >= 0 && y0 + ALPHA <= h && x0 + ALPHA <= w) {
					/* inside the image: plain row copies */
					for (int i = 0; i < ALPHA; i++)
						memcpy(d[i], xc + (size_t)(y0 + i) * w + x0, sizeof d[i]);
				} else {
					for (int i = 0; i < ALPHA; i++) {
						int iy = y0 + i;
						for (int j = 0; j < ALPHA; j++) {
							int ix = x0 + j;
							d[i][j] = (iy >= 0 && iy < h && ix >= 0 && ix < w) ? xc[(size_t)iy * w + ix]
													    : 0.0f;
						}
					}
				}
				input_transform(d, v + (size_t)c * nt + k, (size_t)cin * nt);
			}
		}
		float one = 1.0f, zero = 0.0f;
		for (int p = 0; p < NPOS; p++)
			bli_sgemm(BLIS_NO_TRANSPOSE, BLIS_NO_TRANSPOSE, cout, nt, cin, &one, (float *)u + p * plane,
				  cin, 1, v + (size_t)p * cin * nt, nt, 1, &zero, m + (size_t)p * cout * nt, nt, 1);
#pragma omp parallel for schedule(static)
		for (int o = 0; o < cout; o++) {
			float *yo = y + (size_t)o * oh * ow;
			for (int k = 0; k < nt; k++) {
				int ty = (t0 + k) / tw, tx = (t0 + k) % tw;
				float out[TILE][TILE];
				output_transform(m + (size_t)o * nt + k, (size_t)cout * nt, out);
				if (ty * TILE + TILE <= oh && tx * TILE + TILE <= ow) {
					for (int i = 0; i < TILE; i++)
						memcpy(yo + (size_t)(ty * TILE + i) * ow + tx * TILE, out[i], sizeof out[i]);
				} else {
					for (int i = 0; i < TILE && ty * TILE + i < oh; i++)
						for (int j = 0; j < TILE && tx * TILE + j < ow; j++)
							yo[(size_t)(ty * TILE + i) * ow + tx * TILE + j] = out[i][j];
				}
			}
		}
	}
}
