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

# peer_oci_archive OUT REF: the test busybox rootfs as a one-layer OCI image
# layout tarball (gzip layer), named REF for containerd's import.
peer_oci_archive() {
	local out="$1" ref="$2" t diffid ld ls cd cs md ms
	t="$(mktemp -d)"
	peer_rootfs_tar "$t/layer.tar"
	mkdir -p "$t/oci/blobs/sha256"
	diffid="$(sha256sum "$t/layer.tar" | cut -d' ' -f1)"
	gzip -n "$t/layer.tar"
	ld="$(sha256sum "$t/layer.tar.gz" | cut -d' ' -f1)"
	ls="$(stat -c %s "$t/layer.tar.gz")"
	mv "$t/layer.tar.gz" "$t/oci/blobs/sha256/$ld"
	printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=%s"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$(dpkg --print-architecture)" /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		"$diffid" >"$t/config"
	cd="$(sha256sum "$t/config" | cut -d' ' -f1)"
	cs="$(stat -c %s "$t/config")"
	mv "$t/config" "$t/oci/blobs/sha256/$cd"
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
		"$cd" "$cs" "$ld" "$ls" >"$t/manifest"
	md="$(sha256sum "$t/manifest" | cut -d' ' -f1)"
	ms="$(stat -c %s "$t/manifest")"
	mv "$t/manifest" "$t/oci/blobs/sha256/$md"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$t/oci/oci-layout"
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
		"$md" "$ms" "$ref" "${ref##*:}" >"$t/oci/index.json"
	tar -C "$t/oci" -cf "$out" oci-layout index.json blobs
	rm -rf "$t"
}
