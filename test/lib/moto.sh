# test/lib/moto.sh: moto in server mode (PyPI moto[server], pinned in
# scripts/requirements.txt, installed into /opt/pkiext/venv by scripts/deps.sh) on a free
# 127.0.0.1 port. Stopped by PID.
#
# MOTO_AUTH_AFTER=N turns moto's request authentication on (INITIAL_NO_AUTH_ACTION_COUNT)
# after N unauthenticated calls, in which the tests create their IAM users and keys: from
# then on moto checks every call's SigV4 signature against the key's secret, and its IAM
# policies (a role's trust policy with its sts:ExternalId condition included). moto 5.2.5
# verifies a body-less request (every Route 53 GET) only when it carries the
# x-amz-content-sha256 header (see test/dns/moto_client.py); the plugin sends it.
#
# moto's request recorder writes to MOTO_RECORDING (one JSON object per line: method, url,
# headers, body) between moto_record_start and moto_record_stop.
#
#     source test/lib/moto.sh
#     MOTO_AUTH_AFTER=5 moto_start   # exports MOTO_URL, MOTO_PID, MOTO_LOG, MOTO_RECORDING
#     moto_record_start; ...; moto_record_stop
#     moto_stop

MOTO_VENV=${MOTO_VENV:-/opt/pkiext/venv}

moto_start() {
    local bin=$MOTO_VENV/bin/moto_server
    [ -x "$bin" ] || { echo "moto.sh: $bin not found (run scripts/deps.sh: pip install -r scripts/requirements.txt)" >&2; return 1; }
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    MOTO_LOG=$(mktemp /tmp/moto.XXXXXX.log)
    MOTO_RECORDING=$MOTO_LOG.rec
    local auth=()
    [ -n "${MOTO_AUTH_AFTER:-}" ] && auth=(INITIAL_NO_AUTH_ACTION_COUNT="$MOTO_AUTH_AFTER")
    env "${auth[@]}" MOTO_RECORDER_FILEPATH="$MOTO_RECORDING" \
        "$bin" -H 127.0.0.1 -p "$port" > "$MOTO_LOG" 2>&1 &
    MOTO_PID=$!
    export MOTO_URL=http://127.0.0.1:$port MOTO_PID MOTO_LOG MOTO_RECORDING
    local i
    for i in $(seq 1 100); do
        curl -s -o /dev/null "$MOTO_URL/moto-api/" && { echo "moto.sh: moto $MOTO_URL (pid $MOTO_PID)" >&2; return 0; }
        kill -0 "$MOTO_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "moto.sh: moto_server did not start:" >&2; tail -5 "$MOTO_LOG" >&2
    return 1
}

# moto_record_start: empties the recording and records every call from now on.
moto_record_start() {
    curl -sf -o /dev/null -X POST "$MOTO_URL/moto-api/recorder/reset-recording" &&
        curl -sf -o /dev/null -X POST "$MOTO_URL/moto-api/recorder/start-recording"
}
moto_record_stop() { curl -sf -o /dev/null -X POST "$MOTO_URL/moto-api/recorder/stop-recording"; }

moto_stop() {
    [ -n "${MOTO_PID:-}" ] || return 0
    kill "$MOTO_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do kill -0 "$MOTO_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
    rm -f "$MOTO_LOG" "$MOTO_RECORDING"
    unset MOTO_PID
}
