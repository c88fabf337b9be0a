/*
 * Private to src/oci: what config.c, process.c and linux.c share to read the
 * json-c tree into a struct oci_config. Readers return 0 when a field is
 * absent, 1 when it was read, and a negative errno after recording a message
 * "<file>: <json path>: <what is wrong>" with herr_set().
 */
#pragma once
#include "config.h"
#include "common/jsondesc.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JP   512     /* JSON path buffer */
#define QBUF JD_QBUF /* a quoted value in a message */

#define TRY(x)                                                                                     \
	do {                                                                                       \
		int r_ = (x);                                                                      \
		if (r_ < 0)                                                                        \
			return r_;                                                                 \
	} while (0)

/* ---- arena: everything a config points to, freed in one go ---- */

void *arena_alloc(struct oci_config *c, size_t size); /* zeroed; NULL when out of memory */
void *arena_array(struct oci_config *c, size_t n, size_t size);
char *arena_strndup(struct oci_config *c, const char *s, size_t n);
void arena_free(void *arena);

/* ---- messages ---- */

int cfg_oom(struct oci_config *c);
int cfg_bad(struct oci_config *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A document value quoted for a message, and a value's type ("string", "number", ...). */
#define Q(s)	 JD_Q(s)
#define jtype(v) jd_type(v)

/* JSON paths for messages, built in JP-byte buffers and cut short when longer. */
void jput(char *buf, const char *s);			  /* append */
void jkey(char *buf, const char *where, const char *key); /* where.key */
void jidx(char *buf, const char *where, size_t i);	  /* where[i] */

/* ---- typed readers of a value, whose path is `path` ---- */

struct json_object *jget(struct json_object *obj, const char *key); /* NULL if absent or null */
int rd_obj(struct oci_config *c, struct json_object *v, const char *path);
int rd_arr(struct oci_config *c, struct json_object *v, const char *path, size_t *n);
int rd_str(struct oci_config *c, struct json_object *v, const char *path, char **out);
int rd_int(struct oci_config *c, struct json_object *v, const char *path, int64_t min, int64_t max,
	   int64_t *out);
int rd_u64(struct oci_config *c, struct json_object *v, const char *path, uint64_t *out);

enum { CHK_ABS = 1, CHK_ENV = 2 };
int check_str(struct oci_config *c, const char *path, const char *s, unsigned chk);
int rd_strv(struct oci_config *c, struct json_object *v, const char *path, unsigned chk,
	    char ***out, size_t *nout);
int rd_kv(struct oci_config *c, struct json_object *v, const char *path, struct oci_kv **out,
	  size_t *nout);

/* ---- field readers: look `key` up in obj, whose path is `where` ---- */

int f_str(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
	  bool required, unsigned chk, char **out);
int f_bool(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
	   bool *out);
int f_int(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
	  bool required, int64_t min, int64_t max, int64_t *out);
int f_u64(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
	  bool required, uint64_t *out);
int f_strv(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
	   unsigned chk, char ***out, size_t *n);
int f_strv0(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
	    unsigned chk, char ***out, size_t *n);
/* uidMappings/gidMappings, in linux and in each mount. */
int f_idmaps(struct oci_config *c, struct json_object *obj, const char *where, const char *key,
	     struct oci_idmap **out, size_t *nout);

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

struct name_val {
	const char *name;
	unsigned long val;
};

const struct name_val *nv_lookup(const struct name_val *t, size_t n, const char *s);

/* ---- sections parsed in their own files ---- */

int cfg_parse_linux(struct oci_config *c, struct json_object *l); /* linux.c */
