#!/usr/bin/env bats
# deck's image side against a real registry: Debian's docker-registry on
# 127.0.0.1, images built offline from the test busybox rootfs and pushed with
# skopeo. An image "runs" when `deck image bundle` makes a bundle of it that
# hull runs.

bats_require_minimum_version 1.5.0

load helpers
load peers
load registry

DECK="${DECK:-$HULL_BUILD_DIR/deck}"

setup_file() {
	[ -x "${DECK:-$HULL_BUILD_DIR/deck}" ] || skip "deck is not built"
	command -v docker-registry >/dev/null || skip "docker-registry is not installed"
	registry_start
	export IMG="$BATS_FILE_TMPDIR/img"
	oci_layout "$IMG" base
	push "$IMG" base busybox:oci
	push "$IMG" base busybox:v2s2 --format v2s2
}

teardown_file() {
	registry_stop
}

setup() {
	TMP="$(mktemp -d "$BATS_FILE_TMPDIR/t.XXXXXX")"
	DROOT="$TMP/deck"
	export REGISTRY_AUTH_FILE="$TMP/auth.json"
	BUNDLES=()
	CG="/hull-test/img-$$-$BATS_TEST_NUMBER"
}

teardown() {
	local b
	if [ -n "${AUTH_REG_DIR:-}" ]; then
		REG_DIR="$AUTH_REG_DIR" registry_stop
	fi
	for b in "${BUNDLES[@]}"; do
		umount "$b/merged" 2>/dev/null || true
	done
	for b in /sys/fs/cgroup/*/"${CG#/}" /sys/fs/cgroup/"${CG#/}"; do
		[ -d "$b" ] && rmdir "$b" 2>/dev/null || true
	done
	if mount | grep -q "$TMP"; then
		echo "LEAK: mounts under $TMP" >&2
		return 1
	fi
	rm -rf "$TMP"
}

deck() {
	"$DECK" --root "$DROOT" "$@" 3>&-
}

# run_image REF CMD...: bundle REF, run CMD in it with hull; sets status/output
run_image() {
	local ref="$1" b
	shift
	b="$TMP/bundle-${#BUNDLES[@]}"
	BUNDLES+=("$b")
	deck image bundle --cgroups-path "$CG" "$ref" "$b" "$@" >/dev/null
	run "$HULL" --root "$TMP/hull" run -b "$b" "c${#BUNDLES[@]}" 3>&-
}

@test "images: pull an OCI image, list it, inspect it, run it" {
	run deck pull "$REG/busybox:oci"
	[ "$status" -eq 0 ]
	[[ "${lines[-1]}" == "$REG/busybox:oci" ]]
	[[ "$output" == *"Pull complete"* ]]
	run deck images
	[[ "${lines[0]}" == REPOSITORY*TAG*"IMAGE ID"*CREATED*SIZE ]]
	[[ "${lines[1]}" == "$REG/busybox "*oci* ]]
	run deck images --format json
	[ "$(jq -r '.[0].Repository + ":" + .[0].Tag' <<<"$output")" = "$REG/busybox:oci" ]
	run deck image inspect "$REG/busybox:oci"
	[ "$(jq -r '.[0].Config.Labels["hull.test"]' <<<"$output")" = base ]
	[ "$(jq -r '.[0].Os' <<<"$output")" = linux ]
	run_image "$REG/busybox:oci" sh -c 'echo "hi from $(cat /etc/passwd | head -n 1 | cut -d: -f1)"'
	[ "$status" -eq 0 ]
	[ "$output" = "hi from root" ]
}

@test "images: a docker schema2 image pulls and runs" {
	run deck pull "$REG/busybox:v2s2"
	[ "$status" -eq 0 ]
	run curl -s -H "Accept: application/vnd.docker.distribution.manifest.v2+json" \
		"http://$REG/v2/busybox/manifests/v2s2"
	[[ "$output" == *"application/vnd.docker.distribution.manifest.v2+json"* ]]
	run_image "$REG/busybox:v2s2" true
	[ "$status" -eq 0 ]
}

@test "images: by digest, a second pull reuses the layers" {
	deck pull -q "$REG/busybox:oci" >/dev/null
	local d
	d="$(deck image inspect "$REG/busybox:oci" | jq -r '.[0].RepoDigests[0]')"
	[[ "$d" == "$REG/busybox@sha256:"* ]]
	run deck pull "$d"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Already exists"* ]]
	[ "$(find "$DROOT/snapshots" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 1 ]
}

@test "images: a multi-platform index: this machine's, --platform, and a missing one" {
	local dir="$TMP/multi" here
	here="$(dpkg --print-architecture)"
	oci_multi "$dir" multi amd64 arm64
	push "$dir" multi busybox:multi --all
	run deck pull "$REG/busybox:multi"
	[ "$status" -eq 0 ]
	[ "$(deck image inspect "$REG/busybox:multi" | jq -r '.[0].Architecture')" = "$here" ]
	run deck pull --platform linux/arm64 "$REG/busybox:multi"
	[ "$status" -eq 0 ]
	[ "$(deck image inspect "$REG/busybox:multi" | jq -r '.[0].Architecture')" = arm64 ]
	run deck pull --platform linux/s390x "$REG/busybox:multi"
	[ "$status" -eq 1 ]
	[[ "$output" == *"no manifest for platform linux/s390x"*"linux/amd64"*"linux/arm64"* ]]
}

@test "images: a zstd layer" {
	# a layer of its own: skopeo reuses the gzip blob of a layer it has seen
	mkdir -p "$TMP/z"
	echo "zstd-ok $RANDOM" >"$TMP/z/z"
	tar -C "$TMP/z" -cf "$TMP/z.tar" z
	oci_layout "$TMP/zl" zstd "" "$TMP/z.tar"
	push "$TMP/zl" zstd busybox:zstd --format oci --dest-compress-format zstd --dest-compress
	run curl -s -H "Accept: application/vnd.oci.image.manifest.v1+json" \
		"http://$REG/v2/busybox/manifests/zstd"
	[[ "$output" == *"tar+zstd"* ]]
	run deck pull "$REG/busybox:zstd"
	[ "$status" -eq 0 ]
	run_image "$REG/busybox:zstd" cat /z
	[ "$output" = "$(cat "$TMP/z/z")" ]
}

@test "images: whiteouts, an opaque dir, hardlinks and a device node" {
	local s="$TMP/layer2"
	mkdir -p "$s/etc" "$s/home/new" "$s/data" "$s/devnode"
	: >"$s/etc/.wh.group"
	: >"$s/home/.wh..wh..opq"
	echo one >"$s/data/a"
	ln "$s/data/a" "$s/data/b"
	mknod "$s/devnode/null" c 1 3
	tar -C "$s" --numeric-owner -cf "$TMP/layer2.tar" etc home data devnode
	oci_layout "$TMP/wh" wh "" "$TMP/layer2.tar"
	push "$TMP/wh" wh busybox:wh
	deck pull -q "$REG/busybox:wh" >/dev/null
	run_image "$REG/busybox:wh" sh -c '
		[ -e /etc/group ] && echo group-still-there
		ls /home
		[ "$(stat -c %i /data/a)" = "$(stat -c %i /data/b)" ] && echo hardlinked
		stat -c "%F %t:%T" /devnode/null'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = new ]
	[ "${lines[1]}" = hardlinked ]
	[ "${lines[2]}" = "character special file 1:3" ]
}

@test "images: a layer with ../ entries is refused, nothing escapes" {
	local s="$TMP/evil"
	mkdir -p "$s/x"
	echo bad >"$TMP/escaped-$BATS_TEST_NUMBER"
	(cd "$s/x" && tar --numeric-owner -cf "$TMP/evil.tar" "../escaped-$BATS_TEST_NUMBER" \
		-C "$TMP" "escaped-$BATS_TEST_NUMBER" 2>/dev/null) || true
	rm -f "$TMP/escaped-$BATS_TEST_NUMBER"
	python3 - "$TMP/evil.tar" <<-'PY'
		import io, sys, tarfile
		with tarfile.open(sys.argv[1], "w") as t:
		    data = b"pwned\n"
		    i = tarfile.TarInfo("../../../../../../tmp/hull-escape-test")
		    i.size = len(data)
		    t.addfile(i, io.BytesIO(data))
	PY
	oci_layout "$TMP/ev" ev "" "$TMP/evil.tar"
	push "$TMP/ev" ev busybox:evil
	run deck pull "$REG/busybox:evil"
	[ "$status" -eq 1 ]
	[[ "$output" == *"escapes the layer root"* ]]
	[ ! -e /tmp/hull-escape-test ]
	run deck images -q
	[ -z "$output" ]
}

@test "images: a blob whose digest does not match is an error and is not kept" {
	# a layer of its own: the base layer is shared with the other images
	mkdir -p "$TMP/own"
	echo "own $RANDOM" >"$TMP/own/own"
	tar -C "$TMP/own" -cf "$TMP/own.tar" own
	oci_layout "$TMP/bad" bad "" "$TMP/own.tar"
	push "$TMP/bad" bad busybox:bad
	local layer
	layer="$(jq -r '.layers[-1].digest' "$TMP/bad/blobs/sha256/$(jq -r '.manifests[0].digest' "$TMP/bad/index.json" | cut -d: -f2)")"
	printf 'garbage' >>"$(registry_blob "$layer")"
	run deck pull "$REG/busybox:bad"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$layer"* ]]
	[[ "$output" == *mismatch* || "$output" == *size* ]]
	[ ! -e "$DROOT/blobs/sha256/${layer#sha256:}" ]
	run deck images -q
	[ -z "$output" ]
}

@test "images: a manifest that is not JSON is an error" {
	# docker-registry checks what it serves: a plain file server plays one
	local port=$((20000 + RANDOM % 20000)) pid
	mkdir -p "$TMP/srv/v2/bad/manifests"
	echo 'this is not json' >"$TMP/srv/v2/bad/manifests/latest"
	python3 -m http.server --bind 127.0.0.1 --directory "$TMP/srv" "$port" >/dev/null 2>&1 3>&- &
	pid=$!
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break
		sleep 0.05
	done
	run deck pull "127.0.0.1:$port/bad:latest"
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	[ "$status" -eq 1 ]
	[[ "$output" == *"not JSON"* ]]
	[[ "$output" == *"127.0.0.1:$port/v2/bad/manifests/latest"* ]]
	run deck images -q
	[ -z "$output" ]
}

@test "images: the registry killed mid-pull, then the pull resumes" {
	local s="$TMP/big"
	mkdir -p "$s"
	head -c 60000000 /dev/urandom >"$s/big"
	tar -C "$s" -cf "$TMP/big.tar" big
	oci_layout "$TMP/bg" big "" "$TMP/big.tar"
	push "$TMP/bg" big busybox:big
	deck pull "$REG/busybox:big" >"$TMP/pull.log" 2>&1 &
	local pid=$!
	for _ in $(seq 100); do
		[ -n "$(find "$DROOT/ingest" -name '*.partial' -size +1M 2>/dev/null)" ] && break
		sleep 0.02
	done
	registry_kill
	run wait "$pid"
	[ "$status" -ne 0 ] || skip "the pull finished before the registry went down"
	run deck images -q
	[ -z "$output" ]
	registry_restart
	run deck pull "$REG/busybox:big"
	[ "$status" -eq 0 ]
	run_image "$REG/busybox:big" sh -c 'wc -c </big'
	[ "$output" = 60000000 ]
}

@test "images: deck killed mid-pull loses nothing; the next pull resumes" {
	local s="$TMP/big2"
	mkdir -p "$s"
	head -c 60000000 /dev/urandom >"$s/big"
	tar -C "$s" -cf "$TMP/big2.tar" big
	oci_layout "$TMP/bg2" big2 "" "$TMP/big2.tar"
	push "$TMP/bg2" big2 busybox:big2
	deck pull "$REG/busybox:big2" >"$TMP/pull.log" 2>&1 &
	local pid=$! partial=""
	for _ in $(seq 200); do
		partial="$(find "$DROOT/ingest" -name '*.partial' -size +1M 2>/dev/null | head -n 1)"
		[ -n "$partial" ] && break
		sleep 0.01
	done
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	[ -n "$partial" ] || skip "the pull finished before it could be killed"
	run deck images -q
	[ -z "$output" ]
	run deck pull "$REG/busybox:big2"
	[ "$status" -eq 0 ]
	run_image "$REG/busybox:big2" sh -c 'wc -c </big'
	[ "$output" = 60000000 ]
	# nothing half-done stays behind
	[ -z "$(find "$DROOT/ingest" -type f -name '*.partial')" ]
}

@test "images: image prune removes unnamed images and what only they used" {
	peer_rootfs_tar "$TMP/rootfs.tar"
	run deck import "$TMP/rootfs.tar"
	[ "$status" -eq 0 ]
	local id="$output"
	run deck images --format json
	[ "$(jq -r '.[0].Repository' <<<"$output")" = "<none>" ]
	run deck image prune
	[ "$status" -eq 0 ]
	[[ "$output" == *"deleted: $id"* ]]
	[[ "$output" == *"Total reclaimed space:"* ]]
	run deck images -q
	[ -z "$output" ]
	[ "$(find "$DROOT/blobs/sha256" -type f | wc -l)" -eq 0 ]
}

@test "images: two pulls of the same image at once" {
	deck pull -q "$REG/busybox:oci" >"$TMP/a" 2>&1 &
	local a=$!
	deck pull -q "$REG/busybox:oci" >"$TMP/b" 2>&1 &
	local b=$!
	wait "$a"
	wait "$b"
	[ "$(find "$DROOT/snapshots" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 1 ]
	run deck images -q
	[ "${#lines[@]}" -eq 1 ]
}

@test "images: tag, rmi and prune free what no image uses" {
	local s="$TMP/l2"
	mkdir -p "$s"
	echo extra >"$s/extra"
	tar -C "$s" -cf "$TMP/l2.tar" extra
	oci_layout "$TMP/two" two "" "$TMP/l2.tar"
	push "$TMP/two" two busybox:two
	deck pull -q "$REG/busybox:oci" >/dev/null
	deck pull -q "$REG/busybox:two" >/dev/null
	run deck tag "$REG/busybox:oci" mine:1
	[ "$status" -eq 0 ]
	run deck images --format json
	[ "$(jq length <<<"$output")" -eq 3 ]
	run deck rmi "$REG/busybox:two"
	[ "$status" -eq 0 ]
	[[ "$output" == *"Untagged: $REG/busybox:two"* && "$output" == *Deleted:* ]]
	# the shared base layer stays; the second image's own layer went
	[ "$(find "$DROOT/snapshots" -mindepth 1 -maxdepth 1 -type d | wc -l)" -eq 1 ]
	run deck rmi "$REG/busybox:oci"
	[[ "$output" != *Deleted:* ]]
	run deck rmi mine:1
	[[ "$output" == *Deleted:* ]]
	[ "$(find "$DROOT/blobs/sha256" -type f | wc -l)" -eq 0 ]
	[ "$(find "$DROOT/snapshots" -mindepth 1 -maxdepth 1 | wc -l)" -eq 0 ]
	run deck rmi nosuch:1
	[ "$status" -eq 1 ]
}

@test "images: save and load, docker-archive and oci-archive; import a rootfs" {
	deck pull -q "$REG/busybox:oci" >/dev/null
	run deck save -o "$TMP/d.tar" "$REG/busybox:oci"
	[ "$status" -eq 0 ]
	run deck save --format oci-archive -o "$TMP/o.tar" "$REG/busybox:oci"
	[ "$status" -eq 0 ]
	tar -tf "$TMP/d.tar" | grep -q manifest.json
	tar -tf "$TMP/o.tar" | grep -q index.json
	deck rmi "$REG/busybox:oci" >/dev/null
	run deck load -i "$TMP/d.tar"
	[ "$status" -eq 0 ]
	[[ "$output" == "Loaded image: $REG/busybox:oci" ]]
	run_image "$REG/busybox:oci" sh -c 'echo loaded'
	[ "$output" = loaded ]
	deck rmi "$REG/busybox:oci" >/dev/null
	run deck load -i "$TMP/o.tar"
	[ "$status" -eq 0 ]
	run_image "$REG/busybox:oci" true
	[ "$status" -eq 0 ]
	peer_rootfs_tar "$TMP/rootfs.tar"
	run deck import -c 'CMD ["echo", "imported"]' "$TMP/rootfs.tar" imported:1
	[ "$status" -eq 0 ]
	run_image imported:1
	[ "$output" = imported ]
}

@test "images: login, basic auth, logout" {
	# a second registry, with htpasswd auth; the file's own stays as it is
	local main=("$REG" "$REG_PID" "$REG_DIR")
	registry_start alice:secret
	AUTH_REG_DIR="$REG_DIR"
	push "$IMG" base busybox:auth --dest-creds alice:secret
	run deck pull "$REG/busybox:auth"
	[ "$status" -eq 1 ]
	[[ "$output" == *401* || "$output" == *"no credentials"* ]]
	run deck login -u alice -p wrong "$REG"
	[ "$status" -eq 1 ]
	run deck login -u alice -p secret "$REG"
	[ "$status" -eq 0 ]
	[ "$(stat -c %a "$REGISTRY_AUTH_FILE")" = 600 ]
	run deck pull "$REG/busybox:auth"
	[ "$status" -eq 0 ]
	run deck logout "$REG"
	[ "$status" -eq 0 ]
	run deck pull "$REG/busybox:auth"
	[ "$status" -eq 1 ]
	run deck pull --creds alice:secret "$REG/busybox:auth"
	[ "$status" -eq 0 ]
	registry_stop
	AUTH_REG_DIR=
	REG="${main[0]}" REG_PID="${main[1]}" REG_DIR="${main[2]}"
}

@test "images: bad references and bad flags" {
	run deck pull 'Busybox:1'
	[ "$status" -eq 1 ]
	[[ "$output" == *'reference "Busybox:1"'* ]]
	run deck pull
	[ "$status" -eq 125 ]
	run deck pull --tls-verify=maybe x
	[ "$status" -eq 125 ]
	run deck images --format yaml
	[ "$status" -eq 125 ]
	run deck nosuchcommand
	[ "$status" -eq 125 ]
}
