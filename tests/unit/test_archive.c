/* deck import / save / load: round trips through both formats, config
 * changes, and archives that must be refused (a corrupt blob, a layer that
 * is not its diff_id, no image at all). */
#include "tap.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "image/archive.h"
#include "image/manifest.h"
#include "image/store.h"
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

static char top[256];

static char *path_of(const char *name)
{
	char *p;
	if (asprintf(&p, "%s/%s", top, name) < 0)
		abort();
	return p;
}

/* A tar (gzip'd when gz) of name -> content pairs; a name ending in / is a dir. */
static char *make_tar(const char *file, bool gz, const char *const *kv)
{
	char *p = path_of(file);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (gz)
		archive_write_add_filter_gzip(a);
	archive_write_open_filename(a, p);
	for (; kv[0]; kv += 2) {
		struct archive_entry *e = archive_entry_new();
		size_t n = strlen(kv[0]);
		bool dir = kv[0][n - 1] == '/';
		archive_entry_set_pathname(e, kv[0]);
		archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
		archive_entry_set_perm(e, dir ? 0755 : 0644);
		archive_entry_set_size(e, dir ? 0 : (la_int64_t)strlen(kv[1]));
		archive_write_header(a, e);
		if (!dir)
			archive_write_data(a, kv[1], strlen(kv[1]));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	return p;
}

static int open_ro(const char *p)
{
	return open(p, O_RDONLY | O_CLOEXEC);
}

static size_t count_blobs(const char *root)
{
	char p[600];
	snprintf(p, sizeof(p), "%s/blobs/sha256", root);
	DIR *d = opendir(p);
	size_t n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static struct json_object *read_config(struct img_store *st, const char *digest)
{
	char *buf = NULL;
	size_t len;
	struct json_object *o = NULL;
	if (img_store_read_blob(st, digest, 1 << 20, &buf, &len) == 0)
		img_json_parse(buf, len, "config", &o);
	free(buf);
	return o;
}

static const char *jpath(struct json_object *o, const char *a, const char *b)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, a, &v) || (b && !json_object_object_get_ex(v, b, &v)))
		return NULL;
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void test_changes(void)
{
	struct json_object *c = json_object_new_object();
	is_int(img_config_apply_change(c, "CMD [\"/bin/sh\", \"-c\", \"echo hi\"]"), 0, "CMD exec");
	is_int(img_config_apply_change(c, "entrypoint /bin/echo hello"), 0, "ENTRYPOINT shell");
	is_int(img_config_apply_change(c, "ENV A=1 B=\"two words\" C=x\\ y"), 0, "ENV pairs");
	is_int(img_config_apply_change(c, "ENV A=one"), 0, "ENV replaces");
	is_int(img_config_apply_change(c, "ENV OLD form value"), 0, "ENV old form");
	is_int(img_config_apply_change(c, "EXPOSE 80 53/udp 8000-8001"), 0, "EXPOSE");
	is_int(img_config_apply_change(c, "VOLUME [\"/data\"]"), 0, "VOLUME json");
	is_int(img_config_apply_change(c, "VOLUME /a /b"), 0, "VOLUME words");
	is_int(img_config_apply_change(c, "LABEL a=b \"c d\"=e"), 0, "LABEL");
	is_int(img_config_apply_change(c, "WORKDIR /srv"), 0, "WORKDIR");
	is_int(img_config_apply_change(c, "USER 1000:1000"), 0, "USER");
	is_int(img_config_apply_change(c, "STOPSIGNAL SIGINT"), 0, "STOPSIGNAL");
	is_str(json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE),
	       "{\"Cmd\":[\"/bin/sh\",\"-c\",\"echo hi\"],\"Entrypoint\":[\"/bin/sh\",\"-c\","
	       "\"/bin/echo hello\"],\"Env\":[\"A=one\",\"B=two words\",\"C=x y\",\"OLD=form "
	       "value\"],\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{},\"8000/tcp\":{},"
	       "\"8001/tcp\":{}},\"Volumes\":{\"/data\":{},\"/a\":{},\"/b\":{}},\"Labels\":{\"a\":"
	       "\"b\",\"c d\":\"e\"},\"WorkingDir\":\"/srv\",\"User\":\"1000:1000\",\"StopSignal\":"
	       "\"SIGINT\"}",
	       "the config");
	struct {
		const char *change, *msg;
	} bad[] = {
	    {"FROM busybox", "change \"FROM busybox\": unknown instruction"},
	    {"CMD [\"a\", 1]", "change \"CMD [\\\"a\\\", 1]\": not a JSON array of strings"},
	    {"EXPOSE 70000", "change \"EXPOSE 70000\": \"70000\": not a port"},
	    {"EXPOSE 80/xyz", "change \"EXPOSE 80/xyz\": \"80\": not a port"},
	    {"ENV =x", "change \"ENV =x\": \"=x\": expected KEY=VALUE"},
	    {"ENV A=\"open", "change \"ENV A=\\\"open\": expected KEY=VALUE"},
	    {"WORKDIR", "change \"WORKDIR\": WORKDIR needs a value"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		herr_clear();
		ok(img_config_apply_change(c, bad[i].change) < 0, "refused: %s", bad[i].change);
		has_prefix(herr_msg(), bad[i].msg, "  message");
	}
	json_object_put(c);
	enum img_archive_format f;
	ok(img_archive_format_parse("oci-archive", &f) == 0 && f == IMG_ARCHIVE_OCI, "format oci");
	ok(img_archive_format_parse("docker", &f) == 0 && f == IMG_ARCHIVE_DOCKER, "format docker");
	ok(img_archive_format_parse("zip", &f) < 0, "format zip refused");
	is_str(herr_msg(), "format \"zip\": expected docker-archive or oci-archive", "  message");
}

static void test_round_trip(void)
{
	const char *files[] = {"bin/",	     "",
			       "bin/hello",  "#!/bin/sh\necho hello\n",
			       "etc/passwd", "root:x:0:0::/root:/bin/sh\n",
			       NULL};
	_cleanup_free_ char *rootfs = make_tar("rootfs.tar.gz", true, files);
	_cleanup_free_ char *r1 = path_of("s1"), *r2 = path_of("s2");
	struct img_store s1, s2;
	if (img_store_open(r1, &s1) < 0 || img_store_open(r2, &s2) < 0)
		return;
	char *changes[] = {"CMD [\"/bin/hello\"]", "ENV GREETING=hi", NULL};
	struct img_import_opts o = {.name = "example.com/app:1", .changes = changes};
	struct img_record rec;
	int fd = open_ro(rootfs);
	is_int(img_archive_import(&s1, fd, "rootfs.tar.gz", &o, &rec), 0, "import");
	close(fd);
	is_str(rec.name, "example.com/app:1", "  named");
	struct json_object *cfg = read_config(&s1, rec.config_digest);
	is_str(jpath(cfg, "config", "Cmd"), "[\"/bin/hello\"]", "  Cmd");
	is_str(jpath(cfg, "config", "Env"), "[\"GREETING=hi\"]", "  Env");
	is_str(jpath(cfg, "os", NULL), "\"linux\"", "  os");
	is_str(jpath(cfg, "rootfs", "type"), "\"layers\"", "  rootfs.type");
	ok(jpath(cfg, "created", NULL) != NULL, "  created");
	json_object_put(cfg);
	struct img_record found;
	is_int(img_store_find(&s1, "example.com/app:1", &found), 0, "  recorded");
	is_str(found.manifest_digest, rec.manifest_digest, "  same manifest");
	img_record_clear(&found);

	for (int fmt = 0; fmt < 2; fmt++) {
		const char *fname = fmt == IMG_ARCHIVE_OCI ? "oci.tar" : "docker.tar";
		_cleanup_free_ char *out = path_of(fname);
		fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		is_int(img_archive_save(&s1, &rec, 1, (enum img_archive_format)fmt, fd), 0,
		       "save %s", fname);
		close(fd);
		struct img_record *added = NULL;
		size_t n = 0;
		fd = open_ro(out);
		is_int(img_archive_load(&s2, fd, fname, NULL, &added, &n), 0, "load %s", fname);
		close(fd);
		is_int(n, 1, "  one image");
		if (n == 1) {
			is_str(added[0].name, "example.com/app:1", "  its name");
			is_str(added[0].config_digest, rec.config_digest, "  the same config (ID)");
			if (fmt == IMG_ARCHIVE_OCI)
				is_str(added[0].manifest_digest, rec.manifest_digest,
				       "  the same manifest");
			ok(added[0].size == rec.size && added[0].created == rec.created,
			   "  size and created");
		}
		img_records_free(added, n);
	}
	/* Three blobs per image; the docker load adds its own manifest. */
	is_int(count_blobs(r2), 4, "blobs in the second store");
	img_record_clear(&rec);
	img_store_close(&s1);
	img_store_close(&s2);
}

/* An OCI layout whose layer blob's bytes are not its digest; a docker
 * archive whose layer is not its diff_id. */
static void test_refused(void)
{
	_cleanup_free_ char *r3 = path_of("s3");
	struct img_store st;
	if (img_store_open(r3, &st) < 0)
		return;
	const char *cfg =
	    "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
	    "\"diff_ids\":[\"sha256:"
	    "0000000000000000000000000000000000000000000000000000000000000000\"]}}";
	char cd[IMG_DIGEST_MAX], ld[IMG_DIGEST_MAX], path[200], cpath[200];
	img_digest_buf(cfg, strlen(cfg), cd);
	img_digest_buf("the real layer", 14, ld);
	snprintf(path, sizeof(path), "blobs/sha256/%s", ld + 7);
	snprintf(cpath, sizeof(cpath), "blobs/sha256/%s", cd + 7);
	const char *oci[] = {"oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}",
			     "index.json", "{\"schemaVersion\":2,\"manifests\":[]}",
			     path,	   "a forged layer",
			     cpath,	   cfg,
			     NULL};
	_cleanup_free_ char *bad = make_tar("bad-oci.tar", false, oci);
	struct img_record *added = NULL;
	size_t n = 0;
	int fd = open_ro(bad);
	is_int(img_archive_load(&st, fd, "bad-oci.tar", NULL, &added, &n), -EBADMSG,
	       "a corrupt blob is refused");
	close(fd);
	char want[400];
	snprintf(want, sizeof(want), "archive bad-oci.tar: %s: blob %s: digest mismatch (got ",
		 path, ld);
	has_prefix(herr_msg(), want, "  message");
	ok(!img_store_has_blob(&st, ld, NULL), "  not stored");

	const char *docker[] = {"manifest.json",
				"[{\"Config\":\"c.json\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"l/"
				"layer.tar\"]}]",
				"c.json",
				cfg,
				"l/layer.tar",
				"not the diff_id",
				NULL};
	bad = (free(bad), make_tar("bad-docker.tar", false, docker));
	fd = open_ro(bad);
	is_int(img_archive_load(&st, fd, "bad-docker.tar", NULL, &added, &n), -EBADMSG,
	       "a layer that is not its diff_id is refused");
	close(fd);
	has_prefix(herr_msg(),
		   "archive bad-docker.tar: layer l/layer.tar: its digest sha256:", "  message");

	const char *empty[] = {"hello.txt", "hi", NULL};
	bad = (free(bad), make_tar("empty.tar", true, empty));
	fd = open_ro(bad);
	is_int(img_archive_load(&st, fd, "empty.tar", NULL, &added, &n), -EINVAL,
	       "a tar without images");
	close(fd);
	is_str(herr_msg(),
	       "archive empty.tar: neither a docker archive (manifest.json) nor an OCI layout "
	       "(index.json)",
	       "  message");
	fd = open_ro("/dev/null");
	struct img_record rec;
	struct img_import_opts o = {0};
	ok(img_archive_import(&st, fd, "/dev/null", &o, &rec) < 0, "import of nothing");
	close(fd);
	_cleanup_free_ char *txt = path_of("hello.txt");
	int w = open(txt, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	for (int i = 0; i < 100; i++)
		if (write(w, "not a tar archive at all ", 25) != 25)
			tap_diag("short write");
	close(w);
	fd = open_ro(txt);
	is_int(img_archive_import(&st, fd, "hello.txt", &o, &rec), -EINVAL, "import of a text");
	close(fd);
	is_str(herr_msg(), "import hello.txt: not a tar archive", "  message");
	struct img_record *list;
	is_int(img_store_list(&st, &list, &n), 0, "list");
	is_int(n, 0, "  nothing recorded");
	img_records_free(list, n);
	uint64_t freed;
	is_int(img_store_prune(&st, &freed), 0, "prune");
	is_int(count_blobs(r3), 0, "  leaves no blob");
	img_store_close(&st);
}

int main(void)
{
	snprintf(top, sizeof(top), "/tmp/test_archive.XXXXXX");
	if (!mkdtemp(top))
		return 1;
	test_changes();
	test_round_trip();
	test_refused();
	fs_rm_rf(top);
	return tap_done();
}
