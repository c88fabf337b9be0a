#!/usr/bin/env bats
# podman (Debian's 4.3) with hull as its OCI runtime: `podman --runtime $HULL`,
# conmon and CNI included, in a private mount + network + pid namespace with
# private storage (--root/--runroot through storage.conf) so nothing global is
# touched. The image is the test busybox rootfs, imported offline.

bats_require_minimum_version 1.5.0

load helpers
load peers

IMAGE=localhost/busybox:hull-test

setup_file() {
	command -v podman >/dev/null || skip "podman is not installed"
	export PM_DIR="$BATS_FILE_TMPDIR/podman"
	export PM_CG="podman-$$"
	mkdir -p "$PM_DIR/cni" "$PM_DIR/www"
	# Without CAP_SYS_RESOURCE in the bounding set, podman's default ulimits
	# (nofile 1048576, nproc above podman's own 32768) fail with EPERM.
	cat >"$PM_DIR/containers.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		[network]
		network_backend = "cni"
		cni_plugin_dirs = ["/usr/lib/cni"]
		network_config_dir = "$PM_DIR/cni"
	EOF
	cat >"$PM_DIR/storage.conf" <<-EOF
		[storage]
		driver = "overlay"
		graphroot = "$PM_DIR/graph"
		runroot = "/run/podman-test"
	EOF
	export CONTAINERS_CONF="$PM_DIR/containers.conf"
	export CONTAINERS_STORAGE_CONF="$PM_DIR/storage.conf"
	peer_ns_start
	peer_rootfs_tar "$PM_DIR/rootfs.tar"
	pm import -q "$PM_DIR/rootfs.tar" "$IMAGE" >/dev/null
}

teardown_file() {
	if [[ -n "${PEER_NS:-}" ]]; then
		pm rm -af -t 0 >/dev/null 2>&1 || true
		pm network rm -f hulltest >/dev/null 2>&1 || true
	fi
	peer_ns_stop
	peer_remove_cgroups "${PM_CG:-none}"
	# overlay's work dirs are root-only and busy until the namespace ends
	rm -rf "${PM_DIR:-/nonexistent}" 2>/dev/null || true
}

setup() {
	NAME="c$BATS_TEST_NUMBER"
}

teardown() {
	if [[ -z "${BATS_TEST_COMPLETED:-}" ]]; then
		echo "--- last \$output (status ${status:-none}):"
		echo "${output:-}"
	fi
	pm rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
	pm pod rm -f -t 0 "p$NAME" >/dev/null 2>&1 || true
	# a test must leave no container behind in podman, nor in the runtime
	run pm ps -aq
	[ -z "$output" ] || {
		echo "LEAK: podman containers left: $output" >&2
		return 1
	}
	run in_peer_ns "$HULL" list -q
	[ -z "$output" ] || {
		echo "LEAK: runtime containers left: $output" >&2
		return 1
	}
}

pm() {
	in_peer_ns podman --runtime "$HULL" "$@" 3>&-
}

# prun ARGS...: podman run with the test's cgroup parent and no network unless given.
prun() {
	local net=(--network none)
	[[ " $* " == *" --network "* || " $* " == *" -p "* ]] && net=()
	pm run --cgroup-parent "/hull-test/$PM_CG" "${net[@]}" "$@"
}

@test "podman: run --rm returns the process's exit status and output" {
	run prun --rm "$IMAGE" sh -c 'echo out; echo err >&2; exit 7'
	[ "$status" -eq 7 ]
	[[ "$output" == *out* && "$output" == *err* ]]
	run prun --rm "$IMAGE" true
	[ "$status" -eq 0 ]
	run -127 prun --rm "$IMAGE" /no/such/binary
	[ "$status" -eq 127 ]
}

@test "podman: env, workdir and --user" {
	run prun --rm -e FOO=bar -w /tmp --user 1000:1000 "$IMAGE" \
		sh -c 'echo "$FOO $(pwd) $(id -u):$(id -g)"'
	[ "$status" -eq 0 ]
	[ "$output" = "bar /tmp 1000:1000" ]
}

@test "podman: --read-only" {
	run prun --rm --read-only "$IMAGE" sh -c 'touch /x 2>&1; touch /tmp/y && echo tmp-ok'
	[[ "$output" == *"Read-only file system"* ]]
	[[ "$output" == *tmp-ok* ]]
}

@test "podman: -v bind mounts, read-write and :ro" {
	local d="$PM_DIR/vol-$BATS_TEST_NUMBER"
	mkdir -p "$d"
	echo host >"$d/in"
	run prun --rm -v "$d:/data" "$IMAGE" sh -c 'cat /data/in; echo ctr >/data/out'
	[ "$status" -eq 0 ]
	[ "$output" = host ]
	[ "$(cat "$d/out")" = ctr ]
	run prun --rm -v "$d:/data:ro" "$IMAGE" sh -c 'echo x >/data/out'
	[ "$status" -ne 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	rm -rf "$d"
}

@test "podman: --memory is enforced (the OOM killer ends the process)" {
	run prun --rm --memory 32m "$IMAGE" dd if=/dev/zero of=/dev/null bs=64M count=1
	[ "$status" -eq 137 ]
	run prun --rm --memory 32m "$IMAGE" dd if=/dev/zero of=/dev/null bs=8M count=1
	[ "$status" -eq 0 ]
}

@test "podman: --pids-limit is enforced" {
	run prun --rm --pids-limit 5 "$IMAGE" \
		sh -c 'for i in 1 2 3 4 5 6; do sleep 3 & done 2>&1; wait'
	[[ "$output" == *"can't fork"* ]]
}

@test "podman: -t gives the process a terminal" {
	run prun --rm -t "$IMAGE" sh -c 'tty; echo hi' </dev/null
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == /dev/pts/0* ]]
	[ "${lines[1]}" = $'hi\r' ]
}

@test "podman: detached run, exec, logs, stop, rm" {
	run prun -d --name "$NAME" "$IMAGE" sh -c 'echo started; trap "exit 3" TERM; while :; do sleep 0.1; done'
	[ "$status" -eq 0 ]
	run pm exec "$NAME" sh -c 'echo "exec as $(id -u)"; exit 5'
	[ "$status" -eq 5 ]
	[ "$output" = "exec as 0" ]
	run pm exec -e A=1 -w /tmp "$NAME" sh -c 'echo "$A $(pwd)"'
	[ "$output" = "1 /tmp" ]
	run pm logs "$NAME"
	[ "$output" = started ]
	run pm stop -t 10 "$NAME"
	[ "$status" -eq 0 ]
	run pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$NAME"
	[ "$output" = "exited 3" ]
	run pm rm "$NAME"
	[ "$status" -eq 0 ]
}

@test "podman: pause and unpause" {
	prun -d --name "$NAME" "$IMAGE" sh -c 'while :; do date +%s%N >/tmp/t; sleep 0.05; done'
	run pm pause "$NAME"
	[ "$status" -eq 0 ]
	run pm inspect -f '{{.State.Status}}' "$NAME"
	[ "$output" = paused ]
	run in_peer_ns "$HULL" state "$(pm inspect -f '{{.Id}}' "$NAME")"
	[ "$(jq -r .status <<<"$output")" = paused ]
	run pm unpause "$NAME"
	[ "$status" -eq 0 ]
	run pm exec "$NAME" cat /tmp/t
	[ "$status" -eq 0 ]
	pm rm -f -t 0 "$NAME"
}

@test "podman: --cap-add and --cap-drop" {
	run prun --rm --cap-drop all "$IMAGE" grep CapEff /proc/self/status
	[[ "$output" == *0000000000000000 ]]
	run prun --rm --cap-add NET_ADMIN "$IMAGE" grep CapEff /proc/self/status
	local eff=$((16#${output##*:[[:space:]]}))
	[ $((eff >> 12 & 1)) -eq 1 ]
	run prun --rm --cap-drop CHOWN "$IMAGE" sh -c 'touch /tmp/f && chown 1000 /tmp/f'
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
}

@test "podman: its default seccomp profile is loaded; unconfined is not" {
	[ -x "$HULL_BUILD_DIR/syscall-probe" ] || skip "tests/helpers/syscall-probe was not built"
	# podman's profile answers what it does not list (add_key) with ENOSYS
	run prun --rm "$IMAGE" sh -c 'grep Seccomp: /proc/self/status; syscall-probe add_key'
	[[ "${lines[0]}" == *2 ]]
	[ "${lines[1]}" = "add_key ENOSYS" ]
	run prun --rm --security-opt seccomp=unconfined "$IMAGE" \
		sh -c 'grep Seccomp: /proc/self/status; syscall-probe add_key'
	[[ "${lines[0]}" == *0 ]]
	[[ "${lines[1]}" == "add_key "* && "${lines[1]}" != "add_key ENOSYS" ]]
}

@test "podman: --network none has only loopback" {
	run prun --rm "$IMAGE" ls /sys/class/net
	[ "$output" = lo ]
}

@test "podman: a CNI bridge network with a port published on 127.0.0.1" {
	pm network create --subnet 10.89.7.0/24 hulltest >/dev/null
	echo "hello from hull" >"$PM_DIR/www/index.html"
	run prun -d --name "$NAME" --network hulltest -p 127.0.0.1:18080:80 \
		-v "$PM_DIR/www:/www:ro" "$IMAGE" httpd -f -p 80 -h /www
	[ "$status" -eq 0 ]
	local i
	for ((i = 0; i < 50; i++)); do
		run in_peer_ns busybox wget -qO- http://127.0.0.1:18080/
		[ "$status" -eq 0 ] && break
		sleep 0.1
	done
	[ "$output" = "hello from hull" ]
	run prun --rm --network hulltest "$IMAGE" sh -c 'ip -4 -o addr show eth0'
	[[ "$output" == *"inet 10.89.7."* ]]
	pm rm -f -t 0 "$NAME" >/dev/null
	pm network rm hulltest >/dev/null
	# CNI DEL took the port mapping away with the container
	run in_peer_ns iptables -t nat -S
	[[ "$output" != *18080* ]]
}

@test "podman: --init, --hostname, --tmpfs, --shm-size and --sysctl" {
	local script='hostname; grep " /t " /proc/mounts; stat -c %a /t; grep " /dev/shm " /proc/mounts; cat /proc/sys/kernel/msgmax; tr "\0" " " </proc/1/cmdline'
	run prun --rm --init --hostname box --tmpfs /t:size=1m,mode=1700 --shm-size 2m \
		--sysctl kernel.msgmax=4096 "$IMAGE" sh -c "$script"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = box ]
	[[ "${lines[1]}" == "tmpfs /t tmpfs rw,nosuid,nodev,"*"size=1024k,mode=1700 0 0" ]]
	[ "${lines[2]}" = 1700 ]
	[[ "${lines[3]}" == *"size=2048k"* ]]
	[ "${lines[4]}" = 4096 ]
	[[ "${lines[5]}" == "/run/podman-init -- sh -c "* ]]
}

@test "podman: --privileged has every capability, the host's devices and a writable /sys" {
	run prun --rm --privileged "$IMAGE" sh -c 'grep -E "CapEff|Seccomp:" /proc/self/status
		grep " /sys " /proc/mounts; ls /dev'
	[ "$status" -eq 0 ]
	local bnd
	bnd=$(awk '/CapBnd/ {print $2}' /proc/self/status)
	[ "${lines[0]}" = "CapEff:	$bnd" ]
	[ "${lines[1]}" = "Seccomp:	0" ]
	[[ "${lines[2]}" == "sysfs /sys sysfs rw,"* ]]
	[[ " ${lines[*]} " == *" kmsg "* ]]
}

@test "podman: --device, --device-cgroup-rule and --uidmap" {
	[ -c /dev/fuse ] || skip "the host has no /dev/fuse"
	run prun --rm --device /dev/fuse --device-cgroup-rule 'c 1:11 r' "$IMAGE" \
		sh -c 'ls -l /dev/fuse; cat /sys/fs/cgroup/devices/devices.list 2>/dev/null | sort'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "crw"*" 10, "*"229 "*"/dev/fuse" ]]
	if [[ -d /sys/fs/cgroup/devices ]]; then
		[[ " ${lines[*]} " == *" c 10:229 rwm "* ]]
		[[ " ${lines[*]} " == *" c 1:11 r "* ]]
	fi
	run prun --rm --uidmap 0:100000:65536 --gidmap 0:100000:65536 "$IMAGE" \
		sh -c 'cat /proc/self/uid_map; id -u; stat -c %u /bin/busybox'
	[ "$status" -eq 0 ]
	[ "$(echo ${lines[0]})" = "0 100000 65536" ]
	[ "${lines[1]}" = 0 ]
	[ "${lines[2]}" = 0 ]
}

@test "podman: exec with -u -w -e, -t, -i, -d, --privileged, and a missing command" {
	prun -d --name "$NAME" "$IMAGE" sleep 100 >/dev/null
	run pm exec -u 1000:1000 -w /tmp -e X=1 "$NAME" sh -c 'echo "$(id -u):$(id -g) $(pwd) $X"'
	[ "$output" = "1000:1000 /tmp 1" ]
	run pm exec -t "$NAME" tty </dev/null
	[[ "$output" == /dev/pts/* ]]
	run in_peer_ns bash -c 'echo piped | podman --runtime "$1" exec -i "$2" cat' _ "$HULL" "$NAME"
	[ "$output" = piped ]
	pm exec -d "$NAME" sh -c 'echo detached >/tmp/d' >/dev/null
	local i
	for ((i = 0; i < 50; i++)); do
		run pm exec "$NAME" cat /tmp/d
		[ "$output" = detached ] && break
		sleep 0.1
	done
	[ "$output" = detached ]
	run pm exec --privileged "$NAME" awk '/CapEff/ {print $2}' /proc/self/status
	[ "$output" = "$(awk '/CapBnd/ {print $2}' /proc/self/status)" ]
	run -127 pm exec "$NAME" /nonexistent
	[[ "$output" == *"/nonexistent"* ]]
	pm rm -f -t 0 "$NAME" >/dev/null
}

@test "podman: kill -s, wait, restart, and stop escalating to SIGKILL" {
	prun -d --name "$NAME" "$IMAGE" sh -c 'echo start; trap "echo usr1" USR1
		trap "exit 9" TERM; while :; do sleep 0.1; done' >/dev/null
	sleep 0.3
	pm kill -s USR1 "$NAME" >/dev/null
	sleep 0.3
	pm kill -s TERM "$NAME" >/dev/null
	run pm wait "$NAME"
	[ "$output" = 9 ]
	run pm logs "$NAME"
	[ "$output" = $'start\nusr1' ]
	pm restart -t 0 "$NAME" >/dev/null
	run pm inspect -f '{{.State.Status}}' "$NAME"
	[ "$output" = running ]
	pm rm -f -t 0 "$NAME" >/dev/null
	# a process that ignores SIGTERM is killed once the stop timeout is up
	prun -d --name "$NAME" "$IMAGE" sh -c 'trap "" TERM; while :; do sleep 0.1; done' >/dev/null
	run pm stop -t 1 "$NAME"
	[ "$status" -eq 0 ]
	run pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$NAME"
	[ "$output" = "exited 137" ]
	pm rm "$NAME" >/dev/null
}

@test "podman: healthcheck run, top and cp" {
	prun -d --name "$NAME" --health-cmd 'test -e /tmp/ok' "$IMAGE" sleep 100 >/dev/null 2>&1
	run pm healthcheck run "$NAME"
	[ "$status" -eq 1 ]
	pm exec "$NAME" touch /tmp/ok
	run pm healthcheck run "$NAME"
	[ "$status" -eq 0 ]
	run pm top "$NAME" args
	[[ "$output" == *"sleep 100"* ]]
	echo copied-in >"$PM_DIR/cp-in"
	pm cp "$PM_DIR/cp-in" "$NAME:/tmp/x"
	run pm exec "$NAME" cat /tmp/x
	[ "$output" = copied-in ]
	pm cp "$NAME:/tmp/x" "$PM_DIR/cp-out"
	[ "$(cat "$PM_DIR/cp-out")" = copied-in ]
	pm rm -f -t 0 "$NAME" >/dev/null
}

@test "podman: a pod's containers join its namespaces (as a Kubernetes pod's do)" {
	# podman's infra container holds the namespaces; the others join them by path
	pm pod create --name "p$NAME" --share net,ipc,uts,pid --network none \
		--infra-image "$IMAGE" --infra-command "sleep 1000" \
		--cgroup-parent "/hull-test/$PM_CG" >/dev/null
	pm pod start "p$NAME" >/dev/null
	pm run -d --pod "p$NAME" --name "$NAME" "$IMAGE" sleep 100 >/dev/null
	local ns='for n in net ipc uts pid; do readlink /proc/self/ns/$n; done'
	run pm exec "$NAME" sh -c "$ns"
	local first=$output
	run pm run --rm --pod "p$NAME" "$IMAGE" sh -c "$ns; hostname; ps -o args | grep -cx 'sleep 100'"
	[ "$status" -eq 0 ]
	[ "$(head -n 4 <<<"$output")" = "$first" ]
	[ "${lines[4]}" = "p$NAME" ]
	[ "${lines[5]}" = 1 ]
	run pm pod rm -f -t 0 "p$NAME"
	[ "$status" -eq 0 ]
}

@test "podman: --tmpfs starts with what the image has there (tmpcopyup)" {
	run prun --rm --tmpfs /etc "$IMAGE" sh -c 'grep " /etc " /proc/mounts | cut -d" " -f3
		grep -c "^root:" /etc/passwd'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = tmpfs ]
	[ "${lines[1]}" = 1 ]
	run prun --rm --tmpfs /etc:notmpcopyup "$IMAGE" sh -c 'ls -A /etc | grep -c passwd'
	[ "$output" = 0 ]
}
