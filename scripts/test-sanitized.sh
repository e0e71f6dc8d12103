#!/bin/bash
# test-sanitized.sh - the whole test suite against the sanitizer build (build/asan:
# AddressSanitizer with LeakSanitizer, and UndefinedBehaviorSanitizer). `make test` runs
# it before the ordinary pass; `make asan` builds what it needs.
#
#   scripts/test-sanitized.sh [TEST...]     all of tests/ by default
#
# The tests find the programs under test through $CTLUA, $CT_SO and $UNIT_TESTS, and
# stock lua5.4 through $PATH: build/asan/bin/lua5.4 preloads the ASan runtime, which
# must come first in a process that loads the sanitized ct.so.
#
# Every report goes to a file in build/asan/reports (log_path), so one that no test
# looked at (a background process's, a leak found at exit) still fails the run: the
# pass fails when prove does or when any report was written.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

asan=$PWD/build/asan
reports=$asan/reports
for f in ctlua ct.so unit_tests bin/lua5.4; do
	[[ -e "$asan/$f" ]] || { echo "test-sanitized: '$asan/$f' is missing: run make asan" >&2; exit 1; }
done
rm -rf "$reports"
# Tests run some processes as nobody (13-kernel.t): anyone may write a report here.
mkdir -p -m 1777 "$reports" || exit 1
chmod 1777 "$reports"

export CTLUA=$asan/ctlua CT_SO=$asan/ct.so UNIT_TESTS=$asan/unit_tests
export PATH=$asan/bin:$PATH
# halt_on_error with -fno-sanitize-recover: the first report ends the process.
# A sanitizer's own exit status (99) is one no test expects from ctlua.
common="log_path=$reports/report:exitcode=99:halt_on_error=1:print_summary=1"
export ASAN_OPTIONS="$common:detect_leaks=1:abort_on_error=0:strict_string_checks=1"
export UBSAN_OPTIONS="$common:print_stacktrace=1"
export LSAN_OPTIONS="suppressions=$PWD/scripts/lsan.supp:print_suppressions=0"

echo "sanitizer pass: the suite against build/asan (ASan, LSan, UBSan)"
start=$SECONDS
prove -f "${@:-tests/}"
status=$?

shopt -s nullglob
found=("$reports"/report.*)
if ((${#found[@]} > 0)); then
	for f in "${found[@]}"; do
		echo "==== sanitizer report $f ===="
		cat "$f"
	done
	echo "sanitizer pass: FAILED, ${#found[@]} sanitizer report(s) above" >&2
	exit 1
fi
if ((status != 0)); then
	echo "sanitizer pass: FAILED (prove exit status $status)" >&2
	exit 1
fi
echo "sanitizer pass: no reports, $((SECONDS - start)) s"
