# shellcheck shell=bash
# A real registry for the image tests: Debian's docker-registry on 127.0.0.1,
# images built offline from the test busybox rootfs as OCI layouts, pushed
# with skopeo.
#
#   registry_start [USER:PASS]  start one (htpasswd auth when given); sets
#                               REG (host:port), REG_PID, REG_DIR
#   registry_stop               stop it and remove its storage
#   oci_layout DIR TAG [ARCH] [LAYER_TAR...]
#                               an OCI image layout in DIR with one image:
#                               the busybox rootfs layer, then each LAYER_TAR
#   push DIR TAG NAME [SKOPEO ARGS...]  copy DIR's TAG to $REG/NAME

registry_start() {
	local auth="${1:-}" port i
	REG_DIR="$(mktemp -d "${BATS_FILE_TMPDIR:-/tmp}/registry.XXXXXX")"
	for ((i = 0; i < 20; i++)); do
		port=$((20000 + RANDOM % 20000))
		ss -Hltn "sport = :$port" | grep -q . || break
	done
	{
		echo "version: 0.1"
		echo "log: {level: error}"
		echo "storage: {filesystem: {rootdirectory: $REG_DIR/data}, delete: {enabled: true}}"
		echo "http: {addr: 127.0.0.1:$port}"
		if [[ -n "$auth" ]]; then
			htpasswd -Bbn "${auth%%:*}" "${auth#*:}" >"$REG_DIR/htpasswd"
			echo "auth: {htpasswd: {realm: hull-test, path: $REG_DIR/htpasswd}}"
		fi
	} >"$REG_DIR/config.yml"
	# REGISTRY_* variables override its config (REGISTRY_AUTH_FILE is ours, for deck)
	# REGISTRY_* variables override its config; REGISTRY_AUTH_FILE is for deck
	env -u REGISTRY_AUTH_FILE docker-registry serve "$REG_DIR/config.yml" >"$REG_DIR/log" 2>&1 3>&- &
	REG_PID=$!
	echo "$REG_PID" >"$REG_DIR/pid"
	REG="127.0.0.1:$port"
	for ((i = 0; i < 100; i++)); do
		curl -s -o /dev/null "http://$REG/v2/" && break
		sleep 0.05
	done
	export REG REG_PID REG_DIR
	curl -s -o /dev/null "http://$REG/v2/" || {
		cat "$REG_DIR/log" >&2
		return 1
	}
}

# registry_kill: stop it, keep its storage; registry_restart: the same again.
registry_kill() {
	local i
	# a registry_restart in a test is not seen by teardown_file: the file is
	[[ -f "$REG_DIR/pid" ]] && REG_PID="$(cat "$REG_DIR/pid")"
	kill "$REG_PID" 2>/dev/null || true
	wait "$REG_PID" 2>/dev/null || true
	# started by another shell (setup_file): wait cannot, so poll
	for ((i = 0; i < 100; i++)); do
		kill -0 "$REG_PID" 2>/dev/null || return 0
		sleep 0.05
	done
}

registry_restart() {
	env -u REGISTRY_AUTH_FILE docker-registry serve "$REG_DIR/config.yml" >>"$REG_DIR/log" 2>&1 3>&- &
	REG_PID=$!
	echo "$REG_PID" >"$REG_DIR/pid"
	local i
	for ((i = 0; i < 100; i++)); do
		curl -s -o /dev/null "http://$REG/v2/" && return 0
		sleep 0.05
	done
	return 1
}

# registry_blob DIGEST: the file in the registry's storage holding a blob.
registry_blob() {
	local hex="${1#sha256:}"
	echo "$REG_DIR/data/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}

registry_stop() {
	[[ -n "${REG_PID:-}" ]] || return 0
	registry_kill
	rm -rf "$REG_DIR"
	REG_PID=
}

_blob() { # DIR FILE: move FILE into DIR's blobs; prints "digest size"
	local d s
	d="$(sha256sum "$2" | cut -d' ' -f1)"
	s="$(stat -c %s "$2")"
	mv "$2" "$1/blobs/sha256/$d"
	echo "sha256:$d $s"
}

oci_layout() {
	local dir="$1" tag="$2" arch="${3:-$(dpkg --print-architecture)}" t f
	shift 3 || shift $#
	t="$(mktemp -d)"
	mkdir -p "$dir/blobs/sha256"
	[[ -f "$dir/oci-layout" ]] || echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
	peer_rootfs_tar "$t/base.tar"
	local layers=() diffs=() i=0 ld ls
	for f in "$t/base.tar" "$@"; do
		cp "$f" "$t/l$i.tar"
		diffs+=("\"sha256:$(sha256sum "$t/l$i.tar" | cut -d' ' -f1)\"")
		gzip -n "$t/l$i.tar"
		read -r ld ls < <(_blob "$dir" "$t/l$i.tar.gz")
		layers+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$ld\",\"size\":$ls}")
		i=$((i + 1))
	done
	local dj lj
	dj="$(IFS=,; echo "${diffs[*]}")"
	lj="$(IFS=,; echo "${layers[*]}")"
	printf '{"created":"2026-11-26T00:00:00Z","architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"WorkingDir":"/","Labels":{"hull.test":"%s"}},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
		"$arch" "$tag" "$dj" >"$t/config"
	local cd cs md ms
	read -r cd cs < <(_blob "$dir" "$t/config")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
		"$cd" "$cs" "$lj" >"$t/manifest"
	read -r md ms < <(_blob "$dir" "$t/manifest")
	local entry="{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$md\",\"size\":$ms,\"platform\":{\"architecture\":\"$arch\",\"os\":\"linux\"},\"annotations\":{\"org.opencontainers.image.ref.name\":\"$tag\"}}"
	if [[ -f "$dir/index.json" ]]; then
		jq -c --argjson e "$entry" '.manifests += [$e]' "$dir/index.json" >"$t/index"
	else
		echo "{\"schemaVersion\":2,\"manifests\":[$entry]}" >"$t/index"
	fi
	mv "$t/index" "$dir/index.json"
	rm -rf "$t"
}

# oci_multi DIR TAG ARCH...: one image per ARCH under an image index tagged TAG.
oci_multi() {
	local dir="$1" tag="$2" a e s t
	shift 2
	for a in "$@"; do
		oci_layout "$dir" "$tag-$a" "$a"
	done
	t="$(mktemp)"
	jq -c '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
		manifests: [.manifests[] | del(.annotations)]}' "$dir/index.json" >"$t"
	read -r e s < <(_blob "$dir" "$t")
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
		"$e" "$s" "$tag" >"$dir/index.json"
}

push() {
	local dir="$1" tag="$2" name="$3"
	shift 3
	skopeo copy -q --dest-tls-verify=false "$@" "oci:$dir:$tag" "docker://$REG/$name"
}
