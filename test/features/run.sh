#!/usr/bin/env bash
# test/features/run.sh: end-to-end checks of the features beyond Vault Enterprise's engine
# (issue 14), one file per feature (test_*.sh, written like test/e2e's scenarios with
# test/e2e/lib.sh). Runs once, under dev-vault: one dev-vault and one Pebble (v2.10.x from
# the Go module proxy, test/lib/pebble.sh PEBBLE_NEW=1: profiles, ARI) serve every file,
# each on a fresh mount. challtestsrv also listens on [::1] when the machine has IPv6
# loopback (FEATURES_IPV6=1 then). Ends with "N passed, N failed" counting assertions.
set -u
cd "$(dirname "$0")"
export BUILD=${BUILD:-build}
export HOST=dev-vault
source ../lib/host.sh
source ../lib/pebble.sh
case "$BUILD" in /*) plugin=$BUILD ;; *) plugin=$PWD/../../$BUILD ;; esac
plugin=$plugin/vault-plugin-secrets-pki-external-ca
SHARED=$(mktemp -d "${TMPDIR:-/tmp}/features.XXXXXX")
trap 'host_stop; pebble_stop; rm -rf "$SHARED"' EXIT
passed=0 failed=0
FEATURES_IPV6=0
if ip -6 addr show dev lo 2>/dev/null | grep -q 'inet6 ::1/128'; then FEATURES_IPV6=1; fi
export FEATURES_IPV6
mkdir -p "$SHARED/plugins"
if ! [ -x "$plugin" ] || ! cp "$plugin" "$SHARED/plugins/"; then
    echo "not ok - plugin $plugin not built (run: make)"; echo "0 passed, 1 failed"; exit 1
fi
if ! PEBBLE_NEW=1 PEBBLE_IPV6=$FEATURES_IPV6 pebble_start; then
    echo "not ok - Pebble v2.10 (PEBBLE_NEW=1, needs go and the Go module proxy, see test/lib/pebble.sh)"
    echo "0 passed, 1 failed"; exit 1
fi
trap 'host_stop; pebble_stop; rm -rf "$SHARED"' EXIT   # pebble_start set its own trap
if ! host_start "$SHARED/host" "$SHARED/plugins" ||
   ! host_register pki-external-ca vault-plugin-secrets-pki-external-ca; then
    echo "not ok - dev-vault with the plugin registered"; echo "0 passed, 1 failed"; exit 1
fi
export E2E_SHARED_HOST=1 HOST_DIR HOST_ADDR HOST_TOKEN HOST_PID HOST_LOG HOST_PLUGIN_DIR HOST_PORT HOST_CLUSTER_PORT
export E2E_SHARED_PEBBLE=1 PEBBLE_DIR_URL PEBBLE_CA_PEM PEBBLE_MGMT_URL CHALLTESTSRV_URL PEBBLE_TMP \
    PEBBLE_HTTP_PORT PEBBLE_TLS_PORT PEBBLE_DNS_PORT
for t in test_*.sh; do
    [ -f "$t" ] || continue
    echo "# --- $t"
    out=$(mktemp)
    t0=$SECONDS
    bash "$t" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    p=$(grep -c '^ok - ' "$out")
    f=$(grep -c '^not ok - ' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - $t exited with status $rc"
        f=1
    fi
    echo "# $t: $((SECONDS - t0)) s"
    passed=$((passed + p)) failed=$((failed + f))
    rm -f "$out"
done
# The plugin processes exit only now: a crash or sanitizer report of that exit fails too.
host_stop
bad=$(grep 'plugin process exited' "$HOST_LOG" | grep 'error=' | grep -v 'signal: killed')
if [ -z "$bad" ] && ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$HOST_LOG"; then
    echo "ok - shared dev-vault: every plugin exit clean"; passed=$((passed + 1))
else
    echo "not ok - shared dev-vault: a plugin crashed or reported a sanitizer error"
    grep -E 'plugin process exited|Sanitizer|runtime error:' "$HOST_LOG" | head -20 | sed 's/^/#   /'
    failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
