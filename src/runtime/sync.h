/*
 * Parent <-> container init messages over one SOCK_SEQPACKET socketpair. The
 * init reports an error with SYNC_ERROR (errno + message) and exits; an EOF
 * means it died or exec'd (the socket is O_CLOEXEC).
 */
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum sync_type {
	SYNC_GO = 1,	   /* P->C: cgroups joined, id maps written; data = host pid */
	SYNC_HOOKS,	   /* C->P: run prestart/createRuntime hooks now */
	SYNC_HOOKS_DONE,   /* P->C */
	SYNC_PTY,	   /* C->P: the pty master (SCM_RIGHTS) */
	SYNC_READY,	   /* C->P: set up, waiting for start */
	SYNC_START_FIFO,   /* P->C: create is done; wait on exec.fifo (run goes on at once) */
	SYNC_ERROR,	   /* C->P: data = message, code = errno */
	SYNC_CGROUPS,	   /* P->C: the v1 `tasks` files to move into (SCM_RIGHTS) */
	SYNC_SECCOMP,	   /* C->P: the seccomp notify fd (SCM_RIGHTS), for the listener */
	SYNC_SECCOMP_DONE, /* P->C: the listener has it */
	SYNC_LIMITS, /* P->C: the cgroups' limits are set; the cgroup mount's tree, if built */
};

struct sync_msg {
	uint32_t type;
	int32_t code;
	pid_t pid;
	char data[4096];
};

int sync_send(int sock, enum sync_type type, int code, pid_t pid, const char *data, int fd);
/* Receive one message; *fd (if non-NULL) gets a passed fd or -1. -EPIPE on EOF. */
int sync_recv(int sock, struct sync_msg *m, int *fd);
#define SYNC_MAX_FDS 32
int sync_send_fds(int sock, enum sync_type type, const int *fds, size_t n);
/* Like sync_recv, for up to SYNC_MAX_FDS fds: fds[0..*n). */
int sync_recv_fds(int sock, struct sync_msg *m, int *fds, size_t *n);
/* Receive and require type; a SYNC_ERROR becomes the current error. */
int sync_expect(int sock, enum sync_type type, struct sync_msg *m);
/* Wait for the peer's execve: its end closes (0), or it reports SYNC_ERROR. */
int sync_wait_exec(int sock);
