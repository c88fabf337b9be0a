/* The runtime library behind hull: one function per lifecycle operation. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include "oci/state.h"

struct container_opts {
	const char *root; /* state root, e.g. /run/hull */
	const char *id;
	const char *bundle; /* default "." */
	const char *pid_file;
	const char *console_socket;
	bool no_pivot;
	bool no_new_keyring;
	bool detach; /* run -d */
	int preserve_fds;
	uint64_t inherited_fds; /* bit i: fd 3+i was open when hull started */
	bool systemd_cgroup;
};

int container_create(const struct container_opts *o);
/* Foreground run: *exit_status is the container's status (128+N on signal N). */
int container_run(const struct container_opts *o, int *exit_status);
int container_start(const char *root, const char *id);
int container_kill(const char *root, const char *id, int sig, bool all);
int container_delete(const char *root, const char *id, bool force);
/* Load state.json and work out the current status. */
int container_state(const char *root, const char *id, struct oci_state *st);
/* All containers under root; *ids is NULL-terminated, sorted. */
int container_list(const char *root, char ***ids);
int container_validate_id(const char *id);
