/*
 * Layers and snapshots: a layer blob (tar, tar+gzip, tar+zstd) is unpacked
 * once into <store>/snapshots/<chainid hex>/fs, whiteouts turned into overlay
 * whiteouts (".wh.x" -> a 0:0 char device "x", ".wh..wh..opq" -> the
 * trusted.overlay.opaque=y xattr on its dir); hardlinks, symlinks, device
 * nodes, fifos, xattrs, modes, owners and mtimes kept; an entry that would
 * land outside fs/ (absolute or ".." paths, links followed during
 * extraction) is refused. A container's rootfs is an overlay of the chain's
 * snapshots with its own upper and work dirs.
 */
#pragma once
#include <stddef.h>

#include "image/digest.h"
#include "image/store.h"

/*
 * The chain IDs of the image-spec: chain[0] = diff_ids[0], chain[i] =
 * sha256(chain[i-1] + " " + diff_ids[i]).
 */
void img_chain_ids(char *const *diff_ids, size_t n, char (*chain)[IMG_DIGEST_MAX]);

/*
 * Unpack the layer blob `layer_digest` (media type decides the decompression;
 * NULL: detect from magic bytes) as the snapshot for chain id `chain_id` on top
 * of parent_chain (NULL for the first layer). Verifies that the uncompressed
 * tar's sha256 equals diff_id. Unpacks into a temp dir and renames it into
 * place: a killed unpack leaves no half snapshot; two processes unpacking the
 * same chain are safe (flock). No-op when the snapshot exists.
 */
int img_layer_unpack(struct img_store *st, const char *layer_digest, const char *media_type,
		     const char *diff_id, const char *chain_id, const char *parent_chain);

/* Whether the snapshot for chain_id exists. */
bool img_snapshot_exists(struct img_store *st, const char *chain_id);

/*
 * The overlay mount options for a rootfs of the snapshots chain[0..n) with
 * upper/work dirs under `dir` (made here: dir/upper, dir/work, dir/merged):
 * "lowerdir=<top>:...:<bottom>,upperdir=...,workdir=..." (malloc'd). A
 * single-layer image still gets an overlay. With IMG_ROOTFS_MOUNT, also mounts
 * it on dir/merged; IMG_ROOTFS_VOLATILE adds overlay's "volatile" (no sync of
 * the upper dir ever, so no sync at unmount: for a container removed on exit,
 * whose upper dir does not outlive a crash).
 */
#define IMG_ROOTFS_MOUNT    1u
#define IMG_ROOTFS_VOLATILE 2u
int img_rootfs_prepare(struct img_store *st, char (*chain)[IMG_DIGEST_MAX], size_t n,
		       const char *dir, unsigned flags, char **overlay_opts);
