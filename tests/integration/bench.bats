#!/usr/bin/env bats
# bench/floor.c, the least a container start costs, which bench/run times next
# to the runtimes: with -c it also makes, joins and removes the container's
# cgroups, and must leave none behind.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	requires_root
	setup_common
	FLOOR="$TEST_DIR/floor"
	cc -std=gnu11 -O2 -Wall -Wextra -Werror -static -o "$FLOOR" "$REPO_ROOT/bench/floor.c"
	# floor -c wants the parent to exist, with cpus and mems in a v1 cpuset one
	local h f
	while read -r h; do
		mkdir -p "$h/hull-test"
		[[ -e "$h/hull-test/cpuset.cpus" ]] || continue
		for f in cpus mems; do
			[[ -n "$(cat "$h/hull-test/cpuset.$f")" ]] ||
				cat "$h/cpuset.$f" >"$h/hull-test/cpuset.$f"
		done
	done < <(_cgroup_hierarchies)
}

teardown() {
	local h
	while read -r h; do
		rmdir "$h/hull-test/$ID/x" "$h/hull-test/$ID" 2>/dev/null || true
	done < <(_cgroup_hierarchies)
	teardown_common
}

@test "floor: runs the program as pid 1 of its namespaces and returns its status" {
	# shellcheck disable=SC2016 # expanded by the container's shell
	run "$FLOOR" "$BUNDLE/rootfs" /bin/sh -c 'echo "pid $$ host $(hostname)"; exit 3'
	[ "$status" -eq 3 ]
	[[ "$output" == "pid 1 host "* ]]
}

@test "floor -c: the program runs in the cgroup in every hierarchy; it is gone after" {
	run "$FLOOR" -c "$CGPATH" "$BUNDLE/rootfs" /bin/cat /proc/self/cgroup
	[ "$status" -eq 0 ]
	local h n=0
	while read -r h; do
		n=$((n + 1))
	done < <(_cgroup_hierarchies)
	[ "$n" -gt 0 ]
	# one line per hierarchy the process is in; the mounted ones say CGPATH
	[ "$(grep -c ":$CGPATH\$" <<<"$output")" -eq "$n" ]
	[ -z "$(cgroup_dirs "$ID")" ]
	assert_no_leftovers
}

@test "floor -c: a relative path is refused with the usage" {
	run "$FLOOR" -c "hull-test/$ID" "$BUNDLE/rootfs"
	[ "$status" -eq 2 ]
	[[ "$output" == *"usage: floor [-c /CGROUP] ROOTFS"* ]]
	[ -z "$(cgroup_dirs "$ID")" ]
}

@test "floor -c: a hierarchy without the parent fails, naming it, and undoes the others" {
	# the parent $CGPATH everywhere but in the last hierarchy
	local h last=""
	while read -r h; do
		[[ -n "$last" ]] && mkdir "$last/hull-test/$ID"
		last=$h
	done < <(_cgroup_hierarchies)
	[[ -n "$last" ]]
	run -127 "$FLOOR" -c "$CGPATH/x" "$BUNDLE/rootfs"
	[ "$status" -eq 127 ]
	[[ "$output" == *"$last/hull-test/$ID/x: No such file or directory"* ]]
	while read -r h; do
		[ ! -e "$h/hull-test/$ID/x" ]
	done < <(_cgroup_hierarchies)
}

@test "floor -c on a pure cgroup v2 layout: the child is born in the leaf, removed after" {
	[[ -d /sys/fs/cgroup/unified/hull-test ]] || skip "no cgroup2 hierarchy at /sys/fs/cgroup/unified"
	# cgroup2 on /sys/fs/cgroup, as bench/run --cgroup2 has it: in a mount
	# namespace of the test's own
	# shellcheck disable=SC2016 # expanded by the inner shell
	run unshare -m --propagation private sh -c '
		umount -R /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup || exit 99
		"$0" -c "$1" "$2" /bin/cat /proc/self/cgroup
		echo "rc=$?"
		[ -e "/sys/fs/cgroup$1" ] && echo "left: $1"
		true' "$FLOOR" "$CGPATH" "$BUNDLE/rootfs"
	[ "$status" -eq 0 ]
	[[ "$output" == *"0::$CGPATH"* ]]
	[[ "$output" == *"rc=0"* ]]
	[[ "$output" != *"left:"* ]]
}
