/*
 * --security-opt seccomp=FILE: a profile in docker's format (defaultAction,
 * architectures or archMap, syscalls with name or names, includes/excludes by
 * capability, architecture and kernel version) made into runtime-spec's
 * linux.seccomp for this machine and the container's final bounding set.
 */
#include "engine/ctr-seccomp.h"
#include "common/error.h"
#include "oci/config.h"
#include "oci/jsonbuild.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <json-c/json.h>

static struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;
	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

/* ---- seccomp: docker's profile format to runtime-spec ---- */

#if defined(__x86_64__)
#define NATIVE_ARCH "amd64"
#define NATIVE_SCMP "SCMP_ARCH_X86_64"
#elif defined(__aarch64__)
#define NATIVE_ARCH "arm64"
#define NATIVE_SCMP "SCMP_ARCH_AARCH64"
#elif defined(__i386__)
#define NATIVE_ARCH "386"
#define NATIVE_SCMP "SCMP_ARCH_X86"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define NATIVE_ARCH "ppc64le"
#define NATIVE_SCMP "SCMP_ARCH_PPC64LE"
#elif defined(__s390x__)
#define NATIVE_ARCH "s390x"
#define NATIVE_SCMP "SCMP_ARCH_S390X"
#elif defined(__riscv) && __riscv_xlen == 64
#define NATIVE_ARCH "riscv64"
#define NATIVE_SCMP "SCMP_ARCH_RISCV64"
#else
#define NATIVE_ARCH "unknown"
#define NATIVE_SCMP "SCMP_ARCH_NATIVE"
#endif

struct prof {
	const char *file;
	uint64_t caps; /* the final bounding set */
	int kmaj, kmin;
	struct jb b;
};

static int prof_err(const struct prof *p, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int prof_err(const struct prof *p, const char *where, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return herr_set(EINVAL, "--security-opt seccomp=%s: %s: %s", p->file, where, msg);
}

static const char *type_word(json_type t)
{
	switch (t) {
	case json_type_string:
		return "a string";
	case json_type_array:
		return "an array";
	case json_type_object:
		return "an object";
	case json_type_int:
		return "an integer";
	default:
		return "of another type";
	}
}

/* o[key] if present (and not null) and of type t; *v NULL when absent. */
static int pget(const struct prof *p, struct json_object *o, const char *where, const char *key,
		json_type t, bool required, struct json_object **v)
{
	char path[256];
	snprintf(path, sizeof(path), "%s%s%s", where, *where ? "." : "", key);
	*v = jget(o, key);
	if (!*v)
		return required ? prof_err(p, path, "required") : 0;
	if (!json_object_is_type(*v, t))
		return prof_err(p, path, "must be %s", type_word(t));
	return 0;
}

static int pstrings(const struct prof *p, struct json_object *a, const char *where)
{
	for (size_t i = 0, n = json_object_array_length(a); i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(a, i), json_type_string)) {
			char path[256];
			snprintf(path, sizeof(path), "%s[%zu]", where, i);
			return prof_err(p, path, "must be a string");
		}
	return 0;
}

static bool in_strings(struct json_object *a, const char *s)
{
	for (size_t i = 0, n = a ? json_object_array_length(a) : 0; i < n; i++)
		if (!strcasecmp(json_object_get_string(json_object_array_get_idx(a, i)), s))
			return true;
	return false;
}

/* "x86_64" is how people who do not write Go name amd64. */
static bool native_arch_in(struct json_object *a)
{
	return in_strings(a, NATIVE_ARCH) ||
	       (!strcmp(NATIVE_ARCH, "amd64") && in_strings(a, "x86_64"));
}

/*
 * A filter (includes or excludes): *any_cap whether one of its caps is in the
 * bounding set, *all_caps whether all are, *arch whether it names this
 * architecture, *kernel whether this kernel is at least its minKernel. Absent
 * parts are reported as "no condition" through *has_*.
 */
struct filt {
	bool has_caps, any_cap, all_caps, has_arches, arch, has_kernel, kernel;
};

static int read_filter(const struct prof *p, struct json_object *f, const char *where,
		       struct filt *out)
{
	*out = (struct filt){.all_caps = true};
	struct json_object *caps, *arches, *mk;
	char path[256];
	int r = pget(p, f, where, "caps", json_type_array, false, &caps);
	if (r == 0)
		r = pget(p, f, where, "arches", json_type_array, false, &arches);
	if (r == 0)
		r = pget(p, f, where, "minKernel", json_type_string, false, &mk);
	if (r < 0)
		return r;
	if (caps) {
		snprintf(path, sizeof(path), "%s.caps", where);
		if ((r = pstrings(p, caps, path)) < 0)
			return r;
		out->has_caps = json_object_array_length(caps) > 0;
		for (size_t i = 0; i < json_object_array_length(caps); i++) {
			int cap = oci_cap_from_name(
			    json_object_get_string(json_object_array_get_idx(caps, i)));
			bool in = cap >= 0 && cap < 64 && (p->caps & (1ull << cap));
			out->any_cap |= in;
			out->all_caps &= in;
		}
	}
	if (arches) {
		snprintf(path, sizeof(path), "%s.arches", where);
		if ((r = pstrings(p, arches, path)) < 0)
			return r;
		out->has_arches = json_object_array_length(arches) > 0;
		out->arch = native_arch_in(arches);
	}
	if (mk && *json_object_get_string(mk)) {
		int maj, min = 0;
		snprintf(path, sizeof(path), "%s.minKernel", where);
		if (sscanf(json_object_get_string(mk), "%d.%d", &maj, &min) < 1)
			return prof_err(p, path, "not a kernel version: \"%s\"",
					json_object_get_string(mk));
		out->has_kernel = true;
		out->kernel = p->kmaj > maj || (p->kmaj == maj && p->kmin >= min);
	}
	return 0;
}

/* Whether a syscall entry applies here, by docker's rules. */
static int applies(const struct prof *p, struct json_object *sc, const char *where, bool *yes)
{
	struct json_object *inc, *exc;
	struct filt fi, fe;
	char path[256];
	int r = pget(p, sc, where, "includes", json_type_object, false, &inc);
	if (r == 0)
		r = pget(p, sc, where, "excludes", json_type_object, false, &exc);
	snprintf(path, sizeof(path), "%s.includes", where);
	if (r == 0)
		r = read_filter(p, inc, path, &fi);
	snprintf(path, sizeof(path), "%s.excludes", where);
	if (r == 0)
		r = read_filter(p, exc, path, &fe);
	if (r < 0)
		return r;
	*yes = !(fe.has_arches && fe.arch) && !(fe.has_caps && fe.any_cap) &&
	       !(fe.has_kernel && fe.kernel) && !(fi.has_arches && !fi.arch) &&
	       !(fi.has_caps && !fi.all_caps) && !(fi.has_kernel && !fi.kernel);
	return 0;
}

static int copy_key(struct prof *p, struct json_object *from, struct json_object *to,
		    const char *where, const char *key, json_type t, bool required)
{
	struct json_object *v;
	int r = pget(p, from, where, key, t, required, &v);
	if (r == 0 && v)
		jb_put(&p->b, to, key, json_object_get(v));
	return r;
}

static int convert_args(struct prof *p, struct json_object *args, const char *where,
			struct json_object *out)
{
	struct json_object *a = jb_put(&p->b, out, "args", json_object_new_array());
	for (size_t i = 0, n = json_object_array_length(args); i < n; i++) {
		struct json_object *arg = json_object_array_get_idx(args, i);
		char path[256];
		snprintf(path, sizeof(path), "%s.args[%zu]", where, i);
		if (!json_object_is_type(arg, json_type_object))
			return prof_err(p, path, "must be an object");
		struct json_object *o = jb_push(&p->b, a, json_object_new_object());
		int r = copy_key(p, arg, o, path, "index", json_type_int, true);
		if (r == 0)
			r = copy_key(p, arg, o, path, "value", json_type_int, true);
		if (r == 0)
			r = copy_key(p, arg, o, path, "valueTwo", json_type_int, false);
		if (r == 0)
			r = copy_key(p, arg, o, path, "op", json_type_string, true);
		if (r < 0)
			return r;
	}
	return 0;
}

static int convert_syscall(struct prof *p, struct json_object *sc, const char *where,
			   struct json_object *list)
{
	if (!json_object_is_type(sc, json_type_object))
		return prof_err(p, where, "must be an object");
	bool yes;
	struct json_object *name, *names, *args;
	char path[256];
	int r = applies(p, sc, where, &yes);
	if (r == 0)
		r = pget(p, sc, where, "name", json_type_string, false, &name);
	if (r == 0)
		r = pget(p, sc, where, "names", json_type_array, false, &names);
	if (r == 0)
		r = pget(p, sc, where, "args", json_type_array, false, &args);
	if (r < 0)
		return r;
	if (name && names && json_object_array_length(names))
		return prof_err(p, where, "use either \"name\" or \"names\"");
	if (!name && !names)
		return prof_err(p, where, "\"names\" required");
	snprintf(path, sizeof(path), "%s.names", where);
	if (names && (r = pstrings(p, names, path)) < 0)
		return r;
	struct json_object *o = json_object_new_object();
	if (name)
		jb_push(&p->b, jb_put(&p->b, o, "names", json_object_new_array()),
			json_object_get(name));
	else
		jb_put(&p->b, o, "names", json_object_get(names));
	r = copy_key(p, sc, o, where, "action", json_type_string, true);
	if (r == 0)
		r = copy_key(p, sc, o, where, "errnoRet", json_type_int, false);
	if (r == 0 && args)
		r = convert_args(p, args, where, o);
	if (r < 0 || !yes) {
		json_object_put(o);
		return r;
	}
	jb_push(&p->b, list, o);
	return 0;
}

static int convert_arches(struct prof *p, struct json_object *prof, struct json_object *out)
{
	struct json_object *arches, *map;
	int r = pget(p, prof, "", "architectures", json_type_array, false, &arches);
	if (r == 0)
		r = pget(p, prof, "", "archMap", json_type_array, false, &map);
	if (r == 0 && arches)
		r = pstrings(p, arches, "architectures");
	if (r < 0)
		return r;
	if (arches && map && json_object_array_length(arches) && json_object_array_length(map))
		return prof_err(p, "archMap", "use either \"architectures\" or \"archMap\"");
	if (arches) {
		jb_put(&p->b, out, "architectures", json_object_get(arches));
		return 0;
	}
	struct json_object *list = NULL;
	for (size_t i = 0, n = map ? json_object_array_length(map) : 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(map, i), *arch, *subs;
		char path[64];
		snprintf(path, sizeof(path), "archMap[%zu]", i);
		if (!json_object_is_type(e, json_type_object))
			return prof_err(p, path, "must be an object");
		r = pget(p, e, path, "architecture", json_type_string, true, &arch);
		if (r == 0)
			r = pget(p, e, path, "subArchitectures", json_type_array, false, &subs);
		if (r == 0 && subs) {
			char sp[96];
			snprintf(sp, sizeof(sp), "%s.subArchitectures", path);
			r = pstrings(p, subs, sp);
		}
		if (r < 0)
			return r;
		/* Only the entry of this machine: its sub-architectures come with it. */
		if (strcmp(json_object_get_string(arch), NATIVE_SCMP))
			continue;
		if (!list)
			list = jb_put(&p->b, out, "architectures", json_object_new_array());
		jb_push(&p->b, list, json_object_get(arch));
		for (size_t k = 0, m = subs ? json_object_array_length(subs) : 0; k < m; k++)
			jb_push(&p->b, list, json_object_get(json_object_array_get_idx(subs, k)));
	}
	return 0;
}

int ctr_seccomp_from_docker(const char *file, const char *text, uint64_t caps,
			    struct json_object **out)
{
	struct prof p = {.file = file, .caps = caps};
	struct utsname u;
	if (uname(&u) == 0)
		sscanf(u.release, "%d.%d", &p.kmaj, &p.kmin);
	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return herr_set(ENOMEM, "out of memory");
	struct json_object *doc = json_tokener_parse_ex(tok, text, (int)strlen(text));
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!doc || jerr != json_tokener_success) {
		json_object_put(doc);
		return herr_set(EINVAL, "--security-opt seccomp=%s: not valid JSON: %s", p.file,
				jerr == json_tokener_success ? "truncated"
							     : json_tokener_error_desc(jerr));
	}
	struct json_object *o = json_object_new_object(), *sc;
	int r = json_object_is_type(doc, json_type_object)
		    ? 0
		    : herr_set(EINVAL, "--security-opt seccomp=%s: not a JSON object", p.file);
	if (r == 0)
		r = copy_key(&p, doc, o, "", "defaultAction", json_type_string, true);
	if (r == 0)
		r = copy_key(&p, doc, o, "", "defaultErrnoRet", json_type_int, false);
	if (r == 0)
		r = convert_arches(&p, doc, o);
	if (r == 0)
		r = copy_key(&p, doc, o, "", "flags", json_type_array, false);
	if (r == 0)
		r = copy_key(&p, doc, o, "", "listenerPath", json_type_string, false);
	if (r == 0)
		r = copy_key(&p, doc, o, "", "listenerMetadata", json_type_string, false);
	if (r == 0)
		r = pget(&p, doc, "", "syscalls", json_type_array, false, &sc);
	if (r == 0 && sc) {
		struct json_object *list = jb_put(&p.b, o, "syscalls", json_object_new_array());
		for (size_t i = 0, n = json_object_array_length(sc); r == 0 && i < n; i++) {
			char path[32];
			snprintf(path, sizeof(path), "syscalls[%zu]", i);
			r = convert_syscall(&p, json_object_array_get_idx(sc, i), path, list);
		}
	}
	json_object_put(doc);
	if (r == 0 && (p.b.failed || !o))
		r = herr_set(ENOMEM, "out of memory");
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	*out = o;
	return 0;
}
