/*
 * One error carried up: an errno and a message. A failing function records the
 * error and returns its negative errno; each caller on the way up may prefix
 * context ("mounts[2].destination: ..."). The runtime is single-threaded, and a
 * child process has its own copy, which it ships to the parent on failure.
 */
#pragma once
#include <stddef.h>

#define HERR_MSG_MAX 2048

struct herr {
	int code; /* positive errno */
	char msg[HERR_MSG_MAX];
};

/* Per thread: the image library pulls layers on several at once. */
extern _Thread_local struct herr herr_last;

/* Record code (a positive errno; 0 becomes EINVAL) with a message; returns -code. */
int herr_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like herr_set with the current errno, appending ": strerror(errno)". */
int herr_sys(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prefix the recorded message with "context: "; returns rc unchanged. */
int herr_ctx(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void herr_clear(void);
const char *herr_msg(void);
int herr_code(void);
