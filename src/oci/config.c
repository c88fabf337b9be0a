/*
 * config.json -> struct oci_config. One pass over the json-c tree; every value
 * read is type- and range-checked and every failure names the file and the JSON
 * path. All strings and arrays are copied into one arena, so a config is freed
 * in one go and nothing points into the tree except the objects the header says
 * are kept unparsed (resources, seccomp, hooks, annotations).
 *
 * This file reads the document itself (root, mounts, hooks, annotations...);
 * process.c and linux.c read those two objects, all with reader.c's helpers.
 */
#include "config.h"
#include "reader.h"
#include "mountopts.h"
#include "common/cleanup.h"
#include "common/error.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <json-c/json.h>

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

static int parse_mounts(struct oci_config *c, struct json_object *v)
{
	size_t n;
	TRY(rd_arr(c, v, "mounts", &n));
	if (!(c->mounts = arena_array(c, n, sizeof(*c->mounts))))
		return cfg_oom(c);
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
				return cfg_oom(c);
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
		struct json_object *a = jget(v, hook_names[k]);
		struct oci_hook_list *l = &c->hooks[k];
		char p[JP];
		size_t n;
		if (!a)
			continue;
		jkey(p, "hooks", hook_names[k]);
		TRY(rd_arr(c, a, p, &n));
		if (!(l->v = arena_array(c, n, sizeof(*l->v))))
			return cfg_oom(c);
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
		return cfg_oom(c);
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
		return cfg_bad(c, "", "expected a JSON object, got null");
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
		return cfg_bad(c, "", "expected a JSON object, got %s", jtype(c->json));
	return 0;
}

static int parse_document(struct oci_config *c)
{
	struct json_object *doc = c->json, *v;
	TRY(f_str(c, doc, "", "ociVersion", true, 0, &c->oci_version));
	if (!(v = jget(doc, "root")))
		return cfg_bad(c, "root.path", "is required");
	TRY(rd_obj(c, v, "root"));
	TRY(f_str(c, v, "root", "path", true, 0, &c->root_path));
	if (!*c->root_path)
		return cfg_bad(c, "root.path", "must not be empty");
	TRY(f_bool(c, v, "root", "readonly", &c->root_readonly));
	TRY(f_str(c, doc, "", "hostname", false, 0, &c->hostname));
	TRY(f_str(c, doc, "", "domainname", false, 0, &c->domainname));
	if ((v = jget(doc, "process"))) {
		if (!(c->process = arena_alloc(c, sizeof(*c->process))))
			return cfg_oom(c);
		TRY(oci_process_parse(c, v, "process", c->process));
	}
	if ((v = jget(doc, "mounts")))
		TRY(parse_mounts(c, v));
	if ((v = jget(doc, "hooks")))
		TRY(parse_hooks(c, v));
	if ((v = jget(doc, "annotations"))) {
		TRY(rd_kv(c, v, "annotations", &c->annotations, &c->n_annotations));
		c->annotations_json = v;
	}
	if ((v = jget(doc, "linux")))
		TRY(cfg_parse_linux(c, v));
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

int oci_config_read(const char *bundle, char **pathp, char **bufp, size_t *lenp)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	_cleanup_close_ int fd = -1;
	struct stat st;

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
	*pathp = take_ptr(path);
	*bufp = take_ptr(buf);
	*lenp = len;
	return 0;
}

int oci_config_load(const char *bundle, struct oci_config **out)
{
	_cleanup_free_ char *path = NULL, *buf = NULL;
	size_t len;
	*out = NULL;
	int r = oci_config_read(bundle, &path, &buf, &len);
	return r < 0 ? r : oci_config_parse(buf, len, path, out);
}

void oci_config_drop_json(struct oci_config *c)
{
	json_object_put(c->json);
	c->json = c->hooks_json = c->annotations_json = NULL;
	c->linux.resources = c->linux.seccomp = NULL;
}

void oci_config_free(struct oci_config *c)
{
	if (!c)
		return;
	json_object_put(c->json);
	arena_free(c->arena);
	free(c);
}
