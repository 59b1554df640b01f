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
    libcjson-dev libpcre2-dev
    libcmocka-dev
    pebble
    jq uacme procps iproute2
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
