#!/usr/bin/env bash
# Host tests: a KV test plugin run by a host (HOST=dev-vault: build/dev-vault, the Vault SDK's
# own host-side plugin code; HOST=openbao: the real OpenBao server, see test/lib/host.sh),
# driven with plain curl + jq, the way Vault's HTTP API is used. The same checks run on both;
# where the real server differs from dev-vault the check says why and asserts what it does.
#   KV_PLUGIN   plugin binary under test (default $BUILD/vault-plugin-kv-test, the C one;
#               $BUILD/vault-plugin-kv-test-go is the same plugin on the Go SDK)
# Prints "ok - name" / "not ok - name", ends with "N passed, N failed", exits 1 on any failure.
# Every process it starts is killed by PID on exit; nothing is skipped.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${BUILD:-build}
KV_PLUGIN=${KV_PLUGIN:-$BUILD/vault-plugin-kv-test}
DEVVAULT=${DEVVAULT:-$ROOT/build/dev-vault}
# Plugin RSS may grow by this much over 20,000 requests. ASan's quarantine holds freed
# memory by design, so a sanitizer build gets a wider margin.
RSS_SLACK_KB=${RSS_SLACK_KB:-$([[ $BUILD == *asan* ]] && echo 131072 || echo 4096)}

. "$ROOT/test/host/lib.sh"

# ---- prerequisites: fail (never skip) with the way to get them -----------------------
missing=()
command -v curl >/dev/null || missing+=("curl (apt-get install -y curl)")
command -v jq >/dev/null || missing+=("jq (apt-get install -y jq)")
command -v openssl >/dev/null || missing+=("openssl (apt-get install -y openssl)")
command -v go >/dev/null || missing+=("go (Go >= 1.25 toolchain from https://go.dev/dl, on PATH)")
HOST=${HOST:-dev-vault}
HOST_DEVVAULT=$DEVVAULT
if [ "$HOST" = openbao ]; then
    [ -x "${HOST_BAO:-${PKIEXT_VENV:-/opt/pkiext/venv}/bin/bao}" ] || missing+=("bao (run: bash scripts/deps.sh)")
else
    [ -x "$DEVVAULT" ] || missing+=("$DEVVAULT (run: make build/dev-vault)")
fi
[ -x "$KV_PLUGIN" ] || missing+=("$KV_PLUGIN (run: make $BUILD/vault-plugin-kv-test, or set KV_PLUGIN)")
if [ ${#missing[@]} -gt 0 ]; then
    for m in "${missing[@]}"; do nok "prerequisite: missing $m"; done
    finish
fi
echo "# plugin under test: $KV_PLUGIN, host: $HOST"
# The version each host reports: dev-vault's -version default, OpenBao its own.
HOST_VERSION=$([ "$HOST" = openbao ] && echo 2.7.2 || echo 2.0.0)

TMP=$(mktemp -d /tmp/host-test.XXXXXX)
trap cleanup EXIT
mkdir -p "$TMP/plugins"
cp "$KV_PLUGIN" "$TMP/plugins/kv-test"
SHA=$(sha256sum "$TMP/plugins/kv-test" | cut -d' ' -f1)
(cd "$ROOT/test/host" && go build -o "$TMP/load" ./cmd/load && go build -o "$TMP/mtlsprobe" ./cmd/mtlsprobe &&
    cd "$ROOT/test/bench/goplugin" && go build -o "$TMP/plugins/kv-go" .) ||
    { nok "build the Go test tools (test/host/cmd)"; finish; }

# dev-vault's own Go unit tests: a property of dev-vault, run in its pass only.
if [ "$HOST" = openbao ]; then :
elif (cd "$ROOT/test/host" && go test -count=1 . > "$TMP/gotest.log" 2>&1); then
    ok "dev-vault unit tests: HTTP mapping, identities, routing (go test)"
else
    nok "dev-vault unit tests: HTTP mapping, identities, routing (go test)"; sed 's/^/#   /' "$TMP/gotest.log"
fi

cat > "$TMP/entities.json" <<'EOF'
{"alice-token": {"entity_id": "ent-alice", "name": "alice", "metadata": {"team": "pki"}, "groups": ["admins"]}}
EOF

# ---- host up, health ---------------------------------------------------------------------
start_host -rollback-interval 1s -entities "$TMP/entities.json" || { nok "$HOST starts"; finish; }
ok "$HOST starts on a free loopback port ($ADDR)"
req GET sys/health
check "sys/health reports version $HOST_VERSION" jqt ".version == \"$HOST_VERSION\" and .sealed == false"
# Field for field, types included: dev-vault answers as Vault does (http/sys_health.go,
# http/sys_seal.go, vault/token_store.go handleLookup). OpenBao, Vault's fork, dropped some
# of Vault's fields; its pass asserts the fields both servers share and what it left out.
check "sys/health: the fields Vault and OpenBao share, JSON types" jqt '
    ([.initialized, .sealed, .standby] | all(type == "boolean")) and
    (.server_time_utc | type == "number") and
    ([.version, .replication_performance_mode, .replication_dr_mode, .cluster_name, .cluster_id]
        | all(type == "string"))'
if [ "$HOST" = openbao ]; then
    check "sys/health: OpenBao has none of Vault's enterprise/performance fields" jqt '
        [has("enterprise", "performance_standby", "echo_duration_ms")] | any | not'
else
    check "sys/health: Vault's own fields, JSON types" jqt '
        ([.performance_standby, .enterprise] | all(type == "boolean")) and
        ([.echo_duration_ms, .clock_skew_ms, .replication_primary_canary_age_ms]
            | all(type == "number"))'
fi
req GET sys/seal-status
check "sys/seal-status reports version $HOST_VERSION (Terraform gate)" jqt ".version == \"$HOST_VERSION\" and .initialized"
check "sys/seal-status: the fields Vault and OpenBao share, JSON types" jqt '
    ([.initialized, .sealed, .migration, .recovery_seal] | all(type == "boolean")) and
    ([.t, .n, .progress] | all(type == "number")) and
    ([.type, .nonce, .version, .cluster_name, .cluster_id, .storage_type] | all(type == "string"))'
if [ "$HOST" = openbao ]; then
    check "sys/seal-status: OpenBao reports commit_date where Vault has build_date" jqt \
        '(.commit_date | type == "string") and (has("build_date") | not)'
else
    check "sys/seal-status: Vault's build_date" jqt '.build_date | type == "string"'
fi
req GET auth/token/lookup-self
check "auth/token/lookup-self: the token store's fields and JSON types" status_is 200 '.data |
    ([.id, .accessor, .display_name, .entity_id, .path, .type] | all(type == "string")) and
    ([.creation_time, .creation_ttl, .ttl, .explicit_max_ttl, .num_uses] | all(type == "number")) and
    (.orphan | type == "boolean") and .expire_time == null and .policies == ["root"]'
if [ "$HOST" = openbao ]; then
    check "auth/token/lookup-self: OpenBao's envelope has no mount_type" jqt 'has("mount_type") | not'
else
    check "auth/token/lookup-self: Vault's envelope names the token mount" jqt '.mount_type == "token"'
fi
TOKEN=nope req GET sys/mounts
check "unknown token gets 403 permission denied" status_is 403 '.errors == ["permission denied"]'

# ---- catalog -------------------------------------------------------------------------------
req PUT sys/plugins/catalog/secret/kv-test "{\"sha256\":\"$(echo other | sha256sum | cut -d' ' -f1)\",\"command\":\"kv-test\"}"
if [ "$HOST" = openbao ]; then
    # OpenBao stores the entry (a binary that cannot run has no version to record) and checks
    # the sum when it runs the plugin: the mount is what fails. A stale unversioned entry
    # would also shadow the versioned one registered below, so it is deleted.
    check "register with a wrong sha256 is stored (OpenBao checks at run time)" status_is 204
    req POST sys/mounts/bad '{"type":"kv-test"}'
    check "enable with a wrong sha256 is refused" status_is 400 '.errors[0] | test("checksum")'
    req DELETE sys/plugins/catalog/secret/kv-test
else
    check "register with a wrong sha256 is refused" status_is 400 '.errors[0] | test("checksum")'
fi
req PUT sys/plugins/catalog/secret/kv-test "{\"sha256\":\"$SHA\",\"command\":\"../kv-test\"}"
if [ "$HOST" = openbao ]; then
    # OpenBao's catalog answers this with its internal-error status, message intact.
    check "register outside the plugin directory is refused (OpenBao: 500, parent references)" \
        status_is 500 '.errors[0] | test("parent references")'
else
    check "register outside the plugin directory is refused" status_is 400
fi
req PUT sys/plugins/catalog/secret/kv-test "{\"sha256\":\"$SHA\",\"command\":\"kv-test\"}"
check "register kv-test (sha256 + command)" status_is 204
# OpenBao asks a plugin registered without a version for its own (RunningVersion, v0.1.0
# here) and files the entry under it, so the read names that version.
req GET "sys/plugins/catalog/secret/kv-test$([ "$HOST" = openbao ] && echo '?version=v0.1.0')"
check "catalog read returns the sha256 and command" status_is 200 ".data.sha256 == \"$SHA\" and .data.command == \"kv-test\""
req LIST sys/plugins/catalog/secret
check "catalog list contains kv-test" status_is 200 '.data.keys | index("kv-test") != null'

# ---- mounts --------------------------------------------------------------------------------
req POST sys/mounts/kv '{"type":"kv-test","options":{"k":"v"}}'
check "enable kv-test at kv/" status_is 204
req POST sys/mounts/kv '{"type":"kv-test"}'
check "enabling the same path twice is refused" status_is 400
req POST sys/mounts/nope '{"type":"no-such-plugin"}'
check "enabling an unregistered type is refused" status_is 400
req GET sys/mounts
check "sys/mounts lists kv/ with its type and options" status_is 200 '.data["kv/"].type == "kv-test" and .data["kv/"].options.k == "v"'

# ---- sys/ replies field for field (the CLI and Terraform's vault_mount decode them) ---------
# Vault keeps mount TTLs as durations and answers integer seconds: sys/mounts and
# sys/mounts/<path> the mount's own value (0 = the system's), tune the effective one (768h
# when unset). An echoed "0s" breaks vault_mount ("expected type 'int', got unconvertible type
# 'string'"). Built-in mounts (sys/, cubbyhole/ ...) have options null.
MOUNT_TYPES='([.type, .description, .accessor, .uuid, .plugin_version, .running_plugin_version,
    .running_sha256] | all(type == "string")) and
    ([.local, .seal_wrap, .external_entropy_access] | all(type == "boolean")) and
    (.options | type == "object" or type == "null") and
    (.config | ([.default_lease_ttl, .max_lease_ttl] | all(type == "number")) and
               (.force_no_cache | type == "boolean"))'
req POST sys/mounts/ttl '{"type":"kv-test","description":"d","config":{"default_lease_ttl":"0s","max_lease_ttl":"1h"}}'
check "enable with config TTLs as Terraform sends them (\"0s\", \"1h\")" status_is 204
req GET sys/mounts/ttl
check "sys/mounts/<path>: Vault's fields and JSON types" status_is 200 ".data | $MOUNT_TYPES"
check "sys/mounts/<path>: TTLs in integer seconds (0s = 0, the system's; 1h = 3600)" jqt \
    '.data.config.default_lease_ttl == 0 and .data.config.max_lease_ttl == 3600 and .config.max_lease_ttl == 3600'
req GET sys/mounts
check "sys/mounts: every entry has Vault's fields and JSON types" status_is 200 \
    "([.data[] | $MOUNT_TYPES] | all) and .data[\"ttl/\"].config.max_lease_ttl == 3600"
req GET sys/mounts/ttl/tune
check "sys/mounts/<path>/tune: effective TTLs in seconds, Vault's JSON types" status_is 200 '.data |
    ([.default_lease_ttl, .max_lease_ttl] | all(type == "number")) and (.force_no_cache | type == "boolean")
    and .description == "d" and .default_lease_ttl == 2764800 and .max_lease_ttl == 3600'
req POST sys/mounts/ttl/tune '{"default_lease_ttl":"30m","max_lease_ttl":7200,"description":"tuned"}'
check "tune TTLs and description" status_is 204
req GET sys/mounts/ttl/tune
check "tune read shows the tuned values in seconds" status_is 200 \
    '.data.default_lease_ttl == 1800 and .data.max_lease_ttl == 7200 and .data.description == "tuned"'
req GET sys/mounts/ttl
check "mount read shows the tuned values in seconds" status_is 200 \
    '.data.config.default_lease_ttl == 1800 and .data.config.max_lease_ttl == 7200 and .data.description == "tuned"'
req POST sys/mounts/ttl/tune '{"default_lease_ttl":"3h"}'
check "tune: a default above the max is refused" status_is 400 \
    '.errors[0] | test("max lease TTL of 7200 would be less than backend default lease TTL of 10800")'
req POST sys/mounts/ttl/tune '{"default_lease_ttl":"system","max_lease_ttl":"system"}'
req GET sys/mounts/ttl/tune
check "tune to \"system\" goes back to the system TTLs" status_is 200 \
    '.data.default_lease_ttl == 2764800 and .data.max_lease_ttl == 2764800'
req POST sys/mounts/badttl '{"type":"kv-test","config":{"default_lease_ttl":"soon"}}'
check "enable with an unparsable TTL is refused" status_is 400 '.errors[0] | test("unable to parse default TTL of soon")'
req GET sys/mounts/badttl
check "nothing mounted after the refused enable" status_is 400
req DELETE sys/mounts/ttl
check "disable gives 204" status_is 204
req GET sys/mounts/ttl
check "a disabled mount reads as Vault's 400" status_is 400 '.errors[0] | test("No secret engine mount at ttl/")'
req GET sys/plugins/catalog
check "sys/plugins/catalog: names by type and detailed entries, Vault's JSON types" status_is 200 '
    (.data.secret | type == "array" and all(type == "string") and index("kv-test") != null) and
    (.data.detailed | all(([.type, .name, .version] | all(type == "string")) and
                          (.builtin | type == "boolean") and
                          ((.sha256 // "") | type == "string")))'
req GET "sys/plugins/catalog/secret/kv-test$([ "$HOST" = openbao ] && echo '?version=v0.1.0')"
check "sys/plugins/catalog/secret/<name>: Vault's fields and JSON types" status_is 200 '.data |
    ([.name, .command, .sha256, .version] | all(type == "string")) and (.args | type == "array") and
    (.builtin | type == "boolean")'

# ---- data paths ------------------------------------------------------------------------------
req PUT kv/data/a '{"s":"hello","n":1.50,"big":12345678901,"list":[1,"x"],"obj":{"k":true}}'
check "write data/a gives 204" status_is 204
req GET kv/data/a
check "read data/a returns the JSON body" status_is 200 '.data.s == "hello" and .data.n == 1.5 and .data.big == 12345678901 and .data.list == [1,"x"] and .data.obj.k == true'
if [ "$HOST" = openbao ]; then
    # OpenBao's envelope has no mount_type (Vault added it in 1.13, after the fork).
    check "read reply has OpenBao's envelope" jqt '(keys | sort) == (["auth","data","lease_duration","lease_id","renewable","request_id","warnings","wrap_info"]) and (.request_id | length) == 36'
else
    check "read reply has Vault's envelope" jqt '(keys | sort) == (["auth","data","lease_duration","lease_id","mount_type","renewable","request_id","warnings","wrap_info"]) and .mount_type == "kv-test" and (.request_id | length) == 36'
fi
req PUT kv/data/dir/b '{"v":2}'
req LIST kv/data
check "LIST data/ returns keys" status_is 200 '.data.keys | (index("a") != null and index("dir/") != null)'
req GET 'kv/data?list=true'
check "GET ?list=true is a list" status_is 200 '.data.keys | index("a") != null'
req GET 'kv/data?list=maybe'
check "GET ?list=<not a bool> gives 400" status_is 400
req GET kv/data/missing
check "read of a missing key gives 404 {errors:[]}" status_is 404 '.errors == []'
req DELETE kv/data/a
check "delete gives 204" status_is 204
req GET kv/data/a
check "deleted key reads 404" status_is 404
req POST sys/mounts/empty '{"type":"kv-test"}'
req LIST empty/data
check "list with no keys gives 404" status_is 404 '.errors == []'
req PUT kv/data/ '{"v":1}'
check "write to a path ending in / gives 400" status_is 400 '.errors == ["cannot write to a path ending in '"'"'/'"'"'"]'
req GET kv/no/such/path
check "unknown path gives 404" status_is 404

# ---- typed fields, create vs update ----------------------------------------------------------
req DELETE kv/config
req PUT kv/config '{"count":5}'
check "error response from the plugin gives 400 {errors:[msg]}" status_is 400 '.errors == ["missing name"]'
req PUT kv/config '{"name":"first","count":"7","enabled":"true","ttl":"90s","tags":"a,b"}'
check "create config with string-typed values" status_is_2xx
req GET kv/config
check "first write ran as create (existence check said: absent)" status_is 200 '.data.created_via == "create"'
check "typed fields parsed (int, bool, duration, comma list)" status_is 200 '.data.name == "first" and .data.count == 7 and .data.enabled == true and .data.ttl == 90 and .data.tags == ["a","b"]'
req PUT kv/config '{"name":"second","tags":["c"]}'
check "second write succeeds without count" status_is_2xx
req GET kv/config
check "second write ran as update (existence check said: present)" status_is 200 '.data.created_via == "update" and .data.created == true'
check "update keeps fields not sent, JSON array for a list" status_is 200 '.data.name == "second" and .data.count == 7 and .data.tags == ["c"]'
req DELETE kv/config
req PUT kv/config '{"name":"defaults"}'
req GET kv/config
check "create applies defaults (count 3, ttl 1h)" status_is 200 '.data.count == 3 and .data.ttl == 3600 and .data.enabled == false'
req_form PUT kv/config 'name=form&tags=x&tags=y&count=9'
req GET kv/config
check "form body: fields parsed, repeated field joined with commas" status_is 200 '.data.name == "form" and .data.count == 9 and .data.tags == ["x","y"]'
req PUT kv/config '{"count":"abc"}'
check "wrong type (count=abc) gives 400" status_is 400
req PUT kv/config '{"enabled":"maybe"}'
check "wrong type (enabled=maybe) gives 400" status_is 400
req PUT kv/config '{"ttl":"soon"}'
check "wrong type (ttl=soon) gives 400" status_is 400
req PUT kv/config '{not json'
check "malformed JSON gives 400" status_is 400
req DELETE kv/stats
check "unsupported operation on a path gives 405" status_is 405
req BREW kv/config
check "unknown HTTP method gives 405" status_is 405
req PATCH kv/config '{"name":"p"}'
check "PATCH without merge-patch content type gives 415" status_is 415
CTYPE=application/merge-patch+json req PATCH kv/config '{"name":"p"}'
check "PATCH (merge-patch) reaches the plugin: no patch handler gives 405" status_is 405
TOKEN=alice-token req GET kv/config
check "entity token from -entities is accepted" status_is 200
# Identity end to end: the Go twin reads EntityInfo/GroupsForEntity back over the broker.
req PUT sys/plugins/catalog/secret/kv-go "{\"sha256\":\"$(sha256sum "$TMP/plugins/kv-go" | cut -d' ' -f1)\",\"command\":\"kv-go\"}"
req POST sys/mounts/gokv '{"type":"kv-go"}'
# dev-vault takes the entity ID from the file; OpenBao generates one (host_entities).
ALICE_ID=ent-alice
if [ "$HOST" = openbao ]; then req GET identity/entity/name/alice; ALICE_ID=$(jq -r .data.id "$TMP/body"); fi
TOKEN=alice-token req GET gokv/identity
check "request carries entity_id; SystemView EntityInfo/GroupsForEntity answer the token's entity" status_is 200 \
    ".data == {\"entity_id\":\"$ALICE_ID\",\"name\":\"alice\",\"metadata\":{\"team\":\"pki\"},\"groups\":[\"admins\"]}"
req GET gokv/identity
check "root token has no entity" status_is 200 '.data.entity_id == "" and .data.groups == []'
req DELETE sys/mounts/gokv

# ---- help --------------------------------------------------------------------------------------
req GET 'kv/config?help=1'
check "path-help (?help=1) returns help text, no envelope" status_is 200 '(.help | type == "string" and length > 0 and test("config")) and (has("request_id") | not)'
req GET 'kv?help=1'
check "path-help on the mount root" status_is 200 '.help | type == "string" and length > 0'

# ---- crash, relaunch -------------------------------------------------------------------------------
req PUT kv/data/keep '{"v":"survives"}'
old=$(plugin_pids | head -1)
seen=$(grep -c 'signal: killed' "$TMP/host.err")
kill -9 "$old" 2>/dev/null
# Vault's guarantee starts once go-plugin has seen the exit (pipes closed, process reaped):
# a request racing that moment may get a raw gRPC Unavailable (500), in Vault too.
noticed=0
for _ in $(seq 100); do
    [ "$(grep -c 'signal: killed' "$TMP/host.err")" -gt "$seen" ] && { noticed=1; break; }
    sleep 0.05
done
check "host notices the SIGKILLed plugin (pipes closed, reaped)" test "$noticed" = 1
sleep 0.2   # go-plugin logs the exit just before it cancels the client's context
req GET kv/data/keep
check "plugin SIGKILLed: next request relaunches it, data intact" status_is 200 '.data.v == "survives"'
check "a new plugin process runs" bash -c 'p=$(pgrep -P "$1"); [ -n "$p" ] && ! grep -qx "$2" <<<"$p"' _ "$HPID" "$old"

# ---- rollback ---------------------------------------------------------------------------------------
req GET kv/stats; r1=$(jq -r '.data.rollbacks' "$TMP/body"); T_R1=$SECONDS
if [ "$HOST" = openbao ]; then
    # OpenBao's rollback manager ticks once a minute (not configurable): checked below,
    # once the rest of this phase has used up most of that minute.
    :
else
    sleep 2.5
    req GET kv/stats; r2=$(jq -r '.data.rollbacks' "$TMP/body")
    check "periodic rollback reaches the plugin (stats.rollbacks $r1 -> $r2)" test "${r2:-0}" -gt "${r1:-0}"
fi

# ---- load ---------------------------------------------------------------------------------------------
"$TMP/load" -addr "http://$ADDR" -mount kv -clients 16 -n 1000 -op mixed > "$TMP/load.json" 2>&1
check "16 concurrent clients x 1,000 requests, no error ($(jq -c '{errors,first_error,rps}' "$TMP/load.json" 2>/dev/null))" \
    jqf "$TMP/load.json" '.requests == 16000 and .errors == 0'
pid=$(plugin_pids | head -1)
"$TMP/load" -addr "http://$ADDR" -mount kv -clients 4 -n 500 -op mixed > /dev/null  # warm-up
rss0=$(rss_kb "$pid")
"$TMP/load" -addr "http://$ADDR" -mount kv -clients 4 -n 5000 -op mixed > "$TMP/load2.json"
rss1=$(rss_kb "$pid")
check "plugin RSS flat over 20,000 requests (${rss0} kB -> ${rss1} kB, slack ${RSS_SLACK_KB} kB)" \
    test -n "$rss1" -a "$(( ${rss1:-999999999} - ${rss0:-0} ))" -le "$RSS_SLACK_KB"

# ---- the plugin's socket only talks to the host ---------------------------------------------------
sock=$(plugin_socket "$pid")
check "plugin listens on a unix socket ($sock)" test -S "$sock"
tls_refused "$sock"
check "openssl without a certificate is refused by the live plugin socket ($TLS_NOTE)" test "$TLS_OK" = 1
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -keyout "$TMP/k.pem" -out "$TMP/c.pem" -days 1 2>/dev/null
tls_refused "$sock" -cert "$TMP/c.pem" -key "$TMP/k.pem"
check "openssl with a foreign certificate is refused by the live plugin socket ($TLS_NOTE)" test "$TLS_OK" = 1
# Control: the same openssl probe with the certificate the plugin was told to trust must get
# through, or the two checks above prove nothing.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -addext extendedKeyUsage=clientAuth,serverAuth -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=digitalSignature,keyCertSign -keyout "$TMP/hk.pem" -out "$TMP/hc.pem" -days 1 2>/dev/null
VAULT_BACKEND_PLUGIN=6669da05-b1c8-4f49-97d9-c8e5bed98e20 PLUGIN_PROTOCOL_VERSIONS=5 \
    PLUGIN_CLIENT_CERT="$(cat "$TMP/hc.pem")" VAULT_PLUGIN_AUTOMTLS_ENABLED=true VAULT_VERSION=2.0.0 \
    "$KV_PLUGIN" > "$TMP/hs.txt" 2>/dev/null &
CTRL=$!; SEEN_PIDS="$SEEN_PIDS $CTRL"
for _ in $(seq 100); do [ -s "$TMP/hs.txt" ] && break; sleep 0.05; done
tls_refused "$(cut -d'|' -f4 "$TMP/hs.txt")" -cert "$TMP/hc.pem" -key "$TMP/hk.pem"
kill "$CTRL" 2>/dev/null; wait "$CTRL" 2>/dev/null
check "control: openssl with the trusted certificate gets an HTTP/2 answer ($TLS_NOTE)" test "$TLS_OK" = 0 -a -s "$TMP/tls.out"
"$TMP/mtlsprobe" "$KV_PLUGIN" > "$TMP/probe.json" 2>&1
check "gRPC health: host's certificate SERVING, none and foreign refused ($(jq -c 'map_values(.[0:40])' "$TMP/probe.json" 2>/dev/null || cat "$TMP/probe.json"))" \
    jqf "$TMP/probe.json" '.host_cert == "SERVING" and (.no_cert | startswith("refused")) and (.foreign_cert | startswith("refused"))'

if [ "$HOST" = openbao ]; then
    r2=$r1
    # Bounded from the r1 read: a rollback just before it is already counted, and the next
    # comes a minute later however long this phase took on a loaded machine. Observed on a
    # loaded machine (load 15 on 2 cores): the first tick after the SIGKILL relaunch above
    # did not always reach the new process within 75 s, so two ticks are allowed.
    while [ $((SECONDS - T_R1)) -lt 130 ]; do
        req GET kv/stats; r2=$(jq -r '.data.rollbacks' "$TMP/body")
        [ "${r2:-0}" -gt "${r1:-0}" ] && break
        sleep 1
    done
    check "periodic rollback reaches the plugin, OpenBao: once a minute (stats.rollbacks $r1 -> $r2)" test "${r2:-0}" -gt "${r1:-0}"
fi

# ---- unmount --------------------------------------------------------------------------------------
req DELETE sys/mounts/empty
check "disable empty/ gives 204" status_is 204
req GET empty/data/x
check "disabled mount no longer routes" status_is 404
req DELETE sys/mounts/kv
for _ in $(seq 50); do [ -z "$(plugin_pids)" ] && break; sleep 0.1; done
check "disabling every mount stops every plugin process" test -z "$(plugin_pids)"
stop_host
check "host exits 0 on SIGTERM" test "$HOST_RC" -eq 0

# ---- persistence, restart, shutdown ---------------------------------------------------------------
start_host -data "$TMP/data" || { nok "dev-vault starts with -data"; finish; }
req PUT sys/plugins/catalog/secret/kv-test "{\"sha256\":\"$SHA\",\"command\":\"kv-test\"}"
req POST sys/mounts/kv '{"type":"kv-test"}'
req PUT kv/data/persist '{"v":"on disk"}'
stop_host
start_host -data "$TMP/data" || { nok "dev-vault restarts with -data"; finish; }
req GET kv/data/persist
check "-data: host restart remounts and keeps data" status_is 200 '.data.v == "on disk"'
pids=$(plugin_pids); sock=$(plugin_socket "$(echo "$pids" | head -1)")
check "restarted host runs the plugin" test -n "$pids" -a -S "$sock"
stop_host
gone=1; for p in $pids; do kill -0 "$p" 2>/dev/null && gone=0; done
check "shutdown leaves no plugin process" test "$gone" -eq 1
check "shutdown leaves no plugin socket" test ! -e "$sock"
check "host exits 0 on SIGTERM with a plugin running" test "$HOST_RC" -eq 0
# A sanitizer report (ASan/LSan/UBSan under make asan) or a crash ends the plugin with a
# non-zero status, which go-plugin logs; only the SIGKILL this suite sent is expected.
bad=$(grep 'plugin process exited' "$TMP/host.err" | grep 'error=' | grep -v 'signal: killed')
check "no plugin process exited with an error status" test -z "$bad"
[ -z "$bad" ] || sed 's/^/#   /' <<<"$bad"
n=$(grep -c 'plugin failed to exit gracefully' "$TMP/host.err")
check "every plugin exited on GRPCController.Shutdown within 2 s (not killed: $n)" test "$n" -eq 0

finish
