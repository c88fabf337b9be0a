#!/usr/bin/env bats
# OCI hooks: each of the six runs at its moment, in its namespace, with the
# state on stdin, its args and env; timeouts and the spec's failure rules.

load helpers

setup() {
	setup_common
	OUT=$TEST_DIR/hooks-out
	mkdir -p "$OUT" "$BUNDLE/rootfs/hooks-out"
	# A host hook records what it got under $OUT/NAME.*, NAME being its first arg.
	cat >"$TEST_DIR/hook" <<-EOF
		#!/bin/bash
		name=\$1
		env >"$OUT/\$name.env"
		PATH=/usr/sbin:/usr/bin:/sbin:/bin
		cat >"$OUT/\$name.state"
		printf '%s\n' "\$@" >"$OUT/\$name.args"
		readlink /proc/self/ns/mnt >"$OUT/\$name.mnt"
		echo "\$name" >>"$OUT/order"
	EOF
	chmod 755 "$TEST_DIR/hook"
	# startContainer hooks run in the container: the same, inside the rootfs,
	# writing through a bind mount of $OUT.
	cat >"$BUNDLE/rootfs/hook.sh" <<-'EOF'
		#!/bin/sh
		name=$1
		env >"/hooks-out/$name.env"
		cat >"/hooks-out/$name.state"
		printf '%s\n' "$@" >"/hooks-out/$name.args"
		readlink /proc/self/ns/mnt >"/hooks-out/$name.mnt"
		echo "$name" >>/hooks-out/order
	EOF
	chmod 755 "$BUNDLE/rootfs/hook.sh"
	update_config '.mounts += [{destination: "/hooks-out", type: "bind", source: $o,
		options: ["bind"]}]' --arg o "$OUT"
}

teardown() {
	teardown_common
}

# add_hook KIND NAME [EXTRA-ARG...]: a recording hook of KIND named NAME.
add_hook() {
	local kind=$1 name=$2 path=$TEST_DIR/hook args
	shift 2
	[ "$kind" = startContainer ] && path=/hook.sh
	args=$(jq -nc '$ARGS.positional' --args -- hook "$name" "$@")
	update_config '.hooks[$k] += [{path: $p, args: $a,
		env: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOOK_KIND=" + $k]}]' \
		--arg k "$kind" --arg p "$path" --argjson a "$args"
}

add_all_hooks() {
	local k
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		add_hook "$k" "$k"
	done
}

ran() {
	[ -e "$OUT/$1.state" ]
}

# Not `! ran`: bats does not fail a test on a negated command.
not_ran() {
	[ ! -e "$OUT/$1.state" ]
}

wait_ran() {
	local i
	for ((i = 0; i < 100; i++)); do
		ran "$1" && return 0
		sleep 0.05
	done
	echo "hook $1 did not run" >&2
	return 1
}

@test "each hook runs at its moment" {
	add_all_hooks
	create_container
	ran prestart
	ran createRuntime
	ran createContainer
	not_ran startContainer
	not_ran poststop
	# runc 1.1.5 runs poststart hooks at create already.
	if is_hull; then
		not_ran poststart
	fi
	hull start "$ID"
	# poststart runs before start returns; startContainer ran in the
	# container just before its process.
	ran poststart
	wait_ran startContainer
	not_ran poststop
	wait_for_status "$ID" stopped
	not_ran poststop
	hull delete "$ID"
	ran poststop
}

@test "hooks run in the spec's order" {
	add_all_hooks
	add_hook poststart poststart-2
	create_container
	hull start "$ID"
	wait_for_status "$ID" stopped
	hull delete "$ID"
	cat "$OUT/order"
	# prestart and createRuntime run in either order, before createContainer.
	run grep -v -e prestart -e startContainer "$OUT/order"
	[ "${lines[*]}" = "createRuntime createContainer poststart poststart-2 poststop" ]
	run grep -n -e prestart -e createContainer "$OUT/order"
	[[ "${lines[0]}" == *:prestart ]]
	# startContainer runs before the process is executed, poststart after:
	# runc 1.1.5 races the two, so only hull is held to it.
	if is_hull; then
		run grep -v prestart "$OUT/order"
		[ "${lines[*]}" = \
			"createRuntime createContainer startContainer poststart poststart-2 poststop" ]
	fi
}

@test "hooks get the state on stdin" {
	add_all_hooks
	create_container
	local pid
	pid=$(state_field "$ID" .pid)
	hull start "$ID"
	wait_ran startContainer
	wait_for_status "$ID" stopped
	hull delete "$ID"
	local k
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		echo "$k: $(cat "$OUT/$k.state")"
		[ "$(jq -r .id "$OUT/$k.state")" = "$ID" ]
		[ "$(jq -r .bundle "$OUT/$k.state")" = "$BUNDLE" ]
		[ -n "$(jq -r .ociVersion "$OUT/$k.state")" ]
		jq -e '.status | IN("creating", "created", "running", "stopped")' "$OUT/$k.state"
	done
	# The runtime-namespace hooks see the pid as the host does.
	for k in prestart createRuntime poststart; do
		[ "$(jq -r .pid "$OUT/$k.state")" = "$pid" ]
	done
	for k in createContainer startContainer; do
		jq -e '.pid > 0' "$OUT/$k.state"
	done
	[ "$(jq -r .status "$OUT/createRuntime.state")" = creating ]
	[ "$(jq -r .status "$OUT/createContainer.state")" = creating ]
	[ "$(jq -r .status "$OUT/poststop.state")" = stopped ]
}

@test "hooks get their args and only their env" {
	export HULL_TEST_NOT_FOR_HOOKS=leak
	add_hook prestart prestart "an arg with spaces" second
	add_hook createRuntime createRuntime
	create_container
	run cat "$OUT/prestart.args"
	[ "${lines[0]}" = prestart ]
	[ "${lines[1]}" = "an arg with spaces" ]
	[ "${lines[2]}" = second ]
	[ "${#lines[@]}" -eq 3 ]
	grep -qx 'HOOK_KIND=prestart' "$OUT/prestart.env"
	grep -qx 'HOOK_KIND=createRuntime' "$OUT/createRuntime.env"
	grep -qx 'PATH=/usr/sbin:/usr/bin:/sbin:/bin' "$OUT/prestart.env"
	run grep -c HULL_TEST_NOT_FOR_HOOKS "$OUT/prestart.env" "$OUT/createRuntime.env"
	[ "$output" = "$OUT/prestart.env:0
$OUT/createRuntime.env:0" ]
}

@test "hooks run in their namespaces" {
	add_all_hooks
	create_container
	local pid host_mnt ctr_mnt
	pid=$(state_field "$ID" .pid)
	host_mnt=$(readlink /proc/self/ns/mnt)
	ctr_mnt=$(readlink "/proc/$pid/ns/mnt")
	[ "$ctr_mnt" != "$host_mnt" ]
	hull start "$ID"
	wait_ran startContainer
	wait_for_status "$ID" stopped
	hull delete "$ID"
	# Runtime namespace.
	[ "$(cat "$OUT/prestart.mnt")" = "$host_mnt" ]
	[ "$(cat "$OUT/createRuntime.mnt")" = "$host_mnt" ]
	[ "$(cat "$OUT/poststart.mnt")" = "$host_mnt" ]
	[ "$(cat "$OUT/poststop.mnt")" = "$host_mnt" ]
	# Container namespace.
	[ "$(cat "$OUT/createContainer.mnt")" = "$ctr_mnt" ]
	[ "$(cat "$OUT/startContainer.mnt")" = "$ctr_mnt" ]
}

@test "a hook past its timeout is killed and create fails" {
	local mark="29.$$$RANDOM"
	update_config '.hooks.createRuntime = [{path: "/bin/sleep", args: ["sleep", $m],
		timeout: 1}]' --arg m "$mark"
	local t0 t1
	t0=$(date +%s)
	hull_detached create --bundle "$BUNDLE" "$ID"
	t1=$(date +%s)
	[ "$status" -ne 0 ]
	[ $((t1 - t0)) -lt 10 ]
	# The hook process is gone, not left running.
	run pgrep -f -x "sleep $mark"
	[ "$status" -eq 1 ]
	run hull state "$ID"
	[ "$status" -ne 0 ]
	assert_no_leftovers
}

@test "a failing createRuntime hook fails create and leaves nothing" {
	update_config '.hooks.createRuntime = [{path: "/bin/false"}]'
	add_hook createContainer createContainer
	hull_detached create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[ -n "$output" ]
	# Later hooks do not run.
	not_ran createContainer
	run hull state "$ID"
	[ "$status" -ne 0 ]
	run hull list -q
	[ -z "$output" ]
	assert_no_leftovers
}

@test "a failing prestart hook fails create and leaves nothing" {
	update_config '.hooks.prestart = [{path: "/bin/false"}]'
	hull_detached create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	run hull state "$ID"
	[ "$status" -ne 0 ]
	assert_no_leftovers
}

@test "a missing hook binary fails create" {
	update_config '.hooks.createRuntime = [{path: "/no/such/hook"}]'
	hull_detached create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	assert_no_leftovers
}

@test "a failing poststop hook only warns: delete succeeds" {
	update_config '.hooks.poststop = [{path: "/bin/false"}]'
	add_hook poststop poststop-after
	create_container
	hull start "$ID"
	wait_for_status "$ID" stopped
	run hull delete "$ID"
	[ "$status" -eq 0 ]
	run hull state "$ID"
	[ "$status" -ne 0 ]
	# The remaining poststop hooks still run (runc 1.1.5 stops at the failure).
	if is_hull; then
		ran poststop-after
	fi
	assert_no_leftovers
}

@test "hooks run with run as with create and start" {
	add_all_hooks
	run_in_container true
	[ "$status" -eq 0 ]
	local k
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		ran "$k"
	done
}
