#!/usr/bin/env bats
# The container's process: args, env, cwd, user, umask, rlimits, capabilities,
# no_new_privs, oom_score_adj, hostname, domainname, sysctl, personality,
# I/O priority, scheduler, and the fds it inherits.

load helpers

setup() {
	setup_common
	SAVED_SYSCTLS=()
}

teardown() {
	# A runtime that wrote a container's sysctl into the host's namespace
	# must not leave the host changed.
	local kv key val
	for kv in "${SAVED_SYSCTLS[@]}"; do
		key=${kv%%=*}
		val=${kv#*=}
		if [ "$(cat "$key")" != "$val" ]; then
			echo "host $key changed; restoring $val" >&2
			echo "$val" >"$key"
		fi
	done
	teardown_common
}

# save_sysctl FILE...: remember the host's values, restored by teardown.
save_sysctl() {
	local f
	for f in "$@"; do
		SAVED_SYSCTLS+=("$f=$(cat "$f")")
	done
}

# With a user namespace the mapped ids (unmapped on the host) must be able to
# walk down to the rootfs: mktemp makes 0700 directories.
bundle_world_traversable() {
	local d=$BUNDLE
	while [ "$d" != / ] && [ -n "$d" ]; do
		[ -d "$d" ] && chmod o+x "$d"
		d=$(dirname "$d")
	done
}

# status_field NAME: the value of "NAME:" in a /proc/self/status dump in $output,
# whitespace squeezed to single spaces.
status_field() {
	awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' <<<"$output"
}

@test "args and env" {
	update_config '.process.env = ["PATH=/bin", "FOO=bar baz", "EMPTY="]'
	run_in_container sh -c 'echo "$FOO"; echo "[$EMPTY]"; echo "$0 $1" ' arg0 arg1
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "bar baz" ]
	[ "${lines[1]}" = "[]" ]
	[ "${lines[2]}" = "arg0 arg1" ]
}

@test "env is exactly process.env (plus HOME)" {
	update_config '.process.env = ["PATH=/bin:/usr/bin", "A=1"]'
	run_in_container env
	[ "$status" -eq 0 ]
	local sorted
	sorted=$(printf '%s\n' "${lines[@]}" | sort | tr '\n' ' ')
	[ "$sorted" = "A=1 HOME=/root PATH=/bin:/usr/bin " ]
}

@test "PATH is used to find the binary" {
	mkdir -p "$BUNDLE/rootfs/opt/tools"
	printf '#!/bin/sh\necho found-in-opt\n' >"$BUNDLE/rootfs/opt/tools/hello-tool"
	chmod 755 "$BUNDLE/rootfs/opt/tools/hello-tool"
	update_config '.process.env = ["PATH=/nowhere:/opt/tools:/bin"]'
	run_in_container hello-tool
	[ "$status" -eq 0 ]
	[ "$output" = found-in-opt ]
}

@test "a missing binary fails" {
	run_in_container no-such-binary-here
	[ "$status" -ne 0 ]
	[[ "$output" == *no-such-binary-here* ]]
}

@test "cwd" {
	update_config '.process.cwd = "/etc"'
	run_in_container pwd
	[ "$status" -eq 0 ]
	[ "$output" = /etc ]
}

@test "user: uid, gid and additionalGids" {
	update_config '.process.user = {uid: 1000, gid: 1000, additionalGids: [10, 20, 1000]}'
	run_in_container sh -c 'id; cat /proc/self/status'
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "uid=1000(tuser) gid=1000(tuser) groups="* ]]
	[ "$(status_field Uid)" = "1000 1000 1000 1000" ]
	[ "$(status_field Gid)" = "1000 1000 1000 1000" ]
	[ "$(status_field Groups)" = "10 20 1000" ]
}

@test "user: no additionalGids means no supplementary groups" {
	update_config '.process.user = {uid: 1000, gid: 1000}'
	run_in_container cat /proc/self/status
	[ "$status" -eq 0 ]
	[ "$(status_field Groups)" = "" ]
}

@test "umask" {
	update_config '.root.readonly = false | .process.user.umask = 63'
	run_in_container sh -c 'umask; touch /tmp/f; stat -c %a /tmp/f'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 0077 ]
	[ "${lines[1]}" = 600 ]
}

@test "umask defaults to 0022" {
	run_in_container sh -c 'umask'
	[ "$status" -eq 0 ]
	[ "$output" = 0022 ]
}

@test "HOME comes from the rootfs /etc/passwd" {
	update_config '.process.user = {uid: 1000, gid: 1000} | .process.env = ["PATH=/bin"]'
	run_in_container sh -c 'echo $HOME'
	[ "$status" -eq 0 ]
	[ "$output" = /home/tuser ]
}

@test "HOME given in process.env wins" {
	update_config '.process.user = {uid: 1000, gid: 1000}
		| .process.env = ["PATH=/bin", "HOME=/elsewhere"]'
	run_in_container sh -c 'echo $HOME'
	[ "$status" -eq 0 ]
	[ "$output" = /elsewhere ]
}

@test "rlimits" {
	update_config '.process.rlimits = [
		{type: "RLIMIT_NOFILE", soft: 1000, hard: 2000},
		{type: "RLIMIT_CORE", soft: 4096, hard: 8192},
		{type: "RLIMIT_NPROC", soft: 300, hard: 400}]'
	run_in_container sh -c 'ulimit -n; ulimit -Hn; cat /proc/self/limits'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1000 ]
	[ "${lines[1]}" = 2000 ]
	[[ "$output" =~ Max\ open\ files\ +1000\ +2000\ +files ]]
	[[ "$output" =~ Max\ core\ file\ size\ +4096\ +8192\ +bytes ]]
	[[ "$output" =~ Max\ processes\ +300\ +400\ +processes ]]
}

@test "capabilities of a root process" {
	# CAP_CHOWN 0, CAP_KILL 5, CAP_NET_BIND_SERVICE 10 -> 0x421. For uid 0 the
	# kernel makes permitted and effective the bounding set at execve.
	update_config '.process.capabilities = {
		bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
		effective: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
		permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
		inheritable: [], ambient: []}'
	run_in_container cat /proc/self/status
	[ "$status" -eq 0 ]
	[ "$(status_field CapBnd)" = 0000000000000421 ]
	[ "$(status_field CapPrm)" = 0000000000000421 ]
	[ "$(status_field CapEff)" = 0000000000000421 ]
	[ "$(status_field CapInh)" = 0000000000000000 ]
	[ "$(status_field CapAmb)" = 0000000000000000 ]
}

@test "capabilities of a non-root process: all five sets" {
	# CHOWN 0x1, KILL 0x20, SETUID 0x80, NET_ADMIN 0x1000. A non-root process
	# keeps across execve only its ambient set in permitted and effective.
	update_config '.process.user = {uid: 1000, gid: 1000}
		| .process.capabilities = {
		bounding: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN", "CAP_SETUID"],
		effective: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN"],
		permitted: ["CAP_CHOWN", "CAP_KILL", "CAP_NET_ADMIN"],
		inheritable: ["CAP_KILL", "CAP_NET_ADMIN"],
		ambient: ["CAP_KILL"]}'
	run_in_container cat /proc/self/status
	[ "$status" -eq 0 ]
	[ "$(status_field CapBnd)" = 00000000000010a1 ]
	[ "$(status_field CapInh)" = 0000000000001020 ]
	[ "$(status_field CapAmb)" = 0000000000000020 ]
	[ "$(status_field CapPrm)" = 0000000000000020 ]
	[ "$(status_field CapEff)" = 0000000000000020 ]
}

@test "capabilities: an ambient capability is usable" {
	# CAP_NET_ADMIN in ambient lets uid 1000 bring lo up in its own netns.
	update_config '.process.user = {uid: 1000, gid: 1000}
		| .process.capabilities = {
		bounding: ["CAP_NET_ADMIN"], effective: ["CAP_NET_ADMIN"],
		permitted: ["CAP_NET_ADMIN"], inheritable: ["CAP_NET_ADMIN"],
		ambient: ["CAP_NET_ADMIN"]}'
	run_in_container sh -c 'ip link set lo up && ip link show lo'
	[ "$status" -eq 0 ]
	[[ "$output" == *UP* ]]
}

@test "capabilities: none" {
	update_config '.process.capabilities = {bounding: [], effective: [], permitted: [],
		inheritable: [], ambient: []}'
	run_in_container sh -c 'cat /proc/self/status; chown 1000 /tmp 2>&1 || echo chown-failed'
	[ "$status" -eq 0 ]
	[ "$(status_field CapBnd)" = 0000000000000000 ]
	[ "$(status_field CapEff)" = 0000000000000000 ]
	[[ "$output" == *chown-failed* ]]
}

@test "capabilities the runtime does not hold fail create and run, naming one" {
	update_config '.process.capabilities.permitted += ["CAP_NET_ADMIN"] |
		.process.capabilities.effective += ["CAP_NET_ADMIN"] |
		.process.capabilities.bounding += ["CAP_NET_ADMIN"]'
	local m
	for m in create run; do
		run setpriv --bounding-set -net_admin -- "$HULL" --root "$ROOT" "$m" \
			--bundle "$BUNDLE" "$ID" </dev/null
		[ "$status" -ne 0 ]
		[[ "$output" == *"process.capabilities.permitted: CAP_NET_ADMIN cannot be granted"* ]]
		assert_no_leftovers
	done
}

@test "a cwd only root may enter is still the process's cwd (as runc)" {
	mkdir -m 700 "$BUNDLE/rootfs/private"
	update_config '.process.user = {uid: 1000, gid: 1000} | .process.cwd = "/private"'
	run_in_container sh -c 'pwd; id -u; ls . 2>&1 || echo cannot-list'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = /private ]
	[ "${lines[1]}" = 1000 ]
	[[ "$output" == *cannot-list* ]]
}

@test "an error past start goes to the container's stderr" {
	# a user namespace that does not map the process's uid: setresuid fails
	# after start, when there is no runtime left to tell
	bundle_world_traversable
	update_config '.linux.namespaces += [{type: "user"}]
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 1000}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .process.user = {uid: 5000, gid: 5000}'
	set_args true
	create_container
	hull start "$ID"
	wait_for_status "$ID" stopped
	[[ "$(cat "$CTR_LOG")" == *"process.user.uid: 5000: Invalid argument"* ]]
	hull delete "$ID"
}

@test "noNewPrivileges true" {
	update_config '.process.noNewPrivileges = true'
	run_in_container cat /proc/self/status
	[ "$status" -eq 0 ]
	[ "$(status_field NoNewPrivs)" = 1 ]
}

@test "noNewPrivileges false" {
	update_config '.process.noNewPrivileges = false'
	run_in_container cat /proc/self/status
	[ "$status" -eq 0 ]
	[ "$(status_field NoNewPrivs)" = 0 ]
}

@test "oomScoreAdj" {
	# Positive: lowering it needs CAP_SYS_RESOURCE, absent from this machine's
	# bounding set.
	update_config '.process.oomScoreAdj = 123'
	run_in_container cat /proc/self/oom_score_adj
	[ "$status" -eq 0 ]
	[ "$output" = 123 ]
}

@test "hostname" {
	update_config '.hostname = "box1"'
	run_in_container sh -c 'hostname; cat /proc/sys/kernel/hostname'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = box1 ]
	[ "${lines[1]}" = box1 ]
	[ "$(hostname)" != box1 ]
}

@test "domainname" {
	# runc 1.1.5 ignores domainname.
	requires_hull
	update_config '.hostname = "box1" | .domainname = "example.org"'
	run_in_container sh -c 'hostname; cat /proc/sys/kernel/domainname'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = box1 ]
	[ "${lines[1]}" = example.org ]
	[ "$(cat /proc/sys/kernel/domainname)" != example.org ]
}

@test "linux.sysctl in a new network namespace" {
	local host_fwd
	save_sysctl /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/conf/all/rp_filter
	host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	update_config '.linux.sysctl = {"net.ipv4.ip_forward": "1",
		"net.ipv4.conf.all.rp_filter": "2"}'
	run_in_container sh -c 'cat /proc/sys/net/ipv4/ip_forward
		cat /proc/sys/net/ipv4/conf/all/rp_filter'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
	[ "${lines[1]}" = 2 ]
	[ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$host_fwd" ]
}

@test "linux.sysctl in a new ipc namespace" {
	local host_shmmax host_msgmax
	save_sysctl /proc/sys/kernel/shmmax /proc/sys/kernel/msgmax
	host_shmmax=$(cat /proc/sys/kernel/shmmax)
	host_msgmax=$(cat /proc/sys/kernel/msgmax)
	update_config '.linux.sysctl = {"kernel.shmmax": "12345678", "kernel.msgmax": "4321"}'
	run_in_container sh -c 'cat /proc/sys/kernel/shmmax /proc/sys/kernel/msgmax'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 12345678 ]
	[ "${lines[1]}" = 4321 ]
	[ "$(cat /proc/sys/kernel/shmmax)" = "$host_shmmax" ]
	[ "$(cat /proc/sys/kernel/msgmax)" = "$host_msgmax" ]
}

@test "linux.sysctl of a namespace the container shares is refused" {
	# The value asked for is the host's own: a runtime that wrongly writes
	# it changes nothing on the host.
	local key=/proc/sys/net/ipv4/conf/lo/forwarding before
	save_sysctl "$key"
	before=$(cat "$key")
	update_config '.linux.namespaces |= map(select(.type != "network"))
		| .linux.sysctl = {"net.ipv4.conf.lo.forwarding": $v}' --arg v "$before"
	run_in_container true
	[ "$status" -ne 0 ]
	[ "$(cat "$key")" = "$before" ]
}

@test "personality LINUX32" {
	# runc 1.1.5 ignores linux.personality.
	requires_hull
	[ "$(uname -m)" = x86_64 ] || skip_reason "needs an x86_64 host"
	update_config '.linux.personality = {domain: "LINUX32"}'
	run_in_container uname -m
	[ "$status" -eq 0 ]
	[ "$output" = i686 ]
}

@test "ioPriority" {
	requires_hull
	update_config '.process.ioPriority = {class: "IOPRIO_CLASS_BE", priority: 6}'
	run_in_container sh -c 'ionice -p $$'
	[ "$status" -eq 0 ]
	[ "$output" = "best-effort: prio 6" ]
}

@test "ioPriority idle class" {
	requires_hull
	update_config '.process.ioPriority = {class: "IOPRIO_CLASS_IDLE", priority: 0}'
	run_in_container sh -c 'ionice -p $$'
	[ "$status" -eq 0 ]
	[[ "$output" == idle* ]]
}

@test "scheduler: SCHED_BATCH with nice" {
	requires_hull
	update_config '.process.scheduler = {policy: "SCHED_BATCH", nice: 5}'
	# /proc/self/stat: field 19 is nice, field 41 the policy (SCHED_BATCH = 3).
	run_in_container sh -c 'cut -d" " -f19,41 /proc/self/stat'
	[ "$status" -eq 0 ]
	[ "$output" = "5 3" ]
}

@test "scheduler: SCHED_IDLE" {
	requires_hull
	update_config '.process.scheduler = {policy: "SCHED_IDLE"}'
	run_in_container sh -c 'cut -d" " -f41 /proc/self/stat'
	[ "$status" -eq 0 ]
	[ "$output" = 5 ]
}

@test "only fds 0 1 2 reach the process" {
	# The runtime inherits bats' fds (3 and up) and this extra one: none of
	# them, nor any fd of the runtime itself, may reach the container.
	local extra=$TEST_DIR/extra-fd
	exec 7>"$extra"
	run_in_container ls /proc/self/fd
	exec 7>&-
	[ "$status" -eq 0 ]
	# ls itself holds one fd open on the directory it lists: 3.
	[ "${lines[*]}" = "0 1 2 3" ]
}

@test "only fds 0 1 2 reach a created then started process" {
	exec 7>"$TEST_DIR/extra-fd"
	set_args ls /proc/self/fd
	create_container
	exec 7>&-
	hull start "$ID"
	wait_for_status "$ID" stopped
	hull delete "$ID"
	# The container's stdout is $CTR_LOG (see hull_detached).
	run cat "$CTR_LOG"
	[ "${lines[*]}" = "0 1 2 3" ]
}

@test "the waiting init is non-dumpable until it executes the process" {
	# In a user namespace a dumpable process's /proc files belong to its
	# own uid (101000 here); a non-dumpable one's do not, so a process of
	# the container cannot ptrace it or read its memory while it still holds
	# the runtime's fds and state.
	bundle_world_traversable
	update_config '.linux.namespaces |= (map(select(.type != "user")) + [{type: "user"}])
		| .linux.uidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .linux.gidMappings = [{containerID: 0, hostID: 100000, size: 65536}]
		| .process.user = {uid: 1000, gid: 1000}'
	set_args sleep 100
	create_container
	local pid
	pid=$(state_field "$ID" .pid)
	[ "$(stat -c %u "/proc/$pid/environ")" != 101000 ]
	hull start "$ID"
	# After execve the kernel makes it dumpable again: the check above can tell.
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(stat -c %u "/proc/$pid/environ")" = 101000 ] && break
		sleep 0.05
	done
	[ "$(stat -c %u "/proc/$pid/environ")" = 101000 ]
	hull kill "$ID" KILL
	wait_for_status "$ID" stopped
	hull delete "$ID"
}
