/*
 * linux.resources of config.json (and of `hull update --resources`), read into
 * plain structs. Every field has a has_ flag: absent means "leave as it is".
 * Memory is malloc'd and freed by oci_resources_free().
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "oci/config.h"

struct json_object;

/* A device cgroup rule; major/minor -1 = any ("*"). */
struct oci_dev_rule {
	bool allow;
	char type; /* 'a' (all), 'c', 'b' */
	int64_t major, minor;
	char access[4]; /* a non-empty subset of "rwm", NUL-terminated */
};

struct oci_weight_device {
	int64_t major, minor;
	bool has_weight, has_leaf_weight;
	uint16_t weight, leaf_weight;
};

struct oci_throttle_device {
	int64_t major, minor;
	uint64_t rate;
};

struct oci_throttle_list {
	struct oci_throttle_device *v;
	size_t n;
};

struct oci_hugepage_limit {
	char *page_size; /* "2MB", "1GB" */
	uint64_t limit;
};

struct oci_net_priority {
	char *name;
	uint32_t priority;
};

struct oci_rdma_limit {
	char *device;
	bool has_hca_handles, has_hca_objects;
	uint32_t hca_handles, hca_objects;
};

struct oci_resources {
	struct oci_dev_rule *devices;
	size_t n_devices;

	struct {
		bool has_limit, has_reservation, has_swap, has_kernel, has_kernel_tcp;
		int64_t limit, reservation, swap, kernel, kernel_tcp; /* -1 = unlimited */
		bool has_swappiness;
		uint64_t swappiness; /* 0..100 */
		bool has_disable_oom_killer, disable_oom_killer;
		bool has_use_hierarchy, use_hierarchy;
		bool check_before_update;
	} memory;

	struct {
		bool has_shares, has_quota, has_burst, has_period;
		uint64_t shares, burst, period;
		int64_t quota; /* -1 = unlimited */
		bool has_realtime_runtime, has_realtime_period;
		int64_t realtime_runtime;
		uint64_t realtime_period;
		char *cpus, *mems; /* NULL = not given */
		bool has_idle;
		int64_t idle;
	} cpu;

	struct {
		bool has_limit;
		int64_t limit; /* 0 or -1 = unlimited, as runc */
	} pids;

	struct {
		bool has_weight, has_leaf_weight;
		uint16_t weight, leaf_weight;
		struct oci_weight_device *weight_device;
		size_t n_weight_device;
		struct oci_throttle_list throttle_read_bps, throttle_write_bps, throttle_read_iops,
		    throttle_write_iops;
	} block_io;

	struct oci_hugepage_limit *hugepage_limits;
	size_t n_hugepage_limits;

	struct {
		bool has_class_id;
		uint32_t class_id;
		struct oci_net_priority *priorities;
		size_t n_priorities;
	} network;

	struct oci_rdma_limit *rdma;
	size_t n_rdma;

	struct oci_kv *unified; /* cgroup v2 file -> value */
	size_t n_unified;
};

/*
 * Parse a linux.resources object. Messages name the file and the JSON path:
 * "<file>: linux.resources.memory.limit: expected an integer, got \"1G\"".
 * `where` is the path prefix ("linux.resources", or "" for an update file).
 */
int oci_resources_parse(struct json_object *obj, const char *file, const char *where,
			struct oci_resources **out);
void oci_resources_free(struct oci_resources *r);
