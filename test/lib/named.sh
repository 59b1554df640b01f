# test/lib/named.sh: a BIND 9 authoritative server on a free 127.0.0.1 port, configured in
# a temp dir (nothing in /etc is touched), for RFC 2136 tests. Stopped by PID only.
#
# Usage (bash):
#     source test/lib/named.sh
#     named_start             # or NAMED_EXTRA_ZONES="example.com" named_start
#     ... NAMED_ADDR, NAMED_SECRET_<alg> ...
#     named_stop
#
# Zones (each with "ns1" and a wildcard A record pointing at 127.0.0.1, so any name in them
# resolves for http-01):
#     example.test   dynamic updates of TXT records with any of the keys below
#     other.test     no updates (names a DNS provider does not manage)
#     r53.test       updates with key-sha256 (test/dns/r53_bridge.py mirrors moto's zone here)
#     hidden.test    updates with key-sha256, but queries only when signed with it: the
#                    propagation check (unsigned) never sees a record there
#     $NAMED_EXTRA_ZONES   more zones like example.test
# TSIG keys key-sha1, key-sha224, key-sha256, key-sha384, key-sha512 (hmac-<alg>).
#
# Exported once started:
#     NAMED_ADDR     127.0.0.1:<port>
#     NAMED_PORT, NAMED_PID, NAMED_DIR (config, zones, named.log)
#     NAMED_SECRET_sha1 ... NAMED_SECRET_sha512   base64 secrets of the keys
# named_txt NAME prints the TXT values at NAME (asked signed with key-sha256, so hidden.test
# answers too), one per line.

NAMED_ALGS="sha1 sha224 sha256 sha384 sha512"

_named_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

named_start() {
    command -v named >/dev/null || { echo "named.sh: named not found (apt-get install bind9)" >&2; return 1; }
    command -v tsig-keygen >/dev/null || { echo "named.sh: tsig-keygen not found (apt-get install bind9)" >&2; return 1; }
    command -v dig >/dev/null || { echo "named.sh: dig not found (apt-get install bind9-dnsutils)" >&2; return 1; }
    NAMED_DIR=$(mktemp -d /tmp/named.XXXXXX) || return 1
    NAMED_PORT=$(_named_free_port)
    export NAMED_DIR NAMED_PORT NAMED_ADDR=127.0.0.1:$NAMED_PORT
    local d=$NAMED_DIR alg grants=""
    : > "$d/keys.conf"
    for alg in $NAMED_ALGS; do
        tsig-keygen -a "hmac-$alg" "key-$alg" >> "$d/keys.conf" || return 1
        grants="$grants grant key-$alg zonesub TXT;"
    done
    for alg in $NAMED_ALGS; do
        local secret
        secret=$(awk -v k="key-$alg" '$1=="key" && $2=="\""k"\"" {f=1} f && $1=="secret" {gsub(/[";]/,"",$2); print $2; exit}' "$d/keys.conf")
        export "NAMED_SECRET_$alg=$secret"
    done
    local z
    for z in example.test other.test hidden.test r53.test ${NAMED_EXTRA_ZONES:-}; do
        cat > "$d/$z.db" <<ZONE
\$TTL 60
@    IN SOA ns1.$z. hostmaster.$z. 1 60 60 600 5
@    IN NS  ns1.$z.
ns1  IN A   127.0.0.1
@    IN A   127.0.0.1
*    IN A   127.0.0.1
ZONE
    done
    cat > "$d/named.conf" <<CONF
options {
    directory "$d";
    pid-file "$d/named.pid";
    session-keyfile "$d/session.key";
    managed-keys-directory "$d";
    listen-on port $NAMED_PORT { 127.0.0.1; };
    listen-on-v6 { none; };
    recursion no;
    dnssec-validation no;
    notify no;
    allow-transfer { none; };
};
controls { };
include "$d/keys.conf";
zone "example.test" { type primary; file "$d/example.test.db"; update-policy {$grants }; };
$(for z in ${NAMED_EXTRA_ZONES:-}; do echo "zone \"$z\" { type primary; file \"$d/$z.db\"; update-policy {$grants }; };"; done)
zone "r53.test" { type primary; file "$d/r53.test.db"; update-policy { grant key-sha256 zonesub TXT; }; };
zone "other.test" { type primary; file "$d/other.test.db"; };
zone "hidden.test" { type primary; file "$d/hidden.test.db";
    update-policy { grant key-sha256 zonesub TXT; }; allow-query { key key-sha256; }; };
CONF
    named -g -c "$d/named.conf" > "$d/named.log" 2>&1 &
    NAMED_PID=$!
    export NAMED_PID
    local i
    for i in $(seq 1 100); do
        if dig +short +time=1 +tries=1 -p "$NAMED_PORT" @127.0.0.1 example.test SOA 2>/dev/null | grep -q ns1; then
            echo "named.sh: BIND on $NAMED_ADDR (pid $NAMED_PID)" >&2
            return 0
        fi
        kill -0 "$NAMED_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "named.sh: named did not start; log:" >&2
    tail -n 20 "$d/named.log" >&2
    named_stop
    return 1
}

named_txt() {
    dig +short +time=2 +tries=1 -p "$NAMED_PORT" @127.0.0.1 -y "hmac-sha256:key-sha256:$NAMED_SECRET_sha256" "$1" TXT 2>/dev/null | tr -d '"'
}

named_stop() {
    [ -n "${NAMED_PID:-}" ] || return 0
    kill -CONT "$NAMED_PID" 2>/dev/null || true
    kill "$NAMED_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do kill -0 "$NAMED_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$NAMED_PID" 2>/dev/null || true
    wait "$NAMED_PID" 2>/dev/null || true
    [ -n "${NAMED_KEEP_TMP:-}" ] || rm -rf "$NAMED_DIR"
    unset NAMED_PID
    return 0
}
