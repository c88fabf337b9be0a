/*
 * Content digests of the image-spec: "sha256:" + 64 lower-case hex digits
 * (sha512 is accepted by the parser but nothing here produces it).
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMG_DIGEST_MAX 136 /* "sha512:" + 128 hex + NUL, rounded */

/* Whether d is a well-formed digest (algorithm known, hex of the right length). */
bool img_digest_valid(const char *d);
/* The hex part ("sha256:abc..." -> "abc..."), or NULL if not valid. */
const char *img_digest_hex(const char *d);

struct img_hasher; /* streaming sha256 */
struct img_hasher *img_hasher_new(void);
void img_hasher_update(struct img_hasher *h, const void *buf, size_t n);
/* Writes "sha256:<hex>" to out (IMG_DIGEST_MAX bytes); h may be updated no more. */
void img_hasher_final(struct img_hasher *h, char out[IMG_DIGEST_MAX]);
void img_hasher_free(struct img_hasher *h);

void img_digest_buf(const void *buf, size_t n, char out[IMG_DIGEST_MAX]);
/* Whether buf hashes to digest (sha256 or sha512); false for an invalid digest. */
bool img_digest_matches(const char *digest, const void *buf, size_t n);
/* Digest of everything readable from fd (from its current offset). */
int img_digest_fd(int fd, char out[IMG_DIGEST_MAX], uint64_t *size);
