#!/usr/bin/env bash
# Spool beside Redis Streams, NATS JetStream and beanstalkd on this machine, in one run, at the
# same durability where the peer offers it (fsync before acknowledging), with 100-byte records:
#   produce   RECORDS records as fast as each can take them (records/s)
#   consume   a backlog of RECORDS records (records/s)
#   e2e       E2E_RECORDS records sent at E2E_RATE records/s: send-to-receipt latency p50 / p99
# Servers and durability:
#   spool       spool serve --fsync always; spool bench produce|consume|e2e (acks=all)
#   redis       appendonly yes, appendfsync always; redis-benchmark XADD -P 64 -c 8 for produce
#   nats        JetStream file store; sync_interval: always when this nats-server knows it, else
#               the page cache (flushed by the OS), and the table says which
#   beanstalkd  -b binlog -f 0 (fsync after every write)
# The load drivers other than redis-benchmark and spool bench are Benchmarks/compare_driver.py
# (pipelined text protocols for NATS and beanstalkd, redis-py with hiredis for Redis). Every
# measurement stops at its record count or after MAX_SECONDS, whichever comes first; one that
# stopped on time says so in the table. Each server listens on a free 127.0.0.1 port and is stopped
# by its process id.
#
# Usage: Benchmarks/compare.sh [SVG path, default docs/compare.svg]
# Environment: RECORDS (default 1000000), E2E_RECORDS (100000), E2E_RATE (10000), MAX_SECONDS
# (60), PRODUCERS (Spool producers and peer connections, 4), SYSTEMS ("spool redis nats beanstalkd").
# Installs redis-server, nats-server and beanstalkd from Debian and the Python clients from PyPI
# when missing (as root).
set -euo pipefail
cd "$(dirname "$0")/.."
records=${RECORDS:-1000000}
e2e_records=${E2E_RECORDS:-100000}
rate=${E2E_RATE:-10000}
max_seconds=${MAX_SECONDS:-60}
producers=${PRODUCERS:-4}
systems=${SYSTEMS:-spool redis nats beanstalkd}
svg=${1:-docs/compare.svg}
size=100
for number in "$records" "$e2e_records" "$rate" "$max_seconds" "$producers"; do
    [[ "$number" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: '$number' is not a positive whole number" >&2; exit 64; }
done
driver=Benchmarks/compare_driver.py

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH=/opt/swift/usr/bin:$PATH
fi
missing=()
command -v redis-server >/dev/null 2>&1 && command -v redis-benchmark >/dev/null 2>&1 || missing+=(redis-server)
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
command -v beanstalkd >/dev/null 2>&1 || missing+=(beanstalkd)
if [ ${#missing[@]} -gt 0 ]; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi
if ! python3 -c 'import redis, hiredis' >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check "redis==8.1.0" "hiredis==3.3.0"
fi
swift build -c release --product spool >/dev/null
spool=.build/release/spool

source Benchmarks/servers.sh
bench_work compare
results="$work/results.jsonl"
record() { python3 "$driver" record "$results" "$@"; }
# A driver or bench run, bounded in time beyond its own bounds.
bounded() { timeout $((max_seconds * 3 + 60)) "$@"; }
# One compare_driver.py measurement against the server on $port, recorded:
# measure SYSTEM produce|consume|e2e DURABILITY [driver flags...]
measure() {
    local system=$1 test=$2 durability=$3 count=$records
    shift 3
    [ "$test" = e2e ] && count=$e2e_records
    bounded python3 "$driver" "$system" "$test" --port "$port" --records "$count" --rate "$rate" --max-seconds "$max_seconds" "$@" \
        | record "$system" "$test" "$durability"
}

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -m), load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $records records of $size bytes; e2e $e2e_records records at $rate/s; time bound $max_seconds s per measurement"

run_spool() {
    local port
    port=$(free_port)
    start "$spool" serve --data "$work/spool" --listen "127.0.0.1:$port" --fsync always --http off
    wait_port "$port"
    local common=(--size "$size" --broker "127.0.0.1:$port" --json)
    bounded "$spool" bench produce --records "$records" --acks all --producers "$producers" "${common[@]}" \
        | record spool produce "fsync always" "spool bench produce --acks all --producers $producers (idempotent)"
    bounded "$spool" bench consume --records "$records" "${common[@]}" \
        | record spool consume "fsync always" "spool bench consume (one consumer, from the beginning)"
    bounded "$spool" bench e2e --records "$e2e_records" --rate "$rate" --producers 1 --linger-ms 1 --topic e2e "${common[@]}" \
        | record spool e2e "fsync always" "spool bench e2e --rate $rate --producers 1 --linger-ms 1"
    stop "$server"
}

run_redis() {
    local port value line rate_redis
    port=$(free_port)
    mkdir -p "$work/redis"
    start redis-server --port "$port" --bind 127.0.0.1 --dir "$work/redis" --appendonly yes --appendfsync always \
        --save '' --daemonize no
    wait_port "$port"
    value=$(head -c "$size" /dev/zero | tr '\0' 'v')
    line=$(bounded redis-benchmark -p "$port" -P 64 -c "$((producers * 2))" -n "$records" -q XADD s '*' f "$value" 2>/dev/null \
        | tr '\r' '\n' | grep "requests per second" | tail -1)
    rate_redis=$(echo "$line" | sed -E 's/.*: ([0-9.]+) requests per second.*/\1/')
    echo "{\"records\": $records, \"records_per_s\": ${rate_redis%.*}}" \
        | record redis produce "appendfsync always" "redis-benchmark -P 64 -c $((producers * 2)) XADD"
    measure redis consume "appendfsync always"
    measure redis e2e "appendfsync always"
    stop "$server"
}

run_nats() {
    local port durability probe
    port=$(free_port)
    mkdir -p "$work/nats"
    # nats-server before 2.10 refuses sync_interval: probe with a throwaway server for 2 s.
    printf 'listen: 127.0.0.1:%s\njetstream { store_dir: "%s/nats-probe"\n sync_interval: always }\n' "$(free_port)" "$work" >"$work/probe.conf"
    set +e
    timeout 2 nats-server -c "$work/probe.conf" >"$work/probe.log" 2>&1
    probe=$?
    set -e
    if [ "$probe" -eq 124 ]; then
        durability="sync_interval: always"
        sync_line="sync_interval: always"
    else
        durability="page cache (nats-server $(nats-server --version | sed 's/.*v//') has no sync_interval)"
        sync_line=""
    fi
    printf 'listen: 127.0.0.1:%s\nmax_payload: 1MB\njetstream {\n store_dir: "%s/nats"\n max_file_store: 20GB\n %s\n}\n' \
        "$port" "$work" "$sync_line" >"$work/nats.conf"
    start nats-server -c "$work/nats.conf"
    wait_port "$port"
    measure nats produce "$durability" --connections "$producers"
    measure nats consume "$durability"
    measure nats e2e "$durability"
    stop "$server"
}

run_beanstalkd() {
    local port produced
    port=$(free_port)
    mkdir -p "$work/beanstalkd"
    start beanstalkd -l 127.0.0.1 -p "$port" -b "$work/beanstalkd" -f 0
    wait_port "$port"
    measure beanstalkd produce "-f 0 (fsync every write)" --connections "$producers"
    produced=$(tail -1 "$results" | python3 -c 'import json,sys; print(json.load(sys.stdin)["records"])')
    if [ "$produced" -lt "$records" ]; then
        # Fsync on every put makes a full backlog take too long: load the rest with fsync off
        # (-F), then restart with -f 0, which replays the binlog, and consume at full durability.
        stop "$server"
        start beanstalkd -l 127.0.0.1 -p "$port" -b "$work/beanstalkd" -F
        wait_port "$port"
        bounded python3 "$driver" beanstalkd produce --port "$port" --records "$((records - produced))" --connections "$producers" \
            --max-seconds "$max_seconds" >/dev/null
        stop "$server"
        start beanstalkd -l 127.0.0.1 -p "$port" -b "$work/beanstalkd" -f 0
        wait_port "$port"
    fi
    measure beanstalkd consume "-f 0 (fsync every write)"
    measure beanstalkd e2e "-f 0 (fsync every write)"
    stop "$server"
}

for system in $systems; do
    case "$system" in
        spool|redis|nats|beanstalkd) echo "== $system"; "run_$system" ;;
        *) echo "compare.sh: unknown system '$system'" >&2; exit 64 ;;
    esac
done

echo "== versions: spool $(git rev-parse --short HEAD), $(redis-server --version | cut -d' ' -f1-3), nats-server $(nats-server --version | sed 's/.*v//'), $(beanstalkd -v)"
echo "== load after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
mkdir -p "$(dirname "$svg")"
python3 "$driver" report "$results" "$svg"
echo
echo "chart: $svg"
