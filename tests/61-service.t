#!/bin/bash
# 61-service.t - `ctlua run POLICY`, the service: readiness (sd_notify only once the filter
# is on), reload on SIGHUP (the next packet follows the new policy; a broken one is logged
# with file:line and the old one runs on, staged writes unseen), the filter adopted
# across reloads rather than re-attached, a callback stuck in a loop, SIGTERM (its filter
# gone, others' untouched), StrictModes refusals, ct.run in a service, usage errors and
# the journal's level prefixes.
#
# NS_A has no conntrack hooks, so every entry `conntrack -L` shows there was made by
# ctlua's program (an "alloc" rule), and "drop" is seen as a datagram that never arrives.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/service.sh

pair_test_setup
command -v python3 >/dev/null 2>&1 || skip_all "'python3' is not installed (the NOTIFY_SOCKET listener)"

nl=$'\n'
POLDIR=$TEST_TMP/policies
mkdir -m 700 "$POLDIR"
POL=$POLDIR/edge.lua

filters() { tc -n "$NS_A" filter show dev "$IF_A" "${1:-ingress}"; }

# A NOTIFY_SOCKET listener: each message on one line, spaces for newlines; at READY=1 it
# looks at once whether the filter is on (FILTER=yes|no).
NOTIFY=$TEST_TMP/notify.sock
NOTES=$TEST_TMP/notify.log
: >"$NOTES"
python3 - "$NOTIFY" "$NOTES" "$NS_A" "$IF_A" <<'EOF' &
import socket, subprocess, sys
path, out, ns, ifname = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
with open(out, "a", buffering=1) as f:
    while True:
        msg = s.recv(4096).decode()
        extra = ""
        if "READY=1" in msg:
            tc = subprocess.run(["tc", "-n", ns, "filter", "show", "dev", ifname, "ingress"],
                                capture_output=True, text=True).stdout
            extra = " FILTER=" + ("yes" if "bpf" in tc else "no")
        f.write(msg.replace("\n", " ") + extra + "\n")
EOF
for _ in $(seq 50); do [[ -S "$NOTIFY" ]] && break; sleep 0.1; done
[[ -S "$NOTIFY" ]] || BAIL_OUT "the NOTIFY_SOCKET listener did not start"

udp_listen "$NS_A" 5353
out5353=$LISTEN_OUT
udp_listen "$NS_A" 5354
out5354=$LISTEN_OUT

# Someone else's filter and qdisc on the interface: ctlua must leave both as they are.
# (a classic BPF filter that returns 0: cls_bpf is the classifier the tests can count on)
ok_run "someone else's clsact qdisc on $IF_A" tc -n "$NS_A" qdisc add dev "$IF_A" clsact
ok_run "and their filter on its egress" tc -n "$NS_A" filter add dev "$IF_A" egress \
	pref 7 protocol all bpf bytecode '1,6 0 0 0,'
others=$(filters egress)
like "$others" "bytecode '1,6 0 0 0'" "it is there"

# --- start: default drop; ready only once attached --------------------------------------------
policy "ct.default(\"drop\")
assert(ct.attach(\"$IF_A\"))"
# as ctlua_start does, with NOTIFY_SOCKET in the environment
CTLUA_OUT=$TEST_TMP/svc.out
CTLUA_ERR=$TEST_TMP/svc.err
bg_run "$NS_A" env NOTIFY_SOCKET="$NOTIFY" timeout -k 2 60 "$CTLUA" run "$POL" \
	>"$CTLUA_OUT" 2>"$CTLUA_ERR" </dev/null
CTLUA_PID=$BG_PID
wait_line "$NOTES" 'READY=1' 10
first=$(head -n 1 "$NOTES")
is "$first" "READY=1 STATUS=policy $POL, generation 1 FILTER=yes" \
	"the first notification is READY=1 with the policy and generation, sent once the filter is on"
wait_line "$CTLUA_ERR" 'generation 1' 5
is "$(cat "$CTLUA_ERR")" "ctlua: info: policy '$POL' running (generation 1)" \
	"it logs at level info that the policy runs"
svc=$(ctlua_self)
[[ -n "$svc" ]]; ok $? "ctlua runs (pid $svc)"
udp_send "$NS_B" "$ADDR_A" 5353 40000 drop-me
sleep 0.3
is "$(cat "$out5353")" "" "default drop: the datagram to 5353 does not arrive"
before=$(filters)
# tc's own record of filters added and deleted in NS_A from here on
MON=$TEST_TMP/tc-monitor.log
bg_run "$NS_A" tc monitor >"$MON" 2>&1
mon_pid=$BG_PID
sleep 0.3

# --- reload with a good policy: alloc from the next packet on ------------------------------------
policy "ct.rule{proto=\"udp\", dport=5353, action=\"alloc\", timeout=120000, mark=0x61}
assert(ct.attach(\"$IF_A\"))"
kill -HUP "$svc"
wait_line "$CTLUA_ERR" 'generation 2' 5
like "$(cat "$CTLUA_ERR")" "${nl}ctlua: info: reloading '$POL' \\(SIGHUP\\)${nl}ctlua: info: policy '$POL' running \\(generation 2\\)\$" \
	"SIGHUP: reloading, then generation 2 running"
is "$(filters)" "$before" "the same filter is on (same handle and program)"
like "$(sed -n 2p "$NOTES")" '^RELOADING=1 MONOTONIC_USEC=[0-9]+ STATUS=reloading ' \
	"systemd is told RELOADING=1 with MONOTONIC_USEC"
is "$(sed -n 3p "$NOTES")" "READY=1 STATUS=policy $POL, generation 2 FILTER=yes" "then READY=1, generation 2"
udp_send "$NS_B" "$ADDR_A" 5353 40001 allocated
wait_line "$out5353" allocated 3
is "$(cat "$out5353")" allocated "the next datagram to 5353 arrives (no default drop any more)"
e=$(ct_entry "$NS_A" "src=$ADDR_B dst=$ADDR_A sport=40001 dport=5353 ")
like "$e" ' mark=97 ' "and ctlua's alloc rule made its conntrack entry (mark 0x61)"
udp_send "$NS_B" "$ADDR_A" 5354 40002 passed
wait_line "$out5354" passed 3
is "$(cat "$out5354")" passed "5354, no rule: the new default (pass) lets it through"

# --- reload with broken policies: the old one runs on ---------------------------------------------
# broken NAME TEXT WANT: reload with TEXT; WANT is the error's text after "ctlua: error: ".
broken()
{
	local name=$1 text=$2 want=$3 lines failed
	lines=$(wc -l <"$CTLUA_ERR")
	failed=$(grep -c 'runs on' "$CTLUA_ERR")
	policy "$text"
	kill -HUP "$svc"
	for _ in $(seq 50); do
		(($(grep -c 'runs on' "$CTLUA_ERR") > failed)) && break
		sleep 0.1
	done
	is "$(tail -n +$((lines + 1)) "$CTLUA_ERR")" \
		"ctlua: info: reloading '$POL' (SIGHUP)${nl}ctlua: error: reload failed, generation 2 runs on: $want" \
		"$name: logged with file:line, generation 2 runs on"
}
broken "a syntax error" "ct.default(\"drop\")
local x = = 1" "$POL:2: unexpected symbol near '='"
broken "a runtime error after staged writes" "ct.default(\"drop\")
ct.rule{proto=\"udp\", dport=5353, action=\"drop\"}
ct.mode(\"off\")
assert(ct.attach(\"$IF_A\"))
error(\"broken on purpose\")" "$POL:5: broken on purpose"
broken "a bad rule" "ct.rule{proto=\"udp\", dport=70000, action=\"alloc\"}" \
	"$POL:1: bad argument #1 to 'ct.rule' (field 'dport': 70000 is out of range 0 to 65535)"
broken "an unknown interface" "assert(ct.attach(\"nosuch0\"))" \
	"$POL:1: ENODEV: no interface named 'nosuch0'"
broken "ct.run in the policy" "assert(ct.attach(\"$IF_A\"))
ct.run()" \
	"$POL:2: ct.run and ct.poll cannot be called in a policy that 'ctlua run' serves (it serves the events itself)"
is "$(tail -n 1 "$NOTES")" "READY=1 STATUS=policy $POL, generation 2 (the last reload failed) FILTER=yes" \
	"systemd hears READY=1 again, generation 2, the reload failed"
is "$(filters)" "$before" "the filter is the same one still"
: >"$out5353"
: >"$out5354"
udp_send "$NS_B" "$ADDR_A" 5353 40003 still-alloc
udp_send "$NS_B" "$ADDR_A" 5354 40004 still-pass
wait_line "$out5354" still-pass 3
is "$(cat "$out5353")" still-alloc "the old rule still allocates: the datagram to 5353 arrives"
e=$(ct_entry "$NS_A" "src=$ADDR_B dst=$ADDR_A sport=40003 dport=5353 ")
like "$e" ' mark=97 ' "with its entry (the broken policies' staged rule, mode and default never went live)"
is "$(cat "$out5354")" still-pass "the old default still passes 5354"

# --- a callback that loops forever: stopped by its budget, logged, the service goes on --------------
policy "ct.budget(200)
ct.on(\"miss\", function(ev)
	while true do end
end)
assert(ct.attach(\"$IF_A\"))"
kill -HUP "$svc"
wait_line "$CTLUA_ERR" 'generation 3' 5
pass "a good reload after the broken ones makes generation 3" 
udp_send "$NS_B" "$ADDR_A" 5354 40005 loop1
wait_line "$CTLUA_ERR" "the 'miss' callback" 5
like "$(cat "$CTLUA_ERR")" "${nl}ctlua: error: the 'miss' callback \\($POL:2\\) failed: $POL:3: [^$nl]*time budget" \
	"the stuck callback is stopped by its budget and logged at level error, with where" ||
	diag_text "$(cat "$CTLUA_ERR")"
unlike "$(cat "$CTLUA_ERR")" "${nl}stack traceback" "every line of the message carries the level (the traceback too)"
udp_send "$NS_B" "$ADDR_A" 5354 40006 loop2
sleep 1
is "$(grep -c "the 'miss' callback" "$CTLUA_ERR")" 2 "the next event reaches the callback again: the service carries on"
_ns_alive "$svc"; ok $? "ctlua still runs"

# --- callbacks to callbacks: the reader moves; per-flow verdicts are kept -----------------------------
MISSES=$TEST_TMP/misses.log
: >"$MISSES"
policy "ct.on(\"miss\", function(ev)
	local f = assert(io.open(\"$MISSES\", \"a\"))
	f:write(\"MISS \", ev.sport, \"\\n\")
	f:close()
	return \"drop\"
end)
assert(ct.attach(\"$IF_A\"))"
kill -HUP "$svc"
wait_line "$CTLUA_ERR" 'generation 4' 5
: >"$out5354"
udp_send "$NS_B" "$ADDR_A" 5354 40007 first
wait_line "$MISSES" 'MISS 40007' 3
is "$(cat "$MISSES")" "MISS 40007" "generation 4's callback gets the next miss (the ring's reader moved to it)"
is "$(grep -c "the 'miss' callback" "$CTLUA_ERR")" 2 "and generation 3's looping callback no longer runs"
sleep 0.2	# the answer is written at the end of its drain batch
udp_send "$NS_B" "$ADDR_A" 5354 40007 second
policy "ct.default(\"pass\")
assert(ct.attach(\"$IF_A\"))"
kill -HUP "$svc"
wait_line "$CTLUA_ERR" 'generation 5' 5
udp_send "$NS_B" "$ADDR_A" 5354 40007 third
udp_send "$NS_B" "$ADDR_A" 5354 40008 other-flow
wait_line "$out5354" other-flow 3
is "$(cat "$out5354")" "first${nl}other-flow" \
	"the callback's drop verdict outlives the reload (second and third dropped), other flows pass"

# --- reload that drops the interface: detached after the switch ------------------------------------
is "$(grep filter "$MON")" "" \
	"tc monitor saw no filter deleted or added by the reloads: the filter was adopted, not re-attached"
policy 'ct.default("pass")'
kill -HUP "$svc"
wait_line "$CTLUA_ERR" 'generation 6' 5
unlike "$(filters)" bpf "a policy that no longer attaches the interface: its filter is gone after the reload"
wait_line "$MON" 'deleted filter' 3
like "$(grep filter "$MON")" "^deleted filter dev $IF_A ingress " "  (tc monitor saw that deletion)"
kill "$mon_pid"
policy "assert(ct.attach(\"$IF_A\"))"
kill -HUP "$svc"
wait_line "$CTLUA_ERR" 'generation 7' 5
like "$(filters)" bpf "and one that attaches it again puts a filter back"

# --- a reload onto a hook another ctlua holds: refused, naming it; the old policy runs on ------
# another ctlua (a script) holds $IF_A egress
OTHER_OUT=$TEST_TMP/other.out
bg_run "$NS_A" timeout -k 2 60 "$CTLUA" -e "assert(ct.attach('$IF_A', {dir = 'egress'}))
print('held'); io.stdout:flush(); ct.run()" >"$OTHER_OUT" 2>"$TEST_TMP/other.err" </dev/null
other_bg=$BG_PID
wait_line "$OTHER_OUT" held 10
other=$(ctlua_self "$other_bg")
[[ -n "$other" ]]; ok $? "another ctlua holds $IF_A egress (pid $other)"
before=$(filters)
lines=$(wc -l <"$CTLUA_ERR")
policy "ct.default(\"drop\")
assert(ct.attach(\"$IF_A\"))
assert(ct.attach(\"$IF_A\", {dir = \"egress\"}))"
kill -HUP "$svc"
for _ in $(seq 50); do
	grep -q 'generation 7 runs on' "$CTLUA_ERR" && break
	sleep 0.1
done
is "$(tail -n +$((lines + 1)) "$CTLUA_ERR")" \
	"ctlua: info: reloading '$POL' (SIGHUP)${nl}ctlua: error: reload failed, generation 7 runs on: $POL:3: '$IF_A' egress is enforced by ctlua pid $other (policy given with -e); ct.attach('$IF_A', {takeover=true}) or --take-over replaces it" \
	"the reload is refused with the ownership message: where its ct.attach is, the other ctlua's pid and policy"
is "$(filters)" "$before" "the service's ingress filter is the same one still"
: >"$out5354"
udp_send "$NS_B" "$ADDR_A" 5354 40020 gen7-passes
wait_line "$out5354" gen7-passes 3
is "$(cat "$out5354")" gen7-passes \
	"generation 7 runs on: its default pass lets 5354 through (the refused policy's drop never went live)"
like "$(tc -n "$NS_A" filter show dev "$IF_A" egress)" "name ctlua_egress" \
	"and the other ctlua's egress filter is untouched"
kill -TERM "$other"
wait "$other_bg"
is "$?:$(<"$OTHER_OUT")" "0:held" "the other ctlua stops normally"
unlike "$(tc -n "$NS_A" filter show dev "$IF_A" egress)" ctlua_egress "  and takes its filter with it"

# --- SIGTERM: stopping, nothing of ctlua's left, others' untouched ----------------------------------
kill -TERM "$svc"
ctlua_finish
is "$RC" 0 "SIGTERM: exit status 0"
like "$ERR" "${nl}ctlua: info: stopping on SIGTERM: removing the filters${nl}ctlua: info: stopped\$" \
	"it logs the stop"
is "$(tail -n 1 "$NOTES")" "STOPPING=1 STATUS=stopping" "systemd hears STOPPING=1"
unlike "$(filters)" bpf "no ctlua filter is left on $IF_A ingress"
is "$(filters egress)" "$others" "the other program's egress filter is untouched"
like "$(tc -n "$NS_A" qdisc show dev "$IF_A")" clsact "and so is its clsact qdisc"
tc -n "$NS_A" qdisc del dev "$IF_A" clsact

# --- StrictModes: refused files, with exact messages -----------------------------------------------
# refused NAME WANT: start the service on $POL; it must exit 1 with WANT after "error: ".
refused()
{
	ctlua_run "$NS_A" 20 run "$POL"
	is "$RC" 1 "$1: exit status 1" || show_ctlua
	is "$ERR" "ctlua: error: policy not started: $2" "$1: the message says why" || show_ctlua
}
policy "assert(ct.attach(\"$IF_A\"))"
chmod 0646 "$POL"
refused "a world-writable policy" \
	"refusing policy '$POL': the file is writable by others (mode 0646); chmod go-w fixes it"
chmod 0620 "$POL"
refused "a group-writable policy" \
	"refusing policy '$POL': the file is writable by its group (mode 0620); chmod go-w fixes it"
chmod 0600 "$POL"
chmod 0770 "$POLDIR"
refused "a group-writable directory" \
	"refusing policy '$POL': its directory '$POLDIR' is writable by its group (mode 0770); chmod go-w fixes it"
chmod 0700 "$POLDIR"
chown 65534 "$POL"
refused "a policy owned by another user" \
	"refusing policy '$POL': the file is owned by uid 65534, neither root nor the user running ctlua (uid 0)"
chown 0 "$POL"
unlike "$(filters)" bpf "no refused policy attached anything"

# Scripts run directly are not refused.
printf 'print("ran")\n' >"$POL"
chmod 0666 "$POL"
ctlua_run "$NS_A" 20 "$POL"
is "$RC:$OUT:$ERR" "0:ran:" "ctlua FILE runs a world-writable script (StrictModes is for run)"
chmod 0600 "$POL"

# --- the journal: sd-daemon prefixes when stderr is its stream -------------------------------------
chmod 0666 "$POL"
jerr=$TEST_TMP/journal.err
: >"$jerr"
ip netns exec "$NS_A" env JOURNAL_STREAM="$(stat -c '%d:%i' "$jerr")" timeout 20 "$CTLUA" run "$POL" \
	2>>"$jerr" </dev/null
is "$(cat "$jerr")" "<3>policy not started: refusing policy '$POL': the file is writable by others (mode 0666); chmod go-w fixes it" \
	"stderr is the journal's stream: '<3>' (error) instead of 'ctlua: error: '"
ip netns exec "$NS_A" env JOURNAL_STREAM=1:2 timeout 20 "$CTLUA" run "$POL" 2>"$jerr" </dev/null
like "$(cat "$jerr")" '^ctlua: error: policy not started: ' "another stream in JOURNAL_STREAM: plain levels"
chmod 0600 "$POL"

# --- a policy that fails at start: exit 1, nothing left -------------------------------------------
policy "assert(ct.attach(\"$IF_A\"))
error(\"no start\")"
ctlua_run "$NS_A" 20 run "$POL"
is "$RC" 1 "a policy whose top level fails does not start: exit status 1"
is "$ERR" "ctlua: error: policy not started: $POL:2: no start" "the error, with file:line"
unlike "$(filters)" bpf "and nothing was attached (a staged policy attaches at the switch)"

# --- the command line --------------------------------------------------------------------------
ctlua_run "$NS_A" 20 run
is "$RC:$ERR" "2:ctlua: run: no policy file given${nl}Try 'ctlua --help' for more information." \
	"run without a policy: usage error"
ctlua_run "$NS_A" 20 run "$POL" extra
is "$RC:$ERR" "2:ctlua: run takes one policy file, and no arguments after it ('extra')" \
	"run with an argument after the policy: usage error"
ctlua_run "$NS_A" 20 run -e 'print(1)'
is "$RC:$ERR" "2:ctlua: run takes a policy file, not -e CODE" "run -e: usage error"
ctlua_run "$NS_A" 20 run "$TEST_TMP/nope.lua"
is "$RC:$ERR" "1:ctlua: error: policy not started: cannot open '$TEST_TMP/nope.lua': No such file or directory" \
	"a missing policy file"

# --- SIGHUP outside run still ends a script -----------------------------------------------------
ctlua_start "$NS_A" 20 -e "local l = assert(ct.attach('$IF_A')); print(ct.run()); io.stdout:flush()"
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
kill -HUP "$(ctlua_self)"
ctlua_finish
is "$RC:$OUT" "0:signal" "SIGHUP in a script's ct.run ends it (ct.run returns \"signal\")"
unlike "$(filters)" bpf "  and its filter is gone"

done_testing
