/* docker's seccomp profile format to runtime-spec's (ctr-seccomp.c). */
#pragma once
#include <stdint.h>

struct json_object;

/*
 * text: the profile file's contents (file names it in errors, with the JSON path
 * of what is wrong); caps: the container's bounding set (bit N = capability N).
 * *out: a new linux.seccomp object.
 */
int ctr_seccomp_from_docker(const char *file, const char *text, uint64_t caps,
			    struct json_object **out);
