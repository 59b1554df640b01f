# Helpers for test/host/run.sh and test/bench/run.sh (sourced). Expects ROOT and TMP; HOST
# (dev-vault or openbao) picks the server, see test/lib/host.sh.
. "$ROOT/test/lib/host.sh"
PASS=0 FAIL=0 HPID="" ADDR="" STATUS="" HOST_RC=0 SEEN_PIDS=""

ok()  { PASS=$((PASS + 1)); echo "ok - $1"; }
nok() { FAIL=$((FAIL + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && echo "#   $2"; return 0; }

# check NAME CMD...: one test line; on failure show the last HTTP exchange.
check() {
    local name=$1; shift
    if "$@"; then ok "$name"; else
        nok "$name" "last HTTP status ${STATUS:-?}, body: $(head -c 400 "$TMP/body" 2>/dev/null)"
    fi
}

finish() {
    echo "$PASS passed, $FAIL failed"
    [ "$FAIL" -eq 0 ] && exit 0 || exit 1
}

# Kill only what this script started, by PID: the host and any plugin seen under it.
cleanup() {
    [ -n "$HPID" ] && stop_host
    for p in $SEEN_PIDS; do kill -9 "$p" 2>/dev/null; done
    [ -n "${TMP:-}" ] && [ -z "${KEEP_TMP:-}" ] && rm -rf "$TMP"
}

# start_host [dev-vault flags...]: the host ($HOST, test/lib/host.sh) on a free loopback port,
# plugins from $TMP/plugins, log in $TMP/host.err; sets HPID and ADDR (host:port). State lives
# in the directory of "-data DIR" when given (a restart on it keeps everything), else in a
# fresh directory. "-entities FILE" becomes host_entities; other flags are dev-vault's own.
HOST_SEQ=0
start_host() {
    local dir="" rest=()
    HOST_ENTITIES_FILE=""
    while [ $# -gt 0 ]; do
        case "$1" in
            -data) dir=$2; shift 2 ;;
            -entities) HOST_ENTITIES_FILE=$2; shift 2 ;;
            *) rest+=("$1"); shift ;;
        esac
    done
    [ -n "$dir" ] || { HOST_SEQ=$((HOST_SEQ + 1)); dir=$TMP/host.$HOST_SEQ; }
    HOST_DEVVAULT_ARGS=("${rest[@]}")
    HOST_LOG_FILE=$TMP/host.err HOST_PORT="" HOST_CLUSTER_PORT=""
    host_start "$dir" "$TMP/plugins" || return 1
    HPID=$HOST_PID ADDR=${HOST_ADDR#http://}
}

# stop_host: SIGTERM, wait (bounded), record the exit code in HOST_RC.
stop_host() {
    [ -n "$HPID" ] || return 0
    SEEN_PIDS="$SEEN_PIDS $(pgrep -P "$HPID" | tr '\n' ' ')"
    HPID=""
    host_stop
}

# req METHOD PATH [JSON]: sets STATUS, body in $TMP/body. TOKEN, CTYPE override token, type.
req() {
    local args=(-s -o "$TMP/body" -w '%{http_code}' -X "$1" -H "X-Vault-Token: ${TOKEN:-root}")
    [ $# -ge 3 ] && args+=(-H "Content-Type: ${CTYPE:-application/json}" --data-binary "$3")
    STATUS=$(curl "${args[@]}" "http://$ADDR/v1/$2")
    record_pids
}

req_form() {
    STATUS=$(curl -s -o "$TMP/body" -w '%{http_code}' -X "$1" -H "X-Vault-Token: ${TOKEN:-root}" \
        -H 'Content-Type: application/x-www-form-urlencoded' --data-binary "$3" "http://$ADDR/v1/$2")
}

jqt() { jq -e "$1" "$TMP/body" > /dev/null 2>&1; }
jqf() { jq -e "$2" "$1" > /dev/null 2>&1; }

# status_is CODE [JQ]: HTTP status equals CODE and, if given, the body satisfies JQ.
status_is() { [ "$STATUS" = "$1" ] && { [ $# -lt 2 ] || jqt "$2"; }; }
status_is_2xx() { [[ $STATUS == 2?? ]] && { [ $# -lt 1 ] || [ "$STATUS" = 204 ] || jqt "$1"; }; }

plugin_pids() { [ -n "$HPID" ] && pgrep -P "$HPID"; }
record_pids() { [ -n "$HPID" ] && SEEN_PIDS="$SEEN_PIDS $(pgrep -P "$HPID" | tr '\n' ' ')"; }

# plugin_socket PID: the listening unix socket path owned by PID (from /proc).
plugin_socket() {
    local ino
    for ino in $(ls -l "/proc/$1/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\]/\1/p'); do
        awk -v i="$ino" '$7 == i && $4 == "00010000" && $8 != "" { print $8 }' /proc/net/unix
    done | head -1
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# Anonymous (private heap/stack) part of RSS: what the process itself allocated, without
# the shared-library pages other processes share.
rss_anon_kb() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
threads() { awk '/^Threads:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# tls_refused SOCK [s_client args]: TLS (ALPN h2, as gRPC needs) to a plugin socket, then an HTTP/2 preface. Refused
# means s_client failed on its own (not killed by timeout: an accepted connection stays open,
# -quiet ignores stdin EOF) and no application byte came back (an accepted gRPC server answers
# the preface with SETTINGS). Sets TLS_OK (1 = refused) and TLS_NOTE.
tls_refused() {
    local sock=$1 rc; shift
    (sleep 1; printf 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'; sleep 2) |
        timeout 8 openssl s_client -unix "$sock" -alpn h2 -quiet "$@" > "$TMP/tls.out" 2> "$TMP/tls.err"
    rc=$?
    TLS_NOTE="rc=$rc, $(wc -c < "$TMP/tls.out") bytes back, $(grep -Eio 'alert [a-z ]+|unexpected eof|handshake failure' "$TMP/tls.err" | head -1)"
    TLS_OK=0
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ ! -s "$TMP/tls.out" ] && TLS_OK=1
    return 0
}
