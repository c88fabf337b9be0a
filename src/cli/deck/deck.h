/* The deck command line: global options and one entry point per command. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/store.h"

struct deck_opts {
	const char *root; /* --root; default /var/lib/deck, or $DECK_ROOT */
};

/*
 * Each command gets argv from its own name (argv[0] = "pull") and returns the
 * exit status: 0, 1 for a failure, 125 for a usage error (as docker).
 */
int cmd_pull(int argc, char **argv, struct deck_opts *g);
int cmd_images(int argc, char **argv, struct deck_opts *g);
int cmd_image(int argc, char **argv, struct deck_opts *g); /* image inspect|ls|rm|prune|... */
int cmd_inspect_image(int argc, char **argv, struct deck_opts *g);
int cmd_rmi(int argc, char **argv, struct deck_opts *g);
int cmd_tag(int argc, char **argv, struct deck_opts *g);
int cmd_image_prune(int argc, char **argv, struct deck_opts *g);
int cmd_image_bundle(int argc, char **argv, struct deck_opts *g);
int cmd_load(int argc, char **argv, struct deck_opts *g);
int cmd_save(int argc, char **argv, struct deck_opts *g);
int cmd_import(int argc, char **argv, struct deck_opts *g);
int cmd_login(int argc, char **argv, struct deck_opts *g);
int cmd_logout(int argc, char **argv, struct deck_opts *g);
int cmd_network(int argc, char **argv, struct deck_opts *g); /* network create|ls|rm|inspect */
int cmd_volume(int argc, char **argv, struct deck_opts *g);  /* volume create|ls|rm|inspect */

/* util.c */
int deck_fail(void);				       /* prints herr_msg(), returns 1 */
int deck_usage(const char *cmd, const char *fmt, ...); /* returns 125 */
int deck_open_store(struct deck_opts *g, struct img_store *st);
/* "4.26MB" as docker prints sizes (SI units). */
const char *deck_human_size(uint64_t n, char buf[32]);
/* "3 hours ago", "About a minute ago", as docker prints times. */
const char *deck_human_ago(int64_t t, char buf[48]);
/* The short form of a record's name ("busybox:latest"), malloc'd; NULL for none. */
char *deck_short_name(const char *name);
/* An image by name (normalised as docker does), ID or digest. */
int deck_find(struct img_store *st, const char *q, struct img_record *out);
/* `deck X rm [-f] NAME...`: rm each name, printing it; 1 if any failed. */
int deck_rm_each(int argc, char **argv, struct deck_opts *g, const char *cmd,
		 int (*rm)(const char *root, const char *name, bool force));
/* The path of the binary name next to this one (deck-init, deck-image), into buf. */
const char *deck_sibling(const char *name, char buf[], size_t len);
/* Parse --tls-verify[=true|false]; returns -1 on a bad value. */
int deck_parse_bool(const char *flag, const char *v, bool *out);

/* containers.c, ps.c, exec.c */
int cmd_create(int argc, char **argv, struct deck_opts *g);
int cmd_run(int argc, char **argv, struct deck_opts *g);
int cmd_start(int argc, char **argv, struct deck_opts *g);
int cmd_restart(int argc, char **argv, struct deck_opts *g);
int cmd_stop(int argc, char **argv, struct deck_opts *g);
int cmd_kill(int argc, char **argv, struct deck_opts *g);
int cmd_rm(int argc, char **argv, struct deck_opts *g);
int cmd_wait(int argc, char **argv, struct deck_opts *g);
int cmd_pause(int argc, char **argv, struct deck_opts *g); /* pause and unpause */
int cmd_attach(int argc, char **argv, struct deck_opts *g);
int cmd_container(int argc, char **argv, struct deck_opts *g);
int cmd_ps(int argc, char **argv, struct deck_opts *g);
int cmd_inspect(int argc, char **argv, struct deck_opts *g); /* containers, else images */
int cmd_logs(int argc, char **argv, struct deck_opts *g);
int cmd_top(int argc, char **argv, struct deck_opts *g);
int cmd_exec(int argc, char **argv, struct deck_opts *g);

/*
 * The image tools that link libcurl and libarchive live in deck-image (the
 * same commands, a bigger binary); deck runs it for them (tool.c), so that
 * starting a container loads neither library.
 */
int cmd_image_unpack_layer(int argc, char **argv, struct deck_opts *g);
/* Pull ref into st and give its record (deck run of an image it does not have). */
int deck_pull(struct deck_opts *g, struct img_store *st, const char *ref, struct img_record *out);
int deck_unpack_layer(struct img_store *st, const char *layer_digest, const char *media_type,
		      const char *diff_id, const char *chain_id, const char *parent_chain);
