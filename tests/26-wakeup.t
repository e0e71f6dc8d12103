#!/bin/bash
# 26-wakeup.t - waking the event reader (bpf/ctlua.h, doc/performance.md "Waking the
# reader"): the program wakes it only when it said it is asleep. Real packets: lone
# events spaced out, each of which must reach the Lua callback within a bound (a lost
# wakeup would leave it unread until the next packet); a burst read by a busy callback,
# which must take next to no wakeups (ct.stats().wakeups); then a lone event again.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

LONE=5
BURST=100

# Every line flushed, so the test sees an event the moment its callback ran. Port 7002's
# callback spends 2 ms, so a burst keeps the reader busy far longer than it takes to send.
cat >"$TEST_TMP/wake.lua" <<'EOF'
io.stdout:setvbuf("line")
ct.on("miss", function(e)
	print("EV", e.dport, ct.stats().wakeups)
	if e.dport == 7002 then
		local t = os.clock() + 0.002
		while os.clock() < t do end
	end
end)
local link = assert(ct.attach(arg[1]))
assert(ct.events{ "miss" })
print("ready")
ct.run(tonumber(arg[2]))
local s = assert(ct.stats())
print("END", s.events, s.wakeups)
EOF

# wait_count PORT N SECONDS: until the callback saw N events of PORT; prints the ms taken.
wait_count() { wait_lines "$CTLUA_OUT" "^EV	$1	" "$2" "$3"; }

# send PORT N: N datagrams from NS_B to ADDR_A:PORT, each from a new socket (its own
# source port, so its own flow and its own miss event), as fast as bash goes.
send()
{
	# shellcheck disable=SC2016 # the inner bash expands them, from its arguments
	ip netns exec "$NS_B" bash -c 'for ((i = 0; i < $3; i++)); do echo x >"/dev/udp/$1/$2"; done' \
		_ "$ADDR_A" "$1" "$2"
}

ctlua_start "$NS_A" 40 "$TEST_TMP/wake.lua" "$IF_A" 10
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
wait_line "$CTLUA_OUT" '^ready$' 10 || fail "ctlua printed 'ready'"
sleep 0.2

# --- lone events: each wakes the sleeping reader --------------------------------------
for i in $(seq "$LONE"); do
	send 7001 1
	ms=$(wait_count 7001 "$i" 2)
	ok $? "lone event $i reaches the callback within 2 s (${ms} ms)"
	sleep 0.2
done
last=$(grep "^EV	7001	" "$CTLUA_OUT" | tail -n 1 | cut -f3)
first=$(grep "^EV	7001	" "$CTLUA_OUT" | head -n 1 | cut -f3)
# the counter is read in the callback: the first lone event's own wakeup is in it
is "$first" 1 "the first lone event woke the reader (wakeups 1 when its callback ran)"
is "$last" "$LONE" "each of the $LONE lone events woke it once (wakeups $LONE)"

# --- a burst while the reader is busy: next to no wakeups --------------------------------
send 7002 "$BURST"
ms=$(wait_count 7002 "$BURST" 20)
ok $? "all $BURST events of a burst reach the callback (${ms} ms after the last was sent)"
w0=$(grep "^EV	7002	" "$CTLUA_OUT" | head -n 1 | cut -f3)
w1=$(grep "^EV	7002	" "$CTLUA_OUT" | tail -n 1 | cut -f3)
note "wakeups: $w0 at the burst's first callback, $w1 at its last"
cmp_ok "$((w1 - w0))" -le 3 "a busy reader is not woken: $((w1 - w0)) wakeups during $BURST events (at most 3)"

# --- and a lone event after the burst: the reader went back to sleep and is woken -------
sleep 0.3
send 7003 1
ms=$(wait_count 7003 1 2)
ok $? "a lone event after the burst reaches the callback within 2 s (${ms} ms)"
w2=$(grep "^EV	7003	" "$CTLUA_OUT" | cut -f3)
is "$w2" "$((w1 + 1))" "it woke the reader, which had gone back to sleep (wakeups $w1 -> $w2)"

ctlua_finish
is "$RC" 0 "ctlua exits 0 after ct.run" || show_ctlua
is "$ERR" "" "nothing on stderr" || show_ctlua
read -r _ events wakeups <<<"$(grep '^END' <<<"$OUT")"
is "$events" "$((LONE + BURST + 1))" "the program emitted one event per datagram ($events)"
cmp_ok "$wakeups" -le "$((LONE + 1 + w1 - w0 + 1))" "wakeups in all: $wakeups for $events events"

done_testing
