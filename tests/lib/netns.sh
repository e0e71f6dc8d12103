# shellcheck shell=bash
# netns.sh - network namespaces, conntrack hooks and real traffic for ctlua's kernel tests.
#
#   source tests/lib/tap.sh
#   source tests/lib/netns.sh
#   require_root_kernel                 # or skip_all (a failure under CI=true)
#   make_pair || BAIL_OUT "cannot create namespaces"
#   (pair_test_setup does those, with require_ctlua)
#   ct_hooks "$NS_A"                    # conntrack tracks packets in NS_A
#   udp_listen "$NS_A" 5353             # data received goes to $LISTEN_OUT
#   udp_send "$NS_B" "$ADDR_A" 5353 40000
#
# Everything a test creates (namespaces, background processes, $TEST_TMP) is removed by
# an EXIT/INT/TERM trap, also when the test fails halfway. Deleting a namespace takes its
# veths, qdiscs, filters and conntrack entries with it.
#
# Traffic stays inside the namespaces: the helpers only ever address 198.18.0.0/15 and
# 2001:db8::/32 (RFC 2544 benchmarking and RFC 3849 documentation ranges), and the
# namespaces have no route anywhere else.

# ctlua as the tests run it (from the repository root, after `make`).
CTLUA=${CTLUA:-$PWD/build/ctlua}

# Names of this run's namespaces start with ctl-PID-; the PID lets a later run remove
# what a killed run (SIGKILL, no trap) left behind.
_NS_LIST=()
_NS_PINS=()
TEST_TMP=

_ns_cleanup()
{
	local status=$? pid ns pids left i jobs pin

	# Background jobs not yet waited for (a reaped PID could belong to someone else now).
	jobs=$(jobs -p)
	for pid in $jobs; do
		kill -TERM "$pid" 2>/dev/null
	done
	# Whatever still runs inside our namespaces was started by this test (forked socat
	# children, ctlua): ask nicely, then insist, so no process keeps a namespace alive.
	for i in 1 2 3 4 5 6 7 8 9 10 11; do
		left=
		for ns in "${_NS_LIST[@]}"; do
			pids=$(ip netns pids "$ns" 2>/dev/null)
			[[ -z "$pids" ]] && continue
			left=1
			# shellcheck disable=SC2086 # one PID per word
			if ((i < 11)); then
				kill -TERM $pids 2>/dev/null
			else
				kill -KILL $pids 2>/dev/null
			fi
		done
		[[ -z "$left" ]] && break
		sleep 0.1
	done
	for pid in $jobs; do
		wait "$pid" 2>/dev/null
	done
	for ns in "${_NS_LIST[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	for pin in "${_NS_PINS[@]}"; do
		rm -rf "$pin"
	done
	[[ -n "$TEST_TMP" ]] && rm -rf "$TEST_TMP"
	return "$status"
}

trap _ns_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A scratch directory for listener output and ctlua's stdout/stderr; removed on exit.
TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ctlua-test.$$.XXXXXX")

# Skip (fail under CI=true) unless this can create namespaces and load BPF.
require_root_kernel()
{
	local cmd
	((EUID == 0)) || skip_all "needs root (network namespaces, BPF)"
	[[ -r /sys/kernel/btf/vmlinux ]] || skip_all "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
	for cmd in ip nft conntrack tc socat ss timeout; do
		command -v "$cmd" >/dev/null 2>&1 || skip_all "'$cmd' is not installed"
	done
}

# The binary under test must exist: its absence is a broken build, not a reason to skip.
require_ctlua()
{
	[[ -x "$CTLUA" ]] || BAIL_OUT "'$CTLUA' is missing: run make first"
}

# Remove what earlier runs left when they were killed without cleanup (SIGKILL): their
# namespaces, the processes still running inside them, their scratch directories. Only
# names with a PID whose process is gone are touched.
_ns_sweep_stale()
{
	local ns pid pids dir

	while read -r ns _; do
		[[ "$ns" =~ ^ctl-([0-9]+)-[0-9]+-[ab]$ ]] || continue
		pid=${BASH_REMATCH[1]}
		[[ -d /proc/$pid ]] && continue
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086 # one PID per word
		[[ -n "$pids" ]] && kill -KILL $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done < <(ip netns list 2>/dev/null)
	for dir in "${TMPDIR:-/tmp}"/ctlua-test.*.*; do
		[[ "$dir" =~ /ctlua-test\.([0-9]+)\.[^/]+$ ]] || continue
		[[ -d /proc/${BASH_REMATCH[1]} ]] || rm -rf "$dir"
	done
}

# make_pair: two fresh namespaces joined by a veth pair. Exports NS_A NS_B IF_A IF_B
# ADDR_A ADDR_B ADDR6_A ADDR6_B (addresses without prefix length). Returns 0, or 1 with a
# diagnostic; what was created so far is still cleaned up on exit.
make_pair()
{
	local prefix i

	_ns_sweep_stale
	for i in 1 2 3 4 5; do
		prefix="ctl-$$-$RANDOM-"
		[[ -e "/run/netns/${prefix}a" || -e "/run/netns/${prefix}b" ]] || break
	done
	NS_A=${prefix}a
	NS_B=${prefix}b
	# The veths are created inside the new namespaces, so their names cannot clash with
	# anything on the host.
	IF_A=veth-a
	IF_B=veth-b
	ADDR_A=198.18.0.1
	ADDR_B=198.18.0.2
	ADDR6_A=2001:db8::1
	ADDR6_B=2001:db8::2
	export NS_A NS_B IF_A IF_B ADDR_A ADDR_B ADDR6_A ADDR6_B

	_ns_try ip netns add "$NS_A" || return 1
	_NS_LIST+=("$NS_A")
	_ns_try ip netns add "$NS_B" || return 1
	_NS_LIST+=("$NS_B")
	_ns_try ip -n "$NS_A" link add "$IF_A" type veth peer name "$IF_B" netns "$NS_B" || return 1
	_ns_try ip -n "$NS_A" addr add "$ADDR_A/24" dev "$IF_A" || return 1
	_ns_try ip -n "$NS_B" addr add "$ADDR_B/24" dev "$IF_B" || return 1
	# nodad: the addresses are usable at once instead of after duplicate detection.
	_ns_try ip -n "$NS_A" addr add "$ADDR6_A/64" dev "$IF_A" nodad || return 1
	_ns_try ip -n "$NS_B" addr add "$ADDR6_B/64" dev "$IF_B" nodad || return 1
	_ns_try ip -n "$NS_A" link set lo up || return 1
	_ns_try ip -n "$NS_B" link set lo up || return 1
	_ns_try ip -n "$NS_A" link set "$IF_A" up || return 1
	_ns_try ip -n "$NS_B" link set "$IF_B" up || return 1

	# Wait for the carrier on both ends (veth reports it asynchronously).
	for i in $(seq 50); do
		if ip -n "$NS_A" link show "$IF_A" | grep -q LOWER_UP &&
		   ip -n "$NS_B" link show "$IF_B" | grep -q LOWER_UP; then
			return 0
		fi
		sleep 0.1
	done
	diag "make_pair: $IF_A/$IF_B did not come up"
	return 1
}

# pair_test_setup: what a kernel test with a namespace pair needs first: root, the
# kernel, the built binary (or skip_all / BAIL_OUT), then make_pair.
pair_test_setup()
{
	require_root_kernel
	require_ctlua
	make_pair || BAIL_OUT "cannot create the test namespaces"
}

# make_ns: one fresh namespace with lo up, named in NS, for tests that need the kernel
# but no traffic. Returns 0, or 1 with a diagnostic; it is removed on exit like the pairs.
make_ns()
{
	_ns_sweep_stale
	NS=ctl-$$-$RANDOM-solo
	_ns_try ip netns add "$NS" || return 1
	_NS_LIST+=("$NS")
	_ns_try ip -n "$NS" link set lo up
}

_ns_try()
{
	local out
	if ! out=$("$@" 2>&1); then
		diag "make_pair: '$*' failed: $out"
		return 1
	fi
}

# ns_exec NS CMD...: run CMD inside NS.
ns_exec()
{
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# ct_hooks NS: load a ruleset that uses conntrack, so the kernel tracks packets in NS
# (conntrack registers its hooks per namespace only when something needs them).
ct_hooks()
{
	ip netns exec "$1" nft -f - <<'EOF'
table inet ctlua_test {
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		ct state new counter
	}
	chain out {
		type filter hook output priority filter; policy accept;
		ct state new counter
	}
}
EOF
}

# bg_run NS CMD...: start CMD inside NS in the background (killed at cleanup if still
# running). Sets BG_PID.
# Redirections given to bg_run apply to CMD: bg_run "$NS_A" cmd >out 2>err
bg_run()
{
	local ns=$1
	shift
	ip netns exec "$ns" "$@" &
	BG_PID=$!
}

# bg_wait PID: wait for a background command; returns its exit status.
bg_wait()
{
	wait "$1"
}

# _ns_addr TYPE SUFFIX DST PORT: the socat address TYPE{4,6}SUFFIX:DST:PORT
# ("UDP" "-SENDTO" gives UDP4-SENDTO:...), with IPv6 addresses in brackets.
_ns_addr()
{
	local type=$1 suffix=$2 dst=$3 port=$4
	if [[ "$dst" == *:* ]]; then
		echo "${type}6$suffix:[$dst]:$port"
	else
		echo "${type}4$suffix:$dst:$port"
	fi
}

# Refuse destinations outside the test ranges, so a typo cannot send traffic elsewhere.
_ns_check_dst()
{
	case "$1" in
	198.18.* | 198.19.* | 2001:db8:*) return 0 ;;
	esac
	diag "refusing to send to '$1': not in 198.18.0.0/15 or 2001:db8::/32"
	return 1
}

# udp_send NS DST PORT [SPORT [PAYLOAD]]: one datagram (PAYLOAD plus a newline) from NS.
udp_send()
{
	local ns=$1 dst=$2 port=$3 sport=${4:-} payload=${5:-ctlua-udp} opts=
	_ns_check_dst "$dst" || return 1
	[[ -n "$sport" ]] && opts=",sourceport=$sport,reuseaddr"
	printf '%s\n' "$payload" |
		timeout -k 1 3 ip netns exec "$ns" \
			socat -u -T 2 STDIN "$(_ns_addr UDP -SENDTO "$dst" "$port")$opts"
}

# tcp_connect NS DST PORT [SPORT [PAYLOAD]]: connect from NS, send PAYLOAD and a newline,
# close. Fails when the connection cannot be made within 2 seconds.
tcp_connect()
{
	local ns=$1 dst=$2 port=$3 sport=${4:-} payload=${5:-ctlua-tcp} opts=
	_ns_check_dst "$dst" || return 1
	[[ -n "$sport" ]] && opts=",sourceport=$sport,reuseaddr"
	printf '%s\n' "$payload" |
		timeout -k 1 5 ip netns exec "$ns" \
			socat -T 2 -t 0.2 STDIN "$(_ns_addr TCP "" "$dst" "$port"),connect-timeout=2$opts"
}

# tcp_listen NS PORT [FILE] / udp_listen NS PORT [FILE]: listen on every address of NS
# (IPv4 and IPv6) in the background and append whatever arrives to FILE (default
# $TEST_TMP/NS-tcp-PORT.out). Set LISTEN_OUT and BG_PID; return once the socket is bound.
tcp_listen()
{
	local ns=$1 port=$2
	LISTEN_OUT=${3:-$TEST_TMP/$ns-tcp-$port.out}
	: >"$LISTEN_OUT"
	bg_run "$ns" socat -u -T 5 "TCP6-LISTEN:$port,fork,reuseaddr,ipv6only=0" \
		"OPEN:$LISTEN_OUT,creat,append" 2>>"$TEST_TMP/socat.err"
	_ns_wait_bound "$ns" t "$port"
}

udp_listen()
{
	local ns=$1 port=$2
	LISTEN_OUT=${3:-$TEST_TMP/$ns-udp-$port.out}
	: >"$LISTEN_OUT"
	# UDP-RECV takes datagrams from any peer in one process: no fork needed.
	bg_run "$ns" socat -u "UDP6-RECV:$port,reuseaddr,ipv6only=0" \
		"OPEN:$LISTEN_OUT,creat,append" 2>>"$TEST_TMP/socat.err"
	_ns_wait_bound "$ns" u "$port"
}

_ns_wait_bound()
{
	local ns=$1 proto=$2 port=$3 i
	for i in $(seq 50); do
		if [[ -n "$(ip netns exec "$ns" ss -Hln"$proto" "sport = :$port" 2>/dev/null)" ]]; then
			return 0
		fi
		sleep 0.1
	done
	diag "nothing listens on $proto port $port in $ns after 5 s"
	return 1
}

# wait_filter NS IF [DIR [PID]]: wait up to 5 s until a bpf filter is on IF's DIR
# (ingress) hook, i.e. until ctlua has attached; give up early when process PID ends.
# Returns 1, with a diagnostic, if no filter came.
wait_filter()
{
	local ns=$1 ifname=$2 dir=${3:-ingress} pid=${4:-} i
	for i in $(seq 50); do
		if tc -n "$ns" filter show dev "$ifname" "$dir" 2>/dev/null | grep -q bpf; then
			return 0
		fi
		if [[ -n "$pid" ]] && ! _ns_alive "$pid"; then
			diag "no bpf filter on $ifname $dir in $ns: the process ended first"
			return 1
		fi
		sleep 0.1
	done
	diag "no bpf filter on $ifname $dir in $ns after 5 s"
	return 1
}

# Whether child PID still runs (an exited child stays a zombie until waited for).
_ns_alive()
{
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ "${stat:0:1}" != Z ]]
}

# wait_line FILE REGEX [SECONDS]: wait until FILE has a line matching REGEX (grep -E).
wait_line()
{
	local file=$1 re=$2 secs=${3:-5} i
	for i in $(seq $((secs * 10))); do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# wait_lines FILE REGEX N SECONDS: until FILE has N lines matching REGEX (grep -E),
# polling every millisecond; prints the ms it took, fails if SECONDS passed first.
wait_lines()
{
	local file=$1 re=$2 n=$3 t0=$EPOCHREALTIME i
	for i in $(seq $(($4 * 1000))); do
		(($(grep -Ec -- "$re" "$file") >= n)) && break
		sleep 0.001
	done
	awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }'
	(($(grep -Ec -- "$re" "$file") >= n))
}

# pin_dir: set PIN to a fresh path under /sys/fs/bpf for ctlua's --pin, removed at exit,
# and CTLUA_NSENTER=1: a ctlua that pins must see the host's bpf file system.
pin_dir()
{
	PIN=/sys/fs/bpf/ctlua-test-$$-$RANDOM
	_NS_PINS+=("$PIN")
	CTLUA_NSENTER=1
}

# ctlua_start NS LIMIT ARGS...: run ctlua ARGS inside NS in the background, killed after
# LIMIT seconds (exit status 124 then). Sets CTLUA_PID and the files CTLUA_OUT, CTLUA_ERR.
# With CTLUA_NSENTER set, it enters NS's network namespace with nsenter rather than
# `ip netns exec`, which mounts a /sys of its own without the bpf file system (pins
# would not be seen).
# ctlua_finish: wait for it; sets RC (exit status), OUT and ERR (what it printed).
# ctlua_run NS LIMIT ARGS...: both, in the foreground.
_ctlua_n=0
ctlua_start()
{
	local ns=$1 limit=$2
	shift 2
	_ctlua_n=$((_ctlua_n + 1))
	CTLUA_OUT=$TEST_TMP/ctlua.$_ctlua_n.out
	CTLUA_ERR=$TEST_TMP/ctlua.$_ctlua_n.err
	if [[ -n "${CTLUA_NSENTER:-}" ]]; then
		nsenter --net="/run/netns/$ns" timeout -k 2 "$limit" "$CTLUA" "$@" \
			>"$CTLUA_OUT" 2>"$CTLUA_ERR" </dev/null &
		CTLUA_PID=$!
	else
		bg_run "$ns" timeout -k 2 "$limit" "$CTLUA" "$@" >"$CTLUA_OUT" 2>"$CTLUA_ERR" </dev/null
		CTLUA_PID=$BG_PID
	fi
}

ctlua_finish()
{
	wait "$CTLUA_PID"
	RC=$?
	OUT=$(cat "$CTLUA_OUT")
	ERR=$(cat "$CTLUA_ERR")
	if ((RC == 124)); then
		diag "ctlua was still running after its time limit and was killed"
	fi
}

# ctlua_self [JOB]: the pid of ctlua itself, the first process named ctlua in the tree
# of JOB (default CTLUA_PID, the timeout(1) of ctlua_start), JOB included; waits 1 s at
# most for it to start. A signal meant for ctlua goes there: timeout passes TERM or HUP on
# to its child and again to its process group (ctlua would get two), and ends with it.
ctlua_self()
{
	local pids=${1:-$CTLUA_PID} p i

	for i in $(seq 20); do
		while [[ -n "$pids" ]]; do
			for p in $pids; do
				[[ "$(cat "/proc/$p/comm" 2>/dev/null)" == ctlua ]] && echo "$p" && return 0
			done
			pids=$(pgrep -d, -P "${pids// /,}" | tr , ' ')
		done
		pids=${1:-$CTLUA_PID}
		sleep 0.05
	done
	return 1
}

# ctlua_stop_continue TIMES GAP [PATTERN]: stop and continue the ctlua of ctlua_start
# (not its timeout(1)) TIMES times, GAP seconds apart, or until PATTERN is in its output.
# A stop leaves a signal pending: a system call under way (a test run, the verifier)
# returns early, as it would for any signal without a handler.
ctlua_stop_continue()
{
	local times=$1 gap=$2 pattern=${3:-} pid i

	pid=$(ctlua_self)
	for ((i = 0; i < times; i++)); do
		[[ -n "$pattern" ]] && grep -q "$pattern" "$CTLUA_OUT" 2>/dev/null && break
		kill -STOP "$pid" 2>/dev/null
		sleep 0.005
		kill -CONT "$pid" 2>/dev/null
		sleep "$gap"
	done
}

ctlua_run()
{
	ctlua_start "$@"
	ctlua_finish
}

# show_ctlua: ctlua's output as diagnostics, for a failed check.
show_ctlua()
{
	diag "ctlua exit status: $RC"
	[[ -n "$OUT" ]] && diag "ctlua stdout:" && diag_text "$OUT"
	[[ -n "$ERR" ]] && diag "ctlua stderr:" && diag_text "$ERR"
	return 0
}

# ct_entry NS PATTERN: the first `conntrack -L` line in NS that contains PATTERN
# (fixed string), or nothing.
ct_entry()
{
	ip netns exec "$1" conntrack -L 2>/dev/null | grep -F -- "$2" | head -n 1
}

# ct_timeout LINE: the timeout column (seconds left) of a `conntrack -L` line.
ct_timeout()
{
	awk '{ print $3 }' <<<"$1"
}

# quiet_link NS_TO IF_TO NS_FROM IF_FROM ADDR_TO... ADDR_FROM...: keep the sending side
# (NS_FROM) from putting packets of its own on IF_TO's ingress, for tests that count
# every packet there: no router solicitations (forwarding on), and permanent neighbours
# both ways for the given addresses (ADDR_TO are NS_TO's, then "--", NS_FROM's), so no
# ARP or neighbour discovery crosses the link. Multicast listener reports of the joins
# this causes end within about two seconds; the caller waits them out.
quiet_link()
{
	local ns_to=$1 if_to=$2 ns_from=$3 if_from=$4 mac_to mac_from a side=to
	shift 4
	mac_to=$(ip -n "$ns_to" -br link show "$if_to" | awk '{ print $3 }')
	mac_from=$(ip -n "$ns_from" -br link show "$if_from" | awk '{ print $3 }')
	ip netns exec "$ns_from" sysctl -qw net.ipv6.conf.all.forwarding=1 || return 1
	for a in "$@"; do
		if [[ "$a" == -- ]]; then
			side=from
		elif [[ "$side" == to ]]; then
			ip -n "$ns_from" neigh replace "$a" lladdr "$mac_to" dev "$if_from" nud permanent ||
				return 1
		else
			ip -n "$ns_to" neigh replace "$a" lladdr "$mac_from" dev "$if_to" nud permanent ||
				return 1
		fi
	done
}
