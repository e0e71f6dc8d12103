#!/bin/bash
# 72-tuple-paste-kernel.t - a printed tuple pasted back reaches the kernel: ct.alloc,
# ct.lookup, ct.change, ct.delete, ct.verdict, ct.forget, and the filters of ct.entries
# and ct.flush take the text (with → or ->) and act on that flow, IPv4 and IPv6, as
# conntrack -L confirms; the shell shows ct.entries() as its rows with a count.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

require_root_kernel
require_ctlua
make_ns || BAIL_OUT "cannot create the test namespace"

cat >"$TEST_TMP/paste.lua" <<'LUA'
local function say(...) print(...) io.stdout:flush() end
local A = "udp 198.18.0.2:40000 → 198.18.0.1:53"
local B = "tcp [2001:db8::2]:1234 -> [2001:db8::1]:443"
local a = assert(ct.alloc(A, {mark = 0x42, timeout = 60000}))
say("ALLOC", a.tuple, a.mark)
local b = assert(ct.alloc(B, {timeout = 60000}))
say("ALLOC6", b.tuple)
-- what was printed, pasted back
say("LOOKUP", ct.lookup(tostring(a.tuple)).mark, ct.lookup(tostring(b.tuple)).tuple == b.tuple)
say("CHANGE", assert(ct.change(tostring(a.tuple), {mark = 0x43})).mark)
local n = 0
for e in assert(ct.entries(tostring(a.tuple))) do n = n + 1; say("ENTRY", e.tuple, e.mark) end
say("ENTRIES", n)
say("DELETE", ct.delete(B))
say("GONE", ct.lookup(B))
say("VERDICT", ct.verdict(A, "drop"), (ct.verdict("udp 198.18.0.2:40000 -> 198.18.0.1:53")))
say("FORGET", ct.forget(A), ct.verdict(A))
say("FLUSH", ct.flush(A), ct.lookup(A))
LUA
ctlua_run "$NS" 20 "$TEST_TMP/paste.lua"
is "$RC" 0 "the script ran" || show_ctlua
get() { grep "^$1"$'\t' <<<"$OUT"; }
is "$(get ALLOC)" $'ALLOC\tudp 198.18.0.2:40000 → 198.18.0.1:53\t66' "ct.alloc took the text with →" || show_ctlua
is "$(get ALLOC6)" $'ALLOC6\ttcp [2001:db8::2]:1234 → [2001:db8::1]:443' "and an IPv6 TCP text with ->"
is "$(get LOOKUP)" $'LOOKUP\t66\ttrue' "ct.lookup found both by their printed text"
is "$(get CHANGE)" $'CHANGE\t67' "ct.change took the text"
is "$(get ENTRY)" $'ENTRY\tudp 198.18.0.2:40000 → 198.18.0.1:53\t67' "ct.entries(text) lists that flow only"
is "$(get ENTRIES)" $'ENTRIES\t1' "(one entry)"
is "$(get DELETE)" $'DELETE\ttrue' "ct.delete took the text"
like "$(get GONE)" $'^GONE\tnil\tENOENT' "and the entry is gone"
is "$(get VERDICT)" $'VERDICT\ttrue\tdrop' "ct.verdict set and read a verdict by text"
like "$(get FORGET)" $'^FORGET\ttrue\tnil\tENOENT: no verdict for udp 198\\.18\\.0\\.2:40000 → 198\\.18\\.0\\.1:53\t2$' \
	"ct.forget took the text: the verdict is gone"
like "$(get FLUSH)" $'^FLUSH\t1\tnil\tENOENT' "ct.flush(text) removed that flow's entry"

# conntrack -L agrees (the IPv4 entry was flushed, the IPv6 one deleted)
is "$(ns_exec "$NS" conntrack -L 2>/dev/null | grep -c 'dport=53\|dport=443')" 0 \
	"conntrack -L shows neither entry any more"

# the shell: ct.entries() typed alone is its rows and a count
out=$(printf 'for i = 1, 3 do assert(ct.alloc(("udp 198.18.0.2:%%d -> 198.18.0.1:53"):format(5000 + i), {mark = 7})) end\nct.entries{mark = 7}\n#_, _[1].mark\n' |
	ip netns exec "$NS" "$CTLUA" 2>&1)
like "$out" $'^(entry\\{udp 198\\.18\\.0\\.2:500[1-3] → 198\\.18\\.0\\.1:53, [^\n]*mark 0x7\\}\n){3}\\(3 rows\\)\n3\t7$' \
	"ct.entries{...} at the shell prints its rows and a count; _ is the list of entries"

done_testing
