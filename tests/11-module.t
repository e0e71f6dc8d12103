#!/bin/bash
# 11-module.t - build/ct.so as a module of stock Lua 5.4: `require "ct"` works, returns
# the module without creating globals, and loads the BPF object when asked (in a
# namespace of its own).
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh

CT_SO=${CT_SO:-$PWD/build/ct.so}	# the sanitizer pass gives its own
[[ -f "$CT_SO" ]] || BAIL_OUT "'$CT_SO' is missing: run make first"
command -v lua5.4 >/dev/null 2>&1 || skip_all "'lua5.4' is not installed"

# Only $CT_SO's folder: a ct.so installed elsewhere must not stand in for the one under test.
export LUA_CPATH="${CT_SO%/*}/?.so"
source tests/lib/netns.sh	# make_ns, and one cleanup on exit for all we create

# run CMD...: run it with a time limit; sets OUT (stdout and stderr) and RC.
run()
{
	OUT=$(timeout -k 1 20 "$@" 2>&1 </dev/null)
	RC=$?
}

show()
{
	diag "exit status: $RC"
	[[ -n "$OUT" ]] && diag "output:" && diag_text "$OUT"
	return 0
}

run lua5.4 -e '
local before = {}
for k in pairs(_G) do before[k] = true end
local ct = require "ct"
local new = {}
for k in pairs(_G) do if not before[k] then new[#new + 1] = k end end
print(type(ct), _G.ct == nil, #new, package.loaded.ct == ct, require "ct" == ct)'
is "$RC" 0 "lua5.4 can require \"ct\" from build/ct.so" || show
is "$OUT" $'table\ttrue\t0\ttrue\ttrue' \
	"require returns the module, sets no global ct and no other global; a second require gives the same table" ||
	show

run lua5.4 -e '
local ct = require "ct"
local t = ct.tuple{src="198.18.0.2", dst="198.18.0.1", sport=40000, dport=5353, proto="udp"}
print(tostring(t), t.reply.sport, t == ct.tuple{src="198.18.0.2", dst="198.18.0.1", sport=40000, dport=5353, proto="udp"})
print(pcall(ct.tuple, {src="198.18.0.2", dst="198.18.0.1", sport=70000, dport=1, proto="udp"}))'
is "$OUT" "udp 198.18.0.2:40000 → 198.18.0.1:5353	5353	true
false	bad argument #1 to 'ct.tuple' (field 'sport': 70000 is out of range 0 to 65535)" \
	"ct.tuple works in stock Lua, with the same error text as in ctlua" || show

run lua5.4 -e 'local ct = require "ct"; print(type(ct.version), ct.version)'
version=$("${CTLUA:-build/ctlua}" --version 2>/dev/null)
version=${version#ctlua }
is "$OUT" "string	${version% (*}" "ct.version is a string, the version ctlua --version shows" ||
	show

# --- loading the BPF object from stock Lua ------------------------------------------------

if ((EUID != 0)) || [[ ! -r /sys/kernel/btf/vmlinux ]] || ! command -v ip >/dev/null 2>&1; then
	if [[ "${CI:-}" == true ]]; then
		fail "cannot run ct.mode() in a namespace: needs root, BTF and ip"
	else
		skip "ct.mode() in a namespace needs root, BTF and ip"
	fi
	done_testing
fi

make_ns || BAIL_OUT "cannot create a test namespace"

run ip netns exec "$NS" lua5.4 -e '
local ct = require "ct"
print(ct.mode())
print(ct.attach("nosuch0"))'
is "$RC" 0 "lua5.4 loads the BPF object and exits 0" || show
is "$OUT" $'enforce\nnil\tENODEV: no interface named \'nosuch0\'\t19' \
	"ct.mode() returns \"enforce\"; failures return nil, msg, errno as in ctlua" || show

done_testing
