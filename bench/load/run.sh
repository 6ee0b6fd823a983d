#!/usr/bin/env bash
# Side-by-side load test: NodeDns next to unbound and dnsdist (and the harness's no-cache "ceiling" responder)
# under dnsperf on loopback, through bench/harness/anchors.sh. Every run is bounded by --duration.
#   bench/load/run.sh [anchors.sh options]        e.g. --runs 5 --duration 15
# Builds NodeDns first; needs root for --isolate (a private network namespace) and the packages of
# bench/harness/setup.sh. The report's path is printed at the end. NodeDns gets --cache-size 100000, the size of
# dnsdist's packet cache in the harness (unbound's is 128 MiB of messages): with the default 10,000 entries the
# mixed workload's misses evict its hit names, and some "hits" it measures are really misses.
set -euo pipefail
cd "$(dirname "$0")/../.."
harness=bench/harness
"$harness/setup.sh" >/dev/null
dotnet publish src/NodeDns -c Release -o artifacts/bench-nodedns --nologo -v quiet
binary=$PWD/artifacts/bench-nodedns/nodedns
exec "$harness/anchors.sh" --isolate --only ceiling,unbound,dnsdist,nodedns \
  --cmd "nodedns=$binary --listen 127.0.0.1:{PORT} --upstream {UPSTREAM} --metrics off --log-level warning --cache-size 100000" "$@"
