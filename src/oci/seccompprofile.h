/*
 * The default linux.seccomp of `hull spec`: a syscall allowlist as strict as
 * Docker's default profile, widened per capability the way Docker widens it
 * (a group of syscalls is allowed only when the bounding set holds the
 * capability the kernel would check for them anyway).
 */
#pragma once
#include <stddef.h>

struct jb;
struct json_object;

/*
 * The linux.seccomp object for a process whose bounding set is the n names in
 * caps ("CAP_SYS_ADMIN"; matched without regard to case, unknown ones ignored).
 * The architectures are those of the build (x86_64: X86_64, X86, X32). Built
 * with b's rules: NULL, and b marked failed, when out of memory.
 */
struct json_object *oci_default_seccomp(struct jb *b, const char *const *caps, size_t n);

/*
 * spec.linux.seccomp = the default profile for spec.process.capabilities.bounding
 * (no bounding set: no capability-gated syscalls). Creates "linux" if missing.
 */
void oci_spec_add_default_seccomp(struct jb *b, struct json_object *spec);
