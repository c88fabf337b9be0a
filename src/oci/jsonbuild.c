/* The document builder shared by `hull spec` and `hull features`. */
#include "oci/jsonbuild.h"

#include <string.h>

#include <json-c/json.h>

struct json_object *jb_put(struct jb *b, struct json_object *obj, const char *key,
			   struct json_object *val)
{
	if (!obj || !val || json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		b->failed = true;
		return NULL;
	}
	return val;
}

struct json_object *jb_push(struct jb *b, struct json_object *arr, struct json_object *val)
{
	if (!arr || !val || json_object_array_add(arr, val) < 0) {
		json_object_put(val);
		b->failed = true;
		return NULL;
	}
	return val;
}

struct json_object *jb_str_array(struct jb *b, const char *const *v, size_t n)
{
	struct json_object *arr = json_object_new_array_ext((int)n);

	if (!arr)
		b->failed = true;
	for (size_t i = 0; arr && i < n; i++)
		jb_push(b, arr, json_object_new_string(v[i]));
	return arr;
}

char *jb_finish(struct jb *b, struct json_object *doc, int flags)
{
	char *text = NULL;

	if (!b->failed) {
		const char *s = json_object_to_json_string_ext(doc, flags);

		text = s ? strdup(s) : NULL;
	}
	json_object_put(doc);
	return text;
}
