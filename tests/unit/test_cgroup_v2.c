/*
 * cgroup v2: the device rule list, the applier's file writes and conversions
 * (against a fake cgroup directory of plain files), and, as root on a host with
 * a cgroup2 mount, the real mechanisms: the BPF device program on a forked
 * child, cgroup.subtree_control, hugetlb limits and `unified` keys. The real
 * tests work in <cgroup2>/hull-test/unit-<pid> and remove what they made.
 */
#include "tap.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "runtime/cgroup-resources.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static char fake[64];

static void put(const char *rel, const char *val)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", fake, rel);
	FILE *f = fopen(p, "we");
	if (f) {
		fputs(val, f);
		fclose(f);
	}
}

static const char *get_at(const char *dir, const char *rel)
{
	static char buf[512];
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	buf[0] = 0;
	FILE *f = fopen(p, "re");
	if (!f)
		return "(absent)";
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	fclose(f);
	return buf;
}

static const char *get(const char *rel)
{
	return get_at(fake, rel);
}

static const char *const leaf_files[] = {
    "memory.max",  "memory.swap.max", "memory.low",	 "memory.current",
    "memory.high", "cpu.weight",      "cpu.max",	 "cpu.max.burst",
    "cpu.idle",	   "cpuset.cpus",     "cpuset.mems",	 "pids.max",
    "io.weight",   "io.max",	      "hugetlb.2MB.max", "rdma.max",
};

/* A fake hierarchy: root with cgroup.controllers, and a leaf of empty files. */
static void fake_reset(const char *controllers)
{
	char p[256];
	put("cgroup.controllers", controllers);
	put("cgroup.subtree_control", "");
	snprintf(p, sizeof(p), "%s/leaf", fake);
	mkdir(p, 0755);
	for (size_t i = 0; i < ARRAY_SIZE(leaf_files); i++) {
		snprintf(p, sizeof(p), "leaf/%s", leaf_files[i]);
		put(p, "");
	}
}

static int apply(const struct oci_resources *r, bool update, bool partial)
{
	char leaf[128];
	snprintf(leaf, sizeof(leaf), "%s/leaf", fake);
	herr_clear();
	return cgroup_v2_apply(leaf, r, NULL, 0, update, partial);
}

static void test_rules(void)
{
	struct oci_dev_rule spec[] = {{false, 'a', -1, -1, "rwm"}, {true, 'c', 10, 229, "rwm"}};
	struct oci_resources r = {.devices = spec, .n_devices = 2};
	struct oci_dev_rule *v = NULL;
	size_t n = 0;
	is_int(cgroup_device_rules(NULL, &r, &v, &n), 0, "rules: spec + defaults");
	is_int(n, 14, "rules: implicit deny, 2 of the spec, 11 defaults");
	ok(v && !v[0].allow && v[0].type == 'a', "rules: start with deny all");
	ok(v && v[2].allow && v[2].major == 10 && v[2].minor == 229, "rules: spec rules in order");
	ok(v && v[3].type == 'c' && v[3].major == -1 && !strcmp(v[3].access, "m"),
	   "rules: defaults follow the spec (mknod of any char device first)");
	ok(v && v[n - 1].major == 10 && v[n - 1].minor == 200, "rules: /dev/net/tun last");
	free(v);

	/* A linux.devices node at a default's path keeps the default rule (runc drops it). */
	struct oci_device node = {.path = "/dev/null", .type = 'c', .major = 1, .minor = 3};
	struct oci_config cfg = {0};
	cfg.linux.devices = &node;
	cfg.linux.n_devices = 1;
	is_int(cgroup_device_rules(&cfg, NULL, &v, &n), 0, "rules: no resources");
	bool has_null = false;
	for (size_t i = 0; i < n; i++)
		has_null |= v[i].major == 1 && v[i].minor == 3;
	ok(n == 12 && has_null, "rules: /dev/null kept with a linux.devices node there");
	free(v);

	struct oci_dev_rule bad_type[] = {{true, 'x', 1, 3, "rwm"}};
	r = (struct oci_resources){.devices = bad_type, .n_devices = 1};
	ok(cgroup_device_rules(NULL, &r, &v, &n) == -EINVAL, "rules: bad type refused");
	has_prefix(herr_msg(), "linux.resources.devices[0]: type must be",
		   "rules: bad type message");
	struct oci_dev_rule bad_acc[] = {{true, 'c', 1, 3, "rwx"}};
	r = (struct oci_resources){.devices = bad_acc, .n_devices = 1};
	ok(cgroup_device_rules(NULL, &r, &v, &n) == -EINVAL, "rules: bad access refused");
	struct oci_dev_rule bad_major[] = {{true, 'c', -5, 3, "rw"}};
	r = (struct oci_resources){.devices = bad_major, .n_devices = 1};
	ok(cgroup_device_rules(NULL, &r, &v, &n) == -EINVAL, "rules: negative major refused");

	struct oci_dev_rule hole[] = {{true, 'c', 1, -1, "rw"}, {false, 'c', 1, 3, "r"}};
	r = (struct oci_resources){.devices = hole, .n_devices = 2};
	ok(cgroup_device_rules(NULL, &r, &v, &n) == -EINVAL, "rules: hole in a wildcard refused");
	has_prefix(herr_msg(), "linux.resources.devices[1] (deny c 1:3 r): cannot punch a hole",
		   "rules: hole message names the rule");
}

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static void test_apply_fake(void)
{
	snprintf(fake, sizeof(fake), "/tmp/hull-test-cg2-XXXXXX");
	if (!mkdtemp(fake)) {
		ok(0, "mkdtemp");
		return;
	}
	const char *all = "cpuset cpu io memory hugetlb pids rdma misc";
	fake_reset(all);

	struct oci_throttle_device rbps = {8, 0, 1048576};
	struct oci_hugepage_limit huge = {"2MB", 4194304};
	struct oci_rdma_limit rdma = {
	    .device = "mlx4_0", .has_hca_handles = true, .hca_handles = 2};
	struct oci_kv uni = {"memory.high", "1G"};
	struct oci_resources r = {0};
	r.memory.has_limit = r.memory.has_swap = r.memory.has_reservation = true;
	r.memory.limit = 1 << 30;
	r.memory.swap = 3 << 29;
	r.memory.reservation = 1 << 29;
	r.memory.has_swappiness = r.memory.has_kernel = true; /* v1 only: ignored */
	r.cpu.has_shares = r.cpu.has_quota = r.cpu.has_period = r.cpu.has_burst = true;
	r.cpu.shares = 1024;
	r.cpu.quota = 50000;
	r.cpu.period = 100000;
	r.cpu.burst = 1000;
	r.cpu.has_realtime_runtime = true; /* v1 only: ignored */
	r.cpu.realtime_runtime = 1000;
	r.cpu.has_idle = true;
	r.cpu.idle = 1;
	r.cpu.cpus = "0-1";
	r.cpu.mems = "0";
	r.pids.has_limit = true;
	r.pids.limit = 100;
	r.block_io.has_weight = true;
	r.block_io.weight = 500;
	r.block_io.throttle_read_bps = (struct oci_throttle_list){&rbps, 1};
	r.hugepage_limits = &huge;
	r.n_hugepage_limits = 1;
	r.rdma = &rdma;
	r.n_rdma = 1;
	r.unified = &uni;
	r.n_unified = 1;
	is_int(apply(&r, false, false), 0, "apply: every field (%s)", herr_msg());
	is_str(get("leaf/memory.max"), "1073741824", "memory.max");
	is_str(get("leaf/memory.swap.max"), "536870912", "memory.swap.max = swap - limit");
	is_str(get("leaf/memory.low"), "536870912", "memory.low from reservation");
	is_str(get("leaf/cpu.weight"), "39", "cpu.weight from shares 1024");
	is_str(get("leaf/cpu.max"), "50000 100000", "cpu.max quota period");
	is_str(get("leaf/cpu.max.burst"), "1000", "cpu.max.burst");
	is_str(get("leaf/cpu.idle"), "1", "cpu.idle");
	is_str(get("leaf/cpuset.cpus"), "0-1", "cpuset.cpus");
	is_str(get("leaf/cpuset.mems"), "0", "cpuset.mems");
	is_str(get("leaf/pids.max"), "100", "pids.max");
	is_str(get("leaf/io.weight"), "4950", "io.weight from blkio weight 500");
	is_str(get("leaf/io.max"), "8:0 rbps=1048576", "io.max throttle");
	is_str(get("leaf/hugetlb.2MB.max"), "4194304", "hugetlb.2MB.max");
	is_str(get("leaf/rdma.max"), "mlx4_0 hca_handle=2", "rdma.max");
	is_str(get("leaf/memory.high"), "1G", "unified key written");
	/* Plain files keep only the last write: the last controller enabled. */
	is_str(get("cgroup.subtree_control"), "+rdma", "root subtree_control written");

	/* Conversion bounds. */
	struct oci_resources c = {0};
	c.cpu.has_shares = true;
	const uint64_t shares[][2] = {{2, 1}, {262144, 10000}, {1, 1}, {1 << 20, 10000}, {512, 20}};
	for (size_t i = 0; i < ARRAY_SIZE(shares); i++) {
		c.cpu.shares = shares[i][0];
		apply(&c, false, false);
		is_int(atoll(get("leaf/cpu.weight")), shares[i][1], "shares %ju -> cpu.weight",
		       (uintmax_t)shares[i][0]);
	}
	c = (struct oci_resources){0};
	c.block_io.has_weight = true;
	const uint16_t w[][2] = {{10, 1}, {1000, 10000}, {100, 910}};
	for (size_t i = 0; i < ARRAY_SIZE(w); i++) {
		c.block_io.weight = w[i][0];
		apply(&c, false, false);
		is_int(atoll(get("leaf/io.weight")), w[i][1], "blkio weight %u -> io.weight",
		       w[i][0]);
	}

	/* Memory edge cases. */
	c = (struct oci_resources){0};
	c.memory.has_limit = true;
	c.memory.limit = -1;
	put("leaf/memory.swap.max", "");
	is_int(apply(&c, false, false), 0, "limit -1");
	is_str(get("leaf/memory.max"), "max", "limit -1 -> memory.max max");
	is_str(get("leaf/memory.swap.max"), "max", "limit -1, no swap -> swap max too");
	c.memory.limit = 1000;
	c.memory.has_swap = true;
	c.memory.swap = 999;
	ok(apply(&c, false, false) == -EINVAL, "swap below limit refused");
	has_prefix(herr_msg(), "linux.resources.memory.swap: 999 is below", "swap below message");
	c.memory.swap = -1;
	is_int(apply(&c, false, false), 0, "swap -1");
	is_str(get("leaf/memory.swap.max"), "max", "swap -1 -> max");
	c.memory.has_limit = false;
	c.memory.swap = 5000;
	ok(apply(&c, false, false) == -EINVAL, "swap without a limit refused on create");
	put("leaf/memory.max", "2000\n");
	is_int(apply(&c, true, false), 0, "update: swap with the current limit");
	is_str(get("leaf/memory.swap.max"), "3000", "update: swap.max from memory.max");
	c = (struct oci_resources){0};
	c.memory.has_limit = c.memory.check_before_update = true;
	c.memory.limit = 1000;
	put("leaf/memory.current", "2000\n");
	ok(apply(&c, true, false) == -EBUSY, "checkBeforeUpdate: below usage refused");
	c.memory.limit = -2;
	ok(apply(&c, false, false) == -EINVAL, "limit -2 refused");

	/* cpu.max: a period alone keeps the quota. */
	c = (struct oci_resources){0};
	c.cpu.has_period = true;
	c.cpu.period = 50000;
	put("leaf/cpu.max", "20000 100000\n");
	is_int(apply(&c, true, false), 0, "update: period only");
	is_str(get("leaf/cpu.max"), "20000 50000", "period only keeps the quota");
	c.cpu.has_quota = true;
	c.cpu.quota = -1;
	apply(&c, true, false);
	is_str(get("leaf/cpu.max"), "max 50000", "quota -1 -> max");
	c = (struct oci_resources){0};
	c.pids.has_limit = true;
	apply(&c, false, false);
	is_str(get("leaf/pids.max"), "max", "pids 0 -> max");

	/* `unified` errors. */
	struct oci_kv bad = {"memory.foo", "1"};
	c = (struct oci_resources){.unified = &bad, .n_unified = 1};
	ok(apply(&c, false, false) == -ENOENT, "unified: unknown key refused");
	is_str(herr_msg(), "linux.resources.unified: \"memory.foo\": no such cgroup file",
	       "unified: unknown key message");
	struct oci_kv slash = {"../memory.max", "1"};
	c = (struct oci_resources){.unified = &slash, .n_unified = 1};
	ok(apply(&c, false, false) == -EINVAL, "unified: a path refused");

	/* A controller the hierarchy lacks: an error, or left to v1 when partial. */
	fake_reset("hugetlb");
	c = (struct oci_resources){.rdma = &rdma, .n_rdma = 1};
	c.memory.has_limit = true;
	c.memory.limit = 4096;
	c.hugepage_limits = &huge;
	c.n_hugepage_limits = 1;
	ok(apply(&c, false, false) == -EOPNOTSUPP, "full v2: missing controller refused");
	has_prefix(herr_msg(), "linux.resources.memory: the memory controller is not available",
		   "missing controller message");
	is_int(apply(&c, false, true), 0, "partial: missing controllers left to v1");
	is_str(get("leaf/memory.max"), "", "partial: memory.max untouched");
	is_str(get("leaf/rdma.max"), "", "partial: rdma.max untouched");
	is_str(get("leaf/hugetlb.2MB.max"), "4194304", "partial: hugetlb applied");
	is_str(get("cgroup.subtree_control"), "+hugetlb", "partial: only hugetlb enabled");

	if (nftw(fake, rm_entry, 8, FTW_DEPTH | FTW_PHYS) != 0)
		tap_diag("could not remove %s", fake);
}

/* ---- real cgroup2 ---- */

static char cg2[64], base[128], leaf[192];
static bool made_base;

static bool find_cgroup2(void)
{
	struct statfs sf;
	const char *c[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"};
	for (size_t i = 0; i < ARRAY_SIZE(c); i++)
		if (statfs(c[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC) {
			snprintf(cg2, sizeof(cg2), "%s", c[i]);
			return true;
		}
	return false;
}

static int wr_file(const char *dir, const char *file, const char *val)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, file);
	int fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, val, strlen(val));
	int e = errno;
	close(fd);
	return n < 0 ? -e : 0;
}

/*
 * Run a child in the leaf that opens each path with its flags; bit i of the
 * exit status is set when open i failed with EPERM (other failures: 0x80).
 */
static int probe(const char *const *paths, const int *flags, size_t n)
{
	pid_t pid = fork();
	if (pid == 0) {
		if (wr_file(leaf, "cgroup.procs", "0") < 0)
			_exit(0x80);
		int res = 0;
		for (size_t i = 0; i < n; i++) {
			int fd = open(paths[i], flags[i] | O_CLOEXEC);
			if (fd >= 0)
				close(fd);
			else if (errno == EPERM)
				res |= 1 << i;
			else
				res |= 0x80;
		}
		_exit(res);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int attached_programs(void)
{
	int dfd = open(leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint32_t ids[8];
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)dfd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uintptr_t)ids;
	a.query.prog_cnt = ARRAY_SIZE(ids);
	int rc = (int)syscall(SYS_bpf, BPF_PROG_QUERY, &a, sizeof(a));
	close(dfd);
	return rc < 0 ? -1 : (int)a.query.prog_cnt;
}

static int attach(const struct oci_dev_rule *rules, size_t n)
{
	int dfd = open(leaf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	herr_clear();
	int rc = cgroup_v2_devices_attach(dfd, rules, n);
	close(dfd);
	return rc;
}

static void test_bpf(void)
{
	const char *paths[] = {"/dev/null", "/dev/full", "/dev/full", "/dev/kmsg"};
	const int flags[] = {O_RDWR, O_RDONLY, O_WRONLY, O_RDONLY};

	struct oci_dev_rule only_null[] = {{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "rwm"}};
	is_int(attach(only_null, 2), 0, "bpf: deny all, allow /dev/null (%s)", herr_msg());
	is_int(probe(paths, flags, 4), 0xe, "bpf: /dev/null opens, /dev/full and /dev/kmsg EPERM");

	struct oci_dev_rule deny_full_w[] = {{true, 'a', -1, -1, "rwm"}, {false, 'c', 1, 7, "w"}};
	is_int(attach(deny_full_w, 2), 0, "bpf: allow all, deny writing /dev/full");
	is_int(attached_programs(), 1, "bpf: the new program replaced the old one");
	is_int(probe(paths, flags, 4), 0x4, "bpf: only writing /dev/full is denied");

	struct oci_dev_rule spec[] = {{false, 'a', -1, -1, "rwm"}};
	struct oci_resources r = {.devices = spec, .n_devices = 1};
	struct oci_dev_rule *v = NULL;
	size_t n = 0;
	cgroup_device_rules(NULL, &r, &v, &n);
	is_int(attach(v, n), 0, "bpf: runc's default rules");
	is_int(probe(paths, flags, 4), 0x8, "bpf: defaults allow null and full, deny kmsg");
	free(v);

	/* Partial access: read-only /dev/null exception refuses a read-write open. */
	struct oci_dev_rule ro[] = {{false, 'a', -1, -1, "rwm"}, {true, 'c', 1, 3, "r"}};
	const char *p2[] = {"/dev/null", "/dev/null"};
	const int f2[] = {O_RDONLY, O_RDWR};
	is_int(attach(ro, 2), 0, "bpf: read-only /dev/null");
	is_int(probe(p2, f2, 2), 0x2, "bpf: read allowed, read-write denied");
	is_int(attached_programs(), 1, "bpf: still one program");

	/* Through the applier: a hybrid host's v1 devices controller has the rules. */
	const char *p3[] = {"/dev/null", "/dev/null", "/dev/kmsg"};
	const int f3[] = {O_RDONLY, O_RDWR, O_RDONLY};
	cgroup_device_rules(NULL, &r, &v, &n);
	herr_clear();
	is_int(cgroup_v2_apply(leaf, NULL, v, n, true, true), 0, "apply partial: devices");
	is_int(probe(p3, f3, 3), 0x6, "apply partial: program left as it was");
	is_int(cgroup_v2_apply(leaf, NULL, v, n, true, false), 0, "apply full: devices (%s)",
	       herr_msg());
	is_int(probe(p3, f3, 3), 0x4, "apply full: runc's defaults in force");
	is_int(attached_programs(), 1, "apply full: one program");
	free(v);
}

static bool has_word(const char *list, const char *w)
{
	char buf[512];
	snprintf(buf, sizeof(buf), " %s ", list);
	char pat[64];
	snprintf(pat, sizeof(pat), " %s ", w);
	return strstr(buf, pat) != NULL;
}

/* Pure v2 only: every knob the guest's kernel has, read back from the kernel. */
static void test_real_v2_all(void)
{
	struct oci_kv high = {"memory.high", "104857600"};
	struct oci_resources r = {.unified = &high, .n_unified = 1};
	r.memory.has_limit = r.memory.has_swap = r.memory.has_reservation = true;
	r.memory.limit = 64 << 20;
	r.memory.swap = 128 << 20;
	r.memory.reservation = 32 << 20;
	r.cpu.has_shares = r.cpu.has_quota = r.cpu.has_period = r.cpu.has_burst = true;
	r.cpu.shares = 1024;
	r.cpu.quota = 50000;
	r.cpu.period = 100000;
	r.cpu.burst = 1000;
	r.cpu.cpus = "0";
	r.cpu.mems = "0";
	r.block_io.has_weight = true;
	r.block_io.weight = 500;
	herr_clear();
	is_int(cgroup_v2_apply(leaf, &r, NULL, 0, false, false), 0, "v2: all knobs (%s)",
	       herr_msg());
	is_str(get_at(leaf, "memory.low"), "33554432", "v2: memory.low");
	const char *sw = get_at(leaf, "memory.swap.max"); /* absent without swap accounting */
	ok(!strcmp(sw, "67108864") || !strcmp(sw, "(absent)"), "v2: memory.swap.max %s", sw);
	is_str(get_at(leaf, "memory.high"), "104857600", "v2: unified memory.high");
	is_str(get_at(leaf, "cpu.weight"), "39", "v2: cpu.weight");
	is_str(get_at(leaf, "cpu.max"), "50000 100000", "v2: cpu.max");
	if (strcmp(get_at(leaf, "cpu.max.burst"), "(absent)"))
		is_str(get_at(leaf, "cpu.max.burst"), "1000", "v2: cpu.max.burst");
	is_str(get_at(leaf, "cpuset.cpus"), "0", "v2: cpuset.cpus");
	is_str(get_at(leaf, "cpuset.mems"), "0", "v2: cpuset.mems");
	bool bfq = strcmp(get_at(leaf, "io.bfq.weight"), "(absent)") != 0;
	const char *iow = get_at(leaf, bfq ? "io.bfq.weight" : "io.weight");
	if (strcmp(iow, "(absent)"))
		is_str(iow, bfq ? "default 500" : "default 4950", "v2: io weight");

	/* An update of the period alone keeps the quota; a lower limit is refused. */
	struct oci_resources u = {0};
	u.cpu.has_period = true;
	u.cpu.period = 200000;
	is_int(cgroup_v2_apply(leaf, &u, NULL, 0, true, false), 0, "v2: update period");
	is_str(get_at(leaf, "cpu.max"), "50000 200000", "v2: quota kept");
	u = (struct oci_resources){0};
	u.cpu.cpus = "0-63";
	ok(cgroup_v2_apply(leaf, &u, NULL, 0, true, false) < 0, "v2: cpuset outside the host");
	has_prefix(herr_msg(), "linux.resources.cpu.cpus: write cpuset.cpus \"0-63\": ",
		   "v2: cpuset error names the field and file");
}

static void test_real_apply(void)
{
	char ctl[256];
	snprintf(ctl, sizeof(ctl), "%s", get_at(cg2, "cgroup.controllers"));
	bool hybrid = !has_word(ctl, "memory");
	char root_had[256], base_had[256];
	snprintf(root_had, sizeof(root_had), "%s", get_at(cg2, "cgroup.subtree_control"));
	snprintf(base_had, sizeof(base_had), "%s", get_at(base, "cgroup.subtree_control"));
	bool huge = has_word(ctl, "hugetlb") &&
		    access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK) == 0;

	struct oci_hugepage_limit hl = {"2MB", 2097152};
	struct oci_resources r = {0};
	if (huge) {
		r.hugepage_limits = &hl;
		r.n_hugepage_limits = 1;
	}
	r.memory.has_limit = true;
	r.memory.limit = 64 << 20;
	r.pids.has_limit = true;
	r.pids.limit = 50;
	herr_clear();
	if (hybrid) {
		ok(cgroup_v2_apply(leaf, &r, NULL, 0, false, false) == -EOPNOTSUPP,
		   "real: full v2 apply refuses memory on a hugetlb-only hierarchy");
		herr_clear();
		is_int(cgroup_v2_apply(leaf, &r, NULL, 0, false, true), 0,
		       "real: partial apply (%s)", herr_msg());
	} else {
		is_int(cgroup_v2_apply(leaf, &r, NULL, 0, false, false), 0, "real: apply (%s)",
		       herr_msg());
		is_str(get_at(leaf, "memory.max"), "67108864", "real: memory.max");
		is_str(get_at(leaf, "pids.max"), "50", "real: pids.max");
		ok(has_word(get_at(base, "cgroup.subtree_control"), "memory"),
		   "real: memory enabled in the parent");
		test_real_v2_all();
	}
	if (huge) {
		is_str(get_at(leaf, "hugetlb.2MB.max"), "2097152", "real: hugetlb.2MB.max");
		ok(has_word(get_at(base, "cgroup.subtree_control"), "hugetlb") &&
		       has_word(get_at(cg2, "cgroup.subtree_control"), "hugetlb"),
		   "real: hugetlb enabled from the root down");
		struct oci_kv kv = {"hugetlb.2MB.max", "4194304"};
		struct oci_resources u = {.unified = &kv, .n_unified = 1};
		is_int(cgroup_v2_apply(leaf, &u, NULL, 0, true, true), 0,
		       "real: unified key on the partial hierarchy");
		is_str(get_at(leaf, "hugetlb.2MB.max"), "4194304", "real: unified value written");
	} else {
		ok(1, "# SKIP no hugetlb controller or 2MB pages on cgroup2");
	}
	/* A controller this hierarchy has (on a hybrid host memory is a v1 one). */
	const char *key = hybrid ? "hugetlb.foo" : "memory.foo";
	struct oci_kv bad = {(char *)key, "1"};
	struct oci_resources u = {.unified = &bad, .n_unified = 1};
	herr_clear();
	ok(cgroup_v2_apply(leaf, &u, NULL, 0, false, hybrid) == -ENOENT,
	   "real: unknown unified key refused");
	char want[128];
	snprintf(want, sizeof(want), "linux.resources.unified: \"%s\": no such cgroup file", key);
	has_prefix(herr_msg(), want, "real: unknown unified key message");
	if (hybrid) {
		struct oci_kv v1key = {"memory.max", "1"};
		struct oci_resources u1 = {.unified = &v1key, .n_unified = 1};
		herr_clear();
		ok(cgroup_v2_apply(leaf, &u1, NULL, 0, false, true) == -ENOTSUP,
		   "real: a v1 controller's unified key needs cgroup v2");
		has_prefix(herr_msg(), "linux.resources.unified[\"memory.max\"]: needs cgroup v2",
			   "real: a v1 controller's unified key message");
	}
	tap_diag("%s", herr_msg());

	/* Put back what the test enabled, deepest first; made_base goes with rmdir. */
	const char *ctls[] = {"cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"};
	for (size_t i = 0; i < ARRAY_SIZE(ctls); i++) {
		char op[16];
		snprintf(op, sizeof(op), "-%s", ctls[i]);
		if (!made_base && !has_word(base_had, ctls[i]) &&
		    has_word(get_at(base, "cgroup.subtree_control"), ctls[i]))
			wr_file(base, "cgroup.subtree_control", op);
	}
	for (size_t i = 0; i < ARRAY_SIZE(ctls); i++) {
		char op[16];
		snprintf(op, sizeof(op), "-%s", ctls[i]);
		if (has_word(root_had, ctls[i]) ||
		    !has_word(get_at(cg2, "cgroup.subtree_control"), ctls[i]))
			continue;
		if (made_base)
			wr_file(base, "cgroup.subtree_control", op);
		if (wr_file(cg2, "cgroup.subtree_control", op) < 0)
			tap_diag("could not disable %s again in %s (in use?)", ctls[i], cg2);
	}
}

static void test_real(void)
{
	if (geteuid() != 0 || !find_cgroup2()) {
		ok(1, "# SKIP real cgroup2 tests need root and a cgroup2 mount");
		return;
	}
	snprintf(base, sizeof(base), "%s/hull-test", cg2);
	snprintf(leaf, sizeof(leaf), "%s/unit-cg2-%d", base, (int)getpid());
	made_base = mkdir(base, 0755) == 0;
	if (mkdir(leaf, 0755) < 0) {
		ok(0, "mkdir %s: %s", leaf, strerror(errno));
		return;
	}
	test_bpf();
	test_real_apply();
	ok(rmdir(leaf) == 0, "real: test cgroup removed");
	if (made_base)
		rmdir(base);
}

int main(void)
{
	test_rules();
	test_apply_fake();
	test_real();
	return tap_done();
}
