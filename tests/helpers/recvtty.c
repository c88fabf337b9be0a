/*
 * recvtty: the far end of `hull create --console-socket` for tests.
 *
 *   recvtty [--mode single|null] [--pid-file F] SOCKET_PATH
 *
 * Listens on SOCKET_PATH, accepts one connection and receives the pty master
 * sent over it (SCM_RIGHTS). In single mode it then copies the master's output
 * to stdout and its own stdin to the master; in null mode it discards the
 * output. Either way it exits 0 once the container side of the pty has hung up.
 * The pid file is written once the socket is listening, so a test can wait for
 * it; the socket file is removed once the connection is accepted, and on exit.
 *
 * Standalone (no project headers): cc -O2 -o recvtty tests/helpers/recvtty.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *sock_path;
static volatile sig_atomic_t sock_bound;

static void remove_socket(void)
{
	if (sock_bound) {
		sock_bound = 0;
		unlink(sock_path);
	}
}

static void on_fatal_signal(int sig)
{
	if (sock_bound)
		unlink(sock_path);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void die(const char *fmt, ...)
{
	va_list ap;
	int e = errno;
	fputs("recvtty: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (e && fmt[strlen(fmt) - 1] == ':')
		fprintf(stderr, " %s", strerror(e));
	fputc('\n', stderr);
	exit(1);
}

static void usage(FILE *f)
{
	fputs("usage: recvtty [--mode single|null] [--pid-file FILE] SOCKET_PATH\n", f);
}

static void write_pid_file(const char *path)
{
	char tmp[4096], buf[32];
	/* Through a rename, so a test that sees the file also sees the pid in it. */
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		die("pid file path too long");
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die("open %s:", tmp);
	int n = snprintf(buf, sizeof(buf), "%d", (int)getpid());
	if (write(fd, buf, (size_t)n) != n || close(fd) < 0)
		die("write %s:", tmp);
	if (rename(tmp, path) < 0)
		die("rename %s:", tmp);
}

static int recv_master(int conn)
{
	char name[4096];
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
		n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die("recvmsg:");
	int fd = -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fd < 0)
				fd = f;
			else
				close(f);
		}
	}
	errno = 0;
	if (fd < 0)
		die("no file descriptor received");
	return fd;
}

static bool write_full(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd p = {.fd = fd, .events = POLLOUT};
				poll(&p, 1, -1);
				continue;
			}
			return false;
		}
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Returns true when the container side has hung up. */
static bool drain(int master, bool *out_ok, bool discard)
{
	char buf[16384];
	for (;;) {
		ssize_t n = read(master, buf, sizeof(buf));
		if (n == 0)
			return true;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return false;
			return true; /* EIO: every slave fd is closed */
		}
		if (!discard && *out_ok && !write_full(STDOUT_FILENO, buf, (size_t)n))
			*out_ok = false;
	}
}

static void relay(int master, bool discard)
{
	char in_buf[4096];
	size_t in_len = 0, in_off = 0;
	bool in_open = !discard, out_ok = true;

	/* Non-blocking, so a container not reading its input cannot stall its output. */
	int fl = fcntl(master, F_GETFL);
	if (fl < 0 || fcntl(master, F_SETFL, fl | O_NONBLOCK) < 0)
		die("fcntl:");
	for (;;) {
		struct pollfd pfd[2] = {
		    {.fd = in_open && in_len == 0 ? STDIN_FILENO : -1, .events = POLLIN},
		    {.fd = master, .events = POLLIN | (in_len ? POLLOUT : 0)},
		};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll:");
		}
		if (pfd[0].revents) {
			ssize_t n = read(STDIN_FILENO, in_buf, sizeof(in_buf));
			if (n > 0) {
				in_len = (size_t)n;
				in_off = 0;
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				in_open = false; /* output may still come */
			}
		}
		if (in_len && (pfd[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t n = write(master, in_buf + in_off, in_len - in_off);
			if (n > 0) {
				in_off += (size_t)n;
				if (in_off == in_len)
					in_len = in_off = 0;
			} else if (n < 0 && errno != EINTR && errno != EAGAIN) {
				in_len = in_off = 0;
			}
		}
		if (pfd[1].revents & POLLNVAL)
			return;
		if ((pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    drain(master, &out_ok, discard))
			return;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"mode", required_argument, NULL, 'm'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *mode = "single", *pid_file = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "m:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			mode = optarg;
			break;
		case 'p':
			pid_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	bool discard;
	if (!strcmp(mode, "single"))
		discard = false;
	else if (!strcmp(mode, "null"))
		discard = true;
	else {
		errno = 0;
		die("unknown mode %s (single or null)", mode);
	}
	sock_path = argv[optind];

	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(sock_path) >= sizeof(sa.sun_path)) {
		errno = 0;
		die("socket path too long: %s", sock_path);
	}
	strcpy(sa.sun_path, sock_path);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket:");

	struct sigaction sact = {.sa_handler = on_fatal_signal};
	sigaction(SIGINT, &sact, NULL);
	sigaction(SIGTERM, &sact, NULL);
	sigaction(SIGHUP, &sact, NULL);
	/* A reader of our stdout that goes away turns the copy into a discard. */
	signal(SIGPIPE, SIG_IGN);
	atexit(remove_socket);

	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("bind %s:", sock_path);
	sock_bound = 1;
	if (listen(lfd, 1) < 0)
		die("listen %s:", sock_path);
	if (pid_file)
		write_pid_file(pid_file);

	int conn;
	do
		conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	while (conn < 0 && errno == EINTR);
	if (conn < 0)
		die("accept:");
	close(lfd);
	remove_socket();

	int master = recv_master(conn);
	close(conn);
	relay(master, discard);
	close(master);
	return 0;
}
