#!/usr/bin/env bash
# Spool against Redis Streams at the same durability, on this machine, in one run:
#   Redis: redis-benchmark -P 64 -c 8 -n N XADD s '*' f <100 B>, appendonly yes, appendfsync always
#   Spool: spool bench produce --records N --size 100 --acks all, spool serve --fsync always
# Prints both rates and the ratio. Installs redis-server from Debian if missing. Each server is
# started on a free loopback port and stopped by its process id.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${RECORDS:-1000000}
producers=${PRODUCERS:-4}

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-benchmark >/dev/null 2>&1; then
    apt-get update && apt-get install -y redis-server
fi
swift build -c release --product spool >/dev/null

work=$(mktemp -d "${PWD}/.bench-tmp-compare.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Redis, fsync before every reply batch.
redis_port=$(free_port)
mkdir -p "$work/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --appendonly yes --appendfsync always --save '' \
    --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
value=$(head -c 100 /dev/zero | tr '\0' 'v')
redis_line=$(redis-benchmark -p "$redis_port" -P 64 -c 8 -n "$records" -q XADD s '*' f "$value" 2>/dev/null | tr '\r' '\n' | grep "requests per second" | tail -1)
redis_rate=$(echo "$redis_line" | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/')
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true

# Spool, fsync before every acknowledgement of acks=all.
spool_port=$(free_port)
.build/release/spool serve --data "$work/spool" --listen "127.0.0.1:$spool_port" --fsync always --http off 2>"$work/spool.log" &
pids+=($!)
for _ in $(seq 1 100); do grep -q "listening" "$work/spool.log" && break; sleep 0.1; done
spool_json=$(.build/release/spool bench produce --records "$records" --size 100 --acks all --producers "$producers" \
    --broker "127.0.0.1:$spool_port" --json | tail -1)
spool_rate=$(echo "$spool_json" | sed -E 's/.*"records_per_s": ([0-9.]+).*/\1/')

echo "redis-benchmark XADD, appendfsync always, -P 64 -c 8: $redis_rate records/s"
echo "spool bench produce, acks=all, fsync always, $producers producers: $spool_rate records/s  ($spool_json)"
python3 -c "print(f'ratio spool/redis: {float($spool_rate)/float($redis_rate):.2f}x  (target >= 2.3x)')"
