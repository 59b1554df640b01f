# test/dns/orders.sh (sourced by test/dns/run.sh): automatic and hybrid dns-01 orders
# against BIND + Pebble, role links, the propagation timeout and crash safety.

ACCT=pebble
vault PUT "$M/config/acme-account/$ACCT" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" \
    '{directory_url:$d, trusted_ca:$ca, email_contacts:["ops@example.com"]}')"
expect_status 200 "create acme account"
vault PUT "$M/config/acme-account/$ACCT" '{"default_nameserver":"bad name:99999"}'
expect_error_mentions default_nameserver "account: a bad default_nameserver is refused naming the field"
vault PUT "$M/config/acme-account/$ACCT" "{\"default_nameserver\":\"$NAMED_ADDR\"}"
expect_status 200 "account: default_nameserver host:port accepted"
role() {   # NAME [extra json]
    vault PUT "$M/role/$1" "$(jq -n --arg a "$ACCT" '{acme_account_name:$a,
        allowed_domains:["example.test","other.test","hidden.test"],
        allowed_domain_options:["bare_domains","subdomains","wildcards"]}' | jq -c ". + ${2:-{\}}")"
}
role auto
expect_status 200 "create role auto (no provider link: identifier patterns decide)"

# role links: the provider must exist and have the type
role badlink '{"dns_provider_name":"absent","dns_provider_type":"rfc2136"}'
expect_error_mentions dns_provider_name "role linking a provider that does not exist"
role badlink '{"dns_provider_name":"bind","dns_provider_type":"aws-route53"}'
expect_error_mentions dns_provider_name "role linking a provider with a mismatched type"
role badlink '{"dns_provider_name":"bind","dns_provider_type":"nonsense"}'
expect_error_mentions dns_provider_type "role with an unknown dns_provider_type"
vault GET "$M/role/badlink"
expect_status 404 "refused role links stored nothing"
role linked '{"dns_provider_name":"bind-sha512","dns_provider_type":"rfc2136"}'
expect_status 200 "role linking rfc2136/bind-sha512"
vault DELETE "$M/config/dns/rfc2136/bind-sha512"
expect_error_mentions linked "DELETE of a provider a role links is refused, naming the role"

# auto_order ROLE JSON WHAT NAMES...: one new-order, then nothing but status reads.
auto_order() {
    local role=$1 body=$2 what=$3; shift 3
    new_order "$role" "$body"
    expect_status 200 "$what: new-order"
    local id=$ORDER
    if wait_status "$role" "$id" completed 60; then ok "$what: completed with no other call (${WAITED_MS} ms)"
    else not_ok "$what: completed (last $LAST_STATUS: $(printf '%s' "$BODY" | jq -c '.data.last_error'))"; return; fi
    local n
    for n in "$@"; do
        until_no_txt "_acme-challenge.${n#\*.}" 10 && ok "$what: record for $n removed from BIND" \
            || not_ok "$what: TXT left at _acme-challenge.${n#\*.}: $(named_txt "_acme-challenge.${n#\*.}")"
    done
    LAST_ORDER=$id
}

auto_order auto '{"identifiers":["a.example.test"]}' "single name" a.example.test
vault GET "$M/role/auto/order/$LAST_ORDER/status"
expect_true '.data.challenges["a.example.test"] | map(select(.challenge_type=="dns-01")) | .[0].requires_manual_fulfillment == "false"' \
    "dns-01 challenge of a provider-served name: requires_manual_fulfillment \"false\""
expect_true '[.data.challenges[][] | .requires_manual_fulfillment | type] | all(. == "string")' \
    "every challenge entry carries requires_manual_fulfillment as a string"
vault GET "$M/role/auto/order/$LAST_ORDER/fetch-cert"
expect_true '.data.certificate | startswith("-----BEGIN CERTIFICATE-----")' "single name: certificate fetched"

auto_order auto '{"identifiers":["b.example.test","c.example.test","d.example.test"]}' "three names" \
    b.example.test c.example.test d.example.test
auto_order auto '{"identifiers":["*.w.example.test","w.example.test"]}' "wildcard + its base (two values at one name)" \
    w.example.test
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$E2E_TMP/csr.key" \
    -subj /CN=csr.example.test -addext "subjectAltName=DNS:csr.example.test,DNS:csr2.example.test" \
    -out "$E2E_TMP/csr.pem" 2>/dev/null
auto_order auto "$(jq -n --rawfile c "$E2E_TMP/csr.pem" '{csr:$c}')" "CSR order" csr.example.test csr2.example.test
auto_order linked '{"identifiers":["l.example.test"]}' "role linking a provider" l.example.test

# hybrid: one provider-served name, one the user fulfils over http-01
new_order auto '{"identifiers":["h.example.test","web.other.test"]}'
expect_status 200 "hybrid: new-order"
HID=$ORDER
if wait_status auto "$HID" awaiting-challenge-fulfillment 30; then ok "hybrid: waits for the manual identifier"
else not_ok "hybrid: awaiting (last $LAST_STATUS)"; fi
vault GET "$M/role/auto/order/$HID/status"
expect_true '(.data.challenges["web.other.test"] | all(.requires_manual_fulfillment == "true")) and (.data.challenges["h.example.test"] | map(select(.challenge_type=="dns-01"))[0].requires_manual_fulfillment == "false")' \
    "hybrid: manual flags per identifier"
vault GET "$M/role/auto/order/$HID/challenge?challenge_type=http-01&identifier=web.other.test"
TOKEN=$(printf '%s' "$BODY" | jq -r .data.challenge_token); KEYAUTH=$(printf '%s' "$BODY" | jq -r .data.challenge_auth)
curl -sS -o /dev/null -X POST "$CHALLTESTSRV_URL/add-http01" -d "{\"token\":\"$TOKEN\",\"content\":\"$KEYAUTH\"}"
vault PUT "$M/role/auto/order/$HID/fulfilled-challenge" '{"identifier":"web.other.test","challenge_type":"http-01"}'
expect_2xx "hybrid: fulfilled-challenge for the http-01 name"
if wait_status auto "$HID" completed 60; then ok "hybrid: completed"; else not_ok "hybrid: completed (last $LAST_STATUS)"; fi
until_no_txt _acme-challenge.h.example.test 10 && ok "hybrid: record removed" || not_ok "hybrid: record left"

# wrong TSIG secret: the order ends in error with an actionable message
role wrong '{"dns_provider_name":"wrongkey","dns_provider_type":"rfc2136"}'
new_order wrong '{"identifiers":["wk.example.test"]}'
if wait_status wrong "$ORDER" error 30; then ok "wrong TSIG secret: order ends in error"; else not_ok "wrong secret: error (last $LAST_STATUS)"; fi
vault GET "$M/role/wrong/order/$ORDER/status"
expect_true '.data.last_error | test("TSIG") and test("tsig_secret")' "wrong secret: last_error names TSIG and tsig_secret"

# propagation timeout: hidden.test accepts the update but never answers the (unsigned) check
vault POST "$M/config/dns/rfc2136/hidden" "{\"identifiers\":\"hidden.test,*.hidden.test\",\"nameserver\":\"$NAMED_ADDR\",
    \"tsig_key_name\":\"key-sha256\",\"tsig_secret\":\"$NAMED_SECRET_sha256\",\"propagation_timeout\":\"3s\"}"
expect_status 200 "provider for hidden.test (3 s propagation timeout)"
new_order auto '{"identifiers":["t.hidden.test"]}'
TID=$ORDER
if wait_status auto "$TID" error 40; then ok "propagation timeout: order ends in error"; else not_ok "timeout: error (last $LAST_STATUS)"; fi
vault GET "$M/role/auto/order/$TID/status"
expect_true ".data.last_error | test(\"Vault's internal DNS propagation check timed out\") and test(\"_acme-challenge.t.hidden.test\") and test(\"$NAMED_ADDR\")" \
    "timeout: last_error names the check, the record and the server asked"
expect_true '.data.challenges["t.hidden.test"] | all(.challenge_status == "pending")' "timeout: the CA was not notified (challenges pending)"
until_no_txt _acme-challenge.t.hidden.test 10 && ok "timeout: record removed" || not_ok "timeout: record left: $(named_txt _acme-challenge.t.hidden.test)"


