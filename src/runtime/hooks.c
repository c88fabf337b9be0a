#include "runtime/hooks.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const kind_names[OCI_HOOK_COUNT] = {
    [OCI_HOOK_PRESTART] = "prestart",
    [OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
    [OCI_HOOK_CREATE_CONTAINER] = "createContainer",
    [OCI_HOOK_START_CONTAINER] = "startContainer",
    [OCI_HOOK_POSTSTART] = "poststart",
    [OCI_HOOK_POSTSTOP] = "poststop",
};

const char *hooks_kind_name(enum oci_hook_kind kind)
{
	if ((unsigned)kind >= OCI_HOOK_COUNT)
		return "unknown";
	return kind_names[kind];
}

/*
 * In the forked child: only async-signal-safe calls, because the caller may
 * have threads (an engine linking the library). The child starts with every
 * signal blocked (see spawn_hook) so no handler of the parent can run here.
 * in_fd and err_fd are above 2 (see move_above_std).
 */
static _Noreturn void hook_child(const struct oci_hook *h, int in_fd, int err_fd)
{
	static char *const empty_env[] = {NULL};
	char *default_argv[] = {h->path, NULL};
	char *const *argv = h->args && h->args[0] ? h->args : default_argv;
	char *const *envp = h->env ? h->env : empty_env;
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t none;

	/* A hook gets a clean slate, not the runtime's ignored SIGPIPE or its signalfd mask. */
	for (int sig = 1; sig < NSIG; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL); /* fails harmlessly for glibc's internal ones */
	}
	if (dup2(in_fd, STDIN_FILENO) < 0)
		goto fail;
	/* Everything is O_CLOEXEC already; this also catches fds leaked by libraries. */
	if (err_fd > 3)
		close_range(3, (unsigned)err_fd - 1, 0);
	close_range((unsigned)err_fd + 1, ~0U, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(h->path, argv, envp);
fail:;
	int e = errno;
	ssize_t unused = write(err_fd, &e, sizeof(e));
	(void)unused;
	_exit(127);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct feed {
	int fd; /* write end of the hook's stdin, non-blocking; -1 when done */
	const char *buf;
	size_t len, off;
};

/* SIGPIPE is blocked by the caller of this, so a hook that ignores its stdin only costs an EPIPE.
 */
static void feed_some(struct feed *f)
{
	while (f->off < f->len) {
		ssize_t n = write(f->fd, f->buf + f->off, f->len - f->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			break; /* EPIPE: the hook closed its stdin, which is its right */
		}
		f->off += (size_t)n;
	}
	close(f->fd);
	f->fd = -1;
}

/*
 * Wait for the hook while feeding its stdin, both in one poll loop so that a
 * hook that never reads a large state cannot block us past its timeout.
 * Returns 0 once the child has exited (and is reaped into *si), 1 on timeout.
 */
static int wait_hook(int pidfd, struct feed *f, int timeout_s, siginfo_t *si)
{
	int64_t deadline = timeout_s > 0 ? now_ms() + (int64_t)timeout_s * 1000 : -1;
	for (;;) {
		struct pollfd pfd[2] = {{.fd = pidfd, .events = POLLIN},
					{.fd = f->fd, .events = POLLOUT}};
		int wait_ms = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0)
				return 1;
			wait_ms = left > 1000000000 ? 1000000000 : (int)left;
		}
		int r = poll(pfd, f->fd >= 0 ? 2 : 1, wait_ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return herr_sys("poll");
		}
		if (r == 0)
			continue; /* the deadline check above decides */
		if (f->fd >= 0 && pfd[1].revents)
			feed_some(f);
		if (pfd[0].revents)
			break;
	}
	for (;;) {
		memset(si, 0, sizeof(*si));
		if (waitid(P_PIDFD, (id_t)pidfd, si, WEXITED) == 0)
			return 0;
		if (errno != EINTR)
			return herr_sys("waitid");
	}
}

static int spawn_hook(const struct oci_hook *h, int in_fd, int err_fd, pid_t *pid)
{
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t p = fork();
	if (p == 0)
		hook_child(h, in_fd, err_fd);
	int saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (p < 0) {
		errno = saved;
		return herr_sys("fork");
	}
	*pid = p;
	return 0;
}

/*
 * With a closed stdin/stdout/stderr a pipe could land on 0-2, where the child's
 * dup2 and close_range would trip over it.
 */
static int move_above_std(int *fd)
{
	if (*fd > STDERR_FILENO)
		return 0;
	int n = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (n < 0)
		return -1;
	close(*fd);
	*fd = n;
	return 0;
}

static int run_one(const struct oci_hook *h, const char *what, const char *state_json)
{
	int in[2], err[2];
	if (pipe2(in, O_CLOEXEC) < 0)
		return herr_sys("%s (%s): pipe", what, h->path);
	_cleanup_close_ int in_r = in[0];
	_cleanup_close_ int in_w = in[1];
	if (pipe2(err, O_CLOEXEC) < 0)
		return herr_sys("%s (%s): pipe", what, h->path);
	_cleanup_close_ int err_r = err[0];
	_cleanup_close_ int err_w = err[1];
	if (move_above_std(&in_r) < 0 || move_above_std(&in_w) < 0 || move_above_std(&err_r) < 0 ||
	    move_above_std(&err_w) < 0 || fcntl(in_w, F_SETFL, O_NONBLOCK) < 0)
		return herr_sys("%s (%s): fcntl", what, h->path);

	pid_t pid = -1;
	int r = spawn_hook(h, in_r, err_w, &pid);
	if (r < 0)
		return herr_ctx(r, "%s (%s)", what, h->path);
	close(take_fd(in_r));
	close(take_fd(err_w));

	/* We have not reaped it, so the pid cannot have been reused yet. */
	_cleanup_close_ int pidfd = pidfd_open(pid, 0);
	if (pidfd < 0) {
		r = herr_sys("%s (%s): pidfd_open", what, h->path);
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return r;
	}

	struct feed f = {take_fd(in_w), state_json ? state_json : "",
			 state_json ? strlen(state_json) : 0, 0};
	if (f.len == 0) {
		close(f.fd);
		f.fd = -1;
	}
	siginfo_t si;
	r = wait_hook(pidfd, &f, h->timeout, &si);
	if (f.fd >= 0)
		close(f.fd);
	if (r != 0) {
		pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
		while (waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED) < 0 && errno == EINTR)
			;
		if (r < 0)
			return herr_ctx(r, "%s (%s)", what, h->path);
		return herr_set(ETIMEDOUT, "%s (%s): timed out after %d seconds", what, h->path,
				h->timeout);
	}

	int exec_err = 0;
	if (read(err_r, &exec_err, sizeof(exec_err)) == (ssize_t)sizeof(exec_err) && exec_err > 0)
		return herr_set(exec_err, "%s (%s): cannot execute: %s", what, h->path,
				strerror(exec_err));
	if (si.si_code == CLD_EXITED) {
		if (si.si_status == 0)
			return 0;
		return herr_set(ECANCELED, "%s (%s): exited with status %d", what, h->path,
				si.si_status);
	}
	return herr_set(ECANCELED, "%s (%s): killed by signal %d (%s)", what, h->path, si.si_status,
			strsignal(si.si_status));
}

int hooks_run(const struct oci_hook_list *list, enum oci_hook_kind kind, const char *state_json,
	      bool warn_only)
{
	if (!list || list->n == 0)
		return 0;

	/*
	 * Block SIGPIPE while feeding stdin, and swallow one we caused, so a hook
	 * that exits without reading does not kill the runtime or reach the
	 * caller's signalfd. One that was already pending stays for the caller.
	 */
	sigset_t pipe_set, old, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &old);
	sigpending(&pending);
	bool was_pending = sigismember(&pending, SIGPIPE);

	/* Poststop hooks run while cleaning up after a failure: keep that error for the caller. */
	static struct herr saved;
	if (warn_only)
		saved = herr_last;

	int rc = 0;
	for (size_t i = 0; i < list->n; i++) {
		char what[64];
		snprintf(what, sizeof(what), "hooks.%s[%zu]", hooks_kind_name(kind), i);
		int r = run_one(&list->v[i], what, state_json);
		if (r < 0) {
			if (!warn_only) {
				rc = r;
				break;
			}
			log_warn("%s", herr_msg());
		}
	}
	if (warn_only)
		herr_last = saved;

	if (!was_pending) {
		struct timespec zero = {0, 0};
		sigpending(&pending);
		if (sigismember(&pending, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
