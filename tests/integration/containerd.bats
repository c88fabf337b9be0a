#!/usr/bin/env bats
# containerd (Debian's 1.6) with hull as the runc binary of its runc v2 shim —
# the path Kubernetes takes through containerd's CRI plugin. containerd runs
# with a private config, root, state and socket, in a private mount + network +
# pid namespace whose /run is a tmpfs (containerd 1.6 writes /run/containerd
# whatever its config says).

bats_require_minimum_version 1.5.0

load helpers
load peers

IMAGE=docker.io/library/busybox:hull-test

setup_file() {
	command -v containerd >/dev/null || skip "containerd is not installed"
	export CD_DIR="$BATS_FILE_TMPDIR/containerd"
	export CD_CG="containerd-$$"
	export CD_SOCK=/run/hull-test-containerd/c.sock
	mkdir -p "$CD_DIR"
	cat >"$CD_DIR/config.toml" <<-EOF
		version = 2
		root = "$CD_DIR/root"
		state = "/run/hull-test-containerd/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "$CD_SOCK"
	EOF
	peer_ns_start
	in_peer_ns sh -c 'containerd --config "$1" >"$2" 2>&1 &' _ \
		"$CD_DIR/config.toml" "$CD_DIR/containerd.log" 3>&-
	local i
	for ((i = 0; i < 100; i++)); do
		cctr version >/dev/null 2>&1 && break
		sleep 0.1
	done
	cctr version >/dev/null || {
		cat "$CD_DIR/containerd.log" >&2
		return 1
	}
	peer_oci_archive "$CD_DIR/image.tar" "$IMAGE"
	cctr images import "$CD_DIR/image.tar" >/dev/null
}

teardown_file() {
	peer_ns_stop
	peer_remove_cgroups "${CD_CG:-none}"
	rm -rf "${CD_DIR:-/nonexistent}" 2>/dev/null || true
}

setup() {
	NAME="c$BATS_TEST_NUMBER"
}

teardown() {
	if [[ -z "${BATS_TEST_COMPLETED:-}" ]]; then
		echo "--- last \$output (status ${status:-none}):"
		echo "${output:-}"
	fi
	cctr task kill -s KILL "$NAME" >/dev/null 2>&1 || true
	cctr task rm -f "$NAME" >/dev/null 2>&1 || true
	cctr container rm "$NAME" >/dev/null 2>&1 || true
	run cctr container ls -q
	[ -z "$output" ] || {
		echo "LEAK: containerd containers left: $output" >&2
		return 1
	}
}

cctr() {
	in_peer_ns ctr --address "$CD_SOCK" "$@" 3>&-
}

# crun_ ARGS... IMAGE ID CMD...: ctr run with hull as the runc binary.
crun_() {
	cctr run --runc-binary "$HULL" --cgroup "/hull-test/$CD_CG/$NAME" "$@"
}

# the runtime's state of the task, as hull (or runc) reports it
runtime_state() {
	in_peer_ns "$HULL" --root /run/containerd/runc/default state "$NAME" 3>&- | jq -r .status
}

@test "containerd: ctr run --rm returns the exit status and output" {
	run crun_ --rm "$IMAGE" "$NAME" sh -c 'echo hello; exit 3'
	[ "$status" -eq 3 ]
	[ "$output" = hello ]
	run crun_ --rm --env FOO=bar --cwd /tmp "$IMAGE" "$NAME" sh -c 'echo "$FOO $(pwd)"'
	[ "$status" -eq 0 ]
	[ "$output" = "bar /tmp" ]
}

@test "containerd: a detached task, exec into it, kill it" {
	run crun_ -d "$IMAGE" "$NAME" sh -c 'trap "exit 9" TERM; while :; do sleep 0.1; done'
	[ "$status" -eq 0 ]
	run cctr task ls
	[[ "$output" == *"$NAME"*RUNNING* ]]
	[ "$(runtime_state)" = running ]
	run cctr task exec --exec-id e1 "$NAME" sh -c 'echo "in $(hostname)"; exit 4'
	[ "$status" -eq 4 ]
	run cctr task exec --exec-id e2 "$NAME" sh -c 'cat /proc/1/cmdline | tr "\0" " "'
	[[ "$output" == "sh -c trap"* ]]
	cctr task kill "$NAME"
	local i
	for ((i = 0; i < 50; i++)); do
		run cctr task ls
		[[ "$output" == *STOPPED* ]] && break
		sleep 0.1
	done
	[[ "$output" == *"$NAME"*STOPPED* ]]
	run cctr task rm "$NAME"
	[ "$status" -eq 0 ]
	# the runtime's container went with the task
	run in_peer_ns "$HULL" --root /run/containerd/runc/default list -q
	[ -z "$output" ]
}

@test "containerd: pause and resume" {
	crun_ -d "$IMAGE" "$NAME" sh -c 'while :; do sleep 0.1; done'
	run cctr task pause "$NAME"
	[ "$status" -eq 0 ]
	run cctr task ls
	[[ "$output" == *"$NAME"*PAUSED* ]]
	[ "$(runtime_state)" = paused ]
	[ "$(cat "/sys/fs/cgroup/freezer/hull-test/$CD_CG/$NAME/freezer.state" 2>/dev/null ||
		echo FROZEN)" = FROZEN ]
	run cctr task resume "$NAME"
	[ "$status" -eq 0 ]
	[ "$(runtime_state)" = running ]
	run cctr task exec --exec-id e1 "$NAME" true
	[ "$status" -eq 0 ]
}

@test "containerd: a memory limit is set and enforced" {
	crun_ -d --memory-limit 33554432 "$IMAGE" "$NAME" sleep 600
	local f="/sys/fs/cgroup/memory/hull-test/$CD_CG/$NAME/memory.limit_in_bytes"
	[ -f /sys/fs/cgroup/memory/cgroup.procs ] ||
		f="/sys/fs/cgroup/hull-test/$CD_CG/$NAME/memory.max"
	[ "$(cat "$f")" = 33554432 ]
	run cctr task exec --exec-id e1 "$NAME" dd if=/dev/zero of=/dev/null bs=64M count=1
	[ "$status" -eq 137 ]
	run cctr task exec --exec-id e2 "$NAME" dd if=/dev/zero of=/dev/null bs=8M count=1
	[ "$status" -eq 0 ]
}

@test "containerd: --read-only, --cap-add/--cap-drop, --allow-new-privs and a read-only bind" {
	run crun_ --rm --read-only "$IMAGE" "$NAME" sh -c 'touch /x 2>&1; touch /tmp/y 2>&1 || true'
	[[ "${lines[0]}" == *"Read-only file system"* ]]
	run crun_ --rm --cap-add CAP_NET_ADMIN --cap-drop CAP_CHOWN "$IMAGE" "$NAME" \
		awk '/CapEff|NoNewPrivs/ {print $2}' /proc/self/status
	local eff=$((16#${lines[0]}))
	[ $((eff >> 12 & 1)) -eq 1 ] # CAP_NET_ADMIN
	[ $((eff & 1)) -eq 0 ]       # CAP_CHOWN
	[ "${lines[1]}" = 1 ]
	run crun_ --rm --allow-new-privs "$IMAGE" "$NAME" awk '/NoNewPrivs/ {print $2}' /proc/self/status
	[ "$output" = 0 ]
	local d="$CD_DIR/bind-$BATS_TEST_NUMBER"
	mkdir -p "$d"
	echo host >"$d/f"
	run crun_ --rm --mount "type=bind,src=$d,dst=/m,options=rbind:ro" "$IMAGE" "$NAME" \
		sh -c 'cat /m/f; touch /m/g 2>&1'
	[ "${lines[0]}" = host ]
	[[ "${lines[1]}" == *"Read-only file system"* ]]
	[ ! -e "$d/g" ]
}

@test "containerd: --cpus, --seccomp, --with-ns (joining a task's network) and --uidmap" {
	crun_ -d --cpus 0.5 --seccomp "$IMAGE" "$NAME" sleep 600 >/dev/null
	local f="/sys/fs/cgroup/cpu/hull-test/$CD_CG/$NAME/cpu.cfs_quota_us"
	[ -f /sys/fs/cgroup/cpu/cgroup.procs ] || f="/sys/fs/cgroup/hull-test/$CD_CG/$NAME/cpu.max"
	[[ "$(cat "$f")" == 50000* ]]
	run cctr task exec --exec-id e1 "$NAME" grep Seccomp: /proc/self/status
	[ "$output" = "Seccomp:	2" ]
	# a second container joins the first one's network namespace by path, as
	# Kubernetes' containers join their pod sandbox's
	local pid net
	pid=$(cctr task ls | awk -v n="$NAME" '$1 == n {print $2}')
	net=$(in_peer_ns readlink "/proc/$pid/ns/net")
	run cctr run --runc-binary "$HULL" --cgroup "/hull-test/$CD_CG/${NAME}b" --rm \
		--with-ns "network:/proc/$pid/ns/net" "$IMAGE" "${NAME}b" readlink /proc/self/ns/net
	[ "$output" = "$net" ]
	run cctr run --runc-binary "$HULL" --cgroup "/hull-test/$CD_CG/${NAME}c" --rm \
		--uidmap 0:100000:65536 --gidmap 0:100000:65536 "$IMAGE" "${NAME}c" \
		sh -c 'cat /proc/self/uid_map; id -u'
	[ "$(echo ${lines[0]})" = "0 100000 65536" ]
	[ "${lines[1]}" = 0 ]
}

@test "containerd: exec as another user in another directory; task ps" {
	crun_ -d "$IMAGE" "$NAME" sleep 600 >/dev/null
	run cctr task exec --exec-id e1 --user 1000:1000 --cwd /tmp "$NAME" \
		sh -c 'echo "$(id -u) $(pwd)"; grep CapEff /proc/self/status'
	[ "${lines[0]}" = "1000 /tmp" ]
	[ "${lines[1]}" = "CapEff:	0000000000000000" ]
	run cctr task exec --exec-id e2 "$NAME" sh -c 'exit 5'
	[ "$status" -eq 5 ]
	run cctr task ps "$NAME"
	[ "${#lines[@]}" -eq 2 ] # the header and the task's process
}
