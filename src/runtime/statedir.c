#include "internal.h"
#include "common/cleanup.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

int container_validate_id(const char *id)
{
	if (!id || !*id)
		return herr_set(EINVAL, "container id cannot be empty");
	if (!strcmp(id, ".") || !strcmp(id, "..") || strlen(id) > 1024)
		return herr_set(EINVAL, "invalid container id \"%s\"", id);
	for (const char *p = id; *p; p++)
		if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') ||
		      ('0' <= *p && *p <= '9') || *p == '_' || *p == '-' || *p == '.' || *p == '+'))
			return herr_set(EINVAL,
					"invalid container id \"%s\": only letters, digits and "
					"_ - . + are allowed",
					id);
	return 0;
}

int statedir_path(const char *root, const char *id, char *buf, size_t len)
{
	int r = container_validate_id(id);
	if (r < 0)
		return r;
	if ((size_t)snprintf(buf, len, "%s/%s", root, id) >= len)
		return herr_set(ENAMETOOLONG, "state path too long");
	return 0;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return herr_sys("cannot create %s", buf);
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return herr_sys("cannot create %s", buf);
	return 0;
}

int statedir_create(struct create_ctx *c)
{
	char path[4096];
	int r = statedir_path(c->o->root, c->o->id, path, sizeof(path));
	if (r < 0)
		return r;
	r = mkdir_p(c->o->root, 0711);
	if (r == -EACCES && geteuid() != 0)
		return herr_ctx(r,
				"--root: uid %u may not write in %s (give --root a directory of "
				"your own, or leave it out to use $XDG_RUNTIME_DIR/hull)",
				(unsigned)geteuid(), c->o->root);
	if (r < 0)
		return herr_ctx(r, "--root");
	if (mkdir(path, 0711) < 0) {
		if (errno == EEXIST)
			return herr_set(EEXIST, "container \"%s\" already exists", c->o->id);
		if (errno == EACCES && geteuid() != 0)
			return herr_sys("--root: uid %u cannot create state directory %s",
					(unsigned)geteuid(), path);
		return herr_sys("cannot create state directory %s", path);
	}
	c->statedir = strdup(path);
	c->statedir_fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->statedir_fd < 0 || flock(c->statedir_fd, LOCK_EX) < 0)
		return herr_sys("cannot lock %s", path);
	return 0;
}

int statedir_open_locked(const char *root, const char *id, int *fd)
{
	char path[4096];
	int r = statedir_path(root, id, path, sizeof(path));
	if (r < 0)
		return r;
	int d = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0) {
		if (errno == ENOENT)
			return herr_set(ENOENT, "container \"%s\" does not exist", id);
		return herr_sys("cannot open %s", path);
	}
	if (flock(d, LOCK_EX) < 0) {
		int e = herr_sys("cannot lock %s", path);
		close(d);
		return e;
	}
	*fd = d;
	return 0;
}
