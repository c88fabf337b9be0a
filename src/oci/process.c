/*
 * A process object (config.json's "process", or exec's process.json) into
 * struct oci_process: names (capabilities, rlimits, scheduler policies and
 * flags, I/O priority classes) resolved to numbers, checked the way runc
 * checks them.
 */
#include "reader.h"
#include "common/cleanup.h"
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <linux/ioprio.h>
#include <json-c/json.h>

#ifndef SCHED_FLAG_RESET_ON_FORK
#define SCHED_FLAG_RESET_ON_FORK  0x01
#define SCHED_FLAG_RECLAIM	  0x02
#define SCHED_FLAG_DL_OVERRUN	  0x04
#define SCHED_FLAG_KEEP_POLICY	  0x08
#define SCHED_FLAG_KEEP_PARAMS	  0x10
#define SCHED_FLAG_UTIL_CLAMP_MIN 0x20
#define SCHED_FLAG_UTIL_CLAMP_MAX 0x40
#endif

static int parse_caps(struct oci_config *c, struct json_object *v, const char *where,
		      struct oci_caps *caps)
{
	static const struct {
		const char *name;
		size_t off;
	} sets[] = {
	    {"bounding", offsetof(struct oci_caps, bounding)},
	    {"effective", offsetof(struct oci_caps, effective)},
	    {"inheritable", offsetof(struct oci_caps, inheritable)},
	    {"permitted", offsetof(struct oci_caps, permitted)},
	    {"ambient", offsetof(struct oci_caps, ambient)},
	};
	TRY(rd_obj(c, v, where));
	caps->present = true;
	for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
		char p[JP], **names = NULL;
		jkey(p, where, sets[s].name);
		TRY(f_strv(c, v, where, sets[s].name, 0, &names, NULL));
		uint64_t *mask = (uint64_t *)((char *)caps + sets[s].off);
		for (size_t i = 0; names && names[i]; i++) {
			int cap = oci_cap_from_name(names[i]);
			if (cap >= 0 && cap < 64) {
				*mask |= 1ULL << cap;
				continue;
			}
			/* runc skips names its kernel does not know; so do we, loudly. */
			fprintf(stderr, "hull: warning: %s: ignoring unknown capability %s\n", p,
				Q(names[i]));
			caps->skipped_unknown = true;
		}
	}
	return 1;
}

static int parse_rlimits(struct oci_config *c, struct json_object *v, const char *path,
			 struct oci_process *p)
{
	size_t n;
	uint64_t seen = 0;
	TRY(rd_arr(c, v, path, &n));
	if (!(p->rlimits = arena_array(c, n, sizeof(*p->rlimits))))
		return cfg_oom(c);
	for (size_t i = 0; i < n; i++) {
		struct oci_rlimit *rl = &p->rlimits[i];
		struct json_object *e = json_object_array_get_idx(v, i);
		char w[JP], tp[JP], *type;
		jidx(w, path, i);
		jkey(tp, w, "type");
		TRY(rd_obj(c, e, w));
		TRY(f_str(c, e, w, "type", true, 0, &type));
		if ((rl->resource = oci_rlimit_from_name(type)) < 0)
			return cfg_bad(c, tp, "unknown rlimit type %s", Q(type));
		if (rl->resource < 64 && (seen & (1ULL << rl->resource)))
			return cfg_bad(c, tp, "duplicate rlimit type %s", Q(type));
		seen |= 1ULL << (rl->resource & 63);
		TRY(f_u64(c, e, w, "soft", true, &rl->soft));
		TRY(f_u64(c, e, w, "hard", true, &rl->hard));
		if (rl->soft > rl->hard)
			return cfg_bad(c, w,
				       "soft limit %" PRIu64 " is greater than hard limit %" PRIu64,
				       rl->soft, rl->hard);
	}
	p->n_rlimits = n;
	return 1;
}

static int parse_user(struct oci_config *c, struct json_object *v, const char *where,
		      struct oci_user *u)
{
	int64_t x;
	TRY(rd_obj(c, v, where));
	OPT_INT(u->uid, c, v, where, "uid", 0, UINT32_MAX);
	OPT_INT(u->gid, c, v, where, "gid", 0, UINT32_MAX);
	u->has_umask = OPT_INT(u->umask, c, v, where, "umask", 0, 0777);
	TRY(f_str(c, v, where, "username", false, 0, &u->username));

	struct json_object *g = jget(v, "additionalGids");
	if (!g)
		return 1;
	char p[JP];
	size_t n;
	jkey(p, where, "additionalGids");
	TRY(rd_arr(c, g, p, &n));
	if (!(u->additional_gids = arena_array(c, n, sizeof(uint32_t))))
		return cfg_oom(c);
	for (size_t i = 0; i < n; i++) {
		char ep[JP];
		jidx(ep, p, i);
		TRY(rd_int(c, json_object_array_get_idx(g, i), ep, 0, UINT32_MAX, &x));
		u->additional_gids[i] = (uint32_t)x;
	}
	u->n_additional_gids = n;
	return 1;
}

static const struct name_val sched_policies[] = {
    {"SCHED_OTHER", SCHED_OTHER},	{"SCHED_FIFO", SCHED_FIFO}, {"SCHED_RR", SCHED_RR},
    {"SCHED_BATCH", SCHED_BATCH},	{"SCHED_ISO", 4},	    {"SCHED_IDLE", SCHED_IDLE},
    {"SCHED_DEADLINE", SCHED_DEADLINE},
};

static const struct name_val sched_flags[] = {
    {"SCHED_FLAG_RESET_ON_FORK", SCHED_FLAG_RESET_ON_FORK},
    {"SCHED_FLAG_RECLAIM", SCHED_FLAG_RECLAIM},
    {"SCHED_FLAG_DL_OVERRUN", SCHED_FLAG_DL_OVERRUN},
    {"SCHED_FLAG_KEEP_POLICY", SCHED_FLAG_KEEP_POLICY},
    {"SCHED_FLAG_KEEP_PARAMS", SCHED_FLAG_KEEP_PARAMS},
    {"SCHED_FLAG_UTIL_CLAMP_MIN", SCHED_FLAG_UTIL_CLAMP_MIN},
    {"SCHED_FLAG_UTIL_CLAMP_MAX", SCHED_FLAG_UTIL_CLAMP_MAX},
};

static int parse_scheduler(struct oci_config *c, struct json_object *v, const char *where,
			   struct oci_scheduler *s)
{
	char p[JP], *policy, **flags = NULL;
	TRY(rd_obj(c, v, where));
	TRY(f_str(c, v, where, "policy", true, 0, &policy));
	const struct name_val *nv = nv_lookup(sched_policies, ARRAY_SIZE(sched_policies), policy);
	if (!nv) {
		jkey(p, where, "policy");
		return cfg_bad(c, p, "unknown scheduler policy %s", Q(policy));
	}
	s->policy = (int)nv->val;
	/* The checks runc makes, so a config fails the same way under both. */
	OPT_INT(s->nice, c, v, where, "nice", -20, 19);
	OPT_INT(s->priority, c, v, where, "priority", INT32_MIN, INT32_MAX);
	if (s->priority && s->policy != SCHED_FIFO && s->policy != SCHED_RR) {
		jkey(p, where, "priority");
		return cfg_bad(c, p, "can only be set with SCHED_FIFO or SCHED_RR, not %s", policy);
	}
	TRY(f_strv(c, v, where, "flags", 0, &flags, NULL));
	for (size_t i = 0; flags && flags[i]; i++) {
		if (!(nv = nv_lookup(sched_flags, ARRAY_SIZE(sched_flags), flags[i]))) {
			char fp[JP];
			jkey(fp, where, "flags");
			jidx(p, fp, i);
			return cfg_bad(c, p, "unknown scheduler flag %s", Q(flags[i]));
		}
		s->flags |= nv->val;
	}
	static const char *const dl[] = {"runtime", "deadline", "period"};
	uint64_t *dv[] = {&s->runtime, &s->deadline, &s->period};
	for (size_t i = 0; i < ARRAY_SIZE(dl); i++) {
		TRY(f_u64(c, v, where, dl[i], false, dv[i]));
		if (*dv[i] && s->policy != SCHED_DEADLINE) {
			jkey(p, where, dl[i]);
			return cfg_bad(c, p, "can only be set with SCHED_DEADLINE, not %s", policy);
		}
	}
	return 1;
}

static int parse_ioprio(struct oci_config *c, struct json_object *v, const char *where,
			struct oci_process *p)
{
	static const struct name_val classes[] = {
	    {"IOPRIO_CLASS_RT", IOPRIO_CLASS_RT},
	    {"IOPRIO_CLASS_BE", IOPRIO_CLASS_BE},
	    {"IOPRIO_CLASS_IDLE", IOPRIO_CLASS_IDLE},
	};
	char *cls;
	TRY(rd_obj(c, v, where));
	TRY(f_str(c, v, where, "class", true, 0, &cls));
	const struct name_val *nv = nv_lookup(classes, ARRAY_SIZE(classes), cls);
	if (!nv) {
		char pp[JP];
		jkey(pp, where, "class");
		return cfg_bad(c, pp, "unknown I/O priority class %s", Q(cls));
	}
	OPT_INT(p->ioprio_priority, c, v, where, "priority", 0, 7);
	p->has_io_priority = true;
	p->ioprio_class = (int)nv->val;
	return 1;
}

int oci_process_parse(struct oci_config *c, struct json_object *obj, const char *where,
		      struct oci_process *p)
{
	char w[JP];
	struct json_object *v;

	memset(p, 0, sizeof(*p));
	if (!where)
		where = "";
	TRY(rd_obj(c, obj, where));
	TRY(f_bool(c, obj, where, "terminal", &p->terminal));
	if ((v = jget(obj, "consoleSize"))) {
		jkey(w, where, "consoleSize");
		TRY(rd_obj(c, v, w));
		OPT_INT(p->console_height, c, v, w, "height", 0, UINT_MAX);
		OPT_INT(p->console_width, c, v, w, "width", 0, UINT_MAX);
	}
	if ((v = jget(obj, "user"))) {
		jkey(w, where, "user");
		TRY(parse_user(c, v, w, &p->user));
	}
	jkey(w, where, "args");
	if (!(v = jget(obj, "args")))
		return cfg_bad(c, w, "is required");
	TRY(rd_strv(c, v, w, 0, &p->args, &p->n_args));
	if (!p->n_args)
		return cfg_bad(c, w, "must not be empty");
	TRY(f_strv0(c, obj, where, "env", CHK_ENV, &p->env, &p->n_env));
	TRY(f_str(c, obj, where, "cwd", true, CHK_ABS, &p->cwd));
	if ((v = jget(obj, "capabilities"))) {
		jkey(w, where, "capabilities");
		TRY(parse_caps(c, v, w, &p->caps));
	}
	if ((v = jget(obj, "rlimits"))) {
		jkey(w, where, "rlimits");
		TRY(parse_rlimits(c, v, w, p));
	}
	TRY(f_bool(c, obj, where, "noNewPrivileges", &p->no_new_privileges));
	p->has_oom_score_adj = OPT_INT(p->oom_score_adj, c, obj, where, "oomScoreAdj", -1000, 1000);
	TRY(f_str(c, obj, where, "apparmorProfile", false, 0, &p->apparmor_profile));
	TRY(f_str(c, obj, where, "selinuxLabel", false, 0, &p->selinux_label));
	if ((v = jget(obj, "ioPriority"))) {
		jkey(w, where, "ioPriority");
		TRY(parse_ioprio(c, v, w, p));
	}
	if ((v = jget(obj, "scheduler"))) {
		jkey(w, where, "scheduler");
		TRY(parse_scheduler(c, v, w, &p->scheduler));
		p->has_scheduler = true;
	}
	return 0;
}
