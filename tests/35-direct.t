#!/bin/bash
# 35-direct.t - ct.alloc and ct.lookup call the kfuncs at once, in ctlua's namespace:
# what they create is what `conntrack -L` shows, and the kernel's refusals come back
# as nil, "ENAME: ...", errno.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

ctlua_run "$NS_A" 20 -e '
local t = ct.tuple{src="198.18.0.2", dst="198.18.0.1", sport=1000, dport=80, proto="tcp"}
print("MISSING", ct.lookup(t))
local e = assert(ct.alloc(t, {timeout=30000, mark=5, status={"assured", "seen_reply"}}))
print("ENTRY", e.tuple, e.reply, e.mark, e.timeout > 25000 and e.timeout <= 30000)
print("AGAIN", ct.alloc(t))
print("REVERSE", ct.alloc(t.reply))
print("FOUND", ct.lookup(t.reply).mark)
print("PROTO", ct.alloc{src="198.18.0.2", dst="198.18.0.1", sport=1, dport=2, proto=1})
assert(ct.alloc({src="2001:db8::2", dst="2001:db8::1", sport=5353, dport=53, proto="udp"},
	{timeout=60000, mark=6}))
local s = ct.stats()
print("STATS", s.alloc_ok, s.alloc_error, s.errors.EEXIST, s.errors.EPROTO)'
is "$RC" 0 "the script exits 0" || show_ctlua
like "$OUT" $'MISSING\tnil\tENOENT: no conntrack entry for tcp 198.18.0.2:1000 → 198.18.0.1:80\t2' \
	"ct.lookup of a flow without an entry: nil, ENOENT naming it, 2" || show_ctlua
like "$OUT" $'ENTRY\ttcp 198.18.0.2:1000 → 198.18.0.1:80\ttcp 198.18.0.1:80 → 198.18.0.2:1000\t5\ttrue' \
	"ct.alloc returns the entry: tuple, reply, mark, timeout" || show_ctlua
like "$OUT" $'AGAIN\tnil\tEEXIST: bpf_ct_insert_entry refused tcp 198.18.0.2:1000 → 198.18.0.1:80: ' \
	"a second alloc of the same tuple: EEXIST" || show_ctlua
like "$OUT" $'REVERSE\tnil\tEEXIST: ' "an alloc of the reply direction: EEXIST too" || show_ctlua
like "$OUT" $'FOUND\t5' "ct.lookup finds the entry from its reply direction" || show_ctlua
is "$(grep '^PROTO' <<<"$OUT")" $'PROTO\tnil\tEPROTO: bpf_skb_ct_alloc failed for 1 198.18.0.2:1 → 198.18.0.1:2: the protocol is neither TCP nor UDP\t71' \
	"protocol 1 (ICMP): the kernel's EPROTO" || show_ctlua
like "$OUT" $'STATS\t2\t3\t2\t1' "alloc_ok 2, alloc_error 3 (two EEXIST, one EPROTO)" || show_ctlua

e=$(ct_entry "$NS_A" "src=198.18.0.2 dst=198.18.0.1 sport=1000 dport=80 ")
like "$e" '^tcp ' "conntrack -L shows the TCP entry"
like "$e" ' mark=5 ' "with the mark ct.alloc gave"
like "$e" 'ASSURED' "and the status"
cmp_ok "$(ct_timeout "$e")" -le 30 "and at most the 30 s timeout"
like "$(ct_entry "$NS_A" "src=2001:db8::2 dst=2001:db8::1 sport=5353 dport=53 ")" ' mark=6 ' \
	"conntrack -L shows the IPv6 UDP entry with its mark"
is "$(ip netns exec "$NS_A" conntrack -L 2>/dev/null | wc -l)" 2 "and nothing else was created"

# --- ct.change on an existing entry ------------------------------------------------------
ctlua_run "$NS_A" 20 -e '
local t = ct.tuple{src="2001:db8::2", dst="2001:db8::1", sport=5353, dport=53, proto="udp"}
local e = assert(ct.change(t, {mark=77, timeout=90000, status={"fixed_timeout"}}))
print("CHANGED", e.mark)
print("FIXED", ct.change(t, {timeout=1000}))
print("NONE", ct.change(ct.tuple{src="198.18.0.9", dst="198.18.0.1", sport=1, dport=2, proto="udp"}, {mark=1}))'
is "$RC" 0 "the ct.change script exits 0" || show_ctlua
e=$(ct_entry "$NS_A" "src=2001:db8::2 dst=2001:db8::1 sport=5353 dport=53 ")
like "$e" ' mark=77 ' "ct.change rewrote the mark conntrack -L shows"
cmp_ok "$(ct_timeout "$e")" -gt 80 "and the timeout (90 s)"
like "$OUT" $'FIXED\tnil\tEPERM: bpf_ct_change_timeout refused udp \\[2001:db8::2\\]:5353 → \\[2001:db8::1\\]:53: it has fixed_timeout' \
	"a new timeout on a fixed_timeout entry: the kernel's EPERM" || show_ctlua
like "$OUT" $'NONE\tnil\tENOENT: no conntrack entry for udp 198.18.0.9:1 → 198.18.0.1:2\t2' \
	"ct.change of a flow without an entry: ENOENT" || show_ctlua

# --- ct.alloc_many: 10 000 entries in one call -------------------------------------------
ctlua_run "$NS_A" 60 -e '
local ts = {}
for i = 1, 10000 do
	ts[i] = {src = "198.18.2." .. (i % 200 + 1), dst = "198.18.3.1", sport = 1024 + i, dport = 53, proto = "udp"}
end
ts[10001] = ct.tuple(ts[17])
local n, fails = ct.alloc_many(ts, {timeout = 120000, mark = 3})
print("MANY", n, #fails, fails[1].index, fails[1].errname, fails[1].err)
print(pcall(ct.alloc_many, {ts[1], {src = "x"}}))
local extra = {src = "198.18.9.1", dst = "198.18.9.2", sport = 1, dport = 2, proto = "udp", ttl = 3}
print(pcall(ct.alloc_many, {ts[2], extra}))
print(pcall(ct.alloc_many, {ts[3], {src = "198.18.9.1", dst = "2001:db8::1", sport = 1, dport = 2, proto = "udp"}}))
print(pcall(ct.alloc_many, {ts[3], {src = "198.18.9.1", dst = "198.18.9.2", sport = 1, dport = 70000, proto = "udp"}}))
print("MIXED", ct.alloc_many({ct.tuple{src = "198.18.9.3", dst = "198.18.9.4", sport = 5, dport = 6, proto = 17},
	{src = "198.18.9.3", dst = "198.18.9.4", sport = 7, dport = 6, proto = "tcp"}}, {timeout = 120000}))
local function three(port)
	local l = {}
	for i = 1, 3 do l[i] = {src = "198.18.9.5", dst = "198.18.9.6", sport = port + i, dport = 9, proto = "udp"} end
	return l
end
local before = ct.stats().events
ct.alloc_many(three(100))
print("QUIET", ct.stats().events - before)
ct.on("alloc", function() end)
ct.alloc_many(three(200))
print("HEARD", ct.stats().events - before)
ct.poll(0)	-- those three, to the first callback
-- all events of one batch reach the callback (they are queued before ct.run reads)
local got, burst = 0, {}
ct.on("alloc", function() got = got + 1 end)
for i = 1, 300 do burst[i] = {src = "198.18.9.7", dst = "198.18.9.8", sport = i, dport = 9, proto = "udp"} end
ct.alloc_many(burst)
ct.run(0.2)
print("DELIVERED", got)'
is "$RC" 0 "the ct.alloc_many script exits 0" || show_ctlua
like "$OUT" $'MANY\t10000\t1\t10001\tEEXIST\t-17' \
	"10000 created, the repeated tuple refused as EEXIST by its index" || show_ctlua
like "$OUT" "bad argument #1 to 'ct.alloc_many' \\(item 2: field 'src': 'x' is not an IPv4 or IPv6 address\\)" \
	"a bad item is named by its index" || show_ctlua
like "$OUT" "\\(item 2: unknown field 'ttl' \\(known: src, dst, sport, dport, proto\\)\\)" \
	"an item with a field too many is misuse" || show_ctlua
like "$OUT" "\\(item 2: 'src' and 'dst' are of different address families\\)" \
	"an item mixing families is misuse" || show_ctlua
like "$OUT" "\\(item 2: field 'dport': 70000 is out of range 0 to 65535\\)" \
	"a port of 70000 in an item is misuse" || show_ctlua
like "$OUT" $'MIXED\t2\t' "tuples and tables mix in one list" || show_ctlua
like "$OUT" $'\nQUIET\t0\n' "with no alloc callback, a batch emits no events" || show_ctlua
like "$OUT" $'\nHEARD\t3\n' "with one, an event per entry" || show_ctlua
like "$OUT" $'\nDELIVERED\t300$' "the 300 events of a batch all reach the callback" ||
	show_ctlua
is "$(ip netns exec "$NS_A" conntrack -L -m 3 2>/dev/null | grep -c 'dport=53 ')" 10000 \
	"conntrack -L shows all 10000 entries with mark 3"
done_testing
