#!/bin/bash
# 20-attach.t - ct.attach puts a bpf filter on the interface's clsact hook and ctlua takes
# it off again at exit, removing clsact only if it created it; attach failures and misuse.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

pair_test_setup

filters() { tc -n "$NS_A" filter show dev "$IF_A" "$1"; }
qdiscs() { tc -n "$NS_A" qdisc show dev "$IF_A"; }

# --- attach with no clsact before: ctlua creates it and removes it ---------------------

unlike "$(qdiscs)" clsact "no clsact qdisc on $IF_A before ctlua runs"

ctlua_start "$NS_A" 10 -e "
	local l = ct.attach('$IF_A')
	print(type(l), type(l and l.detach))
	ct.run(2)
	print('done')"
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
like "$(filters ingress)" 'bpf' "while ctlua runs, a bpf filter is on $IF_A ingress"
like "$(qdiscs)" 'qdisc clsact' "while ctlua runs, $IF_A has a clsact qdisc"
unlike "$(filters egress)" 'bpf' "the default direction is ingress: nothing on egress"
ctlua_finish
is "$RC" 0 "ctlua exits 0 after ct.run(2)" || show_ctlua
is "$OUT" $'userdata\tfunction\ndone' "ct.attach returns a link with a detach method" ||
	show_ctlua
unlike "$(filters ingress)" 'bpf' "after exit no filter is left on $IF_A ingress"
unlike "$(qdiscs)" clsact "after exit the clsact qdisc ctlua created is gone"

# --- attach where clsact already exists: ctlua leaves it ------------------------------

ok_run "create a clsact qdisc on $IF_A first" tc -n "$NS_A" qdisc add dev "$IF_A" clsact
ctlua_start "$NS_A" 10 -e "assert(ct.attach('$IF_A')); ct.run(2)"
wait_filter "$NS_A" "$IF_A" ingress "$CTLUA_PID"
like "$(filters ingress)" 'bpf' "with an existing clsact, a bpf filter is on ingress"
ctlua_finish
is "$RC" 0 "ctlua exits 0" || show_ctlua
unlike "$(filters ingress)" 'bpf' "after exit no filter is left on ingress"
like "$(qdiscs)" 'qdisc clsact' "after exit the clsact qdisc that was there before remains"
tc -n "$NS_A" qdisc del dev "$IF_A" clsact

# --- egress, and an explicit detach ---------------------------------------------------

# The script looks at the kernel itself (it runs inside NS_A), so what it sees is tied to
# the moment before and after link:detach(), with no timing guesses.
ctlua_run "$NS_A" 10 -e "
	local l = assert(ct.attach('$IF_A', {dir='egress'}))
	io.stdout:flush()
	os.execute('tc filter show dev $IF_A egress | grep -c direct-action; tc filter show dev $IF_A ingress | grep -c direct-action')
	l:detach()
	os.execute('tc filter show dev $IF_A egress | grep -c direct-action')"
is "$RC" 0 "egress attach and detach script exits 0" || show_ctlua
is "$OUT" $'1\n0\n0' "dir='egress' attaches to egress only; link:detach() removes it" ||
	show_ctlua
unlike "$(qdiscs)" clsact "after exit no clsact qdisc is left"

# --- failures and misuse --------------------------------------------------------------

ctlua_run "$NS_A" 10 -e 'print(ct.attach("nosuch0"))'
is "$RC" 0 "attach to a missing interface is not an error of the script" || show_ctlua
is "$OUT" $'nil\tENODEV: no interface named \'nosuch0\'\t19' \
	"attach to a missing interface returns nil, message, errno" || show_ctlua

ctlua_run "$NS_A" 10 -e "ct.attach('$IF_A', {dir='sideways'}) print('not reached')"
isnt "$RC" 0 "a bad dir raises an error (non-zero exit)"
like "$ERR" "bad argument #2 to 'ct.attach'" "the error names the argument" || show_ctlua
like "$ERR" "sideways" "the error quotes the bad value" || show_ctlua
unlike "$OUT" 'not reached' "the script stops at the error"
unlike "$(filters ingress)$(filters egress)" 'bpf' "misuse leaves no filter behind"
unlike "$(qdiscs)" clsact "misuse leaves no clsact qdisc behind"

done_testing
