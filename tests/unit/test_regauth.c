/* Registry auth: WWW-Authenticate challenges, base64, and credentials in auth files. */
#include "tap.h"
#include "common/error.h"
#include "image/registry-int.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/test_regauth.XXXXXX";

static void challenge(const char *in, const char *scheme, const char *realm, const char *service,
		      const char *scope)
{
	struct reg_challenge c;
	if (!ok(reg_challenge_parse(in, &c) == 0, "challenge %s", in))
		return;
	is_str(c.scheme, scheme, "  scheme");
	is_str(c.realm, realm, "  realm");
	is_str(c.service, service, "  service");
	is_str(c.scope, scope, "  scope");
	reg_challenge_clear(&c);
}

static void challenges(void)
{
	challenge("Basic realm=\"basic-realm\"", "Basic", "basic-realm", NULL, NULL);
	challenge("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\"",
		  "Bearer", "https://auth.docker.io/token", "registry.docker.io", NULL);
	challenge("Bearer realm=\"http://127.0.0.1:5001/token\",service=\"reg\",scope=\"repository:"
		  "a/b:pull\",error=\"insufficient_scope\"",
		  "Bearer", "http://127.0.0.1:5001/token", "reg", "repository:a/b:pull");
	challenge("  bearer   Realm = \"r\" , SERVICE=svc ,scope=\"x:y:pull,push\"", "bearer", "r",
		  "svc", "x:y:pull,push");
	challenge("Bearer realm=\"a\\\"b\"", "Bearer", "a\"b", NULL, NULL);
	/* the first challenge only */
	challenge("Basic realm=\"one\", Bearer realm=\"two\"", "Basic", "one", NULL, NULL);
	challenge("Bearer realm=\"unterminated", "Bearer", "unterminated", NULL, NULL);
	challenge("Negotiate", "Negotiate", NULL, NULL, NULL);
	struct reg_challenge c;
	ok(reg_challenge_parse("", &c) == -EINVAL, "empty challenge refused");
	ok(reg_challenge_parse("   ", &c) == -EINVAL, "blank challenge refused");
}

static void base64(void)
{
	const char *plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar", "alice:secret"};
	const char *enc[] = {"",	 "Zg==",     "Zm8=",	 "Zm9v",
			     "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy", "YWxpY2U6c2VjcmV0"};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		char *e = reg_base64_encode(plain[i], strlen(plain[i]));
		is_str(e, enc[i], "base64(\"%s\")", plain[i]);
		free(e);
		char *d = NULL;
		size_t n = 99;
		ok(reg_base64_decode(enc[i], &d, &n) == 0 && n == strlen(plain[i]) && d &&
		       !memcmp(d, plain[i], n),
		   "decode %s", enc[i]);
		free(d);
	}
	const char *bad[] = {"Zg=", "Z===", "Zg==Zg==", "Zm9v!", "Zm=v", "@@@@"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *d = NULL;
		size_t n;
		ok(reg_base64_decode(bad[i], &d, &n) == -EINVAL && !d, "refuse %s", bad[i]);
	}
}

static char *path_in(const char *rel)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		abort();
	return p;
}

static void put(const char *rel, const char *text)
{
	char *p = path_in(rel);
	for (char *s = p + strlen(dir) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		mkdir(p, 0700);
		*s = '/';
	}
	FILE *f = fopen(p, "we");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	free(p);
}

static void expect_creds(const char *file, const char *domain, const char *user, const char *pass)
{
	char *u = NULL, *pw = NULL;
	char *p = file ? path_in(file) : NULL;
	herr_clear();
	int r = reg_auth_lookup(p, domain, &u, &pw);
	if (user) {
		if (ok(r == 0, "credentials for %s in %s", domain,
		       file ? file : "the default files")) {
			is_str(u, user, "  user");
			is_str(pw, pass, "  password");
		} else {
			tap_diag("rc %d: %s", r, herr_msg());
		}
	} else {
		is_int(r, -ENOENT, "no credentials for %s in %s", domain, file ? file : "defaults");
	}
	free(u);
	free(pw);
	free(p);
}

static void lookup(void)
{
	/* YWxpY2U6c2VjcmV0 = alice:secret, Ym9iOnA6dw== = bob:p:w, YTpi = a:b */
	put("docker.json",
	    "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"YWxpY2U6c2VjcmV0\"},"
	    "\"http://reg.example:5000\":{\"auth\":\"Ym9iOnA6dw==\"},"
	    "\"quay.io/ns/repo\":{\"auth\":\"YTpi\"},"
	    "\"helper.io\":{},"
	    "\"localhost:5000\":{\"auth\":\"YTpi\"}},\"credsStore\":\"desktop\"}");
	expect_creds("docker.json", "docker.io", "alice", "secret");
	expect_creds("docker.json", "reg.example:5000", "bob", "p:w");
	expect_creds("docker.json", "quay.io", NULL, NULL);
	expect_creds("docker.json", "helper.io", NULL, NULL);
	expect_creds("docker.json", "localhost:5000", "a", "b");
	expect_creds("docker.json", "localhost", NULL, NULL);
	expect_creds("missing.json", "docker.io", NULL, NULL);

	/* an exact key wins over a normalised one */
	put("both.json", "{\"auths\":{\"https://x.io/v1/\":{\"auth\":\"YTpi\"},"
			 "\"x.io\":{\"auth\":\"YWxpY2U6c2VjcmV0\"}}}");
	expect_creds("both.json", "x.io", "alice", "secret");

	put("bad.json", "{\"auths\":");
	char *u, *pw, *p = path_in("bad.json");
	herr_clear();
	ok(reg_auth_lookup(p, "x.io", &u, &pw) == -EINVAL, "truncated auth file refused");
	ok(strstr(herr_msg(), "bad.json: not valid JSON: it ends too soon") != NULL, "  %s",
	   herr_msg());
	free(p);
	put("bad64.json", "{\"auths\":{\"x.io\":{\"auth\":\"bm9jb2xvbg==\"}}}");
	p = path_in("bad64.json");
	herr_clear();
	ok(reg_auth_lookup(p, "x.io", &u, &pw) == -EINVAL, "auth without ':' refused");
	ok(strstr(herr_msg(), "auths.\"x.io\".auth is not base64 of user:password") != NULL, "  %s",
	   herr_msg());
	free(p);

	/* the default chain: REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json,
	 * ~/.docker/config.json; the first that has the registry wins */
	char *home = path_in("home"), *xdg = path_in("xdg"), *env = path_in("env.json");
	setenv("HOME", home, 1);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	unsetenv("REGISTRY_AUTH_FILE");
	mkdir(home, 0700);
	put("home/.docker/config.json", "{\"auths\":{\"a.io\":{\"auth\":\"YTpi\"},"
					"\"b.io\":{\"auth\":\"YTpi\"}}}");
	put("xdg/containers/auth.json", "{\"auths\":{\"b.io\":{\"auth\":\"YWxpY2U6c2VjcmV0\"}}}");
	put("env.json", "{\"auths\":{\"c.io\":{\"auth\":\"Ym9iOnA6dw==\"}}}");
	expect_creds(NULL, "a.io", "a", "b");
	expect_creds(NULL, "b.io", "alice", "secret");
	expect_creds(NULL, "c.io", NULL, NULL);
	setenv("REGISTRY_AUTH_FILE", env, 1);
	expect_creds(NULL, "c.io", "bob", "p:w");
	expect_creds(NULL, "b.io", "alice", "secret");
	char *def = reg_auth_default_file();
	is_str(def, env, "default file: $REGISTRY_AUTH_FILE");
	free(def);
	unsetenv("REGISTRY_AUTH_FILE");
	def = reg_auth_default_file();
	char *want = path_in("xdg/containers/auth.json");
	is_str(def, want, "default file: $XDG_RUNTIME_DIR/containers/auth.json");
	free(def);
	free(want);
	unsetenv("XDG_RUNTIME_DIR");
	def = reg_auth_default_file();
	want = path_in("home/.docker/config.json");
	is_str(def, want, "default file: ~/.docker/config.json");
	free(def);
	free(want);
	free(home);
	free(xdg);
	free(env);
}

static void save_remove(void)
{
	char *p = path_in("new/dir/auth.json");
	ok(registry_save_credentials(p, "127.0.0.1:5000", "alice", "secret") == 0,
	   "save into a new file and directories");
	struct stat st;
	ok(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600, "file mode 0600");
	expect_creds("new/dir/auth.json", "127.0.0.1:5000", "alice", "secret");
	ok(registry_save_credentials(p, "127.0.0.1:5000", "bob", "p:w \"x\"") == 0, "replace");
	ok(registry_save_credentials(p, "quay.io", "carol", "c") == 0, "another registry");
	expect_creds("new/dir/auth.json", "127.0.0.1:5000", "bob", "p:w \"x\"");
	expect_creds("new/dir/auth.json", "quay.io", "carol", "c");
	herr_clear();
	ok(registry_save_credentials(p, "x.io", "a:b", "c") == -EINVAL, "user with ':' refused");

	/* other keys of the file are kept */
	put("keep.json", "{\"credsStore\":\"x\",\"auths\":{\"a.io\":{\"auth\":\"YTpi\"}},"
			 "\"HttpHeaders\":{\"X\":\"y\"}}");
	char *k = path_in("keep.json");
	ok(registry_save_credentials(k, "b.io", "alice", "secret") == 0, "save into docker's file");
	char *text = NULL;
	FILE *f = fopen(k, "re");
	size_t cap = 0;
	ok(f && getdelim(&text, &cap, 0, f) > 0, "read back");
	if (f)
		fclose(f);
	ok(text && strstr(text, "\"credsStore\"") && strstr(text, "\"HttpHeaders\"") &&
	       strstr(text, "\"a.io\"") && strstr(text, "\"b.io\""),
	   "other keys kept");
	free(text);

	/* a file that is not JSON is never overwritten */
	put("broken.json", "not json");
	char *b = path_in("broken.json");
	herr_clear();
	ok(registry_save_credentials(b, "b.io", "u", "p") == -EINVAL, "broken file refused");
	ok(strstr(herr_msg(), "broken.json: not valid JSON") != NULL, "  %s", herr_msg());

	ok(registry_remove_credentials(p, "127.0.0.1:5000") == 0, "remove");
	expect_creds("new/dir/auth.json", "127.0.0.1:5000", NULL, NULL);
	expect_creds("new/dir/auth.json", "quay.io", "carol", "c");
	herr_clear();
	is_int(registry_remove_credentials(p, "127.0.0.1:5000"), -ENOENT, "remove again");
	ok(strstr(herr_msg(), "not logged in to 127.0.0.1:5000") != NULL, "  %s", herr_msg());
	char *none = path_in("none.json");
	is_int(registry_remove_credentials(none, "x.io"), -ENOENT, "remove from no file");
	ok(access(none, F_OK) < 0, "  and no file made");

	/* docker.io's aliases all go */
	put("hub.json", "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"YTpi\"},"
			"\"docker.io\":{\"auth\":\"YTpi\"},\"quay.io\":{\"auth\":\"YTpi\"}}}");
	char *h = path_in("hub.json");
	ok(registry_remove_credentials(h, "docker.io") == 0, "remove docker.io");
	expect_creds("hub.json", "docker.io", NULL, NULL);
	expect_creds("hub.json", "quay.io", "a", "b");
	free(p);
	free(k);
	free(b);
	free(none);
	free(h);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	challenges();
	base64();
	lookup();
	save_remove();
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		tap_diag("could not remove %s", dir);
	return tap_done();
}
