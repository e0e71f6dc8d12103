# shellcheck shell=bash
# events.sh - what rows 4 to 6 (bench/rows/40-events.sh, 50-first-packet.sh, 60-footprint.sh)
# share on top of bench.sh: a veth pair between two fresh namespaces, consumers started
# in the background and stopped again, the CPU each side runs on, and small statistics.
#
#   source bench/lib/bench.sh; source bench/lib/events.sh
#   bench_init; ev_init
#   ev_ns                          # one fresh namespace, in $BENCH_NS
#   ev_pair                        # $EV_NS_A (sender, ev-a) <-> $EV_NS_B (receiver, ev-b)
#   ev_start B OUT CMD...          # in the background in $EV_NS_B, on $EV_CPU_RX
#   ev_wait_ready OUT              # until CMD printed "ready"
#   ev_stop                        # SIGTERM, then wait
#   ev_pair_del
#
# The two CPUs: what receives (ctlua or its peer, the echo) runs on CPU 1, what sends
# and measures on CPU 0, so neither waits for the other's time slice; packets are
# handled in the sender's system call on CPU 0 (veth hands them over on the same CPU).
#
# Addresses: 198.18.0.1 (A) and 198.18.0.2 (B) on a /30, only inside the two
# namespaces; IPv6 is off in both, and each side knows the other's MAC, so no ARP,
# router solicitation or DAD packet shares the wire with what is measured.

# shellcheck disable=SC2034 # the rows use these
EV_A_ADDR=198.18.0.1
EV_B_ADDR=198.18.0.2
EV_PORT=9			# discard: nothing listens, B drops it after the TC hook
EV_CPU_TX=0
EV_CPU_RX=1
EV_LIMIT=120			# seconds any one process may take before it counts as hung
EV_PID=			# the background CMD of ev_start, and its OUT
EV_OUT=

# ev_init: the programs the rows need, and two CPUs.
ev_init()
{
	local cmd
	for cmd in taskset tc mkfifo; do
		command -v "$cmd" >/dev/null 2>&1 || bench_die "'$cmd' is not installed"
	done
	for cmd in ev_sender ev_consumer fp_load stamp; do
		[[ -x "$BENCH_BIN/$cmd" ]] || bench_die "'$BENCH_BIN/$cmd' is missing: run 'make bench' (or make all and the bench binaries)"
	done
	(($(nproc) >= 2)) || bench_die "rows 4 to 6 need two CPUs (sender and receiver apart)"
}

# ev_ns: a fresh namespace (bench_ns_new), its name in BENCH_NS. The conntrack objects
# that exist now are noted first (bench_ct_idle): bench_ns_del then waits only for the
# entries made in this namespace to be freed, not for those of anyone else running
# meanwhile (a test, another bench in another tree), which could hold it for 30 s.
ev_ns()
{
	bench_ct_idle
	bench_ns_new
}

# ev_pair: two fresh namespaces joined by a veth pair, in EV_NS_A and EV_NS_B.
ev_pair()
{
	local ns mac_a mac_b
	ev_ns
	EV_NS_A=$BENCH_NS
	bench_ns_new
	EV_NS_B=$BENCH_NS
	for ns in "$EV_NS_A" "$EV_NS_B"; do
		ip netns exec "$ns" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6 &&
			echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6' ||
			bench_die "cannot turn IPv6 off in '$ns'"
	done
	ip -n "$EV_NS_A" link add ev-a type veth peer name ev-b netns "$EV_NS_B" ||
		bench_die "cannot create the veth pair in '$EV_NS_A'"
	if ! { ip -n "$EV_NS_A" addr add "$EV_A_ADDR/30" dev ev-a &&
		ip -n "$EV_NS_B" addr add "$EV_B_ADDR/30" dev ev-b &&
		ip -n "$EV_NS_A" link set ev-a up && ip -n "$EV_NS_B" link set ev-b up; }; then
		bench_die "cannot set up the veth pair"
	fi
	mac_a=$(ip -n "$EV_NS_A" -o link show dev ev-a | sed -n 's|.* link/ether \([0-9a-f:]*\) .*|\1|p')
	mac_b=$(ip -n "$EV_NS_B" -o link show dev ev-b | sed -n 's|.* link/ether \([0-9a-f:]*\) .*|\1|p')
	if ! { ip -n "$EV_NS_A" neigh replace "$EV_B_ADDR" lladdr "$mac_b" dev ev-a nud permanent &&
		ip -n "$EV_NS_B" neigh replace "$EV_A_ADDR" lladdr "$mac_a" dev ev-b nud permanent; }; then
		bench_die "cannot add the neighbour entries"
	fi
}

# ev_pair_del: stop what still runs in the pair, delete both namespaces: B first, as the
# entries are there (bench_ns_del waits for them to be freed; deleting A first would
# wait on B's entries that still exist).
ev_pair_del()
{
	ev_stop
	bench_ns_del "$EV_NS_B"
	bench_ns_del "$EV_NS_A"
}

# ev_start OUT CMD...: run CMD in the background in EV_NS_B on the receiving CPU, its
# stdout to OUT and stderr to OUT.err; its PID in EV_PID.
ev_start()
{
	local out=$1
	shift
	taskset -c "$EV_CPU_RX" ip netns exec "$EV_NS_B" "$@" >"$out" 2>"$out.err" &
	EV_PID=$!
	EV_OUT=$out
}

# ev_wait_ready OUT: wait (at most 15 s) until the background CMD printed "ready".
ev_wait_ready()
{
	local i
	for i in $(seq 1500); do
		grep -qx ready "$1" 2>/dev/null && return 0
		kill -0 "$EV_PID" 2>/dev/null || break
		sleep 0.01
	done
	ev_fail "the consumer did not get ready" "$1" "$1.err"
}

# ev_stop: SIGTERM to the background CMD, and wait for it (KILL after 5 s). Returns its
# exit status.
ev_stop()
{
	local st
	[[ -z "$EV_PID" ]] && return 0
	EV_OUT=
	kill -TERM "$EV_PID" 2>/dev/null
	for _ in $(seq 500); do
		kill -0 "$EV_PID" 2>/dev/null || break
		sleep 0.01
	done
	kill -KILL "$EV_PID" 2>/dev/null
	wait "$EV_PID"
	st=$?
	EV_PID=
	return "$st"
}

# ev_fail WHAT [FILE...]: stop the run, showing the end of each FILE that is not empty
# (a consumer's OUT and OUT.err, the sender's stderr).
ev_fail()
{
	local what=$1 f
	shift
	{
		echo "bench: $what"
		for f in "$@"; do
			[[ -f "$f" && -s "$f" ]] && tail -n 20 "$f" | sed "s|^|  ${f##*/}: |"
		done
	} >&2
	bench_die "$what"
}

# ev_run_tx VAR CMD...: run CMD in EV_NS_A on the sending CPU with the time limit, its
# stdout in VAR; a failure stops the run with its stderr.
ev_run_tx()
{
	local var=$1 out st
	shift
	out=$(timeout --foreground -k 2 "$EV_LIMIT" taskset -c "$EV_CPU_TX" \
		ip netns exec "$EV_NS_A" "$@" 2>"$BENCH_TMP/tx.err")
	st=$?
	((st == 0)) || ev_fail "$(basename "$1") $2 failed (exit status $st)" "$BENCH_TMP/tx.err" \
		"${EV_OUT:+$EV_OUT.err}"
	printf -v "$var" '%s' "$out"
}

# ev_prog_id NS IFNAME: the id of the BPF program on IFNAME's ingress in NS.
ev_prog_id()
{
	tc -n "$1" filter show dev "$2" ingress | sed -n 's/.* id \([0-9][0-9]*\) .*/\1/p' | head -n 1
}

# ev_field TEXT KEY: the value after KEY in a line of "key value" pairs.
ev_field()
{
	awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) { print $(i + 1); exit } }' <<<"$1"
}

# ev_median VALUES...: the median, and min and max, of numbers: "MED MIN MAX".
ev_median()
{
	printf '%s\n' "$@" | sort -g | awk '{ v[++n] = $1 }
		END { printf "%s %s %s\n", (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2), v[1], v[n] }'
}

# ev_us NS: nanoseconds as microseconds with one decimal.
ev_us()
{
	awk -v v="$1" 'BEGIN { printf "%.1f", v / 1000 }'
}
