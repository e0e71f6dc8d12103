#!/bin/bash
# 97-rule-ports.t - port matches on real packets: a rule's sport and dport, each one port
# or a range {lo, hi}, over IPv4 and IPv6. The first matching rule decides; a packet
# outside every range is left to the default. Each miss event names the rule that
# decided (nil: the default), and a dropped datagram never reaches its listener.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

udp_listen "$NS_A" 5000
out5000=$LISTEN_OUT
udp_listen "$NS_A" 5353
out5353=$LISTEN_OUT

cat >"$TEST_TMP/ports.lua" <<'EOF_LUA'
assert(ct.mode("enforce"))
local a = assert(ct.rule{proto = "udp", sport = {40000, 40009}, dport = {5000, 5009},
			 action = "drop"})
local b = assert(ct.rule{proto = "udp", family = "ipv6", sport = 40010, action = "alloc"})
local c = assert(ct.rule{proto = "udp", sport = {40020, 40029}, action = "pass"})
print("RULES", a, b, c)
for _, r in ipairs(ct.rules()) do
	print("LIST", r.id, type(r.sport) == "table" and r.sport[1] .. "-" .. r.sport[2] or r.sport,
	      type(r.dport) == "table" and r.dport[1] .. "-" .. r.dport[2] or tostring(r.dport))
end
ct.on("miss", function(ev)
	print("MISS", ev.family, ev.sport, ev.dport, ev.rule, ev.action)
end)
local link = assert(ct.attach(arg[1]))
ct.run(tonumber(arg[2]))
EOF_LUA

ctlua_start "$NS_A" 20 "$TEST_TMP/ports.lua" "$IF_A" 4
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"

# sport, dport, and what should decide: (family addr sport dport)
sends=(
	"$ADDR_A 40000 5000"	# a: both ranges' low ends
	"$ADDR_A 40009 5009"	# a: both high ends
	"$ADDR_A 40010 5000"	# sport past a's range; b is IPv6 only: the default
	"$ADDR_A 39999 5000"	# sport below a's range: the default
	"$ADDR_A 40005 5010"	# dport past a's range: the default
	"$ADDR6_A 40005 5005"	# a, over IPv6
	"$ADDR6_A 40010 5353"	# b
	"$ADDR_A 40025 5353"	# c
	"$ADDR6_A 40029 5000"	# c, over IPv6
)
for s in "${sends[@]}"; do
	read -r addr sport dport <<<"$s"
	ok_run "UDP $addr port $sport -> $dport" udp_send "$NS_B" "$addr" "$dport" "$sport" "from-$sport"
done
ctlua_finish
is "$RC" 0 "ctlua exits 0 after ct.run(4)" || show_ctlua
is "$ERR" "" "ctlua printed nothing on stderr" || show_ctlua

IFS=$'\t' read -r _ a b c <<<"$(grep '^RULES' <<<"$OUT")"
tab=$'\t'
is "$(grep '^LIST' <<<"$OUT")" "LIST${tab}$a${tab}40000-40009${tab}5000-5009
LIST${tab}$b${tab}40010${tab}nil
LIST${tab}$c${tab}40020-40029${tab}nil" "ct.rules() lists sport and dport as given" || show_ctlua

want="MISS${tab}ipv4${tab}40000${tab}5000${tab}$a${tab}drop
MISS${tab}ipv4${tab}40009${tab}5009${tab}$a${tab}drop
MISS${tab}ipv4${tab}40010${tab}5000${tab}nil${tab}pass
MISS${tab}ipv4${tab}39999${tab}5000${tab}nil${tab}pass
MISS${tab}ipv4${tab}40005${tab}5010${tab}nil${tab}pass
MISS${tab}ipv6${tab}40005${tab}5005${tab}$a${tab}drop
MISS${tab}ipv6${tab}40010${tab}5353${tab}$b${tab}alloc
MISS${tab}ipv4${tab}40025${tab}5353${tab}$c${tab}pass
MISS${tab}ipv6${tab}40029${tab}5000${tab}$c${tab}pass"
is "$(grep '^MISS' <<<"$OUT")" "$want" "each packet was decided by the first rule whose ports match" ||
	show_ctlua

got=$(sort <"$out5000" | tr '\n' ' ')
is "$got" "from-39999 from-40010 from-40029 " \
	"port 5000 received what no drop rule matched, not 40000 (dropped by rule $a)"
got=$(sort <"$out5353" | tr '\n' ' ')
is "$got" "from-40010 from-40025 " "port 5353 received both datagrams"
e=$(ct_entry "$NS_A" "src=$ADDR6_B dst=$ADDR6_A sport=40010 dport=5353 ")
like "$e" '^udp ' "rule $b (alloc) created the IPv6 entry for sport 40010"

done_testing
