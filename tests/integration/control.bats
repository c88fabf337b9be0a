#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031 # bats runs each test in a subshell
# Commands on a live container's cgroups: pause, resume, ps, events, update,
# kill --all.

load helpers

setup() {
	setup_common
}

teardown() {
	teardown_common
}

# Writes a growing number to /tmp/cnt (the host sees it in the rootfs).
# shellcheck disable=SC2016 # expanded by the container's shell
COUNTER='i=0; while :; do i=$((i+1)); echo $i >/tmp/cnt; sleep 0.05; done'

# retry N CMD...: run CMD every 50 ms until it succeeds, at most N times.
retry() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	echo "gave up after $n tries: $*" >&2
	return 1
}

counter() {
	cat "$BUNDLE/rootfs/tmp/cnt" 2>/dev/null
}

counter_past() { # N: the counter is a number greater than N
	local c
	c="$(counter)"
	[[ "$c" =~ ^[0-9]+$ ]] && ((c > $1))
}

# A cgroup file of the container: the v1 controller's, else the cgroup2 one.
cg_read() { # V1CONTROLLER V1FILE V2FILE
	local v1="/sys/fs/cgroup/$1$CGPATH/$2" v2="/sys/fs/cgroup$CGPATH/$3"
	if [[ -e "$v1" ]]; then
		cat "$v1"
	elif [[ -e "$v2" ]]; then
		cat "$v2"
	else
		echo "neither $v1 nor $v2 exists" >&2
		return 1
	fi
}

npids() { # N: hull ps --format json lists N processes
	[ "$(hull ps --format json "$ID" | jq length)" -eq "$1" ]
}

pid_gone() {
	[[ ! -d "/proc/$1" ]] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

@test "pause freezes every process, resume thaws them" {
	update_config '.root.readonly = false'
	set_args sh -c "$COUNTER"
	run_detached
	retry 100 counter_past 0

	run hull pause "$ID"
	[ "$status" -eq 0 ]
	[ "$(state_field "$ID" .status)" = paused ]
	a="$(counter)"
	sleep 0.3
	[ "$(counter)" = "$a" ]
	hull list | grep -q "^$ID .*paused"

	run hull resume "$ID"
	[ "$status" -eq 0 ]
	[ "$(state_field "$ID" .status)" = running ]
	retry 100 counter_past "${a:-0}"

	run hull delete --force "$ID"
	[ "$status" -eq 0 ]
	assert_no_leftovers
}

@test "delete --force of a paused container" {
	set_args sleep 1000
	run_detached
	run hull pause "$ID"
	[ "$status" -eq 0 ]
	run hull delete "$ID"
	[ "$status" -ne 0 ]
	run hull delete --force "$ID"
	[ "$status" -eq 0 ]
	assert_no_leftovers
}

@test "pause and resume refuse containers in the wrong state" {
	set_args sleep 1000
	run_detached
	run hull resume "$ID"
	[ "$status" -ne 0 ]
	if is_hull; then
		[[ "$output" == *"container \"$ID\" is not paused"* ]]
	fi
	run hull pause "$ID"
	[ "$status" -eq 0 ]
	run hull pause "$ID"
	[ "$status" -ne 0 ]
	run hull resume "$ID"
	[ "$status" -eq 0 ]
	hull kill "$ID" KILL
	wait_for_status "$ID" stopped
	run hull pause "$ID"
	[ "$status" -ne 0 ]
	if is_hull; then
		[[ "$output" == *"container \"$ID\" is not running"* ]]
	fi
	run hull resume "$ID"
	[ "$status" -ne 0 ]
	run hull pause does-not-exist
	[ "$status" -ne 0 ]
	if is_hull; then
		[[ "$output" == *does-not-exist* ]]
	fi
}

@test "pause refuses a created container (its start would wait forever)" {
	requires_hull
	create_container
	run hull pause "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"is not running (it is created)"* ]]
	[ "$(state_field "$ID" .status)" = created ]
}

@test "ps lists the container's processes" {
	set_args sh -c 'sleep 1000 & sleep 1001 & wait'
	run_detached
	retry 100 npids 3
	init="$(state_field "$ID" .pid)"

	run hull ps --format json "$ID"
	[ "$status" -eq 0 ]
	jq -e --argjson p "$init" 'type == "array" and length == 3 and index($p) != null' \
		<<<"$output"
	mapfile -t pids < <(jq '.[]' <<<"$output")

	run hull ps "$ID"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^UID\ +PID ]]
	[ "${#lines[@]}" -eq 4 ]
	[[ "$output" == *"sleep 1000"* && "$output" == *"sleep 1001"* ]]
	for p in "${pids[@]}"; do
		grep -Eq "^[^ ]+ +$p " <<<"$output"
	done

	run hull ps "$ID" -o pid,comm
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ PID\ +COMMAND ]]
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[1]}" =~ ^\ *[0-9]+\ (sh|sleep)$ ]]

	if is_hull; then
		run hull ps "$ID" -- -o comm,pid
		[ "$status" -eq 0 ]
		[ "${#lines[@]}" -eq 4 ]
		run hull ps "$ID" -- -o comm
		[ "$status" -ne 0 ]
		[[ "$output" == *"no PID column"* ]]
		run hull ps --format yaml "$ID"
		[ "$status" -ne 0 ]
	fi
}

@test "events --stats prints one stats object" {
	set_args sh -c 'sleep 1000 & wait'
	run_detached
	retry 100 npids 2
	run hull events --stats "$ID"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	jq -e --arg id "$ID" '.type == "stats" and .id == $id' <<<"$output"
	jq -e '.data.memory.usage | type == "object" and has("limit") and .usage > 0' \
		<<<"$output"
	jq -e '.data.memory.raw | type == "object"' <<<"$output"
	jq -e '.data.pids.current == 2' <<<"$output"
	jq -e '.data.cpu.usage.total > 0' <<<"$output"
}

@test "events streams stats every interval and ends when the container stops" {
	requires_hull
	set_args sleep 1.3
	run_detached
	run hull events --interval 300ms "$ID"
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -ge 2 ]
	for l in "${lines[@]}"; do
		jq -e --arg id "$ID" '.type == "stats" and .id == $id and (.data.pids | type == "object")' \
			<<<"$l"
	done

	run hull events --interval 0s "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *--interval* ]]
	run hull events --interval 5 "$ID"
	[ "$status" -ne 0 ]
	run hull events --stats "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"is not running"* ]]
}

@test "events reports an OOM kill" {
	update_config '.linux.resources.memory = {"limit": 33554432} | .root.readonly = false'
	# Each /tmp/go from the host makes the container allocate 64 MiB.
	set_args sh -c 'while :; do
		if [ -e /tmp/go ]; then rm -f /tmp/go; dd if=/dev/zero of=/dev/null bs=64M count=1; fi
		sleep 0.05; done'
	run_detached
	# Until create applies linux.resources, update sets the limit instead.
	if [ "$(cg_read memory memory.limit_in_bytes memory.max)" != 33554432 ]; then
		hull update --memory 32m "$ID"
	fi
	[ "$(cg_read memory memory.limit_in_bytes memory.max)" = 33554432 ]

	ev="$TEST_DIR/events.out"
	hull events --interval 1h "$ID" >"$ev" 2>&1 3>&- </dev/null &
	evpid=$!
	# The watch registers after startup: allocate until the event shows.
	for _ in 1 2 3 4 5; do
		touch "$BUNDLE/rootfs/tmp/go"
		if retry 40 grep -q '"type":"oom"' "$ev"; then
			break
		fi
	done
	hull kill "$ID" KILL
	wait_for_status "$ID" stopped
	# hull's stream ends with the container; runc's once it is deleted.
	is_hull || hull delete "$ID"
	wait "$evpid" || ! is_hull
	cat "$ev"
	jq -e --arg id "$ID" 'select(.type == "oom") | .id == $id' "$ev"
	hull delete --force "$ID"
	assert_no_leftovers
}

@test "update changes resources" {
	set_args sleep 1000
	run_detached

	run hull update --memory 128m --pids-limit 200 "$ID"
	[ "$status" -eq 0 ]
	[ "$(cg_read memory memory.limit_in_bytes memory.max)" = 134217728 ]
	[ "$(cg_read pids pids.max pids.max)" = 200 ]

	hull update -r - "$ID" <<<'{"memory": {"limit": 100663296}, "pids": {"limit": -1}}'
	[ "$(cg_read memory memory.limit_in_bytes memory.max)" = 100663296 ]
	[ "$(cg_read pids pids.max pids.max)" = max ]

	echo '{"cpu": {"shares": 512, "quota": 50000, "period": 100000}}' >"$TEST_DIR/r.json"
	run hull update --resources "$TEST_DIR/r.json" "$ID"
	[ "$status" -eq 0 ]
	if [[ -e /sys/fs/cgroup/cpu$CGPATH/cpu.shares ]]; then
		[ "$(cat "/sys/fs/cgroup/cpu$CGPATH/cpu.shares")" = 512 ]
		[ "$(cat "/sys/fs/cgroup/cpu$CGPATH/cpu.cfs_quota_us")" = 50000 ]
	else
		[ "$(cat "/sys/fs/cgroup$CGPATH/cpu.max")" = "50000 100000" ]
	fi

	run hull update --memory 1x "$ID"
	[ "$status" -ne 0 ]
	run hull update --pids-limit many "$ID"
	[ "$status" -ne 0 ]
	[ "$(cg_read pids pids.max pids.max)" = max ]
	if is_hull; then
		run hull update "$ID"
		[ "$status" -ne 0 ]
		[[ "$output" == *"nothing to update"* ]]
		run hull update --l3-cache-schema L3:0=f "$ID"
		[ "$status" -ne 0 ]
		[[ "$output" == *"not supported"* ]]
		run hull update -r - "$ID" <<<'{"memory": '
		[ "$status" -ne 0 ]
		[[ "$output" == *"invalid JSON"* ]]
	fi

	hull kill "$ID" KILL
	wait_for_status "$ID" stopped
	run hull update --memory 64m "$ID"
	[ "$status" -ne 0 ]
}

@test "kill --all signals every process in the container" {
	set_args sh -c 'sleep 1000 & sleep 1001 & wait'
	run_detached
	retry 100 npids 3
	mapfile -t pids < <(hull ps --format json "$ID" | jq '.[]')
	run hull kill --all "$ID" KILL
	[ "$status" -eq 0 ]
	wait_for_status "$ID" stopped
	for p in "${pids[@]}"; do
		retry 100 pid_gone "$p"
	done
	run hull delete "$ID"
	[ "$status" -eq 0 ]
	assert_no_leftovers
}

@test "kill --all of a paused container stops it" {
	set_args sh -c 'sleep 1000 & wait'
	run_detached
	retry 100 npids 2
	run hull pause "$ID"
	[ "$status" -eq 0 ]
	run hull kill --all "$ID" KILL
	[ "$status" -eq 0 ]
	wait_for_status "$ID" stopped
	run hull delete "$ID"
	[ "$status" -eq 0 ]
	assert_no_leftovers
}
