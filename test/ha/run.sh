#!/usr/bin/env bash
# test/ha/run.sh: the plugin on a 3-node OpenBao raft cluster on loopback (distinct API and
# cluster ports, each node with its own plugin_directory holding the binary from the release
# archive), losing its active node mid-order:
#   (a) SIGKILL of the active node right after new-order, (b) right after fulfilled-challenge:
#       the order goes on on the new active node with no further client call;
#   (c) 20 orders in flight in mixed states: all complete, keys match certificates;
#   every request sent to a standby works: reads served there, writes forwarded to the
#   active node and done exactly once; the killed node rejoins as a standby.
# CA orders are counted at Pebble: one per Vault order wherever the CA order URL was stored
# before the kill. Failover figures are printed: kill -> first successful plugin read on the
# new active node, kill -> order completed (min/median/max over the runs).
# Prints "ok - " / "not ok - " lines and "N passed, N failed"; processes stopped by PID.
set -u
cd "$(dirname "$0")"
source ../e2e/lib.sh
HOST=openbao
M=pki-external-ca
ROLE=web
NODES=3
PLUGIN_ZIP=$(ls "$BUILD"/dist/vault-plugin-secrets-pki-external-ca_*_linux_*.zip 2>/dev/null | head -1)

ha_finish() {
    local i
    for i in $(seq 1 $NODES); do node_use "$i"; host_stop; done
    check_logs
    echo "# $(basename "$0"): $E2E_PASS passed, $E2E_FAIL failed"
    echo "$E2E_PASS passed, $E2E_FAIL failed"
    [ "$E2E_FAIL" -eq 0 ]
}

# ---- the cluster ----------------------------------------------------------------------------
# node_use N: points test/lib/host.sh (and the `vault` requests) at node N.
node_use() {
    HOST_DIR=$E2E_TMP/node$1 HOST_PLUGIN_DIR=$E2E_TMP/plugins$1 HOST_LOG=$E2E_TMP/node$1/server.log
    HOST_PORT=${NODE_PORT[$1]} HOST_CLUSTER_PORT=${NODE_CPORT[$1]}
    HOST_ADDR=http://127.0.0.1:$HOST_PORT HOST_TOKEN=root
    VAULT_ADDR=$HOST_ADDR VAULT_TOKEN=root
}
NODE_PORT=() NODE_CPORT=()

node_start() {   # N: first node initializes the cluster, the others join it
    local n=$1
    NODE_PORT[$n]=${NODE_PORT[$n]:-$(host_free_port)} NODE_CPORT[$n]=${NODE_CPORT[$n]:-$(host_free_port)}
    mkdir -p "$E2E_TMP/plugins$n"
    unzip -qo "$PLUGIN_ZIP" vault-plugin-secrets-pki-external-ca -d "$E2E_TMP/plugins$n" || return 1
    node_use "$n"
    if [ "$n" = 1 ]; then
        HOST_NODE_ID=node1 HOST_RAFT_JOIN="" host_start "$HOST_DIR" "$HOST_PLUGIN_DIR"
    else
        mkdir -p "$HOST_DIR" && cp "$E2E_TMP/node1/init.json" "$HOST_DIR/"
        HOST_NODE_ID=node$n HOST_RAFT_JOIN=http://127.0.0.1:${NODE_PORT[1]} HOST_STANDBY_OK=1 \
            host_start "$HOST_DIR" "$HOST_PLUGIN_DIR"
    fi
}

# health N: 200 active, 429 standby, 000 down.
health() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${NODE_PORT[$1]}/v1/sys/health" || true; }
active_node() {
    local i
    for i in $(seq 1 $NODES); do [ "$(health "$i")" = 200 ] && { echo "$i"; return 0; }; done
    return 1
}
standby_node() {   # a live standby other than $1
    local i
    for i in $(seq 1 $NODES); do
        [ "$i" = "${1:-}" ] && continue
        [ "$(health "$i")" = 429 ] && { echo "$i"; return 0; }
    done
    return 1
}
now_ms() { date +%s%3N; }

# ---- orders (sent to whichever node is in use) -------------------------------------------
order_status() {
    vault GET "$M/role/$ROLE/order/$1/status"
    if [ "$STATUS" = 200 ]; then printf '%s' "$BODY" | jq -r .data.order_status; else echo "http-$STATUS"; fi
}
wait_status() {   # ID WANT SECONDS
    local t0; t0=$(now_ms)
    while :; do
        LAST_STATUS=$(order_status "$1")
        [ "$LAST_STATUS" = "$2" ] && return 0
        case "$LAST_STATUS" in error|expired|revoked) return 1 ;; esac
        [ $(( $(now_ms) - t0 )) -ge $(( $3 * 1000 )) ] && return 1
        sleep 0.1
    done
}
new_order() {   # IDENT: sets ORDER
    vault PUT "$M/role/$ROLE/new-order" "{\"identifiers\":[\"$1\"]}"
    ORDER=$(printf '%s' "$BODY" | jq -r '.data.order_id // empty' 2>/dev/null)
}
publish_and_fulfil() {   # ID IDENT: fetch the http-01 challenge, publish it, tell the plugin
    vault GET "$M/role/$ROLE/order/$1/challenge?challenge_type=http-01&identifier=$2"
    local tok auth
    tok=$(printf '%s' "$BODY" | jq -r '.data.challenge_token // empty')
    auth=$(printf '%s' "$BODY" | jq -r '.data.challenge_auth // empty')
    curl -sS -o /dev/null -X POST "$CHALLTESTSRV_URL/add-http01" -d "{\"token\":\"$tok\",\"content\":\"$auth\"}"
    vault PUT "$M/role/$ROLE/order/$1/fulfilled-challenge" "{\"identifier\":\"$2\",\"challenge_type\":\"http-01\"}"
}
# Orders Pebble created (one log line each; a newOrder re-sent after badNonce counts once).
ca_orders() { grep -c 'Added order "' "$PEBBLE_TMP/pebble.log" 2>/dev/null || true; }
key_matches_cert() {   # ID: fetch-cert's private key is the certificate's
    vault GET "$M/role/$ROLE/order/$1/fetch-cert"
    local a b
    a=$(printf '%s' "$BODY" | jq -r .data.certificate | openssl x509 -noout -pubkey 2>/dev/null | sha256sum)
    b=$(printf '%s' "$BODY" | jq -r .data.private_key | openssl pkey -pubout 2>/dev/null | sha256sum)
    [ -n "$a" ] && [ "$a" = "$b" ] && [ "$a" != "$(printf '' | sha256sum)" ]
}

# cluster_healthy: autopilot sees every node as a healthy voter (30 s at most); a kill is
# only meaningful once the cluster can lose a node and keep its quorum.
cluster_healthy() {
    local keep_addr=$VAULT_ADDR a _
    a=$(active_node) || a=1
    for _ in $(seq 1 150); do
        a=$(active_node) || { sleep 0.2; continue; }
        VAULT_ADDR=http://127.0.0.1:${NODE_PORT[$a]}
        vault GET sys/storage/raft/autopilot/state
        printf '%s' "$BODY" | jq -e --argjson n "$NODES" \
            '.data.healthy == true and ([.data.servers[] | select(.status == "voter" or .status == "leader")] | length) == $n' \
            >/dev/null 2>&1 && { VAULT_ADDR=$keep_addr; return 0; }
        sleep 0.2
    done
    VAULT_ADDR=$keep_addr
    return 1
}

# kill_active: SIGKILL the active node; points requests at a survivor once a new active node
# answers a plugin read. Sets KILLED, KILL_MS, READ_MS (kill -> first successful read).
FAILOVER_READ=() FAILOVER_DONE=()
kill_active() {
    KILLED=$(active_node) || { not_ok "no active node to kill"; return 1; }
    node_use "$KILLED"
    KILL_MS=$(now_ms)
    host_kill
    local act=""
    STATUS=000
    for _ in $(seq 1 600); do
        act=$(active_node) && [ "$act" != "$KILLED" ] && {
            node_use "$act"; vault GET "$M/role/$ROLE"; [ "$STATUS" = 200 ] && break; }
        sleep 0.05
    done
    READ_MS=$(( $(now_ms) - KILL_MS ))
    FAILOVER_READ+=("$READ_MS")
    if [ "$STATUS" = 200 ] && [ -n "$act" ] && [ "$act" != "$KILLED" ]; then
        ok "killed active node $KILLED: node $act active, plugin read served after $READ_MS ms"
    else
        not_ok "failover after killing node $KILLED: read HTTP $STATUS, active node '${act}'"
        return 1
    fi
}
rejoin() {   # the killed node comes back on its own storage as a standby
    node_use "$KILLED"
    if HOST_STANDBY_OK=1 host_restart && [ "$(health "$KILLED")" = 429 ] && cluster_healthy; then
        ok "killed node $KILLED restarted and rejoined as a standby, cluster healthy"
    else
        not_ok "killed node $KILLED rejoins (health $(health "$KILLED")): $(tail -3 "$HOST_LOG")"
    fi
}

# check_logs: no plugin crashed on any node (SIGKILL of a node takes its plugin with it).
check_logs() {
    local bad="" i
    for i in $(seq 1 $NODES); do
        bad+=$(grep 'plugin process exited' "$E2E_TMP/node$i/server.log" 2>/dev/null | grep 'error=' | grep -v 'signal: killed')
        grep -hE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$E2E_TMP/node$i/server.log" 2>/dev/null && bad+=x
    done
    [ -z "$bad" ] && ok "no plugin process crashed on any node" || not_ok "a plugin crashed: $(printf '%.400s' "$bad")"
}

stats() {   # NAME VALUES...: min/median/max
    local name=$1; shift
    [ $# -gt 0 ] || return 0
    local sorted; sorted=($(printf '%s\n' "$@" | sort -n))
    echo "# failover: $name over $# runs: min ${sorted[0]} ms, median ${sorted[$(( $# / 2 ))]} ms, max ${sorted[$(( $# - 1 ))]} ms"
}

# ---- prerequisites, start -----------------------------------------------------------------
for t in curl jq openssl unzip; do e2e_require "$t" "apt-get install $t" || { ha_finish; exit 1; }; done
[ -x "$HOST_BAO" ] || { not_ok "prerequisite: $HOST_BAO (run: bash scripts/deps.sh)"; ha_finish; exit 1; }
[ -n "$PLUGIN_ZIP" ] || { not_ok "prerequisite: release archive in $BUILD/dist (run: make dist)"; ha_finish; exit 1; }
e2e_pebble_start || { ha_finish; exit 1; }
trap 'for i in $(seq 1 $NODES); do node_use $i; host_stop; done; e2e_cleanup' EXIT

for n in $(seq 1 $NODES); do
    node_start "$n" || { not_ok "node $n starts: $(tail -5 "$E2E_TMP/node$n/server.log" 2>/dev/null)"; ha_finish; exit 1; }
    if [ "$n" = 1 ]; then
        # Autopilot promotes a joined node to voter once it has been healthy this long
        # (default 10 s): loopback nodes are stable at once.
        vault POST sys/storage/raft/autopilot/configuration '{"server_stabilization_time":"1s"}'
        expect_2xx "autopilot server_stabilization_time 1s"
    fi
done
cluster_healthy && ok "3-node raft cluster formed: every node a healthy voter" ||
    { not_ok "3-node cluster healthy: $(printf '%.300s' "$BODY")"; ha_finish; exit 1; }
SHA=$(unzip -p "$PLUGIN_ZIP" SHA256SUMS | awk '$2 == "vault-plugin-secrets-pki-external-ca" { print $1 }')
[ "$SHA" = "$(sha256sum "$E2E_TMP/plugins1/vault-plugin-secrets-pki-external-ca" | cut -d' ' -f1)" ] &&
    ok "plugin installed from $(basename "$PLUGIN_ZIP"), sum as in its SHA256SUMS" || not_ok "archive sum mismatch"
host_bao plugin register -sha256="$SHA" -version="v$(cat ../../VERSION)" \
    -command=vault-plugin-secrets-pki-external-ca secret pki-external-ca >/dev/null &&
    host_bao secrets enable -path=$M pki-external-ca >/dev/null &&
    ok "registered (bao plugin register -sha256 -version) and mounted on the cluster" ||
    { not_ok "register and mount"; ha_finish; exit 1; }

# A standby serves the mount once its copy of the mount table has caught up.
served=0
for _ in $(seq 1 100); do
    served=0
    for n in $(seq 1 $NODES); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Vault-Token: root' \
            "http://127.0.0.1:${NODE_PORT[$n]}/v1/$M/?help=1")" = 200 ] && served=$((served + 1))
    done
    [ "$served" = "$NODES" ] && break
    sleep 0.1
done
[ "$served" = "$NODES" ] && ok "every node serves the mount (path-help)" || not_ok "$served of $NODES nodes serve the mount"

# Account and role through a standby: writes forwarded to the active node.
sb=$(standby_node) && node_use "$sb"
vault POST "$M/config/acme-account/ha" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" \
    '{directory_url: $d, email_contacts: ["ha@example.com"], key_type: "ec-256", trusted_ca: $ca}')"
expect_status 200 "standby $sb: account create forwarded to the active node"
vault POST "$M/role/$ROLE" '{"acme_account_name":"ha","allowed_domains":["example.com"],"allowed_domain_options":["subdomains"]}'
expect_2xx "standby $sb: role create forwarded"
node_use "$(active_node)"
vault GET "$M/config/acme-account/ha"
expect_jq '.data.email_contacts' '["ha@example.com"]' "active node reads the account created through the standby"
# Accounts Pebble created (one log line each; a newAccount re-sent after badNonce counts once).
accts=$(grep -c 'There are now [0-9]* accounts in memory' "$PEBBLE_TMP/pebble.log")
[ "$accts" = 1 ] && ok "one account registered at the CA" || not_ok "$accts account registrations at the CA"

# ---- standby: reads served there, every write forwarded and done once ------------------------
node_use "$(active_node)"
new_order standby-base.example.com
base=$ORDER
wait_status "$base" awaiting-challenge-fulfillment 30 || not_ok "base order awaiting (last $LAST_STATUS)"
sb=$(standby_node) && node_use "$sb"
ca0=$(ca_orders)
vault GET "$M/role/$ROLE/order/$base/status"
expect_status 200 "standby $sb: order status read served"
vault LIST "$M/role/$ROLE/active-orders"
expect_true ".data.keys | index(\"$base\") != null" "standby $sb: active-orders list served"
new_order standby-new.example.com
expect_status 200 "standby $sb: new-order forwarded"
sid=$ORDER
wait_status "$sid" awaiting-challenge-fulfillment 30 && ok "standby order reached awaiting" || not_ok "standby order awaiting (last $LAST_STATUS)"
publish_and_fulfil "$sid" standby-new.example.com
expect_status 200 "standby $sb: fulfilled-challenge forwarded"
wait_status "$sid" completed 60 && ok "order written through the standby completed" || not_ok "standby order completed (last $LAST_STATUS)"
vault PUT "$M/role/$ROLE/order/$sid/revoke" '{}'
expect_2xx "standby $sb: revoke forwarded"
for _ in $(seq 1 50); do
    [ "$(order_status "$sid")" = revoked ] && break
    sleep 0.1
done
vault GET "$M/role/$ROLE/order/$sid/status"
expect_jq .data.order_status '"revoked"' "revoked, read back on the standby"
ca1=$(ca_orders)
[ $((ca1 - ca0)) = 1 ] && ok "one CA order for the order placed through the standby" || not_ok "$((ca1 - ca0)) CA orders for one Vault order"
node_use "$(active_node)"
publish_and_fulfil "$base" standby-base.example.com
wait_status "$base" completed 60 || not_ok "base order completed (last $LAST_STATUS)"
node_use "$sb"
vault POST "$M/config/acme-account/ha/rotate-key" '{}'
expect_2xx "standby $sb: rotate-key forwarded"
# Done once: read where it was done. A standby applies the raft log a moment later (its
# reads are eventually consistent), so its copy is polled.
node_use "$(active_node)"
vault GET "$M/config/acme-account/ha"
expect_jq '[.data.active_key_version, (.data.account_keys | keys)]' '[1,["0","1"]]' \
    "rotate-key done once: active_key_version 1, keys 0 and 1 (read on the active node)"
node_use "$sb"
for _ in $(seq 1 50); do
    vault GET "$M/config/acme-account/ha"
    [ "$(printf '%s' "$BODY" | jq -c .data.active_key_version)" = 1 ] && break
    sleep 0.1
done
expect_jq .data.active_key_version 1 "the standby's copy catches up: active_key_version 1"

# Until the first kill nodes 2 and 3 have only been standbys: their plugins served reads and
# handed writes back, and their order workers did nothing (no state advanced, no CA call).
for n in 2 3; do
    w=$(grep -cE 'vault-plugin-secrets-pki-external-ca: (order advanced|bad nonce)' "$E2E_TMP/node$n/server.log" || true)
    [ "$w" = 0 ] && ok "standby $n: its plugin advanced no order and called no CA from the worker" ||
        not_ok "standby $n did order work: $w log lines"
done

# ---- (a) SIGKILL the active node right after new-order -------------------------------------
# The CA is frozen (SIGSTOP) while the worker sends newOrder, so the kill falls between the
# CA creating the order and the plugin storing its URL when the request was already on its
# way; the CA thaws after the kill. The new active node finds that CA order in the account's
# orders list and adopts it: exactly one CA order either way.
node_use "$(active_node)"
new_order warm-a.example.com   # the worker's connection to the CA is warm: newOrder goes out
wait_status "$ORDER" awaiting-challenge-fulfillment 30 || true
ca0=$(ca_orders)
PEBBLE_NOW=$(cat "$PEBBLE_TMP/pebble.pid")
kill -STOP "$PEBBLE_NOW"
new_order kill-a.example.com
ida=$ORDER
sleep 1
kill_active || { kill -CONT "$PEBBLE_NOW"; ha_finish; exit 1; }
kill -CONT "$PEBBLE_NOW"
if wait_status "$ida" awaiting-challenge-fulfillment 90; then ok "(a) order reached awaiting on the new active node, no client call"
else not_ok "(a) order after failover (last $LAST_STATUS)"; fi
publish_and_fulfil "$ida" kill-a.example.com
if wait_status "$ida" completed 90; then ok "(a) order completed (the account rotated through a standby still works)"; else not_ok "(a) completed (last $LAST_STATUS)"; fi
FAILOVER_DONE+=($(( $(now_ms) - KILL_MS )))
key_matches_cert "$ida" && ok "(a) key matches the certificate" || not_ok "(a) key vs certificate"
[ "$(( $(ca_orders) - ca0 ))" = 1 ] && ok "(a) exactly one CA order for the Vault order" ||
    not_ok "(a) $(( $(ca_orders) - ca0 )) CA orders for one Vault order"
if grep -qh "ca order found again.*$ida\|$ida.*ca order found again" "$E2E_TMP"/node*/server.log; then
    echo "# (a) the new active node adopted the CA order the killed node had placed"
else
    echo "# (a) the kill came before newOrder reached the CA: the new active node placed it"
fi
rejoin

# ---- (b) SIGKILL the active node right after fulfilled-challenge ---------------------------
node_use "$(active_node)"
new_order kill-b.example.com
idb=$ORDER
wait_status "$idb" awaiting-challenge-fulfillment 30 || not_ok "(b) awaiting (last $LAST_STATUS)"
ca0=$(ca_orders)
publish_and_fulfil "$idb" kill-b.example.com
expect_status 200 "(b) fulfilled-challenge accepted"
kill_active || { ha_finish; exit 1; }
if wait_status "$idb" completed 90; then ok "(b) order completed on the new active node with no further client call"
else not_ok "(b) completed after failover (last $LAST_STATUS)"; fi
FAILOVER_DONE+=($(( $(now_ms) - KILL_MS )))
key_matches_cert "$idb" && ok "(b) key matches the certificate" || not_ok "(b) key vs certificate"
[ "$(( $(ca_orders) - ca0 ))" = 0 ] && ok "(b) no second CA order (its URL was stored before the kill)" ||
    not_ok "(b) $(( $(ca_orders) - ca0 )) extra CA orders"
rejoin

# ---- (c) 20 orders in flight in mixed states -----------------------------------------------
node_use "$(active_node)"
ca_c=$(ca_orders)
ids=()
for i in $(seq 1 20); do new_order "c$i.example.com"; ids+=("$ORDER"); done
# Orders 1-10 fulfilled (in validation or done), 11-20 left new/submitted/awaiting.
for i in $(seq 1 10); do
    wait_status "${ids[$((i - 1))]}" awaiting-challenge-fulfillment 30 || true
    publish_and_fulfil "${ids[$((i - 1))]}" "c$i.example.com"
done
ca0=$(ca_orders)
states=$(for id in "${ids[@]}"; do order_status "$id"; done | sort | uniq -c | tr -s ' \n' ' ')
echo "# (c) states at the kill: $states"
kill_active || { ha_finish; exit 1; }
for i in $(seq 11 20); do
    wait_status "${ids[$((i - 1))]}" awaiting-challenge-fulfillment 90 || true
    publish_and_fulfil "${ids[$((i - 1))]}" "c$i.example.com"
done
done_n=0 match=0
for id in "${ids[@]}"; do
    wait_status "$id" completed 90 && done_n=$((done_n + 1))
    key_matches_cert "$id" && match=$((match + 1))
done
FAILOVER_DONE+=($(( $(now_ms) - KILL_MS )))
[ "$done_n" = 20 ] && ok "(c) all 20 orders completed after the failover" || not_ok "(c) $done_n of 20 completed"
[ "$match" = 20 ] && ok "(c) every key matches its certificate" || not_ok "(c) $match of 20 keys match"
extra=$(( $(ca_orders) - ca0 ))
echo "# (c) CA orders placed after the kill: $extra (orders whose CA order was not yet placed)"
[ "$(( $(ca_orders) - ca_c ))" = 20 ] && ok "(c) exactly one CA order per Vault order (20)" ||
    not_ok "(c) $(( $(ca_orders) - ca_c )) CA orders for 20 Vault orders"
rejoin

stats "kill -> first plugin read on the new active node" "${FAILOVER_READ[@]}"
stats "kill -> order completed" "${FAILOVER_DONE[@]}"
ha_finish
