/*
 * config.json's mounts, made with the new mount API: each filesystem or bind is
 * built as a detached mount, given its attributes, and only then attached to a
 * destination that was resolved inside the rootfs (an O_PATH fd, so a symlink
 * swapped in meanwhile cannot redirect it).
 */
#include "internal.h"
#include "idmap.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t attrs_of(unsigned long ms)
{
	uint64_t a = 0;
	if (ms & MS_RDONLY)
		a |= MOUNT_ATTR_RDONLY;
	if (ms & MS_NOSUID)
		a |= MOUNT_ATTR_NOSUID;
	if (ms & MS_NODEV)
		a |= MOUNT_ATTR_NODEV;
	if (ms & MS_NOEXEC)
		a |= MOUNT_ATTR_NOEXEC;
	if (ms & MS_NODIRATIME)
		a |= MOUNT_ATTR_NODIRATIME;
	if (ms & MS_NOATIME)
		a |= MOUNT_ATTR_NOATIME;
	else if (ms & MS_STRICTATIME)
		a |= MOUNT_ATTR_STRICTATIME;
	if (ms & MS_NOSYMFOLLOW)
		a |= MOUNT_ATTR_NOSYMFOLLOW;
	return a;
}

static struct mount_attr attr_of(const struct oci_mount *m)
{
	struct mount_attr a = {.attr_set = attrs_of(m->flags),
			       .attr_clr = attrs_of(m->clear_flags)};
	if (m->flags & (MS_NOATIME | MS_STRICTATIME | MS_RELATIME))
		a.attr_clr |= MOUNT_ATTR__ATIME;
	a.attr_clr &= ~a.attr_set | MOUNT_ATTR__ATIME;
	return a;
}

/* The kernel's own words about a failed fsconfig, read from the context fd. */
static void fs_log(int fsfd, char *buf, size_t len)
{
	buf[0] = 0;
	ssize_t n = read(fsfd, buf, len - 1);
	if (n > 2) {
		buf[n] = 0;
		if (buf[n - 1] == '\n')
			buf[n - 1] = 0;
	} else {
		buf[0] = 0;
	}
}

static int fs_config(int fsfd, const char *opt, const char *where)
{
	char key[256];
	const char *eq = strchr(opt, '=');
	int r;
	if (eq) {
		snprintf(key, sizeof(key), "%.*s", (int)(eq - opt), opt);
		r = fsconfig(fsfd, FSCONFIG_SET_STRING, key, eq + 1, 0);
	} else {
		r = fsconfig(fsfd, FSCONFIG_SET_FLAG, opt, NULL, 0);
	}
	if (r < 0) {
		char log[256];
		int e = errno;
		fs_log(fsfd, log, sizeof(log));
		/*
		 * runc passes acl/noacl as MS_POSIXACL, which a filesystem that
		 * decides on ACLs itself (tmpfs) ignores: so do we, where it does not
		 * take them as options (ext4 does).
		 */
		if (e == EINVAL && (!strcmp(opt, "acl") || !strcmp(opt, "noacl")))
			return 0;
		errno = e;
		return herr_sys("%s: option \"%s\"%s%s", where, opt, *log ? ": " : "",
				log + (*log ? 2 : 0));
	}
	return 0;
}

/* A new detached filesystem mount of `type` with m's data and attributes. */
int mounts_new_fs(const char *type, const char *source, const char *data, unsigned long ms,
		  const char *where)
{
	_cleanup_close_ int fsfd = fsopen(type, FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return herr_sys("%s: filesystem type \"%s\"", where, type);
	if (source && *source && fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
		return herr_sys("%s: source \"%s\"", where, source);
	static const struct {
		unsigned long ms;
		const char *flag;
	} sb[] = {{MS_SYNCHRONOUS, "sync"},
		  {MS_DIRSYNC, "dirsync"},
		  {MS_LAZYTIME, "lazytime"},
		  {MS_MANDLOCK, "mand"}};
	for (size_t i = 0; i < ARRAY_SIZE(sb); i++)
		if ((ms & sb[i].ms) && fs_config(fsfd, sb[i].flag, where) < 0)
			return -herr_code();
	if (data) {
		_cleanup_free_ char *copy = strdup(data);
		char *save = NULL;
		for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save))
			if (fs_config(fsfd, o, where) < 0)
				return -herr_code();
	}
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		char log[256];
		int e = errno;
		fs_log(fsfd, log, sizeof(log));
		errno = e;
		return herr_sys("%s: cannot create %s filesystem%s%s", where, type,
				*log ? ": " : "", log + (*log ? 2 : 0));
	}
	int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, (unsigned)attrs_of(ms));
	if (mfd < 0)
		return herr_sys("%s: cannot mount %s", where, type);
	return mfd;
}

/* Attach a detached mount at dest inside root; returns 0. */
int mounts_attach(int mfd, int rootfd, const char *dest, bool as_file, const char *where)
{
	_cleanup_close_ int dfd = fs_mkpath_in_root(rootfd, dest, as_file);
	if (dfd < 0)
		return herr_ctx(dfd, "%s: destination", where);
	if (move_mount(mfd, "", dfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return herr_sys("%s: cannot mount on %s", where, dest);
	return 0;
}

static int set_propagation(int mfd, unsigned long prop, const char *where)
{
	if (!prop)
		return 0;
	struct mount_attr a = {.propagation = prop & ~(unsigned long)MS_REC};
	if (mount_setattr(mfd, "", AT_EMPTY_PATH | ((prop & MS_REC) ? AT_RECURSIVE : 0), &a,
			  sizeof(a)) < 0)
		return herr_sys("%s: cannot set propagation", where);
	return 0;
}

/*
 * An idmapped bind was made by the parent (idmap.c), which alone has the
 * privilege for it; we only add the options and attach it.
 */
static int bind_tree(struct create_ctx *c, size_t i, const struct oci_mount *m, const char *where,
		     bool *is_dir)
{
	if (!m->source)
		return herr_set(EINVAL, "%s.source: a bind mount needs a source", where);
	char src[4096];
	if (m->source[0] == '/')
		snprintf(src, sizeof(src), "%s", m->source);
	else
		snprintf(src, sizeof(src), "%s/%s", c->bundle, m->source);
	int tfd;
	if (idmap_wanted(m)) {
		tfd = idmap_take_tree(i, is_dir);
		if (tfd < 0)
			return herr_set(EPROTO, "%s: the idmapped bind of %s was not prepared",
					where, src);
	} else {
		struct stat st;
		if (stat(src, &st) < 0)
			return herr_sys("%s.source: %s", where, src);
		*is_dir = S_ISDIR(st.st_mode);
		tfd = open_tree(AT_FDCWD, src,
				OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC |
				    (m->recursive ? AT_RECURSIVE : 0));
		if (tfd < 0)
			return herr_sys("%s.source: cannot bind %s", where, src);
	}
	struct mount_attr a = attr_of(m);
	if ((a.attr_set || a.attr_clr) &&
	    mount_setattr(tfd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0) {
		int r = herr_sys("%s.options: cannot apply to the bind of %s", where, src);
		close(tfd);
		return r;
	}
	return tfd;
}

int mounts_cgroup(struct create_ctx *c, const struct oci_mount *m, int rootfd, const char *where);
int mounts_tmpfs_from_mountpoint(int rootfd, const struct oci_mount *m, int mfd,
				 const char *where); /* copyup.c */

static int do_mount(struct create_ctx *c, size_t i, int rootfd, const char *where)
{
	const struct oci_mount *m = &c->cfg->mounts[i];
	const char *type = m->type ? m->type : "";
	if (!m->bind && !strcmp(type, "cgroup")) {
		/* A cgroup mount shows the init's own cgroups: be in them first. */
		int r = init_join_cgroups(c);
		return r < 0 ? r : mounts_cgroup(c, m, rootfd, where);
	}
	bool is_dir = true;
	_cleanup_close_ int mfd = -1;
	if (m->bind || !strcmp(type, "bind")) {
		mfd = bind_tree(c, i, m, where, &is_dir);
	} else if (c->premade && c->premade[i] >= 0) {
		mfd = take_fd(c->premade[i]);
	} else {
		if (!*type)
			return herr_set(EINVAL, "%s.type: is required for a non-bind mount", where);
		mfd = mounts_new_fs(type, m->source, m->data, m->flags, where);
	}
	if (mfd < 0)
		return mfd;
	if (!m->bind && !strcmp(type, "tmpfs")) {
		int r = mounts_tmpfs_from_mountpoint(rootfd, m, mfd, where);
		if (r < 0)
			return r;
	}
	if (m->rec_attr_set || m->rec_attr_clr) {
		struct mount_attr a = {.attr_set = m->rec_attr_set, .attr_clr = m->rec_attr_clr};
		if (mount_setattr(mfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
			return herr_sys("%s.options: cannot apply recursive options", where);
	}
	int r = mounts_attach(mfd, rootfd, m->destination, !is_dir, where);
	if (r < 0)
		return r;
	return set_propagation(mfd, m->propagation, where);
}

bool mounts_is_cgroup(const struct oci_mount *m)
{
	return !m->bind && m->type && !strcmp(m->type, "cgroup");
}

bool path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return !strncmp(path, dir, n) && (path[n] == '/' || !path[n] || (n == 1 && dir[0] == '/'));
}

static int mount_one(struct create_ctx *c, size_t i, int rootfd)
{
	char where[64];
	snprintf(where, sizeof(where), "mounts[%zu]", i);
	int r = do_mount(c, i, rootfd, where);
	return r < 0 ? herr_ctx(r, "%s", c->cfg->path) : 0;
}

/* Whether no later mount goes on mounts[i]'s destination, hiding it. */
static bool last_on(const struct oci_config *cfg, size_t i)
{
	for (size_t k = i + 1; k < cfg->n_mounts; k++)
		if (!strcmp(cfg->mounts[k].destination, cfg->mounts[i].destination))
			return false;
	return true;
}

const char *mounts_dev_entry(const char *path)
{
	const char *name = path + 5;
	if (strncmp(path, "/dev/", 5) || !*name || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return NULL;
	return name;
}

/* The directories that later filesystems (not binds) mount on, right in /dev. */
static void premake_mountpoints(const struct oci_config *cfg, size_t dev, int devfd)
{
	for (size_t k = dev + 1; k < cfg->n_mounts; k++) {
		const char *name = mounts_dev_entry(cfg->mounts[k].destination);
		/* If it fails, the init makes it and says why. */
		if (!cfg->mounts[k].bind && name)
			mkdirat(devfd, name, 0755);
	}
}

/*
 * In the parent, while it waits for the namespaces of ns-early.c: the
 * filesystems that belong to no namespace of the init's (tmpfs, devpts) are
 * made now, detached, and the init only attaches them. Any that fails here is
 * left to the init, which says why.
 */
void mounts_premake(struct create_ctx *c)
{
	const struct oci_config *cfg = c->cfg;
	if (cfg->linux.ns[OCI_NS_USER].present || !cfg->n_mounts ||
	    !(c->premade = malloc(cfg->n_mounts * sizeof(int))))
		return;
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		const struct oci_mount *m = &cfg->mounts[i];
		c->premade[i] = -1;
		if (m->bind || !m->type || (strcmp(m->type, "tmpfs") && strcmp(m->type, "devpts")))
			continue;
		int fd = mounts_new_fs(m->type, m->source, m->data, m->flags, "");
		if (fd < 0)
			herr_clear();
		c->premade[i] = fd;
		if (fd >= 0 && !strcmp(m->destination, "/dev") && !strcmp(m->type, "tmpfs") &&
		    last_on(cfg, i)) {
			c->devices_premade = devices_premake(c, fd);
			premake_mountpoints(cfg, i, fd);
		}
	}
}

void mounts_premade_close(struct create_ctx *c)
{
	for (size_t i = 0; c->premade && i < c->cfg->n_mounts; i++)
		closep(&c->premade[i]);
	free(c->premade);
	c->premade = NULL;
}

bool mounts_deferred_covers(const struct create_ctx *c, const char *path)
{
	for (size_t i = 0; i < c->cfg->n_mounts && c->n_deferred; i++)
		if (c->deferred[i] && path_under(path, c->cfg->mounts[i].destination))
			return true;
	return false;
}

/*
 * cgroup mounts wait for the init to be in its cgroups, which the parent is
 * still making; so they are put off, as long as no later mount lands inside one,
 * and done by mounts_finish() after the rest of the rootfs.
 */
int mounts_setup(struct create_ctx *c, int rootfd)
{
	for (size_t i = 0; i < c->cfg->n_mounts; i++) {
		const struct oci_mount *m = &c->cfg->mounts[i];
		bool blocked = false;
		for (size_t k = 0; k < i && c->n_deferred; k++)
			if (c->deferred[k] &&
			    path_under(m->destination, c->cfg->mounts[k].destination))
				blocked = true;
		if (blocked) {
			int r = mounts_finish(c, rootfd);
			if (r < 0)
				return r;
		}
		if (c->cgm_by_parent && i == c->cgm_index)
			continue; /* attached after pivot_root */
		if (mounts_is_cgroup(m) && !c->cg_joined && c->deferred) {
			c->deferred[i] = true;
			c->n_deferred++;
			continue;
		}
		int r = mount_one(c, i, rootfd);
		if (r < 0)
			return r;
	}
	idmap_release(); /* all taken by now: binds are never put off */
	return 0;
}

int mounts_finish(struct create_ctx *c, int rootfd)
{
	if (!c->n_deferred)
		return 0;
	int r = init_join_cgroups(c);
	for (size_t i = 0; r >= 0 && i < c->cfg->n_mounts; i++)
		if (c->deferred[i]) {
			c->deferred[i] = false;
			r = mount_one(c, i, rootfd);
		}
	c->n_deferred = 0;
	return r;
}
