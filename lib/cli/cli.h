/* What every program shares: its name in messages, errors, version text, thread count. */
#ifndef TN_CLI_H
#define TN_CLI_H

#include <getopt.h>
#include <stdio.h>

void cli_init(const char *argv0);
const char *cli_prog(void);
/* "prog: message" on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: message", exit 1. */
_Noreturn void cli_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "prog: <library detail>", exit 1. */
_Noreturn void cli_fail(void);
/* "prog: message" plus a --help hint, exit 2. */
_Noreturn void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the toolkit and library versions to stdout and exits 0. */
_Noreturn void cli_version(void);
/* Parses a whole positive integer in [lo, hi], or exits 2 naming the option. */
long cli_parse_long(const char *opt, const char *arg, long lo, long hi);
double cli_parse_double(const char *opt, const char *arg);
/* A size "HxW", or "N" for NxN, each side in [lo, hi]; else exits 2 naming the option.
 * Returns 1 when it was given as one number N. */
int cli_parse_size(const char *opt, const char *arg, int lo, int hi, int *h, int *w);
/* "prog: OLD is deprecated: use NEW" on stderr; the old spelling still works. */
void cli_deprecated(const char *old, const char *now);

/* getopt_long without getopt's own messages: an unknown option, a missing value or a value
 * given to a flag ends the program through cli_unknown_option. */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
/* After getopt_long returned '?' with opterr = 0: one line, "prog: unknown option '--conff'
 * (did you mean --conf?)", "prog: option '--conf' needs a value", ..., then exit 2. */
_Noreturn void cli_unknown_option(int argc, char **argv, const struct option *longopts,
				  const char *shortopts);
/* The index in longopts of the name nearest to name (edit distance with transpositions, small
 * enough to be a typing slip), or -1. */
int cli_closest_option(const char *name, size_t len, const struct option *longopts);

/* How messages name an input: "standard input" for "-", else the path. */
const char *cli_display_path(const char *path);
/* n class names: preset's when given, else "0".."n-1" written into *text (freed by the caller
 * with the array).  Exits 1 when out of memory. */
const char **cli_number_names(int n, const char *const *preset, unsigned char **text);

/* Checks stdout is fine to end with: exit 1 on a write error. */
void cli_close_stdout(void);

/* s as a JSON string, quoted, with the characters JSON requires escaped. */
void cli_json_str(FILE *fp, const char *s);

/* Class names from a file, one per line (final newline optional, CRLF accepted), at most max;
 * an empty line, binary data or no name is an error (exit 1).  The names point into *text,
 * which the caller frees with the returned array. */
const char **cli_read_names(const char *path, int max, int *count, unsigned char **text);
/* The class count and names of a .w model (its metadata num_classes and class_names), for the
 * programs that take -m MODEL.w to name the classes they report.  The file is memory-mapped,
 * so this is cheap.  n is the -n count (0 = not given), which must agree.  Returns NULL when
 * want_names is 0 or the model has no class_names (*count is still set; the program keeps its
 * default names), else *count names in *text, freed as cli_read_names'.  An unreadable file, a
 * PyTorch checkpoint (told to convert it), no num_classes, more than max classes or a count
 * other than n is an error (exit 1). */
const char **cli_model_names(const char *path, int max, int n, int want_names, int *count,
			     unsigned char **text);

#endif
