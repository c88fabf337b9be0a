/*
 * Rootless mode (runc's --rootless): containers of an unprivileged user, in a
 * user namespace, with cgroups only where the user was given some, and the
 * state under $XDG_RUNTIME_DIR.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct create_ctx;

enum rootless_mode { ROOTLESS_AUTO, ROOTLESS_ON, ROOTLESS_OFF };

/* "true", "false" or "auto"; a negative errno for anything else. */
int rootless_parse(const char *s, enum rootless_mode *m);
void rootless_set_mode(enum rootless_mode m);
/* Forced on, or (auto, the default) the effective uid is not 0. */
bool rootless_active(void);
/*
 * The default state root: $XDG_RUNTIME_DIR/hull for an unprivileged caller, once
 * XDG_RUNTIME_DIR is checked to be a directory of its own; /run/hull otherwise.
 */
int rootless_state_root(char *buf, size_t len);
/* Whether the caller may create the cgroup directory dir, or join it if it exists. */
bool rootless_cgroup_usable(const char *dir);
/*
 * load_bundle's checks and adjustments: an unprivileged caller needs a user
 * namespace; sysfs, which a user namespace without its own network namespace
 * cannot mount, becomes a bind of the host's; and in rootless mode the cgroups
 * the user may not write are left out with a warning, or are an error when
 * linux.resources asks for limits.
 */
int rootless_check_bundle(struct create_ctx *c);
