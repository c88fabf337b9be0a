/*
 * Internal to the registry client (registry.c, registry-http.c, auth.c): the
 * state of one registry, one HTTP exchange, the auth challenges a registry
 * sends (WWW-Authenticate), and the credentials kept in auth files in the
 * format of docker's config.json and containers' auth.json:
 *   {"auths": {"127.0.0.1:5000": {"auth": base64("user:pass")}}}
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <curl/curl.h>

#include "image/registry.h"

#define REG_MAX_CHALLENGES 4

enum auth_kind { AUTH_NONE, AUTH_BASIC, AUTH_BEARER };

struct token {
	char *scope;
	char *value;
	time_t expires;
};

struct registry {
	char *domain; /* as references name it: credentials are filed under it */
	char *host;   /* where the API answers: docker.io is registry-1.docker.io */
	const char *scheme;
	bool verify;   /* TLS certificates checked */
	bool insecure; /* https without verification, then plain http */
	int retries;
	char *user, *pass;
	CURL *curl;
	bool pinged;
	enum auth_kind auth;
	char *realm, *service;
	struct token *tokens;
	size_t ntokens;
	char errbuf[CURL_ERROR_SIZE];
};

struct membuf {
	char *p;
	size_t len, max;
	bool overflow;
};

/* One request (and its retries): where the body goes, what the response said. */
struct xfer {
	struct registry *r;
	long status;
	char reason[64];
	char *ctype, *content_range, *retry_after;
	char *challenges[REG_MAX_CHALLENGES];
	size_t nchallenges;
	struct membuf body; /* 2xx bodies, unless to_fd */
	struct membuf err;  /* other bodies: the registry's error JSON */
	bool to_fd;
	int fd;
	uint64_t pos;	     /* bytes of the blob in fd */
	uint64_t range_from; /* what this attempt asked for */
	bool started;	     /* the response's first body bytes were seen */
	int write_errno;
	bool bad_range;
	void (*progress)(void *ctx, uint64_t done);
	void *pctx;
};

/* registry-http.c */

/* Options shared by every request of r's handle (TLS, redirects, timeouts, callbacks). */
void reg_http_configure(struct registry *r);
/*
 * GET url with hdrs, retrying transport errors, 5xx and 429 up to `retries`
 * times with backoff (a blob resumes with Range). 0 on a 2xx; otherwise the
 * error is recorded (naming the URL, the status and the registry's message),
 * x->status is the HTTP status (0: no response) and the response's headers
 * stay in x.
 */
int reg_perform(struct xfer *x, const char *url, struct curl_slist *hdrs, int retries);
void reg_xfer_free(struct xfer *x);
void reg_slist_freep(struct curl_slist **l);
#define _cleanup_slist_ __attribute__((cleanup(reg_slist_freep)))

/* auth.c */

struct reg_challenge {
	char *scheme; /* "Bearer", "Basic" (as sent) */
	char *realm;
	char *service;
	char *scope;
};

/* Parse the first challenge of one WWW-Authenticate value. -EINVAL (no message) if none. */
int reg_challenge_parse(const char *value, struct reg_challenge *out);
void reg_challenge_clear(struct reg_challenge *c);

/*
 * Credentials for domain. auth_file: that file only; NULL: $REGISTRY_AUTH_FILE,
 * $XDG_RUNTIME_DIR/containers/auth.json, ~/.docker/config.json, the first that
 * has an entry. 0 and malloc'd *user and *pass when found; -ENOENT (no message)
 * when no file has any; another negative errno (with a message naming the
 * file) when a file cannot be read or is not JSON.
 */
int reg_auth_lookup(const char *auth_file, const char *domain, char **user, char **pass);

/* The file `deck login` writes when given none (malloc'd). */
char *reg_auth_default_file(void);

/* Base64 (standard alphabet, padded); decode refuses malformed input. */
char *reg_base64_encode(const void *data, size_t n);
int reg_base64_decode(const char *s, char **out, size_t *n);
