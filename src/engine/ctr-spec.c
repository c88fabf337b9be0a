/*
 * The runtime config of a deck container: img_convert's spec (hull's default
 * spec with the image's process) changed into what `docker run` would give
 * the same options. docker's choices are kept where images and their users
 * depend on them: its 14 default capabilities, no noNewPrivileges, its
 * seccomp profile semantics, 2x memory as the memory+swap limit, tmpfs
 * mounts nosuid,nodev,noexec unless told otherwise.
 */
#include "engine/container.h"
#include "engine/ctr-seccomp.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strv.h"
#include "engine/volume.h"
#include "image/convert.h"
#include "oci/config.h"
#include "oci/jsonbuild.h"
#include "oci/seccompprofile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <json-c/json.h>

#define MIN_MEMORY (6 << 20) /* docker's floor: less cannot even start a shell */
#define CPU_PERIOD 100000

static const char *const docker_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",	       "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",	       "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",	   "CAP_AUDIT_WRITE",
};

static struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* o[key] as an object, created when missing. */
static struct json_object *jobj(struct jb *b, struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);
	if (v && json_object_is_type(v, json_type_object))
		return v;
	return jb_put(b, o, key, json_object_new_object());
}

/* ---- capabilities ---- */

/* The highest capability both the kernel and our name table know. */
static int last_cap(void)
{
	int last = oci_cap_last();
	_cleanup_close_ int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
	char buf[16];
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n > 0) {
		buf[n] = '\0';
		int k = atoi(buf);
		if (k > 0 && k < last)
			last = k;
	}
	return last;
}

/* A capability number, 64 for "ALL", or an error naming the option. */
static int cap_parse(const char *opt, const char *name, int last)
{
	const char *s = strncasecmp(name, "CAP_", 4) ? name : name + 4;
	if (!strcasecmp(s, "ALL"))
		return 64;
	char buf[64];
	snprintf(buf, sizeof(buf), "CAP_%s", s);
	int cap = *s && strlen(s) < 48 ? oci_cap_from_name(buf) : -1;
	if (cap < 0 || cap > last)
		return herr_set(EINVAL, "%s %s: unknown capability", opt, name);
	return cap;
}

/* docker's rules: ALL in --cap-add wins, then ALL in --cap-drop, else defaults - drop + add. */
static int cap_set(const struct ctr_config *c, uint64_t *out)
{
	uint64_t add = 0, drop = 0, all = 0, def = 0;
	bool add_all = false, drop_all = false;
	int last = last_cap();
	for (int i = 0; i <= last; i++)
		all |= 1ull << i;
	for (size_t i = 0; i < ARRAY_SIZE(docker_caps); i++)
		def |= 1ull << oci_cap_from_name(docker_caps[i]);
	for (size_t i = 0; c->cap_add && c->cap_add[i]; i++) {
		int cap = cap_parse("--cap-add", c->cap_add[i], last);
		if (cap < 0)
			return cap;
		if (cap == 64)
			add_all = true;
		else
			add |= 1ull << cap;
	}
	for (size_t i = 0; c->cap_drop && c->cap_drop[i]; i++) {
		int cap = cap_parse("--cap-drop", c->cap_drop[i], last);
		if (cap < 0)
			return cap;
		if (cap == 64)
			drop_all = true;
		else
			drop |= 1ull << cap;
	}
	if (add_all)
		*out = all & ~drop;
	else if (drop_all)
		*out = add;
	else
		*out = (def & ~drop) | add;
	return 0;
}

/* The names of the set, in capability order; *names is a malloc'd array of static strings. */
static int cap_names(uint64_t set, const char ***names, size_t *n)
{
	*n = 0;
	*names = calloc(65, sizeof(**names));
	if (!*names)
		return herr_set(ENOMEM, "out of memory");
	for (int i = 0; i < 64; i++)
		if (set & (1ull << i) && oci_cap_name(i))
			(*names)[(*n)++] = oci_cap_name(i);
	return 0;
}

static void set_caps(struct jb *b, struct json_object *proc, const char *const *names, size_t n)
{
	struct json_object *caps = jb_put(b, proc, "capabilities", json_object_new_object());
	/* Not inheritable nor ambient: docker 20.10 stopped that (CVE-2022-24769). */
	jb_put(b, caps, "bounding", jb_str_array(b, names, n));
	jb_put(b, caps, "effective", jb_str_array(b, names, n));
	jb_put(b, caps, "permitted", jb_str_array(b, names, n));
}

static int set_seccomp(struct jb *b, const struct ctr_config *c, const struct ctr_spec_env *env,
		       struct json_object *lnx, uint64_t caps, const char *const *names, size_t n)
{
	if (c->seccomp && !strcmp(c->seccomp, "unconfined")) {
		json_object_object_del(lnx, "seccomp");
		return 0;
	}
	if (!c->seccomp && !env->seccomp_json) {
		jb_put(b, lnx, "seccomp", oci_default_seccomp(b, names, n));
		return 0;
	}
	if (!env->seccomp_json)
		return herr_set(EINVAL, "--security-opt seccomp=%s: the profile was not read",
				c->seccomp);
	struct json_object *prof = NULL;
	int r = ctr_seccomp_from_docker(c->seccomp ? c->seccomp : "(profile)", env->seccomp_json,
					caps, &prof);
	if (r == 0)
		jb_put(b, lnx, "seccomp", prof);
	return r;
}

/* ---- mounts ---- */

/* Whether path is dest or beneath it. */
static bool covers(const char *dest, const char *path)
{
	size_t n = strlen(dest);
	while (n > 1 && dest[n - 1] == '/')
		n--;
	if (n == 1 && dest[0] == '/')
		return true;
	return !strncmp(dest, path, n) && (path[n] == '\0' || path[n] == '/');
}

/*
 * Append a mount; earlier ones at its destination or beneath it go, as they
 * would only be hidden by it (docker: a user's /dev/shm replaces the default).
 */
static void add_mount(struct jb *b, struct json_object *mounts, const char *dest, const char *type,
		      const char *source, char *const *opts)
{
	for (size_t i = json_object_array_length(mounts); i-- > 0;) {
		struct json_object *d = jget(json_object_array_get_idx(mounts, i), "destination");
		if (d && json_object_is_type(d, json_type_string) &&
		    covers(dest, json_object_get_string(d)))
			json_object_array_del_idx(mounts, i, 1);
	}
	struct json_object *m = jb_push(b, mounts, json_object_new_object());
	jb_put(b, m, "destination", json_object_new_string(dest));
	jb_put(b, m, "type", json_object_new_string(type));
	jb_put(b, m, "source", json_object_new_string(source));
	jb_put(b, m, "options", jb_str_array(b, (const char *const *)opts, strv_len(opts)));
}

/* Options that cancel each other: the later one given wins. */
/* clang-format off */
static const char *const flag_pairs[][2] = {
    {"ro", "rw"}, {"exec", "noexec"}, {"suid", "nosuid"}, {"dev", "nodev"},
    {"atime", "noatime"}, {"diratime", "nodiratime"}, {"relatime", "norelatime"},
    {"strictatime", "nostrictatime"}, {"sync", "async"}, {"mand", "nomand"},
    {"tmpcopyup", "notmpcopyup"}, {"dirsync", NULL}, {"inode64", NULL}, {"noswap", NULL},
    {"private", NULL}, {"rprivate", NULL}, {"shared", NULL}, {"rshared", NULL},
    {"slave", NULL}, {"rslave", NULL},
};
/* clang-format on */

static bool all_of(const char *s, const char *set)
{
	return *s && s[strspn(s, set)] == '\0';
}

static bool value_ok(const char *key, const char *v)
{
	if (!strcmp(key, "mode"))
		return all_of(v, "01234567") && strtoul(v, NULL, 8) <= 07777;
	if (!strcmp(key, "uid") || !strcmp(key, "gid"))
		return all_of(v, "0123456789");
	if (!strcmp(key, "size") || !strcmp(key, "nr_blocks") || !strcmp(key, "nr_inodes")) {
		size_t n = strspn(v, "0123456789");
		return n && (!v[n] || (strchr("kKmMgGtTpPeE%", v[n]) && !v[n + 1]));
	}
	if (!strcmp(key, "huge"))
		return !strcmp(v, "never") || !strcmp(v, "always") || !strcmp(v, "within_size") ||
		       !strcmp(v, "advise") || !strcmp(v, "deny") || !strcmp(v, "force");
	if (!strcmp(key, "mpol"))
		return *v != '\0';
	return false;
}

/* Drop entries equal to s, or (with key) starting with "key=". */
static void opts_remove(char **v, const char *s, size_t keylen)
{
	size_t j = 0;
	for (size_t i = 0; v && v[i]; i++) {
		bool same =
		    keylen ? !strncmp(v[i], s, keylen) && v[i][keylen] == '=' : !strcmp(v[i], s);
		if (same)
			free(v[i]);
		else
			v[j++] = v[i];
	}
	if (v)
		v[j] = NULL;
}

static int tmpfs_mount(struct jb *b, struct json_object *mounts, const char *spec)
{
	_cleanup_free_ char *dest = strdup(spec);
	if (!dest)
		return herr_set(ENOMEM, "out of memory");
	char *o = strchr(dest, ':');
	if (o)
		*o++ = '\0';
	if (dest[0] != '/' || !dest[strspn(dest, "/")])
		return herr_set(EINVAL, "--tmpfs %s: the path must be absolute and not /", spec);
	_cleanup_strv_ char **opts = NULL;
	if (strv_push(&opts, "nosuid") < 0 || strv_push(&opts, "nodev") < 0 ||
	    strv_push(&opts, "noexec") < 0)
		return herr_set(ENOMEM, "out of memory");
	for (char *save = NULL, *w = o ? strtok_r(o, ",", &save) : NULL; w;
	     w = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(w, '=');
		if (eq) {
			*eq = '\0';
			bool ok = value_ok(w, eq + 1);
			*eq = '=';
			if (!ok)
				return herr_set(EINVAL, "--tmpfs %s: bad option %s", spec, w);
			opts_remove(opts, w, (size_t)(eq - w));
		} else {
			size_t k;
			for (k = 0; k < ARRAY_SIZE(flag_pairs); k++)
				if (!strcmp(w, flag_pairs[k][0]) ||
				    (flag_pairs[k][1] && !strcmp(w, flag_pairs[k][1])))
					break;
			if (k == ARRAY_SIZE(flag_pairs))
				return herr_set(EINVAL, "--tmpfs %s: unknown option %s", spec, w);
			opts_remove(opts, flag_pairs[k][0], 0);
			if (flag_pairs[k][1])
				opts_remove(opts, flag_pairs[k][1], 0);
		}
		if (strv_push(&opts, w) < 0)
			return herr_set(ENOMEM, "out of memory");
	}
	add_mount(b, mounts, dest, "tmpfs", "tmpfs", opts);
	return 0;
}

static int set_mounts(struct jb *b, const struct ctr_config *c, const struct ctr_spec_env *env,
		      struct json_object *spec)
{
	struct json_object *mounts = jget(spec, "mounts");
	if (!mounts || !json_object_is_type(mounts, json_type_array))
		mounts = jb_put(b, spec, "mounts", json_object_new_array());
	if (!mounts)
		return herr_set(ENOMEM, "out of memory");
	if (env->etc_dir) {
		/* Read-only with the rootfs, as docker does. */
		char *opts[] = {"rbind", "rprivate", c->read_only ? "ro" : NULL, NULL};
		static const char *const files[] = {"hosts", "resolv.conf", "hostname"};
		for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
			char src[4096], dst[64];
			snprintf(src, sizeof(src), "%s/%s", env->etc_dir, files[i]);
			snprintf(dst, sizeof(dst), "/etc/%s", files[i]);
			add_mount(b, mounts, dst, "bind", src, opts);
		}
	}
	for (size_t i = 0; i < env->n_volumes; i++) {
		const struct vol_mount *v = &env->volumes[i];
		if (!v->source || !v->destination)
			return herr_set(EINVAL, "volume %zu: no source or destination", i);
		add_mount(b, mounts, v->destination, "bind", v->source, v->options);
	}
	for (size_t i = 0; c->tmpfs && c->tmpfs[i]; i++) {
		int r = tmpfs_mount(b, mounts, c->tmpfs[i]);
		if (r < 0)
			return r;
	}
	if (c->init) {
		if (!env->init_path)
			return herr_set(EINVAL, "--init: no deck-init binary");
		char *opts[] = {"rbind", "rprivate", "ro", "nosuid", "nodev", NULL};
		add_mount(b, mounts, "/dev/init", "bind", env->init_path, opts);
	}
	return 0;
}

/* ---- the rest ---- */

static int check_resources(const struct ctr_config *c)
{
	if (c->memory < 0)
		return herr_set(EINVAL, "--memory: must not be negative");
	if (c->memory > 0 && c->memory < MIN_MEMORY)
		return herr_set(EINVAL, "--memory: minimum memory limit allowed is 6MB");
	if (c->memory_swap && c->memory_swap != -1) {
		if (!c->memory)
			return herr_set(EINVAL, "--memory-swap: you should always set the memory "
						"limit when using the memory-swap limit");
		if (c->memory_swap < c->memory)
			return herr_set(EINVAL, "--memory-swap: minimum memoryswap limit should be "
						"larger than memory limit, see usage");
	}
	if (c->cpus < 0 || isnan(c->cpus) || c->cpus > 1e6)
		return herr_set(EINVAL, "--cpus: %g is not a valid number of CPUs", c->cpus);
	if (c->pids_limit < -1)
		return herr_set(EINVAL, "--pids-limit: %jd is not valid", (intmax_t)c->pids_limit);
	return 0;
}

/* docker adds no swap limit where the kernel does not account swap (and warns). */
static bool swap_accounted(void)
{
	return access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0 ||
	       access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
}

static void set_resources(struct jb *b, const struct ctr_config *c, struct json_object *lnx)
{
	if (!c->memory && !c->memory_swap && !c->cpus && c->pids_limit <= 0)
		return;
	struct json_object *res = jobj(b, lnx, "resources");
	if (c->memory || c->memory_swap) {
		struct json_object *m = jobj(b, res, "memory");
		if (c->memory)
			jb_put(b, m, "limit", json_object_new_int64(c->memory));
		if (c->memory_swap)
			jb_put(b, m, "swap", json_object_new_int64(c->memory_swap));
		else if (c->memory && swap_accounted())
			jb_put(b, m, "swap", json_object_new_int64(2 * c->memory));
	}
	if (c->cpus > 0) {
		struct json_object *cpu = jobj(b, res, "cpu");
		int64_t quota = (int64_t)(c->cpus * CPU_PERIOD + 0.5);
		jb_put(b, cpu, "quota", json_object_new_int64(quota < 1000 ? 1000 : quota));
		jb_put(b, cpu, "period", json_object_new_int64(CPU_PERIOD));
	}
	if (c->pids_limit > 0)
		jb_put(b, jobj(b, res, "pids"), "limit", json_object_new_int64(c->pids_limit));
}

static void set_network(struct jb *b, const struct ctr_spec_env *env, struct json_object *lnx)
{
	struct json_object *nss = jget(lnx, "namespaces");
	if (!nss || !json_object_is_type(nss, json_type_array))
		return;
	for (size_t i = json_object_array_length(nss); i-- > 0;) {
		struct json_object *ns = json_object_array_get_idx(nss, i);
		struct json_object *t = jget(ns, "type");
		if (!t || strcmp(json_object_get_string(t), "network"))
			continue;
		if (env->host_network)
			json_object_array_del_idx(nss, i, 1);
		else if (env->netns)
			jb_put(b, ns, "path", json_object_new_string(env->netns));
	}
}

static int set_init_args(struct jb *b, struct json_object *proc)
{
	struct json_object *args = jget(proc, "args");
	if (!args || !json_object_is_type(args, json_type_array))
		return herr_set(EINVAL, "--init: the spec has no process.args");
	struct json_object *a = json_object_new_array();
	jb_push(b, a, json_object_new_string("/dev/init"));
	jb_push(b, a, json_object_new_string("--"));
	for (size_t i = 0, n = json_object_array_length(args); i < n; i++)
		jb_push(b, a, json_object_get(json_object_array_get_idx(args, i)));
	jb_put(b, proc, "args", a);
	return 0;
}

static int apply(const struct ctr_config *c, const struct ctr_spec_env *env,
		 struct json_object *spec)
{
	struct jb b = {0};
	struct json_object *proc = jget(spec, "process");
	struct json_object *lnx = jobj(&b, spec, "linux");
	if (!proc || !lnx)
		return herr_set(EINVAL, "the converted spec has no process or linux");

	uint64_t caps;
	_cleanup_free_ const char **names = NULL;
	size_t n;
	int r = cap_set(c, &caps);
	if (r == 0)
		r = cap_names(caps, &names, &n);
	if (r < 0)
		return r;
	set_caps(&b, proc, names, n);
	jb_put(&b, proc, "noNewPrivileges", json_object_new_boolean(c->no_new_privs));
	if (c->init && (r = set_init_args(&b, proc)) < 0)
		return r;

	char host[13];
	snprintf(host, sizeof(host), "%s", env->id ? env->id : "");
	jb_put(&b, spec, "hostname", json_object_new_string(c->hostname ? c->hostname : host));

	struct json_object *root = jobj(&b, spec, "root");
	jb_put(&b, root, "path", json_object_new_string(env->rootfs));
	jb_put(&b, root, "readonly", json_object_new_boolean(c->read_only));

	if ((r = set_mounts(&b, c, env, spec)) < 0)
		return r;
	set_resources(&b, c, lnx);
	if (env->cgroups_path)
		jb_put(&b, lnx, "cgroupsPath", json_object_new_string(env->cgroups_path));
	set_network(&b, env, lnx);
	if (env->name || env->id) {
		struct json_object *ann = jobj(&b, spec, "annotations");
		if (env->name)
			jb_put(&b, ann, "io.deck.name", json_object_new_string(env->name));
		if (env->id)
			jb_put(&b, ann, "io.deck.id", json_object_new_string(env->id));
	}
	if ((r = set_seccomp(&b, c, env, lnx, caps, names, n)) < 0)
		return r;
	return b.failed ? herr_set(ENOMEM, "out of memory") : 0;
}

int ctr_spec_build(const struct ctr_config *c, const char *config_json, size_t len,
		   const struct ctr_spec_env *env, struct json_object **spec,
		   struct img_config_info *info)
{
	*spec = NULL;
	if (!env->rootfs || env->rootfs[0] != '/')
		return herr_set(EINVAL, "container rootfs must be an absolute path");
	int r = check_resources(c);
	if (r < 0)
		return r;
	const struct img_run_overrides o = {
	    .entrypoint = c->entrypoint,
	    .cmd = c->cmd,
	    .env = c->env,
	    .workdir = c->workdir,
	    .user = c->user,
	    .terminal = c->tty,
	};
	struct json_object *s;
	struct img_config_info tmp;
	if (!info)
		info = &tmp;
	r = img_convert(config_json, len, env->rootfs, &o, &s, info);
	if (r < 0)
		return r;
	r = apply(c, env, s);
	if (info == &tmp)
		img_config_info_clear(&tmp);
	if (r < 0) {
		json_object_put(s);
		if (info != &tmp)
			img_config_info_clear(info);
		return r;
	}
	*spec = s;
	return 0;
}
