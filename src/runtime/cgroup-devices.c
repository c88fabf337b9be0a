/*
 * The device cgroup: which rules a container gets, and on cgroup v2 the eBPF
 * program that enforces them.
 *
 * The rule list follows runc (libcontainer/specconv), because images and
 * orchestrators are written against it:
 *   1. an implicit "a *:* rwm" deny, so that whatever the spec says starts from
 *      an empty allow-list (runc's emulator starts there too; written first on
 *      v1 it turns a fresh cgroup's allow-all into deny-all);
 *   2. linux.resources.devices, in order;
 *   3. runc's built-in allowed devices, appended AFTER the spec's rules. So a
 *      spec cannot take them away (a "deny c 1:7" is re-allowed), but a spec
 *      that starts with its own "deny a" (what `runc spec`, docker and
 *      containerd all write) still gets /dev/null and friends.
 * The nodes of linux.devices get no rule of their own: runc creates them but
 * leaves access to linux.resources.devices, and so do we. One deviation: when
 * linux.devices names a default's path (say /dev/null), runc 1.1 drops that
 * default's rule along with its node, and then fails to start ("error
 * reopening /dev/null inside container: operation not permitted", tried with
 * runc 1.1.5). We keep the rule: it allows only the standard major:minor.
 *
 * The rules have the cgroup v1 semantics: "a" resets to allow-all or deny-all,
 * any other rule adds an exception to the current default or removes one
 * (exact type/major/minor match, access bits subtracted). A rule that would
 * punch a hole into a wildcard exception is refused, as runc's emulator does:
 * v1 would silently ignore it and leave the device open.
 */
#include "cgroup-resources.h"
#include "common/cleanup.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ANY (-1)

static const struct oci_dev_rule default_devices[] = {
    {true, 'c', ANY, ANY, "m"},	  /* mknod of any device: the node is inert */
    {true, 'b', ANY, ANY, "m"},	  /* until access to it is also allowed */
    {true, 'c', 1, 3, "rwm"},	  /* /dev/null */
    {true, 'c', 1, 8, "rwm"},	  /* /dev/random */
    {true, 'c', 1, 7, "rwm"},	  /* /dev/full */
    {true, 'c', 5, 0, "rwm"},	  /* /dev/tty */
    {true, 'c', 1, 5, "rwm"},	  /* /dev/zero */
    {true, 'c', 1, 9, "rwm"},	  /* /dev/urandom */
    {true, 'c', 136, ANY, "rwm"}, /* /dev/pts/N */
    {true, 'c', 5, 2, "rwm"},	  /* /dev/ptmx */
    /*
     * /dev/net/tun: in runc 1.1 (the version on our hosts), dropped in 1.2.0-rc
     * and put back after the regressions that caused. /dev/console (5:1) is not
     * in runc's list: the console is a pts, covered by 136:*.
     */
    {true, 'c', 10, 200, "rwm"},
};

/* Access bits as the kernel's BPF_DEVCG_ACC_*, so the program needs no mapping. */
static unsigned access_bits(const char *s)
{
	unsigned a = 0;
	for (; *s; s++)
		a |= *s == 'm'	 ? BPF_DEVCG_ACC_MKNOD
		     : *s == 'r' ? BPF_DEVCG_ACC_READ
		     : *s == 'w' ? BPF_DEVCG_ACC_WRITE
				 : 0x80;
	return a;
}

static void fmt_rule(const struct oci_dev_rule *d, char *buf, size_t len)
{
	char maj[24] = "*", min[24] = "*";
	if (d->major != ANY)
		snprintf(maj, sizeof(maj), "%lld", (long long)d->major);
	if (d->minor != ANY)
		snprintf(min, sizeof(min), "%lld", (long long)d->minor);
	snprintf(buf, len, "%s %c %s:%s %s", d->allow ? "allow" : "deny", d->type, maj, min,
		 d->access);
}

static int check_rule(const struct oci_dev_rule *d)
{
	if (d->type != 'a' && d->type != 'c' && d->type != 'b')
		return herr_set(EINVAL, "type must be \"a\", \"c\" or \"b\", got \"%c\"", d->type);
	unsigned a = access_bits(d->access);
	if (!a || (a & 0x80) || strlen(d->access) > 3)
		return herr_set(EINVAL,
				"access must be a non-empty subset of \"rwm\", got \"%.3s\"",
				d->access);
	if (d->major < ANY || d->major > UINT32_MAX || d->minor < ANY || d->minor > UINT32_MAX)
		return herr_set(EINVAL, "major and minor must be 0 to 4294967295 or absent (any)");
	return 0;
}

/* The state of a v1 device cgroup after a sequence of rules. */
struct dev_exc {
	char type;
	int64_t major, minor;
	unsigned access;
};
struct dev_emu {
	bool default_allow;
	struct dev_exc *v;
	size_t n;
};

static struct dev_exc *emu_find(struct dev_emu *e, char type, int64_t major, int64_t minor)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->v[i].type == type && e->v[i].major == major && e->v[i].minor == minor)
			return &e->v[i];
	return NULL;
}

static int emu_apply(struct dev_emu *e, const struct oci_dev_rule *d)
{
	unsigned acc = access_bits(d->access);
	if (d->type == 'a') {
		/* The kernel resets on any "a" line, whatever its numbers and access. */
		e->default_allow = d->allow;
		e->n = 0;
		return 0;
	}
	struct dev_exc *x = emu_find(e, d->type, d->major, d->minor);
	if (d->allow != e->default_allow) {
		if (x) {
			x->access |= acc;
			return 0;
		}
		struct dev_exc *nv = realloc(e->v, (e->n + 1) * sizeof(*nv));
		if (!nv)
			return herr_set(ENOMEM, "out of memory");
		e->v = nv;
		e->v[e->n++] = (struct dev_exc){d->type, d->major, d->minor, acc};
		return 0;
	}
	const int64_t wild[3][2] = {{ANY, d->minor}, {d->major, ANY}, {ANY, ANY}};
	for (size_t i = 0; i < 3; i++) {
		if (wild[i][0] == d->major && wild[i][1] == d->minor)
			continue;
		struct dev_exc *w = emu_find(e, d->type, wild[i][0], wild[i][1]);
		if (w && (w->access & acc)) {
			char buf[64];
			struct oci_dev_rule wr = {!d->allow, d->type, w->major, w->minor, ""};
			size_t k = 0;
			if (w->access & BPF_DEVCG_ACC_READ)
				wr.access[k++] = 'r';
			if (w->access & BPF_DEVCG_ACC_WRITE)
				wr.access[k++] = 'w';
			if (w->access & BPF_DEVCG_ACC_MKNOD)
				wr.access[k++] = 'm';
			fmt_rule(&wr, buf, sizeof(buf));
			return herr_set(EINVAL,
					"cannot punch a hole into the wider rule \"%s\" (device "
					"cgroups would ignore it)",
					buf);
		}
	}
	if (x) {
		x->access &= ~acc;
		if (!x->access)
			*x = e->v[--e->n];
	}
	return 0;
}

int cgroup_device_rules(const struct oci_config *cfg, const struct oci_resources *r,
			struct oci_dev_rule **out, size_t *np)
{
	(void)cfg; /* see the top of the file: linux.devices adds and removes no rule */
	size_t n_spec = r ? r->n_devices : 0;
	_cleanup_free_ struct oci_dev_rule *v =
	    calloc(1 + n_spec + ARRAY_SIZE(default_devices), sizeof(*v));
	if (!v)
		return herr_set(ENOMEM, "out of memory");
	size_t n = 0;
	v[n++] = (struct oci_dev_rule){false, 'a', ANY, ANY, "rwm"};
	for (size_t i = 0; i < n_spec; i++) {
		int rc = check_rule(&r->devices[i]);
		if (rc < 0)
			return herr_ctx(rc, "linux.resources.devices[%zu]", i);
		v[n++] = r->devices[i];
	}
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++)
		v[n++] = default_devices[i];

	struct dev_emu e = {0};
	for (size_t i = 0; i < n; i++) {
		int rc = emu_apply(&e, &v[i]);
		if (rc < 0) {
			free(e.v);
			char buf[64];
			fmt_rule(&v[i], buf, sizeof(buf));
			if (i >= 1 && i <= n_spec)
				return herr_ctx(rc, "linux.resources.devices[%zu] (%s)", i - 1,
						buf);
			return herr_ctx(rc, "linux.resources.devices: the default rule %s", buf);
		}
	}
	free(e.v);
	*out = take_ptr(v);
	*np = n;
	return 0;
}

/* ---- the BPF_CGROUP_DEVICE program ---- */

struct prog {
	struct bpf_insn *v;
	size_t n, cap;
	bool oom;
};

static size_t emit(struct prog *p, uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct bpf_insn *nv = realloc(p->v, cap * sizeof(*nv));
		if (!nv) {
			p->oom = true;
			return p->n;
		}
		p->v = nv;
		p->cap = cap;
	}
	p->v[p->n] =
	    (struct bpf_insn){.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
	return p->n++;
}

/*
 * Registers: r2 access bits, r3 device type, r4 major, r5 minor (r1 is the
 * context). Each exception is a block that falls through to the next one on a
 * mismatch and returns the non-default verdict on a match. With default deny an
 * access is allowed when one exception covers all the requested bits; with
 * default allow it is denied when any exception shares a bit with it — the two
 * checks the v1 controller makes (match_exception / match_exception_partial).
 */
static int compile(const struct dev_emu *e, struct prog *p)
{
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1,
	     offsetof(struct bpf_cgroup_dev_ctx, access_type), 0);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1,
	     offsetof(struct bpf_cgroup_dev_ctx, major), 0);
	emit(p, BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1,
	     offsetof(struct bpf_cgroup_dev_ctx, minor), 0);
	emit(p, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0);
	emit(p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xffff);
	emit(p, BPF_ALU | BPF_RSH | BPF_K, BPF_REG_2, 0, 0, 16);

	int verdict = e->default_allow ? 0 : 1;
	for (size_t i = 0; i < e->n; i++) {
		const struct dev_exc *x = &e->v[i];
		size_t jumps[4], nj = 0;
		/* JMP32 compares the low 32 bits, so majors above 2^31 need no care. */
		jumps[nj++] = emit(p, BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_3, 0, 0,
				   x->type == 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK);
		if (x->major != ANY)
			jumps[nj++] = emit(p, BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_4, 0, 0,
					   (int32_t)(uint32_t)x->major);
		if (x->minor != ANY)
			jumps[nj++] = emit(p, BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_5, 0, 0,
					   (int32_t)(uint32_t)x->minor);
		unsigned all = BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE;
		if (x->access != all) {
			emit(p, BPF_ALU | BPF_MOV | BPF_X, BPF_REG_0, BPF_REG_2, 0, 0);
			if (e->default_allow) {
				emit(p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_0, 0, 0, x->access);
				jumps[nj++] =
				    emit(p, BPF_JMP32 | BPF_JEQ | BPF_K, BPF_REG_0, 0, 0, 0);
			} else {
				emit(p, BPF_ALU | BPF_AND | BPF_K, BPF_REG_0, 0, 0,
				     all & ~x->access);
				jumps[nj++] =
				    emit(p, BPF_JMP32 | BPF_JNE | BPF_K, BPF_REG_0, 0, 0, 0);
			}
		}
		emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, verdict);
		emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
		if (p->oom)
			break;
		for (size_t j = 0; j < nj; j++)
			p->v[jumps[j]].off = (int16_t)(p->n - jumps[j] - 1);
	}
	emit(p, BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, !verdict);
	emit(p, BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	if (p->oom)
		return herr_set(ENOMEM, "out of memory");
	if (p->n > 4096)
		return herr_set(E2BIG, "device rules: %zu exceptions are too many", e->n);
	return 0;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	return (int)syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

static int prog_load(const struct prog *p)
{
	static const char license[] = "Apache";
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uintptr_t)p->v;
	a.insn_cnt = (uint32_t)p->n;
	a.license = (uintptr_t)license;
	snprintf(a.prog_name, sizeof(a.prog_name), "hull_devices");
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	int saved = errno;
	if (saved != EINVAL && saved != EACCES)
		return errno = saved, herr_sys("load the device cgroup program (bpf)");
	/* The verifier refused it: load again for its log, which says why. */
	char log[4096] = "";
	a.log_level = 1;
	a.log_buf = (uintptr_t)log;
	a.log_size = sizeof(log);
	fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	size_t l = strlen(log);
	while (l && log[l - 1] == '\n')
		log[--l] = 0;
	return herr_set(saved, "load the device cgroup program (bpf): %s: %s", strerror(saved),
			log);
}

/* IDs of the device programs attached to the cgroup itself (not inherited). */
static int prog_query(int dirfd, uint32_t *ids, uint32_t *cnt, uint32_t *flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)dirfd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uintptr_t)ids;
	a.query.prog_cnt = *cnt;
	if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
		return herr_sys("query the device cgroup programs (bpf)");
	*cnt = a.query.prog_cnt;
	*flags = a.query.attach_flags;
	return 0;
}

static int prog_attach(int dirfd, int progfd, uint32_t flags)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)dirfd;
	a.attach_bpf_fd = (uint32_t)progfd;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = flags;
	return sys_bpf(BPF_PROG_ATTACH, &a);
}

static int prog_detach_id(int dirfd, uint32_t id)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_id = id;
	_cleanup_close_ int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
	if (fd < 0)
		return errno == ENOENT ? 0 : herr_sys("open device cgroup program %u (bpf)", id);
	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)dirfd;
	a.attach_bpf_fd = (uint32_t)fd;
	a.attach_type = BPF_CGROUP_DEVICE;
	if (sys_bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
		return herr_sys("detach the old device cgroup program %u (bpf)", id);
	return 0;
}

int cgroup_v2_devices_attach(int dirfd, const struct oci_dev_rule *rules, size_t n)
{
	struct dev_emu e = {0};
	for (size_t i = 0; i < n; i++) {
		int rc = check_rule(&rules[i]);
		if (rc >= 0)
			rc = emu_apply(&e, &rules[i]);
		if (rc < 0) {
			free(e.v);
			return herr_ctx(rc, "device rule %zu", i);
		}
	}
	struct prog p = {0};
	int rc = compile(&e, &p);
	free(e.v);
	if (rc < 0) {
		free(p.v);
		return rc;
	}
	_cleanup_close_ int progfd = prog_load(&p);
	free(p.v);
	if (progfd < 0)
		return progfd;

	/*
	 * An update replaces the program: attach the new one next to the old ones,
	 * then detach those, so that no device is open to the container in between
	 * (attached programs must all allow an access).
	 */
	uint32_t old[64], n_old = ARRAY_SIZE(old), old_flags = 0;
	rc = prog_query(dirfd, old, &n_old, &old_flags);
	if (rc < 0)
		return rc;
	if (n_old > ARRAY_SIZE(old))
		return herr_set(E2BIG, "%u device cgroup programs are attached already", n_old);
	if (prog_attach(dirfd, progfd, BPF_F_ALLOW_MULTI) == 0) {
		for (uint32_t i = 0; i < n_old; i++) {
			rc = prog_detach_id(dirfd, old[i]);
			if (rc < 0)
				return rc;
		}
		return 0;
	}
	/*
	 * Someone attached a single program without BPF_F_ALLOW_MULTI: a plain
	 * attach replaces it in one step.
	 */
	if (errno == EPERM && n_old == 1 && !(old_flags & BPF_F_ALLOW_MULTI) &&
	    prog_attach(dirfd, progfd, 0) == 0)
		return 0;
	return herr_sys("attach the device cgroup program (bpf)");
}
