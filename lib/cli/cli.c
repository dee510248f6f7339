#include "cli/cli.h"

#include "core/error.h"
#include "core/threads.h"

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
