#!/usr/bin/env bash
# test/lifecycle/run.sh: one-call issue and tidy (issue 14 §5, §6), end to end, once per run under
# dev-vault (they do not depend on the host, so they do not run twice like test/e2e). One
# BIND (test/lib/named.sh: automatic dns-01), one Pebble resolving through it, one
# dev-vault with the plugin and a fast rollback (1 s: auto-tidy and resumed runs show in
# seconds); then every script here (test/lifecycle/*.sh but this one), sourced in
# name order, each with its own roles. Prints "ok - "/"not ok - " lines and
# "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
export HOST=dev-vault
HOST_DEVVAULT_ARGS=(-rollback-interval 1s)
# Certificates valid 8 s: tidy's safety buffer can pass within the suite.
export PEBBLE_VALIDITY=${PEBBLE_VALIDITY:-8}
# shellcheck source=test/e2e/lib.sh
source test/e2e/lib.sh
# shellcheck source=test/lib/named.sh
source test/lib/named.sh
# shellcheck source=test/e2e/orders_lib.sh
source test/e2e/orders_lib.sh

e2e_require named "apt-get install bind9" || { e2e_finish; exit 1; }
e2e_require dig "apt-get install bind9-dnsutils" || { e2e_finish; exit 1; }
stop_all() { named_stop; e2e_cleanup; }
trap stop_all EXIT
named_start || { not_ok "BIND did not start"; e2e_finish; exit 1; }
export PEBBLE_DNS_SERVER=$NAMED_ADDR
e2e_start || { e2e_finish; exit 1; }
e2e_pebble_start || { e2e_finish; exit 1; }
trap stop_all EXIT
M=$MOUNT

# What every feature script may use: the account FACCT, a provider for example.test
# (automatic dns-01) and for hidden.test (never visible: an order that stays in the
# propagation check), and feature_role NAME [extra json].
FACCT=pebble
vault PUT "$M/config/acme-account/$FACCT" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" \
    --arg ns "$NAMED_ADDR" '{directory_url:$d, trusted_ca:$ca, default_nameserver:$ns, email_contacts:["ops@example.com"]}')"
expect_status 200 "features: acme account"
vault POST "$M/config/dns/rfc2136/bind" "{\"identifiers\":\"example.test,*.example.test\",
    \"nameserver\":\"$NAMED_ADDR\",\"tsig_key_name\":\"key-sha256\",\"tsig_secret\":\"$NAMED_SECRET_sha256\"}"
expect_status 200 "features: rfc2136 provider for example.test"
vault POST "$M/config/dns/rfc2136/hidden" "{\"identifiers\":\"hidden.test,*.hidden.test\",
    \"nameserver\":\"$NAMED_ADDR\",\"tsig_key_name\":\"key-sha256\",\"tsig_secret\":\"$NAMED_SECRET_sha256\",
    \"propagation_timeout\":\"60s\"}"
expect_status 200 "features: rfc2136 provider for hidden.test"
feature_role() {   # NAME [extra json]
    vault PUT "$M/role/$1" "$(jq -n --arg a "$FACCT" '{acme_account_name:$a,
        allowed_domains:["example.test","other.test","hidden.test"],
        allowed_domain_options:["bare_domains","subdomains"],
        allowed_challenge_types:["http-01","dns-01"]}' | jq -c ". + ${2:-{\}}")"
}

for f in test/lifecycle/*.sh; do
    case "$f" in */run.sh) continue ;; esac
    echo "# --- $f"
    # shellcheck source=/dev/null
    source "$f"
done
e2e_finish
