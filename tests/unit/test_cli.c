/* lib/cli: the nearest long option for a mistyped one, sizes as HxW or N, and the option
 * table parser, each parse in a child process since a bad option ends the program.  (The
 * programs' own messages are tested through them, in the bats files.) */
#include "check.h"
#include "cli/cli.h"
#include "cli/opts.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const struct option opts[] = {
	{"conf", required_argument, NULL, 'c'},     {"iou", required_argument, NULL, 256},
	{"quiet", no_argument, NULL, 'q'},          {"num-classes", required_argument, NULL, 'n'},
	{"json", no_argument, NULL, 257},           {"csv", no_argument, NULL, 258},
	{"downsample", required_argument, NULL, 259}, {NULL, 0, NULL, 0},
};

static const char *closest(const char *typed)
{
	int k = cli_closest_option(typed, strlen(typed), opts);
	return k < 0 ? "(none)" : opts[k].name;
}

/* What the test table fills. */
struct topts {
	const char *model, *count;
	int top, n, fmt, nfmt, exif, agnostic, ds, ds_given, h, w, quiet;
	size_t px;
	unsigned long long seed;
	float conf;
	double alpha;
};

static void set_count(void *dest, const char *arg)
{
	if (arg && strcmp(arg, "json"))
		cli_usage_error("--count: '%s' is not json", arg);
	((struct topts *)dest)->count = arg ? arg : "(none)";
}

static void usage(void)
{
	printf("usage text\n");
}

#define HINT "Try 'prog --help' for more information.\n"

/* One run's exit status and outputs: stdout holds the parsed values after a parse that ends. */
struct outcome {
	int status;
	char out[1024], err[1024];
};

static void drain(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	ssize_t r;
	while (n + 1 < cap && (r = read(fd, buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	close(fd);
}

/* Parses the words of args (space-separated) as "prog ARGS" in a child. */
static struct outcome parse(const char *args)
{
	struct outcome oc = {.status = -1};
	int po[2], pe[2];
	if (pipe(po) || pipe(pe))
		return oc;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		char buf[512], *argv[64] = {"prog"}, *save = NULL;
		int argc = 1;
		snprintf(buf, sizeof buf, "%s", args);
		for (char *t = strtok_r(buf, " ", &save); t && argc < 63; t = strtok_r(NULL, " ", &save))
			argv[argc++] = t;
		cli_init("prog");
		struct topts o = {.top = 5};
		static const char *const formats[] = {"text", "jsonl", "yolo", NULL};
		const struct cli_opt rows[] = {
			CLI_STRING("model", 'm', &o.model),
			CLI_INT("top", 'k', &o.top, 1, 100),
			CLI_INT("num-classes", 'n', &o.n, 1, 1000),
			CLI_OLD("nc", "num-classes"),
			CLI_INT("max-pixels", 0, &o.px, 1, 4000000000L),
			CLI_INT("seed", 0, &o.seed, 0, 9223372036854775807L),
			CLI_REAL("conf", 0, &o.conf, 0, 1),
			CLI_ALIAS("conf-thres", "conf"),
			CLI_REAL("alpha", 0, &o.alpha, 0, 1),
			CLI_HXW("size", 0, &o.h, &o.w, 1, 4096),
			CLI_CHOICE("format", 'f', &o.fmt, formats, "text, jsonl or yolo"),
			CLI_SET("json", 0, &o.fmt, 1, &o.nfmt),
			CLI_SET("csv", 0, &o.fmt, 7, &o.nfmt),
			CLI_FLAG("exif", 0, &o.exif),
			CLI_FLAG("agnostic", 0, &o.agnostic),
			CLI_ALIAS("agnostic-nms", "agnostic"),
			{.name = "downsample", .kind = CLI_OPT_INT, .dest = &o.ds, .min = 8, .max = 16,
			 .allowed = (const int[]){8, 16, 0}, .what = "8 or 16", .given = &o.ds_given},
			CLI_CALL("count", 0, &o, set_count, optional_argument),
			CLI_END,
		};
		int first = cli_opts_parse(argc, argv, rows, usage, &o.quiet);
		printf("model=%s top=%d n=%d px=%zu seed=%llu conf=%g alpha=%g size=%dx%d fmt=%d nfmt=%d exif=%d "
		       "agnostic=%d ds=%d/%d count=%s quiet=%d first=%s",
		       o.model ? o.model : "-", o.top, o.n, o.px, o.seed, o.conf, o.alpha, o.h, o.w, o.fmt, o.nfmt,
		       o.exif, o.agnostic, o.ds, o.ds_given, o.count ? o.count : "-", o.quiet,
		       first < argc ? argv[first] : "(end)");
		exit(0);
	}
	close(po[1]);
	close(pe[1]);
	drain(po[0], oc.out, sizeof oc.out);
	drain(pe[0], oc.err, sizeof oc.err);
	int st;
	if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st))
		oc.status = WEXITSTATUS(st);
	return oc;
}

/* Runs that end with exit status 2 and nothing on stdout: the stderr expected, without the
 * "prog: " in front; a usage error's ends with the --help hint. */
static const struct {
	const char *args, *err, *why;
} failures[] = {
	{"--conf 2", "--conf: must be from 0 to 1\n" HINT, "a float out of its range"},
	{"--conf-thres 1.5", "--conf: must be from 0 to 1\n" HINT, "an alias's message names its target"},
	{"--alpha x", "--alpha: 'x' is not a number\n" HINT, "a float that is not a number"},
	{"-k 0", "--top: '0' is not a whole number from 1 to 100\n" HINT, "a short option's message names its long one"},
	{"--max-pixels 4000000001", "--max-pixels: '4000000001' is not a whole number from 1 to 4000000000\n" HINT,
	 "a size_t out of its range"},
	{"--size 0x5", "--size: '0x5' is not HxW (height first) or N, each side from 1 to 4096\n" HINT,
	 "a size out of its range"},
	{"-f xml", "--format: 'xml' is not text, jsonl or yolo\n" HINT, "a choice not in its words"},
	{"--downsample 12", "--downsample: 8 or 16\n" HINT, "an int in its range but not allowed"},
	{"--downsample 4", "--downsample: '4' is not a whole number from 8 to 16\n" HINT,
	 "an int out of the range of its allowed values"},
	{"--count=xml", "--count: 'xml' is not json\n" HINT, "a callback's own message"},
	{"--nc 0", "--nc is deprecated: use -n/--num-classes\nprog: --num-classes: '0' is not a whole number from 1 to 1000\n" HINT,
	 "an old spelling's value is checked as its target's, after the note"},
	{"--conff 1", "unknown option '--conff' (did you mean --conf?)\n", "an unknown option names the nearest"},
	{"--conf", "option '--conf' needs a value\n", "a missing value"},
	{"--exif=1", "option '--exif' takes no value\n", "a value given to a flag"},
	{"--co 1", "option '--co' is ambiguous (--conf, --conf-thres, --count)\n",
	 "an ambiguous abbreviation lists the table's rows in order"},
	{"-z", "unknown option '-z' (see prog --help)\n", "an unknown letter"},
	{"-m", "option '-m' needs a value\n", "a letter's missing value"},
};

static void test_opts(void)
{
	struct outcome oc = parse("-m a.w -k 3 --max-pixels 4000000000 --seed 12345678901 --conf-thres 0.5 "
				  "--alpha 0.25 --size 320x256 -f yolo --exif --agn --downsample 8 --count -q x y");
	CHECK(oc.status == 0 && !oc.err[0] &&
	      !strcmp(oc.out, "model=a.w top=3 n=0 px=4000000000 seed=12345678901 conf=0.5 alpha=0.25 size=320x256 "
			      "fmt=2 nfmt=0 exif=1 agnostic=1 ds=8/1 count=(none) quiet=1 first=x"),
	      "every kind of row stores its value; an alias stores through its target; an abbreviation of "
	      "two spellings of one option is that option (%s)", oc.out);
	oc = parse("--json --csv --count=json --size 64");
	CHECK(oc.status == 0 && strstr(oc.out, " fmt=7 nfmt=2 ") && strstr(oc.out, " count=json ") &&
	      strstr(oc.out, " size=64x64 ") && strstr(oc.out, "first=(end)"),
	      "given counts both formats; the last one wins; an optional value; N is NxN (%s)", oc.out);
	oc = parse("--nc 7");
	CHECK(oc.status == 0 && strstr(oc.out, " n=7 ") && !strcmp(oc.err, "prog: --nc is deprecated: use -n/--num-classes\n"),
	      "an old spelling says so on stderr, then works");
	oc = parse("-k 9 -h -k 0");
	CHECK(oc.status == 0 && !strcmp(oc.out, "usage text\n") && !oc.err[0], "-h prints the usage and ends");
	oc = parse("--help");
	CHECK(oc.status == 0 && !strcmp(oc.out, "usage text\n"), "--help too");
	oc = parse("--version");
	CHECK(oc.status == 0 && !strncmp(oc.out, "prog (cnnkit) ", 14), "--version names the toolkit");
	for (size_t i = 0; i < sizeof failures / sizeof failures[0]; i++) {
		oc = parse(failures[i].args);
		char want[512];
		snprintf(want, sizeof want, "prog: %s", failures[i].err);
		CHECK(oc.status == 2 && !oc.out[0] && !strcmp(oc.err, want), "%s: %s", failures[i].args, failures[i].why);
		if (strcmp(oc.err, want))
			printf("# status %d, stderr:\n# %s", oc.status, oc.err);
	}
}

int main(void)
{
	test_opts();
	CHECK(!strcmp(closest("conff"), "conf"), "--conff: one letter too many is --conf");
	CHECK(!strcmp(closest("jsno"), "json"), "--jsno: two letters swapped is --json");
	CHECK(!strcmp(closest("qiuet"), "quiet"), "--qiuet is --quiet");
	CHECK(!strcmp(closest("nmu-clases"), "num-classes"), "--nmu-clases (two slips in ten letters) is --num-classes");
	CHECK(!strcmp(closest("downsampel"), "downsample"), "--downsampel is --downsample");
	CHECK(!strcmp(closest("cs"), "csv"), "--cs is --csv");
	CHECK(!strcmp(closest("quiet"), "quiet"), "an exact name is itself");
	CHECK(!strcmp(closest("bogus"), "(none)"), "--bogus is nothing: no suggestion beats a wrong one");
	CHECK(!strcmp(closest("x"), "(none)"), "-x is nothing");
	CHECK(!strcmp(closest("classes"), "(none)"), "--classes is too far from --num-classes to guess");
	CHECK(cli_closest_option("conff=3", 5, opts) == 0, "only the name before '=' counts");
	char longname[100];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	CHECK(cli_closest_option(longname, strlen(longname), opts) == -1, "a 99-letter name matches nothing");

	int h = 0, w = 0;
	CHECK(cli_parse_size("--size", "320x256", 32, 4096, &h, &w) == 0 && h == 320 && w == 256,
	      "320x256 is 320 high, 256 wide");
	CHECK(cli_parse_size("--size", "500", 32, 4096, &h, &w) == 1 && h == 500 && w == 500, "500 is 500x500");
	CHECK(cli_parse_size("--size", "24X30", 1, 65535, &h, &w) == 0 && h == 24 && w == 30, "X works as x");
	return check_done();
}
