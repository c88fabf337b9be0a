# shellcheck shell=bash
# For the tests that drive hull through podman, containerd and docker: each
# client runs in a private mount + network + pid namespace ("the peer
# namespace"), with its own tmpfs on /run, so that its mounts, bridges,
# iptables rules and daemons stay inside the test and end with it.
#
#   peer_ns_start       start the namespace; sets PEER_NS (pid to nsenter)
#   in_peer_ns CMD...   run CMD inside it
#   peer_ns_stop        SIGKILL everything inside (the namespace's init first)
#   peer_rootfs_tar F   the test busybox rootfs as a tarball F (for imports)

peer_ns_start() {
	local ready="$BATS_FILE_TMPDIR/peer-ns.ready" i
	rm -f "$ready"
	# The subreaper is the namespace's init: it reaps what daemons leave.
	unshare -m -n -p --fork --mount-proc --propagation private \
		"$HULL_BUILD_DIR/subreaper" bash -c '
			mount -t tmpfs -o mode=755 tmpfs /run &&
			ip link set lo up &&
			echo ok >"$1" && exec sleep 1000000' _ "$ready" 3>&- &
	PEER_NS_OUTER=$!
	for ((i = 0; i < 200; i++)); do
		[[ -s "$ready" ]] && break
		sleep 0.02
	done
	PEER_NS="$(pgrep -P "$PEER_NS_OUTER" | head -n 1)"
	if [[ ! -s "$ready" || -z "$PEER_NS" ]]; then
		echo "the peer namespace did not start" >&2
		return 1
	fi
	export PEER_NS PEER_NS_OUTER
}

in_peer_ns() {
	nsenter -t "$PEER_NS" -m -n -p -- "$@"
}

peer_ns_stop() {
	[[ -n "${PEER_NS:-}" ]] || return 0
	# The init of a pid namespace takes every process in it along.
	kill -KILL "$PEER_NS" 2>/dev/null || true
	wait "$PEER_NS_OUTER" 2>/dev/null || true
	PEER_NS=
}

# peer_remove_cgroups NAME: remove /hull-test/NAME in every hierarchy.
peer_remove_cgroups() {
	local d
	for d in /sys/fs/cgroup/*/hull-test/"$1" /sys/fs/cgroup/hull-test/"$1"; do
		[[ -d "$d" ]] || continue
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
		if [[ -d "$d" ]]; then
			sleep 0.5
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
		fi
		if [[ -d "$d" ]]; then
			echo "LEAK: cgroup $d left behind" >&2
			return 1
		fi
	done
}

peer_rootfs_tar() {
	local t
	_ensure_cache
	t="$(mktemp -d)"
	cp -a "$(_cache_dir)/rootfs" "$t/rootfs"
	# a static prober of raw syscalls (tests/helpers/syscall-probe.c) comes along
	if [[ -x "$HULL_BUILD_DIR/syscall-probe" ]]; then
		cp "$HULL_BUILD_DIR/syscall-probe" "$t/rootfs/bin/"
	fi
	tar -C "$t/rootfs" -cf "$1" .
	rm -rf "$t"
}
