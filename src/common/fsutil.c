#include "fsutil.h"
#include "cleanup.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int fs_openat2(int dirfd, const char *path, int flags, mode_t mode, unsigned long long resolve)
{
	struct open_how how = {
	    .flags = (unsigned long long)flags | O_CLOEXEC, .mode = mode, .resolve = resolve};
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

int fs_open_in_root(int rootfd, const char *path, int flags)
{
	int fd;
	do {
		fd = fs_openat2(rootfd, path, flags, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
	} while (fd == -EAGAIN);
	return fd;
}

/*
 * A dangling symlink on the way ("/evil -> /host/dir" with no /host/dir inside
 * the root) is followed the way RESOLVE_IN_ROOT would: its target is created
 * inside the root. Returns the rewritten path in *next, or 0 if it is no symlink.
 */
static int redirect_link(int parent, const char *name, const char *dir, const char *rest,
			 char **next)
{
	char target[4096];
	ssize_t n = readlinkat(parent, name, target, sizeof(target) - 1);
	if (n < 0)
		return 0;
	target[n] = 0;
	if (asprintf(next, "%s%s%s%s%s", target[0] == '/' ? "" : dir, target[0] == '/' ? "" : "/",
		     target, *rest ? "/" : "", rest) < 0)
		return herr_set(ENOMEM, "out of memory");
	return 1;
}

static int mkpath_once(int rootfd, const char *path, bool as_file, char **next)
{
	_cleanup_free_ char *buf = strdup(path);
	if (!buf)
		return herr_set(ENOMEM, "out of memory");
	size_t len = strlen(buf);
	for (size_t i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		bool last = buf[i] == '\0' || buf[i + 1] == '\0';
		char saved = buf[i];
		buf[i] = '\0';
		_cleanup_close_ int cur = fs_open_in_root(rootfd, buf, O_PATH);
		if (cur == -ENOENT) {
			char *slash = strrchr(buf, '/');
			const char *name = slash + 1;
			*slash = '\0';
			_cleanup_close_ int parent =
			    fs_open_in_root(rootfd, *buf ? buf : "/", O_PATH | O_DIRECTORY);
			if (parent < 0) {
				*slash = '/';
				return herr_set(-parent, "%s: %s", buf, strerror(-parent));
			}
			int r;
			if (last && as_file) {
				r = openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
					   0644);
				if (r >= 0)
					close(r);
			} else {
				r = mkdirat(parent, name, 0755);
			}
			if (r < 0 && errno == EEXIST) {
				r = redirect_link(parent, name, buf, last ? "" : buf + i + 1, next);
				if (r != 0)
					return r < 0 ? r : -EAGAIN;
			}
			*slash = '/';
			if (r < 0 && errno != EEXIST)
				return herr_sys("cannot create %s", buf);
			cur = fs_open_in_root(rootfd, buf, O_PATH);
		}
		if (cur < 0)
			return herr_set(-cur, "%s: %s", buf, strerror(-cur));
		buf[i] = saved;
		if (last)
			return take_fd(cur);
	}
	return herr_set(EINVAL, "%s: empty path", path);
}

int fs_mkpath_in_root(int rootfd, const char *path, bool as_file)
{
	int fd = fs_open_in_root(rootfd, path, O_PATH);
	if (fd >= 0)
		return fd;
	if (fd != -ENOENT)
		return herr_set(-fd, "%s: %s", path, strerror(-fd));
	/* Inside the root a relative path starts at its top, as after a chroot. */
	_cleanup_free_ char *cur = NULL;
	if (asprintf(&cur, "%s%s", path[0] == '/' ? "" : "/", path) < 0)
		cur = NULL;
	for (int hops = 0; cur && hops < 40; hops++) {
		char *next = NULL;
		fd = mkpath_once(rootfd, cur, as_file, &next);
		if (fd != -EAGAIN)
			return fd;
		free(cur);
		cur = next;
	}
	return herr_set(ELOOP, "%s: too many levels of symbolic links", path);
}

const char *fs_fd_path(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
	return buf;
}

int fs_read_fileat(int dirfd, const char *path, size_t max, char **out, size_t *lenp)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return herr_sys("%s", path);
	size_t cap = 4096, len = 0;
	_cleanup_free_ char *buf = malloc(cap);
	if (!buf)
		return herr_set(ENOMEM, "out of memory");
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= max + 1)
				return herr_set(EFBIG, "%s: larger than %zu bytes", path, max);
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			char *nb = realloc(buf, cap);
			if (!nb)
				return herr_set(ENOMEM, "out of memory");
			buf = nb;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return herr_sys("read %s", path);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (lenp)
		*lenp = len;
	*out = take_ptr(buf);
	return 0;
}

int fs_read_file(const char *path, size_t max, char **out, size_t *len)
{
	return fs_read_fileat(AT_FDCWD, path, max, out, len);
}

int fs_write_file(const char *path, const char *data, size_t len)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return herr_sys("open %s", path);
	ssize_t n = write(fd, data, len);
	if (n < 0)
		return herr_sys("write %s", path);
	if ((size_t)n != len)
		return herr_set(EIO, "write %s: short write", path);
	return 0;
}

int fs_write_file_atomic(const char *path, const char *data, size_t len)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return herr_sys("create %s", tmp);
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int r = herr_sys("write %s", tmp);
			unlink(tmp);
			return r;
		}
		off += (size_t)n;
	}
	if (rename(tmp, path) < 0) {
		int r = herr_sys("rename %s", path);
		unlink(tmp);
		return r;
	}
	return 0;
}

static int rm_rf_at(int parent, const char *name)
{
	_cleanup_close_ int fd =
	    openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR || errno == ELOOP ? unlinkat(parent, name, 0) : -1;
	DIR *d = fdopendir(fd);
	if (!d)
		return -1;
	fd = -1;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (e->d_type == DT_DIR)
			rm_rf_at(dirfd(d), e->d_name);
		else
			unlinkat(dirfd(d), e->d_name, 0);
	}
	closedir(d);
	return unlinkat(parent, name, AT_REMOVEDIR);
}

int fs_rm_rf(const char *path)
{
	if (rm_rf_at(AT_FDCWD, path) < 0 && errno != ENOENT)
		return herr_sys("remove %s", path);
	return 0;
}

int fs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fs_read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
