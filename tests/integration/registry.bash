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
	docker-registry serve "$REG_DIR/config.yml" >"$REG_DIR/log" 2>&1 3>&- &
	REG_PID=$!
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

registry_stop() {
	[[ -n "${REG_PID:-}" ]] || return 0
	kill "$REG_PID" 2>/dev/null || true
	wait "$REG_PID" 2>/dev/null || true
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
	local IFS=,
	printf '{"created":"2026-11-26T00:00:00Z","architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"WorkingDir":"/","Labels":{"hull.test":"%s"}},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
		"$arch" "$tag" "${diffs[*]}" >"$t/config"
	local cd cs md ms
	read -r cd cs < <(_blob "$dir" "$t/config")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
		"$cd" "$cs" "${layers[*]}" >"$t/manifest"
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

push() {
	local dir="$1" tag="$2" name="$3"
	shift 3
	skopeo copy -q --dest-tls-verify=false "$@" "oci:$dir:$tag" "docker://$REG/$name"
}
