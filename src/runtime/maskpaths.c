/*
 * maskedPaths and readonlyPaths, applied in the rootfs (rootfs.c says when). Every target is
 * resolved inside the new root without following symlinks, and the /dev/null we
 * bind over masked files is checked to really be the null device first.
 */
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

int mounts_new_fs(const char *type, const char *source, const char *data, unsigned long ms,
		  const char *where);

static int open_target(int rootfd, const char *path)
{
	return fs_openat2(rootfd, path, O_PATH | O_NOFOLLOW, 0,
			  RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

static int open_null(int rootfd)
{
	int fd = open_target(rootfd, "/dev/null");
	if (fd < 0)
		return herr_set(-fd, "linux.maskedPaths: /dev/null: %s", strerror(-fd));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3)) {
		close(fd);
		return herr_set(EPERM, "linux.maskedPaths: /dev/null in the container is not the "
				       "null device");
	}
	return fd;
}

static int attach_over(int mfd, int target, const char *where, const char *path)
{
	if (move_mount(mfd, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		return herr_sys("%s: cannot mount over %s", where, path);
	return 0;
}

static int mask(int rootfd, int *nullfd, const char *path, const char *where)
{
	_cleanup_close_ int t = open_target(rootfd, path);
	if (t == -ENOENT)
		return 0;
	if (t < 0)
		return herr_set(-t, "%s: %s: %s", where, path, strerror(-t));
	struct stat st;
	if (fstat(t, &st) < 0)
		return herr_sys("%s: stat %s", where, path);
	_cleanup_close_ int mfd = -1;
	if (S_ISDIR(st.st_mode)) {
		/* Read-only and empty; no size, so /proc/mounts reads as under runc. */
		mfd = mounts_new_fs("tmpfs", "tmpfs", NULL, MS_RDONLY, where);
	} else {
		if (*nullfd < 0 && (*nullfd = open_null(rootfd)) < 0)
			return *nullfd;
		mfd = open_tree(*nullfd, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
		if (mfd < 0)
			return herr_sys("%s: bind /dev/null", where);
	}
	if (mfd < 0)
		return mfd;
	return attach_over(mfd, t, where, path);
}

static int make_readonly(int rootfd, const char *path, const char *where)
{
	_cleanup_close_ int t = open_target(rootfd, path);
	if (t == -ENOENT)
		return 0;
	if (t < 0)
		return herr_set(-t, "%s: %s: %s", where, path, strerror(-t));
	_cleanup_close_ int mfd =
	    open_tree(t, "", AT_EMPTY_PATH | AT_RECURSIVE | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (mfd < 0)
		return herr_sys("%s: bind %s", where, path);
	struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY};
	if (mount_setattr(mfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a)) < 0)
		return herr_sys("%s: cannot make %s read-only", where, path);
	return attach_over(mfd, t, where, path);
}

int maskpaths_apply(const struct oci_config *cfg, int rootfd)
{
	const struct oci_linux *l = &cfg->linux;
	if (!l->n_masked_paths && !l->n_readonly_paths)
		return 0;
	_cleanup_close_ int nullfd = -1;
	char where[64];
	for (size_t i = 0; i < l->n_readonly_paths; i++) {
		snprintf(where, sizeof(where), "linux.readonlyPaths[%zu]", i);
		int r = make_readonly(rootfd, l->readonly_paths[i], where);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < l->n_masked_paths; i++) {
		snprintf(where, sizeof(where), "linux.maskedPaths[%zu]", i);
		int r = mask(rootfd, &nullfd, l->masked_paths[i], where);
		if (r < 0)
			return r;
	}
	return 0;
}
