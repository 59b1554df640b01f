#!/usr/bin/env bash
# test/features/run.sh: the feature suites of issue 14 (test/features/*.sh), run once per
# `make test` under dev-vault only (they prove engine behaviour, not host behaviour; the
# host suites already run twice). Each script starts its own dev-vault and Pebble through
# test/e2e/lib.sh and prints "ok - " / "not ok - " lines; this prints "N passed, N failed"
# over all of them and fails on any failure, or on a script that died without saying why.
set -u
cd "$(dirname "$0")"
export BUILD=${BUILD:-build}
export HOST=dev-vault
passed=0 failed=0
for t in *.sh; do
    [ "$t" = run.sh ] && continue
    echo "# --- $t"
    out=$(mktemp)
    t0=$SECONDS
    bash "$t" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    p=$(grep -c '^ok - ' "$out")
    f=$(grep -c '^not ok - ' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - $t exited with status $rc"
        f=1
    fi
    echo "# $t: $((SECONDS - t0)) s"
    passed=$((passed + p)) failed=$((failed + f))
    rm -f "$out"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
