/* infer-*'s --profile: the network's layers, slowest first, and the pipeline's other stages,
 * per image, on stderr (the results keep stdout). */
#ifndef TN_CLI_PROFILE_H
#define TN_CLI_PROFILE_H

#include "cli/opts.h"
#include "net/net.h"

enum { CLI_PROFILE_OFF, CLI_PROFILE_TEXT, CLI_PROFILE_CSV };

struct cli_profile {
	int mode;        /* CLI_PROFILE_* */
	struct tn_net *net;
	double stage[3]; /* decode, pre-processing, post-processing: ms summed over the images */
	int images;
};

/* --profile or --profile=csv */
void cli_profile_arg(void *mode, const char *arg);
#define CLI_PROFILE_ROW(p) CLI_CALL("profile", 0, &(p)->mode, cli_profile_arg, optional_argument)
/* Its lines in a program's --help */
#define CLI_PROFILE_HELP                                                                             \
	"      --profile[=csv]    on stderr: each layer's time per image, slowest first, with its\n"    \
	"                         MACs, GFLOP/s and share of this machine's measured FMA peak,\n"      \
	"                         and the stages outside the network (CSV with =csv)\n"

/* Turns the net's per-node timing on when --profile was given. */
void cli_profile_start(struct cli_profile *p, struct tn_net *net);
/* One image's stages outside the network. */
void cli_profile_image(struct cli_profile *p, double decode_ms, double pre_ms, double post_ms);
/* Measures this machine's FMA peak and prints the profile, per image. */
void cli_profile_end(struct cli_profile *p);

#endif
