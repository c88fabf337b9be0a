/* exec: runc's flags into struct exec_opts, then container_exec(). */
#include "cli.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/strv.h"
#include "runtime/exec.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern uint64_t hull_inherited_fds;

enum {
	OPT_CONSOLE = 1000,
	OPT_CWD,
	OPT_PIDFILE,
	OPT_LABEL,
	OPT_APPARMOR,
	OPT_NNP,
	OPT_PRESERVE,
	OPT_CGROUP,
	OPT_IGNORE_PAUSED,
};

static const struct option exec_opts_long[] = {
    {"console-socket", required_argument, NULL, OPT_CONSOLE},
    {"cwd", required_argument, NULL, OPT_CWD},
    {"env", required_argument, NULL, 'e'},
    {"tty", no_argument, NULL, 't'},
    {"user", required_argument, NULL, 'u'},
    {"additional-gids", required_argument, NULL, 'g'},
    {"process", required_argument, NULL, 'p'},
    {"detach", no_argument, NULL, 'd'},
    {"pid-file", required_argument, NULL, OPT_PIDFILE},
    {"process-label", required_argument, NULL, OPT_LABEL},
    {"apparmor", required_argument, NULL, OPT_APPARMOR},
    {"no-new-privs", no_argument, NULL, OPT_NNP},
    {"cap", required_argument, NULL, 'c'},
    {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
    {"cgroup", required_argument, NULL, OPT_CGROUP},
    {"ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void help(void)
{
	printf("Usage: hull exec [options] ID [--] COMMAND [ARG...]\n"
	       "       hull exec [options] --process FILE ID\n\n"
	       "Run a new process in every namespace and cgroup of a running container.\n"
	       "Its defaults come from the container's config.json.\n\n"
	       "  -p, --process FILE       the whole process, as a process.json (the flags\n"
	       "                           below that describe it are then ignored)\n"
	       "  -t, --tty                allocate a pseudo-terminal\n"
	       "  --console-socket PATH    send the terminal's master fd to this unix socket\n"
	       "  --cwd DIR                working directory in the container\n"
	       "  -e, --env NAME=VALUE     set an environment variable (repeatable)\n"
	       "  -u, --user UID[:GID]     run as this user\n"
	       "  -g, --additional-gids G  add a supplementary group (repeatable)\n"
	       "  -c, --cap CAP            add a capability (repeatable)\n"
	       "  --no-new-privs           set no_new_privs for the process\n"
	       "  --apparmor PROFILE       AppArmor profile (not supported: an error)\n"
	       "  --process-label LABEL    SELinux label (not supported: an error)\n"
	       "  -d, --detach             return once the process runs\n"
	       "  --pid-file FILE          write the process's PID to FILE\n"
	       "  --preserve-fds N         pass N extra fds (from 3) to the process\n"
	       "  --ignore-paused          exec into a paused container (the process runs\n"
	       "                           once the container is resumed)\n");
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *end || errno || v > UINT32_MAX || s[0] == '-')
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_user(const char *s, struct exec_opts *o)
{
	_cleanup_free_ char *copy = strdup(s);
	if (!copy)
		return -1;
	char *colon = strchr(copy, ':');
	if (colon) {
		*colon = 0;
		if (parse_u32(colon + 1, &o->gid) < 0)
			return -1;
		o->has_gid = true;
	}
	if (parse_u32(copy, &o->uid) < 0)
		return -1;
	o->has_uid = true;
	return 0;
}

/* A comma list or one value per flag: both are accepted. */
static int add_gids(const char *s, struct exec_opts *o)
{
	_cleanup_free_ char *copy = strdup(s);
	char *save = NULL;
	if (!copy)
		return -1;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		uint32_t g;
		if (parse_u32(t, &g) < 0)
			return -1;
		uint32_t *n =
		    realloc(o->additional_gids, (o->n_additional_gids + 1) * sizeof(uint32_t));
		if (!n)
			return -1;
		o->additional_gids = n;
		o->additional_gids[o->n_additional_gids++] = g;
	}
	return 0;
}

static int parse(int argc, char **argv, struct global_opts *g, struct exec_opts *o)
{
	int c;
	opterr = 0;
	/* "+": options stop at the id, so the command keeps its own flags. */
	while ((c = getopt_long_only(argc, argv, "+e:tu:g:p:dc:h", exec_opts_long, NULL)) != -1) {
		switch (c) {
		case OPT_CONSOLE:
			o->console_socket = optarg;
			break;
		case OPT_CWD:
			o->cwd = optarg;
			break;
		case 'e':
			if (strv_push(&o->env, optarg) < 0)
				return herr_set(ENOMEM, "out of memory"), cli_fail();
			break;
		case 't':
			o->tty = true;
			break;
		case 'u':
			if (parse_user(optarg, o) < 0) {
				log_error("exec: --user: expected UID[:GID] (numbers), got \"%s\"",
					  optarg);
				return 1;
			}
			break;
		case 'g':
			if (add_gids(optarg, o) < 0) {
				log_error("exec: --additional-gids: expected a GID, got \"%s\"",
					  optarg);
				return 1;
			}
			break;
		case 'p':
			o->process_file = optarg;
			break;
		case 'd':
			o->detach = true;
			break;
		case OPT_PIDFILE:
			o->pid_file = optarg;
			break;
		case OPT_LABEL:
			o->process_label = optarg;
			break;
		case OPT_APPARMOR:
			o->apparmor = optarg;
			break;
		case OPT_NNP:
			o->no_new_privs = true;
			break;
		case 'c':
			if (strv_push(&o->caps, optarg) < 0)
				return herr_set(ENOMEM, "out of memory"), cli_fail();
			break;
		case OPT_PRESERVE: {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (!*optarg || *end || n < 0 || n > 64) {
				log_error("exec: --preserve-fds: expected a number from 0 to 64, "
					  "got \"%s\"",
					  optarg);
				return 1;
			}
			o->preserve_fds = (int)n;
			break;
		}
		case OPT_CGROUP:
			log_error("exec: --cgroup: sub-cgroups are not supported yet");
			return 1;
		case OPT_IGNORE_PAUSED:
			o->ignore_paused = true;
			break;
		case 'h':
			help();
			return 0;
		default:
			return cli_bad_flag("exec", argv);
		}
	}
	o->root = g->root;
	o->inherited_fds = hull_inherited_fds;
	o->id = cli_need_id(argc, argv, "exec", "[options] ID [--] COMMAND [ARG...]");
	if (!o->id)
		return 1;
	int first = optind + 1;
	if (first < argc && !strcmp(argv[first], "--"))
		first++;
	o->args = argv + first;
	if (!o->process_file && first >= argc) {
		log_error("exec: missing the command (usage: hull exec [options] ID [--] COMMAND "
			  "[ARG...], or --process FILE)");
		return 1;
	}
	return -1;
}

int cmd_exec(int argc, char **argv, struct global_opts *g)
{
	struct exec_opts o = {0};
	int r = parse(argc, argv, g, &o);
	if (r < 0) {
		int status;
		r = container_exec(&o, &status) < 0 ? cli_fail() : status;
	}
	strv_free(o.env);
	strv_free(o.caps);
	free(o.additional_gids);
	return r;
}
