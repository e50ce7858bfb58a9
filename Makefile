.PHONY: run test test-cluster build lint bench eval loadbench fuzz

# Run on the embedded defaults: sample content, embedded Redis, dev keys.
run:
	go run ./cmd/edubot serve

# Every test against a real redis-server (installed and started when missing).
test:
	./scripts/test.sh

# Only the Redis Cluster / Sentinel part of make test (scripts/test-cluster.sh).
test-cluster:
	./scripts/test-cluster.sh

build:
	CGO_ENABLED=0 go build -tags ne -trimpath -ldflags="-s -w" -o bin/edubot ./cmd/edubot

lint:
	go vet ./...
	test -z "$$(gofmt -l .)"

bench:
	go test -run '^$$' -bench . -benchmem ./...

eval:
	go run ./cmd/edubot eval --content testdata/jieyang/content --questions testdata/jieyang/jieyang-dev.jsonl --now 2026-11-22

# Load benchmark: edubot (real Redis, embedded Redis) against a bare gin +
# silenceper echo server, interleaved rounds, medians (a few minutes).
loadbench:
	go run ./bench/loadbench

# Every fuzz target, FUZZTIME each (default 20s), one after the other.
fuzz:
	FUZZTIME=$${FUZZTIME:-20s} ./scripts/fuzz.sh
