#include "internal.h"
#include "namespaces.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const unsigned long clone_flags[OCI_NS_COUNT] = {
    [OCI_NS_PID] = CLONE_NEWPID,       [OCI_NS_NET] = CLONE_NEWNET,   [OCI_NS_MNT] = CLONE_NEWNS,
    [OCI_NS_IPC] = CLONE_NEWIPC,       [OCI_NS_UTS] = CLONE_NEWUTS,   [OCI_NS_USER] = CLONE_NEWUSER,
    [OCI_NS_CGROUP] = CLONE_NEWCGROUP, [OCI_NS_TIME] = CLONE_NEWTIME,
};

unsigned long ns_clone_flag(enum oci_ns ns)
{
	return clone_flags[ns];
}

int ns_open_paths(struct create_ctx *c)
{
	for (int i = 0; i < OCI_NS_COUNT; i++) {
		c->ns_fds[i] = -1;
		const struct oci_namespace *ns = &c->cfg->linux.ns[i];
		if (!ns->present || !ns->path)
			continue;
		int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return herr_sys("linux.namespaces: %s namespace path %s", oci_ns_name(i),
					ns->path);
		c->ns_fds[i] = fd;
	}
	return 0;
}

/*
 * An unprivileged parent (or newuidmap for it) can write the id maps only of a
 * child whose /proc files it owns, and a non-dumpable process's belong to root.
 * So the init starts dumpable, inheriting it from us for the moment of the
 * clone, and drops it as soon as its maps are written (ns_child_join).
 */
static bool dumpable_for_maps;

/*
 * setns() to a PID or time namespace changes only what our children get, so the
 * parent joins those before clone and goes back afterwards (hooks it spawns later
 * must not land in the container's PID namespace).
 */
int ns_parent_join_for_children(struct create_ctx *c, int saved[2])
{
	static const enum oci_ns which[2] = {OCI_NS_PID, OCI_NS_TIME};
	static const char *const own[2] = {"/proc/self/ns/pid_for_children",
					   "/proc/self/ns/time_for_children"};
	const struct oci_namespace *user = &c->cfg->linux.ns[OCI_NS_USER];
	if (geteuid() != 0 && user->present && !user->path) {
		if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
			return herr_sys("cannot make the runtime dumpable for the id maps");
		dumpable_for_maps = true;
	}
	/*
	 * Joining a PID namespace takes CAP_SYS_ADMIN in our own user namespace too,
	 * and a new one belongs to the user namespace of who makes it: an
	 * unprivileged runtime joins the container's user namespace first, for good
	 * (none of the host's privileges is needed after this), and the init finds
	 * it already joined.
	 */
	if (geteuid() != 0 && user->present && user->path && c->ns_fds[OCI_NS_USER] >= 0) {
		if (setns(c->ns_fds[OCI_NS_USER], CLONE_NEWUSER) < 0)
			return herr_sys("linux.namespaces: join user namespace %s", user->path);
		close(c->ns_fds[OCI_NS_USER]);
		c->ns_fds[OCI_NS_USER] = -1;
	}
	for (int k = 0; k < 2; k++) {
		saved[k] = -1;
		int fd = c->ns_fds[which[k]];
		if (fd < 0)
			continue;
		saved[k] = open(own[k], O_RDONLY | O_CLOEXEC);
		if (saved[k] < 0)
			return herr_sys("open %s", own[k]);
		if (setns(fd, clone_flags[which[k]]) < 0)
			return herr_sys("linux.namespaces: join %s namespace %s",
					oci_ns_name(which[k]), c->cfg->linux.ns[which[k]].path);
	}
	return 0;
}

void ns_parent_restore(int saved[2])
{
	static const int types[2] = {CLONE_NEWPID, CLONE_NEWTIME};
	if (dumpable_for_maps) {
		prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
		dumpable_for_maps = false;
	}
	for (int k = 0; k < 2; k++) {
		if (saved[k] < 0)
			continue;
		setns(saved[k], types[k]);
		close(saved[k]);
		saved[k] = -1;
	}
}

/*
 * Offsets can only be written while a time namespace has no member, so the parent
 * unshares one for its children, writes the offsets, and the init is cloned into it.
 */
int ns_setup_timens(struct create_ctx *c)
{
	const struct oci_linux *l = &c->cfg->linux;
	if (!l->ns[OCI_NS_TIME].present || l->ns[OCI_NS_TIME].path) {
		if (l->time_monotonic.present || l->time_boottime.present)
			if (!l->ns[OCI_NS_TIME].present || l->ns[OCI_NS_TIME].path)
				return herr_set(EINVAL, "linux.timeOffsets: needs a new time "
							"namespace in linux.namespaces");
		return 0;
	}
	if (unshare(CLONE_NEWTIME) < 0)
		return herr_sys("linux.namespaces: cannot create a time namespace");
	char buf[128];
	int n = 0;
	if (l->time_monotonic.present)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "monotonic %lld %u\n",
			      (long long)l->time_monotonic.secs, l->time_monotonic.nanosecs);
	if (l->time_boottime.present)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "boottime %lld %u\n",
			      (long long)l->time_boottime.secs, l->time_boottime.nanosecs);
	if (n == 0)
		return 0;
	/* Each line must be a separate write. */
	_cleanup_close_ int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return herr_sys("linux.timeOffsets: open /proc/self/timens_offsets");
	for (char *line = buf; *line;) {
		char *eol = strchr(line, '\n');
		if (write(fd, line, (size_t)(eol - line + 1)) < 0)
			return herr_sys("linux.timeOffsets: cannot set \"%.*s\"", (int)(eol - line),
					line);
		line = eol + 1;
	}
	return 0;
}

/* ---- linux.uidMappings / linux.gidMappings ---- */

/* The kernel's limits: 340 extents, and the whole map in one write of less than a page. */
#define IDMAP_MAX_EXTENTS 340

struct idmap_kind {
	const char *key;  /* "linux.uidMappings" */
	const char *ids;  /* "uids" */
	const char *file; /* "/etc/subuid" */
	const char *tool; /* "newuidmap" */
	const char *map;  /* "uid_map" */
};

static const struct idmap_kind uid_kind = {"linux.uidMappings", "uids", "/etc/subuid", "newuidmap",
					   "uid_map"};
static const struct idmap_kind gid_kind = {"linux.gidMappings", "gids", "/etc/subgid", "newgidmap",
					   "gid_map"};

static uint64_t idmap_end(const struct oci_idmap *m, bool host)
{
	return (uint64_t)(host ? m->host_id : m->container_id) + m->size;
}

static bool idmap_overlap(const struct oci_idmap *a, const struct oci_idmap *b, bool host)
{
	uint64_t a0 = host ? a->host_id : a->container_id, b0 = host ? b->host_id : b->container_id;
	return a0 < idmap_end(b, host) && b0 < idmap_end(a, host);
}

static size_t idmap_text(const struct oci_idmap *m, size_t n, char *buf, size_t len)
{
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf ? buf + off : NULL, buf ? len - off : 0, "%u %u %u\n",
				 m[i].container_id, m[i].host_id, m[i].size);
		off += (size_t)w;
		if (buf && off >= len)
			return off;
	}
	return off;
}

/* What the kernel would refuse, said before anything exists. */
static int check_one_map(const struct idmap_kind *k, const struct oci_idmap *m, size_t n)
{
	if (n > IDMAP_MAX_EXTENTS)
		return herr_set(EINVAL, "%s: %zu ranges; the kernel allows at most %d", k->key, n,
				IDMAP_MAX_EXTENTS);
	for (size_t i = 0; i < n; i++) {
		if (m[i].size == 0)
			return herr_set(EINVAL, "%s[%zu]: size is 0", k->key, i);
		for (int host = 0; host < 2; host++)
			if (idmap_end(&m[i], host) > (uint64_t)UINT32_MAX)
				return herr_set(EINVAL, "%s[%zu]: %s %u + size %u goes past %u",
						k->key, i, host ? "hostID" : "containerID",
						host ? m[i].host_id : m[i].container_id, m[i].size,
						UINT32_MAX - 1);
		for (size_t j = 0; j < i; j++)
			for (int host = 0; host < 2; host++)
				if (idmap_overlap(&m[i], &m[j], host)) {
					const struct oci_idmap *a = &m[j], *b = &m[i];
					return herr_set(
					    EINVAL,
					    "%s[%zu]: %s range %u-%llu overlaps %s[%zu] (%u-%llu)",
					    k->key, i, host ? "hostID" : "containerID",
					    host ? b->host_id : b->container_id,
					    (unsigned long long)idmap_end(b, host) - 1, k->key, j,
					    host ? a->host_id : a->container_id,
					    (unsigned long long)idmap_end(a, host) - 1);
				}
	}
	long page = sysconf(_SC_PAGESIZE);
	size_t text = idmap_text(m, n, NULL, 0);
	if (page > 0 && text >= (size_t)page)
		return herr_set(EINVAL,
				"%s: the %zu ranges take %zu bytes as %s text; the kernel takes "
				"less than %ld",
				k->key, n, text, k->map, page);
	return 0;
}

/* Only the caller's own id, which the kernel lets the owner of the namespace write itself. */
static bool map_is_own(const struct oci_idmap *m, size_t n, uint32_t own)
{
	return n == 1 && m[0].host_id == own && m[0].size == 1;
}

/* "/usr/bin/newuidmap", from PATH or the usual places. */
static int find_tool(const char *name, char *buf, size_t len)
{
	const char *path = getenv("PATH");
	char dirs[4096];
	snprintf(dirs, sizeof(dirs), "%s:/usr/bin:/usr/sbin:/bin:/sbin",
		 path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	char *save = NULL;
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if (*d != '/')
			continue;
		snprintf(buf, len, "%s/%s", d, name);
		if (access(buf, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

struct subid_range {
	uint64_t start, count;
};

/* The ranges /etc/subuid (or subgid) gives a user, by name or by number. */
static int read_subids(const char *file, const char *user, uint32_t id, struct subid_range **out,
		       size_t *n)
{
	*out = NULL;
	*n = 0;
	_cleanup_fclose_ FILE *f = fopen(file, "re");
	if (!f)
		return errno == ENOENT ? 0 : herr_sys("cannot read %s", file);
	char line[512], num[16];
	snprintf(num, sizeof(num), "%u", id);
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2 || line[0] == '#')
			continue;
		*c1 = 0;
		if (strcmp(line, num) && (!user || strcmp(line, user)))
			continue;
		char *e1, *e2;
		unsigned long long s = strtoull(c1 + 1, &e1, 10), cnt = strtoull(c2 + 1, &e2, 10);
		if (e1 != c2 || e2 == c2 + 1 || !cnt)
			continue;
		struct subid_range *v = realloc(*out, (*n + 1) * sizeof(**out));
		if (!v) {
			free(*out);
			*out = NULL;
			return herr_set(ENOMEM, "out of memory");
		}
		*out = v;
		v[(*n)++] = (struct subid_range){s, cnt};
	}
	return 0;
}

/* Whether [start, start+count) is covered by the ranges, adjacent ones joined (as shadow does). */
static bool subids_cover(const struct subid_range *r, size_t n, uint64_t start, uint64_t count)
{
	uint64_t end = start + count;
	for (bool moved = true; moved && start < end;) {
		moved = false;
		for (size_t i = 0; i < n; i++)
			if (r[i].start <= start && start < r[i].start + r[i].count) {
				start = r[i].start + r[i].count;
				moved = true;
			}
	}
	return start >= end;
}

/*
 * An unprivileged caller maps more than its own id through the setuid helper,
 * which allows only what /etc/subuid gives the user: check it here, so the error
 * names the file and the range and comes before anything is created.
 */

/*
 * The caller's name in the host's /etc/passwd, read directly: hull is linked
 * statically, and glibc's getpwuid_r would need NSS modules at run time.
 * /etc/subuid may name the user by uid instead, which read_subids accepts.
 */
static const char *host_user_name(uid_t uid, char *buf, size_t len)
{
	_cleanup_fclose_ FILE *f = fopen("/etc/passwd", "re");
	char line[1024];
	while (f && fgets(line, sizeof(line), f)) {
		char *colon1 = strchr(line, ':');
		char *colon2 = colon1 ? strchr(colon1 + 1, ':') : NULL;
		if (!colon2 || strtoul(colon2 + 1, NULL, 10) != uid)
			continue;
		*colon1 = 0;
		snprintf(buf, len, "%s", line);
		return buf;
	}
	return NULL;
}

static int check_subids(const struct idmap_kind *k, const struct oci_idmap *m, size_t n,
			uint32_t own)
{
	char tool[4096];
	if (find_tool(k->tool, tool, sizeof(tool)) < 0)
		return herr_set(ENOENT,
				"%s: mapping more than your own id (%u) needs %s, which is not "
				"installed (Debian package uidmap)",
				k->key, own, k->tool);
	uid_t uid = getuid();
	char name[256];
	const char *user = host_user_name(uid, name, sizeof(name));
	_cleanup_free_ struct subid_range *r = NULL;
	size_t nr;
	int rc = read_subids(k->file, user, k == &uid_kind ? uid : getgid(), &r, &nr);
	if (rc < 0)
		return herr_ctx(rc, "%s", k->key);
	for (size_t i = 0; i < n; i++) {
		if (m[i].size == 1 && m[i].host_id == own)
			continue;
		if (subids_cover(r, nr, m[i].host_id, m[i].size))
			continue;
		char have[256] = "";
		for (size_t j = 0; j < nr && strlen(have) < sizeof(have) - 40; j++)
			snprintf(have + strlen(have), sizeof(have) - strlen(have), "%s%llu-%llu",
				 j ? ", " : "", (unsigned long long)r[j].start,
				 (unsigned long long)(r[j].start + r[j].count - 1));
		return herr_set(EPERM,
				"%s[%zu]: host %s %u-%llu are not yours: %s gives user %s (uid %u) "
				"%s%s",
				k->key, i, k->ids, m[i].host_id,
				(unsigned long long)m[i].host_id + m[i].size - 1, k->file,
				user ? user : "?", (unsigned)uid, nr ? "only " : "no range", have);
	}
	return 0;
}

int ns_check_id_maps(const struct oci_config *cfg)
{
	const struct oci_linux *l = &cfg->linux;
	int r;
	if ((r = check_one_map(&uid_kind, l->uid_mappings, l->n_uid_mappings)) < 0 ||
	    (r = check_one_map(&gid_kind, l->gid_mappings, l->n_gid_mappings)) < 0)
		return herr_ctx(r, "%s", cfg->path);
	if (!l->ns[OCI_NS_USER].present || l->ns[OCI_NS_USER].path || geteuid() == 0)
		return 0;
	if (!map_is_own(l->uid_mappings, l->n_uid_mappings, geteuid()) &&
	    (r = check_subids(&uid_kind, l->uid_mappings, l->n_uid_mappings, getuid())) < 0)
		return herr_ctx(r, "%s", cfg->path);
	if (!map_is_own(l->gid_mappings, l->n_gid_mappings, getegid()) &&
	    (r = check_subids(&gid_kind, l->gid_mappings, l->n_gid_mappings, getgid())) < 0)
		return herr_ctx(r, "%s", cfg->path);
	return 0;
}

/* newuidmap PID ID HOSTID SIZE...; its own message, if it fails, goes into ours. */
static int run_map_tool(const struct idmap_kind *k, pid_t pid, const struct oci_idmap *m, size_t n)
{
	char tool[4096];
	if (find_tool(k->tool, tool, sizeof(tool)) < 0)
		return herr_set(ENOENT, "%s: %s is not installed (Debian package uidmap)", k->key,
				k->tool);
	char **argv = calloc(3 * n + 3, sizeof(char *));
	char *nums = malloc((3 * n + 1) * 12);
	if (!argv || !nums) {
		free(argv);
		free(nums);
		return herr_set(ENOMEM, "out of memory");
	}
	argv[0] = (char *)k->tool;
	snprintf(nums, 12, "%d", pid);
	argv[1] = nums;
	for (size_t i = 0; i < n; i++) {
		const uint32_t v[3] = {m[i].container_id, m[i].host_id, m[i].size};
		for (int f = 0; f < 3; f++) {
			char *s = nums + (1 + 3 * i + (size_t)f) * 12;
			snprintf(s, 12, "%u", v[f]);
			argv[2 + 3 * i + (size_t)f] = s;
		}
	}
	int p[2];
	int r = 0;
	if (pipe2(p, O_CLOEXEC) < 0) {
		r = herr_sys("%s: pipe", k->key);
		goto out;
	}
	pid_t child = fork();
	if (child < 0) {
		r = herr_sys("%s: fork %s", k->key, k->tool);
		close(p[0]);
		close(p[1]);
		goto out;
	}
	if (child == 0) {
		dup2(p[1], STDERR_FILENO);
		dup2(p[1], STDOUT_FILENO);
		execv(tool, argv);
		dprintf(STDERR_FILENO, "cannot execute %s: %s", tool, strerror(errno));
		_exit(127);
	}
	close(p[1]);
	char out[512];
	size_t len = 0;
	ssize_t got;
	while ((got = read(p[0], out + len, sizeof(out) - 1 - len)) > 0 ||
	       (got < 0 && errno == EINTR))
		if (got > 0)
			len += (size_t)got;
	close(p[0]);
	out[len] = 0;
	while (len && out[len - 1] == '\n')
		out[--len] = 0;
	int status;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		r = herr_set(EPERM, "%s: %s failed%s%s", k->key, tool, len ? ": " : "", out);
out:
	free(argv);
	free(nums);
	return r;
}

static int write_map(pid_t pid, const struct idmap_kind *k, const struct oci_idmap *m, size_t n)
{
	char buf[4096];
	size_t len = idmap_text(m, n, buf, sizeof(buf));
	if (len >= sizeof(buf))
		return herr_set(E2BIG, "%s: too many mappings", k->key);
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, k->map);
	int r = fs_write_file(path, buf, len);
	return r < 0 ? herr_ctx(r, "%s", k->key) : 0;
}

int ns_write_id_maps(struct create_ctx *c)
{
	const struct oci_linux *l = &c->cfg->linux;
	if (!l->ns[OCI_NS_USER].present || l->ns[OCI_NS_USER].path)
		return 0;
	if (!l->n_uid_mappings || !l->n_gid_mappings)
		return herr_set(EINVAL, "linux.uidMappings, linux.gidMappings: a new user "
					"namespace needs both");
	int r;
	if (geteuid() == 0 || map_is_own(l->uid_mappings, l->n_uid_mappings, geteuid()))
		r = write_map(c->pid, &uid_kind, l->uid_mappings, l->n_uid_mappings);
	else
		r = run_map_tool(&uid_kind, c->pid, l->uid_mappings, l->n_uid_mappings);
	if (r < 0)
		return r;
	if (geteuid() == 0)
		return write_map(c->pid, &gid_kind, l->gid_mappings, l->n_gid_mappings);
	if (!map_is_own(l->gid_mappings, l->n_gid_mappings, getegid()))
		return run_map_tool(&gid_kind, c->pid, l->gid_mappings, l->n_gid_mappings);
	/* The kernel lets us map our own gid only once setgroups is off for good. */
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/setgroups", c->pid);
	if ((r = fs_write_file(path, "deny", 4)) < 0)
		return herr_ctx(r, "linux.gidMappings");
	return write_map(c->pid, &gid_kind, l->gid_mappings, l->n_gid_mappings);
}

/* In the init: join namespaces by path (user first, so the rest are ours to join). */
static bool same_ns(int fd, const char *own)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && stat(own, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int ns_child_join(struct create_ctx *c)
{
	static const enum oci_ns order[] = {OCI_NS_USER, OCI_NS_IPC,	OCI_NS_UTS,
					    OCI_NS_NET,	 OCI_NS_CGROUP, OCI_NS_MNT};
	if (dumpable_for_maps && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return herr_sys("cannot make the init non-dumpable");
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		enum oci_ns ns = order[k];
		if (c->ns_fds[ns] < 0)
			continue;
		/* Already there when a helper made our pid namespace in it (create.c). */
		if (ns == OCI_NS_USER && same_ns(c->ns_fds[ns], "/proc/self/ns/user")) {
			closep(&c->ns_fds[ns]);
			continue;
		}
		if (setns(c->ns_fds[ns], clone_flags[ns]) < 0)
			return herr_sys("linux.namespaces: join %s namespace %s", oci_ns_name(ns),
					c->cfg->linux.ns[ns].path);
		close(c->ns_fds[ns]);
		c->ns_fds[ns] = -1;
	}
	/* In a joined user namespace, as in a new one, the init starts as its root. */
	const struct oci_namespace *user = &c->cfg->linux.ns[OCI_NS_USER];
	if (user->present && user->path && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0))
		return herr_sys("linux.namespaces: cannot become uid 0 in user namespace %s (it "
				"must map uid and gid 0)",
				user->path);
	if (c->unshare_flags && unshare((int)c->unshare_flags) < 0)
		return herr_sys("linux.namespaces: cannot create namespaces in the joined user "
				"namespace");
	return 0;
}
