#!/usr/bin/env bats
# deck's networks through the real CNI plugins (Debian's containernetworking-plugins
# in /usr/lib/cni: bridge, host-local, portmap, firewall, tuning) and its volumes.
#
# Each test runs in its own private mount + network + pid namespace (peers.bash),
# so the bridges, veths and iptables rules it makes end with it. Network
# namespaces stand in for containers: `ip netns add` inside that namespace (its
# /run is a private tmpfs), attached with deck's internal `network attach NAME ID
# NETNS [-p ...]` and `network detach NAME ID [NETNS]`, the library calls the
# container code makes.

bats_require_minimum_version 1.5.0

load helpers
load peers

DECK="${DECK:-$HULL_BUILD_DIR/deck}"

setup_file() {
	[ -x "$DECK" ] || skip "deck is not built"
	[ -x /usr/lib/cni/bridge ] || skip "containernetworking-plugins is not installed"
	command -v iptables-save >/dev/null || skip "iptables is not installed"
	[ "$EUID" -eq 0 ] || skip "requires root"
	[ -x "$HULL_BUILD_DIR/subreaper" ] || skip "the subreaper helper is not built"
}

setup() {
	TMP="$(mktemp -d "$BATS_FILE_TMPDIR/t.XXXXXX")"
	DROOT="$TMP/deck"
	mkdir -p "$TMP/www"
	echo "hello from the namespace" >"$TMP/www/index.html"
	peer_ns_start
}

teardown() {
	if [[ -z "${BATS_TEST_COMPLETED:-}" ]]; then
		echo "--- last \$output (status ${status:-none}):"
		echo "${output:-}"
	fi
	peer_ns_stop
	rm -rf "$TMP"
}

deck() {
	in_peer_ns "$DECK" --root "$DROOT" "$@" 3>&-
}

# netns NAME...: new network namespaces inside the peer namespace
netns() {
	local n
	for n in "$@"; do
		in_peer_ns ip netns add "$n"
	done
}

in_netns() {
	local n="$1"
	shift
	in_peer_ns ip netns exec "$n" "$@" 3>&-
}

# attach NET ID NETNS [-p ...]: attach, leaving the JSON result in $output
attach() {
	local net="$1" id="$2" ns="$3"
	shift 3
	run deck network attach "$@" "$net" "$id" "/run/netns/$ns"
	[ "$status" -eq 0 ]
}

leases() {
	find "$DROOT/cni-ipam" -type f -name '[0-9]*.[0-9]*' -printf '%f\n' 2>/dev/null |
		grep -v '^last_reserved' || true
}

# rules_of ID IP: the iptables lines (every table) naming the container or its address
rules_of() {
	in_peer_ns iptables-save | grep -E -e "id: \\\\\"$1\\\\\"" -e "$2/32|$2:" || true
}

# httpd NETNS PORT: busybox httpd in the namespace, serving $TMP/www
httpd() {
	in_netns "$1" busybox httpd -p "$2" -h "$TMP/www"
}

# fetch URL: from the peer namespace (the "host" of these containers)
fetch() {
	in_peer_ns timeout 10 busybox wget -q -O- "$1"
}

@test "network: the default network is created on first use, a CNI 1.0.0 bridge conflist" {
	run deck network ls
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "NETWORK ID"*NAME*DRIVER* ]]
	[[ "${lines[1]}" =~ deck\ +bridge\ +10\.88\.0\.0/16\ +10\.88\.0\.1 ]]
	local c="$DROOT/networks/deck.conflist"
	[ "$(jq -r .cniVersion "$c")" = 1.0.0 ]
	[ "$(jq -r '[.plugins[].type] | join(",")' "$c")" = bridge,portmap,firewall,tuning ]
	[ "$(jq -r .plugins[0].bridge "$c")" = deck0 ]
	[ "$(jq -r .plugins[0].ipam.type "$c")" = host-local ]
	[ "$(jq -r .plugins[0].ipam.dataDir "$c")" = "$DROOT/cni-ipam" ]
	[ "$(jq -r .plugins[0].ipam.routes[0].dst "$c")" = 0.0.0.0/0 ]
	[ "$(jq -r .plugins[1].capabilities.portMappings "$c")" = true ]
	run deck network ls --format json
	[ "$status" -eq 0 ]
	[ "$(jq -r '.[0].name' <<<"$output")" = deck ]
	[ "$(jq -r '.[0].network_interface' <<<"$output")" = deck0 ]
	[ "$(jq -r '.[0].subnets[0].subnet' <<<"$output")" = 10.88.0.0/16 ]
	[ "$(jq -r '.[0].id | length' <<<"$output")" = 64 ]
	run deck network ls -q
	[ "$output" = deck ]
	run deck network inspect deck
	[ "$status" -eq 0 ]
	[ "$(jq -r '.[0].subnets[0].gateway' <<<"$output")" = 10.88.0.1 ]
}

@test "network: the default network takes a free /24 when the host routes 10.88.0.0/16" {
	in_peer_ns ip route add 10.88.0.0/16 dev lo
	run deck network ls --format json
	[ "$status" -eq 0 ]
	[ "$(jq -r '.[0].subnets[0].subnet' <<<"$output")" = 10.89.0.0/24 ]
	[ "$(jq -r '.[0].network_interface' <<<"$output")" = deck0 ]
}

@test "network: two namespaces on the default network get addresses and ping each other" {
	netns a b
	attach deck ca a
	local ipa gw mac
	ipa="$(jq -r .ip <<<"$output")"
	gw="$(jq -r .gateway <<<"$output")"
	mac="$(jq -r .mac <<<"$output")"
	[[ "$ipa" == 10.88.* ]]
	[ "$gw" = 10.88.0.1 ]
	[ "$(jq -r .prefixLen <<<"$output")" = 16 ]
	[ "$(jq -r .bridge <<<"$output")" = deck0 ]
	[[ "$mac" =~ ^([0-9a-f]{2}:){5}[0-9a-f]{2}$ ]]
	attach deck cb b
	local ipb
	ipb="$(jq -r .ip <<<"$output")"
	[[ "$ipb" == 10.88.* && "$ipb" != "$ipa" ]]
	# the interface is eth0 with that address and MAC, and a default route via the gateway
	run in_netns a ip -o addr show eth0
	[[ "$output" == *"inet $ipa/16"* ]]
	run in_netns a ip link show eth0
	[[ "$output" == *"link/ether $mac"* ]]
	run in_netns a ip route
	[[ "$output" == *"default via 10.88.0.1 dev eth0"* ]]
	run in_netns a busybox ping -c 1 -W 5 "$ipb"
	[ "$status" -eq 0 ]
	run in_netns b busybox ping -c 1 -W 5 "$ipa"
	[ "$status" -eq 0 ]
	# and the host (the peer namespace) reaches both through the bridge
	run in_peer_ns busybox ping -c 1 -W 5 "$ipa"
	[ "$status" -eq 0 ]
	# both are recorded; inspect shows their addresses
	run deck network inspect deck
	[ "$(jq -r '.[0].containers | keys | join(",")' <<<"$output")" = ca,cb ]
	[ "$(jq -r '.[0].containers.cb.ip' <<<"$output")" = "$ipb" ]
	# without port mappings portmap is not run (nor tuning, with nothing to set)
	[ "$(jq -r '[.config.plugins[].type] | join(",")' "$DROOT/networks/deck.attach/ca")" = bridge,firewall ]
	deck network detach deck ca
	deck network detach deck cb
	[ -z "$(leases)" ]
}

@test "network: a busybox httpd in a namespace is reached through a port published on 127.0.0.1" {
	netns web
	attach deck web1 web -p 127.0.0.1:8080:80 -p 8081:80 -p 127.0.0.1::80
	[ "$(jq -r '.ports[0]' <<<"$output")" = "127.0.0.1:8080->80/tcp" ]
	[ "$(jq -r '.ports[1]' <<<"$output")" = "0.0.0.0:8081->80/tcp" ]
	local auto
	auto="$(jq -r '.ports[2]' <<<"$output")"
	[[ "$auto" =~ ^127\.0\.0\.1:[0-9]+-\>80/tcp$ ]]
	auto="${auto#127.0.0.1:}"
	auto="${auto%%->*}"
	httpd web 80
	run fetch http://127.0.0.1:8080/
	[ "$status" -eq 0 ]
	[ "$output" = "hello from the namespace" ]
	run fetch http://127.0.0.1:8081/
	[ "$output" = "hello from the namespace" ]
	run fetch "http://127.0.0.1:$auto/"
	[ "$output" = "hello from the namespace" ]
	# the same host port cannot go to a second container
	netns web2
	run deck network attach -p 8080:80 deck web2 /run/netns/web2
	[ "$status" -eq 1 ]
	[[ "$output" == *"port 127.0.0.1:8080->80/tcp is already allocated to container web1"* ]]
	[ ! -e "$DROOT/networks/deck.attach/web2" ]
	run deck network detach deck web1
	[ "$status" -eq 0 ]
	run fetch http://127.0.0.1:8080/
	[ "$status" -ne 0 ]
}

@test "network: DEL frees the lease and removes the iptables rules; DEL twice is fine" {
	netns a
	attach deck ca a -p 127.0.0.1:8080:80
	local ip
	ip="$(jq -r .ip <<<"$output")"
	[ "$(leases)" = "$ip" ]
	[ -f "$DROOT/networks/deck.attach/ca" ]
	# masquerading (bridge), DNAT (portmap), FORWARD accepts (firewall)
	run rules_of ca "$ip"
	[[ "$output" == *"-j MASQUERADE"* ]]
	[[ "$output" == *"DNAT --to-destination $ip:80"* ]]
	[[ "$output" == *"-A CNI-FORWARD -s $ip/32 -j ACCEPT"* ]]
	run deck network detach deck ca
	[ "$status" -eq 0 ]
	[ -z "$(leases)" ]
	run rules_of ca "$ip"
	[ -z "$output" ]
	[ ! -e "$DROOT/networks/deck.attach/ca" ]
	run in_netns a ip link show eth0
	[ "$status" -ne 0 ]
	run deck network detach deck ca
	[ "$status" -eq 0 ]
	# the address is free for the next one
	attach deck cb a
	[ "$(jq -r .ip <<<"$output")" != "" ]
	deck network detach deck cb
}

@test "network: DEL after the namespace was deleted still frees the lease and every rule" {
	netns a
	attach deck ca a -p 8080:80
	local ip
	ip="$(jq -r .ip <<<"$output")"
	in_peer_ns ip netns delete a
	run deck network detach deck ca
	[ "$status" -eq 0 ]
	[ -z "$(leases)" ]
	run rules_of ca "$ip"
	[ -z "$output" ]
	[ ! -e "$DROOT/networks/deck.attach/ca" ]
	run in_peer_ns ip -o link show type veth
	[ -z "$output" ]
	run deck network detach deck ca
	[ "$status" -eq 0 ]
}

@test "network: the same container id on two networks: a DEL touches only its own network's rules" {
	deck network create n1 >/dev/null
	netns a b
	attach deck same a
	local ipa ipb
	ipa="$(jq -r .ip <<<"$output")"
	attach n1 same b
	ipb="$(jq -r .ip <<<"$output")"
	in_peer_ns ip netns delete a
	deck network detach deck same
	run rules_of same "$ipa"
	[[ "$output" != *"$ipa"* ]]
	[[ "$output" == *"-s $ipb/32 -m comment --comment \"name: \\\"n1\\\" id: \\\"same\\\"\""* ]]
	run deck network rm n1
	[ "$status" -eq 1 ]
	deck network detach n1 same
	run rules_of same "$ipb"
	[ -z "$output" ]
}

@test "network: a failed ADD is undone, and a missing plugin is named before anything is done" {
	run deck network attach deck ca /run/netns/nonexistent
	[ "$status" -eq 1 ]
	[[ "$output" == *"attach container ca to network deck: CNI plugin bridge ADD failed"* ]]
	[ -z "$(leases)" ]
	[ ! -e "$DROOT/networks/deck.attach/ca" ]
	run rules_of ca 10.88.0.2
	[ -z "$output" ]
	netns a
	run in_peer_ns env DECK_CNI_PATH="$TMP/none" "$DECK" --root "$DROOT" network attach deck ca /run/netns/a
	[ "$status" -eq 1 ]
	[[ "$output" == *"CNI plugin \"bridge\" not found in $TMP/none"* ]]
	[ ! -e "$DROOT/networks/deck.attach/ca" ]
	# a conflist naming a plugin that does not exist
	deck network create broken
	jq '.plugins += [{"type": "nosuchplugin"}]' "$DROOT/networks/broken.conflist" >"$TMP/c"
	cp "$TMP/c" "$DROOT/networks/broken.conflist"
	run deck network attach broken ca /run/netns/a
	[ "$status" -eq 1 ]
	[[ "$output" == *"CNI plugin \"nosuchplugin\" not found in /usr/lib/cni"* ]]
	[ -z "$(leases)" ]
	# attaching twice is refused, the first attachment stays
	attach deck ca a
	run deck network attach deck ca /run/netns/a
	[ "$status" -eq 1 ]
	[[ "$output" == *"container ca is already attached to network deck"* ]]
	run in_netns a ip link show eth0
	[ "$status" -eq 0 ]
	deck network detach deck ca
	# bad arguments
	run deck network attach -p 70000:80 deck cb /run/netns/a
	[ "$status" -eq 125 ]
	[[ "$output" == *'invalid port mapping "70000:80"'* ]]
	run deck network attach -p 80/icmp deck cb /run/netns/a
	[ "$status" -eq 125 ]
	run deck network attach -p 8000-8001:80 deck cb /run/netns/a
	[ "$status" -eq 125 ]
	[[ "$output" == *"ranges differ in length"* ]]
	run deck network attach deck ../x /run/netns/a
	[ "$status" -eq 1 ]
	[[ "$output" == *'invalid container id "../x"'* ]]
	run deck network attach deck cb relative/path
	[ "$status" -eq 1 ]
}

@test "network: create with a subnet and gateway, attach, rm refused while in use" {
	run deck network create --subnet 10.200.0.0/24 --gateway 10.200.0.254 n2
	[ "$status" -eq 0 ]
	[ "$output" = n2 ]
	run deck network create n1
	[ "$output" = n1 ]
	run deck network ls --format json
	[ "$(jq -r '[.[].name] | join(",")' <<<"$output")" = deck,n1,n2 ]
	[ "$(jq -r '.[] | select(.name == "n1") | .subnets[0].subnet' <<<"$output")" = 10.89.0.0/24 ]
	[ "$(jq -r '.[] | select(.name == "n2") | .subnets[0].gateway' <<<"$output")" = 10.200.0.254 ]
	local br1 br2
	br1="$(jq -r '.[] | select(.name == "n1") | .network_interface' <<<"$output")"
	br2="$(jq -r '.[] | select(.name == "n2") | .network_interface' <<<"$output")"
	[[ "$br1" == deck[1-9]* && "$br2" == deck[1-9]* && "$br1" != "$br2" ]]
	netns a b
	attach n2 ca a
	[[ "$(jq -r .ip <<<"$output")" == 10.200.0.* ]]
	[ "$(jq -r .gateway <<<"$output")" = 10.200.0.254 ]
	[ "$(jq -r .bridge <<<"$output")" = "$br2" ]
	run in_netns a ip route
	[[ "$output" == *"default via 10.200.0.254"* ]]
	attach n1 cb b
	[[ "$(jq -r .ip <<<"$output")" == 10.89.0.* ]]
	run deck network rm n2
	[ "$status" -eq 1 ]
	[[ "$output" == *"network n2 is in use by container ca"* ]]
	[ -f "$DROOT/networks/n2.conflist" ]
	deck network detach n2 ca
	run deck network rm n2
	[ "$status" -eq 0 ]
	[ "$output" = n2 ]
	[ ! -e "$DROOT/networks/n2.conflist" ]
	[ ! -e "$DROOT/cni-ipam/n2" ]
	# rm -f detaches what is attached first
	run deck network rm -f n1
	[ "$status" -eq 0 ]
	[ -z "$(leases)" ]
	run rules_of cb 10.89.0.2
	[ -z "$output" ]
	run in_netns b ip link show eth0
	[ "$status" -ne 0 ]
	run deck network ls -q
	[ "$output" = deck ]
}

@test "network: create and rm errors" {
	deck network ls >/dev/null
	run deck network create 'bad/name'
	[ "$status" -eq 1 ]
	[[ "$output" == *'invalid network name "bad/name"'* ]]
	run deck network create -- -x
	[ "$status" -eq 1 ]
	run deck network create deck
	[ "$status" -eq 1 ]
	[[ "$output" == *"network deck already exists"* ]]
	run deck network create --subnet 10.88.5.0/24 x
	[ "$status" -eq 1 ]
	[[ "$output" == *"subnet 10.88.5.0/24 overlaps the subnet 10.88.0.0/16 of network deck"* ]]
	in_peer_ns ip route add 192.168.77.0/24 dev lo
	run deck network create --subnet 192.168.77.128/25 x
	[ "$status" -eq 1 ]
	[[ "$output" == *"overlaps the host's route to 192.168.77.0/24 (dev lo)"* ]]
	run deck network create --subnet 10.5.0.0/24 --gateway 10.6.0.1 x
	[ "$status" -eq 1 ]
	[[ "$output" == *"gateway 10.6.0.1 is not a host address of subnet 10.5.0.0/24"* ]]
	run deck network create --subnet fd00::/64 x
	[[ "$output" == *"IPv6 networks are not supported"* ]]
	run deck network create --subnet 10.5.0.0 x
	[[ "$output" == *"expected ADDRESS/PREFIX"* ]]
	run deck network create --subnet 10.5.0.0/31 x
	[[ "$output" == *"too small"* ]]
	run deck network create --gateway 10.5.0.1 x
	[ "$status" -eq 125 ]
	run deck network create -d macvlan x
	[ "$status" -eq 125 ]
	[[ "$output" == *"only bridge is supported"* ]]
	run deck network create
	[ "$status" -eq 125 ]
	# a subnet given with host bits is its network
	run deck network create --subnet 10.5.0.9/24 x
	[ "$status" -eq 0 ]
	[ "$(jq -r .plugins[0].ipam.ranges[0][0].subnet "$DROOT/networks/x.conflist")" = 10.5.0.0/24 ]
	run deck network create --subnet 10.5.0.0/25 y
	[[ "$output" == *"overlaps the subnet 10.5.0.0/24 of network x"* ]]
	run deck network rm deck
	[ "$status" -eq 1 ]
	[[ "$output" == *"the default network deck cannot be removed"* ]]
	run deck network rm nope
	[ "$status" -eq 1 ]
	[[ "$output" == *"network nope not found"* ]]
	run deck network rm x
	[ "$status" -eq 0 ]
	run deck network ls --format yaml
	[ "$status" -eq 125 ]
	run deck network frobnicate
	[ "$status" -eq 125 ]
}

@test "network: 30 namespaces attached and detached in parallel leave nothing behind" {
	local i n=30 pids=()
	for ((i = 1; i <= n; i++)); do
		netns "n$i"
	done
	# (a bare `wait` would wait for the peer namespace too)
	for ((i = 1; i <= n; i++)); do
		deck network attach -p "$((9000 + i)):80" deck "c$i" "/run/netns/n$i" >"$TMP/a.$i" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	for ((i = 1; i <= n; i++)); do
		jq -e .ip "$TMP/a.$i" >/dev/null || {
			cat "$TMP/a.$i"
			false
		}
	done
	[ "$(cat "$TMP"/a.* | jq -r .ip | sort -u | wc -l)" -eq "$n" ]
	[ "$(leases | wc -l)" -eq "$n" ]
	# (n8 keeps its namespace: a server in a deleted one would keep it alive)
	httpd n8 80
	run fetch http://127.0.0.1:9008/
	[ "$output" = "hello from the namespace" ]
	pids=()
	# half of them lose their namespace first, as containers that exited
	for ((i = 1; i <= n; i++)); do
		((i % 2)) && in_peer_ns ip netns delete "n$i"
		deck network detach deck "c$i" >"$TMP/d.$i" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	for ((i = 1; i <= n; i++)); do
		[ ! -s "$TMP/d.$i" ] || {
			cat "$TMP/d.$i"
			false
		}
	done
	[ -z "$(leases)" ]
	run in_peer_ns iptables-save
	[ "$status" -eq 0 ]
	run grep -E -e 'id: |10\.88\.' -e '-j CNI-DN-|CNI-[0-9a-f]{24}' <<<"$output"
	[ "$status" -eq 1 ]
	run in_peer_ns ip -o link show type veth
	[ -z "$output" ]
	run ls "$DROOT/networks/deck.attach"
	[ -z "$output" ]
}

# ---- volumes ----

@test "volume: create, ls, inspect, rm" {
	run deck volume create data1
	[ "$status" -eq 0 ]
	[ "$output" = data1 ]
	[ -d "$DROOT/volumes/data1/_data" ]
	# creating it again is fine, as in docker
	run deck volume create data1
	[ "$status" -eq 0 ]
	run deck volume create
	[ "$status" -eq 0 ]
	local anon="$output"
	[[ "$anon" =~ ^[0-9a-f]{64}$ ]]
	run deck volume ls
	[ "${lines[0]}" = "DRIVER     VOLUME NAME" ]
	[[ "$output" == *"local      data1"* ]]
	[[ "$output" == *"local      $anon"* ]]
	run deck volume ls -q
	[ "${#lines[@]}" -eq 2 ]
	run deck volume ls --format json
	[ "$(jq -r 'length' <<<"$output")" -eq 2 ]
	[ "$(jq -r '.[] | select(.Name == "data1") | .Driver' <<<"$output")" = local ]
	run deck volume inspect data1
	[ "$status" -eq 0 ]
	[ "$(jq -r '.[0].Name' <<<"$output")" = data1 ]
	[ "$(jq -r '.[0].Mountpoint' <<<"$output")" = "$DROOT/volumes/data1/_data" ]
	[ "$(jq -r '.[0].Scope' <<<"$output")" = local ]
	[[ "$(jq -r '.[0].CreatedAt' <<<"$output")" =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}T ]]
	echo keep >"$DROOT/volumes/data1/_data/file"
	run deck volume rm data1 "$anon"
	[ "$status" -eq 0 ]
	[ ! -e "$DROOT/volumes/data1" ]
	run deck volume ls -q
	[ -z "$output" ]
	run ls -A "$DROOT/volumes"
	[ "$output" = .lock ]
}

@test "volume: errors, rm refused while a container uses it, prune" {
	run deck volume create 'bad/name'
	[ "$status" -eq 1 ]
	[[ "$output" == *'invalid volume name "bad/name"'* ]]
	run deck volume create .hidden
	[ "$status" -eq 1 ]
	run deck volume inspect nope
	[ "$status" -eq 1 ]
	[[ "$output" == *"no such volume: nope"* ]]
	run deck volume rm nope
	[ "$status" -eq 1 ]
	[[ "$output" == *"no such volume: nope"* ]]
	run deck volume rm
	[ "$status" -eq 125 ]
	deck volume create used
	deck volume create unused
	# the use record the container code makes (vol_use)
	mkdir -p "$DROOT/volumes/used/users"
	touch "$DROOT/volumes/used/users/ctr1"
	run deck volume rm used
	[ "$status" -eq 1 ]
	[[ "$output" == *"volume used is in use by container ctr1"* ]]
	run deck volume inspect used
	[ "$(jq -r '.[0].Containers[0]' <<<"$output")" = ctr1 ]
	run deck volume prune
	[ "$status" -eq 0 ]
	[ "$output" = unused ]
	run deck volume ls -q
	[ "$output" = used ]
	run deck volume rm -f used
	[ "$status" -eq 0 ]
	run deck volume ls -q
	[ -z "$output" ]
}
