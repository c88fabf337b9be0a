/*
 * linux.seccomp: error messages from build, and filters really loaded into
 * forked children (which then report what their syscalls did).
 */
#include "tap.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "runtime/seccomp.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <json-c/json.h>
#include <seccomp.h>

#define FILE_ "/b/config.json"
#define F     FILE_ ": "

#define MYERR	 121 /* EREMOTEIO: no syscall here fails with it by itself */
#define QBUF_MAX 160 /* seccomp.c quotes a value in at most this much */

/* Fixtures use ' for ", so they read like JSON. */
static struct json_object *doc(const char *sq)
{
	char *d = strdup(sq);
	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	struct json_object *j = json_tokener_parse(d);
	if (!j)
		tap_diag("fixture does not parse: %s", d);
	free(d);
	return j;
}

static int build_rc(const char *sq, struct hull_seccomp **out)
{
	struct json_object *j = doc(sq);
	herr_clear();
	int r = hull_seccomp_build(j, FILE_, out);
	json_object_put(j);
	return r;
}

static struct hull_seccomp *build(const char *sq)
{
	struct hull_seccomp *s = NULL;
	if (build_rc(sq, &s) < 0)
		tap_diag("unexpected error: %s", herr_msg());
	return s;
}

static void expect_error(const char *sq, const char *want)
{
	struct hull_seccomp *s = NULL;
	int r = build_rc(sq, &s);
	const char *msg = r < 0 ? herr_msg() : "(built without error)";
	has_prefix(msg, want, "error: %s", want + strlen(F));
	ok(r < 0 ? !s : !!s, "  and *out matches the result");
	hull_seccomp_free(s);
}

static void test_errors(void)
{
	expect_error("[]", F "linux.seccomp: expected an object, got array");
	expect_error("{}", F "linux.seccomp.defaultAction: required");
	expect_error("{'defaultAction':1}", F "linux.seccomp.defaultAction: expected a string");
	expect_error("{'defaultAction':'SCMP_ACT_NOPE'}",
		     F "linux.seccomp.defaultAction: unknown action \"SCMP_ACT_NOPE\"");
	char ctl[1024];
	int o = snprintf(ctl, sizeof(ctl), "{'defaultAction':'");
	for (int i = 0; i < 100; i++)
		o += snprintf(ctl + o, sizeof(ctl) - (size_t)o, "\\u0001");
	snprintf(ctl + o, sizeof(ctl) - (size_t)o, "'}");
	expect_error(ctl, F "linux.seccomp.defaultAction: unknown action \"\\x01\\x01");
	ok(strlen(herr_msg()) < 60 + QBUF_MAX && strstr(herr_msg(), "...\""),
	   "  quoted, escaped, cut short");
	expect_error("{'defaultAction':'SCMP_ACT_NOTIFY'}",
		     F "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be used as default "
		       "action");
	expect_error("{'defaultAction':'SCMP_ACT_ALLOW','defaultErrnoRet':1}",
		     F "linux.seccomp.defaultErrnoRet: not valid with SCMP_ACT_ALLOW");
	expect_error("{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':70000}",
		     F "linux.seccomp.defaultErrnoRet: expected an integer from 0 to 65535, got "
		       "70000");
	expect_error("{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':-1}", F
		     "linux.seccomp.defaultErrnoRet: expected an integer from 0 to 65535, got -1");
	expect_error("{'defaultAction':'SCMP_ACT_ALLOW','architectures':'SCMP_ARCH_X86'}",
		     F "linux.seccomp.architectures: expected an array, got string");
	expect_error("{'defaultAction':'SCMP_ACT_ALLOW',"
		     "'architectures':['SCMP_ARCH_X86','SCMP_ARCH_VAX']}",
		     F "linux.seccomp.architectures[1]: unknown architecture \"SCMP_ARCH_VAX\"");
	expect_error("{'defaultAction':'SCMP_ACT_ALLOW','architectures':['x86_64']}",
		     F "linux.seccomp.architectures[0]: unknown architecture \"x86_64\"");
	expect_error("{'defaultAction':'SCMP_ACT_ALLOW','architectures':['SCMP_ARCH_x86_64']}",
		     F "linux.seccomp.architectures[0]: unknown architecture");
	expect_error("{'defaultAction':'SCMP_ACT_ALLOW','flags':['SECCOMP_FILTER_FLAG_NOPE']}",
		     F "linux.seccomp.flags[0]: unknown flag \"SECCOMP_FILTER_FLAG_NOPE\"");
	expect_error("{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':7}",
		     F "linux.seccomp.listenerPath: expected a string, got number");
	expect_error("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':{}}",
		     F "linux.seccomp.syscalls: expected an array, got object");
	expect_error("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[7]}",
		     F "linux.seccomp.syscalls[0]: expected an object, got number");

	const char *head = "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':["
			   "{'names':['getpid'],'action':'SCMP_ACT_ERRNO'},"
			   "{'names':['getppid'],'action':'SCMP_ACT_KILL'},"
			   "{'names':['getuid'],'action':'SCMP_ACT_TRAP'},";
	struct {
		const char *entry, *want;
	} cases[] = {
	    {"{'names':['gettid'],'action':'SCMP_ACT_FOO'}",
	     F "linux.seccomp.syscalls[3].action: unknown action \"SCMP_ACT_FOO\""},
	    {"{'names':['gettid']}", F "linux.seccomp.syscalls[3].action: required"},
	    {"{'action':'SCMP_ACT_ERRNO'}", F "linux.seccomp.syscalls[3].names: required"},
	    {"{'names':'gettid','action':'SCMP_ACT_ERRNO'}",
	     F "linux.seccomp.syscalls[3].names: expected an array, got string"},
	    {"{'names':['gettid',5],'action':'SCMP_ACT_ERRNO'}",
	     F "linux.seccomp.syscalls[3].names[1]: expected a string, got number"},
	    {"{'names':['gettid',''],'action':'SCMP_ACT_ERRNO'}",
	     F "linux.seccomp.syscalls[3].names[1]: must not be empty"},
	    {"{'name':7,'action':'SCMP_ACT_ERRNO'}",
	     F "linux.seccomp.syscalls[3].name: expected a string, got number"},
	    {"{'names':['gettid'],'action':'SCMP_ACT_KILL','errnoRet':1}",
	     F "linux.seccomp.syscalls[3].errnoRet: not valid with SCMP_ACT_KILL (only "
	       "SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one)"},
	    {"{'names':['gettid'],'action':'SCMP_ACT_ERRNO','errnoRet':'1'}",
	     F "linux.seccomp.syscalls[3].errnoRet: expected an integer from 0 to 65535, got "
	       "string \"1\""},
	    {"{'names':['gettid'],'action':'SCMP_ACT_ERRNO','args':{}}",
	     F "linux.seccomp.syscalls[3].args: expected an array, got object"},
	    {"{'names':['gettid'],'action':'SCMP_ACT_ERRNO','args':[{'index':6,'value':1,'op':"
	     "'SCMP_CMP_EQ'}]}",
	     F "linux.seccomp.syscalls[3].args[0].index: expected an integer from 0 to 5, got 6"},
	    {"{'names':['gettid'],'action':'SCMP_ACT_ERRNO','args':[{'index':0,'value':1,'op':"
	     "'SCMP_CMP_EQ'},{'index':1,'value':1,'op':'SCMP_CMP_LIKE'}]}",
	     F "linux.seccomp.syscalls[3].args[1].op: unknown operator \"SCMP_CMP_LIKE\""},
	    {"{'names':['gettid'],'action':'SCMP_ACT_ERRNO','args':[{'index':0,'op':'SCMP_CMP_EQ'}]"
	     "}",
	     F "linux.seccomp.syscalls[3].args[0].value: required"},
	    {"{'names':['gettid'],'action':'SCMP_ACT_ERRNO','args':[{'value':0,'op':'SCMP_CMP_EQ'}]"
	     "}",
	     F "linux.seccomp.syscalls[3].args[0].index: required"},
	    {"{'names':['gettid'],'action':'SCMP_ACT_ERRNO','args':[{'index':0,'value':0}]}",
	     F "linux.seccomp.syscalls[3].args[0].op: required"},
	    {"{'names':['gettid'],'action':'SCMP_ACT_ERRNO','args':[{'index':0,'value':-1,'op':"
	     "'SCMP_CMP_EQ'}]}",
	     F "linux.seccomp.syscalls[3].args[0].value: expected an integer from 0 to "
	       "18446744073709551615, got -1"},
	    {"{'names':['read','write'],'action':'SCMP_ACT_NOTIFY'}",
	     F "linux.seccomp.syscalls[3].names[1]: SCMP_ACT_NOTIFY cannot be used for the write "
	       "syscall"},
	    {"{'names':['gettid'],'action':'SCMP_ACT_KILL','args':[{'index':0,'value':1,'op':"
	     "'SCMP_CMP_EQ'}]},{'names':['gettid'],'action':'SCMP_ACT_TRAP','args':[{'index':0,"
	     "'value':1,'op':'SCMP_CMP_EQ'}]}",
	     F "linux.seccomp.syscalls[4].names[0]: \"gettid\" already has a rule with these "
	       "conditions and another action"},
	    {"{'names':['sendmsg'],'action':'SCMP_ACT_NOTIFY'}",
	     F "linux.seccomp.syscalls[3].names[0]: SCMP_ACT_NOTIFY cannot be used for the "
	       "sendmsg syscall"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char buf[1024];
		snprintf(buf, sizeof(buf), "%s%s]}", head, cases[i].entry);
		expect_error(buf, cases[i].want);
	}
}

/* ---- children ---- */

/* Exit 100 when the load fails; core dumps off, as SIGSYS is expected. */
static int run_child(const struct hull_seccomp *s, int (*fn)(void *), void *arg)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		struct rlimit no = {0, 0};
		setrlimit(RLIMIT_CORE, &no);
		int nfd;
		if (hull_seccomp_load(s, &nfd) < 0) {
			fprintf(stderr, "# child: %s\n", herr_msg());
			_exit(100);
		}
		/* Not _exit(): the sanitizers intercept it and need syscalls a profile may deny. */
		syscall(SYS_exit_group, fn(arg));
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}

/* Exit 0 when syscall nr with args fails with errno `want` (0: succeeds). */
struct call {
	long nr;
	unsigned long a0, a1;
	int want;
};

static int do_call(void *arg)
{
	struct call *c = arg;
	errno = 0;
	long r = syscall(c->nr, c->a0, c->a1, 0, 0, 0, 0);
	if (c->want)
		return r == -1 && errno == c->want ? 0 : 1;
	return r >= 0 ? 0 : 2;
}

static void expect_call(const struct hull_seccomp *s, long nr, unsigned long a0, unsigned long a1,
			int want, const char *name)
{
	struct call c = {nr, a0, a1, want};
	int st = run_child(s, do_call, &c);
	if (!ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", name))
		tap_diag("  wait status 0x%x", st);
}

static void expect_signal(const struct hull_seccomp *s, long nr, int sig, const char *name)
{
	struct call c = {nr, 0, 0, 0};
	int st = run_child(s, do_call, &c);
	if (!ok(WIFSIGNALED(st) && WTERMSIG(st) == sig, "%s", name))
		tap_diag("  wait status 0x%x", st);
}

static void test_actions(void)
{
	struct hull_seccomp *s;

	s = build("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':["
		  "{'names':['getpid'],'action':'SCMP_ACT_ERRNO','errnoRet':121},"
		  "{'names':['getppid'],'action':'SCMP_ACT_ERRNO'}]}");
	ok(s, "ERRNO profile builds");
	expect_call(s, SYS_getpid, 0, 0, MYERR, "ERRNO with errnoRet 121: getpid fails with it");
	expect_call(s, SYS_getppid, 0, 0, EPERM, "ERRNO without errnoRet: EPERM");
	expect_call(s, SYS_gettid, 0, 0, 0, "other syscalls pass");
	hull_seccomp_free(s);

	s = build("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':["
		  "{'names':['getpid'],'action':'SCMP_ACT_KILL_PROCESS'},"
		  "{'names':['getppid'],'action':'SCMP_ACT_TRAP'},"
		  "{'names':['getuid'],'action':'SCMP_ACT_KILL'},"
		  "{'names':['getgid'],'action':'SCMP_ACT_KILL_THREAD'},"
		  "{'names':['geteuid'],'action':'SCMP_ACT_LOG'},"
		  "{'names':['getegid'],'action':'SCMP_ACT_TRACE','errnoRet':5}]}");
	ok(s, "kill/trap/log/trace profile builds");
	expect_signal(s, SYS_getpid, SIGSYS, "KILL_PROCESS: SIGSYS");
	expect_signal(s, SYS_getppid, SIGSYS, "TRAP: SIGSYS (no handler)");
	expect_signal(s, SYS_getuid, SIGSYS, "KILL: SIGSYS");
	expect_signal(s, SYS_getgid, SIGSYS, "KILL_THREAD: SIGSYS");
	expect_call(s, SYS_geteuid, 0, 0, 0, "LOG: allowed");
	expect_call(s, SYS_getegid, 0, 0, ENOSYS, "TRACE without a tracer: ENOSYS");
	hull_seccomp_free(s);

	/* After loading, the child makes two syscalls: getppid and exit_group. */
	s = build("{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':121,'syscalls':["
		  "{'names':['exit_group'],'action':'SCMP_ACT_ALLOW'},"
		  "{'names':['getpid'],'action':'SCMP_ACT_ERRNO','errnoRet':121}]}");
	ok(s, "default ERRNO with defaultErrnoRet builds (a rule equal to it is skipped)");
	expect_call(s, SYS_getppid, 0, 0, MYERR, "defaultErrnoRet applies");
	hull_seccomp_free(s);

	s = build("{'defaultAction':'SCMP_ACT_ERRNO','syscalls':["
		  "{'names':['getpid'],'action':'SCMP_ACT_ERRNO'},"
		  "{'names':['exit_group'],'action':'SCMP_ACT_ALLOW'}]}");
	ok(s, "a rule equal to the default (both EPERM) is skipped");
	expect_call(s, SYS_getppid, 0, 0, EPERM, "default ERRNO is EPERM");
	hull_seccomp_free(s);
}

static void test_args(void)
{
	struct hull_seccomp *s;

	s = build("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['personality'],"
		  "'action':'SCMP_ACT_ERRNO','errnoRet':121,"
		  "'args':[{'index':0,'value':4294967295,'op':'SCMP_CMP_EQ'}]}]}");
	ok(s, "personality(0xffffffff) rule builds");
	expect_call(s, SYS_personality, 0xffffffff, 0, MYERR, "personality(0xffffffff) blocked");
	expect_call(s, SYS_personality, 0, 0, 0, "personality(PER_LINUX) allowed");
	hull_seccomp_free(s);

	/* getppid ignores its arguments, but the filter sees them. */
	s = build("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],"
		  "'action':'SCMP_ACT_ERRNO','errnoRet':121,'args':["
		  "{'index':0,'value':10,'op':'SCMP_CMP_GE'},"
		  "{'index':1,'value':240,'valueTwo':16,'op':'SCMP_CMP_MASKED_EQ'}]}]}");
	ok(s, "two conditions on two args build");
	expect_call(s, SYS_getppid, 10, 0x1f, MYERR, "GE and MASKED_EQ both true: blocked");
	expect_call(s, SYS_getppid, 9, 0x1f, 0, "GE false: allowed (AND)");
	expect_call(s, SYS_getppid, 10, 0x2f, 0, "MASKED_EQ false: allowed (AND)");
	hull_seccomp_free(s);

	s = build("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],"
		  "'action':'SCMP_ACT_ERRNO','errnoRet':121,'args':["
		  "{'index':0,'value':1,'op':'SCMP_CMP_EQ'},"
		  "{'index':0,'value':2,'op':'SCMP_CMP_EQ'},"
		  "{'index':1,'value':7,'op':'SCMP_CMP_EQ'}]}]}");
	ok(s, "two conditions on one arg build");
	expect_call(s, SYS_getppid, 1, 0, MYERR, "split rules OR: arg0 == 1 blocked");
	expect_call(s, SYS_getppid, 2, 0, MYERR, "split rules OR: arg0 == 2 blocked");
	expect_call(s, SYS_getppid, 3, 7, MYERR, "split rules OR: arg1 == 7 blocked");
	expect_call(s, SYS_getppid, 3, 0, 0, "split rules OR: neither allowed");
	hull_seccomp_free(s);

	s = build("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],"
		  "'action':'SCMP_ACT_ERRNO','errnoRet':121,'args':["
		  "{'index':0,'value':18446744069414584321,'op':'SCMP_CMP_EQ'}]}]}");
	ok(s, "a 64-bit value builds");
	expect_call(s, SYS_getppid, 0xffffffff00000001ul, 0, MYERR, "64-bit EQ: match blocked");
	expect_call(s, SYS_getppid, 1, 0, 0, "64-bit EQ: low half alone allowed");
	hull_seccomp_free(s);
}

static void test_names(void)
{
	struct hull_seccomp *s;

	s = build("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['no_such_syscall_x',"
		  "'getpid'],'action':'SCMP_ACT_ERRNO','errnoRet':121},{'names':['nope_either'],"
		  "'action':'SCMP_ACT_KILL'}]}");
	ok(s, "unknown syscall names are skipped");
	expect_call(s, SYS_getpid, 0, 0, MYERR, "  and the known one still applies");
	hull_seccomp_free(s);

	s = build("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'name':'getpid',"
		  "'action':'SCMP_ACT_ERRNO','errnoRet':121}]}");
	ok(s, "legacy \"name\" builds");
	expect_call(s, SYS_getpid, 0, 0, MYERR, "  and applies");
	hull_seccomp_free(s);

	s = build("{'defaultAction':'SCMP_ACT_ALLOW','architectures':['SCMP_ARCH_X86_64',"
		  "'SCMP_ARCH_X86','SCMP_ARCH_X32','SCMP_ARCH_AARCH64','SCMP_ARCH_ARM'],"
		  "'syscalls':[{'names':['getpid','socketcall'],'action':'SCMP_ACT_ERRNO',"
		  "'errnoRet':121}]}");
	ok(s, "several architectures (the native one included) build");
	expect_call(s, SYS_getpid, 0, 0, MYERR, "  and the rule applies");
	hull_seccomp_free(s);

	/* A docker-sized profile: every syscall this libseccomp knows, allowed, on three arches. */
	struct json_object *names = json_object_new_array();
	for (int nr = 0; nr < 1024; nr++) {
		char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		if (n && strcmp(n, "getpid") != 0)
			json_object_array_add(names, json_object_new_string(n));
		free(n);
	}
	size_t count = json_object_array_length(names);
	struct json_object *rule = json_object_new_object(), *rules = json_object_new_array();
	json_object_object_add(rule, "names", names);
	json_object_object_add(rule, "action", json_object_new_string("SCMP_ACT_ALLOW"));
	json_object_array_add(rules, rule);
	struct json_object *big = doc("{'defaultAction':'SCMP_ACT_ERRNO','defaultErrnoRet':121,"
				      "'architectures':['SCMP_ARCH_X86_64','SCMP_ARCH_X86',"
				      "'SCMP_ARCH_X32']}");
	json_object_object_add(big, "syscalls", rules);
	s = NULL;
	int r = hull_seccomp_build(big, FILE_, &s);
	if (!ok(r == 0 && s, "a profile allowing %zu syscalls builds", count))
		tap_diag("  %s", herr_msg());
	expect_call(s, SYS_gettid, 0, 0, 0, "  gettid allowed");
	expect_call(s, SYS_getpid, 0, 0, MYERR, "  getpid gets the default");
	hull_seccomp_free(s);
	json_object_put(big);

	s = (struct hull_seccomp *)1;
	ok(hull_seccomp_build(NULL, FILE_, &s) == 0 && s == NULL, "no linux.seccomp: NULL");
	int fd = 7;
	ok(hull_seccomp_load(NULL, &fd) == 0 && fd == -1, "loading NULL does nothing");
}

static int check_flags(void *arg)
{
	(void)arg;
	return prctl(PR_GET_SECCOMP, 0, 0, 0, 0) == 2 ? 0 : 1;
}

static void test_flags(void)
{
	struct hull_seccomp *s;

	s = build("{'defaultAction':'SCMP_ACT_ALLOW','flags':['SECCOMP_FILTER_FLAG_TSYNC',"
		  "'SECCOMP_FILTER_FLAG_LOG','SECCOMP_FILTER_FLAG_SPEC_ALLOW'],'syscalls':["
		  "{'names':['getpid'],'action':'SCMP_ACT_ERRNO','errnoRet':121}]}");
	ok(s, "TSYNC, LOG, SPEC_ALLOW build");
	int st = run_child(s, check_flags, NULL);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "  and load (seccomp mode 2)");
	hull_seccomp_free(s);

	s = NULL;
	int r = build_rc("{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'/x','flags':["
			 "'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV','SECCOMP_FILTER_FLAG_TSYNC'],"
			 "'syscalls':[{'names':['getppid'],'action':'SCMP_ACT_NOTIFY'}]}",
			 &s);
	if (r == 0)
		ok(s, "WAIT_KILLABLE_RECV and TSYNC with NOTIFY build");
	else
		ok(strstr(herr_msg(), "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"),
		   "an old kernel's refusal names WAIT_KILLABLE_RECV: %s", herr_msg());
	if (s) {
		st = run_child(s, check_flags, NULL);
		ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "  and load");
	}
	hull_seccomp_free(s);

	s = build("{'defaultAction':'SCMP_ACT_ALLOW','flags':["
		  "'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']}");
	ok(s, "WAIT_KILLABLE_RECV without NOTIFY builds (and is dropped)");
	st = run_child(s, check_flags, NULL);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "  and loads");
	hull_seccomp_free(s);
}

/* Whether CAP_SYS_ADMIN is effective, after clearing it from the effective set if drop. */
static bool sys_admin(bool drop)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	bool had = d[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective & CAP_TO_MASK(CAP_SYS_ADMIN);
	d[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	if (drop && had && syscall(SYS_capset, &h, d) < 0)
		return true;
	return had && !drop;
}

static int nnp_child(const struct hull_seccomp *s, bool drop)
{
	if (drop && sys_admin(true))
		return 11;
	if (hull_seccomp_load(s, NULL) < 0)
		return 12;
	int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
	return drop ? (nnp == 1 ? 0 : 13) : (nnp == 0 ? 0 : 14);
}

static void test_nnp(void)
{
	struct hull_seccomp *s = build("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':["
				       "{'names':['getpid'],'action':'SCMP_ACT_ERRNO'}]}");
	for (int drop = 0; drop < 2; drop++) {
		if (!drop && !sys_admin(false)) {
			ok(1, "# SKIP no CAP_SYS_ADMIN");
			continue;
		}
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			_exit(nnp_child(s, drop));
		int st;
		waitpid(pid, &st, 0);
		if (!ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s",
			drop ? "without CAP_SYS_ADMIN, load sets no_new_privs"
			     : "with CAP_SYS_ADMIN, load leaves no_new_privs alone"))
			tap_diag("  wait status 0x%x", st);
	}
	hull_seccomp_free(s);
}

/* ---- notify ---- */

static int send_fd(int sock, int fd)
{
	char c = 'f';
	struct iovec iov = {&c, 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u = {0};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char c;
	struct iovec iov = {&c, 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	if (recvmsg(sock, &mh, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/* The child loads, hands its listener over, then calls getppid, which we answer. */
static void test_notify(void)
{
	const char *path, *meta;
	struct hull_seccomp *s;

	s = build("{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'/run/agent.sock',"
		  "'listenerMetadata':'meta','syscalls':[{'names':['getppid'],"
		  "'action':'SCMP_ACT_NOTIFY'}]}");
	ok(s, "NOTIFY profile builds");
	ok(hull_seccomp_has_notify(s), "  has notify rules");
	ok(hull_seccomp_wants_listener(s, &path, &meta), "  wants a listener");
	is_str(path, "/run/agent.sock", "  listenerPath");
	is_str(meta, "meta", "  listenerMetadata");

	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		ok(0, "socketpair");
		return;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int nfd = -1;
		close(sv[0]);
		if (hull_seccomp_load(s, &nfd) < 0)
			_exit(1);
		if (nfd < 0 || !(fcntl(nfd, F_GETFD) & FD_CLOEXEC))
			_exit(2);
		if (send_fd(sv[1], nfd) < 0)
			_exit(3);
		errno = 0;
		long r = syscall(SYS_getppid);
		_exit(r == -1 && errno == MYERR ? 0 : 4);
	}
	close(sv[1]);
	int nfd = recv_fd(sv[0]);
	close(sv[0]);
	ok(nfd >= 0, "the child's load returned a listener fd");

	struct seccomp_notif req = {0};
	struct pollfd pfd = {nfd, POLLIN, 0};
	if (nfd >= 0 && poll(&pfd, 1, 10000) == 1 &&
	    ioctl(nfd, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
		is_int(req.data.nr, SYS_getppid, "the listener sees the child's getppid");
		struct seccomp_notif_resp resp = {.id = req.id, .error = -MYERR};
		ok(ioctl(nfd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0, "and answers it");
	} else {
		ok(0, "no notification within 10s");
		kill(pid, SIGKILL);
	}
	if (nfd >= 0)
		close(nfd);
	int st;
	waitpid(pid, &st, 0);
	if (!ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the child got the answer"))
		tap_diag("  wait status 0x%x", st);
	hull_seccomp_free(s);

	expect_error("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getppid'],"
		     "'action':'SCMP_ACT_NOTIFY'}]}",
		     F "linux.seccomp.listenerPath: required (a unix socket path) when a rule uses "
		       "SCMP_ACT_NOTIFY");
	expect_error("{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'','syscalls':[{'names':"
		     "['getppid'],'action':'SCMP_ACT_NOTIFY'}]}",
		     F "linux.seccomp.listenerPath: required (a unix socket path) when a rule uses "
		       "SCMP_ACT_NOTIFY");
	s = build("{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'/x','syscalls':[{'names':"
		  "['getppid'],'action':'SCMP_ACT_NOTIFY'}]}");
	ok(s && hull_seccomp_has_notify(s) && hull_seccomp_wants_listener(s, NULL, NULL),
	   "NOTIFY with listenerPath: a listener wanted");
	hull_seccomp_free(s);
	s = build("{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'/x'}");
	ok(s && !hull_seccomp_wants_listener(s, NULL, NULL),
	   "listenerPath without NOTIFY rules: accepted, no listener wanted");
	hull_seccomp_free(s);

	s = build("{'defaultAction':'SCMP_ACT_ALLOW','listenerPath':'/x','syscalls':[{'names':"
		  "['no_such_syscall_x'],'action':'SCMP_ACT_NOTIFY'}]}");
	ok(s && !hull_seccomp_has_notify(s), "NOTIFY on unknown names only: no notify rule");
	hull_seccomp_free(s);

	s = build("{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getpid'],"
		  "'action':'SCMP_ACT_ERRNO'}]}");
	int fd = 7;
	pid = fork();
	if (pid == 0)
		_exit(hull_seccomp_load(s, &fd) == 0 && fd == -1 ? 0 : 1);
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "no NOTIFY: *notify_fd is -1");
	hull_seccomp_free(s);
}

/* The compiled-filter cache: a hit gives the same filter; a bad entry is a miss. */
static struct hull_seccomp *build_cached(const char *sq, const char *dir)
{
	struct json_object *j = doc(sq);
	struct hull_seccomp *s = NULL;
	if (hull_seccomp_build_cached(j, FILE_, dir, &s) < 0)
		tap_diag("unexpected error: %s", herr_msg());
	json_object_put(j);
	return s;
}

static int count_entries(const char *dir, char *last, size_t len)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(last, len, "%s/%s", dir, e->d_name);
			n++;
		}
	if (d)
		closedir(d);
	return n;
}

static void test_cache(void)
{
	char tmpl[] = "/tmp/hull-sc-XXXXXX", dir[64], entry[128];
	const char *p1 = "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getpid'],"
			 "'action':'SCMP_ACT_ERRNO','errnoRet':121}]}";
	const char *p2 = "{'defaultAction':'SCMP_ACT_ALLOW','syscalls':[{'names':['getpid'],"
			 "'action':'SCMP_ACT_ERRNO','errnoRet':122}]}";
	if (!mkdtemp(tmpl))
		return;
	snprintf(dir, sizeof(dir), "%s/cache", tmpl);

	struct hull_seccomp *s = build_cached(p1, dir);
	ok(s && count_entries(dir, entry, sizeof(entry)) == 1,
	   "a miss compiles and stores one entry");
	struct stat st;
	ok(stat(entry, &st) == 0 && (st.st_mode & 0777) == 0600, "  mode 0600");
	hull_seccomp_free(s);
	s = build_cached(p1, dir);
	expect_call(s, SYS_getpid, 0, 0, 121, "a hit gives the same filter");
	hull_seccomp_free(s);
	s = build_cached(p2, dir);
	expect_call(s, SYS_getpid, 0, 0, 122, "another profile gets its own filter");
	hull_seccomp_free(s);

	/* A truncated entry or one others may write is not trusted, and is rewritten. */
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "for f in %s/*.bpf; do truncate -s 20 $f; chmod 666 $f; done",
		 dir);
	ok(system(cmd) == 0, "truncate the entries");
	s = build_cached(p2, dir);
	expect_call(s, SYS_getpid, 0, 0, 122, "  a bad entry is a miss");
	snprintf(cmd, sizeof(cmd), "test $(find %s -name '*.bpf' -size +20c -perm 600 | wc -l) = 1",
		 dir);
	ok(system(cmd) == 0, "  and is replaced");
	hull_seccomp_free(s);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpl);
	if (system(cmd) != 0)
		tap_diag("cannot remove %s", tmpl);
}

int main(void)
{
	test_errors();
	test_actions();
	test_args();
	test_names();
	test_flags();
	test_nnp();
	test_notify();
	test_cache();
	return tap_done();
}
