#include "runtime/terminal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

int term_open_pty(const char *ptmx_path, int *master, int *slave, unsigned rows, unsigned cols)
{
	_cleanup_close_ int m = open(ptmx_path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return herr_sys("open %s", ptmx_path);
	int unlock = 0;
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
		return herr_sys("unlock pty %s", ptmx_path);
	/* The peer comes from the master itself: no /dev/pts/N lookup that a container could
	 * redirect. */
	_cleanup_close_ int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		return herr_sys("open the pty peer of %s", ptmx_path);
	if (rows || cols) {
		struct winsize ws = {.ws_row = (unsigned short)rows,
				     .ws_col = (unsigned short)cols};
		if (ioctl(m, TIOCSWINSZ, &ws) < 0)
			return herr_sys("set the pty window size");
	}
	*master = take_fd(m);
	*slave = take_fd(s);
	return 0;
}

int term_make_controlling(int slave)
{
	/* A session leader cannot setsid() again, and needs not. */
	if (getsid(0) != getpid() && setsid() < 0)
		return herr_sys("setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return herr_sys("make the pty the controlling terminal");
	for (int fd = 0; fd <= 2; fd++) {
		/* dup2 onto itself keeps O_CLOEXEC, and the process is about to exec. */
		if (slave == fd) {
			if (fcntl(fd, F_SETFD, 0) < 0)
				return herr_sys("clear FD_CLOEXEC on fd %d", fd);
		} else if (dup2(slave, fd) < 0) {
			return herr_sys("dup2 the pty to fd %d", fd);
		}
	}
	if (slave > 2)
		close(slave);
	return 0;
}

int term_send_fd(int sock, int fd, const char *name)
{
	/* A stream socket carries no ancillary data without at least one byte of data. */
	const char *payload = name && *name ? name : "";
	struct iovec iov = {.iov_base = (void *)payload, .iov_len = strlen(payload) + !*payload};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr msg = {
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = u.buf,
	    .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return herr_sys("send the terminal fd");
	return 0;
}

int term_recv_fd(int sock, int *fd)
{
	char name[PATH_MAX];
	/* Room for a few, so that a peer sending more cannot make us lose them open. */
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = name, .iov_len = sizeof(name)};
	struct msghdr msg = {
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = u.buf,
	    .msg_controllen = sizeof(u.buf),
	};
	ssize_t n;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return herr_sys("receive the terminal fd");

	int got = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (got < 0)
				got = f;
			else
				close(f);
		}
	}
	if (got < 0) {
		if (n == 0)
			return herr_set(ECONNRESET,
					"receive the terminal fd: peer closed the socket");
		return herr_set(EBADMSG, "receive the terminal fd: message carried no fd");
	}
	if (msg.msg_flags & MSG_CTRUNC) {
		close(got);
		return herr_set(EBADMSG, "receive the terminal fd: control data truncated");
	}
	*fd = got;
	return 0;
}

int term_send_to_console_socket(const char *path, int master)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int target = -1;
	if (strlen(path) < sizeof(sa.sun_path)) {
		memcpy(sa.sun_path, path, strlen(path) + 1);
	} else {
		/* Deep runtime dirs exceed sun_path; the socket inode is reachable through its fd.
		 */
		target = open(path, O_PATH | O_CLOEXEC);
		if (target < 0)
			return herr_sys("console socket %s", path);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d", target);
	}
	_cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return herr_sys("console socket %s: socket", path);
	int r;
	do
		r = connect(sock, (struct sockaddr *)&sa, sizeof(sa));
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return herr_sys("connect to console socket %s", path);

	char name[32] = "/dev/ptmx";
	unsigned idx;
	if (ioctl(master, TIOCGPTN, &idx) == 0)
		snprintf(name, sizeof(name), "/dev/pts/%u", idx);
	r = term_send_fd(sock, master, name);
	if (r < 0)
		return herr_ctx(r, "console socket %s", path);
	return 0;
}

int term_resize_from(int from_fd, int master)
{
	struct winsize ws;
	if (ioctl(from_fd, TIOCGWINSZ, &ws) < 0)
		return herr_sys("get the window size of fd %d", from_fd);
	if (ioctl(master, TIOCSWINSZ, &ws) < 0)
		return herr_sys("set the pty window size");
	return 0;
}

/* ---- proxy ---- */

/* What term_proxy_run changed, undone by cleanup on every return. */
struct proxy_saved {
	bool raw;
	struct termios tio;
	int master, master_fl;
	bool pipe_blocked, pipe_was_pending;
	sigset_t mask;
};

static void proxy_restore(struct proxy_saved *s)
{
	int saved = errno;
	if (s->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &s->tio);
	if (s->master_fl >= 0)
		fcntl(s->master, F_SETFL, s->master_fl);
	if (s->pipe_blocked) {
		/* A SIGPIPE from our own write to a closed stdout is ours to swallow. */
		sigset_t pending, pipe_set;
		struct timespec zero = {0, 0};
		sigemptyset(&pipe_set);
		sigaddset(&pipe_set, SIGPIPE);
		if (!s->pipe_was_pending && sigpending(&pending) == 0 &&
		    sigismember(&pending, SIGPIPE))
			sigtimedwait(&pipe_set, NULL, &zero);
		sigprocmask(SIG_SETMASK, &s->mask, NULL);
	}
	errno = saved;
}

static int write_full(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = {.fd = fd, .events = POLLOUT};
				if (poll(&p, 1, -1) < 0 && errno != EINTR)
					return -1;
				continue;
			}
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Copy what the master holds to stdout; a stdout that went away only turns the
 * copy into a discard, so the container never blocks on a full pty.
 * Returns 1 when the slave side has hung up, 0 when nothing more is there now.
 * max bounds one call so that a busy container cannot starve the other fds.
 */
static int copy_output(int master, bool *out_ok, size_t max)
{
	char buf[16384];
	size_t total = 0;
	while (total < max) {
		ssize_t n = read(master, buf, sizeof(buf));
		if (n == 0)
			return 1;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			if (errno == EIO)
				return 1; /* Linux: every slave fd is closed */
			return herr_sys("read from the pty");
		}
		if (*out_ok && write_full(STDOUT_FILENO, buf, (size_t)n) < 0)
			*out_ok = false;
		total += (size_t)n;
	}
	return 0;
}

int term_proxy_run(struct term_proxy *p)
{
	struct proxy_saved saved __attribute__((cleanup(proxy_restore))) = {
	    .master = p->master,
	    .master_fl = -1,
	};
	sigset_t pipe_set, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_set, &saved.mask);
	saved.pipe_blocked = true;
	saved.pipe_was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);

	int fl = fcntl(p->master, F_GETFL);
	if (fl < 0)
		return herr_sys("pty master");
	/* Non-blocking, so that a container not reading its input cannot stall its output. */
	if (fcntl(p->master, F_SETFL, fl | O_NONBLOCK) < 0)
		return herr_sys("pty master");
	saved.master_fl = fl;

	if (isatty(STDIN_FILENO)) {
		if (tcgetattr(STDIN_FILENO, &saved.tio) < 0)
			return herr_sys("get the terminal attributes of stdin");
		struct termios raw = saved.tio;
		cfmakeraw(&raw);
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
			return herr_sys("put stdin in raw mode");
		saved.raw = true;
	}

	char in_buf[4096];
	size_t in_len = 0, in_off = 0;
	bool in_open = true, out_ok = true;
	for (;;) {
		struct pollfd pfd[4] = {
		    {.fd = in_open && in_len == 0 ? STDIN_FILENO : -1, .events = POLLIN},
		    {.fd = p->master, .events = POLLIN | (in_len ? POLLOUT : 0)},
		    {.fd = p->on_event ? p->extra_fds[0] : -1, .events = POLLIN},
		    {.fd = p->on_event ? p->extra_fds[1] : -1, .events = POLLIN},
		};
		if (poll(pfd, 4, -1) < 0) {
			if (errno == EINTR)
				continue;
			return herr_sys("poll");
		}

		if (pfd[0].revents) {
			ssize_t n = read(STDIN_FILENO, in_buf, sizeof(in_buf));
			if (n > 0) {
				in_len = (size_t)n;
				in_off = 0;
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				/* The container may still have output for us: keep the master open.
				 */
				in_open = false;
			}
		}

		if (pfd[1].revents & POLLNVAL)
			return herr_set(EBADF, "pty master: bad file descriptor");
		if (in_len && (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(p->master, in_buf + in_off, in_len - in_off);
			if (n > 0) {
				in_off += (size_t)n;
				if (in_off == in_len)
					in_len = in_off = 0;
			} else if (n < 0 && errno != EINTR && errno != EAGAIN) {
				in_len = in_off = 0; /* nobody left to read it */
			}
		}
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			int r = copy_output(p->master, &out_ok, 1 << 20);
			if (r != 0)
				return r < 0 ? r : 0;
		}

		for (int i = 0; i < 2; i++) {
			if (pfd[2 + i].fd < 0 || !pfd[2 + i].revents)
				continue;
			if (p->on_event(pfd[2 + i].fd, p->ctx)) {
				/*
				 * Typically the container's process has exited: what it
				 * wrote last is in the pty already (a non-blocking read
				 * flushes the tty buffer work first), so copy it out.
				 */
				int r = copy_output(p->master, &out_ok, 8 << 20);
				return r < 0 ? r : 0;
			}
		}
	}
}
