#!/usr/bin/env bash
# test/features/test_profiles.sh: certificate profiles (issue 14 §7). Role field
# acme_profile is checked at write against the account's directory meta.profiles (Pebble
# v2.10 offers "default" and "shortlived"; Debian's Pebble 2.4 offers none), sent with every
# order of the role (the certificate's lifetime shows Pebble applied it) and shown in order
# replies. Bad values are a 400 naming the field and store nothing.
set -u
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
source test/e2e/orders_lib.sh

e2e_start || { e2e_finish; exit 1; }
e2e_pebble_start || { e2e_finish; exit 1; }
M=$MOUNT

vault PUT "$M/config/acme-account/pebble" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" \
    '{directory_url:$d, trusted_ca:$ca, email_contacts:["ops@example.com"]}')"
expect_status 200 "create acme account (Pebble with profiles)"

vault PUT "$M/role/prof" '{"acme_account_name":"pebble","allowed_domains":["example.com"],
    "allowed_domain_options":["subdomains"],"acme_profile":"sixday"}'
expect_error_mentions "acme_profile" "unknown profile refused naming the field"
expect_error_mentions "shortlived" "the refusal lists the profiles the CA offers"
vault GET "$M/role/prof"
expect_status 404 "the refused role was not stored"
vault PUT "$M/role/prof" '{"acme_account_name":"pebble","allowed_domains":["example.com"],
    "allowed_domain_options":["subdomains"],"acme_profile":"shortlived"}'
expect_status 200 "role with acme_profile shortlived"
expect_jq '.data.acme_profile' '"shortlived"' "role shows acme_profile"
vault PUT "$M/role/prof" '{"acme_profile":"classic"}'
expect_error_mentions "acme_profile" "update to a profile the CA lacks refused"
vault GET "$M/role/prof"
expect_jq '.data.acme_profile' '"shortlived"' "the refused update left the profile unchanged"
vault PUT "$M/role/plain" '{"acme_account_name":"pebble","allowed_domains":["example.com"],
    "allowed_domain_options":["subdomains"]}'
expect_jq '.data.acme_profile' '""' "acme_profile defaults to empty (the CA's default)"

# lifetime in seconds of the certificate of a completed order
lifetime() {
    vault GET "$M/role/$1/order/$2/fetch-cert"
    printf '%s' "$BODY" | jq -r .data.certificate > "$E2E_TMP/c.pem"
    local nb na
    nb=$(date -d "$(openssl x509 -in "$E2E_TMP/c.pem" -noout -startdate | cut -d= -f2)" +%s)
    na=$(date -d "$(openssl x509 -in "$E2E_TMP/c.pem" -noout -enddate | cut -d= -f2)" +%s)
    echo $((na - nb))
}
if order_http01 prof short.example.com; then ok "shortlived order completed"
else not_ok "shortlived order (last: $LAST_STATUS, $(last_error prof "$ORDER"))"; fi
vault GET "$M/role/prof/order/$ORDER/status"
expect_jq '.data.acme_profile' '"shortlived"' "order status shows the profile"
life=$(lifetime prof "$ORDER")
# Pebble's shortlived profile: 518400 s (6 days), the default 90 days
[ "$life" -le 518400 ] && [ "$life" -ge 518000 ] && ok "the CA issued the six-day profile ($life s)" ||
    not_ok "shortlived certificate lifetime $life s, want about 518400"
if order_http01 plain long.example.com; then ok "order without a profile completed"
else not_ok "order without a profile (last: $LAST_STATUS)"; fi
vault GET "$M/role/plain/order/$ORDER/status"
expect_jq '.data.acme_profile' '""' "an order without a profile shows acme_profile empty"
# Pebble picks a profile of its own when none is asked for, so the other profile is asked
# for explicitly to show that the role's choice is what the CA applies.
vault PUT "$M/role/ninety" '{"acme_account_name":"pebble","allowed_domains":["example.com"],
    "allowed_domain_options":["subdomains"],"acme_profile":"default"}'
expect_status 200 "role with acme_profile default"
if order_http01 ninety ninety.example.com; then ok "default-profile order completed"
else not_ok "default-profile order (last: $LAST_STATUS)"; fi
life=$(lifetime ninety "$ORDER")
[ "$life" -ge 7775000 ] && [ "$life" -le 7776000 ] && ok "the CA issued the 90-day profile ($life s)" ||
    not_ok "default-profile certificate lifetime $life s, want about 7776000"
new_order prof '{"identifiers":["reply.example.com"]}'
expect_jq '.data.acme_profile' '"shortlived"' "new-order reply shows the profile"

# A CA without profiles (Debian's Pebble 2.4): any non-empty acme_profile is a 400.
shared_tmp=$PEBBLE_TMP
source test/lib/pebble.sh
if PEBBLE_NEW=0 PEBBLE_BIN=pebble pebble_start 2>/dev/null; then
    trap e2e_cleanup EXIT
    vault PUT "$M/config/acme-account/old" "$(jq -n --arg d "$PEBBLE_DIR_URL" --rawfile ca "$PEBBLE_CA_PEM" \
        '{directory_url:$d, trusted_ca:$ca, email_contacts:["ops@example.com"]}')"
    expect_status 200 "account at Pebble 2.4 (no profiles)"
    vault PUT "$M/role/old" '{"acme_account_name":"old","allowed_domains":["example.com"],"acme_profile":"default"}'
    expect_error_mentions "offers no profiles" "acme_profile on a CA without profiles refused"
    vault PUT "$M/role/old" '{"acme_account_name":"old","allowed_domains":["example.com"]}'
    expect_status 200 "without acme_profile the role is fine there"
    pebble_stop
else
    not_ok "Debian's pebble 2.4 did not start (apt-get install pebble)"
fi
# The shared Pebble belongs to run.sh: this script must not stop it on exit.
unset -f pebble_stop
PEBBLE_TMP=$shared_tmp

e2e_finish
