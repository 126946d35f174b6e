#!/usr/bin/env bash
# End-to-end latency against throughput: Spool (spool serve --fsync always, acks=all) beside Redis
# Streams (appendonly yes, appendfsync always), in one run, with 100-byte records sent at each of
# RATES records/s and then as fast as each takes them (saturation); latency is from send to receipt
# (p50, p99, p99.9). For Spool it also prints where the requests' time went inside the broker:
# spool_request_phase_seconds from /metrics, scraped before and after each run (queue, local work,
# wait for the flush or for data, response queue, send).
#
# Usage: Benchmarks/latency.sh [SVG path, default docs/latency.svg]
# Environment: RATES (default "1000 10000 100000"), SECONDS_PER_RATE (records sent at each rate:
# this many seconds' worth, at least 5,000 and at most 200,000; default 5), SATURATION_RECORDS
# (200000), LINGER_MS (Spool producer linger, default 0), SYSTEMS ("spool redis"), MAX_SECONDS (30).
# Installs redis-server from Debian and redis-py with hiredis from PyPI when missing (as root).
# Servers listen on free 127.0.0.1 ports and are stopped by their process ids.
set -euo pipefail
cd "$(dirname "$0")/.."
rates=${RATES:-1000 10000 100000}
seconds_per_rate=${SECONDS_PER_RATE:-5}
saturation=${SATURATION_RECORDS:-200000}
linger=${LINGER_MS:-0}
systems=${SYSTEMS:-spool redis}
max_seconds=${MAX_SECONDS:-30}
svg=${1:-docs/latency.svg}
for number in $rates "$seconds_per_rate" "$saturation" "$max_seconds"; do
    [[ "$number" =~ ^[1-9][0-9]*$ ]] || { echo "latency.sh: '$number' is not a positive whole number" >&2; exit 64; }
done
[[ "$linger" =~ ^[0-9]+$ ]] || { echo "latency.sh: LINGER_MS '$linger' is not a whole number" >&2; exit 64; }
driver=Benchmarks/compare_driver.py
report=Benchmarks/latency_report.py

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH=/opt/swift/usr/bin:$PATH
fi
if [[ " $systems " == *" redis "* ]]; then
    if ! command -v redis-server >/dev/null 2>&1; then
        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server
    fi
    if ! python3 -c 'import redis, hiredis' >/dev/null 2>&1; then
        python3 -m pip install --quiet --disable-pip-version-check "redis==8.1.0" "hiredis==3.3.0"
    fi
fi
swift build -c release --product spool >/dev/null
spool=.build/release/spool

source Benchmarks/servers.sh
bench_work latency
results="$work/results.jsonl"
bounded() { timeout $((max_seconds * 3 + 60)) "$@"; }
# Records sent at a rate: SECONDS_PER_RATE seconds' worth, within 5,000...200,000.
records_at() { local n=$(($1 * seconds_per_rate)); [ "$n" -lt 5000 ] && n=5000; [ "$n" -gt 200000 ] && n=200000; echo "$n"; }
# Adds system and rate to a JSON result line and appends it to the results.
keep() {
    python3 -c 'import json,sys; r=json.loads(sys.stdin.read().strip().splitlines()[-1]); r["system"]=sys.argv[1]; r["rate"]=int(sys.argv[2]); print(json.dumps(r))' \
        "$1" "$2" >>"$results"
}

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== rates: $rates records/s, then saturation ($saturation records); 100-byte records; Spool linger $linger ms"

run_spool() {
    local port http rate records
    port=$(free_port)
    http=$(free_port)
    start "$spool" serve --data "$work/spool" --listen "127.0.0.1:$port" --fsync always --http "127.0.0.1:$http"
    wait_port "$port"
    wait_port "$http"
    for rate in $rates 0; do
        records=$([ "$rate" -eq 0 ] && echo "$saturation" || records_at "$rate")
        # The topic exists before the run, as a job topic does: its creation is not part of the latency.
        "$spool" topic create "e2e-$rate" --partitions 1 --broker "127.0.0.1:$port" >/dev/null
        python3 "$report" scrape "http://127.0.0.1:$http/metrics" "$work/before"
        bounded "$spool" bench e2e --records "$records" --rate "$rate" --producers 1 --partitions 1 --linger-ms "$linger" --topic "e2e-$rate" \
            --size 100 --broker "127.0.0.1:$port" --json >"$work/out" 2>/dev/null
        keep spool "$rate" <"$work/out"
        python3 "$report" scrape "http://127.0.0.1:$http/metrics" "$work/after"
        echo
        echo "Spool at $([ "$rate" -eq 0 ] && echo saturation || echo "$rate records/s"): $(tail -1 "$results" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("%d records/s, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms" % (r["records_per_s"], r["p50_ms"], r["p99_ms"], r["p999_ms"]))'); inside the broker:"
        echo
        python3 "$report" breakdown "$work/before" "$work/after"
    done
    stop "$server"
}

run_redis() {
    local port rate records
    port=$(free_port)
    mkdir -p "$work/redis"
    start redis-server --port "$port" --bind 127.0.0.1 --dir "$work/redis" --appendonly yes --appendfsync always --save '' --daemonize no
    wait_port "$port"
    for rate in $rates 0; do
        records=$([ "$rate" -eq 0 ] && echo "$saturation" || records_at "$rate")
        # The driver sends what is due each millisecond; at saturation everything is due at once.
        bounded python3 "$driver" redis e2e --port "$port" --records "$records" --rate "$([ "$rate" -eq 0 ] && echo 100000000 || echo "$rate")" \
            --max-seconds "$max_seconds" | keep redis "$rate"
    done
    stop "$server"
}

for system in $systems; do
    case "$system" in
        spool|redis) echo "== $system"; "run_$system" ;;
        *) echo "latency.sh: unknown system '$system'" >&2; exit 64 ;;
    esac
done
echo "== load after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
mkdir -p "$(dirname "$svg")"
python3 "$report" chart "$results" "$svg"
echo
echo "chart: $svg"
