#!/usr/bin/env bash
# test/openbao/run.sh: what only a real server shows, on one OpenBao 2.7.2 server (one
# Pebble), the plugin installed from the release archive:
#   - the `bao` CLI flows exactly as spec 001 prints them (`bao` for `vault`): comma strings,
#     @file, `read` with parameters, list, lookup by colon serial;
#   - namespaces (-namespace): a mount per namespace, nothing seen across;
#   - a userpass login whose identity entity (metadata) and group drive templated
#     allowed_domains;
#   - an ACL policy allowing read but not update on a role: 403 from the server;
#   - `bao plugin reload` with an order pending; `secrets tune`, `secrets move` and
#     `secrets disable` with pending orders;
#   - an audit device declared in the server's config: no field of ours in clear (keys,
#     certificates' private keys): HMAC'd values only.
# (Server restart mid-order on raft storage is in test/e2e/test_orders.sh, run on OpenBao by
# make test.) Prints "ok - " / "not ok - " lines and "N passed, N failed".
set -u
cd "$(dirname "$0")"
source ../e2e/lib.sh
HOST=openbao
PLUGIN=vault-plugin-secrets-pki-external-ca
PLUGIN_ZIP=$(ls "$BUILD"/dist/${PLUGIN}_*_linux_*.zip 2>/dev/null | head -1)

suite_finish() {
    host_stop
    local log=${HOST_LOG:-/dev/null}
    bad=$(grep 'plugin process exited' "$log" 2>/dev/null | grep 'error=' | grep -v 'signal: killed')
    if [ -z "$bad" ] && ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log" 2>/dev/null; then
        ok "no plugin process crashed or reported a sanitizer error"
    else not_ok "a plugin crashed: $(printf '%.400s' "$bad")"; fi
    echo "$E2E_PASS passed, $E2E_FAIL failed"
    [ "$E2E_FAIL" -eq 0 ]
    exit $?
}

# bao_ok WHAT ARGS...: the bao CLI (as $CLI_TOKEN, default root) succeeds; output in $OUT.
bao_ok() {
    local what=$1; shift
    if OUT=$(HOST_TOKEN=${CLI_TOKEN:-root} host_bao "$@" 2>&1); then ok "$what"
    else not_ok "$what: bao $*: $(printf '%.300s' "$OUT")"; fi
}
# bao_fails WHAT CODE ARGS...: the CLI fails and its error names HTTP CODE.
bao_fails() {
    local what=$1 code=$2; shift 2
    if OUT=$(HOST_TOKEN=${CLI_TOKEN:-root} host_bao "$@" 2>&1); then not_ok "$what: succeeded: $(printf '%.200s' "$OUT")"
    elif grep -q "Code: $code" <<<"$OUT"; then ok "$what (HTTP $code)"
    # The CLI reports a read's 404 as "No value found at <path>" (exit 2).
    elif [ "$code" = 404 ] && grep -q '^No value found at' <<<"$OUT"; then ok "$what (404: no value found)"
    else not_ok "$what: want HTTP $code: $(printf '%.300s' "$OUT")"; fi
}
field() { HOST_TOKEN=${CLI_TOKEN:-root} host_bao read -field="$1" "${@:2}" 2>/dev/null; }

wait_field() {   # PATH FIELD WANT SECONDS [-namespace=X]
    local got="" end=$((SECONDS + $4))
    while [ "$SECONDS" -lt "$end" ]; do
        got=$(field "$2" ${5:+"$5"} "$1")
        [ "$got" = "$3" ] && return 0
        case "$got" in error|expired|revoked) break ;; esac
        sleep 0.1
    done
    LAST=$got
    return 1
}
# fulfil_http MOUNT ROLE ID IDENT [NS]: read the challenge with the CLI, publish, fulfil.
fulfil_http() {
    local ns=${5:+-namespace=$5} tok auth
    OUT=$(HOST_TOKEN=${CLI_TOKEN:-root} host_bao read -format=json $ns "$1/role/$2/order/$3/challenges" identifier="$4" challenge_type=http-01)
    tok=$(jq -r .data.challenge_token <<<"$OUT") auth=$(jq -r .data.challenge_auth <<<"$OUT")
    curl -sS -o /dev/null -X POST "$CHALLTESTSRV_URL/add-http01" -d "{\"token\":\"$tok\",\"content\":\"$auth\"}"
    HOST_TOKEN=${CLI_TOKEN:-root} host_bao write $ns "$1/role/$2/order/$3/fulfilled-challenge" identifier="$4" challenge_type=http-01 >/dev/null
}
# Orders Pebble created (a newOrder refused for a bad nonce, 5% of them by Pebble's default,
# is retried: two requests, one order); any newOrder request at all for "no CA activity".
ca_orders() { grep -c 'Added order .* to the db' "$PEBBLE_TMP/pebble.log" 2>/dev/null || true; }
ca_order_reqs() { grep -c 'POST /order-plz' "$PEBBLE_TMP/pebble.log" 2>/dev/null || true; }

# ---- prerequisites, server with an audit device in its config -------------------------------
for t in curl jq openssl unzip; do e2e_require "$t" "apt-get install $t" || suite_finish; done
[ -x "$HOST_BAO" ] || { not_ok "prerequisite: $HOST_BAO (run: bash scripts/deps.sh)"; suite_finish; }
[ -n "$PLUGIN_ZIP" ] || { not_ok "prerequisite: release archive in $BUILD/dist (run: make dist)"; suite_finish; }
e2e_pebble_start || suite_finish
trap 'host_stop; e2e_cleanup' EXIT
mkdir -p "$E2E_TMP/plugins"
unzip -qo "$PLUGIN_ZIP" "$PLUGIN" -d "$E2E_TMP/plugins" || { not_ok "unzip $PLUGIN_ZIP"; suite_finish; }
AUDIT=$E2E_TMP/audit.log
HOST_OPENBAO_EXTRA_HCL="audit \"file\" \"file\" {
  options {
    file_path = \"$AUDIT\"
  }
}"
host_start "$E2E_TMP/server" "$E2E_TMP/plugins" || { not_ok "OpenBao starts"; suite_finish; }
HOST_TOKEN=root host_bao audit list 2>/dev/null | grep -q '^file/' && ok "audit device declared in the config is enabled" ||
    not_ok "audit device from the config: $(HOST_TOKEN=root host_bao audit list 2>&1 | head -3)"
cp "$PEBBLE_CA_PEM" "$E2E_TMP/pebble-ca.pem"
cd "$E2E_TMP"   # @file arguments as a user gives them, relative to the work directory

# ---- spec 001 setup, as printed (bao for vault) -------------------------------------------
SHA=$(unzip -p "$PLUGIN_ZIP" SHA256SUMS | awk -v p="$PLUGIN" '$2 == p { print $1 }')
bao_ok "bao plugin register -sha256 (from SHA256SUMS) -version" plugin register -sha256="$SHA" -version="v$(cat "$E2E_ROOT/VERSION")" secret "$PLUGIN"
bao_ok "spec 001: bao secrets enable -path=pki-external-ca $PLUGIN" secrets enable -path=pki-external-ca "$PLUGIN"
M=pki-external-ca
bao_ok "spec 001: bao write config/acme-account/letsencrypt-prod (comma list, key_type)" \
    write $M/config/acme-account/letsencrypt-prod directory_url="$ACME_DIR" \
    email_contacts="admin@example.com,security@example.com" key_type="ec-256" trusted_ca=@pebble-ca.pem
bao_ok "bao read config/acme-account/letsencrypt-prod" read -format=json $M/config/acme-account/letsencrypt-prod
jq -e '.data.email_contacts == ["admin@example.com","security@example.com"]' <<<"$OUT" >/dev/null &&
    ok "account read back: both contacts" || not_ok "account read back: $(printf '%.200s' "$OUT")"
cat > role.json <<'JSON'
{ "acme_account_name": "letsencrypt-prod", "allowed_domains": "example.com,www.example.com,api.example.com", "allowed_domain_options": "bare_domains" }
JSON
bao_ok "spec 001: bao write role/web-servers @role.json" write $M/role/web-servers @role.json
bao_ok "role read" read -format=json $M/role/web-servers
jq -e '.data.allowed_domains == ["example.com","www.example.com","api.example.com"] and .data.allowed_domain_options == ["bare_domains"]' <<<"$OUT" >/dev/null &&
    ok "role.json comma strings became lists" || not_ok "role read: $(printf '%.300s' "$OUT")"
for opt in "example.com,www.example.com bare_domains" "example.com subdomains" "*.example.com wildcards dns-01" "*.prod.example.com,*.staging.example.com globs"; do
    set -- $opt
    bao_ok "spec 001 role example: $2" write $M/role/example acme_account_name=letsencrypt-prod \
        allowed_domains="$1" allowed_domain_options="$2" ${3:+allowed_challenge_types=$3}
done

ca0=$(ca_orders)
bao_ok "spec 001: bao write role/web-servers/new-order identifiers=\"www.example.com,api.example.com\"" \
    write -format=json $M/role/web-servers/new-order identifiers="www.example.com,api.example.com"
ID=$(jq -r .data.order_id <<<"$OUT")
wait_field $M/role/web-servers/order/$ID/status order_status awaiting-challenge-fulfillment 30 &&
    ok "spec 001: bao read .../status reaches awaiting-challenge-fulfillment" || not_ok "status (last $LAST)"
for ident in www.example.com api.example.com; do
    bao_ok "spec 001: bao read .../challenges identifier=$ident challenge_type=http-01" \
        read -format=json $M/role/web-servers/order/$ID/challenges identifier=$ident challenge_type=http-01
    fulfil_http $M web-servers "$ID" $ident && ok "spec 001: bao write .../fulfilled-challenge ($ident)" || not_ok "fulfilled-challenge $ident"
done
wait_field $M/role/web-servers/order/$ID/status order_status completed 60 && ok "order completed" || not_ok "completed (last $LAST)"
bao_ok "spec 001: bao read .../fetch-cert" read -format=json $M/role/web-servers/order/$ID/fetch-cert
SERIAL=$(jq -r .data.serial_number <<<"$OUT")
jq -r .data.certificate <<<"$OUT" > web.pem
openssl x509 -in web.pem -noout -ext subjectAltName 2>/dev/null | grep -q 'DNS:api.example.com' &&
    ok "fetch-cert: certificate for both identifiers" || not_ok "fetch-cert certificate SANs"
bao_ok "spec 001: bao read lookup/cert/<colon serial>" read -format=json $M/lookup/cert/$SERIAL
[ "$(jq -r .data.order_id <<<"$OUT")" = "$ID" ] && ok "lookup/cert finds the order" || not_ok "lookup/cert: $OUT"
[ $(( $(ca_orders) - ca0 )) = 1 ] && ok "one CA order for the CLI flow" || not_ok "$(( $(ca_orders) - ca0 )) CA orders"
bao_ok "bao write new-order (a pending one)" write -format=json $M/role/web-servers/new-order identifiers=example.com
PENDING=$(jq -r .data.order_id <<<"$OUT")
bao_ok "spec 001: bao list role/web-servers/active-orders" list -format=json $M/role/web-servers/active-orders
jq -e --arg p "$PENDING" 'index($p) != null' <<<"$OUT" >/dev/null && ok "active-orders lists the pending order" || not_ok "active-orders: $OUT"

# ---- an ACL policy: read but not update on a role --------------------------------------------
printf 'path "%s/role/web-servers" { capabilities = ["read"] }\n' $M > ro.hcl
bao_ok "bao policy write role-reader" policy write role-reader ro.hcl
RO=$(HOST_TOKEN=root host_bao token create -policy=role-reader -field=token)
CLI_TOKEN=$RO bao_ok "read-only token: bao read role/web-servers" read $M/role/web-servers
CLI_TOKEN=$RO bao_fails "read-only token: bao write role/web-servers is denied by the server" 403 \
    write $M/role/web-servers allowed_domains=evil.com
CLI_TOKEN=$RO bao_fails "read-only token: new-order is denied" 403 write $M/role/web-servers/new-order identifiers=example.com
[ "$(field allowed_domains $M/role/web-servers)" = "[example.com www.example.com api.example.com]" ] &&
    ok "denied update changed nothing" || not_ok "role after the denied update: $(field allowed_domains $M/role/web-servers)"

# ---- identity: userpass login, entity metadata, group -> templated allowed_domains ----------
bao_ok "bao auth enable userpass" auth enable userpass
printf 'path "%s/*" { capabilities = ["create","read","update","list"] }\n' $M > user.hcl
bao_ok "policy pki-user" policy write pki-user user.hcl
bao_ok "userpass user alice" write auth/userpass/users/alice password=alice-pw policies=pki-user
bao_ok "userpass user bob" write auth/userpass/users/bob password=bob-pw policies=pki-user
UPACC=$(HOST_TOKEN=root host_bao auth list -format=json | jq -r '.["userpass/"].accessor')
for who in alice:blue bob:red; do
    n=${who%%:*} team=${who##*:}
    bao_ok "identity entity $n (metadata team=$team)" write -format=json identity/entity name=$n metadata=team=$team
    eid=$(jq -r .data.id <<<"$OUT")
    [ "$n" = alice ] && ALICE_EID=$eid
    bao_ok "entity alias $n on userpass" write identity/entity-alias name=$n canonical_id="$eid" mount_accessor="$UPACC"
done
bao_ok "identity group ops with alice" write identity/group name=ops member_entity_ids="$ALICE_EID"
bao_ok "spec 001 user-certs role (entity name template)" write $M/role/user-certs acme_account_name=letsencrypt-prod \
    allowed_domains="{{identity.entity.name}}.users.example.com" allowed_domain_options=bare_domains
bao_ok "role with group and metadata templates" write $M/role/group-certs acme_account_name=letsencrypt-prod \
    allowed_domains="{{identity.groups.names.ops}}.example.com,{{identity.entity.metadata.team}}.example.org" \
    allowed_domain_options=bare_domains
ALICE=$(host_bao login -no-store -method=userpass -token-only username=alice password=alice-pw 2>/dev/null)
BOB=$(host_bao login -no-store -method=userpass -token-only username=bob password=bob-pw 2>/dev/null)
[ -n "$ALICE" ] && [ -n "$BOB" ] && ok "bao login -method=userpass for alice and bob" || not_ok "userpass logins"
CLI_TOKEN=$ALICE bao_ok "alice (logged in) may order alice.users.example.com" write $M/role/user-certs/new-order identifiers=alice.users.example.com
CLI_TOKEN=$ALICE bao_fails "alice may not order bob.users.example.com" 400 write $M/role/user-certs/new-order identifiers=bob.users.example.com
CLI_TOKEN=$BOB bao_ok "bob may order bob.users.example.com" write $M/role/user-certs/new-order identifiers=bob.users.example.com
CLI_TOKEN=$ALICE bao_ok "alice: group ops and metadata team=blue resolve" write $M/role/group-certs/new-order identifiers=ops.example.com,blue.example.org
CLI_TOKEN=$BOB bao_fails "bob is not in group ops" 400 write $M/role/group-certs/new-order identifiers=ops.example.com
bao_fails "root token (no entity) is denied a templated name" 400 write $M/role/user-certs/new-order identifiers=alice.users.example.com

# ---- namespaces ------------------------------------------------------------------------------
bao_ok "bao namespace create team1" namespace create team1
bao_ok "secrets enable in namespace team1" secrets enable -namespace=team1 -path=pki "$PLUGIN"
bao_ok "account in team1" write -namespace=team1 pki/config/acme-account/t1 directory_url="$ACME_DIR" \
    email_contacts=t1@example.com key_type=ec-256 trusted_ca=@pebble-ca.pem
bao_ok "role in team1" write -namespace=team1 pki/role/r1 acme_account_name=t1 allowed_domains=team1.example.com allowed_domain_options=bare_domains
bao_ok "new-order in team1" write -format=json -namespace=team1 pki/role/r1/new-order identifiers=team1.example.com
NSID=$(jq -r .data.order_id <<<"$OUT")
wait_field pki/role/r1/order/$NSID/status order_status awaiting-challenge-fulfillment 30 -namespace=team1 &&
    ok "team1 order reaches awaiting" || not_ok "team1 order (last $LAST)"
fulfil_http pki r1 "$NSID" team1.example.com team1
wait_field pki/role/r1/order/$NSID/status order_status completed 60 -namespace=team1 &&
    ok "team1 order completed inside its namespace" || not_ok "team1 completed (last $LAST)"
bao_fails "root namespace has no pki/ mount" 404 read pki/config/acme-account/t1
bao_fails "root namespace's mount does not see team1's account" 404 read $M/config/acme-account/t1
HOST_TOKEN=root host_bao list -namespace=team1 pki/config/acme-account 2>/dev/null | grep -qx letsencrypt-prod &&
    not_ok "team1 sees the root namespace's account" || ok "team1 does not see the root namespace's accounts"

# ---- plugin reload with an order pending -----------------------------------------------------
old=$(host_plugin_pids "$PLUGIN" | sort | tr '\n' ' ')
bao_ok "bao plugin reload -plugin=$PLUGIN" plugin reload -plugin="$PLUGIN"
# The reload is asynchronous: poll (each read relaunches the plugin if it is gone).
for _ in $(seq 1 50); do
    field order_status $M/role/web-servers/order/$PENDING/status >/dev/null
    new=$(host_plugin_pids "$PLUGIN" | sort | tr '\n' ' ')
    [ -n "$new" ] && [ "$new" != "$old" ] && break
    sleep 0.2
done
[ -n "$new" ] && [ "$new" != "$old" ] && ok "reload runs a new plugin process ($old-> $new)" || not_ok "reload: pids $old -> $new"
wait_field $M/role/web-servers/order/$PENDING/status order_status awaiting-challenge-fulfillment 30 &&
    ok "pending order intact after reload" || not_ok "pending order after reload (last $LAST)"

# ---- secrets tune / move / disable with pending orders ---------------------------------------
bao_ok "bao secrets tune -description with a pending order" secrets tune -description="moved soon" -default-lease-ttl=1h $M
HOST_TOKEN=root host_bao secrets list -format=json | jq -e --arg m "$M/" '.[$m].description == "moved soon"' >/dev/null &&
    ok "tuned description shown by secrets list" || not_ok "secrets tune not applied"
bao_ok "order still readable after tune" read $M/role/web-servers/order/$PENDING/status
bao_ok "bao secrets move $M pki-moved with a pending order" secrets move $M pki-moved
for _ in $(seq 1 50); do field order_status pki-moved/role/web-servers/order/$PENDING/status >/dev/null && break; sleep 0.1; done
[ "$(field order_status pki-moved/role/web-servers/order/$PENDING/status)" = awaiting-challenge-fulfillment ] &&
    ok "moved mount keeps the pending order" || not_ok "after move: $(field order_status pki-moved/role/web-servers/order/$PENDING/status)"
fulfil_http pki-moved web-servers "$PENDING" example.com
wait_field pki-moved/role/web-servers/order/$PENDING/status order_status completed 60 &&
    ok "the pending order completes at the new path" || not_ok "order at the new path (last $LAST)"
bao_fails "old path is gone" 404 read $M/role/web-servers
bao_ok "new-order left pending before disable" write -format=json pki-moved/role/web-servers/new-order identifiers=www.example.com
LEFT=$(jq -r .data.order_id <<<"$OUT")
# The CA order is placed by the worker after new-order answers: wait for it, so that what
# the CA sees after the disable can only come from a worker that outlived its mount.
wait_field pki-moved/role/web-servers/order/$LEFT/status order_status awaiting-challenge-fulfillment 30 ||
    not_ok "order before disable (last $LAST)"
bao_ok "bao secrets disable with a pending order" secrets disable pki-moved
ca1=$(ca_order_reqs); sleep 2
[ "$(ca_order_reqs)" = "$ca1" ] && ok "disabled mount: no CA activity afterwards" || not_ok "newOrder requests after disable: $ca1 -> $(ca_order_reqs)"
bao_ok "re-enable at the same path" secrets enable -path=pki-moved "$PLUGIN"
bao_fails "re-enabled mount starts empty (the disabled mount's storage is gone)" 404 read pki-moved/lookup/order/$LEFT

# ---- audit log: nothing of ours in clear --------------------------------------------------------
sleep 0.5
n=$(wc -l < "$AUDIT")
[ "$n" -gt 50 ] && ok "audit log recorded the session ($n entries)" || not_ok "audit log has $n entries"
if grep -qE 'PRIVATE KEY|BEGIN CERTIFICATE REQUEST' "$AUDIT"; then
    not_ok "audit log carries key or CSR PEM in clear"
else ok "audit log: no private key or CSR in clear"; fi
jq -r 'select(.type == "response" and (.request.path // "" | test("fetch-cert$"))) | .response.data.private_key' "$AUDIT" | head -1 |
    grep -q '^hmac-sha256:' && ok "audit log: fetch-cert private_key is HMAC'd" || not_ok "fetch-cert private_key not HMAC'd in the audit log"
grep -q 'alice-pw\|bob-pw' "$AUDIT" && not_ok "audit log carries a userpass password" || ok "audit log: no password in clear"

suite_finish
