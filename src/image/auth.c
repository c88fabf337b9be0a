/* Registry credentials in auth files, and the WWW-Authenticate challenge. */
#include "image/registry-int.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#define AUTH_FILE_MAX (1u << 20)

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *reg_base64_encode(const void *data, size_t n)
{
	const unsigned char *p = data;
	char *out = malloc((n + 2) / 3 * 4 + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*o++ = b64[(v >> 18) & 63];
		*o++ = b64[(v >> 12) & 63];
		*o++ = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? b64[v & 63] : '=';
	}
	*o = 0;
	return out;
}

int reg_base64_decode(const char *s, char **out, size_t *n)
{
	size_t len = strlen(s);
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
		len--;
	if (len % 4)
		return -EINVAL;
	char *buf = malloc(len / 4 * 3 + 1);
	if (!buf)
		return -ENOMEM;
	size_t o = 0;
	for (size_t i = 0; i < len; i += 4) {
		unsigned v = 0;
		int pad = 0;
		for (int j = 0; j < 4; j++) {
			char c = s[i + j];
			const char *q = c ? strchr(b64, c) : NULL;
			if (c == '=' && i + 4 == len && j >= 2) {
				pad++;
				v <<= 6;
				continue;
			}
			if (!q || pad) {
				free(buf);
				return -EINVAL;
			}
			v = v << 6 | (unsigned)(q - b64);
		}
		buf[o++] = (char)(v >> 16);
		if (pad < 2)
			buf[o++] = (char)(v >> 8);
		if (pad < 1)
			buf[o++] = (char)v;
	}
	buf[o] = 0;
	*out = buf;
	*n = o;
	return 0;
}

void reg_challenge_clear(struct reg_challenge *c)
{
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static size_t token_len(const char *p)
{
	size_t n = 0;
	while (p[n] && !strchr(" \t,=\"", p[n]))
		n++;
	return n;
}

int reg_challenge_parse(const char *value, struct reg_challenge *out)
{
	memset(out, 0, sizeof(*out));
	const char *p = skip_ws(value);
	size_t n = token_len(p);
	if (!n)
		return -EINVAL;
	out->scheme = strndup(p, n);
	p += n;
	for (;;) {
		p = skip_ws(p);
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		size_t kl = token_len(p);
		const char *key = p, *q = skip_ws(p + kl);
		if (!kl || *q != '=')
			break; /* the next challenge starts here */
		q = skip_ws(q + 1);
		char *val;
		if (*q == '"') {
			val = malloc(strlen(q));
			if (!val)
				break;
			size_t o = 0;
			for (q++; *q && *q != '"'; q++) {
				if (*q == '\\' && q[1])
					q++;
				val[o++] = *q;
			}
			val[o] = 0;
			if (*q == '"')
				q++;
		} else {
			size_t vl = token_len(q);
			val = strndup(q, vl);
			q += vl;
		}
		char **slot = NULL;
		if (kl == 5 && !strncasecmp(key, "realm", 5))
			slot = &out->realm;
		else if (kl == 7 && !strncasecmp(key, "service", 7))
			slot = &out->service;
		else if (kl == 5 && !strncasecmp(key, "scope", 5))
			slot = &out->scope;
		if (slot && !*slot)
			*slot = val;
		else
			free(val);
		p = q;
	}
	if (!out->scheme) {
		reg_challenge_clear(out);
		return -EINVAL;
	}
	return 0;
}

static char *home_path(const char *rel)
{
	const char *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : "/root";
	}
	char *s = NULL;
	return asprintf(&s, "%s/%s", home, rel) < 0 ? NULL : s;
}

static char *xdg_auth_path(void)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (!xdg || !*xdg)
		return NULL;
	char *s = NULL;
	return asprintf(&s, "%s/containers/auth.json", xdg) < 0 ? NULL : s;
}

char *reg_auth_default_file(void)
{
	const char *env = getenv("REGISTRY_AUTH_FILE");
	if (env && *env)
		return strdup(env);
	char *x = xdg_auth_path();
	return x ? x : home_path(".docker/config.json");
}

static bool is_docker_hub(const char *h, size_t n)
{
	static const char *const names[] = {"docker.io", "index.docker.io", "registry-1.docker.io"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == n && !strncmp(h, names[i], n))
			return true;
	return false;
}

/* "https://index.docker.io/v1/" and "127.0.0.1:5000" name the same kinds of thing. */
static bool key_matches(const char *key, const char *domain, bool exact)
{
	if (exact)
		return !strcmp(key, domain);
	if (!strncmp(key, "https://", 8))
		key += 8;
	else if (!strncmp(key, "http://", 7))
		key += 7;
	size_t hl = strcspn(key, "/");
	const char *rest = key + hl;
	if (*rest && strcmp(rest, "/") && strcmp(rest, "/v1/") && strcmp(rest, "/v1") &&
	    strcmp(rest, "/v2/") && strcmp(rest, "/v2"))
		return false; /* a per-repository entry: not for the whole registry */
	if (strlen(domain) == hl && !strncmp(key, domain, hl))
		return true;
	return is_docker_hub(domain, strlen(domain)) && is_docker_hub(key, hl);
}

static int load_json(const char *path, struct json_object **out)
{
	*out = NULL;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = fs_read_file(path, AUTH_FILE_MAX, &buf, &len);
	if (r == -ENOENT) {
		herr_clear();
		return -ENOENT;
	}
	if (r < 0)
		return herr_ctx(r, "auth file");
	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return herr_set(ENOMEM, "out of memory");
	struct json_object *o = len <= INT32_MAX ? json_tokener_parse_ex(tok, buf, (int)len) : NULL;
	enum json_tokener_error je = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	const char *problem = NULL;
	if (je == json_tokener_continue || (!o && je == json_tokener_success))
		problem = "it ends too soon";
	else if (je != json_tokener_success)
		problem = json_tokener_error_desc(je);
	else if (!json_object_is_type(o, json_type_object))
		problem = "not an object";
	else if (buf[end + strspn(buf + end, " \t\r\n")])
		problem = "more data after the object";
	if (problem) {
		json_object_put(o);
		return herr_set(EINVAL, "auth file %s: not valid JSON: %s", path, problem);
	}
	*out = o;
	return 0;
}

static int entry_credentials(const char *path, const char *key, struct json_object *e, char **user,
			     char **pass)
{
	struct json_object *a = NULL;
	if (!json_object_is_type(e, json_type_object) ||
	    !json_object_object_get_ex(e, "auth", &a) ||
	    !json_object_is_type(a, json_type_string) || !json_object_get_string_len(a))
		return -ENOENT; /* e.g. only an identitytoken, or a credential helper's entry */
	_cleanup_free_ char *plain = NULL;
	size_t n = 0;
	char *colon;
	if (reg_base64_decode(json_object_get_string(a), &plain, &n) < 0 || strlen(plain) != n ||
	    !(colon = strchr(plain, ':')))
		return herr_set(EINVAL,
				"auth file %s: auths.\"%s\".auth is not base64 of user:password",
				path, key);
	*colon = 0;
	*user = strdup(plain);
	*pass = strdup(colon + 1);
	if (!*user || !*pass) {
		free(*user);
		free(*pass);
		*user = *pass = NULL;
		return herr_set(ENOMEM, "out of memory");
	}
	return 0;
}

static int lookup_in(const char *path, const char *domain, char **user, char **pass)
{
	struct json_object *root = NULL, *auths = NULL;
	int r = load_json(path, &root);
	if (r < 0)
		return r;
	r = -ENOENT;
	if (json_object_object_get_ex(root, "auths", &auths) &&
	    json_object_is_type(auths, json_type_object)) {
		for (int exact = 1; exact >= 0 && r == -ENOENT; exact--) {
			json_object_object_foreach(auths, key, val)
			{
				if (!key_matches(key, domain, exact))
					continue;
				r = entry_credentials(path, key, val, user, pass);
				if (r != -ENOENT)
					break;
			}
		}
	}
	json_object_put(root);
	return r;
}

int reg_auth_lookup(const char *auth_file, const char *domain, char **user, char **pass)
{
	*user = *pass = NULL;
	if (auth_file)
		return lookup_in(auth_file, domain, user, pass);
	char *files[3] = {NULL, xdg_auth_path(), home_path(".docker/config.json")};
	const char *env = getenv("REGISTRY_AUTH_FILE");
	if (env && *env)
		files[0] = strdup(env);
	int r = -ENOENT;
	for (size_t i = 0; i < ARRAY_SIZE(files) && r == -ENOENT; i++)
		if (files[i])
			r = lookup_in(files[i], domain, user, pass);
	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		free(files[i]);
	return r;
}

static int mkdir_parents(const char *path)
{
	_cleanup_free_ char *d = strdup(path);
	if (!d)
		return herr_set(ENOMEM, "out of memory");
	for (char *p = d + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(d, 0700) < 0 && errno != EEXIST)
			return herr_sys("mkdir %s", d);
		*p = '/';
	}
	return 0;
}

/* temp file in the same directory, mode 0600, fsync, rename: never a half-written file. */
static int write_atomic(const char *path, struct json_object *root)
{
	int r = mkdir_parents(path);
	if (r < 0)
		return r;
	const char *text =
	    json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
	_cleanup_free_ char *tmp = NULL;
	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return herr_set(ENOMEM, "out of memory");
	_cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return herr_sys("create %s", tmp);
	size_t len = strlen(text), off = 0;
	r = 0;
	if (fchmod(fd, 0600) < 0)
		r = herr_sys("chmod %s", tmp);
	while (r == 0 && off <= len) {
		const char *p = off < len ? text + off : "\n";
		size_t n = off < len ? len - off : 1;
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			r = herr_sys("write %s", tmp);
		else
			off += (size_t)w;
	}
	if (r == 0 && fsync(fd) < 0)
		r = herr_sys("fsync %s", tmp);
	if (r == 0 && rename(tmp, path) < 0)
		r = herr_sys("rename %s to %s", tmp, path);
	if (r < 0)
		unlink(tmp);
	return r;
}

int registry_save_credentials(const char *path, const char *domain, const char *user,
			      const char *pass)
{
	_cleanup_free_ char *def = path ? NULL : reg_auth_default_file();
	if (!path && !(path = def))
		return herr_set(ENOMEM, "out of memory");
	if (!domain || !*domain || !user || strchr(user, ':') || !pass)
		return herr_set(EINVAL, "credentials for %s: the user name must not contain ':'",
				domain ? domain : "(null)");
	struct json_object *root = NULL, *auths = NULL;
	int r = load_json(path, &root);
	if (r == -ENOENT)
		root = json_object_new_object();
	else if (r < 0)
		return r;
	if (!json_object_object_get_ex(root, "auths", &auths) ||
	    !json_object_is_type(auths, json_type_object)) {
		auths = json_object_new_object();
		json_object_object_add(root, "auths", auths);
	}
	_cleanup_free_ char *plain = NULL;
	_cleanup_free_ char *enc = NULL;
	if (asprintf(&plain, "%s:%s", user, pass) < 0 ||
	    !(enc = reg_base64_encode(plain, strlen(plain)))) {
		json_object_put(root);
		return herr_set(ENOMEM, "out of memory");
	}
	struct json_object *entry = json_object_new_object();
	json_object_object_add(entry, "auth", json_object_new_string(enc));
	json_object_object_add(auths, domain, entry);
	r = write_atomic(path, root);
	json_object_put(root);
	return r;
}

int registry_remove_credentials(const char *path, const char *domain)
{
	_cleanup_free_ char *def = path ? NULL : reg_auth_default_file();
	if (!path && !(path = def))
		return herr_set(ENOMEM, "out of memory");
	struct json_object *root = NULL, *auths = NULL;
	int r = load_json(path, &root);
	if (r == -ENOENT)
		return herr_set(ENOENT, "not logged in to %s (no auth file %s)", domain, path);
	if (r < 0)
		return r;
	size_t removed = 0;
	if (json_object_object_get_ex(root, "auths", &auths) &&
	    json_object_is_type(auths, json_type_object)) {
		/* Collect first: deleting while iterating would break the walk. */
		size_t nk = (size_t)json_object_object_length(auths), k = 0;
		_cleanup_free_ char **keys = calloc(nk + 1, sizeof(char *));
		if (!keys) {
			json_object_put(root);
			return herr_set(ENOMEM, "out of memory");
		}
		json_object_object_foreach(auths, key, val)
		{
			(void)val;
			if (key_matches(key, domain, true) || key_matches(key, domain, false))
				keys[k++] = strdup(key);
		}
		for (size_t i = 0; i < k; i++) {
			if (keys[i])
				json_object_object_del(auths, keys[i]);
			free(keys[i]);
		}
		removed = k;
	}
	if (!removed) {
		json_object_put(root);
		return herr_set(ENOENT, "not logged in to %s (no entry in %s)", domain, path);
	}
	r = write_atomic(path, root);
	json_object_put(root);
	return r;
}
