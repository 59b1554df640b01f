#!/usr/bin/env bash
# test/bench/dns.sh: automatic dns-01 orders (RFC 2136 provider on a test BIND, Pebble with
# PEBBLE_VA_NOSLEEP=1 resolving through it, dev-vault + the plugin):
#   1. new-order -> completed over DNS_LAT_N (20) sequential orders, p50/p99 (status polled
#      every 20 ms; the only client call is new-order);
#   2. DNS_CONC_N (50) automatic orders placed at once: every one completed, total time.
# Prints a table. Figures, not pass/fail: exits non-zero only when a step cannot run or an
# order does not complete.
set -u
cd "$(dirname "$0")/../.."
export PEBBLE_VA_NOSLEEP=1
unset VAULT_ADDR VAULT_TOKEN
LAT_N=${DNS_LAT_N:-20}
CONC_N=${DNS_CONC_N:-50}
# shellcheck source=test/e2e/lib.sh
source test/e2e/lib.sh
# shellcheck source=test/lib/named.sh
source test/lib/named.sh
fail() { echo "dns.sh: $*" >&2; exit 1; }
trap 'named_stop; e2e_cleanup' EXIT
named_start >&2 || fail "BIND did not start (apt-get install bind9 bind9-dnsutils)"
export PEBBLE_DNS_SERVER=$NAMED_ADDR
e2e_start >&2 || fail "dev-vault did not start"
e2e_pebble_start >&2 || fail "Pebble did not start"
trap 'named_stop; e2e_cleanup' EXIT
M=$MOUNT
vault PUT "$M/config/acme-account/bench" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" \
    '{directory_url:$d, trusted_ca:$ca, email_contacts:["ops@example.com"]}')"
[ "$STATUS" = 200 ] || fail "account: $BODY"
vault POST "$M/config/dns/rfc2136/bind" "{\"identifiers\":\"*.example.test\",\"nameserver\":\"$NAMED_ADDR\",
    \"tsig_key_name\":\"key-sha256\",\"tsig_secret\":\"$NAMED_SECRET_sha256\"}"
[ "$STATUS" = 200 ] || fail "provider: $BODY"
vault PUT "$M/role/auto" '{"acme_account_name":"bench","allowed_domains":["example.test"],"allowed_domain_options":["subdomains"]}'
[ "$STATUS" = 200 ] || fail "role: $BODY"

now_ms() { date +%s%3N; }
# run_order NAME [POLL]: one automatic order; prints its new-order -> completed time in ms.
# The 50 parallel orders poll every 0.25 s so 50 curl+jq loops do not take the 2 cores.
run_order() {
    local t0 id st poll=${2:-0.02}
    t0=$(now_ms)
    id=$(curl -sS -X PUT -H "X-Vault-Token: $VAULT_TOKEN" -d "{\"identifiers\":[\"$1.example.test\"]}" \
        "$VAULT_ADDR/v1/$M/role/auto/new-order" | jq -r '.data.order_id // empty')
    [ -n "$id" ] || { echo "fail"; return; }
    for _ in $(seq 1 6000); do
        st=$(curl -sS -H "X-Vault-Token: $VAULT_TOKEN" "$VAULT_ADDR/v1/$M/role/auto/order/$id/status" | jq -r .data.order_status)
        case "$st" in completed) echo $(( $(now_ms) - t0 )); return ;; error|expired|revoked) echo "fail"; return ;; esac
        sleep "$poll"
    done
    echo "fail"
}
pct() { sort -n | awk -v p="$1" '{v[NR]=$1} END { i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; print v[i] }'; }

run_order warmup >/dev/null
: > "$E2E_TMP/lat"
for i in $(seq 1 "$LAT_N"); do run_order "lat$i" >> "$E2E_TMP/lat"; done
grep -q fail "$E2E_TMP/lat" && fail "a sequential order did not complete"
p50=$(pct 50 < "$E2E_TMP/lat"); p99=$(pct 99 < "$E2E_TMP/lat")

t0=$(now_ms)
pids=()
for i in $(seq 1 "$CONC_N"); do run_order "conc$i" 0.25 > "$E2E_TMP/conc.$i" & pids+=($!); done
wait "${pids[@]}"
total=$(( $(now_ms) - t0 ))
done_n=$(cat "$E2E_TMP"/conc.* | grep -vc fail)
left=$(dig +short -p "$NAMED_PORT" @127.0.0.1 -y "hmac-sha256:key-sha256:$NAMED_SECRET_sha256" example.test AXFR 2>/dev/null | grep -c TXT)

printf '\n%-58s %s\n' "automatic dns-01 (RFC 2136 on BIND, Pebble NOSLEEP)" "value"
printf '%-58s %s ms\n' "new-order -> completed, p50 over $LAT_N sequential orders" "$p50"
printf '%-58s %s ms\n' "new-order -> completed, p99 over $LAT_N sequential orders" "$p99"
printf '%-58s %s / %s\n' "$CONC_N orders placed at once: completed" "$done_n" "$CONC_N"
printf '%-58s %s ms\n' "$CONC_N orders placed at once: total time" "$total"
printf '%-58s %s\n' "TXT records left in the zone afterwards" "${left:-?}"
[ "$done_n" = "$CONC_N" ] || fail "only $done_n of $CONC_N parallel orders completed"
