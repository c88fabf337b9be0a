/*
 * Image config -> runtime config: docker's Entrypoint/Cmd override rules, env
 * merging, working dir, user resolution through a rootfs's /etc/passwd and
 * /etc/group (kept inside the rootfs), and what the engine gets in
 * img_config_info.
 */
#include "tap.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "image/convert.h"
#include "oci/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

static char tmpdir[] = "/tmp/test_convert.XXXXXX";
static char rootfs[256], bare[256], hostile[256], fifo[256];

static void write_file(const char *dir, const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/etc", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		tap_diag("cannot write %s", p);
	if (fd >= 0)
		close(fd);
}

static void setup(void)
{
	if (!mkdtemp(tmpdir))
		exit(1);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmpdir);
	snprintf(bare, sizeof(bare), "%s/bare", tmpdir);
	snprintf(hostile, sizeof(hostile), "%s/hostile", tmpdir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", tmpdir);
	mkdir(rootfs, 0755);
	mkdir(bare, 0755);
	mkdir(hostile, 0755);
	mkdir(fifo, 0755);
	write_file(rootfs, "etc/passwd",
		   "root:x:0:0:root:/root:/bin/sh\n"
		   "# a comment\n"
		   "\n"
		   "daemon:x:1:1:daemon:/usr/sbin:/bin/false\n"
		   "alice:x:1000:1000:Alice:/home/alice:/bin/sh\n"
		   "nohome:x:1001:1001::\n"
		   "broken:x:notanumber:0::/:\n");
	write_file(rootfs, "etc/group",
		   "root:x:0:\n"
		   "bin:x:1:root,daemon\n"
		   "wheel:x:10:root,alice\n"
		   "staff:x:50:\n"
		   "video:x:27:bob,alice\n"
		   "alice:x:1000:\n");
	/* Links to the host's copies (which exist): must resolve inside the rootfs, where
	 * they do not. */
	char p[512];
	snprintf(p, sizeof(p), "%s/etc", hostile);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/etc/passwd", hostile);
	if (symlink("/etc/passwd-", p) < 0)
		tap_diag("symlink %s", p);
	snprintf(p, sizeof(p), "%s/etc/group", hostile);
	if (symlink("../../../../../../../etc/gshadow", p) < 0)
		tap_diag("symlink %s", p);
	snprintf(p, sizeof(p), "%s/etc", fifo);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/etc/passwd", fifo);
	if (mkfifo(p, 0644) < 0)
		tap_diag("mkfifo %s", p);
}

/* Fixtures use ' for ", so they read like JSON. */
static char *unquote(const char *sq)
{
	char *d = strdup(sq);
	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static struct json_object *spec;
static struct img_config_info info;

static int conv(const char *sq, const char *root, const struct img_run_overrides *o)
{
	json_object_put(spec);
	spec = NULL;
	img_config_info_clear(&info);
	char *d = unquote(sq);
	herr_clear();
	int r = img_convert(d, strlen(d), root, o, &spec, &info);
	free(d);
	return r;
}

static struct json_object *get(const char *path)
{
	struct json_object *o = spec;
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save = NULL, *k = strtok_r(buf, ".", &save); o && k;
	     k = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(o, k, &o))
			return NULL;
	return o;
}

/* A string array (or int array) as "a|b|c". */
static const char *joined(const char *path)
{
	static char buf[1024];
	struct json_object *a = get(path);
	buf[0] = 0;
	if (!a || !json_object_is_type(a, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		if (i)
			strcat(buf, "|");
		strcat(buf, json_object_get_string(json_object_array_get_idx(a, i)));
	}
	return buf;
}

static const char *strv_joined(char **v)
{
	static char buf[1024];
	buf[0] = 0;
	for (size_t i = 0; v && v[i]; i++) {
		if (i)
			strcat(buf, "|");
		strcat(buf, v[i]);
	}
	return buf;
}

#define DPATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static void test_args(void)
{
	const char *both = "{'config':{'Entrypoint':['/ep','-x'],'Cmd':['c1','c2']}}";
	is_int(conv(both, rootfs, NULL), 0, "Entrypoint + Cmd");
	is_str(joined("process.args"), "/ep|-x|c1|c2", "args = Entrypoint + Cmd");

	char *cmd[] = {"o1", NULL};
	struct img_run_overrides o = {.cmd = cmd};
	conv(both, rootfs, &o);
	is_str(joined("process.args"), "/ep|-x|o1", "cmd override keeps the Entrypoint");

	char *ep[] = {"/new", NULL};
	o = (struct img_run_overrides){.entrypoint = ep};
	conv(both, rootfs, &o);
	is_str(joined("process.args"), "/new", "entrypoint override drops the image's Cmd");

	o = (struct img_run_overrides){.entrypoint = ep, .cmd = cmd};
	conv(both, rootfs, &o);
	is_str(joined("process.args"), "/new|o1", "entrypoint and cmd overrides");

	char *clear[] = {"", NULL};
	o = (struct img_run_overrides){.entrypoint = clear};
	is_int(conv(both, rootfs, &o), -EINVAL, "entrypoint [\"\"] alone: error");
	is_str(herr_msg(), "no command specified", "message: no command specified");
	o = (struct img_run_overrides){.entrypoint = clear, .cmd = cmd};
	conv(both, rootfs, &o);
	is_str(joined("process.args"), "o1", "entrypoint [\"\"] + cmd: just the cmd");

	conv("{'config':{'Cmd':['/bin/sh']}}", rootfs, NULL);
	is_str(joined("process.args"), "/bin/sh", "Cmd only");
	conv("{'config':{'Entrypoint':['/e'],'Cmd':null}}", rootfs, NULL);
	is_str(joined("process.args"), "/e", "Entrypoint only, null Cmd");
	is_int(conv("{'config':{'Entrypoint':null,'Cmd':[]}}", rootfs, NULL), -EINVAL,
	       "neither: error");
	is_str(herr_msg(), "no command specified", "neither: message");
	ok(spec == NULL, "no spec on error");
	is_int(conv("{'architecture':'amd64'}", rootfs, NULL), -EINVAL, "no config object: error");
	o = (struct img_run_overrides){.cmd = cmd};
	is_int(conv("{'architecture':'amd64'}", rootfs, &o), 0, "no config object, cmd given");
}

static void test_env(void)
{
	const char *c = "{'config':{'Cmd':['x'],'Env':['PATH=/custom','FOO=1','KEEP=k','DROP=d']}}";
	char *env[] = {"FOO=2", "BAR=3", "DROP", NULL};
	struct img_run_overrides o = {.env = env};
	is_int(conv(c, rootfs, &o), 0, "env");
	is_str(joined("process.env"), "PATH=/custom|FOO=2|KEEP=k|BAR=3|HOME=/root",
	       "image PATH in place, overrides replace, bare K removes, HOME from passwd");
	o.terminal = true;
	conv(c, rootfs, &o);
	is_str(joined("process.env"), "PATH=/custom|TERM=xterm|FOO=2|KEEP=k|BAR=3|HOME=/root",
	       "terminal adds TERM=xterm");
	ok(json_object_get_boolean(get("process.terminal")), "process.terminal from the overrides");
	conv("{'config':{'Cmd':['x'],'Env':['A=1','HOME=/h']}}", rootfs, NULL);
	is_str(joined("process.env"), DPATH "|A=1|HOME=/h", "default PATH; image HOME kept");
	ok(!json_object_get_boolean(get("process.terminal")), "no terminal by default");
	is_int(conv("{'config':{'Cmd':['x'],'Env':'A=1'}}", rootfs, NULL), -EINVAL,
	       "Env not an array");
	is_str(herr_msg(), "image config: config.Env is not an array", "Env not an array: message");
	conv("{'config':{'Cmd':['x'],'Env':[1]}}", rootfs, NULL);
	is_str(herr_msg(), "image config: config.Env[0] is not a string", "Env[0]: message");
}

static void test_cwd_root(void)
{
	conv("{'config':{'Cmd':['x'],'WorkingDir':'/app'}}", rootfs, NULL);
	is_str(json_object_get_string(get("process.cwd")), "/app", "cwd = WorkingDir");
	struct img_run_overrides o = {.workdir = "/o"};
	conv("{'config':{'Cmd':['x'],'WorkingDir':'/app'}}", rootfs, &o);
	is_str(json_object_get_string(get("process.cwd")), "/o", "workdir override");
	conv("{'config':{'Cmd':['x'],'WorkingDir':''}}", rootfs, NULL);
	is_str(json_object_get_string(get("process.cwd")), "/", "cwd defaults to /");
	is_int(conv("{'config':{'Cmd':['x'],'WorkingDir':'rel'}}", rootfs, NULL), -EINVAL,
	       "relative WorkingDir");
	is_str(herr_msg(), "working directory \"rel\" is not an absolute path",
	       "relative WorkingDir: message");
	conv("{'config':{'Cmd':['x']}}", rootfs, NULL);
	is_str(json_object_get_string(get("root.path")), "rootfs", "root.path");
	ok(get("root.readonly") && !json_object_get_boolean(get("root.readonly")), "root writable");
	ok(get("linux.namespaces") && get("mounts"), "rest of the default spec kept");

	/* What comes out is a config.json hull itself accepts. */
	char *cmd[] = {"/bin/sh", NULL};
	struct img_run_overrides o2 = {.cmd = cmd, .terminal = true};
	conv("{'config':{'User':'alice','Env':['A=1']}}", rootfs, &o2);
	const char *text = json_object_to_json_string(spec);
	struct oci_config *c = NULL;
	herr_clear();
	if (!is_int(oci_config_parse(text, strlen(text), "config.json", &c), 0,
		    "converted spec passes hull's config parser"))
		tap_diag("%s", herr_msg());
	oci_config_free(c);
}

static void user_case(const char *user, const char *root, const char *want_ids,
		      const char *want_gids, const char *want_home)
{
	char cfg[256];
	snprintf(cfg, sizeof(cfg), "{'config':{'Cmd':['x'],'User':'%s'}}", user);
	int r = conv(cfg, root, NULL);
	if (!is_int(r, 0, "user \"%s\"", user)) {
		tap_diag("%s", herr_msg());
		return;
	}
	char ids[64];
	snprintf(ids, sizeof(ids), "%d:%d", json_object_get_int(get("process.user.uid")),
		 json_object_get_int(get("process.user.gid")));
	is_str(ids, want_ids, "user \"%s\": uid:gid", user);
	is_str(joined("process.user.additionalGids"), want_gids, "user \"%s\": additionalGids",
	       user);
	const char *env = joined("process.env");
	const char *home = env ? strstr(env, "HOME=") : NULL;
	is_str(home ? home + 5 : NULL, want_home, "user \"%s\": HOME", user);
}

static void test_user(void)
{
	user_case("", rootfs, "0:0", "1|10", "/root");
	user_case("root", rootfs, "0:0", "1|10", "/root");
	user_case("alice", rootfs, "1000:1000", "10|27", "/home/alice");
	user_case("1000", rootfs, "1000:1000", "10|27", "/home/alice");
	user_case("alice:staff", rootfs, "1000:50", NULL, "/home/alice");
	user_case("alice:27", rootfs, "1000:27", NULL, "/home/alice");
	user_case("1000:4321", rootfs, "1000:4321", NULL, "/home/alice");
	user_case("4242", rootfs, "4242:0", NULL, "/");
	user_case("4242:4343", rootfs, "4242:4343", NULL, "/");
	user_case(":staff", rootfs, "0:50", NULL, "/root");
	user_case("nohome", rootfs, "1001:1001", NULL, "/");
	user_case("123:456", bare, "123:456", NULL, "/");
	user_case("", bare, "0:0", NULL, "/");

	struct img_run_overrides o = {.user = "daemon"};
	conv("{'config':{'Cmd':['x'],'User':'alice'}}", rootfs, &o);
	is_int(json_object_get_int(get("process.user.uid")), 1, "user override");

	is_int(conv("{'config':{'Cmd':['x'],'User':'bob'}}", rootfs, NULL), -ENOENT,
	       "unknown user");
	is_str(herr_msg(), "user \"bob\": no such user in the image's /etc/passwd",
	       "unknown user: message");
	conv("{'config':{'Cmd':['x'],'User':'alice:nogroup'}}", rootfs, NULL);
	is_str(herr_msg(), "group \"nogroup\": no such group in the image's /etc/group",
	       "unknown group: message");
	conv("{'config':{'Cmd':['x'],'User':'alice'}}", bare, NULL);
	is_str(herr_msg(), "user \"alice\": no such user in the image's /etc/passwd",
	       "name without /etc/passwd: message");

	/* The host has a "daemon" user; the rootfs's symlinked passwd must not reach it. */
	is_int(conv("{'config':{'Cmd':['x'],'User':'daemon'}}", hostile, NULL), -ENOENT,
	       "/etc/passwd -> host's /etc/passwd: not followed out");
	user_case("", hostile, "0:0", NULL, "/");
	is_int(conv("{'config':{'Cmd':['x'],'User':'root'}}", fifo, NULL), -EINVAL,
	       "/etc/passwd is a fifo: refused, no hang");
	is_str(herr_msg(), "the image's /etc/passwd is not a regular file", "fifo: message");
}

static void test_info(void)
{
	const char *c = "{'config':{'Cmd':['x'],'Volumes':{'/data':{},'/logs':{}},"
			"'ExposedPorts':{'80/tcp':{},'53/udp':{},'8080':{}},"
			"'StopSignal':'SIGQUIT','Labels':{'a':'1','b':'2'}}}";
	is_int(conv(c, rootfs, NULL), 0, "config with volumes, ports, labels");
	is_str(strv_joined(info.volumes), "/data|/logs", "volumes");
	is_str(strv_joined(info.exposed_ports), "80/tcp|53/udp|8080/tcp", "exposed ports");
	is_str(info.stop_signal, "SIGQUIT", "stop signal");
	struct json_object *v = NULL;
	ok(info.labels && json_object_object_get_ex(info.labels, "b", &v) &&
	       !strcmp(json_object_get_string(v), "2"),
	   "labels");
	conv("{'config':{'Cmd':['x']}}", rootfs, NULL);
	ok(info.volumes && !info.volumes[0] && info.exposed_ports && !info.exposed_ports[0],
	   "no volumes or ports: empty lists");
	is_str(info.stop_signal, "SIGTERM", "stop signal defaults to SIGTERM");
	ok(info.labels == NULL, "no labels: NULL");
	is_int(conv("{'config':{'Cmd':['x'],'Labels':[]}}", rootfs, NULL), -EINVAL,
	       "Labels not an object");
	ok(!info.volumes && !info.stop_signal, "info cleared on error");
}

static void test_bad_json(void)
{
	is_int(conv("{'config':", rootfs, NULL), -EINVAL, "truncated JSON");
	has_prefix(herr_msg(), "image config: not valid JSON", "truncated JSON: message");
	is_int(conv("not json", rootfs, NULL), -EINVAL, "not JSON");
	has_prefix(herr_msg(), "image config: not valid JSON", "not JSON: message");
	is_int(conv("[1]", rootfs, NULL), -EINVAL, "array");
	is_str(herr_msg(), "image config: not a JSON object", "array: message");
	is_int(conv("{'config':3}", rootfs, NULL), -EINVAL, "config not an object");
	is_str(herr_msg(), "image config: \"config\" is not an object", "config: message");
	conv("{'config':{'Cmd':['x'],'User':5}}", rootfs, NULL);
	is_str(herr_msg(), "image config: config.User is not a string", "User: message");
}

int main(void)
{
	setup();
	test_args();
	test_env();
	test_cwd_root();
	test_user();
	test_info();
	test_bad_json();
	json_object_put(spec);
	img_config_info_clear(&info);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", tmpdir);
	return tap_done();
}
