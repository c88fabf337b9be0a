#!/usr/bin/env bats
# Mounts and the root filesystem: every mount type and option, propagation,
# destinations resolved inside the rootfs, root.readonly, maskedPaths,
# readonlyPaths, --no-pivot. Checked in the container's /proc/self/mountinfo.

load helpers

setup() {
	setup_common
	HOST_MOUNTS=()
}

teardown() {
	# Host mounts this file made, deepest first, before teardown_common
	# checks that nothing is left under the test dir.
	local i
	for ((i = ${#HOST_MOUNTS[@]} - 1; i >= 0; i--)); do
		umount -R "${HOST_MOUNTS[$i]}" 2>/dev/null || umount -l "${HOST_MOUNTS[$i]}" || true
	done
	teardown_common
}

host_tmpfs() {
	mkdir -p "$1"
	mount -t tmpfs -o size=1m hull-test-src "$1"
	HOST_MOUNTS+=("$1")
}

# add_mount DEST TYPE SOURCE [OPTION...]
add_mount() {
	local dest=$1 type=$2 src=$3 opts
	shift 3
	opts=$(jq -nc '$ARGS.positional' --args -- "$@")
	update_config '.mounts += [{destination: $d, type: $t, source: $s, options: $o}]' \
		--arg d "$dest" --arg t "$type" --arg s "$src" --argjson o "$opts"
}

# mountinfo_of MOUNTPOINT: parse the topmost line for MOUNTPOINT in $output (a
# mountinfo dump) into MI_OPTS (per-mount options), MI_TAGS (shared:/master:
# fields), MI_FSTYPE, MI_SOURCE and MI_SUPER (superblock options).
mountinfo_of() {
	local line left right l r
	line=$(awk -v m="$1" '$5 == m' <<<"$output" | tail -n 1)
	if [ -z "$line" ]; then
		echo "no mount at $1 in: $output"
		return 1
	fi
	left=${line%% - *}
	right=${line#* - }
	read -r -a l <<<"$left"
	read -r -a r <<<"$right"
	MI_ROOT=${l[3]}
	MI_OPTS=${l[5]}
	MI_TAGS="${l[*]:6}"
	MI_FSTYPE=${r[0]}
	MI_SOURCE=${r[1]}
	MI_SUPER=${r[2]:-}
}

has_opt() {
	[[ ",$1," == *",$2,"* ]]
}

lacks_opt() {
	! has_opt "$@"
}

@test "bind mount shows the host directory, without its submounts" {
	mkdir -p "$TEST_DIR/src"
	echo from-host >"$TEST_DIR/src/hello"
	host_tmpfs "$TEST_DIR/src/sub"
	echo inner >"$TEST_DIR/src/sub/inner"
	add_mount /mnt/b bind "$TEST_DIR/src" bind
	run_in_container sh -c 'cat /mnt/b/hello; ls /mnt/b/sub | wc -l; cat /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = from-host ]
	[ "${lines[1]}" = 0 ]
	mountinfo_of /mnt/b
	run awk '$5 == "/mnt/b/sub"' <<<"$output"
	[ -z "$output" ]
}

@test "rbind mount carries the submounts" {
	mkdir -p "$TEST_DIR/src"
	host_tmpfs "$TEST_DIR/src/sub"
	echo inner >"$TEST_DIR/src/sub/inner"
	add_mount /mnt/rb bind "$TEST_DIR/src" rbind
	run_in_container sh -c 'cat /mnt/rb/sub/inner; cat /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = inner ]
	mountinfo_of /mnt/rb/sub
	[ "$MI_FSTYPE" = tmpfs ]
	[ "$MI_SOURCE" = hull-test-src ]
}

@test "bind mount of a file onto a missing destination" {
	echo file-content >"$TEST_DIR/afile"
	add_mount /etc/bound-file bind "$TEST_DIR/afile" bind ro
	run_in_container sh -c 'cat /etc/bound-file; cat /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = file-content ]
	mountinfo_of /etc/bound-file
	has_opt "$MI_OPTS" ro
}

@test "proc mount shows the container's processes" {
	run_in_container sh -c 'ls -d /proc/[0-9]* | wc -l; cat /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	# sh, and ls or wc: a handful, not the host's processes.
	[ "${lines[0]}" -le 3 ]
	mountinfo_of /proc
	[ "$MI_FSTYPE" = proc ]
}

@test "sysfs mount belongs to the container's network namespace" {
	run_in_container sh -c 'ls /sys/class/net; cat /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = lo ]
	mountinfo_of /sys
	[ "$MI_FSTYPE" = sysfs ]
	has_opt "$MI_OPTS" ro
}

@test "tmpfs mount with mode= and size=" {
	add_mount /mnt/t tmpfs tmpfs mode=1750 size=2m nosuid
	run_in_container sh -c 'stat -c %a /mnt/t; cat /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1750 ]
	mountinfo_of /mnt/t
	[ "$MI_FSTYPE" = tmpfs ]
	has_opt "$MI_SUPER" size=2048k
	has_opt "$MI_SUPER" mode=1750
	has_opt "$MI_OPTS" nosuid
}

@test "devpts mount is a new instance with its options" {
	run_in_container sh -c 'ls /dev/pts; cat /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	# A new instance: no pty of the host shows.
	[ "${lines[0]}" = ptmx ]
	mountinfo_of /dev/pts
	[ "$MI_FSTYPE" = devpts ]
	has_opt "$MI_SUPER" mode=620
	has_opt "$MI_SUPER" ptmxmode=666
	has_opt "$MI_SUPER" gid=5
	has_opt "$MI_OPTS" noexec
}

@test "mqueue mount" {
	run_in_container cat /proc/self/mountinfo
	[ "$status" -eq 0 ]
	mountinfo_of /dev/mqueue
	[ "$MI_FSTYPE" = mqueue ]
	has_opt "$MI_OPTS" nodev
}

@test "cgroup mount shows the controllers, read-only" {
	run_in_container sh -c 'ls /sys/fs/cgroup; echo ---; cat /proc/self/mountinfo
		d=/sys/fs/cgroup/memory; [ -d $d ] || d=/sys/fs/cgroup
		mkdir $d/sub 2>&1 || echo mkdir-failed'
	[ "$status" -eq 0 ]
	[[ "$output" == *mkdir-failed* ]]
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		# A cgroup2-only host.
		[[ "$output" == *cgroup.controllers* ]]
		mountinfo_of /sys/fs/cgroup
		[ "$MI_FSTYPE" = cgroup2 ]
		return
	fi
	local c
	for c in memory pids cpu devices; do
		[[ " ${lines[*]} " == *" $c "* ]] || { echo "no $c in /sys/fs/cgroup"; false; }
	done
	mountinfo_of /sys/fs/cgroup/memory
	[ "$MI_FSTYPE" = cgroup ]
	has_opt "$MI_OPTS" ro
	has_opt "$MI_SUPER" memory
}

@test "cgroup mount shows the container's own cgroup" {
	set_args sh -c 'cat /sys/fs/cgroup/pids/cgroup.procs 2>/dev/null ||
		cat /sys/fs/cgroup/cgroup.procs'
	run hull run -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	# Only the container's processes (pid 1 is sh), not the host's.
	[ "${lines[0]}" = 1 ]
	[ "${#lines[@]}" -le 2 ]
}

@test "cgroup mount: every hierarchy bound at the container's own cgroup, v2 too" {
	# Without a cgroup namespace, where mountinfo shows roots from the host's.
	update_config 'del(.linux.namespaces[] | select(.type == "cgroup"))'
	run_in_container cat /proc/self/mountinfo
	[ "$status" -eq 0 ]
	local dirs=() d
	if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		dirs=(/sys/fs/cgroup)
	else
		for d in /sys/fs/cgroup/*/; do
			d=${d%/}
			[ -L "$d" ] || [[ "$d" == *process_api* ]] || dirs+=("$d")
		done
	fi
	[ "${#dirs[@]}" -gt 0 ]
	for d in "${dirs[@]}"; do
		# Hierarchies hull does not use (none mounted in them) are not bound.
		grep -q " $d " /proc/self/mountinfo || continue
		mountinfo_of "$d"
		[ "$MI_ROOT" = "$CGPATH" ] || { echo "$d: root $MI_ROOT, want $CGPATH"; false; }
		has_opt "$MI_OPTS" ro
	done
}

@test "mount options ro rw nosuid nodev noexec show in mountinfo" {
	update_config '.root.readonly = false'
	add_mount /mnt/ro tmpfs tmpfs ro
	add_mount /mnt/rw tmpfs tmpfs rw
	add_mount /mnt/nosuid tmpfs tmpfs nosuid
	add_mount /mnt/nodev tmpfs tmpfs nodev
	add_mount /mnt/noexec tmpfs tmpfs noexec
	add_mount /mnt/plain tmpfs tmpfs
	run_in_container sh -c 'cat /proc/self/mountinfo
		touch /mnt/ro/x 2>&1 || echo ro-touch-failed
		touch /mnt/rw/x && echo rw-touch-ok
		cp /bin/busybox /mnt/noexec/true && { /mnt/noexec/true 2>&1 || echo exec-failed; }
		cp /bin/busybox /mnt/plain/true && /mnt/plain/true && echo exec-ok'
	[ "$status" -eq 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	[[ "$output" == *ro-touch-failed* ]]
	[[ "$output" == *rw-touch-ok* ]]
	[[ "$output" == *exec-failed* ]]
	[[ "$output" == *exec-ok* ]]
	mountinfo_of /mnt/ro
	has_opt "$MI_OPTS" ro
	mountinfo_of /mnt/rw
	has_opt "$MI_OPTS" rw
	mountinfo_of /mnt/nosuid
	has_opt "$MI_OPTS" nosuid
	lacks_opt "$MI_OPTS" nodev
	mountinfo_of /mnt/nodev
	has_opt "$MI_OPTS" nodev
	lacks_opt "$MI_OPTS" nosuid
	mountinfo_of /mnt/noexec
	has_opt "$MI_OPTS" noexec
	mountinfo_of /mnt/plain
	has_opt "$MI_OPTS" rw
	lacks_opt "$MI_OPTS" nosuid
	lacks_opt "$MI_OPTS" nodev
	lacks_opt "$MI_OPTS" noexec
}

@test "mount options nosymfollow and symfollow, acl and noacl (as runc takes them)" {
	update_config '.root.readonly = false'
	host_tmpfs "$TEST_DIR/src"
	ln -s /etc "$TEST_DIR/src/link"
	add_mount /mnt/nosym tmpfs tmpfs nosymfollow
	add_mount /mnt/sym tmpfs tmpfs nosymfollow symfollow
	add_mount /mnt/bind bind "$TEST_DIR/src" rbind nosymfollow
	add_mount /mnt/acl tmpfs tmpfs acl
	add_mount /mnt/noacl tmpfs tmpfs noacl
	run_in_container sh -c 'cat /proc/self/mountinfo
		ls /mnt/bind/link/ >/dev/null 2>&1 || echo bind-link-refused'
	[ "$status" -eq 0 ]
	[[ "$output" == *bind-link-refused* ]]
	mountinfo_of /mnt/nosym
	has_opt "$MI_OPTS" nosymfollow
	mountinfo_of /mnt/sym
	lacks_opt "$MI_OPTS" nosymfollow
	mountinfo_of /mnt/bind
	has_opt "$MI_OPTS" nosymfollow
	mountinfo_of /mnt/acl
	[ "$MI_FSTYPE" = tmpfs ]
	mountinfo_of /mnt/noacl
	[ "$MI_FSTYPE" = tmpfs ]
	run hull features
	local o
	for o in nosymfollow symfollow acl noacl; do
		jq -e --arg o "$o" '.mountOptions | index($o)' <<<"$output" >/dev/null
	done
}

@test "tmpcopyup: a tmpfs starts with a copy of what its mount point held" {
	local d="$BUNDLE/rootfs/data"
	mkdir -p "$d/sub"
	echo hello >"$d/f"
	chown 1000:1000 "$d/f"
	chmod 640 "$d/f"
	echo deep >"$d/sub/g"
	ln -s /etc/hostname "$d/link"
	mkfifo "$d/fifo"
	add_mount /data tmpfs tmpfs tmpcopyup size=1m
	add_mount /empty tmpfs tmpfs tmpcopyup
	update_config '.process.capabilities.effective += ["CAP_DAC_OVERRIDE"]
		| .process.capabilities.permitted += ["CAP_DAC_OVERRIDE"]
		| .process.capabilities.bounding += ["CAP_DAC_OVERRIDE"]'
	run_in_container sh -c 'grep -E " /data | /empty " /proc/mounts | cut -d" " -f2,3
		stat -c "%n %u:%g %a %F" /data/f /data/fifo /data/sub; readlink /data/link
		cat /data/f /data/sub/g; echo changed >/data/f; ls -A /empty | wc -l'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/data tmpfs" ]
	[ "${lines[1]}" = "/empty tmpfs" ]
	[ "${lines[2]}" = "/data/f 1000:1000 640 regular file" ]
	[ "${lines[3]}" = "/data/fifo 0:0 644 fifo" ]
	[[ "${lines[4]}" == "/data/sub 0:0 755 directory" ]]
	[ "${lines[5]}" = /etc/hostname ]
	[ "${lines[6]}" = hello ]
	[ "${lines[7]}" = deep ]
	[ "${lines[8]}" = 0 ]
	# the copy is the tmpfs's: the rootfs keeps its own
	[ "$(cat "$d/f")" = hello ]
}

@test "tmpcopyup: a copy that does not fit fails naming the mount and the file" {
	mkdir -p "$BUNDLE/rootfs/data"
	head -c 3000000 /dev/zero >"$BUNDLE/rootfs/data/big"
	add_mount /data tmpfs tmpfs tmpcopyup size=1m
	run_in_container true
	[ "$status" -ne 0 ]
	[[ "$output" == *"tmpcopyup: cannot copy /data/big: No space left on device"* ]]
	[[ "$output" == *"mounts["* ]]
	assert_no_leftovers
}

@test "a tmpfs on a directory takes its mode, unless mode= is given; ro tmpcopyup" {
	mkdir -m 750 "$BUNDLE/rootfs/locked" "$BUNDLE/rootfs/given" "$BUNDLE/rootfs/rocopy"
	echo kept >"$BUNDLE/rootfs/rocopy/f"
	add_mount /locked tmpfs tmpfs size=1m
	add_mount /given tmpfs tmpfs mode=1700
	add_mount /fresh tmpfs tmpfs
	add_mount /rocopy tmpfs tmpfs ro tmpcopyup
	run_in_container sh -c 'stat -c "%n %a" /locked /given /fresh /rocopy; cat /rocopy/f
		touch /rocopy/x 2>&1 || true'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "/locked 750" ]
	[ "${lines[1]}" = "/given 1700" ]
	[ "${lines[2]}" = "/fresh 1777" ]
	[ "${lines[3]}" = "/rocopy 750" ]
	[ "${lines[4]}" = kept ]
	[[ "${lines[5]}" == *"Read-only file system"* ]]
}

@test "mount options relatime noatime strictatime show in mountinfo" {
	add_mount /mnt/relatime tmpfs tmpfs relatime
	add_mount /mnt/noatime tmpfs tmpfs noatime
	add_mount /mnt/strictatime tmpfs tmpfs strictatime
	add_mount /mnt/nodiratime tmpfs tmpfs nodiratime
	run_in_container cat /proc/self/mountinfo
	[ "$status" -eq 0 ]
	mountinfo_of /mnt/relatime
	has_opt "$MI_OPTS" relatime
	mountinfo_of /mnt/noatime
	has_opt "$MI_OPTS" noatime
	lacks_opt "$MI_OPTS" relatime
	# strictatime has no word of its own: neither relatime nor noatime.
	mountinfo_of /mnt/strictatime
	lacks_opt "$MI_OPTS" relatime
	lacks_opt "$MI_OPTS" noatime
	mountinfo_of /mnt/nodiratime
	has_opt "$MI_OPTS" nodiratime
}

@test "ro bind mount is read-only" {
	mkdir -p "$TEST_DIR/src"
	add_mount /mnt/rob bind "$TEST_DIR/src" bind ro
	run_in_container sh -c 'cat /proc/self/mountinfo; touch /mnt/rob/x 2>&1 || echo failed'
	[ "$status" -eq 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	mountinfo_of /mnt/rob
	has_opt "$MI_OPTS" ro
	[ ! -e "$TEST_DIR/src/x" ]
}

@test "propagation flags: shared, private, unbindable" {
	host_tmpfs "$TEST_DIR/shared"
	mount --make-shared "$TEST_DIR/shared"
	mkdir -p "$TEST_DIR/plain"
	add_mount /mnt/shared bind "$TEST_DIR/plain" bind shared
	add_mount /mnt/private bind "$TEST_DIR/shared" rbind rprivate
	add_mount /mnt/unbindable bind "$TEST_DIR/plain" bind unbindable
	run_in_container cat /proc/self/mountinfo
	[ "$status" -eq 0 ]
	mountinfo_of /mnt/shared
	[[ "$MI_TAGS" == *shared:* ]]
	mountinfo_of /mnt/private
	[[ "$MI_TAGS" != *shared:* && "$MI_TAGS" != *master:* ]]
	mountinfo_of /mnt/unbindable
	[[ "$MI_TAGS" == *unbindable* ]]
}

@test "propagation flags: slave receives the host's new mounts" {
	host_tmpfs "$TEST_DIR/shared"
	mount --make-shared "$TEST_DIR/shared"
	update_config '.linux.rootfsPropagation = "rslave"'
	add_mount /mnt/slave bind "$TEST_DIR/shared" rbind rslave
	set_args sleep 100
	run_detached
	local pid
	pid=$(state_field "$ID" .pid)
	run cat "/proc/$pid/mountinfo"
	mountinfo_of /mnt/slave
	[[ "$MI_TAGS" == *master:* ]]
	[[ "$MI_TAGS" != *shared:* ]]
	# A mount made on the host afterwards propagates into the container.
	host_tmpfs "$TEST_DIR/shared/later"
	run cat "/proc/$pid/mountinfo"
	mountinfo_of /mnt/slave/later
	[ "$MI_SOURCE" = hull-test-src ]
	hull kill "$ID" KILL
	wait_for_status "$ID" stopped
	hull delete "$ID"
}

@test "rootfsPropagation shared makes / shared" {
	# runc 1.1.5 leaves / private whatever rootfsPropagation says.
	requires_hull
	update_config '.linux.rootfsPropagation = "shared"'
	run_in_container cat /proc/self/mountinfo
	[ "$status" -eq 0 ]
	mountinfo_of /
	[[ "$MI_TAGS" == *shared:* ]]
}

@test "rootfsPropagation private makes / private" {
	update_config '.linux.rootfsPropagation = "private"'
	run_in_container cat /proc/self/mountinfo
	[ "$status" -eq 0 ]
	mountinfo_of /
	[[ "$MI_TAGS" != *shared:* && "$MI_TAGS" != *master:* ]]
}

@test "rro makes the submounts of an rbind read-only" {
	requires_hull
	mkdir -p "$TEST_DIR/src"
	host_tmpfs "$TEST_DIR/src/sub"
	add_mount /mnt/rro bind "$TEST_DIR/src" rbind rro
	add_mount /mnt/ro bind "$TEST_DIR/src" rbind ro
	run_in_container sh -c 'cat /proc/self/mountinfo
		touch /mnt/rro/sub/x 2>&1 || echo rro-failed
		touch /mnt/ro/sub/y && echo ro-sub-writable'
	[ "$status" -eq 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	[[ "$output" == *rro-failed* ]]
	# Plain ro is not recursive.
	[[ "$output" == *ro-sub-writable* ]]
	mountinfo_of /mnt/rro
	has_opt "$MI_OPTS" ro
	mountinfo_of /mnt/rro/sub
	has_opt "$MI_OPTS" ro
	mountinfo_of /mnt/ro/sub
	has_opt "$MI_OPTS" rw
	[ ! -e "$TEST_DIR/src/sub/x" ]
}

@test "rnosuid rnodev rnoexec reach the submounts of an rbind" {
	requires_hull
	mkdir -p "$TEST_DIR/src"
	host_tmpfs "$TEST_DIR/src/sub"
	add_mount /mnt/r bind "$TEST_DIR/src" rbind rnosuid rnodev rnoexec
	run_in_container cat /proc/self/mountinfo
	[ "$status" -eq 0 ]
	local m
	for m in /mnt/r /mnt/r/sub; do
		mountinfo_of "$m"
		has_opt "$MI_OPTS" nosuid
		has_opt "$MI_OPTS" nodev
		has_opt "$MI_OPTS" noexec
	done
}

@test "a missing destination is created in the rootfs" {
	[ ! -e "$BUNDLE/rootfs/new" ]
	add_mount /new/deep/dir tmpfs tmpfs
	run_in_container cat /proc/self/mountinfo
	[ "$status" -eq 0 ]
	mountinfo_of /new/deep/dir
	[ "$MI_FSTYPE" = tmpfs ]
	[ -d "$BUNDLE/rootfs/new/deep/dir" ]
}

@test "a destination symlink never leads out of the rootfs" {
	# Three ways out: an absolute link, a relative link climbing with ..,
	# and a link in the middle of the destination path.
	local abs=$TEST_DIR/host-abs rel=$TEST_DIR/host-rel mid=$TEST_DIR/host-mid
	mkdir -p "$abs" "$rel" "$mid" "$TEST_DIR/payload"
	echo original | tee "$abs/original" "$rel/original" "$mid/original" >/dev/null
	echo payload >"$TEST_DIR/payload/payload"
	ln -s "$abs" "$BUNDLE/rootfs/evil-abs"
	ln -s "../../../../../../../../../../..$rel" "$BUNDLE/rootfs/evil-rel"
	ln -s ../../../../../../../../../../.. "$BUNDLE/rootfs/up"
	add_mount /evil-abs bind "$TEST_DIR/payload" bind
	add_mount /evil-rel bind "$TEST_DIR/payload" bind
	add_mount "/up$mid" bind "$TEST_DIR/payload" bind
	run_in_container sh -c "cat /evil-abs/payload /evil-rel/payload /up$mid/payload
		ls $abs $rel $mid"
	# The links are followed as if the rootfs were /: the mounts land inside.
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = payload ]
	[ "${lines[1]}" = payload ]
	[ "${lines[2]}" = payload ]
	[ -d "$BUNDLE/rootfs$abs" ]
	[ -d "$BUNDLE/rootfs$rel" ]
	[ -d "$BUNDLE/rootfs$mid" ]
	# The host directories are untouched and nothing is mounted on them.
	local d
	for d in "$abs" "$rel" "$mid"; do
		[ "$(ls "$d")" = original ]
		run awk -v m="$d" '$5 == m' /proc/self/mountinfo
		[ -z "$output" ]
	done
}

@test "root.readonly: / is read-only" {
	update_config '.root.readonly = true'
	run_in_container sh -c 'cat /proc/self/mountinfo; touch /x 2>&1 || echo touch-failed'
	[ "$status" -eq 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	[[ "$output" == *touch-failed* ]]
	mountinfo_of /
	has_opt "$MI_OPTS" ro
	[ ! -e "$BUNDLE/rootfs/x" ]
}

@test "root.readonly false: / is writable" {
	update_config '.root.readonly = false'
	run_in_container sh -c 'cat /proc/self/mountinfo; touch /x && echo touch-ok'
	[ "$status" -eq 0 ]
	[[ "$output" == *touch-ok* ]]
	mountinfo_of /
	has_opt "$MI_OPTS" rw
	[ -e "$BUNDLE/rootfs/x" ]
}

@test "maskedPaths: a masked file reads empty, a masked dir is empty" {
	mkdir -p "$BUNDLE/rootfs/etc/secretdir"
	echo secret >"$BUNDLE/rootfs/etc/secret"
	echo secret >"$BUNDLE/rootfs/etc/secretdir/file"
	update_config '.linux.maskedPaths = ["/etc/secret", "/etc/secretdir", "/does/not/exist"]'
	update_config '.root.readonly = false'
	run_in_container sh -c 'echo "[$(cat /etc/secret)]"; echo "[$(ls -A /etc/secretdir)]"
		echo overwritten >/etc/secret; echo "[$(cat /etc/secret)]"
		touch /etc/secretdir/new 2>&1 || echo dir-write-failed
		grep " /etc/secretdir " /proc/mounts'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "[]" ]
	# an empty read-only tmpfs, with the options runc gives it (no size=)
	[[ "${lines[-1]}" == "tmpfs /etc/secretdir tmpfs ro,"* && "${lines[-1]}" != *size=* ]]
	[ "${lines[1]}" = "[]" ]
	# Writes to a masked file vanish.
	[ "${lines[2]}" = "[]" ]
	[[ "$output" == *dir-write-failed* ]]
	[ "$(cat "$BUNDLE/rootfs/etc/secret")" = secret ]
	[ ! -e "$BUNDLE/rootfs/etc/secretdir/new" ]
}

@test "readonlyPaths: writes fail with Read-only file system" {
	update_config '.root.readonly = false'
	mkdir -p "$BUNDLE/rootfs/etc/rodir"
	update_config '.linux.readonlyPaths = ["/etc/rodir", "/proc/sys", "/does/not/exist"]'
	run_in_container sh -c 'touch /etc/rodir/x 2>&1 || echo rodir-failed
		echo 1 >/proc/sys/kernel/ns_last_pid 2>&1 || echo procsys-failed
		touch /etc/rw && echo rw-ok'
	[ "$status" -eq 0 ]
	[[ "$output" == *"Read-only file system"* ]]
	[[ "$output" == *rodir-failed* ]]
	[[ "$output" == *procsys-failed* ]]
	[[ "$output" == *rw-ok* ]]
	[ ! -e "$BUNDLE/rootfs/etc/rodir/x" ]
}

@test "run --no-pivot works" {
	update_config '.root.readonly = false'
	set_args sh -c "ls /; cat /proc/self/mountinfo; ls -d $TEST_DIR 2>&1 || echo no-host-path"
	run hull run --no-pivot -b "$BUNDLE" "$ID"
	[ "$status" -eq 0 ]
	[[ "$output" == *busybox* || " ${lines[*]} " == *" bin "* ]]
	[[ "$output" == *no-host-path* ]]
	mountinfo_of /proc
	[ "$MI_FSTYPE" = proc ]
}

# An overlay mounted in the container, on upper and work directories of a host
# tmpfs: while its superblock lives, another overlay with index=on refuses them
# (EBUSY), which is how a user notices a container's mounts outliving it.
overlay_in_container() {
	host_tmpfs "$TEST_DIR/ov"
	mkdir "$TEST_DIR/ov/lower" "$TEST_DIR/ov/upper" "$TEST_DIR/ov/work" "$TEST_DIR/ov/again"
	add_mount /mnt/ov overlay overlay "lowerdir=$TEST_DIR/ov/lower" \
		"upperdir=$TEST_DIR/ov/upper" "workdir=$TEST_DIR/ov/work"
}

mount_overlay_again() {
	mount -t overlay overlay -o "lowerdir=$TEST_DIR/ov/lower,upperdir=$TEST_DIR/ov/upper,workdir=$TEST_DIR/ov/work,index=on" \
		"$TEST_DIR/ov/again"
}

@test "the container's filesystems are released when run returns" {
	overlay_in_container
	run_in_container sh -c 'echo written >/mnt/ov/f'
	[ "$status" -eq 0 ]
	mount_overlay_again
	HOST_MOUNTS+=("$TEST_DIR/ov/again")
	[ "$(cat "$TEST_DIR/ov/again/f")" = written ]
}

@test "a poststop hook of run finds the container's filesystems released" {
	overlay_in_container
	cat >"$TEST_DIR/poststop" <<-EOF
		#!/bin/sh
		if mount -t overlay overlay -o "lowerdir=$TEST_DIR/ov/lower,upperdir=$TEST_DIR/ov/upper,workdir=$TEST_DIR/ov/work,index=on" "$TEST_DIR/ov/again"; then
			cat "$TEST_DIR/ov/again/f" >"$TEST_DIR/poststop.out"
			umount "$TEST_DIR/ov/again"
		else
			echo busy >"$TEST_DIR/poststop.out"
		fi
	EOF
	chmod 755 "$TEST_DIR/poststop"
	update_config '.hooks.poststop = [{path: $p}]' --arg p "$TEST_DIR/poststop"
	run_in_container sh -c 'echo written >/mnt/ov/f'
	[ "$status" -eq 0 ]
	[ "$(cat "$TEST_DIR/poststop.out")" = written ]
}
