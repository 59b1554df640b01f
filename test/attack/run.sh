#!/usr/bin/env bash
# test/attack/run.sh: hostile clients and hostile CAs against the plugin under a real host
# (issue 13; HOST=dev-vault by default, HOST=openbao works too, see test/lib/host.sh). One
# host + plugin + Pebble for every scenario, and hostile_ca.py's
# misbehaving HTTPS servers. After each attack: no 5xx, the plugin process is the same one
# (or its relaunches are counted and reported), a normal read still works, and a refused
# create left nothing (read 404, not listed). At the end: no reply of any read path holds a
# PRIVATE KEY block, the OpenAPI document the host serves passes a strict validator, and
# no plugin process crashed or wrote a sanitizer report. Output: e2e-style ok/not ok lines.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../e2e/lib.sh"
source "$HERE/../e2e/orders_lib.sh"
M=$MOUNT
VALIDATOR=/opt/pkiext/venv/bin/openapi-spec-validator

e2e_start || { e2e_finish; exit 1; }
e2e_pebble_start || { e2e_finish; exit 1; }
e2e_require python3 "apt-get install python3" || { e2e_finish; exit 1; }
[ -x "$VALIDATOR" ] || not_ok "prerequisite: $VALIDATOR missing (run scripts/deps.sh: openapi-spec-validator from scripts/requirements.txt)"

plugin_pids() { host_plugin_pids | sort | tr '\n' ' '; }

# ---- hostile CAs -----------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -keyout "$E2E_TMP/h.key" -out "$E2E_TMP/h.crt" -subj /CN=hostile \
    -addext "subjectAltName=IP:127.0.0.1" -addext "basicConstraints=critical,CA:TRUE" \
    2>/dev/null || not_ok "openssl: hostile CA certificate"
python3 "$HERE/hostile_ca.py" "$E2E_TMP/h.crt" "$E2E_TMP/h.key" "$E2E_TMP/ports" \
    2>"$E2E_TMP/hostile.log" &
E2E_PIDS+=($!)
for _ in $(seq 1 50); do [ -f "$E2E_TMP/ports" ] && break; sleep 0.1; done
port() { awk -v m="$1" '$1 == m {print $2}' "$E2E_TMP/ports"; }
HOSTILE_CA=$(cat "$E2E_TMP/h.crt")

# ---- baseline: an account and a role that normal reads use ------------------------------
vault POST "$M/config/acme-account/good" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" \
    '{directory_url:$d, email_contacts:["a@example.com"], trusted_ca:$ca}')"
expect_status 200 "baseline account at Pebble"
vault POST "$M/role/web" '{"acme_account_name":"good","allowed_domains":["example.com"],"allowed_domain_options":["bare_domains","subdomains"]}'
expect_2xx "baseline role"
PLUGINS=$(plugin_pids)
RELAUNCHES=0

# after WHAT: the checks every attack ends with
after() {
    local what=$1 now
    now=$(plugin_pids)
    if [ "$now" != "$PLUGINS" ]; then
        RELAUNCHES=$((RELAUNCHES + 1))
        not_ok "$what: plugin process changed ($PLUGINS -> $now): it crashed"
        PLUGINS=$now
    fi
    vault GET "$M/role/web"
    [ "$STATUS" = 200 ] && ok "$what: a normal read still works" \
        || not_ok "$what: normal read after it: HTTP $STATUS $BODY"
}
# no5xx WHAT: the last reply was a client error or success, never a server error
no5xx() {
    case "$STATUS" in 5??|000) not_ok "$1: HTTP $STATUS $(printf '%.300s' "$BODY")" ;;
        *) ok "$1: HTTP $STATUS" ;; esac
}
# left_nothing KIND NAME: read 404 and not listed
left_nothing() {
    local base=$1 name=$2
    vault GET "$M/$base/$name"
    [ "$STATUS" = 404 ] && ok "refused $base/$name left nothing (read 404)" \
        || not_ok "refused $base/$name: read gives HTTP $STATUS $BODY"
    vault LIST "$M/$base"
    if printf '%s' "$BODY" | jq -e --arg n "$name" '(.data.keys // []) | index($n)' >/dev/null; then
        not_ok "refused $base/$name is listed"
    else ok "refused $base/$name is not listed"; fi
}
acct() {   # acct NAME JSON-EXTRA: create account NAME with defaults + extra fields
    vault POST "$M/config/acme-account/$1" "$(jq -nc --argjson x "${2:-{\}}" \
        '{directory_url:"https://127.0.0.1:1/dir", email_contacts:["a@example.com"]} + $x')"
}

########## item 1: NUL and control characters ################################################
acct 'nul1' '{"name":"x"}' >/dev/null
vault POST "$M/config/acme-account/nulacct" '{"directory_url":"https://127.0.0.1:1/d\u0000x","email_contacts":["a@example.com"]}'
expect_error_mentions 'field "directory_url" contains a NUL character' "NUL in directory_url refused naming the field"
left_nothing config/acme-account nulacct
vault POST "$M/role/web/new-order" '{"identifiers":["www.example.com\u0000.evil.org"]}'
expect_error_mentions 'field "identifiers" contains a NUL character' "NUL inside an identifier refused (no order for the prefix)"
vault POST "$M/role/nulrole" '{"acme_account_name":"good","allowed_domains":"example.com\u0000.evil.org"}'
expect_error_mentions 'field "allowed_domains" contains a NUL' "NUL in allowed_domains refused"
left_nothing role nulrole
vault POST "$M/role/ctlrole" '{"acme_account_name":"good\u0007","allowed_domains":"example.com"}'
expect_error_mentions "U+0007" "BEL in a name refused"
vault POST "$M/role/nlrole" '{"acme_account_name":"good","allowed_domains":"example.com\nevil.org"}'
expect_error_mentions "U+000A" "line break in a one-line field refused"
vault POST "$M/role/web/new-order" '{"identifiers":"www.example.com","certificate_format":"der\u0000"}'
no5xx "certificate_format with NUL"
after "NUL/control characters"

########## item 2: PEM fields hold only what they are for ####################################
KEYPEM=$(cat "$E2E_TMP/h.key")
vault POST "$M/config/acme-account/keyca" "$(jq -nc --arg ca "$KEYPEM" --arg d "$ACME_DIR" \
    '{directory_url:$d, email_contacts:["a@example.com"], trusted_ca:$ca}')"
expect_error_mentions "holds a PRIVATE KEY block; only CERTIFICATE blocks" "private key as trusted_ca refused"
left_nothing config/acme-account keyca
vault PUT "$M/config/acme-account/good" "$(jq -nc --arg ca "$ACME_CA_PEM$KEYPEM" '{trusted_ca:$ca}')"
expect_error_mentions "PRIVATE KEY" "certificate + key bundle as trusted_ca update refused"
after "PEM fields"

########## item 8: limits ########################################################################
deep=$(printf '{"a":'; for _ in $(seq 1 400); do printf '['; done; for _ in $(seq 1 400); do printf ']'; done; printf '}')
vault POST "$M/role/deep" "$deep"
no5xx "JSON nested 400 deep"
[ "$STATUS" = 400 ] && printf '%s' "$BODY" | grep -q 'nested too deeply' \
    && ok "deep JSON: the message says it is too deep" || not_ok "deep JSON message: $BODY"
long=$(head -c 10000 /dev/zero | tr '\0' a)
vault GET "$M/role/$long"
expect_status 400 "10,000-character role name: 400, not 404"
vault POST "$M/config/acme-account/$long" '{"directory_url":"https://127.0.0.1:1/d","email_contacts":"a@example.com"}'
expect_status 400 "10,000-character account name on the lookahead pattern: 400"
mid=$(head -c 5000 /dev/zero | tr '\0' a)
vault GET "$M/config/acme-account/$mid"
expect_status 400 "5,000-character account name: 400 (over the framework's path limit)"
for n in 'a%2Fb' '..' 'a/../web' '%2e%2e'; do
    vault GET "$M/role/$n"; no5xx "role name '$n'"
done
vault POST "$M/role/web/new-order" '{"identifiers":"."}'
expect_error_mentions "is not a DNS name" "identifier '.' is not a DNS name"
printf '%s' "$BODY" | grep -q 'IP address' && not_ok "identifier '.' called an IP address" || ok "identifier '.' not called an IP address"
for v in 1.5 '"0x10"' true; do
    vault GET "$M/role/web/cached?min_validity_percentage=$(jq -rn --argjson v "$v" '$v')"
    [ "$STATUS" = 400 ] && ok "int field refuses $v" || not_ok "int field took $v: HTTP $STATUS $BODY"
done
vault POST "$M/role/enumrole" '{"acme_account_name":"good","allowed_domains":"example.com","csr_generate_key_type":"dsa-1024"}'
expect_status 400 "unknown enum value refused"
left_nothing role enumrole
vault GET "$M/role/web/cached?min_validity_duration=99999999999999999999h"
expect_status 400 "duration out of range refused"
seq 1 10000 | sed 's/.*/h&.example.com/' | paste -sd, - > "$E2E_TMP/ids"
jq -nc --rawfile i "$E2E_TMP/ids" '{identifiers:($i | rtrimstr("\n"))}' > "$E2E_TMP/ids.json"
vault POST "$M/role/web/new-order" "@$E2E_TMP/ids.json"
expect_error_mentions "at most 100 identifiers" "10,000 identifiers refused"
mails=$(seq 1 1000 | sed 's/.*/u&@example.com/' | jq -Rsc 'split("\n")[:-1]')
vault POST "$M/config/acme-account/manymail" "{\"directory_url\":\"https://127.0.0.1:$(port closed)/d\",\"email_contacts\":$mails}"
no5xx "1,000 email contacts"
left_nothing config/acme-account manymail
after "limits"

########## CSRs ###################################################################################
openssl req -new -newkey rsa:1024 -nodes -keyout /dev/null -subj /CN=www.example.com \
    -out "$E2E_TMP/weak.csr" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj /CN=www.example.com -out "$E2E_TMP/ok.csr" 2>/dev/null
sans=$(seq 1 500 | sed 's/.*/DNS:h&.example.com/' | paste -sd, -)
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
    -subj /CN=www.example.com -addext "subjectAltName=$sans" -out "$E2E_TMP/many.csr" 2>/dev/null
okcsr=$(cat "$E2E_TMP/ok.csr")
for c in "weak:$(cat "$E2E_TMP/weak.csr")" "500 SANs:$(cat "$E2E_TMP/many.csr")" \
         "truncated:${okcsr:0:200}" "garbage:not a csr at all" "two CSRs:$okcsr
$okcsr" "trailing text:$okcsr
junk"; do
    vault POST "$M/role/web/new-order" "$(jq -nc --arg c "${c#*:}" '{csr:$c}')"
    expect_status 400 "CSR ${c%%:*} refused"
done
after "CSRs"

########## huge bodies, invalid JSON and UTF-8 ####################################################
head -c 5000000 /dev/zero | tr '\0' a | jq -Rc '{acme_account_name:"good", allowed_domains:.}' > "$E2E_TMP/huge.json"
vault POST "$M/role/hugerole" "@$E2E_TMP/huge.json"
no5xx "5 MB field value"
head -c 52428800 /dev/zero | tr '\0' a > "$E2E_TMP/50mb"
vault POST "$M/role/fiftymb" "@$E2E_TMP/50mb"
# Over the host's request size limit the server answers 413 and closes the connection while
# curl is still sending: curl may then report the reset instead of the answer (seen once in
# CI under load). That is the server refusing, not failing, if it still answers afterwards.
if [ "$STATUS" = 000 ] && grep -qiE "reset|send failure|broken pipe" "$E2E_TMP/curl.err"; then
    vault GET "$M/role/good-after-50mb"
    case "$STATUS" in 4??) ok "50 MB body: connection closed by the server mid-upload, which answers the next request (HTTP $STATUS)" ;;
        *) not_ok "50 MB body: connection reset and the next request got HTTP $STATUS" ;; esac
else
    no5xx "50 MB body"
fi
left_nothing role fiftymb
rm -f "$E2E_TMP/50mb" "$E2E_TMP/huge.json"
vault POST "$M/role/badjson" '{"acme_account_name": "good", oops'
no5xx "invalid JSON"
left_nothing role badjson
printf '{"acme_account_name":"good","allowed_domains":"ex\xff\xfeample.com"}' > "$E2E_TMP/utf8.json"
vault POST "$M/role/badutf8" "@$E2E_TMP/utf8.json"
no5xx "invalid UTF-8"
after "bodies"

########## hostile CAs: every failure the CA's, named, never a 500 ##############################
ca_case() {   # ca_case MODE WORDS WHAT
    local mode=$1 words=$2 what=$3 name="h-$1" t0 t1
    t0=$(date +%s)
    vault POST "$M/config/acme-account/$name" "$(jq -nc --arg d "https://127.0.0.1:$(port "$mode")/dir" \
        --arg ca "$HOSTILE_CA" '{directory_url:$d, email_contacts:["a@example.com"], trusted_ca:$ca}')"
    t1=$(date +%s)
    if [ "$STATUS" = 400 ] && printf '%s' "$BODY" | grep -q "127.0.0.1:$(port "$mode")" &&
       printf '%s' "$BODY" | grep -qiE "$words"; then
        ok "$what: 400 naming the CA and the problem in $((t1 - t0)) s"
    else not_ok "$what: HTTP $STATUS $(printf '%.300s' "$BODY")"; fi
    left_nothing config/acme-account "$name"
}
ca_case closed "unreachable|refused" "closed port"
ca_case bigheader "headers are too large" "header over 100 KB"
ca_case bigbody "larger than" "50 MB body"
ca_case badjson "not a JSON object" "invalid JSON directory"
ca_case html 'Content-Type ."text/html." where RFC 8555 requires application/json' "HTML page as directory"
ca_case redirect "301|not a JSON|directory" "redirect"
ca_case slow "did not answer within 30 s" "1 byte per second"
ca_case ctdir 'Content-Type ."text/plain; charset=utf-8." where RFC 8555 requires application/json' "directory served as text/plain"
vault POST "$M/config/acme-account/plainhttp" '{"directory_url":"http://127.0.0.1:1/dir","email_contacts":"a@example.com"}'
expect_error_mentions "https://" "http:// directory_url refused"
after "hostile CAs"

########## wrong Content-Type in the order worker: the order ends in error, naming it ###########
vault POST "$M/config/acme-account/ctacct" "$(jq -nc --arg d "https://127.0.0.1:$(port ctorder)/dir" \
    --arg ca "$HOSTILE_CA" '{directory_url:$d, email_contacts:["a@example.com"], trusted_ca:$ca}')"
expect_status 200 "account at the CA whose newOrder reply is text/html"
vault POST "$M/role/ctrole" '{"acme_account_name":"ctacct","allowed_domains":["example.com"],"allowed_domain_options":["subdomains"]}'
expect_2xx "role for it"
new_order ctrole '{"identifiers":["www.example.com"]}'
if [ -n "$ORDER" ] && wait_status ctrole "$ORDER" error 60; then
    msg=$(last_error ctrole "$ORDER")
    printf '%s' "$msg" | grep -q "127.0.0.1:$(port ctorder)/order: the CA answered with Content-Type \"text/html\"" \
        && ok "newOrder answered as text/html: order in error naming the CA and the type" \
        || not_ok "order error does not name the CA and Content-Type: $msg"
else not_ok "order at the text/html CA: status ${LAST_STATUS:-none} (new-order HTTP $STATUS $BODY)"; fi
vault DELETE "$M/role/ctrole"
after "wrong Content-Type in the worker"

########## host cancellation: a client that gives up stops the CA exchange ######################
# The CA reads the request and never answers. curl gives up after 2 s; the host cancels the
# plugin call, and the plugin must drop the CA connection at once (the hang server logs the
# close), not at its 30 s bound, and store nothing.
rm -f "$E2E_TMP/ports.hang"
t0=$(now_ms)
curl -s -o /dev/null --max-time 2 -X POST -H "X-Vault-Token: $VAULT_TOKEN" \
    --data "$(jq -nc --arg d "https://127.0.0.1:$(port hang)/dir" --arg ca "$HOSTILE_CA" \
        '{directory_url:$d, email_contacts:["a@example.com"], trusted_ca:$ca}')" \
    "$VAULT_ADDR/v1/$M/config/acme-account/cancelled"
for _ in $(seq 1 200); do [ -s "$E2E_TMP/ports.hang" ] && break; sleep 0.1; done
if [ -s "$E2E_TMP/ports.hang" ]; then
    ms=$(( $(head -1 "$E2E_TMP/ports.hang") - t0 ))
    [ "$ms" -lt 20000 ] && ok "client gone after 2 s: the plugin closed its CA connection after $ms ms (its own bound: 30 s)" \
        || not_ok "CA connection closed only after $ms ms (the 30 s bound, not the cancellation)"
else not_ok "the plugin kept its CA connection open 20 s after the client went away"; fi
left_nothing config/acme-account cancelled
after "host cancellation"

########## item 5: a black hole does not starve reads, nor another mount's CA calls ##############
# A second mount of the plugin (the same process when the host multiplexes) gets 12 account
# creates against a black hole: more than the 6 threads of the remote lane. Meanwhile the
# first mount's account create at Pebble must answer at once (the lane holds at most 3 calls
# of one mount), and reads of the busy mount must not wait.
BM=$M-bh
host_mount "$BM" pki-external-ca || not_ok "mount $BM"
vault LIST "$BM/config/acme-account" >/dev/null
echo "# plugin processes with two mounts: $(plugin_pids)"
BH="https://127.0.0.1:$(port blackhole)/dir"
for i in $(seq 1 12); do
    curl -s -o "$E2E_TMP/bh.$i" -w '%{http_code}\n' -X POST -H "X-Vault-Token: $VAULT_TOKEN" \
        --data "$(jq -nc --arg d "$BH" --arg ca "$HOSTILE_CA" '{directory_url:$d, email_contacts:["a@example.com"], trusted_ca:$ca}')" \
        "$VAULT_ADDR/v1/$BM/config/acme-account/bh$i" > "$E2E_TMP/bh.$i.code" &
    BH_PIDS+=($!)
done
sleep 2
t0=$(now_ms)
vault POST "$M/config/acme-account/fair" "$(jq -n --arg d "$ACME_DIR" --arg ca "$ACME_CA_PEM" \
    '{directory_url:$d, email_contacts:["a@example.com"], trusted_ca:$ca}')"
ms=$(( $(now_ms) - t0 ))
# Starved, it would wait for a black-hole call's 10 s connect bound at least.
[ "$STATUS" = 200 ] && [ "$ms" -lt 8000 ] \
    && ok "account create at Pebble on mount $M answered in $ms ms while $BM had 12 black-hole creates in flight" \
    || not_ok "account create on $M during $BM's black-hole burst: HTTP $STATUS after $ms ms $(printf '%.200s' "$BODY")"
# 10 reads while the creates wait on the black hole (each up to its bound). The median must
# be under 100 ms; every read under 1 s (a read stuck behind CA I/O would take tens of
# seconds; single outliers of a few hundred ms are this shared machine's scheduler).
times=()
for _ in $(seq 1 10); do
    t=$(curl -s -o /dev/null -w '%{time_total}' -H "X-Vault-Token: $VAULT_TOKEN" "$VAULT_ADDR/v1/$BM/config/acme-account?list=true")
    times+=("$(awk -v t="$t" 'BEGIN {printf "%d", t * 1000}')")
    sleep 0.3
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n | tr '\n' ' ')
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 5p)
worst=$(printf '%s\n' "${times[@]}" | sort -n | tail -1)
[ "$median" -lt 100 ] && [ "$worst" -lt 1000 ] \
    && ok "12 account creates against a black hole: reads of that mount answered in a median $median ms (ms: $sorted)" \
    || not_ok "reads waited behind the black hole: ms $sorted"
for p in "${BH_PIDS[@]}"; do wait "$p"; done
codes=$(cat "$E2E_TMP"/bh.*.code | sort | uniq -c | tr '\n' ' ')
if grep -qE '^5' "$E2E_TMP"/bh.*.code; then
    # a request that waited past its deadline behind the others is the host's 5xx timeout only
    if grep -l '^5' "$E2E_TMP"/bh.*.code | sed 's/\.code$//' | xargs cat | grep -qv 'deadline'; then
        not_ok "black-hole creates: a 5xx other than a deadline: $codes"
    else ok "black-hole creates: answered ($codes; 5xx only for requests past their deadline)"; fi
else ok "black-hole creates all answered with client errors ($codes)"; fi
grep -h 'did not answer\|TLS handshake\|timed out' "$E2E_TMP"/bh.[0-9]* | head -1 | sed 's/^/# /'
vault LIST "$BM/config/acme-account"
printf '%s' "$BODY" | jq -e '(.data.keys // []) | map(select(startswith("bh"))) | length == 0' >/dev/null \
    && ok "no black-hole account was stored" || not_ok "black-hole accounts stored: $BODY"
# Two mounts of one plugin give duplicate operationIds in the host's document, in Vault as
# here (generators use generic_mount_paths): the OpenAPI checks below see one mount.
vault DELETE "sys/mounts/$BM"
after "black hole"

########## no reply of any read path carries a private key ######################################
sweep_bad=0 sweep_n=0
check_reply() {
    sweep_n=$((sweep_n + 1))
    if printf '%s' "$BODY" | grep -q 'PRIVATE KEY'; then
        sweep_bad=$((sweep_bad + 1)); echo "# PRIVATE KEY in GET $1"
    fi
}
for base in config/acme-account role; do
    vault LIST "$M/$base"; check_reply "$base"
    for k in $(printf '%s' "$BODY" | jq -r '(.data.keys // [])[]'); do
        vault GET "$M/$base/$k"; check_reply "$base/$k"
    done
done
for p in lookup/orders lookup/orders/recent role/web/active-orders role/web/cached; do
    vault GET "$M/$p"; check_reply "$p"
done
vault GET "$M/?help=1"; check_reply "help"
[ "$sweep_bad" -eq 0 ] && ok "no PRIVATE KEY block in $sweep_n read replies" \
    || not_ok "$sweep_bad of $sweep_n read replies held a PRIVATE KEY block"

########## item 7: the OpenAPI document as the host serves it ####################################
vault GET "sys/internal/specs/openapi"
printf '%s' "$BODY" > "$E2E_TMP/openapi.json"
if [ -x "$VALIDATOR" ] && out=$("$VALIDATOR" "$E2E_TMP/openapi.json" 2>&1); then
    ok "the host's OpenAPI document passes openapi-spec-validator"
else not_ok "OpenAPI document invalid: $(printf '%s' "${out:-}" | tail -3)"; fi
# What generators need beyond the validator: declared path parameters, unique operationIds,
# patterns that compile as ECMA-262 (Unicode mode; "[\w-.]" does not, and generators
# dropped the pattern of the 13 role/{name}/... operations for it) and accept real names.
e2e_require node "apt-get install nodejs"
if out=$(python3 "$HERE/oas_check.py" --sample name=my-role.v2_9 "$E2E_TMP/openapi.json" 2>&1); then
    ok "generator checks of the OpenAPI document: $(printf '%s' "$out" | tail -1 | sed 's/^# //')"
else not_ok "generator checks of the OpenAPI document: $(printf '%s' "$out" | head -5 | tr '\n' ';')"; fi
printf '%s' "$BODY" | jq -e --arg m "/$M/role/{name}" '.paths[$m].post.requestBody.content["application/json"].schema.properties | length > 0' >/dev/null \
    && ok "request bodies survive the host's merge (inline schema)" \
    || not_ok "role request body schema empty in the host's document"

[ "$RELAUNCHES" -eq 0 ] && ok "plugin never relaunched during the attacks" \
    || not_ok "plugin relaunched $RELAUNCHES times"
e2e_finish
