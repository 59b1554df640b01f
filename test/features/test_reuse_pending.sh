#!/usr/bin/env bash
# test/features/test_reuse_pending.sh: load-balanced clients (issue 14 §4). With the role
# option reuse_pending_orders, new-order for an identifier set (any order, any case) that a
# non-terminal order of the role already has returns that order with a warning; 50
# concurrent calls for one name give one order and one CA order (the orders Pebble's log
# says it added); an order that ended is not reused; without the option nothing is.
set -u
cd "$(dirname "$0")/../.."
source test/e2e/lib.sh
source test/e2e/orders_lib.sh

e2e_start || { e2e_finish; exit 1; }
e2e_pebble_start || { e2e_finish; exit 1; }
M=$MOUNT
# Orders Pebble created, not newOrder requests: Pebble refuses 5% of nonces by default, and
# the client's retry of a newOrder refused with badNonce is a second POST /order-plz for one
# CA order (seen under make asan: "2 CA orders", one of them the refused request).
ca_orders() { grep -c 'Added order .* to the db' "$PEBBLE_TMP/pebble.log" 2>/dev/null || true; }

vault PUT "$M/config/acme-account/pebble" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" \
    '{directory_url:$d, trusted_ca:$ca, email_contacts:["ops@example.com"]}')"
expect_status 200 "create acme account"
vault PUT "$M/role/lb" '{"acme_account_name":"pebble","allowed_domains":["example.com"],
    "allowed_domain_options":["subdomains"],"reuse_pending_orders":"maybe"}'
expect_error_mentions reuse_pending_orders "reuse_pending_orders: a non-boolean is refused naming it"
vault GET "$M/role/lb"
expect_status 404 "the refused role was not stored"
vault PUT "$M/role/lb" '{"acme_account_name":"pebble","allowed_domains":["example.com"],
    "allowed_domain_options":["subdomains"],"reuse_pending_orders":true}'
expect_status 200 "role with reuse_pending_orders"
expect_jq '.data.reuse_pending_orders' true "role shows reuse_pending_orders"
vault PUT "$M/role/single" '{"acme_account_name":"pebble","allowed_domains":["example.com"],
    "allowed_domain_options":["subdomains"]}'
expect_jq '.data.reuse_pending_orders' false "reuse_pending_orders defaults to false"

# ---- 50 clients at once, one name in several spellings
before=$(ca_orders)
mkdir -p "$E2E_TMP/lb"
for i in $(seq 1 50); do
    case $((i % 3)) in 0) n=lb.example.com ;; 1) n=LB.Example.COM ;; 2) n=Lb.example.com ;; esac
    curl -sS -o "$E2E_TMP/lb/$i.json" -X PUT -H "X-Vault-Token: $VAULT_TOKEN" \
        -H 'Content-Type: application/json' --data "{\"identifiers\":[\"$n\"]}" \
        "$VAULT_ADDR/v1/$M/role/lb/new-order" &
done
wait
ids=$(jq -r '.data.order_id // "none"' "$E2E_TMP"/lb/*.json | sort -u)
n_ids=$(printf '%s\n' "$ids" | grep -c .)
[ "$n_ids" = 1 ] && [ "$ids" != none ] && ok "50 concurrent new-orders: one order_id ($ids)" ||
    not_ok "50 concurrent new-orders gave $n_ids order ids: $(printf '%s' "$ids" | tr '\n' ' ')"
warned=$(jq -r '.warnings // [] | map(select(test("reuse_pending_orders"))) | length' "$E2E_TMP"/lb/*.json | grep -c '^1$')
[ "$warned" = 49 ] && ok "49 of them carry the reuse warning" || not_ok "$warned replies carry the reuse warning, want 49"
ID=$ids
wait_status lb "$ID" awaiting-challenge-fulfillment 30 || not_ok "order awaiting (last: $LAST_STATUS)"
after=$(ca_orders)
[ $((after - before)) = 1 ] && ok "one CA order for the 50 calls (orders Pebble added)" ||
    not_ok "$((after - before)) CA orders for the 50 calls, want 1"
new_order lb '{"identifiers":["lb.example.com"]}'
expect_jq '.data.order_id' "\"$ID\"" "a later call while it awaits fulfilment: the same order"

# ---- the set, not its order or spelling; another set is another order
new_order lb '{"identifiers":["a.example.com","b.example.com"]}'
AB=$ORDER
new_order lb '{"identifiers":["B.example.com","a.example.com"]}'
expect_jq '.data.order_id' "\"$AB\"" "same set in another order and case: reused"
new_order lb '{"identifiers":["a.example.com"]}'
[ -n "$ORDER" ] && [ "$ORDER" != "$AB" ] && ok "a subset is another order" || not_ok "subset reused $AB"

# ---- an order that ended is not reused: the index entry is replaced
challenge lb "$ID" lb.example.com http-01
fulfilled lb "$ID" lb.example.com http-01   # nothing published: validation fails
wait_status lb "$ID" error 60 && ok "the shared order ended (validation failed)" ||
    not_ok "order error (last: $LAST_STATUS)"
new_order lb '{"identifiers":["lb.example.com"]}'
[ -n "$ORDER" ] && [ "$ORDER" != "$ID" ] && ok "after it ended, new-order places a new order" ||
    not_ok "ended order reused ($ORDER)"
expect_jq '.warnings // [] | length' 0 "no reuse warning for the new order"
NEXT=$ORDER
new_order lb '{"identifiers":["lb.example.com"]}'
expect_jq '.data.order_id' "\"$NEXT\"" "and the index now points at the new order"

# ---- without the option every call is an order
new_order single '{"identifiers":["s.example.com"]}'
S1=$ORDER
new_order single '{"identifiers":["s.example.com"]}'
[ -n "$ORDER" ] && [ "$ORDER" != "$S1" ] && ok "reuse_pending_orders=false: two orders" || not_ok "reused without the option"

e2e_finish
