#!/usr/bin/env bash
# Node-local autopath under dnsperf: server CPU per external lookup made by a pod with ndots:5, with autopath (the pod
# sends A and AAAA of the first expansion) and without (A and AAAA for three cluster expansions and the name itself).
# The client address 127.0.0.1 is a pod of the node (namespace qa) for a fake API server; NSD on loopback
# (upstream.sh) answers *.ext.example.test and NXDOMAIN under cluster.local. Every run is bounded by --duration (default 10 s).
#   bench/load/autopath.sh [--duration S] [--names N]
set -euo pipefail
duration=10; names=200
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2;;
    --names) names=$2; shift 2;;
    *) echo "usage: $0 [--duration S] [--names N]" >&2; exit 2;;
  esac
done
source "$(dirname "$0")/upstream.sh"

# The API server: one pod, 127.0.0.1 in namespace qa; the watch stays open and quiet.
cat > "$WORK/api.py" <<'PY'
import http.server, json, time
POD = {"metadata": {"name": "bench", "namespace": "qa", "uid": "u1", "resourceVersion": "5"},
       "spec": {"nodeName": "bench", "dnsPolicy": "ClusterFirst"}, "status": {"podIP": "127.0.0.1", "podIPs": [{"ip": "127.0.0.1"}]}}
class Api(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.end_headers()
        if "watch=true" in self.path:
            time.sleep(3600)
        else:
            self.wfile.write(json.dumps({"kind": "PodList", "metadata": {"resourceVersion": "5"}, "items": [POD]}).encode())
http.server.ThreadingHTTPServer(("127.0.0.1", 18443), Api).serve_forever()
PY
python3 "$WORK/api.py" & PIDS+=($!)
printf 'apiVersion: v1\nkind: Config\nclusters:\n- name: b\n  cluster:\n    server: http://127.0.0.1:18443\nusers:\n- name: b\n  user:\n    token: t\ncontexts:\n- name: b\n  context:\n    cluster: b\n    user: b\ncurrent-context: b\n' > "$WORK/kubeconfig"
: > "$WORK/host-resolv.conf"

# Query files: what a pod sends for each lookup, with and without autopath.
for i in $(seq "$names"); do
  n="h$i.ext.example.test"
  printf '%s.qa.svc.cluster.local A\n%s.qa.svc.cluster.local AAAA\n' "$n" "$n" >> "$WORK/with"
  for s in qa.svc.cluster.local svc.cluster.local cluster.local; do printf '%s.%s A\n%s.%s AAAA\n' "$n" "$s" "$n" "$s" >> "$WORK/without"; done
  printf '%s A\n%s AAAA\n' "$n" "$n" >> "$WORK/without"
done

run() { # $1 autopath on|off, $2 query file, $3 queries per lookup
  "$NODEDNS" --listen 127.0.0.1:5397 --upstream 127.0.0.1:$UPSTREAM_PORT --metrics 127.0.0.1:9397 --log-level warning \
    --kubeconfig "$WORK/kubeconfig" --node-name bench --host-resolv-conf "$WORK/host-resolv.conf" --autopath "$1" --udp-sockets 1 & local pid=$!
  PIDS+=($pid)
  for _ in $(seq 100); do curl -sf 127.0.0.1:9397/metrics | grep -q '^nodedns_pod_watch_pods 1' && break; sleep 0.1; done
  dnsperf -s 127.0.0.1 -p 5397 -d "$WORK/$2" -l 2 -c 1 -q 50 > /dev/null 2>&1 # warm the cache
  local before after out
  before=$(cpu_ticks "$pid")
  out=$(dnsperf -s 127.0.0.1 -p 5397 -d "$WORK/$2" -l "$duration" -c 4 -q 100 2>&1)
  after=$(cpu_ticks "$pid")
  local completed ticks
  completed=$(echo "$out" | awk '/Queries completed:/ {print $3}')
  ticks=$(getconf CLK_TCK)
  awk -v a="$1" -v c="$completed" -v q="$3" -v t="$((after - before))" -v hz="$ticks" 'BEGIN {
    lookups = c / q; printf "autopath %-3s  %d queries per lookup  %.0f lookups/s  server CPU %.1f us per lookup\n", a, q, lookups / '"$duration"', t / hz * 1e6 / lookups }'
  curl -s 127.0.0.1:9397/metrics | grep -E '^nodedns_autopath_answers_total' || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
}
run on with 2
run off without 8
