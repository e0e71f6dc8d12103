# shellcheck shell=bash
# tap.sh - the few TAP helpers ctlua's shell tests need, so `prove` can run them.
#
#   source tests/lib/tap.sh
#   plan 3                                 # or call done_testing at the end
#   ok_run "tc is there" tc -V             # passes when the command exits 0
#   [[ -s "$f" ]]; ok $? "file has data"   # passes when the status is 0
#   is "$got" "want" "name"                # string equality
#   like "$text" 'regex' "name"            # bash =~ (extended regex)
#   unlike "$text" 'regex' "name"
#   diag "shown to the human"              # "# ..." on stderr
#   skip "reason" [N]                      # N tests that cannot run here
#   done_testing                           # prints the plan if none was given
#
# A test's exit status is the number of failed tests (capped at 254), as Test::More's.
# Tests should not use `set -e`: a failed check must not end the file.

_tap_n=0
_tap_failed=0
_tap_planned=

plan()
{
	_tap_planned=$1
	echo "1..$1"
}

# The whole file cannot run here. A test that needs the kernel must not turn into a
# silent skip in CI, where the kernel is part of what is tested, so there it fails.
skip_all()
{
	if [[ "${CI:-}" == true ]]; then
		echo "1..1"
		echo "not ok 1 - cannot run: $*"
		exit 1
	fi
	echo "1..0 # SKIP $*"
	exit 0
}

# ok STATUS NAME: pass when STATUS is 0. Returns STATUS so callers can chain on it.
ok()
{
	local status=$1
	shift
	_tap_n=$((_tap_n + 1))
	if [[ "$status" == 0 ]]; then
		echo "ok $_tap_n - $*"
		return 0
	fi
	_tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $*"
	# Where the failed check is, as Test::More says it: the caller of ok (or of is/like).
	local i=1
	while [[ "${FUNCNAME[$i]:-}" == @(is|isnt|like|unlike|ok_run|cmp_ok) ]]; do
		i=$((i + 1))
	done
	diag "  Failed test '$*'"
	diag "  at ${BASH_SOURCE[$i]:-?} line ${BASH_LINENO[$((i - 1))]:-?}."
	return 1
}

pass() { ok 0 "$@"; }
fail() { ok 1 "$@"; }

# ok_run NAME CMD...: run CMD; pass when it exits 0, else show its output and status.
ok_run()
{
	local name=$1 out status
	shift
	out=$("$@" 2>&1)
	status=$?
	if ok "$status" "$name"; then
		return 0
	fi
	diag "  command: $*"
	diag "  exit status: $status"
	[[ -n "$out" ]] && diag_text "$out"
	return 1
}

is()
{
	local got=$1 want=$2
	shift 2
	if [[ "$got" == "$want" ]]; then
		ok 0 "$@"
		return 0
	fi
	ok 1 "$@"
	diag "         got: '$got'"
	diag "    expected: '$want'"
	return 1
}

isnt()
{
	local got=$1 unwanted=$2
	shift 2
	if [[ "$got" != "$unwanted" ]]; then
		ok 0 "$@"
		return 0
	fi
	ok 1 "$@"
	diag "         got: '$got'"
	diag "    expected: anything else"
	return 1
}

like()
{
	local text=$1 re=$2
	shift 2
	if [[ "$text" =~ $re ]]; then
		ok 0 "$@"
		return 0
	fi
	ok 1 "$@"
	diag "    text does not match /$re/:"
	diag_text "$text"
	return 1
}

unlike()
{
	local text=$1 re=$2
	shift 2
	if ! [[ "$text" =~ $re ]]; then
		ok 0 "$@"
		return 0
	fi
	ok 1 "$@"
	diag "    text matches /$re/ (it should not): '${BASH_REMATCH[0]}'"
	diag_text "$text"
	return 1
}

# has_line TEXT LINE NAME: TEXT has exactly LINE as one of its lines (no regular
# expression: tables and messages are full of '|', '(' and '[').
has_line()
{
	local text=$1 line=$2
	shift 2
	if grep -qxF -- "$line" <<<"$text"; then
		ok 0 "$@"
		return 0
	fi
	ok 1 "$@"
	diag "    no line is exactly: '$line'"
	diag_text "$text"
	return 1
}

# cmp_ok A OP B NAME: integer comparison, OP one of -eq -ne -lt -le -gt -ge.
cmp_ok()
{
	local a=$1 op=$2 b=$3
	shift 3
	if [[ "$a" =~ ^-?[0-9]+$ && "$b" =~ ^-?[0-9]+$ ]] && test "$a" "$op" "$b"; then
		ok 0 "$@"
		return 0
	fi
	ok 1 "$@"
	diag "    '$a' $op '$b' is not true"
	return 1
}

skip()
{
	local reason=$1 n=${2:-1}
	while ((n-- > 0)); do
		_tap_n=$((_tap_n + 1))
		echo "ok $_tap_n # SKIP $reason"
	done
}

diag()
{
	echo "# $*" >&2
}

# Several lines, each as a diag line, indented.
diag_text()
{
	local line
	while IFS= read -r line; do
		diag "      $line"
	done <<<"$1"
}

note()
{
	echo "# $*"
}

BAIL_OUT()
{
	echo "Bail out! $*"
	exit 255
}

# Print the plan if none was given; exit with the number of failures.
done_testing()
{
	if [[ -z "$_tap_planned" ]]; then
		echo "1..$_tap_n"
	elif ((_tap_planned != _tap_n)); then
		diag "planned $_tap_planned tests but ran $_tap_n"
	fi
	if ((_tap_failed > 0)); then
		diag "failed $_tap_failed of $_tap_n tests"
	fi
	exit $((_tap_failed > 254 ? 254 : _tap_failed))
}
