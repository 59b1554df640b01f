#!/usr/bin/env bash
# test/e2e/test_rotate_key.sh: rotate-key while orders await fulfilment (issue 9 item 3).
# RFC 8555 §8.1 ties a key authorization to the account's current key: after a forced
# rotation every pending challenge shows the new key's authorization (challenge_auth,
# dns_record_value), the user publishes that, and the order completes at Pebble, for
# http-01 and dns-01. A challenge the CA already validated keeps its value.
set -u
cd "$(dirname "$0")/../.."
# shellcheck source=test/e2e/lib.sh
source test/e2e/lib.sh

e2e_start || { e2e_finish; exit 1; }
e2e_pebble_start || { e2e_finish; exit 1; }

M=$MOUNT
ROLE=web
ACCT=pebble

order_status() {
    vault GET "$M/role/$1/order/$2/status"
    if [ "$STATUS" = 200 ]; then printf '%s' "$BODY" | jq -r .data.order_status; else echo "http-$STATUS"; fi
}

# wait_status ROLE ID WANT SECONDS (generous bounds: this asserts a state, not a time)
wait_status() {
    local i
    for i in $(seq 1 $(($4 * 10))); do
        LAST_STATUS=$(order_status "$1" "$2")
        [ "$LAST_STATUS" = "$3" ] && return 0
        case "$LAST_STATUS" in error|expired|revoked) return 1 ;; esac
        sleep 0.1
    done
    return 1
}

challenge() {   # ROLE ID IDENT TYPE: sets TOKEN KEYAUTH DNSVAL
    vault GET "$M/role/$1/order/$2/challenge?challenge_type=$4&identifier=$3"
    TOKEN=$(printf '%s' "$BODY" | jq -r '.data.challenge_token // empty')
    KEYAUTH=$(printf '%s' "$BODY" | jq -r '.data.challenge_auth // empty')
    DNSVAL=$(printf '%s' "$BODY" | jq -r '.data.dns_record_value // empty')
}

cts() { curl -sS -o /dev/null -X POST "$CHALLTESTSRV_URL/$1" -d "$2"; }

publish() {   # IDENT TYPE
    case "$2" in
        http-01) cts add-http01 "{\"token\":\"$TOKEN\",\"content\":\"$KEYAUTH\"}" ;;
        dns-01) cts set-txt "{\"host\":\"_acme-challenge.$1.\",\"value\":\"$DNSVAL\"}" ;;
    esac
}

fulfilled() {   # ROLE ID IDENT TYPE
    vault PUT "$M/role/$1/order/$2/fulfilled-challenge" \
        "{\"identifier\":\"$3\",\"challenge_type\":\"$4\"}"
}

# base64url(sha256(text)), the dns-01 TXT value of a key authorization
dns_value_of() { printf '%s' "$1" | openssl dgst -sha256 -binary | base64 -w0 | tr '+/' '-_' | tr -d '='; }

vault PUT "$M/config/acme-account/$ACCT" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" \
    '{directory_url:$d, trusted_ca:$ca, email_contacts:["ops@example.com"]}')"
expect_status 200 "create acme account"
vault PUT "$M/role/$ROLE" "$(jq -n --arg a "$ACCT" '{acme_account_name:$a,
    allowed_domains:["example.com"], allowed_domain_options:["subdomains"],
    allowed_challenge_types:["http-01","dns-01"]}')"
expect_status 200 "create role"

# Three orders awaiting fulfilment: one per challenge type, and one with two identifiers of
# which one is validated before the rotation.
declare -A ORD
for t in http dns mixed; do
    case $t in
        http) ids='["rot-http.example.com"]' ;;
        dns) ids='["rot-dns.example.com"]' ;;
        mixed) ids='["rot-a.example.com","rot-b.example.com"]' ;;
    esac
    vault PUT "$M/role/$ROLE/new-order" "{\"identifiers\":$ids}"
    expect_status 200 "new-order ($t)"
    ORD[$t]=$(printf '%s' "$BODY" | jq -r '.data.order_id // empty')
    wait_status $ROLE "${ORD[$t]}" awaiting-challenge-fulfillment 30 ||
        not_ok "order $t awaiting-challenge-fulfillment (last: $LAST_STATUS)"
done

challenge $ROLE "${ORD[http]}" rot-http.example.com http-01
OLD_HTTP=$KEYAUTH
challenge $ROLE "${ORD[dns]}" rot-dns.example.com dns-01
OLD_DNS_KA=$KEYAUTH OLD_DNS=$DNSVAL
OLD_TP=${OLD_HTTP#*.}

# Validate rot-a before the rotation; rot-b stays pending.
challenge $ROLE "${ORD[mixed]}" rot-a.example.com http-01
publish rot-a.example.com http-01
VALIDATED_A=$KEYAUTH
fulfilled $ROLE "${ORD[mixed]}" rot-a.example.com http-01
expect_status 200 "fulfil rot-a before the rotation"
for i in $(seq 1 300); do
    challenge $ROLE "${ORD[mixed]}" rot-a.example.com http-01
    [ "$(printf '%s' "$BODY" | jq -r .data.challenge_status)" = valid ] && break
    sleep 0.1
done
expect_jq '.data.challenge_status' '"valid"' "rot-a validated by the CA before the rotation"

vault POST "$M/config/acme-account/$ACCT/rotate-key" '{"key_type":"ec-384"}'
expect_error_mentions force "rotate-key without force is refused while orders are active"
vault POST "$M/config/acme-account/$ACCT/rotate-key" '{"key_type":"ec-384","force":true}'
expect_status 200 "rotate-key force=true while three orders await fulfilment"

challenge $ROLE "${ORD[http]}" rot-http.example.com http-01
NEW_TP=${KEYAUTH#*.}
if [ -n "$KEYAUTH" ] && [ "$KEYAUTH" != "$OLD_HTTP" ] && [ "${KEYAUTH%%.*}" = "${OLD_HTTP%%.*}" ] &&
   [ "$NEW_TP" != "$OLD_TP" ]; then
    ok "http-01 challenge_auth: same token, the new key's thumbprint"
else
    not_ok "http-01 challenge_auth after rotation: $KEYAUTH (before: $OLD_HTTP)"
fi
expect_jq "[.data.authorizations[0].challenges[] | select(.type == \"http-01\") | .key_authorization]" \
    "[\"$KEYAUTH\"]" "http-01: key_authorization in authorizations[] matches challenge_auth"
publish rot-http.example.com http-01
fulfilled $ROLE "${ORD[http]}" rot-http.example.com http-01
expect_status 200 "fulfil http-01 after the rotation"

challenge $ROLE "${ORD[dns]}" rot-dns.example.com dns-01
if [ "${KEYAUTH#*.}" = "$NEW_TP" ] && [ "$KEYAUTH" != "$OLD_DNS_KA" ] &&
   [ "$DNSVAL" = "$(dns_value_of "$KEYAUTH")" ] && [ "$DNSVAL" != "$OLD_DNS" ]; then
    ok "dns-01 dns_record_value is base64url(sha256) of the new key authorization"
else
    not_ok "dns-01 after rotation: auth $KEYAUTH value $DNSVAL (before: $OLD_DNS)"
fi
publish rot-dns.example.com dns-01
fulfilled $ROLE "${ORD[dns]}" rot-dns.example.com dns-01
expect_status 200 "fulfil dns-01 after the rotation"

challenge $ROLE "${ORD[mixed]}" rot-a.example.com http-01
expect_jq '.data.challenge_auth' "\"$VALIDATED_A\"" "a validated challenge keeps the key authorization it was validated with"
challenge $ROLE "${ORD[mixed]}" rot-b.example.com dns-01
[ "${KEYAUTH#*.}" = "$NEW_TP" ] && ok "the pending identifier of the same order follows the new key" ||
    not_ok "rot-b after rotation: $KEYAUTH"
publish rot-b.example.com dns-01
fulfilled $ROLE "${ORD[mixed]}" rot-b.example.com dns-01
expect_status 200 "fulfil rot-b (dns-01) after the rotation"

for t in http dns mixed; do
    if wait_status $ROLE "${ORD[$t]}" completed 60; then
        ok "order $t completed after the forced rotation"
    else
        vault GET "$M/role/$ROLE/order/${ORD[$t]}/status"
        not_ok "order $t after the forced rotation: $LAST_STATUS: $(printf '%s' "$BODY" | jq -r .data.last_error)"
    fi
done
challenge $ROLE "${ORD[http]}" rot-http.example.com http-01
A1=$KEYAUTH
vault POST "$M/config/acme-account/$ACCT/rotate-key" '{"key_type":"ec-256"}'
expect_status 200 "rotate-key again once nothing is active"
challenge $ROLE "${ORD[http]}" rot-http.example.com http-01
expect_jq '.data.challenge_auth' "\"$A1\"" "a completed order's challenge reads the same after another rotation"

vault PUT "$M/role/$ROLE/new-order" '{"identifiers":["rot-after.example.com"]}'
ID=$(printf '%s' "$BODY" | jq -r '.data.order_id // empty')
wait_status $ROLE "$ID" awaiting-challenge-fulfillment 30
challenge $ROLE "$ID" rot-after.example.com http-01
publish rot-after.example.com http-01
fulfilled $ROLE "$ID" rot-after.example.com http-01
wait_status $ROLE "$ID" completed 60 && ok "a new order on the rotated account completes" ||
    not_ok "new order after rotation: $LAST_STATUS"

e2e_finish
