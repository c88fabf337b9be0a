#include "state.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/strv.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>

static const char *const status_names[] = {
    [OCI_CREATING] = "creating", [OCI_CREATED] = "created", [OCI_RUNNING] = "running",
    [OCI_PAUSED] = "paused",	 [OCI_STOPPED] = "stopped",
};

const char *oci_status_name(enum oci_status s)
{
	return status_names[s];
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static json_object *public_obj(const struct oci_state *st)
{
	json_object *o = json_object_new_object();
	add_str(o, "ociVersion", OCI_VERSION);
	add_str(o, "id", st->id);
	json_object_object_add(o, "pid",
			       json_object_new_int(st->status == OCI_STOPPED ? 0 : st->pid));
	add_str(o, "status", oci_status_name(st->status));
	add_str(o, "bundle", st->bundle);
	add_str(o, "rootfs", st->rootfs);
	add_str(o, "created", st->created);
	add_str(o, "owner", st->owner);
	if (st->annotations)
		json_object_object_add(o, "annotations", json_object_get(st->annotations));
	return o;
}

char *oci_state_public_json(const struct oci_state *st, bool pretty)
{
	json_object *o = public_obj(st);
	char *s = strdup(json_object_to_json_string_ext(
	    o, (pretty ? JSON_C_TO_STRING_PRETTY : JSON_C_TO_STRING_PLAIN) |
		   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

char *oci_state_hook_json(const char *id, pid_t pid, const char *bundle,
			  struct json_object *annotations, enum oci_status status)
{
	json_object *o = json_object_new_object();
	add_str(o, "ociVersion", OCI_VERSION);
	add_str(o, "id", id);
	add_str(o, "status", oci_status_name(status));
	if (status != OCI_STOPPED || pid > 0)
		json_object_object_add(o, "pid", json_object_new_int(pid));
	add_str(o, "bundle", bundle);
	if (annotations)
		json_object_object_add(o, "annotations", json_object_get(annotations));
	char *s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

int oci_state_save(const char *path, const struct oci_state *st)
{
	json_object *o = public_obj(st);
	json_object *priv = json_object_new_object();
	json_object_object_add(priv, "startTime", json_object_new_uint64(st->start_time));
	json_object_object_add(priv, "ownPidns", json_object_new_boolean(st->own_pidns));
	json_object *cg = json_object_new_array();
	for (size_t i = 0; st->cgroups && st->cgroups[i]; i++)
		json_object_array_add(cg, json_object_new_string(st->cgroups[i]));
	json_object_object_add(priv, "cgroups", cg);
	json_object *lv = json_object_new_array();
	for (size_t i = 0; st->cgroup_leaves && st->cgroup_leaves[i]; i++)
		json_object_array_add(lv, json_object_new_string(st->cgroup_leaves[i]));
	json_object_object_add(priv, "cgroupLeaves", lv);
	if (st->hooks)
		json_object_object_add(priv, "hooks", json_object_get(st->hooks));
	json_object_object_add(o, "hull", priv);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	int r = fs_write_file_atomic(path, s, strlen(s));
	json_object_put(o);
	return r;
}

static char *get_str(json_object *o, const char *k)
{
	json_object *v;
	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return (char *)json_object_get_string(v);
}

static int load_strv(json_object *o, const char *key, char ***out)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_array))
		return 0;
	size_t n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++)
		if (strv_push(out, json_object_get_string(json_object_array_get_idx(v, i))) < 0)
			return -ENOMEM;
	return 0;
}

int oci_state_load(const char *path, struct oci_state *st)
{
	memset(st, 0, sizeof(*st));
	_cleanup_free_ char *buf = NULL;
	int r = fs_read_file(path, 16 << 20, &buf, NULL);
	if (r < 0)
		return r;
	json_object *o = json_tokener_parse(buf);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return herr_set(EINVAL, "%s: corrupt state file", path);
	}
	st->json = o;
	st->id = get_str(o, "id");
	st->bundle = get_str(o, "bundle");
	st->rootfs = get_str(o, "rootfs");
	st->created = get_str(o, "created");
	st->owner = get_str(o, "owner");
	json_object *v, *priv;
	if (json_object_object_get_ex(o, "pid", &v))
		st->pid = json_object_get_int(v);
	json_object_object_get_ex(o, "annotations", &st->annotations);
	st->status = OCI_CREATED;
	if (json_object_object_get_ex(o, "hull", &priv)) {
		if (json_object_object_get_ex(priv, "startTime", &v))
			st->start_time = json_object_get_uint64(v);
		if (json_object_object_get_ex(priv, "ownPidns", &v))
			st->own_pidns = json_object_get_boolean(v);
		json_object_object_get_ex(priv, "hooks", &st->hooks);
		if (load_strv(priv, "cgroups", &st->cgroups) < 0 ||
		    load_strv(priv, "cgroupLeaves", &st->cgroup_leaves) < 0)
			return herr_set(ENOMEM, "out of memory");
	}
	if (!st->id || !st->bundle)
		return herr_set(EINVAL, "%s: corrupt state file", path);
	return 0;
}

void oci_state_clear(struct oci_state *st)
{
	strv_free(st->cgroups);
	strv_free(st->cgroup_leaves);
	json_object_put(st->json);
	memset(st, 0, sizeof(*st));
}
