/* config.json parsing: valid documents, every error message, mount options, name tables. */
#include "tap.h"
#include "common/error.h"
#include "oci/config.h"
#include "oci/mountopts.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/ioprio.h>
#include <linux/mount.h>
#include <json-c/json.h>

#define FILE_ "/b/config.json"
#define F     FILE_ ": "

/* Fixtures use ' for ", so they read like JSON. */
static char *unquote(const char *sq)
{
	char *d = strdup(sq);
	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static int parse_rc(const char *sq, struct oci_config **out)
{
	char *d = unquote(sq);
	herr_clear();
	int r = oci_config_parse(d, strlen(d), FILE_, out);
	free(d);
	return r;
}

static struct oci_config *parse(const char *sq)
{
	struct oci_config *c = NULL;
	if (parse_rc(sq, &c) < 0)
		tap_diag("unexpected error: %s", herr_msg());
	return c;
}

static void expect_error(const char *sq, const char *want)
{
	struct oci_config *c = NULL;
	int r = parse_rc(sq, &c);
	const char *msg = r < 0 ? herr_msg() : "(parsed without error)";
	has_prefix(msg, want, "error: %s", want + strlen(F));
	if (r >= 0 && !c)
		ok(0, "no config and no error");
	oci_config_free(c);
}

#define BASE	 "'ociVersion':'1.0.2','root':{'path':'rootfs'}"
#define DOC(x)	 "{" BASE x "}"
#define PROC(x)	 DOC(",'process':{'args':['sh'],'cwd':'/'" x "}")
#define LINUX(x) DOC(",'linux':{" x "}")

/* `runc spec` (runc 1.1.5) output. */
static const char runc_spec[] =
    "{'ociVersion':'1.0.2-dev','process':{'terminal':true,'user':{'uid':0,'gid':0},"
    "'args':['sh'],'env':['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',"
    "'TERM=xterm'],'cwd':'/','capabilities':{'bounding':['CAP_AUDIT_WRITE','CAP_KILL',"
    "'CAP_NET_BIND_SERVICE'],'effective':['CAP_AUDIT_WRITE','CAP_KILL','CAP_NET_BIND_SERVICE'],"
    "'permitted':['CAP_AUDIT_WRITE','CAP_KILL','CAP_NET_BIND_SERVICE'],'ambient':["
    "'CAP_AUDIT_WRITE','CAP_KILL','CAP_NET_BIND_SERVICE']},'rlimits':[{'type':'RLIMIT_NOFILE',"
    "'hard':1024,'soft':1024}],'noNewPrivileges':true},'root':{'path':'rootfs','readonly':true},"
    "'hostname':'runc','mounts':[{'destination':'/proc','type':'proc','source':'proc'},"
    "{'destination':'/dev','type':'tmpfs','source':'tmpfs','options':['nosuid','strictatime',"
    "'mode=755','size=65536k']},{'destination':'/dev/pts','type':'devpts','source':'devpts',"
    "'options':['nosuid','noexec','newinstance','ptmxmode=0666','mode=0620','gid=5']},"
    "{'destination':'/dev/shm','type':'tmpfs','source':'shm','options':['nosuid','noexec',"
    "'nodev','mode=1777','size=65536k']},{'destination':'/dev/mqueue','type':'mqueue',"
    "'source':'mqueue','options':['nosuid','noexec','nodev']},{'destination':'/sys',"
    "'type':'sysfs','source':'sysfs','options':['nosuid','noexec','nodev','ro']},"
    "{'destination':'/sys/fs/cgroup','type':'cgroup','source':'cgroup','options':['nosuid',"
    "'noexec','nodev','relatime','ro']}],'linux':{'resources':{'devices':[{'allow':false,"
    "'access':'rwm'}]},'namespaces':[{'type':'pid'},{'type':'network'},{'type':'ipc'},"
    "{'type':'uts'},{'type':'mount'}],'maskedPaths':['/proc/acpi','/proc/asound','/proc/kcore',"
    "'/proc/keys','/proc/latency_stats','/proc/timer_list','/proc/timer_stats',"
    "'/proc/sched_debug','/sys/firmware','/proc/scsi'],'readonlyPaths':['/proc/bus','/proc/fs',"
    "'/proc/irq','/proc/sys','/proc/sysrq-trigger']}}";

#define BIT(n) (1ULL << (n))

static void test_runc_spec(void)
{
	struct oci_config *c = parse(runc_spec);
	if (!ok(c, "runc spec parses"))
		return;
	is_str(c->oci_version, "1.0.2-dev", "ociVersion");
	is_str(c->path, FILE_, "path kept for messages");
	is_str(c->root_path, "rootfs", "root.path");
	ok(c->root_readonly, "root.readonly");
	is_str(c->hostname, "runc", "hostname");
	is_str(c->domainname, NULL, "no domainname");

	struct oci_process *p = c->process;
	if (ok(p, "process present")) {
		ok(p->terminal, "terminal");
		is_int(p->n_args, 1, "one arg");
		is_str(p->args[0], "sh", "args[0]");
		ok(p->args[1] == NULL, "args NULL-terminated");
		is_int(p->n_env, 2, "two env");
		is_str(p->env[1], "TERM=xterm", "env[1]");
		ok(p->env[2] == NULL, "env NULL-terminated");
		is_str(p->cwd, "/", "cwd");
		is_int(p->user.uid, 0, "uid");
		ok(!p->user.has_umask, "no umask");
		uint64_t want = BIT(CAP_AUDIT_WRITE) | BIT(CAP_KILL) | BIT(CAP_NET_BIND_SERVICE);
		ok(p->caps.present, "caps present");
		is_int(p->caps.bounding, want, "bounding");
		is_int(p->caps.effective, want, "effective");
		is_int(p->caps.permitted, want, "permitted");
		is_int(p->caps.ambient, want, "ambient");
		is_int(p->caps.inheritable, 0, "inheritable empty");
		ok(!p->caps.skipped_unknown, "no unknown caps");
		is_int(p->n_rlimits, 1, "one rlimit");
		is_int(p->rlimits[0].resource, RLIMIT_NOFILE, "RLIMIT_NOFILE");
		is_int(p->rlimits[0].soft, 1024, "soft");
		is_int(p->rlimits[0].hard, 1024, "hard");
		ok(p->no_new_privileges, "noNewPrivileges");
		ok(!p->has_oom_score_adj && !p->has_io_priority && !p->has_scheduler,
		   "no oom/ioprio/scheduler");
	}

	if (is_int(c->n_mounts, 7, "seven mounts")) {
		struct oci_mount *m = c->mounts;
		is_str(m[0].destination, "/proc", "mounts[0].destination");
		is_str(m[0].type, "proc", "mounts[0].type");
		ok(m[0].options && !m[0].options[0], "mounts[0] has an empty option vector");
		ok(!m[0].data && !m[0].flags, "mounts[0] no data/flags");
		is_int(m[1].flags, MS_NOSUID | MS_STRICTATIME, "/dev flags");
		is_str(m[1].data, "mode=755,size=65536k", "/dev data");
		is_str(m[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5", "/dev/pts data");
		is_int(m[2].flags, MS_NOSUID | MS_NOEXEC, "/dev/pts flags");
		is_int(m[5].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, "/sys flags");
		ok(!m[5].bind && !m[5].data, "/sys not bind, no data");
		is_int(m[6].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY,
		       "/sys/fs/cgroup flags");
	}

	struct oci_linux *l = &c->linux;
	ok(l->ns[OCI_NS_PID].present && l->ns[OCI_NS_NET].present && l->ns[OCI_NS_IPC].present &&
	       l->ns[OCI_NS_UTS].present && l->ns[OCI_NS_MNT].present,
	   "five namespaces");
	ok(!l->ns[OCI_NS_USER].present && !l->ns[OCI_NS_CGROUP].present &&
	       !l->ns[OCI_NS_TIME].present,
	   "no user/cgroup/time namespace");
	ok(!l->ns[OCI_NS_PID].path, "pid namespace is new");
	ok(l->resources && json_object_is_type(l->resources, json_type_object), "resources kept");
	ok(!l->seccomp, "no seccomp");
	is_int(l->n_masked_paths, 10, "maskedPaths");
	is_str(l->masked_paths[9], "/proc/scsi", "maskedPaths[9]");
	ok(!l->masked_paths[10], "maskedPaths NULL-terminated");
	is_int(l->n_readonly_paths, 5, "readonlyPaths");
	ok(!l->cgroups_path && !l->rootfs_propagation && !l->has_personality, "linux defaults");
	ok(!c->hooks_json && !c->annotations_json && !c->n_annotations, "no hooks/annotations");
	for (int k = 0; k < OCI_HOOK_COUNT; k++)
		if (c->hooks[k].n)
			ok(0, "hook list %d not empty", k);
	oci_config_free(c);
}

static const char full_doc[] =
    "{'ociVersion':'1.2.0','root':{'path':'/var/rootfs'},'domainname':'example.org',"
    "'process':{'terminal':false,'consoleSize':{'height':24,'width':80},"
    "'user':{'uid':1000,'gid':4294967295,'umask':18,'additionalGids':[5,10],'username':'me'},"
    "'args':['/bin/sh','-c','true'],'cwd':'/home','apparmorProfile':'prof','selinuxLabel':'lbl',"
    "'capabilities':{'inheritable':['CAP_SYS_ADMIN','CAP_CHECKPOINT_RESTORE']},"
    "'rlimits':[{'type':'RLIMIT_CORE','soft':0,'hard':18446744073709551615},"
    "{'type':'RLIMIT_RTTIME','soft':5,'hard':6}],'oomScoreAdj':-1000,"
    "'ioPriority':{'class':'IOPRIO_CLASS_IDLE','priority':7},"
    "'scheduler':{'policy':'SCHED_DEADLINE','nice':-20,'flags':['SCHED_FLAG_RESET_ON_FORK',"
    "'SCHED_FLAG_UTIL_CLAMP_MAX'],'runtime':100,'deadline':200,'period':300}},"
    "'mounts':[{'destination':'/data','type':'bind','source':'/srv','options':['ro'],"
    "'uidMappings':[{'containerID':0,'hostID':100000,'size':65536}],"
    "'gidMappings':[{'containerID':0,'hostID':200000,'size':1}]}],"
    "'hooks':{'prestart':[{'path':'/bin/a'}],'createRuntime':[{'path':'/bin/b',"
    "'args':['b','x'],'env':['A=1'],'timeout':5},{'path':'/bin/c'}],'poststop':[],"
    "'futureHook':[{'x':1}]},"
    "'annotations':{'org.example/a':'1','b':''},"
    "'linux':{'namespaces':[{'type':'user'},{'type':'cgroup','path':''},"
    "{'type':'time'},{'type':'network','path':'/run/netns/x'}],"
    "'uidMappings':[{'containerID':0,'hostID':1000,'size':1},"
    "{'containerID':1,'hostID':100000,'size':65536}],"
    "'gidMappings':[{'containerID':0,'hostID':1000,'size':1}],"
    "'timeOffsets':{'monotonic':{'secs':-86400,'nanosecs':5},'boottime':{'secs':3}},"
    "'devices':[{'path':'/dev/fuse','type':'c','major':10,'minor':229,'fileMode':8630,"
    "'uid':0,'gid':0},{'path':'/dev/fifo','type':'p'},{'path':'/dev/sda','type':'b',"
    "'major':8,'minor':0}],'cgroupsPath':'/hull-test/x','seccomp':{'defaultAction':"
    "'SCMP_ACT_ALLOW'},'rootfsPropagation':'rslave','sysctl':{'net.ipv4.ip_forward':'1',"
    "'kernel.msgmax':'8192'},'personality':{'domain':'LINUX32'},'mountLabel':'ml',"
    "'intelRdt':{'closID':'x'}},'unknownTopLevel':{'a':[1,2,{}]}}";

static void test_full(void)
{
	struct oci_config *c = parse(full_doc);
	if (!ok(c, "full config parses"))
		return;
	struct oci_process *p = c->process;
	is_str(c->domainname, "example.org", "domainname");
	ok(!c->root_readonly, "root not readonly");
	is_int(p->console_height, 24, "consoleSize.height");
	is_int(p->console_width, 80, "consoleSize.width");
	is_int(p->user.uid, 1000, "uid");
	is_int(p->user.gid, 4294967295u, "gid at the top of the range");
	ok(p->user.has_umask && p->user.umask == 022, "umask");
	ok(p->user.n_additional_gids == 2 && p->user.additional_gids[1] == 10, "additionalGids");
	is_str(p->user.username, "me", "username");
	is_int(p->n_args, 3, "three args");
	ok(p->env && !p->env[0] && p->n_env == 0, "absent env is an empty vector");
	is_int(p->caps.inheritable, BIT(CAP_SYS_ADMIN) | BIT(CAP_CHECKPOINT_RESTORE),
	       "inheritable");
	is_int(p->caps.bounding, 0, "bounding empty");
	ok(p->rlimits[0].resource == RLIMIT_CORE && p->rlimits[0].hard == UINT64_MAX,
	   "RLIMIT_CORE hard = RLIM_INFINITY");
	is_int(p->rlimits[1].resource, RLIMIT_RTTIME, "RLIMIT_RTTIME");
	ok(p->has_oom_score_adj && p->oom_score_adj == -1000, "oomScoreAdj");
	is_str(p->apparmor_profile, "prof", "apparmorProfile");
	is_str(p->selinux_label, "lbl", "selinuxLabel");
	ok(p->has_io_priority && p->ioprio_class == IOPRIO_CLASS_IDLE && p->ioprio_priority == 7,
	   "ioPriority");
	ok(p->has_scheduler && p->scheduler.policy == SCHED_DEADLINE && p->scheduler.nice == -20,
	   "scheduler policy/nice");
	is_int(p->scheduler.flags, 0x41, "scheduler flags");
	ok(p->scheduler.runtime == 100 && p->scheduler.deadline == 200 &&
	       p->scheduler.period == 300,
	   "scheduler runtime/deadline/period");

	struct oci_mount *m = &c->mounts[0];
	ok(m->bind && !m->recursive, "type bind implies a bind mount");
	is_int(m->flags, MS_RDONLY, "bind ro");
	ok(m->n_uid_mappings == 1 && m->uid_mappings[0].host_id == 100000 &&
	       m->uid_mappings[0].size == 65536,
	   "mount uidMappings");
	ok(m->n_gid_mappings == 1 && m->gid_mappings[0].host_id == 200000, "mount gidMappings");

	struct oci_hook_list *h = c->hooks;
	ok(h[OCI_HOOK_PRESTART].n == 1 && !h[OCI_HOOK_PRESTART].v[0].args &&
	       !h[OCI_HOOK_PRESTART].v[0].env && h[OCI_HOOK_PRESTART].v[0].timeout == 0,
	   "prestart hook without args/env/timeout");
	struct oci_hook *cr = h[OCI_HOOK_CREATE_RUNTIME].v;
	ok(h[OCI_HOOK_CREATE_RUNTIME].n == 2 && !strcmp(cr[0].path, "/bin/b") &&
	       !strcmp(cr[0].args[1], "x") && !cr[0].args[2] && !strcmp(cr[0].env[0], "A=1") &&
	       cr[0].timeout == 5 && !strcmp(cr[1].path, "/bin/c"),
	   "createRuntime hooks");
	ok(h[OCI_HOOK_POSTSTOP].n == 0 && !h[OCI_HOOK_POSTSTART].n, "empty and absent lists");
	ok(c->hooks_json && json_object_object_get_ex(c->hooks_json, "futureHook", NULL),
	   "hooks_json is the hooks object");
	ok(c->n_annotations == 2 && !strcmp(c->annotations[0].key, "org.example/a") &&
	       !strcmp(c->annotations[0].value, "1") && !strcmp(c->annotations[1].value, ""),
	   "annotations in order");
	ok(c->annotations_json != NULL, "annotations_json");

	struct oci_linux *l = &c->linux;
	ok(l->ns[OCI_NS_USER].present && l->ns[OCI_NS_TIME].present && !l->ns[OCI_NS_PID].present,
	   "namespaces");
	ok(l->ns[OCI_NS_CGROUP].present && !l->ns[OCI_NS_CGROUP].path, "empty ns path is none");
	is_str(l->ns[OCI_NS_NET].path, "/run/netns/x", "network ns path");
	ok(l->n_uid_mappings == 2 && l->uid_mappings[1].container_id == 1 &&
	       l->uid_mappings[1].size == 65536,
	   "uidMappings");
	is_int(l->n_gid_mappings, 1, "gidMappings");
	ok(l->time_monotonic.present && l->time_monotonic.secs == -86400 &&
	       l->time_monotonic.nanosecs == 5,
	   "timeOffsets.monotonic");
	ok(l->time_boottime.present && l->time_boottime.secs == 3 && !l->time_boottime.nanosecs,
	   "timeOffsets.boottime");
	if (is_int(l->n_devices, 3, "three devices")) {
		struct oci_device *d = l->devices;
		ok(d[0].type == 'c' && d[0].major == 10 && d[0].minor == 229, "fuse c 10:229");
		ok(d[0].has_mode && d[0].file_mode == 0666, "fileMode keeps permission bits");
		ok(d[0].has_uid && d[0].has_gid, "device uid/gid");
		ok(d[1].type == 'p' && !d[1].has_mode && !d[1].has_uid, "fifo without numbers");
		ok(d[2].type == 'b' && d[2].major == 8, "block device");
	}
	is_str(l->cgroups_path, "/hull-test/x", "cgroupsPath");
	ok(l->seccomp && json_object_is_type(l->seccomp, json_type_object), "seccomp kept");
	ok(!l->resources, "no resources");
	is_str(l->rootfs_propagation, "rslave", "rootfsPropagation as written");
	is_int(l->rootfs_propagation_flags, MS_SLAVE | MS_REC, "rootfsPropagation flags");
	ok(l->masked_paths && !l->masked_paths[0], "absent maskedPaths is an empty vector");
	ok(l->n_sysctl == 2 && !strcmp(l->sysctl[0].key, "net.ipv4.ip_forward") &&
	       !strcmp(l->sysctl[1].value, "8192"),
	   "sysctl");
	ok(l->has_personality && l->personality == PER_LINUX32, "personality LINUX32");
	is_str(l->mount_label, "ml", "mountLabel");
	oci_config_free(c);
}

static void test_small_valid(void)
{
	struct oci_config *c = parse(DOC(""));
	ok(c && !c->process && !c->n_mounts, "minimal config: no process, no mounts");
	oci_config_free(c);

	c = parse("{'ociVersion':'1','root':{'path':'r'},'process':null,'mounts':null,"
		  "'hostname':null,'linux':{'namespaces':null,'personality':{'domain':'LINUX'}}}");
	ok(c && !c->process && !c->hostname, "null means absent");
	ok(c && c->linux.has_personality && c->linux.personality == PER_LINUX, "personality LINUX");
	oci_config_free(c);

	c = parse(PROC(",'env':['A=','B=c=d'],'user':{'uid':4294967295}"));
	ok(c && c->process->n_env == 2 && c->process->user.uid == 4294967295u,
	   "env with empty value; uid max");
	oci_config_free(c);

	c = parse(LINUX("'rootfsPropagation':'','timeOffsets':{}"));
	ok(c && c->linux.rootfs_propagation_flags == 0 && !c->linux.time_boottime.present,
	   "empty propagation and timeOffsets");
	oci_config_free(c);

	static const struct {
		const char *name;
		unsigned long flags;
	} props[] = {{"private", MS_PRIVATE},
		     {"rprivate", MS_PRIVATE | MS_REC},
		     {"shared", MS_SHARED},
		     {"rshared", MS_SHARED | MS_REC},
		     {"slave", MS_SLAVE},
		     {"unbindable", MS_UNBINDABLE},
		     {"runbindable", MS_UNBINDABLE | MS_REC}};
	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
		char doc[256];
		snprintf(doc, sizeof(doc), LINUX("'rootfsPropagation':'%s'"), props[i].name);
		c = parse(doc);
		ok(c && c->linux.rootfs_propagation_flags == props[i].flags, "rootfsPropagation %s",
		   props[i].name);
		oci_config_free(c);
	}

	static const char *const policies[] = {"SCHED_OTHER", "SCHED_FIFO", "SCHED_RR",
					       "SCHED_BATCH", "SCHED_ISO",  "SCHED_IDLE"};
	for (int i = 0; i < 6; i++) {
		char doc[256];
		snprintf(doc, sizeof(doc), PROC(",'scheduler':{'policy':'%s'}"), policies[i]);
		c = parse(doc);
		ok(c && c->process->scheduler.policy == i, "scheduler policy %s", policies[i]);
		oci_config_free(c);
	}
	c = parse(PROC(",'scheduler':{'policy':'SCHED_FIFO','priority':99}"));
	ok(c && c->process->scheduler.priority == 99, "SCHED_FIFO priority");
	oci_config_free(c);
	c = parse(PROC(",'ioPriority':{'class':'IOPRIO_CLASS_RT'}"));
	ok(c && c->process->ioprio_class == IOPRIO_CLASS_RT && !c->process->ioprio_priority,
	   "ioPriority RT, default priority");
	oci_config_free(c);
}

static void test_errors(void)
{
	/* top level and root */
	expect_error("{'root':{'path':'r'}}", F "ociVersion: is required");
	expect_error("{'ociVersion':1,'root':{'path':'r'}}",
		     F "ociVersion: expected a string, got number");
	expect_error("{'ociVersion':'1'}", F "root.path: is required");
	expect_error("{'ociVersion':'1','root':'r'}", F "root: expected an object, got string");
	expect_error("{'ociVersion':'1','root':{}}", F "root.path: is required");
	expect_error("{'ociVersion':'1','root':{'path':''}}", F "root.path: must not be empty");
	expect_error("{'ociVersion':'1','root':{'path':'r','readonly':'yes'}}",
		     F "root.readonly: expected a boolean, got string");
	expect_error(DOC(",'hostname':['a']"), F "hostname: expected a string, got array");
	expect_error(DOC(",'hostname':'a\\u0000b'"),
		     F "hostname: must not contain a NUL character");

	/* process */
	expect_error(DOC(",'process':[]"), F "process: expected an object, got array");
	expect_error(DOC(",'process':{'cwd':'/'}"), F "process.args: is required");
	expect_error(DOC(",'process':{'cwd':'/','args':[]}"), F "process.args: must not be empty");
	expect_error(DOC(",'process':{'cwd':'/','args':'sh'}"),
		     F "process.args: expected an array, got string");
	expect_error(DOC(",'process':{'cwd':'/','args':['sh',1]}"),
		     F "process.args[1]: expected a string, got number");
	expect_error(DOC(",'process':{'args':['sh']}"), F "process.cwd: is required");
	expect_error(DOC(",'process':{'args':['sh'],'cwd':'tmp'}"),
		     F "process.cwd: must be an absolute path, got \"tmp\"");
	expect_error(PROC(",'env':['A=1','FOO']"),
		     F "process.env[1]: expected \"KEY=value\", got \"FOO\"");
	expect_error(PROC(",'terminal':1"), F "process.terminal: expected a boolean, got number");
	expect_error(
	    PROC(",'consoleSize':{'height':-1}"),
	    F "process.consoleSize.height: expected an integer from 0 to 4294967295, got -1");
	expect_error(PROC(",'user':{'uid':-1}"),
		     F "process.user.uid: expected an integer from 0 to 4294967295, got -1");
	expect_error(PROC(",'user':{'uid':4294967296}"), F
		     "process.user.uid: expected an integer from 0 to 4294967295, got 4294967296");
	expect_error(PROC(",'user':{'uid':1.5}"),
		     F "process.user.uid: expected an integer from 0 to 4294967295, got 1.5");
	expect_error(
	    PROC(",'user':{'gid':'0'}"),
	    F "process.user.gid: expected an integer from 0 to 4294967295, got string \"0\"");
	expect_error(PROC(",'user':{'gid':true}"),
		     F "process.user.gid: expected an integer from 0 to 4294967295, got boolean");
	expect_error(PROC(",'user':{'uid':18446744073709551615}"),
		     F "process.user.uid: expected an integer from 0 to 4294967295, got "
		       "18446744073709551615");
	expect_error(PROC(",'user':{'umask':512}"),
		     F "process.user.umask: expected an integer from 0 to 511, got 512");
	expect_error(PROC(",'user':{'additionalGids':[1,-5]}"),
		     F "process.user.additionalGids[1]: expected an integer from 0 to 4294967295");
	expect_error(PROC(",'user':{'username':5}"),
		     F "process.user.username: expected a string, got number");
	expect_error(PROC(",'rlimits':{}"), F "process.rlimits: expected an array, got object");
	expect_error(PROC(",'rlimits':[{'type':'RLIMIT_FOO','soft':1,'hard':1}]"),
		     F "process.rlimits[0].type: unknown rlimit type \"RLIMIT_FOO\"");
	expect_error(PROC(",'rlimits':[{'soft':1,'hard':1}]"),
		     F "process.rlimits[0].type: is required");
	expect_error(PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','hard':1}]"),
		     F "process.rlimits[0].soft: is required");
	expect_error(PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','soft':-1,'hard':1}]"), F
		     "process.rlimits[0].soft: expected an integer from 0 to 18446744073709551615, "
		     "got -1");
	expect_error(PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','soft':2048,'hard':1024}]"),
		     F "process.rlimits[0]: soft limit 2048 is greater than hard limit 1024");
	expect_error(PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','soft':1,'hard':1},"
			  "{'type':'RLIMIT_NOFILE','soft':1,'hard':1}]"),
		     F "process.rlimits[1].type: duplicate rlimit type \"RLIMIT_NOFILE\"");
	expect_error(PROC(",'capabilities':[]"),
		     F "process.capabilities: expected an object, got array");
	expect_error(PROC(",'capabilities':{'bounding':'CAP_KILL'}"),
		     F "process.capabilities.bounding: expected an array, got string");
	expect_error(PROC(",'capabilities':{'ambient':['CAP_KILL',7]}"),
		     F "process.capabilities.ambient[1]: expected a string, got number");
	expect_error(PROC(",'noNewPrivileges':'true'"),
		     F "process.noNewPrivileges: expected a boolean, got string");
	expect_error(PROC(",'oomScoreAdj':1001"),
		     F "process.oomScoreAdj: expected an integer from -1000 to 1000, got 1001");
	expect_error(PROC(",'apparmorProfile':{}"),
		     F "process.apparmorProfile: expected a string, got object");
	expect_error(PROC(",'ioPriority':{'class':'IOPRIO_CLASS_NONE'}"), F
		     "process.ioPriority.class: unknown I/O priority class \"IOPRIO_CLASS_NONE\"");
	expect_error(PROC(",'ioPriority':{'priority':1}"),
		     F "process.ioPriority.class: is required");
	expect_error(PROC(",'ioPriority':{'class':'IOPRIO_CLASS_BE','priority':8}"),
		     F "process.ioPriority.priority: expected an integer from 0 to 7, got 8");
	expect_error(PROC(",'scheduler':{}"), F "process.scheduler.policy: is required");
	expect_error(PROC(",'scheduler':{'policy':'SCHED_FOO'}"),
		     F "process.scheduler.policy: unknown scheduler policy \"SCHED_FOO\"");
	expect_error(PROC(",'scheduler':{'policy':'SCHED_OTHER','nice':20}"),
		     F "process.scheduler.nice: expected an integer from -20 to 19, got 20");
	expect_error(PROC(",'scheduler':{'policy':'SCHED_OTHER','priority':5}"),
		     F "process.scheduler.priority: can only be set with SCHED_FIFO or SCHED_RR");
	expect_error(
	    PROC(",'scheduler':{'policy':'SCHED_FIFO','flags':['SCHED_FLAG_RECLAIM','X']}"),
	    F "process.scheduler.flags[1]: unknown scheduler flag \"X\"");
	expect_error(PROC(",'scheduler':{'policy':'SCHED_FIFO','period':5}"),
		     F "process.scheduler.period: can only be set with SCHED_DEADLINE");

	/* mounts */
	expect_error(DOC(",'mounts':{}"), F "mounts: expected an array, got object");
	expect_error(DOC(",'mounts':[{'destination':'/a'},{'destination':'/b'},{'type':'tmpfs'}]"),
		     F "mounts[2].destination: is required");
	expect_error(DOC(",'mounts':[{'destination':'a'}]"),
		     F "mounts[0].destination: must be an absolute path, got \"a\"");
	expect_error(DOC(",'mounts':[{'destination':'/a','options':['ro',1]}]"),
		     F "mounts[0].options[1]: expected a string, got number");
	expect_error(DOC(",'mounts':[{'destination':'/a','type':3}]"),
		     F "mounts[0].type: expected a string, got number");
	expect_error(DOC(",'mounts':[5]"), F "mounts[0]: expected an object, got number");
	expect_error(DOC(",'mounts':[{'destination':'/a','uidMappings':[{'containerID':0,"
			 "'hostID':1,'size':0}]}]"),
		     F "mounts[0].uidMappings[0].size: expected an integer from 1 to 4294967295, "
		       "got 0");

	/* hooks */
	expect_error(DOC(",'hooks':[]"), F "hooks: expected an object, got array");
	expect_error(DOC(",'hooks':{'poststop':{}}"),
		     F "hooks.poststop: expected an array, got object");
	expect_error(DOC(",'hooks':{'prestart':[{'path':'/a'},{'args':['x']}]}"),
		     F "hooks.prestart[1].path: is required");
	expect_error(DOC(",'hooks':{'createContainer':[{'path':'a'}]}"),
		     F "hooks.createContainer[0].path: must be an absolute path, got \"a\"");
	expect_error(DOC(",'hooks':{'startContainer':[{'path':'/a','timeout':0}]}"),
		     F "hooks.startContainer[0].timeout: expected an integer from 1 to 2147483647, "
		       "got 0");
	expect_error(DOC(",'hooks':{'poststart':[{'path':'/a','env':['X']}]}"),
		     F "hooks.poststart[0].env[0]: expected \"KEY=value\", got \"X\"");
	expect_error(DOC(",'annotations':{'a':1}"),
		     F "annotations[\"a\"]: expected a string, got number");
	expect_error(DOC(",'annotations':[]"), F "annotations: expected an object, got array");

	/* linux */
	expect_error(DOC(",'linux':[]"), F "linux: expected an object, got array");
	expect_error(LINUX("'namespaces':[{'type':'foo'}]"),
		     F "linux.namespaces[0].type: unknown namespace type \"foo\"");
	expect_error(LINUX("'namespaces':[{'type':'pid'},{'type':'pid'}]"),
		     F "linux.namespaces[1].type: duplicate namespace type \"pid\"");
	expect_error(LINUX("'namespaces':[{'path':'/x'}]"),
		     F "linux.namespaces[0].type: is required");
	expect_error(LINUX("'namespaces':[{'type':'net'}]"),
		     F "linux.namespaces[0].type: unknown namespace type \"net\"");
	expect_error(LINUX("'namespaces':[{'type':'ipc','path':'proc/1/ns/ipc'}]"),
		     F "linux.namespaces[0].path: must be an absolute path");
	expect_error(LINUX("'uidMappings':[{'containerID':0,'size':1}]"),
		     F "linux.uidMappings[0].hostID: is required");
	expect_error(LINUX("'gidMappings':[{'containerID':0,'hostID':0,'size':0}]"), F
		     "linux.gidMappings[0].size: expected an integer from 1 to 4294967295, got 0");
	expect_error(LINUX("'timeOffsets':{'realtime':{'secs':1}}"),
		     F "linux.timeOffsets: unknown clock \"realtime\"");
	expect_error(
	    LINUX("'timeOffsets':{'boottime':{'nanosecs':1000000000}}"),
	    F "linux.timeOffsets.boottime.nanosecs: expected an integer from 0 to 999999999");
	expect_error(LINUX("'timeOffsets':{'monotonic':{'secs':'1'}}"),
		     F "linux.timeOffsets.monotonic.secs: expected an integer from");
	expect_error(LINUX("'devices':[{'path':'dev/x','type':'c','major':1,'minor':1}]"),
		     F "linux.devices[0].path: must be an absolute path");
	expect_error(LINUX("'devices':[{'path':'/dev/x','type':'x','major':1,'minor':1}]"),
		     F "linux.devices[0].type: expected \"c\", \"b\", \"u\" or \"p\", got \"x\"");
	expect_error(LINUX("'devices':[{'path':'/dev/x','major':1,'minor':1}]"),
		     F "linux.devices[0].type: is required");
	expect_error(LINUX("'devices':[{'path':'/dev/x','type':'u','minor':1}]"),
		     F "linux.devices[0].major: is required");
	expect_error(LINUX("'devices':[{'path':'/dev/x','type':'b','major':1}]"),
		     F "linux.devices[0].minor: is required");
	expect_error(LINUX("'devices':[{'path':'/dev/x','type':'c','major':1,'minor':1,'uid':-1}]"),
		     F "linux.devices[0].uid: expected an integer from 0 to 4294967295, got -1");
	expect_error(LINUX("'cgroupsPath':1"),
		     F "linux.cgroupsPath: expected a string, got number");
	expect_error(LINUX("'resources':[]"), F "linux.resources: expected an object, got array");
	expect_error(LINUX("'seccomp':'x'"), F "linux.seccomp: expected an object, got string");
	expect_error(LINUX("'rootfsPropagation':'bogus'"),
		     F "linux.rootfsPropagation: unknown propagation \"bogus\"");
	expect_error(LINUX("'maskedPaths':['/a','b']"),
		     F "linux.maskedPaths[1]: must be an absolute path, got \"b\"");
	expect_error(LINUX("'readonlyPaths':[null]"),
		     F "linux.readonlyPaths[0]: expected a string, got null");
	expect_error(LINUX("'sysctl':{'net.x':1}"),
		     F "linux.sysctl[\"net.x\"]: expected a string, got number");
	expect_error(LINUX("'personality':{'domain':'LINUX64'}"),
		     F "linux.personality.domain: unknown personality domain \"LINUX64\"");
	expect_error(LINUX("'personality':{}"), F "linux.personality.domain: is required");
	expect_error(LINUX("'mountLabel':false"),
		     F "linux.mountLabel: expected a string, got boolean");

	/* quoting of hostile values in messages */
	expect_error(PROC(",'env':['\\u001b[31mred']"),
		     F "process.env[0]: expected \"KEY=value\", got \"\\x1b[31mred\"");
	char doc[512];
	size_t n;
	/* Escapes are longer than what they stand for: the quote must still fit. */
	char ctl[1024];
	n = (size_t)snprintf(ctl, sizeof(ctl), "%s",
			     "{" BASE ",'process':{'args':['sh'],'cwd':'/','env':['");
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(ctl + n, sizeof(ctl) - n, "\\u0001");
	snprintf(ctl + n, sizeof(ctl) - n, "']}}");
	expect_error(ctl, F "process.env[0]: expected \"KEY=value\", got \"\\x01\\x01");
	ok(strstr(herr_msg(), "\\x01...\"") != NULL, "long escaped value is cut: %s", herr_msg());
	snprintf(doc, sizeof(doc), "{" BASE ",'linux':{'namespaces':[{'type':'");
	n = strlen(doc);
	memset(doc + n, 'z', 200);
	snprintf(doc + n + 200, sizeof(doc) - n - 200, "'}]}}");
	expect_error(doc, F "linux.namespaces[0].type: unknown namespace type \"zzzzzzzzzzzzzzzzzz"
			    "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz...\"");
}

static void test_json_errors(void)
{
	expect_error("", F "invalid JSON at line 1, column 1: unexpected end of input");
	expect_error("  \n", F "invalid JSON at line 2, column 1: unexpected end of input");
	expect_error("{\n  'ociVersion': '1',\n  x\n}", F "invalid JSON at line 3, column 3: ");
	expect_error("{'ociVersion':'1',}", F "invalid JSON at line 1, column 19: ");
	expect_error(DOC("") " x", F "invalid JSON at line 1, column ");
	expect_error("/* c */ {}", F "invalid JSON at line 1, column 1: ");
	expect_error("{'a':1", F "invalid JSON at line 1, column 7: unexpected end of input");
	expect_error("{'a':'b", F "invalid JSON at line 1, column 8: unexpected end of input");
	expect_error("1", F "expected a JSON object, got number");
	expect_error("[1]", F "expected a JSON object, got array");
	expect_error("null", F "expected a JSON object, got null");
	expect_error("\"s\"", F "expected a JSON object, got string");

	struct oci_config *c = NULL;
	ok(oci_config_parse(NULL, 0, NULL, &c) < 0 && !c &&
	       !strncmp(herr_msg(), "config.json: invalid JSON", 25),
	   "NULL data and filename");

	/* Whitespace after the document is fine. */
	c = parse(DOC("") "\n\n \t");
	ok(c, "trailing whitespace");
	oci_config_free(c);

	char deep[400];
	memset(deep, '[', 200);
	memset(deep + 200, ']', 200);
	c = NULL;
	int r = oci_config_parse(deep, sizeof(deep), FILE_, &c);
	ok(r < 0 && !c && strstr(herr_msg(), "invalid JSON") && strstr(herr_msg(), "too deep"),
	   "nesting beyond the depth limit: %s", herr_msg());
}

static void test_limits(void)
{
	/* 250k empty arrays: the complexity guard refuses before json-c allocates. */
	size_t n = 250000, len = 3 * n + 64;
	char *d = malloc(len), *p = d;
	p += sprintf(p, "{'x':[");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "[],");
	p[-1] = ']';
	*p++ = '}';
	*p = 0;
	for (char *q = d; *q; q++)
		if (*q == '\'')
			*q = '"';
	struct oci_config *c = NULL;
	int r = oci_config_parse(d, (size_t)(p - d), FILE_, &c);
	ok(r == -E2BIG && !c, "too many containers refused: %s", herr_msg());
	free(d);

	/* Brackets inside strings do not count. */
	n = 1 << 20;
	d = malloc(n + 256);
	p = d + sprintf(d, "{\"ociVersion\":\"1\",\"root\":{\"path\":\"r\"},\"hostname\":\"");
	memset(p, '[', n);
	p += n;
	p += sprintf(p, "\\\"\"}");
	c = NULL;
	r = oci_config_parse(d, (size_t)(p - d), FILE_, &c);
	ok(r == 0 && c && strlen(c->hostname) == n + 1, "1 MiB string of brackets parses");
	oci_config_free(c);
	free(d);

	c = NULL;
	r = oci_config_parse("{}", (size_t)300 << 20, FILE_, &c);
	ok(r == -EFBIG && !c, "over the size limit: %s", herr_msg());
}

static struct oci_mount mnt(const char *type, char **opts)
{
	struct oci_mount m = {.destination = "/x", .type = (char *)type, .options = opts};
	int r = oci_mount_parse_options(&m, FILE_, "mounts[0].options");
	if (r < 0)
		tap_diag("oci_mount_parse_options: %s", herr_msg());
	return m;
}

#define OPTS(...) ((char *[]){__VA_ARGS__, NULL})

static void test_mount_options(void)
{
	struct oci_mount m = mnt(NULL, NULL);
	ok(!m.bind && !m.flags && !m.clear_flags && !m.propagation && !m.data, "no options");

	m = mnt("tmpfs", OPTS("rbind", "ro", "nosuid", "rprivate"));
	ok(m.bind && m.recursive, "rbind");
	is_int(m.flags, MS_RDONLY | MS_NOSUID, "ro,nosuid");
	is_int(m.propagation, MS_PRIVATE | MS_REC, "rprivate");
	ok(!m.data, "no data");

	m = mnt(NULL, OPTS("bind"));
	ok(m.bind && !m.recursive, "bind is not recursive");
	m = mnt(NULL, OPTS("rbind", "bind"));
	ok(m.bind && m.recursive, "rbind then bind stays recursive");

	m = mnt(NULL, OPTS("rw", "suid", "dev", "exec", "async", "nomand", "atime", "diratime",
			   "norelatime", "nostrictatime", "nolazytime", "loud", "noiversion"));
	is_int(m.flags, 0, "clearing options set nothing");
	is_int(m.clear_flags,
	       MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_SYNCHRONOUS | MS_MANDLOCK |
		   MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME | MS_LAZYTIME |
		   MS_SILENT | MS_I_VERSION,
	       "clear_flags");

	m = mnt(NULL, OPTS("defaults", "remount", "sync", "dirsync", "mand", "noatime",
			   "nodiratime", "relatime", "strictatime", "lazytime", "silent",
			   "iversion", "nodev", "noexec"));
	is_int(m.flags,
	       MS_REMOUNT | MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK | MS_NOATIME | MS_NODIRATIME |
		   MS_RELATIME | MS_STRICTATIME | MS_LAZYTIME | MS_SILENT | MS_I_VERSION |
		   MS_NODEV | MS_NOEXEC,
	       "setting options");
	is_int(m.clear_flags, 0, "nothing to clear");

	m = mnt(NULL, OPTS("ro", "rw"));
	ok(m.flags == 0 && m.clear_flags == MS_RDONLY, "ro,rw: last wins");
	m = mnt(NULL, OPTS("rw", "ro"));
	ok(m.flags == MS_RDONLY && m.clear_flags == 0, "rw,ro: last wins");

	m = mnt(NULL, OPTS("rro", "rnosuid", "rnodev", "rnoexec", "rnodiratime", "rnosymfollow"));
	is_int(m.rec_attr_set,
	       MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
		   MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW,
	       "recursive set");
	is_int(m.rec_attr_clr, 0, "recursive set clears nothing");
	m = mnt(NULL, OPTS("rrw", "rsuid", "rdev", "rexec", "rdiratime", "rsymfollow"));
	is_int(m.rec_attr_clr,
	       MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
		   MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW,
	       "recursive clear");
	is_int(m.rec_attr_set, 0, "recursive clear sets nothing");
	m = mnt(NULL, OPTS("rro", "rrw"));
	ok(m.rec_attr_set == 0 && m.rec_attr_clr == MOUNT_ATTR_RDONLY, "rro,rrw: last wins");

	m = mnt(NULL, OPTS("rnoatime"));
	ok(m.rec_attr_set == MOUNT_ATTR_NOATIME && m.rec_attr_clr == MOUNT_ATTR__ATIME,
	   "rnoatime clears the whole atime field");
	m = mnt(NULL, OPTS("rstrictatime"));
	ok(m.rec_attr_set == MOUNT_ATTR_STRICTATIME && m.rec_attr_clr == MOUNT_ATTR__ATIME,
	   "rstrictatime");
	m = mnt(NULL, OPTS("rnoatime", "rrelatime"));
	ok(m.rec_attr_set == MOUNT_ATTR_RELATIME && m.rec_attr_clr == MOUNT_ATTR__ATIME,
	   "rnoatime,rrelatime: relatime");
	m = mnt(NULL, OPTS("rnoatime", "ratime"));
	ok(m.rec_attr_set == 0 && m.rec_attr_clr == MOUNT_ATTR__ATIME, "ratime undoes rnoatime");
	m = mnt(NULL, OPTS("rstrictatime", "rnostrictatime", "rnodev"));
	ok(m.rec_attr_set == MOUNT_ATTR_NODEV && m.rec_attr_clr == MOUNT_ATTR__ATIME,
	   "rnostrictatime undoes rstrictatime");
	m = mnt(NULL, OPTS("rnorelatime"));
	ok(m.rec_attr_set == 0 && m.rec_attr_clr == 0, "rnorelatime changes nothing");

	m = mnt(NULL, OPTS("tmpcopyup", "idmap"));
	ok(m.tmpcopyup && m.idmap && !m.ridmap, "tmpcopyup, idmap");
	m = mnt(NULL, OPTS("ridmap"));
	ok(m.ridmap && !m.idmap, "ridmap");

	m = mnt("bind", NULL);
	ok(m.bind && !m.recursive, "type bind implies bind");
	m = mnt("bind", OPTS("rbind"));
	ok(m.bind && m.recursive, "type bind with rbind");

	static const struct {
		const char *o;
		unsigned long p;
	} props[] = {{"shared", MS_SHARED},	    {"rshared", MS_SHARED | MS_REC},
		     {"slave", MS_SLAVE},	    {"rslave", MS_SLAVE | MS_REC},
		     {"private", MS_PRIVATE},	    {"rprivate", MS_PRIVATE | MS_REC},
		     {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC}};
	for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++) {
		m = mnt(NULL, OPTS((char *)props[i].o));
		is_int(m.propagation, props[i].p, "propagation %s", props[i].o);
	}
	m = mnt(NULL, OPTS("shared", "rslave"));
	is_int(m.propagation, MS_SLAVE | MS_REC, "last propagation wins");

	m = mnt("tmpfs", OPTS("mode=755", "nosuid", "", "size=65536k", "newinstance", "x-foo"));
	is_str(m.data, "mode=755,size=65536k,newinstance,x-foo", "unknown options become data");
	is_int(m.flags, MS_NOSUID, "known options do not");
	free(m.data);

	m = mnt("tmpfs", OPTS("uid=0"));
	is_str(m.data, "uid=0", "single data option");
	free(m.data);
}

static void test_names(void)
{
	is_int(oci_cap_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN, "CAP_SYS_ADMIN");
	is_int(oci_cap_from_name("cap_chown"), CAP_CHOWN, "case-insensitive");
	is_int(oci_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40, "CAP_CHECKPOINT_RESTORE");
	is_int(oci_cap_from_name("SYS_ADMIN"), -1, "prefix required");
	is_int(oci_cap_from_name("CAP_FOO"), -1, "unknown cap");
	is_int(oci_cap_from_name(NULL), -1, "NULL cap");
	is_int(oci_cap_last(), CAP_LAST_CAP, "oci_cap_last");
	bool all = true;
	for (int i = 0; i <= oci_cap_last(); i++)
		all = all && oci_cap_name(i) && oci_cap_from_name(oci_cap_name(i)) == i;
	ok(all, "every capability round-trips");
	is_str(oci_cap_name(CAP_NET_RAW), "CAP_NET_RAW", "oci_cap_name");
	ok(!oci_cap_name(-1) && !oci_cap_name(41), "oci_cap_name out of range");

	static const struct {
		const char *n;
		int r;
	} rl[] = {{"RLIMIT_CPU", RLIMIT_CPU},		{"RLIMIT_FSIZE", RLIMIT_FSIZE},
		  {"RLIMIT_DATA", RLIMIT_DATA},		{"RLIMIT_STACK", RLIMIT_STACK},
		  {"RLIMIT_CORE", RLIMIT_CORE},		{"RLIMIT_RSS", RLIMIT_RSS},
		  {"RLIMIT_NPROC", RLIMIT_NPROC},	{"RLIMIT_NOFILE", RLIMIT_NOFILE},
		  {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},	{"RLIMIT_AS", RLIMIT_AS},
		  {"RLIMIT_LOCKS", RLIMIT_LOCKS},	{"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
		  {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
		  {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},	{"RLIMIT_RTTIME", RLIMIT_RTTIME}};
	all = true;
	for (size_t i = 0; i < sizeof(rl) / sizeof(rl[0]); i++)
		all = all && oci_rlimit_from_name(rl[i].n) == rl[i].r;
	ok(all, "all 16 rlimits");
	ok(oci_rlimit_from_name("RLIMIT_FOO") == -1 &&
	       oci_rlimit_from_name("rlimit_nofile") == -1 && oci_rlimit_from_name("NOFILE") == -1,
	   "unknown rlimits");

	static const struct {
		const char *n;
		int s;
	} sig[] = {{"KILL", 9},
		   {"SIGKILL", 9},
		   {"9", 9},
		   {"sigterm", 15},
		   {"term", 15},
		   {"HUP", 1},
		   {"SIGCHLD", SIGCHLD},
		   {"CLD", SIGCHLD},
		   {"WINCH", 28},
		   {"SYS", SIGSYS},
		   {"1", 1},
		   {"64", 64},
		   {"SIGRTMIN", 34},
		   {"SIGRTMIN+3", 37},
		   {"RTMIN+30", 64},
		   {"RTMAX", 64},
		   {"RTMAX-1", 63},
		   {"sigrtmax-30", 34},
		   {"0", -1},
		   {"65", -1},
		   {"-9", -1},
		   {"+9", -1},
		   {"9x", -1},
		   {"", -1},
		   {"SIGFOO", -1},
		   {"SIG", -1},
		   {"RTMIN+31", -1},
		   {"RTMAX-31", -1},
		   {"RTMIN-1", -1},
		   {"RTMAX+1", -1},
		   {"RTMIN+", -1},
		   {"RTMIN+x", -1},
		   {"99999999999", -1}};
	for (size_t i = 0; i < sizeof(sig) / sizeof(sig[0]); i++)
		is_int(oci_signal_from_name(sig[i].n), sig[i].s, "signal \"%s\"", sig[i].n);
	ok(oci_signal_from_name(NULL) == -1, "NULL signal");

	static const char *const ns[] = {"pid", "network", "mount",  "ipc",
					 "uts", "user",	   "cgroup", "time"};
	all = true;
	for (int i = 0; i < OCI_NS_COUNT; i++)
		all = all && !strcmp(oci_ns_name(i), ns[i]);
	ok(all && OCI_NS_COUNT == 8, "namespace names");
	ok(!oci_ns_name(OCI_NS_COUNT) && !oci_ns_name((enum oci_ns) - 1), "namespace out of range");
}

static void test_unknown_caps(void)
{
	/* Capture stderr to see the warning. */
	char tmpl[] = "/tmp/hull-test-XXXXXX";
	int fd = mkstemp(tmpl);
	fflush(stderr);
	int saved = dup(2);
	dup2(fd, 2);
	struct oci_config *c =
	    parse(PROC(",'capabilities':{'bounding':['CAP_KILL','CAP_FOO'],'effective':[]}"));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char buf[512] = {0};
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	unlink(tmpl);
	if (!ok(c, "unknown capability is not an error"))
		return;
	is_int(c->process->caps.bounding, BIT(CAP_KILL), "known caps kept");
	ok(c->process->caps.skipped_unknown, "skipped_unknown set");
	is_str(n > 0 ? buf : "",
	       "hull: warning: process.capabilities.bounding: ignoring unknown capability "
	       "\"CAP_FOO\"\n",
	       "warning on stderr");
	oci_config_free(c);
}

static void test_process_parse(void)
{
	struct oci_config *c = parse(DOC(""));
	if (!c)
		return;
	struct json_object *o = json_tokener_parse("{\"args\":[\"ls\"],\"cwd\":\"/tmp\","
						   "\"env\":[\"A=b\"],\"user\":{\"uid\":7}}");
	struct oci_process p;
	int r = oci_process_parse(c, o, "", &p);
	/* The tree may go: everything was copied into the config. */
	json_object_put(o);
	ok(r == 0 && !strcmp(p.args[0], "ls") && !strcmp(p.cwd, "/tmp") && p.user.uid == 7 &&
	       !strcmp(p.env[0], "A=b"),
	   "oci_process_parse on a separate document");
	o = json_tokener_parse("{\"args\":[\"ls\"]}");
	r = oci_process_parse(c, o, "", &p);
	json_object_put(o);
	ok(r < 0 && !strcmp(herr_msg(), FILE_ ": cwd: is required"), "empty where: %s", herr_msg());
	o = json_tokener_parse("[]");
	r = oci_process_parse(c, o, "process", &p);
	json_object_put(o);
	ok(r < 0 && !strcmp(herr_msg(), FILE_ ": process: expected an object, got array"),
	   "not an object: %s", herr_msg());
	oci_config_free(c);
}

static void test_load(void)
{
	char dir[] = "/tmp/hull-test-XXXXXX", path[64], want[128];
	if (!ok(mkdtemp(dir), "mkdtemp"))
		return;
	snprintf(path, sizeof(path), "%s/config.json", dir);

	struct oci_config *c = NULL;
	int r = oci_config_load(dir, &c);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	ok(r == -ENOENT && !c && !strcmp(herr_msg(), want), "missing file: %s", herr_msg());

	char *d = unquote(runc_spec);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ok(fd >= 0 && write(fd, d, strlen(d)) == (ssize_t)strlen(d), "write config.json");
	close(fd);
	free(d);
	r = oci_config_load(dir, &c);
	ok(r == 0 && c && !strcmp(c->path, path) && c->n_mounts == 7, "load runc spec");
	oci_config_free(c);

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	ok(write(fd, "{\n\"a\":\n", 7) == 7, "write broken config.json");
	close(fd);
	r = oci_config_load(dir, &c);
	snprintf(want, sizeof(want),
		 "%s: invalid JSON at line 3, column 1: unexpected end of input", path);
	ok(r == -EINVAL && !strcmp(herr_msg(), want), "broken file: %s", herr_msg());

	unlink(path);
	mkdir(path, 0755);
	r = oci_config_load(dir, &c);
	ok(r < 0 && strstr(herr_msg(), "not a regular file"), "directory: %s", herr_msg());
	rmdir(path);
	rmdir(dir);
}

/* Mangled copies of a valid document must parse or fail, never crash or leak (run under ASan). */
static void test_mutations(void)
{
	char *base = unquote(runc_spec);
	size_t len = strlen(base);
	char *d = malloc(len + 1);
	unsigned seed = 12345;
	int parsed = 0;
	static const char bytes[] = "{}[]\",:0-9e.\\ atnfu'x";
	/* Mangled capability names warn; keep stderr readable. */
	fflush(stderr);
	int saved = dup(2), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	dup2(null, 2);
	close(null);
	for (int i = 0; i < 3000; i++) {
		memcpy(d, base, len + 1);
		size_t dl = len;
		for (int k = 0; k < 1 + i % 4 && dl > 0; k++) {
			seed = seed * 1103515245 + 12345;
			size_t pos = (seed >> 8) % dl;
			switch ((seed >> 4) % 3) {
			case 0:
				d[pos] = bytes[(seed >> 16) % (sizeof(bytes) - 1)];
				break;
			case 1:
				memmove(d + pos, d + pos + 1, dl - pos);
				dl--;
				break;
			default:
				dl = pos;
				d[dl] = 0;
				break;
			}
		}
		struct oci_config *c = NULL;
		if (oci_config_parse(d, dl, FILE_, &c) == 0) {
			parsed++;
			oci_config_free(c);
		} else if (strncmp(herr_msg(), F, strlen(F)) != 0) {
			ok(0, "message without the file name: %s", herr_msg());
			break;
		}
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ok(1, "3000 mutated documents (%d parsed)", parsed);
	free(d);
	free(base);
}

int main(void)
{
	test_runc_spec();
	test_full();
	test_small_valid();
	test_errors();
	test_json_errors();
	test_limits();
	test_mount_options();
	test_names();
	test_unknown_caps();
	test_process_parse();
	test_load();
	test_mutations();
	return tap_done();
}
