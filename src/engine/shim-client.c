/*
 * The clients of deck-shim: shim_start() (launch, double fork, wait for the
 * report), shim_attach(), shim_wait(), shim_read_exit(), shim_pidfd().
 */
#include "engine/shim.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* name in the directories of $PATH (or fallback), into out; false when absent. */
static bool find_in_path(const char *name, const char *fallback, char *out, size_t len)
{
	const char *path = getenv("PATH");
	for (const char *p = path && *path ? path : fallback; *p;) {
		size_t l = strcspn(p, ":");
		snprintf(out, len, "%.*s/%s", (int)l, p, name);
		if (l && access(out, X_OK) == 0)
			return true;
		p += l + (p[l] == ':');
	}
	return false;
}

static int find_shim_binary(const char *given, char *out, size_t len)
{
	if (given) {
		snprintf(out, len, "%s", given);
		return 0;
	}
	/* deck and deck-shim are installed (and built) side by side. */
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = 0;
	char *slash = strrchr(self, '/');
	if (slash) {
		snprintf(out, len, "%.*s/deck-shim", (int)(slash - self), self);
		if (access(out, X_OK) == 0)
			return 0;
	}
	if (find_in_path("deck-shim", "/usr/local/bin:/usr/bin:/bin", out, len))
		return 0;
	return herr_set(ENOENT, "deck-shim not found next to %s nor in $PATH", self);
}

/* An absolute form of path (which need not exist) into out. */
static int absolute(const char *path, char *out, size_t len)
{
	if (path[0] == '/') {
		snprintf(out, len, "%s", path);
		return 0;
	}
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return herr_sys("getcwd");
	if ((size_t)snprintf(out, len, "%s/%s", cwd, path) >= len)
		return herr_set(ENAMETOOLONG, "path too long: %s", path);
	return 0;
}

static int shim_argv(const struct shim_opts *o, const char *bin, char ***argv)
{
	char bundle[PATH_MAX], state[PATH_MAX], logp[PATH_MAX], root[PATH_MAX], rt[PATH_MAX],
	    dr[PATH_MAX];
	char size[32];
	if (!o->id || !o->bundle || !o->state_dir)
		return herr_set(EINVAL, "deck-shim needs an id, a bundle and a state dir");
	if (!realpath(o->bundle, bundle))
		return herr_sys("bundle %s", o->bundle);
	if (!realpath(o->state_dir, state))
		return herr_sys("state dir %s", o->state_dir);
	int r = 0;
	bool ok = !strv_push(argv, bin) && !strv_push(argv, "--id") && !strv_push(argv, o->id) &&
		  !strv_push(argv, "--bundle") && !strv_push(argv, bundle) &&
		  !strv_push(argv, "--state-dir") && !strv_push(argv, state) &&
		  !strv_push(argv, "--log-driver") &&
		  !strv_push(argv, logs_driver_name(o->log_driver)) &&
		  !strv_push(argv, "--sync-fd") && !strv_push(argv, "3");
	if (ok && o->runtime) {
		if (strchr(o->runtime, '/') && !realpath(o->runtime, rt))
			return herr_sys("runtime %s", o->runtime);
		if (!strchr(o->runtime, '/') &&
		    !find_in_path(o->runtime,
				  "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				  rt, sizeof(rt)))
			return herr_set(ENOENT, "runtime %s: not found in $PATH", o->runtime);
		ok = !strv_push(argv, "--runtime") && !strv_push(argv, rt);
	}
	if (ok && o->runtime_root) {
		if ((r = absolute(o->runtime_root, root, sizeof(root))) < 0)
			return r;
		ok = !strv_push(argv, "--runtime-root") && !strv_push(argv, root);
	}
	if (ok && o->log_path) {
		if ((r = absolute(o->log_path, logp, sizeof(logp))) < 0)
			return r;
		snprintf(size, sizeof(size), "%llu", (unsigned long long)o->log_max_size);
		ok = !strv_push(argv, "--log-path") && !strv_push(argv, logp) &&
		     !strv_push(argv, "--log-max-size") && !strv_push(argv, size);
	}
	if (ok && o->terminal)
		ok = !strv_push(argv, "--terminal");
	if (ok && o->stdin_open)
		ok = !strv_push(argv, "--stdin");
	if (ok && o->wait_attach)
		ok = !strv_push(argv, "--wait-attach");
	if (ok && o->deck_root) {
		if ((r = absolute(o->deck_root, dr, sizeof(dr))) < 0)
			return r;
		ok = !strv_push(argv, "--deck-root") && !strv_push(argv, dr);
	}
	if (ok && o->exit_command && o->exit_command[0]) {
		ok = !strv_push(argv, "--");
		for (size_t i = 0; ok && o->exit_command[i]; i++)
			ok = !strv_push(argv, o->exit_command[i]);
	}
	return ok ? 0 : herr_set(ENOMEM, "out of memory");
}

int shim_start(const struct shim_opts *o, pid_t *init_pid)
{
	char bin[PATH_MAX];
	_cleanup_strv_ char **argv = NULL;
	int r = find_shim_binary(o->shim_path, bin, sizeof(bin));
	if (r < 0 || (r = shim_argv(o, bin, &argv)) < 0)
		return r;
	int sync[2];
	if (pipe2(sync, O_CLOEXEC) < 0)
		return herr_sys("pipe");
	static const char exec_failed[] = "err 2 cannot execute deck-shim";
	/* The caller may be threaded: between fork and exec, only system calls. */
	pid_t a = fork();
	if (a == 0) {
		setsid();
		if (fork() != 0)
			_exit(0);
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (sync[1] == 3) /* dup2 onto itself would keep O_CLOEXEC */
			fcntl(3, F_SETFD, 0);
		else
			dup2(sync[1], 3);
		syscall(SYS_close_range, 4, ~0U, 0);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* An ignored signal stays ignored across exec; the shim and container must not. */
		for (int sig = 1; sig < NSIG; sig++) {
			struct sigaction sa;
			if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
				signal(sig, SIG_DFL);
		}
		if (chdir("/") < 0)
			_exit(1);
		execv(argv[0], argv);
		if (write(3, exec_failed, sizeof(exec_failed) - 1) < 0)
			_exit(127);
		_exit(127);
	}
	close(sync[1]);
	if (a < 0) {
		close(sync[0]);
		return herr_sys("fork");
	}
	char buf[HERR_MSG_MAX + 32];
	size_t n = 0;
	for (;;) {
		ssize_t k = read(sync[0], buf + n, sizeof(buf) - 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		bool end = memchr(buf + n, 0, (size_t)k) != NULL;
		n += (size_t)k;
		if (end || n == sizeof(buf) - 1)
			break;
	}
	close(sync[0]);
	/* reaped only now: waiting for it first put its exit on the shim's start-up path */
	while (waitpid(a, NULL, 0) < 0 && errno == EINTR)
		;
	buf[n] = 0;
	int code = 0, off = 0;
	if (sscanf(buf, "ok %d", init_pid) == 1)
		return 0;
	if (sscanf(buf, "err %d %n", &code, &off) == 1 && off > 0) {
		if (!strcmp(buf + off, "cannot execute deck-shim"))
			return herr_set(code, "cannot execute %s", bin);
		return herr_set(code, "%s", buf + off);
	}
	return herr_set(EIO, "%s exited without reporting", bin);
}

int shim_pidfd(const char *state_dir)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/" SHIM_PID_FILE, state_dir);
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
	/* The shim holds the lock for as long as it watches: a free lock is a dead shim. */
	if (fd < 0 || flock(fd, LOCK_SH | LOCK_NB) == 0)
		return herr_set(ESRCH, "no deck-shim watches %s", state_dir);
	char num[16] = "";
	ssize_t n = read(fd, num, sizeof(num) - 1);
	pid_t pid = n > 0 ? (pid_t)atoi(num) : 0;
	int pidfd = pid > 0 ? pidfd_open(pid, 0) : -1;
	/* Locked still, after the pidfd pinned the process: it is the shim. */
	if (pidfd < 0 || flock(fd, LOCK_SH | LOCK_NB) == 0) {
		closep(&pidfd);
		return herr_set(ESRCH, "no deck-shim watches %s", state_dir);
	}
	return pidfd;
}

int shim_read_exit(const char *state_dir, struct shim_exit *e)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/" SHIM_EXIT_FILE, state_dir);
	_cleanup_free_ char *text = NULL;
	int r = fs_read_file(p, 65536, &text, NULL);
	if (r < 0)
		return r;
	json_object *j = json_tokener_parse(text), *v;
	if (!j || !json_object_object_get_ex(j, "exitCode", &v)) {
		json_object_put(j);
		return herr_set(EINVAL, "%s: not an exit record", p);
	}
	*e = (struct shim_exit){.exit_code = json_object_get_int(v)};
	if (json_object_object_get_ex(j, "oomKilled", &v))
		e->oom_killed = json_object_get_boolean(v);
	if (json_object_object_get_ex(j, "finishedAt", &v))
		snprintf(e->finished_at, sizeof(e->finished_at), "%s", json_object_get_string(v));
	json_object_put(j);
	return 0;
}

/*
 * The shim unlinks shim.pid once the container is deleted, and lets go of its
 * lock just after: a lock that is still held is released within moments.
 */
static void wait_released(const char *state_dir)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/" SHIM_PID_FILE, state_dir);
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
	while (fd >= 0 && flock(fd, LOCK_SH) < 0 && errno == EINTR)
		;
}

int shim_wait_done(const char *state_dir)
{
	wait_released(state_dir);
	return 0;
}

int shim_wait(const char *state_dir, int timeout_ms, struct shim_exit *e)
{
	/*
	 * Recorded already (a foreground run, after its attach ended): no inotify
	 * instance, whose close waits out an SRCU grace period (10+ ms here).
	 */
	int rec = shim_read_exit(state_dir, e);
	if (rec == 0) {
		wait_released(state_dir);
		return 0;
	}
	if (rec != -ENOENT)
		return rec;
	herr_clear();
	_cleanup_close_ int ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ino < 0 || inotify_add_watch(ino, state_dir, IN_CREATE | IN_MOVED_TO) < 0)
		return herr_sys("inotify %s", state_dir);
	_cleanup_close_ int pidfd = shim_pidfd(state_dir);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int r = shim_read_exit(state_dir, e);
		if (r == 0)
			wait_released(state_dir);
		if (r != -ENOENT)
			return r;
		herr_clear();
		struct pollfd p[2] = {{.fd = ino, .events = POLLIN},
				      {.fd = pidfd, .events = POLLIN}};
		if (pidfd < 0 || poll(&p[1], 1, 0) == 1) {
			/* The shim is gone: its record came before it went, or never will. */
			if ((r = shim_read_exit(state_dir, e)) != -ENOENT)
				return r;
			return herr_set(ESRCH, "no exit recorded in %s and no deck-shim watches it",
					state_dir);
		}
		int left = -1;
		if (timeout_ms >= 0) {
			struct timespec t;
			clock_gettime(CLOCK_MONOTONIC, &t);
			long ms =
			    (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
			if (ms >= timeout_ms)
				return herr_set(ETIMEDOUT, "the container is still running");
			left = timeout_ms - (int)ms;
		}
		if (poll(p, 2, left) < 0 && errno != EINTR)
			return herr_sys("poll");
		char ev[1024];
		while (read(ino, ev, sizeof(ev)) > 0)
			;
	}
}

struct attach {
	int sock, in_fd, out_fd, err_fd, sigfd;
	int exit_code; /* from SHIM_PKT_EXIT, or -1 */
	bool tty, saw_ctrl_p;
	struct termios saved;
	sigset_t old_mask;
	char buf[1 + 8192];
};

static int send_pkt(int sock, const void *p, size_t n)
{
	while (send(sock, p, n, MSG_NOSIGNAL) < 0)
		if (errno != EINTR)
			return herr_sys("send to the shim");
	return 0;
}

static void send_size(struct attach *a)
{
	struct winsize ws;
	if (ioctl(a->in_fd, TIOCGWINSZ, &ws) < 0)
		return;
	char pkt[5] = {SHIM_PKT_RESIZE};
	uint16_t rc[2] = {ws.ws_row, ws.ws_col};
	memcpy(pkt + 1, rc, sizeof(rc));
	send_pkt(a->sock, pkt, sizeof(pkt));
}

/* Forward what in_fd gave; ctrl-p ctrl-q on a terminal detaches (returns 1). */
static int on_input(struct attach *a, unsigned flags)
{
	char buf[1 + 4096], out[1 + 4096 + 1];
	ssize_t n = read(a->in_fd, buf, sizeof(buf) - 1);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		a->in_fd = -1;
		if (flags & SHIM_ATTACH_EOF_CLOSE) {
			char c = SHIM_PKT_CLOSE_STDIN;
			return send_pkt(a->sock, &c, 1);
		}
		return 0;
	}
	size_t k = 1;
	out[0] = SHIM_PKT_STDIN;
	for (ssize_t i = 0; i < n; i++) {
		char c = buf[i];
		if (a->tty && a->saw_ctrl_p) {
			a->saw_ctrl_p = false;
			if (c == 0x11) {
				if (k > 1)
					send_pkt(a->sock, out, k);
				return SHIM_DETACHED;
			}
			out[k++] = 0x10;
		}
		if (a->tty && c == 0x10)
			a->saw_ctrl_p = true;
		else
			out[k++] = c;
	}
	return k > 1 ? send_pkt(a->sock, out, k) : 0;
}

static int attach_loop(struct attach *a, unsigned flags)
{
	for (;;) {
		struct pollfd p[3] = {{.fd = a->sock, .events = POLLIN},
				      {.fd = a->in_fd, .events = POLLIN},
				      {.fd = a->sigfd, .events = POLLIN}};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			return herr_sys("poll");
		}
		if (p[2].revents) {
			struct signalfd_siginfo si;
			while (read(a->sigfd, &si, sizeof(si)) == sizeof(si))
				;
			send_size(a);
		}
		if (p[1].revents) {
			int r = on_input(a, flags);
			if (r != 0)
				return r;
		}
		if (!p[0].revents)
			continue;
		ssize_t n = recv(a->sock, a->buf, sizeof(a->buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 && errno != ECONNRESET ? herr_sys("receive from the shim") : 0;
		int fd = a->buf[0] == SHIM_PKT_STDERR && a->err_fd >= 0 ? a->err_fd : a->out_fd;
		if (a->buf[0] == SHIM_PKT_ERROR)
			return herr_set(EIO, "%.*s", (int)(n - 1), a->buf + 1);
		if (a->buf[0] == SHIM_PKT_EXIT) {
			if (n >= 1 + (ssize_t)sizeof(int))
				memcpy(&a->exit_code, a->buf + 1, sizeof(int));
			continue;
		}
		if (fd >= 0 && fs_write_all(fd, a->buf + 1, (size_t)n - 1) < 0)
			return herr_sys("write the container's output");
	}
}

int shim_attach(const char *state_dir, int in_fd, int out_fd, int err_fd, unsigned flags)
{
	int code;
	return shim_attach_exit(state_dir, in_fd, out_fd, err_fd, flags, &code);
}

int shim_attach_exit(const char *state_dir, int in_fd, int out_fd, int err_fd, unsigned flags,
		     int *exit_code)
{
	*exit_code = -1;
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/" SHIM_ATTACH_FILE, state_dir);
	_cleanup_close_ int target = open(p, O_PATH | O_CLOEXEC);
	if (target < 0)
		return errno == ENOENT ? herr_set(ENOENT, "the container is not running")
				       : herr_sys("%s", p);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d", target);
	struct attach a = {
	    .in_fd = in_fd, .out_fd = out_fd, .err_fd = err_fd, .sigfd = -1, .exit_code = -1};
	_cleanup_close_ int sock = a.sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return herr_sys("socket");
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return errno == ECONNREFUSED || errno == ENOENT
			   ? herr_set(ENOENT, "the container is not running")
			   : herr_sys("connect to %s", p);
	a.tty = in_fd >= 0 && isatty(in_fd) && tcgetattr(in_fd, &a.saved) == 0;
	_cleanup_close_ int sigfd = -1;
	/* A first packet at once: it starts a wait_attach container (empty stdin data). */
	char hello = SHIM_PKT_STDIN;
	struct winsize ws;
	if (!a.tty || ioctl(in_fd, TIOCGWINSZ, &ws) < 0) {
		int r = send_pkt(sock, &hello, 1);
		if (r < 0)
			return r;
	}
	if (a.tty) {
		struct termios raw = a.saved;
		cfmakeraw(&raw);
		tcsetattr(in_fd, TCSANOW, &raw);
		sigset_t w;
		sigemptyset(&w);
		sigaddset(&w, SIGWINCH);
		pthread_sigmask(SIG_BLOCK, &w, &a.old_mask);
		sigfd = a.sigfd = signalfd(-1, &w, SFD_CLOEXEC | SFD_NONBLOCK);
		send_size(&a);
	}
	int r = attach_loop(&a, flags);
	if (a.tty) {
		tcsetattr(in_fd, TCSANOW, &a.saved);
		pthread_sigmask(SIG_SETMASK, &a.old_mask, NULL);
	}
	*exit_code = a.exit_code;
	return r;
}
