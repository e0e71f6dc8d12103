#!/bin/bash
# 67-control.t - the control socket of `ctlua run` (/run/ctlua/NAME.sock): `ctlua status`
# (policy, generation before and after a reload, attachments, counters that move with
# packets, a callback's error under last errors), `ctlua shell` over a pipe and on a
# terminal (a global of the policy, ct.rule changing what the next packet meets, an
# error and an endless loop that leave the service running, a reload under an open
# shell), a client that does not read, a non-root peer, a second service of the same
# name, a stale socket replaced, and the socket's mode and removal at exit.
#
# NS_A has no conntrack hooks, so an entry `conntrack -L` shows there was made by
# ctlua's program (an "alloc" rule).
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh
source tests/lib/service.sh

pair_test_setup
command -v python3 >/dev/null 2>&1 || skip_all "'python3' is not installed (the slow client)"
command -v setpriv >/dev/null 2>&1 || skip_all "'setpriv' is not installed (the non-root peer)"

nl=$'\n'
NAME=t67-$$
SOCK=/run/ctlua/$NAME.sock
POLDIR=$TEST_TMP/policies
mkdir -m 700 "$POLDIR"
POL=$POLDIR/$NAME.lua
trap 'rm -f "$SOCK"; _ns_cleanup' EXIT

# counter TEXT NAME: the value of NAME= in status TEXT's counters line.
counter()
{
	sed -n "s/^counters:.* $2=\\([0-9]*\\).*/\\1/p" <<<"$1"
}

udp_listen "$NS_A" 5353
out5353=$LISTEN_OUT
udp_listen "$NS_A" 5356
out5356=$LISTEN_OUT

# --- a service that does not run ----------------------------------------------------------------
OUT=$("$CTLUA" status "$NAME" 2>&1)
RC=$?
is "$RC" 1 "status of a service that does not run: exit 1"
is "$OUT" "ctlua: no service named '$NAME' (no $SOCK)" "  and says so, naming the socket"

OUT=$("$CTLUA" status 2>&1)
is "$?/$OUT" "2/ctlua: status wants one service name (ctlua status NAME)${nl}Try 'ctlua --help' for more information." \
	"status without a name: usage, exit 2"
OUT=$("$CTLUA" shell a b 2>&1)
is "$?/$OUT" "2/ctlua: shell wants one service name (ctlua shell NAME)${nl}Try 'ctlua --help' for more information." \
	"shell with two: usage, exit 2"
OUT=$("$CTLUA" status --help 2>&1)
is "$?/$(head -1 <<<"$OUT")" "0/usage: ctlua status NAME" "status --help: its usage, exit 0"
OUT=$("$CTLUA" shell -h 2>&1)
is "$?/$(head -1 <<<"$OUT")" "0/usage: ctlua shell NAME" "shell -h: its usage, exit 0"
OUT=$("$CTLUA" status ../x 2>&1)
is "$?/$OUT" "1/ctlua: '../x' is not a service name (1 to 64 of A-Z a-z 0-9 _ . @ -, not starting with '.')" \
	"a name with a slash is refused (no path outside /run/ctlua)"

# a socket a dead service left behind
python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$SOCK"
OUT=$("$CTLUA" status "$NAME" 2>&1)
RC=$?
is "$RC/$OUT" "1/ctlua: no service named '$NAME' runs ($SOCK is left from one that ended)" \
	"status at a stale socket: exit 1, and says it is stale"

# --- start ----------------------------------------------------------------------------------------
policy "greeting = 'set by the policy'
ct.on('miss', function(ev)
	if ev.dport == 5354 then error('boom on ' .. ev.dport) end
end)
assert(ct.attach('$IF_A'))"
ctlua_start "$NS_A" 90 run "$POL"
svc_timeout=$CTLUA_PID
SVC_OUT=$CTLUA_OUT
SVC_ERR=$CTLUA_ERR
wait_line "$SVC_ERR" 'generation 1' 10 || BAIL_OUT "the service did not start: $(cat "$SVC_ERR")"
svc=$(ctlua_self)
is "$(cat "$SVC_ERR")" "ctlua: info: policy '$POL' running (generation 1)" \
	"the service starts over the stale socket, and says nothing of it"
is "$(stat -c '%F %a %U' "$SOCK")" "socket 600 root" "its socket: $SOCK, mode 0600, root's"

# --- status -----------------------------------------------------------------------------------------
S1=$("$CTLUA" status "$NAME")
RC=$?
is "$RC" 0 "status: exit 0"
like "$S1" "^policy: $POL${nl}generation: 1${nl}loaded: [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC${nl}pid: $svc${nl}" \
	"status: the policy, generation 1, when it was loaded, the pid" || diag_text "$S1"
like "$S1" "${nl}attachments:${nl}  $IF_A ingress attached=true${nl}counters: " \
	"  the attachment, attached"
like "$S1" "${nl}counters: packets=[0-9]+ misses=[0-9]+ allocs=[0-9]+ alloc_errors=[0-9]+ drops=[0-9]+ events=[0-9]+ events_lost=[0-9]+ callback_errors=0 callback_timeouts=0${nl}" \
	"  the counters"
like "$S1" "${nl}counters: [^$nl]*${nl}decided: rules=0 default=[0-9]+ verdict=0 answer=0${nl}last errors:" \
	"  what decided the misses: no rules, so all the default"
like "$S1" "${nl}last errors:${nl}  \\(none\\)\$" "  no errors yet"
udp_send "$NS_B" "$ADDR_A" 5353 40001 one
udp_send "$NS_B" "$ADDR_A" 5353 40002 two
wait_line "$out5353" two 3
udp_send "$NS_B" "$ADDR_A" 5354 40003 fails
wait_line "$SVC_ERR" 'boom on 5354' 3
S2=$("$CTLUA" status "$NAME")
cmp_ok "$(counter "$S2" packets)" -ge $(($(counter "$S1" packets) + 3)) "packets counted: the three datagrams"
cmp_ok "$(counter "$S2" misses)" -ge $(($(counter "$S1" misses) + 3)) "  and their misses"
cmp_ok "$(counter "$S2" events)" -ge $(($(counter "$S1" events) + 3)) "  and their events"
is "$(counter "$S2" callback_errors)" 1 "  one callback error"
like "$S2" "${nl}decided: rules=0 default=$(counter "$S2" misses) verdict=0 answer=0${nl}" \
	"  the default decided every miss" || diag_text "$S2"
like "$S2" "${nl}last errors:${nl}  [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC error: the 'miss' callback \\($POL:2\\) failed: $POL:3: boom on 5354\$" \
	"the callback's error is under last errors, with its time and first line" || diag_text "$S2"

# --- a reload ---------------------------------------------------------------------------------------
kill -HUP "$svc"
wait_line "$SVC_ERR" 'generation 2' 5
S3=$("$CTLUA" status "$NAME")
like "$S3" "${nl}generation: 2${nl}" "after SIGHUP: generation 2"
like "$S3" "${nl}  $IF_A ingress attached=true${nl}" "  still attached"
dflt2=$(sed -n 's/^decided: .* default=\([0-9]*\) .*/\1/p' <<<"$S2")
dflt3=$(sed -n 's/^decided: .* default=\([0-9]*\) .*/\1/p' <<<"$S3")
cmp_ok "$dflt3" -ge "$dflt2" "  the default, unchanged by the reload, kept its count ($dflt2, now $dflt3)"

# --- a second service of the same name --------------------------------------------------------------
ctlua_run "$NS_A" 10 run "$POL"
is "$RC" 1 "a second service named $NAME: exit 1"
is "$ERR" "ctlua: error: policy not started: a service named '$NAME' runs already ($SOCK answers); --name gives this one another name" \
	"  refused before it touches anything, naming the socket"
ctlua_run "$NS_A" 10 run --name "$NAME-x/" "$POL"
is "$RC/$ERR" "2/ctlua: --name wants 1 to 64 of A-Z a-z 0-9 _ . @ -, not starting with '.', not '$NAME-x/'" \
	"--name with a slash is a usage error"
"$CTLUA" status "$NAME" >/dev/null
ok $? "the first one still answers"

# --- the shell over a pipe --------------------------------------------------------------------------
SH_OUT=$TEST_TMP/shell.out
SH_ERR=$TEST_TMP/shell.err
printf '%s\n' 'greeting' 'print("sum", 1 + 1)' 'for i = 1, 2 do' 'print(i)' 'end' \
	'error("oops")' 'while true do end' \
	'return ct.rule{proto="udp", dport=5356, action="alloc", timeout=120000, mark=0x67} ~= nil' \
	'#ct.rules()' |
	"$CTLUA" shell "$NAME" >"$SH_OUT" 2>"$SH_ERR"
RC=$?
is "$RC" 1 "shell over a pipe: exit 1, as lines failed"
is "$(cat "$SH_OUT")" "\"set by the policy\"${nl}sum	2${nl}1${nl}2${nl}true${nl}1" \
	"its output: the policy's global, print, a statement over three lines, ct.rule, ct.rules()"
like "$(cat "$SH_ERR")" "^stdin:1: oops${nl}stack traceback:${nl}" "the error line: its message and traceback, to stderr"
like "$(cat "$SH_ERR")" "${nl}stdin:1: callback exceeded its time budget of 1000 ms${nl}" \
	"the endless loop: stopped by the callbacks' budget" || diag_text "$(cat "$SH_ERR")"
_ns_alive "$svc"
ok $? "the service still runs"
is "$(cat "$SVC_OUT")" "" "nothing of the shell went to the service's stdout"
udp_send "$NS_B" "$ADDR_A" 5356 40010 ruled
wait_line "$out5356" ruled 3
e=$(ct_entry "$NS_A" "src=$ADDR_B dst=$ADDR_A sport=40010 dport=5356 ")
like "$e" ' mark=103 ' "the shell's ct.rule is live: the next packet's entry was made by it (mark 0x67)" ||
	diag "$e"
is "$(printf 'greeting = "changed"\n' | "$CTLUA" shell "$NAME"; echo "rc=$?")" "rc=0" \
	"a shell whose lines all work: exit 0, nothing printed for a statement"
is "$(printf 'greeting\n' | "$CTLUA" shell "$NAME")" '"changed"' "a later shell sees what the last one set"

# --- a reload under an open shell: the shell follows the new state, and is told ----------------------
FIFO=$TEST_TMP/shell.in
mkfifo "$FIFO"
"$CTLUA" shell "$NAME" <"$FIFO" >"$SH_OUT" 2>&1 &
sh_pid=$!
exec 7>"$FIFO"
echo 'kept = 1; return kept' >&7
wait_line "$SH_OUT" '^1$' 3
kill -HUP "$svc"
wait_line "$SVC_ERR" 'generation 3' 5
echo 'kept' >&7
exec 7>&-
wait "$sh_pid"
RC=$?
is "$RC/$(cat "$SH_OUT")" "0/1${nl}ctlua: the policy was reloaded: this shell now runs in generation 3${nl}nil" \
	"after a reload the open shell is told, and runs in the new state (its globals are gone)"
like "$("$CTLUA" status "$NAME")" "${nl}generation: 3${nl}" "and the service is at generation 3"

# --- ct.watch in ctlua shell: the service's events stream to that shell until Ctrl-C ----------------
"$CTLUA" shell "$NAME" <"$FIFO" >"$SH_OUT" 2>&1 &
sh_pid=$!
exec 7>"$FIFO"
echo 'ct.watch{dport = 5353}' >&7
wait_line "$SH_OUT" '^\(watching events; Ctrl-C ends the watch\)$' 3
ok $? "ct.watch in the shell says it watches, and holds the prompt" || diag "$(cat "$SH_OUT")"
udp_send "$NS_B" "$ADDR_A" 5353 40031 watched
wait_line "$SH_OUT" "^[0-9:.]* event\\{miss ingress $IF_A udp $ADDR_B:40031 → $ADDR_A:5353, action pass\\}\$" 3
ok $? "  a packet's event reaches the shell as it happens, time-stamped" || diag "$(cat "$SH_OUT")"
is "$(grep -c 40031 "$SVC_OUT")" 0 "  and not the service's stdout"
kill -INT "$sh_pid"
wait_line "$SH_OUT" '^\(watch ended: 1 event shown\)$' 3
ok $? "Ctrl-C in the shell ends the watch, saying how many it showed" || diag "$(cat "$SH_OUT")"
echo 'return "after the watch"' >&7
wait_line "$SH_OUT" '^"after the watch"$' 3
ok $? "  the prompt is back, and the shell runs on" || diag "$(cat "$SH_OUT")"
udp_send "$NS_B" "$ADDR_A" 5353 40032 unwatched
wait_line "$out5353" unwatched 3
sleep 0.3
is "$(grep -c 40032 "$SH_OUT" "$SVC_OUT" | cut -d: -f2 | paste -sd+)" "0+0" \
	"  the watch is off: a later packet is shown nowhere"
echo 'ct.watch()' >&7
wait_line "$SH_OUT" '^\(watching events; Ctrl-C ends the watch\)$' 3
kill -HUP "$svc"
wait_line "$SH_OUT" '^ctlua: the policy was reloaded: the watch ended$' 5
ok $? "a reload ends a shell's watch (the state that watched is gone), and says so" ||
	diag "$(cat "$SH_OUT")"
exec 7>&-
wait "$sh_pid"
is "$?" 0 "  and the shell ends cleanly at Ctrl-D"

# --- a client that does not read: dropped, the service goes on ------------------------------------------
python3 - "$SOCK" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
try:
    s.sendall(b"shell\n" + b"l string.rep('x', 200000)\n" * 40)
except OSError:
    pass
time.sleep(1)
EOF
like "$(cat "$SVC_ERR")" "${nl}ctlua: warning: control: dropping a client that does not read what it asked for \\(1048576 bytes waiting\\)" \
	"a client that does not read its output is dropped"
udp_send "$NS_B" "$ADDR_A" 5353 40020 after-slow
wait_line "$out5353" after-slow 3
ok $? "packets and events carry on"
S4=$("$CTLUA" status "$NAME")
ok $? "and status answers"
like "$S4" "UTC warning: control: dropping a client" "  the warning is under last errors"

# --- the protocol's edges: what a client reads back -----------------------------------------------
# ask TEXT: send TEXT (\n in it a newline), close the sending side, print the answer.
ask()
{
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode())
s.shutdown(socket.SHUT_WR)
out = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode())
' "$SOCK" "$1"
}
is "$(ask 'bogus\n')" "error: unknown request 'bogus' (status or shell)" "an unknown request is refused"
is "$(ask "$(printf 'a%.0s' {1..9000})")" "error: line too long (at most 8191 bytes)" \
	"a request line too long is refused, and the answer is read (not reset)"
is "$(ask 'shell\nc 0 ct.sta\nc 0 greet\nc 99 x\nzz\n' | tail -n +2)" "p > ${nl}c ct.stats${nl}p > ${nl}c greeting${nl}p > ${nl}p > ${nl}e unknown shell request 'zz' (l LINE, c START LINE)${nl}p > " \
	"shell completion requests: c lines, then the prompt; a start past the end: none"
is "$(python3 -c '
import socket, sys, time
conns = []
for i in range(9):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    conns.append(s)
time.sleep(0.5)
sys.stdout.write(conns[8].recv(100).decode())
' "$SOCK")" "error: too many clients" "a ninth client at once is refused"
"$CTLUA" status "$NAME" >/dev/null
ok $? "and once they leave, status answers again"

# --- a non-root peer ----------------------------------------------------------------------------------
OUT=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$CTLUA" status "$NAME" 2>&1)
RC=$?
is "$RC/$OUT" "1/ctlua: cannot connect to $SOCK: Permission denied" \
	"uid 65534 cannot reach the socket (/run/ctlua is 0700, the socket 0600)"
OUT=$(setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps +dac_override \
	--ambient-caps +dac_override "$CTLUA" status "$NAME" 2>&1)
RC=$?
is "$RC/$OUT" "1/ctlua: the service refused: permission denied (uid 65534 is neither root nor the service's)" \
	"uid 65534 with CAP_DAC_OVERRIDE reaches it, and the peer check refuses it"
OUT=$(setpriv --reuid 65534 --regid 65534 --clear-groups --inh-caps +dac_override \
	--ambient-caps +dac_override "$CTLUA" shell "$NAME" 2>&1 </dev/null)
RC=$?
is "$RC/$OUT" "1/ctlua: the service refused: permission denied (uid 65534 is neither root nor the service's)" \
	"  the shell too"

# --- the shell on a terminal ------------------------------------------------------------------------
if command -v tmux >/dev/null 2>&1; then
	source tests/lib/pty.sh
	trap '_pty_cleanup; rm -f "$SOCK"; _ns_cleanup' EXIT
	CTLUA="$CTLUA shell $NAME" pty_start "$NS_A"
	pty_wait "Ctrl-D leaves, the service runs on" || diag_text "$(pty_screen)"
	pty_type 'greeting'
	pty_key Enter
	pty_wait '"set by the policy"'
	ok $? "on a terminal: the greeting, a prompt, and the line's value" || diag_text "$(pty_screen)"
	pty_type 'if true then'
	pty_key Enter
	pty_wait '>>'
	ok $? "  an unfinished statement gets the continuation prompt" || diag_text "$(pty_screen)"
	pty_type 'print("in") end'
	pty_key Enter
	pty_wait "${nl}in${nl}>"
	ok $? "  and runs when it is complete"
	pty_type 'greet'
	pty_key Tab
	pty_wait '> greeting$'
	ok $? "  Tab completes a global of the policy, from the service's state" || diag_text "$(pty_screen)"
	pty_type ' .. #ct.rul'
	pty_key Tab
	pty_wait '> greeting \.\. #ct\.rule'
	ok $? "  and a field of ct" || diag_text "$(pty_screen)"
	pty_key C-u
	pty_type 'ct.mode("enf'
	pty_key Tab
	pty_wait '> ct\.mode\("enforce"?$'
	ok $? "  and an option string" || diag_text "$(pty_screen)"
	pty_key C-u
	pty_key C-d
	pty_wait '\[ctlua exited 0\]'
	ok $? "  Ctrl-D ends the shell (exit 0)" || diag_text "$(pty_screen)"
	"$CTLUA" status "$NAME" >/dev/null
	ok $? "  and not the service"
elif [[ "${CI:-}" == true ]]; then
	BAIL_OUT "tmux is missing (scripts/install-deps.sh installs it)"
else
	skip "tmux is not installed (the terminal)" 8
fi

# --- stop: the socket goes with the service ----------------------------------------------------------
kill -TERM "$svc"
CTLUA_PID=$svc_timeout ctlua_finish
is "$RC" 0 "SIGTERM: exit 0"
[[ ! -e "$SOCK" ]]
ok $? "the socket is removed at exit"
OUT=$("$CTLUA" status "$NAME" 2>&1)
is "$?/$OUT" "1/ctlua: no service named '$NAME' (no $SOCK)" "status afterwards: no service"

# --- one name, several services starting at once: one runs, the others are refused --------------
# (each looks for the name and binds under one lock; without it two could both find the
# name free, and the second's removal of a "stale" socket would unplug the first)
policy "ct.rule{proto = 'udp', dport = 9, action = 'drop'}"
racers=()
for i in 1 2 3 4 5 6; do
	"$CTLUA" run "$POL" >/dev/null 2>"$TEST_TMP/race.$i.err" &
	racers+=($!)
done
sleep 2
alive=0
for p in "${racers[@]}"; do
	kill -0 "$p" 2>/dev/null && alive=$((alive + 1)) && survivor=$p
done
is "$alive" 1 "six services started at once with one name: one runs"
refused=$(grep -l "a service named '$NAME' runs already" "$TEST_TMP"/race.*.err | wc -l)
is "$refused" 5 "  the other five are refused, naming the one that runs"
OUT=$("$CTLUA" status "$NAME" 2>&1)
has_line "$OUT" "pid: $survivor" "  and the socket answers for the one that runs"
kill -TERM "${racers[@]}" 2>/dev/null
wait "${racers[@]}" 2>/dev/null
[[ ! -e "$SOCK" ]]
ok $? "  its socket goes when it stops"

done_testing
