# test/dns/cloud.sh (sourced by test/dns/run.sh): the google-cloud-dns and cloudflare
# providers against the local stand-in (test/lib/cloud.sh, test/dns/cloud_server.py), whose
# zones gc.test and cf.test BIND serves: fields, secrets never returned, bad input, the
# credential sources (explicit key, metadata server, impersonation), token cache and refresh
# across expiry, 429 with Retry-After, 412 from a concurrent writer, permission errors, and
# identifier, wildcard, CSR and hybrid orders, and a SIGKILL of the plugin while a published
# record is not yet visible (crash_published, run.sh).

gcp() { vault POST "$M/config/dns/google-cloud-dns/$1" "$(jq -n --arg i "$2" --argjson x "${3:-{\}}" --arg ns "$NAMED_ADDR" '{identifiers:$i, nameserver:$ns} + $x')"; }
cfp() { vault POST "$M/config/dns/cloudflare/$1" "$(jq -n --arg i "$2" --argjson x "${3:-{\}}" --arg ns "$NAMED_ADDR" '{identifiers:$i, nameserver:$ns} + $x')"; }
cwf() { vault POST "$M/dns/test/workflow" "{\"identifier\":\"$3\",\"provider_type\":\"$1\",\"provider_name\":\"$2\"}"; }
GC_KEY=$(cat "$CL_DIR/writer.json")   # pretty-printed, several lines, as the key file is

# ---- Google: configuration ----------------------------------------------------------------
gcp gc "gc.test,*.gc.test" "$(jq -n --arg c "$GC_KEY" '{credentials:$c}')"
expect_status 200 "google: create with a service-account key"
expect_jq '.data | [.type, .project, .zone_name, .impersonate_service_account, .ttl, has("credentials")]' \
    '["google-cloud-dns","","","","10s",false]' "google: reply fields, ttl 10s by default, no credentials"
vault GET "$M/config/dns/google-cloud-dns/gc"
expect_true '.data | has("credentials") | not' "google: read has no credentials"
vault LIST "$M/config/dns"
expect_true '.data.key_info["google-cloud-dns/gc"].type == "google-cloud-dns"' "google: LIST config/dns"
bad config/dns/google-cloud-dns/b1 '{"credentials":"{\"type\":\"service_account\"}"}' identifiers "google: identifiers missing"
bad config/dns/google-cloud-dns/b2 '{"identifiers":"gc.test","credentials":"not json"}' credentials "google: credentials not JSON"
bad config/dns/google-cloud-dns/b3 '{"identifiers":"gc.test","credentials":"{\"type\":\"authorized_user\"}"}' credentials "google: credentials not a service account"
bad config/dns/google-cloud-dns/b4 "{\"identifiers\":\"gc.test\",\"credentials\":$(jq -c '.private_key="x"' "$CL_DIR/writer.json" | jq -Rs .)}" credentials "google: bad private_key"
bad config/dns/google-cloud-dns/b5 '{"identifiers":"gc.test","project":"Bad_Project"}' project "google: bad project"
bad config/dns/google-cloud-dns/b6 '{"identifiers":"gc.test","zone_name":"gc.test."}' zone_name "google: zone_name given as a DNS name"
bad config/dns/google-cloud-dns/b7 '{"identifiers":"gc.test","impersonate_service_account":"nobody"}' impersonate_service_account "google: bad impersonate_service_account"
bad config/dns/google-cloud-dns/b8 '{"identifiers":"gc.test","ttl":"0s"}' ttl "google: ttl 0"
bad config/dns/google-cloud-dns/b9 '{"identifiers":"gc.test","nameserver":"bad name:99999"}' nameserver "google: bad nameserver"
vault POST "$M/config/dns/google-cloud-dns/gc" '{"project":"BAD","ttl":"30s"}'
expect_error_mentions project "google: a bad update is refused"
vault GET "$M/config/dns/google-cloud-dns/gc"
expect_jq '.data | [.project, .ttl]' '["","10s"]' "google: the refused update changed nothing"

# ---- Google: workflow, tokens ---------------------------------------------------------------
T0=$(cloud_stats .token)
cwf google-cloud-dns gc wf.gc.test
expect_jq '.data | [.success, .record_name]' '[true,"_acme-challenge.wf.gc.test."]' "google: workflow with a key (JWT verified, zone found by DNS name, change polled to done)"
no_txt _acme-challenge.wf.gc.test "google: workflow cleaned up (BIND)"
[ "$(cloud_stats .change_polls)" -ge 1 ] && ok "google: the change was polled (changes.get)" || not_ok "google: change never polled"
cwf google-cloud-dns gc wf2.gc.test
expect_jq .data.success true "google: second workflow"
[ "$(cloud_stats .token)" = "$((T0 + 1))" ] && ok "google: the cached token is reused" || not_ok "google: token calls $(cloud_stats .token), want $((T0 + 1))"
cloud_stats '.scopes[-1]' | grep -q ndev.clouddns.readwrite && ok "google: the JWT asks the Cloud DNS scope" || not_ok "google: scope $(cloud_stats '.scopes[-1]')"
grep -qF "BEGIN PRIVATE KEY" "$HOST_LOG" && not_ok "google: the private key appears in the log" || ok "google: the private key is not in the log"
cloud_ctl lifetime '{"seconds":6}'
vault POST "$M/config/dns/google-cloud-dns/gc" '{"ttl":"10s"}'
T1=$(cloud_stats .token); S=$(now_ms)
cwf google-cloud-dns gc e1.gc.test
while [ $(( $(now_ms) - S )) -lt 6500 ]; do sleep 0.2; done
cwf google-cloud-dns gc e2.gc.test
expect_jq .data.success true "google: workflow after the 6 s token expired"
[ "$(cloud_stats .token)" -ge "$((T1 + 2))" ] && ok "google: a new token was fetched after expiry" || not_ok "google: token calls $(cloud_stats .token) (before $T1)"
cloud_ctl lifetime '{"seconds":3600}'
cloud_ctl throttle '{"count":2,"retry_after":1}'
S=$(now_ms)
cwf google-cloud-dns gc thr.gc.test
expect_jq .data.success true "google: workflow through two 429s"
[ $(( $(now_ms) - S )) -ge 2000 ] && ok "google: Retry-After was waited for" || not_ok "google: retried without waiting"
cloud_ctl race '{"value":"someone-else"}'
cwf google-cloud-dns gc race.gc.test
expect_jq .data.success true "google: workflow through a concurrent change (412, read again)"
[ "$(cloud_stats .conflicts)" -ge 1 ] && ok "google: the stale deletion got 412/409" || not_ok "google: no conflict seen"
[ "$(named_txt _acme-challenge.race.gc.test)" = someone-else ] && ok "google: the other writer's value survived" || not_ok "google: race: $(named_txt _acme-challenge.race.gc.test)"

# credential sources: metadata server, impersonation; errors
gcp vm vm.gc.test '{}'
cwf google-cloud-dns vm vm.gc.test
expect_jq .data.success true "google: workflow with the metadata server's account (project from it too)"
[ "$(cloud_stats .metadata)" -ge 2 ] && ok "google: the metadata server was asked" || not_ok "google: metadata not asked"
gcp imp imp.gc.test "$(jq -n --arg c "$GC_KEY" --arg t "$GC_TARGET" '{credentials:$c, impersonate_service_account:$t, zone_name:"gc-test", project:"vault-dns-test"}')"
cwf google-cloud-dns imp imp.gc.test
expect_jq .data.success true "google: workflow impersonating another account (generateAccessToken)"
[ "$(cloud_stats .impersonate)" -ge 1 ] && ok "google: IAM Credentials was called" || not_ok "google: no impersonation"
gcp noperm np.gc.test "$(jq -n --rawfile c "$CL_DIR/reader.json" '{credentials:$c}')"
cwf google-cloud-dns noperm np.gc.test
expect_error_mentions "roles/dns.admin" "google: a missing permission names the role to grant"
gcp noimp ni.gc.test "$(jq -n --rawfile c "$CL_DIR/reader.json" --arg t "$GC_TARGET" '{credentials:$c, impersonate_service_account:$t}')"
cwf google-cloud-dns noimp ni.gc.test
expect_error_mentions "serviceAccountTokenCreator" "google: impersonation without the role names it"
gcp wrongkey wk.gc.test "$(jq -n --arg c "$(jq --rawfile k "$CL_DIR/reader.key" '.private_key=$k' "$CL_DIR/writer.json")" '{credentials:$c}')"
cwf google-cloud-dns wrongkey wk.gc.test
expect_error_mentions "Invalid JWT Signature" "google: a key that is not the account's is refused (signature checked)"
gcp nozone x.other.test '{"zone_name":"no-such-zone"}'
cwf google-cloud-dns nozone x.other.test
expect_error_mentions "zone_name" "google: an unknown managed zone names zone_name"
for p in noperm noimp wrongkey nozone; do vault DELETE "$M/config/dns/google-cloud-dns/$p"; done

# ---- Cloudflare ------------------------------------------------------------------------------
cfp cf "cf.test,*.cf.test" "{\"api_token\":\"$CF_TOKEN\"}"
expect_status 200 "cloudflare: create"
expect_jq '.data | [.type, .zone_id, .ttl, has("api_token")]' '["cloudflare","","2m0s",false]' "cloudflare: reply, ttl 2m0s by default, no api_token"
bad config/dns/cloudflare/b1 '{"identifiers":"cf.test"}' api_token "cloudflare: api_token missing"
bad config/dns/cloudflare/b2 "{\"identifiers\":\"cf.test\",\"api_token\":\"a b\"}" api_token "cloudflare: api_token with a space"
bad config/dns/cloudflare/b3 "{\"identifiers\":\"cf.test\",\"api_token\":\"$CF_TOKEN\",\"zone_id\":\"xyz\"}" zone_id "cloudflare: bad zone_id"
bad config/dns/cloudflare/b4 "{\"identifiers\":\"cf.test\",\"api_token\":\"$CF_TOKEN\",\"ttl\":\"30s\"}" ttl "cloudflare: ttl below 60s"
bad config/dns/cloudflare/b5 "{\"api_token\":\"$CF_TOKEN\"}" identifiers "cloudflare: identifiers missing"
cwf cloudflare cf wf.cf.test
expect_jq '.data | [.success, .record_name]' '[true,"_acme-challenge.wf.cf.test."]' "cloudflare: workflow (zone found by name)"
no_txt _acme-challenge.wf.cf.test "cloudflare: workflow cleaned up (BIND)"
grep -qF "$CF_TOKEN" "$HOST_LOG" && not_ok "cloudflare: api_token appears in the log" || ok "cloudflare: api_token is not in the log"
cloud_ctl throttle '{"count":1,"retry_after":1}'
cwf cloudflare cf thr.cf.test
expect_jq .data.success true "cloudflare: workflow through a 429"
cfp cfbad b.cf.test '{"api_token":"wrong-token"}'
cwf cloudflare cfbad b.cf.test
expect_error_mentions "check api_token" "cloudflare: a wrong token names api_token"
cfp cfro b.cf.test "{\"api_token\":\"$CF_READ_TOKEN\",\"zone_id\":\"$CF_ZONE_ID\"}"
cwf cloudflare cfro b.cf.test
expect_error_mentions "DNS:Edit" "cloudflare: a read-only token names the permission"
cfp cfz b.cf.test "{\"api_token\":\"$CF_TOKEN\",\"zone_id\":\"ffffffffffffffffffffffffffffffff\"}"
cwf cloudflare cfz b.cf.test
expect_error_mentions "zone not found" "cloudflare: a wrong zone_id says zone not found"
for p in cfbad cfro cfz; do vault DELETE "$M/config/dns/cloudflare/$p"; done

# ---- orders through both -------------------------------------------------------------------
vault PUT "$M/role/clr" "$(jq -n --arg a "$ACCT" '{acme_account_name:$a, allowed_domains:["gc.test","cf.test","other.test"],
    allowed_domain_options:["bare_domains","subdomains","wildcards"]}')"
cl_order() {   # JSON WHAT
    new_order clr "$1"
    if wait_status clr "$ORDER" completed 60; then ok "$2: completed with no other call"
    else not_ok "$2: completed (last $LAST_STATUS: $(last_error clr "$ORDER"))"; fi
}
cl_order '{"identifiers":["o.gc.test"]}' "google identifier order"
cl_order '{"identifiers":["*.w.gc.test","w.gc.test"]}' "google wildcard + base (two values in one rrset)"
until_no_txt _acme-challenge.w.gc.test 10 && ok "google: order records removed" || not_ok "google: TXT left at _acme-challenge.w.gc.test"
cl_order '{"identifiers":["o.cf.test","*.o.cf.test"]}' "cloudflare identifier + wildcard order (two records)"
until_no_txt _acme-challenge.o.cf.test 10 && ok "cloudflare: order records removed" || not_ok "cloudflare: TXT left"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$E2E_TMP/clcsr.key" \
    -subj /CN=csr.gc.test -addext "subjectAltName=DNS:csr.gc.test,DNS:csr.cf.test" -out "$E2E_TMP/clcsr.pem" 2>/dev/null
cl_order "$(jq -n --rawfile c "$E2E_TMP/clcsr.pem" '{csr:$c}')" "CSR order across google and cloudflare"
new_order clr '{"identifiers":["hy.cf.test","clweb.other.test"]}'
HID=$ORDER
if wait_status clr "$HID" awaiting-challenge-fulfillment 30; then ok "cloud hybrid: waits for the manual identifier"; else not_ok "cloud hybrid: awaiting (last $LAST_STATUS)"; fi
vault GET "$M/role/clr/order/$HID/challenge?challenge_type=http-01&identifier=clweb.other.test"
TOKEN=$(printf '%s' "$BODY" | jq -r .data.challenge_token); KEYAUTH=$(printf '%s' "$BODY" | jq -r .data.challenge_auth)
curl -sS -o /dev/null -X POST "$CHALLTESTSRV_URL/add-http01" -d "{\"token\":\"$TOKEN\",\"content\":\"$KEYAUTH\"}"
vault PUT "$M/role/clr/order/$HID/fulfilled-challenge" '{"identifier":"clweb.other.test","challenge_type":"http-01"}'
if wait_status clr "$HID" completed 60; then ok "cloud hybrid: completed"; else not_ok "cloud hybrid: completed (last $LAST_STATUS)"; fi
gcp gnp np2.gc.test "$(jq -n --rawfile c "$CL_DIR/reader.json" '{credentials:$c}')"
new_order clr '{"identifiers":["np2.gc.test"]}'
if wait_status clr "$ORDER" error 30; then ok "google: an order without permission ends in error"; else not_ok "google: no-permission order (last $LAST_STATUS)"; fi
last_error clr "$ORDER" | grep -q "roles/dns.admin" && ok "google: last_error names the role to grant" || not_ok "google: last_error: $(last_error clr "$ORDER")"
# gc_left/cf_left NAME: the values Cloud DNS / Cloudflare hold at _acme-challenge.NAME.
gc_left() { curl -sf "$CL_URL/_control/stats" | jq -r --arg n "_acme-challenge.$1." '.rrsets[$n].rrdatas // [] | .[]'; }
cf_left() { curl -sf "$CL_URL/_control/stats" | jq -r --arg n "_acme-challenge.$1" '.cf_records[] | select(.name == $n) | .content'; }
crash_published google clr crash.gc.test cloud_ctl gc_left
crash_published cloudflare clr crash.cf.test cloud_ctl cf_left
vault DELETE "$M/role/clr"
