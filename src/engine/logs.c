/*
 * Container logs: the writer deck-shim feeds as output arrives, and the reader
 * behind `deck logs` (tail, since/until, timestamps, follow across rotations).
 */
#include "engine/logs.h"
#include "engine/shim.h"
#include "common/cleanup.h"
#include "common/error.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NS_PER_S 1000000000LL

int logs_driver_parse(const char *s, enum logs_driver *d)
{
	if (!strcmp(s, "k8s-file"))
		*d = LOGS_K8S_FILE;
	else if (!strcmp(s, "json-file"))
		*d = LOGS_JSON_FILE;
	else if (!strcmp(s, "none"))
		*d = LOGS_NONE;
	else
		return herr_set(
		    EINVAL, "unknown log driver \"%s\" (expected k8s-file, json-file or none)", s);
	return 0;
}

const char *logs_driver_name(enum logs_driver d)
{
	return d == LOGS_K8S_FILE ? "k8s-file" : d == LOGS_JSON_FILE ? "json-file" : "none";
}

void logs_format_time(int64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / NS_PER_S);
	struct tm tm;
	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long long)(ns % NS_PER_S));
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/* ---- writer ---- */

/*
 * The shim writes one log from one thread, and every write call empties the
 * stage before it returns: one static buffer is all the writer ever needs.
 */
static char stage[4096];
static size_t staged;

static int flush_stage(struct logs_writer *w)
{
	size_t off = 0;
	while (off < staged) {
		ssize_t n = write(w->fd, stage + off, staged - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			staged = 0;
			return herr_sys("write %s", w->path);
		}
		off += (size_t)n;
	}
	staged = 0;
	return 0;
}

static int put(struct logs_writer *w, const char *p, size_t n)
{
	while (n) {
		if (staged == sizeof(stage)) {
			int r = flush_stage(w);
			if (r < 0)
				return r;
		}
		size_t k = sizeof(stage) - staged;
		if (k > n)
			k = n;
		memcpy(stage + staged, p, k);
		staged += k;
		p += k;
		n -= k;
	}
	return 0;
}

static bool json_plain(unsigned char c)
{
	return c >= 0x20 && c != '"' && c != '\\';
}

static size_t json_escaped_len(const char *s, size_t n)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (json_plain(c))
			len++;
		else if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t')
			len += 2;
		else
			len += 6;
	}
	return len;
}

static int put_json(struct logs_writer *w, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t run = i;
		while (run < n && json_plain((unsigned char)s[run]))
			run++;
		int r = put(w, s + i, run - i);
		if (r < 0 || run == n)
			return r;
		unsigned char c = (unsigned char)s[run];
		char esc[8];
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c == '\n' || c == '\r' || c == '\t')
			snprintf(esc, sizeof(esc), "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
		else
			snprintf(esc, sizeof(esc), "\\u%04x", c);
		if ((r = put(w, esc, strlen(esc))) < 0)
			return r;
		i = run + 1;
	}
	return 0;
}

int logs_writer_open(struct logs_writer *w, const char *path, enum logs_driver d, uint64_t max_size)
{
	*w = (struct logs_writer){.fd = -1, .driver = d, .max_size = max_size, .path = path};
	if (d == LOGS_NONE || !path)
		return 0;
	w->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (w->fd < 0)
		return herr_sys("cannot open log %s", path);
	struct stat st;
	if (fstat(w->fd, &st) == 0)
		w->size = (uint64_t)st.st_size;
	return 0;
}

void logs_writer_close(struct logs_writer *w)
{
	closep(&w->fd);
	w->fd = -1;
}

static int rotate(struct logs_writer *w)
{
	int r = flush_stage(w);
	if (r < 0)
		return r;
	char old[PATH_MAX];
	if ((size_t)snprintf(old, sizeof(old), "%s.1", w->path) >= sizeof(old))
		return herr_set(ENAMETOOLONG, "log path too long: %s", w->path);
	if (rename(w->path, old) < 0)
		return herr_sys("rotate %s", w->path);
	int fd = open(w->path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return herr_sys("cannot reopen log %s", w->path);
	close(w->fd);
	w->fd = fd;
	w->size = 0;
	return 0;
}

int logs_writer_write(struct logs_writer *w, int stream, const char *buf, size_t len)
{
	if (w->fd < 0 || !len)
		return 0;
	char ts[48];
	logs_format_time(now_ns(), ts, sizeof(ts));
	size_t tslen = strlen(ts);
	const char *sname = stream == 2 ? "stderr" : "stdout";
	static const char j1[] = "{\"log\":\"", j2[] = "\",\"stream\":\"", j3[] = "\",\"time\":\"",
			  j4[] = "\"}\n";
	int err = 0;
	for (const char *p = buf, *end = buf + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t tlen = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t rec;
		if (w->driver == LOGS_K8S_FILE)
			rec = tslen + 1 + 6 + 3 + tlen + 1;
		else
			rec = sizeof(j1) - 1 + json_escaped_len(p, tlen) + (nl ? 2 : 0) +
			      sizeof(j2) - 1 + 6 + sizeof(j3) - 1 + tslen + sizeof(j4) - 1;
		if (w->max_size && w->size && w->size + rec > w->max_size) {
			/* A failed rotation keeps writing where we are: never lose output. */
			int r = rotate(w);
			if (r < 0 && !err)
				err = r;
		}
		int r;
		if (w->driver == LOGS_K8S_FILE) {
			char head[80];
			int n =
			    snprintf(head, sizeof(head), "%s %s %c ", ts, sname, nl ? 'F' : 'P');
			if ((r = put(w, head, (size_t)n)) >= 0 && (r = put(w, p, tlen)) >= 0)
				r = put(w, "\n", 1);
		} else {
			if ((r = put(w, j1, sizeof(j1) - 1)) >= 0 &&
			    (r = put_json(w, p, tlen)) >= 0 &&
			    (r = put(w, nl ? "\\n" : "", nl ? 2 : 0)) >= 0 &&
			    (r = put(w, j2, sizeof(j2) - 1)) >= 0 && (r = put(w, sname, 6)) >= 0 &&
			    (r = put(w, j3, sizeof(j3) - 1)) >= 0 && (r = put(w, ts, tslen)) >= 0)
				r = put(w, j4, sizeof(j4) - 1);
		}
		if (r < 0 && !err)
			err = r;
		w->size += rec;
		p += tlen + (nl ? 1 : 0);
	}
	int r = flush_stage(w);
	return err ? err : r;
}

/* ---- time parsing ---- */

/* Digits (and an optional fraction) as ns, times unit_ns; *end after them. */
static bool parse_decimal(const char *s, int64_t unit_ns, int64_t *out, const char **end)
{
	const char *p = s;
	int64_t whole = 0, frac = 0, scale = 1;
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p)) {
		if (whole > INT64_MAX / 10 / unit_ns)
			return false;
		whole = whole * 10 + (*p++ - '0');
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			if (scale < NS_PER_S) {
				frac = frac * 10 + (*p - '0');
				scale *= 10;
			}
			p++;
		}
	}
	*out = whole * unit_ns + (int64_t)((double)frac / (double)scale * (double)unit_ns);
	*end = p;
	return true;
}

static bool parse_duration(const char *s, int64_t *out)
{
	static const struct {
		const char *u;
		int64_t ns;
	} units[] = {{"ns", 1},	      {"us", 1000},	    {"ms", 1000000},
		     {"s", NS_PER_S}, {"m", 60 * NS_PER_S}, {"h", 3600 * NS_PER_S}};
	int64_t total = 0;
	const char *p = s;
	do {
		const char *num = p, *e;
		int64_t v;
		if (!parse_decimal(num, 1, &v, &e))
			return false;
		size_t i, ulen = 0;
		for (i = 0; i < ARRAY_SIZE(units); i++) {
			ulen = strlen(units[i].u);
			if (!strncmp(e, units[i].u, ulen) && !isalpha((unsigned char)e[ulen]))
				break;
		}
		if (i == ARRAY_SIZE(units) || !parse_decimal(num, units[i].ns, &v, &e))
			return false;
		total += v;
		p = e + ulen;
	} while (*p);
	*out = total;
	return true;
}

static bool parse_2(const char **p, int *v, int lo, int hi)
{
	if (!isdigit((unsigned char)(*p)[0]) || !isdigit((unsigned char)(*p)[1]))
		return false;
	*v = ((*p)[0] - '0') * 10 + ((*p)[1] - '0');
	*p += 2;
	return *v >= lo && *v <= hi;
}

/* RFC3339 with optional time, fraction and zone (none: local time, as docker). */
static bool parse_rfc3339(const char *s, size_t n, int64_t *out)
{
	char buf[64];
	if (n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	const char *p = buf;
	struct tm tm = {0};
	int y = 0, v;
	for (int i = 0; i < 4; i++, p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		y = y * 10 + (*p - '0');
	}
	tm.tm_year = y - 1900;
	if (*p++ != '-' || !parse_2(&p, &v, 1, 12))
		return false;
	tm.tm_mon = v - 1;
	if (*p++ != '-' || !parse_2(&p, &tm.tm_mday, 1, 31))
		return false;
	int64_t frac = 0;
	bool has_zone = false;
	long off = 0;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (!parse_2(&p, &tm.tm_hour, 0, 23) || *p++ != ':' ||
		    !parse_2(&p, &tm.tm_min, 0, 59) || *p++ != ':' ||
		    !parse_2(&p, &tm.tm_sec, 0, 60))
			return false;
		if (*p == '.') {
			int64_t scale = NS_PER_S;
			frac = 0;
			for (p++; isdigit((unsigned char)*p); p++)
				if (scale > 1) {
					scale /= 10;
					frac += (*p - '0') * scale;
				}
		}
		if (*p == 'Z' || *p == 'z') {
			has_zone = true;
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, hh, mm;
			if (!parse_2(&p, &hh, 0, 23) || *p++ != ':' || !parse_2(&p, &mm, 0, 59))
				return false;
			has_zone = true;
			off = sign * (hh * 3600L + mm * 60L);
		}
	}
	if (*p)
		return false;
	time_t t;
	if (has_zone) {
		t = timegm(&tm) - off;
	} else {
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	*out = (int64_t)t * NS_PER_S + frac;
	return true;
}

int logs_parse_time(const char *s, int64_t now, int64_t *out)
{
	const char *e;
	int64_t v;
	if (parse_rfc3339(s, strlen(s), out))
		return 0;
	if (parse_decimal(s, NS_PER_S, &v, &e) && !*e) {
		*out = v;
		return 0;
	}
	if (parse_duration(s, &v)) {
		*out = now - v;
		return 0;
	}
	return herr_set(EINVAL,
			"invalid time \"%s\": expected RFC3339 (2026-11-26T14:00:00Z), unix "
			"seconds, or a duration such as 10m or 1h30m",
			s);
}

/* ---- reader ---- */

struct rec {
	int64_t ns;
	const char *ts;
	size_t ts_len;
	int stream; /* 1 stdout, 2 stderr */
	const char *text;
	size_t len;
	bool ends_line;
	bool add_nl; /* k8s-file drops the newline that ends a line */
	json_object *obj;
};

struct reader {
	const struct logs_read_opts *o;
	int fds[3];
	int cur; /* the stream whose bytes buf holds */
	size_t n;
	bool mid_line[3]; /* a partial line of that stream is out: no timestamp */
	long skip;	  /* line ends still to skip (--tail) */
	long lines;	  /* the counting pass */
	char *line;
	size_t cap;
	int err;
	char buf[16384];
};

static bool parse_k8s(char *l, size_t n, struct rec *r)
{
	char *end = l + n - 1; /* the newline */
	char *sp = memchr(l, ' ', n);
	if (!sp)
		return false;
	r->ts = l;
	r->ts_len = (size_t)(sp - l);
	char *s = sp + 1;
	if (end - s >= 7 && !memcmp(s, "stdout ", 7))
		r->stream = 1;
	else if (end - s >= 7 && !memcmp(s, "stderr ", 7))
		r->stream = 2;
	else
		return false;
	s += 7;
	if (s >= end)
		return false;
	r->ends_line = r->add_nl = *s != 'P';
	s++;
	if (s < end && *s == ' ')
		s++;
	r->text = s;
	r->len = (size_t)(end - s);
	return parse_rfc3339(r->ts, r->ts_len, &r->ns);
}

static bool parse_json(char *l, struct rec *r)
{
	r->obj = json_tokener_parse(l);
	json_object *v;
	if (!r->obj || !json_object_is_type(r->obj, json_type_object) ||
	    !json_object_object_get_ex(r->obj, "log", &v))
		return false;
	r->text = json_object_get_string(v);
	r->len = (size_t)json_object_get_string_len(v);
	r->ends_line = r->len && r->text[r->len - 1] == '\n';
	r->stream = 1;
	if (json_object_object_get_ex(r->obj, "stream", &v) &&
	    !strcmp(json_object_get_string(v), "stderr"))
		r->stream = 2;
	if (!json_object_object_get_ex(r->obj, "time", &v))
		return false;
	r->ts = json_object_get_string(v);
	r->ts_len = (size_t)json_object_get_string_len(v);
	return parse_rfc3339(r->ts, r->ts_len, &r->ns);
}

static bool in_range(const struct reader *R, const struct rec *r)
{
	return (!R->o->since || r->ns >= R->o->since) && (!R->o->until || r->ns <= R->o->until);
}

static void flush_out(struct reader *R)
{
	size_t off = 0;
	while (off < R->n && !R->err) {
		ssize_t k = write(R->fds[R->cur], R->buf + off, R->n - off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			R->err = herr_sys("write the log out");
		else
			off += (size_t)k;
	}
	R->n = 0;
}

static void out(struct reader *R, int s, const char *p, size_t n)
{
	if (R->cur != s) {
		flush_out(R);
		R->cur = s;
	}
	while (n && !R->err) {
		if (R->n == sizeof(R->buf))
			flush_out(R);
		size_t k = sizeof(R->buf) - R->n;
		if (k > n)
			k = n;
		memcpy(R->buf + R->n, p, k);
		R->n += k;
		p += k;
		n -= k;
	}
}

static void count(struct reader *R, struct rec *r)
{
	if (in_range(R, r) && r->ends_line)
		R->lines++;
}

static void emit(struct reader *R, struct rec *r)
{
	if (!in_range(R, r))
		return;
	if (R->skip > 0) {
		if (r->ends_line)
			R->skip--;
		return;
	}
	int s = r->stream;
	if (R->o->timestamps && !R->mid_line[s]) {
		out(R, s, r->ts, r->ts_len);
		out(R, s, " ", 1);
	}
	out(R, s, r->text, r->len);
	if (r->add_nl)
		out(R, s, "\n", 1);
	R->mid_line[s] = !r->ends_line;
}

/* Every whole record from f's position on; a record being written stays for later. */
static int scan(struct reader *R, FILE *f, void (*fn)(struct reader *, struct rec *))
{
	for (;;) {
		off_t pos = ftello(f);
		ssize_t n = getline(&R->line, &R->cap, f);
		if (n < 0) {
			if (ferror(f))
				return herr_sys("read the log");
			clearerr(f);
			return 0;
		}
		if (R->line[n - 1] != '\n') {
			fseeko(f, pos, SEEK_SET);
			return 0;
		}
		struct rec r = {0};
		bool ok =
		    R->line[0] == '{' ? parse_json(R->line, &r) : parse_k8s(R->line, (size_t)n, &r);
		if (ok)
			fn(R, &r);
		json_object_put(r.obj);
		if (R->err)
			return R->err;
	}
}

static int scan_path(struct reader *R, const char *path, void (*fn)(struct reader *, struct rec *))
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : herr_sys("cannot open log %s", path);
	return scan(R, f, fn);
}

static bool exit_recorded(const char *state_dir)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/" SHIM_EXIT_FILE, state_dir);
	return access(p, F_OK) == 0;
}

static int watch(int ino, const char *dir, uint32_t mask)
{
	if (inotify_add_watch(ino, dir, mask | IN_MASK_ADD) < 0)
		return herr_sys("inotify_add_watch %s", dir);
	return 0;
}

/* -f: new records until the shim has recorded the exit (or is gone) and all is read. */
static int follow(struct reader *R, const char *path, FILE *cur, int ino, int pidfd)
{
	_cleanup_fclose_ FILE *f = cur;
	for (;;) {
		bool ended = false;
		if (R->o->state_dir) {
			struct pollfd p = {.fd = pidfd, .events = POLLIN};
			ended =
			    exit_recorded(R->o->state_dir) || (pidfd >= 0 && poll(&p, 1, 0) == 1);
		}
		if (!f)
			f = fopen(path, "re");
		int r = f ? scan(R, f, emit) : 0;
		if (r < 0)
			return r;
		struct stat a, b;
		if (f &&
		    (stat(path, &b) < 0 || (fstat(fileno(f), &a) == 0 && a.st_ino != b.st_ino))) {
			/* Rotated: the old file has had its last write; finish it, take the new. */
			if ((r = scan(R, f, emit)) < 0)
				return r;
			fclose(f);
			f = NULL;
			continue;
		}
		flush_out(R);
		if (ended || R->err)
			return R->err;
		struct pollfd p[2] = {{.fd = ino, .events = POLLIN},
				      {.fd = pidfd, .events = POLLIN}};
		if (poll(p, pidfd >= 0 ? 2 : 1, -1) < 0 && errno != EINTR)
			return herr_sys("poll");
		char ev[4096];
		while (read(ino, ev, sizeof(ev)) > 0)
			;
	}
}

int logs_read(const char *path, enum logs_driver d, const struct logs_read_opts *o, int out_fd,
	      int err_fd)
{
	if (d == LOGS_NONE)
		return herr_set(ENODATA,
				"the container logs with the \"none\" driver: nothing to read");
	_cleanup_free_ struct reader *R = calloc(1, sizeof(*R));
	if (!R)
		return herr_set(ENOMEM, "out of memory");
	R->o = o;
	R->fds[1] = out_fd;
	R->fds[2] = err_fd;
	R->cur = 1;
	char old[PATH_MAX];
	if ((size_t)snprintf(old, sizeof(old), "%s.1", path) >= sizeof(old))
		return herr_set(ENAMETOOLONG, "log path too long: %s", path);

	/* Watch before reading, so that nothing written meanwhile goes unnoticed. */
	_cleanup_close_ int ino = -1, pidfd = -1;
	bool want_follow = o->follow;
	if (want_follow && o->state_dir) {
		pidfd = shim_pidfd(o->state_dir);
		if (pidfd < 0) {
			herr_clear();
			want_follow = false; /* no shim: nothing more will come */
		}
	}
	if (want_follow) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s", path);
		char *slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = 0;
		else if (slash)
			*slash = 0;
		else
			strcpy(dir, ".");
		ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (ino < 0)
			return herr_sys("inotify_init1");
		int r = watch(ino, dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM);
		if (r >= 0 && o->state_dir)
			r = watch(ino, o->state_dir, IN_CREATE | IN_MOVED_TO);
		if (r < 0)
			return r;
	}

	int r = 0;
	if (o->tail >= 0) {
		if ((r = scan_path(R, old, count)) < 0 || (r = scan_path(R, path, count)) < 0)
			goto out;
		R->skip = R->lines > o->tail ? R->lines - o->tail : 0;
	}
	if ((r = scan_path(R, old, emit)) < 0)
		goto out;
	FILE *cur = fopen(path, "re");
	if (!cur && errno != ENOENT) {
		r = herr_sys("cannot open log %s", path);
		goto out;
	}
	if (want_follow) {
		r = follow(R, path, cur, ino, pidfd);
	} else if (cur) {
		r = scan(R, cur, emit);
		fclose(cur);
	}
out:
	flush_out(R);
	free(R->line);
	return r < 0 ? r : R->err;
}
