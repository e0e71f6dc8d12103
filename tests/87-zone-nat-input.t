#!/bin/bash
# 87-zone-nat-input.t - what verdicts' zone, snat and dnat refuse: bad input, with its
# exact message, from every way a verdict is set (ct.rule, ct.policy, ct.default,
# ct.verdict); and what the kernel lacks, refused when the verdict is set, with the
# kernel version that has it. CTLUA_HIDE_FEATURES (doc/development.md) hides zones or
# NAT from ctlua so that an older kernel's refusals are tested on this one.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

require_root_kernel
require_ctlua
make_ns || BAIL_OUT "cannot create the test namespace"

# lua CODE: run CODE with ctlua in NS; its output (stdout and stderr) is the result
lua() { ip netns exec "$NS" "$CTLUA" -e "$1" 2>&1; }
# refused CALL: the error CALL raises (CALL is Lua: a function and its arguments)
raised() { lua "print(select(2, pcall($1)))"; }
T='"udp 198.18.0.2:40000 -> 198.18.0.1:5353"'
T6='"udp [2001:db8::2]:40000 -> [2001:db8::1]:5353"'

# --- zone -------------------------------------------------------------------------------
is "$(raised 'ct.rule, {action="alloc", zone=70000}')" \
	"bad argument #1 to 'ct.rule' (field 'zone': 70000 is out of range 0 to 65535)" \
	"zone 70000"
is "$(raised 'ct.rule, {action="alloc", zone="7"}')" \
	"bad argument #1 to 'ct.rule' (field 'zone': a zone id or {id=, dir=} expected, got string)" \
	"zone as a string"
is "$(raised 'ct.rule, {action="alloc", zone={dir="original"}}')" \
	"bad argument #1 to 'ct.rule' (field 'zone.id': missing (0 to 65535))" "zone without an id"
is "$(raised 'ct.rule, {action="alloc", zone={id=7, dir="sideways"}}')" \
	"bad argument #1 to 'ct.rule' (field 'zone.dir': invalid option 'sideways')" \
	"a zone direction that is none"
is "$(raised 'ct.rule, {action="alloc", zone={id=1, size=2}}')" \
	"bad argument #1 to 'ct.rule' (field 'zone': unknown field 'size' (known: id, dir))" \
	"an unknown field in zone"
is "$(raised 'ct.policy, {rules={{action="alloc", zone=1.5}}}')" \
	"bad argument #1 to 'ct.policy' (field 'rules': item 1: field 'zone': expected an integer, got 1.5)" \
	"a fractional zone in ct.policy's rules"
is "$(raised 'ct.policy, {default={action="alloc", zone=-1}}')" \
	"bad argument #1 to 'ct.policy' (field 'default': field 'zone': -1 is out of range 0 to 65535)" \
	"zone -1 in ct.policy's default"
is "$(raised 'ct.default, "alloc", {zone=65536}')" \
	"bad argument #2 to 'ct.default' (field 'zone': 65536 is out of range 0 to 65535)" \
	"zone 65536 in ct.default"
is "$(raised "ct.verdict, $T, \"alloc\", {zone=true}")" \
	"bad argument #3 to 'ct.verdict' (field 'zone': a zone id or {id=, dir=} expected, got boolean)" \
	"zone true in ct.verdict"

# --- snat, dnat -------------------------------------------------------------------------
is "$(raised 'ct.rule, {action="alloc", dnat={addr="198.18.0.300"}}')" \
	"bad argument #1 to 'ct.rule' (field 'dnat.addr': '198.18.0.300' is not an IPv4 or IPv6 address)" \
	"a malformed address"
is "$(raised 'ct.rule, {action="alloc", dnat={port=80}}')" \
	"bad argument #1 to 'ct.rule' (field 'dnat.addr': missing (an IPv4 or IPv6 address))" \
	"dnat without an address"
is "$(raised 'ct.rule, {action="alloc", dnat="198.18.0.3"}')" \
	"bad argument #1 to 'ct.rule' (field 'dnat': {addr=, port=} expected, got string)" \
	"dnat as a string"
is "$(raised 'ct.rule, {action="alloc", snat={addr=1}}')" \
	"bad argument #1 to 'ct.rule' (field 'snat.addr': expected a string, got number)" \
	"an address that is a number"
is "$(raised 'ct.rule, {action="alloc", dnat={addr="198.18.0.3", port=70000}}')" \
	"bad argument #1 to 'ct.rule' (field 'dnat.port': 70000 is out of range 0 to 65535)" \
	"port 70000"
is "$(raised 'ct.rule, {action="alloc", dnat={addr="198.18.0.3", via="x"}}')" \
	"bad argument #1 to 'ct.rule' (field 'dnat': unknown field 'via' (known: addr, port))" \
	"an unknown field in dnat"
is "$(raised 'ct.rule, {family="ipv6", action="alloc", dnat={addr="198.18.0.3"}}')" \
	"bad argument #1 to 'ct.rule' (field 'dnat': '198.18.0.3' is not an IPv6 address like the rule's)" \
	"an IPv4 dnat on an IPv6 rule"
is "$(raised 'ct.rule, {dst="198.18.0.0/24", action="alloc", snat={addr="2001:db8::1"}}')" \
	"bad argument #1 to 'ct.rule' (field 'snat': '2001:db8::1' is not an IPv4 address like the rule's)" \
	"an IPv6 snat on a rule an IPv4 prefix makes IPv4"
is "$(raised 'ct.default, "alloc", {snat={addr="198.18.0.3"}, dnat={addr="2001:db8::3"}}')" \
	"bad argument #2 to 'ct.default' (field 'dnat': '2001:db8::3' is not an IPv4 address like snat's)" \
	"snat and dnat of two families"
is "$(raised "ct.verdict, $T, \"alloc\", {dnat={addr=\"2001:db8::1\"}}")" \
	"bad argument #3 to 'ct.verdict' (field 'dnat': '2001:db8::1' is not an IPv4 address like the tuple's)" \
	"an IPv6 dnat for an IPv4 flow's verdict"
is "$(raised "ct.verdict, $T6, \"alloc\", {snat={addr=\"198.18.0.1\"}}")" \
	"bad argument #3 to 'ct.verdict' (field 'snat': '198.18.0.1' is not an IPv6 address like the tuple's)" \
	"an IPv4 snat for an IPv6 flow's verdict"
# pools (verdicts only)
is "$(raised 'ct.rule, {action="alloc", dnat={addr="198.18.0.0/8"}}')" \
	"bad argument #1 to 'ct.rule' (field 'dnat.addr': '198.18.0.0/8' is a pool of more than 65536 addresses (at most /16))" \
	"an IPv4 pool larger than a /16"
is "$(raised 'ct.rule, {action="alloc", snat={addr="2001:db8::/64"}}')" \
	"bad argument #1 to 'ct.rule' (field 'snat.addr': '2001:db8::/64' is a pool of more than 65536 addresses (at most /112))" \
	"an IPv6 pool larger than a /112"
is "$(raised 'ct.rule, {action="alloc", dnat={addr="198.18.0.0/33"}}')" \
	"bad argument #1 to 'ct.rule' (field 'dnat.addr': '198.18.0.0/33': prefix length must be 0 to 32)" \
	"a malformed pool prefix"
# a range is checked as a rule's dport is, from 1: port 0 would keep the flow's own
R="bad argument #1 to 'ct.rule' (field 'dnat.port':"
is "$(raised 'ct.rule, {action="alloc", dnat={addr="198.18.0.1", port={6000}}}')" \
	"$R expected {lo, hi} with 1 <= lo <= hi <= 65535)" "a port range of one item"
is "$(raised 'ct.rule, {action="alloc", dnat={addr="198.18.0.1", port={}}}')" \
	"$R expected {lo, hi} with 1 <= lo <= hi <= 65535)" "a port range of no item"
is "$(raised 'ct.rule, {action="alloc", dnat={addr="198.18.0.1", port={6003, 6000}}}')" \
	"$R expected {lo, hi} with 1 <= lo <= hi <= 65535)" "an empty port range"
is "$(raised 'ct.rule, {action="alloc", dnat={addr="198.18.0.1", port={0, 6000}}}')" \
	"$R expected {lo, hi} with 1 <= lo <= hi <= 65535)" "port 0 in a range"
is "$(raised 'ct.rule, {action="alloc", dnat={addr="198.18.0.1", port={6000, "6003"}}}')" \
	"$R expected {lo, hi} with 1 <= lo <= hi <= 65535)" "a range end that is a string"
is "$(raised 'ct.rule, {action="alloc", dnat={addr="198.18.0.1", port={6000, 6003, 6005}}}')" \
	"$R a range is {lo, hi}, got 3 items)" "a port range of three items"
is "$(raised 'ct.rule, {action="alloc", dnat={addr="198.18.0.1", port={6000, 6003, x=1}}}')" \
	"$R a range is {lo, hi}, got 3 items)" "a port range with a named item is not read as {lo, hi}"
is "$(raised 'ct.default, "alloc", {snat={addr="198.18.0.1", port={6000, 6003, x=1}}}')" \
	"bad argument #2 to 'ct.default' (field 'snat.port': a range is {lo, hi}, got 3 items)" \
	"the default's snat range too"
is "$(raised "ct.alloc, $T, {dnat={addr=\"198.18.0.4/31\"}}")" \
	"bad argument #2 to 'ct.alloc' (field 'dnat.addr': '198.18.0.4/31' is not an IPv4 or IPv6 address)" \
	"a direct request takes no pool"
is "$(lua 'ct.rule{action="alloc", dnat={addr="198.18.0.9/30", port={6000, 6003}}}
local d = ct.rules()[1].dnat; print(d.addr, d.port[1], d.port[2])')" "198.18.0.8/30	6000	6003" \
	"ct.rules() shows a pool as its prefix and {lo, hi}"
is "$(lua 'print(pcall(ct.rule, {action="alloc", zone=70000})); print(#ct.rules())')" \
	"false	bad argument #1 to 'ct.rule' (field 'zone': 70000 is out of range 0 to 65535)
0" "a refused rule is not added"

# --- what the kernel lacks (hidden) -----------------------------------------------------
ZONES="nil	EOPNOTSUPP: conntrack zones in the kfuncs need kernel 6.11 or later (struct bpf_ct_opts has no ct_zone_id here)	95"
NAT="nil	EOPNOTSUPP: NAT needs bpf_ct_set_nat_info (kernel 6.1 or later with CONFIG_NF_NAT)	95"
hidden() { CTLUA_HIDE_FEATURES=$1 lua "print($2)"; }

is "$(hidden zones 'ct.rule{action="alloc", zone=7}')" "$ZONES" "zones hidden: ct.rule refuses a zone"
is "$(hidden zones 'ct.policy{rules={{action="pass"}, {action="alloc", zone=7}}}')" "$ZONES" \
	"ct.policy refuses a rule with a zone"
is "$(hidden zones 'ct.policy{default={action="alloc", zone={id=7, dir="reply"}}}')" "$ZONES" \
	"ct.policy refuses a default with a zone"
is "$(hidden zones 'ct.default("alloc", {zone=7})')" "$ZONES" "ct.default refuses a zone"
is "$(hidden zones "ct.verdict($T, 'alloc', {zone=7})")" "$ZONES" "ct.verdict refuses a zone"
is "$(hidden zones "ct.alloc($T, {zone=7})")" "$ZONES" \
	"direct requests see the hidden zones too"
is "$(hidden zones 'ct.rule{action="alloc", dnat={addr="198.18.0.3"}}')" "1" \
	"zones hidden, NAT is still taken"
is "$(hidden nat 'ct.rule{action="alloc", dnat={addr="198.18.0.3"}}')" "$NAT" \
	"NAT hidden: ct.rule refuses dnat"
is "$(hidden nat 'ct.default("alloc", {snat={addr="198.18.0.3"}})')" "$NAT" \
	"ct.default refuses snat"
is "$(hidden nat "ct.verdict($T, 'alloc', {dnat={addr='198.18.0.3', port=80}})")" "$NAT" \
	"ct.verdict refuses dnat"
is "$(hidden zones,nat 'ct.rule{action="alloc", zone=1, snat={addr="198.18.0.3"}}')" "$ZONES" \
	"both hidden: the zone is named first"
is "$(hidden nat,zones 'ct.rule{action="alloc", mark=1}')" "1" \
	"a verdict with neither is taken whatever is hidden"
is "$(CTLUA_HIDE_FEATURES=zones lua 'print(ct.rule{action="alloc", zone=7}); print(#ct.rules(), (ct.default()))')" \
	"$ZONES
0	pass" "a refused verdict changes nothing"
done_testing
