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

/* Shared by create/start and teardown. */
bool ctr_is_cni_network(const char *net); /* not "none" nor "host" */
bool ctr_is_mountpoint(const char *path);
void ctr_umount_all(const char *path);	 /* every mount stacked on path */
void ctr_netns_remove(const char *path); /* unmount and unlink the bind-mounted netns */
