#!/usr/bin/env bash
# scripts/demo.sh (make demo): a certificate from an ACME CA through the plugin, end to end.
# Starts Pebble + challtestsrv (test/lib/pebble.sh) and build/dev-vault on loopback (or uses
# $VAULT_ADDR/$VAULT_TOKEN when both are set), registers and mounts the plugin through the
# HTTP API as with a real Vault, then: account, role, an identifier order fulfilled with
# http-01, fetch-cert (subject, SANs, issuer, validity), a CSR order with dns-01, and
# automatic DNS-01: an RFC 2136 provider on a local BIND (test/lib/named.sh), one new-order,
# the certificate, no other call.
# Every step is printed as the curl command a user would type. Processes are stopped by PID.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
MOUNT=pki-external-ca
T0=$SECONDS
TMP=$(mktemp -d /tmp/pki-demo.XXXXXX)
PIDS=()

cleanup() {
    local pid
    if declare -F pebble_stop >/dev/null; then pebble_stop >/dev/null 2>&1; fi
    if declare -F named_stop >/dev/null; then named_stop >/dev/null 2>&1; fi
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT

die() { echo "demo: $*" >&2; exit 1; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
for tool in curl jq openssl; do command -v $tool >/dev/null || die "$tool not found (apt-get install $tool)"; done

# api METHOD PATH [JSON]: prints the curl command, runs it, leaves the reply in $BODY.
api() {
    local method=$1 path=$2 data=${3-} shown code
    local args=(-sS -o "$TMP/reply" -w '%{http_code}' -X "$method" -H "X-Vault-Token: $VAULT_TOKEN")
    if [ -n "$data" ]; then
        shown=$(printf '%s' "$data" | jq -c . 2>/dev/null || printf '%s' "$data")
        [ ${#shown} -gt 160 ] && shown="${shown:0:157}..."
        printf '$ curl -s -X %s -H "X-Vault-Token: $VAULT_TOKEN" -d '\''%s'\'' $VAULT_ADDR/v1/%s\n' \
            "$method" "$shown" "$path"
        args+=(-H 'Content-Type: application/json' --data-binary "$data")
    else
        printf '$ curl -s %s-H "X-Vault-Token: $VAULT_TOKEN" $VAULT_ADDR/v1/%s\n' \
            "$([ "$method" = GET ] || echo "-X $method ")" "$path"
    fi
    code=$(curl "${args[@]}" "$VAULT_ADDR/v1/$path") || code=000
    BODY=$(cat "$TMP/reply" 2>/dev/null)
    case "$code" in 2??) ;; *) printf '%s\n' "$BODY" >&2; die "HTTP $code: $method $path" ;; esac
}
show() { printf '%s' "$BODY" | jq "$@"; }

# wait_for ROLE ID STATUS: polls the order status (as a client would), 30 s at most.
wait_for() {
    local st=""
    printf '$ curl -s -H "X-Vault-Token: $VAULT_TOKEN" $VAULT_ADDR/v1/%s/role/%s/order/%s/status   # until %s\n' \
        "$MOUNT" "$1" "$2" "$3"
    for _ in $(seq 1 300); do
        st=$(curl -sS -H "X-Vault-Token: $VAULT_TOKEN" "$VAULT_ADDR/v1/$MOUNT/role/$1/order/$2/status" | jq -r .data.order_status)
        [ "$st" = "$3" ] && { echo "  order_status: $st"; return 0; }
        case "$st" in error|expired|revoked) break ;; esac
        sleep 0.1
    done
    curl -sS -H "X-Vault-Token: $VAULT_TOKEN" "$VAULT_ADDR/v1/$MOUNT/role/$1/order/$2/status" | jq .data >&2
    die "order $2 did not reach $3 (last: $st)"
}

# challtestsrv IS the "web server" / "DNS server" of this demo.
cts() {
    printf '$ curl -s -X POST %s/%s -d '\''%s'\''   # challtestsrv plays web/DNS server\n' "$CHALLTESTSRV_URL" "$1" "$2"
    curl -sS -X POST "$CHALLTESTSRV_URL/$1" -d "$2" >/dev/null
}

step "Start a local DNS server (BIND: zones example.com and example.test, TSIG keys)"
# shellcheck source=/dev/null
source "$ROOT/test/lib/named.sh"
NAMED_EXTRA_ZONES=example.com named_start || die "BIND failed to start (apt-get install bind9 bind9-dnsutils)"
# Pebble resolves through it: names point at 127.0.0.1, where challtestsrv answers http-01.
export PEBBLE_DNS_SERVER=$NAMED_ADDR

step "Start Pebble (ACME CA) and challtestsrv"
# shellcheck source=/dev/null
source "$ROOT/test/lib/pebble.sh"
pebble_start || die "pebble failed to start (apt-get install pebble)"
trap cleanup EXIT   # pebble_start installs its own trap; ours also stops dev-vault

if [ -n "${VAULT_ADDR:-}" ] && [ -n "${VAULT_TOKEN:-}" ]; then
    step "Using the Vault at $VAULT_ADDR (plugin registered as pki-external-ca)"
else
    step "Start dev-vault with the plugin directory"
    PLUGIN="$BUILD/vault-plugin-secrets-pki-external-ca"
    [ -x "$PLUGIN" ] || die "$PLUGIN not built (make all)"
    [ -x "$ROOT/build/dev-vault" ] || die "build/dev-vault not built (make build/dev-vault)"
    mkdir -p "$TMP/plugins" "$TMP/data"
    cp "$PLUGIN" "$TMP/plugins/"
    export VAULT_TOKEN=root
    "$ROOT/build/dev-vault" -addr 127.0.0.1:0 -token "$VAULT_TOKEN" -plugin-dir "$TMP/plugins" \
        -data "$TMP/data" >"$TMP/dev-vault.out" 2>"$TMP/dev-vault.log" &
    PIDS+=($!)
    addr=""
    for _ in $(seq 1 100); do
        addr=$(grep -oE '(https?://)?127\.0\.0\.1:[0-9]+' "$TMP/dev-vault.out" | head -1)
        [ -n "$addr" ] && break
        sleep 0.1
    done
    [ -n "$addr" ] || die "dev-vault did not start: $(tail -5 "$TMP/dev-vault.log")"
    case "$addr" in http*) ;; *) addr="http://$addr" ;; esac
    export VAULT_ADDR=$addr
    echo "VAULT_ADDR=$VAULT_ADDR VAULT_TOKEN=$VAULT_TOKEN"

    step "Register and mount the plugin"
    sha=$(sha256sum "$PLUGIN" | cut -d' ' -f1)
    api PUT sys/plugins/catalog/secret/pki-external-ca \
        "{\"sha256\":\"$sha\",\"command\":\"vault-plugin-secrets-pki-external-ca\"}"
    api POST "sys/mounts/$MOUNT" '{"type":"pki-external-ca"}'
fi

step "Create an ACME account with the CA"
api PUT "$MOUNT/config/acme-account/demo" "$(jq -n --arg d "$PEBBLE_DIR_URL" --rawfile ca "$PEBBLE_CA_PEM" \
    '{directory_url:$d, email_contacts:["admin@example.com"], key_type:"ec-256", trusted_ca:$ca}')"
show -c '.data | {directory_url, active_key_version}'

step "Create a role"
api PUT "$MOUNT/role/web" '{"acme_account_name":"demo","allowed_domains":["example.com"],"allowed_domain_options":["bare_domains","subdomains"],"allowed_challenge_types":["http-01","dns-01"]}'
show -c '.data | {acme_account_name, allowed_domains, allowed_challenge_types}'

step "Identifier workflow: order a certificate for www.example.com and example.com"
api PUT "$MOUNT/role/web/new-order" '{"identifiers":["www.example.com","example.com"]}'
ID=$(show -r .data.order_id)
show -c '.data | {order_id, order_status}'
wait_for web "$ID" awaiting-challenge-fulfillment

step "Fetch each http-01 challenge, publish it, tell Vault"
for ident in www.example.com example.com; do
    api GET "$MOUNT/role/web/order/$ID/challenge?challenge_type=http-01&identifier=$ident"
    tok=$(show -r .data.challenge_token); auth=$(show -r .data.challenge_auth)
    show -c '.data | {challenge_token, challenge_status}'
    cts add-http01 "{\"token\":\"$tok\",\"content\":\"$auth\"}"
    api PUT "$MOUNT/role/web/order/$ID/fulfilled-challenge" "{\"identifier\":\"$ident\",\"challenge_type\":\"http-01\"}"
done
wait_for web "$ID" completed

step "Fetch the certificate and its key"
api GET "$MOUNT/role/web/order/$ID/fetch-cert"
show -c '.data | {serial_number, private_key_type, not_after, ca_chain_length: (.ca_chain|length)}'
show -r .data.certificate > "$TMP/cert.pem"
openssl x509 -in "$TMP/cert.pem" -noout -subject -issuer -dates -ext subjectAltName 2>/dev/null | sed 's/^/  /'

step "CSR workflow: your own key, dns-01"
printf '$ openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout api.key -subj /CN=api.example.com -addext subjectAltName=DNS:api.example.com -out api.csr\n'
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/api.key" \
    -subj /CN=api.example.com -addext subjectAltName=DNS:api.example.com -out "$TMP/api.csr" 2>/dev/null
api PUT "$MOUNT/role/web/new-order" "$(jq -n --rawfile c "$TMP/api.csr" '{csr:$c}')"
ID2=$(show -r .data.order_id)
show -c '.data | {order_id, identifiers, workflow_type}'
wait_for web "$ID2" awaiting-challenge-fulfillment
api GET "$MOUNT/role/web/order/$ID2/challenge?challenge_type=dns-01&identifier=api.example.com"
show -c '.data | {dns_record_name, dns_record_value}'
rec=$(show -r .data.dns_record_name); val=$(show -r .data.dns_record_value)
printf '$ nsupdate -y hmac-sha256:key-sha256:... <<< "update add %s. 60 TXT %s"   # your DNS server\n' "$rec" "$val"
printf 'server 127.0.0.1 %s\nupdate add %s. 60 TXT %s\nsend\n' "$NAMED_PORT" "$rec" "$val" |
    nsupdate -y "hmac-sha256:key-sha256:$NAMED_SECRET_sha256" || die "nsupdate failed"
api PUT "$MOUNT/role/web/order/$ID2/fulfilled-challenge" '{"identifier":"api.example.com","challenge_type":"dns-01"}'
wait_for web "$ID2" completed
api GET "$MOUNT/role/web/order/$ID2/fetch-cert"
show -r .data.certificate > "$TMP/api.pem"
openssl x509 -in "$TMP/api.pem" -noout -subject -issuer -dates 2>/dev/null | sed 's/^/  /'

step "Automatic DNS-01: Vault publishes, checks and removes the TXT records itself"
api POST "$MOUNT/config/dns/rfc2136/local-bind" "{\"identifiers\":[\"example.test\",\"*.example.test\"],\"nameserver\":\"$NAMED_ADDR\",\"tsig_key_name\":\"key-sha256\",\"tsig_secret\":\"$NAMED_SECRET_sha256\"}"
show -c '.data | {name, type, identifiers, nameserver, tsig_algorithm, ttl}'
api POST "$MOUNT/dns/test/workflow" '{"identifier":"check.example.test","provider_type":"rfc2136","provider_name":"local-bind"}'
show -c '.data | {success, record_name, message}'
api PUT "$MOUNT/role/auto" '{"acme_account_name":"demo","allowed_domains":["example.test"],"allowed_domain_options":["bare_domains","subdomains","wildcards"]}'
api PUT "$MOUNT/role/auto/new-order" '{"identifiers":["app.example.test","*.app.example.test"]}'
ID3=$(show -r .data.order_id)
wait_for auto "$ID3" completed
api GET "$MOUNT/role/auto/order/$ID3/fetch-cert"
show -r .data.certificate > "$TMP/auto.pem"
openssl x509 -in "$TMP/auto.pem" -noout -subject -issuer -dates -ext subjectAltName 2>/dev/null | sed 's/^/  /'
printf '$ dig @127.0.0.1 -p %s _acme-challenge.app.example.test TXT +short   # removed again\n' "$NAMED_PORT"
dig +short -p "$NAMED_PORT" @127.0.0.1 _acme-challenge.app.example.test TXT | sed 's/^/  /'

step "Look the certificate up by serial"
api GET "$MOUNT/lookup/cert/$(openssl x509 -in "$TMP/api.pem" -noout -serial | cut -d= -f2)"
show -c '.data | {order_id, order_status, role_name}'

echo
echo "demo: done in $((SECONDS - T0)) s"
