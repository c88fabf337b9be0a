/*
 * linux.seccomp: validated and compiled to a BPF program by the runtime parent
 * before the container exists (so config errors come out early and libseccomp
 * never runs in the container's init), then installed by the init with one
 * seccomp(2) call as the last step before execve — or, for a profile with
 * SCMP_ACT_NOTIFY, before the init reports ready, so that the parent is still
 * there to pass the listener to the agent (seccomp-listener.c).
 */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

struct json_object;
struct hull_seccomp; /* a compiled filter */

/*
 * Validate and compile linux.seccomp (spec may be NULL: *out becomes NULL, and
 * loading NULL is a no-op). `file` names the config in messages:
 * "<file>: linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\"".
 * Also checks that the running kernel accepts the requested filter flags.
 */
int hull_seccomp_build(struct json_object *spec, const char *file, struct hull_seccomp **out);
/* The same, reusing the BPF compiled earlier for the same profile from cache_dir
 * (made 0700 when missing; seccomp-cache.h). */
int hull_seccomp_build_cached(struct json_object *spec, const char *file, const char *cache_dir,
			      struct hull_seccomp **out);
/* Where a state root keeps compiled filters ('#' is never in a container id). */
#define HULL_SECCOMP_CACHE "#seccomp-cache"

/*
 * Install the filter in the calling process: no allocation, no libseccomp, a
 * capget, maybe a prctl and the seccomp(2) call. Without CAP_SYS_ADMIN in the
 * effective set it sets PR_SET_NO_NEW_PRIVS first, as the kernel requires.
 * *notify_fd (if notify_fd is non-NULL) receives the SCMP_ACT_NOTIFY listener,
 * O_CLOEXEC, or -1 when the profile has no notify rule.
 *
 * Once this returns, the profile applies to the caller: the init must only make
 * syscalls the profile allows until execve. A profile may not notify on write
 * or sendmsg (build rejects it), so the init can pass the listener to the
 * parent with sync_send().
 */
int hull_seccomp_load(const struct hull_seccomp *s, int *notify_fd);

/*
 * Whether the profile has notify rules and a listenerPath: the runtime then
 * connects to listener_path and sends the listener fd with the container state
 * (listener_metadata is NULL when not given). Pointers live as long as s.
 */
bool hull_seccomp_wants_listener(const struct hull_seccomp *s, const char **listener_path,
				 const char **listener_metadata);

/* Whether the profile has SCMP_ACT_NOTIFY rules (load then returns a listener). */
bool hull_seccomp_has_notify(const struct hull_seccomp *s);

/*
 * seccomp-listener.c: hand notify_fd to the agent at the profile's listenerPath,
 * in one message over a unix stream socket: the runtime-spec's container
 * process state (ociVersion, fds ["seccompFd"], pid, metadata, state) as JSON,
 * with the fd attached (SCM_RIGHTS). `pid` is the process the filter is on;
 * the state object is built from id, bundle, annotations and status.
 */
int seccomp_listener_send(const struct hull_seccomp *s, int notify_fd, pid_t pid, const char *id,
			  const char *bundle, struct json_object *annotations, int status);

void hull_seccomp_free(struct hull_seccomp *s);
