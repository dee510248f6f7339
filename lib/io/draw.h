/* Drawing on RGB images for pictures a person looks at: boxes and short labels. */
#ifndef TN_DRAW_H
#define TN_DRAW_H

#include <stdint.h>

#include "io/image.h"

/* A rectangle outline of the given thickness, clipped to the image. */
void tn_draw_rect(struct tn_image *img, int x1, int y1, int x2, int y2, const uint8_t rgb[3], int thick);
/* A filled rectangle, clipped. */
void tn_draw_fill(struct tn_image *img, int x1, int y1, int x2, int y2, const uint8_t rgb[3]);
/* Text in a 5x7 pixel font scaled by `scale` with its top-left corner at (x, y); characters
 * outside the font (letters are upper-cased) are drawn as blanks.  Returns the width drawn. */
int tn_draw_text(struct tn_image *img, int x, int y, const char *s, const uint8_t rgb[3], int scale);
int tn_draw_text_width(const char *s, int scale);

/* The top-left corner of a w x h label tab for a box whose top-left corner is (x1, y1): above
 * the box when there is room, else inside it at its top; moved left or up so that the whole tab
 * stays inside the iw x ih picture (a label never runs off the picture). */
void tn_draw_label_origin(int iw, int ih, int x1, int y1, int w, int h, int *x, int *y);

#endif
