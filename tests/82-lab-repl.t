#!/bin/bash
# 82-lab-repl.t - `ctlua lab` through a real terminal (tmux): the banner says what the lab
# is and where the tour is, the global `lab` sends and lists entries, Ctrl-C at the
# prompt leaves the lab up, Ctrl-D takes it down; and the same without a terminal.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/pty.sh

command -v tmux >/dev/null || skip_all "tmux is not installed (make deps installs it)"
require_root_kernel
require_ctlua

prompt='(^|'$'\n'')> ?$'

# ctlua lab in the host's namespace (the lab makes its own), in a fresh terminal
PTY=lab
pty new-session -d -s "$PTY" -x 160 -y 40 \
	"env CTLUA_HISTORY=$TEST_TMP/history $CTLUA lab; echo '[ctlua exited '\$?']'; sleep 30"
pty_wait 'The guided tour is' 10 || BAIL_OUT "ctlua lab did not start"
screen=$(pty_screen)
like "$screen" 'lab: server namespace ctlab-[0-9]+-1-srv, lab-srv 198\.1[89]\.' \
	"the banner names the server namespace, its veth and address"
like "$screen" 'client namespace ctlab-[0-9]+-1-cli, lab-cli' "and the client's"
like "$screen" 'ctlua attached to lab-srv ingress' "and says ctlua is attached"
like "$screen" 'The guided tour is the numbered files in examples/' "and points to the tour"
pty_wait "$prompt"; ok $? "then the prompt"
srv=$(grep -o 'ctlab-[0-9]*-1-srv' <<<"$screen" | head -n 1)
like "$(ip netns list)" "$srv" "the lab's namespace exists while the shell runs"

pty_type 'ct.rule{proto = "udp", dport = 5353, action = "alloc", mark = 7}'
pty_key Enter
pty_type 'n, t = lab.send{count = 2}; print("SENT", n)'
pty_key Enter
pty_wait 'SENT +2'; ok $? "lab.send at the prompt sends"
pty_type 'for e in lab.entries{proto = "udp"} do print("ROW", e.mark, e.tuple == t) end'
pty_key Enter
pty_wait 'ROW +7 +true'; ok $? "lab.entries at the prompt lists the entry ctlua's rule made"
pty_type 'while true do ct.poll(100) end'
pty_key Enter
sleep 0.5
pty_key C-c
pty_wait 'interrupted' ; ok $? "Ctrl-C interrupts a running line"
pty_type 'print("STILL", lab.server ~= nil, (lab.send{}))'
pty_key Enter
pty_wait 'STILL +true +1'; ok $? "and the lab is still up after it"
pty_key C-d
pty_wait '\[ctlua exited 0\]'; ok $? "Ctrl-D leaves the shell, exit status 0"
is "$(ip netns list | grep -c "^${srv%-srv}-")" 0 "and the lab's namespaces are gone"

# --- no terminal: lines from stdin ------------------------------------------------------
out=$(printf '%s\n' 'print("UP", lab.server)' 'print(lab.send{})' |
	timeout 30 "$CTLUA" lab 2>&1)
is "$?" 0 "ctlua lab reading lines from a pipe exits 0"
like "$out" $'^lab: server namespace' "prints the banner first"
like "$out" $'UP\tctlab-[0-9]+-1-srv' "then runs the lines with the lab up"
pipe_srv=$(grep -o 'ctlab-[0-9]*-1-srv' <<<"$out" | head -n 1)
is "$(ip netns list | grep -c "^${pipe_srv%-srv}-")" 0 "and leaves no lab namespace"

# --- usage -----------------------------------------------------------------------------
like "$("$CTLUA" --help)" 'ctlua \[OPTIONS\] lab \[SCRIPT \[ARGS\.\.\.\]\]' "--help shows ctlua lab"
out=$("$CTLUA" lab --help)
is "$?/$(head -1 <<<"$out")" "0/usage: ctlua [OPTIONS] lab [SCRIPT [ARGS...]]" \
	"ctlua lab --help: its usage, exit 0 (not a script named --help)"
"$CTLUA" lab /nonexistent.lua >"$TEST_TMP/nofile" 2>&1 </dev/null &
nofile_pid=$!
wait "$nofile_pid"
is "$?" 1 "ctlua lab with a script that does not exist exits 1"
out=$(cat "$TEST_TMP/nofile")
like "$out" "cannot open /nonexistent.lua" "and says so"
is "$(ip netns list | grep -c "^ctlab-$nofile_pid-")" 0 "having taken the lab down again"

done_testing
