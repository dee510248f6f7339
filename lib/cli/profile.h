/* infer-*'s --profile: the network's layers, slowest first, and the pipeline's other stages,
 * per image, on stderr (the results keep stdout). */
#ifndef TN_CLI_PROFILE_H
#define TN_CLI_PROFILE_H

#include "net/net.h"

/* A stage outside the network, its time summed over the images */
struct cli_stage {
	const char *name; /* "decode", "pre-processing", "post-processing" */
	double ms;
};

/* Measures this machine's FMA peak, then prints the net's profile (tn_net_profile was on for
 * its forwards) and the stages, divided by images; csv: one table with a header. */
void cli_profile_print(const struct tn_net *net, const struct cli_stage *stages, int n_stages, int images,
		       int csv);

#endif
