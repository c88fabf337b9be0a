#!/usr/bin/env bats
# shellcheck disable=SC2016 # jq filters use $variables
# shellcheck disable=SC2154 # $stderr is set by run --separate-stderr
# The command line: help, version, global flags, spec, features.

load helpers
bats_require_minimum_version 1.5.0


setup() {
	setup_common
	# A spec that ignored its flags would write config.json here, not in the repo.
	cd "$TEST_DIR" || return
}

teardown() {
	teardown_common
}

SUBCOMMANDS=(create start state kill delete run list spec features)

@test "--version names the runtime and the spec version" {
	run "$HULL" --version
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ version\ [0-9]+\.[0-9]+ ]]
	[[ "$output" =~ spec:\ 1\.[0-9]+\.[0-9]+ ]]
	run "$HULL" -v
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ version ]]
}

@test "--version of hull" {
	requires_hull
	run "$HULL" --version
	[[ "${lines[0]}" =~ ^hull\ version\ [0-9]+\.[0-9]+\.[0-9]+ ]]
}

@test "--help lists the subcommands and global flags" {
	run "$HULL" --help
	[ "$status" -eq 0 ]
	for c in "${SUBCOMMANDS[@]}"; do
		[[ "$output" == *"$c"* ]] || {
			echo "--help does not mention $c"
			false
		}
	done
	for f in --root --log --log-format --debug --systemd-cgroup; do
		[[ "$output" == *"$f"* ]]
	done
}

@test "each subcommand has --help" {
	for c in "${SUBCOMMANDS[@]}"; do
		run "$HULL" "$c" --help
		echo "$c --help: $status"
		[ "$status" -eq 0 ]
		[[ "$output" == *"$c"* ]]
		[[ "${output,,}" == *usage* ]]
	done
}

@test "spec --help only prints help" {
	run hull spec --help
	[ "$status" -eq 0 ]
	[ ! -e config.json ]
}

@test "subcommand --help documents its flags" {
	run "$HULL" create --help
	for f in --bundle --pid-file --console-socket --no-pivot --no-new-keyring --preserve-fds; do
		[[ "$output" == *"$f"* ]]
	done
	run "$HULL" run --help
	for f in --bundle --pid-file --console-socket --detach; do
		[[ "$output" == *"$f"* ]]
	done
	run "$HULL" kill --help
	[[ "$output" == *--all* ]]
	run "$HULL" delete --help
	[[ "$output" == *--force* ]]
	run "$HULL" list --help
	[[ "$output" == *--format* ]]
	[[ "$output" == *--quiet* || "$output" == *-q* ]]
	run "$HULL" spec --help
	[[ "$output" == *--rootless* ]]
	[[ "$output" == *--bundle* ]]
}

@test "an unknown subcommand fails and is named" {
	run hull frobnicate
	[ "$status" -ne 0 ]
	[[ "$output" == *frobnicate* ]]
}

@test "an unknown global flag fails and is named" {
	run "$HULL" --root "$ROOT" --frobflag list
	[ "$status" -ne 0 ]
	[[ "$output" == *frobflag* ]]
}

@test "an unknown subcommand flag fails and is named" {
	run hull create --frobflag "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *frobflag* ]]
	[ ! -e "$ROOT/$ID" ]
}

@test "a missing container id is an error" {
	for c in create start state kill delete run; do
		run hull "$c"
		echo "$c: $status $output"
		[ "$status" -ne 0 ]
	done
}

@test "--root is where the state lives" {
	create_container
	[ -d "$ROOT/$ID" ]
	run "$HULL" --root "$TEST_DIR/other-root" list -q
	[ "$status" -eq 0 ]
	[[ "$output" != *"$ID"* ]]
	run hull list -q
	[ "$output" = "$ID" ]
	run hull delete --force "$ID"
	[ "$status" -eq 0 ]
	[ ! -e "$ROOT/$ID" ]
}

@test "--log FILE --log-format json writes a JSON error line" {
	run hull --log "$TEST_DIR/log.json" --log-format json state "nonexistent-$ID"
	[ "$status" -ne 0 ]
	[ -s "$TEST_DIR/log.json" ]
	cat "$TEST_DIR/log.json"
	# Every line is JSON; one of them is the error.
	jq -e . "$TEST_DIR/log.json" >/dev/null
	run jq -r 'select(.level == "error") | .msg' "$TEST_DIR/log.json"
	[ "$status" -eq 0 ]
	[ -n "$output" ]
	jq -e 'select(.level == "error") | .time | length > 0' "$TEST_DIR/log.json"
}

@test "--log FILE --log-format json for a failing create" {
	update_config '.process.args = "true"'
	hull_detached --log "$TEST_DIR/log.json" --log-format json create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	jq -e . "$TEST_DIR/log.json" >/dev/null
	[ -n "$(jq -r 'select(.level == "error") | .msg' "$TEST_DIR/log.json")" ]
}

@test "--log FILE --log-format text writes a text error line" {
	run hull --log "$TEST_DIR/log.txt" --log-format text state "nonexistent-$ID"
	[ "$status" -ne 0 ]
	[ -s "$TEST_DIR/log.txt" ]
	cat "$TEST_DIR/log.txt"
	grep -q error "$TEST_DIR/log.txt"
	if jq -e . "$TEST_DIR/log.txt" >/dev/null 2>&1; then
		echo "text log is JSON"
		false
	fi
}

@test "--log-format with an unknown format fails" {
	run hull --log-format yaml list
	[ "$status" -ne 0 ]
	[[ "$output" == *yaml* ]]
}

@test "the error of a failing command is printed on stderr" {
	run --separate-stderr hull state "nonexistent-$ID"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"nonexistent-$ID"* || "$stderr" == *"does not exist"* ]]
}

@test "--debug is accepted" {
	run hull --debug list
	[ "$status" -eq 0 ]
	run hull --debug run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
}

@test "--systemd-cgroup without systemd gives a clear error and leaves nothing" {
	[ -d /run/systemd/system ] && skip "systemd is running here"
	update_config '.linux.cgroupsPath = $p' --arg p "hull-test.slice:hull:$ID"
	hull_detached --systemd-cgroup create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *systemd* ]]
	assert_no_leftovers
	if find /sys/fs/cgroup/*/hull-test.slice -maxdepth 0 2>/dev/null | grep -v process_api; then
		false
	fi

	# With a plain path too: the error is about systemd, not about the path.
	update_config '.linux.cgroupsPath = $p' --arg p "$CGPATH"
	hull_detached --systemd-cgroup create --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *systemd* ]]
	assert_no_leftovers
}

@test "spec writes a config.json that run accepts" {
	mkdir "$TEST_DIR/b2"
	run hull spec --bundle "$TEST_DIR/b2"
	[ "$status" -eq 0 ]
	[ -s "$TEST_DIR/b2/config.json" ]
	jq -e '.ociVersion and .process.args and .root.path == "rootfs"' "$TEST_DIR/b2/config.json"
	mv "$BUNDLE/rootfs" "$TEST_DIR/b2/rootfs"
	BUNDLE="$TEST_DIR/b2"
	# No terminal here, and the machine's rules want an absolute cgroup path.
	update_config '.process.terminal = false | .process.args = ["echo", "spec-ok"] |
		.linux.cgroupsPath = $cg' --arg cg "$CGPATH"
	run hull run --bundle "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *spec-ok* ]]
}

@test "spec writes into the current directory by default" {
	mkdir "$TEST_DIR/b3"
	cd "$TEST_DIR/b3"
	run hull spec
	[ "$status" -eq 0 ]
	jq -e .ociVersion config.json
}

@test "spec --rootless has a user namespace and id mappings" {
	mkdir "$TEST_DIR/b2"
	run hull spec --rootless --bundle "$TEST_DIR/b2"
	[ "$status" -eq 0 ]
	jq -e '[.linux.namespaces[].type] | index("user") != null' "$TEST_DIR/b2/config.json"
	jq -e '.linux.uidMappings | length > 0' "$TEST_DIR/b2/config.json"
	jq -e '.linux.gidMappings | length > 0' "$TEST_DIR/b2/config.json"
	# A rootless container cannot create a network namespace with devices.
	jq -e '[.linux.namespaces[].type] | index("network") == null' "$TEST_DIR/b2/config.json"
}

@test "spec refuses to overwrite an existing config.json" {
	mkdir "$TEST_DIR/b2"
	echo '{"mine": true}' >"$TEST_DIR/b2/config.json"
	run hull spec --bundle "$TEST_DIR/b2"
	[ "$status" -ne 0 ]
	[[ "$output" == *config.json* ]]
	[ "$(cat "$TEST_DIR/b2/config.json")" = '{"mine": true}' ]
}

@test "features is the runtime-spec features document" {
	run hull features
	[ "$status" -eq 0 ]
	jq -e . <<<"$output" >/dev/null
	[[ "$(jq -r .ociVersionMin <<<"$output")" =~ ^1\.[0-9]+\.[0-9]+ ]]
	[[ "$(jq -r .ociVersionMax <<<"$output")" =~ ^1\.[0-9]+\.[0-9]+ ]]
	for h in prestart createRuntime createContainer startContainer poststart poststop; do
		jq -e --arg h "$h" '.hooks | index($h) != null' <<<"$output"
	done
	for o in ro rw bind rbind nosuid nodev noexec relatime; do
		jq -e --arg o "$o" '.mountOptions | index($o) != null' <<<"$output"
	done
	jq -e '.linux | has("namespaces")' <<<"$output"
}

@test "features lists every namespace type" {
	requires_hull # runc 1.1.5 from Debian prints "namespaces": null
	run hull features
	[ "$status" -eq 0 ]
	for ns in pid network mount ipc uts user cgroup time; do
		jq -e --arg ns "$ns" '.linux.namespaces | index($ns) != null' <<<"$output"
	done
}
