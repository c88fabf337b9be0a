/*
 * Commands that act on a live container through its cgroups: pause, resume,
 * ps, events, update, and kill --all. Each takes the state root and the id, and
 * finds the container's cgroup directories (one per hierarchy) in its state.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct json_object;
struct oci_resources;

/*
 * Freeze every process of a running container: the v1 freezer where it is
 * mounted (pure v1 and hybrid hosts), cgroup.freeze on pure v2. Returns once the
 * kernel reports the cgroup frozen, or fails after about 5 s and thaws it again.
 */
int container_pause(const char *root, const char *id);
int container_resume(const char *root, const char *id);

/* The PIDs in the container's cgroups, sorted and unique; *pids is malloc'd. */
int container_ps(const char *root, const char *id, pid_t **pids, size_t *n);

/*
 * One statistics snapshot, shaped as the "data" of runc's `events --stats`
 * ({"cpu":..,"memory":..,"pids":..,"blkio":..,"hugetlb":..}). *data is new.
 */
int container_stats(const char *root, const char *id, struct json_object **data);

/*
 * Called with each event ({"type":"stats"|"oom","id":..,"data":..}); the
 * callback does not keep the object. A negative return stops the stream and is
 * returned by container_events.
 */
typedef int (*container_event_fn)(struct json_object *event, void *arg);

/*
 * stats_only: one stats event, then return. Otherwise a stats event every
 * interval_ms and an oom event whenever the kernel OOM-kills in the container's
 * memory cgroup, until the container's init exits.
 */
int container_events(const char *root, const char *id, bool stats_only, unsigned interval_ms,
		     container_event_fn fn, void *arg);

/*
 * Send sig to every process in the container's cgroups. SIGKILL goes through
 * cgroup.kill where the kernel has it (v2, 5.14+), which no fork can escape;
 * otherwise each PID is signalled with the cgroup frozen, when a freezer is at
 * hand, so that nothing forks in between.
 */
int container_kill_all(const char *root, const char *id, int sig);
/* The same on a state's cgroup_leaves, for a caller that holds the state already. */
int container_kill_leaves(char *const *leaves, int sig);

/*
 * Change a created, running or paused container's resources: only the fields
 * set in r (has_* flags, non-NULL strings) are written.
 */
int container_update(const char *root, const char *id, const struct oci_resources *r);
