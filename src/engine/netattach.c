/*
 * Attaching a container's network namespace to a network (CNI ADD) and
 * detaching it (CNI DEL), with a record per attachment that holds everything
 * DEL needs: a DEL may come from another process, after a crash, after the
 * network's configuration changed, or after the namespace is gone.
 */
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/strv.h"
#include "engine/cni.h"
#include "engine/network.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

void net_result_clear(struct net_result *r)
{
	free(r->ports);
	*r = (struct net_result){0};
}

static char *record_path(const char *root, const char *network, const char *id)
{
	char *p;
	return asprintf(&p, "%s/networks/%s.attach/%s", root, network, id) < 0 ? NULL : p;
}

/* Records are replaced whole: a reader never sees half of one. */
static int write_record(const char *root, const char *network, const char *id, json_object *rec)
{
	_cleanup_free_ char *path = NULL, *tmp = NULL;
	if (!(path = record_path(root, network, id)) ||
	    asprintf(&tmp, "%s/networks/%s.attach/.%s.tmp", root, network, id) < 0)
		return -ENOMEM;
	size_t len;
	const char *s = json_object_to_json_string_length(rec, JSON_C_TO_STRING_PLAIN, &len);
	_cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return herr_sys("create %s", tmp);
	if (write(fd, s, len) != (ssize_t)len) {
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

static int read_record(const char *root, const char *network, const char *id, json_object **out)
{
	_cleanup_free_ char *path = record_path(root, network, id);
	if (!path)
		return -ENOMEM;
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? -ENOENT : herr_sys("%s", path);
	json_object *rec = json_object_from_file(path);
	if (!rec || !json_object_is_type(rec, json_type_object)) {
		json_object_put(rec);
		return herr_set(EINVAL, "%s: not a JSON object", path);
	}
	*out = rec;
	return 0;
}

static json_object *ports_json(const struct net_port *ports, size_t n)
{
	json_object *a = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_new_object();
		json_object_object_add(p, "hostPort", json_object_new_int(ports[i].host_port));
		json_object_object_add(p, "containerPort",
				       json_object_new_int(ports[i].container_port));
		json_object_object_add(p, "protocol", json_object_new_string(ports[i].proto));
		if (*ports[i].host_ip)
			json_object_object_add(p, "hostIP",
					       json_object_new_string(ports[i].host_ip));
		json_object_array_add(a, p);
	}
	return a;
}

static const char *str_of(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int ports_from_json(json_object *a, struct net_port **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	size_t len = json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
	if (!len)
		return 0;
	struct net_port *v = calloc(len, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		json_object *p = json_object_array_get_idx(a, i), *x;
		if (json_object_object_get_ex(p, "hostPort", &x))
			v[i].host_port = (uint16_t)json_object_get_int(x);
		if (json_object_object_get_ex(p, "containerPort", &x))
			v[i].container_port = (uint16_t)json_object_get_int(x);
		const char *s = str_of(p, "protocol");
		snprintf(v[i].proto, sizeof(v[i].proto), "%s", s ? s : "tcp");
		s = str_of(p, "hostIP");
		snprintf(v[i].host_ip, sizeof(v[i].host_ip), "%s", s ? s : "");
	}
	*out = v;
	*n = len;
	return 0;
}

/* The address, gateway and MAC of the container's interface from a CNI 1.0.0 result. */
static void fill_result(json_object *res, struct net_result *out)
{
	json_object *ips, *ifs;
	if (!res || !json_object_object_get_ex(res, "ips", &ips) ||
	    !json_object_is_type(ips, json_type_array))
		return;
	json_object_object_get_ex(res, "interfaces", &ifs);
	for (size_t i = 0; i < json_object_array_length(ips); i++) {
		json_object *ip = json_object_array_get_idx(ips, i), *idx;
		const char *addr = str_of(ip, "address"), *gw = str_of(ip, "gateway");
		if (!addr || strchr(addr, ':'))
			continue;
		const char *slash = strchr(addr, '/');
		size_t alen = slash ? (size_t)(slash - addr) : strlen(addr);
		snprintf(out->ip, sizeof(out->ip), "%.*s", (int)alen, addr);
		out->prefix_len = slash ? atoi(slash + 1) : 32;
		snprintf(out->gateway, sizeof(out->gateway), "%s", gw ? gw : "");
		if (json_object_object_get_ex(ip, "interface", &idx) && ifs) {
			json_object *itf = json_object_array_get_idx(ifs, json_object_get_int(idx));
			const char *mac = str_of(itf, "mac");
			snprintf(out->mac, sizeof(out->mac), "%s", mac ? mac : "");
		}
		break;
	}
	/* The host side's first interface without a sandbox is the bridge. */
	for (size_t i = 0; ifs && i < json_object_array_length(ifs); i++) {
		json_object *itf = json_object_array_get_idx(ifs, i);
		if (!str_of(itf, "sandbox") && str_of(itf, "name")) {
			snprintf(out->bridge, sizeof(out->bridge), "%s", str_of(itf, "name"));
			break;
		}
	}
}

static int result_of_record(json_object *rec, struct net_result *out)
{
	*out = (struct net_result){0};
	json_object *res = NULL, *ports = NULL;
	json_object_object_get_ex(rec, "result", &res);
	json_object_object_get_ex(rec, "ports", &ports);
	const char *s;
	if ((s = str_of(rec, "network")))
		snprintf(out->network, sizeof(out->network), "%s", s);
	if ((s = str_of(rec, "ifname")))
		snprintf(out->ifname, sizeof(out->ifname), "%s", s);
	if ((s = str_of(rec, "netns")))
		snprintf(out->netns, sizeof(out->netns), "%s", s);
	fill_result(res, out);
	return ports_from_json(ports, &out->ports, &out->n_ports);
}

/* ---- host ports ---- */

static bool same_host_port(const struct net_port *a, const struct net_port *b)
{
	if (a->host_port != b->host_port || strcmp(a->proto, b->proto))
		return false;
	bool any_a = !*a->host_ip || !strcmp(a->host_ip, "0.0.0.0");
	bool any_b = !*b->host_ip || !strcmp(b->host_ip, "0.0.0.0");
	return any_a || any_b || !strcmp(a->host_ip, b->host_ip);
}

/*
 * portmap only adds DNAT rules and binds nothing, so two containers could be
 * given the same host port; refuse it as docker does ("port is already allocated").
 */
static int check_ports_free(const char *root, const struct net_port *ports, size_t n)
{
	_cleanup_free_ char *dir = NULL;
	int r = 0;
	if (asprintf(&dir, "%s/networks", root) < 0)
		return -ENOMEM;
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d)
		return 0;
	struct dirent *e;
	while (r == 0 && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 8 || strcmp(e->d_name + l - 7, ".attach"))
			continue;
		_cleanup_free_ char *net = strndup(e->d_name, l - 7);
		_cleanup_strv_ char **ids = NULL;
		if (!net || net_attachments(root, net, &ids) < 0) {
			herr_clear();
			continue;
		}
		for (size_t i = 0; r == 0 && ids && ids[i]; i++) {
			json_object *rec = NULL, *pj;
			if (read_record(root, net, ids[i], &rec) < 0) {
				herr_clear();
				continue;
			}
			struct net_port *used = NULL;
			size_t nu = 0;
			if (json_object_object_get_ex(rec, "ports", &pj))
				ports_from_json(pj, &used, &nu);
			for (size_t a = 0; a < n && r == 0; a++)
				for (size_t b = 0; b < nu && r == 0; b++) {
					char buf[80];
					if (ports[a].host_port &&
					    same_host_port(&ports[a], &used[b]))
						r = herr_set(
						    EADDRINUSE,
						    "port %s is already allocated to "
						    "container %s",
						    net_port_string(&used[b], buf, sizeof(buf)),
						    ids[i]);
				}
			free(used);
			json_object_put(rec);
		}
	}
	return r;
}

/* A free port for a mapping without a host port: the kernel's choice. */
static int pick_port(struct net_port *p)
{
	bool v6 = strchr(p->host_ip, ':') != NULL;
	int type = strcmp(p->proto, "udp") ? SOCK_STREAM : SOCK_DGRAM;
	_cleanup_close_ int fd = socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return herr_sys("socket");
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		inet_pton(AF_INET6, p->host_ip, &a->sin6_addr);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		if (*p->host_ip)
			inet_pton(AF_INET, p->host_ip, &a->sin_addr);
		len = sizeof(*a);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return herr_sys("find a free host port for container port %u", p->container_port);
	p->host_port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
				: ((struct sockaddr_in *)&ss)->sin_port);
	return 0;
}

/* ---- ADD and DEL ---- */

struct add_ctx {
	const char *root, *network, *id;
	json_object *rec;
};

static int checkpoint(void *opaque, json_object *result)
{
	struct add_ctx *c = opaque;
	json_object_object_add(c->rec, "result", json_object_get(result));
	return write_record(c->root, c->network, c->id, c->rec);
}

/*
 * The plugins that would have nothing to do are not run: portmap without port
 * mappings (its ADD returns at once, but its DEL always runs some twenty
 * iptables commands, 150 ms here), and tuning without settings. The record
 * keeps the list that ran, so DEL runs the same.
 */
static int drop_idle_plugins(json_object **config, size_t n_ports)
{
	json_object *copy = NULL, *plugins, *keep = json_object_new_array();
	if (!keep || json_object_deep_copy(*config, &copy, NULL) < 0) {
		json_object_put(keep);
		return -ENOMEM;
	}
	if (json_object_object_get_ex(copy, "plugins", &plugins) &&
	    json_object_is_type(plugins, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(plugins); i++) {
			json_object *p = json_object_array_get_idx(plugins, i);
			const char *type = str_of(p, "type");
			bool idle =
			    type &&
			    ((!strcmp(type, "portmap") && !n_ports) ||
			     (!strcmp(type, "tuning") && json_object_object_length(p) == 1));
			if (!idle)
				json_object_array_add(keep, json_object_get(p));
		}
		json_object_object_add(copy, "plugins", keep);
	} else {
		json_object_put(keep);
	}
	json_object_put(*config);
	*config = copy;
	return 0;
}

static int check_args(const char *network, const char *container_id)
{
	if (!net_name_valid(network))
		return herr_set(EINVAL, "invalid network name \"%s\"", network);
	if (!net_container_id_valid(container_id))
		return herr_set(EINVAL, "invalid container id \"%s\"", container_id);
	return 0;
}

static int detach_record(const char *root, const char *network, const char *id,
			 const char *netns_path, json_object *rec)
{
	json_object *config = NULL, *result = NULL, *ports = NULL;
	json_object_object_get_ex(rec, "config", &config);
	json_object_object_get_ex(rec, "result", &result);
	json_object_object_get_ex(rec, "ports", &ports);
	const char *netns = netns_path ? netns_path : str_of(rec, "netns");
	const char *ifname = str_of(rec, "ifname");
	json_object *rc = json_object_new_object();
	json_object_object_add(rc, "portMappings",
			       ports ? json_object_get(ports) : json_object_new_array());
	struct cni_call call = {.container_id = id,
				.netns = netns ? netns : "",
				.ifname = ifname ? ifname : NET_IFNAME,
				.runtime_config = rc};
	int lock = cni_lock();
	if (lock < 0) {
		json_object_put(rc);
		return lock;
	}
	int r = config ? cni_del_list(config, &call, result)
		       : herr_set(EINVAL, "the attachment record has no configuration");
	/*
	 * Without the container's interface (namespace gone, or interface deleted)
	 * the bridge plugin cannot learn the address it masqueraded and leaves
	 * those nat rules; they carry the network and the id.
	 */
	if (r == 0)
		r = cni_sweep_nat(network, id);
	close(lock);
	json_object_put(rc);
	if (r < 0)
		return herr_ctx(r, "detach container %s from network %s", id, network);
	_cleanup_free_ char *path = record_path(root, network, id);
	if (!path)
		return -ENOMEM;
	if (unlink(path) < 0 && errno != ENOENT)
		return herr_sys("remove %s", path);
	return 0;
}

int net_attach(const char *root, const char *network, const char *container_id,
	       const char *netns_path, const struct net_port *ports, size_t n_ports,
	       struct net_result *out)
{
	if (!network)
		network = NET_DEFAULT;
	*out = (struct net_result){0};
	int r = check_args(network, container_id);
	if (r < 0)
		return r;
	if (!netns_path || *netns_path != '/')
		return herr_set(EINVAL, "network namespace path must be absolute");
	if (!strcmp(network, NET_DEFAULT) && (r = net_ensure_default(root)) < 0)
		return r;
	_cleanup_close_ int lock = net_lock(root, false);
	if (lock < 0)
		return lock;
	json_object *config = NULL;
	if ((r = net_load(root, network, &config)) < 0)
		return r;
	if ((r = drop_idle_plugins(&config, n_ports)) < 0)
		return r;
	struct add_ctx ctx = {root, network, container_id, json_object_new_object()};
	_cleanup_free_ struct net_port *mine = NULL;
	_cleanup_free_ char *dir = NULL, *path = record_path(root, network, container_id);
	json_object *result = NULL;
	if (!path || asprintf(&dir, "%s/networks/%s.attach", root, network) < 0) {
		r = -ENOMEM;
		goto out;
	}
	/* A missing plugin is reported before anything is done. */
	if ((r = cni_check_plugins(config)) < 0)
		goto out_ctx;
	if (n_ports && !(mine = calloc(n_ports, sizeof(*mine)))) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_ports; i++) {
		mine[i] = ports[i];
		if (!mine[i].host_port && (r = pick_port(&mine[i])) < 0)
			goto out;
	}
	if (n_ports && (r = check_ports_free(root, mine, n_ports)) < 0)
		goto out;

	json_object_object_add(ctx.rec, "containerId", json_object_new_string(container_id));
	json_object_object_add(ctx.rec, "network", json_object_new_string(network));
	json_object_object_add(ctx.rec, "netns", json_object_new_string(netns_path));
	json_object_object_add(ctx.rec, "ifname", json_object_new_string(NET_IFNAME));
	json_object_object_add(ctx.rec, "ports", ports_json(mine, n_ports));
	json_object_object_add(ctx.rec, "config", json_object_get(config));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		r = herr_sys("mkdir %s", dir);
		goto out;
	}
	/* O_EXCL: the record is also the claim on the (network, container) pair. */
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = errno == EEXIST
			? herr_set(EEXIST, "container %s is already attached to network %s",
				   container_id, network)
			: herr_sys("create %s", path);
		goto out;
	}
	close(fd);
	if ((r = write_record(root, network, container_id, ctx.rec)) < 0) {
		unlink(path);
		goto out;
	}

	json_object *rc = json_object_new_object();
	json_object_object_add(rc, "portMappings", ports_json(mine, n_ports));
	struct cni_call call = {.container_id = container_id,
				.netns = netns_path,
				.ifname = NET_IFNAME,
				.runtime_config = rc};
	int cl = cni_lock();
	r = cl < 0 ? cl : cni_add_list(config, &call, checkpoint, &ctx, &result);
	if (cl >= 0)
		close(cl);
	json_object_put(rc);
	if (r < 0) {
		/* Undo what the plugins did so far; the ADD's error is the one to report. */
		struct herr saved = herr_last;
		json_object_object_add(ctx.rec, "result", json_object_get(result));
		if (detach_record(root, network, container_id, netns_path, ctx.rec) < 0) {
			/* The record stays for a later net_detach; say so with the cause. */
			char undo[HERR_MSG_MAX];
			snprintf(undo, sizeof(undo), "%s", herr_msg());
			herr_set(saved.code, "%s (undoing it failed too: %s)", saved.msg, undo);
		} else {
			herr_last = saved;
		}
		goto out_ctx;
	}
	json_object_object_add(ctx.rec, "complete", json_object_new_boolean(1));
	if ((r = write_record(root, network, container_id, ctx.rec)) < 0)
		goto out;
	snprintf(out->network, sizeof(out->network), "%s", network);
	snprintf(out->ifname, sizeof(out->ifname), "%s", NET_IFNAME);
	snprintf(out->netns, sizeof(out->netns), "%s", netns_path);
	fill_result(result, out);
	out->ports = take_ptr(mine);
	out->n_ports = n_ports;
	goto out;
out_ctx:
	herr_ctx(r, "attach container %s to network %s", container_id, network);
out:
	json_object_put(result);
	json_object_put(ctx.rec);
	json_object_put(config);
	return r;
}

int net_detach_locked(const char *root, const char *network, const char *container_id,
		      const char *netns_path)
{
	int r = check_args(network, container_id);
	if (r < 0)
		return r;
	json_object *rec = NULL;
	r = read_record(root, network, container_id, &rec);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	r = detach_record(root, network, container_id, netns_path, rec);
	json_object_put(rec);
	return r;
}

int net_detach(const char *root, const char *network, const char *container_id,
	       const char *netns_path)
{
	if (!network)
		network = NET_DEFAULT;
	_cleanup_close_ int lock = net_lock(root, false);
	if (lock < 0)
		return lock;
	return net_detach_locked(root, network, container_id, netns_path);
}

int net_attachment(const char *root, const char *network, const char *container_id,
		   struct net_result *out)
{
	if (!network)
		network = NET_DEFAULT;
	*out = (struct net_result){0};
	int r = check_args(network, container_id);
	if (r < 0)
		return r;
	json_object *rec = NULL;
	r = read_record(root, network, container_id, &rec);
	if (r == -ENOENT)
		return herr_set(ENOENT, "container %s is not attached to network %s", container_id,
				network);
	if (r < 0)
		return r;
	r = result_of_record(rec, out);
	json_object_put(rec);
	return r;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int net_attachments(const char *root, const char *network, char ***ids)
{
	*ids = NULL;
	_cleanup_free_ char *dir = NULL;
	if (asprintf(&dir, "%s/networks/%s.attach", root, network) < 0)
		return -ENOMEM;
	_cleanup_closedir_ DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : herr_sys("open %s", dir);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		if (strv_push(ids, e->d_name) < 0) {
			strv_free(*ids);
			*ids = NULL;
			return -ENOMEM;
		}
	}
	if (*ids)
		qsort(*ids, strv_len(*ids), sizeof(**ids), by_name);
	return 0;
}
