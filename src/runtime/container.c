/* Lifecycle operations on a container that exists: run, start, state, kill, delete, list. */
#include "internal.h"
#include "control.h"
#include "hooks.h"
#include "sync.h"
#include "terminal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/strv.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

unsigned long long proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* comm may hold spaces and parentheses: fields restart after the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return 0;
	char state = p[2];
	if (state == 'Z' || state == 'X')
		return 0;
	unsigned long long start = 0;
	/* field 3 is state; starttime is field 22 */
	if (sscanf(p + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
		   "%*d %*d %llu",
		   &start) != 1)
		return 0;
	return start;
}

/* A pidfd for the state's init, or -ESRCH when it is gone (or its PID was reused). */
static int open_init(const struct oci_state *st)
{
	if (st->pid <= 0)
		return -ESRCH;
	int fd = pidfd_open(st->pid, 0);
	if (fd < 0)
		return -errno;
	/* Checked after opening: from here on the pidfd pins this very process. */
	if (proc_start_time(st->pid) != st->start_time) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

static bool frozen(const struct oci_state *st)
{
	for (size_t i = 0; st->cgroup_leaves && st->cgroup_leaves[i]; i++) {
		char p[4200];
		_cleanup_free_ char *v = NULL;
		snprintf(p, sizeof(p), "%s/freezer.state", st->cgroup_leaves[i]);
		if (fs_read_file(p, 64, &v, NULL) == 0)
			return strncmp(v, "FROZEN", 6) == 0;
		snprintf(p, sizeof(p), "%s/cgroup.freeze", st->cgroup_leaves[i]);
		if (fs_read_file(p, 64, &v, NULL) == 0 && v[0] == '1')
			return true;
	}
	herr_clear();
	return false;
}

int container_state(const char *root, const char *id, struct oci_state *st)
{
	char dir[4096], path[4200];
	int r = statedir_path(root, id, dir, sizeof(dir));
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s/state.json", dir);
	r = oci_state_load(path, st);
	if (r < 0) {
		struct stat sb;
		if (r == -ENOENT && stat(dir, &sb) == 0) {
			/* A create under way (or one that died) has a state dir, no state yet. */
			oci_state_clear(st);
			herr_clear();
			st->json = json_object_new_object();
			json_object_object_add(st->json, "id", json_object_new_string(id));
			st->id =
			    (char *)json_object_get_string(json_object_object_get(st->json, "id"));
			st->bundle = st->rootfs = st->created = st->owner = "";
			st->status = OCI_CREATING;
			return 0;
		}
		if (r == -ENOENT)
			return herr_set(ENOENT, "container \"%s\" does not exist", id);
		return r;
	}
	_cleanup_close_ int pidfd = open_init(st);
	if (pidfd < 0) {
		st->status = OCI_STOPPED;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/exec.fifo", dir);
	if (access(path, F_OK) == 0)
		st->status = OCI_CREATED;
	else
		st->status = frozen(st) ? OCI_PAUSED : OCI_RUNNING;
	return 0;
}

static void state_freep(struct oci_state *st)
{
	oci_state_clear(st);
}
#define _cleanup_state_ __attribute__((cleanup(state_freep)))

/* Hooks recorded in state.json, re-read through the config parser. */
int hooks_from_state(struct json_object *hooks, enum oci_hook_kind kind, const char *id, pid_t pid,
		     const char *bundle, struct json_object *annotations, enum oci_status status,
		     bool warn_only)
{
	if (!hooks)
		return 0;
	json_object *doc = json_object_new_object();
	json_object *rootobj = json_object_new_object();
	json_object_object_add(rootobj, "path", json_object_new_string("rootfs"));
	json_object_object_add(doc, "ociVersion", json_object_new_string(OCI_VERSION));
	json_object_object_add(doc, "root", rootobj);
	json_object_object_add(doc, "hooks", json_object_get(hooks));
	const char *text = json_object_to_json_string(doc);
	_cleanup_config_ struct oci_config *cfg = NULL;
	int r = oci_config_parse(text, strlen(text), "state.json", &cfg);
	json_object_put(doc);
	if (r < 0)
		return r;
	if (!cfg->hooks[kind].n)
		return 0;
	_cleanup_free_ char *state = oci_state_hook_json(id, pid, bundle, annotations, status);
	return hooks_run(&cfg->hooks[kind], kind, state, warn_only);
}

int container_start(const char *root, const char *id)
{
	_cleanup_close_ int lock = -1;
	int r = statedir_open_locked(root, id, &lock);
	if (r < 0)
		return r;
	_cleanup_state_ struct oci_state st = {0};
	r = container_state(root, id, &st);
	if (r < 0)
		return r;
	if (st.status != OCI_CREATED)
		return herr_set(EINVAL, "cannot start container \"%s\": it is %s, not created", id,
				oci_status_name(st.status));
	char fifo[4200];
	snprintf(fifo, sizeof(fifo), "%s/%s/exec.fifo", root, id);
	_cleanup_close_ int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENXIO)
			return herr_set(ESRCH, "cannot start container \"%s\": its init is gone",
					id);
		return herr_sys("cannot open %s", fifo);
	}
	if (write(fd, "0", 1) != 1)
		return herr_sys("cannot start container \"%s\": write %s", id, fifo);
	unlink(fifo);
	/*
	 * The init holds the read end until execve closes it: when our end reports
	 * an error, startContainer hooks are done and the process runs, so poststart
	 * hooks come strictly after.
	 */
	struct pollfd p = {.fd = fd, .events = 0};
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	hooks_from_state(st.hooks, OCI_HOOK_POSTSTART, id, st.pid, st.bundle, st.annotations,
			 OCI_RUNNING, true);
	herr_clear();
	return 0;
}

int container_kill(const char *root, const char *id, int sig, bool all)
{
	_cleanup_state_ struct oci_state st = {0};
	int r = container_state(root, id, &st);
	if (r < 0)
		return r;
	if (st.status == OCI_STOPPED)
		return herr_set(ESRCH, "container \"%s\" is not running", id);
	_cleanup_close_ int pidfd = open_init(&st);
	if (pidfd < 0)
		return herr_set(ESRCH, "container \"%s\" is not running", id);
	/* --all goes through the cgroups: cgroup.kill, or freeze + signal + thaw. */
	if (all && st.cgroup_leaves && (r = container_kill_leaves(st.cgroup_leaves, sig)) < 0)
		return r;
	if (pidfd_send_signal(pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
		return herr_sys("cannot signal container \"%s\"", id);
	return 0;
}

static int wait_exit(int pidfd)
{
	struct pollfd p = {.fd = pidfd, .events = POLLIN};
	while (poll(&p, 1, 10000) < 0)
		if (errno != EINTR)
			return herr_sys("poll pidfd");
	return 0;
}

/* Remove what a stopped container still holds: hooks, cgroups, state. */
static int destroy(const char *root, const char *id, struct oci_state *st)
{
	hooks_from_state(st->hooks, OCI_HOOK_POSTSTOP, id, 0, st->bundle, st->annotations,
			 OCI_STOPPED, true);
	herr_clear();
	int r = cgroup_destroy(st->cgroups);
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/%s", root, id);
	int r2 = fs_rm_rf(dir);
	return r < 0 ? r : r2;
}

int container_delete(const char *root, const char *id, bool force)
{
	_cleanup_close_ int lock = -1;
	int r = statedir_open_locked(root, id, &lock);
	if (r < 0)
		return r;
	_cleanup_state_ struct oci_state st = {0};
	r = container_state(root, id, &st);
	if (r < 0)
		return r;
	if (st.status == OCI_CREATING) {
		/* We hold the lock, so its create has ended: it died before its state. */
		if (!force)
			return herr_set(
			    EBUSY, "container \"%s\" was never fully created (use --force)", id);
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s/%s", root, id);
		return fs_rm_rf(dir);
	}
	if ((st.status == OCI_RUNNING || st.status == OCI_PAUSED) && !force)
		return herr_set(EBUSY, "cannot delete container \"%s\" that is %s (use --force)",
				id, oci_status_name(st.status));
	if (st.status != OCI_STOPPED) {
		_cleanup_close_ int pidfd = open_init(&st);
		if (pidfd >= 0) {
			if (st.cgroup_leaves)
				cgroup_signal_all(st.cgroup_leaves, SIGKILL);
			/* A frozen cgroup would hold the SIGKILL back. */
			for (size_t i = 0; st.cgroup_leaves && st.cgroup_leaves[i]; i++) {
				char p[4200];
				snprintf(p, sizeof(p), "%s/freezer.state", st.cgroup_leaves[i]);
				if (access(p, F_OK) == 0)
					fs_write_file(p, "THAWED", 6);
				snprintf(p, sizeof(p), "%s/cgroup.freeze", st.cgroup_leaves[i]);
				if (access(p, F_OK) == 0)
					fs_write_file(p, "0", 1);
			}
			herr_clear();
			pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
			r = wait_exit(pidfd);
			if (r < 0)
				return r;
		}
	}
	return destroy(root, id, &st);
}

int container_list(const char *root, char ***ids)
{
	*ids = NULL;
	_cleanup_closedir_ DIR *d = opendir(root);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return herr_sys("--root: %s", root);
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || e->d_type != DT_DIR)
			continue;
		if (container_validate_id(e->d_name) < 0)
			continue;
		if (strv_push(ids, e->d_name) < 0)
			return herr_set(ENOMEM, "out of memory");
	}
	herr_clear();
	size_t n = strv_len(*ids);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp((*ids)[j - 1], (*ids)[j]) > 0; j--) {
			char *t = (*ids)[j];
			(*ids)[j] = (*ids)[j - 1];
			(*ids)[j - 1] = t;
		}
	return 0;
}

int container_create(const struct container_opts *o)
{
	struct create_ctx c;
	create_ctx_init(&c, o);
	int pty;
	int r = create_container(&c, &pty);
	if (r >= 0) {
		r = sync_send(c.sock, SYNC_START_FIFO, 0, 0, NULL, -1);
		if (r < 0)
			create_ctx_abort(&c);
	}
	create_ctx_free(&c);
	return r;
}
