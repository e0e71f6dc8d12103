#!/bin/bash
# 75-replay-input.t - `ctlua replay` on recordings written by hand, no kernel needed:
# malformed lines are reported as FILE:LINE and skipped (exit 1), a file that is no
# recording or of another schema version stops at line 1; modes off and observe; a
# callback that fails is reported and counted; a replayed event differing from the
# recording is marked; an alloc_error is delivered with its stage, and ct.explain(ev)
# explains it from the record; a policy's ct.alloc is not run; misused command lines.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
CTLUA=${CTLUA:-$PWD/build/ctlua}
[[ -x "$CTLUA" ]] || BAIL_OUT "$CTLUA is missing: run make first"

TMP=$(mktemp -d /tmp/ctlua-replay.XXXXXX) || BAIL_OUT "cannot create a temporary directory"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || BAIL_OUT "cannot enter $TMP"

HDR='{"type":"header","schema":"ctlua-record","version":1,"ctlua":"0.1.0","policy":"p.lua","time":1796414970.5}'
# ev SPORT DPORT KIND ACTION [MORE]: one event line
ev()
{
	printf '{"type":"event","kind":"%s","src":"198.18.0.2","dst":"198.18.0.1","sport":%s,"dport":%s,"proto":"udp","family":"ipv4","tuple":"t","ifname":"eth0","dir":"ingress","action":"%s","err":0,"time":1796414971.25%s}\n' \
		"$3" "$1" "$2" "$4" "${5:-}"
}

# replay ARGS...: sets RC, OUT, ERR
replay()
{
	OUT=$("$CTLUA" replay "$@" 2>"$TMP/err" </dev/null)
	RC=$?
	ERR=$(cat "$TMP/err")
}

cat >p.lua <<'EOF'
ct.rule{proto = "udp", dport = 53, action = "alloc"}
ct.on("miss", function(ev)
	if ev.dport == 9 then error("boom at " .. ev.sport, 0) end
	if ev.dport == 7 then return "maybe" end
end)
ct.on("alloc_error", function(ev)
	print("ALLOC_ERROR", ev.stage, ev.errname, ev.ifname, ev.time)
	print(ct.explain(ev))
	print("ct.alloc:", ct.alloc(ev.tuple))
end)
assert(ct.attach("nosuch0"))
EOF

# --- malformed lines: reported with file and line, skipped -----------------------------------
{
	echo "$HDR"
	ev 1000 53 miss alloc ',"rule":1'
	echo '{"type":"event","kind":"miss"'
	ev 1001 53 miss alloc ',"rule":1,"bogus":[1]'
	ev 1002 53 mess alloc
	echo 'not json at all'
	ev 1003 70000 miss pass
	ev 1004 53 miss alloc ',"rule":1'
	ev 1004 53 alloc_error alloc ',"rule":1,"err":-17,"errname":"EEXIST","stage":"insert"' |
		sed 's/"err":0,//'
	echo '{"type":"log","msg":"a later version may add lines of other types"}'
} >bad.jsonl
replay bad.jsonl p.lua
is "$RC" 1 "malformed lines: exit 1"
is "$ERR" "ctlua: bad.jsonl:3: not JSON: a member not followed by ',' or '}' at byte 31; line skipped
ctlua: bad.jsonl:4: not JSON: a nested object or array (not in the schema) at byte 230; line skipped
ctlua: bad.jsonl:5: member 'kind': 'mess' is not one of its values; line skipped
ctlua: bad.jsonl:6: not JSON: not a JSON object at byte 1; line skipped
ctlua: bad.jsonl:7: member 'dport': not an integer from 0 to 65535; line skipped
ctlua: p.lua:9: ct.alloc acts at once: ctlua replay does not run it" \
	"each is reported as FILE:LINE with the reason, and skipped (and ct.alloc as not run)" || diag_text "$ERR"
has_line "$OUT" "bad.jsonl:2: miss udp 198.18.0.2:1000 → 198.18.0.1:53 eth0 ingress: alloc (rule 1); callback: none" \
	"the good lines are replayed: a miss decided by rule 1"
like "$OUT" "ALLOC_ERROR	insert	EEXIST	eth0	1796414971.25" \
	"an alloc_error is delivered with its stage, errname, recorded ifname and time"
like "$OUT" "alloc_error: udp 198.18.0.2:1004 → 198.18.0.1:53 on eth0 ingress
decided: alloc, by rule 1 " "ct.explain(ev) of a replayed event: the flow and the rule"
like "$OUT" "  3\\. bpf_ct_insert_entry: refused \\(NULL, no reason given\\): EEXIST
     on the packet path ctlua reports EEXIST without looking: a duplicate is by far the likeliest reason" \
	"  the packet path's insert refused, and what its EEXIST means"
like "$OUT" "ct.alloc:	nil	EOPNOTSUPP: ct.alloc acts at once: ctlua replay does not run it	95" \
	"a callback's ct.alloc is not run: nil, message, EOPNOTSUPP"
like "$(tail -n 1 <<<"$OUT")" "; 5 malformed lines$" "the summary counts the malformed lines"

# --- no recording --------------------------------------------------------------------------------
ev 1 2 miss pass >nohdr.jsonl
replay nohdr.jsonl p.lua
is "$RC:$OUT" "1:" "a file without the header: exit 1, nothing replayed"
is "$ERR" "ctlua: nohdr.jsonl:1: not a ctlua recording: the first line is not its header ({\"type\":\"header\",\"schema\":\"ctlua-record\",...})" \
	"  it says so, at line 1"
sed 's/"version":1/"version":2/' <<<"$HDR" >v2.jsonl
replay v2.jsonl p.lua
is "$RC:$ERR" "1:ctlua: v2.jsonl:1: schema version 2: this ctlua reads version 1" \
	"another schema version is refused"
: >empty.jsonl
replay empty.jsonl p.lua
is "$RC:$ERR" "1:ctlua: empty.jsonl: empty: not a ctlua recording" "an empty file is refused"
replay nope.jsonl p.lua
is "$RC:$ERR" "1:ctlua: cannot open 'nope.jsonl': No such file or directory" "a missing file"

# --- modes, callbacks that fail, differences from the recording --------------------------------
{
	echo "$HDR"
	ev 2000 9 miss pass ',"answer":"error"'
	ev 2001 7 miss pass ',"answer":"none"'
	ev 2002 53 miss pass
} >cb.jsonl
replay cb.jsonl p.lua
is "$RC" 0 "callbacks that fail do not fail the replay (exit 0)"
is "$ERR" "ctlua: cb.jsonl:2: the 'miss' callback failed: boom at 2000
stack traceback:
	[C]: in function 'error'
	p.lua:3: in function <p.lua:2>
	[C]: in ?
ctlua: cb.jsonl:3: the 'miss' callback failed: its answer: maybe is not an action (pass, alloc or drop)" \
	"each failure is reported with the recording's line" || diag_text "$ERR"
has_line "$OUT" "cb.jsonl:2: miss udp 198.18.0.2:2000 → 198.18.0.1:9 eth0 ingress: pass (default); callback: error" \
	"a failed callback: its answer is 'error', as recorded"
has_line "$OUT" "cb.jsonl:3: miss udp 198.18.0.2:2001 → 198.18.0.1:7 eth0 ingress: pass (default); callback: error [recorded callback: none]" \
	"an answer that differs from the recorded one is marked"
has_line "$OUT" "cb.jsonl:4: miss udp 198.18.0.2:2002 → 198.18.0.1:53 eth0 ingress: alloc (rule 1); callback: none [recorded: pass]" \
	"a decision that differs from the recorded one is marked"
like "$(tail -n 1 <<<"$OUT")" "callbacks 3 run, 2 failed; 2 differ from the recording; 0 malformed lines$" \
	"the summary counts failures and differences"

printf 'ct.mode("observe")\nct.default("drop")\n' >obs.lua
{ echo "$HDR"; ev 3000 80 miss drop; ev 3000 80 drop drop; } >obs.jsonl
replay obs.jsonl obs.lua
like "$OUT" "obs.jsonl:2: .*: drop \\(default\\), observed: not acted on" "observe: decided, not acted on"
like "$OUT" "obs.jsonl:3: drop .*: skipped \\(this policy's decision for the flow was not drop\\)" \
	"  so the drop that followed is not delivered"
printf 'ct.mode("off")\n' >off.lua
replay obs.jsonl off.lua
like "$OUT" "obs.jsonl:2: .*: off \\(mode off: the program decides nothing\\)" "mode off decides nothing"

# --- the command line ----------------------------------------------------------------------------
replay cb.jsonl
is "$RC:$ERR" "2:ctlua: replay: no policy given
usage: ctlua replay FILE POLICY [--diff OTHER]" "no policy: exit 2 with the usage"
replay cb.jsonl p.lua extra.lua
is "$RC:$ERR" "2:ctlua: replay takes a recording and a policy, and no more ('extra.lua')" \
	"a third operand is refused"
replay --json cb.jsonl p.lua
is "$RC:$ERR" "2:ctlua: replay does not take --json" \
	"--json is refused"
OUT=$("$CTLUA" --diff p.lua -e 'print(1)' 2>&1)
is "$?:$OUT" "2:ctlua: --diff is an option of 'ctlua replay'" "--diff outside replay is refused"
printf 'error("broken policy")\n' >broken.lua
replay cb.jsonl broken.lua
is "$RC:$ERR" "1:ctlua: broken.lua:1: broken policy" "a policy whose top level fails: exit 1"

# --- rate limits: a dry run keeps no buckets, so a miss over a limit is taken as recorded ------
cat >lim.lua <<'EOF'
ct.mode("enforce")
ct.policy{rules = {{proto = "udp", dport = 54, action = "alloc"},
		   {proto = "udp", dport = 55, action = "drop", limit = {rate = 1, over = "pass"}}}}
ct.rule{proto = "udp", dport = 53, action = "alloc", limit = {rate = 1, burst = 1}}
ct.default("alloc", {limit = {rate = 5, over = "pass"}})
print(pcall(ct.rule, {action = "alloc", limit = {rate = 0}}))
ct.on("drop", function(ev) print("drop callback", ev.sport) end)
EOF
{ echo "$HDR"; ev 1000 55 miss pass ',"rule":2'; ev 1001 55 miss drop ',"rule":2'
  ev 1002 54 miss drop ',"rule":1'; ev 1006 53 miss drop ',"rule":3'
  ev 1006 53 drop drop ',"rule":3'; ev 1003 9 miss pass; ev 1005 9 miss drop; } >lim.jsonl
replay lim.jsonl lim.lua
is "$RC" 0 "a policy with limits replays"
like "$OUT" "^false	bad argument #1 to 'ct.rule' \\(field 'limit': field 'rate': expected a number of new flows a second from 0.001 to 1e9, got 0\\)" \
	"  a bad limit is still refused, named ct.rule"
like "$OUT" "lim.jsonl:2: miss udp 198.18.0.2:1000 → 198.18.0.1:55 eth0 ingress: drop \\(rule 2\\), over its rate limit: pass as recorded \\(the kernel's buckets are not replayed\\)
lim.jsonl:3: miss udp 198.18.0.2:1001 → 198.18.0.1:55 eth0 ingress: drop \\(rule 2\\)
lim.jsonl:4: miss udp 198.18.0.2:1002 → 198.18.0.1:54 eth0 ingress: alloc \\(rule 1\\) \\[recorded: drop \\(rule 1\\)\\]
lim.jsonl:5: miss udp 198.18.0.2:1006 → 198.18.0.1:53 eth0 ingress: alloc \\(rule 3\\), over its rate limit: drop as recorded \\(the kernel's buckets are not replayed\\)
drop callback	1006
lim.jsonl:6: drop udp 198.18.0.2:1006 → 198.18.0.1:53 eth0 ingress: delivered; callback: none
lim.jsonl:7: miss udp 198.18.0.2:1003 → 198.18.0.1:9 eth0 ingress: alloc \\(default\\), over its rate limit: pass as recorded \\(the kernel's buckets are not replayed\\)
lim.jsonl:8: miss udp 198.18.0.2:1005 → 198.18.0.1:9 eth0 ingress: alloc \\(default\\) \\[recorded: drop\\]" \
	"  a miss that got its limit's over action is no difference, and its drop is delivered; other actions still differ" ||
	diag_text "$OUT"
like "$OUT" ", 3 over a rate limit as recorded \\(not compared\\), 1 delivered, 0 skipped; callbacks 1 run, 0 failed; 2 differ from the recording;" \
	"  the summary counts them apart"
printf 'ct.rule(5)\n' >badrule.lua
replay lim.jsonl badrule.lua
is "$RC:$ERR" "1:ctlua: badrule.lua:1: bad argument #1 to 'ct.rule' (table expected, got number)" \
	"  ct.rule's errors keep the policy's position"

done_testing
