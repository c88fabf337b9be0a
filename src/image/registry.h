/*
 * A client of the distribution API v2 (libcurl): manifests and blobs of one
 * registry, with anonymous, basic and bearer-token auth, TLS with the system
 * CA store (or plain http when tls_verify is false, for loopback registries),
 * redirects followed (blob storage), retries with backoff on 5xx and dropped
 * connections, and Range requests to resume a partial blob.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/reference.h"

struct registry_opts {
	bool tls_verify;      /* false: https without verification, else plain http; a
				 loopback registry (localhost, 127.x, [::1]) is always
				 treated so, as docker does */
	const char *username; /* NULL: credentials from the auth files, else anonymous */
	const char *password;
	const char *auth_file; /* NULL: $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
				  ~/.docker/config.json, in that order */
	int max_retries;       /* retries after the first try; 0: the default (5), < 0: none */
};

struct registry; /* one registry, one repository's auth scope cached */

int registry_open(const char *domain, const struct registry_opts *o, struct registry **out);
void registry_close(struct registry *r);

/*
 * GET /v2/<repo>/manifests/<tag or digest> with Accept: the OCI manifest and
 * index, docker schema2 manifest and manifest list. *body is malloc'd,
 * *media_type malloc'd (from Content-Type, or the document's mediaType),
 * digest = sha256 of the body; when the reference was by digest, a body with
 * another digest is an error. Bodies over 4 MiB are refused.
 */
int registry_get_manifest(struct registry *r, const char *repo, const char *tag_or_digest,
			  char **body, size_t *len, char **media_type, char digest[136]);

/*
 * GET /v2/<repo>/blobs/<digest> into fd from byte `offset` (a Range request
 * when offset > 0; if the server ignores Range, fd is truncated and the blob
 * fetched whole). progress (may be NULL) is called with bytes done so far.
 * Verification of digest and size is the caller's (store.h's ingest).
 */
int registry_get_blob(struct registry *r, const char *repo, const char *digest, int fd,
		      uint64_t offset, void (*progress)(void *ctx, uint64_t done), void *ctx);

/* Check credentials against the registry (GET /v2/ with auth): `deck login`. */
int registry_check_login(struct registry *r);

/* Auth file: store/remove "auths": {domain: {"auth": base64(user:pass)}} in path
 * (NULL: $REGISTRY_AUTH_FILE, else $XDG_RUNTIME_DIR/containers/auth.json, else
 * ~/.docker/config.json), written atomically with mode 0600; other keys are kept.
 * Removing what is not there is -ENOENT ("not logged in to DOMAIN ..."). */
int registry_save_credentials(const char *path, const char *domain, const char *user,
			      const char *pass);
int registry_remove_credentials(const char *path, const char *domain);
