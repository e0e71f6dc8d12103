#!/bin/bash
# 70-repl-teacher.t - the shell as a teacher, through a real terminal (tmux): `_` holds
# the last value; an iterator typed alone shows its rows and a count; help explains the
# concepts; option-table keys and status names complete; errors name ct.rule; marks
# print in hex; a printed tuple pastes back; ct.watch holds the prompt until Ctrl-C,
# shows only events from its start, each with its time. The same through a pipe.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/pty.sh

command -v tmux >/dev/null || skip_all "tmux is not installed (make deps installs it)"
pair_test_setup

prompt='(^|'$'\n'')> ?$'
pty_start "$NS_A" "CTLUA_HISTORY=$TEST_TMP/history"
pty_wait 'help\(\) lists the API' || BAIL_OUT "the REPL did not start"
pty_wait "$prompt"

# run LINE: type it, Enter, and wait for the prompt to come back
run()
{
	pty_key C-l
	pty_type "$1"
	pty_key Enter
	sleep 0.2
	pty_wait "$prompt"
}

# --- completion of option tables ---------------------------------------------------------------
pty_type 'ct.rule{pro'
pty_key Tab
pty_wait '> ct\.rule\{proto =$'; ok $? 'ct.rule{pro<Tab> completes the key: proto = '
pty_key C-u
pty_type 'ct.alloc(t, {time'
pty_key Tab
pty_wait '> ct\.alloc\(t, \{timeout =$'; ok $? 'ct.alloc(t, {time<Tab> completes timeout = '
pty_key C-u
pty_type 'ct.rule{action = "alloc", status = {"fix'
pty_key Tab
pty_wait 'status = \{"fixed_timeout'; ok $? 'status = {"fix<Tab> completes a status bit name'
pty_key C-u
pty_type 'ct.rule{action = "alloc", status = {"seen_reply", "as'
pty_key Tab
pty_wait '"seen_reply", "assured'; ok $? "and the next item of the list"
pty_key C-u
pty_type 'ct.alloc(t, {zone = {i'
pty_key Tab
pty_wait 'zone = \{id =$'; ok $? "a nested table's keys complete (zone = {id = )"
pty_key C-u
pty_type 'ct.lookup(t, {ti'
pty_key Tab
sleep 0.3
unlike "$(pty_last_line)" 'timeout' "ct.lookup takes no timeout, so none is offered"
pty_key C-u
pty_type 'ct.attach("lo", {orph'
pty_key Tab
pty_wait 'orphans =$'; ok $? "ct.attach's option keys complete too"
pty_key C-u
pty_type 'ct.rule{action = "al'
pty_key Tab
pty_wait 'action = "alloc'; ok $? 'action = "al<Tab> completes the action'
pty_key C-u
pty_type 'ct.attach("lo", {hook = "x'
pty_key Tab
pty_wait 'hook = "xdp'; ok $? 'hook = "x<Tab> completes the hook'
pty_key C-u
pty_type 'ct.attach("lo", {hook = "xdp", xdp_mode = "gen'
pty_key Tab
pty_wait 'xdp_mode = "generic'; ok $? 'xdp_mode = "gen<Tab> completes the XDP mode'
pty_key C-u
pty_type 'ct.rule{action = "alloc", limit = {ov'
pty_key Tab
pty_wait 'limit = \{over =$'; ok $? "a rule's limit's keys complete (limit = {over = )"
pty_key C-u
pty_type 'ct.rule{action = "alloc", limit = {over = "pa'
pty_key Tab
pty_wait 'over = "pass'; ok $? 'over = "pa<Tab> completes the over action'
pty_key C-u
pty_type 'ct.policy{rules = {{proto = "udp"}, {dport_s'	# dp: dport and dport_set
pty_key Tab
pty_wait '\{dport_set =$'; ok $? "ct.policy's rules complete a rule's keys"
pty_key C-u
pty_type 'ct.policy{default = {li'
pty_key Tab
pty_wait 'default = \{limit =$'; ok $? "ct.policy's default completes its keys"
pty_key C-u

# --- _ and iterators ---------------------------------------------------------------------------
run '6 * 7'
run '_ + 1'
pty_wait $'\n43\n> ?$'; ok $? "_ holds the last value the shell printed"
run 'x = {a = 1}'
run '_'
pty_wait $'\n43\n> ?$'; ok $? "a statement that prints nothing leaves _ as it was"
run 'local t = {} for i = 1, 25 do t[i] = i * 10 end return ipairs(t)'
screen=$(pty_screen)
like "$screen" $'\n1 +10\n2 +20\n' "ipairs(t) typed alone shows its rows, as the shell prints values"
like "$screen" $'\n20 +200\n\\.\\.\\. 5 more \\(25 rows\\)\n> ?$' "the first 20, then a count of the rest"
unlike "$screen" 'function: (builtin|0x)' "not the iterator's internals"
run '#_, _[25][1], _[25][2]'
pty_wait $'\n25 +25 +250\n> ?$'; ok $? "_ is then the list of the rows (each a list of its values)"
run 'pairs({})'
pty_wait $'\n\\(0 rows\\)\n> ?$'; ok $? "an empty iterator says (0 rows)"

# --- errors, marks, tuples ----------------------------------------------------------------------
run 'ct.rule{proto = "udp"}'
like "$(pty_screen)" "stdin:1: bad argument #1 to 'ct\\.rule' \\(field 'action': missing" \
	"an error names ct.rule, as it was typed"
run 'local r = ct.rule; r(5)'
like "$(pty_screen)" "bad argument #1 to 'ct\\.rule' \\(table expected, got number\\)" \
	"also when the function was reached under another name"
run '{mark = 66, timeout = 5}'
pty_wait $'\n\\{mark = 0x42, timeout = 5\\}\n> ?$'; ok $? "a mark prints in hex"
run 'ct.tuple{src = "2001:db8::2", dst = "2001:db8::1", sport = 1, dport = 443, proto = "tcp"}'
pty_wait $'\ntcp \\[2001:db8::2\\]:1 → \\[2001:db8::1\\]:443\n> ?$'; ok $? "a tuple prints as text"
run 'ct.tuple(tostring(_)) == _, ct.tuple("tcp [2001:db8::2]:1 -> [2001:db8::1]:443") == _'
pty_wait $'\ntrue +true\n> ?$'; ok $? "and that text, with → or ->, reads back as the same tuple"

# --- help's concepts ------------------------------------------------------------------------------
run 'help "status"'
screen=$(pty_screen)
like "$screen" 'BPF can set only four bits: seen_reply, assured, fixed_timeout and helper' \
	'help "status" says which bits BPF may set'
run 'help "opts"'
like "$(pty_screen)" '6.10 take only 12 \(16 fails every call with EINVAL\); from 6.11 both 12 and 16' \
	'help "opts" gives the sizes per kernel'

# --- ct.watch --------------------------------------------------------------------------------------
run "link = assert(ct.attach('$IF_A')); ct.mode('observe')"
# events queued while a line runs, before its watch starts, are not the watch's
pty_type "ct.on('miss', function() end); local c = os.clock() + 1.5 repeat until os.clock() > c; ct.watch{kind = 'miss'}"
pty_key Enter
sleep 0.3
udp_send "$NS_B" "$ADDR_A" 6001 || fail "udp_send"
pty_wait 'Ctrl-C ends the watch'; ok $? "ct.watch at the prompt says how it ends"
sleep 0.3
udp_send "$NS_B" "$ADDR_A" 6002 || fail "udp_send"
pty_wait '(^|'$'\n'')[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} event\{miss ingress [^ ]+ udp 198\.18\.0\.2:[0-9]+ → 198\.18\.0\.1:6002, action pass\}'
ok $? "an event after the start shows, behind its time"
unlike "$(pty_screen)" ':6001' "one queued before the watch began does not"
unlike "$(pty_last_line)" '^>' "no prompt while it watches"
pty_type 'print("typed")'
pty_key Enter
sleep 0.3
unlike "$(pty_screen)" $'\ntyped' "a line typed meanwhile does not run"
pty_key C-c
pty_wait $'\\^C\n\\(watch ended: 1 event shown\\)\n> ?$'; ok $? "Ctrl-C ends the watch, and the prompt is back"
run 'print("still here")'
pty_wait $'\nstill here\n> ?$'; ok $? "ctlua is still running"
udp_send "$NS_B" "$ADDR_A" 6003 || fail "udp_send"
sleep 0.5
unlike "$(pty_screen)" ':6003' "and the watch is over"
pty_key C-d
pty_wait '\[ctlua exited 0\]'; ok $? "Ctrl-D leaves with status 0"

# --- through a pipe --------------------------------------------------------------------------------
out=$(printf 'ipairs({5, 6})\n_[2]\nstring.gmatch("a b", "%%a")\n_\n' | ip netns exec "$NS_A" "$CTLUA" 2>&1)
is "$out" $'1\t5\n2\t6\n(2 rows)\n{2, 6}\n<function: builtin>\n<function: builtin>' \
	"piped, an iterator shows its rows and _ the list; one function alone is a value"
ip netns exec "$NS_A" "$CTLUA" >"$TEST_TMP/out" 2>&1 < <(printf 'ct.watch{}\nprint("after")\n'; sleep 30) &
pid=$!
wait_line "$TEST_TMP/out" 'Ctrl-C ends the watch' || fail "the watch did not start"
sleep 0.3
grep -q after "$TEST_TMP/out"; isnt $? 0 "piped, the lines after a watch wait for it"
kill -INT "$(ip netns pids "$NS_A" | head -n 1)"
wait_line "$TEST_TMP/out" '^after$'; ok $? "SIGINT ends the watch and the next line runs"
kill "$pid" 2>/dev/null
wait "$pid" 2>/dev/null

done_testing
