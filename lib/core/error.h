/* Error codes and the per-thread detail message.
 * Library functions return 0 or a negative TN_E_* code and leave a message that names the
 * file, tensor or line; only programs print it.  The library never prints and never exits. */
#ifndef TN_ERROR_H
#define TN_ERROR_H

enum tn_err {
	TN_E_OK = 0,
	TN_E_NOMEM = -1,
	TN_E_IO = -2,
	TN_E_FORMAT = -3,
	TN_E_SHAPE = -4,
	TN_E_INVAL = -5,
	TN_E_UNSUPPORTED = -6,
};

/* Records a printf-style detail and returns code, so callers can write
 * `return tn_fail(TN_E_FORMAT, "%s: bad magic", path);`. */
int tn_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the current detail with "<prefix>: ", keeping the code. */
int tn_fail_prefix(int code, const char *prefix);
const char *tn_errmsg(void);

#endif
