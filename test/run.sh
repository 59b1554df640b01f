#!/usr/bin/env bash
# Runs every test suite against the binaries in $BUILD and prints one closing line
# "N passed, N failed" counting suites. A suite is a unit-test binary or a run.sh script;
# each fails loudly (never skips) when something it needs is missing.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
passed=0 failed=0 failed_names=()
# Every "not ok" line of a run, printed again at the end so that the tail of a long CI log
# says what failed.
NOT_OK_FILE=$(mktemp "${TMPDIR:-/tmp}/test-not-ok.XXXXXX")
SUITE_LOG=$(mktemp "${TMPDIR:-/tmp}/test-suite.XXXXXX")
# Ports handed out to test servers, shared by every suite of this run (test/lib/ports.sh).
TEST_PORTS_FILE=$(mktemp "${TMPDIR:-/tmp}/test-ports.XXXXXX")
export TEST_PORTS_FILE
trap 'rm -f "$TEST_PORTS_FILE" "$NOT_OK_FILE" "$SUITE_LOG"' EXIT

run_suite() {
    local name=$1; shift
    echo "=== suite: $name"
    local t0=$SECONDS
    local rc
    "$@" 2>&1 | tee "$SUITE_LOG"
    rc=${PIPESTATUS[0]}
    grep -a '^not ok' "$SUITE_LOG" | sed "s|^|$name: |" >>"$NOT_OK_FILE"
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1)); echo "=== ok: $name ($((SECONDS - t0)) s)"
    else
        failed=$((failed + 1)); failed_names+=("$name"); echo "=== FAILED: $name ($((SECONDS - t0)) s)"
    fi
}

for t in "$BUILD"/test/test_*; do
    [ -x "$t" ] || continue
    run_suite "unit/$(basename "$t")" "$t"
done
# The three core suites first, then every other test/<suite>/run.sh in name order
# (benchmarks are not tests).
core=(test/acme/run.sh test/host/run.sh test/e2e/run.sh)
others=()
for s in test/*/run.sh; do
    case " ${core[*]} " in *" $s "*) continue ;; esac
    case "$s" in test/bench/*) continue ;; esac
    others+=("$s")
done
# The host and e2e suites run once per host (test/lib/host.sh): dev-vault, the Vault SDK's
# host code, and the real OpenBao server. A suite may run on one host only (the unit and
# ACME suites need none; an OpenBao-only suite starts OpenBao itself).
hosted=(test/host/run.sh test/e2e/run.sh)
for s in "${core[@]}" "${others[@]}"; do
    [ -f "$s" ] || continue
    case " ${hosted[*]} " in
        *" $s "*) for h in dev-vault openbao; do HOST=$h run_suite "$s [$h]" bash "$s"; done ;;
        *) run_suite "$s" bash "$s" ;;
    esac
done

if [ -s "$NOT_OK_FILE" ]; then echo "failed checks:"; cat "$NOT_OK_FILE"; fi
[ ${#failed_names[@]} -eq 0 ] || echo "failed suites: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
