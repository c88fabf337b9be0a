/*
 * linux.resources on cgroup v1: each field becomes a write to a file in the leaf
 * of the hierarchy that carries its controller. Everything is done twice: a dry
 * pass that only checks every file it would write exists (so a config asking for
 * something this kernel lacks fails before anything changed, which matters for
 * `update`), then the writes.
 *
 * On a hybrid host a controller that is not mounted as v1 may be enabled in the
 * unified hierarchy; its fields are left to cgroup_v2_apply(partial).
 */
#include "cgroup-resources.h"
#include "cgroup.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define JR "linux.resources"

struct v1 {
	char *const *leaves;
	bool *is_v2;
	bool dry;
	bool hybrid;
	size_t failed;		  /* the op of the last wr_group that failed */
	char v2_controllers[512]; /* the unified root's cgroup.controllers, on a hybrid host */
	/* ctl_leaf's answers, so the dry and the real pass probe each controller once */
	struct {
		const char *ctl, *dir;
	} found[16];
	size_t n_found;
};

/* ---- files ---- */

static bool file_exists(const char *dir, const char *file)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return access(p, F_OK) == 0;
}

/* A write without recording an error: 0 or -errno. */
static int write_raw(const char *dir, const char *file, const char *val)
{
	char p[4200];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	_cleanup_close_ int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, val, strlen(val));
	if (n < 0)
		return -errno;
	return (size_t)n == strlen(val) ? 0 : -EIO;
}

/* hint: what EINVAL most likely means for this file. */
static int write_err(int rc, const char *jpath, const char *dir, const char *file, const char *hint)
{
	if (rc == -ENOENT)
		return herr_set(ENOTSUP,
				"%s: %s/%s does not exist: this kernel does not support it", jpath,
				dir, file);
	if (rc != -EINVAL)
		hint = NULL;
	return herr_set(-rc, "%s: write %s/%s: %s%s%s", jpath, dir, file, strerror(-rc),
			hint ? " " : "", hint ? hint : "");
}

/* Add to the recorded message: "<message> (<why>)". */
static int herr_append(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int herr_append(const char *fmt, ...)
{
	char msg[HERR_MSG_MAX], more[512];
	int code = herr_code();
	va_list ap;
	snprintf(msg, sizeof(msg), "%s", herr_msg());
	va_start(ap, fmt);
	vsnprintf(more, sizeof(more), fmt, ap);
	va_end(ap);
	return herr_set(code, "%s %s", msg, more);
}

/* Write val to dir/file, or in the dry pass check that the file is there. */
static int wr(struct v1 *s, const char *jpath, const char *dir, const char *file, const char *val)
{
	int rc;
	if (s->dry)
		rc = file_exists(dir, file) ? 0 : -ENOENT;
	else
		rc = write_raw(dir, file, val);
	return rc < 0 ? write_err(rc, jpath, dir, file, NULL) : 0;
}

static int wrf(struct v1 *s, const char *jpath, const char *dir, const char *file, const char *fmt,
	       ...) __attribute__((format(printf, 5, 6)));
static int wrf(struct v1 *s, const char *jpath, const char *dir, const char *file, const char *fmt,
	       ...)
{
	char val[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	return wr(s, jpath, dir, file, val);
}

static int read_u64(const char *dir, const char *file, uint64_t *out)
{
	char p[4200];
	_cleanup_free_ char *buf = NULL;
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	int r = fs_read_file(p, 4096, &buf, NULL);
	if (r < 0)
		return r;
	char *end;
	errno = 0;
	*out = strtoull(buf, &end, 10);
	if (errno || end == buf)
		return herr_set(EINVAL, "%s: not a number: %.40s", p, buf);
	return 0;
}

/*
 * Files whose valid values depend on each other (memory and memory+swap, cfs
 * period, quota and burst, rt period and runtime): the kernel checks each write
 * against the current value of the others, so a change can need either order.
 * Keep writing what fails with EINVAL for as long as another write succeeds.
 */
struct op {
	const char *jpath, *file, *hint;
	char val[32];
};

static int wr_group(struct v1 *s, const char *dir, struct op *ops, size_t n)
{
	bool done[8] = {false};
	size_t left = n;
	if (s->dry) {
		for (size_t i = 0; i < n; i++)
			if (wr(s, ops[i].jpath, dir, ops[i].file, ops[i].val) < 0)
				return -herr_code();
		return 0;
	}
	for (bool progress = true; left && progress;) {
		progress = false;
		for (size_t i = 0; i < n; i++) {
			if (done[i])
				continue;
			int rc = write_raw(dir, ops[i].file, ops[i].val);
			if (rc == 0) {
				done[i] = progress = true;
				left--;
			} else if (rc != -EINVAL) {
				s->failed = i;
				return write_err(rc, ops[i].jpath, dir, ops[i].file, ops[i].hint);
			}
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!done[i]) {
			s->failed = i;
			return write_err(-EINVAL, ops[i].jpath, dir, ops[i].file, ops[i].hint);
		}
	}
	return 0;
}

/* ---- finding a controller's leaf ---- */

static bool word_in(const char *list, const char *w)
{
	size_t n = strlen(w);
	for (const char *p = list; (p = strstr(p, w)); p += n)
		if ((p == list || p[-1] == ' ' || p[-1] == ',') &&
		    (!p[n] || p[n] == ' ' || p[n] == '\n' || p[n] == ','))
			return true;
	return false;
}

/* hugetlb has no fixed file name: look for any hugetlb.* file. */
static bool has_prefixed_file(const char *dir, const char *prefix)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix)))
			return true;
	return false;
}

/*
 * The v1 leaf carrying controller ctl (found by a file only it has): 1 and *dir
 * set; 0 when the unified hierarchy of a hybrid host has it instead; else an error.
 */
static int ctl_leaf(struct v1 *s, const char *ctl, const char *marker, const char *jpath,
		    const char **dir)
{
	for (size_t i = 0; i < s->n_found; i++)
		if (!strcmp(s->found[i].ctl, ctl)) {
			*dir = s->found[i].dir;
			return 1;
		}
	char pfx[64];
	snprintf(pfx, sizeof(pfx), "%s.", ctl);
	for (size_t i = 0; s->leaves[i]; i++) {
		if (s->is_v2[i])
			continue;
		if (marker ? file_exists(s->leaves[i], marker)
			   : has_prefixed_file(s->leaves[i], pfx)) {
			*dir = s->leaves[i];
			if (s->n_found < ARRAY_SIZE(s->found))
				s->found[s->n_found++] = (typeof(s->found[0])){ctl, *dir};
			return 1;
		}
	}
	if (s->hybrid && word_in(s->v2_controllers, ctl))
		return 0;
	return herr_set(ENOTSUP, "%s: this host has no %s cgroup controller mounted", jpath, ctl);
}

#define LEAF(ctl, marker, jpath)                                                                   \
	({                                                                                         \
		const char *d_ = NULL;                                                             \
		int r_ = ctl_leaf(s, ctl, marker, jpath, &d_);                                     \
		if (r_ <= 0)                                                                       \
			return r_;                                                                 \
		d_;                                                                                \
	})

/* ---- memory ---- */

static void lim(char *buf, int64_t v)
{
	snprintf(buf, 32, "%" PRId64, v);
}

static int check_usage(const char *jpath, const char *dir, const char *usage_file, int64_t want)
{
	uint64_t usage;
	if (want < 0)
		return 0;
	int r = read_u64(dir, usage_file, &usage);
	if (r < 0)
		return herr_ctx(r, "%s", jpath);
	if ((uint64_t)want < usage)
		return herr_set(EBUSY,
				"%s: %" PRId64 " is below the current usage %" PRIu64
				" (memory.checkBeforeUpdate)",
				jpath, want, usage);
	return 0;
}

/* memory.kmem.limit_in_bytes still exists on kernels that ignore it: read it back. */
static int check_taken(struct v1 *s, const char *jpath, const char *dir, const char *file,
		       int64_t want)
{
	uint64_t got;
	if (s->dry || want < 0)
		return 0;
	int r = read_u64(dir, file, &got);
	if (r < 0)
		return herr_ctx(r, "%s", jpath);
	if (got > (uint64_t)want)
		return herr_set(ENOTSUP,
				"%s: the kernel ignores %s/%s (it no longer limits kernel memory)",
				jpath, dir, file);
	return 0;
}

static int apply_memory(struct v1 *s, const struct oci_resources *r, bool update)
{
	const typeof(r->memory) *m = &r->memory;
	if (!m->has_limit && !m->has_reservation && !m->has_swap && !m->has_kernel &&
	    !m->has_kernel_tcp && !m->has_swappiness && !m->has_disable_oom_killer &&
	    !m->has_use_hierarchy)
		return 0;
	const char *dir = LEAF("memory", "memory.limit_in_bytes", JR ".memory");
	bool memsw = file_exists(dir, "memory.memsw.limit_in_bytes");
	int rc;

	if (m->has_swap && !memsw)
		return herr_set(ENOTSUP,
				JR ".memory.swap: swap accounting is off in this kernel (no "
				   "memory.memsw.limit_in_bytes; boot with swapaccount=1)");
	if (update && m->check_before_update) {
		if (m->has_limit && (rc = check_usage(JR ".memory.limit", dir,
						      "memory.usage_in_bytes", m->limit)) < 0)
			return rc;
		if (m->has_swap && (rc = check_usage(JR ".memory.swap", dir,
						     "memory.memsw.usage_in_bytes", m->swap)) < 0)
			return rc;
	}

	struct op ops[2];
	size_t n = 0;
	if (m->has_limit) {
		ops[n] = (struct op){.jpath = JR ".memory.limit",
				     .file = "memory.limit_in_bytes",
				     .hint = "(it must not exceed memory plus swap, "
					     "memory.memsw.limit_in_bytes)"};
		lim(ops[n++].val, m->limit);
	}
	/* As runc: lifting the memory limit lifts memory+swap too unless swap is given. */
	if (m->has_swap || (m->has_limit && m->limit == -1 && memsw)) {
		ops[n] = (struct op){
		    .jpath = JR ".memory.swap",
		    .file = "memory.memsw.limit_in_bytes",
		    .hint = "(memory plus swap must be at least memory.limit_in_bytes)"};
		lim(ops[n++].val, m->has_swap ? m->swap : -1);
	}
	if ((rc = wr_group(s, dir, ops, n)) < 0) {
		/* The kernel could not reclaim down to the new limit. */
		uint64_t usage;
		bool sw = !strcmp(ops[s->failed].file, "memory.memsw.limit_in_bytes");
		if (herr_code() == EBUSY &&
		    read_u64(dir, sw ? "memory.memsw.usage_in_bytes" : "memory.usage_in_bytes",
			     &usage) == 0)
			return herr_append("(the current usage is %" PRIu64 " bytes)", usage);
		return rc;
	}
	char v[32];
	if (m->has_reservation) {
		lim(v, m->reservation);
		if ((rc = wr(s, JR ".memory.reservation", dir, "memory.soft_limit_in_bytes", v)) <
		    0)
			return rc;
	}
	if (m->has_kernel) {
		lim(v, m->kernel);
		if ((rc = wr(s, JR ".memory.kernel", dir, "memory.kmem.limit_in_bytes", v)) < 0 ||
		    (rc = check_taken(s, JR ".memory.kernel", dir, "memory.kmem.limit_in_bytes",
				      m->kernel)) < 0)
			return rc;
	}
	if (m->has_kernel_tcp) {
		lim(v, m->kernel_tcp);
		if ((rc = wr(s, JR ".memory.kernelTCP", dir, "memory.kmem.tcp.limit_in_bytes", v)) <
			0 ||
		    (rc = check_taken(s, JR ".memory.kernelTCP", dir,
				      "memory.kmem.tcp.limit_in_bytes", m->kernel_tcp)) < 0)
			return rc;
	}
	if (m->has_swappiness && (rc = wrf(s, JR ".memory.swappiness", dir, "memory.swappiness",
					   "%" PRIu64, m->swappiness)) < 0)
		return rc;
	if (m->has_disable_oom_killer &&
	    (rc = wr(s, JR ".memory.disableOOMKiller", dir, "memory.oom_control",
		     m->disable_oom_killer ? "1" : "0")) < 0)
		return rc;
	if (m->has_use_hierarchy) {
		rc = wr(s, JR ".memory.useHierarchy", dir, "memory.use_hierarchy",
			m->use_hierarchy ? "1" : "0");
		if (rc < 0 && !m->use_hierarchy && herr_code() == EINVAL)
			return herr_append("(this kernel only supports hierarchical accounting)");
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- cpu, cpuset ---- */

static int apply_cpu(struct v1 *s, const struct oci_resources *r)
{
	const typeof(r->cpu) *c = &r->cpu;
	int rc;
	if (!c->has_shares && !c->has_quota && !c->has_period && !c->has_burst &&
	    !c->has_realtime_runtime && !c->has_realtime_period && !c->has_idle)
		return 0;
	const char *dir = LEAF("cpu", "cpu.shares", JR ".cpu");
	struct op ops[3];
	size_t n = 0;

	/* Before the init joins: a realtime task cannot enter a group without rt runtime. */
	if (c->has_realtime_period) {
		ops[n] = (struct op){.jpath = JR ".cpu.realtimePeriod", .file = "cpu.rt_period_us"};
		snprintf(ops[n++].val, 32, "%" PRIu64, c->realtime_period);
	}
	if (c->has_realtime_runtime) {
		ops[n] = (struct op){
		    .jpath = JR ".cpu.realtimeRuntime",
		    .file = "cpu.rt_runtime_us",
		    .hint = "(it must fit in the period and in what the parent cgroup's "
			    "cpu.rt_runtime_us leaves free)"};
		snprintf(ops[n++].val, 32, "%" PRId64, c->realtime_runtime);
	}
	if ((rc = wr_group(s, dir, ops, n)) < 0)
		return rc;

	if (c->has_shares) {
		if ((rc = wrf(s, JR ".cpu.shares", dir, "cpu.shares", "%" PRIu64, c->shares)) < 0)
			return rc;
		/* The kernel clamps instead of refusing: read it back as runc does. */
		uint64_t got;
		if (!s->dry && read_u64(dir, "cpu.shares", &got) == 0 && got != c->shares)
			return herr_set(ERANGE,
					JR ".cpu.shares: the kernel set %" PRIu64
					   " instead of %" PRIu64,
					got, c->shares);
	}

	n = 0;
	if (c->has_period) {
		ops[n] = (struct op){.jpath = JR ".cpu.period",
				     .file = "cpu.cfs_period_us",
				     .hint = "(quota/period must fit in the parent cgroup's)"};
		snprintf(ops[n++].val, 32, "%" PRIu64, c->period);
	}
	if (c->has_quota) {
		ops[n] = (struct op){.jpath = JR ".cpu.quota",
				     .file = "cpu.cfs_quota_us",
				     .hint = "(it must be at least cpu.burst and fit in the parent "
					     "cgroup's quota)"};
		snprintf(ops[n++].val, 32, "%" PRId64, c->quota);
	}
	if (c->has_burst) {
		ops[n] = (struct op){.jpath = JR ".cpu.burst",
				     .file = "cpu.cfs_burst_us",
				     .hint = "(it must not exceed cpu.cfs_quota_us)"};
		snprintf(ops[n++].val, 32, "%" PRIu64, c->burst);
	}
	if ((rc = wr_group(s, dir, ops, n)) < 0)
		return rc;
	if (c->has_idle && (rc = wrf(s, JR ".cpu.idle", dir, "cpu.idle", "%" PRId64, c->idle)) < 0)
		return rc;
	return 0;
}

static int apply_cpuset(struct v1 *s, const struct oci_resources *r)
{
	const typeof(r->cpu) *c = &r->cpu;
	if (!c->cpus && !c->mems)
		return 0;
	const char *dir = LEAF("cpuset", "cpuset.cpus", JR ".cpu");
	static const char *const key[] = {JR ".cpu.cpus", JR ".cpu.mems"};
	static const char *const file[] = {"cpuset.cpus", "cpuset.mems"};
	for (int i = 0; i < 2; i++) {
		const char *v = i ? c->mems : c->cpus;
		if (!v || wr(s, key[i], dir, file[i], v) == 0)
			continue;
		int code = herr_code();
		if (code != EINVAL && code != ERANGE)
			return -code;
		/* Outside the parent's set (or the host's): say what that is. */
		char parent[4200], p[4300];
		_cleanup_free_ char *allowed = NULL;
		snprintf(parent, sizeof(parent), "%s", dir);
		char *slash = strrchr(parent, '/');
		if (slash)
			*slash = 0;
		snprintf(p, sizeof(p), "%s/%s", parent, file[i]);
		if (fs_read_file(p, 4096, &allowed, NULL) < 0)
			return herr_set(code, "%s: write %s/%s: %s", key[i], dir, file[i],
					strerror(code));
		allowed[strcspn(allowed, "\n")] = 0;
		return herr_set(code,
				"%s: \"%s\" is not within the parent cgroup's %s \"%s\" (write "
				"%s/%s: %s)",
				key[i], v, file[i], allowed, dir, file[i], strerror(code));
	}
	return 0;
}

/* ---- pids, blkio, hugetlb, net, rdma ---- */

static int apply_pids(struct v1 *s, const struct oci_resources *r)
{
	if (!r->pids.has_limit)
		return 0;
	const char *dir = LEAF("pids", "pids.max", JR ".pids");
	if (r->pids.limit <= 0)
		return wr(s, JR ".pids.limit", dir, "pids.max", "max");
	return wrf(s, JR ".pids.limit", dir, "pids.max", "%" PRId64, r->pids.limit);
}

static int apply_blkio(struct v1 *s, const struct oci_resources *r)
{
	const typeof(r->block_io) *b = &r->block_io;
	const struct {
		const char *jpath, *file;
		const struct oci_throttle_list *t;
	} thr[] = {
	    {JR ".blockIO.throttleReadBpsDevice", "blkio.throttle.read_bps_device",
	     &b->throttle_read_bps},
	    {JR ".blockIO.throttleWriteBpsDevice", "blkio.throttle.write_bps_device",
	     &b->throttle_write_bps},
	    {JR ".blockIO.throttleReadIOPSDevice", "blkio.throttle.read_iops_device",
	     &b->throttle_read_iops},
	    {JR ".blockIO.throttleWriteIOPSDevice", "blkio.throttle.write_iops_device",
	     &b->throttle_write_iops},
	};
	bool any = b->has_weight || b->has_leaf_weight || b->n_weight_device;
	for (size_t i = 0; i < ARRAY_SIZE(thr); i++)
		any = any || thr[i].t->n;
	if (!any)
		return 0;
	const char *dir = LEAF("blkio", "blkio.reset_stats", JR ".blockIO");
	int rc;
	/* CFQ's blkio.weight is gone with CFQ; BFQ offers blkio.bfq.weight when it is loaded. */
	bool cfq = file_exists(dir, "blkio.weight");
	const char *wfile = cfq ? "blkio.weight" : "blkio.bfq.weight";
	const char *wdfile = cfq ? "blkio.weight_device" : "blkio.bfq.weight_device";
	if ((b->has_weight || b->n_weight_device) && !cfq && !file_exists(dir, wfile))
		return herr_set(ENOTSUP,
				JR ".blockIO.weight%s: this kernel has neither blkio.weight (CFQ) "
				   "nor blkio.bfq.weight (BFQ): I/O weights are not supported",
				b->has_weight ? "" : "Device");
	if (b->has_weight &&
	    (rc = wrf(s, JR ".blockIO.weight", dir, wfile, "%u", (unsigned)b->weight)) < 0)
		return rc;
	if (b->has_leaf_weight && (rc = wrf(s, JR ".blockIO.leafWeight", dir, "blkio.leaf_weight",
					    "%u", (unsigned)b->leaf_weight)) < 0)
		return rc;
	for (size_t i = 0; i < b->n_weight_device; i++) {
		const struct oci_weight_device *d = &b->weight_device[i];
		char jp[128];
		snprintf(jp, sizeof(jp), JR ".blockIO.weightDevice[%zu]", i);
		if (d->has_weight && (rc = wrf(s, jp, dir, wdfile, "%" PRId64 ":%" PRId64 " %u",
					       d->major, d->minor, (unsigned)d->weight)) < 0) {
			if (!cfq && herr_code() == EOPNOTSUPP)
				return herr_append(
				    "(the device does not use the BFQ I/O scheduler)");
			return rc;
		}
		if (d->has_leaf_weight &&
		    (rc = wrf(s, jp, dir, "blkio.leaf_weight_device", "%" PRId64 ":%" PRId64 " %u",
			      d->major, d->minor, (unsigned)d->leaf_weight)) < 0)
			return rc;
	}
	for (size_t i = 0; i < ARRAY_SIZE(thr); i++) {
		for (size_t k = 0; k < thr[i].t->n; k++) {
			const struct oci_throttle_device *d = &thr[i].t->v[k];
			char jp[128];
			snprintf(jp, sizeof(jp), "%s[%zu]", thr[i].jpath, k);
			if ((rc = wrf(s, jp, dir, thr[i].file, "%" PRId64 ":%" PRId64 " %" PRIu64,
				      d->major, d->minor, d->rate)) < 0)
				return rc;
		}
	}
	return 0;
}

/* The sizes this host's hugetlb controller knows, "2MB 1GB", for a message. */
static void hugetlb_sizes(const char *dir, char *buf, size_t len)
{
	_cleanup_closedir_ DIR *d = opendir(dir);
	struct dirent *e;
	buf[0] = 0;
	while (d && (e = readdir(d))) {
		char size[64];
		if (sscanf(e->d_name, "hugetlb.%63[^.].limit_in_bytes", size) == 1 &&
		    strlen(e->d_name) == strlen(size) + strlen("hugetlb..limit_in_bytes")) {
			size_t o = strlen(buf);
			snprintf(buf + o, len - o, "%s%s", o ? " " : "", size);
		}
	}
}

static int apply_hugetlb(struct v1 *s, const struct oci_resources *r)
{
	if (!r->n_hugepage_limits)
		return 0;
	const char *dir = LEAF("hugetlb", NULL, JR ".hugepageLimits");
	for (size_t i = 0; i < r->n_hugepage_limits; i++) {
		const struct oci_hugepage_limit *h = &r->hugepage_limits[i];
		char jp[128], file[128], rsvd[128];
		snprintf(jp, sizeof(jp), JR ".hugepageLimits[%zu]", i);
		snprintf(file, sizeof(file), "hugetlb.%s.limit_in_bytes", h->page_size);
		snprintf(rsvd, sizeof(rsvd), "hugetlb.%s.rsvd.limit_in_bytes", h->page_size);
		if (!file_exists(dir, file)) {
			char sizes[256];
			hugetlb_sizes(dir, sizes, sizeof(sizes));
			return herr_set(ENOTSUP,
					"%s.pageSize: this host has no %s huge pages (it has: %s)",
					jp, h->page_size, *sizes ? sizes : "none");
		}
		int rc = wrf(s, jp, dir, file, "%" PRIu64, h->limit);
		/* Reservations are charged separately; limit them alike where the kernel can. */
		if (rc == 0 && file_exists(dir, rsvd))
			rc = wrf(s, jp, dir, rsvd, "%" PRIu64, h->limit);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int apply_network(struct v1 *s, const struct oci_resources *r)
{
	int rc;
	if (r->network.has_class_id) {
		const char *dir = LEAF("net_cls", "net_cls.classid", JR ".network.classID");
		if ((rc = wrf(s, JR ".network.classID", dir, "net_cls.classid", "%" PRIu32,
			      r->network.class_id)) < 0)
			return rc;
	}
	if (!r->network.n_priorities)
		return 0;
	const char *dir = LEAF("net_prio", "net_prio.ifpriomap", JR ".network.priorities");
	for (size_t i = 0; i < r->network.n_priorities; i++) {
		char jp[128];
		snprintf(jp, sizeof(jp), JR ".network.priorities[%zu]", i);
		if ((rc = wrf(s, jp, dir, "net_prio.ifpriomap", "%s %" PRIu32,
			      r->network.priorities[i].name, r->network.priorities[i].priority)) <
		    0)
			return rc;
	}
	return 0;
}

static int apply_rdma(struct v1 *s, const struct oci_resources *r)
{
	if (!r->n_rdma)
		return 0;
	const char *dir = LEAF("rdma", "rdma.max", JR ".rdma");
	for (size_t i = 0; i < r->n_rdma; i++) {
		const struct oci_rdma_limit *d = &r->rdma[i];
		char jp[160], v[160];
		if (!d->has_hca_handles && !d->has_hca_objects)
			continue;
		snprintf(jp, sizeof(jp), JR ".rdma.%s", d->device);
		snprintf(v, sizeof(v), "%s", d->device);
		if (d->has_hca_handles)
			snprintf(v + strlen(v), sizeof(v) - strlen(v), " hca_handle=%" PRIu32,
				 d->hca_handles);
		if (d->has_hca_objects)
			snprintf(v + strlen(v), sizeof(v) - strlen(v), " hca_object=%" PRIu32,
				 d->hca_objects);
		int rc = wr(s, jp, dir, "rdma.max", v);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- devices ---- */

static void dev_num(char *buf, int64_t v)
{
	if (v < 0)
		strcpy(buf, "*");
	else
		snprintf(buf, 24, "%" PRId64, v);
}

static int apply_devices(struct v1 *s, const struct oci_resources *r,
			 const struct oci_dev_rule *rules, size_t n)
{
	if (!n)
		return 0;
	const char *dir = NULL;
	int rc = ctl_leaf(s, "devices", "devices.allow", JR ".devices", &dir);
	if (rc <= 0) {
		/* No v1 devices hierarchy: only rules the config asked for are worth failing. */
		if (!r || !r->n_devices)
			herr_clear();
		return r && r->n_devices ? rc : 0;
	}
	if (s->dry) {
		if ((rc = wr(s, JR ".devices", dir, "devices.deny", "a")) < 0)
			return rc;
		return wr(s, JR ".devices", dir, "devices.allow", "");
	}
	/* One open file each: a v1 devices file takes one rule per write. */
	char p[4200];
	snprintf(p, sizeof(p), "%s/devices.allow", dir);
	_cleanup_close_ int allow = open(p, O_WRONLY | O_CLOEXEC);
	snprintf(p, sizeof(p), "%s/devices.deny", dir);
	_cleanup_close_ int deny = open(p, O_WRONLY | O_CLOEXEC);
	if (allow < 0 || deny < 0)
		return write_err(-errno, JR ".devices", dir,
				 allow < 0 ? "devices.allow" : "devices.deny", NULL);
	/* Start from nothing, so the rules are the whole list (unless they say so first). */
	bool first_denies_all = rules[0].type == 'a' && !rules[0].allow && rules[0].major < 0 &&
				rules[0].minor < 0 && !strcmp(rules[0].access, "rwm");
	if (!first_denies_all && write(deny, "a", 1) != 1)
		return write_err(-errno, JR ".devices", dir, "devices.deny", NULL);
	for (size_t i = 0; i < n; i++) {
		const struct oci_dev_rule *d = &rules[i];
		const char *file = d->allow ? "devices.allow" : "devices.deny";
		char maj[24], min[24], line[96], jp[160];
		dev_num(maj, d->major);
		dev_num(min, d->minor);
		/*
		 * v1 reads "a" as "switch the default to allow/deny" (clearing the list), so
		 * only the whole-"a" rule becomes that; a partial one is a c and a b rule.
		 */
		bool all =
		    d->type == 'a' && d->major < 0 && d->minor < 0 && !strcmp(d->access, "rwm");
		for (int k = 0; k < (d->type == 'a' && !all ? 2 : 1); k++) {
			char t = d->type == 'a' ? "cb"[k] : d->type;
			if (all)
				snprintf(line, sizeof(line), "a");
			else
				snprintf(line, sizeof(line), "%c %s:%s %s", t, maj, min, d->access);
			if (write(d->allow ? allow : deny, line, strlen(line)) < 0) {
				snprintf(jp, sizeof(jp), JR ".devices: rule \"%s\"", line);
				return write_err(-errno, jp, dir, file, NULL);
			}
		}
	}
	return 0;
}

/* ---- unified ---- */

static int check_unified(struct v1 *s, const struct oci_resources *r)
{
	if (!r->n_unified)
		return 0;
	if (!s->hybrid)
		return herr_set(ENOTSUP, JR ".unified: needs cgroup v2 (this host has only cgroup "
					    "v1 hierarchies)");
	/* cgroup_v2_apply writes those of the unified hierarchy's controllers. */
	for (size_t i = 0; i < r->n_unified; i++) {
		char ctl[64];
		const char *k = r->unified[i].key;
		snprintf(ctl, sizeof(ctl), "%.*s", (int)strcspn(k, "."), k);
		if (strcmp(ctl, "cgroup") && !word_in(s->v2_controllers, ctl))
			return herr_set(ENOTSUP,
					JR ".unified[\"%s\"]: needs cgroup v2, and the %s "
					   "controller is not in this host's unified hierarchy "
					   "(only: %s)",
					k, ctl, *s->v2_controllers ? s->v2_controllers : "none");
	}
	return 0;
}

/* ---- all ---- */

static int apply_all(struct v1 *s, const struct oci_resources *r, const struct oci_dev_rule *rules,
		     size_t n_rules, bool update)
{
	int rc;
	if (r) {
		if ((rc = check_unified(s, r)) < 0 || (rc = apply_cpuset(s, r)) < 0 ||
		    (rc = apply_memory(s, r, update)) < 0 || (rc = apply_cpu(s, r)) < 0 ||
		    (rc = apply_pids(s, r)) < 0 || (rc = apply_blkio(s, r)) < 0 ||
		    (rc = apply_hugetlb(s, r)) < 0 || (rc = apply_network(s, r)) < 0 ||
		    (rc = apply_rdma(s, r)) < 0)
			return rc;
	}
	return apply_devices(s, r, rules, n_rules);
}

int cgroup_v1_apply(char *const *leaves, const struct oci_resources *r,
		    const struct oci_dev_rule *rules, size_t n_rules, bool update)
{
	size_t n = 0;
	while (leaves && leaves[n])
		n++;
	_cleanup_free_ bool *is_v2 = calloc(n + 1, sizeof(bool));
	if (!is_v2)
		return herr_set(ENOMEM, "out of memory");
	struct v1 s = {.leaves = leaves ? leaves : (char *const[]){NULL}, .is_v2 = is_v2};
	s.hybrid = cgroup_detect_layout() == CGROUP_HYBRID;
	/* Only a hybrid host mixes v2 leaves among the v1 ones. */
	for (size_t i = 0; i < n && s.hybrid; i++)
		is_v2[i] = file_exists(leaves[i], "cgroup.controllers");
	if (s.hybrid) {
		_cleanup_free_ char *ctl = NULL;
		if (fs_read_file("/sys/fs/cgroup/unified/cgroup.controllers", 4096, &ctl, NULL) ==
		    0)
			snprintf(s.v2_controllers, sizeof(s.v2_controllers), "%.*s",
				 (int)strcspn(ctl, "\n"), ctl);
		herr_clear();
	}
	s.dry = true;
	int rc = apply_all(&s, r, rules, n_rules, update);
	if (rc < 0)
		return rc;
	s.dry = false;
	return apply_all(&s, r, rules, n_rules, update);
}
