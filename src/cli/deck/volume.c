/* deck volume create|ls|rm|inspect|prune. */
#include "cli/deck/deck.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "engine/volume.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char volume_usage[] =
    "Usage: deck volume COMMAND\n"
    "\n"
    "  create [NAME]                   a volume (a random name without NAME)\n"
    "  ls [--format table|json] [-q]   list volumes\n"
    "  rm [-f] NAME...                 remove volumes and their data (-f: even in use)\n"
    "  inspect NAME...                 show volumes as JSON\n"
    "  prune                           remove every volume no container uses\n";

/* docker's fields. */
static json_object *vol_json(const struct vol_info *v)
{
	char t[40];
	time_t tt = (time_t)v->created;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "CreatedAt", json_object_new_string(t));
	json_object_object_add(o, "Driver", json_object_new_string("local"));
	json_object_object_add(o, "Labels", json_object_new_object());
	json_object_object_add(o, "Mountpoint", json_object_new_string(v->mountpoint));
	json_object_object_add(o, "Name", json_object_new_string(v->name));
	json_object_object_add(o, "Options", json_object_new_object());
	json_object_object_add(o, "Scope", json_object_new_string("local"));
	json_object_object_add(o, "Anonymous", json_object_new_boolean(v->anonymous));
	json_object *users = json_object_new_array();
	for (size_t i = 0; v->users && v->users[i]; i++)
		json_object_array_add(users, json_object_new_string(v->users[i]));
	json_object_object_add(o, "Containers", users);
	return o;
}

static void print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

/* Only --help: for the commands without options of their own. */
static int no_options(int argc, char **argv, const char *cmd, const char *help)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
	int c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			puts(help);
			return 0;
		}
		return deck_usage(cmd, "bad option");
	}
	return -1;
}

static int vol_create_cmd(int argc, char **argv, struct deck_opts *g)
{
	int rc = no_options(argc, argv, "volume create", "Usage: deck volume create [NAME]");
	if (rc >= 0)
		return rc;
	if (argc - optind > 1)
		return deck_usage("volume create",
				  "\"deck volume create\" takes at most 1 argument");
	const char *name = optind < argc ? argv[optind] : NULL;
	struct vol_info v;
	int r = vol_create(g->root, name, false, &v);
	/* docker: creating a volume that exists is fine. */
	if (r == -EEXIST) {
		puts(name);
		return 0;
	}
	if (r < 0)
		return deck_fail();
	puts(v.name);
	vol_info_clear(&v);
	return 0;
}

static int vol_ls_cmd(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
					     {"quiet", no_argument, NULL, 'q'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	const char *format = "table";
	bool quiet = false;
	int c;
	while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			puts("Usage: deck volume ls [--format table|json] [-q]");
			return 0;
		default:
			return deck_usage("volume ls", "bad option");
		}
	}
	if (strcmp(format, "json") && strcmp(format, "table"))
		return deck_usage("volume ls", "--format: expected json or table, got \"%s\"",
				  format);
	if (optind != argc)
		return deck_usage("volume ls", "\"deck volume ls\" takes no arguments");
	struct vol_info *v;
	size_t n;
	if (vol_list(g->root, &v, &n) < 0)
		return deck_fail();
	if (!strcmp(format, "json")) {
		json_object *a = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(a, vol_json(&v[i]));
		print_json(a);
	} else {
		if (!quiet)
			printf("%-10s %s\n", "DRIVER", "VOLUME NAME");
		for (size_t i = 0; i < n; i++) {
			if (quiet)
				puts(v[i].name);
			else
				printf("%-10s %s\n", "local", v[i].name);
		}
	}
	vol_info_free_array(v, n);
	return 0;
}

static int vol_rm_cmd(int argc, char **argv, struct deck_opts *g)
{
	return deck_rm_each(argc, argv, g, "volume rm", vol_remove);
}

static int vol_inspect_cmd(int argc, char **argv, struct deck_opts *g)
{
	int rc = no_options(argc, argv, "volume inspect", "Usage: deck volume inspect NAME...");
	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return deck_usage("volume inspect",
				  "\"deck volume inspect\" requires at least 1 argument");
	json_object *a = json_object_new_array();
	rc = 0;
	for (int i = optind; i < argc; i++) {
		struct vol_info v;
		if (vol_inspect(g->root, argv[i], &v) < 0) {
			rc = deck_fail();
			continue;
		}
		json_object_array_add(a, vol_json(&v));
		vol_info_clear(&v);
	}
	print_json(a);
	return rc;
}

static int vol_prune_cmd(int argc, char **argv, struct deck_opts *g)
{
	/* -f is docker's "do not ask"; deck never asks. */
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {0}};
	int c;
	while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
		if (c == 'h') {
			puts("Usage: deck volume prune");
			return 0;
		}
		if (c != 'f')
			return deck_usage("volume prune", "bad option");
	}
	if (optind != argc)
		return deck_usage("volume prune", "\"deck volume prune\" takes no arguments");
	_cleanup_strv_ char **gone = NULL;
	if (vol_prune(g->root, &gone) < 0)
		return deck_fail();
	for (size_t i = 0; gone && gone[i]; i++)
		puts(gone[i]);
	return 0;
}

int cmd_volume(int argc, char **argv, struct deck_opts *g)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **, struct deck_opts *);
	} subs[] = {
	    {"create", vol_create_cmd}, {"ls", vol_ls_cmd},	{"list", vol_ls_cmd},
	    {"rm", vol_rm_cmd},		{"remove", vol_rm_cmd}, {"inspect", vol_inspect_cmd},
	    {"prune", vol_prune_cmd},
	};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(volume_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 125 : 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[1], subs[i].name)) {
			optind = 0;
			return subs[i].fn(argc - 1, argv + 1, g);
		}
	return deck_usage("volume", "unknown command \"%s\"", argv[1]);
}
