/* pause, resume, ps, update and kill --all: a live container through its cgroups. */
#include "control.h"
#include "cgfiles.h"
#include "internal.h"
#include "cgroup-resources.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#define FREEZE_TIMEOUT_MS 5000

static bool is_v2(const char *dir)
{
	struct statfs sf;
	return statfs(dir, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

/* ---- freezing ---- */

static void sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * The v1 freezer passes through FREEZING while it catches every task; a task
 * forked meanwhile may escape the first round, so each retry writes FROZEN again.
 */
static int v1_freeze(const char *leaf, bool freeze)
{
	const char *want = freeze ? "FROZEN" : "THAWED";
	long long deadline = cgf_now_ms() + FREEZE_TIMEOUT_MS;
	long wait = 100;
	_cleanup_free_ char *cur = NULL;
	for (;;) {
		int r = cgf_write_knob(leaf, "freezer.state", want);
		if (r < 0)
			return r;
		free(cur);
		cur = cgf_slurp(leaf, "freezer.state");
		if (cur && !strncmp(cur, want, strlen(want)))
			return 0;
		if (cgf_now_ms() >= deadline)
			break;
		sleep_us(wait);
		wait = wait < 50000 ? wait * 2 : 50000;
	}
	if (freeze)
		cgf_write_knob(leaf, "freezer.state", "THAWED");
	if (cur)
		cur[strcspn(cur, "\n")] = 0;
	return herr_set(EBUSY, "%s/freezer.state: still %s after %d s, not %s", leaf,
			cur ? cur : "unreadable", FREEZE_TIMEOUT_MS / 1000, want);
}

/* v2: cgroup.events says "frozen 1" once every task stopped; it raises POLLPRI on change. */
static int v2_freeze(const char *leaf, bool freeze)
{
	char p[4200], buf[512];
	snprintf(p, sizeof(p), "%s/cgroup.events", leaf);
	_cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return herr_sys("open %s", p);
	int r = cgf_write_knob(leaf, "cgroup.freeze", freeze ? "1" : "0");
	if (r < 0)
		return r;
	uint64_t want = freeze, got = 2;
	long long deadline = cgf_now_ms() + FREEZE_TIMEOUT_MS;
	for (;;) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			return herr_sys("read %s", p);
		buf[n] = 0;
		if (cgf_kv_get(buf, "frozen", &got) && got == want)
			return 0;
		long long left = deadline - cgf_now_ms();
		if (left <= 0)
			break;
		struct pollfd pf = {.fd = fd, .events = POLLPRI};
		if (poll(&pf, 1, (int)left) < 0 && errno != EINTR)
			return herr_sys("poll %s", p);
	}
	if (freeze)
		cgf_write_knob(leaf, "cgroup.freeze", "0");
	return herr_set(EBUSY, "%s: not %s after %d s", p, freeze ? "frozen" : "thawed",
			FREEZE_TIMEOUT_MS / 1000);
}

/* The v1 freezer where one is mounted (hybrid too), else the cgroup2 leaf. */
static const char *freezer_of(char *const *leaves, bool *v1)
{
	const char *l = cgf_leaf_with(leaves, "freezer.state");
	*v1 = l != NULL;
	return l ? l : cgf_leaf_with(leaves, "cgroup.freeze");
}

static int freeze(const char *leaf, bool v1, bool on)
{
	return v1 ? v1_freeze(leaf, on) : v2_freeze(leaf, on);
}

static bool is_frozen(const char *leaf, bool v1)
{
	_cleanup_free_ char *s = cgf_slurp(leaf, v1 ? "freezer.state" : "cgroup.freeze");
	if (!s)
		return false;
	return v1 ? strncmp(s, "THAWED", 6) != 0 : s[0] == '1';
}

int container_pause(const char *root, const char *id)
{
	_cleanup_close_ int lock = -1;
	int r = statedir_open_locked(root, id, &lock);
	if (r < 0)
		return r;
	_cleanup_state_ struct oci_state st = {0};
	if ((r = cgf_load(root, id, &st, "pause it")) < 0)
		return r;
	if (st.status == OCI_PAUSED)
		return herr_set(EINVAL, "container \"%s\" is already paused", id);
	/* A created init frozen before execve would hold `start` forever. */
	if (st.status != OCI_RUNNING)
		return herr_set(EINVAL, "container \"%s\" is not running (it is %s)", id,
				oci_status_name(st.status));
	bool v1;
	const char *leaf = freezer_of(st.cgroup_leaves, &v1);
	if (!leaf)
		return herr_set(ENOTSUP, "container \"%s\": no freezer in its cgroups", id);
	r = freeze(leaf, v1, true);
	return r < 0 ? herr_ctx(r, "cannot pause container \"%s\"", id) : 0;
}

int container_resume(const char *root, const char *id)
{
	_cleanup_close_ int lock = -1;
	int r = statedir_open_locked(root, id, &lock);
	if (r < 0)
		return r;
	_cleanup_state_ struct oci_state st = {0};
	if ((r = cgf_load(root, id, &st, "resume it")) < 0)
		return r;
	if (st.status != OCI_PAUSED)
		return herr_set(EINVAL, "container \"%s\" is not paused", id);
	/* Thaw whatever is frozen, whichever freezer froze it. */
	for (size_t i = 0; st.cgroup_leaves[i]; i++) {
		const char *l = st.cgroup_leaves[i];
		bool v1 = cgf_has_file(l, "freezer.state");
		if ((v1 || cgf_has_file(l, "cgroup.freeze")) && is_frozen(l, v1) &&
		    (r = freeze(l, v1, false)) < 0)
			return herr_ctx(r, "cannot resume container \"%s\"", id);
	}
	return 0;
}

/* ---- processes and signals ---- */

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

/* Every PID in cgroup.procs of the leaves, sorted and unique. */
static int leaves_pids(char *const *leaves, pid_t **out, size_t *np)
{
	pid_t *v = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; leaves && leaves[i]; i++) {
		_cleanup_free_ char *s = cgf_slurp(leaves[i], "cgroup.procs");
		for (char *p = s, *end; p && *p; p = end) {
			long pid = strtol(p, &end, 10);
			if (end == p)
				break;
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				pid_t *nv = realloc(v, cap * sizeof(*v));
				if (!nv) {
					free(v);
					return herr_set(ENOMEM, "out of memory");
				}
				v = nv;
			}
			v[n++] = (pid_t)pid;
		}
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_pid);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (!u || v[u - 1] != v[i])
			v[u++] = v[i];
	*out = v;
	*np = u;
	return 0;
}

int container_ps(const char *root, const char *id, pid_t **pids, size_t *n)
{
	*pids = NULL;
	*n = 0;
	_cleanup_state_ struct oci_state st = {0};
	int r = cgf_load(root, id, &st, NULL);
	if (r < 0)
		return r;
	if (st.cgroup_leaves && st.cgroup_leaves[0])
		return leaves_pids(st.cgroup_leaves, pids, n);
	/* Without cgroups all we know of is the init. */
	if (st.status == OCI_STOPPED)
		return 0;
	if (!(*pids = malloc(sizeof(pid_t))))
		return herr_set(ENOMEM, "out of memory");
	(*pids)[0] = st.pid;
	*n = 1;
	return 0;
}

int container_kill_leaves(char *const *leaves, int sig)
{
	bool killed = false;
	for (size_t i = 0; sig == SIGKILL && leaves && leaves[i]; i++) {
		if (!cgf_has_file(leaves[i], "cgroup.kill"))
			continue;
		int r = cgf_write_knob(leaves[i], "cgroup.kill", "1");
		if (r < 0)
			return r;
		killed = true;
	}
	_cleanup_free_ pid_t *pids = NULL;
	size_t n;
	int r = leaves_pids(leaves, &pids, &n);
	if (r < 0)
		return r;
	bool v1 = false;
	const char *fz = n ? freezer_of(leaves, &v1) : NULL;
	bool was_frozen = fz && is_frozen(fz, v1);
	/*
	 * Signalled one by one, a process could fork a child that the walk missed;
	 * frozen, nothing forks. A freezer that fails to freeze only costs that
	 * guarantee. After cgroup.kill everything left is dying already.
	 */
	bool froze = fz && !killed && !was_frozen && freeze(fz, v1, true) >= 0;
	herr_clear();
	if (froze) {
		free(pids);
		pids = NULL;
		if ((r = leaves_pids(leaves, &pids, &n)) < 0) {
			freeze(fz, v1, false);
			return r;
		}
	}
	for (size_t i = 0; i < n; i++)
		kill(pids[i], sig);
	/* A task in a frozen v1 cgroup cannot even die. */
	if (fz && (froze || (was_frozen && sig == SIGKILL)) && (r = freeze(fz, v1, false)) < 0)
		return r;
	return 0;
}

int container_kill_all(const char *root, const char *id, int sig)
{
	_cleanup_state_ struct oci_state st = {0};
	int r = cgf_load(root, id, &st, NULL);
	if (r < 0)
		return r;
	if (st.status == OCI_STOPPED)
		return herr_set(ESRCH, "container \"%s\" is not running", id);
	if (st.cgroup_leaves && st.cgroup_leaves[0]) {
		r = container_kill_leaves(st.cgroup_leaves, sig);
		return r < 0 ? herr_ctx(r, "cannot signal container \"%s\"", id) : 0;
	}
	/* No cgroup: the init is the one process we can name. */
	_cleanup_close_ int pidfd = pidfd_open(st.pid, 0);
	if (pidfd < 0 || proc_start_time(st.pid) != st.start_time)
		return herr_set(ESRCH, "container \"%s\" is not running", id);
	if (pidfd_send_signal(pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
		return herr_sys("cannot signal container \"%s\"", id);
	return 0;
}

/* ---- update ---- */

int container_update(const char *root, const char *id, const struct oci_resources *res)
{
	_cleanup_close_ int lock = -1;
	int r = statedir_open_locked(root, id, &lock);
	if (r < 0)
		return r;
	_cleanup_state_ struct oci_state st = {0};
	if ((r = cgf_load(root, id, &st, "update its resources")) < 0)
		return r;
	if (st.status == OCI_STOPPED)
		return herr_set(ESRCH, "container \"%s\" is not running", id);
	_cleanup_strv_ char **v1 = NULL;
	const char *v2 = NULL;
	for (size_t i = 0; st.cgroup_leaves[i]; i++) {
		if (is_v2(st.cgroup_leaves[i]))
			v2 = st.cgroup_leaves[i];
		else if (strv_push(&v1, st.cgroup_leaves[i]) < 0)
			return herr_set(ENOMEM, "out of memory");
	}
	/* No device rules: an update leaves the device cgroup alone, as runc does. */
	if (v1 && (r = cgroup_v1_apply(v1, res, NULL, 0, true)) < 0)
		return herr_ctx(r, "cannot update container \"%s\"", id);
	if (v2 && (r = cgroup_v2_apply(v2, res, NULL, 0, true, v1 != NULL)) < 0)
		return herr_ctx(r, "cannot update container \"%s\"", id);
	return 0;
}
