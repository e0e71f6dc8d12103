#!/bin/bash
# 60-footprint.sh - row 6: footprint. How long ctlua takes from process start to its
# program attached, and how much memory it holds, idle and with 100 000 per-flow
# verdicts, against the least C that loads and attaches the same object (fp_load) and
# against `tc filter add ... bpf obj` of it. Goals: attached within 150 ms of the
# process's start (case load), VmRSS with the 100 000 verdicts at most 16 MiB (case rss),
# and the verdicts at >= 0.9x the C loop (case verdicts).
#
#   bench/rows/60-footprint.sh [--quick]      (root; bench/run runs it for `make bench`)
#
# BENCH_ROUNDS overrides the mode's number of rounds. See bench/README.md for what is
# timed and how; every measurement runs in a fresh namespace, contenders interleaved.
cd "$(dirname "$0")/../.." || exit 1
source bench/lib/bench.sh
source bench/lib/events.sh

[[ "${1:-}" == --quick ]] && BENCH_MODE=quick
if [[ "${BENCH_MODE:-full}" == quick ]]; then
	ROUNDS=${BENCH_ROUNDS:-3}
else
	ROUNDS=${BENCH_ROUNDS:-7}
fi
VERDICTS=100000
ROW=footprint
# the goals (issue #11): attached within 150 ms of process start; RSS at most 16 MiB
# with the verdicts stored
GOAL_LOAD_NS=150000000
GOAL_RSS_KIB=16384
OBJ=build/ctlua.bpf.o

bench_init
ev_init
bench_ct_idle
[[ -r "$OBJ" ]] || bench_die "'$OBJ' is missing: run 'make'"

# stamped NS VAR CMD...: run CMD in NS under build/bench/stamp (stamp on one CPU, CMD on the
# other, so each line is read as it comes), its stamped output in VAR.
stamped()
{
	local ns=$1 var=$2 so st
	shift 2
	so=$(timeout --foreground -k 2 "$EV_LIMIT" taskset -c "$EV_CPU_TX" ip netns exec "$ns" \
		"$BENCH_BIN/stamp" taskset -c "$EV_CPU_RX" "$@" 2>"$BENCH_TMP/fp.err")
	st=$?
	printf '%s\n' "$so" >"$BENCH_TMP/fp.out"
	((st == 0)) || ev_fail "$(basename "$1") failed (exit status $st)" "$BENCH_TMP/fp.out" "$BENCH_TMP/fp.err"
	printf -v "$var" '%s' "$so"
}

# stamp_of OUT WORD: the stamp of the first line whose text starts with WORD.
stamp_of()
{
	awk -v w="$2" '$2 == w { print $1; exit }' <<<"$1"
}

# line_of OUT WORD: that line, without its stamp.
line_of()
{
	awk -v w="$2" '$2 == w { $1 = ""; print; exit }' <<<"$1"
}

RSS_CTLUA=() RSS_C=() RSS_V_CTLUA=() RSS_GC_CTLUA=() RSS_V_C=() MAPS_IDLE=() MAPS_V=()
MAPPED_CTLUA=() MAPPED_C=()
PH_PROBE=() PH_OPEN=() PH_LOAD=() PH_ATTACH=()

run_ctlua()
{
	local round=$1 ns out t0 t1 v0 v1 idle v
	ev_ns
	ns=$BENCH_NS
	stamped "$ns" out "$CTLUA" bench/lua/fp_footprint.lua lo "$VERDICTS"
	bench_ns_del "$ns"
	t0=$(stamp_of "$out" start) t1=$(stamp_of "$out" attached)
	v0=$(stamp_of "$out" verdicts-begin) v1=$(stamp_of "$out" verdicts-end)
	idle=$(line_of "$out" idle) v=$(line_of "$out" verdicts)
	[[ -n "$t0" && -n "$t1" && -n "$v0" && -n "$v1" && -n "$idle" && -n "$v" ]] ||
		ev_fail "fp_footprint.lua printed too little" "$BENCH_TMP/fp.out" "$BENCH_TMP/fp.err"
	[[ $(ev_field "$v" verdicts) == "$VERDICTS" ]] || ev_fail "fp_footprint.lua: wrong verdict count" "$BENCH_TMP/fp.out"
	bench_record meas "$ROW" load ctlua "$round" 1 $((t1 - t0)) -
	bench_record meas "$ROW" verdicts ctlua "$round" "$VERDICTS" $((v1 - v0)) -
	RSS_CTLUA+=("$(ev_field "$idle" rss_kb)") MAPS_IDLE+=("$(ev_field "$idle" maps_kb)")
	MAPPED_CTLUA+=("$(ev_field "$idle" mapped_kb)")
	RSS_V_CTLUA+=("$(ev_field "$v" rss_kb)") RSS_GC_CTLUA+=("$(ev_field "$v" gc_rss_kb)")
	bench_record meas "$ROW" rss ctlua "$round" 1 "$(ev_field "$v" rss_kb)" -
	MAPS_V+=("$(ev_field "$v" maps_kb)")
	bench_progress "$(printf 'round %d/%d  %-13s attached after %6.1f ms, RSS %6d KiB idle, %6d KiB with %d verdicts' \
		"$round" "$ROUNDS" ctlua "$(awk -v w=$((t1 - t0)) 'BEGIN { print w / 1e6 }')" \
		"$(ev_field "$idle" rss_kb)" "$(ev_field "$v" rss_kb)" "$VERDICTS")"
}

run_fp_load()
{
	local round=$1 ns out t0 t1 a idle v
	ev_ns
	ns=$BENCH_NS
	stamped "$ns" out "$BENCH_BIN/fp_load" lo "$VERDICTS"
	bench_ns_del "$ns"
	t0=$(stamp_of "$out" start) t1=$(stamp_of "$out" attached)
	a=$(line_of "$out" attached) idle=$(line_of "$out" idle) v=$(line_of "$out" verdicts)
	[[ -n "$t0" && -n "$t1" && -n "$idle" && -n "$v" ]] ||
		ev_fail "fp_load printed too little" "$BENCH_TMP/fp.out" "$BENCH_TMP/fp.err"
	[[ $(ev_field "$v" verdicts) == "$VERDICTS" ]] || ev_fail "fp_load: wrong verdict count" "$BENCH_TMP/fp.out"
	bench_record meas "$ROW" load fp_load "$round" 1 $((t1 - t0)) -
	bench_record meas "$ROW" verdicts map_update_elem "$round" "$VERDICTS" "$(ev_field "$v" ns)" -
	RSS_C+=("$(ev_field "$idle" rss_kb)") RSS_V_C+=("$(ev_field "$v" rss_kb)")
	MAPPED_C+=("$(ev_field "$idle" mapped_kb)")
	PH_PROBE+=("$(ev_field "$a" probe_ns)") PH_OPEN+=("$(ev_field "$a" open_ns)")
	PH_LOAD+=("$(ev_field "$a" load_ns)") PH_ATTACH+=("$(ev_field "$a" attach_ns)")
	bench_progress "$(printf 'round %d/%d  %-13s attached after %6.1f ms, RSS %6d KiB idle, %6d KiB with %d verdicts' \
		"$round" "$ROUNDS" fp_load "$(awk -v w=$((t1 - t0)) 'BEGIN { print w / 1e6 }')" \
		"$(ev_field "$idle" rss_kb)" "$(ev_field "$v" rss_kb)" "$VERDICTS")"
}

run_tc()
{
	local round=$1 ns out t0 t1
	ev_ns
	ns=$BENCH_NS
	# The qdisc beforehand, untimed: tc adds filters to an existing one.
	tc -n "$ns" qdisc add dev lo clsact || bench_die "cannot add clsact to lo in '$ns'"
	stamped "$ns" out tc filter add dev lo ingress bpf direct-action obj "$OBJ" sec tc
	[[ -n "$(ev_prog_id "$ns" lo)" ]] || ev_fail "tc filter add left no filter on lo" "$BENCH_TMP/fp.err"
	bench_ns_del "$ns"
	t0=$(stamp_of "$out" start) t1=$(stamp_of "$out" exit)
	[[ -n "$t0" && -n "$t1" ]] || ev_fail "no stamps around tc" "$BENCH_TMP/fp.out"
	bench_record meas "$ROW" load tc-filter-add "$round" 1 $((t1 - t0)) -
	bench_progress "$(printf 'round %d/%d  %-13s attached after %6.1f ms' "$round" "$ROUNDS" \
		tc-filter-add "$(awk -v w=$((t1 - t0)) 'BEGIN { print w / 1e6 }')")"
}

bench_record row "$ROW" "Row 6: footprint - start-up to attached, and $VERDICTS per-flow verdicts; $ROUNDS rounds (mode ${BENCH_MODE:-full}); memory in the notes"
bench_record case "$ROW" load 0 1 "load and attach: process start (build/bench/stamp, before fork) -> program attached to lo's ingress; ns/entry = ns"
bench_record case "$ROW" verdicts 0 "$VERDICTS" "$VERDICTS verdicts: ct.verdict(tuple, \"alloc\") in a loop, then ct.sync(), vs bpf_map_update_elem from C, into an empty ctl_verdicts"
bench_record goal "$ROW" map_update_elem 0.90
bench_record contender "$ROW" ctlua "build/ctlua bench/lua/fp_footprint.lua: ct.attach(\"lo\") then prints \"attached\"; the verdict loop between stamped lines"
bench_record contender "$ROW" fp_load "bench/progs/fp_load.c: the same object (ctlua's skeleton, with ctlua_ingress and ctlua_req as ctlua loads it at start) loaded, configured and attached with libbpf; own clock for the verdicts"
bench_record case "$ROW" rss 0 1 "VmRSS with $VERDICTS verdicts stored, right after the loop (no forced collection); ns/entry = KiB"
bench_record contender "$ROW" map_update_elem "bench/progs/fp_load.c after it attached: $VERDICTS bpf_map_update_elem calls on ctl_verdicts, one a verdict, by its own clock (fp_load's verdicts, named apart so the goal is on this case only)"
bench_record contender "$ROW" tc-filter-add "tc filter add dev lo ingress bpf da obj build/ctlua.bpf.o sec tc: the whole process (iproute2's libbpf, which loads only ctlua_ingress); clsact added before, untimed"

bench_record contender "$ROW" goal "the goals as fixed references, not a program: load and attach $((GOAL_LOAD_NS / 1000000)) ms; RSS $((GOAL_RSS_KIB / 1024)) MiB"
bench_record goal "$ROW" goal 1.00

for round in $(seq "$ROUNDS"); do
	bench_record meas "$ROW" load goal "$round" 1 "$GOAL_LOAD_NS" -
	bench_record meas "$ROW" rss goal "$round" 1 "$GOAL_RSS_KIB" -
	run_ctlua "$round"
	run_fp_load "$round"
	run_tc "$round"
done

# kib_stats NAME VALUES...: "NAME median KiB [min..max]".
kib()
{
	local m lo hi
	read -r m lo hi <<<"$(ev_median "$@")"
	printf '%.1f MiB [%.1f..%.1f]' "$(awk -v v="$m" 'BEGIN { print v / 1024 }')" \
		"$(awk -v v="$lo" 'BEGIN { print v / 1024 }')" "$(awk -v v="$hi" 'BEGIN { print v / 1024 }')"
}

# ratio_med A[] B[]: the median over the rounds of A[i] / B[i].
ratio_med()
{
	local -n a=$1 b=$2
	local i r=()
	for i in "${!a[@]}"; do
		r+=("$(awk -v x="${a[i]}" -v y="${b[i]}" 'BEGIN { printf "%.3f", x / y }')")
	done
	ev_median "${r[@]}" | awk '{ printf "%.2fx [%.2f..%.2f]", $1, $2, $3 }'
}

bench_record note "$ROW" "RSS (VmRSS) loaded and attached, idle: ctlua $(kib "${RSS_CTLUA[@]}"), fp_load $(kib "${RSS_C[@]}"); ctlua/fp_load $(ratio_med RSS_CTLUA RSS_C) (no goal)"
bench_record note "$ROW" "of that RSS, BPF maps mapped into the process (smaps, anon_inode:bpf-map: the .bss with the $(awk '/define CTLUA_MAX_REQUESTS/ { print $3 }' bpf/ctlua.h)-slot request array): ctlua $(kib "${MAPPED_CTLUA[@]}"), fp_load $(kib "${MAPPED_C[@]}")"
bench_record note "$ROW" "RSS with $VERDICTS verdicts: ctlua right after the loop $(kib "${RSS_V_CTLUA[@]}"), after a full collectgarbage() $(kib "${RSS_GC_CTLUA[@]}"); fp_load $(kib "${RSS_V_C[@]}"). The verdicts live in the kernel; what ctlua's RSS gains is the loop's garbage and what the allocator keeps of it"
bench_record note "$ROW" "kernel memory of the object's maps (memlock in fdinfo), the same in both: idle $(kib "${MAPS_IDLE[@]}"), with $VERDICTS verdicts $(kib "${MAPS_V[@]}")"
bench_record note "$ROW" "fp_load's start-up by phase (medians): nat_module_btf (a stat) $(ev_us "$(ev_median "${PH_PROBE[@]}" | cut -d' ' -f1)") us, skeleton open $(ev_us "$(ev_median "${PH_OPEN[@]}" | cut -d' ' -f1)") us, load and verify with the config written $(ev_us "$(ev_median "${PH_LOAD[@]}" | cut -d' ' -f1)") us, clsact and attach $(ev_us "$(ev_median "${PH_ATTACH[@]}" | cut -d' ' -f1)") us"
bench_record note "$ROW" "goals: ctlua attached within $((GOAL_LOAD_NS / 1000000)) ms of its start and VmRSS at most $((GOAL_RSS_KIB / 1024)) MiB with $VERDICTS verdicts (ctlua/goal >= 1.00 in the load and rss cases); the verdicts at >= 0.9x bpf_map_update_elem from C; tc-filter-add is no peer for memory (it exits once the filter is in)"

bench_finish
