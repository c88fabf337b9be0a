# shellcheck shell=sh source-path=SCRIPTDIR
# The guest's test driver (busybox sh), started by /init with stdout on the
# results port. Runs every `t NAME FUNCTION` line of tests.sh, each in its own
# process under a deadline, and prints TAP. After each test it removes what the
# test left (containers, cgroups) and fails the test if anything was left.
#
# Settings from the host, in /vm/env: VM_FILTER (an egrep regex on test names),
# VM_STRICT (1: the resource probe fails instead of skipping),
# VM_TEST_TIMEOUT (seconds per test).

export HULL=/usr/local/bin/hull
# shellcheck source=/dev/null
. /vm/env
VM_TEST_TIMEOUT=${VM_TEST_TIMEOUT:-60}
export VM_STRICT
mkdir -p /run/vm

log() {
	echo "$*" >&2
}

# Centiseconds of uptime.
now_cs() {
	_u=$(cut -d' ' -f1 /proc/uptime)
	echo $((${_u%.*} * 100 + 1${_u#*.} - 100))
}

N=0
FAILED=0
T0=$(now_cs)

echo "# vm: guest up after $(cut -d' ' -f1 /proc/uptime) s of uptime; kernel $(uname -r)"
echo "# vm: runtime $("$HULL" --version 2>&1 | head -n 1)"
echo "# vm: cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"

kill_cgroup() { # DIR: SIGKILL everything in DIR and below, then remove it
	_i=0
	while [ -d "$1" ] && [ "$_i" -lt 50 ]; do
		[ -w "$1/cgroup.kill" ] && echo 1 >"$1/cgroup.kill" 2>/dev/null
		[ -w "$1/cgroup.freeze" ] && echo 0 >"$1/cgroup.freeze" 2>/dev/null
		find "$1" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$1" ] && usleep 100000
		_i=$((_i + 1))
	done
}

# Everything the test left behind: say what, remove it. A runtime that hangs
# gets a deadline, then the cgroups are killed from outside.
cleanup_test() {
	for _d in "$ROOT"/*; do
		[ -d "$_d" ] || continue
		echo "container ${_d##*/} (deleted now)"
		timeout -s KILL 10 "$HULL" --root "$ROOT" delete --force "${_d##*/}" \
			</dev/null >/dev/null 2>&1 || echo "delete --force ${_d##*/} failed or hung"
	done
	for _d in /sys/fs/cgroup/hull-test/"$ID" /sys/fs/cgroup/hull-test/"$ID"-*; do
		[ -d "$_d" ] || continue
		echo "cgroup ${_d#/sys/fs/cgroup} (removed now)"
		kill_cgroup "$_d"
	done
	for _d in "$ROOT"/*; do
		[ -d "$_d" ] || continue
		timeout -s KILL 10 "$HULL" --root "$ROOT" delete --force "${_d##*/}" \
			</dev/null >/dev/null 2>&1
	done
	if grep -q " $T" /proc/mounts; then
		echo "mounts under $T (unmounted now)"
		grep " $T" /proc/mounts | cut -d' ' -f2 | sort -r | while read -r _m; do
			umount -l "$_m"
		done
	fi
	rm -rf "$T"
}

t() { # NAME FUNCTION
	if [ -n "${VM_FILTER:-}" ] && ! echo "$1" | grep -Eq "$VM_FILTER"; then
		return 0
	fi
	N=$((N + 1))
	T=/tmp/t$N
	ID=vm$N
	ROOT=$T/root
	BUNDLE=$T/bundle
	SHARED=$BUNDLE/shared
	CGPATH=/hull-test/$ID
	CGDIR=/sys/fs/cgroup$CGPATH
	export T ID ROOT BUNDLE SHARED CGPATH CGDIR
	mkdir -p "$ROOT" "$BUNDLE"
	log "=== $N - $1 ($2)"
	_t0=$(now_cs)
	_rc=0
	timeout -s KILL "$VM_TEST_TIMEOUT" /bin/sh /vm/runtest.sh "$2" >"$T.log" 2>&1 || _rc=$?
	_el=$(($(now_cs) - _t0))
	sed 's/^/  | /' "$T.log" >&2
	_leaks=$(cleanup_test)
	if [ "$_rc" -eq 77 ] && [ -z "$_leaks" ]; then
		echo "ok $N - $1 # skip $(cat "$T.skip" 2>/dev/null)"
	elif [ "$_rc" -eq 0 ] && [ -z "$_leaks" ]; then
		echo "ok $N - $1"
	else
		FAILED=$((FAILED + 1))
		echo "not ok $N - $1"
		if [ "$_rc" -ne 0 ] && [ "$_el" -ge $((VM_TEST_TIMEOUT * 100 - 50)) ]; then
			echo "# timed out after $VM_TEST_TIMEOUT s"
		elif [ "$_rc" -ne 0 ]; then
			echo "# exit status $_rc"
		fi
		tail -n 25 "$T.log" | sed 's/^/# /'
		# After a failure, leftovers are expected (the test stopped early);
		# after a pass they are the failure.
		if [ "$_rc" -eq 0 ] || [ "$_rc" -eq 77 ]; then
			echo "$_leaks" | sed 's/^/# LEAK: left behind: /'
		elif [ -n "$_leaks" ]; then
			echo "$_leaks" | sed 's/^/# after the failure: /'
		fi
	fi
	echo "# $N took $((_el / 100)).$((_el % 100 / 10)) s"
	log "=== $N: exit $_rc, $((_el / 100)).$((_el % 100 / 10)) s"
	rm -f "$T.log" "$T.skip"
}

# shellcheck source=tests.sh
. /vm/tests.sh

echo "1..$N"
_el=$(($(now_cs) - T0))
echo "# vm: $N tests, $FAILED failed, in $((_el / 100)).$((_el % 100 / 10)) s"
[ "$FAILED" -eq 0 ]
