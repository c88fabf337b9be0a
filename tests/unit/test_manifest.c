/* Manifests, indexes, platform selection, image configs, times. */
#include "tap.h"
#include "common/error.h"
#include "image/manifest.h"
#include <errno.h>
#include <stdlib.h>

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"
#define D4 "sha256:4444444444444444444444444444444444444444444444444444444444444444"
#define DM "sha256:abababababababababababababababababababababababababababababababab"

/* Fixtures use ' for ", so they read like JSON. */
static char *unquote(const char *sq)
{
	char *d = strdup(sq);
	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	return d;
}

static void test_media_types(void)
{
	ok(img_mt_is_manifest(IMG_MT_OCI_MANIFEST) && img_mt_is_manifest(IMG_MT_DOCKER_MANIFEST),
	   "manifest types");
	ok(img_mt_is_index(IMG_MT_OCI_INDEX) && img_mt_is_index(IMG_MT_DOCKER_LIST), "index types");
	ok(!img_mt_is_index(IMG_MT_OCI_MANIFEST) && !img_mt_is_manifest(NULL), "not index, NULL");
	ok(img_mt_is_config(IMG_MT_OCI_CONFIG) && img_mt_is_config(IMG_MT_DOCKER_CONFIG),
	   "config types");
	is_int(img_mt_layer_compression(IMG_MT_OCI_LAYER), IMG_COMP_NONE, "oci tar");
	is_int(img_mt_layer_compression(IMG_MT_DOCKER_LAYER), IMG_COMP_NONE, "docker tar");
	is_int(img_mt_layer_compression(IMG_MT_OCI_LAYER_GZIP), IMG_COMP_GZIP, "oci gzip");
	is_int(img_mt_layer_compression(IMG_MT_DOCKER_LAYER_GZIP), IMG_COMP_GZIP, "docker gzip");
	is_int(img_mt_layer_compression(IMG_MT_OCI_LAYER_ZSTD), IMG_COMP_ZSTD, "oci zstd");
	is_int(img_mt_layer_compression("text/plain"), IMG_COMP_UNKNOWN, "not a layer");
}

static void platform_is(const char *in, const char *want)
{
	struct img_platform p;
	herr_clear();
	int r = img_platform_parse(in, &p);
	char *s = r == 0 ? img_platform_string(&p) : NULL;
	is_str(s ? s : herr_msg(), want, "platform \"%s\"", in ? in : "(null)");
	free(s);
	if (r == 0)
		img_platform_clear(&p);
}

static int rank(const char *want, const char *have)
{
	struct img_platform w, h;
	if (img_platform_parse(want, &w) < 0 || img_platform_parse(have, &h) < 0)
		return -1;
	int r = img_platform_rank(&w, &h);
	img_platform_clear(&w);
	img_platform_clear(&h);
	return r;
}

static void test_platforms(void)
{
	struct img_platform def;
	is_int(img_platform_default(&def), 0, "default platform");
	char *ds = img_platform_string(&def);
#if defined(__x86_64__)
	is_str(ds, "linux/amd64", "this machine is linux/amd64");
#elif defined(__aarch64__)
	is_str(ds, "linux/arm64/v8", "this machine is linux/arm64/v8");
#else
	ok(ds != NULL, "this machine: %s", ds);
#endif
	platform_is(NULL, ds);
	platform_is("", ds);
	free(ds);
	img_platform_clear(&def);
	platform_is("linux/amd64", "linux/amd64");
	platform_is("Linux/X86_64", "linux/amd64");
	platform_is("linux/amd64/v1", "linux/amd64");
	platform_is("linux/amd64/v3", "linux/amd64/v3");
	platform_is("linux/arm64", "linux/arm64/v8");
	platform_is("linux/aarch64", "linux/arm64/v8");
	platform_is("linux/arm64/8", "linux/arm64/v8");
	platform_is("linux/arm", "linux/arm/v7");
	platform_is("linux/arm/6", "linux/arm/v6");
	platform_is("linux/armhf", "linux/arm/v7");
	platform_is("linux/armel", "linux/arm/v6");
	platform_is("linux/i386", "linux/386");
	platform_is("s390x", "linux/s390x");
	platform_is("linux/riscv64", "linux/riscv64");
	platform_is("linux", "platform \"linux\": no architecture");
	platform_is("linux//v7", "platform \"linux//v7\": expected os/arch[/variant]");
	platform_is("a/b/c/d", "platform \"a/b/c/d\": expected os/arch[/variant]");
	platform_is("linux/amd 64", "platform \"linux/amd 64\": expected os/arch[/variant]");

	is_int(rank("linux/amd64", "linux/amd64"), 1, "rank amd64 exact");
	is_int(rank("linux/amd64", "linux/386"), 2, "rank amd64 runs 386");
	is_int(rank("linux/amd64", "linux/amd64/v2"), 0, "rank amd64 does not run v2");
	is_int(rank("linux/amd64/v3", "linux/amd64/v2"), 2, "rank amd64/v3 runs v2");
	is_int(rank("linux/amd64/v3", "linux/amd64"), 3, "rank amd64/v3 runs v1");
	is_int(rank("linux/arm64", "linux/arm64/v8"), 1, "rank arm64 = arm64/v8");
	is_int(rank("linux/arm64/v8", "linux/aarch64"), 1, "rank arm64/v8 = aarch64");
	is_int(rank("linux/arm64", "linux/arm/v7"), 3, "rank arm64 runs arm/v7");
	is_int(rank("linux/arm", "linux/arm/v6"), 2, "rank arm/v7 runs arm/v6");
	is_int(rank("linux/arm/v6", "linux/arm/v7"), 0, "rank arm/v6 does not run v7");
	is_int(rank("linux/arm64", "linux/amd64"), 0, "rank arm64 vs amd64");
	is_int(rank("linux/amd64", "windows/amd64"), 0, "rank other os");
}

static void doc_error(const char *sq, const char *want)
{
	char *d = unquote(sq);
	bool is_index;
	herr_clear();
	int r = img_doc_is_index(d, strlen(d), DM, NULL, &is_index);
	ok(r < 0, "error expected: %s", want);
	has_prefix(herr_msg(), want, "  message");
	free(d);
}

static void manifest_error(const char *sq, const char *want)
{
	char *d = unquote(sq);
	struct img_manifest m;
	herr_clear();
	int r = img_manifest_parse(d, strlen(d), DM, NULL, &m);
	ok(r < 0, "manifest error expected: %s", want + strlen("manifest " DM ": "));
	is_str(herr_msg(), want, "  message");
	free(d);
}

#define LAYER(mt, d, s) "{'mediaType':'" mt "','digest':'" d "','size':" #s "}"
#define OCI_MANIFEST                                                                               \
	"{'schemaVersion':2,'mediaType':'" IMG_MT_OCI_MANIFEST "','config':"                       \
	"{'mediaType':'" IMG_MT_OCI_CONFIG "','digest':'" D1 "','size':100},"                      \
	"'layers':[" LAYER(IMG_MT_OCI_LAYER_GZIP, D2, 200) "," LAYER(IMG_MT_OCI_LAYER_ZSTD, D3,    \
								     300) "]}"
#define DOCKER_MANIFEST                                                                            \
	"{'schemaVersion':2,'mediaType':'" IMG_MT_DOCKER_MANIFEST "','config':"                    \
	"{'mediaType':'" IMG_MT_DOCKER_CONFIG "','digest':'" D1 "','size':7023},"                  \
	"'layers':[" LAYER(IMG_MT_DOCKER_LAYER_GZIP, D2, 2811321) "]}"

static void test_manifests(void)
{
	struct img_manifest m;
	char *d = unquote(OCI_MANIFEST);
	bool is_index = true;
	is_int(img_doc_is_index(d, strlen(d), DM, NULL, &is_index), 0, "OCI manifest: kind");
	ok(!is_index, "  not an index");
	is_int(img_manifest_parse(d, strlen(d), DM, NULL, &m), 0, "OCI manifest parses");
	is_str(m.media_type, IMG_MT_OCI_MANIFEST, "  media type");
	is_str(m.config.digest, D1, "  config digest");
	is_int(m.config.size, 100, "  config size");
	is_str(m.config.media_type, IMG_MT_OCI_CONFIG, "  config media type");
	is_int(m.n_layers, 2, "  two layers");
	is_str(m.layers[1].digest, D3, "  layer 1 digest");
	is_int(m.layers[1].size, 300, "  layer 1 size");
	is_str(m.layers[1].media_type, IMG_MT_OCI_LAYER_ZSTD, "  layer 1 media type");
	img_manifest_clear(&m);
	struct img_index ix;
	is_int(img_index_parse(d, strlen(d), DM, NULL, &ix), -EINVAL, "a manifest is not an index");
	is_str(herr_msg(), "manifest " DM ": is an image manifest, not an index", "  message");
	free(d);

	d = unquote(DOCKER_MANIFEST);
	is_int(img_manifest_parse(d, strlen(d), DM, NULL, &m), 0, "docker schema2 manifest parses");
	is_str(m.media_type, IMG_MT_DOCKER_MANIFEST, "  media type");
	is_int(m.layers[0].size, 2811321, "  layer size");
	img_manifest_clear(&m);
	free(d);

	/* No mediaType in the document: the Content-Type, else the shape. */
	d = unquote("{'schemaVersion':2,'config':{'mediaType':'" IMG_MT_OCI_CONFIG "','digest':'" D1
		    "','size':1},'layers':[]}");
	is_int(img_manifest_parse(d, strlen(d), DM, IMG_MT_DOCKER_MANIFEST, &m), 0,
	       "manifest without mediaType");
	is_str(m.media_type, IMG_MT_DOCKER_MANIFEST, "  takes the given type");
	is_int(m.n_layers, 0, "  no layers");
	img_manifest_clear(&m);
	is_int(img_manifest_parse(d, strlen(d), DM, "application/json", &m), 0, "by its shape");
	is_str(m.media_type, IMG_MT_OCI_MANIFEST, "  an OCI manifest");
	img_manifest_clear(&m);
	free(d);

#define P "manifest " DM ": "
	doc_error("{'schemaVersion':2,", P "not JSON: \"{\\\"schemaVersion\\\":2,\"");
	doc_error("<html>oops</html>", P "not JSON: \"<html>oops</html>\"");
	doc_error("{'a':1} x", P "not JSON");
	doc_error("", P "not JSON");
	doc_error("[1]", P "expected a JSON object, got array");
	doc_error("{'schemaVersion':1,'name':'x'}",
		  P "docker schema 1 manifests are not supported");
	doc_error("{'schemaVersion':2,'mediaType':'" IMG_MT_DOCKER_SCHEMA1_SIGNED "'}",
		  P "docker schema 1 manifests are not supported");
	doc_error("{'schemaVersion':3,'config':{},'layers':[]}",
		  P "schemaVersion: expected 2, got 3");
	doc_error("{'config':{},'layers':[]}", P "schemaVersion: missing");
	doc_error("{'schemaVersion':2,'mediaType':'text/html'}",
		  P "media type \"text/html\" is neither an image manifest nor an index");
	doc_error("{'schemaVersion':2}", P "neither an image manifest nor an index");

	manifest_error("{'schemaVersion':2,'layers':[]}", P "config: missing");
	manifest_error("{'schemaVersion':2,'config':{'mediaType':'x','digest':'sha256:12',"
		       "'size':1},'layers':[]}",
		       P "config.digest: not a valid digest: \"sha256:12\"");
	manifest_error("{'schemaVersion':2,'config':{'mediaType':'x','digest':'" D1
		       "','size':-1},'layers':[]}",
		       P "config.size: expected a non-negative integer, got -1");
	manifest_error("{'schemaVersion':2,'config':{'mediaType':'x','digest':'" D1
		       "','size':'1'},'layers':[]}",
		       P "config.size: expected a non-negative integer, got string \"1\"");
	manifest_error("{'schemaVersion':2,'config':{'digest':'" D1 "','size':1},'layers':[]}",
		       P "config.mediaType: missing");
	manifest_error("{'schemaVersion':2,'config':{'mediaType':'x','digest':'" D1
		       "','size':1},'layers':{}}",
		       P "layers: expected an array");
	manifest_error("{'schemaVersion':2,'config':{'mediaType':'x','digest':'" D1
		       "','size':1},'layers':[{'mediaType':'x','digest':'" D2
		       "','size':1},{'digest':'" D2 "','size':1}]}",
		       P "layers[1].mediaType: missing");
	manifest_error("{'schemaVersion':2,'config':{'mediaType':'x','digest':'" D1
		       "','size':1},'layers':[{'mediaType':'x','size':1}]}",
		       P "layers[0].digest: missing");
	manifest_error("{'schemaVersion':2,'config':{'mediaType':'x','digest':'" D1
		       "','size':1},'layers':[{'mediaType':7,'digest':'" D2 "','size':1}]}",
		       P "layers[0].mediaType: expected a string, got 7");
	manifest_error("{'schemaVersion':2,'manifests':[]}",
		       P "is an index, not an image manifest");
}

#define ENTRY(d, os, arch, extra)                                                                  \
	"{'mediaType':'" IMG_MT_OCI_MANIFEST "','digest':'" d "','size':500,'platform':{'os':'" os \
	"','architecture':'" arch "'" extra "}}"

static const struct img_descriptor *select_for(struct img_index *ix, const char *platform)
{
	const struct img_descriptor *d = NULL;
	herr_clear();
	if (img_index_select(ix, platform, "docker.io/library/x:1", &d) < 0)
		return NULL;
	return d;
}

static void test_indexes(void)
{
	char *d = unquote(
	    "{'schemaVersion':2,'mediaType':'" IMG_MT_OCI_INDEX
	    "','manifests':[" ENTRY(D1, "linux", "amd64", "") "," ENTRY(
		D2, "linux", "arm64",
		",'variant':'v8'") "," ENTRY(D3, "linux", "arm",
					     ",'variant':'v6'") "," ENTRY(D4, "linux", "s390x",
									  "") ",{'mediaType':"
									      "'" IMG_MT_OCI_MANIFEST
									      "','digest':'" DM
									      "','size':1,'"
									      "annotations':{'vnd."
									      "docker.reference."
									      "type':'attestation-"
									      "manifest'},'"
									      "platform':{'os':'"
									      "unknown','"
									      "architecture':'"
									      "unknown'}}]}");
	struct img_index ix;
	bool is_index = false;
	is_int(img_doc_is_index(d, strlen(d), DM, NULL, &is_index), 0, "index: kind");
	ok(is_index, "  an index");
	is_int(img_index_parse(d, strlen(d), DM, NULL, &ix), 0, "OCI index parses");
	is_int(ix.n_manifests, 5, "  five entries");
	is_str(ix.manifests[1].platform.architecture, "arm64", "  entry 1 arch");
	is_str(ix.manifests[1].platform.variant, "v8", "  entry 1 variant");
	ok(ix.manifests[0].has_platform && ix.manifests[0].platform.variant == NULL,
	   "  entry 0 has no variant");
	is_str(img_descriptor_annotation(&ix.manifests[4], "vnd.docker.reference.type"),
	       "attestation-manifest", "  annotation");
	ok(img_descriptor_annotation(&ix.manifests[0], "x") == NULL, "  no annotation");
	free(d);

	const struct img_descriptor *s;
	s = select_for(&ix, "linux/amd64");
	is_str(s ? s->digest : herr_msg(), D1, "select linux/amd64");
	s = select_for(&ix, "linux/arm64");
	is_str(s ? s->digest : herr_msg(), D2, "select linux/arm64 (entry says v8)");
	s = select_for(&ix, "linux/arm/v7");
	is_str(s ? s->digest : herr_msg(), D3, "select linux/arm/v7 falls back to arm/v6");
	s = select_for(&ix, "linux/s390x");
	is_str(s ? s->digest : herr_msg(), D4, "select linux/s390x");
#if defined(__x86_64__)
	s = select_for(&ix, NULL);
	is_str(s ? s->digest : herr_msg(), D1, "select default (this machine)");
#endif
	s = select_for(&ix, "linux/ppc64le");
	is_str(s ? "found" : herr_msg(),
	       "no manifest for platform linux/ppc64le in docker.io/library/x:1 (it has: "
	       "linux/amd64, linux/arm64/v8, linux/arm/v6, linux/s390x, unknown/unknown)",
	       "select a missing platform: message");
	s = select_for(&ix, "linux/arm/v5");
	ok(!s, "arm/v5 does not run arm/v6");
	s = select_for(&ix, "bad platform");
	has_prefix(s ? "found" : herr_msg(), "platform \"bad platform\":", "bad platform string");
	img_index_clear(&ix);

	/* arm64 prefers its own entry over arm/v7's; docker list with no variant. */
	d = unquote("{'schemaVersion':2,'mediaType':'" IMG_MT_DOCKER_LIST
		    "','manifests':[" ENTRY(D1, "linux", "arm", ",'variant':'v7'") "," ENTRY(
			D2, "linux", "arm64", "") "," ENTRY(D3, "linux", "amd64", "") "]}");
	is_int(img_index_parse(d, strlen(d), DM, NULL, &ix), 0, "docker manifest list parses");
	is_str(ix.media_type, IMG_MT_DOCKER_LIST, "  media type");
	s = select_for(&ix, "linux/arm64/v8");
	is_str(s ? s->digest : herr_msg(), D2, "select arm64/v8 matches arm64 without variant");
	img_index_clear(&ix);
	free(d);
	d = unquote("{'schemaVersion':2,'manifests':[" ENTRY(
	    D1, "linux", "arm", ",'variant':'v7'") "," ENTRY(D3, "linux", "amd64", "") "]}");
	is_int(img_index_parse(d, strlen(d), DM, NULL, &ix), 0, "index without mediaType");
	s = select_for(&ix, "linux/arm64");
	is_str(s ? s->digest : herr_msg(), D1, "arm64 falls back to arm/v7");
	s = select_for(&ix, "linux/arm64/v9");
	is_str(s ? s->digest : herr_msg(), D1, "arm64/v9 falls back to arm/v7 too");
	img_index_clear(&ix);
	free(d);

	d = unquote("{'schemaVersion':2,'manifests':[{'digest':'" D1
		    "','size':1,'platform':{'architecture':'amd64'}}]}");
	is_int(img_index_parse(d, strlen(d), DM, NULL, &ix), -EINVAL, "platform without os");
	is_str(herr_msg(), P "manifests[0].platform.os: missing", "  message");
	free(d);
	d = unquote("{'schemaVersion':2,'manifests':[{'digest':'" D1 "','size':1,'platform':3}]}");
	is_int(img_index_parse(d, strlen(d), DM, NULL, &ix), -EINVAL, "platform not an object");
	is_str(herr_msg(), P "manifests[0].platform: expected an object, got 3", "  message");
	free(d);
	d = unquote("{'schemaVersion':2,'manifests':[]}");
	is_int(img_index_parse(d, strlen(d), DM, NULL, &ix), 0, "empty index");
	s = select_for(&ix, "linux/amd64");
	has_prefix(s ? "found" : herr_msg(),
		   "no manifest for platform linux/amd64 in docker.io/library/x:1 (it has: no "
		   "platform manifests)",
		   "  nothing to select");
	img_index_clear(&ix);
	free(d);
}

static void test_configs(void)
{
	struct img_config_summary c;
	char *d =
	    unquote("{'architecture':'arm64','os':'linux','variant':'v8','created':'2023-05-18T22:"
		    "34:17.370716Z','config':{'Cmd':['sh']},'rootfs':{'type':'layers',"
		    "'diff_ids':['" D1 "','" D2 "']}}");
	is_int(img_config_parse(d, strlen(d), D4, &c), 0, "config parses");
	is_str(c.platform.os, "linux", "  os");
	is_str(c.platform.architecture, "arm64", "  architecture");
	is_str(c.platform.variant, "v8", "  variant");
	is_int(c.created, 1684449257, "  created");
	is_int(c.n_diff_ids, 2, "  two diff_ids");
	is_str(c.diff_ids[1], D2, "  diff_ids[1]");
	img_config_summary_clear(&c);
	free(d);
	d = unquote("{'rootfs':{'type':'layers','diff_ids':['" D1 "', 5]}}");
	is_int(img_config_parse(d, strlen(d), D4, &c), -EINVAL, "bad diff_id");
	is_str(herr_msg(), "config " D4 ": rootfs.diff_ids[1]: not a digest: 5", "  message");
	free(d);
	d = unquote("{'os':'linux'}");
	is_int(img_config_parse(d, strlen(d), D4, &c), -EINVAL, "no rootfs");
	is_str(herr_msg(), "config " D4 ": rootfs: missing", "  message");
	free(d);
	d = unquote("{'created':'yesterday','rootfs':{'diff_ids':[]}}");
	is_int(img_config_parse(d, strlen(d), D4, &c), -EINVAL, "bad created");
	is_str(herr_msg(), "config " D4 ": created: not an RFC 3339 time: \"yesterday\"",
	       "  message");
	free(d);
}

static void time_is(const char *s, int64_t want)
{
	int64_t t = -1;
	int r = img_time_parse(s, &t);
	is_int(r < 0 ? -1 : t, want, "time %s", s);
}

static void test_times(void)
{
	time_is("1970-01-01T00:00:00Z", 0);
	time_is("2023-05-18T22:34:17.370716Z", 1684449257);
	time_is("2023-05-18T22:34:17+02:00", 1684449257 - 7200);
	time_is("2023-05-18T22:34:17.5-01:30", 1684449257 + 5400);
	time_is("2023-05-18 22:34:17Z", 1684449257);
	time_is("2023-05-18T22:34:17", -1);
	time_is("2023-13-18T22:34:17Z", -1);
	time_is("2023-05-18T22:34:17.Z", -1);
	time_is("2023-05-18T22:34:17Zjunk", -1);
	char buf[64];
	int64_t t;
	img_time_now(buf, sizeof(buf));
	ok(img_time_parse(buf, &t) == 0 && t > 1700000000, "now parses back (%s)", buf);
}

int main(void)
{
	test_media_types();
	test_platforms();
	test_manifests();
	test_indexes();
	test_configs();
	test_times();
	return tap_done();
}
