#!/bin/bash
# 35-direct.t - ct.alloc and ct.lookup call the kfuncs at once, in ctlua's namespace:
# what they create is what `conntrack -L` shows, and the kernel's refusals come back
# as nil, "ENAME: ...", errno.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

require_root_kernel
require_ctlua
make_pair || BAIL_OUT "cannot create the test namespaces"

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
like "$OUT" $'PROTO\tnil\tEPROTO: bpf_skb_ct_alloc failed for 1 198.18.0.2:1 → 198.18.0.1:2 \\(Protocol error\\)\t71' \
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
done_testing
