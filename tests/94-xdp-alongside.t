#!/bin/bash
# 94-xdp-alongside.t - XDP alongside TC: one ctlua with TC on one interface and XDP on
# another decides both (events name each interface); an XDP link follows its interface
# (lost when deleted, attached again with wait=true when it is back); `ctlua run` serves
# an XDP link: `ctlua status` says its hook and mode, a reload keeps the same link (the
# program id does not change), SIGTERM leaves nothing.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/service.sh
source tests/lib/xdp.sh

pair_test_setup
nl=$'\n'
tab=$'\t'
NAME=t94-$$
SOCK=/run/ctlua/$NAME.sock
trap 'rm -f "$SOCK"; _ns_cleanup' EXIT

# A second pair between the same namespaces: veth-c in NS_A, veth-d in NS_B.
IF_C=veth-c
IF_D=veth-d
ADDR_C=198.18.1.1
ADDR_D=198.18.1.2
second_pair()
{
	ip -n "$NS_A" link add "$IF_C" type veth peer name "$IF_D" netns "$NS_B" &&
	ip -n "$NS_A" addr add "$ADDR_C/24" dev "$IF_C" &&
	ip -n "$NS_B" addr add "$ADDR_D/24" dev "$IF_D" &&
	ip -n "$NS_A" link set "$IF_C" up &&
	ip -n "$NS_B" link set "$IF_D" up || return 1
	for _ in $(seq 50); do
		ip -n "$NS_A" link show "$IF_C" | grep -q LOWER_UP && return 0
		sleep 0.1
	done
	return 1
}
second_pair || BAIL_OUT "cannot create the second veth pair"

udp_listen "$NS_A" 7000
out7000=$LISTEN_OUT
udp_listen "$NS_A" 7001
out7001=$LISTEN_OUT
received() { sleep 0.3; sort "$@" | tr '\n' ' '; }

# --- TC on veth-a and XDP on veth-c, in one ctlua -------------------------------------------
cat >"$TEST_TMP/both.lua" <<'EOF'
ct.rule{proto="udp", dport=7000, action="drop"}
ct.default("alloc")
local a = assert(ct.attach(arg[1]))
local c = assert(ct.attach(arg[2], {hook = "xdp", wait = true}))
ct.on("link", function(ev)
	print("LINK", ev.what, ev.ifname, ev.dir)
	io.stdout:flush()
end)
ct.on("drop", function(ev)
	print("DROP", ev.ifname, ev.dir, ev.dport)
	print("EXPLAIN", ev.ifname, ct.explain(ev):match("at XDP[^\n]*") or "-")
	io.stdout:flush()
end)
print("READY", a, c, c.xdp_mode)
io.stdout:flush()
ct.run(tonumber(arg[3]))
local st = ct.stats()
print("END", a.attached, c.attached, c.xdp_mode, st.drops, st.alloc_ok)
EOF
ctlua_start "$NS_A" 40 "$TEST_TMP/both.lua" "$IF_A" "$IF_C" 9
wait_line "$CTLUA_OUT" '^READY' 10
is "$(grep '^READY' "$CTLUA_OUT")" "READY${tab}link $IF_A ingress${tab}link $IF_C ingress at xdp${tab}native" \
	"one ctlua: TC on $IF_A, XDP (native) on $IF_C"
like "$(tc -n "$NS_A" filter show dev "$IF_A" ingress)" ctlua_ingress "  $IF_A has ctlua's filter"
is "$(xdp_word "$NS_A" "$IF_A")" "" "  and no XDP program"
is "$(xdp_word "$NS_A" "$IF_C")" xdp "  $IF_C has the XDP program"
is "$(tc -n "$NS_A" filter show dev "$IF_C" ingress)" "" "  and no filter"
udp_send "$NS_B" "$ADDR_A" 7000 42000 a-7000
udp_send "$NS_B" "$ADDR_C" 7000 42000 c-7000
udp_send "$NS_B" "$ADDR_A" 7001 42001 a-7001
udp_send "$NS_B" "$ADDR_C" 7001 42001 c-7001
is "$(received "$out7000" "$out7001")" "a-7001 c-7001 " "the drop rule holds on both, the default allocates on both"
is "$(ip netns exec "$NS_A" conntrack -L 2>/dev/null | grep -c 'dport=7001')" 2 \
	"  an entry per allocated flow (NS_A tracks nothing itself)"
wait_line "$CTLUA_OUT" "^DROP${tab}$IF_C" 3
is "$(grep '^DROP' "$CTLUA_OUT" | sort)" "DROP${tab}$IF_A${tab}ingress${tab}7000${nl}DROP${tab}$IF_C${tab}ingress${tab}7000" \
	"  a drop event from each, naming its interface"
is "$(grep '^EXPLAIN' "$CTLUA_OUT" | sort | head -n 2)" "EXPLAIN${tab}$IF_A${tab}-${nl}EXPLAIN${tab}$IF_C${tab}at XDP: ctlua_xdp ran it, calling bpf_xdp_ct_lookup and bpf_xdp_ct_alloc where the names below say bpf_skb_; a drop is XDP_DROP" \
	"  ct.explain says which drop happened at XDP"

# the XDP link follows its interface: deleted, then back (wait=true)
ip -n "$NS_A" link del "$IF_C"
wait_line "$CTLUA_OUT" "^LINK${tab}lost${tab}$IF_C" 5
has_line "$(cat "$CTLUA_OUT")" "LINK${tab}lost${tab}$IF_C${tab}ingress" "deleting $IF_C: its XDP link is lost"
like "$(cat "$CTLUA_ERR")" "'$IF_C' was deleted: its ingress link is lost; it attaches again when the interface is back" \
	"  stderr says so"
second_pair
wait_line "$CTLUA_OUT" "^LINK${tab}attached${tab}$IF_C" 5
has_line "$(cat "$CTLUA_OUT")" "LINK${tab}attached${tab}$IF_C${tab}ingress" "  and attaches again when it is back"
is "$(xdp_word "$NS_A" "$IF_C")" xdp "  at XDP, native"
: >"$out7000"
udp_send "$NS_B" "$ADDR_C" 7000 42002 c-again
is "$(received "$out7000")" "" "  and drops again there"
ctlua_finish
like "$OUT" "${nl}END${tab}true${tab}true${tab}native${tab}3${tab}2\$" \
	"at the end both links are attached; 3 drops, 2 allocations" || show_ctlua
is "$(xdp_word "$NS_A" "$IF_C")$(tc -n "$NS_A" filter show dev "$IF_A" ingress)" "" \
	"after exit: no XDP program on $IF_C, no filter on $IF_A"
is "$(owner_records "$NS_A")" "" "  and no ownership record"

# --- ctlua run: an XDP link served, reloaded, stopped ----------------------------------------
POLDIR=$TEST_TMP/policies
mkdir -m 700 "$POLDIR"
POL=$POLDIR/$NAME.lua
prog_id() { ip -n "$NS_A" -d link show dev "$IF_A" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p'; }

# a policy that takes one interface at both hooks does not start
policy "assert(ct.attach('$IF_A', {hook = 'xdp'}))
assert(ct.attach('$IF_A'))"
ctlua_run "$NS_A" 20 run "$POL"
is "$RC" 1 "a policy with $IF_A at XDP and at TC: exit 1"
# (the commit attaches the newest link first: the XDP one is the one refused)
like "$ERR" "policy not started: $POL:1: '$IF_A' ingress is already attached by this ctlua at tc: one hook decides an interface's flows; detach that link first" \
	"  refused, naming the ct.attach and the hook that holds it" || show_ctlua
is "$(xdp_word "$NS_A" "$IF_A")$(tc -n "$NS_A" filter show dev "$IF_A" ingress)" "" \
	"  and nothing stays attached"

policy "ct.rule{proto='udp', dport=7000, action='drop'}
assert(ct.attach('$IF_A', {hook = 'xdp'}))"
ctlua_start "$NS_A" 60 run "$POL"
SVC=$CTLUA_PID
SVC_ERR=$CTLUA_ERR
wait_line "$SVC_ERR" 'generation 1' 10 || BAIL_OUT "the service did not start: $(cat "$SVC_ERR")"
S1=$("$CTLUA" status "$NAME")
like "$S1" "${nl}attachments:${nl}  $IF_A ingress attached=true hook=xdp mode=native${nl}" \
	"ctlua status: the XDP link, its mode" || diag_text "$S1"
id1=$(prog_id)
like "$id1" '^[0-9]+$' "ip link shows its program"
: >"$out7000"; : >"$out7001"
udp_send "$NS_B" "$ADDR_A" 7000 42010 drop-g1
udp_send "$NS_B" "$ADDR_A" 7001 42011 pass-g1
is "$(received "$out7000" "$out7001")" "pass-g1 " "generation 1 drops 7000"

policy "ct.rule{proto='udp', dport=7001, action='drop'}
assert(ct.attach('$IF_A', {hook = 'xdp'}))"
kill -HUP "$(ctlua_self)"
wait_line "$SVC_ERR" 'generation 2' 10
is "$(prog_id)" "$id1" "a reload keeps the XDP link: the same program, never off"
like "$("$CTLUA" status "$NAME")" "${nl}generation: 2${nl}.*  $IF_A ingress attached=true hook=xdp mode=native${nl}" \
	"  status: generation 2, still attached"
: >"$out7000"; : >"$out7001"
udp_send "$NS_B" "$ADDR_A" 7000 42020 pass-g2
udp_send "$NS_B" "$ADDR_A" 7001 42021 drop-g2
is "$(received "$out7000" "$out7001")" "pass-g2 " "generation 2's rule decides at XDP"

# a reload cannot move the interface to TC while the XDP link holds it (api.md)
policy "assert(ct.attach('$IF_A'))"
kill -HUP "$(ctlua_self)"
wait_line "$SVC_ERR" 'runs on' 10
like "$(cat "$SVC_ERR")" "reload failed, generation 2 runs on: $POL:1: '$IF_A' ingress is already attached by this ctlua; detach that link first" \
	"a reload that moves $IF_A to TC fails, and generation 2 runs on" || diag_text "$(cat "$SVC_ERR")"
is "$(prog_id)$(tc -n "$NS_A" filter show dev "$IF_A" ingress)" "$id1" "  the XDP link stays, no filter is added"

kill -TERM "$(ctlua_self)"
wait "$SVC"
is "$?" 0 "SIGTERM: the service exits 0"
is "$(xdp_word "$NS_A" "$IF_A")" "" "  and leaves no XDP program"
is "$(owner_records "$NS_A")" "" "  and no ownership record"

done_testing
