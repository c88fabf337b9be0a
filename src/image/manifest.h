/*
 * The documents of the image-spec and their docker twins: an image manifest
 * (OCI, docker schema2) names a config and layers; an index (OCI index,
 * docker manifest list) names one manifest per platform. Parsers check what
 * the rest of the engine relies on (digests, sizes, media types) and say
 * where a document is wrong: "manifest sha256:...: layers[1].size: ...".
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "image/digest.h"

struct json_object;

#define IMG_MT_OCI_MANIFEST	     "application/vnd.oci.image.manifest.v1+json"
#define IMG_MT_OCI_INDEX	     "application/vnd.oci.image.index.v1+json"
#define IMG_MT_OCI_CONFIG	     "application/vnd.oci.image.config.v1+json"
#define IMG_MT_OCI_LAYER	     "application/vnd.oci.image.layer.v1.tar"
#define IMG_MT_OCI_LAYER_GZIP	     "application/vnd.oci.image.layer.v1.tar+gzip"
#define IMG_MT_OCI_LAYER_ZSTD	     "application/vnd.oci.image.layer.v1.tar+zstd"
#define IMG_MT_OCI_LAYER_ND	     "application/vnd.oci.image.layer.nondistributable.v1.tar"
#define IMG_MT_OCI_LAYER_ND_GZIP     "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
#define IMG_MT_OCI_LAYER_ND_ZSTD     "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
#define IMG_MT_DOCKER_MANIFEST	     "application/vnd.docker.distribution.manifest.v2+json"
#define IMG_MT_DOCKER_LIST	     "application/vnd.docker.distribution.manifest.list.v2+json"
#define IMG_MT_DOCKER_SCHEMA1	     "application/vnd.docker.distribution.manifest.v1+json"
#define IMG_MT_DOCKER_SCHEMA1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define IMG_MT_DOCKER_CONFIG	     "application/vnd.docker.container.image.v1+json"
#define IMG_MT_DOCKER_LAYER	     "application/vnd.docker.image.rootfs.diff.tar"
#define IMG_MT_DOCKER_LAYER_GZIP     "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define IMG_MT_DOCKER_FOREIGN	     "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"

/* The Accept header a registry client sends for a manifest by tag. */
#define IMG_MANIFEST_ACCEPT                                                                        \
	IMG_MT_OCI_INDEX ", " IMG_MT_OCI_MANIFEST ", " IMG_MT_DOCKER_LIST                          \
			 ", " IMG_MT_DOCKER_MANIFEST

bool img_mt_is_manifest(const char *mt); /* OCI manifest, docker schema2 */
bool img_mt_is_index(const char *mt);	 /* OCI index, docker manifest list */
bool img_mt_is_config(const char *mt);	 /* OCI or docker image config */
enum img_compression { IMG_COMP_UNKNOWN, IMG_COMP_NONE, IMG_COMP_GZIP, IMG_COMP_ZSTD };
/* A layer media type's compression; IMG_COMP_UNKNOWN when it is not a layer type. */
enum img_compression img_mt_layer_compression(const char *mt);

struct img_platform {
	char *os;	    /* "linux" */
	char *architecture; /* "amd64", "arm64" ... (GOARCH names) */
	char *variant;	    /* "v7", "v8" or NULL */
};
void img_platform_clear(struct img_platform *p);
/* This machine's platform ("linux/amd64", "linux/arm64/v8", "linux/arm/v7" ...). */
int img_platform_default(struct img_platform *out);
/*
 * "os/arch[/variant]", or "arch" alone (os linux); NULL or "" is this
 * machine's. Normalised as containerd does: x86_64 -> amd64, aarch64 ->
 * arm64 (variant v8), armhf -> arm/v7, armel -> arm/v6, arm -> arm/v7.
 * A bad one: platform "x": <what is wrong>.
 */
int img_platform_parse(const char *s, struct img_platform *out);
/* "os/arch" or "os/arch/variant" (malloc'd). */
char *img_platform_string(const struct img_platform *p);
/* Whether an image of platform `have` runs where `want` is asked for, and how
 * well: 0 = no, 1 = the best (exact), larger = a worse fallback (arm/v7 asked,
 * arm/v6 offered; arm64 asked, arm/v7 offered). */
int img_platform_rank(const struct img_platform *want, const struct img_platform *have);

struct img_descriptor {
	char *media_type;
	char digest[IMG_DIGEST_MAX];
	uint64_t size;
	bool has_platform;
	struct img_platform platform;	 /* index entries only */
	struct json_object *annotations; /* owned reference, or NULL */
};
void img_descriptor_clear(struct img_descriptor *d);
/* The value of annotation key, or NULL. */
const char *img_descriptor_annotation(const struct img_descriptor *d, const char *key);

struct img_manifest {
	char *media_type; /* the document's mediaType, or the type it was given as */
	struct img_descriptor config;
	struct img_descriptor *layers;
	size_t n_layers;
};
void img_manifest_clear(struct img_manifest *m);

struct img_index {
	char *media_type;
	struct img_descriptor *manifests;
	size_t n_manifests;
};
void img_index_clear(struct img_index *ix);

/*
 * What a document fetched as a manifest is: from its mediaType field, else the
 * media type it came with (Content-Type; may be NULL), else its shape.
 * `digest` names it in errors ("manifest sha256:...: not JSON"); schema1 and
 * anything that is neither an image manifest nor an index are errors.
 */
int img_doc_is_index(const char *buf, size_t len, const char *digest, const char *media_type,
		     bool *is_index);
int img_manifest_parse(const char *buf, size_t len, const char *digest, const char *media_type,
		       struct img_manifest *out);
int img_index_parse(const char *buf, size_t len, const char *digest, const char *media_type,
		    struct img_index *out);

/*
 * The entry of an index for platform (as img_platform_parse takes it; NULL:
 * this machine's), the best ranked one. `ref` names the image in the error:
 * "no manifest for platform linux/arm64 in REF (it has: linux/amd64, linux/s390x)".
 */
int img_index_select(const struct img_index *ix, const char *platform, const char *ref,
		     const struct img_descriptor **out);

/* What the engine needs from an image config blob. */
struct img_config_summary {
	struct img_platform platform; /* os, architecture, variant (may be NULL) */
	int64_t created;	      /* seconds since the epoch, 0 when absent */
	char **diff_ids;	      /* rootfs.diff_ids */
	size_t n_diff_ids;
};
void img_config_summary_clear(struct img_config_summary *c);
/* Errors are named "config sha256:...: ...". */
int img_config_parse(const char *buf, size_t len, const char *digest,
		     struct img_config_summary *out);

/* An RFC 3339 time ("2023-05-18T22:34:17.37Z", "...+02:00") in seconds since
 * the epoch; -EINVAL (no message) when it is not one. */
int img_time_parse(const char *s, int64_t *out);
/* Now, as RFC 3339 in UTC with nanoseconds, into buf (at least 40 bytes). */
const char *img_time_now(char *buf, size_t len);

/* Parse a JSON document strictly (no trailing bytes, no NUL); otherwise the
 * error is "<what>: not JSON" (what = e.g. "manifest sha256:..."). */
int img_json_parse(const char *buf, size_t len, const char *what, struct json_object **out);
