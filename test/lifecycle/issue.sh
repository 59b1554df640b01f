# test/lifecycle/issue.sh (sourced by test/lifecycle/run.sh): role/:name/issue, one call for
# templates and scripts: the certificate when the order completes within `wait`
# (automatic dns-01 through BIND), else the order's status and challenges at once (manual
# challenge) or after `wait`; bad input refused before anything is stored; waiting calls
# never hold up reads.

feature_role iss
expect_status 200 "issue: role"

# order_count: how many orders the mount holds (LIST lookup/orders).
order_count() {
    vault LIST "$M/lookup/orders"
    if [ "$STATUS" = 200 ]; then printf '%s' "$BODY" | jq '.data.keys | length'; else echo 0; fi
}

# ---- bad input: 400 naming the field, no order stored ---------------------------------------
n0=$(order_count)
vault PUT "$M/role/iss/issue" '{"identifiers":["bad1.example.test"],"wait":"301s"}'
expect_error_mentions wait "issue: wait above 300s refused naming wait"
vault PUT "$M/role/iss/issue" '{"identifiers":["bad2.example.test"],"wait":"-5s"}'
expect_error_mentions wait "issue: negative wait refused naming wait"
vault PUT "$M/role/iss/issue" '{"identifiers":["bad3.example.test"],"wait":"soon"}'
expect_error_mentions wait "issue: unparsable wait refused naming wait"
vault PUT "$M/role/iss/issue" '{"identifiers":["bad4.example.test"],"certificate_format":"p12"}'
expect_error_mentions certificate_format "issue: unknown certificate_format refused naming it"
vault PUT "$M/role/iss/issue" '{"identifiers":["bad5.not-allowed.test"]}'
expect_error_mentions identifiers "issue: a name the role refuses is refused naming identifiers"
vault PUT "$M/role/iss/issue" '{}'
expect_error_mentions identifiers "issue: neither identifiers nor csr"
vault PUT "$M/role/nosuchrole/issue" '{"identifiers":["x.example.test"]}'
expect_not_found nosuchrole "issue: a missing role is a 404 naming it"
[ "$(order_count)" = "$n0" ] && ok "issue: refused calls stored no order" \
    || not_ok "issue: refused calls stored orders ($n0 -> $(order_count))"

# ---- automatic dns-01: the certificate in one call -------------------------------------------
t0=$(now_ms)
vault PUT "$M/role/iss/issue" '{"identifiers":["one.example.test"],"wait":"60s"}'
t1=$(now_ms)
expect_status 200 "issue: automatic dns-01 identifier order"
expect_true '(.data.certificate | startswith("-----BEGIN CERTIFICATE-----")) and
    (.data.private_key | test("PRIVATE KEY")) and .data.order_status == "completed" and
    (.data.serial_number | test("^[0-9a-f]{2}(:[0-9a-f]{2})*$")) and (.data.ca_chain | length >= 1)' \
    "issue: reply holds fetch-cert's fields (certificate, private_key, serial_number, ca_chain)"
ISSUED_ID=$(printf '%s' "$BODY" | jq -r .data.order_id)
ISSUED_CERT=$(printf '%s' "$BODY" | jq -r .data.certificate)
echo "# issue with automatic dns-01 answered in $((t1 - t0)) ms"
vault GET "$M/role/iss/order/$ISSUED_ID/fetch-cert"
[ "$(printf '%s' "$BODY" | jq -r .data.certificate)" = "$ISSUED_CERT" ] \
    && ok "issue: the same certificate as fetch-cert of its order_id" \
    || not_ok "issue: fetch-cert of $ISSUED_ID differs"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=csr.example.test" \
    -addext "subjectAltName=DNS:csr.example.test" -keyout "$E2E_TMP/csr.key" -out "$E2E_TMP/csr.pem" 2>/dev/null
vault PUT "$M/role/iss/issue" "$(jq -n --rawfile c "$E2E_TMP/csr.pem" '{csr:$c, certificate_format:"pem_bundle"}')"
expect_true '.data.order_status == "completed" and (has("private_key") | not) and
    (.data.certificate | [scan("BEGIN CERTIFICATE")] | length >= 2) and (.data | has("private_key") | not)' \
    "issue: CSR workflow returns a pem_bundle and no private key"

# ---- manual challenge: answers at once with the challenges, the script goes on by hand --------
t0=$(now_ms)
vault PUT "$M/role/iss/issue" '{"identifiers":["manual.other.test"],"wait":"25s"}'
t1=$(now_ms)
expect_status 200 "issue: manual order"
expect_true '.data.order_status == "awaiting-challenge-fulfillment" and
    (.data.challenges["manual.other.test"] | map(.challenge_type) | index("http-01") != null) and
    (.data | has("certificate") | not)' "issue: manual order answers with its status and challenges"
expect_true '.warnings | any(test("awaits challenge fulfillment"))' "issue: a warning says what to do next"
# The wait ended on the order's own change (awaiting), not at the 25 s deadline.
[ $((t1 - t0)) -lt 25000 ] && ok "issue: returned when the order needed the user ($((t1 - t0)) ms < 25 s)" \
    || not_ok "issue: waited the whole wait ($((t1 - t0)) ms)"
MID=$(printf '%s' "$BODY" | jq -r .data.order_id)
challenge iss "$MID" manual.other.test http-01
publish manual.other.test http-01
fulfilled iss "$MID" manual.other.test http-01
if wait_status iss "$MID" completed 30; then ok "issue: manual path continued to completed"
else not_ok "issue: manual path (last $LAST_STATUS)"; fi

vault PUT "$M/role/iss/issue" '{"identifiers":["nowait.example.test"],"wait":"0s"}'
expect_true '.data.order_id != null and (.data.order_status | IN("new","submitted","vault-challenge-fulfillment","vault-challenge-propagating")) and (.data | has("certificate") | not)' \
    "issue: wait 0s answers at once with the order's status"
expect_true '.warnings | any(test("did not complete"))' "issue: wait 0s warns the order is not done"

# ---- long waits hold remote-lane threads only: reads are answered meanwhile -------------------
# hidden.test records are never visible, so these orders stay in the propagation check and
# each call waits its whole `wait`.
# Two calls wait (the cap: the lane runs at most 3 threads for one mount, one stays free
# for its CA operations); a third is refused at once.
for i in 1 2; do
    curl -sS -o "$E2E_TMP/wait.$i" -X PUT -H "X-Vault-Token: $VAULT_TOKEN" \
        --data-binary "{\"identifiers\":[\"w$i.hidden.test\"],\"wait\":\"8s\"}" \
        "$VAULT_ADDR/v1/$M/role/iss/issue" &
    WAITERS[$i]=$!
done
sleep 1.5
vault PUT "$M/role/iss/issue" '{"identifiers":["w3.hidden.test"],"wait":"8s"}'
expect_true '.warnings | any(test("waiting already"))' "issue: a third concurrent wait is refused and answers at once"
slow=0
for i in $(seq 1 20); do
    t0=$(now_ms)
    vault GET "$M/role/iss"
    [ "$STATUS" = 200 ] || slow=$((slow + 1000000))
    [ $(( $(now_ms) - t0 )) -lt 2000 ] || slow=$((slow + 1))
done
still=0
for i in 1 2; do kill -0 "${WAITERS[$i]}" 2>/dev/null && still=$((still + 1)); done
[ "$slow" = 0 ] && [ "$still" -gt 0 ] && ok "issue: 20 role reads answered (< 2 s each) while $still issue calls waited" \
    || not_ok "issue: reads while issue calls waited: slow=$slow, waiting=$still"
wait "${WAITERS[@]}"
jq -s 'all(.data.order_status == "vault-challenge-propagating" and (.warnings | any(test("did not complete"))))' \
    "$E2E_TMP"/wait.[1-4] | grep -qx true && ok "issue: waits that ran out answer with the order's status and a warning" \
    || not_ok "issue: waiters' replies: $(cat "$E2E_TMP"/wait.1 | head -c 300)"
