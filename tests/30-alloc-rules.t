#!/bin/bash
# 30-alloc-rules.t - rules with action "alloc" create conntrack entries in the kernel, with
# the rule's timeout, mark and status, for IPv4 and IPv6, UDP and TCP.
#
# NS_A has no conntrack hooks, so netfilter tracks nothing there: every entry that
# `conntrack -L` shows in NS_A was made by ctlua's TC program.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

udp_listen "$NS_A" 5353
tcp_listen "$NS_A" 8080
tcp_out=$LISTEN_OUT

cat >"$TEST_TMP/rules.lua" <<'EOF'
ct.mode("enforce")
local udp = ct.rule{proto="udp", dport=5353, action="alloc", timeout=120000, mark=0x42}
local tcp = ct.rule{proto="tcp", dport=8080, action="alloc", timeout=60000,
	status={"seen_reply", "assured", "fixed_timeout"}}
print("RULES", udp, tcp)
ct.on("alloc", function(ev)
	print("ALLOC", ev.proto, ev.family, ev.src, ev.sport, ev.dst, ev.dport, ev.dir,
		ev.action, ev.rule, ev.err)
end)
local link = assert(ct.attach(arg[1]))
ct.run(tonumber(arg[2]))
EOF

ctlua_start "$NS_A" 20 "$TEST_TMP/rules.lua" "$IF_A" 4
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"

ok_run "UDP datagram to $ADDR_A:5353 from port 40000" udp_send "$NS_B" "$ADDR_A" 5353 40000
ok_run "a second datagram of that flow" udp_send "$NS_B" "$ADDR_A" 5353 40000
ok_run "UDP datagram to [$ADDR6_A]:5353 from port 40000" udp_send "$NS_B" "$ADDR6_A" 5353 40000
ok_run "UDP datagram to $ADDR_A:5354 (no rule)" udp_send "$NS_B" "$ADDR_A" 5354 40001
ok_run "TCP connection to $ADDR_A:8080 from port 40002" \
	tcp_connect "$NS_B" "$ADDR_A" 8080 40002 hello-tcp
ctlua_finish
is "$RC" 0 "ctlua exits 0 after ct.run(4)" || show_ctlua
is "$ERR" "" "ctlua printed nothing on stderr" || show_ctlua
is "$(cat "$tcp_out")" hello-tcp "the TCP payload reached the listener"

ct=$(ip netns exec "$NS_A" conntrack -L 2>&1)
note "conntrack -L in $NS_A:"
while IFS= read -r line; do note "  $line"; done <<<"$ct"

# --- UDP over IPv4 ---
e=$(ct_entry "$NS_A" "src=$ADDR_B dst=$ADDR_A sport=40000 dport=5353 ")
like "$e" '^udp ' "an IPv4 UDP entry src=$ADDR_B dst=$ADDR_A sport=40000 dport=5353 exists"
like "$e" ' mark=66 ' "its mark is the rule's 0x42"
t=$(ct_timeout "$e")
cmp_ok "$t" -ge 100 "its timeout ($t s) is at least 100 s (the rule says 120000 ms)"
cmp_ok "$t" -le 120 "its timeout ($t s) is at most 120 s"

# --- UDP over IPv6 ---
e=$(ct_entry "$NS_A" "src=$ADDR6_B dst=$ADDR6_A sport=40000 dport=5353 ")
like "$e" '^udp ' "an IPv6 UDP entry src=$ADDR6_B dst=$ADDR6_A sport=40000 dport=5353 exists"
like "$e" ' mark=66 ' "its mark is the rule's 0x42"
t=$(ct_timeout "$e")
cmp_ok "$t" -ge 100 "its timeout ($t s) is at least 100 s"
cmp_ok "$t" -le 120 "its timeout ($t s) is at most 120 s"

# --- no rule, no entry ---
is "$(ct_entry "$NS_A" "dport=5354 ")" "" "no entry for port 5354, which no rule matches"

# --- TCP ---
e=$(ct_entry "$NS_A" "src=$ADDR_B dst=$ADDR_A sport=40002 dport=8080 ")
like "$e" '^tcp ' "a TCP entry src=$ADDR_B dst=$ADDR_A sport=40002 dport=8080 exists"
like "$e" '\[ASSURED\]' "it is ASSURED (status from the rule)"
unlike "$e" 'UNREPLIED' "it is not UNREPLIED (seen_reply from the rule)"
t=$(ct_timeout "$e")
cmp_ok "$t" -le 60 "its timeout ($t s) is at most 60 s (the rule says 60000 ms)"
cmp_ok "$t" -ge 50 "its timeout ($t s) is at least 50 s"
like "$e" ' mark=0 ' "its mark is 0 (the rule sets none)"

# --- what the script saw ---
rules=$(grep '^RULES' <<<"$OUT")
like "$rules" $'^RULES\t[0-9]+\t[0-9]+$' "ct.rule returns numeric ids" || show_ctlua
IFS=$'\t' read -r _ udp_id tcp_id <<<"$rules"
isnt "$udp_id" "$tcp_id" "the two rules have different ids"
tab=$'\t'
like "$OUT" "ALLOC${tab}udp${tab}ipv4${tab}$ADDR_B${tab}40000${tab}$ADDR_A${tab}5353${tab}ingress${tab}alloc${tab}$udp_id${tab}0" \
	"an alloc event for the IPv4 UDP flow names its rule" || show_ctlua
like "$OUT" "ALLOC${tab}udp${tab}ipv6${tab}$ADDR6_B${tab}40000${tab}$ADDR6_A${tab}5353${tab}ingress${tab}alloc${tab}$udp_id${tab}0" \
	"an alloc event for the IPv6 UDP flow" || show_ctlua
like "$OUT" "ALLOC${tab}tcp${tab}ipv4${tab}$ADDR_B${tab}40002${tab}$ADDR_A${tab}8080${tab}ingress${tab}alloc${tab}$tcp_id${tab}0" \
	"an alloc event for the TCP flow" || show_ctlua
is "$(grep -c "${tab}5353${tab}" <<<"$OUT")" 2 "one alloc event per UDP flow (later packets hit the entry)" ||
	show_ctlua
unlike "$OUT" "${tab}5354${tab}" "no alloc event for port 5354"

done_testing
