#!/usr/bin/env bash
# Runs every test against a real redis-server: installs Debian's package when
# redis-server is missing, starts it on a free loopback port, runs the tests
# (and the answer-quality gate), and stops it again.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need: redis-server, and chromium for the
# console's browser tests (cmd/edubot, TestConsoleInBrowser) with CJK
# fonts so Chinese renders in its screenshots. apt-get update runs once.
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || [ -n "${EDUBOT_CHROMIUM:-}" ] || missing+=(chromium)
if command -v fc-list >/dev/null 2>&1 && ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  missing+=(fonts-noto-cjk)
elif ! command -v fc-list >/dev/null 2>&1 && [ ! -d /usr/share/fonts/opentype/noto ]; then
  missing+=(fonts-noto-cjk)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null || true
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts a system redis on 6379; ours runs on its own port.
fi

port=$(python3 - <<'PY' 2>/dev/null || echo $((20000 + RANDOM % 20000))
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
)
dir=$(mktemp -d)
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$dir" --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
cleanup() {
  if [ -f "$dir/redis.pid" ]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 1 50); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$port" ping >/dev/null

export EDUBOT_TEST_REDIS_ADDR="127.0.0.1:$port"
echo "redis-server $(redis-server --version | awk '{print $3}') on $EDUBOT_TEST_REDIS_ADDR" >&2

go vet ./...
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted" >&2; exit 1; fi
# Every package under the race detector, but content/search: the matcher's
# tests are single-goroutine apart from the engine's bulk load and the
# concurrent update and cache tests, and with the detector on its
# equivalence tests (scanners against their old regexps on tens of thousands
# of strings) took 6.4 min, the longest path of the run. So all of its tests
# run without the detector, and those that run goroutines run with it.
go test -race -count=1 -timeout 15m $(go list ./... | grep -v '/content/search$')
go test -count=1 -timeout 10m ./content/search
go test -race -count=1 -timeout 10m \
  -run 'TestConcurrentUpdates|TestUpdates|TestManyEditsCompact|TestPinyinQueriedCache|TestMatch$' ./content/search
# The same Redis tests on a real Redis Cluster and on Sentinel, plus the
# replica and failover tests (scripts/test-cluster.sh, about 1–2 minutes).
./scripts/test-cluster.sh
# The load benchmark once, short (echo, edubot on this Redis's binary and on
# the embedded one): fails on errors (a failed or undecryptable reply), never on speed.
go run ./bench/loadbench -smoke
# Answer-quality gates (each fails below its thresholds; `edubot eval --help`
# lists them, the defaults are the targets of issue 10: top-1 0.85, helpful
# 0.95, confident wrong 0.02, unanswerable -> fallback or list 0.95): the dev
# questions, and sets of our own for other provinces that guard the method
# against fitting one bureau's content. Every set is gated at least at the
# targets; where a set has margin the gate is tighter, leaving about one
# question of slack below the last measured figure (README, "Answer quality").
# The eval is deterministic (same figures on every run, matcher and --bot).
go build -tags ne -o "$dir/edubot" ./cmd/edubot
old_gate=(--gate --min-top1 0.95 --min-helpful 0.97 --max-wrong 0.02 --min-fallback 0.95)
"$dir/edubot" eval --content testdata/jieyang/content \
  --questions testdata/jieyang/jieyang-dev.jsonl --now 2026-11-22 "${old_gate[@]}"
"$dir/edubot" eval --content testdata/heldout/mianyang \
  --questions testdata/heldout/mianyang-questions.jsonl --now 2026-11-22 "${old_gate[@]}"
"$dir/edubot" eval --content testdata/blind2/dalian \
  --questions testdata/blind2/dalian-questions.jsonl --now 2026-11-22 "${old_gate[@]}"
# The unseen sets of issue 10 (汕头, 洛阳: long, voice-typed, dialect and
# out-of-scope messages).
"$dir/edubot" eval --content testdata/unseen3/shantou \
  --questions testdata/unseen3/shantou-questions.jsonl --now 2026-11-22 \
  --gate --min-top1 0.90 --min-helpful 0.95 --max-wrong 0.02 --min-fallback 0.95
"$dir/edubot" eval --content testdata/unseen4/luoyang \
  --questions testdata/unseen4/luoyang-questions.jsonl --now 2026-11-22 \
  --gate --min-top1 0.89 --min-helpful 0.95 --max-wrong 0.02 --min-fallback 0.95
# Every fuzz target for a bounded time (20 s each, one after the other, about
# 8 minutes with compiling from a cold cache): new inputs beyond the seeds, late so the unit
# tests report first. `make fuzz FUZZTIME=10m` runs them long.
FUZZTIME=${EDUBOT_CI_FUZZTIME:-20s} ./scripts/fuzz.sh
