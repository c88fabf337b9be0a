/*
 * `exec`: a process in every namespace and cgroup of a running container.
 *
 * The runtime (non-dumpable since main()) opens what it needs on the host side
 * first: the init's pidfd (checked against its recorded start time), its
 * namespace files, the container's cgroup join handles. It then enters the PID
 * and time namespaces "for children" and clones the process straight into them
 * (and into the v2 cgroup), so the process is PID-visible in the container
 * without a double fork. The child moves itself into the v1 cgroups, joins the
 * user namespace first and the others after it, closes every fd it does not
 * pass on, and only then resolves the cwd inside the container. The last steps
 * (limits, user, capabilities, no_new_privs, seccomp) are process.c's, shared
 * with the container's init. An error in the child comes back over a
 * socketpair as one message; the socket closing on execve means success.
 */
#include "exec.h"
#include "internal.h"
#include "seccomp.h"
#include "sync.h"
#include "terminal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/strv.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <linux/close_range.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define PROCESS_JSON_MAX (4u << 20)

struct exec_ctx {
	const struct exec_opts *o;
	struct oci_state st;
	struct oci_config *cfg;
	struct oci_process proc; /* the process to run: config + flags, or process.json */
	char **env_own;		 /* vectors proc points to that we allocated */
	uint32_t *gids_own;
	struct hull_seccomp *seccomp;
	int init_pidfd;
	int ns_fds[OCI_NS_COUNT]; /* the init's namespaces that differ from ours */
	struct cgroup_join cg;
	int v2_procs_fd; /* "<v2 leaf>/cgroup.procs", when CLONE_INTO_CGROUP cannot be used */
	bool v2_joined;
	int sock;
	pid_t pid;
	int pidfd;
	int sigfd;
	int pty;
	bool exited;
	int status;
};

/* ---- the process to run ---- */

static int cap_number(const char *name)
{
	char up[64] = "CAP_";
	size_t off = strncasecmp(name, "CAP_", 4) ? 4 : 0;
	size_t i = 0;
	for (; name[i] && off + i < sizeof(up) - 1; i++)
		up[off + i] = (char)toupper((unsigned char)name[i]);
	up[off + i] = 0;
	int cap = oci_cap_from_name(up);
	if (cap < 0 || cap >= 64)
		return herr_set(EINVAL, "--cap: unknown capability \"%s\"", name);
	return cap;
}

/* env is ours to grow: each K=V replaces an existing K, or is appended. */
static int env_set(char ***env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv)
		return herr_set(EINVAL, "--env: expected NAME=VALUE, got \"%s\"", kv);
	size_t klen = (size_t)(eq - kv) + 1;
	for (char **e = *env; e && *e; e++)
		if (!strncmp(*e, kv, klen)) {
			char *dup = strdup(kv);
			if (!dup)
				return herr_set(ENOMEM, "out of memory");
			free(*e);
			*e = dup;
			return 0;
		}
	return strv_push(env, kv) < 0 ? herr_set(ENOMEM, "out of memory") : 0;
}

static int load_process_file(struct exec_ctx *x)
{
	const char *file = x->o->process_file;
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r = fs_read_file(file, PROCESS_JSON_MAX, &text, &len);
	if (r < 0)
		return herr_ctx(r, "--process");
	enum json_tokener_error jerr;
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return herr_set(ENOMEM, "out of memory");
	json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!obj || jerr != json_tokener_success) {
		json_object_put(obj);
		return herr_set(EINVAL, "%s: not valid JSON: %s", file,
				json_tokener_error_desc(jerr));
	}
	/* Messages name the file they came from. */
	char *saved = x->cfg->path;
	x->cfg->path = (char *)file;
	r = oci_process_parse(x->cfg, obj, "", &x->proc);
	x->cfg->path = saved;
	json_object_put(obj);
	if (r < 0)
		return r;
	/* What process.json leaves out comes from the container, as with runc. */
	const struct oci_process *base = x->cfg->process;
	if (base && !x->proc.caps.present)
		x->proc.caps = base->caps;
	if (base && !x->proc.n_rlimits) {
		x->proc.rlimits = base->rlimits;
		x->proc.n_rlimits = base->n_rlimits;
	}
	return 0;
}

static int apply_flags(struct exec_ctx *x)
{
	const struct exec_opts *o = x->o;
	struct oci_process *p = &x->proc;
	if (!x->cfg->process)
		return herr_set(EINVAL,
				"%s: process: is missing, and exec takes its defaults from it",
				x->cfg->path);
	*p = *x->cfg->process;
	p->args = o->args;
	p->n_args = strv_len(o->args);
	p->terminal = o->tty;
	if (o->cwd)
		p->cwd = (char *)o->cwd;
	for (size_t i = 0; i < p->n_env; i++)
		if (strv_push(&x->env_own, p->env[i]) < 0)
			return herr_set(ENOMEM, "out of memory");
	for (char **e = o->env; e && *e; e++) {
		int r = env_set(&x->env_own, *e);
		if (r < 0)
			return r;
	}
	if (!x->env_own && !(x->env_own = calloc(1, sizeof(char *))))
		return herr_set(ENOMEM, "out of memory");
	p->env = x->env_own;
	p->n_env = strv_len(x->env_own);
	if (o->has_uid)
		p->user.uid = o->uid;
	if (o->has_gid)
		p->user.gid = o->gid;
	if (o->n_additional_gids) {
		size_t n = p->user.n_additional_gids + o->n_additional_gids;
		if (!(x->gids_own = calloc(n, sizeof(uint32_t))))
			return herr_set(ENOMEM, "out of memory");
		if (p->user.n_additional_gids)
			memcpy(x->gids_own, p->user.additional_gids,
			       p->user.n_additional_gids * sizeof(uint32_t));
		memcpy(x->gids_own + p->user.n_additional_gids, o->additional_gids,
		       o->n_additional_gids * sizeof(uint32_t));
		p->user.additional_gids = x->gids_own;
		p->user.n_additional_gids = n;
	}
	for (char **c = o->caps; c && *c; c++) {
		int cap = cap_number(*c);
		if (cap < 0)
			return cap;
		uint64_t bit = 1ULL << cap;
		p->caps.present = true;
		p->caps.bounding |= bit;
		p->caps.effective |= bit;
		p->caps.permitted |= bit;
		/* Ambient needs inheritable: only where the config grants some (CVE-2022-29162). */
		if (p->caps.inheritable)
			p->caps.ambient |= bit;
	}
	if (o->no_new_privs)
		p->no_new_privileges = true;
	return 0;
}

static int build_process(struct exec_ctx *x)
{
	const struct exec_opts *o = x->o;
	if (o->apparmor) {
		if (access("/sys/module/apparmor", F_OK) < 0)
			return herr_set(ENOTSUP,
					"--apparmor: AppArmor is not available on this host");
		return herr_set(ENOTSUP, "--apparmor: hull does not support AppArmor profiles");
	}
	if (o->process_label)
		return herr_set(ENOTSUP,
				"--process-label: hull does not support SELinux process labels");
	int r;
	if (o->process_file) {
		if (o->args && o->args[0])
			return herr_set(EINVAL,
					"--process: the command comes from %s; none may "
					"follow the container id",
					o->process_file);
		r = load_process_file(x);
	} else {
		if (!o->args || !o->args[0])
			return herr_set(EINVAL, "exec: no command given (hull exec ID COMMAND...)");
		r = apply_flags(x);
	}
	if (r < 0)
		return r;
	const struct oci_process *p = &x->proc;
	if (!p->cwd || p->cwd[0] != '/')
		return herr_set(EINVAL, "--cwd: \"%s\" is not an absolute path",
				p->cwd ? p->cwd : "");
	if (p->terminal && o->detach && !o->console_socket)
		return herr_set(EINVAL, "exec: --tty with --detach needs --console-socket");
	if (!p->terminal && o->console_socket)
		return herr_set(EINVAL, "--console-socket: only with --tty (process.terminal)");
	return 0;
}

/* ---- the host side: what the child needs, opened before it exists ---- */

static int open_init(struct exec_ctx *x)
{
	const struct oci_state *st = &x->st;
	const char *id = x->o->id;
	switch (st->status) {
	case OCI_STOPPED:
		return herr_set(EINVAL, "cannot exec in container \"%s\": it is stopped", id);
	case OCI_CREATING:
		return herr_set(EINVAL, "cannot exec in container \"%s\": it is being created", id);
	case OCI_PAUSED:
		if (!x->o->ignore_paused)
			return herr_set(EINVAL,
					"cannot exec in container \"%s\": it is paused (use "
					"--ignore-paused to exec anyway; the process runs once it "
					"is resumed)",
					id);
		break;
	default:
		break;
	}
	x->init_pidfd = st->pid > 0 ? pidfd_open(st->pid, 0) : -1;
	/* Checked once the pidfd pins the process: a reused PID is not our init. */
	if (x->init_pidfd < 0 || proc_start_time(st->pid) != st->start_time)
		return herr_set(ESRCH, "cannot exec in container \"%s\": it is stopped", id);
	return 0;
}

static bool init_exited(int pidfd)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	return poll(&p, 1, 0) > 0;
}

static int same_file(int a, int b)
{
	struct stat sa, sb;
	if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
		return herr_sys("fstat a namespace");
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int open_namespaces(struct exec_ctx *x)
{
	static const char *const names[OCI_NS_COUNT] = {
	    [OCI_NS_PID] = "pid",	[OCI_NS_NET] = "net",	[OCI_NS_MNT] = "mnt",
	    [OCI_NS_IPC] = "ipc",	[OCI_NS_UTS] = "uts",	[OCI_NS_USER] = "user",
	    [OCI_NS_CGROUP] = "cgroup", [OCI_NS_TIME] = "time",
	};
	for (int i = 0; i < OCI_NS_COUNT; i++) {
		char path[64], own[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", x->st.pid, names[i]);
		/* PID and time apply to our children: compare with what they would get. */
		snprintf(own, sizeof(own), "/proc/self/ns/%s%s", names[i],
			 i == OCI_NS_PID || i == OCI_NS_TIME ? "_for_children" : "");
		_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			continue; /* a kernel without this namespace type */
		if (fd < 0)
			return herr_sys("cannot open %s", path);
		_cleanup_close_ int ours = open(own, O_RDONLY | O_CLOEXEC);
		if (ours < 0)
			return herr_sys("cannot open %s", own);
		int same = same_file(fd, ours);
		if (same < 0)
			return same;
		if (!same)
			x->ns_fds[i] = take_fd(fd);
	}
	/* The files were opened by PID: they are the init's only if it is still alive. */
	if (init_exited(x->init_pidfd))
		return herr_set(ESRCH, "cannot exec in container \"%s\": it stopped", x->o->id);
	return 0;
}

static int open_cgroups(struct exec_ctx *x)
{
	if (!x->st.cgroup_leaves || !x->st.cgroup_leaves[0])
		return 0;
	struct cgroup_set cg = {.leaves = x->st.cgroup_leaves};
	int r = cgroup_join_open(&cg, 0, &x->cg);
	if (r < 0)
		return herr_ctx(r, "cannot join the container's cgroups");
	/*
	 * The v1 freezer last: in a paused container (--ignore-paused) the child
	 * freezes as it joins, and must be in all the others by then.
	 */
	size_t k = 0;
	for (char **leaf = x->st.cgroup_leaves; *leaf && k < x->cg.n; leaf++) {
		if (x->cg.v2_leaf && !strcmp(*leaf, x->cg.v2_leaf))
			continue;
		char p[4200];
		snprintf(p, sizeof(p), "%s/freezer.state", *leaf);
		if (access(p, F_OK) == 0) {
			int fd = x->cg.tasks_fds[k];
			memmove(x->cg.tasks_fds + k, x->cg.tasks_fds + k + 1,
				(x->cg.n - k - 1) * sizeof(int));
			x->cg.tasks_fds[x->cg.n - 1] = fd;
			break;
		}
		k++;
	}
	if (x->cg.v2_leaf) {
		char p[4200];
		snprintf(p, sizeof(p), "%s/cgroup.procs", x->cg.v2_leaf);
		x->v2_procs_fd = open(p, O_WRONLY | O_CLOEXEC);
		if (x->v2_procs_fd < 0)
			return herr_sys("cannot open %s", p);
	}
	return 0;
}

/* ---- the child ---- */

static void reset_signals(void)
{
	sigset_t none;
	sigemptyset(&none);
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			signal(s, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static int join_namespaces(struct exec_ctx *x)
{
	/* User first: the others belong to it, and we are privileged there once in it. */
	static const enum oci_ns order[] = {OCI_NS_USER, OCI_NS_IPC,	OCI_NS_UTS,
					    OCI_NS_NET,	 OCI_NS_CGROUP, OCI_NS_MNT};
	for (size_t k = 0; k < ARRAY_SIZE(order); k++) {
		enum oci_ns ns = order[k];
		if (x->ns_fds[ns] < 0)
			continue;
		if (setns(x->ns_fds[ns], (int)ns_clone_flag(ns)) < 0)
			return herr_sys("cannot join the container's %s namespace",
					oci_ns_name(ns));
		closep(&x->ns_fds[ns]);
	}
	return 0;
}

/*
 * Nothing of the host may stay reachable once we are in the container: only
 * stdio, the fds passed on with --preserve-fds and our socket survive, so that no
 * /proc/self/fd/N can lead out of the root (CVE-2024-21626).
 */
static void close_other_fds(int keep, int preserve, uint64_t inherited)
{
	unsigned first = 3 + (unsigned)preserve;
	for (unsigned fd = 3; fd < first; fd++)
		if ((int)fd != keep && !(fd - 3 < 64 && ((inherited >> (fd - 3)) & 1)))
			close((int)fd);
	if (keep >= (int)first) {
		if (keep > (int)first)
			syscall(SYS_close_range, first, (unsigned)keep - 1, 0);
		syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0);
	} else {
		syscall(SYS_close_range, first, ~0U, 0);
	}
}

/* A new pty from the container's own devpts; the master goes to the runtime. */
static int setup_tty(struct exec_ctx *x)
{
	_cleanup_close_ int root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return herr_sys("open the container's root");
	_cleanup_close_ int m = fs_openat2(root, "/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_NONBLOCK, 0,
					   RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	if (m < 0)
		return herr_set(-m, "--tty: no /dev/pts/ptmx in the container: %s", strerror(-m));
	struct stat st;
	/* The container owns its /dev: whatever sits there must really be a ptmx. */
	if (fstat(m, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != 5 ||
	    minor(st.st_rdev) != 2)
		return herr_set(EPERM, "--tty: the container's /dev/pts/ptmx is not a ptmx device");
	int fl = fcntl(m, F_GETFL);
	if (fl < 0 || fcntl(m, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return herr_sys("--tty: pty master");
	int unlock = 0;
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0)
		return herr_sys("--tty: unlock the pty");
	_cleanup_close_ int s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		return herr_sys("--tty: open the pty peer");
	const struct oci_process *p = &x->proc;
	if (p->console_height || p->console_width) {
		struct winsize ws = {.ws_row = (unsigned short)p->console_height,
				     .ws_col = (unsigned short)p->console_width};
		if (ioctl(m, TIOCSWINSZ, &ws) < 0)
			return herr_sys("--tty: set the window size");
	}
	int r = sync_send(x->sock, SYNC_PTY, 0, 0, "console", m);
	if (r < 0)
		return r;
	return term_make_controlling(take_fd(s));
}

static int child_run(struct exec_ctx *x)
{
	const struct exec_opts *o = x->o;
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Cgroups before the cgroup namespace, which would hide the host's paths. */
	if (x->v2_procs_fd >= 0 && !x->v2_joined && write(x->v2_procs_fd, "0", 1) != 1)
		return herr_sys("cannot join the container's cgroup %s", x->cg.v2_leaf);
	int r = cgroup_join_self(&x->cg);
	if (r < 0)
		return r;
	if ((r = join_namespaces(x)) < 0)
		return r;
	close_other_fds(x->sock, o->preserve_fds, o->inherited_fds);
	if (x->proc.terminal && (r = setup_tty(x)) < 0)
		return r;

	/* From here on the steps of the container's init: process.c. */
	struct container_opts co = {
	    .id = o->id, .preserve_fds = o->preserve_fds, .inherited_fds = o->inherited_fds};
	struct create_ctx c;
	create_ctx_init(&c, &co);
	x->cfg->process = &x->proc;
	c.cfg = x->cfg;
	c.seccomp = x->seccomp;
	c.sock = x->sock;
	_cleanup_free_ char *exe = NULL;
	char **env = NULL;
	if ((r = process_prepare(&c, &exe, &env)) < 0)
		return r;
	char cwd[PATH_MAX];
	/* getcwd fails (or is not absolute) for a directory outside our root. */
	if (!getcwd(cwd, sizeof(cwd)) || cwd[0] != '/')
		return herr_set(EPERM, "process.cwd: %s is outside the container's root",
				x->proc.cwd);
	if ((r = process_finalize(&c)) < 0)
		return r;
	return process_exec(&c, exe, env);
}

static _Noreturn void child_main(struct exec_ctx *x)
{
	reset_signals();
	int r = child_run(x);
	if (r >= 0)
		herr_set(EIO, "exec returned without executing the process");
	sync_send(x->sock, SYNC_ERROR, herr_code(), 0, herr_msg(), -1);
	_exit(127);
}

/* ---- the runtime: clone, serve, wait ---- */

static int enter_for_children(struct exec_ctx *x, int saved[2])
{
	static const enum oci_ns which[2] = {OCI_NS_PID, OCI_NS_TIME};
	static const char *const own[2] = {"/proc/self/ns/pid_for_children",
					   "/proc/self/ns/time_for_children"};
	/*
	 * Joining a PID namespace takes CAP_SYS_ADMIN in our own user namespace as
	 * well: an unprivileged runtime has it only in the container's, so it joins
	 * that one first, for good (it needs no privilege of the host's after this).
	 */
	if (x->ns_fds[OCI_NS_USER] >= 0 && geteuid() != 0) {
		if (setns(x->ns_fds[OCI_NS_USER], CLONE_NEWUSER) < 0)
			return herr_sys("cannot join the container's user namespace");
		close(x->ns_fds[OCI_NS_USER]);
		x->ns_fds[OCI_NS_USER] = -1;
	}
	for (int k = 0; k < 2; k++) {
		int fd = x->ns_fds[which[k]];
		if (fd < 0)
			continue;
		saved[k] = open(own[k], O_RDONLY | O_CLOEXEC);
		if (saved[k] < 0)
			return herr_sys("open %s", own[k]);
		if (setns(fd, (int)ns_clone_flag(which[k])) < 0)
			return herr_sys("cannot join the container's %s namespace",
					oci_ns_name(which[k]));
	}
	return 0;
}

static void leave_for_children(int saved[2])
{
	static const int types[2] = {CLONE_NEWPID, CLONE_NEWTIME};
	for (int k = 0; k < 2; k++)
		if (saved[k] >= 0) {
			setns(saved[k], types[k]);
			closep(&saved[k]);
		}
}

static int spawn(struct exec_ctx *x)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return herr_sys("socketpair");
	x->sock = sv[0];
	int saved[2] = {-1, -1};
	int r = enter_for_children(x, saved);
	pid_t pid = -1;
	if (r >= 0) {
		int pidfd = -1;
		struct clone_args args = {
		    .flags = CLONE_PIDFD,
		    .pidfd = (uint64_t)(uintptr_t)&pidfd,
		    .exit_signal = SIGCHLD,
		};
		if (x->cg.v2_dirfd >= 0) {
			args.flags |= CLONE_INTO_CGROUP;
			args.cgroup = (uint64_t)x->cg.v2_dirfd;
			x->v2_joined = true;
		}
		pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
		if (pid < 0 && x->cg.v2_dirfd >= 0) {
			/* Not a cgroup we may clone into: the child writes itself in. */
			args.flags &= ~(uint64_t)CLONE_INTO_CGROUP;
			args.cgroup = 0;
			x->v2_joined = false;
			pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
		}
		if (pid == 0) {
			close(sv[0]);
			x->sock = sv[1];
			child_main(x);
		}
		/* A PID namespace whose init has begun to exit takes no one new. */
		if (pid < 0 && errno == ENOMEM && x->ns_fds[OCI_NS_PID] >= 0)
			r = herr_set(ESRCH,
				     "cannot exec in container \"%s\": its init is exiting "
				     "(its PID namespace takes no new process)",
				     x->o->id);
		else if (pid < 0)
			r = herr_sys("cannot create the process (clone3)");
		x->pid = pid;
		x->pidfd = pidfd;
	}
	leave_for_children(saved);
	close(sv[1]);
	return r;
}

static int write_pid_file(struct exec_ctx *x)
{
	if (!x->o->pid_file)
		return 0;
	char num[16];
	int n = snprintf(num, sizeof(num), "%d", x->pid);
	int r = fs_write_file_atomic(x->o->pid_file, num, (size_t)n);
	return r < 0 ? herr_ctx(r, "--pid-file") : 0;
}

static void forward_signals(struct exec_ctx *x)
{
	struct signalfd_siginfo si;
	while (x->sigfd >= 0 && read(x->sigfd, &si, sizeof(si)) == sizeof(si)) {
		int sig = (int)si.ssi_signo;
		if (sig == SIGCHLD)
			continue;
		if (sig == SIGWINCH && x->pty >= 0) {
			term_resize_from(STDIN_FILENO, x->pty);
			continue;
		}
		pidfd_send_signal(x->pidfd, sig, NULL, 0);
	}
}

/* Until the process is executed (EOF on the socket) or the child reports an error. */
static int serve_child(struct exec_ctx *x)
{
	for (;;) {
		struct pollfd pf[2] = {{.fd = x->sock, .events = POLLIN},
				       {.fd = x->sigfd, .events = POLLIN}};
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return herr_sys("poll");
		}
		if (pf[1].revents)
			forward_signals(x);
		if (!pf[0].revents)
			continue;
		struct sync_msg m;
		int fd = -1;
		int r = sync_recv(x->sock, &m, &fd);
		if (r == -EPIPE) {
			herr_clear();
			return 0;
		}
		if (r < 0)
			return r;
		if (m.type == SYNC_ERROR)
			return herr_set(m.code, "%s", m.data);
		if (m.type == SYNC_SECCOMP && fd >= 0) {
			r = seccomp_listener_send(x->seccomp, fd, x->pid, x->o->id, x->st.bundle,
						  x->st.annotations, OCI_RUNNING);
			closep(&fd);
			if (r < 0)
				return r;
			if ((r = sync_send(x->sock, SYNC_SECCOMP_DONE, 0, 0, NULL, -1)) < 0)
				return r;
			continue;
		}
		if (m.type != SYNC_PTY || fd < 0) {
			closep(&fd);
			return herr_set(EPROTO, "sync: unexpected message %u from the process",
					m.type);
		}
		if (x->o->console_socket) {
			r = term_send_to_console_socket(x->o->console_socket, fd);
			close(fd);
			if (r < 0)
				return herr_ctx(r, "--console-socket");
		} else {
			closep(&x->pty);
			x->pty = fd;
		}
	}
}

static void reap(struct exec_ctx *x)
{
	int st;
	if (!x->exited && waitpid(x->pid, &st, WNOHANG) == x->pid) {
		x->exited = true;
		x->status = st;
	}
}

static bool on_event(int fd, void *ctx)
{
	struct exec_ctx *x = ctx;
	if (fd == x->sigfd)
		forward_signals(x);
	reap(x);
	return x->exited;
}

static int wait_process(struct exec_ctx *x)
{
	if (x->pty >= 0) {
		term_resize_from(STDIN_FILENO, x->pty);
		herr_clear();
		struct term_proxy p = {.master = x->pty,
				       .extra_fds = {x->sigfd, x->pidfd},
				       .on_event = on_event,
				       .ctx = x};
		int r = term_proxy_run(&p);
		if (r < 0)
			return r;
	}
	while (!x->exited) {
		struct pollfd pf[2] = {{.fd = x->sigfd, .events = POLLIN},
				       {.fd = x->pidfd, .events = POLLIN}};
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return herr_sys("poll");
		}
		for (int i = 0; i < 2; i++)
			if (pf[i].revents)
				on_event(pf[i].fd, x);
	}
	return 0;
}

static void exec_ctx_free(struct exec_ctx *x)
{
	for (int i = 0; i < OCI_NS_COUNT; i++)
		closep(&x->ns_fds[i]);
	cgroup_join_close(&x->cg);
	closep(&x->v2_procs_fd);
	closep(&x->init_pidfd);
	closep(&x->sock);
	closep(&x->pidfd);
	closep(&x->pty);
	closep(&x->sigfd);
	hull_seccomp_free(x->seccomp);
	strv_free(x->env_own);
	free(x->gids_own);
	if (x->cfg)
		oci_config_free(x->cfg);
	oci_state_clear(&x->st);
}

static int prepare(struct exec_ctx *x)
{
	const struct exec_opts *o = x->o;
	int r = container_validate_id(o->id);
	if (r < 0 || (r = container_state(o->root, o->id, &x->st)) < 0)
		return r;
	if ((r = open_init(x)) < 0)
		return r;
	if ((r = oci_config_load(x->st.bundle, &x->cfg)) < 0)
		return r;
	if ((r = build_process(x)) < 0)
		return r;
	/* Compiled here, so a bad profile fails before anything runs. */
	char cache[PATH_MAX];
	snprintf(cache, sizeof(cache), "%s/" HULL_SECCOMP_CACHE, x->o->root);
	r = hull_seccomp_build_cached(x->cfg->linux.seccomp, x->cfg->path, cache, &x->seccomp);
	if (r < 0)
		return r;
	if ((r = open_cgroups(x)) < 0)
		return r;
	return open_namespaces(x);
}

int container_exec(const struct exec_opts *o, int *exit_status)
{
	*exit_status = 0;
	struct exec_ctx x = {.o = o,
			     .init_pidfd = -1,
			     .cg = {.v2_dirfd = -1},
			     .v2_procs_fd = -1,
			     .sock = -1,
			     .pidfd = -1,
			     .sigfd = -1,
			     .pty = -1};
	for (int i = 0; i < OCI_NS_COUNT; i++)
		x.ns_fds[i] = -1;
	int r = prepare(&x);
	sigset_t all, old;
	sigfillset(&all);
	bool blocked = false;
	/* Blocked before the process exists so that none is lost; it resets its own. */
	if (r >= 0 && !o->detach) {
		sigprocmask(SIG_BLOCK, &all, &old);
		blocked = true;
		x.sigfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK);
		if (x.sigfd < 0)
			r = herr_sys("signalfd");
	}
	if (r >= 0)
		r = spawn(&x);
	/* The child has its own copies of the join handles. */
	for (int i = 0; i < OCI_NS_COUNT; i++)
		closep(&x.ns_fds[i]);
	cgroup_join_close(&x.cg);
	closep(&x.v2_procs_fd);
	if (r >= 0)
		r = serve_child(&x);
	if (r >= 0)
		r = write_pid_file(&x);
	if (r < 0 && x.pid > 0) {
		/* The child reported an error, or we failed: it must not run on. */
		pidfd_send_signal(x.pidfd, SIGKILL, NULL, 0);
		waitpid(x.pid, NULL, 0);
	} else if (r >= 0 && !o->detach) {
		r = wait_process(&x);
		if (x.exited)
			*exit_status = WIFSIGNALED(x.status) ? 128 + WTERMSIG(x.status)
							     : WEXITSTATUS(x.status);
	}
	closep(&x.pty);
	closep(&x.sigfd);
	if (blocked)
		sigprocmask(SIG_SETMASK, &old, NULL);
	exec_ctx_free(&x);
	return r;
}
