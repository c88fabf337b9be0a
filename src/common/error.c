#include "error.h"
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

_Thread_local struct herr herr_last;

static int set_v(int code, const char *fmt, va_list ap)
{
	if (code <= 0)
		code = EINVAL;
	herr_last.code = code;
	vsnprintf(herr_last.msg, sizeof(herr_last.msg), fmt, ap);
	return -code;
}

int herr_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = set_v(code, fmt, ap);
	va_end(ap);
	return r;
}

int herr_sys(const char *fmt, ...)
{
	int code = errno ? errno : EIO;
	va_list ap;
	va_start(ap, fmt);
	set_v(code, fmt, ap);
	va_end(ap);
	size_t n = strlen(herr_last.msg);
	snprintf(herr_last.msg + n, sizeof(herr_last.msg) - n, ": %s", strerror(code));
	return -code;
}

int herr_ctx(int rc, const char *fmt, ...)
{
	char prefix[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	/* Shift the old message right and put "prefix: " in front, truncating at the end. */
	size_t pl = strlen(prefix), ol = strlen(herr_last.msg);
	if (pl + 2 >= sizeof(herr_last.msg))
		pl = sizeof(herr_last.msg) - 3;
	if (pl + 2 + ol >= sizeof(herr_last.msg))
		ol = sizeof(herr_last.msg) - pl - 3;
	memmove(herr_last.msg + pl + 2, herr_last.msg, ol);
	herr_last.msg[pl + 2 + ol] = 0;
	memcpy(herr_last.msg, prefix, pl);
	herr_last.msg[pl] = ':';
	herr_last.msg[pl + 1] = ' ';
	if (!herr_last.code)
		herr_last.code = rc < 0 ? -rc : EINVAL;
	return rc;
}

void herr_clear(void)
{
	herr_last.code = 0;
	herr_last.msg[0] = 0;
}

const char *herr_msg(void)
{
	return herr_last.msg;
}

int herr_code(void)
{
	return herr_last.code;
}
