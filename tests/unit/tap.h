/*
 * A minimal TAP producer for the unit tests: "ok N - name" / "not ok N - name"
 * lines, diagnostics as "# ..." lines, and the plan "1..N" at the end (TAP
 * allows a trailing plan, so tests need not count themselves). Meson reads it
 * with protocol : 'tap'. main() ends with `return tap_done();`, which is
 * non-zero if any test failed.
 */
#pragma once
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int tap_count, tap_failures;

static inline void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("# ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
}

static inline bool tap_vresult(bool pass, const char *file, int line, const char *fmt, va_list ap)
{
	printf("%sok %d - ", pass ? "" : "not ", ++tap_count);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	if (!pass) {
		tap_failures++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

static inline bool tap_result(bool pass, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline bool tap_result(bool pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool r = tap_vresult(pass, file, line, fmt, ap);
	va_end(ap);
	return r;
}

/* ok(cond, "name %d", i): pass if cond is true. All return whether they passed. */
#define ok(cond, ...) tap_result(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* is_int(got, want, name...): integers of any type, compared as intmax_t. */
#define is_int(got, want, ...)                                                                     \
	tap_is_int_((intmax_t)(got), (intmax_t)(want), __FILE__, __LINE__, __VA_ARGS__)
static inline bool tap_is_int_(intmax_t got, intmax_t want, const char *file, int line,
			       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline bool tap_is_int_(intmax_t got, intmax_t want, const char *file, int line,
			       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	bool r = tap_vresult(got == want, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		tap_diag("  got: %jd (0x%jx)\n#  want: %jd (0x%jx)", got, (uintmax_t)got, want,
			 (uintmax_t)want);
	return r;
}

/* is_str(got, want, name...): NULL equals only NULL. */
#define is_str(got, want, ...) tap_is_str_((got), (want), __FILE__, __LINE__, __VA_ARGS__)
static inline bool tap_is_str_(const char *got, const char *want, const char *file, int line,
			       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline bool tap_is_str_(const char *got, const char *want, const char *file, int line,
			       const char *fmt, ...)
{
	bool pass = (!got && !want) || (got && want && strcmp(got, want) == 0);
	va_list ap;
	va_start(ap, fmt);
	bool r = tap_vresult(pass, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		tap_diag("  got: %s%s%s\n#  want: %s%s%s", got ? "\"" : "", got ? got : "(null)",
			 got ? "\"" : "", want ? "\"" : "", want ? want : "(null)",
			 want ? "\"" : "");
	return r;
}

/* has_prefix(got, prefix, name...): got starts with prefix. */
#define has_prefix(got, prefix, ...)                                                               \
	tap_has_prefix_((got), (prefix), __FILE__, __LINE__, __VA_ARGS__)
static inline bool tap_has_prefix_(const char *got, const char *prefix, const char *file, int line,
				   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline bool tap_has_prefix_(const char *got, const char *prefix, const char *file, int line,
				   const char *fmt, ...)
{
	bool pass = got && strncmp(got, prefix, strlen(prefix)) == 0;
	va_list ap;
	va_start(ap, fmt);
	bool r = tap_vresult(pass, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		tap_diag("     got: %s\n#  prefix: %s", got ? got : "(null)", prefix);
	return r;
}

/* Print the plan; the exit status for main(). */
static inline int tap_done(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failures)
		tap_diag("%d of %d tests failed", tap_failures, tap_count);
	fflush(stdout);
	return tap_failures ? 1 : 0;
}
