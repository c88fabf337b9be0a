/* Mount options ("ro", "rbind", "rnosuid", "mode=755", ...) split the way the kernel takes them. */
#pragma once
#include "config.h"

/*
 * Fill m's bind, recursive, flags, clear_flags, propagation, rec_attr_set,
 * rec_attr_clr, tmpcopyup, idmap, ridmap and data from m->options (and m->type:
 * "bind" implies a bind mount). Those fields are reset first.
 *
 * "bind"/"rbind" set m->bind/m->recursive only: MS_BIND and MS_REC are not put
 * in m->flags, so flags can be reused as-is for the read-only/nosuid remount.
 * Propagation options keep the last one given. m->data is a malloc()ed string
 * that the caller owns (NULL when there are no filesystem options).
 * `filename` and `where` ("mounts[2].options") only prefix error messages.
 */
int oci_mount_parse_options(struct oci_mount *m, const char *filename, const char *where);
