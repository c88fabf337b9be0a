/*
 * The "linux" object: namespaces, id mappings, time offsets, devices, rootfs
 * propagation, masked and read-only paths, sysctls and personality.
 * linux.resources and linux.seccomp are only type-checked and kept as json-c
 * objects for cgroup.c and seccomp.c.
 */
#include "reader.h"
#include "common/cleanup.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <json-c/json.h>

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
			return cfg_bad(c, tp, "unknown namespace type %s", Q(type));
		if (c->linux.ns[ns].present)
			return cfg_bad(c, tp, "duplicate namespace type %s", Q(type));
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
			return cfg_bad(c, path,
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
		return cfg_oom(c);
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
			return cfg_bad(c, tp, "expected \"c\", \"b\", \"u\" or \"p\", got %s",
				       Q(type));
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
		return cfg_bad(c, p, "unknown personality domain %s (expected LINUX or LINUX32)",
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

int cfg_parse_linux(struct oci_config *c, struct json_object *l)
{
	struct oci_linux *x = &c->linux;
	struct json_object *v;
	const char *w = "linux";
	TRY(rd_obj(c, l, w));
	if ((v = jget(l, "namespaces")))
		TRY(parse_namespaces(c, v, "linux.namespaces"));
	TRY(f_idmaps(c, l, w, "uidMappings", &x->uid_mappings, &x->n_uid_mappings));
	TRY(f_idmaps(c, l, w, "gidMappings", &x->gid_mappings, &x->n_gid_mappings));
	if ((v = jget(l, "timeOffsets")))
		TRY(parse_time_offsets(c, v, "linux.timeOffsets"));
	if ((v = jget(l, "devices")))
		TRY(parse_devices(c, v, "linux.devices"));
	TRY(f_str(c, l, w, "cgroupsPath", false, 0, &x->cgroups_path));
	if ((v = jget(l, "resources"))) {
		TRY(rd_obj(c, v, "linux.resources"));
		x->resources = v;
	}
	if ((v = jget(l, "seccomp"))) {
		TRY(rd_obj(c, v, "linux.seccomp"));
		x->seccomp = v;
	}
	TRY(f_str(c, l, w, "rootfsPropagation", false, 0, &x->rootfs_propagation));
	if (x->rootfs_propagation && *x->rootfs_propagation) {
		const struct name_val *nv =
		    nv_lookup(propagations, ARRAY_SIZE(propagations), x->rootfs_propagation);
		if (!nv)
			return cfg_bad(c, "linux.rootfsPropagation",
				       "unknown propagation %s (expected private, rprivate, slave, "
				       "rslave, shared, rshared, unbindable or runbindable)",
				       Q(x->rootfs_propagation));
		x->rootfs_propagation_flags = nv->val;
	}
	TRY(f_strv0(c, l, w, "maskedPaths", CHK_ABS, &x->masked_paths, &x->n_masked_paths));
	TRY(f_strv0(c, l, w, "readonlyPaths", CHK_ABS, &x->readonly_paths, &x->n_readonly_paths));
	if ((v = jget(l, "sysctl")))
		TRY(rd_kv(c, v, "linux.sysctl", &x->sysctl, &x->n_sysctl));
	if ((v = jget(l, "personality")))
		TRY(parse_personality(c, v, "linux.personality"));
	TRY(f_str(c, l, w, "mountLabel", false, 0, &x->mount_label));
	return 1;
}
