#!/usr/bin/env bash
# Publishes the Native AOT nodedns binary for one Linux architecture, natively or cross-compiled.
# Usage: deploy/publish.sh RID OUTDIR      RID: linux-x64 or linux-arm64
# Installs what the build needs with apt when it is missing (clang; for another architecture, Debian's cross
# binutils, gcc and libc for it). The .NET runtime pack and ILCompiler package for the RID come from NuGet
# through the normal restore. Leaves OUTDIR/nodedns (stripped) and nothing else there.
set -euo pipefail

usage() { echo "usage: $0 linux-x64|linux-arm64 OUTDIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
rid=$1
out=$2
case "$rid" in
  linux-x64) triple=x86_64-linux-gnu; target_machine=x86_64 ;;
  linux-arm64) triple=aarch64-linux-gnu; target_machine=aarch64 ;;
  *) echo "publish: unknown RID '$rid'" >&2; usage ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)

packages=()
command -v clang >/dev/null 2>&1 || packages+=(clang)
if [ "$(uname -m)" != "$target_machine" ]; then
  # Cross-linking: clang targets $triple and takes crt files, libgcc and libc from Debian's cross packages.
  cross=${triple//_/-}
  command -v "$triple-objcopy" >/dev/null 2>&1 || packages+=("binutils-$cross")
  command -v "$triple-gcc" >/dev/null 2>&1 || packages+=("gcc-$cross")
  [ -e "/usr/$triple/lib/libc.so" ] || packages+=("libc6-dev-$( [ "$rid" = linux-arm64 ] && echo arm64 || echo amd64 )-cross")
fi
if [ ${#packages[@]} -gt 0 ]; then
  echo "publish: installing ${packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# Intermediate files go to their own folder per RID, so a cross publish never mixes with the host's build.
mkdir -p "$out"
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
dotnet publish "$root/src/NodeDns" -c Release -r "$rid" -o "$staging" --nologo -v quiet \
  --artifacts-path "$root/artifacts/publish-$rid"
install -m 0755 "$staging/nodedns" "$out/nodedns"
echo "publish: $out/nodedns ($rid)"
