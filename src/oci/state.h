/*
 * state.json in the state dir: the runtime-spec state (what `hull state` prints
 * and what hooks read on stdin) plus what later commands need: the init's start
 * time (to tell a live init from a reused PID), the cgroups to remove, and the
 * hooks that run after create.
 */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

struct json_object;

enum oci_status { OCI_CREATING, OCI_CREATED, OCI_RUNNING, OCI_PAUSED, OCI_STOPPED };

struct oci_state {
	char *id, *bundle, *rootfs, *created, *owner;
	pid_t pid;
	unsigned long long start_time;	 /* /proc/PID/stat field 22 */
	bool own_pidns;			 /* init has its own PID namespace */
	struct json_object *annotations; /* borrowed from json; may be NULL */
	struct json_object *hooks;	 /* borrowed; may be NULL */
	char **cgroups;			 /* NULL-terminated absolute dirs, created by us */
	char **cgroup_leaves;		 /* the container's own dir in each hierarchy */
	enum oci_status status;
	struct json_object *json; /* owned */
};

const char *oci_status_name(enum oci_status s);
/* Serialise (private fields included) and write atomically to path. */
int oci_state_save(const char *path, const struct oci_state *st);
int oci_state_load(const char *path, struct oci_state *st);
void oci_state_clear(struct oci_state *st);
/* The runtime-spec state as runc prints it (ociVersion id pid status bundle rootfs created owner
 * annotations). */
char *oci_state_public_json(const struct oci_state *st, bool pretty);
/* The state object hooks get on stdin. */
char *oci_state_hook_json(const char *id, pid_t pid, const char *bundle,
			  struct json_object *annotations, enum oci_status status);

#define OCI_VERSION "1.2.0"
