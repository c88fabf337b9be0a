/*
 * deck-shim: the monitor of one container (the role of conmon and
 * containerd-shim). shim_start() launches it detached from the caller (double
 * fork, new session); it makes itself the child subreaper, creates and starts
 * the container through the runtime library (or an OCI runtime binary such as
 * runc, crun or hull), holds the container's stdio pipes or pty master, writes
 * its output to the log, serves attach clients, reaps, records the exit, deletes
 * the container, and runs the exit command.
 *
 * The state dir (the caller's, one per container) holds while the shim runs:
 *   shim.pid   the shim's pid, flock'ed by it for as long as it watches the container
 *   init.pid   the container init's pid
 *   attach     the attach socket (SOCK_SEQPACKET)
 * and afterwards:
 *   exit.json  {"exitCode":N,"oomKilled":false,"finishedAt":"RFC3339"}, written
 *              atomically once the init has exited and its output is in the log
 *              (N is 128+S after signal S; a wait_attach start that failed is
 *              {"exitCode":125,...,"error":"the runtime's message"}).
 * The order at the end: exit.json; the runtime's container deleted; attach
 * clients see the end of output; attach, init.pid and shim.pid go and the lock
 * is let go; the exit command runs (it may inspect and remove the container;
 * nobody waits for it); the shim exits. The shim ignores SIGTERM, SIGINT and
 * SIGHUP: it ends with its container (SIGKILL ends it, and the container then
 * dies of SIGPIPE at its next write).
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/logs.h"

#define SHIM_PID_FILE	 "shim.pid"
#define SHIM_INIT_FILE	 "init.pid"
#define SHIM_ATTACH_FILE "attach"
#define SHIM_EXIT_FILE	 "exit.json"

struct shim_opts {
	const char *id;		  /* the container's id for the runtime */
	const char *bundle;	  /* config.json + rootfs */
	const char *runtime;	  /* NULL: in process, through the runtime library; else the
				     path of an OCI runtime binary (runc's command line) */
	const char *runtime_root; /* the runtime's --root; NULL: /run/hull in process, else
				     the runtime's own default */
	const char *state_dir;	  /* exists; the shim's files go here */
	const char *log_path;	  /* NULL: no log */
	enum logs_driver log_driver;
	uint64_t log_max_size;	   /* bytes; past it the log rotates to PATH.1; 0: never */
	bool terminal;		   /* process.terminal: the shim holds the pty master */
	bool stdin_open;	   /* -i: the container's stdin is a pipe that attach clients
				      write; else /dev/null (a terminal's stdin is the pty) */
	bool wait_attach;	   /* create now; start when the first attach client connects,
				      so that it sees all the output (deck run in the foreground) */
	char *const *exit_command; /* argv run after the container is gone; NULL: none */
	const char *deck_root;	   /* deck's: ctr_cleanup(deck_root, id) in the shim itself
				      once the container is gone (before exit_command): no
				      process to start for it */
	const char *shim_path;	   /* the deck-shim binary; NULL: next to /proc/self/exe, else
				      found in $PATH */
};

/*
 * Launch the shim for o and wait until the container runs (with wait_attach:
 * until it is created). *init_pid gets the container init's pid. On failure the
 * runtime's own message is recorded (herr) and nothing is left behind: no
 * container, no shim, no files of the shim in the state dir.
 */
int shim_start(const struct shim_opts *o, pid_t *init_pid);

/* deck-shim's main after shim_start() launched it: reports on sync_fd, never returns. */
_Noreturn void shim_main(const struct shim_opts *o, int sync_fd);

/*
 * Attach to the container watched from state_dir: its output is copied to
 * out_fd and err_fd (the same fd is fine; a terminal has only out_fd), what
 * in_fd reads goes to its stdin when that was kept open (in_fd -1: none). When
 * in_fd is a terminal it is put in raw mode, its size is given to the pty (and
 * again on SIGWINCH), and ctrl-p ctrl-q detaches. Returns 0 once the container
 * has exited and its output is all out (its exit is recorded and the runtime's
 * container deleted by then), SHIM_DETACHED after ctrl-p ctrl-q, or a negative
 * errno (-ENOENT: no shim serves it, the container is not running).
 */
#define SHIM_DETACHED	      1
#define SHIM_ATTACH_EOF_CLOSE 0x1u /* in_fd's end closes the container's stdin (docker run -i) */
int shim_attach(const char *state_dir, int in_fd, int out_fd, int err_fd, unsigned flags);
/* The same, and *exit_code gets the exit status the shim sent at the end (-1 if none came). */
int shim_attach_exit(const char *state_dir, int in_fd, int out_fd, int err_fd, unsigned flags,
		     int *exit_code);

/*
 * The attach socket's protocol (SOCK_SEQPACKET; first byte of a packet, its type):
 *   shim -> client: stdout or stderr bytes, or an error (a wait_attach start
 *                   failed); at the end the exit status (an int, host order),
 *                   then the shim closes the connection. A client learns the
 *                   status there because with --rm the record is removed next.
 *   client -> shim: stdin bytes, a window size (u16 rows, u16 cols, host order),
 *                   or "close stdin". A packet carries at most 4096 bytes of data.
 * A client sends a packet at once (its window size, or empty stdin bytes): with
 * wait_attach, the first client's first packet starts the container.
 */
enum { SHIM_PKT_STDIN = 0, SHIM_PKT_RESIZE = 1, SHIM_PKT_CLOSE_STDIN = 2 };
enum { SHIM_PKT_STDOUT = 1, SHIM_PKT_STDERR = 2, SHIM_PKT_ERROR = 3, SHIM_PKT_EXIT = 4 };

struct shim_exit {
	int exit_code; /* the exit status, or 128+N after signal N */
	bool oom_killed;
	char finished_at[48]; /* RFC3339 with nanoseconds, UTC */
};
/* The exit record; -ENOENT (not recorded) while the container runs or never ran. */
int shim_read_exit(const char *state_dir, struct shim_exit *e);
/*
 * Wait for the exit record and the runtime's container to be deleted, up to
 * timeout_ms (-1: for ever). -ETIMEDOUT, or -ESRCH when no shim runs and nothing
 * was recorded (it was killed, or never started).
 */
int shim_wait(const char *state_dir, int timeout_ms, struct shim_exit *e);
/* Once the exit is known: wait until the shim has deleted the container and let go. */
int shim_wait_done(const char *state_dir);
/* A pidfd of the shim watching state_dir (O_CLOEXEC), or -ESRCH when none does. */
int shim_pidfd(const char *state_dir);
