/* Image manifests, indexes, platforms and image configs. */
#include "image/manifest.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/jsondesc.h"

#define JSON_MAX_DEPTH 64

static bool str_in(const char *s, const char *const *set)
{
	if (!s)
		return false;
	for (; *set; set++)
		if (!strcmp(s, *set))
			return true;
	return false;
}

bool img_mt_is_manifest(const char *mt)
{
	static const char *const set[] = {IMG_MT_OCI_MANIFEST, IMG_MT_DOCKER_MANIFEST, NULL};
	return str_in(mt, set);
}

bool img_mt_is_index(const char *mt)
{
	static const char *const set[] = {IMG_MT_OCI_INDEX, IMG_MT_DOCKER_LIST, NULL};
	return str_in(mt, set);
}

bool img_mt_is_config(const char *mt)
{
	static const char *const set[] = {IMG_MT_OCI_CONFIG, IMG_MT_DOCKER_CONFIG, NULL};
	return str_in(mt, set);
}

enum img_compression img_mt_layer_compression(const char *mt)
{
	static const char *const none[] = {IMG_MT_OCI_LAYER, IMG_MT_OCI_LAYER_ND,
					   IMG_MT_DOCKER_LAYER, NULL};
	static const char *const gzip[] = {IMG_MT_OCI_LAYER_GZIP, IMG_MT_OCI_LAYER_ND_GZIP,
					   IMG_MT_DOCKER_LAYER_GZIP, IMG_MT_DOCKER_FOREIGN, NULL};
	static const char *const zstd[] = {IMG_MT_OCI_LAYER_ZSTD, IMG_MT_OCI_LAYER_ND_ZSTD, NULL};
	if (str_in(mt, none))
		return IMG_COMP_NONE;
	if (str_in(mt, gzip))
		return IMG_COMP_GZIP;
	if (str_in(mt, zstd))
		return IMG_COMP_ZSTD;
	return IMG_COMP_UNKNOWN;
}

int img_json_parse(const char *buf, size_t len, const char *what, struct json_object **out)
{
	*out = NULL;
	char start[40];
	size_t sl = len < sizeof(start) - 1 ? len : sizeof(start) - 1;
	memcpy(start, buf, sl);
	start[sl] = 0;
	if (len > INT32_MAX || memchr(buf, 0, len))
		return herr_set(EINVAL, "%s: not JSON: %s", what, JD_Q(start));
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	if (!tok)
		return herr_set(ENOMEM, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	struct json_object *o = json_tokener_parse_ex(tok, buf, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	bool trailing = false;
	for (size_t i = end; o && i < len; i++)
		if (!isspace((unsigned char)buf[i]))
			trailing = true;
	if (!o || jerr != json_tokener_success || trailing) {
		json_object_put(o);
		return herr_set(EINVAL, "%s: not JSON: %s", what, JD_Q(start));
	}
	*out = o;
	return 0;
}

/* ---- platforms ---- */

static char *lower_dup(const char *s)
{
	char *d = strdup(s);
	for (char *p = d; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

void img_platform_clear(struct img_platform *p)
{
	free(p->os);
	free(p->architecture);
	free(p->variant);
	p->os = p->architecture = p->variant = NULL;
}

/* containerd's normalisation, except that arm64's implicit variant is spelled "v8". */
static int platform_set(struct img_platform *p, const char *os, const char *arch,
			const char *variant)
{
	_cleanup_free_ char *a = lower_dup(arch);
	_cleanup_free_ char *v = variant && *variant ? lower_dup(variant) : NULL;
	const char *na = a, *nv = v;
	if (!a || (variant && *variant && !v))
		return herr_set(ENOMEM, "out of memory");
	if (!strcmp(a, "i386") || !strcmp(a, "i686")) {
		na = "386";
		nv = NULL;
	} else if (!strcmp(a, "x86_64") || !strcmp(a, "x86-64") || !strcmp(a, "amd64")) {
		na = "amd64";
		if (nv && !strcmp(nv, "v1"))
			nv = NULL;
	} else if (!strcmp(a, "aarch64") || !strcmp(a, "arm64")) {
		na = "arm64";
		if (!nv || !strcmp(nv, "8") || !strcmp(nv, "v8.0"))
			nv = "v8";
		else if (!strcmp(nv, "9") || !strcmp(nv, "9.0") || !strcmp(nv, "v9.0"))
			nv = "v9";
	} else if (!strcmp(a, "armhf")) {
		na = "arm";
		nv = "v7";
	} else if (!strcmp(a, "armel")) {
		na = "arm";
		nv = "v6";
	} else if (!strcmp(a, "arm")) {
		if (!nv || !strcmp(nv, "7"))
			nv = "v7";
		else if (!strcmp(nv, "5") || !strcmp(nv, "6") || !strcmp(nv, "8"))
			nv = !strcmp(nv, "5") ? "v5" : !strcmp(nv, "6") ? "v6" : "v8";
	}
	p->os = lower_dup(os);
	p->architecture = strdup(na);
	p->variant = nv ? strdup(nv) : NULL;
	if (!p->os || !p->architecture || (nv && !p->variant)) {
		img_platform_clear(p);
		return herr_set(ENOMEM, "out of memory");
	}
	return 0;
}

int img_platform_default(struct img_platform *out)
{
	const char *arch = "unknown", *variant = NULL;
#if defined(__x86_64__)
	arch = "amd64";
#elif defined(__aarch64__)
	arch = "arm64";
	variant = "v8";
#elif defined(__arm__)
	arch = "arm";
#if defined(__ARM_ARCH) && __ARM_ARCH >= 7
	variant = "v7";
#elif defined(__ARM_ARCH) && __ARM_ARCH == 6
	variant = "v6";
#else
	variant = "v5";
#endif
#elif defined(__i386__)
	arch = "386";
#elif defined(__s390x__)
	arch = "s390x";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	arch = "ppc64le";
#elif defined(__powerpc64__)
	arch = "ppc64";
#elif defined(__riscv) && __riscv_xlen == 64
	arch = "riscv64";
#elif defined(__loongarch64)
	arch = "loong64";
#elif defined(__mips64) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	arch = "mips64le";
#endif
	return platform_set(out, "linux", arch, variant);
}

static bool part_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

int img_platform_parse(const char *s, struct img_platform *out)
{
	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return img_platform_default(out);
	const char *parts[3] = {NULL, NULL, NULL};
	size_t lens[3] = {0, 0, 0}, n = 0;
	const char *p = s;
	for (;;) {
		const char *slash = strchr(p, '/');
		if (n == 3)
			return herr_set(EINVAL, "platform %s: expected os/arch[/variant]", JD_Q(s));
		parts[n] = p;
		lens[n] = slash ? (size_t)(slash - p) : strlen(p);
		if (!part_ok(parts[n], lens[n]))
			return herr_set(EINVAL, "platform %s: expected os/arch[/variant]", JD_Q(s));
		n++;
		if (!slash)
			break;
		p = slash + 1;
	}
	_cleanup_free_ char *a = strndup(parts[0], lens[0]);
	_cleanup_free_ char *b = n > 1 ? strndup(parts[1], lens[1]) : NULL;
	_cleanup_free_ char *c = n > 2 ? strndup(parts[2], lens[2]) : NULL;
	if (n == 1) {
		/* "arm64" alone is an architecture on this OS, as containerd reads it. */
		_cleanup_free_ char *lo = lower_dup(a);
		if (lo && !strcmp(lo, "linux"))
			return herr_set(EINVAL, "platform %s: no architecture", JD_Q(s));
		return platform_set(out, "linux", a, NULL);
	}
	return platform_set(out, a, b, c);
}

char *img_platform_string(const struct img_platform *p)
{
	char *s = NULL;
	const char *os = p->os ? p->os : "unknown",
		   *arch = p->architecture ? p->architecture : "unknown";
	int r = p->variant && *p->variant ? asprintf(&s, "%s/%s/%s", os, arch, p->variant)
					  : asprintf(&s, "%s/%s", os, arch);
	return r < 0 ? NULL : s;
}

static bool streq0(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

static int variant_num(const char *v)
{
	if (!v || v[0] != 'v' || !isdigit((unsigned char)v[1]))
		return -1;
	char *end;
	long n = strtol(v + 1, &end, 10);
	return *end || n > 100 ? -1 : (int)n;
}

/* Position of (arch, variant) in the preference list of `want` (1-based), or 0. */
static int arch_rank(const char *want_arch, const char *want_var, const char *arch, const char *var)
{
	if (!strcmp(want_arch, arch) && streq0(want_var, var))
		return 1;
	int vn = variant_num(want_var);
	if (!strcmp(want_arch, "amd64")) {
		int have = var ? variant_num(var) : 1;
		if (!strcmp(arch, "amd64") && have >= 1 && vn > 1 && have < vn)
			return 1 + (vn - have);
		if (!strcmp(arch, "386"))
			return 1 + (vn > 1 ? vn : 1);
		return 0;
	}
	if (!strcmp(want_arch, "arm64")) {
		/* arm64 also runs 32-bit arm: arm/v8, then v7, v6, v5. */
		if (vn < 0)
			vn = 8;
		if (!strcmp(arch, "arm")) {
			int have = variant_num(var);
			if (have >= 5 && have <= vn)
				return 2 + (vn - have);
		}
		return 0;
	}
	if (!strcmp(want_arch, "arm") && !strcmp(arch, "arm")) {
		int have = variant_num(var);
		if (have >= 5 && vn > have)
			return 1 + (vn - have);
	}
	return 0;
}

int img_platform_rank(const struct img_platform *want, const struct img_platform *have)
{
	if (!want->os || !want->architecture || !have->os || !have->architecture)
		return 0;
	struct img_platform w = {0}, h = {0};
	int rank = 0;
	if (platform_set(&w, want->os, want->architecture, want->variant) == 0 &&
	    platform_set(&h, have->os, have->architecture, have->variant) == 0 &&
	    !strcmp(w.os, h.os))
		rank = arch_rank(w.architecture, w.variant, h.architecture, h.variant);
	img_platform_clear(&w);
	img_platform_clear(&h);
	return rank;
}

/* ---- descriptors ---- */

void img_descriptor_clear(struct img_descriptor *d)
{
	free(d->media_type);
	img_platform_clear(&d->platform);
	json_object_put(d->annotations);
	memset(d, 0, sizeof(*d));
}

const char *img_descriptor_annotation(const struct img_descriptor *d, const char *key)
{
	struct json_object *v;
	if (!d->annotations || !json_object_object_get_ex(d->annotations, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

void img_manifest_clear(struct img_manifest *m)
{
	free(m->media_type);
	img_descriptor_clear(&m->config);
	for (size_t i = 0; i < m->n_layers; i++)
		img_descriptor_clear(&m->layers[i]);
	free(m->layers);
	memset(m, 0, sizeof(*m));
}

void img_index_clear(struct img_index *ix)
{
	free(ix->media_type);
	for (size_t i = 0; i < ix->n_manifests; i++)
		img_descriptor_clear(&ix->manifests[i]);
	free(ix->manifests);
	memset(ix, 0, sizeof(*ix));
}

/* Optional string member: 0 with *out NULL when absent. */
static int get_str(struct json_object *o, const char *key, const char *what, const char *path,
		   const char **out)
{
	struct json_object *v;
	*out = NULL;
	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return herr_set(EINVAL, "%s: %s%s: expected a string, got %s", what, path, key,
				JD_DESCRIBE(v));
	*out = json_object_get_string(v);
	return 0;
}

static int parse_descriptor(struct json_object *o, const char *what, const char *path,
			    bool with_platform, struct img_descriptor *d)
{
	memset(d, 0, sizeof(*d));
	if (!json_object_is_type(o, json_type_object))
		return herr_set(EINVAL, "%s: %s: expected an object, got %s", what, path,
				JD_DESCRIBE(o));
	char p[64];
	snprintf(p, sizeof(p), "%s.", path);
	const char *mt, *dg;
	int r = get_str(o, "mediaType", what, p, &mt);
	if (r < 0)
		return r;
	if ((r = get_str(o, "digest", what, p, &dg)) < 0)
		return r;
	if (!dg)
		return herr_set(EINVAL, "%s: %sdigest: missing", what, p);
	if (!img_digest_valid(dg))
		return herr_set(EINVAL, "%s: %sdigest: not a valid digest: %s", what, p, JD_Q(dg));
	snprintf(d->digest, sizeof(d->digest), "%s", dg);
	struct json_object *v;
	if (!json_object_object_get_ex(o, "size", &v))
		return herr_set(EINVAL, "%s: %ssize: missing", what, p);
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return herr_set(EINVAL, "%s: %ssize: expected a non-negative integer, got %s", what,
				p, JD_DESCRIBE(v));
	d->size = json_object_get_uint64(v);
	if (mt && !(d->media_type = strdup(mt)))
		return herr_set(ENOMEM, "out of memory");
	if (json_object_object_get_ex(o, "annotations", &v) &&
	    json_object_is_type(v, json_type_object))
		d->annotations = json_object_get(v);
	if (!with_platform || !json_object_object_get_ex(o, "platform", &v) ||
	    json_object_is_type(v, json_type_null))
		return 0;
	if (!json_object_is_type(v, json_type_object))
		return herr_set(EINVAL, "%s: %splatform: expected an object, got %s", what, p,
				JD_DESCRIBE(v));
	char pp[80];
	snprintf(pp, sizeof(pp), "%splatform.", p);
	const char *os, *arch, *var;
	if ((r = get_str(v, "os", what, pp, &os)) < 0 ||
	    (r = get_str(v, "architecture", what, pp, &arch)) < 0 ||
	    (r = get_str(v, "variant", what, pp, &var)) < 0)
		return r;
	if (!os || !arch)
		return herr_set(EINVAL, "%s: %s%s: missing", what, pp, os ? "architecture" : "os");
	if ((r = platform_set(&d->platform, os, arch, var)) < 0)
		return r;
	d->has_platform = true;
	return 0;
}

static int doc_open(const char *buf, size_t len, const char *digest, char what[200],
		    struct json_object **out)
{
	snprintf(what, 200, "manifest %s", digest ? digest : "(unknown digest)");
	int r = img_json_parse(buf, len, what, out);
	if (r < 0)
		return r;
	if (!json_object_is_type(*out, json_type_object)) {
		r = herr_set(EINVAL, "%s: expected a JSON object, got %s", what, JD_DESCRIBE(*out));
		json_object_put(*out);
		*out = NULL;
	}
	return r;
}

/* The kind from the document's fields, the given media type, then its shape. */
static int doc_kind(struct json_object *o, const char *what, const char *media_type, int expect,
		    bool *is_index, const char **mt_out)
{
	struct json_object *v;
	const char *mt;
	int r = get_str(o, "mediaType", what, "", &mt);
	if (r < 0)
		return r;
	if (json_object_object_get_ex(o, "schemaVersion", &v)) {
		if (!json_object_is_type(v, json_type_int))
			return herr_set(EINVAL, "%s: schemaVersion: expected 2, got %s", what,
					JD_DESCRIBE(v));
		if (json_object_get_int64(v) == 1)
			return herr_set(ENOTSUP,
					"%s: docker schema 1 manifests are not supported (push the "
					"image again with a current client)",
					what);
		if (json_object_get_int64(v) != 2)
			return herr_set(EINVAL, "%s: schemaVersion: expected 2, got %s", what,
					JD_DESCRIBE(v));
	} else if (!json_object_object_get_ex(o, "manifests", &v)) {
		/* An OCI index may omit it in practice; a manifest never. */
		return herr_set(EINVAL, "%s: schemaVersion: missing", what);
	}
	if (!mt && (img_mt_is_index(media_type) || img_mt_is_manifest(media_type)))
		mt = media_type;
	if (mt && (!strcmp(mt, IMG_MT_DOCKER_SCHEMA1) || !strcmp(mt, IMG_MT_DOCKER_SCHEMA1_SIGNED)))
		return herr_set(ENOTSUP, "%s: docker schema 1 manifests are not supported", what);
	if (mt && img_mt_is_index(mt))
		*is_index = true;
	else if (mt && img_mt_is_manifest(mt))
		*is_index = false;
	else if (mt)
		return herr_set(ENOTSUP,
				"%s: media type %s is neither an image manifest nor an index", what,
				JD_Q(mt));
	else if (json_object_object_get_ex(o, "manifests", &v))
		*is_index = true;
	else if (json_object_object_get_ex(o, "config", &v) &&
		 json_object_object_get_ex(o, "layers", &v))
		*is_index = false;
	else if (expect >= 0)
		*is_index = expect; /* the parser then says what is missing */
	else
		return herr_set(EINVAL, "%s: neither an image manifest nor an index", what);
	if (mt_out)
		*mt_out = mt ? mt : *is_index ? IMG_MT_OCI_INDEX : IMG_MT_OCI_MANIFEST;
	return 0;
}

int img_doc_is_index(const char *buf, size_t len, const char *digest, const char *media_type,
		     bool *is_index)
{
	char what[200];
	struct json_object *o;
	int r = doc_open(buf, len, digest, what, &o);
	if (r < 0)
		return r;
	r = doc_kind(o, what, media_type, -1, is_index, NULL);
	json_object_put(o);
	return r;
}

static int parse_manifest_obj(struct json_object *o, const char *what, const char *media_type,
			      struct img_manifest *out)
{
	bool is_index;
	const char *mt;
	int r = doc_kind(o, what, media_type, 0, &is_index, &mt);
	if (r < 0)
		return r;
	if (is_index)
		return herr_set(EINVAL, "%s: is an index, not an image manifest", what);
	if (!(out->media_type = strdup(mt)))
		return herr_set(ENOMEM, "out of memory");
	struct json_object *v;
	if (!json_object_object_get_ex(o, "config", &v))
		return herr_set(EINVAL, "%s: config: missing", what);
	if ((r = parse_descriptor(v, what, "config", false, &out->config)) < 0)
		return r;
	if (!out->config.media_type)
		return herr_set(EINVAL, "%s: config.mediaType: missing", what);
	v = NULL;
	if (!json_object_object_get_ex(o, "layers", &v) || !json_object_is_type(v, json_type_array))
		return herr_set(EINVAL, "%s: layers: %s", what,
				v ? "expected an array" : "missing");
	size_t n = json_object_array_length(v);
	if (n && !(out->layers = calloc(n, sizeof(*out->layers))))
		return herr_set(ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char path[32];
		snprintf(path, sizeof(path), "layers[%zu]", i);
		r = parse_descriptor(json_object_array_get_idx(v, i), what, path, false,
				     &out->layers[i]);
		out->n_layers = i + 1;
		if (r < 0)
			return r;
		if (!out->layers[i].media_type)
			return herr_set(EINVAL, "%s: %s.mediaType: missing", what, path);
	}
	return 0;
}

int img_manifest_parse(const char *buf, size_t len, const char *digest, const char *media_type,
		       struct img_manifest *out)
{
	memset(out, 0, sizeof(*out));
	char what[200];
	struct json_object *o;
	int r = doc_open(buf, len, digest, what, &o);
	if (r < 0)
		return r;
	r = parse_manifest_obj(o, what, media_type, out);
	json_object_put(o);
	if (r < 0)
		img_manifest_clear(out);
	return r;
}

static int parse_index_obj(struct json_object *o, const char *what, const char *media_type,
			   struct img_index *out)
{
	bool is_index;
	const char *mt;
	int r = doc_kind(o, what, media_type, 1, &is_index, &mt);
	if (r < 0)
		return r;
	if (!is_index)
		return herr_set(EINVAL, "%s: is an image manifest, not an index", what);
	if (!(out->media_type = strdup(mt)))
		return herr_set(ENOMEM, "out of memory");
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(o, "manifests", &v) ||
	    !json_object_is_type(v, json_type_array))
		return herr_set(EINVAL, "%s: manifests: %s", what,
				v ? "expected an array" : "missing");
	size_t n = json_object_array_length(v);
	if (n && !(out->manifests = calloc(n, sizeof(*out->manifests))))
		return herr_set(ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		char path[32];
		snprintf(path, sizeof(path), "manifests[%zu]", i);
		r = parse_descriptor(json_object_array_get_idx(v, i), what, path, true,
				     &out->manifests[i]);
		out->n_manifests = i + 1;
		if (r < 0)
			return r;
	}
	return 0;
}

int img_index_parse(const char *buf, size_t len, const char *digest, const char *media_type,
		    struct img_index *out)
{
	memset(out, 0, sizeof(*out));
	char what[200];
	struct json_object *o;
	int r = doc_open(buf, len, digest, what, &o);
	if (r < 0)
		return r;
	r = parse_index_obj(o, what, media_type, out);
	json_object_put(o);
	if (r < 0)
		img_index_clear(out);
	return r;
}

int img_index_select(const struct img_index *ix, const char *platform, const char *ref,
		     const struct img_descriptor **out)
{
	struct img_platform want;
	int r = img_platform_parse(platform, &want);
	if (r < 0)
		return r;
	const struct img_descriptor *best = NULL;
	int best_rank = 0;
	for (size_t i = 0; i < ix->n_manifests; i++) {
		const struct img_descriptor *d = &ix->manifests[i];
		if (!d->has_platform)
			continue;
		int rank = img_platform_rank(&want, &d->platform);
		if (rank && (!best || rank < best_rank)) {
			best = d;
			best_rank = rank;
		}
	}
	if (best) {
		img_platform_clear(&want);
		*out = best;
		return 0;
	}
	/* List what there is, each platform once, in the index's order. */
	char have[1024] = "";
	size_t hl = 0;
	for (size_t i = 0; i < ix->n_manifests; i++) {
		if (!ix->manifests[i].has_platform)
			continue;
		_cleanup_free_ char *s = img_platform_string(&ix->manifests[i].platform);
		if (!s)
			continue;
		bool seen = false;
		for (size_t j = 0; j < i && !seen; j++) {
			_cleanup_free_ char *t =
			    ix->manifests[j].has_platform
				? img_platform_string(&ix->manifests[j].platform)
				: NULL;
			seen = t && !strcmp(s, t);
		}
		if (!seen && hl < sizeof(have))
			hl += (size_t)snprintf(have + hl, sizeof(have) - hl, "%s%s", hl ? ", " : "",
					       s);
	}
	_cleanup_free_ char *ws = img_platform_string(&want);
	img_platform_clear(&want);
	return herr_set(ENOENT, "no manifest for platform %s in %s (it has: %s)", ws ? ws : "?",
			ref ? ref : "the index", hl ? have : "no platform manifests");
}

/* ---- configs ---- */

void img_config_summary_clear(struct img_config_summary *c)
{
	img_platform_clear(&c->platform);
	for (size_t i = 0; i < c->n_diff_ids; i++)
		free(c->diff_ids[i]);
	free(c->diff_ids);
	memset(c, 0, sizeof(*c));
}

static int parse_config_obj(struct json_object *o, const char *what, struct img_config_summary *out)
{
	const char *os, *arch, *var, *created;
	int r;
	if ((r = get_str(o, "os", what, "", &os)) < 0 ||
	    (r = get_str(o, "architecture", what, "", &arch)) < 0 ||
	    (r = get_str(o, "variant", what, "", &var)) < 0 ||
	    (r = get_str(o, "created", what, "", &created)) < 0)
		return r;
	if (os && arch && (r = platform_set(&out->platform, os, arch, var)) < 0)
		return r;
	if (created && img_time_parse(created, &out->created) < 0)
		return herr_set(EINVAL, "%s: created: not an RFC 3339 time: %s", what,
				JD_Q(created));
	struct json_object *rootfs, *ids;
	if (!json_object_object_get_ex(o, "rootfs", &rootfs) ||
	    !json_object_is_type(rootfs, json_type_object))
		return herr_set(EINVAL, "%s: rootfs: missing", what);
	if (!json_object_object_get_ex(rootfs, "diff_ids", &ids) ||
	    !json_object_is_type(ids, json_type_array))
		return herr_set(EINVAL, "%s: rootfs.diff_ids: missing", what);
	size_t n = json_object_array_length(ids);
	if (!(out->diff_ids = calloc(n + 1, sizeof(char *))))
		return herr_set(ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(ids, i);
		if (!json_object_is_type(v, json_type_string) ||
		    !img_digest_valid(json_object_get_string(v)))
			return herr_set(EINVAL, "%s: rootfs.diff_ids[%zu]: not a digest: %s", what,
					i, JD_DESCRIBE(v));
		if (!(out->diff_ids[i] = strdup(json_object_get_string(v))))
			return herr_set(ENOMEM, "out of memory");
		out->n_diff_ids = i + 1;
	}
	return 0;
}

int img_config_parse(const char *buf, size_t len, const char *digest,
		     struct img_config_summary *out)
{
	memset(out, 0, sizeof(*out));
	char what[200];
	snprintf(what, sizeof(what), "config %s", digest ? digest : "(unknown digest)");
	struct json_object *o;
	int r = img_json_parse(buf, len, what, &o);
	if (r < 0)
		return r;
	if (!json_object_is_type(o, json_type_object))
		r = herr_set(EINVAL, "%s: expected a JSON object, got %s", what, JD_DESCRIBE(o));
	else
		r = parse_config_obj(o, what, out);
	json_object_put(o);
	if (r < 0)
		img_config_summary_clear(out);
	return r;
}

/* ---- times ---- */

static bool digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

int img_time_parse(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec;
	if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
	    s[7] != '-' || !digits(s + 8, 2, &d) ||
	    (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2, &h) ||
	    s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	const char *p = s + 19;
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return -EINVAL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	int off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om;
		if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
			return -EINVAL;
		off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p)
		return -EINVAL;
	struct tm tm = {.tm_year = y - 1900,
			.tm_mon = mo - 1,
			.tm_mday = d,
			.tm_hour = h,
			.tm_min = mi,
			.tm_sec = sec};
	*out = (int64_t)timegm(&tm) - off;
	return 0;
}

const char *img_time_now(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	char base[32];
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%09ldZ", base, ts.tv_nsec);
	return buf;
}
