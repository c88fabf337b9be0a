/* state and list. */
#include "cli.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "common/strv.h"
#include "runtime/container.h"

#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

int cmd_state(int argc, char **argv, struct global_opts *g)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: hull state ID\n\nPrint the container's state as JSON.\n");
		return 0;
	}
	if (argc < 2) {
		log_error("state: missing container id (usage: hull state ID)");
		return 1;
	}
	struct oci_state st;
	if (container_state(g->root, argv[1], &st) < 0) {
		log_error("%s", herr_msg());
		return 1;
	}
	_cleanup_free_ char *s = oci_state_public_json(&st, true);
	puts(s);
	oci_state_clear(&st);
	return 0;
}

int cmd_list(int argc, char **argv, struct global_opts *g)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
					     {"quiet", no_argument, NULL, 'q'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *format = "table";
	bool quiet = false;
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "f:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			printf("Usage: hull list [--format table|json] [-q]\n");
			return 0;
		default:
			log_error("list: unknown or incomplete option \"%s\"", argv[optind - 1]);
			return 1;
		}
	}
	if (strcmp(format, "table") && strcmp(format, "json")) {
		log_error("list: --format: unknown format \"%s\" (table or json)", format);
		return 1;
	}
	_cleanup_strv_ char **ids = NULL;
	if (container_list(g->root, &ids) < 0) {
		log_error("%s", herr_msg());
		return 1;
	}
	bool json = !strcmp(format, "json");
	json_object *arr = json ? json_object_new_array() : NULL;
	size_t n = strv_len(ids);
	struct oci_state *sts = calloc(n + 1, sizeof(*sts));
	if (!sts)
		return 1;
	/* Columns as wide as their widest cell plus 3, at least 12 (runc's tabwriter). */
	int w[4] = {12, 12, 12, 12};
	for (size_t i = 0; i < n; i++) {
		if (container_state(g->root, ids[i], &sts[i]) < 0) {
			herr_clear();
			sts[i].id = NULL;
			continue;
		}
		const char *cells[4] = {sts[i].id, "", "", sts[i].bundle};
		for (int k = 0; k < 4; k++)
			if ((int)strlen(cells[k]) + 3 > w[k])
				w[k] = (int)strlen(cells[k]) + 3;
	}
	int bw = w[3];
	if (!json && !quiet)
		printf("%-*s%-12s%-12s%-*s%-33s%s\n", w[0], "ID", "PID", "STATUS", bw, "BUNDLE",
		       "CREATED", "OWNER");
	for (size_t i = 0; i < n; i++) {
		struct oci_state st = sts[i];
		if (!st.id)
			continue;
		int pid = st.status == OCI_STOPPED ? 0 : st.pid;
		if (quiet)
			puts(ids[i]);
		else if (json) {
			_cleanup_free_ char *one = oci_state_public_json(&st, false);
			json_object_array_add(arr, json_tokener_parse(one));
		} else
			printf("%-*s%-12d%-12s%-*s%-33s%s\n", w[0], st.id, pid,
			       oci_status_name(st.status), bw, st.bundle,
			       st.created ? st.created : "", st.owner ? st.owner : "");
		oci_state_clear(&st);
	}
	free(sts);
	if (json) {
		puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(arr);
	}
	return 0;
}
