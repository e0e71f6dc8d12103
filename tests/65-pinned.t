#!/bin/bash
# 65-pinned.t - pinned state (--pin DIR): verdicts and counters survive kill -9 and a
# restart; a policy that keeps enforcing while no ctlua runs leaves one filter on the
# pinned maps (real packets still follow its rules), and the next start adopts it in one
# step; a fail-open stop leaves no filter and keeps the pins; pins whose layout differs
# (another value size, a wrong signature, another --verdicts) are discarded with one
# message, never used; the refusals name why; the limit slots of a reload killed
# before its commit are freed at the next start.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/policy_jobs.sh

pair_test_setup

pin_dir	# PIN, removed at exit; ctlua runs through nsenter to see it
RUNDIR=/run/ctlua
LIM_NAME=testlim$$	# the killed service's name: its control socket stays behind
NETNS_INO=$(stat -L -c %i "/run/netns/$NS_A")
# shellcheck disable=SC2317 # called by the EXIT trap
_pin_cleanup()
{
	local status=$?

	(exit "$status")
	_ns_cleanup
	find "$RUNDIR" -name "*-$NETNS_INO-*" -delete 2>/dev/null
	rm -f "$RUNDIR/$LIM_NAME.sock"
	return "$status"
}
trap _pin_cleanup EXIT
TMP=$TEST_TMP
ct_hooks "$NS_A"

filters() { tc -n "$NS_A" filter show dev "$IF_A" ingress; }
place_ids() { filters | sed -n 's/.* handle 0xc71a ctlua_[a-z0-9_]*:\[\([0-9]*\)\].*/\1/p'; }
nbpf() { filters | grep -c 'direct-action'; }
pins() { find "$PIN" -mindepth 1 -printf '%f\n' 2>/dev/null | sort | tr '\n' ' '; }
pin_id() { bpftool map show pinned "$PIN/$1" 2>/dev/null | sed -n 's/^\([0-9]*\): .*/\1/p'; }
ALL_PINS="ctl_config ctl_counts ctl_lbuckets ctl_lcounts ctl_limits ctl_pin_sig ctl_policy ctl_rules ctl_set4 ctl_set6 ctl_set_h4 ctl_set_h6 ctl_set_kinds ctl_set_ports ctl_stats ctl_verdicts "
# The conntrack entries of NS_A for udp to port $1, as conntrack -L prints them.
entries() { ip netns exec "$NS_A" conntrack -L -p udp --dport "$1" 2>/dev/null; }

FLOW="ct.tuple{src = '$ADDR_B', dst = '$ADDR_A', sport = 40000, dport = 5353, proto = 'udp'}"

# --- a verdict and the counters survive kill -9 and a restart -------------------------

policy v "assert(ct.attach('$IF_A'))
assert(ct.verdict($FLOW, 'drop'))
assert(ct.sync())
print('attached') io.stdout:flush()
ct.run()"
start v --pin "$PIN"
is "$(pins)" "$ALL_PINS" "--pin pins the state maps and the layout signature, nothing else"
is "$(stat -c '%a' "$PIN")" 700 "the pin directory is made mode 0700"
udp_listen "$NS_A" 5353
udp_send "$NS_B" "$ADDR_A" 5353 40000 one
udp_send "$NS_B" "$ADDR_A" 5353 40000 two
sleep 0.2
is "$(cat "$LISTEN_OUT")" "" "the verdict drops the flow's packets"
V_ID=$(place_ids)
VERDICTS_ID=$(pin_id ctl_verdicts)
finish v KILL
is "$RC" 137 "kill -9 ends ctlua with its filter on"
is "$(nbpf)" 1 "its filter stays, enforcing on the pinned maps"

policy r "assert(ct.attach('$IF_A'))
print('verdict', ct.verdict($FLOW))
print('drops', ct.stats().drops, 'by_verdict', ct.stats().by_verdict)
print('sources.verdict', ct.stats().sources.verdict.dropped)
print('attached') io.stdout:flush()
ct.run()"
start r --pin "$PIN"
like "$(cat "${OUTF[r]}")" $'verdict\tdrop' "after kill -9 and a restart, the verdict is there"
like "$(cat "${OUTF[r]}")" $'drops\t2\tby_verdict\t2' "and the counters go on from where they were"
like "$(cat "${OUTF[r]}")" $'sources.verdict\t2' "  ct.verdict's source too (ctl_counts is pinned)"
R_ID=$(place_ids)
is "$(nbpf)" 1 "the restart adopts the orphan: one filter, never two"
isnt "$R_ID" "$V_ID" "the filter runs the new program (id $V_ID, now $R_ID)"
is "$(pin_id ctl_verdicts)" "$VERDICTS_ID" "on the same pinned verdict map"
like "$(cat "${ERRF[r]}")" "^ctlua: $IF_A ingress: adopted the filter left enforcing on the state pinned in $PIN \\(program id $V_ID, now $R_ID\\)\$" \
	"the adoption is said on stderr"
udp_send "$NS_B" "$ADDR_A" 5353 40000 three
sleep 0.2
is "$(cat "$LISTEN_OUT")" "" "the adopted program still drops the flow"
finish r TERM
is "$RC" 0 "SIGTERM ends it (ct.run returns \"signal\", the script ends)"
is "$(filters)" "" "fail-open (the default): SIGTERM removes the filter"
unlike "$(tc -n "$NS_A" qdisc show dev "$IF_A")" clsact "and the clsact qdisc ctlua created"
is "$(pins)" "$ALL_PINS" "the pins stay for the next start"
is "$(pin_id ctl_verdicts)" "$VERDICTS_ID" "the same maps"

# --- keep enforcing while no ctlua runs, then adopt ------------------------------------

policy k "ct.config{when_stopped = 'enforce'}
assert(ct.forget($FLOW))
assert(ct.policy{default = {action = 'alloc', mark = 77, timeout = 60000}})
assert(ct.attach('$IF_A'))
print('attached') io.stdout:flush()
ct.run()"
start k --pin "$PIN"
K_ID=$(place_ids)
finish k TERM
is "$ERR" "ctlua: $IF_A ingress: left enforcing the last policy (pinned in $PIN); the next ctlua with --pin $PIN adopts it" \
	"SIGTERM of a keep-enforcing policy says what it leaves"
is "$(nbpf)" 1 "exactly one filter stays"
is "$(place_ids)" "$K_ID" "its own, at ctlua's place"
is "$(pins)" "$ALL_PINS" "and its pins"
is "$(sed -n 's/^prog_id //p' "$RUNDIR/tc-$NETNS_INO-$(ip -n "$NS_A" -o link show "$IF_A" | cut -d: -f1)-ingress")" "$K_ID" \
	"its ownership record stays, naming the program left on the hook"
: >"$LISTEN_OUT"
udp_send "$NS_B" "$ADDR_A" 5353 40001 four
sleep 0.2
is "$(cat "$LISTEN_OUT")" "four" "with no ctlua running, packets go on"
like "$(entries 5353)" "sport=40001 dport=5353 .*mark=77 " \
	"and follow the left policy: the entry was made by the program (mark=77)"

policy a "assert(ct.attach('$IF_A'))
print('policy', ct.default())
print('alloc_ok', ct.stats().alloc_ok)
print('default decided', ct.stats().sources.default.decided)
print('attached') io.stdout:flush()
ct.run()"
start a --pin "$PIN"
A_ID=$(place_ids)
is "$(nbpf)" 1 "the next start adopts the left filter: one filter"
isnt "$A_ID" "$K_ID" "running the new program (id $K_ID, now $A_ID)"
like "$(cat "${OUTF[a]}")" $'policy\talloc' "the pinned policy is in force until the new one changes it"
like "$(cat "${OUTF[a]}")" $'alloc_ok\t1' "the counters kept what happened while no ctlua ran"
like "$(cat "${OUTF[a]}")" $'default decided\t1' "  the live slot's counts too: the left default decided that flow"
like "$(cat "${ERRF[a]}")" "adopted the filter left enforcing on the state pinned in $PIN \\(program id $K_ID, now $A_ID\\)" \
	"and says so"
finish a TERM
is "$(filters)" "" "a fail-open stop after adopting leaves no filter"
is "$(pins)" "$ALL_PINS" "and keeps the pins"

# --- misuse and refusals ----------------------------------------------------------------

policy e "ct.config{when_stopped = 'enforce'}"
ctlua_run "$NS_A" 10 "$TMP/e.lua"
is "$RC" 1 "when_stopped='enforce' without pins fails"
like "$ERR" "bad argument #1 to '(ct\\.)?config' \\(field 'when_stopped': \"enforce\" needs pinned maps \\(--pin DIR or ct.config\\{pin=DIR\\}\\): without them the next ctlua cannot adopt the filter\\)" \
	"naming why"
ctlua_run "$NS_A" 10 -e "ct.config{pin = '$PIN', when_stopped = 'enforce'} print(ct.config().when_stopped, ct.config().pin)"
is "$OUT" $'enforce\t'"$PIN" "with ct.config{pin=} in the same call it is accepted"
ctlua_run "$NS_A" 10 --orphans=adopt -e "print(1)"
is "$RC" 2 "--orphans=adopt without --pin is a usage error"
is "$ERR" "ctlua: --orphans=adopt needs --pin DIR: a filter is adopted with the state it runs on" "naming why"
ctlua_run "$NS_A" 10 -e "ct.attach('$IF_A', {orphans = 'adopt'})"
like "$ERR" "bad argument #2 to 'ct.attach' \\(orphans=\"adopt\" needs pinned maps \\(--pin DIR or ct.config\\{pin=DIR\\}\\): a filter is adopted with the state it runs on\\)" \
	"ct.attach's orphans='adopt' without pins raises"
ctlua_run "$NS_A" 10 -e "ct.stats() ct.config{pin = '$PIN'}"
like "$ERR" "bad argument #1 to '(ct\\.)?config' \\(field 'pin': the datapath is loaded already, without pins; set it before the first call that loads the datapath\\)" \
	"pin after the datapath loaded raises"

policy hold "assert(ct.attach('$IF_A'))
print('attached') io.stdout:flush()
ct.run()"
start hold --pin "$PIN"
ctlua_run "$NS_A" 10 --pin "$PIN" -e "assert(ct.stats())"
like "$ERR" "EBUSY: the state pinned in '$PIN' is in use by another ctlua" \
	"a second ctlua on the same pins is refused"
finish hold KILL
ctlua_run "$NS_A" 10 -e "assert(ct.attach('$IF_A', {orphans = 'remove'}))"
is "$RC" 0 "(an unpinned ctlua removes the orphan)"
start hold
finish hold KILL
ORPHAN=$(place_ids)
ctlua_run "$NS_A" 10 --pin "$PIN" -e "assert(ct.attach('$IF_A'))"
is "$RC" 1 "an orphan that does not run on the pins is not adopted"
like "$ERR" "EEXIST: '$IF_A' ingress has a filter left by a ctlua that no longer runs \\(program id $ORPHAN, pid [0-9]+, policy $TMP/hold.lua\\) that cannot be adopted: its program does not use the state pinned in '$PIN'; ct.attach\\('$IF_A', \\{orphans=\"remove\"\\}\\) or --orphans=remove removes it" \
	"naming why"
is "$(place_ids)" "$ORPHAN" "and it is left as it was"
ctlua_run "$NS_A" 10 --pin "$PIN" --orphans=remove -e "assert(ct.attach('$IF_A'))"
is "$RC:$(filters)" "0:" "--orphans=remove removes it"

# --- pins that do not match are discarded, never used ----------------------------------

KEY=$(bpftool map show pinned "$PIN/ctl_verdicts" | sed -n 's/.*key \([0-9]*\)B.*/\1/p')
VAL=$(bpftool map show pinned "$PIN/ctl_verdicts" | sed -n 's/.* value \([0-9]*\)B .*/\1/p')
rm "$PIN/ctl_verdicts"
bpftool map create "$PIN/ctl_verdicts" type hash key "$KEY" value 8 entries 131072 name ctl_verdicts flags 1
BAD_ID=$(pin_id ctl_verdicts)
ctlua_run "$NS_A" 10 --pin "$PIN" -e "print(ct.verdict($FLOW), ct.stats().packets)"
is "$ERR" "ctlua: the state pinned in '$PIN' does not match this ctlua ('ctl_verdicts' has keys of $KEY and values of 8 bytes, this ctlua's $KEY and $VAL): discarded it, new maps are pinned there" \
	"a map of another value size is detected, with one message"
is "$OUT" $'nil\t0' "the state starts empty"
isnt "$(pin_id ctl_verdicts)" "$BAD_ID" "the mismatched map is not used: a new one is pinned"
is "$(pins)" "$ALL_PINS" "with every pin and the signature"

rm "$PIN/ctl_pin_sig"
bpftool map create "$PIN/ctl_pin_sig" type array key 4 value 16 entries 1 name ctl_pin_sig
ctlua_run "$NS_A" 10 --pin "$PIN" -e "ct.stats()"
like "$ERR" "^ctlua: the state pinned in '$PIN' does not match this ctlua \\(layout signature 0000000000000000 of ABI 0, this ctlua's [0-9a-f]{16} of ABI [0-9]+\\): discarded it, new maps are pinned there\$" \
	"a signature map of the same size with another signature is detected"
ctlua_run "$NS_A" 10 --pin "$PIN" -e "ct.stats()"
is "$ERR" "" "the rebuilt pins are reused without a word"

ctlua_run "$NS_A" 10 --pin "$PIN" --verdicts 1000 -e "ct.stats()"
is "$ERR" "ctlua: the state pinned in '$PIN' does not match this ctlua (the verdict table has room for 131072, this ctlua asks for 1000 (--verdicts, ct.config{verdicts=})): discarded it, new maps are pinned there" \
	"another --verdicts is a mismatch too: rebuilt"
is "$(bpftool map show pinned "$PIN/ctl_verdicts" | grep -o 'max_entries [0-9]*')" "max_entries 1000" "at the size asked for"

rm "$PIN/ctl_pin_sig"
ctlua_run "$NS_A" 10 --pin "$PIN" --verdicts 1000 -e "ct.stats()"
is "$ERR" "ctlua: the state pinned in '$PIN' does not match this ctlua (no layout signature): discarded it, new maps are pinned there" \
	"maps without a signature (pinning stopped halfway) are rebuilt"

# --- a pinned table an earlier ctlua filled counts as full --------------------------------

ctlua_run "$NS_A" 10 --pin "$PIN" --verdicts 4 -e "for p = 1, 4 do assert(ct.verdict(ct.tuple{src = '$ADDR_B', dst = '$ADDR_A', sport = p, dport = 53, proto = 'udp'}, 'drop')) end
assert(ct.sync())"
is "$RC" 0 "four verdicts fill a pinned table of 4"
ctlua_run "$NS_A" 10 --pin "$PIN" --verdicts 4 -e "ct.config{verdict_idle = 0}
print(ct.verdict(ct.tuple{src = '$ADDR_B', dst = '$ADDR_A', sport = 9, dport = 53, proto = 'udp'}, 'drop'))
print(ct.verdict(ct.tuple{src = '$ADDR_B', dst = '$ADDR_A', sport = 2, dport = 53, proto = 'udp'}, 'alloc'))"
is "$OUT" "nil	ENOSPC: the verdict table is full (4 entries, reclaiming is off): cannot store udp $ADDR_B:9 → $ADDR_A:53 (ct.forget frees one; --verdicts or ct.config{verdicts=} sets the size)	28
true" "after a restart the host knows the pinned verdicts: a fifth is refused at once, a stored one replaced" ||
	diag "$ERR"

# --- ctlua run: a reload keeps the pins the policy chose, and detaches what it dropped ----

rm -rf "$PIN"
ip -n "$NS_A" link add pin-x type veth peer name pin-y && ip -n "$NS_A" link set pin-x up ||
	BAIL_OUT "cannot create pin-x"
SVC=$TMP/svc.lua
svc_policy()	# svc_policy LUA: the served policy, with the pins of its own ct.config
{
	printf 'ct.config{pin = "%s", when_stopped = "enforce"}\n%s\n' "$PIN" "$1" >"$SVC"
	chmod 600 "$SVC"
}
svc_policy "ct.attach('$IF_A') ct.attach('pin-x')"
ctlua_start "$NS_A" 30 run "$SVC"
SVC_JOB=$CTLUA_PID
SVC_ERR=$CTLUA_ERR
wait_line "$SVC_ERR" "running \\(generation 1\\)" 10
ok $? "a served policy that pins its state with ct.config starts" || diag "$(cat "$SVC_ERR")"
svc_pid=$(ctlua_self "$SVC_JOB")
svc_policy "ct.attach('$IF_A')"
kill -HUP "$svc_pid"
wait_line "$SVC_ERR" "running \\(generation 2\\)" 10
ok $? "a reload of the same ct.config{pin=} goes live (the pins are the running ones)" ||
	diag "$(cat "$SVC_ERR")"
is "$(tc -n "$NS_A" filter show dev pin-x ingress)" "" \
	"the interface the new policy dropped is detached, though the old one left enforcing"
unlike "$(cat "$SVC_ERR")" "left enforcing" "and nothing is said to be left enforcing"
kill -TERM "$svc_pid"
{ wait "$SVC_JOB"; RC=$?; } 2>/dev/null
is "$RC" 0 "the service stops with 0"
like "$(cat "$SVC_ERR")" "left enforcing the last policy" \
	"and at its stop leaves $IF_A enforcing, as its policy chose"
is "$(nbpf)" 1 "one filter left on $IF_A"
ctlua_run "$NS_A" 10 --pin "$PIN" --orphans=remove -e "local l = assert(ct.attach('$IF_A')) assert(l:detach())"
is "$RC" 0 "which a later ctlua removes" || diag "$ERR"
ip -n "$NS_A" link del pin-x

# --- limit slots a killed reload took are freed at the next start -----------------------
# generation 1 goes live with one limit; the reload takes two more while staged and is
# killed before its commit: the next ctlua on the pins keeps the live one, frees the rest
cat >"$TMP/lim.lua" <<'EOF_LUA'
ct.rule{proto = "udp", dport = 53, action = "alloc", limit = {rate = 5, name = "live"}}
ct.timer(100, function() print("LIVE") io.stdout:flush() end)
EOF_LUA
ctlua_start "$NS_A" 30 run --name "$LIM_NAME" --pin "$PIN" "$TMP/lim.lua"
LIM_JOB=$CTLUA_PID
wait_line "$CTLUA_OUT" '^LIVE' 10
ok $? "a pinned policy with a limit goes live" || diag "$(cat "$CTLUA_ERR")"
cat >"$TMP/lim.lua" <<'EOF_LUA'
ct.rule{proto = "udp", dport = 53, action = "alloc", limit = {rate = 6, name = "staged"}}
ct.default("alloc", {limit = {rate = 7, name = "staged"}})
print("STAGED") io.stdout:flush()
os.execute("sleep 20")
EOF_LUA
lim_pid=$(ctlua_self "$LIM_JOB")
kill -HUP "$lim_pid"
wait_line "$CTLUA_OUT" '^STAGED' 10
ok $? "the reload takes its limits while staged" || diag "$(cat "$CTLUA_ERR")"
kill -KILL "$lim_pid"
{ wait "$LIM_JOB"; } 2>/dev/null
ctlua_run "$NS_A" 10 --pin "$PIN" --orphans=remove -e "local t = {}
for _, l in ipairs(ct.limits()) do t[#t + 1] = l.name .. (l.live and '+' or '-') end
print(#ct.limits(), table.concat(t, ' '))"
is "$RC $OUT" $'0 1\tlive+' \
	"the next start on the pins frees the killed reload's slots and keeps the live policy's" ||
	diag "$ERR"

done_testing
