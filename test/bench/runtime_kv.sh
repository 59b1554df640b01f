#!/usr/bin/env bash
# Runtime benchmark (part of make bench): the C KV test plugin and the same plugin on the Go SDK, same host
# (build/dev-vault), same run. Per plugin: cold start to handshake line, idle RSS of a mounted
# plugin, write/read latency p50/p99 and throughput at 1 and 16 clients. Ratio = C / Go.
#   BENCH_N   requests per client (default 2000 at 1 client; 16 clients do BENCH_N/4 each)
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${BUILD:-build}
DEVVAULT=$ROOT/build/dev-vault
C_PLUGIN=${C_PLUGIN:-$BUILD/vault-plugin-kv-test}
GO_PLUGIN=$BUILD/vault-plugin-kv-test-go
N=${BENCH_N:-2000}
. "$ROOT/test/host/lib.sh"

missing=()
command -v go >/dev/null || missing+=("go (Go >= 1.25 toolchain on PATH)")
command -v jq >/dev/null || missing+=("jq (apt-get install -y jq)")
command -v curl >/dev/null || missing+=("curl (apt-get install -y curl)")
[ -x "$DEVVAULT" ] || missing+=("$DEVVAULT (make build/dev-vault)")
[ -x "$C_PLUGIN" ] || missing+=("$C_PLUGIN (make $C_PLUGIN)")
if [ ${#missing[@]} -gt 0 ]; then
    for m in "${missing[@]}"; do echo "bench: missing $m" >&2; done
    exit 1
fi

TMP=$(mktemp -d /tmp/bench.XXXXXX)
trap cleanup EXIT
mkdir -p "$TMP/plugins"
(cd test/host && go build -o "$TMP/load" ./cmd/load && go build -o "$TMP/coldstart" ./cmd/coldstart) || exit 1
(cd test/bench/goplugin && go build -o "$ROOT/$GO_PLUGIN" .) || exit 1

declare -A R
# bench_one KEY BINARY: fills R[KEY.metric].
bench_one() {
    local key=$1 bin=$2 out
    out=$("$TMP/coldstart" -runs 20 "$bin") || return 1
    R[$key.start]=$(jq -r .p50_ms <<<"$out")
    cp "$bin" "$TMP/plugins/$key"
    start_host -rollback-interval 1h || return 1
    req PUT "sys/plugins/catalog/secret/$key" "{\"sha256\":\"$(sha256sum "$bin" | cut -d' ' -f1)\",\"command\":\"$key\"}"
    [ "$STATUS" = 204 ] || { echo "bench: register $key: $STATUS $(cat "$TMP/body")" >&2; return 1; }
    req POST sys/mounts/kv "{\"type\":\"$key\"}"
    [ "$STATUS" = 204 ] || { echo "bench: mount $key: $STATUS $(cat "$TMP/body")" >&2; return 1; }
    sleep 1
    local pid; pid=$(plugin_pids | head -1)
    R[$key.rss]=$(awk '{ printf "%.1f", $1 / 1024 }' <<<"$(rss_kb "$pid")")
    R[$key.anon]=$(awk '{ printf "%.1f", $1 / 1024 }' <<<"$(rss_anon_kb "$pid")")
    R[$key.threads]=$(threads "$pid")
    local c n op
    for c in 1 16; do
        n=$N; [ "$c" = 16 ] && n=$((N / 4))
        for op in write read; do   # write first: the reads then find every key
            out=$("$TMP/load" -addr "http://$ADDR" -mount kv -clients "$c" -n "$n" -op "$op") ||
                { echo "bench: $key $op x$c: $out" >&2; return 1; }
            R[$key.$op$c.p50]=$(jq -r .p50_ms <<<"$out")
            R[$key.$op$c.p99]=$(jq -r .p99_ms <<<"$out")
            R[$key.$op$c.rps]=$(jq -r '.rps | floor' <<<"$out")
        done
    done
    R[$key.rss_after]=$(awk '{ printf "%.1f", $1 / 1024 }' <<<"$(rss_kb "$(plugin_pids | head -1)")")
    stop_host
}

bench_one c "$C_PLUGIN" || exit 1
bench_one go "$GO_PLUGIN" || exit 1

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
row() { printf '%-34s %12s %12s %8s\n' "$1" "${R[c.$2]}" "${R[go.$2]}" "$(ratio "${R[c.$2]}" "${R[go.$2]}")"; }
echo
echo "dev-vault benchmark: C KV plugin vs Go SDK KV plugin ($(nproc) CPUs, N=$N)"
printf '%-34s %12s %12s %8s\n' metric C Go C/Go
row "cold start to handshake (ms, p50)" start
row "idle RSS, mounted (MB)" rss
row "  of which anonymous (MB)" anon
row "  threads" threads
row "RSS after the load (MB)" rss_after
for c in 1 16; do
    for op in write read; do
        row "$op x$c p50 (ms)" "$op$c.p50"
        row "$op x$c p99 (ms)" "$op$c.p99"
        row "$op x$c throughput (req/s)" "$op$c.rps"
    done
done
echo
echo "goals: start < 20 ms (C: ${R[c.start]}), idle RSS < 10 MB (C: ${R[c.rss]}), p50 <= Go's (read x1: ${R[c.read1.p50]} vs ${R[go.read1.p50]})"
