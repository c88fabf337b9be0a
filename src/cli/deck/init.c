/*
 * deck-init: the container's pid 1 under `deck run --init` (the role of tini,
 * docker-init). A shell or a server written to be a normal process does not
 * reap the orphans a container's pid 1 inherits, and as pid 1 it gets no
 * default action for SIGTERM or SIGINT: it ignores `deck stop` for its whole
 * timeout. deck-init runs the command as its child, passes every signal it
 * can catch on to it, reaps every zombie, and exits as the child did
 * (128 + N when signal N killed it).
 *
 * Built static with libc alone: it is bind-mounted into images that may have
 * no libc at all.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* built on its own, without the project's flags */
#endif
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* "deck-init: " and the pieces, in one write. */
static void say(const char *a, const char *b, const char *c, const char *d)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "deck-init: %s%s%s%s\n", a, b ? b : "", c ? c : "",
			 d ? d : "");
	if (n > 0 && write(STDERR_FILENO, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf)))
		return;
}

/* Signals the kernel raises at the faulting thread: forwarding them makes no sense. */
static const int synchronous[] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGTRAP, SIGSYS};

static void child(char **argv, const sigset_t *orig)
{
	/*
	 * Its own process group, the terminal's foreground one when there is a
	 * terminal: ^C then reaches the command (and its children) straight
	 * from the tty, as it would without deck-init. Still blocked here, the
	 * SIGTTOU that tcsetpgrp from a background group raises is not delivered.
	 */
	if (setpgid(0, 0) < 0)
		say("setpgid: ", strerror(errno), NULL, NULL);
	if (isatty(STDIN_FILENO) && tcsetpgrp(STDIN_FILENO, getpgrp()) < 0 && errno != ENOTTY &&
	    errno != ENXIO)
		say("tcsetpgrp: ", strerror(errno), NULL, NULL);
	/* An ignored disposition survives execve; the command gets the defaults. */
	signal(SIGTTIN, SIG_DFL);
	signal(SIGTTOU, SIG_DFL);
	sigprocmask(SIG_SETMASK, orig, NULL);
	execvp(argv[0], argv);
	int e = errno;
	say("exec ", argv[0], ": ", strerror(e));
	_exit(e == ENOENT ? 127 : 126);
}

/* Reap every exited process; returns true once main has, its status in *status. */
static bool reap(pid_t main, int *status)
{
	bool done = false;
	for (;;) {
		int st;
		pid_t p = waitpid(-1, &st, WNOHANG);
		if (p <= 0) {
			if (p < 0 && errno == EINTR)
				continue;
			return done;
		}
		if (p == main) {
			*status = st;
			done = true;
		}
	}
}

int main(int argc, char **argv)
{
	int first = 1;
	if (argc > 1 && !strcmp(argv[1], "--"))
		first = 2;
	if (first >= argc || (argv[first][0] == '-' && first == 1)) {
		say("usage: deck-init -- COMMAND [ARG...]", NULL, NULL, NULL);
		return 2;
	}
	/* Not pid 1 (a test, or a runtime's own init in front): be the orphans' parent anyway. */
	if (getpid() != 1 && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		say("cannot become a subreaper: ", strerror(errno), NULL, NULL);

	/*
	 * An ignored signal is dropped before it could be waited for, and the
	 * command would inherit the ignoring: start from the defaults (a shell
	 * ignores SIGINT in what it starts with &).
	 */
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigset_t all, orig;
	sigfillset(&all);
	for (size_t i = 0; i < sizeof(synchronous) / sizeof(synchronous[0]); i++)
		sigdelset(&all, synchronous[i]);
	/* Blocked before the fork: none may arrive between it and the wait loop. */
	sigprocmask(SIG_SETMASK, &all, &orig);
	/* Giving the terminal to the child would stop us at our next touch of it. */
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);

	pid_t pid = fork();
	if (pid < 0) {
		say("fork: ", strerror(errno), NULL, NULL);
		return 1;
	}
	if (pid == 0)
		child(argv + first, &orig);
	/* Also here: whichever of the two runs first, the group exists before it is used. */
	setpgid(pid, pid);

	int status = 0;
	for (;;) {
		siginfo_t si;
		int sig = sigwaitinfo(&all, &si);
		if (sig < 0) {
			if (errno == EINTR)
				continue;
			say("sigwaitinfo: ", strerror(errno), NULL, NULL);
			return 1;
		}
		if (sig == SIGCHLD) {
			if (reap(pid, &status))
				break;
			continue;
		}
		/* Gone already: its SIGCHLD is pending and ends the loop. */
		if (kill(pid, sig) < 0 && errno != ESRCH)
			say("cannot forward a signal: ", strerror(errno), NULL, NULL);
	}
	/* Orphans that exited by now too; the rest die with the pid namespace. */
	reap(pid, &(int){0});
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
