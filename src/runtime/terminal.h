/* Pseudo-terminals for process.terminal, and the --console-socket hand-over. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

/*
 * Open a new pty master through `ptmx_path` (e.g. "/dev/pts/ptmx" inside the
 * container, so the pty belongs to the container's devpts). On success *master
 * and *slave are O_CLOEXEC fds; the slave is opened with O_NOCTTY.
 * If rows/cols are non-zero the window size is set.
 */
int term_open_pty(const char *ptmx_path, int *master, int *slave, unsigned rows, unsigned cols);
/* Make fd the controlling terminal and stdin/stdout/stderr of the calling process (after setsid).
 */
int term_make_controlling(int slave);

/* Send / receive one fd with SCM_RIGHTS over a unix socket, with a short name as payload. */
int term_send_fd(int sock, int fd, const char *name);
int term_recv_fd(int sock, int *fd); /* *fd is O_CLOEXEC */

/* Connect to the unix socket at path (runc's --console-socket) and send master to it. */
int term_send_to_console_socket(const char *path, int master);

/*
 * Copy the window size of from_fd (a tty, e.g. stdin) to the pty master; for
 * the caller at start and on SIGWINCH. -ENOTTY when from_fd is not a terminal.
 */
int term_resize_from(int from_fd, int master);

/*
 * Foreground `run` with a terminal and no console socket: copy stdin -> master
 * and master -> stdout until the master hangs up or on_event says stop. If stdin
 * is a tty it is put in raw mode and restored after; SIGWINCH resizes the pty.
 * The caller's signalfd and pidfd are polled as well: on_event is called when
 * either is readable and returns true to stop (after the output the master
 * already holds has been copied). on_event must consume its event, or set
 * p->extra_fds[i] to -1 to stop polling that fd, or it is called again at once.
 * The caller blocks its signals (signalfd), so SIGWINCH comes through on_event:
 * call term_resize_from(STDIN_FILENO, master) there. Returns 0 when done.
 */
struct term_proxy {
	int master;
	int extra_fds[2]; /* -1 when unused */
	bool (*on_event)(int fd, void *ctx);
	void *ctx;
};
int term_proxy_run(struct term_proxy *p);
