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
