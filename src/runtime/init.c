/*
 * The container's init, from clone to execve. It runs in its new namespaces with
 * the parent's memory image (the parsed config), sets up the rootfs, reports
 * ready, waits for start, drops privileges and executes the user's process.
 * Any failure travels to the parent as one message.
 */
#include "internal.h"
#include "hooks.h"
#include "seccomp.h"
#include "sync.h"
#include "terminal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static void reset_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int run_container_hooks(struct create_ctx *c, enum oci_hook_kind kind, pid_t host_pid,
			       enum oci_status status)
{
	if (!c->cfg->hooks[kind].n)
		return 0;
	_cleanup_free_ char *state =
	    oci_state_hook_json(c->o->id, host_pid, c->bundle, c->cfg->annotations_json, status);
	return hooks_run(&c->cfg->hooks[kind], kind, state, false);
}

static int setup_terminal(struct create_ctx *c, int rootfd)
{
	const struct oci_process *p = c->cfg->process;
	_cleanup_close_ int ptmx = fs_open_in_root(rootfd, "/dev/pts/ptmx", O_PATH);
	if (ptmx < 0)
		return herr_set(-ptmx,
				"process.terminal: no /dev/pts/ptmx in the container "
				"(mount devpts on /dev/pts): %s",
				strerror(-ptmx));
	char path[64];
	int master, slave;
	int r = term_open_pty(fs_fd_path(ptmx, path, sizeof(path)), &master, &slave,
			      p->console_height, p->console_width);
	if (r < 0)
		return herr_ctx(r, "process.terminal");
	_cleanup_close_ int m = master, s = slave;
	r = devices_console(rootfd, s);
	if (r < 0)
		return r;
	r = sync_send(c->sock, SYNC_PTY, 0, 0, "console", m);
	if (r < 0)
		return r;
	r = term_make_controlling(take_fd(s));
	return r;
}

/* Block until `hull start` writes to exec.fifo. */
static int wait_fifo(struct create_ctx *c)
{
	struct pollfd p = {.fd = c->fifo_fd, .events = POLLIN};
	for (;;) {
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return herr_sys("poll exec.fifo");
		}
		char b;
		ssize_t n = read(c->fifo_fd, &b, 1);
		if (n == 1)
			break;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return herr_sys("read exec.fifo");
		/* A writer that came and went without a byte: wait for the next. */
		if (n == 0)
			nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	/* Kept open (O_CLOEXEC) so `start` sees it close when the process is executed. */
	return 0;
}

/* SYNC_CGROUPS: the v1 tasks files to join. */
static int take_cgroups(struct create_ctx *c)
{
	struct sync_msg m;
	struct cgroup_join j = {.v2_dirfd = -1};
	int fds[SYNC_MAX_FDS];
	size_t n;
	c->cg_taken = true;
	int r = sync_recv_fds(c->sock, &m, fds, &n);
	if (r < 0)
		return r;
	j.tasks_fds = fds;
	j.n = n;
	if (m.type != SYNC_CGROUPS) {
		for (size_t i = 0; i < n; i++)
			close(fds[i]);
		if (m.type == SYNC_ERROR)
			return herr_set(m.code, "%s", m.data);
		return herr_set(EPROTO, "sync: expected the cgroups, got message %u", m.type);
	}
	r = cgroup_join_self(&j);
	for (size_t i = 0; i < j.n; i++)
		close(fds[i]);
	return r;
}

/* In the container's cgroups (and its cgroup namespace): cgroup mounts may be made. */
int init_join_cgroups(struct create_ctx *c)
{
	if (c->cg_joined)
		return 0;
	c->cg_joined = true;
	int r;
	if (c->want_cgroups && !c->cg_born_in && (r = take_cgroups(c)) < 0)
		return r;
	const struct oci_namespace *cg = &c->cfg->linux.ns[OCI_NS_CGROUP];
	if (cg->present && !cg->path && unshare(CLONE_NEWCGROUP) < 0)
		return herr_sys("linux.namespaces: cannot create a cgroup namespace");
	return 0;
}

/* Joined, and the parent has set the limits: the process may run. */
int init_cgroups_ready(struct create_ctx *c)
{
	int r = init_join_cgroups(c);
	if (r < 0 || !c->want_cgroups || c->cg_limited)
		return r;
	if (!c->cg_taken && (r = take_cgroups(c)) < 0)
		return r;
	struct sync_msg m;
	int tree;
	c->cg_limited = true;
	if ((r = sync_recv(c->sock, &m, &tree)) < 0)
		return r;
	if (m.type != SYNC_LIMITS || c->cgm_by_parent != (tree >= 0)) {
		if (tree >= 0)
			close(tree);
		if (m.type == SYNC_ERROR)
			return herr_set(m.code, "%s", m.data);
		return herr_set(EPROTO, "sync: expected the cgroups' limits, got message %u",
				m.type);
	}
	if (tree < 0)
		return 0;
	r = mounts_cgroup_attach_tree(c, tree); /* the cgroup mount the parent built */
	close(tree);
	return r;
}

static int init_run(struct create_ctx *c)
{
	struct sync_msg m;
	cgroup_join_close(&c->cg_join); /* the parent's; ours come with SYNC_CGROUPS */
	int r = 0;
	pid_t host_pid = 0;
	if (c->need_go) {
		if ((r = sync_expect(c->sock, SYNC_GO, &m)) < 0)
			return r;
		host_pid = m.pid;
	}
	const struct oci_linux *l = &c->cfg->linux;

	/* In a fresh user namespace we are nobody until we take root there. */
	if (l->ns[OCI_NS_USER].present && !l->ns[OCI_NS_USER].path) {
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			return herr_sys("cannot become root in the user namespace");
	}
	r = ns_child_join(c);
	if (r < 0)
		return r;
	/* Born in its cgroup: in its cgroup namespace too, before any mount. */
	if (c->cg_born_in && (r = init_join_cgroups(c)) < 0)
		return r;

	_cleanup_close_ int rootfd = -1;
	r = rootfs_prepare(c, &rootfd);
	if (r < 0)
		return r;
	/* Unless the parent builds the cgroup mount: then just before the process. */
	if (!c->cgm_by_parent && (r = init_join_cgroups(c)) < 0)
		return r;
	/* Hooks run with the limits set; the parent serves SYNC_HOOKS only after SYNC_LIMITS. */
	const struct oci_hook_list *hooks = c->cfg->hooks;
	if (hooks_before_start(c->cfg) && (r = init_cgroups_ready(c)) < 0)
		return r;
	if (hooks[OCI_HOOK_PRESTART].n || hooks[OCI_HOOK_CREATE_RUNTIME].n) {
		r = sync_send(c->sock, SYNC_HOOKS, 0, 0, NULL, -1);
		if (r < 0 || (r = sync_expect(c->sock, SYNC_HOOKS_DONE, &m)) < 0)
			return r;
	}
	r = run_container_hooks(c, OCI_HOOK_CREATE_CONTAINER, host_pid, OCI_CREATING);
	if (r < 0)
		return r;
	if (c->cfg->process->terminal && (r = setup_terminal(c, rootfd)) < 0)
		return r;
	if ((r = rootfs_pivot(c, rootfd)) < 0)
		return r;
	closep(&rootfd);
	if ((r = rootfs_finish(c)) < 0)
		return r;
	if ((r = init_cgroups_ready(c)) < 0)
		return r;

	_cleanup_free_ char *exe = NULL;
	char **env = NULL;
	if ((r = process_prepare(c, &exe, &env)) < 0)
		return r;

	/*
	 * The seccomp agent must get the notify fd from the parent, which `create`
	 * does not keep waiting past READY: such a filter goes in now.
	 */
	if (hull_seccomp_has_notify(c->seccomp) && (r = process_load_seccomp(c)) < 0)
		return r;
	if ((r = sync_send(c->sock, SYNC_READY, 0, 0, NULL, -1)) < 0)
		return r;
	/* `run` goes straight on; `create` leaves us waiting for `start`. */
	if (!c->run_mode) {
		if ((r = sync_expect(c->sock, SYNC_START_FIFO, &m)) < 0)
			return r;
		closep(&c->sock);
		if ((r = wait_fifo(c)) < 0)
			return r;
	}
	r = run_container_hooks(c, OCI_HOOK_START_CONTAINER, host_pid, OCI_CREATED);
	if (r < 0)
		return r;
	if ((r = process_finalize(c)) < 0)
		return r;
	return process_exec(c, exe, env);
}

_Noreturn void init_main(struct create_ctx *c)
{
	reset_signals();
	/* The parent's fds: the state dir lock must not outlive the parent in us. */
	closep(&c->statedir_fd);
	closep(&c->pidfd);
	int r = init_run(c);
	if (r >= 0)
		r = herr_set(EIO, "init returned without executing the process");
	if (c->sock >= 0)
		sync_send(c->sock, SYNC_ERROR, herr_code(), 0, herr_msg(), -1);
	else
		dprintf(STDERR_FILENO, "hull: %s\n", herr_msg());
	_exit(127);
}
