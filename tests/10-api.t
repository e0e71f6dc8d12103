#!/bin/bash
# 10-api.t - the ctlua command line, and the `ct` functions that load the BPF object (in a
# namespace of its own, make_ns): their results, and failures of the system returned as
# nil, "ENAME: ...", errno. Misuse that needs no kernel is tested in Lua (10-api-*.t).
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

# The Lua API's checks that need no kernel are Lua files: 10-api-tuple.t, 10-api-misuse.t,
# 52-bad-input.t. This file keeps what needs the command line or a namespace.

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
is "$(grep '^load and attach ' <<<"$OUT")" "load and attach (ct.attach, rules, verdicts, events): ok" \
	"ctlua -c says loading and attaching can work (63-privileges.t checks every line)"

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
print(table.concat(ids, " "))
local pasted = ct.rules()[5]                  -- a rule as listed, pasted back: a new id
print(ct.rule(pasted), show(ct.rules()[#ct.rules()]))
print(pcall(ct.rule, {action = "pass", id = 0}))'
is "$RC" 0 "ct.rule, ct.rules, ct.unrule run" || show
is "$OUT" "1
2
3
4
5
6
1	action=pass counts={} id=4 priority=-5
2	action=drop counts={} dport={1000,2000} dst=198.18.0.0/15 family=ipv4 id=2 priority=0 proto=tcp
3	action=pass counts={} dport=53 id=6 priority=0 proto=udp
4	action=pass counts={} id=1 priority=10
5	action=alloc counts={} dport=53 family=ipv6 id=3 mark=3 priority=10 src=2001:db8::/64 status={seen_reply,assured} timeout=1000
6	action=pass counts={} family=ipv4 id=5 priority=10 src=198.18.0.9/32
true
nil	ENOENT: no rule with id 2	2
7
4 7 6 1 3 5
8	action=alloc counts={} dport=53 family=ipv6 id=8 mark=3 priority=10 src=2001:db8::/64 status={seen_reply,assured} timeout=1000
false	bad argument #1 to 'ct.rule' (field 'id': 0 is out of range 1 to 4294967295)" \
	"rules: ids 1, 2, ...; lower priority first, ties in insertion order; prefixes masked; ids not reused; a listed rule pastes back; each with its counts" ||
	show

in_ns '
local rules = {}
for i = 1, 16384 do rules[i] = {action="pass", dport=i % 65536} end
assert(ct.policy{rules = rules})
print(ct.rule{action="pass"})
print(#ct.rules())
rules[16385] = {action="pass"}
print(ct.policy{rules = rules})'
is "$OUT" $'nil\tE2BIG: the rule table is full (16384 rules)\t7\n16384\nnil\tE2BIG: the rule table holds 16384 rules, got 16385\t7' \
	"the 16385th rule: nil, E2BIG, 7; the table keeps 16384; a policy of 16385: E2BIG" || show

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
	if k ~= "errors" and k ~= "sources" then names[#names + 1] = k .. "=" .. math.type(v) end
end
table.sort(names)
print(n, type(s.errors), next(s.errors))
print(table.concat(names, " "))
local src = {}
for k, c in pairs(s.sources) do
	src[#src + 1] = ("%s=%d/%d/%d/%s"):format(k, c.decided, c.allocated, c.dropped, next(c.errors))
end
table.sort(src)
print(table.concat(src, " "))'
is "$OUT" "33	table	nil
alloc_error=integer alloc_ok=integer by_default=integer by_rule=integer by_verdict=integer callback_errors=integer callback_memory=integer callback_timeouts=integer drops=integer events=integer events_lost=integer fragments=integer icmp=integer icmpv6=integer ipv6_ext=integer ipv6_ext_walked=integer ipv6_fragments=integer limited=integer lookup_error=integer lookup_hit=integer lookup_miss=integer malformed=integer not_ip=integer other_l4=integer packets=integer passes=integer sctp=integer verdicts_expired=integer verdicts_full=integer wakeups=integer zone_hit=integer
answer=0/0/0/nil default=0/0/0/nil rules=0/0/0/nil verdict=0/0/0/nil" \
	"ct.stats: 31 integer counters (5 of them the host's), an empty errors table, and sources at 0" || show

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
