#include "internal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const unsigned long clone_flags[OCI_NS_COUNT] = {
    [OCI_NS_PID] = CLONE_NEWPID,       [OCI_NS_NET] = CLONE_NEWNET,   [OCI_NS_MNT] = CLONE_NEWNS,
    [OCI_NS_IPC] = CLONE_NEWIPC,       [OCI_NS_UTS] = CLONE_NEWUTS,   [OCI_NS_USER] = CLONE_NEWUSER,
    [OCI_NS_CGROUP] = CLONE_NEWCGROUP, [OCI_NS_TIME] = CLONE_NEWTIME,
};

unsigned long ns_clone_flag(enum oci_ns ns)
{
	return clone_flags[ns];
}

int ns_open_paths(struct create_ctx *c)
{
	for (int i = 0; i < OCI_NS_COUNT; i++) {
		c->ns_fds[i] = -1;
		const struct oci_namespace *ns = &c->cfg->linux.ns[i];
		if (!ns->present || !ns->path)
			continue;
		int fd = open(ns->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return herr_sys("linux.namespaces: %s namespace path %s", oci_ns_name(i),
					ns->path);
		c->ns_fds[i] = fd;
	}
	return 0;
}

/*
 * setns() to a PID or time namespace changes only what our children get, so the
 * parent joins those before clone and goes back afterwards (hooks it spawns later
 * must not land in the container's PID namespace).
 */
int ns_parent_join_for_children(struct create_ctx *c, int saved[2])
{
	static const enum oci_ns which[2] = {OCI_NS_PID, OCI_NS_TIME};
	static const char *const own[2] = {"/proc/self/ns/pid_for_children",
					   "/proc/self/ns/time_for_children"};
	for (int k = 0; k < 2; k++) {
		saved[k] = -1;
		int fd = c->ns_fds[which[k]];
		if (fd < 0)
			continue;
		saved[k] = open(own[k], O_RDONLY | O_CLOEXEC);
		if (saved[k] < 0)
			return herr_sys("open %s", own[k]);
		if (setns(fd, clone_flags[which[k]]) < 0)
			return herr_sys("linux.namespaces: join %s namespace %s",
					oci_ns_name(which[k]), c->cfg->linux.ns[which[k]].path);
	}
	return 0;
}

void ns_parent_restore(int saved[2])
{
	static const int types[2] = {CLONE_NEWPID, CLONE_NEWTIME};
	for (int k = 0; k < 2; k++) {
		if (saved[k] < 0)
			continue;
		setns(saved[k], types[k]);
		close(saved[k]);
		saved[k] = -1;
	}
}

/*
 * Offsets can only be written while a time namespace has no member, so the parent
 * unshares one for its children, writes the offsets, and the init is cloned into it.
 */
int ns_setup_timens(struct create_ctx *c)
{
	const struct oci_linux *l = &c->cfg->linux;
	if (!l->ns[OCI_NS_TIME].present || l->ns[OCI_NS_TIME].path) {
		if (l->time_monotonic.present || l->time_boottime.present)
			if (!l->ns[OCI_NS_TIME].present || l->ns[OCI_NS_TIME].path)
				return herr_set(EINVAL, "linux.timeOffsets: needs a new time "
							"namespace in linux.namespaces");
		return 0;
	}
	if (unshare(CLONE_NEWTIME) < 0)
		return herr_sys("linux.namespaces: cannot create a time namespace");
	char buf[128];
	int n = 0;
	if (l->time_monotonic.present)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "monotonic %lld %u\n",
			      (long long)l->time_monotonic.secs, l->time_monotonic.nanosecs);
	if (l->time_boottime.present)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "boottime %lld %u\n",
			      (long long)l->time_boottime.secs, l->time_boottime.nanosecs);
	if (n == 0)
		return 0;
	/* Each line must be a separate write. */
	_cleanup_close_ int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return herr_sys("linux.timeOffsets: open /proc/self/timens_offsets");
	for (char *line = buf; *line;) {
		char *eol = strchr(line, '\n');
		if (write(fd, line, (size_t)(eol - line + 1)) < 0)
			return herr_sys("linux.timeOffsets: cannot set \"%.*s\"", (int)(eol - line),
					line);
		line = eol + 1;
	}
	return 0;
}

static int write_map(pid_t pid, const char *file, const struct oci_idmap *m, size_t n,
		     const char *what)
{
	char buf[8192];
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		int w = snprintf(buf + off, sizeof(buf) - off, "%u %u %u\n", m[i].container_id,
				 m[i].host_id, m[i].size);
		if (w < 0 || (size_t)w >= sizeof(buf) - off)
			return herr_set(E2BIG, "%s: too many mappings", what);
		off += (size_t)w;
	}
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	int r = fs_write_file(path, buf, off);
	return r < 0 ? herr_ctx(r, "%s", what) : 0;
}

int ns_write_id_maps(struct create_ctx *c)
{
	const struct oci_linux *l = &c->cfg->linux;
	if (!l->ns[OCI_NS_USER].present || l->ns[OCI_NS_USER].path)
		return 0;
	if (!l->n_uid_mappings || !l->n_gid_mappings)
		return herr_set(EINVAL, "linux.uidMappings, linux.gidMappings: a new user "
					"namespace needs both");
	int r =
	    write_map(c->pid, "uid_map", l->uid_mappings, l->n_uid_mappings, "linux.uidMappings");
	if (r < 0)
		return r;
	return write_map(c->pid, "gid_map", l->gid_mappings, l->n_gid_mappings,
			 "linux.gidMappings");
}

/* In the init: join namespaces by path (user first, so the rest are ours to join). */
int ns_child_join(struct create_ctx *c)
{
	static const enum oci_ns order[] = {OCI_NS_USER, OCI_NS_IPC,	OCI_NS_UTS,
					    OCI_NS_NET,	 OCI_NS_CGROUP, OCI_NS_MNT};
	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		enum oci_ns ns = order[k];
		if (c->ns_fds[ns] < 0)
			continue;
		if (setns(c->ns_fds[ns], clone_flags[ns]) < 0)
			return herr_sys("linux.namespaces: join %s namespace %s", oci_ns_name(ns),
					c->cfg->linux.ns[ns].path);
		close(c->ns_fds[ns]);
		c->ns_fds[ns] = -1;
	}
	if (c->unshare_flags && unshare((int)c->unshare_flags) < 0)
		return herr_sys("linux.namespaces: cannot create namespaces in the joined user "
				"namespace");
	return 0;
}
