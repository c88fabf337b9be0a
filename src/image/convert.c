/*
 * Image config -> runtime config, with docker's rules: the image's Entrypoint
 * and Cmd (an --entrypoint override drops the image's Cmd), its Env under the
 * caller's, a default PATH, User resolved the way runc's libcontainer/user
 * does (name or number; supplementary groups from /etc/group memberships
 * unless a group is given; HOME from the passwd entry).
 *
 * The image's /etc/passwd and /etc/group are read with RESOLVE_IN_ROOT and
 * only when they are regular files: a symlink to the host's files, a fifo or
 * /dev/zero-like node planted there cannot leak, block or exhaust us.
 */
#include "image/convert.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/strv.h"
#include "oci/defaultspec.h"
#include "oci/jsonbuild.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define ETC_LINE_MAX 65536

struct resolved {
	uint32_t uid, gid;
	char *home;
	uint32_t *sgids;
	size_t nsgids;
};

static void resolved_clear(struct resolved *r)
{
	free(r->home);
	free(r->sgids);
}

static bool parse_id(const char *s, uint32_t *out)
{
	if (!*s || strlen(s) > 10)
		return false;
	uint64_t v = 0;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v >= UINT32_MAX) /* (uid_t)-1 means "no change" to the kernel */
		return false;
	*out = (uint32_t)v;
	return true;
}

/* The image's etc file as a stream, or NULL (no error) when it has none. */
static int open_etc(int rootfd, const char *path, FILE **out)
{
	*out = NULL;
	if (rootfd < 0)
		return 0;
	/* O_NONBLOCK: opening a fifo would otherwise wait for a writer. */
	int fd = fs_open_in_root(rootfd, path, O_RDONLY | O_NONBLOCK);
	if (fd == -ENOENT || fd == -ENOTDIR)
		return 0;
	if (fd < 0)
		return herr_set(-fd, "the image's %s: %s", path, strerror(-fd));
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return herr_set(EINVAL, "the image's %s is not a regular file", path);
	}
	*out = fdopen(fd, "r");
	if (!*out) {
		close(fd);
		return herr_set(ENOMEM, "out of memory");
	}
	return 0;
}

/* Splits a passwd/group line at ':' into at most n fields; returns how many. */
static size_t split_fields(char *line, char **f, size_t n)
{
	size_t k = 0;
	line[strcspn(line, "\n")] = '\0';
	if (!*line || *line == '#')
		return 0;
	f[k++] = line;
	for (char *p = line; *p && k < n; p++)
		if (*p == ':') {
			*p = '\0';
			f[k++] = p + 1;
		}
	return k;
}

/*
 * Calls fn for each entry of the file with at least `min` fields until fn
 * returns non-zero; returns that, 0 at the end, or an error.
 */
static int each_entry(FILE *f, size_t min, int (*fn)(char **f, size_t n, void *data), void *data)
{
	if (!f)
		return 0;
	rewind(f);
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (len > ETC_LINE_MAX)
			continue;
		char *fields[7];
		size_t n = split_fields(line, fields, ARRAY_SIZE(fields));
		if (n < min)
			continue;
		int r = fn(fields, n, data);
		if (r)
			return r;
	}
	return 0;
}

struct user_match {
	const char *arg;
	bool numeric;
	uint32_t id;
	char *name; /* the matched entry's */
	struct resolved *out;
};

static int match_passwd(char **f, size_t n, void *data)
{
	struct user_match *m = data;
	uint32_t uid, gid;
	if (!parse_id(f[2], &uid))
		return 0;
	if (strcmp(f[0], m->arg) && !(m->numeric && uid == m->id))
		return 0;
	m->out->uid = uid;
	if (n > 3 && parse_id(f[3], &gid))
		m->out->gid = gid;
	if (n > 5 && *f[5]) {
		free(m->out->home);
		m->out->home = strdup(f[5]);
	}
	m->name = strdup(f[0]);
	return m->name && m->out->home ? 1 : herr_set(ENOMEM, "out of memory");
}

static int match_group(char **f, size_t n, void *data)
{
	(void)n;
	struct user_match *m = data;
	uint32_t gid;
	if (!parse_id(f[2], &gid))
		return 0;
	if (strcmp(f[0], m->arg) && !(m->numeric && gid == m->id))
		return 0;
	m->out->gid = gid;
	return 1;
}

/* Groups that list the user as a member: its supplementary groups. */
static int match_member(char **f, size_t n, void *data)
{
	struct user_match *m = data;
	uint32_t gid;
	if (n < 4 || !parse_id(f[2], &gid))
		return 0;
	for (char *save = NULL, *u = strtok_r(f[3], ",", &save); u;
	     u = strtok_r(NULL, ",", &save)) {
		if (strcmp(u, m->name))
			continue;
		uint32_t *g = realloc(m->out->sgids, (m->out->nsgids + 1) * sizeof(*g));
		if (!g)
			return herr_set(ENOMEM, "out of memory");
		g[m->out->nsgids++] = gid;
		m->out->sgids = g;
		break;
	}
	return 0;
}

static int resolve_user(const char *rootfs, const char *spec, struct resolved *out)
{
	*out = (struct resolved){.home = strdup("/")};
	if (!out->home)
		return herr_set(ENOMEM, "out of memory");
	_cleanup_free_ char *copy = strdup(spec ? spec : "");
	if (!copy)
		return herr_set(ENOMEM, "out of memory");
	char *group = strchr(copy, ':');
	if (group)
		*group++ = '\0';
	const char *user = *copy ? copy : "0";

	_cleanup_close_ int rootfd = rootfs ? open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	if (rootfs && rootfd < 0)
		return herr_sys("rootfs %s", rootfs);
	_cleanup_fclose_ FILE *pw = NULL;
	_cleanup_fclose_ FILE *gr = NULL;
	int r = open_etc(rootfd, "/etc/passwd", &pw);
	if (r == 0)
		r = open_etc(rootfd, "/etc/group", &gr);
	if (r < 0)
		return r;

	struct user_match m = {.arg = user, .out = out};
	m.numeric = parse_id(user, &m.id);
	r = each_entry(pw, 3, match_passwd, &m);
	if (r < 0)
		return r;
	if (r == 0) {
		if (!m.numeric)
			return herr_set(
			    ENOENT, "user \"%s\": no such user in the image's /etc/passwd", user);
		out->uid = m.id;
	}
	_cleanup_free_ char *name = m.name;
	if (group && *group) {
		struct user_match g = {.arg = group, .out = out};
		g.numeric = parse_id(group, &g.id);
		r = each_entry(gr, 3, match_group, &g);
		if (r < 0)
			return r;
		if (r == 0) {
			if (!g.numeric)
				return herr_set(ENOENT,
						"group \"%s\": no such group in the image's "
						"/etc/group",
						group);
			out->gid = g.id;
		}
		return 0;
	}
	/* Supplementary groups only in the implicit form, by the matched name. */
	return name ? each_entry(gr, 4, match_member, &m) : 0;
}

int img_resolve_user(const char *rootfs, const char *spec, struct img_user *out)
{
	struct resolved r;
	int rc = resolve_user(rootfs, spec, &r);
	if (rc < 0) {
		resolved_clear(&r);
		return rc;
	}
	free(r.home);
	*out = (struct img_user){.uid = r.uid, .gid = r.gid, .sgids = r.sgids, .nsgids = r.nsgids};
	return 0;
}

/* A JSON array of strings as a new strv (an absent or null array: *out = NULL). */
static int get_strv(struct json_object *cfg, const char *key, char ***out)
{
	*out = NULL;
	struct json_object *a;
	if (!cfg || !json_object_object_get_ex(cfg, key, &a) || !a)
		return 0;
	if (!json_object_is_type(a, json_type_array))
		return herr_set(EINVAL, "image config: config.%s is not an array", key);
	char **v = calloc(1, sizeof(*v));
	if (!v)
		return herr_set(ENOMEM, "out of memory");
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *s = json_object_array_get_idx(a, i);
		if (!json_object_is_type(s, json_type_string)) {
			strv_free(v);
			return herr_set(EINVAL, "image config: config.%s[%zu] is not a string", key,
					i);
		}
		if (strv_push(&v, json_object_get_string(s)) < 0) {
			strv_free(v);
			return herr_set(ENOMEM, "out of memory");
		}
	}
	*out = v;
	return 0;
}

static const char *get_str(struct json_object *cfg, const char *key, int *err)
{
	struct json_object *s;
	if (!cfg || !json_object_object_get_ex(cfg, key, &s) || !s)
		return NULL;
	if (!json_object_is_type(s, json_type_string)) {
		*err = herr_set(EINVAL, "image config: config.%s is not a string", key);
		return NULL;
	}
	const char *v = json_object_get_string(s);
	return *v ? v : NULL;
}

/* The keys of an object ("Volumes", "ExposedPorts"): a strv, never NULL. */
static int get_keys(struct json_object *cfg, const char *key, bool port, char ***out)
{
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return herr_set(ENOMEM, "out of memory");
	struct json_object *o;
	if (!cfg || !json_object_object_get_ex(cfg, key, &o) || !o)
		return 0;
	if (!json_object_is_type(o, json_type_object))
		return herr_set(EINVAL, "image config: config.%s is not an object", key);
	json_object_object_foreach(o, k, v)
	{
		(void)v;
		char buf[256];
		/* A bare "80" is a TCP port, as docker reads it. */
		if (port && !strchr(k, '/'))
			snprintf(buf, sizeof(buf), "%s/tcp", k);
		else
			snprintf(buf, sizeof(buf), "%s", k);
		if (strv_push(out, buf) < 0)
			return herr_set(ENOMEM, "out of memory");
	}
	return 0;
}

/* docker's rule: "K=V" replaces K or is appended; a bare "K" removes K. */
static int env_apply(char ***env, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t kl = eq ? (size_t)(eq - kv) : strlen(kv);
	char **v = *env;
	for (size_t i = 0; v && v[i]; i++) {
		if (strncmp(v[i], kv, kl) || v[i][kl] != '=')
			continue;
		free(v[i]);
		if (eq) {
			v[i] = strdup(kv);
			return v[i] ? 0 : herr_set(ENOMEM, "out of memory");
		}
		memmove(&v[i], &v[i + 1], (strv_len(v + i + 1) + 1) * sizeof(*v));
		return 0;
	}
	if (eq && strv_push(env, kv) < 0)
		return herr_set(ENOMEM, "out of memory");
	return 0;
}

static int build_env(struct json_object *cfg, const struct img_run_overrides *o, const char *home,
		     char ***out)
{
	_cleanup_strv_ char **image = NULL;
	int r = get_strv(cfg, "Env", &image);
	if (r < 0)
		return r;
	_cleanup_strv_ char **env = NULL;
	if (strv_push(&env, DEFAULT_PATH) < 0 || (o->terminal && strv_push(&env, "TERM=xterm") < 0))
		return herr_set(ENOMEM, "out of memory");
	for (size_t i = 0; image && image[i]; i++)
		if (strchr(image[i], '=') && (r = env_apply(&env, image[i])) < 0)
			return r;
	for (size_t i = 0; o->env && o->env[i]; i++)
		if ((r = env_apply(&env, o->env[i])) < 0)
			return r;
	if (!strv_env_get(env, "HOME")) {
		_cleanup_free_ char *h = NULL;
		if (asprintf(&h, "HOME=%s", home) < 0 || strv_push(&env, h) < 0)
			return herr_set(ENOMEM, "out of memory");
	}
	*out = take_ptr(env);
	return 0;
}

static int build_args(struct json_object *cfg, const struct img_run_overrides *o, char ***out)
{
	_cleanup_strv_ char **ep = NULL;
	_cleanup_strv_ char **cmd = NULL;
	int r = 0;
	if (!o->entrypoint)
		r = get_strv(cfg, "Entrypoint", &ep);
	if (r == 0 && !o->cmd && !o->entrypoint)
		r = get_strv(cfg, "Cmd", &cmd);
	if (r < 0)
		return r;
	char *const *e = o->entrypoint ? o->entrypoint : ep;
	char *const *c = o->cmd ? o->cmd : cmd;
	/* [""] is docker's "--entrypoint ''": no entrypoint at all. */
	if (e && e[0] && !e[0][0] && !e[1])
		e = NULL;
	_cleanup_strv_ char **args = calloc(1, sizeof(*args));
	if (!args)
		return herr_set(ENOMEM, "out of memory");
	for (size_t i = 0; e && e[i]; i++)
		if (strv_push(&args, e[i]) < 0)
			return herr_set(ENOMEM, "out of memory");
	for (size_t i = 0; c && c[i]; i++)
		if (strv_push(&args, c[i]) < 0)
			return herr_set(ENOMEM, "out of memory");
	if (!args[0])
		return herr_set(EINVAL, "no command specified");
	*out = take_ptr(args);
	return 0;
}

static struct json_object *strv_json(struct jb *b, char **v)
{
	return jb_str_array(b, (const char *const *)v, strv_len(v));
}

static int fill_process(struct json_object *spec, struct json_object *cfg, const char *rootfs,
			const struct img_run_overrides *o)
{
	struct json_object *proc, *user, *root;
	if (!json_object_object_get_ex(spec, "process", &proc) ||
	    !json_object_object_get_ex(proc, "user", &user) ||
	    !json_object_object_get_ex(spec, "root", &root))
		return herr_set(EINVAL, "default spec: no process.user or root");
	int err = 0;
	const char *cwd = o->workdir ? o->workdir : get_str(cfg, "WorkingDir", &err);
	const char *uspec = o->user ? o->user : get_str(cfg, "User", &err);
	if (err < 0)
		return err;
	if (!cwd)
		cwd = "/";
	if (cwd[0] != '/')
		return herr_set(EINVAL, "working directory \"%s\" is not an absolute path", cwd);

	_cleanup_strv_ char **args = NULL;
	int r = build_args(cfg, o, &args);
	if (r < 0)
		return r;
	struct resolved u = {0};
	r = resolve_user(rootfs, uspec, &u);
	_cleanup_strv_ char **env = NULL;
	if (r == 0)
		r = build_env(cfg, o, u.home, &env);
	if (r < 0) {
		resolved_clear(&u);
		return r;
	}

	struct jb b = {0};
	jb_put(&b, proc, "terminal", json_object_new_boolean(o->terminal));
	jb_put(&b, user, "uid", json_object_new_int64(u.uid));
	jb_put(&b, user, "gid", json_object_new_int64(u.gid));
	if (u.nsgids) {
		struct json_object *g = jb_put(&b, user, "additionalGids", json_object_new_array());
		for (size_t i = 0; i < u.nsgids; i++)
			jb_push(&b, g, json_object_new_int64(u.sgids[i]));
	}
	jb_put(&b, proc, "args", strv_json(&b, args));
	jb_put(&b, proc, "env", strv_json(&b, env));
	jb_put(&b, proc, "cwd", json_object_new_string(cwd));
	/* A container writes to its own overlay upper, as under docker. */
	jb_put(&b, root, "path", json_object_new_string("rootfs"));
	jb_put(&b, root, "readonly", json_object_new_boolean(0));
	resolved_clear(&u);
	return b.failed ? herr_set(ENOMEM, "out of memory") : 0;
}

static int fill_info(struct json_object *cfg, struct img_config_info *info)
{
	int err = 0;
	int r = get_keys(cfg, "Volumes", false, &info->volumes);
	if (r == 0)
		r = get_keys(cfg, "ExposedPorts", true, &info->exposed_ports);
	if (r < 0)
		return r;
	const char *sig = get_str(cfg, "StopSignal", &err);
	if (err < 0)
		return err;
	info->stop_signal = strdup(sig ? sig : "SIGTERM");
	if (!info->stop_signal)
		return herr_set(ENOMEM, "out of memory");
	struct json_object *labels;
	if (cfg && json_object_object_get_ex(cfg, "Labels", &labels) && labels) {
		if (!json_object_is_type(labels, json_type_object))
			return herr_set(EINVAL, "image config: config.Labels is not an object");
		info->labels = json_object_get(labels);
	}
	return 0;
}

int img_convert(const char *config_json, size_t len, const char *rootfs,
		const struct img_run_overrides *o, struct json_object **spec,
		struct img_config_info *info)
{
	static const struct img_run_overrides none = {0};
	if (!o)
		o = &none;
	if (info)
		*info = (struct img_config_info){0};
	*spec = NULL;

	struct json_tokener *tok = json_tokener_new();
	if (!tok)
		return herr_set(ENOMEM, "out of memory");
	struct json_object *doc = json_tokener_parse_ex(tok, config_json, (int)len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!doc || jerr != json_tokener_success) {
		json_object_put(doc);
		return herr_set(EINVAL, "image config: not valid JSON: %s",
				jerr == json_tokener_success ? "truncated"
							     : json_tokener_error_desc(jerr));
	}
	struct json_object *cfg = NULL;
	int r = 0;
	if (!json_object_is_type(doc, json_type_object))
		r = herr_set(EINVAL, "image config: not a JSON object");
	else if (json_object_object_get_ex(doc, "config", &cfg) && cfg &&
		 !json_object_is_type(cfg, json_type_object))
		r = herr_set(EINVAL, "image config: \"config\" is not an object");

	struct json_object *s = NULL;
	if (r == 0) {
		_cleanup_free_ char *text = oci_default_spec(false);
		s = text ? json_tokener_parse(text) : NULL;
		if (!s)
			r = herr_set(ENOMEM, "default spec: out of memory");
	}
	if (r == 0)
		r = fill_process(s, cfg, rootfs, o);
	if (r == 0 && info)
		r = fill_info(cfg, info);
	json_object_put(doc);
	if (r < 0) {
		json_object_put(s);
		if (info)
			img_config_info_clear(info);
		return r;
	}
	*spec = s;
	return 0;
}

void img_config_info_clear(struct img_config_info *info)
{
	strv_free(info->volumes);
	strv_free(info->exposed_ports);
	free(info->stop_signal);
	json_object_put(info->labels);
	*info = (struct img_config_info){0};
}
