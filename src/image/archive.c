/*
 * `deck load`: an OCI layout or docker archive tarball into the store. The
 * tar is read once: blobs/<alg>/<hex> files are ingested under their digest
 * (verified at commit), small JSON files are kept in memory, and any other
 * file (a docker archive's layer.tar) is ingested under the digest of its
 * bytes. The images are then assembled from index.json or manifest.json.
 */
#include "image/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/jsondesc.h"
#include "image/manifest.h"
#include "image/reference.h"

#define BUF_SIZE (1u << 16)

#define JSON_MAX     (64u << 20)
#define MANIFEST_MAX (4u << 20)

struct afile {
	char *path;
	char *link; /* a symlink's or hardlink's target, as an archive path */
	char digest[IMG_DIGEST_MAX];
	uint64_t size;
	char *data; /* a small JSON file, kept in memory */
	size_t len;
};

struct load {
	struct img_store *st;
	const char *what;
	const char *platform;
	struct afile *files;
	size_t n, cap;
	struct img_record *added;
	size_t n_added;
};

int img_archive_format_parse(const char *s, enum img_archive_format *out)
{
	if (!strcmp(s, "docker-archive") || !strcmp(s, "docker"))
		*out = IMG_ARCHIVE_DOCKER;
	else if (!strcmp(s, "oci-archive") || !strcmp(s, "oci"))
		*out = IMG_ARCHIVE_OCI;
	else
		return herr_set(EINVAL, "format %s: expected docker-archive or oci-archive",
				JD_Q(s));
	return 0;
}

/* "./a//b/../c" -> "a/c"; relative to dir when given (a symlink's target). */
static char *norm_path(const char *dir, const char *p)
{
	size_t cap = (dir ? strlen(dir) : 0) + strlen(p) + 2;
	char *out = malloc(cap), *joined = malloc(cap);
	if (!out || !joined) {
		free(out);
		free(joined);
		return NULL;
	}
	snprintf(joined, cap, "%s/%s", p[0] == '/' || !dir ? "" : dir, p);
	size_t o = 0;
	char *save = NULL;
	for (char *tok = strtok_r(joined, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
		if (!strcmp(tok, "."))
			continue;
		if (!strcmp(tok, "..")) {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--;
			continue;
		}
		if (o)
			out[o++] = '/';
		size_t l = strlen(tok);
		memcpy(out + o, tok, l);
		o += l;
	}
	out[o] = 0;
	free(joined);
	return out;
}

static struct afile *add_file(struct load *ld, char *path)
{
	if (ld->n == ld->cap) {
		size_t cap = ld->cap ? ld->cap * 2 : 32;
		struct afile *nf = realloc(ld->files, cap * sizeof(*nf));
		if (!nf) {
			free(path);
			return NULL;
		}
		ld->files = nf;
		ld->cap = cap;
	}
	struct afile *f = &ld->files[ld->n++];
	memset(f, 0, sizeof(*f));
	f->path = path;
	return f;
}

/* The file at path, links followed; the last of several with one name. */
static struct afile *lookup(struct load *ld, const char *path)
{
	_cleanup_free_ char *p = norm_path(NULL, path);
	for (int hops = 0; p && hops < 16; hops++) {
		struct afile *f = NULL;
		for (size_t i = ld->n; i-- > 0 && !f;)
			if (!strcmp(ld->files[i].path, p))
				f = &ld->files[i];
		if (!f || !f->link)
			return f;
		free(p);
		p = strdup(f->link);
	}
	return NULL;
}

static int copy_data(struct load *ld, struct archive *a, int fd, const char *path)
{
	_cleanup_free_ char *buf = malloc(BUF_SIZE);
	if (!buf)
		return herr_set(ENOMEM, "out of memory");
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, BUF_SIZE);
		if (n < 0)
			return herr_set(EIO, "%s: %s: %s", ld->what, path, archive_error_string(a));
		if (n == 0)
			return 0;
		int r = fs_write_all(fd, buf, (size_t)n);
		if (r < 0) {
			errno = -r;
			return herr_sys("%s: %s: write to the image store", ld->what, path);
		}
	}
}

/* digest NULL: a file whose digest is that of its bytes. */
static int ingest_entry(struct load *ld, struct archive *a, struct afile *f, const char *digest,
			uint64_t size)
{
	struct img_ingest w;
	int r = img_ingest_begin(ld->st, digest, size, &w);
	if (r == -EEXIST) {
		snprintf(f->digest, sizeof(f->digest), "%s", digest);
		f->size = size;
		return 0;
	}
	if (r < 0)
		return herr_ctx(r, "%s: %s", ld->what, f->path);
	/* The archive has all the bytes: a partial left by a pull is not needed. */
	if (w.offset && (ftruncate(w.fd, 0) < 0 || lseek(w.fd, 0, SEEK_SET) < 0)) {
		r = herr_sys("%s: %s", ld->what, f->path);
		img_ingest_abort(ld->st, &w, false);
		return r;
	}
	if ((r = copy_data(ld, a, w.fd, f->path)) < 0) {
		img_ingest_abort(ld->st, &w, false);
		return r;
	}
	if ((r = img_ingest_commit(ld->st, &w)) < 0)
		return herr_ctx(r, "%s: %s", ld->what, f->path);
	snprintf(f->digest, sizeof(f->digest), "%s", w.digest);
	f->size = w.size ? w.size : size;
	return 0;
}

static int keep_data(struct load *ld, struct archive *a, struct afile *f, int64_t size)
{
	if (size < 0 || (uint64_t)size > JSON_MAX)
		return herr_set(EFBIG, "%s: %s: larger than %u bytes", ld->what, f->path, JSON_MAX);
	if (!(f->data = malloc((size_t)size + 1)))
		return herr_set(ENOMEM, "out of memory");
	size_t off = 0;
	while (off < (size_t)size) {
		la_ssize_t n = archive_read_data(a, f->data + off, (size_t)size - off);
		if (n < 0)
			return herr_set(EIO, "%s: %s: %s", ld->what, f->path,
					archive_error_string(a));
		if (n == 0)
			break;
		off += (size_t)n;
	}
	f->data[off] = 0;
	f->len = off;
	return 0;
}

static bool is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static int read_entry(struct load *ld, struct archive *a, struct archive_entry *e)
{
	char *path = norm_path(NULL, archive_entry_pathname(e));
	if (!path)
		return herr_set(ENOMEM, "out of memory");
	const char *hard = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	if (!hard && type != AE_IFLNK && type != AE_IFREG) {
		free(path);
		return 0;
	}
	struct afile *f = add_file(ld, path);
	if (!f)
		return herr_set(ENOMEM, "out of memory");
	if (hard || type == AE_IFLNK) {
		_cleanup_free_ char *dir = strdup(path);
		char *slash = dir ? strrchr(dir, '/') : NULL;
		if (dir)
			*(slash ? slash : dir) = 0;
		f->link = hard ? norm_path(NULL, hard) : norm_path(dir, archive_entry_symlink(e));
		return f->link ? 0 : herr_set(ENOMEM, "out of memory");
	}
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int64_t size = archive_entry_size(e);
	if (!strncmp(path, "blobs/", 6)) {
		char digest[IMG_DIGEST_MAX];
		const char *alg = path + 6, *slash = strchr(alg, '/');
		if (slash && (size_t)(slash - alg) < 16)
			snprintf(digest, sizeof(digest), "%.*s:%s", (int)(slash - alg), alg,
				 slash + 1);
		if (!slash || !img_digest_valid(digest))
			return herr_set(EINVAL, "%s: %s: not named by a digest", ld->what, path);
		if (strncmp(digest, "sha256:", 7))
			return 0; /* not verifiable here; an image that needs it says so */
		return ingest_entry(ld, a, f, digest, size > 0 ? (uint64_t)size : 0);
	}
	size_t bl = strlen(base);
	if ((bl > 5 && !strcmp(base + bl - 5, ".json")) || !strcmp(path, "repositories") ||
	    !strcmp(path, "oci-layout"))
		return keep_data(ld, a, f, size);
	if (!strcmp(base, "VERSION") || !strcmp(base, "json"))
		return 0; /* docker's v1 layer metadata, unused */
	return ingest_entry(ld, a, f, NULL, 0);
}

static int read_archive(struct load *ld, int fd)
{
	struct archive *a = archive_read_new();
	if (!a)
		return herr_set(ENOMEM, "out of memory");
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	int r = 0;
	if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
		r = herr_set(EINVAL, "%s: not a tar archive: %s", ld->what,
			     archive_error_string(a));
		goto out;
	}
	for (size_t count = 0;; count++) {
		struct archive_entry *e;
		int ar = archive_read_next_header(a, &e);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar < ARCHIVE_WARN) {
			r = herr_set(EINVAL, "%s: %s%s", ld->what,
				     count ? "" : "not a tar archive: ", archive_error_string(a));
			break;
		}
		if ((r = read_entry(ld, a, e)) < 0)
			break;
	}
out:
	archive_read_free(a);
	return r;
}

static int name_of(const char *ref, char **out)
{
	struct img_ref r;
	int rc = img_ref_parse(ref, &r);
	if (rc < 0)
		return rc;
	*out = img_ref_string(&r);
	img_ref_free(&r);
	return *out ? 0 : herr_set(ENOMEM, "out of memory");
}

/* Record the image under name (NULL: dangling) and remember it for the caller. */
static int record(struct load *ld, struct img_record *rec, const char *name)
{
	_cleanup_free_ char *full = NULL;
	int r;
	if (name && (r = name_of(name, &full)) < 0)
		return herr_ctx(r, "%s", ld->what);
	rec->name = full;
	r = img_store_set(ld->st, rec);
	rec->name = NULL;
	if (r < 0)
		return r;
	struct img_record *nv = realloc(ld->added, (ld->n_added + 1) * sizeof(*nv));
	if (!nv)
		return herr_set(ENOMEM, "out of memory");
	ld->added = nv;
	struct img_record *c = &nv[ld->n_added];
	memset(c, 0, sizeof(*c));
	c->name = take_ptr(full);
	c->manifest_digest = strdup(rec->manifest_digest);
	c->config_digest = strdup(rec->config_digest);
	c->index_digest = rec->index_digest ? strdup(rec->index_digest) : NULL;
	c->created = rec->created;
	c->size = rec->size;
	ld->n_added++;
	if (!c->manifest_digest || !c->config_digest || (rec->index_digest && !c->index_digest))
		return herr_set(ENOMEM, "out of memory");
	return 0;
}

/* ---- docker archives ---- */

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static enum img_compression sniff(struct load *ld, const char *digest)
{
	_cleanup_close_ int fd = img_store_open_blob(ld->st, digest);
	unsigned char m[4] = {0};
	if (fd < 0 || read(fd, m, 4) != 4)
		return IMG_COMP_NONE;
	if (m[0] == 0x1f && m[1] == 0x8b)
		return IMG_COMP_GZIP;
	if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		return IMG_COMP_ZSTD;
	return IMG_COMP_NONE;
}

static struct json_object *descriptor(const char *mt, const char *digest, uint64_t size)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "mediaType", json_object_new_string(mt));
	json_object_object_add(d, "size", json_object_new_uint64(size));
	json_object_object_add(d, "digest", json_object_new_string(digest));
	return d;
}

/* The config's bytes and digest: a JSON file of the archive, or a blob. */
static int docker_config(struct load *ld, const char *path, const char *where, char **buf,
			 size_t *len, char digest[IMG_DIGEST_MAX])
{
	struct afile *f = path ? lookup(ld, path) : NULL;
	if (!f || (!f->data && !f->digest[0]))
		return herr_set(ENOENT, "%s: %s.Config: %s is not in the archive", ld->what, where,
				path ? JD_Q(path) : "(missing)");
	if (f->digest[0]) {
		snprintf(digest, IMG_DIGEST_MAX, "%s", f->digest);
		return img_store_read_blob(ld->st, digest, JSON_MAX, buf, len);
	}
	int r = img_store_put_blob(ld->st, f->data, f->len, digest);
	if (r < 0)
		return r;
	/* docker names the config after its digest: check that too. */
	const char *base = strrchr(f->path, '/') ? strrchr(f->path, '/') + 1 : f->path;
	size_t bl = strlen(base);
	if (bl == 69 && !strcmp(base + 64, ".json")) {
		char hex[65];
		memcpy(hex, base, 64);
		hex[64] = 0;
		if (is_hex(hex, 64) && strcmp(hex, digest + 7))
			return herr_set(EBADMSG, "%s: %s: digest mismatch (got %s)", ld->what,
					f->path, digest);
	}
	if (!(*buf = strdup(f->data)))
		return herr_set(ENOMEM, "out of memory");
	*len = f->len;
	return 0;
}

static int docker_image(struct load *ld, struct json_object *m, size_t idx)
{
	char where[48], cdigest[IMG_DIGEST_MAX], mdigest[IMG_DIGEST_MAX];
	snprintf(where, sizeof(where), "manifest.json[%zu]", idx);
	if (!json_object_is_type(m, json_type_object))
		return herr_set(EINVAL, "%s: %s: expected an object", ld->what, where);
	_cleanup_free_ char *cbuf = NULL;
	size_t clen;
	int r = docker_config(ld, jstr(m, "Config"), where, &cbuf, &clen, cdigest);
	if (r < 0)
		return r;
	struct img_config_summary cfg;
	if ((r = img_config_parse(cbuf, clen, cdigest, &cfg)) < 0)
		return herr_ctx(r, "%s", ld->what);
	struct json_object *layers, *man = json_object_new_object(), *jl = json_object_new_array();
	json_object_object_add(man, "schemaVersion", json_object_new_int(2));
	json_object_object_add(man, "mediaType", json_object_new_string(IMG_MT_DOCKER_MANIFEST));
	json_object_object_add(man, "config", descriptor(IMG_MT_DOCKER_CONFIG, cdigest, clen));
	json_object_object_add(man, "layers", jl);
	struct img_record rec = {
	    .config_digest = cdigest, .manifest_digest = mdigest, .created = cfg.created};
	size_t n = 0;
	if (!json_object_object_get_ex(m, "Layers", &layers) ||
	    !json_object_is_type(layers, json_type_array) ||
	    (n = json_object_array_length(layers)) != cfg.n_diff_ids) {
		r = herr_set(EINVAL, "%s: %s.Layers: %zu layers, the config has %zu diff_ids",
			     ld->what, where, n, cfg.n_diff_ids);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *p = json_object_get_string(json_object_array_get_idx(layers, i));
		struct afile *f = p ? lookup(ld, p) : NULL;
		if (!f || !f->digest[0]) {
			r = herr_set(ENOENT, "%s: %s.Layers[%zu]: %s is not in the archive",
				     ld->what, where, i, p ? JD_Q(p) : "(not a string)");
			goto out;
		}
		enum img_compression c = sniff(ld, f->digest);
		if (c == IMG_COMP_NONE && strcmp(f->digest, cfg.diff_ids[i])) {
			r = herr_set(EBADMSG,
				     "%s: layer %s: its digest %s is not the config's diff_id %s",
				     ld->what, f->path, f->digest, cfg.diff_ids[i]);
			goto out;
		}
		/* Compressed layers get their type; diff_ids are checked at unpack. */
		const char *mt = c == IMG_COMP_GZIP   ? IMG_MT_DOCKER_LAYER_GZIP
				 : c == IMG_COMP_ZSTD ? IMG_MT_OCI_LAYER_ZSTD
						      : IMG_MT_DOCKER_LAYER;
		json_object_array_add(jl, descriptor(mt, f->digest, f->size));
		rec.size += f->size;
	}
	const char *text = json_object_to_json_string_ext(man, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE);
	if ((r = img_store_put_blob(ld->st, text, strlen(text), mdigest)) < 0)
		goto out;
	struct json_object *tags;
	size_t nt = json_object_object_get_ex(m, "RepoTags", &tags) &&
			    json_object_is_type(tags, json_type_array)
			? json_object_array_length(tags)
			: 0;
	for (size_t i = 0; i < nt && r == 0; i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(tags, i));
		if (t)
			r = record(ld, &rec, t);
	}
	if (nt == 0)
		r = record(ld, &rec, NULL);
out:
	json_object_put(man);
	img_config_summary_clear(&cfg);
	return r;
}

static int docker_images(struct load *ld, struct afile *mf)
{
	struct json_object *doc;
	char what[4200];
	snprintf(what, sizeof(what), "%.4100s: manifest.json", ld->what);
	int r = img_json_parse(mf->data, mf->len, what, &doc);
	if (r < 0)
		return r;
	if (!json_object_is_type(doc, json_type_array) || !json_object_array_length(doc))
		r = herr_set(EINVAL, "%s: expected a list of images", what);
	for (size_t i = 0; r == 0 && i < json_object_array_length(doc); i++)
		r = docker_image(ld, json_object_array_get_idx(doc, i), i);
	json_object_put(doc);
	return r;
}

/* ---- OCI layouts ---- */

static int need_blob(struct load *ld, const char *name, const char *role,
		     const struct img_descriptor *d)
{
	uint64_t size;
	if (!img_store_has_blob(ld->st, d->digest, &size))
		return herr_set(ENOENT, "%s: image %s: %s %s is not in the archive", ld->what, name,
				role, d->digest);
	if (size != d->size)
		return herr_set(EBADMSG,
				"%s: image %s: %s %s: size %" PRIu64 " bytes, expected %" PRIu64,
				ld->what, name, role, d->digest, size, d->size);
	return 0;
}

static const char *oci_name(const struct img_descriptor *d)
{
	const char *n = img_descriptor_annotation(d, "io.containerd.image.name");
	if (n)
		return n;
	n = img_descriptor_annotation(d, "org.opencontainers.image.ref.name");
	return n && strpbrk(n, "/:@") ? n : NULL;
}

static int oci_image(struct load *ld, const struct img_descriptor *entry)
{
	const char *name = oci_name(entry);
	const char *label = name ? name : entry->digest;
	struct img_descriptor mdesc = *entry;
	char index_digest[IMG_DIGEST_MAX] = "";
	_cleanup_free_ char *buf = NULL, *cbuf = NULL;
	size_t len;
	int r = need_blob(ld, label, "manifest", entry);
	if (r < 0)
		return r;
	if ((r = img_store_read_blob(ld->st, entry->digest, MANIFEST_MAX, &buf, &len)) < 0)
		return herr_ctx(r, "%s", ld->what);
	bool is_index;
	if ((r = img_doc_is_index(buf, len, entry->digest, entry->media_type, &is_index)) < 0)
		return herr_ctx(r, "%s", ld->what);
	struct img_index ix = {0};
	if (is_index) {
		const struct img_descriptor *sel;
		if ((r = img_index_parse(buf, len, entry->digest, entry->media_type, &ix)) < 0 ||
		    (r = img_index_select(&ix, ld->platform, label, &sel)) < 0)
			goto out;
		snprintf(index_digest, sizeof(index_digest), "%s", entry->digest);
		mdesc = *sel;
		free(buf);
		buf = NULL;
		if ((r = need_blob(ld, label, "manifest", &mdesc)) < 0 ||
		    (r = img_store_read_blob(ld->st, mdesc.digest, MANIFEST_MAX, &buf, &len)) < 0)
			goto out;
	}
	struct img_manifest m;
	if ((r = img_manifest_parse(buf, len, mdesc.digest, mdesc.media_type, &m)) < 0)
		goto out;
	struct img_record rec = {.manifest_digest = mdesc.digest,
				 .config_digest = m.config.digest,
				 .index_digest = index_digest[0] ? index_digest : NULL};
	r = need_blob(ld, label, "config", &m.config);
	for (size_t i = 0; r == 0 && i < m.n_layers; i++) {
		r = need_blob(ld, label, "layer", &m.layers[i]);
		rec.size += m.layers[i].size;
	}
	size_t clen;
	struct img_config_summary cfg = {0};
	if (r == 0 &&
	    (r = img_store_read_blob(ld->st, m.config.digest, JSON_MAX, &cbuf, &clen)) == 0 &&
	    (r = img_config_parse(cbuf, clen, m.config.digest, &cfg)) == 0) {
		rec.created = cfg.created;
		if (cfg.n_diff_ids != m.n_layers)
			r = herr_set(EINVAL, "image %s: %zu layers, the config has %zu diff_ids",
				     label, m.n_layers, cfg.n_diff_ids);
		else
			r = record(ld, &rec, name);
	}
	img_config_summary_clear(&cfg);
	img_manifest_clear(&m);
out:
	img_index_clear(&ix);
	if (r < 0 && strncmp(herr_msg(), ld->what, strlen(ld->what)))
		herr_ctx(r, "%s", ld->what);
	return r;
}

static int oci_images(struct load *ld, struct afile *idx)
{
	struct afile *lay = lookup(ld, "oci-layout");
	struct json_object *o;
	char what[4200];
	int r;
	snprintf(what, sizeof(what), "%.4100s: oci-layout", ld->what);
	if (lay && lay->data && (r = img_json_parse(lay->data, lay->len, what, &o)) == 0) {
		const char *v = jstr(o, "imageLayoutVersion");
		if (!v || strncmp(v, "1.", 2))
			r = herr_set(ENOTSUP, "%s: imageLayoutVersion %s is not supported", what,
				     v ? JD_Q(v) : "(missing)");
		json_object_put(o);
		if (r < 0)
			return r;
	}
	struct img_index ix;
	if ((r = img_index_parse(idx->data, idx->len, "index.json", IMG_MT_OCI_INDEX, &ix)) < 0)
		return herr_ctx(r, "%s", ld->what);
	if (!ix.n_manifests)
		r = herr_set(ENOENT, "%s: index.json lists no image", ld->what);
	for (size_t i = 0; r == 0 && i < ix.n_manifests; i++)
		r = oci_image(ld, &ix.manifests[i]);
	img_index_clear(&ix);
	return r;
}

int img_archive_load(struct img_store *st, int fd, const char *what, const char *platform,
		     struct img_record **added, size_t *n_added)
{
	char label[4200];
	snprintf(label, sizeof(label), "archive %.4096s", what ? what : "(stdin)");
	struct load ld = {.st = st, .what = label, .platform = platform};
	*added = NULL;
	*n_added = 0;
	int r = read_archive(&ld, fd);
	struct afile *mf = r == 0 ? lookup(&ld, "manifest.json") : NULL;
	struct afile *idx = r == 0 ? lookup(&ld, "index.json") : NULL;
	if (r < 0)
		;
	else if (mf && mf->data)
		r = docker_images(&ld, mf);
	else if (idx && idx->data)
		r = oci_images(&ld, idx);
	else
		r = herr_set(EINVAL,
			     "%s: neither a docker archive (manifest.json) nor an OCI layout "
			     "(index.json)",
			     label);
	for (size_t i = 0; i < ld.n; i++) {
		free(ld.files[i].path);
		free(ld.files[i].link);
		free(ld.files[i].data);
	}
	free(ld.files);
	if (r < 0) {
		img_records_free(ld.added, ld.n_added);
		return r;
	}
	*added = ld.added;
	*n_added = ld.n_added;
	return 0;
}
