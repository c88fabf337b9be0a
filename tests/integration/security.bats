#!/usr/bin/env bats
# Known escapes of runc and crun, tried for real against the runtime: each test
# sets the trap up and asserts that the container stays inside. A runtime may
# refuse the hostile setup (create fails with a message) or neutralise it; it may
# never let the container reach the host. Then hostile inputs: the runtime must
# fail or run, cleanly, never crash.
#
# Tests that touch host-global state (kernel.core_pattern) save it in setup and
# put it back in teardown, so a runtime that is vulnerable changes it only for
# the length of one test.

load helpers

setup() {
	setup_common
	BG_PIDS=()
	RECVTTY_PID=
	SAVED_CORE_PATTERN=$(cat /proc/sys/kernel/core_pattern)
	SAVED_HOSTNAME=$(cat /proc/sys/kernel/hostname)
	SAVED_DOMAINNAME=$(cat /proc/sys/kernel/domainname)
}

teardown() {
	local p
	for p in "${BG_PIDS[@]}" $RECVTTY_PID; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	# A vulnerable runtime let the container change these: put them back.
	if [ "$(cat /proc/sys/kernel/core_pattern)" != "$SAVED_CORE_PATTERN" ]; then
		echo "$SAVED_CORE_PATTERN" >/proc/sys/kernel/core_pattern
	fi
	if [ "$(cat /proc/sys/kernel/hostname)" != "$SAVED_HOSTNAME" ]; then
		echo "$SAVED_HOSTNAME" >/proc/sys/kernel/hostname
	fi
	if [ "$(cat /proc/sys/kernel/domainname)" != "$SAVED_DOMAINNAME" ]; then
		echo "$SAVED_DOMAINNAME" >/proc/sys/kernel/domainname
	fi
	teardown_common
}

# refute CMD...: CMD must fail (bats ignores a failing "! CMD" mid-test).
refute() {
	if "$@"; then
		echo "unexpectedly succeeded: $*" >&2
		return 1
	fi
}

# The host sysctls no container may change.
assert_host_sysctls_unchanged() {
	local bad=0
	if [ "$(cat /proc/sys/kernel/core_pattern)" != "$SAVED_CORE_PATTERN" ]; then
		echo "ESCAPE: host kernel.core_pattern changed to" \
			"\"$(cat /proc/sys/kernel/core_pattern)\"" >&2
		bad=1
	fi
	if [ "$(cat /proc/sys/kernel/hostname)" != "$SAVED_HOSTNAME" ]; then
		echo "ESCAPE: host kernel.hostname changed to" \
			"\"$(cat /proc/sys/kernel/hostname)\"" >&2
		bad=1
	fi
	if [ "$(cat /proc/sys/kernel/domainname)" != "$SAVED_DOMAINNAME" ]; then
		echo "ESCAPE: host kernel.domainname changed" >&2
		bad=1
	fi
	return "$bad"
}

# wait_file FILE [TENTHS]: wait for FILE to exist and be non-empty (default 10 s).
wait_file() {
	local i
	for ((i = 0; i < ${2:-100}; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	echo "timeout waiting for $1" >&2
	return 1
}

# Run the runtime under test from a copy, so that a test which does reach the
# binary (CVE-2019-5736) can only ever damage the copy.
use_hull_copy() {
	is_hull || true # cache the answer for the real binary
	cp "$HULL" "$TEST_DIR/runtime-copy"
	HULL="$TEST_DIR/runtime-copy"
	HULL_SUM=$(sha256sum <"$HULL")
}

# A user namespace with the identity map: the container's root has every
# capability there but none in the host's namespace, so only the dumpable flag
# stands between a process inside and a runtime process that joined it.
userns_config() {
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 0, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 0, size: 65536}]'
}

all_caps_config() {
	local caps
	caps=$(capsh --print | sed -n 's/^Bounding set =//p' | tr ',' '\n' |
		awk 'NF { print toupper($1) }' | jq -R . | jq -sc .)
	update_config '.process.capabilities = {bounding: $c, effective: $c,
		permitted: $c}' --argjson c "$caps"
}

# /sync in the container is $SYNC on the host (the rootfs is read-only).
sync_mount() {
	SYNC=$TEST_DIR/sync
	mkdir -p "$SYNC"
	update_config '.mounts += [{destination: "/sync", type: "bind", source: $s,
		options: ["rbind", "rw"]}]' --arg s "$SYNC"
}

# The exit status and output of a runtime command fed hostile input: a message
# or success, never a crash or a sanitizer report.
assert_clean_exit() {
	case "$status" in
	132 | 133 | 134 | 135 | 136 | 137 | 139)
		echo "runtime died of signal $((status - 128)) (exit status $status)" >&2
		return 1
		;;
	esac
	if grep -Eq 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:' \
		<<<"$output"; then
		echo "sanitizer report:" >&2
		grep -E -A5 'Sanitizer|runtime error:' <<<"$output" | head -n 30 >&2
		return 1
	fi
	if [ "$status" -ne 0 ] && [ -z "$output" ]; then
		echo "failed (exit status $status) without a message" >&2
		return 1
	fi
}

# --- CVE-2019-5736: the runtime binary through /proc/PID/exe -----------------

@test "CVE-2019-5736: created init is not dumpable; /proc/1/exe cannot be held for writing" {
	requires_root
	command -v nsenter >/dev/null || skip_reason "no nsenter"
	use_hull_copy
	userns_config
	set_args sleep 30
	sync_mount
	create_container
	local pid sync=$SYNC
	pid=$(state_field "$ID" .pid)
	[ "$pid" -gt 0 ]
	# A process inside every namespace of the created container (what an exec'd
	# process or a second container sharing them is), with the container's
	# credentials: it looks at pid 1, still the runtime, and holds it open
	# across start to reopen it for writing once the runtime has gone.
	nsenter -t "$pid" -U -m -p -r -w /bin/sh -c '
		s=/sync
		if l=$(readlink /proc/1/exe 2>&1); then echo "readlink-ok $l"; else
			echo "readlink-denied $l"; fi >$s/readlink.tmp
		mv $s/readlink.tmp $s/readlink
		if (exec 3</proc/1/exe) 2>/dev/null; then
			exec 3</proc/1/exe; echo "open-ok $(readlink /proc/self/fd/3)"
		else
			echo open-denied
		fi >$s/open.tmp
		mv $s/open.tmp $s/open
		i=0; while [ ! -e $s/started ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
		echo "pid1 $(readlink /proc/1/exe)" >$s/after.tmp
		if [ -e /proc/self/fd/3 ] && (exec 4>>/proc/self/fd/3) 2>/dev/null; then
			echo "write-open-ok $(readlink /proc/self/fd/3)"
		else
			echo write-denied
		fi >>$s/after.tmp
		if (exec 4>>/proc/1/exe) 2>/dev/null; then echo pid1-write-ok; else
			echo pid1-write-denied; fi >>$s/after.tmp
		mv $s/after.tmp $s/after
	' </dev/null >"$TEST_DIR/nsenter.log" 2>&1 3>&- &
	BG_PIDS+=($!)
	wait_file "$sync/open"
	hull start "$ID"
	touch "$sync/started"
	wait_file "$sync/after"
	hull kill "$ID" KILL
	wait_for_status "$ID" stopped
	hull delete "$ID"
	echo "readlink: $(cat "$sync/readlink")"
	echo "open: $(cat "$sync/open")"
	echo "after: $(cat "$sync/after")"
	[ "$(sha256sum <"$HULL")" = "$HULL_SUM" ]
	# After exec, pid 1 is the user's process and its binary is busy.
	grep -qx 'pid1 /bin/busybox' "$sync/after"
	grep -qx pid1-write-denied "$sync/after"
	# The runtime binary was never reachable for writing.
	refute grep -q write-open-ok "$sync/after"
	# What pid 1 showed before start was never the runtime's binary on the host
	# (runc shows a sealed copy, hull nothing at all).
	refute grep -qF "$HULL" "$sync/readlink" "$sync/open"
	if is_hull; then
		# hull does not copy itself: pid 1 must not be dumpable while it is
		# hull, so that not even its /proc/1/exe can be read.
		grep -q '^readlink-denied' "$sync/readlink"
		grep -qx open-denied "$sync/open"
	fi
}

@test "CVE-2019-5736: after start, /proc/1/exe is the user's binary, not writable" {
	use_hull_copy
	run_in_container sh -c 'readlink /proc/1/exe; readlink /proc/self/exe
		if (exec 3>>/proc/1/exe) 2>/dev/null; then echo write-ok
		else echo write-denied; fi'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = /bin/busybox ]
	[ "${lines[1]}" = /bin/busybox ]
	[ "${lines[2]}" = write-denied ]
	[ "$(sha256sum <"$HULL")" = "$HULL_SUM" ]
}

@test "CVE-2019-5736: exec'd runtime processes are not reachable through /proc/PID/exe" {
	requires_root
	"$HULL" exec --help >/dev/null 2>&1 || skip_reason "no exec in $HULL"
	use_hull_copy
	userns_config
	all_caps_config
	sync_mount
	# pid 1 watches for any process whose binary is not the container's own,
	# holds it open and, once it is gone, reopens it for writing.
	cat >"$BUNDLE/rootfs/watch.sh" <<-'EOF'
		#!/bin/sh
		s=/sync
		: >$s/seen
		n=0
		echo ready >$s/ready
		while [ ! -e $s/stop ]; do
			for d in /proc/[0-9]*; do
				[ "$d" = /proc/1 ] && continue
				if ! l=$(readlink $d/exe 2>/dev/null); then
					echo "denied $d" >>$s/seen
					continue
				fi
				case "$l" in /bin/busybox | /bin/* | "") continue ;; esac
				echo "seen $l" >>$s/seen
				n=$((n + 1))
				eval "exec $((n % 5 + 3))<$d/exe" 2>/dev/null &&
					echo "held $l" >>$s/seen
			done
		done
		for fd in 3 4 5 6 7; do
			[ -e /proc/self/fd/$fd ] || continue
			if (eval "exec 9>>/proc/self/fd/$fd") 2>/dev/null; then
				echo "write-open-ok $(readlink /proc/self/fd/$fd)" >>$s/seen
			fi
		done
		echo done >$s/done
	EOF
	chmod 755 "$BUNDLE/rootfs/watch.sh"
	set_args /watch.sh
	run_detached
	wait_file "$SYNC/ready"
	local i
	for ((i = 0; i < 20; i++)); do
		hull exec "$ID" true || true
	done
	touch "$SYNC/stop"
	wait_file "$SYNC/done"
	wait_for_status "$ID" stopped
	hull delete "$ID"
	cat "$SYNC/seen"
	[ "$(sha256sum <"$HULL")" = "$HULL_SUM" ]
	refute grep -q write-open-ok "$SYNC/seen"
	refute grep -q '^held' "$SYNC/seen"
}

# --- CVE-2024-21626: a working directory outside the rootfs -------------------

@test "CVE-2024-21626: process.cwd /proc/self/fd/N never lands outside the rootfs" {
	requires_hull # runc 1.1.5 has this bug (fixed in 1.1.12)
	local n marker=$TEST_DIR/host-only-marker
	touch "$marker"
	for n in 3 4 5 6 7 8 9 10; do
		update_config '.process.cwd = $c' --arg c "/proc/self/fd/$n"
		# From a cwd outside the root, enough ".." reach the host's "/".
		run_in_container sh -c 'cd -P ../../../../../../../../../../../../ 2>/dev/null
			if [ -e ".$1" ]; then echo ESCAPED; fi
			ls -a; echo "cwd=$(readlink /proc/self/cwd)"' sh "$marker"
		echo "cwd /proc/self/fd/$n: status $status: $output"
		assert_clean_exit
		refute grep -q ESCAPED <<<"$output"
		if [ "$status" -eq 0 ]; then
			# The process got a cwd: the container's own files are around it.
			grep -qx bin <<<"$output"
		fi
		assert_no_leftovers
	done
}

@test "CVE-2024-21626: no host directory fd reaches the container process" {
	run_in_container sh -c 'for f in /proc/self/fd/*; do
		l=$(readlink "$f") || continue; echo "$f $l"; done'
	[ "$status" -eq 0 ]
	echo "$output"
	# Only stdio (and the fd of the listing itself) may be open.
	local line fd
	while read -r line; do
		fd=${line%% *}
		fd=${fd##*/}
		case "$fd" in
		0 | 1 | 2) ;;
		*) [[ "$line" == *" /proc/"*"/fd" ]] || {
			echo "leaked fd: $line" >&2
			false
		} ;;
		esac
	done <<<"$output"
}

# --- CVE-2021-30465: a symlink swapped into a mount destination ---------------

@test "CVE-2021-30465: symlinked and swapped mount destinations never reach the host" {
	local target=$TEST_DIR/host-target rootfs=$BUNDLE/rootfs i deadline
	mkdir -p "$target" "$TEST_DIR/src"
	echo keep >"$target/keep"
	echo src >"$TEST_DIR/src/file"
	# Static traps: an absolute link and a relative one climbing out.
	ln -s "$target" "$rootfs/abs"
	ln -s "../../../../../../../../../../../..$target" "$rootfs/rel"
	mkdir "$rootfs/race"
	local mounts
	mounts=$(jq -nc --arg src "$TEST_DIR/src" '[range(20) as $i |
		{destination: "/race/m\($i)", type: "tmpfs", source: "tmpfs"},
		{destination: "/race/d\($i)/b", type: "bind", source: $src, options: ["rbind"]}]
		+ [range(5) as $i |
		{destination: "/abs/m\($i)", type: "tmpfs", source: "tmpfs"},
		{destination: "/rel/m\($i)", type: "tmpfs", source: "tmpfs"},
		{destination: "/rel/b\($i)", type: "bind", source: $src, options: ["bind"]}]')
	update_config '.mounts += $m' --argjson m "$mounts"
	set_args sh -c 'cat /proc/self/mountinfo'
	# Swap /race between a directory and a symlink to the host target, as fast
	# as the shell can, while the runtime sets the mounts up.
	(
		cd "$rootfs" || exit 1
		end=$((SECONDS + 25))
		# directory -> gone -> symlink out -> gone; rm never follows the link.
		while ((SECONDS < end)); do
			mkdir race 2>/dev/null
			rm -rf race
			ln -s "$target" race
			rm -f race
		done
	) </dev/null >/dev/null 2>&1 3>&- &
	BG_PIDS+=($!)
	deadline=$((SECONDS + 20))
	local ran=0 ok=0
	for ((i = 0; i < 30 && SECONDS < deadline; i++)); do
		run hull run --bundle "$BUNDLE" "$ID"
		ran=$((ran + 1))
		assert_clean_exit
		[ "$status" -eq 0 ] && ok=$((ok + 1))
		assert_no_leftovers
		# Nothing appeared in, or was mounted on, the host directory.
		[ "$(ls -A "$target")" = keep ]
		refute grep -qF " $target" /proc/self/mountinfo
	done
	kill "${BG_PIDS[-1]}" 2>/dev/null || true
	echo "runs: $ran, succeeded: $ok"
	[ "$ran" -ge 5 ]
	[ "$(ls -A "$target")" = keep ]
	[ "$(cat "$target/keep")" = keep ]
	[ "$(ls -A "$TEST_DIR/src")" = file ]
}

# --- CVE-2025-31133: /dev/null or a masked path replaced by a symlink ---------

@test "CVE-2025-31133: /dev/null swapped for a symlink to core_pattern is not bound anywhere" {
	requires_hull # runc 1.1.5 has this bug (fixed in 1.2.8)
	# A createContainer hook plays the image's part: it runs after the runtime
	# made /dev/null and before maskedPaths are applied.
	cat >"$TEST_DIR/swap-null" <<-EOF
		#!/bin/sh
		rm -f "$BUNDLE/rootfs/dev/null"
		ln -s /proc/sys/kernel/core_pattern "$BUNDLE/rootfs/dev/null"
	EOF
	chmod 755 "$TEST_DIR/swap-null"
	update_config '.hooks.createContainer = [{path: $p}]' --arg p "$TEST_DIR/swap-null"
	set_args sh -c 'for p in /proc/kcore /proc/keys /proc/timer_list /proc/latency_stats \
			/proc/sched_debug /proc/interrupts; do
			[ -e "$p" ] || continue
			if echo hull-escaped-core 2>/dev/null >"$p"; then echo "WROTE $p"; fi
			if grep -q . "$p" 2>/dev/null; then echo "READ $p: $(head -c 60 "$p")"; fi
		done'
	run hull run --bundle "$BUNDLE" "$ID"
	echo "status $status: $output"
	assert_clean_exit
	assert_host_sysctls_unchanged
	refute grep -q '^WROTE' <<<"$output"
	assert_no_leftovers
}

@test "CVE-2025-31133: a maskedPaths entry that is a symlink does not expose its target" {
	ln -s /proc/sys/kernel/core_pattern "$BUNDLE/rootfs/masked-link"
	ln -s ../../../../../../../../proc/sysrq-trigger "$BUNDLE/rootfs/masked-rel"
	update_config '.linux.maskedPaths += ["/masked-link", "/masked-rel"]'
	# Writing a masked path is harmless when it is masked (a write to /dev/null):
	# what matters is where the write lands.
	set_args sh -c 'echo hull-escaped-core 2>/dev/null >/masked-link
		echo h 2>/dev/null >/masked-rel
		echo "masked-link: $(cat /masked-link 2>&1 | head -c 60)"
		echo "core_pattern: $(cat /proc/sys/kernel/core_pattern)"'
	run hull run --bundle "$BUNDLE" "$ID"
	echo "status $status: $output"
	assert_clean_exit
	assert_host_sysctls_unchanged
	if [ "$status" -eq 0 ]; then
		# Masked: reads nothing, or cannot be read; never the sysctl's value.
		refute grep -q "masked-link: $SAVED_CORE_PATTERN" <<<"$output"
	fi
	assert_no_leftovers
}

# --- CVE-2025-52565: /dev/console redirected by a symlink ---------------------

start_recvtty() {
	[ -x "$RECVTTY" ] || skip_reason "no recvtty at $RECVTTY (built by tests/run)"
	local i
	SOCK=$TEST_DIR/console.sock
	"$RECVTTY" --mode null --pid-file "$TEST_DIR/recvtty.pid" "$SOCK" </dev/null \
		>"$TEST_DIR/tty.out" 2>&1 3>&- &
	RECVTTY_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$TEST_DIR/recvtty.pid" ] && return 0
		sleep 0.05
	done
	echo "recvtty did not start" >&2
	return 1
}

# console_trap LINK-TARGET: /dev/console in the rootfs is a symlink to
# LINK-TARGET and /dev is the rootfs' own (no tmpfs over it); run with a terminal.
console_trap() {
	rm -f "$BUNDLE/rootfs/dev/console"
	mkdir -p "$BUNDLE/rootfs/dev/pts"
	ln -s "$1" "$BUNDLE/rootfs/dev/console"
	update_config '.process.terminal = true
		| .mounts |= map(select(.destination != "/dev"))'
	sync_mount
	# Where the pty was bound: every devpts mount other than /dev/pts itself.
	# Reads go through timeout: a pty bound over a file blocks a reader.
	set_args sh -c 'r=/sync/result
		if [ -L /dev/console ]; then echo console-is-link; fi >$r
		awk "{ for (i = 7; i <= NF; i++) if (\$i == \"-\") t = \$(i + 1)
			if (t == \"devpts\" && \$5 != \"/dev/pts\") print \"pty-mount \" \$5 }" \
			/proc/self/mountinfo >>$r
		echo "core_pattern $(timeout 2 cat /proc/sys/kernel/core_pattern)" >>$r
		echo done >>$r'
	start_recvtty
	hull_detached run --detach --console-socket "$SOCK" --bundle "$BUNDLE" "$ID"
	echo "run: status $status: $output"
	assert_clean_exit
	if [ "$status" -eq 0 ]; then
		wait_for_status "$ID" stopped
		hull delete "$ID"
		cat "$SYNC/result"
		grep -qx "done" "$SYNC/result"
		# The pty is bound on /dev/console itself, and nowhere else.
		refute grep -qx console-is-link "$SYNC/result"
		[ "$(grep '^pty-mount ' "$SYNC/result")" = "pty-mount /dev/console" ]
	fi
	assert_no_leftovers
}

@test "CVE-2025-52565: /dev/console symlinked to a host path: the pty lands on /dev/console" {
	requires_root
	local host=$TEST_DIR/host-console
	echo host-content >"$host"
	console_trap "$host"
	[ "$(cat "$host")" = host-content ]
	[ ! -e "$BUNDLE/rootfs$host" ] || [ ! -s "$BUNDLE/rootfs$host" ]
	assert_host_sysctls_unchanged
}

@test "CVE-2025-52565: /dev/console symlinked to /proc/sys/kernel/core_pattern" {
	requires_root
	requires_hull # runc 1.1.5 binds the pty over core_pattern (fixed in 1.2.8)
	console_trap /proc/sys/kernel/core_pattern
	assert_host_sysctls_unchanged
	if [ -s "$SYNC/result" ]; then
		grep -qx "core_pattern $SAVED_CORE_PATTERN" "$SYNC/result"
	fi
}

# --- CVE-2025-52881: procfs writes redirected by a symlink --------------------

@test "CVE-2025-52881: linux.sysctl through a fake /proc of symlinks into the real one" {
	requires_hull # runc 1.1.5 writes sysctls through symlinks (fixed in 1.2.8)
	local fake=$BUNDLE/rootfs/fakeproc
	mkdir -p "$fake/sys/kernel" "$fake/sys/net/ipv4"
	# The real procfs is mounted at /realproc; /proc is a plain directory whose
	# sysctl files point into it, at host-global ones.
	ln -s /realproc/sys/kernel/core_pattern "$fake/sys/kernel/domainname"
	ln -s /realproc/sysrq-trigger "$fake/sys/kernel/hostname"
	update_config '.mounts |= map(if .destination == "/proc" then
			{destination: "/realproc", type: "proc", source: "proc"} else . end)
		| .mounts += [{destination: "/proc", type: "bind", source: $f, options: ["rbind"]}]
		| .linux.sysctl = {"kernel.domainname": "hull-escaped-core"}
		| .linux.maskedPaths = [] | .linux.readonlyPaths = []' --arg f "$fake"
	set_args cat /realproc/sys/kernel/core_pattern
	run hull run --bundle "$BUNDLE" "$ID"
	echo "status $status: $output"
	assert_clean_exit
	assert_host_sysctls_unchanged
	assert_no_leftovers
}

@test "CVE-2025-52881: /proc mounted over a symlink; /proc/sys and sysrq-trigger stay read-only" {
	requires_root
	rm -rf "$BUNDLE/rootfs/proc"
	mkdir -p "$BUNDLE/rootfs/tmp/p"
	ln -s /tmp/p "$BUNDLE/rootfs/proc"
	set_args sh -c 'if echo hull-escaped-core 2>/dev/null >/proc/sys/kernel/core_pattern; then
			echo WROTE core_pattern; fi
		if echo h 2>/dev/null >/proc/sysrq-trigger; then echo WROTE sysrq-trigger; fi
		if echo hull-escaped-host 2>/dev/null >/proc/sys/kernel/hostname; then
			echo wrote-own-hostname; fi
		echo done'
	run hull run --bundle "$BUNDLE" "$ID"
	echo "status $status: $output"
	assert_clean_exit
	assert_host_sysctls_unchanged
	refute grep -q '^WROTE' <<<"$output"
	assert_no_leftovers
}

@test "CVE-2025-52881: readonlyPaths entries that are symlinks keep procfs read-only" {
	ln -s /proc/sys/kernel "$BUNDLE/rootfs/ro-link"
	ln -s /proc/sysrq-trigger "$BUNDLE/rootfs/ro-sysrq"
	update_config '.linux.readonlyPaths += ["/ro-link", "/ro-sysrq"]'
	set_args sh -c 'if echo hull-escaped-core 2>/dev/null >/ro-link/core_pattern; then
			echo WROTE core_pattern; fi
		if echo h 2>/dev/null >/ro-sysrq; then echo WROTE sysrq-trigger; fi
		echo done'
	run hull run --bundle "$BUNDLE" "$ID"
	echo "status $status: $output"
	assert_clean_exit
	assert_host_sysctls_unchanged
	refute grep -q '^WROTE' <<<"$output"
	assert_no_leftovers
}

# --- CVE-2022-29162: inheritable capabilities ---------------------------------

# capbin: a copy of busybox that carries inheritable file capabilities. Named
# "cat" so that busybox runs its cat applet.
make_capbin() {
	command -v setcap >/dev/null || skip_reason "no setcap"
	mkdir -p "$BUNDLE/rootfs/capbin"
	cp /bin/busybox "$BUNDLE/rootfs/capbin/cat"
	setcap 'cap_net_admin,cap_sys_admin,cap_sys_ptrace+ei' "$BUNDLE/rootfs/capbin/cat"
}

@test "CVE-2022-29162: uid 1000, no inheritable caps: file-inheritable caps not gained" {
	requires_root
	make_capbin
	update_config '.process.user = {uid: 1000, gid: 1000}
		| .process.capabilities.inheritable = []
		| .process.capabilities.ambient = []
		| .process.capabilities.effective = [] | .process.capabilities.permitted = []'
	set_args sh -c 'grep -E "^Cap(Inh|Prm|Eff|Amb)" /proc/self/status
		echo ---; /capbin/cat /proc/self/status | grep -E "^Cap(Inh|Prm|Eff|Amb)"'
	run hull run --bundle "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -c ':[[:space:]]*0000000000000000$' <<<"$output")" -eq 8 ]
}

@test "CVE-2022-29162: root, no inheritable caps: CapInh/CapAmb 0 across a filecap exec" {
	requires_root
	make_capbin
	update_config '.process.capabilities.inheritable = [] | .process.capabilities.ambient = []'
	set_args sh -c 'grep -E "^Cap(Inh|Amb)" /proc/self/status
		/capbin/cat /proc/self/status | grep -E "^Cap(Inh|Amb)"
		/capbin/cat /proc/self/status | grep -E "^CapPrm"'
	run hull run --bundle "$BUNDLE" "$ID"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(grep -cE '^Cap(Inh|Amb):[[:space:]]*0000000000000000$' <<<"$output")" -eq 4 ]
	# Root's permitted set after exec is the bounding set: no CAP_SYS_ADMIN (bit 21),
	# CAP_NET_ADMIN (12) or CAP_SYS_PTRACE (19) from the file's inheritable bits.
	local prm
	prm=$(awk '/^CapPrm/ { print $2 }' <<<"$output")
	(((0x$prm & ((1 << 21) | (1 << 12) | (1 << 19))) == 0))
}

# --- Hostile inputs: clean failure or success, never a crash -----------------

@test "hostile: 5000 tmpfs mounts" {
	jq -nc '[range(5000) as $i | {destination: "/many/m\($i)", type: "tmpfs",
		source: "tmpfs", options: ["size=4k"]}]' >"$TEST_DIR/mounts.json"
	update_config '.mounts += $m[0]' --slurpfile m "$TEST_DIR/mounts.json"
	set_args sh -c 'grep -c " /many/m" /proc/self/mountinfo'
	run hull run --bundle "$BUNDLE" "$ID"
	echo "status $status: ${output:0:2000}"
	assert_clean_exit
	[ "$status" -ne 0 ] || [ "${lines[-1]}" = 5000 ]
	assert_no_leftovers
}

@test "hostile: an env of 50000 variables, 10 MB" {
	# 50000 x ~210 bytes: far past ARG_MAX, so execve must fail with E2BIG.
	python3 - "$BUNDLE/config.json" <<-'EOF'
		import json, sys
		p = sys.argv[1]
		c = json.load(open(p))
		c["process"]["env"] += ["V%05d=%s" % (i, "x" * 200) for i in range(50000)]
		json.dump(c, open(p, "w"))
	EOF
	set_args true
	run hull run --bundle "$BUNDLE" "$ID"
	echo "status $status: ${output:0:2000}"
	assert_clean_exit
	assert_no_leftovers
}

@test "hostile: one argument of 1 MB, and 1 MB of small arguments" {
	head -c 1048576 /dev/zero | tr '\0' a >"$TEST_DIR/big"
	update_config '.process.args = ["echo", $b]' --rawfile b "$TEST_DIR/big"
	run hull run --bundle "$BUNDLE" "$ID"
	echo "status $status: ${output:0:300}"
	assert_clean_exit
	assert_no_leftovers
	# 8192 arguments of 128 bytes: fits ARG_MAX, must run.
	update_config '.process.args = ["sh", "-c", "echo $#", "sh"]
		+ [range(8192) | ("y" * 127)]'
	run hull run --bundle "$BUNDLE" "$ID"
	echo "status $status: ${output:0:300}"
	assert_clean_exit
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = 8192 ]
	assert_no_leftovers
}

@test "hostile: a config.json of 100 MB (a huge annotation)" {
	local f=$BUNDLE/config.json
	jq 'del(.annotations)' "$f" | head -c -2 >"$f.new"
	{
		printf ',"annotations":{"big":"'
		head -c $((100 << 20)) /dev/zero | tr '\0' a
		printf '"}}\n'
	} >>"$f.new"
	mv "$f.new" "$f"
	[ "$(stat -c %s "$f")" -gt $((100 << 20)) ]
	run hull run --bundle "$BUNDLE" "$ID"
	echo "status $status: ${output:0:300}"
	assert_clean_exit
	assert_no_leftovers
	run hull state "$ID"
	[ "$status" -ne 0 ]
}

@test "hostile: a config.json of 100 MB that is not JSON" {
	head -c $((100 << 20)) /dev/zero | tr '\0' '[' >"$BUNDLE/config.json"
	run hull run --bundle "$BUNDLE" "$ID"
	echo "status $status: ${output:0:300}"
	assert_clean_exit
	[ "$status" -ne 0 ]
	assert_no_leftovers
}
