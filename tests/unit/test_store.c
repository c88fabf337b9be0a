/* The image store: blobs, resumable ingests, concurrent ingests, records, prune. */
#include "tap.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "image/digest.h"
#include "image/layer.h"
#include "image/store.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char root[256];

static bool exists(const char *rel)
{
	char p[1024];
	struct stat s;
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return lstat(p, &s) == 0;
}

static size_t count_dir(const char *rel)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	DIR *d = opendir(p);
	size_t n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void write_str(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		tap_diag("short write");
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void test_blobs(struct img_store *st)
{
	ok(exists("blobs/sha256") && exists("ingest") && exists("snapshots"), "layout created");
	char d[IMG_DIGEST_MAX], want[IMG_DIGEST_MAX];
	img_digest_buf("hello", 5, want);
	is_int(img_store_put_blob(st, "hello", 5, d), 0, "put_blob");
	is_str(d, want, "put_blob digest");
	is_int(img_store_put_blob(st, "hello", 5, d), 0, "put_blob again is fine");
	uint64_t size = 0;
	ok(img_store_has_blob(st, d, &size) && size == 5, "has_blob with size");
	char *buf = NULL;
	size_t len = 0;
	is_int(img_store_read_blob(st, d, 100, &buf, &len), 0, "read_blob");
	ok(buf && len == 5 && !memcmp(buf, "hello", 5) && buf[5] == 0, "read_blob content");
	free(buf);
	is_int(img_store_read_blob(st, d, 4, &buf, &len), -EFBIG, "read_blob over max");
	char other[IMG_DIGEST_MAX];
	img_digest_buf("absent", 6, other);
	ok(!img_store_has_blob(st, other, NULL), "has_blob of an absent blob");
	is_int(img_store_open_blob(st, other), -ENOENT, "open_blob of an absent blob");
	has_prefix(herr_msg(), "blob sha256:", "its message names the digest");
	ok(!img_store_has_blob(st, "sha256:xyz", NULL), "has_blob of a bad digest");
	is_int(img_store_open_blob(st, "md5:abc"), -EINVAL, "open_blob of a bad digest");
	is_int(count_dir("ingest"), 0, "no ingest file left");
}

static void test_ingest(struct img_store *st)
{
	const char *data = "0123456789abcdefghij";
	char d[IMG_DIGEST_MAX];
	img_digest_buf(data, 20, d);
	struct img_ingest w;
	is_int(img_ingest_begin(st, d, 20, &w), 0, "begin");
	is_int(w.offset, 0, "fresh ingest at offset 0");
	write_str(w.fd, "0123456789");
	img_ingest_abort(st, &w, true);
	is_int(count_dir("ingest"), 1, "abort with keep_partial keeps the bytes");

	is_int(img_ingest_begin(st, d, 20, &w), 0, "begin again");
	is_int(w.offset, 10, "resumes at offset 10");
	write_str(w.fd, "abcdefghij");
	is_int(img_ingest_commit(st, &w), 0, "commit of the resumed blob");
	ok(img_store_has_blob(st, d, NULL), "blob stored");
	is_int(count_dir("ingest"), 0, "partial file gone after commit");
	is_int(img_ingest_begin(st, d, 20, &w), -EEXIST, "begin of a stored blob: -EEXIST");

	/* Bytes that do not match the digest: an error, and nothing kept. */
	char d2[IMG_DIGEST_MAX];
	img_digest_buf("good content", 12, d2);
	is_int(img_ingest_begin(st, d2, 12, &w), 0, "begin (mismatch)");
	write_str(w.fd, "evil content");
	is_int(img_ingest_commit(st, &w), -EBADMSG, "commit of wrong bytes fails");
	char want[300];
	snprintf(want, sizeof(want), "blob %s: digest mismatch (got sha256:", d2);
	has_prefix(herr_msg(), want, "digest mismatch message");
	ok(!img_store_has_blob(st, d2, NULL), "mismatching blob not stored");
	is_int(count_dir("ingest"), 0, "mismatching partial deleted");

	is_int(img_ingest_begin(st, d2, 12, &w), 0, "begin (size)");
	write_str(w.fd, "good content, and more");
	is_int(img_ingest_commit(st, &w), -EBADMSG, "commit of too many bytes fails");
	snprintf(want, sizeof(want), "blob %s: size 22 bytes, expected 12", d2);
	is_str(herr_msg(), want, "size mismatch message");
	is_int(count_dir("ingest"), 0, "oversized partial deleted");

	/* A partial longer than the expected size cannot be resumed. */
	is_int(img_ingest_begin(st, d2, 12, &w), 0, "begin (long partial)");
	write_str(w.fd, "good content plus junk");
	img_ingest_abort(st, &w, true);
	is_int(img_ingest_begin(st, d2, 12, &w), 0, "begin after a long partial");
	is_int(w.offset, 0, "restarts from 0");
	write_str(w.fd, "good content");
	is_int(img_ingest_commit(st, &w), 0, "commit");
	img_ingest_abort(st, &w, false); /* harmless after commit */

	/* Unknown digest (import). */
	is_int(img_ingest_begin(st, NULL, 0, &w), 0, "begin without digest");
	write_str(w.fd, "imported bytes");
	is_int(img_ingest_commit(st, &w), 0, "commit without digest");
	img_digest_buf("imported bytes", 14, want);
	is_str(w.digest, want, "digest computed at commit");
	is_int(w.size, 14, "size computed at commit");
	is_int(img_ingest_begin(st, NULL, 0, &w), 0, "begin without digest, same bytes");
	write_str(w.fd, "imported bytes");
	is_int(img_ingest_commit(st, &w), 0, "commit of a blob already there");
	is_int(count_dir("ingest"), 0, "no ingest file left");
	is_int(img_ingest_begin(st, NULL, 0, &w), 0, "begin without digest, aborted");
	img_ingest_abort(st, &w, true);
	is_int(count_dir("ingest"), 0, "an aborted anonymous ingest is not kept");
}

/* Two processes begin the same digest: the second waits for the first,
 * then learns the blob is stored. */
static void test_concurrent(void)
{
	char data[4096];
	memset(data, 'z', sizeof(data));
	char d[IMG_DIGEST_MAX];
	img_digest_buf(data, sizeof(data), d);
	int ready[2], result[2];
	if (pipe(ready) < 0 || pipe(result) < 0)
		return;
	pid_t a = fork();
	if (a == 0) {
		struct img_store st;
		struct img_ingest w;
		if (img_store_open(root, &st) < 0 || img_ingest_begin(&st, d, sizeof(data), &w) < 0)
			_exit(1);
		write_str(ready[1], "x");
		usleep(300 * 1000);
		if (write(w.fd, data, sizeof(data)) != sizeof(data))
			_exit(2);
		_exit(img_ingest_commit(&st, &w) < 0 ? 3 : 0);
	}
	char c;
	ok(read(ready[0], &c, 1) == 1, "first process began its ingest");
	double t0 = now_ms();
	pid_t b = fork();
	if (b == 0) {
		struct img_store st;
		struct img_ingest w;
		if (img_store_open(root, &st) < 0)
			_exit(1);
		int r = img_ingest_begin(&st, d, sizeof(data), &w);
		bool stored = img_store_has_blob(&st, d, NULL);
		char msg[64];
		snprintf(msg, sizeof(msg), "%d %d", r, stored);
		write_str(result[1], msg);
		_exit(0);
	}
	char msg[64] = "";
	ssize_t n = read(result[0], msg, sizeof(msg) - 1);
	msg[n > 0 ? n : 0] = 0;
	double waited = now_ms() - t0;
	int sa, sb;
	waitpid(a, &sa, 0);
	waitpid(b, &sb, 0);
	ok(WIFEXITED(sa) && WEXITSTATUS(sa) == 0, "first process committed");
	ok(WIFEXITED(sb) && WEXITSTATUS(sb) == 0, "second process ran");
	char want[32];
	snprintf(want, sizeof(want), "%d 1", -EEXIST);
	is_str(msg, want, "second begin returned -EEXIST once the blob was stored");
	ok(waited >= 150, "second begin waited for the first (%.0f ms)", waited);
	close(ready[0]);
	close(ready[1]);
	close(result[0]);
	close(result[1]);
	is_int(count_dir("ingest"), 0, "no ingest file left");
}

static struct img_record rec(const char *name, const char *manifest, const char *config)
{
	struct img_record r = {0};
	r.name = (char *)name;
	r.manifest_digest = (char *)manifest;
	r.config_digest = (char *)config;
	r.created = 1700000000;
	r.size = 42;
	return r;
}

static void test_records(struct img_store *st)
{
	char m1[IMG_DIGEST_MAX], c1[IMG_DIGEST_MAX], m2[IMG_DIGEST_MAX], c2[IMG_DIGEST_MAX];
	img_digest_buf("m1", 2, m1);
	img_digest_buf("c1", 2, c1);
	img_digest_buf("m2", 2, m2);
	img_digest_buf("c2", 2, c2);
	const char *bb = "docker.io/library/busybox:latest";
	struct img_record r = rec(bb, m1, c1), out;
	is_int(img_store_set(st, &r), 0, "set");
	r.name = "docker.io/library/busybox:1";
	is_int(img_store_set(st, &r), 0, "set a second name");
	is_int(img_store_find(st, bb, &out), 0, "find by name");
	is_str(out.manifest_digest, m1, "  manifest");
	is_str(out.config_digest, c1, "  config");
	is_str(out.name, bb, "  name");
	ok(out.index_digest == NULL && out.created == 1700000000 && out.size == 42,
	   "  index, created, size");
	img_record_clear(&out);
	char prefix[16];
	snprintf(prefix, sizeof(prefix), "%.12s", c1 + 7);
	is_int(img_store_find(st, prefix, &out), 0, "find by ID prefix");
	is_str(out.manifest_digest, m1, "  the image");
	img_record_clear(&out);
	snprintf(prefix, sizeof(prefix), "%.3s", c1 + 7);
	is_int(img_store_find(st, prefix, &out), -ENOENT, "a 3-character prefix is not enough");
	is_int(img_store_find(st, c1, &out), 0, "find by sha256:<config>");
	img_record_clear(&out);
	is_int(img_store_find(st, m1, &out), 0, "find by sha256:<manifest>");
	img_record_clear(&out);
	char bydigest[300];
	snprintf(bydigest, sizeof(bydigest), "docker.io/library/busybox@%s", m1);
	is_int(img_store_find(st, bydigest, &out), 0, "find by repo@digest");
	img_record_clear(&out);
	snprintf(bydigest, sizeof(bydigest), "docker.io/library/alpine@%s", m1);
	is_int(img_store_find(st, bydigest, &out), -ENOENT, "other repo@digest: not found");
	is_int(img_store_find(st, "docker.io/library/nope:latest", &out), -ENOENT, "not found");
	is_str(herr_msg(), "no such image: docker.io/library/nope:latest", "  message");

	/* The name moves to a new image; the old one keeps its other name. */
	r = rec(bb, m2, c2);
	is_int(img_store_set(st, &r), 0, "set the name on another image");
	is_int(img_store_find(st, bb, &out), 0, "find the moved name");
	is_str(out.manifest_digest, m2, "  now the new image");
	img_record_clear(&out);
	struct img_record *list;
	size_t n;
	is_int(img_store_list(st, &list, &n), 0, "list");
	is_int(n, 2, "  two records");
	if (n == 2) {
		is_str(list[0].name, "docker.io/library/busybox:1", "  first: the old image");
		is_str(list[1].name, bb, "  second: the new");
	}
	img_records_free(list, n);
	is_int(img_store_untag(st, "docker.io/library/busybox:1"), 0, "untag its last name");
	is_int(img_store_find(st, m1, &out), -ENOENT, "the image went with its last name");
	/* Moving the last name away leaves the image dangling. */
	r = rec(bb, m1, c1);
	is_int(img_store_set(st, &r), 0, "name back on the first image");
	is_int(img_store_list(st, &list, &n), 0, "list");
	is_int(n, 2, "  two records");
	if (n == 2) {
		is_str(list[0].name, NULL, "  the second image is dangling");
		is_str(list[0].manifest_digest, m2, "  (that one)");
	}
	img_records_free(list, n);
	is_int(img_store_remove(st, m2), 0, "remove the dangling image");
	is_int(img_store_remove(st, m2), -ENOENT, "remove it again");

	/* Two images whose IDs share a prefix. */
	char ca[IMG_DIGEST_MAX], cb[IMG_DIGEST_MAX];
	snprintf(ca, sizeof(ca), "sha256:abcd%060d", 0);
	snprintf(cb, sizeof(cb), "sha256:abcd1%059d", 1);
	struct img_record a = rec("x/a:1", m2, ca), b = rec("x/b:1", c2, cb);
	is_int(img_store_set(st, &a), 0, "set x/a:1");
	is_int(img_store_set(st, &b), 0, "set x/b:1");
	is_int(img_store_find(st, "abcd", &out), -EINVAL, "ambiguous ID prefix");
	has_prefix(herr_msg(), "image ID prefix abcd matches more than one image", "  message");
	is_int(img_store_find(st, "abcd0", &out), 0, "unambiguous ID prefix");
	is_str(out.name, "x/a:1", "  the right one");
	img_record_clear(&out);
	img_store_untag(st, "x/a:1");
	img_store_untag(st, "x/b:1");
	is_int(img_store_untag(st, "x/b:1"), -ENOENT, "untag of an unknown name");
	r.manifest_digest = "nope";
	is_int(img_store_set(st, &r), -EINVAL, "set with a bad digest");
	is_int(img_store_untag(st, bb), 0, "untag the last image");
	is_int(img_store_list(st, &list, &n), 0, "list");
	is_int(n, 0, "  no records left");
	img_records_free(list, n);
}

static void put(struct img_store *st, const char *s, char d[IMG_DIGEST_MAX])
{
	if (img_store_put_blob(st, s, strlen(s), d) < 0)
		tap_diag("put_blob: %s", herr_msg());
}

static void mksnap(const char *chain)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/snapshots/%s", root, chain + 7);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/snapshots/%s/fs", root, chain + 7);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/snapshots/%s/fs/file", root, chain + 7);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	write_str(fd, "0123456789");
	close(fd);
}

static void test_prune(struct img_store *st)
{
	char l1[IMG_DIGEST_MAX], l2[IMG_DIGEST_MAX], cfg[IMG_DIGEST_MAX], man[IMG_DIGEST_MAX];
	char junk[IMG_DIGEST_MAX], idx[IMG_DIGEST_MAX];
	put(st, "layer one", l1);
	put(st, "layer two", l2);
	char diff1[IMG_DIGEST_MAX], diff2[IMG_DIGEST_MAX];
	img_digest_buf("diff one", 8, diff1);
	img_digest_buf("diff two", 8, diff2);
	char buf[2048];
	snprintf(buf, sizeof(buf),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
		 "\"diff_ids\":[\"%s\",\"%s\"]}}",
		 diff1, diff2);
	put(st, buf, cfg);
	snprintf(
	    buf, sizeof(buf),
	    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"
	    "\"%s\",\"size\":1},\"layers\":[{\"mediaType\":\"application/"
	    "vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":9},{\"mediaType\":"
	    "\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"%s\",\"size\":9}]}",
	    cfg, l1, l2);
	put(st, buf, man);
	put(st, "{\"schemaVersion\":2,\"manifests\":[]}", idx);
	put(st, "nobody wants this", junk);
	char *ids[] = {diff1, diff2};
	char chain[2][IMG_DIGEST_MAX], stray[IMG_DIGEST_MAX];
	img_chain_ids(ids, 2, chain);
	img_digest_buf("stray", 5, stray);
	mksnap(chain[0]);
	mksnap(chain[1]);
	mksnap(stray);
	char p[1024];
	snprintf(p, sizeof(p), "%s/snapshots/%s.tmp-123", root, stray + 7);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/snapshots/%s.tmp-456", root, chain[0] + 7);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/snapshots/%s.lock", root, chain[0] + 7);
	close(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));

	struct img_record r = rec("docker.io/library/app:1", man, cfg);
	r.index_digest = idx;
	is_int(img_store_set(st, &r), 0, "record an image");

	/* A partial of a killed pull, and one in progress. */
	struct img_ingest stale, live;
	char sd[IMG_DIGEST_MAX], ld[IMG_DIGEST_MAX];
	img_digest_buf("stale", 5, sd);
	img_digest_buf("live", 4, ld);
	img_ingest_begin(st, sd, 5, &stale);
	write_str(stale.fd, "sta");
	img_ingest_abort(st, &stale, true);
	is_int(img_ingest_begin(st, ld, 4, &live), 0, "an ingest in progress");
	write_str(live.fd, "li");

	uint64_t freed = 0;
	is_int(img_store_prune(st, &freed), 0, "prune");
	ok(img_store_has_blob(st, man, NULL) && img_store_has_blob(st, cfg, NULL) &&
	       img_store_has_blob(st, l1, NULL) && img_store_has_blob(st, l2, NULL) &&
	       img_store_has_blob(st, idx, NULL),
	   "manifest, config, layers and index kept");
	ok(!img_store_has_blob(st, junk, NULL), "unreferenced blob removed");
	snprintf(p, sizeof(p), "snapshots/%s/fs/file", chain[0] + 7);
	ok(exists(p), "snapshot of chain 0 kept");
	snprintf(p, sizeof(p), "snapshots/%s/fs/file", chain[1] + 7);
	ok(exists(p), "snapshot of chain 1 kept");
	snprintf(p, sizeof(p), "snapshots/%s", stray + 7);
	ok(!exists(p), "stray snapshot removed");
	snprintf(p, sizeof(p), "snapshots/%s.tmp-123", stray + 7);
	ok(!exists(p), "stray snapshot's temp dir removed");
	snprintf(p, sizeof(p), "snapshots/%s.tmp-456", chain[0] + 7);
	ok(!exists(p), "a killed unpack's temp dir removed");
	snprintf(p, sizeof(p), "snapshots/%s.lock", chain[0] + 7);
	ok(exists(p), "the lock of a used chain kept");
	snprintf(p, sizeof(p), "ingest/%s.partial", sd + 7);
	ok(!exists(p), "stale partial removed");
	snprintf(p, sizeof(p), "ingest/%s.partial", ld + 7);
	ok(exists(p), "partial in progress kept");
	/* The earlier images of this test are gone: their blobs too. */
	ok(freed >= 17 + 10 + 3, "bytes freed counted (%" PRIu64 ")", freed);
	write_str(live.fd, "ve");
	is_int(img_ingest_commit(st, &live), 0, "the ingest in progress completes");

	/* A process holding the store (between ingest and set) makes prune wait. */
	int ready[2];
	if (pipe(ready) < 0)
		return;
	pid_t c = fork();
	if (c == 0) {
		struct img_store s2;
		if (img_store_open(root, &s2) < 0 || img_store_hold(&s2) < 0)
			_exit(1);
		write_str(ready[1], "x");
		usleep(300 * 1000);
		img_store_close(&s2);
		_exit(0);
	}
	char ch;
	ok(read(ready[0], &ch, 1) == 1, "another process holds the store");
	double t0 = now_ms();
	is_int(img_store_prune(st, &freed), 0, "prune again");
	ok(now_ms() - t0 >= 150, "prune waited for the holder (%.0f ms)", now_ms() - t0);
	waitpid(c, NULL, 0);
	close(ready[0]);
	close(ready[1]);
	is_int(freed, 4, "the completed unreferenced blob freed");

	/* A record whose manifest is missing: prune refuses rather than guess. */
	char ghost[IMG_DIGEST_MAX];
	img_digest_buf("ghost", 5, ghost);
	r = rec("docker.io/library/ghost:1", ghost, cfg);
	img_store_set(st, &r);
	put(st, "junk again", junk);
	is_int(img_store_prune(st, &freed), -ENOENT, "prune with a broken image fails");
	has_prefix(herr_msg(), "prune: image docker.io/library/ghost:1: blob sha256:",
		   "  message names the image");
	ok(img_store_has_blob(st, junk, NULL), "  and deleted nothing");
	img_store_untag(st, "docker.io/library/ghost:1");
	img_store_untag(st, "docker.io/library/app:1");
	is_int(img_store_prune(st, &freed), 0, "prune after rmi of everything");
	is_int(count_dir("blobs/sha256"), 0, "no blob left");
	is_int(count_dir("snapshots"), 0, "no snapshot left");
}

static void test_corrupt_db(struct img_store *st)
{
	char p[1024];
	snprintf(p, sizeof(p), "%s/images.json", root);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	write_str(fd, "{\"images\": [");
	close(fd);
	struct img_record out;
	ok(img_store_find(st, "x", &out) < 0, "find with a corrupt images.json fails");
	char want[600];
	snprintf(want, sizeof(want), "image store %s: images.json: not JSON", root);
	has_prefix(herr_msg(), want, "  message");
	struct img_record r = rec("a",
				  "sha256:0000000000000000000000000000000000000000000000000000000"
				  "000000000",
				  "sha256:0000000000000000000000000000000000000000000000000000000"
				  "000000000");
	ok(img_store_set(st, &r) < 0, "set does not overwrite a corrupt images.json");
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/test_store.XXXXXX");
	if (!mkdtemp(root))
		return 1;
	strcat(root, "/store");
	struct img_store st;
	if (img_store_open(root, &st) < 0) {
		tap_diag("open: %s", herr_msg());
		return 1;
	}
	test_blobs(&st);
	test_ingest(&st);
	test_concurrent();
	test_records(&st);
	test_prune(&st);
	test_corrupt_db(&st);
	img_store_close(&st);
	char *top = strdup(root);
	*strrchr(top, '/') = 0;
	fs_rm_rf(top);
	free(top);
	return tap_done();
}
