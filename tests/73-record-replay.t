#!/bin/bash
# 73-record-replay.t - `ctlua run --record FILE` records the events of a real run (real
# packets, rules, a callback whose answers become verdicts, an answer applied at once),
# with a header naming the schema and its version; `ctlua replay FILE POLICY`, run as
# nobody with no capability and no kernel access, decides the recorded events exactly
# as the live run did, decision by decision, and calls the callback as it was called;
# --diff against a changed policy names the events it decides otherwise (exit 1).
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/service.sh

pair_test_setup
command -v jq >/dev/null 2>&1 || skip_all "'jq' is not installed"
command -v setpriv >/dev/null 2>&1 || skip_all "'setpriv' is not installed"

POLDIR=$TEST_TMP/policies
mkdir -m 700 "$POLDIR"
POL=$POLDIR/rec.lua
REC=$TEST_TMP/rec.jsonl

policy "ct.default(\"pass\")
ct.rule{proto=\"udp\", dport=5355, action=\"alloc\", timeout=30000}
ct.rule{proto=\"udp\", dport=5356, action=\"drop\"}
ct.on(\"miss\", function(ev)
	if ev.dport == 5360 then return \"drop\" end
	if ev.dport == 5361 then return \"alloc\", {timeout = 20000} end
end)
ct.on(\"alloc\", function(ev) end)
assert(ct.attach(\"$IF_A\"))"

# --- the command line -------------------------------------------------------------------------
ctlua_run "$NS_A" 20 check --record "$REC" "$POL"
is "$RC:$OUT:$ERR" "2::ctlua: check does not take --record (it is an option of 'ctlua run')" \
	"--record with check is refused"
ctlua_run "$NS_A" 20 --record "$REC" -e 'print(1)'
is "$RC:$OUT:$ERR" "2::ctlua: --record is an option of 'ctlua run'" "--record with a script is refused"
ctlua_run "$NS_A" 20 run --record "$TEST_TMP/no/such/dir/r.jsonl" "$POL"
is "$RC" 1 "--record into a directory that does not exist: exit 1"
is "$ERR" "ctlua: error: policy not started: --record: cannot create '$TEST_TMP/no/such/dir/r.jsonl' (No such file or directory)" \
	"  saying which file and why" || show_ctlua

# --- a real run, recorded ---------------------------------------------------------------------
ctlua_start "$NS_A" 60 run --record "$REC" "$POL"
wait_line "$CTLUA_ERR" 'generation 1' 10 || { show_ctlua; BAIL_OUT "the service did not start"; }
udp_send "$NS_B" "$ADDR_A" 5354 40001 default-pass
udp_send "$NS_B" "$ADDR_A" 5355 40002 rule-alloc
udp_send "$NS_B" "$ADDR_A" 5356 40003 rule-drop
udp_send "$NS_B" "$ADDR_A" 5360 40004 answer-drop
wait_line "$REC" '"sport":40004' 5
sleep 0.3	# the answer's verdict reaches the kernel at the end of its batch
udp_send "$NS_B" "$ADDR_A" 5360 40004 verdict-drop
udp_send "$NS_B" "$ADDR_A" 5361 40005 answer-alloc
wait_line "$REC" '"sport":40005.*"dir":"request"' 5
udp_send "$NS_B" "$ADDR6_A" 5354 40006 v6-pass
wait_line "$REC" '"sport":40006' 5
kill -TERM "$(ctlua_self)"
ctlua_finish
is "$RC" 0 "the recorded service stops on SIGTERM (exit 0)" || show_ctlua

line=$(head -n 1 "$REC")
is "$(jq -r '[.type, .schema, .version, .policy] | join(" ")' <<<"$line")" \
	"header ctlua-record 1 $POL" "the first line is the header: schema, version, policy"
is "$(jq -r '.ctlua' <<<"$line")" "$("$CTLUA" --version | cut -d' ' -f2)" "  and ctlua's version"
all=$(jq -c . <"$REC" 2>&1 >/dev/null)
is "$all" "" "every line parses as JSON"
got=$(jq -r 'select(.type == "event") | "\(.kind) \(.sport) \(.dport) \(.dir) \(.action) \(.rule // "-") \(.answer // "-")"' <"$REC")
want="miss 40001 5354 ingress pass - none
miss 40002 5355 ingress alloc 1 none
alloc 40002 5355 ingress alloc 1 none
miss 40003 5356 ingress drop 2 none
drop 40003 5356 ingress drop 2 -
miss 40004 5360 ingress pass - drop
miss 40004 5360 ingress drop - drop
drop 40004 5360 ingress drop - -
miss 40005 5361 ingress pass - alloc
alloc 40005 5361 request alloc - none
miss 40006 5354 ingress pass - none"
is "$got" "$want" "every event is recorded, also kinds no callback takes, with the callback's answer" ||
	diag_text "$(cat "$REC")"
line=$(grep '"sport":40002' "$REC" | head -n 1)
is "$(jq -r 'keys_unsorted | join(",")' <<<"$line")" \
	"type,kind,src,dst,sport,dport,proto,family,tuple,ifname,dir,action,rule,err,time,answer" \
	"an event line: the event's fields in the documented order, then the answer"

# --- replayed as nobody: the same decisions ---------------------------------------------------
PUB=$(mktemp -d /tmp/ctlua-replay.XXXXXX)
trap 'rm -rf "$PUB"; _ns_cleanup' EXIT
chmod 755 "$PUB"
cp "$REC" "$PUB/rec.jsonl"
cp "$POL" "$PUB/rec.lua"
chmod 644 "$PUB/rec.jsonl" "$PUB/rec.lua"
as_nobody()
{
	setpriv --reuid nobody --regid nogroup --clear-groups --inh-caps=-all --bounding-set=-all \
		"$@"
}
out=$(cd "$PUB" && as_nobody "$CTLUA" replay rec.jsonl rec.lua 2>"$TEST_TMP/replay.err")
rc=$?
is "$rc" 0 "ctlua replay as nobody, no capabilities: exit 0" || diag_text "$(cat "$TEST_TMP/replay.err")"
is "$(cat "$TEST_TMP/replay.err")" "" "  nothing on stderr"
# the replay's decision for each miss, in the recording's terms
got=$(grep -E '^rec\.jsonl:[0-9]+: miss ' <<<"$out" |
	sed -E 's/^[^ ]+ miss [a-z]+ [^ ]+:([0-9]+) → [^ ]+ [^ ]+ ingress: ([a-z]+) \((rule ([0-9]+)|verdict|default)\).*; callback: ([a-z]+).*/\1 \2 \4 \5/;s/  / - /')
want=$(jq -r 'select(.type == "event" and .kind == "miss") | "\(.sport) \(.action) \(.rule // "-") \(.answer)"' <"$REC")
is "$got" "$want" "each miss is decided as the live run decided it, and its callback answers the same" ||
	diag_text "$out"
like "$out" 'rec\.jsonl:7: miss udp [^ ]+:40004 → [^ ]+ [^ ]+ ingress: pass \(default\); callback: drop' \
	"the callback's first answer..."
like "$out" 'rec\.jsonl:8: miss udp [^ ]+:40004 → [^ ]+ [^ ]+ ingress: drop \(verdict\); callback: drop' \
	"  ...decides the flow's next packet (the verdict map)"
like "$out" 'rec\.jsonl:9: drop udp [^ ]+:40004 .*: delivered' "  whose drop event follows"
like "$out" 'rec\.jsonl:11: alloc udp [^ ]+:40005 .* request: delivered as recorded; callback: none' \
	"an alloc answer's request event is delivered (the answer was applied at once)"
unlike "$out" '\[recorded' "no event differs from the recording"
like "$(tail -n 1 <<<"$out")" \
	"^replay of 'rec.lua': 11 events, 7 decided \(pass 4, alloc 1, drop 2; by verdict 1, default 4, rule 1: 1, rule 2: 1\), 4 delivered, 0 skipped; callbacks 9 run, 0 failed; 0 differ from the recording; 0 malformed lines$" \
	"the summary: counts by action and by rule, callbacks, no difference"

# --- --diff: a policy that decides otherwise ---------------------------------------------------
sed -e 's/dport=5355, action="alloc", timeout=30000/dport=5355, action="drop"/' "$PUB/rec.lua" >"$PUB/other.lua"
chmod 644 "$PUB/other.lua"
out=$(cd "$PUB" && as_nobody "$CTLUA" replay rec.jsonl rec.lua --diff other.lua 2>&1)
rc=$?
is "$rc" 1 "--diff with a policy that decides otherwise: exit 1"
is "$out" "rec.jsonl:3: miss udp $ADDR_B:40002 → $ADDR_A:5355 $IF_A ingress: 'rec.lua': alloc (rule 1); callback: none | 'other.lua': drop (rule 1); callback: none
rec.jsonl:4: alloc udp $ADDR_B:40002 → $ADDR_A:5355 $IF_A ingress: 'rec.lua': delivered; callback: none | 'other.lua': skipped (this policy's decision for the flow was not alloc)
diff of 'rec.lua' and 'other.lua' on 11 events: 2 decided or answered differently" \
	"  it prints the events decided differently, side by side, and how many"
out=$(cd "$PUB" && as_nobody "$CTLUA" replay rec.jsonl rec.lua --diff rec.lua 2>&1)
is "$?:$out" "0:diff of 'rec.lua' and 'rec.lua' on 11 events: 0 decided or answered differently" \
	"--diff of a policy with itself: nothing differs, exit 0"

# --- ct.record from a script: the same recording, read back ----------------------------------
SCRIPT=$TEST_TMP/record.lua
cat >"$SCRIPT" <<EOF2
print(ct.record("$TEST_TMP/no/such/x.jsonl"))
assert(ct.record("$PUB/script.jsonl"))
ct.rule{proto = "udp", dport = 5355, action = "alloc"}
assert(ct.attach("$IF_A"))
print("ready") io.stdout:flush()
ct.run(1.5)
print(ct.record(false))
EOF2
ctlua_start "$NS_A" 30 "$SCRIPT"
wait_line "$CTLUA_OUT" ready 10
udp_send "$NS_B" "$ADDR_A" 5355 40007 script-alloc
ctlua_finish
is "$RC" 0 "a script that records with ct.record runs" || show_ctlua
is "$OUT" "nil	ENOENT: cannot create '$TEST_TMP/no/such/x.jsonl' (No such file or directory)	2
ready
true" "  a file it cannot create: nil, message, errno; ct.record(false) ends it: true"
is "$(jq -r '[.type, .schema, .version, .policy] | join(" ")' <"$PUB/script.jsonl" | head -n 1)" \
	"header ctlua-record 1 ct.record" "its header names ct.record"
chmod 644 "$PUB/script.jsonl"
printf 'ct.rule{proto = "udp", dport = 5355, action = "alloc"}\n' >"$PUB/script.lua"
chmod 644 "$PUB/script.lua"
out=$(cd "$PUB" && as_nobody "$CTLUA" replay script.jsonl script.lua 2>&1)
is "$?" 0 "its recording replays"
has_line "$out" "script.jsonl:2: miss udp $ADDR_B:40007 → $ADDR_A:5355 $IF_A ingress: alloc (rule 1)" \
	"  the miss, decided by the rule as it was live"
has_line "$out" "script.jsonl:3: alloc udp $ADDR_B:40007 → $ADDR_A:5355 $IF_A ingress: delivered" \
	"  and its alloc, recorded though no callback took it"

done_testing
