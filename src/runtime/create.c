/*
 * The parent side of create and run: read the bundle, make the state dir and
 * cgroups, clone the init into its namespaces, answer its requests (id maps,
 * hooks, the pty), and record the state once it is ready.
 */
#include "internal.h"
#include "hooks.h"
#include "namespaces.h"
#include "rootless.h"
#include "idmap.h"
#include "seccomp.h"
#include "cgroup-resources.h"
#include "sync.h"
#include "terminal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

unsigned long long proc_start_time(pid_t pid);

void create_ctx_init(struct create_ctx *c, const struct container_opts *o)
{
	memset(c, 0, sizeof(*c));
	c->o = o;
	c->statedir_fd = c->sock = c->fifo_fd = c->pidfd = c->mntns_fd = -1;
	c->cg_join = (struct cgroup_join){.v2_dirfd = -1};
	for (int i = 0; i < OCI_NS_COUNT; i++)
		c->ns_fds[i] = -1;
}

void create_ctx_free(struct create_ctx *c)
{
	mounts_premade_close(c);
	ns_early_discard();
	for (int i = 0; i < OCI_NS_COUNT; i++)
		closep(&c->ns_fds[i]);
	closep(&c->sock);
	closep(&c->fifo_fd);
	closep(&c->pidfd);
	closep(&c->mntns_fd);
	closep(&c->statedir_fd);
	cgroup_set_free(&c->cg);
	cgroup_join_close(&c->cg_join);
	idmap_release();
	hull_seccomp_free(c->seccomp);
	oci_resources_free(c->resources);
	free(c->dev_rules);
	oci_config_free(c->cfg);
	free(c->bundle);
	free(c->rootfs);
	free(c->statedir);
	c->cfg = NULL;
}

/* Undo a create that failed half-way: nothing may be left behind. */
void create_ctx_abort(struct create_ctx *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		c->pid = 0;
	}
	if (c->cg_made)
		cgroup_destroy(c->cg.created);
	if (c->statedir)
		fs_rm_rf(c->statedir);
}

/* A sysctl may only touch a namespace the container has: never the host's. */
static int check_sysctls(const struct oci_config *cfg)
{
	static const struct {
		const char *prefix;
		enum oci_ns ns;
	} namespaced[] = {
	    {"net.", OCI_NS_NET},
	    {"kernel.msgmax", OCI_NS_IPC},
	    {"kernel.msgmnb", OCI_NS_IPC},
	    {"kernel.msgmni", OCI_NS_IPC},
	    {"kernel.sem", OCI_NS_IPC},
	    {"kernel.shmall", OCI_NS_IPC},
	    {"kernel.shmmax", OCI_NS_IPC},
	    {"kernel.shmmni", OCI_NS_IPC},
	    {"kernel.shm_rmid_forced", OCI_NS_IPC},
	    {"fs.mqueue.", OCI_NS_IPC},
	    {"kernel.hostname", OCI_NS_UTS},
	    {"kernel.domainname", OCI_NS_UTS},
	};
	const struct oci_linux *l = &cfg->linux;
	for (size_t i = 0; i < l->n_sysctl; i++) {
		const char *k = l->sysctl[i].key;
		size_t j;
		for (j = 0; j < ARRAY_SIZE(namespaced); j++)
			if (!strncmp(k, namespaced[j].prefix, strlen(namespaced[j].prefix)))
				break;
		if (j == ARRAY_SIZE(namespaced))
			return herr_set(EPERM,
					"%s: linux.sysctl: \"%s\" is not namespaced: it would "
					"change the host",
					cfg->path, k);
		if (!l->ns[namespaced[j].ns].present)
			return herr_set(EPERM,
					"%s: linux.sysctl: \"%s\" needs a %s namespace of the "
					"container's own in linux.namespaces",
					cfg->path, k, oci_ns_name(namespaced[j].ns));
	}
	return 0;
}

static int load_bundle(struct create_ctx *c)
{
	const char *b = c->o->bundle ? c->o->bundle : ".";
	char buf[PATH_MAX];
	if (!realpath(b, buf))
		return herr_sys("--bundle: %s", b);
	c->bundle = strdup(buf);
	_cleanup_free_ char *path = NULL, *text = NULL;
	size_t len;
	int r = oci_config_read(c->bundle, &path, &text, &len);
	if (r < 0)
		return r;
	/* A guess from the text: the parsed config decides whether it is used. */
	if (geteuid() == 0 && !rootless_active() && memmem(text, len, "\"network\"", 9))
		ns_early_start();
	if ((r = oci_config_parse(text, len, path, &c->cfg)) < 0)
		return r;
	struct oci_config *cfg = c->cfg;
	const char *where = cfg->path;
	if (!cfg->process)
		return herr_set(EINVAL, "%s: process: is required to create a container", where);
	char rp[PATH_MAX];
	snprintf(rp, sizeof(rp), "%s%s%s", cfg->root_path[0] == '/' ? "" : c->bundle,
		 cfg->root_path[0] == '/' ? "" : "/", cfg->root_path);
	if (!realpath(rp, buf))
		return herr_sys("%s: root.path: %s", where, rp);
	struct stat st;
	if (stat(buf, &st) < 0 || !S_ISDIR(st.st_mode))
		return herr_set(ENOTDIR, "%s: root.path: %s is not a directory", where, rp);
	c->rootfs = strdup(buf);

	const struct oci_linux *l = &cfg->linux;
	if (!l->ns[OCI_NS_MNT].present)
		return herr_set(EINVAL, "%s: linux.namespaces: a mount namespace is required",
				where);
	if ((cfg->hostname || cfg->domainname) && !l->ns[OCI_NS_UTS].present)
		return herr_set(EINVAL, "%s: hostname: needs a uts namespace in linux.namespaces",
				where);
	if (cfg->process->terminal && !c->o->console_socket && (c->o->detach || !c->run_mode))
		return herr_set(EINVAL,
				"%s: process.terminal: a detached container with a "
				"terminal needs --console-socket",
				where);
	if (!cfg->process->terminal && c->o->console_socket)
		return herr_set(
		    EINVAL, "--console-socket: given, but %s: process.terminal is false", where);
	if (l->ns[OCI_NS_USER].present && !l->ns[OCI_NS_USER].path &&
	    (!l->n_uid_mappings || !l->n_gid_mappings))
		return herr_set(EINVAL,
				"%s: linux.uidMappings: a new user namespace needs "
				"uidMappings and gidMappings",
				where);
	if ((r = ns_check_id_maps(cfg)) < 0)
		return r;
	if ((r = check_sysctls(cfg)) < 0)
		return r;
	if (l->resources) {
		r = oci_resources_parse(l->resources, where, "linux.resources", &c->resources);
		if (r < 0)
			return r;
	} else if (!(c->resources = calloc(1, sizeof(*c->resources)))) {
		return herr_set(ENOMEM, "out of memory");
	}
	if ((l->cgroups_path || l->resources) &&
	    (r = cgroup_device_rules(cfg, c->resources, &c->dev_rules, &c->n_dev_rules)) < 0)
		return r;
	if ((r = rootless_check_bundle(c)) < 0)
		return r;
	/* Compiled here, so a bad profile fails before anything exists. */
	char cache[PATH_MAX];
	snprintf(cache, sizeof(cache), "%s/" HULL_SECCOMP_CACHE, c->o->root);
	r = hull_seccomp_build_cached(l->seccomp, where, cache, &c->seccomp);
	if (r < 0)
		return r;
	return 0;
}

/*
 * A new PID namespace belongs to the user namespace of the process that makes
 * it, and only its first process can be its init. So for a root runtime that
 * joins a user namespace by path and wants a new PID namespace (otherwise the
 * host's user namespace would own it, and /proc could not be mounted), a
 * short-lived helper joins the user namespace, unshares the PID namespace and
 * clones the init with CLONE_PARENT: the init is our child as usual, pid 1 of
 * a namespace the container's user namespace owns.
 */
static pid_t clone_init_via_userns(struct create_ctx *c, int child_sock, unsigned long flags)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return herr_sys("pipe");
	pid_t helper = fork();
	if (helper == 0) {
		close(p[0]);
		pid_t pid = -errno;
		if (setns(c->ns_fds[OCI_NS_USER], CLONE_NEWUSER) < 0 || unshare(CLONE_NEWPID) < 0) {
			pid = -errno;
		} else {
			struct clone_args a = {.flags = (flags & ~(unsigned long)CLONE_NEWPID) |
							CLONE_PARENT};
			pid = (pid_t)syscall(SYS_clone3, &a, sizeof(a));
			if (pid == 0) {
				c->sock = child_sock;
				init_main(c);
			}
			if (pid < 0)
				pid = -errno;
		}
		(void)!write(p[1], &pid, sizeof(pid));
		_exit(0);
	}
	close(p[1]);
	pid_t pid = -EIO;
	if (helper < 0)
		pid = -errno;
	else if (read(p[0], &pid, sizeof(pid)) != sizeof(pid))
		pid = -EIO;
	close(p[0]);
	if (helper > 0)
		while (waitpid(helper, NULL, 0) < 0 && errno == EINTR)
			;
	if (pid < 0)
		return herr_set(-pid,
				"linux.namespaces: cannot create the init's pid namespace in user "
				"namespace %s: %s",
				c->cfg->linux.ns[OCI_NS_USER].path, strerror(-pid));
	/* Our own child: its pid cannot be reused before we reap it. */
	if ((c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0)
		return herr_sys("pidfd_open");
	return pid;
}

/*
 * Whether the init, cloned straight into its only cgroup (a pure v2 host), can
 * count itself in it from the start: its cgroup mount and namespace need not
 * wait for the parent, whose SYNC_CGROUPS (nothing to join) and SYNC_LIMITS it
 * takes just before the process runs. Not with hooks that run before that
 * (the parent serves them after the cgroups) or a user namespace.
 */
static bool cgroups_born_in_fit(const struct create_ctx *c)
{
	return c->want_cgroups && c->cg.layout == CGROUP_UNIFIED && !c->need_go &&
	       !hooks_before_start(c->cfg);
}

static pid_t clone_init(struct create_ctx *c, int child_sock)
{
	const struct oci_linux *l = &c->cfg->linux;
	unsigned long flags = 0;
	for (int i = 0; i < OCI_NS_COUNT; i++) {
		if (!l->ns[i].present || l->ns[i].path || i == OCI_NS_CGROUP || i == OCI_NS_TIME)
			continue;
		flags |= ns_clone_flag(i);
	}
	/* Namespaces made after joining someone else's user ns must belong to it. */
	if (l->ns[OCI_NS_USER].present && l->ns[OCI_NS_USER].path) {
		c->unshare_flags = flags & ~(unsigned long)CLONE_NEWPID;
		flags &= CLONE_NEWPID;
		if ((flags & CLONE_NEWPID) && geteuid() == 0 && c->ns_fds[OCI_NS_USER] >= 0)
			return clone_init_via_userns(c, child_sock, flags);
	}
	/*
	 * The init is born in the namespaces made while we read the config (not
	 * with a user namespace of its own, which must own them).
	 */
	struct ns_early_saved saved;
	if (ns_early_pending() && !l->ns[OCI_NS_USER].present) {
		/* while the helper still works */
		mounts_premake(c);
		process_drop_bounding_early(c);
	}
	unsigned long entered = ns_early_enter(l->ns[OCI_NS_USER].present ? 0 : flags, &saved);
	flags &= ~entered;
	int pidfd = -1;
	struct clone_args args = {
	    .flags = flags | CLONE_PIDFD,
	    .pidfd = (uint64_t)(uintptr_t)&pidfd,
	    .exit_signal = SIGCHLD,
	};
	if (c->cg_join.v2_dirfd >= 0) {
		args.flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)c->cg_join.v2_dirfd;
	}
	/* Set before the clone, so that the init's copy says how it was born. */
	c->cg_v2_joined = c->cg_join.v2_dirfd >= 0;
	c->cg_born_in = c->cg_v2_joined && cgroups_born_in_fit(c);
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0 && c->cg_join.v2_dirfd >= 0) {
		/* Not a leaf we may clone into: the parent moves it afterwards instead. */
		c->cg_v2_joined = c->cg_born_in = false;
		args.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
		args.cgroup = 0;
		pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	}
	int e = errno;
	if (pid == 0) {
		for (int i = 0; i < 3; i++)
			if (saved.fd[i] >= 0)
				close(saved.fd[i]);
		c->sock = child_sock;
		init_main(c);
	}
	int left = entered ? ns_early_leave(&saved) : 0;
	if (left < 0) {
		/* Staying in the container's namespaces is not an option. */
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(pidfd);
		}
		return herr_set(-left, "cannot return to the runtime's own namespaces: %s",
				strerror(-left));
	}
	ns_early_discard();	 /* the helper, gone by now */
	mounts_premade_close(c); /* the init has its own copies */
	errno = e;
	if (pid < 0)
		return herr_sys("cannot create the container's init (clone3)");
	c->pidfd = pidfd;
	/*
	 * A foreground run keeps the mount namespace it made, so that the init's
	 * exit does not unmount it all before we learn of it (see run.c). Without
	 * it (no /proc) the init tears it down as usual.
	 */
	if (c->run_mode && !c->o->detach && (flags & CLONE_NEWNS)) {
		char path[40];
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
		c->mntns_fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	return pid;
}

/*
 * While the init builds its rootfs: the v1 cgroups are made and handed to it
 * with SYNC_CGROUPS (their tasks files, to move itself into); then the limits
 * of those and of the v2 cgroup it was cloned into are set while it joins (a
 * v2 device program alone takes a quarter of a millisecond to load), and
 * SYNC_LIMITS, with the cgroup mount's tree if we build it, says they are. The
 * init runs nothing of the container's before SYNC_LIMITS.
 */
static int hand_over_cgroups(struct create_ctx *c)
{
	size_t from = 0;
	while (c->cg.leaves && c->cg.leaves[from])
		from++;
	int r = cgroup_create(c->cfg->linux.cgroups_path ? c->cfg->linux.cgroups_path : c->o->id,
			      c->o->systemd_cgroup, CGROUP_V1, &c->cg);
	if (r < 0)
		return r;
	struct cgroup_join j = {.v2_dirfd = -1};
	r = cgroup_join_open(&c->cg, from, &j);
	if (r >= 0)
		r = sync_send_fds(c->sock, SYNC_CGROUPS, j.tasks_fds, j.n);
	cgroup_join_close(&j);
	if (r < 0)
		return r;
	if (c->cg_join.v2_leaf) {
		r = cgroup_v2_apply(c->cg_join.v2_leaf, c->resources, c->dev_rules, c->n_dev_rules,
				    false, c->cg.layout != CGROUP_UNIFIED);
		if (r < 0)
			return herr_ctx(r, "%s", c->cfg->path);
	}
	if (c->cg.leaves && c->cg.leaves[from]) {
		r = cgroup_v1_apply(c->cg.leaves + from, c->resources, c->dev_rules, c->n_dev_rules,
				    false);
		if (r < 0)
			return herr_ctx(r, "%s", c->cfg->path);
	}
	_cleanup_close_ int tree = -1;
	if (c->cgm_by_parent && (tree = mounts_cgroup_tree(c, c->cgm_index)) < 0)
		return herr_ctx(tree, "%s", c->cfg->path);
	return sync_send(c->sock, SYNC_LIMITS, 0, 0, NULL, tree);
}

static char *now_rfc3339(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char buf[64], out[80];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, sizeof(out), "%s.%09ldZ", buf, ts.tv_nsec);
	return strdup(out);
}

static int run_parent_hooks(struct create_ctx *c)
{
	_cleanup_free_ char *state = oci_state_hook_json(c->o->id, c->pid, c->bundle,
							 c->cfg->annotations_json, OCI_CREATING);
	int r = hooks_run(&c->cfg->hooks[OCI_HOOK_PRESTART], OCI_HOOK_PRESTART, state, false);
	if (r < 0)
		return r;
	return hooks_run(&c->cfg->hooks[OCI_HOOK_CREATE_RUNTIME], OCI_HOOK_CREATE_RUNTIME, state,
			 false);
}

/* Serve the init until it is ready; *pty gets the master when it sends one. */
static int serve_init(struct create_ctx *c, int *pty)
{
	for (;;) {
		struct sync_msg m;
		int fd;
		int r = sync_recv(c->sock, &m, &fd);
		if (r < 0)
			return r;
		switch (m.type) {
		case SYNC_ERROR:
			return herr_set(m.code, "%s", m.data);
		case SYNC_HOOKS:
			r = run_parent_hooks(c);
			if (r < 0)
				return r;
			r = sync_send(c->sock, SYNC_HOOKS_DONE, 0, 0, NULL, -1);
			break;
		case SYNC_PTY:
			if (c->o->console_socket) {
				r = term_send_to_console_socket(c->o->console_socket, fd);
				close(fd);
				if (r < 0)
					return herr_ctx(r, "--console-socket");
			} else {
				*pty = fd;
			}
			break;
		case SYNC_SECCOMP:
			r = seccomp_listener_send(c->seccomp, fd, c->pid, c->o->id, c->bundle,
						  c->cfg->annotations_json, OCI_CREATING);
			closep(&fd);
			if (r < 0)
				return r;
			r = sync_send(c->sock, SYNC_SECCOMP_DONE, 0, 0, NULL, -1);
			break;
		case SYNC_READY:
			return 0;
		default:
			return herr_set(EPROTO, "sync: unexpected message %u from init", m.type);
		}
		if (r < 0)
			return r;
	}
}

static int save_state(struct create_ctx *c, enum oci_status status)
{
	struct oci_state st = {
	    .id = (char *)c->o->id,
	    .bundle = c->bundle,
	    .rootfs = c->rootfs,
	    .created = now_rfc3339(),
	    .owner = "",
	    .pid = c->pid,
	    .start_time = proc_start_time(c->pid),
	    .own_pidns = c->cfg->linux.ns[OCI_NS_PID].present && !c->cfg->linux.ns[OCI_NS_PID].path,
	    .annotations = c->cfg->annotations_json,
	    .hooks = c->cfg->hooks_json,
	    .cgroups = c->cg.created,
	    .cgroup_leaves = c->cg.leaves,
	    .status = status,
	};
	char path[4200];
	snprintf(path, sizeof(path), "%s/state.json", c->statedir);
	int r = oci_state_save(path, &st);
	free(st.created);
	if (r < 0 || !c->o->pid_file)
		return r;
	char num[16];
	int n = snprintf(num, sizeof(num), "%d", c->pid);
	r = fs_write_file_atomic(c->o->pid_file, num, (size_t)n);
	return r < 0 ? herr_ctx(r, "--pid-file") : 0;
}

/*
 * Everything up to "the init waits for start". On failure everything is undone.
 * *pty receives the terminal master for a foreground run without console socket.
 */
int create_container(struct create_ctx *c, int *pty)
{
	*pty = -1;
	int r = load_bundle(c);
	if (r < 0)
		return r;
	/* Before anything exists; the init inherits the trees with our memory. */
	if ((r = idmap_prepare(c)) < 0)
		return r;
	/*
	 * `create` needs the state dir first (the init inherits exec.fifo's read
	 * end). `run` makes it while the init builds its rootfs: an id that is
	 * taken then costs an init that is killed, which is the rare case.
	 */
	if (!c->run_mode && (r = statedir_create(c)) < 0)
		return r;
	const struct oci_linux *l = &c->cfg->linux;
	c->need_go = (l->ns[OCI_NS_USER].present && !l->ns[OCI_NS_USER].path) ||
		     c->cfg->hooks[OCI_HOOK_CREATE_CONTAINER].n ||
		     c->cfg->hooks[OCI_HOOK_START_CONTAINER].n;
	/*
	 * The v2 cgroup is made now, to clone the init straight into it; its limits
	 * and the v1 cgroups follow while the init builds its rootfs (v1 ones are
	 * handed to it to join).
	 */
	const char *cgp = c->cfg->linux.cgroups_path;
	c->want_cgroups = cgp || c->cfg->linux.resources;
	if (c->want_cgroups) {
		c->cg_made = true;
		r = cgroup_create(cgp ? cgp : c->o->id, c->o->systemd_cgroup, CGROUP_V2, &c->cg);
		if (r < 0 || (r = cgroup_join_open(&c->cg, 0, &c->cg_join)) < 0)
			goto fail;
	} else if (c->o->systemd_cgroup) {
		r = cgroup_create("", true, CGROUP_ALL, &c->cg);
		goto fail;
	}
	c->cgm_by_parent = mounts_cgroup_tree_fits(c, &c->cgm_index);
	if ((r = ns_open_paths(c)) < 0)
		goto fail;
	if (!c->run_mode) {
		char fifo[4200];
		snprintf(fifo, sizeof(fifo), "%s/exec.fifo", c->statedir);
		if (mkfifo(fifo, 0600) < 0) {
			r = herr_sys("cannot create %s", fifo);
			goto fail;
		}
		c->fifo_fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (c->fifo_fd < 0) {
			r = herr_sys("cannot open %s", fifo);
			goto fail;
		}
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = herr_sys("socketpair");
		goto fail;
	}
	c->sock = sv[0];

	int saved[2] = {-1, -1}, own_time = -1;
	r = ns_parent_join_for_children(c, saved);
	if (r >= 0 && c->cfg->linux.ns[OCI_NS_TIME].present &&
	    !c->cfg->linux.ns[OCI_NS_TIME].path) {
		own_time = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
		r = ns_setup_timens(c);
	} else if (r >= 0) {
		r = ns_setup_timens(c); /* only validates */
	}
	if (r >= 0) {
		pid_t pid = clone_init(c, sv[1]);
		if (pid < 0)
			r = (int)pid;
		else
			c->pid = pid;
	}
	close(sv[1]);
	ns_parent_restore(saved);
	if (own_time >= 0) {
		setns(own_time, CLONE_NEWTIME);
		close(own_time);
	}
	closep(&c->fifo_fd);
	idmap_release();    /* the init has its own copies */
	ns_early_discard(); /* made for nothing: not wanted, or a user namespace owns them */
	if (r < 0)
		goto fail;

	if (c->cg_join.v2_leaf && !c->cg_v2_joined) {
		char procs[4200], num[16];
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", c->cg_join.v2_leaf);
		int n = snprintf(num, sizeof(num), "%d", c->pid);
		if ((r = fs_write_file(procs, num, (size_t)n)) < 0) {
			herr_ctx(r, "linux.cgroupsPath");
			goto fail;
		}
	}
	if ((r = ns_write_id_maps(c)) < 0)
		goto fail;
	if (c->need_go && (r = sync_send(c->sock, SYNC_GO, 0, c->pid, NULL, -1)) < 0)
		goto fail;
	if (c->want_cgroups && (r = hand_over_cgroups(c)) < 0)
		goto fail;
	cgroup_join_close(&c->cg_join); /* the init has its own copies */
	if (c->run_mode && (r = statedir_create(c)) < 0)
		goto fail;
	if ((r = serve_init(c, pty)) < 0)
		goto fail;
	/* In `run` the init is executing the process while we record the state. */
	if ((r = save_state(c, c->run_mode ? OCI_RUNNING : OCI_CREATED)) < 0)
		goto fail;
	return 0;
fail:
	if (*pty >= 0)
		closep(pty);
	create_ctx_abort(c);
	return r;
}
