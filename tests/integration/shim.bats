#!/usr/bin/env bats
# deck-shim, the per-container monitor, driven directly: the container's output
# in the log (k8s-file and json-file), exit records (codes, SIGKILL, OOM), a shim
# that outlives its parent, log rotation, attach, logs -f, runc and crun as the
# runtime, failures that leave nothing behind, and the exit command.

# shellcheck disable=SC2016 # the containers' shell commands are single-quoted on purpose

bats_require_minimum_version 1.5.0

load helpers
load peers

SHIM="${SHIM:-$HULL_BUILD_DIR/deck-shim}"

setup() {
	[[ -x "$SHIM" ]] || skip "deck-shim is not built ($SHIM)"
	requires_root
	setup_common
	SD="$TEST_DIR/state"
	LOG="$TEST_DIR/shim.log"
	RT_ROOT="$TEST_DIR/rt"
	RT=""
	mkdir -p "$SD"
}

teardown() {
	local bad=0
	shim_teardown || bad=1
	if [[ -n "${IMG_BUNDLE:-}" ]]; then
		umount "$IMG_BUNDLE/merged" 2>/dev/null || true
	fi
	teardown_common || bad=1
	return "$bad"
}

# The runtime for the shim: "" (in process, state in $ROOT) or a binary.
use_runtime() {
	RT="$1"
	[[ -x "$RT" ]] || skip "$RT is not installed"
}

rt() {
	if [[ -n "$RT" ]]; then
		"$RT" --root "$RT_ROOT" "$@"
	else
		hull "$@"
	fi
}

# start_shim [DECK-SHIM-ARGS...] [-- EXIT-COMMAND...]: $ID under a new shim; sets $status $output
start_shim() {
	local args=(--id "$ID" --bundle "$BUNDLE" --state-dir "$SD" --log-path "$LOG")
	if [[ -n "$RT" ]]; then
		args+=(--runtime "$RT" --runtime-root "$RT_ROOT")
	else
		args+=(--runtime-root "$ROOT")
	fi
	rm -f "$LOG" "$LOG.1" "$SD/exit.json"
	run "$SHIM" "${args[@]}" "$@" 3>&-
}

# wait_exit: the exit record ("CODE" or "CODE oom") in $output
wait_exit() {
	run "$SHIM" wait --timeout 20000 "$SD"
	[ "$status" -eq 0 ]
}

alive() {
	[[ -r "/proc/$1/stat" && "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" != Z ]]
}

wait_gone() {
	local i
	for ((i = 0; i < 200; i++)); do
		alive "$1" || return 0
		sleep 0.05
	done
	return 1
}

# Processes whose command line names this test's directory: shims and containers.
test_procs() {
	local p
	for p in /proc/[0-9]*; do
		[[ "${p#/proc/}" == "$$" || "${p#/proc/}" == "$BASHPID" ]] && continue
		if tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "$TEST_DIR"; then
			echo "${p#/proc/}"
		fi
	done
}

shim_teardown() {
	local pid="" bad=0
	[[ -n "${SD:-}" ]] || return 0
	[[ -f "$SD/shim.pid" ]] && pid="$(cat "$SD/shim.pid")"
	# The container's end is its shim's end.
	rt delete --force "$ID" </dev/null >/dev/null 2>&1 3>&- || true
	if [[ -n "$pid" ]] && ! wait_gone "$pid"; then
		echo "LEAK: deck-shim $pid still running" >&2
		kill -9 "$pid"
		bad=1
	fi
	[[ -d "$RT_ROOT" ]] && rm -rf "$RT_ROOT"
	return "$bad"
}

# The shim is gone and left only its exit record.
assert_shim_done() {
	local pid
	wait_exit
	for f in shim.pid attach init.pid console.sock; do
		if [[ -e "$SD/$f" ]]; then
			echo "left behind: $SD/$f" >&2
			return 1
		fi
	done
	pid="$(test_procs)"
	if [[ -n "$pid" ]]; then
		wait_gone "$pid" || {
			echo "still running: $pid" >&2
			return 1
		}
	fi
	run rt state "$ID"
	[ "$status" -ne 0 ]
	assert_no_leftovers
}

log_lines() { # the text of the log's records, one per line
	"$SHIM" logs "$@" "$LOG"
}

@test "shim: k8s-file log with streams marked, exit code recorded, exit command run" {
	set_args sh -c 'echo hello; usleep 100000; echo oops >&2; usleep 100000; printf partial; exit 3'
	start_shim -- sh -c 'cat "$1/exit.json" >"$2"; ls "$1" >"$2.ls"' _ "$SD" "$TEST_DIR/seen"
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^[0-9]+$ ]]
	assert_shim_done
	run cat "$SD/exit.json"
	[ "$(jq -r .exitCode <<<"$output")" = 3 ]
	[ "$(jq -r .oomKilled <<<"$output")" = false ]
	[[ "$(jq -r .finishedAt <<<"$output")" =~ ^20[0-9-]+T[0-9:]+\.[0-9]{9}Z$ ]]
	mapfile -t L <"$LOG"
	[ "${#L[@]}" -eq 3 ]
	[[ "${L[0]}" =~ ^20[0-9-]+T[0-9:.]+Z\ stdout\ F\ hello$ ]]
	[[ "${L[1]}" =~ ^[0-9TZ:.-]+\ stderr\ F\ oops$ ]]
	[[ "${L[2]}" =~ ^[0-9TZ:.-]+\ stdout\ P\ partial$ ]]
	# The exit command ran after the record, and after the shim's files went.
	for ((i = 0; i < 100; i++)); do [[ -s "$TEST_DIR/seen" ]] && break; sleep 0.05; done
	[ "$(jq -r .exitCode "$TEST_DIR/seen")" = 3 ]
	[ "$(cat "$TEST_DIR/seen.ls")" = exit.json ]
	run log_lines
	[ "$output" = "$(printf 'hello\noops\npartial')" ]
}

@test "shim: json-file log as docker writes it; exit code 0" {
	set_args sh -c 'echo "a \"quoted\" line"; usleep 100000; printf "tab\there\n" >&2; usleep 100000; echo last'
	start_shim --log-driver json-file
	[ "$status" -eq 0 ]
	assert_shim_done
	[ "$(jq -r .exitCode "$SD/exit.json")" = 0 ]
	run jq -c '[.stream, .log]' "$LOG"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = '["stdout","a \"quoted\" line\n"]' ]
	[ "${lines[1]}" = '["stderr","tab\there\n"]' ]
	[ "${lines[2]}" = '["stdout","last\n"]' ]
	run jq -r .time "$LOG"
	[[ "${lines[0]}" =~ ^20[0-9-]+T[0-9:]+\.[0-9]+Z$ ]]
	run log_lines --log-driver json-file
	[ "$output" = "$(printf 'a "quoted" line\ntab\there\nlast')" ]
	# stdout and stderr apart
	[ "$("$SHIM" logs "$LOG" 2>/dev/null)" = "$(printf 'a "quoted" line\nlast')" ]
}

@test "shim: a SIGKILL is exit code 137, not an OOM kill" {
	set_args sleep 100
	start_shim
	[ "$status" -eq 0 ]
	pid="$output"
	[ "$(rt state "$ID" | jq -r .status)" = running ]
	[ "$(rt state "$ID" | jq -r .pid)" = "$pid" ]
	rt kill "$ID" KILL
	assert_shim_done
	[ "$(jq -r .exitCode "$SD/exit.json")" = 137 ]
	[ "$(jq -r .oomKilled "$SD/exit.json")" = false ]
}

@test "shim: an OOM kill is recorded (memory limit, dd)" {
	[[ -e /sys/fs/cgroup/memory/memory.oom_control || -e /sys/fs/cgroup/cgroup.controllers ]] ||
		skip "no memory cgroup"
	update_config '.linux.resources.memory = {"limit": 33554432}'
	set_args dd if=/dev/zero of=/dev/null bs=256M count=1
	start_shim
	[ "$status" -eq 0 ]
	assert_shim_done
	[ "$(jq -r .exitCode "$SD/exit.json")" = 137 ]
	[ "$(jq -r .oomKilled "$SD/exit.json")" = true ]
}

@test "shim: survives its parent's SIGKILL; the container keeps running and logging" {
	set_args sh -c 'i=0; while :; do i=$((i+1)); echo "tick $i"; usleep 50000; done'
	# The parent: a shell that starts the shim and stays, in its own process group.
	setsid bash -c '"$@" >"'"$TEST_DIR"'/pid"; exec sleep 1000' _ \
		"$SHIM" --id "$ID" --bundle "$BUNDLE" --state-dir "$SD" --runtime-root "$ROOT" \
		--log-path "$LOG" </dev/null >/dev/null 2>&1 3>&- &
	parent=$!
	for ((i = 0; i < 200; i++)); do [[ -s "$TEST_DIR/pid" ]] && break; sleep 0.05; done
	[[ -s "$TEST_DIR/pid" ]]
	shim="$(cat "$SD/shim.pid")"
	kill -9 -- "-$parent"
	wait "$parent" || true
	alive "$shim"
	n1="$(wc -l <"$LOG")"
	sleep 0.5
	n2="$(wc -l <"$LOG")"
	[ "$n2" -gt "$n1" ]
	[ "$(rt state "$ID" | jq -r .status)" = running ]
	rt kill "$ID" KILL
	assert_shim_done
	[ "$(jq -r .exitCode "$SD/exit.json")" = 137 ]
	run log_lines --tail 1
	[[ "$output" =~ ^tick\ [0-9]+$ ]]
}

@test "shim: the log rotates to .1 by size; logs reads both" {
	set_args sh -c 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo "line $i"; done'
	start_shim --log-max-size 2k
	[ "$status" -eq 0 ]
	assert_shim_done
	[ -f "$LOG.1" ]
	[ "$(stat -c %s "$LOG.1")" -le 2048 ]
	[ "$(stat -c %s "$LOG")" -le 2048 ]
	run log_lines
	[ "${lines[-1]}" = "line 300" ]
	first="${lines[0]#line }"
	[ "$first" -gt 1 ]
	[ "$output" = "$(seq "$first" 300 | sed 's/^/line /')" ]
}

@test "shim: attach gets live output and feeds stdin; the end of output ends it" {
	update_config '.process.args = ["sh", "-c", "while read l; do echo \"got $l\"; done; echo bye >&2"]'
	start_shim --stdin
	[ "$status" -eq 0 ]
	run bash -c '(echo a; sleep 0.3; echo b) | "$1" attach --eof-close "$2"' _ "$SHIM" "$SD"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'got a\ngot b\nbye')" ]
	assert_shim_done
	run log_lines
	[ "$output" = "$(printf 'got a\ngot b\nbye')" ]
}

@test "shim: attach to a running container sees what it writes from then on" {
	set_args sh -c 'i=0; while :; do i=$((i+1)); echo "tick $i"; usleep 100000; done'
	start_shim
	[ "$status" -eq 0 ]
	sleep 0.5
	run -124 timeout 1.2 "$SHIM" attach "$SD"
	[[ "${lines[0]}" =~ ^tick\ [0-9]+$ ]]
	[ "${#lines[@]}" -ge 5 ]
	[ "${lines[0]#tick }" -gt 2 ]
	rt kill "$ID" KILL
	assert_shim_done
}

@test "shim: --wait-attach starts the container when the client is there" {
	set_args echo first words
	start_shim --wait-attach
	[ "$status" -eq 0 ]
	[ "$(rt state "$ID" | jq -r .status)" = created ]
	[ ! -s "$LOG" ]
	run "$SHIM" attach "$SD"
	[ "$status" -eq 0 ]
	[ "$output" = "first words" ]
	assert_shim_done
	[ "$(jq -r .exitCode "$SD/exit.json")" = 0 ]
}

@test "shim: --wait-attach with a terminal: the process starts with the client's size" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	update_config '.process.terminal = true'
	set_args stty size
	start_shim --terminal --stdin --wait-attach
	[ "$status" -eq 0 ]
	run timeout 20 script -qfec "stty rows 33 cols 77; $SHIM attach $SD" /dev/null </dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *"33 77"* ]]
	assert_shim_done
}

@test "shim: a bundle made from an image (deck import, deck image bundle)" {
	local deck="$HULL_BUILD_DIR/deck"
	[[ -x "$deck" ]] || skip "deck is not built"
	peer_rootfs_tar "$TEST_DIR/rootfs.tar"
	"$deck" --root "$TEST_DIR/deck" import -c 'CMD ["sh"]' "$TEST_DIR/rootfs.tar" shim:1 3>&-
	IMG_BUNDLE="$TEST_DIR/ib"
	"$deck" --root "$TEST_DIR/deck" image bundle --cgroups-path "$CGPATH" shim:1 "$IMG_BUNDLE" \
		sh -c 'echo "from the image as $(id -u)"; exit 7' >/dev/null 3>&-
	BUNDLE="$IMG_BUNDLE"
	start_shim --log-driver json-file
	[ "$status" -eq 0 ]
	assert_shim_done
	[ "$(jq -r .exitCode "$SD/exit.json")" = 7 ]
	[ "$(jq -r .log "$LOG")" = "from the image as 0" ]
}

@test "shim: a terminal: the shim holds the pty master" {
	update_config '.process.terminal = true'
	set_args sh -c 'tty; [ -t 0 ] && echo "stdin is a tty"'
	start_shim --terminal
	[ "$status" -eq 0 ]
	assert_shim_done
	[ "$(jq -r .exitCode "$SD/exit.json")" = 0 ]
	run log_lines
	[[ "${lines[0]}" == /dev/pts/* ]]
	[[ "$output" == *"stdin is a tty"* ]]
	grep -q ' stdout F /dev/pts/' "$LOG"
}

@test "shim: attach on a terminal: ctrl-p ctrl-q detaches, attach again, ctrl-d ends" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	update_config '.process.terminal = true'
	set_args sh -c 'while read l; do echo "got $l"; done; echo done'
	start_shim --terminal --stdin
	[ "$status" -eq 0 ]
	# script gives the client a terminal of its own, fed from the pipe.
	run bash -c '(sleep 0.5; printf "hello\r"; sleep 0.5; printf "\020\021"; sleep 2) |
		timeout 20 script -qfec "$1 attach $2" /dev/null' _ "$SHIM" "$SD"
	[ "$status" -eq 0 ]
	[[ "$output" == *"got hello"* ]]
	[[ "$output" == *"[detached]"* ]]
	[ "$(rt state "$ID" | jq -r .status)" = running ]
	run bash -c '(sleep 0.5; printf "again\r"; sleep 0.5; printf "\004"; sleep 2) |
		timeout 20 script -qfec "$1 attach $2" /dev/null' _ "$SHIM" "$SD"
	[ "$status" -eq 0 ]
	[[ "$output" == *"got again"* ]]
	[[ "$output" == *"done"* ]]
	[[ "$output" != *"[detached]"* ]]
	assert_shim_done
	[ "$(jq -r .exitCode "$SD/exit.json")" = 0 ]
	run log_lines
	[[ "$output" == *"got hello"*"got again"*"done"* ]]
}

@test "shim: logs -f follows until the container exits, across rotations" {
	set_args sh -c 'i=0; while [ $i -lt 400 ]; do i=$((i+1)); echo "line $i";
		[ $((i % 20)) -eq 0 ] && usleep 30000; done'
	start_shim --log-max-size 4k
	[ "$status" -eq 0 ]
	run timeout 30 "$SHIM" logs -f --state-dir "$SD" "$LOG"
	[ "$status" -eq 0 ]
	[ "$output" = "$(seq 1 400 | sed 's/^/line /')" ]
	assert_shim_done
	[ -f "$LOG.1" ]
	# After the exit there is nothing to wait for.
	run timeout 10 "$SHIM" logs -f --state-dir "$SD" --tail 3 "$LOG"
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'line 398\nline 399\nline 400')" ]
}

@test "shim: logs --tail, --since, --until, --timestamps" {
	set_args sh -c 'echo one; echo two; usleep 100000; echo three >&2; usleep 100000; echo four'
	start_shim --log-driver json-file
	[ "$status" -eq 0 ]
	assert_shim_done
	run log_lines --log-driver json-file --tail 2
	[ "$output" = "$(printf 'three\nfour')" ]
	run log_lines --tail 0
	[ -z "$output" ]
	run log_lines --since 10m
	[ "${#lines[@]}" -eq 4 ]
	run log_lines --since 2099-01-01T00:00:00Z
	[ -z "$output" ]
	run log_lines --until 2000-01-01
	[ -z "$output" ]
	run log_lines --since "$(($(date +%s) - 60))" -t
	[ "${#lines[@]}" -eq 4 ]
	[[ "${lines[0]}" =~ ^20[0-9-]+T[0-9:]+\.[0-9]{9}Z\ one$ ]]
	run log_lines --since yesterday
	[ "$status" -ne 0 ]
	[[ "$output" == *'invalid time "yesterday"'* ]]
}

@test "shim: runc and crun as the runtime (exit code, SIGKILL, terminal, state gone)" {
	for r in /usr/sbin/runc /usr/bin/crun; do
		[[ -x "$r" ]] || continue
		use_runtime "$r"
		# crun 1.8 knows runtime-spec 1.0 only
		update_config '.ociVersion = "1.0.2" | .process.terminal = false'
		set_args sh -c 'echo "out of $0"; usleep 100000; echo err >&2; exit 3'
		start_shim
		# crun refuses hybrid cgroups (v1 + a v2 with controllers), as on the test VM.
		[[ "$r" == */crun && "$status" -eq 1 && "$output" == *"hybrid mode not supported"* ]] &&
			continue
		[ "$status" -eq 0 ]
		assert_shim_done
		[ "$(jq -r .exitCode "$SD/exit.json")" = 3 ]
		run log_lines
		[ "$output" = "$(printf 'out of sh\nerr')" ]
		grep -q ' stderr F err$' "$LOG"

		set_args sleep 100
		start_shim
		[ "$status" -eq 0 ]
		[ "$(rt state "$ID" | jq -r .pid)" = "$output" ]
		rt kill "$ID" KILL
		assert_shim_done
		[ "$(jq -r .exitCode "$SD/exit.json")" = 137 ]
		[ -z "$(rt list -q 2>/dev/null)" ]

		update_config '.process.terminal = true'
		set_args sh -c 'tty'
		start_shim --terminal
		[ "$status" -eq 0 ]
		assert_shim_done
		run log_lines
		[[ "$output" == /dev/pts/* ]]
	done
}

@test "shim: a bad bundle gives the runtime's error and leaves nothing behind" {
	update_config '.root.path = "no-such-rootfs"'
	for r in "" /usr/sbin/runc; do
		[[ -z "$r" || -x "$r" ]] || continue
		RT="$r"
		start_shim
		[ "$status" -eq 1 ]
		[[ "$output" == *no-such-rootfs* ]]
		[ -z "$(ls -A "$SD")" ]
		[ -z "$(test_procs)" ]
		run rt state "$ID"
		[ "$status" -ne 0 ]
		assert_no_leftovers
	done
	# A bad executable fails the start: the container that was made goes too.
	update_config '.root.path = "rootfs"'
	set_args /no/such/binary
	RT=""
	start_shim
	[ "$status" -ne 0 ] || {
		# hull may report it as the exit (127) instead: then it is recorded
		assert_shim_done
		[ "$(jq -r .exitCode "$SD/exit.json")" -ge 126 ]
		return 0
	}
	[[ "$output" == */no/such/binary* ]]
	[ -z "$(ls -A "$SD")" ]
	assert_no_leftovers
}

@test "shim: wait and attach without a shim say so" {
	run "$SHIM" wait --timeout 1000 "$SD"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no deck-shim watches"* ]]
	run "$SHIM" attach "$SD"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not running"* ]]
}
