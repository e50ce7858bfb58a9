#!/usr/bin/env bash
# Runs every fuzz target for FUZZTIME each (default 20s), one after the
# other with FUZZ_WORKERS workers each (default 2). One at a time because
# compiling the instrumented test binary (every dependency rebuilt with
# coverage counters) costs far more than 20 s of fuzzing: two targets side
# by side built the same dependencies twice (11 min for nine targets on two
# cores from a cold cache; one at a time reuses them, about 5 min + fuzzing).
# CI (scripts/test.sh) runs them briefly; `make fuzz FUZZTIME=10m` runs
# them long. A crasher is written under the package's testdata/fuzz/ by
# go test: fix the bug and keep the file as a seed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-20s}
parallel=${FUZZ_PARALLEL:-1}
workers=${FUZZ_WORKERS:-2}
# Minimising each new interesting input may take go test's default 60 s,
# during which nothing new runs: in 20 s that stalled whole runs.
minimize=${FUZZMINIMIZETIME:-5s}
mapfile -t targets < <(grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r f; do
  for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | awk '{print $2}'); do
    echo "$(dirname "$f") $fn"
  done
done)
logdir=$(mktemp -d)
cleanup() {
  if [ -f "$logdir/redis.pid" ]; then kill "$(cat "$logdir/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$logdir"
}
trap cleanup EXIT
# The broadcast API target runs on a real Redis: scripts/test.sh's, or one
# of our own on a free loopback port when run alone (make fuzz).
if [ -z "${EDUBOT_TEST_REDIS_ADDR:-}" ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)))
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
    --dir "$logdir" --daemonize yes --pidfile "$logdir/redis.pid" --logfile "$logdir/redis.log"
  for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export EDUBOT_TEST_REDIS_ADDR="127.0.0.1:$port"
fi
run() {
  local pkg=$1 fn=$2 log="$logdir/${1//\//_}.$2.log"
  if go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$fuzztime" -fuzzminimizetime "$minimize" -parallel "$workers" "$pkg" >"$log" 2>&1; then
    execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    echo "fuzz ok   $pkg $fn (${fuzztime}, ${execs:-?} executions)"
  else
    echo "fuzz FAIL $pkg $fn" >&2
    cat "$log" >&2
    return 1
  fi
}
export -f run
export fuzztime minimize logdir workers
printf '%s\n' "${targets[@]}" | xargs -P "$parallel" -L 1 bash -c 'run "$0" "$1"'
