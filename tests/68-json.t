#!/bin/bash
# 68-json.t - `ctlua run --json`: logs at each level, the events a policy selects (from
# real packets, IPv4 and IPv6) and what it prints come out as JSON lines on stdout that
# jq parses, with the fields doc/service.md ("JSON output") lists; a hostile error
# message (quotes, a newline, bytes 0x01 and 0xff) stays valid JSON; a stdout nobody
# reads drops lines and says how many, and never holds the service up; without --json
# logs stay on stderr; --json where it does not apply is refused.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/service.sh

pair_test_setup
command -v jq >/dev/null 2>&1 || skip_all "'jq' is not installed"
command -v python3 >/dev/null 2>&1 || skip_all "'python3' is not installed (the sender of many datagrams)"

nl=$'\n'
POLDIR=$TEST_TMP/policies
mkdir -m 700 "$POLDIR"
POL=$POLDIR/json.lua

# jq_is FILTER WANT NAME: the one line of $line through jq -r FILTER.
jq_is()
{
	is "$(jq -r "$1" <<<"$line" 2>&1)" "$2" "$3"
}

# event_line FILTER: the first event line of $OUTF that jq's select(FILTER) keeps.
event_line()
{
	jq -c "select(.type == \"event\" and ($1))" <"$OUTF" 2>/dev/null | head -n 1
}

# --- the command line -------------------------------------------------------------------------
ctlua_run "$NS_A" 20 --json -e 'print(1)'
is "$RC:$OUT:$ERR" "2::ctlua: --json is an option of 'ctlua run' (a script's stdout is its own)" \
	"--json with a script is refused (exit 2)"
ctlua_run "$NS_A" 20 check --json "$POL"
is "$RC:$OUT:$ERR" "2::ctlua: check does not take --json (it is an option of 'ctlua run')" \
	"ctlua check --json is refused"

# --- a policy that fails to start: its error as JSON ------------------------------------------
ctlua_run "$NS_A" 20 run --json "$TEST_TMP/nope.lua"
is "$RC" 1 "a missing policy with --json: exit 1"
is "$ERR" "" "nothing on stderr"
line=$OUT
jq_is '[.type, .level, .msg, .policy] | join("|")' \
	"log|error|policy not started: cannot open '$TEST_TMP/nope.lua': No such file or directory|$TEST_TMP/nope.lua" \
	"the error is one JSON log line with its level, message and policy"
jq_is '.time | type' number "with the time, a number"
jq_is 'keys_unsorted | join(",")' "type,time,level,msg,policy" "and exactly the fields documented, in order"

# --- a running service: events from real packets, a hostile error, print -----------------------
udp_listen "$NS_A" 5354
policy "ct.default(\"pass\")
ct.rule{proto=\"udp\", dport=5355, action=\"alloc\", timeout=30000}
ct.rule{proto=\"udp\", dport=5356, action=\"drop\"}
ct.on(\"miss\", function(ev)
	if ev.dport == 5357 then error(\"quote \\\" nl \\n ctrl \\1 ff \\255 end\", 0) end
end)
ct.on(\"alloc\", function(ev) end)
ct.watch{kind = \"drop\"}
print(\"printed \\\"by\\\" the policy\", 42)
assert(ct.attach(\"$IF_A\"))"
ctlua_start "$NS_A" 60 run --json "$POL"
OUTF=$CTLUA_OUT
wait_line "$OUTF" 'generation 1' 10
line=$(grep '"type":"print"' "$OUTF")
jq_is '[.type, .msg, .policy] | join("|")' "print|printed \"by\" the policy	42|$POL" \
	"print writes one JSON line of type print (its values tab-separated)"
line=$(grep 'generation 1' "$OUTF")
jq_is '[.type, .level, .msg] | join("|")' "log|info|policy '$POL' running (generation 1)" \
	"a log line at level info"

udp_send "$NS_B" "$ADDR_A" 5354 40001 v4-miss
udp_send "$NS_B" "$ADDR_A" 5355 40002 v4-alloc
udp_send "$NS_B" "$ADDR_A" 5356 40003 v4-drop
udp_send "$NS_B" "$ADDR6_A" 5354 40005 v6-miss
udp_send "$NS_B" "$ADDR_A" 5357 40004 hostile
wait_line "$OUTF" '"level":"error"' 5
sleep 0.3

line=$(event_line '.sport == 40001')
jq_is '[.kind, .src, .dst, .sport, .dport, .proto, .family, .ifname, .dir, .action] | join(" ")' \
	"miss $ADDR_B $ADDR_A 40001 5354 udp ipv4 $IF_A ingress pass" \
	"an IPv4 miss (default pass): kind, addresses, ports, protocol, interface, direction, action"
jq_is '.tuple' "udp $ADDR_B:40001 → $ADDR_A:5354" "its tuple, as tostring(ct.tuple) writes it"
jq_is '[.policy, .err, (.rule == null), (.errname == null), (.time | type)] | join(" ")' \
	"$POL 0 true true number" "policy, err 0, no rule nor errname (absent), the time a number"
jq_is 'keys_unsorted | join(",")' \
	"type,policy,kind,src,dst,sport,dport,proto,family,tuple,ifname,dir,action,err,time" \
	"the members, in the documented order"
now=$(date +%s)
cmp_ok "$(jq -r '.time | floor' <<<"$line")" -ge $((now - 60)) "its time is wall-clock seconds (not long ago)"
cmp_ok "$(jq -r '.time | floor' <<<"$line")" -le "$now" "  (and not in the future)"

line=$(event_line '.sport == 40002 and .kind == "miss"')
jq_is '[.kind, .src, .dst, .sport, .dport, .proto, .action, .rule] | join(" ")' \
	"miss $ADDR_B $ADDR_A 40002 5355 udp alloc 1" "a miss that rule 1 decided: kind, flow, action alloc and rule"
line=$(event_line '.sport == 40002 and .kind == "alloc"')
jq_is '[.kind, .src, .dst, .sport, .dport, .proto, .action, .rule] | join(" ")' \
	"alloc $ADDR_B $ADDR_A 40002 5355 udp alloc 1" "then its alloc event (an 'alloc' callback)"
line=$(event_line '.sport == 40003 and .kind == "drop"')
jq_is '[.kind, .src, .dst, .sport, .dport, .action, .rule] | join(" ")' \
	"drop $ADDR_B $ADDR_A 40003 5356 drop 2" "a drop by rule 2, which ct.watch selected (no callback)"
is "$(grep -c '"kind":"drop"' "$OUTF")" 1 "  written once, as JSON, not as the shell's text"
unlike "$(cat "$OUTF")" "${nl}drop " "  (no text line of ct.watch's)"
line=$(event_line '.sport == 40005')
jq_is '[.kind, .src, .dst, .sport, .dport, .family, .action] | join(" ")' \
	"miss $ADDR6_B $ADDR6_A 40005 5354 ipv6 pass" "an IPv6 miss: its addresses and family"

line=$(grep '"level":"error"' "$OUTF")
is "$(wc -l <<<"$line")" 1 "the hostile callback error is one line"
jq -e . <<<"$line" >/dev/null 2>&1; ok $? "which jq parses" || diag_text "$line"
like "$line" 'quote \\" nl \\n ctrl \\u0001 ff \\u00ff end' \
	"quote, newline and 0x01 escaped; the byte 0xff written as \\u00ff" || diag_text "$line"
jq_is '.msg | split("\n")[0]' "the 'miss' callback ($POL:4) failed: quote \" nl " \
	"its message reads back: the callback, where, and the text up to the newline"
jq_is '.msg | split("\n")[1]' " ctrl $(printf '\001') ff ÿ end" \
	"after it, 0x01 as it was, and 0xff as U+00FF (what \\u00ff means)"
jq_is '.level' error "at level error"
line=$(event_line '.sport == 40004')
jq_is '.kind' miss "the event that failed in the callback was written before it ran"

all=$(jq -c . <"$OUTF" 2>&1 >/dev/null)
is "$all" "" "every line of stdout parses as JSON"
is "$(jq -r .type <"$OUTF" | sort -u | tr '\n' ' ')" "event log print " "and is an event, a log or a print"
is "$(cat "$CTLUA_ERR")" "" "nothing on stderr"

kill -TERM "$(ctlua_self)"
ctlua_finish
is "$RC" 0 "SIGTERM: exit 0"
line=$(tail -n 1 "$OUTF")
jq_is '[.type, .level, .msg] | join("|")' "log|info|stopped" "the last line: stopped, as JSON"

# --- a stdout nobody reads: lines dropped and counted, the service not held up ----------------
policy "for i = 1, 2000 do print(string.rep(\"x\", 100)) end
assert(ct.attach(\"$IF_A\"))"
NOTIFY=$TEST_TMP/notify.sock
NOTES=$TEST_TMP/notify.log
: >"$NOTES"
python3 - "$NOTIFY" "$NOTES" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    while True:
        f.write(s.recv(4096).decode().replace("\n", " ") + "\n")
PY
for _ in $(seq 50); do [[ -S "$NOTIFY" ]] && break; sleep 0.1; done
FULL=$TEST_TMP/full.out
GO=$TEST_TMP/go
rm -f "$GO"
# the pipe's reader waits for $GO before it reads anything
bg_run "$NS_A" bash -c "env NOTIFY_SOCKET='$NOTIFY' timeout -k 2 60 '$CTLUA' run --json '$POL' \
	2>'$TEST_TMP/full.err' </dev/null | { while [[ ! -e '$GO' ]]; do sleep 0.1; done; cat >'$FULL'; }"
wait_line "$NOTES" 'READY=1' 10
like "$(cat "$NOTES")" "READY=1" "with nobody reading its stdout pipe, the service still gets ready"
touch "$GO"
sleep 0.5
kill -TERM "$(ctlua_self "$BG_PID")"	# the pipeline's
wait_line "$FULL" '"stopped"' 5
prints=$(grep -c '"type":"print"' "$FULL")
line=$(grep '"dropped"' "$FULL")
jq_is '[.type, .level] | join(" ")' "log warning" "the first line after the gap is a warning"
dropped=$(jq -r .dropped <<<"$line")
jq_is '.msg' "stdout was full: $dropped lines dropped" "  that says how many lines were dropped"
is "$((prints + dropped))" 2001 "the prints that arrived and the lines dropped add up (2000 prints and the ready line)"
cmp_ok "$prints" -gt 100 "a pipe's worth arrived whole ($prints lines)"
is "$(jq -c . <"$FULL" 2>&1 >/dev/null)" "" "no line torn: every line parses"
is "$(cat "$TEST_TMP/full.err")" "" "nothing on stderr"

# --- without --json: logs on stderr, stdout is the policy's --------------------------------------
policy "print(\"plain\")
assert(ct.attach(\"$IF_A\"))"
ctlua_start "$NS_A" 60 run "$POL"
wait_line "$CTLUA_ERR" 'generation 1' 10
udp_send "$NS_B" "$ADDR_A" 5354 40010 plain
kill -TERM "$(ctlua_self)"
ctlua_finish
is "$OUT" "plain" "without --json, stdout has what the policy printed, as it printed it"
is "$ERR" "ctlua: info: policy '$POL' running (generation 1)${nl}ctlua: info: stopping on SIGTERM: removing the filters${nl}ctlua: info: stopped" \
	"and the logs are on stderr as text"

done_testing
