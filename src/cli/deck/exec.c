/* deck exec: a process in a running container, through the runtime it was made with. */
#include "cli/deck/deck.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strv.h"
#include "engine/container.h"
#include "image/convert.h"
#include "runtime/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char exec_usage[] = "Usage: deck exec [OPTIONS] CONTAINER COMMAND [ARG...]\n"
				 "\n"
				 "  -d, --detach         run in the background\n"
				 "  -e, --env K=V        set an environment variable\n"
				 "  -i, --interactive    keep stdin open\n"
				 "  -t, --tty            allocate a terminal\n"
				 "  -u, --user USER      user[:group], names or numbers\n"
				 "  -w, --workdir DIR    the working directory\n"
				 "  --privileged         accepted for compatibility; refused\n";

int cmd_exec(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {
	    {"detach", no_argument, NULL, 'd'},	     {"env", required_argument, NULL, 'e'},
	    {"interactive", no_argument, NULL, 'i'}, {"tty", no_argument, NULL, 't'},
	    {"user", required_argument, NULL, 'u'},  {"workdir", required_argument, NULL, 'w'},
	    {"help", no_argument, NULL, 'h'},	     {0}};
	bool detach = false, interactive = false, tty = false;
	const char *user = NULL, *workdir = NULL;
	_cleanup_strv_ char **env = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+de:itu:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			detach = true;
			break;
		case 'e': {
			const char *v = optarg;
			char buf[8192];
			if (!strchr(v, '=')) {
				const char *host = getenv(v);
				if (!host)
					break;
				snprintf(buf, sizeof(buf), "%s=%s", v, host);
				v = buf;
			}
			if (strv_push(&env, v) < 0)
				return deck_fail();
			break;
		}
		case 'i':
			interactive = true;
			break;
		case 't':
			tty = true;
			break;
		case 'u':
			user = optarg;
			break;
		case 'w':
			workdir = optarg;
			break;
		case 'h':
			fputs(exec_usage, stdout);
			return 0;
		default:
			return deck_usage("exec", "bad option");
		}
	}
	if (argc - optind < 2)
		return deck_usage("exec", "\"deck exec\" requires at least 2 arguments");
	struct ctr_record r;
	/* docker exec's own errors exit 1 (126/127: the command could not run) */
	if (ctr_load(g->root, argv[optind], &r) < 0) {
		fprintf(stderr, "deck: %s\n", herr_msg());
		return 1;
	}
	int status = 1, err_fd = STDERR_FILENO;
	struct img_user u = {0};
	char rtroot[PATH_MAX], dir[PATH_MAX], rootfs[PATH_MAX + 32];
	ctr_runtime_root(g->root, rtroot, sizeof(rtroot));
	snprintf(rootfs, sizeof(rootfs), "%s/bundle/merged",
		 ctr_dir(g->root, r.id, dir, sizeof(dir)));
	struct exec_opts o = {
	    .root = rtroot,
	    .id = r.id,
	    .args = argv + optind + 1,
	    .tty = tty,
	    .cwd = workdir,
	    .env = env,
	    .detach = detach,
	};
	if (r.status == CTR_PAUSED) {
		fprintf(stderr, "deck: container %s is paused, unpause the container before exec\n",
			argv[optind]);
		goto out;
	}
	if (r.status != CTR_RUNNING) {
		fprintf(stderr, "deck: container %s is not running\n", argv[optind]);
		goto out;
	}
	if (user) {
		if (img_resolve_user(rootfs, user, &u) < 0) {
			fprintf(stderr, "deck: %s\n", herr_msg());
			status = 126;
			goto out;
		}
		o.uid = u.uid;
		o.gid = u.gid;
		o.additional_gids = u.sgids;
		o.n_additional_gids = u.nsgids;
		o.has_uid = o.has_gid = true;
	}
	/* without -i the process reads nothing of ours; with -d it writes nothing to us
	 * either (docker drops a detached exec's output) */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0 && !interactive)
		dup2(null, STDIN_FILENO);
	if (null >= 0 && detach) {
		fflush(stdout);
		dup2(null, STDOUT_FILENO);
		err_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
		dup2(null, STDERR_FILENO);
	}
	if (null >= 0)
		close(null);
	if (!r.config.runtime) {
		int rc = container_exec(&o, &status);
		if (rc < 0) {
			const char *msg = herr_msg();
			dprintf(err_fd, "deck: %s\n", msg);
			status = strstr(msg, "no such file") || strstr(msg, "not found") ? 127
				 : strstr(msg, "permission denied")			 ? 126
											 : 126;
		} else if (detach) {
			status = 0;
		}
		goto out;
	}
	/* an OCI runtime binary: its exec proxies the terminal itself */
	_cleanup_strv_ char **args = NULL;
	char ug[32];
	strv_push(&args, r.config.runtime);
	strv_push(&args, "--root");
	strv_push(&args, rtroot);
	strv_push(&args, "exec");
	if (tty)
		strv_push(&args, "--tty");
	if (detach)
		strv_push(&args, "--detach");
	if (workdir) {
		strv_push(&args, "--cwd");
		strv_push(&args, workdir);
	}
	for (size_t i = 0; env && env[i]; i++) {
		strv_push(&args, "--env");
		strv_push(&args, env[i]);
	}
	if (user) {
		snprintf(ug, sizeof(ug), "%u:%u", o.uid, o.gid);
		strv_push(&args, "--user");
		strv_push(&args, ug);
	}
	strv_push(&args, r.id);
	for (int i = optind + 1; i < argc; i++)
		strv_push(&args, argv[i]);
	pid_t pid = fork();
	if (pid == 0) {
		execv(args[0], args);
		fprintf(stderr, "deck: cannot run %s: %s\n", args[0], strerror(errno));
		_exit(125);
	}
	int st;
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	status = pid < 0 ? 125 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
out:
	free(u.sgids);
	ctr_record_clear(&r);
	return status;
}
