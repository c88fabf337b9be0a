/*
 * floor: the least a container start can cost on this machine.
 *
 *   floor [-c CGROUP] ROOTFS [PROGRAM [ARG...]]     (PROGRAM defaults to /bin/true)
 *
 * One clone() into new pid, mount, uts, ipc and network namespaces; the child
 * mounts proc, pivot_roots into ROOTFS and execs PROGRAM; the parent waits
 * and exits with the child's status. No config, no cgroup, no devices, no
 * sync with the parent beyond waitpid: bench/run times it next to the real
 * runtimes so that their figures can be read against what the kernel alone
 * costs.
 *
 * With -c, also the part of cgroups no runtime can skip: the directory CGROUP
 * (absolute, its parent existing) made in every hierarchy mounted under
 * /sys/fs/cgroup (a v1 cpuset one given its parent's cpus and mems), the child
 * cloned into the cgroup2 one and moving itself into the v1 ones before
 * anything else, and the directories removed after the wait. No limits, no device rules, no cgroup
 * mount in the container: what is left between a runtime and this is the runtime's own.
 *
 * Standalone: cc -O2 -static -o floor bench/floor.c (bench/run links it
 * statically, as hull is, so that neither pays the dynamic loader)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK_SIZE (64 * 1024)
#define MAX_HIER   32

struct child_args {
	const char *rootfs;
	char **argv;
	int join[MAX_HIER]; /* per v1 hierarchy: the leaf's tasks file */
	int n_join;
	int v2_dir; /* the cgroup2 leaf, to clone the child into, or -1 */
};

static char leaves[MAX_HIER][4096];
static int n_leaves;

static int fail(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	return 127;
}

/* dir/name's content into buf (n bytes); -1 if it cannot be read. */
static int read_file(const char *dir, const char *name, char *buf, size_t n)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = read(fd, buf, n - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = 0;
	return 0;
}

static int write_str(const char *dir, const char *name, const char *v)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t r = write(fd, v, strlen(v));
	close(fd);
	return r < 0 ? -1 : 0;
}

/* mkdir CGROUP under root (a hierarchy) and open what the child joins it by. */
static int make_cgroup(const char *root, const char *cgroup, bool v2, struct child_args *a)
{
	if (n_leaves == MAX_HIER) {
		errno = E2BIG;
		return fail("more cgroup hierarchies than floor takes");
	}
	char *leaf = leaves[n_leaves];
	char parent[4096], v[4096], probe[4200];
	snprintf(leaf, sizeof(leaves[0]), "%s%s", root, cgroup);
	if (mkdir(leaf, 0755) < 0)
		return fail(leaf);
	n_leaves++;
	snprintf(parent, sizeof(parent), "%s", leaf);
	*strrchr(parent, '/') = 0;
	snprintf(probe, sizeof(probe), "%s/cpuset.cpus", leaf);
	if (!v2 && access(probe, F_OK) == 0) {
		static const char *const f[2] = {"cpuset.cpus", "cpuset.mems"};
		for (int i = 0; i < 2; i++)
			if (read_file(parent, f[i], v, sizeof(v)) < 0 ||
			    write_str(leaf, f[i], v) < 0)
				return fail(probe);
	}
	snprintf(probe, sizeof(probe), "%s/tasks", leaf);
	if (v2 || access(probe, F_OK) < 0) { /* cgroup2, alone or among v1 hierarchies */
		if ((a->v2_dir = open(leaf, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
			return fail(leaf);
		return 0;
	}
	if ((a->join[a->n_join] = open(probe, O_WRONLY | O_CLOEXEC)) < 0)
		return fail(probe);
	a->n_join++;
	return 0;
}

/* The same in every hierarchy mounted under /sys/fs/cgroup, in name order. */
static int make_cgroups(const char *cgroup, struct child_args *a)
{
	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0)
		return make_cgroup("/sys/fs/cgroup", cgroup, true, a);
	struct dirent **e;
	int n = scandir("/sys/fs/cgroup", &e, NULL, alphasort);
	if (n < 0)
		return fail("/sys/fs/cgroup");
	int r = 0;
	for (int i = 0; i < n; i++) {
		char root[4096], probe[4200];
		snprintf(root, sizeof(root), "/sys/fs/cgroup/%s", e[i]->d_name);
		snprintf(probe, sizeof(probe), "%s/cgroup.procs", root);
		if (!r && e[i]->d_name[0] != '.' && e[i]->d_type == DT_DIR &&
		    access(probe, F_OK) == 0)
			r = make_cgroup(root, cgroup, false, a);
		free(e[i]);
	}
	free(e);
	return r;
}

static void remove_cgroups(void)
{
	for (int i = n_leaves - 1; i >= 0; i--)
		rmdir(leaves[i]);
}

static int child_main(void *data)
{
	const struct child_args *a = data;
	char proc[4096];

	/* A single-threaded process moving itself into a v1 cgroup takes no global lock. */
	for (int i = 0; i < a->n_join; i++)
		if (write(a->join[i], "0", 1) != 1)
			return fail("join cgroup");

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
	char *stack = NULL;
	pid_t pid;
	int status;

	const char *cgroup = NULL;
	if (argc > 2 && !strcmp(argv[1], "-c")) {
		cgroup = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc < 2 || (cgroup && cgroup[0] != '/')) {
		fprintf(stderr, "usage: floor [-c /CGROUP] ROOTFS [PROGRAM [ARG...]]\n");
		return 2;
	}
	a.rootfs = argv[1];
	a.argv = argc > 2 ? argv + 2 : default_argv;
	a.n_join = 0;
	a.v2_dir = -1;
	if (cgroup && make_cgroups(cgroup, &a) != 0) {
		remove_cgroups();
		return 127;
	}

	const unsigned long ns =
	    CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET;
	if (a.v2_dir >= 0) {
		/* Born in its cgroup2 leaf, as a runtime does it: no migration at all. */
		struct clone_args ca = {.flags = ns | CLONE_INTO_CGROUP,
					.exit_signal = SIGCHLD,
					.cgroup = (unsigned long long)a.v2_dir};
		pid = (pid_t)syscall(SYS_clone3, &ca, sizeof(ca));
		if (pid == 0)
			_exit(child_main(&a));
	} else {
		if (!(stack = malloc(STACK_SIZE))) {
			int r = fail("malloc");
			remove_cgroups();
			return r;
		}
		pid = clone(child_main, stack + STACK_SIZE, ns | SIGCHLD, &a);
	}
	if (pid < 0) {
		int r = fail("clone");
		remove_cgroups();
		return r;
	}
	for (int i = 0; i < a.n_join; i++)
		close(a.join[i]);
	if (a.v2_dir >= 0)
		close(a.v2_dir);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return fail("waitpid");
	}
	remove_cgroups();
	free(stack);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}
