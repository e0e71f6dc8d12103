#!/bin/bash
# 60-link-watch.t - src/link_watch.c against the kernel: `unit_tests link-watch`
# (tests/unit/link_watch.c), in a namespace of its own, creates, changes, deletes and
# re-creates a veth pair under the watch and checks each notification's name and index.
cd "$(dirname "$0")/.." || exit 1
source tests/lib/tap.sh
source tests/lib/netns.sh

UNIT=${UNIT_TESTS:-$PWD/build/unit_tests}
require_root_kernel
[[ -x "$UNIT" ]] || BAIL_OUT "'$UNIT' is missing: run make first"
make_ns || BAIL_OUT "cannot create a namespace"
ns_exec "$NS" "$UNIT" link-watch
