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

source Benchmarks/servers.sh
bench_work compare-redis

# Redis, fsync before every reply batch.
redis_port=$(free_port)
mkdir -p "$work/redis"
start redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --appendonly yes --appendfsync always --save '' \
    --daemonize no
wait_port "$redis_port"
value=$(head -c 100 /dev/zero | tr '\0' 'v')
redis_line=$(redis-benchmark -p "$redis_port" -P 64 -c 8 -n "$records" -q XADD s '*' f "$value" 2>/dev/null | tr '\r' '\n' | grep "requests per second" | tail -1)
redis_rate=$(echo "$redis_line" | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/')
stop "$server"

# Spool, fsync before every acknowledgement of acks=all.
spool_port=$(free_port)
start .build/release/spool serve --data "$work/spool" --listen "127.0.0.1:$spool_port" --fsync always --http off
wait_port "$spool_port"
spool_json=$(.build/release/spool bench produce --records "$records" --size 100 --acks all --producers "$producers" \
    --broker "127.0.0.1:$spool_port" --json | tail -1)
spool_rate=$(echo "$spool_json" | sed -E 's/.*"records_per_s": ([0-9.]+).*/\1/')

echo "redis-benchmark XADD, appendfsync always, -P 64 -c 8: $redis_rate records/s"
echo "spool bench produce, acks=all, fsync always, $producers producers: $spool_rate records/s  ($spool_json)"
python3 -c "print(f'ratio spool/redis: {float($spool_rate)/float($redis_rate):.2f}x  (target >= 2.3x)')"
