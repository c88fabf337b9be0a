/*
 * config.json -> struct oci_config. One pass over the json-c tree; every value
 * read is type- and range-checked and every failure names the file and the JSON
 * path. All strings and arrays are copied into one arena, so a config is freed
 * in one go and nothing points into the tree except the objects the header says
 * are kept unparsed (resources, seccomp, hooks, annotations).
 */
#include "config.h"
#include "mountopts.h"
#include "common/cleanup.h"
#include "common/error.h"
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <linux/ioprio.h>
#include <json-c/json.h>

#ifndef SCHED_FLAG_RESET_ON_FORK
#define SCHED_FLAG_RESET_ON_FORK  0x01
#define SCHED_FLAG_RECLAIM	  0x02
#define SCHED_FLAG_DL_OVERRUN	  0x04
#define SCHED_FLAG_KEEP_POLICY	  0x08
#define SCHED_FLAG_KEEP_PARAMS	  0x10
#define SCHED_FLAG_UTIL_CLAMP_MIN 0x20
#define SCHED_FLAG_UTIL_CLAMP_MAX 0x40
#endif

/*
 * Limits against hostile documents. json-c spends ~750 bytes on an empty
 * object and ~150 on an empty array, so a 100 MB "[{},{},...]" would need
 * tens of GB; real configs (even with big seccomp profiles) stay in the low
 * thousands of containers. The depth limit also bounds json-c's own recursion
 * when it frees the tree.
 */
#define MAX_BYTES      (256u << 20)
#define MAX_CONTAINERS 200000
#define MAX_VALUES     4000000
#define MAX_DEPTH      64

#define JP   512 /* JSON path buffer */
#define QBUF 160 /* a quoted value in a message */

#define TRY(x)                                                                                     \
	do {                                                                                       \
		int r_ = (x);                                                                      \
		if (r_ < 0)                                                                        \
			return r_;                                                                 \
	} while (0)

/* ---- arena ---- */

struct block {
	struct block *next;
	size_t used, cap;
	max_align_t data[];
};

#define ARENA_BLOCK 16384
#define ALIGN	    (sizeof(max_align_t))

static void *arena_alloc(struct oci_config *c, size_t size)
{
	struct block **head = (struct block **)&c->arena;
	if (size > SIZE_MAX / 2)
		return NULL;
	size = (size + ALIGN - 1) & ~(ALIGN - 1);
	struct block *b = *head;
	if (b && b->cap - b->used >= size) {
		void *p = (char *)b->data + b->used;
		b->used += size;
		return p;
	}
	size_t cap = size > ARENA_BLOCK / 4 ? size : ARENA_BLOCK;
	struct block *nb = calloc(1, sizeof(*nb) + cap);
	if (!nb)
		return NULL;
	nb->cap = cap;
	nb->used = size;
	/* A big allocation goes behind the current block so its free space is not lost. */
	if (b && cap == size) {
		nb->next = b->next;
		b->next = nb;
	} else {
		nb->next = b;
		*head = nb;
	}
	return nb->data;
}

static void *arena_array(struct oci_config *c, size_t n, size_t size)
{
	if (n && size > SIZE_MAX / 2 / n)
		return NULL;
	return arena_alloc(c, n ? n * size : 1);
}

static char *arena_strndup(struct oci_config *c, const char *s, size_t n)
{
	char *d = arena_alloc(c, n + 1);
	if (d)
		memcpy(d, s, n);
	return d;
}

static void arena_free(void *arena)
{
	for (struct block *b = arena, *next; b; b = next) {
		next = b->next;
		free(b);
	}
}

/* ---- messages ---- */

static int oom(struct oci_config *c)
{
	return herr_set(ENOMEM, "%s: out of memory", c->path ? c->path : "config");
}

/* A value from the document, quoted for a message: escaped and cut short. */
static const char *quote(char *buf, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;
	buf[o++] = '"';
	/* Room is kept for the longest escape plus the closing `..."`. */
	for (i = 0; s[i] && i < 64 && o < QBUF - 10; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '"' || ch == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[ch >> 4];
			buf[o++] = hex[ch & 15];
		} else {
			buf[o++] = (char)ch;
		}
	}
	if (s[i]) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o++] = '"';
	buf[o] = 0;
	return buf;
}
#define Q(s) quote((char[QBUF]){0}, (s))

static int bad(struct oci_config *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(struct oci_config *c, const char *path, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!*path)
		return herr_set(EINVAL, "%s: %s", c->path, msg);
	return herr_set(EINVAL, "%s: %s: %s", c->path, path, msg);
}

static const char *jtype(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_boolean:
		return "boolean";
	case json_type_int:
	case json_type_double:
		return "number";
	case json_type_object:
		return "object";
	case json_type_array:
		return "array";
	case json_type_string:
		return "string";
	default:
		return "null";
	}
}

/* Numbers as written (json-c keeps a double's text), anything else by its type. */
static const char *describe(char *buf, struct json_object *v)
{
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);
		if (i < 0)
			snprintf(buf, QBUF, "%" PRId64, i);
		else
			snprintf(buf, QBUF, "%" PRIu64, json_object_get_uint64(v));
	} else if (json_object_is_type(v, json_type_double)) {
		snprintf(buf, QBUF, "%.40s", json_object_to_json_string(v));
	} else if (json_object_is_type(v, json_type_string)) {
		snprintf(buf, QBUF, "string %s", Q(json_object_get_string(v)));
	} else {
		snprintf(buf, QBUF, "%s", jtype(v));
	}
	return buf;
}

/* Paths are cut at JP bytes; a cut path still reads fine in a message. */
static void jput(char *buf, const char *s)
{
	size_t o = strnlen(buf, JP - 1);
	size_t n = strnlen(s, JP - 1 - o);
	memcpy(buf + o, s, n);
	buf[o + n] = 0;
}

static void jkey(char *buf, const char *where, const char *key)
{
	buf[0] = 0;
	jput(buf, where);
	if (*where)
		jput(buf, ".");
	jput(buf, key);
}

static void jidx(char *buf, const char *where, size_t i)
{
	char num[32];
	snprintf(num, sizeof(num), "[%zu]", i);
	buf[0] = 0;
	jput(buf, where);
	jput(buf, num);
}

/* ---- typed readers: 0 absent, 1 read, negative on error ---- */

/* JSON null counts as absent, as Go's encoding/json (hence runc) treats it. */
static struct json_object *get(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

static int rd_obj(struct oci_config *c, struct json_object *v, const char *path)
{
	if (!json_object_is_type(v, json_type_object))
		return bad(c, path, "expected an object, got %s", jtype(v));
	return 1;
}

static int rd_arr(struct oci_config *c, struct json_object *v, const char *path, size_t *n)
{
	if (!json_object_is_type(v, json_type_array))
		return bad(c, path, "expected an array, got %s", jtype(v));
	*n = json_object_array_length(v);
	return 1;
}

static int rd_str(struct oci_config *c, struct json_object *v, const char *path, char **out)
{
	if (!json_object_is_type(v, json_type_string))
		return bad(c, path, "expected a string, got %s", jtype(v));
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (memchr(s, 0, n))
		return bad(c, path, "must not contain a NUL character");
	if (!(*out = arena_strndup(c, s, n)))
		return oom(c);
	return 1;
}

static int rd_int(struct oci_config *c, struct json_object *v, const char *path, int64_t min,
		  int64_t max, int64_t *out)
{
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);
		/* json-c stores values above INT64_MAX as uint64 and clamps get_int64. */
		bool huge = i == INT64_MAX && json_object_get_uint64(v) > INT64_MAX;
		if (!huge && i >= min && i <= max) {
			*out = i;
			return 1;
		}
	}
	return bad(c, path, "expected an integer from %" PRId64 " to %" PRId64 ", got %s", min, max,
		   describe((char[QBUF]){0}, v));
}

static int rd_u64(struct oci_config *c, struct json_object *v, const char *path, uint64_t *out)
{
	if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0) {
		*out = json_object_get_uint64(v);
		return 1;
	}
	return bad(c, path, "expected an integer from 0 to %" PRIu64 ", got %s", UINT64_MAX,
		   describe((char[QBUF]){0}, v));
}

enum { CHK_ABS = 1, CHK_ENV = 2 };

static int check_str(struct oci_config *c, const char *path, const char *s, unsigned chk)
{
	if ((chk & CHK_ABS) && s[0] != '/')
		return bad(c, path, "must be an absolute path, got %s", Q(s));
	if ((chk & CHK_ENV) && !strchr(s, '='))
		return bad(c, path, "expected \"KEY=value\", got %s", Q(s));
	return 0;
}

/* An array of strings into a NULL-terminated vector. */
static int rd_strv(struct oci_config *c, struct json_object *v, const char *path, unsigned chk,
		   char ***out, size_t *nout)
{
	size_t n;
	TRY(rd_arr(c, v, path, &n));
	char **a = arena_array(c, n + 1, sizeof(char *));
	if (!a)
		return oom(c);
	for (size_t i = 0; i < n; i++) {
		char p[JP];
		jidx(p, path, i);
		TRY(rd_str(c, json_object_array_get_idx(v, i), p, &a[i]));
		TRY(check_str(c, p, a[i], chk));
	}
	*out = a;
	if (nout)
		*nout = n;
	return 1;
}

/* An object of strings into key/value pairs, in document order. */
static int rd_kv(struct oci_config *c, struct json_object *v, const char *path, struct oci_kv **out,
		 size_t *nout)
{
	TRY(rd_obj(c, v, path));
	size_t n = (size_t)json_object_object_length(v), i = 0;
	struct oci_kv *a = arena_array(c, n, sizeof(*a));
	if (!a)
		return oom(c);
	json_object_object_foreach(v, key, val)
	{
		char p[JP];
		p[0] = 0;
		jput(p, path);
		jput(p, "[");
		jput(p, Q(key));
		jput(p, "]");
		if (!(a[i].key = arena_strndup(c, key, strlen(key))))
			return oom(c);
		TRY(rd_str(c, val, p, &a[i].value));
		i++;
	}
	*out = a;
	*nout = i;
	return 1;
}

/* Field readers: look `key` up in obj, whose path is `where`. */

static int f_str(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
		 bool required, unsigned chk, char **out)
{
	char p[JP];
	jkey(p, where, key);
	struct json_object *v = get(obj, key);
	if (!v)
		return required ? bad(c, p, "is required") : 0;
	TRY(rd_str(c, v, p, out));
	TRY(check_str(c, p, *out, chk));
	return 1;
}

static int f_bool(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
		  bool *out)
{
	struct json_object *v = get(obj, key);
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean)) {
		char p[JP];
		jkey(p, where, key);
		return bad(c, p, "expected a boolean, got %s", jtype(v));
	}
	*out = json_object_get_boolean(v);
	return 1;
}

static int f_int(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
		 bool required, int64_t min, int64_t max, int64_t *out)
{
	char p[JP];
	jkey(p, where, key);
	struct json_object *v = get(obj, key);
	if (!v)
		return required ? bad(c, p, "is required") : 0;
	return rd_int(c, v, p, min, max, out);
}

/*
 * An optional integer field straight into a struct member of any integer type:
 * evaluates to whether it was there, and returns from the caller on error.
 */
#define OPT_INT(dst, c, obj, where, key, min, max)                                                 \
	({                                                                                         \
		int64_t v_ = 0;                                                                    \
		int r_ = f_int(c, obj, where, key, false, min, max, &v_);                          \
		if (r_ < 0)                                                                        \
			return r_;                                                                 \
		if (r_)                                                                            \
			(dst) = (__typeof__(dst))v_;                                               \
		r_ > 0;                                                                            \
	})

static int f_u64(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
		 bool required, uint64_t *out)
{
	char p[JP];
	jkey(p, where, key);
	struct json_object *v = get(obj, key);
	if (!v)
		return required ? bad(c, p, "is required") : 0;
	return rd_u64(c, v, p, out);
}

static int f_strv(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
		  unsigned chk, char ***out, size_t *n)
{
	char p[JP];
	jkey(p, where, key);
	struct json_object *v = get(obj, key);
	if (!v)
		return 0;
	return rd_strv(c, v, p, chk, out, n);
}

/* Like f_strv, but an absent field gives an empty vector rather than NULL. */
static int f_strv0(struct oci_config *c, struct json_object *obj, const char *where,
		   const char *key, unsigned chk, char ***out, size_t *n)
{
	int r = f_strv(c, obj, where, key, chk, out, n);
	if (r == 0 && !(*out = arena_array(c, 1, sizeof(char *))))
		return oom(c);
	return r;
}

struct name_val {
	const char *name;
	unsigned long val;
};

static const struct name_val *lookup(const struct name_val *t, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, s) == 0)
			return &t[i];
	return NULL;
}

/* ---- process ---- */

static int parse_caps(struct oci_config *c, struct json_object *v, const char *where,
		      struct oci_caps *caps)
{
	static const struct {
		const char *name;
		size_t off;
	} sets[] = {
	    {"bounding", offsetof(struct oci_caps, bounding)},
	    {"effective", offsetof(struct oci_caps, effective)},
	    {"inheritable", offsetof(struct oci_caps, inheritable)},
	    {"permitted", offsetof(struct oci_caps, permitted)},
	    {"ambient", offsetof(struct oci_caps, ambient)},
	};
	TRY(rd_obj(c, v, where));
	caps->present = true;
	for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
		char p[JP], **names = NULL;
		jkey(p, where, sets[s].name);
		TRY(f_strv(c, v, where, sets[s].name, 0, &names, NULL));
		uint64_t *mask = (uint64_t *)((char *)caps + sets[s].off);
		for (size_t i = 0; names && names[i]; i++) {
			int cap = oci_cap_from_name(names[i]);
			if (cap >= 0 && cap < 64) {
				*mask |= 1ULL << cap;
				continue;
			}
			/* runc skips names its kernel does not know; so do we, loudly. */
			fprintf(stderr, "hull: warning: %s: ignoring unknown capability %s\n", p,
				Q(names[i]));
			caps->skipped_unknown = true;
		}
	}
	return 1;
}

static int parse_rlimits(struct oci_config *c, struct json_object *v, const char *path,
			 struct oci_process *p)
{
	size_t n;
	uint64_t seen = 0;
	TRY(rd_arr(c, v, path, &n));
	if (!(p->rlimits = arena_array(c, n, sizeof(*p->rlimits))))
		return oom(c);
	for (size_t i = 0; i < n; i++) {
		struct oci_rlimit *rl = &p->rlimits[i];
		struct json_object *e = json_object_array_get_idx(v, i);
		char w[JP], tp[JP], *type;
		jidx(w, path, i);
		jkey(tp, w, "type");
		TRY(rd_obj(c, e, w));
		TRY(f_str(c, e, w, "type", true, 0, &type));
		if ((rl->resource = oci_rlimit_from_name(type)) < 0)
			return bad(c, tp, "unknown rlimit type %s", Q(type));
		if (rl->resource < 64 && (seen & (1ULL << rl->resource)))
			return bad(c, tp, "duplicate rlimit type %s", Q(type));
		seen |= 1ULL << (rl->resource & 63);
		TRY(f_u64(c, e, w, "soft", true, &rl->soft));
		TRY(f_u64(c, e, w, "hard", true, &rl->hard));
		if (rl->soft > rl->hard)
			return bad(c, w,
				   "soft limit %" PRIu64 " is greater than hard limit %" PRIu64,
				   rl->soft, rl->hard);
	}
	p->n_rlimits = n;
	return 1;
}

static int parse_user(struct oci_config *c, struct json_object *v, const char *where,
		      struct oci_user *u)
{
	int64_t x;
	TRY(rd_obj(c, v, where));
	OPT_INT(u->uid, c, v, where, "uid", 0, UINT32_MAX);
	OPT_INT(u->gid, c, v, where, "gid", 0, UINT32_MAX);
	u->has_umask = OPT_INT(u->umask, c, v, where, "umask", 0, 0777);
	TRY(f_str(c, v, where, "username", false, 0, &u->username));

	struct json_object *g = get(v, "additionalGids");
	if (!g)
		return 1;
	char p[JP];
	size_t n;
	jkey(p, where, "additionalGids");
	TRY(rd_arr(c, g, p, &n));
	if (!(u->additional_gids = arena_array(c, n, sizeof(uint32_t))))
		return oom(c);
	for (size_t i = 0; i < n; i++) {
		char ep[JP];
		jidx(ep, p, i);
		TRY(rd_int(c, json_object_array_get_idx(g, i), ep, 0, UINT32_MAX, &x));
		u->additional_gids[i] = (uint32_t)x;
	}
	u->n_additional_gids = n;
	return 1;
}

static const struct name_val sched_policies[] = {
    {"SCHED_OTHER", SCHED_OTHER},	{"SCHED_FIFO", SCHED_FIFO}, {"SCHED_RR", SCHED_RR},
    {"SCHED_BATCH", SCHED_BATCH},	{"SCHED_ISO", 4},	    {"SCHED_IDLE", SCHED_IDLE},
    {"SCHED_DEADLINE", SCHED_DEADLINE},
};

static const struct name_val sched_flags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", SCHED_FLAG_RESET_ON_FORK},
    {"SCHED_FLAG_RECLAIM", SCHED_FLAG_RECLAIM},
    {"SCHED_FLAG_DL_OVERRUN", SCHED_FLAG_DL_OVERRUN},
    {"SCHED_FLAG_KEEP_POLICY", SCHED_FLAG_KEEP_POLICY},
    {"SCHED_FLAG_KEEP_PARAMS", SCHED_FLAG_KEEP_PARAMS},
    {"SCHED_FLAG_UTIL_CLAMP_MIN", SCHED_FLAG_UTIL_CLAMP_MIN},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", SCHED_FLAG_UTIL_CLAMP_MAX},
};

static int parse_scheduler(struct oci_config *c, struct json_object *v, const char *where,
			   struct oci_scheduler *s)
{
	char p[JP], *policy, **flags = NULL;
	TRY(rd_obj(c, v, where));
	TRY(f_str(c, v, where, "policy", true, 0, &policy));
	const struct name_val *nv = lookup(sched_policies, ARRAY_SIZE(sched_policies), policy);
	if (!nv) {
		jkey(p, where, "policy");
		return bad(c, p, "unknown scheduler policy %s", Q(policy));
	}
	s->policy = (int)nv->val;
	/* The checks runc makes, so a config fails the same way under both. */
	OPT_INT(s->nice, c, v, where, "nice", -20, 19);
	OPT_INT(s->priority, c, v, where, "priority", INT32_MIN, INT32_MAX);
	if (s->priority && s->policy != SCHED_FIFO && s->policy != SCHED_RR) {
		jkey(p, where, "priority");
		return bad(c, p, "can only be set with SCHED_FIFO or SCHED_RR, not %s", policy);
	}
	TRY(f_strv(c, v, where, "flags", 0, &flags, NULL));
	for (size_t i = 0; flags && flags[i]; i++) {
		if (!(nv = lookup(sched_flags, ARRAY_SIZE(sched_flags), flags[i]))) {
			char fp[JP];
			jkey(fp, where, "flags");
			jidx(p, fp, i);
			return bad(c, p, "unknown scheduler flag %s", Q(flags[i]));
		}
		s->flags |= nv->val;
	}
	static const char *const dl[] = {"runtime", "deadline", "period"};
	uint64_t *dv[] = {&s->runtime, &s->deadline, &s->period};
	for (size_t i = 0; i < ARRAY_SIZE(dl); i++) {
		TRY(f_u64(c, v, where, dl[i], false, dv[i]));
		if (*dv[i] && s->policy != SCHED_DEADLINE) {
			jkey(p, where, dl[i]);
			return bad(c, p, "can only be set with SCHED_DEADLINE, not %s", policy);
		}
	}
	return 1;
}

static int parse_ioprio(struct oci_config *c, struct json_object *v, const char *where,
			struct oci_process *p)
{
	static const struct name_val classes[] = {
	    {"IOPRIO_CLASS_RT", IOPRIO_CLASS_RT},
	    {"IOPRIO_CLASS_BE", IOPRIO_CLASS_BE},
	    {"IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE},
	};
	char *cls;
	TRY(rd_obj(c, v, where));
	TRY(f_str(c, v, where, "class", true, 0, &cls));
	const struct name_val *nv = lookup(classes, ARRAY_SIZE(classes), cls);
	if (!nv) {
		char pp[JP];
		jkey(pp, where, "class");
		return bad(c, pp, "unknown I/O priority class %s", Q(cls));
	}
	OPT_INT(p->ioprio_priority, c, v, where, "priority", 0, 7);
	p->has_io_priority = true;
	p->ioprio_class = (int)nv->val;
	return 1;
}

int oci_process_parse(struct oci_config *c, struct json_object *obj, const char *where,
		      struct oci_process *p)
{
	char w[JP];
	struct json_object *v;

	memset(p, 0, sizeof(*p));
	if (!where)
		where = "";
	TRY(rd_obj(c, obj, where));
	TRY(f_bool(c, obj, where, "terminal", &p->terminal));
	if ((v = get(obj, "consoleSize"))) {
		jkey(w, where, "consoleSize");
		TRY(rd_obj(c, v, w));
		OPT_INT(p->console_height, c, v, w, "height", 0, UINT_MAX);
		OPT_INT(p->console_width, c, v, w, "width", 0, UINT_MAX);
	}
	if ((v = get(obj, "user"))) {
		jkey(w, where, "user");
		TRY(parse_user(c, v, w, &p->user));
	}
	jkey(w, where, "args");
	if (!(v = get(obj, "args")))
		return bad(c, w, "is required");
	TRY(rd_strv(c, v, w, 0, &p->args, &p->n_args));
	if (!p->n_args)
		return bad(c, w, "must not be empty");
	TRY(f_strv0(c, obj, where, "env", CHK_ENV, &p->env, &p->n_env));
	TRY(f_str(c, obj, where, "cwd", true, CHK_ABS, &p->cwd));
	if ((v = get(obj, "capabilities"))) {
		jkey(w, where, "capabilities");
		TRY(parse_caps(c, v, w, &p->caps));
	}
	if ((v = get(obj, "rlimits"))) {
		jkey(w, where, "rlimits");
		TRY(parse_rlimits(c, v, w, p));
	}
	TRY(f_bool(c, obj, where, "noNewPrivileges", &p->no_new_privileges));
	p->has_oom_score_adj = OPT_INT(p->oom_score_adj, c, obj, where, "oomScoreAdj", -1000, 1000);
	TRY(f_str(c, obj, where, "apparmorProfile", false, 0, &p->apparmor_profile));
	TRY(f_str(c, obj, where, "selinuxLabel", false, 0, &p->selinux_label));
	if ((v = get(obj, "ioPriority"))) {
		jkey(w, where, "ioPriority");
		TRY(parse_ioprio(c, v, w, p));
	}
	if ((v = get(obj, "scheduler"))) {
		jkey(w, where, "scheduler");
		TRY(parse_scheduler(c, v, w, &p->scheduler));
		p->has_scheduler = true;
	}
	return 0;
}

/* ---- mounts, hooks ---- */

static int f_idmaps(struct oci_config *c, struct json_object *obj, const char *where,
		    const char *key, struct oci_idmap **out, size_t *nout)
{
	char p[JP];
	size_t n;
	struct json_object *v = get(obj, key);
	if (!v)
		return 0;
	jkey(p, where, key);
	TRY(rd_arr(c, v, p, &n));
	struct oci_idmap *a = arena_array(c, n, sizeof(*a));
	if (!a)
		return oom(c);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		char w[JP];
		int64_t cid, hid, size;
		jidx(w, p, i);
		TRY(rd_obj(c, e, w));
		TRY(f_int(c, e, w, "containerID", true, 0, UINT32_MAX, &cid));
		TRY(f_int(c, e, w, "hostID", true, 0, UINT32_MAX, &hid));
		TRY(f_int(c, e, w, "size", true, 1, UINT32_MAX, &size));
		a[i] = (struct oci_idmap){(uint32_t)cid, (uint32_t)hid, (uint32_t)size};
	}
	*out = a;
	*nout = n;
	return 1;
}

static int parse_mounts(struct oci_config *c, struct json_object *v)
{
	size_t n;
	TRY(rd_arr(c, v, "mounts", &n));
	if (!(c->mounts = arena_array(c, n, sizeof(*c->mounts))))
		return oom(c);
	for (size_t i = 0; i < n; i++) {
		struct oci_mount *m = &c->mounts[i];
		struct json_object *e = json_object_array_get_idx(v, i);
		char w[JP], p[JP];
		jidx(w, "mounts", i);
		TRY(rd_obj(c, e, w));
		TRY(f_str(c, e, w, "destination", true, CHK_ABS, &m->destination));
		TRY(f_str(c, e, w, "type", false, 0, &m->type));
		TRY(f_str(c, e, w, "source", false, 0, &m->source));
		TRY(f_strv0(c, e, w, "options", 0, &m->options, NULL));
		TRY(f_idmaps(c, e, w, "uidMappings", &m->uid_mappings, &m->n_uid_mappings));
		TRY(f_idmaps(c, e, w, "gidMappings", &m->gid_mappings, &m->n_gid_mappings));
		jkey(p, w, "options");
		TRY(oci_mount_parse_options(m, c->path, p));
		if (m->data) {
			char *d = arena_strndup(c, m->data, strlen(m->data));
			free(m->data);
			if (!(m->data = d))
				return oom(c);
		}
		c->n_mounts = i + 1;
	}
	return 1;
}

static const char *const hook_names[OCI_HOOK_COUNT] = {
    [OCI_HOOK_PRESTART] = "prestart",
    [OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
    [OCI_HOOK_CREATE_CONTAINER] = "createContainer",
    [OCI_HOOK_START_CONTAINER] = "startContainer",
    [OCI_HOOK_POSTSTART] = "poststart",
    [OCI_HOOK_POSTSTOP] = "poststop",
};

static int parse_hooks(struct oci_config *c, struct json_object *v)
{
	TRY(rd_obj(c, v, "hooks"));
	c->hooks_json = v;
	for (int k = 0; k < OCI_HOOK_COUNT; k++) {
		struct json_object *a = get(v, hook_names[k]);
		struct oci_hook_list *l = &c->hooks[k];
		char p[JP];
		size_t n;
		if (!a)
			continue;
		jkey(p, "hooks", hook_names[k]);
		TRY(rd_arr(c, a, p, &n));
		if (!(l->v = arena_array(c, n, sizeof(*l->v))))
			return oom(c);
		for (size_t i = 0; i < n; i++) {
			struct oci_hook *h = &l->v[i];
			struct json_object *e = json_object_array_get_idx(a, i);
			char w[JP];
			jidx(w, p, i);
			TRY(rd_obj(c, e, w));
			TRY(f_str(c, e, w, "path", true, CHK_ABS, &h->path));
			TRY(f_strv(c, e, w, "args", 0, &h->args, NULL));
			TRY(f_strv(c, e, w, "env", CHK_ENV, &h->env, NULL));
			OPT_INT(h->timeout, c, e, w, "timeout", 1, INT_MAX);
		}
		l->n = n;
	}
	return 1;
}

/* ---- linux ---- */

static int parse_namespaces(struct oci_config *c, struct json_object *v, const char *path)
{
	size_t n;
	TRY(rd_arr(c, v, path, &n));
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		char w[JP], tp[JP], *type, *nspath = NULL;
		int ns;
		jidx(w, path, i);
		jkey(tp, w, "type");
		TRY(rd_obj(c, e, w));
		TRY(f_str(c, e, w, "type", true, 0, &type));
		for (ns = 0; ns < OCI_NS_COUNT; ns++)
			if (strcmp(type, oci_ns_name(ns)) == 0)
				break;
		if (ns == OCI_NS_COUNT)
			return bad(c, tp, "unknown namespace type %s", Q(type));
		if (c->linux.ns[ns].present)
			return bad(c, tp, "duplicate namespace type %s", Q(type));
		TRY(f_str(c, e, w, "path", false, 0, &nspath));
		/* Go tools write "" for "no path"; anything else must name a file absolutely. */
		if (nspath && *nspath) {
			char pp[JP];
			jkey(pp, w, "path");
			TRY(check_str(c, pp, nspath, CHK_ABS));
		} else {
			nspath = NULL;
		}
		c->linux.ns[ns] = (struct oci_namespace){true, nspath};
	}
	return 1;
}

static int parse_time_offsets(struct oci_config *c, struct json_object *v, const char *path)
{
	TRY(rd_obj(c, v, path));
	json_object_object_foreach(v, key, val)
	{
		struct oci_time_offset *t;
		char w[JP];
		int64_t secs = 0, ns = 0;
		if (strcmp(key, "monotonic") == 0)
			t = &c->linux.time_monotonic;
		else if (strcmp(key, "boottime") == 0)
			t = &c->linux.time_boottime;
		else
			return bad(c, path,
				   "unknown clock %s (expected \"monotonic\" or \"boottime\")",
				   Q(key));
		jkey(w, path, key);
		if (json_object_is_type(val, json_type_null))
			continue;
		TRY(rd_obj(c, val, w));
		TRY(f_int(c, val, w, "secs", false, INT64_MIN, INT64_MAX, &secs));
		TRY(f_int(c, val, w, "nanosecs", false, 0, 999999999, &ns));
		*t = (struct oci_time_offset){true, secs, (uint32_t)ns};
	}
	return 1;
}

static int parse_devices(struct oci_config *c, struct json_object *v, const char *path)
{
	size_t n;
	TRY(rd_arr(c, v, path, &n));
	if (!(c->linux.devices = arena_array(c, n, sizeof(*c->linux.devices))))
		return oom(c);
	for (size_t i = 0; i < n; i++) {
		struct oci_device *d = &c->linux.devices[i];
		struct json_object *e = json_object_array_get_idx(v, i);
		char w[JP], tp[JP], *type;
		jidx(w, path, i);
		jkey(tp, w, "type");
		TRY(rd_obj(c, e, w));
		TRY(f_str(c, e, w, "path", true, CHK_ABS, &d->path));
		TRY(f_str(c, e, w, "type", true, 0, &type));
		if (strlen(type) != 1 || !strchr("cbup", type[0]))
			return bad(c, tp, "expected \"c\", \"b\", \"u\" or \"p\", got %s", Q(type));
		d->type = type[0];
		/* A fifo has no device number; the others cannot be made without one. */
		bool need = d->type != 'p';
		TRY(f_int(c, e, w, "major", need, 0, UINT32_MAX, &d->major));
		TRY(f_int(c, e, w, "minor", need, 0, UINT32_MAX, &d->minor));
		/* Some tools pass a whole st_mode or Go FileMode; only permission bits count. */
		d->has_mode = OPT_INT(d->file_mode, c, e, w, "fileMode", 0, UINT32_MAX);
		d->file_mode &= 07777;
		d->has_uid = OPT_INT(d->uid, c, e, w, "uid", 0, UINT32_MAX);
		d->has_gid = OPT_INT(d->gid, c, e, w, "gid", 0, UINT32_MAX);
		c->linux.n_devices = i + 1;
	}
	return 1;
}

static const struct name_val propagations[] = {
    {"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
    {"slave", MS_SLAVE},	   {"rslave", MS_SLAVE | MS_REC},
    {"shared", MS_SHARED},	   {"rshared", MS_SHARED | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static int parse_personality(struct oci_config *c, struct json_object *v, const char *path)
{
	char *domain, **flags = NULL, p[JP];
	TRY(rd_obj(c, v, path));
	TRY(f_str(c, v, path, "domain", true, 0, &domain));
	if (strcmp(domain, "LINUX") == 0) {
		c->linux.personality = PER_LINUX;
	} else if (strcmp(domain, "LINUX32") == 0) {
		c->linux.personality = PER_LINUX32;
	} else {
		jkey(p, path, "domain");
		return bad(c, p, "unknown personality domain %s (expected LINUX or LINUX32)",
			   Q(domain));
	}
	TRY(f_strv(c, v, path, "flags", 0, &flags, NULL));
	/* The spec defines no flag values yet; runc warns and goes on. */
	jkey(p, path, "flags");
	for (size_t i = 0; flags && flags[i]; i++)
		fprintf(stderr, "hull: warning: %s: ignoring unsupported personality flag %s\n", p,
			Q(flags[i]));
	c->linux.has_personality = true;
	return 1;
}

static int parse_linux(struct oci_config *c, struct json_object *l)
{
	struct oci_linux *x = &c->linux;
	struct json_object *v;
	const char *w = "linux";
	TRY(rd_obj(c, l, w));
	if ((v = get(l, "namespaces")))
		TRY(parse_namespaces(c, v, "linux.namespaces"));
	TRY(f_idmaps(c, l, w, "uidMappings", &x->uid_mappings, &x->n_uid_mappings));
	TRY(f_idmaps(c, l, w, "gidMappings", &x->gid_mappings, &x->n_gid_mappings));
	if ((v = get(l, "timeOffsets")))
		TRY(parse_time_offsets(c, v, "linux.timeOffsets"));
	if ((v = get(l, "devices")))
		TRY(parse_devices(c, v, "linux.devices"));
	TRY(f_str(c, l, w, "cgroupsPath", false, 0, &x->cgroups_path));
	if ((v = get(l, "resources"))) {
		TRY(rd_obj(c, v, "linux.resources"));
		x->resources = v;
	}
	if ((v = get(l, "seccomp"))) {
		TRY(rd_obj(c, v, "linux.seccomp"));
		x->seccomp = v;
	}
	TRY(f_str(c, l, w, "rootfsPropagation", false, 0, &x->rootfs_propagation));
	if (x->rootfs_propagation && *x->rootfs_propagation) {
		const struct name_val *nv =
		    lookup(propagations, ARRAY_SIZE(propagations), x->rootfs_propagation);
		if (!nv)
			return bad(c, "linux.rootfsPropagation",
				   "unknown propagation %s (expected private, rprivate, slave, "
				   "rslave, shared, rshared, unbindable or runbindable)",
				   Q(x->rootfs_propagation));
		x->rootfs_propagation_flags = nv->val;
	}
	TRY(f_strv0(c, l, w, "maskedPaths", CHK_ABS, &x->masked_paths, &x->n_masked_paths));
	TRY(f_strv0(c, l, w, "readonlyPaths", CHK_ABS, &x->readonly_paths, &x->n_readonly_paths));
	if ((v = get(l, "sysctl")))
		TRY(rd_kv(c, v, "linux.sysctl", &x->sysctl, &x->n_sysctl));
	if ((v = get(l, "personality")))
		TRY(parse_personality(c, v, "linux.personality"));
	TRY(f_str(c, l, w, "mountLabel", false, 0, &x->mount_label));
	return 1;
}

/* ---- document ---- */

/*
 * Count containers and values outside strings before json-c builds anything,
 * so an absurd document fails in one linear pass instead of exhausting memory.
 */
static int check_complexity(struct oci_config *c, const char *data, size_t len)
{
	size_t containers = 0, values = 0;
	bool in_str = false;
	for (size_t i = 0; i < len; i++) {
		char ch = data[i];
		if (in_str) {
			if (ch == '\\')
				i++;
			else if (ch == '"')
				in_str = false;
			continue;
		}
		if (ch == '"')
			in_str = true;
		else if (ch == '{' || ch == '[')
			containers++;
		else if (ch == ',' || ch == ':')
			values++;
	}
	if (containers > MAX_CONTAINERS)
		return herr_set(E2BIG, "%s: too complex: more than %d objects and arrays", c->path,
				MAX_CONTAINERS);
	if (values > MAX_VALUES)
		return herr_set(E2BIG, "%s: too complex: more than %d values", c->path, MAX_VALUES);
	return 0;
}

static int parse_json(struct oci_config *c, const char *data, size_t len)
{
	if (len > MAX_BYTES)
		return herr_set(EFBIG, "%s: too large (%zu bytes; the limit is %u)", c->path, len,
				MAX_BYTES);
	TRY(check_complexity(c, data, len));
	struct json_tokener *tok = json_tokener_new_ex(MAX_DEPTH);
	if (!tok)
		return oom(c);
	/* Strict: no trailing commas, comments or garbage after the document. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	c->json = json_tokener_parse_ex(tok, data, (int)len);
	enum json_tokener_error err = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	bool at_eof = false;
	if (!c->json && err == json_tokener_continue) {
		/* A NUL tells json-c the input is over: "null" or "1" only end there. */
		c->json = json_tokener_parse_ex(tok, "", 1);
		err = json_tokener_get_error(tok);
		at_eof = true;
		end = len;
	}
	json_tokener_free(tok);
	if (!c->json && err == json_tokener_success)
		return bad(c, "", "expected a JSON object, got null");
	if (c->json && !at_eof) {
		/* json-c stops at a NUL byte; only whitespace may follow the document. */
		while (end < len && strchr(" \t\r\n", data[end]) && data[end])
			end++;
		if (end < len)
			err = json_tokener_error_parse_unexpected;
	}
	if (err != json_tokener_success) {
		const char *why = at_eof ? "unexpected end of input" : json_tokener_error_desc(err);
		if (end > len)
			end = len;
		size_t line = 1, col = 1;
		for (size_t i = 0; i < end; i++) {
			if (data[i] == '\n') {
				line++;
				col = 1;
			} else {
				col++;
			}
		}
		return herr_set(EINVAL, "%s: invalid JSON at line %zu, column %zu: %s", c->path,
				line, col, why);
	}
	if (!json_object_is_type(c->json, json_type_object))
		return bad(c, "", "expected a JSON object, got %s", jtype(c->json));
	return 0;
}

static int parse_document(struct oci_config *c)
{
	struct json_object *doc = c->json, *v;
	TRY(f_str(c, doc, "", "ociVersion", true, 0, &c->oci_version));
	if (!(v = get(doc, "root")))
		return bad(c, "root.path", "is required");
	TRY(rd_obj(c, v, "root"));
	TRY(f_str(c, v, "root", "path", true, 0, &c->root_path));
	if (!*c->root_path)
		return bad(c, "root.path", "must not be empty");
	TRY(f_bool(c, v, "root", "readonly", &c->root_readonly));
	TRY(f_str(c, doc, "", "hostname", false, 0, &c->hostname));
	TRY(f_str(c, doc, "", "domainname", false, 0, &c->domainname));
	if ((v = get(doc, "process"))) {
		if (!(c->process = arena_alloc(c, sizeof(*c->process))))
			return oom(c);
		TRY(oci_process_parse(c, v, "process", c->process));
	}
	if ((v = get(doc, "mounts")))
		TRY(parse_mounts(c, v));
	if ((v = get(doc, "hooks")))
		TRY(parse_hooks(c, v));
	if ((v = get(doc, "annotations"))) {
		TRY(rd_kv(c, v, "annotations", &c->annotations, &c->n_annotations));
		c->annotations_json = v;
	}
	if ((v = get(doc, "linux")))
		TRY(parse_linux(c, v));
	return 0;
}

int oci_config_parse(const char *data, size_t len, const char *filename, struct oci_config **out)
{
	*out = NULL;
	if (!filename)
		filename = "config.json";
	if (!data)
		len = 0, data = "";
	_cleanup_config_ struct oci_config *c = calloc(1, sizeof(*c));
	if (!c)
		return herr_set(ENOMEM, "%s: out of memory", filename);
	if (!(c->path = arena_strndup(c, filename, strlen(filename))))
		return herr_set(ENOMEM, "%s: out of memory", filename);
	TRY(parse_json(c, data, len));
	TRY(parse_document(c));
	*out = take_ptr(c);
	return 0;
}

int oci_config_load(const char *bundle, struct oci_config **out)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;

	*out = NULL;
	if (asprintf(&path, "%s/config.json", bundle) < 0) {
		path = NULL;
		return herr_set(ENOMEM, "out of memory");
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return herr_sys("%s", path);
	if (fstat(fd, &st) < 0)
		return herr_sys("%s", path);
	if (!S_ISREG(st.st_mode))
		return herr_set(EINVAL, "%s: not a regular file", path);
	if ((uint64_t)st.st_size > MAX_BYTES)
		return herr_set(EFBIG, "%s: too large (%jd bytes; the limit is %u)", path,
				(intmax_t)st.st_size, MAX_BYTES);

	/* Read to EOF rather than trusting st_size: the file may change under us. */
	size_t cap = (size_t)st.st_size + 1, len = 0;
	if (!(buf = malloc(cap)))
		return herr_set(ENOMEM, "%s: out of memory", path);
	for (;;) {
		if (len == cap) {
			if (cap > MAX_BYTES)
				return herr_set(EFBIG, "%s: too large (the limit is %u bytes)",
						path, MAX_BYTES);
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				return herr_set(ENOMEM, "%s: out of memory", path);
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return herr_sys("%s: read", path);
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return oci_config_parse(buf, len, path, out);
}

void oci_config_free(struct oci_config *c)
{
	if (!c)
		return;
	json_object_put(c->json);
	arena_free(c->arena);
	free(c);
}
