# test/dns/aws_chain.sh (sourced by test/dns/run.sh, last): the rest of the AWS credential
# chain, for the provider "chain" (no keys configured). The plugin takes its environment
# from the host (test/lib/host.sh runs it under env -i + HOST_SERVER_ENV), so each case
# restarts the host on the same state with another environment, without AWS_ACCESS_KEY_ID:
#   1. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE) with AWS_PROFILE choosing
#      a profile over [default], whose secret is wrong (moto would refuse it);
#      (and Google's ADC file, GOOGLE_APPLICATION_CREDENTIALS, for google-cloud-dns);
#   2. IMDSv2: a test-side metadata service (test/dns/imds.py) at
#      AWS_EC2_METADATA_SERVICE_ENDPOINT, asked with a session token.

AWS_BASE_ENV="AWS_ENDPOINT_URL_ROUTE_53=$MOTO_URL AWS_ENDPOINT_URL_STS=$MOTO_URL"
chain_workflow() {   # WHAT
    vault POST "$M/dns/test/workflow" '{"identifier":"wf-chain2.r53.test","provider_type":"aws-route53","provider_name":"chain"}'
    expect_true '.data.success == true' "route53 workflow, credentials from $1"
    [ -z "$(moto_txt _acme-challenge.wf-chain2.r53.test)" ] && ok "$1: record deleted from Route 53" \
        || not_ok "$1: record left in Route 53"
}

umask 077
cat > "$E2E_TMP/aws-credentials" <<CREDS
[default]
aws_access_key_id = $AWS_ACCESS_KEY_ID
aws_secret_access_key = wrong-secret-of-the-default-profile

# the profile the plugin is told to use
[ vault-dns ]
aws_access_key_id=$AWS_ACCESS_KEY_ID
aws_secret_access_key = $AWS_SECRET_ACCESS_KEY
CREDS
# Google's Application Default Credentials file rides along on this restart: the provider
# "vm" (no credentials, test/dns/cloud.sh) must now take the file, not the metadata server.
HOST_SERVER_ENV="$AWS_BASE_ENV AWS_EC2_METADATA_DISABLED=true AWS_SHARED_CREDENTIALS_FILE=$E2E_TMP/aws-credentials AWS_PROFILE=vault-dns $CL_ENV GOOGLE_APPLICATION_CREDENTIALS=$CL_DIR/writer.json"
host_restart || not_ok "host restart (shared credentials file): $(tail -3 "$HOST_LOG")"
chain_workflow "the shared credentials file, AWS_PROFILE=vault-dns"
GMD0=$(cloud_stats .metadata); GTK0=$(cloud_stats .token)
vault POST "$M/dns/test/workflow" '{"identifier":"vm.gc.test","provider_type":"google-cloud-dns","provider_name":"vm"}'
expect_jq .data.success true "google: workflow with the ADC file (GOOGLE_APPLICATION_CREDENTIALS)"
[ "$(cloud_stats .metadata)" = "$GMD0" ] && [ "$(cloud_stats .token)" -gt "$GTK0" ] \
    && ok "google: the ADC file's key was used, not the metadata server" \
    || not_ok "google ADC: metadata $GMD0 -> $(cloud_stats .metadata), token $GTK0 -> $(cloud_stats .token)"

: > "$E2E_TMP/imds.port"
"$PY" test/dns/imds.py "$E2E_TMP/imds.port" "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$E2E_TMP/imds.log" 2>&1 &
IMDS_PID=$!
for _ in $(seq 1 50); do [ -s "$E2E_TMP/imds.port" ] && break; sleep 0.1; done
HOST_SERVER_ENV="$AWS_BASE_ENV AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$(cat "$E2E_TMP/imds.port")"
host_restart || not_ok "host restart (IMDSv2): $(tail -3 "$HOST_LOG")"
chain_workflow "the instance profile (IMDSv2)"
if head -1 "$E2E_TMP/imds.log" | grep -q '^PUT /latest/api/token token=ok' &&
    ! grep -q 'token=missing' "$E2E_TMP/imds.log" &&
    grep -q '^GET /latest/meta-data/iam/security-credentials/vault-dns-profile token=ok' "$E2E_TMP/imds.log"; then
    ok "IMDSv2: a session token first, then the profile's credentials asked with it"
else not_ok "IMDSv2 requests: $(tr '\n' ';' < "$E2E_TMP/imds.log")"; fi
kill "$IMDS_PID" 2>/dev/null; wait "$IMDS_PID" 2>/dev/null; IMDS_PID=
