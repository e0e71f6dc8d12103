#!/bin/bash
# 34-verdict.t - per-flow verdicts set from Lua decide before any rule; ct.forget hands
# the flow back to the rules; packets the parser cannot use (fragments) pass and are counted.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup
udp_listen "$NS_A" 6100
out=$LISTEN_OUT

# A rule allocates everything to 6100 with mark 1; per-flow verdicts override it:
# sport 43001 -> alloc with mark 9, sport 43002 -> drop, sport 43003 -> drop, then forgotten.
cat >"$TEST_TMP/verdict.lua" <<'EOF_LUA'
local a, b = arg[2], arg[3]
ct.rule{proto="udp", dport=6100, action="alloc", mark=1, timeout=60000}
local function flow(sport) return ct.tuple{src=b, dst=a, sport=sport, dport=6100, proto="udp"} end
assert(ct.verdict(flow(43001), "alloc", {mark=9, timeout=100000}))
assert(ct.verdict(flow(43002), "drop"))
assert(ct.verdict(flow(43003), "drop"))
print("FORGET", ct.forget(flow(43003)))
print("AGAIN", ct.forget(flow(43003)))
local link <close> = assert(ct.attach(arg[1]))
io.stdout:flush()
ct.run(tonumber(arg[4]))
local s = ct.stats()
print("STATS", s.by_verdict, s.by_rule, s.fragments)
EOF_LUA

ctlua_start "$NS_A" 20 "$TEST_TMP/verdict.lua" "$IF_A" "$ADDR_A" "$ADDR_B" 3
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
udp_send "$NS_B" "$ADDR_A" 6100 43001 v-43001
udp_send "$NS_B" "$ADDR_A" 6100 43002 v-43002
udp_send "$NS_B" "$ADDR_A" 6100 43003 v-43003
# 3000 bytes over a 1500-byte MTU leave NS_B as two IPv4 fragments.
head -c 3000 /dev/zero | tr '\0' x |
	timeout 3 ip netns exec "$NS_B" socat -u STDIN "UDP4-SENDTO:$ADDR_A:6101"
sleep 0.3
ctlua_finish
is "$RC" 0 "ctlua exits 0" || show_ctlua
like "$OUT" $'FORGET\ttrue' "ct.forget of a stored verdict returns true"
like "$OUT" "AGAIN	nil	ENOENT: no verdict for udp $ADDR_B:43003 → $ADDR_A:6100	2" \
	"forgetting it again: nil, ENOENT naming the flow, 2"

e=$(ct_entry "$NS_A" "sport=43001 dport=6100 ")
like "$e" ' mark=9 ' "the per-flow alloc verdict beats the rule (mark 9, not 1)"
t=$(ct_timeout "$e")
cmp_ok "${t:-0}" -gt 60 "and its timeout is the verdict's 100 s, not the rule's 60 s"
is "$(ct_entry "$NS_A" "sport=43002 dport=6100 ")" "" "the drop verdict made no entry"
like "$(sort "$out" | tr '\n' ' ')" '^v-43001 v-43003 $' \
	"the dropped flow's datagram never arrived; the others did"
like "$(ct_entry "$NS_A" "sport=43003 dport=6100 ")" ' mark=1 ' \
	"the forgotten flow fell back to the rule (mark 1)"
like "$OUT" $'STATS\t2\t1\t[1-9]' \
	"stats: 2 misses decided by verdicts, 1 by the rule, fragments counted"

# --- an alloc answer where netfilter tracks nothing: ctlua creates the entry at once ---
cat >"$TEST_TMP/answer.lua" <<'EOF_LUA'
ct.on("miss", function(ev)
	if ev.dport == 6200 then return "alloc", {mark=12, timeout=50000} end
end)
ct.on("alloc", function(ev)
	print("ALLOC", ev.dir, ev.sport, ev.dport, ev.action)
end)
local link <close> = assert(ct.attach(arg[1]))
io.stdout:flush()
ct.run(tonumber(arg[2]))
print("ALLOC_OK", ct.stats().alloc_ok)
EOF_LUA
ctlua_start "$NS_A" 20 "$TEST_TMP/answer.lua" "$IF_A" 2
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
udp_send "$NS_B" "$ADDR_A" 6200 43100 answer
ctlua_finish
is "$RC" 0 "the answering policy exits 0" || show_ctlua
like "$(ct_entry "$NS_A" "sport=43100 dport=6200 ")" ' mark=12 ' \
	"the callback's alloc answer created the entry at once, with its mark"
like "$OUT" $'ALLOC\trequest\t43100\t6200\talloc' \
	"that allocation is reported as an alloc event from a request" || show_ctlua
like "$OUT" $'ALLOC_OK\t1' "and counted in alloc_ok" || show_ctlua
done_testing
