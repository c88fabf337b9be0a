/* Networks: their CNI configuration lists, subnets, and -p port mappings. */
#include "engine/network.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/strv.h"
#include "engine/cni.h"
#include "image/digest.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static net_container_alive_fn alive_fn;

void net_set_container_check(net_container_alive_fn fn)
{
	alive_fn = fn;
}

bool net_container_alive(const char *root, const char *container_id)
{
	return alive_fn ? alive_fn(root, container_id) : true;
}

static bool name_ok(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

bool net_name_valid(const char *name)
{
	return name_ok(name, NET_NAME_MAX);
}

bool net_container_id_valid(const char *id)
{
	return name_ok(id, 128);
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return herr_set(ENAMETOOLONG, "%s: path too long", path);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p)
			continue;
		char c = *p;
		*p = 0;
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return herr_sys("mkdir %s", buf);
		if (!c)
			return 0;
		*p = c;
	}
}

int net_lock(const char *root, bool exclusive)
{
	_cleanup_free_ char *dir = NULL, *path = NULL;
	if (asprintf(&dir, "%s/networks", root) < 0 || asprintf(&path, "%s/.lock", dir) < 0)
		return -ENOMEM;
	int r = mkdir_p(dir);
	if (r < 0)
		return r;
	_cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return herr_sys("open %s", path);
	while (flock(fd, exclusive ? LOCK_EX : LOCK_SH) < 0)
		if (errno != EINTR)
			return herr_sys("lock %s", path);
	return take_fd(fd);
}

int net_load(const char *root, const char *name, json_object **conflist)
{
	if (!net_name_valid(name))
		return herr_set(EINVAL, "invalid network name \"%s\"", name);
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/networks/%s.conflist", root, name) < 0)
		return -ENOMEM;
	if (access(path, F_OK) < 0)
		return errno == ENOENT ? herr_set(ENOENT, "network %s not found", name)
				       : herr_sys("%s", path);
	json_object *c = json_object_from_file(path);
	if (!c || !json_object_is_type(c, json_type_object)) {
		json_object_put(c);
		return herr_set(EINVAL, "%s: not a JSON object: %s", path,
				json_util_get_last_err());
	}
	*conflist = c;
	return 0;
}

/* ---- IPv4 subnets ---- */

struct v4net {
	uint32_t addr; /* host order */
	int prefix;
};

static uint32_t mask_of(int prefix)
{
	return prefix ? ~(uint32_t)0 << (32 - prefix) : 0;
}

static int parse_ip(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = ntohl(a.s_addr);
	return 0;
}

static const char *ip_str(uint32_t a, char buf[INET_ADDRSTRLEN])
{
	struct in_addr in = {.s_addr = htonl(a)};
	return inet_ntop(AF_INET, &in, buf, INET_ADDRSTRLEN);
}

static int parse_cidr(const char *s, struct v4net *n)
{
	char ip[64];
	const char *slash = strchr(s, '/');
	if (strchr(s, ':'))
		return herr_set(EINVAL, "subnet %s: IPv6 networks are not supported", s);
	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return herr_set(EINVAL, "subnet %s: expected ADDRESS/PREFIX (10.5.0.0/24)", s);
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = 0;
	char *end;
	errno = 0;
	long p = strtol(slash + 1, &end, 10);
	if (parse_ip(ip, &n->addr) < 0 || *end || end == slash + 1 || p < 0 || p > 32)
		return herr_set(EINVAL, "subnet %s: expected ADDRESS/PREFIX (10.5.0.0/24)", s);
	/* Two addresses for the network and broadcast, one for the gateway, one to use. */
	if (p > 30)
		return herr_set(EINVAL, "subnet %s: too small (at most /30)", s);
	n->prefix = (int)p;
	n->addr &= mask_of(n->prefix);
	return 0;
}

static bool overlap(struct v4net a, struct v4net b)
{
	uint32_t m = mask_of(a.prefix < b.prefix ? a.prefix : b.prefix);
	return (a.addr & m) == (b.addr & m);
}

static const char *cidr_str(struct v4net n, char buf[32])
{
	char ip[INET_ADDRSTRLEN];
	snprintf(buf, 32, "%s/%d", ip_str(n.addr, ip), n.prefix);
	return buf;
}

/* The host's routes (but the default one): a subnet overlapping one would be unreachable. */
static int host_routes(struct v4net **out, char ***ifaces, size_t *n)
{
	*out = NULL;
	*ifaces = NULL;
	*n = 0;
	_cleanup_fclose_ FILE *f = fopen("/proc/net/route", "re");
	if (!f)
		return errno == ENOENT ? 0 : herr_sys("open /proc/net/route");
	char line[512], ifname[64];
	unsigned dst, gw, flags, mask;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %x %x %x %*d %*d %*d %x", ifname, &dst, &gw, &flags,
			   &mask) != 5 ||
		    mask == 0)
			continue;
		struct v4net *nv = realloc(*out, (*n + 1) * sizeof(**out));
		if (!nv)
			return -ENOMEM;
		*out = nv;
		/* The kernel prints the network-order word as a native integer. */
		nv[*n] = (struct v4net){ntohl(dst), __builtin_popcount(mask)};
		if (strv_push(ifaces, ifname) < 0)
			return -ENOMEM;
		(*n)++;
	}
	return 0;
}

/* ---- the configuration lists ---- */

static json_object *first_plugin(json_object *conflist)
{
	json_object *p;
	if (!json_object_object_get_ex(conflist, "plugins", &p) ||
	    !json_object_is_type(p, json_type_array) || json_object_array_length(p) == 0)
		return NULL;
	return json_object_array_get_idx(p, 0);
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* ipam.ranges[0][0] of the first plugin: {"subnet", "gateway"}. */
static json_object *first_range(json_object *conflist)
{
	json_object *ipam, *ranges, *set;
	json_object *p = first_plugin(conflist);
	if (!p || !json_object_object_get_ex(p, "ipam", &ipam) ||
	    !json_object_object_get_ex(ipam, "ranges", &ranges) ||
	    !json_object_is_type(ranges, json_type_array) || !json_object_array_length(ranges))
		return NULL;
	set = json_object_array_get_idx(ranges, 0);
	if (!json_object_is_type(set, json_type_array) || !json_object_array_length(set))
		return NULL;
	return json_object_array_get_idx(set, 0);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void net_info_clear(struct net_info *n)
{
	free(n->name);
	free(n->id);
	free(n->driver);
	free(n->bridge);
	free(n->subnet);
	free(n->gateway);
	free(n->path);
	strv_free(n->containers);
	*n = (struct net_info){0};
}

void net_info_free_array(struct net_info *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		net_info_clear(&v[i]);
	free(v);
}

static int info_of(const char *root, const char *name, json_object *c, struct net_info *out)
{
	*out = (struct net_info){0};
	char digest[IMG_DIGEST_MAX];
	img_digest_buf(name, strlen(name), digest);
	json_object *p = first_plugin(c), *range = first_range(c);
	out->name = strdup(name);
	out->id = strdup(img_digest_hex(digest));
	out->driver = dup_or_null(get_str(p, "type"));
	out->bridge = dup_or_null(get_str(p, "bridge"));
	out->subnet = dup_or_null(get_str(range, "subnet"));
	out->gateway = dup_or_null(get_str(range, "gateway"));
	if (asprintf(&out->path, "%s/networks/%s.conflist", root, name) < 0)
		out->path = NULL;
	if (!out->name || !out->id || !out->path) {
		net_info_clear(out);
		return -ENOMEM;
	}
	struct stat st;
	if (stat(out->path, &st) == 0)
		out->created = st.st_mtim.tv_sec;
	int r = net_attachments(root, name, &out->containers);
	if (r < 0)
		net_info_clear(out);
	return r;
}

static int list_unlocked(const char *root, struct net_info **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	_cleanup_free_ char *dir = NULL;
	if (asprintf(&dir, "%s/networks", root) < 0)
		return -ENOMEM;
	struct dirent **ents = NULL;
	int ne = scandir(dir, &ents, NULL, alphasort);
	if (ne < 0)
		return errno == ENOENT ? 0 : herr_sys("read %s", dir);
	int r = 0;
	for (int i = 0; i < ne; i++) {
		char *dot = strrchr(ents[i]->d_name, '.');
		if (r < 0 || !dot || strcmp(dot, ".conflist"))
			continue;
		*dot = 0;
		json_object *c = NULL;
		if (!net_name_valid(ents[i]->d_name) || net_load(root, ents[i]->d_name, &c) < 0) {
			herr_clear(); /* a stray file is no network */
			continue;
		}
		struct net_info *nv = realloc(*out, (*n + 1) * sizeof(**out));
		if (!nv) {
			r = -ENOMEM;
		} else {
			*out = nv;
			r = info_of(root, ents[i]->d_name, c, &nv[*n]);
			if (r == 0)
				(*n)++;
		}
		json_object_put(c);
	}
	for (int i = 0; i < ne; i++)
		free(ents[i]);
	free(ents);
	if (r < 0) {
		net_info_free_array(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return r;
}

static json_object *build_conflist(const char *root_abs, const char *name, const char *bridge,
				   const char *subnet, const char *gateway)
{
	json_object *c = json_object_new_object();
	json_object_object_add(c, "cniVersion", json_object_new_string(CNI_VERSION));
	json_object_object_add(c, "name", json_object_new_string(name));
	json_object *plugins = json_object_new_array();

	json_object *range = json_object_new_object();
	json_object_object_add(range, "subnet", json_object_new_string(subnet));
	json_object_object_add(range, "gateway", json_object_new_string(gateway));
	json_object *set = json_object_new_array();
	json_object_array_add(set, range);
	json_object *ranges = json_object_new_array();
	json_object_array_add(ranges, set);
	json_object *route = json_object_new_object();
	json_object_object_add(route, "dst", json_object_new_string("0.0.0.0/0"));
	json_object *routes = json_object_new_array();
	json_object_array_add(routes, route);
	json_object *ipam = json_object_new_object();
	json_object_object_add(ipam, "type", json_object_new_string("host-local"));
	json_object_object_add(ipam, "routes", routes);
	json_object_object_add(ipam, "ranges", ranges);
	char data_dir[PATH_MAX];
	snprintf(data_dir, sizeof(data_dir), "%s/cni-ipam", root_abs);
	json_object_object_add(ipam, "dataDir", json_object_new_string(data_dir));

	json_object *br = json_object_new_object();
	json_object_object_add(br, "type", json_object_new_string("bridge"));
	json_object_object_add(br, "bridge", json_object_new_string(bridge));
	json_object_object_add(br, "isGateway", json_object_new_boolean(1));
	json_object_object_add(br, "ipMasq", json_object_new_boolean(1));
	json_object_object_add(br, "hairpinMode", json_object_new_boolean(1));
	json_object_object_add(br, "ipam", ipam);
	json_object_array_add(plugins, br);

	json_object *pm = json_object_new_object(), *caps = json_object_new_object();
	json_object_object_add(pm, "type", json_object_new_string("portmap"));
	json_object_object_add(caps, "portMappings", json_object_new_boolean(1));
	json_object_object_add(pm, "capabilities", caps);
	json_object_array_add(plugins, pm);

	json_object *fw = json_object_new_object();
	json_object_object_add(fw, "type", json_object_new_string("firewall"));
	json_object_array_add(plugins, fw);
	json_object *tu = json_object_new_object();
	json_object_object_add(tu, "type", json_object_new_string("tuning"));
	json_object_array_add(plugins, tu);

	json_object_object_add(c, "plugins", plugins);
	return c;
}

static bool iface_exists(const char *name)
{
	char p[64];
	snprintf(p, sizeof(p), "/sys/class/net/%s", name);
	return access(p, F_OK) == 0;
}

/* Under the exclusive lock. */
static int create_locked(const char *root, const char *name, const struct net_create_opts *o,
			 bool is_default)
{
	_cleanup_free_ char *path = NULL, *root_abs = realpath(root, NULL);
	if (!root_abs)
		return herr_sys("%s", root);
	if (asprintf(&path, "%s/networks/%s.conflist", root, name) < 0)
		return -ENOMEM;
	if (access(path, F_OK) == 0)
		return herr_set(EEXIST, "network %s already exists", name);

	struct net_info *nets = NULL;
	size_t nn = 0, nr = 0;
	struct v4net *routes = NULL;
	_cleanup_strv_ char **rifs = NULL;
	int r = list_unlocked(root, &nets, &nn);
	if (r == 0)
		r = host_routes(&routes, &rifs, &nr);
	struct v4net want = {0};
	char sbuf[32], gbuf[INET_ADDRSTRLEN], bridge[16] = "";
	if (r < 0)
		goto out;

	if (o && o->subnet) {
		if ((r = parse_cidr(o->subnet, &want)) < 0)
			goto out;
		for (size_t i = 0; i < nn; i++) {
			struct v4net other;
			if (nets[i].subnet && parse_cidr(nets[i].subnet, &other) == 0 &&
			    overlap(want, other)) {
				r = herr_set(EEXIST,
					     "subnet %s overlaps the subnet %s of network %s",
					     cidr_str(want, sbuf), nets[i].subnet, nets[i].name);
				goto out;
			}
		}
		herr_clear();
		for (size_t i = 0; i < nr; i++)
			if (overlap(want, routes[i])) {
				char other[32];
				r = herr_set(
				    EEXIST, "subnet %s overlaps the host's route to %s (dev %s)",
				    cidr_str(want, sbuf), cidr_str(routes[i], other), rifs[i]);
				goto out;
			}
	} else {
		/* 10.88.0.0/16 for the default network, then 10.89.0.0/24, 10.89.1.0/24... */
		bool found = false;
		uint32_t start = is_default ? 0x0a580000 : 0x0a590000;
		for (uint32_t a = start; a < 0x0b000000 && !found;
		     a += a == 0x0a580000 ? 0x10000 : 0x100) {
			struct v4net c = {a, a == 0x0a580000 ? 16 : 24};
			bool busy = false;
			for (size_t i = 0; i < nn && !busy; i++) {
				struct v4net other;
				busy = nets[i].subnet && parse_cidr(nets[i].subnet, &other) == 0 &&
				       overlap(c, other);
			}
			for (size_t i = 0; i < nr && !busy; i++)
				busy = overlap(c, routes[i]);
			if (!busy) {
				want = c;
				found = true;
			}
		}
		herr_clear();
		if (!found) {
			r = herr_set(ENOSPC, "no free subnet left in 10.88.0.0/13; use --subnet");
			goto out;
		}
	}
	uint32_t gw = want.addr + 1;
	if (o && o->gateway) {
		uint32_t broadcast = want.addr | ~mask_of(want.prefix);
		if (parse_ip(o->gateway, &gw) < 0) {
			r = herr_set(EINVAL, "gateway %s: not an IPv4 address", o->gateway);
			goto out;
		}
		if ((gw & mask_of(want.prefix)) != want.addr || gw == want.addr ||
		    gw == broadcast) {
			r = herr_set(EINVAL, "gateway %s is not a host address of subnet %s",
				     o->gateway, cidr_str(want, sbuf));
			goto out;
		}
	}
	/* deck0 is the default network's; the others take the first free deckN. */
	for (int i = is_default ? 0 : 1; i < 10000 && !*bridge; i++) {
		char b[16];
		snprintf(b, sizeof(b), "deck%d", i);
		bool used = !is_default && iface_exists(b);
		for (size_t j = 0; j < nn && !used; j++)
			used = nets[j].bridge && !strcmp(nets[j].bridge, b);
		if (!used)
			snprintf(bridge, sizeof(bridge), "%s", b);
	}
	json_object *c =
	    build_conflist(root_abs, name, bridge, cidr_str(want, sbuf), ip_str(gw, gbuf));
	const char *s = json_object_to_json_string_ext(c, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	r = fs_write_file_atomic(path, s, strlen(s));
	json_object_put(c);
out:
	net_info_free_array(nets, nn);
	free(routes);
	return r;
}

int net_create(const char *root, const char *name, const struct net_create_opts *o,
	       struct net_info *out)
{
	if (!net_name_valid(name))
		return herr_set(EINVAL,
				"invalid network name \"%s\": use letters, digits and _.- (at most "
				"%d, starting with a letter or digit)",
				name, NET_NAME_MAX);
	_cleanup_close_ int lock = net_lock(root, true);
	if (lock < 0)
		return lock;
	int r = create_locked(root, name, o, !strcmp(name, NET_DEFAULT));
	if (r == -EEXIST && !strncmp(herr_msg(), "network ", 8))
		return r;
	if (r < 0)
		return herr_ctx(r, "network %s", name);
	if (!out)
		return 0;
	json_object *c = NULL;
	r = net_load(root, name, &c);
	if (r == 0)
		r = info_of(root, name, c, out);
	json_object_put(c);
	return r;
}

int net_ensure_default(const char *root)
{
	_cleanup_free_ char *path = NULL;
	if (asprintf(&path, "%s/networks/%s.conflist", root, NET_DEFAULT) < 0)
		return -ENOMEM;
	if (access(path, F_OK) == 0)
		return 0;
	_cleanup_close_ int lock = net_lock(root, true);
	if (lock < 0)
		return lock;
	/* Another deck may have made it while we waited for the lock. */
	if (access(path, F_OK) == 0)
		return 0;
	int r = create_locked(root, NET_DEFAULT, NULL, true);
	return r < 0 ? herr_ctx(r, "create the default network %s", NET_DEFAULT) : 0;
}

int net_list(const char *root, struct net_info **out, size_t *n)
{
	int r = net_ensure_default(root);
	return r < 0 ? r : list_unlocked(root, out, n);
}

int net_inspect(const char *root, const char *name, struct net_info *out)
{
	if (!strcmp(name, NET_DEFAULT)) {
		int r = net_ensure_default(root);
		if (r < 0)
			return r;
	}
	json_object *c = NULL;
	int r = net_load(root, name, &c);
	if (r < 0)
		return r;
	r = info_of(root, name, c, out);
	json_object_put(c);
	return r;
}

int net_remove(const char *root, const char *name, bool force)
{
	if (!net_name_valid(name))
		return herr_set(EINVAL, "invalid network name \"%s\"", name);
	if (!strcmp(name, NET_DEFAULT))
		return herr_set(EPERM, "the default network %s cannot be removed", name);
	_cleanup_close_ int lock = net_lock(root, true);
	if (lock < 0)
		return lock;
	json_object *c = NULL;
	int r = net_load(root, name, &c);
	if (r < 0)
		return r;
	json_object_put(c);
	_cleanup_strv_ char **ids = NULL;
	if ((r = net_attachments(root, name, &ids)) < 0)
		return r;
	/* The records of containers that are gone are cleaned here; the others block. */
	char *busy = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&busy, &blen);
	if (!f)
		return -ENOMEM;
	size_t nbusy = 0;
	for (size_t i = 0; ids && ids[i]; i++) {
		if (net_container_alive(root, ids[i]) && !force) {
			fprintf(f, "%s%s", nbusy++ ? ", " : "", ids[i]);
			continue;
		}
		if ((r = net_detach_locked(root, name, ids[i], NULL)) < 0)
			break;
	}
	fclose(f);
	if (r == 0 && nbusy)
		r = herr_set(EBUSY, "network %s is in use by container%s %s", name,
			     nbusy > 1 ? "s" : "", busy);
	free(busy);
	if (r < 0)
		return r;
	_cleanup_free_ char *path = NULL, *att = NULL, *ipam = NULL;
	if (asprintf(&path, "%s/networks/%s.conflist", root, name) < 0 ||
	    asprintf(&att, "%s/networks/%s.attach", root, name) < 0 ||
	    asprintf(&ipam, "%s/cni-ipam/%s", root, name) < 0)
		return -ENOMEM;
	if (unlink(path) < 0 && errno != ENOENT)
		return herr_sys("remove %s", path);
	if ((r = fs_rm_rf(att)) < 0 || (r = fs_rm_rf(ipam)) < 0)
		return r;
	return 0;
}

/* ---- port mappings ---- */

/* "80" or "8000-8009", every port from 1 to 65535. */
static int parse_range(const char *s, size_t len, unsigned *lo, unsigned *hi)
{
	char buf[32];
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = 0;
	char *dash = strchr(buf, '-');
	if (dash)
		*dash++ = 0;
	unsigned long v[2] = {0, 0};
	const char *parts[2] = {buf, dash ? dash : buf};
	for (int i = 0; i < 2; i++) {
		const char *p = parts[i];
		if (!*p || strlen(p) > 5)
			return -EINVAL;
		for (; *p; p++)
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
		v[i] = strtoul(parts[i], NULL, 10);
		if (v[i] < 1 || v[i] > 65535)
			return -EINVAL;
	}
	if (v[1] < v[0])
		return -EINVAL;
	*lo = (unsigned)v[0];
	*hi = (unsigned)v[1];
	return 0;
}

int net_parse_port(const char *spec, struct net_port **ports, size_t *n)
{
#define BAD(...) herr_set(EINVAL, "invalid port mapping \"%s\": " __VA_ARGS__)
	char host_ip[46] = "", proto[5] = "tcp", buf[128];
	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
		return BAD("too long", spec);
	char *rest = buf, *slash = strrchr(buf, '/');
	if (slash) {
		*slash++ = 0;
		if (strcmp(slash, "tcp") && strcmp(slash, "udp") && strcmp(slash, "sctp"))
			return BAD("the protocol must be tcp, udp or sctp", spec);
		snprintf(proto, sizeof(proto), "%s", slash);
	}
	char *field[3];
	size_t nf = 0;
	if (*rest == '[') {
		/* [IPV6]:HOSTPORT:PORT */
		char *close = strchr(rest, ']');
		if (!close || close[1] != ':' || (size_t)(close - rest - 1) >= sizeof(host_ip))
			return BAD("expected [IPV6]:HOSTPORT:PORT", spec);
		*close = 0;
		snprintf(host_ip, sizeof(host_ip), "%s", rest + 1);
		struct in6_addr a6;
		if (inet_pton(AF_INET6, host_ip, &a6) != 1)
			return BAD("\"%s\" is not an IPv6 address", spec, host_ip);
		rest = close + 2;
		field[nf++] = strsep(&rest, ":");
		if (!rest || strchr(rest, ':'))
			return BAD("expected [IPV6]:HOSTPORT:PORT", spec);
		field[nf++] = rest;
	} else {
		while (rest && nf < 3)
			field[nf++] = strsep(&rest, ":");
		if (rest)
			return BAD("too many ':' (an IPv6 address goes in brackets)", spec);
		if (nf == 3) {
			struct in_addr a4;
			if (inet_pton(AF_INET, field[0], &a4) != 1)
				return BAD("\"%s\" is not an IPv4 address", spec, field[0]);
			snprintf(host_ip, sizeof(host_ip), "%s", field[0]);
			field[0] = field[1];
			field[1] = field[2];
			nf = 2;
		}
	}
	/* field[nf - 1] is the container's port, field[0] the host's when nf == 2. */
	unsigned clo, chi, hlo = 0, hhi = 0;
	const char *cport = field[nf - 1], *hport = nf == 2 ? field[0] : "";
	if (parse_range(cport, strlen(cport), &clo, &chi) < 0)
		return BAD("the container port must be a number from 1 to 65535 or a range", spec);
	if (*hport && parse_range(hport, strlen(hport), &hlo, &hhi) < 0)
		return BAD("the host port must be a number from 1 to 65535 or a range", spec);
	if (nf == 2 && !*hport && !*host_ip)
		return BAD("empty host port", spec);
	if (hlo && hhi - hlo != chi - clo)
		return BAD("the host and container port ranges differ in length", spec);
	size_t count = chi - clo + 1;
	struct net_port *v = realloc(*ports, (*n + count) * sizeof(**ports));
	if (!v)
		return -ENOMEM;
	*ports = v;
	for (size_t i = 0; i < count; i++) {
		struct net_port *p = &v[(*n)++];
		*p = (struct net_port){.host_port = (uint16_t)(hlo ? hlo + i : 0),
				       .container_port = (uint16_t)(clo + i)};
		snprintf(p->host_ip, sizeof(p->host_ip), "%s", host_ip);
		snprintf(p->proto, sizeof(p->proto), "%s", proto);
	}
	return 0;
#undef BAD
}

const char *net_port_string(const struct net_port *p, char *buf, size_t len)
{
	bool v6 = strchr(p->host_ip, ':') != NULL;
	snprintf(buf, len, "%s%s%s:%u->%u/%s", v6 ? "[" : "", *p->host_ip ? p->host_ip : "0.0.0.0",
		 v6 ? "]" : "", p->host_port, p->container_port, p->proto);
	return buf;
}
