# test/lifecycle/tidy.sh (sourced by test/lifecycle/run.sh): tidy, tidy-status, tidy-cancel
# and config/auto-tidy. Pebble's certificates live 8 s here and safety_buffer is 1 s, so
# orders become due within the suite. Checks: bad input naming the field with nothing
# stored; a valid certificate (the role's cached one) is kept; error and expired-certificate
# orders are removed with every storage entry that names them (read from dev-vault's file
# storage); tidy_keys removes only the key; lookups answer during a run; cancel; SIGKILL of
# the plugin mid-run resumes from the stored cursor; auto-tidy runs from the periodic call.

feature_role td
expect_status 200 "tidy: role"

# tidy_wait STATE SECS [MOUNT]: polls tidy-status until state is STATE; BODY holds it.
tidy_wait() {
    local want=$1 secs=$2 mnt=${3:-$M} t0
    t0=$(now_ms)
    while :; do
        vault GET "$mnt/tidy-status"
        TIDY_STATE=$(printf '%s' "$BODY" | jq -r '.data.state // empty' 2>/dev/null)
        [ "$TIDY_STATE" = "$want" ] && return 0
        [ $(( $(now_ms) - t0 )) -ge $((secs * 1000)) ] && return 1
        sleep 0.1
    done
}
# error_order MOUNT ROLE NAME: an order that ends in error (http-01 said fulfilled, never
# published: the CA's validation fails). Sets ORDER.
error_order() {
    local saved=$M; M=$1
    new_order "$2" "$(jq -n --arg i "$3" '{identifiers:[$i]}')"
    if wait_status "$2" "$ORDER" awaiting-challenge-fulfillment 30; then
        fulfilled "$2" "$ORDER" "$3" http-01
    fi
    M=$saved
}
# storage_mentions ID: storage keys or values (dev-vault's file storage) naming ID.
storage_mentions() {
    [ -n "$1" ] && [ "$1" != null ] || { echo "(no id)"; return; }
    python3 - "$HOST_DIR/data" "$1" <<'PY'
import base64, json, os, sys
root, needle = sys.argv[1], sys.argv[2]
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        if needle in p:
            print(p); continue
        try:
            v = json.load(open(p)).get("Value", "")
            if needle in base64.b64decode(v).decode("utf-8", "replace"):
                print(p)
        except Exception:
            pass
PY
}

# ---- bad input ---------------------------------------------------------------------------------
vault GET "$M/tidy-status"
expect_jq '.data | [.state, .error, .time_started, .orders_deleted_count]' '["Inactive",null,null,0]' \
    "tidy-status before any run: Inactive, no error, no dates"
vault POST "$M/tidy-cancel" '{}'
expect_error_mentions "none is currently running" "tidy-cancel with no run is a 400"
vault POST "$M/tidy" '{}'
expect_error_mentions tidy_orders "tidy with no operation is refused naming tidy_orders"
vault POST "$M/tidy" '{"tidy_orders":true,"safety_buffer":"0s"}'
expect_error_mentions safety_buffer "tidy: safety_buffer 0s refused naming it"
vault POST "$M/tidy" '{"tidy_orders":true,"safety_buffer":"soon"}'
expect_error_mentions safety_buffer "tidy: unparsable safety_buffer refused naming it"
vault POST "$M/tidy" '{"tidy_orders":true,"pause_duration":"11m"}'
expect_error_mentions pause_duration "tidy: pause_duration above 10m refused naming it"
vault POST "$M/tidy" '{"tidy_orders":"maybe"}'
expect_error_mentions tidy_orders "tidy: a non-bool tidy_orders refused naming it"
vault GET "$M/tidy-status"
expect_jq .data.state '"Inactive"' "tidy: refused calls started nothing"
vault POST "$M/config/auto-tidy" '{"enabled":true,"interval_duration":"0s","tidy_orders":true}'
expect_error_mentions interval_duration "auto-tidy: interval_duration 0s refused naming it"
vault POST "$M/config/auto-tidy" '{"enabled":true}'
expect_error_mentions enabled "auto-tidy: enabled without an operation refused"
vault POST "$M/config/auto-tidy" '{"enabled":true,"tidy_orders":true,"safety_buffer":"0s"}'
expect_error_mentions safety_buffer "auto-tidy: safety_buffer 0s refused naming it"
vault GET "$M/config/auto-tidy"
expect_jq '.data | [.enabled, .interval_duration, .tidy_orders, .tidy_keys, .safety_buffer, .pause_duration]' \
    '[false,43200,false,false,259200,"0s"]' "auto-tidy: refused writes stored nothing (defaults: 12h, 72h)"

# ---- a valid certificate stays; an error order past the buffer goes ----------------------------
error_order "$M" td err1.other.test
ERR1=$ORDER
wait_status td "$ERR1" error 30 && ok "tidy: error order ready" || not_ok "tidy: error order (last $LAST_STATUS)"
vault PUT "$M/role/td/issue" '{"identifiers":["keep.example.test"],"wait":"60s"}'
KEEP=$(printf '%s' "$BODY" | jq -r .data.order_id)
KEEP_SERIAL=$(printf '%s' "$BODY" | jq -r .data.serial_number)
KEEP_END=$(printf '%s' "$BODY" | jq -r .data.expiration)
[ "$(printf '%s' "$BODY" | jq -r .data.order_status)" = completed ] && ok "tidy: issued keep.example.test" \
    || not_ok "tidy: issue keep.example.test: $(printf '%.300s' "$BODY")"
sleep 1.2   # err1 ended more than safety_buffer ago
vault POST "$M/tidy" '{"tidy_orders":true,"safety_buffer":"1s"}'
expect_status 202 "tidy: POST tidy answers 202 Accepted"
expect_true '(.warnings | any(test("successfully started"))) and .data.tidy_orders == true and .data.safety_buffer == 1' \
    "tidy: 202 reply has Vault's warning and the options"
tidy_wait Finished 20 && ok "tidy: run finished" || not_ok "tidy: run state $TIDY_STATE"
expect_true '.data.orders_deleted_count >= 1 and .data.error == null and (.data.time_started | test("^[0-9]{4}-")) and (.data.time_finished | test("^[0-9]{4}-")) and .data.auto_tidy == false' \
    "tidy-status: counts and RFC 3339 dates of the run"
vault GET "$M/lookup/order/$ERR1"
expect_status 404 "tidy: error order past the buffer removed"
vault GET "$M/lookup/order/$KEEP"
expect_status 200 "tidy: order with a valid certificate kept"
vault GET "$M/role/td/cached?identifiers=keep.example.test&min_validity_duration=0s"
expect_true '.data.order_id == "'"$KEEP"'"' "tidy: the role's cached certificate still answers"
[ -z "$(storage_mentions "$ERR1")" ] && ok "tidy: no storage key or value names the removed order" \
    || not_ok "tidy: storage still names $ERR1: $(storage_mentions "$ERR1" | head -3)"

# ---- tidy_keys: once the certificate expired, only its key goes --------------------------------
case "$KEEP_END" in ''|*[!0-9]*) KEEP_END=$(( $(date +%s) + 9 )) ;; esac
while [ "$(date +%s)" -le $((KEEP_END + 1)) ]; do sleep 0.2; done
vault POST "$M/tidy" '{"tidy_keys":true,"safety_buffer":"1s"}'
expect_status 202 "tidy_keys: started"
tidy_wait Finished 20 && ok "tidy_keys: run finished" || not_ok "tidy_keys: state $TIDY_STATE"
expect_true '.data.keys_deleted_count >= 1 and .data.orders_deleted_count == 0' "tidy_keys: keys counted, no order removed"
vault GET "$M/role/td/order/$KEEP/fetch-cert"
expect_true '(.data.certificate | startswith("-----BEGIN CERTIFICATE-----")) and (.data | has("private_key") | not)' \
    "tidy_keys: fetch-cert still returns the certificate, without the private key"

# ---- cancel, a second POST, lookups during a run -----------------------------------------------
vault POST "$M/tidy" '{"tidy_orders":true,"safety_buffer":"1h","pause_duration":"1s"}'
expect_status 202 "tidy with a pause: started"
vault POST "$M/tidy" '{"tidy_orders":true}'
expect_true '.warnings | any(test("already in progress"))' "tidy: a second POST while one runs starts nothing, with a warning"
vault LIST "$M/lookup/orders/recent"
expect_status 200 "tidy: lookup/orders/recent answers during a run"
vault POST "$M/tidy-cancel" '{}'
expect_true '.data.state == "Cancelling" or .data.state == "Cancelled"' "tidy-cancel: answers with the status"
tidy_wait Cancelled 10 && ok "tidy-cancel: the run stopped (Cancelled)" || not_ok "tidy-cancel: state $TIDY_STATE"

# ---- everything of an expired-certificate order goes -------------------------------------------
vault POST "$M/tidy" '{"tidy_orders":true,"safety_buffer":"1s"}'
tidy_wait Finished 20 && ok "tidy: third run finished" || not_ok "tidy: third run state $TIDY_STATE"
vault GET "$M/lookup/order/$KEEP"
expect_status 404 "tidy: completed order whose certificate expired removed"
vault GET "$M/lookup/cert/$KEEP_SERIAL"
expect_status 404 "tidy: its certificate record removed"
vault GET "$M/role/td/cached?identifiers=keep.example.test&min_validity_duration=0s"
expect_status 404 "tidy: its cache entry removed"
[ -z "$(storage_mentions "$KEEP")" ] && ok "tidy: no storage key or value names it (order, key, cert, hour, cache, ca-order claim)" \
    || not_ok "tidy: storage still names $KEEP: $(storage_mentions "$KEEP" | head -3)"
vault LIST "$M/lookup/orders"
expect_true ".data.keys | index(\"$KEEP\") == null" "tidy: lookup/orders no longer lists it"
vault LIST "$M/lookup/orders/recent"
expect_true ".data.keys | index(\"$KEEP\") == null and length >= 1" "tidy: lookup/orders/recent answers without it"

# ---- SIGKILL mid-run: resumed from the stored cursor by the periodic call ----------------------
M2=tidy2
host_mount "$M2" pki-external-ca || not_ok "tidy: second mount"
vault PUT "$M2/config/acme-account/a" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" '{directory_url:$d, trusted_ca:$ca, email_contacts:["ops@example.com"]}')"
vault PUT "$M2/role/r" '{"acme_account_name":"a","allowed_domains":["other.test"],"allowed_domain_options":["subdomains"],"allowed_challenge_types":["http-01"]}'
expect_status 200 "tidy crash: second mount with a role"
CR=()
for i in 1 2 3; do error_order "$M2" r "crash$i.other.test"; CR+=("$ORDER"); done
SM=$M; M=$M2
for id in "${CR[@]}"; do wait_status r "$id" error 30 || not_ok "tidy crash: $id (last $LAST_STATUS)"; done
M=$SM
sleep 1.2
vault POST "$M2/tidy" '{"tidy_orders":true,"safety_buffer":"1s","pause_duration":"1s"}'
expect_status 202 "tidy crash: started with a 1 s pause"
t0=$(now_ms)
while :; do
    vault GET "$M2/tidy-status"
    [ "$(printf '%s' "$BODY" | jq -r '.data.orders_deleted_count')" -ge 1 ] 2>/dev/null && break
    [ $(( $(now_ms) - t0 )) -ge 15000 ] && break
    sleep 0.05
done
expect_true '.data.state == "Running" and .data.orders_deleted_count == 1' "tidy crash: caught running after one removal"
pid=$(host_plugin_pids vault-plugin-secrets-pki-external-ca | head -1)
if [ -n "$pid" ]; then
    kill -KILL "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    ok "tidy crash: killed plugin $pid mid-run"
else not_ok "tidy crash: no plugin process"; fi
for _ in $(seq 1 100); do vault GET "$M2/role/r"; case "$STATUS" in 5*|000) sleep 0.1 ;; *) break ;; esac; done
tidy_wait Finished 30 "$M2" && ok "tidy crash: the relaunched plugin resumed and finished the run" \
    || not_ok "tidy crash: state $TIDY_STATE after relaunch"
expect_jq .data.orders_deleted_count 3 "tidy crash: the three orders counted once each across the crash"
gone=0
for id in "${CR[@]}"; do vault GET "$M2/lookup/order/$id"; [ "$STATUS" = 404 ] && gone=$((gone + 1)); done
[ "$gone" = 3 ] && ok "tidy crash: all three orders removed" || not_ok "tidy crash: $gone of 3 removed"

# ---- auto-tidy: from the periodic call, active node ------------------------------------------
error_order "$M2" r auto1.other.test
AUTO1=$ORDER
SM=$M; M=$M2; wait_status r "$AUTO1" error 30 || not_ok "auto-tidy: error order (last $LAST_STATUS)"; M=$SM
vault POST "$M2/config/auto-tidy" '{"enabled":true,"interval_duration":"1s","tidy_orders":true,"safety_buffer":"1s"}'
expect_jq '.data | [.enabled, .interval_duration, .tidy_orders, .safety_buffer]' '[true,1,true,1]' "auto-tidy: configured"
t0=$(now_ms)
while :; do
    vault GET "$M2/lookup/order/$AUTO1"
    [ "$STATUS" = 404 ] && break
    [ $(( $(now_ms) - t0 )) -ge 20000 ] && break
    sleep 0.2
done
expect_status 404 "auto-tidy: the periodic call removed the error order"
tidy_wait Finished 10 "$M2"
expect_true '.data.auto_tidy == true and (.data.last_auto_tidy_finished | test("^[0-9]{4}-"))' \
    "auto-tidy: tidy-status shows the auto run and last_auto_tidy_finished"
vault POST "$M2/config/auto-tidy" '{"enabled":false}'
expect_jq '.data | [.enabled, .interval_duration, .tidy_orders]' '[false,1,true]' "auto-tidy: disabled, other fields kept"
