#!/usr/bin/env bats
# User namespaces as root: linux.uidMappings/gidMappings with many ranges, the
# checks that refuse a bad mapping before anything exists, a user namespace
# joined by path, and exec into a container that has its own user namespace.
# (rootless.bats runs containers as an unprivileged user.)

load helpers

setup() {
	setup_common
	HOLDER_PID=
	bundle_world_traversable
	update_config '.linux.namespaces |= (map(select(.type != "user")) + [{type: "user"}])
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
}

teardown() {
	if [ -n "$HOLDER_PID" ]; then
		kill -9 "$HOLDER_PID" 2>/dev/null || true
		wait "$HOLDER_PID" 2>/dev/null || true
	fi
	teardown_common
}

# The mapped root (an id without a name on the host) walks down to the rootfs:
# mktemp makes 0700 directories.
bundle_world_traversable() {
	local d=$BUNDLE
	while [ "$d" != / ] && [ -n "$d" ]; do
		[ -d "$d" ] && chmod o+x "$d"
		d=$(dirname "$d")
	done
}

# set_maps UID-RANGES GID-RANGES: jq expressions for the two arrays.
set_maps() {
	update_config ".linux.uidMappings = $1 | .linux.gidMappings = $2"
}

# create must fail before anything exists; with hull the message holds each string.
create_fails() {
	hull_detached create --bundle "$BUNDLE" "$ID"
	echo "status $status, output: $output"
	[ "$status" -ne 0 ]
	assert_no_leftovers
	run hull list -q
	[ -z "$output" ]
	if is_hull; then
		hull_detached create --bundle "$BUNDLE" "$ID"
		local s
		for s in "$@"; do
			if [[ "$output" != *"$s"* ]]; then
				echo "hull's message lacks \"$s\""
				return 1
			fi
		done
		[ "$(grep -c . <<<"$output")" -eq 1 ]
	fi
}

# normalize "  0  100000  1" lines to "0 100000 1"
squeeze() {
	awk '{ print $1, $2, $3 }'
}

@test "userns: many uid and gid ranges, each as given" {
	set_maps '[{containerID: 0, hostID: 100000, size: 1000},
		{containerID: 1000, hostID: 300000, size: 10},
		{containerID: 2000, hostID: 400000, size: 1},
		{containerID: 65534, hostID: 165534, size: 1}]' \
		'[{containerID: 0, hostID: 200000, size: 100}, {containerID: 100, hostID: 250000, size: 5}]'
	set_args sh -c 'cat /proc/self/uid_map; echo --; cat /proc/self/gid_map'
	run hull run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "$(sed -n '1,/^--$/p' <<<"$output" | grep -v -- -- | squeeze)" = "0 100000 1000
1000 300000 10
2000 400000 1
65534 165534 1" ]
	[ "$(sed -n '/^--$/,$p' <<<"$output" | grep -v -- -- | squeeze)" = "0 200000 100
100 250000 5" ]
}

@test "userns: ids in the container are the mapped host ids on disk" {
	mkdir "$TEST_DIR/shared"
	chown 100000:100000 "$TEST_DIR/shared"
	chmod 755 "$TEST_DIR/shared"
	set_maps '[{containerID: 0, hostID: 100000, size: 1000}, {containerID: 1000, hostID: 300000, size: 10}]' \
		'[{containerID: 0, hostID: 100000, size: 1000}, {containerID: 1000, hostID: 300000, size: 10}]'
	update_config '.mounts += [{destination: "/tmp", type: "bind", source: $s,
		options: ["rbind", "rw"]}] | .root.readonly = false
		| .process.capabilities |= map_values(. + ["CAP_CHOWN"])' --arg s "$TEST_DIR/shared"
	set_args sh -c 'touch /tmp/a /tmp/b && chown 1005:1003 /tmp/b &&
		chown 7:8 /tmp/a && ls -ln /tmp'
	run hull run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "$(stat -c %u:%g "$TEST_DIR/shared/a")" = 100007:100008 ]
	[ "$(stat -c %u:%g "$TEST_DIR/shared/b")" = 300005:300003 ]
	# A host id outside the map shows as the overflow id inside.
	echo host >"$TEST_DIR/shared/root-owned"
	chmod 644 "$TEST_DIR/shared/root-owned"
	set_args sh -c 'stat -c %u:%g /tmp/root-owned; echo x >>/tmp/root-owned'
	run hull run --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[ "${lines[0]}" = 65534:65534 ]
	[ "$(cat "$TEST_DIR/shared/root-owned")" = host ]
}

@test "userns: 340 ranges, the kernel's limit, work" {
	# Short numbers: 340 lines must stay under a page of text.
	update_config '.linux.uidMappings = [range(0; 340) | {containerID: ., hostID: (1000 + .), size: 1}]'
	set_args sh -c 'wc -l </proc/self/uid_map'
	run hull run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "$output" -eq 340 ]
}

@test "userns: more than 340 ranges fail before anything exists" {
	update_config '.linux.uidMappings = [range(0; 341) | {containerID: ., hostID: (1000 + .), size: 1}]'
	create_fails "linux.uidMappings" "341" "340"
}

@test "userns: a map longer than a page of text fails before anything exists" {
	update_config '.linux.gidMappings = [range(0; 300) |
		{containerID: (1000000000 + .), hostID: (2000000000 + .), size: 1}]'
	create_fails "linux.gidMappings" "4096"
}

@test "userns: overlapping container ranges fail, naming both" {
	set_maps '[{containerID: 0, hostID: 100000, size: 100}, {containerID: 50, hostID: 300000, size: 100}]' \
		'[{containerID: 0, hostID: 100000, size: 65536}]'
	create_fails "linux.uidMappings[1]" "linux.uidMappings[0]" "overlaps"
}

@test "userns: overlapping host ranges fail, naming both" {
	set_maps '[{containerID: 0, hostID: 100000, size: 65536}]' \
		'[{containerID: 0, hostID: 100000, size: 10}, {containerID: 10, hostID: 100005, size: 10},
		{containerID: 20, hostID: 100015, size: 10}]'
	create_fails "linux.gidMappings[1]" "linux.gidMappings[0]" "hostID"
}

@test "userns: a range of size 0 fails" {
	set_maps '[{containerID: 0, hostID: 100000, size: 65536}, {containerID: 70000, hostID: 300000, size: 0}]' \
		'[{containerID: 0, hostID: 100000, size: 65536}]'
	create_fails "linux.uidMappings[1]" "size"
}

@test "userns: a range past the last id fails" {
	set_maps '[{containerID: 4294967000, hostID: 100000, size: 1000}]' \
		'[{containerID: 0, hostID: 100000, size: 65536}]'
	create_fails "linux.uidMappings[0]"
}

@test "userns: a new user namespace without gidMappings fails" {
	update_config 'del(.linux.gidMappings)'
	create_fails "gidMappings"
}

@test "userns: a user namespace joined by path, with its pid namespace" {
	# The holder: a user namespace mapped like the bundle, and a pid namespace it owns.
	unshare --user --pid --fork --kill-child sleep 600 3>&- </dev/null >/dev/null 2>&1 &
	HOLDER_PID=$!
	local pid="" i
	for ((i = 0; i < 50; i++)); do
		pid=$(pgrep -P "$HOLDER_PID" sleep) && break
		sleep 0.1
	done
	[ -n "$pid" ]
	echo "0 100000 65536" >"/proc/$pid/uid_map"
	echo "0 100000 65536" >"/proc/$pid/gid_map"
	update_config '.linux.namespaces |= map(
		if .type == "user" then .path = $u elif .type == "pid" then .path = $p else . end)' \
		--arg u "/proc/$pid/ns/user" --arg p "/proc/$pid/ns/pid"
	set_args sh -c 'readlink /proc/self/ns/user; readlink /proc/self/ns/pid
		cat /proc/self/uid_map; id -u; echo $$'
	run hull run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(readlink "/proc/$pid/ns/user")" ]
	[ "${lines[1]}" = "$(readlink "/proc/$pid/ns/pid")" ]
	[ "$(squeeze <<<"${lines[2]}")" = "0 100000 65536" ]
	[ "${lines[3]}" = 0 ]
	# The holder's sleep is pid 1 there.
	[ "${lines[4]}" -gt 1 ]
	# Mounts, uts, ipc: new ones, owned by the joined user namespace.
	[ "$(readlink "/proc/$pid/ns/user")" != "$(readlink /proc/self/ns/user)" ]
}

@test "userns: a user namespace joined by path, with a new pid namespace of its own" {
	unshare --user --fork --kill-child sleep 600 3>&- </dev/null >/dev/null 2>&1 &
	HOLDER_PID=$!
	local pid="" i
	for ((i = 0; i < 50; i++)); do
		pid=$(pgrep -P "$HOLDER_PID" sleep) && break
		sleep 0.1
	done
	[ -n "$pid" ]
	echo "0 100000 65536" >"/proc/$pid/uid_map"
	echo "0 100000 65536" >"/proc/$pid/gid_map"
	update_config '.linux.namespaces |= map(if .type == "user" then .path = $u else . end)' \
		--arg u "/proc/$pid/ns/user"
	# /proc mounts: the new pid namespace belongs to the joined user namespace
	set_args sh -c 'echo $$; readlink /proc/self/ns/user; cat /proc/self/uid_map; id -u'
	run hull run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = "$(readlink "/proc/$pid/ns/user")" ]
	[ "$(squeeze <<<"${lines[2]}")" = "0 100000 65536" ]
	[ "${lines[3]}" = 0 ]
	# and detached: start, exec, kill, delete
	set_args sleep 600
	run_detached
	wait_for_status "$ID" running
	run hull exec "$ID" sh -c 'echo $$; id -u'
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = 0 ]
	hull delete --force "$ID"
	assert_no_leftovers
}

@test "userns: exec sees the container's user namespace and maps" {
	set_maps '[{containerID: 0, hostID: 100000, size: 1000}, {containerID: 1000, hostID: 300000, size: 10}]' \
		'[{containerID: 0, hostID: 200000, size: 65536}]'
	mkdir -m 1777 "$TEST_DIR/shared"
	update_config '.mounts += [{destination: "/tmp", type: "bind", source: $s,
		options: ["rbind", "rw"]}]' --arg s "$TEST_DIR/shared"
	set_args sleep 600
	run_detached
	wait_for_status "$ID" running
	local pid
	pid=$(state_field "$ID" .pid)
	run hull exec "$ID" sh -c 'cat /proc/self/uid_map; cat /proc/self/gid_map
		readlink /proc/self/ns/user; id -u; id -g'
	[ "$status" -eq 0 ]
	[ "$(squeeze <<<"${lines[0]}")" = "0 100000 1000" ]
	[ "$(squeeze <<<"${lines[1]}")" = "1000 300000 10" ]
	[ "$(squeeze <<<"${lines[2]}")" = "0 200000 65536" ]
	[ "${lines[3]}" = "$(readlink "/proc/$pid/ns/user")" ]
	[ "${lines[4]}" = 0 ]
	[ "${lines[5]}" = 0 ]
	# Another user of the container maps through the same ranges.
	run hull exec --user 1003:7 "$ID" sh -c 'id -u; id -g; touch /tmp/e'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1003 ]
	[ "${lines[1]}" = 7 ]
	[ "$(stat -c %u:%g "$TEST_DIR/shared/e")" = 300003:200007 ]
}
