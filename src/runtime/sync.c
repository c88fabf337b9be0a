#include "sync.h"
#include "common/error.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

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
	struct iovec iov = {.iov_base = &m, .iov_len = len};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return herr_sys("sync: send");
	return 0;
}

int sync_recv(int sock, struct sync_msg *m, int *fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = m, .iov_len = sizeof(*m)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	if (fd)
		*fd = -1;
	memset(m, 0, offsetof(struct sync_msg, data) + 1);
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return herr_sys("sync: receive");
	if (n == 0)
		return herr_set(EPIPE, "the container's init exited during setup");
	m->data[sizeof(m->data) - 1] = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int got;
			memcpy(&got, CMSG_DATA(c), sizeof(int));
			if (fd)
				*fd = got;
		}
	}
	return 0;
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
