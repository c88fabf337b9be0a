#!/usr/bin/env bats
# linux.seccomp as the container's process sees it: the errno it gets, the
# signal that ends it, and SCMP_ACT_NOTIFY answered by a seccomp agent that got
# the listener fd over linux.seccomp.listenerPath.

load helpers

AGENT_PID=

setup() {
	setup_common
	update_config '.root.readonly = false'
}

teardown() {
	if [ -n "$AGENT_PID" ]; then
		kill "$AGENT_PID" 2>/dev/null || true
		wait "$AGENT_PID" 2>/dev/null || true
	fi
	teardown_common
}

# start_agent: tests/helpers/seccomp-agent on $AGENT_SOCK, state lines in $AGENT_LOG.
start_agent() {
	[ "$(uname -m)" = x86_64 ] || skip "the test agent knows x86_64 syscall numbers only"
	AGENT_SOCK="$TEST_DIR/agent.sock"
	AGENT_LOG="$TEST_DIR/agent.log"
	"$HULL_BUILD_DIR/seccomp-agent" "$AGENT_SOCK" "$AGENT_LOG" 3>&- &
	AGENT_PID=$!
	for _ in $(seq 100); do
		[ -S "$AGENT_SOCK" ] && return 0
		sleep 0.02
	done
	echo "seccomp-agent did not start" >&2
	return 1
}

# notify_profile NNP SYSCALL...: SCMP_ACT_NOTIFY on the syscalls, to the agent.
notify_profile() {
	local nnp="$1"
	shift
	local names
	names="$(printf '%s\n' "$@" | jq -R . | jq -s -c .)"
	update_config ".process.noNewPrivileges = $nnp
		| .linux.seccomp = {\"defaultAction\": \"SCMP_ACT_ALLOW\",
			\"listenerPath\": \"$AGENT_SOCK\", \"listenerMetadata\": \"meta-$ID\",
			\"syscalls\": [{\"names\": $names, \"action\": \"SCMP_ACT_NOTIFY\"}]}"
}

@test "seccomp: SCMP_ACT_ERRNO gives the process the errnoRet it names" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28},
			{"names": ["getppid"], "action": "SCMP_ACT_ERRNO"}]}'
	run_in_container sh -c 'mkdir /tmp/d; echo "rc=$?"; grep Seccomp: /proc/self/status'
	[ "$status" -eq 0 ]
	[[ "$output" == *"No space left on device"* ]]
	[[ "$output" == *"rc=1"* ]]
	[[ "$output" == *"Seccomp:"*2* ]]
}

@test "seccomp: defaultAction SCMP_ACT_ERRNO with defaultErrnoRet" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}'
	run_in_container sh -c 'mkdir /tmp/d'
	[ "$status" -ne 0 ]
	[[ "$output" == *"Operation not permitted"* ]]
}

@test "seccomp: SCMP_ACT_KILL_PROCESS ends the process with SIGSYS (exit 159)" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_KILL_PROCESS"}]}'
	run_in_container mkdir /tmp/d
	[ "$status" -eq 159 ]
}

@test "seccomp: SCMP_ACT_TRAP sends SIGSYS; SCMP_ACT_LOG lets the call through" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_TRAP"},
			{"names": ["rmdir"], "action": "SCMP_ACT_LOG"}]}'
	run_in_container sh -c 'mkdir /tmp/d'
	[ "$status" -eq 159 ]
	run_in_container sh -c 'rmdir /tmp && echo gone'
	[ "$status" -eq 0 ]
	[ "$output" = gone ]
}

@test "seccomp: args conditions select the call" {
	# kill(pid, SIGUSR1) is refused; kill(pid, 0) is not.
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [{"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
			"args": [{"index": 1, "value": 10, "op": "SCMP_CMP_EQ"}]}]}'
	run_in_container sh -c 'kill -USR1 $$ 2>&1; echo "usr1 rc=$?"; kill -0 $$ && echo alive'
	[ "$status" -eq 0 ]
	[[ "$output" == *"Permission denied"* ]]
	[[ "$output" == *"usr1 rc=1"* ]]
	[[ "$output" == *alive* ]]
}

@test "seccomp notify: the agent gets the fd and the state, and answers the calls" {
	requires_hull # runc's own init calls getppid after the filter is in, and hangs
	start_agent
	notify_profile false mkdir mkdirat getppid
	run_in_container sh -c 'echo "ppid=$PPID"; mkdir /tmp/d'
	[ "$status" -ne 0 ]
	[[ "$output" == *"ppid=4242"* ]]
	[[ "$output" == *"No medium found"* ]]
	run jq -c '[.ociVersion != null, .fds, .metadata, .state.id, .state.status,
		(.pid == .state.pid), (.pid > 0), .state.bundle]' "$AGENT_LOG"
	[ "$status" -eq 0 ]
	[ "$output" = "[true,[\"seccompFd\"],\"meta-$ID\",\"$ID\",\"creating\",true,true,\"$BUNDLE\"]" ]
}

@test "seccomp notify: with noNewPrivileges, and with create then start" {
	start_agent
	notify_profile true getppid
	set_args sh -c 'echo "ppid=$PPID" >/tmp/out; sleep 600'
	create_container
	[ "$(wc -l <"$AGENT_LOG")" -eq 1 ]
	hull start "$ID"
	wait_for_status "$ID" running
	for _ in $(seq 50); do
		[ -s "$BUNDLE/rootfs/tmp/out" ] && break
		sleep 0.1
	done
	[ "$(cat "$BUNDLE/rootfs/tmp/out")" = "ppid=4242" ]
}

@test "seccomp notify: the syscalls the runtime itself needs may be notified" {
	requires_hull # runc 1.1.5 hangs when read/close are notified
	start_agent
	notify_profile false execve openat open read close poll recvmsg fstat close_range
	run_in_container sh -c 'cat /etc/passwd >/dev/null && echo ok'
	[ "$status" -eq 0 ]
	[ "$output" = ok ]
}

@test "seccomp notify: exec'd processes get their own listener" {
	requires_hull # runc's own init calls getppid after the filter is in, and hangs
	start_agent
	notify_profile false getppid
	set_args sleep 600
	run_detached
	wait_for_status "$ID" running
	run hull exec "$ID" sh -c 'echo "ppid=$PPID"'
	[ "$status" -eq 0 ]
	[ "$output" = "ppid=4242" ]
	[ "$(wc -l <"$AGENT_LOG")" -eq 2 ]
	run jq -r -s '.[1].state.status + " " + (.[1].pid != .[0].pid | tostring)' "$AGENT_LOG"
	[ "$output" = "running true" ]
}

@test "seccomp notify: a killed agent makes notified calls fail with ENOSYS" {
	start_agent
	notify_profile false mkdir mkdirat
	set_args sh -c 'while [ ! -e /tmp/go ]; do sleep 0.05; done; mkdir /tmp/d 2>/tmp/err; cat /tmp/err >/tmp/out'
	run_detached
	wait_for_status "$ID" running
	kill "$AGENT_PID"
	wait "$AGENT_PID" 2>/dev/null || true
	AGENT_PID=
	touch "$BUNDLE/rootfs/tmp/go"
	for _ in $(seq 50); do
		[ -e "$BUNDLE/rootfs/tmp/out" ] && break
		sleep 0.1
	done
	grep -q "Function not implemented" "$BUNDLE/rootfs/tmp/out"
}

@test "seccomp notify: no agent listening is a clear error, nothing left" {
	AGENT_SOCK="$TEST_DIR/nobody.sock"
	notify_profile false mkdir
	run_in_container true
	[ "$status" -ne 0 ]
	[[ "$output" == *"$AGENT_SOCK"* ]]
	if is_hull; then
		[[ "$output" == *"linux.seccomp.listenerPath: cannot connect to the seccomp agent at $AGENT_SOCK"* ]]
	fi
	assert_no_leftovers
}

@test "seccomp notify: no listenerPath, or notify on write, is a config error" {
	AGENT_SOCK=
	notify_profile false mkdir
	update_config 'del(.linux.seccomp.listenerPath)'
	run_in_container true
	[ "$status" -ne 0 ]
	if is_hull; then
		[[ "$output" == *"config.json: linux.seccomp.listenerPath: required"* ]]
	fi
	assert_no_leftovers
	AGENT_SOCK=/nonexistent.sock
	notify_profile false write
	run_in_container true
	[ "$status" -ne 0 ]
	[[ "$output" == *"SCMP_ACT_NOTIFY cannot be used for the write syscall"* ]]
	assert_no_leftovers
}

@test "seccomp: listenerPath without notify rules is ignored" {
	update_config '.linux.seccomp = {"defaultAction": "SCMP_ACT_ALLOW",
		"listenerPath": "/nonexistent.sock", "listenerMetadata": "x"}'
	run_in_container true
	[ "$status" -eq 0 ]
}
