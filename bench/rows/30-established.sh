#!/bin/bash
# 30-established.sh - row 3: established packets. What ctlua_ingress (enforce mode)
# costs on a packet whose flow has a conntrack entry, against a TC program that does
# nothing and one that does only the lookup hit (bench/progs/pkt_progs.bpf), measured two
# ways: BPF_PROG_TEST_RUN with a repeat count (bench/progs/pkt_testrun.c), and attached to
# veths with real traffic, from the kernel's run-time statistics. Round by round in
# fresh namespaces; within a round the contenders take turns.
#
#   bench/rows/30-established.sh [--quick]       (root; bench/run runs it for `make bench`)
#
# BENCH_ROUNDS, BENCH_REPEAT (test runs per contender) and BENCH_PACKETS (packets per
# contender on the veths) override the mode's defaults. See bench/README.md.
cd "$(dirname "$0")/../.." || exit 1
source bench/lib/bench.sh

[[ "${1:-}" == --quick ]] && BENCH_MODE=quick
if [[ "${BENCH_MODE:-full}" == quick ]]; then
	ROUNDS=${BENCH_ROUNDS:-5} REPEAT=${BENCH_REPEAT:-200000} PACKETS=${BENCH_PACKETS:-40000}
	SLICES=10
else
	ROUNDS=${BENCH_ROUNDS:-9} REPEAT=${BENCH_REPEAT:-1000000} PACKETS=${BENCH_PACKETS:-200000}
	SLICES=20
fi
ROW=established
FLOWS=1024			# established flows on the veths; the test runs use the first
FIRST=198.18.0.1		# their tuples: bench/progs/flowgen.h from here
MARGIN=20			# the goal: ctlua at most this many ns above the bare lookup
CONTENDERS=(ctlua lookup empty)	# receiver i of bench_pkt_net is CONTENDERS[i]
CPU=$(($(nproc) - 1))

bench_init
bench_pkt_init
PROGS=$BENCH_TMP/pkt_progs.bpf.o
bench_pkt_build_bpf "$PROGS"

# record CASE NAME ROUND N NS: one measurement, and for lookup also the goal line
# "lookup+20ns", the same time with MARGIN ns added per run.
record()
{
	bench_record meas "$ROW" "$1" "$2" "$3" "$4" "$5" -
	[[ "$2" == lookup ]] &&
		bench_record meas "$ROW" "$1" "lookup+${MARGIN}ns" "$3" "$4" $(($5 + MARGIN * $4)) -
	return 0
}

# measure_in ROUND: both ways in the namespaces just made; 0, or 1 with FAIL_MSG.
measure_in()
{
	local round=$1 name ns line t out

	for ns in "${BENCH_PKT_RXS[@]}"; do
		bench_run "$ns" "$BENCH_BIN/mnl_insert" "$FLOWS" "$FIRST"
		((RC == 0)) || bench_failed "mnl_insert" || return
	done

	# BPF_PROG_TEST_RUN in one receiver's namespace, where the packet's flow has its entry
	bench_run "${BENCH_PKT_RXS[1]}" "$BENCH_BIN/pkt_testrun" "$PROGS" "$REPEAT" "$SLICES" \
		"$FIRST" "${CONTENDERS[@]}"
	((RC == 0)) || bench_failed "pkt_testrun" || return
	for name in "${CONTENDERS[@]}"; do
		line=$(awk -v n="$name" '$1 == n' <<<"$OUT")
		[[ -n "$line" ]] || bench_failed "pkt_testrun (no line for $name)" || return
		read -r _ _ t _ <<<"$line"
		TR[$name]=$t
	done

	# the same three attached on the veths, all hit by the same traffic in turns; their
	# run times from bpf_stats into PROG
	bench_pkt_start ctlua "${BENCH_PKT_RXS[0]}" "$CTLUA" bench/lua/pkt_ctlua.lua "$BENCH_PKT_RX_DEV" \
		pass on || return
	bench_pkt_start lookup "${BENCH_PKT_RXS[1]}" "$BENCH_BIN/pkt_attach" "$PROGS" pkt_lookup \
		"$BENCH_PKT_RX_DEV" || return
	bench_pkt_start empty "${BENCH_PKT_RXS[2]}" "$BENCH_BIN/pkt_attach" "$PROGS" pkt_empty \
		"$BENCH_PKT_RX_DEV" || return
	bench_pkt_prog_times "$PACKETS" "$FIRST" "$FLOWS" "$CPU" "0 1 2" "${CONTENDERS[@]}" || return

	# every run was a hit: ctlua's own counters, the bare lookup's miss counter
	bench_pkt_stop ctlua || { FAIL_MSG="ctlua failed: $(head -c 600 "$BENCH_TMP/ctlua.err")"; return 1; }
	out=$(<"$BENCH_TMP/ctlua.out")
	if [[ "$(bench_pkt_field "$out" lookup_hit)" != "$PACKETS" ||
	      "$(bench_pkt_field "$out" lookup_miss)" != 0 ]]; then
		FAIL_MSG="ctlua's counters are not $PACKETS hits and no miss: $out"
		return 1
	fi
	for name in lookup empty; do
		bench_pkt_stop "$name" ||
			{ FAIL_MSG="pkt_attach $name failed: $(head -c 600 "$BENCH_TMP/$name.err")"; return 1; }
		out=$(<"$BENCH_TMP/$name.out")
		if [[ "$(bench_pkt_field "$out" misses)" != 0 ]]; then
			FAIL_MSG="pkt_$name counted misses: $out"
			return 1
		fi
	done
	bench_pkt_counts_are "after the packets" "$FLOWS" "$FLOWS" "$FLOWS"
}

# measure ROUND: one round in fresh namespaces, recorded; repeated once if it fails.
declare -A TR=() PROG=()
measure()
{
	local round=$1 name

	bench_pkt_round $((3 * FLOWS)) 3 "$ROW" "round $round" measure_in "$round"
	for name in "${CONTENDERS[@]}"; do
		record test-run "$name" "$round" "$REPEAT" "${TR[$name]}"
		record veth "$name" "$round" "$PACKETS" "${PROG[$name]}"
	done
	DIFF_TR+=("$(awk -v c="${TR[ctlua]}" -v l="${TR[lookup]}" -v n="$REPEAT" 'BEGIN { print (c - l) / n }')")
	DIFF_VETH+=("$(awk -v c="${PROG[ctlua]}" -v l="${PROG[lookup]}" -v n="$PACKETS" 'BEGIN { print (c - l) / n }')")
	bench_progress "$(awk -v r="$round" -v R="$ROUNDS" -v n="$REPEAT" -v p="$PACKETS" \
		-v c="${TR[ctlua]}" -v l="${TR[lookup]}" -v e="${TR[empty]}" \
		-v vc="${PROG[ctlua]}" -v vl="${PROG[lookup]}" -v ve="${PROG[empty]}" \
		'BEGIN { printf "round %d/%d  ns/run  test-run: ctlua %.1f lookup %.1f empty %.1f   veth: ctlua %.1f lookup %.1f empty %.1f",
			r, R, c / n, l / n, e / n, vc / p, vl / p, ve / p }')"
}

bench_ct_max_wait $((3 * FLOWS))
bench_ct_idle
DIFF_TR=()
DIFF_VETH=()

bench_record row "$ROW" "Row 3: established packets - ns per packet whose flow has an entry, $ROUNDS rounds (mode ${BENCH_MODE:-full})"
bench_record case "$ROW" test-run "$FLOWS" "$REPEAT" "test-run: BPF_PROG_TEST_RUN, $REPEAT repeats per contender in $SLICES slices taken in turns, one UDP packet whose flow has an entry ($FLOWS entries in the namespace)"
bench_record case "$ROW" veth "$FLOWS" "$PACKETS" "veth: attached at TC ingress of three receiving veths, $PACKETS UDP packets each over $FLOWS established flows, 64 at a time in turns; bpf_stats run_time_ns / run_cnt"
bench_record contender "$ROW" ctlua "ctlua_ingress in enforce mode (test-run: ctlua's object via its skeleton, config as ctlua sets it; veth: ct.attach, all events on)"
bench_record contender "$ROW" "lookup+${MARGIN}ns" "the goal line: the bare lookup's time plus $MARGIN ns per packet (ctlua/it >= 1.00 means ctlua <= lookup + $MARGIN ns)"
bench_record contender "$ROW" lookup "pkt_lookup: the tuple by direct packet access, bpf_skb_ct_lookup as ctlua calls it, bpf_ct_release"
bench_record contender "$ROW" empty "pkt_empty: return TC_ACT_OK (what running any program costs: in test-run the loop, on veth one clock read of bpf_stats)"
bench_record goal "$ROW" "lookup+${MARGIN}ns" 1.00

for round in $(seq "$ROUNDS"); do
	measure "$round"
done

bench_record note "$ROW" "ctlua minus lookup, ns per packet: test-run median $(bench_pkt_median "${DIFF_TR[@]}"), veth median $(bench_pkt_median "${DIFF_VETH[@]}"); goal: at most $MARGIN"
bench_record note "$ROW" "checked each round: every test run returned TC_ACT_OK; pkt_lookup never missed; ctlua's ct.stats() counted every packet as lookup_hit, none as lookup_miss; each program ran once per packet sent to it; the entry counts did not change"
bench_record note "$ROW" "bpf_stats were on (BPF_ENABLE_STATS, bench/progs/pkt_bpfstats.c) only around the veth traffic, never during the test runs"

bench_finish
