/*
 * lap: time the steps of a container's life, several runtimes side by side.
 *
 *   lap [-n N] [-w W] [-j P] [-f] [-p PREFIX] [-o TIMES] [-m RSS] [-e LOG] SCRIPT
 *
 * SCRIPT is a text file, one directive a line (# starts a comment):
 *
 *   group NAME               the steps that follow belong to NAME (a runtime)
 *   step NAME ARGV...        run ARGV, time it from spawn to reap
 *   prep ARGV...             run ARGV untimed (it must succeed)
 *   wait                     untimed: wait until a container init of this
 *                            group (an orphan, see below) has been reaped
 *
 * ARGV is split on blanks; in it "{id}" becomes a container id unique to the
 * iteration and worker, "{w}" the worker's number (0 without -j).
 *
 * One iteration runs every group's steps once. The groups take turns in a
 * rotating order (iteration i starts with group i mod G) so that drift on a
 * noisy machine and the after-effects of one runtime on the next (RCU
 * callbacks, cgroup teardown) fall on all of them alike. W warm-up iterations
 * (default 10) come first and are not recorded. Every step's stdin and stdout
 * are /dev/null and its stderr goes to LOG (default /dev/null); a step that
 * fails stops lap with exit status 1 after printing its command and stderr.
 *
 * Sequential mode writes one line per iteration to TIMES (default stdout):
 * the milliseconds of each step, in the order the script declares them, after
 * a "#" line naming them "group.step". -m writes the same for the peak RSS in
 * KiB that wait4() reports (the largest process among the step and what it
 * reaped); -f spawns with fork() instead of posix_spawn() so that the figure
 * does not include lap's own memory (a vfork child's exec records the
 * parent's peak as its own).
 *
 * Parallel mode (-j P): after the warm-up, P workers each run N/P iterations
 * at the same time; lap prints "WALL_MS CONTAINERS" to TIMES, the wall time
 * from the first worker's fork to the last one's exit and the number of
 * iterations times groups. No "wait" there: orphans go to lap, not to the
 * worker that waits for them.
 *
 * lap is a child subreaper: detached container inits whose runtime exited
 * become its children and are reaped at once.
 *
 * Standalone: cc -O2 -o lap bench/lap.c
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A step that takes longer than this is hung: it is killed and lap fails. */
#define STEP_TIMEOUT_S 60

extern char **environ;

enum kind { STEP, PREP, WAIT };

struct step {
	enum kind kind;
	char *name; /* "group.step" */
	char **argv;
	int argc;
	int col; /* output column, -1 for PREP and WAIT */
};

struct group {
	char *name;
	struct step *steps;
	int nsteps;
};

static struct group *groups;
static int ngroups, ncols;
static const char *prefix = "c";
static bool use_fork;
static int devnull_in = -1, devnull_out = -1, log_fd = -1;
static const char *log_path = "/dev/null";
static unsigned long orphans; /* children reaped that were not a step */
static volatile sig_atomic_t timed_out;
static posix_spawn_file_actions_t spawn_fa; /* stdio of every step */

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("lap: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		die("out of memory");
	return p;
}

static void *xrealloc(void *p, size_t n, size_t size)
{
	p = reallocarray(p, n ? n : 1, size);
	if (!p)
		die("out of memory");
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		die("out of memory");
	return p;
}

static void on_alarm(int sig)
{
	(void)sig;
	timed_out = 1;
}

static void parse_script(const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0;

	if (!f)
		die("%s: %s", path, strerror(errno));
	while (getline(&line, &cap, f) >= 0) {
		char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save);
		struct group *g = ngroups ? &groups[ngroups - 1] : NULL;

		lineno++;
		if (!tok || tok[0] == '#')
			continue;
		if (!strcmp(tok, "group")) {
			char *name = strtok_r(NULL, " \t\r\n", &save);

			if (!name)
				die("%s:%d: group wants a name", path, lineno);
			groups = xrealloc(groups, ngroups + 1, sizeof(*groups));
			groups[ngroups++] = (struct group){.name = xstrdup(name)};
			continue;
		}
		if (!g)
			die("%s:%d: '%s' before any group", path, lineno, tok);
		g->steps = xrealloc(g->steps, g->nsteps + 1, sizeof(*g->steps));
		struct step *s = &g->steps[g->nsteps++];
		*s = (struct step){.kind = WAIT, .col = -1};
		if (!strcmp(tok, "wait"))
			continue;
		const char *name = "prep";
		if (!strcmp(tok, "prep")) {
			s->kind = PREP;
		} else if (!strcmp(tok, "step")) {
			s->kind = STEP;
			if (!(name = strtok_r(NULL, " \t\r\n", &save)))
				die("%s:%d: step wants a name and a command", path, lineno);
		} else {
			die("%s:%d: unknown directive '%s'", path, lineno, tok);
		}
		if (asprintf(&s->name, "%s.%s", g->name, name) < 0)
			die("out of memory");
		while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
			s->argv = xrealloc(s->argv, s->argc + 2, sizeof(*s->argv));
			s->argv[s->argc++] = xstrdup(tok);
		}
		if (!s->argc)
			die("%s:%d: step %s has no command", path, lineno, name);
		s->argv[s->argc] = NULL;
		if (s->kind == STEP)
			s->col = ncols++;
	}
	free(line);
	fclose(f);
	if (!ncols)
		die("%s: no step", path);
}

/* Replace every occurrence of KEY in S by VAL; a new string. */
static char *subst(const char *s, const char *key, const char *val)
{
	size_t kl = strlen(key), vl = strlen(val), n = 0;
	const char *p;

	for (p = s; (p = strstr(p, key)); p += kl)
		n++;
	char *out = xcalloc(strlen(s) + n * vl + 1, 1), *o = out;
	for (p = s;;) {
		const char *q = strstr(p, key);
		if (!q)
			break;
		memcpy(o, p, (size_t)(q - p));
		o += q - p;
		memcpy(o, val, vl);
		o += vl;
		p = q + kl;
	}
	strcpy(o, p);
	return out;
}

static char **expand(const struct step *s, const char *id, const char *w)
{
	char **argv = xcalloc((size_t)s->argc + 1, sizeof(*argv));

	for (int i = 0; i < s->argc; i++) {
		char *t = subst(s->argv[i], "{id}", id);
		argv[i] = subst(t, "{w}", w);
		free(t);
	}
	return argv;
}

static void free_argv(char **argv)
{
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static pid_t spawn(char **argv)
{
	pid_t pid;

	if (use_fork) {
		pid = fork();
		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			if (dup2(devnull_in, 0) < 0 || dup2(devnull_out, 1) < 0 ||
			    dup2(log_fd, 2) < 0)
				_exit(126);
			execvp(argv[0], argv);
			_exit(127);
		}
		return pid;
	}
	int r = posix_spawnp(&pid, argv[0], &spawn_fa, NULL, argv, environ);
	if (r)
		die("cannot run %s: %s", argv[0], strerror(r));
	return pid;
}

/*
 * Reap children until PID is among them (PID 0: until one orphan is), with a
 * timeout. Everything else that is reaped on the way is an orphan.
 */
static int reap_until(pid_t pid, int *status, struct rusage *ru)
{
	unsigned long mark = orphans;

	timed_out = 0;
	alarm(STEP_TIMEOUT_S);
	for (;;) {
		int st;
		struct rusage r;
		pid_t p = wait4(-1, &st, 0, &r);

		if (p < 0) {
			if (errno == EINTR && timed_out) {
				if (pid > 0)
					kill(pid, SIGKILL);
				alarm(0);
				return -ETIMEDOUT;
			}
			if (errno == EINTR)
				continue;
			alarm(0);
			return -errno;
		}
		if (pid > 0 && p == pid) {
			*status = st;
			*ru = r;
			break;
		}
		orphans++;
		if (pid == 0 && orphans > mark)
			break;
	}
	alarm(0);
	return 0;
}

static void show_failure(const char *name, char **argv, const char *why)
{
	char buf[2048];
	ssize_t n;

	fprintf(stderr, "lap: %s failed: %s\nlap:   command:", name, why);
	for (char **a = argv; *a; a++)
		fprintf(stderr, " %s", *a);
	fputc('\n', stderr);
	if (lseek(log_fd, 0, SEEK_SET) == 0 && (n = read(log_fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		fprintf(stderr, "lap:   stderr: %s%s", buf, buf[n - 1] == '\n' ? "" : "\n");
	}
}

/* One pass over group G's steps with container id ID. */
static void run_group(const struct group *g, const char *id, const char *w, double *ms, long *kib)
{
	unsigned long mark = orphans;

	for (int i = 0; i < g->nsteps; i++) {
		const struct step *s = &g->steps[i];

		if (s->kind == WAIT) {
			/* The init may have been reaped already, during a step. */
			if (orphans > mark)
				continue;
			int st;
			struct rusage ru;
			if (reap_until(0, &st, &ru) < 0)
				die("%s: no container init exited within %d s", g->name,
				    STEP_TIMEOUT_S);
			continue;
		}
		char **argv = expand(s, id, w);
		struct timespec t0;
		struct rusage ru;
		int st = 0, r;

		/* A fresh log for each step: only the failing one's is shown. */
		if (ftruncate(log_fd, 0) < 0 && errno != EINVAL)
			die("%s: %s", log_path, strerror(errno));
		clock_gettime(CLOCK_MONOTONIC, &t0);
		pid_t pid = spawn(argv);
		r = reap_until(pid, &st, &ru);
		double t = ms_since(&t0);
		if (r == -ETIMEDOUT) {
			show_failure(s->name, argv, "timed out (killed)");
			exit(1);
		}
		if (r < 0)
			die("wait: %s", strerror(-r));
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			char why[64];
			if (WIFEXITED(st))
				snprintf(why, sizeof(why), "exit status %d", WEXITSTATUS(st));
			else
				snprintf(why, sizeof(why), "signal %d", WTERMSIG(st));
			show_failure(s->name, argv, why);
			exit(1);
		}
		free_argv(argv);
		if (s->col >= 0) {
			ms[s->col] = t;
			kib[s->col] = ru.ru_maxrss;
		}
	}
}

static void iteration(long it, int worker, double *ms, long *kib)
{
	char id[128], w[16];

	snprintf(id, sizeof(id), "%s%d-%ld", prefix, worker, it);
	snprintf(w, sizeof(w), "%d", worker);
	for (int k = 0; k < ngroups; k++)
		run_group(&groups[(it + k) % ngroups], id, w, ms, kib);
}

static void header(FILE *f)
{
	fputc('#', f);
	for (int g = 0; g < ngroups; g++)
		for (int i = 0; i < groups[g].nsteps; i++)
			if (groups[g].steps[i].kind == STEP)
				fprintf(f, " %s", groups[g].steps[i].name);
	fputc('\n', f);
}

static FILE *open_out(const char *path)
{
	FILE *f;

	if (!path)
		return stdout;
	f = fopen(path, "we");
	if (!f)
		die("%s: %s", path, strerror(errno));
	return f;
}

static void close_out(FILE *f, const char *path)
{
	if (fflush(f) || ferror(f) || (f != stdout && fclose(f)))
		die("%s: write error", path ? path : "stdout");
}

static int parallel(long n, int workers, long warm, FILE *out)
{
	double *ms = xcalloc((size_t)ncols, sizeof(*ms));
	long *kib = xcalloc((size_t)ncols, sizeof(*kib));
	struct timespec t0;
	pid_t *pids = xcalloc((size_t)workers, sizeof(*pids));
	int left = workers, failed = 0;

	for (int g = 0; g < ngroups; g++)
		for (int i = 0; i < groups[g].nsteps; i++)
			if (groups[g].steps[i].kind == WAIT)
				die("'wait' has no meaning with -j");
	for (long it = 0; it < warm; it++)
		iteration(it, 0, ms, kib);
	fflush(NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int w = 0; w < workers; w++) {
		pids[w] = fork();
		if (pids[w] < 0)
			die("fork: %s", strerror(errno));
		if (pids[w] == 0) {
			for (long it = 0; it < n / workers; it++)
				iteration(warm + it, w, ms, kib);
			fflush(NULL);
			_exit(0);
		}
	}
	while (left > 0) {
		int st;
		pid_t p = waitpid(-1, &st, 0);

		if (p < 0) {
			if (errno == EINTR)
				continue;
			die("wait: %s", strerror(errno));
		}
		for (int w = 0; w < workers; w++) {
			if (p != pids[w])
				continue;
			left--;
			if (!WIFEXITED(st) || WEXITSTATUS(st))
				failed = 1;
		}
	}
	fprintf(out, "%.3f %ld\n", ms_since(&t0), (n / workers) * workers * ngroups);
	free(pids);
	free(ms);
	free(kib);
	return failed;
}

static void usage(void)
{
	fprintf(stderr, "usage: lap [-n N] [-w W] [-j P] [-f] [-p PREFIX] [-o TIMES] [-m RSS] "
			"[-e LOG] SCRIPT\n");
	exit(2);
}

static long number(const char *s, long min)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	const char *times_path = NULL, *rss_path = NULL;
	long n = 100, warm = 10, workers = 0;
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART: wait4 must return */
	int opt;

	while ((opt = getopt(argc, argv, "n:w:j:fp:o:m:e:")) != -1) {
		switch (opt) {
		case 'n':
			n = number(optarg, 1);
			break;
		case 'w':
			warm = number(optarg, 0);
			break;
		case 'j':
			workers = number(optarg, 1);
			break;
		case 'f':
			use_fork = true;
			break;
		case 'p':
			prefix = optarg;
			break;
		case 'o':
			times_path = optarg;
			break;
		case 'm':
			rss_path = optarg;
			break;
		case 'e':
			log_path = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1)
		usage();
	parse_script(argv[optind]);
	if (workers && n % workers)
		die("-n %ld is not a multiple of -j %ld", n, workers);

	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
		die("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	devnull_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	devnull_out = open("/dev/null", O_WRONLY | O_CLOEXEC);
	log_fd = open(log_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (devnull_in < 0 || devnull_out < 0 || log_fd < 0)
		die("%s: %s", log_fd < 0 ? log_path : "/dev/null", strerror(errno));

	posix_spawn_file_actions_init(&spawn_fa);
	posix_spawn_file_actions_adddup2(&spawn_fa, devnull_in, 0);
	posix_spawn_file_actions_adddup2(&spawn_fa, devnull_out, 1);
	posix_spawn_file_actions_adddup2(&spawn_fa, log_fd, 2);

	FILE *out = open_out(times_path);
	if (workers) {
		int failed = parallel(n, (int)workers, warm, out);
		close_out(out, times_path);
		return failed;
	}

	FILE *rss = rss_path ? open_out(rss_path) : NULL;
	double *ms = xcalloc((size_t)ncols, sizeof(*ms));
	long *kib = xcalloc((size_t)ncols, sizeof(*kib));

	for (long it = 0; it < warm; it++)
		iteration(it, 0, ms, kib);
	header(out);
	if (rss)
		header(rss);
	for (long it = 0; it < n; it++) {
		iteration(warm + it, 0, ms, kib);
		for (int c = 0; c < ncols; c++)
			fprintf(out, c ? " %.3f" : "%.3f", ms[c]);
		fputc('\n', out);
		if (rss) {
			for (int c = 0; c < ncols; c++)
				fprintf(rss, c ? " %ld" : "%ld", kib[c]);
			fputc('\n', rss);
		}
	}
	close_out(out, times_path);
	if (rss)
		close_out(rss, rss_path);
	free(ms);
	free(kib);
	return 0;
}
