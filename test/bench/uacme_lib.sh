# test/bench/uacme_lib.sh: sourced by the benchmarks that time Debian's uacme against the
# same Pebble as our client. Needs PEBBLE_DIR_URL, PEBBLE_CA_PEM and CHALLTESTSRV_URL from
# test/lib/pebble.sh.
#
# uacme_prepare DIR N PREFIX: writes DIR/run.sh, which registers an account and issues N
# certificates for PREFIX-<i>.example.com over http-01 (the hook publishes tokens through
# challtestsrv); certificates land in DIR/conf, errors in DIR/uacme.err. uacme trusts only
# the system CA store, so run.sh bind-mounts a bundle that also holds Pebble's CA over it:
# run it under `unshare -m` (root) so nothing outside that private namespace changes.
uacme_prepare() {
    local dir=$1 n=$2 prefix=$3
    mkdir -p "$dir/conf"
    cat /etc/ssl/certs/ca-certificates.crt "$PEBBLE_CA_PEM" > "$dir/bundle.pem"
    cat > "$dir/hook.sh" <<HOOK
#!/bin/sh
# uacme hook: method type ident token auth. Only http-01, through challtestsrv.
[ "\$2" = http-01 ] || exit 1
case "\$1" in
begin) curl -sf -X POST -d "{\"token\":\"\$4\",\"content\":\"\$5\"}" "$CHALLTESTSRV_URL/add-http01" >/dev/null ;;
*)     curl -sf -X POST -d "{\"token\":\"\$4\"}" "$CHALLTESTSRV_URL/del-http01" >/dev/null ;;
esac
HOOK
    cat > "$dir/run.sh" <<RUN
#!/bin/sh
set -e
mount --bind "$dir/bundle.pem" /etc/ssl/certs/ca-certificates.crt
uacme -y -t EC -o -a "$PEBBLE_DIR_URL" -c "$dir/conf" new >/dev/null 2>"$dir/uacme.err"
i=0
while [ \$i -lt $n ]; do
    uacme -t EC -o -a "$PEBBLE_DIR_URL" -c "$dir/conf" -h "$dir/hook.sh" \\
        issue "$prefix-\$i.example.com" >/dev/null 2>>"$dir/uacme.err"
    i=\$((i + 1))
done
RUN
    chmod +x "$dir/hook.sh" "$dir/run.sh"
}
