/*
 * Layer unpacking and overlay rootfs: tars written here with libarchive (plain,
 * gzip, zstd), unpacked into a store under a temp dir, checked on disk; hostile
 * entries refused or kept inside; two snapshots stacked as a real overlay.
 * Needs root (owners, device nodes, trusted.* xattrs, the overlay mount).
 */
#include "tap.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "image/digest.h"
#include "image/layer.h"
#include "image/store.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <locale.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test_layer.XXXXXX";
static struct img_store st;

struct buf {
	char *p;
	size_t len, cap;
};

static la_ssize_t buf_write(struct archive *a, void *data, const void *p, size_t n)
{
	(void)a;
	struct buf *b = data;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return (la_ssize_t)n;
}

struct ent {
	const char *name;
	mode_t type; /* AE_IF*; 0 = regular */
	mode_t perm;
	const char *data;  /* regular file content */
	const char *link;  /* symlink target */
	const char *hard;  /* hardlink target */
	unsigned maj, min; /* devices */
	unsigned uid, gid;
	time_t mtime;
	const char *xname; /* one xattr */
	const void *xval;
	size_t xlen;
};

static struct buf make_tar(const struct ent *ents, size_t n)
{
	struct buf b = {0};
	/* Names go into pax headers as UTF-8 (as Go's archive/tar writes them); the
	 * unpacker itself runs in the C locale, as deck does. */
	setlocale(LC_CTYPE, "C.UTF-8");
	struct archive *a = archive_write_new();
	archive_write_set_format_pax(a);
	archive_write_open(a, &b, NULL, buf_write, NULL);
	for (size_t i = 0; i < n; i++) {
		const struct ent *x = &ents[i];
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, x->name);
		archive_entry_set_filetype(e, x->type ? x->type : AE_IFREG);
		archive_entry_set_perm(e, x->perm ? x->perm : 0644);
		archive_entry_set_uid(e, x->uid);
		archive_entry_set_gid(e, x->gid);
		archive_entry_set_mtime(e, x->mtime ? x->mtime : 1000000000, 0);
		if (x->link)
			archive_entry_set_symlink(e, x->link);
		if (x->hard) {
			archive_entry_set_hardlink(e, x->hard);
			archive_entry_set_size(e, 0);
		}
		if (x->type == AE_IFCHR || x->type == AE_IFBLK)
			archive_entry_set_rdev(e, makedev(x->maj, x->min));
		if (x->xname)
			archive_entry_xattr_add_entry(e, x->xname, x->xval, x->xlen);
		size_t len = x->data ? strlen(x->data) : 0;
		if (!x->type && !x->hard)
			archive_entry_set_size(e, (la_int64_t)len);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			tap_diag("tar %s: %s", x->name, archive_error_string(a));
		if (len)
			archive_write_data(a, x->data, len);
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	setlocale(LC_CTYPE, "C");
	return b;
}

/* filter: ARCHIVE_FILTER_NONE, _GZIP or _ZSTD */
static struct buf compress(const struct buf *tar, int filter)
{
	if (filter == ARCHIVE_FILTER_NONE) {
		struct buf c = {malloc(tar->len), tar->len, tar->len};
		memcpy(c.p, tar->p, tar->len);
		return c;
	}
	struct buf b = {0};
	struct archive *a = archive_write_new();
	archive_write_add_filter(a, filter);
	archive_write_set_format_raw(a);
	archive_write_set_bytes_in_last_block(a, 1);
	archive_write_open(a, &b, NULL, buf_write, NULL);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "data");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, (la_int64_t)tar->len);
	archive_write_header(a, e);
	archive_write_data(a, tar->p, tar->len);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	return b;
}

struct layer {
	char blob[IMG_DIGEST_MAX];
	char diff_id[IMG_DIGEST_MAX];
	char fs[512];
};

static const char *media(int filter)
{
	return filter == ARCHIVE_FILTER_GZIP   ? "application/vnd.oci.image.layer.v1.tar+gzip"
	       : filter == ARCHIVE_FILTER_ZSTD ? "application/vnd.oci.image.layer.v1.tar+zstd"
					       : "application/vnd.oci.image.layer.v1.tar";
}

/* Store the layer's blob and unpack it as chain `chain` (NULL: its diff_id, a base layer). */
static int unpack(const struct ent *ents, size_t n, int filter, bool by_magic, const char *chain,
		  struct layer *l)
{
	struct buf tar = make_tar(ents, n);
	struct buf blob = compress(&tar, filter);
	img_digest_buf(tar.p, tar.len, l->diff_id);
	img_store_put_blob(&st, blob.p, blob.len, l->blob);
	free(tar.p);
	free(blob.p);
	if (!chain)
		chain = l->diff_id;
	snprintf(l->fs, sizeof(l->fs), "%s/snapshots/%s/fs", st.root, img_digest_hex(chain));
	herr_clear();
	return img_layer_unpack(&st, l->blob, by_magic ? NULL : media(filter), l->diff_id, chain,
				NULL);
}

static char *at(const char *dir, const char *rel)
{
	static char p[4][1024];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, rel);
	return p[i];
}

static bool exists(const char *p)
{
	struct stat s;
	return lstat(p, &s) == 0;
}

static char *slurp(const char *p)
{
	static char b[256];
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof(b) - 1);
	if (fd >= 0)
		close(fd);
	if (n < 0)
		return NULL;
	b[n] = 0;
	return b;
}

/* Whether the snapshots dir holds only snapshots and locks (no <hex>.tmp-* left). */
static bool no_tmp_left(void)
{
	DIR *d = opendir(at(st.root, "snapshots"));
	struct dirent *e;
	bool clean = true;
	while (d && (e = readdir(d)))
		if (strstr(e->d_name, ".tmp-"))
			clean = false;
	if (d)
		closedir(d);
	return clean;
}

static void test_chain_ids(void)
{
	char a[IMG_DIGEST_MAX] = "sha256:", b[IMG_DIGEST_MAX] = "sha256:";
	memset(a + 7, 'a', 64);
	memset(b + 7, 'b', 64);
	char *ids[] = {a, b};
	char chain[2][IMG_DIGEST_MAX];
	img_chain_ids(ids, 2, chain);
	is_str(chain[0], a, "chain[0] is diff_ids[0]");
	is_str(chain[1], "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c",
	       "chain[1] = sha256(chain[0] + \" \" + diff_ids[1])");
}

static void test_full(void)
{
	/* VFS_CAP_REVISION_2, effective, permitted = CAP_NET_RAW */
	uint32_t cap[5] = {VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE, 1u << CAP_NET_RAW, 0, 0,
			   0};
	const struct ent ents[] = {
	    {.name = "./", .type = AE_IFDIR, .perm = 0755, .mtime = 1111},
	    {.name = "etc/", .type = AE_IFDIR, .perm = 0750, .uid = 7, .gid = 8, .mtime = 2222},
	    {.name = "etc/hello",
	     .perm = 04755,
	     .data = "hi\n",
	     .uid = 1000,
	     .gid = 1001,
	     .mtime = 3333},
	    {.name = "etc/hello2", .hard = "etc/hello"},
	    {.name = "etc/link",
	     .type = AE_IFLNK,
	     .link = "/etc/hello",
	     .uid = 5,
	     .gid = 6,
	     .mtime = 4444},
	    {.name = "etc/caf\xc3\xa9", .data = "utf8"},
	    {.name = "bin/ping",
	     .perm = 0755,
	     .data = "ELF",
	     .xname = "security.capability",
	     .xval = cap,
	     .xlen = 20},
	    {.name = "bin/tagged", .data = "x", .xname = "user.hull", .xval = "v1", .xlen = 2},
	    {.name = "dev/null", .type = AE_IFCHR, .perm = 0666, .maj = 1, .min = 3},
	    {.name = "dev/sda", .type = AE_IFBLK, .perm = 0660, .maj = 8, .min = 0},
	    {.name = "run/fifo", .type = AE_IFIFO, .perm = 0620},
	    {.name = "dup", .data = "first"},
	    {.name = "dup", .data = "second"},
	    {.name = "d2/", .type = AE_IFDIR, .perm = 0700},
	    {.name = "d2/f", .data = "f"},
	    {.name = "d2", .data = "a file replaces the dir"},
	};
	struct layer l;
	int r = unpack(ents, ARRAY_SIZE(ents), ARCHIVE_FILTER_NONE, false, NULL, &l);
	if (!is_int(r, 0, "plain tar unpacks"))
		tap_diag("%s", herr_msg());
	struct stat s;
	ok(stat(l.fs, &s) == 0 && (s.st_mode & 07777) == 0755 && s.st_mtime == 1111,
	   "root entry's mode and mtime on fs/");
	ok(stat(at(l.fs, "etc"), &s) == 0 && (s.st_mode & 07777) == 0750 && s.st_uid == 7 &&
	       s.st_gid == 8,
	   "dir mode and owner");
	is_int(s.st_mtime, 2222, "dir mtime set after its children were written");
	ok(stat(at(l.fs, "etc/hello"), &s) == 0 && S_ISREG(s.st_mode), "regular file");
	is_int(s.st_mode & 07777, 04755, "setuid bit kept");
	ok(s.st_uid == 1000 && s.st_gid == 1001, "numeric owner");
	is_int(s.st_mtime, 3333, "file mtime");
	is_str(slurp(at(l.fs, "etc/hello")), "hi\n", "file content");
	struct stat h;
	ok(stat(at(l.fs, "etc/hello2"), &h) == 0 && h.st_ino == s.st_ino && h.st_nlink == 2,
	   "hardlink shares the inode");
	char t[64] = "";
	ssize_t n = readlink(at(l.fs, "etc/link"), t, sizeof(t) - 1);
	is_str(n > 0 ? (t[n] = 0, t) : NULL, "/etc/hello", "symlink target kept verbatim");
	ok(lstat(at(l.fs, "etc/link"), &s) == 0 && s.st_uid == 5 && s.st_gid == 6 &&
	       s.st_mtime == 4444,
	   "symlink owner and mtime (not its target's)");
	is_str(slurp(at(l.fs, "etc/caf\xc3\xa9")), "utf8", "UTF-8 name from a pax header");
	uint32_t got[5] = {0};
	is_int(getxattr(at(l.fs, "bin/ping"), "security.capability", got, sizeof(got)), 20,
	       "security.capability set");
	ok(got[1] == 1u << CAP_NET_RAW, "capability set holds CAP_NET_RAW");
	char v[8] = "";
	is_int(getxattr(at(l.fs, "bin/tagged"), "user.hull", v, sizeof(v)), 2, "user xattr set");
	ok(stat(at(l.fs, "dev/null"), &s) == 0 && S_ISCHR(s.st_mode) &&
	       s.st_rdev == makedev(1, 3) && (s.st_mode & 0777) == 0666,
	   "char device 1:3 0666");
	ok(stat(at(l.fs, "dev/sda"), &s) == 0 && S_ISBLK(s.st_mode) && s.st_rdev == makedev(8, 0),
	   "block device 8:0");
	ok(stat(at(l.fs, "run/fifo"), &s) == 0 && S_ISFIFO(s.st_mode) && (s.st_mode & 0777) == 0620,
	   "fifo 0620");
	ok(stat(at(l.fs, "run"), &s) == 0 && S_ISDIR(s.st_mode), "missing parent dir made");
	is_str(slurp(at(l.fs, "dup")), "second", "a later entry replaces an earlier one");
	is_str(slurp(at(l.fs, "d2")), "a file replaces the dir", "a file replaces a dir tree");
	ok(img_snapshot_exists(&st, l.diff_id), "img_snapshot_exists");
	ok(no_tmp_left(), "no temp dir left");

	/* Unpacking again is a no-op: a change made to the snapshot stays. */
	unlink(at(l.fs, "dup"));
	r = unpack(ents, ARRAY_SIZE(ents), ARCHIVE_FILTER_NONE, false, NULL, &l);
	ok(r == 0 && !exists(at(l.fs, "dup")), "existing snapshot: no-op");
}

static void test_compression(void)
{
	static const int filters[] = {ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_ZSTD};
	for (size_t i = 0; i < 2; i++)
		for (int magic = 0; magic < 2; magic++) {
			char name[64], data[64];
			snprintf(name, sizeof(name), "f-%zu-%d", i, magic);
			snprintf(data, sizeof(data), "%s", name);
			const struct ent ents[] = {{.name = name, .data = data}};
			struct layer l;
			int r = unpack(ents, 1, filters[i], magic, NULL, &l);
			const char *what = i ? "zstd" : "gzip";
			if (!is_int(r, 0, "%s layer%s", what, magic ? " detected by magic" : ""))
				tap_diag("%s", herr_msg());
			is_str(slurp(at(l.fs, name)), data, "%s content", what);
		}

	/* A layer with no entries at all. */
	struct layer l;
	is_int(unpack(NULL, 0, ARCHIVE_FILTER_GZIP, false, NULL, &l), 0, "empty tar");

	/* gzip media type, plain tar blob */
	const struct ent ents[] = {{.name = "x", .data = "x"}};
	struct buf tar = make_tar(ents, 1);
	img_digest_buf(tar.p, tar.len, l.diff_id);
	img_store_put_blob(&st, tar.p, tar.len, l.blob);
	herr_clear();
	int r =
	    img_layer_unpack(&st, l.blob, media(ARCHIVE_FILTER_GZIP), l.diff_id, l.diff_id, NULL);
	ok(r < 0 && strstr(herr_msg(), "is not gzip data"), "media type and content disagree: %s",
	   herr_msg());

	/* A truncated gzip stream fails and leaves nothing. */
	struct buf gz = compress(&tar, ARCHIVE_FILTER_GZIP);
	img_store_put_blob(&st, gz.p, gz.len / 2, l.blob);
	herr_clear();
	r = img_layer_unpack(&st, l.blob, NULL, l.diff_id, l.diff_id, NULL);
	ok(r < 0, "truncated gzip: %s", herr_msg());
	ok(!img_snapshot_exists(&st, l.diff_id) && no_tmp_left(), "truncated gzip: nothing kept");
	free(gz.p);
	free(tar.p);
}

static void test_diff_id_mismatch(void)
{
	const struct ent ents[] = {{.name = "a", .data = "a"}};
	struct buf tar = make_tar(ents, 1);
	struct layer l;
	img_store_put_blob(&st, tar.p, tar.len, l.blob);
	char wrong[IMG_DIGEST_MAX];
	img_digest_buf("other", 5, wrong);
	herr_clear();
	int r = img_layer_unpack(&st, l.blob, NULL, wrong, wrong, NULL);
	ok(r < 0 && strstr(herr_msg(), "not the diff_id"), "diff_id mismatch: %s", herr_msg());
	has_prefix(herr_msg(), "layer sha256:", "error names the layer");
	ok(!img_snapshot_exists(&st, wrong) && no_tmp_left(), "diff_id mismatch: nothing kept");
	free(tar.p);
}

static void expect_refused(const struct ent *ents, size_t n, const char *want, const char *what)
{
	struct layer l;
	int r = unpack(ents, n, ARCHIVE_FILTER_NONE, false, NULL, &l);
	ok(r < 0, "%s refused", what);
	char full[512];
	snprintf(full, sizeof(full), "layer %s: %s", l.blob, want);
	is_str(herr_msg(), full, "%s: message", what);
	ok(!img_snapshot_exists(&st, l.diff_id) && no_tmp_left(), "%s: nothing kept", what);
}

static void test_hostile(void)
{
	const struct ent dotdot[] = {{.name = "ok", .data = "1"}, {.name = "../x", .data = "x"}};
	expect_refused(dotdot, 2, "entry \"../x\" escapes the layer root", "\"../x\"");
	ok(!exists(at(st.root, "snapshots/x")) && !exists(at(tmpdir, "x")), "../x not written");
	const struct ent mid[] = {{.name = "a/../../y", .data = "y"}};
	expect_refused(mid, 1, "entry \"a/../../y\" escapes the layer root", "\"a/../../y\"");
	const struct ent abs[] = {{.name = "/abs", .data = "x"}};
	expect_refused(abs, 1, "entry \"/abs\" escapes the layer root", "\"/abs\"");
	const struct ent hl[] = {{.name = "pw", .hard = "../../etc/passwd"}};
	expect_refused(hl, 1,
		       "entry \"pw\": hardlink to \"../../etc/passwd\" escapes the layer root",
		       "hardlink to ../../etc/passwd");

	/* Symlinks on the way resolve as if fs/ were "/". */
	char probe[64];
	snprintf(probe, sizeof(probe), "hull-layer-probe-%d", (int)getpid());
	char through_root[128], through_up[128];
	snprintf(through_root, sizeof(through_root), "a/etc/%s", probe);
	snprintf(through_up, sizeof(through_up), "b/%s", probe);
	const struct ent links[] = {
	    {.name = "a", .type = AE_IFLNK, .link = "/"},
	    {.name = through_root, .data = "inside"},
	    {.name = "b", .type = AE_IFLNK, .link = "../../../../../tmp"},
	    {.name = through_up, .data = "inside too"},
	    {.name = "c", .type = AE_IFLNK, .link = "/etc"},
	    {.name = "c/passwd", .data = "not the host's"},
	    {.name = "pwlink", .hard = "c/passwd"},
	};
	struct layer l;
	int r = unpack(links, ARRAY_SIZE(links), ARCHIVE_FILTER_NONE, false, NULL, &l);
	if (!is_int(r, 0, "layer with symlinks pointing out unpacks"))
		tap_diag("%s", herr_msg());
	char host[128];
	snprintf(host, sizeof(host), "/etc/%s", probe);
	ok(!exists(host), "a -> /, a/etc/x: nothing written to the host's /etc");
	unlink(host);
	snprintf(host, sizeof(host), "/tmp/%s", probe);
	ok(!exists(host), "b -> ../../../../../tmp: nothing written to the host's /tmp");
	unlink(host);
	char in[128];
	snprintf(in, sizeof(in), "etc/%s", probe);
	is_str(slurp(at(l.fs, in)), "inside", "a/etc/x landed in fs/etc/x");
	snprintf(in, sizeof(in), "tmp/%s", probe);
	is_str(slurp(at(l.fs, in)), "inside too", "b/x landed in fs/tmp/x");
	struct stat a, b;
	ok(stat(at(l.fs, "pwlink"), &a) == 0 && stat("/etc/passwd", &b) == 0 &&
	       a.st_ino != b.st_ino,
	   "hardlink through c -> /etc links fs/etc/passwd, not the host's");
	is_str(slurp(at(l.fs, "pwlink")), "not the host's", "hardlink target inside fs");

	/* A regular file entry over a symlink replaces the link, never writes through it. */
	snprintf(host, sizeof(host), "%s/outside", tmpdir);
	int fd = open(host, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd >= 0)
		(void)!write(fd, "orig", 4), close(fd);
	const struct ent over[] = {{.name = "s", .type = AE_IFLNK, .link = host},
				   {.name = "s", .data = "new"}};
	r = unpack(over, 2, ARCHIVE_FILTER_NONE, false, NULL, &l);
	ok(r == 0 && !strcmp(slurp(host), "orig"), "file over a symlink leaves its target alone");
	is_str(slurp(at(l.fs, "s")), "new", "file over a symlink replaces it");
}

static void test_concurrent(void)
{
	const struct ent ents[] = {{.name = "big", .data = "concurrent"}};
	struct buf tar = make_tar(ents, 1);
	struct layer l;
	img_digest_buf(tar.p, tar.len, l.diff_id);
	img_store_put_blob(&st, tar.p, tar.len, l.blob);
	free(tar.p);
	/* What a killed unpack leaves: its temp dir, cleaned by the next one. */
	char stale[600];
	snprintf(stale, sizeof(stale), "%s/snapshots/%s.tmp-0123456789abcdef", st.root,
		 img_digest_hex(l.diff_id));
	mkdir(stale, 0700);
	mkdir(at(stale, "fs"), 0755);
	pid_t pids[4];
	for (int i = 0; i < 4; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(img_layer_unpack(&st, l.blob, NULL, l.diff_id, l.diff_id, NULL) ? 1
											      : 0);
	}
	int fails = 0;
	for (int i = 0; i < 4; i++) {
		int status = 0;
		waitpid(pids[i], &status, 0);
		fails += !WIFEXITED(status) || WEXITSTATUS(status);
	}
	is_int(fails, 0, "four processes unpacking one layer all succeed");
	ok(img_snapshot_exists(&st, l.diff_id) && no_tmp_left(),
	   "one snapshot, a killed unpack's temp dir removed");
}

static void test_overlay(void)
{
	const struct ent lower[] = {
	    {.name = "dir1/", .type = AE_IFDIR, .perm = 0755},
	    {.name = "dir1/a", .data = "a"},
	    {.name = "dir1/b", .data = "b"},
	    {.name = "opq/", .type = AE_IFDIR, .perm = 0755},
	    {.name = "opq/x", .data = "x"},
	    {.name = "opq/y", .data = "y"},
	    {.name = "keep", .data = "keep"},
	};
	const struct ent upper[] = {
	    {.name = "dir1/.wh.a"},	    {.name = "opq/", .type = AE_IFDIR, .perm = 0711},
	    {.name = "opq/.wh..wh..opq"},   {.name = "opq/z", .data = "z"},
	    {.name = "new", .data = "new"}, {.name = "mine", .data = "mine"},
	    {.name = ".wh.mine"},
	};
	struct layer l1, l2;
	if (!is_int(unpack(lower, ARRAY_SIZE(lower), ARCHIVE_FILTER_GZIP, false, NULL, &l1), 0,
		    "lower layer"))
		tap_diag("%s", herr_msg());
	/* The upper's chain id needs its diff_id, known once the tar is made. */
	struct buf tar = make_tar(upper, ARRAY_SIZE(upper));
	img_digest_buf(tar.p, tar.len, l2.diff_id);
	free(tar.p);
	char *ids[] = {l1.diff_id, l2.diff_id};
	char chain[2][IMG_DIGEST_MAX];
	img_chain_ids(ids, 2, chain);
	if (!is_int(unpack(upper, ARRAY_SIZE(upper), ARCHIVE_FILTER_ZSTD, false, chain[1], &l2), 0,
		    "upper layer"))
		tap_diag("%s", herr_msg());
	struct stat s;
	ok(lstat(at(l2.fs, "dir1/a"), &s) == 0 && S_ISCHR(s.st_mode) && s.st_rdev == 0,
	   ".wh.a became a 0:0 char device a");
	ok(!exists(at(l2.fs, "dir1/.wh.a")) && !exists(at(l2.fs, "opq/.wh..wh..opq")),
	   "whiteout files themselves not extracted");
	char v[4] = "";
	is_int(getxattr(at(l2.fs, "opq"), "trusted.overlay.opaque", v, sizeof(v)), 1,
	       "opaque dir gets trusted.overlay.opaque");
	is_str(v, "y", "opaque value y");
	is_str(slurp(at(l2.fs, "mine")), "mine",
	       "whiteout of an entry of its own layer: entry kept");

	char dir[512];
	snprintf(dir, sizeof(dir), "%s/ctr", tmpdir);
	char *opts = NULL;
	herr_clear();
	int r = img_rootfs_prepare(&st, chain, 2, dir, true, &opts);
	if (!is_int(r, 0, "overlay of two snapshots mounted"))
		tap_diag("%s", herr_msg());
	char want[2048];
	snprintf(want, sizeof(want),
		 "lowerdir=%s/snapshots/%s/fs:%s/snapshots/%s/fs,upperdir=%s/upper,workdir=%s/"
		 "work,index=off",
		 st.root, img_digest_hex(chain[1]), st.root, img_digest_hex(chain[0]), dir, dir);
	is_str(opts, want, "overlay options: top layer first");
	free(opts);
	if (r < 0)
		return;
	char m[600];
	snprintf(m, sizeof(m), "%s/merged", dir);
	ok(!exists(at(m, "dir1/a")), "whiteout hides the lower file");
	is_str(slurp(at(m, "dir1/b")), "b", "sibling of the whiteout visible");
	ok(!exists(at(m, "opq/x")) && !exists(at(m, "opq/y")), "opaque dir hides lower entries");
	is_str(slurp(at(m, "opq/z")), "z", "opaque dir keeps its own entries");
	is_str(slurp(at(m, "keep")), "keep", "lower file visible");
	is_str(slurp(at(m, "new")), "new", "upper file visible");
	ok(stat(m, &s) == 0 && (s.st_mode & 07777) == 0755, "merged root has the image's mode");
	int fd = open(at(m, "written"), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	ok(fd >= 0 && exists(at(dir, "upper/written")), "writes go to the container's upper");
	if (fd >= 0)
		close(fd);
	ok(umount2(m, MNT_DETACH) == 0, "unmounted");

	/* Without mounting: only the options. */
	opts = NULL;
	ok(img_rootfs_prepare(&st, chain, 1, dir, false, &opts) == 0 && opts &&
	       !strncmp(opts, "lowerdir=", 9),
	   "options without mounting");
	free(opts);
	char missing[1][IMG_DIGEST_MAX];
	img_digest_buf("nope", 4, missing[0]);
	herr_clear();
	ok(img_rootfs_prepare(&st, missing, 1, dir, false, &opts) < 0 &&
	       strstr(herr_msg(), "is not unpacked"),
	   "missing snapshot: %s", herr_msg());
}

/* More layers than "lowerdir=" fits in one mount(2) options page. */
static void test_many_layers(void)
{
	enum { N = 60 };
	char ids[N][IMG_DIGEST_MAX], chain[N][IMG_DIGEST_MAX], names[N][24];
	char *idp[N];
	struct ent ents[N];
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "layer%02d", i);
		ents[i] = (struct ent){.name = names[i], .data = names[i]};
		struct buf tar = make_tar(&ents[i], 1);
		img_digest_buf(tar.p, tar.len, ids[i]);
		free(tar.p);
		idp[i] = ids[i];
	}
	img_chain_ids(idp, N, chain);
	int fails = 0;
	for (int i = 0; i < N; i++) {
		struct layer l;
		fails += unpack(&ents[i], 1, ARCHIVE_FILTER_NONE, false, chain[i], &l) < 0;
	}
	is_int(fails, 0, "%d layers unpacked", N);
	char dir[512], m[600];
	snprintf(dir, sizeof(dir), "%s/many", tmpdir);
	snprintf(m, sizeof(m), "%s/merged", dir);
	char *opts = NULL;
	herr_clear();
	int r = img_rootfs_prepare(&st, chain, N, dir, true, &opts);
	if (!is_int(r, 0, "overlay of %d layers mounted", N))
		tap_diag("%s", herr_msg());
	ok(opts && strlen(opts) > 4096, "their options are longer than a page (%zu)",
	   opts ? strlen(opts) : 0);
	free(opts);
	if (r < 0)
		return;
	ok(!strcmp(slurp(at(m, "layer00")) ?: "", "layer00") &&
	       !strcmp(slurp(at(m, "layer59")) ?: "", "layer59"),
	   "bottom and top layers visible");
	ok(umount2(m, MNT_DETACH) == 0, "unmounted");
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		return 1;
	char root[256];
	snprintf(root, sizeof(root), "%s/store", tmpdir);
	if (img_store_open(root, &st) < 0) {
		tap_diag("store: %s", herr_msg());
		return 1;
	}
	test_chain_ids();
	if (geteuid() != 0) {
		ok(1, "# SKIP unpacking needs root (owners, devices, trusted xattrs)");
	} else {
		test_full();
		test_compression();
		test_diff_id_mismatch();
		test_hostile();
		test_concurrent();
		test_overlay();
		test_many_layers();
	}
	img_store_close(&st);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	return tap_done();
}
