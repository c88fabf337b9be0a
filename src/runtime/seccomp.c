/*
 * linux.seccomp -> a classic BPF program, with libseccomp, in the runtime
 * parent; the container's init installs it with seccomp(2) directly.
 *
 * Why export the program instead of keeping the scmp_filter_ctx and calling
 * seccomp_load() in the init: seccomp_load() generates the BPF right there
 * (hundreds of allocations for a docker-sized profile), probes the kernel, and
 * sets no_new_privs unless told not to, all in a process that has already
 * dropped its user and capabilities and may sit in a rootfs without /proc;
 * when it fails there, all we get is a bare errno. Exporting does every one of
 * those steps in the parent, where a failure is an ordinary config error, and
 * leaves the init one syscall that can only fail for kernel reasons. It also
 * lets us pass kernel flags libseccomp 2.5 has no attribute for
 * (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV).
 */
#include "seccomp.h"
#include "seccomp-cache.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/jsondesc.h"
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <json-c/json.h>
#include <seccomp.h>

#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#define JP    512 /* JSON path buffer */
#define NARGS 6	  /* a syscall has at most six arguments */

struct hull_seccomp {
	struct sock_filter *insns;
	unsigned short len;
	unsigned int flags; /* SECCOMP_FILTER_FLAG_*, as passed to seccomp(2) */
	bool notify;
	char *listener_path, *listener_metadata;
};

struct ctx {
	const char *file;
	scmp_filter_ctx f;
	uint32_t def_action;
	bool notify;
};

#define TRY(x)                                                                                     \
	do {                                                                                       \
		int r_ = (x);                                                                      \
		if (r_ < 0)                                                                        \
			return r_;                                                                 \
	} while (0)

/* ---- messages ---- */

#define Q(s) JD_Q(s)

static int bad(const struct ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(const struct ctx *c, const char *path, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return herr_set(EINVAL, "%s: %s: %s", c->file, path, msg);
}

/* ---- typed readers: look `key` up in obj at `where`; 0 absent, 1 read, <0 error ---- */

/* JSON null counts as absent, as in config.c (and Go, hence runc). */
static struct json_object *get(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

/* A JSON path into a char[JP]; a path too long for it is cut short. */
static void jp(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void jp(char *buf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, JP, fmt, ap);
	va_end(ap);
}

static void jkey(char *buf, const char *where, const char *key)
{
	jp(buf, "%s.%s", where, key);
}

static int want_type(const struct ctx *c, struct json_object *v, const char *path, enum json_type t)
{
	static const char *const names[] = {
	    [json_type_object] = "an object",
	    [json_type_array] = "an array",
	    [json_type_string] = "a string",
	};
	if (!json_object_is_type(v, t))
		return bad(c, path, "expected %s, got %s", names[t], jd_type(v));
	return 1;
}

static int rd_str(const struct ctx *c, struct json_object *obj, const char *where, const char *key,
		  bool required, const char **out)
{
	char p[JP];
	struct json_object *v = get(obj, key);
	jkey(p, where, key);
	if (!v) {
		if (required)
			return bad(c, p, "required");
		return 0;
	}
	TRY(want_type(c, v, p, json_type_string));
	const char *s = json_object_get_string(v);
	if (memchr(s, 0, (size_t)json_object_get_string_len(v)))
		return bad(c, p, "must not contain a NUL character");
	*out = s;
	return 1;
}

static int rd_u64(const struct ctx *c, struct json_object *obj, const char *where, const char *key,
		  bool required, uint64_t max, uint64_t *out)
{
	char p[JP];
	struct json_object *v = get(obj, key);
	jkey(p, where, key);
	if (!v) {
		if (required)
			return bad(c, p, "required");
		return 0;
	}
	if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0 &&
	    json_object_get_uint64(v) <= max) {
		*out = json_object_get_uint64(v);
		return 1;
	}
	return bad(c, p, "expected an integer from 0 to %" PRIu64 ", got %s", max, JD_DESCRIBE(v));
}

/* ---- names ---- */

static const struct {
	const char *name;
	uint32_t action; /* for ERRNO and TRACE, with the data bits still 0 */
	bool has_data;
} actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
    {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false},
};

static const struct {
	const char *name;
	enum scmp_compare op;
} operators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const struct {
	const char *name;
	unsigned int flag;
} filter_flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
    {"SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV},
};

/*
 * An action with its errno/trace value. errnoRet defaults to EPERM for ERRNO
 * and TRACE (as runc); the spec says an action that takes no errno must fail
 * when given one.
 */
static int parse_action(const struct ctx *c, struct json_object *obj, const char *where,
			const char *akey, const char *ekey, uint32_t *out)
{
	const char *name;
	uint64_t ret = EPERM;
	char p[JP];
	size_t i;

	TRY(rd_str(c, obj, where, akey, true, &name));
	for (i = 0; i < ARRAY_SIZE(actions) && strcmp(actions[i].name, name) != 0; i++)
		;
	if (i == ARRAY_SIZE(actions)) {
		jkey(p, where, akey);
		return bad(c, p, "unknown action %s", Q(name));
	}
	/* The kernel keeps 16 bits (SECCOMP_RET_DATA). */
	int r = rd_u64(c, obj, where, ekey, false, 0xffff, &ret);
	TRY(r);
	if (r && !actions[i].has_data) {
		jkey(p, where, ekey);
		return bad(c, p,
			   "not valid with %s (only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one)",
			   name);
	}
	*out = actions[i].action | (actions[i].has_data ? (uint32_t)ret : 0);
	return 0;
}

/* libseccomp names an architecture by the lower-cased tail of its SCMP_ARCH_ constant. */
static uint32_t arch_token(const char *spec_name)
{
	const char *prefix = "SCMP_ARCH_";
	char name[32];
	size_t i;

	if (strncmp(spec_name, prefix, strlen(prefix)) != 0)
		return 0;
	spec_name += strlen(prefix);
	for (i = 0; spec_name[i]; i++) {
		if (i == sizeof(name) - 1 || islower((unsigned char)spec_name[i]))
			return 0;
		name[i] = (char)tolower((unsigned char)spec_name[i]);
	}
	name[i] = '\0';
	return i ? seccomp_arch_resolve_name(name) : 0;
}

/* ---- the document ---- */

static int add_archs(struct ctx *c, struct json_object *spec)
{
	const char *where = "linux.seccomp.architectures";
	struct json_object *v = get(spec, "architectures");
	char p[JP];

	if (!v)
		return 0;
	TRY(want_type(c, v, where, json_type_array));
	for (size_t i = 0, n = json_object_array_length(v); i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		jp(p, "%s[%zu]", where, i);
		TRY(want_type(c, e, p, json_type_string));
		uint32_t arch = arch_token(json_object_get_string(e));
		if (!arch)
			return bad(c, p, "unknown architecture %s", Q(json_object_get_string(e)));
		int r = seccomp_arch_add(c->f, arch);
		if (r < 0 && r != -EEXIST)
			return herr_ctx(herr_set(-r, "seccomp_arch_add: %s", strerror(-r)),
					"%s: %s", c->file, p);
	}
	return 0;
}

static int parse_flags(const struct ctx *c, struct json_object *spec, unsigned int *flags)
{
	const char *where = "linux.seccomp.flags";
	struct json_object *v = get(spec, "flags");
	char p[JP];

	*flags = 0;
	if (!v)
		return 0;
	TRY(want_type(c, v, where, json_type_array));
	for (size_t i = 0, n = json_object_array_length(v); i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		size_t k;
		jp(p, "%s[%zu]", where, i);
		TRY(want_type(c, e, p, json_type_string));
		const char *name = json_object_get_string(e);
		for (k = 0; k < ARRAY_SIZE(filter_flags) && strcmp(filter_flags[k].name, name); k++)
			;
		if (k == ARRAY_SIZE(filter_flags))
			return bad(c, p, "unknown flag %s", Q(name));
		*flags |= filter_flags[k].flag;
	}
	return 0;
}

static int read_arg(const struct ctx *c, struct json_object *a, const char *where,
		    struct scmp_arg_cmp *cmp)
{
	uint64_t index, value, two = 0;
	const char *op;
	size_t k;

	TRY(want_type(c, a, where, json_type_object));
	TRY(rd_u64(c, a, where, "index", true, NARGS - 1, &index));
	TRY(rd_u64(c, a, where, "value", true, UINT64_MAX, &value));
	TRY(rd_u64(c, a, where, "valueTwo", false, UINT64_MAX, &two));
	TRY(rd_str(c, a, where, "op", true, &op));
	for (k = 0; k < ARRAY_SIZE(operators) && strcmp(operators[k].name, op) != 0; k++)
		;
	if (k == ARRAY_SIZE(operators)) {
		char p[JP];
		jkey(p, where, "op");
		return bad(c, p, "unknown operator %s", Q(op));
	}
	/* For MASKED_EQ, libseccomp wants the mask first: value is the mask, valueTwo the datum. */
	*cmp = (struct scmp_arg_cmp){
	    .arg = (unsigned int)index, .op = operators[k].op, .datum_a = value, .datum_b = two};
	return 0;
}

/*
 * Add one rule per resolvable name. libseccomp cannot put two conditions on
 * the same argument in one rule; like runc, such an entry becomes one rule per
 * condition, which then OR instead of AND.
 */
static int add_rules(struct ctx *c, const char *where, struct json_object *names, const char *nkey,
		     uint32_t action, const struct scmp_arg_cmp *cmp, size_t ncmp, bool split)
{
	bool array = json_object_is_type(names, json_type_array);
	size_t n = array ? json_object_array_length(names) : 1;
	char p[JP];

	for (size_t i = 0; i < n; i++) {
		struct json_object *e = array ? json_object_array_get_idx(names, i) : names;
		if (array)
			jp(p, "%s.%s[%zu]", where, nkey, i);
		else
			jkey(p, where, nkey);
		TRY(want_type(c, e, p, json_type_string));
		const char *name = json_object_get_string(e);
		if (!*name)
			return bad(c, p, "must not be empty");
		if (action == SCMP_ACT_NOTIFY &&
		    (!strcmp(name, "write") || !strcmp(name, "sendmsg")))
			/* The init sends the listener fd to the parent after loading. */
			return bad(c, p, "SCMP_ACT_NOTIFY cannot be used for the %s syscall", name);

		/* A name this libseccomp does not know is a syscall this kernel lacks. */
		int nr = seccomp_syscall_resolve_name(name);
		if (nr == __NR_SCMP_ERROR)
			continue;
		if (action == c->def_action)
			continue; /* redundant, and libseccomp refuses it */

		int r = 0;
		if (split && ncmp)
			for (size_t k = 0; k < ncmp && r >= 0; k++)
				r = seccomp_rule_add_array(c->f, action, nr, 1, &cmp[k]);
		else
			r = seccomp_rule_add_array(c->f, action, nr, (unsigned int)ncmp, cmp);
		if (r == -EEXIST)
			return herr_set(EEXIST,
					"%s: %s: %s already has a rule with these conditions and "
					"another action",
					c->file, p, Q(name));
		if (r < 0)
			return herr_set(-r, "%s: %s: cannot add a rule for %s: %s", c->file, p,
					Q(name), strerror(-r));
		if (action == SCMP_ACT_NOTIFY)
			c->notify = true; /* the kernel makes a listener only on request */
	}
	return 0;
}

static int add_syscall(struct ctx *c, struct json_object *sc, const char *where)
{
	struct scmp_arg_cmp cmp[NARGS];
	unsigned int per_index[NARGS] = {0};
	size_t ncmp = 0;
	bool split = false;
	uint32_t action;
	char p[JP];

	TRY(want_type(c, sc, where, json_type_object));
	TRY(parse_action(c, sc, where, "action", "errnoRet", &action));

	struct json_object *args = get(sc, "args");
	_cleanup_free_ struct scmp_arg_cmp *many = NULL;
	struct scmp_arg_cmp *conds = cmp;
	if (args) {
		jkey(p, where, "args");
		TRY(want_type(c, args, p, json_type_array));
		size_t n = json_object_array_length(args);
		/* More than six conditions means a repeated index: the split path. */
		if (n > NARGS) {
			if (!(many = calloc(n, sizeof(*many))))
				return herr_set(ENOMEM, "%s: out of memory", c->file);
			conds = many;
		}
		for (size_t i = 0; i < n; i++) {
			jp(p, "%s.args[%zu]", where, i);
			TRY(read_arg(c, json_object_array_get_idx(args, i), p, &conds[i]));
			if (++per_index[conds[i].arg] > 1)
				split = true;
		}
		ncmp = n;
	}

	const char *nkey = "names";
	struct json_object *names = get(sc, nkey);
	if (!names) {
		nkey = "name"; /* before runtime-spec 1.0 */
		names = get(sc, nkey);
	}
	if (!names) {
		jkey(p, where, "names");
		return bad(c, p, "required");
	}
	if (!strcmp(nkey, "names")) {
		jkey(p, where, nkey);
		TRY(want_type(c, names, p, json_type_array));
	}
	return add_rules(c, where, names, nkey, action, conds, ncmp, split);
}

static int add_syscalls(struct ctx *c, struct json_object *spec)
{
	const char *where = "linux.seccomp.syscalls";
	struct json_object *v = get(spec, "syscalls");
	char p[JP];

	if (!v)
		return 0;
	TRY(want_type(c, v, where, json_type_array));
	for (size_t i = 0, n = json_object_array_length(v); i < n; i++) {
		jp(p, "%s[%zu]", where, i);
		TRY(add_syscall(c, json_object_array_get_idx(v, i), p));
	}
	return 0;
}

/* libseccomp 2.5 can export only to an fd; a memfd takes any size without blocking. */
static int export_bpf(const struct ctx *c, struct hull_seccomp *s)
{
	_cleanup_close_ int fd = memfd_create("hull-seccomp", MFD_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return herr_sys("%s: linux.seccomp: memfd_create", c->file);
	int r = seccomp_export_bpf(c->f, fd);
	if (r < 0)
		return herr_set(-r, "%s: linux.seccomp: cannot generate the filter: %s", c->file,
				strerror(-r));
	if (fstat(fd, &st) < 0)
		return herr_sys("%s: linux.seccomp: fstat", c->file);
	size_t len = (size_t)st.st_size / sizeof(struct sock_filter);
	if (len == 0 || (size_t)st.st_size % sizeof(struct sock_filter))
		return herr_set(EIO, "%s: linux.seccomp: libseccomp exported %jd bytes of BPF",
				c->file, (intmax_t)st.st_size);
	if (len > BPF_MAXINSNS)
		return herr_set(E2BIG,
				"%s: linux.seccomp: the profile compiles to %zu BPF instructions, "
				"more than the kernel's limit of %d",
				c->file, len, BPF_MAXINSNS);
	if (!(s->insns = malloc((size_t)st.st_size)))
		return herr_set(ENOMEM, "%s: out of memory", c->file);
	ssize_t n = pread(fd, s->insns, (size_t)st.st_size, 0);
	if (n != st.st_size)
		return n < 0
			   ? herr_sys("%s: linux.seccomp: read the filter", c->file)
			   : herr_set(EIO, "%s: linux.seccomp: short read of the filter", c->file);
	s->len = (unsigned short)len;
	return 0;
}

/*
 * Ask the kernel whether it knows the flags, the way libseccomp does: a NULL
 * program fails with EFAULT only after the flags passed validation. Finding
 * out here turns a failed execve-time load into a config error.
 */
static int probe(unsigned int flags)
{
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, NULL) < 0 && errno == EFAULT
		   ? 0
		   : -1;
}

static int check_kernel(const struct ctx *c, const struct hull_seccomp *s)
{
	if (probe(s->flags) == 0)
		return 0;
	if (probe(0) < 0)
		return herr_sys("%s: linux.seccomp: the kernel does not take seccomp filters",
				c->file);
	for (size_t k = 0; k < ARRAY_SIZE(filter_flags); k++) {
		unsigned int f = filter_flags[k].flag;
		if (f == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
			f |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
		if ((s->flags & filter_flags[k].flag) && probe(f) < 0)
			return herr_set(EOPNOTSUPP,
					"%s: linux.seccomp.flags: %s: not supported by "
					"this kernel",
					c->file, filter_flags[k].name);
	}
	if (s->notify && probe(SECCOMP_FILTER_FLAG_NEW_LISTENER) < 0)
		return herr_set(
		    EOPNOTSUPP,
		    "%s: linux.seccomp: SCMP_ACT_NOTIFY is not supported by this kernel", c->file);
	return herr_set(EOPNOTSUPP,
			"%s: linux.seccomp.flags: SECCOMP_FILTER_FLAG_TSYNC with SCMP_ACT_NOTIFY "
			"is not supported by this kernel",
			c->file);
}

static int build(struct ctx *c, struct json_object *spec, const char *cache_dir,
		 struct hull_seccomp *s)
{
	const char *str;
	unsigned int flags;
	int r;

	TRY(want_type(c, spec, "linux.seccomp", json_type_object));
	TRY(parse_action(c, spec, "linux.seccomp", "defaultAction", "defaultErrnoRet",
			 &c->def_action));
	if (c->def_action == SCMP_ACT_NOTIFY)
		/* Everything would wait for the agent, the init's own sendmsg of its fd too. */
		return bad(c, "linux.seccomp.defaultAction",
			   "SCMP_ACT_NOTIFY cannot be used as default action");
	TRY(parse_flags(c, spec, &flags));
	TRY(r = rd_str(c, spec, "linux.seccomp", "listenerPath", false, &str));
	if (r && *str && !(s->listener_path = strdup(str)))
		return herr_set(ENOMEM, "%s: out of memory", c->file);
	TRY(r = rd_str(c, spec, "linux.seccomp", "listenerMetadata", false, &str));
	if (r && !(s->listener_metadata = strdup(str)))
		return herr_set(ENOMEM, "%s: out of memory", c->file);

	/* The whole profile and the compiler's version: what the BPF depends on. */
	_cleanup_free_ char *key = NULL;
	const struct scmp_version *v = seccomp_version();
	int klen = asprintf(&key, "hull-seccomp 1\nlibseccomp %u.%u.%u\n%s", v->major, v->minor,
			    v->micro, json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN));
	if (klen < 0)
		return herr_set(ENOMEM, "%s: out of memory", c->file);
	if (!cache_dir ||
	    !seccomp_cache_get(cache_dir, key, (size_t)klen, &s->insns, &s->len, &c->notify)) {
		if (!(c->f = seccomp_init(c->def_action)))
			return herr_set(
			    EOPNOTSUPP,
			    "%s: linux.seccomp.defaultAction: libseccomp cannot use this action "
			    "(is it supported by this kernel?)",
			    c->file);
		TRY(add_archs(c, spec));
		TRY(add_syscalls(c, spec));
		TRY(export_bpf(c, s));
		if (cache_dir)
			seccomp_cache_put(cache_dir, key, (size_t)klen, s->insns, s->len,
					  c->notify);
	}

	s->notify = c->notify;
	s->flags = flags;
	if (s->notify && !s->listener_path)
		/* Nobody would answer: every notified syscall would hang the container. */
		return bad(c, "linux.seccomp.listenerPath",
			   "required (a unix socket path) when a rule uses SCMP_ACT_NOTIFY");
	if (s->notify) {
		s->flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
		/* Without ESRCH the kernel refuses TSYNC together with a listener. */
		if (s->flags & SECCOMP_FILTER_FLAG_TSYNC)
			s->flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
	} else {
		/* It only makes sense, and the kernel only takes it, with a listener. */
		s->flags &= ~(unsigned int)SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
	}
	return check_kernel(c, s);
}

int hull_seccomp_build(struct json_object *spec, const char *file, struct hull_seccomp **out)
{
	return hull_seccomp_build_cached(spec, file, NULL, out);
}

int hull_seccomp_build_cached(struct json_object *spec, const char *file, const char *cache_dir,
			      struct hull_seccomp **out)
{
	struct ctx c = {.file = file ? file : "config.json"};
	struct hull_seccomp *s;

	*out = NULL;
	if (!spec)
		return 0;
	if (!(s = calloc(1, sizeof(*s))))
		return herr_set(ENOMEM, "%s: out of memory", c.file);
	int r = build(&c, spec, cache_dir, s);
	if (c.f)
		seccomp_release(c.f);
	if (r < 0) {
		hull_seccomp_free(s);
		return r;
	}
	*out = s;
	return 0;
}

/* seccomp(2) wants CAP_SYS_ADMIN in the caller's user namespace, or no_new_privs. */
static bool have_sys_admin(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective & CAP_TO_MASK(CAP_SYS_ADMIN);
}

int hull_seccomp_load(const struct hull_seccomp *s, int *notify_fd)
{
	if (notify_fd)
		*notify_fd = -1;
	if (!s)
		return 0;
	if (!have_sys_admin() && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return herr_sys("seccomp: prctl(PR_SET_NO_NEW_PRIVS)");
	struct sock_fprog prog = {.len = s->len, .filter = s->insns};
	long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->flags, &prog);
	if (r < 0)
		return herr_sys("seccomp: load the filter");
	if (s->notify) {
		if (notify_fd)
			*notify_fd = (int)r;
		else
			close((int)r);
	}
	return 0;
}

bool hull_seccomp_has_notify(const struct hull_seccomp *s)
{
	return s && s->notify;
}

bool hull_seccomp_wants_listener(const struct hull_seccomp *s, const char **listener_path,
				 const char **listener_metadata)
{
	if (!s || !s->notify || !s->listener_path)
		return false;
	if (listener_path)
		*listener_path = s->listener_path;
	if (listener_metadata)
		*listener_metadata = s->listener_metadata;
	return true;
}

void hull_seccomp_free(struct hull_seccomp *s)
{
	if (!s)
		return;
	free(s->insns);
	free(s->listener_path);
	free(s->listener_metadata);
	free(s);
}
