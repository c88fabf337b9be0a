/*
 * The mount option vocabulary runc accepts, mapped onto mount(2) flags, the
 * propagation types and mount_setattr(2) attributes. Whatever is not a known
 * option belongs to the filesystem and is passed through as mount data.
 */
#include "mountopts.h"
#include "common/error.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <linux/mount.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Older libc headers lack the newer MS_* values; the numbers are kernel ABI. */
#ifndef MS_LAZYTIME
#define MS_LAZYTIME (1 << 25)
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif

enum opt_kind {
	OPT_NOP,
	OPT_FLAG,     /* set an MS_* flag */
	OPT_CLEAR,    /* clear an MS_* flag */
	OPT_BIND,     /* bind, rbind */
	OPT_PROPAG,   /* shared, rslave, ... */
	OPT_ATTR_SET, /* rro, rnosuid, ... */
	OPT_ATTR_CLR, /* rrw, rsuid, ... */
	OPT_ATIME,    /* rnoatime, rrelatime, ...: one value of the MOUNT_ATTR__ATIME field */
	OPT_TMPCOPYUP,
	OPT_IDMAP,
	OPT_RIDMAP,
};

struct opt {
	const char *name;
	enum opt_kind kind;
	unsigned long value;
};

static const struct opt opts[] = {
    {"defaults", OPT_NOP, 0},
    {"ro", OPT_FLAG, MS_RDONLY},
    {"rw", OPT_CLEAR, MS_RDONLY},
    {"nosuid", OPT_FLAG, MS_NOSUID},
    {"suid", OPT_CLEAR, MS_NOSUID},
    {"nodev", OPT_FLAG, MS_NODEV},
    {"dev", OPT_CLEAR, MS_NODEV},
    {"noexec", OPT_FLAG, MS_NOEXEC},
    {"exec", OPT_CLEAR, MS_NOEXEC},
    {"sync", OPT_FLAG, MS_SYNCHRONOUS},
    {"async", OPT_CLEAR, MS_SYNCHRONOUS},
    {"dirsync", OPT_FLAG, MS_DIRSYNC},
    {"remount", OPT_FLAG, MS_REMOUNT},
    {"mand", OPT_FLAG, MS_MANDLOCK},
    {"nomand", OPT_CLEAR, MS_MANDLOCK},
    {"noatime", OPT_FLAG, MS_NOATIME},
    {"atime", OPT_CLEAR, MS_NOATIME},
    {"nodiratime", OPT_FLAG, MS_NODIRATIME},
    {"diratime", OPT_CLEAR, MS_NODIRATIME},
    {"relatime", OPT_FLAG, MS_RELATIME},
    {"norelatime", OPT_CLEAR, MS_RELATIME},
    {"strictatime", OPT_FLAG, MS_STRICTATIME},
    {"nostrictatime", OPT_CLEAR, MS_STRICTATIME},
    {"lazytime", OPT_FLAG, MS_LAZYTIME},
    {"nolazytime", OPT_CLEAR, MS_LAZYTIME},
    {"iversion", OPT_FLAG, MS_I_VERSION},
    {"noiversion", OPT_CLEAR, MS_I_VERSION},
    {"silent", OPT_FLAG, MS_SILENT},
    {"loud", OPT_CLEAR, MS_SILENT},
    {"nosymfollow", OPT_FLAG, MS_NOSYMFOLLOW},
    {"symfollow", OPT_CLEAR, MS_NOSYMFOLLOW},
    {"bind", OPT_BIND, 0},
    {"rbind", OPT_BIND, 1},
    {"shared", OPT_PROPAG, MS_SHARED},
    {"rshared", OPT_PROPAG, MS_SHARED | MS_REC},
    {"slave", OPT_PROPAG, MS_SLAVE},
    {"rslave", OPT_PROPAG, MS_SLAVE | MS_REC},
    {"private", OPT_PROPAG, MS_PRIVATE},
    {"rprivate", OPT_PROPAG, MS_PRIVATE | MS_REC},
    {"unbindable", OPT_PROPAG, MS_UNBINDABLE},
    {"runbindable", OPT_PROPAG, MS_UNBINDABLE | MS_REC},
    {"rro", OPT_ATTR_SET, MOUNT_ATTR_RDONLY},
    {"rrw", OPT_ATTR_CLR, MOUNT_ATTR_RDONLY},
    {"rnosuid", OPT_ATTR_SET, MOUNT_ATTR_NOSUID},
    {"rsuid", OPT_ATTR_CLR, MOUNT_ATTR_NOSUID},
    {"rnodev", OPT_ATTR_SET, MOUNT_ATTR_NODEV},
    {"rdev", OPT_ATTR_CLR, MOUNT_ATTR_NODEV},
    {"rnoexec", OPT_ATTR_SET, MOUNT_ATTR_NOEXEC},
    {"rexec", OPT_ATTR_CLR, MOUNT_ATTR_NOEXEC},
    {"rnodiratime", OPT_ATTR_SET, MOUNT_ATTR_NODIRATIME},
    {"rdiratime", OPT_ATTR_CLR, MOUNT_ATTR_NODIRATIME},
    {"rnosymfollow", OPT_ATTR_SET, MOUNT_ATTR_NOSYMFOLLOW},
    {"rsymfollow", OPT_ATTR_CLR, MOUNT_ATTR_NOSYMFOLLOW},
    {"rnoatime", OPT_ATIME, MOUNT_ATTR_NOATIME},
    {"rstrictatime", OPT_ATIME, MOUNT_ATTR_STRICTATIME},
    {"rrelatime", OPT_ATIME, MOUNT_ATTR_RELATIME},
    /*
     * Undoing noatime or strictatime means going back to the kernel's
     * default, relatime. "rnorelatime" has no state to go to (relatime is the
     * field's zero value), so like runc it changes nothing.
     */
    {"ratime", OPT_ATIME, MOUNT_ATTR_RELATIME},
    {"rnostrictatime", OPT_ATIME, MOUNT_ATTR_RELATIME},
    {"rnorelatime", OPT_NOP, 0},
    {"tmpcopyup", OPT_TMPCOPYUP, 0},
    {"idmap", OPT_IDMAP, 0},
    {"ridmap", OPT_RIDMAP, 0},
};

static const struct opt *find_opt(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(opts); i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

int oci_mount_parse_options(struct oci_mount *m, const char *filename, const char *where)
{
	m->bind = m->type && strcmp(m->type, "bind") == 0;
	m->recursive = false;
	m->flags = m->clear_flags = m->propagation = 0;
	m->rec_attr_set = m->rec_attr_clr = 0;
	m->tmpcopyup = m->idmap = m->ridmap = false;
	m->data = NULL;

	size_t data_len = 0;
	for (size_t i = 0; m->options && m->options[i]; i++) {
		const char *o = m->options[i];
		const struct opt *d = find_opt(o);
		if (!d) {
			if (*o)
				data_len += strlen(o) + 1;
			continue;
		}
		switch (d->kind) {
		case OPT_NOP:
			break;
		case OPT_FLAG:
			m->flags |= d->value;
			m->clear_flags &= ~d->value;
			break;
		case OPT_CLEAR:
			m->clear_flags |= d->value;
			m->flags &= ~d->value;
			break;
		case OPT_BIND:
			m->bind = true;
			m->recursive = m->recursive || d->value;
			break;
		case OPT_PROPAG:
			m->propagation = d->value;
			break;
		case OPT_ATTR_SET:
			m->rec_attr_set |= d->value;
			m->rec_attr_clr &= ~(uint64_t)d->value;
			break;
		case OPT_ATTR_CLR:
			m->rec_attr_clr |= d->value;
			m->rec_attr_set &= ~(uint64_t)d->value;
			break;
		case OPT_ATIME:
			/*
			 * The atime field is an enum, not bits: mount_setattr(2) takes a
			 * new value only with the whole field in attr_clr.
			 */
			m->rec_attr_set =
			    (m->rec_attr_set & ~(uint64_t)MOUNT_ATTR__ATIME) | d->value;
			m->rec_attr_clr |= MOUNT_ATTR__ATIME;
			break;
		case OPT_TMPCOPYUP:
			m->tmpcopyup = true;
			break;
		case OPT_IDMAP:
			m->idmap = true;
			break;
		case OPT_RIDMAP:
			m->ridmap = true;
			break;
		}
	}
	if (!data_len)
		return 0;

	char *data = malloc(data_len);
	if (!data)
		return herr_set(ENOMEM, "%s: %s: out of memory", filename, where);
	char *p = data;
	for (size_t i = 0; m->options[i]; i++) {
		const char *o = m->options[i];
		if (!*o || find_opt(o))
			continue;
		if (p != data)
			*p++ = ',';
		size_t n = strlen(o);
		memcpy(p, o, n);
		p += n;
	}
	*p = 0;
	m->data = data;
	return 0;
}
