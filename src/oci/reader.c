/*
 * The reading half of the config parser: the arena every parsed string and
 * array lives in, error messages that name the file and the JSON path, and
 * readers that type- and range-check each value they copy out of the tree.
 */
#include "reader.h"
#include "common/error.h"
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

/* ---- arena ---- */

struct block {
	struct block *next;
	size_t used, cap;
	max_align_t data[];
};

#define ARENA_BLOCK 16384
#define ALIGN	    (sizeof(max_align_t))

void *arena_alloc(struct oci_config *c, size_t size)
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

void *arena_array(struct oci_config *c, size_t n, size_t size)
{
	if (n && size > SIZE_MAX / 2 / n)
		return NULL;
	return arena_alloc(c, n ? n * size : 1);
}

char *arena_strndup(struct oci_config *c, const char *s, size_t n)
{
	char *d = arena_alloc(c, n + 1);
	if (d)
		memcpy(d, s, n);
	return d;
}

void arena_free(void *arena)
{
	for (struct block *b = arena, *next; b; b = next) {
		next = b->next;
		free(b);
	}
}

/* ---- messages ---- */

int cfg_oom(struct oci_config *c)
{
	return herr_set(ENOMEM, "%s: out of memory", c->path ? c->path : "config");
}

int cfg_bad(struct oci_config *c, const char *path, const char *fmt, ...)
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

/* Paths are cut at JP bytes; a cut path still reads fine in a message. */
void jput(char *buf, const char *s)
{
	size_t o = strnlen(buf, JP - 1);
	size_t n = strnlen(s, JP - 1 - o);
	memcpy(buf + o, s, n);
	buf[o + n] = 0;
}

void jkey(char *buf, const char *where, const char *key)
{
	buf[0] = 0;
	jput(buf, where);
	if (*where)
		jput(buf, ".");
	jput(buf, key);
}

void jidx(char *buf, const char *where, size_t i)
{
	char num[32];
	snprintf(num, sizeof(num), "[%zu]", i);
	buf[0] = 0;
	jput(buf, where);
	jput(buf, num);
}

/* ---- typed readers: 0 absent, 1 read, negative on error ---- */

/* JSON null counts as absent, as Go's encoding/json (hence runc) treats it. */
struct json_object *jget(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

int rd_obj(struct oci_config *c, struct json_object *v, const char *path)
{
	if (!json_object_is_type(v, json_type_object))
		return cfg_bad(c, path, "expected an object, got %s", jtype(v));
	return 1;
}

int rd_arr(struct oci_config *c, struct json_object *v, const char *path, size_t *n)
{
	if (!json_object_is_type(v, json_type_array))
		return cfg_bad(c, path, "expected an array, got %s", jtype(v));
	*n = json_object_array_length(v);
	return 1;
}

int rd_str(struct oci_config *c, struct json_object *v, const char *path, char **out)
{
	if (!json_object_is_type(v, json_type_string))
		return cfg_bad(c, path, "expected a string, got %s", jtype(v));
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (memchr(s, 0, n))
		return cfg_bad(c, path, "must not contain a NUL character");
	if (!(*out = arena_strndup(c, s, n)))
		return cfg_oom(c);
	return 1;
}

int rd_int(struct oci_config *c, struct json_object *v, const char *path, int64_t min, int64_t max,
	   int64_t *out)
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
	return cfg_bad(c, path, "expected an integer from %" PRId64 " to %" PRId64 ", got %s", min,
		       max, JD_DESCRIBE(v));
}

int rd_u64(struct oci_config *c, struct json_object *v, const char *path, uint64_t *out)
{
	if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0) {
		*out = json_object_get_uint64(v);
		return 1;
	}
	return cfg_bad(c, path, "expected an integer from 0 to %" PRIu64 ", got %s", UINT64_MAX,
		       JD_DESCRIBE(v));
}

int check_str(struct oci_config *c, const char *path, const char *s, unsigned chk)
{
	if ((chk & CHK_ABS) && s[0] != '/')
		return cfg_bad(c, path, "must be an absolute path, got %s", Q(s));
	if ((chk & CHK_ENV) && !strchr(s, '='))
		return cfg_bad(c, path, "expected \"KEY=value\", got %s", Q(s));
	return 0;
}

/* An array of strings into a NULL-terminated vector. */
int rd_strv(struct oci_config *c, struct json_object *v, const char *path, unsigned chk,
	    char ***out, size_t *nout)
{
	size_t n;
	TRY(rd_arr(c, v, path, &n));
	char **a = arena_array(c, n + 1, sizeof(char *));
	if (!a)
		return cfg_oom(c);
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
int rd_kv(struct oci_config *c, struct json_object *v, const char *path, struct oci_kv **out,
	  size_t *nout)
{
	TRY(rd_obj(c, v, path));
	size_t n = (size_t)json_object_object_length(v), i = 0;
	struct oci_kv *a = arena_array(c, n, sizeof(*a));
	if (!a)
		return cfg_oom(c);
	json_object_object_foreach(v, key, val)
	{
		char p[JP];
		p[0] = 0;
		jput(p, path);
		jput(p, "[");
		jput(p, Q(key));
		jput(p, "]");
		if (!(a[i].key = arena_strndup(c, key, strlen(key))))
			return cfg_oom(c);
		TRY(rd_str(c, val, p, &a[i].value));
		i++;
	}
	*out = a;
	*nout = i;
	return 1;
}

/* Field readers: look `key` up in obj, whose path is `where`. */

int f_str(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
	  bool required, unsigned chk, char **out)
{
	char p[JP];
	jkey(p, where, key);
	struct json_object *v = jget(obj, key);
	if (!v)
		return required ? cfg_bad(c, p, "is required") : 0;
	TRY(rd_str(c, v, p, out));
	TRY(check_str(c, p, *out, chk));
	return 1;
}

int f_bool(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
	   bool *out)
{
	struct json_object *v = jget(obj, key);
	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean)) {
		char p[JP];
		jkey(p, where, key);
		return cfg_bad(c, p, "expected a boolean, got %s", jtype(v));
	}
	*out = json_object_get_boolean(v);
	return 1;
}

int f_int(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
	  bool required, int64_t min, int64_t max, int64_t *out)
{
	char p[JP];
	jkey(p, where, key);
	struct json_object *v = jget(obj, key);
	if (!v)
		return required ? cfg_bad(c, p, "is required") : 0;
	return rd_int(c, v, p, min, max, out);
}

int f_u64(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
	  bool required, uint64_t *out)
{
	char p[JP];
	jkey(p, where, key);
	struct json_object *v = jget(obj, key);
	if (!v)
		return required ? cfg_bad(c, p, "is required") : 0;
	return rd_u64(c, v, p, out);
}

int f_strv(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
	   unsigned chk, char ***out, size_t *n)
{
	char p[JP];
	jkey(p, where, key);
	struct json_object *v = jget(obj, key);
	if (!v)
		return 0;
	return rd_strv(c, v, p, chk, out, n);
}

/* Like f_strv, but an absent field gives an empty vector rather than NULL. */
int f_strv0(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
	    unsigned chk, char ***out, size_t *n)
{
	int r = f_strv(c, obj, where, key, chk, out, n);
	if (r == 0 && !(*out = arena_array(c, 1, sizeof(char *))))
		return cfg_oom(c);
	return r;
}

const struct name_val *nv_lookup(const struct name_val *t, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, s) == 0)
			return &t[i];
	return NULL;
}

int f_idmaps(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
	     struct oci_idmap **out, size_t *nout)
{
	char p[JP];
	size_t n;
	struct json_object *v = jget(obj, key);
	if (!v)
		return 0;
	jkey(p, where, key);
	TRY(rd_arr(c, v, p, &n));
	struct oci_idmap *a = arena_array(c, n, sizeof(*a));
	if (!a)
		return cfg_oom(c);
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
