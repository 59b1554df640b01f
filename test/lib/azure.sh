# test/lib/azure.sh: the local Azure stand-in (test/dns/azure_server.py: Entra ID login,
# IMDS, Resource Manager's DNS record sets) on a free 127.0.0.1 port, mirroring its zone
# az.test into BIND (start named with NAMED_EXTRA_ZONES="az.test" first). Stopped by PID.
#
#     source test/lib/azure.sh
#     azure_start          # exports AZ_URL, AZ_PID, AZ_ENV (the plugin's endpoint overrides)
#     azure_ctl lifetime '{"seconds":6}'; azure_stats
#     azure_stop
#
# The world it serves (ids are made up, fixed here so tests can name them):
AZ_TENANT=8f3c2a71-5d4e-4b6a-9c1d-2e7f0a9b3c54
AZ_TENANT_DOMAIN=contoso.onmicrosoft.com
AZ_SUB=1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9
AZ_RG=dns-rg
AZ_ZONE=az.test
AZ_WRITER=c1111111-1111-4111-8111-111111111111     # DNS Zone Contributor on the group
AZ_WRITER_SECRET='Wq8~s3cret.Value/with+chars=='
AZ_READER=c2222222-2222-4222-8222-222222222222     # no role assignment
AZ_READER_SECRET=reader-secret
AZ_UAMI=c3333333-3333-4333-8333-333333333333       # user-assigned identity, role on the zone

azure_start() {
    command -v nsupdate >/dev/null || { echo "azure.sh: nsupdate not found (apt-get install bind9-dnsutils)" >&2; return 1; }
    [ -n "${NAMED_ADDR:-}" ] || { echo "azure.sh: start BIND first (test/lib/named.sh)" >&2; return 1; }
    local port scope
    port=$(free_ports 1)
    AZ_DIR=$(mktemp -d /tmp/azure.XXXXXX) || return 1
    scope="/subscriptions/$AZ_SUB/resourceGroups/$AZ_RG"
    jq -n --arg port "$port" --arg named "$NAMED_ADDR" \
        --arg tsig "hmac-sha256:key-sha256:$NAMED_SECRET_sha256" --arg t "$AZ_TENANT" \
        --arg td "$AZ_TENANT_DOMAIN" --arg s "$AZ_SUB" --arg rg "$AZ_RG" --arg z "$AZ_ZONE" \
        --arg w "$AZ_WRITER" --arg ws "$AZ_WRITER_SECRET" --arg r "$AZ_READER" \
        --arg rs "$AZ_READER_SECRET" --arg u "$AZ_UAMI" --arg scope "$scope" '{
        port: $port, named: $named, tsig: $tsig, tenant: $t, tenant_domain: $td,
        subscription: $s, resource_group: $rg, zone: $z,
        apps: {($w): {secret: $ws, object_id: "0a000000-0000-4000-8000-00000000000a", scopes: [$scope]},
               ($r): {secret: $rs, object_id: "0b000000-0000-4000-8000-00000000000b", scopes: []}},
        system_identity: {object_id: "0c000000-0000-4000-8000-00000000000c", scopes: [$scope]},
        user_identities: {($u): {object_id: "0d000000-0000-4000-8000-00000000000d",
                                 scopes: ($scope + "/providers/Microsoft.Network/dnszones/" + $z | [.])}}}' \
        > "$AZ_DIR/world.json" || return 1
    python3 test/dns/azure_server.py "$AZ_DIR/world.json" > "$AZ_DIR/server.log" 2>&1 &
    AZ_PID=$!
    AZ_URL=http://127.0.0.1:$port
    # The plugin's endpoint overrides (README: Azure DNS).
    AZ_ENV="AZURE_AUTHORITY_HOST=$AZ_URL AZURE_RESOURCE_MANAGER_ENDPOINT=$AZ_URL AZURE_POD_IDENTITY_AUTHORITY_HOST=$AZ_URL"
    export AZ_URL AZ_PID AZ_DIR AZ_ENV
    local i
    for i in $(seq 1 100); do
        curl -sf -o /dev/null "$AZ_URL/_control/stats" && { echo "azure.sh: $AZ_URL (pid $AZ_PID)" >&2; return 0; }
        kill -0 "$AZ_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "azure.sh: azure_server.py did not start:" >&2; tail -5 "$AZ_DIR/server.log" >&2
    return 1
}

# azure_ctl WHAT JSON: a test control (lifetime, throttle, race).
azure_ctl() { curl -sf -o /dev/null -X POST "$AZ_URL/_control/$1" -d "$2"; }
# azure_stats FILTER: jq FILTER on the server's counters.
azure_stats() { curl -sf "$AZ_URL/_control/stats" | jq -c "$1"; }

azure_stop() {
    [ -n "${AZ_PID:-}" ] || return 0
    kill "$AZ_PID" 2>/dev/null
    wait "$AZ_PID" 2>/dev/null
    rm -rf "$AZ_DIR"
    unset AZ_PID
}
