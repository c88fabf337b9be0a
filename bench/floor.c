/*
 * floor: the least a container start can cost on this machine.
 *
 *   floor ROOTFS [PROGRAM [ARG...]]     (PROGRAM defaults to /bin/true)
 *
 * One clone() into new pid, mount, uts, ipc and network namespaces; the child
 * mounts proc, pivot_roots into ROOTFS and execs PROGRAM; the parent waits
 * and exits with the child's status. No config, no cgroup, no devices, no
 * sync with the parent beyond waitpid: bench/run times it next to the real
 * runtimes so that their figures can be read against what the kernel alone
 * costs.
 *
 * Standalone: cc -O2 -static -o floor bench/floor.c (bench/run links it
 * statically, as hull is, so that neither pays the dynamic loader)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK_SIZE (64 * 1024)

struct child_args {
	const char *rootfs;
	char **argv;
};

static int fail(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	return 127;
}

static int child_main(void *data)
{
	const struct child_args *a = data;
	char proc[4096];

	/* pivot_root refuses a shared mount; the host's / may be one. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return fail("make / private");
	/* pivot_root wants the new root to be a mount point. */
	if (mount(a->rootfs, a->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return fail("bind rootfs");
	if (snprintf(proc, sizeof(proc), "%s/proc", a->rootfs) >= (int)sizeof(proc)) {
		errno = ENAMETOOLONG;
		return fail("rootfs path");
	}
	if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return fail("mount proc");
	if (chdir(a->rootfs) < 0)
		return fail("chdir rootfs");
	/* pivot_root(".", "."): the old root ends up on top, then goes away. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return fail("pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		return fail("detach old root");
	if (chdir("/") < 0)
		return fail("chdir /");
	execv(a->argv[0], a->argv);
	return fail(a->argv[0]);
}

int main(int argc, char **argv)
{
	static char *default_argv[] = {"/bin/true", NULL};
	struct child_args a;
	char *stack;
	pid_t pid;
	int status;

	if (argc < 2) {
		fprintf(stderr, "usage: floor ROOTFS [PROGRAM [ARG...]]\n");
		return 2;
	}
	a.rootfs = argv[1];
	a.argv = argc > 2 ? argv + 2 : default_argv;

	stack = malloc(STACK_SIZE);
	if (!stack)
		return fail("malloc");
	pid = clone(
	    child_main, stack + STACK_SIZE,
	    CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | SIGCHLD, &a);
	if (pid < 0)
		return fail("clone");
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return fail("waitpid");
	}
	free(stack);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}
