/*
 * A container's life, first half: create (record, bundle, volumes) and start
 * (rootfs, network, /etc files, deck-shim). ctr-teardown.c has the rest.
 */
#include "engine/container.h"
#include "engine/ctr-runtime.h"
#include "engine/etcfiles.h"
#include "engine/network.h"
#include "engine/shim.h"
#include "engine/volume.h"
#include "common/cleanup.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/strv.h"
#include "image/convert.h"
#include "image/layer.h"
#include "image/manifest.h"
#include "image/store.h"
#include "oci/config.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int ctr_image_chain(struct img_store *st, const struct img_record *rec, char **cfg, size_t *cfg_len,
		    char (**chain)[IMG_DIGEST_MAX], size_t *n, ctr_unpack_fn unpack)
{
	_cleanup_free_ char *mbuf = NULL;
	size_t mlen;
	struct img_manifest m = {0};
	struct img_config_summary cs = {0};
	int r = img_store_read_blob(st, rec->manifest_digest, 4u << 20, &mbuf, &mlen);
	if (r == 0)
		r = img_manifest_parse(mbuf, mlen, rec->manifest_digest, NULL, &m);
	if (r == 0)
		r = img_store_read_blob(st, rec->config_digest, 64u << 20, cfg, cfg_len);
	if (r == 0)
		r = img_config_parse(*cfg, *cfg_len, rec->config_digest, &cs);
	if (r == 0 && cs.n_diff_ids != m.n_layers)
		r = herr_set(EINVAL, "image %s: %zu layers, %zu diff_ids", rec->config_digest,
			     m.n_layers, cs.n_diff_ids);
	if (r == 0 && !(*chain = calloc(m.n_layers ? m.n_layers : 1, sizeof(**chain))))
		r = herr_set(ENOMEM, "out of memory");
	if (r == 0) {
		img_chain_ids(cs.diff_ids, m.n_layers, *chain);
		*n = m.n_layers;
		for (size_t i = 0; r == 0 && i < m.n_layers; i++) {
			if (img_snapshot_exists(st, (*chain)[i]))
				continue;
			r = unpack ? unpack(st, m.layers[i].digest, m.layers[i].media_type,
					    cs.diff_ids[i], (*chain)[i], NULL)
				   : herr_set(ENODATA, "image %s: layer %s is not unpacked",
					      rec->config_digest, m.layers[i].digest);
		}
	}
	img_manifest_clear(&m);
	img_config_summary_clear(&cs);
	return r;
}

/* The layers of the bundle's rootfs, kept so that a restart can mount it again. */
static int write_layers(const char *bundle, char (*chain)[IMG_DIGEST_MAX], size_t n)
{
	char path[PATH_MAX];
	size_t cap = n * IMG_DIGEST_MAX + 1, len = 0;
	_cleanup_free_ char *text = malloc(cap);
	if (!text)
		return herr_set(ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s\n", chain[i]);
	snprintf(path, sizeof(path), "%s/layers", bundle);
	return fs_write_file_atomic(path, text, len);
}

/*
 * A container removed at its exit (--rm) gets a volatile overlay: its upper dir
 * is never synced, so unmounting it does not wait for the disk (a sync of the
 * whole upper filesystem otherwise), and a crash loses nothing it would keep.
 */
static unsigned rootfs_flags(const struct ctr_config *c)
{
	return IMG_ROOTFS_MOUNT | (c->autoremove ? IMG_ROOTFS_VOLATILE : 0);
}

static int mount_rootfs(const char *root, const char *bundle, unsigned flags)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/merged", bundle);
	if (ctr_is_mountpoint(path))
		return 0;
	snprintf(path, sizeof(path), "%s/layers", bundle);
	_cleanup_free_ char *text = NULL;
	int r = fs_read_file(path, 1u << 20, &text, NULL);
	if (r < 0)
		return herr_ctx(r, "the container's layers");
	size_t n = 0;
	for (char *p = text; *p; p++)
		n += *p == '\n';
	_cleanup_free_ char(*chain)[IMG_DIGEST_MAX] = calloc(n ? n : 1, sizeof(*chain));
	if (!chain)
		return herr_set(ENOMEM, "out of memory");
	size_t i = 0;
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && i < n;
	     l = strtok_r(NULL, "\n", &save))
		snprintf(chain[i++], IMG_DIGEST_MAX, "%s", l);
	struct img_store st;
	if ((r = img_store_open(root, &st)) < 0)
		return r;
	_cleanup_free_ char *opts = NULL;
	r = img_store_hold(&st);
	if (r == 0)
		r = img_rootfs_prepare(&st, chain, i, bundle, flags, &opts);
	img_store_close(&st);
	return r;
}

/* A network namespace of the container's own, bind-mounted at path, lo up. */
static int netns_create(const char *path)
{
	ctr_umount_all(path);
	_cleanup_close_ int f = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0);
	if (f < 0)
		return herr_sys("%s", path);
	_cleanup_close_ int orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig < 0)
		return herr_sys("/proc/thread-self/ns/net");
	if (unshare(CLONE_NEWNET) < 0)
		return herr_sys("new network namespace");
	int r = 0;
	if (mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0)
		r = herr_sys("bind the network namespace at %s", path);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (r == 0 && (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
		       (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0)))
		r = herr_sys("bring up lo in the container's network namespace");
	if (s >= 0)
		close(s);
	if (setns(orig, CLONE_NEWNET) < 0)
		abort(); /* deck would go on in the container's namespace */
	if (r < 0)
		ctr_umount_all(path);
	return r;
}

static const char *cgroup_parent(const struct ctr_config *c)
{
	const char *p = c->cgroup_parent;
	if (!p || !*p)
		p = getenv("DECK_CGROUP_PARENT");
	return p && *p ? p : "/deck";
}

static int read_seccomp(const struct ctr_config *c, char **out)
{
	*out = NULL;
	if (!c->seccomp || !strcmp(c->seccomp, "unconfined"))
		return 0;
	int r = fs_read_file(c->seccomp, 4u << 20, out, NULL);
	return r < 0 ? herr_ctx(r, "--security-opt seccomp=%s", c->seccomp) : 0;
}

static int check_network(const char *root, struct ctr_record *r)
{
	const char *net = r->config.network ? r->config.network : NET_DEFAULT;
	if (!strcmp(net, "bridge") || !strcmp(net, "default"))
		net = NET_DEFAULT;
	if (!(r->network = strdup(net)))
		return herr_set(ENOMEM, "out of memory");
	if (!ctr_is_cni_network(net)) {
		if (r->config.publish && !strcmp(net, "none"))
			return herr_set(EINVAL, "-p: port publishing and --network none conflict");
		if (r->config.publish)
			fprintf(stderr, "WARNING: published ports are discarded when using host "
					"network mode\n");
		return 0;
	}
	struct net_port *ports = NULL;
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && r->config.publish && r->config.publish[i]; i++)
		rc = net_parse_port(r->config.publish[i], &ports, &n);
	free(ports);
	if (rc < 0)
		return rc;
	if (!strcmp(net, NET_DEFAULT))
		return net_ensure_default(root);
	struct net_info info = {0};
	rc = net_inspect(root, net, &info);
	net_info_clear(&info);
	return rc < 0 ? herr_ctx(rc, "--network %s", net) : 0;
}

/* docker makes a working directory the image lacks (inside the rootfs, never outside it) */
static int make_workdir(json_object *spec, const char *rootfs)
{
	json_object *proc, *cwd;
	if (!json_object_object_get_ex(spec, "process", &proc) ||
	    !json_object_object_get_ex(proc, "cwd", &cwd))
		return 0;
	_cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return herr_sys("%s", rootfs);
	int fd = fs_mkpath_in_root(rootfd, json_object_get_string(cwd), false);
	if (fd < 0)
		return herr_ctx(fd, "-w %s", json_object_get_string(cwd));
	close(fd);
	return 0;
}

static int spec_args(json_object *spec, char ***args)
{
	json_object *proc, *a;
	if (!json_object_object_get_ex(spec, "process", &proc) ||
	    !json_object_object_get_ex(proc, "args", &a))
		return 0;
	for (size_t i = 0; i < json_object_array_length(a); i++)
		if (strv_push(args, json_object_get_string(json_object_array_get_idx(a, i))) < 0)
			return herr_set(ENOMEM, "out of memory");
	return 0;
}

/* Everything of create but the record and the name (ctr_create undoes on failure). */
static int create_bundle(const char *root, struct img_store *st, const struct img_record *img,
			 const struct ctr_paths *paths, struct ctr_record *out)
{
	char dir[PATH_MAX], bundle[PATH_MAX], merged[PATH_MAX], path[PATH_MAX + 16];
	char cgpath[PATH_MAX], netns[PATH_MAX], etc[PATH_MAX];
	const struct ctr_config *c = &out->config;
	ctr_dir(root, out->id, dir, sizeof(dir));
	snprintf(bundle, sizeof(bundle), "%s/bundle", dir);
	snprintf(merged, sizeof(merged), "%s/merged", bundle);
	snprintf(netns, sizeof(netns), "%s/netns", dir);
	snprintf(etc, sizeof(etc), "%s/etc", dir);
	const char *parent = cgroup_parent(c);
	if (parent[0] != '/')
		return herr_set(EINVAL, "--cgroup-parent %s: not an absolute path", parent);
	snprintf(cgpath, sizeof(cgpath), "%s/%s", strcmp(parent, "/") ? parent : "", out->id);

	int r = check_network(root, out);
	if (r < 0)
		return r;
	/* docker: a container on the host's network has the host's name (unless -h) */
	char hn[256];
	if (!strcmp(out->network, "host") && !out->config.hostname &&
	    gethostname(hn, sizeof(hn)) == 0 && !(out->config.hostname = strdup(hn)))
		return herr_set(ENOMEM, "out of memory");
	_cleanup_free_ char *cfg = NULL, *seccomp = NULL, *opts = NULL;
	_cleanup_free_ char(*chain)[IMG_DIGEST_MAX] = NULL;
	size_t cfg_len = 0, n = 0;
	if ((r = read_seccomp(c, &seccomp)) < 0)
		return r;
	if (mkdir(bundle, 0711) < 0 || mkdir(etc, 0755) < 0)
		return herr_sys("%s", bundle);
	if ((r = ctr_image_chain(st, img, &cfg, &cfg_len, &chain, &n, paths->unpack)) < 0 ||
	    (r = write_layers(bundle, chain, n)) < 0 ||
	    (r = img_rootfs_prepare(st, chain, n, bundle, rootfs_flags(c), &opts)) < 0)
		return r;

	size_t nv = strv_len(c->volumes);
	struct vol_mount *vols = calloc(nv + 1, sizeof(*vols));
	if (!vols)
		return herr_set(ENOMEM, "out of memory");
	for (size_t i = 0; r == 0 && i < nv; i++)
		if ((r = vol_parse_mount(root, c->volumes[i], out->id, &vols[i])) < 0)
			r = herr_ctx(r, "-v %s", c->volumes[i]);
	struct ctr_spec_env env = {
	    .id = out->id,
	    .name = out->name,
	    .rootfs = merged,
	    .cgroups_path = cgpath,
	    .netns = strcmp(out->network, "host") ? netns : NULL,
	    .host_network = !strcmp(out->network, "host"),
	    .etc_dir = etc,
	    .init_path = paths->deck_init,
	    .seccomp_json = seccomp,
	    .volumes = vols,
	    .n_volumes = nv,
	};
	json_object *spec = NULL;
	struct img_config_info info = {0};
	if (r == 0)
		r = ctr_spec_build(c, cfg, cfg_len, &env, &spec, &info);
	for (size_t i = 0; i < nv; i++)
		vol_mount_clear(&vols[i]);
	free(vols);
	if (r == 0)
		r = make_workdir(spec, merged);
	if (r == 0)
		r = spec_args(spec, &out->args);
	if (r == 0) {
		const char *sig = c->stop_signal ? c->stop_signal : info.stop_signal;
		if (!(out->stop_signal = strdup(sig ? sig : "SIGTERM")))
			r = herr_set(ENOMEM, "out of memory");
	}
	if (r == 0) {
		snprintf(path, sizeof(path), "%s/config.json", bundle);
		const char *text = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PLAIN);
		r = text ? fs_write_file_atomic(path, text, strlen(text))
			 : herr_set(ENOMEM, "out of memory");
	}
	json_object_put(spec);
	img_config_info_clear(&info);
	return r;
}

int ctr_create(const char *root, struct img_store *st, const struct img_record *img,
	       struct ctr_config *c, const char *name, const struct ctr_paths *paths,
	       struct ctr_record *out)
{
	_cleanup_close_ int lock = -1;
	int r = ctr_record_new(root, name, c->autoremove, out, &lock);
	if (r < 0) {
		ctr_config_clear(c);
		return r;
	}
	out->config = *c;
	memset(c, 0, sizeof(*c));
	out->created = now_ns();
	out->exit_code = 0;
	if (!(out->image_id = strdup(img->config_digest)))
		r = herr_set(ENOMEM, "out of memory");
	if (r == 0)
		r = create_bundle(root, st, img, paths, out);
	if (r == 0)
		r = ctr_record_save(root, out);
	if (r < 0) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s/containers/%s/bundle/merged", root, out->id);
		ctr_umount_all(dir);
		vol_release_all(root, out->id, true);
		int keep = herr_code();
		_cleanup_free_ char *msg = strdup(herr_msg());
		ctr_record_remove(root, out);
		herr_set(keep, "%s", msg ? msg : "create failed");
		ctr_record_clear(out);
	}
	return r;
}

static int ports_to_json(const struct net_result *res, char **out)
{
	json_object *a = json_object_new_array();
	char buf[128];
	for (size_t i = 0; i < res->n_ports; i++)
		json_object_array_add(
		    a, json_object_new_string(net_port_string(&res->ports[i], buf, sizeof(buf))));
	*out = strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN));
	json_object_put(a);
	return *out ? 0 : herr_set(ENOMEM, "out of memory");
}

static int attach_network(const char *root, struct ctr_record *r, const char *netns)
{
	struct net_port *ports = NULL;
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; rc == 0 && r->config.publish && r->config.publish[i]; i++)
		rc = net_parse_port(r->config.publish[i], &ports, &n);
	struct net_result res = {0};
	if (rc == 0)
		rc = net_attach(root, r->network, r->id, netns, ports, n, &res);
	free(ports);
	if (rc == 0) {
		free(r->ip);
		free(r->ports_json);
		r->ports_json = NULL;
		if (!(r->ip = strdup(res.ip)) || ports_to_json(&res, &r->ports_json) < 0)
			rc = herr_set(ENOMEM, "out of memory");
	}
	net_result_clear(&res);
	return rc;
}

static int write_etc(const char *dir, const struct ctr_record *r)
{
	char etc[PATH_MAX], host[16];
	snprintf(etc, sizeof(etc), "%s/etc", dir);
	snprintf(host, sizeof(host), "%.12s", r->id);
	const char *aliases[] = {r->name, NULL};
	struct etc_opts o = {
	    .hostname = r->config.hostname ? r->config.hostname : host,
	    .ip = r->ip,
	    .aliases = aliases,
	    .extra_hosts = (const char *const *)r->config.add_hosts,
	    .dns = (const char *const *)r->config.dns,
	    .host_network = !strcmp(r->network, "host"),
	};
	return etc_write(etc, &o);
}

static void undo_network(const char *root, struct ctr_record *r, const char *netns)
{
	if (ctr_is_cni_network(r->network))
		net_detach(root, r->network, r->id, netns);
	ctr_netns_remove(netns);
	free(r->ip);
	free(r->ports_json);
	r->ip = r->ports_json = NULL;
}

int ctr_start(const char *root, struct ctr_record *r, const struct ctr_paths *paths,
	      bool wait_attach)
{
	char dir[PATH_MAX], bundle[PATH_MAX], netns[PATH_MAX], log[PATH_MAX], path[PATH_MAX];
	char rtroot[PATH_MAX];
	_cleanup_free_ char *absroot = realpath(root, NULL);
	if (!absroot)
		return herr_sys("%s", root);
	if (r->status == CTR_RUNNING || r->status == CTR_PAUSED)
		return 0;
	ctr_dir(absroot, r->id, dir, sizeof(dir));
	snprintf(bundle, sizeof(bundle), "%s/bundle", dir);
	snprintf(netns, sizeof(netns), "%s/netns", dir);
	snprintf(log, sizeof(log), "%s/ctr.log", dir);
	ctr_runtime_root(absroot, rtroot, sizeof(rtroot));
	if (mkdir(rtroot, 0700) < 0 && errno != EEXIST)
		return herr_sys("%s", rtroot);
	/* what a previous run left, if its cleanup never ran */
	ctr_rt_delete(absroot, r, true);
	herr_clear();
	snprintf(path, sizeof(path), "%s/" SHIM_EXIT_FILE, dir);
	unlink(path);

	enum logs_driver driver = LOGS_K8S_FILE;
	int rc = 0;
	if (r->config.log_driver)
		rc = logs_driver_parse(r->config.log_driver, &driver);
	if (rc == 0)
		rc = mount_rootfs(absroot, bundle, rootfs_flags(&r->config));
	if (rc == 0 && strcmp(r->network, "host"))
		rc = netns_create(netns);
	if (rc == 0 && ctr_is_cni_network(r->network))
		rc = attach_network(absroot, r, netns);
	if (rc == 0)
		rc = write_etc(dir, r);
	if (rc == 0) {
		struct shim_opts o = {
		    .id = r->id,
		    .bundle = bundle,
		    .runtime = r->config.runtime,
		    .runtime_root = rtroot,
		    .state_dir = dir,
		    .log_path = driver == LOGS_NONE ? NULL : log,
		    .log_driver = driver,
		    .log_max_size = (uint64_t)r->config.log_max_size,
		    .terminal = r->config.tty,
		    .stdin_open = r->config.interactive,
		    .wait_attach = wait_attach,
		    /* the shim cleans up after the exit itself: nothing to start then */
		    .deck_root = absroot,
		    .shim_path = paths->deck_shim,
		};
		pid_t pid = 0;
		rc = shim_start(&o, &pid);
		r->pid = pid;
	}
	free(r->error);
	r->error = NULL;
	if (rc < 0) {
		int keep = herr_code();
		_cleanup_free_ char *msg = strdup(herr_msg());
		undo_network(absroot, r, netns);
		r->error = msg ? strdup(msg) : NULL;
		r->exit_code = 125;
		ctr_record_save(absroot, r);
		return herr_set(keep ? keep : EIO, "%s", msg ? msg : "start failed");
	}
	if (r->started_at)
		r->restart_count++;
	r->started_at = now_ns();
	r->finished_at = 0;
	r->paused = false;
	r->status = CTR_RUNNING;
	return ctr_record_save(absroot, r);
}
