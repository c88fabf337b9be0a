/*
 * deck-shim: the per-container monitor (engine/shim.h). deck launches it through
 * shim_start(); run by hand it does the same and prints the init's pid. The
 * attach, wait and logs commands are the client side, for scripts and tests.
 */
#include "engine/container.h"
#include "engine/logs.h"
#include "engine/network.h"
#include "engine/shim.h"
#include "common/error.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
    "Usage: deck-shim --id ID --bundle DIR --state-dir DIR [OPTIONS] [-- EXIT-COMMAND...]\n"
    "       deck-shim cleanup DECK-ROOT CONTAINER-ID\n"
    "       deck-shim attach [--eof-close] STATE-DIR\n"
    "       deck-shim wait [--timeout MS] STATE-DIR\n"
    "       deck-shim logs [-f] [-t] [--tail N] [--since T] [--until T] [--state-dir DIR]\n"
    "                      [--log-driver D] LOG-PATH\n"
    "\n"
    "Starts the container ID of the bundle DIR under a new monitor that outlives\n"
    "this command, and prints its init's pid once it runs.\n"
    "  --runtime PATH        an OCI runtime binary (runc, crun, hull); default: in process\n"
    "  --runtime-root DIR    the runtime's --root (in process: /run/hull)\n"
    "  --log-path FILE       where the output goes\n"
    "  --log-driver D        k8s-file (default), json-file or none\n"
    "  --log-max-size SIZE   rotate the log to FILE.1 past SIZE (bytes, or 10k, 5m, 1g)\n"
    "  --terminal            process.terminal is set: hold the pty\n"
    "  --stdin               keep stdin open for attach clients\n"
    "  --wait-attach         start only when the first attach client connects\n"
    "  --deck-root DIR       deck's cleanup of container ID under DIR once it has exited\n"
    "  EXIT-COMMAND          run once the container has exited and is deleted\n";

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	uint64_t mult = 1;
	switch (*end) {
	case 'k':
	case 'K':
		mult = 1ULL << 10;
		break;
	case 'm':
	case 'M':
		mult = 1ULL << 20;
		break;
	case 'g':
	case 'G':
		mult = 1ULL << 30;
		break;
	case 'b':
	case 'B':
	case 0:
		break;
	default:
		return -1;
	}
	if (*end && end[1] && strcmp(end + 1, "b") && strcmp(end + 1, "B"))
		return -1;
	*out = (uint64_t)v * mult;
	return 0;
}

static int fail(void)
{
	fprintf(stderr, "deck-shim: %s\n", herr_msg());
	return 1;
}

static bool ctr_alive(const char *root, const char *id)
{
	/* ids that are not deck's containers' (network attach by hand) always count */
	return strlen(id) != CTR_ID_LEN || strspn(id, "0123456789abcdef") != CTR_ID_LEN ||
	       ctr_exists(root, id);
}

/*
 * cleanup ROOT ID: deck's exit command for its containers (ctr_cleanup), run
 * from here rather than from deck because this binary starts faster.
 */
static int cmd_cleanup(int argc, char **argv)
{
	if (argc != 3) {
		fputs("Usage: deck-shim cleanup DECK-ROOT CONTAINER-ID\n", stderr);
		return 2;
	}
	net_set_container_check(ctr_alive);
	return ctr_cleanup(argv[1], argv[2]) < 0 ? fail() : 0;
}

static int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {{"eof-close", no_argument, NULL, 'e'}, {0}};
	unsigned flags = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'e')
			return 2;
		flags |= SHIM_ATTACH_EOF_CLOSE;
	}
	if (optind + 1 != argc) {
		fputs(usage, stderr);
		return 2;
	}
	int r = shim_attach(argv[optind], 0, 1, 2, flags);
	if (r < 0)
		return fail();
	if (r == SHIM_DETACHED)
		fputs("\r\n[detached]\r\n", stderr);
	return 0;
}

static int cmd_wait(int argc, char **argv)
{
	static const struct option opts[] = {{"timeout", required_argument, NULL, 't'}, {0}};
	int timeout = -1, c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 't')
			return 2;
		timeout = atoi(optarg);
	}
	if (optind + 1 != argc) {
		fputs(usage, stderr);
		return 2;
	}
	struct shim_exit e;
	if (shim_wait(argv[optind], timeout, &e) < 0)
		return fail();
	printf("%d%s\n", e.exit_code, e.oom_killed ? " oom" : "");
	return 0;
}

static int cmd_logs(int argc, char **argv)
{
	static const struct option opts[] = {{"follow", no_argument, NULL, 'f'},
					     {"timestamps", no_argument, NULL, 't'},
					     {"tail", required_argument, NULL, 'n'},
					     {"since", required_argument, NULL, 's'},
					     {"until", required_argument, NULL, 'u'},
					     {"state-dir", required_argument, NULL, 'd'},
					     {"log-driver", required_argument, NULL, 'D'},
					     {0}};
	struct logs_read_opts o = {.tail = -1};
	enum logs_driver d = LOGS_K8S_FILE;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	int c;
	while ((c = getopt_long(argc, argv, "ftn:", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			o.follow = true;
			break;
		case 't':
			o.timestamps = true;
			break;
		case 'n':
			o.tail = strcmp(optarg, "all") ? atol(optarg) : -1;
			break;
		case 's':
			if (logs_parse_time(optarg, now, &o.since) < 0)
				return fail();
			break;
		case 'u':
			if (logs_parse_time(optarg, now, &o.until) < 0)
				return fail();
			break;
		case 'd':
			o.state_dir = optarg;
			break;
		case 'D':
			if (logs_driver_parse(optarg, &d) < 0)
				return fail();
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc) {
		fputs(usage, stderr);
		return 2;
	}
	return logs_read(argv[optind], d, &o, 1, 2) < 0 ? fail() : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "cleanup"))
		return cmd_cleanup(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "attach"))
		return cmd_attach(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "wait"))
		return cmd_wait(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "logs"))
		return cmd_logs(argc - 1, argv + 1);

	static const struct option opts[] = {{"id", required_argument, NULL, 'i'},
					     {"bundle", required_argument, NULL, 'b'},
					     {"state-dir", required_argument, NULL, 's'},
					     {"runtime", required_argument, NULL, 'r'},
					     {"runtime-root", required_argument, NULL, 'R'},
					     {"log-path", required_argument, NULL, 'l'},
					     {"log-driver", required_argument, NULL, 'D'},
					     {"log-max-size", required_argument, NULL, 'm'},
					     {"terminal", no_argument, NULL, 't'},
					     {"stdin", no_argument, NULL, 'I'},
					     {"wait-attach", no_argument, NULL, 'w'},
					     {"sync-fd", required_argument, NULL, 'S'},
					     {"deck-root", required_argument, NULL, 'd'},
					     {"help", no_argument, NULL, 'h'},
					     {"version", no_argument, NULL, 'v'},
					     {0}};
	struct shim_opts o = {.log_driver = LOGS_K8S_FILE};
	int sync_fd = -1, c;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o.id = optarg;
			break;
		case 'b':
			o.bundle = optarg;
			break;
		case 's':
			o.state_dir = optarg;
			break;
		case 'r':
			o.runtime = optarg;
			break;
		case 'R':
			o.runtime_root = optarg;
			break;
		case 'l':
			o.log_path = optarg;
			break;
		case 'D':
			if (logs_driver_parse(optarg, &o.log_driver) < 0)
				return fail();
			break;
		case 'm':
			if (parse_size(optarg, &o.log_max_size) < 0) {
				fprintf(stderr, "deck-shim: --log-max-size: bad size \"%s\"\n",
					optarg);
				return 2;
			}
			break;
		case 't':
			o.terminal = true;
			break;
		case 'I':
			o.stdin_open = true;
			break;
		case 'w':
			o.wait_attach = true;
			break;
		case 'S':
			sync_fd = atoi(optarg);
			break;
		case 'd':
			o.deck_root = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'v':
			printf("deck-shim version %s\n", HULL_VERSION);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!o.id || !o.bundle || !o.state_dir) {
		fputs(usage, stderr);
		return 2;
	}
	if (optind < argc)
		o.exit_command = argv + optind;
	if (sync_fd >= 0)
		shim_main(&o, sync_fd);
	/* By hand: launch a detached copy of ourselves, as deck does. */
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = 0;
	o.shim_path = n > 0 ? self : "/proc/self/exe";
	pid_t pid;
	if (shim_start(&o, &pid) < 0)
		return fail();
	printf("%d\n", pid);
	return 0;
}
