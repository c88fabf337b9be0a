/* /dev in the container: the default nodes, linux.devices, the standard links and the console. */
#include "internal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int mounts_attach(int mfd, int rootfd, const char *dest, bool as_file, const char *where);

static const struct oci_device default_devices[] = {
    {.path = "/dev/null", .type = 'c', .major = 1, .minor = 3},
    {.path = "/dev/zero", .type = 'c', .major = 1, .minor = 5},
    {.path = "/dev/full", .type = 'c', .major = 1, .minor = 7},
    {.path = "/dev/random", .type = 'c', .major = 1, .minor = 8},
    {.path = "/dev/urandom", .type = 'c', .major = 1, .minor = 9},
    {.path = "/dev/tty", .type = 'c', .major = 5, .minor = 0},
};

bool devices_needs_setup(const struct oci_config *cfg)
{
	/* A /dev bound from elsewhere is the user's own: leave it alone. */
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if (!strcmp(cfg->mounts[i].destination, "/dev") && cfg->mounts[i].bind)
			return false;
	return true;
}

/* Without mknod (a user namespace) the host's node is bound instead. */
static int bind_host_node(int rootfd, const struct oci_device *d, const char *where)
{
	char host[64];
	snprintf(host, sizeof(host), "/dev/%s", strrchr(d->path, '/') + 1);
	struct stat st;
	if (stat(host, &st) < 0 || major(st.st_rdev) != d->major || minor(st.st_rdev) != d->minor)
		return herr_set(EPERM,
				"%s: cannot create %s (mknod not permitted) and the host has "
				"no matching node to bind",
				where, d->path);
	_cleanup_close_ int tfd = open_tree(AT_FDCWD, host, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tfd < 0)
		return herr_sys("%s: bind %s", where, host);
	return mounts_attach(tfd, rootfd, d->path, true, where);
}

/* The directory a node goes in, kept open for the next node in the same one. */
struct node_dir {
	char path[4096];
	int fd;
};

static int node_dir(int rootfd, struct node_dir *nd, const char *parent)
{
	if (nd->fd >= 0 && !strcmp(nd->path, parent))
		return nd->fd;
	closep(&nd->fd);
	nd->fd = fs_mkpath_in_root(rootfd, *parent ? parent : "/", false);
	snprintf(nd->path, sizeof(nd->path), "%s", parent);
	return nd->fd;
}

/* Called with umask 0, so that mknod gives the node its mode without a chmod. */
static int make_node(int rootfd, struct node_dir *nd, const struct oci_device *d, const char *where)
{
	char parent[4096];
	snprintf(parent, sizeof(parent), "%s", d->path);
	char *slash = strrchr(parent, '/');
	const char *name = d->path + (slash - parent) + 1;
	*slash = 0;
	int dir = node_dir(rootfd, nd, parent);
	if (dir < 0)
		return herr_ctx(dir, "%s", where);
	mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
	mode_t perm = d->has_mode ? (d->file_mode & 07777) : 0666;
	/* Replace what the image ships there (often a plain file), never follow it. */
	struct stat st;
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode))
		unlinkat(dir, name, 0);
	if (mknodat(dir, name, type | perm, makedev(d->major, d->minor)) < 0) {
		if (errno == EPERM && type != S_IFIFO)
			return bind_host_node(rootfd, d, where);
		return herr_sys("%s: mknod %s", where, d->path);
	}
	if (!d->has_uid && !d->has_gid)
		return 0;
	_cleanup_close_ int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchownat(fd, "", d->has_uid ? d->uid : (uid_t)-1,
			       d->has_gid ? d->gid : (gid_t)-1, AT_EMPTY_PATH) < 0)
		return herr_sys("%s: chown %s", where, d->path);
	return 0;
}

static int make_nodes(struct create_ctx *c, struct node_dir *ndp, int rootfd)
{
	struct node_dir nd = *ndp;
	int r = 0;
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(default_devices); i++) {
		bool overridden = false;
		for (size_t k = 0; k < c->cfg->linux.n_devices; k++)
			overridden |=
			    !strcmp(c->cfg->linux.devices[k].path, default_devices[i].path);
		if (!overridden)
			r = make_node(rootfd, &nd, &default_devices[i], "default device");
	}
	for (size_t i = 0; r >= 0 && i < c->cfg->linux.n_devices; i++) {
		char where[64];
		snprintf(where, sizeof(where), "linux.devices[%zu]", i);
		r = make_node(rootfd, &nd, &c->cfg->linux.devices[i], where);
	}
	*ndp = nd;
	return r;
}

static const char *const links[][2] = {
    {"/proc/self/fd", "fd"},	   {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
    {"/proc/self/fd/2", "stderr"}, {"/proc/kcore", "core"},
};

static int make_links(int dev)
{
	for (size_t i = 0; i < ARRAY_SIZE(links); i++) {
		/* As runc: no /dev/core dangling where the kernel has no /proc/kcore. */
		if (!strcmp(links[i][1], "core") && access(links[i][0], F_OK) < 0)
			continue;
		if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
			return herr_sys("cannot create /dev/%s", links[i][1]);
	}
	return 0;
}

/*
 * In the parent, into the /dev tmpfs it made ahead for the init (devfd: its
 * root, detached, which nobody else can reach): the nodes and links, so that the
 * init has only to attach it. Only when every node goes right into /dev; false
 * if anything is not done (the init then does it all, as without this).
 */
bool devices_premake(struct create_ctx *c, int devfd)
{
	const struct oci_linux *l = &c->cfg->linux;
	for (size_t i = 0; i < l->n_devices; i++)
		if (!mounts_dev_entry(l->devices[i].path))
			return false;
	struct node_dir nd = {.path = "/dev", .fd = devfd};
	mode_t old = umask(0);
	int r = make_nodes(c, &nd, -1);
	umask(old);
	if (r < 0 || make_links(devfd) < 0) {
		herr_clear();
		return false;
	}
	return true;
}

int devices_setup(struct create_ctx *c, int rootfd)
{
	_cleanup_close_ int dev = -1;
	if (!c->devices_premade) {
		struct node_dir nd = {.fd = -1};
		mode_t old = umask(0);
		int r = make_nodes(c, &nd, rootfd);
		umask(old);
		closep(&nd.fd);
		if (r < 0)
			return r;
	}
	dev = fs_open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY);
	if (dev < 0)
		return herr_set(-dev, "/dev: %s", strerror(-dev));
	if (!c->devices_premade) {
		int r = make_links(dev);
		if (r < 0)
			return r;
	}
	/* /dev/ptmx must be the container's own devpts instance. */
	struct stat st;
	if (fstatat(dev, "pts/ptmx", &st, 0) == 0) {
		if (fstatat(dev, "ptmx", &st, AT_SYMLINK_NOFOLLOW) == 0)
			unlinkat(dev, "ptmx", 0);
		if (symlinkat("pts/ptmx", dev, "ptmx") < 0)
			return herr_sys("cannot create /dev/ptmx");
	}
	return 0;
}

/*
 * /dev/console is whatever the image put there, maybe a symlink aimed at a
 * file we must never cover (CVE-2025-52565): replace it with a fresh regular
 * file in the container's own /dev and bind the pty onto exactly that inode.
 */
int devices_console(int rootfd, int slave)
{
	_cleanup_close_ int dev = fs_openat2(rootfd, "/dev", O_PATH | O_DIRECTORY, 0,
					     RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS);
	if (dev < 0)
		return herr_set(-dev, "process.terminal: /dev in the container: %s",
				strerror(-dev));
	/* A file or device node is covered as it is; anything else is replaced. */
	struct stat st;
	bool usable = fstatat(dev, "console", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		      (S_ISREG(st.st_mode) || S_ISCHR(st.st_mode));
	if (!usable) {
		if (unlinkat(dev, "console", 0) < 0 && errno != ENOENT)
			return herr_sys("process.terminal: cannot replace /dev/console");
		int made = openat(dev, "console",
				  O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, 0600);
		if (made < 0)
			return herr_sys("process.terminal: cannot create /dev/console");
		close(made);
	}
	_cleanup_close_ int target = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (target < 0 || fstat(target, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode)))
		return herr_set(EPERM, "process.terminal: /dev/console changed under us");
	_cleanup_close_ int tfd =
	    open_tree(slave, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tfd < 0)
		return herr_sys("process.terminal: cannot bind the pty to /dev/console");
	if (move_mount(tfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return herr_sys("process.terminal: cannot bind the pty to /dev/console");
	return 0;
}
