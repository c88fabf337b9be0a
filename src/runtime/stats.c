/* statistics and events: a live container's cgroup counters, and its OOM kills. */
#include "control.h"
#include "cgfiles.h"
#include "internal.h"
#include "common/cleanup.h"
#include "common/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/pidfd.h>
#include <unistd.h>

static void json_putp(json_object **o)
{
	json_object_put(*o);
}
#define _cleanup_json_ __attribute__((cleanup(json_putp)))

/* ---- statistics ---- */

static void put_u64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

/* runc's omitempty: zero is left out. */
static void put_nz(json_object *o, const char *k, uint64_t v)
{
	if (v)
		put_u64(o, k, v);
}

static json_object *obj_add(json_object *parent, const char *k)
{
	json_object *o = json_object_new_object();
	json_object_object_add(parent, k, o);
	return o;
}

/* "1 2 3" (or one per line) as an array; NULL when empty. */
static json_object *u64_array(const char *s)
{
	json_object *a = NULL;
	for (const char *p = s, *end; p && *p; p = end) {
		errno = 0;
		unsigned long long x = strtoull(p, (char **)&end, 10);
		if (end == p)
			break;
		if (!a)
			a = json_object_new_array();
		json_object_array_add(a, json_object_new_uint64(x));
	}
	return a;
}

static void stats_cpu(char *const *lv, json_object *data)
{
	json_object *cpu = obj_add(data, "cpu");
	json_object *usage = obj_add(cpu, "usage"), *thr = obj_add(cpu, "throttling");
	uint64_t total = 0, user = 0, sys = 0, v;
	const char *acct = cgf_leaf_with(lv, "cpuacct.usage");
	if (acct) {
		cgf_file_u64(acct, "cpuacct.usage", &total);
		put_nz(usage, "total", total);
		_cleanup_free_ char *pc = cgf_slurp(acct, "cpuacct.usage_percpu");
		json_object *a = u64_array(pc);
		if (a)
			json_object_object_add(usage, "percpu", a);
		/* usage_all: a header line, then "cpu user system" in ns per CPU. */
		_cleanup_free_ char *all = cgf_slurp(acct, "cpuacct.usage_all");
		char *line = all ? strchr(all, '\n') : NULL;
		json_object *ku = NULL, *uu = NULL;
		unsigned long long c, u, k;
		for (; line && sscanf(line + 1, "%llu %llu %llu", &c, &u, &k) == 3;
		     line = strchr(line + 1, '\n')) {
			if (!ku) {
				ku = json_object_new_array();
				uu = json_object_new_array();
			}
			json_object_array_add(ku, json_object_new_uint64(k));
			json_object_array_add(uu, json_object_new_uint64(u));
		}
		if (ku) {
			json_object_object_add(usage, "percpu_kernel", ku);
			json_object_object_add(usage, "percpu_user", uu);
		}
		/* cpuacct.stat counts clock ticks. */
		long hz = sysconf(_SC_CLK_TCK);
		if (hz > 0 && cgf_file_kv(acct, "cpuacct.stat", "user", &user))
			user *= 1000000000ull / (uint64_t)hz;
		if (hz > 0 && cgf_file_kv(acct, "cpuacct.stat", "system", &sys))
			sys *= 1000000000ull / (uint64_t)hz;
	} else if (cgf_any_kv(lv, "cpu.stat", "usage_usec", &total)) {
		put_nz(usage, "total", total * 1000);
		cgf_any_kv(lv, "cpu.stat", "user_usec", &user);
		cgf_any_kv(lv, "cpu.stat", "system_usec", &sys);
		user *= 1000;
		sys *= 1000;
	}
	put_u64(usage, "kernel", sys);
	put_u64(usage, "user", user);
	if (cgf_any_kv(lv, "cpu.stat", "nr_periods", &v))
		put_nz(thr, "periods", v);
	if (cgf_any_kv(lv, "cpu.stat", "nr_throttled", &v))
		put_nz(thr, "throttledPeriods", v);
	if (cgf_any_kv(lv, "cpu.stat", "throttled_time", &v))
		put_nz(thr, "throttledTime", v);
	else if (cgf_any_kv(lv, "cpu.stat", "throttled_usec", &v))
		put_nz(thr, "throttledTime", v * 1000);
}

/* "0-3,5" as [0,1,2,3,5]. */
static json_object *range_list(const char *s)
{
	json_object *a = json_object_new_array();
	unsigned lo, hi;
	int used;
	for (const char *p = s; p && sscanf(p, "%u%n", &lo, &used) == 1; p += used) {
		hi = lo;
		if (p[used] == '-' && sscanf(p + used + 1, "%u", &hi) == 1)
			used += 1 + (int)strspn(p + used + 1, "0123456789");
		for (unsigned x = lo; x <= hi && json_object_array_length(a) < 65536; x++)
			json_object_array_add(a, json_object_new_uint64(x));
		if (p[used] != ',')
			break;
		used++;
	}
	return a;
}

static void stats_cpuset(char *const *lv, json_object *data)
{
	json_object *cs = obj_add(data, "cpuset");
	const char *l = cgf_leaf_with(lv, "cpuset.cpus.effective");
	bool v2 = l && !cgf_has_file(l, "cpuset.cpu_exclusive");
	if (!v2)
		l = cgf_leaf_with(lv, "cpuset.cpus");
	if (!l)
		return;
	static const char *const flags[] = {
	    "cpu_exclusive",   "mem_hardwall",	     "mem_exclusive",
	    "memory_migrate",  "memory_spread_page", "memory_spread_slab",
	    "memory_pressure", "sched_load_balance", "sched_relax_domain_level"};
	_cleanup_free_ char *cpus = cgf_slurp(l, v2 ? "cpuset.cpus.effective" : "cpuset.cpus");
	_cleanup_free_ char *mems = cgf_slurp(l, v2 ? "cpuset.mems.effective" : "cpuset.mems");
	json_object_object_add(cs, "cpus", range_list(cpus));
	json_object_object_add(cs, "mems", range_list(mems));
	for (size_t i = 0; !v2 && i < ARRAY_SIZE(flags); i++) {
		char f[64];
		snprintf(f, sizeof(f), "cpuset.%s", flags[i]);
		_cleanup_free_ char *s = cgf_slurp(l, f);
		if (s)
			json_object_object_add(cs, flags[i], json_object_new_int64(atoll(s)));
	}
}

/* {"limit","usage","max","failcnt"} of a v1 memory counter family ("memory.memsw"). */
static json_object *mem_entry_v1(const char *l, const char *pfx)
{
	json_object *e = json_object_new_object();
	char f[64];
	uint64_t lim = 0, use = 0, max = 0, fail = 0;
	snprintf(f, sizeof(f), "%s.limit_in_bytes", pfx);
	cgf_file_u64(l, f, &lim);
	snprintf(f, sizeof(f), "%s.usage_in_bytes", pfx);
	cgf_file_u64(l, f, &use);
	snprintf(f, sizeof(f), "%s.max_usage_in_bytes", pfx);
	cgf_file_u64(l, f, &max);
	snprintf(f, sizeof(f), "%s.failcnt", pfx);
	cgf_file_u64(l, f, &fail);
	put_u64(e, "limit", lim);
	put_nz(e, "usage", use);
	put_nz(e, "max", max);
	put_u64(e, "failcnt", fail);
	return e;
}

static void stats_memory(char *const *lv, json_object *data)
{
	json_object *mem = obj_add(data, "memory");
	const char *l = cgf_leaf_with(lv, "memory.usage_in_bytes");
	bool v1 = l != NULL;
	if (!v1 && !(l = cgf_leaf_with(lv, "memory.current")))
		return;
	_cleanup_free_ char *stat = cgf_slurp(l, "memory.stat");
	uint64_t cache = 0;
	if (stat && cgf_kv_get(stat, v1 ? "cache" : "file", &cache))
		put_nz(mem, "cache", cache);
	if (v1) {
		json_object_object_add(mem, "usage", mem_entry_v1(l, "memory"));
		json_object_object_add(mem, "swap", mem_entry_v1(l, "memory.memsw"));
		json_object_object_add(mem, "kernel", mem_entry_v1(l, "memory.kmem"));
		json_object_object_add(mem, "kernelTCP", mem_entry_v1(l, "memory.kmem.tcp"));
	} else {
		uint64_t use = 0, lim = 0, peak = 0, fail = 0, suse = 0, slim = 0, speak = 0;
		cgf_file_u64(l, "memory.current", &use);
		cgf_file_u64(l, "memory.max", &lim);
		cgf_file_u64(l, "memory.peak", &peak);
		cgf_file_kv(l, "memory.events", "max", &fail);
		json_object *u = obj_add(mem, "usage");
		put_u64(u, "limit", lim);
		put_nz(u, "usage", use);
		put_nz(u, "max", peak);
		put_u64(u, "failcnt", fail);
		/* As runc: v2 swap figures are made memory+swap, the meaning they have on v1. */
		if (cgf_file_u64(l, "memory.swap.current", &suse)) {
			cgf_file_u64(l, "memory.swap.max", &slim);
			cgf_file_u64(l, "memory.swap.peak", &speak);
			suse += use;
			if (slim != UINT64_MAX)
				slim = lim == UINT64_MAX ? lim : slim + lim;
		}
		json_object *s = obj_add(mem, "swap");
		put_u64(s, "limit", slim);
		put_nz(s, "usage", suse);
		put_nz(s, "max", speak);
		put_u64(s, "failcnt", 0);
		/* v2 has no separate kernel memory counters. */
		for (int k = 0; k < 2; k++) {
			json_object *e = obj_add(mem, k ? "kernelTCP" : "kernel");
			put_u64(e, "limit", 0);
			put_u64(e, "failcnt", 0);
		}
	}
	json_object *raw = obj_add(mem, "raw");
	for (char *p = stat, *eol; p && *p; p = eol ? eol + 1 : NULL) {
		eol = strchr(p, '\n');
		char key[128];
		unsigned long long x;
		if (sscanf(p, "%127s %llu", key, &x) == 2)
			put_u64(raw, key, x);
	}
}

static void stats_pids(char *const *lv, json_object *data)
{
	json_object *p = obj_add(data, "pids");
	const char *l = cgf_leaf_with(lv, "pids.current");
	uint64_t cur = 0, max = 0;
	cgf_file_u64(l, "pids.current", &cur);
	cgf_file_u64(l, "pids.max", &max);
	put_nz(p, "current", cur);
	put_nz(p, "limit", max == UINT64_MAX ? 0 : max);
}

static void blk_entry(json_object **arr, unsigned maj, unsigned min, const char *op, uint64_t v)
{
	json_object *e = json_object_new_object();
	put_nz(e, "major", maj);
	put_nz(e, "minor", min);
	if (op && *op)
		json_object_object_add(e, "op", json_object_new_string(op));
	put_nz(e, "value", v);
	if (!*arr)
		*arr = json_object_new_array();
	json_object_array_add(*arr, e);
}

static void stats_blkio(char *const *lv, json_object *data)
{
	json_object *b = obj_add(data, "blkio");
	const char *l = cgf_leaf_with(lv, "blkio.throttle.io_serviced");
	if (l) {
		/* CFQ/BFQ files first; without those schedulers only the throttle counters exist.
		 */
		static const char *const map[][3] = {
		    {"ioServiceBytesRecursive", "blkio.io_service_bytes_recursive",
		     "blkio.throttle.io_service_bytes_recursive"},
		    {"ioServicedRecursive", "blkio.io_serviced_recursive",
		     "blkio.throttle.io_serviced_recursive"},
		    {"ioQueueRecursive", "blkio.io_queued_recursive", NULL},
		    {"ioServiceTimeRecursive", "blkio.io_service_time_recursive", NULL},
		    {"ioWaitTimeRecursive", "blkio.io_wait_time_recursive", NULL},
		    {"ioMergedRecursive", "blkio.io_merged_recursive", NULL},
		    {"ioTimeRecursive", "blkio.time_recursive", NULL},
		    {"sectorsRecursive", "blkio.sectors_recursive", NULL},
		};
		for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
			_cleanup_free_ char *s = cgf_slurp(l, map[i][1]);
			if (!s && map[i][2])
				s = cgf_slurp(l, map[i][2]);
			json_object *arr = NULL;
			for (char *p = s, *eol; p && *p; p = eol ? eol + 1 : NULL) {
				eol = strchr(p, '\n');
				unsigned maj, min;
				char op[32];
				unsigned long long v;
				if (sscanf(p, "%u:%u %31s %llu", &maj, &min, op, &v) == 4)
					blk_entry(&arr, maj, min, op, v);
				else if (sscanf(p, "%u:%u %llu", &maj, &min, &v) == 3)
					blk_entry(&arr, maj, min, NULL, v);
			}
			if (arr)
				json_object_object_add(b, map[i][0], arr);
		}
		return;
	}
	if (!(l = cgf_leaf_with(lv, "io.stat")))
		return;
	_cleanup_free_ char *s = cgf_slurp(l, "io.stat");
	json_object *bytes = NULL, *ios = NULL;
	for (char *p = s, *eol; p && *p; p = eol ? eol + 1 : NULL) {
		eol = strchr(p, '\n');
		if (eol)
			*eol = 0;
		unsigned maj, min;
		if (sscanf(p, "%u:%u", &maj, &min) != 2)
			continue;
		uint64_t rb = 0, wb = 0, ri = 0, wi = 0;
		for (char *t = strchr(p, ' '); t; t = strchr(t + 1, ' ')) {
			unsigned long long v;
			char k[16];
			if (sscanf(t + 1, "%15[a-z]=%llu", k, &v) != 2)
				continue;
			if (!strcmp(k, "rbytes"))
				rb = v;
			else if (!strcmp(k, "wbytes"))
				wb = v;
			else if (!strcmp(k, "rios"))
				ri = v;
			else if (!strcmp(k, "wios"))
				wi = v;
		}
		blk_entry(&bytes, maj, min, "Read", rb);
		blk_entry(&bytes, maj, min, "Write", wb);
		blk_entry(&ios, maj, min, "Read", ri);
		blk_entry(&ios, maj, min, "Write", wi);
	}
	if (bytes) {
		json_object_object_add(b, "ioServiceBytesRecursive", bytes);
		json_object_object_add(b, "ioServicedRecursive", ios);
	}
}

/* Per page size ("2MB"), from whichever hierarchy has the hugetlb controller. */
static void stats_hugetlb(char *const *lv, json_object *data)
{
	json_object *h = obj_add(data, "hugetlb");
	for (size_t i = 0; lv && lv[i]; i++) {
		_cleanup_closedir_ DIR *d = opendir(lv[i]);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			char size[32], rest[32];
			if (sscanf(e->d_name, "hugetlb.%31[^.].%31s", size, rest) != 2)
				continue;
			bool v1 = !strcmp(rest, "usage_in_bytes");
			if ((!v1 && strcmp(rest, "current")) || json_object_object_get(h, size))
				continue;
			json_object *o = obj_add(h, size);
			char f[96];
			uint64_t use = 0, max = 0, fail = 0;
			cgf_file_u64(lv[i], e->d_name, &use);
			if (v1) {
				snprintf(f, sizeof(f), "hugetlb.%s.max_usage_in_bytes", size);
				cgf_file_u64(lv[i], f, &max);
				snprintf(f, sizeof(f), "hugetlb.%s.failcnt", size);
				cgf_file_u64(lv[i], f, &fail);
			} else {
				snprintf(f, sizeof(f), "hugetlb.%s.events", size);
				cgf_file_kv(lv[i], f, "max", &fail);
			}
			put_nz(o, "usage", use);
			put_nz(o, "max", max);
			put_u64(o, "failcnt", fail);
		}
	}
}

static json_object *stats_of(char *const *lv)
{
	json_object *data = json_object_new_object();
	stats_cpu(lv, data);
	stats_cpuset(lv, data);
	stats_memory(lv, data);
	stats_pids(lv, data);
	stats_blkio(lv, data);
	stats_hugetlb(lv, data);
	json_object_object_add(data, "intel_rdt", json_object_new_object());
	json_object_object_add(data, "network_interfaces", NULL);
	return data;
}

int container_stats(const char *root, const char *id, struct json_object **data)
{
	_cleanup_state_ struct oci_state st = {0};
	int r = cgf_load(root, id, &st, "read its statistics");
	if (r < 0)
		return r;
	if (st.status == OCI_STOPPED)
		return herr_set(ESRCH, "container \"%s\" is not running", id);
	*data = stats_of(st.cgroup_leaves);
	return 0;
}

/* ---- events ---- */

static int emit(const char *type, const char *id, json_object *data, container_event_fn fn,
		void *arg)
{
	_cleanup_json_ json_object *ev = json_object_new_object();
	json_object_object_add(ev, "type", json_object_new_string(type));
	json_object_object_add(ev, "id", json_object_new_string(id));
	if (data)
		json_object_object_add(ev, "data", data);
	return fn(ev, arg);
}

/*
 * OOM kills in the memory cgroup. v1: an eventfd registered through
 * cgroup.event_control for memory.oom_control, which the kernel signals on
 * OOM (and when the cgroup goes away). v2: memory.events raises POLLPRI when
 * its oom_kill counter moves.
 */
struct oom_watch {
	int fd; /* to poll, or -1 */
	short events;
	bool v1;
	const char *leaf;
	uint64_t kills; /* v2: oom_kill seen so far */
};

static int oom_watch_open(struct oom_watch *w, char *const *lv)
{
	*w = (struct oom_watch){.fd = -1};
	char p[4200];
	if ((w->leaf = cgf_leaf_with(lv, "memory.oom_control"))) {
		snprintf(p, sizeof(p), "%s/memory.oom_control", w->leaf);
		_cleanup_close_ int ctl = open(p, O_RDONLY | O_CLOEXEC);
		if (ctl < 0)
			return herr_sys("open %s", p);
		_cleanup_close_ int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (efd < 0)
			return herr_sys("eventfd");
		char reg[32];
		snprintf(reg, sizeof(reg), "%d %d", efd, ctl);
		int r = cgf_write_knob(w->leaf, "cgroup.event_control", reg);
		if (r < 0)
			return r;
		w->v1 = true;
		w->fd = take_fd(efd);
		w->events = POLLIN;
		return 0;
	}
	if ((w->leaf = cgf_leaf_with(lv, "memory.events"))) {
		snprintf(p, sizeof(p), "%s/memory.events", w->leaf);
		if ((w->fd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
			return herr_sys("open %s", p);
		w->events = POLLPRI;
		char buf[512];
		ssize_t n = pread(w->fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = 0;
		cgf_kv_get(buf, "oom_kill", &w->kills);
	}
	return 0;
}

/* How many OOM events arrived since the last call (without blocking). */
static unsigned oom_watch_read(struct oom_watch *w)
{
	if (w->fd < 0)
		return 0;
	if (w->v1) {
		uint64_t n = 0;
		if (read(w->fd, &n, sizeof(n)) != sizeof(n))
			return 0;
		/* The eventfd fires also when the cgroup is removed. */
		return cgf_has_file(w->leaf, "cgroup.event_control") ? (unsigned)n : 0;
	}
	char buf[512];
	uint64_t k = 0;
	ssize_t n = pread(w->fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = 0;
	if (!cgf_kv_get(buf, "oom_kill", &k) || k <= w->kills)
		return 0;
	unsigned d = (unsigned)(k - w->kills);
	w->kills = k;
	return d;
}

static int oom_emit(struct oom_watch *w, const char *id, container_event_fn fn, void *arg)
{
	for (unsigned n = oom_watch_read(w); n; n--) {
		int r = emit("oom", id, NULL, fn, arg);
		if (r < 0)
			return r;
	}
	return 0;
}

int container_events(const char *root, const char *id, bool stats_only, unsigned interval_ms,
		     container_event_fn fn, void *arg)
{
	_cleanup_state_ struct oci_state st = {0};
	int r = cgf_load(root, id, &st, stats_only ? "read its statistics" : "follow its events");
	if (r < 0)
		return r;
	if (st.status == OCI_STOPPED)
		return herr_set(ESRCH, "container \"%s\" is not running", id);
	if (stats_only)
		return emit("stats", id, stats_of(st.cgroup_leaves), fn, arg);
	_cleanup_close_ int pidfd = pidfd_open(st.pid, 0);
	if (pidfd < 0 || proc_start_time(st.pid) != st.start_time)
		return herr_set(ESRCH, "container \"%s\" is not running", id);
	struct oom_watch w;
	r = oom_watch_open(&w, st.cgroup_leaves);
	_cleanup_close_ int oomfd = w.fd;
	if (r < 0)
		return herr_ctx(r, "container \"%s\": cannot watch for OOM kills", id);
	if (!interval_ms)
		interval_ms = 5000;
	long long next = cgf_now_ms() + interval_ms;
	for (;;) {
		struct pollfd pf[2] = {{.fd = pidfd, .events = POLLIN},
				       {.fd = oomfd, .events = w.events}};
		long long left = next - cgf_now_ms();
		int n = poll(pf, 2, left > 0 ? (int)(left < INT32_MAX ? left : INT32_MAX) : 0);
		if (n < 0 && errno != EINTR)
			return herr_sys("poll");
		/* An OOM kill of the init comes before its exit: report it first. */
		if (n > 0 && (pf[1].revents || pf[0].revents) &&
		    (r = oom_emit(&w, id, fn, arg)) < 0)
			return r;
		if (n > 0 && pf[0].revents)
			return 0;
		if (cgf_now_ms() >= next) {
			if ((r = emit("stats", id, stats_of(st.cgroup_leaves), fn, arg)) < 0)
				return r;
			next += interval_ms;
			if (next < cgf_now_ms())
				next = cgf_now_ms() + interval_ms;
		}
	}
}
