#!/bin/bash
# 10-api.t - the `ct` module's argument checking and return conventions, and the ctlua
# command line: misuse raises `bad argument #N to 'ct.f' (...)` with exact text, failures
# of the system return nil, "ENAME: ...", errno. What loads the BPF object runs in a
# namespace of its own (make_ns); the rest needs no kernel and no root.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh

CTLUA=${CTLUA:-$PWD/build/ctlua}
[[ -x "$CTLUA" ]] || BAIL_OUT "'$CTLUA' is missing: run make first"

source tests/lib/netns.sh	# make_ns, and one cleanup on exit for all we create
TMP=$TEST_TMP

# run CMD...: run it with a time limit; sets OUT, ERR (trailing newlines cut) and RC.
run()
{
	OUT=$(timeout -k 1 20 "$@" 2>"$TMP/stderr" </dev/null)
	RC=$?
	ERR=$(<"$TMP/stderr")
}

# host CODE [ARGS...]: ctlua -e CODE here. Only for code that never loads the BPF object.
host() { run "$CTLUA" -e "$@"; }
# in_ns CODE [ARGS...]: ctlua -e CODE inside the test namespace.
in_ns() { run ip netns exec "$NS" "$CTLUA" -e "$@"; }

# show: what ctlua printed, for a failed check.
show()
{
	diag "exit status: $RC"
	[[ -n "$OUT" ]] && diag "stdout:" && diag_text "$OUT"
	[[ -n "$ERR" ]] && diag "stderr:" && diag_text "$ERR"
	return 0
}

# raises WANT CALL: `pcall(CALL)` (a function and its arguments) must fail with the
# message WANT, exactly. The test is named after the message.
raises()
{
	local want=$1 call=$2
	host "print(pcall($call))"
	is "$OUT" "false	$want" "$call -> $want" || show
}

# raises_like REGEX CALL: as raises, for messages checked by their start only.
raises_like()
{
	local re=$1 call=$2
	host "print(pcall($call))"
	like "$OUT" "^false	$re" "$call raises /$re/" || show
}

U='src="198.18.0.2", dst="198.18.0.1", sport=40000, dport=5353, proto="udp"'

# --- ct.tuple: success --------------------------------------------------------------------

host "
local t = ct.tuple{$U}
print(type(t), t.src, t.dst, t.sport, t.dport, t.proto, t.family, math.type(t.sport))
print(tostring(t))
print(t == ct.tuple{$U}, rawequal(t, ct.tuple{$U}))
print(t == ct.tuple{src='198.18.0.2', dst='198.18.0.1', sport=40001, dport=5353, proto='udp'})
print(t == ct.tuple{src='198.18.0.2', dst='198.18.0.1', sport=40000, dport=5353, proto='tcp'})
local r = t.reply
print(r.src, r.dst, r.sport, r.dport, r.proto)
print(tostring(r), r == t, r.reply == t)
print(t.nosuch)"
is "$RC" 0 "ct.tuple with valid fields runs" || show
is "$OUT" "userdata	198.18.0.2	198.18.0.1	40000	5353	udp	ipv4	integer
udp 198.18.0.2:40000 → 198.18.0.1:5353
true	false
false
false
198.18.0.1	198.18.0.2	5353	40000	udp
udp 198.18.0.1:5353 → 198.18.0.2:40000	false	true
nil" "tuple fields, tostring, == by content, .reply swaps both ends, unknown keys are nil" ||
	show

host "
local t = ct.tuple{src='2001:db8::2', dst='2001:db8::1', sport=40000, dport=443, proto='tcp'}
print(t.family, t.proto, tostring(t))
local g = ct.tuple{src='198.18.0.2', dst='198.18.0.1', sport=0, dport=65535, proto=47}
print(g.proto, math.type(g.proto), tostring(g))
print(ct.tuple{src='198.18.0.2', dst='198.18.0.1', sport=1, dport=2, proto=17}.proto)"
is "$OUT" "ipv6	tcp	tcp [2001:db8::2]:40000 → [2001:db8::1]:443
47	integer	47 198.18.0.2:0 → 198.18.0.1:65535
udp" "IPv6 tuples print in brackets; other protocols stay numbers; 17 reads back as udp" ||
	show

host "
local t = ct.tuple{$U}
print(pcall(function() t.sport = 1 end))
print(pcall(function() t.color = 'red' end))
print(t.sport, t.color)"
is "$RC" 0 "assigning to a tuple is caught by pcall" || show
like "$OUT" $'^false\t\\(command line\\):3: a tuple cannot be changed: build a new one with ct\\.tuple\n' \
	"assigning to a field raises 'a tuple cannot be changed', at the assignment's line"
like "$OUT" $'\nfalse\t\\(command line\\):4: a tuple cannot be changed: build a new one with ct\\.tuple\n' \
	"adding a new field raises the same error"
like "$OUT" $'\n40000\tnil$' "the tuple is unchanged afterwards"

# --- ct.tuple: misuse ---------------------------------------------------------------------

T="'ct.tuple'"
raises "bad argument #1 to $T (field 'sport': 70000 is out of range 0 to 65535)" \
	'ct.tuple, {src="198.18.0.2", dst="198.18.0.1", sport=70000, dport=53, proto="udp"}'
raises "bad argument #1 to $T (field 'dport': -1 is out of range 0 to 65535)" \
	'ct.tuple, {src="198.18.0.2", dst="198.18.0.1", sport=1, dport=-1, proto="udp"}'
raises "bad argument #1 to $T (field 'dst': missing (an IPv4 or IPv6 address))" \
	'ct.tuple, {src="198.18.0.2", sport=1, dport=53, proto="udp"}'
raises "bad argument #1 to $T (field 'sport': missing (a port, 0 to 65535))" \
	'ct.tuple, {src="198.18.0.2", dst="198.18.0.1", dport=53, proto="udp"}'
raises "bad argument #1 to $T (field 'proto': missing (\"tcp\", \"udp\" or a number))" \
	'ct.tuple, {src="198.18.0.2", dst="198.18.0.1", sport=1, dport=53}'
raises "bad argument #1 to $T (field 'src': '198.18.0.256' is not an IPv4 or IPv6 address)" \
	'ct.tuple, {src="198.18.0.256", dst="198.18.0.1", sport=1, dport=53, proto="udp"}'
raises "bad argument #1 to $T (field 'dst': '198.18.0.0/15' is not an IPv4 or IPv6 address)" \
	'ct.tuple, {src="198.18.0.2", dst="198.18.0.0/15", sport=1, dport=53, proto="udp"}'
raises "bad argument #1 to $T ('src' and 'dst' are of different address families)" \
	'ct.tuple, {src="198.18.0.2", dst="2001:db8::1", sport=1, dport=53, proto="udp"}'
raises "bad argument #1 to $T (field 'proto': 'icmp' is not \"tcp\", \"udp\" or a number)" \
	'ct.tuple, {src="198.18.0.2", dst="198.18.0.1", sport=1, dport=53, proto="icmp"}'
raises "bad argument #1 to $T (field 'proto': 256 is out of range 0 to 255)" \
	'ct.tuple, {src="198.18.0.2", dst="198.18.0.1", sport=1, dport=53, proto=256}'
raises "bad argument #1 to $T (table expected, got string)" \
	'ct.tuple, "198.18.0.2"'
raises "bad argument #1 to $T (table expected, got no value)" \
	'ct.tuple'
raises "bad argument #1 to $T (field 'sport': expected an integer, got string)" \
	'ct.tuple, {src="198.18.0.2", dst="198.18.0.1", sport="40000", dport=53, proto="udp"}'
raises "bad argument #1 to $T (field 'sport': expected an integer, got a fraction)" \
	'ct.tuple, {src="198.18.0.2", dst="198.18.0.1", sport=1.5, dport=53, proto="udp"}'
raises "bad argument #1 to $T (field 'src': expected a string, got number)" \
	'ct.tuple, {src=1, dst="198.18.0.1", sport=1, dport=53, proto="udp"}'
raises "bad argument #1 to $T (unknown field 'port' (known: src, dst, sport, dport, proto))" \
	'ct.tuple, {src="198.18.0.2", dst="198.18.0.1", sport=1, dport=53, proto="udp", port=1}'
raises "bad argument #1 to $T (unexpected value 198.18.0.2 at [1]: give fields by name)" \
	'ct.tuple, {"198.18.0.2", dst="198.18.0.1", sport=1, dport=53, proto="udp"}'

# --- ct.rule: misuse (raised before the BPF object is needed) -----------------------------

R="'ct.rule'"
raises "bad argument #1 to $R (unknown field 'sport' (known: proto, family, src, dst, dport, action, timeout, status, mark, priority))" \
	'ct.rule, {sport=53, action="pass"}'
raises "bad argument #1 to $R (field 'dst': '198.18.0.0/33': prefix length must be 0 to 32)" \
	'ct.rule, {dst="198.18.0.0/33", action="pass"}'
raises "bad argument #1 to $R (field 'src': '1.2.3.4/': prefix length must be 0 to 32)" \
	'ct.rule, {src="1.2.3.4/", action="pass"}'
raises "bad argument #1 to $R (field 'src': 'abc/8': not an IPv4 or IPv6 address)" \
	'ct.rule, {src="abc/8", action="pass"}'
raises "bad argument #1 to $R (field 'dst': '2001:db8::/129': prefix length must be 0 to 128)" \
	'ct.rule, {dst="2001:db8::/129", action="pass"}'
raises "bad argument #1 to $R ('src' and 'dst' are of different address families)" \
	'ct.rule, {src="198.18.0.0/15", dst="2001:db8::/32", action="pass"}'
raises "bad argument #1 to $R (field 'family' does not match the addresses)" \
	'ct.rule, {family="ipv6", src="198.18.0.0/15", action="pass"}'
raises "bad argument #1 to $R (field 'family': invalid option 'ip4')" \
	'ct.rule, {family="ip4", action="pass"}'
raises "bad argument #1 to $R (field 'dport': expected {lo, hi} with 0 <= lo <= hi <= 65535)" \
	'ct.rule, {dport={10, 5}, action="pass"}'
raises "bad argument #1 to $R (field 'dport': expected {lo, hi} with 0 <= lo <= hi <= 65535)" \
	'ct.rule, {dport={10}, action="pass"}'
raises "bad argument #1 to $R (field 'dport': 70000 is out of range 0 to 65535)" \
	'ct.rule, {dport=70000, action="pass"}'
raises "bad argument #1 to $R (field 'status': 'confirmed' is not a status BPF can set (seen_reply, assured, fixed_timeout, helper))" \
	'ct.rule, {status={"confirmed"}, action="alloc"}'
raises "bad argument #1 to $R (field 'status': bits 0x8 cannot be set from BPF (settable: seen_reply, assured, fixed_timeout, helper))" \
	'ct.rule, {status=8, action="alloc"}'
raises "bad argument #1 to $R (field 'status': expected a list of names or a number, got string)" \
	'ct.rule, {status="assured", action="alloc"}'
raises "bad argument #1 to $R (field 'timeout': -1 is out of range 0 to 4294967295)" \
	'ct.rule, {timeout=-1, action="alloc"}'
raises "bad argument #1 to $R (field 'action': missing (\"pass\", \"alloc\" or \"drop\"))" \
	'ct.rule, {proto="udp", dport=53}'
raises "bad argument #1 to $R (field 'action': invalid option 'allow')" \
	'ct.rule, {action="allow"}'
raises "bad argument #1 to $R (field 'proto': 'icmp' is not \"tcp\" or \"udp\")" \
	'ct.rule, {proto="icmp", action="pass"}'
raises "bad argument #1 to $R (field 'priority': 2000000 is out of range -1000000 to 1000000)" \
	'ct.rule, {priority=2000000, action="pass"}'
raises "bad argument #1 to $R (table expected, got string)" \
	'ct.rule, "pass"'

# --- other misuse, and functions that need no kernel ----------------------------------------

host 'print(ct.unrule(99))'
is "$OUT" $'nil\tENOENT: no rule with id 99\t2' "ct.unrule of an unknown id: nil, ENOENT, 2" ||
	show
host 'print(ct.unrule(4294967297))'
is "$OUT" $'nil\tENOENT: no rule with id 4294967297\t2' \
	"ct.unrule of an id beyond 32 bits names that id in the message" || show
raises "bad argument #1 to 'ct.unrule' (number expected, got string)" 'ct.unrule, "one"'
raises "bad argument #1 to 'ct.mode' (invalid option 'bogus')" 'ct.mode, "bogus"'
raises "bad argument #1 to 'ct.default' (invalid option 'allow')" 'ct.default, "allow"'
raises "bad argument #2 to 'ct.default' (unknown field 'ttl' (known: timeout, status, mark))" \
	'ct.default, "alloc", {ttl=5}'
raises "bad argument #2 to 'ct.default' (table expected, got number)" 'ct.default, "alloc", 5'
raises "bad argument #2 to 'ct.verdict' (invalid option 'nah')" "ct.verdict, {$U}, 'nah'"
raises "bad argument #1 to 'ct.verdict' (tuple or table expected, got string)" \
	'ct.verdict, "198.18.0.2", "drop"'
raises "bad argument #3 to 'ct.verdict' (field 'status': 'confirmed' is not a status BPF can set (seen_reply, assured, fixed_timeout, helper))" \
	"ct.verdict, {$U}, 'alloc', {status={'confirmed'}}"
raises "bad argument #1 to 'ct.forget' (field 'dst': missing (an IPv4 or IPv6 address))" \
	'ct.forget, {src="198.18.0.2", sport=1, dport=53, proto="udp"}'
raises "bad argument #2 to 'ct.on' (function expected, got number)" 'ct.on, "miss", 1'
raises "bad argument #2 to 'ct.on' (function expected, got string)" 'ct.on, "miss", "print"'
raises "bad argument #1 to 'ct.on' (invalid option 'nope')" 'ct.on, "nope", print'
raises "bad argument #1 to 'ct.budget' (expected 1 to 3600000 ms)" 'ct.budget, 0'
raises "bad argument #1 to 'ct.budget' (expected 1 to 3600000 ms)" 'ct.budget, 3600001'
raises "bad argument #1 to 'ct.budget' (number has no integer representation)" 'ct.budget, 1.5'
raises "bad argument #1 to 'ct.run' (seconds must not be negative)" 'ct.run, -1'
raises "bad argument #1 to 'ct.run' (number expected, got string)" 'ct.run, "soon"'
raises "bad argument #1 to 'ct.poll' (milliseconds must not be negative)" 'ct.poll, -1'
raises "bad argument #1 to 'ct.attach' (interface names are at most 15 characters)" \
	'ct.attach, "abcdefghijklmnop"'
raises "bad argument #2 to 'ct.attach' (field 'dir': invalid option 'up')" \
	'ct.attach, "lo", {dir="up"}'
raises "bad argument #2 to 'ct.attach' (unknown field 'direction' (known: dir))" \
	'ct.attach, "lo", {direction="egress"}'
raises "bad argument #1 to 'ct.attach' (string expected, got no value)" 'ct.attach'

host '
local f = function() end
print(ct.on("miss", f))
print(ct.on("miss", print) == f)
print(ct.on("miss", nil) == print)
print(ct.on("miss", nil))
print(ct.budget(), ct.budget(250), ct.budget())
print(type(ct.version), #ct.rules(), package.loaded.ct == ct)'
is "$OUT" "nil
true
true
nil
1000	250	250
string	0	true" \
	"ct.on returns the previous callback; ct.budget defaults to 1000 ms; no rules at first" ||
	show

# --- the command line ---------------------------------------------------------------------

printf 'print("compiled")\nlocal x = = 2\n' >"$TMP/syntax.lua"
run "$CTLUA" "$TMP/syntax.lua"
is "$RC" 1 "a script with a syntax error exits 1"
is "$ERR" "ctlua: $TMP/syntax.lua:2: unexpected symbol near '='" \
	"stderr: 'ctlua: FILE:LINE: message'" || show
is "$OUT" "" "nothing of the script ran"

printf 'print("before")\nerror("boom")\nprint("after")\n' >"$TMP/runtime.lua"
run "$CTLUA" "$TMP/runtime.lua"
is "$RC" 1 "a runtime error exits 1"
is "$OUT" "before" "the script ran up to the error"
is "$(head -n 1 <<<"$ERR")" "ctlua: $TMP/runtime.lua:2: boom" \
	"stderr starts with 'ctlua: FILE:LINE: message'" || show
like "$ERR" $'\nstack traceback:\n' "followed by a traceback"

run "$CTLUA" -e 'error("boom")'
is "$RC" 1 "-e with a runtime error exits 1"
is "$(head -n 1 <<<"$ERR")" "ctlua: (command line):1: boom" "-e errors name '(command line)'"

run "$CTLUA" "$TMP/nosuch.lua"
is "$RC" 1 "a missing script exits 1"
is "$ERR" "ctlua: cannot open $TMP/nosuch.lua: No such file or directory" \
	"and says it cannot open it"

for opt in --help -h; do
	run "$CTLUA" "$opt"
	is "$RC" 0 "ctlua $opt exits 0"
	like "$OUT" '^usage: ctlua \[OPTIONS\] SCRIPT \[ARGS\.\.\.\]' "ctlua $opt starts with the usage"
	like "$OUT" $'\nexamples:\n  ctlua ' "ctlua $opt has an examples block"
	is "$ERR" "" "ctlua $opt writes nothing to stderr"
done

run "$CTLUA" --version
is "$RC" 0 "ctlua --version exits 0"
like "$OUT" '^ctlua [0-9]+\.[0-9]+\.[0-9]+ \(Lua 5\.4\.[0-9]+\)$' \
	"ctlua --version: 'ctlua X.Y.Z (Lua 5.4.N)'"
version=$OUT
host 'print(ct.version)'
is "ctlua $OUT" "${version% (*}" "ct.version is the version --version shows"

run "$CTLUA" --bogus
is "$RC" 2 "an unknown option exits 2"
like "$ERR" "unrecognized option '--bogus'" "and names the option"
like "$ERR" "Try 'ctlua --help' for more information\.$" "and points to --help"
is "$OUT" "" "and prints nothing on stdout"

run "$CTLUA"
is "$RC" 0 "no script and an empty stdin that is no terminal: the shell reads nothing, exits 0"
is "$OUT$ERR" "" "and prints nothing (no banner, no prompt)"

run "$CTLUA" -e
is "$RC" 2 "-e without its code exits 2"
like "$ERR" "option requires an argument" "and says the argument is missing"

OUT=$(echo 'print(1+1)' | timeout 10 "$CTLUA" - 2>&1)
RC=$?
is "$RC" 0 "ctlua - reads the script from stdin and exits 0"
is "$OUT" 2 "echo 'print(1+1)' | ctlua - prints 2"
OUT=$(echo 'print(arg[0], #arg, ...)' | timeout 10 "$CTLUA" - p q 2>&1)
is "$OUT" $'-\t2\tp\tq' "ctlua - ARGS: arg[0] is '-', the args follow"
OUT=$(printf 'local x = = 1\n' | timeout 10 "$CTLUA" - 2>&1)
RC=$?
is "$RC" 1 "a syntax error on stdin exits 1"
is "$OUT" "ctlua: stdin:1: unexpected symbol near '='" "and names 'stdin' as the file"

printf 'print(#arg, arg[0], arg[1], arg[2], arg[3], select("#", ...), ...)\n' >"$TMP/args.lua"
run "$CTLUA" "$TMP/args.lua" a "b c"
is "$OUT" "2	$TMP/args.lua	a	b c	nil	2	a	b c" \
	"arg: [0] is the script, [1..n] its arguments, also passed as ..." || show
run "$CTLUA" "$TMP/args.lua" -e x
is "$OUT" "2	$TMP/args.lua	-e	x	nil	2	-e	x" \
	"options after the script name are the script's arguments" || show
run "$CTLUA" -e 'print(#arg, arg[0], arg[1], ...)' x
is "$OUT" $'1\t-e\tx\tx' "with -e CODE ARGS: arg[0] is '-e', the args follow" || show

# --- what needs root and the kernel -------------------------------------------------------

# Cannot run here: a skip, or a failure under CI=true, where the kernel is part of the test.
cannot()
{
	if [[ "${CI:-}" == true ]]; then
		fail "cannot run the kernel tests: $*"
	else
		skip "$*"
	fi
	done_testing
}

((EUID == 0)) || cannot "needs root (network namespaces, BPF)"
[[ -r /sys/kernel/btf/vmlinux ]] || cannot "the kernel has no BTF"
for cmd in ip tc; do
	command -v "$cmd" >/dev/null 2>&1 || cannot "'$cmd' is not installed"
done

run "$CTLUA" -c
is "$RC" 0 "ctlua -c exits 0 as root" || show
like "$OUT" '^ok: ' "ctlua -c says ok"

make_ns || BAIL_OUT "cannot create a test namespace"

in_ns '
print(ct.mode())
print(ct.mode("observe"))
print(ct.mode())
print(ct.mode("off"), ct.mode("enforce"), ct.mode())'
is "$OUT" "enforce
observe
observe
off	enforce	enforce" "ct.mode: enforce after loading; setting returns the mode now in force" ||
	show
in_ns 'print(pcall(ct.mode, "bogus"))'
is "$OUT" $'false\tbad argument #1 to \'ct.mode\' (invalid option \'bogus\')' \
	"ct.mode with a bad option raises" || show

in_ns '
local function opts(o)
	local t = {}
	for k, v in pairs(o) do
		t[#t + 1] = k .. "=" .. (type(v) == "table" and "{" .. table.concat(v, ",") .. "}" or tostring(v))
	end
	table.sort(t)
	return table.concat(t, " ")
end
local a, o = ct.default()
print(a, opts(o))
a, o = ct.default("alloc", {timeout=5000, mark=7, status={"fixed_timeout", "assured"}})
print(a, opts(o))
a, o = ct.default()
print(a, opts(o))
a, o = ct.default("alloc")
print(a, opts(o))
a, o = ct.default("drop")
print(a, type(o), next(o))'
is "$OUT" "pass	
alloc	mark=7 status={assured,fixed_timeout} timeout=5000
alloc	mark=7 status={assured,fixed_timeout} timeout=5000
alloc	
drop	table	nil" "ct.default: pass with no opts at first; set and read back; a new default clears opts" ||
	show

in_ns '
print(table.concat(ct.events(), ","))
print(table.concat(ct.events({"drop", "alloc"}), ","))
print(table.concat(ct.events(), ","))
print(#ct.events({}), #ct.events())
print(table.concat(ct.events({"miss", "alloc", "alloc_error", "drop"}), ","))'
is "$OUT" "miss,alloc,alloc_error,drop
alloc,drop
alloc,drop
0	0
miss,alloc,alloc_error,drop" "ct.events: all four at first; set, read back, turn all off, all on" ||
	show
in_ns 'print(pcall(ct.events, "drop"))'
is "$OUT" $'false\tbad argument #1 to \'ct.events\' (table expected, got string)' \
	"ct.events with a string raises" || show
in_ns 'print(pcall(ct.events, {"drop", "nope"}))'
is "$OUT" $'false\tbad argument #1 to \'ct.events\' (item 2: \'nope\' is not an event kind (miss, alloc, alloc_error, drop))' \
	"ct.events with an unknown kind names argument #1 and the kind" || show

in_ns '
local function show(r)
	local t = {}
	for k, v in pairs(r) do
		t[#t + 1] = k .. "=" .. (type(v) == "table" and "{" .. table.concat(v, ",") .. "}" or tostring(v))
	end
	table.sort(t)
	return table.concat(t, " ")
end
print(ct.rule{action="pass", priority=10})
print(ct.rule{action="drop", proto="tcp", dst="198.18.3.4/15", dport={1000, 2000}})
print(ct.rule{action="alloc", priority=10, src="2001:db8::1/64", dport=53, timeout=1000,
              mark=3, status={"assured", "seen_reply"}})
print(ct.rule{action="pass", priority=-5})
print(ct.rule{action="pass", priority=10, src="198.18.0.9"})
print(ct.rule{action="pass", proto="udp", dport={53, 53}})
for i, r in ipairs(ct.rules()) do print(i, show(r)) end
print(ct.unrule(2))
print(ct.unrule(2))
print(ct.rule{action="drop", family="ipv6", priority=-5})
local ids = {}
for _, r in ipairs(ct.rules()) do ids[#ids + 1] = r.id end
print(table.concat(ids, " "))'
is "$RC" 0 "ct.rule, ct.rules, ct.unrule run" || show
is "$OUT" "1
2
3
4
5
6
1	action=pass id=4 priority=-5
2	action=drop dport={1000,2000} dst=198.18.0.0/15 family=ipv4 id=2 priority=0 proto=tcp
3	action=pass dport=53 id=6 priority=0 proto=udp
4	action=pass id=1 priority=10
5	action=alloc dport=53 family=ipv6 id=3 mark=3 priority=10 src=2001:db8::/64 status={seen_reply,assured} timeout=1000
6	action=pass family=ipv4 id=5 priority=10 src=198.18.0.9/32
true
nil	ENOENT: no rule with id 2	2
7
4 7 6 1 3 5" \
	"rules: ids 1, 2, ...; lower priority first, ties in insertion order; prefixes masked; ids not reused" ||
	show

in_ns '
for i = 1, 256 do assert(ct.rule{action="pass", dport=i}) end
print(ct.rule{action="pass"})
print(#ct.rules())'
is "$OUT" $'nil\tE2BIG: the rule table is full (256 rules)\t7\n256' \
	"the 257th rule: nil, E2BIG, 7; the table keeps 256" || show

in_ns "
local t = ct.tuple{src='198.18.0.2', dst='198.18.0.1', sport=40000, dport=53, proto='udp'}
print(ct.verdict(t, 'drop'))
print(ct.verdict(t, 'alloc', {mark=1, timeout=1000, status={'assured'}}))
print(ct.forget(t))
print(ct.forget(t))
print(ct.verdict({src='2001:db8::2', dst='2001:db8::1', sport=1, dport=2, proto='tcp'}, 'pass'))
print(ct.forget({src='2001:db8::2', dst='2001:db8::1', sport=1, dport=2, proto='tcp'}))
print(ct.forget(ct.tuple{src='2001:db8::2', dst='2001:db8::1', sport=1, dport=2, proto='tcp'}))"
is "$OUT" "true
true
true
nil	ENOENT: no verdict for udp 198.18.0.2:40000 → 198.18.0.1:53	2
true
true
nil	ENOENT: no verdict for tcp [2001:db8::2]:1 → [2001:db8::1]:2	2" \
	"ct.verdict stores (and replaces); ct.forget removes, then ENOENT naming the flow" || show

in_ns 'print(ct.attach("nosuch0"))'
is "$OUT" $'nil\tENODEV: no interface named \'nosuch0\'\t19' \
	"ct.attach of an unknown interface: nil, ENODEV, 19" || show

in_ns '
print(ct.poll(0))
print(ct.poll())
print(ct.poll(50))
print(ct.run(0.2))
print(ct.run(0))'
is "$OUT" $'0\n0\n0\ntimeout\ntimeout' \
	"ct.poll returns 0 with no events; ct.run(0.2) returns 'timeout'" || show

in_ns '
local s = assert(ct.stats())
local names, n = {}, 0
for k, v in pairs(s) do
	n = n + 1
	if k ~= "errors" then names[#names + 1] = k .. "=" .. math.type(v) end
end
table.sort(names)
print(n, type(s.errors), next(s.errors))
print(table.concat(names, " "))'
is "$OUT" "19	table	nil
alloc_error=integer alloc_ok=integer by_default=integer by_rule=integer by_verdict=integer drops=integer events=integer events_lost=integer fragments=integer ipv6_ext=integer lookup_error=integer lookup_hit=integer lookup_miss=integer malformed=integer not_ip=integer other_l4=integer packets=integer passes=integer" \
	"ct.stats: 18 integer counters and an empty errors table" || show

start=$(date +%s%N)
in_ns 'print(ct.run(0.3))'
took=$((($(date +%s%N) - start) / 1000000))
is "$OUT" timeout "ct.run(0.3) returns 'timeout'" || show
cmp_ok "$took" -ge 300 "after waiting its 0.3 s (${took} ms in all)"

# Whether child PID still runs (an exited child stays a zombie until waited for).
alive()
{
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ "${stat:0:1}" != Z ]]
}

# --- SIGTERM while ct.run() waits, with a link on a veth in the namespace ------------------

if ! { ip -n "$NS" link add ctl-v0 type veth peer name ctl-v1 &&
	ip -n "$NS" link set ctl-v0 up && ip -n "$NS" link set ctl-v1 up; }; then
	BAIL_OUT "cannot create a veth pair in $NS"
fi

ip netns exec "$NS" "$CTLUA" -e '
local l = assert(ct.attach("ctl-v0"))
print(l)
io.stdout:flush()
print(ct.run())
print(l)' >"$TMP/term.out" 2>"$TMP/term.err" </dev/null &
pid=$!
attached=
for _ in $(seq 50); do
	if tc -n "$NS" filter show dev ctl-v0 ingress 2>/dev/null | grep -q bpf; then
		attached=1
		break
	fi
	alive "$pid" || break
	sleep 0.1
done
ok $((attached ? 0 : 1)) "ctlua attached a bpf filter to ctl-v0 ingress"
sleep 0.2	# into ct.run's wait
start=$(date +%s%N)
kill -TERM "$pid"
for _ in $(seq 50); do
	alive "$pid" || break
	sleep 0.02
done
took=$((($(date +%s%N) - start) / 1000000))
if alive "$pid"; then
	diag "ctlua still runs 1 s after SIGTERM: killing it"
	kill -KILL "$pid"
fi
wait "$pid"
RC=$?
OUT=$(<"$TMP/term.out")
ERR=$(<"$TMP/term.err")
cmp_ok "$took" -lt 1000 "SIGTERM ends ct.run() promptly (${took} ms)"
is "$RC" 0 "ctlua exits 0 after SIGTERM in ct.run()" || show
is "$OUT" $'link ctl-v0 ingress\nsignal\nlink ctl-v0 ingress' \
	"ct.run() returns 'signal' and the script runs to its end" || show
is "$(tc -n "$NS" filter show dev ctl-v0 ingress)" "" "no filter is left on ctl-v0"
unlike "$(tc -n "$NS" qdisc show dev ctl-v0)" clsact "nor the clsact qdisc ctlua created"

# os.exit ends the program without closing the Lua state: the links must still go.
in_ns 'assert(ct.attach("ctl-v0")); os.exit(0)'
is "$RC" 0 "a script calling os.exit(0) exits 0" || show
is "$(tc -n "$NS" filter show dev ctl-v0 ingress)" "" "os.exit(0) leaves no filter behind"
tc -n "$NS" qdisc del dev ctl-v0 clsact 2>/dev/null

done_testing
