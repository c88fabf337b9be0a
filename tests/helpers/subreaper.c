/*
 * subreaper CMD [ARGS...]: run CMD as a child subreaper.
 *
 * Detached containers outlive the runtime process that started them; on this
 * machine PID 1 reaps orphans slowly, so a stopped container would stay a
 * zombie and look alive. Running the test suite under this tool makes every
 * orphan our child, reaped at once. Exits with CMD's status (128+N on signal N).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Descendants still running after CMD exited get this long to finish. */
#define DRAIN_SECONDS 5

static volatile pid_t child_pid;

static void forward(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

static int status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

/* Print the pids of our remaining children: orphans that would go to PID 1. */
static void report_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char path[300], line[256];
	pid_t self = getpid();

	if (!d)
		return;
	while ((e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (strncmp(line, "PPid:", 5) == 0) {
				if (atoi(line + 5) == self)
					fprintf(stderr, "subreaper: pid %s still running\n",
						e->d_name);
				break;
			}
		}
		fclose(f);
	}
	closedir(d);
}

static void drain(void)
{
	struct timespec start, now;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pid_t p = waitpid(-1, NULL, WNOHANG);

		if (p < 0 && errno == ECHILD)
			return;
		if (p > 0)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= DRAIN_SECONDS) {
			report_children();
			return;
		}
		usleep(20000);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = forward, .sa_flags = SA_RESTART};
	int st = 0, code = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CMD [ARGS...]\n", argv[0]);
		return 2;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0) {
		perror("subreaper: prctl(PR_SET_CHILD_SUBREAPER)");
		return 1;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);

	child_pid = fork();
	if (child_pid < 0) {
		perror("subreaper: fork");
		return 1;
	}
	if (child_pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		execvp(argv[1], argv + 1);
		fprintf(stderr, "subreaper: exec %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}

	for (;;) {
		pid_t p = waitpid(-1, &st, 0);

		if (p < 0) {
			if (errno == EINTR)
				continue;
			perror("subreaper: waitpid");
			return 1;
		}
		if (p == child_pid) {
			code = status_code(st);
			break;
		}
	}
	child_pid = 0;
	drain();
	return code;
}
