#!/usr/bin/env bats
# Bad bundles: each fails with one message naming config.json, the JSON path and
# what was wrong, and leaves no state dir, cgroup, mount or process behind.
# runc words its messages differently: against runc only the failure and the
# absence of leftovers are checked.

load helpers

setup() {
	setup_common
	CONFIG="$BUNDLE/config.json"
}

teardown() {
	teardown_common
}

# create must fail; with hull, its message must hold every given string.
create_fails() {
	hull_detached create --bundle "$BUNDLE" "$ID"
	echo "status $status, output:"
	echo "$output"
	[ "$status" -ne 0 ]
	assert_no_leftovers
	run hull list -q
	[ -z "$output" ]
	if is_hull; then
		hull_detached create --bundle "$BUNDLE" "$ID"
		local s
		for s in "$@"; do
			if [[ "$output" != *"$s"* ]]; then
				echo "hull's message lacks \"$s\""
				return 1
			fi
		done
		# One message, not a cascade.
		[ "$(grep -c . <<<"$output")" -eq 1 ]
	fi
}

@test "malformed JSON" {
	printf '{"ociVersion": "1.0.2", "process": {' >"$CONFIG"
	create_fails "$CONFIG:"
}

@test "malformed JSON with run" {
	echo '{ not json }' >"$CONFIG"
	run hull run --bundle "$BUNDLE" "$ID"
	[ "$status" -ne 0 ]
	assert_no_leftovers
	if is_hull; then
		[[ "$output" == *"$CONFIG:"* ]]
	fi
}

@test "config.json that is not an object" {
	echo '[1, 2]' >"$CONFIG"
	create_fails "$CONFIG:"
}

@test "missing config.json" {
	rm "$CONFIG"
	create_fails "$CONFIG"
}

@test "process.args of the wrong type" {
	update_config '.process.args = "true"'
	create_fails "$CONFIG: process.args:"
}

@test "process.args element of the wrong type" {
	update_config '.process.args = ["echo", 5]'
	create_fails "$CONFIG: process.args[1]:"
}

@test "empty process.args" {
	update_config '.process.args = []'
	create_fails "$CONFIG: process.args:"
}

@test "unknown namespace type" {
	n="$(jq '.linux.namespaces | length' "$CONFIG")"
	update_config '.linux.namespaces += [{"type": "bogus"}]'
	create_fails "$CONFIG: linux.namespaces[$n].type:" bogus
}

@test "mount without destination" {
	n="$(jq '.mounts | length' "$CONFIG")"
	update_config '.mounts += [{"type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}]'
	create_fails "$CONFIG: mounts[$n]" destination
}

@test "missing rootfs directory" {
	rm -rf "$BUNDLE/rootfs"
	create_fails "$CONFIG: root.path:"
}

@test "root.path that is a file" {
	touch "$BUNDLE/notadir"
	update_config '.root.path = "notadir"'
	create_fails "$CONFIG: root.path:"
}

@test "uid -1 is out of range" {
	update_config '.process.user.uid = -1'
	create_fails "$CONFIG: process.user.uid:"
}

@test "uid 4294967296 is out of range" {
	update_config '.process.user.uid = 4294967296'
	create_fails "$CONFIG: process.user.uid:"
}

@test "gid -1 is out of range" {
	update_config '.process.user.gid = -1'
	create_fails "$CONFIG: process.user.gid:"
}

@test "uid that is not an integer" {
	update_config '.process.user.uid = "root"'
	create_fails "$CONFIG: process.user.uid:"
}

@test "relative cwd" {
	update_config '.process.cwd = "tmp"'
	create_fails "$CONFIG: process.cwd:"
}

@test "cwd that is a file" {
	update_config '.process.cwd = "/etc/passwd"'
	create_fails "process.cwd" /etc/passwd
}

@test "missing bundle directory" {
	hull_detached create --bundle "$TEST_DIR/no-such-bundle" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"$TEST_DIR/no-such-bundle"* ]]
	assert_no_leftovers
}

@test "bundle path that is a file" {
	hull_detached create --bundle "$CONFIG" "$ID"
	[ "$status" -ne 0 ]
	[[ "$output" == *"$CONFIG"* ]]
	assert_no_leftovers
}

@test "non-existent executable in process.args" {
	update_config '.process.args = ["/bin/nonexistent-cmd"]'
	create_fails /bin/nonexistent-cmd
}

@test "executable not found in PATH" {
	update_config '.process.args = ["nonexistent-cmd"]'
	create_fails nonexistent-cmd
}

@test "failing createRuntime hook fails create and leaves nothing" {
	update_config '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]'
	create_fails createRuntime
}

@test "createRuntime hook with a missing path" {
	update_config '.hooks.createRuntime = [{"path": "/nonexistent/hook"}]'
	create_fails /nonexistent/hook
}

@test "unknown rlimit type" {
	update_config '.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]'
	create_fails "$CONFIG: process.rlimits[0].type:" RLIMIT_BOGUS
}

@test "an ID with a slash is refused" {
	hull_detached create --bundle "$BUNDLE" "a/b"
	[ "$status" -ne 0 ]
	[ ! -e "$ROOT/a" ]
	hull_detached create --bundle "$BUNDLE" ".."
	[ "$status" -ne 0 ]
}
