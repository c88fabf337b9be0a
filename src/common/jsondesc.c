/* Shared by the config parser (oci/reader.c) and the seccomp profile reader. */
#include "jsondesc.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

const char *jd_quote(char *buf, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0, i;
	buf[o++] = '"';
	/* Room is kept for the longest escape plus the closing `..."`. */
	for (i = 0; s[i] && i < 64 && o < JD_QBUF - 10; i++) {
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

const char *jd_type(struct json_object *v)
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

/* json-c keeps a double's source text, so 1e3 is not reported as 1000.0. */
const char *jd_describe(char *buf, struct json_object *v)
{
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);
		if (i < 0)
			snprintf(buf, JD_QBUF, "%" PRId64, i);
		else
			snprintf(buf, JD_QBUF, "%" PRIu64, json_object_get_uint64(v));
	} else if (json_object_is_type(v, json_type_double)) {
		snprintf(buf, JD_QBUF, "%.40s", json_object_to_json_string(v));
	} else if (json_object_is_type(v, json_type_string)) {
		snprintf(buf, JD_QBUF, "string %s", JD_Q(json_object_get_string(v)));
	} else {
		snprintf(buf, JD_QBUF, "%s", jd_type(v));
	}
	return buf;
}
