#!/bin/bash
# 52-gc-order.t - every ct object is safe to use, collect and close in any order: the
# state's __gc called by hand (reachable through debug.getupvalue on any ct function),
# inside a callback or an __index that ct code is reading, twice; links closed twice or
# after their state; upvalue 1 replaced; os.exit(code, true) in a callback; ct.so
# finalized before a user object that still calls it. None may crash; each says clearly
# that the module is closed. (CTLUA may name a sanitizer build.)
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

require_root_kernel
require_ctlua
make_ns || BAIL_OUT "cannot create the test namespace"

# run LUA: ctlua -e LUA in the namespace; sets OUT (stdout and stderr) and RC.
# Each run gets its own source port (SPORT, read by $T): an entry an earlier run inserted
# stays in the namespace's table, and a repeated tuple would meet it (EEXIST).
_run_n=0
run()
{
	_run_n=$((_run_n + 1))
	OUT=$(SPORT=$((20000 + _run_n)) ip netns exec "$NS" timeout -k 1 20 "$CTLUA" -e "$1" 2>&1 </dev/null)
	RC=$?
}

show()
{
	diag "exit status: $RC"
	[[ -n "$OUT" ]] && diag "output:" && diag_text "$OUT"
	return 0
}

no_filter()
{
	unlike "$(tc -n "$NS" filter show dev lo ingress)" 'bpf' "  no filter left on lo"
}

# The state is upvalue 1 of every ct function; its __gc is one getmetatable away.
ST='local st = select(2, debug.getupvalue(ct.stats, 1)); local gc = getmetatable(st).__gc; '
# A flow for ct.alloc on lo; each call gets its own source port.
T="{src = '127.0.0.1', dst = '127.0.0.1', sport = tonumber(os.getenv('SPORT')), dport = 9, proto = 'udp'}"

run "$ST"'local l = assert(ct.attach("lo")); gc(st)
print(pcall(ct.stats)); print(pcall(ct.attach, "lo")); print(l, l.attached)
print(pcall(l.detach, l)); gc(st); getmetatable(l).__close(l); getmetatable(l).__gc(l)
l = nil; collectgarbage(); print("end")'
is "$RC" 0 "the state's __gc by hand, twice, then the link's: exit status 0" || show
is "$OUT" "false	the ct module is closed
false	the ct module is closed
link lo ingress (detached)	false
false	attempt to use a detached link (lo ingress)
end" "  ct functions say the module is closed; the link was detached with it" || show
no_filter

run 'local l <close> = assert(ct.attach("lo")); local mt = getmetatable(l)
mt.__close(l); mt.__close(l); mt.__gc(l); print(l); print(pcall(l.detach, l))'
is "$RC" 0 "a link closed twice, then collected by hand: exit status 0" || show
is "$OUT" "link lo ingress (detached)
false	attempt to use a detached link (lo ingress)" "  and it says it is detached" || show
no_filter

run 'debug.setupvalue(ct.stats, 1, io.stdout); print(pcall(ct.stats))
debug.setupvalue(ct.stats, 1, 42); print(pcall(ct.stats))'
is "$RC" 0 "upvalue 1 of a ct function replaced: exit status 0 (it crashed before)" || show
is "$OUT" "false	the ct module's state is missing (upvalue 1 of a ct function was replaced)
false	the ct module's state is missing (upvalue 1 of a ct function was replaced)" \
	"  the function says what is wrong instead of reading the wrong object" || show

run "$ST"'local l = assert(ct.attach("lo"))
debug.setmetatable(io.stderr, getmetatable(st)); print(pcall(gc, io.stderr))
debug.setmetatable(io.stdin, getmetatable(l))
print(pcall(getmetatable(l).__close, io.stdin)); print(pcall(tostring, io.stdin))
print(pcall(ct.stats) and "still open")'
is "$RC" 0 "another userdata given the state's or a link's metatable: exit status 0" || show
is "$OUT" "false	bad argument #1 to '?' (ct.state expected, got another userdata with its metatable)
false	bad argument #1 to '?' (ct.link expected, got another userdata with its metatable)
false	bad argument #1 to '?' (ct.link expected, got another userdata with its metatable)
still open" "  is refused, not written to" || show

run 'local t = ct.tuple('"$T"')
debug.setmetatable(io.stderr, getmetatable(t))
print(pcall(tostring, io.stderr)); print(pcall(function() return io.stderr.src end))
print(io.stderr == t, t == io.stderr); print(pcall(ct.alloc, io.stderr))'
is "$RC" 0 "another userdata given a tuple's metatable: exit status 0" || show
is "$OUT" "false	bad argument #1 to '?' (ct.tuple expected, got another userdata with its metatable)
false	(command line):3: bad argument #1 to 'index' (ct.tuple expected, got another userdata with its metatable)
false	false
false	bad argument #1 to 'ct.alloc' (tuple, table or string expected, got userdata)" \
	"  is not read as a tuple: refused, and equal to none" || show

run "$ST"'local l = assert(ct.attach("lo"))
ct.on("alloc", function() print("callback"); gc(st) end)
assert(ct.alloc('"$T"'))
print(pcall(ct.run, 1)); print(pcall(ct.poll, 10))'
is "$RC" 0 "the state closed by hand inside a callback of ct.run: exit status 0 (it crashed before)" || show
is "$OUT" "callback
false	the ct module is closed
false	the ct module is closed" "  ct.run stops and says the module is closed" || show
no_filter

run 'local l = assert(ct.attach("lo"))
ct.on("alloc", function() print("callback"); os.exit(3, true) end)
assert(ct.alloc('"$T"')); print(ct.run(1))'
is "$RC" 3 "os.exit(3, true) in a callback closes the state there and exits 3" || show
is "$OUT" "callback" "  from inside the callback" || show
no_filter

run "$ST"'local l = assert(ct.attach("lo"))
local t = setmetatable({src = "127.0.0.1", dst = "127.0.0.1", dport = 9, proto = "udp"},
	{__index = function() gc(st); return 4242 end})
print(pcall(ct.alloc, t))'
is "$OUT" "false	the ct module is closed" \
	"the state closed by an __index that ct.alloc reads: the module is closed" || show
is "$RC" 0 "  exit status 0" || show

run "$ST"'local l = assert(ct.attach("lo"))
local item = setmetatable({}, {__index = function(_, k) gc(st); return ('"$T"')[k] end})
print(pcall(ct.alloc_many, {'"$T"', item})); print(pcall(ct.stats))'
is "$RC" 0 "the state closed by an __index that ct.alloc_many reads: exit status 0 (it crashed before)" || show
like "$OUT" $'\nfalse\tthe ct module is closed$' "  and afterwards the module is closed" || show
no_filter

# ct.so in stock Lua: the module is loaded after the user's object, so at lua_close the
# state is finalized first and that object's __gc finds the module closed.
CT_SO=${CT_SO:-$PWD/build/ct.so}	# the sanitizer pass gives its own
if command -v lua5.4 >/dev/null 2>&1 && [[ -f "$CT_SO" ]]; then
	OUT=$(LUA_CPATH="${CT_SO%/*}/?.so" ip netns exec "$NS" timeout -k 1 20 lua5.4 -e '
		local keep = setmetatable({}, {__gc = function()
			print(pcall(ct.stats)); print(pcall(ct.attach, "lo"))
		end})
		ct = require "ct"; l = assert(ct.attach("lo"))' 2>&1 </dev/null)
	RC=$?
	is "$RC" 0 "ct.so finalized before a user object that calls it: exit status 0" || show
	is "$OUT" "false	the ct module is closed
false	the ct module is closed" "  which finds the module closed" || show
	no_filter
else
	skip "lua5.4 or $CT_SO is missing" 3
fi

done_testing
