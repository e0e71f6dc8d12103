# shellcheck shell=bash
# pty.sh - drive ctlua's REPL through a real pseudo-terminal, with tmux.
#
#   source tests/lib/tap.sh
#   source tests/lib/netns.sh            # first: pty.sh extends its cleanup
#   source tests/lib/pty.sh
#   pty_start "$NS_A" [ENV=VALUE...]     # ctlua in a fresh terminal of 120x30
#   pty_type 'print(1)'; pty_key Enter   # literal text, then named keys (Tab, C-c, Up)
#   pty_wait 'regex' || fail ...         # wait (5 s) until the screen matches
#   pty_screen                           # what the terminal shows now
#
# The tmux server has its own socket in $TEST_TMP, so it never meets the user's tmux,
# and it is killed on exit before the namespaces are removed.

export TMUX_TMPDIR=$TEST_TMP
_PTY_SOCK=ctlua-test
_PTY_N=0

_pty_cleanup()
{
	local status=$?
	tmux -L "$_PTY_SOCK" kill-server 2>/dev/null
	return "$status"
}
trap '_pty_cleanup; _ns_cleanup' EXIT

# pty ARGS...: tmux on the tests' own server. The server that new-session starts
# outlives the script if it is killed: it must not keep the descriptors the script
# inherited (flock's lock file, which would block every test waiting on it).
pty()
{
	if [[ "$1" != new-session ]]; then
		tmux -L "$_PTY_SOCK" "$@"
		return
	fi
	(
		for fd in /proc/self/fd/*; do
			fd=${fd##*/}
			((fd > 2)) && eval "exec $fd>&-"
		done 2>/dev/null
		tmux -L "$_PTY_SOCK" "$@"
	)
}

# pty_start NS [ENV=VALUE...]: a new terminal running ctlua inside NS; PTY names it.
pty_start()
{
	local ns=$1
	shift
	_PTY_N=$((_PTY_N + 1))
	PTY=s$_PTY_N
	pty new-session -d -s "$PTY" -x 120 -y 30 \
		"env $* ip netns exec $ns $CTLUA; echo '[ctlua exited '\$?']'; sleep 30"
}

pty_type() { pty send-keys -t "$PTY" -l "$1"; }
pty_key() { pty send-keys -t "$PTY" "$@"; }
pty_screen() { pty capture-pane -p -t "$PTY"; }

# pty_wait REGEX [SECONDS]: until the screen matches (bash =~); shows it on failure.
pty_wait()
{
	local i screen
	for ((i = 0; i < ${2:-5} * 10; i++)); do
		screen=$(pty_screen)
		[[ "$screen" =~ $1 ]] && return 0
		sleep 0.1
	done
	diag "the terminal never showed /$1/; it shows:"
	diag_text "$screen"
	return 1
}

# pty_last_line: the last non-empty line of the screen (where the prompt is).
pty_last_line()
{
	pty_screen | sed '/^$/d' | tail -n 1
}
