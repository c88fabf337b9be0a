/* The container's root: propagation, the rootfs bind, pivot_root, and the final touches. */
#include "internal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * pivot_root refuses a new root whose parent mount is shared. Only when the
 * config asks for shared propagation on / is that possible; then find the mount
 * that holds the rootfs and make it private.
 */
static int make_parent_private(const char *rootfs)
{
	_cleanup_free_ char *mi = NULL;
	int r = fs_read_file("/proc/self/mountinfo", 1 << 22, &mi, NULL);
	if (r < 0)
		return r;
	char best[4096] = "/";
	size_t bestlen = 1;
	char *save = NULL;
	for (char *line = strtok_r(mi, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char mp[4096];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		size_t n = strlen(mp);
		if (n > bestlen && !strncmp(rootfs, mp, n) && (rootfs[n] == '/' || !rootfs[n]) &&
		    strcmp(mp, rootfs)) {
			snprintf(best, sizeof(best), "%s", mp);
			bestlen = n;
		}
	}
	if (mount(NULL, best, NULL, MS_PRIVATE, NULL) < 0)
		return herr_sys("cannot make %s private", best);
	return 0;
}

/* Written through the container's /proc; rootfd is the container's root. */
static int set_sysctls(const struct oci_linux *l, int rootfd)
{
	for (size_t i = 0; i < l->n_sysctl; i++) {
		char path[4096];
		int n = snprintf(path, sizeof(path), "/proc/sys/");
		for (const char *k = l->sysctl[i].key; *k && n < (int)sizeof(path) - 1; k++)
			path[n++] = *k == '.' ? '/' : *k;
		path[n] = 0;
		if (strstr(l->sysctl[i].key, ".."))
			return herr_set(EINVAL, "linux.sysctl: invalid name \"%s\"",
					l->sysctl[i].key);
		/* Open through the container's /proc without following symlinks out of it. */
		_cleanup_close_ int fd =
		    fs_openat2(rootfd, path, O_WRONLY, 0,
			       RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
		if (fd < 0)
			return herr_set(-fd, "linux.sysctl: %s: %s", l->sysctl[i].key,
					strerror(-fd));
		const char *v = l->sysctl[i].value;
		if (write(fd, v, strlen(v)) < 0)
			return herr_sys("linux.sysctl: %s = %s", l->sysctl[i].key, v);
	}
	return 0;
}

/* Sysctls first: /proc/sys is usually among the read-only paths. */
static int apply_masks(struct create_ctx *c, int rootfd)
{
	int r = set_sysctls(&c->cfg->linux, rootfd);
	if (r < 0 || (r = maskpaths_apply(c->cfg, rootfd)) < 0)
		return r;
	c->masks_done = true;
	return 0;
}

/*
 * Masks and sysctls are done in the rootfs before pivot_root when nothing they
 * touch waits for a mount that is put off: then the init does them while the
 * parent is still making the cgroups, instead of waiting for those first. Not
 * when createContainer hooks run: they see the rootfs before the masks, as the
 * spec has them run before pivot_root and runc masks after it.
 */
static bool masks_fit_early(const struct create_ctx *c)
{
	const struct oci_linux *l = &c->cfg->linux;
	if (c->cfg->hooks[OCI_HOOK_CREATE_CONTAINER].n || mounts_deferred_covers(c, "/proc/sys"))
		return false;
	for (size_t i = 0; i < l->n_masked_paths; i++)
		if (mounts_deferred_covers(c, l->masked_paths[i]))
			return false;
	for (size_t i = 0; i < l->n_readonly_paths; i++)
		if (mounts_deferred_covers(c, l->readonly_paths[i]))
			return false;
	return true;
}

int rootfs_prepare(struct create_ctx *c, int *rootfd)
{
	const struct oci_linux *l = &c->cfg->linux;
	unsigned long prop =
	    l->rootfs_propagation_flags ? l->rootfs_propagation_flags : MS_SLAVE | MS_REC;
	if (!l->ns[OCI_NS_MNT].path) {
		/* Nothing we mount may propagate back to the host. */
		if (mount(NULL, "/", NULL, (prop & MS_SHARED) ? MS_SLAVE | MS_REC : prop, NULL) < 0)
			return herr_sys("linux.rootfsPropagation: cannot set propagation of /");
	}
	if (mount(c->rootfs, c->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return herr_sys("root.path: cannot bind %s", c->rootfs);
	if (prop & MS_SHARED) {
		int r = make_parent_private(c->rootfs);
		if (r < 0)
			return r;
	}
	*rootfd = open(c->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*rootfd < 0)
		return herr_sys("root.path: open %s", c->rootfs);
	c->deferred = calloc(c->cfg->n_mounts + 1, sizeof(bool));
	int r = mounts_setup(c, *rootfd);
	if (r < 0)
		return r;
	if (devices_needs_setup(c->cfg) && (r = devices_setup(c, *rootfd)) < 0)
		return r;
	if (masks_fit_early(c) && (r = apply_masks(c, *rootfd)) < 0)
		return r;
	return mounts_finish(c, *rootfd);
}

static int pivot(int rootfd)
{
	_cleanup_close_ int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (oldroot < 0)
		return herr_sys("open /");
	if (fchdir(rootfd) < 0)
		return herr_sys("chdir to the rootfs");
	/* Stack the old root under the new one, then detach it. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return herr_sys("pivot_root");
	if (fchdir(oldroot) < 0)
		return herr_sys("chdir to the old root");
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return herr_sys("make the old root a slave");
	if (umount2(".", MNT_DETACH) < 0)
		return herr_sys("detach the old root");
	if (chdir("/") < 0)
		return herr_sys("chdir /");
	return 0;
}

static int move_chroot(const char *rootfs)
{
	if (chdir(rootfs) < 0)
		return herr_sys("chdir %s", rootfs);
	if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
		return herr_sys("--no-pivot: move %s to /", rootfs);
	if (chroot(".") < 0)
		return herr_sys("--no-pivot: chroot");
	if (chdir("/") < 0)
		return herr_sys("chdir /");
	return 0;
}

int rootfs_pivot(struct create_ctx *c, int rootfd)
{
	int r = c->o->no_pivot ? move_chroot(c->rootfs) : pivot(rootfd);
	if (r < 0)
		return r;
	/*
	 * The recursive propagation was set on / before the mounts, so each mount's
	 * own propagation option stands. Only "shared" waits until now (the host must
	 * not see our mounts being made), and it applies to the root mount itself.
	 */
	unsigned long prop = c->cfg->linux.rootfs_propagation_flags;
	if ((prop & MS_SHARED) && mount(NULL, "/", NULL, MS_SHARED, NULL) < 0)
		return herr_sys("linux.rootfsPropagation: %s", c->cfg->linux.rootfs_propagation);
	return 0;
}

int rootfs_finish(struct create_ctx *c)
{
	struct oci_config *cfg = c->cfg;
	if (!c->masks_done) {
		_cleanup_close_ int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			return herr_sys("open /");
		int r = apply_masks(c, rootfd);
		if (r < 0)
			return r;
	}
	if (cfg->root_readonly) {
		struct statvfs sv;
		if (statvfs("/", &sv) < 0)
			return herr_sys("statvfs /");
		unsigned long keep = sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC);
		if (mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | keep, NULL) < 0)
			return herr_sys("root.readonly: cannot remount / read-only");
	}
	if (cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
		return herr_sys("hostname: cannot set \"%s\"", cfg->hostname);
	if (cfg->domainname && setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0)
		return herr_sys("domainname: cannot set \"%s\"", cfg->domainname);
	return 0;
}
