#!/usr/bin/env bats
# Namespaces: each type listed in linux.namespaces is new, each type not
# listed is the host's, and a namespace given by path is joined.

load helpers

setup() {
	setup_common
	HOLDER_PID=
}

teardown() {
	if [ -n "$HOLDER_PID" ]; then
		kill -9 "$HOLDER_PID" 2>/dev/null || true
		wait "$HOLDER_PID" 2>/dev/null || true
	fi
	teardown_common
}

host_ns() {
	readlink "/proc/self/ns/$1"
}

# Idempotent: a runtime's default spec may already list the type.
add_namespace() {
	update_config '.linux.namespaces |= (map(select(.type != $t)) + [{type: $t}])' \
		--arg t "$1"
}

remove_namespace() {
	update_config '.linux.namespaces |= map(select(.type != $t))' --arg t "$1"
}

# The container reads its own namespace link (e.g. net:[4026531840]) into
# NS_INSIDE; not in a $() subshell, so that a failed run fails the test.
ns_inside() {
	run_in_container readlink "/proc/self/ns/$1"
	[ "$status" -eq 0 ]
	[[ "$output" == "$1:["*"]" ]]
	NS_INSIDE=$output
}

# With a user namespace the mapped root (an unmapped uid on the host) must be
# able to walk down to the rootfs: mktemp makes 0700 directories.
bundle_world_traversable() {
	local d=$BUNDLE
	while [ "$d" != / ] && [ -n "$d" ]; do
		[ -d "$d" ] && chmod o+x "$d"
		d=$(dirname "$d")
	done
}

@test "pid namespace: new when listed, the process is pid 1" {
	set_args sh -c 'echo $$; readlink /proc/self/ns/pid'
	run hull run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" != "$(host_ns pid)" ]
}

@test "pid namespace: host's when not listed" {
	remove_namespace pid
	set_args sh -c 'echo $$; readlink /proc/self/ns/pid'
	run hull run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" != 1 ]
	[ "${lines[1]}" = "$(host_ns pid)" ]
}

@test "network namespace: new when listed, only lo" {
	run_in_container sh -c 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'
	[ "$status" -eq 0 ]
	[ "$output" = lo ]
	ns_inside net
	[ "$NS_INSIDE" != "$(host_ns net)" ]
}

@test "network namespace: host's when not listed" {
	remove_namespace network
	ns_inside net
	[ "$NS_INSIDE" = "$(host_ns net)" ]
}

@test "mount namespace: new when listed" {
	ns_inside mnt
	[ "$NS_INSIDE" != "$(host_ns mnt)" ]
}

@test "ipc namespace: new when listed, host's when not" {
	ns_inside ipc
	[ "$NS_INSIDE" != "$(host_ns ipc)" ]
	remove_namespace ipc
	ns_inside ipc
	[ "$NS_INSIDE" = "$(host_ns ipc)" ]
}

@test "uts namespace: new when listed, hostname set" {
	update_config '.hostname = "ns-test-host"'
	set_args sh -c 'hostname; readlink /proc/self/ns/uts'
	run hull run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = ns-test-host ]
	[ "${lines[1]}" != "$(host_ns uts)" ]
	# The host's name is untouched.
	[ "$(hostname)" != ns-test-host ]
}

@test "uts namespace: host's when not listed" {
	remove_namespace uts
	update_config 'del(.hostname)'
	set_args sh -c 'hostname; readlink /proc/self/ns/uts'
	run hull run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(hostname)" ]
	[ "${lines[1]}" = "$(host_ns uts)" ]
}

@test "cgroup namespace: new when listed, cgroup paths are /" {
	add_namespace cgroup
	set_args sh -c 'cat /proc/self/cgroup; readlink /proc/self/ns/cgroup'
	run hull run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" != "$(host_ns cgroup)" ]
	# Every hierarchy line ends in the namespace root.
	local line n=0
	for line in "${lines[@]:0:${#lines[@]}-1}"; do
		[[ "$line" == *:/ ]] || { echo "not a root path: $line"; false; }
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
}

@test "cgroup namespace: host's when not listed, the cgroupsPath shows" {
	remove_namespace cgroup
	set_args sh -c 'cat /proc/self/cgroup; readlink /proc/self/ns/cgroup'
	run hull run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "$(host_ns cgroup)" ]
	[[ "$output" == *":memory:$CGPATH"* ]]
}

@test "user namespace: new with uid/gid mappings" {
	bundle_world_traversable
	add_namespace user
	update_config '.linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 200000, size: 65536}]'
	set_args sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g
		readlink /proc/self/ns/user'
	run hull run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	read -r -a f <<<"${lines[0]}"
	[ "${f[*]}" = "0 100000 65536" ]
	read -r -a f <<<"${lines[1]}"
	[ "${f[*]}" = "0 200000 65536" ]
	[ "${lines[2]}" = 0 ]
	[ "${lines[3]}" = 0 ]
	[ "${lines[4]}" != "$(host_ns user)" ]
}

@test "user namespace: host's when not listed, identity map" {
	set_args sh -c 'cat /proc/self/uid_map; readlink /proc/self/ns/user'
	run hull run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	read -r -a f <<<"${lines[0]}"
	[ "${f[*]}" = "0 0 4294967295" ]
	[ "${lines[1]}" = "$(host_ns user)" ]
}

@test "time namespace: new with linux.timeOffsets" {
	requires_hull
	add_namespace time
	update_config '.linux.timeOffsets = {monotonic: {secs: 86400, nanosecs: 0},
		boottime: {secs: 172800, nanosecs: 0}}'
	set_args sh -c 'cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime
		readlink /proc/self/ns/time'
	local host_up
	host_up=$(cut -d. -f1 /proc/uptime)
	run hull run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	read -r -a f <<<"${lines[0]}"
	[ "${f[*]}" = "monotonic 86400 0" ]
	read -r -a f <<<"${lines[1]}"
	[ "${f[*]}" = "boottime 172800 0" ]
	# /proc/uptime counts boottime: the offset shows in it.
	[ "${lines[2]}" -ge $((host_up + 172800)) ]
	[ "${lines[2]}" -lt $((host_up + 172800 + 60)) ]
	[ "${lines[3]}" != "$(host_ns time)" ]
}

@test "time namespace: host's when not listed" {
	[ -e /proc/self/ns/time ] || skip_reason "kernel without time namespaces"
	run_in_container readlink /proc/self/ns/time
	[ "$status" -eq 0 ]
	[ "$output" = "$(host_ns time)" ]
}

@test "namespaces joined by path" {
	local before
	before=$(host_ns net)
	unshare --net --uts sleep 300 3>&- </dev/null >/dev/null 2>&1 &
	HOLDER_PID=$!
	# unshare execs sleep in the same process: wait until the switch happened.
	local _
	for _ in $(seq 50); do
		[ "$(readlink "/proc/$HOLDER_PID/ns/net" 2>/dev/null)" != "$before" ] && break
		sleep 0.1
	done
	local want_net want_uts
	want_net=$(readlink "/proc/$HOLDER_PID/ns/net")
	want_uts=$(readlink "/proc/$HOLDER_PID/ns/uts")
	[ "$want_net" != "$before" ]
	update_config ".linux.namespaces |= map(
		if .type == \"network\" then .path = \"/proc/$HOLDER_PID/ns/net\"
		elif .type == \"uts\" then .path = \"/proc/$HOLDER_PID/ns/uts\"
		else . end)"
	update_config '.hostname = "joined-uts"'
	set_args sh -c 'for n in net uts ipc; do readlink /proc/self/ns/$n; done'
	run hull run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$want_net" ]
	[ "${lines[1]}" = "$want_uts" ]
	# The namespaces not given by path are still new.
	[ "${lines[2]}" != "$(host_ns ipc)" ]
	# The hostname was set in the joined namespace.
	[ "$(nsenter --uts="/proc/$HOLDER_PID/ns/uts" hostname)" = joined-uts ]
}
