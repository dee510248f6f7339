/* The colour palettes of the segmentation masks (bubbliiiing deeplabv3-plus-pytorch, VOC). */
#include "io/image.h"

void tn_palette_voc(uint8_t palette[256][3])
{
	for (int i = 0; i < 256; i++) {
		int c = i, r = 0, g = 0, b = 0;
		for (int j = 0; j < 8; j++) { /* bitget order: low bits go to the high bits */
			r |= (c & 1) << (7 - j);
			g |= ((c >> 1) & 1) << (7 - j);
			b |= ((c >> 2) & 1) << (7 - j);
			c >>= 3;
		}
		palette[i][0] = (uint8_t)r;
		palette[i][1] = (uint8_t)g;
		palette[i][2] = (uint8_t)b;
	}
	palette[255][0] = 224;
	palette[255][1] = 224;
	palette[255][2] = 192;
}

/* Python's colorsys.hsv_to_rgb(h, 1, 1) then int(x*255), with its exact double expressions
 * (t is 1-(1-f), not f). */
static void hue_rgb(double h, uint8_t out[3])
{
	double s = 1.0, v = 1.0;
	int i = (int)(h * 6.0);
	double f = h * 6.0 - i;
	double p = v * (1.0 - s), q = v * (1.0 - s * f), t = v * (1.0 - s * (1.0 - f));
	double r, g, b;
	switch (i % 6) {
	case 0: r = v, g = t, b = p; break;
	case 1: r = q, g = v, b = p; break;
	case 2: r = p, g = v, b = t; break;
	case 3: r = p, g = q, b = v; break;
	case 4: r = t, g = p, b = v; break;
	default: r = v, g = p, b = q; break;
	}
	out[0] = (uint8_t)(int)(r * 255);
	out[1] = (uint8_t)(int)(g * 255);
	out[2] = (uint8_t)(int)(b * 255);
}

void tn_palette_for_classes(int n, uint8_t palette[256][3])
{
	tn_palette_voc(palette);
	if (n <= 21)
		return;
	for (int i = 0; i < n && i < 255; i++)
		hue_rgb((double)i / n, palette[i]);
}
