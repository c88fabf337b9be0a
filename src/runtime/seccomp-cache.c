#include "seccomp-cache.h"
#include "common/cleanup.h"
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "HSC1"

struct header {
	char magic[4];
	uint32_t klen;
	uint32_t ninsns;
	uint32_t notify;
};

static uint64_t fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

static void entry_name(char *buf, size_t len, const char *key, size_t klen)
{
	snprintf(buf, len, "%016llx.bpf", (unsigned long long)fnv1a(key, klen));
}

int seccomp_cache_get(const char *dir, const char *key, size_t klen, struct sock_filter **insns,
		      unsigned short *len, bool *notify)
{
	char name[32];
	entry_name(name, sizeof(name), key, klen);
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0)
		return 0;
	_cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	/* Only what we wrote ourselves is run as a filter. */
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022))
		return 0;
	struct header h;
	if (fs_read_all(fd, &h, sizeof(h)) < 0 || memcmp(h.magic, MAGIC, 4) || h.klen != klen ||
	    h.ninsns == 0 || h.ninsns > BPF_MAXINSNS ||
	    (uint64_t)st.st_size != sizeof(h) + klen + (uint64_t)h.ninsns * sizeof(**insns))
		return 0;
	_cleanup_free_ char *k = malloc(klen ? klen : 1);
	if (!k || fs_read_all(fd, k, klen) < 0 || memcmp(k, key, klen))
		return 0;
	struct sock_filter *p = malloc(h.ninsns * sizeof(*p));
	if (!p || fs_read_all(fd, p, h.ninsns * sizeof(*p)) < 0) {
		free(p);
		return 0;
	}
	*insns = p;
	*len = (unsigned short)h.ninsns;
	*notify = h.notify;
	return 1;
}

void seccomp_cache_put(const char *dir, const char *key, size_t klen,
		       const struct sock_filter *insns, unsigned short len, bool notify)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return;
	_cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (dfd < 0 || fstat(dfd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022))
		return;
	char name[32], tmp[64];
	entry_name(name, sizeof(name), key, klen);
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", name, (int)getpid());
	_cleanup_close_ int fd =
	    openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	struct header h = {.klen = (uint32_t)klen, .ninsns = len, .notify = notify};
	memcpy(h.magic, MAGIC, 4);
	bool ok = fs_write_all(fd, &h, sizeof(h)) == 0 && fs_write_all(fd, key, klen) == 0 &&
		  fs_write_all(fd, insns, len * sizeof(*insns)) == 0;
	/* Rename last: a reader sees a whole entry or none. */
	if (!ok || renameat(dfd, tmp, dfd, name) < 0)
		unlinkat(dfd, tmp, 0);
}
