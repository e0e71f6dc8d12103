-- 07-nat.lua - step 7: NAT with bpf_ct_set_nat_info: the reply tuple rewritten, real
-- packets translated, and a rule that translates new flows.
--
-- usage: ctlua lab examples/07-nat.lua
--
-- bpf_ct_set_nat_info(ct, addr, port, manip) (6.1+, CONFIG_NF_NAT) works on an allocated,
-- not yet inserted entry: manip SRC (snat) or DST (dnat), the address in network order,
-- the port in host order (0: keep the port when the result is unique). It rewrites the
-- entry's REPLY tuple and sets IPS_{SRC,DST}_NAT and _NAT_DONE. ct.alloc takes
-- {snat = {addr=, port=}, dnat = {addr=, port=}}.
--
-- The entry only records the mapping. The packets are rewritten by netfilter's NAT
-- hooks, and those run in a namespace only while a NAT chain is registered there. On
-- this kernel (6.18, nf_tables) an empty nft table with nat chains in prerouting and
-- postrouting is enough: the chains hold no rule, they just make the hooks run, and the
-- hooks apply the mapping the entry carries. Without them the entry still says DNAT but
-- the packets go to the original port untouched (try: drop the nft line below, and the
-- connection is refused).

ct.policy{mode = "enforce", default = "pass", rules = {}}   -- a clean slate (step 1)
for _, kind in ipairs{"miss", "alloc", "alloc_error", "drop"} do ct.on(kind, nil) end

-- The NAT hooks: a table with two empty nat chains, in the server's namespace.
assert(os.execute("ip netns exec " .. lab.server .. " nft 'add table inet tour07; " ..
  "add chain inet tour07 pre { type nat hook prerouting priority dstnat; }; " ..
  "add chain inet tour07 post { type nat hook postrouting priority srcnat; }'"))

-- Listeners on the TRANSLATED ports only: nothing listens on TCP 7070 or UDP 7071.
local tcp9090 = assert(lab.listen{proto = "tcp", port = 9090})
local udp9091 = assert(lab.listen{proto = "udp", port = 9091})

-- 1. DNAT: the client's flow to server:7070 is sent to server:9090.
local t = ct.tuple{src = lab.addr.client, dst = lab.addr.server, sport = 44001, dport = 7070,
                   proto = "tcp"}
local e = assert(ct.alloc(t, {dnat = {addr = lab.addr.server, port = 9090}, timeout = 30000}))
print("   " .. tostring(e))
assert(e.reply.sport == 9090 and e.dnat.port == 9090, "reply " .. tostring(e.reply))
print("look: the reply tuple now comes FROM port 9090: " .. tostring(e.reply))

-- The real connection, from exactly that source port: the listener on 9090 accepts it,
-- though the client asked for 7070 (its answers come back from 7070, un-NATed).
assert(lab.connect{dport = 7070, sport = 44001}, "the connection to 7070 was not translated")
assert(tcp9090:received() == 1, "the listener on 9090 accepted nothing")
print("look: a real connection to port 7070 was accepted by the listener on 9090")

-- Another source port has no entry: netfilter makes its own, without NAT, and 7070 has
-- no listener.
assert(not lab.connect{dport = 7070, sport = 44002, timeout = 1000})
assert(tcp9090:received() == 1)
print("look: without the entry, the same connection to 7070 is refused")

-- The same for UDP: two datagrams to 7071 arrive at the listener on 9091.
assert(ct.alloc({src = lab.addr.client, dst = lab.addr.server, sport = 44003, dport = 7071,
                 proto = "udp"}, {dnat = {addr = lab.addr.server, port = 9091}}))
assert(lab.send{proto = "udp", dport = 7071, sport = 44003, count = 2})
os.execute("sleep 0.1")
assert(udp9091:received() == 2, "the listener on 9091 got " .. udp9091:received())
print("look: 2 datagrams sent to UDP 7071 were received on 9091")

-- 2. SNAT and port 0: the source becomes 198.18.0.9, the port is kept. Both manips can
-- be given at once; each only once (a second call for the same manip fails).
local s = ct.tuple{src = lab.addr.client, dst = lab.addr.server, sport = 44010, dport = 5370,
                   proto = "udp"}
local se = assert(ct.alloc(s, {snat = {addr = "198.18.0.9"}}))
assert(se.reply.dst == "198.18.0.9" and se.reply.dport == 44010, tostring(se.reply))
print("   " .. tostring(se))
print("look: snat with port 0 kept the source port: the reply goes to 198.18.0.9:44010")

-- 3. The address must be of the tuple's family: that is misuse, caught before the kernel.
local ok, err = pcall(ct.alloc, s, {dnat = {addr = lab.addr.server6}})
assert(not ok and err:match("dnat"), tostring(err))
print("   " .. err)

-- 4. The same decided on the packet path: a rule's dnat gives the entry the first packet
-- makes its mapping, so no flow needs to be known in advance (KERNEL.md section 6).
local rule = assert(ct.rule{proto = "tcp", dport = 7072, action = "alloc",
                            dnat = {addr = lab.addr.server, port = 9090}})
assert(lab.connect{dport = 7072, sport = 44020}, "the connection to 7072 was not translated")
assert(tcp9090:received() == 2, "the listener on 9090 accepted " .. tcp9090:received())
print("look: a rule's dnat sent a new connection to 7072 to the listener on 9090")
assert(ct.unrule(rule))
print("07-nat: ok")
