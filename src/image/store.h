/*
 * The engine's image store under <root> (deck's root, default /var/lib/deck):
 *   blobs/sha256/<hex>       content, immutable, written to ingest/ then renamed
 *   ingest/<hex>.partial     a download in progress (resumable), with a lock
 *   images.json              image records: name -> manifest digest (locked)
 *   snapshots/<chainid-hex>/ one unpacked layer each (layer.h), "fs/" inside
 *   images.json.lock         flock for images.json (rewritten by temp + rename)
 *   store.lock               flock: shared while a process adds content, exclusive
 *                            while prune deletes, so prune never deletes the blobs
 *                            of a pull that has not recorded its image yet
 * Safe for several deck processes at once: flock on ingest files and on
 * images.json; a pull killed midway leaves only ingest/ files that the next
 * pull resumes or prune removes.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/digest.h"

struct img_store {
	char *root;
	int dirfd;   /* O_PATH|O_DIRECTORY of root */
	int lock_fd; /* store.lock while held (img_store_hold), else -1 */
};

int img_store_open(const char *root, struct img_store *st); /* creates the layout */
void img_store_close(struct img_store *st);

/*
 * Take store.lock shared until img_store_release/img_store_close: prune
 * waits meanwhile. Ingest, put and set take it themselves; a process that
 * unpacks snapshots or writes content otherwise takes it first. A
 * long-running process releases it (or closes the store) once its image is
 * recorded, or `image prune` waits for it.
 */
int img_store_hold(struct img_store *st);
void img_store_release(struct img_store *st);

bool img_store_has_blob(struct img_store *st, const char *digest, uint64_t *size);
/* O_RDONLY|O_CLOEXEC fd of a stored blob, or -ENOENT with a message. */
int img_store_open_blob(struct img_store *st, const char *digest);
/* A whole small blob (manifest, config, at most max bytes), verified again. */
int img_store_read_blob(struct img_store *st, const char *digest, size_t max, char **buf,
			size_t *len);
/* Store buf; out gets its digest. */
int img_store_put_blob(struct img_store *st, const void *buf, size_t len, char out[IMG_DIGEST_MAX]);

/* Writing a blob whose digest is known in advance. */
struct img_ingest {
	int fd;		 /* the .partial file, positioned at offset */
	uint64_t offset; /* bytes already there from an earlier try (resume) */
	char digest[IMG_DIGEST_MAX];
	uint64_t size; /* expected; 0 = unknown */
	void *priv;
};
/* -EEXIST (no message) when the blob is already stored. Blocks while another
 * process ingests the same digest, then returns -EEXIST if it got stored.
 * digest NULL: not known in advance (an import); commit computes it, sets
 * w->digest and succeeds also when the blob was already there. When offset
 * equals a known size the bytes may all be there: commit without writing. */
int img_ingest_begin(struct img_store *st, const char *digest, uint64_t size, struct img_ingest *w);
/* Verify size and digest of the .partial file and rename it into blobs/; on a
 * mismatch the partial file is deleted and the error says
 * "blob sha256:...: digest mismatch (got sha256:...)" or "size ... expected ...". */
int img_ingest_commit(struct img_store *st, struct img_ingest *w);
/* Give up: keep_partial keeps the bytes for a resume. */
void img_ingest_abort(struct img_store *st, struct img_ingest *w, bool keep_partial);

struct img_record {
	char *name;	       /* "docker.io/library/busybox:latest", or NULL (dangling) */
	char *manifest_digest; /* the platform manifest pulled */
	char *config_digest;   /* its config: the image ID is its hex */
	char *index_digest;    /* the index/list it came from, or NULL */
	int64_t created;       /* the config's "created", seconds since the epoch, or 0 */
	uint64_t size;	       /* sum of the layer blob sizes */
};
void img_record_clear(struct img_record *r);

/* Add or move the name to the record's image (replacing what held the name).
 * An image is identified by its manifest digest; one that loses its last name
 * this way stays as a dangling record (name NULL), as docker keeps <none>.
 * r->name NULL records the image without a name (if it is not there yet). */
int img_store_set(struct img_store *st, const struct img_record *r);
/* By name (full string of img_ref_string), by ID (config hex, or a unique
 * prefix of at least 4), or by "sha256:<hex>" (the config's or the manifest's
 * digest); "repo@sha256:..." finds that repository's image with that manifest.
 * out->name is the name matched, else the image's first (NULL: dangling).
 * -ENOENT "no such image: X"; -EINVAL when an ID prefix is ambiguous. */
int img_store_find(struct img_store *st, const char *name_or_id, struct img_record *out);
/* One record per name, and one with name NULL per image that has none, in
 * the order they were recorded. */
int img_store_list(struct img_store *st, struct img_record **out, size_t *n);
void img_records_free(struct img_record *r, size_t n);
/* Remove the name; the image's record goes when it has no name left. */
int img_store_untag(struct img_store *st, const char *name);
/* Remove the image (every name) whose manifest digest this is: rmi by ID,
 * dangling images. */
int img_store_remove(struct img_store *st, const char *manifest_digest);
/* Delete every blob, snapshot and partial ingest no record references
 * (manifests, configs, layers, snapshots by chain). *freed gets bytes freed.
 * Waits while another process holds the store; deletes nothing (an error)
 * when an image's manifest or config cannot be read. */
int img_store_prune(struct img_store *st, uint64_t *freed);
