#!/bin/bash
# 86-nat-packet.t - snat and dnat of rules, per-flow verdicts and the default, on real
# packets: ctlua's TC program allocates at ingress with the mapping, and netfilter's NAT
# hooks then rewrite the flow's packets both ways (KERNEL.md section 6, "NAT at TC
# ingress"). A listener on the translated address receives them, and the client's reply
# comes from the address it sent to.
#
# NS_A has what that needs: conntrack in use (ct_hooks) and a nat chain, which registers
# the NAT hooks. The last part takes the nat chain away and shows that the entry alone
# translates nothing.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup
command -v python3 >/dev/null || BAIL_OUT "python3 is needed (scripts/install-deps)"
ECHO=$PWD/tests/lib/echo.py

# the translated addresses live in NS_A beside ADDR_A
ip -n "$NS_A" addr add 198.18.0.3/24 dev "$IF_A" || BAIL_OUT "cannot add 198.18.0.3"
ip -n "$NS_A" addr add 2001:db8::3/64 dev "$IF_A" nodad || BAIL_OUT "cannot add 2001:db8::3"
ct_hooks "$NS_A" || BAIL_OUT "cannot load the conntrack ruleset"
ip netns exec "$NS_A" nft -f - <<'NFT' || BAIL_OUT "cannot load the nat chain"
table inet ctlua_nat {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
	}
}
NFT

# echo servers: where dnat sends flows, and what snat flows reach
serve()
{
	local out=$TEST_TMP/echo-$1-$2-$3.out
	bg_run "$NS_A" python3 -u "$ECHO" serve "$1" "$2" "$3" >"$out"
	_ns_wait_bound "$NS_A" "${1:0:1}" "$3" || BAIL_OUT "no $1 echo on $2 $3"
}
serve udp 198.18.0.3 6000
serve tcp 198.18.0.3 6001
serve udp 2001:db8::3 6000
serve udp 198.18.0.1 5400
serve udp 198.18.0.3 6002
serve udp 198.18.0.1 5600
serve udp 198.18.0.3 6003
# a pool of ports on one address, and a pool of two addresses on one port
for port in 6010 6011 6012 6013; do serve udp 198.18.0.3 $port; done
ip -n "$NS_A" addr add 198.18.0.4/24 dev "$IF_A" || BAIL_OUT "cannot add 198.18.0.4"
ip -n "$NS_A" addr add 198.18.0.5/24 dev "$IF_A" || BAIL_OUT "cannot add 198.18.0.5"
serve udp 198.18.0.4 6020
serve udp 198.18.0.5 6020

cat >"$TEST_TMP/nat.lua" <<'LUA'
ct.mode("enforce")
ct.events{"miss", "alloc", "alloc_error"}
print("RULE", ct.rule{proto="udp", dport=5353, action="alloc",
	dnat={addr="198.18.0.3", port=6000}})
print("RULE", ct.rule{proto="tcp", dport=8080, action="alloc",
	dnat={addr="198.18.0.3", port=6001}})
print("RULE", ct.rule{proto="udp", dport=5353, action="alloc",
	dnat={addr="2001:db8::3", port=6000}})
print("RULE", ct.rule{proto="udp", dport=5400, action="alloc",
	snat={addr="198.18.0.9", port=7000}})
-- pools: one port of 6010-6013, one address of 198.18.0.4/31, picked per flow
print("RULE", ct.rule{proto="udp", dport=5900, action="alloc",
	dnat={addr="198.18.0.3", port={6010, 6013}}})
print("RULE", ct.rule{proto="udp", dport=5901, action="alloc",
	dnat={addr="198.18.0.4/31", port=6020}})
-- port 5700: the first packet is dropped, and the callback's answer maps the flow
print("RULE", ct.rule{proto="udp", dport=5700, action="drop"})
ct.on("miss", function(ev)
	if ev.rule == 7 then return "alloc", {dnat = {addr = "198.18.0.3", port = 6003}} end
end)
-- one flow by its own verdict; everything else by the default (an IPv6 flow fails there)
assert(ct.verdict("udp 198.18.0.2:40010 -> 198.18.0.1:5500", "alloc",
	{dnat={addr="198.18.0.3", port=6002}}))
assert(ct.default("alloc", {snat={addr="198.18.0.8", port=7100}}))
for _, r in ipairs(ct.rules()) do
	print("LIST", r.id, r.family, r.dnat and r.dnat.addr, r.dnat and r.dnat.port,
		r.snat and r.snat.addr, r.snat and r.snat.port)
end
local a, o = ct.default()
print("DEFAULT", a, o.snat.addr, o.snat.port)
local va, vo = ct.verdict("udp 198.18.0.2:40010 -> 198.18.0.1:5500")
print("VERDICT", va, vo.dnat.addr, vo.dnat.port)
-- ct.explain names the mapping of the rule that decided, and the call that refused
local function explain(ev)
	for l in ct.explain(ev):gmatch("[^\n]+") do
		if l:match("set_nat_info") then print("EXPLAIN", ev.rule, l) end
	end
end
ct.on("alloc", function(ev)
	print("ALLOC", ev.src, ev.sport, ev.dst, ev.dport, ev.rule)
	if ev.rule == 1 then explain(ev) end
end)
ct.on("alloc_error", function(ev)
	print("ALLOC_ERROR", ev.src, ev.dst, ev.dport, ev.err, ev.stage)
	explain(ev)
end)
assert(ct.attach(arg[1]))
ct.run(tonumber(arg[2]))
local s = ct.stats()
print("STATS", s.alloc_ok, s.alloc_error, s.lookup_hit, s.lookup_miss)
LUA

ctlua_start "$NS_A" 50 "$TEST_TMP/nat.lua" "$IF_A" 30
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID" || BAIL_OUT "ctlua did not attach"

send() { ip netns exec "$NS_B" python3 "$ECHO" send "$@"; }
echo_log() { cat "$TEST_TMP/echo-$1-$2-$3.out"; }

# --- DNAT, UDP over IPv4: two datagrams of one flow ---
is "$(send udp 198.18.0.1 5353 40000 one)" "reply one from 198.18.0.1 5353" \
	"dnat udp: the reply to 198.18.0.1:5353 comes from 198.18.0.1:5353"
is "$(send udp 198.18.0.1 5353 40000 two)" "reply two from 198.18.0.1 5353" \
	"dnat udp: so does the flow's second datagram's"
is "$(echo_log udp 198.18.0.3 6000)" "got one from 198.18.0.2 40000
got two from 198.18.0.2 40000" "the listener on 198.18.0.3:6000 received both"
e=$(ct_entry "$NS_A" "src=198.18.0.2 dst=198.18.0.1 sport=40000 dport=5353 ")
like "$e" "src=198.18.0.3 dst=198.18.0.2 sport=6000 dport=40000" \
	"the entry's reply tuple is the translated one"

# --- DNAT, TCP: the handshake works only when both directions are translated ---
is "$(send tcp 198.18.0.1 8080 40001 tcp-hello)" "reply tcp-hello from 198.18.0.1 8080" \
	"dnat tcp: a connection to 198.18.0.1:8080 is answered from 198.18.0.1:8080"
is "$(echo_log tcp 198.18.0.3 6001)" "got tcp-hello from 198.18.0.2 40001" \
	"the listener on 198.18.0.3:6001 accepted it"

# --- DNAT, UDP over IPv6 ---
is "$(send udp 2001:db8::1 5353 40002 six)" "reply six from 2001:db8::1 5353" \
	"dnat udp over IPv6: the reply comes from [2001:db8::1]:5353"
is "$(echo_log udp 2001:db8::3 6000)" "got six from 2001:db8::2 40002" \
	"the listener on [2001:db8::3]:6000 received it"

# --- SNAT: the listener sees the mapped source; the reply still reaches the client ---
is "$(send udp 198.18.0.1 5400 40003 snat)" "reply snat from 198.18.0.1 5400" \
	"snat udp: the reply reaches 198.18.0.2:40003 from 198.18.0.1:5400"
is "$(echo_log udp 198.18.0.1 5400)" "got snat from 198.18.0.9 7000" \
	"the listener saw the source 198.18.0.9:7000"

# --- a per-flow verdict's dnat, and the default's snat ---
is "$(send udp 198.18.0.1 5500 40010 verdict)" "reply verdict from 198.18.0.1 5500" \
	"a per-flow verdict's dnat: the reply comes from 198.18.0.1:5500"
is "$(echo_log udp 198.18.0.3 6002)" "got verdict from 198.18.0.2 40010" \
	"the listener on 198.18.0.3:6002 received it"
is "$(send udp 198.18.0.1 5600 40011 dflt)" "reply dflt from 198.18.0.1 5600" \
	"the default's snat: the reply reaches the client"
is "$(echo_log udp 198.18.0.1 5600)" "got dflt from 198.18.0.8 7100" \
	"the listener saw the default's source 198.18.0.8:7100"
# --- pools: each flow goes to one member, picked per flow; all of its datagrams follow ---
# (which member a tuple gets is the kernel's business: what is checked is what arrived)
# pool_member MARK FILES...: the one listener's file that got MARK, or what went wrong
pool_member()
{
	local mark=$1 hits

	shift
	hits=$(grep -l "got $mark " "$@")
	case $(grep -c . <<<"$hits") in
	1) echo "$hits" ;;
	0) echo "none" ;;
	*) echo "several:" $hits ;;
	esac
}
used_ports=
for sport in 40030 40031 40032 40033 40034 40035; do
	send udp 198.18.0.1 5900 "$sport" "pool$sport" >/dev/null
	send udp 198.18.0.1 5900 "$sport" "again$sport" >/dev/null
	first=$(pool_member "pool$sport" "$TEST_TMP"/echo-udp-198.18.0.3-601[0-3].out)
	like "$first" '-601[0-3]\.out$' "a port pool: flow $sport reached exactly one of 6010-6013" ||
		note "$first"
	is "$(pool_member "again$sport" "$TEST_TMP"/echo-udp-198.18.0.3-601[0-3].out)" "$first" \
		"and its second datagram reached the same port"
	first=${first%.out}
	used_ports+="${first##*-} "
done
ok "$(( $(tr ' ' '\n' <<<"$used_ports" | sort -u | grep -c .) > 1 ? 0 : 1 ))" \
	"the six flows went to more than one port of the pool ($used_ports)"
used_addrs=
for sport in 40040 40041 40042 40043; do
	is "$(send udp 198.18.0.1 5901 "$sport" "apool$sport")" "reply apool$sport from 198.18.0.1 5901" \
		"an address pool: flow $sport is answered from 198.18.0.1:5901"
	send udp 198.18.0.1 5901 "$sport" "again$sport" >/dev/null
	first=$(pool_member "apool$sport" "$TEST_TMP"/echo-udp-198.18.0.[45]-6020.out)
	like "$first" '-198\.18\.0\.[45]-6020\.out$' \
		"flow $sport reached exactly one of 198.18.0.4 and 198.18.0.5" || note "$first"
	is "$(pool_member "again$sport" "$TEST_TMP"/echo-udp-198.18.0.[45]-6020.out)" "$first" \
		"and its second datagram reached the same address"
	first=${first%-6020.out}
	used_addrs+="${first##*-} "
done
like "$used_addrs" "198.18.0.4 .*198.18.0.5|198.18.0.5 .*198.18.0.4" \
	"the four flows used both addresses ($used_addrs)"

# a callback's answer: the first datagram meets the drop rule, the answer makes the entry
like "$(send udp 198.18.0.1 5700 40013 first)" "^no reply" \
	"the callback flow's first datagram is dropped (the rule)"
is "$(send udp 198.18.0.1 5700 40013 again)" "reply again from 198.18.0.1 5700" \
	"the next one, after the answer's dnat, is answered from 198.18.0.1:5700"
is "$(echo_log udp 198.18.0.3 6003)" "got again from 198.18.0.2 40013" \
	"the listener on 198.18.0.3:6003 received it"
# the default's IPv4 address cannot translate an IPv6 flow: refused, not misapplied
send udp 2001:db8::1 5600 40012 v6 >/dev/null

ctlua_finish
is "$RC" 0 "ctlua exits 0" || show_ctlua
is "$ERR" "" "ctlua printed nothing on stderr" || show_ctlua
is "$(grep -c '^RULE' <<<"$OUT")" 7 "seven rules were added" || show_ctlua
has_line "$OUT" $'LIST\t1\tipv4\t198.18.0.3\t6000\tnil\tnil' \
	"ct.rules() shows the dnat, and the family its address implies" || show_ctlua
has_line "$OUT" $'LIST\t3\tipv6\t2001:db8::3\t6000\tnil\tnil' \
	"an IPv6 dnat makes the rule IPv6" || show_ctlua
has_line "$OUT" $'LIST\t4\tipv4\tnil\tnil\t198.18.0.9\t7000' "and shows the snat" || show_ctlua
has_line "$OUT" $'DEFAULT\talloc\t198.18.0.8\t7100' "ct.default() shows its snat" || show_ctlua
has_line "$OUT" $'VERDICT\talloc\t198.18.0.3\t6002' "ct.verdict(tuple) shows its dnat" ||
	show_ctlua
has_line "$OUT" $'ALLOC_ERROR\t2001:db8::2\t2001:db8::1\t5600\t-97\tsnat' \
	"the IPv6 flow the IPv4 default would translate fails at snat with EAFNOSUPPORT" ||
	show_ctlua
has_line "$OUT" $'EXPLAIN\t1\t  3. bpf_ct_set_nat_info: (dnat) 198.18.0.3 port 6000: ok' \
	"ct.explain of the dnat rule's alloc shows its mapping" || show_ctlua
has_line "$OUT" $'EXPLAIN\tnil\t  3. bpf_ct_set_nat_info: (snat) refused: EAFNOSUPPORT' \
	"ct.explain of the default's alloc_error names the refusing call" || show_ctlua
like "$(grep "^STATS" <<<"$OUT")" $'^STATS\t17\t1\t' \
	"17 allocations (10 from pools, one by the answer), one error (the IPv6 flow)" || show_ctlua

# --- without a nat chain, the mapping is in the entry and nothing is translated ---
ip netns exec "$NS_A" nft delete table inet ctlua_nat
ctlua_start "$NS_A" 10 -e '
ct.mode("enforce")
ct.rule{proto="udp", dport=5353, action="alloc", dnat={addr="198.18.0.3", port=6000}}
assert(ct.attach(arg[1]))
ct.run(3)' "$IF_A"
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID" || BAIL_OUT "ctlua did not attach"
like "$(send udp 198.18.0.1 5353 40020 plain)" "^no reply" \
	"no nat chain: no reply (the datagram went to 198.18.0.1:5353, where nothing listens)"
unlike "$(echo_log udp 198.18.0.3 6000)" "plain" "and 198.18.0.3:6000 did not receive it"
e=$(ct_entry "$NS_A" "src=198.18.0.2 dst=198.18.0.1 sport=40020 dport=5353 ")
like "$e" "src=198.18.0.3 dst=198.18.0.2 sport=6000 dport=40020" \
	"although the entry has the translated reply tuple"
ctlua_finish
is "$RC" 0 "ctlua exits 0" || show_ctlua

done_testing
