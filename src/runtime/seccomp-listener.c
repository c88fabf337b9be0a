/*
 * The SCMP_ACT_NOTIFY hand-over: the init (or an exec'd process) loads the
 * filter and passes the listener fd up; the runtime parent, still on the host,
 * connects to linux.seccomp.listenerPath and gives the fd to the seccomp agent
 * with the state the runtime-spec defines for it.
 */
#include "seccomp.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "oci/state.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char *process_state_json(const struct hull_seccomp *s, pid_t pid, const char *id,
				const char *bundle, struct json_object *annotations, int status)
{
	const char *path, *meta;
	hull_seccomp_wants_listener(s, &path, &meta);
	_cleanup_free_ char *state =
	    oci_state_hook_json(id, pid, bundle, annotations, (enum oci_status)status);
	if (!state)
		return NULL;
	struct json_object *o = json_object_new_object();
	struct json_object *fds = json_object_new_array();
	json_object_array_add(fds, json_object_new_string("seccompFd"));
	json_object_object_add(o, "ociVersion", json_object_new_string(OCI_VERSION));
	json_object_object_add(o, "fds", fds);
	json_object_object_add(o, "pid", json_object_new_int(pid));
	json_object_object_add(o, "metadata", json_object_new_string(meta ? meta : ""));
	json_object_object_add(o, "state", json_tokener_parse(state));
	char *out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return out;
}

static int send_all(int sock, const char *buf, size_t len, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));

	/* The fd rides on the first byte; a short write leaves the rest for send(). */
	ssize_t n;
	while ((n = sendmsg(sock, &mh, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return -errno;
	for (size_t off = (size_t)n; off < len; off += (size_t)n)
		while ((n = send(sock, buf + off, len - off, MSG_NOSIGNAL)) < 0)
			if (errno != EINTR)
				return -errno;
	return 0;
}

int seccomp_listener_send(const struct hull_seccomp *s, int notify_fd, pid_t pid, const char *id,
			  const char *bundle, struct json_object *annotations, int status)
{
	const char *path, *meta;
	if (!hull_seccomp_wants_listener(s, &path, &meta))
		return herr_set(EINVAL, "linux.seccomp: a notify fd but no listenerPath");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return herr_set(ENAMETOOLONG,
				"linux.seccomp.listenerPath: %s: longer than %zu bytes", path,
				sizeof(sa.sun_path) - 1);
	strcpy(sa.sun_path, path);

	_cleanup_free_ char *msg = process_state_json(s, pid, id, bundle, annotations, status);
	if (!msg)
		return herr_set(ENOMEM, "linux.seccomp: out of memory");
	_cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return herr_sys("linux.seccomp.listenerPath: socket");
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return herr_sys("linux.seccomp.listenerPath: cannot connect to the seccomp agent "
				"at %s",
				path);
	int r = send_all(sock, msg, strlen(msg), notify_fd);
	if (r < 0)
		return herr_set(-r, "linux.seccomp.listenerPath: send the notify fd to %s: %s",
				path, strerror(-r));
	return 0;
}
