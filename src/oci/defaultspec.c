/*
 * The starter config.json of `hull spec`: the same content as runc's example spec
 * (so tutorials written for `runc spec` work unchanged), at our ociVersion and
 * hostname, with the newer runc defaults (cgroup namespace, no ambient caps).
 */
#include "oci/defaultspec.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "oci/jsonbuild.h"
#include "oci/seccompprofile.h"

#define SPEC_OCI_VERSION "1.2.0"

static const char *const default_caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};

static const char *const default_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"};

/*
 * runc's list, plus /proc/interrupts and /sys/devices/virtual/powercap that the
 * docker and containerd defaults mask too (the latter leaks power readings usable as
 * a side channel). The runtime skips the ones a kernel does not have.
 */
static const char *const masked_paths[] = {
    "/proc/acpi",	 "/proc/asound",	"/proc/interrupts", "/proc/kcore",
    "/proc/keys",	 "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
    "/proc/sched_debug", "/sys/firmware",	"/proc/scsi",	    "/sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
					     "/proc/sysrq-trigger"};

struct mount_tmpl {
	const char *dest, *type, *source;
	const char *opts[8]; /* NULL-terminated; empty = no "options" key, as runc writes proc */
};

static const struct mount_tmpl default_mounts[] = {
    {"/proc", "proc", "proc", {NULL}},
    {"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k", NULL}},
    {"/dev/pts",
     "devpts",
     "devpts",
     {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL}},
    {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL}},
    {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev", NULL}},
    {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro", NULL}},
    {"/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro", NULL}},
};

/* Without CAP_SYS_ADMIN over the network namespace sysfs cannot be mounted: bind the host's. */
static const struct mount_tmpl rootless_sys = {
    "/sys", "none", "/sys", {"rbind", "nosuid", "noexec", "nodev", "ro", NULL}};

static const char *const default_namespaces[] = {"pid",	  "network", "ipc", "uts",
						 "mount", "cgroup",  NULL};
/* No network namespace: an unprivileged user could not configure one anyway. */
static const char *const rootless_namespaces[] = {"pid",    "ipc",  "uts", "mount",
						  "cgroup", "user", NULL};

static void add_process(struct jb *b, struct json_object *spec)
{
	struct json_object *proc = jb_put(b, spec, "process", json_object_new_object());
	struct json_object *user, *caps, *rlimits, *rl;

	jb_put(b, proc, "terminal", json_object_new_boolean(1));
	user = jb_put(b, proc, "user", json_object_new_object());
	jb_put(b, user, "uid", json_object_new_int(0));
	jb_put(b, user, "gid", json_object_new_int(0));
	jb_put(b, proc, "args", JB_STR_ARRAY(b, ((const char *const[]){"sh"})));
	jb_put(b, proc, "env", JB_STR_ARRAY(b, default_env));
	jb_put(b, proc, "cwd", json_object_new_string("/"));

	caps = jb_put(b, proc, "capabilities", json_object_new_object());
	jb_put(b, caps, "bounding", JB_STR_ARRAY(b, default_caps));
	jb_put(b, caps, "effective", JB_STR_ARRAY(b, default_caps));
	jb_put(b, caps, "permitted", JB_STR_ARRAY(b, default_caps));

	rlimits = jb_put(b, proc, "rlimits", json_object_new_array());
	rl = jb_push(b, rlimits, json_object_new_object());
	jb_put(b, rl, "type", json_object_new_string("RLIMIT_NOFILE"));
	jb_put(b, rl, "hard", json_object_new_int(1024));
	jb_put(b, rl, "soft", json_object_new_int(1024));

	jb_put(b, proc, "noNewPrivileges", json_object_new_boolean(1));
}

static void add_mount(struct jb *b, struct json_object *mounts, const struct mount_tmpl *t,
		      bool rootless)
{
	struct json_object *m = jb_push(b, mounts, json_object_new_object());
	struct json_object *opts;

	jb_put(b, m, "destination", json_object_new_string(t->dest));
	jb_put(b, m, "type", json_object_new_string(t->type));
	jb_put(b, m, "source", json_object_new_string(t->source));
	if (!t->opts[0])
		return;
	opts = jb_put(b, m, "options", json_object_new_array());
	for (const char *const *o = t->opts; *o; o++) {
		/* Only the caller's ids are mapped; uid=/gid= of others would make the mount fail.
		 */
		if (rootless && (!strncmp(*o, "uid=", 4) || !strncmp(*o, "gid=", 4)))
			continue;
		jb_push(b, opts, json_object_new_string(*o));
	}
}

static void add_mounts(struct jb *b, struct json_object *spec, bool rootless)
{
	struct json_object *mounts = jb_put(b, spec, "mounts", json_object_new_array());

	for (size_t i = 0; i < ARRAY_SIZE(default_mounts); i++) {
		const struct mount_tmpl *t = &default_mounts[i];

		if (rootless && !strcmp(t->dest, "/sys"))
			t = &rootless_sys;
		add_mount(b, mounts, t, rootless);
	}
}

static void add_id_mapping(struct jb *b, struct json_object *lx, const char *key,
			   unsigned int host_id)
{
	struct json_object *maps = jb_put(b, lx, key, json_object_new_array());
	struct json_object *m = jb_push(b, maps, json_object_new_object());

	jb_put(b, m, "containerID", json_object_new_int(0));
	jb_put(b, m, "hostID", json_object_new_int64(host_id));
	jb_put(b, m, "size", json_object_new_int(1));
}

static void add_linux(struct jb *b, struct json_object *spec, bool rootless)
{
	struct json_object *lx = jb_put(b, spec, "linux", json_object_new_object());
	struct json_object *nss;

	if (rootless) {
		add_id_mapping(b, lx, "uidMappings", geteuid());
		add_id_mapping(b, lx, "gidMappings", getegid());
	} else {
		/* Rootless has no say over cgroups, so only the rootful spec denies devices. */
		struct json_object *res = jb_put(b, lx, "resources", json_object_new_object());
		struct json_object *devs = jb_put(b, res, "devices", json_object_new_array());
		struct json_object *d = jb_push(b, devs, json_object_new_object());

		jb_put(b, d, "allow", json_object_new_boolean(0));
		jb_put(b, d, "access", json_object_new_string("rwm"));
	}

	nss = jb_put(b, lx, "namespaces", json_object_new_array());
	for (const char *const *ns = rootless ? rootless_namespaces : default_namespaces; *ns;
	     ns++) {
		struct json_object *n = jb_push(b, nss, json_object_new_object());

		jb_put(b, n, "type", json_object_new_string(*ns));
	}
	jb_put(b, lx, "maskedPaths", JB_STR_ARRAY(b, masked_paths));
	jb_put(b, lx, "readonlyPaths", JB_STR_ARRAY(b, readonly_paths));
}

char *oci_default_spec(bool rootless)
{
	struct jb b = {0};
	struct json_object *spec = json_object_new_object();
	struct json_object *root;
	char *text;

	if (!spec) {
		herr_set(ENOMEM, "default spec: out of memory");
		return NULL;
	}
	/* Keys go in runc's order: json-c keeps insertion order when it prints. */
	jb_put(&b, spec, "ociVersion", json_object_new_string(SPEC_OCI_VERSION));
	add_process(&b, spec);
	root = jb_put(&b, spec, "root", json_object_new_object());
	jb_put(&b, root, "path", json_object_new_string("rootfs"));
	jb_put(&b, root, "readonly", json_object_new_boolean(1));
	jb_put(&b, spec, "hostname", json_object_new_string("hull"));
	add_mounts(&b, spec, rootless);
	add_linux(&b, spec, rootless);
	/* After process: the profile follows the bounding set written there. */
	oci_spec_add_default_seccomp(&b, spec);

	text = jb_finish(&b, spec,
			 JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_PRETTY_TAB |
			     JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		herr_set(ENOMEM, "default spec: out of memory");
	return text;
}
