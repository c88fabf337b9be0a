/* The flags of `deck create` and `deck run`, docker's, into a struct ctr_config. */
#pragma once
#include <stdbool.h>

#include "engine/container.h"

struct deck_run_flags {
	bool detach;	  /* -d (run only) */
	const char *name; /* --name, without a leading "/"; NULL: none given */
	bool sig_proxy;	  /* --sig-proxy (default true) */
};

extern const char deck_run_usage[];
extern const char deck_create_usage[];

/*
 * argv[0] is "run" or "create". On success c is filled (c->image and c->cmd
 * too: argv[*image_index] and what follows it), *image_index is the index of
 * IMAGE in argv, and 0 is returned. A usage error is printed as docker prints
 * it ("deck: ...\nSee 'deck run --help'.") and 125 returned, c cleared. --help
 * prints the usage, sets *help_printed and returns 0. c need not be
 * initialised; the caller clears it (ctr_config_clear) after a success.
 */
int deck_parse_run(int argc, char **argv, bool is_run, struct ctr_config *c,
		   struct deck_run_flags *f, int *image_index, bool *help_printed);

/* docker's sizes: "64m", "1g", "1.5GiB", "512" (bytes); 1024-based. -1 if not one. */
int64_t deck_parse_size(const char *s);
