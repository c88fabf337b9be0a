/* `deck import`: a root filesystem tarball as a one-layer image. */
#include "image/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/jsondesc.h"
#include "common/strv.h"
#include "image/manifest.h"
#include "image/reference.h"

#define BUF_SIZE (1u << 16)

/* ---- --change ---- */

/* Words separated by blanks; "..." and '...' quote, a backslash escapes. */
static int split_words(const char *s, char ***out)
{
	*out = NULL;
	size_t cap = strlen(s) + 1;
	_cleanup_free_ char *w = malloc(cap);
	if (!w)
		return -ENOMEM;
	const char *p = s;
	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			return 0;
		size_t n = 0;
		char q = 0;
		while (*p && (q || !isspace((unsigned char)*p))) {
			if (q && *p == q) {
				q = 0;
			} else if (!q && (*p == '"' || *p == '\'')) {
				q = *p;
			} else if (*p == '\\' && p[1] && q != '\'') {
				w[n++] = *++p;
			} else {
				w[n++] = *p;
			}
			p++;
		}
		if (q)
			return -EINVAL;
		w[n] = 0;
		if (strv_push(out, w) < 0)
			return -ENOMEM;
	}
}

static struct json_object *str_array(char *const *v)
{
	struct json_object *a = json_object_new_array();
	for (; v && *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

/* A JSON array of strings ("exec form"), or NULL when rest is not one. */
static struct json_object *exec_form(const char *rest)
{
	struct json_object *o;
	if (rest[0] != '[' || img_json_parse(rest, strlen(rest), "change", &o) < 0)
		return NULL;
	if (!json_object_is_type(o, json_type_array))
		goto bad;
	for (size_t i = 0; i < json_object_array_length(o); i++)
		if (!json_object_is_type(json_object_array_get_idx(o, i), json_type_string))
			goto bad;
	return o;
bad:
	json_object_put(o);
	return NULL;
}

static struct json_object *sub_object(struct json_object *cfg, const char *key)
{
	struct json_object *v;
	if (json_object_object_get_ex(cfg, key, &v) && json_object_is_type(v, json_type_object))
		return v;
	v = json_object_new_object();
	json_object_object_add(cfg, key, v);
	return v;
}

/* "K=V" into Env, replacing K. */
static void env_set(struct json_object *cfg, const char *k, size_t kl, const char *v)
{
	struct json_object *env;
	if (!json_object_object_get_ex(cfg, "Env", &env) ||
	    !json_object_is_type(env, json_type_array)) {
		env = json_object_new_array();
		json_object_object_add(cfg, "Env", env);
	}
	char *kv;
	if (asprintf(&kv, "%.*s=%s", (int)kl, k, v) < 0)
		return;
	for (size_t i = 0; i < json_object_array_length(env); i++) {
		const char *e = json_object_get_string(json_object_array_get_idx(env, i));
		if (e && !strncmp(e, k, kl) && e[kl] == '=') {
			json_object_array_put_idx(env, i, json_object_new_string(kv));
			free(kv);
			return;
		}
	}
	json_object_array_add(env, json_object_new_string(kv));
	free(kv);
}

/* ENV and LABEL: "K=V K2=V2", or the old "K V..." form. */
static int pairs(struct json_object *cfg, bool env, const char *rest, const char *change)
{
	_cleanup_strv_ char **w = NULL;
	if (split_words(rest, &w) < 0 || !w)
		return herr_set(EINVAL, "change %s: expected KEY=VALUE", JD_Q(change));
	struct json_object *labels = env ? NULL : sub_object(cfg, "Labels");
	if (!strchr(w[0], '=')) {
		/* Old form: the rest of the line after the key is the value. */
		const char *v = rest + strspn(rest, " \t");
		v += strcspn(v, " \t");
		v += strspn(v, " \t");
		if (!*v)
			return herr_set(EINVAL, "change %s: expected KEY=VALUE", JD_Q(change));
		if (env)
			env_set(cfg, w[0], strlen(w[0]), v);
		else
			json_object_object_add(labels, w[0], json_object_new_string(v));
		return 0;
	}
	for (size_t i = 0; w[i]; i++) {
		char *eq = strchr(w[i], '=');
		if (!eq || eq == w[i])
			return herr_set(EINVAL, "change %s: %s: expected KEY=VALUE", JD_Q(change),
					JD_Q(w[i]));
		if (env) {
			env_set(cfg, w[i], (size_t)(eq - w[i]), eq + 1);
		} else {
			*eq = 0;
			json_object_object_add(labels, w[i], json_object_new_string(eq + 1));
		}
	}
	return 0;
}

static int expose(struct json_object *cfg, const char *rest, const char *change)
{
	_cleanup_strv_ char **w = NULL;
	if (split_words(rest, &w) < 0 || !w)
		return herr_set(EINVAL, "change %s: expected PORT[/PROTOCOL]", JD_Q(change));
	struct json_object *ports = sub_object(cfg, "ExposedPorts");
	for (size_t i = 0; w[i]; i++) {
		char *proto = strchr(w[i], '/'), *end;
		if (proto)
			*proto++ = 0;
		unsigned long lo = strtoul(w[i], &end, 10), hi = lo;
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		if (!isdigit((unsigned char)w[i][0]) || *end || lo == 0 || hi > 65535 || hi < lo ||
		    (proto && strcasecmp(proto, "tcp") && strcasecmp(proto, "udp") &&
		     strcasecmp(proto, "sctp")))
			return herr_set(EINVAL, "change %s: %s: not a port", JD_Q(change),
					JD_Q(w[i]));
		for (unsigned long p = lo; p <= hi; p++) {
			char key[32];
			snprintf(key, sizeof(key), "%lu/%s", p, proto ? proto : "tcp");
			for (char *c = key; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			json_object_object_add(ports, key, json_object_new_object());
		}
	}
	return 0;
}

int img_config_apply_change(struct json_object *cfg, const char *change)
{
	const char *p = change + strspn(change, " \t");
	size_t kl = strcspn(p, " \t");
	char kw[16] = "";
	if (kl < sizeof(kw)) {
		memcpy(kw, p, kl);
		kw[kl] = 0;
	}
	const char *rest = p + kl + strspn(p + kl, " \t");
	_cleanup_free_ char *r = strdup(rest);
	if (!r)
		return herr_set(ENOMEM, "out of memory");
	for (size_t n = strlen(r); n && isspace((unsigned char)r[n - 1]);)
		r[--n] = 0;
	if (!strcasecmp(kw, "CMD") || !strcasecmp(kw, "ENTRYPOINT")) {
		struct json_object *v = exec_form(r);
		if (!v && *r == '[')
			return herr_set(EINVAL, "change %s: not a JSON array of strings",
					JD_Q(change));
		if (!v) {
			char *sh[] = {"/bin/sh", "-c", r, NULL};
			v = str_array(*r ? sh : NULL);
		}
		json_object_object_add(cfg, !strcasecmp(kw, "CMD") ? "Cmd" : "Entrypoint", v);
		return 0;
	}
	if (!strcasecmp(kw, "ENV") || !strcasecmp(kw, "LABEL"))
		return pairs(cfg, !strcasecmp(kw, "ENV"), r, change);
	if (!strcasecmp(kw, "EXPOSE"))
		return expose(cfg, r, change);
	if (!strcasecmp(kw, "VOLUME")) {
		struct json_object *v = exec_form(r), *vols = sub_object(cfg, "Volumes");
		_cleanup_strv_ char **w = NULL;
		if (!v && (split_words(r, &w) < 0 || !w))
			return herr_set(EINVAL, "change %s: expected a path", JD_Q(change));
		size_t n = v ? json_object_array_length(v) : strv_len(w);
		for (size_t i = 0; i < n; i++)
			json_object_object_add(
			    vols,
			    v ? json_object_get_string(json_object_array_get_idx(v, i)) : w[i],
			    json_object_new_object());
		json_object_put(v);
		return 0;
	}
	static const char *const scalar[][2] = {
	    {"WORKDIR", "WorkingDir"}, {"USER", "User"}, {"STOPSIGNAL", "StopSignal"}};
	for (size_t i = 0; i < ARRAY_SIZE(scalar); i++) {
		if (strcasecmp(kw, scalar[i][0]))
			continue;
		if (!*r)
			return herr_set(EINVAL, "change %s: %s needs a value", JD_Q(change),
					scalar[i][0]);
		json_object_object_add(cfg, scalar[i][1], json_object_new_string(r));
		return 0;
	}
	return herr_set(EINVAL,
			"change %s: unknown instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, "
			"STOPSIGNAL, USER, VOLUME, WORKDIR)",
			JD_Q(change));
}

/* ---- import ---- */

/* Whether the first 512 bytes are a tar header (checksum right) or the
 * zero block that ends an empty archive. */
static bool tar_header_ok(const unsigned char *b)
{
	unsigned long sum = 0, want = 0;
	bool zero = true;
	for (int i = 0; i < 512; i++) {
		zero = zero && !b[i];
		sum += i >= 148 && i < 156 ? ' ' : b[i];
	}
	if (zero)
		return true;
	int i = 148;
	while (i < 156 && b[i] == ' ')
		i++;
	if (i == 156 || b[i] < '0' || b[i] > '7')
		return false;
	for (; i < 156 && b[i] >= '0' && b[i] <= '7'; i++)
		want = want * 8 + (unsigned long)(b[i] - '0');
	return sum == want;
}

/* The layer: fd decompressed into the store, checked to be a tar. */
static int store_layer(struct img_store *st, int fd, const char *what, struct img_ingest *w)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	_cleanup_free_ unsigned char *buf = NULL;
	if (!a)
		return herr_set(ENOMEM, "out of memory");
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	int r = 0;
	if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		r = herr_set(EINVAL, "%s: %s", what,
			     archive_error_string(a) ? archive_error_string(a) : "empty input");
		goto out;
	}
	if ((r = img_ingest_begin(st, NULL, 0, w)) < 0)
		goto out;
	buf = malloc(BUF_SIZE);
	if (!buf) {
		r = herr_set(ENOMEM, "out of memory");
		img_ingest_abort(st, w, false);
		goto out;
	}

	unsigned char head[512];
	size_t got = 0;
	for (;;) {
		la_ssize_t n = archive_read_data(a, buf, BUF_SIZE);
		if (n < 0) {
			r = herr_set(EINVAL, "%s: %s", what, archive_error_string(a));
			break;
		}
		if (n == 0)
			break;
		if (got < sizeof(head)) {
			size_t k = (size_t)n < sizeof(head) - got ? (size_t)n : sizeof(head) - got;
			memcpy(head + got, buf, k);
			got += k;
		}
		for (la_ssize_t off = 0; off < n && r == 0;) {
			ssize_t k = write(w->fd, buf + off, (size_t)(n - off));
			if (k < 0 && errno != EINTR)
				r = herr_sys("%s: write to the image store", what);
			off += k > 0 ? k : 0;
		}
		if (r < 0)
			break;
	}
	if (r == 0 && (got < sizeof(head) || !tar_header_ok(head)))
		r = herr_set(EINVAL, "%s: not a tar archive", what);
	if (r == 0 && (r = img_ingest_commit(st, w)) < 0)
		herr_ctx(r, "%s", what);
	else if (r < 0)
		img_ingest_abort(st, w, false);
out:
	archive_read_free(a);
	return r;
}

static int put_json(struct img_store *st, struct json_object *o, char digest[IMG_DIGEST_MAX],
		    size_t *len)
{
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!t)
		return herr_set(ENOMEM, "out of memory");
	*len = strlen(t);
	return img_store_put_blob(st, t, *len, digest);
}

static struct json_object *desc(const char *mt, const char *digest, uint64_t size)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "mediaType", json_object_new_string(mt));
	json_object_object_add(d, "digest", json_object_new_string(digest));
	json_object_object_add(d, "size", json_object_new_uint64(size));
	return d;
}

int img_archive_import(struct img_store *st, int fd, const char *what,
		       const struct img_import_opts *o, struct img_record *out)
{
	char label[4200];
	snprintf(label, sizeof(label), "import %s", what ? what : "(stdin)");
	memset(out, 0, sizeof(*out));
	struct img_platform pl;
	_cleanup_free_ char *name = NULL;
	int r = img_platform_parse(o ? o->platform : NULL, &pl);
	if (r < 0)
		return r;
	if (o && o->name) {
		struct img_ref ref;
		if ((r = img_ref_parse(o->name, &ref)) < 0) {
			img_platform_clear(&pl);
			return r;
		}
		name = img_ref_string(&ref);
		img_ref_free(&ref);
	}
	char now[64];
	img_time_now(now, sizeof(now));
	struct json_object *cfg = json_object_new_object(), *c = json_object_new_object();
	json_object_object_add(cfg, "created", json_object_new_string(now));
	json_object_object_add(cfg, "architecture", json_object_new_string(pl.architecture));
	json_object_object_add(cfg, "os", json_object_new_string(pl.os));
	if (pl.variant)
		json_object_object_add(cfg, "variant", json_object_new_string(pl.variant));
	json_object_object_add(cfg, "config", c);
	img_platform_clear(&pl);
	for (size_t i = 0; o && o->changes && o->changes[i] && r == 0; i++)
		r = img_config_apply_change(c, o->changes[i]);
	struct img_ingest w = {.fd = -1};
	if (r == 0)
		r = store_layer(st, fd, label, &w);
	char cdigest[IMG_DIGEST_MAX], mdigest[IMG_DIGEST_MAX];
	size_t clen = 0, mlen = 0;
	struct json_object *man = NULL;
	if (r == 0) {
		struct json_object *rootfs = json_object_new_object(),
				   *ids = json_object_new_array();
		json_object_array_add(ids, json_object_new_string(w.digest));
		json_object_object_add(rootfs, "type", json_object_new_string("layers"));
		json_object_object_add(rootfs, "diff_ids", ids);
		json_object_object_add(cfg, "rootfs", rootfs);
		struct json_object *hist = json_object_new_array(), *h = json_object_new_object();
		json_object_object_add(h, "created", json_object_new_string(now));
		json_object_object_add(h, "created_by", json_object_new_string("deck import"));
		if (o && o->message)
			json_object_object_add(h, "comment", json_object_new_string(o->message));
		json_object_array_add(hist, h);
		json_object_object_add(cfg, "history", hist);
		r = put_json(st, cfg, cdigest, &clen);
	}
	if (r == 0) {
		man = json_object_new_object();
		struct json_object *layers = json_object_new_array();
		json_object_object_add(man, "schemaVersion", json_object_new_int(2));
		json_object_object_add(man, "mediaType",
				       json_object_new_string(IMG_MT_OCI_MANIFEST));
		json_object_object_add(man, "config", desc(IMG_MT_OCI_CONFIG, cdigest, clen));
		json_object_array_add(layers, desc(IMG_MT_OCI_LAYER, w.digest, w.size));
		json_object_object_add(man, "layers", layers);
		r = put_json(st, man, mdigest, &mlen);
	}
	json_object_put(cfg);
	json_object_put(man);
	if (r < 0)
		return r;
	int64_t created = 0;
	img_time_parse(now, &created);
	struct img_record rec = {.name = name,
				 .manifest_digest = mdigest,
				 .config_digest = cdigest,
				 .created = created,
				 .size = w.size};
	if ((r = img_store_set(st, &rec)) < 0)
		return r;
	out->name = take_ptr(name);
	out->manifest_digest = strdup(mdigest);
	out->config_digest = strdup(cdigest);
	out->created = created;
	out->size = w.size;
	if (!out->manifest_digest || !out->config_digest) {
		img_record_clear(out);
		return herr_set(ENOMEM, "out of memory");
	}
	return 0;
}
