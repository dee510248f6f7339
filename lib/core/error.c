#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char errbuf[1024];

int tn_fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof errbuf, fmt, ap);
	va_end(ap);
	return code;
}

int tn_fail_prefix(int code, const char *prefix)
{
	char old[sizeof errbuf];
	memcpy(old, errbuf, sizeof old);
	int n = snprintf(errbuf, sizeof errbuf, "%s: ", prefix);
	if (n > 0 && (size_t)n < sizeof errbuf) {
		size_t room = sizeof errbuf - (size_t)n - 1;
		size_t len = strnlen(old, room);
		memcpy(errbuf + n, old, len);
		errbuf[(size_t)n + len] = 0;
	}
	return code;
}

const char *tn_errmsg(void)
{
	return errbuf[0] ? errbuf : "unknown error";
}
