/*
 * Small helpers over cgroup files, shared by control.c and stats.c. A "leaf" is
 * one of the container's cgroup directories (one per hierarchy), as recorded in
 * its state's cgroup_leaves.
 */
#pragma once
#include "oci/state.h"

#include <stdbool.h>
#include <stdint.h>

static inline void cgf_state_freep(struct oci_state *st)
{
	oci_state_clear(st);
}
#define _cleanup_state_ __attribute__((cleanup(cgf_state_freep)))

/* CLOCK_MONOTONIC in milliseconds. */
long long cgf_now_ms(void);

bool cgf_has_file(const char *leaf, const char *file);

/* The first leaf that has file, or NULL. */
const char *cgf_leaf_with(char *const *leaves, const char *file);

/* leaf/file whole, NUL-terminated and malloc'd; NULL (nothing recorded) if unreadable. */
char *cgf_slurp(const char *leaf, const char *file);

int cgf_write_knob(const char *leaf, const char *file, const char *v);

/* A number as cgroup files write it; "max" is unlimited (UINT64_MAX). */
bool cgf_parse_u64(const char *s, uint64_t *v);

/* The value of "key N" in a flat-keyed file's text. */
bool cgf_kv_get(const char *text, const char *key, uint64_t *v);

/* A leaf of NULL reads as missing, so the result of cgf_leaf_with passes straight in. */
bool cgf_file_u64(const char *leaf, const char *file, uint64_t *v);
bool cgf_file_kv(const char *leaf, const char *file, const char *key, uint64_t *v);

/* In whichever leaf has file with key (cpu.stat exists in every v2 cgroup, with other keys). */
bool cgf_any_kv(char *const *leaves, const char *file, const char *key, uint64_t *v);

/*
 * The state of an existing container; with what (e.g. "pause it") it must also
 * have cgroups, else ENOTSUP naming what could not be done.
 */
int cgf_load(const char *root, const char *id, struct oci_state *st, const char *what);
