# test/lib/moto.sh: moto in server mode (PyPI moto[server], pinned in
# scripts/requirements.txt, installed into /opt/pkiext/venv by scripts/deps.sh) on a free
# 127.0.0.1 port. Stopped by PID.
#
# Request authentication (INITIAL_NO_AUTH_ACTION_COUNT) stays off by default: moto 5.2.5's
# signature check answers SignatureDoesNotMatch to every Route 53 GET, boto3's own
# included (POSTs pass), so with it on no Route 53 client works. MOTO_AUTH_AFTER=N turns
# it on after N calls, for trying a newer moto.
#
#     source test/lib/moto.sh
#     moto_start              # exports MOTO_URL, MOTO_PID
#     moto_stop

MOTO_VENV=${MOTO_VENV:-/opt/pkiext/venv}

moto_start() {
    local bin=$MOTO_VENV/bin/moto_server
    [ -x "$bin" ] || { echo "moto.sh: $bin not found (run scripts/deps.sh: pip install -r scripts/requirements.txt)" >&2; return 1; }
    local port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    MOTO_LOG=$(mktemp /tmp/moto.XXXXXX.log)
    if [ -n "${MOTO_AUTH_AFTER:-}" ]; then export INITIAL_NO_AUTH_ACTION_COUNT=$MOTO_AUTH_AFTER; fi
    "$bin" -H 127.0.0.1 -p "$port" > "$MOTO_LOG" 2>&1 &
    unset INITIAL_NO_AUTH_ACTION_COUNT
    MOTO_PID=$!
    export MOTO_URL=http://127.0.0.1:$port MOTO_PID MOTO_LOG
    local i
    for i in $(seq 1 100); do
        curl -s -o /dev/null "$MOTO_URL/moto-api/" && { echo "moto.sh: moto $MOTO_URL (pid $MOTO_PID)" >&2; return 0; }
        kill -0 "$MOTO_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "moto.sh: moto_server did not start:" >&2; tail -5 "$MOTO_LOG" >&2
    return 1
}

moto_stop() {
    [ -n "${MOTO_PID:-}" ] || return 0
    kill "$MOTO_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do kill -0 "$MOTO_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
    rm -f "$MOTO_LOG"
    unset MOTO_PID
}
