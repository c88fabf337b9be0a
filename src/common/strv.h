#pragma once
#include <stddef.h>
#include <stdbool.h>

size_t strv_len(char *const *v);
/* Append a copy of s; returns 0 or -ENOMEM. *v may be NULL. */
int strv_push(char ***v, const char *s);
/* "K=V" lookup in an env vector: the value, or NULL. */
const char *strv_env_get(char *const *env, const char *key);
bool strv_contains(char *const *v, const char *s);
void strv_free(char **v);
