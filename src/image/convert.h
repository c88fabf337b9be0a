/*
 * An image config (image-spec "config" object) turned into a runtime config:
 * hull's default spec with process.args = Entrypoint + Cmd (or overrides),
 * env = the image's Env (PATH kept) + extra, cwd = WorkingDir or "/", user =
 * User resolved through the rootfs's /etc/passwd and /etc/group (names or
 * numbers, "user", "uid", "user:group", "uid:gid"), plus what the engine needs
 * to know: Volumes, ExposedPorts, StopSignal, Labels.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

struct img_run_overrides {
	char **entrypoint;   /* NULL: the image's; a list with one "" clears it */
	char **cmd;	     /* NULL: the image's */
	char **env;	     /* "K=V" added after the image's (replacing same K) */
	const char *workdir; /* NULL: the image's */
	const char *user;    /* NULL: the image's */
	bool terminal;
};

struct img_config_info {
	char **volumes;		    /* NULL-terminated container paths */
	char **exposed_ports;	    /* "80/tcp" ... */
	char *stop_signal;	    /* "SIGTERM" when unset */
	struct json_object *labels; /* owned; may be NULL */
};

/*
 * config_json: the image config blob; rootfs: the container's rootfs (an
 * unpacked or mounted dir, for /etc/passwd lookups, read with RESOLVE_IN_ROOT).
 * *spec gets a new json object (the runtime config; root.path = "rootfs"); an
 * unknown user gets: user "x": no such user in the image's /etc/passwd.
 */
int img_convert(const char *config_json, size_t len, const char *rootfs,
		const struct img_run_overrides *o, struct json_object **spec,
		struct img_config_info *info);
void img_config_info_clear(struct img_config_info *info);

/*
 * A user spec ("name", "uid", "name:group", "uid:gid") resolved in the rootfs's
 * /etc/passwd and /etc/group as img_convert resolves the image's User (also
 * for deck exec -u); sgids: the supplementary groups (malloc'd, may be NULL).
 */
struct img_user {
	uint32_t uid, gid;
	uint32_t *sgids;
	size_t nsgids;
};
int img_resolve_user(const char *rootfs, const char *spec, struct img_user *out);
