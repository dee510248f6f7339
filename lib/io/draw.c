#include "io/draw.h"

#include <ctype.h>
#include <string.h>

/* A 5x7 font for digits, upper-case letters and a little punctuation: 7 rows of 5 bits each,
 * most significant bit on the left. */
static const struct {
	char c;
	uint8_t rows[7];
} font[] = {
	{'0', {14, 17, 19, 21, 25, 17, 14}}, {'1', {4, 12, 4, 4, 4, 4, 14}},
	{'2', {14, 17, 1, 2, 4, 8, 31}},     {'3', {31, 2, 4, 2, 1, 17, 14}},
	{'4', {2, 6, 10, 18, 31, 2, 2}},     {'5', {31, 16, 30, 1, 1, 17, 14}},
	{'6', {6, 8, 16, 30, 17, 17, 14}},   {'7', {31, 1, 2, 4, 8, 8, 8}},
	{'8', {14, 17, 17, 14, 17, 17, 14}}, {'9', {14, 17, 17, 15, 1, 2, 12}},
	{'A', {14, 17, 17, 31, 17, 17, 17}}, {'B', {30, 17, 17, 30, 17, 17, 30}},
	{'C', {14, 17, 16, 16, 16, 17, 14}}, {'D', {28, 18, 17, 17, 17, 18, 28}},
	{'E', {31, 16, 16, 30, 16, 16, 31}}, {'F', {31, 16, 16, 30, 16, 16, 16}},
	{'G', {14, 17, 16, 23, 17, 17, 15}}, {'H', {17, 17, 17, 31, 17, 17, 17}},
	{'I', {14, 4, 4, 4, 4, 4, 14}},      {'J', {7, 2, 2, 2, 2, 18, 12}},
	{'K', {17, 18, 20, 24, 20, 18, 17}}, {'L', {16, 16, 16, 16, 16, 16, 31}},
	{'M', {17, 27, 21, 21, 17, 17, 17}}, {'N', {17, 17, 25, 21, 19, 17, 17}},
	{'O', {14, 17, 17, 17, 17, 17, 14}}, {'P', {30, 17, 17, 30, 16, 16, 16}},
	{'Q', {14, 17, 17, 17, 21, 18, 13}}, {'R', {30, 17, 17, 30, 20, 18, 17}},
	{'S', {15, 16, 16, 14, 1, 1, 30}},   {'T', {31, 4, 4, 4, 4, 4, 4}},
	{'U', {17, 17, 17, 17, 17, 17, 14}}, {'V', {17, 17, 17, 17, 17, 10, 4}},
	{'W', {17, 17, 17, 21, 21, 21, 10}}, {'X', {17, 17, 10, 4, 10, 17, 17}},
	{'Y', {17, 17, 10, 4, 4, 4, 4}},     {'Z', {31, 1, 2, 4, 8, 16, 31}},
	{'.', {0, 0, 0, 0, 0, 12, 12}},      {'-', {0, 0, 0, 31, 0, 0, 0}},
	{'_', {0, 0, 0, 0, 0, 0, 31}},       {':', {0, 12, 12, 0, 12, 12, 0}},
	{'%', {24, 25, 2, 4, 8, 19, 3}},     {'/', {0, 1, 2, 4, 8, 16, 0}},
};

static void put(struct tn_image *img, int x, int y, const uint8_t rgb[3])
{
	if (x < 0 || y < 0 || x >= img->w || y >= img->h)
		return;
	memcpy(img->px + ((size_t)y * img->w + x) * 3, rgb, 3);
}

void tn_draw_fill(struct tn_image *img, int x1, int y1, int x2, int y2, const uint8_t rgb[3])
{
	x1 = x1 < 0 ? 0 : x1;
	y1 = y1 < 0 ? 0 : y1;
	x2 = x2 >= img->w ? img->w - 1 : x2;
	y2 = y2 >= img->h ? img->h - 1 : y2;
	for (int y = y1; y <= y2; y++)
		for (int x = x1; x <= x2; x++)
			put(img, x, y, rgb);
}

void tn_draw_rect(struct tn_image *img, int x1, int y1, int x2, int y2, const uint8_t rgb[3], int thick)
{
	for (int t = 0; t < thick; t++) {
		tn_draw_fill(img, x1 + t, y1 + t, x2 - t, y1 + t, rgb);
		tn_draw_fill(img, x1 + t, y2 - t, x2 - t, y2 - t, rgb);
		tn_draw_fill(img, x1 + t, y1 + t, x1 + t, y2 - t, rgb);
		tn_draw_fill(img, x2 - t, y1 + t, x2 - t, y2 - t, rgb);
	}
}

int tn_draw_text_width(const char *s, int scale)
{
	return (int)strlen(s) * 6 * scale;
}

int tn_draw_text(struct tn_image *img, int x, int y, const char *s, const uint8_t rgb[3], int scale)
{
	int x0 = x;
	for (; *s; s++, x += 6 * scale) {
		char c = (char)toupper((unsigned char)*s);
		const uint8_t *rows = NULL;
		for (size_t i = 0; i < sizeof font / sizeof *font; i++)
			if (font[i].c == c)
				rows = font[i].rows;
		if (!rows)
			continue;
		for (int ry = 0; ry < 7; ry++)
			for (int rx = 0; rx < 5; rx++)
				if (rows[ry] & (16 >> rx))
					for (int dy = 0; dy < scale; dy++)
						for (int dx = 0; dx < scale; dx++)
							put(img, x + rx * scale + dx, y + ry * scale + dy, rgb);
	}
	return x - x0;
}

void tn_draw_label_origin(int iw, int ih, int x1, int y1, int w, int h, int *x, int *y)
{
	int tx = x1 + w > iw ? iw - w : x1;
	int ty = y1 - h >= 0 ? y1 - h : y1;
	if (ty + h > ih)
		ty = ih - h;
	*x = tx < 0 ? 0 : tx;
	*y = ty < 0 ? 0 : ty;
}
