#!/usr/bin/env bash
# test/fuzz/run.sh [target...]: runs every libFuzzer target of test/fuzz for FUZZ_SECONDS
# each (default 8: the short run `make test` does; `make fuzz` passes its own). Builds them
# first (clang, ASan + UBSan, into build-fuzz). Each target starts from its seeds
# (test/fuzz/seeds/<target>, made from the test fixtures) plus the corpus it has grown so
# far (build-fuzz/corpus/<target>). Fails on any crash, leak, UBSan report or timeout,
# leaving the reproducer in build-fuzz/artifacts. Runs at nice 19, one process at a time.
# Prints the CPU seconds each target used and the total; appends them to
# build-fuzz/fuzz-cpu.log. FUZZ_BIN_DIR runs copies of the targets from elsewhere (a long
# background session keeps going while the tree is rebuilt), without building.
set -u
cd "$(dirname "$0")/../.."
FUZZ_SECONDS=${FUZZ_SECONDS:-8}
FB=build-fuzz
command -v clang >/dev/null || { echo "fuzz/run.sh: clang missing (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
BIN_DIR=${FUZZ_BIN_DIR:-$FB/fuzz}
[ -n "${FUZZ_BIN_DIR:-}" ] || make -s FUZZ=1 CC=clang BUILD=$FB fuzz-bins >/tmp/fuzz-build.$$ 2>&1 || {
    cat /tmp/fuzz-build.$$ >&2; rm -f /tmp/fuzz-build.$$
    echo "fuzz/run.sh: cannot build the targets (needs clang and libclang-rt-14-dev)" >&2; exit 1; }
rm -f /tmp/fuzz-build.$$
mkdir -p "$FB/artifacts" "$FB/corpus"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || for f in test/fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
failed=0 total_ms=0
for t in "${targets[@]}"; do
    bin=$BIN_DIR/$t
    [ -x "$bin" ] || { echo "fuzz/run.sh: $bin not built" >&2; failed=1; continue; }
    mkdir -p "$FB/corpus/$t"
    log=$FB/artifacts/$t.log
    t0=$(awk '{print $14+$15+$16+$17}' /proc/$$/stat)
    # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a blow-up is a bug too.
    # lsan.supp: leaks inside third-party libraries (libldns), each explained there.
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    LSAN_OPTIONS=suppressions=$PWD/test/fuzz/lsan.supp:print_suppressions=0 \
    nice -n 19 "$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$FB/artifacts/$t-" \
        "$FB/corpus/$t" "test/fuzz/seeds/$t" >"$log" 2>&1
    rc=$?
    # children's CPU (user+sys) in clock ticks, from our own /proc entry once reaped
    t1=$(awk '{print $14+$15+$16+$17}' /proc/$$/stat)
    ms=$(( (t1 - t0) * 1000 / $(getconf CLK_TCK) ))
    total_ms=$((total_ms + ms))
    runs=$(grep -ao 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    cov=$(grep -ao 'cov: [0-9]*' "$log" | tail -1)
    if [ $rc -ne 0 ] || grep -aqE '^(==[0-9]+==ERROR|SUMMARY: )|runtime error:' "$log"; then
        echo "FAIL $t (rc $rc): see $log"
        grep -aE 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -5
        failed=1
    else
        echo "ok   $t: ${runs:-?} runs, $cov, $((ms / 1000)).$(( (ms % 1000) / 100 )) CPU s"
    fi
    echo "$(date -u +%FT%TZ) $t rc=$rc cpu_ms=$ms runs=${runs:-0}" >> "$FB/fuzz-cpu.log"
done
echo "fuzz: $((total_ms / 1000)) CPU s this run; all runs so far: $(awk '{split($4,a,"=");s+=a[2]} END {printf "%.0f", s/1000}' "$FB/fuzz-cpu.log") CPU s"
exit $failed
