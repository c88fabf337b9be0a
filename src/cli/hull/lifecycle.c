/* create, start, run, kill, delete: parse flags, call the library, report. */
#include "cli.h"
#include "common/error.h"
#include "common/log.h"
#include "oci/config.h"
#include "runtime/container.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern uint64_t hull_inherited_fds;

enum { OPT_PIDFILE = 1000, OPT_CONSOLE, OPT_NOPIVOT, OPT_NOKEYRING, OPT_PRESERVE, OPT_KEEP };

static const struct option create_opts[] = {
    {"bundle", required_argument, NULL, 'b'},
    {"pid-file", required_argument, NULL, OPT_PIDFILE},
    {"console-socket", required_argument, NULL, OPT_CONSOLE},
    {"no-pivot", no_argument, NULL, OPT_NOPIVOT},
    {"no-new-keyring", no_argument, NULL, OPT_NOKEYRING},
    {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
    {"detach", no_argument, NULL, 'd'},
    {"keep", no_argument, NULL, OPT_KEEP},
    {"no-subreaper", no_argument, NULL, OPT_KEEP},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int parse_create(int argc, char **argv, struct global_opts *g, struct container_opts *o,
			bool is_run)
{
	const char *cmd = argv[0];
	*o = (struct container_opts){.root = g->root,
				     .bundle = ".",
				     .systemd_cgroup = g->systemd_cgroup,
				     .inherited_fds = hull_inherited_fds};
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "b:dh", create_opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bundle = optarg;
			break;
		case OPT_PIDFILE:
			o->pid_file = optarg;
			break;
		case OPT_CONSOLE:
			o->console_socket = optarg;
			break;
		case OPT_NOPIVOT:
			o->no_pivot = true;
			break;
		case OPT_NOKEYRING:
			o->no_new_keyring = true;
			break;
		case OPT_PRESERVE: {
			char *end;
			long n = strtol(optarg, &end, 10);
			if (*end || n < 0 || n > 64) {
				log_error("%s: --preserve-fds: expected a number from 0 to 64, got "
					  "\"%s\"",
					  cmd, optarg);
				return 1;
			}
			o->preserve_fds = (int)n;
			break;
		}
		case 'd':
			if (!is_run)
				return cli_bad_flag(cmd, argv);
			o->detach = true;
			break;
		case OPT_KEEP:
			break;
		case 'h':
			printf("Usage: hull %s [options] ID\n\n"
			       "  -b, --bundle DIR         the bundle (default: .)\n"
			       "  --pid-file FILE          write the init's PID to FILE\n"
			       "  --console-socket PATH    send the terminal's master fd to this "
			       "unix socket\n"
			       "  --no-pivot               use MS_MOVE + chroot instead of "
			       "pivot_root\n"
			       "  --no-new-keyring         keep the caller's session keyring\n"
			       "  --preserve-fds N         pass N extra fds (from 3) to the "
			       "container\n%s",
			       cmd,
			       is_run ? "  -d, --detach             do not wait for the container\n"
				      : "");
			return 0;
		default:
			return cli_bad_flag(cmd, argv);
		}
	}
	o->id = cli_need_id(argc, argv, cmd, "[options] ID");
	if (!o->id)
		return 1;
	return -1;
}

int cmd_create(int argc, char **argv, struct global_opts *g)
{
	struct container_opts o;
	int r = parse_create(argc, argv, g, &o, false);
	if (r >= 0)
		return r;
	return container_create(&o) < 0 ? cli_fail() : 0;
}

int cmd_run(int argc, char **argv, struct global_opts *g)
{
	struct container_opts o;
	int r = parse_create(argc, argv, g, &o, true);
	if (r >= 0)
		return r;
	int status;
	if (container_run(&o, &status) < 0)
		return cli_fail();
	return status;
}

static int simple_help(int argc, char **argv, const char *usage, const char *text)
{
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("Usage: hull %s %s\n\n%s\n", argv[0], usage, text);
			return 0;
		}
	return -1;
}

int cmd_start(int argc, char **argv, struct global_opts *g)
{
	int r = simple_help(argc, argv, "ID", "Start a created container.");
	if (r >= 0)
		return r;
	optind = 1;
	const char *id = cli_need_id(argc, argv, "start", "ID");
	if (!id)
		return 1;
	return container_start(g->root, id) < 0 ? cli_fail() : 0;
}

int cmd_kill(int argc, char **argv, struct global_opts *g)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	bool all = false;
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "ah", opts, NULL)) != -1) {
		if (c == 'a')
			all = true;
		else if (c == 'h') {
			printf("Usage: hull kill [--all] ID [SIGNAL]\n\nSend SIGNAL (default "
			       "SIGTERM; a name or a number) to the container's init, or with "
			       "--all to every process in it.\n");
			return 0;
		} else
			return cli_bad_flag("kill", argv);
	}
	const char *id = cli_need_id(argc, argv, "kill", "[--all] ID [SIGNAL]");
	if (!id)
		return 1;
	int sig = SIGTERM;
	if (optind + 1 < argc) {
		sig = oci_signal_from_name(argv[optind + 1]);
		if (sig < 0) {
			log_error("kill: unknown signal \"%s\"", argv[optind + 1]);
			return 1;
		}
	}
	return container_kill(g->root, id, sig, all) < 0 ? cli_fail() : 0;
}

int cmd_delete(int argc, char **argv, struct global_opts *g)
{
	static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	bool force = false;
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "fh", opts, NULL)) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 'h') {
			printf("Usage: hull delete [--force] ID\n\nDelete a stopped container; "
			       "with --force, kill it first whatever its state.\n");
			return 0;
		} else
			return cli_bad_flag("delete", argv);
	}
	const char *id = cli_need_id(argc, argv, "delete", "[--force] ID");
	if (!id)
		return 1;
	if (container_delete(g->root, id, force) < 0) {
		/* runc: deleting what does not exist with --force is not an error */
		if (force && herr_code() == ENOENT)
			return 0;
		return cli_fail();
	}
	return 0;
}
