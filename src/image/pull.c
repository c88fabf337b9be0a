#include "image/pull.h"
#include "image/layer.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "common/cleanup.h"
#include "common/error.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MANIFEST_MAX (4u << 20)
#define CONFIG_MAX   (64u << 20)

struct job {
	const struct img_descriptor *layer;
	const char *diff_id;
	const char *chain;
	int rc;
	char *err; /* the message of a failed job */
};

struct pull {
	struct img_store *st;
	const struct img_pull_opts *o;
	const char *domain, *repo;
	struct job *jobs;
	size_t n, next;
	pthread_mutex_t mu; /* next, and one progress call at a time */
};

static void report(struct pull *p, enum img_pull_event ev, const char *digest, uint64_t done,
		   uint64_t total)
{
	if (!p->o->progress)
		return;
	pthread_mutex_lock(&p->mu);
	p->o->progress(p->o->ctx, ev, digest, done, total);
	pthread_mutex_unlock(&p->mu);
}

struct bytes_ctx {
	struct pull *p;
	const char *digest;
	uint64_t total;
};

static void on_bytes(void *ctx, uint64_t done)
{
	struct bytes_ctx *b = ctx;
	report(b->p, IMG_PULL_LAYER_BYTES, b->digest, done, b->total);
}

/* Fetch one blob into the store, resuming what an earlier try left. */
static int fetch_blob(struct pull *p, struct registry *reg, const struct img_descriptor *d,
		      bool layer)
{
	struct img_ingest w;
	int r = img_ingest_begin(p->st, d->digest, d->size, &w);
	if (r == -EEXIST) {
		herr_clear();
		if (layer)
			report(p, IMG_PULL_LAYER_EXISTS, d->digest, d->size, d->size);
		return 0;
	}
	if (r < 0)
		return r;
	if (layer)
		report(p, IMG_PULL_LAYER_START, d->digest, w.offset, d->size);
	struct bytes_ctx b = {p, d->digest, d->size};
	r = registry_get_blob(reg, p->repo, d->digest, w.fd, w.offset, layer ? on_bytes : NULL, &b);
	if (r < 0) {
		/* What arrived is good as far as it goes: the next pull resumes it. */
		img_ingest_abort(p->st, &w, true);
		return r;
	}
	if ((r = img_ingest_commit(p->st, &w)) < 0)
		return r;
	if (layer)
		report(p, IMG_PULL_LAYER_DONE, d->digest, d->size, d->size);
	return 0;
}

static void *worker(void *arg)
{
	struct pull *p = arg;
	struct registry *reg = NULL;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		size_t i = p->next < p->n ? p->next++ : p->n;
		pthread_mutex_unlock(&p->mu);
		if (i == p->n)
			break;
		struct job *j = &p->jobs[i];
		if (img_snapshot_exists(p->st, j->chain)) {
			report(p, IMG_PULL_LAYER_EXISTS, j->layer->digest, j->layer->size,
			       j->layer->size);
			continue;
		}
		j->rc = 0;
		if (!reg)
			j->rc = registry_open(p->domain, &p->o->reg, &reg);
		if (j->rc >= 0)
			j->rc = fetch_blob(p, reg, j->layer, true);
		/* Each layer unpacks alone: its whiteouts stay overlay whiteouts. */
		if (j->rc >= 0)
			j->rc = img_layer_unpack(p->st, j->layer->digest, j->layer->media_type,
						 j->diff_id, j->chain, NULL);
		if (j->rc < 0) {
			j->err = strdup(herr_msg());
			break;
		}
		report(p, IMG_PULL_LAYER_UNPACKED, j->layer->digest, j->layer->size,
		       j->layer->size);
	}
	registry_close(reg);
	return NULL;
}

static int run_jobs(struct pull *p)
{
	size_t nt = p->o->jobs > 0 ? (size_t)p->o->jobs : 3;
	if (nt > p->n)
		nt = p->n;
	pthread_t t[16];
	if (nt > 16)
		nt = 16;
	size_t started = 0;
	/* The calling thread works too; each keeps its error (herr_last is per thread). */
	for (; started + 1 < nt; started++)
		if (pthread_create(&t[started], NULL, worker, p) != 0)
			break;
	worker(p);
	for (size_t i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	for (size_t i = 0; i < p->n; i++)
		if (p->jobs[i].rc < 0)
			return herr_set(-p->jobs[i].rc, "%s",
					p->jobs[i].err ? p->jobs[i].err : "layer failed");
	return 0;
}

static int get_manifest(struct registry *reg, const char *repo, const char *ref, const char *want,
			char **body, size_t *len, char **mt, char digest[])
{
	int r = registry_get_manifest(reg, repo, ref, body, len, mt, digest);
	if (r < 0)
		return r;
	if (want && strcmp(want, digest))
		return herr_set(EINVAL, "manifest %s: the registry sent %s", want, digest);
	return 0;
}

int img_pull(struct img_store *st, const char *refstr, const struct img_pull_opts *o,
	     struct img_record *out)
{
	struct img_ref ref = {0};
	struct registry *reg = NULL;
	char *body = NULL, *mt = NULL, *name = NULL, *repo = NULL;
	char *idx_body = NULL, *cfg = NULL;
	size_t len = 0, idx_len = 0, cfg_len = 0;
	char digest[IMG_DIGEST_MAX], idx_digest[IMG_DIGEST_MAX] = "", put[IMG_DIGEST_MAX];
	struct img_manifest m = {0};
	struct img_index ix = {0};
	struct img_config_summary cs = {0};
	struct pull p = {.st = st, .o = o, .mu = PTHREAD_MUTEX_INITIALIZER};
	char(*chain)[IMG_DIGEST_MAX] = NULL;
	int r;

	if ((r = img_ref_parse(refstr, &ref)) < 0)
		return r;
	name = img_ref_string(&ref);
	repo = img_ref_repo(&ref);
	p.domain = ref.domain;
	p.repo = repo + strlen(ref.domain) + 1;
	if ((r = img_store_hold(st)) < 0 || (r = registry_open(ref.domain, &o->reg, &reg)) < 0)
		goto out;
	const char *tag = ref.digest ? ref.digest : ref.tag;
	if ((r = get_manifest(reg, p.repo, tag, ref.digest, &body, &len, &mt, digest)) < 0)
		goto out;
	bool is_index;
	if ((r = img_doc_is_index(body, len, digest, mt, &is_index)) < 0)
		goto out;
	if (is_index) {
		const struct img_descriptor *d;
		if ((r = img_index_parse(body, len, digest, mt, &ix)) < 0 ||
		    (r = img_index_select(&ix, o->platform, name, &d)) < 0)
			goto out;
		strcpy(idx_digest, digest);
		idx_body = body;
		idx_len = len;
		body = NULL;
		free(mt);
		mt = NULL;
		if ((r = get_manifest(reg, p.repo, d->digest, d->digest, &body, &len, &mt,
				      digest)) < 0)
			goto out;
	}
	if ((r = img_manifest_parse(body, len, digest, mt, &m)) < 0)
		goto out;
	uint64_t total = 0;
	for (size_t i = 0; i < m.n_layers; i++)
		total += m.layers[i].size;
	report(&p, IMG_PULL_RESOLVED, digest, 0, total);

	/* The config first: it names the layers' diff_ids, which check the unpack. */
	if ((r = fetch_blob(&p, reg, &m.config, false)) < 0 ||
	    (r = img_store_read_blob(st, m.config.digest, CONFIG_MAX, &cfg, &cfg_len)) < 0 ||
	    (r = img_config_parse(cfg, cfg_len, m.config.digest, &cs)) < 0)
		goto out;
	if (!o->platform && !is_index) {
		/* A single-platform image for another machine would only fail at exec. */
		struct img_platform here = {0};
		if (img_platform_default(&here) == 0 &&
		    img_platform_rank(&here, &cs.platform) == 0) {
			_cleanup_free_ char *h = img_platform_string(&here);
			_cleanup_free_ char *g = img_platform_string(&cs.platform);
			r = herr_set(ENOEXEC, "%s: the image is for %s, not %s (use --platform)",
				     name, g, h);
			img_platform_clear(&here);
			goto out;
		}
		img_platform_clear(&here);
	}
	if (cs.n_diff_ids != m.n_layers) {
		r = herr_set(EINVAL, "config %s: %zu diff_ids for %zu layers", m.config.digest,
			     cs.n_diff_ids, m.n_layers);
		goto out;
	}
	chain = calloc(m.n_layers ? m.n_layers : 1, sizeof(*chain));
	p.jobs = calloc(m.n_layers ? m.n_layers : 1, sizeof(*p.jobs));
	if (!chain || !p.jobs) {
		r = herr_set(ENOMEM, "out of memory");
		goto out;
	}
	img_chain_ids(cs.diff_ids, m.n_layers, chain);
	for (size_t i = 0; i < m.n_layers; i++)
		p.jobs[i] = (struct job){&m.layers[i], cs.diff_ids[i], chain[i], 0, NULL};
	p.n = m.n_layers;
	registry_close(reg);
	reg = NULL;
	if ((r = run_jobs(&p)) < 0)
		goto out;

	/* Manifests last: an image is recorded only once everything it needs is here. */
	if (idx_body && (r = img_store_put_blob(st, idx_body, idx_len, put)) < 0)
		goto out;
	if ((r = img_store_put_blob(st, body, len, put)) < 0)
		goto out;
	struct img_record rec = {.name = name,
				 .manifest_digest = digest,
				 .config_digest = m.config.digest,
				 .index_digest = idx_body ? idx_digest : NULL,
				 .created = cs.created,
				 .size = total};
	if ((r = img_store_set(st, &rec)) < 0)
		goto out;
	if (out && (r = img_store_find(st, name, out)) < 0)
		goto out;
	r = 0;
out:
	if (r < 0 && !strstr(herr_msg(), name))
		herr_ctx(r, "pull %s", name);
	for (size_t i = 0; i < p.n; i++)
		free(p.jobs[i].err);
	free(p.jobs);
	free(chain);
	img_config_summary_clear(&cs);
	img_manifest_clear(&m);
	img_index_clear(&ix);
	registry_close(reg);
	img_store_release(st);
	free(body);
	free(idx_body);
	free(cfg);
	free(mt);
	free(name);
	free(repo);
	img_ref_free(&ref);
	return r;
}
