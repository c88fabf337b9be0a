/*
 * cgroups on every host layout: pure v2, pure v1, and hybrid (v1 controllers plus
 * a cgroup2 mount at /sys/fs/cgroup/unified). A container's cgroup is one
 * directory per mounted hierarchy; we remember which directories we created so
 * that delete removes exactly those.
 */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

enum cgroup_layout { CGROUP_LEGACY, CGROUP_HYBRID, CGROUP_UNIFIED };

struct cgroup_hier {
	char *mountpoint;  /* /sys/fs/cgroup/memory */
	char *controllers; /* "memory", "cpu,cpuacct", "name=systemd"; "" for cgroup2 */
	bool v2;
	char *own; /* the caller's cgroup in it, from /proc/self/cgroup */
};

struct cgroup_set {
	enum cgroup_layout layout;
	char **leaves;	/* the container's directory in each hierarchy (NULL-terminated) */
	char **created; /* every directory we made, deepest first (NULL-terminated) */
};

enum cgroup_layout cgroup_detect_layout(void);
/* Mounted hierarchies; n returned, *out freed by cgroup_hiers_free. */
int cgroup_hiers(struct cgroup_hier **out, size_t *n);
/* The same without the caller's place in them (own is NULL): read once per process, not freed. */
int cgroup_hiers_mounted(const struct cgroup_hier **out, size_t *n);
void cgroup_hiers_free(struct cgroup_hier *h, size_t n);

/*
 * Create the container's cgroups. path is linux.cgroupsPath: absolute (from each
 * hierarchy's root), relative (under the caller's cgroup), or NULL with
 * default_name (relative). With systemd, path is "slice:prefix:name".
 */
enum cgroup_which { CGROUP_V1 = 1, CGROUP_V2 = 2, CGROUP_ALL = 3 };
int cgroup_create(const char *path, bool systemd, enum cgroup_which which, struct cgroup_set *out);
int cgroup_enter(const struct cgroup_set *cg, pid_t pid);
/*
 * Joining without the global lock. Moving a process by PID into a cgroup takes
 * cgroup_threadgroup_rwsem for writing, which waits for an RCU grace period
 * (10-20 ms here). A single-threaded process that moves itself ("0" into a v1
 * `tasks` file) skips that lock, and clone3(CLONE_INTO_CGROUP) places a child in
 * a v2 cgroup under the read side only. So the parent opens the v1 `tasks` files
 * (the kernel checks the opener's credentials, so this works from inside a user
 * namespace too) and the v2 directory, and the init moves itself.
 */
struct cgroup_join {
	int *tasks_fds; /* v1 "<leaf>/tasks", O_WRONLY */
	size_t n;
	int v2_dirfd; /* v2 leaf for CLONE_INTO_CGROUP, or -1 */
	char *v2_leaf;
};
/* Open the join handles of cg->leaves[from...], adding to j (which starts zeroed, v2_dirfd -1). */
int cgroup_join_open(const struct cgroup_set *cg, size_t from, struct cgroup_join *j);
int cgroup_join_self(struct cgroup_join *j); /* in the init; closes the fds */
void cgroup_join_close(struct cgroup_join *j);
/* Remove what cgroup_create made (from state: the created list). */
int cgroup_destroy(char **created);
/* Signal every process in the container's cgroups. */
int cgroup_signal_all(char **leaves, int sig);
/* The container's leaf directories from a state's created list (those under all others). */
void cgroup_set_free(struct cgroup_set *cg);
