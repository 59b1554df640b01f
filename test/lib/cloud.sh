# test/lib/cloud.sh: the local Google Cloud + Cloudflare stand-in (test/dns/cloud_server.py)
# on a free 127.0.0.1 port, mirroring its zones gc.test and cf.test into BIND (start named
# with NAMED_EXTRA_ZONES="gc.test cf.test" first). Stopped by PID.
#
#     cloud_start      # exports CL_URL, CL_PID, CL_DIR, CL_ENV, GC_SA_JSON (key files)
#     cloud_ctl throttle '{"count":2}'; cloud_stats .token
#     cloud_stop
GC_PROJECT=vault-dns-test
GC_WRITER=dns-writer@vault-dns-test.iam.gserviceaccount.com     # roles/dns.admin
GC_READER=no-roles@vault-dns-test.iam.gserviceaccount.com       # no role
GC_TARGET=dns-target@vault-dns-test.iam.gserviceaccount.com     # dns.admin; writer may impersonate
GC_VM=vm-default@vault-dns-test.iam.gserviceaccount.com         # the "metadata server" account
CF_ZONE_ID=0123456789abcdef0123456789abcdef
CF_TOKEN=cf-edit-token-0123456789
CF_READ_TOKEN=cf-read-token-0123456789

# cloud_key EMAIL NAME: writes $CL_DIR/NAME.json (a service-account key file) and NAME.pub.
cloud_key() {
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$CL_DIR/$2.key" 2>/dev/null || return 1
    openssl pkey -in "$CL_DIR/$2.key" -pubout -out "$CL_DIR/$2.pub" 2>/dev/null || return 1
    jq -n --arg e "$1" --rawfile k "$CL_DIR/$2.key" --arg p "$GC_PROJECT" --arg uri "$CL_URL/token" '{
        type: "service_account", project_id: $p, private_key_id: "0123abcd", private_key: $k,
        client_email: $e, client_id: "1234567890", token_uri: $uri,
        auth_uri: "https://accounts.google.com/o/oauth2/auth"}' > "$CL_DIR/$2.json"
}

cloud_start() {
    command -v nsupdate >/dev/null || { echo "cloud.sh: nsupdate not found (apt-get install bind9-dnsutils)" >&2; return 1; }
    [ -n "${NAMED_ADDR:-}" ] || { echo "cloud.sh: start BIND first (test/lib/named.sh)" >&2; return 1; }
    local port i
    port=$(free_ports 1)
    CL_DIR=$(mktemp -d /tmp/cloud.XXXXXX) || return 1
    CL_URL=http://127.0.0.1:$port
    cloud_key "$GC_WRITER" writer && cloud_key "$GC_READER" reader && cloud_key "$GC_TARGET" target || return 1
    jq -n --arg port "$port" --arg named "$NAMED_ADDR" --arg tsig "hmac-sha256:key-sha256:$NAMED_SECRET_sha256" \
        --arg p "$GC_PROJECT" --arg w "$GC_WRITER" --arg r "$GC_READER" --arg t "$GC_TARGET" --arg vm "$GC_VM" \
        --rawfile wp "$CL_DIR/writer.pub" --rawfile rp "$CL_DIR/reader.pub" --rawfile tp "$CL_DIR/target.pub" \
        --arg cz "$CF_ZONE_ID" --arg ct "$CF_TOKEN" --arg crt "$CF_READ_TOKEN" '{
        port: $port, named: $named, tsig: $tsig, project: $p, vm_account: $vm,
        gzone: {name: "gc-test", dns: "gc.test"},
        accounts: {($w): {public_pem: $wp, roles: ["dns.admin"]}, ($r): {public_pem: $rp, roles: []},
                   ($t): {public_pem: $tp, roles: ["dns.admin", ("tokenCreator:" + $w)]},
                   ($vm): {public_pem: "", roles: ["dns.admin"]}},
        cf_zone: {id: $cz, name: "cf.test"}, cf_tokens: {($ct): "edit", ($crt): "read"}}' > "$CL_DIR/world.json" || return 1
    "$MOTO_VENV/bin/python" test/dns/cloud_server.py "$CL_DIR/world.json" > "$CL_DIR/server.log" 2>&1 &
    CL_PID=$!
    # The plugin's endpoint overrides (README: Google Cloud DNS, Cloudflare).
    CL_ENV="GCE_METADATA_HOST=127.0.0.1:$port GOOGLE_CLOUD_DNS_ENDPOINT=$CL_URL GOOGLE_IAM_CREDENTIALS_ENDPOINT=$CL_URL CLOUDFLARE_BASE_URL=$CL_URL/client/v4"
    export CL_URL CL_PID CL_DIR CL_ENV
    for i in $(seq 1 100); do
        curl -sf -o /dev/null "$CL_URL/_control/stats" && return 0
        kill -0 "$CL_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "cloud.sh: cloud_server.py did not start:" >&2; tail -5 "$CL_DIR/server.log" >&2
    return 1
}
cloud_ctl() { curl -sf -o /dev/null -X POST "$CL_URL/_control/$1" -d "$2"; }
cloud_stats() { curl -sf "$CL_URL/_control/stats" | jq -c "$1"; }
cloud_stop() {
    [ -n "${CL_PID:-}" ] || return 0
    kill "$CL_PID" 2>/dev/null
    wait "$CL_PID" 2>/dev/null
    rm -rf "$CL_DIR"
    unset CL_PID
}
