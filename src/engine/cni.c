/* The CNI client: executing plugins, chaining their results, undoing leftovers. */
#include "engine/cni.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int cni_lock(void)
{
	if (mkdir("/run/lock", 0755) < 0 && errno != EEXIST)
		return herr_sys("mkdir /run/lock");
	_cleanup_close_ int fd = open(CNI_LOCK_PATH, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return herr_sys("open %s", CNI_LOCK_PATH);
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return herr_sys("lock %s", CNI_LOCK_PATH);
	return take_fd(fd);
}

const char *cni_path(void)
{
	const char *p = getenv("DECK_CNI_PATH");
	return p && *p ? p : CNI_DEFAULT_PATH;
}

int cni_find_plugin(const char *type, char **out)
{
	/* The type names a file in the plugin path, never a path of its own. */
	if (!*type || strchr(type, '/') || !strcmp(type, ".") || !strcmp(type, ".."))
		return herr_set(EINVAL, "invalid CNI plugin type \"%s\"", type);
	const char *dirs = cni_path();
	for (const char *d = dirs; *d;) {
		size_t n = strcspn(d, ":");
		if (n) {
			char *p;
			if (asprintf(&p, "%.*s/%s", (int)n, d, type) < 0)
				return -ENOMEM;
			if (access(p, X_OK) == 0) {
				*out = p;
				return 0;
			}
			free(p);
		}
		d += n;
		if (*d == ':')
			d++;
	}
	return herr_set(ENOENT,
			"CNI plugin \"%s\" not found in %s (Debian's containernetworking-plugins "
			"installs them in /usr/lib/cni)",
			type, dirs);
}

static const char *plugin_type(json_object *plugin)
{
	json_object *t;
	if (!json_object_is_type(plugin, json_type_object) ||
	    !json_object_object_get_ex(plugin, "type", &t) ||
	    !json_object_is_type(t, json_type_string))
		return NULL;
	return json_object_get_string(t);
}

static json_object *plugins_of(json_object *conflist)
{
	json_object *p;
	if (!json_object_object_get_ex(conflist, "plugins", &p) ||
	    !json_object_is_type(p, json_type_array) || json_object_array_length(p) == 0)
		return NULL;
	return p;
}

int cni_check_plugins(json_object *conflist)
{
	json_object *plugins = plugins_of(conflist);
	if (!plugins)
		return herr_set(EINVAL, "the configuration has no \"plugins\" list");
	for (size_t i = 0; i < json_object_array_length(plugins); i++) {
		const char *type = plugin_type(json_object_array_get_idx(plugins, i));
		if (!type)
			return herr_set(EINVAL, "plugins[%zu]: no \"type\"", i);
		_cleanup_free_ char *path = NULL;
		int r = cni_find_plugin(type, &path);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- running a program with captured output ---- */

static int read_memfd(int fd, char **out)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return herr_sys("fstat");
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return -ENOMEM;
	size_t off = 0;
	while (off < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + off, (size_t)st.st_size - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	buf[off] = 0;
	*out = buf;
	return 0;
}

int cni_run(char *const argv[], char *const envp[], const char *in, size_t in_len, char **out,
	    char **err, int *status)
{
	/*
	 * Files, not pipes: the plugin can write as much as it likes while we wait,
	 * and nothing here has to poll two pipes at once.
	 */
	_cleanup_close_ int fin = memfd_create("cni-stdin", MFD_CLOEXEC);
	_cleanup_close_ int fout = memfd_create("cni-stdout", MFD_CLOEXEC);
	_cleanup_close_ int ferr = memfd_create("cni-stderr", MFD_CLOEXEC);
	if (fin < 0 || fout < 0 || ferr < 0)
		return herr_sys("memfd_create");
	for (size_t off = 0; off < in_len;) {
		ssize_t n = write(fin, in + off, in_len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return herr_sys("write a plugin's input");
		off += (size_t)n;
	}
	if (lseek(fin, 0, SEEK_SET) < 0)
		return herr_sys("lseek");

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawn_file_actions_adddup2(&fa, fin, 0);
	posix_spawn_file_actions_adddup2(&fa, fout, 1);
	posix_spawn_file_actions_adddup2(&fa, ferr, 2);
	/* The caller may block or catch signals (a monitor does); the plugin must not inherit that.
	 */
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int r = posix_spawn(&pid, argv[0], &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r != 0) {
		errno = r;
		return herr_sys("execute %s", argv[0]);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return herr_sys("wait for %s", argv[0]);
	}
	*status = st;
	if (out && (r = read_memfd(fout, out)) < 0)
		return r;
	if (err && (r = read_memfd(ferr, err)) < 0) {
		if (out) {
			free(*out);
			*out = NULL;
		}
		return r;
	}
	return 0;
}

/* ---- one plugin ---- */

/* Our environment without any CNI_* variable, plus the call's. */
static char **plugin_env(const char *command, const struct cni_call *c)
{
	_cleanup_strv_ char **env = NULL;
	bool has_path = false;
	for (size_t i = 0; environ && environ[i]; i++) {
		if (!strncmp(environ[i], "CNI_", 4))
			continue;
		has_path |= !strncmp(environ[i], "PATH=", 5);
		if (strv_push(&env, environ[i]) < 0)
			return NULL;
	}
	const char *vars[][2] = {{"CNI_COMMAND", command},
				 {"CNI_CONTAINERID", c->container_id},
				 {"CNI_NETNS", c->netns ? c->netns : ""},
				 {"CNI_IFNAME", c->ifname ? c->ifname : "eth0"},
				 {"CNI_PATH", cni_path()},
				 /* The plugins run iptables and ip by name. */
				 {"PATH", has_path ? NULL : "/usr/sbin:/usr/bin:/sbin:/bin"}};
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
		_cleanup_free_ char *kv = NULL;
		if (!vars[i][1])
			continue;
		if (asprintf(&kv, "%s=%s", vars[i][0], vars[i][1]) < 0) {
			kv = NULL;
			return NULL;
		}
		if (strv_push(&env, kv) < 0)
			return NULL;
	}
	return take_ptr(env);
}

/* The last non-empty line of a plugin's stderr, for an error message. */
static const char *last_line(char *s)
{
	size_t n = s ? strlen(s) : 0;
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = 0;
	if (!n)
		return NULL;
	char *nl = strrchr(s, '\n');
	return nl ? nl + 1 : s;
}

static int plugin_exec(const char *type, const char *command, const struct cni_call *c,
		       json_object *conf, json_object **result)
{
	*result = NULL;
	_cleanup_free_ char *path = NULL;
	int r = cni_find_plugin(type, &path);
	if (r < 0)
		return r;
	_cleanup_strv_ char **env = plugin_env(command, c);
	if (!env)
		return -ENOMEM;
	size_t len;
	const char *in = json_object_to_json_string_length(conf, JSON_C_TO_STRING_PLAIN, &len);
	_cleanup_free_ char *out = NULL, *err = NULL;
	int st;
	char *argv[] = {path, NULL};
	r = cni_run(argv, env, in, len, &out, &err, &st);
	if (r < 0)
		return r;
	json_object *res = NULL;
	if (*out) {
		res = json_tokener_parse(out);
		if (!res && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			return herr_set(EPROTO, "CNI plugin %s %s: its output is not JSON", type,
					command);
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		*result = res;
		return 0;
	}
	/* The error object of the specification: {"code": N, "msg": "...", "details": "..."}. */
	json_object *msg = NULL, *details = NULL;
	if (res) {
		json_object_object_get_ex(res, "msg", &msg);
		json_object_object_get_ex(res, "details", &details);
	}
	const char *m = msg ? json_object_get_string(msg) : last_line(err);
	const char *d = details ? json_object_get_string(details) : NULL;
	char how[64];
	if (WIFEXITED(st))
		snprintf(how, sizeof(how), "exit status %d", WEXITSTATUS(st));
	else
		snprintf(how, sizeof(how), "killed by signal %d", WTERMSIG(st));
	r = herr_set(EIO, "CNI plugin %s %s failed: %s%s%s", type, command, m && *m ? m : how,
		     d && *d ? ": " : "", d && *d ? d : "");
	json_object_put(res);
	return r;
}

/* A plugin's configuration as the specification builds it from the list. */
static json_object *plugin_conf(json_object *conflist, json_object *plugin, json_object *prev,
				json_object *runtime_config)
{
	json_object *conf = NULL, *v;
	if (json_object_deep_copy(plugin, &conf, NULL) < 0)
		return NULL;
	json_object_object_del(conf, "capabilities");
	if (json_object_object_get_ex(conflist, "name", &v))
		json_object_object_add(conf, "name", json_object_get(v));
	if (json_object_object_get_ex(conflist, "cniVersion", &v))
		json_object_object_add(conf, "cniVersion", json_object_get(v));
	if (prev)
		json_object_object_add(conf, "prevResult", json_object_get(prev));
	/* runtimeConfig: only what the plugin declared it can take. */
	json_object *caps, *rc = NULL;
	if (runtime_config && json_object_object_get_ex(plugin, "capabilities", &caps) &&
	    json_object_is_type(caps, json_type_object)) {
		json_object_object_foreach(caps, key, on)
		{
			json_object *val;
			if (!json_object_get_boolean(on) ||
			    !json_object_object_get_ex(runtime_config, key, &val))
				continue;
			if (!rc)
				rc = json_object_new_object();
			json_object_object_add(rc, key, json_object_get(val));
		}
	}
	if (rc)
		json_object_object_add(conf, "runtimeConfig", rc);
	return conf;
}

int cni_add_list(json_object *conflist, const struct cni_call *c, cni_checkpoint_fn cp, void *ctx,
		 json_object **result)
{
	*result = NULL;
	json_object *plugins = plugins_of(conflist);
	if (!plugins)
		return herr_set(EINVAL, "the configuration has no \"plugins\" list");
	json_object *prev = NULL;
	for (size_t i = 0; i < json_object_array_length(plugins); i++) {
		json_object *p = json_object_array_get_idx(plugins, i);
		const char *type = plugin_type(p);
		if (!type) {
			*result = prev;
			return herr_set(EINVAL, "plugins[%zu]: no \"type\"", i);
		}
		json_object *conf = plugin_conf(conflist, p, prev, c->runtime_config);
		if (!conf) {
			*result = prev;
			return -ENOMEM;
		}
		json_object *res = NULL;
		int r = plugin_exec(type, "ADD", c, conf, &res);
		json_object_put(conf);
		if (r < 0) {
			*result = prev;
			return r;
		}
		/* A plugin that prints nothing passes the result on unchanged. */
		if (res) {
			json_object_put(prev);
			prev = res;
		}
		if (cp && (r = cp(ctx, prev)) < 0) {
			*result = prev;
			return r;
		}
	}
	*result = prev;
	return 0;
}

int cni_del_list(json_object *conflist, const struct cni_call *c, json_object *prev_result)
{
	json_object *plugins = plugins_of(conflist);
	if (!plugins)
		return herr_set(EINVAL, "the configuration has no \"plugins\" list");
	int first = 0;
	char first_msg[HERR_MSG_MAX] = "";
	for (size_t i = json_object_array_length(plugins); i-- > 0;) {
		json_object *p = json_object_array_get_idx(plugins, i);
		const char *type = plugin_type(p);
		if (!type)
			continue;
		json_object *conf = plugin_conf(conflist, p, prev_result, c->runtime_config);
		if (!conf)
			return -ENOMEM;
		json_object *res = NULL;
		int r = plugin_exec(type, "DEL", c, conf, &res);
		json_object_put(conf);
		json_object_put(res);
		if (r < 0 && !first) {
			first = r;
			snprintf(first_msg, sizeof(first_msg), "%s", herr_msg());
		}
	}
	if (first)
		return herr_set(-first, "%s", first_msg);
	return 0;
}

/* ---- leftover nat rules ---- */

static int run_iptables(const char *prog, const char *const *args, const char *in, char **out)
{
	static const char *const dirs[] = {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"};
	_cleanup_free_ char *path = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(dirs) && !path; i++) {
		if (asprintf(&path, "%s%s", dirs[i], prog) < 0)
			return -ENOMEM;
		if (access(path, X_OK) < 0) {
			free(path);
			path = NULL;
		}
	}
	if (!path)
		return herr_set(ENOENT, "%s not found (Debian's iptables package)", prog);
	char *argv[8] = {path};
	for (size_t i = 0; args[i] && i + 2 < ARRAY_SIZE(argv); i++)
		argv[i + 1] = (char *)args[i];
	_cleanup_free_ char *err = NULL;
	int st;
	int r = cni_run(argv, environ, in, in ? strlen(in) : 0, out, &err, &st);
	if (r < 0)
		return r;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		const char *l = last_line(err);
		if (out) {
			free(*out);
			*out = NULL;
		}
		return herr_set(EIO, "%s failed: %s", prog, l ? l : "no message");
	}
	return 0;
}

struct rule {
	char *line;   /* "-A CHAIN ..." */
	char *chain;  /* CHAIN */
	char *target; /* after -j, or NULL */
	bool ours;    /* carries the container's id */
};

static char *word_after(const char *line, const char *opt)
{
	const char *p = strstr(line, opt);
	if (!p)
		return NULL;
	p += strlen(opt);
	return strndup(p, strcspn(p, " \n"));
}

static bool listed(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

int cni_sweep_nat(const char *network, const char *container_id)
{
	_cleanup_free_ char *dump = NULL, *tag = NULL;
	static const char *const save_args[] = {"-t", "nat", NULL};
	int r = run_iptables("iptables-save", save_args, NULL, &dump);
	if (r < 0)
		return r;
	/* The plugins' comments read `name: "NET" id: "ID"`, quotes escaped by iptables-save. */
	if (asprintf(&tag, "name: \\\"%s\\\" id: \\\"%s\\\"", network, container_id) < 0)
		return -ENOMEM;
	struct rule *rules = NULL;
	size_t n = 0, cap = 0;
	for (char *save = NULL, *l = strtok_r(dump, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		if (strncmp(l, "-A ", 3))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			struct rule *nr = realloc(rules, cap * sizeof(*rules));
			if (!nr) {
				r = -ENOMEM;
				goto out;
			}
			rules = nr;
		}
		rules[n] = (struct rule){.line = l,
					 .chain = word_after(l, "-A "),
					 .target = word_after(l, " -j "),
					 .ours = strstr(l, tag) != NULL};
		n++;
	}
	/*
	 * A chain goes when a rule of ours jumps to it and every rule in it is
	 * ours: the per-container chains, never the shared CNI-HOSTPORT-* ones.
	 */
	char **gone = calloc(n + 1, sizeof(*gone));
	size_t ngone = 0;
	if (!gone) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *t = rules[i].target;
		if (!rules[i].ours || !t || strncmp(t, "CNI-", 4) || listed(gone, ngone, t))
			continue;
		bool all = true;
		for (size_t j = 0; j < n && all; j++)
			if (rules[j].chain && !strcmp(rules[j].chain, t) && !rules[j].ours)
				all = false;
		if (all)
			gone[ngone++] = (char *)t;
	}
	char *script = NULL;
	size_t slen = 0;
	FILE *f = open_memstream(&script, &slen);
	if (!f) {
		free(gone);
		r = -ENOMEM;
		goto out;
	}
	bool any = false;
	fputs("*nat\n", f);
	for (size_t i = 0; i < n; i++) {
		if (!rules[i].ours || !rules[i].chain || listed(gone, ngone, rules[i].chain))
			continue;
		fprintf(f, "-D%s\n", rules[i].line + 2);
		any = true;
	}
	for (size_t i = 0; i < ngone; i++) {
		fprintf(f, "-F %s\n-X %s\n", gone[i], gone[i]);
		any = true;
	}
	fputs("COMMIT\n", f);
	fclose(f);
	free(gone);
	if (any) {
		static const char *const restore_args[] = {"--noflush", "--wait", NULL};
		r = run_iptables("iptables-restore", restore_args, script, NULL);
		if (r < 0)
			herr_ctx(r, "remove the nat rules of container %s", container_id);
	}
	free(script);
out:
	for (size_t i = 0; i < n; i++) {
		free(rules[i].chain);
		free(rules[i].target);
	}
	free(rules);
	return r;
}
