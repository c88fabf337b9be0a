/*
 * deck image bundle: an image made into an OCI bundle that any runtime runs —
 * DIR/config.json converted from the image config, DIR/merged an overlay of
 * the image's snapshots (unpacked now if a load or import left only blobs)
 * with DIR/upper and DIR/work. `deck run` builds on this; on its own it lets
 * `hull run -b DIR` (or runc, crun) run an image.
 */
#include "cli/deck/deck.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strv.h"
#include "engine/container.h"
#include "image/convert.h"
#include "image/layer.h"
#include "image/manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static const char bundle_usage[] =
    "Usage: deck image bundle [OPTIONS] IMAGE DIR [CMD...]\n"
    "\n"
    "Make DIR an OCI bundle of IMAGE: config.json and the rootfs DIR/merged (an\n"
    "overlay; `umount DIR/merged` when done).\n"
    "\n"
    "  --cgroups-path PATH  linux.cgroupsPath of the config\n"
    "  -e, --env K=V        add to the environment\n"
    "  -w, --workdir DIR    the working directory\n"
    "  -u, --user USER      user[:group], names or numbers\n"
    "  --entrypoint CMD     replace the image's entrypoint\n"
    "  -t, --tty            a terminal\n";

int cmd_image_bundle(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {{"cgroups-path", required_argument, NULL, 'c'},
					     {"env", required_argument, NULL, 'e'},
					     {"workdir", required_argument, NULL, 'w'},
					     {"user", required_argument, NULL, 'u'},
					     {"entrypoint", required_argument, NULL, 'E'},
					     {"tty", no_argument, NULL, 't'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	struct img_run_overrides o = {0};
	const char *cgpath = NULL;
	char *ep[2] = {NULL, NULL};
	_cleanup_strv_ char **env = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+e:w:u:th", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cgpath = optarg;
			break;
		case 'e':
			if (strv_push(&env, optarg) < 0)
				return deck_fail();
			break;
		case 'w':
			o.workdir = optarg;
			break;
		case 'u':
			o.user = optarg;
			break;
		case 'E':
			ep[0] = optarg;
			o.entrypoint = ep;
			break;
		case 't':
			o.terminal = true;
			break;
		case 'h':
			fputs(bundle_usage, stdout);
			return 0;
		default:
			return deck_usage("image bundle", "bad option");
		}
	}
	if (argc - optind < 2)
		return deck_usage("image bundle", "requires IMAGE and DIR");
	o.env = env;
	if (argc - optind > 2)
		o.cmd = argv + optind + 2;
	const char *dir = argv[optind + 1];
	if (mkdir(dir, 0711) < 0 && errno != EEXIST) {
		herr_sys("%s", dir);
		return deck_fail();
	}
	struct img_store st;
	if (deck_open_store(g, &st) < 0)
		return 1;
	struct img_record rec = {0};
	_cleanup_free_ char *cfg = NULL, *opts_str = NULL;
	size_t cfg_len = 0, n = 0;
	char(*chain)[IMG_DIGEST_MAX] = NULL;
	struct json_object *spec = NULL;
	struct img_config_info info = {0};
	char merged[PATH_MAX], path[PATH_MAX];
	snprintf(merged, sizeof(merged), "%s/merged", dir);
	int r = img_store_hold(&st);
	if (r == 0)
		r = deck_find(&st, argv[optind], &rec);
	if (r == 0)
		r = ctr_image_chain(&st, &rec, &cfg, &cfg_len, &chain, &n, img_layer_unpack);
	if (r == 0)
		r = img_rootfs_prepare(&st, chain, n, dir, IMG_ROOTFS_MOUNT, &opts_str);
	if (r == 0 && (r = img_convert(cfg, cfg_len, merged, &o, &spec, &info)) < 0)
		umount2(merged, MNT_DETACH);
	if (r == 0) {
		_cleanup_free_ char *abs = realpath(merged, NULL);
		struct json_object *root = NULL, *lnx = NULL;
		if (json_object_object_get_ex(spec, "root", &root))
			json_object_object_add(root, "path",
					       json_object_new_string(abs ? abs : merged));
		if (cgpath && json_object_object_get_ex(spec, "linux", &lnx))
			json_object_object_add(lnx, "cgroupsPath", json_object_new_string(cgpath));
		snprintf(path, sizeof(path), "%s/config.json", dir);
		if (json_object_to_file_ext(path, spec, JSON_C_TO_STRING_PRETTY) < 0) {
			r = herr_set(EIO, "%s: cannot write", path);
			umount2(merged, MNT_DETACH);
		}
	}
	json_object_put(spec);
	img_config_info_clear(&info);
	free(chain);
	img_record_clear(&rec);
	img_store_close(&st);
	return r < 0 ? deck_fail() : 0;
}

int deck_unpack_layer(struct img_store *st, const char *layer_digest, const char *media_type,
		      const char *diff_id, const char *chain_id, const char *parent_chain)
{
	return img_layer_unpack(st, layer_digest, media_type, diff_id, chain_id, parent_chain);
}

/* image unpack-layer DIGEST MEDIA-TYPE DIFF-ID CHAIN-ID: what deck asks of deck-image. */
int cmd_image_unpack_layer(int argc, char **argv, struct deck_opts *g)
{
	if (argc != 5)
		return deck_usage("image unpack-layer",
				  "requires DIGEST MEDIA-TYPE DIFF-ID CHAIN-ID");
	struct img_store st;
	if (deck_open_store(g, &st) < 0)
		return 1;
	int r = img_store_hold(&st);
	if (r == 0)
		r = img_layer_unpack(&st, argv[1], *argv[2] ? argv[2] : NULL, argv[3], argv[4],
				     NULL);
	img_store_close(&st);
	return r < 0 ? deck_fail() : 0;
}
