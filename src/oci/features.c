/*
 * The runtime-spec features document (features.md, features-linux.md): what hull
 * recognizes in a config.json, so that callers such as containerd can probe it
 * without trying. It describes this build, not the host.
 */
#include "oci/features.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <seccomp.h>

#include "common/cleanup.h"
#include "common/error.h"

#define FEATURES_OCI_VERSION_MIN "1.0.0"
#define FEATURES_OCI_VERSION_MAX "1.2.0"

/* See defaultspec.c: a NULL from json-c would otherwise become a silent JSON null. */
struct builder {
	bool failed;
};

static struct json_object *put(struct builder *b, struct json_object *obj, const char *key,
			       struct json_object *val)
{
	if (!obj || !val || json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		b->failed = true;
		return NULL;
	}
	return val;
}

static void push(struct builder *b, struct json_object *arr, struct json_object *val)
{
	if (!arr || !val || json_object_array_add(arr, val) < 0) {
		json_object_put(val);
		b->failed = true;
	}
}

static struct json_object *str_array(struct builder *b, const char *const *v, size_t n)
{
	struct json_object *arr = json_object_new_array_ext((int)n);

	if (!arr)
		b->failed = true;
	for (size_t i = 0; arr && i < n; i++)
		push(b, arr, json_object_new_string(v[i]));
	return arr;
}

#define STR_ARRAY(b, v) str_array(b, v, ARRAY_SIZE(v))

static void put_enabled(struct builder *b, struct json_object *obj, const char *key, bool on)
{
	struct json_object *o = put(b, obj, key, json_object_new_object());

	put(b, o, "enabled", json_object_new_boolean(on));
}

static const char *const hooks[] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

/* Every option the mount parser (oci/mountopts.c) knows; data options like mode= are not listed. */
static const char *const mount_options[] = {
    "defaults",	   "ro",	"rw",	      "suid",	      "nosuid",		"dev",
    "nodev",	   "exec",	"noexec",     "sync",	      "async",		"dirsync",
    "remount",	   "mand",	"nomand",     "atime",	      "noatime",	"diratime",
    "nodiratime",  "relatime",	"norelatime", "strictatime",  "nostrictatime",	"lazytime",
    "nolazytime",  "silent",	"loud",	      "bind",	      "rbind",		"shared",
    "rshared",	   "slave",	"rslave",     "private",      "rprivate",	"unbindable",
    "runbindable", "rro",	"rrw",	      "rnosuid",      "rsuid",		"rnodev",
    "rdev",	   "rnoexec",	"rexec",      "rnodiratime",  "rdiratime",	"rrelatime",
    "rnorelatime", "rnoatime",	"ratime",     "rstrictatime", "rnostrictatime", "rnosymfollow",
    "rsymfollow",  "tmpcopyup", "idmap",      "ridmap",
};

static const char *const namespaces[] = {
    "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts",
};

/* In capability-number order, CAP_CHOWN (0) to CAP_CHECKPOINT_RESTORE (40). */
static const char *const capabilities[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

static const char *const seccomp_actions[] = {
    "SCMP_ACT_ALLOW",	     "SCMP_ACT_ERRNO",	     "SCMP_ACT_KILL",
    "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG",
    "SCMP_ACT_NOTIFY",	     "SCMP_ACT_TRACE",	     "SCMP_ACT_TRAP",
};

static const char *const seccomp_operators[] = {
    "SCMP_CMP_EQ", "SCMP_CMP_GE",	 "SCMP_CMP_GT", "SCMP_CMP_LE",
    "SCMP_CMP_LT", "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE",
};

/*
 * The runtime-spec architecture names. Only those the linked libseccomp can resolve
 * are listed: a filter for any other could not be built.
 */
static const char *const seccomp_archs[] = {
    "SCMP_ARCH_AARCH64",  "SCMP_ARCH_ARM",	   "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
    "SCMP_ARCH_MIPS",	  "SCMP_ARCH_MIPS64",	   "SCMP_ARCH_MIPS64N32",   "SCMP_ARCH_MIPSEL",
    "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PARISC",	    "SCMP_ARCH_PARISC64",
    "SCMP_ARCH_PPC",	  "SCMP_ARCH_PPC64",	   "SCMP_ARCH_PPC64LE",	    "SCMP_ARCH_RISCV64",
    "SCMP_ARCH_S390",	  "SCMP_ARCH_S390X",	   "SCMP_ARCH_SH",	    "SCMP_ARCH_SHEB",
    "SCMP_ARCH_X32",	  "SCMP_ARCH_X86",	   "SCMP_ARCH_X86_64",
};

/* libseccomp names an architecture by the lower-cased tail of its SCMP_ARCH_ constant. */
static bool libseccomp_knows_arch(const char *spec_name)
{
	const char *tail = spec_name + strlen("SCMP_ARCH_");
	char name[32];
	size_t i;

	for (i = 0; tail[i] && i < sizeof(name) - 1; i++)
		name[i] = (char)tolower((unsigned char)tail[i]);
	name[i] = '\0';
	return seccomp_arch_resolve_name(name) != 0;
}

static void add_seccomp(struct builder *b, struct json_object *lx)
{
	struct json_object *sc = put(b, lx, "seccomp", json_object_new_object());
	struct json_object *archs;

	put(b, sc, "enabled", json_object_new_boolean(1));
	put(b, sc, "actions", STR_ARRAY(b, seccomp_actions));
	put(b, sc, "operators", STR_ARRAY(b, seccomp_operators));
	archs = put(b, sc, "archs", json_object_new_array());
	for (size_t i = 0; i < ARRAY_SIZE(seccomp_archs); i++)
		if (libseccomp_knows_arch(seccomp_archs[i]))
			push(b, archs, json_object_new_string(seccomp_archs[i]));
}

static void add_linux(struct builder *b, struct json_object *doc)
{
	struct json_object *lx = put(b, doc, "linux", json_object_new_object());
	struct json_object *cg, *ext;

	put(b, lx, "namespaces", STR_ARRAY(b, namespaces));
	put(b, lx, "capabilities", STR_ARRAY(b, capabilities));

	cg = put(b, lx, "cgroup", json_object_new_object());
	put(b, cg, "v1", json_object_new_boolean(1));
	put(b, cg, "v2", json_object_new_boolean(1));
	put(b, cg, "systemd", json_object_new_boolean(0));
	put(b, cg, "systemdUser", json_object_new_boolean(0));
	put(b, cg, "rdma", json_object_new_boolean(1));

	add_seccomp(b, lx);
	put_enabled(b, lx, "apparmor", false);
	put_enabled(b, lx, "selinux", false);
	put_enabled(b, lx, "intelRdt", false);

	ext = put(b, lx, "mountExtensions", json_object_new_object());
	put_enabled(b, ext, "idmap", true);
}

static void add_annotations(struct builder *b, struct json_object *doc)
{
	struct json_object *ann = put(b, doc, "annotations", json_object_new_object());
	const struct scmp_version *v = seccomp_version();
	char ver[48] = "unknown";

	if (v)
		snprintf(ver, sizeof(ver), "%u.%u.%u", v->major, v->minor, v->micro);
	put(b, ann, "io.github.hull.version", json_object_new_string(HULL_VERSION));
	put(b, ann, "io.github.hull.libseccomp.version", json_object_new_string(ver));
}

char *oci_features_json(void)
{
	struct builder b = {0};
	struct json_object *doc = json_object_new_object();
	char *text = NULL;

	if (!doc) {
		herr_set(ENOMEM, "features: out of memory");
		return NULL;
	}
	put(&b, doc, "ociVersionMin", json_object_new_string(FEATURES_OCI_VERSION_MIN));
	put(&b, doc, "ociVersionMax", json_object_new_string(FEATURES_OCI_VERSION_MAX));
	put(&b, doc, "hooks", STR_ARRAY(&b, hooks));
	put(&b, doc, "mountOptions", STR_ARRAY(&b, mount_options));
	add_linux(&b, doc);
	add_annotations(&b, doc);

	if (!b.failed) {
		const char *s = json_object_to_json_string_ext(
		    doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			     JSON_C_TO_STRING_NOSLASHESCAPE);
		text = s ? strdup(s) : NULL;
	}
	json_object_put(doc);
	if (!text)
		herr_set(ENOMEM, "features: out of memory");
	return text;
}
