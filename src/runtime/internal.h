/* What the parent (create.c) and the container's init (init.c) share. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>
#include "oci/config.h"
#include "container.h"
#include "cgroup.h"
#include "oci/resources.h"

struct create_ctx {
	const struct container_opts *o;
	struct oci_config *cfg;
	char *bundle;	 /* absolute */
	char *rootfs;	 /* absolute */
	char *statedir;	 /* <root>/<id> */
	int statedir_fd; /* locked */
	struct cgroup_set cg;
	bool cg_made;
	struct cgroup_join cg_join;
	bool cg_v2_joined;    /* CLONE_INTO_CGROUP worked */
	bool cg_born_in;      /* ...and that is all the joining there is (init_cgroups_ready) */
	bool cg_taken;	      /* in the init: SYNC_CGROUPS taken */
	bool cg_limited;      /* in the init: SYNC_LIMITS taken */
	bool want_cgroups;    /* the init waits for SYNC_CGROUPS */
	bool need_go;	      /* the init waits for SYNC_GO (id maps, or its host pid for hooks) */
	bool cg_joined;	      /* in the init: done */
	bool *deferred;	      /* in the init: mounts put off until the cgroups are joined */
	bool masks_done;      /* in the init: sysctls, masked and read-only paths applied */
	bool cwd_entered;     /* in the init: process.cwd entered with the runtime's rights */
	int *premade;	      /* per mount: a filesystem the parent made for it, or -1 */
	bool devices_premade; /* and the /dev one has the nodes and links in it */
	bool cgm_by_parent;   /* mounts[cgm_index] (cgroup) is built by the parent, attached late */
	size_t cgm_index;
	bool bounding_dropped; /* the parent dropped the bounding set before the clone */
	size_t n_deferred;
	int ns_fds[OCI_NS_COUNT]; /* namespaces to join, opened by the parent */
	int sock;		  /* our end of the socketpair */
	int fifo_fd;		  /* exec.fifo read end, for create */
	pid_t pid;
	int pidfd;
	int mntns_fd; /* foreground run: the mount namespace the init was born in */
	int preserve_fds;
	bool run_mode;			 /* foreground or detached run: no fifo */
	struct hull_seccomp *seccomp;	 /* compiled linux.seccomp, or NULL */
	bool seccomp_loaded;		 /* in the init: the filter is in */
	struct oci_resources *resources; /* linux.resources (empty if absent) */
	struct oci_dev_rule *dev_rules;	 /* what the devices cgroup enforces */
	size_t n_dev_rules;
	unsigned long unshare_flags; /* new namespaces the init makes after joining a user ns */
};

/* namespaces.c */
unsigned long ns_clone_flag(enum oci_ns ns);
int ns_open_paths(struct create_ctx *c);
int ns_parent_join_for_children(struct create_ctx *c, int saved[2]);
void ns_parent_restore(int saved[2]);
int ns_setup_timens(struct create_ctx *c);
int ns_write_id_maps(struct create_ctx *c);
int ns_child_join(struct create_ctx *c);

/* ns-early.c: new net, ipc and uts namespaces made while the config is read */
struct ns_early_saved {
	int fd[3];
};
void ns_early_start(void);
bool ns_early_pending(void); /* a helper is at work */
/* Enter those of flags the helper made; returns them (0: none, clone3 makes them). */
unsigned long ns_early_enter(unsigned long flags, struct ns_early_saved *saved);
int ns_early_leave(struct ns_early_saved *saved); /* back to our own; -errno */
void ns_early_discard(void);

/* Hooks that run before the process: with them, the init keeps the plain order of setup. */
static inline bool hooks_before_start(const struct oci_config *cfg)
{
	return cfg->hooks[OCI_HOOK_PRESTART].n || cfg->hooks[OCI_HOOK_CREATE_RUNTIME].n ||
	       cfg->hooks[OCI_HOOK_CREATE_CONTAINER].n;
}

/* init.c: the container's first process; never returns */
_Noreturn void init_main(struct create_ctx *c);
/* In the init: move into the cgroups the parent made, then unshare the cgroup ns. */
int init_join_cgroups(struct create_ctx *c);
/* ...and SYNC_CGROUPS taken, limits set: the process may run. */
int init_cgroups_ready(struct create_ctx *c);

/* rootfs.c */
int rootfs_prepare(struct create_ctx *c, int *rootfd);
int rootfs_pivot(struct create_ctx *c, int rootfd);
int rootfs_finish(struct create_ctx *c);

/* mounts.c */
int mounts_setup(struct create_ctx *c, int rootfd);
int mounts_finish(struct create_ctx *c, int rootfd); /* the cgroup mounts put off */
bool path_under(const char *path, const char *dir);  /* path is dir or inside it */
bool mounts_is_cgroup(const struct oci_mount *m);
/* "/dev/NAME" with NAME a plain file name: NAME, else NULL. */
const char *mounts_dev_entry(const char *path);
bool mounts_cgroup_tree_fits(const struct create_ctx *c, size_t *idx);
int mounts_cgroup_tree(struct create_ctx *c, size_t i);	       /* in the parent: a detached tree */
int mounts_cgroup_attach_tree(struct create_ctx *c, int tree); /* in the init, after pivot */
/* In the parent: make the init's tmpfs and devpts filesystems ahead (see mounts.c). */
void mounts_premake(struct create_ctx *c);
void mounts_premade_close(struct create_ctx *c);
/* Whether path (in the container) lies in or under a mount that is still put off. */
bool mounts_deferred_covers(const struct create_ctx *c, const char *path);

/* devices.c */
bool devices_needs_setup(const struct oci_config *cfg);
int devices_setup(struct create_ctx *c, int rootfd);
bool devices_premake(struct create_ctx *c, int devfd);
int devices_console(int rootfd, int slave);

/* maskpaths.c */
/* Every target resolved inside rootfd, which is the container's root. */
int maskpaths_apply(const struct oci_config *cfg, int rootfd);

/* process.c */
int process_prepare(struct create_ctx *c, char **exe_out, char ***env_out);
int process_finalize(struct create_ctx *c);
void process_drop_bounding_early(struct create_ctx *c);
/* Load linux.seccomp once; a notify fd goes to the parent (SYNC_SECCOMP) for the listener. */
int process_load_seccomp(struct create_ctx *c);
int process_exec(struct create_ctx *c, const char *exe, char **env);

/* statedir.c */
int statedir_path(const char *root, const char *id, char *buf, size_t len);
int statedir_create(struct create_ctx *c);
int statedir_open_locked(const char *root, const char *id, int *fd);

/* create.c */
void create_ctx_init(struct create_ctx *c, const struct container_opts *o);
void create_ctx_free(struct create_ctx *c);
void create_ctx_abort(struct create_ctx *c);
int create_container(struct create_ctx *c, int *pty);
unsigned long long proc_start_time(pid_t pid);
/* container.c */
int hooks_from_state(struct json_object *hooks, enum oci_hook_kind kind, const char *id, pid_t pid,
		     const char *bundle, struct json_object *annotations, enum oci_status status,
		     bool warn_only);
