/* A program's options as a table, one row an option, parsed by one function (netpbm's
 * optParseOptions with OPTENT3 in spirit).
 *
 *	struct cli_opt rows[] = {
 *		CLI_STRING("model", 'm', &o->model),
 *		CLI_INT("top", 'k', &o->k, 1, 100000),
 *		CLI_FLAG("exif", 0, &o->exif),
 *		CLI_ALIAS("conf-thres", "conf"),
 *		CLI_END,
 *	};
 *	int first = cli_opts_parse(argc, argv, rows, usage, &o->quiet);
 *
 * Every program also gets -q/--quiet, -h/--help and --version, after its own rows.  The rows
 * keep their order in getopt's table: it decides which name a typo is nearest to when two are
 * as near, and the order an ambiguous abbreviation's candidates are listed in. */
#ifndef TN_CLI_OPTS_H
#define TN_CLI_OPTS_H

#include <stddef.h>

enum cli_opt_kind {
	CLI_OPT_END,
	CLI_OPT_STRING,  /* const char *: the argument itself */
	CLI_OPT_SET,     /* int or enum: value, no argument */
	CLI_OPT_INT,     /* int in [min, max] */
	CLI_OPT_SIZE_T,  /* size_t in [min, max] */
	CLI_OPT_ULLONG,  /* unsigned long long in [min, max] */
	CLI_OPT_FLOAT,   /* float in [min, max] (none when min == max), checked as stored */
	CLI_OPT_DOUBLE,  /* double, likewise */
	CLI_OPT_HXW,     /* "HxW" or "N", each side in [min, max]: dest the height, dest2 the width */
	CLI_OPT_CHOICE,  /* int or enum: the index of the argument in words */
	CLI_OPT_CALL,    /* call(dest, argument); the argument is NULL when there is none */
	CLI_OPT_ALIAS,   /* another spelling of the row named target: same option, same messages */
	CLI_OPT_OLD,     /* a deprecated spelling of target: a note on stderr, then target's work */
};

struct cli_opt {
	const char *name;   /* the long name, without "--" */
	int letter;         /* the short option, 0 for none */
	enum cli_opt_kind kind;
	void *dest;
	void *dest2;
	int *given;         /* if set, counts the times the option is given (--csv and --json
			     * both count into one, to refuse the pair) */
	long min, max;
	const int *allowed; /* CLI_OPT_INT: if set, the value must also be one of these (0 ends
			     * them), else "--x: what" */
	int value;          /* CLI_OPT_SET */
	int arg;            /* CLI_OPT_CALL: no_argument, required_argument or optional_argument */
	const char *const *words; /* CLI_OPT_CHOICE: NULL-terminated */
	const char *what;   /* CLI_OPT_CHOICE: "a, b or c" for "--x: 'd' is not a, b or c"; NULL
			     * for "--x: unknown value 'd'".  CLI_OPT_INT: the message of allowed */
	const char *target; /* CLI_OPT_ALIAS, CLI_OPT_OLD */
	void (*call)(void *dest, const char *arg);
};

/* Compile-time checks that a destination is of the kind's type; SET and CHOICE take an int or
 * any enum, which is int-sized here. */
#define CLI_TYPED_(p, type) ((void *)(1 ? (p) : (type *)0))
#define CLI_INTLIKE_(p) ((void *)((char *)(p) + 0 * sizeof(char[sizeof *(p) == sizeof(int) ? 1 : -1])))

#define CLI_END {.kind = CLI_OPT_END}
#define CLI_STRING(n, l, d) {.name = (n), .letter = (l), .kind = CLI_OPT_STRING, .dest = CLI_TYPED_(d, const char *)}
#define CLI_FLAG(n, l, d) {.name = (n), .letter = (l), .kind = CLI_OPT_SET, .dest = CLI_TYPED_(d, int), .value = 1}
/* Stores v; given (may be NULL) counts, as for formats that exclude each other. */
#define CLI_SET(n, l, d, v, g) \
	{.name = (n), .letter = (l), .kind = CLI_OPT_SET, .dest = CLI_INTLIKE_(d), .value = (v), .given = (g)}
#define CLI_INT(n, l, d, lo, hi)                                                                    \
	{.name = (n), .letter = (l),                                                                \
	 .kind = _Generic((d), int *: CLI_OPT_INT, size_t *: CLI_OPT_SIZE_T, unsigned long long *: CLI_OPT_ULLONG), \
	 .dest = (d), .min = (lo), .max = (hi)}
#define CLI_REAL(n, l, d, lo, hi) \
	{.name = (n), .letter = (l), .kind = _Generic((d), float *: CLI_OPT_FLOAT, double *: CLI_OPT_DOUBLE), \
	 .dest = (d), .min = (lo), .max = (hi)}
/* The same, counting into given when the option is given (a default that another option sets) */
#define CLI_INT_GIVEN(n, l, d, lo, hi, g)                                                           \
	{.name = (n), .letter = (l), .kind = _Generic((d), int *: CLI_OPT_INT), .dest = (d), .min = (lo), .max = (hi), \
	 .given = (g)}
#define CLI_REAL_GIVEN(n, l, d, lo, hi, g) \
	{.name = (n), .letter = (l), .kind = _Generic((d), float *: CLI_OPT_FLOAT, double *: CLI_OPT_DOUBLE), \
	 .dest = (d), .min = (lo), .max = (hi), .given = (g)}
#define CLI_HXW(n, l, h, w, lo, hi) \
	{.name = (n), .letter = (l), .kind = CLI_OPT_HXW, .dest = CLI_TYPED_(h, int), .dest2 = CLI_TYPED_(w, int), \
	 .min = (lo), .max = (hi)}
#define CLI_CHOICE(n, l, d, w, msg) \
	{.name = (n), .letter = (l), .kind = CLI_OPT_CHOICE, .dest = CLI_INTLIKE_(d), .words = (w), .what = (msg)}
/* f(dest, argument) with a = no_argument, required_argument or optional_argument. */
#define CLI_CALL(n, l, d, f, a) {.name = (n), .letter = (l), .kind = CLI_OPT_CALL, .dest = (d), .call = (f), .arg = (a)}
#define CLI_ALIAS(n, t) {.name = (n), .kind = CLI_OPT_ALIAS, .target = (t)}
#define CLI_OLD(n, t) {.name = (n), .kind = CLI_OPT_OLD, .target = (t)}

/* Parses the options of argv by rows (ended by CLI_END), through cli_getopt and its messages;
 * a bad value is a usage error naming the option (cli_parse_long's, cli_parse_double's and
 * cli_parse_size's messages).  -h prints usage() on standard output and exits 0, --version
 * exits through cli_version, -q sets *quiet (NULL: -q is taken and changes nothing).
 * Returns the index in argv of the first operand. */
int cli_opts_parse(int argc, char **argv, const struct cli_opt *rows, void (*usage)(void), int *quiet);

#endif
