#!/usr/bin/env bats
# Rootless containers. A real unprivileged user, made for this file (with its
# own ranges in /etc/subuid and /etc/subgid), runs the runtime from its own
# credentials (setpriv) on a bundle it owns, with the state under its
# XDG_RUNTIME_DIR; each test checks what the container's process sees. The
# user is removed and /etc/subuid, /etc/subgid restored afterwards.

load helpers

RL_SUB=700000 # the user's subordinate ids: RL_SUB .. RL_SUB+65535

setup_file() {
	[[ "$EUID" -eq 0 ]] || skip "requires root (to make the test user)"
	command -v newuidmap >/dev/null || skip "newuidmap is not installed (Debian package uidmap)"
	RL_USER="hullrl$$"
	RL_DIR="$(mktemp -d /tmp/hull-rootless.XXXXXX)"
	chmod 755 "$RL_DIR"
	cp -p /etc/subuid "$RL_DIR/subuid.orig" 2>/dev/null || : >"$RL_DIR/subuid.orig"
	cp -p /etc/subgid "$RL_DIR/subgid.orig" 2>/dev/null || : >"$RL_DIR/subgid.orig"
	useradd -M -U -s /bin/sh "$RL_USER"
	# useradd may have given the user ranges of its own: only ours count.
	cp -p "$RL_DIR/subuid.orig" /etc/subuid
	cp -p "$RL_DIR/subgid.orig" /etc/subgid
	echo "$RL_USER:$RL_SUB:65536" >>/etc/subuid
	echo "$RL_USER:$RL_SUB:65536" >>/etc/subgid
	RL_UID="$(id -u "$RL_USER")"
	RL_GID="$(id -g "$RL_USER")"
	# The runtime must be executable by the user wherever the tree was checked out.
	cp "$HULL" "$RL_DIR/runtime"
	chmod 755 "$RL_DIR/runtime"
	RL_XDG="$RL_DIR/xdg"
	mkdir -m 700 "$RL_XDG"
	chown "$RL_UID:$RL_GID" "$RL_XDG"
	export RL_USER RL_DIR RL_UID RL_GID RL_XDG
}

teardown_file() {
	[[ -n "${RL_USER:-}" ]] || return 0
	_kill_user_processes
	userdel "$RL_USER" 2>/dev/null || true
	groupdel "$RL_USER" 2>/dev/null || true
	cp -p "$RL_DIR/subuid.orig" /etc/subuid
	cp -p "$RL_DIR/subgid.orig" /etc/subgid
	rm -rf --one-file-system "$RL_DIR"
}

# Only the test user's processes, each by its pid: everything it runs is ours.
_kill_user_processes() {
	local p
	for p in $(pgrep -u "$RL_UID"); do
		kill -9 "$p" 2>/dev/null || true
	done
}

setup() {
	setup_common
	HOLDER_PID=
	UB="$RL_DIR/t$BATS_TEST_NUMBER"
	mkdir -p "$UB"
	cp -a "$BUNDLE/rootfs" "$UB/rootfs"
	chown -R "$RL_UID:$RL_GID" "$UB"
	RL_ENV=()
	run uhull spec --rootless --bundle "$UB"
	[ "$status" -eq 0 ]
	ucfg '.process.terminal = false | .process.args = ["true"]'
}

teardown() {
	local id
	if [ -n "$HOLDER_PID" ]; then
		kill -9 "$HOLDER_PID" 2>/dev/null || true
		wait "$HOLDER_PID" 2>/dev/null || true
	fi
	RL_ENV=()
	for id in $(uhull list -q 2>/dev/null); do
		uhull delete --force "$id" >/dev/null 2>&1 || true
	done
	if [ -n "$(pgrep -u "$RL_UID")" ]; then
		echo "LEAK: processes of $RL_USER left:" >&2
		ps -u "$RL_UID" -o pid=,args= >&2
		_kill_user_processes
		teardown_common
		return 1
	fi
	rm -rf --one-file-system "$UB"
	teardown_common
}

# as_user CMD...: CMD with the test user's credentials and a fresh environment.
# RL_ENV holds extra VAR=value words for it.
as_user() {
	timeout --foreground -k 5 "$HULL_CMD_TIMEOUT" \
		setpriv --reuid="$RL_UID" --regid="$RL_GID" --init-groups --reset-env \
		env XDG_RUNTIME_DIR="$RL_XDG" ASAN_OPTIONS="${ASAN_OPTIONS:-}" \
		UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" "${RL_ENV[@]}" "$@" 3>&-
}

uhull() {
	as_user "$RL_DIR/runtime" "$@"
}

# Edit the user's config.json (jq FILTER [ARGS...]); it stays the user's.
ucfg() {
	local f="$UB/config.json"
	jq "${@:2}" "$1" "$f" >"$f.new" && cat "$f.new" >"$f" && rm -f "$f.new"
}

uargs() {
	local a json="[]"
	for a in "$@"; do
		json="$(jq -c '. + [$a]' --arg a "$a" <<<"$json")"
	done
	ucfg '.process.args = $a' --argjson a "$json"
}

# udetached ARGS...: a runtime command that leaves a container running. Its
# output goes through a file: a container holding bats' pipe would block `run`.
udetached() {
	status=0
	uhull "$@" </dev/null >"$UB/ctr.log" 2>&1 || status=$?
	output="$(cat "$UB/ctr.log")"
}

# The user runs the container in the foreground; $status $output as bats' run.
urun() {
	uargs "$@"
	run uhull run --bundle "$UB" "$ID"
}

# No state, no process of the user, no cgroup: what a failed create must leave.
assert_user_clean() {
	local bad=0
	if [ -e "$RL_XDG/hull/$ID" ] || [ -e "$RL_XDG/runc/$ID" ]; then
		echo "leftover state dir of $ID" >&2
		bad=1
	fi
	if pgrep -u "$RL_UID" | grep -qvx "${HOLDER_PID:-none}"; then
		echo "leftover processes:" >&2
		ps -u "$RL_UID" -o pid=,args= >&2
		bad=1
	fi
	if [ -n "$(cgroup_dirs "$ID")" ]; then
		echo "leftover cgroups: $(cgroup_dirs "$ID")" >&2
		bad=1
	fi
	return "$bad"
}

# create must fail before anything exists; with hull the message holds each string.
ucreate_fails() {
	run uhull create --bundle "$UB" "$ID"
	echo "status $status, output: $output"
	[ "$status" -ne 0 ]
	assert_user_clean
	if is_hull; then
		local s
		for s in "$@"; do
			if [[ "$output" != *"$s"* ]]; then
				echo "hull's message lacks \"$s\""
				return 1
			fi
		done
	fi
}

squeeze() {
	awk '{ print $1, $2, $3 }'
}

@test "rootless: spec --rootless is a config for the calling user" {
	local f="$UB/config.json"
	jq -e '[.linux.namespaces[].type] | (index("user") != null and index("network") == null)' "$f"
	jq -e --argjson u "$RL_UID" '.linux.uidMappings == [{containerID: 0, hostID: $u, size: 1}]' "$f"
	jq -e --argjson g "$RL_GID" '.linux.gidMappings == [{containerID: 0, hostID: $g, size: 1}]' "$f"
	jq -e '.mounts[] | select(.destination == "/sys") | .options | index("rbind") != null' "$f"
	jq -e '[.mounts[] | select(.destination == "/dev/pts") | .options[] |
		select(startswith("gid=") or startswith("uid="))] == []' "$f"
	jq -e '.linux.resources == null and .linux.cgroupsPath == null' "$f"
}

@test "rootless: spec --rootless runs as is; root inside is the user outside" {
	urun sh -c 'cat /proc/self/uid_map; cat /proc/self/gid_map; id -u; id -g
		stat -c %u:%g /bin/busybox; readlink /proc/self/ns/user'
	[ "$status" -eq 0 ]
	[ "$(squeeze <<<"${lines[0]}")" = "0 $RL_UID 1" ]
	[ "$(squeeze <<<"${lines[1]}")" = "0 $RL_GID 1" ]
	[ "${lines[2]}" = 0 ]
	[ "${lines[3]}" = 0 ]
	# The user's files are root's in the container.
	[ "${lines[4]}" = 0:0 ]
	[ "${lines[5]}" != "$(readlink /proc/self/ns/user)" ]
	[[ "$output" != *warning* ]]
	assert_user_clean
}

@test "rootless: host files keep their owners; root's stay read-only" {
	echo host-data >"$RL_DIR/root-file-$BATS_TEST_NUMBER"
	chmod 644 "$RL_DIR/root-file-$BATS_TEST_NUMBER"
	mkdir "$UB/data"
	chown "$RL_UID:$RL_GID" "$UB/data"
	ucfg '.mounts += [{destination: "/host-file", type: "bind", source: $f, options: ["bind", "rw"]},
		{destination: "/data", type: "bind", source: $d, options: ["rbind", "rw"]}]' \
		--arg f "$RL_DIR/root-file-$BATS_TEST_NUMBER" --arg d "$UB/data"
	urun sh -c 'stat -c %u:%g /host-file; cat /host-file
		if echo x >>/host-file; then echo WRITABLE; fi
		if chmod 666 /host-file; then echo CHMODDED; fi
		touch /data/made; stat -c %u:%g /data/made'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 65534:65534 ]
	[ "${lines[1]}" = host-data ]
	[[ "$output" != *WRITABLE* ]]
	[[ "$output" != *CHMODDED* ]]
	[ "${lines[-1]}" = 0:0 ]
	[ "$(cat "$RL_DIR/root-file-$BATS_TEST_NUMBER")" = host-data ]
	[ "$(stat -c %a "$RL_DIR/root-file-$BATS_TEST_NUMBER")" = 644 ]
	# Made by root in the container: the user's on the host.
	[ "$(stat -c %u:%g "$UB/data/made")" = "$RL_UID:$RL_GID" ]
	rm -f "$RL_DIR/root-file-$BATS_TEST_NUMBER"
}

@test "rootless: many ranges from /etc/subuid and /etc/subgid, through newuidmap" {
	mkdir "$UB/data"
	chown "$RL_UID:$RL_GID" "$UB/data"
	ucfg '.linux.uidMappings = [{containerID: 0, hostID: $u, size: 1},
			{containerID: 1, hostID: $s, size: 1000},
			{containerID: 2000, hostID: ($s + 5000), size: 10}]
		| .linux.gidMappings = [{containerID: 0, hostID: $g, size: 1},
			{containerID: 1, hostID: $s, size: 65536}]
		| .mounts += [{destination: "/data", type: "bind", source: $d, options: ["rbind", "rw"]}]
		| .process.capabilities |= map_values(. + ["CAP_CHOWN"])' \
		--argjson u "$RL_UID" --argjson g "$RL_GID" --argjson s "$RL_SUB" --arg d "$UB/data"
	urun sh -c 'cat /proc/self/uid_map; echo --; cat /proc/self/gid_map; echo --
		touch /data/a /data/b; chown 5:7 /data/a; chown 2003:100 /data/b'
	[ "$status" -eq 0 ]
	[ "$(sed -n '1,/^--$/p' <<<"$output" | grep -v -- -- | squeeze)" = "0 $RL_UID 1
1 $RL_SUB 1000
2000 $((RL_SUB + 5000)) 10" ]
	[ "$(sed -n '/^--$/,/^--$/p' <<<"$output" | grep -v -- -- | squeeze)" = "0 $RL_GID 1
1 $RL_SUB 65536" ]
	[ "$(stat -c %u:%g "$UB/data/a")" = "$((RL_SUB + 4)):$((RL_SUB + 6))" ]
	[ "$(stat -c %u:%g "$UB/data/b")" = "$((RL_SUB + 5003)):$((RL_SUB + 99))" ]
}

@test "rootless: a uid range the user does not own fails, naming /etc/subuid" {
	ucfg '.linux.uidMappings = [{containerID: 0, hostID: $u, size: 1},
		{containerID: 1, hostID: 900000, size: 10}]' --argjson u "$RL_UID"
	ucreate_fails /etc/subuid "linux.uidMappings[1]" 900000-900009 "$RL_SUB-$((RL_SUB + 65535))"
}

@test "rootless: a gid range the user does not own fails, naming /etc/subgid" {
	ucfg '.linux.gidMappings = [{containerID: 0, hostID: $g, size: 1},
		{containerID: 1, hostID: ($s + 60000), size: 10000}]' \
		--argjson g "$RL_GID" --argjson s "$RL_SUB"
	ucreate_fails /etc/subgid "linux.gidMappings[1]" "$((RL_SUB + 60000))-$((RL_SUB + 69999))"
}

@test "rootless: overlapping ranges fail before anything exists" {
	ucfg '.linux.uidMappings = [{containerID: 0, hostID: $u, size: 1},
		{containerID: 1, hostID: $s, size: 100}, {containerID: 50, hostID: ($s + 1000), size: 10}]' \
		--argjson u "$RL_UID" --argjson s "$RL_SUB"
	ucreate_fails "linux.uidMappings[2]" "linux.uidMappings[1]" overlaps
}

@test "rootless: more than the kernel's 340 ranges fail before anything exists" {
	ucfg '.linux.uidMappings = [{containerID: 0, hostID: $u, size: 1}] +
		[range(1; 341) | {containerID: ., hostID: ($s + .), size: 1}]' \
		--argjson u "$RL_UID" --argjson s "$RL_SUB"
	ucreate_fails "linux.uidMappings" 340
}

@test "rootless: a range of size 0 fails before anything exists" {
	ucfg '.linux.uidMappings += [{containerID: 1, hostID: $s, size: 0}]' --argjson s "$RL_SUB"
	ucreate_fails "linux.uidMappings[1]"
}

@test "rootless: the state root is \$XDG_RUNTIME_DIR/hull, and must be the user's" {
	requires_hull
	uargs sleep 600
	udetached run --detach --bundle "$UB" "$ID"
	[ "$status" -eq 0 ]
	[ -d "$RL_XDG/hull/$ID" ]
	[ "$(stat -c %u "$RL_XDG/hull/$ID")" = "$RL_UID" ]
	run uhull kill "$ID" KILL
	[ "$status" -eq 0 ]
	RL_ENV=(XDG_RUNTIME_DIR=)
	run uhull list
	[ "$status" -ne 0 ]
	[[ "$output" == *XDG_RUNTIME_DIR*"--root"* ]]
	RL_ENV=(XDG_RUNTIME_DIR="$RL_DIR")
	run uhull list
	[ "$status" -ne 0 ]
	[[ "$output" == *"XDG_RUNTIME_DIR=$RL_DIR"*"uid 0"*"uid $RL_UID"* ]]
	# --root needs no XDG_RUNTIME_DIR; spec needs no state at all.
	RL_ENV=(XDG_RUNTIME_DIR=)
	mkdir "$UB/state"
	chown "$RL_UID" "$UB/state"
	uargs echo with-root
	run uhull --root "$UB/state" run --bundle "$UB" "$ID-2"
	[ "$status" -eq 0 ]
	[ "$output" = with-root ]
	mkdir "$UB/b2"
	chown "$RL_UID" "$UB/b2"
	run uhull spec --rootless --bundle "$UB/b2"
	[ "$status" -eq 0 ]
	RL_ENV=()
	wait_user_status stopped
}

# wait_user_status STATUS: the user's container $ID reaches STATUS within 5 s.
wait_user_status() {
	local i got=""
	for ((i = 0; i < 100; i++)); do
		got=$(uhull state "$ID" 2>/dev/null | jq -r .status) || got=""
		[ "$got" = "$1" ] && return 0
		sleep 0.05
	done
	echo "status $got, expected $1" >&2
	return 1
}

@test "rootless: a cgroupsPath the user may not write: a warning, no cgroup, it runs" {
	requires_hull # runc 1.1.5 fails on the first v1 hierarchy it may not write
	ucfg '.linux.cgroupsPath = $cg' --arg cg "$CGPATH"
	urun sh -c 'echo ran'
	[ "$status" -eq 0 ]
	[[ "$output" == *ran* ]]
	if is_hull; then
		[[ "$output" == *warning*cgroup*"$CGPATH"* ]]
	fi
	[ -z "$(cgroup_dirs "$ID")" ]
	assert_user_clean
}

@test "rootless: cgroups delegated to the user are used, the others left out" {
	requires_hull
	# Delegate the v1 hierarchies' cgroup (as root: the directory, cgroup.procs and
	# tasks become the user's); cgroup2 stays root's, and is left out.
	local h d sub v2=""
	for h in $(_cgroup_hierarchies); do
		if [ -e "$h/cgroup.controllers" ]; then
			v2="$h"
			continue
		fi
		d="$h"
		for sub in hull-test "$ID"; do
			d="$d/$sub"
			mkdir -p "$d"
			if [ -e "$d/cpuset.cpus" ]; then
				cat "$(dirname "$d")/cpuset.cpus" >"$d/cpuset.cpus"
				cat "$(dirname "$d")/cpuset.mems" >"$d/cpuset.mems"
			fi
		done
		chown "$RL_UID" "$d" "$d/cgroup.procs" "$d/tasks"
	done
	ucfg '.linux.cgroupsPath = $cg | .linux.namespaces |= map(select(.type != "cgroup"))' \
		--arg cg "$CGPATH"
	urun cat /proc/self/cgroup
	for h in $(_cgroup_hierarchies); do
		[ "$h" = "$v2" ] || rmdir "$h$CGPATH"
	done
	[ "$status" -eq 0 ]
	[[ "$output" == *":memory:$CGPATH"* ]]
	[[ "$output" == *":pids:$CGPATH"* ]]
	if [ -n "$v2" ]; then
		[[ "$output" == *warning*"$v2"*"left out"* ]]
		[[ "$output" != *"0::$CGPATH"* ]]
	fi
}

@test "rootless: linux.resources without a delegated cgroup: a clear error, nothing left" {
	ucfg '.linux.cgroupsPath = $cg | .linux.resources = {memory: {limit: 67108864}}' \
		--arg cg "$CGPATH"
	ucreate_fails "linux.resources.memory" "cannot set" "$CGPATH"
	ucfg 'del(.linux.cgroupsPath) | .linux.resources = {pids: {limit: 10}}'
	ucreate_fails "linux.resources.pids" "cgroupsPath"
}

@test "rootless: --rootless false makes an unwritable cgroup an error; bad values fail" {
	requires_hull
	ucfg '.linux.cgroupsPath = $cg' --arg cg "$CGPATH"
	uargs echo ran
	run uhull --rootless false run --bundle "$UB" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *cgroup* ]]
	[[ "$output" != *ran* ]]
	assert_user_clean
	run uhull --rootless maybe list
	[ "$status" -ne 0 ]
	[[ "$output" == *--rootless*true*false*auto* ]]
	run uhull --rootless true run --bundle "$UB" "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *ran* ]]
}

@test "rootless: create, start, exec, kill and delete as the user" {
	uargs sleep 600
	udetached create --bundle "$UB" "$ID"
	[ "$status" -eq 0 ]
	run uhull start "$ID"
	[ "$status" -eq 0 ]
	wait_user_status running
	local pid
	pid=$(uhull state "$ID" | jq -r .pid)
	[ "$(stat -c %u "/proc/$pid")" = "$RL_UID" ]
	# An exec'd process joins the container's user namespace first (ASan's leak
	# checker cannot stop a process that left the host's user namespace).
	RL_ENV=(ASAN_OPTIONS=detect_leaks=0)
	run uhull exec "$ID" sh -c 'cat /proc/self/uid_map; readlink /proc/self/ns/user
		readlink /proc/self/ns/pid; id -u'
	RL_ENV=()
	[ "$status" -eq 0 ]
	[ "$(squeeze <<<"${lines[0]}")" = "0 $RL_UID 1" ]
	[ "${lines[1]}" = "$(readlink "/proc/$pid/ns/user")" ]
	[ "${lines[2]}" = "$(readlink "/proc/$pid/ns/pid")" ]
	[ "${lines[3]}" = 0 ]
	run uhull kill "$ID" KILL
	[ "$status" -eq 0 ]
	wait_user_status stopped
	run uhull delete "$ID"
	[ "$status" -eq 0 ]
	assert_user_clean
}

@test "rootless: a sysfs mount without a network namespace is the host's, bound" {
	requires_hull # runc 1.1.5 fails with EPERM; later runc binds /sys too
	ucfg '.mounts |= map(if .destination == "/sys" then
		{destination: "/sys", type: "sysfs", source: "sysfs", options: ["nosuid", "noexec", "nodev", "ro"]}
		else . end)'
	urun sh -c 'ls /sys/kernel >/dev/null && echo sys-ok; if touch /sys/x 2>/dev/null; then echo RW; fi'
	[ "$status" -eq 0 ]
	[ "$output" = sys-ok ]
}

@test "rootless: device nodes are the host's, bound; mknod is refused" {
	urun sh -c 'stat -c %t:%T /dev/null; echo x >/dev/null && echo null-ok
		head -c 4 /dev/zero | wc -c; if mknod /dev/new c 1 3 2>/dev/null; then echo MKNOD; fi'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1:3 ]
	[ "${lines[1]}" = null-ok ]
	[ "${lines[2]}" = 4 ]
	[[ "$output" != *MKNOD* ]]
}

@test "rootless: a user namespace of the user's own, joined by path" {
	# The user's holder: a user namespace where it is root, made with unshare.
	setpriv --reuid="$RL_UID" --regid="$RL_GID" --init-groups --reset-env \
		unshare --user --map-root-user sleep 600 3>&- </dev/null >/dev/null 2>&1 &
	HOLDER_PID=$!
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(readlink "/proc/$HOLDER_PID/ns/user")" != "$(readlink /proc/self/ns/user)" ] && break
		sleep 0.1
	done
	ucfg '.linux.namespaces |= map(if .type == "user" then .path = $p else . end)' \
		--arg p "/proc/$HOLDER_PID/ns/user"
	RL_ENV=(ASAN_OPTIONS=detect_leaks=0)
	urun sh -c 'readlink /proc/self/ns/user; cat /proc/self/uid_map; id -u; echo $$'
	RL_ENV=()
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "$(readlink "/proc/$HOLDER_PID/ns/user")" ]
	[ "$(squeeze <<<"${lines[1]}")" = "0 $RL_UID 1" ]
	[ "${lines[2]}" = 0 ]
	# A new pid namespace, the user namespace's own.
	[ "${lines[3]}" = 1 ]
}
