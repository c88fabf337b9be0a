/* deck images, image inspect, rmi, tag, image prune. */
#include "cli/deck/deck.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "image/manifest.h"
#include "image/reference.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- images ---- */

static void split_name(const char *full, char **repo, char **tag)
{
	_cleanup_free_ char *s = deck_short_name(full);
	*repo = *tag = NULL;
	if (!s) {
		*repo = strdup("<none>");
		*tag = strdup("<none>");
		return;
	}
	char *at = strchr(s, '@');
	if (at) {
		*at = 0;
		*repo = strdup(s);
		*tag = strdup("<none>");
		return;
	}
	char *colon = strrchr(s, ':');
	if (colon && !strchr(colon, '/')) {
		*colon = 0;
		*tag = strdup(colon + 1);
	} else {
		*tag = strdup("<none>");
	}
	*repo = strdup(s);
}

int cmd_images(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'},
	    {"all", no_argument, NULL, 'a'},	      {"no-trunc", no_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},	      {0}};
	const char *format = NULL;
	bool quiet = false, no_trunc = false;
	int c;
	while ((c = getopt_long(argc, argv, "+qah", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'a':
			break;
		case 'n':
			no_trunc = true;
			break;
		case 'h':
			puts("Usage: deck images [-q] [--format json] [--no-trunc]");
			return 0;
		default:
			return deck_usage(argv[0], "bad option");
		}
	}
	if (format && strcmp(format, "json") && strcmp(format, "table"))
		return deck_usage(argv[0], "--format: expected json or table, got \"%s\"", format);
	struct img_store st;
	if (deck_open_store(g, &st) < 0)
		return 1;
	struct img_record *recs = NULL;
	size_t n = 0;
	int r = img_store_list(&st, &recs, &n);
	img_store_close(&st);
	if (r < 0)
		return deck_fail();
	json_object *arr = format && !strcmp(format, "json") ? json_object_new_array() : NULL;
	if (!arr && !quiet)
		printf("%-40s %-16s %-14s %-20s %s\n", "REPOSITORY", "TAG", "IMAGE ID", "CREATED",
		       "SIZE");
	for (size_t i = 0; i < n; i++) {
		const char *id = img_digest_hex(recs[i].config_digest);
		char *repo, *tag, sz[32], ago[48];
		split_name(recs[i].name, &repo, &tag);
		if (arr) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "Id",
					       json_object_new_string(recs[i].config_digest));
			json_object_object_add(o, "Repository", json_object_new_string(repo));
			json_object_object_add(o, "Tag", json_object_new_string(tag));
			json_object_object_add(
			    o, "Name", recs[i].name ? json_object_new_string(recs[i].name) : NULL);
			json_object_object_add(
			    o, "Digest",
			    json_object_new_string(recs[i].index_digest ? recs[i].index_digest
									: recs[i].manifest_digest));
			json_object_object_add(o, "Created",
					       json_object_new_int64(recs[i].created));
			json_object_object_add(o, "Size", json_object_new_uint64(recs[i].size));
			json_object_array_add(arr, o);
		} else if (quiet) {
			printf("%.*s\n", no_trunc ? 64 : 12, id);
		} else {
			printf("%-40s %-16s %-14.12s %-20s %s\n", repo, tag, id,
			       deck_human_ago(recs[i].created, ago),
			       deck_human_size(recs[i].size, sz));
		}
		free(repo);
		free(tag);
	}
	if (arr) {
		puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_SPACED |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(arr);
	}
	img_records_free(recs, n);
	return 0;
}

/* ---- image inspect ---- */

static json_object *inspect_one(struct img_store *st, const struct img_record *rec,
				const struct img_record *all, size_t n)
{
	_cleanup_free_ char *cfg = NULL;
	size_t len;
	json_object *c = NULL;
	if (img_store_read_blob(st, rec->config_digest, 64u << 20, &cfg, &len) < 0 ||
	    img_json_parse(cfg, len, rec->config_digest, &c) < 0)
		return NULL;
	json_object *o = json_object_new_object(), *tags = json_object_new_array(),
		    *digests = json_object_new_array(), *v;
	json_object_object_add(o, "Id", json_object_new_string(rec->config_digest));
	for (size_t i = 0; i < n; i++) {
		if (strcmp(all[i].manifest_digest, rec->manifest_digest) || !all[i].name)
			continue;
		struct img_ref ref;
		if (img_ref_parse(all[i].name, &ref) < 0)
			continue;
		_cleanup_free_ char *repo = img_ref_repo(&ref);
		if (ref.tag)
			json_object_array_add(tags, json_object_new_string(all[i].name));
		char d[512];
		snprintf(d, sizeof(d), "%s@%s", repo,
			 all[i].index_digest ? all[i].index_digest : all[i].manifest_digest);
		json_object_array_add(digests, json_object_new_string(d));
		img_ref_free(&ref);
	}
	json_object_object_add(o, "RepoTags", tags);
	json_object_object_add(o, "RepoDigests", digests);
	static const char *const keys[][2] = {
	    {"created", "Created"}, {"architecture", "Architecture"},
	    {"variant", "Variant"}, {"os", "Os"},
	    {"author", "Author"},   {"config", "Config"},
	    {"rootfs", "RootFS"},   {"history", "History"}};
	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++)
		if (json_object_object_get_ex(c, keys[i][0], &v))
			json_object_object_add(o, keys[i][1], json_object_get(v));
	json_object_object_add(o, "Size", json_object_new_uint64(rec->size));
	json_object_object_add(o, "ManifestDigest", json_object_new_string(rec->manifest_digest));
	json_object_put(c);
	return o;
}

int cmd_inspect_image(int argc, char **argv, struct deck_opts *g)
{
	if (argc < 2 || !strcmp(argv[1], "--help"))
		return argc < 2 ? deck_usage(argv[0], "requires at least 1 argument") : 0;
	struct img_store st;
	if (deck_open_store(g, &st) < 0)
		return 1;
	struct img_record *all = NULL;
	size_t n = 0;
	int rc = 0;
	if (img_store_list(&st, &all, &n) < 0) {
		img_store_close(&st);
		return deck_fail();
	}
	json_object *arr = json_object_new_array();
	for (int i = 1; i < argc; i++) {
		struct img_record rec = {0};
		json_object *o = NULL;
		if (deck_find(&st, argv[i], &rec) < 0 || !(o = inspect_one(&st, &rec, all, n))) {
			deck_fail();
			rc = 1;
		} else {
			json_object_array_add(arr, o);
		}
		img_record_clear(&rec);
	}
	puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						     JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
	img_records_free(all, n);
	img_store_close(&st);
	return rc;
}

/* ---- rmi, tag, prune ---- */

int cmd_rmi(int argc, char **argv, struct deck_opts *g)
{
	if (argc < 2)
		return deck_usage(argv[0], "\"deck rmi\" requires at least 1 argument");
	int first = 1;
	if (!strcmp(argv[1], "-f") || !strcmp(argv[1], "--force"))
		first = 2;
	struct img_store st;
	if (deck_open_store(g, &st) < 0)
		return 1;
	int rc = 0;
	for (int i = first; i < argc; i++) {
		struct img_record rec = {0};
		if (deck_find(&st, argv[i], &rec) < 0) {
			rc = deck_fail();
			continue;
		}
		/* A name removes that name; an ID removes the image with all its names. */
		struct img_ref ref;
		_cleanup_free_ char *canon = NULL;
		if (img_ref_parse(argv[i], &ref) == 0) {
			canon = img_ref_string(&ref);
			img_ref_free(&ref);
		}
		herr_clear();
		_cleanup_free_ char *short_name = deck_short_name(rec.name);
		int r = rec.name && canon && !strcmp(canon, rec.name)
			    ? img_store_untag(&st, rec.name)
			    : img_store_remove(&st, rec.manifest_digest);
		if (r < 0) {
			rc = deck_fail();
			img_record_clear(&rec);
			continue;
		}
		if (rec.name && canon && !strcmp(canon, rec.name))
			printf("Untagged: %s\n", short_name);
		/* Gone for good when no other name keeps the image. */
		struct img_record left = {0};
		if (img_store_find(&st, rec.config_digest, &left) < 0) {
			herr_clear();
			printf("Deleted: %s\n", rec.config_digest);
		}
		img_record_clear(&left);
		img_record_clear(&rec);
	}
	uint64_t freed = 0;
	if (img_store_prune(&st, &freed) < 0)
		rc = deck_fail();
	img_store_close(&st);
	return rc;
}

int cmd_tag(int argc, char **argv, struct deck_opts *g)
{
	if (argc != 3)
		return deck_usage(argv[0], "\"deck tag\" requires exactly 2 arguments");
	struct img_ref ref;
	if (img_ref_parse(argv[2], &ref) < 0)
		return deck_fail();
	if (ref.digest) {
		img_ref_free(&ref);
		return deck_usage(argv[0], "refusing to create a tag with a digest reference");
	}
	_cleanup_free_ char *name = img_ref_string(&ref);
	img_ref_free(&ref);
	struct img_store st;
	if (deck_open_store(g, &st) < 0)
		return 1;
	struct img_record rec = {0};
	int r = deck_find(&st, argv[1], &rec);
	if (r == 0) {
		free(rec.name);
		rec.name = strdup(name);
		r = img_store_set(&st, &rec);
	}
	img_record_clear(&rec);
	img_store_close(&st);
	return r < 0 ? deck_fail() : 0;
}

int cmd_image_prune(int argc, char **argv, struct deck_opts *g)
{
	bool all = argc > 1 && (!strcmp(argv[1], "-a") || !strcmp(argv[1], "--all"));
	struct img_store st;
	if (deck_open_store(g, &st) < 0)
		return 1;
	struct img_record *recs = NULL;
	size_t n = 0;
	int r = img_store_list(&st, &recs, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (recs[i].name && !all)
			continue;
		if ((r = img_store_remove(&st, recs[i].manifest_digest)) == 0)
			printf("deleted: %s\n", recs[i].config_digest);
		else if (r == -ENOENT) /* a second name of an image already removed */
			r = 0, herr_clear();
	}
	img_records_free(recs, n);
	uint64_t freed = 0;
	if (r == 0)
		r = img_store_prune(&st, &freed);
	img_store_close(&st);
	if (r < 0)
		return deck_fail();
	char sz[32];
	printf("Total reclaimed space: %s\n", deck_human_size(freed, sz));
	return 0;
}

int cmd_image(int argc, char **argv, struct deck_opts *g)
{
	if (argc < 2)
		return deck_usage("image", "requires a subcommand: inspect, ls, rm, tag, prune, "
					   "pull, load, save, import");
	static const struct {
		const char *name;
		int (*fn)(int, char **, struct deck_opts *);
	} subs[] = {{"inspect", cmd_inspect_image},
		    {"ls", cmd_images},
		    {"list", cmd_images},
		    {"rm", cmd_rmi},
		    {"tag", cmd_tag},
		    {"prune", cmd_image_prune},
		    {"pull", cmd_pull},
		    {"load", cmd_load},
		    {"save", cmd_save},
		    {"import", cmd_import},
		    {"bundle", cmd_image_bundle},
		    {"unpack-layer", cmd_image_unpack_layer}};
	for (size_t i = 0; i < sizeof(subs) / sizeof(*subs); i++)
		if (!strcmp(argv[1], subs[i].name)) {
			optind = 0;
			return subs[i].fn(argc - 1, argv + 1, g);
		}
	return deck_usage("image", "unknown subcommand \"%s\"", argv[1]);
}
