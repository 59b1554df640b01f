#!/usr/bin/env bash
# Runs every test suite against the binaries in $BUILD and prints one closing line
# "N passed, N failed" counting suites. A suite is a unit-test binary or a run.sh script;
# each fails loudly (never skips) when something it needs is missing.
#
# The unit binaries run one after the other; the run.sh suites run TEST_JOBS at a time
# (default 2). They spend most of their time waiting on servers (Pebble validating, a host
# starting), not computing, so two at once roughly halve the wall time on 2 cores. Each
# suite starts its own servers on ports from one shared list (test/lib/ports.sh), so they
# do not meet. A suite's output is printed whole when it ends, so the log reads as if they
# ran in turn. TEST_JOBS=1 runs them in turn.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
TEST_JOBS=${TEST_JOBS:-2}
export BUILD
passed=0 failed=0 failed_names=()
WORK=$(mktemp -d "${TMPDIR:-/tmp}/test-run.XXXXXX")
# Every "not ok" line of a run, printed again at the end so that the tail of a long CI log
# says what failed.
NOT_OK_FILE=$WORK/not-ok
: >"$NOT_OK_FILE"
# Ports handed out to test servers, shared by every suite of this run (test/lib/ports.sh).
TEST_PORTS_FILE=$WORK/ports
: >"$TEST_PORTS_FILE"
export TEST_PORTS_FILE
trap 'rm -rf "$WORK"' EXIT

# record NAME RC SECONDS LOG: prints a finished suite's output and counts it.
record() {
    cat "$4"
    grep -a '^not ok' "$4" | sed "s|^|$1: |" >>"$NOT_OK_FILE"
    if [ "$2" -eq 0 ]; then
        passed=$((passed + 1)); echo "=== ok: $1 ($3 s)"
    else
        failed=$((failed + 1)); failed_names+=("$1"); echo "=== FAILED: $1 ($3 s)"
    fi
}

for t in "$BUILD"/test/test_*; do
    [ -x "$t" ] || continue
    name="unit/$(basename "$t")" t0=$SECONDS
    echo "=== suite: $name"
    "$t" >"$WORK/unit.log" 2>&1; rc=$?
    record "$name" "$rc" $((SECONDS - t0)) "$WORK/unit.log"
done

# The three core suites first, then every other test/<suite>/run.sh in name order
# (benchmarks are not tests). The host and e2e suites run once per host
# (test/lib/host.sh): dev-vault, the Vault SDK's host code, and the real OpenBao server.
# A suite may run on one host only (the unit and ACME suites need none; an OpenBao-only
# suite starts OpenBao itself).
core=(test/acme/run.sh test/host/run.sh test/e2e/run.sh)
hosted=(test/host/run.sh test/e2e/run.sh)
jobs_name=() jobs_cmd=()
add_job() { jobs_name+=("$1"); jobs_cmd+=("$2"); }
for s in "${core[@]}" test/*/run.sh; do
    [ -f "$s" ] || continue
    case "$s" in test/bench/*) continue ;; esac
    case " ${jobs_cmd[*]} " in *" bash $s "*|*"bash $s;"*) continue ;; esac
    case " ${hosted[*]} " in
        *" $s "*) for h in dev-vault openbao; do add_job "$s [$h]" "HOST=$h bash $s"; done ;;
        *) add_job "$s" "bash $s" ;;
    esac
done

# A pool of TEST_JOBS workers; each suite's exit status and time land in $WORK/<n>.rc.
declare -A running=()
finish_one() {   # waits for any running suite and records it
    local n
    while :; do
        for n in "${!running[@]}"; do
            if [ -f "$WORK/$n.rc" ]; then
                wait "${running[$n]}" 2>/dev/null
                read -r rc secs <"$WORK/$n.rc"
                record "${jobs_name[$n]}" "$rc" "$secs" "$WORK/$n.log"
                unset "running[$n]"
                return
            fi
        done
        sleep 0.5
    done
}
for n in "${!jobs_name[@]}"; do
    while [ "${#running[@]}" -ge "$TEST_JOBS" ]; do finish_one; done
    echo "=== suite: ${jobs_name[$n]} (started)"
    ( t0=$SECONDS; eval "${jobs_cmd[$n]}" >"$WORK/$n.log" 2>&1 </dev/null; rc=$?
      echo "$rc $((SECONDS - t0))" >"$WORK/$n.rc.tmp"; mv "$WORK/$n.rc.tmp" "$WORK/$n.rc" ) &
    running[$n]=$!
done
while [ "${#running[@]}" -gt 0 ]; do finish_one; done

if [ -s "$NOT_OK_FILE" ]; then echo "failed checks:"; cat "$NOT_OK_FILE"; fi
[ ${#failed_names[@]} -eq 0 ] || echo "failed suites: ${failed_names[*]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
