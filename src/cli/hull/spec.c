/* `hull spec` writes a starter config.json; `hull features` prints what hull recognizes. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/hull/cli.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "oci/defaultspec.h"
#include "oci/features.h"

static const char spec_usage[] =
    "Usage: hull spec [OPTIONS]\n"
    "\n"
    "Create a starter config.json in the bundle directory. The process it runs is \"sh\"\n"
    "on a terminal, with rootfs/ as the root filesystem: edit it to suit.\n"
    "\n"
    "Options:\n"
    "  -b, --bundle DIR  the bundle directory (default: the current directory)\n"
    "      --rootless    a configuration for a container run by an unprivileged user\n"
    "  -h, --help        show this help\n";

static const char features_usage[] =
    "Usage: hull features\n"
    "\n"
    "Print the runtime-spec features document: the hooks, mount options, namespaces,\n"
    "capabilities, cgroup and seccomp features that this build of hull recognizes.\n"
    "\n"
    "Options:\n"
    "  -h, --help  show this help\n";

enum { OPT_ROOTLESS = 0x100 };

/*
 * Parses the options of a subcommand that takes no operands. Returns 1 when --help
 * was shown, 0 to go on, -1 after reporting a usage error.
 */
static int parse_opts(int argc, char **argv, const char *shortopts, const struct option *longopts,
		      const char *usage, const char **bundle, bool *rootless)
{
	int c;

	optind = 0; /* main() already ran getopt over the global options */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			*bundle = optarg;
			break;
		case OPT_ROOTLESS:
			*rootless = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case ':':
			log_error("%s: option %s needs a value", argv[0], argv[optind - 1]);
			return -1;
		default:
			/* optopt names a bad short option; a bad long one is only in argv */
			if (optopt)
				log_error("%s: unknown option -%c (see --help)", argv[0], optopt);
			else
				log_error("%s: unknown option %s (see --help)", argv[0],
					  argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		log_error("\"%s\" takes no arguments, got \"%s\"", argv[0], argv[optind]);
		return -1;
	}
	return 0;
}

static int write_spec(const char *bundle, bool rootless)
{
	_cleanup_close_ int dirfd = -1;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	int r;

	dirfd = open(bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return herr_sys("bundle %s", bundle);

	text = oci_default_spec(rootless);
	if (!text)
		return -herr_code();

	/* O_EXCL makes the existence check and the creation one step, symlinks included. */
	fd = openat(dirfd, "config.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0666);
	if (fd < 0) {
		if (errno == EEXIST)
			return herr_set(EEXIST, "File config.json exists. Remove it first");
		return herr_sys("create %s/config.json", bundle);
	}

	r = fs_write_all(fd, text, strlen(text));
	if (r == 0)
		r = fs_write_all(fd, "\n", 1);
	if (r == 0 && close(take_fd(fd)) < 0)
		r = -errno;
	if (r < 0) {
		/* A half-written config.json would make the next `spec` refuse to run. */
		unlinkat(dirfd, "config.json", 0);
		errno = -r;
		return herr_sys("write %s/config.json", bundle);
	}
	return 0;
}

int cmd_spec(int argc, char **argv, struct global_opts *g)
{
	static const struct option longopts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"rootless", no_argument, NULL, OPT_ROOTLESS},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *bundle = ".";
	bool rootless = false;
	int r;

	(void)g;
	r = parse_opts(argc, argv, "+:b:h", longopts, spec_usage, &bundle, &rootless);
	if (r != 0)
		return r > 0 ? 0 : 1;

	if (write_spec(bundle, rootless) < 0) {
		log_error("%s", herr_msg());
		return 1;
	}
	return 0;
}

int cmd_features(int argc, char **argv, struct global_opts *g)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	_cleanup_free_ char *text = NULL;
	const char *unused_bundle = NULL;
	bool unused_rootless = false;
	int r;

	(void)g;
	r = parse_opts(argc, argv, "+:h", longopts, features_usage, &unused_bundle,
		       &unused_rootless);
	if (r != 0)
		return r > 0 ? 0 : 1;

	text = oci_features_json();
	if (!text) {
		log_error("%s", herr_msg());
		return 1;
	}
	if (puts(text) == EOF || fflush(stdout) == EOF) {
		log_error("features: write to stdout: %s", strerror(errno));
		return 1;
	}
	return 0;
}
