#!/usr/bin/env bash
# scripts/demo.sh (make demo): a certificate from an ACME CA through the plugin, end to end,
# driven with the `bao` CLI exactly as an operator and a user would type it (every command is
# printed before it runs). The server is a real OpenBao (HOST=openbao, the default) or the
# SDK dev host (HOST=dev-vault make demo), started on loopback by test/lib/host.sh; the CA is
# Pebble with challtestsrv playing the web and DNS servers. The plugin is installed from the
# release archive (make dist), its sum taken from SHA256SUMS, as the README tells an
# operator. Every process is stopped by PID on exit.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
export HOST=${HOST:-openbao}
T0=$SECONDS
TMP=$(mktemp -d /tmp/pki-demo.XXXXXX)

# shellcheck source=/dev/null
source "$ROOT/test/lib/host.sh"
cleanup() {
    if declare -F pebble_stop >/dev/null; then pebble_stop >/dev/null 2>&1; fi
    [ -n "${HOST_DIR:-}" ] && host_stop
    rm -rf "$TMP"
}
trap cleanup EXIT

die() { echo "demo: $*" >&2; exit 1; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
for tool in curl jq openssl unzip; do command -v $tool >/dev/null || die "$tool not found (apt-get install $tool)"; done
[ -x "$HOST_BAO" ] || die "$HOST_BAO not found (run: bash scripts/deps.sh)"

# bao ARGS...: prints the command (paths under $TMP shown relative, as typed in a work
# directory), runs it in $TMP; output on stdout, a failure ends the demo.
bao() {
    local shown="${*//$TMP\//}"
    [ -n "${SHA:-}" ] && shown=${shown//$SHA/\"\$SHA\"}
    printf '$ bao %s\n' "$shown" >&2
    (cd "$TMP" && "$HOST_BAO" "$@") || die "bao $shown failed"
}
# bao_json ARGS...: the same with -format=json, the reply kept in $BODY for the next steps.
bao_json() { BODY=$(bao "$1" -format=json "${@:2}") || exit 1; }
show() { printf '%s' "$BODY" | jq "$@"; }
# bao_show REGEX ARGS...: bao ARGS, then only the reply lines matching REGEX.
bao_show() { local re=$1 out; shift; out=$(bao "$@") || exit 1; grep -E "$re" <<<"$out"; }

# wait_for ROLE ID STATUS: `bao read -field=order_status`, as a client polls, 30 s at most.
wait_for() {
    local st="" path="$MOUNT/role/$1/order/$2/status"
    printf '$ bao read -field=order_status %s   # until %s\n' "$path" "$3" >&2
    for _ in $(seq 1 300); do
        st=$("$HOST_BAO" read -field=order_status "$path" 2>/dev/null)
        [ "$st" = "$3" ] && { echo "$st"; return 0; }
        case "$st" in error|expired|revoked) break ;; esac
        sleep 0.1
    done
    "$HOST_BAO" read "$path" >&2
    die "order $2 did not reach $3 (last: $st)"
}

# challtestsrv IS the "web server" / "DNS server" of this demo.
cts() {
    printf '$ curl -s -X POST $CHALLTESTSRV/%s -d '\''%s'\''   # challtestsrv plays web/DNS server\n' "$1" "$2" >&2
    curl -sS -X POST "$CHALLTESTSRV_URL/$1" -d "$2" >/dev/null
}

step "Start Pebble (ACME CA) and challtestsrv"
# shellcheck source=/dev/null
source "$ROOT/test/lib/pebble.sh"
pebble_start || die "pebble failed to start (apt-get install pebble)"
trap cleanup EXIT   # pebble_start installs its own trap; ours also stops the server
cp "$PEBBLE_CA_PEM" "$TMP/pebble-ca.pem"

step "Install the plugin from the release archive"
ZIP=$(ls "$BUILD"/dist/vault-plugin-secrets-pki-external-ca_*_linux_*.zip 2>/dev/null | head -1)
[ -n "$ZIP" ] || die "no release archive in $BUILD/dist (run: make dist)"
cp "$ZIP" "$BUILD/dist/SHA256SUMS" "$TMP/"
mkdir -p "$TMP/plugins"
printf '$ sha256sum -c --ignore-missing SHA256SUMS && unzip %s -d plugins\n' "${ZIP##*/}"
(cd "$TMP" && sha256sum -c --ignore-missing SHA256SUMS && unzip -q "${ZIP##*/}" vault-plugin-secrets-pki-external-ca -d plugins) \
    || die "archive check failed"
VERSION=v$(cat "$ROOT/VERSION")

if [ "$HOST" = openbao ]; then
    step "Start OpenBao ($("$HOST_BAO" version | cut -d' ' -f2)) with integrated storage, plugin_directory = plugins"
else
    step "Start dev-vault (the Vault SDK host) with the plugin directory"
fi
host_start "$TMP/server" "$TMP/plugins" || die "$HOST did not start"
[ "$HOST" = openbao ] && sed 's/^/    /' "$TMP/server/config.hcl" | grep -v '^ *$'
export BAO_ADDR=$HOST_ADDR BAO_TOKEN=$HOST_TOKEN VAULT_ADDR=$HOST_ADDR VAULT_TOKEN=$HOST_TOKEN
echo "export BAO_ADDR=$BAO_ADDR BAO_TOKEN=<root token>"

step "Register and mount the plugin (README: Running under a real Vault or OpenBao)"
printf '$ SHA=$(awk '\''$2 == "vault-plugin-secrets-pki-external-ca" { print $1 }'\'' SHA256SUMS)\n'
SHA=$(awk '$2 == "vault-plugin-secrets-pki-external-ca" { print $1 }' "$TMP/SHA256SUMS")
bao plugin register -sha256="$SHA" -version="$VERSION" secret vault-plugin-secrets-pki-external-ca
MOUNT=pki-external-ca
bao secrets enable -path=$MOUNT vault-plugin-secrets-pki-external-ca

step "Create an ACME account with the CA"
bao_show '^(Key|---|active_key_version|directory_url|email_contacts) ' \
    write $MOUNT/config/acme-account/demo directory_url="$PEBBLE_DIR_URL" \
    email_contacts=admin@example.com key_type=ec-256 trusted_ca=@"$TMP/pebble-ca.pem"

step "Create a role from a JSON file"
cat > "$TMP/role.json" <<'JSON'
{ "acme_account_name": "demo", "allowed_domains": "example.com",
  "allowed_domain_options": "bare_domains,subdomains", "allowed_challenge_types": "http-01,dns-01" }
JSON
printf '$ cat role.json\n'; cat "$TMP/role.json"
bao_show '^(Key|---|acme_account_name|allowed_) ' write $MOUNT/role/web @"$TMP/role.json"

step "Identifier workflow: order www.example.com and example.com over http-01"
bao_json write $MOUNT/role/web/new-order identifiers=www.example.com,example.com
ID=$(show -r .data.order_id)
show -c '.data | {order_id, order_status}'
wait_for web "$ID" awaiting-challenge-fulfillment

for ident in www.example.com example.com; do
    bao_json read $MOUNT/role/web/order/$ID/challenge challenge_type=http-01 identifier=$ident
    show -c '.data | {challenge_token, challenge_auth, challenge_status}'
    cts add-http01 "{\"token\":\"$(show -r .data.challenge_token)\",\"content\":\"$(show -r .data.challenge_auth)\"}"
    bao_show '^(Key|---|order_status) ' \
        write $MOUNT/role/web/order/$ID/fulfilled-challenge identifier=$ident challenge_type=http-01
done
wait_for web "$ID" completed

step "Fetch the certificate and its key"
bao_json read $MOUNT/role/web/order/$ID/fetch-cert
show -c '.data | {serial_number, private_key_type, not_after, ca_chain_length: (.ca_chain|length)}'
show -r .data.certificate > "$TMP/cert.pem"
openssl x509 -in "$TMP/cert.pem" -noout -subject -issuer -dates -ext subjectAltName 2>/dev/null | sed 's/^/  /'

step "CSR workflow: your own key, dns-01"
printf '$ openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout api.key -subj /CN=api.example.com -addext subjectAltName=DNS:api.example.com -out api.csr\n'
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/api.key" \
    -subj /CN=api.example.com -addext subjectAltName=DNS:api.example.com -out "$TMP/api.csr" 2>/dev/null
bao_json write $MOUNT/role/web/new-order csr=@"$TMP/api.csr"
ID2=$(show -r .data.order_id)
show -c '.data | {order_id, identifiers, workflow_type}'
wait_for web "$ID2" awaiting-challenge-fulfillment
bao_json read $MOUNT/role/web/order/$ID2/challenge challenge_type=dns-01 identifier=api.example.com
show -c '.data | {dns_record_name, dns_record_value}'
cts set-txt "{\"host\":\"$(show -r .data.dns_record_name).\",\"value\":\"$(show -r .data.dns_record_value)\"}"
bao_show '^(Key|---|order_status) ' write $MOUNT/role/web/order/$ID2/fulfilled-challenge identifier=api.example.com challenge_type=dns-01
wait_for web "$ID2" completed
bao read -field=certificate $MOUNT/role/web/order/$ID2/fetch-cert > "$TMP/api.pem"
openssl x509 -in "$TMP/api.pem" -noout -subject -issuer -dates 2>/dev/null | sed 's/^/  /'

step "Look the certificate up by serial, list the role's active orders"
SERIAL=$(openssl x509 -in "$TMP/api.pem" -noout -serial | cut -d= -f2 | sed 's/../&:/g;s/:$//' | tr A-F a-f)
bao_show '^(Key|---|order_id|order_status|role_name) ' read $MOUNT/lookup/cert/$SERIAL
bao_json write $MOUNT/role/web/new-order identifiers=pending.example.com
bao list $MOUNT/role/web/active-orders

echo
echo "demo: done in $((SECONDS - T0)) s on $HOST"
