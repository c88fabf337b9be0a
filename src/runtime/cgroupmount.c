/*
 * A "cgroup" mount in config.json. On a pure v2 host it is cgroup2. On v1 and
 * hybrid hosts it is a tmpfs holding one directory per hierarchy, as the host
 * has them. With a cgroup namespace each is a fresh mount rooted at the
 * container's cgroup; without one we bind the container's own cgroup directory,
 * so the container never sees the host's tree.
 */
#include "internal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "rootless.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

int mounts_new_fs(const char *type, const char *source, const char *data, unsigned long ms,
		  const char *where);
int mounts_attach(int mfd, int rootfd, const char *dest, bool as_file, const char *where);

static int v1_data(const char *controllers, char *buf, size_t len)
{
	/* A named hierarchy with no controllers needs "none". */
	bool named_only = !strncmp(controllers, "name=", 5) && !strchr(controllers, ',');
	int n = snprintf(buf, len, "%s%s", named_only ? "none," : "", controllers);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* A bind of a cgroup directory: never suid, devices or programs; read-only if asked. */
static uint64_t bind_attrs(unsigned long ms)
{
	return (ms & MS_RDONLY ? MOUNT_ATTR_RDONLY : 0) | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
	       MOUNT_ATTR_NOEXEC;
}

/*
 * One hierarchy's directory in the tmpfs we just made (dirfd: its root). Nothing
 * but us can have written there, so plain *at() calls are safe: no resolution
 * inside the rootfs is needed.
 */
static int mount_hier(const struct cgroup_hier *h, const char *leaf, bool own_ns, unsigned long ms,
		      int dirfd, const char *where)
{
	const char *base = strrchr(h->mountpoint, '/') + 1;
	_cleanup_close_ int mfd = -1;
	if (own_ns) {
		char data[512];
		if (v1_data(h->controllers, data, sizeof(data)) < 0)
			return herr_set(E2BIG, "%s: controllers too long", where);
		mfd = mounts_new_fs(h->v2 ? "cgroup2" : "cgroup", "cgroup", h->v2 ? NULL : data, ms,
				    where);
	} else {
		char src[8300];
		if (leaf)
			snprintf(src, sizeof(src), "%s", leaf);
		else
			snprintf(src, sizeof(src), "%s%s", h->mountpoint,
				 strcmp(h->own, "/") ? h->own : "");
		mfd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (mfd < 0)
			return herr_sys("%s: cannot bind %s", where, src);
		struct mount_attr a = {.attr_set = bind_attrs(ms)};
		if (mount_setattr(mfd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
			return herr_sys("%s: cannot set attributes on %s", where, src);
	}
	if (mfd < 0)
		return mfd;
	if (mkdirat(dirfd, base, 0755) < 0 && errno != EEXIST)
		return herr_sys("%s: cannot create the directory %s", where, base);
	if (move_mount(mfd, "", dirfd, base, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return herr_sys("%s: cannot mount %s", where, h->mountpoint);
	/* Co-mounted controllers get a link per name, as on the host ("cpu" -> "cpu,cpuacct"). */
	if (!h->v2 && strchr(base, ',')) {
		char names[256];
		snprintf(names, sizeof(names), "%s", base);
		char *save = NULL;
		for (char *t = strtok_r(names, ",", &save); t; t = strtok_r(NULL, ",", &save))
			symlinkat(base, dirfd, t);
	}
	return 0;
}

/* The container's directory in hierarchy h, from the parent's list of leaves. */
static const char *leaf_in(const struct create_ctx *c, const struct cgroup_hier *h)
{
	size_t n = strlen(h->mountpoint);
	for (char **l = c->cg.leaves; l && *l; l++)
		if (!strncmp(*l, h->mountpoint, n) && ((*l)[n] == '/' || !(*l)[n]))
			return *l;
	return NULL;
}

/*
 * One directory per hierarchy in tmp, the root of a v1 host's cgroup mount, then
 * read-only if asked. Binds of the container's own directories: from_leaves,
 * those the parent made (c->cg.leaves), else the caller's, from /proc/self/cgroup.
 */
static int fill_tree(const struct create_ctx *c, const struct oci_mount *m, int tmp, bool own_ns,
		     bool from_leaves, const char *where)
{
	/* The leaves say where the container is: no need to ask /proc/self/cgroup. */
	struct cgroup_hier *with_own = NULL;
	const struct cgroup_hier *hs;
	size_t n;
	int r = from_leaves ? cgroup_hiers_mounted(&hs, &n) : cgroup_hiers(&with_own, &n);
	if (r < 0)
		return r;
	if (with_own)
		hs = with_own;
	for (size_t i = 0; i < n && r >= 0; i++) {
		const char *leaf = from_leaves ? leaf_in(c, &hs[i]) : NULL;
		if (from_leaves && !leaf)
			r = herr_set(ENOENT, "%s: no cgroup of the container's in %s", where,
				     hs[i].mountpoint);
		else
			r = mount_hier(&hs[i], leaf, own_ns, m->flags, tmp, where);
	}
	if (with_own)
		cgroup_hiers_free(with_own, n);
	if (r < 0)
		return r;
	if (m->flags & MS_RDONLY) {
		struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
		if (mount_setattr(tmp, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
			return herr_sys("%s: cannot make %s read-only", where, m->destination);
	}
	return 0;
}

int mounts_cgroup(struct create_ctx *c, const struct oci_mount *m, int rootfd, const char *where)
{
	const struct oci_namespace *cns = &c->cfg->linux.ns[OCI_NS_CGROUP];
	bool own_ns = cns->present;
	enum cgroup_layout layout = cgroup_detect_layout();
	if (layout == CGROUP_UNIFIED) {
		_cleanup_close_ int mfd = -1;
		if (own_ns) {
			mfd = mounts_new_fs("cgroup2", "cgroup", NULL, m->flags, where);
		} else {
			struct cgroup_hier *hs;
			size_t n;
			int r = cgroup_hiers(&hs, &n);
			if (r < 0)
				return r;
			char src[4200];
			snprintf(src, sizeof(src), "/sys/fs/cgroup%s",
				 n && strcmp(hs[0].own, "/") ? hs[0].own : "");
			cgroup_hiers_free(hs, n);
			mfd = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
			if (mfd < 0)
				return herr_sys("%s: cannot bind %s", where, src);
			struct mount_attr a = {.attr_set = bind_attrs(m->flags)};
			if (mount_setattr(mfd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
				return herr_sys("%s: cannot set attributes on %s", where, src);
		}
		if (mfd < 0)
			return mfd;
		return mounts_attach(mfd, rootfd, m->destination, false, where);
	}

	_cleanup_close_ int tmp =
	    mounts_new_fs("tmpfs", "tmpfs", "mode=755", m->flags & ~MS_RDONLY, where);
	if (tmp < 0)
		return tmp;
	int r = mounts_attach(tmp, rootfd, m->destination, false, where);
	if (r < 0)
		return r;
	return fill_tree(c, m, tmp, own_ns, false, where);
}

/*
 * In the parent, once the cgroups exist (v1 and hybrid hosts, no cgroup
 * namespace): the whole tree for mounts[i], detached, for the init to attach
 * after pivot_root. The init then need not wait for the cgroups until just
 * before the process runs. Mounting onto a detached tree takes Linux 6.15;
 * mounts_cgroup_tree_fits() checked that before the init was made.
 */
int mounts_cgroup_tree(struct create_ctx *c, size_t i)
{
	const struct oci_mount *m = &c->cfg->mounts[i];
	char where[64];
	snprintf(where, sizeof(where), "mounts[%zu]", i);
	_cleanup_close_ int tmp =
	    mounts_new_fs("tmpfs", "tmpfs", "mode=755", m->flags & ~MS_RDONLY, where);
	if (tmp < 0)
		return tmp;
	int r = fill_tree(c, m, tmp, false, true, where);
	return r < 0 ? r : take_fd(tmp);
}

/* Whether Linux can mount onto a detached tree (6.15 and later). */
static bool kernel_mounts_on_detached(void)
{
	struct utsname u;
	unsigned major = 0, minor = 0;
	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 15);
}

/*
 * Whether the parent builds mounts[*idx] (the config's cgroup mount) rather than
 * the init: a v1 or hybrid host, binds of the container's own cgroups (no cgroup
 * namespace, no user namespace, not rootless), nothing mounted, masked or made
 * read-only inside it, and no hook that runs before the process and may look.
 */
bool mounts_cgroup_tree_fits(const struct create_ctx *c, size_t *idx)
{
	const struct oci_config *cfg = c->cfg;
	const struct oci_linux *l = &cfg->linux;
	if (!c->want_cgroups || c->cg.layout == CGROUP_UNIFIED || l->ns[OCI_NS_CGROUP].present ||
	    l->ns[OCI_NS_USER].present || geteuid() != 0 || rootless_active() ||
	    hooks_before_start(cfg))
		return false;
	size_t found = cfg->n_mounts;
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct oci_mount *m = &cfg->mounts[i];
		if (found < cfg->n_mounts &&
		    path_under(m->destination, cfg->mounts[found].destination))
			return false;
		if (mounts_is_cgroup(m)) {
			if (found < cfg->n_mounts)
				return false;
			found = i;
		}
	}
	if (found == cfg->n_mounts)
		return false;
	const char *dest = cfg->mounts[found].destination;
	for (size_t i = 0; i < l->n_masked_paths; i++)
		if (path_under(l->masked_paths[i], dest))
			return false;
	for (size_t i = 0; i < l->n_readonly_paths; i++)
		if (path_under(l->readonly_paths[i], dest))
			return false;
	if (!kernel_mounts_on_detached())
		return false;
	*idx = found;
	return true;
}

int mounts_cgroup_attach_tree(struct create_ctx *c, int tree)
{
	char where[64];
	snprintf(where, sizeof(where), "mounts[%zu]", c->cgm_index);
	_cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return herr_sys("open /");
	int r = mounts_attach(tree, rootfd, c->cfg->mounts[c->cgm_index].destination, false, where);
	return r < 0 ? herr_ctx(r, "%s", c->cfg->path) : 0;
}
