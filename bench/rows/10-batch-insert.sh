#!/bin/bash
# 10-batch-insert.sh - row 1: batch insert from Lua. ct.alloc_many against the same
# kfunc batch in bare C, a batched libmnl inserter and `conntrack -R`, interleaved
# round by round, each measurement in a fresh namespace at a stated table fill; on one
# CPU, then on every CPU (ct.alloc_many's threads, kfunc_batch's same threads, libmnl
# over one socket per CPU); and end to end, from a script that builds its own tuples.
#
#   bench/rows/10-batch-insert.sh [--quick]      (root; bench/run runs it for `make bench`)
#
# BENCH_ROUNDS, BENCH_ENTRIES and BENCH_FILLS (space-separated) override the mode's
# defaults. See bench/README.md for what is timed and how.
cd "$(dirname "$0")/../.." || exit 1
source bench/lib/bench.sh

bench_sizes "$@"
ROW=batch-insert
CONTENDERS=(ctlua kfunc_batch mnl_insert conntrack-R)
CPUS=$(nproc)
THREADS=1	# what the contenders of the case being measured may use (measure sets it)
E2E=		# "e2e": ctlua builds its tuples inside its timed window
FIRST=198.18.0.1		# the timed set: 198.18.0.1, .2, ... (flowgen.h)
PREFILL_FIRST=198.18.128.1	# the pre-fill set, disjoint from it
BENCH_LIMIT=180			# seconds any one process may take before it counts as hung (lib/bench.sh)

bench_init

# inserted_of OUT: the N of the "inserted N of M" line in OUT.
inserted_of()
{
	awk '{ for (i = 1; i < NF; i++) if ($i == "inserted") { print $(i + 1); exit } }' <<<"$1"
}

# stamp_of OUT WORD: the stamp of the line of build/bench/stamp's OUT whose text is WORD.
stamp_of()
{
	awk -v w="$2" '$2 == w { print $1; exit }' <<<"$1"
}

# Each contender inserts the ENTRIES tuples of the timed set into NS and sets WALL
# (ns, its own clock) and CPU (ns of process CPU time, or -).
WARMS=()	# ns of ctlua's warm-up call (the first ct.alloc_many of its process), per run
run_ctlua()
{
	local t0 t1 w0 w1
	bench_run "$1" "$BENCH_BIN/stamp" "$CTLUA" bench/lua/insert.lua "$ENTRIES" "$FIRST" \
		"$THREADS" $E2E
	((RC == 0)) || bench_failed "ctlua bench/lua/insert.lua" || return
	[[ "$(inserted_of "$OUT")" == "$ENTRIES" ]] || bench_failed "ctlua (wrong count)" || return
	t0=$(stamp_of "$OUT" begin)
	t1=$(stamp_of "$OUT" end)
	w0=$(stamp_of "$OUT" warm-begin)
	w1=$(stamp_of "$OUT" warm-end)
	[[ -n "$t0" && -n "$t1" && -n "$w0" && -n "$w1" ]] || bench_failed "ctlua (stamped lines missing)" || return
	WALL=$((t1 - t0))
	WARMS+=($((w1 - w0)))
	CPU=$(awk '{ for (i = 1; i < NF; i++) if ($i == "cpu_ns") { sub(/,/, "", $(i + 1)); print $(i + 1) } }' <<<"$OUT")
}

# kfunc_batch and mnl_insert time themselves: "inserted N of M in T ns, F failed".
run_c()
{
	local prog=$1 ns=$2
	bench_run "$ns" "$BENCH_BIN/$prog" "$ENTRIES" "$FIRST" "$THREADS"
	((RC == 0)) || bench_failed "$prog" || return
	[[ "$(inserted_of "$OUT")" == "$ENTRIES" ]] || bench_failed "$prog (wrong count)" || return
	WALL=$(awk '{ for (i = 1; i < NF; i++) if ($i == "in") { print $(i + 1); exit } }' <<<"$OUT")
	CPU=-
}
run_kfunc_batch() { run_c kfunc_batch "$1"; }
run_mnl_insert() { run_c mnl_insert "$1"; }

# conntrack -R reads the whole file and inserts as it goes: its wall time is the
# process's, fork to exit, as build/bench/stamp sees it.
run_conntrack_R()
{
	local t0 t1
	bench_run "$1" "$BENCH_BIN/stamp" conntrack -R "$SAVE_FILE"
	((RC == 0)) || bench_failed "conntrack -R" || return
	t0=$(stamp_of "$OUT" start)
	t1=$(awk '$2 == "exit" { print $1 }' <<<"$OUT")
	WALL=$((t1 - t0))
	CPU=-
}

# The timed set in conntrack's save format (what `conntrack -L -o save` prints),
# generated like flowgen.h does.
gen_save_file()
{
	awk -v n="$1" -v first="$2" 'BEGIN {
		split(first, o, ".")
		base = ((o[1] * 256 + o[2]) * 256 + o[3]) * 256 + o[4]
		for (i = 0; i < n; i++) {
			s = base + int(i / 50000)
			src = sprintf("%d.%d.%d.%d", int(s / 16777216), int(s / 65536) % 256, int(s / 256) % 256, s % 256)
			sp = 10000 + i % 50000
			printf "-A -t 600 -u ASSURED -s %s -d 198.19.0.1 -r 198.19.0.1 -q %s -p udp", src, src
			printf " --sport %d --dport 53 --reply-port-src 53 --reply-port-dst %d\n", sp, sp
		}
	}'
}

# measure_in NS FILL NAME: pre-fill NS, run NAME, check the counts; 0, or 1 with FAIL_MSG.
measure_in()
{
	local ns=$1 fill=$2 name=$3

	if ((fill > 0)); then
		bench_run "$ns" "$CTLUA" bench/lua/insert.lua "$fill" "$PREFILL_FIRST"
		if ((RC != 0)) || [[ "$(inserted_of "$OUT")" != "$fill" ]]; then
			bench_failed "pre-fill with ct.alloc_many"
			return
		fi
	fi
	bench_count_is "$ns" "$fill" "before $name" || return
	"run_${name//-/_}" "$ns" || return
	bench_count_is "$ns" $((fill + ENTRIES)) "after $name"
}

# measure CASE FILL NAME ROUND: one measurement of case CASE (THREADS and E2E set for
# it) in a fresh namespace holding FILL entries.
# The conntrack limit is global, and tests running at the same time may lower it for a
# moment (tests/37-experiments.t does, to provoke ENOMEM): the bench waits for the
# limit it set, and repeats a failed measurement once, in a new namespace, saying so
# in the table. A second failure ends the run.
measure()
{
	local case=$1 fill=$2 name=$3 round=$4 try

	for try in 1 2; do
		bench_ct_max_wait "$CT_NEED"
		bench_ns_new
		if measure_in "$BENCH_NS" "$fill" "$name"; then
			bench_record meas "$ROW" "$case" "$name" "$round" "$ENTRIES" "$WALL" "$CPU"
			bench_progress "$(printf 'round %d/%d  %-20s %-12s %8.1f ms' "$round" "$ROUNDS" \
				"$case" "$name" "$(awk -v w="$WALL" 'BEGIN { print w / 1e6 }')")"
			bench_ns_del "$BENCH_NS"
			return 0
		fi
		bench_ns_del "$BENCH_NS"
		((try == 1)) || bench_die "round $round, $case, $name failed twice: $FAIL_MSG"
		bench_record note "$ROW" "repeated once: round $round, $case, $name: $FAIL_MSG (nf_conntrack_max $(<"$BENCH_SYSCTL") afterwards)"
		bench_progress "round $round, $case, $name failed; repeating it once"
	done
}

CT_NEED=$((MAX_FILL + ENTRIES + 10000))
bench_ct_max_at_least "$CT_NEED"
ct_max=$(<"$BENCH_SYSCTL")
bench_ct_idle
SAVE_FILE=$BENCH_TMP/timed-set.save
gen_save_file "$ENTRIES" "$FIRST" >"$SAVE_FILE"

bench_record row "$ROW" "Row 1: batch insert from Lua - $ENTRIES UDP entries per run, $ROUNDS rounds, contenders interleaved (mode ${BENCH_MODE:-full})"
# The cases: "CASE-NAME|FILL|THREADS|E2E|CONTENDERS...", measured in this order each round.
CASES=()
for fill in $FILLS; do
	if ((fill == 0)); then
		where="into an empty table"
	else
		where="into a namespace pre-filled with $fill entries by ct.alloc_many, untimed"
	fi
	CASES+=("fill $fill|$fill|1||${CONTENDERS[*]}")
	bench_record case "$ROW" "fill $fill" "$fill" "$ENTRIES" "fill $fill, one CPU: $where (nf_conntrack_max $ct_max during the run)"
	if ((CPUS > 1)); then
		CASES+=("fill $fill, $CPUS CPUs|$fill|$CPUS||ctlua kfunc_batch mnl_insert")
		bench_record case "$ROW" "fill $fill, $CPUS CPUs" "$fill" "$ENTRIES" "fill $fill, all $CPUS CPUs: ct.alloc_many{threads=$CPUS}, kfunc_batch with the same $CPUS threads, libmnl over $CPUS sockets in $CPUS threads; $where"
	fi
done
CASES+=("end to end|0|1|e2e|ctlua mnl_insert")
bench_record case "$ROW" "end to end" 0 "$ENTRIES" "end to end, fill 0, one CPU: ctlua's timed window also builds its $ENTRIES tuples in Lua (strings, bench/lua/insert.lua e2e), as libmnl builds its messages in its own"
bench_record contender "$ROW" ctlua "ct.alloc_many(tuples, opts) in build/ctlua; wall time between two stamped lines (build/bench/stamp)"
bench_record contender "$ROW" kfunc_batch "bench/progs/kfunc_batch.c: the same request batch through ctlua's datapath.o, no Lua; own CLOCK_MONOTONIC"
bench_record contender "$ROW" mnl_insert "bench/progs/mnl_insert.c: libmnl, IPCTNL_MSG_CT_NEW, 256 per sendto, one ACK per batch; own CLOCK_MONOTONIC"
bench_record contender "$ROW" conntrack-R "conntrack -R FILE (save format), the whole process fork to exit, incl. parsing"
bench_record goal "$ROW" mnl_insert 2.00
bench_record goal "$ROW" kfunc_batch 0.90

for round in $(seq "$ROUNDS"); do
	for spec in "${CASES[@]}"; do
		IFS='|' read -r case fill THREADS E2E names <<<"$spec"
		for name in $names; do
			measure "$case" "$fill" "$name" "$round"
		done
	done
done
THREADS=1 E2E=

# ct.tuple's cost, measured on its own (bench/lua/tuple.lua): what building a tuple costs.
if out=$("$CTLUA" bench/lua/tuple.lua 2>&1); then
	while IFS= read -r line; do
		bench_record note "$ROW" "tuple building (bench/lua/tuple.lua, best of 5): $line"
	done <<<"$out"
else
	bench_record note "$ROW" "bench/lua/tuple.lua failed: $out"
fi

# os.clock (process CPU time) against the stamped wall time of the same ct.alloc_many:
# CPU-bound work in the calling task should give a ratio near 1.
check=$(awk -F '\t' -v row="$ROW" '
	$1 == "meas" && $2 == row && $4 == "ctlua" && $3 !~ /CPUs/ && $7 > 0 { r[++n] = $8 / $7 }
	END {
		for (i = 2; i <= n; i++) for (j = i; j > 1 && r[j - 1] > r[j]; j--) { t = r[j]; r[j] = r[j - 1]; r[j - 1] = t }
		m = n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
		printf "%.3f %.3f %.3f", m, r[1], r[n]
	}' "$BENCH_RECORDS")
read -r cw_med cw_min cw_max <<<"$check"
verdict=$(awk -v m="$cw_med" 'BEGIN { print (m >= 0.9 && m <= 1.05) ? "agree" : "DISAGREE: the wall time counts time ctlua did not run (a busy machine?)" }')
bench_record note "$ROW" "ctlua's os.clock (CPU time) / stamped wall time of the same call, one-CPU cases: median $cw_med [$cw_min..$cw_max]: $verdict"
warm=$(printf '%s\n' "${WARMS[@]}" | sort -n | awk '{ v[++n] = $1 }
	END { printf "%.1f ms [%.1f..%.1f]", (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2) / 1e6, v[1] / 1e6, v[n] / 1e6 }')
bench_record note "$ROW" "not in ctlua's rate: the first ct.alloc_many of its process (one tuple, refused, nothing created) took median $warm of one-time work; kfunc_batch's set-up (ctl_dp_open) is not in its time either"
bench_record note "$ROW" "every run is in a fresh namespace; its entry count is checked with conntrack -C before and after (fill, fill + $ENTRIES)"

bench_finish
