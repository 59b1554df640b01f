# test/dns/route53.sh (sourced by test/dns/run.sh): the aws-route53 provider against moto:
# static keys, the credential chain from the environment, STS AssumeRole with external_id,
# zone lookup by name and by id, an unknown zone, bad input, and a full automatic order
# whose records reach Pebble through the bridge (test/dns/r53_bridge.py).

R53_ZONE=$(printf '%s' "$AWS_SETUP" | jq -r .zone_id)
R53_ROLE=$(printf '%s' "$AWS_SETUP" | jq -r .role_arn)
"$PY" test/dns/r53_bridge.py "$MOTO_URL" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$R53_ZONE" \
    r53.test "$NAMED_ADDR" "hmac-sha256:key-sha256:$NAMED_SECRET_sha256" 2>"$E2E_TMP/bridge.log" &
BRIDGE_PID=$!

# moto_txt NAME: the TXT values moto holds at NAME (one per line).
moto_txt() {
    "$PY" - "$MOTO_URL" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" "$R53_ZONE" "$1" <<'PYX'
import sys, boto3
url, kid, sec, zone, name = sys.argv[1:6]
c = boto3.client("route53", endpoint_url=url, region_name="us-east-1", aws_access_key_id=kid, aws_secret_access_key=sec)
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
    sts_before=$(grep -c '"POST / HTTP' "$MOTO_LOG")
    vault POST "$M/dns/test/workflow" "{\"identifier\":\"wf-$p.r53.test\",\"provider_type\":\"aws-route53\",\"provider_name\":\"$p\"}"
    expect_status 200 "route53 workflow ($p)"
    expect_jq .data.success true "route53 workflow ($p): success"
    got=$(moto_txt "_acme-challenge.wf-$p.r53.test")
    [ -z "$got" ] && ok "route53 workflow ($p): record deleted from Route 53" || not_ok "route53 workflow ($p): left $got"
    if [ "$p" = role ]; then
        [ "$(grep -c '"POST / HTTP' "$MOTO_LOG")" -gt "$sts_before" ] && ok "route53 workflow (role): STS AssumeRole was called" \
            || not_ok "route53 workflow (role): no STS call in moto's log"
    fi
done
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
