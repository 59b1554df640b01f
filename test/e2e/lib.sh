# test/e2e/lib.sh: shared setup and assertions for the e2e scenarios (bash + curl + jq).
# Source it from a test_*.sh script, then call e2e_start (dev-vault + plugin + mount) and,
# when the scenario needs a CA, e2e_pebble_start. Every assertion prints one TAP-like line,
# "ok - <what>" or "not ok - <what>"; e2e_finish prints the counts and returns non-zero on
# failure. Everything started here is stopped by PID from an EXIT trap.
#
# Environment: BUILD (default build) holds the plugin. HOST=dev-vault (default) or
# HOST=openbao picks the server (test/lib/host.sh). With E2E_SHARED_HOST=1 and the HOST_*
# variables of a running server exported (test/e2e/run.sh does that for OpenBao: one server
# for every script), e2e_start only mounts the engine there, afresh. With VAULT_ADDR and
# VAULT_TOKEN already set (a real Vault), e2e_start uses that server and only mounts the
# engine (the plugin must be registered there as pki-external-ca).

E2E_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$E2E_ROOT/$BUILD" ;; esac
E2E_PASS=0
E2E_FAIL=0
E2E_PIDS=()
E2E_TMP=$(mktemp -d "${TMPDIR:-/tmp}/e2e.XXXXXX")
MOUNT=${MOUNT:-pki-external-ca}
# shellcheck source=/dev/null
source "$E2E_ROOT/test/lib/host.sh"
E2E_OWN_HOST=""      # set when e2e_start started the server (stopped on exit)
E2E_LOG_FROM=1       # first line of $HOST_LOG that belongs to this script

e2e_cleanup() {
    local pid
    if declare -F pebble_stop >/dev/null; then pebble_stop >/dev/null 2>&1 || true; fi
    for pid in "${E2E_PIDS[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    [ -n "$E2E_OWN_HOST" ] && host_stop
    if [ -n "${E2E_KEEP:-}" ]; then echo "# kept $E2E_TMP"; else rm -rf "$E2E_TMP"; fi
}
trap e2e_cleanup EXIT

ok() { E2E_PASS=$((E2E_PASS + 1)); echo "ok - $*"; }
not_ok() { E2E_FAIL=$((E2E_FAIL + 1)); echo "not ok - $*"; }

# A missing prerequisite is a failure with the fix, never a skip.
e2e_require() {
    local tool=$1 hint=$2
    if command -v "$tool" >/dev/null 2>&1; then return 0; fi
    not_ok "prerequisite: $tool not found (install: $hint)"
    return 1
}

# e2e_check_plugin_exits: stops the server this script started (plugins get
# GRPCController.Shutdown, so leak reports are written; a shared server is left running and
# only this script's mount is disabled) and fails on any plugin that exited with an error
# status other than a SIGKILL the scenario sent itself: under `make asan` that is how a
# sanitizer report or a crash shows up, even when the host's relaunch let the scenario carry
# on. Only this script's part of the server log is read.
e2e_check_plugin_exits() {
    local log="${HOST_LOG:-}" pid bad part
    [ -n "$log" ] && [ -f "$log" ] || return 0
    for pid in "${E2E_PIDS[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    E2E_PIDS=()
    if [ -n "$E2E_OWN_HOST" ]; then host_stop; E2E_OWN_HOST=""
    elif [ -n "${E2E_SHARED_HOST:-}" ]; then host_curl DELETE "sys/mounts/$MOUNT" >/dev/null; fi
    part=$(tail -n "+$E2E_LOG_FROM" "$log")
    bad=$(grep 'plugin process exited' <<<"$part" | grep 'error=' | grep -v 'signal: killed')
    if [ -z "$bad" ] && ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' <<<"$part"; then
        ok "no plugin process crashed or reported a sanitizer error"
    else
        not_ok "a plugin process crashed or reported a sanitizer error"
        grep -E 'plugin process exited|Sanitizer|runtime error:' <<<"$part" | head -20 | sed 's/^/#   /'
    fi
}

e2e_finish() {
    e2e_check_plugin_exits
    echo "# $(basename "$0"): $E2E_PASS passed, $E2E_FAIL failed"
    [ "$E2E_FAIL" -eq 0 ]
}

# vault METHOD PATH [JSON-BODY]: PATH is relative to /v1/. Sets STATUS (HTTP code) and
# BODY (response text). A body of "@file" is sent from the file.
vault() {
    local method=$1 path=$2 data=${3-}
    local args=(-sS -o "$E2E_TMP/body" -w '%{http_code}' -X "$method"
                -H "X-Vault-Token: $VAULT_TOKEN" -H "X-Vault-Request: true")
    if [ -n "$data" ]; then args+=(-H 'Content-Type: application/json' --data-binary "$data"); fi
    STATUS=$(curl "${args[@]}" "$VAULT_ADDR/v1/$path" 2>"$E2E_TMP/curl.err") || STATUS=000
    BODY=$(cat "$E2E_TMP/body" 2>/dev/null)
}

# expect_status CODE WHAT: the last request's HTTP status.
expect_status() {
    local want=$1; shift
    if [ "$STATUS" = "$want" ]; then ok "$* (HTTP $STATUS)"
    else not_ok "$* (HTTP $STATUS, want $want): $(printf '%.400s' "$BODY")"; fi
}

# expect_2xx WHAT
expect_2xx() {
    case "$STATUS" in 2??) ok "$* (HTTP $STATUS)" ;;
        *) not_ok "$* (HTTP $STATUS, want 2xx): $(printf '%.400s' "$BODY")" ;; esac
}

# expect_jq FILTER EXPECTED WHAT: jq -c FILTER on the last body equals EXPECTED (jq -c form,
# strings with their quotes).
expect_jq() {
    local filter=$1 want=$2; shift 2
    local got
    got=$(printf '%s' "$BODY" | jq -c "$filter" 2>&1)
    if [ "$got" = "$want" ]; then ok "$*"
    else not_ok "$*: $filter = $got, want $want"; fi
}

# expect_true FILTER WHAT: the jq filter yields true on the last body.
expect_true() {
    local filter=$1; shift
    expect_jq "$filter" true "$@"
}

# expect_error_mentions WORD WHAT: a 400 whose error text names WORD.
expect_error_mentions() {
    local word=$1; shift
    local msg
    msg=$(printf '%s' "$BODY" | jq -r '(.errors // []) | join("; ")' 2>/dev/null)
    if [ "$STATUS" = 400 ] && printf '%s' "$msg" | grep -qF -- "$word"; then
        ok "$* (400: $(printf '%.160s' "$msg"))"
    else
        not_ok "$* (HTTP $STATUS, want 400 naming '$word'): $(printf '%.300s' "$BODY")"
    fi
}

# expect_not_found WORD WHAT: a 404 whose errors name WORD (the missing order, role or
# account), whatever the method: a write to a missing object must not answer 204.
expect_not_found() {
    local word=$1; shift
    local msg
    msg=$(printf '%s' "$BODY" | jq -r '(.errors // []) | join("; ")' 2>/dev/null)
    if [ "$STATUS" = 404 ] && printf '%s' "$msg" | grep -qF -- "$word"; then
        ok "$* (404: $(printf '%.160s' "$msg"))"
    else
        not_ok "$* (HTTP $STATUS, want 404 naming '$word'): $(printf '%.300s' "$BODY")"
    fi
}

RFC3339_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}([.][0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'

# e2e_start: a host ($HOST, see test/lib/host.sh) with the plugin registered and mounted at
# $MOUNT. E2E_ENTITIES: a file mapping tokens to identity entities (host_entities).
e2e_start() {
    e2e_require curl "apt-get install curl" || return 1
    e2e_require jq "apt-get install jq" || return 1
    e2e_require openssl "apt-get install openssl" || return 1
    if [ -n "${VAULT_ADDR:-}" ] && [ -n "${VAULT_TOKEN:-}" ] && [ -z "${E2E_OWN_VAULT:-}" ] &&
       [ -z "${E2E_SHARED_HOST:-}" ]; then
        vault POST "sys/mounts/$MOUNT" '{"type":"pki-external-ca"}'
        case "$STATUS" in 2??) ;; *) not_ok "mount $MOUNT on $VAULT_ADDR: $BODY"; return 1 ;; esac
        return 0
    fi
    if [ -n "${E2E_SHARED_HOST:-}" ]; then
        E2E_LOG_FROM=$(( $(wc -l < "$HOST_LOG") + 1 ))
        if [ -n "${E2E_ENTITIES:-}" ]; then
            host_entities "$E2E_ENTITIES" || { not_ok "identities from $E2E_ENTITIES on $HOST"; return 1; }
        fi
        export VAULT_ADDR=$HOST_ADDR VAULT_TOKEN=${E2E_TOKEN:-root}
        host_curl DELETE "sys/mounts/$MOUNT" >/dev/null   # a fresh mount, nothing left over
        host_mount "$MOUNT" pki-external-ca || { not_ok "mount $MOUNT on the shared $HOST"; return 1; }
        return 0
    fi
    local plugin="$BUILD/vault-plugin-secrets-pki-external-ca"
    if [ ! -x "$plugin" ]; then
        not_ok "prerequisite: plugin $plugin not built (run: make BUILD=${BUILD##*/} all)"
        return 1
    fi
    mkdir -p "$E2E_TMP/plugins"
    cp "$plugin" "$E2E_TMP/plugins/"
    HOST_ENTITIES_FILE=${E2E_ENTITIES:-}
    host_start "$E2E_TMP/host" "$E2E_TMP/plugins" || { not_ok "$HOST did not start (see above)"; return 1; }
    E2E_OWN_HOST=1
    VAULT_TOKEN=${E2E_TOKEN:-root}
    export VAULT_ADDR=$HOST_ADDR VAULT_TOKEN
    host_register pki-external-ca vault-plugin-secrets-pki-external-ca || { not_ok "register plugin on $HOST"; return 1; }
    host_mount "$MOUNT" pki-external-ca || { not_ok "mount $MOUNT on $HOST"; return 1; }
    return 0
}

# e2e_pebble_start: Pebble (and challtestsrv) from test/lib/pebble.sh. Exports
# ACME_DIR (the directory URL) and ACME_CA_PEM (the PEM text of the CA of Pebble's
# HTTPS certificate, for trusted_ca).
# With E2E_SHARED_PEBBLE=1 and PEBBLE_DIR_URL, PEBBLE_CA_PEM (and the rest of pebble.sh's
# exports) set, the running Pebble is used instead (test/features/run.sh shares one).
e2e_pebble_start() {
    if [ -n "${E2E_SHARED_PEBBLE:-}" ] && [ -n "${PEBBLE_DIR_URL:-}" ]; then
        ACME_DIR=$PEBBLE_DIR_URL
        ACME_CA_PEM=$(cat "$PEBBLE_CA_PEM"; printf x)
        ACME_CA_PEM=${ACME_CA_PEM%x}
        export ACME_DIR ACME_CA_PEM
        return 0
    fi
    local lib="$E2E_ROOT/test/lib/pebble.sh"
    if [ ! -f "$lib" ]; then not_ok "prerequisite: $lib missing"; return 1; fi
    # shellcheck source=/dev/null
    source "$lib" || { not_ok "source $lib"; return 1; }
    if ! pebble_start; then not_ok "pebble_start failed (see test/lib/pebble.sh)"; return 1; fi
    trap e2e_cleanup EXIT   # pebble_start installs its own trap; ours also stops Pebble
    ACME_DIR=${PEBBLE_DIR_URL:?pebble.sh did not export PEBBLE_DIR_URL}
    local ca=${PEBBLE_CA_PEM:-${PEBBLE_WFE_CA:-${PEBBLE_TLS_CA:-}}}
    if [ -z "$ca" ] || [ ! -f "$ca" ]; then
        not_ok "pebble.sh exported no CA file for Pebble's HTTPS"; return 1
    fi
    ACME_CA_PEM=$(cat "$ca"; printf x)   # keep trailing newlines, byte for byte
    ACME_CA_PEM=${ACME_CA_PEM%x}
    export ACME_DIR ACME_CA_PEM
}

# json_str TEXT: TEXT as a JSON string literal.
json_str() { jq -Rn --arg s "$1" '$s'; }
