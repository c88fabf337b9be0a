/*
 * OCI hooks: each runs with the container state JSON on stdin, its own args and
 * env (an empty env when none is given), and is killed after its timeout.
 */
#pragma once
#include <stdbool.h>
#include "oci/config.h"

/*
 * Run every hook of a list in order. The first failure (non-zero exit, signal,
 * timeout, exec failure) stops the list and returns -errno with a message naming
 * "hooks.<kind>[i]" and the hook path; with warn_only it is logged as a warning and
 * the remaining hooks still run (poststop), returning 0.
 */
int hooks_run(const struct oci_hook_list *list, enum oci_hook_kind kind, const char *state_json,
	      bool warn_only);
const char *hooks_kind_name(enum oci_hook_kind kind); /* "createRuntime" */
