# shellcheck shell=bash
# bench.sh - what bench/run and the row scripts (bench/rows/NN-*.sh) share: namespaces and
# their cleanup, the global conntrack limit, measurement records, and the report
# (median / min / max, ratios, goals) printed as a table and written as JSON.
#
#   cd "$(dirname "$0")/../.." && source bench/lib/bench.sh     (from bench/rows/NN-*.sh)
#   bench_init                          # trap, scratch dir, records file
#   bench_ct_max_at_least 310000        # raised for the run, restored on exit
#   bench_ns_new                        # fresh namespace, named in $BENCH_NS
#   ... run a contender inside it, then bench_record meas ...
#   bench_ns_del "$BENCH_NS"            # and wait until its entries are freed
#
# Records are tab-separated lines in $BENCH_RECORDS, the first field their kind:
#   row       ROW  TITLE
#   case      ROW  CASE  FILL  ENTRIES  TEXT
#   contender ROW  NAME  TEXT           (table order; the first is the subject, ctlua)
#   goal      ROW  PEER  MIN-RATIO      (median subject/peer rate must reach it)
#   meas      ROW  CASE  NAME  ROUND  ENTRIES  WALL-NS  CPU-NS|-
#   note      ROW  TEXT
# bench/run collects the records of every row into one file and reports them once;
# a row script started on its own reports its own.
#
# Network rule: namespaces only (ctlb-PID-N), addresses only from 198.18.0.0/15; all
# that a run creates is removed by the EXIT trap, also on failure and Ctrl-C.

BENCH_ROOT=$PWD
CTLUA=${CTLUA:-$BENCH_ROOT/build/ctlua}
BENCH_BIN=$BENCH_ROOT/build/bench
BENCH_SYSCTL=/proc/sys/net/netfilter/nf_conntrack_max

_BENCH_NS=()		# namespaces this process created and has not deleted yet
_BENCH_NS_N=0
_BENCH_MAX_OLD=		# nf_conntrack_max before this process raised it
BENCH_TMP=

_bench_cleanup()
{
	local status=$? ns pids pid i left sig

	trap - EXIT INT TERM
	for pid in $(jobs -p); do
		kill -TERM "$pid" 2>/dev/null
	done
	# Whatever still runs in our namespaces is ours (a contender cut short): TERM, then KILL.
	for i in 1 2 3 4 5 6 7 8 9 10 11; do
		left=
		for ns in "${_BENCH_NS[@]}"; do
			pids=$(ip netns pids "$ns" 2>/dev/null)
			[[ -z "$pids" ]] && continue
			left=1
			sig=TERM
			((i == 11)) && sig=KILL
			# shellcheck disable=SC2086 # one PID per word
			kill -"$sig" $pids 2>/dev/null
		done
		[[ -z "$left" ]] && break
		sleep 0.1
	done
	wait 2>/dev/null
	for ns in "${_BENCH_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [[ -n "$_BENCH_MAX_OLD" ]]; then
		echo "$_BENCH_MAX_OLD" >"$BENCH_SYSCTL" ||
			echo "bench: cannot restore nf_conntrack_max to $_BENCH_MAX_OLD" >&2
	fi
	[[ -n "$BENCH_TMP" ]] && rm -rf "$BENCH_TMP"
	exit "$status"
}

# bench_die MESSAGE: fail loudly; the trap removes everything.
# bench_sizes [--quick]: the mode (BENCH_MODE, or --quick) and, for it, ROUNDS, ENTRIES
# and FILLS (quick: 5 rounds of 20 000 at fills 0 and 50 000; full: 9 of 100 000 at 0
# and 200 000), each overridden by BENCH_ROUNDS, BENCH_ENTRIES or BENCH_FILLS; and
# MAX_FILL, the largest of the fills.
bench_sizes()
{
	[[ "${1:-}" == --quick ]] && BENCH_MODE=quick
	if [[ "${BENCH_MODE:-full}" == quick ]]; then
		ROUNDS=${BENCH_ROUNDS:-5} ENTRIES=${BENCH_ENTRIES:-20000}
		FILLS=${BENCH_FILLS:-"0 50000"}
	else
		ROUNDS=${BENCH_ROUNDS:-9} ENTRIES=${BENCH_ENTRIES:-100000}
		FILLS=${BENCH_FILLS:-"0 200000"}
	fi
	local fill

	MAX_FILL=0
	for fill in $FILLS; do
		((fill > MAX_FILL)) && MAX_FILL=$fill
	done
}

bench_die()
{
	echo "bench: $*" >&2
	exit 1
}

# bench_init: root check, stale leftovers removed, cleanup trap, scratch directory
# ($BENCH_TMP), records file ($BENCH_RECORDS, kept if the caller set it).
bench_init()
{
	local cmd
	((EUID == 0)) || bench_die "needs root (network namespaces, BPF, the conntrack sysctl)"
	for cmd in ip conntrack awk timeout; do
		command -v "$cmd" >/dev/null 2>&1 || bench_die "'$cmd' is not installed"
	done
	for cmd in "$CTLUA" "$BENCH_BIN/stamp" "$BENCH_BIN/kfunc_batch" "$BENCH_BIN/mnl_insert"; do
		[[ -x "$cmd" ]] || bench_die "'$cmd' is missing: run 'make bench' (or make all and the bench binaries)"
	done
	trap _bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	_bench_sweep_stale
	BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ctlb.$$.XXXXXX") || bench_die "cannot create a scratch directory"
	if [[ -z "${BENCH_RECORDS:-}" ]]; then
		BENCH_RECORDS=$BENCH_TMP/records
		BENCH_STANDALONE=1
	fi
	: >>"$BENCH_RECORDS"
}

# Namespaces and scratch dirs of runs killed without cleanup (SIGKILL): only those
# whose PID no longer runs.
_bench_sweep_stale()
{
	local ns pids dir

	while read -r ns _; do
		[[ "$ns" =~ ^ctlb-([0-9]+)-[0-9]+$ ]] || continue
		[[ -d /proc/${BASH_REMATCH[1]} ]] && continue
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086 # one PID per word
		[[ -n "$pids" ]] && kill -KILL $pids 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done < <(ip netns list 2>/dev/null)
	for dir in "${TMPDIR:-/tmp}"/ctlb.*.*; do
		[[ "$dir" =~ /ctlb\.([0-9]+)\.[^/]+$ ]] || continue
		[[ -d /proc/${BASH_REMATCH[1]} ]] || rm -rf "$dir"
	done
}

# bench_ct_max_at_least N: nf_conntrack_max is global and writable only from the root
# namespace; raise it to N for this run if it is lower (restored by the trap).
bench_ct_max_at_least()
{
	local cur
	cur=$(<"$BENCH_SYSCTL") || bench_die "cannot read $BENCH_SYSCTL"
	((cur >= $1)) && return 0
	[[ -z "$_BENCH_MAX_OLD" ]] && _BENCH_MAX_OLD=$cur
	echo "$1" >"$BENCH_SYSCTL" || bench_die "cannot raise nf_conntrack_max to $1"
}

# bench_ct_max_wait N: wait (at most 30 s) while something else holds nf_conntrack_max
# below N, as a test lowering it for a moment does; then fail loudly.
bench_ct_max_wait()
{
	local i
	for i in $(seq 300); do
		(($(<"$BENCH_SYSCTL") >= $1)) && return 0
		((i == 1)) && echo "bench: nf_conntrack_max is $(<"$BENCH_SYSCTL"), below the $1 this run needs: waiting" >&2
		sleep 0.1
	done
	bench_die "nf_conntrack_max stayed at $(<"$BENCH_SYSCTL") for 30 s, below the $1 this run set: something else changes it"
}

# bench_ns_new: a fresh namespace with lo up, its name in BENCH_NS.
bench_ns_new()
{
	_BENCH_NS_N=$((_BENCH_NS_N + 1))
	BENCH_NS=ctlb-$$-$_BENCH_NS_N
	ip netns add "$BENCH_NS" || bench_die "cannot create namespace '$BENCH_NS'"
	_BENCH_NS+=("$BENCH_NS")
	ip -n "$BENCH_NS" link set lo up || bench_die "cannot bring lo up in '$BENCH_NS'"
}

# The kernel's conntrack objects in use, all namespaces together (an upper bound: SLUB
# counts objects still in per-CPU slabs as in use).
_bench_ct_objects()
{
	awk '$1 == "nf_conntrack" { print $2; found = 1 } END { if (!found) print 0 }' /proc/slabinfo
}

# bench_ns_del NS: delete NS, then wait (at most 30 s) until the kernel has freed its
# entries, so the next contender neither shares the global hash table with them nor
# competes with their cleanup for a CPU.
bench_ns_del()
{
	local ns=$1 i n left=()

	ip netns del "$ns" || bench_die "cannot delete namespace '$ns'"
	for n in "${_BENCH_NS[@]}"; do
		[[ "$n" != "$ns" ]] && left+=("$n")
	done
	_BENCH_NS=("${left[@]}")
	for i in $(seq 300); do
		(($(_bench_ct_objects) <= ${BENCH_CT_IDLE:-0} + 4096)) && return 0
		sleep 0.1
	done
	echo "bench: warning: $(_bench_ct_objects) conntrack objects still allocated 30 s after deleting '$ns'" >&2
}

# bench_ct_idle: note how many conntrack objects exist before the run's own (others'
# namespaces, the host's); bench_ns_del waits to get back near this.
bench_ct_idle()
{
	BENCH_CT_IDLE=$(_bench_ct_objects)
}

# bench_ct_count NS: the number of entries in NS's conntrack table.
bench_ct_count()
{
	ip netns exec "$1" conntrack -C 2>/dev/null
}

# bench_expect_count NS N WHAT: fail loudly unless NS holds exactly N entries.
bench_expect_count()
{
	local got
	got=$(bench_ct_count "$1")
	[[ "$got" == "$2" ]] || bench_die "$3: '$1' holds ${got:-no answer from conntrack -C} entries, expected $2"
}

# bench_record KIND FIELDS...: append one record (see the top of this file).
bench_record()
{
	local IFS=$'\t'
	echo "$*" >>"$BENCH_RECORDS"
}

# bench_progress TEXT: a progress line on stderr, so stdout keeps only the table.
bench_progress()
{
	printf '  %s\n' "$*" >&2
}

# bench_finish: a row script started on its own prints its own table.
bench_finish()
{
	[[ -n "${BENCH_STANDALONE:-}" ]] && bench_report "$BENCH_RECORDS" /dev/null
	return 0
}

# bench_report RECORDS JSON: print the table to stdout and write the JSON to JSON.
# Rates are entries per second of each measurement; the ratio of a round is the
# subject's rate divided by the peer's in that round; median, min and max are over
# the rounds. A goal is met when the median ratio reaches it.
bench_report()
{
	awk -F '\t' -v json="$2" -v kernel="$(uname -r)" -v cpus="$(nproc)" \
		-v buckets="$(</proc/sys/net/netfilter/nf_conntrack_buckets)" \
		-v date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" -v mode="${BENCH_MODE:-full}" '
function sort(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
}
function median(a, n) {
	sort(a, n)
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# printf pads by bytes; "×" is two of them in UTF-8 but one column on the screen.
function pad(s, w,    t, n) {
	t = s
	n = gsub(/×/, "x", t)
	return sprintf("%-" (w + n) "s", s)
}
function rate_text(r) {
	return r >= 1e6 ? sprintf("%.2f M/s", r / 1e6) : sprintf("%.1f k/s", r / 1e3)
}
function jstr(s) {
	gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s)
	return "\"" s "\""
}
$1 == "row" { nrow++; rows[nrow] = $2; title[$2] = $3 }
$1 == "case" { k = $2 SUBSEP (++ncase[$2]); cases[k] = $3; fill[$2, $3] = $4; entries[$2, $3] = $5; ctext[$2, $3] = $6 }
$1 == "contender" { k = ++ncont[$2]; cont[$2, k] = $3; cdesc[$2, $3] = $4 }
$1 == "goal" { goal[$2, $3] = $4 }
$1 == "note" { notes[$2, ++nnote[$2]] = $3 }
$1 == "meas" {
	k = $2 SUBSEP $3 SUBSEP $4
	n = ++nmeas[k]
	rate[k, n] = $6 / $7 * 1e9
	round[k, n] = $5
	byround[$2, $3, $4, $5] = $6 / $7 * 1e9
	wall[k, n] = $7
	cpu[k, n] = $8
}
END {
	if (json != "/dev/null") {
		printf "{\n  \"generated\": %s,\n  \"mode\": %s,\n", jstr(date), jstr(mode) > json
		printf "  \"machine\": {\"kernel\": %s, \"cpus\": %d, \"nf_conntrack_buckets\": %d},\n", \
			jstr(kernel), cpus, buckets > json
		printf "  \"rows\": [" > json
	}
	unmet = 0
	for (r = 1; r <= nrow; r++) {
		row = rows[r]
		subj = cont[row, 1]
		printf "\n%s\n", title[row]
		if (json != "/dev/null")
			printf "%s\n    {\"row\": %s, \"title\": %s, \"subject\": %s, \"cases\": [", \
				(r > 1 ? "," : ""), jstr(row), jstr(title[row]), jstr(subj) > json
		for (c = 1; c <= ncase[row]; c++) {
			cs = cases[row, c]
			printf "\n  %s\n", ctext[row, cs]
			printf "  %-14s %12s %10s   %-28s %s\n", "contender", "median rate", "ns/entry", \
				subj "/peer median [min..max]", "goal (median ratio)"
			if (json != "/dev/null")
				printf "%s\n      {\"case\": %s, \"fill\": %d, \"entries\": %d, \"text\": %s, \"contenders\": [", \
					(c > 1 ? "," : ""), jstr(cs), fill[row, cs], entries[row, cs], jstr(ctext[row, cs]) > json
			for (p = 1; p <= ncont[row]; p++) {
				name = cont[row, p]
				k = row SUBSEP cs SUBSEP name
				n = nmeas[k]
				if (!n)
					continue
				delete v; delete rv
				for (i = 1; i <= n; i++) v[i] = rate[k, i]
				med = median(v, n)
				# ratio per round against the subject measured in the same round
				nr = 0
				for (i = 1; i <= n; i++) {
					s = byround[row, cs, subj, round[k, i]]
					if (s) rv[++nr] = s / rate[k, i]
				}
				gtext = ""
				if (name == subj || !nr) {
					rtext = "-"
				} else {
					rmed = median(rv, nr)
					rtext = sprintf("%.2f× [%.2f..%.2f]", rmed, rv[1], rv[nr])
					if ((row, name) in goal) {
						g = goal[row, name]
						met = rmed >= g
						if (!met) unmet++
						gtext = sprintf("goal ≥%.2f×: %s", g, met ? "met" : "NOT MET")
					}
				}
				printf "  %-14s %12s %10.0f   %s %s\n", name, rate_text(med), 1e9 / med, pad(rtext, 28), gtext
				if (json != "/dev/null") {
					printf "%s\n        {\"name\": %s, \"what\": %s, \"rounds\": %d, \"median_rate\": %.0f, \"rates\": [", \
						(p > 1 ? "," : ""), jstr(name), jstr(cdesc[row, name]), n, med > json
					for (i = 1; i <= n; i++)
						printf "%s%.0f", (i > 1 ? ", " : ""), rate[k, i] > json
					printf "], \"wall_ns\": [" > json
					for (i = 1; i <= n; i++)
						printf "%s%d", (i > 1 ? ", " : ""), wall[k, i] > json
					printf "]" > json
					if (cpu[k, 1] != "-") {
						printf ", \"cpu_ns\": [" > json
						for (i = 1; i <= n; i++)
							printf "%s%d", (i > 1 ? ", " : ""), cpu[k, i] > json
						printf "]" > json
					}
					if (name != subj && nr)
						printf ", \"ratio\": {\"median\": %.4f, \"min\": %.4f, \"max\": %.4f}", \
							rmed, rv[1], rv[nr] > json
					if (gtext != "")
						printf ", \"goal\": {\"min_ratio\": %s, \"met\": %s}", g, (met ? "true" : "false") > json
					printf "}" > json
				}
			}
			if (json != "/dev/null")
				printf "\n      ]}" > json
		}
		printf "\n"
		for (p = 1; p <= ncont[row]; p++)
			printf "  %-14s %s\n", cont[row, p], cdesc[row, cont[row, p]]
		for (i = 1; i <= nnote[row]; i++)
			printf "  note: %s\n", notes[row, i]
		if (json != "/dev/null") {
			printf "\n    ], \"notes\": [" > json
			for (i = 1; i <= nnote[row]; i++)
				printf "%s%s", (i > 1 ? ", " : ""), jstr(notes[row, i]) > json
			printf "]}" > json
		}
	}
	printf "\nmachine: kernel %s, %d CPUs, nf_conntrack_buckets %d (one hash table for all namespaces)\n", \
		kernel, cpus, buckets
	printf "goals not met: %d\n", unmet
	if (json != "/dev/null")
		printf "\n  ],\n  \"goals_not_met\": %d\n}\n", unmet > json
}' "$1"
}

# --- Packet rows (bench/rows/20-*, bench/rows/30-*): one sending namespace joined by a veth pair
# to each of several receiving ones, helpers that run in the background while packets
# flow, and the rows' own BPF programs (bench/progs/pkt_progs.bpf).

BENCH_PKT_RX_DEV=ctlbrx0		# in each receiving namespace: 198.19.0.1/15
BENCH_PKT_RX_MAC=02:00:00:00:00:01	# the same in each: they are separate links
declare -gA _BENCH_PKT_PID=() _BENCH_PKT_FD=()

# bench_pkt_init: what a packet row calls after bench_init: checks that its programs
# and tools are there, and puts a step before the cleanup trap: closing the helpers'
# stdin, so that they stop on their own (ctlua waits in io.read and would otherwise
# need SIGKILL from the trap).
bench_pkt_init()
{
	bench_pkt_need
	trap bench_pkt_cleanup_trap EXIT
}

# bench_pkt_cleanup_trap: the EXIT trap bench_pkt_init sets; then _bench_cleanup.
bench_pkt_cleanup_trap()
{
	local status=$? tag fd
	for tag in "${!_BENCH_PKT_FD[@]}"; do
		fd=${_BENCH_PKT_FD[$tag]}
		exec {fd}>&-
	done
	(exit "$status")	# _bench_cleanup takes the status from $?
	_bench_cleanup
}

# bench_pkt_need: fail loudly unless the packet rows' programs and tools are there.
bench_pkt_need()
{
	local cmd
	for cmd in pkt_udpflood pkt_testrun pkt_attach pkt_bpfstats; do
		[[ -x "$BENCH_BIN/$cmd" ]] || bench_die "'$BENCH_BIN/$cmd' is missing: run 'make bench'"
	done
	for cmd in clang bpftool nft taskset mkfifo; do
		command -v "$cmd" >/dev/null 2>&1 || bench_die "'$cmd' is not installed"
	done
	[[ -r "$BENCH_ROOT/build/vmlinux.h" ]] || bench_die "'build/vmlinux.h' is missing: run 'make'"
}

# bench_pkt_build_bpf OUT: compile bench/progs/pkt_progs.bpf to the BPF object OUT, with the
# flags the Makefile gives bpf/ctlua.bpf.c (it is C; see the file's header for the name).
bench_pkt_build_bpf()
{
	local arch sys
	arch=$(uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
	# clang -target bpf does not search the host's system include dirs on its own
	sys=$(clang -v -E - </dev/null 2>&1 |
		sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')
	# shellcheck disable=SC2086 # one flag per word
	clang -g -O2 -Wall -target bpf -D__TARGET_ARCH_"$arch" -I"$BENCH_ROOT/build" \
		-I"$BENCH_ROOT/bpf" $sys -x c -c "$BENCH_ROOT/bench/progs/pkt_progs.bpf" -o "$1" ||
		bench_die "cannot compile bench/progs/pkt_progs.bpf"
}

# bench_pkt_net N: fresh namespaces (bench_ns_new): BENCH_PKT_TX, which sends, and N
# receiving ones, BENCH_PKT_RXS[0..N-1]. Receiver i is reached through ctlbtx<i> in
# BENCH_PKT_TX, the peer of its $BENCH_PKT_RX_DEV (198.19.0.1/15, $BENCH_PKT_RX_MAC).
# IPv6 is off everywhere, so no packet but the bench's crosses a link, and receivers
# send no ICMP errors (their ICMP budget is 0): the bench's UDP packets go to a port
# nobody listens on, and answers would be no part of what is measured.
bench_pkt_net()
{
	local i ns
	bench_ns_new
	BENCH_PKT_TX=$BENCH_NS
	BENCH_PKT_RXS=()
	for ((i = 0; i < $1; i++)); do
		bench_ns_new
		BENCH_PKT_RXS+=("$BENCH_NS")
	done
	for ns in "$BENCH_PKT_TX" "${BENCH_PKT_RXS[@]}"; do
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 >/dev/null ||
			bench_die "cannot turn IPv6 off in '$ns'"
	done
	for ((i = 0; i < $1; i++)); do
		ns=${BENCH_PKT_RXS[i]}
		ip -n "$ns" link add "$BENCH_PKT_RX_DEV" address "$BENCH_PKT_RX_MAC" type veth \
			peer name "ctlbtx$i" netns "$BENCH_PKT_TX" address "$(printf '02:00:00:00:01:%02x' "$i")" &&
			ip netns exec "$ns" sysctl -qw net.ipv4.icmp_msgs_per_sec=0 \
				net.ipv4.icmp_msgs_burst=0 >/dev/null &&
			ip -n "$ns" addr add 198.19.0.1/15 dev "$BENCH_PKT_RX_DEV" &&
			ip -n "$ns" link set "$BENCH_PKT_RX_DEV" up &&
			ip -n "$BENCH_PKT_TX" link set "ctlbtx$i" up ||
			bench_die "cannot set up the veth pair of '$BENCH_PKT_TX' and '$ns'"
	done
}

# bench_pkt_del_net: delete the namespaces of bench_pkt_net, then wait as bench_ns_del
# does until the kernel has freed their conntrack entries. (bench_ns_del waits after
# each deletion for all entries to go, which only the last deletion can bring about.)
bench_pkt_del_net()
{
	local ns n keep
	for ns in "${BENCH_PKT_RXS[@]}"; do
		ip netns del "$ns" || bench_die "cannot delete namespace '$ns'"
		keep=()
		for n in "${_BENCH_NS[@]}"; do
			[[ "$n" != "$ns" ]] && keep+=("$n")
		done
		_BENCH_NS=("${keep[@]}")
	done
	BENCH_PKT_RXS=()
	bench_ns_del "$BENCH_PKT_TX"
}

# bench_pkt_rx_packets NS: packets $BENCH_PKT_RX_DEV in NS has received so far.
bench_pkt_rx_packets()
{
	ip netns exec "$1" cat "/sys/class/net/$BENCH_PKT_RX_DEV/statistics/rx_packets"
}

# bench_pkt_targets: the interface and MAC of every receiver, in BENCH_PKT_RXS's order,
# as pkt_udpflood takes them.
bench_pkt_targets()
{
	local i
	for ((i = 0; i < ${#BENCH_PKT_RXS[@]}; i++)); do
		printf '%s %s ' "ctlbtx$i" "$BENCH_PKT_RX_MAC"
	done
}

# bench_pkt_start TAG NS CMD...: run CMD in NS in the background (at most 600 s), its
# stdin a FIFO this shell holds open, its stdout in $BENCH_TMP/TAG.out and stderr in
# $BENCH_TMP/TAG.err; return once CMD has printed a line starting with "ready" (at
# most 20 s), or fail with 1 and the message in FAIL_MSG.
bench_pkt_start()
{
	local tag=$1 ns=$2 fifo=$BENCH_TMP/$1.in out=$BENCH_TMP/$1.out i fd
	shift 2
	rm -f "$fifo" && mkfifo "$fifo" || bench_die "cannot create the FIFO '$fifo'"
	: >"$out"
	timeout -k 2 600 ip netns exec "$ns" "$@" <"$fifo" >"$out" 2>"$BENCH_TMP/$tag.err" &
	_BENCH_PKT_PID[$tag]=$!
	exec {fd}>"$fifo"	# opens once CMD's side has: then both go on
	_BENCH_PKT_FD[$tag]=$fd
	for i in $(seq 1000); do
		grep -q '^ready' "$out" && return 0
		kill -0 "${_BENCH_PKT_PID[$tag]}" 2>/dev/null || break
		sleep 0.02
	done
	FAIL_MSG="'$*' did not get ready: $(head -c 600 "$BENCH_TMP/$tag.err")"
	bench_pkt_stop "$tag"
	return 1
}

# bench_pkt_stop TAG: write a line to TAG's stdin, close it, and wait for it; returns
# its exit status. Its output stays in $BENCH_TMP/TAG.out.
bench_pkt_stop()
{
	local tag=$1 fd=${_BENCH_PKT_FD[$1]} status
	# in a subshell: if TAG has gone already, SIGPIPE ends that and not this shell
	(echo stop >&"$fd") 2>/dev/null
	exec {fd}>&-
	wait "${_BENCH_PKT_PID[$tag]}"
	status=$?
	unset "_BENCH_PKT_PID[$tag]" "_BENCH_PKT_FD[$tag]"
	return "$status"
}

# bench_pkt_stop_all: stop every helper bench_pkt_start started and has not stopped.
bench_pkt_stop_all()
{
	local tag
	for tag in "${!_BENCH_PKT_PID[@]}"; do
		bench_pkt_stop "$tag"
	done
	return 0
}

# bench_pkt_prog_id NS DEV: the id of the first program on DEV in NS, at XDP or TC (empty if none).
bench_pkt_prog_id()
{
	ip netns exec "$1" bpftool -j net show dev "$2" 2>/dev/null |
		grep -o '"id":[0-9]*' | head -n 1 | cut -d: -f2
}

# bench_pkt_flood N FIRST CPU NAME...: the timed run: N new flows (tuples from FIRST)
# from CPU to the first receivers in turns (pkt_udpflood), NAME... naming them in
# order. Sets WALL[NAME] (the caller's associative array) to the ns the sender spent on
# that receiver's packets, and checks that its veth received exactly N packets; 0, or 1
# with FAIL_MSG. OUT keeps pkt_udpflood's output (a line per receiver).
bench_pkt_flood()
{
	local n=$1 first=$2 cpu=$3 i name line cnt rx0=() targets=() names
	shift 3
	names=("$@")
	for i in "${!names[@]}"; do
		rx0[i]=$(bench_pkt_rx_packets "${BENCH_PKT_RXS[i]}")
		targets+=("ctlbtx$i" "$BENCH_PKT_RX_MAC")
	done
	bench_run "$BENCH_PKT_TX" taskset -c "$cpu" "$BENCH_BIN/pkt_udpflood" "$n" "$first" 0 \
		"${targets[@]}"
	((RC == 0)) || bench_failed "pkt_udpflood" || return
	for i in "${!names[@]}"; do
		name=${names[i]}
		line=$(bench_pkt_line "$OUT" "ctlbtx$i")
		WALL[$name]=$(bench_pkt_field "$line" in)
		[[ -n "${WALL[$name]}" ]] || bench_failed "pkt_udpflood (no time for ctlbtx$i)" || return
		cnt=$(($(bench_pkt_rx_packets "${BENCH_PKT_RXS[i]}") - rx0[i]))
		if ((cnt != n)); then
			FAIL_MSG="$name's veth received $cnt packets of $n sent"
			return 1
		fi
	done
}

# bench_pkt_counts_are WHAT N...: receiver i holds exactly N_i conntrack entries, for
# each N given (bench_count_is, its FAIL_MSG saying "WHAT, CONTENDERS[i]": the caller's
# array naming the receivers); 0, or 1 with FAIL_MSG.
bench_pkt_counts_are()
{
	local what=$1 i want
	shift
	want=("$@")
	for i in "${!want[@]}"; do
		bench_count_is "${BENCH_PKT_RXS[i]}" "${want[i]}" "$what, ${CONTENDERS[i]}" || return
	done
}

# bench_pkt_prog_times N FIRST FLOWS CPU 'I...' NAME...: each program alone, from
# bpf_stats, over N further packets (tuples from FIRST; FLOWS as pkt_udpflood takes it,
# 0 for N new flows) sent from CPU in turns to the receivers numbered I... (e.g. "0 3"),
# NAME... naming them in order: not in the timed run, where the statistics' clock reads
# would add. Sets PROG[NAME] (the caller's associative array) to the program's
# run_time_ns over the N runs; 0, or 1 with FAIL_MSG (a run count other than N too).
bench_pkt_prog_times()
{
	local n=$1 first=$2 flows=$3 cpu=$4 i rx name id line cnt ids=() targets=() rxs names
	read -r -a rxs <<<"$5"
	shift 5
	names=("$@")
	((${#rxs[@]} == ${#names[@]})) || bench_die "bench_pkt_prog_times: ${#rxs[@]} receivers, ${#names[@]} names"
	for i in "${!names[@]}"; do
		rx=${rxs[i]}
		id=$(bench_pkt_prog_id "${BENCH_PKT_RXS[rx]}" "$BENCH_PKT_RX_DEV")
		[[ -n "$id" ]] || { FAIL_MSG="no program on ${names[i]}'s veth"; return 1; }
		ids+=("$id")
		targets+=("ctlbtx$rx" "$BENCH_PKT_RX_MAC")
	done
	bench_run "$BENCH_PKT_TX" "$BENCH_BIN/pkt_bpfstats" "$(IFS=,; echo "${ids[*]}")" \
		taskset -c "$cpu" "$BENCH_BIN/pkt_udpflood" "$n" "$first" "$flows" "${targets[@]}"
	((RC == 0)) || bench_failed "pkt_bpfstats with pkt_udpflood" || return
	for i in "${!names[@]}"; do
		name=${names[i]}
		line=$(grep "^bpf_stats id ${ids[i]} " <<<"$OUT")
		PROG[$name]=$(bench_pkt_field "$line" run_time_ns)
		cnt=$(bench_pkt_field "$line" run_cnt)
		if [[ "$cnt" != "$n" ]]; then
			FAIL_MSG="$name's program ran ${cnt:-?} times for $n packets: $OUT"
			return 1
		fi
	done
}

# bench_pkt_round CT_NEED N ROW WHAT CMD...: one measurement in fresh namespaces: wait
# until nf_conntrack_max holds CT_NEED (bench_ct_max_wait), make N receivers
# (bench_pkt_net), run CMD..., then stop what it started and delete the namespaces. If
# CMD failed (1 with FAIL_MSG), note in ROW that WHAT (e.g. "round 3, fill 0") is
# repeated once and do it again in new namespaces; die if it fails twice. Returns 0.
bench_pkt_round()
{
	local need=$1 n=$2 row=$3 what=$4 try
	shift 4
	for try in 1 2; do
		bench_ct_max_wait "$need"
		bench_pkt_net "$n"
		"$@" && { bench_pkt_stop_all; bench_pkt_del_net; return 0; }
		bench_pkt_stop_all
		bench_pkt_del_net
		((try == 1)) || bench_die "$what failed twice: $FAIL_MSG"
		bench_record note "$row" "repeated once: $what: $FAIL_MSG"
		bench_progress "$what failed; repeating it once"
	done
}

# bench_pkt_ctlua_counts N 'FIELD...' TAG...: stop each ctlua started as TAG
# (bench_pkt_start, bench/lua/pkt_ctlua.lua or rules.lua) and check that its ct.stats()
# counted N in each FIELD; 0, or 1 with FAIL_MSG.
bench_pkt_ctlua_counts()
{
	local n=$1 fields=$2 name out f
	shift 2
	for name in "$@"; do
		bench_pkt_stop "$name" ||
			{ FAIL_MSG="$name failed: $(head -c 600 "$BENCH_TMP/$name.err")"; return 1; }
		out=$(<"$BENCH_TMP/$name.out")
		for f in $fields; do
			[[ "$(bench_pkt_field "$out" "$f")" == "$n" ]] && continue
			FAIL_MSG="$name counted $f $(bench_pkt_field "$out" "$f"), expected $n: $out"
			return 1
		done
	done
}

# bench_run NS CMD...: run CMD in NS, at most $BENCH_LIMIT s (180 unless set);
# its stdout in OUT, its status in RC, its stderr in $BENCH_TMP/stderr. --foreground
# keeps CMD in this process group, so Ctrl-C reaches it at once.
bench_run()
{
	local ns=$1
	shift
	OUT=$(timeout --foreground -k 2 "${BENCH_LIMIT:-180}" ip netns exec "$ns" "$@" \
		2>"$BENCH_TMP/stderr")
	RC=$?
}

# bench_failed WHAT: show what the last bench_run printed, keep the first line
# in FAIL_MSG, return 1.
bench_failed()
{
	FAIL_MSG="$1 failed (exit status $RC)"
	{
		echo "bench: $FAIL_MSG"
		[[ -n "$OUT" ]] && printf '  stdout: %s\n' "${OUT//$'\n'/$'\n'  stdout: }"
		sed 's/^/  stderr: /' "$BENCH_TMP/stderr"
	} >&2
	return 1
}

# bench_count_is NS N WHAT: NS holds exactly N conntrack entries, or FAIL_MSG and 1.
bench_count_is()
{
	local got
	got=$(bench_ct_count "$1")
	[[ "$got" == "$2" ]] && return 0
	FAIL_MSG="$3: '$1' holds ${got:-no answer from conntrack -C} entries, expected $2"
	echo "bench: $FAIL_MSG" >&2
	return 1
}

# bench_pkt_field TEXT NAME: the word after the first NAME in TEXT (empty if none).
bench_pkt_field()
{
	awk -v w="$2" '{ for (i = 1; i < NF; i++) if ($i == w) { print $(i + 1); exit } }' <<<"$1"
}

# bench_pkt_line TEXT WORD: the first line of TEXT that holds the word WORD.
bench_pkt_line()
{
	awk -v w="$2" '{ for (i = 1; i <= NF; i++) if ($i == w) { print; exit } }' <<<"$1"
}

# bench_pkt_median WORD...: median, min and max of the numbers given, as
# "M [MIN..MAX]" with one decimal.
bench_pkt_median()
{
	printf '%s\n' "$@" | sort -g | awk '{ v[++n] = $1 }
		END { if (!n) { print "-"; exit }
		      printf "%.1f [%.1f..%.1f]", (n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2), v[1], v[n] }'
}
