#!/bin/bash
# 21-signals.t - however a signal reaches ctlua (inside ct.run, inside ct.poll, while its
# output pipe is closed), it ends cleanly and takes its filter off the interface.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

filters() { tc -n "$NS_A" filter show dev "$IF_A" ingress; }

# signal_case SIGNAL LUA WANT_RC WHAT: start ctlua with LUA, wait for its filter, send it
# SIGNAL, then check its exit status and that the filter is gone.
signal_case()
{
	local sig=$1 code=$2 want=$3 what=$4
	ctlua_start "$NS_A" 20 -e "local l = assert(ct.attach('$IF_A')); $code"
	wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
	kill "-$sig" "$CTLUA_PID"
	ctlua_finish
	is "$RC" "$want" "$what: exit status $want" || show_ctlua
	unlike "$(filters)" 'direct-action' "$what: no filter left"
}

signal_case INT 'while true do ct.poll(200) end' 1 "SIGINT inside a ct.poll loop"
like "$ERR" 'interrupted' "  and the script was told it was interrupted"
signal_case TERM 'while true do ct.poll(200) end' 1 "SIGTERM inside a ct.poll loop"
signal_case HUP 'print(ct.run()); io.stdout:flush()' 0 "SIGHUP inside ct.run"
is "$OUT" "signal" "  ct.run returned \"signal\""
signal_case INT 'local x = 0 while true do x = x + 1 end' 1 "SIGINT in a busy Lua loop"

# A reader that goes away must not kill ctlua with its filter still on.
ip netns exec "$NS_A" timeout 20 "$CTLUA" -e \
	"local l = assert(ct.attach('$IF_A')); for i = 1, 200000 do print(i) end" | head -n 1 >/dev/null
is "${PIPESTATUS[0]}" 0 "a closed stdout: ctlua runs to the end and exits 0"
unlike "$(filters)" 'direct-action' "a closed stdout: no filter left"
done_testing
