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
# shellcheck source=test/e2e/orders_lib.sh
source test/e2e/orders_lib.sh

e2e_start || { e2e_finish; exit 1; }
e2e_pebble_start || { e2e_finish; exit 1; }

M=$MOUNT
ROLE=web
ACCT=pebble

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
        not_ok "order $t after the forced rotation: $LAST_STATUS: $(last_error $ROLE "${ORD[$t]}")"
    fi
done
challenge $ROLE "${ORD[http]}" rot-http.example.com http-01
A1=$KEYAUTH
vault POST "$M/config/acme-account/$ACCT/rotate-key" '{"key_type":"ec-256"}'
expect_status 200 "rotate-key again once nothing is active"
challenge $ROLE "${ORD[http]}" rot-http.example.com http-01
expect_jq '.data.challenge_auth' "\"$A1\"" "a completed order's challenge reads the same after another rotation"

order_http01 $ROLE rot-after.example.com && ok "a new order on the rotated account completes" ||
    not_ok "new order after rotation: $LAST_STATUS: $(last_error $ROLE "$ORDER")"

# ---- a node whose storage is read-only (issue 9 item 8) ---------------------------------------
# dev-vault's SIGUSR1 makes every mount's storage answer writes with logical.ErrReadOnly, as
# an HA standby's does. Each write must fail with that text (the one OpenBao forwards on)
# and change nothing, at the CA included. OpenBao standbys: the HA cluster suite.
expect_read_only() {
    if [ "$STATUS" != 200 ] && [ "$STATUS" != 204 ] &&
       printf '%s' "$BODY" | jq -e '.errors | any(contains("cannot write to readonly storage"))' >/dev/null 2>&1; then
        ok "$* on read-only storage: HTTP $STATUS cannot write to readonly storage"
    else
        not_ok "$* on read-only storage: HTTP $STATUS $(printf '%.300s' "$BODY")"
    fi
}
ca_cert_status() {   # SERIAL (colon hex): Pebble's view, "Valid" or "Revoked"
    curl -sk "$PEBBLE_MGMT_URL/cert-status-by-serial/$(printf '%s' "$1" | tr -d ':' | sed 's/^0*//')" |
        jq -r '.Status // empty' 2>/dev/null
}
if [ "${HOST:-dev-vault}" = dev-vault ]; then
    vault PUT "$M/config/acme-account/spare" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" \
        '{directory_url:$d, trusted_ca:$ca, email_contacts:["ops@example.com"]}')"
    expect_status 200 "create a spare account"
    vault GET "$M/config/acme-account/$ACCT"
    KEYS_BEFORE=$(printf '%s' "$BODY" | jq -c '[.data.active_key_version, (.data.account_keys | keys)]')
    vault GET "$M/role/$ROLE/order/${ORD[http]}/status"
    SERIAL=$(printf '%s' "$BODY" | jq -r .data.serial_number)
    [ "$(ca_cert_status "$SERIAL")" = Valid ] && ok "Pebble: the http order's certificate is valid" ||
        not_ok "Pebble status of $SERIAL: $(ca_cert_status "$SERIAL")"
    N_BEFORE=$(vault LIST "$M/lookup/orders"; printf '%s' "$BODY" | jq '.data.keys | length')

    kill -USR1 "$HOST_PID"
    for i in $(seq 1 50); do grep -q '"read_only": *true\|read_only=true' "$HOST_LOG" && break; sleep 0.1; done
    vault POST "$M/config/acme-account/$ACCT/rotate-key" '{"force":true}'
    expect_read_only "rotate-key"
    vault PUT "$M/config/acme-account/ro-new" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" \
        '{directory_url:$d, trusted_ca:$ca, email_contacts:["ops@example.com"]}')"
    expect_read_only "account create"
    vault DELETE "$M/config/acme-account/spare"
    expect_read_only "account delete"
    vault PUT "$M/role/$ROLE/order/${ORD[http]}/revoke" '{"reason":"superseded"}'
    expect_read_only "revoke"
    vault PUT "$M/role/$ROLE/new-order" '{"identifiers":["ro.example.com"]}'
    expect_read_only "new-order"
    vault GET "$M/config/acme-account/$ACCT"
    expect_status 200 "reads still work on read-only storage"
    kill -USR1 "$HOST_PID"
    for i in $(seq 1 50); do grep -q '"read_only": *false\|read_only=false' "$HOST_LOG" && break; sleep 0.1; done

    vault GET "$M/config/acme-account/$ACCT"
    expect_jq '[.data.active_key_version, (.data.account_keys | keys)]' "$KEYS_BEFORE" "account keys unchanged"
    vault GET "$M/config/acme-account/ro-new"
    expect_status 404 "no account was created"
    vault GET "$M/config/acme-account/spare"
    expect_status 200 "the spare account is still there"
    [ "$(ca_cert_status "$SERIAL")" = Valid ] && ok "Pebble: the certificate was not revoked" ||
        not_ok "Pebble status of $SERIAL after the refused revoke: $(ca_cert_status "$SERIAL")"
    vault GET "$M/role/$ROLE/order/${ORD[http]}/status"
    expect_jq '.data.order_status' '"completed"' "the order still says completed"
    vault LIST "$M/lookup/orders"
    expect_jq '.data.keys | length' "$N_BEFORE" "no order was stored"
    order_http01 $ROLE ro-after.example.com && ok "the account's stored key still works at the CA" ||
        not_ok "order after the read-only phase: $LAST_STATUS: $(last_error $ROLE "$ORDER")"
    vault PUT "$M/role/$ROLE/order/${ORD[http]}/revoke" '{"reason":"superseded"}'
    expect_status 200 "revoke once storage is writable"
    [ "$(ca_cert_status "$SERIAL")" = Revoked ] && ok "Pebble: revoked now" ||
        not_ok "Pebble status of $SERIAL: $(ca_cert_status "$SERIAL")"
else
    echo "# read-only storage checks: dev-vault only (OpenBao standbys: the HA cluster suite)"
fi

e2e_finish
