/* lib/cli: the nearest long option for a mistyped one, and sizes as HxW or N.  (The messages
 * and exit statuses of cli_unknown_option are tested through the programs, in the bats files.) */
#include "check.h"
#include "cli/cli.h"

#include <string.h>

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

int main(void)
{
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
