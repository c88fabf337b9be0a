/*
 * deck create, run, start, restart, stop, kill, rm, wait, pause, unpause,
 * attach and the exit command `deck container cleanup`: the container's life
 * from the command line (engine/container.h does the work).
 */
#include "cli/deck/deck.h"
#include "cli/deck/runopts.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strv.h"
#include "engine/container.h"
#include "engine/network.h"
#include "engine/shim.h"
#include "oci/config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static const struct ctr_paths *deck_paths(void)
{
	static char init_path[PATH_MAX];
	static struct ctr_paths p;
	if (!p.deck_init) {
		p.deck_init = deck_sibling("deck-init", init_path, sizeof(init_path));
		p.unpack = deck_unpack_layer;
	}
	return &p;
}

/* docker's exit status for a container that could not start: 127 not found, 126 no exec. */
static int start_failure_status(const char *msg)
{
	if (strstr(msg, "no such file or directory") || strstr(msg, "not found"))
		return 127;
	if (strstr(msg, "permission denied") || strstr(msg, "exec format error"))
		return 126;
	return 125;
}

static int fail_125(void)
{
	fprintf(stderr, "deck: %s\n", herr_msg());
	return 125;
}

static void cleanup_quietly(const char *root, const char *id)
{
	if (ctr_cleanup(root, id) < 0)
		fprintf(stderr, "deck: %s\n", herr_msg());
}

static int find_or_pull(struct deck_opts *g, struct img_store *st, const char *ref,
			struct img_record *img)
{
	int r = deck_find(st, ref, img);
	if (r != -ENOENT)
		return r;
	herr_clear();
	fprintf(stderr, "Unable to find image '%s' locally\n", ref);
	return deck_pull(g, st, ref, img);
}

/* Forwarded to the container while `deck run` waits in the foreground (docker's sig-proxy). */
static volatile pid_t proxy_pid;
static void proxy_signal(int sig)
{
	if (proxy_pid > 0)
		kill(proxy_pid, sig);
}

static void proxy_signals(pid_t pid, bool on)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	proxy_pid = pid;
	struct sigaction sa = {.sa_handler = on ? proxy_signal : SIG_DFL, .sa_flags = SA_RESTART};
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

static int run_foreground(struct deck_opts *g, struct ctr_record *r)
{
	char dir[PATH_MAX];
	ctr_dir(g->root, r->id, dir, sizeof(dir));
	bool in = r->config.interactive;
	int code;
	int rc = shim_attach_exit(dir, in ? STDIN_FILENO : -1, STDOUT_FILENO, STDERR_FILENO,
				  in ? SHIM_ATTACH_EOF_CLOSE : 0, &code);
	if (rc == SHIM_DETACHED)
		return 0;
	proxy_signals(0, false);
	if (rc < 0) {
		_cleanup_free_ char *msg = strdup(herr_msg());
		cleanup_quietly(g->root, r->id);
		fprintf(stderr, "deck: %s\n", msg ? msg : "start failed");
		return msg ? start_failure_status(msg) : 125;
	}
	struct shim_exit e = {.exit_code = code};
	/* The status came with the end of the output; else from the record. */
	rc = code >= 0 ? shim_wait_done(dir) : shim_wait(dir, -1, &e);
	/* The cleanup clears the error: keep what shim_wait said. */
	_cleanup_free_ char *why = rc < 0 ? strdup(herr_msg()) : NULL;
	cleanup_quietly(g->root, r->id);
	if (rc < 0) {
		fprintf(stderr, "deck: container %.12s: %s\n", r->id,
			why ? why : "cannot read its exit status");
		return 125;
	}
	return e.exit_code;
}

static int create_or_run(int argc, char **argv, struct deck_opts *g, bool is_run)
{
	struct ctr_config c = {0};
	struct deck_run_flags f = {0};
	int image_index = 0;
	bool help = false;
	int st_rc = deck_parse_run(argc, argv, is_run, &c, &f, &image_index, &help);
	if (st_rc || help) {
		ctr_config_clear(&c);
		return st_rc;
	}
	if (!c.image && !(c.image = strdup(argv[image_index])))
		return fail_125();
	if (!c.cmd)
		for (int i = image_index + 1; i < argc; i++)
			if (strv_push(&c.cmd, argv[i]) < 0)
				return fail_125();
	struct img_store st;
	if (img_store_open(g->root, &st) < 0) {
		ctr_config_clear(&c);
		return fail_125();
	}
	struct img_record img = {0};
	struct ctr_record r = {0};
	int rc = img_store_hold(&st);
	if (rc == 0)
		rc = find_or_pull(g, &st, c.image, &img);
	if (rc == 0)
		rc = ctr_create(g->root, &st, &img, &c, f.name, deck_paths(), &r);
	ctr_config_clear(&c);
	img_record_clear(&img);
	img_store_close(&st);
	if (rc < 0)
		return fail_125();
	if (!is_run) {
		printf("%s\n", r.id);
		ctr_record_clear(&r);
		return 0;
	}
	int lock = ctr_lock(g->root, r.id, true);
	rc = lock < 0 ? lock : ctr_start(g->root, &r, deck_paths(), !f.detach);
	if (lock >= 0)
		close(lock);
	if (rc < 0) {
		_cleanup_free_ char *msg = strdup(herr_msg());
		if (r.config.autoremove)
			ctr_remove(g->root, r.id, true, true);
		fprintf(stderr, "deck: %s\n", msg ? msg : "start failed");
		ctr_record_clear(&r);
		return msg ? start_failure_status(msg) : 125;
	}
	if (f.detach) {
		printf("%s\n", r.id);
		ctr_record_clear(&r);
		return 0;
	}
	if (f.sig_proxy && !r.config.tty)
		proxy_signals(r.pid, true);
	rc = run_foreground(g, &r);
	ctr_record_clear(&r);
	return rc;
}

int cmd_run(int argc, char **argv, struct deck_opts *g)
{
	return create_or_run(argc, argv, g, true);
}

int cmd_create(int argc, char **argv, struct deck_opts *g)
{
	return create_or_run(argc, argv, g, false);
}

/*
 * For commands that take CONTAINER...: parse the flags given, then call fn for
 * each container, printing what docker prints (its name as given) on success.
 */
typedef int (*each_fn)(struct deck_opts *g, struct ctr_record *r, const char *q, void *arg);

static int for_each(struct deck_opts *g, char **names, int n, bool lock, each_fn fn, void *arg,
		    bool print)
{
	int status = 0;
	for (int i = 0; i < n; i++) {
		struct ctr_record r;
		int fd = -1, rc = lock ? (fd = ctr_load_locked(g->root, names[i], &r))
				       : ctr_load(g->root, names[i], &r);
		if (rc >= 0) {
			rc = fn(g, &r, names[i], arg);
			ctr_record_clear(&r);
		}
		if (fd >= 0)
			close(fd);
		if (rc < 0) {
			fprintf(stderr, "deck: %s\n", herr_msg());
			status = 1;
		} else if (print && rc == 0) {
			printf("%s\n", names[i]);
		}
	}
	return status;
}

static int do_start(struct deck_opts *g, struct ctr_record *r, const char *q, void *arg)
{
	(void)q;
	bool attach = *(bool *)arg;
	if (r->status == CTR_RUNNING || r->status == CTR_PAUSED)
		return 0;
	int rc = ctr_start(g->root, r, deck_paths(), attach);
	return rc;
}

int cmd_start(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {{"attach", no_argument, NULL, 'a'},
					     {"interactive", no_argument, NULL, 'i'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	bool attach = false;
	int c;
	while ((c = getopt_long(argc, argv, "+aih", opts, NULL)) != -1) {
		if (c == 'a' || c == 'i')
			attach = true;
		else if (c == 'h') {
			puts("Usage: deck start [-a] CONTAINER...");
			return 0;
		} else
			return deck_usage("start", "bad option");
	}
	if (optind >= argc)
		return deck_usage("start", "\"deck start\" requires at least 1 argument");
	if (!attach)
		return for_each(g, argv + optind, argc - optind, true, do_start, &attach, true);
	if (argc - optind != 1)
		return deck_usage("start",
				  "you cannot start and attach multiple containers at once");
	struct ctr_record r;
	int fd = ctr_load_locked(g->root, argv[optind], &r), rc = fd < 0 ? fd : 0;
	if (rc == 0 && r.status != CTR_RUNNING)
		rc = ctr_start(g->root, &r, deck_paths(), true);
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		fprintf(stderr, "deck: %s\n", herr_msg());
		if (fd >= 0)
			ctr_record_clear(&r);
		return 1;
	}
	rc = run_foreground(g, &r);
	ctr_record_clear(&r);
	return rc;
}

struct stop_args {
	int timeout;
	int sig;
};

static int do_stop(struct deck_opts *g, struct ctr_record *r, const char *q, void *arg)
{
	(void)q;
	struct stop_args *a = arg;
	int rc = ctr_stop(g->root, r, a->timeout);
	if (rc == 0)
		rc = ctr_cleanup(g->root, r->id);
	return rc;
}

static int parse_stop(int argc, char **argv, const char *cmd, struct stop_args *a)
{
	static const struct option opts[] = {{"time", required_argument, NULL, 't'},
					     {"timeout", required_argument, NULL, 't'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	a->timeout = -1;
	int c;
	while ((c = getopt_long(argc, argv, "+t:h", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 't':
			a->timeout = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || a->timeout < -1)
				return deck_usage(
				    cmd, "invalid --time \"%s\": not a number of seconds", optarg);
			break;
		case 'h':
			printf("Usage: deck %s [-t SECONDS] CONTAINER...\n", cmd);
			return -1;
		default:
			return deck_usage(cmd, "bad option");
		}
	}
	if (optind >= argc)
		return deck_usage(cmd, "\"deck %s\" requires at least 1 argument", cmd);
	return 0;
}

int cmd_stop(int argc, char **argv, struct deck_opts *g)
{
	struct stop_args a;
	int rc = parse_stop(argc, argv, "stop", &a);
	if (rc)
		return rc < 0 ? 0 : rc;
	return for_each(g, argv + optind, argc - optind, false, do_stop, &a, true);
}

static int do_restart(struct deck_opts *g, struct ctr_record *r, const char *q, void *arg)
{
	(void)q;
	int rc = ctr_stop(g->root, r, ((struct stop_args *)arg)->timeout);
	if (rc == 0)
		rc = ctr_cleanup(g->root, r->id);
	if (rc < 0)
		return rc;
	struct ctr_record fresh;
	_cleanup_close_ int fd = ctr_load_locked(g->root, r->id, &fresh);
	if (fd < 0)
		return fd;
	rc = ctr_start(g->root, &fresh, deck_paths(), false);
	ctr_record_clear(&fresh);
	return rc;
}

int cmd_restart(int argc, char **argv, struct deck_opts *g)
{
	struct stop_args a;
	int rc = parse_stop(argc, argv, "restart", &a);
	if (rc)
		return rc < 0 ? 0 : rc;
	return for_each(g, argv + optind, argc - optind, false, do_restart, &a, true);
}

static int do_kill(struct deck_opts *g, struct ctr_record *r, const char *q, void *arg)
{
	(void)q;
	return ctr_kill(g->root, r, *(int *)arg);
}

int cmd_kill(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {
	    {"signal", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'}, {0}};
	int sig = SIGKILL, c;
	while ((c = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		if (c == 's') {
			if ((sig = oci_signal_from_name(optarg)) <= 0)
				return deck_usage("kill", "invalid signal: %s", optarg);
		} else if (c == 'h') {
			puts("Usage: deck kill [-s SIGNAL] CONTAINER...");
			return 0;
		} else {
			return deck_usage("kill", "bad option");
		}
	}
	if (optind >= argc)
		return deck_usage("kill", "\"deck kill\" requires at least 1 argument");
	return for_each(g, argv + optind, argc - optind, false, do_kill, &sig, true);
}

int cmd_rm(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
					     {"volumes", no_argument, NULL, 'v'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	bool force = false, volumes = false;
	int c;
	while ((c = getopt_long(argc, argv, "+fvh", opts, NULL)) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 'v')
			volumes = true;
		else if (c == 'h') {
			puts("Usage: deck rm [-f] [-v] CONTAINER...");
			return 0;
		} else
			return deck_usage("rm", "bad option");
	}
	if (optind >= argc)
		return deck_usage("rm", "\"deck rm\" requires at least 1 argument");
	int status = 0;
	for (int i = optind; i < argc; i++) {
		if (ctr_remove(g->root, argv[i], force, volumes) < 0) {
			fprintf(stderr, "deck: %s\n", herr_msg());
			status = 1;
		} else {
			printf("%s\n", argv[i]);
		}
	}
	return status;
}

static int do_wait(struct deck_opts *g, struct ctr_record *r, const char *q, void *arg)
{
	(void)q;
	(void)arg;
	char dir[PATH_MAX];
	ctr_dir(g->root, r->id, dir, sizeof(dir));
	if (r->status == CTR_CREATED)
		return herr_set(EINVAL, "container %s has not been started", q);
	struct shim_exit e;
	int rc = shim_wait(dir, -1, &e);
	if (rc == 0)
		printf("%d\n", e.exit_code);
	else if (rc == -ESRCH) {
		herr_clear();
		struct ctr_record now;
		if ((rc = ctr_load(g->root, r->id, &now)) == 0) {
			printf("%d\n", now.exit_code);
			ctr_record_clear(&now);
		}
	}
	return rc < 0 ? rc : 1;
}

int cmd_wait(int argc, char **argv, struct deck_opts *g)
{
	if (argc < 2)
		return deck_usage("wait", "\"deck wait\" requires at least 1 argument");
	return for_each(g, argv + 1, argc - 1, false, do_wait, NULL, false);
}

static int do_pause(struct deck_opts *g, struct ctr_record *r, const char *q, void *arg)
{
	(void)q;
	return ctr_pause(g->root, r, *(bool *)arg);
}

int cmd_pause(int argc, char **argv, struct deck_opts *g)
{
	bool pause = !strcmp(argv[0], "pause");
	if (argc < 2)
		return deck_usage(argv[0], "\"deck %s\" requires at least 1 argument", argv[0]);
	return for_each(g, argv + 1, argc - 1, true, do_pause, &pause, true);
}

int cmd_attach(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {{"no-stdin", no_argument, NULL, 'n'},
					     {"sig-proxy", required_argument, NULL, 's'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	bool no_stdin = false;
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'n')
			no_stdin = true;
		else if (c == 's')
			continue;
		else if (c == 'h') {
			puts("Usage: deck attach [--no-stdin] CONTAINER");
			return 0;
		} else
			return deck_usage("attach", "bad option");
	}
	if (argc - optind != 1)
		return deck_usage("attach", "\"deck attach\" requires exactly 1 argument");
	struct ctr_record r;
	if (ctr_load(g->root, argv[optind], &r) < 0)
		return deck_fail();
	if (r.status != CTR_RUNNING && r.status != CTR_PAUSED) {
		fprintf(stderr, "deck: you cannot attach to a stopped container, start it first\n");
		ctr_record_clear(&r);
		return 1;
	}
	char dir[PATH_MAX];
	ctr_dir(g->root, r.id, dir, sizeof(dir));
	bool in = r.config.interactive && !no_stdin;
	int code;
	int rc =
	    shim_attach_exit(dir, in ? STDIN_FILENO : -1, STDOUT_FILENO, STDERR_FILENO, 0, &code);
	if (rc == SHIM_DETACHED) {
		ctr_record_clear(&r);
		return 0;
	}
	if (rc < 0) {
		ctr_record_clear(&r);
		return deck_fail();
	}
	struct shim_exit e = {.exit_code = code};
	/* The status came with the end of the output; else from the record. */
	rc = code >= 0 ? shim_wait_done(dir) : shim_wait(dir, -1, &e);
	ctr_record_clear(&r);
	return rc < 0 ? deck_fail() : e.exit_code;
}

/* deck container SUBCOMMAND: docker's long forms, and the shim's exit command. */
int cmd_container(int argc, char **argv, struct deck_opts *g)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **, struct deck_opts *);
	} subs[] = {
	    {"create", cmd_create}, {"run", cmd_run},	      {"start", cmd_start},
	    {"stop", cmd_stop},	    {"restart", cmd_restart}, {"kill", cmd_kill},
	    {"rm", cmd_rm},	    {"wait", cmd_wait},	      {"pause", cmd_pause},
	    {"unpause", cmd_pause}, {"attach", cmd_attach},   {"ls", cmd_ps},
	    {"ps", cmd_ps},	    {"logs", cmd_logs},	      {"exec", cmd_exec},
	    {"top", cmd_top},	    {"inspect", cmd_inspect},
	};
	if (argc < 2)
		return deck_usage("container", "requires a subcommand");
	if (!strcmp(argv[1], "cleanup")) {
		if (argc != 3)
			return deck_usage("container cleanup", "requires exactly 1 argument");
		/* the shim's exit command: nobody reads its output */
		return ctr_cleanup(g->root, argv[2]) < 0 ? deck_fail() : 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[1], subs[i].name)) {
			optind = 0;
			return subs[i].fn(argc - 1, argv + 1, g);
		}
	return deck_usage("container", "unknown subcommand \"%s\"", argv[1]);
}
