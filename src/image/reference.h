/*
 * Image references as docker parses them: "busybox" is
 * docker.io/library/busybox:latest; "host:5000/ns/app@sha256:..." keeps its
 * registry (a first component with a '.' or ':' or equal to "localhost").
 */
#pragma once

struct img_ref {
	char *domain; /* "docker.io", "127.0.0.1:5000" */
	char *path;   /* "library/busybox", "ns/app" */
	char *tag;    /* "latest" when neither tag nor digest was given; NULL if digest only */
	char *digest; /* "sha256:..." or NULL */
};

/* Parse s; a bad reference gets: reference "s": <what is wrong>. */
int img_ref_parse(const char *s, struct img_ref *out);
/* "domain/path:tag", "domain/path@digest" or "domain/path:tag@digest" (malloc'd). */
char *img_ref_string(const struct img_ref *r);
/* "domain/path" (malloc'd). */
char *img_ref_repo(const struct img_ref *r);
/* The short form docker prints: "busybox:latest", "127.0.0.1:5000/x:1" (malloc'd). */
char *img_ref_familiar(const struct img_ref *r);
void img_ref_free(struct img_ref *r);
