#!/bin/bash
# 26-xdp.sh - row 2c: new flows at XDP against TC. The same policy as row 2's ctlua
# (enforce, default "alloc", events off) at three hooks: the sender sends UDP packets,
# each a new flow, over veth pairs to four receiving namespaces at once, taking turns
# every 64 packets: ctlua attached with hook="xdp" (native, the veth driver's XDP),
# with hook="xdp", xdp_mode="generic", and at TC; the fourth runs nothing, the baseline,
# and the fifth an XDP program that only passes (native), the baseline of veth's own
# XDP path. Round by round in fresh namespaces, into an empty table.
#
#   bench/rows/26-xdp.sh [--quick]   (root; bench/run runs it for `make bench`)
#
# BENCH_ROUNDS and BENCH_ENTRIES override the mode's defaults. See bench/README.md.
cd "$(dirname "$0")/../.." || exit 1
source bench/lib/bench.sh

bench_sizes "$@"
ROW=xdp				# ns each new flow adds over no_ct: the goal
ROW_PROG=xdp-prog		# the program alone (bpf_stats), ns per new flow
ROW_OWN=xdp-own			# over each hook's own path: xdp - xdp_pass, tc - no_ct
CONTENDERS=(xdp xdp_generic tc no_ct xdp_pass)	# receiver i is CONTENDERS[i]; the first is the subject
HOOKS=("xdp native" "xdp generic" "tc")	# pkt_ctlua.lua's HOOK [XDP_MODE] for each
FIRST=198.18.0.1		# the timed flows: tuples 0.. of bench/progs/flowgen.h from here
STATS_FIRST=198.18.64.1		# the bpf_stats flows, after the timed ones
STATS_ENTRIES=$((ENTRIES / 4))
CPU=$(($(nproc) - 1))		# the sender's, and so the receiving softirqs', CPU

bench_init
bench_pkt_init
# the XDP baseline: xdp_pass of bench/progs/pkt_progs.bpf, attached native by ip(8)
PASS=$BENCH_TMP/pkt_progs.bpf.o
bench_pkt_build_bpf "$PASS"

# measure_in: one round in the namespaces just made; 0, or 1 with FAIL_MSG. Sets
# WALL[name] (ns the sender spent on each receiver's packets) and PROG[name] (the
# program's run_time_ns over STATS_ENTRIES runs).
declare -A WALL=() PROG=()
measure_in()
{
	local i

	for i in 0 1 2; do
		# shellcheck disable=SC2086 # HOOK and XDP_MODE, two words or one
		bench_pkt_start "${CONTENDERS[i]}" "${BENCH_PKT_RXS[i]}" "$CTLUA" bench/lua/pkt_ctlua.lua \
			"$BENCH_PKT_RX_DEV" alloc off ${HOOKS[i]} || return
	done
	ip -n "${BENCH_PKT_RXS[4]}" link set dev "$BENCH_PKT_RX_DEV" xdpdrv obj "$PASS" sec xdp \
		2>"$BENCH_TMP/stderr" || { FAIL_MSG="cannot attach xdp_pass: $(<"$BENCH_TMP/stderr")"; return 1; }
	bench_pkt_counts_are "before the flows" 0 0 0 0 0 || return
	bench_pkt_flood "$ENTRIES" "$FIRST" "$CPU" "${CONTENDERS[@]}" || return
	bench_pkt_counts_are "after the flows" "$ENTRIES" "$ENTRIES" "$ENTRIES" 0 0 || return

	# the three programs alone, then ctlua's own counters: every flow missed and was created
	bench_pkt_prog_times "$STATS_ENTRIES" "$STATS_FIRST" 0 "$CPU" "0 1 2" xdp xdp_generic tc ||
		return
	bench_pkt_ctlua_counts $((ENTRIES + STATS_ENTRIES)) "lookup_miss alloc_ok" xdp xdp_generic tc
}

# measure ROUND: one round in fresh namespaces, recorded; repeated once, in new ones,
# if it fails (the table's note says so).
measure()
{
	local round=$1 name extra base

	bench_pkt_round "$CT_NEED" 5 "$ROW" "round $round" measure_in
	for name in xdp xdp_generic tc xdp_pass; do
		extra=$((WALL[$name] - WALL[no_ct]))
		if ((extra > 0)); then
			bench_record meas "$ROW" new "$name" "$round" "$ENTRIES" "$extra" -
		else
			bench_record note "$ROW" "round $round: $name took no longer than no_ct ($extra ns), so that round has no $name cost"
		fi
		[[ "$name" == xdp_pass ]] ||
			bench_record meas "$ROW_PROG" new "$name" "$round" "$STATS_ENTRIES" "${PROG[$name]}" -
	done
	# what ctlua adds over its hook's own path, the same turns
	for name in xdp tc; do
		base=no_ct
		[[ "$name" == xdp ]] && base=xdp_pass
		extra=$((WALL[$name] - WALL[$base]))
		if ((extra > 0)); then
			bench_record meas "$ROW_OWN" new "$name" "$round" "$ENTRIES" "$extra" -
		else
			bench_record note "$ROW_OWN" "round $round: $name took no longer than $base ($extra ns)"
		fi
	done
	bench_progress "$(awk -v r="$round" -v R="$ROUNDS" -v n="$ENTRIES" -v m="$STATS_ENTRIES" \
		-v a="${WALL[xdp]}" -v b="${WALL[xdp_generic]}" -v d="${WALL[tc]}" -v z="${WALL[no_ct]}" \
		-v x="${WALL[xdp_pass]}" -v pa="${PROG[xdp]}" -v pb="${PROG[xdp_generic]}" -v pd="${PROG[tc]}" \
		'BEGIN { printf "round %d/%d  ns/packet over no_ct: xdp %5.0f  xdp generic %5.0f  tc %5.0f  xdp_pass %4.0f  (program alone: %.0f %.0f %.0f)",
			r, R, (a - z) / n, (b - z) / n, (d - z) / n, (x - z) / n, pa / m, pb / m, pd / m }')"
}

CT_NEED=$((3 * (ENTRIES + STATS_ENTRIES) + 10000))
bench_ct_max_at_least "$CT_NEED"
bench_ct_idle

bench_record row "$ROW" "Row 2c: new flows at XDP against TC - ns that deciding and creating each new flow adds over no_ct, $ENTRIES new UDP flows per run, $ROUNDS rounds (mode ${BENCH_MODE:-full})"
bench_record row "$ROW_PROG" "Row 2c, the program alone: bpf_stats run time per new flow (ctlua_xdp, ctlua_ingress), $STATS_ENTRIES more flows per run after the timed ones"
for row in "$ROW" "$ROW_PROG"; do
	bench_record case "$row" new 0 "$ENTRIES" "new flows into an empty table, each created by ctlua (enforce, default alloc, events off)"
	bench_record contender "$row" xdp "bench/lua/pkt_ctlua.lua with hook=\"xdp\", native (the veth driver's XDP)"
	bench_record contender "$row" xdp_generic "the same with xdp_mode=\"generic\""
	bench_record contender "$row" tc "the same at TC (row 2's ctlua)"
	bench_record goal "$row" tc 1.0
done
bench_record contender "$ROW" no_ct "nothing attached: the packets' path alone, the baseline"
bench_record contender "$ROW" xdp_pass "an XDP program that returns XDP_PASS, native: what veth's XDP path costs by itself"
bench_record row "$ROW_OWN" "Row 2c, what ctlua adds over its hook's own path: at XDP (native) over xdp_pass, at TC over no_ct, the same runs"
bench_record case "$ROW_OWN" new 0 "$ENTRIES" "new flows into an empty table, each created by ctlua (enforce, default alloc, events off)"
bench_record contender "$ROW_OWN" xdp "ctlua at XDP, native: its time per packet minus xdp_pass's"
bench_record contender "$ROW_OWN" tc "ctlua at TC: its time per packet minus no_ct's"
bench_record note "$ROW_OWN" "no goal: this table says where the first table's difference goes (bench/README.md, row 2c)"
bench_record note "$ROW" "goal: at XDP a new flow costs no more than at TC, i.e. a ratio of rates xdp/tc of at least 1.0, in both tables"
bench_record note "$ROW" "a cost is a difference of times measured in the same run: the sender takes turns, 64 packets to each receiver, rotating who goes first; sender pinned to CPU $CPU"
bench_record note "$ROW" "checked each run: every veth counted every packet; conntrack -C read $ENTRIES in each ctlua namespace and 0 in no_ct's; ct.stats() counted every flow as lookup_miss and alloc_ok"
bench_record note "$ROW_PROG" "each run's time also holds about one clock read of the statistics; the three programs take turns as above"

for round in $(seq "$ROUNDS"); do
	measure "$round"
done

bench_finish
