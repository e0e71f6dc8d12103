#!/bin/bash
# 13-kernel.t - ct.kernel() reports what this kernel's BTF says, checked against an
# independent reader of the same BTF (bpftool) and against uname.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
CTLUA=${CTLUA:-build/ctlua}
[[ -x "$CTLUA" ]] || BAIL_OUT "$CTLUA is missing: run make first"
[[ -r /sys/kernel/btf/vmlinux ]] && command -v bpftool >/dev/null ||
	skip_all "needs /sys/kernel/btf/vmlinux and bpftool"

btf=$(bpftool btf dump file /sys/kernel/btf/vmlinux format raw)
out=$("$CTLUA" -e '
local k = assert(ct.kernel())
print("release", k.release)
for _, n in ipairs{"bpf_skb_ct_alloc", "bpf_skb_ct_lookup", "bpf_xdp_ct_alloc", "bpf_xdp_ct_lookup",
	"bpf_ct_insert_entry", "bpf_ct_release", "bpf_ct_set_timeout", "bpf_ct_change_timeout",
	"bpf_ct_set_status", "bpf_ct_change_status", "bpf_ct_set_nat_info"} do
	print("kfunc", n, k.kfuncs[n])
end
print("sizes", table.concat(k.opts_sizes, ","))
print("zones", k.zones)
print("nat", k.nat)')
is "$?" 0 "ct.kernel() runs"
like "$out" "release	$(uname -r)" "the release is uname -r"
while read -r _ name got; do
	want=false
	grep -q "FUNC '$name' " <<<"$btf" && want=true
	is "$got" "$want" "$name: $got, as bpftool finds it in BTF"
done < <(grep '^kfunc' <<<"$out")
size=$(grep -o "STRUCT 'bpf_ct_opts' size=[0-9]*" <<<"$btf" | grep -o '[0-9]*$')
want_sizes=12
((size >= 16)) && want_sizes=12,16
is "$(grep '^sizes' <<<"$out")" "sizes	$want_sizes" "opts sizes $want_sizes (bpftool: struct bpf_ct_opts has $size bytes)"
want_zones=false
grep -A8 "STRUCT 'bpf_ct_opts'" <<<"$btf" | grep -q "'ct_zone_id'" && want_zones=true
like "$out" "zones	$want_zones" "zones: $want_zones, as the struct's members say"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$CTLUA" -e 'print(type(ct.kernel()))' 2>&1)
is "$out" "table" "ct.kernel() needs no capability"
done_testing
