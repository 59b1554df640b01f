# test/lib/pebble.sh: start Debian's pebble + pebble-challtestsrv on free loopback ports.
#
# Usage (bash):
#     source test/lib/pebble.sh
#     pebble_start            # or: PEBBLE_EAB=1 pebble_start, PEBBLE_WFE_NONCEREJECT=50 pebble_start
#     ... tests use the exported variables ...
#     pebble_stop             # also run by the EXIT trap pebble_start installs
#
# Input environment (all optional):
#     PEBBLE_VA_NOSLEEP=1         default 1 here (Pebble's own default sleeps 0-5 s per check)
#     PEBBLE_WFE_NONCEREJECT=N    % of nonces Pebble rejects (Pebble's default 5)
#     PEBBLE_AUTHZREUSE=N         % of authorizations reused (default 0 here: Pebble 2.4.0's
#                                 reuse path can deadlock under concurrency; Pebble's own is 50)
#     PEBBLE_VA_ALWAYS_VALID=1    skip validation
#     PEBBLE_ALTERNATE_ROOTS=N    N alternate chains (Link rel="alternate")
#     PEBBLE_EAB=1                require external account binding; keys exported below
#     PEBBLE_NEW=1                use Pebble $PEBBLE_NEW_VERSION (default v2.10.1) built from the Go
#                                 module proxy (go install, cached under $PEBBLE_GO_CACHE, default
#                                 ~/.cache/pkiext-pebble): ARI renewalInfo, profiles "default" and
#                                 "shortlived", Retry-After on polls (authz 1 s, order 1 s)
#     PEBBLE_BIN, CHALLTESTSRV_BIN  binaries (default: Debian's pebble, pebble-challtestsrv)
#     PEBBLE_IPV6=1               challtestsrv's http-01 and tls-alpn-01 listeners also on [::1]
#                                 (same ports), so Pebble can validate the IP identifier ::1
#     PEBBLE_DNS_SERVER=host:port   the DNS server Pebble's validation resolves through
#                                 (default: challtestsrv's); e.g. a test BIND (test/lib/named.sh)
#
# Exported once started:
#     PEBBLE_DIR_URL      https://127.0.0.1:<port>/dir
#     PEBBLE_CA_PEM       path of the CA that signed Pebble's HTTPS (WFE) certificate: the
#                         ACME client's trusted_ca
#     PEBBLE_MGMT_URL     https://127.0.0.1:<port> (same CA): /roots/0, /intermediates/0,
#                         /cert-status-by-serial?serial=<hex>
#     CHALLTESTSRV_URL    http://127.0.0.1:<port>: POST /add-http01 {"token","content"},
#                         /set-txt {"host","value"}, /add-tlsalpn01 {"host","content"}, ...
#     PEBBLE_HTTP_PORT, PEBBLE_TLS_PORT, PEBBLE_DNS_PORT   challtestsrv's challenge listeners
#     PEBBLE_PID, CHALLTESTSRV_PID
#     PEBBLE_RESTART      path of a script that starts Pebble again with the same config and
#                         ports (after a test killed $PEBBLE_PID); it prints the new PID and
#                         updates $PEBBLE_TMP/pebble.pid, which pebble_stop reads
#     PEBBLE_TMP          the temp dir (config, TLS material, logs pebble.log, challtestsrv.log)
#     PEBBLE_EAB_KID, PEBBLE_EAB_HMAC_KEY   with PEBBLE_EAB=1 (HMAC key base64url)
#
# Every port is picked free on 127.0.0.1 at start, so several Pebbles can run at once.
# Processes are stopped by PID only.

source "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

_pebble_wait() {   # url [curl args...]: until it answers, 10 s at most
    local url=$1; shift
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null "$@" "$url"; then return 0; fi
        sleep 0.1
    done
    return 1
}

_pebble_tls() {    # CA + server cert for the WFE, in $PEBBLE_TMP
    local d=$PEBBLE_TMP
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
        -subj "/CN=pebble test WFE CA $$" -keyout "$d/ca.key" -out "$d/ca.pem" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
        2>/dev/null || return 1
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
        -keyout "$d/key.pem" -out "$d/server.csr" 2>/dev/null || return 1
    printf 'subjectAltName=DNS:localhost,DNS:pebble,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' \
        > "$d/ext.cnf"
    openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
        -CAcreateserial -days 30 -extfile "$d/ext.cnf" -out "$d/cert.pem" 2>/dev/null
}

# Builds (once) and prints the bin dir of a newer Pebble from the Go module proxy.
_pebble_new_bin() {
    local v=${PEBBLE_NEW_VERSION:-v2.10.1}
    local dir=${PEBBLE_GO_CACHE:-$HOME/.cache/pkiext-pebble}/$v
    if [ ! -x "$dir/bin/pebble" ] || [ ! -x "$dir/bin/pebble-challtestsrv" ]; then
        command -v go >/dev/null || { echo "pebble.sh: PEBBLE_NEW=1 needs go" >&2; return 1; }
        echo "pebble.sh: building pebble $v from the Go module proxy" >&2
        mkdir -p "$dir" &&
        GOBIN=$dir/bin GOFLAGS=-mod=mod go install \
            "github.com/letsencrypt/pebble/v2/cmd/pebble@$v" \
            "github.com/letsencrypt/pebble/v2/cmd/pebble-challtestsrv@$v" >&2 || return 1
    fi
    echo "$dir/bin"
}

pebble_start() {
    local pebble=${PEBBLE_BIN:-pebble} cts=${CHALLTESTSRV_BIN:-pebble-challtestsrv}
    if [ "${PEBBLE_NEW:-0}" = 1 ]; then
        local nb
        nb=$(_pebble_new_bin) || return 1
        pebble=$nb/pebble cts=$nb/pebble-challtestsrv
    fi
    command -v "$pebble" >/dev/null || { echo "pebble.sh: $pebble not found (apt-get install pebble)" >&2; return 1; }
    command -v "$cts" >/dev/null || { echo "pebble.sh: $cts not found (apt-get install pebble)" >&2; return 1; }
    PEBBLE_TMP=$(mktemp -d /tmp/pebble.XXXXXX) || return 1
    export PEBBLE_TMP
    _pebble_tls || { echo "pebble.sh: TLS material generation failed" >&2; return 1; }

    local wfe mgmt cts_mgmt
    read -r wfe mgmt cts_mgmt PEBBLE_HTTP_PORT PEBBLE_TLS_PORT PEBBLE_DNS_PORT \
        < <(free_ports 6)
    export PEBBLE_HTTP_PORT PEBBLE_TLS_PORT PEBBLE_DNS_PORT

    local eab='"externalAccountBindingRequired": false'
    if [ "${PEBBLE_EAB:-0}" = 1 ]; then
        export PEBBLE_EAB_KID=kid-1
        export PEBBLE_EAB_HMAC_KEY=zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W
        eab="\"externalAccountBindingRequired\": true,
    \"externalAccountMACKeys\": { \"$PEBBLE_EAB_KID\": \"$PEBBLE_EAB_HMAC_KEY\" }"
    fi
    local extra=''
    if [ "${PEBBLE_NEW:-0}" = 1 ]; then
        extra=',
    "retryAfter": { "authz": 1, "order": 1 },
    "profiles": {
      "default": { "description": "The profile you know and love", "validityPeriod": 7776000 },
      "shortlived": { "description": "A short-lived cert profile", "validityPeriod": 518400 }
    }'
    fi
    cat > "$PEBBLE_TMP/pebble.json" <<JSON
{ "pebble": {
    "listenAddress": "127.0.0.1:$wfe",
    "managementListenAddress": "127.0.0.1:$mgmt",
    "certificate": "$PEBBLE_TMP/cert.pem",
    "privateKey": "$PEBBLE_TMP/key.pem",
    "httpPort": $PEBBLE_HTTP_PORT,
    "tlsPort": $PEBBLE_TLS_PORT,
    "ocspResponderURL": "",
    $eab$extra
} }
JSON

    # Newer challtestsrv renamed -dns01 to -dnsserver and added DoH (disabled here).
    local dnsflags=(-dns01 "127.0.0.1:$PEBBLE_DNS_PORT")
    if "$cts" -h 2>&1 | grep -q -- '-dnsserver'; then
        dnsflags=(-dnsserver "127.0.0.1:$PEBBLE_DNS_PORT" -doh "")
    fi
    local http01=127.0.0.1:$PEBBLE_HTTP_PORT tlsalpn01=127.0.0.1:$PEBBLE_TLS_PORT
    if [ "${PEBBLE_IPV6:-0}" = 1 ]; then
        http01+=",[::1]:$PEBBLE_HTTP_PORT" tlsalpn01+=",[::1]:$PEBBLE_TLS_PORT"
    fi
    "$cts" -management "127.0.0.1:$cts_mgmt" -http01 "$http01" \
        -https01 "" -tlsalpn01 "$tlsalpn01" \
        "${dnsflags[@]}" -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
        > "$PEBBLE_TMP/challtestsrv.log" 2>&1 &
    CHALLTESTSRV_PID=$!
    echo "$CHALLTESTSRV_PID" > "$PEBBLE_TMP/challtestsrv.pid"

    # The restart script doubles as the first start, so both use the same command line.
    export PEBBLE_VA_NOSLEEP=${PEBBLE_VA_NOSLEEP:-1}
    # Authorization reuse off unless a test asks for it: Debian's Pebble 2.4.0 deadlocks
    # under concurrent requests when it reuses one (newOrder's FindValidAuthorization holds
    # the store's read lock and waits for an authorization's lock, whose holder waits for
    # the store behind a queued writer; goroutine dump seen with 50 parallel orders).
    export PEBBLE_AUTHZREUSE=${PEBBLE_AUTHZREUSE:-0}
    cat > "$PEBBLE_TMP/restart.sh" <<SH
#!/usr/bin/env bash
cd "$PEBBLE_TMP"
export PEBBLE_VA_NOSLEEP=$PEBBLE_VA_NOSLEEP
${PEBBLE_WFE_NONCEREJECT:+export PEBBLE_WFE_NONCEREJECT=$PEBBLE_WFE_NONCEREJECT}
${PEBBLE_AUTHZREUSE:+export PEBBLE_AUTHZREUSE=$PEBBLE_AUTHZREUSE}
${PEBBLE_VA_ALWAYS_VALID:+export PEBBLE_VA_ALWAYS_VALID=$PEBBLE_VA_ALWAYS_VALID}
${PEBBLE_ALTERNATE_ROOTS:+export PEBBLE_ALTERNATE_ROOTS=$PEBBLE_ALTERNATE_ROOTS}
"$pebble" -config "$PEBBLE_TMP/pebble.json" -dnsserver "${PEBBLE_DNS_SERVER:-127.0.0.1:$PEBBLE_DNS_PORT}" \\
    >> "$PEBBLE_TMP/pebble.log" 2>&1 &
echo \$! > "$PEBBLE_TMP/pebble.pid"
for _ in \$(seq 1 100); do
    curl -s -o /dev/null --cacert "$PEBBLE_TMP/ca.pem" "https://127.0.0.1:$wfe/dir" && break
    sleep 0.1
done
cat "$PEBBLE_TMP/pebble.pid"
SH
    chmod +x "$PEBBLE_TMP/restart.sh"
    export PEBBLE_RESTART=$PEBBLE_TMP/restart.sh
    PEBBLE_PID=$("$PEBBLE_RESTART")
    export PEBBLE_PID CHALLTESTSRV_PID
    export PEBBLE_DIR_URL=https://127.0.0.1:$wfe/dir
    export PEBBLE_CA_PEM=$PEBBLE_TMP/ca.pem
    export PEBBLE_MGMT_URL=https://127.0.0.1:$mgmt
    export CHALLTESTSRV_URL=http://127.0.0.1:$cts_mgmt
    trap pebble_stop EXIT

    if ! _pebble_wait "$PEBBLE_DIR_URL" --cacert "$PEBBLE_CA_PEM" ||
       ! _pebble_wait "$CHALLTESTSRV_URL/" ; then
        # A port can still be taken by another process between free_ports and the server's
        # bind on a machine running many suites: start again on new ports (at most 3 times).
        local attempt=${_PEBBLE_ATTEMPT:-1}
        if [ "$attempt" -lt 3 ] &&
           grep -qs 'address already in use' "$PEBBLE_TMP/pebble.log" "$PEBBLE_TMP/challtestsrv.log"; then
            echo "pebble.sh: a port was taken before the server bound it; starting on new ports" >&2
            pebble_stop
            _PEBBLE_ATTEMPT=$((attempt + 1)) pebble_start
            return $?
        fi
        echo "pebble.sh: pebble or challtestsrv did not start; logs:" >&2
        tail -n 20 "$PEBBLE_TMP/pebble.log" "$PEBBLE_TMP/challtestsrv.log" >&2
        pebble_stop
        return 1
    fi
    echo "pebble.sh: pebble $PEBBLE_DIR_URL (pid $PEBBLE_PID), challtestsrv $CHALLTESTSRV_URL" \
         "(pid $CHALLTESTSRV_PID)${PEBBLE_EAB:+, EAB required}${PEBBLE_WFE_NONCEREJECT:+, nonce reject $PEBBLE_WFE_NONCEREJECT%}" >&2
}

# Stops both by PID (never by name). Safe under `set -e` and when called twice; Pebble is not
# this shell's child after a restart, so it is polled until gone, then SIGKILLed.
pebble_stop() {
    [ -n "${PEBBLE_TMP:-}" ] && [ -d "$PEBBLE_TMP" ] || return 0
    local f pid i
    for f in pebble.pid challtestsrv.pid; do
        pid=$(cat "$PEBBLE_TMP/$f" 2>/dev/null || true)
        [ -n "$pid" ] || continue
        kill -CONT "$pid" 2>/dev/null || true   # a test may have stopped it with SIGSTOP
        kill "$pid" 2>/dev/null || true
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    [ -n "${PEBBLE_KEEP_TMP:-}" ] || rm -rf "$PEBBLE_TMP"
    unset PEBBLE_TMP PEBBLE_DIR_URL PEBBLE_PID CHALLTESTSRV_PID
    return 0
}
