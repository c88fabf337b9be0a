/*
 * `deck create` and `deck run` flags, parsed the way docker's client parses
 * them: options stop at IMAGE (its command may have flags of its own), sizes
 * in docker's units, --env-file in docker's format, every bad value a usage
 * error (125) naming the flag and the value.
 */
#include "cli/deck/runopts.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strv.h"
#include "engine/logs.h"
#include "engine/network.h"
#include "oci/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define COMMON_USAGE                                                                               \
	"  -i, --interactive          Keep STDIN open even if not attached\n"                      \
	"  -t, --tty                  Allocate a pseudo-TTY\n"                                     \
	"      --rm                   Remove the container when it exits\n"                        \
	"      --name string          Assign a name to the container\n"                            \
	"  -e, --env list             Set environment variables (a bare NAME takes yours)\n"       \
	"      --env-file list        Read in a file of environment variables\n"                   \
	"  -w, --workdir string       Working directory inside the container\n"                    \
	"  -u, --user string          Username or UID (format: <name|uid>[:<group|gid>])\n"        \
	"  -v, --volume list          Bind mount a volume (SRC:DST[:OPTS], NAME:DST, DST)\n"       \
	"      --tmpfs list           Mount a tmpfs directory (PATH[:OPTS])\n"                     \
	"      --read-only            Mount the container's root filesystem as read only\n"        \
	"      --entrypoint string    Overwrite the default ENTRYPOINT of the image\n"             \
	"  -h, --hostname string      Container host name\n"                                       \
	"  -m, --memory bytes         Memory limit (b, k, m, g units)\n"                           \
	"      --memory-swap bytes    Memory plus swap limit; -1: unlimited swap\n"                \
	"      --cpus decimal         Number of CPUs\n"                                            \
	"      --pids-limit int       Tune container pids limit (-1 for unlimited)\n"              \
	"      --cap-add list         Add Linux capabilities (ALL: every one)\n"                   \
	"      --cap-drop list        Drop Linux capabilities (ALL: every one)\n"                  \
	"      --security-opt list    seccomp=unconfined|PROFILE.json, no-new-privileges\n"        \
	"      --network string       Connect a container to a network (none, host, NAME)\n"       \
	"  -p, --publish list         Publish a container's port(s) to the host\n"                 \
	"      --add-host list        Add a custom host-to-IP mapping (host:ip)\n"                 \
	"      --dns list             Set custom DNS servers\n"                                    \
	"      --init                 Run an init inside the container that forwards signals\n"    \
	"                             and reaps processes\n"                                       \
	"      --stop-signal string   Signal to stop the container\n"                              \
	"      --stop-timeout int     Timeout (in seconds) to stop a container\n"                  \
	"      --cgroup-parent string Optional parent cgroup for the container\n"                  \
	"      --log-driver string    Logging driver: k8s-file, json-file, none\n"                 \
	"      --log-opt list         Log driver options (max-size=SIZE)\n"                        \
	"      --runtime string       Runtime to use for this container (an OCI runtime path)\n"   \
	"  -l, --label list           Set meta data on a container\n"                              \
	"      --help                 Print usage\n"

const char deck_run_usage[] = "\nUsage:  deck run [OPTIONS] IMAGE [COMMAND] [ARG...]\n"
			      "\n"
			      "Create and run a new container from an image\n"
			      "\n"
			      "Options:\n"
			      "  -d, --detach               Run container in background and print "
			      "container ID\n"
			      "      --sig-proxy            Proxy received signals to the process "
			      "(default true)\n" COMMON_USAGE;

const char deck_create_usage[] = "\nUsage:  deck create [OPTIONS] IMAGE [COMMAND] [ARG...]\n"
				 "\n"
				 "Create a new container\n"
				 "\n"
				 "Options:\n" COMMON_USAGE;

enum {
	O_RM = 256,
	O_NAME,
	O_ENV_FILE,
	O_TMPFS,
	O_READ_ONLY,
	O_ENTRYPOINT,
	O_MEMORY_SWAP,
	O_CPUS,
	O_PIDS,
	O_CAP_ADD,
	O_CAP_DROP,
	O_SECOPT,
	O_NETWORK,
	O_ADD_HOST,
	O_DNS,
	O_INIT,
	O_STOP_SIGNAL,
	O_STOP_TIMEOUT,
	O_CGROUP_PARENT,
	O_LOG_DRIVER,
	O_LOG_OPT,
	O_RUNTIME,
	O_SIG_PROXY,
	O_HELP,
};

/* Booleans take an optional =true|false, as docker's do. */
static const struct option long_opts[] = {
    {"detach", optional_argument, NULL, 'd'},
    {"interactive", optional_argument, NULL, 'i'},
    {"tty", optional_argument, NULL, 't'},
    {"rm", optional_argument, NULL, O_RM},
    {"name", required_argument, NULL, O_NAME},
    {"env", required_argument, NULL, 'e'},
    {"env-file", required_argument, NULL, O_ENV_FILE},
    {"workdir", required_argument, NULL, 'w'},
    {"user", required_argument, NULL, 'u'},
    {"volume", required_argument, NULL, 'v'},
    {"tmpfs", required_argument, NULL, O_TMPFS},
    {"read-only", optional_argument, NULL, O_READ_ONLY},
    {"entrypoint", required_argument, NULL, O_ENTRYPOINT},
    {"hostname", required_argument, NULL, 'h'},
    {"memory", required_argument, NULL, 'm'},
    {"memory-swap", required_argument, NULL, O_MEMORY_SWAP},
    {"cpus", required_argument, NULL, O_CPUS},
    {"pids-limit", required_argument, NULL, O_PIDS},
    {"cap-add", required_argument, NULL, O_CAP_ADD},
    {"cap-drop", required_argument, NULL, O_CAP_DROP},
    {"security-opt", required_argument, NULL, O_SECOPT},
    {"network", required_argument, NULL, O_NETWORK},
    {"net", required_argument, NULL, O_NETWORK},
    {"publish", required_argument, NULL, 'p'},
    {"add-host", required_argument, NULL, O_ADD_HOST},
    {"dns", required_argument, NULL, O_DNS},
    {"init", optional_argument, NULL, O_INIT},
    {"stop-signal", required_argument, NULL, O_STOP_SIGNAL},
    {"stop-timeout", required_argument, NULL, O_STOP_TIMEOUT},
    {"cgroup-parent", required_argument, NULL, O_CGROUP_PARENT},
    {"log-driver", required_argument, NULL, O_LOG_DRIVER},
    {"log-opt", required_argument, NULL, O_LOG_OPT},
    {"runtime", required_argument, NULL, O_RUNTIME},
    {"label", required_argument, NULL, 'l'},
    {"sig-proxy", optional_argument, NULL, O_SIG_PROXY},
    {"help", no_argument, NULL, O_HELP},
    {0},
};

struct pctx {
	const char *cmd;
	struct ctr_config *c;
	struct deck_run_flags *f;
	char **envs;  /* -e, applied after the files as docker does */
	char **files; /* --env-file entries */
};

static int usage_err(const struct pctx *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int usage_err(const struct pctx *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("deck: ", stderr);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nSee 'deck %s --help'.\n", p->cmd);
	va_end(ap);
	return 125;
}

/* "-m, --memory" or "--cpus", as docker names a flag in its messages. */
static const char *flag_name(int opt, char *buf, size_t len)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (o->val == opt) {
			if (opt < 256)
				snprintf(buf, len, "-%c, --%s", opt, o->name);
			else
				snprintf(buf, len, "--%s", o->name);
			return buf;
		}
	return "?";
}

static int bad(const struct pctx *p, int opt, const char *val, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(const struct pctx *p, int opt, const char *val, const char *fmt, ...)
{
	char why[1024], name[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return usage_err(p, "invalid argument \"%s\" for \"%s\" flag: %s", val,
			 flag_name(opt, name, sizeof(name)), why);
}

static int oom(const struct pctx *p)
{
	(void)p;
	fputs("deck: out of memory\n", stderr);
	return 125;
}

int64_t deck_parse_size(const char *s)
{
	size_t n = strspn(s, "0123456789.");
	if (!n || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[n - 1]) ||
	    strchr(s, '.') != strrchr(s, '.'))
		return -1;
	char *end;
	double v = strtod(s, &end);
	if (end != s + n)
		return -1;
	const char *u = s + n;
	if (*u == ' ')
		u++;
	static const char units[] = "kmgtp";
	double mult = 1;
	const char *k = *u ? strchr(units, tolower((unsigned char)*u)) : NULL;
	if (k) {
		for (const char *q = units; q <= k; q++)
			mult *= 1024;
		u++;
		if (*u == 'i' || *u == 'I')
			u++;
	}
	if (*u == 'b' || *u == 'B')
		u++;
	if (*u)
		return -1;
	v *= mult;
	return v >= 0x1p63 ? -1 : (int64_t)v;
}

static bool parse_bool(const char *v, bool *out)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "1")) {
		*out = true;
		return true;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0")) {
		*out = false;
		return true;
	}
	return false;
}

static bool parse_i64(const char *s, int64_t *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno)
		return false;
	*out = v;
	return true;
}

static int set_str(const struct pctx *p, char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst ? 0 : oom(p);
}

static int push(const struct pctx *p, char ***v, const char *s)
{
	return strv_push(v, s) < 0 ? oom(p) : 0;
}

/* -e: "K=V"; a bare K takes the caller's value, or is dropped without one. */
static int env_opt(struct pctx *p, const char *arg)
{
	const char *eq = strchr(arg, '=');
	if (!*arg || eq == arg)
		return bad(p, 'e', arg, "invalid environment variable: %s", arg);
	if (eq)
		return push(p, &p->envs, arg);
	const char *v = getenv(arg);
	if (!v)
		return 0;
	_cleanup_free_ char *kv = NULL;
	if (asprintf(&kv, "%s=%s", arg, v) < 0)
		return oom(p);
	return push(p, &p->envs, kv);
}

/* docker's env file: K=V lines taken as they are, # comments, blank lines, bare K. */
static int env_file(struct pctx *p, const char *path)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return usage_err(p, "open %s: %s", path, strerror(errno));
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	for (int no = 1; (len = getline(&line, &cap, f)) >= 0; no++) {
		char *s = line;
		if (len > 0 && s[len - 1] == '\n')
			s[--len] = '\0';
		if (len > 0 && s[len - 1] == '\r')
			s[--len] = '\0';
		if (no == 1 && !strncmp(s, "\xef\xbb\xbf", 3))
			s += 3;
		if (strlen(s) != (size_t)(len - (s - line)))
			return usage_err(p, "--env-file %s:%d: a NUL byte in the line", path, no);
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		size_t klen = eq ? (size_t)(eq - s) : strlen(s);
		if (klen == 0)
			return usage_err(p, "--env-file %s:%d: no variable name on line '%s'", path,
					 no, s);
		for (size_t i = 0; i < klen; i++)
			if (isspace((unsigned char)s[i]))
				return usage_err(p,
						 "--env-file %s:%d: variable '%.*s' contains "
						 "whitespaces",
						 path, no, (int)klen, s);
		int r;
		if (eq) {
			r = push(p, &p->files, s);
		} else {
			const char *v = getenv(s);
			_cleanup_free_ char *kv = NULL;
			if (!v)
				continue;
			if (asprintf(&kv, "%s=%s", s, v) < 0)
				return oom(p);
			r = push(p, &p->files, kv);
		}
		if (r)
			return r;
	}
	if (ferror(f))
		return usage_err(p, "read %s: %s", path, strerror(errno));
	return 0;
}

/* --label K=V (a bare K is "K="); a later K replaces an earlier one. */
static int label_opt(struct pctx *p, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t klen = eq ? (size_t)(eq - arg) : strlen(arg);
	if (!klen)
		return bad(p, 'l', arg, "invalid label: empty key");
	_cleanup_free_ char *kv = NULL;
	if (asprintf(&kv, "%s%s", arg, eq ? "" : "=") < 0)
		return oom(p);
	char **v = p->c->labels;
	for (size_t i = 0; v && v[i]; i++)
		if (!strncmp(v[i], kv, klen + 1)) {
			free(v[i]);
			v[i] = take_ptr(kv);
			return 0;
		}
	return push(p, &p->c->labels, kv);
}

static bool is_ip(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static int add_host_opt(struct pctx *p, const char *arg)
{
	size_t n = strcspn(arg, ":=");
	const char *ip = arg[n] ? arg + n + 1 : NULL;
	if (!n || !ip)
		return bad(p, O_ADD_HOST, arg, "bad format for add-host: \"%s\"", arg);
	for (size_t i = 0; i < n; i++)
		if (isspace((unsigned char)arg[i]))
			return bad(p, O_ADD_HOST, arg, "bad format for add-host: \"%s\"", arg);
	/* "[::1]" as docker also takes it. */
	char buf[64];
	size_t il = strlen(ip);
	if (il > 2 && ip[0] == '[' && ip[il - 1] == ']' && il < sizeof(buf)) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(il - 2), ip + 1);
		ip = buf;
	}
	if (!is_ip(ip))
		return bad(p, O_ADD_HOST, arg, "invalid IP address in add-host: \"%s\"", ip);
	_cleanup_free_ char *kv = NULL;
	if (asprintf(&kv, "%.*s:%s", (int)n, arg, ip) < 0)
		return oom(p);
	return push(p, &p->c->add_hosts, kv);
}

static int secopt(struct pctx *p, const char *arg)
{
	const char *v = NULL;
	size_t n = strcspn(arg, "=:");
	if (arg[n])
		v = arg + n + 1;
	if (n == 7 && !strncmp(arg, "seccomp", 7) && v && *v)
		return set_str(p, &p->c->seccomp, v);
	if (n == 17 && !strncmp(arg, "no-new-privileges", 17)) {
		if (!parse_bool(v, &p->c->no_new_privs))
			return bad(p, O_SECOPT, arg, "invalid --security-opt 2: \"%s\"", arg);
		return 0;
	}
	return bad(p, O_SECOPT, arg,
		   "not supported (deck takes seccomp=unconfined|PROFILE and "
		   "no-new-privileges[=true|false])");
}

static int network_opt(struct pctx *p, const char *arg)
{
	/* docker's names for the default network. */
	if (!strcmp(arg, "bridge") || !strcmp(arg, "default")) {
		free(p->c->network);
		p->c->network = NULL;
		return 0;
	}
	if (strcmp(arg, "none") && strcmp(arg, "host") && !net_name_valid(arg))
		return bad(p, O_NETWORK, arg, "not a network name (none, host, or a network)");
	return set_str(p, &p->c->network, arg);
}

static int cpus_opt(struct pctx *p, const char *arg)
{
	char *end;
	double v = strtod(arg, &end);
	if (!*arg || *end || !isfinite(v) || v < 0 || v > 1e6)
		return bad(p, O_CPUS, arg, "failed to parse %s as a rational number", arg);
	/* Kept as docker keeps it, in billionths, so a record reads back the same. */
	int64_t nano = (int64_t)(v * 1e9 + 0.5);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (nano && (nano < 10000000 || (ncpu > 0 && nano > ncpu * 1000000000ll)))
		return bad(p, O_CPUS, arg,
			   "range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs "
			   "available",
			   ncpu, ncpu);
	p->c->cpus = (double)nano / 1e9;
	return 0;
}

static int name_opt(struct pctx *p, const char *arg)
{
	const char *s = arg[0] == '/' ? arg + 1 : arg;
	size_t n = strlen(s);
	bool ok = n >= 2 && n <= CTR_NAME_MAX && isalnum((unsigned char)s[0]);
	for (size_t i = 1; ok && i < n; i++)
		ok = isalnum((unsigned char)s[i]) || strchr("_.-", s[i]);
	if (!ok)
		return usage_err(p,
				 "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] "
				 "are allowed",
				 arg);
	p->f->name = s;
	return 0;
}

static int size_opt(struct pctx *p, int opt, const char *arg, int64_t *out)
{
	int64_t v = deck_parse_size(arg);
	if (v < 0)
		return bad(p, opt, arg, "invalid size: '%s'", arg);
	*out = v;
	return 0;
}

static int one_opt(struct pctx *p, int opt, const char *arg)
{
	struct ctr_config *c = p->c;
	int64_t n;
	bool ok;
	switch (opt) {
	case 'd':
		ok = parse_bool(arg, &p->f->detach);
		break;
	case 'i':
		ok = parse_bool(arg, &c->interactive);
		break;
	case 't':
		ok = parse_bool(arg, &c->tty);
		break;
	case O_RM:
		ok = parse_bool(arg, &c->autoremove);
		break;
	case O_READ_ONLY:
		ok = parse_bool(arg, &c->read_only);
		break;
	case O_INIT:
		ok = parse_bool(arg, &c->init);
		break;
	case O_SIG_PROXY:
		ok = parse_bool(arg, &p->f->sig_proxy);
		break;
	case O_NAME:
		return name_opt(p, arg);
	case 'e':
		return env_opt(p, arg);
	case O_ENV_FILE:
		return env_file(p, arg);
	case 'w':
		if (arg[0] != '/')
			return bad(p, opt, arg,
				   "the working directory '%s' is invalid, it needs to be an "
				   "absolute path",
				   arg);
		return set_str(p, &c->workdir, arg);
	case 'u':
		if (!*arg)
			return bad(p, opt, arg, "empty user");
		return set_str(p, &c->user, arg);
	case 'v':
		if (!*arg || !strcmp(arg, ":"))
			return bad(p, opt, arg, "invalid volume specification: '%s'", arg);
		return push(p, &c->volumes, arg);
	case O_TMPFS:
		if (arg[0] != '/')
			return bad(p, opt, arg, "the path must be absolute");
		return push(p, &c->tmpfs, arg);
	case O_ENTRYPOINT:
		strv_free(c->entrypoint);
		c->entrypoint = NULL;
		return push(p, &c->entrypoint, arg);
	case 'h':
		if (!*arg || strlen(arg) > 64 || strpbrk(arg, "/ \t\n"))
			return bad(p, opt, arg, "invalid hostname format: %s", arg);
		return set_str(p, &c->hostname, arg);
	case 'm':
		return size_opt(p, opt, arg, &c->memory);
	case O_MEMORY_SWAP:
		if (!strcmp(arg, "-1")) {
			c->memory_swap = -1;
			return 0;
		}
		return size_opt(p, opt, arg, &c->memory_swap);
	case O_CPUS:
		return cpus_opt(p, arg);
	case O_PIDS:
		if (!parse_i64(arg, &n) || n < -1)
			return bad(p, opt, arg, "strconv.ParseInt: parsing \"%s\": invalid syntax",
				   arg);
		c->pids_limit = n;
		return 0;
	case O_CAP_ADD:
	case O_CAP_DROP: {
		/* Checked against the kernel's list when the spec is made; only obvious junk here.
		 */
		for (const char *s = arg; *s; s++)
			if (!isalnum((unsigned char)*s) && *s != '_')
				return bad(p, opt, arg, "unknown capability");
		if (!*arg)
			return bad(p, opt, arg, "unknown capability");
		return push(p, opt == O_CAP_ADD ? &c->cap_add : &c->cap_drop, arg);
	}
	case O_SECOPT:
		return secopt(p, arg);
	case O_NETWORK:
		return network_opt(p, arg);
	case 'p': {
		struct net_port *ports = NULL;
		size_t np = 0;
		int r = net_parse_port(arg, &ports, &np);
		free(ports);
		if (r < 0)
			return bad(p, opt, arg, "%s", herr_msg());
		return push(p, &c->publish, arg);
	}
	case O_ADD_HOST:
		return add_host_opt(p, arg);
	case O_DNS:
		if (!is_ip(arg))
			return bad(p, opt, arg, "%s is not an ip address", arg);
		return push(p, &c->dns, arg);
	case O_STOP_SIGNAL:
		if (oci_signal_from_name(arg) <= 0)
			return bad(p, opt, arg, "invalid signal: %s", arg);
		return set_str(p, &c->stop_signal, arg);
	case O_STOP_TIMEOUT:
		if (!parse_i64(arg, &n) || n < -1 || n > INT32_MAX)
			return bad(p, opt, arg, "strconv.ParseInt: parsing \"%s\": invalid syntax",
				   arg);
		c->stop_timeout = (int)n;
		return 0;
	case O_CGROUP_PARENT:
		if (!*arg)
			return bad(p, opt, arg, "empty cgroup parent");
		return set_str(p, &c->cgroup_parent, arg);
	case O_LOG_DRIVER: {
		enum logs_driver d;
		if (logs_driver_parse(arg, &d) < 0)
			return bad(p, opt, arg,
				   "unknown log driver (deck has k8s-file, json-file, none)");
		return set_str(p, &c->log_driver, arg);
	}
	case O_LOG_OPT:
		if (strncmp(arg, "max-size=", 9))
			return bad(p, opt, arg, "unknown log opt '%.*s'", (int)strcspn(arg, "="),
				   arg);
		if (!strcmp(arg + 9, "-1")) {
			c->log_max_size = 0;
			return 0;
		}
		return size_opt(p, opt, arg + 9, &c->log_max_size);
	case O_RUNTIME:
		if (!*arg)
			return bad(p, opt, arg, "empty runtime");
		return set_str(p, &c->runtime, arg);
	case 'l':
		return label_opt(p, arg);
	default:
		return usage_err(p, "internal error: option %d", opt);
	}
	return ok ? 0 : bad(p, opt, arg, "strconv.ParseBool: parsing \"%s\": invalid syntax", arg);
}

/* docker's words for getopt's complaints. */
static int getopt_err(struct pctx *p, int argc, char **argv, int c)
{
	const char *prev = optind - 1 >= 1 && optind - 1 < argc ? argv[optind - 1] : "";
	if (c == '?' && optopt > 0 && optopt < 256) {
		/* Within a cluster ("-iX") optind has not moved on yet; after its last letter it
		 * has. */
		const char *arg = prev;
		if ((prev[0] != '-' || prev[1] == '-' || !strchr(prev + 1, optopt)) &&
		    optind < argc)
			arg = argv[optind];
		return usage_err(p, "unknown shorthand flag: '%c' in %s", optopt, arg);
	}
	if (c == ':' && strncmp(prev, "--", 2))
		return usage_err(p, "flag needs an argument: '%c' in -%c", optopt, optopt);
	int n = (int)strcspn(prev, "=");
	if (c == ':')
		return usage_err(p, "flag needs an argument: %.*s", n, prev);
	return usage_err(p, "unknown flag: %.*s", n, prev);
}

int deck_parse_run(int argc, char **argv, bool is_run, struct ctr_config *c,
		   struct deck_run_flags *f, int *image_index, bool *help_printed)
{
	struct pctx p = {.cmd = is_run ? "run" : "create", .c = c, .f = f};
	*c = (struct ctr_config){.stop_timeout = -1};
	*f = (struct deck_run_flags){.sig_proxy = true};
	*help_printed = false;
	*image_index = 0;
	int rc = 0, opt;
	optind = 0;
	opterr = 0;
	while (rc == 0 &&
	       (opt = getopt_long(argc, argv,
				  is_run ? "+:dite:w:u:v:h:m:p:l:" : "+:ite:w:u:v:h:m:p:l:",
				  long_opts, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			rc = getopt_err(&p, argc, argv, opt);
		else if (opt == 'd' && !is_run)
			rc = usage_err(&p, "unknown flag: --detach");
		else if (opt == O_SIG_PROXY && !is_run)
			rc = usage_err(&p, "unknown flag: --sig-proxy");
		else if (opt == O_HELP) {
			fputs(is_run ? deck_run_usage : deck_create_usage, stdout);
			*help_printed = true;
			break;
		} else
			rc = one_opt(&p, opt, optarg);
	}
	if (rc == 0 && !*help_printed && optind >= argc)
		rc = usage_err(&p, "\"deck %s\" requires at least 1 argument.", p.cmd);
	/* The files first and -e over them, whatever the order given: docker's rule. */
	for (size_t i = 0; rc == 0 && p.files && p.files[i]; i++)
		rc = push(&p, &c->env, p.files[i]);
	for (size_t i = 0; rc == 0 && p.envs && p.envs[i]; i++)
		rc = push(&p, &c->env, p.envs[i]);
	strv_free(p.files);
	strv_free(p.envs);
	if (rc == 0 && !*help_printed) {
		*image_index = optind;
		rc = set_str(&p, &c->image, argv[optind]);
		for (int i = optind + 1; rc == 0 && i < argc; i++)
			rc = push(&p, &c->cmd, argv[i]);
	}
	if (rc || *help_printed)
		ctr_config_clear(c);
	return rc;
}
