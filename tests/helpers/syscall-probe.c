/*
 * syscall-probe NAME...: make each named syscall once, raw, and print
 * "NAME ok" or "NAME EPERM" (the errno's name), one line each. Static, so a
 * test can copy it into a container's rootfs.
 *
 * The arguments are chosen so that a call which gets past seccomp fails in
 * the kernel with another errno than EPERM (a bad pointer, bad flags, a bad
 * fd) when the process has every capability: a test can then tell a seccomp
 * EPERM from a capability check, and nothing a probe does has an effect.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/sched.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#define PTRACE_TRACEME_	  0
#define KCMP_VM_	  1
#define ADDR_NO_RANDOMIZE 0x0040000

#define BAD ((unsigned long)1) /* an address no process maps */

/* clone's flags come second on s390. */
#if defined(__s390__)
#define CLONE_ARGS(flags) 0, (flags)
#else
#define CLONE_ARGS(flags) (flags), 0
#endif

static long in_child(long (*fn)(void))
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		long r = fn();
		_exit(r < 0 ? errno & 0xff : 0);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	if (WIFEXITED(st) && WEXITSTATUS(st)) {
		errno = WEXITSTATUS(st);
		return -1;
	}
	return 0;
}

static long traceme(void)
{
	return syscall(SYS_ptrace, PTRACE_TRACEME_, 0, 0, 0);
}

/* A fork made with the raw clone syscall, reaped at once. */
static long plain_clone(void)
{
	long r = syscall(SYS_clone, CLONE_ARGS(SIGCHLD), 0, 0, 0);
	if (r == 0)
		_exit(0);
	if (r > 0)
		waitpid((pid_t)r, NULL, 0);
	return r < 0 ? -1 : 0;
}

static long probe(const char *name)
{
	static char buf[8];
	struct iovec local = {buf, sizeof(buf)}, remote = {buf, sizeof(buf)};
	struct timespec ts = {0, 0};

	/* Namespaces and mounts. */
	if (!strcmp(name, "mount"))
		return syscall(SYS_mount, BAD, "/", BAD, 0, 0);
	if (!strcmp(name, "umount2"))
		return syscall(SYS_umount2, "/", 0x80000000UL);
	if (!strcmp(name, "unshare"))
		return syscall(SYS_unshare, 1UL); /* not a namespace flag */
	if (!strcmp(name, "setns"))
		return syscall(SYS_setns, -1, 0);
	if (!strcmp(name, "clone-newuser")) /* CLONE_FS is invalid with it */
		return syscall(SYS_clone, CLONE_ARGS(CLONE_NEWUSER | CLONE_FS), 0, 0, 0);
	if (!strcmp(name, "clone-fork"))
		return plain_clone();
	if (!strcmp(name, "clone3"))
		return syscall(SYS_clone3, 0, 0);
	if (!strcmp(name, "pivot_root"))
		return syscall(SYS_pivot_root, BAD, BAD);
	if (!strcmp(name, "chroot"))
		return syscall(SYS_chroot, "/nonexistent");
	if (!strcmp(name, "open_by_handle_at"))
		return syscall(SYS_open_by_handle_at, -1, BAD, 0);
	if (!strcmp(name, "sethostname"))
		return syscall(SYS_sethostname, BAD, 1000);
	/* The machine. */
	if (!strcmp(name, "swapon"))
		return syscall(SYS_swapon, BAD, 0xffffffffUL);
	if (!strcmp(name, "swapoff"))
		return syscall(SYS_swapoff, BAD);
	if (!strcmp(name, "reboot"))
		return syscall(SYS_reboot, 0, 0, 0, 0); /* wrong magic */
	if (!strcmp(name, "kexec_load"))
		return syscall(SYS_kexec_load, 0, 0, 0, 0xffff0000UL);
	if (!strcmp(name, "init_module"))
		return syscall(SYS_init_module, 0, 0, "");
	if (!strcmp(name, "finit_module"))
		return syscall(SYS_finit_module, -1, "", 0);
	if (!strcmp(name, "delete_module"))
		return syscall(SYS_delete_module, BAD, 0);
	if (!strcmp(name, "acct"))
		return syscall(SYS_acct, "/nonexistent");
	if (!strcmp(name, "settimeofday"))
		return syscall(SYS_settimeofday, 0, 0); /* sets nothing */
	if (!strcmp(name, "clock_settime"))
		return syscall(SYS_clock_settime, CLOCK_MONOTONIC, &ts); /* not settable */
	if (!strcmp(name, "syslog"))
		return syscall(SYS_syslog, 9999, 0, 0);
#if defined(__x86_64__) || defined(__i386__)
	if (!strcmp(name, "iopl"))
		return syscall(SYS_iopl, 4);
#endif
	/* Kernel interfaces that are not namespaced. */
	if (!strcmp(name, "add_key"))
		return syscall(SYS_add_key, BAD, BAD, 0, 0, 0);
	if (!strcmp(name, "keyctl"))
		return syscall(SYS_keyctl, 9999, 0, 0, 0, 0);
	if (!strcmp(name, "request_key"))
		return syscall(SYS_request_key, BAD, BAD, 0, 0);
	if (!strcmp(name, "bpf"))
		return syscall(SYS_bpf, 9999, 0, 0);
	if (!strcmp(name, "perf_event_open"))
		return syscall(SYS_perf_event_open, BAD, 0, -1, -1, 0);
	if (!strcmp(name, "userfaultfd"))
		return syscall(SYS_userfaultfd, 0xffffffffUL);
	if (!strcmp(name, "get_mempolicy"))
		return syscall(SYS_get_mempolicy, 0, 0, 0, 0, 0);
	if (!strcmp(name, "kcmp"))
		return syscall(SYS_kcmp, getpid(), getpid(), KCMP_VM_, 0, 0);
	/* Sockets. */
	if (!strcmp(name, "socket-vsock"))
		return syscall(SYS_socket, AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!strcmp(name, "socket-unix"))
		return syscall(SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	/* Personas. */
	if (!strcmp(name, "personality-query"))
		return syscall(SYS_personality, 0xffffffffUL);
	if (!strcmp(name, "personality-linux32"))
		return syscall(SYS_personality, 0x0008UL);
	if (!strcmp(name, "personality-norandom"))
		return syscall(SYS_personality, ADDR_NO_RANDOMIZE);
	/* Debugging one's own processes. */
	if (!strcmp(name, "ptrace"))
		return in_child(traceme);
	if (!strcmp(name, "process_vm_readv"))
		return syscall(SYS_process_vm_readv, getpid(), &local, 1, &remote, 1, 0);
	errno = EDOM;
	return -2;
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		errno = 0;
		long r = probe(argv[i]);
		if (r == -2 && errno == EDOM) {
			fprintf(stderr, "syscall-probe: unknown probe %s\n", argv[i]);
			return 2;
		}
		if (r < 0) {
			const char *e = strerrorname_np(errno);
			if (e)
				printf("%s %s\n", argv[i], e);
			else
				printf("%s errno%d\n", argv[i], errno);
		} else {
			printf("%s ok\n", argv[i]);
		}
		fflush(stdout);
	}
	return 0;
}
