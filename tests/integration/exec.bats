#!/usr/bin/env bats
# exec: a new process in a running container, with runc's flags. Every test runs
# a real container (run -d, `sleep`) and execs into it.

load helpers

setup() {
	setup_common
	RECVTTY_PID=
	update_config '.process.noNewPrivileges = false'
}

teardown() {
	if [ -n "$RECVTTY_PID" ]; then
		kill "$RECVTTY_PID" 2>/dev/null || true
		wait "$RECVTTY_PID" 2>/dev/null || true
	fi
	teardown_common
}

# start_ctr: the container's init sleeps; it is running when this returns.
start_ctr() {
	set_args sleep 600
	run_detached
	wait_for_status "$ID" running
	INIT_PID=$(state_field "$ID" .pid)
}

# proc_field NAME: the value of "NAME:" in a /proc/PID/status dump in $output.
proc_field() {
	awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' <<<"$output"
}

@test "exec: the exit status comes back" {
	start_ctr
	run hull exec "$ID" sh -c 'echo hello; exit 42'
	[ "$status" -eq 42 ]
	[ "$output" = hello ]
	run hull exec "$ID" true
	[ "$status" -eq 0 ]
}

@test "exec: killed by a signal is 128+N" {
	start_ctr
	run hull exec "$ID" sh -c 'kill -9 $$'
	[ "$status" -eq 137 ]
	run hull exec "$ID" sh -c 'kill -TERM $$'
	[ "$status" -eq 143 ]
}

@test "exec: signals to the runtime reach the process" {
	start_ctr
	local rc=0 pid i
	"$HULL" --root "$ROOT" exec "$ID" sh -c 'trap "exit 9" TERM; echo ready; while :; do sleep 0.1; done' \
		</dev/null >"$TEST_DIR/sig.out" 2>&1 3>&- &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		grep -q ready "$TEST_DIR/sig.out" && break
		sleep 0.05
	done
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	[ "$rc" -eq 9 ]
}

@test "exec: the container's seccomp filter applies" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
		| .root.readonly = false'
	start_ctr
	run hull exec "$ID" sh -c 'grep Seccomp: /proc/self/status; mkdir /tmp/d'
	[ "$status" -ne 0 ]
	[[ "${lines[0]}" == *2 ]]
	[[ "$output" == *"Operation not permitted"* ]]
	run hull exec --no-new-privs "$ID" sh -c 'mkdir /tmp/d'
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
}

@test "exec: into a created container" {
	set_args sleep 600
	create_container
	run hull exec "$ID" sh -c 'echo $$; cat /proc/1/cmdline | tr "\0" " "'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" -gt 1 ]
	[[ "${lines[1]}" != "sleep 600 " ]]
}

@test "exec: -- separates the command's own flags" {
	requires_hull # runc takes a "--" after the id as the command
	start_ctr
	run hull exec "$ID" -- sh -c 'echo "$0"' -x
	[ "$status" -eq 0 ]
	[ "$output" = -x ]
}

@test "exec: env and cwd, from the config and the flags" {
	update_config '.process.env = ["PATH=/bin:/usr/bin", "FROMCFG=1", "OVER=old"]'
	start_ctr
	run hull exec --env FOO=bar --env 'SP=a b' --env OVER=new --cwd /tmp "$ID" \
		sh -c 'echo "$FOO|$SP|$FROMCFG|$OVER|$HOME"; pwd'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "bar|a b|1|new|/root" ]
	[ "${lines[1]}" = /tmp ]
	run hull exec "$ID" pwd
	[ "$output" = / ]
}

@test "exec: --user and --additional-gids" {
	start_ctr
	run hull exec --user 1000:1000 -g 10 -g 20 "$ID" cat /proc/self/status
	[ "$status" -eq 0 ]
	[ "$(proc_field Uid)" = "1000 1000 1000 1000" ]
	[ "$(proc_field Gid)" = "1000 1000 1000 1000" ]
	[ "$(proc_field Groups)" = "10 20" ]
	run hull exec --user 1000 "$ID" sh -c 'id -u; id -g; echo "$HOME"'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 0 ]
	[ "${lines[2]}" = /home/tuser ]
}

@test "exec: the process is in every namespace of the init" {
	update_config '.linux.namespaces += [{"type": "cgroup"}] | .linux.namespaces |= unique_by(.type)'
	start_ctr
	local ns want
	want=""
	for ns in user mnt pid net ipc uts cgroup time; do
		want+="$ns $(readlink "/proc/$INIT_PID/ns/$ns")"$'\n'
	done
	run hull exec "$ID" sh -c 'for ns in user mnt pid net ipc uts cgroup time; do
		echo "$ns $(readlink /proc/self/ns/$ns)"; done'
	[ "$status" -eq 0 ]
	[ "$output" = "${want%$'\n'}" ]
	# PID-visible in the container's PID namespace: a small PID, and the init is 1.
	run hull exec "$ID" sh -c 'echo $$; cat /proc/1/cmdline | tr "\0" " "'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" -lt 100 ]
	[ "${lines[1]}" = "sleep 600 " ]
	run hull exec "$ID" hostname
	[ "$output" = "$(hull exec "$ID" sh -c 'cat /proc/sys/kernel/hostname')" ]
}

# userns_config: the container gets a user namespace, root mapped to host uid 200000.
userns_config() {
	local d=$BUNDLE
	while [ "$d" != / ] && [ -n "$d" ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
	update_config '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 200000, "size": 65536}]'
}

@test "exec: joins a user namespace (first) and a time namespace" {
	# runc 1.1.5 cannot start this container here ("error reopening /dev/null"),
	# and has no time namespace.
	requires_hull
	userns_config
	update_config '.linux.namespaces += [{"type": "time"}]
		| .linux.timeOffsets = {"boottime": {"secs": 86400, "nanosecs": 0}}'
	start_ctr
	run hull exec --user 1000:1000 "$ID" sh -c 'for ns in user mnt pid time; do
		echo "$ns $(readlink /proc/self/ns/$ns)"; done; id -u; cat /proc/self/uid_map'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "user $(readlink "/proc/$INIT_PID/ns/user")" ]
	[ "${lines[1]}" = "mnt $(readlink "/proc/$INIT_PID/ns/mnt")" ]
	[ "${lines[2]}" = "pid $(readlink "/proc/$INIT_PID/ns/pid")" ]
	[ "${lines[3]}" = "time $(readlink "/proc/$INIT_PID/ns/time")" ]
	[ "${lines[0]}" != "user $(readlink /proc/self/ns/user)" ]
	[ "${lines[4]}" = 1000 ]
	[[ "${lines[5]}" =~ ^\ *0\ +200000\ +65536$ ]]
	# The boot-time clock (uptime) is a day ahead, as for the init.
	run hull exec "$ID" cat /proc/uptime
	[ "$status" -eq 0 ]
	local host_up ctr_up
	host_up=$(cut -d. -f1 /proc/uptime)
	ctr_up=$(cut -d. -f1 <<<"$output")
	[ $((ctr_up - host_up)) -ge 86000 ]
	# Owned by the mapped user on the host.
	hull_detached exec -d --pid-file "$TEST_DIR/exec.pid" "$ID" sleep 600
	[ "$status" -eq 0 ]
	[ "$(stat -c %u "/proc/$(cat "$TEST_DIR/exec.pid")")" = 200000 ]
	kill -9 "$(cat "$TEST_DIR/exec.pid")"
}

@test "exec: the process is in the container's cgroups" {
	start_ctr
	run hull exec "$ID" cat /proc/self/cgroup
	[ "$status" -eq 0 ]
	local self=$output
	run hull exec "$ID" cat /proc/1/cgroup
	[ "$output" = "$self" ]
	# From the host: its PID is listed in every one of the container's cgroups.
	hull_detached exec -d --pid-file "$TEST_DIR/exec.pid" "$ID" sleep 600
	[ "$status" -eq 0 ]
	local pid d n=0
	pid=$(cat "$TEST_DIR/exec.pid")
	for d in $(cgroup_dirs "$ID"); do
		grep -qx "$pid" "$d/cgroup.procs"
		n=$((n + 1))
	done
	[ "$n" -gt 0 ]
	kill -9 "$pid"
}

@test "exec: --cap adds a capability" {
	start_ctr
	run hull exec "$ID" cat /proc/self/status
	[ "$status" -eq 0 ]
	local eff
	eff=$(proc_field CapEff)
	[ $((0x$eff & (1 << 21))) -eq 0 ] # CAP_SYS_ADMIN
	[ $((0x$eff & (1 << 5))) -ne 0 ]  # CAP_KILL, from the config
	run hull exec --cap CAP_SYS_ADMIN --cap CAP_NET_RAW "$ID" cat /proc/self/status
	[ "$status" -eq 0 ]
	eff=$(proc_field CapEff)
	[ $((0x$eff & (1 << 21))) -ne 0 ]
	[ $((0x$eff & (1 << 13))) -ne 0 ]
	[ $((0x$(proc_field CapBnd) & (1 << 21))) -ne 0 ]
	[ $((0x$eff & (1 << 5))) -ne 0 ]
}

@test "exec: --no-new-privs" {
	start_ctr
	run hull exec "$ID" cat /proc/self/status
	[ "$(proc_field NoNewPrivs)" = 0 ]
	run hull exec --no-new-privs "$ID" cat /proc/self/status
	[ "$status" -eq 0 ]
	[ "$(proc_field NoNewPrivs)" = 1 ]
}

@test "exec: the container's rlimits, unless process.json sets its own" {
	update_config '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 777, "hard": 888}]'
	start_ctr
	run hull exec "$ID" sh -c 'ulimit -n; ulimit -Hn'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 777 ]
	[ "${lines[1]}" = 888 ]
	jq '.process | .args = ["sh", "-c", "ulimit -n"]
		| .rlimits = [{"type": "RLIMIT_NOFILE", "soft": 555, "hard": 666}]' \
		"$BUNDLE/config.json" >"$TEST_DIR/process.json"
	run hull exec --process "$TEST_DIR/process.json" "$ID"
	[ "$status" -eq 0 ]
	[ "$output" = 555 ]
}

@test "exec: --process FILE" {
	start_ctr
	cat >"$TEST_DIR/process.json" <<-'EOF'
		{
			"terminal": false,
			"user": {"uid": 1000, "gid": 1000, "additionalGids": [30]},
			"args": ["sh", "-c", "echo \"$A\"; pwd; id -u; id -G"],
			"env": ["PATH=/bin", "A=from-process-json"],
			"cwd": "/home/tuser"
		}
	EOF
	run hull exec -p "$TEST_DIR/process.json" "$ID"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = from-process-json ]
	[ "${lines[1]}" = /home/tuser ]
	[ "${lines[2]}" = 1000 ]
	[ "${lines[3]}" = "1000 30" ]
}

@test "exec: a bad process.json is refused with its name" {
	start_ctr
	echo '{"cwd": "/", "args": []}' >"$TEST_DIR/process.json"
	run hull exec --process "$TEST_DIR/process.json" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *args* ]]
}

@test "exec: --tty with --console-socket" {
	[ -x "$RECVTTY" ] || skip_reason "no recvtty at $RECVTTY (built by tests/run)"
	start_ctr
	local sock=$TEST_DIR/console.sock i
	"$RECVTTY" --pid-file "$TEST_DIR/recvtty.pid" "$sock" </dev/null >"$TEST_DIR/tty.out" 2>&1 3>&- &
	RECVTTY_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$TEST_DIR/recvtty.pid" ] && break
		sleep 0.05
	done
	hull_detached exec -t -d --console-socket "$sock" "$ID" \
		sh -c 'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty'
	[ "$status" -eq 0 ]
	for ((i = 0; i < 200; i++)); do
		kill -0 "$RECVTTY_PID" 2>/dev/null || break
		sleep 0.05
	done
	wait "$RECVTTY_PID"
	RECVTTY_PID=
	output=$(tr -d '\r' <"$TEST_DIR/tty.out")
	mapfile -t lines <<<"$output"
	[[ "${lines[0]}" == /dev/pts/* ]]
	[ "${lines[1]}" = all-tty ]
}

@test "exec: --tty in the foreground proxies the terminal" {
	requires_hull # runc wants its stdin to be a terminal
	start_ctr
	run hull exec -t "$ID" sh -c 'tty; exit 3'
	[ "$status" -eq 3 ]
	[[ "$(tr -d '\r' <<<"$output")" == *"/dev/pts/"* ]]
}

@test "exec: --tty on a real terminal: its size, and the exit status" {
	command -v script >/dev/null || skip_reason "no script(1)"
	start_ctr
	run timeout 30 script -qec "stty rows 33 cols 97; '$HULL' --root '$ROOT' exec -t '$ID' \
		sh -c 'stty size; exit 4'" /dev/null
	[ "$status" -eq 4 ]
	[[ "$output" == *"33 97"* ]]
}

@test "exec: --detach and --pid-file" {
	start_ctr
	hull_detached exec --detach --pid-file "$TEST_DIR/exec.pid" "$ID" sleep 600
	[ "$status" -eq 0 ]
	local pid
	pid=$(cat "$TEST_DIR/exec.pid")
	[ "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "sleep 600 " ]
	[ "$(readlink "/proc/$pid/ns/pid")" = "$(readlink "/proc/$INIT_PID/ns/pid")" ]
	[ "$(readlink "/proc/$pid/ns/mnt")" = "$(readlink "/proc/$INIT_PID/ns/mnt")" ]
	run hull ps "$ID"
	[[ "$output" == *"$pid"* ]]
	kill -9 "$pid"
}

@test "exec: --preserve-fds passes extra fds" {
	start_ctr
	echo preserved-data >"$TEST_DIR/in"
	run hull exec --preserve-fds 1 "$ID" sh -c 'cat <&3; ls /proc/$$/fd; true' 3<"$TEST_DIR/in"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = preserved-data ]
	[ "${lines[*]:1}" = "0 1 2 3" ]
}

@test "exec: the process holds only fds 0 1 2" {
	start_ctr
	run hull exec "$ID" sh -c 'ls /proc/$$/fd; true' 4<"$TEST_DIR" 5</ 7>"$TEST_DIR/x"
	[ "$status" -eq 0 ]
	[ "${lines[*]}" = "0 1 2" ]
}

@test "exec: /proc/self/exe of the process is its binary, never the runtime" {
	start_ctr
	run hull exec "$ID" sh -c 'readlink /proc/$$/exe; readlink /proc/self/exe'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = /bin/busybox ]
	[ "${lines[1]}" = /bin/busybox ]
}

@test "exec: the runtime is non-dumpable inside the container until execve (CVE-2019-5736)" {
	requires_hull
	userns_config
	start_ctr
	run hull pause "$ID"
	[ "$status" -eq 0 ]
	# The runtime's child freezes as it joins the cgroup: caught before execve.
	(hull exec --ignore-paused "$ID" sleep 600 </dev/null >/dev/null 2>&1 3>&- || true) &
	local pid="" i p
	for ((i = 0; i < 100; i++)); do
		for p in $(_cgroup_pids "$ID"); do
			if [ "$p" != "$INIT_PID" ]; then
				pid=$p
			fi
		done
		[ -z "$pid" ] || break
		sleep 0.05
	done
	[ -n "$pid" ]
	# Frozen only once it joined every cgroup (the freezer comes last).
	local d
	for d in $(cgroup_dirs "$ID"); do
		grep -qx "$pid" "$d/cgroup.procs"
	done
	# Still the runtime, in the container's user namespace, and owned by host root
	# only: a non-dumpable process, whose /proc files container root cannot use.
	[ "$(readlink "/proc/$pid/exe")" = "$HULL" ]
	[ "$(stat -c %u "/proc/$pid")" = 0 ]
	run hull resume "$ID"
	[ "$status" -eq 0 ]
	for ((i = 0; i < 100; i++)); do
		[ "$(readlink "/proc/$pid/exe")" = /bin/busybox ] && break
		sleep 0.05
	done
	[[ "$(readlink "/proc/$pid/exe")" == */bin/busybox ]]
	[ "$(stat -c %u "/proc/$pid")" = 200000 ]
	kill -9 "$pid"
}

@test "exec: a cwd through a leaked fd never lands outside the root (CVE-2024-21626)" {
	start_ctr
	local n
	for n in 3 4 5 6 7 8 9 10 11 12; do
		run hull exec --cwd "/proc/self/fd/$n" "$ID" sh -c 'pwd; ls ../../../../../'
		if [ "$status" -eq 0 ]; then
			[[ "${lines[0]}" == /* ]]
			[[ "$output" != *unreachable* ]]
			[[ "$output" != *hull-test* ]]
		fi
	done
}

@test "exec: a fifo as the container's /etc/passwd does not block the runtime" {
	requires_hull
	start_ctr
	rm "$BUNDLE/rootfs/etc/passwd"
	mkfifo "$BUNDLE/rootfs/etc/passwd"
	HULL_CMD_TIMEOUT=10 run hull exec "$ID" sh -c 'echo "$HOME"'
	[ "$status" -eq 0 ]
	[ "$output" = / ]
}

@test "exec: a missing binary fails with one clear message" {
	start_ctr
	run hull exec "$ID" /no/such/binary
	[ "$status" -ne 0 ]
	[[ "$output" == */no/such/binary* ]]
	run hull exec --cwd /no/such/dir "$ID" true
	[ "$status" -ne 0 ]
	[[ "$output" == */no/such/dir* ]]
}

@test "exec: into a stopped container fails clearly" {
	set_args true
	run_detached
	wait_for_status "$ID" stopped
	run hull exec "$ID" true
	[ "$status" -ne 0 ]
	[[ "$output" == *stopped* ]]
	run hull exec no-such-container true
	[ "$status" -ne 0 ]
}

@test "exec: into a container whose init is exiting fails clearly" {
	start_ctr
	# A foreground exec, then stopped: when the init is killed, the exec's
	# process is a zombie its stopped parent cannot reap, and the init waits in
	# its exit for it; the PID namespace takes no new process meanwhile.
	"$HULL" --root "$ROOT" exec "$ID" sleep 600 </dev/null >/dev/null 2>&1 3>&- &
	local exec_pid=$! i
	for ((i = 0; i < 100; i++)); do
		[ "$(hull ps -f json "$ID" | jq length)" -eq 2 ] && break
		sleep 0.05
	done
	kill -STOP "$exec_pid"
	kill -KILL "$INIT_PID"
	sleep 0.2
	run hull exec "$ID" true
	kill -CONT "$exec_pid"
	wait "$exec_pid" || true
	[ "$status" -ne 0 ]
	[[ "$output" == *"cannot exec in container \"$ID\": its init is exiting"* ]]
}

@test "exec: into a paused container fails, --ignore-paused goes ahead" {
	start_ctr
	run hull pause "$ID"
	[ "$status" -eq 0 ]
	run hull exec "$ID" true
	[ "$status" -ne 0 ]
	[[ "$output" == *paused* ]]
	# The process joins the frozen cgroup and runs once the container resumes.
	(
		rc=0
		hull exec --ignore-paused "$ID" sh -c 'exit 7' </dev/null >"$TEST_DIR/ip.out" 2>&1 3>&- ||
			rc=$?
		echo "$rc" >"$TEST_DIR/ip.rc"
	) &
	local bg=$! i
	sleep 0.5
	[ ! -e "$TEST_DIR/ip.rc" ]
	run hull resume "$ID"
	[ "$status" -eq 0 ]
	wait "$bg"
	[ "$(cat "$TEST_DIR/ip.rc")" = 7 ]
}

@test "exec: --apparmor and --process-label fail clearly where unsupported" {
	[ ! -e /sys/module/apparmor ] || skip_reason "AppArmor is enabled on this host"
	start_ctr
	run hull exec --apparmor some-profile "$ID" true
	[ "$status" -ne 0 ]
	[[ "${output,,}" == *apparmor* ]]
	if is_hull; then
		run hull exec --process-label system_u:system_r:container_t:s0 "$ID" true
		[ "$status" -ne 0 ]
		[[ "${output,,}" == *selinux* ]]
	fi
}

@test "exec: bad flags" {
	start_ctr
	run hull exec "$ID"
	[ "$status" -ne 0 ]
	run hull exec --user abc "$ID" true
	[ "$status" -ne 0 ]
	run hull exec -t -d "$ID" true
	[ "$status" -ne 0 ]
}
