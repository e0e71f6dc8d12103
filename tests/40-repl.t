#!/bin/bash
# 40-repl.t - the interactive shell, driven through a real terminal (tmux): completion,
# multi-line input, printed values, errors, Ctrl-C, events above a half-typed line,
# ct.watch, Ctrl-D detaching, history across sessions; and the same shell reading a pipe.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/pty.sh

command -v tmux >/dev/null || skip_all "tmux is not installed (make deps installs it)"
pair_test_setup

HIST=$TEST_TMP/history
# tmux shows the screen with trailing blanks cut and tabs as spaces
prompt='(^|'$'\n'')> ?$'

pty_start "$NS_A" "CTLUA_HISTORY=$HIST"
pty_wait 'help\(\) lists the API' || BAIL_OUT "the REPL did not start"
pty_wait "$prompt"; ok $? "a banner, then the prompt"

# --- completion ------------------------------------------------------------------------
pty_type 'ct.al'
pty_key Tab
pty_wait '> ct\.alloc$'; ok $? "ct.al<Tab> completes to the common prefix ct.alloc"
pty_key Tab Tab
pty_wait 'ct\.alloc +ct\.alloc_many'; ok $? "a second Tab lists ct.alloc and ct.alloc_many"
pty_key C-u
pty_type 'ct.mode("ob'
pty_key Tab
pty_wait 'ct\.mode\("observe'; ok $? 'ct.mode("ob<Tab> completes the mode name'
pty_key C-u
pty_type "ct.attach(\"${IF_A:0:8}"
pty_key Tab
pty_wait "ct\\.attach\\(\"$IF_A"; ok $? 'ct.attach("<Tab> completes interface names'
pty_key C-u
pty_type "ct.attach(\"$IF_A\", {dir = \"eg"
pty_key Tab
pty_wait 'dir = "egress'; ok $? 'ct.attach(IF, {dir = "eg<Tab> completes the direction'
pty_key C-u
pty_type 'ct.events{"miss", "all'
pty_key Tab
pty_wait '"miss", "alloc'; ok $? 'ct.events{"miss", "all<Tab> completes an event kind'
pty_key C-u
pty_type 'ct.set("web", "po'
pty_key Tab
pty_wait 'ct\.set\("web", "port'; ok $? 'ct.set(NAME, "po<Tab> completes the kind'
pty_key C-u
pty_type 'bl = ct.set("bl")'
pty_key Enter
pty_wait "$prompt"	# the set loaded the datapath first
pty_type 'bl:fl'
pty_key Tab
pty_wait '> bl:flush$'; ok $? "a set's methods complete (bl:fl<Tab> to bl:flush)"
pty_key C-u
pty_type 'string.fo'
pty_key Tab
pty_wait '> string\.format$'; ok $? "fields of any global table complete (string.format)"
pty_key C-u

# --- values, multi-line input, errors --------------------------------------------------
pty_type '1 + 1, "two", {b = 2, a = {1, 2}}'
pty_key Enter
pty_wait $'\n2 +"two" +\\{a = \\{1, 2\\}, b = 2\\}'
ok $? "an expression prints its values side by side, tables sorted"

pty_type 'function double(x)'
pty_key Enter
pty_wait '>> ?$'; ok $? "an unfinished statement continues on the >> prompt"
pty_type '  return x * 2'
pty_key Enter
pty_type 'end'
pty_key Enter
pty_type 'double(21)'
pty_key Enter
pty_wait $'\n42\n> ?$'; ok $? "the multi-line function was defined and runs"

pty_type 'error("boom")'
pty_key Enter
pty_wait 'stdin:1: boom'; ok $? "an error prints its message"
like "$(pty_screen)" 'stack traceback' "and a short traceback"
pty_type 'print("still here")'
pty_key Enter
pty_wait $'\nstill here\n> ?$'; ok $? "and the next line works"

pty_type 'while true do end'
pty_key Enter
sleep 0.5
pty_key C-c
pty_wait 'interrupted'; ok $? "Ctrl-C interrupts a running loop"
pty_type 'print("after")'
pty_key Enter
pty_wait $'\nafter\n> ?$'; ok $? "and the shell carries on"

pty_type 'half typed'
pty_key C-c
pty_wait $'\\^C\n> ?$'; ok $? "Ctrl-C at the prompt clears the line"

# --- events while a line is half typed ---------------------------------------------------
pty_type "link = ct.attach('$IF_A'); ct.mode('observe'); ct.on('miss', function(e) print('EVENT', e.dport) end)"
pty_key Enter
pty_wait "$prompt" || diag_text "$(pty_screen)"
pty_type 'local half = 12'
udp_send "$NS_B" "$ADDR_A" 5353 || fail "udp_send"
pty_wait 'EVENT +5353'; ok $? "a callback's output appears while the prompt waits"
is "$(pty_last_line)" "> local half = 12" "and the half-typed line is still there, intact"
pty_key Enter
pty_wait $'12\n> ?$'; ok $? "the line then runs as typed"

pty_type "ct.on('miss', nil); ct.watch{kind = 'miss'}"
pty_key Enter
pty_wait 'Ctrl-C ends the watch'; ok $? "ct.watch at the prompt says how it ends"
udp_send "$NS_B" "$ADDR_A" 5354 || fail "udp_send"
pty_wait '[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3} event\{miss ingress'
ok $? "ct.watch prints matching events, each behind its time"
like "$(pty_screen)" '198\.18\.0\.2:[0-9]+ → 198\.18\.0\.1:5354' "as one readable line"
unlike "$(pty_last_line)" '^>' "the prompt does not come back while it watches"
pty_type 'x = 1'	# keys typed during the watch are dropped, not run
pty_key Enter
udp_send "$NS_B" "$ADDR_A" 5355 || fail "udp_send"
pty_wait ':5355, action pass'; ok $? "a line typed does not end the watch"
pty_key C-c
pty_wait $'\(watch ended: 2 events shown\)\n> ?$'; ok $? "Ctrl-C ends the watch (not the shell): the prompt is back"
pty_type 'x = 1'
pty_key Enter
pty_key Enter		# a blank line: not kept in the history
pty_type 'x = 1'	# the same line again: kept once
pty_key Enter
udp_send "$NS_B" "$ADDR_A" 5356 || fail "udp_send"
sleep 0.5
unlike "$(pty_screen)" ':5356' "and the watch is over"
pty_type "ct.watch{dport = 5357}"
pty_key Enter
udp_send "$NS_B" "$ADDR_A" 5357 || fail "udp_send"
pty_wait ':5357, action pass'; ok $? "a new watch shows the next flow (events still flow)"
pty_key C-c
pty_wait "$prompt"

# --- a failing callback, and Ctrl-C in ct.run ------------------------------------------------
pty_type "ct.on('miss', function(e) error('callback broke') end)"
pty_key Enter
udp_send "$NS_B" "$ADDR_A" 5358 || fail "udp_send"
pty_wait 'callback broke'; ok $? "an error in a callback at the prompt is printed"
pty_type 'print("prompt ok")'
pty_key Enter
pty_wait $'\nprompt ok\n> ?$'; ok $? "and the prompt still works"
pty_type "ct.on('miss', nil); ct.run(); print('not reached')"
pty_key Enter
sleep 0.5
pty_key C-c
pty_wait 'interrupted'; ok $? "Ctrl-C stops ct.run() and the rest of its line"
unlike "$(pty_screen)" $'\nnot reached' "(the line did not go on after ct.run)"
pty_wait "$prompt"; ok $? "back at the prompt"

# --- Ctrl-D leaves, detaching -------------------------------------------------------------
like "$(ip netns exec "$NS_A" tc filter show dev "$IF_A" ingress)" 'ctlua' "ctlua's filter is attached"
pty_key C-d
pty_wait '\[ctlua exited 0\]'; ok $? "Ctrl-D leaves with status 0"
unlike "$(ip netns exec "$NS_A" tc filter show dev "$IF_A" ingress)" 'ctlua' "and the filter is gone"

# --- history in a second session ----------------------------------------------------------
[[ -s "$HIST" ]]; ok $? "the history file was written"
grep -qx 'half typed' "$HIST"; isnt "$?" 0 "an interrupted line is not in it"
is "$(grep -cx 'x = 1' "$HIST")" 1 "a line typed twice in a row is stored once"
is "$(grep -c '^$' "$HIST")" 0 "a blank line is not stored"
is "$(grep -x -A2 'function double(x)' "$HIST" | tr '\n' '|')" 'function double(x)|  return x * 2|end|' \
	"a multi-line statement is one entry"
like "$(grep -x -B1 'function double(x)' "$HIST" | head -n 1)" '^#[0-9]+$' \
	"headed by its timestamp, so the next session reads it back whole"
pty_start "$NS_A" "CTLUA_HISTORY=$HIST"
pty_wait "$prompt"
pty_key Up
pty_wait 'ct\.run\(\); print\(.not reached.\)$'; ok $? "Up in a new session recalls the last line of the previous one"
pty_key C-u
kill -TERM $(ip netns pids "$NS_A") 2>/dev/null
pty_wait '\[ctlua exited 0\]'; ok $? "SIGTERM at the prompt ends the shell cleanly"

# --- without a terminal ---------------------------------------------------------------------
out=$(printf '1 + 1\nt = {\n  n = 3 }\nprint(t.n)\n' | ip netns exec "$NS_A" "$CTLUA" 2>&1)
rc=$?
is "$out" $'2\n3' "piped lines run and print, with no prompt or banner"
is "$rc" 0 "and exit 0"
unlike "$out" $'\e' "no escape codes"
out=$(printf 'error("first")\nprint("second")\n' | ip netns exec "$NS_A" "$CTLUA" 2>&1)
rc=$?
like "$out" 'stdin:1: first' "an error in piped input is reported"
like "$out" $'\nsecond' "the lines after it still run"
is "$rc" 1 "and the exit status says an error happened"
out=$(printf 'print(x)\nhelp(ct.lookup)\n' | ip netns exec "$NS_A" "$CTLUA" -i -e 'x = 5' 2>&1)
like "$out" $'^5\nct\\.lookup\\(tuple' "ctlua -i runs the code, then reads lines; help(fn) prints its reference"
out=$(printf 'print(ct.alloc({src="198.18.0.2", dst="198.18.0.1", sport=9, dport=10, proto="udp"}, {mark=3}))\n' |
	ip netns exec "$NS_A" "$CTLUA" 2>&1)
like "$out" '^entry\{udp 198\.18\.0\.2:9 → 198\.18\.0\.1:10, reply udp 198\.18\.0\.1:10 → 198\.18\.0\.2:9, status confirmed, timeout [0-9]+ ms, mark 0x3\}$' \
	"print() shows an entry as the shell does"
out=$(printf 'for i = 1, 2 do\n' | ip netns exec "$NS_A" "$CTLUA" 2>&1)
rc=$?
like "$out" 'unfinished statement' "input that ends inside a statement says so"
is "$rc" 1 "and exits 1"

done_testing
