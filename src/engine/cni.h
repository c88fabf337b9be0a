/*
 * The CNI client (the role of libcni): runs the plugins of a network
 * configuration list one after the other, the way the CNI 1.0.0 specification
 * describes, for ADD and DEL. Plugins are the standard ones of Debian's
 * containernetworking-plugins (/usr/lib/cni), which speak 0.1.0 to 1.0.0.
 *
 * A plugin is executed with its configuration on stdin and CNI_COMMAND,
 * CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH in its environment; its
 * result (or its error object) comes back on stdout. Each plugin after the
 * first gets the result of the one before as "prevResult"; DEL gets the final
 * result of ADD, in reverse order.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct json_object;

#define CNI_VERSION	 "1.0.0"
#define CNI_DEFAULT_PATH "/usr/lib/cni:/opt/cni/bin"

/*
 * One CNI operation at a time on this host: the plugins of Debian's 1.1.1
 * check for their shared iptables chains (CNI-ADMIN, CNI-FORWARD,
 * CNI-HOSTPORT-*) and then create them, which fails with "File exists" when two
 * ADDs race. A flock on /run/lock/deck-cni.lock; returns the fd to close.
 */
#define CNI_LOCK_PATH "/run/lock/deck-cni.lock"
int cni_lock(void);

/* Where plugins are looked for: $DECK_CNI_PATH (colon-separated), else CNI_DEFAULT_PATH. */
const char *cni_path(void);

/* The path of plugin `type` (malloc'd); -ENOENT naming the directories searched. */
int cni_find_plugin(const char *type, char **out);

/* Every plugin of a conflist is installed: the first missing one is an error. */
int cni_check_plugins(struct json_object *conflist);

struct cni_call {
	const char *container_id;
	const char *netns;  /* path of the network namespace; may be gone for DEL */
	const char *ifname; /* "eth0" */
	/* {"portMappings": [...]}: each plugin gets the keys it declares in "capabilities". */
	struct json_object *runtime_config;
};

/*
 * Called after each plugin of an ADD with the result so far, so that the caller
 * can record it: a DEL after a crash half-way through then still has it.
 */
typedef int (*cni_checkpoint_fn)(void *ctx, struct json_object *result);

/*
 * ADD of every plugin in order. On success *result is the final result (owned
 * by the caller). On failure *result holds the result as far as it got (or
 * NULL), which the caller passes to cni_del_list to undo what was done.
 */
int cni_add_list(struct json_object *conflist, const struct cni_call *c, cni_checkpoint_fn cp,
		 void *ctx, struct json_object **result);

/*
 * DEL of every plugin in reverse order, with prev_result (may be NULL) as each
 * one's "prevResult". Every plugin is called even when one fails; the first
 * failure is returned.
 */
int cni_del_list(struct json_object *conflist, const struct cni_call *c,
		 struct json_object *prev_result);

/*
 * Remove the nat-table rules and chains that the plugins tagged with this
 * network and container (comments `name: "NET" id: "ID"`). The bridge plugin
 * undoes its masquerading rules only when it finds the container's interface
 * (it learns the address from it), so a namespace or interface already gone
 * leaves them behind.
 */
int cni_sweep_nat(const char *network, const char *container_id);

/*
 * Run argv[0] (an absolute path) with envp, stdin from in/in_len, and collect
 * stdout and stderr (each NUL-terminated, malloc'd; either pointer may be NULL
 * to discard). *status is the wait status.
 */
int cni_run(char *const argv[], char *const envp[], const char *in, size_t in_len, char **out,
	    char **err, int *status);
