/*
 * Snapshots by chain id (unpacked by layer.c), and a container's rootfs: an
 * overlay of its image's snapshots with its own upper and work dirs.
 *
 * Mounting: the options page of mount(2) holds 4095 bytes, about 40 snapshot
 * paths, and fsconfig() takes strings of at most 255 bytes, so a whole
 * "lowerdir=a:b:c" cannot go through the new mount API either. Kernels from 6.8
 * take the layers one by one as "lowerdir+", which has no such limit: that is
 * what we use, and mount(2) with the options string only on older kernels.
 * Neither needs a chdir (which would change the whole process's cwd).
 *
 * Options: index=off, as docker's overlay2 sets it: several containers share
 * the same lower dirs, which the inodes index would tie to one upper. No
 * "userxattr": we mount as real root, so overlay's own whiteouts and opaque
 * markers are the trusted.* ones that layer.c writes.
 */
#include "image/layer.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define FSCONFIG_VALUE_MAX 255

void img_chain_ids(char *const *diff_ids, size_t n, char (*chain)[IMG_DIGEST_MAX])
{
	for (size_t i = 0; i < n; i++) {
		if (i == 0) {
			snprintf(chain[0], IMG_DIGEST_MAX, "%s", diff_ids[0]);
			continue;
		}
		char buf[2 * IMG_DIGEST_MAX + 2];
		int len = snprintf(buf, sizeof(buf), "%s %s", chain[i - 1], diff_ids[i]);
		img_digest_buf(buf, (size_t)len, chain[i]);
	}
}

bool img_snapshot_exists(struct img_store *st, const char *chain_id)
{
	const char *hex = img_digest_hex(chain_id);
	char p[PATH_MAX];
	if (!hex)
		return false;
	snprintf(p, sizeof(p), "snapshots/%s", hex);
	struct stat sb;
	return fstatat(st->dirfd, p, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode);
}

/* A growing string for the options. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool failed;
};

static void sb_add(struct sbuf *b, const char *s, bool escape)
{
	for (; *s && !b->failed; s++) {
		if (b->len + 3 > b->cap) {
			size_t cap = b->cap ? 2 * b->cap : 256;
			char *n = realloc(b->s, cap);
			if (!n) {
				b->failed = true;
				return;
			}
			b->s = n;
			b->cap = cap;
		}
		/* overlay splits options at ',' and lowerdir at ':', both unless escaped */
		if (escape && (*s == ',' || *s == ':' || *s == '\\'))
			b->s[b->len++] = '\\';
		b->s[b->len++] = *s;
		b->s[b->len] = '\0';
	}
}

static int mkdir_ok(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return herr_sys("mkdir %s", path);
	return 0;
}

/* The kernel's reason for a failed fsconfig, read from the context fd. */
static const char *fs_reason(int fsfd, char *buf, size_t len)
{
	ssize_t n = read(fsfd, buf, len - 1);
	if (n <= 2)
		return "";
	buf[n] = '\0';
	if (buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return buf + 2; /* "e " */
}

static int fs_set(int fsfd, const char *key, const char *val)
{
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, key, val, 0) == 0)
		return 0;
	char log[512];
	int e = errno;
	const char *why = fs_reason(fsfd, log, sizeof(log));
	errno = e;
	return herr_sys("overlay %s=%s%s%s", key, val, *why ? ": " : "", why);
}

/* -EOPNOTSUPP (no message) when the kernel has no "lowerdir+" or a path is too long for it. */
static int mount_layers(char **lowers, size_t n, const char *upper, const char *work,
			const char *merged, bool volatile_upper)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(lowers[i]) > FSCONFIG_VALUE_MAX)
			return -EOPNOTSUPP;
	if (strlen(upper) > FSCONFIG_VALUE_MAX || strlen(work) > FSCONFIG_VALUE_MAX)
		return -EOPNOTSUPP;
	_cleanup_close_ int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		return herr_sys("overlay filesystem");
	if (fs_set(fsfd, "source", "overlay") < 0)
		return -herr_code();
	for (size_t i = 0; i < n; i++) {
		if (fsconfig(fsfd, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0) == 0)
			continue;
		if (i == 0 && errno == EINVAL) {
			char log[512];
			const char *why = fs_reason(fsfd, log, sizeof(log));
			if (strstr(why, "nknown parameter"))
				return -EOPNOTSUPP;
			errno = EINVAL;
		}
		return fs_set(fsfd, "lowerdir+", lowers[i]);
	}
	int r = fs_set(fsfd, "upperdir", upper);
	if (r == 0)
		r = fs_set(fsfd, "workdir", work);
	if (r == 0)
		r = fs_set(fsfd, "index", "off");
	if (r == 0 && volatile_upper && fsconfig(fsfd, FSCONFIG_SET_FLAG, "volatile", NULL, 0) < 0)
		r = herr_sys("overlay on %s: volatile", merged);
	if (r < 0)
		return r;
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		char log[512];
		int e = errno;
		const char *why = fs_reason(fsfd, log, sizeof(log));
		errno = e;
		return herr_sys("overlay on %s%s%s", merged, *why ? ": " : "", why);
	}
	_cleanup_close_ int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, 0);
	if (mfd < 0)
		return herr_sys("overlay on %s", merged);
	if (move_mount(mfd, "", AT_FDCWD, merged, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		return herr_sys("mount overlay on %s", merged);
	return 0;
}

/* The upper root is the merged root: give it the top layer's owner and mode, as a
 * snapshot's root would have under a plain lowerdir-only overlay. */
static int copy_root_attrs(const char *from, const char *to)
{
	struct stat st;
	if (stat(from, &st) < 0)
		return herr_sys("stat %s", from);
	if (chown(to, st.st_uid, st.st_gid) < 0 || chmod(to, st.st_mode & 07777) < 0)
		return herr_sys("%s", to);
	return 0;
}

static void free_lowers(char **lowers, size_t n)
{
	if (!lowers)
		return;
	for (size_t i = 0; i < n; i++)
		free(lowers[i]);
	free(lowers);
}

static int build(struct img_store *st, char (*chain)[IMG_DIGEST_MAX], size_t n, const char *dir,
		 unsigned flags, char **overlay_opts, char **lowers)
{
	_cleanup_free_ char *root = realpath(st->root, NULL);
	if (!root)
		return herr_sys("%s", st->root);
	if (mkdir_ok(dir, 0700) < 0)
		return -herr_code();
	_cleanup_free_ char *d = realpath(dir, NULL);
	if (!d)
		return herr_sys("%s", dir);

	/* Top layer first, as overlay stacks them. */
	for (size_t i = 0; i < n; i++) {
		const char *c = chain[n - 1 - i];
		const char *hex = img_digest_hex(c);
		if (!hex)
			return herr_set(EINVAL, "chain id \"%s\" is not a digest", c);
		if (!img_snapshot_exists(st, c))
			return herr_set(ENOENT, "snapshot %s is not unpacked", c);
		if (asprintf(&lowers[i], "%s/snapshots/%s/fs", root, hex) < 0)
			return herr_set(ENOMEM, "out of memory");
	}
	size_t nl = n;
	_cleanup_free_ char *upper = NULL, *work = NULL, *merged = NULL;
	if (asprintf(&upper, "%s/upper", d) < 0 || asprintf(&work, "%s/work", d) < 0 ||
	    asprintf(&merged, "%s/merged", d) < 0)
		return herr_set(ENOMEM, "out of memory");
	if (n == 0) {
		/* An image of no layers (config only) is an empty rootfs. */
		if (asprintf(&lowers[0], "%s/empty", d) < 0)
			return herr_set(ENOMEM, "out of memory");
		if (mkdir_ok(lowers[0], 0755) < 0)
			return -herr_code();
		nl = 1;
	}
	bool fresh = access(upper, F_OK) < 0;
	if (mkdir_ok(upper, 0755) < 0 || mkdir_ok(work, 0700) < 0 || mkdir_ok(merged, 0755) < 0)
		return -herr_code();
	if (fresh && copy_root_attrs(lowers[0], upper) < 0)
		return -herr_code();

	struct sbuf b = {0};
	sb_add(&b, "lowerdir=", false);
	for (size_t i = 0; i < nl; i++) {
		if (i)
			sb_add(&b, ":", false);
		sb_add(&b, lowers[i], true);
	}
	sb_add(&b, ",upperdir=", false);
	sb_add(&b, upper, true);
	sb_add(&b, ",workdir=", false);
	sb_add(&b, work, true);
	sb_add(&b, ",index=off", false);
	bool vol = flags & IMG_ROOTFS_VOLATILE;
	if (vol)
		sb_add(&b, ",volatile", false);
	if (b.failed) {
		free(b.s);
		return herr_set(ENOMEM, "out of memory");
	}
	_cleanup_free_ char *opts = b.s;

	if (flags & IMG_ROOTFS_MOUNT) {
		/* a volatile upper dir left by a crash must be cleared before it mounts again */
		if (vol) {
			_cleanup_free_ char *inc = NULL;
			if (asprintf(&inc, "%s/incompat", work) > 0)
				fs_rm_rf(inc);
		}
		int r = mount_layers(lowers, nl, upper, work, merged, vol);
		if (r == -EOPNOTSUPP) {
			if (strlen(opts) >= 4096)
				return herr_set(E2BIG,
						"%zu layers are too many for one overlay mount on "
						"this kernel (no lowerdir+)",
						n);
			r = mount("overlay", merged, "overlay", 0, opts) < 0
				? herr_sys("mount overlay on %s", merged)
				: 0;
		}
		if (r < 0)
			return r;
	}
	*overlay_opts = take_ptr(opts);
	return 0;
}

int img_rootfs_prepare(struct img_store *st, char (*chain)[IMG_DIGEST_MAX], size_t n,
		       const char *dir, unsigned flags, char **overlay_opts)
{
	char **lowers = calloc(n ? n : 1, sizeof(*lowers));
	if (!lowers)
		return herr_set(ENOMEM, "out of memory");
	int r = build(st, chain, n, dir, flags, overlay_opts, lowers);
	free_lowers(lowers, n ? n : 1);
	return r < 0 ? herr_ctx(r, "rootfs %s", dir) : 0;
}
