#include "sync.h"
#include "common/error.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

union fdbuf {
	char buf[CMSG_SPACE(sizeof(int) * SYNC_MAX_FDS)];
	struct cmsghdr align;
};

static int send_msg(int sock, struct sync_msg *m, size_t len, const int *fds, size_t n)
{
	struct iovec iov = {.iov_base = m, .iov_len = len};
	union fdbuf u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (n > SYNC_MAX_FDS)
		return herr_set(E2BIG, "sync: too many fds");
	if (n) {
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	ssize_t r;
	do
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EPIPE || errno == ECONNRESET)) {
		/*
		 * The peer is gone, maybe after reporting why: its SYNC_ERROR is
		 * still queued for us and says more than "broken pipe".
		 */
		struct sync_msg e;
		ssize_t got = recv(sock, &e, sizeof(e), MSG_DONTWAIT);
		if (got > (ssize_t)offsetof(struct sync_msg, data) && e.type == SYNC_ERROR) {
			e.data[sizeof(e.data) - 1] = 0;
			return herr_set(e.code, "%s", e.data);
		}
		errno = EPIPE;
	}
	if (r < 0)
		return herr_sys("sync: send");
	return 0;
}

int sync_send(int sock, enum sync_type type, int code, pid_t pid, const char *data, int fd)
{
	struct sync_msg m = {.type = type, .code = code, .pid = pid};
	size_t len = offsetof(struct sync_msg, data);
	if (data) {
		size_t dl = strnlen(data, sizeof(m.data) - 1);
		memcpy(m.data, data, dl);
		m.data[dl] = 0;
		len += dl + 1;
	}
	return send_msg(sock, &m, len, &fd, fd >= 0 ? 1 : 0);
}

int sync_send_fds(int sock, enum sync_type type, const int *fds, size_t n)
{
	struct sync_msg m = {.type = type};
	return send_msg(sock, &m, offsetof(struct sync_msg, data), fds, n);
}

int sync_recv_fds(int sock, struct sync_msg *m, int *fds, size_t *n)
{
	union fdbuf u;
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	*n = 0;
	memset(m, 0, offsetof(struct sync_msg, data) + 1);
	ssize_t r;
	do
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return herr_sys("sync: receive");
	if (r == 0)
		return herr_set(EPIPE, "the container's init exited during setup");
	m->data[sizeof(m->data) - 1] = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		memcpy(fds + *n, CMSG_DATA(c), k * sizeof(int));
		*n += k;
	}
	return 0;
}

int sync_recv(int sock, struct sync_msg *m, int *fd)
{
	int fds[SYNC_MAX_FDS];
	size_t n;
	int r = sync_recv_fds(sock, m, fds, &n);
	if (fd)
		*fd = n ? fds[0] : -1;
	for (size_t i = fd ? 1 : 0; i < n; i++)
		close(fds[i]);
	return r;
}

int sync_wait_exec(int sock)
{
	struct sync_msg m;
	int r = sync_recv(sock, &m, NULL);
	if (r == -EPIPE) {
		herr_clear();
		return 0;
	}
	if (r < 0)
		return r;
	if (m.type == SYNC_ERROR)
		return herr_set(m.code, "%s", m.data);
	return herr_set(EPROTO, "sync: unexpected message %u before exec", m.type);
}

int sync_expect(int sock, enum sync_type type, struct sync_msg *m)
{
	int r = sync_recv(sock, m, NULL);
	if (r < 0)
		return r;
	if (m->type == SYNC_ERROR)
		return herr_set(m->code, "%s", m->data);
	if (m->type != type)
		return herr_set(EPROTO, "sync: expected message %d, got %u", type, m->type);
	return 0;
}
