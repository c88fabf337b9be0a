/*
 * The HTTP side of the registry client: one request with its retries and
 * backoff, response headers and bodies (to memory, or to a blob's fd with
 * resume), and errors that name the URL, the status and the registry's words.
 */
#include "image/registry-int.h"
#include "common/cleanup.h"
#include "common/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#define BACKOFF_FIRST_MS 200
#define BACKOFF_MAX_MS	 10000
#define USER_AGENT	 "deck (hull)"

void reg_slist_freep(struct curl_slist **l)
{
	curl_slist_free_all(*l);
}

static bool membuf_add(struct membuf *b, const char *p, size_t n)
{
	if (b->len + n > b->max) {
		b->overflow = true;
		n = b->max - b->len;
	}
	char *np = realloc(b->p, b->len + n + 1);
	if (!np)
		return false;
	b->p = np;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
	return !b->overflow;
}

static void membuf_reset(struct membuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = 0;
	b->overflow = false;
}

static void xfer_reset_response(struct xfer *x)
{
	x->status = 0;
	x->reason[0] = 0;
	free(x->ctype);
	free(x->content_range);
	free(x->retry_after);
	x->ctype = x->content_range = x->retry_after = NULL;
	for (size_t i = 0; i < x->nchallenges; i++)
		free(x->challenges[i]);
	x->nchallenges = 0;
	membuf_reset(&x->body);
	membuf_reset(&x->err);
	x->started = false;
}

void reg_xfer_free(struct xfer *x)
{
	xfer_reset_response(x);
}

static char *trimmed_dup(const char *p, size_t n)
{
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' '))
		n--;
	return strndup(p, n);
}

static size_t on_header(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	if (n >= 5 && !strncmp(buf, "HTTP/", 5)) {
		/* A new response (after a redirect or a 100): forget the last one. */
		xfer_reset_response(x);
		const char *sp = memchr(buf, ' ', n);
		if (sp) {
			x->status = strtol(sp + 1, NULL, 10);
			const char *rs = memchr(sp + 1, ' ', n - (size_t)(sp + 1 - buf));
			if (rs) {
				_cleanup_free_ char *reason =
				    trimmed_dup(rs + 1, n - (size_t)(rs + 1 - buf));
				if (reason)
					snprintf(x->reason, sizeof(x->reason), "%s", reason);
			}
		}
		return n;
	}
	const char *colon = memchr(buf, ':', n);
	if (!colon)
		return n;
	size_t kl = (size_t)(colon - buf);
	char *v = trimmed_dup(colon + 1, n - kl - 1);
	if (!v)
		return n;
	if (kl == 12 && !strncasecmp(buf, "content-type", kl) && !x->ctype)
		x->ctype = v;
	else if (kl == 13 && !strncasecmp(buf, "content-range", kl) && !x->content_range)
		x->content_range = v;
	else if (kl == 11 && !strncasecmp(buf, "retry-after", kl) && !x->retry_after)
		x->retry_after = v;
	else if (kl == 16 && !strncasecmp(buf, "www-authenticate", kl) &&
		 x->nchallenges < REG_MAX_CHALLENGES)
		x->challenges[x->nchallenges++] = v;
	else
		free(v);
	return n;
}

/* The first body bytes of a blob response: a 206 must start where we asked, a 200 starts over. */
static bool blob_start(struct xfer *x)
{
	x->started = true;
	if (x->status == 206) {
		unsigned long long from = 0;
		if (!x->content_range || sscanf(x->content_range, "bytes %llu-", &from) != 1 ||
		    from != x->range_from) {
			x->bad_range = true;
			return false;
		}
		return true;
	}
	if (x->range_from > 0 || x->pos > 0) {
		if (ftruncate(x->fd, 0) < 0 || lseek(x->fd, 0, SEEK_SET) < 0) {
			x->write_errno = errno;
			return false;
		}
	}
	x->pos = 0;
	return true;
}

static size_t on_body(char *buf, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	if (x->status < 200 || x->status >= 300) {
		membuf_add(&x->err, buf, n); /* the rest of a long error page is not needed */
		return n;
	}
	if (!x->to_fd)
		return membuf_add(&x->body, buf, n) ? n : 0;
	if (!x->started && !blob_start(x))
		return 0;
	for (size_t off = 0; off < n;) {
		ssize_t w = write(x->fd, buf + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			x->write_errno = w < 0 ? errno : EIO;
			return 0;
		}
		off += (size_t)w;
		x->pos += (uint64_t)w;
	}
	if (x->progress)
		x->progress(x->pctx, x->pos);
	return n;
}

static const char *status_text(long code)
{
	static const struct {
		long code;
		const char *text;
	} t[] = {{400, "Bad Request"},	      {401, "Unauthorized"},
		 {403, "Forbidden"},	      {404, "Not Found"},
		 {405, "Method Not Allowed"}, {416, "Range Not Satisfiable"},
		 {429, "Too Many Requests"},  {500, "Internal Server Error"},
		 {502, "Bad Gateway"},	      {503, "Service Unavailable"},
		 {504, "Gateway Timeout"}};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if (t[i].code == code)
			return t[i].text;
	return "";
}

static int status_errno(long code)
{
	if (code == 401 || code == 403)
		return EACCES;
	if (code == 404)
		return ENOENT;
	if (code == 429)
		return EBUSY;
	return code >= 500 ? EIO : EPROTO;
}

/* The registry's own words: {"errors":[{"message":...}]}, or a token server's. */
static void error_detail(const struct membuf *b, char *out, size_t outlen)
{
	out[0] = 0;
	if (!b->p || !b->len)
		return;
	struct json_object *o = json_tokener_parse(b->p), *v = NULL;
	if (o && json_object_is_type(o, json_type_object)) {
		size_t used = 0;
		if (json_object_object_get_ex(o, "errors", &v) &&
		    json_object_is_type(v, json_type_array)) {
			for (size_t i = 0; i < json_object_array_length(v) && used < outlen; i++) {
				struct json_object *e = json_object_array_get_idx(v, i), *m = NULL;
				if (!json_object_object_get_ex(e, "message", &m) &&
				    !json_object_object_get_ex(e, "code", &m))
					continue;
				used +=
				    (size_t)snprintf(out + used, outlen - used, "%s%s",
						     used ? "; " : "", json_object_get_string(m));
			}
		} else {
			static const char *const keys[] = {"details", "error_description", "error",
							   "message"};
			for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
				if (json_object_object_get_ex(o, keys[i], &v) &&
				    json_object_is_type(v, json_type_string)) {
					snprintf(out, outlen, "%s", json_object_get_string(v));
					break;
				}
		}
	} else if (b->p[0] != '<') {
		/* a plain-text body: its first line, if it is printable */
		size_t n = strcspn(b->p, "\r\n");
		bool printable = n > 0;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)b->p[i] < 0x20 || b->p[i] == 0x7f)
				printable = false;
		if (printable)
			snprintf(out, outlen, "%.*s", (int)(n > 200 ? 200 : n), b->p);
	}
	json_object_put(o);
}

static int http_error(struct xfer *x, const char *url)
{
	struct registry *r = x->r;
	char detail[512], hint[300] = "";
	error_detail(&x->err, detail, sizeof(detail));
	if (x->status == 401) {
		if (r->user)
			snprintf(hint, sizeof(hint),
				 " (the registry refused the credentials of \"%s\")", r->user);
		else
			snprintf(hint, sizeof(hint), " (no credentials for %s: log in first)",
				 r->domain);
	}
	return herr_set(status_errno(x->status), "GET %s: %ld %s%s%s%s", url, x->status,
			x->reason[0] ? x->reason : status_text(x->status), detail[0] ? ": " : "",
			detail, hint);
}

static bool retryable_transport(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static int transport_errno(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
		return ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return ETIMEDOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
		return EHOSTUNREACH;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
		return EPROTO;
	default:
		return EIO;
	}
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int reg_perform(struct xfer *x, const char *url, struct curl_slist *hdrs, int retries)
{
	struct registry *r = x->r;
	CURL *c = r->curl;
	for (int attempt = 0;; attempt++) {
		xfer_reset_response(x);
		x->write_errno = 0;
		x->bad_range = false;
		x->range_from = x->to_fd ? x->pos : 0;
		char range[48];
		snprintf(range, sizeof(range), "%llu-", (unsigned long long)x->range_from);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_RANGE, x->range_from ? range : NULL);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
		r->errbuf[0] = 0;
		CURLcode cc = curl_easy_perform(c);
		long code = 0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		x->status = code;
		bool again;
		if (cc == CURLE_OK) {
			if (code >= 200 && code < 300) {
				if (x->to_fd && code == 200 && !x->started && !blob_start(x))
					return herr_set(x->write_errno,
							"GET %s: truncating the partial "
							"blob: %s",
							url, strerror(x->write_errno));
				return 0;
			}
			again = code >= 500 || code == 429;
			if (!again || attempt >= retries)
				return http_error(x, url);
		} else if (cc == CURLE_WRITE_ERROR && x->write_errno) {
			errno = x->write_errno;
			return herr_sys("GET %s: writing the blob", url);
		} else if (cc == CURLE_WRITE_ERROR && x->body.overflow) {
			return herr_set(EFBIG, "GET %s: response larger than %zu bytes", url,
					x->body.max);
		} else if (cc == CURLE_WRITE_ERROR && x->bad_range) {
			return herr_set(EPROTO, "GET %s: asked for bytes from %llu, got \"%s\"",
					url, (unsigned long long)x->range_from,
					x->content_range ? x->content_range : "no Content-Range");
		} else if (code >= 400 && code < 500 && code != 429) {
			/* a refusal cut short (a 416 whose body is shorter than it said) */
			return http_error(x, url);
		} else {
			again = retryable_transport(cc);
			if (!again || attempt >= retries) {
				const char *why = r->errbuf[0] ? r->errbuf : curl_easy_strerror(cc);
				bool tls = cc == CURLE_SSL_CONNECT_ERROR ||
					   cc == CURLE_PEER_FAILED_VERIFICATION;
				if (!attempt)
					return herr_set(transport_errno(cc), "GET %s: %s%s", url,
							why,
							tls ? " (a plain-http or self-signed "
							      "registry needs --tls-verify=false)"
							    : "");
				return herr_set(transport_errno(cc), "GET %s: %s (%d attempts)",
						url, why, attempt + 1);
			}
		}
		long delay = BACKOFF_FIRST_MS << (attempt < 10 ? attempt : 10);
		if (x->retry_after) {
			long ra = strtol(x->retry_after, NULL, 10) * 1000;
			if (ra > delay)
				delay = ra;
		}
		sleep_ms(delay > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : delay);
	}
}

void reg_http_configure(struct registry *r)
{
	CURL *c = r->curl;
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, USER_AGENT);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	/* Blob storage is often another host: our Authorization must not follow there. */
	curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, r->insecure ? "http,https" : "https");
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, r->insecure ? 0L : 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, r->insecure ? 0L : 2L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a stalled transfer is a dropped connection: give up on it and retry */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
}
