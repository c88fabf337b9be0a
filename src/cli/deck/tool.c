/*
 * deck's stand-ins for the commands of deck-image: the binary that links
 * libcurl and libarchive (and their forty shared objects, 7 ms to load at
 * every start). deck hands those commands over to it whole, and runs it for
 * the pull or the unpacking that creating a container may need.
 */
#include "cli/deck/deck.h"
#include "common/error.h"
#include "common/strv.h"
#include "image/store.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *tool_path(void)
{
	static char path[PATH_MAX];
	return *path ? path : deck_sibling("deck-image", path, sizeof(path));
}

/* argv for deck-image: --root, then the command (under "image" when it is one of its). */
static char **tool_argv(const char *root, int argc, char **argv)
{
	char **v = NULL;
	bool ok = strv_push(&v, tool_path()) == 0 && strv_push(&v, "--root") == 0 &&
		  strv_push(&v, root) == 0;
	if (ok && (!strcmp(argv[0], "bundle") || !strcmp(argv[0], "unpack-layer")))
		ok = strv_push(&v, "image") == 0;
	for (int i = 0; ok && i < argc; i++)
		ok = strv_push(&v, argv[i]) == 0;
	if (!ok) {
		strv_free(v);
		return NULL;
	}
	return v;
}

static int hand_over(int argc, char **argv, struct deck_opts *g)
{
	char **v = tool_argv(g->root, argc, argv);
	if (!v) {
		fputs("deck: out of memory\n", stderr);
		return 125;
	}
	execv(v[0], v);
	fprintf(stderr, "deck: cannot run %s: %s\n", v[0], strerror(errno));
	strv_free(v);
	return 125;
}

int cmd_pull(int argc, char **argv, struct deck_opts *g)
{
	return hand_over(argc, argv, g);
}
int cmd_load(int argc, char **argv, struct deck_opts *g)
{
	return hand_over(argc, argv, g);
}
int cmd_save(int argc, char **argv, struct deck_opts *g)
{
	return hand_over(argc, argv, g);
}
int cmd_import(int argc, char **argv, struct deck_opts *g)
{
	return hand_over(argc, argv, g);
}
int cmd_login(int argc, char **argv, struct deck_opts *g)
{
	return hand_over(argc, argv, g);
}
int cmd_logout(int argc, char **argv, struct deck_opts *g)
{
	return hand_over(argc, argv, g);
}
int cmd_image_bundle(int argc, char **argv, struct deck_opts *g)
{
	return hand_over(argc, argv, g);
}
int cmd_image_unpack_layer(int argc, char **argv, struct deck_opts *g)
{
	return hand_over(argc, argv, g);
}

/* Run deck-image with its stdout on our stderr (run's stdout is the container's). */
static int run_tool(const char *root, int argc, char **argv)
{
	char **v = tool_argv(root, argc, argv);
	if (!v)
		return herr_set(ENOMEM, "out of memory");
	pid_t pid = fork();
	if (pid < 0) {
		strv_free(v);
		return herr_sys("fork");
	}
	if (pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execv(v[0], v);
		fprintf(stderr, "deck: cannot run %s: %s\n", v[0], strerror(errno));
		_exit(125);
	}
	strv_free(v);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return herr_sys("wait for deck-image");
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		return herr_set(EIO, "deck-image %s failed", argv[0]);
	return 0;
}

int deck_pull(struct deck_opts *g, struct img_store *st, const char *ref, struct img_record *out)
{
	char *argv[] = {"pull", "-q", (char *)ref, NULL};
	int r = run_tool(g->root, 3, argv);
	if (r < 0)
		return r;
	return deck_find(st, ref, out);
}

int deck_unpack_layer(struct img_store *st, const char *layer_digest, const char *media_type,
		      const char *diff_id, const char *chain_id, const char *parent_chain)
{
	(void)parent_chain;
	char *argv[] = {
	    "unpack-layer",  (char *)layer_digest, (char *)(media_type ? media_type : ""),
	    (char *)diff_id, (char *)chain_id,	   NULL};
	return run_tool(st->root, 5, argv);
}
