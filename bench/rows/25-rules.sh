#!/bin/bash
# 25-rules.sh - row 2b: rules at scale. New flows decided on the packet path with 1, 256
# and 10 000 rules in front of the default: the sender sends UDP packets, each a new
# flow, over veth pairs to four receiving namespaces at once, taking turns every 64
# packets: three run ctlua (bench/lua/rules.lua) with 1, 256 and 10 000 rules, the fourth
# runs nothing, the baseline. Case "last": every flow's first matching rule is the last
# one (the worst case for a scan in order); case "none": no rule matches and the
# default allocates. Round by round in fresh namespaces.
#
#   bench/rows/25-rules.sh [--quick]   (root; bench/run runs it for `make bench`)
#
# BENCH_ROUNDS and BENCH_ENTRIES override the mode's defaults. See bench/README.md.
cd "$(dirname "$0")/../.." || exit 1
source bench/lib/bench.sh

bench_sizes "$@"
ROW=rules			# ns each new flow adds over no_ct: the goal
ROW_PROG=rules-prog		# ctlua_ingress alone (bpf_stats), ns per new flow
CONTENDERS=(rules10000 rules256 rules1 no_ct)	# receiver i is CONTENDERS[i]; the first is the subject
NRULES=(10000 256 1)
CASES="last none"
FIRST=198.18.0.1		# the timed flows: tuples 0.. of bench/progs/flowgen.h from here
STATS_FIRST=198.18.64.1		# the bpf_stats flows, after the timed ones
STATS_ENTRIES=$((ENTRIES / 4))
CPU=$(($(nproc) - 1))		# the sender's, and so the receiving softirqs', CPU

bench_init
bench_pkt_init
[[ -x "$BENCH_BIN/rules_testrun" ]] || bench_die "'$BENCH_BIN/rules_testrun' is missing: run 'make bench'"

# measure_in CASE: one round in the namespaces just made; 0, or 1 with FAIL_MSG. Sets
# WALL[name] (ns the sender spent on each receiver's packets) and PROG[name]
# (ctlua_ingress's run_time_ns over STATS_ENTRIES runs).
declare -A WALL=() PROG=()
measure_in()
{
	local case=$1 i by

	for i in 0 1 2; do
		bench_pkt_start "${CONTENDERS[i]}" "${BENCH_PKT_RXS[i]}" "$CTLUA" bench/lua/rules.lua \
			"$BENCH_PKT_RX_DEV" "${NRULES[i]}" "$case" || return
	done
	bench_pkt_counts_are "before the flows" 0 0 0 0 || return
	bench_pkt_flood "$ENTRIES" "$FIRST" "$CPU" "${CONTENDERS[@]}" || return
	bench_pkt_counts_are "after the flows" "$ENTRIES" "$ENTRIES" "$ENTRIES" 0 || return

	# the three programs alone, then ctlua's own counters: every flow missed, was
	# created, and was decided as the case says
	bench_pkt_prog_times "$STATS_ENTRIES" "$STATS_FIRST" 0 "$CPU" "0 1 2" "${CONTENDERS[@]:0:3}" ||
		return
	by=by_rule
	[[ "$case" == none ]] && by=by_default
	bench_pkt_ctlua_counts $((ENTRIES + STATS_ENTRIES)) "lookup_miss alloc_ok $by" \
		"${CONTENDERS[@]:0:3}"
}

# measure CASE ROUND: one round in fresh namespaces, recorded; repeated once, in new
# ones, if it fails (the table's note says so).
measure()
{
	local case=$1 round=$2 name extra

	bench_pkt_round "$CT_NEED" 4 "$ROW" "round $round, $case" measure_in "$case"
	for name in rules10000 rules256 rules1; do
		extra=$((WALL[$name] - WALL[no_ct]))
		if ((extra > 0)); then
			bench_record meas "$ROW" "$case" "$name" "$round" "$ENTRIES" "$extra" -
		else
			bench_record note "$ROW" "round $round, $case: $name took no longer than no_ct ($extra ns), so that round has no $name cost"
		fi
		bench_record meas "$ROW_PROG" "$case" "$name" "$round" "$STATS_ENTRIES" "${PROG[$name]}" -
	done
	bench_progress "$(awk -v r="$round" -v R="$ROUNDS" -v c="$case" -v n="$ENTRIES" -v m="$STATS_ENTRIES" \
		-v a="${WALL[rules10000]}" -v b="${WALL[rules256]}" -v d="${WALL[rules1]}" -v z="${WALL[no_ct]}" \
		-v pa="${PROG[rules10000]}" -v pb="${PROG[rules256]}" -v pd="${PROG[rules1]}" \
		'BEGIN { printf "round %d/%d  %-4s ns/packet over no_ct: 10000 rules %5.0f  256 rules %5.0f  1 rule %5.0f  (ctlua_ingress alone: %.0f %.0f %.0f)",
			r, R, c, (a - z) / n, (b - z) / n, (d - z) / n, pa / m, pb / m, pd / m }')"
}

CT_NEED=$((3 * (ENTRIES + STATS_ENTRIES) + 10000))
bench_ct_max_at_least "$CT_NEED"
bench_ct_idle

bench_record row "$ROW" "Row 2b: rules at scale - ns that deciding and creating each new flow adds over no_ct, with 10000, 256 and 1 rules, $ENTRIES new UDP flows per run, $ROUNDS rounds (mode ${BENCH_MODE:-full})"
bench_record row "$ROW_PROG" "Row 2b, ctlua_ingress alone: bpf_stats run time per new flow, $STATS_ENTRIES more flows per run after the timed ones"
for row in "$ROW" "$ROW_PROG"; do
	bench_record case "$row" last 0 "$ENTRIES" "last: every flow is decided by the last rule (alloc); the others fail on the port or the source"
	bench_record case "$row" none 0 "$ENTRIES" "none: no rule matches; the default (alloc) decides"
	bench_record contender "$row" rules10000 "bench/lua/rules.lua with 10000 rules (CTLUA_MAX_RULES is 16384)"
	bench_record contender "$row" rules256 "the same with 256 rules (CTLUA_MAX_RULES before the pool of sets)"
	bench_record contender "$row" rules1 "the same with 1 rule"
	bench_record goal "$row" rules1 0.909
done
bench_record contender "$ROW" no_ct "nothing attached: the packets' path alone, the baseline"
bench_record note "$ROW" "goal: the cost per new flow with 10000 rules at most 1.10× the cost with 1 rule, i.e. a ratio of rates rules10000/rules1 of at least 1/1.1 = 0.909 (shown rounded)"
bench_record note "$ROW" "a cost is a difference of times measured in the same run: the sender takes turns, 64 packets to each receiver, rotating who goes first; sender pinned to CPU $CPU"
bench_record note "$ROW" "checked each run: every veth counted every packet; conntrack -C read $ENTRIES in each ctlua namespace and 0 in no_ct's; ct.stats() counted every flow as lookup_miss, alloc_ok and by_rule (last) or by_default (none)"
bench_record note "$ROW_PROG" "each run's time also holds about one clock read of the statistics; the three programs take turns as above"

for round in $(seq "$ROUNDS"); do
	for case in $CASES; do
		measure "$case" "$round"
	done
done

# where the time goes: the decision alone, without traffic (bench/progs/rules_testrun.c)
bench_ns_new
bench_run "$BENCH_NS" "$BENCH_BIN/rules_testrun" 100000 $((ROUNDS * 3))
((RC == 0)) || { bench_failed "rules_testrun"; bench_die "rules_testrun failed"; }
bench_ns_del "$BENCH_NS"
text=$(awk '{ printf "%s%s rule%s%s %s ns", (NR > 1 ? ", " : ""), $2, ($2 == 1 ? "" : "s"),
	($3 == "-" ? "" : " (" $3 ")"), $4 }' <<<"$OUT")
bench_record note "$ROW_PROG" "without traffic: ctlua_ingress on a packet without an entry in mode observe (parse, a lookup that misses, the decision; nothing created), BPF_PROG_TEST_RUN, median of $((ROUNDS * 3)) runs of 100000 repeats in turns: $text"

bench_finish
