/*
 * deck's containers: what the user asked for (struct ctr_config, kept in the
 * record), the record on disk, and the runtime config made from both.
 *
 * Layout under the deck root:
 *   containers/ID/container.json  the record (ctr_record_save: atomic rename)
 *   containers/ID/lock            flock: exclusive while a command changes the
 *                                 container, shared while one reads it
 *   containers/ID/bundle/         config.json, merged (the overlay rootfs), upper, work
 *   containers/ID/etc/            hosts, resolv.conf, hostname (bind-mounted)
 *   containers/ID/netns           the network namespace (an nsfs bind mount) while
 *                                 the container runs on a CNI network
 *   containers/ID/ctr.log         the log (k8s-file, or json-file)
 *   containers/ID/shim.pid, init.pid, attach, exit.json   the shim's (engine/shim.h)
 *   containers/names/NAME         symlink to ID: the name is taken by creating it
 *   runtime/                      the in-process runtime's --root
 * A --rm container's directory is on tmpfs (CTR_RUN_DIR/<hash of the root>/ID),
 * containers/ID a symlink to it: none of it outlives the container.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/logs.h"
#include "image/digest.h"

struct json_object;

#define CTR_ID_LEN   64 /* hex digits, as docker's */
#define CTR_NAME_MAX 128
#define CTR_RUN_DIR  "/run/deck"

/*
 * What `deck create`/`deck run` were asked for. Strings and vectors are owned
 * (ctr_config_clear frees them); NULL means "not given" (the image's value, or
 * the default). Vectors are NULL-terminated.
 */
struct ctr_config {
	char *image;	     /* as given: "busybox", "127.0.0.1:5000/x:1" */
	char **entrypoint;   /* --entrypoint: one word; [""] clears the image's */
	char **cmd;	     /* the command after IMAGE */
	char **env;	     /* -e and --env-file, in order, "K=V" (a bare -e K takes
				the caller's value when set, else it is dropped) */
	char *workdir;	     /* -w */
	char *user;	     /* -u user[:group] */
	char *hostname;	     /* -h/--hostname; NULL: the first 12 digits of the id */
	bool tty;	     /* -t */
	bool interactive;    /* -i: stdin kept open */
	bool autoremove;     /* --rm */
	bool read_only;	     /* --read-only */
	bool init;	     /* --init: deck-init is the container's pid 1 */
	bool no_new_privs;   /* --security-opt no-new-privileges[=true] */
	char **volumes;	     /* -v/--volume specs as given (engine/volume.h) */
	char **tmpfs;	     /* --tmpfs PATH[:OPTS] */
	int64_t memory;	     /* --memory bytes; 0: no limit */
	int64_t memory_swap; /* --memory-swap bytes (-1 unlimited); 0: not given */
	double cpus;	     /* --cpus; 0: no limit */
	int64_t pids_limit;  /* --pids-limit; 0: no limit (-1 too) */
	char **cap_add;	     /* "NET_ADMIN", "CAP_NET_ADMIN" or "ALL" */
	char **cap_drop;
	char *seccomp;	      /* --security-opt seccomp=: NULL default, "unconfined", or a
				 profile file (docker's format), its contents read at create */
	char *network;	      /* --network: NULL (= "deck"), "none", "host", or a name */
	char **publish;	      /* -p specs as given (engine/network.h net_parse_port) */
	char **add_hosts;     /* --add-host NAME:IP */
	char **dns;	      /* --dns */
	char *stop_signal;    /* --stop-signal; NULL: the image's StopSignal, else SIGTERM */
	int stop_timeout;     /* --stop-timeout seconds; -1: default (10) */
	char *cgroup_parent;  /* --cgroup-parent; NULL: $DECK_CGROUP_PARENT, else /deck */
	char *log_driver;     /* --log-driver: k8s-file (default), json-file, none */
	int64_t log_max_size; /* --log-opt max-size=; 0: never rotate */
	char *runtime;	      /* --runtime PATH: an OCI runtime binary; NULL: in process */
	char **labels;	      /* --label K=V */
};
void ctr_config_clear(struct ctr_config *c);
/* To and from the record's "Config" object. */
struct json_object *ctr_config_to_json(const struct ctr_config *c);
int ctr_config_from_json(struct json_object *o, struct ctr_config *c);

/* What the engine made ready for the runtime config (ctr_spec_build's input). */
struct ctr_spec_env {
	const char *id;
	const char *name;
	const char *rootfs;	   /* absolute: bundle/merged */
	const char *cgroups_path;  /* absolute: <parent>/<id> */
	const char *netns;	   /* a namespace to join (CNI network), or NULL */
	bool host_network;	   /* --network host: no network namespace at all */
	const char *etc_dir;	   /* hosts, resolv.conf, hostname to bind over /etc's */
	const char *init_path;	   /* the static deck-init binary on the host (--init) */
	const char *seccomp_json;  /* the --security-opt seccomp=FILE contents, or NULL */
	struct vol_mount *volumes; /* the resolved -v (engine/volume.h), in order */
	size_t n_volumes;
};

struct img_config_info;

/*
 * The runtime config for a container: the image config (config_json, as
 * img_convert takes it) turned into a spec, then c's options applied:
 * docker's 14 default capabilities (with --cap-add/--cap-drop; "ALL"), no
 * noNewPrivileges unless asked, the default seccomp profile for the final
 * bounding set (or none, or the given docker-format profile converted),
 * hostname, /etc files, volumes and --tmpfs mounts, read-only root,
 * resources (memory, cpus as CFS quota/period 100000, pids), the network
 * namespace, --init (deck-init bound read-only at /dev/init, args prefixed
 * with it and "--"), cgroupsPath, terminal. Errors name the option
 * ("--tmpfs /x:foo: unknown option foo"). *info gets the image's
 * Volumes, ExposedPorts, StopSignal and Labels.
 */
int ctr_spec_build(const struct ctr_config *c, const char *config_json, size_t len,
		   const struct ctr_spec_env *env, struct json_object **spec,
		   struct img_config_info *info);

/* ---- records ---- */

enum ctr_status { CTR_CREATED, CTR_RUNNING, CTR_PAUSED, CTR_EXITED, CTR_REMOVING };
const char *ctr_status_name(enum ctr_status s); /* docker's words: "created", "running"... */

struct ctr_record {
	char id[CTR_ID_LEN + 1];
	char *name;
	char *image_id;			 /* sha256:... of the image config */
	int64_t created;		 /* ns since the epoch */
	int64_t started_at, finished_at; /* ns; 0: never */
	int restart_count;
	struct ctr_config config;
	char **args;	   /* the process the spec runs (Path + Args), from the spec */
	char *stop_signal; /* resolved: the option, the image's, or SIGTERM */
	char *network;	   /* resolved: "deck", "none", "host", NAME */
	char *ip;	   /* on its network, while attached; NULL otherwise */
	char *ports_json;  /* the net_result's port mappings as JSON, or NULL */
	int exit_code;	   /* from the last exit.json */
	bool oom_killed;
	char *error; /* the last start's error, or NULL */
	bool removing;
	bool paused; /* deck pause succeeded and no unpause since */
	/* derived by ctr_load, not stored */
	enum ctr_status status;
	pid_t pid; /* the init's pid while running, else 0 */
};
void ctr_record_clear(struct ctr_record *r);

/* root/containers/ID into buf; returns buf. */
char *ctr_dir(const char *root, const char *id, char *buf, size_t len);

/*
 * A new record with a fresh id; name NULL picks a free "adjective_noun" as
 * docker does; *lock_fd holds the container's lock until the caller has saved
 * the record (a directory without a record and without a lock holder is what a
 * deck killed mid-create left: removed when seen). The name is taken atomically: -EEXIST "the
 * container name
 * "/x" is already in use by container ID" when another has it.
 */
int ctr_record_new(const char *root, const char *name, bool transient, struct ctr_record *out,
		   int *lock_fd);
int ctr_record_save(const char *root, const struct ctr_record *r);
/*
 * Find a container by full id, unique id prefix or name; load its record and
 * derive its status from the shim's files (running while its shim holds
 * shim.pid; exited once exit.json exists, or when the shim died without one).
 * -ENOENT "no such container: Q".
 */
int ctr_load(const char *root, const char *query, struct ctr_record *out);
/* Every container, newest first. */
int ctr_list(const char *root, struct ctr_record **out, size_t *n);
void ctr_record_free_array(struct ctr_record *v, size_t n);
/* ctr_load with the container's lock held (exclusive): returns the lock's fd. */
int ctr_load_locked(const char *root, const char *query, struct ctr_record *out);
/* flock on the container's lock file; returns the fd (close it to unlock). */
int ctr_lock(const char *root, const char *id, bool exclusive);
/* Remove the record's directory and its name (the caller holds the lock). */
int ctr_record_remove(const char *root, const struct ctr_record *r);
/* Whether a container with this full id has a record (net_set_container_check). */
bool ctr_exists(const char *root, const char *id);

/* ---- lifecycle (ctr-lifecycle.c) ---- */

struct img_store;
struct img_record;

/* img_layer_unpack's signature: deck passes it in, or a stand-in (see deck-image). */
typedef int (*ctr_unpack_fn)(struct img_store *st, const char *layer_digest, const char *media_type,
			     const char *diff_id, const char *chain_id, const char *parent_chain);

/*
 * The image's chain ids (*chain, n of them, malloc'd) and its config blob
 * (*cfg); layers not unpacked yet are unpacked with unpack (NULL: -ENODATA).
 * The engine does not link the unpacker itself, so that a deck that only runs
 * containers loads no libarchive.
 */
int ctr_image_chain(struct img_store *st, const struct img_record *img, char **cfg, size_t *cfg_len,
		    char (**chain)[IMG_DIGEST_MAX], size_t *n, ctr_unpack_fn unpack);

/* Where deck's helpers are. */
struct ctr_paths {
	const char *deck_init; /* the static --init binary */
	const char *deck_shim; /* NULL: next to deck */
	ctr_unpack_fn unpack;  /* for layers a load or import left packed */
};

/*
 * Create a container of img (the store held by the caller): the record, the
 * bundle (rootfs mounted, config.json), the volumes. c is taken over (cleared).
 * On failure nothing is left: no record, name, mount or volume.
 */
int ctr_create(const char *root, struct img_store *st, const struct img_record *img,
	       struct ctr_config *c, const char *name, const struct ctr_paths *paths,
	       struct ctr_record *out);

/*
 * Start a created or exited container (the caller holds its lock exclusively):
 * rootfs mounted, network attached, /etc files written, deck-shim launched.
 * wait_attach: the container is only created; the first attach starts it.
 * On failure the network is detached again and the error is kept in the record.
 */
int ctr_start(const char *root, struct ctr_record *r, const struct ctr_paths *paths,
	      bool wait_attach);

/*
 * After the container's exit (the shim's exit command, stop, rm, run): record
 * the exit, CNI DEL, unmount the netns and the rootfs; with --rm remove it.
 * Takes the lock; a container that runs again, or is gone, is left alone.
 */
int ctr_cleanup(const char *root, const char *id);

/* Send a signal (0: the stop signal) to the running container. */
int ctr_kill(const char *root, const struct ctr_record *r, int sig);
/* The stop signal, then SIGKILL after timeout_s (-1: the container's own timeout). */
int ctr_stop(const char *root, struct ctr_record *r, int timeout_s);
int ctr_pause(const char *root, struct ctr_record *r, bool pause);
/* Remove (force: kill first if it runs); -EBUSY when it runs and !force. */
int ctr_remove(const char *root, const char *query, bool force, bool volumes);
/* The pids of the container's processes (host pids). */
int ctr_pids(const char *root, const struct ctr_record *r, pid_t **pids, size_t *n);
/* The runtime's --root for deck's containers. */
char *ctr_runtime_root(const char *root, char *buf, size_t len);
