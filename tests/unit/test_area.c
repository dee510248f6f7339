/* OpenCV 4.6 cv2.resize(INTER_AREA) on 8-bit images, shrinking (val.py's load_image): byte-exact
 * against cv2 on the darknet photos at val.py's sizes, integer factors and a random sweep
 * (scripts/ref/area-ref.py), and within one level of a naive double-precision box average. */
#include "check.h"
#include "refs.h"
#include "core/error.h"
#include "image/letterbox_cv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SCRIPT "scripts/ref/area-ref.py"

/* The plain definition: each output pixel is the mean of the source area it covers. */
static int naive_max_diff(const struct tn_image *s, const struct tn_image *o)
{
	double fx = (double)s->w / o->w, fy = (double)s->h / o->h;
	int worst = 0;
	for (int y = 0; y < o->h; y++)
		for (int x = 0; x < o->w; x++)
			for (int c = 0; c < s->channels; c++) {
				double acc = 0, y0 = y * fy, y1 = y0 + fy, x0 = x * fx, x1 = x0 + fx;
				for (int j = (int)floor(y0); j < y1 && j < s->h; j++) {
					double wy = fmin(j + 1, y1) - fmax(j, y0);
					for (int i = (int)floor(x0); i < x1 && i < s->w; i++) {
						double wx = fmin(i + 1, x1) - fmax(i, x0);
						acc += wy * wx * s->px[((size_t)j * s->w + i) * s->channels + c];
					}
				}
				int d = abs((int)lround(acc / (fx * fy)) - o->px[((size_t)y * o->w + x) * o->channels + c]);
				worst = d > worst ? d : worst;
			}
	return worst;
}

int main(void)
{
	if (ref_setup(SCRIPT, "area", "/tmp/test_area.XXXXXX")) {
		CHECK(0, "%s ran", SCRIPT);
		return check_done();
	}
	size_t len;
	char *man = (char *)slurp(refpath("manifest.txt"), &len);
	CHECK(man != NULL, "manifest read");
	int cases = 0, exact = 0, worst_naive = 0;
	for (char *line = man ? strtok(man, "\n") : NULL; line; line = strtok(NULL, "\n")) {
		char in[256], outp[256];
		int dw, dh;
		if (sscanf(line, "area %255s %d %d %255s", in, &dw, &dh, outp) != 4)
			continue;
		struct tn_image src, want, got;
		if (read_pnm(refpath(in), &src) || read_pnm(refpath(outp), &want)) {
			CHECK(0, "read %s", in);
			continue;
		}
		cases++;
		int rc = tn_resize_area_cv_u8(&src, dw, dh, &got);
		size_t n = (size_t)dw * dh * src.channels;
		long diff = -1;
		if (!rc && got.w == want.w && got.h == want.h) {
			diff = 0;
			for (size_t i = 0; i < n; i++)
				diff += got.px[i] != want.px[i];
			int nd = naive_max_diff(&src, &got);
			worst_naive = nd > worst_naive ? nd : worst_naive;
		}
		exact += diff == 0;
		if (diff != 0)
			printf("# %s: %dx%dx%d -> %dx%d: %ld bytes differ from cv2\n", in, src.w, src.h, src.channels, dw,
			       dh, diff);
		if (!rc)
			tn_image_free(&got);
		tn_image_free(&src);
		tn_image_free(&want);
	}
	free(man);
	CHECK(cases >= 80, "%d cases read", cases);
	CHECK(exact == cases, "cv2 INTER_AREA byte-exact in %d of %d cases", exact, cases);
	CHECK(worst_naive <= 1, "within %d level of a naive box average", worst_naive);

	struct tn_image src = {4, 4, 3, calloc(48, 1)}, out;
	CHECK(tn_resize_area_cv_u8(&src, 5, 4, &out) == TN_E_INVAL && !out.px, "enlarging refused");
	CHECK(tn_resize_area_cv_u8(&src, 0, 2, &out) == TN_E_INVAL, "empty target refused");
	free(src.px);
	ref_cleanup();
	return check_done();
}
