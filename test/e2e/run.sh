#!/usr/bin/env bash
# test/e2e/run.sh: runs every test/e2e/test_*.sh (each against a host, a plugin
# mount and Pebble, see lib.sh) and ends with "N passed, N failed" counting assertions
# ("ok - " / "not ok - " lines). A script that exits non-zero without a "not ok" line (it
# died early) counts as one more failure. Exit status is non-zero on any failure.
#
# HOST=dev-vault (default): each script starts its own dev-vault. HOST=openbao: one OpenBao
# server (test/lib/host.sh) serves every script, each on a fresh mount (E2E_SHARED_HOST).
set -u
cd "$(dirname "$0")"
export BUILD=${BUILD:-build}
export HOST=${HOST:-dev-vault}
echo "# host: $HOST"
passed=0 failed=0
if [ "$HOST" = openbao ]; then
    source ../lib/host.sh
    case "$BUILD" in /*) plugin=$BUILD ;; *) plugin=$PWD/../../$BUILD ;; esac
    plugin=$plugin/vault-plugin-secrets-pki-external-ca
    SHARED=$(mktemp -d "${TMPDIR:-/tmp}/e2e-openbao.XXXXXX")
    trap 'host_stop; rm -rf "$SHARED"' EXIT
    mkdir -p "$SHARED/plugins"
    if [ -x "$plugin" ] && cp "$plugin" "$SHARED/plugins/" &&
       host_start "$SHARED/host" "$SHARED/plugins" &&
       host_register pki-external-ca vault-plugin-secrets-pki-external-ca; then
        export E2E_SHARED_HOST=1 HOST_DIR HOST_ADDR HOST_TOKEN HOST_PID HOST_LOG HOST_PLUGIN_DIR HOST_PORT HOST_CLUSTER_PORT
        echo "# shared OpenBao server at $HOST_ADDR (pid $HOST_PID)"
    else
        echo "not ok - shared OpenBao server with the plugin ($plugin) registered"
        echo "0 passed, 1 failed"
        exit 1
    fi
fi
for t in test_*.sh; do
    [ -f "$t" ] || continue
    echo "# --- $t"
    out=$(mktemp)
    bash "$t" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    p=$(grep -c '^ok - ' "$out")
    f=$(grep -c '^not ok - ' "$out")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok - $t exited with status $rc"
        f=1
    fi
    passed=$((passed + p)) failed=$((failed + f))
    rm -f "$out"
done
if [ "$HOST" = openbao ]; then
    # The shared server's plugins exit only now (or when a script disabled its mount): a
    # crash or sanitizer report of that last exit is a failure too.
    host_stop
    bad=$(grep 'plugin process exited' "$HOST_LOG" | grep 'error=' | grep -v 'signal: killed')
    if [ -z "$bad" ] && ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$HOST_LOG"; then
        echo "ok - shared OpenBao server: every plugin exit clean"; passed=$((passed + 1))
    else
        echo "not ok - shared OpenBao server: a plugin crashed or reported a sanitizer error"
        grep -E 'plugin process exited|Sanitizer|runtime error:' "$HOST_LOG" | head -20 | sed 's/^/#   /'
        failed=$((failed + 1))
    fi
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
