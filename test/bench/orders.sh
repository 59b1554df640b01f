#!/usr/bin/env bash
# test/bench/orders.sh: order figures of issue 6 against dev-vault + Pebble (PEBBLE_VA_NOSLEEP=1),
# driven by test/bench/orderload (Go, stdlib only, built here; one keep-alive HTTP client, so
# the figures are the engine's and not curl's):
#   1. order latency over 50 sequential http-01 orders: new-order -> awaiting-challenge-
#      fulfillment and fulfilled-challenge -> completed, p50/p99 (status polled every 20 ms);
#   2. 200 concurrent orders: wall time from the first new-order to the last completed;
#   3. lookup/order/:id p50 with 1,000 stored orders, then with 100,000: 1,000 real orders are
#      placed through the CA, then (dev-vault stopped) one stored completed order is copied
#      under new UUIDv7 ids straight into dev-vault's -data dir (the SDK physical/file layout:
#      key a/b/c is the file a/b/_c holding {"Value":"<base64>"}), with its order-hour index
#      entry (a copy of -data taken first keeps the small store); two dev-vaults then serve
#      the two stores at once and the reads alternate between the populations;
#   4. 20 sequential http-01 orders end to end through dev-vault (new-order, challenge,
#      challtestsrv, fulfilled-challenge, completed, fetch-cert) next to Debian's uacme issuing
#      20 certificates against the same Pebble (as test/bench/acme_vs_uacme.sh: unshare -m so
#      uacme trusts Pebble's CA; needs root).
# Prints a table. Figures, not pass/fail: exits non-zero only when a step cannot run.
#
# Environment: BUILD (default build) holds the plugin; build/dev-vault is the host.
#   ORDERS_BENCH_SCALE=F   multiplies every count below (e.g. 0.1 for a quick check; min 2)
#   ORDERS_LAT_N (50) ORDERS_CONC_N (200) ORDERS_LOOKUP_SMALL (1000) ORDERS_LOOKUP_LARGE (100000)
#   ORDERS_E2E_N (20) ORDERS_LOOKUP_REQS (2000 reads per id set)  ORDERS_FILL_C (50, in flight
#   while placing the rest of the 1,000 real orders)  ORDERS_CONC_POLL (50ms per order)
#   E2E_KEEP=1 keeps the temp dir (dev-vault log, Pebble logs, driver outputs)
set -u
cd "$(dirname "$0")/../.."
export PEBBLE_VA_NOSLEEP=1
unset VAULT_ADDR VAULT_TOKEN   # always our own dev-vault: the lookup part rewrites its storage
export HOST=dev-vault          # (its file layout); test/bench/hosts.sh compares the hosts
# shellcheck source=test/e2e/lib.sh
source test/e2e/lib.sh

SCALE=${ORDERS_BENCH_SCALE:-1}
scaled() { awk -v n="$1" -v s="$SCALE" 'BEGIN { v = int(n * s + 0.5); if (v < 2) v = 2; print v }'; }
LAT_N=${ORDERS_LAT_N:-$(scaled 50)}
CONC_N=${ORDERS_CONC_N:-$(scaled 200)}
SMALL=${ORDERS_LOOKUP_SMALL:-$(scaled 1000)}
LARGE=${ORDERS_LOOKUP_LARGE:-$(scaled 100000)}
E2E_N=${ORDERS_E2E_N:-$(scaled 20)}
REQS=${ORDERS_LOOKUP_REQS:-2000}
FILL_C=${ORDERS_FILL_C:-50}
CONC_POLL=${ORDERS_CONC_POLL:-50ms}

fail() { echo "orders.sh: $*" >&2; exit 1; }
command -v go >/dev/null || fail "go not found (apt-get install golang)"
command -v uacme >/dev/null || fail "uacme not installed (apt-get install uacme)"
command -v unshare >/dev/null || fail "unshare not found (util-linux)"

# ---- the driver
DRV="$BUILD/bench/orderload"
mkdir -p "$BUILD/bench"
(cd test/bench/orderload && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -o "$DRV" .) ||
    fail "building test/bench/orderload"

e2e_start >&2 || fail "dev-vault did not start: $(tail -5 "$HOST_LOG" 2>/dev/null)"
e2e_pebble_start >&2 || fail "Pebble did not start"
# A signal stops the step under way (by its PID) and exits; the EXIT trap of lib.sh then
# stops dev-vault and Pebble by PID. Steps run through run_bg so the shell can take the signal.
CHILD=
on_signal() { [ -n "$CHILD" ] && kill "$CHILD" 2>/dev/null; exit "$1"; }
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
run_bg() { "$@" & CHILD=$!; wait "$CHILD"; local rc=$?; CHILD=; return $rc; }

M=$MOUNT
DEVVAULT_BIN="$E2E_ROOT/build/dev-vault"
DATA=$HOST_DIR/data   # e2e_start's dev-vault keeps its -data there (test/lib/host.sh)
RUN=r$$

vault PUT "$M/config/acme-account/pebble" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" \
    '{directory_url:$d, trusted_ca:$ca, email_contacts:["ops@example.com"], key_type:"ec-256"}')"
[ "$STATUS" = 200 ] || fail "create account: HTTP $STATUS $BODY"
vault PUT "$M/role/bench" '{"acme_account_name":"pebble","allowed_domains":["example.com"],
    "allowed_domain_options":["subdomains"],"allowed_challenge_types":["http-01"]}'
[ "$STATUS" = 200 ] || fail "create role: HTTP $STATUS $BODY"

REAL="$E2E_TMP/real.txt"
: > "$REAL"
drv() { run_bg "$DRV" -addr "$VAULT_ADDR" -token "$VAULT_TOKEN" -mount "$M" -role bench \
          -cts "$CHALLTESTSRV_URL" -ids-out "$REAL" "$@"; }
# result FILE NAME: the value of "RESULT NAME value" in FILE.
result() { awk -v k="$2" '$1 == "RESULT" && $2 == k { print $3 }' "$1"; }
step() { printf '# %s: %s\n' "$(date +%T)" "$*" >&2; }

# ---- 1. latency
step "1. $LAT_N sequential orders (latency)"
drv -tag "lat-$RUN" latency -n "$LAT_N" -poll 20ms > "$E2E_TMP/lat.out" || fail "latency run failed"

# ---- 2. concurrency
step "2. $CONC_N concurrent orders"
drv -tag "conc-$RUN" concurrent -n "$CONC_N" -poll "$CONC_POLL" > "$E2E_TMP/conc.out" ||
    fail "concurrent run failed"

# ---- 4. this plugin vs uacme, same Pebble, one after the other
step "4. $E2E_N orders end to end through dev-vault"
drv -tag "e2e-$RUN" e2e -n "$E2E_N" -poll 20ms > "$E2E_TMP/e2e.out" || fail "e2e run failed"

step "4. uacme issuing $E2E_N certificates"
U=$E2E_TMP/uacme
source test/bench/uacme_lib.sh
uacme_prepare "$U" "$E2E_N" "ubench-$RUN"
t0=$(date +%s.%N)
run_bg unshare -m "$U/run.sh" || { tail -n 20 "$U/uacme.err" >&2; fail "uacme failed"; }
t1=$(date +%s.%N)
UACME_S=$(echo "$t1 - $t0" | bc)
issued=$(ls "$U/conf"/ubench-*/cert.pem 2>/dev/null | wc -l)
[ "$issued" -eq "$E2E_N" ] || fail "uacme issued $issued of $E2E_N"
UACME_V=$(uacme -V 2>&1 | head -1 | awk '{print $3}')

# ---- 3. lookup/order with SMALL then LARGE stored orders
have=$(sort -u "$REAL" | wc -l)
if [ "$have" -lt "$SMALL" ]; then
    step "3. placing $((SMALL - have)) more real orders ($FILL_C in flight) to reach $SMALL"
    drv -tag "fill-$RUN" -limit 150s concurrent -n "$((SMALL - have))" -c "$FILL_C" -poll 100ms \
        > "$E2E_TMP/fill.out" || fail "placing the real orders failed"
fi
sort -u "$REAL" | head -n "$SMALL" > "$E2E_TMP/small_real.txt"

vault_stop() {
    local pid
    host_stop
    for pid in "${E2E_PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    E2E_PIDS=()
}
# vault_launch DATA TAG: one more dev-vault on DATA (catalog and mount persist there); sets
# LAUNCHED (its address) once lookup/order answers on it.
vault_launch() {
    local data=$1 tag=$2 i a="" out="$E2E_TMP/dev-vault-$2.out"
    "$DEVVAULT_BIN" -addr 127.0.0.1:0 -token "$VAULT_TOKEN" -plugin-dir "$E2E_TMP/plugins" \
        -data "$data" >"$out" 2>>"$HOST_LOG" &
    E2E_PIDS+=($!)
    for i in $(seq 1 150); do
        a=$(grep -soE '(https?://)?127\.0\.0\.1:[0-9]+' "$out" | head -1)
        [ -n "$a" ] && break
        kill -0 "${E2E_PIDS[-1]}" 2>/dev/null || break
        sleep 0.2
    done
    [ -n "$a" ] || fail "dev-vault ($tag) did not start: $(tail -5 "$HOST_LOG")"
    case "$a" in http*) ;; *) a="http://$a" ;; esac
    LAUNCHED=$a
    local code
    code=$(curl -sS -o /dev/null -w '%{http_code}' -H "X-Vault-Token: $VAULT_TOKEN" \
        "$a/v1/$M/lookup/order/$(head -1 "$E2E_TMP/small_real.txt")")
    [ "$code" = 200 ] || fail "dev-vault ($tag): lookup/order answered HTTP $code"
}
count_stored() {   # ADDR: LIST lookup/orders, how many orders the engine sees there
    curl -sS -H "X-Vault-Token: $VAULT_TOKEN" "$1/v1/$M/lookup/orders?list=true" |
        jq '.data.keys | length'
}

# Every order must be terminal before the storage is copied and touched: no order work may
# be under way when dev-vault stops.
vault LIST "$M/role/bench/active-orders"
[ "$STATUS" = 404 ] || [ "$(printf '%s' "$BODY" | jq '.data.keys | length')" = 0 ] ||
    echo "orders.sh: note: active orders left before the copy: $BODY" >&2

# Two stores side by side: data-small (a copy taken now, SMALL real orders) and data (the same
# plus the seeded copies). Two dev-vaults serve them at once and the driver interleaves its
# reads request by request, so drift in machine load hits both populations alike.
vault_stop
cp -a "$DATA" "$E2E_TMP/data-small"
MDIR=$(dirname "$(ls -d "$DATA"/logical/*/order | head -1)")
[ -d "$MDIR/order" ] || fail "no order/ directory under $DATA/logical"
N_REAL=$(ls "$MDIR/order" | wc -l)
SRC=$(head -1 "$REAL")   # the first latency order: completed, identifier workflow, http-01
step "3. seeding $((LARGE - N_REAL)) copies of order $SRC into the stopped dev-vault's storage"
t0=$(date +%s.%N)
run_bg "$DRV" seed -mountdir "$MDIR" -src "$SRC" -count "$((LARGE - N_REAL))" \
    -out "$E2E_TMP/large_copies.txt" > "$E2E_TMP/seed.out" || fail "seeding failed"
SEED_S=$(echo "$(date +%s.%N) - $t0" | bc)
cp "$E2E_TMP/small_real.txt" "$E2E_TMP/large_real.txt"

vault_launch "$E2E_TMP/data-small" small
A_SMALL=$LAUNCHED
vault_launch "$DATA" large
A_LARGE=$LAUNCHED
export VAULT_ADDR=$A_LARGE
N_SMALL=$(count_stored "$A_SMALL")
N_LARGE=$(count_stored "$A_LARGE")
step "3. lookup/order: $N_SMALL vs $N_LARGE stored orders, $REQS reads per id set, interleaved"
run_bg "$DRV" -token "$VAULT_TOKEN" -mount "$M" -addr "$A_LARGE" lookup -reqs "$REQS" \
    -ids "$E2E_TMP/small_real.txt@$A_SMALL,$E2E_TMP/large_real.txt@$A_LARGE,$E2E_TMP/large_copies.txt@$A_LARGE" \
    > "$E2E_TMP/lk.out" || fail "lookup run failed"
vault_stop

# ---- the table
L=$E2E_TMP/lat.out C=$E2E_TMP/conc.out E=$E2E_TMP/e2e.out
S=$E2E_TMP/lk.out B=$E2E_TMP/lk.out
OURS_S=$(result "$E" total_s)
p_small=$(result "$S" small_real_p50_ms)
p_lreal=$(result "$B" large_real_p50_ms)
p_lcopy=$(result "$B" large_copies_p50_ms)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
flat() { awk -v r="$1" 'BEGIN { print (r >= 0.8 && r <= 1.2) ? "flat (within 20%)" : "NOT within 20%" }'; }
within() { awk -v v="$1" -v lim="$2" 'BEGIN { print (v <= lim) ? "ok" : "MISSED" }'; }
r_real=$(ratio "$p_lreal" "$p_small")
r_copy=$(ratio "$p_lcopy" "$p_small")
r_uacme=$(ratio "$OURS_S" "$UACME_S")

echo
echo "orders bench: dev-vault + $(basename "$BUILD")/vault-plugin-secrets-pki-external-ca, Pebble (PEBBLE_VA_NOSLEEP=1), $(nproc) cores"
printf '%-58s %10s %10s   %s\n' "" p50 p99 target
printf '%-58s %7s ms %7s ms   < 2000 ms p99: %s\n' "1. new-order -> awaiting-challenge-fulfillment ($LAT_N seq.)" \
    "$(result "$L" awaiting_p50_ms)" "$(result "$L" awaiting_p99_ms)" "$(within "$(result "$L" awaiting_p99_ms)" 2000)"
printf '%-58s %7s ms %7s ms   < 5000 ms p99: %s\n' "1. fulfilled-challenge -> completed ($LAT_N seq.)" \
    "$(result "$L" completed_p50_ms)" "$(result "$L" completed_p99_ms)" "$(within "$(result "$L" completed_p99_ms)" 5000)"
printf '%-58s %7s s    (all awaiting after %s s; per order p50 %s ms, p99 %s ms; polled every %s)\n' \
    "2. $CONC_N concurrent orders, first new-order -> last completed" "$(result "$C" wall_s)" \
    "$(result "$C" all_awaiting_s)" "$(result "$C" per_order_p50_ms)" "$(result "$C" per_order_p99_ms)" "$CONC_POLL"
printf '%-58s %7s      orders whose fulfilled-challenge -> completed took > 5 s\n' "" "$(result "$C" over5s)"
if [ -f "$E2E_TMP/fill.out" ]; then
    printf '%-58s %7s s    (%s of them > 5 s fulfilled -> completed; per order p99 %s ms)\n' \
        "   filling to $SMALL real orders, $FILL_C in flight" "$(result "$E2E_TMP/fill.out" wall_s)" \
        "$(result "$E2E_TMP/fill.out" over5s)" "$(result "$E2E_TMP/fill.out" per_order_p99_ms)"
fi
printf '%-58s %7s ms %7s ms\n' "3. lookup/order, $N_SMALL stored (real ids)" "$p_small" "$(result "$S" small_real_p99_ms)"
printf '%-58s %7s ms %7s ms   x%s vs %s: %s\n' "3. lookup/order, $N_LARGE stored (the same real ids)" \
    "$p_lreal" "$(result "$B" large_real_p99_ms)" "$r_real" "$N_SMALL" "$(flat "$r_real")"
printf '%-58s %7s ms %7s ms   x%s vs %s: %s\n' "3. lookup/order, $N_LARGE stored (seeded copies)" \
    "$p_lcopy" "$(result "$B" large_copies_p99_ms)" "$r_copy" "$N_SMALL" "$(flat "$r_copy")"
printf '%-58s %s s to write %s copies into -data (%s reads per id set)\n' "" "$(printf '%.1f' "$SEED_S")" \
    "$((LARGE - N_REAL))" "$REQS"
printf '%-58s %7s s    (%s ms per order)\n' "4. $E2E_N http-01 orders end to end via dev-vault" "$OURS_S" "$(result "$E" per_order_ms)"
printf '%-58s %7.2f s\n' "4. uacme $UACME_V, $E2E_N certificates, same Pebble" "$UACME_S"
printf '%-58s %7s x    goal <= 1.2: %s\n' "4. ratio dev-vault / uacme" "$r_uacme" "$(within "$r_uacme" 1.2)"
