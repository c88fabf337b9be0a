/*
 * Image tarballs: `deck load` / `deck save` of OCI image layouts (oci-layout,
 * index.json, blobs/) and docker archives (manifest.json with Config,
 * RepoTags, Layers; what `docker save` writes), and `deck import` of a root
 * filesystem tarball as a one-layer image. Input may be compressed (anything
 * libarchive reads: gzip, zstd, xz, bzip2); every blob read is verified
 * against its digest before it is used, and a mismatch stores nothing.
 */
#pragma once
#include <stddef.h>

#include "image/store.h"

enum img_archive_format {
	IMG_ARCHIVE_DOCKER, /* docker-archive: manifest.json, <id>.json, <layer>/layer.tar */
	IMG_ARCHIVE_OCI,    /* oci-archive: an OCI image layout in a tar */
};
/* "docker-archive" / "docker", "oci-archive" / "oci"; otherwise an error
 * naming the accepted values. */
int img_archive_format_parse(const char *s, enum img_archive_format *out);

/*
 * Load every image of the tarball read from fd into the store and record it:
 * named from the docker archive's RepoTags, or from the OCI index's
 * io.containerd.image.name annotation, else its org.opencontainers.image.ref.name
 * when that is a reference ("busybox:1" or "host/x:1"; a bare tag such as
 * "latest" names nothing); without a name the image is recorded dangling. An
 * index in the layout gives its manifest for `platform` (NULL: this machine).
 * Docker archive layers are stored as they are (uncompressed tar, media type
 * application/vnd.docker.image.rootfs.diff.tar), each checked against the
 * config's diff_ids, under a synthesised docker schema2 manifest.
 * `what` names the input in errors ("archive busybox.tar: ...").
 * *added gets one record per name loaded (name NULL: an image without one).
 */
int img_archive_load(struct img_store *st, int fd, const char *what, const char *platform,
		     struct img_record **added, size_t *n_added);

/*
 * Write the images of recs (records from img_store_find/list; records with
 * the same manifest are one image with several names) to fd as a tar of the
 * format. OCI: the manifests as stored, index.json entries annotated with
 * io.containerd.image.name and org.opencontainers.image.ref.name. Docker:
 * layers written uncompressed (decompressed and checked against diff_ids),
 * RepoTags in docker's short form ("busybox:latest").
 */
int img_archive_save(struct img_store *st, const struct img_record *recs, size_t n,
		     enum img_archive_format fmt, int fd);

struct img_import_opts {
	const char *name;     /* reference to record it under, or NULL (dangling) */
	char *const *changes; /* NULL-terminated Dockerfile-style config changes:
				 CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER,
				 VOLUME, WORKDIR ("CMD [\"sh\"]", "ENV A=1 B=2", ...) */
	const char *message;  /* history comment, or NULL */
	const char *platform; /* NULL: this machine's */
};
/*
 * Import the root filesystem tarball read from fd (compressed or not) as a
 * one-layer image: the layer stored as an uncompressed tar, a config with
 * this machine's (or the given) os/architecture, rootfs.diff_ids, created =
 * now and the changes applied, under an OCI manifest. *out gets its record.
 */
int img_archive_import(struct img_store *st, int fd, const char *what,
		       const struct img_import_opts *o, struct img_record *out);

/* Apply one --change to an image config's "config" object (exposed for tests). */
struct json_object;
int img_config_apply_change(struct json_object *config, const char *change);
