# shellcheck shell=bash
# Shared helpers for hull's integration tests (bats). Load from each file:
#
#   load helpers
#   setup() { setup_common; }
#   teardown() { teardown_common; }
#
# API (the shared test layout; only ever extended, never changed):
#   HULL                 runtime under test (default: build-test/hull of this repo)
#   RECVTTY              console-socket receiver (tests/helpers/recvtty.c, built by tests/run)
#   ROOT BUNDLE ID CGPATH   set by setup_common for each test
#   hull ARGS...         "$HULL" --root "$ROOT" ARGS...
#   update_config FILTER [JQ-ARGS...]   edit $BUNDLE/config.json in place
#   set_args ARG...      set process.args
#   run_in_container CMD...   foreground `hull run` of CMD, bats-run style ($status, $output)
#   wait_for_status ID STATUS   poll `hull state` up to 5 s
#   requires_hull, requires_root, skip_reason MSG
# Extensions:
#   TEST_DIR             per-test temp dir holding root/ bundle/ ctr.log
#   CTR_LOG              where hull_detached sends the runtime's and container's stdio
#   hull_detached ARGS...   like `run hull ARGS...` for commands that leave a container
#                        alive (create, run -d): a container holding bats' capture pipe
#                        would block `run` until it exits. Sets $status $output $lines.
#   create_container [ARGS...]   hull create --bundle $BUNDLE ARGS... $ID, must succeed
#   run_detached [ARGS...]       hull run -d --bundle $BUNDLE ARGS... $ID, must succeed
#   state_field ID JQ-FILTER     print one field of `hull state ID`
#   is_hull              true if $HULL is hull (not runc/crun)
#   cgroup_dirs ID       print the cgroup dirs that exist for /hull-test/ID (all hierarchies)
#   assert_no_leftovers [ID]   fail unless no state dir, cgroup or container process remains
#   HULL_CMD_TIMEOUT     seconds any one `hull` command may take (default 60); past it the
#                        command and the test's containers are killed and the test fails

REPO_ROOT="$(cd "${BATS_TEST_DIRNAME:-$(dirname "${BASH_SOURCE[0]}")}/../.." && pwd)"
HULL_BUILD_DIR="${HULL_BUILD_DIR:-$REPO_ROOT/build-test}"
HULL="${HULL:-$HULL_BUILD_DIR/hull}"
RECVTTY="${RECVTTY:-$HULL_BUILD_DIR/recvtty}"
export HULL RECVTTY

# Everything under /sys/fs/cgroup except the supervisor's own hierarchy.
_cgroup_hierarchies() {
	local d
	for d in /sys/fs/cgroup/*/; do
		d="${d%/}"
		[[ "${d##*/}" == process_api ]] && continue
		[[ -e "$d/cgroup.procs" ]] || continue
		echo "$d"
	done
}

# Every runtime command gets a deadline (HULL_CMD_TIMEOUT seconds): a hung
# runtime, or a container holding bats' output pipe or the state lock, must fail
# the test, not hang the suite. On expiry the test's containers are killed.
HULL_CMD_TIMEOUT="${HULL_CMD_TIMEOUT:-60}"

hull() {
	local rc=0 start=$SECONDS
	timeout --foreground -k 5 "$HULL_CMD_TIMEOUT" "$HULL" --root "$ROOT" "$@" || rc=$?
	if ((SECONDS - start >= HULL_CMD_TIMEOUT)); then
		echo "TIMEOUT: hull $* took more than ${HULL_CMD_TIMEOUT}s" >&2
		_kill_test_containers
	fi
	return "$rc"
}

is_hull() {
	if [[ -z "${_HULL_IS_HULL:-}" ]]; then
		_HULL_IS_HULL=no
		if [[ "$("$HULL" --version 2>/dev/null | head -n1)" == hull* ]]; then
			_HULL_IS_HULL=yes
		fi
	fi
	[[ "$_HULL_IS_HULL" == yes ]]
}

requires_hull() {
	is_hull || skip "hull-only behaviour (HULL=$HULL)"
}

requires_root() {
	[[ "$EUID" -eq 0 ]] || skip "requires root"
}

skip_reason() {
	skip "$*"
}

# The busybox rootfs and the base config.json are made once per bats run; each
# test copies them. mkdir is the lock so that concurrent files (bats -j) agree.
_cache_dir() {
	echo "${BATS_RUN_TMPDIR:-${TMPDIR:-/tmp}/hull-test-cache-$EUID}/hull-cache"
}

_make_rootfs() {
	local r="$1" p
	mkdir -p "$r/bin" "$r/etc" "$r/proc" "$r/sys" "$r/dev" "$r/tmp" "$r/root" \
		"$r/home/tuser" "$r/usr/bin" "$r/usr/sbin" "$r/sbin" "$r/var"
	chmod 1777 "$r/tmp"
	chmod 700 "$r/root"
	cp /bin/busybox "$r/bin/busybox"
	while read -r p; do
		[[ -e "$r/$p" || -L "$r/$p" ]] && continue
		mkdir -p "$r/$(dirname "$p")"
		ln -s /bin/busybox "$r/$p"
	done < <(/bin/busybox --list-full)
	cat >"$r/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		tuser:x:1000:1000:tuser:/home/tuser:/bin/sh
		nobody:x:65534:65534:nobody:/nonexistent:/bin/false
	EOF
	cat >"$r/etc/group" <<-'EOF'
		root:x:0:
		tuser:x:1000:
		nogroup:x:65534:
	EOF
	chown 1000:1000 "$r/home/tuser"
}

_ensure_cache() {
	local c t
	c="$(_cache_dir)"
	[[ -f "$c/ready" ]] && return 0
	mkdir -p "$(dirname "$c")"
	if ! mkdir "$c.lock" 2>/dev/null; then
		# Another process builds it; wait.
		for _ in $(seq 200); do
			[[ -f "$c/ready" ]] && return 0
			sleep 0.05
		done
		echo "timeout waiting for the rootfs cache $c" >&2
		return 1
	fi
	t="$(mktemp -d "$(dirname "$c")/cache.XXXXXX")"
	_make_rootfs "$t/rootfs"
	if ! (cd "$t" && "$HULL" spec >/dev/null); then
		echo "\"$HULL spec\" failed: cannot make the base config.json" >&2
		rm -rf "$t"
		rmdir "$c.lock"
		return 1
	fi
	jq '.process.terminal = false | .process.args = ["true"] | .root.path = "rootfs"' \
		"$t/config.json" >"$t/config.base.json"
	touch "$t/ready"
	mv -T "$t" "$c"
	rmdir "$c.lock"
}

setup_common() {
	_ensure_cache
	local c
	c="$(_cache_dir)"
	TEST_DIR="$(mktemp -d "${BATS_RUN_TMPDIR:-${TMPDIR:-/tmp}}/t.XXXXXX")"
	ROOT="$TEST_DIR/root"
	BUNDLE="$TEST_DIR/bundle"
	CTR_LOG="$TEST_DIR/ctr.log"
	ID="t-$$-${BATS_SUITE_TEST_NUMBER:-${BATS_TEST_NUMBER:-0}}"
	CGPATH="/hull-test/$ID"
	mkdir -p "$ROOT" "$BUNDLE"
	: >"$CTR_LOG"
	cp -a "$c/rootfs" "$BUNDLE/rootfs"
	jq --arg cg "$CGPATH" '.linux.cgroupsPath = $cg' "$c/config.base.json" \
		>"$BUNDLE/config.json"
	export ROOT BUNDLE ID CGPATH TEST_DIR CTR_LOG
}

update_config() {
	local f="$BUNDLE/config.json"
	jq "${@:2}" "$1" "$f" >"$f.new" && mv "$f.new" "$f"
}

set_args() {
	local jqargs=() list="" i=0 a
	for a in "$@"; do
		jqargs+=(--arg "a$i" "$a")
		list+="${list:+,}\$a$i"
		i=$((i + 1))
	done
	update_config ".process.args = [$list]" "${jqargs[@]}"
}

run_in_container() {
	set_args "$@"
	run hull run --bundle "$BUNDLE" "$ID"
}

hull_detached() {
	local off
	off="$(stat -c %s "$CTR_LOG")"
	status=0
	hull "$@" </dev/null >>"$CTR_LOG" 2>&1 3>&- || status=$?
	output="$(tail -c "+$((off + 1))" "$CTR_LOG")"
	# shellcheck disable=SC2034 # $lines is bats' variable, read by the tests
	mapfile -t lines <<<"$output"
	# shellcheck disable=SC2034
	[[ -n "$output" ]] || lines=()
}

create_container() {
	hull_detached create --bundle "$BUNDLE" "$@" "$ID"
	if [[ "$status" -ne 0 ]]; then
		echo "create $ID failed ($status): $output" >&2
		return 1
	fi
}

run_detached() {
	hull_detached run --detach --bundle "$BUNDLE" "$@" "$ID"
	if [[ "$status" -ne 0 ]]; then
		echo "run -d $ID failed ($status): $output" >&2
		return 1
	fi
}

state_field() {
	hull state "$1" | jq -r "$2"
}

wait_for_status() {
	local id="$1" want="$2" got="" i
	for ((i = 0; i < 100; i++)); do
		got="$(hull state "$id" 2>/dev/null | jq -r .status 2>/dev/null)" || got=""
		[[ "$got" == "$want" ]] && return 0
		sleep 0.05
	done
	echo "container $id: status \"$got\", expected \"$want\" after 5 s" >&2
	return 1
}

cgroup_dirs() {
	local h
	while read -r h; do
		[[ -d "$h/hull-test/$1" ]] && echo "$h/hull-test/$1"
	done < <(_cgroup_hierarchies)
	return 0
}

# Cgroups of this test's containers: /hull-test/$ID and /hull-test/$ID-*.
_test_cgroup_dirs() {
	local h d
	[[ -n "${ID:-}" ]] || return 0
	while read -r h; do
		for d in "$h/hull-test/$ID" "$h/hull-test/$ID"-*; do
			[[ -d "$d" ]] && echo "$d"
		done
	done < <(_cgroup_hierarchies)
	return 0
}

_kill_cgroup_procs() { # DIR: SIGKILL every process in DIR and below
	local p
	if [[ -w "$1/freezer.state" ]]; then
		echo THAWED >"$1/freezer.state" 2>/dev/null
	fi
	while read -r p; do
		kill -9 "$p" 2>/dev/null
	done < <(find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null)
	return 0
}

_kill_test_containers() {
	local d
	for d in $(_test_cgroup_dirs); do
		_kill_cgroup_procs "$d"
	done
}

# Processes still inside the test's cgroups: only ever our own containers.
_cgroup_pids() {
	local d
	for d in $(cgroup_dirs "$1"); do
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
	done | sort -u
}

assert_no_leftovers() {
	local id="${1:-$ID}" bad=0 d p
	if [[ -e "$ROOT/$id" ]]; then
		echo "leftover state dir $ROOT/$id" >&2
		bad=1
	fi
	for d in $(cgroup_dirs "$id"); do
		echo "leftover cgroup $d" >&2
		bad=1
	done
	for p in $(_cgroup_pids "$id"); do
		echo "leftover process $p: $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)" >&2
		bad=1
	done
	return "$bad"
}

_remove_cgroup() {
	local d="$1" i
	for ((i = 0; i < 50; i++)); do
		_kill_cgroup_procs "$d"
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		[[ -d "$d" ]] || return 0
		sleep 0.1
	done
	echo "could not remove cgroup $d" >&2
}

teardown_common() {
	local bad=0 ids id d mnts
	[[ -n "${TEST_DIR:-}" && -d "$TEST_DIR" ]] || return 0

	# bats shows a failed test's stdout: add what the last command and the
	# detached containers printed.
	if [[ -z "${BATS_TEST_COMPLETED:-}" ]]; then
		echo "--- last \$output (status ${status:-none}):"
		echo "${output:-}"
		if [[ -s "$CTR_LOG" ]]; then
			echo "--- $CTR_LOG:"
			tail -n 20 "$CTR_LOG"
		fi
	fi

	# Every container the test left: listed ones, and state dirs in case list fails.
	ids="$( (
		hull list -q 2>/dev/null 3>&-
		find "$ROOT" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null
	) | sort -u)"
	for id in $ids; do
		hull delete --force "$id" </dev/null >/dev/null 2>&1 3>&- || true
	done

	# Cgroups of this test's containers must be gone after delete.
	for id in $ids "$ID"; do
		for d in $(cgroup_dirs "$id"); do
			echo "LEAK: cgroup $d left behind" >&2
			bad=1
			_remove_cgroup "$d"
		done
	done

	# No mount may remain under the test dir; never rm -rf across one.
	mnts="$(awk -v p="$TEST_DIR/" 'index($5 "/", p) == 1 { print $5 }' /proc/self/mountinfo)"
	if [[ -n "$mnts" ]]; then
		echo "LEAK: mounts left under $TEST_DIR:" "$mnts" >&2
		bad=1
		umount -R "$TEST_DIR" 2>/dev/null
		while read -r d; do
			umount -l "$d" 2>/dev/null
		done < <(sort -r <<<"$mnts")
	fi
	if awk -v p="$TEST_DIR/" 'index($5 "/", p) == 1 { f = 1 } END { exit !f }' \
		/proc/self/mountinfo; then
		echo "cannot unmount under $TEST_DIR; leaving it" >&2
		return 1
	fi
	rm -rf --one-file-system "$TEST_DIR"
	return "$bad"
}
