#!/bin/bash
# 27-limits.sh - row 2d: rate limits in the kernel. A flood of new UDP flows at a rule
# that allows RATE new flows a second per source after a burst of BURST and drops the
# rest, in three receiving namespaces at once: in one ctlua's TC program meters and
# decides (bench/lua/limit.lua: a rule with limit = {per = "src", over = "drop"}), in
# one nft does the same after the kernel's conntrack (a dynamic set of sources with
# `limit rate ... burst ...`, `ct state new drop` after it), in the third nothing runs,
# the baseline, and in the fourth ctlua's rule drops every flow without a limit (what
# the limit adds is the difference). Two parts per round, in fresh namespaces:
#   cost: bench/progs/pkt_udpflood's ENTRIES new flows as fast as it goes, the
#         receivers taking turns every 64 packets; ns each flow adds over no_ct. Then
#         ENTRIES / 4 more to the two ctlua programs, timed by bpf_stats.
#   accuracy: bench/progs/pkt_paced.py, SOURCES sources at PPS new flows a second
#         each for SECS seconds, to both at the same moments; what each admitted
#         (conntrack entries made) against SOURCES * (BURST + RATE * T).
#
#   bench/rows/27-limits.sh [--quick]   (root; bench/run runs it for `make bench`)
#
# BENCH_ROUNDS and BENCH_ENTRIES override the mode's defaults. See bench/README.md.
cd "$(dirname "$0")/../.." || exit 1
source bench/lib/bench.sh

bench_sizes "$@"
ROW=limits			# ns each flow of the flood adds over no_ct
ROW_PROG=limits-prog		# ctlua_ingress alone (bpf_stats), ns per flow
CONTENDERS=(ctlua_limit nft_limit no_ct ctlua_drop)	# receiver i is CONTENDERS[i]; the first is the subject
RATE=20				# new flows a second per source
BURST=10
FIRST=198.18.0.1		# the cost flood: tuples 0.. of bench/progs/flowgen.h from here
STATS_FIRST=198.18.64.1		# the bpf_stats flows, after the timed ones
STATS_ENTRIES=$((ENTRIES / 4))
PACED_FIRST=198.18.128.1	# the accuracy flood's sources, disjoint from those
SOURCES=50
PPS=60				# per source: three times the rate
SECS=2
[[ "${BENCH_MODE:-full}" == full ]] && SECS=4
CPU=$(($(nproc) - 1))		# the sender's, and so the receiving softirqs', CPU
RULESET="table ip ctlb {
	set m {
		type ipv4_addr
		size 65535
		flags dynamic,timeout
		timeout 60s
	}
	chain pre {
		type filter hook prerouting priority filter; policy accept;
		ct state new add @m { ip saddr limit rate $RATE/second burst $BURST packets } accept
		ct state new drop
	}
}"

bench_init
bench_pkt_init
command -v python3 >/dev/null 2>&1 || bench_die "'python3' is not installed"

# stats TAG: ask TAG (limit.lua) for its counters; prints its "stats ..." line.
stats()
{
	local fd=${_BENCH_PKT_FD[$1]} out=$BENCH_TMP/$1.out n i
	n=$(grep -c '^stats' "$out")
	echo stats >&"$fd"
	for i in $(seq 250); do
		(($(grep -c '^stats' "$out") > n)) && break
		sleep 0.02
	done
	grep '^stats' "$out" | tail -n 1
}

# measure_in: one round in the namespaces just made; 0, or 1 with FAIL_MSG. Sets
# WALL[name] (ns the sender spent on each receiver's packets) and ADMIT[name], WANT
# (the accuracy part's flows admitted, and B + R * T summed over the sources).
declare -A WALL=() ADMIT=() PROG=()
measure_in()
{
	local rx_ctlua=${BENCH_PKT_RXS[0]} rx_nft=${BENCH_PKT_RXS[1]} s1 s2 c1 n1

	bench_pkt_start ctlua_limit "$rx_ctlua" "$CTLUA" bench/lua/limit.lua "$BENCH_PKT_RX_DEV" \
		"$RATE" "$BURST" || return
	bench_pkt_start ctlua_drop "${BENCH_PKT_RXS[3]}" "$CTLUA" bench/lua/limit.lua \
		"$BENCH_PKT_RX_DEV" drop drop || return
	ip netns exec "$rx_nft" nft -f - <<<"$RULESET" 2>"$BENCH_TMP/stderr" ||
		{ FAIL_MSG="cannot load the nft ruleset: $(<"$BENCH_TMP/stderr")"; return 1; }
	bench_pkt_flood "$ENTRIES" "$FIRST" "$CPU" "${CONTENDERS[@]}" || return
	# both admitted a few flows per source and refused the rest; ctlua's counters agree
	s1=$(stats ctlua_limit)
	c1=$(bench_ct_count "$rx_ctlua")
	n1=$(bench_ct_count "$rx_nft")
	if [[ "$(bench_pkt_field "$s1" admitted)" != "$c1" ||
	      $(($(bench_pkt_field "$s1" admitted) + $(bench_pkt_field "$s1" limited))) != "$ENTRIES" ]] ||
	   ((c1 == 0 || c1 > ENTRIES / 10 || n1 == 0 || n1 > ENTRIES / 10)); then
		FAIL_MSG="after the flood: ctlua '$s1' with $c1 entries, nft $n1 entries of $ENTRIES flows"
		return 1
	fi
	bench_count_is "${BENCH_PKT_RXS[3]}" 0 "ctlua_drop after the flood" || return

	# the two ctlua programs alone, from bpf_stats, over further flows (new sources)
	bench_pkt_prog_times "$STATS_ENTRIES" "$STATS_FIRST" 0 "$CPU" "0 3" ctlua_limit ctlua_drop ||
		return
	s1=$(stats ctlua_limit)
	c1=$(bench_ct_count "$rx_ctlua")

	# accuracy: the paced flood to ctlua and nft at once (no_ct is left out)
	bench_run "$BENCH_PKT_TX" python3 bench/progs/pkt_paced.py "$SECS" "$PPS" "$PACED_FIRST" \
		"$SOURCES" ctlbtx0 "$BENCH_PKT_RX_MAC" ctlbtx1 "$BENCH_PKT_RX_MAC"
	((RC == 0)) || bench_failed "pkt_paced.py" || return
	WANT=$(awk -v s="$SOURCES" -v r="$RATE" -v b="$BURST" \
		'{ printf "%d", s * (b + r * ($8 - $6)) }' <<<"$OUT")
	s2=$(stats ctlua_limit)
	ADMIT[ctlua_limit]=$(($(bench_ct_count "$rx_ctlua") - c1))
	ADMIT[nft_limit]=$(($(bench_ct_count "$rx_nft") - n1))
	if ((ADMIT[ctlua_limit] != $(bench_pkt_field "$s2" admitted) - $(bench_pkt_field "$s1" admitted))); then
		FAIL_MSG="ctlua counted '$s2' after '$s1', but conntrack holds ${ADMIT[ctlua_limit]} new entries"
		return 1
	fi
	SENT=$(awk '{ print $2 }' <<<"$OUT")
}

# measure ROUND: one round in fresh namespaces, recorded; repeated once, in new ones,
# if it fails (the table's note says so).
declare -a ACC_CTLUA=() ACC_NFT=()
measure()
{
	local round=$1 name extra

	bench_pkt_round "$CT_NEED" 4 "$ROW" "round $round" measure_in
	for name in ctlua_limit nft_limit ctlua_drop; do
		extra=$((WALL[$name] - WALL[no_ct]))
		if ((extra > 0)); then
			bench_record meas "$ROW" flood "$name" "$round" "$ENTRIES" "$extra" -
		else
			bench_record note "$ROW" "round $round: $name took no longer than no_ct ($extra ns), so that round has no $name cost"
		fi
	done
	for name in ctlua_limit ctlua_drop; do
		bench_record meas "$ROW_PROG" flood "$name" "$round" "$STATS_ENTRIES" "${PROG[$name]}" -
	done
	ACC_CTLUA+=("$(awk -v a="${ADMIT[ctlua_limit]}" -v w="$WANT" 'BEGIN { printf "%.3f", a / w }')")
	ACC_NFT+=("$(awk -v a="${ADMIT[nft_limit]}" -v w="$WANT" 'BEGIN { printf "%.3f", a / w }')")
	bench_progress "$(awk -v r="$round" -v R="$ROUNDS" -v n="$ENTRIES" -v a="${WALL[ctlua_limit]}" \
		-v b="${WALL[nft_limit]}" -v z="${WALL[no_ct]}" -v ac="${ADMIT[ctlua_limit]}" \
		-v an="${ADMIT[nft_limit]}" -v w="$WANT" -v s="$SENT" \
		-v d="${WALL[ctlua_drop]}" -v pl="${PROG[ctlua_limit]}" -v pd="${PROG[ctlua_drop]}" -v m="$STATS_ENTRIES" \
		'BEGIN { printf "round %d/%d  ns/flow over no_ct: ctlua %4.0f  nft %4.0f  ctlua_drop %4.0f (program alone %.0f, %.0f);  paced: %d sent, admitted ctlua %d nft %d, wanted %d",
			r, R, (a - z) / n, (b - z) / n, (d - z) / n, pl / m, pd / m, s, ac, an, w }')"
}

CT_NEED=$((3 * (ENTRIES + STATS_ENTRIES) + 10000))
bench_ct_max_at_least "$CT_NEED"
bench_ct_idle

bench_record row "$ROW" "Row 2d: rate limits - ns that each flow of a flood adds over no_ct at a rule allowing $RATE new flows a second per source (burst $BURST) and dropping the rest, $ENTRIES new UDP flows per run, $ROUNDS rounds (mode ${BENCH_MODE:-full})"
bench_record case "$ROW" flood 0 "$ENTRIES" "flood: pkt_udpflood's new flows (flowgen.h: 50000 per source) as fast as they go; nearly all are over the limit"
bench_record contender "$ROW" ctlua_limit "bench/lua/limit.lua: ct.rule{..., action = \"alloc\", limit = {rate = $RATE, burst = $BURST, per = \"src\", over = \"drop\"}}, events off"
bench_record contender "$ROW" nft_limit "nft: conntrack, then 'ct state new add @m { ip saddr limit rate $RATE/second burst $BURST packets } accept', 'ct state new drop'"
bench_record contender "$ROW" no_ct "nothing attached: the packets' path alone, the baseline"
bench_record contender "$ROW" ctlua_drop "the same rule as ctlua_limit with action \"drop\" and no limit: what the limit adds is the difference"
bench_record row "$ROW_PROG" "Row 2d, ctlua_ingress alone: bpf_stats run time per flow of the flood, $STATS_ENTRIES more flows per run after the timed ones"
bench_record case "$ROW_PROG" flood 0 "$STATS_ENTRIES" "flood: as above"
bench_record contender "$ROW_PROG" ctlua_limit "as above: lookup miss, rule, limit (drops nearly all)"
bench_record contender "$ROW_PROG" ctlua_drop "as above: lookup miss, rule, drop"
bench_record note "$ROW_PROG" "each run's time also holds about one clock read of the statistics; the two programs take turns"
bench_record goal "$ROW" nft_limit 1.0
bench_record note "$ROW" "goal: a flow of the flood costs ctlua no more than nft (rate ratio ctlua_limit/nft_limit at least 1.0), and the paced part admits within 10 % of burst + rate x time per source (below)"
bench_record note "$ROW" "checked each run: every veth counted every packet; ctlua's admitted + limited = the flows, its admitted = its conntrack entries; both admitted some flows and at most a tenth"

for round in $(seq "$ROUNDS"); do
	measure "$round"
done

# acc RATIO...: "median [min..max]" with three decimals, and whether all are within 10 %
acc()
{
	printf '%s\n' "$@" | sort -g | awk '{ v[++n] = $1; if ($1 < 0.9 || $1 > 1.1) out++ }
		END { printf "%.3f [%.3f..%.3f], %s", (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2),
			v[1], v[n], out ? out " round(s) outside 10 %" : "every round within 10 %" }'
}
bench_record note "$ROW" "accuracy, paced part: $SOURCES sources x $PPS new flows a second for ${SECS} s to both at once (bench/progs/pkt_paced.py); admitted / (sources x (burst + rate x T)), median [min..max] over the rounds: ctlua_limit $(acc "${ACC_CTLUA[@]}"); nft_limit $(acc "${ACC_NFT[@]}")"
bench_finish
