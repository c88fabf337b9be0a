/* Image references: docker's grammar, normalisation, the strings printed, and every error. */
#include "tap.h"
#include "common/error.h"
#include "image/reference.h"
#include <errno.h>
#include <stdlib.h>

#define D64 "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct good {
	const char *in;
	const char *domain, *path, *tag, *digest;
	const char *familiar;
};

static const struct good goods[] = {
    {"busybox", "docker.io", "library/busybox", "latest", NULL, "busybox:latest"},
    {"busybox:1.36", "docker.io", "library/busybox", "1.36", NULL, "busybox:1.36"},
    {"library/busybox", "docker.io", "library/busybox", "latest", NULL, "busybox:latest"},
    {"docker.io/busybox", "docker.io", "library/busybox", "latest", NULL, "busybox:latest"},
    {"docker.io/library/busybox:musl", "docker.io", "library/busybox", "musl", NULL,
     "busybox:musl"},
    {"index.docker.io/busybox", "docker.io", "library/busybox", "latest", NULL, "busybox:latest"},
    {"index.docker.io/ns/app:v1", "docker.io", "ns/app", "v1", NULL, "ns/app:v1"},
    {"ns/app", "docker.io", "ns/app", "latest", NULL, "ns/app:latest"},
    {"docker.io/library/a/b", "docker.io", "library/a/b", "latest", NULL, "library/a/b:latest"},
    {"a/b/c/d", "docker.io", "a/b/c/d", "latest", NULL, "a/b/c/d:latest"},
    {"quay.io/coreos/etcd:v3.5", "quay.io", "coreos/etcd", "v3.5", NULL,
     "quay.io/coreos/etcd:v3.5"},
    {"localhost/app", "localhost", "app", "latest", NULL, "localhost/app:latest"},
    {"localhost:5000/app:1", "localhost:5000", "app", "1", NULL, "localhost:5000/app:1"},
    {"127.0.0.1:5000/busybox:test", "127.0.0.1:5000", "busybox", "test", NULL,
     "127.0.0.1:5000/busybox:test"},
    {"[::1]:5000/x", "[::1]:5000", "x", "latest", NULL, "[::1]:5000/x:latest"},
    {"[2001:db8::1]/x", "[2001:db8::1]", "x", "latest", NULL, "[2001:db8::1]/x:latest"},
    {"Registry.Example.COM/x", "Registry.Example.COM", "x", "latest", NULL,
     "Registry.Example.COM/x:latest"},
    {"my-registry.local:443/team/app", "my-registry.local:443", "team/app", "latest", NULL,
     "my-registry.local:443/team/app:latest"},
    /* no '/': the ':' is a tag, the name is a docker.io library name */
    {"localhost", "docker.io", "library/localhost", "latest", NULL, "localhost:latest"},
    {"localhost:5000", "docker.io", "library/localhost", "5000", NULL, "localhost:5000"},
    {"example.com", "docker.io", "library/example.com", "latest", NULL, "example.com:latest"},
    /* a first component without '.', ':' or "localhost" is a namespace */
    {"host/app", "docker.io", "host/app", "latest", NULL, "host/app:latest"},
    {"busybox@" D64, "docker.io", "library/busybox", NULL, D64, "busybox@" D64},
    {"busybox:1@" D64, "docker.io", "library/busybox", "1", D64, "busybox:1@" D64},
    {"127.0.0.1:5000/a/b@" D64, "127.0.0.1:5000", "a/b", NULL, D64, "127.0.0.1:5000/a/b@" D64},
    /* separators */
    {"a.b_c__d-e---f", "docker.io", "library/a.b_c__d-e---f", "latest", NULL,
     "a.b_c__d-e---f:latest"},
    {"x0/y1.z2", "docker.io", "x0/y1.z2", "latest", NULL, "x0/y1.z2:latest"},
    {"123/456", "docker.io", "123/456", "latest", NULL, "123/456:latest"},
    /* tags */
    {"a:_", "docker.io", "library/a", "_", NULL, "a:_"},
    {"a:V1.2-rc_3", "docker.io", "library/a", "V1.2-rc_3", NULL, "a:V1.2-rc_3"},
    {"a:LATEST", "docker.io", "library/a", "LATEST", NULL, "a:LATEST"},
    {"a:0", "docker.io", "library/a", "0", NULL, "a:0"},
    /* from docker's own reference tests */
    {"test_com", "docker.io", "library/test_com", "latest", NULL, "test_com:latest"},
    {"test.com:tag", "docker.io", "library/test.com", "tag", NULL, "test.com:tag"},
    {"test.com:5000", "docker.io", "library/test.com", "5000", NULL, "test.com:5000"},
    {"test.com/repo:tag", "test.com", "repo", "tag", NULL, "test.com/repo:tag"},
    {"test:5000/repo", "test:5000", "repo", "latest", NULL, "test:5000/repo:latest"},
    {"test:5000/repo:tag", "test:5000", "repo", "tag", NULL, "test:5000/repo:tag"},
    {"test:5000/repo@" D64, "test:5000", "repo", NULL, D64, "test:5000/repo@" D64},
    {"test:5000/repo:tag@" D64, "test:5000", "repo", "tag", D64, "test:5000/repo:tag@" D64},
    {"lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", NULL,
     "lowercase:Uppercase"},
    {"foo_bar.com:8080", "docker.io", "library/foo_bar.com", "8080", NULL, "foo_bar.com:8080"},
    {"foo/foo_bar.com:8080", "docker.io", "foo/foo_bar.com", "8080", NULL, "foo/foo_bar.com:8080"},
    {"192.168.1.1", "docker.io", "library/192.168.1.1", "latest", NULL, "192.168.1.1:latest"},
    {"192.168.1.1:5/x", "192.168.1.1:5", "x", "latest", NULL, "192.168.1.1:5/x:latest"},
    {"xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com", "myimage", "xn--n3h.com", NULL,
     "xn--n3h.com/myimage:xn--n3h.com"},
    {"docker.io/dmcgowan/myapp", "docker.io", "dmcgowan/myapp", "latest", NULL,
     "dmcgowan/myapp:latest"},
    {"localhost/library/a", "localhost", "library/a", "latest", NULL, "localhost/library/a:latest"},
};

struct bad {
	const char *in;
	const char *err; /* the message after `reference "in": ` starts with this */
};

static const struct bad bads[] = {
    {"", "empty"},
    {"Busybox", "repository name \"Busybox\" must be lowercase"},
    {"ns/App", "repository name \"ns/App\" must be lowercase"},
    {"127.0.0.1:5000/BusyBox:1", "repository name \"BusyBox\" must be lowercase"},
    {"busybox:", "invalid tag \"\""},
    {"busybox:.x", "invalid tag \".x\""},
    {"busybox:-x", "invalid tag \"-x\""},
    {"busybox:a+b", "invalid tag \"a+b\""},
    {"busybox:a:b", "invalid repository name component \"busybox:a\""},
    {"busybox@", "invalid digest \"\""},
    {"busybox@sha256", "invalid digest \"sha256\""},
    {"busybox@sha256:abc", "invalid digest \"sha256:abc\""},
    {"busybox@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
     "invalid digest"},
    {"busybox@md5:0123456789abcdef0123456789abcdef", "unsupported digest algorithm \"md5\""},
    {"busybox@" D64 "@" D64, "invalid digest"},
    {":tag", "no repository name"},
    {"@" D64, "no repository name"},
    {"/busybox", "empty component in repository name \"/busybox\""},
    {"a//b", "empty component in repository name \"a//b\""},
    {"a/b/", "empty component in repository name \"a/b/\""},
    {"localhost/", "no repository name after the registry host"},
    {"quay.io/", "no repository name after the registry host"},
    {"-a", "invalid repository name component \"-a\""},
    {"a-", "invalid repository name component \"a-\""},
    {"a..b", "invalid repository name component \"a..b\""},
    {"a___b", "invalid repository name component \"a___b\""},
    {"a-_b", "invalid repository name component \"a-_b\""},
    {"_a", "invalid repository name component \"_a\""},
    {"a.", "invalid repository name component \"a.\""},
    {"a b", "invalid repository name component \"a b\""},
    {"ns/a%b", "invalid repository name component \"a%b\""},
    {"quay.io/a/-b", "invalid repository name component \"-b\""},
    {"-quay.io/a", "invalid registry host \"-quay.io\""},
    {"quay-.io/a", "invalid registry host \"quay-.io\""},
    {"quay..io/a", "invalid registry host \"quay..io\""},
    {".quay.io/a", "invalid registry host \".quay.io\""},
    {"quay.io./a", "invalid registry host \"quay.io.\""},
    {"host:/a", "invalid registry host \"host:\""},
    {"host:50a0/a", "invalid registry host \"host:50a0\""},
    {":5000/a", "invalid registry host \":5000\""},
    {"[::1/a", "invalid registry host \"[::1\""},
    {"[]:5000/a", "invalid registry host \"[]:5000\""},
    {"[::1]x/a", "invalid registry host \"[::1]x\""},
    {"ho_st.io/a", "invalid registry host \"ho_st.io\""},
    {"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
     "a 64-digit hex string is an image ID"},
    /* from docker's own reference tests */
    {"Uppercase:tag", "repository name \"Uppercase\" must be lowercase"},
    {"Docker/docker", "repository name \"Docker/docker\" must be lowercase"},
    {"docker.io/docker/Docker", "repository name \"docker/Docker\" must be lowercase"},
    {"aa/asdf$$^/aa", "invalid repository name component \"asdf$$^\""},
    {"docker///docker", "empty component in repository name \"docker///docker\""},
    {"docker.io/docker///docker", "empty component in repository name \"docker///docker\""},
    {"a:a:a", "invalid repository name component \"a:a\""},
    {"test:5000/repo@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
     "invalid digest"},
    {"repo@sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
     "invalid digest"},
};

static void check_good(const struct good *g)
{
	struct img_ref r;
	herr_clear();
	int rc = img_ref_parse(g->in, &r);
	if (!ok(rc == 0, "parse \"%s\"", g->in)) {
		tap_diag("error: %s", herr_msg());
		return;
	}
	is_str(r.domain, g->domain, "\"%s\" domain", g->in);
	is_str(r.path, g->path, "\"%s\" path", g->in);
	is_str(r.tag, g->tag, "\"%s\" tag", g->in);
	is_str(r.digest, g->digest, "\"%s\" digest", g->in);
	char *f = img_ref_familiar(&r);
	is_str(f, g->familiar, "\"%s\" familiar", g->in);
	free(f);

	char want[1024], repo[512];
	snprintf(repo, sizeof(repo), "%s/%s", g->domain, g->path);
	snprintf(want, sizeof(want), "%s%s%s%s%s", repo, g->tag ? ":" : "", g->tag ? g->tag : "",
		 g->digest ? "@" : "", g->digest ? g->digest : "");
	char *s = img_ref_string(&r);
	is_str(s, want, "\"%s\" string", g->in);
	char *rp = img_ref_repo(&r);
	is_str(rp, repo, "\"%s\" repo", g->in);
	free(rp);

	/* The full string parses back to the same reference. */
	struct img_ref r2;
	if (ok(img_ref_parse(s, &r2) == 0, "\"%s\" parses again", s)) {
		char *s2 = img_ref_string(&r2);
		is_str(s2, s, "\"%s\" round trip", s);
		free(s2);
		img_ref_free(&r2);
	}
	free(s);
	img_ref_free(&r);
	ok(!r.domain && !r.path && !r.tag && !r.digest, "\"%s\" freed and cleared", g->in);
}

static void check_bad(const struct bad *b)
{
	struct img_ref r;
	herr_clear();
	int rc = img_ref_parse(b->in, &r);
	char want[1024];
	snprintf(want, sizeof(want), "reference \"%s\": %s", b->in, b->err);
	if (!ok(rc == -EINVAL, "refuse \"%s\"", b->in)) {
		img_ref_free(&r);
		return;
	}
	has_prefix(herr_msg(), want, "\"%s\": %s", b->in, b->err);
	ok(!r.domain && !r.path && !r.tag && !r.digest, "\"%s\" leaves nothing", b->in);
}

static void check_lengths(void)
{
	char buf[600];
	struct img_ref r;
	/* docker.io/library/ + 237 = 255: the limit counts the normalised name. */
	memset(buf, 'a', 237);
	buf[237] = 0;
	ok(img_ref_parse(buf, &r) == 0, "name of 255 characters accepted");
	img_ref_free(&r);
	buf[237] = 'a';
	buf[238] = 0;
	herr_clear();
	ok(img_ref_parse(buf, &r) == -EINVAL, "name of 256 characters refused");
	ok(strstr(herr_msg(), "must not be more than 255 characters") != NULL, "length error: %s",
	   herr_msg());
	/* tag: 128 ok, 129 refused */
	strcpy(buf, "a:");
	memset(buf + 2, 't', 128);
	buf[130] = 0;
	ok(img_ref_parse(buf, &r) == 0, "tag of 128 characters accepted");
	img_ref_free(&r);
	strcpy(buf + 130, "t");
	ok(img_ref_parse(buf, &r) == -EINVAL, "tag of 129 characters refused");
	/* a long bad reference is cut short in the message, which stays bounded */
	memset(buf, 'A', 599);
	buf[599] = 0;
	herr_clear();
	ok(img_ref_parse(buf, &r) == -EINVAL && strlen(herr_msg()) < 1200,
	   "long bad reference: bounded message");
	ok(img_ref_parse(NULL, &r) == -EINVAL, "NULL refused");
}

int main(void)
{
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++)
		check_good(&goods[i]);
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++)
		check_bad(&bads[i]);
	check_lengths();
	return tap_done();
}
