#!/usr/bin/env bash
# test/bench/hosts.sh: the same order figures under dev-vault and under a real OpenBao 2.7.2,
# side by side in one run, against one Pebble (PEBBLE_VA_NOSLEEP=1), driven by
# test/bench/orderload (one keep-alive HTTP client):
#   plugin cold start: secrets enable -> first successful plugin read (a LIST of the role's
#     roles answered by the plugin: 200, or 404 with an empty error list), no other mount of the plugin running, median of
#     HOSTS_COLD_N (5) runs;
#   new-order -> awaiting-challenge-fulfillment and fulfilled-challenge -> completed, p50/p99
#     over HOSTS_LAT_N (50) sequential http-01 orders;
#   HOSTS_E2E_N (20) sequential orders end to end (new-order ... fetch-cert);
#   HOSTS_CONC_N (200) concurrent orders, first new-order -> last completed.
# HOSTS_BENCH_SCALE=F multiplies the order counts (min 2). Figures, not pass/fail: exits
# non-zero only when a step cannot run. Processes are stopped by PID.
set -u
cd "$(dirname "$0")/../.."
export PEBBLE_VA_NOSLEEP=1
unset VAULT_ADDR VAULT_TOKEN
source test/e2e/lib.sh

SCALE=${HOSTS_BENCH_SCALE:-1}
scaled() { awk -v n="$1" -v s="$SCALE" 'BEGIN { v = int(n * s + 0.5); if (v < 2) v = 2; print v }'; }
LAT_N=${HOSTS_LAT_N:-$(scaled 50)}
E2E_N=${HOSTS_E2E_N:-$(scaled 20)}
CONC_N=${HOSTS_CONC_N:-$(scaled 200)}
COLD_N=${HOSTS_COLD_N:-5}
HOSTS=(dev-vault openbao)
PLUGIN=vault-plugin-secrets-pki-external-ca

fail() { echo "hosts.sh: $*" >&2; exit 1; }
command -v go >/dev/null || fail "go not found (apt-get install golang)"
[ -x "$HOST_BAO" ] || fail "$HOST_BAO not found (run: bash scripts/deps.sh)"
[ -x "$BUILD/$PLUGIN" ] || fail "$BUILD/$PLUGIN not built (make all)"
DRV="$BUILD/bench/orderload"
mkdir -p "$BUILD/bench"
(cd test/bench/orderload && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -o "$DRV" .) ||
    fail "building test/bench/orderload"
e2e_pebble_start >&2 || fail "Pebble did not start"
trap 'host_stop; e2e_cleanup' EXIT
mkdir -p "$E2E_TMP/plugins"
cp "$BUILD/$PLUGIN" "$E2E_TMP/plugins/"

now_ms() { date +%s%3N; }
result() { awk -v k="$2" '$1 == "RESULT" && $2 == k { print $3 }' "$1"; }
step() { printf '# %s: %s\n' "$(date +%T)" "$*" >&2; }
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

declare -A R
for h in "${HOSTS[@]}"; do
    HOST=$h
    step "$h: start, register"
    host_start "$E2E_TMP/$h" "$E2E_TMP/plugins" >&2 || fail "$h did not start"
    host_register pki-external-ca "$PLUGIN" >&2 || fail "$h: register"
    export VAULT_ADDR=$HOST_ADDR VAULT_TOKEN=$HOST_TOKEN

    # Cold start: the mount is the plugin's only one, so enable launches a new process.
    step "$h: cold start x$COLD_N"
    cold=()
    for i in $(seq 1 "$COLD_N"); do
        t0=$(now_ms)
        host_mount cold pki-external-ca >&2 || fail "$h: enable cold"
        for _ in $(seq 1 2000); do
            code=$(curl -s -o "$E2E_TMP/cold.body" -w '%{http_code}' -H "X-Vault-Token: $HOST_TOKEN" \
                "$HOST_ADDR/v1/cold/role?list=true")
            # 404 with an empty error list is the plugin's own answer (no orders).
            { [ "$code" = 200 ] || { [ "$code" = 404 ] && jq -e '.errors == []' "$E2E_TMP/cold.body" >/dev/null 2>&1; }; } && break
            sleep 0.005
        done
        cold+=($(( $(now_ms) - t0 )))
        host_curl DELETE sys/mounts/cold >/dev/null
        for _ in $(seq 1 100); do [ -z "$(host_plugin_pids "$PLUGIN")" ] && break; sleep 0.05; done
    done
    R[$h,cold]=$(median "${cold[@]}")
    R[$h,cold_all]=$(IFS=/; echo "${cold[*]}")

    host_mount bench pki-external-ca >&2 || fail "$h: enable bench"
    vault PUT "bench/config/acme-account/pebble" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" \
        '{directory_url:$d, trusted_ca:$ca, email_contacts:["ops@example.com"], key_type:"ec-256"}')"
    [ "$STATUS" = 200 ] || fail "$h: create account: HTTP $STATUS $BODY"
    vault PUT "bench/role/bench" '{"acme_account_name":"pebble","allowed_domains":["example.com"],
        "allowed_domain_options":["subdomains"],"allowed_challenge_types":["http-01"]}'
    [ "$STATUS" = 200 ] || fail "$h: create role: HTTP $STATUS $BODY"
    drv() { "$DRV" -addr "$HOST_ADDR" -token "$HOST_TOKEN" -mount bench -role bench \
              -cts "$CHALLTESTSRV_URL" "$@"; }
    step "$h: $LAT_N sequential orders"
    drv -tag "lat-$h-$$" latency -n "$LAT_N" -poll 20ms > "$E2E_TMP/$h.lat" || fail "$h: latency run"
    step "$h: $E2E_N orders end to end"
    drv -tag "e2e-$h-$$" e2e -n "$E2E_N" -poll 20ms > "$E2E_TMP/$h.e2e" || fail "$h: e2e run"
    step "$h: $CONC_N concurrent orders"
    drv -tag "conc-$h-$$" concurrent -n "$CONC_N" -poll 50ms > "$E2E_TMP/$h.conc" || fail "$h: concurrent run"
    host_stop
done

row() {   # LABEL KEY-FORMAT...: one line, a column per host
    local label=$1; shift
    printf '%-52s' "$label"
    local h
    for h in "${HOSTS[@]}"; do printf ' %22s' "$("$@" "$h")"; done
    echo
}
lat() { echo "$(result "$E2E_TMP/$1.lat" "${KEY}_p50_ms") / $(result "$E2E_TMP/$1.lat" "${KEY}_p99_ms") ms"; }
cold() { echo "${R[$1,cold]} ms"; }
e2e() { echo "$(result "$E2E_TMP/$1.e2e" total_s) s"; }
conc() { echo "$(result "$E2E_TMP/$1.conc" wall_s) s"; }

echo
echo "hosts bench: $(basename "$BUILD")/$PLUGIN under dev-vault and OpenBao $("$HOST_BAO" version | cut -d' ' -f2), Pebble (PEBBLE_VA_NOSLEEP=1), $(nproc) cores"
printf '%-52s %22s %22s\n' "" dev-vault openbao
row "plugin cold start: secrets enable -> first read" cold
printf '%-52s %22s %22s\n' "   (each run, ms)" "${R[dev-vault,cold_all]}" "${R[openbao,cold_all]}"
KEY=awaiting row "new-order -> awaiting, p50 / p99 ($LAT_N seq.)" lat
KEY=completed row "fulfilled -> completed, p50 / p99 ($LAT_N seq.)" lat
row "$E2E_N orders end to end (sequential)" e2e
row "$CONC_N concurrent, first new-order -> last completed" conc
