/*
 * The runtime-spec config.json, read once into plain structs. Everything the
 * runtime needs is resolved here (capability names to numbers, mount options to
 * flags, rlimit names to resources) so the start path does no string work.
 * All memory hangs off the config and is freed by oci_config_free().
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* GNU C predefines `linux` as 1, which would eat the field name below. */
#undef linux

struct json_object;

enum oci_ns {
	OCI_NS_PID,
	OCI_NS_NET,
	OCI_NS_MNT,
	OCI_NS_IPC,
	OCI_NS_UTS,
	OCI_NS_USER,
	OCI_NS_CGROUP,
	OCI_NS_TIME,
	OCI_NS_COUNT
};

struct oci_namespace {
	bool present; /* listed in linux.namespaces */
	char *path;   /* join this one; NULL = create a new one */
};

struct oci_idmap {
	uint32_t container_id, host_id, size;
};

struct oci_kv {
	char *key, *value;
};

/* A mount, with options already split into what mount(2)/mount_setattr(2) take. */
struct oci_mount {
	char *destination;	   /* required; absolute */
	char *type;		   /* may be NULL (then bind is implied by options) */
	char *source;		   /* may be NULL */
	char **options;		   /* NULL-terminated, as written */
	bool bind;		   /* "bind" or "rbind" */
	bool recursive;		   /* "rbind" */
	unsigned long flags;	   /* MS_* to set: MS_RDONLY, MS_NOSUID, ... */
	unsigned long clear_flags; /* MS_* named by "rw", "suid", "dev", "exec", ... */
	unsigned long propagation; /* MS_SHARED|MS_REC etc., 0 if none given */
	uint64_t rec_attr_set;	   /* MOUNT_ATTR_* from "rro", "rnosuid", ... */
	uint64_t rec_attr_clr;	   /* MOUNT_ATTR_* from "rrw", "rsuid", ... */
	bool tmpcopyup;
	bool idmap, ridmap; /* "idmap"/"ridmap" options */
	char *data;	    /* the remaining filesystem options, comma-joined; NULL if none */
	struct oci_idmap *uid_mappings;
	size_t n_uid_mappings;
	struct oci_idmap *gid_mappings;
	size_t n_gid_mappings;
};

struct oci_rlimit {
	int resource; /* RLIMIT_* */
	uint64_t soft, hard;
};

/* Capability sets as bitmasks indexed by capability number. */
struct oci_caps {
	bool present; /* process.capabilities given at all */
	uint64_t bounding, effective, inheritable, permitted, ambient;
	bool skipped_unknown; /* an unknown name was ignored, with a warning on stderr */
};

struct oci_user {
	uint32_t uid, gid;
	bool has_umask;
	mode_t umask;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	char *username; /* informational */
};

struct oci_scheduler {
	int policy; /* SCHED_* */
	int nice;
	int priority;
	uint64_t flags; /* SCHED_FLAG_* */
	uint64_t runtime, deadline, period;
};

struct oci_process {
	bool terminal;
	unsigned console_height, console_width; /* 0 = not given */
	char *cwd;				/* required, absolute */
	char **args;				/* required, at least one; NULL-terminated */
	size_t n_args;
	char **env; /* NULL-terminated, "K=V" */
	size_t n_env;
	struct oci_user user;
	struct oci_rlimit *rlimits;
	size_t n_rlimits;
	struct oci_caps caps;
	bool no_new_privileges;
	bool has_oom_score_adj;
	int oom_score_adj;
	char *apparmor_profile;
	char *selinux_label;
	bool has_io_priority;
	int ioprio_class; /* IOPRIO_CLASS_RT/BE/IDLE */
	int ioprio_priority;
	bool has_scheduler;
	struct oci_scheduler scheduler;
};

struct oci_hook {
	char *path;  /* absolute */
	char **args; /* NULL-terminated; may be NULL */
	char **env;  /* NULL-terminated; may be NULL */
	int timeout; /* seconds; 0 = none */
};

enum oci_hook_kind {
	OCI_HOOK_PRESTART,
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK_COUNT
};

struct oci_hook_list {
	struct oci_hook *v;
	size_t n;
};

struct oci_device {
	char *path; /* absolute, in the container */
	char type;  /* 'c', 'b', 'u', 'p' */
	int64_t major, minor;
	bool has_mode;
	mode_t file_mode;
	bool has_uid;
	uint32_t uid;
	bool has_gid;
	uint32_t gid;
};

struct oci_time_offset {
	bool present;
	int64_t secs;
	uint32_t nanosecs;
};

struct oci_linux {
	struct oci_namespace ns[OCI_NS_COUNT];
	struct oci_idmap *uid_mappings;
	size_t n_uid_mappings;
	struct oci_idmap *gid_mappings;
	size_t n_gid_mappings;
	struct oci_time_offset time_monotonic, time_boottime;
	struct oci_device *devices;
	size_t n_devices;
	char *cgroups_path;			/* NULL if not given */
	struct json_object *resources;		/* linux.resources, unparsed (cgroup.c reads it) */
	struct json_object *seccomp;		/* linux.seccomp, unparsed (seccomp.c reads it) */
	char *rootfs_propagation;		/* as written, or NULL */
	unsigned long rootfs_propagation_flags; /* MS_SHARED|MS_REC..., 0 = default */
	char **masked_paths;			/* NULL-terminated */
	size_t n_masked_paths;
	char **readonly_paths; /* NULL-terminated */
	size_t n_readonly_paths;
	struct oci_kv *sysctl;
	size_t n_sysctl;
	bool has_personality;
	unsigned long personality; /* PER_LINUX / PER_LINUX32 */
	char *mount_label;
};

struct oci_config {
	char *oci_version;
	char *path;	 /* the file it was read from, for messages */
	char *root_path; /* root.path as written */
	bool root_readonly;
	char *hostname, *domainname;
	struct oci_process *process; /* NULL if absent */
	struct oci_mount *mounts;
	size_t n_mounts;
	struct oci_hook_list hooks[OCI_HOOK_COUNT];
	struct json_object *hooks_json; /* the "hooks" object as written, or NULL */
	struct oci_kv *annotations;
	size_t n_annotations;
	struct json_object *annotations_json; /* as written, or NULL */
	struct oci_linux linux;
	struct json_object *json; /* the whole document; owned */
	void *arena;		  /* private to src/oci (reader.c) */
};

/*
 * Parse a config.json document. `filename` names it in every message:
 * "<filename>: process.user.uid: expected an integer from 0 to 4294967295, got -1".
 * Checks types, required fields, ranges and names; does not touch the filesystem.
 */
int oci_config_parse(const char *data, size_t len, const char *filename, struct oci_config **out);
/* Read <bundle>/config.json and parse it. */
int oci_config_load(const char *bundle, struct oci_config **out);
/* Just BUNDLE/config.json's bytes (checked as oci_config_load checks them), for oci_config_parse.
 */
int oci_config_read(const char *bundle, char **path, char **buf, size_t *len);
void oci_config_free(struct oci_config *c);
/*
 * Free the JSON document early, keeping the parsed fields: every field that
 * points into it (resources, seccomp, hooks_json, annotations_json) becomes NULL.
 */
void oci_config_drop_json(struct oci_config *c);
static inline void oci_config_freep(struct oci_config **c)
{
	if (*c)
		oci_config_free(*c);
}
#define _cleanup_config_ __attribute__((cleanup(oci_config_freep)))

/*
 * Parse a process object (config.json's "process", or exec's process.json) into
 * p, allocating from c's arena. `where` is the JSON path prefix for messages.
 */
int oci_process_parse(struct oci_config *c, struct json_object *obj, const char *where,
		      struct oci_process *p);

/* Name tables shared with the CLI. Return -1 when unknown. */
int oci_cap_from_name(const char *name);    /* "CAP_SYS_ADMIN" -> 21 */
const char *oci_cap_name(int cap);	    /* 21 -> "CAP_SYS_ADMIN"; NULL if unknown */
int oci_cap_last(void);			    /* highest capability number in the table */
int oci_rlimit_from_name(const char *name); /* "RLIMIT_NOFILE" -> RLIMIT_NOFILE */
int oci_signal_from_name(const char *name); /* "KILL", "SIGKILL", "9" -> 9 */
const char *oci_ns_name(enum oci_ns ns);    /* OCI_NS_MNT -> "mount" */
