#!/usr/bin/env bash
# Runs every fuzz target for FUZZTIME each (default 20s), two at a time.
# CI (scripts/test.sh) runs them briefly; `make fuzz FUZZTIME=10m` runs
# them long. A crasher is written under the package's testdata/fuzz/ by
# go test: fix the bug and keep the file as a seed.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-20s}
parallel=${FUZZ_PARALLEL:-2}
mapfile -t targets < <(grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r f; do
  for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$f" | awk '{print $2}'); do
    echo "$(dirname "$f") $fn"
  done
done)
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT
run() {
  local pkg=$1 fn=$2 log="$logdir/${1//\//_}.$2.log"
  if go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$fuzztime" -parallel 1 "$pkg" >"$log" 2>&1; then
    execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    echo "fuzz ok   $pkg $fn (${fuzztime}, ${execs:-?} executions)"
  else
    echo "fuzz FAIL $pkg $fn" >&2
    cat "$log" >&2
    return 1
  fi
}
export -f run
export fuzztime logdir
printf '%s\n' "${targets[@]}" | xargs -P "$parallel" -L 1 bash -c 'run "$0" "$1"'
