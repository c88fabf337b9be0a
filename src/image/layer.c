/*
 * Layer unpacking. The blob is decompressed by one libarchive reader (a raw
 * "format" behind the gzip or zstd filter) whose output is both hashed and fed,
 * through a read callback, to a second reader that parses the tar: one pass
 * over the blob, no temp file, and the diff_id covers every byte of the
 * uncompressed stream, including what the tar parser never asks for.
 *
 * Extraction is our own rather than archive_write_disk's: every entry's parent
 * is resolved inside fs/ with openat2(RESOLVE_IN_ROOT), so a symlink planted by
 * the layer resolves as if fs/ were "/" and can never lead out; the entry
 * itself is created with *at() calls relative to that parent, never following
 * its final component.
 */
#include "image/layer.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/strv.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#define READ_BLOCK   (1 << 20)
#define OPAQUE_XATTR "trusted.overlay.opaque"

enum comp { COMP_UNKNOWN, COMP_NONE, COMP_GZIP, COMP_ZSTD };

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* OCI "...tar", "...tar+gzip", "...tar+zstd"; docker "...diff.tar.gzip" (and its foreign
 * variant); anything else is left to the magic bytes. */
static enum comp comp_of_type(const char *mt)
{
	if (!mt)
		return COMP_UNKNOWN;
	if (ends_with(mt, "tar+gzip") || ends_with(mt, "tar.gzip"))
		return COMP_GZIP;
	if (ends_with(mt, "tar+zstd") || ends_with(mt, "tar.zstd"))
		return COMP_ZSTD;
	if (ends_with(mt, ".tar"))
		return COMP_NONE;
	return COMP_UNKNOWN;
}

static enum comp comp_of_magic(const unsigned char *m, ssize_t n)
{
	if (n >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		return COMP_GZIP;
	if (n >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return COMP_ZSTD;
	return COMP_NONE;
}

static const char *comp_name(enum comp c)
{
	return c == COMP_GZIP ? "gzip" : c == COMP_ZSTD ? "zstd" : "tar";
}

/* The uncompressed tar stream, hashed as it passes. */
struct stream {
	int fd;
	struct archive *outer; /* the decompressor; NULL for a plain tar */
	struct img_hasher *h;
	char *buf;
	char err[512];
};

static la_ssize_t stream_read(struct archive *a, void *data, const void **out)
{
	struct stream *s = data;
	if (!s->outer) {
		ssize_t n;
		do
			n = read(s->fd, s->buf, READ_BLOCK);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			snprintf(s->err, sizeof(s->err), "read: %s", strerror(errno));
			goto fail;
		}
		img_hasher_update(s->h, s->buf, (size_t)n);
		*out = s->buf;
		return n;
	}
	for (;;) {
		size_t n;
		la_int64_t off;
		/* Zero copy: the block stays valid until the next call, which is all
		 * that libarchive asks of a read callback. */
		int r = archive_read_data_block(s->outer, out, &n, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN) {
			snprintf(s->err, sizeof(s->err), "decompressing: %s",
				 archive_error_string(s->outer));
			goto fail;
		}
		if (n == 0)
			continue;
		img_hasher_update(s->h, *out, n);
		return (la_ssize_t)n;
	}
fail:
	if (a)
		archive_set_error(a, EIO, "%s", s->err);
	return -1;
}

/* A directory whose times are set once everything inside it is written. */
struct dirtime {
	char *path;
	struct timespec ts[2];
};

struct unpack {
	const char *layer; /* the blob digest, for messages */
	int tmpfd;	   /* O_PATH of snapshots/<hex>.tmp-... */
	int fsfd;	   /* O_PATH of its fs/ */
	char *cached;	   /* the last parent resolved ... */
	int cache_fd;	   /* ... and its O_PATH fd */
	struct dirtime *dirs;
	size_t ndirs, capdirs;
	char **warned; /* xattr names already warned about */
};

static void drop_cache(struct unpack *u)
{
	free(u->cached);
	u->cached = NULL;
	if (u->cache_fd >= 0)
		close(u->cache_fd);
	u->cache_fd = -1;
}

static void unpack_free(struct unpack *u)
{
	drop_cache(u);
	for (size_t i = 0; i < u->ndirs; i++)
		free(u->dirs[i].path);
	free(u->dirs);
	strv_free(u->warned);
}

/*
 * The entry name as a relative path without "." or empty components ("" for
 * the root itself); -1 when it is absolute or has a ".." component.
 */
static int clean_path(const char *in, char **out)
{
	if (in[0] == '/')
		return -1;
	char *o = malloc(strlen(in) + 1);
	if (!o)
		return -ENOMEM;
	size_t len = 0;
	for (const char *p = in; *p;) {
		const char *q = strchrnul(p, '/');
		size_t n = (size_t)(q - p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			free(o);
			return -1;
		}
		if (n && !(n == 1 && p[0] == '.')) {
			if (len)
				o[len++] = '/';
			memcpy(o + len, p, n);
			len += n;
		}
		p = *q ? q + 1 : q;
	}
	o[len] = '\0';
	*out = o;
	return 0;
}

/* Splits a clean path in place: *dir gets "" for an entry at the top. */
static const char *split_path(char *path, const char **dir)
{
	char *slash = strrchr(path, '/');
	if (!slash) {
		*dir = "";
		return path;
	}
	*slash = '\0';
	*dir = path;
	return slash + 1;
}

/*
 * O_PATH fd of directory `dir` (clean, relative to fs/), created if missing
 * when `create`; borrowed: it belongs to the one-entry cache (tars list a
 * directory's entries together) or is fsfd itself.
 */
static int parent_fd(struct unpack *u, const char *dir, bool create)
{
	if (!*dir)
		return u->fsfd;
	if (u->cached && !strcmp(u->cached, dir))
		return u->cache_fd;
	drop_cache(u);
	int fd = fs_open_in_root(u->fsfd, dir, O_PATH | O_DIRECTORY);
	if (fd == -ENOENT && create) {
		char abs[PATH_MAX];
		/* fs_mkpath_in_root() takes paths as a container sees them: absolute. */
		snprintf(abs, sizeof(abs), "/%s", dir);
		fd = fs_mkpath_in_root(u->fsfd, abs, false);
		if (fd < 0)
			return fd;
		close(fd);
		fd = fs_open_in_root(u->fsfd, dir, O_PATH | O_DIRECTORY);
	}
	if (fd < 0)
		return herr_set(-fd, "directory \"%s\": %s", dir, strerror(-fd));
	u->cached = strdup(dir);
	if (!u->cached) {
		close(fd);
		return herr_set(ENOMEM, "out of memory");
	}
	u->cache_fd = fd;
	return fd;
}

static const char *at_path(char *buf, int dfd, const char *name)
{
	snprintf(buf, PATH_MAX, "/proc/self/fd/%d/%s", dfd, name);
	return buf;
}

/*
 * Make room for an entry named `name` in pfd: what is there goes (tar order:
 * the later entry wins), except a directory when keep_dir. Returns 1 when an
 * existing directory was kept.
 */
static int clear_name(struct unpack *u, int pfd, const char *name, bool keep_dir)
{
	struct stat st;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : herr_sys("stat");
	if (keep_dir && S_ISDIR(st.st_mode))
		return 1;
	/* The cached path cannot run through a child of itself, but through anything else. */
	if (pfd != u->cache_fd)
		drop_cache(u);
	if (S_ISDIR(st.st_mode)) {
		char p[PATH_MAX];
		return fs_rm_rf(at_path(p, pfd, name));
	}
	if (unlinkat(pfd, name, 0) < 0)
		return herr_sys("remove the earlier entry");
	return 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	if (!archive_entry_mtime_is_set(e))
		ts[1].tv_nsec = UTIME_OMIT;
	if (archive_entry_atime_is_set(e)) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	} else {
		ts[0] = ts[1];
	}
}

static bool xattr_soft_error(int e)
{
	return e == ENOTSUP || e == EPERM || e == EACCES || e == EINVAL || e == ERANGE ||
	       e == E2BIG;
}

static int set_xattrs(struct unpack *u, struct archive_entry *e, int fd, const char *path,
		      const char *raw)
{
	const char *name;
	const void *val;
	size_t size;
	if (archive_entry_xattr_reset(e) == 0)
		return 0;
	while (archive_entry_xattr_next(e, &name, &val, &size) == ARCHIVE_OK) {
		const char *why = NULL;
		/* Overlay's own attributes (redirects, metacopy...) are not the layer's
		 * to set: its opaque dirs come as .wh..wh..opq. */
		if (!strncmp(name, "trusted.overlay.", 16))
			why = "reserved for overlayfs";
		else if ((fd >= 0 ? fsetxattr(fd, name, val, size, 0)
				  : lsetxattr(path, name, val, size, 0)) < 0) {
			if (!xattr_soft_error(errno))
				return herr_sys("xattr %s", name);
			why = strerror(errno);
		}
		if (why && !strv_contains(u->warned, name)) {
			log_warn("layer %s: entry \"%s\": xattr %s not kept (%s); not warning "
				 "again for this layer",
				 u->layer, raw, name, why);
			if (strv_push(&u->warned, name) < 0)
				return herr_set(ENOMEM, "out of memory");
		}
	}
	return 0;
}

/*
 * Owner, mode, xattrs (in this order: chown drops setuid bits and file
 * capabilities) and times, through fd when there is one, else by name in pfd
 * without following a symlink.
 */
static int set_meta(struct unpack *u, struct archive_entry *e, int fd, int pfd, const char *name,
		    const char *raw)
{
	uid_t uid = (uid_t)archive_entry_uid(e);
	gid_t gid = (gid_t)archive_entry_gid(e);
	mode_t perm = archive_entry_perm(e);
	bool link = archive_entry_filetype(e) == AE_IFLNK;
	char p[PATH_MAX];
	if ((fd >= 0 ? fchown(fd, uid, gid) : fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW)) <
	    0)
		return herr_sys("chown to %u:%u", uid, gid);
	if (!link && (fd >= 0 ? fchmod(fd, perm) : fchmodat(pfd, name, perm, 0)) < 0)
		return herr_sys("chmod to %04o", perm);
	int r = set_xattrs(u, e, fd, fd >= 0 ? NULL : at_path(p, pfd, name), raw);
	if (r < 0)
		return r;
	if (archive_entry_filetype(e) == AE_IFDIR)
		return 0;
	struct timespec ts[2];
	entry_times(e, ts);
	if ((fd >= 0 ? futimens(fd, ts) : utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW)) < 0)
		return herr_sys("set times");
	return 0;
}

static int defer_dir_times(struct unpack *u, const char *path, struct archive_entry *e)
{
	if (u->ndirs == u->capdirs) {
		size_t cap = u->capdirs ? 2 * u->capdirs : 64;
		struct dirtime *d = realloc(u->dirs, cap * sizeof(*d));
		if (!d)
			return herr_set(ENOMEM, "out of memory");
		u->dirs = d;
		u->capdirs = cap;
	}
	struct dirtime *d = &u->dirs[u->ndirs];
	d->path = strdup(path);
	if (!d->path)
		return herr_set(ENOMEM, "out of memory");
	entry_times(e, d->ts);
	u->ndirs++;
	return 0;
}

/* In entry order, so a directory listed twice gets its last entry's times. */
static int apply_dir_times(struct unpack *u)
{
	for (size_t i = 0; i < u->ndirs; i++) {
		char *path = u->dirs[i].path;
		const char *dir, *base;
		int pfd;
		if (!*path) {
			pfd = u->tmpfd;
			base = "fs";
		} else {
			base = split_path(path, &dir);
			pfd = parent_fd(u, dir, false);
			if (pfd < 0) /* replaced by a later entry */
				continue;
		}
		struct stat st;
		if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (utimensat(pfd, base, u->dirs[i].ts, AT_SYMLINK_NOFOLLOW) < 0)
			return herr_sys("set times of \"%s\"", path);
	}
	herr_clear();
	return 0;
}

static int write_data(struct archive *a, struct archive_entry *e, int fd)
{
	int64_t end = 0;
	for (;;) {
		const void *buf;
		size_t n;
		la_int64_t off;
		int r = archive_read_data_block(a, &buf, &n, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return herr_set(EIO, "tar: %s", archive_error_string(a));
		/* Offsets jump over the holes of a sparse file. */
		for (size_t done = 0; done < n;) {
			ssize_t w =
			    pwrite(fd, (const char *)buf + done, n - done, off + (off_t)done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return herr_sys("write");
			done += (size_t)w;
		}
		end = off + (int64_t)n;
	}
	if (archive_entry_size(e) > end && ftruncate(fd, archive_entry_size(e)) < 0)
		return herr_sys("truncate");
	return 0;
}

static int whiteout(struct unpack *u, const char *dir, const char *base)
{
	int pfd = parent_fd(u, dir, true);
	if (pfd < 0)
		return pfd;
	if (!strcmp(base, ".wh..wh..opq")) {
		char p[PATH_MAX];
		snprintf(p, sizeof(p), "/proc/self/fd/%d", pfd);
		if (setxattr(p, OPAQUE_XATTR, "y", 1, 0) < 0)
			return herr_sys("set " OPAQUE_XATTR " on \"%s\"", *dir ? dir : "/");
		return 0;
	}
	if (!strncmp(base, ".wh..wh.", 8)) /* aufs bookkeeping (.wh..wh.plnk...) */
		return 0;
	const char *name = base + 4;
	/* Hides lower layers only: an entry of this same layer stays. */
	struct stat st;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (mknodat(pfd, name, S_IFCHR, makedev(0, 0)) < 0)
		return herr_sys("whiteout \"%s\"", name);
	return 0;
}

static int hardlink(struct unpack *u, int pfd, const char *base, const char *raw_target)
{
	_cleanup_free_ char *target = NULL;
	int r = clean_path(raw_target, &target);
	if (r == -ENOMEM)
		return herr_set(ENOMEM, "out of memory");
	if (r < 0 || !*target)
		return herr_set(EPERM, "hardlink to \"%s\" escapes the layer root", raw_target);
	const char *tdir;
	const char *tbase = split_path(target, &tdir);
	_cleanup_close_ int owned = -1;
	int tfd = u->fsfd;
	if (*tdir) {
		owned = fs_open_in_root(u->fsfd, tdir, O_PATH | O_DIRECTORY);
		if (owned < 0)
			return herr_set(-owned, "hardlink target \"%s\": %s", raw_target,
					strerror(-owned));
		tfd = owned;
	}
	struct stat ts, cur;
	if (fstatat(tfd, tbase, &ts, AT_SYMLINK_NOFOLLOW) < 0)
		return herr_sys("hardlink target \"%s\"", raw_target);
	if (fstatat(pfd, base, &cur, AT_SYMLINK_NOFOLLOW) == 0 && cur.st_dev == ts.st_dev &&
	    cur.st_ino == ts.st_ino)
		return 0;
	r = clear_name(u, pfd, base, false);
	if (r < 0)
		return r;
	if (linkat(tfd, tbase, pfd, base, 0) < 0)
		return herr_sys("hardlink to \"%s\"", raw_target);
	return 0;
}

static int make_dir(struct unpack *u, struct archive_entry *e, int pfd, const char *base,
		    const char *path, const char *raw)
{
	int r = clear_name(u, pfd, base, true);
	if (r < 0)
		return r;
	if (r == 0 && mkdirat(pfd, base, 0700) < 0)
		return herr_sys("mkdir");
	_cleanup_close_ int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return herr_sys("open");
	r = set_meta(u, e, fd, -1, NULL, raw);
	return r < 0 ? r : defer_dir_times(u, path, e);
}

static int extract_at(struct unpack *u, struct archive *a, struct archive_entry *e, int pfd,
		      const char *base, const char *path, const char *raw)
{
	const char *link = archive_entry_hardlink(e);
	if (!link)
		link = archive_entry_hardlink_utf8(e);
	if (link)
		return hardlink(u, pfd, base, link);
	mode_t type = archive_entry_filetype(e);
	if (type == AE_IFDIR)
		return make_dir(u, e, pfd, base, path, raw);
	int r = clear_name(u, pfd, base, false);
	if (r < 0)
		return r;
	switch (type) {
	case AE_IFREG: {
		_cleanup_close_ int fd =
		    openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0)
			return herr_sys("create");
		r = write_data(a, e, fd);
		return r < 0 ? r : set_meta(u, e, fd, -1, NULL, raw);
	}
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		if (!target)
			target = archive_entry_symlink_utf8(e);
		if (!target)
			return herr_set(EINVAL, "symlink without a target");
		if (symlinkat(target, pfd, base) < 0)
			return herr_sys("symlink");
		break;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO:
		if (mknodat(pfd, base, type | archive_entry_perm(e), archive_entry_rdev(e)) < 0)
			return herr_sys("mknod");
		break;
	default:
		log_warn("layer %s: entry \"%s\": file type 0%o skipped", u->layer, raw,
			 (unsigned)type);
		return 0;
	}
	return set_meta(u, e, -1, pfd, base, raw);
}

static const char *entry_name(struct archive_entry *e)
{
	const char *n = archive_entry_pathname(e);
	return n ? n : archive_entry_pathname_utf8(e);
}

static int extract(struct unpack *u, struct archive *a, struct archive_entry *e)
{
	const char *raw = entry_name(e);
	if (!raw)
		return herr_set(EINVAL, "an entry has a name that cannot be read");
	_cleanup_free_ char *path = NULL;
	int r = clean_path(raw, &path);
	if (r == -ENOMEM)
		return herr_set(ENOMEM, "out of memory");
	if (r < 0)
		return herr_set(EPERM, "entry \"%s\" escapes the layer root", raw);

	if (!*path) {
		/* The layer's root: only its metadata, onto fs/ itself. */
		if (archive_entry_filetype(e) != AE_IFDIR)
			return 0;
		_cleanup_close_ int fd =
		    openat(u->tmpfd, "fs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return herr_sys("entry \"%s\": open", raw);
		r = set_meta(u, e, fd, -1, NULL, raw);
		if (r >= 0)
			r = defer_dir_times(u, "", e);
		return r < 0 ? herr_ctx(r, "entry \"%s\"", raw) : 0;
	}
	_cleanup_free_ char *full = strdup(path);
	if (!full)
		return herr_set(ENOMEM, "out of memory");
	const char *dir;
	const char *base = split_path(path, &dir);
	if (!strncmp(base, ".wh.", 4))
		r = whiteout(u, dir, base);
	else {
		int pfd = parent_fd(u, dir, true);
		r = pfd < 0 ? pfd : extract_at(u, a, e, pfd, base, full, raw);
	}
	return r < 0 ? herr_ctx(r, "entry \"%s\"", raw) : 0;
}

static int open_outer(struct stream *s, enum comp c)
{
	s->outer = archive_read_new();
	if (!s->outer)
		return herr_set(ENOMEM, "out of memory");
	int r = c == COMP_GZIP ? archive_read_support_filter_gzip(s->outer)
			       : archive_read_support_filter_zstd(s->outer);
	if (r == ARCHIVE_OK)
		r = archive_read_support_format_raw(s->outer);
	if (r == ARCHIVE_OK)
		r = archive_read_open_fd(s->outer, s->fd, READ_BLOCK);
	struct archive_entry *e;
	if (r == ARCHIVE_OK)
		r = archive_read_next_header(s->outer, &e);
	if (r < ARCHIVE_WARN)
		return herr_set(EIO, "%s: %s", comp_name(c), archive_error_string(s->outer));
	return 0;
}

static int unpack_stream(struct unpack *u, int blobfd, enum comp c, const char *diff_id)
{
	struct stream s = {.fd = blobfd};
	struct archive *a = NULL;
	int r;
	s.h = img_hasher_new();
	if (!s.h)
		return herr_set(ENOMEM, "out of memory");
	if (c == COMP_NONE) {
		s.buf = malloc(READ_BLOCK);
		r = s.buf ? 0 : herr_set(ENOMEM, "out of memory");
	} else {
		r = open_outer(&s, c);
	}
	if (r < 0)
		goto out;
	a = archive_read_new();
	if (!a || archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_support_format_empty(a) != ARCHIVE_OK ||
	    archive_read_open(a, &s, NULL, stream_read, NULL) != ARCHIVE_OK) {
		r = herr_set(EIO, "tar: %s", a ? archive_error_string(a) : "out of memory");
		goto out;
	}
	for (;;) {
		struct archive_entry *e;
		int ar = archive_read_next_header(a, &e);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN) {
			r = herr_set(EIO, "tar: %s", archive_error_string(a));
			goto out;
		}
		r = extract(u, a, e);
		if (r < 0)
			goto out;
	}
	/* Whatever follows the end-of-archive blocks is part of the diff_id too. */
	const void *p;
	la_ssize_t n;
	while ((n = stream_read(NULL, &s, &p)) > 0)
		;
	if (n < 0) {
		r = herr_set(EIO, "%s", s.err);
		goto out;
	}
	char got[IMG_DIGEST_MAX];
	img_hasher_final(s.h, got);
	if (strcmp(got, diff_id)) {
		r = herr_set(EINVAL, "uncompressed content is %s, not the diff_id %s", got,
			     diff_id);
		goto out;
	}
	r = apply_dir_times(u);
out:
	if (a)
		archive_read_free(a);
	if (s.outer)
		archive_read_free(s.outer);
	img_hasher_free(s.h);
	free(s.buf);
	return r;
}

static int open_snapshots(struct img_store *st)
{
	if (mkdirat(st->dirfd, "snapshots", 0711) < 0 && errno != EEXIST)
		return herr_sys("%s/snapshots", st->root);
	int fd = openat(st->dirfd, "snapshots", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? herr_sys("%s/snapshots", st->root) : fd;
}

static bool dir_exists(int dfd, const char *name)
{
	struct stat st;
	return fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

/*
 * Temp dirs are named after their chain, so the holder of the chain's lock
 * knows any it finds are left over from a killed unpack.
 */
static void remove_stale(int snapfd, const char *prefix)
{
	char p[PATH_MAX];
	_cleanup_closedir_ DIR *d = opendir(at_path(p, snapfd, "."));
	struct dirent *de;
	while (d && (de = readdir(d)))
		if (!strncmp(de->d_name, prefix, strlen(prefix)))
			fs_rm_rf(at_path(p, snapfd, de->d_name));
	herr_clear();
}

static int lock_chain(int snapfd, const char *hex)
{
	char name[NAME_MAX];
	snprintf(name, sizeof(name), "%s.lock", hex);
	int fd = openat(snapfd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return herr_sys("lock %s", name);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int r = herr_sys("lock %s", name);
			close(fd);
			return r;
		}
	}
	return fd;
}

static int make_tmp(int snapfd, const char *hex, char *name, size_t len)
{
	uint64_t rnd;
	if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
		return herr_sys("getrandom");
	snprintf(name, len, "%s.tmp-%016llx", hex, (unsigned long long)rnd);
	if (mkdirat(snapfd, name, 0700) < 0)
		return herr_sys("mkdir snapshots/%s", name);
	int fd = openat(snapfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return herr_sys("open snapshots/%s", name);
	/* chmod: the caller's umask must not narrow the image's root. */
	if (mkdirat(fd, "fs", 0755) < 0 || fchmodat(fd, "fs", 0755, 0) < 0) {
		int r = herr_sys("mkdir snapshots/%s/fs", name);
		close(fd);
		return r;
	}
	return fd;
}

static int unpack_into(struct img_store *st, int snapfd, const char *hex, const char *layer,
		       const char *media_type, const char *diff_id)
{
	_cleanup_close_ int blob = img_store_open_blob(st, layer);
	if (blob < 0)
		return blob;
	unsigned char magic[4];
	ssize_t n = pread(blob, magic, sizeof(magic), 0);
	if (n < 0)
		return herr_sys("read");
	enum comp c = comp_of_type(media_type);
	enum comp m = comp_of_magic(magic, n);
	if (c == COMP_UNKNOWN)
		c = m;
	else if (c != COMP_NONE && c != m)
		return herr_set(EINVAL, "media type %s, but the blob is not %s data", media_type,
				comp_name(c));
	posix_fadvise(blob, 0, 0, POSIX_FADV_SEQUENTIAL);

	char tmp[NAME_MAX];
	_cleanup_close_ int tmpfd = make_tmp(snapfd, hex, tmp, sizeof(tmp));
	if (tmpfd < 0)
		return tmpfd;
	struct unpack u = {.layer = layer, .tmpfd = tmpfd, .cache_fd = -1};
	u.fsfd = openat(tmpfd, "fs", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = u.fsfd < 0 ? herr_sys("open snapshots/%s/fs", tmp)
			   : unpack_stream(&u, blob, c, diff_id);
	unpack_free(&u);
	if (u.fsfd >= 0)
		close(u.fsfd);
	if (r >= 0 && renameat(snapfd, tmp, snapfd, hex) < 0)
		r = herr_sys("rename snapshots/%s to %s", tmp, hex);
	if (r < 0) {
		char p[PATH_MAX];
		struct herr saved = herr_last;
		fs_rm_rf(at_path(p, snapfd, tmp));
		herr_last = saved;
	}
	return r;
}

int img_layer_unpack(struct img_store *st, const char *layer_digest, const char *media_type,
		     const char *diff_id, const char *chain_id, const char *parent_chain)
{
	/* Each layer is unpacked on its own; the parent only matters when stacking. */
	(void)parent_chain;
	const char *hex = img_digest_hex(chain_id);
	if (!hex)
		return herr_set(EINVAL, "layer %s: chain id \"%s\" is not a digest", layer_digest,
				chain_id);
	if (strncmp(diff_id, "sha256:", 7) || !img_digest_valid(diff_id))
		return herr_set(EINVAL, "layer %s: diff_id \"%s\" is not a sha256 digest",
				layer_digest, diff_id);
	/* Shared store lock: prune, which deletes snapshots no image records yet, waits. */
	int r = img_store_hold(st);
	if (r < 0)
		return herr_ctx(r, "layer %s", layer_digest);
	_cleanup_close_ int snapfd = open_snapshots(st);
	if (snapfd < 0)
		return snapfd;
	if (dir_exists(snapfd, hex))
		return 0;
	_cleanup_close_ int lock = lock_chain(snapfd, hex);
	if (lock < 0)
		return lock;
	if (dir_exists(snapfd, hex))
		return 0; /* another process unpacked it while we waited */
	char prefix[NAME_MAX];
	snprintf(prefix, sizeof(prefix), "%s.tmp-", hex);
	remove_stale(snapfd, prefix);
	r = unpack_into(st, snapfd, hex, layer_digest, media_type, diff_id);
	return r < 0 ? herr_ctx(r, "layer %s", layer_digest) : 0;
}
