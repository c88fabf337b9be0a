#!/usr/bin/env bats
# process.terminal: a pty for the container, its master sent over
# --console-socket (received by $RECVTTY), consoleSize, and the errors.

load helpers

setup() {
	setup_common
	RECVTTY_PID=
	SOCK=$TEST_DIR/console.sock
	TTY_OUT=$TEST_DIR/tty.out
	update_config '.process.terminal = true'
}

teardown() {
	if [ -n "$RECVTTY_PID" ]; then
		kill "$RECVTTY_PID" 2>/dev/null || true
		wait "$RECVTTY_PID" 2>/dev/null || true
	fi
	teardown_common
}

# start_recvtty [INPUT-FILE]: listen on $SOCK; what the container writes to its
# terminal lands in $TTY_OUT, INPUT-FILE is typed into it.
start_recvtty() {
	[ -x "$RECVTTY" ] || skip_reason "no recvtty at $RECVTTY (built by tests/run)"
	local in=${1:-/dev/null} i
	"$RECVTTY" --pid-file "$TEST_DIR/recvtty.pid" "$SOCK" <"$in" >"$TTY_OUT" 2>&1 3>&- &
	RECVTTY_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$TEST_DIR/recvtty.pid" ] && return 0
		sleep 0.05
	done
	echo "recvtty did not start" >&2
	return 1
}

# wait_recvtty: recvtty exits once the container closed its side of the pty.
# Leaves the terminal's output, carriage returns dropped, in $output/$lines.
wait_recvtty() {
	local i
	for ((i = 0; i < 200; i++)); do
		kill -0 "$RECVTTY_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$RECVTTY_PID" 2>/dev/null; then
		echo "recvtty still running: $(cat "$TTY_OUT")" >&2
		return 1
	fi
	wait "$RECVTTY_PID"
	RECVTTY_PID=
	output=$(tr -d '\r' <"$TTY_OUT")
	mapfile -t lines <<<"$output"
}

@test "run -d with --console-socket: the process has a terminal" {
	start_recvtty
	set_args sh -c 'tty; [ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo all-tty
		[ -c /dev/console ] && echo console-ok; echo "TERM=$TERM"'
	run_detached --console-socket "$SOCK"
	wait_recvtty
	echo "$output"
	[[ "${lines[0]}" == /dev/pts/* ]]
	[ "${lines[1]}" = all-tty ]
	[ "${lines[2]}" = console-ok ]
	wait_for_status "$ID" stopped
	hull delete "$ID"
}

@test "create and start with --console-socket" {
	start_recvtty
	set_args sh -c 'echo hello-from-pty'
	create_container --console-socket "$SOCK"
	[ "$(state_field "$ID" .status)" = created ]
	hull start "$ID"
	wait_recvtty
	[ "${lines[0]}" = hello-from-pty ]
	wait_for_status "$ID" stopped
	hull delete "$ID"
}

@test "consoleSize is honored" {
	start_recvtty
	update_config '.process.consoleSize = {height: 33, width: 111}'
	set_args stty size
	run_detached --console-socket "$SOCK"
	wait_recvtty
	[ "${lines[0]}" = "33 111" ]
	wait_for_status "$ID" stopped
	hull delete "$ID"
}

@test "input typed on the terminal reaches the process" {
	printf 'typed-line\n' >"$TEST_DIR/input"
	start_recvtty "$TEST_DIR/input"
	set_args sh -c 'read -r line; echo "got:$line"'
	run_detached --console-socket "$SOCK"
	wait_recvtty
	[[ "$output" == *got:typed-line* ]]
	wait_for_status "$ID" stopped
	hull delete "$ID"
}

@test "create with terminal and no --console-socket fails clearly" {
	hull_detached create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *[Cc]onsole* ]]
	run hull state "$ID"
	[ "$status" -ne 0 ]
	assert_no_leftovers
}

@test "--console-socket without terminal fails clearly" {
	update_config '.process.terminal = false'
	hull_detached create --bundle "$BUNDLE" --console-socket "$SOCK" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *[Cc]onsole* || "$output" == *terminal* ]]
	run hull state "$ID"
	[ "$status" -ne 0 ]
	assert_no_leftovers
}

@test "--console-socket naming no listener fails" {
	hull_detached create --bundle "$BUNDLE" --console-socket "$TEST_DIR/nobody.sock" "$ID"
	[ "$status" -ne 0 ]
	run hull state "$ID"
	[ "$status" -ne 0 ]
	assert_no_leftovers
}

@test "foreground run with a terminal prints the container's output" {
	command -v script >/dev/null || skip_reason "script (util-linux) not installed"
	set_args sh -c 'tty; echo hello-fg; exit 3'
	local cmd
	printf -v cmd '%q ' "$HULL" --root "$ROOT" run --bundle "$BUNDLE" "$ID"
	run script -qec "$cmd" /dev/null </dev/null
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == *hello-fg* ]]
	[[ "$output" == */dev/pts/* ]]
}
