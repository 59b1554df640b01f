#!/usr/bin/env bash
# test/e2e/test_unicode_names.sh: Unicode identifiers (issue 9 item 4, spec 001's last rows)
# against dev-vault + Pebble. räksmörgås.se is ordered as its A-label xn--rksmrgs-5wao1o.se
# (order, CSR, ACME identifiers, certificate) under a role allowing either spelling;
# `identifiers` reads back as sent (Terraform compares it), `acme_identifiers` shows the
# A-labels; challenges answer to both spellings; a CSR with a U-label SAN is a 400.
set -u
cd "$(dirname "$0")/../.."
# shellcheck source=test/e2e/lib.sh
source test/e2e/lib.sh
# shellcheck source=test/e2e/orders_lib.sh
source test/e2e/orders_lib.sh

e2e_start || { e2e_finish; exit 1; }
e2e_pebble_start || { e2e_finish; exit 1; }

M=$MOUNT
U=räksmörgås.se
A=xn--rksmrgs-5wao1o.se
UENC=r%C3%A4ksm%C3%B6rg%C3%A5s.se

vault PUT "$M/config/acme-account/pebble" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" \
    '{directory_url:$d, trusted_ca:$ca, email_contacts:["ops@example.com"]}')"
expect_status 200 "create acme account"
vault PUT "$M/role/ulabel" "$(jq -n --arg u "$U" '{acme_account_name:"pebble",
    allowed_domains:[$u], allowed_domain_options:["bare_domains","subdomains"],
    allowed_challenge_types:["http-01","dns-01"]}')"
expect_status 200 "role allowing the U-label"
vault PUT "$M/role/alabel" "$(jq -n --arg a "$A" '{acme_account_name:"pebble",
    allowed_domains:[$a], allowed_domain_options:["bare_domains","subdomains"],
    allowed_challenge_types:["http-01","dns-01"]}')"
expect_status 200 "role allowing the A-label"

declare -A ORD
for role in ulabel alabel; do
    vault PUT "$M/role/$role/new-order" "$(jq -n --arg u "$U" '{identifiers:[$u, ("www." + $u)]}')"
    expect_status 200 "new-order $U under role $role"
    expect_jq '.data.identifiers' "$(jq -cn --arg u "$U" '[$u, ("www." + $u)]')" "$role: identifiers read back as sent"
    expect_jq '.data.acme_identifiers' "[\"$A\",\"www.$A\"]" "$role: acme_identifiers are the A-labels"
    ORD[$role]=$(printf '%s' "$BODY" | jq -r '.data.order_id // empty')
done

ID=${ORD[ulabel]}
wait_status ulabel "$ID" awaiting-challenge-fulfillment 30 && ok "U-label order awaits fulfilment at the CA" ||
    not_ok "U-label order awaiting (last: $LAST_STATUS)"
vault GET "$M/role/ulabel/order/$ID/status"
expect_jq '.data.identifiers' "$(jq -cn --arg u "$U" '[$u, ("www." + $u)]')" "status: identifiers as sent, stable across reads"
expect_jq '.data.challenges | keys | sort' "[\"www.$A\",\"$A\"]" "status: challenges keyed by the CA's A-labels"

challenge ulabel "$ID" "$U" http-01
expect_status 200 "challenge asked with the U-label"
T1=$TOKEN
challenge ulabel "$ID" "$A" http-01
expect_status 200 "challenge asked with the A-label"
expect_jq '.data.challenge_token' "\"$T1\"" "both spellings name the same challenge"
publish "$A" http-01
fulfilled ulabel "$ID" "$U" http-01
expect_status 200 "fulfilled-challenge with the U-label"
challenge ulabel "$ID" "www.$A" dns-01
expect_jq '.data.dns_record_name' "\"_acme-challenge.www.$A\"" "dns-01 record name is the A-label"
publish "www.$A" dns-01
fulfilled ulabel "$ID" "www.$U" dns-01
expect_status 200 "fulfilled-challenge (dns-01) with the U-label"
wait_status ulabel "$ID" completed 60 && ok "U-label order completed at Pebble" ||
    not_ok "U-label order: $LAST_STATUS $(last_error ulabel "$ID")"

vault GET "$M/role/ulabel/order/$ID/fetch-cert"
expect_status 200 "fetch-cert"
SANS=$(printf '%s' "$BODY" | jq -r .data.certificate | openssl x509 -noout -ext subjectAltName 2>/dev/null | tail -1 | tr -d ' ')
[ "$SANS" = "DNS:$A,DNS:www.$A" ] || [ "$SANS" = "DNS:www.$A,DNS:$A" ] &&
    ok "certificate SANs are the A-labels ($SANS)" || not_ok "certificate SANs: $SANS"
vault GET "$M/role/ulabel/order/$ID/status"
expect_jq '.data.identifiers' "$(jq -cn --arg u "$U" '[$u, ("www." + $u)]')" "completed order: identifiers still as sent"
vault GET "$M/lookup/order/$ID"
expect_jq '.data.acme_identifiers' "[\"$A\",\"www.$A\"]" "lookup/order shows the A-labels too"
vault GET "$M/role/ulabel/cached?identifiers=$UENC,www.$UENC&min_validity_percentage=10"
expect_status 200 "cached finds the certificate by the U-labels"
vault GET "$M/role/ulabel/cached?identifiers=$A,www.$A&min_validity_percentage=10"
expect_status 200 "cached finds the certificate by the A-labels"

vault PUT "$M/role/ulabel/new-order" "$(jq -n --arg u "$U" --arg a "$A" '{identifiers:[$u, $a]}')"
expect_error_mentions "listed twice" "the U-label and its A-label in one order are the same name"
vault PUT "$M/role/ulabel/new-order" '{"identifiers":["r\u00e4ks\u200bm\u00f6rg.se"]}'
expect_error_mentions identifiers "an invalid IDN is a 400 naming identifiers"
vault PUT "$M/role/ulabel/new-order" '{"identifiers":["bücher.example"]}'
expect_error_mentions identifiers "a Unicode name outside the role is refused"

openssl ecparam -name prime256v1 -genkey -noout -out "$E2E_TMP/k.pem" 2>/dev/null
openssl req -new -key "$E2E_TMP/k.pem" -subj "/CN=$U" -addext "subjectAltName=DNS:$U" \
    -out "$E2E_TMP/u.csr" 2>/dev/null
vault PUT "$M/role/ulabel/new-order" "$(jq -n --rawfile c "$E2E_TMP/u.csr" '{csr:$c}')"
expect_error_mentions "csr: a dns name in subject alternative names is a Unicode name (U-label)" \
    "a CSR with a U-label SAN is a 400 naming csr and saying why"
openssl req -new -key "$E2E_TMP/k.pem" -subj "/CN=$A" -addext "subjectAltName=DNS:$A" \
    -out "$E2E_TMP/a.csr" 2>/dev/null
vault PUT "$M/role/ulabel/new-order" "$(jq -n --rawfile c "$E2E_TMP/a.csr" '{csr:$c}')"
expect_status 200 "a CSR with the A-label passes the U-label role"
vault LIST "$M/lookup/orders"
[ "$(printf '%s' "$BODY" | jq '.data.keys | length')" = 3 ] && ok "refused orders stored nothing (3 orders)" ||
    not_ok "orders after refusals: $BODY"

e2e_finish
