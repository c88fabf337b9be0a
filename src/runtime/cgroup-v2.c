/*
 * linux.resources on the unified (cgroup v2) hierarchy.
 *
 * The conversions are runc's (libcontainer/cgroups/fs2 and its helpers), since
 * orchestrators size containers by them:
 *   cpu.shares 2..262144      -> cpu.weight 1 + (shares - 2) * 9999 / 262142
 *   blockIO.weight 10..1000   -> io.weight 1 + (weight - 10) * 9999 / 990
 *                                (io.bfq.weight takes the v1 value as is)
 *   memory.swap (memory+swap) -> memory.swap.max = swap - limit
 *   memory.reservation        -> memory.low
 * A value of 0 for memory limit/reservation/swap, cpu quota/period/shares and
 * blkio weight means "not set", as in runc; -1 (or a pids limit of 0) means
 * "max".
 *
 * (The shares formula is the linear one of runc 1.1 and crun 1.8, the versions
 * next to hull on our hosts; 1024 shares give weight 39, not v2's default 100.)
 *
 * The knobs v2 does not have are ignored without an error, as runc does, so
 * that a config written for v1 still runs: memory kernel, kernelTCP,
 * swappiness, disableOOMKiller and useHierarchy, cpu realtimeRuntime and
 * realtimePeriod, blockIO leafWeight, and network (net_cls/net_prio).
 *
 * A controller's files exist in the leaf only when every ancestor delegates
 * it, so the controllers the resources need are first enabled in the
 * cgroup.subtree_control of each ancestor from the mount's root down (as runc
 * does). A controller the hierarchy lacks is an error, except with `partial`
 * (the unified mount of a hybrid host), where it belongs to v1 and is skipped.
 */
#include "cgroup-resources.h"
#include "common/cleanup.h"
#include "common/error.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const controllers[] = {"cpuset",  "cpu",  "io",   "memory",
					  "hugetlb", "pids", "rdma", "misc"};
enum { C_CPUSET, C_CPU, C_IO, C_MEMORY, C_HUGETLB, C_PIDS, C_RDMA, C_MISC, C_COUNT };

/* cpu.weight is 1..10000; shares outside v1's 2..262144 are clamped first. */
static uint64_t cpu_weight(uint64_t shares)
{
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + (shares - 2) * 9999 / 262142;
}

static uint64_t io_weight(uint64_t weight)
{
	if (weight < 10)
		weight = 10;
	if (weight > 1000)
		weight = 1000;
	return 1 + (weight - 10) * 9999 / 990;
}

/* One write(2) of val; -errno (errno kept) on failure. O_TRUNC is a no-op on kernfs. */
static int wr(int dfd, const char *file, const char *val)
{
	_cleanup_close_ int fd = openat(dfd, file, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	size_t len = strlen(val);
	ssize_t n = write(fd, val, len);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return errno = EIO, -EIO;
	return 0;
}

static int set(int dfd, const char *field, const char *file, const char *val)
{
	if (wr(dfd, file, val) == 0)
		return 0;
	if (errno == ENOENT)
		return herr_set(ENOENT, "linux.resources.%s: %s: no such cgroup file", field, file);
	return herr_sys("linux.resources.%s: write %s \"%s\"", field, file, val);
}

static int rd(int dfd, const char *file, char *buf, size_t len)
{
	_cleanup_close_ int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, len - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static bool exists(int dfd, const char *file)
{
	return faccessat(dfd, file, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

/* "max" for -1; the number otherwise. */
static int num(const char *field, int64_t v, char *buf, size_t len)
{
	if (v < -1)
		return herr_set(EINVAL,
				"linux.resources.%s: must be -1 (unlimited) or positive, got "
				"%" PRId64,
				field, v);
	if (v == -1)
		snprintf(buf, len, "max");
	else
		snprintf(buf, len, "%" PRId64, v);
	return 0;
}

/* A bit per entry of controllers[] present in a space-separated list. */
static unsigned ctl_mask(const char *list)
{
	unsigned m = 0;
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", list);
	char *save = NULL;
	for (char *t = strtok_r(buf, " \n", &save); t; t = strtok_r(NULL, " \n", &save))
		for (size_t i = 0; i < C_COUNT; i++)
			if (!strcmp(t, controllers[i]))
				m |= 1u << i;
	return m;
}

static int ctl_of_key(const char *key)
{
	size_t l = strcspn(key, ".");
	for (size_t i = 0; i < C_COUNT; i++)
		if (strlen(controllers[i]) == l && !strncmp(key, controllers[i], l))
			return (int)i;
	return -1;
}

/* The controllers the resources need, and the field that needs each (for errors). */
static unsigned needed(const struct oci_resources *r, const char *why[C_COUNT])
{
	unsigned m = 0;
#define NEED(c, cond, field)                                                                       \
	do {                                                                                       \
		if ((cond) && !(m & (1u << (c)))) {                                                \
			m |= 1u << (c);                                                            \
			why[c] = field;                                                            \
		}                                                                                  \
	} while (0)
	NEED(C_MEMORY, r->memory.has_limit || r->memory.has_reservation || r->memory.has_swap,
	     "memory");
	NEED(C_CPU,
	     r->cpu.has_shares || r->cpu.has_quota || r->cpu.has_period || r->cpu.has_burst ||
		 r->cpu.has_idle,
	     "cpu");
	NEED(C_CPUSET, r->cpu.cpus || r->cpu.mems, r->cpu.cpus ? "cpu.cpus" : "cpu.mems");
	NEED(C_PIDS, r->pids.has_limit, "pids.limit");
	NEED(C_IO,
	     r->block_io.has_weight || r->block_io.n_weight_device ||
		 r->block_io.throttle_read_bps.n || r->block_io.throttle_write_bps.n ||
		 r->block_io.throttle_read_iops.n || r->block_io.throttle_write_iops.n,
	     "blockIO");
	NEED(C_HUGETLB, r->n_hugepage_limits, "hugepageLimits");
	NEED(C_RDMA, r->n_rdma, "rdma");
	for (size_t i = 0; i < r->n_unified; i++) {
		int c = ctl_of_key(r->unified[i].key);
		if (c >= 0)
			NEED(c, true, "unified");
	}
#undef NEED
	return m;
}

/*
 * Enable the controllers in cgroup.subtree_control of every ancestor of the
 * leaf, from the root of its cgroup2 mount down: a controller's files appear in
 * a cgroup only when its parent delegates it. The root is the highest ancestor
 * on the same filesystem that still has a cgroup.controllers file.
 * avail returns what the root offers.
 */
static int enable_controllers(const char *leaf, unsigned want, unsigned *avail)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s", leaf);
	size_t l = strlen(path);
	while (l > 1 && path[l - 1] == '/')
		path[--l] = 0;
	struct stat leaf_st;
	if (stat(path, &leaf_st) < 0)
		return herr_sys("cgroup %s", path);

	size_t cuts[64], n = 0; /* ends of the ancestors' paths, leaf's parent first */
	for (size_t end = l;;) {
		char *slash = memrchr(path, '/', end);
		if (!slash || slash == path || n == ARRAY_SIZE(cuts))
			break;
		end = (size_t)(slash - path);
		*slash = 0;
		struct stat st;
		char f[4200];
		snprintf(f, sizeof(f), "%s/cgroup.controllers", path);
		bool ok = stat(path, &st) == 0 && st.st_dev == leaf_st.st_dev && !access(f, F_OK);
		*slash = '/';
		if (!ok)
			break;
		cuts[n++] = (size_t)(slash - path);
	}
	if (!n)
		return herr_set(EINVAL, "%s is not inside a cgroup2 hierarchy", leaf);

	for (size_t i = n; i-- > 0;) {
		char saved = path[cuts[i]];
		path[cuts[i]] = 0;
		_cleanup_close_ int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		char buf[512];
		if (dfd < 0 || rd(dfd, "cgroup.controllers", buf, sizeof(buf)) < 0)
			return herr_sys("read %s/cgroup.controllers", path);
		unsigned have = ctl_mask(buf);
		if (i == n - 1)
			*avail = have;
		if (rd(dfd, "cgroup.subtree_control", buf, sizeof(buf)) < 0)
			return herr_sys("read %s/cgroup.subtree_control", path);
		unsigned on = ctl_mask(buf);
		for (size_t c = 0; c < C_COUNT; c++) {
			unsigned bit = 1u << c;
			if (!(want & bit) || (on & bit) || !(have & bit))
				continue;
			char op[16];
			snprintf(op, sizeof(op), "+%s", controllers[c]);
			if (wr(dfd, "cgroup.subtree_control", op) < 0)
				return herr_sys("enable the %s controller in "
						"%s/cgroup.subtree_control",
						controllers[c], path);
		}
		path[cuts[i]] = saved;
	}
	return 0;
}

static int apply_memory(int dfd, const struct oci_resources *r, bool update)
{
	char val[32], cur[64];
	const bool set_limit = r->memory.has_limit && r->memory.limit != 0;
	bool has_limit = set_limit;
	bool has_swap = r->memory.has_swap && r->memory.swap != 0;
	int64_t limit = r->memory.limit;
	int rc;

	if (set_limit && (rc = num("memory.limit", limit, val, sizeof(val))) < 0)
		return rc;
	if (set_limit && limit > 0 && r->memory.check_before_update &&
	    rd(dfd, "memory.current", cur, sizeof(cur)) == 0 && strtoll(cur, NULL, 10) >= limit)
		return herr_set(EBUSY,
				"linux.resources.memory.limit: %" PRId64 " is below the current "
				"usage %s (checkBeforeUpdate)",
				limit, cur);

	const char *swap = NULL;
	char swapbuf[32];
	if (has_swap && r->memory.swap == -1) {
		swap = "max";
	} else if (has_swap) {
		if (r->memory.swap < 0)
			return herr_set(EINVAL,
					"linux.resources.memory.swap: must be -1 (unlimited) or "
					"positive, got %" PRId64,
					r->memory.swap);
		if (!has_limit && update && rd(dfd, "memory.max", cur, sizeof(cur)) == 0 &&
		    strcmp(cur, "max") != 0) {
			limit = strtoll(cur, NULL, 10);
			has_limit = true;
		}
		if (!has_limit || limit <= 0)
			return herr_set(EINVAL, "linux.resources.memory.swap: a swap limit needs a "
						"memory limit (swap counts memory+swap)");
		if (r->memory.swap < limit)
			return herr_set(EINVAL,
					"linux.resources.memory.swap: %" PRId64 " is below "
					"memory.limit %" PRId64 " (swap counts memory+swap)",
					r->memory.swap, limit);
		snprintf(swapbuf, sizeof(swapbuf), "%" PRId64, r->memory.swap - limit);
		swap = swapbuf;
	} else if (r->memory.has_limit && limit == -1) {
		/* runc: an unlimited memory with no swap given means unlimited swap too. */
		swap = "max";
	}
	if (swap && wr(dfd, "memory.swap.max", swap) < 0) {
		/* No swap accounting: "max" and "0" are what the kernel does anyway. */
		if (errno != ENOENT || (strcmp(swap, "max") && strcmp(swap, "0")))
			return set(dfd, "memory.swap", "memory.swap.max", swap);
	}
	if (set_limit && (rc = set(dfd, "memory.limit", "memory.max", val)) < 0)
		return rc;
	if (r->memory.has_reservation && r->memory.reservation != 0) {
		if ((rc = num("memory.reservation", r->memory.reservation, val, sizeof(val))) < 0 ||
		    (rc = set(dfd, "memory.reservation", "memory.low", val)) < 0)
			return rc;
	}
	return 0;
}

static int apply_cpu(int dfd, const struct oci_resources *r)
{
	char val[64];
	int rc;
	if (r->cpu.has_shares && r->cpu.shares) {
		snprintf(val, sizeof(val), "%" PRIu64, cpu_weight(r->cpu.shares));
		if ((rc = set(dfd, "cpu.shares", "cpu.weight", val)) < 0)
			return rc;
	}
	if (r->cpu.has_idle) {
		snprintf(val, sizeof(val), "%" PRId64, r->cpu.idle);
		if ((rc = set(dfd, "cpu.idle", "cpu.idle", val)) < 0)
			return rc;
	}
	/*
	 * The burst may not exceed the quota: a burst raised together with the
	 * quota only fits after it, one lowered with it only before. Try before.
	 */
	char burst[32];
	bool burst_pending = false;
	if (r->cpu.has_burst) {
		snprintf(burst, sizeof(burst), "%" PRIu64, r->cpu.burst);
		burst_pending = wr(dfd, "cpu.max.burst", burst) < 0;
	}
	bool q = r->cpu.has_quota && r->cpu.quota != 0, p = r->cpu.has_period && r->cpu.period;
	if (q || p) {
		char quota[32] = "max";
		if (q && (rc = num("cpu.quota", r->cpu.quota, quota, sizeof(quota))) < 0)
			return rc;
		if (!q && rd(dfd, "cpu.max", val, sizeof(val)) == 0) /* keep the quota */
			snprintf(quota, sizeof(quota), "%.*s", (int)strcspn(val, " "), val);
		if (p)
			snprintf(val, sizeof(val), "%s %" PRIu64, quota, r->cpu.period);
		else
			snprintf(val, sizeof(val), "%s", quota);
		if ((rc = set(dfd, q ? "cpu.quota" : "cpu.period", "cpu.max", val)) < 0)
			return rc;
	}
	if (burst_pending && (rc = set(dfd, "cpu.burst", "cpu.max.burst", burst)) < 0)
		return rc;
	return 0;
}

static int apply_cpuset(int dfd, const struct oci_resources *r)
{
	int rc;
	if (r->cpu.cpus && (rc = set(dfd, "cpu.cpus", "cpuset.cpus", r->cpu.cpus)) < 0)
		return rc;
	if (r->cpu.mems && (rc = set(dfd, "cpu.mems", "cpuset.mems", r->cpu.mems)) < 0)
		return rc;
	return 0;
}

static int apply_io(int dfd, const struct oci_resources *r)
{
	char val[128];
	int rc;
	bool bfq = exists(dfd, "io.bfq.weight");
	const char *wfile = bfq ? "io.bfq.weight" : "io.weight";
	if (r->block_io.has_weight && r->block_io.weight) {
		snprintf(val, sizeof(val), "%" PRIu64,
			 bfq ? r->block_io.weight : io_weight(r->block_io.weight));
		if ((rc = set(dfd, "blockIO.weight", wfile, val)) < 0)
			return rc;
	}
	for (size_t i = 0; i < r->block_io.n_weight_device; i++) {
		const struct oci_weight_device *w = &r->block_io.weight_device[i];
		if (!w->has_weight)
			continue;
		snprintf(val, sizeof(val), "%" PRId64 ":%" PRId64 " %" PRIu64, w->major, w->minor,
			 bfq ? w->weight : io_weight(w->weight));
		char field[64];
		snprintf(field, sizeof(field), "blockIO.weightDevice[%zu]", i);
		if ((rc = set(dfd, field, wfile, val)) < 0)
			return rc;
	}
	static const struct {
		const char *field, *key;
		size_t off;
	} thr[] = {
	    {"throttleReadBpsDevice", "rbps",
	     offsetof(struct oci_resources, block_io.throttle_read_bps)},
	    {"throttleWriteBpsDevice", "wbps",
	     offsetof(struct oci_resources, block_io.throttle_write_bps)},
	    {"throttleReadIOPSDevice", "riops",
	     offsetof(struct oci_resources, block_io.throttle_read_iops)},
	    {"throttleWriteIOPSDevice", "wiops",
	     offsetof(struct oci_resources, block_io.throttle_write_iops)},
	};
	for (size_t t = 0; t < ARRAY_SIZE(thr); t++) {
		const struct oci_throttle_list *l = (const void *)((const char *)r + thr[t].off);
		for (size_t i = 0; i < l->n; i++) {
			char rate[32] = "max"; /* v1's 0 removes the limit */
			if (l->v[i].rate)
				snprintf(rate, sizeof(rate), "%" PRIu64, l->v[i].rate);
			snprintf(val, sizeof(val), "%" PRId64 ":%" PRId64 " %s=%s", l->v[i].major,
				 l->v[i].minor, thr[t].key, rate);
			char field[64];
			snprintf(field, sizeof(field), "blockIO.%s[%zu]", thr[t].field, i);
			if ((rc = set(dfd, field, "io.max", val)) < 0)
				return rc;
		}
	}
	return 0;
}

static int apply_hugetlb(int dfd, const struct oci_resources *r)
{
	for (size_t i = 0; i < r->n_hugepage_limits; i++) {
		const struct oci_hugepage_limit *h = &r->hugepage_limits[i];
		char field[64], file[96], val[32];
		snprintf(field, sizeof(field), "hugepageLimits[%zu]", i);
		if (!h->page_size || !*h->page_size ||
		    strspn(h->page_size,
			   "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") !=
			strlen(h->page_size) ||
		    strlen(h->page_size) > 32)
			return herr_set(EINVAL,
					"linux.resources.%s.pageSize: \"%s\" is not a page "
					"size such as \"2MB\"",
					field, h->page_size ? h->page_size : "");
		snprintf(val, sizeof(val), "%" PRIu64, h->limit);
		snprintf(file, sizeof(file), "hugetlb.%s.max", h->page_size);
		if (!exists(dfd, file))
			return herr_set(EINVAL,
					"linux.resources.%s.pageSize: the kernel has no "
					"%s huge pages (no %s)",
					field, h->page_size, file);
		int rc = set(dfd, field, file, val);
		if (rc < 0)
			return rc;
		/*
		 * Limiting reservations too makes an mmap past the limit fail with
		 * ENOMEM instead of a SIGBUS at the first touch (kernel 5.7+).
		 */
		snprintf(file, sizeof(file), "hugetlb.%s.rsvd.max", h->page_size);
		if (wr(dfd, file, val) < 0 && errno != ENOENT)
			return set(dfd, field, file, val);
	}
	return 0;
}

static int apply_rdma(int dfd, const struct oci_resources *r)
{
	for (size_t i = 0; i < r->n_rdma; i++) {
		const struct oci_rdma_limit *d = &r->rdma[i];
		if (!d->has_hca_handles && !d->has_hca_objects)
			continue;
		char val[256], field[64];
		int n = snprintf(val, sizeof(val), "%s", d->device);
		if (d->has_hca_handles)
			n += snprintf(val + n, sizeof(val) - (size_t)n, " hca_handle=%" PRIu32,
				      d->hca_handles);
		if (d->has_hca_objects)
			snprintf(val + n, sizeof(val) - (size_t)n, " hca_object=%" PRIu32,
				 d->hca_objects);
		snprintf(field, sizeof(field), "rdma.%s", d->device);
		int rc = set(dfd, field, "rdma.max", val);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* Applied last, so that a key here wins over the same setting made above (runc). */
static int apply_unified(int dfd, const struct oci_resources *r, unsigned avail, bool partial)
{
	for (size_t i = 0; i < r->n_unified; i++) {
		const char *k = r->unified[i].key, *v = r->unified[i].value;
		if (!*k || strchr(k, '/') || k[0] == '.')
			return herr_set(EINVAL,
					"linux.resources.unified: \"%s\" is not a cgroup "
					"file name",
					k);
		if (!exists(dfd, k)) {
			int c = ctl_of_key(k);
			if (c >= 0 && !(avail & (1u << c)) && partial)
				return herr_set(
				    ENOTSUP,
				    "linux.resources.unified[\"%s\"]: needs cgroup v2: %s "
				    "is a cgroup v1 controller on this hybrid host",
				    k, controllers[c]);
			if (c >= 0 && !(avail & (1u << c)))
				return herr_set(
				    ENOENT,
				    "linux.resources.unified: \"%s\": no such cgroup file "
				    "(the %s controller is not available in this cgroup2 "
				    "hierarchy)",
				    k, controllers[c]);
			return herr_set(ENOENT,
					"linux.resources.unified: \"%s\": no such cgroup file", k);
		}
		if (wr(dfd, k, v ? v : "") < 0)
			return herr_sys("linux.resources.unified: write %s \"%s\"", k, v ? v : "");
	}
	return 0;
}

int cgroup_v2_apply(const char *leaf, const struct oci_resources *r,
		    const struct oci_dev_rule *rules, size_t n_rules, bool update, bool partial)
{
	static const struct oci_resources none;
	if (!r)
		r = &none;
	const char *why[C_COUNT] = {0};
	unsigned want = needed(r, why), avail = 0;
	int rc;
	if (want) {
		rc = enable_controllers(leaf, want, &avail);
		if (rc < 0)
			return rc;
		for (size_t c = 0; c < C_COUNT; c++) {
			unsigned bit = 1u << c;
			if (!(want & bit) || (avail & bit) || partial || !strcmp(why[c], "unified"))
				continue;
			return herr_set(EOPNOTSUPP,
					"linux.resources.%s: the %s controller is not available in "
					"the cgroup v2 hierarchy",
					why[c], controllers[c]);
		}
	}
	_cleanup_close_ int dfd = open(leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return herr_sys("open cgroup %s", leaf);

	/* runc's order: pids, memory, io, cpu, cpuset, hugetlb, rdma, devices, unified. */
	if ((want & avail & (1u << C_PIDS)) && r->pids.has_limit) {
		char val[32] = "max";
		if (r->pids.limit > 0)
			snprintf(val, sizeof(val), "%" PRId64, r->pids.limit);
		if ((rc = set(dfd, "pids.limit", "pids.max", val)) < 0)
			return rc;
	}
	if ((want & avail & (1u << C_MEMORY)) && (rc = apply_memory(dfd, r, update)) < 0)
		return rc;
	if ((want & avail & (1u << C_IO)) && (rc = apply_io(dfd, r)) < 0)
		return rc;
	if ((want & avail & (1u << C_CPU)) && (rc = apply_cpu(dfd, r)) < 0)
		return rc;
	if ((want & avail & (1u << C_CPUSET)) && (rc = apply_cpuset(dfd, r)) < 0)
		return rc;
	if ((want & avail & (1u << C_HUGETLB)) && (rc = apply_hugetlb(dfd, r)) < 0)
		return rc;
	if ((want & avail & (1u << C_RDMA)) && (rc = apply_rdma(dfd, r)) < 0)
		return rc;
	/*
	 * A hybrid host's v1 devices controller enforces the rules there; the
	 * program would only repeat it.
	 */
	if (!partial && n_rules && (rc = cgroup_v2_devices_attach(dfd, rules, n_rules)) < 0)
		return herr_ctx(rc, "linux.resources.devices");
	return apply_unified(dfd, r, avail, partial);
}
