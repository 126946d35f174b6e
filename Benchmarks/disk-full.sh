#!/usr/bin/env bash
# A full disk under spool serve: on a 128 MiB tmpfs that also holds a filler file, produce until the
# broker refuses (KAFKA_STORAGE_ERROR), check the broker still serves every acknowledged record,
# delete the filler, check produce resumes, then stop the broker and check every partition offline
# with `spool log dump` and once more through a restarted broker. Needs root (mount): without it
# the script says so and exits 77 (skipped). Every figure it prints; exit 1 on any failed check.
#
#   bash Benchmarks/disk-full.sh [path/to/spool]        (default .build/release/spool)
#
# Environment: SIZE_MB (tmpfs size, default 128), FREE_MB (space left beside the filler once the
# topic exists, default 24: more than one 16 MiB preallocation step, less than two).
set -euo pipefail
cd "$(dirname "$0")/.."
spool=$(realpath "${1:-.build/release/spool}")
size_mb=${SIZE_MB:-128}
free_mb=${FREE_MB:-24}
[ "$(id -u)" -eq 0 ] || { echo "disk-full.sh: needs root to mount a tmpfs; skipped" >&2; exit 77; }
[ -x "$spool" ] || { echo "disk-full.sh: no spool binary at $spool (swift build -c release)" >&2; exit 2; }

work=$(mktemp -d /tmp/spool-disk-full.XXXXXX)
mnt="$work/fs"
serve=""
status=1
cleanup() {
    if [ "$status" -ne 0 ] && [ -f "$work/serve.log" ]; then echo "--- broker log"; cat "$work/serve.log"; fi
    if [ -n "$serve" ] && kill -0 "$serve" 2>/dev/null; then kill -KILL "$serve"; wait "$serve" 2>/dev/null || true; fi
    if mountpoint -q "$mnt"; then umount "$mnt"; fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$mnt"
if ! mount -t tmpfs -o "size=${size_mb}m" spool-disk-full "$mnt"; then
    status=0
    echo "disk-full.sh: cannot mount a tmpfs here (needs CAP_SYS_ADMIN); skipped" >&2
    exit 77
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

start() {
    "$spool" serve --data "$mnt/data" --listen "127.0.0.1:$port" --fsync always --http off --partitions 2 >>"$work/serve.log" 2>&1 &
    serve=$!
    for _ in $(seq 1 300); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && return 0
        kill -0 "$serve" 2>/dev/null || { cat "$work/serve.log"; echo "spool serve exited" >&2; exit 1; }
        sleep 0.05
    done
    echo "spool serve did not listen" >&2
    exit 1
}
stop() {
    kill -TERM "$serve"
    wait "$serve" || { echo "spool serve exited with $? on SIGTERM" >&2; cat "$work/serve.log"; exit 1; }
    serve=""
}

start
"$spool" topic create fill --partitions 2 --broker "127.0.0.1:$port"
# The filler takes all but FREE_MB, so that deleting it frees space on the same filesystem.
filler_mb=$(( $(df --output=avail -k "$mnt" | tail -1) / 1024 - free_mb ))
[ "$filler_mb" -gt 0 ] || { echo "disk-full.sh: the broker's files leave less than $free_mb MiB of the tmpfs free; raise SIZE_MB" >&2; exit 1; }
dd if=/dev/zero of="$mnt/filler" bs=1M count="$filler_mb" status=none
df -h "$mnt" | tail -1 | awk '{print "filesystem: " $2 " tmpfs, " $3 " used before producing (filler '"$filler_mb"' MiB)"}'
python3 - "$port" "$mnt/filler" "$work/acked.json" <<'EOF'
import json, os, subprocess, sys, time, zlib
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

port, filler, acked_path = sys.argv[1], sys.argv[2], sys.argv[3]
bootstrap = f'127.0.0.1:{port}'
topic, partitions = 'fill', 2

def value(n):
    body = f'{n}|' + 'v' * 2000
    return f'{body}|{zlib.crc32(body.encode()):08x}'.encode()

def intact(v):
    body, _, crc = v.decode().rpartition('|')
    return f'{zlib.crc32(body.encode()):08x}' == crc

def produce(start, limit, stop_on_error):
    """Sends records numbered from `start` until one fails (stop_on_error) or `limit` are sent."""
    producer = Producer({'bootstrap.servers': bootstrap, 'acks': 'all', 'enable.idempotence': False, 'retries': 0,
                         'linger.ms': 2, 'message.timeout.ms': 10000, 'partitioner': 'murmur2_random', 'log_level': 0})
    acked, errors = {}, {}
    def report(error, message):
        if error is None:
            acked[int(message.value().split(b'|')[0])] = (message.partition(), message.offset())
        else:
            errors[error.name()] = errors.get(error.name(), 0) + 1
    n = start
    while n < start + limit and not (stop_on_error and errors):
        try:
            producer.produce(topic, key=str(n % 64), value=value(n), on_delivery=report)
            n += 1
        except BufferError:
            producer.poll(0.05)
        if n % 200 == 0:
            producer.flush(30)   # small windows, so the first refusal stops the run soon
    producer.flush(30)
    return acked, errors

def read_all():
    consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'disk-full-check', 'enable.auto.commit': False,
                         'check.crcs': True, 'log_level': 0})
    highs = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)}
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    got, bad, done, deadline = {}, 0, {p: 0 for p in range(partitions)}, time.time() + 60
    while any(done[p] < highs[p] for p in highs) and time.time() < deadline:
        for m in consumer.consume(1000, 0.5):
            if m.error():
                bad += m.error().code() == KafkaError._BAD_MSG
                continue
            if not intact(m.value()): bad += 1
            got[int(m.value().split(b'|')[0])] = (m.partition(), m.offset())
            done[m.partition()] = m.offset() + 1
    consumer.close()
    return got, bad, highs

failures = []
acked, errors = produce(0, 200000, stop_on_error=True)
statvfs = os.statvfs(os.path.dirname(filler))
print(f'phase 1: {len(acked)} records acknowledged ({len(acked) * 2 // 1024} MiB of values) before the first refusal; '
      f'delivery errors {errors}; {statvfs.f_bavail * statvfs.f_frsize // 1024} KiB free')
if 'KAFKA_STORAGE_ERROR' not in errors: failures.append(f'expected KAFKA_STORAGE_ERROR, got {errors}')
got, bad, highs = read_all()
missing = [n for n, place in acked.items() if got.get(n) != place]
print(f'read back while full: {len(got)} records, high watermarks {highs}, missing acknowledged {len(missing)}, corrupt {bad}')
if missing or bad: failures.append('records lost or corrupt while the disk was full')

os.remove(filler)
resumed, errors2 = produce(1_000_000, 2000, stop_on_error=False)
print(f'phase 2 (filler deleted): {len(resumed)} of 2000 records acknowledged; delivery errors {errors2}')
if len(resumed) != 2000: failures.append('produce did not resume after space was freed')
acked.update(resumed)
got, bad, highs = read_all()
missing = [n for n, place in acked.items() if got.get(n) != place]
print(f'read back after: {len(got)} records, missing acknowledged {len(missing)}, corrupt {bad}')
if missing or bad: failures.append('records lost or corrupt after space was freed')
json.dump({str(n): place for n, place in acked.items()}, open(acked_path, 'w'))
for f in failures: print('FAIL:', f)
sys.exit(1 if failures else 0)
EOF

stop
echo "offline check with spool log dump:"
batches=0
for dir in "$mnt"/data/fill-*; do
    "$spool" log dump "$dir" > "$work/dump.txt"
    head -2 "$work/dump.txt" | sed 's/^/  /'
    batches=$(( batches + $(grep -c '^offset ' "$work/dump.txt") ))
done
echo "  $batches batches listed"

start
python3 - "$port" "$work/acked.json" <<'EOF'
import json, sys, time, zlib
from confluent_kafka import Consumer, KafkaError, TopicPartition
port, acked_path = sys.argv[1], sys.argv[2]
acked = {int(n): tuple(place) for n, place in json.load(open(acked_path)).items()}
consumer = Consumer({'bootstrap.servers': f'127.0.0.1:{port}', 'group.id': 'disk-full-check', 'enable.auto.commit': False,
                     'check.crcs': True, 'log_level': 0})
highs = {p: consumer.get_watermark_offsets(TopicPartition('fill', p), timeout=10)[1] for p in range(2)}
consumer.assign([TopicPartition('fill', p, 0) for p in range(2)])
got, bad, done, deadline = {}, 0, {0: 0, 1: 0}, time.time() + 60
while any(done[p] < highs[p] for p in highs) and time.time() < deadline:
    for m in consumer.consume(1000, 0.5):
        if m.error():
            bad += m.error().code() == KafkaError._BAD_MSG
            continue
        body, _, crc = m.value().decode().rpartition('|')
        bad += f'{zlib.crc32(body.encode()):08x}' != crc
        got[int(body.split('|')[0])] = (m.partition(), m.offset())
        done[m.partition()] = m.offset() + 1
consumer.close()
missing = sum(1 for n, place in acked.items() if got.get(n) != place)
print(f'after restart: acked={len(acked)} lost={missing} corrupt={bad}')
sys.exit(1 if missing or bad else 0)
EOF
stop
status=0
echo "disk-full: ok"
