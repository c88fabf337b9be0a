/* linux.resources parsing: every field, the zero-means-unset rule, every error message. */
#include "tap.h"
#include "common/error.h"
#include "oci/resources.h"
#include <stdlib.h>
#include <json-c/json.h>

#define FILE_ "/b/config.json"
#define F     FILE_ ": linux.resources."

/* Fixtures use ' for ", so they read like JSON. */
static struct json_object *doc(const char *sq)
{
	char *d = strdup(sq);
	for (char *p = d; *p; p++)
		if (*p == '\'')
			*p = '"';
	struct json_object *o = json_tokener_parse(d);
	if (!o)
		tap_diag("fixture is not JSON: %s", d);
	free(d);
	return o;
}

static int parse_rc(const char *sq, const char *where, struct oci_resources **out)
{
	struct json_object *o = doc(sq);
	herr_clear();
	*out = NULL;
	int r = oci_resources_parse(o, FILE_, where, out);
	json_object_put(o);
	return r;
}

static struct oci_resources *parse(const char *sq)
{
	struct oci_resources *r;
	if (parse_rc(sq, "linux.resources", &r) < 0)
		tap_diag("unexpected error: %s", herr_msg());
	return r;
}

static void expect_error(const char *sq, const char *want)
{
	struct oci_resources *r;
	int rc = parse_rc(sq, "linux.resources", &r);
	const char *msg = rc < 0 ? herr_msg() : "(parsed without error)";
	is_str(msg, want, "error: %s", want + strlen(FILE_ ": "));
	ok(rc < 0 ? r == NULL : true, "no result on error");
	oci_resources_free(r);
}

static void test_full(void)
{
	struct oci_resources *r =
	    parse("{'devices':[{'allow':false,'access':'rwm'},"
		  "{'allow':true,'type':'c','major':1,'minor':3,'access':'mr'},"
		  "{'allow':true,'type':'b','major':8,'access':'w'}],"
		  "'memory':{'limit':33554432,'reservation':16777216,'swap':67108864,'kernel':-1,"
		  "'kernelTCP':1048576,'swappiness':0,'disableOOMKiller':true,'useHierarchy':true,"
		  "'checkBeforeUpdate':true},"
		  "'cpu':{'shares':512,'quota':50000,'burst':1000,'period':100000,"
		  "'realtimeRuntime':950,'realtimePeriod':1000,'cpus':'0-3,5','mems':'0','idle':1},"
		  "'pids':{'limit':-1},"
		  "'blockIO':{'weight':500,'leafWeight':10,'weightDevice':[{'major':8,'minor':0,"
		  "'weight':600},{'major':8,'minor':16,'leafWeight':300}],"
		  "'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':1048576}],"
		  "'throttleWriteBpsDevice':[{'major':8,'minor':0,'rate':2097152}],"
		  "'throttleReadIOPSDevice':[{'major':8,'minor':0,'rate':100}],"
		  "'throttleWriteIOPSDevice':[{'major':8,'minor':0,'rate':200},"
		  "{'major':8,'minor':16,'rate':18446744073709551615}]},"
		  "'hugepageLimits':[{'pageSize':'2MB','limit':209715200},"
		  "{'pageSize':'1GB','limit':0}],"
		  "'network':{'classID':1048577,'priorities':[{'name':'eth0','priority':500},"
		  "{'name':'lo','priority':0}]},"
		  "'rdma':{'mlx5_1':{'hcaHandles':3,'hcaObjects':10000},'mlx4_0':{'hcaObjects':1}},"
		  "'unified':{'memory.high':'max','hugetlb.2MB.max':'1048576'}}");
	if (!ok(r != NULL, "full document parses"))
		return;
	is_int(r->n_devices, 3, "3 device rules");
	ok(!r->devices[0].allow && r->devices[0].type == 'a' && r->devices[0].major == -1 &&
	       r->devices[0].minor == -1,
	   "rule 0: deny all, type and numbers default to a/-1");
	is_str(r->devices[0].access, "rwm", "rule 0 access");
	ok(r->devices[1].allow && r->devices[1].type == 'c' && r->devices[1].major == 1 &&
	       r->devices[1].minor == 3,
	   "rule 1: c 1:3");
	is_str(r->devices[1].access, "rm", "access kept in rwm order");
	ok(r->devices[2].type == 'b' && r->devices[2].major == 8 && r->devices[2].minor == -1,
	   "rule 2: b 8:*");

	ok(r->memory.has_limit && r->memory.limit == 33554432, "memory.limit");
	ok(r->memory.has_reservation && r->memory.reservation == 16777216, "memory.reservation");
	ok(r->memory.has_swap && r->memory.swap == 67108864, "memory.swap");
	ok(r->memory.has_kernel && r->memory.kernel == -1, "memory.kernel -1");
	ok(r->memory.has_kernel_tcp && r->memory.kernel_tcp == 1048576, "memory.kernelTCP");
	ok(r->memory.has_swappiness && r->memory.swappiness == 0, "swappiness 0 is a value");
	ok(r->memory.has_disable_oom_killer && r->memory.disable_oom_killer, "disableOOMKiller");
	ok(r->memory.has_use_hierarchy && r->memory.use_hierarchy, "useHierarchy");
	ok(r->memory.check_before_update, "checkBeforeUpdate");

	ok(r->cpu.has_shares && r->cpu.shares == 512, "cpu.shares");
	ok(r->cpu.has_quota && r->cpu.quota == 50000, "cpu.quota");
	ok(r->cpu.has_burst && r->cpu.burst == 1000, "cpu.burst");
	ok(r->cpu.has_period && r->cpu.period == 100000, "cpu.period");
	ok(r->cpu.has_realtime_runtime && r->cpu.realtime_runtime == 950, "realtimeRuntime");
	ok(r->cpu.has_realtime_period && r->cpu.realtime_period == 1000, "realtimePeriod");
	is_str(r->cpu.cpus, "0-3,5", "cpu.cpus");
	is_str(r->cpu.mems, "0", "cpu.mems");
	ok(r->cpu.has_idle && r->cpu.idle == 1, "cpu.idle");

	ok(r->pids.has_limit && r->pids.limit == -1, "pids.limit");

	ok(r->block_io.has_weight && r->block_io.weight == 500, "blockIO.weight");
	ok(r->block_io.has_leaf_weight && r->block_io.leaf_weight == 10, "blockIO.leafWeight");
	is_int(r->block_io.n_weight_device, 2, "2 weightDevice entries");
	ok(r->block_io.weight_device[0].has_weight && r->block_io.weight_device[0].weight == 600 &&
	       !r->block_io.weight_device[0].has_leaf_weight,
	   "weightDevice[0]");
	ok(!r->block_io.weight_device[1].has_weight &&
	       r->block_io.weight_device[1].leaf_weight == 300 &&
	       r->block_io.weight_device[1].minor == 16,
	   "weightDevice[1]");
	ok(r->block_io.throttle_read_bps.n == 1 &&
	       r->block_io.throttle_read_bps.v[0].rate == 1048576,
	   "throttleReadBpsDevice");
	ok(r->block_io.throttle_write_bps.n == 1 &&
	       r->block_io.throttle_write_bps.v[0].rate == 2097152,
	   "throttleWriteBpsDevice");
	ok(r->block_io.throttle_read_iops.n == 1 && r->block_io.throttle_read_iops.v[0].rate == 100,
	   "throttleReadIOPSDevice");
	ok(r->block_io.throttle_write_iops.n == 2 &&
	       r->block_io.throttle_write_iops.v[1].rate == UINT64_MAX,
	   "throttleWriteIOPSDevice, rate up to 2^64-1");

	is_int(r->n_hugepage_limits, 2, "2 hugepage limits");
	is_str(r->hugepage_limits[0].page_size, "2MB", "hugepage 0 size");
	is_int(r->hugepage_limits[0].limit, 209715200, "hugepage 0 limit");
	is_str(r->hugepage_limits[1].page_size, "1GB", "hugepage 1 size");

	ok(r->network.has_class_id && r->network.class_id == 1048577, "network.classID");
	is_int(r->network.n_priorities, 2, "2 priorities");
	is_str(r->network.priorities[0].name, "eth0", "priority 0 name");
	is_int(r->network.priorities[0].priority, 500, "priority 0 value");

	is_int(r->n_rdma, 2, "2 rdma devices");
	is_str(r->rdma[0].device, "mlx5_1", "rdma[0] device");
	ok(r->rdma[0].has_hca_handles && r->rdma[0].hca_handles == 3 &&
	       r->rdma[0].has_hca_objects && r->rdma[0].hca_objects == 10000,
	   "rdma[0] limits");
	ok(!r->rdma[1].has_hca_handles && r->rdma[1].has_hca_objects, "rdma[1] objects only");

	is_int(r->n_unified, 2, "2 unified keys");
	is_str(r->unified[0].key, "memory.high", "unified[0] key");
	is_str(r->unified[0].value, "max", "unified[0] value");
	is_str(r->unified[1].key, "hugetlb.2MB.max", "unified[1] key");
	oci_resources_free(r);
}

static void test_empty_and_zero(void)
{
	struct oci_resources *r = parse("{}");
	ok(r && !r->n_devices && !r->memory.has_limit && !r->cpu.has_shares && !r->cpu.cpus &&
	       !r->pids.has_limit && !r->n_unified,
	   "{} sets nothing");
	oci_resources_free(r);

	r = NULL;
	ok(oci_resources_parse(NULL, FILE_, "linux.resources", &r) == 0 && r && !r->n_devices,
	   "NULL object: empty resources");
	oci_resources_free(r);

	/* Values runc cannot tell from absent. */
	r = parse("{'memory':{'limit':0,'reservation':0,'swap':0,'kernel':0,'kernelTCP':0,"
		  "'swappiness':null},'cpu':{'shares':0,'quota':0,'period':0,'realtimePeriod':0,"
		  "'cpus':'','mems':''},'blockIO':{'weight':0,'leafWeight':0}}");
	ok(r && !r->memory.has_limit && !r->memory.has_reservation && !r->memory.has_swap &&
	       !r->memory.has_kernel && !r->memory.has_kernel_tcp && !r->memory.has_swappiness,
	   "memory zeros and null are unset");
	ok(r && !r->cpu.has_shares && !r->cpu.has_quota && !r->cpu.has_period &&
	       !r->cpu.has_realtime_period && !r->cpu.cpus && !r->cpu.mems,
	   "cpu zeros and empty lists are unset");
	ok(r && !r->block_io.has_weight && !r->block_io.has_leaf_weight, "blkio weight 0 is unset");
	oci_resources_free(r);

	/* Zero is a real value where it means something. */
	r = parse("{'cpu':{'burst':0,'realtimeRuntime':0,'idle':0},'pids':{'limit':0},"
		  "'memory':{'disableOOMKiller':false,'limit':-1,'swap':-1}}");
	ok(r && r->cpu.has_burst && r->cpu.has_realtime_runtime && r->cpu.has_idle,
	   "cpu burst/realtimeRuntime/idle 0 are values");
	ok(r && r->pids.has_limit && r->pids.limit == 0, "pids.limit 0 kept (unlimited)");
	ok(r && r->memory.has_disable_oom_killer && !r->memory.disable_oom_killer,
	   "disableOOMKiller false is a value");
	ok(r && r->memory.limit == -1 && r->memory.swap == -1, "limit and swap -1");
	oci_resources_free(r);

	r = parse("{'memory':{'limit':1048576,'swap':1048576}}");
	ok(r && r->memory.swap == r->memory.limit, "swap equal to limit (no swap) is fine");
	oci_resources_free(r);
	r = parse("{'memory':{'limit':1048576,'swap':-1}}");
	ok(r && r->memory.swap == -1, "swap -1 with a limit is fine");
	oci_resources_free(r);
}

static void test_where(void)
{
	struct oci_resources *r;
	int rc = parse_rc("{'memory':{'limit':-2}}", "", &r);
	ok(rc < 0, "update file: error");
	is_str(herr_msg(),
	       FILE_ ": memory.limit: expected an integer from -1 to 9223372036854775807, got -2",
	       "update file: path without prefix");
	rc = parse_rc("[1]", "", &r);
	is_str(herr_msg(), FILE_ ": expected an object, got array", "update file: not an object");
	struct json_object *o = doc("{'pids':{'limit':'x'}}");
	rc = oci_resources_parse(o, NULL, "linux.resources", &r);
	json_object_put(o);
	has_prefix(herr_msg(), "resources: linux.resources.pids.limit:", "no file name");
}

static void test_errors(void)
{
	expect_error("[]", FILE_ ": linux.resources: expected an object, got array");
	/* devices */
	expect_error("{'devices':{}}", F "devices: expected an array, got object");
	expect_error("{'devices':[1]}", F "devices[0]: expected an object, got number");
	expect_error("{'devices':[{'type':'c'}]}", F "devices[0].allow: is required");
	expect_error("{'devices':[{'allow':'yes'}]}",
		     F "devices[0].allow: expected a boolean, got string");
	expect_error("{'devices':[{'allow':true},{'allow':true,'type':'x'}]}",
		     F "devices[1].type: expected \"a\", \"b\" or \"c\", got \"x\"");
	expect_error("{'devices':[{'allow':true,'type':'cb'}]}",
		     F "devices[0].type: expected \"a\", \"b\" or \"c\", got \"cb\"");
	expect_error("{'devices':[{'allow':true,'type':5}]}",
		     F "devices[0].type: expected a string, got number");
	expect_error("{'devices':[{'allow':true,'access':'rwz'}]}",
		     F "devices[0].access: expected a combination of \"r\", \"w\" and \"m\", got "
		       "\"rwz\"");
	expect_error("{'devices':[{'allow':true,'access':'rr'}]}",
		     F "devices[0].access: expected a combination of \"r\", \"w\" and \"m\", got "
		       "\"rr\"");
	expect_error("{'devices':[{'allow':true,'access':''}]}",
		     F "devices[0].access: must not be empty (omit it for \"rwm\")");
	expect_error("{'devices':[{'allow':true,'major':-2}]}",
		     F "devices[0].major: expected an integer from -1 to 4294967295, got -2");
	expect_error("{'devices':[{'allow':true,'minor':1.5}]}",
		     F "devices[0].minor: expected an integer from -1 to 4294967295, got 1.5");
	/* memory */
	expect_error("{'memory':[]}", F "memory: expected an object, got array");
	expect_error("{'memory':{'limit':-5}}",
		     F "memory.limit: expected an integer from -1 to 9223372036854775807, got -5");
	expect_error("{'memory':{'limit':'1G'}}", F "memory.limit: expected an integer from -1 "
						    "to 9223372036854775807, got string \"1G\"");
	expect_error("{'memory':{'reservation':-2}}", F "memory.reservation: expected an integer "
							"from -1 to 9223372036854775807, got -2");
	expect_error("{'memory':{'kernel':-3}}",
		     F "memory.kernel: expected an integer from -1 to 9223372036854775807, got -3");
	expect_error("{'memory':{'kernelTCP':18446744073709551615}}",
		     F "memory.kernelTCP: expected an integer from -1 to 9223372036854775807, got "
		       "18446744073709551615");
	expect_error("{'memory':{'limit':2000000,'swap':1000000}}",
		     F "memory.swap: 1000000 is below memory.limit 2000000 (swap limits memory "
		       "plus swap, so it must be at least the limit, or -1)");
	expect_error("{'memory':{'limit':-1,'swap':1000000}}",
		     F "memory.swap: must be -1 when memory.limit is -1 (swap limits memory plus "
		       "swap)");
	expect_error("{'memory':{'swappiness':101}}",
		     F "memory.swappiness: expected an integer from 0 to 100, got 101");
	expect_error("{'memory':{'swappiness':-1}}",
		     F "memory.swappiness: expected an integer from 0 to 100, got -1");
	expect_error("{'memory':{'disableOOMKiller':1}}",
		     F "memory.disableOOMKiller: expected a boolean, got number");
	expect_error("{'memory':{'checkBeforeUpdate':'true'}}",
		     F "memory.checkBeforeUpdate: expected a boolean, got string");
	/* cpu */
	expect_error("{'cpu':{'shares':1}}", F "cpu.shares: expected an integer from 2 to 262144, "
					       "got 1");
	expect_error("{'cpu':{'shares':262145}}",
		     F "cpu.shares: expected an integer from 2 to 262144, got 262145");
	expect_error("{'cpu':{'shares':-1}}",
		     F "cpu.shares: expected an integer from 2 to 262144, got -1");
	expect_error("{'cpu':{'quota':999}}",
		     F "cpu.quota: expected -1 or from 1000 to 17592186044415 (µs), got 999");
	expect_error("{'cpu':{'quota':-2}}",
		     F "cpu.quota: expected an integer from -1 to 17592186044415, got -2");
	expect_error("{'cpu':{'period':999}}",
		     F "cpu.period: expected an integer from 1000 to 1000000, got 999");
	expect_error("{'cpu':{'period':1000001}}",
		     F "cpu.period: expected an integer from 1000 to 1000000, got 1000001");
	expect_error("{'cpu':{'quota':5000,'burst':6000}}",
		     F "cpu.burst: 6000 is above cpu.quota 5000");
	expect_error("{'cpu':{'burst':-1}}",
		     F "cpu.burst: expected an integer from 0 to 17592186044415, got -1");
	expect_error("{'cpu':{'realtimeRuntime':-2}}",
		     F "cpu.realtimeRuntime: expected an "
		       "integer from -1 to 9223372036854775807, got -2");
	expect_error("{'cpu':{'realtimeRuntime':2000,'realtimePeriod':1000}}",
		     F "cpu.realtimeRuntime: 2000 is above cpu.realtimePeriod 1000");
	expect_error("{'cpu':{'idle':2}}", F "cpu.idle: expected an integer from 0 to 1, got 2");
	expect_error("{'cpu':{'cpus':'a-b'}}", F
		     "cpu.cpus: expected a list of numbers and ranges like \"0-3,5\", got \"a-b\"");
	expect_error("{'cpu':{'cpus':'0-'}}", F
		     "cpu.cpus: expected a list of numbers and ranges like \"0-3,5\", got \"0-\"");
	expect_error("{'cpu':{'cpus':'0,,1'}}", F "cpu.cpus: expected a list of numbers and ranges "
						  "like \"0-3,5\", got \"0,,1\"");
	expect_error("{'cpu':{'cpus':'1,'}}", F
		     "cpu.cpus: expected a list of numbers and ranges like \"0-3,5\", got \"1,\"");
	expect_error("{'cpu':{'cpus':'0 1'}}", F "cpu.cpus: expected a list of numbers and ranges "
						 "like \"0-3,5\", got \"0 1\"");
	expect_error("{'cpu':{'cpus':'3-1'}}", F "cpu.cpus: range 3-1 in \"3-1\" is reversed");
	expect_error("{'cpu':{'mems':'0-99999999'}}",
		     F "cpu.mems: 99999999 in \"0-99999999\" is too large");
	expect_error("{'cpu':{'mems':0}}", F "cpu.mems: expected a string, got number");
	/* pids */
	expect_error("{'pids':{}}", F "pids.limit: is required");
	expect_error("{'pids':{'limit':-2}}",
		     F "pids.limit: expected an integer from -1 to 9223372036854775807, got -2");
	expect_error("{'pids':5}", F "pids: expected an object, got number");
	/* blockIO */
	expect_error("{'blockIO':{'weight':5}}",
		     F "blockIO.weight: expected an integer from 10 to 1000, got 5");
	expect_error("{'blockIO':{'weight':1001}}",
		     F "blockIO.weight: expected an integer from 10 to 1000, got 1001");
	expect_error("{'blockIO':{'leafWeight':9}}",
		     F "blockIO.leafWeight: expected an integer from 10 to 1000, got 9");
	expect_error("{'blockIO':{'weightDevice':[{'major':8,'minor':0,'weight':2000}]}}",
		     F "blockIO.weightDevice[0].weight: expected an integer from 10 to 1000, got "
		       "2000");
	expect_error("{'blockIO':{'weightDevice':[{'minor':0}]}}",
		     F "blockIO.weightDevice[0].major: is required");
	expect_error("{'blockIO':{'throttleReadBpsDevice':[{'major':8,'minor':0}]}}",
		     F "blockIO.throttleReadBpsDevice[0].rate: is required");
	expect_error("{'blockIO':{'throttleWriteIOPSDevice':[{'major':8,'minor':0,'rate':-1}]}}",
		     F "blockIO.throttleWriteIOPSDevice[0].rate: expected an integer from 0 to "
		       "18446744073709551615, got -1");
	expect_error("{'blockIO':{'throttleWriteBpsDevice':[{'major':-1,'minor':0,'rate':1}]}}",
		     F "blockIO.throttleWriteBpsDevice[0].major: expected an integer from 0 to "
		       "4294967295, got -1");
	/* hugepageLimits */
	expect_error("{'hugepageLimits':[{'limit':1}]}",
		     F "hugepageLimits[0].pageSize: is required");
	expect_error("{'hugepageLimits':[{'pageSize':'2M','limit':1}]}",
		     F "hugepageLimits[0].pageSize: expected a size like \"2MB\" or \"1GB\", got "
		       "\"2M\"");
	expect_error("{'hugepageLimits':[{'pageSize':'2MB'}]}",
		     F "hugepageLimits[0].limit: is required");
	expect_error(
	    "{'hugepageLimits':[{'pageSize':'2MB','limit':1},{'pageSize':'2MB','limit':2}]}",
	    F "hugepageLimits[1].pageSize: page size \"2MB\" is listed twice");
	/* network */
	expect_error("{'network':{'classID':-1}}",
		     F "network.classID: expected an integer from 0 to 4294967295, got -1");
	expect_error("{'network':{'priorities':[{'name':'eth0'}]}}",
		     F "network.priorities[0].priority: is required");
	expect_error("{'network':{'priorities':[{'name':'a b','priority':1}]}}",
		     F "network.priorities[0].name: not a valid name: \"a b\"");
	expect_error("{'network':{'priorities':[{'name':'','priority':1}]}}",
		     F "network.priorities[0].name: must not be empty");
	expect_error("{'network':{'priorities':[{'name':'0123456789abcdefg','priority':1}]}}",
		     F "network.priorities[0].name: longer than 15 characters: "
		       "\"0123456789abcdefg\"");
	/* rdma */
	expect_error("{'rdma':[]}", F "rdma: expected an object, got array");
	expect_error("{'rdma':{'mlx':{'hcaHandles':-1}}}",
		     F "rdma.mlx.hcaHandles: expected an integer from 0 to 4294967295, got -1");
	expect_error("{'rdma':{'mlx':5}}", F "rdma.mlx: expected an object, got number");
	/* unified */
	expect_error("{'unified':{'../memory.max':'1'}}",
		     F "unified[\"../memory.max\"]: not a cgroup file name (expected "
		       "\"<controller>.<file>\" without \"/\" or \"..\")");
	expect_error("{'unified':{'memory/max':'1'}}",
		     F "unified[\"memory/max\"]: not a cgroup file name (expected "
		       "\"<controller>.<file>\" without \"/\" or \"..\")");
	expect_error("{'unified':{'memory..max':'1'}}",
		     F "unified[\"memory..max\"]: not a cgroup file name (expected "
		       "\"<controller>.<file>\" without \"/\" or \"..\")");
	expect_error("{'unified':{'memory':'1'}}",
		     F "unified[\"memory\"]: not a cgroup file name (expected "
		       "\"<controller>.<file>\" without \"/\" or \"..\")");
	expect_error("{'unified':{'':'1'}}", F "unified[\"\"]: not a cgroup file name (expected "
					       "\"<controller>.<file>\" without \"/\" or \"..\")");
	expect_error("{'unified':{'memory.max':1}}",
		     F "unified[\"memory.max\"]: expected a string, got number");
}

int main(void)
{
	test_full();
	test_empty_and_zero();
	test_where();
	test_errors();
	return tap_done();
}
