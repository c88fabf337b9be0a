/* /etc/hosts, /etc/resolv.conf and /etc/hostname for a container. */
#include "engine/etcfiles.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYSTEMD_RESOLV "/run/systemd/resolve/resolv.conf"

/* 0644, unlike fs_write_file_atomic: the container's processes are not all root. */
static int write_file(const char *dir, const char *name, const char *data, size_t len)
{
	_cleanup_free_ char *path = NULL, *tmp = NULL;
	if (asprintf(&path, "%s/%s", dir, name) < 0 || asprintf(&tmp, "%s/.%s.tmp", dir, name) < 0)
		return -ENOMEM;
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return herr_sys("create %s", tmp);
	if (fchmod(fd, 0644) < 0 || write(fd, data, len) != (ssize_t)len) {
		int r = herr_sys("write %s", tmp);
		unlink(tmp);
		return r;
	}
	if (rename(tmp, path) < 0) {
		int r = herr_sys("rename %s", path);
		unlink(tmp);
		return r;
	}
	return 0;
}

static bool valid_ip(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool loopback(const char *ip)
{
	struct in_addr a;
	struct in6_addr a6;
	if (inet_pton(AF_INET, ip, &a) == 1)
		return (ntohl(a.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, ip, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* "NAME:IP" (IP may be IPv6, so the first ':' splits). */
static int extra_host_line(FILE *f, const char *spec)
{
	const char *colon = strchr(spec, ':');
	if (!colon || colon == spec || !valid_ip(colon + 1))
		return herr_set(EINVAL, "--add-host \"%s\": expected NAME:IP", spec);
	fprintf(f, "%s\t%.*s\n", colon + 1, (int)(colon - spec), spec);
	return 0;
}

static int hosts_text(const struct etc_opts *o, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);
	if (!f)
		return -ENOMEM;
	int r = 0;
	if (o->host_network) {
		_cleanup_free_ char *host = NULL;
		size_t n;
		r = fs_read_file(o->host_hosts ? o->host_hosts : "/etc/hosts", 1 << 20, &host, &n);
		if (r == -ENOENT) {
			herr_clear();
			r = 0;
		} else if (r == 0) {
			fwrite(host, 1, n, f);
			if (n && host[n - 1] != '\n')
				fputc('\n', f);
		}
	} else {
		fputs("127.0.0.1\tlocalhost localhost.localdomain localhost4 "
		      "localhost4.localdomain4\n"
		      "::1\tlocalhost localhost.localdomain localhost6 localhost6.localdomain6\n",
		      f);
		/* Without an address of its own the name still resolves, as on Debian. */
		fprintf(f, "%s\t", o->ip ? o->ip : "127.0.1.1");
		if (o->domainname && *o->domainname)
			fprintf(f, "%s.%s ", o->hostname, o->domainname);
		fputs(o->hostname, f);
		for (size_t i = 0; o->aliases && o->aliases[i]; i++)
			if (strcmp(o->aliases[i], o->hostname))
				fprintf(f, " %s", o->aliases[i]);
		fputc('\n', f);
	}
	for (size_t i = 0; r == 0 && o->extra_hosts && o->extra_hosts[i]; i++)
		r = extra_host_line(f, o->extra_hosts[i]);
	fclose(f);
	if (r < 0) {
		free(*out);
		*out = NULL;
	}
	return r;
}

/* The nameserver lines of a resolv.conf that a container can use. */
static void servers_of(const char *text, FILE *f, size_t *kept, size_t *dropped)
{
	_cleanup_free_ char *copy = strdup(text);
	if (!copy)
		return;
	for (char *save = NULL, *l = strtok_r(copy, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char ip[64];
		if (sscanf(l, " nameserver %63s", ip) != 1)
			continue;
		if (loopback(ip)) {
			(*dropped)++;
			continue;
		}
		fprintf(f, "nameserver %s\n", ip);
		(*kept)++;
	}
}

static bool starts_with_word(const char *l, const char *w)
{
	while (*l == ' ' || *l == '\t')
		l++;
	size_t n = strlen(w);
	return !strncmp(l, w, n) && (l[n] == ' ' || l[n] == '\t' || !l[n]);
}

static void list_line(FILE *f, const char *key, const char *const *v)
{
	if (!v || !v[0])
		return;
	fputs(key, f);
	for (size_t i = 0; v[i]; i++)
		fprintf(f, " %s", v[i]);
	fputc('\n', f);
}

static int resolv_text(const struct etc_opts *o, char **out, size_t *len)
{
	const char *src = o->host_resolv ? o->host_resolv : "/etc/resolv.conf";
	_cleanup_free_ char *host = NULL;
	size_t n;
	int r = fs_read_file(src, 1 << 20, &host, &n);
	if (r == -ENOENT) {
		herr_clear();
		host = strdup("");
		if (!host)
			return -ENOMEM;
	} else if (r < 0) {
		return r;
	}
	for (size_t i = 0; o->dns && o->dns[i]; i++)
		if (!valid_ip(o->dns[i]))
			return herr_set(EINVAL, "--dns \"%s\": not an IP address", o->dns[i]);
	if (o->host_network && !o->dns && !o->dns_search && !o->dns_options) {
		*out = take_ptr(host);
		*len = n;
		return 0;
	}
	FILE *f = open_memstream(out, len);
	if (!f)
		return -ENOMEM;
	/* search, domain, options, sortlist: the host's unless replaced. */
	_cleanup_free_ char *copy = strdup(host);
	for (char *save = NULL, *l = copy ? strtok_r(copy, "\n", &save) : NULL; l;
	     l = strtok_r(NULL, "\n", &save)) {
		if (starts_with_word(l, "nameserver") || l[0] == '#' || l[0] == ';')
			continue;
		if ((o->dns_search &&
		     (starts_with_word(l, "search") || starts_with_word(l, "domain"))) ||
		    (o->dns_options && starts_with_word(l, "options")))
			continue;
		fprintf(f, "%s\n", l);
	}
	list_line(f, "search", o->dns_search);
	list_line(f, "options", o->dns_options);
	if (o->dns) {
		for (size_t i = 0; o->dns[i]; i++)
			fprintf(f, "nameserver %s\n", o->dns[i]);
	} else {
		size_t kept = 0, dropped = 0;
		servers_of(host, f, &kept, &dropped);
		if (!kept && dropped) {
			/* systemd-resolved's stub: the servers it forwards to are in its own file.
			 */
			_cleanup_free_ char *real = NULL;
			size_t rn;
			if (fs_read_file(SYSTEMD_RESOLV, 1 << 20, &real, &rn) == 0)
				servers_of(real, f, &kept, &dropped);
			herr_clear();
		}
	}
	fclose(f);
	return 0;
}

int etc_write(const char *dir, const struct etc_opts *o)
{
	if (!o->hostname || !*o->hostname)
		return herr_set(EINVAL, "no hostname for /etc/hostname");
	if (o->ip && !valid_ip(o->ip))
		return herr_set(EINVAL, "\"%s\" is not an IP address", o->ip);
	_cleanup_free_ char *hosts = NULL, *resolv = NULL, *hostname = NULL;
	size_t hl, rl;
	int r = hosts_text(o, &hosts, &hl);
	if (r < 0)
		return r;
	if ((r = resolv_text(o, &resolv, &rl)) < 0)
		return r;
	if (asprintf(&hostname, "%s\n", o->hostname) < 0)
		return -ENOMEM;
	if ((r = write_file(dir, "hosts", hosts, hl)) < 0 ||
	    (r = write_file(dir, "resolv.conf", resolv, rl)) < 0 ||
	    (r = write_file(dir, "hostname", hostname, strlen(hostname))) < 0)
		return r;
	return 0;
}

int etc_hosts_add(const char *dir, const char *ip, const char *const *names)
{
	if (!valid_ip(ip))
		return herr_set(EINVAL, "\"%s\" is not an IP address", ip);
	if (!names || !names[0])
		return herr_set(EINVAL, "no name for %s", ip);
	_cleanup_free_ char *path = NULL, *line = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&line, &len);
	if (!f)
		return -ENOMEM;
	fputs(ip, f);
	for (size_t i = 0; names[i]; i++)
		fprintf(f, "%c%s", i ? ' ' : '\t', names[i]);
	fputc('\n', f);
	fclose(f);
	if (asprintf(&path, "%s/hosts", dir) < 0)
		return -ENOMEM;
	/*
	 * In place with one write: the file may already be bind-mounted into the
	 * container, where a rename would not be seen.
	 */
	_cleanup_close_ int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return herr_sys("open %s", path);
	if (write(fd, line, len) != (ssize_t)len)
		return herr_sys("write %s", path);
	return 0;
}
