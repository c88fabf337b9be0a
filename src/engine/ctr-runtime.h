/*
 * The OCI runtime operations deck needs besides what the shim does: through
 * the runtime library in process, or a runtime binary (runc's command line)
 * when the container was made with --runtime.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ctr_record;

int ctr_rt_kill(const char *root, const struct ctr_record *r, int sig, bool all);
int ctr_rt_pause(const char *root, const struct ctr_record *r, bool pause);
/* Delete the runtime's container if it still has one (force: even while it runs). */
int ctr_rt_delete(const char *root, const struct ctr_record *r, bool force);
int ctr_rt_ps(const char *root, const struct ctr_record *r, pid_t **pids, size_t *n);
