#!/bin/bash
# 92-xdp-decides.t - one policy decides real packets the same at TC and at XDP, native and
# generic (hook="xdp"): rule drop, rule pass, per-flow verdict, default alloc; the same
# events (kind, dir, interface, rule) and counters; the link says its hook and mode, and
# `ip link` shows the mode the kernel took; at exit nothing is left (no XDP program, no
# filter, no ownership record), also after SIGKILL; the parser's VLAN tags and IPv6
# extension headers at XDP; jumbo frames at MTU 9000.
#
# NS_A has no conntrack hooks, so every entry `conntrack -L` shows there was made by
# ctlua's program, and a drop is a datagram that never arrives.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/xdp.sh

pair_test_setup
tab=$'\t'

udp_listen "$NS_A" 7000
out7000=$LISTEN_OUT
udp_listen "$NS_A" 7001
out7001=$LISTEN_OUT
udp_listen "$NS_A" 7002
out7002=$LISTEN_OUT

# arg: ifname, hook, xdp_mode ("" for the default), seconds
cat >"$TEST_TMP/policy.lua" <<EOF
local ifname, hook, mode, secs = arg[1], arg[2], arg[3], tonumber(arg[4])
local drop7000 = ct.rule{proto="udp", dport=7000, action="drop"}
local pass7002 = ct.rule{proto="udp", dport=7002, action="pass"}
ct.default("alloc")
for _, src in ipairs{"$ADDR_B", "$ADDR6_B"} do
	local dst = src:find(":") and "$ADDR6_A" or "$ADDR_A"
	assert(ct.verdict(ct.tuple{src=src, dst=dst, sport=42009, dport=7001, proto="udp"}, "drop"))
end
local names = {[drop7000] = "drop7000", [pass7002] = "pass7002"}
local function show(ev)
	print("EV", ev.kind, ev.family, ev.sport, ev.dport, ev.action, ev.ifname, ev.dir,
	      names[ev.rule] or "-")
end
for _, k in ipairs{"miss", "alloc", "alloc_error", "drop"} do ct.on(k, show) end
local opts = {hook = hook ~= "tc" and hook or nil, xdp_mode = mode ~= "" and mode or nil}
local link = assert(ct.attach(ifname, opts))
print("LINK", tostring(link), link.hook, tostring(link.xdp_mode), link.ifindex, link.attached)
io.stdout:flush()
ct.run(secs)
local st = ct.stats()
print("STATS", st.lookup_miss, st.by_rule, st.by_verdict, st.by_default, st.alloc_ok, st.drops,
      st.passes)
EOF

# send: one datagram per flow, IPv4 and IPv6: rule drop, verdict drop, default alloc, rule pass
send()
{
	local a
	for a in "$ADDR_A" "$ADDR6_A"; do
		udp_send "$NS_B" "$a" 7000 42000 "7000-$a"
		udp_send "$NS_B" "$a" 7001 42009 "7001v-$a"
		udp_send "$NS_B" "$a" 7001 42010 "7001d-$a"
		udp_send "$NS_B" "$a" 7002 42002 "7002-$a"
	done
}

received() { sleep 0.3; cat "$out7000" "$out7001" "$out7002" | sort | tr '\n' ' '; }
want_rx=$(printf '%s\n' "7001d-$ADDR_A" "7001d-$ADDR6_A" "7002-$ADDR_A" "7002-$ADDR6_A" |
	sort | tr '\n' ' ')

# run HOOK MODE WORD: the policy at HOOK (MODE: xdp_mode, "" for the default), expecting
# `ip link` to show WORD while it runs; sets EVENTS, STATS, LINK for the comparison.
run()
{
	local hook=$1 mode=$2 word=$3 what="$1${2:+ $2}" entries
	: >"$out7000"; : >"$out7001"; : >"$out7002"
	ip netns exec "$NS_A" conntrack -F 2>/dev/null
	ctlua_start "$NS_A" 20 "$TEST_TMP/policy.lua" "$IF_A" "$hook" "$mode" 3
	if [[ "$hook" == tc ]]; then
		wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
	else
		wait_xdp "$NS_A" "$IF_A" "$word" "$CTLUA_PID"
	fi
	is "$(xdp_word "$NS_A" "$IF_A")" "$word" "$what: ip link shows '${word:-no xdp}' while it runs"
	send
	is "$(received)" "$want_rx" "$what: what arrives: the default's alloc and the pass rule's flows"
	entries=$(ip netns exec "$NS_A" conntrack -L 2>/dev/null | grep -c 'dport=7001')
	is "$entries" 2 "$what: conntrack holds the allocated flows (v4, v6), made by ctlua"
	ctlua_finish
	is "$RC/$ERR" "0/" "$what: ctlua exits 0, nothing on stderr" || show_ctlua
	EVENTS=$(grep "^EV" <<<"$OUT" | sort)
	STATS=$(grep "^STATS" <<<"$OUT")
	LINK=$(grep "^LINK" <<<"$OUT")
	is "$(xdp_word "$NS_A" "$IF_A")" "" "$what: after exit no XDP program is on $IF_A"
	is "$(tc -n "$NS_A" filter show dev "$IF_A" ingress)" "" "$what: and no filter"
	is "$(owner_records "$NS_A")" "" "$what: and no ownership record"
}

run tc "" ""
tc_events=$EVENTS
tc_stats=$STATS
ifindex=$(ip netns exec "$NS_A" cat "/sys/class/net/$IF_A/ifindex")
is "$LINK" "LINK${tab}link $IF_A ingress${tab}tc${tab}nil${tab}$ifindex${tab}true" \
	"tc: the link says hook tc, no xdp_mode"
is "$(wc -l <<<"$tc_events")" 14 "tc: 14 events: 8 misses, 4 drops, 2 allocs" ||
	diag_text "$tc_events"
like "$tc_events" "EV${tab}drop${tab}ipv4${tab}42000${tab}7000${tab}drop${tab}$IF_A${tab}ingress${tab}drop7000" \
	"tc: a rule's drop event names the rule, the interface and the direction"
like "$tc_events" "EV${tab}drop${tab}ipv6${tab}42009${tab}7001${tab}drop${tab}$IF_A${tab}ingress${tab}-" \
	"tc: a verdict's drop names no rule"
like "$tc_events" "EV${tab}alloc${tab}ipv6${tab}42010${tab}7001${tab}alloc${tab}$IF_A${tab}ingress${tab}-" \
	"tc: the default's allocation"
like "$tc_events" "EV${tab}miss${tab}ipv4${tab}42002${tab}7002${tab}pass${tab}$IF_A${tab}ingress${tab}pass7002" \
	"tc: the pass rule's miss"
is "$tc_stats" "STATS${tab}8${tab}4${tab}2${tab}2${tab}2${tab}4${tab}2" \
	"tc: 8 misses: 4 by rule, 2 by verdict, 2 by default; 2 allocs, 4 drops, 2 passes"

run xdp native xdp
is "$LINK" "LINK${tab}link $IF_A ingress at xdp${tab}xdp${tab}native${tab}$ifindex${tab}true" \
	"xdp native: the link says hook xdp, mode native"
is "$EVENTS" "$tc_events" "xdp native: the same events as at tc" || diag_text "$EVENTS"
is "$STATS" "$tc_stats" "xdp native: the same counters"

run xdp generic xdpgeneric
is "$LINK" "LINK${tab}link $IF_A ingress at xdp${tab}xdp${tab}generic${tab}$ifindex${tab}true" \
	"xdp generic: the link says mode generic"
is "$EVENTS" "$tc_events" "xdp generic: the same events as at tc" || diag_text "$EVENTS"
is "$STATS" "$tc_stats" "xdp generic: the same counters"

# the default on a veth is native: its driver has XDP
run xdp "" xdp
like "$LINK" "${tab}xdp${tab}native${tab}" "xdp without xdp_mode on a veth: native"
is "$EVENTS" "$tc_events" "  and the same events"

# --- SIGKILL: the kernel takes the link off with the process -----------------------------
ctlua_start "$NS_A" 20 "$TEST_TMP/policy.lua" "$IF_A" xdp generic 10
wait_xdp "$NS_A" "$IF_A" xdpgeneric "$CTLUA_PID"
pid=$(ctlua_self)
like "$pid" '^[0-9]+$' "the ctlua to kill runs"
kill -KILL "$pid"
ctlua_finish
for _ in $(seq 30); do [[ -z "$(xdp_word "$NS_A" "$IF_A")" ]] && break; sleep 0.1; done
is "$(xdp_word "$NS_A" "$IF_A")" "" "after kill -9 no XDP program is left on $IF_A"
: >"$out7000"; : >"$out7001"; : >"$out7002"
udp_send "$NS_B" "$ADDR_A" 7000 42100 "after-kill"
is "$(received)" "after-kill " "and the drop rule no longer drops"

# --- the parser at XDP: VLAN tags (QinQ too) and IPv6 extension headers ----------------
# Frames written whole on NS_B's veth (tests/lib/pkt_send.py): at XDP every tag is still
# in the data (the core takes the outer one out only after XDP), and two are walked.
SEND=$PWD/tests/lib/pkt_send.py
MAC_A=$(ip -n "$NS_A" -br link show "$IF_A" | awk '{ print $3 }')
sport=43000
for mode in native generic; do
	ctlua_start "$NS_A" 20 "$TEST_TMP/policy.lua" "$IF_A" xdp "$mode" 3
	wait_line "$CTLUA_OUT" '^LINK' 10
	ip netns exec "$NS_B" python3 "$SEND" eth "$IF_B" "$MAC_A" 8100:100 "$ADDR_B" "$ADDR_A" 7001 $((sport + 1)) 1
	ip netns exec "$NS_B" python3 "$SEND" eth "$IF_B" "$MAC_A" 88a8:200,8100:300 "$ADDR6_B" "$ADDR6_A" 7001 $((sport + 2)) 1
	ip netns exec "$NS_B" python3 "$SEND" eth "$IF_B" "$MAC_A" 88a8:200,8100:300 "$ADDR_B" "$ADDR_A" 7000 $((sport + 3)) 1
	ip netns exec "$NS_B" python3 "$SEND" udp "$ADDR6_A" 7001 $((sport + 4)) 1 --hop 8 --dstopts 24
	ctlua_finish
	like "$OUT" "EV${tab}alloc${tab}ipv4${tab}$((sport + 1))${tab}7001" "$mode: an 802.1Q flow is allocated at XDP" ||
		show_ctlua
	like "$OUT" "EV${tab}alloc${tab}ipv6${tab}$((sport + 2))${tab}7001" "$mode: a QinQ flow is allocated"
	like "$OUT" "EV${tab}drop${tab}ipv4${tab}$((sport + 3))${tab}7000${tab}drop${tab}$IF_A${tab}ingress${tab}drop7000" \
		"$mode: a QinQ flow to 7000 is dropped by the rule"
	like "$OUT" "EV${tab}alloc${tab}ipv6${tab}$((sport + 4))${tab}7001" \
		"$mode: an IPv6 flow behind hop-by-hop and destination options is allocated"
	sport=$((sport + 10))
done

# --- jumbo frames: a multi-buffer XDP program, so native attaches at MTU 9000 too ---------
ip -n "$NS_A" link set "$IF_A" mtu 9000
ip -n "$NS_B" link set "$IF_B" mtu 9000
big=$(head -c 8000 /dev/zero | tr '\0' j)
sport=42200
for mode in native generic; do
	sport=$((sport + 2))	# a new flow each time: the last one's entry is still there
	: >"$out7000"; : >"$out7001"; : >"$out7002"
	ctlua_start "$NS_A" 20 "$TEST_TMP/policy.lua" "$IF_A" xdp "$mode" 2
	wait_line "$CTLUA_OUT" '^LINK' 10
	udp_send "$NS_B" "$ADDR_A" 7000 "$sport" "$big"
	udp_send "$NS_B" "$ADDR_A" 7001 $((sport + 1)) "$big"
	sleep 0.3
	ctlua_finish
	like "$OUT" "^LINK${tab}link $IF_A ingress at xdp${tab}xdp${tab}$mode" "MTU 9000, $mode: attached" ||
		show_ctlua
	is "$(wc -c <"$out7000") $(wc -c <"$out7001")" "0 8001" \
		"  an 8000-byte datagram to 7000 is dropped, one to 7001 arrives"
	like "$OUT" "EV${tab}alloc${tab}ipv4${tab}$((sport + 1))${tab}7001" "  and its flow was allocated"
done

done_testing
