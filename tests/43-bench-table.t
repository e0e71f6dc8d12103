#!/bin/bash
# 43-bench-table.t - scripts/bench-table turns a results.json into the docs' table: every
# contender's median and ratio as bench_report computed them, goals met and NOT MET, the
# run's date, kernel and CPUs; --replace writes only between the markers, refuses a quick
# run and a file without markers. The docs' own file has its markers. Needs no kernel.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
command -v lua5.4 >/dev/null || BAIL_OUT "lua5.4 is missing (scripts/install-deps.sh)"

tmp=$(mktemp -d) || BAIL_OUT "mktemp failed"
trap 'rm -rf "$tmp"' EXIT

# A run as bench_report writes it: one row, a goal met and one not, escapes in a text.
cat >"$tmp/full.json" <<'EOF'
{
  "generated": "2026-01-02T03:04:05Z",
  "mode": "full",
  "machine": {"kernel": "6.18.0-test", "cpus": 2, "nf_conntrack_buckets": 262144},
  "rows": [
    {"row": "packet-new-flows", "title": "Row 2: \"new\" flows", "subject": "ctlua", "cases": [
      {"case": "fill 0", "fill": 0, "entries": 100000, "text": "a \\ b", "contenders": [
        {"name": "ctlua", "what": "x", "rounds": 3, "median_rate": 1000000, "rates": [900000, 1000000, 1100000], "wall_ns": [111111111, 100000000, 90909091], "cpu_ns": [1, 2, 3]},
        {"name": "nf_conntrack", "what": "y", "rounds": 3, "median_rate": 950000, "rates": [1, 2, 3], "wall_ns": [105263158, 105263158, 105263158], "ratio": {"median": 1.0526, "min": 0.9500, "max": 1.1579}, "goal": {"min_ratio": 0.952, "met": true}},
        {"name": "goal", "what": "z|w", "rounds": 3, "median_rate": 7, "rates": [7, 7, 7], "wall_ns": [150000000, 150000000, 150000000], "ratio": {"median": 0.8100, "min": 0.7000, "max": 0.9000}, "goal": {"min_ratio": 1.00, "met": false}}
      ]}
    ], "notes": ["n"]}
  ],
  "goals_not_met": 1
}
EOF
out=$(scripts/bench-table "$tmp/full.json")
is "$?" 0 "the table is made"
has_line "$out" "Run of 2026-01-02T03:04:05Z (full mode): kernel 6.18.0-test, 2 CPUs, nf_conntrack_buckets 262144; goals not met: 1." \
	"its first line: date, mode, kernel, CPUs, goals not met"
has_line "$out" "| packet-new-flows | fill 0 | ctlua | 1.00 M/s | 1000 | - |  |" \
	"the subject: median rate from each round's time, ns per entry"
has_line "$out" "| packet-new-flows | fill 0 | nf_conntrack | 950.0 k/s | 1053 | 1.05× [0.95..1.16] | ≥ 0.95×: met |" \
	"a peer: its median, the median ratio with its range, the goal met"
has_line "$out" "| packet-new-flows | fill 0 | goal | 666.7 k/s | 1500 | 0.81× [0.70..0.90] | ≥ 1.00×: **NOT MET** |" \
	"a goal not met says so in bold"

printf 'intro\n<!-- bench-table: begin (scripts/bench-table writes what follows from bench/results.json: make bench-readme; do not edit) -->\nold table\n<!-- bench-table: end -->\noutro\n' >"$tmp/doc.md"
scripts/bench-table --replace "$tmp/doc.md" "$tmp/full.json" 2>"$tmp/err"
is "$?" 0 "--replace succeeds on a full run"
is "$(head -1 "$tmp/doc.md"; tail -2 "$tmp/doc.md")" $'intro\n<!-- bench-table: end -->\noutro' \
	"what lies outside the markers is unchanged"
unlike "$(cat "$tmp/doc.md")" "old table" "the old table is gone"
has_line "$(cat "$tmp/doc.md")" "| packet-new-flows | fill 0 | goal | 666.7 k/s | 1500 | 0.81× [0.70..0.90] | ≥ 1.00×: **NOT MET** |" \
	"the new one is in"
cp "$tmp/doc.md" "$tmp/doc2.md"
scripts/bench-table --replace "$tmp/doc2.md" "$tmp/full.json" 2>/dev/null
is "$(cmp "$tmp/doc.md" "$tmp/doc2.md" && echo same)" same "writing it again changes nothing"

sed 's/"mode": "full"/"mode": "quick"/' "$tmp/full.json" >"$tmp/quick.json"
cp "$tmp/doc.md" "$tmp/before.md"
err=$(scripts/bench-table --replace "$tmp/doc.md" "$tmp/quick.json" 2>&1)
is "$? $err" "1 bench-table: '$tmp/quick.json' is from a quick run: the docs quote full runs (make bench); BENCH_TABLE_QUICK=1 overrides" \
	"a quick run's results are refused"
is "$(cmp "$tmp/doc.md" "$tmp/before.md" && echo same)" same "and the file is left as it was"

printf 'no markers\n' >"$tmp/bare.md"
err=$(scripts/bench-table --replace "$tmp/bare.md" "$tmp/full.json" 2>&1)
like "$? $err" "1 bench-table: '$tmp/bare.md' lacks the markers, in this order:" "a file without markers is refused"
err=$(printf '{"rows": [1,}' | scripts/bench-table /dev/stdin 2>&1)
like "$? $err" "1 bench-table: '/dev/stdin': Expected value but found T_OBJ_END at character 13" \
	"bad JSON is refused with its place"

sed 's/"median_rate": 1000000, "rates": \[900000, 1000000, 1100000\], "wall_ns": \[111111111, 100000000, 90909091\], //' \
	"$tmp/full.json" >"$tmp/nofigures.json"
err=$(scripts/bench-table "$tmp/nofigures.json" 2>&1)
is "$? $err" "1 bench-table: row 'packet-new-flows', case 'fill 0': contender 'ctlua' has neither wall_ns nor median_rate" \
	"a contender with no figures is refused by name, not with a Lua error"

out=$(scripts/bench-table --goals "$tmp/full.json")
is "$?" 0 "the goals table is made"
has_line "$out" "Run of 2026-01-02T03:04:05Z (full mode): kernel 6.18.0-test, 2 CPUs; goals not met: 1." \
	"its first line: date, mode, kernel, CPUs, goals not met"
has_line "$out" "| packet-new-flows | fill 0 | nf_conntrack | ≥ 0.95× | 1.05× [0.95..1.16] | met |" \
	"a goal met: the peer, the goal, the median ratio and its range"
has_line "$out" "| packet-new-flows | fill 0 | goal | ≥ 1.00× | 0.81× [0.70..0.90] | **NOT MET** |" \
	"a goal not met says so in bold"
is "$(grep -c '^| packet-new-flows' <<<"$out")" 2 "contenders without a goal are left out"
printf 'a\n<!-- bench-goals: begin (scripts/bench-table writes what follows from bench/results.json: make bench-readme; do not edit) -->\nold\n<!-- bench-goals: end -->\nb\n' >"$tmp/readme.md"
scripts/bench-table --goals --replace "$tmp/readme.md" "$tmp/full.json" 2>/dev/null
has_line "$(cat "$tmp/readme.md")" "| packet-new-flows | fill 0 | goal | ≥ 1.00× | 0.81× [0.70..0.90] | **NOT MET** |" \
	"--goals --replace writes between the bench-goals markers"
err=$(scripts/bench-table --goals --replace "$tmp/doc.md" "$tmp/full.json" 2>&1)
like "$? $err" "1 bench-table: '$tmp/doc.md' lacks the markers, in this order:" \
	"the goals go only between their own markers"

grep -qx '<!-- bench-table: begin (scripts/bench-table writes what follows from bench/results.json: make bench-readme; do not edit) -->' doc/performance.md &&
	grep -qx '<!-- bench-table: end -->' doc/performance.md
is "$?" 0 "doc/performance.md has both markers"
grep -qx '<!-- bench-goals: begin (scripts/bench-table writes what follows from bench/results.json: make bench-readme; do not edit) -->' README.md &&
	grep -qx '<!-- bench-goals: end -->' README.md
is "$?" 0 "README.md has the goals' markers"
done_testing
