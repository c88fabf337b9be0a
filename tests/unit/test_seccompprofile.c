/*
 * The default seccomp profile of `hull spec`: its shape, which capability
 * opens which group, that every name is a real syscall, that hull compiles it,
 * and what syscalls get once it is loaded into a forked child. Also prints how
 * long hull_seccomp_build takes on it.
 *
 * With arguments it prints a profile instead of testing, for the integration
 * tests (the generator is not reachable from `hull spec`):
 *   test_seccompprofile --profile [CAP_NAME...]   linux.seccomp for that bounding set
 */
#include "tap.h"
#include "common/error.h"
#include "oci/config.h"
#include "oci/defaultspec.h"
#include "oci/jsonbuild.h"
#include "oci/seccompprofile.h"
#include "runtime/seccomp.h"
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>
#include <seccomp.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static const char *const runc_caps[] = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};

static struct json_object *profile(const char *const *caps, size_t n)
{
	struct jb b = {0};
	struct json_object *p = oci_default_seccomp(&b, caps, n);
	if (b.failed) {
		json_object_put(p);
		return NULL;
	}
	return p;
}

/* The action of the unconditional rule naming `name`, or NULL; *n_cond counts rules with args. */
static const char *action_of(struct json_object *p, const char *name, int *n_cond)
{
	struct json_object *scs = json_object_object_get(p, "syscalls");
	const char *found = NULL;
	*n_cond = 0;
	for (size_t i = 0; i < json_object_array_length(scs); i++) {
		struct json_object *r = json_object_array_get_idx(scs, i);
		struct json_object *names = json_object_object_get(r, "names");
		for (size_t k = 0; k < json_object_array_length(names); k++) {
			if (strcmp(json_object_get_string(json_object_array_get_idx(names, k)),
				   name))
				continue;
			if (json_object_object_get(r, "args"))
				(*n_cond)++;
			else
				found = json_object_get_string(json_object_object_get(r, "action"));
		}
	}
	return found;
}

static bool allowed(struct json_object *p, const char *name)
{
	int n;
	const char *a = action_of(p, name, &n);
	return a && !strcmp(a, "SCMP_ACT_ALLOW");
}

static void test_shape(void)
{
	struct json_object *p = profile(runc_caps, ARRAY_SIZE(runc_caps));
	int n;

	ok(p, "generated");
	is_str(json_object_get_string(json_object_object_get(p, "defaultAction")), "SCMP_ACT_ERRNO",
	       "defaultAction");
	is_int(json_object_get_int(json_object_object_get(p, "defaultErrnoRet")), 1,
	       "defaultErrnoRet is EPERM");
#if defined(__x86_64__)
	is_str(json_object_to_json_string_ext(json_object_object_get(p, "architectures"),
					      JSON_C_TO_STRING_PLAIN),
	       "[\"SCMP_ARCH_X86_64\",\"SCMP_ARCH_X86\",\"SCMP_ARCH_X32\"]",
	       "x86_64 architectures");
	ok(allowed(p, "arch_prctl"), "arch_prctl allowed on x86_64");
#endif
	ok(allowed(p, "read") && allowed(p, "execve") && allowed(p, "ptrace"),
	   "read, execve, ptrace allowed");
	ok(!action_of(p, "clone", &n) && n == 1, "clone: only the masked rule");
	is_str(action_of(p, "clone3", &n), "SCMP_ACT_ERRNO", "clone3: errno rule");
	ok(!action_of(p, "personality", &n) && n == 5, "personality: five values");
	ok(!action_of(p, "socket", &n) && n == 1, "socket: one conditional rule");
	const char *never[] = {
	    "mount",	   "umount2",	      "unshare",	   "setns",	  "bpf",
	    "add_key",	   "keyctl",	      "request_key",	   "swapon",	  "swapoff",
	    "kexec_load",  "kexec_file_load", "init_module",	   "reboot",	  "pivot_root",
	    "userfaultfd", "chroot",	      "open_by_handle_at", "sethostname", "perf_event_open",
	    "kcmp"};
	for (size_t i = 0; i < ARRAY_SIZE(never); i++)
		ok(!action_of(p, never[i], &n) && n == 0, "%s: not in the default profile",
		   never[i]);

	/* The clone rule, as runtimes read it: value is the mask, valueTwo the datum. */
	struct json_object *scs = json_object_object_get(p, "syscalls");
	bool clone_ok = false;
	for (size_t i = 0; i < json_object_array_length(scs); i++) {
		struct json_object *r = json_object_array_get_idx(scs, i);
		const char *nm = json_object_get_string(
		    json_object_array_get_idx(json_object_object_get(r, "names"), 0));
		struct json_object *args = json_object_object_get(r, "args");
		if (strcmp(nm, "clone") || !args)
			continue;
		struct json_object *a = json_object_array_get_idx(args, 0);
		clone_ok =
		    json_object_get_uint64(json_object_object_get(a, "value")) == 0x7e020000 &&
		    json_object_get_uint64(json_object_object_get(a, "valueTwo")) == 0 &&
		    !strcmp(json_object_get_string(json_object_object_get(a, "op")),
			    "SCMP_CMP_MASKED_EQ");
	}
	ok(clone_ok, "clone: namespace flags masked, must be 0");
	json_object_put(p);
}

/* Each gated group: absent without its capability, present with it. */
static void test_gates(void)
{
	static const struct {
		const char *cap, *call;
	} gates[] = {
	    {"CAP_SYS_ADMIN", "mount"},
	    {"CAP_SYS_ADMIN", "unshare"},
	    {"CAP_SYS_ADMIN", "setns"},
	    {"CAP_SYS_ADMIN", "fsopen"},
	    {"CAP_SYS_ADMIN", "sethostname"},
	    {"CAP_SYS_ADMIN", "bpf"},
	    {"CAP_DAC_READ_SEARCH", "open_by_handle_at"},
	    {"CAP_SYS_BOOT", "reboot"},
	    {"CAP_SYS_CHROOT", "chroot"},
	    {"CAP_SYS_MODULE", "finit_module"},
	    {"CAP_SYS_PACCT", "acct"},
	    {"CAP_SYS_PTRACE", "kcmp"},
	    {"CAP_SYS_RAWIO", "iopl"},
	    {"CAP_SYS_TIME", "settimeofday"},
	    {"CAP_SYS_TTY_CONFIG", "vhangup"},
	    {"CAP_SYS_NICE", "mbind"},
	    {"CAP_SYSLOG", "syslog"},
	    {"CAP_BPF", "bpf"},
	    {"CAP_PERFMON", "perf_event_open"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(gates); i++) {
		const char *caps[] = {"CAP_KILL", gates[i].cap};
		struct json_object *without = profile(caps, 1), *with = profile(caps, 2);
		ok(!allowed(without, gates[i].call) && allowed(with, gates[i].call), "%s opens %s",
		   gates[i].cap, gates[i].call);
		json_object_put(without);
		json_object_put(with);
	}

	const char *admin[] = {"cap_sys_admin"};
	struct json_object *p = profile(admin, 1);
	int n;
	ok(allowed(p, "clone") && allowed(p, "clone3"), "CAP_SYS_ADMIN (any case): clone, clone3");
	ok(action_of(p, "clone", &n) && n == 0, "  and no masked clone rule");
	json_object_put(p);
}

/* With every capability: no name twice, none unknown to libseccomp but the newest. */
static void test_names(void)
{
	static const char *const newer[] = {
	    /* kernel 6.5 and later: unknown to libseccomp 2.5.4 */
	    "cachestat",	 "fchmodat2",	      "map_shadow_stack", "futex_wake",
	    "futex_wait",	 "futex_requeue",     "statmount",	  "listmount",
	    "lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules", "mseal",
	    "uretprobe",	 "getxattrat",	      "setxattrat",	  "listxattrat",
	    "removexattrat",	 "riscv_hwprobe",
	};
	static const uint32_t archs[] = {SCMP_ARCH_X86_64,  SCMP_ARCH_X86,   SCMP_ARCH_X32,
					 SCMP_ARCH_AARCH64, SCMP_ARCH_ARM,   SCMP_ARCH_PPC64LE,
					 SCMP_ARCH_S390X,   SCMP_ARCH_MIPS64};
	const char *all[64];
	size_t n = 0;
	for (int c = 0; c <= 63 && n < ARRAY_SIZE(all); c++)
		if (oci_cap_name(c))
			all[n++] = oci_cap_name(c);
	struct json_object *p = profile(all, n);
	struct json_object *scs = json_object_object_get(p, "syscalls");
	struct json_object *seen = json_object_new_object();
	int dups = 0, unknown = 0, total = 0;

	for (size_t i = 0; i < json_object_array_length(scs); i++) {
		struct json_object *r = json_object_array_get_idx(scs, i);
		if (json_object_object_get(r, "args"))
			continue;
		struct json_object *names = json_object_object_get(r, "names");
		for (size_t k = 0; k < json_object_array_length(names); k++) {
			const char *nm =
			    json_object_get_string(json_object_array_get_idx(names, k));
			total++;
			if (json_object_object_get_ex(seen, nm, NULL)) {
				tap_diag("twice: %s", nm);
				dups++;
			}
			json_object_object_add(seen, nm, NULL);
			bool known = false;
			for (size_t a = 0; a < ARRAY_SIZE(archs) && !known; a++)
				known = seccomp_syscall_resolve_name_arch(archs[a], nm) !=
					__NR_SCMP_ERROR;
			for (size_t a = 0; a < ARRAY_SIZE(newer) && !known; a++)
				known = !strcmp(newer[a], nm);
			if (!known) {
				tap_diag("not a syscall libseccomp knows: %s", nm);
				unknown++;
			}
		}
	}
	ok(total > 350, "every capability: %d names allowed unconditionally", total);
	is_int(dups, 0, "no name allowed twice");
	is_int(unknown, 0, "every name is a syscall (or newer than libseccomp 2.5.4)");
	json_object_put(seen);
	json_object_put(p);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct hull_seccomp *compile(struct json_object *p, const char *what)
{
	struct hull_seccomp *s = NULL;
	herr_clear();
	if (hull_seccomp_build(p, "default", &s) < 0)
		tap_diag("%s: %s", what, herr_msg());
	ok(s, "hull compiles the profile: %s", what);
	return s;
}

/* hull_seccomp_build accepts the profile of both `hull spec` variants, and how long it takes. */
static void test_compile(void)
{
	for (int rootless = 0; rootless <= 1; rootless++) {
		char *text = oci_default_spec(rootless);
		struct json_object *spec = text ? json_tokener_parse(text) : NULL;
		struct json_object *lx = json_object_object_get(spec, "linux");
		struct json_object *sc = json_object_object_get(lx, "seccomp");
		struct json_object *ref = profile(runc_caps, ARRAY_SIZE(runc_caps));
		ok(sc && json_object_equal(sc, ref), "hull spec%s: linux.seccomp for runc's caps",
		   rootless ? " --rootless" : "");
		hull_seccomp_free(compile(sc, rootless ? "hull spec --rootless" : "hull spec"));
		json_object_put(ref);
		json_object_put(spec);
		free(text);
	}

	struct json_object *p = profile(runc_caps, ARRAY_SIZE(runc_caps));
	const int rounds = 20;
	double t0 = now();
	int good = 0;
	for (int i = 0; i < rounds; i++) {
		struct hull_seccomp *s = NULL;
		good += hull_seccomp_build(p, "default", &s) == 0;
		hull_seccomp_free(s);
	}
	double per = (now() - t0) / rounds;
	is_int(good, rounds, "compiled %d times", rounds);
	tap_diag("hull_seccomp_build(default profile): %.2f ms per call", per * 1e3);
	json_object_put(p);
}

/* ---- loaded into a child ---- */

struct probe {
	long nr;
	unsigned long a[5];
	int want; /* errno, or 0 for success */
	const char *name;
};

/*
 * Run pr in a child under s. A control run (s NULL) passes when the kernel's
 * answer is anything but pr->want: the probe reaches code that is not seccomp's.
 */
static int run_probe(const struct hull_seccomp *s, const struct probe *pr, bool private_mnt)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* A mount namespace of our own, so that an allowed mount stays in it. */
		if (private_mnt && (unshare(CLONE_NEWNS) < 0 ||
				    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0))
			syscall(SYS_exit_group, 101);
		if (hull_seccomp_load(s, NULL) < 0)
			syscall(SYS_exit_group, 100);
		errno = 0;
		long r = syscall(pr->nr, pr->a[0], pr->a[1], pr->a[2], pr->a[3], pr->a[4]);
		int got = r < 0 ? errno : 0;
		if (pr->nr == SYS_clone && r == 0)
			syscall(SYS_exit_group, 0); /* the clone child, if it ever was made */
		if (pr->nr == SYS_clone && r > 0)
			waitpid((pid_t)r, NULL, __WALL);
		if (pr->nr == SYS_mount && r == 0)
			umount2((const char *)pr->a[1], MNT_DETACH);
		/* Not _exit(): the sanitizers intercept it and need syscalls a profile may deny. */
		if (!s)
			syscall(SYS_exit_group, got != pr->want ? 0 : 103);
		syscall(SYS_exit_group, got == pr->want ? 0 : got ? got : 102);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s%s", s ? "" : "without the filter, not ",
		pr->name))
		tap_diag("  wait status 0x%x (exit: errno got; 100 load failed, 102 succeeded, 103 "
			 "control got it)",
			 st);
	return st;
}

static void test_loaded(void)
{
	if (geteuid() != 0) {
		ok(true, "# SKIP not root: cannot load filters with CAP_SYS_ADMIN rules");
		return;
	}
	struct json_object *p = profile(runc_caps, ARRAY_SIZE(runc_caps));
	struct hull_seccomp *s = compile(p, "runc's caps");
	/* Arguments the kernel would refuse with another errno: EPERM can only be seccomp's. */
	const struct probe blocked[] = {
	    {SYS_mount, {1, (unsigned long)"/tmp", 1, 0, 0}, EPERM, "mount: EPERM"},
	    {SYS_umount2, {(unsigned long)"/tmp", 0x80000000UL}, EPERM, "umount2: EPERM"},
	    {SYS_unshare, {1}, EPERM, "unshare: EPERM"},
	    {SYS_setns, {(unsigned long)-1, 0}, EPERM, "setns: EPERM"},
	    {SYS_clone, {CLONE_NEWUSER | CLONE_FS}, EPERM, "clone(CLONE_NEWUSER): EPERM"},
	    {SYS_clone3, {0, 0}, ENOSYS, "clone3: ENOSYS"},
	    {SYS_bpf, {9999, 0, 0}, EPERM, "bpf: EPERM"},
	    {SYS_keyctl, {9999}, EPERM, "keyctl: EPERM"},
	    {SYS_socket, {AF_VSOCK, SOCK_STREAM, 0}, EPERM, "socket(AF_VSOCK): EPERM"},
	    {SYS_personality, {0x0040000}, EPERM, "personality(ADDR_NO_RANDOMIZE): EPERM"},
	    {SYS_swapon, {0, 0xffffffffUL}, EPERM, "swapon: EPERM"},
	};
	const struct probe allowed_calls[] = {
	    {SYS_getpid, {0}, 0, "getpid: allowed"},
	    {SYS_socket, {AF_UNIX, SOCK_STREAM, 0}, 0, "socket(AF_UNIX): allowed"},
	    {SYS_personality, {0xffffffffUL}, 0, "personality(query): allowed"},
	    {SYS_personality, {PER_LINUX32}, 0, "personality(PER_LINUX32): allowed"},
	    {SYS_clone, {SIGCHLD}, 0, "clone(SIGCHLD), a fork: allowed"},
	};
	for (size_t i = 0; s && i < ARRAY_SIZE(blocked); i++)
		run_probe(s, &blocked[i], false);
	for (size_t i = 0; i < ARRAY_SIZE(blocked); i++)
		run_probe(NULL, &blocked[i], false);
	for (size_t i = 0; s && i < ARRAY_SIZE(allowed_calls); i++)
		run_probe(s, &allowed_calls[i], false);
	hull_seccomp_free(s);
	json_object_put(p);

	const char *admin[] = {"CAP_KILL", "CAP_SYS_ADMIN"};
	p = profile(admin, 2);
	s = compile(p, "with CAP_SYS_ADMIN");
	const struct probe opened[] = {
	    {SYS_mount,
	     {(unsigned long)"none", (unsigned long)"/tmp", (unsigned long)"tmpfs", 0, 0},
	     0,
	     "CAP_SYS_ADMIN: mount of a tmpfs works"},
	    {SYS_clone3, {0, 0}, EINVAL, "CAP_SYS_ADMIN: clone3 reaches the kernel (EINVAL)"},
	    {SYS_unshare, {1}, EINVAL, "CAP_SYS_ADMIN: unshare reaches the kernel (EINVAL)"},
	};
	for (size_t i = 0; s && i < ARRAY_SIZE(opened); i++)
		run_probe(s, &opened[i], true);
	hull_seccomp_free(s);
	json_object_put(p);
}

static int print_profile(int argc, char **argv)
{
	struct json_object *p = profile((const char *const *)argv, (size_t)argc);
	if (!p)
		return 1;
	puts(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
	json_object_put(p);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--profile"))
		return print_profile(argc - 2, argv + 2);
	test_shape();
	test_gates();
	test_names();
	test_compile();
	test_loaded();
	return tap_done();
}
