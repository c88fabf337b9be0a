/*
 * linux.resources: every field type- and range-checked into struct oci_resources.
 * The struct is shared with code that may fill one by hand (hull update's flags),
 * so everything in it is plain malloc'd memory rather than the config's arena.
 *
 * Ranges follow what the kernel accepts. Where runc cannot tell 0 from an absent
 * field (Go zero values: memory limits, cpu shares/quota/period, blkio weights),
 * 0 means "not set" here too, so configs written for runc behave the same.
 */
#include "oci/resources.h"
#include "reader.h"
#include "common/cleanup.h"
#include "common/error.h"
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#define SHARES_MIN 2 /* the kernel's MIN_SHARES / MAX_SHARES */
#define SHARES_MAX 262144
#define CFS_MAX	   ((INT64_C(1) << 44) - 1) /* max_cfs_runtime, in µs */

/* Zero counts as absent (see the top of the file); otherwise lo..hi. */
static int rd_int_nz(struct oci_config *c, struct json_object *v, const char *path, int64_t lo,
		     int64_t hi, int64_t *out)
{
	if (json_object_is_type(v, json_type_int) && json_object_get_int64(v) == 0 &&
	    json_object_get_uint64(v) == 0) {
		*out = 0;
		return 0;
	}
	return rd_int(c, v, path, lo, hi, out);
}

static int f_int_nz(struct oci_config *c, struct json_object *obj, const char *where,
		    const char *key, int64_t lo, int64_t hi, int64_t *out)
{
	char p[JP];
	struct json_object *v = jget(obj, key);
	if (!v)
		return 0;
	jkey(p, where, key);
	return rd_int_nz(c, v, p, lo, hi, out);
}

static int dup_str(struct oci_config *c, struct json_object *v, const char *path, char **out)
{
	if (!json_object_is_type(v, json_type_string))
		return cfg_bad(c, path, "expected a string, got %s", jtype(v));
	const char *s = json_object_get_string(v);
	size_t n = (size_t)json_object_get_string_len(v);
	if (memchr(s, 0, n))
		return cfg_bad(c, path, "must not contain a NUL character");
	if (!(*out = strndup(s, n)))
		return cfg_oom(c);
	return 1;
}

static int f_dup_str(struct oci_config *c, struct json_object *obj, const char *where,
		     const char *key, bool required, char **out)
{
	char p[JP];
	jkey(p, where, key);
	struct json_object *v = jget(obj, key);
	if (!v)
		return required ? cfg_bad(c, p, "is required") : 0;
	return dup_str(c, v, p, out);
}

/* An array field: its length and a zeroed malloc'd array of that many elements. */
static int f_array(struct oci_config *c, struct json_object *obj, const char *where,
		   const char *key, size_t elem, struct json_object **arr, void **out, size_t *n)
{
	char p[JP];
	jkey(p, where, key);
	if (!(*arr = jget(obj, key)))
		return 0;
	TRY(rd_arr(c, *arr, p, n));
	if (!(*out = calloc(*n ? *n : 1, elem)))
		return cfg_oom(c);
	return 1;
}

/* A name the kernel reads as one word of a cgroup file line. */
static int check_word(struct oci_config *c, const char *path, const char *s, size_t max)
{
	if (!*s)
		return cfg_bad(c, path, "must not be empty");
	if (strlen(s) > max)
		return cfg_bad(c, path, "longer than %zu characters: %s", max, Q(s));
	for (const char *p = s; *p; p++)
		if (isspace((unsigned char)*p) || *p == '/' || iscntrl((unsigned char)*p))
			return cfg_bad(c, path, "not a valid name: %s", Q(s));
	return 0;
}

/* ---- devices ---- */

static int parse_devices(struct oci_config *c, struct json_object *obj, const char *where,
			 struct oci_resources *r)
{
	struct json_object *arr;
	char path[JP];
	jkey(path, where, "devices");
	int got = f_array(c, obj, where, "devices", sizeof(*r->devices), &arr, (void **)&r->devices,
			  &r->n_devices);
	if (got <= 0)
		return got;
	for (size_t i = 0; i < r->n_devices; i++) {
		struct oci_dev_rule *d = &r->devices[i];
		struct json_object *e = json_object_array_get_idx(arr, i);
		struct json_object *v;
		char w[JP], p[JP];
		jidx(w, path, i);
		TRY(rd_obj(c, e, w));
		if (!(v = jget(e, "allow"))) {
			jkey(p, w, "allow");
			return cfg_bad(c, p, "is required");
		}
		TRY(f_bool(c, e, w, "allow", &d->allow));
		d->type = 'a';
		if ((v = jget(e, "type"))) {
			jkey(p, w, "type");
			if (!json_object_is_type(v, json_type_string))
				return cfg_bad(c, p, "expected a string, got %s", jtype(v));
			const char *t = json_object_get_string(v);
			if (strlen(t) != 1 || !strchr("abc", t[0]))
				return cfg_bad(c, p, "expected \"a\", \"b\" or \"c\", got %s",
					       Q(t));
			d->type = t[0];
		}
		d->major = d->minor = -1;
		TRY(f_int(c, e, w, "major", false, -1, UINT32_MAX, &d->major));
		TRY(f_int(c, e, w, "minor", false, -1, UINT32_MAX, &d->minor));
		strcpy(d->access, "rwm");
		if ((v = jget(e, "access"))) {
			jkey(p, w, "access");
			if (!json_object_is_type(v, json_type_string))
				return cfg_bad(c, p, "expected a string, got %s", jtype(v));
			const char *a = json_object_get_string(v);
			bool seen[3] = {false, false, false};
			for (const char *q = a; *q; q++) {
				const char *k = strchr("rwm", *q);
				if (!k || seen[k - "rwm"])
					return cfg_bad(c, p,
						       "expected a combination of \"r\", \"w\" and "
						       "\"m\", got %s",
						       Q(a));
				seen[k - "rwm"] = true;
			}
			if (!*a)
				return cfg_bad(c, p, "must not be empty (omit it for \"rwm\")");
			/* Kept in rwm order so rules compare and print alike. */
			size_t o = 0;
			for (int k = 0; k < 3; k++)
				if (seen[k])
					d->access[o++] = "rwm"[k];
			d->access[o] = 0;
		}
	}
	return 1;
}

/* ---- memory ---- */

static int parse_memory(struct oci_config *c, struct json_object *m, const char *w,
			struct oci_resources *r)
{
	TRY(rd_obj(c, m, w));
	typeof(r->memory) *u = &r->memory;
	const struct {
		const char *key;
		bool *has;
		int64_t *val;
	} lims[] = {
	    {"limit", &u->has_limit, &u->limit},
	    {"reservation", &u->has_reservation, &u->reservation},
	    {"swap", &u->has_swap, &u->swap},
	    {"kernel", &u->has_kernel, &u->kernel},
	    {"kernelTCP", &u->has_kernel_tcp, &u->kernel_tcp},
	};
	for (size_t i = 0; i < ARRAY_SIZE(lims); i++) {
		int got = f_int_nz(c, m, w, lims[i].key, -1, INT64_MAX, lims[i].val);
		if (got < 0)
			return got;
		*lims[i].has = got > 0;
	}
	/* v1's memsw and the spec's swap both count memory plus swap. */
	if (u->has_limit && u->has_swap && u->swap != -1) {
		char p[JP];
		jkey(p, w, "swap");
		if (u->limit == -1)
			return cfg_bad(
			    c, p,
			    "must be -1 when memory.limit is -1 (swap limits memory plus "
			    "swap)");
		if (u->swap < u->limit)
			return cfg_bad(c, p,
				       "%" PRId64 " is below memory.limit %" PRId64
				       " (swap limits memory plus swap, so it must be at least the "
				       "limit, or -1)",
				       u->swap, u->limit);
	}
	r->memory.has_swappiness = OPT_INT(r->memory.swappiness, c, m, w, "swappiness", 0, 100);
	int got = f_bool(c, m, w, "disableOOMKiller", &r->memory.disable_oom_killer);
	if (got < 0)
		return got;
	r->memory.has_disable_oom_killer = got > 0;
	if ((got = f_bool(c, m, w, "useHierarchy", &r->memory.use_hierarchy)) < 0)
		return got;
	r->memory.has_use_hierarchy = got > 0;
	TRY(f_bool(c, m, w, "checkBeforeUpdate", &r->memory.check_before_update));
	return 1;
}

/* ---- cpu ---- */

/* "0-3,5": the kernel's list format for cpuset.cpus and cpuset.mems. */
static int check_cpu_list(struct oci_config *c, const char *path, const char *s)
{
	const char *p = s;
	for (;;) {
		char *end;
		if (!isdigit((unsigned char)*p))
			goto bad;
		unsigned long a = strtoul(p, &end, 10), b = a;
		p = end;
		if (*p == '-') {
			if (!isdigit((unsigned char)*++p))
				goto bad;
			b = strtoul(p, &end, 10);
			p = end;
			if (b < a)
				return cfg_bad(c, path, "range %lu-%lu in %s is reversed", a, b,
					       Q(s));
		}
		if (a > 1u << 20 || b > 1u << 20)
			return cfg_bad(c, path, "%lu in %s is too large", b, Q(s));
		if (!*p)
			return 0;
		if (*p++ != ',')
			goto bad;
	}
bad:
	return cfg_bad(c, path, "expected a list of numbers and ranges like \"0-3,5\", got %s",
		       Q(s));
}

static int parse_cpu(struct oci_config *c, struct json_object *o, const char *w,
		     struct oci_resources *r)
{
	typeof(r->cpu) *u = &r->cpu;
	int64_t v;
	int got;
	char p[JP];
	TRY(rd_obj(c, o, w));
#define NZ(key, lo, hi, has, dst)                                                                  \
	do {                                                                                       \
		if ((got = f_int_nz(c, o, w, key, lo, hi, &v)) < 0)                                \
			return got;                                                                \
		if ((has = got > 0))                                                               \
			dst = (__typeof__(dst))v;                                                  \
	} while (0)
	NZ("shares", SHARES_MIN, SHARES_MAX, u->has_shares, u->shares);
	/* The kernel refuses a quota below 1 ms; -1 lifts the limit. */
	if ((got = f_int_nz(c, o, w, "quota", -1, CFS_MAX, &v)) < 0)
		return got;
	if (got > 0 && v >= 0 && v < 1000) {
		jkey(p, w, "quota");
		return cfg_bad(c, p, "expected -1 or from 1000 to %" PRId64 " (µs), got %" PRId64,
			       CFS_MAX, v);
	}
	if ((u->has_quota = got > 0))
		u->quota = v;
	NZ("period", 1000, 1000000, u->has_period, u->period);
	NZ("realtimePeriod", 1, INT32_MAX, u->has_realtime_period, u->realtime_period);
#undef NZ
	u->has_burst = OPT_INT(u->burst, c, o, w, "burst", 0, CFS_MAX);
	if (u->has_burst && u->has_quota && u->quota > 0 && u->burst > (uint64_t)u->quota) {
		jkey(p, w, "burst");
		return cfg_bad(c, p, "%" PRIu64 " is above cpu.quota %" PRId64, u->burst, u->quota);
	}
	u->has_realtime_runtime =
	    OPT_INT(u->realtime_runtime, c, o, w, "realtimeRuntime", -1, INT64_MAX);
	if (u->has_realtime_runtime && u->has_realtime_period && u->realtime_runtime >= 0 &&
	    (uint64_t)u->realtime_runtime > u->realtime_period) {
		jkey(p, w, "realtimeRuntime");
		return cfg_bad(c, p, "%" PRId64 " is above cpu.realtimePeriod %" PRIu64,
			       u->realtime_runtime, u->realtime_period);
	}
	static const char *const lists[] = {"cpus", "mems"};
	for (int i = 0; i < 2; i++) {
		char **dst = i ? &u->mems : &u->cpus;
		if ((got = f_dup_str(c, o, w, lists[i], false, dst)) < 0)
			return got;
		if (!got)
			continue;
		/* Go tools write "" for "not set". */
		if (!**dst) {
			free(*dst);
			*dst = NULL;
			continue;
		}
		jkey(p, w, lists[i]);
		TRY(check_cpu_list(c, p, *dst));
	}
	u->has_idle = OPT_INT(u->idle, c, o, w, "idle", 0, 1);
	return 1;
}

/* ---- blockIO ---- */

static int parse_throttle(struct oci_config *c, struct json_object *o, const char *w,
			  const char *key, struct oci_throttle_list *t)
{
	struct json_object *arr;
	char path[JP];
	jkey(path, w, key);
	int got = f_array(c, o, w, key, sizeof(*t->v), &arr, (void **)&t->v, &t->n);
	if (got <= 0)
		return got;
	for (size_t i = 0; i < t->n; i++) {
		struct json_object *e = json_object_array_get_idx(arr, i);
		char ew[JP];
		jidx(ew, path, i);
		TRY(rd_obj(c, e, ew));
		TRY(f_int(c, e, ew, "major", true, 0, UINT32_MAX, &t->v[i].major));
		TRY(f_int(c, e, ew, "minor", true, 0, UINT32_MAX, &t->v[i].minor));
		TRY(f_u64(c, e, ew, "rate", true, &t->v[i].rate));
	}
	return 1;
}

static int parse_blkio(struct oci_config *c, struct json_object *o, const char *w,
		       struct oci_resources *r)
{
	typeof(r->block_io) *b = &r->block_io;
	int64_t v;
	int got;
	TRY(rd_obj(c, o, w));
	if ((got = f_int_nz(c, o, w, "weight", 10, 1000, &v)) < 0)
		return got;
	if ((b->has_weight = got > 0))
		b->weight = (uint16_t)v;
	if ((got = f_int_nz(c, o, w, "leafWeight", 10, 1000, &v)) < 0)
		return got;
	if ((b->has_leaf_weight = got > 0))
		b->leaf_weight = (uint16_t)v;

	struct json_object *arr;
	char path[JP];
	jkey(path, w, "weightDevice");
	got = f_array(c, o, w, "weightDevice", sizeof(*b->weight_device), &arr,
		      (void **)&b->weight_device, &b->n_weight_device);
	if (got < 0)
		return got;
	for (size_t i = 0; i < b->n_weight_device; i++) {
		struct oci_weight_device *d = &b->weight_device[i];
		struct json_object *e = json_object_array_get_idx(arr, i);
		char ew[JP];
		jidx(ew, path, i);
		TRY(rd_obj(c, e, ew));
		TRY(f_int(c, e, ew, "major", true, 0, UINT32_MAX, &d->major));
		TRY(f_int(c, e, ew, "minor", true, 0, UINT32_MAX, &d->minor));
		if ((got = f_int_nz(c, e, ew, "weight", 10, 1000, &v)) < 0)
			return got;
		if ((d->has_weight = got > 0))
			d->weight = (uint16_t)v;
		if ((got = f_int_nz(c, e, ew, "leafWeight", 10, 1000, &v)) < 0)
			return got;
		if ((d->has_leaf_weight = got > 0))
			d->leaf_weight = (uint16_t)v;
	}
	TRY(parse_throttle(c, o, w, "throttleReadBpsDevice", &b->throttle_read_bps));
	TRY(parse_throttle(c, o, w, "throttleWriteBpsDevice", &b->throttle_write_bps));
	TRY(parse_throttle(c, o, w, "throttleReadIOPSDevice", &b->throttle_read_iops));
	TRY(parse_throttle(c, o, w, "throttleWriteIOPSDevice", &b->throttle_write_iops));
	return 1;
}

/* ---- hugepageLimits, network, rdma, unified ---- */

/* "2MB", "1GB", "64KB": how the kernel names hugetlb.<size>.* files. */
static bool page_size_ok(const char *s)
{
	size_t n = strspn(s, "0123456789");
	if (!n || s[0] == '0')
		return false;
	return !strcmp(s + n, "KB") || !strcmp(s + n, "MB") || !strcmp(s + n, "GB") ||
	       !strcmp(s + n, "TB") || !strcmp(s + n, "PB");
}

static int parse_hugepages(struct oci_config *c, struct json_object *o, const char *where,
			   struct oci_resources *r)
{
	struct json_object *arr;
	char path[JP];
	jkey(path, where, "hugepageLimits");
	int got = f_array(c, o, where, "hugepageLimits", sizeof(*r->hugepage_limits), &arr,
			  (void **)&r->hugepage_limits, &r->n_hugepage_limits);
	if (got <= 0)
		return got;
	for (size_t i = 0; i < r->n_hugepage_limits; i++) {
		struct oci_hugepage_limit *h = &r->hugepage_limits[i];
		struct json_object *e = json_object_array_get_idx(arr, i);
		char ew[JP], p[JP];
		jidx(ew, path, i);
		jkey(p, ew, "pageSize");
		TRY(rd_obj(c, e, ew));
		TRY(f_dup_str(c, e, ew, "pageSize", true, &h->page_size));
		if (!page_size_ok(h->page_size))
			return cfg_bad(c, p, "expected a size like \"2MB\" or \"1GB\", got %s",
				       Q(h->page_size));
		for (size_t k = 0; k < i; k++)
			if (!strcmp(r->hugepage_limits[k].page_size, h->page_size))
				return cfg_bad(c, p, "page size %s is listed twice",
					       Q(h->page_size));
		TRY(f_u64(c, e, ew, "limit", true, &h->limit));
	}
	return 1;
}

static int parse_network(struct oci_config *c, struct json_object *o, const char *w,
			 struct oci_resources *r)
{
	TRY(rd_obj(c, o, w));
	r->network.has_class_id = OPT_INT(r->network.class_id, c, o, w, "classID", 0, UINT32_MAX);
	struct json_object *arr;
	char path[JP];
	jkey(path, w, "priorities");
	int got = f_array(c, o, w, "priorities", sizeof(*r->network.priorities), &arr,
			  (void **)&r->network.priorities, &r->network.n_priorities);
	if (got <= 0)
		return got;
	for (size_t i = 0; i < r->network.n_priorities; i++) {
		struct oci_net_priority *np = &r->network.priorities[i];
		struct json_object *e = json_object_array_get_idx(arr, i);
		char ew[JP], p[JP];
		int64_t prio;
		jidx(ew, path, i);
		jkey(p, ew, "name");
		TRY(rd_obj(c, e, ew));
		TRY(f_dup_str(c, e, ew, "name", true, &np->name));
		TRY(check_word(c, p, np->name, 15)); /* IFNAMSIZ - 1 */
		TRY(f_int(c, e, ew, "priority", true, 0, UINT32_MAX, &prio));
		np->priority = (uint32_t)prio;
	}
	return 1;
}

static int parse_rdma(struct oci_config *c, struct json_object *o, const char *w,
		      struct oci_resources *r)
{
	TRY(rd_obj(c, o, w));
	size_t n = (size_t)json_object_object_length(o);
	if (!(r->rdma = calloc(n ? n : 1, sizeof(*r->rdma))))
		return cfg_oom(c);
	json_object_object_foreach(o, key, val)
	{
		struct oci_rdma_limit *d = &r->rdma[r->n_rdma];
		char p[JP];
		jkey(p, w, key);
		if (!(d->device = strdup(key)))
			return cfg_oom(c);
		r->n_rdma++;
		TRY(check_word(c, p, key, 64));
		TRY(rd_obj(c, val, p));
		d->has_hca_handles =
		    OPT_INT(d->hca_handles, c, val, p, "hcaHandles", 0, UINT32_MAX);
		d->has_hca_objects =
		    OPT_INT(d->hca_objects, c, val, p, "hcaObjects", 0, UINT32_MAX);
	}
	return 1;
}

/*
 * A cgroup v2 file name like "memory.high" or "hugetlb.2MB.max". Whether the file
 * exists is for the applier to find out; here it must only stay in the directory.
 */
static bool unified_key_ok(const char *k)
{
	const char *dot = strchr(k, '.');
	if (!dot || dot == k || !dot[1] || strstr(k, ".."))
		return false;
	for (const char *p = k; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return false;
	return true;
}

static int parse_unified(struct oci_config *c, struct json_object *o, const char *w,
			 struct oci_resources *r)
{
	TRY(rd_obj(c, o, w));
	size_t n = (size_t)json_object_object_length(o);
	if (!(r->unified = calloc(n ? n : 1, sizeof(*r->unified))))
		return cfg_oom(c);
	json_object_object_foreach(o, key, val)
	{
		struct oci_kv *kv = &r->unified[r->n_unified];
		char p[JP];
		p[0] = 0;
		jput(p, w);
		jput(p, "[");
		jput(p, Q(key));
		jput(p, "]");
		if (!unified_key_ok(key))
			return cfg_bad(c, p,
				       "not a cgroup file name (expected \"<controller>.<file>\" "
				       "without \"/\" or \"..\")");
		if (!(kv->key = strdup(key)))
			return cfg_oom(c);
		r->n_unified++;
		TRY(dup_str(c, val, p, &kv->value));
	}
	return 1;
}

/* ---- the whole object ---- */

static int parse_all(struct oci_config *c, struct json_object *obj, const char *where,
		     struct oci_resources *r)
{
	struct json_object *v;
	char p[JP];
	TRY(rd_obj(c, obj, where));
	TRY(parse_devices(c, obj, where, r));
	static const struct {
		const char *key;
		int (*fn)(struct oci_config *, struct json_object *, const char *,
			  struct oci_resources *);
	} sections[] = {
	    {"memory", parse_memory},	{"cpu", parse_cpu},   {"blockIO", parse_blkio},
	    {"network", parse_network}, {"rdma", parse_rdma}, {"unified", parse_unified},
	};
	for (size_t i = 0; i < ARRAY_SIZE(sections); i++) {
		if (!(v = jget(obj, sections[i].key)))
			continue;
		jkey(p, where, sections[i].key);
		TRY(sections[i].fn(c, v, p, r));
	}
	if ((v = jget(obj, "pids"))) {
		jkey(p, where, "pids");
		TRY(rd_obj(c, v, p));
		TRY(f_int(c, v, p, "limit", true, -1, INT64_MAX, &r->pids.limit));
		r->pids.has_limit = true;
	}
	TRY(parse_hugepages(c, obj, where, r));
	return 1;
}

int oci_resources_parse(struct json_object *obj, const char *file, const char *where,
			struct oci_resources **out)
{
	/* Only the reader's message helpers use it; nothing goes into its arena. */
	struct oci_config c = {.path = (char *)(file ? file : "resources")};
	struct oci_resources *r = calloc(1, sizeof(*r));
	*out = NULL;
	if (!r)
		return cfg_oom(&c);
	if (obj) {
		int ret = parse_all(&c, obj, where ? where : "", r);
		if (ret < 0) {
			oci_resources_free(r);
			return ret;
		}
	}
	*out = r;
	return 0;
}

void oci_resources_free(struct oci_resources *r)
{
	if (!r)
		return;
	free(r->devices);
	free(r->cpu.cpus);
	free(r->cpu.mems);
	free(r->block_io.weight_device);
	free(r->block_io.throttle_read_bps.v);
	free(r->block_io.throttle_write_bps.v);
	free(r->block_io.throttle_read_iops.v);
	free(r->block_io.throttle_write_iops.v);
	for (size_t i = 0; i < r->n_hugepage_limits; i++)
		free(r->hugepage_limits[i].page_size);
	free(r->hugepage_limits);
	for (size_t i = 0; i < r->network.n_priorities; i++)
		free(r->network.priorities[i].name);
	free(r->network.priorities);
	for (size_t i = 0; i < r->n_rdma; i++)
		free(r->rdma[i].device);
	free(r->rdma);
	for (size_t i = 0; i < r->n_unified; i++) {
		free(r->unified[i].key);
		free(r->unified[i].value);
	}
	free(r->unified);
	free(r);
}
