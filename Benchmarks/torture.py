#!/usr/bin/env python3
"""Crash torture for `spool serve --fsync always`: idempotent producers and a consumer group run
while the broker is killed with SIGKILL at random moments and restarted on the same data directory
and port; then everything is read back from the beginning and checked.

    python3 Benchmarks/torture.py [--spool .build/release/spool] [--cycles 20] [--seed N]

Producers (confluent-kafka, enable.idempotence, acks=all, murmur2 partitioner) each own a set of
keys. A record's value is `key|sequence|padding|crc32` (the CRC over the rest), so the read-back can
tell whether it is intact and where it belongs. A delivery callback without an error counts the
record as acknowledged, at the offset the broker gave it.

Checks at the end, against a full read from offset 0 with check.crcs=true:
  lost          acknowledged records missing, or not at the offset they were acknowledged with
  duplicated    (key, sequence) stored more than once
  corrupt       records whose contents fail the CRC, and batches the client rejects
  out_of_order  a key's sequences not strictly increasing in its partition
  consumed_lost records the group consumer was served that are not in the final log at that offset
  offsets_ahead committed group offsets past the high watermark (checked after every restart)
The last line is `cycles=N acked=… lost=0 duplicated=0 corrupt=0 …`; the exit status is 1 when any
check fails.
"""
import argparse, os, random, shutil, signal, socket, subprocess, sys, tempfile, threading, time, zlib
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from harness import free_port


class Broker:
    """One `spool serve` at a time on a fixed port and data directory; started and killed by pid."""

    def __init__(self, spool, data, port, log_path):
        self.spool, self.data, self.port, self.log_path = spool, data, port, log_path
        self.process = None
        self.starts_ms = []

    def start(self):
        log = open(self.log_path, 'ab')
        started = time.monotonic()
        self.process = subprocess.Popen(
            [self.spool, 'serve', '--data', self.data, '--listen', f'127.0.0.1:{self.port}', '--fsync', 'always',
             '--http', 'off', '--partitions', '4'], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = started + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f'spool serve exited with {self.process.returncode}; see {self.log_path}')
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=0.5):
                    self.starts_ms.append((time.monotonic() - started) * 1000)
                    return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError('spool serve did not listen within 30 s')

    def kill(self):
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(30)

    def stop(self):
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


def encode(key, sequence, rng):
    body = f'{key}|{sequence}|{"x" * rng.randint(0, 200)}'
    return f'{body}|{zlib.crc32(body.encode()):08x}'.encode()


def decode(value):
    """(key, sequence) of an intact value, or None."""
    try:
        text = value.decode()
        body, _, crc = text.rpartition('|')
        if f'{zlib.crc32(body.encode()):08x}' != crc:
            return None
        key, sequence, _ = body.split('|', 2)
        return key, int(sequence)
    except (UnicodeDecodeError, ValueError):
        return None


class ProducerThread(threading.Thread):
    def __init__(self, index, args, bootstrap, stop):
        super().__init__(daemon=True)
        self.index, self.args, self.bootstrap, self.stop = index, args, bootstrap, stop
        self.keys = [f'p{index}-k{k}' for k in range(args.keys)]
        self.acked = {}  # (key, sequence) -> (partition, offset)
        self.failed = 0
        self.fatal = []
        self.sent = 0
        self.unflushed = 0

    def run(self):
        try:
            self.produce()
        except KafkaException as error:  # a fatal error: the producer cannot go on
            self.fatal.append(str(error))

    def produce(self):
        rng = random.Random(self.args.seed * 1000 + self.index)
        producer = Producer({
            'bootstrap.servers': self.bootstrap, 'enable.idempotence': True, 'acks': 'all',
            'partitioner': 'murmur2_random', 'linger.ms': 5, 'message.timeout.ms': 300000,
            'reconnect.backoff.ms': 50, 'reconnect.backoff.max.ms': 500, 'retry.backoff.ms': 50,
            'error_cb': self.on_error, 'log_level': 0,
        })

        def delivered(error, message):
            if error is None:
                key, sequence = decode(message.value())
                self.acked[(key, sequence)] = (message.partition(), message.offset())
            else:
                self.failed += 1

        sequences = {key: 0 for key in self.keys}
        interval = len(self.keys) / self.args.rate
        next_at = time.monotonic()
        while not self.stop.is_set() and not self.fatal:
            for key in self.keys:
                value = encode(key, sequences[key], rng)
                while not self.stop.is_set():
                    try:
                        producer.produce(self.args.topic, key=key, value=value, on_delivery=delivered)
                        sequences[key] += 1
                        self.sent += 1
                        break
                    except BufferError:
                        producer.poll(0.05)
            producer.poll(0)
            next_at += interval
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_at = time.monotonic()
        self.unflushed = producer.flush(120)

    def on_error(self, error):
        if error.fatal():
            self.fatal.append(str(error))
            print(f'producer {self.index}: fatal error: {error}', flush=True)


class ConsumerThread(threading.Thread):
    """A group member that commits what it read every half second."""

    def __init__(self, args, bootstrap, stop):
        super().__init__(daemon=True)
        self.args, self.bootstrap, self.stop = args, bootstrap, stop
        self.seen = []  # (partition, offset, value)
        self.bad = 0
        self.errors = {}

    def on_error(self, error):
        self.errors[error.name()] = self.errors.get(error.name(), 0) + 1

    def run(self):
        consumer = Consumer({
            'bootstrap.servers': self.bootstrap, 'group.id': self.args.group, 'auto.offset.reset': 'earliest',
            'enable.auto.commit': False, 'check.crcs': True,
            # Spool's smallest session timeout (Kafka's group.min.session.timeout.ms). A group that
            # was empty waits 3 s before its first generation (group.initial.rebalance.delay.ms),
            # and after each restart the group starts empty: the member reads in cycles longer than that.
            'session.timeout.ms': 6000, 'heartbeat.interval.ms': 500, 'reconnect.backoff.ms': 50, 'reconnect.backoff.max.ms': 500,
            'log_level': 0, 'error_cb': self.on_error,
        })
        consumer.subscribe([self.args.topic])
        last_commit = time.monotonic()
        while not self.stop.is_set():
            for message in consumer.consume(500, 0.2):
                if message.error():
                    code = message.error().code()
                    if code == KafkaError._BAD_MSG:
                        self.bad += 1
                    self.errors[message.error().name()] = self.errors.get(message.error().name(), 0) + 1
                    continue
                self.seen.append((message.partition(), message.offset(), message.value()))
            if time.monotonic() - last_commit > 0.5:
                last_commit = time.monotonic()
                try:
                    consumer.commit(asynchronous=True)
                except KafkaException:
                    pass
        try:
            consumer.commit(asynchronous=False)
        except KafkaException:
            pass
        consumer.close()


def committed_ahead(bootstrap, topic, group, partitions):
    """Committed offsets of `group` past the high watermark, and the pairs compared."""
    checker = Consumer({'bootstrap.servers': bootstrap, 'group.id': group, 'enable.auto.commit': False, 'log_level': 0})
    try:
        committed = checker.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=30)
        ahead, pairs = 0, []
        for tp in committed:
            _, high = checker.get_watermark_offsets(TopicPartition(topic, tp.partition), timeout=30)
            pairs.append((tp.partition, tp.offset, high))
            if tp.offset >= 0 and tp.offset > high:
                ahead += 1
        return ahead, pairs
    finally:
        checker.close()


def read_all(bootstrap, topic, partitions):
    """Every record of `topic` from offset 0 to the high watermark, with check.crcs=true."""
    consumer = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'torture-verify', 'enable.auto.commit': False, 'log_level': 0,
                         'check.crcs': True, 'auto.offset.reset': 'earliest', 'fetch.max.bytes': 8 << 20})
    highs = {}
    for p in range(partitions):
        highs[p] = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1]
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    records, bad, positions = {p: [] for p in range(partitions)}, 0, {p: 0 for p in range(partitions)}
    deadline = time.monotonic() + 600
    while any(positions[p] < highs[p] for p in highs) and time.monotonic() < deadline:
        for message in consumer.consume(1000, 1.0):
            if message.error():
                if message.error().code() == KafkaError._BAD_MSG:
                    bad += 1
                elif message.error().code() != KafkaError._PARTITION_EOF:
                    print(f'read error: {message.error()}', file=sys.stderr)
                continue
            records[message.partition()].append((message.offset(), message.key(), message.value()))
            positions[message.partition()] = message.offset() + 1
    consumer.close()
    return records, highs, positions, bad


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--spool', default='.build/release/spool')
    parser.add_argument('--cycles', type=int, default=20)
    parser.add_argument('--producers', type=int, default=3)
    parser.add_argument('--keys', type=int, default=20, help='keys per producer')
    parser.add_argument('--rate', type=float, default=4000, help='records/s per producer')
    parser.add_argument('--min-up', type=float, default=0.5, help='seconds the broker runs before a kill, at least')
    parser.add_argument('--max-up', type=float, default=6.0, help='... and at most')
    parser.add_argument('--settle', type=float, default=20, help='after the last restart, seconds at most to wait for the group to read again')
    parser.add_argument('--seed', type=int, default=int(time.time()))
    parser.add_argument('--keep', action='store_true', help='keep the data directory')
    args = parser.parse_args()
    args.topic, args.group, partitions = 'torture', 'torture-group', 4
    rng = random.Random(args.seed)
    print(f'seed={args.seed}', flush=True)

    workdir = tempfile.mkdtemp(prefix='spool-torture-')
    port = free_port()
    bootstrap = f'127.0.0.1:{port}'
    broker = Broker(os.path.abspath(args.spool), os.path.join(workdir, 'data'), port, os.path.join(workdir, 'serve.log'))
    failed = True
    try:
        broker.start()
        admin = AdminClient({'bootstrap.servers': bootstrap, 'log_level': 0})
        admin.create_topics([NewTopic(args.topic, partitions, 1)])[args.topic].result(30)

        stop = threading.Event()
        producers = [ProducerThread(i, args, bootstrap, stop) for i in range(args.producers)]
        consumer = ConsumerThread(args, bootstrap, stop)
        for thread in producers + [consumer]:
            thread.start()

        offsets_ahead, started = 0, time.monotonic()
        for cycle in range(1, args.cycles + 1):
            time.sleep(rng.uniform(args.min_up, args.max_up))
            broker.kill()
            time.sleep(rng.uniform(0, 0.3))
            broker.start()
            ahead, pairs = committed_ahead(bootstrap, args.topic, args.group, partitions)
            offsets_ahead += ahead
            acked = sum(len(p.acked) for p in producers)
            print(f'cycle {cycle}: killed and restarted, listening after {broker.starts_ms[-1]:.0f} ms; acked {acked}; '
                  f'committed/high {[(c, h) for _, c, h in pairs]}', flush=True)
            if any(p.fatal for p in producers):
                break
        # Let the group form again after the last restart (it waits 3 s for members) and read some.
        seen_before, settle_end = len(consumer.seen), time.monotonic() + args.settle
        while time.monotonic() < settle_end and len(consumer.seen) == seen_before:
            time.sleep(0.1)
        time.sleep(0.5)
        stop.set()
        for thread in producers + [consumer]:
            thread.join(180)
        ahead, _ = committed_ahead(bootstrap, args.topic, args.group, partitions)
        offsets_ahead += ahead
        elapsed = time.monotonic() - started

        records, highs, positions, bad = read_all(bootstrap, args.topic, partitions)
        broker.stop()

        stored = {}      # (key, sequence) -> [(partition, offset)]
        corrupt = bad
        out_of_order = 0
        last_sequence = {}
        total = 0
        for partition, entries in records.items():
            for offset, key, value in entries:
                total += 1
                decoded = decode(value)
                if decoded is None or decoded[0].encode() != key:
                    corrupt += 1
                    continue
                stored.setdefault(decoded, []).append((partition, offset))
                k, sequence = decoded
                if sequence <= last_sequence.get(k, -1):
                    out_of_order += 1
                last_sequence[k] = max(sequence, last_sequence.get(k, -1))
        duplicated = sum(len(v) - 1 for v in stored.values() if len(v) > 1)
        acked = {}
        for p in producers:
            acked.update(p.acked)
        lost = sum(1 for record, place in acked.items() if place not in stored.get(record, []))
        by_place = {place: record for record, places in stored.items() for place in places}
        consumed_lost = 0
        for partition, offset, value in consumer.seen:
            if by_place.get((partition, offset)) != decode(value):
                consumed_lost += 1
        short = sum(1 for p in highs if positions[p] < highs[p])
        sent = sum(p.sent for p in producers)
        failed_deliveries = sum(p.failed for p in producers)
        fatal = [f for p in producers for f in p.fatal]
        unflushed = sum(p.unflushed for p in producers)
        starts = sorted(broker.starts_ms[1:]) or [0]
        print(f'sent={sent} stored={total} delivery_failures={failed_deliveries} unflushed={unflushed} '
              f'consumed={len(consumer.seen)} consumer_errors={consumer.errors} fatal={fatal}')
        print(f'restart to listening: median {starts[len(starts) // 2]:.0f} ms, max {starts[-1]:.0f} ms; '
              f'{elapsed:.1f} s of load; high watermarks {highs}')
        print(f'cycles={args.cycles} acked={len(acked)} lost={lost} duplicated={duplicated} corrupt={corrupt} '
              f'out_of_order={out_of_order} consumed_lost={consumed_lost} offsets_ahead={offsets_ahead} '
              f'unread_partitions={short}')
        failed = bool(lost or duplicated or corrupt or out_of_order or consumed_lost or offsets_ahead or short or fatal
                      or consumer.bad or not acked or not consumer.seen)
        return 1 if failed else 0
    finally:
        broker.kill()
        if failed:
            print(f'--- last lines of {broker.log_path}', file=sys.stderr)
            try:
                with open(broker.log_path, errors='replace') as log:
                    sys.stderr.write(''.join(log.readlines()[-20:]))
            except OSError:
                pass
        if args.keep:
            print(f'data kept in {workdir}')
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
