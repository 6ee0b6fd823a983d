#!/usr/bin/env bash
# Garbage-collection pauses under the mixed workload (9 cached names in 10, a unique miss every 10th query) at a fixed
# rate: the distribution of nodedns_gc_pause_duration_seconds and the pause total after one bounded dnsperf run.
#   bench/load/gc-pauses.sh [qps] [seconds]        defaults: 20000 q/s for 60 s
set -euo pipefail
source "$(dirname "$0")/upstream.sh"
qps=${1:-20000}
seconds=${2:-60}
taskset -c 1 "$NODEDNS" --listen 127.0.0.1:5397 --upstream 127.0.0.1:$UPSTREAM_PORT --metrics 127.0.0.1:9397 \
  --log-level warning --cache-size 200000 2>/dev/null &
NODEDNS_PID=$!
sleep 2
# Enough unique names for the whole run; the 90 % hits cycle over 9 names warmed up first.
unique_names "$WORK/misses" $((qps * seconds / 10 + 1000)) g
for i in $(seq 9); do echo "hot$i.ext.example.test A"; done > "$WORK/hot"
dnsperf -s 127.0.0.1 -p 5397 -d "$WORK/hot" -n 2 >/dev/null
awk 'NR == FNR { hot[n++] = $0; next } { for (i = 0; i < 9; i++) print hot[i]; print }' "$WORK/hot" "$WORK/misses" > "$WORK/mixed"
curl -s 127.0.0.1:9397/metrics > "$WORK/before"
taskset -c 0 dnsperf -s 127.0.0.1 -p 5397 -d "$WORK/mixed" -n 1 -l "$seconds" -Q "$qps" -c 4 -q 500 -t 2 \
  | grep -E "Queries (completed|lost)|Average Latency"
curl -s 127.0.0.1:9397/metrics > "$WORK/after"
echo "during the run:"
awk 'NR == FNR { before[$1] = $2; next }
  /^nodedns_gc_pause_duration_seconds_bucket/ { match($0, /le="[^"]*"/); le = substr($0, RSTART + 4, RLENGTH - 5); printf "  pauses <= %s s: %d\n", le, $2 - before[$1] }
  /^nodedns_gc_pause_seconds_total/ { printf "  paused in all: %.3f s\n", $2 - before[$1] }
  /^nodedns_gc_collections_unseen_total/ { printf "  collections not seen: %d\n", $2 - before[$1] }
  /^coredns_cache_misses_total/ { misses += $2 - before[$1] }
  /^nodedns_gc_allocated_bytes_total/ { allocated = $2 - before[$1] }
  END { if (misses > 0) printf "  allocated: %.1f MB, %.0f B per miss (%d misses)\n", allocated / 1e6, allocated / misses, misses }' "$WORK/before" "$WORK/after"
