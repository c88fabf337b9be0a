/* pause, resume, ps, events, update: parse runc's flags, call the library, print. */
#include "cli.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"
#include "oci/resources.h"
#include "runtime/control.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* pause and resume: just the id. */
static int id_only(int argc, char **argv, const char *text, const char **id)
{
	static const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "+h", opts, NULL)) != -1) {
		if (c != 'h')
			return cli_bad_flag(argv[0], argv);
		printf("Usage: hull %s ID\n\n%s\n", argv[0], text);
		return 0;
	}
	*id = cli_need_id(argc, argv, argv[0], "ID");
	return *id ? -1 : 1;
}

int cmd_pause(int argc, char **argv, struct global_opts *g)
{
	const char *id = NULL;
	int r = id_only(argc, argv, "Freeze every process of a running container.", &id);
	if (r >= 0)
		return r;
	return container_pause(g->root, id) < 0 ? cli_fail() : 0;
}

int cmd_resume(int argc, char **argv, struct global_opts *g)
{
	const char *id = NULL;
	int r = id_only(argc, argv, "Thaw a paused container.", &id);
	if (r >= 0)
		return r;
	return container_resume(g->root, id) < 0 ? cli_fail() : 0;
}

/* ---- ps ---- */

static bool in_set(const pid_t *v, size_t n, long pid)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (v[mid] == pid)
			return true;
		if (v[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Run ps with args; its whole stdout into *out. */
static int run_ps(char **args, char **out)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return herr_sys("pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return herr_sys("fork");
	}
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		execvp("ps", args);
		fprintf(stderr, "hull: ps: cannot run ps: %s\n", strerror(errno));
		_exit(127);
	}
	close(p[1]);
	size_t len = 0, cap = 0;
	char *buf = NULL;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 16384;
			char *nb = realloc(buf, cap);
			if (!nb)
				break;
			buf = nb;
		}
		ssize_t n = read(p[0], buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!buf)
		return herr_set(ENOMEM, "out of memory");
	buf[len] = 0;
	*out = buf;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return herr_set(EIO, "ps: ps %s failed (exit status %d)", args[1] ? args[1] : "",
				WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}

/* The header line, then the lines whose PID column holds one of pids (as runc does). */
static int ps_filter(char *text, const pid_t *pids, size_t n)
{
	char *eol = strchr(text, '\n');
	if (eol)
		*eol = 0;
	int col = -1, i = 0;
	char hdr[4096];
	snprintf(hdr, sizeof(hdr), "%s", text);
	char *save = NULL;
	for (char *t = strtok_r(hdr, " \t", &save); t; t = strtok_r(NULL, " \t", &save), i++)
		if (!strcmp(t, "PID")) {
			col = i;
			break;
		}
	if (col < 0)
		return herr_set(EINVAL, "ps: no PID column in the output of ps (add -o pid,...)");
	puts(text);
	for (char *line = eol ? eol + 1 : NULL; line && *line; line = eol ? eol + 1 : NULL) {
		if ((eol = strchr(line, '\n')))
			*eol = 0;
		const char *f = line;
		for (int k = 0; k < col && *f; k++) {
			f += strspn(f, " \t");
			f += strcspn(f, " \t");
		}
		f += strspn(f, " \t");
		char *end;
		long pid = strtol(f, &end, 10);
		if (end != f && (*end == ' ' || *end == '\t' || !*end) && in_set(pids, n, pid))
			puts(line);
	}
	return 0;
}

int cmd_ps(int argc, char **argv, struct global_opts *g)
{
	static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *format = "table";
	int c;
	opterr = 0;
	/* "+": options stop at the id; what follows goes to ps. */
	while ((c = getopt_long_only(argc, argv, "+f:h", opts, NULL)) != -1) {
		if (c == 'f')
			format = optarg;
		else if (c == 'h') {
			printf("Usage: hull ps [--format table|json] ID [--] [PS OPTIONS...]\n\n"
			       "List the processes in the container's cgroups: ps output (ps -ef "
			       "unless PS OPTIONS are given) cut to those, or with --format json "
			       "their PIDs.\n");
			return 0;
		} else
			return cli_bad_flag("ps", argv);
	}
	if (strcmp(format, "table") && strcmp(format, "json")) {
		log_error("ps: --format: unknown format \"%s\" (table or json)", format);
		return 1;
	}
	const char *id = cli_need_id(argc, argv, "ps", "[--format table|json] ID [PS OPTIONS...]");
	if (!id)
		return 1;
	_cleanup_free_ pid_t *pids = NULL;
	size_t n;
	if (container_ps(g->root, id, &pids, &n) < 0)
		return cli_fail();
	if (!strcmp(format, "json")) {
		if (optind + 1 < argc) {
			log_error("ps: PS OPTIONS do not go with --format json");
			return 1;
		}
		putchar('[');
		for (size_t i = 0; i < n; i++)
			printf("%s%d", i ? "," : "", (int)pids[i]);
		puts("]");
		return 0;
	}
	int a = optind + 1;
	if (a < argc && !strcmp(argv[a], "--"))
		a++;
	_cleanup_free_ char **args = calloc((size_t)(argc - a) + 3, sizeof(char *));
	if (!args)
		return 1;
	size_t k = 0;
	args[k++] = "ps";
	if (a >= argc)
		args[k++] = "-ef";
	while (a < argc)
		args[k++] = argv[a++];
	_cleanup_free_ char *out = NULL;
	fflush(stdout);
	if (run_ps(args, &out) < 0 || ps_filter(out, pids, n) < 0)
		return cli_fail();
	return 0;
}

/* ---- events ---- */

/* A Go duration, as runc's --interval takes it: "5s", "1m30s", "250ms", "1.5s". */
static int parse_duration_ms(const char *s, unsigned *ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"\xc2\xb5s", 1e-3}, {"ms", 1},
		     {"s", 1e3},   {"m", 6e4},	 {"h", 3.6e6}};
	double total = 0;
	const char *p = s;
	if (!*p)
		return -1;
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		if (end == p || end != p + strspn(p, "0123456789."))
			return -1;
		p = end;
		size_t best = 0, bl = 0;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].unit);
			if (!strncmp(p, units[i].unit, l) && l > bl) {
				best = i;
				bl = l;
			}
		}
		if (!bl)
			return -1;
		total += v * units[best].ms;
		p += bl;
	}
	if (total < 1 || total > 24.0 * 3600 * 1000 * 24)
		return -1;
	*ms = (unsigned)total;
	return 0;
}

static int print_event(struct json_object *ev, void *arg)
{
	(void)arg;
	const char *s = json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE);
	if (puts(s) < 0 || fflush(stdout) < 0)
		return herr_sys("events: write");
	return 0;
}

int cmd_events(int argc, char **argv, struct global_opts *g)
{
	static const struct option opts[] = {{"stats", no_argument, NULL, 's'},
					     {"interval", required_argument, NULL, 'i'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	bool stats = false;
	unsigned interval = 5000;
	int c;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			stats = true;
			break;
		case 'i':
			if (parse_duration_ms(optarg, &interval) < 0) {
				log_error("events: --interval: expected a positive duration of at "
					  "least 1ms such as 5s, 500ms or 1m30s, got \"%s\"",
					  optarg);
				return 1;
			}
			break;
		case 'h':
			printf("Usage: hull events [--stats] [--interval 5s] ID\n\n"
			       "Print the container's events as JSON lines: its statistics every "
			       "interval and an \"oom\" event when the kernel kills a process for "
			       "lack of memory, until it stops. --stats prints the statistics "
			       "once.\n");
			return 0;
		default:
			return cli_bad_flag("events", argv);
		}
	}
	const char *id = cli_need_id(argc, argv, "events", "[--stats] [--interval 5s] ID");
	if (!id)
		return 1;
	return container_events(g->root, id, stats, interval, print_event, NULL) < 0 ? cli_fail()
										     : 0;
}

/* ---- update ---- */

/* A byte count as runc takes it: "-1", or a number with an optional k/m/g/t/p (1024) suffix. */
static int parse_bytes(const char *s, int64_t *out)
{
	if (!strcmp(s, "-1")) {
		*out = -1;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -1;
	char *end;
	double v = strtod(s, &end);
	/* Plain decimals only: strtod would also take "0x10" and "1e3". */
	if (end != s + strspn(s, "0123456789."))
		return -1;
	if (*end == ' ')
		end++;
	static const char units[] = "kmgtp";
	const char *u = *end ? strchr(units, end[0] | 0x20) : NULL;
	if (u) {
		for (const char *q = units; q <= u; q++)
			v *= 1024;
		end++;
	}
	if (*end == 'i' || *end == 'I')
		end++;
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end || v >= 9.2e18)
		return -1;
	*out = (int64_t)v;
	return 0;
}

static int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (end == s || *end || errno || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

enum {
	U_RESOURCES = 'r',
	U_MEMORY = 1000,
	U_MEMRES,
	U_SWAP,
	U_KMEM,
	U_KMEMTCP,
	U_SHARES,
	U_QUOTA,
	U_PERIOD,
	U_RTRUNTIME,
	U_RTPERIOD,
	U_CPUS,
	U_MEMS,
	U_PIDS,
	U_BLKIO,
	U_L3,
	U_MEMBW,
};

static int read_resources(const char *file, struct oci_resources **r)
{
	FILE *f = strcmp(file, "-") ? fopen(file, "re") : stdin;
	if (!f)
		return herr_sys("update: --resources: %s", file);
	json_tokener *tok = json_tokener_new();
	json_object *obj = NULL;
	char buf[8192];
	size_t n;
	enum json_tokener_error err = json_tokener_continue;
	while (!obj && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		obj = json_tokener_parse_ex(tok, buf, (int)n);
		err = json_tokener_get_error(tok);
		if (err != json_tokener_continue && err != json_tokener_success)
			break;
	}
	if (!obj && err == json_tokener_continue)
		obj = json_tokener_parse_ex(tok, "", -1);
	if (!obj && err == json_tokener_continue)
		err = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (f != stdin)
		fclose(f);
	const char *name = strcmp(file, "-") ? file : "<stdin>";
	if (!obj)
		return herr_set(EINVAL, "update: --resources: %s: invalid JSON: %s", name,
				json_tokener_error_desc(err));
	int ret = 0;
	if (!json_object_is_type(obj, json_type_object))
		ret = herr_set(EINVAL, "update: --resources: %s: expected a JSON object", name);
	else
		ret = oci_resources_parse(obj, name, "", r);
	json_object_put(obj);
	return ret;
}

/* One flag into r; -1 on a bad value (recorded). */
static int update_flag(struct oci_resources *r, int c, const char *name, const char *v)
{
	int64_t x;
	bool ok = true;
	switch (c) {
	case U_MEMORY:
	case U_MEMRES:
	case U_SWAP:
	case U_KMEM:
	case U_KMEMTCP:
		if (parse_bytes(v, &x) < 0) {
			ok = false;
			break;
		}
		if (c == U_MEMORY)
			r->memory.has_limit = true, r->memory.limit = x;
		else if (c == U_MEMRES)
			r->memory.has_reservation = true, r->memory.reservation = x;
		else if (c == U_SWAP)
			r->memory.has_swap = true, r->memory.swap = x;
		else if (c == U_KMEM)
			r->memory.has_kernel = true, r->memory.kernel = x;
		else
			r->memory.has_kernel_tcp = true, r->memory.kernel_tcp = x;
		break;
	case U_SHARES:
	case U_PERIOD:
	case U_RTPERIOD:
		if (!(ok = parse_int(v, 0, INT64_MAX, &x) == 0))
			break;
		if (c == U_SHARES)
			r->cpu.has_shares = true, r->cpu.shares = (uint64_t)x;
		else if (c == U_PERIOD)
			r->cpu.has_period = true, r->cpu.period = (uint64_t)x;
		else
			r->cpu.has_realtime_period = true, r->cpu.realtime_period = (uint64_t)x;
		break;
	case U_QUOTA:
	case U_RTRUNTIME:
	case U_PIDS:
		if (!(ok = parse_int(v, INT64_MIN, INT64_MAX, &x) == 0))
			break;
		if (c == U_QUOTA)
			r->cpu.has_quota = true, r->cpu.quota = x;
		else if (c == U_RTRUNTIME)
			r->cpu.has_realtime_runtime = true, r->cpu.realtime_runtime = x;
		else
			r->pids.has_limit = true, r->pids.limit = x;
		break;
	case U_BLKIO:
		if (!(ok = parse_int(v, 0, UINT16_MAX, &x) == 0))
			break;
		r->block_io.has_weight = true;
		r->block_io.weight = (uint16_t)x;
		break;
	case U_CPUS:
	case U_MEMS: {
		char **dst = c == U_CPUS ? &r->cpu.cpus : &r->cpu.mems;
		free(*dst);
		if (!(*dst = strdup(v))) {
			herr_set(ENOMEM, "out of memory");
			return -1;
		}
		break;
	}
	}
	if (!ok) {
		herr_set(EINVAL, "update: --%s: invalid value \"%s\"", name, v);
		return -1;
	}
	return 0;
}

int cmd_update(int argc, char **argv, struct global_opts *g)
{
	static const struct option opts[] = {
	    {"resources", required_argument, NULL, U_RESOURCES},
	    {"memory", required_argument, NULL, U_MEMORY},
	    {"memory-reservation", required_argument, NULL, U_MEMRES},
	    {"memory-swap", required_argument, NULL, U_SWAP},
	    {"kernel-memory", required_argument, NULL, U_KMEM},
	    {"kernel-memory-tcp", required_argument, NULL, U_KMEMTCP},
	    {"cpu-share", required_argument, NULL, U_SHARES},
	    {"cpu-shares", required_argument, NULL, U_SHARES},
	    {"cpu-quota", required_argument, NULL, U_QUOTA},
	    {"cpu-period", required_argument, NULL, U_PERIOD},
	    {"cpu-rt-runtime", required_argument, NULL, U_RTRUNTIME},
	    {"cpu-rt-period", required_argument, NULL, U_RTPERIOD},
	    {"cpuset-cpus", required_argument, NULL, U_CPUS},
	    {"cpuset-mems", required_argument, NULL, U_MEMS},
	    {"pids-limit", required_argument, NULL, U_PIDS},
	    {"blkio-weight", required_argument, NULL, U_BLKIO},
	    {"l3-cache-schema", required_argument, NULL, U_L3},
	    {"mem-bw-schema", required_argument, NULL, U_MEMBW},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	/* Flags apply on top of --resources, whatever their order on the command line. */
	const char *file = NULL;
	int c, nflags = 0;
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "+r:h", opts, NULL)) != -1) {
		if (c == U_RESOURCES)
			file = optarg;
		else if (c == U_L3 || c == U_MEMBW) {
			log_error("update: --%s: not supported (hull has no Intel RDT support)",
				  c == U_L3 ? "l3-cache-schema" : "mem-bw-schema");
			return 1;
		} else if (c == 'h') {
			printf("Usage: hull update [options] ID\n\n"
			       "Change a container's resources. -r, --resources FILE|- takes a "
			       "linux.resources object; the flags set single fields:\n"
			       "  --memory, --memory-reservation, --memory-swap, --kernel-memory,\n"
			       "  --kernel-memory-tcp BYTES  (-1 = unlimited; k/m/g suffixes)\n"
			       "  --cpu-share(s), --cpu-period, --cpu-quota, --cpu-rt-period,\n"
			       "  --cpu-rt-runtime N, --cpuset-cpus LIST, --cpuset-mems LIST,\n"
			       "  --pids-limit N, --blkio-weight N\n");
			return 0;
		} else if (c == '?' || c == ':')
			return cli_bad_flag("update", argv);
		else
			nflags++;
	}
	const char *id = cli_need_id(argc, argv, "update", "[options] ID");
	if (!id)
		return 1;
	if (optind + 1 < argc) {
		log_error("update: unexpected argument \"%s\" after the container id",
			  argv[optind + 1]);
		return 1;
	}
	if (!file && !nflags) {
		log_error("update: nothing to update (give --resources FILE or a flag; see hull "
			  "update --help)");
		return 1;
	}
	struct oci_resources *r = NULL;
	if (file && read_resources(file, &r) < 0)
		return cli_fail();
	if (!r && !(r = calloc(1, sizeof(*r)))) {
		log_error("out of memory");
		return 1;
	}
	optind = 0;
	int ret = 0;
	int idx = 0;
	while (!ret && (c = getopt_long_only(argc, argv, "+r:h", opts, &idx)) != -1)
		if (c != U_RESOURCES && update_flag(r, c, opts[idx].name, optarg) < 0)
			ret = cli_fail();
	if (!ret && container_update(g->root, id, r) < 0)
		ret = cli_fail();
	oci_resources_free(r);
	return ret;
}
