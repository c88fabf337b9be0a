/*
 * Idmapped bind mounts: mounts[].uidMappings/gidMappings and the "idmap" and
 * "ridmap" options (runtime-spec 1.1+, as runc 1.2 reads them).
 *
 * A mapping entry {containerID, hostID, size} reads as for a user namespace
 * whose uid_map it becomes: a file owned by containerID on disk shows as
 * hostID through the mount, and a file created by hostID lands on disk as
 * containerID. "idmap" maps the bind's top mount, "ridmap" every mount in an
 * rbind; mappings without either option act like "idmap". "idmap"/"ridmap"
 * without mappings take the container's user namespace (linux.uidMappings, or
 * the one joined by path).
 *
 * The parent builds every idmapped tree before it clones the init, which
 * inherits the fds with the rest of its memory image and attaches them.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include "oci/config.h"

struct create_ctx;

/* True if m asks for an idmapped mount (mappings, "idmap" or "ridmap"). */
bool idmap_wanted(const struct oci_mount *m);

/*
 * In the parent, before the init is cloned: check every idmapped mount of
 * c->cfg and build its detached, idmapped tree. On failure nothing is left:
 * no fd, no helper process. Errors name the config file and mounts[i].
 */
int idmap_prepare(struct create_ctx *c);

/*
 * The detached tree made for mounts[i] (ownership passes to the caller), its
 * root a directory or not in *is_dir; -ENOENT if there is none.
 */
int idmap_take_tree(size_t i, bool *is_dir);

/* Close the trees not taken. Safe to call any number of times. */
void idmap_release(void);
