/* Namespaces and id maps; the rest of namespaces.c's API is in internal.h. */
#pragma once
#include "oci/config.h"

/*
 * Check linux.uidMappings and linux.gidMappings before anything is created: no
 * size 0, no overlap, no more than the kernel takes, and for an unprivileged
 * caller, only ids /etc/subuid and /etc/subgid give it (besides its own).
 */
int ns_check_id_maps(const struct oci_config *cfg);
