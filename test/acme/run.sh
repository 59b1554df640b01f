#!/usr/bin/env bash
# test/acme/run.sh [binary...]: the Pebble-backed ACME suites. Starts Debian's pebble and
# pebble-challtestsrv through test/lib/pebble.sh (free loopback ports), runs each
# $BUILD/test-acme/test_acme_* program in the Pebble configuration it needs, stops Pebble.
# Fails (never skips) when pebble is missing. Exit 0 only if every program passed.
# test_acme_ari and one test_acme_orders run use Pebble v2.10.x (PEBBLE_NEW=1: built once with
# `go install` from the Go module proxy, cached in ~/.cache/pkiext-pebble).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
source test/lib/pebble.sh
failed=0

run() {   # run <binary> [VAR=value...]: one binary against a fresh Pebble with that env
    local bin=$1; shift
    [ -x "$bin" ] || { echo "acme/run.sh: $bin not built (make BUILD=$BUILD $bin)" >&2; failed=1; return; }
    (
        for kv in "$@"; do export "${kv?}"; done
        pebble_start || exit 1
        echo "--- $(basename "$bin") $*"
        "$bin"
    )
    local rc=$?
    if [ $rc -ne 0 ]; then echo "--- FAILED: $(basename "$bin") $* (rc $rc)"; failed=1; fi
}

if [ $# -gt 0 ]; then
    for b in "$@"; do run "$b"; done
else
    for b in "$BUILD"/test-acme/test_acme_*; do
        case $(basename "$b") in
        test_acme_eab)    run "$b" PEBBLE_EAB=1 ;;
        test_acme_ari)    run "$b" PEBBLE_NEW=1 ;;
        test_acme_orders) run "$b" PEBBLE_ALTERNATE_ROOTS=1
                          run "$b" PEBBLE_WFE_NONCEREJECT=50
                          run "$b" PEBBLE_NEW=1 ;;
        *)                run "$b" ;;
        esac
    done
fi
exit $failed
