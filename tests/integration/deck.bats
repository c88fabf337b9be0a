#!/usr/bin/env bats
# deck's containers as a docker user sees them: `deck run/create/start/stop/
# kill/restart/rm/ps/logs/exec/inspect/wait/top/pause/unpause/attach` on images
# pulled from a real registry (Debian's docker-registry, registry.bash), with
# docker's exit codes, ids and names, resources, security options, terminals,
# logs, and networks through the real CNI plugins.
#
# Each test runs in its own peer namespace (peers.bash: private mount + network
# + pid namespaces, so bridges, veths, iptables rules and deck's mounts end with
# it), with its own deck root, and its containers' cgroups under
# /hull-test/deck-PID-N ($DECK_CGROUP_PARENT). The registry listens on the
# host's loopback, which the peer namespace cannot reach: images are pulled
# into the test's deck root from the host namespace (the root is only a
# directory), and the containers run inside the peer namespace.
#
# teardown removes what a test left (`deck rm -f`) and then fails the test on
# any leftover: a mount under the deck root, a cgroup, a veth, an iptables rule
# or an IP lease of a container, a deck-shim still running.

# shellcheck disable=SC2016 # the containers' shell commands are single-quoted on purpose
# shellcheck disable=SC2154 # $stderr is set by bats' run --separate-stderr

bats_require_minimum_version 1.5.0

load helpers
load peers
load registry

DECK="${DECK:-$HULL_BUILD_DIR/deck}"
# a hung command fails its test instead of the suite
DECK_CMD_TIMEOUT="${DECK_CMD_TIMEOUT:-60}"
BATS_TEST_TIMEOUT="${BATS_TEST_TIMEOUT:-180}"

# derive DIR TAG NEW JQ: image NEW in the OCI layout DIR, TAG's with its config edited by JQ
derive() {
	local dir="$1" tag="$2" new="$3" filter="$4" t m c cd cs md ms
	t="$(mktemp -d)"
	m="$(jq -r --arg t "$tag" '.manifests[] |
		select(.annotations["org.opencontainers.image.ref.name"] == $t) | .digest' "$dir/index.json")"
	c="$(jq -r .config.digest "$dir/blobs/sha256/${m#sha256:}")"
	jq -c "$filter" "$dir/blobs/sha256/${c#sha256:}" >"$t/config"
	read -r cd cs < <(_blob "$dir" "$t/config")
	jq -c --arg d "$cd" --argjson s "$cs" '.config.digest = $d | .config.size = $s' \
		"$dir/blobs/sha256/${m#sha256:}" >"$t/manifest"
	read -r md ms < <(_blob "$dir" "$t/manifest")
	jq -c --arg d "$md" --argjson s "$ms" --arg n "$new" '.manifests += [{
		mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s,
		annotations: {"org.opencontainers.image.ref.name": $n}}]' "$dir/index.json" >"$t/index"
	mv "$t/index" "$dir/index.json"
	rm -rf "$t"
}

setup_file() {
	[ -x "$DECK" ] || skip "deck is not built ($DECK)"
	"$DECK" run --help >/dev/null 2>&1 || skip "this deck has no container commands"
	[ "$EUID" -eq 0 ] || skip "requires root"
	[ -x /usr/lib/cni/bridge ] || skip "containernetworking-plugins is not installed"
	command -v docker-registry >/dev/null || skip "docker-registry is not installed"
	command -v iptables-save >/dev/null || skip "iptables is not installed"
	[ -x "$HULL_BUILD_DIR/subreaper" ] || skip "the subreaper helper is not built"
	registry_start
	local d="$BATS_FILE_TMPDIR/img"
	oci_layout "$d" base
	# an Entrypoint and a Cmd
	derive "$d" base ep '.config.Entrypoint = ["echo", "ep:"] | .config.Cmd = ["default"]'
	# a StopSignal, and a Cmd that answers it
	derive "$d" base sig '.config.StopSignal = "SIGUSR1" | .config.Cmd = ["sh", "-c",
		"trap \"echo got-usr1; exit 0\" USR1; echo ready; while :; do usleep 50000; done"]'
	push "$d" base busybox:1
	push "$d" ep busybox:ep
	push "$d" sig busybox:sig
	export IMG="$REG/busybox:1" EP_IMG="$REG/busybox:ep" SIG_IMG="$REG/busybox:sig"
}

teardown_file() {
	registry_stop
}

setup() {
	TMP="$(mktemp -d "$BATS_FILE_TMPDIR/t.XXXXXX")"
	DROOT="$TMP/deck"
	CGNAME="deck-$$-$BATS_TEST_NUMBER"
	export DECK_CGROUP_PARENT="/hull-test/$CGNAME"
	peer_ns_start
	pull "$IMG"
}

teardown() {
	local bad=0 ids id
	if [[ -z "${BATS_TEST_COMPLETED:-}" ]]; then
		echo "--- last \$output (status ${status:-none}):"
		echo "${output:-}"
	fi
	if [[ -n "${PEER_NS:-}" ]]; then
		# what the test left running or stopped, by deck's list and by its records
		ids="$( (
			deck ps -aq --no-trunc 2>/dev/null
			find "$DROOT/containers" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9a-f]*' \
				-printf '%f\n' 2>/dev/null
		) | sort -u)"
		for id in $ids; do
			deck rm -f "$id" >/dev/null 2>&1 || true
		done
		if ! wait_clean >"$TMP/leftovers"; then
			echo "LEAK after deck rm -f of every container:" >&2
			cat "$TMP/leftovers" >&2
			bad=1
		fi
	fi
	peer_ns_stop
	peer_remove_cgroups "$CGNAME" || bad=1
	rm -rf "$TMP"
	return "$bad"
}

deck() {
	in_peer_ns timeout -k 5 "$DECK_CMD_TIMEOUT" "$DECK" --root "$DROOT" "$@" 3>&-
}

# pull REF: into the test's root, from the host namespace (the registry is on its loopback)
pull() {
	"$DECK" --root "$DROOT" pull -q "$1" >/dev/null 3>&-
}

# detached ARGS...: like `run ARGS` for the commands that leave a process
# running (run -d, exec -d, start, restart). What stays must not hold the
# caller's stdout or stderr: `id=$(deck run -d ...)` would never return. So the
# output goes to a file, and a process still holding that file fails the test.
# Sets $status $output $lines.
detached() {
	local f="$TMP/detached.out" p
	: >"$f"
	status=0
	"$@" >"$f" 2>&1 </dev/null || status=$?
	output="$(cat "$f")"
	mapfile -t lines <<<"$output"
	[[ -n "$output" ]] || lines=()
	p="$(find /proc/[0-9]*/fd -lname "$f" 2>/dev/null | cut -d/ -f3 | sort -u | tr '\n' ' ')"
	if [[ -n "$p" ]]; then
		echo "\`$*\` left processes holding its stdout/stderr (\$(...) would hang): $p" >&2
		for p in $p; do
			echo "  $p: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" >&2
		done
		return 1
	fi
}

# detached_ok ARGS...: detached, which must succeed
detached_ok() {
	detached "$@" || return 1
	[[ "$status" -eq 0 ]] || {
		echo "\`$*\` failed ($status): $output" >&2
		return 1
	}
}

# deck_in TEXT ARGS...: deck ARGS with TEXT and a newline on its stdin
deck_in() {
	local text="$1"
	shift
	printf '%s\n' "$text" | deck "$@"
}

# insp NAME JQ: one field of `deck inspect NAME` (the first element of its array)
insp() {
	deck inspect "$1" | jq -r ".[0]$2"
}

# wait_logs NAME LINE: until LINE is a whole line of NAME's log (10 s)
wait_logs() {
	local i
	for ((i = 0; i < 200; i++)); do
		deck logs "$1" 2>&1 | grep -qxF -- "$2" && return 0
		sleep 0.05
	done
	echo "no line \"$2\" in the log of $1 after 10 s:" >&2
	deck logs "$1" >&2
	return 1
}

# fetch URL: from the peer namespace, the "host" of the containers
fetch() {
	in_peer_ns timeout 10 busybox wget -q -O- "$1"
}

wait_fetch() {
	local i
	for ((i = 0; i < 100; i++)); do
		fetch "$1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# ctr_ip NAME: the container's IPv4 address on eth0, as it sees it
ctr_ip() {
	deck exec "$1" ip -o -4 addr show eth0 | awk '{ sub("/.*", "", $4); print $4 }'
}

# cg ID CONTROLLER: the container's cgroup in a v1 hierarchy, e.g. cg "$id" memory
cg() {
	echo "/sys/fs/cgroup/$2$DECK_CGROUP_PARENT/$1"
}

leases() {
	find "$DROOT/cni-ipam" -type f -name '[0-9]*.[0-9]*' -printf '%f\n' 2>/dev/null || true
}

# leftovers: print what containers left behind in the test's namespace, root and
# cgroups; false when there is anything
leftovers() {
	local out="" h d
	out+="$(in_peer_ns findmnt -rn -o TARGET | grep -F "$DROOT/" | sed 's/^/mount: /')"$'\n'
	for h in /sys/fs/cgroup/*/hull-test/"$CGNAME"; do
		[[ "$h" == */process_api/* ]] && continue
		[[ -d "$h" ]] || continue
		# containers' cgroups (a --cgroup-parent made for them may stay, as in docker)
		out+="$(find "$h" -mindepth 1 -type d -regex '.*/[0-9a-f]\{64\}' | sed 's/^/cgroup: /')"$'\n'
	done
	out+="$(in_peer_ns ip -o link show type veth | sed 's/^/veth: /')"$'\n'
	out+="$(in_peer_ns iptables-save | grep -E -e 'id: \\"|10\.8[89]\.' -e 'CNI-[0-9a-f]{24}' |
		sed 's/^/iptables: /')"$'\n'
	out+="$(leases | sed 's/^/lease: /')"$'\n'
	out+="$(in_peer_ns pgrep -a deck-shim | sed 's/^/process: /')"$'\n'
	for d in "$DROOT"/containers/*; do
		[[ -e "$d" && "${d##*/}" != names ]] || continue
		out+="record: $d ($(cd "$d" && echo *)): $(jq -c '{Name: .name, removing}' "$d/container.json" 2>&1)"$'\n'
	done
	for d in "$DROOT"/containers/names/*; do
		[[ -e "$d" || -L "$d" ]] && out+="name: $d"$'\n'
	done
	out="$(grep -v '^$' <<<"$out")"
	[[ -z "$out" ]] || {
		echo "$out"
		return 1
	}
}

# wait_clean: leftovers, given up to 5 s to go (a shim exits just after its
# container is removed)
wait_clean() {
	local i
	for ((i = 0; i < 50; i++)); do
		leftovers >/dev/null && return 0
		sleep 0.1
	done
	leftovers
}

# ---- run: exit codes, process options ----

@test "run: output and docker's exit codes: 0, the container's, 125, 126, 127" {
	run -0 deck run --rm "$IMG" echo hi
	[ "$output" = hi ]
	run -3 deck run --rm "$IMG" sh -c 'echo out; usleep 100000; echo err >&2; exit 3'
	[ "$output" = $'out\nerr' ]
	# stdout and stderr stay apart
	run -0 --separate-stderr deck run --rm "$IMG" sh -c 'echo out; echo err >&2'
	[ "$output" = out ]
	[ "$stderr" = err ]
	run -127 deck run --rm "$IMG" nosuchcommand
	[[ "$output" == *nosuchcommand* ]]
	run -126 deck run --rm "$IMG" /etc/passwd
	[[ "$output" == */etc/passwd* ]]
	run -126 deck run --rm "$IMG" /tmp
	# deck's own errors: 125
	run -125 deck run --rm --no-such-flag "$IMG" true
	[[ "$output" == *no-such-flag* ]]
	run -125 deck run --rm 127.0.0.1:1/nosuch:1 true
	[[ "$output" == *127.0.0.1:1/nosuch:1* ]]
	run ! deck run
	run -125 deck run --rm --memory lots "$IMG" true
	# none of them is left
	run -0 deck ps -aq
	[ -z "$output" ]
}

@test "run and create pull an image they do not have, as docker" {
	# a second registry on the same storage and address, inside the namespace
	in_peer_ns sh -c 'env -u REGISTRY_AUTH_FILE docker-registry serve "$1" >/dev/null 2>&1 &' \
		_ "$REG_DIR/config.yml"
	local i
	for ((i = 0; i < 100; i++)); do
		in_peer_ns curl -s -o /dev/null "http://$REG/v2/" && break
		sleep 0.05
	done
	run -0 --separate-stderr deck run --rm "$EP_IMG" pulled
	[ "$output" = "ep: pulled" ]
	run -0 deck images
	[[ "$output" == *"$REG/busybox "*ep* ]]
	run -0 deck create --name cr "$SIG_IMG"
	[[ "${lines[-1]}" =~ ^[0-9a-f]{64}$ ]]
	run -0 deck image inspect "$SIG_IMG"
	# and an image that is nowhere: 125
	run -125 deck run --rm "$REG/busybox:nosuchtag" true
	[[ "$output" == *"$REG/busybox:nosuchtag"* ]]
}

@test "run: -e, --env-file, -w, -u, and the image's PATH" {
	printf 'B=from file\n# a comment\n\nC\nNOTSET\n' >"$TMP/env"
	export C=from-caller
	unset NOTSET D
	run -0 deck run --rm -e A=1 -e D --env-file "$TMP/env" -w /new/dir -u 1000:1000 "$IMG" \
		sh -c 'echo "$A|$B|$C|${D-unset}|${NOTSET-unset}|$(pwd)|$(id -u):$(id -g)|$PATH"'
	unset C
	[ "$output" = "1|from file|from-caller|unset|unset|/new/dir|1000:1000|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" ]
	# a user by name: its uid, its group and its home
	run -0 deck run --rm -u tuser "$IMG" sh -c 'echo "$(id -un) $(id -g) $HOME $(pwd)"'
	[ "$output" = "tuser 1000 /home/tuser /" ]
	run -0 deck run --rm "$IMG" sh -c 'echo "$(id -u) $HOME"'
	[ "$output" = "0 /root" ]
	# -e overrides the image's variables
	run -0 deck run --rm -e PATH=/bin "$IMG" sh -c 'echo $PATH'
	[ "$output" = /bin ]
	run -125 deck run --rm --env-file "$TMP/nosuchfile" "$IMG" true
}

@test "run: --entrypoint and the image's Entrypoint and Cmd" {
	pull "$EP_IMG"
	run -0 deck run --rm "$EP_IMG"
	[ "$output" = "ep: default" ]
	run -0 deck run --rm "$EP_IMG" x y
	[ "$output" = "ep: x y" ]
	run -0 deck run --rm --entrypoint printf "$EP_IMG" '%s-%s\n' a b
	[ "$output" = a-b ]
	# --entrypoint drops the image's Cmd
	run -0 deck run --rm --entrypoint echo "$EP_IMG"
	[ "$output" = "" ]
	# an empty one clears the image's entrypoint
	run -0 deck run --rm --entrypoint "" "$EP_IMG" echo cleared
	[ "$output" = cleared ]
	# and the base image's Cmd is sh: with -i it reads its stdin
	run -0 deck_in 'echo from-cmd' run --rm -i "$IMG"
	[ "$output" = from-cmd ]
}

@test "run: -v host:ctr and :ro, named volumes, --tmpfs, --read-only" {
	mkdir "$TMP/host"
	echo from-host >"$TMP/host/in"
	run -0 deck run --rm -v "$TMP/host:/data" "$IMG" sh -c 'cat /data/in; echo from-ctr >/data/out'
	[ "$output" = from-host ]
	[ "$(cat "$TMP/host/out")" = from-ctr ]
	run -1 deck run --rm -v "$TMP/host:/data:ro" "$IMG" sh -c 'cat /data/in; echo x >/data/out2'
	[[ "$output" == from-host*"Read-only file system"* ]]
	[ ! -e "$TMP/host/out2" ]
	# a named volume keeps its data from one container to the next
	run -0 deck volume create vol1
	run -0 deck run --rm -v vol1:/v "$IMG" sh -c 'echo kept >/v/f'
	run -0 deck run --rm -v vol1:/v:ro "$IMG" cat /v/f
	[ "$output" = kept ]
	# one named on first use is created
	run -0 deck run --rm -v auto1:/w "$IMG" sh -c 'echo new >/w/g'
	run -0 deck volume ls -q
	[ "$output" = $'auto1\nvol1' ]
	# an anonymous one (-v /path) goes with its --rm container, as in docker
	run -0 deck run --rm -v /anon "$IMG" sh -c 'echo x >/anon/f && cat /anon/f'
	[ "$output" = x ]
	run -0 deck volume ls -q
	[ "$output" = $'auto1\nvol1' ]
	# a volume in use cannot be removed
	detached_ok deck run -d --name user -v vol1:/v "$IMG" sleep 1000
	run -1 deck volume rm vol1
	run -0 deck rm -f user
	run -0 deck volume rm vol1
	# --read-only: the root is read-only, a --tmpfs is not
	run -1 deck run --rm --read-only --tmpfs /scratch "$IMG" sh -c \
		'echo ok >/scratch/f && cat /scratch/f; grep -q " /scratch tmpfs " /proc/self/mounts && echo tmpfs; touch /x'
	[ "${lines[0]}" = ok ]
	[ "${lines[1]}" = tmpfs ]
	[[ "${lines[2]}" == *"Read-only file system"* ]]
	# without it the root is writable
	run -0 deck run --rm "$IMG" sh -c 'touch /x && echo written'
	[ "$output" = written ]
	run -125 deck run --rm -v relative:dir:/x "$IMG" true
}

@test "run: --memory: a process past the limit is OOM-killed, exit 137 and OOMKilled" {
	run -137 deck run --name oom --memory 32m "$IMG" sh -c 'x=0123456789; while :; do x="$x$x"; done'
	run -0 deck inspect oom
	[ "$(jq -r '.[0].State.OOMKilled' <<<"$output")" = true ]
	[ "$(jq -r '.[0].State.ExitCode' <<<"$output")" = 137 ]
	[ "$(jq -r '.[0].State.Status' <<<"$output")" = exited ]
	# a container under its limit is not
	run -0 deck run --name fine --memory 32m "$IMG" true
	[ "$(insp fine .State.OOMKilled)" = false ]
}

@test "run: --cpus, --memory, --pids-limit are the container cgroup's limits" {
	local id
	detached_ok deck run -d --cpus 0.5 --memory 64m --pids-limit 20 "$IMG" sleep 1000
	id="$output"
	[[ "$id" =~ ^[0-9a-f]{64}$ ]]
	[ "$(cat "$(cg "$id" cpu)/cpu.cfs_quota_us")" = 50000 ]
	[ "$(cat "$(cg "$id" cpu)/cpu.cfs_period_us")" = 100000 ]
	[ "$(cat "$(cg "$id" memory)/memory.limit_in_bytes")" = 67108864 ]
	[ "$(cat "$(cg "$id" pids)/pids.max")" = 20 ]
	# the container's process is in it
	[ "$(wc -l <"$(cg "$id" memory)/cgroup.procs")" -eq 1 ]
	# no limits: none set
	detached_ok deck run -d "$IMG" sleep 1000
	id="$output"
	[ "$(cat "$(cg "$id" cpu)/cpu.cfs_quota_us")" = -1 ]
	[ "$(cat "$(cg "$id" pids)/pids.max")" = max ]
	# the pids limit as the container sees it: forks past it fail
	run deck run --rm --pids-limit 5 "$IMG" sh -c 'for i in 1 2 3 4 5 6 7 8; do usleep 300000 & done; wait'
	[[ "$output" == *"can't fork"* ]]
	# --cgroup-parent: another parent (nested in the test's, so teardown removes it)
	detached_ok deck run -d --cgroup-parent "$DECK_CGROUP_PARENT/other" "$IMG" sleep 1000
	id="$output"
	[ "$(wc -l <"/sys/fs/cgroup/memory$DECK_CGROUP_PARENT/other/$id/cgroup.procs")" -eq 1 ]
	run -0 deck rm -f "$id"
	[ ! -e "/sys/fs/cgroup/memory$DECK_CGROUP_PARENT/other/$id" ]
	run -125 deck run --rm --cpus lots "$IMG" true
}

@test "run: docker's capabilities, --cap-add, --cap-drop, seccomp, no-new-privileges" {
	status_of() { # ARGS...: CapEff Seccomp NoNewPrivs of a container run with ARGS
		deck run --rm "$@" "$IMG" sh -c \
			'grep -E "^(CapEff|Seccomp|NoNewPrivs):" /proc/self/status | cut -f2 | tr "\n" " "'
	}
	# every capability of the kernel but CAP_SYS_RESOURCE, which this machine's
	# bounding set lacks (the test is root without it)
	local all
	all="$(printf '%016x' $(((1 << ($(cat /proc/sys/kernel/cap_last_cap) + 1)) - 1 - (1 << 24))))"
	# docker's 14 capabilities, no no_new_privs unless asked, its seccomp profile
	run -0 status_of
	[ "$output" = "00000000a80425fb 0 2 " ]
	run -0 status_of --cap-add NET_ADMIN
	[[ "$output" == "00000000a80435fb "* ]]
	run -0 status_of --cap-add CAP_SYS_ADMIN --cap-drop NET_RAW --cap-drop CAP_CHOWN
	[[ "$output" == "00000000a82405fa "* ]]
	run -0 status_of --cap-drop ALL
	[[ "$output" == "0000000000000000 "* ]]
	run -0 status_of --cap-drop ALL --cap-add KILL
	[[ "$output" == "0000000000000020 "* ]]
	run -0 status_of --cap-add ALL --cap-drop SYS_RESOURCE
	[[ "$output" == "$all "* ]]
	# a non-root user has none in effect
	run -0 status_of -u 1000
	[[ "$output" == "0000000000000000 "* ]]
	run -0 status_of --security-opt seccomp=unconfined
	[ "$output" = "00000000a80425fb 0 0 " ]
	run -0 status_of --security-opt no-new-privileges
	[ "$output" = "00000000a80425fb 1 2 " ]
	run -0 status_of --security-opt no-new-privileges=true --security-opt seccomp=unconfined
	[ "$output" = "00000000a80425fb 1 0 " ]
	# the default profile refuses what docker's refuses
	run -1 deck run --rm "$IMG" sh -c 'unshare -m true'
	run -0 deck run --rm --cap-add SYS_ADMIN --security-opt seccomp=unconfined "$IMG" unshare -m true
	run -125 deck run --rm --cap-add NOSUCHCAP "$IMG" true
	run -125 deck run --rm --security-opt nosuchopt "$IMG" true
}

@test "run: --init: pid 1 is deck-init, the command runs under it" {
	run -0 deck run --rm --init "$IMG" sh -c 'tr "\0" " " </proc/1/cmdline; echo; echo $$'
	[[ "${lines[0]}" == *init\ *sh\ -c* ]]
	[ "${lines[1]}" != 1 ]
	run -0 deck run --rm "$IMG" sh -c 'echo $$'
	[ "$output" = 1 ]
	# the exit code comes through it, and a stop signal reaches the command
	run -9 deck run --rm --init "$IMG" sh -c 'exit 9'
	run -137 deck run --rm --init "$IMG" sh -c 'kill -9 $$'
	detached_ok deck run -d --name ini --init "$IMG" sleep 1000
	local t0=$SECONDS
	run -0 deck stop ini
	((SECONDS - t0 < 5))
	[ "$(insp ini .State.ExitCode)" = 143 ]
}

@test "run: -t gives the container a terminal, -i its stdin" {
	run -0 deck run --rm -t "$IMG" sh -c 'test -t 0 && test -t 1 && echo tty; tty'
	[ "${lines[0]}" = $'tty\r' ]
	[[ "${lines[1]}" == /dev/pts/*$'\r' ]]
	run -0 deck run --rm "$IMG" sh -c 'test -t 1 && echo tty || echo no-tty'
	[ "$output" = no-tty ]
	# -i: the caller's stdin goes to the container, its end too
	run -0 deck_in hello run -i --rm "$IMG" cat
	[ "$output" = hello ]
	run -4 deck_in 'echo from-stdin; exit 4' run -i --rm "$IMG" sh
	[ "$output" = from-stdin ]
	# without -i the container's stdin is empty
	run -0 deck_in hello run --rm "$IMG" cat
	[ "$output" = "" ]
	# a lot of output, and of input, arrives whole
	deck run --rm "$IMG" seq 1 200000 >"$TMP/seq.out"
	seq 1 200000 | cmp - "$TMP/seq.out"
	md5_in() { seq 1 200000 | deck run -i --rm "$IMG" md5sum; }
	run -0 md5_in
	[ "$output" = "$(seq 1 200000 | md5sum)" ]
}

# ---- detached containers: logs, exec, stop, kill, restart, rm ----

@test "run -d prints the id; logs, logs -f, --tail, --since, -t" {
	mkdir "$TMP/go"
	detached_ok deck run -d --name chatty -v "$TMP/go:/go" "$IMG" sh -c \
		'echo one; usleep 100000; echo two >&2; usleep 100000; echo three
		 while [ ! -e /go/go ]; do usleep 50000; done; echo four; sleep 1000'
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
	wait_logs chatty three
	run -0 deck logs chatty
	[ "$output" = $'one\ntwo\nthree' ]
	run -0 --separate-stderr deck logs chatty
	[ "$output" = $'one\nthree' ]
	[ "$stderr" = two ]
	run -0 deck logs --tail 1 chatty
	[ "$output" = three ]
	run -0 deck logs --tail 2 chatty
	[ "$output" = $'two\nthree' ]
	run -0 deck logs -t chatty
	[[ "${lines[0]}" =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}(\.[0-9]+)?Z\ one$ ]]
	[ "${#lines[@]}" -eq 3 ]
	local since
	since="$(date +%s.%N)"
	touch "$TMP/go/go"
	wait_logs chatty four
	run -0 deck logs --since "$since" chatty
	[ "$output" = four ]
	run -0 deck logs --since "$(date -u -d "@${since%.*}" +%Y-%m-%dT%H:%M:%SZ)" chatty
	[[ "$output" == *four ]]
	# -f: what is there, what comes, and the end when the container exits
	detached_ok deck run -d --name short "$IMG" sh -c 'echo a; usleep 500000; echo b; usleep 500000; echo c'
	run -0 deck logs -f short
	[ "$output" = $'a\nb\nc' ]
	run -0 deck wait short
	[ "$output" = 0 ]
	# a foreground container is logged too
	run -0 deck run --name fg "$IMG" echo logged
	run -0 deck logs fg
	[ "$output" = logged ]
	# docker's json-file format, read back the same
	run -0 deck run --name js --log-driver json-file "$IMG" sh -c 'echo j1; usleep 100000; echo j2 >&2'
	run -0 deck logs js
	[ "$output" = $'j1\nj2' ]
	local log
	log="$(insp js .LogPath)"
	[ "$(jq -r '.stream + ":" + .log' "$log" | tr -d '\n')" = "stdout:j1stderr:j2" ]
	run -1 deck logs nosuch
}

@test "exec: -e, -u, -w, -i, -t, exit codes, refused when not running" {
	detached_ok deck run -d --name box -e FROM_RUN=1 "$IMG" sleep 1000
	run -0 deck exec box echo hi
	[ "$output" = hi ]
	run -0 deck exec -e FOO=bar -u 1000 -w /tmp box sh -c 'echo "$FOO $FROM_RUN $(id -u) $(pwd)"'
	[ "$output" = "bar 1 1000 /tmp" ]
	run -0 deck exec box sh -c 'tr "\0" " " </proc/1/cmdline'
	[ "$output" = "sleep 1000 " ]
	run -5 deck exec box sh -c 'exit 5'
	run -127 deck exec box nosuchcommand
	[[ "$output" == *nosuchcommand* ]]
	run -126 deck exec box /etc/passwd
	run -0 deck_in piped exec -i box cat
	[ "$output" = piped ]
	run -0 deck exec -t box tty
	[[ "$output" == /dev/pts/* ]]
	# it runs with the container's capabilities
	run -0 deck exec box sh -c 'grep CapEff /proc/self/status | cut -f2'
	[ "$output" = 00000000a80425fb ]
	# exec -d leaves its process running in the container
	detached_ok deck run -d --name box2 "$IMG" sleep 1000
	detached_ok deck exec -d box2 sh -c 'echo bg >/tmp/bg; sleep 1000'
	local i
	for ((i = 0; i < 50; i++)); do
		deck exec box2 cat /tmp/bg 2>/dev/null | grep -q bg && break
		sleep 0.1
	done
	run -0 deck exec box2 cat /tmp/bg
	[ "$output" = bg ]
	# not into a container that is not running, or that does not exist (1, as docker)
	run -0 deck kill box
	run -0 deck wait box
	run -1 deck exec box true
	[[ "$output" == *"is not running"* ]]
	run -1 deck exec nosuch true
}

@test "stop: the image's StopSignal, --stop-signal, SIGKILL after --time; kill -s" {
	pull "$SIG_IMG"
	detached_ok deck run -d --name s1 "$SIG_IMG"
	wait_logs s1 ready
	run -0 deck stop s1
	[ "$output" = s1 ]
	run -0 deck logs s1
	[ "$output" = $'ready\ngot-usr1' ]
	[ "$(insp s1 .State.Status)" = exited ]
	[ "$(insp s1 .State.ExitCode)" = 0 ]
	# --stop-signal instead
	detached_ok deck run -d --name s2 --stop-signal SIGUSR2 "$IMG" sh -c \
		'trap "echo got-usr2; exit 0" USR2; echo ready; while :; do usleep 50000; done'
	wait_logs s2 ready
	run -0 deck stop s2
	wait_logs s2 got-usr2
	[ "$(insp s2 .State.ExitCode)" = 0 ]
	# a process that ignores SIGTERM (sleep as pid 1 has no handler) is killed after --time
	detached_ok deck run -d --name s3 "$IMG" sleep 1000
	local t0 t1
	t0="$(date +%s%N)"
	run -0 deck stop --time 1 s3
	t1="$(date +%s%N)"
	(((t1 - t0) / 1000000 >= 900 && (t1 - t0) / 1000000 < 8000))
	[ "$(insp s3 .State.ExitCode)" = 137 ]
	detached_ok deck run -d --name s4 "$IMG" sleep 1000
	t0="$(date +%s%N)"
	run -0 deck stop -t 0 s4
	t1="$(date +%s%N)"
	(((t1 - t0) / 1000000 < 3000))
	# stopping a stopped container is fine
	run -0 deck stop s4
	# kill -s: a signal by name, with or without SIG, or by number; the container goes on
	detached_ok deck run -d --name kil "$IMG" sh -c \
		'trap "echo got-hup" HUP; trap "echo got-usr1" USR1; echo ready; while :; do usleep 50000; done'
	wait_logs kil ready
	run -0 deck kill -s HUP kil
	[ "$output" = kil ]
	wait_logs kil got-hup
	run -0 deck kill --signal SIGUSR1 kil
	wait_logs kil got-usr1
	run -0 deck kill -s 1 kil
	[ "$(deck logs kil | grep -c got-hup)" -ge 1 ]
	[ "$(insp kil .State.Status)" = running ]
	# without -s: SIGKILL
	run -0 deck kill kil
	run -0 deck wait kil
	[ "$output" = 137 ]
	run -1 deck kill kil
	[[ "$output" == *"is not running"* ]]
	run ! deck kill -s NOSUCHSIGNAL s1
	run -1 deck stop nosuch
}

@test "restart and start: a running and an exited container run again, their logs kept" {
	detached_ok deck run -d --name rs "$IMG" sh -c 'trap "exit 0" TERM; echo started; sleep 1000 & wait'
	wait_logs rs started
	local pid
	pid="$(insp rs .State.Pid)"
	[ "$pid" -gt 0 ]
	detached_ok deck restart rs
	[ "$output" = rs ]
	[ "$(insp rs .State.Status)" = running ]
	[ "$(insp rs .State.Pid)" != "$pid" ]
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(deck logs rs | grep -c started)" -eq 2 ] && break
		sleep 0.05
	done
	[ "$(deck logs rs | grep -c started)" -eq 2 ]
	# an exited one: start runs it again, detached
	run -0 deck run --name once "$IMG" echo ran
	detached_ok deck start once
	[ "$output" = once ]
	run -0 deck wait once
	[ "$output" = 0 ]
	run -0 deck logs once
	[ "$output" = $'ran\nran' ]
	# create, then start
	run -0 deck create --name c1 "$IMG" sh -c 'echo created-then-started; exit 2'
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
	[ "$(insp c1 .State.Status)" = created ]
	run -0 deck ps -a
	[[ "$output" == *Created*c1* ]]
	detached_ok deck start c1
	run -0 deck wait c1
	[ "$output" = 2 ]
	run -0 deck logs c1
	[ "$output" = created-then-started ]
	# start -a attaches: the output and the exit code
	run -2 deck start -a c1
	[ "$output" = created-then-started ]
	# starting a running container does nothing
	detached_ok deck start rs
	[ "$(insp rs .State.Pid)" -gt 0 ]
}

@test "rm: refused while running, -f kills; the record, its name and its files go" {
	local id
	detached_ok deck run -d --name gone "$IMG" sleep 1000
	id="$output"
	[ -d "$DROOT/containers/$id" ]
	run -1 deck rm gone
	[[ "$output" == *running* ]]
	[ "$(insp gone .State.Status)" = running ]
	run -0 deck rm -f gone
	[ "$output" = gone ]
	[ ! -e "$DROOT/containers/$id" ]
	run -1 deck inspect gone
	[[ "${output,,}" == *"no such"*gone* ]]
	# the name is free again
	run -0 deck run --rm --name gone "$IMG" true
	# exited ones, several at once, by name and id prefix
	run -0 deck run --name e1 "$IMG" true
	id="$(deck create "$IMG" true)"
	run -0 deck rm e1 "${id:0:12}"
	[ "$output" = $'e1\n'"${id:0:12}" ]
	run -0 deck ps -aq
	[ -z "$output" ]
	run -1 deck rm nosuch
	[[ "${output,,}" == *"no such container: nosuch"* ]]
	# --rm of a detached container: gone once it exits
	detached_ok deck run -d --rm --name brief "$IMG" true
	local i
	for ((i = 0; i < 100; i++)); do
		[ -z "$(deck ps -aq)" ] && break
		sleep 0.05
	done
	run -0 deck ps -aq
	[ -z "$output" ]
}

@test "ps: running only, -a, -q, --no-trunc, --format json; ids as docker's, generated names" {
	local id1 id2
	detached_ok deck run -d "$IMG" sleep 1000
	id1="$output"
	[[ "$id1" =~ ^[0-9a-f]{64}$ ]]
	run -3 deck run --name ended "$IMG" sh -c 'exit 3'
	detached_ok deck run -d --name second "$IMG" sleep 1000
	id2="$output"
	run -0 deck ps
	[[ "${lines[0]}" =~ ^CONTAINER\ ID\ +IMAGE\ +COMMAND\ +CREATED\ +STATUS\ +PORTS\ +NAMES$ ]]
	[ "${#lines[@]}" -eq 3 ]
	# newest first, 12 digits of the id, the image as given, Up
	[[ "${lines[1]}" == "${id2:0:12}   $IMG "*" Up "*second ]]
	[[ "${lines[2]}" == "${id1:0:12}   $IMG "*" Up "* ]]
	local name
	name="$(awk '{ print $NF }' <<<"${lines[2]}")"
	[[ "$name" =~ ^[a-z]+_[a-z]+$ ]]
	[ "$(insp "$name" .Id)" = "$id1" ]
	run -0 deck ps -a
	[ "${#lines[@]}" -eq 4 ]
	[[ "$output" == *"Exited (3) "*ended* ]]
	run -0 deck ps -q
	[ "$output" = "${id2:0:12}"$'\n'"${id1:0:12}" ]
	run -0 deck ps -aq
	[ "${#lines[@]}" -eq 3 ]
	run -0 deck ps -q --no-trunc
	[ "$output" = "$id2"$'\n'"$id1" ]
	# json: docker's fields (one object per line, or an array)
	run -0 deck ps -a --format json
	local j
	j="$(jq -s -c '[.[] | if type == "array" then .[] else . end]' <<<"$output")"
	[ "$(jq length <<<"$j")" -eq 3 ]
	[ "$(jq -r '.[] | select(.Names == "ended" or .Names == ["ended"]) | .State' <<<"$j")" = exited ]
	[ "$(jq -r '.[] | select(.Names == "second" or .Names == ["second"]) | .State' <<<"$j")" = running ]
	[[ "$id2" == "$(jq -r '.[] | select(.State == "running") | (.ID // .Id)' <<<"$j" | head -n 1)"* ]]
	[ "$(jq -r '.[0].Image' <<<"$j")" = "$IMG" ]
	# a unique prefix finds a container; an ambiguous one or none does not
	run -0 deck inspect "${id1:0:5}"
	[ "$(jq -r '.[0].Id' <<<"$output")" = "$id1" ]
	run -1 deck inspect nosuch
	# a name is taken once
	run -125 deck run -d --name second "$IMG" true
	[[ "$output" == *'"/second" is already in use'* ]]
	run ! deck create --name second "$IMG" true
	[[ "$output" == *'"/second" is already in use'* ]]
	run -0 deck ps -aq
	[ "${#lines[@]}" -eq 3 ]
	run -125 deck run --rm --name 'bad/name' "$IMG" true
	run -125 deck ps --no-such-flag
}

@test "inspect: Id, Name, Created, State, Config, NetworkSettings, Image; wait" {
	local id
	detached_ok deck run -d --name insp -e K=V -w /tmp --hostname hh "$IMG" sleep 1000
	id="$output"
	run -0 deck inspect insp
	local j="$output"
	[ "$(jq -r 'length' <<<"$j")" -eq 1 ]
	[ "$(jq -r '.[0].Id' <<<"$j")" = "$id" ]
	[[ "$(jq -r '.[0].Created' <<<"$j")" =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T ]]
	[[ "$(jq -r '.[0].Image' <<<"$j")" =~ ^sha256:[0-9a-f]{64}$ ]]
	[ "$(jq -r '.[0].State.Status' <<<"$j")" = running ]
	[ "$(jq -r '.[0].State.Running' <<<"$j")" = true ]
	[ "$(jq -r '.[0].State.Paused' <<<"$j")" = false ]
	[ "$(jq -r '.[0].State.ExitCode' <<<"$j")" = 0 ]
	[ "$(jq -r '.[0].State.Pid' <<<"$j")" -gt 0 ]
	[[ "$(jq -r '.[0].State.StartedAt' <<<"$j")" =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T ]]
	[ "$(jq -r '.[0].Config.Image' <<<"$j")" = "$IMG" ]
	[ "$(jq -c '.[0].Config.Cmd' <<<"$j")" = '["sleep","1000"]' ]
	[ "$(jq -r '.[0].Config.Env | index("K=V") != null' <<<"$j")" = true ]
	[ "$(jq -r '.[0].Config.WorkingDir' <<<"$j")" = /tmp ]
	[ "$(jq -r '.[0].Config.Hostname' <<<"$j")" = hh ]
	[[ "$(jq -r '.[0].NetworkSettings.IPAddress' <<<"$j")" =~ ^10\.88\.[0-9]+\.[0-9]+$ ]]
	[ "$(jq -r '.[0].NetworkSettings.IPAddress' <<<"$j")" = "$(ctr_ip insp)" ]
	# the pid is the container's init as the host sees it
	[ "$(in_peer_ns cat "/proc/$(jq -r '.[0].State.Pid' <<<"$j")/cmdline" | tr '\0' ' ')" = "sleep 1000 " ]
	# several at once
	run -0 deck run --name other "$IMG" true
	run -0 deck inspect insp other
	[ "$(jq -r '[.[].Name | ltrimstr("/")] | join(",")' <<<"$output")" = insp,other ]
	run -1 deck inspect insp nosuch
	# -f: docker's templates
	run -0 deck inspect -f '{{.State.Status}} {{.NetworkSettings.IPAddress}}' insp
	[ "$output" = "running $(ctr_ip insp)" ]
	run -0 deck inspect --format '{{json .Config.Cmd}}' insp
	[ "$output" = '["sleep","1000"]' ]
	# wait prints the exit code once the container has exited
	detached_ok deck run -d --name wt "$IMG" sh -c 'usleep 300000; exit 7'
	run -0 deck wait wt
	[ "$output" = 7 ]
	run -0 deck wait wt other
	[ "$output" = $'7\n0' ]
	run -0 deck kill insp
	run -0 deck wait insp
	[ "$output" = 137 ]
	run -0 deck inspect insp
	[ "$(jq -r '.[0].State.Status' <<<"$output")" = exited ]
	[ "$(jq -r '.[0].State.Running' <<<"$output")" = false ]
	[ "$(jq -r '.[0].State.ExitCode' <<<"$output")" = 137 ]
	[ "$(jq -r '.[0].State.Pid' <<<"$output")" = 0 ]
	[[ "$(jq -r '.[0].State.FinishedAt' <<<"$output")" =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T ]]
	run -1 deck wait nosuch
	# docker's Name starts with a slash; its Config.Env has the image's variables too
	run -0 deck inspect insp
	[ "$(jq -r '.[0].Name' <<<"$output")" = /insp ]
	[ "$(jq -r '.[0].Config.Env | map(select(startswith("PATH="))) | length' <<<"$output")" = 1 ]
}

@test "top, pause and unpause, attach" {
	local id
	detached_ok deck run -d --name pz "$IMG" sh -c 'sleep 999 & while :; do usleep 50000; done'
	id="$output"
	run -0 deck top pz
	[[ "${lines[0]}" == *PID*CMD* ]]
	[[ "$output" == *"sleep 999"* ]]
	[[ "$output" == *"sh -c sleep 999"* ]]
	# pause freezes every process of the container
	run -0 deck pause pz
	[ "$output" = pz ]
	[ "$(insp pz .State.Status)" = paused ]
	[ "$(insp pz .State.Paused)" = true ]
	[ "$(cat "$(cg "$id" freezer)/freezer.state")" = FROZEN ]
	run -0 deck ps
	[[ "$output" == *"(Paused)"* ]]
	run ! deck exec pz true
	run ! deck pause pz
	run -0 deck unpause pz
	[ "$output" = pz ]
	[ "$(insp pz .State.Status)" = running ]
	[ "$(cat "$(cg "$id" freezer)/freezer.state")" = THAWED ]
	run -0 deck exec pz echo thawed
	[ "$output" = thawed ]
	run ! deck unpause pz
	# a paused container can be removed with -f
	run -0 deck pause pz
	run -0 deck rm -f pz
	# attach: the container's stdin (-i) and output, then its exit code
	detached_ok deck run -d -i --name at "$IMG" sh -c 'read l; echo "got $l"; exit 5'
	run -5 deck_in hi attach at
	[ "$output" = "got hi" ]
	run -1 deck attach at
	run -1 deck top at
}

# ---- networks ----

@test "network: an httpd in a container, published on 127.0.0.1, reached from the host and from another container" {
	mkdir "$TMP/www"
	echo "hello from deck" >"$TMP/www/index.html"
	detached_ok deck run -d --name web -p 127.0.0.1:8080:80 -v "$TMP/www:/www:ro" "$IMG" httpd -f -p 80 -h /www
	wait_fetch http://127.0.0.1:8080/
	run -0 fetch http://127.0.0.1:8080/
	[ "$output" = "hello from deck" ]
	run -0 deck ps
	[[ "${lines[1]}" == *"127.0.0.1:8080->80/tcp"*web ]]
	local ip
	ip="$(insp web .NetworkSettings.IPAddress)"
	[[ "$ip" =~ ^10\.88\. ]]
	# a second container on the bridge reaches it by address
	run -0 deck run --rm "$IMG" wget -q -O- "http://$ip/"
	[ "$output" = "hello from deck" ]
	run -0 deck run --rm "$IMG" ping -c 1 -W 5 "$ip"
	# and the host does, through the bridge
	run -0 in_peer_ns busybox ping -c 1 -W 5 "$ip"
	# the port is taken: another container cannot have it
	run -125 deck run --rm -p 127.0.0.1:8080:80 "$IMG" true
	[[ "$output" == *8080* ]]
	run -0 fetch http://127.0.0.1:8080/
	# a port chosen by deck
	detached_ok deck run -d --name web2 -p 127.0.0.1::80 -v "$TMP/www:/www:ro" "$IMG" httpd -f -p 80 -h /www
	local port
	port="$(deck ps | grep web2 | grep -o '127\.0\.0\.1:[0-9]*->80/tcp' | sed 's/.*:\([0-9]*\)->.*/\1/')"
	[ -n "$port" ]
	wait_fetch "http://127.0.0.1:$port/"
	# the ports go with the container
	run -0 deck rm -f web
	run ! fetch http://127.0.0.1:8080/
}

@test "network: /etc/hosts, /etc/hostname, /etc/resolv.conf of each container; --hostname, --add-host, --dns" {
	run -0 deck run --rm --hostname box --add-host db.example:192.0.2.7 --dns 192.0.2.53 "$IMG" sh -c \
		'hostname; cat /etc/hostname; ip -o -4 addr show eth0 | awk "{ print \$4 }"; cat /etc/hosts; cat /etc/resolv.conf'
	[ "${lines[0]}" = box ]
	[ "${lines[1]}" = box ]
	local ip="${lines[2]%/*}"
	[[ "$ip" =~ ^10\.88\. ]]
	grep -Eq "^127\.0\.0\.1[[:space:]]+localhost" <<<"$output"
	grep -Eq "^${ip//./\\.}[[:space:]]+box" <<<"$output"
	grep -Eq "^192\.0\.2\.7[[:space:]]+db\.example" <<<"$output"
	grep -Eq "^nameserver 192\.0\.2\.53$" <<<"$output"
	# the default hostname is the id's first 12 digits; each container has its own files
	local id
	detached_ok deck run -d "$IMG" sleep 1000
	id="$output"
	run -0 deck exec "$id" hostname
	[ "$output" = "${id:0:12}" ]
	run -0 deck exec "$id" cat /etc/hostname
	[ "$output" = "${id:0:12}" ]
	ip="$(ctr_ip "$id")"
	run -0 deck exec "$id" cat /etc/hosts
	grep -Eq "^${ip//./\\.}[[:space:]]+${id:0:12}" <<<"$output"
	[[ "$output" != *box* ]]
	# they are files of their own, bind-mounted: the image's are untouched
	run -0 deck exec "$id" grep -c -E ' /etc/(hosts|hostname|resolv\.conf) ' /proc/self/mountinfo
	[ "$output" = 3 ]
	# the host's resolvers, but no loopback one (the container's loopback is its own)
	run -0 deck exec "$id" cat /etc/resolv.conf
	[[ "$output" != *"nameserver 127."* ]]
}

@test "network: --network none has only lo, --network host the host's interfaces" {
	run -0 deck run --rm --network none "$IMG" ip -o link
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *": lo: "* ]]
	run -0 deck run --rm --network none "$IMG" cat /etc/hosts
	grep -Eq "^127\.0\.0\.1[[:space:]]+localhost" <<<"$output"
	in_peer_ns ip link add deckdummy0 type bridge
	run -0 deck run --rm --network host "$IMG" ip -o link
	[[ "$output" == *deckdummy0* ]]
	# the default: eth0 on deck0, a default route through the gateway
	run -0 deck run --rm "$IMG" ip route
	[[ "$output" == *"default via 10.88.0.1 dev eth0"* ]]
	run -0 in_peer_ns ip -o link show deck0
	[ -z "$(in_peer_ns ip -o link show type veth)" ]
	run -125 deck run --rm --network nosuch "$IMG" true
	[[ "$output" == *nosuch* ]]
	# docker: the host's hostname with the host's network
	run -0 deck run --rm --network host "$IMG" hostname
	[ "$output" = "$(hostname)" ]
}

@test "network: deck network create N and --network N; containers on it reach each other" {
	run -0 deck network create n1
	detached_ok deck run -d --name ca --network n1 "$IMG" sleep 1000
	detached_ok deck run -d --name cb --network n1 "$IMG" sleep 1000
	local subnet ipa ipb
	subnet="$(deck network inspect n1 | jq -r '.[0].subnets[0].subnet')"
	ipa="$(ctr_ip ca)"
	ipb="$(ctr_ip cb)"
	[ "${ipa%.*}" = "${subnet%.*/*}" ]
	[ "${ipb%.*}" = "${subnet%.*/*}" ]
	[ "$ipa" != "$ipb" ]
	run -0 deck exec ca ping -c 1 -W 5 "$ipb"
	run -0 deck exec cb ping -c 1 -W 5 "$ipa"
	run -0 deck network inspect n1
	[ "$(jq -r '.[0].containers | length' <<<"$output")" -eq 2 ]
	run -1 deck network rm n1
	run -0 deck rm -f ca cb
	run -0 deck network rm n1
}

# ---- robustness ----

@test "a container outlives deck: the foreground deck run SIGKILLed, and run -d" {
	deck run --name fg "$IMG" sh -c \
		'i=0; while [ $i -lt 20 ]; do echo line$i; i=$((i + 1)); usleep 100000; done; echo finished; sleep 1000' \
		>"$TMP/fg.out" 2>&1 &
	local bg=$! i pid
	for ((i = 0; i < 100; i++)); do
		grep -q line2 "$TMP/fg.out" && break
		sleep 0.05
	done
	grep -q line2 "$TMP/fg.out"
	pid="$(in_peer_ns pgrep -x deck)"
	[[ "$pid" =~ ^[0-9]+$ ]]
	in_peer_ns kill -KILL "$pid"
	wait "$bg" || true
	[[ "$(cat "$TMP/fg.out")" != *finished* ]]
	run -0 deck ps
	[[ "$output" == *" Up "*fg* ]]
	wait_logs fg finished
	run -0 deck logs fg
	[ "$output" = "$(printf 'line%s\n' $(seq 0 19); echo finished)" ]
	# run -d: deck is gone when it returns, the shim watches the container
	detached_ok deck run -d --name bgc "$IMG" sh -c 'echo up; sleep 1000'
	run -1 in_peer_ns pgrep -x deck
	run -0 in_peer_ns pgrep -x deck-shim
	[ "${#lines[@]}" -eq 2 ]
	wait_logs bgc up
	[ "$(insp bgc .State.Status)" = running ]
	[ "$(insp fg .State.Status)" = running ]
	# and the shim holds nothing of deck's: stop works from a new deck
	run -0 deck stop -t 1 fg
	[ "$(insp fg .State.ExitCode)" = 137 ]
}

@test "run in the foreground passes its signals on to the container (docker's --sig-proxy)" {
	deck run --name sp "$IMG" sh -c \
		'trap "echo got-term; exit 3" TERM; echo ready; while :; do usleep 50000; done' \
		>"$TMP/sp.out" 2>&1 &
	local bg=$! i pid rc=0
	for ((i = 0; i < 100; i++)); do
		grep -q ready "$TMP/sp.out" && break
		sleep 0.05
	done
	pid="$(in_peer_ns pgrep -x deck)"
	[[ "$pid" =~ ^[0-9]+$ ]]
	in_peer_ns kill -TERM "$pid"
	wait "$bg" || rc=$?
	[ "$rc" -eq 3 ]
	[ "$(cat "$TMP/sp.out")" = $'ready\ngot-term' ]
	[ "$(insp sp .State.ExitCode)" = 3 ]
}

@test "50 containers run --rm in parallel leave nothing behind" {
	local i n=50 pids=() bad=0
	for ((i = 1; i <= n; i++)); do
		deck run --rm "$IMG" echo "ok $i" >"$TMP/p.$i" 2>&1 &
		pids+=($!)
	done
	for ((i = 1; i <= n; i++)); do
		wait "${pids[i - 1]}" || {
			echo "run $i: exit status $?: $(cat "$TMP/p.$i")"
			bad=1
		}
	done
	[ "$bad" -eq 0 ]
	for ((i = 1; i <= n; i++)); do
		[ "$(cat "$TMP/p.$i")" = "ok $i" ] || {
			echo "run $i printed: $(cat "$TMP/p.$i")"
			false
		}
	done
	run -0 deck ps -aq
	[ -z "$output" ]
	run -0 wait_clean
	[ -z "$output" ]
	# the bridge stays, as docker0 does
	run -0 in_peer_ns ip -o link show deck0
	# and 30 one right after the other, on no network, the host's, the default one
	# shellcheck disable=SC2016
	run -0 in_peer_ns bash -c 'for net in "--network none" "--network host" ""; do
		for ((i = 0; i < 10; i++)); do "$1" --root "$2" run --rm $net "$3" true || exit; done
	done' _ "$DECK" "$DROOT" "$IMG"
	[ -z "$output" ]
	run -0 deck ps -aq
	[ -z "$output" ]
	run -0 wait_clean
	[ -z "$output" ]
}
