#!/usr/bin/env bash
# test/features/test_ip_identifiers.sh: IP address identifiers (RFC 8738, issue 14 §2).
# Role field allowed_ip_ranges (canonical CIDRs; empty refuses IPs naming the field);
# new-order in both workflows with Pebble validating http-01 over loopback (127.0.0.1, and
# ::1 when FEATURES_IPV6=1); canonical RFC 5952 text in replies, challenge look-ups by any
# spelling; dns-01 for an address is a 400 saying why; bad ranges store nothing.
set -u
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
source test/e2e/orders_lib.sh

e2e_start || { e2e_finish; exit 1; }
e2e_pebble_start || { e2e_finish; exit 1; }
M=$MOUNT
V6=${FEATURES_IPV6:-0}

vault PUT "$M/config/acme-account/pebble" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" \
    '{directory_url:$d, trusted_ca:$ca, email_contacts:["ops@example.com"]}')"
expect_status 200 "create acme account"

# ---- the field: default, bad input, canonical form
vault PUT "$M/role/names" '{"acme_account_name":"pebble","allowed_domains":["example.com"]}'
expect_status 200 "role without allowed_ip_ranges"
expect_jq '.data.allowed_ip_ranges' '[]' "allowed_ip_ranges defaults to empty"
vault PUT "$M/role/names/new-order" '{"identifiers":["127.0.0.1"]}'
expect_error_mentions allowed_ip_ranges "an IP identifier on a role without ranges names allowed_ip_ranges"
for bad in '10.0.0.5/8' 'example.com/8' '10.0.0.0/33' '2001:db8::/129' '10.0.0.0/08' 'fe80::1%lo'; do
    vault PUT "$M/role/badip" "$(jq -n --arg r "$bad" '{acme_account_name:"pebble", allowed_ip_ranges:[$r]}')"
    expect_error_mentions allowed_ip_ranges "allowed_ip_ranges \"$bad\" refused"
done
vault GET "$M/role/badip"
expect_status 404 "a refused new role was not stored"
vault PUT "$M/role/names" '{"allowed_ip_ranges":["10.0.0.0/8","1.2.3.5/31"]}'
expect_error_mentions "1.2.3.5/31" "update with a bad range refused"
vault GET "$M/role/names"
expect_jq '.data.allowed_ip_ranges' '[]' "the refused update left the role unchanged"

vault PUT "$M/role/ips" '{"acme_account_name":"pebble","allowed_domains":["example.com"],
    "allowed_ip_ranges":["127.0.0.0/8","0:0:0:0:0:0:0:1","2001:DB8:0::/32"],
    "allowed_challenge_types":["http-01","dns-01"]}'
expect_status 200 "role with allowed_ip_ranges"
expect_jq '.data.allowed_ip_ranges' '["127.0.0.0/8","::1/128","2001:db8::/32"]' "ranges stored canonically"
vault PUT "$M/role/dnsonly" '{"acme_account_name":"pebble","allowed_ip_ranges":["127.0.0.0/8"],
    "allowed_challenge_types":["dns-01"]}'
expect_status 200 "dns-01-only role with ranges"
vault PUT "$M/role/dnsonly/new-order" '{"identifiers":["127.0.0.1"]}'
expect_error_mentions "http-01 or tls-alpn-01" "IP under a dns-01-only role: 400 saying only http-01/tls-alpn-01 validate addresses"
vault PUT "$M/role/ips/new-order" '{"identifiers":["10.0.0.1"]}'
expect_error_mentions "not inside the allowed_ip_ranges" "IP outside the ranges refused"
vault PUT "$M/role/ips/new-order" '{"identifiers":["::1","0:0::1"]}'
expect_error_mentions "listed twice" "two spellings of one address are one identifier"

# ---- identifier workflow, validated by Pebble over loopback
if [ "$V6" = 1 ]; then IDS='["127.0.0.1","0:0:0::1"]' SHOWN='["127.0.0.1","::1"]'
else IDS='["127.0.0.1"]' SHOWN='["127.0.0.1"]'; echo "# no ::1 on this machine: IPv4 only"; fi
new_order ips "{\"identifiers\":$IDS}"
expect_status 200 "new-order for IP identifiers"
expect_jq '.data.identifiers' "$SHOWN" "identifiers shown canonically"
ID=$ORDER
wait_status ips "$ID" awaiting-challenge-fulfillment 30 && ok "IP order awaits fulfilment" ||
    not_ok "IP order awaiting (last: $LAST_STATUS, $(last_error ips "$ID"))"
vault GET "$M/role/ips/order/$ID/status"
expect_jq '.data.challenges | keys | sort' "$(jq -cn --argjson s "$SHOWN" '$s | sort')" "challenges keyed by canonical addresses"
expect_jq '[.data.challenges[][] .challenge_type] | map(select(. == "dns-01")) | length' 0 "the CA offers no dns-01 for an address"
challenge ips "$ID" 127.0.0.1 dns-01
expect_error_mentions "RFC 8738" "dns-01 for an IP: 400 naming why"
for ip in $(jq -r '.[]' <<<"$IDS"); do
    challenge ips "$ID" "$ip" http-01
    expect_status 200 "http-01 challenge looked up as $ip"
    publish "$ip" http-01
    fulfilled ips "$ID" "$ip" http-01
    expect_status 200 "fulfilled-challenge $ip"
done
wait_status ips "$ID" completed 60 && ok "Pebble validated the addresses over loopback; order completed" ||
    not_ok "IP order completed (last: $LAST_STATUS, $(last_error ips "$ID"))"
vault GET "$M/role/ips/order/$ID/fetch-cert"
expect_status 200 "fetch-cert of the IP order"
printf '%s' "$BODY" | jq -r .data.certificate > "$E2E_TMP/ip.pem"
sans=$(openssl x509 -in "$E2E_TMP/ip.pem" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr -d ' ')
want="IPAddress:127.0.0.1"; [ "$V6" = 1 ] && want="$want,IPAddress:0:0:0:0:0:0:0:1"
[ "$sans" = "$want" ] && ok "certificate carries the IP SANs ($sans)" || not_ok "certificate SANs: $sans, want $want"
if [ "$V6" = 1 ]; then q='0:0::1,127.0.0.1'; else q='127.0.0.1'; fi
vault GET "$M/role/ips/cached?identifiers=$q&min_validity_percentage=10"
expect_status 200 "cached finds the certificate by the addresses in another spelling and order"
expect_jq '.data.order_id' "\"$ID\"" "cached: the IP order"
vault GET "$M/lookup/order/$ID"
expect_jq '.data.identifiers' "$SHOWN" "lookup/order shows canonical addresses"

# ---- CSR workflow: IP SANs checked against the ranges
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$E2E_TMP/csr.key" -out "$E2E_TMP/ok.csr" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=test" \
    -addext "subjectAltName=IP:10.0.0.1" -keyout "$E2E_TMP/csr2.key" -out "$E2E_TMP/bad.csr" 2>/dev/null
vault PUT "$M/role/ips/new-order" "$(jq -n --rawfile c "$E2E_TMP/bad.csr" '{csr:$c}')"
expect_error_mentions "allowed_ip_ranges" "CSR with an IP SAN outside the ranges refused"
vault PUT "$M/role/names/new-order" "$(jq -n --rawfile c "$E2E_TMP/ok.csr" '{csr:$c}')"
expect_error_mentions "allowed_ip_ranges" "CSR with an IP SAN under a role without ranges refused"
new_order ips "$(jq -n --rawfile c "$E2E_TMP/ok.csr" '{csr:$c}')"
expect_status 200 "new-order with a CSR carrying an IP SAN"
CID=$ORDER
wait_status ips "$CID" awaiting-challenge-fulfillment 30 || not_ok "CSR IP order awaiting (last: $LAST_STATUS)"
challenge ips "$CID" 127.0.0.1 http-01
publish 127.0.0.1 http-01
fulfilled ips "$CID" 127.0.0.1 http-01
wait_status ips "$CID" completed 60 && ok "CSR order for 127.0.0.1 completed" ||
    not_ok "CSR IP order completed (last: $LAST_STATUS, $(last_error ips "$CID"))"

e2e_finish
