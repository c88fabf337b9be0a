/*
 * Content digests: sha256 (and sha512) through OpenSSL's one-algorithm calls.
 * Not EVP: in OpenSSL 3 its first use loads the provider tables, a few
 * milliseconds that every `deck run` paid for the two digests it checks. The
 * calls are deprecated there but stay, and use the same accelerated code.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "image/digest.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

struct img_hasher {
	SHA256_CTX ctx;
};

static size_t hex_len_for(const char *d, size_t alg_len)
{
	if (alg_len == 6 && !strncmp(d, "sha256", 6))
		return 64;
	if (alg_len == 6 && !strncmp(d, "sha512", 6))
		return 128;
	return 0;
}

bool img_digest_valid(const char *d)
{
	return img_digest_hex(d) != NULL;
}

const char *img_digest_hex(const char *d)
{
	if (!d)
		return NULL;
	const char *colon = strchr(d, ':');
	if (!colon)
		return NULL;
	size_t want = hex_len_for(d, (size_t)(colon - d));
	if (!want)
		return NULL;
	const char *hex = colon + 1;
	size_t n = 0;
	/* Lower case only: the same blob must have one name in the store. */
	for (; hex[n]; n++)
		if (!((hex[n] >= '0' && hex[n] <= '9') || (hex[n] >= 'a' && hex[n] <= 'f')))
			return NULL;
	return n == want ? hex : NULL;
}

static void to_hex(const unsigned char *md, unsigned n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[2 * n] = 0;
}

static void put_digest(const unsigned char *md, size_t n, const char *alg, char out[IMG_DIGEST_MAX])
{
	size_t al = strlen(alg);
	memcpy(out, alg, al);
	out[al] = ':';
	to_hex(md, n, out + al + 1);
}

struct img_hasher *img_hasher_new(void)
{
	struct img_hasher *h = calloc(1, sizeof(*h));
	if (h && SHA256_Init(&h->ctx) != 1) {
		free(h);
		return NULL;
	}
	return h;
}

void img_hasher_update(struct img_hasher *h, const void *buf, size_t n)
{
	if (h && n)
		SHA256_Update(&h->ctx, buf, n);
}

void img_hasher_final(struct img_hasher *h, char out[IMG_DIGEST_MAX])
{
	unsigned char md[SHA256_DIGEST_LENGTH] = {0};
	if (h)
		SHA256_Final(md, &h->ctx);
	put_digest(md, sizeof(md), "sha256", out);
}

void img_hasher_free(struct img_hasher *h)
{
	free(h);
}

void img_digest_buf(const void *buf, size_t n, char out[IMG_DIGEST_MAX])
{
	/* not SHA256(): in OpenSSL 3 it goes through EVP */
	SHA256_CTX c;
	unsigned char md[SHA256_DIGEST_LENGTH];
	SHA256_Init(&c);
	SHA256_Update(&c, buf, n);
	SHA256_Final(md, &c);
	put_digest(md, sizeof(md), "sha256", out);
}

bool img_digest_matches(const char *digest, const void *buf, size_t n)
{
	if (!img_digest_valid(digest))
		return false;
	char got[IMG_DIGEST_MAX];
	if (!strncmp(digest, "sha512:", 7)) {
		SHA512_CTX c;
		unsigned char md[SHA512_DIGEST_LENGTH];
		SHA512_Init(&c);
		SHA512_Update(&c, buf, n);
		SHA512_Final(md, &c);
		put_digest(md, sizeof(md), "sha512", got);
	} else
		img_digest_buf(buf, n, got);
	return strcmp(got, digest) == 0;
}

int img_digest_fd(int fd, char out[IMG_DIGEST_MAX], uint64_t *size)
{
	struct img_hasher *h = img_hasher_new();
	if (!h)
		return herr_set(ENOMEM, "out of memory");
	_cleanup_free_ char *buf = malloc(1 << 16);
	if (!buf) {
		img_hasher_free(h);
		return herr_set(ENOMEM, "out of memory");
	}
	uint64_t total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, 1 << 16);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			char p[64], target[512];
			ssize_t tl =
			    readlink(fs_fd_path(fd, p, sizeof(p)), target, sizeof(target) - 1);
			target[tl > 0 ? tl : 0] = 0;
			errno = saved;
			int r = herr_sys("read %s", tl > 0 ? target : p);
			img_hasher_free(h);
			return r;
		}
		if (n == 0)
			break;
		img_hasher_update(h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	img_hasher_final(h, out);
	img_hasher_free(h);
	if (size)
		*size = total;
	return 0;
}
