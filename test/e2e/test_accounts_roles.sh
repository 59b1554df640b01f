#!/usr/bin/env bash
# ACME accounts and roles, end to end: dev-vault + plugin + Pebble. Replays the curl
# samples of spec 000 (create/read/update/list/rotate-key/import/delete accounts;
# create/read/list/delete roles), the vault CLI shapes of spec 001 (comma lists), the
# Terraform acceptance sequences of terraform-contract section 4 for accounts and roles,
# and the bad-input cases of issue 5's quality bar.
set -u
cd "$(dirname "$0")"
source ./lib.sh

# Two identities for the templating cases: tokens mapped to entities (dev-vault -entities).
cat >"$E2E_TMP/entities.json" <<'JSON'
{"alice-token": {"entity_id": "ent-alice", "name": "alice", "metadata": {"team": "blue"},
                 "groups": ["ops"]},
 "bob-token": {"entity_id": "ent-bob", "name": "bob", "metadata": {}, "groups": []}}
JSON
E2E_ENTITIES=$E2E_TMP/entities.json
e2e_start || { e2e_finish; exit 1; }
e2e_pebble_start || { e2e_finish; exit 1; }
M=$MOUNT

# acct_body DIR EMAILS_JSON KEY_TYPE [TRUSTED_CA]: an account create body.
acct_body() {
    jq -n --arg d "$1" --argjson em "$2" --arg kt "$3" --arg ca "${4-}" \
        '{directory_url: $d, email_contacts: $em, key_type: $kt}
         + (if $ca == "" then {} else {trusted_ca: $ca} end)'
}

no_secrets() {
    if printf '%s' "$BODY" | grep -q 'PRIVATE KEY\|private_key\|eab_key'; then
        not_ok "$*: reply contains key material"
    else ok "$*: no private key or eab_key in the reply"; fi
}

########## spec 000: accounts ############################################################

# Create ACME account (spec sample payload, Pebble's directory instead of Let's Encrypt)
vault POST "$M/config/acme-account/letsencrypt-prod" \
    "$(acct_body "$ACME_DIR" '["admin@example.com","security@example.com"]' ec-256 "$ACME_CA_PEM")"
expect_status 200 "spec 000 create account letsencrypt-prod"
expect_jq .data.name '"letsencrypt-prod"' "create: name"
expect_jq .data.directory_url "$(json_str "$ACME_DIR")" "create: directory_url echoed"
expect_jq .data.email_contacts '["admin@example.com","security@example.com"]' \
    "create: email_contacts in order, no mailto:"
expect_jq .data.active_key_version 0 "create: active_key_version 0"
expect_jq '.data.account_keys["0"] | [.key_type, .key_version]' '["ec-256",0]' \
    "create: account_keys.0 key_type and key_version"
expect_true ".data.account_keys[\"0\"].key_creation_date | test(\"$RFC3339_RE\")" \
    "create: key_creation_date is RFC 3339"
expect_true ".data.creation_date | test(\"$RFC3339_RE\")" "create: creation_date RFC 3339"
expect_true ".data.last_updated_date | test(\"$RFC3339_RE\")" "create: last_updated_date RFC 3339"
expect_true '.data.acme_account_key_id | startswith("https://")' \
    "create: acme_account_key_id is the CA's account URL"
expect_true '.data.trusted_ca == env.ACME_CA_PEM' "create: trusted_ca byte for byte"
no_secrets "create"

# Read ACME account
vault GET "$M/config/acme-account/letsencrypt-prod"
expect_status 200 "spec 000 read account"
expect_true '.data | has("name") and has("directory_url") and has("email_contacts")
    and has("acme_account_key_id") and has("active_key_version") and has("creation_date")
    and has("last_updated_date") and has("account_keys") and has("trusted_ca")' \
    "read: spec 000 fields plus account_keys and trusted_ca"
expect_jq .data.email_contacts '["admin@example.com","security@example.com"]' "read: contacts"
expect_true '.data.trusted_ca == env.ACME_CA_PEM' "read: trusted_ca byte for byte"
no_secrets "read"
created=$(printf '%s' "$BODY" | jq -r .data.creation_date)

# Update ACME account (spec sample: only trusted_ca)
ACME_CA_PEM2=$'\n'"$ACME_CA_PEM"$'\n'
export ACME_CA_PEM2
vault PUT "$M/config/acme-account/letsencrypt-prod" \
    "$(jq -n --arg ca "$ACME_CA_PEM2" '{trusted_ca: $ca}')"
expect_status 200 "spec 000 update account trusted_ca"
expect_true '.data.trusted_ca == env.ACME_CA_PEM2' "update: new trusted_ca byte for byte"
expect_jq .data.creation_date "\"$created\"" "update: creation_date unchanged"
expect_jq .data.active_key_version 0 "update: active_key_version still 0"

# Terraform-style update: every field again, unchanged
vault PUT "$M/config/acme-account/letsencrypt-prod" \
    "$(acct_body "$ACME_DIR" '["admin@example.com","security@example.com"]' ec-256 "$ACME_CA_PEM")"
expect_status 200 "update repeating unchanged directory_url/key_type/email_contacts is accepted"

# Real changes are refused, saying why
vault PUT "$M/config/acme-account/letsencrypt-prod" \
    "$(acct_body "https://other.example/dir" '["admin@example.com","security@example.com"]' ec-256)"
expect_error_mentions directory_url "update: changing directory_url is a 400"
vault PUT "$M/config/acme-account/letsencrypt-prod" \
    "$(acct_body "$ACME_DIR" '["admin@example.com","security@example.com"]' rsa-2048)"
expect_error_mentions key_type "update: changing key_type is a 400"
vault PUT "$M/config/acme-account/letsencrypt-prod" \
    "$(acct_body "$ACME_DIR" '["security@example.com","admin@example.com"]' ec-256)"
expect_error_mentions email_contacts "update: changing email_contacts is a 400"

# spec 001 setup: `vault write ... email_contacts="a,b"` sends a comma-separated string
vault PUT "$M/config/acme-account/cli-account" \
    "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" '{directory_url: $d,
       email_contacts: "admin@example.com,security@example.com", key_type: "ec-256", trusted_ca: $ca}')"
expect_status 200 "spec 001 vault write config/acme-account (comma-separated email_contacts)"
expect_jq .data.email_contacts '["admin@example.com","security@example.com"]' \
    "comma string split into the list, in order"
vault DELETE "$M/config/acme-account/cli-account"
expect_2xx "delete cli-account"

# List ACME accounts
vault LIST "$M/config/acme-account"
expect_status 200 "spec 000 list accounts"
expect_true '.data.keys | index("letsencrypt-prod") != null' "list: letsencrypt-prod listed"

# Rotate ACME account key (spec sample payload)
vault POST "$M/config/acme-account/letsencrypt-prod/rotate-key" '{"key_type":"ec-384"}'
expect_status 200 "spec 000 rotate-key"
expect_jq '.data | [.name, .old_active_key_version, .new_active_key_version, .key_type]' \
    '["letsencrypt-prod",0,1,"ec-384"]' "rotate-key: reply fields"
expect_true ".data.rotated_at | test(\"$RFC3339_RE\")" "rotate-key: rotated_at RFC 3339"
vault GET "$M/config/acme-account/letsencrypt-prod"
expect_jq '[.data.active_key_version, (.data.account_keys | keys), .data.account_keys["1"].key_type, .data.account_keys["0"].key_type]' \
    '[1,["0","1"],"ec-384","ec-256"]' "after rotate: version 1 active, version 0 kept"
vault POST "$M/config/acme-account/letsencrypt-prod/rotate-key" '{"key_type":"rsa-9999"}'
expect_error_mentions key_type "rotate-key: unknown key_type is a 400"
vault POST "$M/config/acme-account/nope/rotate-key" '{}'
expect_not_found "account nope" "rotate-key of a missing account is a 404 naming it"

# Import ACME account: a key the CA has never seen is refused
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$E2E_TMP/unknown.pem" 2>/dev/null
vault POST "$M/config/acme-account/imported-account/import" \
    "$(jq -n --arg d "$ACME_DIR" --arg k "$(cat "$E2E_TMP/unknown.pem")" --arg ca "$ACME_CA_PEM" \
        '{directory_url: $d, account_key: $k, trusted_ca: $ca}')"
expect_error_mentions account_key "import: a key with no account at the CA is a 400"
vault GET "$M/config/acme-account/imported-account"
expect_status 404 "import: failed import leaves nothing"
vault POST "$M/config/acme-account/imported-account/import" \
    "$(jq -n --arg d "$ACME_DIR" '{directory_url: $d, account_key: "not a key"}')"
expect_error_mentions account_key "import: non-PEM account_key is a 400"

# Import (spec sample) of an account that exists at the CA: registered here by hand with an
# RSA key (RS256 JWS built with openssl), then imported by its key.
acme_register_rsa() {
    local key=$1 dir nonce_url new_acct n e jwk prot payload sig
    printf '%s' "$ACME_CA_PEM" >"$E2E_TMP/acme-ca.pem"
    local curl_ca=(--cacert "$E2E_TMP/acme-ca.pem")
    dir=$(curl -sS "${curl_ca[@]}" "$ACME_DIR") || return 1
    nonce_url=$(printf '%s' "$dir" | jq -r .newNonce)
    new_acct=$(printf '%s' "$dir" | jq -r .newAccount)
    b64u() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
    n=$(openssl rsa -in "$key" -noout -modulus 2>/dev/null | cut -d= -f2 | xxd -r -p | b64u)
    e=$(printf '\x01\x00\x01' | b64u)
    jwk="{\"e\":\"$e\",\"kty\":\"RSA\",\"n\":\"$n\"}"
    local nonce code try
    for try in 1 2 3 4 5; do   # Pebble rejects 5 % of nonces (badNonce): sign again
        nonce=$(curl -sS -I "${curl_ca[@]}" "$nonce_url" | tr -d '\r' | awk -F': ' 'tolower($1)=="replay-nonce"{print $2}')
        prot=$(printf '{"alg":"RS256","jwk":%s,"nonce":"%s","url":"%s"}' "$jwk" "$nonce" "$new_acct" | b64u)
        payload=$(printf '{"termsOfServiceAgreed":true,"contact":["mailto:imported@example.com"]}' | b64u)
        sig=$(printf '%s.%s' "$prot" "$payload" | openssl dgst -sha256 -sign "$key" | b64u)
        code=$(curl -sS "${curl_ca[@]}" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/jose+json' \
            --data "{\"protected\":\"$prot\",\"payload\":\"$payload\",\"signature\":\"$sig\"}" "$new_acct")
        [ "$code" = 400 ] || break
    done
    echo "$code"
}
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$E2E_TMP/imported.pem" 2>/dev/null
code=$(acme_register_rsa "$E2E_TMP/imported.pem")
if [ "$code" = 201 ] || [ "$code" = 200 ]; then
    ok "import setup: account registered at Pebble by hand (HTTP $code)"
    vault POST "$M/config/acme-account/imported-account/import" \
        "$(jq -n --arg d "$ACME_DIR" --arg k "$(cat "$E2E_TMP/imported.pem")" --arg ca "$ACME_CA_PEM" \
            '{directory_url: $d, account_key: $k, trusted_ca: $ca}')"
    expect_status 200 "spec 000 import account imported-account"
    expect_jq '.data | [.name, .active_key_version, .account_keys["0"].key_type, .email_contacts]' \
        '["imported-account",0,"rsa-2048",["imported@example.com"]]' \
        "import: name, key version 0, key type from the key, contacts from the CA"
    expect_true '.data.acme_account_key_id | startswith("https://")' "import: account URL found"
    no_secrets "import"
    vault POST "$M/config/acme-account/imported-account/import" \
        "$(jq -n --arg d "$ACME_DIR" --arg k "$(cat "$E2E_TMP/imported.pem")" --arg ca "$ACME_CA_PEM" \
            '{directory_url: $d, account_key: $k, trusted_ca: $ca}')"
    expect_error_mentions name "import over an existing account name is a 400"
    vault DELETE "$M/config/acme-account/imported-account"
    expect_2xx "delete imported-account"
else
    not_ok "import setup: registering an account at Pebble by hand failed (HTTP $code)"
fi

########## bad input: accounts ############################################################

acct_bad() {   # acct_bad NAME BODY FIELD WHAT
    vault POST "$M/config/acme-account/$1" "$2"
    expect_error_mentions "$3" "$4"
    vault GET "$M/config/acme-account/$1"
    expect_status 404 "$4: nothing stored"
}
acct_bad bad1 "$(acct_body "$ACME_DIR" '["a@example.com"]' ec-999 "$ACME_CA_PEM")" key_type \
    "unknown key_type"
acct_bad bad2 "$(acct_body "http://127.0.0.1:1/dir" '["a@example.com"]' ec-256)" directory_url \
    "non-https directory_url"
acct_bad bad3 "$(acct_body "https://127.0.0.1:1/dir" '["a@example.com"]' ec-256)" directory_url \
    "unreachable directory_url"
acct_bad bad4 "$(acct_body "$ACME_DIR" '["a@example.com"]' ec-256 "not a certificate")" trusted_ca \
    "non-PEM trusted_ca"
acct_bad bad5 "$(acct_body "$ACME_DIR" '["a@example.com"]' ec-256)" directory_url \
    "CA certificate not trusted without trusted_ca"
acct_bad bad6 "$(acct_body "$ACME_DIR" '[]' ec-256 "$ACME_CA_PEM")" email_contacts \
    "no email_contacts"
acct_bad bad7 "$(acct_body "$ACME_DIR" '["not-an-email"]' ec-256 "$ACME_CA_PEM")" email_contacts \
    "malformed email"
acct_bad bad9 "$(acct_body "$ACME_DIR" '["a@example.com"]' ec-256 "$ACME_CA_PEM" |
    jq '. + {eab_kid: "kid-1"}')" eab_key "eab_kid without eab_key"
# 1 MB strings: built with printf (a builtin) into files, too big for one argv entry.
big=$(head -c 1048576 /dev/zero | tr '\0' a)
printf '{"directory_url": "https://%s", "email_contacts": ["a@example.com"]}' "$big" >"$E2E_TMP/big1.json"
printf '{"directory_url": "%s", "email_contacts": ["%s@example.com"]}' "$ACME_DIR" "$big" >"$E2E_TMP/big2.json"
printf '{"directory_url": "%s", "email_contacts": ["a@example.com"], "trusted_ca": "%s"}' "$ACME_DIR" "$big" >"$E2E_TMP/big3.json"
printf '{"acme_account_name": "letsencrypt-prod", "allowed_domains": ["%s.com"]}' "$big" >"$E2E_TMP/big4.json"
acct_bad bad10 "@$E2E_TMP/big1.json" directory_url "1 MB directory_url"
acct_bad bad11 "@$E2E_TMP/big2.json" email_contacts "1 MB email address"
acct_bad bad12 "@$E2E_TMP/big3.json" trusted_ca "1 MB trusted_ca"
acct_bad bad13 "{\"directory_url\": \"$ACME_DIR\", \"email_contacts\": {\"a\": 1}}" email_contacts \
    "email_contacts of the wrong JSON type"
acct_bad bad14 "{\"directory_url\": [1, 2], \"email_contacts\": [\"a@example.com\"]}" directory_url \
    "directory_url of the wrong JSON type"
vault POST "$M/config/acme-account/a..b" "$(acct_body "$ACME_DIR" '["a@example.com"]' ec-256 "$ACME_CA_PEM")"
expect_error_mentions name "account name with .. is a 400"
vault POST "$M/config/acme-account/a/b" "$(acct_body "$ACME_DIR" '["a@example.com"]' ec-256 "$ACME_CA_PEM")"
expect_error_mentions name "account name with / is a 400"
vault POST "$M/config/acme-account/" "$(acct_body "$ACME_DIR" '["a@example.com"]' ec-256 "$ACME_CA_PEM")"
expect_status 400 "empty account name is a 400"
vault GET "$M/config/acme-account/never-created"
expect_not_found "account never-created" "read of a missing account is a 404 naming it"
vault DELETE "$M/config/acme-account/never-created"
expect_2xx "delete of a missing account succeeds"

########## spec 000 / 001: roles ##########################################################

# Create/update role (spec sample payload)
vault POST "$M/role/web-server" '{
  "acme_account_name": "letsencrypt-prod",
  "allowed_domains": ["example.com", "*.example.com"],
  "allowed_domain_options": ["bare_domains", "subdomains", "wildcards"],
  "allowed_challenge_types": ["http-01", "dns-01"],
  "csr_generate_key_type": "ec-256",
  "csr_identifier_population": "cn_first"
}'
expect_status 200 "spec 000 create role web-server"
expect_jq '.data | [.name, .acme_account_name, .allowed_domains, .allowed_domain_options, .allowed_challenge_types, .csr_generate_key_type, .csr_identifier_population]' \
    '["web-server","letsencrypt-prod",["example.com","*.example.com"],["bare_domains","subdomains","wildcards"],["http-01","dns-01"],"ec-256","cn_first"]' \
    "create role: the sample response's fields"
expect_true ".data.creation_date | test(\"$RFC3339_RE\")" "create role: creation_date RFC 3339"
expect_true ".data.last_updated_date | test(\"$RFC3339_RE\")" "create role: last_updated_date RFC 3339"
role_created=$(printf '%s' "$BODY" | jq -r .data.creation_date)

# Read role
vault GET "$M/role/web-server"
expect_status 200 "spec 000 read role"
expect_jq '.data | [.allowed_domains, .allowed_challenge_types]' \
    '[["example.com","*.example.com"],["http-01","dns-01"]]' "read role: lists in order"
expect_jq .data.creation_date "\"$role_created\"" "read role: creation_date stable"

# vault CLI shape (spec 001 setup): comma-separated strings
vault POST "$M/role/web-servers" '{"acme_account_name": "letsencrypt-prod",
  "allowed_domains": "example.com,www.example.com,api.example.com",
  "allowed_domain_options": "bare_domains"}'
expect_status 200 "spec 001 role from role.json (comma lists)"
expect_jq '.data | [.allowed_domains, .allowed_domain_options, .allowed_challenge_types, .csr_generate_key_type, .csr_identifier_population]' \
    '[["example.com","www.example.com","api.example.com"],["bare_domains"],["http-01","dns-01","tls-alpn-01"],"ec-256","cn_first"]' \
    "comma lists split in order; defaults filled"

# Defaults, empty lists as []
vault POST "$M/role/defaults" '{"acme_account_name": "letsencrypt-prod"}'
expect_status 200 "role with only acme_account_name"
expect_jq '.data | [.allowed_domains, .allowed_domain_options, .allowed_challenge_types]' \
    '[[],[],["http-01","dns-01","tls-alpn-01"]]' "defaults: [] lists, all challenge types"

# DNS provider fields of the newest release are accepted and echoed
vault POST "$M/role/dns-role" '{"acme_account_name": "letsencrypt-prod",
  "allowed_domains": ["example.com"], "allowed_domain_options": ["subdomains"],
  "dns_provider_name": "production", "dns_provider_type": "aws-route53"}'
expect_status 200 "role with dns_provider_name/type"
expect_jq '.data | [.dns_provider_name, .dns_provider_type]' '["production","aws-route53"]' \
    "dns provider fields echoed"

# Identity templating is accepted in allowed_domains (spec 001 user-certs)
vault POST "$M/role/user-certs" '{"acme_account_name": "letsencrypt-prod",
  "allowed_domains": "{{identity.entity.name}}.users.example.com",
  "allowed_domain_options": "bare_domains"}'
expect_status 200 "spec 001 user-certs role with a template"
expect_jq .data.allowed_domains '["{{identity.entity.name}}.users.example.com"]' \
    "template kept as written"

# List roles
vault LIST "$M/role"
expect_status 200 "spec 000 list roles"
expect_true '.data.keys | (index("web-server") != null) and (index("web-servers") != null)' \
    "list roles: created roles listed"

# Account delete is refused while a role references it
vault DELETE "$M/config/acme-account/letsencrypt-prod"
expect_error_mentions web-server "account delete refused while roles use it"
vault GET "$M/config/acme-account/letsencrypt-prod"
expect_status 200 "account still there after the refused delete"

########## Terraform section 4: roles #####################################################

vault PUT "$M/role/tf-role" '{"acme_account_name": "letsencrypt-prod",
  "csr_generate_key_type": "ec-256", "csr_identifier_population": "cn_first",
  "allowed_domains": ["example.com", "test.com"],
  "allowed_domain_options": ["bare_domains", "subdomains"],
  "allowed_challenge_types": ["http-01", "dns-01", "tls-alpn-01"]}'
expect_status 200 "TestAccPKIExternalCARoleResource_basic: create"
expect_jq '.data | [.acme_account_name, .allowed_domains[0], .allowed_domains[1], (.allowed_domain_options|length), (.allowed_challenge_types|length), .csr_generate_key_type, .csr_identifier_population]' \
    '["letsencrypt-prod","example.com","test.com",2,3,"ec-256","cn_first"]' "tf role basic: attributes"
expect_true '(.data.creation_date | length > 0) and (.data.last_updated_date | length > 0)' \
    "tf role basic: creation_date and last_updated_date set"
tf_created=$(printf '%s' "$BODY" | jq -r .data.creation_date)
vault GET "$M/role/tf-role"
expect_jq .data.creation_date "\"$tf_created\"" "tf role import: creation_date identical"
vault PUT "$M/role/tf-role" '{"acme_account_name": "letsencrypt-prod",
  "csr_generate_key_type": "rsa-2048", "csr_identifier_population": "sans_only",
  "allowed_domains": ["example.com", "test.com", "updated.com"],
  "allowed_domain_options": ["bare_domains", "subdomains", "wildcards"],
  "allowed_challenge_types": ["http-01", "dns-01"]}'
expect_status 200 "TestAccPKIExternalCARoleResource_update: update"
expect_jq '.data | [.allowed_domains, .allowed_domain_options, .allowed_challenge_types, .csr_generate_key_type, .csr_identifier_population]' \
    '[["example.com","test.com","updated.com"],["bare_domains","subdomains","wildcards"],["http-01","dns-01"],"rsa-2048","sans_only"]' \
    "tf role update: new values in order"
expect_jq .data.creation_date "\"$tf_created\"" "tf role update: creation_date unchanged"

########## bad input: roles ###############################################################

role_bad() {   # role_bad NAME BODY FIELD WHAT
    vault POST "$M/role/$1" "$2"
    expect_error_mentions "$3" "$4"
    vault GET "$M/role/$1"
    expect_status 404 "$4: nothing stored"
}
role_bad rb1 '{"allowed_domains": ["example.com"]}' acme_account_name "role without acme_account_name"
role_bad rb2 '{"acme_account_name": "no-such-account"}' acme_account_name "role with a missing account"
role_bad rb3 '{"acme_account_name": "letsencrypt-prod", "csr_generate_key_type": "rsa-8192"}' \
    csr_generate_key_type "csr_generate_key_type rsa-8192"
role_bad rb4 '{"acme_account_name": "letsencrypt-prod", "allowed_domain_options": ["everything"]}' \
    allowed_domain_options "unknown allowed_domain_options value"
role_bad rb5 '{"acme_account_name": "letsencrypt-prod", "allowed_challenge_types": ["dns-02"]}' \
    allowed_challenge_types "unknown challenge type"
role_bad rb6 '{"acme_account_name": "letsencrypt-prod", "csr_identifier_population": "cn_last"}' \
    csr_identifier_population "unknown csr_identifier_population"
role_bad rb7 '{"acme_account_name": "letsencrypt-prod", "allowed_domains": ["a..example.com"]}' \
    allowed_domains "malformed allowed_domains entry"
role_bad rb8 '{"acme_account_name": "letsencrypt-prod", "allowed_domains": ["{{identity.nope}}.example.com"]}' \
    allowed_domains "unknown template placeholder"
role_bad rb9 "@$E2E_TMP/big4.json" \
    allowed_domains "1 MB allowed_domains entry"
role_bad rb10 '{"acme_account_name": "letsencrypt-prod", "allowed_domains": {"a": 1}}' \
    allowed_domains "allowed_domains of the wrong JSON type"
role_bad rb11 '{"acme_account_name": "letsencrypt-prod", "allowed_challenge_types": []}' \
    allowed_challenge_types "empty allowed_challenge_types"
role_bad rb12 '{"acme_account_name": "letsencrypt-prod", "dns_provider_name": "x"}' \
    dns_provider_type "dns_provider_name without dns_provider_type"
vault POST "$M/role/web-server" '{"acme_account_name": "imported-account"}'
expect_error_mentions acme_account_name "changing a role's acme_account_name is a 400"
vault POST "$M/role/a..b" '{"acme_account_name": "letsencrypt-prod"}'
expect_error_mentions name "role name with .. is a 400"
vault POST "$M/role/" '{"acme_account_name": "letsencrypt-prod"}'
expect_status 400 "empty role name is a 400"

########## policy through new-order: rotate-key vs active orders, identity templating #####

vault POST "$M/role/rot-role" '{"acme_account_name": "letsencrypt-prod",
  "allowed_domains": ["example.com"], "allowed_domain_options": ["bare_domains"]}'
expect_status 200 "role rot-role"
vault POST "$M/role/rot-role/new-order" '{"identifiers": ["example.com"]}'
expect_status 200 "new-order in rot-role (stays active: nobody fulfils its challenges)"
vault POST "$M/role/rot-role/new-order" '{"identifiers": ["www.example.com"]}'
expect_error_mentions identifiers "new-order outside the role's allowed_domains is refused"
vault POST "$M/config/acme-account/letsencrypt-prod/rotate-key" '{"key_type":"ec-256"}'
expect_error_mentions force "rotate-key refused while the account's orders are active"
vault POST "$M/config/acme-account/letsencrypt-prod/rotate-key" '{"key_type":"ec-256","force":true}'
expect_status 200 "rotate-key with force=true"
expect_jq '.data | [.old_active_key_version, .new_active_key_version]' '[1,2]' \
    "forced rotate: version 2 active"
vault DELETE "$M/role/rot-role"
expect_error_mentions force "role delete refused while it has active orders"
vault DELETE "$M/role/rot-role?force=true"
expect_2xx "role delete with force=true while orders are active"

vault POST "$M/role/group-certs" '{"acme_account_name": "letsencrypt-prod",
  "allowed_domains": ["{{identity.groups.names.ops}}.example.com", "{{identity.entity.metadata.team}}.example.org"],
  "allowed_domain_options": ["bare_domains"]}'
expect_status 200 "role with group and metadata templates"
VAULT_TOKEN=alice-token vault POST "$M/role/user-certs/new-order" '{"identifiers": ["alice.users.example.com"]}'
expect_status 200 "spec 001 templating: alice may order alice.users.example.com"
VAULT_TOKEN=alice-token vault POST "$M/role/user-certs/new-order" '{"identifiers": ["bob.users.example.com"]}'
expect_error_mentions identifiers "spec 001 templating: alice may not order bob.users.example.com"
VAULT_TOKEN=bob-token vault POST "$M/role/user-certs/new-order" '{"identifiers": ["bob.users.example.com"]}'
expect_status 200 "templating: bob may order bob.users.example.com"
vault POST "$M/role/user-certs/new-order" '{"identifiers": ["alice.users.example.com"]}'
expect_error_mentions identifiers "templating: a token without an entity is denied"
VAULT_TOKEN=alice-token vault POST "$M/role/group-certs/new-order" '{"identifiers": ["ops.example.com", "blue.example.org"]}'
expect_status 200 "templating: group name and entity metadata resolve for alice"
VAULT_TOKEN=bob-token vault POST "$M/role/group-certs/new-order" '{"identifiers": ["ops.example.com"]}'
expect_error_mentions identifiers "templating: bob is not in group ops: denied"
vault DELETE "$M/role/group-certs?force=true"
expect_2xx "delete group-certs (force)"

########## path help ######################################################################

for p in role/x config/acme-account/x config/acme-account/x/import config/acme-account/x/rotate-key; do
    vault GET "$M/$p?help=1"
    if [ "$STATUS" = 200 ] && printf '%s' "$BODY" | jq -e '(.help // "") | length > 0' >/dev/null; then
        ok "path-help for $p"
    else not_ok "path-help for $p (HTTP $STATUS): $(printf '%.200s' "$BODY")"; fi
done

########## deletes: spec 000 samples and the Terraform destroy order ######################

vault DELETE "$M/role/web-server"
expect_2xx "spec 000 delete role web-server"
vault GET "$M/role/web-server"
expect_not_found "role web-server" "deleted role reads as 404 naming it"
vault DELETE "$M/role/web-server"
expect_2xx "deleting a missing role succeeds"
vault DELETE "$M/role/tf-role?force=true"
expect_2xx "role delete with ?force=true (Terraform force = true)"
# Vault's HTTP layer passes only query parameters on DELETE (a body is dropped), so force
# travels as ?force=true, as the Terraform provider sends it.
for r in web-servers defaults dns-role user-certs; do
    vault DELETE "$M/role/$r?force=true"
    expect_2xx "delete role $r (?force=true)"
done
vault DELETE "$M/config/acme-account/letsencrypt-prod"
expect_2xx "spec 000 delete account once no role uses it"
vault GET "$M/config/acme-account/letsencrypt-prod"
expect_status 404 "deleted account reads as 404"

########## Terraform section 4: TestAccPKIACMEAccount_basic ###############################

TF_CA1="$ACME_CA_PEM"$'\n'
TF_CA3=$'\n'"$ACME_CA_PEM"$'\n'
export TF_CA1 TF_CA3
vault PUT "$M/config/acme-account/tf-acme-account" \
    "$(acct_body "$ACME_DIR" '["test@example.com"]' ec-256 "$TF_CA1")"
expect_status 200 "tf account step 1: create"
expect_jq '.data | [.directory_url == env.ACME_DIR, .email_contacts, .account_keys[(.active_key_version|tostring)].key_type, .active_key_version, .trusted_ca == env.TF_CA1]' \
    '[true,["test@example.com"],"ec-256",0,true]' "tf account step 1: attributes"
vault GET "$M/config/acme-account/tf-acme-account"
expect_jq '.data | [.directory_url == env.ACME_DIR, .email_contacts, .account_keys["0"].key_type, .active_key_version, .trusted_ca == env.TF_CA1]' \
    '[true,["test@example.com"],"ec-256",0,true]' "tf account step 2: import read"
vault PUT "$M/config/acme-account/tf-acme-account" \
    "$(acct_body "$ACME_DIR" '["test@example.com"]' ec-256 "$TF_CA3")"
expect_status 200 "tf account step 3: update trusted_ca in place"
expect_jq '[.data.trusted_ca == env.TF_CA3, .data.active_key_version]' '[true,0]' \
    "tf account step 3: trusted_ca exact, key version 0"
vault DELETE "$M/config/acme-account/tf-acme-account"
expect_2xx "tf account step 4: replace (delete)"
vault PUT "$M/config/acme-account/tf-acme-account" \
    "$(acct_body "$ACME_DIR" '["test@example.com","admin@example.com"]' rsa-2048 "$TF_CA3")"
expect_status 200 "tf account step 4: replace (create rsa-2048)"
expect_jq '.data | [.email_contacts, .account_keys[(.active_key_version|tostring)].key_type, .active_key_version]' \
    '[["test@example.com","admin@example.com"],"rsa-2048",0]' "tf account step 4: attributes"
vault DELETE "$M/config/acme-account/tf-acme-account"
expect_2xx "tf account destroy"
vault DELETE "$M/config/acme-account/tf-acme-account"
expect_2xx "tf account destroy again (idempotent)"

########## account delete racing role creates (issue 13 item 3) ##########################
# The delete's "no role uses it" check and its delete, and a role create's "the account
# exists" check and its write, hold the account's lock: whatever the interleaving, no role
# may be left naming a deleted account.

# bg_req METHOD PATH BODY OUT: one request in the background, HTTP code into OUT.
bg_req() {
    curl -sS -o /dev/null -w '%{http_code}' -X "$1" -H "X-Vault-Token: $VAULT_TOKEN" \
        -H 'Content-Type: application/json' ${3:+--data-binary "$3"} \
        "$VAULT_ADDR/v1/$2" >"$4" 2>/dev/null &
}
race_bad=0
for round in 1 2 3 4 5; do
    acct=race-acct-$round
    vault PUT "$M/config/acme-account/$acct" \
        "$(acct_body "$ACME_DIR" '["a@example.com"]' ec-256 "$ACME_CA_PEM")"
    [ "$STATUS" = 200 ] || { not_ok "race round $round: account create ($STATUS)"; continue; }
    pids=()
    for k in 1 2 3 4 5 6; do
        bg_req PUT "$M/role/race-$round-$k" \
            "{\"acme_account_name\":\"$acct\",\"allowed_domains\":\"example.com\",\"allowed_domain_options\":\"subdomains\"}" \
            "$E2E_TMP/race-role-$k"
        pids+=($!)
        [ "$k" = 3 ] && { bg_req DELETE "$M/config/acme-account/$acct" "" "$E2E_TMP/race-del"; pids+=($!); }
    done
    wait "${pids[@]}"
    vault GET "$M/config/acme-account/$acct"
    acct_status=$STATUS
    made=0
    for k in 1 2 3 4 5 6; do
        vault GET "$M/role/race-$round-$k"
        [ "$STATUS" = 200 ] && made=$((made + 1))
    done
    # Either the delete won (account gone, no role made) or lost (account there, its roles).
    if [ "$acct_status" = 404 ] && [ "$made" -gt 0 ]; then
        race_bad=$((race_bad + 1))
        echo "# round $round: account deleted, $made roles name it (delete said $(cat "$E2E_TMP/race-del"))"
    fi
    for k in 1 2 3 4 5 6; do vault DELETE "$M/role/race-$round-$k"; done
    vault DELETE "$M/config/acme-account/$acct"
done
[ "$race_bad" = 0 ] && ok "account delete racing 6 role creates (5 rounds): no role names a deleted account" \
    || not_ok "account delete racing role creates: $race_bad of 5 rounds left roles naming a deleted account"

########## Terraform provider >= 5.9: omitted enum attributes arrive as "" ##############
# The provider copies the user's config, so an account without key_type sends
# "key_type": "" and a role without csr_* sends "" for them (issue 9 item 2). "" means the
# field's default; a value outside the set is still a 400 naming the field.

vault PUT "$M/config/acme-account/tf59" \
    "$(acct_body "$ACME_DIR" '["test@example.com"]' "" "$ACME_CA_PEM")"
expect_status 200 "tf >= 5.9 account create with key_type \"\""
expect_jq '.data | [.account_keys[(.active_key_version|tostring)].key_type, .active_key_version]' \
    '["ec-256",0]' "key_type \"\" is the default ec-256"
vault PUT "$M/config/acme-account/tf59" \
    "$(acct_body "$ACME_DIR" '["test@example.com"]' "" "$ACME_CA_PEM")"
expect_status 200 "tf >= 5.9 account update (the full body again, key_type \"\")"
acct_bad tf59-bad "$(acct_body "$ACME_DIR" '["a@example.com"]' " " "$ACME_CA_PEM")" key_type \
    "key_type of blanks is not the default"
vault PUT "$M/role/tf59-role" '{"acme_account_name": "tf59", "allowed_domains": ["example.com"],
  "allowed_domain_options": [], "allowed_challenge_types": ["http-01"],
  "csr_generate_key_type": "", "csr_identifier_population": ""}'
expect_status 200 "tf >= 5.9 role create with csr_* \"\""
expect_jq '.data | [.csr_generate_key_type, .csr_identifier_population]' '["ec-256","cn_first"]' \
    "role: \"\" are the defaults ec-256, cn_first"
vault PUT "$M/role/tf59-role" '{"acme_account_name": "tf59", "csr_generate_key_type": "rsa-2048",
  "csr_identifier_population": "sans_only"}'
expect_jq '.data | [.csr_generate_key_type, .csr_identifier_population]' '["rsa-2048","sans_only"]' \
    "role update to rsa-2048, sans_only"
vault PUT "$M/role/tf59-role" '{"acme_account_name": "tf59", "csr_generate_key_type": "",
  "csr_identifier_population": ""}'
expect_jq '.data | [.csr_generate_key_type, .csr_identifier_population]' '["ec-256","cn_first"]' \
    "role update with \"\" (attribute removed from the config) goes back to the defaults"
vault PUT "$M/role/tf59-bad" '{"acme_account_name": "tf59", "csr_generate_key_type": "ec-999"}'
expect_error_mentions csr_generate_key_type "role: unknown csr_generate_key_type refused"
vault GET "$M/role/tf59-bad"
expect_status 404 "role: nothing stored after the refused create"
vault PUT "$M/role/tf59-bad" '{"acme_account_name": "tf59", "csr_identifier_population": "cn"}'
expect_error_mentions csr_identifier_population "role: unknown csr_identifier_population refused"
vault PUT "$M/config/acme-account/tf59/rotate-key" '{"key_type": ""}'
expect_status 200 "rotate-key with key_type \"\""
vault GET "$M/config/acme-account/tf59"
expect_jq '.data | [.active_key_version, .account_keys[(.active_key_version|tostring)].key_type]' \
    '[1,"ec-256"]' "rotate-key: key_type \"\" made an ec-256 key"
vault DELETE "$M/role/tf59-role"
expect_2xx "delete tf59-role"
vault DELETE "$M/config/acme-account/tf59"
expect_2xx "delete tf59"

########## EAB: a second Pebble that requires external account binding ##################

pebble_stop
PEBBLE_EAB=1 e2e_pebble_start || { e2e_finish; exit 1; }
vault PUT "$M/config/acme-account/eab-none" \
    "$(acct_body "$ACME_DIR" '["a@example.com"]' ec-256 "$ACME_CA_PEM")"
expect_error_mentions eab_kid "EAB required by the CA but not given"
vault GET "$M/config/acme-account/eab-none"
expect_status 404 "EAB missing: nothing stored"
wrong_key=$(head -c 32 /dev/urandom | openssl base64 -A | tr '+/' '-_' | tr -d '=')
vault PUT "$M/config/acme-account/eab-wrong" \
    "$(acct_body "$ACME_DIR" '["a@example.com"]' ec-256 "$ACME_CA_PEM" |
       jq --arg k "$PEBBLE_EAB_KID" --arg h "$wrong_key" '. + {eab_kid: $k, eab_key: $h}')"
expect_error_mentions eab "EAB the CA rejects (wrong HMAC key)"
vault GET "$M/config/acme-account/eab-wrong"
expect_status 404 "EAB rejected: nothing stored"
vault PUT "$M/config/acme-account/eab-ok" \
    "$(acct_body "$ACME_DIR" '["a@example.com"]' ec-256 "$ACME_CA_PEM" |
       jq --arg k "$PEBBLE_EAB_KID" --arg h "$PEBBLE_EAB_HMAC_KEY" '. + {eab_kid: $k, eab_key: $h}')"
expect_status 200 "EAB accepted by the CA (v5.9+ Terraform sends eab_kid/eab_key)"
no_secrets "EAB create"
vault DELETE "$M/config/acme-account/eab-ok"
expect_2xx "delete eab-ok"

e2e_finish
