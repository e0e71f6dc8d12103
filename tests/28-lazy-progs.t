#!/bin/bash
# 28-lazy-progs.t - start-up loads only ctlua_ingress (and ctlua_req); the egress and L3
# programs are loaded by the first ct.attach that needs them, as a second object on the
# first one's maps. They must decide from the same rules, verdicts and config (also one
# changed after they loaded), send events into the same ring buffer and count into the
# same counters; with maps of their own they would pass everything undecided.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

require_root_kernel
require_ctlua
if ! command -v socat >/dev/null 2>&1; then
	[[ "${CI:-}" == true ]] && BAIL_OUT "socat is missing (scripts/install-deps.sh installs it)"
	skip_all "needs socat"
fi
make_ns || BAIL_OUT "cannot create a namespace"
if ! ip -n "$NS" tuntap add dev tun0 mode tun 2>/dev/null; then
	[[ "${CI:-}" == true ]] && BAIL_OUT "cannot create a tun device (/dev/net/tun)"
	skip_all "cannot create a tun device (/dev/net/tun)"
fi
ip -n "$NS" link set tun0 up
ip -n "$NS" addr add 198.18.99.1/24 dev tun0
ip -n "$NS" addr add 198.18.98.1/32 dev lo

ctlua_run "$NS" 20 -e '
local lo = assert(ct.attach("lo"))
assert(ct.rule{proto = "udp", dport = 5301, action = "alloc", mark = 31})
assert(ct.verdict({src = "198.18.99.1", dst = "198.18.99.2", sport = 4446, dport = 5302,
	proto = "udp"}, "alloc", {mark = 32}))
ct.sync()
local eg = assert(ct.attach("lo", {dir = "egress"}))
local tun = assert(ct.attach("tun0", {dir = "egress"}))
print("LAYER", lo.layer, eg.layer, tun.layer)
ct.default("alloc", {timeout = 60000, mark = 33})
ct.on("alloc", function(e) print("ALLOC", e.ifname, e.tuple) end)
local function send(dst, sport)
	os.execute("echo x | timeout 2 socat -u - UDP4-SENDTO:" .. dst .. ",sourceport=" .. sport)
end
send("198.18.99.2:5301", 4444)
send("198.18.99.2:5302", 4446)
send("198.18.99.2:5303", 4447)
send("198.18.98.1:5304", 4448)
ct.run(0.5)
local s = ct.stats()
print("STATS", s.alloc_ok)'
is "$RC" 0 "the script exits 0" || show_ctlua
has_line "$OUT" $'LAYER\tethernet\tethernet\tip' "lo both ways from Ethernet, tun0 from the IP header" ||
	show_ctlua
has_line "$OUT" $'ALLOC\ttun0\tudp 198.18.99.1:4444 → 198.18.99.2:5301' \
	"egress_l3, loaded later, decides by a rule written before it loaded" || show_ctlua
has_line "$OUT" $'ALLOC\ttun0\tudp 198.18.99.1:4446 → 198.18.99.2:5302' \
	"and by a verdict written before" || show_ctlua
has_line "$OUT" $'ALLOC\ttun0\tudp 198.18.99.1:4447 → 198.18.99.2:5303' \
	"and by the default set after it loaded" || show_ctlua
has_line "$OUT" $'ALLOC\tlo\tudp 198.18.98.1:4448 → 198.18.98.1:5304' \
	"egress on lo, loaded later, decides by the default too" || show_ctlua
has_line "$OUT" $'STATS\t4' "the four allocations are counted in the one set of counters" || show_ctlua
like "$(ct_entry "$NS" "src=198.18.99.1 dst=198.18.99.2 sport=4444 dport=5301 ")" ' mark=31 ' \
	"the rule's mark is on the entry"
like "$(ct_entry "$NS" "src=198.18.99.1 dst=198.18.99.2 sport=4446 dport=5302 ")" ' mark=32 ' \
	"the verdict's mark"
like "$(ct_entry "$NS" "src=198.18.99.1 dst=198.18.99.2 sport=4447 dport=5303 ")" ' mark=33 ' \
	"the default's mark"
like "$(ct_entry "$NS" "src=198.18.98.1 dst=198.18.98.1 sport=4448 dport=5304 ")" ' mark=33 ' \
	"the default's mark on lo"

# The programs ctlua holds (its fds that fdinfo says are programs), counted by a shell it
# starts: ingress and req at start; one more per kind of attach, not one per attach.
ctlua_run "$NS" 20 -e '
local function progs()
	local p = io.popen("for f in /proc/$PPID/fdinfo/*; do grep -l prog_tag $f; done | wc -l")
	local n = p:read("n")
	p:close()
	return n
end
assert(ct.rule{proto = "udp", dport = 1, action = "drop"})
local n0 = progs()
local a = assert(ct.attach("lo", {dir = "egress"}))
local b = assert(ct.attach("tun0", {dir = "egress"}))
local n1 = progs()
assert(a:detach()); assert(b:detach())
local c = assert(ct.attach("lo", {dir = "egress"}))
local d = assert(ct.attach("tun0", {dir = "egress"}))
local e = assert(ct.attach("lo"))
print("PROGS", n0, n1, progs())'
is "$RC $OUT" $'0 PROGS\t2\t4\t4' \
	"2 programs after loading, 4 with egress and egress_l3, still 4 after attaching again" ||
	show_ctlua

done_testing
