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
#include "oci/config.h"
#include "oci/jsonbuild.h"

#define FEATURES_OCI_VERSION_MIN "1.0.0"
#define FEATURES_OCI_VERSION_MAX "1.2.0"

static void put_enabled(struct jb *b, struct json_object *obj, const char *key, bool on)
{
	struct json_object *o = jb_put(b, obj, key, json_object_new_object());

	jb_put(b, o, "enabled", json_object_new_boolean(on));
}

static const char *const hooks[] = {
    "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

/* Every option the mount parser (oci/mountopts.c) knows; data options like mode= are not listed. */
static const char *const mount_options[] = {
    "defaults",	      "ro",	      "rw",	     "suid",	    "nosuid",	     "dev",
    "nodev",	      "exec",	      "noexec",	     "sync",	    "async",	     "dirsync",
    "remount",	      "mand",	      "nomand",	     "atime",	    "noatime",	     "diratime",
    "nodiratime",     "relatime",     "norelatime",  "strictatime", "nostrictatime", "lazytime",
    "nolazytime",     "iversion",     "noiversion",  "silent",	    "loud",	     "bind",
    "rbind",	      "shared",	      "rshared",     "slave",	    "rslave",	     "private",
    "rprivate",	      "unbindable",   "runbindable", "rro",	    "rrw",	     "rnosuid",
    "rsuid",	      "rnodev",	      "rdev",	     "rnoexec",	    "rexec",	     "rnodiratime",
    "rdiratime",      "rrelatime",    "rnorelatime", "rnoatime",    "ratime",	     "rstrictatime",
    "rnostrictatime", "rnosymfollow", "rsymfollow",  "tmpcopyup",   "idmap",	     "ridmap",
    "nosymfollow",    "symfollow",    "acl",	     "noacl",
};

static const char *const namespaces[] = {
    "cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts",
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

static void add_seccomp(struct jb *b, struct json_object *lx)
{
	struct json_object *sc = jb_put(b, lx, "seccomp", json_object_new_object());
	struct json_object *archs;

	jb_put(b, sc, "enabled", json_object_new_boolean(1));
	jb_put(b, sc, "actions", JB_STR_ARRAY(b, seccomp_actions));
	jb_put(b, sc, "operators", JB_STR_ARRAY(b, seccomp_operators));
	archs = jb_put(b, sc, "archs", json_object_new_array());
	for (size_t i = 0; i < ARRAY_SIZE(seccomp_archs); i++)
		if (libseccomp_knows_arch(seccomp_archs[i]))
			jb_push(b, archs, json_object_new_string(seccomp_archs[i]));
}

static void add_linux(struct jb *b, struct json_object *doc)
{
	struct json_object *lx = jb_put(b, doc, "linux", json_object_new_object());
	struct json_object *caps, *cg, *ext;

	jb_put(b, lx, "namespaces", JB_STR_ARRAY(b, namespaces));
	caps = jb_put(b, lx, "capabilities", json_object_new_array());
	for (int i = 0; i <= oci_cap_last(); i++)
		if (oci_cap_name(i))
			jb_push(b, caps, json_object_new_string(oci_cap_name(i)));

	cg = jb_put(b, lx, "cgroup", json_object_new_object());
	jb_put(b, cg, "v1", json_object_new_boolean(1));
	jb_put(b, cg, "v2", json_object_new_boolean(1));
	jb_put(b, cg, "systemd", json_object_new_boolean(0));
	jb_put(b, cg, "systemdUser", json_object_new_boolean(0));
	jb_put(b, cg, "rdma", json_object_new_boolean(1));

	add_seccomp(b, lx);
	put_enabled(b, lx, "apparmor", false);
	put_enabled(b, lx, "selinux", false);
	put_enabled(b, lx, "intelRdt", false);

	ext = jb_put(b, lx, "mountExtensions", json_object_new_object());
	put_enabled(b, ext, "idmap", true);
}

static void add_annotations(struct jb *b, struct json_object *doc)
{
	struct json_object *ann = jb_put(b, doc, "annotations", json_object_new_object());
	const struct scmp_version *v = seccomp_version();
	char ver[48] = "unknown";

	if (v)
		snprintf(ver, sizeof(ver), "%u.%u.%u", v->major, v->minor, v->micro);
	jb_put(b, ann, "io.github.hull.version", json_object_new_string(HULL_VERSION));
	jb_put(b, ann, "io.github.hull.libseccomp.version", json_object_new_string(ver));
}

char *oci_features_json(void)
{
	struct jb b = {0};
	struct json_object *doc = json_object_new_object();
	char *text;

	if (!doc) {
		herr_set(ENOMEM, "features: out of memory");
		return NULL;
	}
	jb_put(&b, doc, "ociVersionMin", json_object_new_string(FEATURES_OCI_VERSION_MIN));
	jb_put(&b, doc, "ociVersionMax", json_object_new_string(FEATURES_OCI_VERSION_MAX));
	jb_put(&b, doc, "hooks", JB_STR_ARRAY(&b, hooks));
	jb_put(&b, doc, "mountOptions", JB_STR_ARRAY(&b, mount_options));
	add_linux(&b, doc);
	add_annotations(&b, doc);

	text = jb_finish(&b, doc,
			 JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		herr_set(ENOMEM, "features: out of memory");
	return text;
}
