#!/usr/bin/env bash
# RSS of NodeDns holding 100,000 cached answers: 100k unique names at 15k q/s into --cache-size 120000, then the
# RSS once the burst is over (once the memory trimmer saw the burst end). Bounded: one dnsperf pass over the names.
#   bench/load/memory.sh [entries]
set -euo pipefail
source "$(dirname "$0")/upstream.sh"
entries=${1:-100000}
taskset -c 1 "$NODEDNS" --listen 127.0.0.1:5398 --upstream 127.0.0.1:$UPSTREAM_PORT --metrics 127.0.0.1:9398 \
  --log-level warning --cache-size $((entries * 6 / 5)) 2>/dev/null &
NODEDNS_PID=$!
sleep 2
echo "RSS at start: $(awk '/VmRSS/ { printf "%.1f MiB", $2 / 1024 }' /proc/$NODEDNS_PID/status)"
unique_names "$WORK/names" "$entries" m
taskset -c 0 dnsperf -s 127.0.0.1 -p 5398 -d "$WORK/names" -n 1 -Q 15000 -c 4 -q 200 -t 3 | grep -E "Queries (completed|lost)"
echo "RSS right after: $(awk '/VmRSS/ { printf "%.1f MiB", $2 / 1024 }' /proc/$NODEDNS_PID/status)"
sleep 25
cached=$(curl -s 127.0.0.1:9398/metrics | awk '/^coredns_cache_entries/ { s += $2 } END { print s }')
echo "cached entries: $cached; RSS 25 s later: $(awk '/VmRSS/ { printf "%.1f MiB", $2 / 1024 }' /proc/$NODEDNS_PID/status)"
