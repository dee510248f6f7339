/* Unit tests of the val.py metric pieces in lib/eval/map.c on cases small enough to do by hand. */
#include "check.h"
#include "eval/map.h"

#include <math.h>
#include <string.h>

static int near(double a, double b, double tol)
{
	return fabs(a - b) <= tol;
}

int main(void)
{
	/* IoU: two 100x100 boxes overlapping by half: 5000 / (15000 + 1e-7) */
	double a[4] = {0, 0, 100, 100}, b[4] = {50, 0, 150, 100}, c[4] = {200, 200, 210, 210};
	CHECK(tn_box_iou(a, b) == 5000.0 / (15000.0 + 1e-7), "IoU of half-overlapping boxes, eps in the denominator");
	CHECK(tn_box_iou(a, c) == 0, "IoU of disjoint boxes is 0");
	CHECK(tn_box_iou(a, a) < 1 && near(tn_box_iou(a, a), 1, 1e-10), "IoU of a box with itself is just below 1");
	double d6[4] = {0, 0, 60, 100};
	CHECK(tn_box_iou(a, d6) < 0.6, "IoU 6000/10000 falls below the 0.6 threshold by the eps");

	/* np.linspace as NumPy computes it */
	CHECK(tn_linspace(0, 1, 101, 3) == 3 * 0.01, "linspace(0,1,101)[3] is 3*0.01, not 0.03");
	CHECK(tn_linspace(0.5, 0.95, 10, 9) == 0.95 && tn_linspace(0.5, 0.95, 10, 0) == 0.5, "threshold ends");

	/* np.interp: left/right, duplicates in xp take the last, linear in between */
	double xp[4] = {0, 0.5, 0.5, 1}, fp[4] = {1, 0.8, 0.4, 0};
	CHECK(tn_np_interp(-1, xp, fp, 4, 7, 9) == 7 && tn_np_interp(2, xp, fp, 4, 7, 9) == 9, "interp outside");
	CHECK(tn_np_interp(0.5, xp, fp, 4, 7, 9) == 0.4, "interp on a repeated xp takes the last one");
	CHECK(tn_np_interp(1, xp, fp, 4, 7, 9) == 0, "interp at the last xp");
	CHECK(near(tn_np_interp(0.25, xp, fp, 4, 7, 9), 0.9, 1e-15), "interp halfway");

	/* compute_ap: a perfect curve gives 0.995 (the (1, 0) sentinel ramps the last 0.01) */
	double work[64], r1[1] = {1}, p1[1] = {1};
	CHECK(near(tn_map_compute_ap(r1, p1, 1, work), 0.995, 1e-12), "perfect detection: AP 0.995");
	double r2[2] = {1, 1}, p2[2] = {1, 0.5};
	CHECK(near(tn_map_compute_ap(r2, p2, 2, work), 0.995, 1e-12), "TP then FP: AP 0.995");
	double r3[2] = {0, 1}, p3[2] = {0, 0.5};
	CHECK(near(tn_map_compute_ap(r3, p3, 2, work), 0.4975, 1e-12), "FP then TP: 0.5*0.99 + 0.0025 = 0.4975");
	double r4[2] = {0.5, 0.5}, p4[2] = {1, 0.5};
	CHECK(near(tn_map_compute_ap(r4, p4, 2, work), 0.49 + 0.0075 + 0.125, 1e-12),
	      "half the labels found: 0.49 + 0.0075 (the step at 0.5) + 0.125 (the ramp) = 0.6225");
	double r5[1] = {0}, p5[1] = {0};
	CHECK(tn_map_compute_ap(r5, p5, 1, work) == 0, "only a false positive: AP 0");

	/* smoothing a constant leaves it constant to rounding */
	double y[1000], s[1000];
	for (int i = 0; i < 1000; i++)
		y[i] = i < 500 ? 0.5 : 0.25;
	tn_map_smooth(y, 0.1, s);
	CHECK(near(s[0], 0.5, 1e-15) && near(s[999], 0.25, 1e-15) && near(s[500], 0.5 * 50 / 101 + 0.25 * 51 / 101, 1e-15),
	      "box filter of 101 taps with edge padding");
	tn_map_smooth(y, 0.05, s); /* the charts' smooth(y, 0.05): round(100) / 2 + 1 = 51 taps */
	CHECK(near(s[500], 0.5 * 25 / 51 + 0.25 * 26 / 51, 1e-15) && near(s[474], 0.5, 1e-15) && s[475] < 0.5,
	      "box filter of 51 taps for the charts");

	/* matching: two detections on one label, the first (higher score) wins; a third of another
	 * class is never a match; at IoU ~0.64 only thresholds 0.5..0.6 count.  The eps puts an
	 * IoU of exactly 0.9 below the 0.9 threshold. */
	int32_t lc[2] = {0, 1}, dc[4] = {0, 0, 2, 1};
	double lb[2][4] = {{0, 0, 100, 100}, {200, 200, 300, 300}};
	double db[4][4] = {{0, 0, 100, 90}, {0, 0, 100, 100}, {0, 0, 100, 100}, {200, 200, 264, 300}};
	double thr[10], mw[64];
	for (int t = 0; t < 10; t++)
		thr[t] = tn_linspace(0.5, 0.95, 10, t);
	uint16_t tp[4];
	tn_map_match(lc, (const double (*)[4])lb, 2, dc, (const double (*)[4])db, 4, thr, 10, 0, tp, mw);
	CHECK(tp[0] == 0xff, "first detection (IoU 0.9 - eps) is TP at 0.5..0.85 (tp %#x)", tp[0]);
	CHECK(tp[1] == 0x300, "the exact duplicate only counts where the first failed: 0.9, 0.95 (tp %#x)", tp[1]);
	CHECK(tp[2] == 0, "a detection of another class never matches");
	CHECK(tp[3] == 0x7, "IoU 0.64 is TP at 0.5, 0.55, 0.6 (tp %#x)", tp[3]);

	/* a tie in IoU between two labels goes to the higher label index */
	int32_t lc2[2] = {0, 0}, dc2[2] = {0, 0};
	double lb2[2][4] = {{0, 0, 100, 100}, {0, 0, 100, 100}};
	double db2[2][4] = {{0, 0, 100, 100}, {0, 0, 100, 100}};
	tn_map_match(lc2, (const double (*)[4])lb2, 2, dc2, (const double (*)[4])db2, 2, thr, 10, 0, tp, mw);
	CHECK(tp[0] == 0x3ff && tp[1] == 0, "tied labels: both detections pick the same label, one TP");

	/* float32, as torch: 5500 / (10000 + 1e-7) rounds to 0.55f, which is a TP at 0.55f; in
	 * double it is just below 0.55 */
	double l55[1][4] = {{0, 0, 100, 100}}, d55[1][4] = {{0, 0, 55, 100}};
	int32_t c55 = 0;
	CHECK(tn_box_iou_f32(l55[0], d55[0]) == 0.55f, "float32 IoU 5500/10000 is 0.55f");
	tn_map_match(&c55, (const double (*)[4])l55, 1, &c55, (const double (*)[4])d55, 1, thr, 10, 1, tp, mw);
	CHECK(tp[0] == 0x3, "float32: IoU 0.55 is TP at 0.5 and 0.55 (tp %#x)", tp[0]);
	tn_map_match(&c55, (const double (*)[4])l55, 1, &c55, (const double (*)[4])d55, 1, thr, 10, 0, tp, mw);
	CHECK(tp[0] == 0x1, "double: IoU 0.55 - eps is TP at 0.5 only (tp %#x)", tp[0]);

	/* A label over a whole 1280x641 image that infer-detect --val resized to 256x129 and put on
	 * a 288x160 letterbox: val.py's label ends at 256 / (129/641) in x, short of 1280 */
	struct tn_map_image im = {.width = 1280, .height = 641, .lb = {256, 129, 288, 160}};
	struct tn_map_label whole = {.cx = 0.5, .cy = 0.5, .w = 1, .h = 1, .cls = 0};
	double box[4];
	tn_map_label_box(&im, &whole, box);
	CHECK(box[0] == 0 && box[1] == 0 && near(box[2], 256.0 * 641 / 129, 1e-3) && near(box[3], 641, 1e-3),
	      "val.py's label of the whole image: %g %g %g %g", box[0], box[1], box[2], box[3]);
	return check_done();
}
