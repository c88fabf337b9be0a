/*
 * `run`: create, start at once (no fifo), and in the foreground stay as the
 * init's parent: forward signals, proxy the terminal, reap it, return its
 * status, and delete the container.
 */
#include "internal.h"
#include "hooks.h"
#include "sync.h"
#include "terminal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

struct fg {
	struct create_ctx *c;
	int sigfd;
	int pty;
	bool exited;
	int status;
};

static void reap(struct fg *f)
{
	int st;
	pid_t p = waitpid(f->c->pid, &st, WNOHANG);
	if (p == f->c->pid) {
		f->exited = true;
		f->status = st;
	}
}

/* Handle one readable fd of the wait loop; true when the init has exited. */
static bool on_event(int fd, void *ctx)
{
	struct fg *f = ctx;
	if (fd == f->c->pidfd) {
		reap(f);
		return f->exited;
	}
	struct signalfd_siginfo si;
	while (read(f->sigfd, &si, sizeof(si)) == sizeof(si)) {
		int sig = (int)si.ssi_signo;
		if (sig == SIGCHLD)
			continue;
		if (sig == SIGWINCH && f->pty >= 0) {
			term_resize_from(STDIN_FILENO, f->pty);
			continue;
		}
		pidfd_send_signal(f->c->pidfd, sig, NULL, 0);
	}
	reap(f);
	return f->exited;
}

static int wait_loop(struct fg *f)
{
	if (f->pty >= 0) {
		term_resize_from(STDIN_FILENO, f->pty);
		struct term_proxy p = {.master = f->pty,
				       .extra_fds = {f->sigfd, f->c->pidfd},
				       .on_event = on_event,
				       .ctx = f};
		int r = term_proxy_run(&p);
		if (r < 0)
			return r;
	}
	while (!f->exited) {
		struct pollfd pf[2] = {{.fd = f->sigfd, .events = POLLIN},
				       {.fd = f->c->pidfd, .events = POLLIN}};
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return herr_sys("poll");
		}
		for (int i = 0; i < 2; i++)
			if (pf[i].revents && on_event(pf[i].fd, f))
				break;
	}
	return 0;
}

/*
 * The delete after a foreground run, from what we hold in memory (no state.json
 * to read back). Under the state lock: if the directory is gone, someone ran
 * `delete --force` meanwhile and has done all of it, hooks included.
 */
static int destroy_stopped(struct create_ctx *c)
{
	_cleanup_close_ int lock = -1;
	if (statedir_open_locked(c->o->root, c->o->id, &lock) < 0) {
		herr_clear();
		return 0;
	}
	if (c->cfg->hooks[OCI_HOOK_POSTSTOP].n) {
		_cleanup_free_ char *state = oci_state_hook_json(
		    c->o->id, 0, c->bundle, c->cfg->annotations_json, OCI_STOPPED);
		hooks_run(&c->cfg->hooks[OCI_HOOK_POSTSTOP], OCI_HOOK_POSTSTOP, state, true);
		herr_clear();
	}
	int r = c->cg_made ? cgroup_destroy(c->cg.created) : 0;
	int r2 = fs_rm_rf(c->statedir);
	return r < 0 ? r : r2;
}

static void *close_in_thread(void *fd)
{
	close((int)(intptr_t)fd);
	return NULL;
}

/*
 * The last reference to the container's mount namespace goes on a thread of
 * its own: unmounting its filesystems (100-250 us with the default mounts)
 * then runs on the other CPU while we remove the cgroups, instead of in the
 * init's exit before its parent hears of it. A poststop hook may want those
 * filesystems gone (an overlay's upper directory free again): then they go
 * first, here.
 */
static bool release_mntns(struct create_ctx *c, pthread_t *th)
{
	if (c->mntns_fd < 0)
		return false;
	pthread_attr_t attr;
	bool started = false;
	if (!c->cfg->hooks[OCI_HOOK_POSTSTOP].n && pthread_attr_init(&attr) == 0) {
		pthread_attr_setstacksize(&attr, 64 * 1024);
		int fd = take_fd(c->mntns_fd);
		started = pthread_create(th, &attr, close_in_thread, (void *)(intptr_t)fd) == 0;
		if (!started)
			close(fd);
		pthread_attr_destroy(&attr);
	}
	closep(&c->mntns_fd);
	return started;
}

int container_run(const struct container_opts *o, int *exit_status)
{
	*exit_status = 0;
	struct create_ctx c;
	create_ctx_init(&c, o);
	c.run_mode = true;
	struct fg f = {.c = &c, .sigfd = -1, .pty = -1};

	/* Block signals before the init exists so none is lost; it unblocks its own. */
	sigset_t all, old;
	sigfillset(&all);
	if (!o->detach) {
		sigprocmask(SIG_BLOCK, &all, &old);
		f.sigfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
		if (f.sigfd < 0) {
			int r = herr_sys("signalfd");
			sigprocmask(SIG_SETMASK, &old, NULL);
			create_ctx_free(&c);
			return r;
		}
	}
	int r = create_container(&c, &f.pty);
	/* Created: other commands (kill, delete --force) may act on it now. */
	closep(&c.statedir_fd);
	if (r >= 0) {
		r = sync_wait_exec(c.sock); /* the init keeps its end until execve */
		if (r < 0)
			create_ctx_abort(&c);
	}
	if (r >= 0 && c.cfg->hooks[OCI_HOOK_POSTSTART].n) {
		_cleanup_free_ char *state = oci_state_hook_json(
		    o->id, c.pid, c.bundle, c.cfg->annotations_json, OCI_RUNNING);
		hooks_run(&c.cfg->hooks[OCI_HOOK_POSTSTART], OCI_HOOK_POSTSTART, state, true);
		herr_clear();
	}
	if (r >= 0 && !o->detach) {
		/*
		 * Freeing the document costs a run tens of microseconds: done while the
		 * process runs, not after it, unless a poststop hook still wants the
		 * annotations.
		 */
		if (!c.cfg->hooks[OCI_HOOK_POSTSTOP].n)
			oci_config_drop_json(c.cfg);
		r = wait_loop(&f);
		if (f.exited)
			*exit_status = WIFSIGNALED(f.status) ? 128 + WTERMSIG(f.status)
							     : WEXITSTATUS(f.status);
		/* Without a PID namespace of its own, the init's children outlive it. */
		if (c.cg_made &&
		    !(c.cfg->linux.ns[OCI_NS_PID].present && !c.cfg->linux.ns[OCI_NS_PID].path))
			cgroup_signal_all(c.cg.leaves, SIGKILL);
		c.pid = 0;
		pthread_t th;
		bool th_started = release_mntns(&c, &th);
		int r2 = destroy_stopped(&c);
		if (th_started)
			pthread_join(th, NULL);
		if (r >= 0)
			r = r2;
	}
	closep(&f.pty);
	closep(&f.sigfd);
	if (!o->detach)
		sigprocmask(SIG_SETMASK, &old, NULL);
	create_ctx_free(&c);
	return r;
}
