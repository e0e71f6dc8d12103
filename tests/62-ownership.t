#!/bin/bash
# 62-ownership.t - ctlua knows what is its own: its filter sits at pref 50970 handle 0xc71a
# and runs a ctlua_* program; one ctlua owns an interface and direction at a time (a
# second is refused with the first's pid and policy, unless it takes over); a filter left
# by a ctlua killed with -9 is refused or removed, never stacked; exit (normal, SIGTERM,
# the watchdog) removes exactly what ctlua made and nothing of anyone else's.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/policy_jobs.sh

pair_test_setup

RUNDIR=/run/ctlua
NETNS_INO=$(stat -L -c %i "/run/netns/$NS_A")
IFINDEX=$(ip -n "$NS_A" -o link show "$IF_A" | cut -d: -f1)
RECORD=$RUNDIR/tc-$NETNS_INO-$IFINDEX-ingress
TMP=$(realpath "$TEST_TMP")	# policies are recorded by their real path

filters() { tc -n "$NS_A" filter show dev "$IF_A" "${1:-ingress}"; }
qdiscs() { tc -n "$NS_A" qdisc show dev "$IF_A"; }
# Program ids of the filters at ctlua's place on DIR (ingress), one a line.
place_ids() { filters "${1:-ingress}" | sed -n 's/.* handle 0xc71a ctlua_[a-z0-9_]*:\[\([0-9]*\)\].*/\1/p'; }
# How many bpf filters are on DIR.
nbpf() { filters "${1:-ingress}" | grep -c 'direct-action'; }
# Records and qdisc markers of this test's namespace under /run/ctlua.
records() { find "$RUNDIR" -name "*-$NETNS_INO-*" -printf '%f\n' 2>/dev/null | sort; }
nothing_left()
{
	unlike "$(filters ingress)$(filters egress)" 'bpf' "$1: no filter of ctlua's is left"
	unlike "$(qdiscs)" clsact "$1: nor the clsact qdisc ctlua created"
	is "$(records)" "" "$1: nor a record under $RUNDIR"
}

# --- the place, the name, the record -------------------------------------------------

policy a "local l = assert(ct.attach('$IF_A'))
print('attached') io.stdout:flush()
while l.attached do ct.poll(50) end
print('lost', l.attached, l:detach(), tostring(l))"
start a
A_ID=$(place_ids)
like "$A_ID" '^[0-9]+$' "ctlua's filter sits at pref 50970 handle 0xc71a and runs ctlua_ingress"
like "$(filters)" "filter protocol all pref 50970 bpf chain 0 handle 0xc71a ctlua_ingress:\[$A_ID\] direct-action" \
	"tc filter show names it: pref 50970, handle 0xc71a, ctlua_ingress:[id]"
is "$(stat -c '%a %U %F' "$RUNDIR")" "700 root directory" "$RUNDIR is root's, mode 0700"
is "$(cat "$RECORD")" "pid ${PID[a]}
prog_id $A_ID
ifname $IF_A
dir ingress
policy $TMP/a.lua" "the record names the owner's pid, program id, hook and policy"

# --- a second instance is refused, naming the first ------------------------------------

ctlua_run "$NS_A" 10 -e "print(ct.attach('$IF_A'))"
is "$OUT" "nil	EBUSY: '$IF_A' ingress is enforced by ctlua pid ${PID[a]} (policy $TMP/a.lua); ct.attach('$IF_A', {takeover=true}) or --take-over replaces it	16" \
	"a second ctlua on the same hook is refused with the first's pid and policy" || show_ctlua
is "$(place_ids)" "$A_ID" "  and the first one's filter is untouched, alone"
ctlua_run "$NS_A" 10 -e "print(ct.attach('$IF_A', {dir = 'egress'})); os.execute('tc filter show dev $IF_A egress | grep -c direct-action')"
is "$OUT" "link $IF_A egress
1" "the other direction of the same interface is a hook of its own" || show_ctlua

# --- the shell follows the same rules ------------------------------------------------

OUT=$(printf '%s\n' "print(ct.attach('$IF_A'))" | ip netns exec "$NS_A" timeout 10 "$CTLUA" 2>&1)
is "$OUT" "nil	EBUSY: '$IF_A' ingress is enforced by ctlua pid ${PID[a]} (policy $TMP/a.lua); ct.attach('$IF_A', {takeover=true}) or --take-over replaces it	16" \
	"the interactive shell is refused the same way"

# --- take over: the first reports attached == false, its exit leaves the second's -------

policy b "local l = assert(ct.attach('$IF_A', {takeover = true}))
print('attached') io.stdout:flush()
print(ct.run())"
start b
B_ID=$(place_ids)
isnt "$B_ID" "$A_ID" "takeover=true replaces the first one's filter with its own"
is "$(nbpf)" 1 "  in its place: one filter, not two"
finish a
is "$RC $OUT" "0 PID ${PID[a]}
attached
lost	false	true	link $IF_A ingress (detached)" \
	"the first one's link.attached turns false; its detach says true and removes nothing" ||
	show_ctlua
is "$(place_ids)" "$B_ID" "after the first one exits, the second one's filter is still on"
like "$(qdiscs)" 'qdisc clsact' "  and so is the clsact qdisc under it"
is "$(sed -n 1p "$RECORD")" "pid ${PID[b]}" "  and the record names the second one"

# --take-over on the command line does the same; the one it replaced exits cleanly.
ctlua_run "$NS_A" 10 --take-over -e "local l = assert(ct.attach('$IF_A')); print(l.attached)"
is "$RC $OUT" "0 true" "--take-over replaces a living owner's filter" || show_ctlua
finish b TERM
is "$RC $OUT" "0 PID ${PID[b]}
attached
signal" "SIGTERM ends the one that was taken over" || show_ctlua
nothing_left "after both"

# --- A exits while B runs on the same interface --------------------------------------

policy a "assert(ct.attach('$IF_A')) print('attached') io.stdout:flush() print(ct.run())"
policy b "assert(ct.attach('$IF_A', {dir = 'egress'})) print('attached') io.stdout:flush() print(ct.run())"
start a
start b
finish a TERM
is "$RC" 0 "A (ingress, which created clsact) ends on SIGTERM" || show_ctlua
is "$(nbpf ingress)" 0 "A's filter is gone"
like "$(place_ids egress)" '^[0-9]+$' "B's filter (egress) stays"
like "$(qdiscs)" 'qdisc clsact' "  and so does the clsact qdisc"
finish b TERM
is "$RC" 0 "then B ends on SIGTERM" || show_ctlua
nothing_left "after A and B"

# --- others' filters on the clsact ctlua created survive ctlua's exit ----------------

for dir in ingress egress; do
	policy a "assert(ct.attach('$IF_A')) print('attached') io.stdout:flush() print(ct.run())"
	start a
	ok_run "a foreign filter (u32) on $dir" \
		tc -n "$NS_A" filter add dev "$IF_A" "$dir" pref 100 u32 match u32 0 0
	ok_run "and a foreign bpf filter on $dir" \
		tc -n "$NS_A" filter add dev "$IF_A" "$dir" pref 200 bpf bytecode '1,6 0 0 4294967295,'
	finish a TERM
	is "$RC" 0 "ctlua ends on SIGTERM" || show_ctlua
	is "$(place_ids)" "" "  its own filter is gone"
	like "$(filters "$dir")" 'pref 100 u32' "  the foreign u32 filter on $dir is still there"
	like "$(filters "$dir")" 'pref 200 bpf chain 0 handle 0x1 not_in_hw bytecode' \
		"  and so is the foreign bpf one"
	like "$(qdiscs)" 'qdisc clsact' "  and so is the clsact qdisc ctlua created"
	tc -n "$NS_A" filter del dev "$IF_A" "$dir" pref 100
	tc -n "$NS_A" filter del dev "$IF_A" "$dir" pref 200
	# the empty qdisc is still ctlua's: the next ctlua to leave it empty removes it
	ctlua_run "$NS_A" 10 -e "assert(ct.attach('$IF_A'))"
	is "$RC" 0 "a later ctlua on that interface exits" || show_ctlua
	nothing_left "after the foreign filter went ($dir)"
done

# A foreign filter at ctlua's own place is never replaced, whatever the options say.
tc -n "$NS_A" qdisc add dev "$IF_A" clsact
ok_run "a classic BPF filter of someone else's at pref 50970 handle 0xc71a" \
	tc -n "$NS_A" filter add dev "$IF_A" ingress pref 50970 handle 0xc71a bpf bytecode '1,6 0 0 4294967295,'
ctlua_run "$NS_A" 10 -e "print(ct.attach('$IF_A', {takeover = true, orphans = 'remove'}))"
is "$OUT" "nil	EEXIST: '$IF_A' ingress has a filter that is not ctlua's at ctlua's place (pref 50970 handle 0xc71a: bpf); remove it or move it elsewhere	17" \
	"a foreign filter at ctlua's place is refused, also with takeover and orphans=\"remove\"" ||
	show_ctlua
like "$(filters)" "pref 50970 bpf chain 0 handle 0xc71a not_in_hw bytecode" "  and stays"
tc -n "$NS_A" qdisc del dev "$IF_A" clsact
is "$(records)" "" "  and the refused attach leaves no record"

# --- the watchdog removes exactly ctlua's, too ----------------------------------------

mkfifo "$TMP/fifo"
policy a "assert(ct.attach('$IF_A')) print('attached') io.stdout:flush()
io.open('$TMP/fifo')	-- blocks in open(2): no hook can stop it, the watchdog must"
start a
tc -n "$NS_A" filter add dev "$IF_A" egress pref 100 u32 match u32 0 0
finish a TERM
is "$RC" 143 "a ctlua stuck in a system call is ended by the watchdog" || show_ctlua
is "$(nbpf)" 0 "  which removes ctlua's filter"
like "$(filters egress)" 'pref 100 u32' "  and leaves the foreign one"
like "$(qdiscs)" 'qdisc clsact' "  and the clsact qdisc it is on"
is "$(records)" "qdisc-$NETNS_INO-$IFINDEX" "  and no record but the qdisc's, still ctlua's"
tc -n "$NS_A" filter del dev "$IF_A" egress pref 100
ctlua_run "$NS_A" 10 -e "assert(ct.attach('$IF_A'))"
nothing_left "after the watchdog's"

# --- kill -9, then restart: the orphan is refused, then removed ------------------------

policy k "assert(ct.attach('$IF_A')) print('attached') io.stdout:flush() print(ct.run())"
start k
K_ID=$(place_ids)
finish k KILL
is "$RC" 137 "kill -9 ends ctlua with its filter on"
is "$(place_ids)" "$K_ID" "  the orphan goes on enforcing"

policy r "print(ct.attach('$IF_A'))"
ctlua_run "$NS_A" 10 "$TMP/r.lua"
is "$OUT" "PID ${OUT#PID }" "(the restart printed its pid)"
is "$(sed 1d <<<"$OUT")" "nil	EEXIST: '$IF_A' ingress has a filter left by a ctlua that no longer runs (program id $K_ID, pid ${PID[k]}, policy $TMP/k.lua); ct.attach('$IF_A', {orphans=\"remove\"}) or --orphans=remove removes it	17" \
	"a restart refuses to stack a second filter beside the orphan, naming it" || show_ctlua
is "$(place_ids) $(nbpf)" "$K_ID 1" "  and the orphan is alone, untouched"

start k --orphans=remove
R_ID=$(place_ids)
isnt "$R_ID" "$K_ID" "--orphans=remove replaces the orphan"
is "$(nbpf)" 1 "  exactly one filter is on the hook"
is "$(sed -n 1p "$RECORD")" "pid ${PID[k]}" "  and the record is the new owner's"
finish k TERM
is "$RC" 0 "SIGTERM ends it" || show_ctlua
nothing_left "after SIGTERM"

# An orphan without its record (someone cleared /run), and the Lua option.
start k
K_ID=$(place_ids)
finish k KILL
rm -f "$RECORD"
ctlua_run "$NS_A" 10 -e "print(ct.attach('$IF_A'))"
is "$OUT" "nil	EEXIST: '$IF_A' ingress has a filter left by a ctlua that no longer runs (program id $K_ID, no record of its owner); ct.attach('$IF_A', {orphans=\"remove\"}) or --orphans=remove removes it	17" \
	"an orphan with no record is still recognized by its place and name" || show_ctlua
ctlua_run "$NS_A" 10 -e "local l = assert(ct.attach('$IF_A', {orphans = 'remove'}))
os.execute('tc filter show dev $IF_A ingress | grep -c direct-action')"
is "$RC $OUT" "0 1" "ct.attach{orphans=\"remove\"} removes it: one filter while it runs" ||
	show_ctlua
nothing_left "after the option's run"

# --- misuse ---------------------------------------------------------------------------

ctlua_run "$NS_A" 10 -e "ct.attach('$IF_A', {orphans = 'adopt'})"
like "$ERR" "^ctlua: \(command line\):1: bad argument #2 to 'attach' \(orphans=\"adopt\" needs pinned maps \(--pin DIR or ct.config\{pin=DIR\}\): a filter is adopted with the state it runs on\)" \
	"orphans=\"adopt\" without pins is refused: there is no state to adopt" || show_ctlua
ctlua_run "$NS_A" 10 -e "ct.attach('$IF_A', {orphans = 'keep'})"
like "$ERR" "^ctlua: \(command line\):1: bad argument #2 to 'attach' \(field 'orphans': invalid option 'keep'\)" \
	"an unknown orphans value is misuse" || show_ctlua
ctlua_run "$NS_A" 10 -e "ct.attach('$IF_A', {takeover = 1})"
like "$ERR" "^ctlua: \(command line\):1: bad argument #2 to 'attach' \(field 'takeover': expected a boolean, got number\)" \
	"takeover must be a boolean" || show_ctlua
ctlua_run "$NS_A" 10 --orphans=adopt -e "print(1)"
is "$RC $ERR" "2 ctlua: --orphans=adopt needs --pin DIR: a filter is adopted with the state it runs on" \
	"--orphans=adopt without --pin is refused the same way, exit status 2"
ctlua_run "$NS_A" 10 --orphans=maybe -e "print(1)"
is "$RC $ERR" "2 ctlua: --orphans wants 'refuse', 'remove' or 'adopt', not 'maybe'" "--orphans=maybe is a usage error"
nothing_left "after misuse"

# Twice in one process: the second link would shadow the first.
ctlua_run "$NS_A" 10 -e "local l = assert(ct.attach('$IF_A')); print(ct.attach('$IF_A'))
local t = assert(ct.attach('$IF_A', {takeover = true})); print(l.attached, t.attached)"
is "$OUT" "nil	EBUSY: '$IF_A' ingress is already attached by this ctlua; detach that link first, or ct.attach('$IF_A', {takeover=true}) replaces it	16
false	true" "a second attach in the same ctlua is refused; takeover moves the hook to the new link" ||
	show_ctlua
nothing_left "at the end"

# --- a packet ctlua lets through goes on to the filters after it -------------------------------
# Someone else's program at a larger pref drops everything it sees: a flow that ctlua
# passes reaches it (ctlua's program does not end the classification), one ctlua drops
# does not need it. Without that program the same packets arrive.
clang -O2 -target bpf -c tests/lib/tc_drop_all.bpf.c -o "$TEST_TMP/drop_all.o" 2>"$TEST_TMP/clang.err"
ok $? "someone else's TC program builds" || diag "$(cat "$TEST_TMP/clang.err")"
udp_listen "$NS_A" 7002
# (the program drops ARP too: B must know A's address without asking)
ip -n "$NS_B" neigh replace "$ADDR_A" dev "$IF_B" \
	lladdr "$(ip -n "$NS_A" -o link show "$IF_A" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')"
policy p "assert(ct.attach('$IF_A'))
print('attached') io.stdout:flush()
ct.run(30)
local s = ct.stats() print('passes', s.passes)"
start p
ok_run "someone else's filter at pref 60000 after ctlua's" \
	tc -n "$NS_A" filter add dev "$IF_A" ingress pref 60000 bpf obj "$TEST_TMP/drop_all.o" sec tc da
for i in 1 2 3; do udp_send "$NS_B" "$ADDR_A" 7002 "" "first-$i" >/dev/null 2>&1; done
sleep 0.3
is "$(cat "$LISTEN_OUT")" "" "  a flow ctlua passes is seen by the filter after it, which drops it"
tc -n "$NS_A" filter del dev "$IF_A" ingress pref 60000
udp_send "$NS_B" "$ADDR_A" 7002 "" "second" >/dev/null 2>&1
sleep 0.3
is "$(cat "$LISTEN_OUT")" "second" "  without that filter the same flow arrives"
finish p TERM
like "$OUT" "passes	[1-9]" "  ctlua saw and passed those packets" || show_ctlua

rm -f "$RUNDIR"/*-"$NETNS_INO"-*	# whatever a failed check left
done_testing
