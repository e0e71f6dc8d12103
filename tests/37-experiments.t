#!/bin/bash
# 37-experiments.t - ct.alloc and ct.lookup with the kfuncs' opts as experiments give
# them: every error bpf_skb_ct_alloc documents (and the ones it does not) produced
# against the real kernel and checked by name; zones, NAT, a peer namespace by name,
# and a fixed timeout that real traffic does not refresh.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

# The first word of each line after TAG: the errno name the call returned.
errname() { sed -n "s/^$1\tnil\t\([A-Z]*\):.*/\1/p" <<<"$OUT"; }

# --- every error, by name --------------------------------------------------------------
ctlua_run "$NS_A" 20 -e '
local u = {src="198.18.0.2", dst="198.18.0.1", sport=4000, dport=53, proto="udp"}
print("RESERVED", ct.alloc(u, {reserved=1}))
print("RESERVED16", ct.alloc(u, {reserved=1, opts_size=16}))
print("NETNS_BELOW", ct.alloc(u, {netns=-2}))
print("OPTS_SIZE", ct.alloc(u, {opts_size=13}))
print("ZONE_IN_12", ct.alloc(u, {zone=5, opts_size=12}))
print("L4PROTO", ct.alloc(u, {l4proto=1}))
print("NONET", ct.alloc(u, {netns=2000000}))
print("TUPLE_SIZE", ct.alloc(u, {tuple_size=11}))
print("LOOKUP", ct.lookup(u))
assert(ct.alloc(u, {timeout=60000}))
print("DUP", ct.alloc(u))
local w = {src="198.18.0.2", dst="198.18.0.1", sport=4001, dport=53, proto="udp"}
print("SET_STATUS", ct.alloc(w, {status=1}))
print("RIGHT_AFTER", ct.alloc(w, {mark=4}))
local v = {src="198.18.0.2", dst="198.18.0.1", sport=4002, dport=53, proto="udp"}
assert(not ct.alloc(v, {status=1}))
print("GONE", ct.lookup(v))
print("CHANGE_STATUS", ct.change(u, {status=1}))
print("LOOKUP_SIZE", ct.lookup(u, {opts_size=20}))
print("LOOKUP_PROTO", ct.lookup(u, {l4proto="tcp"}))'
is "$RC" 0 "the error script exits 0: every refusal is a return value" || show_ctlua
is "$(errname RESERVED)" EINVAL "reserved not zero (12-byte opts): EINVAL"
is "$(errname RESERVED16)" EINVAL "reserved not zero (16-byte opts): EINVAL"
is "$(errname NETNS_BELOW)" EINVAL "netns_id below -1: EINVAL"
is "$(errname OPTS_SIZE)" EINVAL "opts_size 13: EINVAL"
is "$(errname ZONE_IN_12)" EINVAL "a zone id in the 12-byte opts: EINVAL"
is "$(errname L4PROTO)" EPROTO "l4proto 1 (ICMP): EPROTO"
is "$(errname NONET)" ENONET "a netns id nobody has: ENONET"
is "$(errname TUPLE_SIZE)" EAFNOSUPPORT "tuple_size 11: EAFNOSUPPORT"
is "$(errname LOOKUP)" ENOENT "ct.lookup of a missing entry: ENOENT"
is "$(errname DUP)" EEXIST "a duplicate insert: EEXIST (confirmed by a lookup)"
is "$(errname SET_STATUS)" EBUSY "bpf_ct_set_status with IPS_EXPECTED: EBUSY"
like "$OUT" $'SET_STATUS\tnil\tEBUSY: bpf_ct_set_status refused status 0x1 for udp 198.18.0.2:4001 → 198.18.0.1:53: [^\t]*already expired' \
	"the message names the kfunc, the bits and what became of the allocation" || show_ctlua
is "$(errname GONE)" ENOENT "the refused allocation is not left in the table"
like "$OUT" $'RIGHT_AFTER\tentry\\{udp 198.18.0.2:4001 ' "nor does it stand in the way of the next alloc of its tuple" || show_ctlua
is "$(errname CHANGE_STATUS)" EBUSY "bpf_ct_change_status with IPS_EXPECTED: EBUSY"
is "$(errname LOOKUP_SIZE)" EINVAL "ct.lookup with opts_size 20: EINVAL"
is "$(errname LOOKUP_PROTO)" ENOENT "ct.lookup as TCP of a UDP entry: ENOENT"
like "$OUT" $'EPROTO: bpf_skb_ct_alloc failed for udp 198.18.0.2:4000 → 198.18.0.1:53: the protocol is neither TCP nor UDP\t71' \
	"an error reads: ENAME, the kfunc, the flow, the explanation, and the errno" || show_ctlua

# --- ENOMEM: a full table -------------------------------------------------------------
# nf_conntrack_max is one global limit (not writable inside a namespace on 6.18), checked
# against each namespace's own count. A fresh namespace is filled with assured entries
# (early drop never evicts those) to the root namespace's count plus $fill, then the limit
# is lowered to that for one alloc: the root namespace keeps $fill entries of headroom.
# The old limit comes back at once, or from the exit trap.
max_file=/proc/sys/net/netfilter/nf_conntrack_max
old_max=$(<"$max_file")
restore_max() { [[ -n "$old_max" ]] && echo "$old_max" >"$max_file"; old_max=; }
trap 'restore_max; _ns_cleanup' EXIT
root_count=$(</proc/sys/net/netfilter/nf_conntrack_count)
fill=2000
fill_to=$((root_count + fill))
make_ns || BAIL_OUT "cannot create a namespace"
if ((fill_to < old_max)); then
	ctlua_run "$NS" 30 -e "
	local ts = {}
	for i = 1, $fill_to do
		ts[i] = {src = '198.19.' .. (i // 250) .. '.' .. (i % 250 + 1), dst = '198.18.0.1',
			sport = 2000, dport = 9, proto = 'udp'}
	end
	local n, fails = ct.alloc_many(ts, {timeout = 120000, status = {'assured'}})
	print('FILLED', n, #fails)"
	like "$OUT" "FILLED	$fill_to	0" "a namespace holds $fill_to assured entries" || show_ctlua
	echo "$fill_to" >"$max_file"
	ctlua_run "$NS" 20 -e "
	print('FULL', ct.alloc({src='198.18.1.1', dst='198.18.0.1', sport=1, dport=9, proto='udp'},
		{status = {'assured'}}))"
	restore_max
	is "$(errname FULL)" ENOMEM "one more once the table is full: ENOMEM" || show_ctlua
else
	fail "cannot fill a namespace past nf_conntrack_max ($old_max) with $root_count entries in the root one"
	fail "ENOMEM not tried"
fi

# --- zones ----------------------------------------------------------------------------
ctlua_run "$NS_B" 20 -e '
local t = {src="198.18.0.1", dst="198.18.0.2", sport=7000, dport=7001, proto="tcp"}
local e = assert(ct.alloc(t, {zone={id=42, dir="original"}, mark=42, timeout=60000}))
print("ZONE", e.zone, e.mark)
print("DEFAULT_ZONE", ct.lookup(t))
print("SAME_ZONE", ct.lookup(t, {zone={id=42, dir="original"}}).zone)
print("OTHER_DIR", ct.lookup(t, {zone={id=42, dir="reply"}}))'
is "$RC" 0 "the zone script exits 0" || show_ctlua
like "$OUT" $'ZONE\t42\t42' "ct.alloc in zone 42 returns an entry in zone 42" || show_ctlua
is "$(errname DEFAULT_ZONE)" ENOENT "a lookup in the default zone does not find it"
like "$OUT" $'SAME_ZONE\t42' "a lookup in zone 42 does" || show_ctlua
is "$(errname OTHER_DIR)" ENOENT "a lookup in zone 42 for the reply direction only does not"
like "$(ct_entry "$NS_B" "sport=7000 dport=7001 ")" ' zone-orig=42 ' "conntrack -L shows the zone, for the original direction only"

# --- NAT: the reply tuple as netfilter will see it ------------------------------------
ctlua_run "$NS_B" 20 -e '
local e = assert(ct.alloc({src="198.18.0.2", dst="198.18.5.5", sport=5555, dport=80, proto="tcp"},
	{snat={addr="198.18.0.9", port=6666}, dnat={addr="198.18.0.1", port=8080}, timeout=60000}))
print("NAT", e.reply, e.snat.addr, e.snat.port, e.dnat.addr, e.dnat.port)
local e6 = assert(ct.alloc({src="2001:db8::2", dst="2001:db8::5", sport=5353, dport=53, proto="udp"},
	{dnat={addr="2001:db8::1"}, timeout=60000}))
print("NAT6", e6.reply, e6.dnat.addr, e6.dnat.port)
print("FOUND", ct.lookup(e.reply).tuple)
print("FAMILY", pcall(ct.alloc, {src="198.18.0.2", dst="198.18.5.5", sport=1, dport=2, proto="udp"},
	{dnat={addr="2001:db8::1"}}))'
is "$RC" 0 "the NAT script exits 0" || show_ctlua
like "$OUT" $'NAT\ttcp 198.18.0.1:8080 → 198.18.0.9:6666\t198.18.0.9\t6666\t198.18.0.1\t8080' \
	"snat and dnat rewrite the reply tuple, and the entry says where each maps" || show_ctlua
like "$OUT" $'NAT6\tudp \\[2001:db8::1\\]:53 → \\[2001:db8::2\\]:5353\t2001:db8::1\t53' \
	"IPv6 dnat without a port keeps the port" || show_ctlua
like "$OUT" $'FOUND\ttcp 198.18.0.2:5555 → 198.18.5.5:80' \
	"ct.lookup of the rewritten reply finds the entry and gives its original tuple" || show_ctlua
like "$OUT" "FAMILY	false	.*field 'dnat': '2001:db8::1' is not an IPv4 address like the tuple's" \
	"a NAT address of the other family is refused before the kernel sees it" || show_ctlua
e=$(ct_entry "$NS_B" "src=198.18.0.2 dst=198.18.5.5 sport=5555 dport=80 ")
like "$e" 'src=198\.18\.0\.1 dst=198\.18\.0\.9 sport=8080 dport=6666' \
	"conntrack -L shows the rewritten reply tuple"
e=$(ct_entry "$NS_B" "src=2001:db8::2 dst=2001:db8::5 ")
like "$e" 'src=2001:db8::1 dst=2001:db8::2 sport=53 dport=5353' \
	"and the IPv6 one"

# --- a peer namespace, by name --------------------------------------------------------
ctlua_run "$NS_A" 20 -e "
local t = {src='198.18.0.1', dst='198.18.0.2', sport=9100, dport=9101, proto='udp'}
print('PEER', ct.alloc(t, {netns='$NS_B', mark=77, timeout=60000}).mark)
print('HERE', ct.lookup(t))
print('THERE', ct.lookup(t, {netns='$NS_B'}).mark)
print('NOSUCH', ct.alloc(t, {netns='ctl-no-such-namespace'}))"
is "$RC" 0 "the netns script exits 0" || show_ctlua
like "$OUT" $'PEER\t77' "ct.alloc with netns = a name creates the entry there" || show_ctlua
is "$(errname HERE)" ENOENT "not in ctlua's own namespace"
like "$OUT" $'THERE\t77' "ct.lookup with the same netns finds it" || show_ctlua
like "$OUT" $'NOSUCH\tnil\tENOENT: no network namespace \'ctl-no-such-namespace\'' \
	"an unknown namespace name is named in the error" || show_ctlua
like "$(ct_entry "$NS_B" "sport=9100 dport=9101 ")" ' mark=77 ' "conntrack -L in NS_B shows it"
is "$(ct_entry "$NS_A" "sport=9100 dport=9101 ")" "" "and NS_A's table does not"

# --- a fixed timeout survives real traffic --------------------------------------------
# With conntrack hooks in NS_A, every packet of a tracked flow refreshes its timeout to
# the protocol's default (30 s for unreplied UDP), unless the entry has fixed_timeout.
ct_hooks "$NS_A" || BAIL_OUT "cannot load the conntrack ruleset"
ctlua_run "$NS_A" 20 -e "
for i, fixed in ipairs{true, false} do
	assert(ct.alloc({src='$ADDR_B', dst='$ADDR_A', sport=6000 + i, dport=6100, proto='udp'},
		{timeout = 200000, status = fixed and {'fixed_timeout'} or nil}))
end"
is "$RC" 0 "two 200 s entries, one with fixed_timeout" || show_ctlua
for i in 1 2; do
	for _ in 1 2 3; do udp_send "$NS_B" "$ADDR_A" 6100 $((6000 + i)) || fail "udp_send"; done
done
fixed=$(ct_entry "$NS_A" "sport=6001 dport=6100 ")
loose=$(ct_entry "$NS_A" "sport=6002 dport=6100 ")
cmp_ok "$(ct_timeout "$fixed")" -gt 150 "after real packets the fixed entry keeps its 200 s" ||
	diag "$fixed"
cmp_ok "$(ct_timeout "$loose")" -le 120 "while the other one was refreshed to UDP's default" ||
	diag "$loose"

done_testing
