/*
 * Distribution API v2 client. One curl easy handle per registry keeps its
 * connections alive between requests. The first request pings /v2/ to learn
 * the auth scheme; bearer tokens are fetched from the realm per repository
 * scope and cached until they expire. Transport errors, 5xx and 429 are
 * retried with exponential backoff; a blob download resumes with a Range
 * request from the bytes already written.
 */
#include "image/registry.h"
#include "image/registry-int.h"
#include "image/digest.h"
#include "common/cleanup.h"
#include "common/error.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#define MANIFEST_MAX	(4u << 20)
#define TOKEN_MAX	(1u << 20)
#define ERRBODY_MAX	(64u << 10)
#define DEFAULT_RETRIES 5

static const char *const manifest_types[] = {
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* localhost, 127.0.0.0/8 or [::1], with or without a port */
static bool is_loopback(const char *domain)
{
	size_t n = strcspn(domain, ":");
	if (n == 9 && !strncmp(domain, "localhost", 9))
		return true;
	if (!strncmp(domain, "[::1]", 5))
		return !domain[5] || domain[5] == ':';
	return n > 4 && !strncmp(domain, "127.", 4) && strspn(domain, "0123456789.") == n;
}

int registry_open(const char *domain, const struct registry_opts *o, struct registry **out)
{
	*out = NULL;
	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK)
		return herr_set(EIO, "libcurl: %s", curl_easy_strerror(curl_init_rc));
	struct registry *r = calloc(1, sizeof(*r));
	if (!r)
		return herr_set(ENOMEM, "out of memory");
	bool hub = !strcmp(domain, "docker.io") || !strcmp(domain, "index.docker.io");
	r->domain = strdup(domain);
	r->host = strdup(hub ? "registry-1.docker.io" : domain);
	r->verify = !o || o->tls_verify;
	/* docker's rule: a registry on the loopback may speak plain http */
	r->insecure = !r->verify || is_loopback(domain);
	r->retries = DEFAULT_RETRIES;
	if (o && o->max_retries)
		r->retries = o->max_retries < 0 ? 0 : o->max_retries;
	r->curl = curl_easy_init();
	if (!r->domain || !r->host || !r->curl) {
		registry_close(r);
		return herr_set(ENOMEM, "out of memory");
	}
	int rc = 0;
	if (o && o->username) {
		r->user = strdup(o->username);
		r->pass = strdup(o->password ? o->password : "");
		if (!r->user || !r->pass)
			rc = herr_set(ENOMEM, "out of memory");
	} else {
		rc = reg_auth_lookup(o ? o->auth_file : NULL, domain, &r->user, &r->pass);
		if (rc == -ENOENT)
			rc = 0;
		if (rc < 0)
			herr_ctx(rc, "credentials for %s", domain);
	}
	if (rc < 0) {
		registry_close(r);
		return rc;
	}
	reg_http_configure(r);
	r->scheme = "https";
	*out = r;
	return 0;
}

void registry_close(struct registry *r)
{
	if (!r)
		return;
	if (r->curl)
		curl_easy_cleanup(r->curl);
	for (size_t i = 0; i < r->ntokens; i++) {
		free(r->tokens[i].scope);
		free(r->tokens[i].value);
	}
	free(r->tokens);
	free(r->domain);
	free(r->host);
	free(r->user);
	if (r->pass)
		explicit_bzero(r->pass, strlen(r->pass));
	free(r->pass);
	free(r->realm);
	free(r->service);
	free(r);
}

/* Adopt the strongest challenge: Bearer, else Basic. false if there is none we speak. */
static bool take_challenge(struct registry *r, struct xfer *x, char **scope)
{
	for (int want = AUTH_BEARER; want >= AUTH_BASIC; want--) {
		for (size_t i = 0; i < x->nchallenges; i++) {
			struct reg_challenge ch;
			if (reg_challenge_parse(x->challenges[i], &ch) < 0)
				continue;
			bool match =
			    !strcasecmp(ch.scheme, want == AUTH_BEARER ? "bearer" : "basic");
			if (match && (want == AUTH_BASIC || ch.realm)) {
				r->auth = (enum auth_kind)want;
				free(r->realm);
				free(r->service);
				r->realm = ch.realm;
				r->service = ch.service;
				ch.realm = ch.service = NULL;
				if (scope) {
					*scope = ch.scope;
					ch.scope = NULL;
				}
				reg_challenge_clear(&ch);
				return true;
			}
			reg_challenge_clear(&ch);
		}
	}
	return false;
}

static int ping(struct registry *r)
{
	if (r->pinged)
		return 0;
	struct xfer x = {.r = r, .body.max = ERRBODY_MAX, .err.max = ERRBODY_MAX};
	char url[600];
	int rc;
	snprintf(url, sizeof(url), "https://%s/v2/", r->host);
	if (r->insecure) {
		/* one quick try of https; a plain-http server fails its handshake at once */
		rc = reg_perform(&x, url, NULL, 0);
		if (rc < 0 && x.status == 0) {
			r->scheme = "http";
			snprintf(url, sizeof(url), "http://%s/v2/", r->host);
			rc = reg_perform(&x, url, NULL, r->retries);
		}
	} else {
		rc = reg_perform(&x, url, NULL, r->retries);
	}
	if (rc == 0) {
		r->auth = AUTH_NONE;
	} else if (x.status == 401) {
		if (!take_challenge(r, &x, NULL))
			rc =
			    herr_set(EPROTO, "GET %s: 401 without a Basic or Bearer challenge (%s)",
				     url, x.nchallenges ? x.challenges[0] : "no WWW-Authenticate");
		else
			rc = 0;
	} else if (x.status == 404) {
		herr_ctx(rc, "%s is not a registry (no distribution API v2)", r->domain);
	}
	reg_xfer_free(&x);
	if (rc == 0)
		r->pinged = true;
	return rc;
}

static char *basic_header(struct registry *r)
{
	_cleanup_free_ char *plain = NULL;
	if (asprintf(&plain, "%s:%s", r->user, r->pass) < 0)
		return NULL;
	_cleanup_free_ char *enc = reg_base64_encode(plain, strlen(plain));
	explicit_bzero(plain, strlen(plain));
	char *h = NULL;
	if (!enc || asprintf(&h, "Authorization: Basic %s", enc) < 0)
		return NULL;
	return h;
}

static struct token *token_find(struct registry *r, const char *scope)
{
	for (size_t i = 0; i < r->ntokens; i++)
		if (!strcmp(r->tokens[i].scope, scope))
			return &r->tokens[i];
	return NULL;
}

/* GET realm?service=...&scope=... (with basic auth when we have credentials). */
static int fetch_token(struct registry *r, const char *scope, bool login)
{
	_cleanup_free_ char *url = NULL;
	char *svc = r->service ? curl_easy_escape(r->curl, r->service, 0) : NULL;
	char *sc = scope && *scope ? curl_easy_escape(r->curl, scope, 0) : NULL;
	char *acct = login && r->user ? curl_easy_escape(r->curl, r->user, 0) : NULL;
	int n =
	    asprintf(&url, "%s%s%s%s%s%s%s%s", r->realm, strchr(r->realm, '?') ? "&" : "?",
		     svc ? "service=" : "", svc ? svc : "", sc ? (svc ? "&scope=" : "scope=") : "",
		     sc ? sc : "", acct ? "&account=" : "", acct ? acct : "");
	curl_free(svc);
	curl_free(sc);
	curl_free(acct);
	if (n < 0)
		return herr_set(ENOMEM, "out of memory");
	_cleanup_free_ char *auth = r->user ? basic_header(r) : NULL;
	_cleanup_slist_ struct curl_slist *hdrs = NULL;
	if (auth)
		hdrs = curl_slist_append(hdrs, auth);
	struct xfer x = {.r = r, .body.max = TOKEN_MAX, .err.max = ERRBODY_MAX};
	int rc = reg_perform(&x, url, hdrs, r->retries);
	if (auth)
		explicit_bzero(auth, strlen(auth));
	if (rc < 0) {
		reg_xfer_free(&x);
		return rc;
	}
	struct json_object *o = x.body.p ? json_tokener_parse(x.body.p) : NULL, *v = NULL;
	const char *tok = NULL;
	if (o &&
	    (json_object_object_get_ex(o, "token", &v) ||
	     json_object_object_get_ex(o, "access_token", &v)) &&
	    json_object_is_type(v, json_type_string) && json_object_get_string_len(v))
		tok = json_object_get_string(v);
	if (!tok) {
		json_object_put(o);
		reg_xfer_free(&x);
		return herr_set(EPROTO, "GET %s: the answer has no \"token\"", url);
	}
	int64_t life = 60;
	if (json_object_object_get_ex(o, "expires_in", &v) && json_object_get_int64(v) > 60)
		life = json_object_get_int64(v);
	const char *key = scope ? scope : "";
	struct token *t = token_find(r, key);
	if (!t) {
		struct token *nt = realloc(r->tokens, (r->ntokens + 1) * sizeof(*nt));
		if (!nt) {
			json_object_put(o);
			reg_xfer_free(&x);
			return herr_set(ENOMEM, "out of memory");
		}
		r->tokens = nt;
		t = &r->tokens[r->ntokens++];
		t->scope = strdup(key);
		t->value = NULL;
	}
	free(t->value);
	t->value = strdup(tok);
	t->expires = time(NULL) + life;
	json_object_put(o);
	reg_xfer_free(&x);
	if (!t->scope || !t->value)
		return herr_set(ENOMEM, "out of memory");
	return 0;
}

static void token_drop(struct registry *r, const char *scope)
{
	struct token *t = token_find(r, scope);
	if (t)
		t->expires = 0;
}

/* The Authorization header for a request in scope (malloc'd; NULL and *rc = 0 for none). */
static char *auth_header(struct registry *r, const char *scope, bool *fresh, int *rc)
{
	*rc = 0;
	if (r->auth == AUTH_BASIC) {
		if (!r->user)
			return NULL;
		char *h = basic_header(r);
		if (!h)
			*rc = herr_set(ENOMEM, "out of memory");
		return h;
	}
	if (r->auth != AUTH_BEARER)
		return NULL;
	struct token *t = token_find(r, scope);
	*fresh = false;
	if (!t || t->expires <= time(NULL) + 5) {
		*rc = fetch_token(r, scope, false);
		if (*rc < 0)
			return NULL;
		t = token_find(r, scope);
		*fresh = true;
	}
	char *h = NULL;
	if (asprintf(&h, "Authorization: Bearer %s", t->value) < 0)
		*rc = herr_set(ENOMEM, "out of memory");
	return h;
}

/* GET an API url of repo, authenticating as the registry asks. */
static int api_get(struct registry *r, const char *repo, const char *url, const char *accept,
		   struct xfer *x)
{
	int rc = ping(r);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *scope = NULL;
	if (asprintf(&scope, "repository:%s:pull", repo) < 0)
		return herr_set(ENOMEM, "out of memory");
	for (int round = 0;; round++) {
		bool fresh = true;
		enum auth_kind before = r->auth;
		_cleanup_free_ char *auth = auth_header(r, scope, &fresh, &rc);
		if (rc < 0)
			return rc;
		_cleanup_slist_ struct curl_slist *hdrs = NULL;
		if (accept)
			hdrs = curl_slist_append(hdrs, accept);
		if (auth)
			hdrs = curl_slist_append(hdrs, auth);
		rc = reg_perform(x, url, hdrs, r->retries);
		if (rc == 0 || x->status != 401 || round > 0)
			return rc;
		/* A 401 is worth one more try when something can change: a stale cached
		 * token, or a registry that asks for auth only now (or for a new scope). */
		_cleanup_free_ char *asked = NULL;
		if (!take_challenge(r, x, &asked) || (r->auth == AUTH_BASIC && !r->user) ||
		    (r->auth == before && fresh && (!asked || !strcmp(asked, scope))))
			return rc;
		if (asked && r->auth == AUTH_BEARER) {
			free(scope);
			scope = take_ptr(asked);
		}
		token_drop(r, scope);
	}
}

static bool valid_repo(const char *s)
{
	if (!*s || *s == '/' || strlen(s) > 255)
		return false;
	for (const char *p = s; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789._-/", *p))
			return false;
	return !strstr(s, "..") && !strstr(s, "//");
}

static bool valid_tag_or_digest(const char *s)
{
	if (strchr(s, ':'))
		return img_digest_valid(s);
	size_t n = strlen(s);
	if (!n || n > 128 || *s == '.' || *s == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
			    *p))
			return false;
	return true;
}

/* What is wrong with a document that should be one JSON object, or NULL. */
static const char *json_problem(struct json_tokener *tok, struct json_object *doc, const char *text,
				size_t n)
{
	enum json_tokener_error je = json_tokener_get_error(tok);
	if (je == json_tokener_continue || (!doc && je == json_tokener_success))
		return "it ends too soon";
	if (je != json_tokener_success)
		return json_tokener_error_desc(je);
	if (!json_object_is_type(doc, json_type_object))
		return "not an object";
	for (size_t i = json_tokener_get_parse_end(tok); i < n; i++)
		if (!strchr(" \t\r\n", text[i]))
			return "more data after the object";
	return NULL;
}

static char *media_type_of(const char *ctype, struct json_object *doc)
{
	if (ctype) {
		size_t n = strcspn(ctype, "; ");
		for (size_t i = 0; i < ARRAY_SIZE(manifest_types); i++)
			if (strlen(manifest_types[i]) == n &&
			    !strncasecmp(ctype, manifest_types[i], n))
				return strdup(manifest_types[i]);
	}
	struct json_object *v = NULL;
	if (json_object_object_get_ex(doc, "mediaType", &v) &&
	    json_object_is_type(v, json_type_string) && json_object_get_string_len(v))
		return strdup(json_object_get_string(v));
	/* An OCI document may leave mediaType out: tell index from manifest by shape. */
	if (json_object_object_get_ex(doc, "manifests", &v))
		return strdup(manifest_types[1]);
	if (json_object_object_get_ex(doc, "schemaVersion", &v) && json_object_get_int(v) == 1)
		return strdup("application/vnd.docker.distribution.manifest.v1+json");
	return strdup(manifest_types[0]);
}

int registry_get_manifest(struct registry *r, const char *repo, const char *tag_or_digest,
			  char **body, size_t *len, char **media_type, char digest[136])
{
	*body = NULL;
	*media_type = NULL;
	if (!valid_repo(repo) || !valid_tag_or_digest(tag_or_digest))
		return herr_set(EINVAL, "%s/%s: invalid repository or reference \"%s\"", r->domain,
				repo, tag_or_digest);
	int rc = ping(r);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *url = NULL;
	_cleanup_free_ char *accept = NULL;
	if (asprintf(&url, "%s://%s/v2/%s/manifests/%s", r->scheme, r->host, repo, tag_or_digest) <
		0 ||
	    asprintf(&accept, "Accept: %s, %s, %s, %s", manifest_types[0], manifest_types[1],
		     manifest_types[2], manifest_types[3]) < 0)
		return herr_set(ENOMEM, "out of memory");
	struct xfer x = {.r = r, .body.max = MANIFEST_MAX, .err.max = ERRBODY_MAX};
	rc = api_get(r, repo, url, accept, &x);
	if (rc == -EFBIG)
		rc = herr_set(EFBIG, "GET %s: manifest larger than 4 MiB", url);
	if (rc < 0) {
		reg_xfer_free(&x);
		return rc;
	}
	size_t n = x.body.len;
	char *text = x.body.p ? x.body.p : strdup("");
	x.body.p = NULL;
	struct json_object *doc = NULL;
	struct json_tokener *tok = json_tokener_new();
	if (!tok || !text) {
		json_tokener_free(tok);
		rc = herr_set(ENOMEM, "out of memory");
		goto fail;
	}
	doc = n <= INT32_MAX ? json_tokener_parse_ex(tok, text, (int)n) : NULL;
	const char *problem = json_problem(tok, doc, text, n);
	json_tokener_free(tok);
	if (problem) {
		rc = herr_set(EBADMSG, "GET %s: the manifest is not JSON: %s", url, problem);
		goto fail;
	}
	img_digest_buf(text, n, digest);
	if (strchr(tag_or_digest, ':') && !img_digest_matches(tag_or_digest, text, n)) {
		rc = herr_set(EBADMSG, "GET %s: manifest digest mismatch (got %s)", url, digest);
		goto fail;
	}
	*media_type = media_type_of(x.ctype, doc);
	if (!*media_type) {
		rc = herr_set(ENOMEM, "out of memory");
		goto fail;
	}
	json_object_put(doc);
	reg_xfer_free(&x);
	*body = text;
	*len = n;
	return 0;
fail:
	json_object_put(doc);
	free(text);
	reg_xfer_free(&x);
	return rc;
}

int registry_get_blob(struct registry *r, const char *repo, const char *digest, int fd,
		      uint64_t offset, void (*progress)(void *ctx, uint64_t done), void *ctx)
{
	if (!valid_repo(repo) || !img_digest_valid(digest))
		return herr_set(EINVAL, "%s/%s: invalid repository or digest \"%s\"", r->domain,
				repo, digest);
	int rc = ping(r);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *url = NULL;
	if (asprintf(&url, "%s://%s/v2/%s/blobs/%s", r->scheme, r->host, repo, digest) < 0)
		return herr_set(ENOMEM, "out of memory");
	struct xfer x = {.r = r,
			 .err.max = ERRBODY_MAX,
			 .to_fd = true,
			 .fd = fd,
			 .pos = offset,
			 .progress = progress,
			 .pctx = ctx};
	rc = api_get(r, repo, url, NULL, &x);
	unsigned long long total = 0;
	if (rc < 0 && x.status == 416 && x.content_range &&
	    sscanf(x.content_range, "bytes */%llu", &total) == 1 && total == x.pos) {
		/* the partial file was already whole */
		herr_clear();
		rc = 0;
		if (progress)
			progress(ctx, x.pos);
	} else if (rc < 0 && x.status == 416 && x.pos > 0) {
		/* the partial file cannot be a prefix of this blob: start over */
		if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0)
			rc = herr_sys("GET %s: truncating the partial blob", url);
		else {
			x.pos = 0;
			herr_clear();
			rc = api_get(r, repo, url, NULL, &x);
		}
	}
	reg_xfer_free(&x);
	return rc;
}

int registry_check_login(struct registry *r)
{
	int rc = ping(r);
	if (rc < 0)
		return rc;
	if (r->auth == AUTH_NONE)
		return 0;
	if (!r->user)
		return herr_set(EACCES, "%s asks for credentials and none were given", r->domain);
	if (r->auth == AUTH_BEARER)
		return fetch_token(r, NULL, true);
	_cleanup_free_ char *url = NULL;
	_cleanup_free_ char *auth = basic_header(r);
	if (!auth || asprintf(&url, "%s://%s/v2/", r->scheme, r->host) < 0)
		return herr_set(ENOMEM, "out of memory");
	_cleanup_slist_ struct curl_slist *hdrs = curl_slist_append(NULL, auth);
	struct xfer x = {.r = r, .body.max = ERRBODY_MAX, .err.max = ERRBODY_MAX};
	rc = reg_perform(&x, url, hdrs, r->retries);
	reg_xfer_free(&x);
	return rc;
}
