/*
 * A container's life, second half: signals, stop, pause, and the cleanup that
 * gives back the network and the mounts after its exit, which every path ends
 * with (deck-shim's exit command, stop, rm, a foreground run) and which may run
 * twice. Kept apart from create and start so that deck-shim, which runs the
 * cleanup, links none of the image code.
 */
#include "engine/container.h"
#include "engine/ctr-runtime.h"
#include "engine/network.h"
#include "engine/shim.h"
#include "engine/volume.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "oci/config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

char *ctr_runtime_root(const char *root, char *buf, size_t len)
{
	snprintf(buf, len, "%s/runtime", root);
	return buf;
}

bool ctr_is_cni_network(const char *net)
{
	return strcmp(net, "none") && strcmp(net, "host");
}

bool ctr_is_mountpoint(const char *path)
{
	struct statx sx;
	return statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) == 0 &&
	       (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	       (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

void ctr_umount_all(const char *path)
{
	while (ctr_is_mountpoint(path) && umount2(path, MNT_DETACH) == 0)
		;
}

void ctr_netns_remove(const char *path)
{
	ctr_umount_all(path);
	unlink(path);
}

/* Give back what a run of the container held; the caller holds the lock. */
static int release(const char *root, struct ctr_record *r)
{
	char dir[PATH_MAX], path[PATH_MAX];
	ctr_dir(root, r->id, dir, sizeof(dir));
	ctr_rt_delete(root, r, true);
	herr_clear();
	snprintf(path, sizeof(path), "%s/netns", dir);
	int rc = 0;
	if (r->network && ctr_is_cni_network(r->network))
		rc = net_detach(root, r->network, r->id, path);
	ctr_netns_remove(path);
	snprintf(path, sizeof(path), "%s/bundle/merged", dir);
	ctr_umount_all(path);
	free(r->ip);
	free(r->ports_json);
	r->ip = r->ports_json = NULL;
	return rc;
}

/*
 * Whether a run of the container still holds something: the cleanup runs twice
 * after most exits (deck-shim's, then the foreground deck's), the second time
 * for nothing.
 */
static bool holds_anything(const char *root, const struct ctr_record *r)
{
	char dir[PATH_MAX], path[PATH_MAX + 16];
	ctr_dir(root, r->id, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/netns", dir);
	if (r->ip || access(path, F_OK) == 0)
		return true;
	snprintf(path, sizeof(path), "%s/bundle/merged", dir);
	return ctr_is_mountpoint(path);
}

static int remove_locked(const char *root, struct ctr_record *r, bool volumes)
{
	r->removing = true;
	ctr_record_save(root, r);
	int rc = release(root, r);
	if (rc < 0)
		return rc;
	vol_release_all(root, r->id, volumes || r->config.autoremove);
	return ctr_record_remove(root, r);
}

int ctr_cleanup(const char *root, const char *id)
{
	_cleanup_close_ int lock = ctr_lock(root, id, true);
	if (lock < 0) {
		herr_clear();
		return 0;
	}
	struct ctr_record r;
	if (ctr_load(root, id, &r) < 0) {
		herr_clear();
		return 0;
	}
	int rc = 0;
	if (r.config.autoremove && (r.status == CTR_EXITED || r.status == CTR_REMOVING))
		rc = remove_locked(root, &r, true);
	else if (r.status == CTR_EXITED && holds_anything(root, &r)) {
		rc = release(root, &r);
		if (rc == 0)
			rc = ctr_record_save(root, &r);
	}
	ctr_record_clear(&r);
	return rc;
}

int ctr_kill(const char *root, const struct ctr_record *r, int sig)
{
	if (r->status != CTR_RUNNING && r->status != CTR_PAUSED)
		return herr_set(EINVAL, "container %.12s is not running", r->id);
	if (sig == 0 && (sig = oci_signal_from_name(r->stop_signal)) <= 0)
		sig = SIGTERM;
	return ctr_rt_kill(root, r, sig, false);
}

int ctr_stop(const char *root, struct ctr_record *r, int timeout_s)
{
	char dir[PATH_MAX];
	ctr_dir(root, r->id, dir, sizeof(dir));
	if (r->status != CTR_RUNNING && r->status != CTR_PAUSED)
		return 0;
	if (timeout_s < 0)
		timeout_s = r->config.stop_timeout >= 0 ? r->config.stop_timeout : 10;
	int rc = ctr_kill(root, r, 0);
	/* a frozen process gets its signal once thawed */
	if (rc == 0 && r->status == CTR_PAUSED)
		rc = ctr_rt_pause(root, r, false);
	struct shim_exit e;
	if (rc == 0) {
		rc = shim_wait(dir, timeout_s * 1000, &e);
		if (rc == -ETIMEDOUT) {
			herr_clear();
			rc = ctr_rt_kill(root, r, SIGKILL, true);
			if (rc == 0)
				rc = shim_wait(dir, -1, &e);
		}
	}
	if (rc == -ESRCH)
		rc = 0, herr_clear();
	return rc;
}

int ctr_pause(const char *root, struct ctr_record *r, bool pause)
{
	if (r->status != CTR_RUNNING && r->status != CTR_PAUSED)
		return herr_set(EINVAL, "container %.12s is not running", r->id);
	if (pause && r->status == CTR_PAUSED)
		return herr_set(EINVAL, "container %.12s is already paused", r->id);
	if (!pause && r->status != CTR_PAUSED)
		return herr_set(EINVAL, "container %.12s is not paused", r->id);
	int rc = ctr_rt_pause(root, r, pause);
	if (rc < 0)
		return rc;
	r->paused = pause;
	r->status = pause ? CTR_PAUSED : CTR_RUNNING;
	return ctr_record_save(root, r);
}

int ctr_remove(const char *root, const char *query, bool force, bool volumes)
{
	struct ctr_record r;
	_cleanup_close_ int lock = ctr_load_locked(root, query, &r);
	if (lock < 0)
		return lock;
	int rc;
	char id[CTR_ID_LEN + 1];
	memcpy(id, r.id, sizeof(id));
	if (r.status == CTR_RUNNING || r.status == CTR_PAUSED) {
		if (!force) {
			rc = herr_set(EBUSY,
				      "cannot remove container %s: container is %s: stop the "
				      "container before removing or force remove",
				      query, ctr_status_name(r.status));
			ctr_record_clear(&r);
			return rc;
		}
		char dir[PATH_MAX];
		struct shim_exit e;
		ctr_dir(root, r.id, dir, sizeof(dir));
		rc = ctr_rt_kill(root, &r, SIGKILL, true);
		if (rc == 0 && r.status == CTR_PAUSED)
			ctr_rt_pause(root, &r, false);
		herr_clear();
		rc = shim_wait(dir, 10000, &e);
		if (rc < 0 && rc != -ESRCH) {
			ctr_record_clear(&r);
			return herr_ctx(rc, "container %.12s", id);
		}
		herr_clear();
	}
	rc = remove_locked(root, &r, volumes);
	ctr_record_clear(&r);
	return rc;
}

int ctr_pids(const char *root, const struct ctr_record *r, pid_t **pids, size_t *n)
{
	if (r->status != CTR_RUNNING && r->status != CTR_PAUSED)
		return herr_set(EINVAL, "container %.12s is not running", r->id);
	return ctr_rt_ps(root, r, pids, n);
}
