/* deck ps, inspect, logs, top: what the user sees of containers. */
#include "cli/deck/deck.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/strv.h"
#include "engine/container.h"
#include "engine/logs.h"
#include "engine/shim.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void rfc3339(int64_t ns, char *buf, size_t len)
{
	if (ns <= 0)
		snprintf(buf, len, "0001-01-01T00:00:00Z");
	else
		logs_format_time(ns, buf, len);
}

/* "Up 3 seconds", "Exited (0) 2 minutes ago", "Created", as docker words them. */
static const char *status_text(const struct ctr_record *r, char *buf, size_t len)
{
	char ago[48];
	int64_t now = (int64_t)time(NULL);
	switch (r->status) {
	case CTR_RUNNING:
	case CTR_PAUSED: {
		const char *a = deck_human_ago(r->started_at / 1000000000, ago);
		/* "3 seconds ago" -> "Up 3 seconds" */
		size_t n = strlen(a);
		if (n > 4 && !strcmp(a + n - 4, " ago"))
			n -= 4;
		snprintf(buf, len, "Up %.*s%s", (int)n, a,
			 r->status == CTR_PAUSED ? " (Paused)" : "");
		break;
	}
	case CTR_EXITED:
		snprintf(buf, len, "Exited (%d) %s", r->exit_code,
			 deck_human_ago(r->finished_at ? r->finished_at / 1000000000 : now, ago));
		break;
	case CTR_REMOVING:
		snprintf(buf, len, "Removal In Progress");
		break;
	default:
		snprintf(buf, len, "Created");
	}
	return buf;
}

static char *command_text(const struct ctr_record *r, bool trunc)
{
	size_t len = 3;
	for (size_t i = 0; r->args && r->args[i]; i++)
		len += strlen(r->args[i]) + 1;
	char *s = malloc(len + 8), *p = s;
	if (!s)
		return NULL;
	*p++ = '"';
	for (size_t i = 0; r->args && r->args[i]; i++)
		p += sprintf(p, "%s%s", i ? " " : "", r->args[i]);
	if (trunc && p - s > 20)
		p = s + 20 + sprintf(s + 20, "…");
	*p++ = '"';
	*p = 0;
	return s;
}

static char *ports_text(const struct ctr_record *r)
{
	json_object *a = r->ports_json ? json_tokener_parse(r->ports_json) : NULL;
	size_t len = 1;
	for (size_t i = 0; a && i < json_object_array_length(a); i++)
		len += strlen(json_object_get_string(json_object_array_get_idx(a, i))) + 2;
	char *s = calloc(1, len);
	for (size_t i = 0; s && a && i < json_object_array_length(a); i++) {
		if (i)
			strcat(s, ", ");
		strcat(s, json_object_get_string(json_object_array_get_idx(a, i)));
	}
	json_object_put(a);
	return s;
}

static json_object *ps_json(const struct ctr_record *r, const char *image)
{
	char created[48], status[96];
	json_object *o = json_object_new_object();
	_cleanup_free_ char *cmd = command_text(r, false), *ports = ports_text(r);
	rfc3339(r->created, created, sizeof(created));
	json_object_object_add(o, "ID", json_object_new_string(r->id));
	json_object_object_add(o, "Names", json_object_new_string(r->name ? r->name : ""));
	json_object_object_add(o, "Image", json_object_new_string(image));
	json_object_object_add(o, "Command", json_object_new_string(cmd ? cmd : ""));
	json_object_object_add(o, "CreatedAt", json_object_new_string(created));
	json_object_object_add(o, "State", json_object_new_string(ctr_status_name(r->status)));
	json_object_object_add(o, "Status",
			       json_object_new_string(status_text(r, status, sizeof(status))));
	json_object_object_add(o, "Ports", json_object_new_string(ports ? ports : ""));
	json_object_object_add(o, "Networks", json_object_new_string(r->network ? r->network : ""));
	json_object_object_add(o, "ExitCode", json_object_new_int(r->exit_code));
	json_object_object_add(o, "Pid", json_object_new_int(r->pid));
	return o;
}

int cmd_ps(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},	      {"quiet", no_argument, NULL, 'q'},
	    {"format", required_argument, NULL, 'f'}, {"no-trunc", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},	      {0}};
	bool all = false, quiet = false, no_trunc = false, json = false;
	int c;
	while ((c = getopt_long(argc, argv, "+aqh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			all = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'n':
			no_trunc = true;
			break;
		case 'f':
			if (!strcmp(optarg, "json") || !strcmp(optarg, "{{json .}}"))
				json = true;
			else if (strcmp(optarg, "table"))
				return deck_usage("ps", "--format %s: only json and table", optarg);
			break;
		case 'h':
			puts("Usage: deck ps [-a] [-q] [--no-trunc] [--format json|table]");
			return 0;
		default:
			return deck_usage("ps", "bad option");
		}
	}
	if (optind < argc)
		return deck_usage("ps", "\"deck ps\" accepts no arguments");
	struct ctr_record *v;
	size_t n;
	if (ctr_list(g->root, &v, &n) < 0)
		return deck_fail();
	if (!quiet && !json)
		printf("%-14s %-22s %-22s %-16s %-26s %-24s %s\n", "CONTAINER ID", "IMAGE",
		       "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES");
	for (size_t i = 0; i < n; i++) {
		const struct ctr_record *r = &v[i];
		if (!all && r->status != CTR_RUNNING && r->status != CTR_PAUSED)
			continue;
		const char *image = r->config.image ? r->config.image : "";
		if (quiet) {
			printf("%.*s\n", no_trunc ? CTR_ID_LEN : 12, r->id);
			continue;
		}
		if (json) {
			json_object *o = ps_json(r, image);
			puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
			continue;
		}
		char ago[48], status[96];
		_cleanup_free_ char *cmd = command_text(r, !no_trunc), *ports = ports_text(r);
		printf("%-14.*s %-22s %-22s %-16s %-26s %-24s %s\n", no_trunc ? CTR_ID_LEN : 12,
		       r->id, image, cmd ? cmd : "", deck_human_ago(r->created / 1000000000, ago),
		       status_text(r, status, sizeof(status)), ports ? ports : "",
		       r->name ? r->name : "");
	}
	ctr_record_free_array(v, n);
	return 0;
}

static json_object *strv_json(char *const *v)
{
	if (!v)
		return NULL;
	json_object *a = json_object_new_array();
	for (size_t i = 0; v[i]; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* The container as docker's inspect shows it (the fields deck has). */
static json_object *inspect_json(struct deck_opts *g, const struct ctr_record *r)
{
	char t[48], dir[PATH_MAX], path[PATH_MAX + 16];
	ctr_dir(g->root, r->id, dir, sizeof(dir));
	json_object *o = json_object_new_object(), *st = json_object_new_object();
	json_object_object_add(o, "Id", json_object_new_string(r->id));
	rfc3339(r->created, t, sizeof(t));
	json_object_object_add(o, "Created", json_object_new_string(t));
	json_object_object_add(o, "Path", str_or_null(r->args ? r->args[0] : NULL));
	json_object_object_add(o, "Args", strv_json(r->args && r->args[0] ? r->args + 1 : NULL));
	json_object_object_add(st, "Status", json_object_new_string(ctr_status_name(r->status)));
	json_object_object_add(
	    st, "Running",
	    json_object_new_boolean(r->status == CTR_RUNNING || r->status == CTR_PAUSED));
	json_object_object_add(st, "Paused", json_object_new_boolean(r->status == CTR_PAUSED));
	json_object_object_add(st, "Restarting", json_object_new_boolean(false));
	json_object_object_add(st, "OOMKilled", json_object_new_boolean(r->oom_killed));
	json_object_object_add(st, "Dead", json_object_new_boolean(false));
	json_object_object_add(st, "Pid", json_object_new_int(r->pid));
	json_object_object_add(st, "ExitCode", json_object_new_int(r->exit_code));
	json_object_object_add(st, "Error", json_object_new_string(r->error ? r->error : ""));
	rfc3339(r->started_at, t, sizeof(t));
	json_object_object_add(st, "StartedAt", json_object_new_string(t));
	rfc3339(r->status == CTR_EXITED ? r->finished_at : 0, t, sizeof(t));
	json_object_object_add(st, "FinishedAt", json_object_new_string(t));
	json_object_object_add(o, "State", st);
	json_object_object_add(o, "Image", str_or_null(r->image_id));
	snprintf(path, sizeof(path), "%s/ctr.log", dir);
	json_object_object_add(o, "LogPath", json_object_new_string(path));
	char name[CTR_NAME_MAX + 2];
	snprintf(name, sizeof(name), "/%s", r->name ? r->name : "");
	json_object_object_add(o, "Name", json_object_new_string(name)); /* docker's "/name" */
	json_object_object_add(o, "RestartCount", json_object_new_int(r->restart_count));
	json_object_object_add(o, "Driver", json_object_new_string("overlay"));
	json_object_object_add(o, "Platform", json_object_new_string("linux"));

	const struct ctr_config *c = &r->config;
	json_object *cfg = ctr_config_to_json(c);
	char host[16];
	snprintf(host, sizeof(host), "%.12s", r->id);
	json_object_object_add(cfg, "Hostname",
			       json_object_new_string(c->hostname ? c->hostname : host));
	json_object_object_add(cfg, "StopSignal", str_or_null(r->stop_signal));
	/* what the process gets (the image's variables and workdir too), as docker shows */
	snprintf(path, sizeof(path), "%s/bundle/config.json", dir);
	json_object *spec = json_object_from_file(path), *proc, *v;
	if (spec && json_object_object_get_ex(spec, "process", &proc)) {
		if (json_object_object_get_ex(proc, "env", &v))
			json_object_object_add(cfg, "Env", json_object_get(v));
		if (json_object_object_get_ex(proc, "cwd", &v))
			json_object_object_add(cfg, "WorkingDir", json_object_get(v));
	}
	json_object_put(spec);
	json_object_object_add(o, "Config", cfg);

	json_object *hc = json_object_new_object();
	json_object_object_add(hc, "NetworkMode", str_or_null(r->network));
	json_object_object_add(hc, "AutoRemove", json_object_new_boolean(c->autoremove));
	json_object_object_add(hc, "Binds", strv_json(c->volumes));
	json_object_object_add(hc, "Memory", json_object_new_int64(c->memory));
	json_object_object_add(hc, "NanoCpus", json_object_new_int64((int64_t)(c->cpus * 1e9)));
	json_object_object_add(hc, "PidsLimit", json_object_new_int64(c->pids_limit));
	json_object_object_add(hc, "CapAdd", strv_json(c->cap_add));
	json_object_object_add(hc, "CapDrop", strv_json(c->cap_drop));
	json_object_object_add(hc, "ReadonlyRootfs", json_object_new_boolean(c->read_only));
	json_object_object_add(hc, "Init", json_object_new_boolean(c->init));
	json_object_object_add(hc, "Runtime",
			       json_object_new_string(c->runtime ? c->runtime : "hull"));
	json_object_object_add(o, "HostConfig", hc);

	json_object *ns = json_object_new_object(), *nets = json_object_new_object();
	json_object_object_add(ns, "IPAddress", json_object_new_string(r->ip ? r->ip : ""));
	json_object_object_add(ns, "Ports",
			       r->ports_json ? json_tokener_parse(r->ports_json)
					     : json_object_new_array());
	if (r->network && strcmp(r->network, "host") && strcmp(r->network, "none")) {
		json_object *n = json_object_new_object();
		json_object_object_add(n, "IPAddress", json_object_new_string(r->ip ? r->ip : ""));
		json_object_object_add(nets, r->network, n);
	}
	json_object_object_add(ns, "Networks", nets);
	if (r->pid) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", r->pid);
		json_object_object_add(ns, "SandboxKey", json_object_new_string(path));
	}
	json_object_object_add(o, "NetworkSettings", ns);
	return o;
}

/* {{.A.B}} and {{json .A}} of a Go template, the forms scripts use with inspect -f. */
static void print_template(const char *tpl, json_object *o)
{
	const char *p = tpl;
	while (*p) {
		const char *open = strstr(p, "{{");
		const char *close = open ? strstr(open, "}}") : NULL;
		if (!open || !close) {
			fputs(p, stdout);
			break;
		}
		fwrite(p, 1, (size_t)(open - p), stdout);
		char expr[256];
		snprintf(expr, sizeof(expr), "%.*s", (int)(close - open - 2), open + 2);
		char *e = expr;
		while (*e == ' ')
			e++;
		for (char *end = e + strlen(e); end > e && end[-1] == ' ';)
			*--end = 0;
		bool as_json = !strncmp(e, "json ", 5);
		if (as_json)
			e += 5;
		json_object *v = o;
		if (*e == '.')
			e++;
		for (char *save = NULL, *k = strtok_r(e, ".", &save); k && v;
		     k = strtok_r(NULL, ".", &save))
			if (!json_object_object_get_ex(v, k, &v))
				v = NULL;
		if (as_json || (v && (json_object_is_type(v, json_type_object) ||
				      json_object_is_type(v, json_type_array))))
			fputs(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), stdout);
		else if (!v)
			fputs("<no value>", stdout);
		else
			fputs(json_object_get_string(v), stdout);
		p = close + 2;
	}
	putchar('\n');
}

int cmd_inspect(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
					     {"type", required_argument, NULL, 't'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	const char *format = NULL, *type = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+f:h", opts, NULL)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 't')
			type = optarg;
		else if (c == 'h') {
			puts("Usage: deck inspect [-f TEMPLATE] [--type container|image] NAME...");
			return 0;
		} else
			return deck_usage("inspect", "bad option");
	}
	if (optind >= argc)
		return deck_usage("inspect", "\"deck inspect\" requires at least 1 argument");
	if (type && !strcmp(type, "image")) {
		optind = 0;
		return cmd_inspect_image(argc, argv, g);
	}
	json_object *all = json_object_new_array();
	int status = 0;
	for (int i = optind; i < argc; i++) {
		struct ctr_record r;
		if (ctr_load(g->root, argv[i], &r) < 0) {
			if (!type) {
				/* not a container: maybe an image (docker inspect takes both) */
				char *sub[] = {"inspect", argv[i], NULL};
				if (format) {
					char *subf[] = {"inspect", "-f", (char *)format, argv[i],
							NULL};
					optind = 0;
					if (cmd_inspect_image(4, subf, g))
						status = 1;
					continue;
				}
				optind = 0;
				if (cmd_inspect_image(2, sub, g))
					status = 1;
				continue;
			}
			fprintf(stderr, "deck: %s\n", herr_msg());
			status = 1;
			continue;
		}
		json_object *o = inspect_json(g, &r);
		ctr_record_clear(&r);
		if (format) {
			print_template(format, o);
			json_object_put(o);
		} else {
			json_object_array_add(all, o);
		}
	}
	if (!format && json_object_array_length(all))
		puts(json_object_to_json_string_ext(all, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(all);
	return status;
}

int cmd_logs(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {{"follow", no_argument, NULL, 'f'},
					     {"tail", required_argument, NULL, 'n'},
					     {"since", required_argument, NULL, 's'},
					     {"until", required_argument, NULL, 'u'},
					     {"timestamps", no_argument, NULL, 't'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	struct logs_read_opts o = {.tail = -1};
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	int c;
	while ((c = getopt_long(argc, argv, "+fn:th", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'f':
			o.follow = true;
			break;
		case 'n':
			if (!strcmp(optarg, "all"))
				break;
			o.tail = strtol(optarg, &end, 10);
			if (*end || end == optarg || o.tail < 0)
				return deck_usage("logs", "invalid --tail \"%s\"", optarg);
			break;
		case 's':
			if (logs_parse_time(optarg, now, &o.since) < 0)
				return deck_usage("logs", "invalid --since \"%s\": %s", optarg,
						  herr_msg());
			break;
		case 'u':
			if (logs_parse_time(optarg, now, &o.until) < 0)
				return deck_usage("logs", "invalid --until \"%s\": %s", optarg,
						  herr_msg());
			break;
		case 't':
			o.timestamps = true;
			break;
		case 'h':
			puts("Usage: deck logs [-f] [-t] [--tail N] [--since T] [--until T] "
			     "CONTAINER");
			return 0;
		default:
			return deck_usage("logs", "bad option");
		}
	}
	if (argc - optind != 1)
		return deck_usage("logs", "\"deck logs\" requires exactly 1 argument");
	struct ctr_record r;
	if (ctr_load(g->root, argv[optind], &r) < 0)
		return deck_fail();
	enum logs_driver d = LOGS_K8S_FILE;
	if (r.config.log_driver && logs_driver_parse(r.config.log_driver, &d) < 0) {
		ctr_record_clear(&r);
		return deck_fail();
	}
	if (d == LOGS_NONE) {
		fprintf(stderr, "deck: container %s has no log (--log-driver none)\n",
			argv[optind]);
		ctr_record_clear(&r);
		return 1;
	}
	char dir[PATH_MAX], path[PATH_MAX + 16];
	ctr_dir(g->root, r.id, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/ctr.log", dir);
	ctr_record_clear(&r);
	o.state_dir = dir;
	int rc = logs_read(path, d, &o, STDOUT_FILENO, STDERR_FILENO);
	return rc < 0 && rc != -ENOENT ? deck_fail() : 0;
}

int cmd_top(int argc, char **argv, struct deck_opts *g)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		if (argc >= 2) {
			puts("Usage: deck top CONTAINER [ps OPTIONS]");
			return 0;
		}
		return deck_usage("top", "\"deck top\" requires at least 1 argument");
	}
	struct ctr_record r;
	pid_t *pids = NULL;
	size_t n = 0;
	int rc = ctr_load(g->root, argv[1], &r);
	if (rc == 0)
		rc = ctr_pids(g->root, &r, &pids, &n);
	ctr_record_clear(&r);
	if (rc < 0)
		return deck_fail();
	/* ps with the given options (docker's default: -ef), the container's rows kept */
	_cleanup_strv_ char **args = NULL;
	strv_push(&args, "ps");
	if (argc > 2)
		for (int i = 2; i < argc; i++)
			strv_push(&args, argv[i]);
	else
		strv_push(&args, "-ef");
	int p[2];
	if (pipe(p) < 0) {
		free(pids);
		herr_sys("pipe");
		return deck_fail();
	}
	pid_t child = fork();
	if (child == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execvp("ps", args);
		_exit(127);
	}
	close(p[1]);
	FILE *f = fdopen(p[0], "r");
	char *line = NULL;
	size_t cap = 0;
	int pid_col = -1;
	for (bool header = true; f && getline(&line, &cap, f) > 0; header = false) {
		char copy[4096];
		snprintf(copy, sizeof(copy), "%s", line);
		int col = 0;
		long val = -1;
		for (char *save = NULL, *w = strtok_r(copy, " \t\n", &save); w;
		     w = strtok_r(NULL, " \t\n", &save), col++) {
			if (header && !strcmp(w, "PID"))
				pid_col = col;
			if (!header && col == pid_col)
				val = strtol(w, NULL, 10);
		}
		bool keep = header;
		for (size_t i = 0; !keep && i < n; i++)
			keep = pids[i] == val;
		if (keep)
			fputs(line, stdout);
	}
	free(line);
	if (f)
		fclose(f);
	int st;
	waitpid(child, &st, 0);
	free(pids);
	if (pid_col < 0) {
		fprintf(stderr, "deck: top: ps printed no PID column\n");
		return 1;
	}
	return 0;
}
