#!/usr/bin/env bash
# Unpacks Debian's arm64 libc6 and libssl3 (the libraries the runtime image gives nodedns) into DIR, a root for
# qemu-aarch64-static -L. Adds arm64 to dpkg's architectures so that apt can download them; installs nothing.
# Usage: tests/tools/arm64-root.sh DIR
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
[ -e "$dir/usr/lib/aarch64-linux-gnu/libssl.so.3" ] && exit 0
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
  apt-get update -qq
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 0777 "$work" # apt downloads as the _apt user
(cd "$work" && apt-get download -qq libc6:arm64 libssl3:arm64)
mkdir -p "$dir"
for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$dir"; done
echo "arm64-root: $dir"
