#!/usr/bin/env bash
# The cache under churn: 300,000 queries at 20k q/s over 20,000 names of about 30 lengths (answers of many block
# sizes) into a 1 MiB budget, so blocks are evicted and chunks carved for other sizes all the time. Prints what was
# lost, the cache's counters and nodedns_internal_errors_total (must stay 0). Bounded: one dnsperf pass.
#   bench/load/churn.sh
set -euo pipefail
source "$(dirname "$0")/upstream.sh"
"$NODEDNS" --listen 127.0.0.1:5396 --upstream 127.0.0.1:$UPSTREAM_PORT --metrics 127.0.0.1:9396 --log-level warning \
  --cache-size 1000000 --cache-memory 1Mi 2>/dev/null &
NODEDNS_PID=$!
sleep 2
awk 'BEGIN { srand(7); for (i = 0; i < 300000; i++) { n = int(rand() * 20000); s = ""; for (j = (n * 13) % 55; j >= 0; j--) s = s "x"; printf "%s%d.miss.example.test A\n", s, n } }' > "$WORK/names"
dnsperf -s 127.0.0.1 -p 5396 -d "$WORK/names" -n 1 -Q 20000 -c 4 -q 500 -t 2 | grep -E "Queries (completed|lost)"
curl -s 127.0.0.1:9396/metrics | grep -E '^nodedns_(internal_errors_total|cache_bytes|cache_chunk_bytes) |^coredns_cache_(entries|evictions_total|hits_total)\{.*success'
echo "RSS: $(awk '/VmRSS/ { printf "%.1f MiB", $2 / 1024 }' /proc/$NODEDNS_PID/status)"
