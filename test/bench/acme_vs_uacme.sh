#!/usr/bin/env bash
# test/bench/acme_vs_uacme.sh [N]: N (default 20) sequential http-01 orders against one Pebble
# (PEBBLE_VA_NOSLEEP=1, started by test/lib/pebble.sh), first with this client
# (test/bench/acme_orders.c), then with Debian's uacme; prints both totals.
#
# uacme trusts only the system CA store (libcurl-gnutls, no CA option), so it runs in a
# private mount namespace (unshare -m, needs root) where the system bundle is bind-mounted
# over by one that also holds Pebble's test CA. Nothing outside that namespace changes.
set -eu
cd "$(dirname "$0")/../.."
N=${1:-20}
BUILD=${BUILD:-build}
export PEBBLE_VA_NOSLEEP=1

# The driver: built here against the layer libraries (no Makefile target for bench drivers).
make -s BUILD="$BUILD" "$BUILD/libacme.a" "$BUILD/libcrypto.a" "$BUILD/libcommon.a" >/dev/null
mkdir -p "$BUILD/bench"
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Wno-unused-parameter -Iinclude \
   $(pkg-config --cflags libcurl libcjson openssl) -o "$BUILD/bench/acme_orders" \
   test/bench/acme_orders.c "$BUILD/libacme.a" "$BUILD/libcrypto.a" "$BUILD/libcommon.a" \
   $(pkg-config --libs libcurl libcjson openssl) -lpthread -lcmocka

command -v uacme >/dev/null || { echo "acme_vs_uacme: uacme not installed (apt-get install uacme)" >&2; exit 1; }

source test/lib/pebble.sh
pebble_start

# ---- this client
t0=$(date +%s.%N)
"$BUILD/bench/acme_orders" "$N"
t1=$(date +%s.%N)
ours=$(echo "$t1 - $t0" | bc)

# ---- uacme
U=$PEBBLE_TMP/uacme
source test/bench/uacme_lib.sh
uacme_prepare "$U" "$N" "ubench-$$"
t0=$(date +%s.%N)
if ! unshare -m "$U/run.sh"; then
    echo "acme_vs_uacme: uacme failed:" >&2; tail -n 20 "$U/uacme.err" >&2; exit 1
fi
t1=$(date +%s.%N)
theirs=$(echo "$t1 - $t0" | bc)
issued=$(ls "$U/conf"/ubench-*/cert.pem 2>/dev/null | wc -l)
[ "$issued" -eq "$N" ] || { echo "acme_vs_uacme: uacme issued $issued of $N" >&2; exit 1; }

printf 'acme_vs_uacme: %d sequential http-01 orders, Pebble PEBBLE_VA_NOSLEEP=1\n' "$N"
printf '  this client (libacme)  %6.2f s\n' "$ours"
printf '  uacme %s           %6.2f s\n' "$(uacme -V 2>&1 | head -1 | awk '{print $3}')" "$theirs"
