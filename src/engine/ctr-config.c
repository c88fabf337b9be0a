/*
 * struct ctr_config to and from the record's "Config" object. Keys are
 * docker's where docker has the setting (its Config and HostConfig merged),
 * so `deck inspect` reads familiar. Every key is written, null for "not
 * given", so that a record read back is the config that was saved: NULL and
 * an empty list differ, and so do [""] and NULL for the entrypoint.
 */
#include "engine/container.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

enum kind { K_STR, K_STRV, K_BOOL, K_I64, K_INT, K_NANOCPUS, K_LABELS };

struct field {
	const char *key;
	enum kind kind;
	size_t off;
};

#define F(k, kind, member)                                                                         \
	{                                                                                          \
		k, kind, offsetof(struct ctr_config, member)                                       \
	}

static const struct field fields[] = {
    F("Image", K_STR, image),
    F("Entrypoint", K_STRV, entrypoint),
    F("Cmd", K_STRV, cmd),
    F("Env", K_STRV, env),
    F("WorkingDir", K_STR, workdir),
    F("User", K_STR, user),
    F("Hostname", K_STR, hostname),
    F("Tty", K_BOOL, tty),
    F("OpenStdin", K_BOOL, interactive),
    F("AutoRemove", K_BOOL, autoremove),
    F("ReadonlyRootfs", K_BOOL, read_only),
    F("Init", K_BOOL, init),
    F("NoNewPrivileges", K_BOOL, no_new_privs),
    F("Binds", K_STRV, volumes),
    F("Tmpfs", K_STRV, tmpfs),
    F("Memory", K_I64, memory),
    F("MemorySwap", K_I64, memory_swap),
    F("NanoCpus", K_NANOCPUS, cpus),
    F("PidsLimit", K_I64, pids_limit),
    F("CapAdd", K_STRV, cap_add),
    F("CapDrop", K_STRV, cap_drop),
    F("Seccomp", K_STR, seccomp),
    F("NetworkMode", K_STR, network),
    F("PortSpecs", K_STRV, publish),
    F("ExtraHosts", K_STRV, add_hosts),
    F("Dns", K_STRV, dns),
    F("StopSignal", K_STR, stop_signal),
    F("StopTimeout", K_INT, stop_timeout),
    F("CgroupParent", K_STR, cgroup_parent),
    F("LogDriver", K_STR, log_driver),
    F("LogMaxSize", K_I64, log_max_size),
    F("Runtime", K_STR, runtime),
    F("Labels", K_LABELS, labels),
};

#define AT(c, f, type) ((type *)((char *)(c) + (f)->off))

void ctr_config_clear(struct ctr_config *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const struct field *f = &fields[i];
		if (f->kind == K_STR)
			free(*AT(c, f, char *));
		else if (f->kind == K_STRV || f->kind == K_LABELS)
			strv_free(*AT(c, f, char **));
	}
	*c = (struct ctr_config){.stop_timeout = -1};
}

static struct json_object *strv_to_json(char **v)
{
	if (!v)
		return NULL; /* a JSON null */
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; a && v[i]; i++) {
		struct json_object *s = json_object_new_string(v[i]);
		if (!s || json_object_array_add(a, s) < 0) {
			json_object_put(s);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

/* "K=V" entries as docker's Labels object; a later K replaces an earlier one. */
static struct json_object *labels_to_json(char **v)
{
	if (!v)
		return NULL;
	struct json_object *o = json_object_new_object();
	for (size_t i = 0; o && v[i]; i++) {
		const char *eq = strchr(v[i], '=');
		_cleanup_free_ char *k = strndup(v[i], eq ? (size_t)(eq - v[i]) : strlen(v[i]));
		struct json_object *s = json_object_new_string(eq ? eq + 1 : "");
		if (!k || !s || json_object_object_add(o, k, s) < 0) {
			json_object_put(s);
			json_object_put(o);
			return NULL;
		}
	}
	return o;
}

struct json_object *ctr_config_to_json(const struct ctr_config *c)
{
	struct json_object *o = json_object_new_object();
	if (!o)
		goto oom;
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const struct field *f = &fields[i];
		struct json_object *v = NULL;
		bool is_null = false;
		switch (f->kind) {
		case K_STR: {
			const char *s = *AT(c, f, char *const);
			is_null = !s;
			v = s ? json_object_new_string(s) : NULL;
			break;
		}
		case K_STRV:
			is_null = !*AT(c, f, char **const);
			v = strv_to_json(*AT(c, f, char **const));
			break;
		case K_LABELS:
			is_null = !*AT(c, f, char **const);
			v = labels_to_json(*AT(c, f, char **const));
			break;
		case K_BOOL:
			v = json_object_new_boolean(*AT(c, f, const bool));
			break;
		case K_I64:
			v = json_object_new_int64(*AT(c, f, const int64_t));
			break;
		case K_INT:
			v = json_object_new_int(*AT(c, f, const int));
			break;
		case K_NANOCPUS:
			/* As docker keeps it: exact for any --cpus with up to 9 decimals. */
			v = json_object_new_int64((int64_t)(*AT(c, f, const double) * 1e9 + 0.5));
			break;
		}
		if ((!v && !is_null) || json_object_object_add(o, f->key, v) < 0) {
			json_object_put(v);
			goto oom;
		}
	}
	return o;
oom:
	json_object_put(o);
	herr_set(ENOMEM, "out of memory");
	return NULL;
}

static int bad_type(const char *key, const char *what)
{
	return herr_set(EINVAL, "container config: %s: not %s", key, what);
}

static int strv_from_json(struct json_object *v, const char *key, char ***out)
{
	if (!json_object_is_type(v, json_type_array))
		return bad_type(key, "an array");
	_cleanup_strv_ char **r = calloc(1, sizeof(*r));
	if (!r)
		return herr_set(ENOMEM, "out of memory");
	for (size_t i = 0, n = json_object_array_length(v); i < n; i++) {
		struct json_object *s = json_object_array_get_idx(v, i);
		if (!json_object_is_type(s, json_type_string))
			return herr_set(EINVAL, "container config: %s[%zu]: not a string", key, i);
		if (strv_push(&r, json_object_get_string(s)) < 0)
			return herr_set(ENOMEM, "out of memory");
	}
	*out = take_ptr(r);
	return 0;
}

static int labels_from_json(struct json_object *v, const char *key, char ***out)
{
	if (!json_object_is_type(v, json_type_object))
		return bad_type(key, "an object");
	_cleanup_strv_ char **r = calloc(1, sizeof(*r));
	if (!r)
		return herr_set(ENOMEM, "out of memory");
	json_object_object_foreach(v, k, s)
	{
		if (!json_object_is_type(s, json_type_string))
			return herr_set(EINVAL, "container config: %s.%s: not a string", key, k);
		_cleanup_free_ char *kv = NULL;
		if (asprintf(&kv, "%s=%s", k, json_object_get_string(s)) < 0 ||
		    strv_push(&r, kv) < 0)
			return herr_set(ENOMEM, "out of memory");
	}
	*out = take_ptr(r);
	return 0;
}

static int field_from_json(struct json_object *v, const struct field *f, struct ctr_config *c)
{
	switch (f->kind) {
	case K_STR:
		if (!json_object_is_type(v, json_type_string))
			return bad_type(f->key, "a string");
		*AT(c, f, char *) = strdup(json_object_get_string(v));
		return *AT(c, f, char *) ? 0 : herr_set(ENOMEM, "out of memory");
	case K_STRV:
		return strv_from_json(v, f->key, AT(c, f, char **));
	case K_LABELS:
		return labels_from_json(v, f->key, AT(c, f, char **));
	case K_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			return bad_type(f->key, "a boolean");
		*AT(c, f, bool) = json_object_get_boolean(v);
		return 0;
	case K_I64:
	case K_INT:
	case K_NANOCPUS:
		break;
	}
	if (!json_object_is_type(v, json_type_int))
		return bad_type(f->key, "an integer");
	errno = 0;
	int64_t n = json_object_get_int64(v);
	if (errno == EINVAL || (n == INT64_MAX && errno))
		return bad_type(f->key, "a 64-bit integer");
	if (f->kind == K_I64) {
		*AT(c, f, int64_t) = n;
	} else if (f->kind == K_INT) {
		if (n < -1 || n > INT32_MAX)
			return herr_set(EINVAL, "container config: %s: %jd out of range", f->key,
					(intmax_t)n);
		*AT(c, f, int) = (int)n;
	} else {
		*AT(c, f, double) = (double)n / 1e9;
	}
	return 0;
}

int ctr_config_from_json(struct json_object *o, struct ctr_config *c)
{
	*c = (struct ctr_config){.stop_timeout = -1};
	if (!json_object_is_type(o, json_type_object))
		return herr_set(EINVAL, "container config: not an object");
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		struct json_object *v;
		/* Missing and null alike: not given (a record of an older deck). */
		if (!json_object_object_get_ex(o, fields[i].key, &v) || !v)
			continue;
		int r = field_from_json(v, &fields[i], c);
		if (r < 0) {
			ctr_config_clear(c);
			return r;
		}
	}
	return 0;
}
