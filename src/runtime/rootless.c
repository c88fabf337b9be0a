#include "rootless.h"
#include "internal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static enum rootless_mode mode = ROOTLESS_AUTO;
/* Decided once: a runtime that joins a user namespace may be uid 0 there. */
static int active = -1;

int rootless_parse(const char *s, enum rootless_mode *m)
{
	if (!strcmp(s, "true"))
		*m = ROOTLESS_ON;
	else if (!strcmp(s, "false"))
		*m = ROOTLESS_OFF;
	else if (!strcmp(s, "auto"))
		*m = ROOTLESS_AUTO;
	else
		return herr_set(EINVAL, "--rootless: expected true, false or auto, got \"%s\"", s);
	return 0;
}

void rootless_set_mode(enum rootless_mode m)
{
	mode = m;
	active = -1;
}

bool rootless_active(void)
{
	if (active < 0)
		active = mode == ROOTLESS_ON || (mode == ROOTLESS_AUTO && geteuid() != 0);
	return active;
}

int rootless_state_root(char *buf, size_t len)
{
	uid_t uid = geteuid();
	/* root forcing rootless mode keeps root's directory, as runc does. */
	if (!rootless_active() || uid == 0) {
		snprintf(buf, len, "/run/hull");
		return 0;
	}
	const char *x = getenv("XDG_RUNTIME_DIR");
	if (!x || !*x)
		return herr_set(EINVAL,
				"rootless: XDG_RUNTIME_DIR is not set; set it to a directory of "
				"your own (usually /run/user/%u) or give --root DIR",
				(unsigned)uid);
	struct stat st;
	if (x[0] != '/')
		return herr_set(EINVAL, "rootless: XDG_RUNTIME_DIR=%s is not an absolute path", x);
	if (stat(x, &st) < 0)
		return herr_sys("rootless: XDG_RUNTIME_DIR=%s", x);
	if (!S_ISDIR(st.st_mode))
		return herr_set(ENOTDIR, "rootless: XDG_RUNTIME_DIR=%s is not a directory", x);
	if (st.st_uid != uid)
		return herr_set(EPERM,
				"rootless: XDG_RUNTIME_DIR=%s belongs to uid %u, not to you (uid "
				"%u); set it to a directory of your own or give --root DIR",
				x, (unsigned)st.st_uid, (unsigned)uid);
	if ((size_t)snprintf(buf, len, "%s/hull", x) >= len)
		return herr_set(ENAMETOOLONG, "rootless: XDG_RUNTIME_DIR=%s is too long", x);
	return 0;
}

bool rootless_cgroup_usable(const char *dir)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s", dir);
	struct stat st;
	if (stat(p, &st) == 0) {
		char procs[4200];
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", p);
		return faccessat(AT_FDCWD, p, W_OK | X_OK, AT_EACCESS) == 0 &&
		       faccessat(AT_FDCWD, procs, W_OK, AT_EACCESS) == 0;
	}
	/* To be made: the nearest existing ancestor must let us create in it. */
	for (char *slash; (slash = strrchr(p, '/')) && slash != p;) {
		*slash = 0;
		if (stat(p, &st) == 0)
			return faccessat(AT_FDCWD, p, W_OK | X_OK, AT_EACCESS) == 0;
	}
	return false;
}

/* The first kind of limit linux.resources asks for (devices are no limit of ours here). */
static const char *resources_asked(const struct oci_resources *r)
{
	if (!r)
		return NULL;
	const typeof(r->memory) *m = &r->memory;
	if (m->has_limit || m->has_reservation || m->has_swap || m->has_kernel ||
	    m->has_kernel_tcp || m->has_swappiness || m->has_disable_oom_killer ||
	    m->has_use_hierarchy)
		return "memory";
	const typeof(r->cpu) *c = &r->cpu;
	if (c->has_shares || c->has_quota || c->has_burst || c->has_period ||
	    c->has_realtime_runtime || c->has_realtime_period || c->cpus || c->mems || c->has_idle)
		return "cpu";
	if (r->pids.has_limit)
		return "pids";
	const typeof(r->block_io) *b = &r->block_io;
	if (b->has_weight || b->has_leaf_weight || b->n_weight_device || b->throttle_read_bps.n ||
	    b->throttle_write_bps.n || b->throttle_read_iops.n || b->throttle_write_iops.n)
		return "blockIO";
	if (r->n_hugepage_limits)
		return "hugepageLimits";
	if (r->network.has_class_id || r->network.n_priorities)
		return "network";
	if (r->n_rdma)
		return "rdma";
	if (r->n_unified)
		return "unified";
	return NULL;
}

/* Each hierarchy's directory for cgroupsPath, as cgroup_create() would make it. */
static void cgroup_target(const struct cgroup_hier *h, const char *path, char *buf, size_t len)
{
	if (path[0] == '/')
		snprintf(buf, len, "%s%s", h->mountpoint, path);
	else
		snprintf(buf, len, "%s%s/%s", h->mountpoint, strcmp(h->own, "/") ? h->own : "",
			 path);
}

static int decide_cgroups(struct create_ctx *c)
{
	struct oci_linux *l = &c->cfg->linux;
	const char *where = c->cfg->path;
	if (!l->cgroups_path && !l->resources)
		return 0;
	/* Device rules need the v1 devices cgroup or a BPF program: neither is ours. */
	free(c->dev_rules);
	c->dev_rules = NULL;
	c->n_dev_rules = 0;
	const char *asked = resources_asked(c->resources);
	if (!l->cgroups_path) {
		if (asked)
			return herr_set(EPERM,
					"%s: linux.resources.%s: a rootless container gets limits "
					"only in a cgroup delegated to its user: give "
					"linux.cgroupsPath",
					where, asked);
		l->resources = NULL;
		return 0;
	}
	struct cgroup_hier *h;
	size_t n;
	int r = cgroup_hiers(&h, &n);
	if (r < 0)
		return r;
	char skipped[1024] = "", first[4096] = "";
	size_t n_skipped = 0;
	for (size_t i = 0; i < n; i++) {
		char dir[4096];
		cgroup_target(&h[i], l->cgroups_path, dir, sizeof(dir));
		if (rootless_cgroup_usable(dir))
			continue;
		if (!n_skipped++)
			snprintf(first, sizeof(first), "%s", dir);
		size_t used = strlen(skipped);
		if (used < sizeof(skipped) - 1)
			snprintf(skipped + used, sizeof(skipped) - used, "%s%s", used ? ", " : "",
				 h[i].mountpoint);
	}
	cgroup_hiers_free(h, n);
	if (!n_skipped)
		return 0;
	if (asked)
		return herr_set(EPERM,
				"%s: linux.resources.%s: cannot set the limit: a rootless "
				"container could not create or join cgroup %s (uid %u may not "
				"write there; it needs a cgroup delegated to it)",
				where, asked, first, (unsigned)geteuid());
	if (n_skipped == n) {
		log_warn("rootless: no write access to the cgroup \"%s\" in %s: the container "
			 "runs without cgroups",
			 l->cgroups_path, skipped);
		l->cgroups_path = NULL;
		l->resources = NULL;
	} else {
		log_warn("rootless: no write access to the cgroup \"%s\" in %s: the container "
			 "is left out of those hierarchies",
			 l->cgroups_path, skipped);
	}
	return 0;
}

int rootless_check_bundle(struct create_ctx *c)
{
	struct oci_config *cfg = c->cfg;
	struct oci_linux *l = &cfg->linux;
	if (geteuid() != 0 && !l->ns[OCI_NS_USER].present)
		return herr_set(EPERM,
				"%s: linux.namespaces: an unprivileged user (uid %u) needs a user "
				"namespace: add {\"type\": \"user\"} and linux.uidMappings, "
				"linux.gidMappings (`hull spec --rootless` writes such a config)",
				cfg->path, (unsigned)geteuid());
	/*
	 * sysfs may be mounted only by who is privileged over the network namespace;
	 * the host's belongs to the initial user namespace. runc binds the host's
	 * /sys instead when the mount fails: the outcome is known in advance here.
	 */
	if (l->ns[OCI_NS_USER].present && !l->ns[OCI_NS_NET].present)
		for (size_t i = 0; i < cfg->n_mounts; i++) {
			struct oci_mount *m = &cfg->mounts[i];
			if (m->bind || !m->type || strcmp(m->type, "sysfs"))
				continue;
			log_debug("mounts[%zu]: sysfs without a network namespace of the "
				  "container's own: binding the host's /sys",
				  i);
			m->bind = m->recursive = true;
			m->source = (char *)"/sys";
			m->data = NULL;
		}
	return rootless_active() ? decide_cgroups(c) : 0;
}
