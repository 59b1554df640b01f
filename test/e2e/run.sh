#!/usr/bin/env bash
# test/e2e/run.sh: runs every test/e2e/test_*.sh (each against its own dev-vault, plugin
# mount and Pebble, see lib.sh) and ends with "N passed, N failed" counting assertions
# ("ok - " / "not ok - " lines). A script that exits non-zero without a "not ok" line (it
# died early) counts as one more failure. Exit status is non-zero on any failure.
set -u
cd "$(dirname "$0")"
export BUILD=${BUILD:-build}
passed=0 failed=0
for t in test_*.sh; do
    [ -f "$t" ] || continue
    echo "# --- $t"
    out=$(mktemp)
    bash "$t" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    p=$(grep -c '^ok - ' "$out")
    f=$(grep -c '^not ok - ' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - $t exited with status $rc"
        f=1
    fi
    passed=$((passed + p)) failed=$((failed + f))
    rm -f "$out"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
