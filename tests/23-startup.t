#!/bin/bash
# 23-startup.t - start-up reads the kernel's BTF once (libbpf's load), not also in a
# probe of its own; what the probe used to decide still comes out right: NAT is there
# exactly when ct.kernel() says so, and `ctlua --check` still names the kfuncs.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

require_root_kernel
require_ctlua
if ! command -v strace >/dev/null 2>&1; then
	[[ "${CI:-}" == true ]] && BAIL_OUT "strace is missing (scripts/install-deps.sh installs it)"
	skip_all "needs strace"
fi
make_ns || BAIL_OUT "cannot create the test namespace"

# LeakSanitizer cannot run under ptrace (the sanitizer pass's build): off for the traced
# runs only, the rest of the pass's options kept.
traced_asan=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0

# btf_opens LOG: how many times the traced process opened vmlinux's BTF.
btf_opens() { grep -c 'open.*"/sys/kernel/btf/vmlinux"' "$1"; }

log=$TEST_TMP/strace.attach
ASAN_OPTIONS=$traced_asan ns_exec "$NS" strace -f -qq -e trace=open,openat -o "$log" \
	timeout 20 "$CTLUA" -e 'local l = assert(ct.attach("lo")); print("attached", l.ifname)' \
	>"$TEST_TMP/out" 2>"$TEST_TMP/err"
RC=$? OUT=$(<"$TEST_TMP/out") ERR=$(<"$TEST_TMP/err")
is "$RC $OUT" "0 attached	lo" "ctlua loads and attaches under strace" || show_ctlua
is "$(btf_opens "$log")" 1 "load and attach open /sys/kernel/btf/vmlinux once (libbpf's parse)"

# NAT is gated in the program by CONFIG_NF_NAT (libbpf's kconfig) and nf_nat's module
# BTF; ct.kernel() reads BTF itself. They must agree: where BTF has the kfunc, a NAT
# request works; where it has not, the request is refused before the kernel sees it.
ctlua_run "$NS" 20 -e '
local k = assert(ct.kernel())
local u = {src="198.18.0.2", dst="198.18.0.1", sport=4000, dport=53, proto="udp"}
local e, err = ct.alloc(u, {snat={addr="198.18.0.9", port=7000}})
print("nat", k.nat, e and e.reply or err)'
# Whether the kernel has the kfunc, from its BTF (vmlinux, or nf_nat's module), not from ctlua.
if bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -q "'bpf_ct_set_nat_info'" ||
	{ [[ -e /sys/kernel/btf/nf_nat ]] &&
	  bpftool btf dump file /sys/kernel/btf/nf_nat base /sys/kernel/btf/vmlinux 2>/dev/null |
		grep -q "'bpf_ct_set_nat_info'"; }; then
	is "$OUT" "nat	true	udp 198.18.0.1:53 → 198.18.0.9:7000" \
		"BTF has bpf_ct_set_nat_info: the loaded program rewrites the reply tuple" || show_ctlua
else
	is "$OUT" "nat	false	EOPNOTSUPP: NAT needs bpf_ct_set_nat_info (kernel 6.1 or later with CONFIG_NF_NAT)" \
		"BTF lacks bpf_ct_set_nat_info: NAT requests are refused by name" || show_ctlua
fi

# --check reads BTF (once) to name every needed kfunc
log=$TEST_TMP/strace.check
out=$(ASAN_OPTIONS=$traced_asan strace -f -qq -e trace=open,openat -o "$log" "$CTLUA" --check 2>&1)
is "$? $(grep '^conntrack kfuncs: ' <<<"$out")" "0 conntrack kfuncs: ok" \
	"ctlua --check still checks the kfuncs"
is "$(btf_opens "$log")" 1 "--check reads BTF once"
done_testing
