#!/usr/bin/env bash
# test/e2e/test_orders.sh: certificate orders end to end against dev-vault + Pebble:
# both workflows, all three challenge types (fulfilled through challtestsrv), fetch-cert
# formats, revoke, lookups, cached, bad input on every endpoint (400 naming the field,
# nothing half-stored), concurrency, the Terraform destroy sequence, and crash safety
# (SIGKILL of the plugin after each transition; the order still completes, one CA order).
set -u
cd "$(dirname "$0")/../.."
# shellcheck source=test/e2e/lib.sh
source test/e2e/lib.sh

e2e_start || { e2e_finish; exit 1; }
e2e_pebble_start || { e2e_finish; exit 1; }

M=$MOUNT
ROLE=web
ACCT=pebble

# ---- helpers -----------------------------------------------------------------------------

# order_status, wait_status, new_order (and helpers this script redefines below)
# shellcheck source=test/e2e/orders_lib.sh
source test/e2e/orders_lib.sh

# challenge ROLE ID IDENT TYPE: GET with query parameters (as Terraform sends them); sets
# TOKEN, KEYAUTH, DNSVAL.
challenge() {
    vault GET "$M/role/$1/order/$2/challenge?challenge_type=$4&identifier=$3"
    TOKEN=$(printf '%s' "$BODY" | jq -r '.data.challenge_token // empty')
    KEYAUTH=$(printf '%s' "$BODY" | jq -r '.data.challenge_auth // empty')
    DNSVAL=$(printf '%s' "$BODY" | jq -r '.data.dns_record_value // empty')
}

cts() { curl -sS -o /dev/null -X POST "$CHALLTESTSRV_URL/$1" -d "$2"; }

# publish IDENT TYPE: puts the challenge (TOKEN/KEYAUTH/DNSVAL from `challenge`) in place.
publish() {
    local ident=$1 type=$2 base=${1#\*.}
    case "$type" in
        http-01) cts add-http01 "{\"token\":\"$TOKEN\",\"content\":\"$KEYAUTH\"}" ;;
        dns-01) cts set-txt "{\"host\":\"_acme-challenge.$base.\",\"value\":\"$DNSVAL\"}" ;;
        tls-alpn-01) cts add-tlsalpn01 "{\"host\":\"$base\",\"content\":\"$KEYAUTH\"}" ;;
    esac
}

fulfilled() {   # ROLE ID IDENT TYPE
    vault PUT "$M/role/$1/order/$2/fulfilled-challenge" \
        "{\"identifier\":\"$3\",\"challenge_type\":\"$4\"}"
}

# complete_order ROLE ID TYPE IDENT...: publish + fulfil every identifier, wait completed.
complete_order() {
    local role=$1 id=$2 type=$3; shift 3
    local ident
    for ident in "$@"; do
        challenge "$role" "$id" "$ident" "$type"
        publish "$ident" "$type"
        fulfilled "$role" "$id" "$ident" "$type"
    done
    wait_status "$role" "$id" completed 30
}

# Number of orders Pebble has created (one log line per order added to its db; a newOrder
# re-sent after badNonce is not counted twice).
ca_orders() { grep -c 'Added order "' "$PEBBLE_TMP/pebble.log" 2>/dev/null || true; }

count_orders() {
    vault LIST "$M/lookup/orders"
    if [ "$STATUS" = 200 ]; then printf '%s' "$BODY" | jq '.data.keys | length'; else echo 0; fi
}

# ---- account and role ----------------------------------------------------------------------

vault PUT "$M/config/acme-account/$ACCT" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" \
    '{directory_url:$d, trusted_ca:$ca, email_contacts:["ops@example.com"], key_type:"ec-256"}')"
expect_status 200 "create acme account"
vault PUT "$M/role/$ROLE" "$(jq -n --arg a "$ACCT" '{acme_account_name:$a,
    allowed_domains:["example.com"], allowed_domain_options:["bare_domains","subdomains","wildcards"],
    allowed_challenge_types:["http-01","dns-01","tls-alpn-01"]}')"
expect_status 200 "create role"
vault PUT "$M/role/httponly" "$(jq -n --arg a "$ACCT" '{acme_account_name:$a,
    allowed_domains:["example.org"], allowed_domain_options:["subdomains"],
    allowed_challenge_types:["http-01"], csr_generate_key_type:"rsa-2048"}')"
expect_status 200 "create role httponly (rsa-2048 keys, http-01 only)"

# An exact-match role (spec 001's table, row 2: no allowed_domain_options) allows its own
# names and nothing else (issue 9 item 6: new-order answered 400 for the listed name).
vault PUT "$M/role/exact" "$(jq -n --arg a "$ACCT" '{acme_account_name:$a,
    allowed_domains:["foo.example.com"], allowed_challenge_types:["http-01"]}')"
expect_status 200 "create role exact (allowed_domains foo.example.com, no options)"
new_order exact '{"identifiers":["foo.example.com"]}'
expect_status 200 "exact role: new-order for foo.example.com is accepted"
vault PUT "$M/role/exact/new-order" '{"identifiers":["example.com"]}'
expect_error_mentions identifiers "exact role: the parent example.com is refused"
vault PUT "$M/role/exact/new-order" '{"identifiers":["a.foo.example.com"]}'
expect_error_mentions identifiers "exact role: a subdomain is refused"
vault DELETE "$M/role/exact?force=true"
expect_2xx "delete role exact (force)"

# ---- identifier workflow, http-01 ------------------------------------------------------------

t0=$(now_ms)
new_order $ROLE '{"identifiers":["www.example.com","api.example.com"]}'
expect_status 200 "new-order (identifiers)"
expect_true '.data.order_id | type == "string" and test("^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")' \
    "new-order: order_id is a UUIDv7 string"
expect_jq '.data.identifiers' '["www.example.com","api.example.com"]' "new-order: identifiers echoed in order"
expect_jq '.data.workflow_type' '"identifiers"' "new-order: workflow_type"
ID1=$ORDER

vault GET "$M/role/$ROLE/order/$ID1/status"
expect_status 200 "status right after new-order"
expect_true "[.data.creation_date, .data.next_work_date, .data.last_update, .data.expires] | all(test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$\"))" \
    "status: the four dates are RFC 3339 from the first read"
expect_jq '.data.csr' '""' "status: csr is \"\" for identifier orders"
expect_jq '.data.identifiers' '["www.example.com","api.example.com"]' "status: identifiers from the first read"
expect_jq '[.data.role_name, .data.last_error, .data.serial_number]' '["web","",""]' "status: role_name, empty last_error and serial"
CREATED1=$(printf '%s' "$BODY" | jq -r .data.creation_date)

# State reached within a generous bound; how fast is for the benchmark (make bench), not
# for a test that shares two cores with other suites.
if wait_status $ROLE "$ID1" awaiting-challenge-fulfillment 60; then
    ok "new-order -> awaiting-challenge-fulfillment within 60 s ($(( $(now_ms) - t0 )) ms)"
else
    not_ok "new-order -> awaiting-challenge-fulfillment (last: $LAST_STATUS) $BODY"
fi
vault GET "$M/role/$ROLE/order/$ID1/status"
expect_true '.data.challenges | (keys | sort) == ["api.example.com","www.example.com"]' "status: challenges keyed by identifier"
expect_true '[.data.challenges[][] | to_entries[] | .value | type] | all(. == "string")' \
    "status: every value inside challenges entries is a string"
expect_true '[.data.challenges["www.example.com"][].challenge_type] | sort == ["dns-01","http-01","tls-alpn-01"]' \
    "status: all three challenge types offered"
expect_true '.data.authorizations | length == 2' "status: spec-000 authorizations view"
expect_jq '.data.creation_date' "\"$CREATED1\"" "status: creation_date stable"

challenge $ROLE "$ID1" www.example.com http-01
expect_status 200 "challenge GET with query parameters"
expect_true '.data | .challenge_token as $t | ($t|length>0) and (.challenge_auth|startswith($t + ".")) and (.challenge_status=="pending") and (.expires|test("Z$"))' \
    "challenge: token, key authorization, status, expires"
BEFORE_CHALLENGE=$(printf '%s' "$BODY" | jq -c '.data | {challenge_token, challenge_auth}')
vault GET "$M/role/$ROLE/order/$ID1/challenges?challenge_type=http-01&identifier=www.example.com"
expect_status 200 "challenge alias /challenges"
# The spec-000 sample is `curl --data @payload.json` without --request: a POST with a body.
vault POST "$M/role/$ROLE/order/$ID1/challenge" '{"identifier":"www.example.com","challenge_type":"http-01"}'
expect_status 200 "challenge with a JSON body (spec 000 sample)"
expect_true '.data.authorizations[0].challenges | length == 3' "challenge: spec-000 authorizations view"

t0=$(now_ms)
for ident in www.example.com api.example.com; do
    challenge $ROLE "$ID1" $ident http-01
    publish $ident http-01
    fulfilled $ROLE "$ID1" $ident http-01
    expect_2xx "fulfilled-challenge $ident"
done
if wait_status $ROLE "$ID1" completed 60; then
    ok "fulfilled-challenge -> completed within 60 s ($(( $(now_ms) - t0 )) ms)"
else
    not_ok "order $ID1 completed (last: $LAST_STATUS): $BODY"
fi
vault GET "$M/role/$ROLE/order/$ID1/status"
expect_true '.data.serial_number | test("^[0-9a-f]{2}(:[0-9a-f]{2})+$")' "status: serial_number after completion"
expect_jq '.data.next_work_date' '"0001-01-01T00:00:00Z"' "status: no next work after completion"
SERIAL1=$(printf '%s' "$BODY" | jq -r .data.serial_number)

vault GET "$M/role/$ROLE/order/$ID1/fetch-cert"
expect_status 200 "fetch-cert (pem)"
expect_true '.data | (.certificate|startswith("-----BEGIN CERTIFICATE-----")) and (.ca_chain|type=="array" and length>=1) and (.private_key|test("PRIVATE KEY")) and .private_key_type=="ec" and (.serial_number|length>0) and (.issuing_ca|startswith("-----BEGIN")) and .certificate_format=="pem" and (.not_after|test("Z$")) and (.expiration|type=="number")' \
    "fetch-cert: certificate, ca_chain array, private key, serial, dates"
FETCH1=$BODY
printf '%s' "$BODY" | jq -r .data.certificate > "$E2E_TMP/cert1.pem"
printf '%s' "$BODY" | jq -r .data.private_key > "$E2E_TMP/key1.pem"
if [ "$(openssl x509 -in "$E2E_TMP/cert1.pem" -noout -pubkey 2>/dev/null | sha256sum)" = \
     "$(openssl pkey -in "$E2E_TMP/key1.pem" -pubout 2>/dev/null | sha256sum)" ]; then
    ok "fetch-cert: private key matches the certificate"
else not_ok "fetch-cert: private key does not match the certificate"; fi
sans=$(openssl x509 -in "$E2E_TMP/cert1.pem" -noout -ext subjectAltName 2>/dev/null | tr -d ' \n')
case "$sans" in *DNS:www.example.com*DNS:api.example.com*|*DNS:api.example.com*DNS:www.example.com*) ok "certificate SANs carry both identifiers" ;;
    *) not_ok "certificate SANs: $sans" ;; esac
vault GET "$M/role/$ROLE/order/$ID1/fetch-cert"
if [ "$(printf '%s' "$BODY" | jq -c .data)" = "$(printf '%s' "$FETCH1" | jq -c .data)" ]; then ok "fetch-cert is repeatable, identical"; else not_ok "fetch-cert differs on the second call"; fi
vault GET "$M/role/$ROLE/order/$ID1/fetch-cert?certificate_format="
expect_status 200 "fetch-cert with certificate_format= (empty is the default pem)"
if [ "$(printf '%s' "$BODY" | jq -c .data)" = "$(printf '%s' "$FETCH1" | jq -c .data)" ]; then ok "certificate_format= answers as pem"; else not_ok "certificate_format= differs from pem"; fi
vault GET "$M/role/$ROLE/order/$ID1/fetch-cert?certificate_format=der"
expect_status 200 "fetch-cert (der)"
printf '%s' "$BODY" | jq -r .data.certificate | base64 -d > "$E2E_TMP/cert1.der" 2>/dev/null
if openssl x509 -inform der -in "$E2E_TMP/cert1.der" -noout 2>/dev/null; then ok "der: certificate is base64 DER"
else not_ok "der: certificate is not base64 DER"; fi
vault GET "$M/role/$ROLE/order/$ID1/fetch-cert?certificate_format=pem_bundle"
expect_status 200 "fetch-cert (pem_bundle)"
expect_true '.data.certificate | [scan("BEGIN CERTIFICATE")] | length >= 2' "pem_bundle: certificate followed by its chain"

challenge $ROLE "$ID1" www.example.com http-01
expect_status 200 "challenge GET after completion"
expect_jq '.data | {challenge_token, challenge_auth}' "$BEFORE_CHALLENGE" "challenge: token and auth unchanged after completion"

# ---- lookups ---------------------------------------------------------------------------------

vault GET "$M/lookup/cert/$SERIAL1"
expect_status 200 "lookup/cert with colons"
expect_jq '.data | [.order_id, .order_status, .role_name]' "[\"$ID1\",\"completed\",\"web\"]" "lookup/cert: order, status, role"
expect_true '.data | (.not_before|test("Z$")) and (.not_after|test("Z$"))' "lookup/cert: validity dates"
vault GET "$M/lookup/cert/${SERIAL1//:/-}"
expect_status 200 "lookup/cert with hyphens"
vault GET "$M/lookup/order/$ID1"
expect_status 200 "lookup/order"
expect_jq '.data | [.order_id, .order_status, .role_name, .serial_number]' "[\"$ID1\",\"completed\",\"web\",\"$SERIAL1\"]" "lookup/order: the status fields"
vault LIST "$M/lookup/orders"
expect_status 200 "lookup/orders LIST"
expect_true ".data.keys | index(\"$ID1\") != null" "lookup/orders lists the order"
vault LIST "$M/lookup/orders/recent?within=2h"
expect_status 200 "lookup/orders/recent"
expect_true ".data.keys[0] == \"$(printf '%s' "$ID1")\" or (.data.keys | index(\"$ID1\") != null)" "recent: lists the order"
expect_true ".data.key_info[\"$ID1\"] | .order_status == \"completed\" and .role_name == \"web\"" "recent: key_info"
expect_true '.data.keys == (.data.keys | sort | reverse)' "recent: newest first"
vault LIST "$M/role/$ROLE/active-orders"
case "$STATUS" in
    404) ok "active-orders: none after completion (404)" ;;
    200) expect_true ".data.keys | index(\"$ID1\") == null" "active-orders: completed order not listed" ;;
    *) not_ok "active-orders: HTTP $STATUS" ;;
esac
vault GET "$M/role/$ROLE/cached?identifiers=api.example.com,www.example.com&min_validity_percentage=50"
expect_status 200 "cached: the completed identifier order"
expect_jq '.data.serial_number' "\"$SERIAL1\"" "cached: same certificate"
vault GET "$M/role/$ROLE/cached?identifiers=api.example.com,www.example.com&min_validity_duration=87600h"
expect_status 404 "cached: 404 when nothing has that much validity left"
vault GET "$M/role/$ROLE/cached?identifiers=other.example.com&min_validity_percentage=1"
expect_status 404 "cached: 404 for other identifiers"

# ---- dns-01 with a wildcard, tls-alpn-01 -------------------------------------------------------

new_order $ROLE '{"identifiers":["*.example.com","dns.example.com"]}'
expect_status 200 "new-order with a wildcard"
ID2=$ORDER
wait_status $ROLE "$ID2" awaiting-challenge-fulfillment 10 || not_ok "dns order awaiting (last $LAST_STATUS)"
challenge $ROLE "$ID2" '*.example.com' dns-01
expect_true '.data | (.dns_record_value|length==43) and .dns_record_name=="_acme-challenge.example.com"' "dns-01: TXT name and value"
if complete_order $ROLE "$ID2" dns-01 '*.example.com' dns.example.com; then ok "dns-01 order completed"
else not_ok "dns-01 order completed (last: $LAST_STATUS) $BODY"; fi

new_order $ROLE '{"identifiers":["alpn.example.com"]}'
ID3=$ORDER
wait_status $ROLE "$ID3" awaiting-challenge-fulfillment 10 || true
if complete_order $ROLE "$ID3" tls-alpn-01 alpn.example.com; then ok "tls-alpn-01 order completed"
else not_ok "tls-alpn-01 order completed (last: $LAST_STATUS) $BODY"; fi

# RSA role (rsa-2048 keys)
new_order httponly '{"identifiers":["rsa.example.org"]}'
ID4=$ORDER
wait_status httponly "$ID4" awaiting-challenge-fulfillment 10 || true
if complete_order httponly "$ID4" http-01 rsa.example.org; then ok "rsa-2048 role order completed"
else not_ok "rsa-2048 role order completed (last: $LAST_STATUS)"; fi
vault GET "$M/role/httponly/order/$ID4/fetch-cert"
expect_jq '.data.private_key_type' '"rsa"' "rsa role: private_key_type rsa"

# ---- CSR workflow ----------------------------------------------------------------------------

openssl req -new -newkey rsa:2048 -nodes -keyout "$E2E_TMP/csr.key" -out "$E2E_TMP/csr.pem" \
    -subj /CN=www.example.com -addext "subjectAltName=DNS:www.example.com,DNS:example.com" 2>/dev/null
CSR=$(cat "$E2E_TMP/csr.pem"; printf x); CSR=${CSR%x}
new_order $ROLE "$(jq -n --arg c "$CSR" '{csr:$c}')"
expect_status 200 "new-order (csr)"
ID5=$ORDER
vault GET "$M/role/$ROLE/order/$ID5/status"
expect_jq '.data.identifiers' '["www.example.com","example.com"]' "csr order: identifiers (CN and SANs, deduplicated) from the first read"
expect_true ".data.csr == $(json_str "$CSR")" "csr order: csr byte for byte"
expect_jq '.data.workflow_type' '"csr"' "csr order: workflow_type"
wait_status $ROLE "$ID5" awaiting-challenge-fulfillment 10 || true
if complete_order $ROLE "$ID5" http-01 www.example.com example.com; then ok "csr order completed"
else not_ok "csr order completed (last: $LAST_STATUS) $BODY"; fi
vault GET "$M/role/$ROLE/order/$ID5/fetch-cert"
expect_true '.data | (.private_key // "") == "" and (.certificate|length>0) and (.ca_chain|type=="array")' "csr fetch-cert: no private key"
printf '%s' "$BODY" | jq -r .data.certificate > "$E2E_TMP/cert5.pem"
if [ "$(openssl x509 -in "$E2E_TMP/cert5.pem" -noout -pubkey | sha256sum)" = "$(openssl pkey -in "$E2E_TMP/csr.key" -pubout | sha256sum)" ]; then
    ok "csr order: certificate carries the CSR's key"
else not_ok "csr order: certificate key differs from the CSR's"; fi

# ---- revoke -------------------------------------------------------------------------------------

vault PUT "$M/role/$ROLE/order/$ID3/revoke" '{"reason":"bogus"}'
expect_error_mentions reason "revoke: unknown reason refused"
vault PUT "$M/role/$ROLE/order/$ID3/revoke" '{"reason":"key-compromise"}'
expect_status 200 "revoke (hyphen spelling)"
expect_true '.data.revoked == true and (.data.revocation_time|test("Z$"))' "revoke: reply"
expect_jq "$(printf '%s' '.data.order_status')" '"revoked"' "revoke: order_status revoked"
[ "$(order_status $ROLE "$ID3")" = revoked ] && ok "status after revoke is revoked" || not_ok "status after revoke"
vault PUT "$M/role/$ROLE/order/$ID3/revoke" '{"reason":"key_compromise"}'
expect_status 200 "revoke again (underscore spelling) is idempotent"
vault PUT "$M/role/$ROLE/order/$ID2/revoke" '{"reason":""}'
expect_status 200 "revoke with reason \"\" (the default)"
expect_jq .data.reason '"unspecified"' "revoke: reason \"\" is unspecified"
vault PUT "$M/role/$ROLE/order/$ID2/revoke" '{}'
expect_status 200 "revoke with the default reason"

# ---- a challenge that fails ends in error with an actionable last_error ------------------------

new_order $ROLE '{"identifiers":["nothere.example.com"]}'
IDF=$ORDER
wait_status $ROLE "$IDF" awaiting-challenge-fulfillment 10 || true
fulfilled $ROLE "$IDF" nothere.example.com http-01   # nothing published
if wait_status $ROLE "$IDF" error 30; then ok "unpublished challenge -> error"; else not_ok "unpublished challenge -> error (last $LAST_STATUS)"; fi
vault GET "$M/role/$ROLE/order/$IDF/status"
expect_true '.data.last_error | test("http-01") and test("nothere.example.com")' "last_error names the challenge and identifier"
fulfilled $ROLE "$IDF" nothere.example.com http-01
expect_error_mentions order_id "fulfilled-challenge on a failed order is refused"

# ---- bad input on every endpoint (400 naming the field, nothing stored) ------------------------

before=$(count_orders)
vault PUT "$M/role/$ROLE/new-order" '{}'
expect_error_mentions identifiers "new-order: neither identifiers nor csr"
vault PUT "$M/role/$ROLE/new-order" "$(jq -n --arg c "$CSR" '{csr:$c, identifiers:["a.example.com"]}')"
expect_error_mentions csr "new-order: both identifiers and csr"
vault PUT "$M/role/$ROLE/new-order" '{"identifiers":["evil.com"]}'
expect_error_mentions identifiers "new-order: identifier outside the role"
vault PUT "$M/role/$ROLE/new-order" '{"identifiers":["a.example.com","a.example.com"]}'
expect_error_mentions identifiers "new-order: duplicate identifier"
vault PUT "$M/role/$ROLE/new-order" '{"identifiers":["10.0.0.1"]}'
expect_error_mentions identifiers "new-order: IP identifier"
vault PUT "$M/role/httponly/new-order" '{"identifiers":["*.example.org"]}'
expect_error_mentions identifiers "new-order: wildcard without dns-01 in the role"
vault PUT "$M/role/$ROLE/new-order" '{"csr":"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"}'
expect_error_mentions csr "new-order: malformed csr"
vault PUT "$M/role/nosuchrole/new-order" '{"identifiers":["a.example.com"]}'
expect_not_found "role nosuchrole" "new-order: unknown role is a 404 naming it"
after=$(count_orders)
[ "$before" = "$after" ] && ok "refused new-orders stored nothing ($after orders)" || not_ok "refused new-orders stored orders: $before -> $after"

vault GET "$M/role/$ROLE/order/$ID1/challenge?identifier=www.example.com"
expect_error_mentions challenge_type "challenge: missing challenge_type"
vault GET "$M/role/$ROLE/order/$ID1/challenge?identifier=www.example.com&challenge_type=http-02"
expect_error_mentions challenge_type "challenge: unknown challenge_type"
vault GET "$M/role/$ROLE/order/$ID1/challenge?identifier=nope.example.com&challenge_type=http-01"
expect_error_mentions identifier "challenge: identifier not in the order"

# ---- an object that does not exist: 404 naming it, whatever the method ---------------------
# (issue 9 item 5: a write to a missing order answered 204, "Success!" in the CLI)
NOID=01936d8e-7c3a-7890-b123-456789abcdef
vault GET "$M/role/$ROLE/order/$NOID/challenge?identifier=a&challenge_type=http-01"
expect_not_found "order $NOID" "challenge: unknown order"
vault GET "$M/role/httponly/order/$ID1/status"
expect_not_found "order $ID1" "status: order of another role is not found"
vault GET "$M/role/$ROLE/order/not-a-uuid/status"
expect_not_found "order not-a-uuid" "status: malformed order id"
vault GET "$M/role/$ROLE/order/$NOID/status"
expect_not_found "order $NOID" "status: unknown order"
vault GET "$M/role/$ROLE/order/$NOID/fetch-cert"
expect_not_found "order $NOID" "fetch-cert: unknown order"
vault PUT "$M/role/$ROLE/order/$NOID/fulfilled-challenge" '{"challenge_type":"http-01","identifier":"www.example.com"}'
expect_not_found "order $NOID" "fulfilled-challenge (PUT): unknown order"
vault POST "$M/role/$ROLE/order/$NOID/fulfilled-challenge" '{"challenge_type":"http-01","identifier":"www.example.com"}'
expect_not_found "order $NOID" "fulfilled-challenge (POST): unknown order"
vault PUT "$M/role/$ROLE/order/$NOID/revoke" '{}'
expect_not_found "order $NOID" "revoke: unknown order"
vault POST "$M/role/$ROLE/order/$NOID/challenge" '{"challenge_type":"http-01","identifier":"www.example.com"}'
expect_not_found "order $NOID" "challenge (POST): unknown order"
vault GET "$M/lookup/order/$NOID"
expect_not_found "order $NOID" "the refused writes stored no order"
vault PUT "$M/role/nosuchrole/order/$ID1/revoke" '{}'
expect_not_found "order $ID1" "revoke under a role that does not exist"
vault PUT "$M/role/nosuchrole/order/$ID1/fulfilled-challenge" '{"challenge_type":"http-01","identifier":"www.example.com"}'
expect_not_found "order $ID1" "fulfilled-challenge under a role that does not exist"
vault GET "$M/role/nosuchrole/order/$ID1/status"
expect_not_found "nosuchrole" "status under a role that does not exist"
vault LIST "$M/role/nosuchrole/active-orders"
expect_not_found "role nosuchrole" "active-orders (LIST) of a role that does not exist"
vault GET "$M/role/nosuchrole/active-orders"
expect_not_found "role nosuchrole" "active-orders (GET) of a role that does not exist"
vault GET "$M/role/nosuchrole/cached?identifiers=www.example.com&min_validity_percentage=10"
expect_not_found "role nosuchrole" "cached (GET) of a role that does not exist"
vault POST "$M/role/nosuchrole/cached" '{"identifiers":"www.example.com","min_validity_percentage":10}'
expect_not_found "role nosuchrole" "cached (POST) of a role that does not exist"
vault POST "$M/role/$ROLE/cached" '{"identifiers":"other.example.com","min_validity_percentage":1}'
expect_not_found "role $ROLE has no cached certificate" "cached (POST): nothing qualifies is a 404, not 204"
vault GET "$M/role/nosuchrole"
expect_not_found "role nosuchrole" "read of a role that does not exist"
vault PUT "$M/config/acme-account/nosuchacct/rotate-key" '{}'
expect_not_found "account nosuchacct" "rotate-key of an account that does not exist"
vault GET "$M/config/acme-account/nosuchacct"
expect_not_found "account nosuchacct" "read of an account that does not exist"
vault DELETE "$M/role/nosuchrole"
expect_2xx "delete of a role that does not exist still succeeds (Terraform destroy)"
vault DELETE "$M/config/acme-account/nosuchacct"
expect_2xx "delete of an account that does not exist still succeeds"
vault PUT "$M/role/$ROLE/order/$ID1/fulfilled-challenge" '{"identifier":"www.example.com"}'
expect_error_mentions challenge_type "fulfilled-challenge: missing challenge_type"
vault PUT "$M/role/$ROLE/order/$ID1/fulfilled-challenge" '{"challenge_type":"http-01","identifier":"zzz.example.com"}'
expect_error_mentions identifier "fulfilled-challenge: identifier not in the order"
vault GET "$M/role/$ROLE/order/$ID1/fetch-cert?certificate_format=p12"
expect_error_mentions certificate_format "fetch-cert: unknown format"
vault GET "$M/role/$ROLE/order/$IDF/fetch-cert"
expect_error_mentions order_id "fetch-cert: order without a certificate"
vault PUT "$M/role/$ROLE/order/$IDF/revoke" '{}'
expect_error_mentions order_id "revoke: order without a certificate"
vault GET "$M/role/$ROLE/cached?min_validity_percentage=10"
expect_error_mentions identifiers "cached: missing identifiers"
vault GET "$M/role/$ROLE/cached?identifiers=www.example.com&min_validity_percentage=10&min_validity_duration=1h"
expect_error_mentions min_validity "cached: both validity limits"
vault GET "$M/role/$ROLE/cached?identifiers=www.example.com&min_validity_percentage=120"
expect_error_mentions min_validity_percentage "cached: percentage over 100"
vault GET "$M/lookup/cert/zz:zz"
expect_error_mentions serial "lookup/cert: not hex"
vault GET "$M/lookup/cert/01:02:03"
expect_not_found "certificate" "lookup/cert: unknown serial"
vault GET "$M/lookup/order/01936d8e-7c3a-7890-b123-456789abcdef"
expect_not_found "order 01936d8e" "lookup/order: unknown order"
vault LIST "$M/lookup/orders/recent?within=10m"
expect_error_mentions within "recent: within below 1h"
vault LIST "$M/lookup/orders/recent?within=200h"
expect_error_mentions within "recent: within above 168h"

# ---- concurrency: 50 orders at once, two fulfilled-challenge calls racing -----------------------

seq 1 50 | xargs -P 50 -I{} curl -sS -o "$E2E_TMP/par.{}" -X PUT -H "X-Vault-Token: $VAULT_TOKEN" \
    -d '{"identifiers":["p{}.example.com"]}' "$VAULT_ADDR/v1/$M/role/$ROLE/new-order"
n_ok=0; PAR_IDS=()
for i in $(seq 1 50); do
    id=$(jq -r '.data.order_id // empty' "$E2E_TMP/par.$i" 2>/dev/null)
    [ -n "$id" ] && { n_ok=$((n_ok + 1)); PAR_IDS+=("$id"); }
done
[ "$n_ok" = 50 ] && ok "50 parallel new-orders answered with ids" || not_ok "parallel new-orders: $n_ok of 50"
n_await=0
for id in "${PAR_IDS[@]}"; do wait_status $ROLE "$id" awaiting-challenge-fulfillment 20 && n_await=$((n_await + 1)); done
[ "$n_await" = "${#PAR_IDS[@]}" ] && ok "all parallel orders reached awaiting" || not_ok "parallel orders awaiting: $n_await"
vault LIST "$M/role/$ROLE/active-orders"
expect_true '.data.keys | length >= 50' "active-orders lists the parallel orders"
vault LIST "$M/lookup/orders/recent"
expect_true '(.data.keys | length >= 55) and .data.keys == (.data.keys | sort | reverse)' "recent (default 1h): every order, newest first"
expect_true "(.data.key_info | length) == (.data.keys | length)" "recent: key_info for every key"

id=${PAR_IDS[0]}
challenge $ROLE "$id" p1.example.com http-01
publish p1.example.com http-01
RACE=()
for k in 1 2; do
    curl -sS -o "$E2E_TMP/race.$k" -w '%{http_code}' -X PUT -H "X-Vault-Token: $VAULT_TOKEN" \
        -d '{"identifier":"p1.example.com","challenge_type":"http-01"}' \
        "$VAULT_ADDR/v1/$M/role/$ROLE/order/$id/fulfilled-challenge" > "$E2E_TMP/race.code.$k" &
    RACE+=($!)
done
wait "${RACE[@]}"
[ "$(cat "$E2E_TMP/race.code.1")$(cat "$E2E_TMP/race.code.2")" = 200200 ] && ok "two racing fulfilled-challenge calls both answered 200" \
    || not_ok "racing fulfilled-challenge: $(cat "$E2E_TMP"/race.code.*)"
if wait_status $ROLE "$id" completed 30; then ok "raced order completed"; else not_ok "raced order completed (last $LAST_STATUS)"; fi

# ---- crash safety: SIGKILL the plugin after each transition -------------------------------------

# The plugin process the host launched for this test (a child of the server).
plugin_pid() { host_plugin_pids vault-plugin-secrets-pki-external-ca | head -1; }
# SIGKILLs the plugin and waits until the host serves the mount again. A request that races
# the host noticing the death gets a raw gRPC Unavailable (500) from Vault and OpenBao
# alike; what these tests check is that the plugin's work survives, so the next request of
# a test is sent once a plain read answers (that read also relaunches the plugin).
# Every plugin process of the host is killed: a relaunch racing the last kill may have left
# two, and a survivor would finish the work these tests expect a relaunched plugin to heal.
kill_plugin() {
    local pid p; pid=$(plugin_pid)
    if [ -n "$pid" ]; then
        local all; all=$(host_plugin_pids vault-plugin-secrets-pki-external-ca)
        for p in $all; do kill -KILL "$p" 2>/dev/null; done
        for p in $all; do wait_gone "$p"; done
        for _ in $(seq 1 100); do
            vault GET "$M/role/$ROLE"
            case "$STATUS" in 5*|000) sleep 0.1 ;; *) break ;; esac
        done
        echo "$pid"
    fi
}
wait_gone() { for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done; }

# crash_case NAME WHEN: kill right after the order reaches each state in turn. WHEN "new"
# kills as soon as new-order answers, while the worker may be talking to the CA; WHEN
# "submitted" first waits until the CA's order URL is stored. Either way exactly one CA
# order: a kill between the CA creating the order and the plugin storing its URL is healed
# by the relaunched plugin finding that order in the account's orders list (Pebble has it).
crash_case() {
    local ca0 ca1 id pid
    ca0=$(ca_orders)
    new_order $ROLE '{"identifiers":["crash-'"$1"'.example.com"]}'
    id=$ORDER
    if [ "$2" = submitted ]; then
        for _ in $(seq 1 100); do
            case "$(order_status $ROLE "$id")" in new|"") sleep 0.02 ;; *) break ;; esac
        done
    fi
    pid=$(kill_plugin)
    [ -n "$pid" ] && ok "crash $1: killed plugin $pid after new-order" || not_ok "crash $1: no plugin process found"
    if wait_status $ROLE "$id" awaiting-challenge-fulfillment 90; then ok "crash $1: order reached awaiting after relaunch"
    else not_ok "crash $1: awaiting after relaunch (last $LAST_STATUS)"; return; fi
    kill_plugin >/dev/null
    challenge $ROLE "$id" "crash-$1.example.com" http-01
    expect_status 200 "crash $1: challenge after relaunch"
    publish "crash-$1.example.com" http-01
    fulfilled $ROLE "$id" "crash-$1.example.com" http-01
    kill_plugin >/dev/null   # right after fulfilled-challenge was stored
    if wait_status $ROLE "$id" completed 90; then ok "crash $1: order completed after relaunch"
    else not_ok "crash $1: completed after relaunch (last $LAST_STATUS)"; fi
    kill_plugin >/dev/null
    vault GET "$M/role/$ROLE/order/$id/fetch-cert"
    expect_true '.data.private_key | test("PRIVATE KEY")' "crash $1: key survived"
    ca1=$(ca_orders)
    [ $((ca1 - ca0)) = 1 ] && ok "crash $1: exactly one CA order" || not_ok "crash $1: $((ca1 - ca0)) CA orders"
}
crash_case a new
crash_case b submitted

# Kill inside the window: the CA is frozen (SIGSTOP) while the worker sends newOrder on its
# warm connection, the plugin is killed before any reply, then the CA thaws and creates the
# order for a client that is gone. The relaunched plugin must find that CA order in the
# account's orders list and adopt it rather than place a second one.
new_order $ROLE '{"identifiers":["crash-warm.example.com"]}'   # warms the worker's connection
wait_status $ROLE "$ORDER" awaiting-challenge-fulfillment 30 || true
ca0=$(ca_orders)
PEBBLE_NOW=$(cat "$PEBBLE_TMP/pebble.pid")
kill -STOP "$PEBBLE_NOW"
new_order $ROLE '{"identifiers":["crash-e.example.com","www.crash-e.example.com"]}'
ide=$ORDER
# Wait until the worker's request sits unread at the frozen CA (bytes queued on Pebble's
# side of a connection: the warm connection's first request is the newOrder), however long
# a loaded machine takes to get there; a fixed sleep missed the window and let the
# relaunched plugin place the order itself.
pebble_port=${PEBBLE_DIR_URL#https://127.0.0.1:}; pebble_port=${pebble_port%%/*}
queued_at_ca() { ss -tnH state established "( sport = :$pebble_port )" | awk '$1 > 0 {n++} END {exit !n}'; }
for _ in $(seq 1 200); do queued_at_ca && break; sleep 0.05; done
queued_at_ca || not_ok "crash in the window: no request reached the frozen CA within 10 s"
kill_plugin >/dev/null
kill -CONT "$PEBBLE_NOW"
for _ in $(seq 1 50); do [ "$(ca_orders)" -gt "$ca0" ] && break; sleep 0.1; done
[ "$(( $(ca_orders) - ca0 ))" = 1 ] && ok "crash in the window: the CA created the order for the killed plugin" \
    || not_ok "crash in the window: the CA created $(( $(ca_orders) - ca0 )) orders before the relaunch (window not hit)"
order_status $ROLE "$ide" >/dev/null   # relaunches the plugin
if wait_status $ROLE "$ide" awaiting-challenge-fulfillment 90; then ok "crash in the window: order reached awaiting after relaunch"
else not_ok "crash in the window: awaiting after relaunch (last $LAST_STATUS)"; fi
# The host copies the plugin's stderr into its log on its own schedule: give it a moment.
found_again() { grep -q "ca order found again.*$ide\|$ide.*ca order found again" "$HOST_LOG"; }
for _ in $(seq 1 50); do found_again && break; sleep 0.1; done
found_again && ok "crash in the window: the relaunched plugin adopted the CA order" \
    || { not_ok "crash in the window: no 'ca order found again' for $ide in the host log"
         grep -a "$ide" "$HOST_LOG" | tail -20 | sed 's/^/#   /'; }
complete_order $ROLE "$ide" http-01 crash-e.example.com www.crash-e.example.com \
    && ok "crash in the window: order completed" || not_ok "crash in the window: completed (last $LAST_STATUS)"
[ "$(( $(ca_orders) - ca0 ))" = 1 ] && ok "crash in the window: exactly one CA order" \
    || not_ok "crash in the window: $(( $(ca_orders) - ca0 )) CA orders"

# Kill while the order is mid-flight at the CA (processing / fetching), repeatedly.
new_order $ROLE '{"identifiers":["crash-c.example.com"]}'
idc=$ORDER
wait_status $ROLE "$idc" awaiting-challenge-fulfillment 30 || true
challenge $ROLE "$idc" crash-c.example.com http-01
publish crash-c.example.com http-01
fulfilled $ROLE "$idc" crash-c.example.com http-01
for _ in 1 2 3; do kill_plugin >/dev/null; sleep 0.05; order_status $ROLE "$idc" >/dev/null; done
if wait_status $ROLE "$idc" completed 90; then ok "crash mid-validation: order completed"; else not_ok "crash mid-validation (last $LAST_STATUS)"; fi

# Freeze the CA (SIGSTOP) so the order is caught right after fulfilled-challenge stored
# notify-acme-server-challenges-completed, kill the plugin there, then thaw the CA.
new_order $ROLE '{"identifiers":["crash-d.example.com"]}'
idd=$ORDER
wait_status $ROLE "$idd" awaiting-challenge-fulfillment 30 || true
challenge $ROLE "$idd" crash-d.example.com http-01
publish crash-d.example.com http-01
PEBBLE_NOW=$(cat "$PEBBLE_TMP/pebble.pid")
kill -STOP "$PEBBLE_NOW"
fulfilled $ROLE "$idd" crash-d.example.com http-01
st=$(order_status $ROLE "$idd")
[ "$st" = notify-acme-server-challenges-completed ] && ok "frozen CA: order shows notify-acme-server-challenges-completed" \
    || not_ok "frozen CA: status $st"
kill_plugin >/dev/null
kill -CONT "$PEBBLE_NOW"
if wait_status $ROLE "$idd" completed 90; then ok "crash after notify: order completed"; else not_ok "crash after notify (last $LAST_STATUS)"; fi

# Restart the server itself on its storage while an order waits for the user.
new_order $ROLE '{"identifiers":["restart.example.com"]}'
idr=$ORDER
wait_status $ROLE "$idr" awaiting-challenge-fulfillment 30 || true
challenge $ROLE "$idr" restart.example.com http-01
publish restart.example.com http-01
host_restart || not_ok "$HOST restart: $(tail -3 "$HOST_LOG")"
VAULT_ADDR=$HOST_ADDR
[ "$(order_status $ROLE "$idr")" = awaiting-challenge-fulfillment ] && ok "dev-vault restarted: order still awaiting" \
    || not_ok "dev-vault restarted: status $(order_status $ROLE "$idr")"
fulfilled $ROLE "$idr" restart.example.com http-01
if wait_status $ROLE "$idr" completed 60; then ok "dev-vault restarted: order completed"; else not_ok "after dev-vault restart (last $LAST_STATUS)"; fi

# ---- Terraform destroy sequence: role DELETE force=true with active orders, then account --------

new_order $ROLE '{"identifiers":["left.example.com"]}'
vault DELETE "$M/role/$ROLE"
case "$STATUS" in 2??) not_ok "role DELETE without force should refuse while orders are active" ;;
    *) ok "role DELETE without force refused with active orders (HTTP $STATUS)" ;; esac
vault DELETE "$M/role/$ROLE?force=true"
expect_2xx "role DELETE force=true with active orders"
vault DELETE "$M/role/httponly"
expect_2xx "delete role httponly"
vault DELETE "$M/config/acme-account/$ACCT"
expect_2xx "account DELETE after its roles are gone"
vault GET "$M/lookup/order/$ID1"
expect_status 200 "orders stay readable after their role is deleted"

e2e_finish
