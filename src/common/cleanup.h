/* Scope-bound ownership: every early return frees and closes; take_*() hands it over. */
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>
#include <errno.h>

static inline void freep(void *p)
{
	free(*(void **)p);
}
/* Also what `closep(&fd)` means in code: closed, and -1, so never closed twice. */
static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
		*fd = -1;
	}
}
static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}
void strv_free(char **v);
static inline void strv_freep(char ***v)
{
	strv_free(*v);
}

#define _cleanup_free_	   __attribute__((cleanup(freep)))
#define _cleanup_close_	   __attribute__((cleanup(closep)))
#define _cleanup_fclose_   __attribute__((cleanup(fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(closedirp)))
#define _cleanup_strv_	   __attribute__((cleanup(strv_freep)))

static inline int take_fd_(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}
static inline void *take_ptr_(void **p)
{
	void *r = *p;
	*p = NULL;
	return r;
}
#define take_fd(fd) take_fd_(&(fd))
#define take_ptr(p) take_ptr_((void **)&(p))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
