/*
 * deck pull (in deck-image: it links libcurl), and the pull that `deck run`
 * does for an image it does not have.
 */
#include "cli/deck/deck.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "image/pull.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- pull ---- */

struct progress {
	bool tty;
	uint64_t layers, done_layers;
};

static void on_progress(void *ctx, enum img_pull_event ev, const char *digest, uint64_t done,
			uint64_t total)
{
	struct progress *p = ctx;
	const char *hex = img_digest_hex(digest);
	char a[32], b[32];
	switch (ev) {
	case IMG_PULL_RESOLVED:
		break;
	case IMG_PULL_LAYER_START:
	case IMG_PULL_LAYER_BYTES:
		if (p->tty)
			fprintf(stderr, "\r\033[K%.12s: Downloading %s/%s", hex,
				deck_human_size(done, a), deck_human_size(total, b));
		break;
	case IMG_PULL_LAYER_EXISTS:
		fprintf(stderr, "%s%.12s: Already exists\n", p->tty ? "\r\033[K" : "", hex);
		break;
	case IMG_PULL_LAYER_DONE:
		if (p->tty)
			fprintf(stderr, "\r\033[K%.12s: Download complete", hex);
		break;
	case IMG_PULL_LAYER_UNPACKED:
		fprintf(stderr, "%s%.12s: Pull complete\n", p->tty ? "\r\033[K" : "", hex);
		break;
	}
}

static const char pull_usage[] =
    "Usage: deck pull [OPTIONS] NAME[:TAG|@DIGEST]\n"
    "\n"
    "  --platform OS/ARCH[/VARIANT]  the platform to pull (default: this machine's)\n"
    "  --tls-verify=false            plain http (and unverified https) to the registry\n"
    "  -u, --creds USER:PASS         credentials (default: deck login's)\n"
    "  -q, --quiet                   print only the image name\n";

int cmd_pull(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {{"platform", required_argument, NULL, 'p'},
					     {"tls-verify", optional_argument, NULL, 't'},
					     {"creds", required_argument, NULL, 'u'},
					     {"quiet", no_argument, NULL, 'q'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	struct img_pull_opts o = {.reg = {.tls_verify = true}};
	bool quiet = false;
	_cleanup_free_ char *creds = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+qu:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.platform = optarg;
			break;
		case 't':
			if (deck_parse_bool("--tls-verify", optarg, &o.reg.tls_verify) < 0)
				return 125;
			break;
		case 'u':
			free(creds);
			creds = strdup(optarg);
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(pull_usage, stdout);
			return 0;
		default:
			return deck_usage("pull", "bad option");
		}
	}
	if (optind + 1 != argc)
		return deck_usage("pull", "\"deck pull\" requires exactly 1 argument");
	if (creds) {
		char *colon = strchr(creds, ':');
		if (!colon)
			return deck_usage("pull", "--creds: expected USER:PASSWORD");
		*colon = 0;
		o.reg.username = creds;
		o.reg.password = colon + 1;
	}
	struct progress pr = {.tty = isatty(STDERR_FILENO) && !quiet};
	if (!quiet) {
		o.progress = on_progress;
		o.ctx = &pr;
	}
	struct img_store st;
	if (deck_open_store(g, &st) < 0)
		return 1;
	struct img_record rec = {0};
	int r = img_pull(&st, argv[optind], &o, &rec);
	img_store_close(&st);
	if (r < 0)
		return deck_fail();
	if (!quiet) {
		printf("Digest: %s\n", rec.index_digest ? rec.index_digest : rec.manifest_digest);
	}
	printf("%s\n", rec.name);
	img_record_clear(&rec);
	return 0;
}

int deck_pull(struct deck_opts *g, struct img_store *st, const char *ref, struct img_record *out)
{
	(void)g;
	struct img_pull_opts o = {.reg = {.tls_verify = true}};
	struct progress pr = {.tty = isatty(STDERR_FILENO)};
	o.progress = on_progress;
	o.ctx = &pr;
	return img_pull(st, ref, &o, out);
}
