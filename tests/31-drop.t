#!/bin/bash
# 31-drop.t - a "drop" rule stops packets before the stack sees them in enforce mode, and
# changes nothing in observe mode (where the decision is only reported).
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

udp_listen "$NS_A" 7000
out7000=$LISTEN_OUT
udp_listen "$NS_A" 7001
out7001=$LISTEN_OUT
tab=$'\t'

# send N PORT SPORT: N datagrams over IPv4 and N over IPv6, payloads "PORT-v4-i"/"PORT-v6-i".
send()
{
	local n=$1 port=$2 sport=$3 i
	for ((i = 1; i <= n; i++)); do
		udp_send "$NS_B" "$ADDR_A" "$port" "$sport" "$port-v4-$i"
		udp_send "$NS_B" "$ADDR6_A" "$port" "$sport" "$port-v6-$i"
	done
}

# Listener output after a short pause, so datagrams in flight are counted.
received() { sleep 0.3; sort "$1" | tr '\n' ' '; }

# --- the stack delivers to both ports without ctlua ---
send 1 7000 42000
is "$(received "$out7000")" "7000-v4-1 7000-v6-1 " "without ctlua, port 7000 receives"
: >"$out7000"

# --- enforce: 7000 dropped, 7001 delivered ---
cat >"$TEST_TMP/drop.lua" <<'EOF'
ct.mode(arg[3])
local id = ct.rule{proto="udp", dport=7000, action="drop"}
print("RULE", id)
ct.on("miss", function(ev)
	print("MISS", ev.family, ev.dport, ev.action, ev.rule)
end)
ct.on("drop", function(ev)
	print("DROP", ev.family, ev.dport, ev.action, ev.rule)
end)
local link = assert(ct.attach(arg[1]))
ct.run(tonumber(arg[2]))
print("MODE", ct.mode())
EOF

ctlua_start "$NS_A" 20 "$TEST_TMP/drop.lua" "$IF_A" 3 enforce
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
send 3 7000 42001
send 3 7001 42002
is "$(received "$out7000")" "" "enforce: nothing arrives on port 7000 (drop rule)"
is "$(received "$out7001")" "7001-v4-1 7001-v4-2 7001-v4-3 7001-v6-1 7001-v6-2 7001-v6-3 " \
	"enforce: every datagram to port 7001 (no rule) arrives"
ctlua_finish
is "$RC" 0 "ctlua exits 0" || show_ctlua
is "$ERR" "" "nothing on stderr" || show_ctlua
id=$(sed -n "s/^RULE${tab}//p" <<<"$OUT")
like "$id" '^[0-9]+$' "ct.rule returned an id" || show_ctlua
like "$OUT" "DROP${tab}ipv4${tab}7000${tab}drop${tab}$id" "a drop event for IPv4, naming the rule" ||
	show_ctlua
like "$OUT" "DROP${tab}ipv6${tab}7000${tab}drop${tab}$id" "a drop event for IPv6" || show_ctlua
unlike "$OUT" "DROP${tab}ipv.${tab}7001" "no drop event for port 7001" || show_ctlua
like "$OUT" "MODE${tab}enforce" "ct.mode() reads back enforce" || show_ctlua

# --- after exit the filter is gone and 7000 receives again ---
: >"$out7000"
send 1 7000 42003
is "$(received "$out7000")" "7000-v4-1 7000-v6-1 " "after ctlua exits, port 7000 receives again"
: >"$out7000"
: >"$out7001"

# --- observe: the same rule decides "drop" but nothing is dropped ---
ctlua_start "$NS_A" 20 "$TEST_TMP/drop.lua" "$IF_A" 3 observe
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
send 3 7000 42004
is "$(received "$out7000")" "7000-v4-1 7000-v4-2 7000-v4-3 7000-v6-1 7000-v6-2 7000-v6-3 " \
	"observe: every datagram to port 7000 arrives"
ctlua_finish
is "$RC" 0 "ctlua exits 0" || show_ctlua
is "$ERR" "" "nothing on stderr" || show_ctlua
id=$(sed -n "s/^RULE${tab}//p" <<<"$OUT")
like "$OUT" "MISS${tab}ipv4${tab}7000${tab}drop${tab}$id" \
	"observe: the miss callback saw ev.action == 'drop' (IPv4)" || show_ctlua
like "$OUT" "MISS${tab}ipv6${tab}7000${tab}drop${tab}$id" "... and for IPv6" || show_ctlua
like "$OUT" "MODE${tab}observe" "ct.mode() reads back observe" || show_ctlua

done_testing
