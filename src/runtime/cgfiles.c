/* Reading and writing the files of a container's cgroups; see cgfiles.h. */
#include "cgfiles.h"
#include "internal.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

long long cgf_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool cgf_has_file(const char *leaf, const char *file)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s", leaf, file);
	return access(p, F_OK) == 0;
}

const char *cgf_leaf_with(char *const *leaves, const char *file)
{
	for (size_t i = 0; leaves && leaves[i]; i++)
		if (cgf_has_file(leaves[i], file))
			return leaves[i];
	return NULL;
}

char *cgf_slurp(const char *leaf, const char *file)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s", leaf, file);
	char *s = NULL;
	if (fs_read_file(p, 1 << 20, &s, NULL) < 0) {
		herr_clear();
		return NULL;
	}
	return s;
}

int cgf_write_knob(const char *leaf, const char *file, const char *v)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s", leaf, file);
	return fs_write_file(p, v, strlen(v));
}

bool cgf_parse_u64(const char *s, uint64_t *v)
{
	if (!s)
		return false;
	while (*s == ' ')
		s++;
	if (!strncmp(s, "max", 3)) {
		*v = UINT64_MAX;
		return true;
	}
	char *end;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (end == s || errno)
		return false;
	*v = x;
	return true;
}

bool cgf_kv_get(const char *text, const char *key, uint64_t *v)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return cgf_parse_u64(p + kl + 1, v);
	return false;
}

bool cgf_file_u64(const char *leaf, const char *file, uint64_t *v)
{
	_cleanup_free_ char *s = leaf ? cgf_slurp(leaf, file) : NULL;
	return cgf_parse_u64(s, v);
}

bool cgf_file_kv(const char *leaf, const char *file, const char *key, uint64_t *v)
{
	_cleanup_free_ char *s = leaf ? cgf_slurp(leaf, file) : NULL;
	return s && cgf_kv_get(s, key, v);
}

bool cgf_any_kv(char *const *leaves, const char *file, const char *key, uint64_t *v)
{
	for (size_t i = 0; leaves && leaves[i]; i++)
		if (cgf_file_kv(leaves[i], file, key, v))
			return true;
	return false;
}

int cgf_load(const char *root, const char *id, struct oci_state *st, const char *what)
{
	int r = container_state(root, id, st);
	if (r < 0)
		return r;
	if (what && (!st->cgroup_leaves || !st->cgroup_leaves[0]))
		return herr_set(ENOTSUP,
				"container \"%s\" has no cgroup: give linux.cgroupsPath to %s", id,
				what);
	return 0;
}
