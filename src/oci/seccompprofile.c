/*
 * The default seccomp profile, as data: which syscalls a container may make at
 * all, and which only when its bounding set holds a capability.
 *
 * The policy is Docker's (moby's profiles/seccomp/default.json, as of its
 * kernel 6.13 update), because that is what images and their users have been
 * tested against for years: everything not listed fails with EPERM; the list
 * is what ordinary programs use. Refused outright, whatever the capabilities:
 * keyring access (add_key, keyctl, request_key: keys are not namespaced),
 * swapon/swapoff, kexec, userfaultfd, pivot_root, nfsservctl, uselib,
 * personality changes other than the few below, and the obsolete or
 * architecture-debugging calls nobody needs in a container.
 *
 * Why gate by capability instead of relying on the kernel's own capability
 * checks: these syscalls have a long record of kernel bugs reachable before
 * (or without) the capability check, so a container that cannot pass the check
 * should not reach the code at all. A container given the capability gets the
 * syscalls back, as with `docker run --cap-add`.
 */
#include "oci/seccompprofile.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "common/cleanup.h"
#include "oci/jsonbuild.h"

/*
 * Allowed to every container. Grouped by what they are for; a name this
 * libseccomp or kernel does not know is skipped by the runtime, so the list
 * names calls of every architecture and of kernels newer than this one.
 */
static const char *const everyone[] = {
    /* files, directories and paths */
    "access faccessat faccessat2 chdir fchdir getcwd chmod fchmod fchmodat fchmodat2 chown "
    "chown32 fchown fchown32 fchownat lchown lchown32 umask creat open openat openat2 close "
    "close_range dup dup2 dup3 fcntl fcntl64 flock link linkat symlink symlinkat unlink "
    "unlinkat rename renameat renameat2 mkdir mkdirat mknod mknodat rmdir readlink readlinkat "
    "name_to_handle_at stat stat64 lstat lstat64 fstat fstat64 fstatat64 newfstatat statx "
    "statfs statfs64 fstatfs fstatfs64 getdents getdents64 utime utimes utimensat "
    "utimensat_time64 futimesat",
    /* reading and writing */
    "read readv pread64 preadv preadv2 write writev pwrite64 pwritev pwritev2 lseek _llseek "
    "sendfile sendfile64 splice tee vmsplice copy_file_range readahead fadvise64 fadvise64_64 "
    "fallocate truncate truncate64 ftruncate ftruncate64 fsync fdatasync sync syncfs "
    "sync_file_range ioctl cachestat pipe pipe2",
    /* extended attributes */
    "getxattr lgetxattr fgetxattr getxattrat setxattr lsetxattr fsetxattr setxattrat listxattr "
    "llistxattr flistxattr listxattrat removexattr lremovexattr fremovexattr removexattrat",
    /* waiting for events */
    "select _newselect pselect6 pselect6_time64 poll ppoll ppoll_time64 epoll_create "
    "epoll_create1 epoll_ctl epoll_ctl_old epoll_wait epoll_wait_old epoll_pwait epoll_pwait2 "
    "eventfd eventfd2 signalfd signalfd4 timerfd_create timerfd_settime timerfd_settime64 "
    "timerfd_gettime timerfd_gettime64 inotify_init inotify_init1 inotify_add_watch "
    "inotify_rm_watch fanotify_mark io_setup io_destroy io_submit io_cancel io_getevents "
    "io_pgetevents io_pgetevents_time64 io_uring_setup io_uring_enter io_uring_register",
    /* memory */
    "brk mmap mmap2 munmap mremap mprotect madvise mincore msync mlock mlock2 mlockall munlock "
    "munlockall remap_file_pages memfd_create memfd_secret membarrier pkey_alloc pkey_free "
    "pkey_mprotect map_shadow_stack mseal",
    /* processes and threads (clone is below: only without namespace flags) */
    "fork vfork execve execveat exit exit_group wait4 waitid waitpid getpid getppid gettid "
    "getpgid setpgid getpgrp getsid setsid set_tid_address set_robust_list get_robust_list "
    "get_thread_area set_thread_area futex futex_time64 futex_waitv futex_wake futex_wait "
    "futex_requeue rseq restart_syscall prctl seccomp capget capset getcpu uname sysinfo "
    "getrandom pidfd_open pidfd_send_signal process_mrelease kill tkill tgkill landlock_add_rule "
    "landlock_create_ruleset landlock_restrict_self uretprobe listmount statmount",
    /*
     * Debugging the container's own processes: since kernel 4.8 seccomp runs
     * again after a tracer changes a syscall, so ptrace cannot bypass the filter.
     */
    "ptrace process_vm_readv process_vm_writev",
    /* user and group ids */
    "getuid getuid32 geteuid geteuid32 getgid getgid32 getegid getegid32 getresuid getresuid32 "
    "getresgid getresgid32 getgroups getgroups32 setuid setuid32 setgid setgid32 setreuid "
    "setreuid32 setregid setregid32 setresuid setresuid32 setresgid setresgid32 setfsuid "
    "setfsuid32 setfsgid setfsgid32 setgroups setgroups32",
    /* limits and scheduling */
    "getrlimit ugetrlimit setrlimit prlimit64 getrusage times getpriority setpriority "
    "ioprio_get ioprio_set sched_yield sched_getaffinity sched_setaffinity sched_getattr "
    "sched_setattr sched_getparam sched_setparam sched_getscheduler sched_setscheduler "
    "sched_get_priority_max sched_get_priority_min sched_rr_get_interval "
    "sched_rr_get_interval_time64",
    /* signals */
    "rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend "
    "rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sigaltstack sigprocmask "
    "sigreturn pause alarm",
    /* clocks and timers (adjtimex and clock_adjtime can only read without CAP_SYS_TIME) */
    "time gettimeofday clock_gettime clock_gettime64 clock_getres clock_getres_time64 "
    "clock_nanosleep clock_nanosleep_time64 nanosleep adjtimex clock_adjtime clock_adjtime64 "
    "getitimer setitimer timer_create timer_delete timer_getoverrun timer_gettime "
    "timer_gettime64 timer_settime timer_settime64",
    /* System V and POSIX IPC */
    "ipc msgget msgctl msgsnd msgrcv semget semctl semop semtimedop semtimedop_time64 shmget "
    "shmctl shmat shmdt mq_open mq_unlink mq_notify mq_getsetattr mq_timedsend "
    "mq_timedsend_time64 mq_timedreceive mq_timedreceive_time64",
    /*
     * Sockets (socket itself is below). socketcall multiplexes them on 32-bit
     * x86 and its arguments are in memory, out of the filter's reach: as in
     * Docker, a 32-bit process can get an AF_VSOCK socket through it.
     */
    "socketcall socketpair bind connect listen accept accept4 getsockname getpeername "
    "getsockopt setsockopt send sendto sendmsg sendmmsg recv recvfrom recvmsg recvmmsg "
    "recvmmsg_time64 shutdown",
};

/* Calls of the build's architecture that its programs need (Docker's per-architecture lists). */
static const char *const arch_calls =
#if defined(__x86_64__)
    "arch_prctl modify_ldt"
#elif defined(__i386__)
    "modify_ldt"
#elif defined(__aarch64__) || defined(__arm__)
    "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    "sync_file_range2 swapcontext"
#elif defined(__s390__)
    "s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr"
#elif defined(__riscv) && __riscv_xlen == 64
    "riscv_flush_icache riscv_hwprobe"
#else
    ""
#endif
    ;

/*
 * The filter's architectures: the native one first, then those a process of
 * this machine can also switch to (32-bit x86 and x32 on x86_64...). Where
 * Docker lists none (i386, 32-bit arm, ppc64le...), we list none either: the
 * runtime then filters the native architecture only.
 */
static const char *const arches =
#if defined(__x86_64__)
    "SCMP_ARCH_X86_64 SCMP_ARCH_X86 SCMP_ARCH_X32"
#elif defined(__aarch64__)
    "SCMP_ARCH_AARCH64 SCMP_ARCH_ARM"
#elif defined(__mips__) && _MIPS_SIM == _ABI64 && defined(__MIPSEB__)
    "SCMP_ARCH_MIPS64 SCMP_ARCH_MIPS SCMP_ARCH_MIPS64N32"
#elif defined(__mips__) && _MIPS_SIM == _ABIN32 && defined(__MIPSEB__)
    "SCMP_ARCH_MIPS64N32 SCMP_ARCH_MIPS SCMP_ARCH_MIPS64"
#elif defined(__mips__) && _MIPS_SIM == _ABI64
    "SCMP_ARCH_MIPSEL64 SCMP_ARCH_MIPSEL SCMP_ARCH_MIPSEL64N32"
#elif defined(__mips__) && _MIPS_SIM == _ABIN32
    "SCMP_ARCH_MIPSEL64N32 SCMP_ARCH_MIPSEL SCMP_ARCH_MIPSEL64"
#elif defined(__s390x__)
    "SCMP_ARCH_S390X SCMP_ARCH_S390"
#elif defined(__riscv) && __riscv_xlen == 64
    "SCMP_ARCH_RISCV64"
#else
    ""
#endif
    ;

/* s390 passes clone's flags second (the stack pointer comes first). */
#if defined(__s390__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif

/*
 * Each gated group is allowed when the bounding set holds its capability: the
 * kernel checks that capability for these calls, so a container without it
 * gains nothing from reaching them, only exposure to their bugs.
 */
static const struct {
	const char *cap, *names;
} gated[] = {
    /*
     * Mounts, namespaces, hostnames, kernel-wide tracing and BPF: the calls that
     * reach the most kernel code. Without CAP_SYS_ADMIN, clone and clone3 get
     * the special rules below instead.
     */
    {"CAP_SYS_ADMIN",
     "mount umount umount2 mount_setattr move_mount open_tree fsopen fsconfig fsmount fspick "
     "unshare setns clone clone3 sethostname setdomainname quotactl quotactl_fd bpf "
     "perf_event_open fanotify_init lookup_dcookie syslog lsm_get_self_attr lsm_set_self_attr "
     "lsm_list_modules"},
    /* open_by_handle_at opens any inode of a mounted filesystem (the "shocker" escape). */
    {"CAP_DAC_READ_SEARCH", "open_by_handle_at"},
    {"CAP_SYS_BOOT", "reboot"},
    {"CAP_SYS_CHROOT", "chroot"},
    /* Loading code into the kernel. */
    {"CAP_SYS_MODULE", "init_module finit_module delete_module"},
    {"CAP_SYS_PACCT", "acct"},
    /* Other processes' memory and files (ptrace itself is allowed to all, above). */
    {"CAP_SYS_PTRACE", "kcmp pidfd_getfd process_madvise"},
    /* Direct I/O port access. */
    {"CAP_SYS_RAWIO", "iopl ioperm"},
    /* Setting the host's clock: the clock is not namespaced. */
    {"CAP_SYS_TIME", "settimeofday stime clock_settime clock_settime64"},
    {"CAP_SYS_TTY_CONFIG", "vhangup"},
    /* NUMA memory placement, which can take memory from other workloads' nodes. */
    {"CAP_SYS_NICE", "get_mempolicy set_mempolicy set_mempolicy_home_node mbind"},
    /* The kernel log, which leaks kernel addresses. */
    {"CAP_SYSLOG", "syslog"},
    {"CAP_BPF", "bpf"},
    {"CAP_PERFMON", "perf_event_open"},
};

/* personality(2) values allowed: Linux, its 32-bit flavour, each with UNAME26, and the query. */
static const uint64_t personas[] = {0x0, 0x0008, 0x20000, 0x20008, 0xffffffff};

/* CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET: clone's namespace flags. */
#define CLONE_NS_FLAGS 0x7e020000ULL
/* vsock talks to the hypervisor, outside the network namespace. */
#define AF_VSOCK_ 40
/* errnoRet is the Linux number, whatever the build's libc says. */
#define ENOSYS_ 38

static bool has_cap(const char *const *caps, size_t n, const char *cap)
{
	for (size_t i = 0; i < n; i++)
		if (caps[i] && !strcasecmp(caps[i], cap))
			return true;
	return false;
}

/* The names already in an unconditional rule, so that no name is allowed twice. */
struct seen {
	struct json_object *arrays[ARRAY_SIZE(gated) + 2];
	size_t n;
};

static bool already(const struct seen *s, const char *name, size_t len)
{
	for (size_t a = 0; a < s->n; a++) {
		for (size_t i = 0, m = json_object_array_length(s->arrays[a]); i < m; i++) {
			struct json_object *e = json_object_array_get_idx(s->arrays[a], i);
			if ((size_t)json_object_get_string_len(e) == len &&
			    !memcmp(json_object_get_string(e), name, len))
				return true;
		}
	}
	return false;
}

/* Append the space-separated names in list to arr, skipping ones in s. */
static void push_names(struct jb *b, struct json_object *arr, const struct seen *s,
		       const char *list)
{
	for (const char *p = list; *p;) {
		size_t len = strcspn(p, " ");
		if (len && !already(s, p, len))
			jb_push(b, arr, json_object_new_string_len(p, (int)len));
		p += len;
		p += strspn(p, " ");
	}
}

/* A rule for one syscall, conditions to be added. */
static struct json_object *rule(struct jb *b, struct json_object *syscalls, const char *name,
				const char *action)
{
	struct json_object *r = jb_push(b, syscalls, json_object_new_object());
	struct json_object *names = jb_put(b, r, "names", json_object_new_array());
	jb_push(b, names, json_object_new_string(name));
	jb_put(b, r, "action", json_object_new_string(action));
	return r;
}

/* A rule that allows names, with no conditions; not added when every name is already allowed. */
static void allow(struct jb *b, struct json_object *syscalls, struct seen *s,
		  const char *const *lists, size_t nlists)
{
	struct json_object *names = json_object_new_array();
	for (size_t i = 0; names && i < nlists; i++)
		push_names(b, names, s, lists[i]);
	if (!names || !json_object_array_length(names)) {
		b->failed |= !names;
		json_object_put(names);
		return;
	}
	struct json_object *r = jb_push(b, syscalls, json_object_new_object());
	struct json_object *kept = jb_put(b, r, "names", names);
	jb_put(b, r, "action", json_object_new_string("SCMP_ACT_ALLOW"));
	if (kept && s->n < ARRAY_SIZE(s->arrays))
		s->arrays[s->n++] = kept;
}

/* One condition on argument index: {"index", "value", ["valueTwo",] "op"}. */
static void add_arg(struct jb *b, struct json_object *r, unsigned index, uint64_t value,
		    const char *op)
{
	struct json_object *args = jb_put(b, r, "args", json_object_new_array());
	struct json_object *a = jb_push(b, args, json_object_new_object());
	jb_put(b, a, "index", json_object_new_int((int)index));
	jb_put(b, a, "value", json_object_new_uint64(value));
	if (!strcmp(op, "SCMP_CMP_MASKED_EQ"))
		jb_put(b, a, "valueTwo", json_object_new_uint64(0));
	jb_put(b, a, "op", json_object_new_string(op));
}

static void conditional(struct jb *b, struct json_object *syscalls, bool sys_admin)
{
	struct json_object *r;

	/* One rule per value: conditions within a rule AND, rules OR. */
	for (size_t i = 0; i < ARRAY_SIZE(personas); i++)
		add_arg(b, rule(b, syscalls, "personality", "SCMP_ACT_ALLOW"), 0, personas[i],
			"SCMP_CMP_EQ");
	add_arg(b, rule(b, syscalls, "socket", "SCMP_ACT_ALLOW"), 0, AF_VSOCK_, "SCMP_CMP_NE");

	if (sys_admin)
		return; /* clone and clone3 are in the CAP_SYS_ADMIN group */
	/* A thread or a fork, never a new namespace. */
	add_arg(b, rule(b, syscalls, "clone", "SCMP_ACT_ALLOW"), CLONE_FLAGS_ARG, CLONE_NS_FLAGS,
		"SCMP_CMP_MASKED_EQ");
	/*
	 * clone3's flags are in memory, where the filter cannot look: ENOSYS makes
	 * glibc and others fall back to clone, whose flags it can check.
	 */
	r = rule(b, syscalls, "clone3", "SCMP_ACT_ERRNO");
	jb_put(b, r, "errnoRet", json_object_new_int(ENOSYS_));
}

struct json_object *oci_default_seccomp(struct jb *b, const char *const *caps, size_t n)
{
	struct json_object *sc = json_object_new_object();
	struct json_object *syscalls;
	struct seen seen = {.n = 0};

	if (!sc) {
		b->failed = true;
		return NULL;
	}
	jb_put(b, sc, "defaultAction", json_object_new_string("SCMP_ACT_ERRNO"));
	jb_put(b, sc, "defaultErrnoRet", json_object_new_int(1)); /* EPERM */
	if (*arches)
		push_names(b, jb_put(b, sc, "architectures", json_object_new_array()), &seen,
			   arches);
	syscalls = jb_put(b, sc, "syscalls", json_object_new_array());

	allow(b, syscalls, &seen, everyone, ARRAY_SIZE(everyone));
	allow(b, syscalls, &seen, &arch_calls, 1);
	conditional(b, syscalls, has_cap(caps, n, "CAP_SYS_ADMIN"));
	for (size_t i = 0; i < ARRAY_SIZE(gated); i++)
		if (has_cap(caps, n, gated[i].cap))
			allow(b, syscalls, &seen, &gated[i].names, 1);
	return sc;
}

void oci_spec_add_default_seccomp(struct jb *b, struct json_object *spec)
{
	struct json_object *proc, *capsobj, *bounding = NULL, *lx;
	const char *caps[64];
	size_t n = 0;

	if (json_object_object_get_ex(spec, "process", &proc) &&
	    json_object_object_get_ex(proc, "capabilities", &capsobj) &&
	    json_object_object_get_ex(capsobj, "bounding", &bounding) &&
	    json_object_is_type(bounding, json_type_array)) {
		for (size_t i = 0, m = json_object_array_length(bounding);
		     i < m && n < ARRAY_SIZE(caps); i++)
			caps[n++] = json_object_get_string(json_object_array_get_idx(bounding, i));
	}
	if (!json_object_object_get_ex(spec, "linux", &lx))
		lx = jb_put(b, spec, "linux", json_object_new_object());
	jb_put(b, lx, "seccomp", oci_default_seccomp(b, caps, n));
}
