/* What the deck commands share: errors, the store, docker's ways of printing. */
#include "cli/deck/deck.h"
#include "common/error.h"
#include "image/reference.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int deck_fail(void)
{
	fprintf(stderr, "Error: %s\n", herr_msg());
	return 1;
}

int deck_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("Error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nSee 'deck %s --help'.\n", cmd);
	va_end(ap);
	return 125;
}

int deck_open_store(struct deck_opts *g, struct img_store *st)
{
	int r = img_store_open(g->root, st);
	return r < 0 ? deck_fail() : 0;
}

const char *deck_human_size(uint64_t n, char buf[32])
{
	static const char *const u[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)n;
	size_t i = 0;
	while (v >= 1000 && i + 1 < sizeof(u) / sizeof(*u)) {
		v /= 1000;
		i++;
	}
	if (i == 0)
		snprintf(buf, 32, "%lluB", (unsigned long long)n);
	else
		snprintf(buf, 32, "%.3g%s", v, u[i]);
	return buf;
}

const char *deck_human_ago(int64_t t, char buf[48])
{
	if (t <= 0)
		return strcpy(buf, "N/A");
	int64_t d = (int64_t)time(NULL) - t;
	if (d < 1)
		return strcpy(buf, "Less than a second ago");
	static const struct {
		int64_t s;
		const char *one, *many;
	} units[] = {
	    {365 * 86400, "About a year", "years"}, {30 * 86400, "About a month", "months"},
	    {7 * 86400, "About a week", "weeks"},   {86400, "About a day", "days"},
	    {3600, "About an hour", "hours"},	    {60, "About a minute", "minutes"}};
	for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++) {
		int64_t n = d / units[i].s;
		if (n == 1) {
			snprintf(buf, 48, "%s ago", units[i].one);
			return buf;
		}
		if (n > 1) {
			snprintf(buf, 48, "%lld %s ago", (long long)n, units[i].many);
			return buf;
		}
	}
	snprintf(buf, 48, "%lld seconds ago", (long long)d);
	return buf;
}

char *deck_short_name(const char *name)
{
	struct img_ref r;
	if (!name || img_ref_parse(name, &r) < 0)
		return name ? strdup(name) : NULL;
	char *s = img_ref_familiar(&r);
	img_ref_free(&r);
	return s;
}

int deck_parse_bool(const char *flag, const char *v, bool *out)
{
	if (!v || !strcmp(v, "true") || !strcmp(v, "1")) {
		*out = true;
		return 0;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0")) {
		*out = false;
		return 0;
	}
	fprintf(stderr, "Error: %s: expected true or false, got \"%s\"\n", flag, v);
	return -1;
}

int deck_find(struct img_store *st, const char *q, struct img_record *out)
{
	/* "busybox" is docker.io/library/busybox:latest; an ID prefix is itself. */
	struct img_ref ref;
	if (img_ref_parse(q, &ref) == 0) {
		char *full = img_ref_string(&ref);
		img_ref_free(&ref);
		int r = full ? img_store_find(st, full, out) : -ENOMEM;
		free(full);
		if (r == 0)
			return 0;
	}
	herr_clear();
	int r = img_store_find(st, q, out);
	if (r == -ENOENT)
		return herr_set(ENOENT, "no such image: %s", q);
	return r;
}

int deck_rm_each(int argc, char **argv, struct deck_opts *g, const char *cmd,
		 int (*rm)(const char *root, const char *name, bool force))
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {0}};
	bool force = false;
	int c;
	while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			force = true;
			break;
		case 'h':
			printf("Usage: deck %s [-f] NAME...\n", cmd);
			return 0;
		default:
			return deck_usage(cmd, "bad option");
		}
	}
	if (optind >= argc)
		return deck_usage(cmd, "\"deck %s\" requires at least 1 argument", cmd);
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		if (rm(g->root, argv[i], force) < 0)
			rc = deck_fail();
		else
			puts(argv[i]);
	}
	return rc;
}

const char *deck_sibling(const char *name, char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = 0;
	char *slash = strrchr(self, '/');
	snprintf(buf, len, "%.*s/%s", slash ? (int)(slash - self) : 1, slash ? self : ".", name);
	return buf;
}
