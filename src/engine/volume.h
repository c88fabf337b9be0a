/*
 * Named volumes and the -v argument.
 *
 * Layout under the deck root:
 *   volumes/NAME/_data          what containers see
 *   volumes/NAME/info           {"created": SECONDS, "anonymous": BOOL}; anonymous
 *                               volumes come from "-v /ctr" (docker removes them
 *                               with the container under --rm)
 *   volumes/NAME/users/ID       one record per container using the volume
 *   volumes/.lock               flock: shared for use/release, exclusive for rm
 */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define VOL_NAME_MAX 128

struct vol_info {
	char *name;
	char *mountpoint; /* .../volumes/NAME/_data */
	int64_t created;
	bool anonymous;
	char **users; /* container ids (NULL-terminated) */
};
void vol_info_clear(struct vol_info *v);
void vol_info_free_array(struct vol_info *v, size_t n);

/* Names are [A-Za-z0-9][A-Za-z0-9_.-]* as docker's; at most VOL_NAME_MAX. */
bool vol_name_valid(const char *name);

/*
 * Create a volume; name NULL makes a random 64-hex-digit one (as docker).
 * -EEXIST if it exists (deck volume create then reports success, as docker).
 */
int vol_create(const char *root, const char *name, bool anonymous, struct vol_info *out);
int vol_inspect(const char *root, const char *name, struct vol_info *out);
/* Every volume, sorted by name. */
int vol_list(const char *root, struct vol_info **out, size_t *n);
/*
 * Remove a volume and its data: refused (-EBUSY naming the containers) while
 * used, unless force. Records of containers the engine says are gone
 * (net_set_container_check) do not count.
 */
int vol_remove(const char *root, const char *name, bool force);
/* Remove every unused volume; *removed gets their names (NULL-terminated, may be NULL). */
int vol_prune(const char *root, char ***removed);

/* Record that container_id uses the volume (for rm's check); idempotent. */
int vol_use(const char *root, const char *name, const char *container_id);
/* Forget that; idempotent. */
int vol_release(const char *root, const char *name, const char *container_id);
/*
 * Forget every use by container_id (container removal); with remove_anonymous,
 * the anonymous volumes it used and nobody else does go too (docker's --rm).
 */
int vol_release_all(const char *root, const char *container_id, bool remove_anonymous);

/* ---- -v ---- */

struct vol_mount {
	char *source;	   /* host path: the volume's _data, or the bind source */
	char *destination; /* absolute path in the container */
	char **options;	   /* runtime-spec mount options: "rbind", "rprivate", "ro"... */
	char *volume;	   /* the named (or anonymous) volume, NULL for a bind */
	bool anonymous;
	bool readonly;
};
void vol_mount_clear(struct vol_mount *m);

/*
 * Resolve one -v argument into a bind mount for the runtime config:
 *   /host/path:/ctr[:OPTS]   a bind of an existing host path
 *   NAME:/ctr[:OPTS]         a named volume, created if missing (docker does)
 *   /ctr                     a new anonymous volume
 * OPTS is comma-separated: ro, rw, z, Z (accepted, no SELinux here), nocopy,
 * [r]shared, [r]slave, [r]private (default rprivate), nosuid, nodev, noexec.
 * The type of the mount is "bind".
 *
 * With container_id, a missing volume is created (an anonymous one gets a
 * random name) and the use recorded (vol_use), under the lock that vol_remove
 * takes. With NULL nothing is made: the spec is checked, a named volume's path
 * given whether it exists or not, an anonymous one's source and volume are NULL.
 */
int vol_parse_mount(const char *root, const char *spec, const char *container_id,
		    struct vol_mount *out);
