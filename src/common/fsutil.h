/*
 * Paths inside a container's rootfs are resolved with openat2(RESOLVE_IN_ROOT):
 * a symlink, "..", or a path swapped during setup can never lead out of the root.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* openat2(dirfd, path, flags, mode, resolve) */
int fs_openat2(int dirfd, const char *path, int flags, mode_t mode, unsigned long long resolve);

/* O_PATH fd of path inside root (RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS); -errno if absent. */
int fs_open_in_root(int rootfd, const char *path, int flags);

/*
 * Make sure path exists inside root, creating missing directories (mode 0755) and,
 * with as_file, an empty regular file as the last component. Returns an O_PATH fd
 * of the final component, resolved inside root.
 */
int fs_mkpath_in_root(int rootfd, const char *path, bool as_file);

/* "/proc/self/fd/N" for fd into buf (at least 32 bytes). */
const char *fs_fd_path(int fd, char *buf, size_t len);

/* Read a whole file (at most max bytes) into a NUL-terminated malloc'd buffer. */
int fs_read_file(const char *path, size_t max, char **out, size_t *len);
int fs_read_fileat(int dirfd, const char *path, size_t max, char **out, size_t *len);
/* Write data to an existing file (no O_CREAT): for /proc and /sys knobs. */
int fs_write_file(const char *path, const char *data, size_t len);
/* Write a file atomically (temp + rename) with mode 0600. */
int fs_write_file_atomic(const char *path, const char *data, size_t len);
/* rm -rf of a directory tree that holds only our own files (state dir). */
int fs_rm_rf(const char *path);
/* write(2)/read(2) until len bytes moved, through EINTR and short counts: 0, or -errno
 * (-EIO when read meets the end first). They record no message: callers add theirs. */
int fs_write_all(int fd, const void *buf, size_t len);
int fs_read_all(int fd, void *buf, size_t len);
