#include "cli/inputs.h"

#include "cli/cli.h"
#include "core/clock.h"
#include "core/error.h"
#include "io/file.h"
#include "io/image.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- list files ---- */

void cli_list_read(const char *path, const char *what, struct cli_list *l)
{
	const char *shown = strcmp(path, "-") == 0 ? "standard input" : path;
	size_t len, cap = 0;
	memset(l, 0, sizeof *l);
	if (tn_read_all(path, 0, &l->text, &len))
		cli_fail();
	if (memchr(l->text, '\0', len))
		cli_die("%s: binary data, not a list of %s", shown, what);
	char *p = (char *)l->text, *end = p + len;
	int line = 0;
	while (p < end) {
		char *s = p, *nl = memchr(s, '\n', (size_t)(end - s));
		char *e = nl ? nl : end;
		p = nl ? nl + 1 : end;
		line++;
		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		*e = 0;
		if (s == e || *s == '#')
			continue;
		if (l->n == cap) {
			cap = cap ? 2 * cap : 256;
			char **ne = realloc(l->entry, cap * sizeof *ne);
			int *nli = ne ? realloc(l->line, cap * sizeof *nli) : NULL;
			if (ne)
				l->entry = ne;
			if (!nli)
				cli_die("out of memory");
			l->line = nli;
		}
		l->entry[l->n] = s;
		l->line[l->n++] = line;
	}
}

void cli_list_free(struct cli_list *l)
{
	free(l->entry);
	free(l->line);
	free(l->text);
	memset(l, 0, sizeof *l);
}

char *cli_path_join(const char *dir, const char *name, const char *ext)
{
	if (*ext == '.')
		ext++;
	size_t dl = strlen(dir);
	const char *sep = dl && dir[dl - 1] == '/' ? "" : "/";
	size_t size = dl + strlen(name) + strlen(ext) + 3;
	char *path = malloc(size);
	if (!path)
		cli_die("out of memory");
	snprintf(path, size, "%s%s%s%s%s", dir, sep, name, *ext ? "." : "", ext);
	return path;
}

/* ---- image inputs ---- */

int cli_input_decode(const struct cli_input *it, size_t max_pixels, int upright, struct tn_image *img,
		     double *ms)
{
	double t0 = tn_now_ms();
	int rc = upright ? tn_image_decode_rgb_upright(it->data, it->len, it->name, max_pixels, img)
			 : tn_image_decode_rgb(it->data, it->len, it->name, max_pixels, img);
	*ms = tn_now_ms() - t0;
	return rc;
}

void cli_inputs_args(struct cli_inputs_spec *spec, const char *model, int argc, char **argv, int first)
{
	if (!model)
		cli_usage_error("no model: give -m MODEL.w");
	spec->files = argv + first;
	spec->nfiles = argc - first;
	if (!spec->list && spec->nfiles == 0 && isatty(STDIN_FILENO))
		cli_usage_error("no input: give image files or pipe one in");
}

void cli_path_stem(const char *path, char *out, size_t cap)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *dot = strrchr(base, '.');
	int n = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
	snprintf(out, cap, "%.*s", n, base);
}

/* detect.py's IMG_FORMATS plus the netpbm ones read here; the others are listed so that the
 * user hears they cannot be read, not silently skipped. */
static int is_image_name(const char *name)
{
	static const char *const exts[] = {"bmp", "dng", "jpeg", "jpg", "mpo", "png", "tif", "tiff",
					   "webp", "pfm", "ppm", "pgm", "pnm"};
	const char *dot = strrchr(name, '.');
	if (name[0] == '.' || !dot)
		return 0; /* glob's '*.*' skips hidden files and names without a dot */
	for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
		if (!strcasecmp(dot + 1, exts[i]))
			return 1;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void push_path(struct cli_inputs *in, size_t *cap, char *path)
{
	if (!path)
		cli_die("out of memory");
	if (in->n == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		char **np = realloc(in->paths, *cap * sizeof *np);
		if (!np)
			cli_die("out of memory");
		in->paths = np;
	}
	in->paths[in->n++] = path;
}

/* A folder's image files, sorted by path as Python's sorted() does (byte order). */
static void add_folder(struct cli_inputs *in, size_t *cap, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		cli_die("%s: %s", dir, strerror(errno));
	size_t first = in->n;
	struct dirent *e;
	while ((e = readdir(d)))
		if (is_image_name(e->d_name))
			push_path(in, cap, cli_path_join(dir, e->d_name, ""));
	closedir(d);
	if (in->n == first)
		cli_die("%s: no image files in this folder", dir);
	qsort(in->paths + first, in->n - first, sizeof *in->paths, cmp_str);
}

struct stem_at {
	char stem[256];
	size_t index;
};

static int cmp_stem(const void *a, const void *b)
{
	const struct stem_at *x = a, *y = b;
	int c = strcmp(x->stem, y->stem);
	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Marks each path whose stem an earlier path has: its outputs would overwrite the earlier's. */
static void mark_duplicates(struct cli_inputs *in)
{
	struct stem_at *s = malloc((in->n ? in->n : 1) * sizeof *s);
	in->dup_of_flags = calloc(in->n ? in->n : 1, 1);
	if (!s || !in->dup_of_flags)
		cli_die("out of memory");
	for (size_t i = 0; i < in->n; i++) {
		cli_path_stem(in->paths[i], s[i].stem, sizeof s[i].stem);
		s[i].index = i;
	}
	qsort(s, in->n, sizeof *s, cmp_stem);
	for (size_t i = 1; i < in->n; i++)
		if (!strcmp(s[i].stem, s[i - 1].stem))
			in->dup_of_flags[s[i].index] = 1;
	free(s);
}

void cli_inputs_open(struct cli_inputs *in, const struct cli_inputs_spec *spec)
{
	memset(in, 0, sizeof *in);
	size_t cap = 0;
	if ((spec->images || spec->ext) && !spec->list)
		cli_usage_error("--images and --ext go with --list");
	if (spec->list) {
		if (spec->nfiles)
			cli_usage_error("--list takes no FILE arguments ('%s')", spec->files[0]);
		cli_list_read(spec->list, "images", &in->list);
		for (size_t i = 0; i < in->list.n; i++) {
			const char *e = in->list.entry[i];
			push_path(in, &cap, spec->images ? cli_path_join(spec->images, e, spec->ext ? spec->ext : "jpg")
							 : strdup(e));
		}
		in->kind = CLI_INPUTS_MANY;
	} else if (spec->nfiles == 0 || (spec->nfiles == 1 && !strcmp(spec->files[0], "-"))) {
		in->from_stdin = 1;
		tn_frames_init(&in->frames, STDIN_FILENO, "standard input");
		int r = tn_frames_next(&in->frames, &in->first, &in->first_len);
		if (r < 0)
			cli_fail();
		/* an empty standard input is one (empty) image, which the decoder refuses by name */
		in->have_first = 1;
		int more = r > 0 ? tn_frames_more(&in->frames) : 0;
		if (more < 0)
			cli_fail();
		in->kind = more ? CLI_INPUTS_STREAM : CLI_INPUTS_ONE;
		return;
	} else {
		struct stat st;
		for (int i = 0; i < spec->nfiles; i++) {
			const char *f = spec->files[i];
			if (!strcmp(f, "-"))
				cli_usage_error("standard input ('-') cannot be mixed with files");
			if (stat(f, &st) == 0 && S_ISDIR(st.st_mode))
				add_folder(in, &cap, f);
			else
				push_path(in, &cap, strdup(f));
		}
		in->kind = spec->nfiles == 1 && in->n == 1 && strcmp(in->paths[0], spec->files[0]) == 0
				   ? CLI_INPUTS_ONE
				   : CLI_INPUTS_MANY;
	}
	mark_duplicates(in);
}

static int next_frame(struct cli_inputs *in, struct cli_input *it)
{
	if (in->stopped)
		return 0;
	if (in->have_first) {
		in->have_first = 0;
		it->data = in->first;
		it->len = in->first_len;
	} else {
		int r = tn_frames_next(&in->frames, &it->data, &it->len);
		if (r <= 0) {
			in->stopped = 1;
			return r;
		}
	}
	it->path = "-";
	if (in->kind == CLI_INPUTS_ONE) {
		in->stopped = 1;
		snprintf(it->label, sizeof it->label, "standard input");
		snprintf(it->stem, sizeof it->stem, "stdin");
	} else {
		it->frame = in->frames.count;
		snprintf(it->label, sizeof it->label, "standard input, frame %ld", it->frame);
		snprintf(it->stem, sizeof it->stem, "%ld", it->frame);
	}
	it->name = it->label;
	return 1;
}

int cli_inputs_next(struct cli_inputs *in, struct cli_input *it)
{
	memset(it, 0, sizeof *it);
	if (in->from_stdin)
		return next_frame(in, it);
	if (in->next == in->n)
		return 0;
	size_t i = in->next++;
	it->path = it->name = in->paths[i];
	cli_path_stem(it->path, it->stem, sizeof it->stem);
	if (in->dup_of_flags[i]) {
		for (size_t k = 0; k < i; k++) {
			char stem[256];
			cli_path_stem(in->paths[k], stem, sizeof stem);
			if (!strcmp(stem, it->stem))
				return tn_fail(TN_E_INVAL, "%s: skipped: its outputs would overwrite those of %s (both named "
					       "'%s')", it->path, in->paths[k], it->stem);
		}
	}
	free(in->filebuf);
	in->filebuf = NULL;
	int rc = tn_read_all(it->path, 0, &in->filebuf, &it->len);
	if (rc)
		return rc;
	it->data = in->filebuf;
	return 1;
}

char *cli_picture_path(const char *opt, enum cli_inputs_kind kind, const struct cli_input *it, int *png)
{
	*png = kind == CLI_INPUTS_ONE && tn_name_is_png(opt);
	if (!opt)
		return NULL;
	if (kind != CLI_INPUTS_ONE && strcmp(opt, "-") != 0)
		return cli_path_join(opt, it->stem, "jpg");
	char *p = strdup(opt);
	if (!p)
		cli_die("out of memory");
	return p;
}

void cli_inputs_close(struct cli_inputs *in)
{
	for (size_t i = 0; i < in->n; i++)
		free(in->paths[i]);
	free(in->paths);
	free(in->dup_of_flags);
	free(in->filebuf);
	cli_list_free(&in->list);
	tn_frames_free(&in->frames);
	memset(in, 0, sizeof *in);
}
