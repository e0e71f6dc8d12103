#!/bin/bash
# 56-capabilities.t - the capabilities ctlua checks before loading are the ones the
# kernel asks for: without CAP_PERFMON (and CAP_SYS_ADMIN, which stands in for it and for
# CAP_BPF) the verifier refuses the program (it reads nf_conn fields, relies on
# allow_uninit_stack), so the check names CAP_PERFMON; with it, the program loads. capsh
# drops the sets. tests/63-privileges.t holds every feature to its minimal set.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

require_root_kernel
require_ctlua
if ! command -v capsh >/dev/null 2>&1; then
	[[ "${CI:-}" == true ]] && BAIL_OUT "capsh is missing (scripts/install-deps.sh installs libcap2-bin)"
	skip_all "needs capsh"
fi

NEEDS="ctlua needs the capabilities CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN, and lacks"

# without DROPS (capsh's list): ARGS... run by ctlua; sets RC, OUT, ERR.
without()
{
	local drops=$1
	shift
	capsh --drop="$drops" -- -c '"$0" "$@" >"'"$TEST_TMP"'/out" 2>"'"$TEST_TMP"'/err"' \
		"$CTLUA" "$@"
	RC=$? OUT=$(<"$TEST_TMP/out") ERR=$(<"$TEST_TMP/err")
}

CORE="load and attach (ct.attach, rules, verdicts, events)"
without cap_perfmon,cap_sys_admin --check
is "$RC" 1 "without CAP_PERFMON, ctlua --check fails"
is "$(grep -F "$CORE: " <<<"$OUT")" "$CORE: missing CAP_PERFMON" \
	"its report names CAP_PERFMON for loading and attaching (tests/63-privileges.t has the rest)"
is "$ERR" "ctlua: $NEEDS CAP_PERFMON (run it as root)" "and its error names CAP_PERFMON"

without cap_perfmon,cap_sys_admin -e 'print(ct.stats())'
is "$RC $OUT" "0 nil	EPERM: $NEEDS CAP_PERFMON (run it as root)	1" \
	"a script's first kernel call returns nil, EPERM naming CAP_PERFMON, 1" || diag_text "$ERR"

without cap_bpf,cap_perfmon,cap_sys_admin,cap_net_admin --check
is "$(grep -F "$CORE: " <<<"$OUT")" "$CORE: missing CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN" \
	"without any of the three, the report names all three"
is "$ERR" "ctlua: $NEEDS CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (run it as root)" \
	"without any of the three, the check names all three"

without cap_bpf,cap_net_admin,cap_sys_admin --check
is "$ERR" "ctlua: $NEEDS CAP_BPF and CAP_NET_ADMIN (run it as root)" \
	"it names exactly the ones missing"
without cap_bpf,cap_net_admin --check
is "$ERR" "ctlua: $NEEDS CAP_NET_ADMIN (run it as root)" \
	"and not CAP_BPF while CAP_SYS_ADMIN stands in for it"

without cap_perfmon -e 'print(ct.stats() ~= nil)'
is "$RC $OUT" "0 true" "with CAP_SYS_ADMIN standing in for CAP_PERFMON the program loads" ||
	diag_text "$ERR"

without cap_bpf,cap_perfmon -e 'print(ct.stats() ~= nil)'
is "$RC $OUT" "0 true" "CAP_SYS_ADMIN stands in for CAP_BPF as well (the kernel's bpf_capable)" ||
	diag_text "$ERR"

# and CAP_SYS_ADMIN itself is not needed
without cap_sys_admin -e 'print(ct.stats() ~= nil)'
is "$RC $OUT" "0 true" "with CAP_PERFMON and without CAP_SYS_ADMIN the program loads" ||
	diag_text "$ERR"
done_testing
