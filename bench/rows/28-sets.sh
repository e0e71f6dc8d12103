#!/bin/bash
# 28-sets.sh - row 2e: sets at scale. Two parts per round, in fresh namespaces:
#   packet: new flows decided by one rule whose source must be in a prefix set
#           (bench/lua/sets.lua), the set 100 000 host prefixes in one receiver and a
#           single /15 in another, nothing in the third (the baseline); the sender
#           takes turns every 64 packets as in row 2b. What the trie's size costs a
#           packet is set100k against set1.
#   load:   100 000 prefixes into an empty set: one set:add() of the list in ctlua
#           (its own clock around the call), against nft -f of a file that makes a
#           table with an interval set of the same 100 000 addresses (the whole
#           command, timed from here).
#
#   bench/rows/28-sets.sh [--quick]   (root; bench/run runs it for `make bench`)
#
# BENCH_ROUNDS and BENCH_ENTRIES override the mode's defaults. See bench/README.md.
cd "$(dirname "$0")/../.." || exit 1
source bench/lib/bench.sh

bench_sizes "$@"
ROW=sets			# ns each new flow adds over no_ct: the goal
ROW_PROG=sets-prog		# ctlua_ingress alone (bpf_stats), ns per new flow
ROW_LOAD=sets-load		# ns per prefix of one 100 000-prefix load
CONTENDERS=(set100k set1 no_ct)	# receiver i is CONTENDERS[i]; the first is the subject
NPREFIXES=(100000 1)
LOAD=100000
FIRST=198.18.0.1		# the timed flows: tuples 0.. of bench/progs/flowgen.h from here
STATS_FIRST=198.18.64.1		# the bpf_stats flows, after the timed ones (in both sets)
STATS_ENTRIES=$((ENTRIES / 4))
CPU=$(($(nproc) - 1))		# the sender's, and so the receiving softirqs', CPU

bench_init
bench_pkt_init
command -v nft >/dev/null 2>&1 || bench_die "'nft' is not installed"
[[ -x "$BENCH_BIN/sets_testrun" ]] || bench_die "'$BENCH_BIN/sets_testrun' is missing: run 'make bench'"

# measure_in: one round in the namespaces just made; 0, or 1 with FAIL_MSG. Sets
# WALL[name] and PROG[name] as row 2b does.
declare -A WALL=() PROG=()
measure_in()
{
	local i

	for i in 0 1; do
		bench_pkt_start "${CONTENDERS[i]}" "${BENCH_PKT_RXS[i]}" "$CTLUA" bench/lua/sets.lua \
			"$BENCH_PKT_RX_DEV" "${NPREFIXES[i]}" || return
	done
	bench_pkt_counts_are "before the flows" 0 0 0 || return
	bench_pkt_flood "$ENTRIES" "$FIRST" "$CPU" "${CONTENDERS[@]}" || return
	bench_pkt_counts_are "after the flows" "$ENTRIES" "$ENTRIES" 0 || return
	bench_pkt_prog_times "$STATS_ENTRIES" "$STATS_FIRST" 0 "$CPU" "0 1" "${CONTENDERS[@]:0:2}" ||
		return
	# every flow missed, was decided by the set's rule (the default drops) and created
	bench_pkt_ctlua_counts $((ENTRIES + STATS_ENTRIES)) "lookup_miss alloc_ok by_rule" \
		"${CONTENDERS[@]:0:2}"
}

# load ROUND: the load part in a fresh namespace, recorded.
load()
{
	local round=$1 t0 t1 ns_ctlua ns_nft

	bench_ns_new
	bench_run "$BENCH_NS" "$CTLUA" bench/lua/sets.lua - "$LOAD"
	((RC == 0)) || { bench_failed "sets.lua - $LOAD"; bench_die "the ctlua load failed"; }
	ns_ctlua=$(bench_pkt_field "$(tr '\n' ' ' <<<"$OUT")" load)
	[[ "$(bench_pkt_field "$(tr '\n' ' ' <<<"$OUT")" count)" == "$LOAD" ]] ||
		bench_die "ctlua's set counted something else than $LOAD prefixes: $OUT"
	t0=$(date +%s%N)
	ip netns exec "$BENCH_NS" nft -f "$BENCH_TMP/set.nft" 2>"$BENCH_TMP/stderr" ||
		bench_die "nft -f failed: $(head -c 600 "$BENCH_TMP/stderr")"
	t1=$(date +%s%N)
	ns_nft=$((t1 - t0))
	[[ "$(ip netns exec "$BENCH_NS" nft list set ip ctlb s | grep -o '198\.1[89]\.[0-9.]*' | wc -l)" == "$LOAD" ]] ||
		bench_die "nft's set does not hold $LOAD addresses"
	bench_ns_del "$BENCH_NS"
	bench_record meas "$ROW_LOAD" load ctlua_add "$round" "$LOAD" "$ns_ctlua" -
	bench_record meas "$ROW_LOAD" load nft_add "$round" "$LOAD" "$ns_nft" -
	LOADS+=("$ns_ctlua")
	bench_progress "$(awk -v r="$round" -v R="$ROUNDS" -v a="$ns_ctlua" -v b="$ns_nft" \
		'BEGIN { printf "round %d/%d  load of 100000 prefixes: ctlua %.0f ms  nft %.0f ms", r, R, a / 1e6, b / 1e6 }')"
}

# measure ROUND: one round of both parts, recorded; the packet part is repeated once,
# in new namespaces, if it fails (the table's note says so).
declare -a LOADS=()
measure()
{
	local round=$1 name extra

	bench_pkt_round "$CT_NEED" 3 "$ROW" "round $round" measure_in
	for name in set100k set1; do
		extra=$((WALL[$name] - WALL[no_ct]))
		if ((extra > 0)); then
			bench_record meas "$ROW" member "$name" "$round" "$ENTRIES" "$extra" -
		else
			bench_record note "$ROW" "round $round: $name took no longer than no_ct ($extra ns), so that round has no $name cost"
		fi
		bench_record meas "$ROW_PROG" member "$name" "$round" "$STATS_ENTRIES" "${PROG[$name]}" -
	done
	bench_progress "$(awk -v r="$round" -v R="$ROUNDS" -v n="$ENTRIES" -v m="$STATS_ENTRIES" \
		-v a="${WALL[set100k]}" -v b="${WALL[set1]}" -v z="${WALL[no_ct]}" \
		-v pa="${PROG[set100k]}" -v pb="${PROG[set1]}" \
		'BEGIN { printf "round %d/%d  ns/packet over no_ct: 100000 prefixes %5.0f  1 prefix %5.0f  (ctlua_ingress alone: %.0f %.0f)",
			r, R, (a - z) / n, (b - z) / n, pa / m, pb / m }')"
	load "$round"
}

# nft's file: the same addresses as sets.lua's, in one interval set
{
	echo "table ip ctlb {"
	echo "	set s {"
	echo "		type ipv4_addr"
	echo "		flags interval"
	printf '		elements = { '
	awk -v n="$LOAD" 'BEGIN { for (i = 0; i < n; i++)
		printf "%s198.%d.%d.%d", (i ? ", " : ""), 18 + int(i / 65536), int(i / 256) % 256, i % 256 }'
	echo " }"
	echo "	}"
	echo "}"
} >"$BENCH_TMP/set.nft"

CT_NEED=$((2 * (ENTRIES + STATS_ENTRIES) + 10000))
bench_ct_max_at_least "$CT_NEED"
bench_ct_idle

bench_record row "$ROW" "Row 2e: sets at scale - ns that deciding and creating each new flow adds over no_ct when a rule's source set holds 100000 prefixes and when it holds 1, $ENTRIES new UDP flows per run, $ROUNDS rounds (mode ${BENCH_MODE:-full})"
bench_record row "$ROW_PROG" "Row 2e, ctlua_ingress alone: bpf_stats run time per new flow, $STATS_ENTRIES more flows per run after the timed ones"
for row in "$ROW" "$ROW_PROG"; do
	bench_record case "$row" member 0 "$ENTRIES" "member: every flow's source is in the set; the rule (udp, src_set, dport 53) allocates"
	bench_record contender "$row" set100k "bench/lua/sets.lua with 100000 host prefixes (198.18.0.0 on) in the set"
	bench_record contender "$row" set1 "the same with one prefix, 198.18.0.0/15"
	bench_record goal "$row" set1 0.909
done
bench_record contender "$ROW" no_ct "nothing attached: the packets' path alone, the baseline"
bench_record note "$ROW" "goal: the cost per new flow with 100000 prefixes at most 1.10x the cost with 1, i.e. a ratio of rates set100k/set1 of at least 0.909"
bench_record note "$ROW" "checked each run: every veth counted every packet; ct.stats() counted every flow as lookup_miss, alloc_ok and by_rule (the default drops, so a source the set missed would show)"
bench_record row "$ROW_LOAD" "Row 2e, load: $LOAD prefixes into an empty set, $ROUNDS rounds; ns/entry = ns per prefix"
bench_record case "$ROW_LOAD" load 0 "$LOAD" "load: $LOAD IPv4 host addresses, 198.18.0.0 on"
bench_record contender "$ROW_LOAD" ctlua_add "bench/lua/sets.lua - $LOAD: one ct.set(\"src\"):add(list), timed by ct.now() around the call (the list is built before)"
bench_record contender "$ROW_LOAD" nft_add "nft -f: a table with one 'type ipv4_addr; flags interval' set holding the same addresses, the whole command (process start included), in a fresh namespace"
bench_record goal "$ROW_LOAD" nft_add 1.0

for round in $(seq "$ROUNDS"); do
	measure "$round"
done

# where the time goes: the decision alone, without traffic (bench/progs/sets_testrun.c)
bench_ns_new
bench_run "$BENCH_NS" "$BENCH_BIN/sets_testrun" 100000 $((ROUNDS * 3))
((RC == 0)) || { bench_failed "sets_testrun"; bench_die "sets_testrun failed"; }
bench_ns_del "$BENCH_NS"
text=$(awk '{ printf "%s%s %s ns", (NR > 1 ? ", " : ""), $2, $3 }' <<<"$OUT")
bench_record note "$ROW_PROG" "without traffic: ctlua_ingress on a packet without an entry in mode observe (parse, a lookup that misses, the decision by one rule: src = the address (plain), or src_set of 1 or 100000 prefixes), BPF_PROG_TEST_RUN, median of $((ROUNDS * 3)) runs of 100000 repeats in turns: $text"

bench_record note "$ROW_LOAD" "goal: load $LOAD prefixes in under 1 s (issue #14); median of the rounds: $(printf '%s\n' "${LOADS[@]}" | sort -n | awk '{ v[++n] = $1 } END { printf "%.0f ms", (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2) / 1e6 }'); and at least as fast as nft loading the same set (rate ratio ctlua_add/nft_add >= 1.0)"
bench_finish
