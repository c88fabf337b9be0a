/*
 * Image records: images.json, {"images": [{"names": [...], "manifest",
 * "config", "index", "created", "size"}]}, one entry per manifest digest.
 * Read under a shared and changed under an exclusive flock of
 * images.json.lock; rewritten by temp file + rename, so a reader never sees
 * half a file.
 */
#include "image/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "image/manifest.h"

#define DB     "images.json"
#define DB_MAX (64u << 20)

static int db_lock(struct img_store *st, int op)
{
	_cleanup_close_ int fd =
	    openat(st->dirfd, DB ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return herr_sys("image store %s: " DB ".lock", st->root);
	while (flock(fd, op) < 0)
		if (errno != EINTR)
			return herr_sys("image store %s: lock " DB, st->root);
	return take_fd(fd);
}

static const char *entry_str(struct json_object *e, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(e, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static struct json_object *entry_names(struct json_object *e)
{
	struct json_object *v;
	if (json_object_object_get_ex(e, "names", &v) && json_object_is_type(v, json_type_array))
		return v;
	v = json_object_new_array();
	json_object_object_add(e, "names", v);
	return v;
}

/* images.json's document (an empty one when there is no file yet) and its array. */
static int db_read(struct img_store *st, struct json_object **doc, struct json_object **images)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	*doc = *images = NULL;
	int r = fs_read_fileat(st->dirfd, DB, DB_MAX, &buf, &len);
	if (r == -ENOENT) {
		*doc = json_object_new_object();
		*images = json_object_new_array();
		json_object_object_add(*doc, "images", *images);
		return 0;
	}
	if (r < 0)
		return herr_ctx(r, "image store %s", st->root);
	char what[4200];
	snprintf(what, sizeof(what), "image store %s: " DB, st->root);
	if ((r = img_json_parse(buf, len, what, doc)) < 0)
		return r;
	if (!json_object_object_get_ex(*doc, "images", images) ||
	    !json_object_is_type(*images, json_type_array)) {
		json_object_put(*doc);
		*doc = NULL;
		return herr_set(EINVAL, "%s: no \"images\" array", what);
	}
	size_t n = json_object_array_length(*images);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(*images, i);
		if (!json_object_is_type(e, json_type_object) ||
		    !img_digest_valid(entry_str(e, "manifest") ? entry_str(e, "manifest") : "") ||
		    !img_digest_valid(entry_str(e, "config") ? entry_str(e, "config") : "")) {
			json_object_put(*doc);
			*doc = NULL;
			return herr_set(EINVAL, "%s: images[%zu]: not an image record", what, i);
		}
	}
	return 0;
}

static int db_write(struct img_store *st, struct json_object *doc)
{
	const char *text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!text)
		return herr_set(ENOMEM, "out of memory");
	size_t len = strlen(text);
	_cleanup_close_ int fd = openat(
	    st->dirfd, DB ".tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return herr_sys("image store %s: " DB ".tmp", st->root);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int r = herr_sys("image store %s: write " DB ".tmp", st->root);
			unlinkat(st->dirfd, DB ".tmp", 0);
			return r;
		}
		off += (size_t)n;
	}
	if (write(fd, "\n", 1) != 1 || fsync(fd) < 0 ||
	    renameat(st->dirfd, DB ".tmp", st->dirfd, DB) < 0) {
		int r = herr_sys("image store %s: write " DB, st->root);
		unlinkat(st->dirfd, DB ".tmp", 0);
		return r;
	}
	return 0;
}

void img_record_clear(struct img_record *r)
{
	free(r->name);
	free(r->manifest_digest);
	free(r->config_digest);
	free(r->index_digest);
	memset(r, 0, sizeof(*r));
}

void img_records_free(struct img_record *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++)
		img_record_clear(&r[i]);
	free(r);
}

static int dup_opt(char **dst, const char *s)
{
	*dst = NULL;
	if (s && !(*dst = strdup(s)))
		return herr_set(ENOMEM, "out of memory");
	return 0;
}

static int entry_record(struct json_object *e, const char *name, struct img_record *out)
{
	struct json_object *v;
	memset(out, 0, sizeof(*out));
	if (dup_opt(&out->name, name) < 0 ||
	    dup_opt(&out->manifest_digest, entry_str(e, "manifest")) < 0 ||
	    dup_opt(&out->config_digest, entry_str(e, "config")) < 0 ||
	    dup_opt(&out->index_digest, entry_str(e, "index")) < 0) {
		img_record_clear(out);
		return -ENOMEM;
	}
	if (json_object_object_get_ex(e, "created", &v))
		out->created = json_object_get_int64(v);
	if (json_object_object_get_ex(e, "size", &v))
		out->size = json_object_get_uint64(v);
	return 0;
}

static struct json_object *find_by_manifest(struct json_object *images, const char *digest,
					    size_t *idx)
{
	size_t n = json_object_array_length(images);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(images, i);
		const char *m = entry_str(e, "manifest");
		if (m && !strcmp(m, digest)) {
			if (idx)
				*idx = i;
			return e;
		}
	}
	return NULL;
}

/* Index of name in the entry's names, or -1. */
static int name_index(struct json_object *e, const char *name)
{
	struct json_object *names = entry_names(e);
	size_t n = json_object_array_length(names);
	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(names, i));
		if (s && !strcmp(s, name))
			return (int)i;
	}
	return -1;
}

int img_store_set(struct img_store *st, const struct img_record *r)
{
	if (!r->manifest_digest || !img_digest_valid(r->manifest_digest) || !r->config_digest ||
	    !img_digest_valid(r->config_digest) ||
	    (r->index_digest && !img_digest_valid(r->index_digest)))
		return herr_set(EINVAL, "image %s: record without valid digests",
				r->name ? r->name : "(no name)");
	int rc = img_store_hold(st);
	if (rc < 0)
		return rc;
	_cleanup_close_ int lk = db_lock(st, LOCK_EX);
	if (lk < 0)
		return lk;
	struct json_object *doc, *images;
	if ((rc = db_read(st, &doc, &images)) < 0)
		return rc;
	size_t n = json_object_array_length(images);
	for (size_t i = 0; r->name && i < n; i++) {
		struct json_object *e = json_object_array_get_idx(images, i);
		int k = name_index(e, r->name);
		if (k >= 0 && strcmp(entry_str(e, "manifest"), r->manifest_digest))
			json_object_array_del_idx(entry_names(e), (size_t)k, 1);
	}
	struct json_object *e = find_by_manifest(images, r->manifest_digest, NULL);
	if (!e) {
		e = json_object_new_object();
		json_object_object_add(e, "names", json_object_new_array());
		json_object_object_add(e, "manifest", json_object_new_string(r->manifest_digest));
		json_object_array_add(images, e);
	}
	json_object_object_add(e, "config", json_object_new_string(r->config_digest));
	if (r->index_digest)
		json_object_object_add(e, "index", json_object_new_string(r->index_digest));
	json_object_object_add(e, "created", json_object_new_int64(r->created));
	json_object_object_add(e, "size", json_object_new_uint64(r->size));
	if (r->name && name_index(e, r->name) < 0)
		json_object_array_add(entry_names(e), json_object_new_string(r->name));
	rc = db_write(st, doc);
	json_object_put(doc);
	return rc;
}

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* "repo@digest" / "repo:tag@digest": an image of that repository with that manifest. */
static struct json_object *find_by_repo_digest(struct json_object *images, const char *s,
					       const char **name)
{
	const char *at = strchr(s, '@');
	if (!at || !img_digest_valid(at + 1))
		return NULL;
	size_t rl = (size_t)(at - s);
	const char *slash = memrchr(s, '/', rl), *colon = memrchr(s, ':', rl);
	if (colon && (!slash || colon > slash))
		rl = (size_t)(colon - s);
	struct json_object *e = find_by_manifest(images, at + 1, NULL);
	if (!e)
		return NULL;
	struct json_object *names = entry_names(e);
	for (size_t i = 0; i < json_object_array_length(names); i++) {
		const char *nm = json_object_get_string(json_object_array_get_idx(names, i));
		if (nm && !strncmp(nm, s, rl) && (nm[rl] == ':' || nm[rl] == '@')) {
			*name = nm;
			return e;
		}
	}
	return NULL;
}

/* By config hex prefix (at least 4): -ENOENT, -EINVAL when two images match. */
static int find_by_id(struct json_object *images, const char *hex, struct json_object **out)
{
	size_t hl = strlen(hex), n = json_object_array_length(images);
	*out = NULL;
	if (hl < 4 || hl > 64 || !all_hex(hex, hl))
		return -ENOENT;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(images, i);
		const char *c = entry_str(e, "config");
		if (strncmp(c, "sha256:", 7) || strncmp(c + 7, hex, hl))
			continue;
		if (*out && strcmp(entry_str(*out, "config"), c))
			return -EINVAL;
		if (!*out)
			*out = e;
	}
	return *out ? 0 : -ENOENT;
}

int img_store_find(struct img_store *st, const char *q, struct img_record *out)
{
	memset(out, 0, sizeof(*out));
	_cleanup_close_ int lk = db_lock(st, LOCK_SH);
	if (lk < 0)
		return lk;
	struct json_object *doc, *images, *hit = NULL;
	int r = db_read(st, &doc, &images);
	if (r < 0)
		return r;
	const char *name = NULL;
	size_t n = json_object_array_length(images);
	for (size_t i = 0; i < n && !hit; i++) {
		struct json_object *e = json_object_array_get_idx(images, i);
		if (name_index(e, q) >= 0) {
			hit = e;
			name = q;
		}
	}
	if (!hit)
		hit = find_by_repo_digest(images, q, &name);
	if (!hit && !strncmp(q, "sha256:", 7)) {
		for (size_t i = 0; i < n && !hit; i++) {
			struct json_object *e = json_object_array_get_idx(images, i);
			if (!strcmp(entry_str(e, "config"), q) ||
			    !strcmp(entry_str(e, "manifest"), q))
				hit = e;
		}
		if (!hit)
			r = find_by_id(images, q + 7, &hit);
	} else if (!hit) {
		r = find_by_id(images, q, &hit);
	}
	if (r == -EINVAL) {
		r = herr_set(EINVAL, "image ID prefix %s matches more than one image", q);
	} else if (!hit) {
		r = herr_set(ENOENT, "no such image: %s", q);
	} else {
		if (!name) {
			struct json_object *names = entry_names(hit);
			name = json_object_array_length(names)
				   ? json_object_get_string(json_object_array_get_idx(names, 0))
				   : NULL;
		}
		r = entry_record(hit, name, out);
		if (r < 0)
			r = herr_set(ENOMEM, "out of memory");
	}
	json_object_put(doc);
	return r;
}

int img_store_list(struct img_store *st, struct img_record **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	_cleanup_close_ int lk = db_lock(st, LOCK_SH);
	if (lk < 0)
		return lk;
	struct json_object *doc, *images;
	int r = db_read(st, &doc, &images);
	if (r < 0)
		return r;
	size_t n = json_object_array_length(images), total = 0, k = 0;
	for (size_t i = 0; i < n; i++) {
		size_t nn =
		    json_object_array_length(entry_names(json_object_array_get_idx(images, i)));
		total += nn ? nn : 1;
	}
	struct img_record *v = calloc(total ? total : 1, sizeof(*v));
	if (!v) {
		json_object_put(doc);
		return herr_set(ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		struct json_object *e = json_object_array_get_idx(images, i);
		struct json_object *names = entry_names(e);
		size_t nn = json_object_array_length(names);
		for (size_t j = 0; j < (nn ? nn : 1) && r == 0; j++) {
			const char *nm =
			    nn ? json_object_get_string(json_object_array_get_idx(names, j)) : NULL;
			if ((r = entry_record(e, nm, &v[k])) == 0)
				k++;
		}
	}
	json_object_put(doc);
	if (r < 0) {
		img_records_free(v, k);
		return herr_set(ENOMEM, "out of memory");
	}
	*out = v;
	*count = k;
	return 0;
}

/* Change images.json under the exclusive lock: fn edits the array, returns
 * 1 when it changed something, 0 when not, negative on error. */
static int db_update(struct img_store *st, int (*fn)(struct json_object *images, const char *arg),
		     const char *arg)
{
	_cleanup_close_ int lk = db_lock(st, LOCK_EX);
	if (lk < 0)
		return lk;
	struct json_object *doc, *images;
	int r = db_read(st, &doc, &images);
	if (r < 0)
		return r;
	r = fn(images, arg);
	if (r > 0)
		r = db_write(st, doc);
	json_object_put(doc);
	return r;
}

static int untag_fn(struct json_object *images, const char *name)
{
	size_t n = json_object_array_length(images);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(images, i);
		int k = name_index(e, name);
		if (k < 0)
			continue;
		struct json_object *names = entry_names(e);
		json_object_array_del_idx(names, (size_t)k, 1);
		if (json_object_array_length(names) == 0)
			json_object_array_del_idx(images, i, 1);
		return 1;
	}
	return herr_set(ENOENT, "no such image: %s", name);
}

int img_store_untag(struct img_store *st, const char *name)
{
	return db_update(st, untag_fn, name);
}

static int remove_fn(struct json_object *images, const char *digest)
{
	size_t i;
	if (!find_by_manifest(images, digest, &i))
		return herr_set(ENOENT, "no such image: %s", digest);
	json_object_array_del_idx(images, i, 1);
	return 1;
}

int img_store_remove(struct img_store *st, const char *manifest_digest)
{
	return db_update(st, remove_fn, manifest_digest);
}
