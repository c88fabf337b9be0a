/*
 * `deck pull`: a reference resolved against its registry, the manifest for
 * the platform picked from an index, the config and layers fetched into the
 * store (several at once, each verified, resumed after a failure) and
 * unpacked into snapshots, then the name recorded. What a pull adds is only
 * used once it is complete: a killed pull leaves ingest/ files that the next
 * one resumes.
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "image/registry.h"
#include "image/store.h"

enum img_pull_event {
	IMG_PULL_RESOLVED,    /* digest = the manifest's; total = the layers' size */
	IMG_PULL_LAYER_START, /* digest, total = its size */
	IMG_PULL_LAYER_BYTES, /* digest, done of total */
	IMG_PULL_LAYER_EXISTS,
	IMG_PULL_LAYER_DONE, /* downloaded and verified */
	IMG_PULL_LAYER_UNPACKED,
};

struct img_pull_opts {
	const char *platform; /* NULL: this machine's */
	struct registry_opts reg;
	int jobs; /* concurrent layer downloads; 0: 3 */
	/* Called from any of the pull's threads, one call at a time. */
	void (*progress)(void *ctx, enum img_pull_event ev, const char *digest, uint64_t done,
			 uint64_t total);
	void *ctx;
};

/* Pull ref (as img_ref_parse takes it); *out (may be NULL) gets the record. */
int img_pull(struct img_store *st, const char *ref, const struct img_pull_opts *o,
	     struct img_record *out);
