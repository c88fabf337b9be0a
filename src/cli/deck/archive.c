/* deck load, save, import, login, logout. */
#include "cli/deck/deck.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/strv.h"
#include "image/archive.h"
#include "image/reference.h"
#include "image/registry.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

int cmd_load(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {{"input", required_argument, NULL, 'i'},
					     {"quiet", no_argument, NULL, 'q'},
					     {"platform", required_argument, NULL, 'p'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	const char *input = NULL, *platform = NULL;
	bool quiet = false;
	int c;
	while ((c = getopt_long(argc, argv, "+i:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			input = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'p':
			platform = optarg;
			break;
		case 'h':
			puts("Usage: deck load [-i FILE] [-q] [--platform P]  (stdin without -i)");
			return 0;
		default:
			return deck_usage(argv[0], "bad option");
		}
	}
	if (optind != argc)
		return deck_usage(argv[0], "\"deck load\" takes no arguments (use -i FILE)");
	_cleanup_close_ int fd = input ? open(input, O_RDONLY | O_CLOEXEC) : dup(STDIN_FILENO);
	if (fd < 0) {
		herr_sys("%s", input ? input : "stdin");
		return deck_fail();
	}
	struct img_store st;
	if (deck_open_store(g, &st) < 0)
		return 1;
	struct img_record *added = NULL;
	size_t n = 0;
	char what[4200];
	snprintf(what, sizeof(what), "archive %s", input ? input : "(stdin)");
	int r = img_archive_load(&st, fd, what, platform, &added, &n);
	img_store_close(&st);
	if (r < 0)
		return deck_fail();
	for (size_t i = 0; i < n && !quiet; i++) {
		_cleanup_free_ char *s = deck_short_name(added[i].name);
		if (s)
			printf("Loaded image: %s\n", s);
		else
			printf("Loaded image ID: %s\n", added[i].config_digest);
	}
	img_records_free(added, n);
	return 0;
}

int cmd_save(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
					     {"format", required_argument, NULL, 'f'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	const char *output = NULL;
	enum img_archive_format fmt = IMG_ARCHIVE_DOCKER;
	int c;
	while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'f':
			if (img_archive_format_parse(optarg, &fmt) < 0)
				return deck_usage(argv[0], "%s", herr_msg());
			break;
		case 'h':
			puts("Usage: deck save [-o FILE] [--format docker-archive|oci-archive] "
			     "IMAGE...");
			return 0;
		default:
			return deck_usage(argv[0], "bad option");
		}
	}
	if (optind >= argc)
		return deck_usage(argv[0], "\"deck save\" requires at least 1 argument");
	if (!output && isatty(STDOUT_FILENO))
		return deck_usage(argv[0], "refusing to write an archive to a terminal: use -o");
	struct img_store st;
	if (deck_open_store(g, &st) < 0)
		return 1;
	size_t n = (size_t)(argc - optind);
	struct img_record *recs = calloc(n, sizeof(*recs));
	int r = recs ? 0 : herr_set(ENOMEM, "out of memory");
	for (size_t i = 0; r == 0 && i < n; i++)
		r = deck_find(&st, argv[optind + (int)i], &recs[i]);
	_cleanup_free_ char *tmp = NULL;
	int fd = -1;
	if (r == 0 && output) {
		/* A failed save leaves no half archive under the asked name. */
		if (asprintf(&tmp, "%s.deck-tmp", output) < 0)
			tmp = NULL;
		fd = tmp ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
		if (fd < 0)
			r = herr_sys("%s", output);
	} else if (r == 0) {
		fd = dup(STDOUT_FILENO);
	}
	if (r == 0)
		r = img_archive_save(&st, recs, n, fmt, fd);
	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = herr_sys("%s", output ? output : "stdout");
	if (tmp && r == 0 && rename(tmp, output) < 0)
		r = herr_sys("%s", output);
	if (tmp && r < 0)
		unlink(tmp);
	if (recs)
		img_records_free(recs, n);
	img_store_close(&st);
	return r < 0 ? deck_fail() : 0;
}

int cmd_import(int argc, char **argv, struct deck_opts *g)
{
	static const struct option opts[] = {{"change", required_argument, NULL, 'c'},
					     {"message", required_argument, NULL, 'm'},
					     {"platform", required_argument, NULL, 'p'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	_cleanup_strv_ char **changes = NULL;
	struct img_import_opts o = {0};
	int c;
	while ((c = getopt_long(argc, argv, "+c:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			if (strv_push(&changes, optarg) < 0)
				return deck_fail();
			break;
		case 'm':
			o.message = optarg;
			break;
		case 'p':
			o.platform = optarg;
			break;
		case 'h':
			puts(
			    "Usage: deck import [-c CHANGE]... [-m MSG] FILE|- [REPOSITORY[:TAG]]");
			return 0;
		default:
			return deck_usage(argv[0], "bad option");
		}
	}
	if (optind >= argc || argc - optind > 2)
		return deck_usage(argv[0], "\"deck import\" requires 1 or 2 arguments");
	const char *file = argv[optind];
	_cleanup_free_ char *name = NULL;
	if (optind + 1 < argc) {
		struct img_ref ref;
		if (img_ref_parse(argv[optind + 1], &ref) < 0)
			return deck_fail();
		name = img_ref_string(&ref);
		img_ref_free(&ref);
	}
	o.name = name;
	o.changes = changes;
	_cleanup_close_ int fd =
	    strcmp(file, "-") ? open(file, O_RDONLY | O_CLOEXEC) : dup(STDIN_FILENO);
	if (fd < 0) {
		herr_sys("%s", file);
		return deck_fail();
	}
	struct img_store st;
	if (deck_open_store(g, &st) < 0)
		return 1;
	struct img_record rec = {0};
	char what[4200];
	snprintf(what, sizeof(what), "tarball %s", file);
	int r = img_archive_import(&st, fd, what, &o, &rec);
	img_store_close(&st);
	if (r < 0)
		return deck_fail();
	printf("%s\n", rec.config_digest);
	img_record_clear(&rec);
	return 0;
}

static int read_password(char *buf, size_t len, bool from_stdin)
{
	struct termios t, old;
	bool tty = !from_stdin && isatty(STDIN_FILENO);
	if (tty) {
		fputs("Password: ", stderr);
		tcgetattr(STDIN_FILENO, &old);
		t = old;
		t.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &t);
	}
	bool ok = fgets(buf, (int)len, stdin) != NULL;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fputc('\n', stderr);
	}
	buf[strcspn(buf, "\r\n")] = 0;
	return ok ? 0 : -1;
}

int cmd_login(int argc, char **argv, struct deck_opts *g)
{
	(void)g;
	static const struct option opts[] = {{"username", required_argument, NULL, 'u'},
					     {"password", required_argument, NULL, 'p'},
					     {"password-stdin", no_argument, NULL, 's'},
					     {"tls-verify", optional_argument, NULL, 't'},
					     {"authfile", required_argument, NULL, 'a'},
					     {"help", no_argument, NULL, 'h'},
					     {0}};
	struct registry_opts o = {.tls_verify = true};
	bool pw_stdin = false;
	char pw[1024] = "", user[256] = "";
	int c;
	while ((c = getopt_long(argc, argv, "+u:p:h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			snprintf(user, sizeof(user), "%s", optarg);
			break;
		case 'p':
			snprintf(pw, sizeof(pw), "%s", optarg);
			break;
		case 's':
			pw_stdin = true;
			break;
		case 't':
			if (deck_parse_bool("--tls-verify", optarg, &o.tls_verify) < 0)
				return 125;
			break;
		case 'a':
			o.auth_file = optarg;
			break;
		case 'h':
			puts("Usage: deck login [-u USER] [-p PASS | --password-stdin] "
			     "[--tls-verify=false] [--authfile F] REGISTRY");
			return 0;
		default:
			return deck_usage(argv[0], "bad option");
		}
	}
	if (optind + 1 != argc)
		return deck_usage(argv[0],
				  "\"deck login\" requires exactly 1 argument (a registry)");
	if (!*user) {
		fputs("Username: ", stderr);
		if (!fgets(user, sizeof(user), stdin))
			return deck_usage(argv[0], "no username");
		user[strcspn(user, "\r\n")] = 0;
	}
	if (!*pw && read_password(pw, sizeof(pw), pw_stdin) < 0)
		return deck_usage(argv[0], "no password");
	o.username = user;
	o.password = pw;
	struct registry *reg = NULL;
	int r = registry_open(argv[optind], &o, &reg);
	if (r == 0)
		r = registry_check_login(reg);
	registry_close(reg);
	if (r == 0)
		r = registry_save_credentials(o.auth_file, argv[optind], user, pw);
	if (r < 0)
		return deck_fail();
	puts("Login Succeeded!");
	return 0;
}

int cmd_logout(int argc, char **argv, struct deck_opts *g)
{
	(void)g;
	const char *authfile = NULL;
	int i = 1;
	if (argc > 2 && !strcmp(argv[1], "--authfile")) {
		authfile = argv[2];
		i = 3;
	}
	if (i + 1 != argc)
		return deck_usage(argv[0],
				  "\"deck logout\" requires exactly 1 argument (a registry)");
	if (registry_remove_credentials(authfile, argv[i]) < 0)
		return deck_fail();
	printf("Removed login credentials for %s\n", argv[i]);
	return 0;
}
