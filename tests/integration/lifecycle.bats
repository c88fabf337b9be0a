#!/usr/bin/env bats
# shellcheck disable=SC2030,SC2031 # bats runs each test in a subshell
# Container lifecycle: create/start/state/kill/delete/run/list as a user sees them.

load helpers


setup() {
	setup_common
}

teardown() {
	teardown_common
}

RFC3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'

# A container that runs until the test creates /tmp/stop in its rootfs (the host
# sees the same directory), or exits 42 on SIGTERM.
STOPPABLE='trap "exit 42" TERM; while [ ! -e /tmp/stop ]; do sleep 0.05; done'

# Another container in this test's root, with its own cgroup under /hull-test.
other_bundle() { # NAME -> sets OTHER_BUNDLE
	OTHER_BUNDLE="$TEST_DIR/bundle-$1"
	cp -a "$BUNDLE" "$OTHER_BUNDLE"
	jq --arg cg "/hull-test/$1" '.linux.cgroupsPath = $cg' "$BUNDLE/config.json" \
		>"$OTHER_BUNDLE/config.json"
}

pid_alive() {
	[[ -d "/proc/$1" ]] && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

pid_gone() {
	if pid_alive "$1"; then
		echo "process $1 is still alive"
		return 1
	fi
}

@test "create, start, state, exit, delete" {
	update_config '.annotations = {"org.hull.test": "yes", "second": "2"}'
	set_args sh -c "$STOPPABLE"
	create_container

	run hull state "$ID"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e . >/dev/null
	[ "$(jq -r .status <<<"$output")" = created ]
	[ "$(jq -r .id <<<"$output")" = "$ID" ]
	[ "$(jq -r .pid <<<"$output")" -gt 0 ]
	[ "$(jq -r .bundle <<<"$output")" = "$BUNDLE" ]
	[ "$(jq -r .rootfs <<<"$output")" = "$BUNDLE/rootfs" ]
	[[ "$(jq -r .ociVersion <<<"$output")" =~ ^1\.[0-9]+\.[0-9]+ ]]
	[[ "$(jq -r .created <<<"$output")" =~ $RFC3339 ]]
	jq -e 'has("owner")' <<<"$output"
	[ "$(jq -r '.annotations["org.hull.test"]' <<<"$output")" = yes ]
	[ "$(jq -r '.annotations.second' <<<"$output")" = 2 ]
	pid="$(jq -r .pid <<<"$output")"
	pid_alive "$pid"

	run hull start "$ID"
	[ "$status" -eq 0 ]
	wait_for_status "$ID" running
	[ "$(state_field "$ID" .pid)" = "$pid" ]

	touch "$BUNDLE/rootfs/tmp/stop"
	wait_for_status "$ID" stopped

	run hull delete "$ID"
	[ "$status" -eq 0 ]
	run hull state "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"$ID"* || "$output" == *"does not exist"* ]]
	assert_no_leftovers
}

@test "state of a container without annotations is valid" {
	create_container
	run hull state "$ID"
	[ "$status" -eq 0 ]
	jq -e '.ociVersion and .id and .status and .bundle' <<<"$output"
}

@test "run returns the exit status of the container" {
	run_in_container sh -c 'echo out; echo err >&2; exit 7'
	[ "$status" -eq 7 ]
	[[ "$output" == *out* ]]
	[[ "$output" == *err* ]]
}

@test "run returns 128+N when the container dies of signal N" {
	# As PID 1 of a pid namespace the shell could not kill itself.
	update_config 'del(.linux.namespaces[] | select(.type == "pid"))'
	run_in_container sh -c 'kill -9 $$'
	[ "$status" -eq 137 ]
}

@test "run returns 128+N when the init is killed from outside" {
	set_args sh -c "$STOPPABLE"
	"$HULL" --root "$ROOT" run --bundle "$BUNDLE" "$ID" </dev/null >"$CTR_LOG" 2>&1 3>&- &
	hull_pid=$!
	if ! wait_for_status "$ID" running; then
		kill -9 "$hull_pid"
		false
	fi
	kill -KILL "$(state_field "$ID" .pid)"
	rc=0
	wait "$hull_pid" || rc=$?
	[ "$rc" -eq 137 ]
}

@test "run deletes the container after it exits" {
	run_in_container true
	[ "$status" -eq 0 ]
	run hull state "$ID"
	[ "$status" -ne 0 ]
	run hull list -q
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	assert_no_leftovers
}

@test "run --detach leaves the container running" {
	set_args sh -c "$STOPPABLE"
	run_detached
	[ "$(state_field "$ID" .status)" = running ]
	pid="$(state_field "$ID" .pid)"
	pid_alive "$pid"
	touch "$BUNDLE/rootfs/tmp/stop"
	wait_for_status "$ID" stopped
	run hull delete "$ID"
	[ "$status" -eq 0 ]
	assert_no_leftovers
}

kill_with() { # SIGNAL-ARG EXPECTED-EXIT-SIGNAL
	set_args sh -c "$STOPPABLE"
	run_detached
	pid="$(state_field "$ID" .pid)"
	run hull kill "$ID" "$1"
	[ "$status" -eq 0 ]
	wait_for_status "$ID" stopped
	pid_gone "$pid"
}

@test "kill KILL" {
	kill_with KILL
}

@test "kill SIGKILL" {
	kill_with SIGKILL
}

@test "kill 9" {
	kill_with 9
}

@test "kill TERM reaches the container's handler" {
	kill_with TERM
}

@test "kill without a signal sends SIGTERM" {
	set_args sh -c "$STOPPABLE"
	run_detached
	run hull kill "$ID"
	[ "$status" -eq 0 ]
	wait_for_status "$ID" stopped
}

@test "kill with an unknown signal fails" {
	set_args sh -c "$STOPPABLE"
	run_detached
	run hull kill "$ID" SIGNOPE
	[ "$status" -ne 0 ]
	[[ "$output" == *NOPE* ]]
	[ "$(state_field "$ID" .status)" = running ]
}

@test "kill --all kills every process of the container" {
	set_args sh -c 'sleep 1000 & sleep 1000 & trap "" TERM; wait'
	run_detached
	pid="$(state_field "$ID" .pid)"
	children=""
	for _ in $(seq 100); do
		children="$(cat "/proc/$pid/task/$pid/children")"
		[ "$(wc -w <<<"$children")" -ge 2 ] && break
		sleep 0.05
	done
	[ "$(wc -w <<<"$children")" -ge 2 ]
	run hull kill --all "$ID" KILL
	[ "$status" -eq 0 ]
	wait_for_status "$ID" stopped
	for p in $pid $children; do
		for _ in $(seq 50); do
			pid_alive "$p" || break
			sleep 0.05
		done
		pid_gone "$p"
	done
}

@test "delete of a running container without --force fails and changes nothing" {
	set_args sh -c "$STOPPABLE"
	run_detached
	pid="$(state_field "$ID" .pid)"
	run hull delete "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *running* ]]
	[ "$(state_field "$ID" .status)" = running ]
	[ "$(state_field "$ID" .pid)" = "$pid" ]
	pid_alive "$pid"
	[ -n "$(cgroup_dirs "$ID")" ]
}

@test "delete --force of a running container" {
	set_args sh -c "$STOPPABLE"
	run_detached
	pid="$(state_field "$ID" .pid)"
	run hull delete --force "$ID"
	[ "$status" -eq 0 ]
	run hull state "$ID"
	[ "$status" -ne 0 ]
	pid_gone "$pid"
	assert_no_leftovers
}

@test "delete --force of a created container" {
	create_container
	pid="$(state_field "$ID" .pid)"
	run hull delete --force "$ID"
	[ "$status" -eq 0 ]
	run hull state "$ID"
	[ "$status" -ne 0 ]
	pid_gone "$pid"
	assert_no_leftovers
}

@test "delete of a created container without --force" {
	# The runtime-spec allows delete only of a stopped container, runc also
	# deletes a created one; either way no process or state may remain after.
	create_container
	pid="$(state_field "$ID" .pid)"
	run hull delete "$ID"
	if [ "$status" -eq 0 ]; then
		pid_gone "$pid"
		assert_no_leftovers
	else
		[ "$(state_field "$ID" .status)" = created ]
	fi
}

@test "delete of an unknown container fails" {
	run hull delete nonexistent-"$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"nonexistent-$ID"* || "$output" == *"does not exist"* ]]
	run hull delete --force nonexistent-"$ID"
	[ "$status" -eq 0 ] || [[ "$output" == *"does not exist"* ]]
}

@test "start twice fails the second time" {
	set_args sh -c "$STOPPABLE"
	create_container
	run hull start "$ID"
	[ "$status" -eq 0 ]
	wait_for_status "$ID" running
	pid="$(state_field "$ID" .pid)"
	run hull start "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *running* ]]
	[ "$(state_field "$ID" .status)" = running ]
	[ "$(state_field "$ID" .pid)" = "$pid" ]
}

@test "start of a stopped container fails" {
	create_container
	run hull start "$ID"
	[ "$status" -eq 0 ]
	wait_for_status "$ID" stopped
	run hull start "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *stopped* ]]
}

@test "create with an existing ID fails and leaves the first intact" {
	set_args sh -c "$STOPPABLE"
	create_container
	pid="$(state_field "$ID" .pid)"
	created="$(state_field "$ID" .created)"

	hull_detached create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"$ID"* || "$output" == *exist* ]]

	[ "$(state_field "$ID" .status)" = created ]
	[ "$(state_field "$ID" .pid)" = "$pid" ]
	[ "$(state_field "$ID" .created)" = "$created" ]
	run hull start "$ID"
	[ "$status" -eq 0 ]
	wait_for_status "$ID" running
}

@test "create --pid-file writes the init pid" {
	create_container --pid-file "$TEST_DIR/pid"
	[ -s "$TEST_DIR/pid" ]
	[ "$(cat "$TEST_DIR/pid")" = "$(state_field "$ID" .pid)" ]
}

@test "run --detach --pid-file writes the init pid" {
	set_args sh -c "$STOPPABLE"
	run_detached --pid-file "$TEST_DIR/pid"
	[ "$(cat "$TEST_DIR/pid")" = "$(state_field "$ID" .pid)" ]
}

@test "foreground run forwards signals to the container" {
	set_args sh -c 'trap "exit 42" TERM; while :; do sleep 0.1; done'
	"$HULL" --root "$ROOT" run --bundle "$BUNDLE" "$ID" </dev/null >"$CTR_LOG" 2>&1 3>&- &
	hull_pid=$!
	if ! wait_for_status "$ID" running; then
		kill -9 "$hull_pid"
		false
	fi
	kill -TERM "$hull_pid"
	rc=0
	wait "$hull_pid" || rc=$?
	cat "$CTR_LOG"
	[ "$rc" -eq 42 ]
	# run deletes the container after it exits.
	run hull state "$ID"
	[ "$status" -ne 0 ]
}

@test "an init killed from outside is seen as stopped" {
	set_args sh -c "$STOPPABLE"
	run_detached
	pid="$(state_field "$ID" .pid)"
	kill -9 "$pid"
	wait_for_status "$ID" stopped
	run hull delete "$ID"
	[ "$status" -eq 0 ]
	assert_no_leftovers
}

@test "a dead init's pid reused by another process is not mistaken for the container" {
	requires_root
	set_args sh -c "$STOPPABLE"
	run_detached
	pid="$(state_field "$ID" .pid)"
	kill -9 "$pid"
	wait_for_status "$ID" stopped
	# Make the kernel hand out the same pid to a host process.
	impostor=""
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		echo $((pid - 1)) >/proc/sys/kernel/ns_last_pid
		sleep 1000 >/dev/null 2>&1 3>&- &
		if [ "$!" = "$pid" ]; then
			impostor=$!
			break
		fi
		kill "$!"
		wait "$!" || true
	done
	[ -n "$impostor" ] || skip "could not get pid $pid reused"
	run hull state "$ID"
	kill "$impostor"
	wait "$impostor" || true
	[ "$status" -eq 0 ]
	[ "$(jq -r .status <<<"$output")" = stopped ]
}

@test "run --preserve-fds passes extra fds to the container" {
	echo "preserved content" >"$TEST_DIR/extra"
	set_args sh -c 'cat <&3; cat /proc/self/fd/4'
	echo "second fd" >"$TEST_DIR/extra2"
	run hull run --preserve-fds 2 --bundle "$BUNDLE" "$ID" 3<"$TEST_DIR/extra" 4<"$TEST_DIR/extra2"
	[ "$status" -eq 0 ]
	[[ "$output" == *"preserved content"* ]]
	[[ "$output" == *"second fd"* ]]
}

@test "fds beyond --preserve-fds are not passed to the container" {
	echo "secret" >"$TEST_DIR/extra"
	set_args sh -c 'cat <&3 || echo closed'
	run hull run --bundle "$BUNDLE" "$ID" 3<"$TEST_DIR/extra"
	[ "$status" -eq 0 ]
	[[ "$output" != *secret* ]]
	[[ "$output" == *closed* ]]
}

@test "list shows containers as a table, as JSON and as IDs" {
	set_args sh -c "$STOPPABLE"
	run_detached
	other_bundle "$ID-b"
	hull_detached create --bundle "$OTHER_BUNDLE" "$ID-b"
	[ "$status" -eq 0 ]

	run hull list
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^ID\ +PID\ +STATUS\ +BUNDLE\ +CREATED\ +OWNER ]]
	[ "${#lines[@]}" -eq 3 ]
	[[ "$output" =~ $ID\ +[0-9]+\ +running\ +$BUNDLE ]]
	[[ "$output" =~ $ID-b\ +[0-9]+\ +created\ +$OTHER_BUNDLE ]]

	run hull list --format json
	[ "$status" -eq 0 ]
	[ "$(jq length <<<"$output")" -eq 2 ]
	[ "$(jq -r --arg id "$ID" '.[] | select(.id == $id) | .status' <<<"$output")" = running ]
	[ "$(jq -r --arg id "$ID-b" '.[] | select(.id == $id) | .status' <<<"$output")" = created ]
	[ "$(jq -r --arg id "$ID" '.[] | select(.id == $id) | .bundle' <<<"$output")" = "$BUNDLE" ]
	jq -e '.[] | .pid > 0 and (.created | length > 0)' <<<"$output"

	run hull list -q
	[ "$status" -eq 0 ]
	[ "$(sort <<<"$output")" = "$(printf '%s\n%s\n' "$ID" "$ID-b" | sort)" ]
}

@test "list of an empty root" {
	run hull list
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == ID* ]]
	run hull list -q
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "list --format json of an empty root is an empty array" {
	requires_hull # runc prints null
	run hull list --format json
	[ "$status" -eq 0 ]
	[ "$(jq -c . <<<"$output")" = "[]" ]
}

@test "run --no-pivot runs in the rootfs" {
	set_args sh -c 'grep ^tuser: /etc/passwd && ls /bin/busybox && test ! -e /work'
	run hull run --no-pivot --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *tuser* ]]
}

@test "run --no-new-keyring is accepted" {
	set_args sh -c 'echo hello'
	run hull run --no-new-keyring --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *hello* ]]
}

@test "create --no-pivot --no-new-keyring, then start" {
	set_args sh -c 'echo started >/tmp/mark'
	update_config '.root.readonly = false'
	create_container --no-pivot --no-new-keyring
	run hull start "$ID"
	[ "$status" -eq 0 ]
	wait_for_status "$ID" stopped
	[ "$(cat "$BUNDLE/rootfs/tmp/mark")" = started ]
}

@test "run -b and --bundle name the bundle from another directory" {
	set_args sh -c 'echo from-bundle'
	cd /
	run hull run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *from-bundle* ]]
}

@test "the bundle defaults to the current directory" {
	set_args sh -c 'echo from-cwd'
	cd "$BUNDLE"
	run hull run "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *from-cwd* ]]
}

@test "a create that died before its state is shown as creating and cleaned by delete --force" {
	requires_hull
	# What a runtime killed in the middle of create leaves: a state dir, no state.
	mkdir -p "$ROOT/$ID"
	run hull state "$ID"
	[ "$status" -eq 0 ]
	[ "$(jq -r .status <<<"$output")" = creating ]
	run hull list
	[[ "$output" == *"$ID"*creating* ]]
	run hull delete "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"--force"* ]]
	run hull delete --force "$ID"
	[ "$status" -eq 0 ]
	[ ! -e "$ROOT/$ID" ]
}

@test "delete --force of a container that a foreground run is waiting for" {
	set_args sleep 1000
	(
		rc=0
		"$HULL" --root "$ROOT" run --bundle "$BUNDLE" "$ID" >"$TEST_DIR/fg.out" 2>&1 || rc=$?
		echo "$rc" >"$TEST_DIR/fg.rc"
	) &
	local fg=$!
	wait_for_status "$ID" running
	run timeout 20 "$HULL" --root "$ROOT" delete --force "$ID"
	[ "$status" -eq 0 ]
	wait "$fg"
	# The foreground run reports the kill, not an error of its own.
	[ "$(cat "$TEST_DIR/fg.rc")" -eq 137 ]
	run hull state "$ID"
	[ "$status" -ne 0 ]
	assert_no_leftovers
}
