#!/usr/bin/env bash
# Runs edubot's Redis tests against a real Redis Cluster (3 masters, 3
# replicas) and a real Sentinel setup (1 master, 1 replica, 3 sentinels),
# all on loopback from Debian's redis-server; then the end-to-end tests
# (internal/e2e, build tag e2e): three edubot processes behind a
# round-robin proxy, and a master failed over and killed under load, on
# each topology. Everything it starts is stopped on exit, also on failure.
#
# Ports: EDUBOT_CLUSTER_PORT_BASE (default: a free block of 40 is picked).
# Called by scripts/test.sh (make test); `make test-cluster` runs it alone.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

for bin in redis-server redis-cli; do
  command -v "$bin" >/dev/null || { echo "test-cluster: $bin not found (scripts/test.sh installs it)" >&2; exit 1; }
done

dir=$(mktemp -d)
cleanup() {
  local rc=$?
  for f in "$dir"/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f")
    # Only our own redis-server (a node a test killed leaves its pid file).
    if [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = "redis-server" ] || [ "$(ps -o comm= -p "$pid" 2>/dev/null)" = "redis-sentinel" ]; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  if [ $rc -ne 0 ]; then
    echo "test-cluster: failed; last lines of the Redis logs:" >&2
    tail -n 5 "$dir"/*.log >&2 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

base=${EDUBOT_CLUSTER_PORT_BASE:-}
if [ -z "$base" ]; then
  base=$(python3 - <<'PY'
import random, socket
for _ in range(200):
    b = random.randrange(20000, 60000, 50)
    ok = True
    for p in range(b, b + 40):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            ok = False
        finally:
            s.close()
        if not ok:
            break
    if ok:
        print(b)
        break
PY
)
fi
[ -n "$base" ] || { echo "test-cluster: no free block of ports" >&2; exit 1; }

# Cluster: nodes base..base+5, their bus ports base+10..base+15.
cluster=()
for i in 0 1 2 3 4 5; do
  p=$((base + i))
  mkdir -p "$dir/c$p"
  redis-server --port "$p" --bind 127.0.0.1 --cluster-enabled yes --cluster-port $((p + 10)) \
    --cluster-config-file "$dir/c$p/nodes.conf" --cluster-node-timeout 2000 \
    --save "" --appendonly no --dir "$dir/c$p" --daemonize yes \
    --pidfile "$dir/c$p.pid" --logfile "$dir/c$p.log"
  cluster+=("127.0.0.1:$p")
done

# Sentinel: master base+20, replica base+21, sentinels base+22..base+24.
m=$((base + 20)); r=$((base + 21))
redis-server --port "$m" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
  --daemonize yes --pidfile "$dir/s$m.pid" --logfile "$dir/s$m.log"
redis-server --port "$r" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --replicaof 127.0.0.1 "$m" \
  --daemonize yes --pidfile "$dir/s$r.pid" --logfile "$dir/s$r.log"

wait_ping() {
  for _ in $(seq 1 100); do
    redis-cli -p "$1" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "test-cluster: redis on port $1 did not start" >&2
  return 1
}
for i in 0 1 2 3 4 5; do wait_ping $((base + i)); done
wait_ping "$m"; wait_ping "$r"

sentinels=()
for i in 2 3 4; do
  p=$((base + 20 + i))
  # Sentinel rewrites its configuration file: it must be writable.
  cat >"$dir/sentinel-$p.conf" <<EOF
port $p
bind 127.0.0.1
daemonize yes
pidfile $dir/sentinel-$p.pid
logfile $dir/sentinel-$p.log
dir $dir
sentinel monitor edubot 127.0.0.1 $m 2
sentinel down-after-milliseconds edubot 1000
sentinel failover-timeout edubot 4000
sentinel parallel-syncs edubot 1
EOF
  redis-server "$dir/sentinel-$p.conf" --sentinel
  sentinels+=("127.0.0.1:$p")
done

redis-cli --cluster create "${cluster[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1 ||
  { cat "$dir/create.log" >&2; exit 1; }
cluster_ok() {
  for i in 0 1 2 3 4 5; do
    redis-cli -p $((base + i)) cluster info 2>/dev/null | grep -q 'cluster_state:ok' || return 1
  done
}
for _ in $(seq 1 200); do cluster_ok && break; sleep 0.05; done
cluster_ok || { echo "test-cluster: cluster_state never became ok" >&2; exit 1; }
for p in "${sentinels[@]}"; do wait_ping "${p##*:}"; done
# Sentinels know the replica and each other within a few seconds; the
# failover test needs both, the suite needs only the master.
sentinels_ready() {
  for p in "${sentinels[@]}"; do
    out=$(redis-cli -p "${p##*:}" sentinel master edubot 2>/dev/null | tr '\n' ' ')
    [[ "$out" =~ num-slaves\ 1\  ]] && [[ "$out" =~ num-other-sentinels\ 2\  ]] || return 1
  done
}

CLUSTER_ADDRS=$(IFS=,; echo "${cluster[*]}")
SENTINEL_ADDRS=$(IFS=,; echo "${sentinels[*]}")
echo "test-cluster: Redis Cluster on $CLUSTER_ADDRS; Sentinel master 'edubot' (127.0.0.1:$m, replica :$r) via $SENTINEL_ADDRS ($(($(date +%s) - started)) s)" >&2

# The integration suite: dedup, sessions, choices, profiles, subscriptions
# (bot, bot/redisstore), content edits and the change stream (content/store,
# handlers/admin), stats, broadcast jobs (broadcast, handlers/broadcastapi),
# the stable token cache (internal/wxapi), and the slot check itself. Every
# client these tests use refuses and reports a command whose keys span slots.
pkgs=(./internal/testredis/ ./bot/ ./bot/redisstore/ ./content/store/ ./handlers/admin/
  ./stats/ ./broadcast/ ./handlers/broadcastapi/ ./internal/wxapi/)
unset EDUBOT_TEST_REDIS_ADDR
(EDUBOT_TEST_REDIS_ADDRS=$CLUSTER_ADDRS go test -count=1 -p 2 "${pkgs[@]}" >"$dir/suite-cluster.out" 2>&1 && rc=0 || rc=$?; echo $rc >"$dir/suite-cluster.rc") &
suite_cluster=$!
for _ in $(seq 1 100); do sentinels_ready && break; sleep 0.1; done
sentinels_ready || { echo "test-cluster: the sentinels did not find the replica and each other" >&2; exit 1; }
(EDUBOT_TEST_REDIS_ADDRS=$SENTINEL_ADDRS EDUBOT_TEST_REDIS_MASTER_NAME=edubot go test -count=1 -p 2 "${pkgs[@]}" >"$dir/suite-sentinel.out" 2>&1 && rc=0 || rc=$?; echo $rc >"$dir/suite-sentinel.rc") &
suite_sentinel=$!
wait $suite_cluster $suite_sentinel || true
fail=0
for t in cluster sentinel; do
  echo "--- integration suite on $t:" >&2
  cat "$dir/suite-$t.out" >&2
  [ "$(cat "$dir/suite-$t.rc" 2>/dev/null)" = 0 ] || fail=1
done
[ $fail = 0 ] || { echo "test-cluster: the integration suite failed" >&2; exit 1; }
echo "test-cluster: integration suite passed on Cluster and Sentinel ($(($(date +%s) - started)) s)" >&2

# End to end, with the built binary: three replicas behind a round-robin
# proxy on the Cluster, then a master failed over and one killed under
# load, on each topology (these kill masters: last).
go build -tags ne -o "$dir/edubot" ./cmd/edubot
export EDUBOT_E2E_BIN="$dir/edubot" EDUBOT_E2E_PORT_BASE=$((base + 30))
EDUBOT_TEST_REDIS_ADDRS=$CLUSTER_ADDRS go test -tags e2e -count=1 -v -run 'TestReplicas|TestFailoverCluster' ./internal/e2e/ >"$dir/e2e-cluster.out" 2>&1 ||
  { grep -v '^=== ' "$dir/e2e-cluster.out" | tail -60 >&2; exit 1; }
grep -E '^(---|    ---|ok|PASS|FAIL)|broadcast of|resent to|Cluster:' "$dir/e2e-cluster.out" >&2
export EDUBOT_E2E_PORT_BASE=$((base + 35))
EDUBOT_TEST_REDIS_ADDRS=$SENTINEL_ADDRS EDUBOT_TEST_REDIS_MASTER_NAME=edubot \
  go test -tags e2e -count=1 -v -run 'TestFailoverSentinel' ./internal/e2e/ >"$dir/e2e-sentinel.out" 2>&1 ||
  { grep -v '^=== ' "$dir/e2e-sentinel.out" | tail -60 >&2; exit 1; }
grep -E '^(---|ok|PASS|FAIL)|Sentinel:' "$dir/e2e-sentinel.out" >&2
echo "test-cluster: passed in $(($(date +%s) - started)) s" >&2
