/*
 * Image references with docker's grammar and normalisation:
 *   reference := name [":" tag] ["@" digest]
 *   name      := [domain "/"] path-component ["/" path-component]*
 *   domain    := host [":" port]   (host: dns labels, IPv4, or [IPv6])
 *   path-component := [a-z0-9]+ (separator [a-z0-9]+)*
 *   separator := "." | "_" | "__" | "-"+
 *   tag       := [\w][\w.-]{0,127}
 * The first component is a domain only when it holds a '.' or ':' or is
 * "localhost"; otherwise the registry is docker.io, where a single-component
 * name lives under "library/".
 */
#include "image/reference.h"
#include "image/digest.h"
#include "common/cleanup.h"
#include "common/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define DEFAULT_DOMAIN "docker.io"
#define LEGACY_DOMAIN  "index.docker.io"
#define OFFICIAL_REPO  "library/"
#define NAME_MAX_LEN   255
#define TAG_MAX_LEN    128

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_word(char c)
{
	return is_alnum(c) || c == '_';
}

static bool valid_tag(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > TAG_MAX_LEN || !is_word(t[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_word(t[i]) && t[i] != '.' && t[i] != '-')
			return false;
	return true;
}

/* [a-z0-9]+ ((. | _ | __ | -+) [a-z0-9]+)*, over [p, p+n). */
static bool valid_path_component(const char *p, size_t n)
{
	size_t i = 0;
	for (;;) {
		size_t start = i;
		while (i < n && is_lower_alnum(p[i]))
			i++;
		if (i == start)
			return false;
		if (i == n)
			return true;
		if (p[i] == '.') {
			i++;
		} else if (p[i] == '_') {
			i++;
			if (i < n && p[i] == '_')
				i++;
		} else if (p[i] == '-') {
			while (i < n && p[i] == '-')
				i++;
		} else {
			return false;
		}
	}
}

/* A dns label: [a-zA-Z0-9] or [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]. */
static bool valid_label(const char *p, size_t n)
{
	if (n == 0 || !is_alnum(p[0]) || !is_alnum(p[n - 1]))
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (!is_alnum(p[i]) && p[i] != '-')
			return false;
	return true;
}

static bool valid_domain(const char *d)
{
	const char *port = NULL;
	if (d[0] == '[') {
		const char *end = strchr(d, ']');
		if (!end || end == d + 1)
			return false;
		for (const char *q = d + 1; q < end; q++)
			if (!strchr("0123456789abcdefABCDEF:", *q))
				return false;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1])
			return false;
	} else {
		const char *colon = strchr(d, ':');
		size_t hl = colon ? (size_t)(colon - d) : strlen(d);
		if (hl == 0)
			return false;
		for (size_t i = 0; i < hl;) {
			size_t j = i;
			while (j < hl && d[j] != '.')
				j++;
			if (!valid_label(d + i, j - i))
				return false;
			i = j + 1;
			if (j + 1 == hl) /* a trailing '.' */
				return false;
		}
		if (colon)
			port = colon + 1;
	}
	if (port) {
		if (!*port)
			return false;
		for (const char *q = port; *q; q++)
			if (*q < '0' || *q > '9')
				return false;
	}
	return true;
}

static bool is_domain_component(const char *s, size_t n)
{
	if (memchr(s, '.', n) || memchr(s, ':', n))
		return true;
	return n == 9 && !strncmp(s, "localhost", 9);
}

static bool all_lower_hex64(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 64;
}

static int refuse(const char *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int refuse(const char *s, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return herr_set(EINVAL, "reference \"%.300s\": %s", s, what);
}

static int check_digest(const char *s, const char *d)
{
	if (img_digest_valid(d))
		return 0;
	const char *colon = strchr(d, ':');
	if (colon && colon != d) {
		/* Well-formed per the grammar but an algorithm we cannot verify. */
		bool alg_ok = true;
		for (const char *q = d; q < colon; q++)
			if (!is_alnum(*q) && !strchr("+._-", *q))
				alg_ok = false;
		if (alg_ok && strncmp(d, "sha256:", 7) && strncmp(d, "sha512:", 7))
			return refuse(s, "unsupported digest algorithm \"%.*s\"", (int)(colon - d),
				      d);
	}
	return refuse(s, "invalid digest \"%.200s\" (want sha256: and 64 lower-case hex digits)",
		      d);
}

static int check_path(const char *s, const char *path)
{
	for (const char *q = path; *q; q++)
		if (*q >= 'A' && *q <= 'Z')
			return refuse(s, "repository name \"%.300s\" must be lowercase", path);
	const char *p = path;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 0)
			return refuse(s, "empty component in repository name \"%.300s\"", path);
		if (!valid_path_component(p, n))
			return refuse(s,
				      "invalid repository name component \"%.*s\" (lower-case "
				      "letters and digits, separated by '.', '_', '__' or '-')",
				      (int)(n > 200 ? 200 : n), p);
		if (!slash)
			return 0;
		p = slash + 1;
	}
}

int img_ref_parse(const char *s, struct img_ref *out)
{
	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return herr_set(EINVAL, "reference \"\": empty");
	if (all_lower_hex64(s))
		return refuse(s, "a 64-digit hex string is an image ID, not a repository name");

	_cleanup_free_ char *name = strdup(s);
	if (!name)
		return herr_set(ENOMEM, "out of memory");
	char *digest = NULL, *tag = NULL;
	char *at = strchr(name, '@');
	if (at) {
		*at = 0;
		digest = at + 1;
		int r = check_digest(s, digest);
		if (r < 0)
			return r;
	}
	char *colon = strrchr(name, ':'), *slash = strrchr(name, '/');
	if (colon && (!slash || colon > slash)) {
		*colon = 0;
		tag = colon + 1;
		if (!valid_tag(tag))
			return refuse(s,
				      "invalid tag \"%.200s\" (up to 128 letters, digits, '_', '.' "
				      "and '-', not starting with '.' or '-')",
				      tag);
	}
	if (!*name)
		return refuse(s, "no repository name");

	const char *domain = DEFAULT_DOMAIN, *rest = name;
	char *first_slash = strchr(name, '/');
	if (first_slash && is_domain_component(name, (size_t)(first_slash - name))) {
		*first_slash = 0;
		domain = name;
		rest = first_slash + 1;
		if (!valid_domain(domain))
			return refuse(s, "invalid registry host \"%.200s\"", domain);
		if (!strcmp(domain, LEGACY_DOMAIN))
			domain = DEFAULT_DOMAIN;
	}
	if (!*rest)
		return refuse(s, "no repository name after the registry host");
	int r = check_path(s, rest);
	if (r < 0)
		return r;

	bool official = !strcmp(domain, DEFAULT_DOMAIN) && !strchr(rest, '/');
	char *path = NULL;
	if (asprintf(&path, "%s%s", official ? OFFICIAL_REPO : "", rest) < 0)
		return herr_set(ENOMEM, "out of memory");
	out->path = path;
	if (strlen(domain) + 1 + strlen(path) > NAME_MAX_LEN) {
		img_ref_free(out);
		return refuse(s, "repository name must not be more than %d characters",
			      NAME_MAX_LEN);
	}
	out->domain = strdup(domain);
	out->tag = tag ? strdup(tag) : digest ? NULL : strdup("latest");
	out->digest = digest ? strdup(digest) : NULL;
	if (!out->domain || (!out->tag && !digest) || (digest && !out->digest)) {
		img_ref_free(out);
		return herr_set(ENOMEM, "out of memory");
	}
	return 0;
}

static char *join(const char *domain, const char *path, const char *tag, const char *digest)
{
	char *s = NULL;
	if (asprintf(&s, "%s%s%s%s%s%s%s", domain ? domain : "", domain ? "/" : "", path,
		     tag ? ":" : "", tag ? tag : "", digest ? "@" : "", digest ? digest : "") < 0)
		return NULL;
	return s;
}

char *img_ref_string(const struct img_ref *r)
{
	return join(r->domain, r->path, r->tag, r->digest);
}

char *img_ref_repo(const struct img_ref *r)
{
	return join(r->domain, r->path, NULL, NULL);
}

char *img_ref_familiar(const struct img_ref *r)
{
	if (strcmp(r->domain, DEFAULT_DOMAIN))
		return img_ref_string(r);
	const char *path = r->path;
	size_t ol = strlen(OFFICIAL_REPO);
	if (!strncmp(path, OFFICIAL_REPO, ol) && !strchr(path + ol, '/'))
		path += ol;
	return join(NULL, path, r->tag, r->digest);
}

void img_ref_free(struct img_ref *r)
{
	if (!r)
		return;
	free(r->domain);
	free(r->path);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}
