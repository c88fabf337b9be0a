/*
 * Compiled seccomp filters kept across runs, as crun does: libseccomp needs
 * 10-20 ms to turn a Docker-sized profile into BPF, and engines pass the same
 * profile to every container. An entry is keyed by the exact text of the
 * profile and libseccomp's version and holds the BPF; the whole key is stored
 * and compared on a hit, so two profiles can never share an entry.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct sock_filter;

/* 1 and a malloc'd program on a hit, 0 on a miss (or an unusable entry). */
int seccomp_cache_get(const char *dir, const char *key, size_t klen, struct sock_filter **insns,
		      unsigned short *len, bool *notify);
/* Best effort: a cache that cannot be written is only slower. */
void seccomp_cache_put(const char *dir, const char *key, size_t klen,
		       const struct sock_filter *insns, unsigned short len, bool notify);
