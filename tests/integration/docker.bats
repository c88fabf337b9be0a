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
