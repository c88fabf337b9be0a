/*
 * JSON values named in error messages, the same way wherever a document is
 * read: a string quoted, escaped and cut short, a number as written, anything
 * else by its type.
 */
#pragma once

struct json_object;

#define JD_QBUF 160 /* room for one quoted value or description */

/* "s" escaped (\" \\ \xNN) and cut after 64 bytes with "...", into buf (JD_QBUF bytes). */
const char *jd_quote(char *buf, const char *s);
#define JD_Q(s) jd_quote((char[JD_QBUF]){0}, (s))

/* "boolean", "number", "object", "array", "string" or "null". */
const char *jd_type(struct json_object *v);

/* `42`, `1.5e3` (as written), `string "x"`, or jd_type(v) for the rest; into buf (JD_QBUF). */
const char *jd_describe(char *buf, struct json_object *v);
#define JD_DESCRIBE(v) jd_describe((char[JD_QBUF]){0}, (v))
