#!/bin/bash
# 22-l3.t - devices without a link header (tun here; wireguard and ipip alike): their
# packets start at the IP header, so ctlua attaches the programs that parse from there.
# Before, every such packet was counted as not_ip and passed undecided.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

require_root_kernel
require_ctlua
make_ns || BAIL_OUT "cannot create a namespace"
if ! ip -n "$NS" tuntap add dev tun0 mode tun 2>/dev/null; then
	skip_all "cannot create a tun device (/dev/net/tun)"
fi
# No one reads the tun: the packets are dropped after TC's egress hook has seen them.
ip -n "$NS" link set tun0 up
ip -n "$NS" addr add 198.18.99.1/24 dev tun0
ip -n "$NS" addr add 2001:db8:99::1/64 dev tun0 nodad

ctlua_run "$NS" 20 -e '
local tun = assert(ct.attach("tun0", {dir = "egress"}))
local lo = assert(ct.attach("lo"))
print("LAYER", tun.layer, lo.layer)
ct.default("alloc", {timeout = 60000, mark = 9})
ct.on("alloc", function(e) print("ALLOC", e.ifname, e.tuple) end)
os.execute("echo x | timeout 2 socat -u - UDP4-SENDTO:198.18.99.2:5353,sourceport=4444")
os.execute("echo x | timeout 2 socat -u - UDP6-SENDTO:[2001:db8:99::2]:53,sourceport=4445")
ct.run(0.5)
local s = ct.stats()
print("STATS", s.not_ip, s.malformed, s.alloc_ok)'
is "$RC" 0 "the script exits 0" || show_ctlua
like "$OUT" $'LAYER\tip\tethernet' "a tun link parses from the IP header, loopback from Ethernet" || show_ctlua
like "$OUT" $'ALLOC\ttun0\tudp 198.18.99.1:4444 → 198.18.99.2:5353' \
	"an IPv4 flow leaving through tun0 is decided and allocated" || show_ctlua
like "$OUT" $'ALLOC\ttun0\tudp \\[2001:db8:99::1\\]:4445 → \\[2001:db8:99::2\\]:53' \
	"and an IPv6 one" || show_ctlua
like "$OUT" $'STATS\t0\t0\t2' "nothing counted as not_ip or malformed" || show_ctlua
like "$(ct_entry "$NS" "src=198.18.99.1 dst=198.18.99.2 sport=4444 dport=5353 ")" ' mark=9 ' \
	"conntrack -L shows the entry"
like "$(ct_entry "$NS" "src=2001:db8:99::1 dst=2001:db8:99::2 sport=4445 dport=53 ")" ' mark=9 ' \
	"and the IPv6 one"

done_testing
