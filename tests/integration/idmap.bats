#!/usr/bin/env bats
# Idmapped bind mounts: mounts[].uidMappings/gidMappings and the "idmap" and
# "ridmap" options (runtime-spec 1.1+, runc 1.2). A mapping entry reads as for
# a user namespace: a file owned by containerID on disk shows as hostID through
# the mount, and a file made by hostID lands on disk as containerID.
# runc 1.1.5 has no idmapped mounts, so these are hull-only.
# shellcheck disable=SC2016 # jq filters and sh -c scripts are single-quoted on purpose
# shellcheck disable=SC2030,SC2031 # bats runs each test in a subshell

load helpers

setup() {
	requires_root
	requires_hull
	setup_common
	HOST_MOUNTS=()
	SRC="$TEST_DIR/src"
	mkdir -p "$SRC"
}

teardown() {
	local i
	for ((i = ${#HOST_MOUNTS[@]} - 1; i >= 0; i--)); do
		umount -R "${HOST_MOUNTS[$i]}" 2>/dev/null || umount -l "${HOST_MOUNTS[$i]}" || true
	done
	teardown_common
}

# add_idmount DEST SOURCE OPTIONS-JSON [UIDMAPS-JSON GIDMAPS-JSON]
add_idmount() {
	local m
	m=$(jq -nc --arg d "$1" --arg s "$2" --argjson o "$3" \
		'{destination: $d, type: "bind", source: $s, options: $o}')
	if [ $# -ge 4 ]; then
		m=$(jq -c --argjson u "$4" --argjson g "$5" '. + {uidMappings: $u, gidMappings: $g}' \
			<<<"$m")
	fi
	update_config '.mounts += [$m]' --argjson m "$m"
}

# map C H S: one mapping entry as JSON
map() {
	jq -nc --argjson c "$1" --argjson h "$2" --argjson s "$3" \
		'[{containerID: $c, hostID: $h, size: $s}]'
}

# The mapped root (uid 100000 on the host) must walk down to the rootfs.
userns_container() {
	local d=$BUNDLE
	while [ "$d" != / ] && [ -n "$d" ]; do
		[ -d "$d" ] && chmod o+x "$d"
		d=$(dirname "$d")
	done
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]'
	# the container's root cannot make directories in a rootfs owned by the host's
	mkdir -p "$BUNDLE/rootfs/mnt/id" "$BUNDLE/rootfs/mnt/plain" "$BUNDLE/rootfs/mnt/m"
}

# create must fail, leave nothing behind, and say every given string.
create_fails() {
	local s
	hull_detached create --bundle "$BUNDLE" "$ID"
	echo "status $status, output: $output"
	[ "$status" -ne 0 ]
	for s in "$@"; do
		[[ "$output" == *"$s"* ]]
	done
	assert_no_leftovers
}

@test "idmap: mount mappings without a user namespace, both directions" {
	touch "$SRC/root-owned"
	touch "$SRC/user-owned"
	# root inside may write only to a directory whose owner it can see
	chown 1000:1000 "$SRC/user-owned" "$SRC"
	add_idmount /mnt/fwd "$SRC" '["bind"]' "$(map 0 1000 1)" "$(map 0 1000 1)"
	add_idmount /mnt/rev "$SRC" '["bind"]' "$(map 1000 0 1)" "$(map 1000 0 1)"
	run_in_container sh -c 'stat -c %u:%g /mnt/fwd/root-owned /mnt/rev/user-owned
		touch /mnt/rev/made-inside && stat -c %u:%g /mnt/rev/made-inside'
	[ "$status" -eq 0 ]
	# disk 0 shows as 1000; disk 1000 shows as 0; root's new file is 1000 on disk
	[ "${lines[0]}" = 1000:1000 ]
	[ "${lines[1]}" = 0:0 ]
	[ "${lines[2]}" = 0:0 ]
	[ "$(stat -c %u:%g "$SRC/made-inside")" = 1000:1000 ]
}

@test "idmap: a write by an unmapped id fails with EOVERFLOW" {
	add_idmount /mnt/m "$SRC" '["bind"]' "$(map 0 1000 1)" "$(map 0 1000 1)"
	run_in_container sh -c 'touch /mnt/m/x'
	[ "$status" -ne 0 ]
	[[ "$output" == *"Value too large"* ]]
	[ ! -e "$SRC/x" ]
}

@test "idmap: a file source, with options and several extents" {
	echo hello >"$SRC/f"
	chown 2001:3002 "$SRC/f"
	add_idmount /etc/mapped-file "$SRC/f" '["bind", "ro", "nosuid"]' \
		'[{"containerID": 1000, "hostID": 0, "size": 1},
		  {"containerID": 2000, "hostID": 10, "size": 5}]' \
		'[{"containerID": 3000, "hostID": 20, "size": 5},
		  {"containerID": 1000, "hostID": 0, "size": 1}]'
	run_in_container sh -c 'cat /etc/mapped-file; stat -c %u:%g /etc/mapped-file
		grep " /etc/mapped-file " /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = hello ]
	[ "${lines[1]}" = 11:22 ]
	[[ "${lines[2]}" == *" ro,nosuid"* ]]
	[[ "${lines[2]}" == *"idmapped"* ]]
}

@test "idmap: the same mapping twice and a relative source" {
	mkdir -p "$BUNDLE/rel"
	chown 1000:1000 "$BUNDLE/rel"
	add_idmount /mnt/a rel '["bind"]' "$(map 1000 0 1)" "$(map 1000 0 1)"
	add_idmount /mnt/b "$SRC" '["rbind", "idmap"]' "$(map 1000 0 1)" "$(map 1000 0 1)"
	chown 1000:1000 "$SRC"
	run_in_container stat -c %u:%g /mnt/a /mnt/b
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0:0 ]
	[ "${lines[1]}" = 0:0 ]
}

@test "idmap: create and start, then the trees are in the container only" {
	chown 1000:1000 "$SRC"
	add_idmount /mnt/m "$SRC" '["bind"]' "$(map 1000 0 1)" "$(map 1000 0 1)"
	set_args sh -c 'stat -c %u:%g /mnt/m; sleep 100'
	create_container
	# The runtime is gone; no idmapped mount of ours is on the host.
	run awk -v s="$SRC" 'index($0, "idmapped") && index($0, s)' /proc/self/mountinfo
	[ -z "$output" ]
	hull start "$ID"
	for _ in $(seq 50); do
		grep -q : "$CTR_LOG" && break
		sleep 0.1
	done
	[ "$(cat "$CTR_LOG")" = 0:0 ]
	hull kill "$ID" KILL
	wait_for_status "$ID" stopped
	hull delete "$ID"
	assert_no_leftovers
}

@test "idmap: with its own user namespace, \"idmap\" takes linux.uidMappings" {
	userns_container
	touch "$SRC/root-owned"
	touch "$SRC/ns-root-owned"
	chown 100000:100000 "$SRC/ns-root-owned"
	add_idmount /mnt/id "$SRC" '["bind", "idmap"]'
	add_idmount /mnt/plain "$SRC" '["bind"]'
	run_in_container sh -c 'stat -c %u:%g /mnt/id/root-owned /mnt/plain/ns-root-owned \
		/mnt/plain/root-owned
		touch /mnt/id/made-inside && stat -c %u:%g /mnt/id/made-inside'
	[ "$status" -eq 0 ]
	# idmapped: the host's root files are the container root's
	[ "${lines[0]}" = 0:0 ]
	# a plain bind: only files of host uid 100000 are root's, host root is nobody
	[ "${lines[1]}" = 0:0 ]
	[ "${lines[2]}" = 65534:65534 ]
	[ "${lines[3]}" = 0:0 ]
	[ "$(stat -c %u:%g "$SRC/made-inside")" = 0:0 ]
}

@test "idmap: with its own user namespace and mount mappings of its own" {
	userns_container
	touch "$SRC/f"
	chown 7:8 "$SRC/f"
	# disk 7 shows as host 100005, the container's uid 5; gid 8 as 100006, its 6
	add_idmount /mnt/m "$SRC" '["bind"]' "$(map 7 100005 1)" "$(map 8 100006 1)"
	run_in_container stat -c %u:%g /mnt/m/f
	[ "$status" -eq 0 ]
	[ "$output" = 5:6 ]
}

@test "idmap: ridmap covers a submount of an rbind, idmap does not" {
	mkdir -p "$TEST_DIR/other" "$SRC/sub"
	touch "$TEST_DIR/other/f" "$SRC/top"
	chown 1000:1000 "$TEST_DIR/other/f" "$SRC/top"
	mount --bind "$TEST_DIR/other" "$SRC/sub"
	HOST_MOUNTS+=("$SRC/sub")
	add_idmount /mnt/r "$SRC" '["rbind", "ridmap"]' "$(map 1000 0 1)" "$(map 1000 0 1)"
	add_idmount /mnt/n "$SRC" '["rbind", "idmap"]' "$(map 1000 0 1)" "$(map 1000 0 1)"
	add_idmount /mnt/d "$SRC" '["rbind"]' "$(map 1000 0 1)" "$(map 1000 0 1)"
	run_in_container sh -c 'stat -c %u:%g /mnt/r/top /mnt/r/sub/f /mnt/n/top /mnt/n/sub/f \
		/mnt/d/top /mnt/d/sub/f'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0:0 ]
	[ "${lines[1]}" = 0:0 ]
	[ "${lines[2]}" = 0:0 ]
	[ "${lines[3]}" = 1000:1000 ]
	# mappings without either option: like runc, not recursive
	[ "${lines[4]}" = 0:0 ]
	[ "${lines[5]}" = 1000:1000 ]
}

@test "idmap: on a tmpfs mount is an error naming the mount" {
	update_config '.mounts += [{destination: "/mnt/t", type: "tmpfs", source: "tmpfs",
		options: ["idmap"]}]'
	n=$(jq '.mounts | length - 1' "$BUNDLE/config.json")
	create_fails "mounts[$n]" "must be a bind mount" tmpfs
}

@test "idmap: mappings on a tmpfs mount are an error too" {
	update_config '.mounts += [{destination: "/mnt/t", type: "tmpfs", source: "tmpfs",
		uidMappings: [{containerID: 0, hostID: 1000, size: 1}],
		gidMappings: [{containerID: 0, hostID: 1000, size: 1}]}]'
	n=$(jq '.mounts | length - 1' "$BUNDLE/config.json")
	create_fails "mounts[$n]" "must be a bind mount"
}

@test "idmap: overlapping mappings are an error" {
	add_idmount /mnt/m "$SRC" '["bind"]' \
		'[{"containerID": 0, "hostID": 1000, "size": 10},
		  {"containerID": 5, "hostID": 5000, "size": 10}]' "$(map 0 1000 1)"
	n=$(jq '.mounts | length - 1' "$BUNDLE/config.json")
	create_fails "mounts[$n].uidMappings[1]" "containerID range overlaps" \
		"mounts[$n].uidMappings[0]"
	update_config 'del(.mounts[-1])'
	add_idmount /mnt/m "$SRC" '["bind"]' "$(map 0 1000 1)" \
		'[{"containerID": 0, "hostID": 1000, "size": 10},
		  {"containerID": 50, "hostID": 1009, "size": 1}]'
	create_fails "mounts[$n].gidMappings[1]" "hostID range overlaps"
}

@test "idmap: a range past the last id is an error" {
	# 4294967290 + 5 ends on 4294967294, the last id a map may hold; one more is too far
	add_idmount /mnt/m "$SRC" '["bind"]' "$(map 4294967291 0 5)" "$(map 0 0 1)"
	create_fails "uidMappings[0]" "past id 4294967294"
	update_config 'del(.mounts[-1])'
	add_idmount /mnt/m "$SRC" '["bind"]' "$(map 0 4294967291 5)" "$(map 0 0 1)"
	create_fails "uidMappings[0]" "past id 4294967294"
	update_config 'del(.mounts[-1])'
	add_idmount /mnt/m "$SRC" '["bind"]' "$(map 4294967290 0 5)" "$(map 0 0 1)"
	run_in_container true
	[ "$status" -eq 0 ]
}

@test "idmap: more extents than the kernel allows (340) is an error" {
	local many
	many=$(jq -nc '[range(341) | {containerID: (. * 10), hostID: (. * 10), size: 1}]')
	add_idmount /mnt/m "$SRC" '["bind"]' "$many" "$(map 0 0 1)"
	create_fails "uidMappings" "341 entries" "at most 340"
}

@test "idmap: 340 extents are fine" {
	local many
	many=$(jq -nc '[range(340) | {containerID: (. * 10), hostID: (. * 10 + 1), size: 1}]')
	touch "$SRC/f"
	chown 30:30 "$SRC/f"
	add_idmount /mnt/m "$SRC" '["bind"]' "$many" "$many"
	run_in_container stat -c %u:%g /mnt/m/f
	[ "$status" -eq 0 ]
	[ "$output" = 31:31 ]
}

@test "idmap: uidMappings without gidMappings is an error" {
	update_config '.mounts += [{destination: "/mnt/m", type: "bind", source: $s,
		options: ["bind"], uidMappings: [{containerID: 0, hostID: 1000, size: 1}]}]' \
		--arg s "$SRC"
	create_fails "mounts[" "gidMappings is missing"
}

@test "idmap: \"idmap\" without mappings and without a user namespace is an error" {
	add_idmount /mnt/m "$SRC" '["bind", "idmap"]'
	create_fails "mounts[" '"idmap"' "user namespace"
	update_config '.mounts[-1].options = ["rbind", "ridmap"]'
	create_fails "mounts[" '"ridmap"' "user namespace"
}

@test "idmap: a filesystem without idmapped mounts is an error naming mount and source" {
	mkdir -p "$TEST_DIR/ramfs"
	mount -t ramfs hull-test-ramfs "$TEST_DIR/ramfs"
	HOST_MOUNTS+=("$TEST_DIR/ramfs")
	add_idmount /mnt/m "$TEST_DIR/ramfs" '["bind"]' "$(map 0 1000 1)" "$(map 0 1000 1)"
	n=$(jq '.mounts | length - 1' "$BUNDLE/config.json")
	create_fails "mounts[$n]" "$TEST_DIR/ramfs" "does not support idmapped mounts" ramfs
	run hull run --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"does not support idmapped mounts"* ]]
	assert_no_leftovers
}

@test "idmap: a missing source is an error naming it" {
	add_idmount /mnt/m "$TEST_DIR/nope" '["bind"]' "$(map 0 1000 1)" "$(map 0 1000 1)"
	create_fails "mounts[" "$TEST_DIR/nope"
}

@test "idmap: a failure in the init after the trees were made leaves nothing" {
	chown 1000:1000 "$SRC"
	add_idmount /mnt/m "$SRC" '["bind"]' "$(map 1000 0 1)" "$(map 1000 0 1)"
	update_config '.process.cwd = "/no/such/dir"'
	update_config '.process.args = ["/no-such-binary"]'
	create_fails
	run awk -v s="$SRC" 'index($0, s)' /proc/self/mountinfo
	[ -z "$output" ]
}
