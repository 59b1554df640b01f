#!/usr/bin/env bash
# test/renewal/run.sh: issue 14 §1 (ARI-driven automatic renewal) and §3 (automatic
# account-key rotation) against Pebble v2.10 built from the Go module proxy (renewalInfo in
# its directory), with 30-second certificates and authorization reuse, so a renewal placed
# by the plugin completes alone within seconds.
#  - every completed order shows its renewal window (the CA's ARI window once fetched);
#  - with auto_renew the plugin places the replacement itself, for the identifier workflow
#    (new key) and the CSR workflow (the stored CSR: same public key), linked both ways in
#    lookup/order; cached returns the newest certificate;
#  - key_rotation_period rotates the account key by itself; an order that waits on the user
#    meanwhile completes with the new key's authorization;
#  - bad input on each new field is a 400 naming it, and stores nothing.
set -u
cd "$(dirname "$0")/../.."
# shellcheck source=test/e2e/lib.sh
source test/e2e/lib.sh
# shellcheck source=test/e2e/orders_lib.sh
source test/e2e/orders_lib.sh

export PEBBLE_NEW=1 PEBBLE_VALIDITY=30 PEBBLE_AUTHZREUSE=100
e2e_pebble_start || { e2e_finish; exit 1; }
e2e_start || { e2e_finish; exit 1; }
M=$MOUNT

# poll_jq PATH FILTER SECONDS: GETs PATH until jq -r FILTER prints something other than
# "", "null" or "false"; 0 then (GOT holds it), 1 after SECONDS of wall time.
poll_jq() {
    local path=$1 filter=$2 secs=$3 t0
    t0=$(now_ms)
    while :; do
        vault GET "$path"
        GOT=$(printf '%s' "$BODY" | jq -r "$filter" 2>/dev/null)
        case "$GOT" in ""|null|false) ;; *) return 0 ;; esac
        [ $(( $(now_ms) - t0 )) -ge $((secs * 1000)) ] && return 1
        sleep 0.2
    done
}

acct_body() {   # NAME-independent account body, extra JSON members in $1
    jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" --argjson x "${1:-{\}}" \
        '{directory_url:$d, trusted_ca:$ca, email_contacts:["ops@example.com"]} + $x'
}

# ---- §3 first, so its rotation period runs while the renewals happen ------------------
vault PUT "$M/config/acme-account/rot-bad" "$(acct_body '{"key_rotation_period":"soon"}')"
expect_error_mentions key_rotation_period "account create with key_rotation_period=soon"
vault GET "$M/config/acme-account/rot-bad"
expect_status 404 "the refused account was not created"

vault PUT "$M/config/acme-account/rot" "$(acct_body '{"key_rotation_period":"4s"}')"
expect_status 200 "account with key_rotation_period=4s"
expect_jq .data.key_rotation_period 4 "the read shows key_rotation_period in seconds"
expect_true ".data.next_key_rotation | test(\"$RFC3339_RE\")" "next_key_rotation is a date"
vault PUT "$M/config/acme-account/rot" '{"key_rotation_period":"-3s"}'
expect_error_mentions key_rotation_period "key_rotation_period=-3s"
vault GET "$M/config/acme-account/rot"
expect_jq .data.key_rotation_period 4 "the refused update stored nothing"

vault PUT "$M/role/rot" '{"acme_account_name":"rot","allowed_domains":["example.com"],
    "allowed_domain_options":["subdomains"],"allowed_challenge_types":["http-01"]}'
expect_status 200 "role on the rotating account"
new_order rot '{"identifiers":["rot.example.com"]}'
wait_status rot "$ORDER" awaiting-challenge-fulfillment 20 ||
    not_ok "rotation order awaiting fulfilment (last: $LAST_STATUS)"
ROT_ORDER=$ORDER
challenge rot "$ROT_ORDER" rot.example.com http-01
ROT_KEYAUTH_OLD=$KEYAUTH

# ---- §1 ---------------------------------------------------------------------------------
vault PUT "$M/config/acme-account/acme" "$(acct_body)"
expect_status 200 "account for the renewals"
vault PUT "$M/role/renew" '{"acme_account_name":"acme","allowed_domains":["example.com"],
    "allowed_domain_options":["subdomains"],"allowed_challenge_types":["http-01"],
    "auto_renew":true,"renew_before":"25s"}'
expect_status 200 "role with auto_renew and renew_before=25s"
expect_jq '[.data.auto_renew, .data.renew_before]' '[true,"25s"]' "the role shows both"

for bad in '{"auto_renew":"maybe"}|auto_renew' '{"renew_before":"150%"}|renew_before' \
           '{"renew_before":"0%"}|renew_before' '{"renew_before":"soon"}|renew_before' \
           '{"renew_before":"-5s"}|renew_before'; do
    body=${bad%|*} field=${bad#*|}
    # with a valid change beside it: the write must store neither
    vault PUT "$M/role/renew" "$(jq -c '. + {csr_identifier_population:"sans_only"}' <<<"$body")"
    expect_error_mentions "$field" "role write $body"
done
vault GET "$M/role/renew"
expect_jq '[.data.auto_renew, .data.renew_before, .data.csr_identifier_population]' \
    '[true,"25s","cn_first"]' "refused role writes stored nothing"

# Identifier workflow.
order_http01 renew renew1.example.com || not_ok "first order completed (last: $LAST_STATUS)"
O1=$ORDER
# CSR workflow.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=renew2.example.com \
    -addext subjectAltName=DNS:renew2.example.com -keyout "$E2E_TMP/csr.key" \
    -out "$E2E_TMP/csr.pem" 2>/dev/null
new_order renew "$(jq -n --rawfile c "$E2E_TMP/csr.pem" '{csr:$c}')"
O2=$ORDER
wait_status renew "$O2" awaiting-challenge-fulfillment 20 || not_ok "CSR order awaiting (last: $LAST_STATUS)"
challenge renew "$O2" renew2.example.com http-01
publish renew2.example.com http-01
fulfilled renew "$O2" renew2.example.com http-01
wait_status renew "$O2" completed 30 || not_ok "CSR order completed (last: $LAST_STATUS)"

if poll_jq "$M/lookup/order/$O1" '.data.renewal_window_source == "ari"' 15; then
    ok "the completed order's window comes from the CA's renewalInfo"
else
    not_ok "renewal window from ARI: $(printf '%.300s' "$BODY")"
fi
expect_true "[.data.renewal_window_start, .data.renewal_window_end] | all(test(\"$RFC3339_RE\"))" \
    "lookup/order shows renewal_window_start and renewal_window_end"
expect_true '.data | has("renewal_explanation_url") and .replaces_order_id == ""' \
    "lookup/order shows renewal_explanation_url; the first order replaces nothing"
vault GET "$M/role/renew/order/$O1/fetch-cert"
expect_true "(.data.renewal_window_start | test(\"$RFC3339_RE\")) and .data.renewal_window_source == \"ari\"" \
    "fetch-cert shows the renewal window"
S1=$(printf '%s' "$BODY" | jq -r .data.serial_number)
vault GET "$M/lookup/cert/$S1"
expect_true "(.data.renewal_window_end | test(\"$RFC3339_RE\")) and .data.order_id == \"$O1\"" \
    "lookup/cert shows the renewal window"

# The plugin renews both once 25 s are left (5 s after issuance), by itself.
for pair in "$O1 renew1.example.com" "$O2 renew2.example.com"; do
    set -- $pair
    if poll_jq "$M/lookup/order/$1" '.data.replaced_by_order_id' 30; then
        R=$GOT
        ok "$2: the plugin placed the renewal order $R"
    else
        not_ok "$2: no renewal order within 30 s: $(printf '%.300s' "$BODY")"; continue
    fi
    wait_status renew "$R" completed 30 && ok "$2: the renewal completed alone (reused authorization)" ||
        not_ok "$2: renewal completed (last: $LAST_STATUS: $(last_error renew "$R"))"
    vault GET "$M/lookup/order/$R"
    expect_jq .data.replaces_order_id "\"$1\"" "$2: lookup/order links the renewal to the order it replaces"
    [ "$2" = renew1.example.com ] && R1=$R || R2=$R
done

vault GET "$M/role/renew/order/${R1:-none}/fetch-cert"
RS1=$(printf '%s' "$BODY" | jq -r '.data.serial_number // empty')
[ -n "$RS1" ] && [ "$RS1" != "$S1" ] && ok "the renewal is a new certificate ($RS1)" ||
    not_ok "renewal certificate serial: '$RS1' (first $S1)"
vault GET "$M/role/renew/cached?identifiers=renew1.example.com&min_validity_duration=1s"
CACHED=$(printf '%s' "$BODY" | jq -r '.data.order_id // empty')
if [ -n "$CACHED" ] && [ "$CACHED" != "$O1" ]; then
    vault GET "$M/lookup/order/$CACHED"
    expect_true '.data.replaces_order_id != ""' "cached returns a renewed certificate, not the first"
else
    not_ok "cached after renewal: order '$CACHED' (first $O1): $(printf '%.200s' "$BODY")"
fi

# CSR workflow: the renewal used the stored CSR, so the certificate carries its key.
vault GET "$M/role/renew/order/${R2:-none}/fetch-cert"
printf '%s' "$BODY" | jq -r '.data.certificate // empty' > "$E2E_TMP/r2.pem"
K_CERT=$(openssl x509 -in "$E2E_TMP/r2.pem" -noout -pubkey 2>/dev/null | openssl pkey -pubin -outform DER 2>/dev/null | sha256sum)
K_CSR=$(openssl req -in "$E2E_TMP/csr.pem" -noout -pubkey 2>/dev/null | openssl pkey -pubin -outform DER 2>/dev/null | sha256sum)
[ -s "$E2E_TMP/r2.pem" ] && [ "$K_CERT" = "$K_CSR" ] &&
    ok "CSR workflow: the renewed certificate has the CSR's public key" ||
    not_ok "CSR workflow renewal key: cert $K_CERT, csr $K_CSR"
vault GET "$M/role/renew/order/${R2:-none}/fetch-cert"
expect_true '.data | has("private_key") | not' "CSR workflow renewal returns no private key"

# Exactly one renewal per certificate: the first order's link never changes.
vault GET "$M/lookup/order/$O1"
expect_jq .data.replaced_by_order_id "\"${R1:-}\"" "the first order is replaced once"
vault PUT "$M/role/renew" '{"auto_renew":false}'
expect_status 200 "auto_renew off"

# ---- §3, continued: the key rotated by itself ---------------------------------------------
if poll_jq "$M/config/acme-account/rot" '.data.account_keys | length >= 2' 20; then
    ok "key_rotation_period rotated the account key without a request"
else
    not_ok "automatic rotation: $(printf '%.400s' "$BODY")"
fi
expect_true "[.data.account_keys[] | .key_creation_date | test(\"$RFC3339_RE\")] | all" \
    "account_keys shows every version with its creation date"
expect_true '.data.active_key_version >= 1 and .data.key_rotation_error == ""' \
    "a newer key is active and no rotation error is reported"
vault PUT "$M/config/acme-account/rot" '{"key_rotation_period":"0"}'
expect_status 200 "key_rotation_period=0 turns it off"
expect_jq .data.next_key_rotation '""' "no next_key_rotation once off"

challenge rot "$ROT_ORDER" rot.example.com http-01
[ -n "$KEYAUTH" ] && [ "$KEYAUTH" != "$ROT_KEYAUTH_OLD" ] &&
    ok "the waiting order's challenge follows the new key" ||
    not_ok "key authorization after rotation: $KEYAUTH (before $ROT_KEYAUTH_OLD)"
publish rot.example.com http-01
fulfilled rot "$ROT_ORDER" rot.example.com http-01
wait_status rot "$ROT_ORDER" completed 30 && ok "the order placed before the rotation completes" ||
    not_ok "order across the rotation (last: $LAST_STATUS: $(last_error rot "$ROT_ORDER"))"

e2e_finish
