#!/usr/bin/env bats
# shellcheck disable=SC2016 # jq filters and sh -c scripts are single-quoted on purpose
# linux.resources on cgroup v1 hierarchies (a v1 or hybrid host): the files each
# field writes in the container's leaf, limits that the kernel enforces on a real
# container, and clear errors for what this kernel or layout cannot do.

load helpers

setup() {
	requires_root
	[[ -e /sys/fs/cgroup/memory/memory.limit_in_bytes ]] ||
		skip_reason "no cgroup v1 memory hierarchy at /sys/fs/cgroup/memory"
	setup_common
}

teardown() {
	teardown_common
}

# The container's leaf in the v1 hierarchy of CONTROLLER.
leaf() {
	echo "/sys/fs/cgroup/$1$CGPATH"
}

# Each of FILE=VALUE... read from the leaf of CONTROLLER must match (first line).
expect_files() {
	local ctl=$1 kv f want got
	shift
	for kv in "$@"; do
		f=${kv%%=*}
		want=${kv#*=}
		got=$(head -n1 "$(leaf "$ctl")/$f")
		[[ "$got" == "$want" ]] || {
			echo "$ctl/$f: \"$got\", want \"$want\""
			return 1
		}
	done
}

# A created container with these resources; the limits are in place before start.
create_with() {
	update_config "$@"
	set_args sleep 100
	create_container
}

# `hull run` of a config that must fail; $output is the runtime's message.
run_must_fail() {
	update_config "$1"
	run hull run --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	assert_no_leftovers
}

# The runtime's message contains TEXT. Other runtimes word their messages their
# own way: for them only the failure itself is checked.
says() {
	is_hull || return 0
	[[ "$output" == *"$1"* ]] || {
		echo "message does not contain: $1"
		return 1
	}
}

requires_v1() {
	local c
	for c in "$@"; do
		[[ -e "/sys/fs/cgroup/$c/cgroup.procs" && ! -e "/sys/fs/cgroup/$c/cgroup.controllers" ]] ||
			skip_reason "no cgroup v1 $c hierarchy at /sys/fs/cgroup/$c"
	done
}

@test "memory: limit, reservation, swap, swappiness, disableOOMKiller" {
	requires_v1 memory
	[[ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ]] ||
		skip_reason "swap accounting is off (no memory.memsw.limit_in_bytes)"
	create_with '.linux.resources.memory = {"limit": 33554432, "reservation": 16777216,
		"swap": 67108864, "swappiness": 10, "disableOOMKiller": true, "useHierarchy": true}'
	expect_files memory memory.limit_in_bytes=33554432 memory.soft_limit_in_bytes=16777216 \
		memory.memsw.limit_in_bytes=67108864 memory.swappiness=10 \
		"memory.oom_control=oom_kill_disable 1" memory.use_hierarchy=1
	hull delete --force "$ID"
	assert_no_leftovers
}

@test "memory: -1 lifts the limit, 0 leaves it alone (as runc)" {
	requires_v1 memory
	create_with '.linux.resources.memory = {"limit": -1, "reservation": 0, "swap": 0}'
	expect_files memory memory.limit_in_bytes=9223372036854771712 \
		memory.soft_limit_in_bytes=9223372036854771712
}

@test "memory: a process allocating past the limit is OOM-killed" {
	requires_v1 memory
	update_config '.linux.resources.memory.limit = 33554432'
	# tail keeps a line that never ends in anonymous memory: 64 MiB of it. It
	# marks itself the first choice of the OOM killer, so that under load the
	# kernel does not pick the shell that waits for it (seen once in a full run).
	run_in_container sh -c 'head -c 67108864 /dev/zero |
		(echo 1000 >/proc/self/oom_score_adj && exec tail >/dev/null); echo "tail=$?"'
	[ "$status" -eq 0 ]
	[[ "$output" == *"tail=137"* ]]
}

@test "memory: a tmpfs cannot grow past the limit" {
	requires_v1 memory
	update_config '.linux.resources.memory.limit = 33554432'
	run_in_container sh -c 'dd if=/dev/zero of=/dev/shm/x bs=1M count=60 2>/dev/null
		echo "dd=$?"; du -k /dev/shm/x'
	[[ "$output" != *"dd=0"* ]]
	# Whatever stopped the writer, the file stays below the 32 MiB limit.
	kb=$(awk '/\/dev\/shm\/x/ { print $1 }' <<<"$output")
	[ -z "$kb" ] || [ "$kb" -lt 32768 ]
}

@test "memory: the OOM kill is counted in the cgroup" {
	requires_v1 memory
	update_config '.linux.resources.memory.limit = 33554432'
	set_args sh -c 'head -c 67108864 /dev/zero | tail >/dev/null; sleep 100'
	run_detached
	for _ in $(seq 100); do
		grep -q '^oom_kill [1-9]' "$(leaf memory)/memory.oom_control" && break
		sleep 0.05
	done
	grep '^oom_kill [1-9]' "$(leaf memory)/memory.oom_control"
	hull delete --force "$ID"
	assert_no_leftovers
}

@test "cpu: shares, period, quota, burst, cpus, mems" {
	requires_v1 cpu cpuset
	create_with '.linux.resources.cpu = {"shares": 512, "period": 50000, "quota": 20000,
		"burst": 1000, "cpus": "0", "mems": "0"}'
	expect_files cpu cpu.shares=512 cpu.cfs_period_us=50000 cpu.cfs_quota_us=20000
	# runc 1.1 knows no burst.
	if is_hull && [[ -e "$(leaf cpu)/cpu.cfs_burst_us" ]]; then
		expect_files cpu cpu.cfs_burst_us=1000
	fi
	expect_files cpuset cpuset.cpus=0 cpuset.mems=0
}

@test "cpu: idle" {
	requires_hull # runc 1.1 knows no cpu.idle
	requires_v1 cpu
	[[ -e /sys/fs/cgroup/cpu/cpu.idle ]] || skip_reason "this kernel has no cpu.idle"
	create_with '.linux.resources.cpu.idle = 1'
	expect_files cpu cpu.idle=1
}

@test "cpu: a quota throttles a busy loop" {
	requires_v1 cpu
	update_config '.linux.resources.cpu = {"quota": 10000, "period": 100000}'
	set_args sh -c 'while :; do :; done'
	run_detached
	local n=0
	for _ in $(seq 100); do
		n=$(awk '$1 == "nr_throttled" { print $2 }' "$(leaf cpu)/cpu.stat")
		[ "$n" -gt 2 ] && break
		sleep 0.05
	done
	echo "nr_throttled $n"
	[ "$n" -gt 2 ]
	hull delete --force "$ID"
	assert_no_leftovers
}

@test "cpu: a cpuset outside the host is refused" {
	requires_v1 cpuset
	run_must_fail '.linux.resources.cpu.cpus = "4096"'
	says 'linux.resources.cpu.cpus: "4096" is not within the parent cgroup'"'"'s cpuset.cpus'
}

@test "pids: the limit stops a fork bomb" {
	requires_v1 pids
	update_config '.linux.resources.pids.limit = 10'
	# The shell counts each fork it tries (echo is a builtin) and gives up at the
	# first refused one; its exit as PID 1 then ends the sleeps.
	run_in_container sh -c 'i=0; while [ $i -lt 30 ]; do i=$((i + 1)); echo "n=$i"
		sleep 100 & done; echo survived'
	[[ "$output" == *"can't fork: Resource temporarily unavailable"* ]]
	[[ "$output" != *survived* ]]
	n=$(grep -c '^n=' <<<"$output")
	echo "forks tried: $n"
	[ "$n" -le 10 ]
}

@test "pids: limit written, -1 is max" {
	requires_v1 pids
	create_with '.linux.resources.pids.limit = 42'
	expect_files pids pids.max=42
	hull delete --force "$ID"
	assert_no_leftovers
	create_with '.linux.resources.pids.limit = -1'
	expect_files pids pids.max=max
}

# c 1:200 has no driver behind it (the mem driver stops at minor 12): the cgroup's
# check comes first (EPERM), and once allowed the open reaches the driver (ENXIO),
# so the test touches no real device.
@test "devices: a node from linux.devices that the cgroup denies cannot be opened" {
	requires_v1 devices
	update_config '.linux.devices = [{"path": "/dev/testdev", "type": "c", "major": 1,
		"minor": 200, "fileMode": 420}]'
	run_in_container sh -c 'ls -l /dev/testdev && : </dev/testdev'
	[ "$status" -ne 0 ]
	[[ "$output" == *"/dev/testdev"* ]]
	[[ "$output" == *"can't open /dev/testdev: Operation not permitted"* ]]
}

@test "devices: an allow rule opens it, the list holds the rules" {
	requires_v1 devices
	update_config '.linux.devices = [{"path": "/dev/testdev", "type": "c", "major": 1,
		"minor": 200, "fileMode": 420}] |
		.linux.resources.devices += [{"allow": true, "type": "c", "major": 1,
		"minor": 200, "access": "r"}]'
	run_in_container sh -c ': </dev/testdev'
	[[ "$output" == *"can't open /dev/testdev: No such device or address"* ]]
	create_with '.'
	run cat "$(leaf devices)/devices.list"
	[[ "$output" == *"c 1:200 r"* ]]
	[[ "$output" == *"c 1:3 rwm"* ]]
	[[ "$output" != *"a *:* rwm"* ]]
}

@test "blockIO: throttles written for a real device" {
	requires_v1 blkio
	local dev
	dev=$(cat "$(find /sys/block/ -mindepth 1 -maxdepth 1 | head -n1)/dev")
	create_with '.linux.resources.blockIO = {
		"throttleReadBpsDevice": [{"major": $maj, "minor": $min, "rate": 1048576}],
		"throttleWriteBpsDevice": [{"major": $maj, "minor": $min, "rate": 2097152}],
		"throttleReadIOPSDevice": [{"major": $maj, "minor": $min, "rate": 100}],
		"throttleWriteIOPSDevice": [{"major": $maj, "minor": $min, "rate": 200}]}' \
		--argjson maj "${dev%:*}" --argjson min "${dev#*:}"
	expect_files blkio "blkio.throttle.read_bps_device=$dev 1048576" \
		"blkio.throttle.write_bps_device=$dev 2097152" \
		"blkio.throttle.read_iops_device=$dev 100" \
		"blkio.throttle.write_iops_device=$dev 200"
}

@test "blockIO: weight through CFQ or BFQ, or a clear error" {
	requires_v1 blkio
	update_config '.linux.resources.blockIO.weight = 300'
	set_args true
	run hull run --bundle "$BUNDLE" "$ID"
	if [ "$status" -ne 0 ]; then
		says "linux.resources.blockIO.weight: this kernel has neither blkio.weight (CFQ) nor blkio.bfq.weight (BFQ)"
	fi
	assert_no_leftovers
}

@test "blockIO: leafWeight (CFQ only) gives a clear error where CFQ is gone" {
	requires_v1 blkio
	[[ ! -e /sys/fs/cgroup/blkio/blkio.leaf_weight ]] || skip_reason "this kernel has CFQ"
	run_must_fail '.linux.resources.blockIO.leafWeight = 300'
	says "linux.resources.blockIO.leafWeight: "
	says "/blkio.leaf_weight does not exist: this kernel does not support it"
}

@test "memory.kernel: a clear error where the kernel no longer limits kernel memory" {
	requires_hull # runc 1.1 ignores kernel memory limits with a warning
	requires_v1 memory
	update_config '.linux.resources.memory.kernel = 16777216'
	set_args true
	run hull run --bundle "$BUNDLE" "$ID"
	if [ "$status" -eq 0 ]; then
		skip_reason "this kernel still limits kernel memory"
	fi
	says "linux.resources.memory.kernel: "
	[[ "$output" == *"does not exist"* || "$output" == *"no longer limits kernel memory"* ]]
	assert_no_leftovers
}

@test "unified: a v1 controller's key needs cgroup v2" {
	requires_v1 memory
	run_must_fail '.linux.resources.unified = {"memory.max": "1000000"}'
	says 'linux.resources.unified["memory.max"]: needs cgroup v2'
}

@test "network: classID without a net_cls hierarchy is a clear error" {
	[[ ! -d /sys/fs/cgroup/net_cls ]] || skip_reason "net_cls is mounted here"
	run_must_fail '.linux.resources.network.classID = 1048577'
	says "linux.resources.network.classID: this host has no net_cls cgroup controller mounted"
}

@test "bad values are refused with the JSON path, and nothing is left behind" {
	run_must_fail '.linux.resources.memory.limit = -5'
	says "linux.resources.memory.limit: expected an integer from -1 to 9223372036854775807, got -5"
	run_must_fail '.linux.resources.memory.limit = 1048576 | .linux.resources.cpu.shares = 1'
	says "linux.resources.cpu.shares: expected an integer from 2 to 262144, got 1"
	run_must_fail '.linux.resources.cpu.shares = 512 | .linux.resources.cpu.cpus = "a-b"'
	says 'linux.resources.cpu.cpus: expected a list of numbers and ranges like "0-3,5", got "a-b"'
	run_must_fail '.linux.resources.cpu.cpus = "0" | .linux.resources.devices[0].type = "x"'
	says 'linux.resources.devices[0].type: expected "a", "b" or "c", got "x"'
	run_must_fail '.linux.resources.devices[0].type = "a" | .linux.resources.devices[0].access = "rwz"'
	says 'linux.resources.devices[0].access: expected a combination of "r", "w" and "m", got "rwz"'
	run_must_fail '.linux.resources.devices[0].access = "rwm" | .linux.resources.pids.limit = -2'
	says "linux.resources.pids.limit: expected an integer from -1 to 9223372036854775807, got -2"
	run_must_fail '.linux.resources.pids.limit = 5 | .linux.resources.blockIO.weight = 5'
	says "linux.resources.blockIO.weight: expected an integer from 10 to 1000, got 5"
	run_must_fail '.linux.resources.blockIO.weight = 500 | .linux.resources.memory.swappiness = 101'
	says "linux.resources.memory.swappiness: expected an integer from 0 to 100, got 101"
	run_must_fail '.linux.resources.memory.swappiness = 1 | .linux.resources.unified = {"../x": "1"}'
	says 'linux.resources.unified["../x"]: not a cgroup file name'
}
