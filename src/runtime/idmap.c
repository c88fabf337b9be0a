/*
 * Idmapped bind mounts, built by the parent.
 *
 * mount_setattr(MOUNT_ATTR_IDMAP) needs CAP_SYS_ADMIN over the user namespace
 * of the source's filesystem, which an init inside its own user namespace never
 * has. The parent is still root on the host, so it makes each tree before it
 * clones the init: the init gets the fds with its copy of our memory (they are
 * O_CLOEXEC, so they never reach the container's process) and attaches them
 * like any other detached mount. One path serves containers with and without
 * a user namespace, and needs no fd passing over the sync socket.
 *
 * The mapping itself travels in a user namespace: a short-lived child is
 * cloned into a new one, we write its uid_map and gid_map, keep an fd of
 * /proc/PID/ns/user and let the child go. One per distinct mapping.
 */
#include "idmap.h"
#include "internal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* What /proc/PID/uid_map takes: the kernel's limit since 4.15. */
#define MAX_EXTENTS 340

struct tree {
	int fd; /* -1: mounts[i] is not idmapped, or already taken */
	bool is_dir;
};

/*
 * Lives in the parent from idmap_prepare() to idmap_release(); the init has
 * its own copy, fds included, from the clone. The runtime is single-threaded.
 */
static struct {
	struct tree *trees; /* indexed like cfg->mounts */
	size_t n;
} built;

struct userns {
	const struct oci_idmap *uid, *gid;
	size_t n_uid, n_gid;
	int fd;
};

bool idmap_wanted(const struct oci_mount *m)
{
	return m->idmap || m->ridmap || m->n_uid_mappings || m->n_gid_mappings;
}

void idmap_release(void)
{
	for (size_t i = 0; i < built.n; i++)
		if (built.trees[i].fd >= 0)
			close(built.trees[i].fd);
	free(built.trees);
	built.trees = NULL;
	built.n = 0;
}

int idmap_take_tree(size_t i, bool *is_dir)
{
	if (i >= built.n || built.trees[i].fd < 0)
		return -ENOENT;
	*is_dir = built.trees[i].is_dir;
	return take_fd(built.trees[i].fd);
}

static bool range_overlap(uint32_t a, uint32_t an, uint32_t b, uint32_t bn)
{
	return (uint64_t)a < (uint64_t)b + bn && (uint64_t)b < (uint64_t)a + an;
}

/*
 * What the kernel would refuse in uid_map, said up front with the entry's
 * JSON path: ranges past 2^32-1, overlapping ranges on either side, too many.
 */
static int check_extents(const char *cfgpath, const char *what, const struct oci_idmap *v, size_t n)
{
	if (n > MAX_EXTENTS)
		return herr_set(EINVAL, "%s: %s: %zu entries, the kernel allows at most %d",
				cfgpath, what, n, MAX_EXTENTS);
	for (size_t i = 0; i < n; i++) {
		if ((uint64_t)v[i].container_id + v[i].size > UINT32_MAX ||
		    (uint64_t)v[i].host_id + v[i].size > UINT32_MAX)
			return herr_set(EINVAL, "%s: %s[%zu]: the range ends past id 4294967294",
					cfgpath, what, i);
		for (size_t k = 0; k < i; k++) {
			const char *side = NULL;
			if (range_overlap(v[i].container_id, v[i].size, v[k].container_id,
					  v[k].size))
				side = "containerID";
			else if (range_overlap(v[i].host_id, v[i].size, v[k].host_id, v[k].size))
				side = "hostID";
			if (side)
				return herr_set(
				    EINVAL, "%s: %s[%zu]: its %s range overlaps that of %s[%zu]",
				    cfgpath, what, i, side, what, k);
		}
	}
	return 0;
}

static int write_map(pid_t pid, const char *file, const struct oci_idmap *v, size_t n,
		     const char *what)
{
	/* The kernel takes the whole map in one write of less than a page. */
	char buf[4096];
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		int w =
		    snprintf(buf + off, sizeof(buf) - off, "%" PRIu32 " %" PRIu32 " %" PRIu32 "\n",
			     v[i].container_id, v[i].host_id, v[i].size);
		if (w < 0 || (size_t)w >= sizeof(buf) - off)
			return herr_set(E2BIG, "%s: longer than the kernel's one-page limit", what);
		off += (size_t)w;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	int r = fs_write_file(path, buf, off);
	return r < 0 ? herr_ctx(r, "%s: the kernel refused the mapping", what) : 0;
}

/* A user namespace with these maps, held by the returned fd. */
static int make_userns(const struct userns *u, const char *uwhat, const char *gwhat)
{
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return herr_sys("pipe");
	_cleanup_close_ int keep = pfd[1];
	struct clone_args args = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
	pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0) {
		int r = herr_sys("%s: cannot create a user namespace for the mapping", uwhat);
		close(pfd[0]);
		return r;
	}
	if (pid == 0) {
		/* Hold the namespace until the parent closes its end (or dies). */
		char b;
		close(pfd[1]);
		while (read(pfd[0], &b, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(pfd[0]);
	int r = write_map(pid, "uid_map", u->uid, u->n_uid, uwhat);
	if (r >= 0)
		r = write_map(pid, "gid_map", u->gid, u->n_gid, gwhat);
	if (r >= 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/user", pid);
		r = open(path, O_RDONLY | O_CLOEXEC);
		if (r < 0)
			r = herr_sys("open %s", path);
	}
	closep(&keep);
	keep = -1;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return r;
}

static bool same_maps(const struct oci_idmap *a, size_t na, const struct oci_idmap *b, size_t nb)
{
	return na == nb && (!na || !memcmp(a, b, na * sizeof(*a)));
}

/* The filesystem type of the mount that holds path, for messages; "" if unknown. */
static void fs_type_of(const char *path, char *out, size_t len)
{
	*out = 0;
	struct statx stx;
	if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &stx) < 0 || !(stx.stx_mask & STATX_MNT_ID))
		return;
	_cleanup_free_ char *mi = NULL;
	if (fs_read_file("/proc/self/mountinfo", 1 << 22, &mi, NULL) < 0) {
		herr_clear();
		return;
	}
	char *save = NULL;
	for (char *l = strtok_r(mi, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		unsigned long long id;
		const char *sep = strstr(l, " - ");
		char type[64];
		if (sscanf(l, "%llu", &id) == 1 && id == stx.stx_mnt_id && sep &&
		    sscanf(sep + 3, "%63s", type) == 1) {
			snprintf(out, len, "%s", type);
			return;
		}
	}
}

static int tree_error(const struct oci_mount *m, const char *src, const char *where)
{
	int e = errno;
	char type[64];
	fs_type_of(src, type, sizeof(type));
	const char *below = m->ridmap ? ", or one mounted below it," : "";
	if (e == EINVAL)
		return herr_set(e,
				"%s: cannot idmap the bind of %s: its filesystem%s%s%s does not "
				"support idmapped mounts",
				where, src, *type ? " (" : "", type, *type ? ")" : "");
	if (e == EPERM)
		return herr_set(e,
				"%s: cannot idmap the bind of %s: not permitted (it is already "
				"idmapped%s, or hull has no CAP_SYS_ADMIN over its filesystem)",
				where, src, below);
	if (e == ENOSYS)
		return herr_set(e, "%s: idmapped mounts need Linux 5.12 or later", where);
	errno = e;
	return herr_sys("%s: cannot idmap the bind of %s", where, src);
}

/* open_tree + MOUNT_ATTR_IDMAP; the init applies the other options (mounts.c). */
static int build_tree(const struct create_ctx *c, const struct oci_mount *m, int usernsfd,
		      const char *where, struct tree *t)
{
	if (!m->source || !*m->source)
		return herr_set(EINVAL, "%s.source: a bind mount needs a source", where);
	char src[4096];
	if (m->source[0] == '/')
		snprintf(src, sizeof(src), "%s", m->source);
	else
		snprintf(src, sizeof(src), "%s/%s", c->bundle, m->source);
	_cleanup_close_ int fd = open_tree(
	    AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (m->recursive ? AT_RECURSIVE : 0));
	if (fd < 0)
		return herr_sys("%s.source: cannot bind %s", where, src);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return herr_sys("%s.source: %s", where, src);
	struct mount_attr a = {.attr_set = MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)usernsfd};
	if (mount_setattr(fd, "", AT_EMPTY_PATH | (m->ridmap ? AT_RECURSIVE : 0), &a, sizeof(a)) <
	    0)
		return tree_error(m, src, where);
	t->fd = take_fd(fd);
	t->is_dir = S_ISDIR(st.st_mode);
	return 0;
}

/*
 * The user namespace fd for mounts[i]: from the cache, the container's own
 * when joined by path (*joined), or a new one.
 */
static int userns_for(struct create_ctx *c, size_t i, struct userns *cache, size_t *n_cache,
		      int *joined)
{
	const struct oci_config *cfg = c->cfg;
	const struct oci_mount *m = &cfg->mounts[i];
	const struct oci_linux *l = &cfg->linux;
	char uwhat[96], gwhat[96];
	struct userns want = {.uid = m->uid_mappings,
			      .gid = m->gid_mappings,
			      .n_uid = m->n_uid_mappings,
			      .n_gid = m->n_gid_mappings};
	if (!want.n_uid && !want.n_gid) {
		const char *opt = m->ridmap ? "ridmap" : "idmap";
		if (!l->ns[OCI_NS_USER].present)
			return herr_set(EINVAL,
					"%s: mounts[%zu].options: \"%s\" without uidMappings and "
					"gidMappings takes the container's user namespace, but "
					"linux.namespaces has none",
					cfg->path, i, opt);
		if (l->ns[OCI_NS_USER].path) {
			if (*joined < 0 &&
			    (*joined = open(l->ns[OCI_NS_USER].path, O_RDONLY | O_CLOEXEC)) < 0)
				return herr_sys("%s: mounts[%zu]: \"%s\": user namespace %s",
						cfg->path, i, opt, l->ns[OCI_NS_USER].path);
			return *joined;
		}
		want = (struct userns){.uid = l->uid_mappings,
				       .gid = l->gid_mappings,
				       .n_uid = l->n_uid_mappings,
				       .n_gid = l->n_gid_mappings};
		snprintf(uwhat, sizeof(uwhat), "linux.uidMappings (for mounts[%zu] \"%s\")", i,
			 opt);
		snprintf(gwhat, sizeof(gwhat), "linux.gidMappings (for mounts[%zu] \"%s\")", i,
			 opt);
	} else {
		snprintf(uwhat, sizeof(uwhat), "mounts[%zu].uidMappings", i);
		snprintf(gwhat, sizeof(gwhat), "mounts[%zu].gidMappings", i);
	}
	if (!want.n_uid || !want.n_gid)
		return herr_set(EINVAL,
				"%s: mounts[%zu]: uidMappings and gidMappings must be given "
				"together (%s is missing)",
				cfg->path, i, want.n_uid ? "gidMappings" : "uidMappings");
	int r = check_extents(cfg->path, uwhat, want.uid, want.n_uid);
	if (r < 0 || (r = check_extents(cfg->path, gwhat, want.gid, want.n_gid)) < 0)
		return r;
	for (size_t k = 0; k < *n_cache; k++)
		if (same_maps(cache[k].uid, cache[k].n_uid, want.uid, want.n_uid) &&
		    same_maps(cache[k].gid, cache[k].n_gid, want.gid, want.n_gid))
			return cache[k].fd;
	int fd = make_userns(&want, uwhat, gwhat);
	if (fd < 0)
		return herr_ctx(fd, "%s", cfg->path);
	want.fd = fd;
	cache[(*n_cache)++] = want;
	return fd;
}

int idmap_prepare(struct create_ctx *c)
{
	const struct oci_config *cfg = c->cfg;
	size_t n = 0;
	for (size_t i = 0; i < cfg->n_mounts; i++)
		n += idmap_wanted(&cfg->mounts[i]);
	if (!n)
		return 0;
	idmap_release();
	_cleanup_free_ struct userns *cache = calloc(n, sizeof(*cache));
	built.trees = calloc(cfg->n_mounts, sizeof(*built.trees));
	if (!cache || !built.trees) {
		free(built.trees);
		built.trees = NULL;
		return herr_set(ENOMEM, "out of memory");
	}
	built.n = cfg->n_mounts;
	for (size_t i = 0; i < built.n; i++)
		built.trees[i].fd = -1;
	size_t n_cache = 0;
	int joined = -1, r = 0;
	for (size_t i = 0; r >= 0 && i < cfg->n_mounts; i++) {
		const struct oci_mount *m = &cfg->mounts[i];
		if (!idmap_wanted(m))
			continue;
		if (!m->bind) {
			r = herr_set(
			    EINVAL,
			    "%s: mounts[%zu]: an idmapped mount (uidMappings, gidMappings, "
			    "\"idmap\" or \"ridmap\") must be a bind mount, not type \"%s\"",
			    cfg->path, i, m->type ? m->type : "");
			break;
		}
		if (geteuid() != 0) {
			r = herr_set(EPERM,
				     "%s: mounts[%zu]: idmapped mounts need hull to run as root "
				     "(CAP_SYS_ADMIN in the initial user namespace)",
				     cfg->path, i);
			break;
		}
		int ufd = userns_for(c, i, cache, &n_cache, &joined);
		if (ufd < 0) {
			r = ufd;
			break;
		}
		char where[64];
		snprintf(where, sizeof(where), "mounts[%zu]", i);
		r = build_tree(c, m, ufd, where, &built.trees[i]);
		if (r < 0)
			herr_ctx(r, "%s", cfg->path);
	}
	/* The trees hold their user namespaces; the fds are not needed any more. */
	for (size_t k = 0; k < n_cache; k++)
		close(cache[k].fd);
	closep(&joined);
	if (r < 0)
		idmap_release();
	return r;
}
