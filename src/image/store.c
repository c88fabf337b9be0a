/* The content store: blobs by digest, resumable ingests, and prune. */
#include "image/store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "image/layer.h"
#include "image/manifest.h"

#define MANIFEST_MAX (4u << 20)
#define CONFIG_MAX   (64u << 20)

/* Threads of one process share st->lock_fd. */
static pthread_mutex_t hold_mutex = PTHREAD_MUTEX_INITIALIZER;

static bool is_hex64(const char *s, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* "blobs/sha256/<hex>" for a sha256 digest (the only kind this store verifies). */
static int store_blob_path(const char *digest, char path[160])
{
	if (!digest || !img_digest_valid(digest))
		return herr_set(EINVAL, "blob %s: not a valid digest", digest ? digest : "(null)");
	if (strncmp(digest, "sha256:", 7))
		return herr_set(ENOTSUP, "blob %s: only sha256 digests are supported", digest);
	snprintf(path, 160, "blobs/sha256/%s", digest + 7);
	return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	_cleanup_free_ char *p = strdup(path);
	if (!p)
		return herr_set(ENOMEM, "out of memory");
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return herr_sys("image store: mkdir %s", p);
		*s = '/';
	}
	if (mkdir(p, mode) < 0 && errno != EEXIST)
		return herr_sys("image store: mkdir %s", p);
	return 0;
}

int img_store_open(const char *root, struct img_store *st)
{
	st->root = NULL;
	st->dirfd = st->lock_fd = -1;
	int r = mkdir_p(root, 0711);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return herr_sys("image store %s", root);
	static const struct {
		const char *name;
		mode_t mode;
	} dirs[] = {{"blobs", 0700}, {"blobs/sha256", 0700}, {"ingest", 0700}, {"snapshots", 0711}};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++)
		if (mkdirat(fd, dirs[i].name, dirs[i].mode) < 0 && errno != EEXIST)
			return herr_sys("image store: mkdir %s/%s", root, dirs[i].name);
	if (!(st->root = strdup(root)))
		return herr_set(ENOMEM, "out of memory");
	st->dirfd = take_fd(fd);
	return 0;
}

void img_store_close(struct img_store *st)
{
	img_store_release(st);
	if (st->dirfd >= 0)
		close(st->dirfd);
	st->dirfd = -1;
	free(st->root);
	st->root = NULL;
}

static int store_flock(int fd, int op, const char *what)
{
	while (flock(fd, op) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EWOULDBLOCK && (op & LOCK_NB))
			return -EWOULDBLOCK;
		return herr_sys("image store: lock %s", what);
	}
	return 0;
}

int img_store_hold(struct img_store *st)
{
	int r = 0;
	pthread_mutex_lock(&hold_mutex);
	if (st->lock_fd < 0) {
		int fd = openat(st->dirfd, "store.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
				0600);
		if (fd < 0)
			r = herr_sys("image store %s: store.lock", st->root);
		else if ((r = store_flock(fd, LOCK_SH, "store.lock")) < 0)
			close(fd);
		else
			st->lock_fd = fd;
	}
	pthread_mutex_unlock(&hold_mutex);
	return r;
}

void img_store_release(struct img_store *st)
{
	pthread_mutex_lock(&hold_mutex);
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	st->lock_fd = -1;
	pthread_mutex_unlock(&hold_mutex);
}

/* ---- blobs ---- */

bool img_store_has_blob(struct img_store *st, const char *digest, uint64_t *size)
{
	char path[160];
	struct stat s;
	if (!digest || !img_digest_valid(digest) || strncmp(digest, "sha256:", 7))
		return false;
	snprintf(path, sizeof(path), "blobs/sha256/%s", digest + 7);
	if (fstatat(st->dirfd, path, &s, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(s.st_mode))
		return false;
	if (size)
		*size = (uint64_t)s.st_size;
	return true;
}

int img_store_open_blob(struct img_store *st, const char *digest)
{
	char path[160];
	int r = store_blob_path(digest, path);
	if (r < 0)
		return r;
	int fd = openat(st->dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT)
		return herr_set(ENOENT, "blob %s: not in the image store", digest);
	if (fd < 0)
		return herr_sys("blob %s", digest);
	return fd;
}

int img_store_read_blob(struct img_store *st, const char *digest, size_t max, char **buf,
			size_t *len)
{
	_cleanup_close_ int fd = img_store_open_blob(st, digest);
	if (fd < 0)
		return fd;
	struct stat s;
	if (fstat(fd, &s) < 0)
		return herr_sys("blob %s", digest);
	if ((uint64_t)s.st_size > max)
		return herr_set(EFBIG, "blob %s: %" PRIu64 " bytes, more than the %zu allowed",
				digest, (uint64_t)s.st_size, max);
	size_t n = (size_t)s.st_size;
	_cleanup_free_ char *b = malloc(n + 1);
	if (!b)
		return herr_set(ENOMEM, "out of memory");
	int r = fs_read_all(fd, b, n);
	if (r < 0)
		return herr_set(-r, "blob %s: %s", digest,
				r == -EIO ? "shorter than expected" : strerror(-r));
	b[n] = 0;
	char got[IMG_DIGEST_MAX];
	img_digest_buf(b, n, got);
	if (strcmp(got, digest))
		return herr_set(EBADMSG,
				"blob %s: digest mismatch (got %s): the image store is corrupt",
				digest, got);
	*buf = take_ptr(b);
	if (len)
		*len = n;
	return 0;
}

int img_store_put_blob(struct img_store *st, const void *buf, size_t len, char out[IMG_DIGEST_MAX])
{
	img_digest_buf(buf, len, out);
	struct img_ingest w;
	int r = img_ingest_begin(st, out, len, &w);
	if (r == -EEXIST)
		return 0;
	if (r < 0)
		return r;
	if (ftruncate(w.fd, 0) < 0 || lseek(w.fd, 0, SEEK_SET) < 0) {
		r = herr_sys("blob %s", out);
		img_ingest_abort(st, &w, false);
		return r;
	}
	if ((r = fs_write_all(w.fd, buf, len)) < 0) {
		herr_set(-r, "%s: write: %s", out, strerror(-r));
		img_ingest_abort(st, &w, false);
		return r;
	}
	return img_ingest_commit(st, &w);
}

/* ---- ingest ---- */

static bool same_file(int fd, int dirfd, const char *path)
{
	struct stat a, b;
	return fstat(fd, &a) == 0 && fstatat(dirfd, path, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static int begin_anon(struct img_store *st, uint64_t size, struct img_ingest *w)
{
	for (int tries = 0; tries < 100; tries++) {
		uint64_t rnd;
		if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
			rnd = (uint64_t)getpid() * 2654435761u + (uint64_t)tries;
		char *name;
		if (asprintf(&name, "ingest/tmp-%016" PRIx64, rnd) < 0)
			return herr_set(ENOMEM, "out of memory");
		int fd = openat(st->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			int e = errno;
			free(name);
			if (e == EEXIST)
				continue;
			errno = e;
			return herr_sys("image store %s: new ingest file", st->root);
		}
		/* Locked so that prune sees it in use. */
		int r = store_flock(fd, LOCK_EX, name);
		if (r < 0) {
			unlinkat(st->dirfd, name, 0);
			close(fd);
			free(name);
			return r;
		}
		w->fd = fd;
		w->size = size;
		w->priv = name;
		return 0;
	}
	return herr_set(EEXIST, "image store %s: no free ingest file name", st->root);
}

int img_ingest_begin(struct img_store *st, const char *digest, uint64_t size, struct img_ingest *w)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	char path[160];
	int r;
	if (digest && (r = store_blob_path(digest, path)) < 0)
		return r;
	if ((r = img_store_hold(st)) < 0)
		return r;
	if (!digest)
		return begin_anon(st, size, w);
	_cleanup_free_ char *name = NULL;
	if (asprintf(&name, "ingest/%s.partial", digest + 7) < 0)
		return herr_set(ENOMEM, "out of memory");
	for (;;) {
		if (img_store_has_blob(st, digest, NULL))
			return -EEXIST;
		_cleanup_close_ int fd =
		    openat(st->dirfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0)
			return herr_sys("blob %s: ingest file", digest);
		if ((r = store_flock(fd, LOCK_EX, name)) < 0)
			return r;
		/* Whoever held the lock may have committed (renamed) or dropped the file. */
		if (!same_file(fd, st->dirfd, name))
			continue;
		if (img_store_has_blob(st, digest, NULL)) {
			unlinkat(st->dirfd, name, 0);
			return -EEXIST;
		}
		struct stat s;
		if (fstat(fd, &s) < 0)
			return herr_sys("blob %s: ingest file", digest);
		uint64_t off = (uint64_t)s.st_size;
		if (size && off > size) {
			if (ftruncate(fd, 0) < 0)
				return herr_sys("blob %s: truncate ingest file", digest);
			off = 0;
		}
		if (lseek(fd, (off_t)off, SEEK_SET) < 0)
			return herr_sys("blob %s: ingest file", digest);
		w->fd = take_fd(fd);
		w->offset = off;
		w->size = size;
		snprintf(w->digest, sizeof(w->digest), "%s", digest);
		w->priv = take_ptr(name);
		return 0;
	}
}

static void ingest_end(struct img_store *st, struct img_ingest *w, bool unlink_it)
{
	if (unlink_it && w->priv)
		unlinkat(st->dirfd, w->priv, 0);
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	free(w->priv);
	w->priv = NULL;
}

int img_ingest_commit(struct img_store *st, struct img_ingest *w)
{
	bool anon = !w->digest[0];
	const char *name = anon ? "import" : w->digest;
	struct stat s;
	if (w->fd < 0 || !w->priv)
		return herr_set(EINVAL, "blob %s: ingest not started", name);
	if (fstat(w->fd, &s) < 0) {
		int r = herr_sys("blob %s: ingest file", name);
		ingest_end(st, w, true);
		return r;
	}
	if (w->size && (uint64_t)s.st_size != w->size) {
		int r = herr_set(EBADMSG, "blob %s: size %" PRIu64 " bytes, expected %" PRIu64,
				 name, (uint64_t)s.st_size, w->size);
		ingest_end(st, w, true);
		return r;
	}
	char got[IMG_DIGEST_MAX];
	uint64_t n = 0;
	int r;
	if (lseek(w->fd, 0, SEEK_SET) < 0)
		r = herr_sys("blob %s: ingest file", name);
	else
		r = img_digest_fd(w->fd, got, &n);
	if (r < 0) {
		herr_ctx(r, "blob %s", name);
		ingest_end(st, w, true);
		return r;
	}
	if (anon) {
		snprintf(w->digest, sizeof(w->digest), "%s", got);
		w->size = n;
		if (img_store_has_blob(st, got, NULL)) {
			ingest_end(st, w, true);
			return 0;
		}
	} else if (strcmp(got, w->digest)) {
		r = herr_set(EBADMSG, "blob %s: digest mismatch (got %s)", w->digest, got);
		ingest_end(st, w, true);
		return r;
	}
	char path[160];
	snprintf(path, sizeof(path), "blobs/sha256/%s", got + 7);
	/* Durable before it has its name: a crash never leaves a short blob. */
	if (fdatasync(w->fd) < 0 || fchmod(w->fd, 0444) < 0 ||
	    renameat(st->dirfd, w->priv, st->dirfd, path) < 0) {
		r = herr_sys("blob %s: store", w->digest);
		ingest_end(st, w, true);
		return r;
	}
	ingest_end(st, w, false);
	return 0;
}

void img_ingest_abort(struct img_store *st, struct img_ingest *w, bool keep_partial)
{
	bool anon = !w->priv || strncmp(w->priv, "ingest/tmp-", 11) == 0;
	ingest_end(st, w, anon || !keep_partial);
}

/* ---- prune ---- */

struct strset {
	char **v;
	size_t n, cap;
};

static int strset_add(struct strset *s, const char *hex)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **nv = realloc(s->v, cap * sizeof(*nv));
		if (!nv)
			return herr_set(ENOMEM, "out of memory");
		s->v = nv;
		s->cap = cap;
	}
	if (!(s->v[s->n] = strdup(hex)))
		return herr_set(ENOMEM, "out of memory");
	s->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool strset_has(const struct strset *s, const char *hex)
{
	return s->n && bsearch(&hex, s->v, s->n, sizeof(*s->v), cmp_str);
}

static void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

static int add_digest(struct strset *s, const char *digest)
{
	if (!digest || strncmp(digest, "sha256:", 7))
		return 0;
	return strset_add(s, digest + 7);
}

/* The blobs and chain ids one image needs. */
static int image_refs(struct img_store *st, const struct img_record *rec, struct strset *blobs,
		      struct strset *chains)
{
	int r;
	if ((r = add_digest(blobs, rec->manifest_digest)) < 0 ||
	    (r = add_digest(blobs, rec->config_digest)) < 0 ||
	    (r = add_digest(blobs, rec->index_digest)) < 0)
		return r;
	_cleanup_free_ char *mbuf = NULL, *cbuf = NULL;
	size_t mlen, clen;
	if ((r = img_store_read_blob(st, rec->manifest_digest, MANIFEST_MAX, &mbuf, &mlen)) < 0)
		return r;
	struct img_manifest m;
	if ((r = img_manifest_parse(mbuf, mlen, rec->manifest_digest, NULL, &m)) < 0)
		return r;
	r = add_digest(blobs, m.config.digest);
	for (size_t i = 0; r == 0 && i < m.n_layers; i++)
		r = add_digest(blobs, m.layers[i].digest);
	char config[IMG_DIGEST_MAX];
	snprintf(config, sizeof(config), "%s", m.config.digest);
	img_manifest_clear(&m);
	if (r < 0)
		return r;
	if ((r = img_store_read_blob(st, config, CONFIG_MAX, &cbuf, &clen)) < 0)
		return r;
	struct img_config_summary c;
	if ((r = img_config_parse(cbuf, clen, config, &c)) < 0)
		return r;
	if (c.n_diff_ids) {
		char(*chain)[IMG_DIGEST_MAX] = calloc(c.n_diff_ids, sizeof(*chain));
		if (!chain) {
			img_config_summary_clear(&c);
			return herr_set(ENOMEM, "out of memory");
		}
		img_chain_ids(c.diff_ids, c.n_diff_ids, chain);
		for (size_t i = 0; r == 0 && i < c.n_diff_ids; i++)
			r = add_digest(chains, chain[i]);
		free(chain);
	}
	img_config_summary_clear(&c);
	return r;
}

/* rm -r that counts the bytes of regular files (a hardlinked file once in all). */
static void rm_tree_at(int dfd, const char *name, uint64_t *bytes)
{
	struct stat s;
	if (fstatat(dfd, name, &s, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	if (!S_ISDIR(s.st_mode)) {
		if (S_ISREG(s.st_mode) && unlinkat(dfd, name, 0) == 0)
			*bytes += (uint64_t)s.st_size / (s.st_nlink ? s.st_nlink : 1);
		else
			unlinkat(dfd, name, 0);
		return;
	}
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			rm_tree_at(dirfd(d), e->d_name, bytes);
	closedir(d);
	unlinkat(dfd, name, AT_REMOVEDIR);
}

static DIR *opendir_at(struct img_store *st, const char *sub)
{
	int fd = openat(st->dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (fd >= 0 && !d)
		close(fd);
	return d;
}

static void prune_blobs(struct img_store *st, const struct strset *keep, uint64_t *freed)
{
	_cleanup_closedir_ DIR *d = opendir_at(st, "blobs/sha256");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (!is_hex64(e->d_name, strlen(e->d_name)) || strset_has(keep, e->d_name))
			continue;
		struct stat s;
		if (fstatat(dirfd(d), e->d_name, &s, AT_SYMLINK_NOFOLLOW) == 0 &&
		    unlinkat(dirfd(d), e->d_name, 0) == 0)
			*freed += (uint64_t)s.st_size;
	}
}

/* Snapshots and their siblings (layer.c's <hex>.tmp-* and <hex>.lock) whose
 * chain no image uses, and temp dirs of killed unpacks. */
static void prune_snapshots(struct img_store *st, const struct strset *keep, uint64_t *freed)
{
	_cleanup_closedir_ DIR *d = opendir_at(st, "snapshots");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char hex[65];
		if (strlen(e->d_name) < 64 || !is_hex64(e->d_name, 64))
			continue;
		memcpy(hex, e->d_name, 64);
		hex[64] = 0;
		/* Under the exclusive lock no unpack runs: any temp dir is stale. */
		if (!strset_has(keep, hex) || !strncmp(e->d_name + 64, ".tmp", 4))
			rm_tree_at(dirfd(d), e->d_name, freed);
	}
}

/* A partial ingest nobody holds the lock of is left from a killed process. */
static void prune_ingest(struct img_store *st, uint64_t *freed)
{
	_cleanup_closedir_ DIR *d = opendir_at(st, "ingest");
	struct dirent *e;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		_cleanup_close_ int fd =
		    openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0 || store_flock(fd, LOCK_EX | LOCK_NB, e->d_name) < 0 ||
		    !same_file(fd, dirfd(d), e->d_name))
			continue;
		rm_tree_at(dirfd(d), e->d_name, freed);
	}
}

static int prune_locked(struct img_store *st, uint64_t *freed)
{
	struct img_record *recs = NULL;
	size_t n = 0;
	struct strset blobs = {0}, chains = {0};
	int r = img_store_list(st, &recs, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		/* One record per name: the image's blobs once is enough. */
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(recs[j].manifest_digest, recs[i].manifest_digest);
		if (seen)
			continue;
		r = image_refs(st, &recs[i], &blobs, &chains);
		if (r < 0)
			herr_ctx(r, "prune: image %s",
				 recs[i].name ? recs[i].name : recs[i].manifest_digest);
	}
	img_records_free(recs, n);
	if (r == 0) {
		if (blobs.n)
			qsort(blobs.v, blobs.n, sizeof(*blobs.v), cmp_str);
		if (chains.n)
			qsort(chains.v, chains.n, sizeof(*chains.v), cmp_str);
		prune_blobs(st, &blobs, freed);
		prune_snapshots(st, &chains, freed);
		prune_ingest(st, freed);
	}
	strset_free(&blobs);
	strset_free(&chains);
	return r;
}

int img_store_prune(struct img_store *st, uint64_t *freed)
{
	uint64_t dummy;
	if (!freed)
		freed = &dummy;
	*freed = 0;
	/* Exclusive: no process is between writing content and recording it. */
	pthread_mutex_lock(&hold_mutex);
	bool held = st->lock_fd >= 0;
	int fd =
	    held ? st->lock_fd
		 : openat(st->dirfd, "store.lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int r = fd < 0 ? herr_sys("image store %s: store.lock", st->root)
		       : store_flock(fd, LOCK_EX, "store.lock");
	if (r == 0)
		r = prune_locked(st, freed);
	if (fd >= 0 && held)
		store_flock(fd, LOCK_SH, "store.lock");
	else if (fd >= 0)
		close(fd);
	pthread_mutex_unlock(&hold_mutex);
	return r;
}
