/*
 * Applying linux.resources to a container's cgroups, per layout. On a hybrid
 * host the v1 hierarchies carry the controllers and the unified one only what
 * the kernel enabled there (hugetlb on the development machine).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "oci/config.h"
#include "oci/resources.h"

/*
 * The device rules to enforce: runc's defaults (deny everything, then allow the
 * standard nodes /dev/null zero full random urandom tty console ptmx pts/* and
 * the like) followed by linux.resources.devices, in order. *out is malloc'd.
 */
int cgroup_device_rules(const struct oci_config *cfg, const struct oci_resources *r,
			struct oci_dev_rule **out, size_t *n);

/*
 * v1: write every given field into the container's leaf in each v1 hierarchy
 * (leaves: absolute dirs; the applier picks each file's hierarchy by which files
 * exist). With update, only fields present in r change, and checkBeforeUpdate /
 * the memory+swap ordering rules are honoured. Errors name the JSON path and the
 * cgroup file: "linux.resources.memory.limit: write memory.limit_in_bytes: ...".
 */
int cgroup_v1_apply(char *const *leaves, const struct oci_resources *r,
		    const struct oci_dev_rule *rules, size_t n_rules, bool update);

/*
 * v2: the same for the container's directory in the unified hierarchy, with the
 * conversions of the runtime-spec (cpu shares -> weight, blkio -> io.*, swap ->
 * memory.swap.max = swap - limit, ...), `unified` key/values, and the device rules
 * as a BPF_CGROUP_DEVICE program. partial: a hybrid host's unified hierarchy, where
 * only controllers enabled there apply and the rest is left to v1.
 */
int cgroup_v2_apply(const char *leaf, const struct oci_resources *r,
		    const struct oci_dev_rule *rules, size_t n_rules, bool update, bool partial);

/* Attach a BPF_CGROUP_DEVICE program enforcing rules to the cgroup2 dir fd. */
int cgroup_v2_devices_attach(int dirfd, const struct oci_dev_rule *rules, size_t n);
