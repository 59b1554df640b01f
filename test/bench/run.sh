#!/usr/bin/env bash
# make bench: every benchmark in turn, each printing its own table. Figures, not pass/fail:
# a benchmark that cannot run (missing tool, server did not start) exits non-zero here.
set -u
cd "$(dirname "$0")"
BUILD=${BUILD:-build}
export BUILD
rc=0
for b in runtime_kv.sh "acme_vs_uacme.sh 20" orders.sh engine_load.sh; do
    set -- $b
    [ -f "$1" ] || continue
    echo "=== bench: $b"
    bash "$@" || { echo "=== bench FAILED: $b"; rc=1; }
done
exit $rc
