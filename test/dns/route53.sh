# test/dns/route53.sh (sourced by test/dns/run.sh): the aws-route53 provider against moto,
# which checks every call's SigV4 signature and IAM policy: static keys, the credential
# chain from the environment, STS AssumeRole with external_id (the RoleArn and ExternalId
# sent and the assumed key used for Route 53, read from moto's request recorder; a wrong
# external_id denied by the role's trust policy), a wrong secret_access_key (workflow and
# order), zone lookup by name and by id, an unknown zone, bad input, and a full automatic
# order whose records reach Pebble through the bridge (test/dns/r53_bridge.py). The rest
# of the credential chain is in test/dns/aws_chain.sh.

R53_ZONE=$(printf '%s' "$AWS_SETUP" | jq -r .zone_id)
R53_ROLE=$(printf '%s' "$AWS_SETUP" | jq -r .role_arn)
"$PY" test/dns/r53_bridge.py "$MOTO_URL" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$R53_ZONE" \
    r53.test "$NAMED_ADDR" "hmac-sha256:key-sha256:$NAMED_SECRET_sha256" 2>"$E2E_TMP/bridge.log" &
BRIDGE_PID=$!

# moto_txt NAME: the TXT values moto holds at NAME (one per line).
moto_txt() {
    "$PY" - "$MOTO_URL" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$R53_ZONE" "$1" <<'PYX'
import sys
sys.path.insert(0, "test/dns")
from moto_client import client
url, kid, sec, zone, name = sys.argv[1:6]
c = client("route53", url, kid, sec)
for s in c.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]:
    if s["Type"] == "TXT" and s["Name"].rstrip(".") == name.rstrip("."):
        for r in s["ResourceRecords"]:
            print(r["Value"])
PYX
}
r53() {   # NAME JSON-FIELDS
    vault POST "$M/config/dns/aws-route53/$1" "{\"identifiers\":\"r53.test,*.r53.test\",\"nameserver\":\"$NAMED_ADDR\"${2:+,$2}}"
}

r53 static "\"access_key_id\":\"$AWS_ACCESS_KEY_ID\",\"secret_access_key\":\"$AWS_SECRET_ACCESS_KEY\""
expect_status 200 "route53: create provider with static keys"
expect_true '.data | (has("secret_access_key") | not) and .region == "us-east-1" and .type == "aws-route53" and .access_key_id != "" and .ttl == "1m0s"' \
    "route53: reply without secret_access_key, default region, ttl 1m0s"
r53 chain
expect_status 200 "route53: provider without keys (credential chain)"
r53 byid "\"hosted_zone_id\":\"$R53_ZONE\""
r53 role "\"assume_role_arn\":\"$R53_ROLE\",\"external_id\":\"vault-ext-id\""
expect_status 200 "route53: provider assuming a role with external_id"
r53 nozone "\"hosted_zone_id\":\"ZNOSUCHZONE\""
vault LIST "$M/config/dns"
expect_true '.data.keys | index("aws-route53/static") != null and index("rfc2136/bind") != null' "LIST config/dns lists both types"

for p in static chain byid role; do
    [ "$p" = role ] && moto_record_start
    vault POST "$M/dns/test/workflow" "{\"identifier\":\"wf-$p.r53.test\",\"provider_type\":\"aws-route53\",\"provider_name\":\"$p\"}"
    expect_status 200 "route53 workflow ($p)"
    expect_jq .data.success true "route53 workflow ($p): success"
    got=$(moto_txt "_acme-challenge.wf-$p.r53.test")
    [ -z "$got" ] && ok "route53 workflow ($p): record deleted from Route 53" || not_ok "route53 workflow ($p): left $got"
done
moto_record_stop
# What the plugin sent, from moto's recorder: the AssumeRole call's form fields, and the key
# and session token that signed the Route 53 calls after it.
REC=$("$PY" - "$MOTO_RECORDING" <<'PYX'
import base64, json, re, sys
from urllib.parse import parse_qs
assume, r53 = [], []
for line in open(sys.argv[1]):
    e = json.loads(line)
    h = {k.lower(): v for k, v in e["headers"].items()}
    if "botocore" in h.get("user-agent", "").lower():
        continue   # the bridge's and moto_txt's own calls
    body = e.get("body") or ""
    if e.get("body_encoded"):
        body = base64.b64decode(body).decode()
    form = {k: v[0] for k, v in parse_qs(body).items()}
    if form.get("Action") == "AssumeRole":
        assume.append({k: form.get(k) for k in ("RoleArn", "ExternalId")})
    elif "/2013-04-01/" in e["url"] and assume:
        m = re.search(r"Credential=([^/]+)/", h.get("authorization", ""))
        r53.append({"key": m.group(1) if m else "", "token": bool(h.get("x-amz-security-token")),
                    "sha256": bool(h.get("x-amz-content-sha256"))})
print(json.dumps({"assume": assume, "r53": r53}))
PYX
)
if printf '%s' "$REC" | jq -e --arg arn "$R53_ROLE" '(.assume | length) >= 1 and all(.assume[]; . == {"RoleArn": $arn, "ExternalId": "vault-ext-id"})' >/dev/null; then
    ok "route53 workflow (role): AssumeRole sent the configured RoleArn and ExternalId"
else not_ok "route53 workflow (role): AssumeRole calls recorded: $(printf '%s' "$REC" | jq -c .assume)"; fi
if printf '%s' "$REC" | jq -e --arg k "$AWS_ACCESS_KEY_ID" '(.r53 | length) >= 3 and
        all(.r53[]; .key != $k and .key != "" and .token and .sha256)' >/dev/null; then
    ok "route53 workflow (role): Route 53 calls signed with the assumed role's key and session token"
else not_ok "route53 workflow (role): Route 53 calls after AssumeRole: $(printf '%s' "$REC" | jq -c .r53)"; fi
# moto checks the role's trust policy (sts:ExternalId must be vault-ext-id) and signatures.
r53 badext "\"assume_role_arn\":\"$R53_ROLE\",\"external_id\":\"wrong-ext-id\""
vault POST "$M/dns/test/workflow" '{"identifier":"wf-badext.r53.test","provider_type":"aws-route53","provider_name":"badext"}'
expect_true '(.errors[0] | test("AssumeRole") and test("AccessDenied") and test("external_id")) and .data.success == false' \
    "route53 workflow with a wrong external_id: AssumeRole denied, names external_id"
r53 badsecret "\"access_key_id\":\"$AWS_ACCESS_KEY_ID\",\"secret_access_key\":\"wrong-secret-0123456789\""
vault POST "$M/dns/test/workflow" '{"identifier":"wf-badsecret.r53.test","provider_type":"aws-route53","provider_name":"badsecret"}'
expect_true '(.errors[0] | test("SignatureDoesNotMatch") and test("refused the credentials") and test("secret_access_key")) and .data.success == false' \
    "route53 workflow with a wrong secret_access_key: credentials refused"
vault POST "$M/dns/test/workflow" '{"identifier":"wf.r53.test","provider_type":"aws-route53","provider_name":"nozone"}'
expect_error_mentions "zone" "route53 workflow with an unknown hosted_zone_id says zone not found"

vault POST "$M/config/dns/aws-route53/bad1" '{"identifiers":"r53.test","secret_access_key":"x"}'
expect_error_mentions access_key_id "route53: secret without access_key_id"
vault POST "$M/config/dns/aws-route53/bad2" '{"identifiers":"r53.test","assume_role_arn":"not-an-arn"}'
expect_error_mentions assume_role_arn "route53: bad assume_role_arn"
vault POST "$M/config/dns/aws-route53/bad3" '{"identifiers":"r53.test","external_id":"x"}'
expect_error_mentions external_id "route53: external_id without a role"
vault GET "$M/config/dns/aws-route53/bad1"
expect_status 404 "route53: refused configurations stored nothing"

# A full order: Route 53 (moto) holds the records, the bridge serves them to Pebble.
role r53role '{"dns_provider_name":"role","dns_provider_type":"aws-route53"}'
expect_status 200 "route53: role linking the AssumeRole provider"
vault PUT "$M/role/r53role" "$(jq -n --arg a "$ACCT" '{acme_account_name:$a, allowed_domains:["r53.test"],
    allowed_domain_options:["bare_domains","subdomains","wildcards"], dns_provider_name:"role", dns_provider_type:"aws-route53"}')"
new_order r53role '{"identifiers":["www.r53.test","*.r53.test"]}'
expect_status 200 "route53 order: new-order"
if wait_status r53role "$ORDER" completed 90; then ok "route53 order: completed with no other call (${WAITED_MS} ms)"
else vault GET "$M/role/r53role/order/$ORDER/status"; not_ok "route53 order: completed (last $LAST_STATUS: $(printf '%s' "$BODY" | jq -c .data.last_error))"; fi
sleep 1
got=$(moto_txt _acme-challenge.www.r53.test; moto_txt _acme-challenge.r53.test)
[ -z "$got" ] && ok "route53 order: records deleted from Route 53" || not_ok "route53 order: left $got"
vault PUT "$M/role/r53bad" "$(jq -n --arg a "$ACCT" '{acme_account_name:$a, allowed_domains:["r53.test"],
    allowed_domain_options:["bare_domains","subdomains"], dns_provider_name:"badsecret", dns_provider_type:"aws-route53"}')"
new_order r53bad '{"identifiers":["bad.r53.test"]}'
if wait_status r53bad "$ORDER" error 30; then ok "route53 order with a wrong secret_access_key ends in error"
else not_ok "route53 wrong secret: error (last $LAST_STATUS)"; fi
vault GET "$M/role/r53bad/order/$ORDER/status"
expect_true '.data.last_error | test("refused the credentials") and test("secret_access_key")' \
    "route53 wrong secret: last_error says the credentials were refused, names secret_access_key"
