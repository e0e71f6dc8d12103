#!/bin/bash
# 66-check-policy.t - `ctlua check POLICY`: a policy's top level against a dry-run `ct`.
# What it would do is printed; every problem (syntax, a bad rule or option, a callback
# that is no function, a missing interface, calls that act at once, ct.run, a file
# ctlua run would refuse) is reported with file and line and makes the exit status 1;
# and nothing reaches the kernel: no bpf() call at all (strace), no qdisc, no filter.
# Uses only the loopback interface of the namespace it runs in.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
CTLUA=${CTLUA:-$PWD/build/ctlua}
[[ -x "$CTLUA" ]] || BAIL_OUT "$CTLUA is missing: run make first"

TMP=$(mktemp -d /tmp/ctlua-check.XXXXXX) || BAIL_OUT "cannot create a temporary directory"
trap 'rm -rf "$TMP"' EXIT
POL=$TMP/policy.lua
nl=$'\n'

# check TEXT: write TEXT as the policy (mode 0600) and run ctlua check on it; sets RC,
# OUT and ERR.
check()
{
	printf '%s\n' "$1" >"$POL"
	chmod 600 "$POL"
	OUT=$("$CTLUA" check "$POL" 2>"$TMP/err" </dev/null)
	RC=$?
	ERR=$(cat "$TMP/err")
}

# --- a good policy: what it would do -----------------------------------------------------------
good='ct.mode("observe")
ct.default("drop", {timeout = 5000})
ct.rule{proto = "udp", dport = 53, action = "alloc", timeout = 30000}
ct.rule{proto = "tcp", dport = {8000, 8080}, action = "pass"}
ct.events{"miss", "alloc"}
ct.on("miss", function(ev) return "alloc" end)
ct.on("alloc", function(ev) end)
assert(ct.attach("lo"))
assert(ct.attach("lo", {dir = "egress"}))
print("top level ran; mode " .. ct.mode() .. ", " .. #ct.rules() .. " rules")'
check "$good"
is "$RC" 0 "a good policy: exit status 0"
is "$OUT" "top level ran; mode observe, 2 rules${nl}policy '$POL': ok: attach lo ingress, lo egress; mode observe; default drop; 2 rules; callbacks miss, alloc" \
	"it prints what the policy would do (the staged mode and rules read back too)"
is "$ERR" "" "and nothing on stderr"

if command -v strace >/dev/null 2>&1; then
	printf '%s\n' "$good" >"$POL"
	# LeakSanitizer cannot run under ptrace (the sanitizer pass): off for this run only
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -e trace=bpf -o "$TMP/strace" "$CTLUA" check "$POL" >/dev/null 2>&1
	is "$?" 0 "under strace, the check passes too"
	is "$(grep -c 'bpf(' "$TMP/strace")" 0 "and it makes no bpf() call: nothing loaded, no map written"
elif [[ "${CI:-}" == true ]]; then
	BAIL_OUT "strace is missing (scripts/install-deps.sh installs it)"
else
	skip "'strace' is not installed" 2
fi
if ((EUID == 0)) && command -v tc >/dev/null 2>&1; then
	unlike "$(tc filter show dev lo ingress; tc filter show dev lo egress)" ctlua \
		"no ctlua filter on lo afterwards"
else
	skip "not root: tc cannot be asked" 1
fi

# --- rate limits: a dry run gives them slots of its own, and reads them back as a run would ------
check 'ct.policy{rules = {
	{proto = "udp", dport = 53, action = "alloc"},
	{proto = "udp", dport = 54, action = "drop", priority = -1, limit = {rate = 2, over = "pass"}},
	{proto = "tcp", dport = 80, action = "alloc", limit = {rate = 0.5, burst = 3, name = "web"}}}}
for _, r in ipairs(ct.rules()) do
	local l = r.limit or {}
	print(r.id, r.dport, l.id, l.rate, l.burst, l.per, l.over, l.name)
end
for i = 1, 1100 do	-- more than the 1023 slots: each replaces the last
	assert(ct.default("drop", {limit = {rate = i, over = "pass"}}))
end
local _, opts = ct.default()
print(opts.limit.rate, opts.limit.over)'
is "$RC:$ERR" "0:" "a policy with limits checks"
is "$OUT" "2	54	1	2	2	src	pass	nil
1	53	nil	nil	nil	nil	nil	nil
3	80	2	0.5	3	src	drop	web
1100	pass
policy '$POL': ok: no interface attached; mode enforce; default drop; 3 rules; callbacks none" \
	"ct.rules() shows each rule's limit, on the rule that has it; ct.default's replaced slot is freed"

check 'local rules = {}
for i = 1, 16384 do
	rules[i] = {proto = "udp", dport = i, action = "alloc", priority = -i % 7,
		    limit = i % 4096 == 0 and {rate = i} or nil}
end
local ids = assert(ct.policy{rules = rules})
local limited = {}
for _, r in ipairs(ct.rules()) do
	if r.limit then limited[#limited + 1] = r.dport .. "=" .. r.limit.rate end
end
print(#ids, table.concat(limited, " "))'
is "$RC:$ERR" "0:" "a policy of 16384 rules, 4 of them limited, checks"
is "${OUT%%$nl*}" "16384	16384=16384 12288=12288 8192=8192 4096=4096" \
	"each limit is on its own rule, in evaluation order (by priority, not by id)"

check 'local rules = {}
for i = 1, 1024 do rules[i] = {proto = "udp", dport = i, action = "alloc", limit = {rate = 1}} end
print(ct.policy{rules = rules})
rules[1024] = nil
print(#assert(ct.policy{rules = rules}), #ct.rules())
print(ct.limits())'
is "$RC:$ERR" "0:" "limits past the slots: the check goes on"
is "$OUT" "nil	ENOSPC: no room for another rate limit (1023 are in use)	28
1023	1023
nil	EOPNOTSUPP: ctlua check loads no datapath	95
policy '$POL': ok: no interface attached; mode enforce; default pass; 1023 rules; callbacks none" \
	"the 1024th limit fails as in a run, 1023 fit (the failed policy's freed), ct.limits() needs the datapath"

# --- problems, each with file and line ---------------------------------------------------------
check 'ct.default("drop")
local l = ct.attach("nosuch0")
ct.alloc({proto = "udp", src = "198.18.0.1", sport = 1, dst = "198.18.0.2", dport = 2})
ct.verdict({proto = "udp", src = "198.18.0.1", sport = 1, dst = "198.18.0.2", dport = 2}, "drop")
print("went on", l.ifname, l.attached)
ct.forget({proto = "udp", src = "198.18.0.1", sport = 1, dst = "198.18.0.2", dport = 2})
ct.sync()
ct.stats()
ct.flush()'
is "$RC" 1 "problems that do not raise: exit status 1"
is "$ERR" "ctlua: $POL:2: no interface named 'nosuch0'
ctlua: $POL:3: ct.alloc acts at once: ctlua check does not run it
ctlua: $POL:4: ct.verdict acts at once: ctlua check does not run it
ctlua: $POL:6: ct.forget acts at once: ctlua check does not run it
ctlua: $POL:7: ct.sync acts at once: ctlua check does not run it
ctlua: $POL:8: ct.stats acts at once: ctlua check does not run it
ctlua: $POL:9: ct.flush acts at once: ctlua check does not run it
ctlua: policy '$POL': 7 problems" "each is reported with its line, and the check goes on to the end"
is "$OUT" "went on	nosuch0	false" "a missing interface still gives the policy a link, not attached"

check 'ct.alloc_many({})
local r, msg, errno = ct.lookup({proto = "udp", src = "198.18.0.1", sport = 1, dst = "198.18.0.2", dport = 2})
print(r, msg, errno)'
is "$OUT" "nil	EOPNOTSUPP: ct.lookup acts at once: ctlua check does not run it	95" \
	"a replaced function returns nil, \"EOPNOTSUPP: ...\", 95"
like "$ERR" "^ctlua: $POL:1: ct.alloc_many acts at once: ctlua check does not run it${nl}ctlua: $POL:2: ct.lookup acts at once" \
	"ct.alloc_many and ct.lookup are reported too"

# raises CASE TEXT WANT: a problem that ends the top level, reported as WANT.
raises()
{
	check "$2"
	is "$RC:$OUT" 1: "$1: exit status 1, nothing on stdout"
	is "$ERR" "ctlua: $3${nl}ctlua: policy '$POL': 1 problem" "$1: reported with file and line"
}
raises "a syntax error" 'ct.default("drop")
ct.rule{proto = "udp"' "$POL:3: '}' expected (to close '{' at line 2) near <eof>"
raises "a bad rule" 'ct.rule{proto = "udp", dport = 70000, action = "alloc"}' \
	"$POL:1: bad argument #1 to 'ct.rule' (field 'dport': 70000 is out of range 0 to 65535)"
raises "a rule without action" 'ct.rule{proto = "udp"}' \
	"$POL:1: bad argument #1 to 'ct.rule' (field 'action': missing (\"pass\", \"alloc\" or \"drop\"))"
raises "a callback that is no function" 'ct.on("miss", 42)' \
	"$POL:1: bad argument #2 to 'ct.on' (function expected, got number)"
raises "an unknown event kind" 'ct.on("mis", print)' \
	"$POL:1: bad argument #1 to 'ct.on' (invalid option 'mis')"
raises "a bad attach option" 'ct.attach("lo", {dir = "sideways"})' \
	"$POL:1: bad argument #2 to 'ct.attach' (field 'dir': invalid option 'sideways')"
raises "ct.run" 'ct.run()' \
	"$POL:1: ct.run and ct.poll cannot be called in a policy that 'ctlua run' serves (it serves the events itself)"
raises "an error of the policy's own" 'error("not ready")' "$POL:1: not ready"

# --- files ctlua run would refuse ---------------------------------------------------------------
printf 'ct.default("drop")\n' >"$POL"
chmod 0646 "$POL"
OUT=$("$CTLUA" check "$POL" 2>"$TMP/err")
RC=$?
is "$RC:$OUT" 1: "a world-writable policy: exit status 1"
is "$(cat "$TMP/err")" "ctlua: refusing policy '$POL': the file is writable by others (mode 0646); chmod go-w fixes it
ctlua: policy '$POL': 1 problem" "reported as ctlua run would refuse it"
chmod 0600 "$POL"
OUT=$("$CTLUA" check "$TMP/nope.lua" 2>"$TMP/err")
is "$?:$OUT:$(cat "$TMP/err")" "1::ctlua: cannot open '$TMP/nope.lua': No such file or directory" \
	"a missing file"

# --- the command line --------------------------------------------------------------------------
OUT=$("$CTLUA" check 2>&1)
is "$?:$OUT" "2:ctlua: check: no policy file given${nl}Try 'ctlua --help' for more information." \
	"check without a policy: usage error"
OUT=$("$CTLUA" check "$POL" x 2>&1)
is "$?:$OUT" "2:ctlua: check takes one policy file, and no arguments after it ('x')" \
	"check with an argument after the policy: usage error"
OUT=$("$CTLUA" --help)
like "$OUT" "${nl}       ctlua check \\[OPTIONS\\] POLICY  \\(validate a policy; nothing reaches the kernel\\)${nl}" \
	"--help shows check"
like "$OUT" "(the host; 'ctlua check POLICY' checks a policy)" "and tells it apart from --check"

done_testing
