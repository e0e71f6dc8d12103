#!/bin/bash
# 93-xdp-refusals.t - what ct.attach(ifname, {hook="xdp"}) refuses, with its exact text:
# misuse (a bad hook or mode, xdp_mode without hook="xdp", egress, takeover, orphans,
# pinned maps) raises; the world's refusals return nil, msg, errno (no interface, a driver
# without native XDP, a device without an Ethernet header, the interface's ingress held
# by this ctlua at the other hook or by another ctlua, an XDP program of someone else's).
# What is allowed beside it: generic on any device, TC egress on the same interface.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/xdp.sh

pair_test_setup
nl=$'\n'
ok_run "a bridge (its driver has no native XDP)" ip -n "$NS_A" link add br0 type bridge
ok_run "  up" ip -n "$NS_A" link set br0 up
if ! ip -n "$NS_A" tuntap add dev tun0 mode tun 2>/dev/null; then
	skip_all "cannot create a tun device (/dev/net/tun)"
fi
ip -n "$NS_A" link set tun0 up

cat >"$TEST_TMP/lib.lua" <<'EOF'
-- try(label, ifname, opts): ct.attach's outcome on one line; returns the link
function try(label, ifname, opts)
	local ok, a, b, c = pcall(ct.attach, ifname, opts)
	if not ok then
		print(label .. ": raises " .. a)
	elseif a then
		print(label .. ": " .. tostring(a) .. " mode " .. tostring(a.xdp_mode))
		return a
	else
		print(label .. ": nil, " .. b .. ", " .. c)
	end
end
EOF

# --- misuse, and the world's refusals, in one ctlua -----------------------------------------
cat >"$TEST_TMP/refusals.lua" <<'EOF'
dofile(arg[1])
local ifname = arg[2]
try("bad hook", ifname, {hook = "xpd"})
try("bad mode", ifname, {hook = "xdp", xdp_mode = "driver"})
try("mode at tc", ifname, {xdp_mode = "native"})
try("egress", ifname, {hook = "xdp", dir = "egress"})
try("takeover", ifname, {hook = "xdp", takeover = true})
try("orphans", ifname, {hook = "xdp", orphans = "remove"})
try("no interface", "nope0", {hook = "xdp"})
try("native on a bridge", "br0", {hook = "xdp", xdp_mode = "native"})
local d = try("default on a bridge", "br0", {hook = "xdp"})
print("detach bridge", d:detach())
try("tun", "tun0", {hook = "xdp"})
local tc = try("tc first", ifname)
try("then xdp", ifname, {hook = "xdp"})
assert(tc:detach())
local x = try("xdp first", ifname, {hook = "xdp", xdp_mode = "generic"})
try("then tc", ifname)
try("then xdp again", ifname, {hook = "xdp"})
local eg = try("tc egress beside", ifname, {dir = "egress"})
print("attached", x.attached, eg.attached)
io.stdout:flush()
os.execute("sleep 3")	-- the shell looks at the interface
print("detach xdp", x:detach())
print("detached", tostring(x), x.attached)
print("detach again", pcall(x.detach, x))
EOF

ctlua_start "$NS_A" 20 "$TEST_TMP/refusals.lua" "$TEST_TMP/lib.lua" "$IF_A"
wait_line "$CTLUA_OUT" '^attached' 10
is "$(xdp_word "$NS_A" "$IF_A")" xdpgeneric "while the XDP link is held, ip link shows it (generic)"
like "$(tc -n "$NS_A" filter show dev "$IF_A" egress)" "ctlua_egress" "and the egress filter is on"
ctlua_finish
A="bad argument #2 to 'ct.attach'"
IFA=$IF_A
expect="bad hook: raises $A (field 'hook': invalid option 'xpd')
bad mode: raises $A (field 'xdp_mode': invalid option 'driver')
mode at tc: raises $A (xdp_mode goes with hook=\"xdp\")
egress: raises $A (hook=\"xdp\" has no egress: XDP sees packets arriving only)
takeover: raises $A (takeover does not work with hook=\"xdp\": the kernel lets no one replace an XDP link)
orphans: raises $A (orphans does not apply to hook=\"xdp\": an XDP link ends with the ctlua that made it)
no interface: nil, ENODEV: no interface named 'nope0', 19
native on a bridge: nil, EOPNOTSUPP: cannot attach to 'br0' at xdp in native mode: its driver has no XDP (xdp_mode=\"generic\" works on any device), 95
default on a bridge: link br0 ingress at xdp mode generic
detach bridge	true
tun: nil, EPROTONOSUPPORT: cannot attach to 'tun0' at xdp: it has no Ethernet header (hook=\"tc\" parses it), 93
tc first: link $IFA ingress mode nil
then xdp: nil, EBUSY: '$IFA' ingress is already attached by this ctlua at tc: one hook decides an interface's flows; detach that link first, 16
xdp first: link $IFA ingress at xdp mode generic
then tc: nil, EBUSY: '$IFA' ingress is already attached by this ctlua at xdp: one hook decides an interface's flows; detach that link first, 16
then xdp again: nil, EBUSY: '$IFA' ingress is already attached by this ctlua; detach that link first, 16
tc egress beside: link $IFA egress mode nil
attached	true	true
detach xdp	true
detached	link $IFA ingress at xdp (detached)	false
detach again	false	attempt to use a detached link ($IFA ingress)"
is "$OUT" "$expect" "each refusal, in order, with its text and errno" || diag_text "$OUT"
is "$RC/$ERR" "0/" "ctlua exits 0, nothing on stderr" || show_ctlua
is "$(xdp_word "$NS_A" "$IF_A")$(xdp_word "$NS_A" br0)" "" "no XDP program left on $IF_A or br0"
is "$(owner_records "$NS_A")" "" "no ownership record left"

# --- pinned maps: not yet ----------------------------------------------------------------
PIN=/sys/fs/bpf/ctlua-test-$$-$RANDOM
ctlua_run "$NS_A" 10 -e "ct.config{pin='$PIN'}
dofile('$TEST_TMP/lib.lua')
try('pinned', '$IF_A', {hook = 'xdp'})"
is "$OUT" "pinned: raises $A (hook=\"xdp\" does not work with pinned maps yet (--pin, ct.config{pin=DIR}): an XDP link ends with the ctlua that made it)" \
	"hook=\"xdp\" with pinned maps raises" || show_ctlua
ok "$([[ ! -e "$PIN" ]]; echo $?)" "  and pins nothing"
rm -rf "$PIN"

# --- another ctlua holds the ingress ------------------------------------------------------
hold()
{
	cat >"$TEST_TMP/hold.lua" <<EOF
local link = assert(ct.attach(arg[1], {hook = arg[2]}))
print("held", link)
io.stdout:flush()
ct.run(8)
EOF
	ctlua_start "$NS_A" 20 "$TEST_TMP/hold.lua" "$IF_A" "$1"
	HOLDER=$CTLUA_PID
	wait_line "$CTLUA_OUT" '^held' 10
	HOLDER_PID=$(ctlua_self)
}
release() { kill -TERM "$HOLDER_PID"; wait "$HOLDER" 2>/dev/null; }

hold tc
ctlua_run "$NS_A" 10 -e "dofile('$TEST_TMP/lib.lua') try('xdp', '$IF_A', {hook = 'xdp'})"
is "$OUT" "xdp: nil, EBUSY: '$IF_A' ingress is enforced by ctlua pid $HOLDER_PID (policy $TEST_TMP/hold.lua), 16" \
	"XDP where another ctlua holds the ingress at tc: refused, naming it" || show_ctlua
release
is "$(tc -n "$NS_A" filter show dev "$IF_A" ingress)" "" "the holder's filter went with it"

hold xdp
ctlua_run "$NS_A" 10 -e "dofile('$TEST_TMP/lib.lua') try('tc', '$IF_A')"
is "$OUT" "tc: nil, EBUSY: '$IF_A' ingress is enforced by ctlua pid $HOLDER_PID (policy $TEST_TMP/hold.lua); ct.attach('$IF_A', {takeover=true}) or --take-over replaces it, 16" \
	"TC where another ctlua holds the ingress at xdp: refused, naming it" || show_ctlua
ctlua_run "$NS_A" 10 -e "dofile('$TEST_TMP/lib.lua') try('xdp', '$IF_A', {hook = 'xdp'})"
is "$OUT" "xdp: nil, EBUSY: '$IF_A' ingress is enforced by ctlua pid $HOLDER_PID (policy $TEST_TMP/hold.lua), 16" \
	"XDP where another ctlua holds it at xdp: the same" || show_ctlua
release
is "$(xdp_word "$NS_A" "$IF_A")" "" "the holder's XDP link went with it"

# --- someone else's XDP program ----------------------------------------------------------
cat >"$TEST_TMP/other.c" <<'EOF'
#define SEC(s) __attribute__((section(s), used))
SEC("xdp") int other_xdp(void *ctx) { return 2; }
char LICENSE[] SEC("license") = "GPL";
EOF
if clang -O2 -target bpf -c "$TEST_TMP/other.c" -o "$TEST_TMP/other.o" 2>/dev/null &&
   ip -n "$NS_A" link set dev "$IF_A" xdpgeneric obj "$TEST_TMP/other.o" sec xdp 2>/dev/null; then
	id=$(ip -n "$NS_A" -d link show dev "$IF_A" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')
	ctlua_run "$NS_A" 10 -e "dofile('$TEST_TMP/lib.lua') try('xdp', '$IF_A', {hook = 'xdp'})"
	is "$OUT" "xdp: nil, EBUSY: '$IF_A' already runs an XDP program that is not this link's (other_xdp, id $id); remove it first (ip link set dev $IF_A xdp off), 16" \
		"someone else's XDP program: refused, naming it" || show_ctlua
	is "$(xdp_word "$NS_A" "$IF_A")" xdpgeneric "  and it stays"
	ctlua_run "$NS_A" 10 -e "dofile('$TEST_TMP/lib.lua') try('tc', '$IF_A')"
	like "$OUT" "^tc: link $IF_A ingress mode nil" "TC beside someone else's XDP program is ctlua's to allow"
	ip -n "$NS_A" link set dev "$IF_A" xdpgeneric off
else
	fail "cannot build or load a plain XDP program (clang -target bpf, ip link ... xdpgeneric obj)"
fi

done_testing
