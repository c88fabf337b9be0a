# shellcheck shell=sh
# busybox ash has ${var/pattern/replacement}:
# shellcheck disable=SC3060
# Helpers for the guest tests (busybox sh). Sourced by tests/vm/runtest.sh in the
# process that runs one test function. Each test gets (from main.sh):
#
#   HULL      the runtime under test (/usr/local/bin/hull in the guest)
#   T         the test's scratch dir;  ROOT=$T/root (--root)  BUNDLE=$T/bundle
#   ID        the container id (vm<N>);  CGPATH=/hull-test/$ID
#   CGDIR     /sys/fs/cgroup$CGPATH, the container's leaf
#   SHARED    $BUNDLE/shared, bind-mounted read-write at /shared in the container
#
# API:
#   hull ARGS...          "$HULL" --root "$ROOT" ARGS...
#   make_bundle           write $BUNDLE/config.json (and rootfs/ once) from
#                         tests/vm/config.json.in and these variables:
#                           ARGS       process.args as JSON   (default ["true"])
#                           RES        members added to linux.resources, JSON without
#                                      braces: '"pids":{"limit":8}'   (default none)
#                           DEV_RULES  rules appended to linux.resources.devices after
#                                      the deny-all rule, JSON without brackets
#                           DEVICES    linux.devices as JSON  (default [])
#                           NAMESPACES linux.namespaces as JSON (default: $DEFAULT_NAMESPACES,
#                                      pid network ipc uts mount cgroup)
#   create [ID]           hull create --bundle $BUNDLE ID (stdio to $T/ctr.log), must succeed
#   start [ID]            hull start ID, must succeed
#   delete [ID]           hull delete --force ID, must succeed
#   run_fg                hull run --bundle $BUNDLE $ID; sets RC, output in $T/out
#   state_field KEY [ID]  one top-level string or number of `hull state ID`
#   wait_status STATUS [ID]   poll `hull state` for up to 20 s
#   wait_file PATH [PID]  wait up to 30 s for PATH to exist (not past PID's exit)
#   cg FILE [DIR]         the content of DIR/FILE (DIR defaults to $CGDIR), or
#                         "(no file PATH)"
#   fail MSG              fail the test
#   skip REASON           skip the test (TAP "# skip REASON")
#   expect_eq WHAT GOT WANT
#   expect_ge WHAT GOT MIN
#   is_hull               true if $HULL is hull (not runc or crun)
#   requires_hull         skip unless is_hull
#   requires_command CMD  skip unless `$HULL --help` lists CMD
#   requires_resources    skip when the probe found that the runtime ignores
#                         linux.resources on v2 (see README: "the resource rule")

hull() {
	"$HULL" --root "$ROOT" "$@"
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

skip() {
	echo "$*" >"$T.skip"
	exit 77
}

expect_eq() {
	[ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
	echo "ok: $1 = '$2'" >&2
}

expect_ge() {
	case "$2" in
	'' | *[!0-9]*) fail "$1: got '$2', want a number >= $3" ;;
	esac
	[ "$2" -ge "$3" ] || fail "$1: got $2, want >= $3"
	echo "ok: $1 = $2 (>= $3)" >&2
}

DEFAULT_NAMESPACES='[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"cgroup"}]'

# Fill in the template with ash's literal ${var/pattern/replacement}: no sed
# escaping of the JSON.
make_bundle() {
	_t=$(cat /vm/config.json.in)
	_res='{"devices":[{"allow":false,"access":"rwm"}'
	[ -n "${DEV_RULES:-}" ] && _res="$_res,$DEV_RULES"
	_res="$_res]"
	[ -n "${RES:-}" ] && _res="$_res,$RES"
	_res="$_res}"
	_t=${_t/\"@ARGS@\"/${ARGS:-[\"true\"]}}
	_t=${_t/\"@RESOURCES@\"/$_res}
	_t=${_t/\"@DEVICES@\"/${DEVICES:-[]}}
	_t=${_t/\"@NAMESPACES@\"/${NAMESPACES:-$DEFAULT_NAMESPACES}}
	_t=${_t/@CGPATH@/$CGPATH}
	_t=${_t/@SHARED@/$SHARED}
	mkdir -p "$BUNDLE" "$SHARED"
	if [ ! -d "$BUNDLE/rootfs" ]; then
		cp -a /vm/rootfs "$BUNDLE/rootfs" || fail "cannot copy the rootfs"
	fi
	printf '%s\n' "$_t" >"$BUNDLE/config.json"
}

create() {
	hull create --bundle "$BUNDLE" "${1:-$ID}" </dev/null >>"$T/ctr.log" 2>&1 ||
		fail "hull create ${1:-$ID} failed: $(tail -n 5 "$T/ctr.log")"
}

start() {
	hull start "${1:-$ID}" || fail "hull start ${1:-$ID} failed"
}

delete() {
	hull delete --force "${1:-$ID}" || fail "hull delete --force ${1:-$ID} failed"
}

run_fg() {
	RC=0
	hull run --bundle "$BUNDLE" "$ID" </dev/null >"$T/out" 2>&1 || RC=$?
	echo "hull run: exit $RC, output:" >&2
	sed 's/^/  | /' "$T/out" >&2
}

# `hull state` prints JSON; a top-level key is on its own line or in a compact
# object, either way the first match is the top-level one for status/pid.
state_field() {
	hull state "${2:-$ID}" 2>/dev/null | tr ',' '\n' |
		sed -n "s/^[{ ]*\"$1\": *\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p" | head -n 1
}

wait_status() {
	_i=0
	while [ "$_i" -lt 200 ]; do
		_s=$(state_field status "${2:-$ID}")
		[ "$_s" = "$1" ] && return 0
		usleep 100000
		_i=$((_i + 1))
	done
	fail "container ${2:-$ID}: status '$_s', expected '$1' after 20 s"
}

wait_file() {
	_i=0
	while [ ! -e "$1" ]; do
		[ "$_i" -ge 300 ] && fail "$1 did not appear in 30 s"
		if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
			[ -e "$1" ] && break
			fail "$1 did not appear, and process $2 has exited"
		fi
		usleep 100000
		_i=$((_i + 1))
	done
}

# In $(...) a fail would only end the subshell: a missing file reads as a
# value that no expectation matches.
cg() {
	cat "${2:-$CGDIR}/$1" 2>/dev/null || echo "(no file ${2:-$CGDIR}/$1)"
}

is_hull() {
	"$HULL" --version 2>/dev/null | head -n 1 | grep -q '^hull'
}

requires_hull() {
	is_hull || skip "hull-only behaviour (the runtime is $("$HULL" --version | head -n 1))"
}

requires_command() {
	"$HULL" --help 2>&1 | grep -Eq "^[[:space:]]+$1([[:space:]]|\$)" ||
		skip "the runtime has no '$1' command yet"
}

requires_resources() {
	case "$(cat /run/vm/resources 2>/dev/null)" in
	unwired) skip "the runtime does not apply linux.resources on cgroup v2 yet (see the probe)" ;;
	esac
	return 0
}
