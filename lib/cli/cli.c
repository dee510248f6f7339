#include "cli/cli.h"

#include "core/error.h"
#include "core/threads.h"
#include "io/file.h"

#include <blis.h>
#include <errno.h>
#include <limits.h>
#include <spng.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

static const char *prog = "cnnkit";

void cli_init(const char *argv0)
{
	if (!argv0)
		return; /* started with an empty argv */
	const char *slash = strrchr(argv0, '/');
	prog = slash ? slash + 1 : argv0;
}

const char *cli_prog(void)
{
	return prog;
}

static void vsay(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
}

void cli_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	exit(1);
}

void cli_fail(void)
{
	fprintf(stderr, "%s: %s\n", prog, tn_errmsg());
	exit(1);
}

void cli_usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	exit(2);
}

void cli_version(void)
{
	printf("%s (cnnkit) %s\n", prog, CNNKIT_VERSION);
	printf("BLIS %s, libjpeg-turbo (TurboJPEG API), libspng %d.%d.%d\n", bli_info_get_version_str(),
	       SPNG_VERSION_MAJOR, SPNG_VERSION_MINOR, SPNG_VERSION_PATCH);
	cli_close_stdout();
	exit(0);
}

long cli_parse_long(const char *opt, const char *arg, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < lo || v > hi)
		cli_usage_error("%s: '%s' is not a whole number from %ld to %ld", opt, arg, lo, hi);
	return v;
}

double cli_parse_double(const char *opt, const char *arg)
{
	char *end;
	errno = 0;
	double v = strtod(arg, &end);
	if (errno || end == arg || *end)
		cli_usage_error("%s: '%s' is not a number", opt, arg);
	return v;
}

/* A whole decimal number in [lo, hi] from s up to end, digits only. */
static int size_side(const char *s, const char *end, int lo, int hi, int *out)
{
	long v = 0;
	if (s == end || end - s > 6)
		return -1;
	for (; s < end; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

int cli_parse_size(const char *opt, const char *arg, int lo, int hi, int *h, int *w)
{
	const char *x = strpbrk(arg, "xX"), *end = arg + strlen(arg);
	if (size_side(arg, x ? x : end, lo, hi, h) || size_side(x ? x + 1 : arg, end, lo, hi, w))
		cli_usage_error("%s: '%s' is not HxW (height first) or N, each side from %d to %d", opt, arg, lo,
				hi);
	return !x;
}

void cli_deprecated(const char *old, const char *now)
{
	cli_warn("%s is deprecated: use %s", old, now);
}

int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	opterr = 0;
	int c = getopt_long(argc, argv, shortopts, longopts, NULL);
	if (c == '?' || c == ':')
		cli_unknown_option(argc, argv, longopts, shortopts);
	return c;
}

/* Optimal string alignment distance (Levenshtein plus adjacent transpositions) of a[0..n)
 * and b; names are short, so one row of 64 per step is plenty (longer names never match). */
static int edit_distance(const char *a, size_t n, const char *b)
{
	size_t m = strlen(b);
	if (n > 62 || m > 62)
		return INT_MAX;
	int d[3][64]; /* rows i-2, i-1, i */
	for (size_t j = 0; j <= m; j++)
		d[1][j] = (int)j;
	for (size_t i = 1; i <= n; i++) {
		int *cur = d[(i + 1) % 3], *prev = d[i % 3], *pp = d[(i + 2) % 3];
		cur[0] = (int)i;
		for (size_t j = 1; j <= m; j++) {
			int cost = a[i - 1] != b[j - 1];
			int v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < v)
				v = pp[j - 2] + 1;
			cur[j] = v;
		}
	}
	return d[(n + 1) % 3][m];
}

int cli_closest_option(const char *name, size_t len, const struct option *longopts)
{
	/* a slip: a third of the name, one edit at least, three at most */
	int best = -1, best_d = (int)(len / 3 < 1 ? 1 : len / 3 > 3 ? 3 : len / 3) + 1;
	for (int i = 0; longopts[i].name; i++) {
		int dist = edit_distance(name, len, longopts[i].name);
		if (dist < best_d) {
			best_d = dist;
			best = i;
		}
	}
	return best;
}

/* The long option that "--name" (len bytes) selects: exact, else the one it abbreviates. */
static const struct option *long_match(const char *name, size_t len, const struct option *longopts)
{
	const struct option *found = NULL;
	for (const struct option *o = longopts; o->name; o++) {
		if (strncmp(o->name, name, len))
			continue;
		if (strlen(o->name) == len)
			return o;
		if (!found)
			found = o;
	}
	return found;
}

static int short_has_arg(const char *shortopts, int c)
{
	const char *p = c > 0 && c < 256 && c != ':' ? strchr(shortopts, c) : NULL;
	return p ? 1 + (p[1] == ':') : 0; /* 0 unknown, 1 flag, 2 takes a value */
}

void cli_unknown_option(int argc, char **argv, const struct option *longopts, const char *shortopts)
{
	/* getopt has moved past a bad long option; a bad short one may still be mid-group */
	const char *prev = optind > 0 && optind <= argc ? argv[optind - 1] : "", *cur = optind < argc ? argv[optind] : NULL;
	if (strncmp(prev, "--", 2) == 0 && prev[2]) {
		const char *name = prev + 2;
		size_t len = strcspn(name, "=");
		const struct option *o = long_match(name, len, longopts);
		if (optopt && o && o->val == optopt) {
			if (name[len] == '=')
				fprintf(stderr, "%s: option '--%s' takes no value\n", prog, o->name);
			else
				fprintf(stderr, "%s: option '--%s' needs a value\n", prog, o->name);
			exit(2);
		}
		if (!optopt) {
			int n = 0;
			for (const struct option *q = longopts; q->name; q++)
				n += strncmp(q->name, name, len) == 0;
			if (n > 1) {
				fprintf(stderr, "%s: option '--%.*s' is ambiguous (", prog, (int)len, name);
				const char *sep = "";
				for (const struct option *q = longopts; q->name; q++)
					if (strncmp(q->name, name, len) == 0) {
						fprintf(stderr, "%s--%s", sep, q->name);
						sep = ", ";
					}
				fputs(")\n", stderr);
				exit(2);
			}
			int k = cli_closest_option(name, len, longopts);
			if (k >= 0)
				fprintf(stderr, "%s: unknown option '--%.*s' (did you mean --%s?)\n", prog, (int)len, name,
					longopts[k].name);
			else
				fprintf(stderr, "%s: unknown option '--%.*s' (see %s --help)\n", prog, (int)len, name, prog);
			exit(2);
		}
	}
	const char *group = optopt && cur && cur[0] == '-' && cur[1] != '-' && strchr(cur + 1, optopt) ? cur : prev;
	if (short_has_arg(shortopts, optopt) == 2) {
		fprintf(stderr, "%s: option '-%c' needs a value\n", prog, optopt);
		exit(2);
	}
	/* "-conf": a long option written with one dash */
	size_t len = group[0] == '-' ? strcspn(group + 1, "=") : 0;
	int k = len >= 3 ? cli_closest_option(group + 1, len, longopts) : -1;
	if (k >= 0)
		fprintf(stderr, "%s: unknown option '-%.*s' (did you mean --%s?)\n", prog, (int)len, group + 1,
			longopts[k].name);
	else if (optopt > ' ' && optopt < 127)
		fprintf(stderr, "%s: unknown option '-%c' (see %s --help)\n", prog, optopt, prog);
	else
		fprintf(stderr, "%s: unknown option (see %s --help)\n", prog, prog);
	exit(2);
}

void cli_close_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout) || fclose(stdout) != 0) {
		fprintf(stderr, "%s: standard output: write error: %s\n", prog, strerror(errno));
		exit(1);
	}
}

const char **cli_read_names(const char *path, int max, int *count, unsigned char **text)
{
	const char *shown = strcmp(path, "-") == 0 ? "standard input" : path;
	uint8_t *buf;
	size_t len;
	if (tn_read_all(path, 16u << 20, &buf, &len))
		cli_fail();
	if (memchr(buf, '\0', len))
		cli_die("%s: binary data, not a list of class names", shown);
	const char **names = calloc((size_t)max + 1, sizeof *names);
	if (!names)
		cli_die("out of memory");
	int k = 0, line = 0;
	char *p = (char *)buf, *end = (char *)buf + len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *e = nl ? nl : end;
		line++;
		if (e > p && e[-1] == '\r')
			e--;
		*e = 0;
		if (e == p)
			cli_die("%s: line %d: empty class name", shown, line);
		if (k == max)
			cli_die("%s: more than %d class names", shown, max);
		names[k++] = p;
		p = nl ? nl + 1 : end;
	}
	if (k == 0)
		cli_die("%s: no class names", shown);
	*count = k;
	*text = buf;
	return names;
}

void cli_json_str(FILE *fp, const char *s)
{
	tn_json_str(fp, s);
}

const char *cli_display_path(const char *path)
{
	return strcmp(path, "-") == 0 ? "standard input" : path;
}

const char **cli_number_names(int n, const char *const *preset, unsigned char **text)
{
	enum { SLOT = 12 }; /* any int's digits */
	const char **names = calloc((size_t)(n > 0 ? n : 1), sizeof *names);
	char *s = malloc((size_t)(n > 0 ? n : 1) * SLOT);
	if (!names || !s)
		cli_die("out of memory");
	for (int i = 0; i < n; i++) {
		snprintf(s + SLOT * i, SLOT, "%d", i);
		names[i] = preset ? preset[i] : s + SLOT * i;
	}
	*text = (unsigned char *)s;
	return names;
}
