/*
 * A container's /etc/hosts, /etc/resolv.conf and /etc/hostname, written into a
 * directory of its state for the engine to bind-mount over the image's.
 */
#pragma once
#include <stdbool.h>

struct etc_opts {
	const char *hostname;	/* required */
	const char *domainname; /* optional: "host.domain" lines in hosts */
	/* The container's address on its network; NULL without one (--network none). */
	const char *ip;
	const char *const *aliases; /* more names for ip (the container's name), NULL-terminated */
	const char *const *extra_hosts; /* --add-host "NAME:IP" entries, NULL-terminated */
	const char *const *dns;		/* --dns servers: instead of the host's */
	const char *const *dns_search;	/* --dns-search: instead of the host's */
	const char *const *dns_options; /* --dns-option: instead of the host's */
	/*
	 * --network host: the host's hosts and resolv.conf as they are (its
	 * loopback resolver is reachable then), plus the extra hosts.
	 */
	bool host_network;
	const char *host_resolv; /* NULL: /etc/resolv.conf */
	const char *host_hosts;	 /* NULL: /etc/hosts */
};

/*
 * Write dir/hosts, dir/resolv.conf and dir/hostname (mode 0644, each replaced
 * atomically). resolv.conf keeps the host's search, domain and options lines
 * and its nameservers but the loopback ones, which the container's own
 * loopback cannot reach (with systemd-resolved's stub at 127.0.0.53, the
 * servers of /run/systemd/resolve/resolv.conf instead). With no servers left
 * there is no nameserver line: this machine has no public resolver to fall back on.
 */
int etc_write(const char *dir, const struct etc_opts *o);

/* Append "IP NAME..." to an existing hosts file (a container joining the network later). */
int etc_hosts_add(const char *dir, const char *ip, const char *const *names);
