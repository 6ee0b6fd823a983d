#!/usr/bin/env bash
# Throughput with 1 UDP socket on 1 core against 2 sockets on 2 cores (cache hits, then unique-name misses), 3 runs
# each of 8 s. dnsperf is not pinned: on a 2-core machine it shares the cores with the server, so the ratio is a floor.
#   bench/load/scaling.sh
set -euo pipefail
source "$(dirname "$0")/upstream.sh"
awk 'BEGIN { for (i = 0; i < 2000; i++) printf "h%d.miss.example.test A\n", i }' > "$WORK/hits"
for setup in "1 1" "2 0,1"; do
  read -r sockets cpus <<< "$setup"
  for run in 1 2 3; do
    taskset -c "$cpus" "$NODEDNS" --listen 127.0.0.1:5397 --upstream 127.0.0.1:$UPSTREAM_PORT --metrics off \
      --log-level warning --udp-sockets "$sockets" 2>/dev/null &
    NODEDNS_PID=$!
    sleep 2
    dnsperf -s 127.0.0.1 -p 5397 -d "$WORK/hits" -l 2 -c 8 -q 200 >/dev/null   # fills the cache
    t0=$(cpu_ticks $NODEDNS_PID)
    hit=$(dnsperf -s 127.0.0.1 -p 5397 -d "$WORK/hits" -l 8 -c 8 -q 200 | awk '/Queries per second/ { print int($4) }')
    t1=$(cpu_ticks $NODEDNS_PID)
    unique_names "$WORK/misses" 600000 s
    miss=$(dnsperf -s 127.0.0.1 -p 5397 -d "$WORK/misses" -n 1 -l 8 -c 8 -q 200 -t 2 | awk '/Queries per second/ { print int($4) }')
    echo "sockets=$sockets cpus=$cpus run=$run hit_qps=$hit hit_cpu_us_per_q=$(awk -v t=$((t1 - t0)) -v q="$hit" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz * 1e6 / (q * 8) }') miss_qps=$miss"
    kill $NODEDNS_PID; wait $NODEDNS_PID 2>/dev/null || true
    NODEDNS_PID=
  done
done
