/*
 * The user's process: environment, executable lookup, limits, scheduling, and
 * the last step, dropping to the configured user and capabilities before execve.
 */
#include "internal.h"
#include "seccomp.h"
#include "sync.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/strv.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/*
 * HOME from the container's /etc/passwd; no NSS, just the file. The container
 * owns it: a fifo or a device there must not block or feed us (exec reads it
 * in a running container).
 */
static char *home_of(uid_t uid)
{
	struct stat st;
	_cleanup_close_ int fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	_cleanup_fclose_ FILE *f = NULL;
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (f = fdopen(fd, "re")))
		fd = -1;
	char line[1024];
	while (f && fgets(line, sizeof(line), f)) {
		char *fields[7];
		int n = 0;
		char *s = line, *tok;
		while (n < 7 && (tok = strsep(&s, ":")))
			fields[n++] = tok;
		if (n >= 6 && (uid_t)strtoul(fields[2], NULL, 10) == uid && *fields[5])
			return strdup(fields[5]);
	}
	return strdup("/");
}

/*
 * docker and containerd pick the exit status of a failed start (127, 126) by
 * looking for Go's lower-case "no such file or directory" and "permission
 * denied" in the runtime's message, so these errors are spelt that way.
 */
static const char *lower_strerror(int err, char buf[64])
{
	snprintf(buf, 64, "%s", strerror(err));
	buf[0] = (char)tolower((unsigned char)buf[0]);
	return buf;
}

static int find_exe(const char *name, char *const *env, char **out)
{
	struct stat st;
	char eb[64];
	if (strchr(name, '/')) {
		if (stat(name, &st) < 0) {
			int err = errno;
			return herr_set(err, "process.args[0]: stat %s: %s", name,
					lower_strerror(err, eb));
		}
		if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111))
			return herr_set(EACCES,
					"process.args[0]: %s: permission denied (not an executable "
					"file)",
					name);
		*out = strdup(name);
		return 0;
	}
	const char *path = strv_env_get(env, "PATH");
	_cleanup_free_ char *copy = strdup(path ? path : DEFAULT_PATH);
	char *save = NULL;
	for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char full[4096];
		snprintf(full, sizeof(full), "%s/%s", *dir ? dir : ".", name);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) {
			*out = strdup(full);
			return 0;
		}
	}
	return herr_set(ENOENT, "process.args[0]: \"%s\": executable file not found in $PATH",
			name);
}

static int set_limits(const struct oci_process *p)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = {.rlim_cur = p->rlimits[i].soft, .rlim_max = p->rlimits[i].hard};
		if (setrlimit(p->rlimits[i].resource, &rl) < 0)
			return herr_sys("process.rlimits[%zu]", i);
	}
	if (p->has_oom_score_adj) {
		char v[16];
		int n = snprintf(v, sizeof(v), "%d", p->oom_score_adj);
		int r = fs_write_file("/proc/self/oom_score_adj", v, (size_t)n);
		if (r < 0)
			return herr_ctx(r, "process.oomScoreAdj");
	}
	if (p->has_io_priority && syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0,
					  (p->ioprio_class << 13) | p->ioprio_priority) < 0)
		return herr_sys("process.ioPriority");
	if (p->has_scheduler) {
		struct {
			uint32_t size, policy;
			uint64_t flags;
			int32_t nice;
			uint32_t priority;
			uint64_t runtime, deadline, period;
		} a = {.size = 48,
		       .policy = (uint32_t)p->scheduler.policy,
		       .flags = p->scheduler.flags,
		       .nice = p->scheduler.nice,
		       .priority = (uint32_t)p->scheduler.priority,
		       .runtime = p->scheduler.runtime,
		       .deadline = p->scheduler.deadline,
		       .period = p->scheduler.period};
		if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
			return herr_sys("process.scheduler");
	}
	return 0;
}

/*
 * capset() later can only keep what we hold now: a capability asked for that
 * we lack (not in the host's bounding set, say) fails here, before READY, so
 * that `create` says so rather than a started container dying at once.
 */
static int check_caps(const struct oci_caps *caps)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		return herr_sys("capget");
	uint64_t have = (uint64_t)d[1].permitted << 32 | d[0].permitted;
	static const char *const set_names[] = {"permitted", "effective"};
	const uint64_t sets[] = {caps->permitted, caps->effective};
	for (int s = 0; s < 2; s++) {
		for (uint64_t missing = sets[s] & ~have; missing; missing &= missing - 1) {
			int cap = __builtin_ctzll(missing);
			/* One this kernel does not know: capset() ignores it, and so do we. */
			if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0 && errno == EINVAL)
				continue;
			return herr_set(
			    EPERM,
			    "process.capabilities.%s: %s cannot be granted: the runtime "
			    "does not hold it (not in this host's bounding set?)",
			    set_names[s], oci_cap_name(cap) ? oci_cap_name(cap) : "?");
		}
	}
	return 0;
}

int process_prepare(struct create_ctx *c, char **exe_out, char ***env_out)
{
	const struct oci_process *p = c->cfg->process;
	char **env = NULL;
	for (size_t i = 0; i < p->n_env; i++)
		if (strv_push(&env, p->env[i]) < 0)
			return herr_set(ENOMEM, "out of memory");
	if (!strv_env_get(env, "HOME")) {
		_cleanup_free_ char *home = home_of(p->user.uid);
		_cleanup_free_ char *kv = NULL;
		if (asprintf(&kv, "HOME=%s", home) < 0 || strv_push(&env, kv) < 0)
			return herr_set(ENOMEM, "out of memory");
	}
	*env_out = env;
	/*
	 * As runc: the cwd is entered now, with our privileges, and that is the
	 * process's cwd even if its user could not enter it (WORKDIR /root with
	 * USER nobody). Refused to us, the process's user tries once it is set.
	 */
	c->cwd_entered = chdir(p->cwd) == 0;
	if (!c->cwd_entered && errno != EACCES && errno != EPERM)
		return herr_sys("process.cwd: %s", p->cwd);
	int r = find_exe(p->args[0], env, exe_out);
	if (r < 0)
		return r;
	if ((r = set_limits(p)) < 0)
		return r;
	if ((r = check_caps(&p->caps)) < 0)
		return r;
	const struct oci_linux *l = &c->cfg->linux;
	if (l->has_personality && personality(l->personality) < 0)
		return herr_sys("linux.personality");
	if (!c->o->no_new_keyring && syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 &&
	    errno != ENOSYS)
		return herr_sys("cannot create a session keyring");
	return 0;
}

static int set_caps(const struct oci_caps *caps)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {
	    {.effective = (uint32_t)caps->effective,
	     .permitted = (uint32_t)caps->permitted,
	     .inheritable = (uint32_t)caps->inheritable},
	    {.effective = (uint32_t)(caps->effective >> 32),
	     .permitted = (uint32_t)(caps->permitted >> 32),
	     .inheritable = (uint32_t)(caps->inheritable >> 32)},
	};
	if (syscall(SYS_capset, &h, d) < 0)
		return herr_sys("process.capabilities: capset");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return herr_sys("process.capabilities.ambient");
	/*
	 * An ambient capability must also be permitted and inheritable; runc's own
	 * `spec` lists ambient ones that are not inheritable and runc skips those, so
	 * we do too rather than refuse such configs.
	 */
	for (int cap = 0; cap < 64; cap++)
		if ((caps->ambient >> cap) & 1 &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EPERM)
			return herr_sys("process.capabilities.ambient: %s", oci_cap_name(cap));
	return 0;
}

static int last_cap(void)
{
	_cleanup_free_ char *v = NULL;
	if (fs_read_file("/proc/sys/kernel/cap_last_cap", 32, &v, NULL) < 0)
		return oci_cap_last();
	return atoi(v);
}

static int drop_bounding(uint64_t keep)
{
	int last = last_cap();
	for (int cap = 0; cap <= last; cap++)
		if (!((keep >> cap) & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 &&
		    errno != EINVAL)
			return herr_sys("process.capabilities.bounding: drop %s",
					oci_cap_name(cap));
	return 0;
}

/*
 * In the parent of `run`, while it waits for ns-early.c's helper anyway: the
 * init inherits the bounding set and is spared ~40 prctl() calls between READY
 * and execve. Only where nothing else is ever executed, by this process (it
 * exits with the container; a library caller like deck-shim lives on) or by
 * the init: hooks would run with the container's bounding set.
 */
void process_drop_bounding_early(struct create_ctx *c)
{
	const struct oci_config *cfg = c->cfg;
	if (!c->run_mode || !cfg->process || cfg->linux.ns[OCI_NS_USER].present)
		return;
	for (int h = 0; h < OCI_HOOK_COUNT; h++)
		if (cfg->hooks[h].n)
			return;
	if (drop_bounding(cfg->process->caps.bounding) < 0) {
		herr_clear(); /* the init tries again and says why */
		return;
	}
	c->bounding_dropped = true;
}

int process_finalize(struct create_ctx *c)
{
	const struct oci_process *p = c->cfg->process;
	if (!p->terminal && setsid() < 0 && errno != EPERM)
		return herr_sys("setsid");
	/* Everything but stdio and --preserve-fds is closed by execve. */
	unsigned first = 3 + (unsigned)c->o->preserve_fds;
	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
		return herr_sys("close_range");
	for (int fd = 3; fd < (int)first && fd < 3 + 64; fd++)
		if ((c->o->inherited_fds >> (fd - 3)) & 1)
			fcntl(fd, F_SETFD, 0);

	/*
	 * Without no_new_privs a filter needs CAP_SYS_ADMIN, so it goes in while we
	 * still have it (the profile must then allow the few syscalls that follow);
	 * with no_new_privs it goes in last, as the spec prefers.
	 */
	int r;
	if (!p->no_new_privileges && (r = process_load_seccomp(c)) < 0)
		return r;
	const struct oci_caps *caps = &p->caps;
	if (!c->bounding_dropped && (r = drop_bounding(caps->bounding)) < 0)
		return r;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return herr_sys("prctl(PR_SET_KEEPCAPS)");
	const struct oci_user *u = &p->user;
	if (setgroups(u->n_additional_gids, (gid_t *)u->additional_gids) < 0 && errno != EPERM)
		return herr_sys("process.user.additionalGids");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return herr_sys("process.user.gid: %u", u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return herr_sys("process.user.uid: %u", u->uid);
	if ((r = set_caps(caps)) < 0)
		return r;
	prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
	umask(u->has_umask ? u->umask : 022);
	if (!c->cwd_entered && chdir(p->cwd) < 0)
		return herr_sys("process.cwd: %s (as uid %u)", p->cwd, u->uid);
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return herr_sys("process.noNewPrivileges");
	return process_load_seccomp(c);
}

int process_load_seccomp(struct create_ctx *c)
{
	if (!c->seccomp || c->seccomp_loaded)
		return 0;
	_cleanup_close_ int notify_fd = -1;
	if (hull_seccomp_load(c->seccomp, &notify_fd) < 0)
		return herr_ctx(-herr_code(), "linux.seccomp");
	c->seccomp_loaded = true;
	if (notify_fd < 0)
		return 0;
	/*
	 * The filter is in: from here a syscall it sends to the agent waits until
	 * the agent has the fd, which is why sendmsg itself may not be notified.
	 */
	int r = sync_send(c->sock, SYNC_SECCOMP, 0, 0, NULL, notify_fd);
	if (r < 0)
		return herr_ctx(r, "linux.seccomp: hand the notify fd to the runtime");
	closep(&notify_fd);
	struct sync_msg m;
	return sync_expect(c->sock, SYNC_SECCOMP_DONE, &m);
}

int process_exec(struct create_ctx *c, const char *exe, char **env)
{
	execve(exe, c->cfg->process->args, env);
	int err = errno;
	char eb[64];
	return herr_set(err, "process.args[0]: cannot execute %s: %s", exe,
			lower_strerror(err, eb));
}
