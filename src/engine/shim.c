/*
 * deck-shim, the per-container monitor (its clients are in shim-client.c).
 *
 * The shim is one small single-threaded process: every buffer it needs is static
 * (one 8 KiB output chunk, one 4 KiB stdin packet, the log writer's 4 KiB stage),
 * it polls a handful of fds, and it holds no memory of the output: what a
 * container writes goes to the log and to the attached clients as it arrives.
 * A slow client slows the container (its output is read no faster than the
 * clients take it, as docker attach), the log never waits for anyone.
 */
#include "engine/shim.h"
#include "engine/container.h"
#include "runtime/container.h"
#include "runtime/terminal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CLIENTS  8
#define CONSOLE_SOCK "console.sock"

static int unix_addr(int dirfd, const char *name, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){.sun_family = AF_UNIX};
	/* Through the dir fd: a deep state dir does not fit sun_path. */
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", dirfd, name);
	return 0;
}

/* ---- the monitor ---- */

struct client {
	int fd;
	bool pending; /* the current output chunk is not yet through to it */
};

struct shim {
	const struct shim_opts *o;
	const char *root;
	int dirfd, pid_fd, sigfd, listen_fd;
	int out_fd, err_fd; /* read ends (a terminal: out_fd is the pty master) */
	int in_fd;	    /* the container's stdin: pipe write end or the master; -1 */
	int oom_fd;
	unsigned long long oom_base;
	pid_t init;
	bool started, exited, recorded, deleted;
	int status;
	int exit_code; /* as recorded */
	struct logs_writer log;
	struct client cl[MAX_CLIENTS];
	size_t in_off, in_len; /* a stdin packet the container has not taken yet */
};

static char chunk[1 + 8192]; /* [0] is the stream, as sent to clients */
static size_t chunk_len;
static char inpkt[1 + 4096];

/* fd into the child's 0/1/2 (our own 0/1/2 are /dev/null, so fds never collide). */
static pid_t spawn(char *const argv[], int in, int out, int err, bool path_search)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid < 0 ? -errno : pid;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (in >= 0)
		dup2(in, 0);
	if (out >= 0)
		dup2(out, 1);
	if (err >= 0)
		dup2(err, 2);
	if (path_search)
		execvp(argv[0], argv);
	else
		execv(argv[0], argv);
	_exit(127);
}

static int wait_pid(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

/* runc and crun print their fatal error as a logrus line (msg="...") or JSON. */
static void runtime_message(char *buf)
{
	char *m = strstr(buf, "msg=\"");
	if (m) {
		char *w = buf;
		for (m += 5; *m && *m != '"'; m++) {
			if (*m == '\\' && m[1])
				m++;
			*w++ = *m;
		}
		*w = 0;
		return;
	}
	json_object *j = json_tokener_parse(buf), *v;
	if (j && json_object_object_get_ex(j, "msg", &v))
		snprintf(buf, 1024, "%s", json_object_get_string(v));
	json_object_put(j);
	size_t n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = 0;
}

/* The runtime binary with args (after --root); its stderr text becomes the error. */
static int runtime_cmd(struct shim *s, const char *const *args, int in, int out, int err_w,
		       int err_r)
{
	_cleanup_strv_ char **argv = NULL;
	bool ok = strv_push(&argv, s->o->runtime) == 0;
	if (s->o->runtime_root)
		ok = ok && strv_push(&argv, "--root") == 0 &&
		     strv_push(&argv, s->o->runtime_root) == 0;
	for (size_t i = 0; args[i]; i++)
		ok = ok && strv_push(&argv, args[i]) == 0;
	if (!ok)
		return herr_set(ENOMEM, "out of memory");
	int p[2] = {-1, -1};
	if (err_w < 0) {
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
			return herr_sys("pipe");
		err_r = p[0];
		err_w = p[1];
	}
	pid_t pid = spawn(argv, in, out, err_w, false);
	closep(&p[1]);
	int st = pid < 0 ? -1 : wait_pid(pid);
	_cleanup_close_ int own_r = p[0];
	if (pid < 0)
		return herr_set(-pid, "cannot run %s: %s", s->o->runtime, strerror(-pid));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	/* Before the container runs, all that its stderr holds is the runtime's. */
	char msg[1024] = "";
	ssize_t n = read(err_r, msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = 0;
	runtime_message(msg);
	if (!*msg)
		snprintf(msg, sizeof(msg), "%s %s failed (status %d)", s->o->runtime, args[0],
			 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return herr_set(EIO, "%s", msg);
}

static int create_ctr(struct shim *s, int in, int out, int err_w, int err_r)
{
	char pidfile[PATH_MAX], console[108];
	snprintf(pidfile, sizeof(pidfile), "%s/" SHIM_INIT_FILE, s->o->state_dir);
	snprintf(console, sizeof(console), "/proc/%d/fd/%d/" CONSOLE_SOCK, getpid(), s->dirfd);
	if (s->o->runtime) {
		const char *args[] = {"create",
				      "--bundle",
				      s->o->bundle,
				      "--pid-file",
				      pidfile,
				      s->o->terminal ? "--console-socket" : s->o->id,
				      s->o->terminal ? console : NULL,
				      s->o->id,
				      NULL};
		return runtime_cmd(s, args, in, out, err_w, s->o->terminal ? -1 : err_r);
	}
	/* The library's init inherits our stdio: lend it the container's for the create. */
	if (!s->o->terminal)
		if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err_w, 2) < 0)
			return herr_sys("dup2");
	struct container_opts co = {.root = s->root,
				    .id = s->o->id,
				    .bundle = s->o->bundle,
				    .pid_file = pidfile,
				    .console_socket = s->o->terminal ? console : NULL};
	int r = container_create(&co);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < 3 && null >= 0; i++)
		dup2(null, i);
	closep(&null);
	return r;
}

static int start_ctr(struct shim *s)
{
	if (s->o->runtime) {
		const char *args[] = {"start", s->o->id, NULL};
		return runtime_cmd(s, args, -1, -1, -1, -1);
	}
	return container_start(s->root, s->o->id);
}

static void delete_ctr(struct shim *s)
{
	if (s->deleted)
		return;
	s->deleted = true;
	int saved = herr_code();
	char msg[HERR_MSG_MAX];
	snprintf(msg, sizeof(msg), "%s", herr_msg());
	if (s->o->runtime) {
		const char *args[] = {"delete", "--force", s->o->id, NULL};
		runtime_cmd(s, args, -1, -1, -1, -1);
	} else {
		container_delete(s->root, s->o->id, true);
	}
	if (s->init > 0 && !s->exited && waitpid(s->init, NULL, 0) == s->init)
		s->exited = true;
	if (saved)
		herr_set(saved, "%s", msg);
	else
		herr_clear();
}

/* The memory cgroup's OOM-kill counter (v1 memory.oom_control, v2 memory.events). */
static unsigned long long oom_count(int fd)
{
	char buf[512];
	ssize_t n = fd < 0 ? -1 : pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	for (char *l = buf; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, "oom_kill ", 9))
			return strtoull(l + 9, NULL, 10);
	return 0;
}

static void oom_open(struct shim *s)
{
	char path[PATH_MAX], v2[PATH_MAX] = "";
	_cleanup_free_ char *cg = NULL;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", s->init);
	if (fs_read_file(path, 16384, &cg, NULL) < 0) {
		herr_clear();
		return;
	}
	bool pure_v2 = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
	for (char *l = strtok(cg, "\n"); l; l = strtok(NULL, "\n")) {
		char *c = strchr(l, ':'), *p = c ? strchr(c + 1, ':') : NULL;
		if (!p)
			continue;
		*p++ = 0;
		if (!strcmp(c + 1, "")) {
			snprintf(v2, sizeof(v2), "/sys/fs/cgroup%s%s/memory.events",
				 pure_v2 ? "" : "/unified", strcmp(p, "/") ? p : "");
			continue;
		}
		for (char *t = strtok_r(c + 1, ",", &c); t; t = strtok_r(NULL, ",", &c))
			if (!strcmp(t, "memory")) {
				snprintf(path, sizeof(path),
					 "/sys/fs/cgroup/memory%s/memory.oom_control", p);
				s->oom_fd = open(path, O_RDONLY | O_CLOEXEC);
			}
	}
	if (s->oom_fd < 0 && *v2)
		s->oom_fd = open(v2, O_RDONLY | O_CLOEXEC);
	s->oom_base = oom_count(s->oom_fd);
}

static int read_pid(int dirfd, const char *name, pid_t *pid)
{
	_cleanup_free_ char *t = NULL;
	int r = fs_read_fileat(dirfd, name, 64, &t, NULL);
	if (r < 0)
		return r;
	*pid = (pid_t)atoi(t);
	return *pid > 0 ? 0 : herr_set(EINVAL, "%s: no pid", name);
}

static int listen_at(int dirfd, const char *name, int type)
{
	struct sockaddr_un sa;
	unix_addr(dirfd, name, &sa);
	unlinkat(dirfd, name, 0);
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return herr_sys("socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, MAX_CLIENTS) < 0) {
		int r = herr_sys("cannot listen on %s", name);
		close(fd);
		return r;
	}
	return fd;
}

/* Take the pty master the runtime sent to our console socket. */
static int take_console(struct shim *s, int lfd)
{
	_cleanup_close_ int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return herr_sys("the runtime sent no terminal to the console socket");
	int flags = fcntl(c, F_GETFL);
	fcntl(c, F_SETFL, flags & ~O_NONBLOCK);
	int r = term_recv_fd(c, &s->out_fd);
	if (r < 0)
		return r;
	fcntl(s->out_fd, F_SETFL, fcntl(s->out_fd, F_GETFL) | O_NONBLOCK);
	if (s->o->stdin_open && (s->in_fd = fcntl(s->out_fd, F_DUPFD_CLOEXEC, 3)) < 0)
		return herr_sys("dup");
	return 0;
}

/* Everything up to a running (or, with wait_attach, created) container. */
static int setup(struct shim *s)
{
	const struct shim_opts *o = s->o;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return herr_sys("prctl(PR_SET_CHILD_SUBREAPER)");
	sigset_t set;
	sigemptyset(&set);
	int sigs[] = {SIGCHLD, SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((s->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return herr_sys("signalfd");
	if ((s->dirfd = open(o->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return herr_sys("--state-dir %s", o->state_dir);
	s->pid_fd = openat(s->dirfd, SHIM_PID_FILE, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->pid_fd < 0)
		return herr_sys("cannot create %s/" SHIM_PID_FILE, o->state_dir);
	if (flock(s->pid_fd, LOCK_EX | LOCK_NB) < 0) {
		closep(&s->pid_fd);
		return herr_set(EBUSY, "another deck-shim watches %s", o->state_dir);
	}
	char num[16];
	int n = snprintf(num, sizeof(num), "%d\n", getpid());
	if (ftruncate(s->pid_fd, 0) < 0 || fs_write_all(s->pid_fd, num, (size_t)n) < 0)
		return herr_sys("write " SHIM_PID_FILE);
	unlinkat(s->dirfd, SHIM_EXIT_FILE, 0); /* a restart's */
	if ((s->listen_fd = listen_at(s->dirfd, SHIM_ATTACH_FILE, SOCK_SEQPACKET)) < 0)
		return s->listen_fd;

	_cleanup_close_ int in_r = -1, out_w = -1, err_w = -1, console = -1;
	int p[2];
	if (o->terminal) {
		if ((console = listen_at(s->dirfd, CONSOLE_SOCK, SOCK_STREAM)) < 0)
			return console;
	} else {
		if (pipe2(p, O_CLOEXEC) < 0)
			return herr_sys("pipe");
		s->out_fd = p[0];
		out_w = p[1];
		if (pipe2(p, O_CLOEXEC) < 0)
			return herr_sys("pipe");
		s->err_fd = p[0];
		err_w = p[1];
		if (o->stdin_open) {
			if (pipe2(p, O_CLOEXEC) < 0)
				return herr_sys("pipe");
			in_r = p[0];
			s->in_fd = p[1];
		} else if ((in_r = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
			return herr_sys("/dev/null");
		}
		fcntl(s->out_fd, F_SETFL, O_NONBLOCK);
		fcntl(s->err_fd, F_SETFL, O_NONBLOCK);
	}
	int r = create_ctr(s, in_r, out_w, err_w, s->err_fd);
	if (console >= 0)
		unlinkat(s->dirfd, CONSOLE_SOCK, 0);
	if (r < 0)
		return r;
	if ((r = read_pid(s->dirfd, SHIM_INIT_FILE, &s->init)) < 0 ||
	    (o->terminal && (r = take_console(s, console)) < 0))
		goto fail;
	if (s->in_fd >= 0)
		fcntl(s->in_fd, F_SETFL, fcntl(s->in_fd, F_GETFL) | O_NONBLOCK);
	oom_open(s);
	if ((r = logs_writer_open(&s->log, o->log_path, o->log_driver, o->log_max_size)) < 0)
		goto fail;
	if (!o->wait_attach) {
		if ((r = start_ctr(s)) < 0)
			goto fail;
		s->started = true;
	}
	return 0;
fail:
	delete_ctr(s);
	return r;
}

static void drop_client(struct client *c)
{
	closep(&c->fd);
	*c = (struct client){.fd = -1};
}

static bool clients_pending(const struct shim *s)
{
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (s->cl[i].pending)
			return true;
	return false;
}

static void send_client(struct client *c)
{
	ssize_t n = send(c->fd, chunk, chunk_len, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n >= 0)
		c->pending = false;
	else if (errno == EAGAIN)
		c->pending = true;
	else
		drop_client(c);
}

/* One read of fd (stream 1 or 2) into the log and to the clients; false at its end. */
static bool pump(struct shim *s, int fd, int stream)
{
	ssize_t n = read(fd, chunk + 1, sizeof(chunk) - 1);
	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0) /* EOF, EIO (pty without slave), EAGAIN when draining */
		return false;
	chunk[0] = (char)stream;
	chunk_len = (size_t)n + 1;
	logs_writer_write(&s->log, stream, chunk + 1, (size_t)n);
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (s->cl[i].fd >= 0)
			send_client(&s->cl[i]);
	return true;
}

static void on_signal(struct shim *s)
{
	struct signalfd_siginfo si;
	while (read(s->sigfd, &si, sizeof(si)) == sizeof(si))
		;
	int st;
	pid_t p;
	/* Reap everything: orphans of the container come to us, the subreaper. */
	while ((p = waitpid(-1, &st, WNOHANG)) > 0)
		if (p == s->init && !s->exited) {
			s->exited = true;
			s->status = st;
		}
}

static void write_exit(struct shim *s, int code, const char *error)
{
	s->exit_code = code;
	bool oom = s->oom_fd >= 0 && oom_count(s->oom_fd) > s->oom_base;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char when[48], buf[1400], path[PATH_MAX];
	logs_format_time((int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec, when, sizeof(when));
	int n =
	    snprintf(buf, sizeof(buf), "{\"exitCode\":%d,\"oomKilled\":%s,\"finishedAt\":\"%s\"",
		     code, oom ? "true" : "false", when);
	if (error) {
		json_object *j = json_object_new_string(error);
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, ",\"error\":%.1200s",
			      json_object_to_json_string(j));
		json_object_put(j);
	}
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "}\n");
	snprintf(path, sizeof(path), "%s/" SHIM_EXIT_FILE, s->o->state_dir);
	fs_write_file_atomic(path, buf, (size_t)n);
}

static void on_accept(struct shim *s)
{
	int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	int i = 0;
	while (i < MAX_CLIENTS && s->cl[i].fd >= 0)
		i++;
	if (i == MAX_CLIENTS)
		close(fd);
	else
		s->cl[i].fd = fd;
}

/*
 * wait_attach: the first client is here to see everything, and has sent its
 * first packet (a terminal's size comes first, so the process starts with it).
 */
static void start_for(struct shim *s, struct client *c)
{
	if (start_ctr(s) == 0) {
		s->started = true;
		return;
	}
	if (c->fd >= 0) {
		chunk_len = 1 + (size_t)snprintf(chunk + 1, sizeof(chunk) - 1, "%s", herr_msg());
		chunk[0] = SHIM_PKT_ERROR;
		send(c->fd, chunk, chunk_len, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	write_exit(s, 125, herr_msg());
	delete_ctr(s);
	s->exited = s->recorded = true;
}

static void on_client(struct shim *s, struct client *c)
{
	ssize_t n = recv(c->fd, inpkt, sizeof(inpkt), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		drop_client(c);
	} else if (inpkt[0] == SHIM_PKT_STDIN && n > 1 && s->in_fd >= 0) {
		s->in_off = 1;
		s->in_len = (size_t)n - 1;
	} else if (inpkt[0] == SHIM_PKT_RESIZE && n >= 5 && s->o->terminal && s->out_fd >= 0) {
		uint16_t rc[2];
		memcpy(rc, inpkt + 1, sizeof(rc));
		struct winsize ws = {.ws_row = rc[0], .ws_col = rc[1]};
		ioctl(s->out_fd, TIOCSWINSZ, &ws);
	} else if (inpkt[0] == SHIM_PKT_CLOSE_STDIN && !s->o->terminal) {
		closep(&s->in_fd);
		s->in_fd = -1;
	}
	if (!s->started && !s->exited)
		start_for(s, c);
}

static void feed_stdin(struct shim *s)
{
	ssize_t n = write(s->in_fd, inpkt + s->in_off, s->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) { /* EPIPE: the container closed its stdin */
		closep(&s->in_fd);
		s->in_fd = -1;
		s->in_len = 0;
		return;
	}
	s->in_off += (size_t)n;
	s->in_len -= (size_t)n;
}

static void loop(struct shim *s)
{
	for (;;) {
		bool pending = clients_pending(s);
		if (s->exited && !pending) {
			/* What the init wrote before it died is in the pipes: take it all. */
			while (!clients_pending(s) && (s->out_fd >= 0 || s->err_fd >= 0)) {
				int *fd = s->out_fd >= 0 ? &s->out_fd : &s->err_fd;
				if (!pump(s, *fd, fd == &s->out_fd ? 1 : 2)) {
					closep(fd);
					*fd = -1;
				}
			}
			if (!clients_pending(s))
				return;
			pending = true;
		}
		struct pollfd pf[5 + MAX_CLIENTS];
		int n = 0;
		pf[n++] = (struct pollfd){.fd = s->sigfd, .events = POLLIN};
		pf[n++] = (struct pollfd){.fd = s->exited ? -1 : s->listen_fd, .events = POLLIN};
		pf[n++] = (struct pollfd){.fd = pending ? -1 : s->out_fd, .events = POLLIN};
		pf[n++] = (struct pollfd){.fd = pending ? -1 : s->err_fd, .events = POLLIN};
		int in_slot = -1;
		if (s->in_len && s->in_fd >= 0) {
			in_slot = n;
			pf[n++] = (struct pollfd){.fd = s->in_fd, .events = POLLOUT};
		}
		int first_client = n;
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &s->cl[i];
			/* While stdin is full, hear nothing from clients, not even a hang-up. */
			pf[n++] = (struct pollfd){.fd = s->in_len && !c->pending ? -1 : c->fd,
						  .events = (short)((s->in_len ? 0 : POLLIN) |
								    (c->pending ? POLLOUT : 0))};
		}
		if (poll(pf, (nfds_t)n, -1) < 0)
			continue;
		if (pf[0].revents)
			on_signal(s);
		if (pf[1].revents)
			on_accept(s);
		for (int k = 2; k < 4; k++)
			if (pf[k].revents && !pump(s, pf[k].fd, k - 1)) {
				int *fd = k == 2 ? &s->out_fd : &s->err_fd;
				/* A pty reports EIO while no slave is open: the end, like EOF. */
				closep(fd);
				*fd = -1;
			}
		if (in_slot >= 0 && pf[in_slot].revents)
			feed_stdin(s);
		else if (s->in_len && s->in_fd < 0)
			s->in_len = 0;
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &s->cl[i];
			short ev = pf[first_client + i].revents;
			if (c->fd < 0 || !ev)
				continue;
			if ((ev & POLLOUT) && c->pending)
				send_client(c);
			if (c->fd >= 0 && (ev & (POLLIN | POLLHUP | POLLERR)) && !s->in_len)
				on_client(s, c);
		}
	}
}

static void finish(struct shim *s)
{
	int st = s->status;
	if (!s->recorded)
		write_exit(s, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), NULL);
	delete_ctr(s);
	/*
	 * The exit is on record and the container gone: clients see the end now,
	 * with the status, since ctr_cleanup() below removes the record of a --rm
	 * container, maybe before a client could read it.
	 */
	char pkt[1 + sizeof(int)] = {SHIM_PKT_EXIT};
	memcpy(pkt + 1, &s->exit_code, sizeof(int));
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (s->cl[i].fd >= 0)
			send(s->cl[i].fd, pkt, sizeof(pkt), MSG_DONTWAIT | MSG_NOSIGNAL);
		drop_client(&s->cl[i]);
	}
	unlinkat(s->dirfd, SHIM_ATTACH_FILE, 0);
	unlinkat(s->dirfd, SHIM_INIT_FILE, 0);
	unlinkat(s->dirfd, SHIM_PID_FILE, 0);
	closep(&s->pid_fd);
	logs_writer_close(&s->log);
	if (s->o->deck_root)
		ctr_cleanup(s->o->deck_root, s->o->id);
	if (s->o->exit_command && s->o->exit_command[0]) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		pid_t pid = spawn(s->o->exit_command, null, null, null, true);
		closep(&null);
		/* Reaped before we go: it is our child, no orphan for PID 1. */
		if (pid > 0)
			wait_pid(pid);
	}
}

static void report(int sync_fd, int r, pid_t pid)
{
	char buf[HERR_MSG_MAX + 32];
	/*
	 * NUL-terminated: a created init (in process) holds a copy of sync_fd until
	 * it execs, so the reader cannot wait for the end of file.
	 */
	int n = r < 0 ? snprintf(buf, sizeof(buf), "err %d %s", -r, herr_msg())
		      : snprintf(buf, sizeof(buf), "ok %d", pid);
	if (sync_fd >= 0) {
		fs_write_all(sync_fd, buf, (size_t)n + 1);
		close(sync_fd);
	}
}

_Noreturn void shim_main(const struct shim_opts *o, int sync_fd)
{
	static struct shim s;
	s = (struct shim){.o = o,
			  .root = o->runtime_root ? o->runtime_root : "/run/hull",
			  .dirfd = -1,
			  .pid_fd = -1,
			  .sigfd = -1,
			  .listen_fd = -1,
			  .out_fd = -1,
			  .err_fd = -1,
			  .in_fd = -1,
			  .oom_fd = -1,
			  .log = {.fd = -1}};
	for (int i = 0; i < MAX_CLIENTS; i++)
		s.cl[i].fd = -1;
	int r = setup(&s);
	if (r < 0) {
		/* Holding the pid file's lock, the state dir is ours to clean. */
		if (s.pid_fd >= 0) {
			unlinkat(s.dirfd, SHIM_ATTACH_FILE, 0);
			unlinkat(s.dirfd, SHIM_INIT_FILE, 0);
			unlinkat(s.dirfd, SHIM_PID_FILE, 0);
		}
		report(sync_fd, r, 0);
		exit(1);
	}
	report(sync_fd, 0, s.init);
	/* The create's allocations are done with: give the pages back. */
	malloc_trim(0);
	loop(&s);
	finish(&s);
	exit(0);
}
