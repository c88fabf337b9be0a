/*
 * ctr_spec_build: an image config and deck's options into the runtime config
 * docker would give them — capabilities, seccomp (the default for the final
 * bounding set, none, or a docker-format profile converted), mounts and their
 * replacement rules, resources, the network namespace, --init — and the
 * result accepted by hull's own config parser and seccomp compiler.
 */
#include "tap.h"
#include "common/error.h"
#include "engine/container.h"
#include "engine/volume.h"
#include "image/convert.h"
#include "oci/config.h"
#include "runtime/seccomp.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#define ID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char tmpdir[] = "/tmp/test_ctrspec.XXXXXX";
static char rootfs[256], etc_dir[256];

static const char image[] = "{\"config\":{\"Entrypoint\":[\"/bin/sh\"],\"Cmd\":[\"-c\",\"x\"],"
			    "\"Env\":[\"A=1\"],\"StopSignal\":\"SIGQUIT\"}}";

static void setup(void)
{
	char p[512];
	if (!mkdtemp(tmpdir))
		exit(1);
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", tmpdir);
	snprintf(etc_dir, sizeof(etc_dir), "%s/etc", tmpdir);
	mkdir(rootfs, 0755);
	mkdir(etc_dir, 0755);
	snprintf(p, sizeof(p), "%s/etc", rootfs);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/etc/passwd", rootfs);
	const char *pw = "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n";
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, pw, strlen(pw)) != (ssize_t)strlen(pw))
		tap_diag("cannot write %s", p);
	if (fd >= 0)
		close(fd);
}

static void cleanup(void)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/etc/passwd", rootfs);
	unlink(p);
	snprintf(p, sizeof(p), "%s/etc", rootfs);
	rmdir(p);
	rmdir(rootfs);
	rmdir(etc_dir);
	rmdir(tmpdir);
}

static struct json_object *spec;
static struct img_config_info info;

static struct ctr_spec_env base_env(void)
{
	return (struct ctr_spec_env){
	    .id = ID, .name = "web", .rootfs = rootfs, .cgroups_path = "/hull-test/" ID};
}

static int build(const struct ctr_config *c, const struct ctr_spec_env *env)
{
	json_object_put(spec);
	spec = NULL;
	img_config_info_clear(&info);
	herr_clear();
	return ctr_spec_build(c, image, strlen(image), env, &spec, &info);
}

static struct json_object *get(const char *path)
{
	struct json_object *o = spec;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save = NULL, *k = strtok_r(buf, ".", &save); o && k;
	     k = strtok_r(NULL, ".", &save))
		if (!json_object_object_get_ex(o, k, &o))
			return NULL;
	return o;
}

static const char *str(const char *path)
{
	struct json_object *o = get(path);
	return o ? json_object_get_string(o) : NULL;
}

static const char *joined_of(struct json_object *a)
{
	static char buf[4096];
	buf[0] = 0;
	/* Not NULL: a failed build must fail the checks, not crash them. */
	if (!a || !json_object_is_type(a, json_type_array))
		return "(no array)";
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		if (i)
			strcat(buf, "|");
		strcat(buf, json_object_get_string(json_object_array_get_idx(a, i)));
	}
	return buf;
}

static const char *joined(const char *path)
{
	return joined_of(get(path));
}

static size_t len_of(const char *path)
{
	struct json_object *a = get(path);
	return a ? json_object_array_length(a) : 0;
}

/* The mount at dest (the last one), or NULL. */
static struct json_object *mount_at(const char *dest)
{
	struct json_object *ms = get("mounts"), *found = NULL;
	for (size_t i = 0; ms && i < json_object_array_length(ms); i++) {
		struct json_object *m = json_object_array_get_idx(ms, i), *d;
		if (json_object_object_get_ex(m, "destination", &d) &&
		    !strcmp(json_object_get_string(d), dest))
			found = m;
	}
	return found;
}

static int mounts_at(const char *dest)
{
	struct json_object *ms = get("mounts");
	int n = 0;
	for (size_t i = 0; ms && i < json_object_array_length(ms); i++) {
		struct json_object *d;
		if (json_object_object_get_ex(json_object_array_get_idx(ms, i), "destination",
					      &d) &&
		    !strcmp(json_object_get_string(d), dest))
			n++;
	}
	return n;
}

static const char *mount_opts(const char *dest)
{
	struct json_object *m = mount_at(dest), *o;
	return m && json_object_object_get_ex(m, "options", &o) ? joined_of(o) : NULL;
}

/* Whether a syscall appears in any rule of linux.seccomp with the given action. */
static bool seccomp_has(const char *name, const char *action)
{
	struct json_object *sc = get("linux.seccomp.syscalls");
	for (size_t i = 0; sc && i < json_object_array_length(sc); i++) {
		struct json_object *r = json_object_array_get_idx(sc, i), *n, *a;
		if (!json_object_object_get_ex(r, "names", &n) ||
		    !json_object_object_get_ex(r, "action", &a) ||
		    strcmp(json_object_get_string(a), action))
			continue;
		for (size_t k = 0; k < json_object_array_length(n); k++)
			if (!strcmp(json_object_get_string(json_object_array_get_idx(n, k)), name))
				return true;
	}
	return false;
}

/* hull itself takes the result: its config parser and its seccomp compiler. */
static bool runtime_accepts(void)
{
	const char *text = json_object_to_json_string(spec);
	struct oci_config *cfg = NULL;
	int r = oci_config_parse(text, strlen(text), "config.json", &cfg);
	if (r < 0) {
		tap_diag("parse: %s", herr_msg());
		return false;
	}
	oci_config_free(cfg);
	struct hull_seccomp *s = NULL;
	r = hull_seccomp_build(get("linux.seccomp"), "config.json", &s);
	if (r < 0)
		tap_diag("seccomp: %s", herr_msg());
	hull_seccomp_free(s);
	return r == 0;
}

static void test_defaults(void)
{
	struct ctr_config c = {.stop_timeout = -1};
	struct ctr_spec_env env = base_env();
	is_int(build(&c, &env), 0, "defaults: built");
	is_int(len_of("process.capabilities.bounding"), 14, "docker's 14 capabilities");
	is_int(len_of("process.capabilities.effective"), 14, "effective too");
	ok(!get("process.capabilities.inheritable") && !get("process.capabilities.ambient"),
	   "no inheritable or ambient set");
	ok(strstr(joined("process.capabilities.bounding"), "CAP_NET_RAW") &&
	       !strstr(joined("process.capabilities.bounding"), "CAP_SYS_ADMIN"),
	   "NET_RAW in, SYS_ADMIN out");
	ok(!json_object_get_boolean(get("process.noNewPrivileges")), "noNewPrivileges false");
	is_str(str("linux.seccomp.defaultAction"), "SCMP_ACT_ERRNO", "default seccomp profile");
	ok(seccomp_has("chown", "SCMP_ACT_ALLOW") && !seccomp_has("mount", "SCMP_ACT_ALLOW"),
	   "profile follows the bounding set (no mount without SYS_ADMIN)");
	is_str(str("hostname"), "0123456789ab", "hostname: 12 digits of the id");
	is_str(str("root.path"), rootfs, "root.path");
	ok(!json_object_get_boolean(get("root.readonly")), "root writable");
	is_str(str("linux.cgroupsPath"), "/hull-test/" ID, "cgroupsPath");
	is_str(joined("process.args"), "/bin/sh|-c|x", "args from the image");
	ok(strstr(joined("process.env"), "A=1") != NULL, "image env");
	ok(!json_object_get_boolean(get("process.terminal")), "no terminal");
	struct json_object *ann = get("annotations"), *v;
	ok(ann && json_object_object_get_ex(ann, "io.deck.name", &v) &&
	       !strcmp(json_object_get_string(v), "web"),
	   "annotation io.deck.name");
	is_str(info.stop_signal, "SIGQUIT", "info: the image's StopSignal");
	ok(!get("linux.resources.memory") && !get("linux.resources.cpu"), "no limits");
	ok(strstr(json_object_to_json_string(get("linux.namespaces")), "network") != NULL,
	   "a new network namespace");
	ok(runtime_accepts(), "hull accepts the spec");
}

static void test_caps(void)
{
	char *add[] = {"sys_admin", "CAP_NET_admin", NULL}, *drop[] = {"NET_RAW", "chown", NULL};
	struct ctr_config c = {.stop_timeout = -1, .cap_add = add, .cap_drop = drop};
	struct ctr_spec_env env = base_env();
	is_int(build(&c, &env), 0, "caps: built");
	const char *b = joined("process.capabilities.bounding");
	ok(strstr(b, "CAP_SYS_ADMIN") && strstr(b, "CAP_NET_ADMIN") && !strstr(b, "CAP_NET_RAW") &&
	       !strstr(b, "CAP_CHOWN"),
	   "--cap-add and --cap-drop");
	is_int(len_of("process.capabilities.bounding"), 14, "14 - 2 + 2");
	ok(seccomp_has("mount", "SCMP_ACT_ALLOW"), "SYS_ADMIN brings mount to the profile");
	ok(runtime_accepts(), "hull accepts it");

	char *all[] = {"ALL", NULL}, *one[] = {"cap_chown", NULL};
	c = (struct ctr_config){.stop_timeout = -1, .cap_add = all, .cap_drop = one};
	is_int(build(&c, &env), 0, "ALL: built");
	ok(len_of("process.capabilities.bounding") >= 38,
	   "--cap-add ALL: every capability (%zu) but the dropped",
	   len_of("process.capabilities.bounding"));
	ok(!strstr(joined("process.capabilities.bounding"), "CAP_CHOWN"), "CHOWN dropped");

	c = (struct ctr_config){.stop_timeout = -1, .cap_add = one, .cap_drop = all};
	is_int(build(&c, &env), 0, "drop ALL: built");
	is_str(joined("process.capabilities.bounding"), "CAP_CHOWN", "--cap-drop ALL: the adds");

	char *badcap[] = {"FOO", NULL};
	c = (struct ctr_config){.stop_timeout = -1, .cap_add = badcap};
	ok(build(&c, &env) < 0, "unknown capability refused");
	is_str(herr_msg(), "--cap-add FOO: unknown capability", "message names it");
	ok(spec == NULL, "no spec on failure");
}

static void test_seccomp(void)
{
	struct ctr_config c = {.stop_timeout = -1, .seccomp = "unconfined", .no_new_privs = true};
	struct ctr_spec_env env = base_env();
	is_int(build(&c, &env), 0, "unconfined: built");
	ok(!get("linux.seccomp"), "no linux.seccomp");
	ok(json_object_get_boolean(get("process.noNewPrivileges")), "no-new-privileges");

	const char *prof =
	    "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1,"
	    "\"archMap\":[{\"architecture\":\"SCMP_ARCH_X86_64\",\"subArchitectures\":"
	    "[\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]},{\"architecture\":\"SCMP_ARCH_AARCH64\","
	    "\"subArchitectures\":[\"SCMP_ARCH_ARM\"]}],"
	    "\"syscalls\":[{\"names\":[\"read\",\"write\",\"exit_group\"],\"action\":"
	    "\"SCMP_ACT_ALLOW\",\"comment\":\"x\"},"
	    "{\"name\":\"mount\",\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":"
	    "[\"CAP_SYS_ADMIN\"]}},"
	    "{\"names\":[\"chown\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"caps\":"
	    "[\"CAP_CHOWN\"]}},"
	    "{\"names\":[\"fchown\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"minKernel\":"
	    "\"99.1\"}},"
	    "{\"names\":[\"s390_runtime_instr\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":"
	    "{\"arches\":[\"s390x\"]}},"
	    "{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
	    "\"value\":8,\"valueTwo\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}";
	c = (struct ctr_config){.stop_timeout = -1, .seccomp = "/p.json"};
	env.seccomp_json = prof;
	is_int(build(&c, &env), 0, "docker profile: built");
#ifdef __x86_64__
	is_str(joined("linux.seccomp.architectures"),
	       "SCMP_ARCH_X86_64|SCMP_ARCH_X86|SCMP_ARCH_X32", "archMap: this machine's entry");
#endif
	is_int(json_object_get_int(get("linux.seccomp.defaultErrnoRet")), 1, "defaultErrnoRet");
	is_int(len_of("linux.seccomp.syscalls"), 2, "rules kept: read..., personality");
	ok(seccomp_has("read", "SCMP_ACT_ALLOW") && seccomp_has("personality", "SCMP_ACT_ALLOW"),
	   "unconditional rules kept");
	ok(!seccomp_has("mount", "SCMP_ACT_ALLOW"), "includes.caps not met: dropped");
	ok(!seccomp_has("chown", "SCMP_ACT_ALLOW"), "excludes.caps met: dropped");
	ok(!seccomp_has("fchown", "SCMP_ACT_ALLOW"), "minKernel not met: dropped");
	ok(!seccomp_has("s390_runtime_instr", "SCMP_ACT_ALLOW"), "another arch: dropped");
	const char *text = json_object_to_json_string(get("linux.seccomp"));
	ok(!strstr(text, "comment") && !strstr(text, "includes") && !strstr(text, "archMap"),
	   "filter-only keys dropped");
	ok(strstr(text, "valueTwo") != NULL, "args kept");
	ok(runtime_accepts(), "hull compiles the converted profile");

	char *add[] = {"SYS_ADMIN", NULL}, *drop[] = {"CHOWN", NULL};
	c.cap_add = add;
	c.cap_drop = drop;
	is_int(build(&c, &env), 0, "with SYS_ADMIN, without CHOWN");
	ok(seccomp_has("mount", "SCMP_ACT_ALLOW") && seccomp_has("chown", "SCMP_ACT_ALLOW"),
	   "includes and excludes follow the final bounding set");

	c.cap_add = c.cap_drop = NULL;
	env.seccomp_json = "{\"defaultAction\":";
	ok(build(&c, &env) < 0, "bad JSON refused");
	has_prefix(herr_msg(), "--security-opt seccomp=/p.json: not valid JSON", "message");
	env.seccomp_json = "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":"
			   "[\"read\"],\"action\":\"SCMP_ACT_ERRNO\"},{\"names\":\"read\"}]}";
	ok(build(&c, &env) < 0, "names not an array refused");
	is_str(herr_msg(), "--security-opt seccomp=/p.json: syscalls[1].names: must be an array",
	       "message names the element");
	env.seccomp_json = "{\"syscalls\":[]}";
	ok(build(&c, &env) < 0, "no defaultAction refused");
	is_str(herr_msg(), "--security-opt seccomp=/p.json: defaultAction: required", "message");
}

static void test_mounts(void)
{
	char *vo[] = {"rbind", "rprivate", "ro", NULL};
	struct vol_mount vols[] = {{.source = "/srv/h", .destination = "/etc/hosts", .options = vo},
				   {.source = "/srv/d", .destination = "/data", .options = vo}};
	char *tmpfs[] = {"/run:size=1m,exec,mode=1777", "/dev/shm:size=8m", NULL};
	struct ctr_config c = {.stop_timeout = -1, .tmpfs = tmpfs, .read_only = true};
	struct ctr_spec_env env = base_env();
	env.etc_dir = etc_dir;
	env.volumes = vols;
	env.n_volumes = 2;
	is_int(build(&c, &env), 0, "mounts: built");
	ok(json_object_get_boolean(get("root.readonly")), "--read-only");
	is_str(mount_opts("/etc/resolv.conf"), "rbind|rprivate|ro", "etc file, ro with the rootfs");
	is_int(mounts_at("/etc/hosts"), 1, "one mount at /etc/hosts");
	is_str(json_object_get_string(json_object_object_get(mount_at("/etc/hosts"), "source")),
	       "/srv/h", "the volume replaced the etc file");
	is_str(json_object_get_string(json_object_object_get(mount_at("/data"), "type")), "bind",
	       "volume: a bind");
	is_str(mount_opts("/run"), "nosuid|nodev|size=1m|exec|mode=1777",
	       "tmpfs: docker's defaults, exec over noexec");
	is_int(mounts_at("/dev/shm"), 1, "tmpfs replaced the default /dev/shm");
	is_str(mount_opts("/dev/shm"), "nosuid|nodev|noexec|size=8m", "with the given size");
	ok(runtime_accepts(), "hull accepts them");

	char *bad[] = {"/x:foo", NULL};
	c = (struct ctr_config){.stop_timeout = -1, .tmpfs = bad};
	env = base_env();
	ok(build(&c, &env) < 0, "unknown tmpfs option refused");
	is_str(herr_msg(), "--tmpfs /x:foo: unknown option foo", "message names it");
	char *badsz[] = {"/x:size=lots", NULL};
	c.tmpfs = badsz;
	ok(build(&c, &env) < 0 && strstr(herr_msg(), "size=lots"), "bad size refused: %s",
	   herr_msg());
	char *rel[] = {"x", NULL};
	c.tmpfs = rel;
	ok(build(&c, &env) < 0, "relative tmpfs path refused");

	char *devtmp[] = {"/dev:size=1m", NULL};
	c.tmpfs = devtmp;
	is_int(build(&c, &env), 0, "tmpfs over /dev");
	is_int(mounts_at("/dev/pts") + mounts_at("/dev/shm") + mounts_at("/dev/mqueue"), 0,
	       "the default mounts beneath it went");
}

static void test_resources(void)
{
	struct ctr_config c = {
	    .stop_timeout = -1, .memory = 64 << 20, .cpus = 1.5, .pids_limit = 10};
	struct ctr_spec_env env = base_env();
	is_int(build(&c, &env), 0, "resources: built");
	is_int(json_object_get_int64(get("linux.resources.memory.limit")), 64 << 20, "memory");
	if (access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) == 0)
		is_int(json_object_get_int64(get("linux.resources.memory.swap")), 128 << 20,
		       "swap: twice the memory");
	is_int(json_object_get_int64(get("linux.resources.cpu.quota")), 150000, "cpu quota");
	is_int(json_object_get_int64(get("linux.resources.cpu.period")), 100000, "cpu period");
	is_int(json_object_get_int64(get("linux.resources.pids.limit")), 10, "pids");
	ok(get("linux.resources.devices") != NULL, "the default device rules stay");
	ok(runtime_accepts(), "hull accepts them");

	c = (struct ctr_config){.stop_timeout = -1, .memory = 64 << 20, .memory_swap = -1};
	is_int(build(&c, &env), 0, "--memory-swap -1");
	is_int(json_object_get_int64(get("linux.resources.memory.swap")), -1, "swap unlimited");

	c = (struct ctr_config){.stop_timeout = -1, .memory = 1 << 20};
	ok(build(&c, &env) < 0, "1m refused");
	is_str(herr_msg(), "--memory: minimum memory limit allowed is 6MB", "docker's message");
	c = (struct ctr_config){.stop_timeout = -1, .cpus = -1};
	ok(build(&c, &env) < 0, "negative cpus refused");
	c = (struct ctr_config){.stop_timeout = -1, .memory = 64 << 20, .memory_swap = 32 << 20};
	ok(build(&c, &env) < 0, "swap below memory refused");
}

static void test_process(void)
{
	char *cmd[] = {"echo", "hi", NULL};
	struct ctr_config c = {.stop_timeout = -1,
			       .init = true,
			       .cmd = cmd,
			       .user = "alice",
			       .tty = true,
			       .hostname = "box"};
	struct ctr_spec_env env = base_env();
	env.init_path = "/usr/libexec/deck-init";
	env.host_network = true;
	is_int(build(&c, &env), 0, "process: built");
	is_str(joined("process.args"), "/dev/init|--|/bin/sh|echo|hi", "--init: args prefixed");
	is_str(mount_opts("/dev/init"), "rbind|rprivate|ro|nosuid|nodev", "deck-init bound ro");
	is_int(json_object_get_int(get("process.user.uid")), 1000, "user resolved in the rootfs");
	ok(json_object_get_boolean(get("process.terminal")), "terminal");
	is_str(str("hostname"), "box", "--hostname");
	ok(!strstr(json_object_to_json_string(get("linux.namespaces")), "network"),
	   "host network: no network namespace");
	ok(runtime_accepts(), "hull accepts it");

	c = (struct ctr_config){.stop_timeout = -1, .init = true};
	env = base_env();
	ok(build(&c, &env) < 0, "--init without a deck-init refused");

	c = (struct ctr_config){.stop_timeout = -1};
	env.netns = "/run/deck/containers/x/netns";
	is_int(build(&c, &env), 0, "netns: built");
	ok(strstr(json_object_to_json_string_ext(get("linux.namespaces"),
						 JSON_C_TO_STRING_NOSLASHESCAPE),
		  "\"path\":\"/run/deck/containers/x/netns\"") != NULL,
	   "the network namespace joined");
}

/* The record's "Config": every field back as it was, and errors that name the key. */
static void test_config_json(void)
{
	char *ep[] = {"", NULL}, *env[] = {"A=1", NULL}, *labels[] = {"a=b", "c=", NULL};
	struct ctr_config c = {.image = "busybox",
			       .entrypoint = ep,
			       .env = env,
			       .tty = true,
			       .memory = 1ll << 40,
			       .memory_swap = -1,
			       .cpus = 0.3,
			       .stop_timeout = 0,
			       .labels = labels};
	struct json_object *o = ctr_config_to_json(&c);
	const char *text = json_object_to_json_string(o);
	struct json_object *back = json_tokener_parse(text);
	struct ctr_config d;
	is_int(ctr_config_from_json(back, &d), 0, "config read back");
	struct json_object *o2 = ctr_config_to_json(&d);
	is_str(json_object_to_json_string(o2), text, "the same JSON again");
	ok(d.entrypoint && d.entrypoint[0] && !d.entrypoint[0][0] && !d.entrypoint[1] && !d.cmd,
	   "[\"\"] and NULL kept apart");
	ok(d.cpus == 0.3 && d.memory == 1ll << 40 && d.memory_swap == -1 && d.stop_timeout == 0,
	   "numbers exact");
	is_str(d.labels[1], "c=", "labels");
	ctr_config_clear(&d);
	json_object_put(o);
	json_object_put(o2);
	json_object_put(back);

	back = json_tokener_parse("{\"Image\":\"x\"}");
	is_int(ctr_config_from_json(back, &d), 0, "missing keys are fine");
	is_int(d.stop_timeout, -1, "stop timeout: the default");
	ctr_config_clear(&d);
	json_object_put(back);
	back = json_tokener_parse("{\"Env\":[\"A=1\",2]}");
	ok(ctr_config_from_json(back, &d) < 0, "wrong type refused");
	is_str(herr_msg(), "container config: Env[1]: not a string", "message names the key");
	json_object_put(back);
	back = json_tokener_parse("{\"Tty\":\"yes\"}");
	ok(ctr_config_from_json(back, &d) < 0, "a string for a boolean refused");
	is_str(herr_msg(), "container config: Tty: not a boolean", "message names the key");
	json_object_put(back);
}

int main(void)
{
	setup();
	test_defaults();
	test_caps();
	test_seccomp();
	test_mounts();
	test_resources();
	test_process();
	test_config_json();
	json_object_put(spec);
	img_config_info_clear(&info);
	cleanup();
	return tap_done();
}
