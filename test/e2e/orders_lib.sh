# test/e2e/orders_lib.sh: order helpers for the e2e scenarios that drive orders through
# Pebble and challtestsrv. Source after lib.sh, e2e_start and e2e_pebble_start; M is the
# mount. Identifiers may be Unicode (sent JSON- or URL-encoded).

# order_status ROLE ID: prints order_status (or http-<code> when the read fails).
order_status() {
    vault GET "$M/role/$1/order/$2/status"
    if [ "$STATUS" = 200 ]; then printf '%s' "$BODY" | jq -r .data.order_status; else echo "http-$STATUS"; fi
}

now_ms() { date +%s%3N; }

# wait_status ROLE ID WANT SECONDS: 0 once the order reaches WANT, 1 on another terminal
# status or after SECONDS (a generous bound: this asserts a state, not a time; the bound is
# wall time, so a loaded machine does not stretch it). LAST_STATUS holds the last status
# seen, WAITED_MS the time taken.
wait_status() {
    local role=$1 id=$2 want=$3 secs=$4 t0
    t0=$(now_ms)
    while :; do
        LAST_STATUS=$(order_status "$role" "$id")
        WAITED_MS=$(( $(now_ms) - t0 ))
        [ "$LAST_STATUS" = "$want" ] && return 0
        case "$LAST_STATUS" in error|expired|revoked) return 1 ;; esac
        [ "$WAITED_MS" -ge $((secs * 1000)) ] && return 1
        sleep 0.1
    done
}

# new_order ROLE JSON: sets ORDER (the id) on 200.
new_order() {
    vault PUT "$M/role/$1/new-order" "$2"
    ORDER=$(printf '%s' "$BODY" | jq -r '.data.order_id // empty' 2>/dev/null)
}

# challenge ROLE ID IDENT TYPE: reads it (query parameters, as Terraform sends them); sets
# TOKEN, KEYAUTH, DNSVAL.
challenge() {
    local ident
    ident=$(jq -rn --arg s "$3" '$s | @uri')
    vault GET "$M/role/$1/order/$2/challenge?challenge_type=$4&identifier=$ident"
    TOKEN=$(printf '%s' "$BODY" | jq -r '.data.challenge_token // empty')
    KEYAUTH=$(printf '%s' "$BODY" | jq -r '.data.challenge_auth // empty')
    DNSVAL=$(printf '%s' "$BODY" | jq -r '.data.dns_record_value // empty')
}

cts() { curl -sS -o /dev/null -X POST "$CHALLTESTSRV_URL/$1" -d "$2"; }

# publish NAME TYPE: puts the last `challenge` in place at challtestsrv (NAME as the CA
# sees it: the A-label).
publish() {
    case "$2" in
        http-01) cts add-http01 "{\"token\":\"$TOKEN\",\"content\":\"$KEYAUTH\"}" ;;
        dns-01) cts set-txt "{\"host\":\"_acme-challenge.${1#\*.}.\",\"value\":\"$DNSVAL\"}" ;;
    esac
}

fulfilled() {   # ROLE ID IDENT TYPE
    vault PUT "$M/role/$1/order/$2/fulfilled-challenge" \
        "$(jq -n --arg i "$3" --arg t "$4" '{identifier:$i, challenge_type:$t}')"
}

# order_http01 ROLE NAME: a one-name order fulfilled over http-01 up to completed; 0 when
# it completes. Sets ORDER.
order_http01() {
    vault PUT "$M/role/$1/new-order" "$(jq -n --arg i "$2" '{identifiers:[$i]}')"
    ORDER=$(printf '%s' "$BODY" | jq -r '.data.order_id // empty')
    [ -n "$ORDER" ] || { LAST_STATUS="new-order HTTP $STATUS"; return 1; }
    wait_status "$1" "$ORDER" awaiting-challenge-fulfillment 30 || return 1
    challenge "$1" "$ORDER" "$2" http-01
    publish "$2" http-01
    fulfilled "$1" "$ORDER" "$2" http-01
    wait_status "$1" "$ORDER" completed 60
}

# last_error ROLE ID: prints the order's last_error.
last_error() {
    vault GET "$M/role/$1/order/$2/status"
    printf '%s' "$BODY" | jq -r .data.last_error
}
