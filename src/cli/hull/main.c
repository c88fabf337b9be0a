/* hull: global flags, then one subcommand, with runc's names and flags. */
#include "cli.h"
#include "common/error.h"
#include "common/log.h"
#include "oci/state.h"
#include "runtime/rootless.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

uint64_t hull_inherited_fds;

static const struct {
	const char *name;
	int (*fn)(int, char **, struct global_opts *);
	const char *help;
	bool stateless; /* needs no state root */
} commands[] = {
    {"create", cmd_create, "create a container", false},
    {"start", cmd_start, "start a created container", false},
    {"run", cmd_run, "create and start a container", false},
    {"exec", cmd_exec, "run a new process in a running container", false},
    {"state", cmd_state, "print the state of a container", false},
    {"kill", cmd_kill, "send a signal to a container's init", false},
    {"delete", cmd_delete, "delete a container", false},
    {"list", cmd_list, "list containers", false},
    {"ps", cmd_ps, "list the processes in a container", false},
    {"pause", cmd_pause, "freeze every process of a container", false},
    {"resume", cmd_resume, "thaw a paused container", false},
    {"update", cmd_update, "change a container's resources", false},
    {"events", cmd_events, "print a container's statistics and OOM events", false},
    {"spec", cmd_spec, "write a new config.json", true},
    {"features", cmd_features, "print the features this runtime supports", true},
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: hull [global options] COMMAND [options] [arguments]\n\n"
		   "hull is an OCI container runtime.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f,
		"\nGlobal options:\n"
		"  --root DIR             state directory (default /run/hull; rootless:\n"
		"                         $XDG_RUNTIME_DIR/hull)\n"
		"  --log FILE             write log messages to FILE\n"
		"  --log-format FORMAT    text or json (default text)\n"
		"  --debug                log debug messages\n"
		"  --systemd-cgroup       treat cgroupsPath as slice:prefix:name (needs systemd)\n"
		"  --rootless true|false|auto\n"
		"                         rootless mode: cgroups only where delegated to the\n"
		"                         user (default auto: when the effective uid is not 0)\n"
		"  -v, --version          print the version\n"
		"  -h, --help             print this help\n");
}

int main(int argc, char **argv)
{
	/* Remember which inherited fds exist before we open any (--preserve-fds). */
	for (int i = 0; i < 64; i++)
		if (fcntl(3 + i, F_GETFD) >= 0)
			hull_inherited_fds |= (uint64_t)1 << i;
	/* Nobody may ptrace or read the memory of a runtime about to enter a container. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	struct global_opts g = {0};
	enum rootless_mode rootless = ROOTLESS_AUTO;
	static const struct option opts[] = {
	    {"root", required_argument, NULL, 'r'},
	    {"log", required_argument, NULL, 'l'},
	    {"log-format", required_argument, NULL, 'f'},
	    {"debug", no_argument, NULL, 'd'},
	    {"systemd-cgroup", no_argument, NULL, 's'},
	    {"rootless", required_argument, NULL, 'R'},
	    {"criu", required_argument, NULL, 'c'},
	    {"version", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "+vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			g.root = optarg;
			break;
		case 'l':
			g.log = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "text") && strcmp(optarg, "json")) {
				fprintf(stderr,
					"hull: --log-format: unknown format \"%s\" "
					"(text or json)\n",
					optarg);
				return 1;
			}
			g.log_format = optarg;
			break;
		case 'd':
			g.debug = true;
			break;
		case 's':
			g.systemd_cgroup = true;
			break;
		case 'R':
			if (rootless_parse(optarg, &rootless) < 0) {
				fprintf(stderr, "hull: %s\n", herr_msg());
				return 1;
			}
			g.rootless_set = rootless != ROOTLESS_AUTO;
			g.rootless = rootless == ROOTLESS_ON;
			break;
		case 'c':
			break;
		case 'v':
			printf("hull version %s\nspec: %s\n", HULL_VERSION, OCI_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "hull: unknown global option \"%s\"\n", argv[optind - 1]);
			usage(stderr);
			return 1;
		}
	}
	if (log_init(g.log, g.log_format, g.debug) < 0) {
		fprintf(stderr, "hull: --log: %s\n", herr_msg());
		return 1;
	}
	if (optind >= argc) {
		usage(stderr);
		return 1;
	}
	int at = optind;
	const char *name = argv[at];
	rootless_set_mode(rootless);
	char root[4096];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, name))
			continue;
		if (!g.root) {
			if (!commands[i].stateless && rootless_state_root(root, sizeof(root)) < 0) {
				log_error("%s", herr_msg());
				return 1;
			}
			g.root = commands[i].stateless ? "/run/hull" : root;
		}
		optind = 0; /* reset getopt for the subcommand */
		return commands[i].fn(argc - at, argv + at, &g);
	}
	log_error("unknown command \"%s\" (see hull --help)", name);
	return 1;
}
