#!/usr/bin/env bash
# test/dns/run.sh: Vault-managed dns-01 with real parts: a BIND 9 (test/lib/named.sh) with
# TSIG keys and dynamic updates, Pebble resolving through it (PEBBLE_DNS_SERVER), dev-vault
# + the plugin. Covers config/dns/* (fields, secrets never returned, bad input naming the
# field, nothing half-stored, LIST), dns/test/workflow (every TSIG algorithm, wrong secret),
# automatic orders (identifiers, CSR, several names, wildcard), hybrid with http-01, the
# propagation timeout, records removed afterwards (asked of BIND), and SIGKILL of the
# plugin at each DNS step. Then the Route 53 provider against moto with its signature checks
# on (test/dns/route53.sh), and the AWS credential chain: shared credentials file with
# AWS_PROFILE, IMDSv2 (test/dns/aws_chain.sh, restarting the host with another environment).
# The azure-dns provider against the local Azure stand-in (test/dns/azure.sh), whose zone
# az.test BIND serves, and google-cloud-dns and cloudflare against theirs (test/dns/cloud.sh),
# each with a SIGKILL of the plugin while a published record is not yet visible.
# Prints "ok - "/"not ok - " lines and "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
# dev-vault: its rollback comes every 2 s here, so the record sweep after a crash shows in
# seconds (OpenBao's comes once a minute).
export HOST=dev-vault
HOST_DEVVAULT_ARGS=(-rollback-interval 2s)
# shellcheck source=test/e2e/lib.sh
source test/e2e/lib.sh
# shellcheck source=test/lib/named.sh
source test/lib/named.sh
# shellcheck source=test/lib/moto.sh
source test/lib/moto.sh
# shellcheck source=test/lib/azure.sh
source test/lib/azure.sh
# shellcheck source=test/lib/cloud.sh
source test/lib/cloud.sh
PY=$MOTO_VENV/bin/python

e2e_require named "apt-get install bind9" || { e2e_finish; exit 1; }
e2e_require dig "apt-get install bind9-dnsutils" || { e2e_finish; exit 1; }
e2e_require nsupdate "apt-get install bind9-dnsutils" || { e2e_finish; exit 1; }
stop_all() { [ -n "${BRIDGE_PID:-}" ] && kill "$BRIDGE_PID" 2>/dev/null; [ -n "${IMDS_PID:-}" ] && kill "$IMDS_PID" 2>/dev/null; azure_stop; cloud_stop; moto_stop; named_stop; e2e_cleanup; }
trap stop_all EXIT
NAMED_EXTRA_ZONES="az.test gc.test cf.test" named_start || { not_ok "BIND did not start"; e2e_finish; exit 1; }
azure_start || { not_ok "the local Azure server did not start"; e2e_finish; exit 1; }
cloud_start || { not_ok "the local Google/Cloudflare server did not start"; e2e_finish; exit 1; }
# Signature and IAM checks on after the five IAM calls of moto_setup.py (test/lib/moto.sh).
MOTO_AUTH_AFTER=5 moto_start || { not_ok "moto_server did not start"; e2e_finish; exit 1; }
# The AWS side first (moto's first calls are unauthenticated), then the plugin's environment:
# endpoints by AWS's override variables, the moto user's key for the credential chain.
AWS_SETUP=$("$PY" test/dns/moto_setup.py "$MOTO_URL" r53.test) || { not_ok "moto setup failed"; e2e_finish; exit 1; }
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_SHARED_CREDENTIALS_FILE AWS_ENDPOINT_URL
export AWS_ENDPOINT_URL_ROUTE_53=$MOTO_URL AWS_ENDPOINT_URL_STS=$MOTO_URL AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=$(printf '%s' "$AWS_SETUP" | jq -r .access_key_id)
export AWS_SECRET_ACCESS_KEY=$(printf '%s' "$AWS_SETUP" | jq -r .secret_access_key)
export PEBBLE_DNS_SERVER=$NAMED_ADDR
# The host runs under env -i: the plugin sees only what HOST_SERVER_ENV passes.
HOST_SERVER_ENV="AWS_ENDPOINT_URL_ROUTE_53=$MOTO_URL AWS_ENDPOINT_URL_STS=$MOTO_URL AWS_EC2_METADATA_DISABLED=true AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY $AZ_ENV $CL_ENV"
e2e_start || { e2e_finish; exit 1; }
e2e_pebble_start || { e2e_finish; exit 1; }
trap stop_all EXIT
M=$MOUNT

# ---- helpers -----------------------------------------------------------------------------

# order_status, wait_status, new_order, challenge, publish, fulfilled
# shellcheck source=test/e2e/orders_lib.sh
source test/e2e/orders_lib.sh
# no_txt NAME WHAT: BIND holds no TXT record at NAME.
no_txt() {
    local got
    got=$(named_txt "$1")
    if [ -z "$got" ]; then ok "$2: no TXT left at $1"; else not_ok "$2: TXT left at $1: $got"; fi
}
# until_no_txt NAME SECS: waits for BIND to hold no TXT at NAME.
until_no_txt() {
    local i
    for i in $(seq 1 $(( $2 * 5 ))); do [ -z "$(named_txt "$1")" ] && return 0; sleep 0.2; done
    return 1
}
# plugin_pid: the plugin process the host runs now. kill_plugin WHAT: its SIGKILL, waited for.
plugin_pid() { host_plugin_pids vault-plugin-secrets-pki-external-ca | head -1; }
kill_plugin() {
    local pid i
    pid=$(plugin_pid)
    if [ -z "$pid" ]; then not_ok "$1: no plugin process found"; return 1; fi
    kill -KILL "$pid"
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    ok "$1: plugin $pid killed"
}
# wait_seen ROLE ID STATUS SECS: polls fast for a transient status.
wait_seen() {
    local i
    for i in $(seq 1 $(( $4 * 20 ))); do
        [ "$(order_status "$1" "$2")" = "$3" ] && return 0
        sleep 0.05
    done
    return 1
}

# crash_published WHAT ROLE NAME CTL LEFT: SIGKILL of the plugin while the record for NAME is
# published at a cloud stand-in but not yet visible: CTL (azure_ctl or cloud_ctl) holds the
# server's mirror into BIND, so the order sits in vault-challenge-propagating. After the
# kill the mirror resumes; the relaunched plugin must complete the order and delete the
# record at the cloud. LEFT NAME prints the values the cloud still holds for NAME's record.
crash_published() {
    local what=$1 role=$2 name=$3 ctl=$4 left=$5 id i
    "$ctl" hold '{"on":true}' || not_ok "$what crash: hold control refused"
    new_order "$role" "{\"identifiers\":[\"$name\"]}"
    id=$ORDER
    if wait_seen "$role" "$id" vault-challenge-propagating 30; then ok "$what crash: order in vault-challenge-propagating"
    else not_ok "$what crash: vault-challenge-propagating not seen ($(order_status "$role" "$id"))"; fi
    [ -n "$("$left" "$name")" ] && ok "$what crash: the record is published at the cloud" || not_ok "$what crash: record not at the cloud"
    [ -z "$(named_txt "_acme-challenge.$name")" ] && ok "$what crash: and not yet visible in DNS" || not_ok "$what crash: record already in BIND"
    kill_plugin "$what crash (published, during propagation)"
    "$ctl" hold '{"on":false}' || not_ok "$what crash: release control refused"
    if wait_status "$role" "$id" completed 60; then ok "$what crash: order completed after relaunch"
    else not_ok "$what crash: completed (last $LAST_STATUS: $(last_error "$role" "$id"))"; fi
    for i in $(seq 1 50); do [ -z "$("$left" "$name")" ] && break; sleep 0.2; done
    [ -z "$("$left" "$name")" ] && ok "$what crash: no record left at the cloud" || not_ok "$what crash: left at the cloud: $("$left" "$name")"
}
provider() {   # NAME ALG [extra json fields]
    local alg=$2 secret_var="NAMED_SECRET_$2"
    vault POST "$M/config/dns/rfc2136/$1" "{\"identifiers\":\"example.test,*.example.test\",
        \"nameserver\":\"$NAMED_ADDR\",\"tsig_key_name\":\"key-$alg\",
        \"tsig_secret\":\"${!secret_var}\",\"tsig_algorithm\":\"hmac-$alg\"${3:+,$3}}"
}

# ---- config/dns -------------------------------------------------------------------------

provider bind sha256
expect_status 200 "create rfc2136 provider"
expect_jq '.data | [.name, .type, .identifiers, .nameserver, .tsig_key_name, .tsig_algorithm, .ttl, .propagation_timeout]' \
    "[\"bind\",\"rfc2136\",[\"example.test\",\"*.example.test\"],\"$NAMED_ADDR\",\"key-sha256\",\"hmac-sha256\",\"1m0s\",\"5m0s\"]" \
    "create reply: fields, ttl as a Go duration"
expect_true '.data | has("tsig_secret") | not' "create reply has no tsig_secret"
vault GET "$M/config/dns/rfc2136/bind"
expect_status 200 "read provider"
expect_true '(.data | has("tsig_secret") | not) and (.data.creation_date | test("^[0-9]{4}-")) and (.data.last_updated_date | test("^[0-9]{4}-"))' \
    "read: no secret, RFC 3339 dates"
if grep -qF "$NAMED_SECRET_sha256" "$HOST_LOG"; then not_ok "tsig_secret appears in the log"; else ok "tsig_secret is not in the log"; fi
vault POST "$M/config/dns/rfc2136/bind" '{"ttl":"120s"}'
expect_jq '.data | [.ttl, .tsig_algorithm, .identifiers[0]]' '["2m0s","hmac-sha256","example.test"]' "update keeps unsent fields"
vault POST "$M/config/dns/rfc2136/bind" '{"ttl":"60s"}'
for alg in $NAMED_ALGS; do
    provider "bind-$alg" "$alg"
    expect_status 200 "create provider with hmac-$alg"
done
vault POST "$M/config/dns/rfc2136/default-alg" "{\"identifiers\":\"nothing.test\",\"nameserver\":\"$NAMED_ADDR\",\"tsig_key_name\":\"k\",\"tsig_secret\":\"$NAMED_SECRET_sha256\"}"
expect_jq .data.tsig_algorithm '"hmac-sha256"' "tsig_algorithm defaults to hmac-sha256"
vault DELETE "$M/config/dns/rfc2136/default-alg"
vault LIST "$M/config/dns"
expect_status 200 "LIST config/dns"
expect_true '(.data.keys | index("rfc2136/bind")) != null and .data.key_info["rfc2136/bind"] == {"name":"bind","type":"rfc2136"}' \
    "LIST config/dns: keys <type>/<name>, key_info {name, type}"
vault LIST "$M/config/dns/rfc2136"
expect_true '.data.keys | index("bind-sha512") != null' "LIST config/dns/rfc2136"

# bad input: 400 naming the field, nothing stored
bad() {   # PATH JSON WORD WHAT
    vault POST "$M/$1" "$2"
    expect_error_mentions "$3" "$4"
    vault GET "$M/$1"
    [ "$STATUS" = 404 ] && ok "$4: nothing stored" || not_ok "$4: stored anyway (HTTP $STATUS)"
}
base="\"nameserver\":\"$NAMED_ADDR\",\"tsig_key_name\":\"k\",\"tsig_secret\":\"$NAMED_SECRET_sha256\""
vault POST "$M/config/dns/bogus-type/x" '{"identifiers":"a.test"}'
expect_error_mentions "type" "unknown provider type"
vault LIST "$M/config/dns"
expect_true '.data.keys | map(select(startswith("bogus") or startswith("azure"))) | length == 0' "unknown types stored nothing"
bad config/dns/rfc2136/b1 "{$base}" "identifiers" "identifiers missing"
bad config/dns/rfc2136/b2 "{$base,\"identifiers\":\"exa mple.test\"}" "identifiers" "identifier with a space"
bad config/dns/rfc2136/b3 "{$base,\"identifiers\":\"a.*.example.test\"}" "identifiers" "'*' not leftmost"
bad config/dns/rfc2136/b4 "{\"identifiers\":\"a.test\",\"nameserver\":\"not an ip\",\"tsig_key_name\":\"k\",\"tsig_secret\":\"$NAMED_SECRET_sha256\"}" "nameserver" "bad nameserver"
bad config/dns/rfc2136/b5 "{\"identifiers\":\"a.test\",\"nameserver\":\"127.0.0.1:99999\",\"tsig_key_name\":\"k\",\"tsig_secret\":\"$NAMED_SECRET_sha256\"}" "nameserver" "nameserver port out of range"
bad config/dns/rfc2136/b6 "{\"identifiers\":\"a.test\",\"nameserver\":\"$NAMED_ADDR\",\"tsig_key_name\":\"k\",\"tsig_secret\":\"not base64!!\"}" "tsig_secret" "non-base64 tsig_secret"
bad config/dns/rfc2136/b7 "{$base,\"identifiers\":\"a.test\",\"tsig_algorithm\":\"hmac-md4\"}" "tsig_algorithm" "unknown tsig_algorithm"
bad config/dns/rfc2136/b8 "{$base,\"identifiers\":\"a.test\",\"ttl\":\"0s\"}" "ttl" "ttl 0"

# ---- dns/test/workflow ---------------------------------------------------------------------

for alg in $NAMED_ALGS; do
    vault POST "$M/dns/test/workflow" "{\"identifier\":\"wf-$alg.example.test\",\"provider_type\":\"rfc2136\",\"provider_name\":\"bind-$alg\"}"
    expect_status 200 "workflow with hmac-$alg"
    expect_jq '.data | [.success, .record_name, .provider_type, .provider_name]' \
        "[true,\"_acme-challenge.wf-$alg.example.test.\",\"rfc2136\",\"bind-$alg\"]" "workflow hmac-$alg reply"
    no_txt "_acme-challenge.wf-$alg.example.test" "workflow hmac-$alg cleaned up"
done
vault POST "$M/dns/test/workflow" '{"identifier":"keep.example.test","provider_type":"rfc2136","provider_name":"bind","omit_cleanup":true}'
expect_jq .data.success true "workflow with omit_cleanup"
if named_txt _acme-challenge.keep.example.test | grep -q vault-dns-test; then ok "omit_cleanup left the record"; else not_ok "omit_cleanup: record missing"; fi
vault POST "$M/config/dns/rfc2136/wrongkey" "{\"identifiers\":\"example.test,*.example.test\",\"nameserver\":\"$NAMED_ADDR\",\"tsig_key_name\":\"key-sha256\",\"tsig_secret\":\"$(printf 'wrong secret of 32 bytes........' | base64)\"}"
expect_status 200 "provider with a wrong secret is accepted (no network at write)"
vault POST "$M/dns/test/workflow" '{"identifier":"bad.example.test","provider_type":"rfc2136","provider_name":"wrongkey"}'
expect_error_mentions "TSIG" "workflow with a wrong secret says TSIG"
expect_jq '.data.success' false "workflow failure carries data.success=false"
vault POST "$M/dns/test/workflow" '{"identifier":"x.nothere.test","provider_type":"rfc2136","provider_name":"bind"}'
expect_error_mentions "identifier" "workflow for a name the provider does not cover"
vault POST "$M/dns/test/workflow" '{"identifier":"a.example.test","provider_type":"nope","provider_name":"bind"}'
expect_error_mentions "provider_type" "workflow with an unknown provider_type"
vault POST "$M/dns/test/workflow" '{"identifier":"a.example.test","provider_type":"rfc2136","provider_name":"absent"}'
expect_error_mentions "provider_name" "workflow with a missing provider"

source test/dns/orders.sh
source test/dns/azure.sh
CL_T0=$(now_ms)
source test/dns/cloud.sh
echo "# cloud.sh: $(( ($(now_ms) - CL_T0) / 1000 )) s" >&2
source test/dns/route53.sh
source test/dns/crash.sh
source test/dns/aws_chain.sh

e2e_finish
