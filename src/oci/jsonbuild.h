/*
 * Building a JSON document with json-c without checking every call: the helpers
 * record any failure in a sticky flag and the document is thrown away at the end.
 * Why not check NULLs as they come: json-c reports an allocation failure by
 * returning NULL, and json_object_object_add() would store that NULL as a JSON
 * null, silently producing a wrong document instead of an error.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "common/cleanup.h"

struct json_object;

struct jb {
	bool failed;
};

/*
 * obj[key] = val; returns val, or NULL (and marks b failed) when obj or val is NULL
 * or the add fails. val is consumed either way, so calls nest without checks.
 */
struct json_object *jb_put(struct jb *b, struct json_object *obj, const char *key,
			   struct json_object *val);
/* Append val to arr, with jb_put()'s rules. */
struct json_object *jb_push(struct jb *b, struct json_object *arr, struct json_object *val);
/* The n strings of v as a new JSON array (NULL and b marked failed when out of memory). */
struct json_object *jb_str_array(struct jb *b, const char *const *v, size_t n);
#define JB_STR_ARRAY(b, v) jb_str_array((b), (v), ARRAY_SIZE(v))

/*
 * Print doc with json_object_to_json_string_ext(flags) into a malloc()ed string
 * and free doc. NULL when b failed or out of memory; the caller reports it.
 */
char *jb_finish(struct jb *b, struct json_object *doc, int flags);
