#include "log.h"
#include "error.h"
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * Everything is formatted into stack buffers and written with one write(2) per
 * line: with O_APPEND that keeps lines whole when several runtime processes (a
 * shim and an exec, say) share one log file, and nothing here allocates, so it
 * is safe in a forked child.
 */
#define MSG_MAX	     2048
#define LOG_LINE_MAX 8192

static int log_fd_ = -1;
static bool log_json;
static bool log_dbg;

static const char *const level_names[] = {
    [LOG_LVL_DEBUG] = "debug",
    [LOG_LVL_INFO] = "info",
    /* logrus spells it out, and tools that parse runc's log match on it. */
    [LOG_LVL_WARN] = "warning",
    [LOG_LVL_ERROR] = "error",
};

int log_init(const char *path, const char *format, bool debug)
{
	bool json;
	if (!format || !strcmp(format, "text"))
		json = false;
	else if (!strcmp(format, "json"))
		json = true;
	else
		return herr_set(EINVAL, "invalid log format %s (expected text or json)", format);

	int fd = -1;
	if (path && *path) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return herr_sys("open log file %s", path);
	}
	if (log_fd_ >= 0)
		close(log_fd_);
	log_fd_ = fd;
	log_json = json;
	log_dbg = debug;
	return 0;
}

bool log_debug_enabled(void)
{
	return log_dbg;
}

int log_fd(void)
{
	return log_fd_;
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return; /* nowhere left to report a failing log */
		}
		buf += n;
		len -= (size_t)n;
	}
}

struct out {
	char *p;
	size_t len, cap;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || o->len + n > o->cap) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and values past U+10FFFF are not UTF-8. */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * A quoted string: JSON rules for the json format, Go's %q-like rules for the
 * text format (logrus quotes with strconv). Invalid UTF-8 becomes U+FFFD in
 * JSON so that a strict parser never rejects the line. A message that does not
 * fit is cut at a character boundary, leaving `tail` bytes for the rest of the
 * record so that a JSON line stays well-formed.
 */
static void put_quoted(struct out *o, const char *s, bool json, size_t tail)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);
	size_t i = 0;
	put(o, "\"", 1);
	if (o->full)
		return;
	/* The body must leave room for the closing quote and what follows it. */
	size_t room = o->cap - o->len;
	struct out body = {o->p + o->len, 0, room > tail + 1 ? room - tail - 1 : 0, false};
	while (i < n && !body.full) {
		unsigned char c = u[i];
		char esc[8];
		size_t elen = 0, adv = 1;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			elen = 2;
		} else if (c == '\n' || c == '\t' || c == '\r') {
			esc[0] = '\\';
			esc[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
			elen = 2;
		} else if (c < 0x20 || c == 0x7f) {
			if (json)
				elen = (size_t)snprintf(esc, sizeof(esc), "\\u00%c%c", hex[c >> 4],
							hex[c & 15]);
			else
				elen = (size_t)snprintf(esc, sizeof(esc), "\\x%c%c", hex[c >> 4],
							hex[c & 15]);
		} else if (c >= 0x80) {
			adv = utf8_seq(u + i, n - i);
			if (adv) {
				put(&body, s + i, adv);
				if (!body.full)
					i += adv;
				continue;
			}
			adv = 1;
			if (json) {
				memcpy(esc, "\\ufffd", 6);
				elen = 6;
			} else {
				elen = (size_t)snprintf(esc, sizeof(esc), "\\x%c%c", hex[c >> 4],
							hex[c & 15]);
			}
		} else {
			esc[0] = (char)c;
			elen = 1;
		}
		put(&body, esc, elen);
		if (!body.full)
			i += adv;
	}
	o->len += body.len;
	put(o, "\"", 1);
}

static void put_time(struct out *o)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n =
	    snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
	if (n > 0)
		put(o, buf, (size_t)n);
}

static size_t format_record(char *line, size_t cap, enum log_level lvl, const char *msg)
{
	struct out o = {line, 0, cap - 1, false}; /* room for the newline */
	if (log_json) {
		puts_(&o, "{\"level\":\"");
		puts_(&o, level_names[lvl]);
		puts_(&o, "\",\"msg\":");
		put_quoted(&o, msg, true, 64);
		puts_(&o, ",\"time\":\"");
		put_time(&o);
		puts_(&o, "\"}");
	} else {
		puts_(&o, "time=\"");
		put_time(&o);
		puts_(&o, "\" level=");
		puts_(&o, level_names[lvl]);
		puts_(&o, " msg=");
		put_quoted(&o, msg, false, 0);
	}
	line[o.len++] = '\n';
	return o.len;
}

/* stderr wants one line per message: a message that ends in a newline would add an empty one. */
static size_t chomp(char *s, size_t n)
{
	while (n > 0 && s[n - 1] == '\n')
		s[--n] = 0;
	return n;
}

static void emit(enum log_level lvl, const char *fmt, va_list ap)
{
	char msg[MSG_MAX];
	char line[LOG_LINE_MAX];
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	size_t mlen = chomp(msg, (size_t)n < sizeof(msg) ? (size_t)n : sizeof(msg) - 1);

	if (log_fd_ >= 0 && (lvl != LOG_LVL_DEBUG || log_dbg))
		write_all(log_fd_, line, format_record(line, sizeof(line), lvl, msg));

	switch (lvl) {
	case LOG_LVL_DEBUG:
	case LOG_LVL_INFO:
		/* Without a log file, --debug is the only way to see them. */
		if (log_fd_ < 0 && log_dbg)
			write_all(STDERR_FILENO, line, format_record(line, sizeof(line), lvl, msg));
		break;
	case LOG_LVL_WARN:
	case LOG_LVL_ERROR: {
		const char *prefix = lvl == LOG_LVL_WARN ? "hull: warning: " : "hull: ";
		size_t plen = strlen(prefix);
		if (mlen > sizeof(line) - plen - 1)
			mlen = sizeof(line) - plen - 1;
		memcpy(line, prefix, plen);
		memcpy(line + plen, msg, mlen);
		line[plen + mlen] = '\n';
		write_all(STDERR_FILENO, line, plen + mlen + 1);
		break;
	}
	}
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	if (lvl == LOG_LVL_DEBUG && !log_dbg)
		return;
	if ((unsigned)lvl > LOG_LVL_ERROR)
		lvl = LOG_LVL_ERROR;
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	emit(lvl, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_error(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	emit(LOG_LVL_ERROR, fmt, ap);
	va_end(ap);
	errno = saved;
}
