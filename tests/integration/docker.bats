#!/usr/bin/env bats
# docker (Debian's docker.io 20.10) with hull as a runtime: dockerd started by
# the test with `--add-runtime hull=$HULL`, a private data root, exec root and
# socket, no iptables and no default bridge, in a private mount + network + pid
# namespace; then `docker run --runtime hull ...`.

bats_require_minimum_version 1.5.0

load helpers
load peers

IMAGE=busybox:hull-test

setup_file() {
	command -v dockerd >/dev/null || skip "dockerd is not installed (Debian's docker.io)"
	export DK_DIR="$BATS_FILE_TMPDIR/docker"
	export DK_CG="docker-$$"
	export DK_SOCK=/run/hull-test-docker.sock
	mkdir -p "$DK_DIR"
	peer_ns_start
	in_peer_ns sh -c 'dockerd --data-root "$1/data" --exec-root /run/hull-test-docker \
		--pidfile /run/hull-test-docker.pid -H "unix://$2" --iptables=false \
		--ip6tables=false --bridge=none --exec-opt native.cgroupdriver=cgroupfs \
		--cgroup-parent "/hull-test/$3" --add-runtime "hull=$4" >"$1/dockerd.log" 2>&1 &' \
		_ "$DK_DIR" "$DK_SOCK" "$DK_CG" "$HULL" 3>&-
	local i
	for ((i = 0; i < 150; i++)); do
		dk version >/dev/null 2>&1 && break
		sleep 0.1
	done
	dk version >/dev/null || {
		tail -n 20 "$DK_DIR/dockerd.log" >&2
		return 1
	}
	peer_rootfs_tar "$DK_DIR/rootfs.tar"
	dk import "$DK_DIR/rootfs.tar" "$IMAGE" >/dev/null
}

teardown_file() {
	peer_ns_stop
	peer_remove_cgroups "${DK_CG:-none}"
	rm -rf "${DK_DIR:-/nonexistent}" 2>/dev/null || true
}

setup() {
	NAME="c$BATS_TEST_NUMBER"
}

teardown() {
	if [[ -z "${BATS_TEST_COMPLETED:-}" ]]; then
		echo "--- last \$output (status ${status:-none}):"
		echo "${output:-}"
	fi
	dk rm -f "$NAME" >/dev/null 2>&1 || true
	run dk ps -aq
	[ -z "$output" ] || {
		echo "LEAK: docker containers left: $output" >&2
		return 1
	}
}

dk() {
	in_peer_ns docker -H "unix://$DK_SOCK" "$@" 3>&-
}

drun() {
	dk run --runtime hull --network none "$@"
}

@test "docker: run --rm returns the exit status, env, workdir, user" {
	run drun --rm "$IMAGE" sh -c 'echo out; exit 5'
	[ "$status" -eq 5 ]
	[ "$output" = out ]
	run drun --rm -e FOO=bar -w /tmp -u 1000:1000 "$IMAGE" \
		sh -c 'echo "$FOO $(pwd) $(id -u):$(id -g)"'
	[ "$output" = "bar /tmp 1000:1000" ]
	run -127 drun --rm "$IMAGE" /no/such/binary
	[ "$status" -eq 127 ]
	run -126 drun --rm "$IMAGE" /etc/passwd
	[ "$status" -eq 126 ]
}

@test "docker: the container runs under hull, in the test's cgroup" {
	run drun --rm "$IMAGE" sh -c 'grep -E "memory|0::" /proc/self/cgroup | head -n 1'
	[[ "$output" == *"/hull-test/$DK_CG/"* ]]
	# the shim keeps the runtime's state under runtime-runc/ whatever the
	# binary; that hull reads it shows hull made it (runc's is another format)
	drun -d --name "$NAME" "$IMAGE" sleep 600
	local id
	id="$(dk inspect -f '{{.Id}}' "$NAME")"
	run in_peer_ns "$HULL" --root /run/hull-test-docker/runtime-runc/moby state "$id"
	[ "$(jq -r .status <<<"$output")" = running ]
}

@test "docker: detached run, exec, logs, pause, stop, rm" {
	run drun -d --name "$NAME" "$IMAGE" \
		sh -c 'echo started; trap "exit 3" TERM; while :; do sleep 0.1; done'
	[ "$status" -eq 0 ]
	run dk exec "$NAME" sh -c 'echo exec; exit 4'
	[ "$status" -eq 4 ]
	[ "$output" = exec ]
	run dk exec -t "$NAME" tty
	[[ "$output" == /dev/pts/* ]]
	run dk logs "$NAME"
	[ "$output" = started ]
	run dk pause "$NAME"
	[ "$status" -eq 0 ]
	[ "$(dk inspect -f '{{.State.Status}}' "$NAME")" = paused ]
	run dk unpause "$NAME"
	[ "$status" -eq 0 ]
	run dk stop "$NAME"
	[ "$status" -eq 0 ]
	[ "$(dk inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$NAME")" = "exited 3" ]
	run dk rm "$NAME"
	[ "$status" -eq 0 ]
}

@test "docker: --memory is enforced, -t gives a terminal" {
	run drun --rm --memory 32m "$IMAGE" dd if=/dev/zero of=/dev/null bs=64M count=1
	[ "$status" -eq 137 ]
	run drun --rm -t "$IMAGE" tty </dev/null
	[[ "$output" == /dev/pts/0* ]]
}

@test "docker: --privileged gets every capability the host can give, or fails naming one" {
	# docker asks for all of its 38 capabilities; a host whose bounding set
	# lacks one (CAP_SYS_RESOURCE here) cannot grant them, and runc fails too
	local bnd
	bnd=$((16#$(awk '/CapBnd/ {print $2}' /proc/self/status)))
	run drun --rm --privileged "$IMAGE" sh -c 'grep CapEff /proc/self/status; ls /dev | grep -c .'
	if (((bnd & ((1 << 38) - 1)) == (1 << 38) - 1)); then
		[ "$status" -eq 0 ]
		[[ "${lines[0]}" == CapEff:* ]]
	else
		[ "$status" -ne 0 ]
		[[ "$output" == *"process.capabilities.permitted: CAP_"*" cannot be granted"* ]]
	fi
}

@test "docker: --init, -h, --tmpfs, --shm-size, --sysctl, --oom-score-adj, --device" {
	local script='hostname; grep -E " /t | /dev/shm " /proc/mounts | cut -d" " -f2-4
		cat /proc/sys/kernel/msgmax /proc/self/oom_score_adj; ls /dev/fuse 2>&1
		tr "\0" " " </proc/1/cmdline'
	local dev=()
	[ -c /dev/fuse ] && dev=(--device /dev/fuse)
	run drun --rm --init -h box --tmpfs /t:size=1m --shm-size 2m --sysctl kernel.msgmax=4096 \
		--oom-score-adj 300 "${dev[@]}" "$IMAGE" sh -c "$script"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = box ]
	[ "${lines[1]}" = "/dev/shm tmpfs rw,nosuid,nodev,noexec,relatime,size=2048k" ]
	[[ "${lines[2]}" == "/t tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k"* ]]
	[ "${lines[3]}" = 4096 ]
	[ "${lines[4]}" = 300 ]
	if [ -c /dev/fuse ]; then [ "${lines[5]}" = /dev/fuse ]; fi
	[[ "${lines[6]}" == "/sbin/docker-init -- sh -c "* ]]
}

@test "docker: resources land in the cgroups, --read-only with --user and --group-add" {
	drun -d --name "$NAME" --memory 64m --cpus 0.5 --pids-limit 20 --cpuset-cpus 0 \
		"$IMAGE" sleep 600 >/dev/null
	local id cg
	id=$(dk inspect -f '{{.Id}}' "$NAME")
	if [ -f /sys/fs/cgroup/memory/cgroup.procs ]; then
		cg=/sys/fs/cgroup
		[ "$(cat "$cg/memory/hull-test/$DK_CG/$id/memory.limit_in_bytes")" = 67108864 ]
		[ "$(cat "$cg/cpu/hull-test/$DK_CG/$id/cpu.cfs_quota_us")" = 50000 ]
		[ "$(cat "$cg/pids/hull-test/$DK_CG/$id/pids.max")" = 20 ]
		[ "$(cat "$cg/cpuset/hull-test/$DK_CG/$id/cpuset.cpus")" = 0 ]
	else
		cg=/sys/fs/cgroup/hull-test/$DK_CG/$id
		[ "$(cat "$cg/memory.max")" = 67108864 ]
		[ "$(cat "$cg/pids.max")" = 20 ]
	fi
	dk rm -f "$NAME" >/dev/null
	run drun --rm --read-only --user 1000:1000 --group-add 10 -w /tmp "$IMAGE" \
		sh -c 'id -u; id -G; pwd; touch /x 2>&1'
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = "1000 10" ]
	[ "${lines[2]}" = /tmp ]
	[[ "${lines[3]}" == *"Read-only file system"* ]]
}

@test "docker: exec -u -w -e, kill -s, wait and restart" {
	drun -d --name "$NAME" "$IMAGE" sh -c 'echo start; trap "echo usr1" USR1
		trap "exit 7" TERM; while :; do sleep 0.1; done' >/dev/null
	run dk exec -u 1000 -w /tmp -e X=1 "$NAME" sh -c 'echo "$(id -u) $(pwd) $X"'
	[ "$output" = "1000 /tmp 1" ]
	sleep 0.3
	dk kill -s USR1 "$NAME" >/dev/null
	sleep 0.3
	dk kill -s TERM "$NAME" >/dev/null
	run dk wait "$NAME"
	[ "$output" = 7 ]
	run dk logs "$NAME"
	[ "$output" = $'start\nusr1' ]
	dk restart -t 1 "$NAME" >/dev/null
	[ "$(dk inspect -f '{{.State.Status}}' "$NAME")" = running ]
	dk rm -f "$NAME" >/dev/null
}
