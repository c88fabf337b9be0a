/*
 * libFuzzer entry point for the config.json reader: every input must either
 * parse or fail with a recorded error, never crash, leak or read out of bounds.
 * linux.resources is kept unparsed by the config reader and read later by the
 * runtime, so it is fed to its own parser here too. Built and run by tests/fuzz/run.
 */
#include "common/error.h"
#include "oci/config.h"
#include "oci/resources.h"
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_config *c = NULL;
	struct oci_resources *r = NULL;

	herr_clear();
	if (oci_config_parse((const char *)data, size, "fuzz.json", &c) < 0) {
		/* A failure must say why: an empty message hides the error from the user. */
		if (herr_msg()[0] == '\0' || c)
			abort();
		return 0;
	}
	if (c->linux.resources) {
		herr_clear();
		if (oci_resources_parse(c->linux.resources, "fuzz.json", "linux.resources", &r) <
		    0) {
			if (herr_msg()[0] == '\0' || r)
				abort();
		} else {
			oci_resources_free(r);
		}
	}
	oci_config_free(c);
	return 0;
}
