/* deck network create|ls|rm|inspect, and the internal attach|detach. */
#include "cli/deck/deck.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "engine/network.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char network_usage[] =
    "Usage: deck network COMMAND\n"
    "\n"
    "  create [--subnet CIDR] [--gateway IP] NAME   a bridge network (IPv4)\n"
    "  ls [--format table|json] [-q]                list networks\n"
    "  rm [-f] NAME...                              remove networks (-f: detach containers)\n"
    "  inspect NAME...                              show networks as JSON\n"
    "\n"
    "Internal (for tests and the engine's own use):\n"
    "  attach [-p PORT]... NAME ID NETNS   CNI ADD of a network namespace, prints the result\n"
    "  detach NAME ID [NETNS]              CNI DEL; a second one does nothing\n";

static const char *rfc3339(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *result_json(const struct net_result *r)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "network", jstr(r->network));
	json_object_object_add(o, "interface", jstr(r->ifname));
	json_object_object_add(o, "ip", jstr(r->ip));
	json_object_object_add(o, "prefixLen", json_object_new_int(r->prefix_len));
	json_object_object_add(o, "gateway", jstr(r->gateway));
	json_object_object_add(o, "mac", jstr(r->mac));
	json_object_object_add(o, "bridge", jstr(r->bridge));
	json_object_object_add(o, "netns", jstr(r->netns));
	json_object *ports = json_object_new_array();
	for (size_t i = 0; i < r->n_ports; i++) {
		char buf[96];
		json_object_array_add(
		    ports, json_object_new_string(net_port_string(&r->ports[i], buf, sizeof(buf))));
	}
	json_object_object_add(o, "ports", ports);
	return o;
}

/* podman's fields for a network, plus the containers attached and their addresses. */
static json_object *info_json(const char *root, const struct net_info *n, bool detail)
{
	char t[32];
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", jstr(n->name));
	json_object_object_add(o, "id", jstr(n->id));
	json_object_object_add(o, "driver", jstr(n->driver));
	json_object_object_add(o, "network_interface", jstr(n->bridge));
	json_object_object_add(o, "created", jstr(rfc3339(n->created, t)));
	json_object *subnets = json_object_new_array();
	if (n->subnet) {
		json_object *s = json_object_new_object();
		json_object_object_add(s, "subnet", jstr(n->subnet));
		json_object_object_add(s, "gateway", jstr(n->gateway));
		json_object_array_add(subnets, s);
	}
	json_object_object_add(o, "subnets", subnets);
	json_object_object_add(o, "ipv6_enabled", json_object_new_boolean(0));
	json_object_object_add(o, "internal", json_object_new_boolean(0));
	json_object_object_add(o, "dns_enabled", json_object_new_boolean(0));
	json_object *ctrs = json_object_new_object();
	for (size_t i = 0; n->containers && n->containers[i]; i++) {
		struct net_result r;
		json_object *v = NULL;
		if (detail && net_attachment(root, n->name, n->containers[i], &r) == 0) {
			v = result_json(&r);
			net_result_clear(&r);
		} else {
			herr_clear();
			v = json_object_new_object();
		}
		json_object_object_add(ctrs, n->containers[i], v);
	}
	json_object_object_add(o, "containers", ctrs);
	if (detail)
		json_object_object_add(o, "config_path", jstr(n->path));
	return o;
}

static void print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int net_create_cmd(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {{"subnet", required_argument, NULL, 's'},
					     {"gateway", required_argument, NULL, 'g'},
					     {"driver", required_argument, NULL, 'd'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	struct net_create_opts o = {0};
	int c;
	while ((c = getopt_long(argc, argv, "+d:h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.subnet = optarg;
			break;
		case 'g':
			o.gateway = optarg;
			break;
		case 'd':
			if (strcmp(optarg, "bridge"))
				return deck_usage("network create",
						  "driver \"%s\": only bridge is supported",
						  optarg);
			break;
		case 'h':
			puts("Usage: deck network create [--subnet CIDR] [--gateway IP] NAME");
			return 0;
		default:
			return deck_usage("network create", "bad option");
		}
	}
	if (optind + 1 != argc)
		return deck_usage("network create",
				  "\"deck network create\" requires exactly 1 argument");
	if (o.gateway && !o.subnet)
		return deck_usage("network create", "--gateway needs --subnet");
	struct net_info n;
	if (net_create(g->root, argv[optind], &o, &n) < 0)
		return deck_fail();
	puts(n.name);
	net_info_clear(&n);
	return 0;
}

static int net_ls_cmd(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
					     {"quiet", no_argument, NULL, 'q'},
					     {"no-trunc", no_argument, NULL, 'n'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	const char *format = "table";
	bool quiet = false, no_trunc = false;
	int c;
	while ((c = getopt_long(argc, argv, "+qh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'n':
			no_trunc = true;
			break;
		case 'h':
			puts("Usage: deck network ls [--format table|json] [-q] [--no-trunc]");
			return 0;
		default:
			return deck_usage("network ls", "bad option");
		}
	}
	if (strcmp(format, "json") && strcmp(format, "table"))
		return deck_usage("network ls", "--format: expected json or table, got \"%s\"",
				  format);
	if (optind != argc)
		return deck_usage("network ls", "\"deck network ls\" takes no arguments");
	struct net_info *nets;
	size_t n;
	if (net_list(g->root, &nets, &n) < 0)
		return deck_fail();
	if (!strcmp(format, "json")) {
		json_object *a = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(a, info_json(g->root, &nets[i], false));
		print_json(a);
	} else {
		if (!quiet)
			printf("%-14s %-20s %-8s %-18s %s\n", "NETWORK ID", "NAME", "DRIVER",
			       "SUBNET", "GATEWAY");
		for (size_t i = 0; i < n; i++) {
			if (quiet) {
				puts(nets[i].name);
				continue;
			}
			printf("%-14.*s %-20s %-8s %-18s %s\n", no_trunc ? 64 : 12, nets[i].id,
			       nets[i].name, nets[i].driver ? nets[i].driver : "-",
			       nets[i].subnet ? nets[i].subnet : "-",
			       nets[i].gateway ? nets[i].gateway : "-");
		}
	}
	net_info_free_array(nets, n);
	return 0;
}

static int net_rm_cmd(int argc, char **argv, struct deck_opts *g)
{
	return deck_rm_each(argc, argv, g, "network rm", net_remove);
}

static int net_inspect_cmd(int argc, char **argv, struct deck_opts *g)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		if (argc >= 2)
			return puts("Usage: deck network inspect NAME..."), 0;
		return deck_usage("network inspect",
				  "\"deck network inspect\" requires at least 1 argument");
	}
	json_object *a = json_object_new_array();
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		struct net_info n;
		if (net_inspect(g->root, argv[i], &n) < 0) {
			rc = deck_fail();
			continue;
		}
		json_object_array_add(a, info_json(g->root, &n, true));
		net_info_clear(&n);
	}
	print_json(a);
	return rc;
}

static int net_attach_cmd(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {{"publish", required_argument, NULL, 'p'}, {0}};
	_cleanup_free_ struct net_port *ports = NULL;
	size_t n = 0;
	int c;
	while ((c = getopt_long(argc, argv, "+p:", opts, NULL)) != -1) {
		if (c != 'p')
			return deck_usage("network attach", "bad option");
		if (net_parse_port(optarg, &ports, &n) < 0)
			return deck_usage("network attach", "%s", herr_msg());
	}
	if (optind + 3 != argc)
		return deck_usage("network attach", "expected NAME ID NETNS");
	struct net_result r;
	if (net_attach(g->root, argv[optind], argv[optind + 1], argv[optind + 2], ports, n, &r) < 0)
		return deck_fail();
	print_json(result_json(&r));
	net_result_clear(&r);
	return 0;
}

static int net_detach_cmd(int argc, char **argv, struct deck_opts *g)
{
	if (argc != 3 && argc != 4)
		return deck_usage("network detach", "expected NAME ID [NETNS]");
	if (net_detach(g->root, argv[1], argv[2], argc == 4 ? argv[3] : NULL) < 0)
		return deck_fail();
	return 0;
}

int cmd_network(int argc, char **argv, struct deck_opts *g)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **, struct deck_opts *);
	} subs[] = {
	    {"create", net_create_cmd}, {"ls", net_ls_cmd},	    {"list", net_ls_cmd},
	    {"rm", net_rm_cmd},		{"remove", net_rm_cmd},	    {"inspect", net_inspect_cmd},
	    {"attach", net_attach_cmd}, {"detach", net_detach_cmd},
	};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(network_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? 125 : 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[1], subs[i].name)) {
			optind = 0;
			return subs[i].fn(argc - 1, argv + 1, g);
		}
	return deck_usage("network", "unknown command \"%s\"", argv[1]);
}
