/* `deck save`: images of the store into an OCI layout or docker archive tarball. */
#include "image/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "image/manifest.h"
#include "image/reference.h"

#define BUF_SIZE (1u << 16)

#define MANIFEST_MAX (4u << 20)
#define CONFIG_MAX   (64u << 20)

struct simg {
	const struct img_record *rec;
	const char **names; /* the records' names (not owned) */
	size_t n_names;
	struct img_manifest m;
	size_t mlen;
	struct img_config_summary cfg;
};

struct save {
	struct img_store *st;
	struct archive *a;
	struct simg *imgs;
	size_t n;
	char **written; /* archive paths already written */
	size_t n_written;
};

static int ar_err(struct save *sv, const char *path)
{
	return herr_set(EIO, "save: %s: %s", path, archive_error_string(sv->a));
}

/* Whether path was written already; remembers it otherwise. */
static bool seen(struct save *sv, const char *path)
{
	for (size_t i = 0; i < sv->n_written; i++)
		if (!strcmp(sv->written[i], path))
			return true;
	char **nv = realloc(sv->written, (sv->n_written + 1) * sizeof(*nv));
	if (!nv)
		return false;
	sv->written = nv;
	if ((nv[sv->n_written] = strdup(path)))
		sv->n_written++;
	return false;
}

static int header(struct save *sv, const char *path, mode_t type, uint64_t size, int64_t mtime)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		return herr_set(ENOMEM, "out of memory");
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_size(e, type == AE_IFDIR ? 0 : (la_int64_t)size);
	archive_entry_set_mtime(e, mtime, 0);
	int r = archive_write_header(sv->a, e) < ARCHIVE_WARN ? ar_err(sv, path) : 0;
	archive_entry_free(e);
	return r;
}

static int put_dir(struct save *sv, const char *path)
{
	return seen(sv, path) ? 0 : header(sv, path, AE_IFDIR, 0, 0);
}

static int put_mem(struct save *sv, const char *path, const char *data, size_t len)
{
	int r = header(sv, path, AE_IFREG, len, 0);
	if (r == 0 && len && archive_write_data(sv->a, data, len) != (la_ssize_t)len)
		r = ar_err(sv, path);
	return r;
}

/* The whole of fd (size bytes from offset 0) as the entry path. */
static int put_fd(struct save *sv, const char *path, int fd, uint64_t size, int64_t mtime)
{
	_cleanup_free_ char *buf = malloc(BUF_SIZE);
	if (!buf)
		return herr_set(ENOMEM, "out of memory");
	int r = header(sv, path, AE_IFREG, size, mtime);
	uint64_t done = 0;
	while (r == 0 && done < size) {
		ssize_t n = pread(fd, buf, BUF_SIZE, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? herr_sys("save: %s: read", path)
				     : herr_set(EIO, "save: %s: shorter than expected", path);
		if (archive_write_data(sv->a, buf, (size_t)n) != n)
			return ar_err(sv, path);
		done += (uint64_t)n;
	}
	return r;
}

static int put_blob(struct save *sv, const char *path, const char *digest, int64_t mtime)
{
	if (seen(sv, path))
		return 0;
	_cleanup_close_ int fd = img_store_open_blob(sv->st, digest);
	if (fd < 0)
		return fd;
	struct stat s;
	if (fstat(fd, &s) < 0)
		return herr_sys("blob %s", digest);
	return put_fd(sv, path, fd, (uint64_t)s.st_size, mtime);
}

static int put_json(struct save *sv, const char *path, struct json_object *o)
{
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	return t ? put_mem(sv, path, t, strlen(t)) : herr_set(ENOMEM, "out of memory");
}

/* ---- OCI ---- */

static const char *tag_of(const char *name, char *buf, size_t len)
{
	struct img_ref r;
	if (img_ref_parse(name, &r) < 0)
		return NULL;
	const char *t = NULL;
	if (r.tag) {
		snprintf(buf, len, "%s", r.tag);
		t = buf;
	}
	img_ref_free(&r);
	return t;
}

static struct json_object *oci_entry(const struct simg *im, const char *name)
{
	struct json_object *d = json_object_new_object(), *ann = json_object_new_object();
	json_object_object_add(d, "mediaType", json_object_new_string(im->m.media_type));
	json_object_object_add(d, "digest", json_object_new_string(im->rec->manifest_digest));
	json_object_object_add(d, "size", json_object_new_uint64(im->mlen));
	const struct img_platform *p = &im->cfg.platform;
	if (p->os && p->architecture) {
		struct json_object *pl = json_object_new_object();
		json_object_object_add(pl, "architecture", json_object_new_string(p->architecture));
		json_object_object_add(pl, "os", json_object_new_string(p->os));
		if (p->variant)
			json_object_object_add(pl, "variant", json_object_new_string(p->variant));
		json_object_object_add(d, "platform", pl);
	}
	char tag[256];
	if (name) {
		json_object_object_add(ann, "io.containerd.image.name",
				       json_object_new_string(name));
		if (tag_of(name, tag, sizeof(tag)))
			json_object_object_add(ann, "org.opencontainers.image.ref.name",
					       json_object_new_string(tag));
		json_object_object_add(d, "annotations", ann);
	} else {
		json_object_put(ann);
	}
	return d;
}

static int save_oci(struct save *sv)
{
	struct json_object *ix = json_object_new_object(), *list = json_object_new_array();
	json_object_object_add(ix, "schemaVersion", json_object_new_int(2));
	json_object_object_add(ix, "mediaType", json_object_new_string(IMG_MT_OCI_INDEX));
	json_object_object_add(ix, "manifests", list);
	for (size_t i = 0; i < sv->n; i++) {
		struct simg *im = &sv->imgs[i];
		for (size_t j = 0; j < (im->n_names ? im->n_names : 1); j++)
			json_object_array_add(list,
					      oci_entry(im, im->n_names ? im->names[j] : NULL));
	}
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	int r = put_mem(sv, "oci-layout", layout, strlen(layout));
	if (r == 0)
		r = put_json(sv, "index.json", ix);
	json_object_put(ix);
	if (r == 0)
		r = put_dir(sv, "blobs/");
	if (r == 0)
		r = put_dir(sv, "blobs/sha256/");
	for (size_t i = 0; r == 0 && i < sv->n; i++) {
		struct simg *im = &sv->imgs[i];
		char path[IMG_DIGEST_MAX + 16];
		int64_t t = im->rec->created;
		snprintf(path, sizeof(path), "blobs/sha256/%s", im->rec->manifest_digest + 7);
		r = put_blob(sv, path, im->rec->manifest_digest, t);
		snprintf(path, sizeof(path), "blobs/sha256/%s", im->m.config.digest + 7);
		if (r == 0)
			r = put_blob(sv, path, im->m.config.digest, t);
		for (size_t k = 0; r == 0 && k < im->m.n_layers; k++) {
			snprintf(path, sizeof(path), "blobs/sha256/%s", im->m.layers[k].digest + 7);
			r = put_blob(sv, path, im->m.layers[k].digest, t);
		}
	}
	return r;
}

/* ---- docker ---- */

/* A compressed layer blob decompressed into a temp file of the store, checked
 * against its diff_id. */
static int decompress(struct save *sv, const char *digest, const char *diff_id,
		      struct img_ingest *w)
{
	_cleanup_close_ int in = img_store_open_blob(sv->st, digest);
	if (in < 0)
		return in;
	int r = img_ingest_begin(sv->st, NULL, 0, w);
	if (r < 0)
		return r;
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	struct img_hasher *h = img_hasher_new();
	_cleanup_free_ char *buf = malloc(BUF_SIZE);
	if (!a || !h || !buf) {
		r = herr_set(ENOMEM, "out of memory");
		goto out;
	}
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	if (archive_read_open_fd(a, in, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		r = herr_set(EINVAL, "layer %s: %s", digest, archive_error_string(a));
		goto out;
	}
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, BUF_SIZE);
		if (n < 0) {
			r = herr_set(EINVAL, "layer %s: %s", digest, archive_error_string(a));
			goto out;
		}
		if (n == 0)
			break;
		img_hasher_update(h, buf, (size_t)n);
		for (la_ssize_t off = 0; off < n;) {
			ssize_t k = write(w->fd, buf + off, (size_t)(n - off));
			if (k < 0 && errno != EINTR) {
				r = herr_sys("layer %s: decompress", digest);
				goto out;
			}
			off += k > 0 ? k : 0;
		}
	}
	char got[IMG_DIGEST_MAX];
	img_hasher_final(h, got);
	if (strcmp(got, diff_id))
		r = herr_set(EBADMSG, "layer %s: uncompressed digest %s is not the diff_id %s",
			     digest, got, diff_id);
out:
	img_hasher_free(h);
	if (a)
		archive_read_free(a);
	if (r < 0)
		img_ingest_abort(sv->st, w, false);
	return r;
}

static int docker_layer(struct save *sv, const struct img_descriptor *l, const char *diff_id,
			const char *path, int64_t mtime)
{
	if (seen(sv, path))
		return 0;
	if (img_mt_layer_compression(l->media_type) == IMG_COMP_NONE) {
		if (strcmp(l->digest, diff_id))
			return herr_set(EBADMSG, "layer %s: not the config's diff_id %s", l->digest,
					diff_id);
		_cleanup_close_ int fd = img_store_open_blob(sv->st, l->digest);
		return fd < 0 ? fd : put_fd(sv, path, fd, l->size, mtime);
	}
	struct img_ingest w;
	int r = decompress(sv, l->digest, diff_id, &w);
	if (r < 0)
		return r;
	struct stat s;
	r = fstat(w.fd, &s) < 0 ? herr_sys("layer %s", l->digest)
				: put_fd(sv, path, w.fd, (uint64_t)s.st_size, mtime);
	img_ingest_abort(sv->st, &w, false);
	return r;
}

static struct json_object *repo_tags(const struct simg *im)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < im->n_names; i++) {
		struct img_ref r;
		if (img_ref_parse(im->names[i], &r) < 0)
			continue;
		char *f = r.tag ? img_ref_familiar(&r) : NULL;
		if (f)
			json_object_array_add(a, json_object_new_string(f));
		free(f);
		img_ref_free(&r);
	}
	return a;
}

static int save_docker(struct save *sv)
{
	struct json_object *man = json_object_new_array();
	for (size_t i = 0; i < sv->n; i++) {
		struct simg *im = &sv->imgs[i];
		struct json_object *o = json_object_new_object(), *layers = json_object_new_array();
		char path[IMG_DIGEST_MAX + 16];
		snprintf(path, sizeof(path), "%s.json", im->m.config.digest + 7);
		json_object_object_add(o, "Config", json_object_new_string(path));
		json_object_object_add(o, "RepoTags", repo_tags(im));
		for (size_t k = 0; k < im->cfg.n_diff_ids; k++) {
			snprintf(path, sizeof(path), "%s/layer.tar", im->cfg.diff_ids[k] + 7);
			json_object_array_add(layers, json_object_new_string(path));
		}
		json_object_object_add(o, "Layers", layers);
		json_object_array_add(man, o);
	}
	int r = put_json(sv, "manifest.json", man);
	json_object_put(man);
	for (size_t i = 0; r == 0 && i < sv->n; i++) {
		struct simg *im = &sv->imgs[i];
		char path[IMG_DIGEST_MAX + 16];
		int64_t t = im->rec->created;
		snprintf(path, sizeof(path), "%s.json", im->m.config.digest + 7);
		r = put_blob(sv, path, im->m.config.digest, t);
		for (size_t k = 0; r == 0 && k < im->m.n_layers; k++) {
			const char *hex = im->cfg.diff_ids[k] + 7;
			snprintf(path, sizeof(path), "%s/", hex);
			r = put_dir(sv, path);
			snprintf(path, sizeof(path), "%s/layer.tar", hex);
			if (r == 0)
				r = docker_layer(sv, &im->m.layers[k], im->cfg.diff_ids[k], path,
						 t);
		}
	}
	return r;
}

/* One entry per image (manifest digest), with the names of its records. */
static int collect(struct save *sv, const struct img_record *recs, size_t n)
{
	if (!(sv->imgs = calloc(n ? n : 1, sizeof(*sv->imgs))))
		return herr_set(ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct simg *im = NULL;
		for (size_t j = 0; j < sv->n && !im; j++)
			if (!strcmp(sv->imgs[j].rec->manifest_digest, recs[i].manifest_digest))
				im = &sv->imgs[j];
		if (!im) {
			im = &sv->imgs[sv->n++];
			im->rec = &recs[i];
			if (!(im->names = calloc(n, sizeof(char *))))
				return herr_set(ENOMEM, "out of memory");
			_cleanup_free_ char *mb = NULL, *cb = NULL;
			size_t cl;
			const char *md = recs[i].manifest_digest;
			int r = img_store_read_blob(sv->st, md, MANIFEST_MAX, &mb, &im->mlen);
			if (r == 0)
				r = img_manifest_parse(mb, im->mlen, md, NULL, &im->m);
			if (r == 0)
				r = img_store_read_blob(sv->st, im->m.config.digest, CONFIG_MAX,
							&cb, &cl);
			if (r == 0)
				r = img_config_parse(cb, cl, im->m.config.digest, &im->cfg);
			if (r == 0 && im->cfg.n_diff_ids != im->m.n_layers)
				r = herr_set(EINVAL, "config %s: %zu diff_ids for %zu layers",
					     im->m.config.digest, im->cfg.n_diff_ids,
					     im->m.n_layers);
			if (r < 0)
				return herr_ctx(r, "save: image %s",
						recs[i].name ? recs[i].name : md);
		}
		if (recs[i].name) {
			bool dup = false;
			for (size_t k = 0; k < im->n_names && !dup; k++)
				dup = !strcmp(im->names[k], recs[i].name);
			if (!dup)
				im->names[im->n_names++] = recs[i].name;
		}
	}
	return 0;
}

int img_archive_save(struct img_store *st, const struct img_record *recs, size_t n,
		     enum img_archive_format fmt, int fd)
{
	struct save sv = {.st = st};
	int r = n ? collect(&sv, recs, n) : herr_set(EINVAL, "save: no image given");
	if (r == 0 && !(sv.a = archive_write_new()))
		r = herr_set(ENOMEM, "out of memory");
	if (r == 0 && (archive_write_set_format_pax_restricted(sv.a) != ARCHIVE_OK ||
		       archive_write_open_fd(sv.a, fd) != ARCHIVE_OK))
		r = herr_set(EIO, "save: %s", archive_error_string(sv.a));
	if (r == 0)
		r = fmt == IMG_ARCHIVE_OCI ? save_oci(&sv) : save_docker(&sv);
	if (r == 0 && archive_write_close(sv.a) != ARCHIVE_OK)
		r = herr_set(EIO, "save: %s", archive_error_string(sv.a));
	if (sv.a)
		archive_write_free(sv.a);
	for (size_t i = 0; i < sv.n; i++) {
		free(sv.imgs[i].names);
		img_manifest_clear(&sv.imgs[i].m);
		img_config_summary_clear(&sv.imgs[i].cfg);
	}
	free(sv.imgs);
	for (size_t i = 0; i < sv.n_written; i++)
		free(sv.written[i]);
	free(sv.written);
	return r;
}
