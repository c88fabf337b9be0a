/*
 * The `tmpcopyup` mount option (runc's, which podman puts on every --tmpfs): a
 * new tmpfs starts with a copy of what its mount point held in the rootfs.
 *
 * The rootfs is the container's to shape, so nothing in it is trusted: every
 * name is opened relative to its directory's fd with O_NOFOLLOW, symlinks are
 * copied as links and never followed, and fifos and devices are made anew with
 * mknod, never opened. Owners, modes and times come along; xattrs do not.
 */
#include "internal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPYUP_MAX_DEPTH 128

struct copyup {
	const char *where; /* mounts[N] */
	char path[PATH_MAX];
};

static int fail(struct copyup *cu, const char *what)
{
	return herr_sys("%s: tmpcopyup: %s %s", cu->where, what, cu->path);
}

static int copy_data(int in, int out)
{
	for (;;) {
		ssize_t n = sendfile(out, in, NULL, 1 << 20);
		if (n > 0 || (n < 0 && errno == EINTR))
			continue;
		if (n == 0)
			return 0;
		if (errno != EINVAL && errno != ENOSYS)
			return -1;
		break; /* not a pair sendfile() takes: plain reads and writes */
	}
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		int r = fs_write_all(out, buf, (size_t)n);
		if (r < 0) {
			errno = -r;
			return -1;
		}
	}
}

/* Owner, then mode (chown clears the set-id bits), then times. */
static int set_meta(int dst, const char *name, const struct stat *st, bool is_link)
{
	int nofollow = AT_SYMLINK_NOFOLLOW;
	/* EINVAL: an owner this user namespace does not map; the copy stays ours. */
	if (fchownat(dst, name, st->st_uid, st->st_gid, nofollow) < 0 && errno != EINVAL)
		return -1;
	if (!is_link && fchmodat(dst, name, st->st_mode & 07777, 0) < 0)
		return -1;
	struct timespec t[2] = {st->st_atim, st->st_mtim};
	return utimensat(dst, name, t, nofollow);
}

static int copy_dir(struct copyup *cu, int src, int dst, int depth);

static int copy_entry(struct copyup *cu, int src, int dst, const char *name, int depth)
{
	struct stat st;
	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(cu, "cannot stat");
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR: {
		if (mkdirat(dst, name, 0700) < 0)
			return fail(cu, "cannot create");
		_cleanup_close_ int s =
		    openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int d =
		    openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0 || d < 0)
			return fail(cu, "cannot open");
		int r = copy_dir(cu, s, d, depth + 1);
		if (r < 0)
			return r;
		break;
	}
	case S_IFREG: {
		_cleanup_close_ int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (in < 0)
			return fail(cu, "cannot open");
		_cleanup_close_ int out =
		    openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (out < 0)
			return fail(cu, "cannot create");
		if (copy_data(in, out) < 0)
			return fail(cu, "cannot copy");
		break;
	}
	case S_IFLNK: {
		char target[PATH_MAX];
		ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return fail(cu, "cannot read the link");
		target[n] = 0;
		if (symlinkat(target, dst, name) < 0)
			return fail(cu, "cannot create");
		break;
	}
	default: /* fifos, sockets and devices: made, never opened */
		if (mknodat(dst, name, st.st_mode, st.st_rdev) < 0)
			return fail(cu, "cannot create");
		break;
	}
	if (set_meta(dst, name, &st, S_ISLNK(st.st_mode)) < 0)
		return fail(cu, "cannot set the owner, mode or times of");
	return 0;
}

static int copy_dir(struct copyup *cu, int src, int dst, int depth)
{
	if (depth > COPYUP_MAX_DEPTH)
		return herr_set(ELOOP, "%s: tmpcopyup: %s is more than %d directories deep",
				cu->where, cu->path, COPYUP_MAX_DEPTH);
	int fd = dup(src);
	if (fd < 0)
		return fail(cu, "cannot read");
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return fail(cu, "cannot read");
	}
	_cleanup_closedir_ DIR *dir = d;
	size_t len = strlen(cu->path);
	struct dirent *e;
	while ((errno = 0, e = readdir(dir))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (len + 1 + strlen(e->d_name) >= sizeof(cu->path))
			return herr_set(ENAMETOOLONG, "%s: tmpcopyup: a path under %s is too long",
					cu->where, cu->path);
		snprintf(cu->path + len, sizeof(cu->path) - len, "/%s", e->d_name);
		int r = copy_entry(cu, src, dst, e->d_name, depth);
		cu->path[len] = 0;
		if (r < 0)
			return r;
	}
	return errno ? fail(cu, "cannot read") : 0;
}

static int copyup(int src, const char *dest, int mfd, const char *where)
{
	struct copyup cu = {.where = where};
	snprintf(cu.path, sizeof(cu.path), "%s", strcmp(dest, "/") ? dest : "");
	return copy_dir(&cu, src, mfd, 0);
}

static bool has_mode_option(const char *data)
{
	for (const char *p = data; p; p = strchr(p, ','), p = p ? p + 1 : NULL)
		if (!strncmp(p, "mode=", 5))
			return true;
	return false;
}

static int set_ro(int mfd, bool ro, const char *where)
{
	struct mount_attr a = {.attr_set = ro ? MOUNT_ATTR_RDONLY : 0,
			       .attr_clr = ro ? 0 : MOUNT_ATTR_RDONLY};
	if (mount_setattr(mfd, "", AT_EMPTY_PATH, &a, sizeof(a)) < 0)
		return herr_sys("%s: cannot make the tmpfs %s", where,
				ro ? "read-only" : "writable");
	return 0;
}

/*
 * A tmpfs on an existing directory takes that directory's mode unless the
 * options give one (as runc 1.2: a directory the image keeps at 0750 does not
 * become 1777), and with tmpcopyup its contents. Done on the detached mount,
 * writable for the time it takes even if it is to be read-only.
 */
int mounts_tmpfs_from_mountpoint(int rootfd, const struct oci_mount *m, int mfd, const char *where)
{
	bool want_mode = !has_mode_option(m->data);
	if (!want_mode && !m->tmpcopyup)
		return 0;
	_cleanup_close_ int src = fs_openat2(
	    rootfd, m->destination, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, RESOLVE_IN_ROOT);
	if (src == -ENOENT || src == -ENOTDIR)
		return 0; /* nothing there yet: no mode, nothing to copy */
	if (src < 0)
		return herr_set(-src, "%s: %s: %s", where, m->destination, strerror(-src));
	struct stat st;
	if (want_mode && fstat(src, &st) < 0)
		return herr_sys("%s: stat %s", where, m->destination);
	bool ro = m->flags & MS_RDONLY;
	int r = ro ? set_ro(mfd, false, where) : 0;
	if (r >= 0 && want_mode) {
		_cleanup_close_ int root = openat(mfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (root < 0 || fchmod(root, st.st_mode & 07777) < 0)
			r = herr_sys("%s: cannot give the tmpfs the mode of %s", where,
				     m->destination);
	}
	if (r >= 0 && m->tmpcopyup)
		r = copyup(src, m->destination, mfd, where);
	if (r >= 0 && ro)
		r = set_ro(mfd, true, where);
	return r;
}
