#!/bin/bash
# 12-explain.t - ct.explain and `ctlua explain`: the conntrack kfuncs' errors in words,
# as KERNEL.md describes them (no kernel needed).
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
CTLUA=${CTLUA:-build/ctlua}
[[ -x "$CTLUA" ]] || BAIL_OUT "$CTLUA is missing: run make first"

out=$("$CTLUA" explain EPROTO)
is "$?" 0 "ctlua explain EPROTO exits 0"
like "$out" '^EPROTO \(71\): the protocol is neither TCP nor UDP' "it names the errno and the reason"
like "$out" 'returned by: bpf_skb_ct_alloc, bpf_skb_ct_lookup' "and the kfuncs that return it"
like "$out" 'since Linux 5\.18 \(lookup\), 6\.0 \(alloc\)' "and since which kernel"
like "$("$CTLUA" explain enomem)" 'does not list it' "names are case-insensitive; ENOMEM is marked undocumented"
like "$("$CTLUA" explain 17)" '^EEXIST \(17\): an entry with this tuple' "a number works too"
out=$("$CTLUA" explain EFOO 2>&1)
is "$?" 2 "an unknown name exits 2"
is "$out" "ctlua: explain: 'EFOO' is not an errno name or number" "and says what was wrong"
is "$("$CTLUA" explain | grep -c '^E[A-Z]* ([0-9]*):')" 12 "without a name it explains all twelve"

out=$("$CTLUA" -e '
print(ct.explain(-16):match("^[^\n]*"))
print(ct.explain("EIO"))
print(table.concat(ct.explain(), " "))
print(pcall(ct.explain, "nope"))
print(pcall(ct.explain, 0))')
is "$out" "EBUSY (16): this status change is not allowed
EIO (5): not returned by the conntrack kfuncs (Input/output error)
EINVAL EPROTO EAFNOSUPPORT ENONET ENOENT ENOMEM EEXIST ENOSPC EBUSY EPERM ETIME EAGAIN
false	bad argument #1 to 'ct.explain' ('nope' is not an errno name)
false	bad argument #1 to 'ct.explain' (0 is not an errno)" \
	"ct.explain: negative errnos, an errno the kfuncs never return, the list, misuse"
done_testing
