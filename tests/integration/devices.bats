#!/usr/bin/env bats
# /dev inside the container: the default devices, /dev/pts, /dev/shm, the
# standard links, and linux.devices.

load helpers

setup() {
	setup_common
}

teardown() {
	teardown_common
}

# Check one line of `stat -c '%n %F %t %T %a %u %g'` output (major and minor
# in hex as stat prints them) against NAME TYPE MAJOR MINOR MODE [UID GID].
check_dev() {
	local name=$1 type=$2 major=$3 minor=$4 mode=$5 uid=${6:-0} gid=${7:-0} line
	line=$(grep "^$name " <<<"$output") || { echo "no $name in: $output"; return 1; }
	local f
	line=${line/character special file/char}
	read -r -a f <<<"${line/block special file/block}"
	[ "${f[1]}" = "$type" ] || { echo "$name: type ${f[1]}, want $type"; return 1; }
	[ "$((16#${f[2]})):$((16#${f[3]}))" = "$major:$minor" ] ||
		{ echo "$name: $((16#${f[2]})):$((16#${f[3]})), want $major:$minor"; return 1; }
	[ "${f[4]}" = "$mode" ] || { echo "$name: mode ${f[4]}, want $mode"; return 1; }
	[ "${f[5]}" = "$uid" ] || { echo "$name: uid ${f[5]}, want $uid"; return 1; }
	[ "${f[6]}" = "$gid" ] || { echo "$name: gid ${f[6]}, want $gid"; return 1; }
}

@test "default devices with their numbers and modes" {
	set_args sh -c 'stat -c "%n %F %t %T %a %u %g" /dev/null /dev/zero /dev/full \
		/dev/random /dev/urandom /dev/tty'
	run hull run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	check_dev /dev/null char 1 3 666
	check_dev /dev/zero char 1 5 666
	check_dev /dev/full char 1 7 666
	check_dev /dev/random char 1 8 666
	check_dev /dev/urandom char 1 9 666
	check_dev /dev/tty char 5 0 666
}

@test "default devices work" {
	run_in_container sh -c 'echo x >/dev/null && echo null-ok
		head -c 4 /dev/zero | od -An -tx1 | tr -d " "
		echo x 2>&1 >/dev/full || echo full-failed
		head -c 16 /dev/urandom | wc -c
		head -c 16 /dev/random | wc -c'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = null-ok ]
	[ "${lines[1]}" = 00000000 ]
	[[ "$output" == *"No space left on device"* ]]
	[[ "$output" == *full-failed* ]]
	[ "${lines[-2]}" = 16 ]
	[ "${lines[-1]}" = 16 ]
}

@test "/dev/ptmx links to pts/ptmx" {
	run_in_container readlink /dev/ptmx
	[ "$status" -eq 0 ]
	[ "$output" = pts/ptmx ]
}

@test "/dev/console exists only with a terminal" {
	run_in_container sh -c 'ls /dev/console 2>&1 || echo no-console'
	[ "$status" -eq 0 ]
	[[ "$output" == *no-console* ]]
}

@test "/dev/pts and /dev/shm are mounted" {
	run_in_container sh -c 'cat /proc/self/mountinfo; echo data >/dev/shm/f && cat /dev/shm/f'
	[ "$status" -eq 0 ]
	awk '$5 == "/dev/pts" && / - devpts /' <<<"$output" | grep -q .
	awk '$5 == "/dev/shm" && / - tmpfs /' <<<"$output" | grep -q .
	[ "${lines[-1]}" = data ]
}

@test "/dev/fd and stdin, stdout, stderr links" {
	run_in_container sh -c 'for l in fd stdin stdout stderr; do
		echo "$l $(readlink /dev/$l)"; done; ls /dev/fd/ >/dev/null && echo fd-ok'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "fd /proc/self/fd" ]
	[ "${lines[1]}" = "stdin /proc/self/fd/0" ]
	[ "${lines[2]}" = "stdout /proc/self/fd/1" ]
	[ "${lines[3]}" = "stderr /proc/self/fd/2" ]
	[ "${lines[4]}" = fd-ok ]
}

@test "/dev/core links to /proc/kcore only where the kernel has one" {
	run_in_container sh -c 'readlink /dev/core || echo no-core'
	[ "$status" -eq 0 ]
	if [[ -e /proc/kcore ]]; then
		[ "$output" = /proc/kcore ]
	else
		[ "$output" = no-core ]
	fi
}

@test "/dev holds only the devices asked for" {
	run_in_container ls /dev
	[ "$status" -eq 0 ]
	# Nothing of the host's /dev (disks, ttyS*, kmsg...) leaks in.
	local e
	for e in "${lines[@]}"; do
		case "$e" in
		null | zero | full | random | urandom | tty | ptmx | pts | shm | mqueue | fd | \
			stdin | stdout | stderr | console | core) ;;
		*)
			echo "unexpected /dev/$e"
			false
			;;
		esac
	done
}

@test "linux.devices: a character device with mode, uid and gid" {
	update_config '.linux.devices = [{path: "/dev/mydev", type: "c", major: 1, minor: 3,
		fileMode: 400, uid: 1000, gid: 1000}]'
	# 400 = 0620: the owner (the process's user) may write.
	update_config '.process.user = {uid: 1000, gid: 1000}'
	set_args sh -c 'stat -c "%n %F %t %T %a %u %g" /dev/mydev
		echo hello >/dev/mydev && echo write-ok'
	run hull run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	check_dev /dev/mydev char 1 3 620 1000 1000
	[ "${lines[1]}" = write-ok ]
}

@test "linux.devices: a device in a new directory, readable" {
	update_config '.linux.devices = [{path: "/dev/sub/myzero", type: "c", major: 1,
		minor: 5, fileMode: 438}]'
	set_args sh -c 'stat -c "%n %F %t %T %a %u %g" /dev/sub/myzero
		head -c 3 /dev/sub/myzero | od -An -tx1 | tr -d " "'
	run hull run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	check_dev /dev/sub/myzero char 1 5 666
	[ "${lines[1]}" = 000000 ]
}

@test "linux.devices: a block device and a fifo" {
	update_config '.linux.devices = [
		{path: "/dev/myblk", type: "b", major: 7, minor: 200, fileMode: 384},
		{path: "/dev/myfifo", type: "p", fileMode: 420}]'
	set_args sh -c 'stat -c "%n %F %t %T %a %u %g" /dev/myblk /dev/myfifo'
	run hull run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	check_dev /dev/myblk block 7 200 600
	local line
	line=$(grep '^/dev/myfifo ' <<<"$output")
	[[ "$line" == "/dev/myfifo fifo 0 0 644 0 0" ]]
}
