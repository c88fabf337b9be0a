/*
 * Container networks: CNI configuration lists kept by the engine, and the
 * attachment of a container's network namespace to one of them.
 *
 * Layout under the deck root:
 *   networks/NAME.conflist          the CNI conflist (bridge + host-local IPAM,
 *                                   portmap, firewall, tuning: podman's CNI default)
 *   networks/NAME.attach/ID         one record per attached container: the netns,
 *                                   ports, the conflist used and the CNI result,
 *                                   everything DEL needs later
 *   networks/.lock                  flock: shared for attach/detach, exclusive for
 *                                   create/rm
 *   cni-ipam/NAME/                  host-local's leases
 *
 * The network "deck" (bridge deck0, 10.88.0.0/16, or the first free 10.89.N.0/24
 * when the host already routes that) is created the first time it is needed.
 * IPv4 only.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

#define NET_DEFAULT	   "deck"
#define NET_DEFAULT_BRIDGE "deck0"
#define NET_DEFAULT_SUBNET "10.88.0.0/16"
#define NET_NAME_MAX	   64
#define NET_IFNAME	   "eth0"

/* ---- port mappings (-p) ---- */

struct net_port {
	char host_ip[46];   /* "" = every address of the host */
	uint16_t host_port; /* 0 = net_attach picks a free one */
	uint16_t container_port;
	char proto[5]; /* "tcp", "udp" or "sctp" */
};

/*
 * Parse one -p argument and append its mappings to *ports (realloc'd):
 * [HOSTIP:][HOSTPORT:]CPORT[/PROTO], ports or equal-length ranges ("8000-8009:80-89"),
 * an IPv6 HOSTIP in brackets ("[::1]:8080:80"). "HOSTIP::CPORT" and "CPORT"
 * leave the host port to net_attach.
 */
int net_parse_port(const char *spec, struct net_port **ports, size_t *n);
/* "127.0.0.1:8080->80/tcp" as docker prints a mapping, into buf. */
const char *net_port_string(const struct net_port *p, char *buf, size_t len);

/* ---- networks ---- */

struct net_info {
	char *name;
	char *id;      /* sha256 hex of the name, as podman's CNI backend does */
	char *driver;  /* type of the first plugin: "bridge" */
	char *bridge;  /* its bridge interface, or NULL */
	char *subnet;  /* "10.88.0.0/16", or NULL */
	char *gateway; /* "10.88.0.1", or NULL */
	char *path;    /* the conflist */
	int64_t created;
	char **containers; /* ids with an attachment record (NULL-terminated) */
};
void net_info_clear(struct net_info *n);
void net_info_free_array(struct net_info *v, size_t n);

struct net_create_opts {
	const char *subnet;  /* "10.5.0.0/24"; NULL: the first free 10.89.N.0/24 */
	const char *gateway; /* NULL: the first address of the subnet */
};

/*
 * Names are [A-Za-z0-9][A-Za-z0-9_.-]* (at most NET_NAME_MAX). Refused: an
 * existing name, a subnet overlapping another network's or a route of the host,
 * a gateway outside the subnet. The bridge is the first free "deckN".
 */
int net_create(const char *root, const char *name, const struct net_create_opts *o,
	       struct net_info *out);
/* Create "deck" unless it exists. */
int net_ensure_default(const char *root);
/* Every network, sorted by name ("deck" created first if missing). */
int net_list(const char *root, struct net_info **out, size_t *n);
int net_inspect(const char *root, const char *name, struct net_info *out);
/*
 * Remove a network: refused while containers are attached (-EBUSY naming
 * them) unless force, which detaches them first. The default network cannot be
 * removed. The IPAM directory goes too.
 */
int net_remove(const char *root, const char *name, bool force);
bool net_name_valid(const char *name);

/*
 * Whether container_id still exists, for the engine to provide. With it, an
 * attachment record of a container that is gone (its deck crashed before DEL)
 * does not block `network rm` (or `volume rm`). Without it every record counts.
 */
typedef bool (*net_container_alive_fn)(const char *root, const char *container_id);
void net_set_container_check(net_container_alive_fn fn);
bool net_container_alive(const char *root, const char *container_id);

/* ---- attaching containers ---- */

struct net_result {
	char network[NET_NAME_MAX + 1];
	char ifname[16];	/* in the container: "eth0" */
	char ip[46];		/* "10.88.0.2" */
	int prefix_len;		/* 16 */
	char gateway[46];	/* "10.88.0.1" */
	char mac[18];		/* of ifname */
	char bridge[16];	/* the host's bridge */
	char netns[4096];	/* as given to net_attach */
	struct net_port *ports; /* the mappings, host ports chosen (malloc'd) */
	size_t n_ports;
};
void net_result_clear(struct net_result *r);

/*
 * CNI ADD of each plugin of the network (the default one is created if
 * network is NULL or "deck" and it does not exist yet). The attachment is
 * recorded before the first plugin runs and after each, so that net_detach can
 * undo even a half-done ADD; on failure the ADD is undone here (DEL) and the
 * record removed. Container ids are [A-Za-z0-9][A-Za-z0-9_.-]* (at most 128).
 * Returns -EEXIST if the container is already attached to the network,
 * -EADDRINUSE if a host port is already mapped for another container.
 * portmap is not run without ports, nor tuning without settings (both no-ops).
 * CNI operations take one host-wide lock (cni_lock): the plugins race on
 * their shared iptables chains otherwise.
 *
 * netns_path must name this container's namespace alone (a bind mount under
 * the container's state, not /proc/PID/ns/net): DEL enters whatever the path
 * names then and deletes its eth0.
 */
int net_attach(const char *root, const char *network, const char *container_id,
	       const char *netns_path, const struct net_port *ports, size_t n_ports,
	       struct net_result *out);

/*
 * CNI DEL of each plugin in reverse order, with the recorded result and the
 * recorded configuration (so it works after the conflist changed). A netns that
 * is gone is fine: the lease is freed and the nat rules the bridge plugin could
 * not reach are removed by their comment. netns_path NULL: the recorded one.
 * Idempotent: 0 when there is no record. On failure the record stays (for a retry).
 */
int net_detach(const char *root, const char *network, const char *container_id,
	       const char *netns_path);

/* The recorded attachment of a container (for inspect); -ENOENT if none. */
int net_attachment(const char *root, const char *network, const char *container_id,
		   struct net_result *out);

/* Ids of the containers with an attachment record (NULL-terminated, sorted). */
int net_attachments(const char *root, const char *network, char ***ids);

/* ---- lower level, for the engine ---- */

/* The conflist of a network (parsed); -ENOENT "network NAME not found". */
int net_load(const char *root, const char *name, struct json_object **conflist);
/* flock on networks/.lock (created with the directories); returns the fd. */
int net_lock(const char *root, bool exclusive);
/* Container ids as net_attach accepts them. */
bool net_container_id_valid(const char *id);
/* net_detach for a caller that holds net_lock (shared or exclusive). */
int net_detach_locked(const char *root, const char *network, const char *container_id,
		      const char *netns_path);
