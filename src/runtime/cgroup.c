#include "cgroup.h"
#include "rootless.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

/*
 * The host's hierarchies do not change while one hull command runs, and a run
 * asks for them up to four times (the v2 cgroup, the v1 ones, the init's cgroup
 * mount): so /proc/self/mountinfo is read once per process. The init inherits
 * the answer with the parent's memory; it was taken before the init made any
 * mount, and every mount the init makes lands inside the rootfs.
 */
static struct {
	bool known;
	enum cgroup_layout layout;
	struct cgroup_hier *h; /* own is not filled in: it is per call */
	size_t n;
} host;

enum cgroup_layout cgroup_detect_layout(void)
{
	if (host.known)
		return host.layout;
	struct statfs sf;
	if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		host.layout = CGROUP_UNIFIED;
	else if (statfs("/sys/fs/cgroup/unified", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
		host.layout = CGROUP_HYBRID;
	else
		host.layout = CGROUP_LEGACY;
	host.known = true;
	return host.layout;
}

/* The controllers a v1 mount carries, from its super options ("rw,memory"). */
static char *v1_controllers(const char *superopts)
{
	char buf[512], out[512] = "";
	snprintf(buf, sizeof(buf), "%s", superopts);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "rw") || !strcmp(t, "ro") || !strncmp(t, "release_agent=", 14) ||
		    !strcmp(t, "clone_children") || !strcmp(t, "noprefix") || !strcmp(t, "xattr") ||
		    !strncmp(t, "cpuset_v2_mode", 14))
			continue;
		if (*out)
			strncat(out, ",", sizeof(out) - strlen(out) - 1);
		strncat(out, t, sizeof(out) - strlen(out) - 1);
	}
	return strdup(out);
}

/* The caller's path in the hierarchy with these controllers, from /proc/self/cgroup. */
static char *own_path(const char *procself, const char *controllers, bool v2)
{
	const char *p = procself;
	while (p && *p) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		char line[4096];
		snprintf(line, sizeof(line), "%.*s", (int)ll, p);
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (c2) {
			*c1 = *c2 = 0; /* "id", "controllers", "path" */
			const char *ctl = c1 + 1;
			if ((v2 && !strcmp(line, "0") && !*ctl) ||
			    (!v2 && !strcmp(ctl, controllers)))
				return strdup(c2 + 1);
		}
		p = eol ? eol + 1 : NULL;
	}
	return strdup("/");
}

/* The n-th space-separated field of line (0-based), cut out in place; NULL if none. */
static char *field(char *line, int n, char **rest)
{
	char *p = line;
	for (int i = 0; i < n && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p)
		return NULL;
	char *e = strchr(p, ' ');
	if (e)
		*e++ = 0;
	if (rest)
		*rest = e;
	return p;
}

static int read_mounted(struct cgroup_hier **out, size_t *np)
{
	/* A pure v2 host has one hierarchy, /sys/fs/cgroup itself: no need to read the mount table.
	 */
	if (cgroup_detect_layout() == CGROUP_UNIFIED) {
		struct cgroup_hier *v = calloc(1, sizeof(*v));
		if (!v || !(v->mountpoint = strdup("/sys/fs/cgroup")) ||
		    !(v->controllers = strdup(""))) {
			cgroup_hiers_free(v, v ? 1 : 0);
			return herr_set(ENOMEM, "out of memory");
		}
		v->v2 = true;
		*out = v;
		*np = 1;
		return 0;
	}
	_cleanup_free_ char *mi = NULL;
	int r = fs_read_file("/proc/self/mountinfo", 1 << 22, &mi, NULL);
	if (r < 0)
		return r;
	struct cgroup_hier *v = NULL;
	size_t n = 0;
	char *save = NULL;
	for (char *line = strtok_r(mi, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		/* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
		char *sep = strstr(line, " - cgroup");
		if (!sep || (sep[9] != ' ' && strncmp(sep + 9, "2 ", 2)))
			continue;
		*sep = 0;
		char *rest = NULL;
		char *mp = field(line, 4, NULL);
		char *fstype = field(sep + 3, 0, &rest);
		char *superopts = rest ? field(rest, 1, NULL) : NULL;
		if (!mp || !fstype || strncmp(mp, "/sys/fs/cgroup", 14))
			continue;
		bool v2 = !strcmp(fstype, "cgroup2");
		struct cgroup_hier *nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			cgroup_hiers_free(v, n);
			return herr_set(ENOMEM, "out of memory");
		}
		v = nv;
		v[n] = (struct cgroup_hier){
		    .mountpoint = strdup(mp),
		    .v2 = v2,
		    .controllers = v2 ? strdup("") : v1_controllers(superopts ? superopts : "")};
		n++;
		if (!v[n - 1].mountpoint || !v[n - 1].controllers) {
			cgroup_hiers_free(v, n);
			return herr_set(ENOMEM, "out of memory");
		}
	}
	*out = v;
	*np = n;
	return 0;
}

int cgroup_hiers_mounted(const struct cgroup_hier **out, size_t *np)
{
	if (!host.h) {
		int r = read_mounted(&host.h, &host.n);
		if (r < 0)
			return r;
	}
	*out = host.h;
	*np = host.n;
	return 0;
}

int cgroup_hiers(struct cgroup_hier **out, size_t *np)
{
	const struct cgroup_hier *mounted;
	int r = cgroup_hiers_mounted(&mounted, np);
	if (r < 0)
		return r;
	/* Where the caller is changes (the init joins its cgroups): read it every time. */
	_cleanup_free_ char *self = NULL;
	if ((r = fs_read_file("/proc/self/cgroup", 1 << 16, &self, NULL)) < 0)
		return r;
	struct cgroup_hier *v = calloc(*np + 1, sizeof(*v));
	if (!v)
		return herr_set(ENOMEM, "out of memory");
	for (size_t i = 0; i < *np; i++) {
		const struct cgroup_hier *h = &mounted[i];
		v[i] = (struct cgroup_hier){.mountpoint = strdup(h->mountpoint),
					    .controllers = strdup(h->controllers),
					    .v2 = h->v2,
					    .own = own_path(self, h->controllers, h->v2)};
		if (!v[i].mountpoint || !v[i].controllers || !v[i].own) {
			cgroup_hiers_free(v, i + 1);
			return herr_set(ENOMEM, "out of memory");
		}
	}
	*out = v;
	return 0;
}

void cgroup_hiers_free(struct cgroup_hier *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].mountpoint);
		free(h[i].controllers);
		free(h[i].own);
	}
	free(h);
}

static int mkdir_tracked(const char *dir, char ***created)
{
	/* Usually only the leaf is missing: one mkdir, not one per path component. */
	if (mkdir(dir, 0755) == 0)
		return strv_push(created, dir) < 0 ? herr_set(ENOMEM, "out of memory") : 0;
	if (errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return herr_sys("cannot create cgroup %s", dir);
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", dir);
	/* Find the first missing ancestor, then create downwards, recording each. */
	size_t len = strlen(buf);
	char **made = NULL;
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		char c = buf[i];
		buf[i] = 0;
		if (mkdir(buf, 0755) == 0) {
			if (strv_push(&made, buf) < 0) {
				strv_free(made);
				return herr_set(ENOMEM, "out of memory");
			}
		} else if (errno != EEXIST) {
			int r = herr_sys("cannot create cgroup %s", buf);
			for (size_t k = strv_len(made); k > 0; k--)
				rmdir(made[k - 1]);
			strv_free(made);
			return r;
		}
		buf[i] = c;
	}
	/* deepest first */
	for (size_t k = strv_len(made); k > 0; k--)
		strv_push(created, made[k - 1]);
	strv_free(made);
	return 0;
}

static int check_path(const char *p)
{
	/* cgroupsPath must not climb out of the hierarchy. */
	for (const char *s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '/' || s[2] == 0))
			return herr_set(EINVAL, "linux.cgroupsPath: \"%s\" must not contain \"..\"",
					p);
	return 0;
}

/*
 * A new v1 cpuset cgroup starts with no cpus and no mems: nothing could join it.
 * Fill file from the nearest ancestor that has it, into val; dir's own value
 * is not read when the caller knows it is empty (a directory it just made).
 */
static int cpuset_fill(const char *mountpoint, const char *dir, const char *file, bool empty,
		       char *val, size_t len)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	if (!empty) {
		_cleanup_free_ char *v = NULL;
		if (fs_read_file(p, 4096, &v, NULL) < 0)
			return -herr_code();
		if (v[0] && v[0] != '\n') {
			snprintf(val, len, "%s", v);
			return 0;
		}
	}
	const char *slash = strrchr(dir, '/');
	if (strlen(dir) <= strlen(mountpoint) || !slash)
		return herr_set(EINVAL, "%s: the cpuset root has no %s", mountpoint, file);
	char parent[4096];
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - dir), dir);
	int r = cpuset_fill(mountpoint, parent, file, false, val, len);
	if (r < 0)
		return r;
	return fs_write_file(p, val, strlen(val));
}

static int cpuset_inherit(const char *mountpoint, const char *dir, bool made)
{
	char val[4096];
	int r = cpuset_fill(mountpoint, dir, "cpuset.cpus", made, val, sizeof(val));
	return r < 0 ? r : cpuset_fill(mountpoint, dir, "cpuset.mems", made, val, sizeof(val));
}

/* Adds to *out (zeroed by the caller) the hierarchies of `which`; on failure removes all of *out.
 */
int cgroup_create(const char *path, bool systemd, enum cgroup_which which, struct cgroup_set *out)
{
	/*
	 * slice:prefix:name means "ask systemd for a scope"; without systemd there is
	 * nobody to own such a tree, so making one on cgroupfs would only pretend.
	 */
	if (systemd) {
		if (access("/run/systemd/system", F_OK) == 0)
			return herr_set(ENOTSUP, "--systemd-cgroup: hull does not manage cgroups "
						 "through systemd yet; use a cgroupfs cgroupsPath");
		return herr_set(ENOTSUP, "--systemd-cgroup: systemd is not running on this host "
					 "(no /run/systemd/system); use a cgroupfs cgroupsPath");
	}
	int r = check_path(path);
	if (r < 0)
		return r;
	out->layout = cgroup_detect_layout();
	struct cgroup_hier *h;
	size_t n;
	r = cgroup_hiers(&h, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (!(which & (h[i].v2 ? CGROUP_V2 : CGROUP_V1)))
			continue;
		char dir[4096];
		if (path[0] == '/')
			snprintf(dir, sizeof(dir), "%s%s", h[i].mountpoint, path);
		else
			snprintf(dir, sizeof(dir), "%s%s/%s", h[i].mountpoint,
				 strcmp(h[i].own, "/") ? h[i].own : "", path);
		/* Rootless: a hierarchy not delegated to us is left out (load_bundle warned). */
		if (rootless_active() && !rootless_cgroup_usable(dir))
			continue;
		size_t before = strv_len(out->created);
		r = mkdir_tracked(dir, &out->created);
		if (r >= 0 && !h[i].v2 && strstr(h[i].controllers, "cpuset"))
			r = cpuset_inherit(h[i].mountpoint, dir, strv_len(out->created) > before);
		if (r < 0 || (r = strv_push(&out->leaves, dir)) < 0)
			break;
	}
	cgroup_hiers_free(h, n);
	if (r < 0) {
		cgroup_destroy(out->created);
		cgroup_set_free(out);
		return herr_ctx(r, "linux.cgroupsPath");
	}
	return 0;
}

int cgroup_enter(const struct cgroup_set *cg, pid_t pid)
{
	char num[16];
	int len = snprintf(num, sizeof(num), "%d", pid);
	for (size_t i = 0; cg->leaves && cg->leaves[i]; i++) {
		char p[4200];
		snprintf(p, sizeof(p), "%s/cgroup.procs", cg->leaves[i]);
		int r = fs_write_file(p, num, (size_t)len);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool has_procs(const char *dir)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	_cleanup_fclose_ FILE *f = fopen(p, "re");
	int pid;
	return f && fscanf(f, "%d", &pid) == 1;
}

int cgroup_join_open(const struct cgroup_set *cg, size_t from, struct cgroup_join *j)
{
	size_t n = strv_len(cg->leaves);
	int *fds = realloc(j->tasks_fds, (j->n + n + 1) * sizeof(int));
	if (!fds)
		return herr_set(ENOMEM, "out of memory");
	j->tasks_fds = fds;
	for (size_t i = from; i < n; i++) {
		char p[4200];
		snprintf(p, sizeof(p), "%s/tasks", cg->leaves[i]);
		int fd = open(p, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			j->tasks_fds[j->n++] = fd;
			continue;
		}
		if (errno != ENOENT || j->v2_leaf)
			return herr_sys("cannot open %s", p);
		/* No tasks file: the cgroup2 hierarchy. */
		j->v2_leaf = strdup(cg->leaves[i]);
		j->v2_dirfd = open(cg->leaves[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (j->v2_dirfd < 0 || !j->v2_leaf)
			return herr_sys("cannot open %s", cg->leaves[i]);
	}
	return 0;
}

int cgroup_join_self(struct cgroup_join *j)
{
	for (size_t i = 0; i < j->n; i++) {
		if (write(j->tasks_fds[i], "0", 1) != 1)
			return herr_sys("linux.cgroupsPath: cannot join cgroup");
		close(j->tasks_fds[i]);
		j->tasks_fds[i] = -1;
	}
	j->n = 0;
	return 0;
}

void cgroup_join_close(struct cgroup_join *j)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->tasks_fds[i] >= 0)
			close(j->tasks_fds[i]);
	free(j->tasks_fds);
	free(j->v2_leaf);
	if (j->v2_dirfd >= 0)
		close(j->v2_dirfd);
	*j = (struct cgroup_join){.v2_dirfd = -1};
}

int cgroup_destroy(char **created)
{
	int ret = 0;
	for (size_t i = 0; created && created[i]; i++) {
		for (int tries = 0; rmdir(created[i]) < 0; tries++) {
			if (errno == ENOENT)
				break;
			/* A parent we made that another container now uses stays. */
			if (errno == EBUSY && !has_procs(created[i]))
				break;
			/* A dying task leaves its cgroup a moment after it is reaped. */
			if (errno != EBUSY || tries >= 200) {
				ret = herr_sys("cannot remove cgroup %s", created[i]);
				break;
			}
			cgroup_signal_all((char *[]){created[i], NULL}, SIGKILL);
			nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
		}
	}
	return ret;
}

int cgroup_signal_all(char **leaves, int sig)
{
	for (size_t i = 0; leaves && leaves[i]; i++) {
		char p[4200];
		snprintf(p, sizeof(p), "%s/cgroup.procs", leaves[i]);
		_cleanup_fclose_ FILE *f = fopen(p, "re");
		if (!f)
			continue;
		int pid;
		while (fscanf(f, "%d", &pid) == 1)
			kill(pid, sig);
	}
	return 0;
}

void cgroup_set_free(struct cgroup_set *cg)
{
	strv_free(cg->leaves);
	strv_free(cg->created);
	cg->leaves = cg->created = NULL;
}
