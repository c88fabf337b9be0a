#!/usr/bin/env bats
# shellcheck disable=SC2016 # jq filters and sh -c scripts are single-quoted on purpose
# The default seccomp profile that `hull spec` writes (Docker's default policy),
# as the container's processes see it: ordinary programs work, the syscalls that
# reach un-namespaced kernel state fail with EPERM, clone3 with ENOSYS, and a
# profile generated for CAP_SYS_ADMIN lets mount through.
#
# tests/helpers/syscall-probe makes raw syscalls with arguments the kernel would
# refuse with another errno than EPERM, so an EPERM it prints is seccomp's; the
# "control" test checks exactly that, without the profile and with every
# capability. Against runc or crun, the profile is taken from hull's `spec`.

load helpers

# The probes the default profile must refuse with EPERM.
BLOCKED=(mount umount2 unshare setns clone-newuser pivot_root chroot open_by_handle_at
	sethostname swapon swapoff reboot kexec_load init_module finit_module delete_module
	acct settimeofday clock_settime syslog add_key keyctl request_key bpf perf_event_open
	userfaultfd get_mempolicy kcmp socket-vsock personality-norandom)
# The probes it must let through (an errno other than EPERM is the kernel's).
ALLOWED=(clone-fork socket-unix personality-query personality-linux32 ptrace
	process_vm_readv)

setup() {
	setup_common
	update_config '.root.readonly = false'
	cp "$HULL_BUILD_DIR/syscall-probe" "$BUNDLE/rootfs/bin/syscall-probe"
	use_hull_profile
}

teardown() {
	teardown_common
}

# The profile of `hull spec` in config.json: as written when HULL is hull; from
# hull's spec (build dir) when HULL is another runtime, whose own spec has none.
use_hull_profile() {
	local prof
	if jq -e '.linux.seccomp' "$BUNDLE/config.json" >/dev/null; then
		return 0
	fi
	[ -x "$HULL_BUILD_DIR/hull" ] || skip "no hull in $HULL_BUILD_DIR to write the profile"
	mkdir "$TEST_DIR/hullspec"
	"$HULL_BUILD_DIR/hull" spec --bundle "$TEST_DIR/hullspec"
	prof="$(jq -c .linux.seccomp "$TEST_DIR/hullspec/config.json")"
	[ "$prof" != null ] || skip "$HULL_BUILD_DIR/hull spec writes no profile (an old build?)"
	update_config '.linux.seccomp = $p' --argjson p "$prof"
}

# profile_for CAP...: the generator's profile for that bounding set (the unit
# test binary prints it; `hull spec` has no option for it).
profile_for() {
	local gen d
	for d in "$(dirname "$HULL")" "$HULL_BUILD_DIR"; do
		gen="$d/tests/unit/test_seccompprofile"
		[ -x "$gen" ] && break
	done
	[ -x "$gen" ] || skip "tests/unit/test_seccompprofile not built in $HULL_BUILD_DIR"
	"$gen" --profile "$@"
}

# set_caps CAP...: bounding, effective and permitted sets.
set_caps() {
	local caps
	caps="$(printf '%s\n' "$@" | jq -R . | jq -sc .)"
	update_config '.process.capabilities = {bounding: $c, effective: $c, permitted: $c}' \
		--argjson c "$caps"
}

all_caps() {
	# shellcheck disable=SC2046 # one word per capability
	set_caps $(capsh --print | sed -n 's/^Bounding set =//p' | tr ',' '\n' |
		awk 'NF { print toupper($1) }')
}

# expect_probes WANT NAME...: run the probes; each must print WANT, or for
# WANT "!EPERM" anything but EPERM.
expect_probes() {
	local want="$1" bad=0 line name got
	shift
	run_in_container syscall-probe "$@"
	[ "$status" -eq 0 ] || return 1
	for name in "$@"; do
		line="$(grep "^$name " <<<"$output")" || {
			echo "no result for $name" >&2
			bad=1
			continue
		}
		got="${line#* }"
		if [ "$want" = "!EPERM" ]; then
			[ "$got" != EPERM ] && continue
		elif [ "$got" = "$want" ]; then
			continue
		fi
		echo "$name: got $got, want $want" >&2
		bad=1
	done
	return "$bad"
}

@test "seccomp default: hull spec writes Docker's policy for the build's architecture" {
	requires_hull
	local sc arches
	sc="$(jq -c .linux.seccomp "$BUNDLE/config.json")"
	[ "$(jq -r .defaultAction <<<"$sc")" = SCMP_ACT_ERRNO ]
	[ "$(jq -r .defaultErrnoRet <<<"$sc")" = 1 ]
	arches="$(jq -r '.architectures // [] | join(" ")' <<<"$sc")"
	case "$(uname -m)" in
	x86_64) [ "$arches" = "SCMP_ARCH_X86_64 SCMP_ARCH_X86 SCMP_ARCH_X32" ] ;;
	aarch64) [ "$arches" = "SCMP_ARCH_AARCH64 SCMP_ARCH_ARM" ] ;;
	esac
	# Nothing gated is allowed for runc's three capabilities.
	run jq -r '.syscalls[] | select(.action == "SCMP_ACT_ALLOW" and (.args | not))
		| .names[]' <<<"$sc"
	for n in mount umount2 unshare setns reboot init_module bpf chroot kcmp; do
		! grep -qx "$n" <<<"$output"
	done
	grep -qx read <<<"$output"
	# --rootless has the same bounding set, so the same profile.
	mkdir "$TEST_DIR/rl"
	hull spec --rootless --bundle "$TEST_DIR/rl"
	[ "$(jq -c .linux.seccomp "$TEST_DIR/rl/config.json")" = "$sc" ]
}

@test "seccomp default: ordinary busybox commands work" {
	run_in_container sh -c '
		set -e
		grep -q "^Seccomp:[[:space:]]*2" /proc/self/status
		echo one two three | tr " " "\n" | sort -r | head -n 1
		mkdir -p /tmp/a/b && touch /tmp/a/b/f && chmod 600 /tmp/a/b/f
		ls -l /tmp/a/b/f | cut -c1-10
		echo data >/tmp/a/b/f && cat /tmp/a/b/f
		ln -s /tmp/a/b/f /tmp/l && readlink /tmp/l
		cp /tmp/a/b/f /tmp/g && mv /tmp/g /tmp/h && rm -rf /tmp/a /tmp/h /tmp/l
		id -u
		date +%Y >/dev/null
		sleep 0.1
		ps -o pid,comm | grep -q ps
		df / >/dev/null
		uname -s
		nproc >/dev/null
		hostname >/dev/null
		seq 1 1000 | wc -l
		dd if=/dev/zero bs=1k count=64 2>/dev/null | sha256sum | cut -c1-8
		renice -n 5 $$ >/dev/null
		(sleep 5 & kill $!; wait) || true
		find /etc -name passwd
		tar -cf - /etc/passwd 2>/dev/null | tar -tf -
		echo "done"'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = two ]
	[ "${lines[1]}" = "-rw-------" ]
	[ "${lines[2]}" = data ]
	[ "${lines[3]}" = /tmp/a/b/f ]
	[ "${lines[4]}" = 0 ]
	[ "${lines[5]}" = Linux ]
	[ "${lines[6]}" = 1000 ]
	[ "${lines[7]}" = de2f2560 ]
	[ "${lines[8]}" = /etc/passwd ]
	[ "${lines[9]}" = etc/passwd ]
	[ "${lines[10]}" = "done" ]
}

@test "seccomp default: mount, unshare, reboot, keyctl, bpf... fail with EPERM" {
	expect_probes EPERM "${BLOCKED[@]}"
}

@test "seccomp default: what the user sees of mount, unshare, swapon" {
	run_in_container sh -c 'exec 2>&1; mkdir -p /mnt/x; mount -t tmpfs none /mnt/x; echo "mount=$?"
		unshare -U true; echo "unshare-U=$?"; unshare -m true; echo "unshare-m=$?"
		dd if=/dev/zero of=/tmp/swap bs=1k count=64 2>/dev/null
		swapon /tmp/swap; echo "swapon=$?"'
	[ "$status" -eq 0 ]
	# busybox words EPERM from mount(2) its own way.
	[[ "${lines[0]}" == *"permission denied"* ]]
	[ "${lines[1]}" = mount=1 ]
	[[ "${lines[2]}" == *"Operation not permitted" ]]
	[ "${lines[3]}" = unshare-U=1 ]
	[[ "${lines[4]}" == *"Operation not permitted" ]]
	[ "${lines[5]}" = unshare-m=1 ]
	[[ "${lines[6]}" == *"Operation not permitted" ]]
	[ "${lines[7]}" = swapon=1 ]
}

@test "seccomp default: clone3 fails with ENOSYS, so libc falls back to clone" {
	expect_probes ENOSYS clone3
	expect_probes ok clone-fork
	# busybox forks and spawns through whichever clone its libc picks.
	run_in_container sh -c 'for i in 1 2 3; do (true) & done; wait; echo forked'
	[ "$status" -eq 0 ]
	[ "$output" = forked ]
}

@test "seccomp default: personality may be queried, not changed to an odd persona" {
	expect_probes ok personality-query personality-linux32
	expect_probes EPERM personality-norandom
	# The 32-bit persona is one of Docker's allowed values.
	run_in_container linux32 uname -m
	[ "$status" -eq 0 ]
	[[ "$output" == i?86 || "$output" == armv* ]]
}

@test "seccomp default: ptrace and AF_UNIX sockets are allowed, AF_VSOCK is not" {
	expect_probes ok "${ALLOWED[@]}"
	expect_probes EPERM socket-vsock
}

@test "seccomp default: capabilities added after the profile was written do not widen it" {
	all_caps
	expect_probes EPERM "${BLOCKED[@]}"
	expect_probes ENOSYS clone3
}

@test "seccomp default: control: without the profile the probes reach the kernel" {
	# Proves that the EPERMs above are seccomp's: with every capability and no
	# filter, each probe gets the kernel's own errno (bad pointer, flags or fd).
	all_caps
	update_config 'del(.linux.seccomp)'
	expect_probes '!EPERM' "${BLOCKED[@]}" clone3 "${ALLOWED[@]}"
}

@test "seccomp default: generated for CAP_SYS_ADMIN, mount and unshare work" {
	local prof
	prof="$(profile_for CAP_AUDIT_WRITE CAP_KILL CAP_NET_BIND_SERVICE CAP_SYS_ADMIN)"
	set_caps CAP_AUDIT_WRITE CAP_KILL CAP_NET_BIND_SERVICE CAP_SYS_ADMIN
	update_config '.linux.seccomp = $p' --argjson p "$prof"
	run_in_container sh -c 'mkdir -p /mnt/x && mount -t tmpfs none /mnt/x &&
		grep -c " /mnt/x tmpfs " /proc/mounts && umount /mnt/x && unshare -m true &&
		echo ok'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = ok ]
	# clone3 now reaches the kernel, which refuses the probe's empty arguments.
	expect_probes EINVAL clone3
	# Still refused: what CAP_SYS_ADMIN does not open.
	expect_probes EPERM reboot init_module keyctl kexec_load socket-vsock
}

@test "seccomp default: hull exec runs under the profile too" {
	set_args sleep 600
	run_detached
	wait_for_status "$ID" running
	run hull exec "$ID" sh -c 'ls / >/dev/null && echo listed; syscall-probe mount clone3'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = listed ]
	[ "${lines[1]}" = "mount EPERM" ]
	[ "${lines[2]}" = "clone3 ENOSYS" ]
	hull kill "$ID" KILL
	wait_for_status "$ID" stopped
	hull delete "$ID"
	assert_no_leftovers
}
