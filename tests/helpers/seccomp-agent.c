/*
 * A seccomp agent for the tests: listens on a unix socket for runtimes that
 * hand over a SCMP_ACT_NOTIFY listener (the container process state as JSON
 * plus the fd), appends each state document as one line to LOG, and answers
 * notifications so that a test can see them from inside the container:
 *   mkdir, mkdirat   fail with ENOMEDIUM ("No medium found")
 *   getppid          returns 4242 without running
 *   anything else    runs as if not filtered (SECCOMP_USER_NOTIF_FLAG_CONTINUE)
 *
 *   seccomp-agent SOCKET LOG      (x86_64 syscall numbers; ends on SIGTERM)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FDS 64

static struct seccomp_notif_sizes sizes;

static int take_connection(int lsock, FILE *log)
{
	int c = accept4(lsock, NULL, NULL, SOCK_CLOEXEC);
	if (c < 0)
		return -1;
	static char buf[1 << 16];
	size_t len = 0;
	int fd = -1;
	for (;;) {
		char cbuf[CMSG_SPACE(sizeof(int) * 4)];
		struct iovec iov = {.iov_base = buf + len, .iov_len = sizeof(buf) - 1 - len};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = cbuf,
				    .msg_controllen = sizeof(cbuf)};
		ssize_t n = recvmsg(c, &mh, MSG_CMSG_CLOEXEC);
		if (n <= 0)
			break;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS && fd < 0)
				memcpy(&fd, CMSG_DATA(cm), sizeof(int));
		len += (size_t)n;
		if (len >= sizeof(buf) - 1)
			break;
	}
	close(c);
	buf[len] = 0;
	fprintf(log, "%s\n", buf);
	fflush(log);
	return fd;
}

static void answer(int fd)
{
	struct seccomp_notif *req = calloc(1, sizes.seccomp_notif);
	struct seccomp_notif_resp *resp = calloc(1, sizes.seccomp_notif_resp);
	if (!req || !resp)
		exit(1);
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req) == 0) {
		resp->id = req->id;
		switch (req->data.nr) {
		case SYS_mkdir:
		case SYS_mkdirat:
			resp->error = -ENOMEDIUM;
			break;
		case SYS_getppid:
			resp->val = 4242;
			break;
		default:
			resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		}
		/* ENOENT: the caller died meanwhile; nothing to answer. */
		ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp);
	}
	free(req);
	free(resp);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: seccomp-agent SOCKET LOG\n");
		return 2;
	}
	if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) < 0) {
		perror("seccomp-agent: SECCOMP_GET_NOTIF_SIZES");
		return 1;
	}
	if (sizes.seccomp_notif < sizeof(struct seccomp_notif))
		sizes.seccomp_notif = sizeof(struct seccomp_notif);
	if (sizes.seccomp_notif_resp < sizeof(struct seccomp_notif_resp))
		sizes.seccomp_notif_resp = sizeof(struct seccomp_notif_resp);
	FILE *log = fopen(argv[2], "ae");
	if (!log) {
		perror(argv[2]);
		return 1;
	}
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[1]);
	int lsock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(argv[1]);
	if (lsock < 0 || bind(lsock, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lsock, 16) < 0) {
		perror("seccomp-agent: listen");
		return 1;
	}
	struct pollfd p[MAX_FDS + 1] = {{.fd = lsock, .events = POLLIN}};
	nfds_t n = 1;
	for (;;) {
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("seccomp-agent: poll");
			return 1;
		}
		for (nfds_t i = 1; i < n; i++) {
			if (p[i].revents & POLLIN)
				answer(p[i].fd);
			else if (p[i].revents & (POLLHUP | POLLERR)) {
				/* Every process under that filter is gone. */
				close(p[i].fd);
				p[i--] = p[--n];
			}
		}
		if ((p[0].revents & POLLIN) && n <= MAX_FDS) {
			int fd = take_connection(lsock, log);
			if (fd >= 0)
				p[n++] = (struct pollfd){.fd = fd, .events = POLLIN};
		}
	}
}
