#include "cli/opts.h"

#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* getopt values of rows without a letter: past every char, so no letter is mistaken for one */
enum { VAL_BASE = 256 };

static int row_count(const struct cli_opt *rows)
{
	int n = 0;
	while (rows[n].kind != CLI_OPT_END)
		n++;
	return n;
}

static int find_row(const struct cli_opt *rows, const char *name)
{
	for (int i = 0; rows[i].kind != CLI_OPT_END; i++)
		if (rows[i].kind != CLI_OPT_ALIAS && rows[i].kind != CLI_OPT_OLD && !strcmp(rows[i].name, name))
			return i;
	fprintf(stderr, "%s: option table: no option '--%s'\n", cli_prog(), name);
	abort(); /* a table that names a missing row is the program's bug */
}

static int has_arg(const struct cli_opt *r)
{
	switch (r->kind) {
	case CLI_OPT_SET: return no_argument;
	case CLI_OPT_CALL: return r->arg;
	default: return required_argument;
	}
}

static int row_val(const struct cli_opt *rows, int i)
{
	return rows[i].letter ? rows[i].letter : VAL_BASE + i;
}

/* "a" -> "--a": the spelling every message uses. */
static const char *dashed(const struct cli_opt *r, char *buf, size_t cap)
{
	snprintf(buf, cap, "--%s", r->name);
	return buf;
}

static void apply(const struct cli_opt *rows, const struct cli_opt *r, const char *arg)
{
	char opt[80];
	const char *name = dashed(r, opt, sizeof opt);
	switch (r->kind) {
	case CLI_OPT_STRING: *(const char **)r->dest = arg; break;
	case CLI_OPT_SET: *(int *)r->dest = r->value; break;
	case CLI_OPT_INT: {
		int v = (int)cli_parse_long(name, arg, r->min, r->max), k = 0;
		while (r->allowed && r->allowed[k] && r->allowed[k] != v)
			k++;
		if (r->allowed && !r->allowed[k])
			cli_usage_error("%s: %s", name, r->what);
		*(int *)r->dest = v;
		break;
	}
	case CLI_OPT_SIZE_T: *(size_t *)r->dest = (size_t)cli_parse_long(name, arg, r->min, r->max); break;
	case CLI_OPT_ULLONG:
		*(unsigned long long *)r->dest = (unsigned long long)cli_parse_long(name, arg, r->min, r->max);
		break;
	case CLI_OPT_FLOAT: {
		float v = (float)cli_parse_double(name, arg);
		if (r->min < r->max && !(v >= r->min && v <= r->max))
			cli_usage_error("%s: must be from %ld to %ld", name, r->min, r->max);
		*(float *)r->dest = v;
		break;
	}
	case CLI_OPT_DOUBLE: {
		double v = cli_parse_double(name, arg);
		if (r->min < r->max && !(v >= r->min && v <= r->max))
			cli_usage_error("%s: must be from %ld to %ld", name, r->min, r->max);
		*(double *)r->dest = v;
		break;
	}
	case CLI_OPT_HXW: cli_parse_size(name, arg, (int)r->min, (int)r->max, r->dest, r->dest2); break;
	case CLI_OPT_CHOICE: {
		int k = 0;
		while (r->words[k] && strcmp(r->words[k], arg))
			k++;
		if (!r->words[k]) {
			if (r->what)
				cli_usage_error("%s: '%s' is not %s", name, arg, r->what);
			cli_usage_error("%s: unknown value '%s'", name, arg);
		}
		*(int *)r->dest = k;
		break;
	}
	case CLI_OPT_CALL: r->call(r->dest, arg); break;
	case CLI_OPT_OLD: {
		const struct cli_opt *t = &rows[find_row(rows, r->target)];
		char now[96];
		if (t->letter)
			snprintf(now, sizeof now, "-%c/--%s", t->letter, t->name);
		else
			snprintf(now, sizeof now, "--%s", t->name);
		cli_deprecated(name, now);
		apply(rows, t, arg);
		return; /* the target counts itself */
	}
	case CLI_OPT_ALIAS: /* getopt returns the target's value */
	case CLI_OPT_END: break;
	}
	if (r->given)
		(*r->given)++;
}

int cli_opts_parse(int argc, char **argv, const struct cli_opt *rows, void (*usage)(void), int *quiet)
{
	int n = row_count(rows);
	struct option *longopts = calloc((size_t)n + 4, sizeof *longopts);
	char *shortopts = malloc(3 * (size_t)n + 3);
	if (!longopts || !shortopts)
		cli_die("out of memory");
	char *s = shortopts;
	for (int i = 0; i < n; i++) {
		/* an alias shares its target's getopt value, so abbreviating both is no ambiguity; an
		 * old spelling keeps its own, to be told apart for its note */
		int alias = rows[i].kind == CLI_OPT_ALIAS;
		int t = alias || rows[i].kind == CLI_OPT_OLD ? find_row(rows, rows[i].target) : i;
		longopts[i] = (struct option){rows[i].name, has_arg(&rows[t]), NULL, row_val(rows, alias ? t : i)};
		if (rows[i].letter) {
			*s++ = (char)rows[i].letter;
			if (has_arg(&rows[i]) != no_argument)
				*s++ = ':';
			if (has_arg(&rows[i]) == optional_argument)
				*s++ = ':';
		}
	}
	int version = VAL_BASE + n;
	longopts[n] = (struct option){"quiet", no_argument, NULL, 'q'};
	longopts[n + 1] = (struct option){"help", no_argument, NULL, 'h'};
	longopts[n + 2] = (struct option){"version", no_argument, NULL, version};
	strcpy(s, "qh");

	int c;
	while ((c = cli_getopt(argc, argv, shortopts, longopts)) != -1) {
		if (c == 'q') {
			if (quiet)
				*quiet = 1;
		} else if (c == 'h') {
			usage();
			cli_close_stdout();
			exit(0);
		} else if (c == version) {
			cli_version();
		} else {
			int i = 0;
			while (i < n && (rows[i].kind == CLI_OPT_ALIAS || row_val(rows, i) != c))
				i++;
			apply(rows, &rows[i], optarg);
		}
	}
	free(longopts);
	free(shortopts);
	return optind;
}
