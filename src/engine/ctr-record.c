/*
 * Container records: one directory per container under root/containers, its
 * name a symlink under containers/names, its status read from what the shim
 * left rather than stored, so that a deck killed at any point leaves nothing
 * that the next command would believe wrongly.
 */
#include "engine/container.h"
#include "engine/shim.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/strv.h"
#include "image/digest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECORD_FILE "container.json"

const char *ctr_status_name(enum ctr_status s)
{
	static const char *const names[] = {"created", "running", "paused", "exited", "removing"};
	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "unknown";
}

char *ctr_dir(const char *root, const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "%s/containers/%s", root, id);
	return buf;
}

/*
 * Where a --rm container's directory really is: /run/deck/<16 hex digits of the
 * root's sha256>/ID, on tmpfs, behind a symlink at root/containers/ID. Nothing of
 * it is to outlive the container, and ext4's inode and directory allocation was
 * a third of what a `deck run --rm` cost.
 */
static int transient_dir(const char *root, const char *id, char *buf, size_t len)
{
	_cleanup_free_ char *abs = realpath(root, NULL);
	if (!abs)
		return herr_sys("%s", root);
	char d[IMG_DIGEST_MAX];
	img_digest_buf(abs, strlen(abs), d);
	snprintf(buf, len, CTR_RUN_DIR "/%.16s", img_digest_hex(d));
	if ((mkdir(CTR_RUN_DIR, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(buf, 0700) < 0 && errno != EEXIST))
		return herr_sys("%s", buf);
	size_t n = strlen(buf);
	snprintf(buf + n, len - n, "/%s", id);
	return 0;
}

/* rm -rf of a container directory, or of where its symlink points and the symlink. */
static int remove_dir(const char *dir)
{
	char target[PATH_MAX];
	ssize_t n = readlink(dir, target, sizeof(target) - 1);
	if (n > 0) {
		target[n] = 0;
		int rc = fs_rm_rf(target);
		if (rc < 0 && rc != -ENOENT)
			return rc;
		return unlink(dir) < 0 && errno != ENOENT ? -errno : 0;
	}
	return fs_rm_rf(dir);
}

void ctr_record_clear(struct ctr_record *r)
{
	free(r->name);
	free(r->image_id);
	ctr_config_clear(&r->config);
	strv_free(r->args);
	free(r->stop_signal);
	free(r->network);
	free(r->ip);
	free(r->ports_json);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

void ctr_record_free_array(struct ctr_record *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ctr_record_clear(&v[i]);
	free(v);
}

static int lock_file(const char *root, const char *id, bool exclusive, bool create);

static int mkdirs(const char *root)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/containers/names", root);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0711) < 0 && errno != EEXIST)
			return herr_sys("%s", path);
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return herr_sys("%s", path);
	return 0;
}

/* Docker-style names: an adjective and a surname-like noun. Our own short lists. */
static const char *const adjectives[] = {
    "amber",  "bold",  "brave",	  "bright", "calm",    "clever", "cosmic", "crisp",
    "daring", "eager", "fervent", "gentle", "happy",   "humble", "jolly",  "keen",
    "lucid",  "merry", "nimble",  "noble",  "patient", "proud",	 "quiet",  "rapid",
    "serene", "sharp", "steady",  "swift",  "tender",  "vivid",	 "wise",   "zealous"};
static const char *const nouns[] = {
    "anchor",  "badger", "beacon", "cedar",  "comet",  "delta",	 "falcon",  "fjord",
    "glacier", "harbor", "heron",  "island", "keel",   "lagoon", "lantern", "marlin",
    "meadow",  "nebula", "otter",  "pebble", "pilot",  "quartz", "raven",   "reef",
    "sextant", "spruce", "tide",   "tundra", "vessel", "walrus", "willow",  "zephyr"};

static int random_name(char *buf, size_t len)
{
	unsigned char b[3];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return herr_sys("getrandom");
	snprintf(buf, len, "%s_%s", adjectives[b[0] % ARRAY_SIZE(adjectives)],
		 nouns[b[1] % ARRAY_SIZE(nouns)]);
	return 0;
}

static bool name_valid(const char *n)
{
	size_t len = strlen(n);
	if (!len || len > CTR_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = n[i];
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

/*
 * A container directory with no record is one being created (its creator holds
 * the lock) or one whose deck died while creating it: that one is removed here
 * (its rootfs unmounted first). Returns whether it was.
 */
static bool reap_stale(const char *root, const char *id)
{
	char dir[PATH_MAX], path[PATH_MAX + 32];
	ctr_dir(root, id, dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/" RECORD_FILE, dir);
	if (access(path, F_OK) == 0)
		return false;
	struct stat st;
	/* a --rm container's symlink whose tmpfs went with a reboot */
	if (lstat(dir, &st) == 0 && S_ISLNK(st.st_mode) && stat(dir, &st) < 0 && errno == ENOENT)
		return unlink(dir) == 0;
	snprintf(path, sizeof(path), "%s/lock", dir);
	_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
	struct stat sb;
	/* a lock file seconds old may not be locked yet by the deck creating it */
	if (fd < 0 || fstat(fd, &sb) < 0 || time(NULL) - sb.st_mtime < 5 ||
	    flock(fd, LOCK_EX | LOCK_NB) < 0)
		return false;
	snprintf(path, sizeof(path), "%s/bundle/merged", dir);
	umount2(path, MNT_DETACH);
	return remove_dir(dir) == 0;
}

/* Take the name for id: symlink creation is the atomic claim. A name left by a
 * container whose directory is gone (deck died mid-create) is taken over. */
static int claim_name(const char *root, const char *name, const char *id)
{
	char link[PATH_MAX], target[PATH_MAX], dir[PATH_MAX];
	snprintf(link, sizeof(link), "%s/containers/names/%s", root, name);
	for (int tries = 0; tries < 2; tries++) {
		if (symlink(id, link) == 0)
			return 0;
		if (errno != EEXIST)
			return herr_sys("%s", link);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = 0;
		if (access(ctr_dir(root, target, dir, sizeof(dir)), F_OK) == 0 &&
		    !reap_stale(root, target))
			return herr_set(
			    EEXIST,
			    "the container name \"/%s\" is already in use by container "
			    "\"%s\"; remove (or rename) that container to reuse the name",
			    name, target);
		unlink(link);
	}
	return herr_set(EEXIST, "the container name \"/%s\" is already in use", name);
}

int ctr_record_new(const char *root, const char *name, bool transient, struct ctr_record *out,
		   int *lock_fd)
{
	*lock_fd = -1;
	memset(out, 0, sizeof(*out));
	int r = mkdirs(root);
	if (r < 0)
		return r;
	if (name && !name_valid(name))
		return herr_set(EINVAL,
				"invalid container name \"%s\": only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
				"allowed",
				name);
	unsigned char raw[CTR_ID_LEN / 2];
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return herr_sys("getrandom");
	for (size_t i = 0; i < sizeof(raw); i++)
		sprintf(out->id + 2 * i, "%02x", raw[i]);
	/* docker never makes an all-digit short id: it would read as a number */
	char dir[PATH_MAX], real[PATH_MAX];
	ctr_dir(root, out->id, dir, sizeof(dir));
	if (transient) {
		if ((r = transient_dir(root, out->id, real, sizeof(real))) < 0)
			return r;
		if (mkdir(real, 0711) < 0)
			return herr_sys("%s", real);
		if (symlink(real, dir) < 0) {
			r = herr_sys("%s", dir);
			rmdir(real);
			return r;
		}
	} else if (mkdir(dir, 0711) < 0) {
		return herr_sys("%s", dir);
	}
	/* held until the record exists: until then the directory is not stale */
	if ((*lock_fd = lock_file(root, out->id, true, true)) < 0) {
		remove_dir(dir);
		return *lock_fd;
	}
	char gen[64];
	for (int tries = 0;; tries++) {
		if (!name && (r = random_name(gen, sizeof(gen))) < 0)
			break;
		r = claim_name(root, name ? name : gen, out->id);
		if (r == 0 || name || tries > 20)
			break;
	}
	if (r == 0 && !(out->name = strdup(name ? name : gen)))
		r = herr_set(ENOMEM, "out of memory");
	if (r < 0) {
		remove_dir(dir);
		close(*lock_fd);
		*lock_fd = -1;
		return r;
	}
	return 0;
}

static void add_str(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

int ctr_record_save(const char *root, const struct ctr_record *r)
{
	json_object *o = json_object_new_object(), *args = json_object_new_array();
	add_str(o, "Id", r->id);
	add_str(o, "Name", r->name);
	add_str(o, "ImageID", r->image_id);
	json_object_object_add(o, "Created", json_object_new_int64(r->created));
	json_object_object_add(o, "StartedAt", json_object_new_int64(r->started_at));
	json_object_object_add(o, "FinishedAt", json_object_new_int64(r->finished_at));
	json_object_object_add(o, "RestartCount", json_object_new_int(r->restart_count));
	json_object_object_add(o, "Config", ctr_config_to_json(&r->config));
	for (size_t i = 0; r->args && r->args[i]; i++)
		json_object_array_add(args, json_object_new_string(r->args[i]));
	json_object_object_add(o, "Args", args);
	add_str(o, "StopSignal", r->stop_signal);
	add_str(o, "Network", r->network);
	add_str(o, "IPAddress", r->ip);
	json_object_object_add(o, "Ports",
			       r->ports_json ? json_tokener_parse(r->ports_json) : NULL);
	json_object_object_add(o, "ExitCode", json_object_new_int(r->exit_code));
	json_object_object_add(o, "OOMKilled", json_object_new_boolean(r->oom_killed));
	add_str(o, "Error", r->error);
	json_object_object_add(o, "Removing", json_object_new_boolean(r->removing));
	json_object_object_add(o, "Paused", json_object_new_boolean(r->paused));
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	char path[PATH_MAX], dir[PATH_MAX];
	snprintf(path, sizeof(path), "%s/" RECORD_FILE, ctr_dir(root, r->id, dir, sizeof(dir)));
	int rc = text ? fs_write_file_atomic(path, text, strlen(text))
		      : herr_set(ENOMEM, "out of memory");
	json_object_put(o);
	return rc < 0 ? herr_ctx(rc, "container %.12s: save the record", r->id) : 0;
}

static char *get_str(json_object *o, const char *k)
{
	json_object *v;
	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return strdup(json_object_get_string(v));
}

static int64_t get_int(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v) : 0;
}

static int parse_record(const char *path, const char *text, struct ctr_record *r)
{
	json_object *o = json_tokener_parse(text), *v;
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return herr_set(EINVAL, "%s: not a container record", path);
	}
	_cleanup_free_ char *id = get_str(o, "Id");
	int rc = 0;
	if (!id || strlen(id) != CTR_ID_LEN)
		rc = herr_set(EINVAL, "%s: no Id", path);
	if (rc == 0) {
		memcpy(r->id, id, CTR_ID_LEN + 1);
		r->name = get_str(o, "Name");
		r->image_id = get_str(o, "ImageID");
		r->created = get_int(o, "Created");
		r->started_at = get_int(o, "StartedAt");
		r->finished_at = get_int(o, "FinishedAt");
		r->restart_count = (int)get_int(o, "RestartCount");
		r->stop_signal = get_str(o, "StopSignal");
		r->network = get_str(o, "Network");
		r->ip = get_str(o, "IPAddress");
		r->exit_code = (int)get_int(o, "ExitCode");
		r->error = get_str(o, "Error");
		if (json_object_object_get_ex(o, "OOMKilled", &v))
			r->oom_killed = json_object_get_boolean(v);
		if (json_object_object_get_ex(o, "Removing", &v))
			r->removing = json_object_get_boolean(v);
		if (json_object_object_get_ex(o, "Paused", &v))
			r->paused = json_object_get_boolean(v);
		if (json_object_object_get_ex(o, "Ports", &v) && v)
			r->ports_json = strdup(json_object_to_json_string(v));
		if (json_object_object_get_ex(o, "Args", &v) &&
		    json_object_is_type(v, json_type_array))
			for (size_t i = 0; rc == 0 && i < json_object_array_length(v); i++)
				rc = strv_push(&r->args, json_object_get_string(
							     json_object_array_get_idx(v, i)));
		if (rc == 0 && json_object_object_get_ex(o, "Config", &v))
			rc = ctr_config_from_json(v, &r->config);
		if (rc < 0)
			rc = herr_ctx(rc, "%s", path);
	}
	json_object_put(o);
	return rc;
}

/* Status from the shim's files: a live shim holds shim.pid locked. */
static void derive_status(const char *root, struct ctr_record *r)
{
	char dir[PATH_MAX], path[PATH_MAX];
	ctr_dir(root, r->id, dir, sizeof(dir));
	r->pid = 0;
	struct shim_exit e;
	int pidfd = shim_pidfd(dir);
	if (pidfd >= 0) {
		close(pidfd);
		_cleanup_free_ char *pid = NULL;
		snprintf(path, sizeof(path), "%s/" SHIM_INIT_FILE, dir);
		if (fs_read_file(path, 32, &pid, NULL) == 0)
			r->pid = atoi(pid);
		r->status = r->paused ? CTR_PAUSED : CTR_RUNNING;
	} else if (shim_read_exit(dir, &e) == 0) {
		r->status = CTR_EXITED;
		r->exit_code = e.exit_code;
		r->oom_killed = e.oom_killed;
		struct tm tm = {0};
		long nsec = 0;
		const char *rest = strptime(e.finished_at, "%Y-%m-%dT%H:%M:%S", &tm);
		if (rest && *rest == '.')
			nsec = strtol(rest + 1, NULL, 10);
		if (rest)
			r->finished_at = (int64_t)timegm(&tm) * 1000000000 + nsec;
	} else if (r->started_at) {
		/* the shim died without recording an exit: its container went with it */
		r->status = CTR_EXITED;
		if (r->finished_at < r->started_at)
			r->exit_code = r->exit_code ? r->exit_code : 255;
	} else {
		r->status = CTR_CREATED;
	}
	if (r->removing)
		r->status = CTR_REMOVING;
}

static int load_id(const char *root, const char *id, struct ctr_record *out)
{
	char dir[PATH_MAX], path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/" RECORD_FILE, ctr_dir(root, id, dir, sizeof(dir)));
	_cleanup_free_ char *text = NULL;
	int r = fs_read_file(path, 1u << 20, &text, NULL);
	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	if ((r = parse_record(path, text, out)) < 0) {
		ctr_record_clear(out);
		return r;
	}
	derive_status(root, out);
	return 0;
}

static bool is_hex_id(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");
	return n == strlen(s) && n > 0 && n <= CTR_ID_LEN;
}

int ctr_load(const char *root, const char *query, struct ctr_record *out)
{
	char path[PATH_MAX], target[CTR_ID_LEN + 2];
	if (strlen(query) == CTR_ID_LEN && is_hex_id(query) && load_id(root, query, out) == 0)
		return 0;
	/* docker accepts "/name" too */
	const char *name = query[0] == '/' ? query + 1 : query;
	snprintf(path, sizeof(path), "%s/containers/names/%s", root, name);
	ssize_t n = name_valid(name) ? readlink(path, target, sizeof(target) - 1) : -1;
	if (n == CTR_ID_LEN) {
		target[n] = 0;
		if (load_id(root, target, out) == 0)
			return 0;
	}
	if (is_hex_id(query)) {
		snprintf(path, sizeof(path), "%s/containers", root);
		_cleanup_closedir_ DIR *d = opendir(path);
		struct dirent *e;
		char found[CTR_ID_LEN + 1] = "";
		size_t qlen = strlen(query);
		while (d && (e = readdir(d))) {
			if (strlen(e->d_name) != CTR_ID_LEN || strncmp(e->d_name, query, qlen))
				continue;
			if (*found)
				return herr_set(EINVAL,
						"multiple containers match \"%s\": give more "
						"of the id",
						query);
			memcpy(found, e->d_name, CTR_ID_LEN + 1);
		}
		if (*found && load_id(root, found, out) == 0)
			return 0;
	}
	return herr_set(ENOENT, "no such container: %s", query);
}

static int by_created_desc(const void *a, const void *b)
{
	const struct ctr_record *x = a, *y = b;
	return x->created < y->created ? 1 : x->created > y->created ? -1 : 0;
}

int ctr_list(const char *root, struct ctr_record **out, size_t *n)
{
	char path[PATH_MAX];
	*out = NULL;
	*n = 0;
	snprintf(path, sizeof(path), "%s/containers", root);
	_cleanup_closedir_ DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : herr_sys("%s", path);
	struct ctr_record *v = NULL;
	size_t cnt = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strlen(e->d_name) != CTR_ID_LEN || !is_hex_id(e->d_name))
			continue;
		if (cnt == cap) {
			cap = cap ? 2 * cap : 16;
			struct ctr_record *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				ctr_record_free_array(v, cnt);
				return herr_set(ENOMEM, "out of memory");
			}
			v = nv;
		}
		/* one being created or removed right now has no record: not listed */
		if (load_id(root, e->d_name, &v[cnt]) == 0)
			cnt++;
		else
			reap_stale(root, e->d_name);
	}
	herr_clear();
	if (cnt)
		qsort(v, cnt, sizeof(*v), by_created_desc);
	*out = v;
	*n = cnt;
	return 0;
}

static int lock_file(const char *root, const char *id, bool exclusive, bool create)
{
	char dir[PATH_MAX], path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/lock", ctr_dir(root, id, dir, sizeof(dir)));
	/* never created but by ctr_record_new: one made in a directory being removed
	 * would keep its rm -rf from finishing */
	_cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0600);
	if (fd < 0)
		return errno == ENOENT ? herr_set(ENOENT, "no such container: %s", id)
				       : herr_sys("%s", path);
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
		if (errno != EINTR)
			return herr_sys("lock %s", path);
	return take_fd(fd);
}

int ctr_lock(const char *root, const char *id, bool exclusive)
{
	return lock_file(root, id, exclusive, false);
}

int ctr_record_remove(const char *root, const struct ctr_record *r)
{
	char dir[PATH_MAX], path[PATH_MAX], target[CTR_ID_LEN + 2];
	ctr_dir(root, r->id, dir, sizeof(dir));
	/* the record first: from here on, nobody sees a half-removed container */
	snprintf(path, sizeof(path), "%s/" RECORD_FILE, dir);
	if (unlink(path) < 0 && errno != ENOENT)
		return herr_sys("%s", path);
	if (r->name) {
		snprintf(path, sizeof(path), "%s/containers/names/%s", root, r->name);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n == CTR_ID_LEN && !memcmp(target, r->id, CTR_ID_LEN))
			unlink(path);
	}
	int rc = remove_dir(dir);
	return rc < 0 && rc != -ENOENT ? herr_set(-rc, "remove %s: %s", dir, strerror(-rc)) : 0;
}

bool ctr_exists(const char *root, const char *id)
{
	char dir[PATH_MAX], path[PATH_MAX];
	if (!is_hex_id(id) || strlen(id) != CTR_ID_LEN)
		return false;
	snprintf(path, sizeof(path), "%s/" RECORD_FILE, ctr_dir(root, id, dir, sizeof(dir)));
	return access(path, F_OK) == 0;
}

int ctr_load_locked(const char *root, const char *query, struct ctr_record *out)
{
	int rc = ctr_load(root, query, out);
	if (rc < 0)
		return rc;
	char id[CTR_ID_LEN + 1];
	memcpy(id, out->id, sizeof(id));
	ctr_record_clear(out);
	_cleanup_close_ int fd = ctr_lock(root, id, true);
	if (fd < 0)
		return fd;
	/* again: another deck may have changed or removed it while we waited */
	if ((rc = ctr_load(root, id, out)) < 0)
		return rc;
	return take_fd(fd);
}
