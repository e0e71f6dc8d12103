#!/bin/bash
# 20-packet-new-flows.sh - row 2: new flows on the packet path. A sender sends UDP
# packets, each a new flow, over veth pairs to three receiving namespaces at once,
# taking turns every 64 packets: in one, ctlua's TC program creates each flow's
# conntrack entry (ct.attach, enforce, default "alloc"); in one, the kernel's own
# conntrack does (an nft ruleset with `ct state new`, no ctlua); in the third nothing
# does, the baseline. Round by round in fresh namespaces, at stated table fills.
#
#   bench/rows/20-packet-new-flows.sh [--quick]   (root; bench/run runs it for `make bench`)
#
# BENCH_ROUNDS, BENCH_ENTRIES and BENCH_FILLS (space-separated) override the mode's
# defaults. See bench/README.md for what is timed and how.
cd "$(dirname "$0")/../.." || exit 1
source bench/lib/bench.sh

bench_sizes "$@"
ROW=packet-new-flows		# ns each new flow adds: the goal
ROW_PPS=packet-new-flows-pps	# packets (= new flows) per second, the same runs
CONTENDERS=(ctlua nf_conntrack no_ct)	# receiver i of bench_pkt_net is CONTENDERS[i]
FIRST=198.18.0.1		# the timed flows: tuples 0.. of bench/progs/flowgen.h from here
STATS_FIRST=198.18.64.1		# ctlua's bpf_stats flows, after the timed ones
PREFILL_FIRST=198.18.128.1	# the pre-fill, disjoint from both
STATS_ENTRIES=$((ENTRIES / 4))
CPU=$(($(nproc) - 1))		# the sender's, and so the receiving softirqs', CPU
RULESET='table ip ctlb {
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		ct state new
	}
}'

bench_init
bench_pkt_init

# measure_in FILL: one round's measurement in the namespaces just made: pre-fill, set
# the contenders up, send, check; 0, or 1 with FAIL_MSG. Sets WALL[name] (ns the
# sender spent on each receiver's packets) and PROG_NS (ctlua_ingress's ns per run).
declare -A WALL=() PROG=()
measure_in()
{
	local fill=$1 rx_ctlua=${BENCH_PKT_RXS[0]} rx_nft=${BENCH_PKT_RXS[1]} i ns

	if ((fill > 0)); then
		for ns in "$rx_ctlua" "$rx_nft"; do
			bench_run "$ns" "$BENCH_BIN/mnl_insert" "$fill" "$PREFILL_FIRST"
			((RC == 0)) || bench_failed "pre-fill with mnl_insert" || return
		done
	fi
	bench_pkt_counts_are "before the flows" "$fill" "$fill" 0 || return
	bench_pkt_start ctlua "$rx_ctlua" "$CTLUA" bench/lua/pkt_ctlua.lua "$BENCH_PKT_RX_DEV" alloc off ||
		return
	ip netns exec "$rx_nft" nft -f - <<<"$RULESET" 2>"$BENCH_TMP/stderr" ||
		{ FAIL_MSG="cannot load the nft ruleset: $(<"$BENCH_TMP/stderr")"; return 1; }

	bench_pkt_flood "$ENTRIES" "$FIRST" "$CPU" "${CONTENDERS[@]}" || return
	for i in 0 1 2; do
		RETRY_TOTAL=$((RETRY_TOTAL + $(bench_pkt_line "$OUT" "ctlbtx$i" | awk '{ print $8 }')))
	done
	bench_pkt_counts_are "after the flows" $((fill + ENTRIES)) $((fill + ENTRIES)) 0 || return

	# ctlua's program alone, from bpf_stats, over further new flows: not in the timed
	# run, where the statistics' own clock reads would add to ctlua's time
	bench_pkt_prog_times "$STATS_ENTRIES" "$STATS_FIRST" 0 "$CPU" 0 ctlua || return
	PROG_NS=$(awk -v t="${PROG[ctlua]}" -v n="$STATS_ENTRIES" 'BEGIN { printf "%.1f", t / n }')
	bench_count_is "$rx_ctlua" $((fill + ENTRIES + STATS_ENTRIES)) "after ctlua's bpf_stats flows" ||
		return

	# ctlua's own counters: every flow it saw missed and was created
	bench_pkt_ctlua_counts $((ENTRIES + STATS_ENTRIES)) "lookup_miss alloc_ok" ctlua
}

# measure FILL ROUND: one round at FILL in fresh namespaces, recorded; repeated once,
# in new ones, if it fails (the table's note says so), as row 1 does.
PROG_NS_ALL=()
measure()
{
	local fill=$1 round=$2 name extra

	bench_pkt_round "$CT_NEED" 3 "$ROW_PPS" "round $round, fill $fill" measure_in "$fill"
	for name in "${CONTENDERS[@]}"; do
		bench_record meas "$ROW_PPS" "fill $fill" "$name" "$round" "$ENTRIES" "${WALL[$name]}" -
	done
	# what creating the flows added: the time over the baseline's, same turns
	for name in ctlua nf_conntrack; do
		extra=$((WALL[$name] - WALL[no_ct]))
		if ((extra > 0)); then
			bench_record meas "$ROW" "fill $fill" "$name" "$round" "$ENTRIES" "$extra" -
		else
			bench_record note "$ROW" "round $round, fill $fill: $name took no longer than no_ct ($extra ns), so that round has no $name cost"
		fi
	done
	PROG_NS_ALL+=("$fill $PROG_NS")
	bench_progress "$(awk -v r="$round" -v R="$ROUNDS" -v f="$fill" -v n="$ENTRIES" \
		-v c="${WALL[ctlua]}" -v k="${WALL[nf_conntrack]}" -v z="${WALL[no_ct]}" -v p="$PROG_NS" \
		'BEGIN { printf "round %d/%d  fill %-7d ns/packet: ctlua %5.0f  nf_conntrack %5.0f  no_ct %5.0f  (ctlua_ingress %.0f ns/run)",
			r, R, f, c / n, k / n, z / n, p }')"
}

# two namespaces pre-filled and creating flows, all in the kernel's one table
CT_NEED=$((2 * (MAX_FILL + ENTRIES) + STATS_ENTRIES + 10000))
bench_ct_max_at_least "$CT_NEED"
ct_max=$(<"$BENCH_SYSCTL")
bench_ct_idle
RETRY_TOTAL=0

bench_record row "$ROW" "Row 2: new flows on the packet path - ns that creating each flow's entry adds, $ENTRIES new UDP flows per run, $ROUNDS rounds (mode ${BENCH_MODE:-full})"
bench_record row "$ROW_PPS" "Row 2, throughput: packets (each a new flow) per second, the same runs"
for fill in $FILLS; do
	if ((fill == 0)); then
		text="fill 0: new flows into an empty table (nf_conntrack_max $ct_max)"
	else
		text="fill $fill: ctlua's and nf_conntrack's namespaces each hold $fill entries (mnl_insert, untimed), the kernel's one table $((2 * fill)) (nf_conntrack_max $ct_max)"
	fi
	bench_record case "$ROW" "fill $fill" "$fill" "$ENTRIES" "$text"
	bench_record case "$ROW_PPS" "fill $fill" "$fill" "$ENTRIES" "$text"
done
bench_record contender "$ROW" ctlua "ct.attach on the receiving veth, enforce, ct.default(\"alloc\"), events off: its time per packet minus no_ct's"
bench_record contender "$ROW" nf_conntrack "nft 'ct state new' in prerouting, no ctlua (the kernel's conntrack): its time per packet minus no_ct's"
bench_record goal "$ROW" nf_conntrack 0.952
bench_record contender "$ROW_PPS" ctlua "as above; time: the sender's sendmmsg calls for this receiver's packets (pkt_udpflood)"
bench_record contender "$ROW_PPS" nf_conntrack "as above"
bench_record contender "$ROW_PPS" no_ct "no conntrack at all: the packets' path alone, the baseline"

for round in $(seq "$ROUNDS"); do
	for fill in $FILLS; do
		measure "$fill" "$round"
	done
done

for fill in $FILLS; do
	prog=()
	for entry in "${PROG_NS_ALL[@]}"; do
		[[ "${entry% *}" == "$fill" ]] && prog+=("${entry#* }")
	done
	bench_record note "$ROW" "fill $fill: ctlua_ingress alone (bpf_stats run_time_ns / run_cnt, over $STATS_ENTRIES more new flows sent to ctlua right after each timed run): median $(bench_pkt_median "${prog[@]}") ns per new flow; each run's time also holds about one clock read of the statistics"
done
bench_record note "$ROW" "goal: ctlua's ns per new flow at most 1.05× the kernel conntrack's, i.e. a ratio of rates of at least 1/1.05 = 0.952 (shown rounded)"
bench_record note "$ROW" "a cost is a difference of times measured in the same run: the sender takes turns, 64 packets to each receiver, rotating who goes first, so the three share the machine's ups and downs; the sender and the path all three share (AF_PACKET, veth, IPv4, UDP to a closed port) cancel"
bench_record note "$ROW_PPS" "sender pinned to CPU $CPU; each receiver's softirq runs inside the sender's sendmmsg calls; frames refused and sent again: $RETRY_TOTAL in all runs"
bench_record note "$ROW_PPS" "checked each run: every receiving veth counted every packet; conntrack -C read fill + $ENTRIES in ctlua's and nf_conntrack's namespaces and 0 in no_ct's; ctlua's ct.stats() counted every flow it saw as lookup_miss and alloc_ok"

bench_finish
