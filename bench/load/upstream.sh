# Sourced by the bench/load scripts: publishes NodeDns (NODEDNS=path runs another binary instead, e.g. an older
# commit's, for a paired comparison) and starts NSD on 127.0.0.1:$UPSTREAM_PORT with example.test,
# whose wildcards answer every unique name (*.miss.example.test) and external names (*.ext.example.test), and an empty
# cluster.local (NXDOMAIN for search-list expansions). Everything stops when the script exits: NodeDns
# ($NODEDNS_PID), any process the script adds to PIDS, and NSD.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
UPSTREAM_PORT=${UPSTREAM_PORT:-5399}
command -v nsd >/dev/null 2>&1 || [ -x /usr/sbin/nsd ] || { echo "bench/load: nsd is needed (apt install nsd)" >&2; exit 1; }
command -v dnsperf >/dev/null 2>&1 || { echo "bench/load: dnsperf is needed (apt install dnsperf)" >&2; exit 1; }
dotnet publish src/NodeDns -c Release -o artifacts/bench-nodedns --nologo -v quiet
NODEDNS=${NODEDNS:-$PWD/artifacts/bench-nodedns/nodedns}
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  [ -n "${NODEDNS_PID:-}" ] && kill "$NODEDNS_PID" 2>/dev/null
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [ -f "$WORK/nsd.pid" ]; then
    local nsd_pid
    nsd_pid=$(cat "$WORK/nsd.pid")
    kill "$nsd_pid" 2>/dev/null
    for _ in $(seq 20); do kill -0 "$nsd_pid" 2>/dev/null || break; sleep 0.1; done # NSD writes its state as it exits
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
cat > "$WORK/example.zone" <<ZONE
\$ORIGIN example.test.
\$TTL 300
@ IN SOA ns1 hostmaster 1 3600 600 86400 60
@ IN NS ns1
ns1 IN A 127.0.0.1
*.miss IN A 192.0.2.99
*.ext IN A 192.0.2.7
ZONE
printf '$ORIGIN cluster.local.\n$TTL 30\n@ IN SOA ns hostmaster 1 7200 1800 86400 30\n@ IN NS ns\nns IN A 127.0.0.1\n' > "$WORK/cluster.zone"
cat > "$WORK/nsd.conf" <<CONF
server:
  ip-address: 127.0.0.1@$UPSTREAM_PORT
  username: ""
  chroot: ""
  zonesdir: "$WORK"
  database: ""
  zonelistfile: "$WORK/zone.list"
  pidfile: "$WORK/nsd.pid"
  xfrdfile: "$WORK/xfrd.state"
  xfrdir: "$WORK"
  logfile: "$WORK/nsd.log"
  server-count: 1
  rrl-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: example.test
  zonefile: example.zone
zone:
  name: cluster.local
  zonefile: cluster.zone
CONF
taskset -c 0 nsd -c "$WORK/nsd.conf"

# unique_names FILE COUNT PREFIX: COUNT names no cache has seen, under the wildcard.
unique_names() {
  awk -v n="$2" -v p="$3$RANDOM$RANDOM" 'BEGIN { for (i = 0; i < n; i++) printf "%s-%d.miss.example.test A\n", p, i }' > "$1"
}

# cpu_ticks PID: user+system clock ticks of a process so far.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
