# test/dns/azure.sh (sourced by test/dns/run.sh): the azure-dns provider against the local
# Azure stand-in (test/lib/azure.sh, test/dns/azure_server.py), whose zone az.test is
# mirrored into BIND so Pebble validates what it holds: fields, secrets never returned, bad
# input on every field, the workflow with a client secret and with managed identities
# (system- and user-assigned, subscription from IMDS), the token cache (reused, dropped on
# update, refreshed across expiry), 429 with Retry-After, a 412 from a concurrent writer,
# the errors an operator can get wrong, automatic, CSR, wildcard and hybrid orders, and a
# SIGKILL of the plugin while a published record is not yet visible (crash_published, run.sh).

AZ_BASE="\"zone_name\":\"$AZ_ZONE\",\"resource_group_name\":\"$AZ_RG\",\"subscription_id\":\"$AZ_SUB\",\"nameserver\":\"$NAMED_ADDR\""
AZ_SECRET_FIELDS="\"client_id\":\"$AZ_WRITER\",\"tenant_id\":\"$AZ_TENANT\",\"client_secret\":\"$AZ_WRITER_SECRET\""
azp() {   # NAME IDENTIFIERS JSON-FIELDS
    vault POST "$M/config/dns/azure-dns/$1" "{\"identifiers\":\"$2\"${3:+,$3}}"
}
azwf() {  # PROVIDER IDENTIFIER [extra]
    vault POST "$M/dns/test/workflow" "{\"identifier\":\"$2\",\"provider_type\":\"azure-dns\",\"provider_name\":\"$1\"${3:+,$3}}"
}
az_login() { azure_stats .login; }

# ---- configuration -------------------------------------------------------------------------

azp az "az.test,*.az.test" "$AZ_BASE,$AZ_SECRET_FIELDS"
expect_status 200 "azure: create provider with a client secret"
expect_jq '.data | [.type, .zone_name, .resource_group_name, .subscription_id, .tenant_id, .client_id, .environment, .ttl, has("client_secret")]' \
    "[\"azure-dns\",\"az.test\",\"$AZ_RG\",\"$AZ_SUB\",\"$AZ_TENANT\",\"$AZ_WRITER\",\"AzurePublic\",\"1m0s\",false]" \
    "azure: reply fields, environment AzurePublic and ttl 1m0s by default, no client_secret"
vault GET "$M/config/dns/azure-dns/az"
expect_true '(.data | has("client_secret") | not) and .data.name == "az"' "azure: read has no client_secret"
vault LIST "$M/config/dns/azure-dns"
expect_jq .data.keys '["az"]' "azure: LIST config/dns/azure-dns"
vault LIST "$M/config/dns"
expect_true '.data.key_info["azure-dns/az"] == {"name":"az","type":"azure-dns"}' "azure: LIST config/dns names azure-dns/az"

# bad input: 400 naming the field, nothing stored (bad() from run.sh)
AZ_ALL="$AZ_BASE,$AZ_SECRET_FIELDS"
bad config/dns/azure-dns/b1 "{$AZ_ALL}" identifiers "azure: identifiers missing"
bad config/dns/azure-dns/b2 "{\"identifiers\":\"az.test\",\"resource_group_name\":\"$AZ_RG\"}" zone_name "azure: zone_name missing"
bad config/dns/azure-dns/b3 "{$AZ_ALL,\"identifiers\":\"az.test\",\"zone_name\":\"not a zone\"}" zone_name "azure: bad zone_name"
bad config/dns/azure-dns/b4 "{\"identifiers\":\"az.test\",\"zone_name\":\"az.test\"}" resource_group_name "azure: resource_group_name missing"
bad config/dns/azure-dns/b5 "{$AZ_ALL,\"identifiers\":\"az.test\",\"resource_group_name\":\"bad/group\"}" resource_group_name "azure: bad resource_group_name"
bad config/dns/azure-dns/b6 "{$AZ_ALL,\"identifiers\":\"az.test\",\"client_id\":\"not-a-guid\"}" client_id "azure: client_id not a GUID"
bad config/dns/azure-dns/b7 "{$AZ_ALL,\"identifiers\":\"az.test\",\"subscription_id\":\"1234\"}" subscription_id "azure: subscription_id not a GUID"
bad config/dns/azure-dns/b8 "{$AZ_ALL,\"identifiers\":\"az.test\",\"tenant_id\":\"no tenant\"}" tenant_id "azure: bad tenant_id"
bad config/dns/azure-dns/b9 "{$AZ_BASE,\"identifiers\":\"az.test\",\"client_secret\":\"x\",\"tenant_id\":\"$AZ_TENANT\"}" client_id "azure: client_secret without client_id"
bad config/dns/azure-dns/b10 "{$AZ_BASE,\"identifiers\":\"az.test\",\"client_secret\":\"x\",\"client_id\":\"$AZ_WRITER\"}" tenant_id "azure: client_secret without tenant_id"
bad config/dns/azure-dns/b11 "{$AZ_ALL,\"identifiers\":\"az.test\",\"environment\":\"AzureMars\"}" environment "azure: unknown environment"
bad config/dns/azure-dns/b12 "{$AZ_ALL,\"identifiers\":\"az.test\",\"ttl\":\"0s\"}" ttl "azure: ttl 0"
bad config/dns/azure-dns/b13 "{$AZ_ALL,\"identifiers\":\"az.test\",\"nameserver\":\"bad name:99999\"}" nameserver "azure: bad nameserver"
bad config/dns/azure-dns/b14 "{$AZ_ALL,\"identifiers\":\"az.test\",\"client_secret\":\"a\\tb\"}" client_secret "azure: control character in client_secret"
vault POST "$M/config/dns/azure-dns/az" '{"zone_name":"bad zone","ttl":"90s"}'
expect_error_mentions zone_name "azure: a bad update is refused"
vault GET "$M/config/dns/azure-dns/az"
expect_jq '.data | [.zone_name, .ttl]' '["az.test","1m0s"]' "azure: the refused update changed nothing"

# ---- workflow: client secret, token cache ---------------------------------------------------

L0=$(az_login)
azwf az wf.az.test
expect_status 200 "azure: workflow with a client secret"
expect_jq '.data | [.success, .record_name]' '[true,"_acme-challenge.wf.az.test."]' "azure: workflow reply"
no_txt _acme-challenge.wf.az.test "azure: workflow cleaned up (BIND)"
BODY=$(curl -sf "$AZ_URL/_control/stats")
expect_true "(.login - $L0) == 1 and (.api_versions | unique) == [\"2018-05-01\"] and .if_match > 0" \
    "azure: one login, api-version 2018-05-01 pinned, writes conditional (If-Match)"
azwf az wf2.az.test
expect_jq .data.success true "azure: second workflow"
[ "$(az_login)" = "$((L0 + 1))" ] && ok "azure: the cached token is reused (no second login)" \
    || not_ok "azure: logins $(az_login), want $((L0 + 1))"
vault POST "$M/config/dns/azure-dns/az" '{"ttl":"60s"}'
azwf az wf3.az.test
expect_jq .data.success true "azure: workflow after an update"
[ "$(az_login)" = "$((L0 + 2))" ] && ok "azure: an update drops the cached token (new login)" \
    || not_ok "azure: logins $(az_login), want $((L0 + 2))"
if grep -qF "$AZ_WRITER_SECRET" "$HOST_LOG"; then not_ok "azure: client_secret appears in the log"; else ok "azure: client_secret is not in the log"; fi

# token refresh across expiry: tokens of 6 s are used for 5 s (a fifth kept as margin)
azure_ctl lifetime '{"seconds":6}'
vault POST "$M/config/dns/azure-dns/az" '{"ttl":"60s"}'
T0=$(now_ms)
STALE=$(curl -sf -X POST "$AZ_URL/$AZ_TENANT/oauth2/v2.0/token" \
    --data-urlencode grant_type=client_credentials --data-urlencode client_id=$AZ_WRITER \
    --data-urlencode "client_secret=$AZ_WRITER_SECRET" \
    --data-urlencode scope=https://management.azure.com/.default | jq -r .access_token)
L1=$(az_login)
azwf az exp.az.test
expect_jq .data.success true "azure: workflow with a 6 s token"
while [ $(( $(now_ms) - T0 )) -lt 6500 ]; do sleep 0.2; done
curl -s -H "Authorization: Bearer $STALE" \
    "$AZ_URL/subscriptions/$AZ_SUB/resourceGroups/$AZ_RG/providers/Microsoft.Network/dnsZones/az.test/TXT/x?api-version=2018-05-01" > "$E2E_TMP/stale.json"
jq -e '.error.code == "ExpiredAuthenticationToken"' "$E2E_TMP/stale.json" >/dev/null \
    && ok "azure (local server): an expired token is refused with ExpiredAuthenticationToken" \
    || not_ok "azure: expired token accepted: $(cat "$E2E_TMP/stale.json")"
azwf az exp2.az.test
expect_jq .data.success true "azure: workflow after the token expired"
[ "$(az_login)" -gt "$L1" ] && [ "$(az_login)" -le "$((L1 + 2))" ] && ok "azure: a new token was fetched after expiry" \
    || not_ok "azure: logins $(az_login) after expiry (before $L1)"
azure_ctl lifetime '{"seconds":3600}'
azwf az rv.az.test
L2=$(az_login)
azure_ctl revoke '{}'
azwf az rv2.az.test
expect_jq .data.success true "azure: workflow after ARM refused the cached token (ExpiredAuthenticationToken)"
[ "$(az_login)" = "$((L2 + 1))" ] && ok "azure: the refused token was forgotten and one new token fetched" \
    || not_ok "azure: logins $(az_login) after the refusal (before $L2)"

# 429 with Retry-After, then throttling that does not pass
azure_ctl throttle '{"count":2,"retry_after":1}'
T0=$(now_ms)
azwf az thr.az.test
expect_jq .data.success true "azure: workflow through two 429s with Retry-After"
[ $(( $(now_ms) - T0 )) -ge 2000 ] && ok "azure: Retry-After was waited for" || not_ok "azure: retried without waiting"
[ "$(azure_stats .throttled)" -ge 2 ] && ok "azure: the server throttled twice" || not_ok "azure: throttles $(azure_stats .throttled)"
azure_ctl throttle '{"count":4,"retry_after":1}'
azwf az thr2.az.test
expect_error_mentions "TooManyRequests" "azure: lasting throttling is reported (429 TooManyRequests)"
azure_ctl throttle '{"count":0}'

# 412: another writer changes the record set between read and write
azure_ctl race '{"value":"someone-else"}'
azwf az race.az.test
expect_jq .data.success true "azure: workflow through a concurrent change (412, read again)"
[ "$(azure_stats .precondition_failed)" -ge 1 ] && ok "azure: the stale If-Match got 412" || not_ok "azure: no 412 seen"
[ "$(named_txt _acme-challenge.race.az.test)" = someone-else ] && ok "azure: the other writer's value survived, ours is gone" \
    || not_ok "azure: race record: $(named_txt _acme-challenge.race.az.test)"

# ---- errors an operator can get wrong ------------------------------------------------------

azp badsecret bad.az.test "$AZ_BASE,\"client_id\":\"$AZ_WRITER\",\"tenant_id\":\"$AZ_TENANT\",\"client_secret\":\"wrong\""
azwf badsecret bad.az.test
expect_error_mentions "client_secret is wrong" "azure: a wrong secret names client_secret"
expect_error_mentions "AADSTS7000215" "azure: ... with Entra ID's error code"
azp badtenant bad.az.test "$AZ_BASE,\"client_id\":\"$AZ_WRITER\",\"tenant_id\":\"00000000-0000-4000-8000-000000000000\",\"client_secret\":\"$AZ_WRITER_SECRET\""
azwf badtenant bad.az.test
expect_error_mentions "check tenant_id" "azure: a wrong tenant names tenant_id"
azp badclient bad.az.test "$AZ_BASE,\"client_id\":\"c9999999-9999-4999-8999-999999999999\",\"tenant_id\":\"$AZ_TENANT_DOMAIN\",\"client_secret\":\"x\""
azwf badclient bad.az.test
expect_error_mentions "check client_id" "azure: an unknown client_id (tenant by domain) names client_id"
azp noperm bad.az.test "$AZ_BASE,\"client_id\":\"$AZ_READER\",\"tenant_id\":\"$AZ_TENANT\",\"client_secret\":\"$AZ_READER_SECRET\""
azwf noperm bad.az.test
expect_error_mentions "DNS Zone Contributor" "azure: a missing permission names the role to assign"
expect_error_mentions "AuthorizationFailed" "azure: ... with ARM's error code"
azp nozone x.sub.az.test "\"zone_name\":\"sub.az.test\",\"resource_group_name\":\"$AZ_RG\",\"subscription_id\":\"$AZ_SUB\",\"nameserver\":\"$NAMED_ADDR\",$AZ_SECRET_FIELDS"
azwf nozone x.sub.az.test
expect_error_mentions "zone not found: check zone_name" "azure: an unknown zone names zone_name"
azp norg bad.az.test "\"zone_name\":\"az.test\",\"resource_group_name\":\"other-rg\",\"subscription_id\":\"$AZ_SUB\",$AZ_SECRET_FIELDS"
azwf norg bad.az.test
expect_error_mentions "check resource_group_name" "azure: an unknown resource group names resource_group_name"
azp nosub bad.az.test "\"zone_name\":\"az.test\",\"resource_group_name\":\"$AZ_RG\",\"subscription_id\":\"00000000-0000-4000-8000-000000000001\",$AZ_SECRET_FIELDS"
azwf nosub bad.az.test
expect_error_mentions "check subscription_id" "azure: an unknown subscription names subscription_id"
azp china bad.az.test "$AZ_ALL,\"environment\":\"AzureChina\""
azwf china bad.az.test
expect_error_mentions "check environment" "azure: AzureChina's resource at the public cloud's login names environment"
azp wronguami bad.az.test "\"zone_name\":\"az.test\",\"resource_group_name\":\"$AZ_RG\",\"client_id\":\"c8888888-8888-4888-8888-888888888888\""
azwf wronguami bad.az.test
expect_error_mentions "user-assigned identity" "azure: a managed identity client_id the machine lacks is named"
vault LIST "$M/config/dns/azure-dns"
for p in badsecret badtenant badclient noperm nozone norg nosub china wronguami; do vault DELETE "$M/config/dns/azure-dns/$p"; done

# ---- managed identity ------------------------------------------------------------------------

I0=$(azure_stats .imds)
azp mi "mi.az.test,*.mi.az.test" "\"zone_name\":\"az.test\",\"resource_group_name\":\"$AZ_RG\",\"nameserver\":\"$NAMED_ADDR\""
expect_jq '.data | [.client_id, .tenant_id, .subscription_id]' '["","",""]' "azure: managed identity provider (no client fields, no subscription_id)"
azwf mi t.mi.az.test
expect_jq .data.success true "azure: workflow with the system-assigned identity, subscription from IMDS"
[ "$(azure_stats .imds)" -gt "$I0" ] && ok "azure: the token came from IMDS" || not_ok "azure: IMDS not asked"
azp uami "u.az.test" "\"zone_name\":\"az.test\",\"resource_group_name\":\"$AZ_RG\",\"subscription_id\":\"$AZ_SUB\",\"client_id\":\"$AZ_UAMI\",\"nameserver\":\"$NAMED_ADDR\""
azwf uami u.az.test
expect_jq .data.success true "azure: workflow with a user-assigned identity (client_id, no secret)"

# ---- orders ------------------------------------------------------------------------------------

vault PUT "$M/role/azr" "$(jq -n --arg a "$ACCT" '{acme_account_name:$a, allowed_domains:["az.test","other.test"],
    allowed_domain_options:["bare_domains","subdomains","wildcards"]}')"
expect_status 200 "azure: role for az.test"
az_order() {   # JSON WHAT NAMES...
    local body=$1 what=$2; shift 2
    new_order azr "$body"
    expect_status 200 "azure $what: new-order"
    if wait_status azr "$ORDER" completed 60; then ok "azure $what: completed with no other call"
    else not_ok "azure $what: completed (last $LAST_STATUS: $(last_error azr "$ORDER"))"; return; fi
    local n
    for n in "$@"; do
        until_no_txt "_acme-challenge.${n#\*.}" 10 && ok "azure $what: record for $n removed" \
            || not_ok "azure $what: TXT left at _acme-challenge.${n#\*.}"
    done
}
az_order '{"identifiers":["o.az.test"]}' "identifier order" o.az.test
az_order '{"identifiers":["*.w.az.test","w.az.test"]}' "wildcard + base (two values in one record set)" w.az.test
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$E2E_TMP/azcsr.key" \
    -subj /CN=csr.az.test -addext "subjectAltName=DNS:csr.az.test,DNS:csr2.az.test" \
    -out "$E2E_TMP/azcsr.pem" 2>/dev/null
az_order "$(jq -n --rawfile c "$E2E_TMP/azcsr.pem" '{csr:$c}')" "CSR order" csr.az.test csr2.az.test
az_order '{"identifiers":["x.mi.az.test"]}' "order through the managed identity" x.mi.az.test

new_order azr '{"identifiers":["hy.az.test","azweb.other.test"]}'
HID=$ORDER
if wait_status azr "$HID" awaiting-challenge-fulfillment 30; then ok "azure hybrid: waits for the manual identifier"
else not_ok "azure hybrid: awaiting (last $LAST_STATUS)"; fi
vault GET "$M/role/azr/order/$HID/challenge?challenge_type=http-01&identifier=azweb.other.test"
TOKEN=$(printf '%s' "$BODY" | jq -r .data.challenge_token); KEYAUTH=$(printf '%s' "$BODY" | jq -r .data.challenge_auth)
curl -sS -o /dev/null -X POST "$CHALLTESTSRV_URL/add-http01" -d "{\"token\":\"$TOKEN\",\"content\":\"$KEYAUTH\"}"
vault PUT "$M/role/azr/order/$HID/fulfilled-challenge" '{"identifier":"azweb.other.test","challenge_type":"http-01"}'
expect_2xx "azure hybrid: fulfilled-challenge for the http-01 name"
if wait_status azr "$HID" completed 60; then ok "azure hybrid: completed"; else not_ok "azure hybrid: completed (last $LAST_STATUS)"; fi
until_no_txt _acme-challenge.hy.az.test 10 && ok "azure hybrid: record removed" || not_ok "azure hybrid: record left"

azp noperm np.az.test "$AZ_BASE,\"client_id\":\"$AZ_READER\",\"tenant_id\":\"$AZ_TENANT\",\"client_secret\":\"$AZ_READER_SECRET\""
new_order azr '{"identifiers":["np.az.test"]}'
if wait_status azr "$ORDER" error 30; then ok "azure: an order without permission ends in error"; else not_ok "azure: no-permission order (last $LAST_STATUS)"; fi
vault GET "$M/role/azr/order/$ORDER/status"
expect_true '.data.last_error | test("AuthorizationFailed") and test("DNS Zone Contributor")' "azure: last_error names the permission to grant"
# az_left NAME: the values "Azure" holds in NAME's _acme-challenge record set.
az_left() { curl -sf "$AZ_URL/_control/records" | jq -r --arg k "_acme-challenge.${1%.az.test}" '.[$k] // [] | .[]'; }
crash_published azure azr crash.az.test azure_ctl az_left
BODY=$(curl -sf "$AZ_URL/_control/records")
expect_true 'to_entries | map(select(.value | length > 0)) | map(.key) | map(select(startswith("_acme-challenge") and (. != "_acme-challenge.race"))) | length == 0' \
    "azure: no TXT record of ours is left in the zone"
