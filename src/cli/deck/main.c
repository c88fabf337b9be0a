/* deck: the daemonless engine. This file: global options and dispatch. */
#include "cli/deck/deck.h"
#include "engine/container.h"
#include "engine/network.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: deck [--root DIR] COMMAND [ARGS...]\n"
    "\n"
    "Images:\n"
    "  pull REF            fetch an image from its registry\n"
    "  images              list images (--format json, -q)\n"
    "  image inspect REF   show an image's details as JSON\n"
    "  rmi REF...          remove images (and what no other image uses)\n"
    "  tag SRC DST         give an image another name\n"
    "  image prune         remove unnamed images and unused content\n"
    "  load, save          read/write docker-archive and OCI image tarballs\n"
    "  import FILE [REF]   make an image of a root filesystem tarball\n"
    "  login, logout       registry credentials\n"
    "\n"
    "Containers:\n"
    "  run IMAGE [CMD...]  create and start a container (-d, -i, -t, --rm, ...)\n"
    "  create, start, stop, restart, kill, rm, pause, unpause, wait, attach\n"
    "  ps                  list containers (-a, -q, --format json)\n"
    "  logs CONTAINER      its output (-f, --tail, --since, -t)\n"
    "  exec CONTAINER CMD  run a command in a running container (-it, -e, -u, -w)\n"
    "  inspect NAME...     containers (or images) as JSON (-f TEMPLATE)\n"
    "  top CONTAINER       its processes\n"
    "\n"
    "Networks and volumes:\n"
    "  network create|ls|rm|inspect   CNI bridge networks (default \"deck\")\n"
    "  volume create|ls|rm|inspect|prune   named volumes\n"
    "\n"
    "Options:\n"
    "  --root DIR   the engine's storage (default /var/lib/deck, or $DECK_ROOT)\n"
    "  --version    print the version\n";

static const struct {
	const char *name;
	int (*fn)(int, char **, struct deck_opts *);
} cmds[] = {
    {"pull", cmd_pull},	      {"images", cmd_images},	{"image", cmd_image},
    {"rmi", cmd_rmi},	      {"tag", cmd_tag},		{"load", cmd_load},
    {"save", cmd_save},	      {"import", cmd_import},	{"login", cmd_login},
    {"logout", cmd_logout},   {"inspect", cmd_inspect}, {"run", cmd_run},
    {"create", cmd_create},   {"start", cmd_start},	{"stop", cmd_stop},
    {"restart", cmd_restart}, {"kill", cmd_kill},	{"rm", cmd_rm},
    {"wait", cmd_wait},	      {"pause", cmd_pause},	{"unpause", cmd_pause},
    {"attach", cmd_attach},   {"ps", cmd_ps},		{"logs", cmd_logs},
    {"top", cmd_top},	      {"exec", cmd_exec},	{"container", cmd_container},
    {"network", cmd_network}, {"volume", cmd_volume},
};

static bool alive(const char *root, const char *id)
{
	/* ids that are not deck's containers' (network attach by hand) always count */
	return strlen(id) != CTR_ID_LEN || strspn(id, "0123456789abcdef") != CTR_ID_LEN ||
	       ctr_exists(root, id);
}

int main(int argc, char **argv)
{
	struct deck_opts g = {.root = getenv("DECK_ROOT")};
	if (!g.root || !*g.root)
		g.root = "/var/lib/deck";
	static const struct option opts[] = {{"root", required_argument, NULL, 'r'},
					     {"help", no_argument, NULL, 'h'},
					     {"version", no_argument, NULL, 'v'},
					     {0}};
	int c;
	/* "+": options after the command are the command's. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			g.root = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'v':
			printf("deck version %s\n", HULL_VERSION);
			return 0;
		default:
			fputs(usage, stderr);
			return 125;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return 125;
	}
	/* a network or volume record of a container that is gone does not count */
	net_set_container_check(alive);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(*cmds); i++)
		if (!strcmp(argv[optind], cmds[i].name)) {
			int sub_argc = argc - optind;
			char **sub_argv = argv + optind;
			optind = 0; /* reset getopt for the command */
			return cmds[i].fn(sub_argc, sub_argv, &g);
		}
	fprintf(stderr, "deck: '%s' is not a deck command.\nSee 'deck --help'\n", argv[optind]);
	return 125;
}
