/* Named volumes, their users, and -v arguments. */
#include "engine/volume.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/strv.h"
#include "engine/network.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

bool vol_name_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > VOL_NAME_MAX || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

static int check_name(const char *name)
{
	if (!vol_name_valid(name))
		return herr_set(EINVAL,
				"invalid volume name \"%s\": use letters, digits and _.- (at most "
				"%d, starting with a letter or digit)",
				name, VOL_NAME_MAX);
	return 0;
}

static int vol_lock(const char *root, bool exclusive)
{
	_cleanup_free_ char *dir = NULL, *path = NULL;
	if (asprintf(&dir, "%s/volumes", root) < 0 || asprintf(&path, "%s/.lock", dir) < 0)
		return -ENOMEM;
	if (mkdir(root, 0700) < 0 && errno != EEXIST)
		return herr_sys("mkdir %s", root);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return herr_sys("mkdir %s", dir);
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return herr_sys("open %s", path);
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
		if (errno != EINTR)
			return herr_sys("lock %s", path);
	return take_fd(fd);
}

static char *vol_path(const char *root, const char *name, const char *sub)
{
	char *p;
	int r = sub ? asprintf(&p, "%s/volumes/%s/%s", root, name, sub)
		    : asprintf(&p, "%s/volumes/%s", root, name);
	return r < 0 ? NULL : p;
}

static bool vol_exists(const char *root, const char *name)
{
	_cleanup_free_ char *p = vol_path(root, name, "_data");
	struct stat st;
	return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

void vol_info_clear(struct vol_info *v)
{
	free(v->name);
	free(v->mountpoint);
	strv_free(v->users);
	*v = (struct vol_info){0};
}

void vol_info_free_array(struct vol_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		vol_info_clear(&v[i]);
	free(v);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int users_of(const char *root, const char *name, char ***out)
{
	*out = NULL;
	_cleanup_free_ char *dir = vol_path(root, name, "users");
	if (!dir)
		return -ENOMEM;
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : herr_sys("open %s", dir);
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && strv_push(out, e->d_name) < 0) {
			strv_free(*out);
			*out = NULL;
			return -ENOMEM;
		}
	if (*out)
		qsort(*out, strv_len(*out), sizeof(**out), by_name);
	return 0;
}

static int info_of(const char *root, const char *name, struct vol_info *out)
{
	*out = (struct vol_info){0};
	if (!vol_exists(root, name))
		return herr_set(ENOENT, "no such volume: %s", name);
	_cleanup_free_ char *info = vol_path(root, name, "info");
	out->name = strdup(name);
	out->mountpoint = vol_path(root, name, "_data");
	if (!info || !out->name || !out->mountpoint) {
		vol_info_clear(out);
		return -ENOMEM;
	}
	json_object *j = json_object_from_file(info), *v;
	if (j && json_object_object_get_ex(j, "created", &v))
		out->created = json_object_get_int64(v);
	if (j && json_object_object_get_ex(j, "anonymous", &v))
		out->anonymous = json_object_get_boolean(v);
	json_object_put(j);
	int r = users_of(root, name, &out->users);
	if (r < 0)
		vol_info_clear(out);
	return r;
}

static int random_name(char out[65])
{
	unsigned char b[32];
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return herr_sys("getrandom");
	for (size_t i = 0; i < sizeof(b); i++)
		sprintf(out + 2 * i, "%02x", b[i]);
	return 0;
}

/* Built aside and renamed into place: a volume is there whole or not at all. */
static int create_unlocked(const char *root, const char *name, bool anonymous)
{
	char tmpname[80], rnd[65];
	int r = random_name(rnd);
	if (r < 0)
		return r;
	snprintf(tmpname, sizeof(tmpname), ".new-%.16s", rnd);
	_cleanup_free_ char *tmp = vol_path(root, tmpname, NULL),
			    *data = vol_path(root, tmpname, "_data"),
			    *info = vol_path(root, tmpname, "info"),
			    *dst = vol_path(root, name, NULL);
	if (!tmp || !data || !info || !dst)
		return -ENOMEM;
	if (mkdir(tmp, 0700) < 0)
		return herr_sys("mkdir %s", tmp);
	if (mkdir(data, 0755) < 0) {
		r = herr_sys("mkdir %s", data);
		goto fail;
	}
	char text[96];
	int len = snprintf(text, sizeof(text), "{\"created\":%lld,\"anonymous\":%s}\n",
			   (long long)time(NULL), anonymous ? "true" : "false");
	if ((r = fs_write_file_atomic(info, text, (size_t)len)) < 0)
		goto fail;
	if (rename(tmp, dst) < 0) {
		r = errno == EEXIST || errno == ENOTEMPTY
			? herr_set(EEXIST, "volume %s already exists", name)
			: herr_sys("rename %s", dst);
		goto fail;
	}
	return 0;
fail:
	fs_rm_rf(tmp);
	return r;
}

int vol_create(const char *root, const char *name, bool anonymous, struct vol_info *out)
{
	char rnd[65];
	if (!name) {
		int r = random_name(rnd);
		if (r < 0)
			return r;
		name = rnd;
	}
	int r = check_name(name);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = vol_lock(root, false);
	if (lock < 0)
		return lock;
	if (vol_exists(root, name))
		return herr_set(EEXIST, "volume %s already exists", name);
	if ((r = create_unlocked(root, name, anonymous)) < 0)
		return r;
	return out ? info_of(root, name, out) : 0;
}

int vol_inspect(const char *root, const char *name, struct vol_info *out)
{
	int r = check_name(name);
	return r < 0 ? r : info_of(root, name, out);
}

int vol_list(const char *root, struct vol_info **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	_cleanup_free_ char *dir = NULL;
	if (asprintf(&dir, "%s/volumes", root) < 0)
		return -ENOMEM;
	struct dirent **ents = NULL;
	int ne = scandir(dir, &ents, NULL, alphasort);
	if (ne < 0)
		return errno == ENOENT ? 0 : herr_sys("read %s", dir);
	int r = 0;
	for (int i = 0; i < ne; i++) {
		const char *name = ents[i]->d_name;
		if (r == 0 && name[0] != '.' && vol_name_valid(name) && vol_exists(root, name)) {
			struct vol_info *v = realloc(*out, (*n + 1) * sizeof(**out));
			if (!v)
				r = -ENOMEM;
			else if ((*out = v), (r = info_of(root, name, &v[*n])) == 0)
				(*n)++;
		}
		free(ents[i]);
	}
	free(ents);
	if (r < 0) {
		vol_info_free_array(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return r;
}

/* Users whose container still exists; the records of the others are dropped. */
static int live_users(const char *root, const char *name, char ***out)
{
	_cleanup_strv_ char **users = NULL;
	*out = NULL;
	int r = users_of(root, name, &users);
	for (size_t i = 0; r == 0 && users && users[i]; i++) {
		if (net_container_alive(root, users[i])) {
			r = strv_push(out, users[i]);
			continue;
		}
		_cleanup_free_ char *p = NULL;
		if (asprintf(&p, "%s/volumes/%s/users/%s", root, name, users[i]) < 0)
			return -ENOMEM;
		unlink(p);
	}
	return r;
}

static int remove_unlocked(const char *root, const char *name, bool force)
{
	if (!vol_exists(root, name))
		return herr_set(ENOENT, "no such volume: %s", name);
	_cleanup_strv_ char **users = NULL;
	int r = live_users(root, name, &users);
	if (r < 0)
		return r;
	if (users && !force) {
		char list[512] = "";
		for (size_t i = 0; users[i]; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				 i ? ", " : "", users[i]);
		return herr_set(EBUSY, "volume %s is in use by container%s %s", name,
				users[1] ? "s" : "", list);
	}
	/* Out of sight first: a crash half-way leaves no half volume under its name. */
	char rnd[65], gone[96];
	if ((r = random_name(rnd)) < 0)
		return r;
	snprintf(gone, sizeof(gone), ".rm-%.16s", rnd);
	_cleanup_free_ char *src = vol_path(root, name, NULL), *dst = vol_path(root, gone, NULL);
	if (!src || !dst)
		return -ENOMEM;
	if (rename(src, dst) < 0)
		return herr_sys("rename %s", src);
	return fs_rm_rf(dst);
}

int vol_remove(const char *root, const char *name, bool force)
{
	int r = check_name(name);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = vol_lock(root, true);
	if (lock < 0)
		return lock;
	return remove_unlocked(root, name, force);
}

int vol_prune(const char *root, char ***removed)
{
	if (removed)
		*removed = NULL;
	_cleanup_close_ int lock = vol_lock(root, true);
	if (lock < 0)
		return lock;
	struct vol_info *v;
	size_t n;
	int r = vol_list(root, &v, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r == 0; i++) {
		_cleanup_strv_ char **users = NULL;
		if ((r = live_users(root, v[i].name, &users)) < 0 || users)
			continue;
		if ((r = remove_unlocked(root, v[i].name, false)) == 0 && removed)
			r = strv_push(removed, v[i].name);
	}
	vol_info_free_array(v, n);
	return r;
}

static int use_unlocked(const char *root, const char *name, const char *id)
{
	if (!net_container_id_valid(id))
		return herr_set(EINVAL, "invalid container id \"%s\"", id);
	if (!vol_exists(root, name))
		return herr_set(ENOENT, "no such volume: %s", name);
	_cleanup_free_ char *dir = vol_path(root, name, "users"), *p = NULL;
	if (!dir || asprintf(&p, "%s/%s", dir, id) < 0)
		return -ENOMEM;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return herr_sys("mkdir %s", dir);
	int fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return herr_sys("create %s", p);
	close(fd);
	return 0;
}

int vol_use(const char *root, const char *name, const char *container_id)
{
	int r = check_name(name);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = vol_lock(root, false);
	return lock < 0 ? lock : use_unlocked(root, name, container_id);
}

int vol_release(const char *root, const char *name, const char *container_id)
{
	if (check_name(name) < 0 || !net_container_id_valid(container_id))
		return herr_set(EINVAL, "invalid volume name or container id");
	_cleanup_free_ char *p = NULL;
	if (asprintf(&p, "%s/volumes/%s/users/%s", root, name, container_id) < 0)
		return -ENOMEM;
	if (unlink(p) < 0 && errno != ENOENT)
		return herr_sys("remove %s", p);
	return 0;
}

int vol_release_all(const char *root, const char *container_id, bool remove_anonymous)
{
	if (!net_container_id_valid(container_id))
		return herr_set(EINVAL, "invalid container id \"%s\"", container_id);
	_cleanup_close_ int lock = vol_lock(root, remove_anonymous);
	if (lock < 0)
		return lock;
	struct vol_info *v;
	size_t n;
	int r = vol_list(root, &v, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (!strv_contains(v[i].users, container_id))
			continue;
		if ((r = vol_release(root, v[i].name, container_id)) < 0)
			break;
		if (remove_anonymous && v[i].anonymous && strv_len(v[i].users) == 1)
			r = remove_unlocked(root, v[i].name, false);
	}
	vol_info_free_array(v, n);
	return r;
}

/* ---- -v ---- */

void vol_mount_clear(struct vol_mount *m)
{
	free(m->source);
	free(m->destination);
	strv_free(m->options);
	free(m->volume);
	*m = (struct vol_mount){0};
}

static const char *const propagations[] = {"shared",  "rshared",  "slave", "rslave",
					   "private", "rprivate", NULL};

/* OPTS of -v into runtime-spec options (after "rbind"). */
static int mount_options(const char *spec, const char *opts, struct vol_mount *m)
{
	const char *prop = NULL;
	bool ro = false, rw = false;
	_cleanup_strv_ char **extra = NULL;
	_cleanup_free_ char *copy = strdup(opts ? opts : "");
	if (!copy)
		return -ENOMEM;
	for (char *save = NULL, *o = strtok_r(copy, ",", &save); o;
	     o = strtok_r(NULL, ",", &save)) {
		if (!strcmp(o, "ro")) {
			ro = true;
		} else if (!strcmp(o, "rw")) {
			rw = true;
		} else if (!strcmp(o, "z") || !strcmp(o, "Z") || !strcmp(o, "nocopy")) {
			/* no SELinux labels here; volumes are not filled from the image */
		} else if (strv_contains((char *const *)propagations, o)) {
			if (prop)
				return herr_set(EINVAL, "-v %s: more than one propagation option",
						spec);
			prop = o;
			if (strv_push(&extra, o) < 0)
				return -ENOMEM;
		} else if (!strcmp(o, "nosuid") || !strcmp(o, "nodev") || !strcmp(o, "noexec") ||
			   !strcmp(o, "suid") || !strcmp(o, "dev") || !strcmp(o, "exec")) {
			if (strv_push(&extra, o) < 0)
				return -ENOMEM;
		} else {
			return herr_set(EINVAL,
					"-v %s: unknown option \"%s\" (ro, rw, z, Z, nocopy, "
					"[r]shared, [r]slave, [r]private, nosuid, nodev, noexec)",
					spec, o);
		}
	}
	if (ro && rw)
		return herr_set(EINVAL, "-v %s: ro and rw together", spec);
	m->readonly = ro;
	if (strv_push(&m->options, "rbind") < 0 ||
	    (!prop && strv_push(&m->options, "rprivate") < 0) ||
	    (ro && strv_push(&m->options, "ro") < 0))
		return -ENOMEM;
	for (size_t i = 0; extra && extra[i]; i++)
		if (strv_push(&m->options, extra[i]) < 0)
			return -ENOMEM;
	return 0;
}

static int parse_unlocked(const char *root, const char *spec, const char *id, struct vol_mount *m)
{
	_cleanup_free_ char *copy = strdup(spec);
	if (!copy)
		return -ENOMEM;
	char *part[4] = {0};
	size_t n = 0;
	for (char *rest = copy; rest && n < 4;)
		part[n++] = strsep(&rest, ":");
	if (n > 3 || !*part[0])
		return herr_set(EINVAL, "-v %s: expected [SOURCE:]DESTINATION[:OPTIONS]", spec);
	const char *src = NULL, *dst, *opts = NULL;
	/* "/ctr" and "/ctr:ro" are anonymous volumes; otherwise SOURCE comes first. */
	if (n == 1 || (n == 2 && part[1][0] != '/')) {
		dst = part[0];
		opts = n == 2 ? part[1] : NULL;
	} else {
		src = part[0];
		dst = part[1];
		opts = n == 3 ? part[2] : NULL;
	}
	if (dst[0] != '/')
		return herr_set(EINVAL, "-v %s: the destination \"%s\" is not an absolute path",
				spec, dst);
	if (!strcmp(dst, "/"))
		return herr_set(EINVAL, "-v %s: the destination cannot be /", spec);
	int r = mount_options(spec, opts, m);
	if (r < 0)
		return r;
	if (!(m->destination = strdup(dst)))
		return -ENOMEM;
	if (src && src[0] == '/') {
		struct stat st;
		if (stat(src, &st) < 0)
			return herr_sys("-v %s: bind source path %s", spec, src);
		return (m->source = strdup(src)) ? 0 : -ENOMEM;
	}
	if (src && (src[0] == '.' || src[0] == '~'))
		return herr_set(EINVAL, "-v %s: a host path must be absolute", spec);
	if (src && !vol_name_valid(src))
		return herr_set(EINVAL,
				"-v %s: \"%s\" is neither an absolute host path nor a volume name",
				spec, src);
	m->anonymous = !src;
	if (!id) {
		if (src &&
		    (!(m->volume = strdup(src)) || !(m->source = vol_path(root, src, "_data"))))
			return -ENOMEM;
		return 0;
	}
	char rnd[65];
	if (!src) {
		if ((r = random_name(rnd)) < 0)
			return r;
		src = rnd;
	}
	if (!vol_exists(root, src) && (r = create_unlocked(root, src, m->anonymous)) < 0 &&
	    r != -EEXIST)
		return r;
	herr_clear();
	if ((r = use_unlocked(root, src, id)) < 0)
		return r;
	if (!(m->volume = strdup(src)) || !(m->source = vol_path(root, src, "_data")))
		return -ENOMEM;
	return 0;
}

int vol_parse_mount(const char *root, const char *spec, const char *container_id,
		    struct vol_mount *out)
{
	*out = (struct vol_mount){0};
	int lock = -1;
	if (container_id && (lock = vol_lock(root, false)) < 0)
		return lock;
	int r = parse_unlocked(root, spec, container_id, out);
	if (lock >= 0)
		close(lock);
	if (r < 0)
		vol_mount_clear(out);
	return r;
}
