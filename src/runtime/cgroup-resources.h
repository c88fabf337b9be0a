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
 * The device rules to enforce, in runc's order: deny everything, then
 * linux.resources.devices in order, then runc's defaults (mknod of any node,
 * /dev/null zero full random urandom tty ptmx, pts/N, net/tun), which come last
 * as in runc (see cgroup-devices.c). *out is malloc'd.
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

/*
 * Attach a BPF_CGROUP_DEVICE program enforcing rules (v1 semantics, as listed by
 * cgroup_device_rules) to the cgroup2 dir fd, replacing the programs attached
 * there before (the new one is attached first, so no access slips through).
 */
int cgroup_v2_devices_attach(int dirfd, const struct oci_dev_rule *rules, size_t n);
