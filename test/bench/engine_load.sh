#!/usr/bin/env bash
# test/bench/engine_load.sh: the engine under load (issue 12), against dev-vault + Pebble
# (PEBBLE_VA_NOSLEEP=1), driven by test/bench/orderload:
#   1. N1 (200) concurrent orders: first new-order -> last completed, per-order
#      fulfilled-challenge -> completed p50/p99 (target p99 < 5 s), storage reads and CA
#      requests per order (dev-vault's GET /v1/sys/dev/counters; Pebble's request log);
#   2. N2 (1,000) orders placed at once and left awaiting their challenge: plugin RSS, then an
#      idle period: storage reads/lists and SystemView calls per minute (target: one scan per
#      rollback interval, no order loads), plugin CPU seconds per idle hour; then all N2
#      fulfilled at once: fulfilled-challenge -> completed p50/p99 (target p99 < 5 s), CA
#      requests per order, CPU seconds each process spent meanwhile (who the 2 cores went
#      to: plugin, dev-vault, Pebble, challtestsrv, the driver); RSS after they completed;
#      then (each later batch on a restarted Pebble, fresh_pebble says why) a second batch
#      of N2 placed and fulfilled the same way: RSS after it (growth per
#      completed order, or an allocator that keeps what it had); then a third batch of N2
#      placed and fulfilled at a steady LOAD_RATE a second (40): N2 orders in flight whose
#      fulfilments arrive the way real ones do, fulfilled-challenge -> completed p50/p99
#      (target p99 < 5 s), the most fulfilled and not yet completed at once, CPU per order.
#      The burst above is CPU-bound on 2 cores (~31 ms CPU per order over all processes:
#      1,000 in the same second cannot complete within 5 s whatever the engine does); the
#      steady rate is the "a thousand in flight behave like one" case. For the burst, storage
#      operations per order by operation and key prefix (dev-vault's by_prefix);
#   3. a second mount whose CA hangs (a relay to Pebble turned black hole: accepts, never
#      answers) with orders and a key rotation stuck on it, beside the Pebble mount: account
#      writes and orders on the Pebble mount (targets as above), then the time the hung mount's
#      Cleanup and the plugin's exit take (target: within 2 s).
# Prints a table with the load average. Figures, not pass/fail: exits non-zero only when a step
# cannot run. Environment: BUILD (default build); LOAD_N1 (200), LOAD_N2 (1000),
# LOAD_IDLE_S (60), LOAD_ROLLBACK (10s: dev-vault's rollback interval), LOAD_RATE (40
# fulfilments a second in the third batch), E2E_KEEP=1,
# LOAD_PERF=FILE (a perf record of the plugin during the first fulfil phase).
set -u
cd "$(dirname "$0")/../.."
export PEBBLE_VA_NOSLEEP=1
unset VAULT_ADDR VAULT_TOKEN
# shellcheck source=test/e2e/lib.sh
source test/e2e/lib.sh

N1=${LOAD_N1:-200}
N2=${LOAD_N2:-1000}
IDLE_S=${LOAD_IDLE_S:-60}
RATE=${LOAD_RATE:-40}
ROLLBACK=${LOAD_ROLLBACK:-10s}
HOST_DEVVAULT_ARGS=(-rollback-interval "$ROLLBACK")

fail() { echo "engine_load.sh: $*" >&2; exit 1; }
step() { printf '# %s: %s\n' "$(date +%T)" "$*" >&2; }
command -v go >/dev/null || fail "go not found (apt-get install golang)"
command -v python3 >/dev/null || fail "python3 not found (apt-get install python3)"

DRV="$BUILD/bench/orderload"   # lib.sh made BUILD absolute
mkdir -p "$BUILD/bench"
(cd test/bench/orderload && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -o "$DRV" .) ||
    fail "building test/bench/orderload"

e2e_start >&2 || fail "dev-vault did not start"
e2e_pebble_start >&2 || fail "Pebble did not start"
SWITCH_PID=
CHILD=
cleanup_extra() { [ -n "$SWITCH_PID" ] && kill "$SWITCH_PID" 2>/dev/null; }
trap 'cleanup_extra; [ -n "$CHILD" ] && kill "$CHILD" 2>/dev/null; exit 130' INT TERM
run_bg() { "$@" & CHILD=$!; wait "$CHILD"; local rc=$?; CHILD=; return $rc; }

M=$MOUNT
PEBBLE_PORT=${ACME_DIR#https://127.0.0.1:}
PEBBLE_PORT=${PEBBLE_PORT%%/*}
acct() {   # MOUNT NAME DIRECTORY_URL
    vault PUT "$1/config/acme-account/$2" "$(jq -n --arg d "$3" --arg ca "$ACME_CA_PEM" \
        '{directory_url:$d, trusted_ca:$ca, email_contacts:["ops@example.com"]}')"
}
ROLE=bench
bench_role() {   # NAME: account NAME at $ACME_DIR and role NAME on it; the driver uses it
    acct "$M" "$1" "$ACME_DIR"
    [ "$STATUS" = 200 ] || fail "create account $1: HTTP $STATUS $BODY"
    vault PUT "$M/role/$1" "$(jq -n --arg a "$1" '{acme_account_name:$a, allowed_domains:["example.com"],
        allowed_domain_options:["subdomains"], allowed_challenge_types:["http-01"]}')"
    [ "$STATUS" = 200 ] || fail "create role $1: HTTP $STATUS $BODY"
    ROLE=$1
}
bench_role bench
# fresh_pebble NAME: Pebble restarted on its port with an empty store, and a new account and
# role NAME on it. Pebble's in-memory store deadlocks under concurrent newOrder and
# authorization reads, more likely the more authorizations it holds (newOrder scans them
# all under the store's read lock, in FindValidAuthorization, waiting for an authorization's
# lock whose holder, Authz, waits for the store behind a queued AddChallenge: goroutine
# dumps of Debian's 2.4.0 and of v2.10.1, same code in v2.10.3). It hung the third batch
# below twice in a row with 2,800 authorizations; each batch starts from an empty store.
fresh_pebble() {
    kill "$PEBBLE_PID" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$PEBBLE_PID" 2>/dev/null || break; sleep 0.1; done
    PEBBLE_PID=$("$PEBBLE_RESTART") || fail "restarting Pebble"
    bench_role "$1"
}

RUN=l$$
drv() { run_bg "$DRV" -addr "$VAULT_ADDR" -token "$VAULT_TOKEN" -mount "$M" -role "$ROLE" \
          -cts "$CHALLTESTSRV_URL" -limit 300s "$@"; }
result() { awk -v k="$2" '$1 == "RESULT" && $2 == k { print $3 }' "$1"; }
counters() { curl -sS -H "X-Vault-Token: $VAULT_TOKEN" "$VAULT_ADDR/v1/sys/dev/counters" | jq -c .data; }
cval() { printf '%s' "$1" | jq ".$2"; }
ca_reqs() { grep -cE ' (GET|POST|HEAD) /' "$PEBBLE_TMP/pebble.log" 2>/dev/null || echo 0; }
# Connections to Pebble closed in the last minute (TIME_WAIT on our side): each one a TCP
# and TLS handshake that a kept connection would have saved.
closed_conns() { ss -Htan state time-wait "( dport = :$PEBBLE_PORT )" 2>/dev/null | wc -l; }
plugin_pid() { host_plugin_pids vault-plugin-secrets-pki-external-ca | head -1; }
rss_mb() { awk '/^VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$(plugin_pid)/status"; }
cpu_s() { pcpu "$(plugin_pid)"; }
pcpu() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# CPU seconds of the children this shell has reaped (the driver, curl, jq): bash's `times`,
# run in this shell (a subshell's own children start at 0).
procs_cpu() {   # sets PROCS_CPU
    times > "$E2E_TMP/times"
    PROCS_CPU="$(pcpu "$(plugin_pid)") $(pcpu "$HOST_PID") $(pcpu "$PEBBLE_PID") $(pcpu "$CHALLTESTSRV_PID") $(awk 'NR == 2 {
        for (i = 1; i <= 2; i++) { split($i, t, /[ms]/); s += t[1] * 60 + t[2] } printf "%.2f", s }' "$E2E_TMP/times")"
}
cpu_split() {   # BEFORE AFTER WALL_S [ORDERS]: "plugin X s, dev-vault Y s, ...", the share of
                # the cores, and the wall time that much CPU needs at the least
    awk -v a="$1" -v b="$2" -v w="$3" -v o="${4:-0}" -v n="$(nproc)" 'BEGIN {
        split(a, x, " "); split(b, y, " "); split("plugin dev-vault pebble challtestsrv driver", k, " ")
        for (i = 1; i <= 5; i++) { d = y[i] - x[i]; t += d; printf "%s%s %.1f s", (i > 1 ? ", " : ""), k[i], d }
        if (w > 0) printf " (together %.0f%% of %d cores over %.1f s)", 100 * t / (w * n), n, w
        if (o > 0) printf "; %.1f ms CPU per order: %d orders need >= %.1f s of %d cores", 1000 * t / o, o, t / n, n }'
}
per() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "n/a" }'; }
# by_prefix BEFORE AFTER ORDERS: the storage operations per order by operation and key's
# first segment ("get order 7.9, put order 5.0, ..."), largest first.
by_prefix() {
    jq -rn --argjson a "$1" --argjson b "$2" '$b.by_prefix // {} | to_entries[]
        | [.key, .value - ($a.by_prefix[.key] // 0)] | @tsv' |
        awk -F'\t' -v n="$3" '$2 > 0 { k = $1; sub(/ $/, " (top)", k); v = $2 / n; printf (v < 0.05 ? "%s\t%.2g\n" : "%s\t%.1f\n"), k, v }' |
        sort -t"$(printf '\t')" -k2,2gr | awk -F'\t' '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2 } END { if (!NR) printf "n/a" }'
}
within() { awk -v v="$1" -v lim="$2" 'BEGIN { print (v != "" && v <= lim) ? "ok" : "MISSED" }'; }
[ "$(cval "$(counters)" storage_get)" != null ] || fail "dev-vault has no /v1/sys/dev/counters"

# ---- 1. N1 concurrent orders
step "1. $N1 concurrent orders"
c0=$(counters) r0=$(ca_reqs)
drv -tag "a-$RUN" concurrent -n "$N1" -poll 100ms > "$E2E_TMP/c1.out" || fail "concurrent run failed"
c1=$(counters) r1=$(ca_reqs)
C1_READS=$(per "$(( $(cval "$c1" storage_get) + $(cval "$c1" storage_list) - $(cval "$c0" storage_get) - $(cval "$c0" storage_list) ))" "$N1")
C1_CA=$(per "$((r1 - r0))" "$N1")

# ---- 2. N2 orders: placed, idle, fulfilled
step "2. $N2 orders placed and left awaiting"
drv -tag "b-$RUN" place -n "$N2" -poll 3s -out "$E2E_TMP/placed.txt" > "$E2E_TMP/p2.out" ||
    fail "placing $N2 orders failed"
RSS_ACTIVE=$(rss_mb)
step "2. idle for $IDLE_S s with $N2 active orders (rollback every $ROLLBACK)"
sleep 2
c0=$(counters) cpu0=$(cpu_s)
sleep "$IDLE_S"
c1=$(counters) cpu1=$(cpu_s)
idle() { per "$(( ($(cval "$c1" "$1") - $(cval "$c0" "$1")) * 60 ))" "$IDLE_S"; }
I_GET=$(idle storage_get) I_LIST=$(idle storage_list) I_PUT=$(idle storage_put) I_SV=$(idle sysview_replication_state)
I_CPU=$(awk -v a="$cpu0" -v b="$cpu1" -v s="$IDLE_S" 'BEGIN { printf "%.1f", (b - a) * 3600 / s }')
ROLLBACKS_PER_MIN=$(awk -v r="${ROLLBACK%s}" 'BEGIN { printf "%.0f", 60 / r }')
step "2. fulfilling all $N2 at once"
r0=$(ca_reqs) c0=$(counters)
procs_cpu; p0=$PROCS_CPU
PERF_PID=
if [ -n "${LOAD_PERF:-}" ]; then   # LOAD_PERF=FILE: perf record of the plugin while fulfilling
    perf record -q -g -o "$LOAD_PERF" -p "$(plugin_pid)" >/dev/null 2>&1 &
    PERF_PID=$!
fi
drv fulfil -in "$E2E_TMP/placed.txt" -poll 1s > "$E2E_TMP/f2.out" || fail "fulfilling failed"
[ -n "$PERF_PID" ] && { kill -INT "$PERF_PID"; wait "$PERF_PID"; }
r1=$(ca_reqs) c1=$(counters) TW2=$(closed_conns)
procs_cpu; p1=$PROCS_CPU
C2_CA=$(per "$((r1 - r0))" "$N2")
C2_READS=$(per "$(( $(cval "$c1" storage_get) + $(cval "$c1" storage_list) - $(cval "$c0" storage_get) - $(cval "$c0" storage_list) ))" "$N2")
C2_CPU=$(cpu_split "$p0" "$p1" "$(result "$E2E_TMP/f2.out" fulfil_wall_s)" "$N2")
C2_BY=$(by_prefix "$c0" "$c1" "$N2")
sleep 10   # the plugin trims its heap after 5 s without requests (src/runtime/heap.c)
RSS_DONE=$(rss_mb)
step "2. a second batch of $N2: placed (100 at a time), then fulfilled at once"
# Placed 100 at a time: Pebble's in-memory store deadlocked twice here with 1,000 NewOrders
# at once beside 2,000 earlier authorizations (every request stuck behind a NewOrder in
# MemoryStore.FindValidAuthorization, seen in a SIGQUIT dump), a Pebble bug, not a load figure.
# 100 at a time makes it rarer, not impossible: once more here (1,401 authorizations, two
# NewOrders in FindValidAuthorization, two in AddChallenge's Lock, every other request in
# GetAccountByID's RLock); the driver then waits on it for minutes. Run the bench again.
fresh_pebble bench2
drv -tag "b2-$RUN" place -n "$N2" -c 100 -poll 3s -out "$E2E_TMP/placed2.txt" > "$E2E_TMP/p2b.out" ||
    fail "placing the second $N2 orders failed"
RSS_ACTIVE2=$(rss_mb)
drv fulfil -in "$E2E_TMP/placed2.txt" -poll 1s > "$E2E_TMP/f2b.out" || fail "fulfilling the second batch failed"
sleep 10
RSS_DONE2=$(rss_mb)
# What the allocator holds against what is in use (glibc's malloc_stats, its stderr pointed
# at a file for the call), then the RSS once free memory is given back (malloc_trim).
HEAP="n/a (gdb not found: apt-get install gdb)"
if command -v gdb >/dev/null; then
    MS=$E2E_TMP/malloc_stats.txt
    gdb -p "$(plugin_pid)" -batch -ex 'set $save = (int)dup(2)' \
        -ex "set \$fd = (int)open(\"$MS\", 577, 384)" -ex 'call (int)dup2($fd, 2)' \
        -ex 'call (void)malloc_stats()' -ex 'call (int)dup2($save, 2)' -ex 'call (int)close($fd)' \
        -ex 'call (int)close($save)' -ex 'call (int)malloc_trim(0)' >/dev/null 2>&1
    HEAP=$(awk '/Total \(incl. mmap\)/ { t = 1 } t && /system bytes/ { sys = $NF } t && /in use bytes/ { use = $NF; t = 0 }
        /^Arena/ { n++ }
        END { if (sys) printf "%.1f MB in use of %.1f MB the allocator holds (%d arenas)", use / 1048576, sys / 1048576, n; else print "n/a (malloc_stats gave nothing)" }' "$MS" 2>/dev/null)
    HEAP="$HEAP; RSS after malloc_trim $(rss_mb) MB"
fi
step "2. a third batch of $N2: placed (100 at a time), then fulfilled at $RATE a second"
# N2 in flight whose fulfilments arrive at a steady rate: what a thousand real orders do,
# beside the burst above, which measures the 2 cores more than the engine. Polled every
# 250 ms (not 1 s as the burst) so the poll adds little to a latency near one second.
fresh_pebble bench3
drv -tag "b3-$RUN" place -n "$N2" -c 100 -poll 3s -out "$E2E_TMP/placed3.txt" > "$E2E_TMP/p2c.out" ||
    fail "placing the third $N2 orders failed"
procs_cpu; p0=$PROCS_CPU c0=$(counters)
drv fulfil -in "$E2E_TMP/placed3.txt" -rate "$RATE" -poll 250ms > "$E2E_TMP/f2c.out" ||
    fail "fulfilling the third batch at $RATE a second failed"
procs_cpu; p1=$PROCS_CPU c1=$(counters)
C3_CPU=$(cpu_split "$p0" "$p1" "$(result "$E2E_TMP/f2c.out" fulfil_wall_s)" "$N2")
C3_BY=$(by_prefix "$c0" "$c1" "$N2")

# ---- 3. a hung CA beside Pebble
step "3. a second mount whose CA hangs"
python3 test/bench/tcp_switch.py "$E2E_TMP/switch.port" 127.0.0.1 "$PEBBLE_PORT" &
SWITCH_PID=$!
for _ in $(seq 1 50); do [ -s "$E2E_TMP/switch.port" ] && break; sleep 0.1; done
[ -s "$E2E_TMP/switch.port" ] || fail "tcp_switch.py did not start"
HUNG_DIR="https://127.0.0.1:$(cat "$E2E_TMP/switch.port")/dir"
host_mount hung pki-external-ca >&2 || fail "mounting the second mount"
acct hung via-switch "$HUNG_DIR"
[ "$STATUS" = 200 ] || fail "account through the relay: HTTP $STATUS $BODY"
vault PUT "hung/role/r" '{"acme_account_name":"via-switch","allowed_domains":["example.com"],
    "allowed_domain_options":["subdomains"],"allowed_challenge_types":["http-01"]}'
kill -USR1 "$SWITCH_PID"   # from now on the CA accepts and never answers
for i in $(seq 1 20); do
    vault PUT "hung/role/r/new-order" "{\"identifiers\":[\"h$i.example.com\"]}"
done
ROTATE_T0=$(date +%s)
curl -sS -o /dev/null -X PUT -H "X-Vault-Token: $VAULT_TOKEN" -d '{"force":true}' \
    "$VAULT_ADDR/v1/hung/config/acme-account/via-switch/rotate-key" &
HUNG_ROTATE=$!
sleep 2
step "3. account writes and orders on the Pebble mount meanwhile"
aw=()
for i in 1 2 3 4 5; do
    t0=$(date +%s%N)
    acct "$M" "side-$i" "$ACME_DIR"
    t1=$(date +%s%N)
    [ "$STATUS" = 200 ] || fail "account create beside the hung mount: HTTP $STATUS"
    aw+=($(( (t1 - t0) / 1000000 )))
done
ACCT_MS=$(printf '%s\n' "${aw[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] "/" a[NR] }')
drv -tag "c-$RUN" concurrent -n 50 -poll 100ms > "$E2E_TMP/c3.out" || fail "orders beside the hung mount failed"
# The rotate-key request waits on the hung CA (its own CA time bounds, not the worker's);
# the host does not clean a mount up under a running request, so it is let finish first.
step "3. waiting for the rotate-key request stuck on the hung CA"
wait "$HUNG_ROTATE" 2>/dev/null
ROTATE_S=$(( $(date +%s) - ROTATE_T0 ))
step "3. disabling the hung mount (Cleanup with the worker's CA calls in flight), then the last mount"
t0=$(date +%s%N)
curl -sS -o /dev/null -X DELETE -H "X-Vault-Token: $VAULT_TOKEN" "$VAULT_ADDR/v1/sys/mounts/hung"
t1=$(date +%s%N)
CLEANUP_MS=$(( (t1 - t0) / 1000000 ))
PID=$(plugin_pid)
# The plugin's exit is timed while the DELETE runs: Vault answers it only after clearing the
# mount's storage key by key (thousands of orders here), which is the host's time, not ours.
t0=$(date +%s%N)
curl -sS -o /dev/null -X DELETE -H "X-Vault-Token: $VAULT_TOKEN" "$VAULT_ADDR/v1/sys/mounts/$M" &
DEL_PID=$!
for _ in $(seq 1 1500); do kill -0 "$PID" 2>/dev/null || break; sleep 0.02; done
t1=$(date +%s%N)
wait "$DEL_PID"
t2=$(date +%s%N)
EXIT_MS=$(( (t1 - t0) / 1000000 ))
DELETE_MS=$(( (t2 - t0) / 1000000 ))
kill -0 "$PID" 2>/dev/null && EXIT_MS="> $EXIT_MS (still running)"
cleanup_extra
SWITCH_PID=

# ---- the table
A=$E2E_TMP/c1.out P=$E2E_TMP/p2.out F=$E2E_TMP/f2.out H=$E2E_TMP/c3.out
echo
echo "engine load bench: dev-vault + $(basename "$BUILD")/vault-plugin-secrets-pki-external-ca, Pebble (PEBBLE_VA_NOSLEEP=1), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-62s %s\n' "1. $N1 concurrent: first new-order -> last completed" "$(result "$A" wall_s) s"
printf '%-62s %s / %s ms   p99 < 5000 ms: %s\n' "1. $N1 concurrent: fulfilled-challenge -> completed p50/p99" \
    "$(result "$A" fulfilled_p50_ms)" "$(result "$A" fulfilled_p99_ms)" "$(within "$(result "$A" fulfilled_p99_ms)" 5000)"
printf '%-62s %s storage reads+lists (incl. the driver'"'"'s status polls), %s CA requests\n' \
    "1. per order" "$C1_READS" "$C1_CA"
printf '%-62s %s s (first new-order -> all awaiting)\n' "2. $N2 placed at once" "$(result "$P" place_wall_s)"
printf '%-62s %s MB\n' "2. plugin RSS with $N2 active orders" "$RSS_ACTIVE"
printf '%-62s %s gets, %s lists, %s puts, %s SystemView calls per minute (%s rollbacks/min)\n' \
    "2. idle, $N2 active orders, ${IDLE_S} s" "$I_GET" "$I_LIST" "$I_PUT" "$I_SV" "$ROLLBACKS_PER_MIN"
printf '%-62s %s CPU s per idle hour\n' "2. plugin CPU while idle" "$I_CPU"
printf '%-62s %s s (first fulfilled -> last completed)\n' "2. $N2 fulfilled at once" "$(result "$F" fulfil_wall_s)"
printf '%-62s %s / %s ms   p99 < 5000 ms: %s (%s over 5 s)\n' "2. $N2: fulfilled-challenge -> completed p50/p99" \
    "$(result "$F" fulfilled_p50_ms)" "$(result "$F" fulfilled_p99_ms)" "$(within "$(result "$F" fulfilled_p99_ms)" 5000)" \
    "$(result "$F" over5s)"
printf '%-62s %s CA requests, %s storage reads+lists (incl. status polls)\n' "2. per order (fulfil phase)" "$C2_CA" "$C2_READS"
printf '%-62s %s\n' "2. CPU while fulfilling" "$C2_CPU"
printf '%-62s %s (incl. status polls)\n' "2. storage operations per order (fulfil phase)" "$C2_BY"
printf '%-62s %s (TIME_WAIT: closed within the last minute)\n' "2. connections to Pebble closed while fulfilling" "$TW2"
printf '%-62s %s MB\n' "2. plugin RSS after they completed" "$RSS_DONE"
printf '%-62s %s / %s ms (%s over 5 s)\n' "2. second batch of $N2: fulfilled -> completed p50/p99" \
    "$(result "$E2E_TMP/f2b.out" fulfilled_p50_ms)" "$(result "$E2E_TMP/f2b.out" fulfilled_p99_ms)" "$(result "$E2E_TMP/f2b.out" over5s)"
printf '%-62s %s MB active, %s MB after they completed\n' "2. plugin RSS, second batch" "$RSS_ACTIVE2" "$RSS_DONE2"
printf '%-62s %s\n' "2. plugin heap after the second batch" "$HEAP"
F3=$E2E_TMP/f2c.out
printf '%-62s %s / %s ms   p99 < 5000 ms: %s (%s over 5 s)\n' "2. $N2 in flight, fulfilled at $(result "$F3" rate_per_s)/s: fulfilled-challenge -> completed p50/p99" \
    "$(result "$F3" fulfilled_p50_ms)" "$(result "$F3" fulfilled_p99_ms)" "$(within "$(result "$F3" fulfilled_p99_ms)" 5000)" \
    "$(result "$F3" over5s)"
printf '%-62s %s (fulfilled, not yet seen completed; %s s first fulfilled -> last completed)\n' \
    "2. $N2 at $RATE/s: most in flight at once" "$(result "$F3" in_flight_max)" "$(result "$F3" fulfil_wall_s)"
printf '%-62s %s\n' "2. CPU while fulfilling at $RATE/s" "$C3_CPU"
printf '%-62s %s (incl. status polls, every 250 ms here)\n' "2. storage operations per order (at $RATE/s)" "$C3_BY"
printf '%-62s %s ms (median/max of 5)\n' "3. account create on the Pebble mount, CA of the other hung" "$ACCT_MS"
printf '%-62s %s / %s ms   p99 < 5000 ms: %s\n' "3. 50 orders on the Pebble mount: fulfilled -> completed p50/p99" \
    "$(result "$H" fulfilled_p50_ms)" "$(result "$H" fulfilled_p99_ms)" "$(within "$(result "$H" fulfilled_p99_ms)" 5000)"
printf '%-62s %s s (the request'"'"'s own CA time bounds)\n' "3. rotate-key on the hung mount answered after" "$ROTATE_S"
printf '%-62s %s ms   < 2000 ms: %s\n' "3. disabling the hung mount (Cleanup, worker in CA calls)" "$CLEANUP_MS" "$(within "$CLEANUP_MS" 2000)"
printf '%-62s %s ms   < 2000 ms: %s\n' "3. disabling the last mount until the plugin exited" "$EXIT_MS" "$(within "${EXIT_MS%% *}" 2000)"
printf '%-62s %s ms (the host clearing the mount'"'"'s storage)\n' "3. the DELETE of the last mount answered after" "$DELETE_MS"
