#!/bin/bash
# 05-unit.t - the C unit tests (tests/unit/*.c, built by make as build/unit_tests): the
# pure functions of src/addr.h and src/names.h, the shell's printer (src/pretty.h),
# rule compilation (src/rules.h) and a callback's budget (src/sandbox.h).
# They print TAP themselves.
cd "$(dirname "$0")/.." || exit 1

# The sanitizer pass (scripts/test-sanitized.sh) points UNIT_TESTS at its own build.
unit=${UNIT_TESTS:-build/unit_tests}
if [[ ! -x "$unit" ]]; then
	# A missing binary is a broken build, not a reason to skip.
	echo "1..1"
	echo "not ok 1 - '$unit' is missing: run make first"
	exit 1
fi
exec "$unit"
