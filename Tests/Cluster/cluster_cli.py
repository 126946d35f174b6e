#!/usr/bin/env python3
"""The spool command line against a 3-broker Kafka-protocol cluster: librdkafka's mock cluster.

    python3 Tests/Cluster/cluster_cli.py --spool .build/release/spool

Builds Tests/Cluster/mock-cluster.c against librdkafka as Tests/Conformance/librdkafka.sh builds it
(SPOOL_LIBRDKAFKA_BUILD, default ~/.cache/spool-librdkafka; built with `--build-only` if missing),
starts 3 brokers on 127.0.0.1, and checks:

- topic creation (the mock serves no CreateTopics: auto-creation through Metadata), produce,
  consume without a group and with one, group describe (committed offsets, end offsets, lag;
  no members: the mock serves no DescribeGroups), and `spool demo --broker` (the job queue);
- produce and group consume while every partition's leader moves, and while a broker is down for
  a few seconds: every record arrives, in order per key, none lost and none twice.

Every wait is bounded; every process started here is stopped by its pid. Exit 0 when all pass.
"""
import argparse
import collections
import os
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def fail(message):
    print("FAIL: " + message, flush=True)
    sys.exit(1)


def build_harness():
    build = os.environ.get("SPOOL_LIBRDKAFKA_BUILD", os.path.expanduser("~/.cache/spool-librdkafka"))
    src = os.path.join(build, "src", "src")
    if not os.path.exists(os.path.join(src, "librdkafka.so")):
        subprocess.run(["bash", os.path.join(REPO, "Tests/Conformance/librdkafka.sh"), "--build-only"], check=True, timeout=1800)
    binary = os.path.join(build, "mock-cluster")
    source = os.path.join(REPO, "Tests/Cluster/mock-cluster.c")
    if not os.path.exists(binary) or os.path.getmtime(binary) < max(os.path.getmtime(source), os.path.getmtime(os.path.join(src, "librdkafka.so"))):
        subprocess.run(["cc", "-O1", "-Wall", "-Werror", "-o", binary, source, "-I" + src, "-L" + src, "-lrdkafka",
                        "-Wl,-rpath," + src], check=True, timeout=300)
    return binary


class Cluster:
    """The harness process: line commands in, "ok" or "error ..." out."""

    def __init__(self, binary, brokers=3):
        self.process = subprocess.Popen([binary, str(brokers)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        first = self.process.stdout.readline().split()
        if len(first) != 2 or first[0] != "bootstrap":
            self.stop()
            fail("mock-cluster did not print its bootstrap list")
        self.bootstrap = first[1]
        self.lock = threading.Lock()

    def command(self, line):
        with self.lock:
            self.process.stdin.write(line + "\n")
            self.process.stdin.flush()
            answer = self.process.stdout.readline().strip()
        if answer != "ok":
            fail(f"mock-cluster: '{line}' answered '{answer}'")

    def stop(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.write("quit\n")
                self.process.stdin.flush()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


class Spool:
    def __init__(self, binary, bootstrap):
        self.binary = binary
        self.bootstrap = bootstrap

    def run(self, *args, stdin="", timeout=90):
        started = time.monotonic()
        result = subprocess.run([self.binary, *args, "--broker", self.bootstrap], input=stdin, capture_output=True, text=True, timeout=timeout)
        return result, time.monotonic() - started

    def start(self, *args):
        return subprocess.Popen([self.binary, *args, "--broker", self.bootstrap], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)


def finish(process, timeout, what, stdin=None):
    """Feeds `stdin` to a started spool command (closing its input) and waits for it, killing it
    by pid after `timeout` seconds."""
    try:
        out, err = process.communicate(input=stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        fail(f"{what} did not finish in {timeout} s; stderr: {err[-2000:]}; stdout lines: {len(out.splitlines())}")
    if process.returncode != 0:
        fail(f"{what} exited {process.returncode}: {err[-2000:]}")
    return out, err


def lines(keys, count, prefix):
    """COUNT records spread over KEYS keys, each value numbering its key's records."""
    seen = collections.Counter()
    out = []
    for index in range(count):
        key = f"{prefix}-k{index % keys}"
        out.append(f"{key}:{key}-{seen[key]}")
        seen[key] += 1
    return out


def check_records(output, expected, what):
    """Every expected record once, and each key's records in the order they were produced."""
    got = [line.split(" ", 1) for line in output.splitlines() if line]
    values = [value for _, value in got]
    missing = set(v.split(":", 1)[1] for v in expected) - set(values)
    if missing:
        fail(f"{what}: {len(missing)} records missing, e.g. {sorted(missing)[:5]}")
    if len(values) != len(set(values)):
        duplicates = [v for v, n in collections.Counter(values).items() if n > 1]
        fail(f"{what}: {len(duplicates)} records twice, e.g. {duplicates[:5]}")
    by_key = collections.defaultdict(list)
    for key, value in got:
        by_key[key].append(int(value.rsplit("-", 1)[1]))
    for key, numbers in by_key.items():
        if numbers != sorted(numbers):
            fail(f"{what}: records of {key} out of order: {numbers[:20]}")
    print(f"ok: {what}: {len(values)} records, every one once, in order per key", flush=True)


def produce(spool, topic, records, what):
    result, seconds = spool.run("produce", topic, "--key-separator", ":", stdin="\n".join(records) + "\n")
    if result.returncode != 0 or f"{len(records)} records stored" not in result.stderr:
        fail(f"{what}: exit {result.returncode}: {result.stderr[-2000:]}")
    print(f"ok: {what}: {len(records)} records in {seconds:.2f} s", flush=True)


def consume(spool, topic, count, what, group=None, timeout=60):
    args = ["consume", topic, "--from-beginning", "--count", str(count), "--format", "%k %s\\n"]
    if group:
        args += ["--group", group]
    result, seconds = spool.run(*args, timeout=timeout)
    if result.returncode != 0:
        fail(f"{what}: exit {result.returncode}: {result.stderr[-2000:]}")
    print(f"ok: {what}: {count} records in {seconds:.2f} s", flush=True)
    return result.stdout


def produce_while(spool, cluster, topic, records, group, what, disturb):
    """Starts a group consumer and a producer fed in two halves; once the consumer has printed
    records of the first half (it joined and fetches), disturbs the cluster, then feeds the second
    half. Checks every record arrives once and in order per key."""
    consumer = spool.start("consume", topic, "--from-beginning", "--count", str(len(records)), "--format", "%k %s\\n", "--group", group)
    producer = spool.start("produce", topic, "--key-separator", ":")
    consumed = []
    reader = threading.Thread(target=lambda: consumed.extend(consumer.stdout), daemon=True)
    reader.start()
    half = len(records) // 2
    started = time.monotonic()
    try:
        producer.stdin.write("\n".join(records[:half]) + "\n")
        producer.stdin.flush()
        deadline = time.monotonic() + 60
        while not consumed and consumer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if not consumed:
            fail(f"{what}: the consumer printed nothing in 60 s (exit {consumer.poll()})")
        disturbed, before = time.monotonic() - started, len(consumed)
        disturb()
        _, err = finish(producer, 90, f"{what}: spool produce", stdin="\n".join(records[half:]) + "\n")
        if f"{len(records)} records stored" not in err:
            fail(f"{what}: spool produce said {err.strip()}")
        produced = time.monotonic() - started
        try:
            consumer.wait(timeout=90)
        except subprocess.TimeoutExpired:
            fail(f"{what}: spool consume --group did not finish in 90 s ({len(consumed)} records)")
        reader.join(timeout=10)
        if consumer.returncode != 0:
            fail(f"{what}: spool consume --group exited {consumer.returncode}: {consumer.stderr.read()[-2000:]}")
    finally:
        for process in (producer, consumer):
            if process.poll() is None:
                process.kill()
                process.wait()
    print(f"ok: {what}: disturbed at {disturbed:.2f} s (the consumer had {before} records), {len(records)} records "
          f"produced by {produced:.2f} s, consumed by {time.monotonic() - started:.2f} s", flush=True)
    check_records("".join(consumed), records, what)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spool", default=os.environ.get("SPOOL_BIN", os.path.join(REPO, ".build/release/spool")))
    options = parser.parse_args()
    spool_binary = os.path.abspath(options.spool)
    if not os.access(spool_binary, os.X_OK):
        fail(f"no spool binary at {spool_binary} (swift build -c release --product spool)")
    started = time.monotonic()
    cluster = Cluster(build_harness())
    try:
        print(f"mock cluster of 3 brokers at {cluster.bootstrap}", flush=True)
        spool = Spool(spool_binary, cluster.bootstrap)

        # Topic creation: the mock serves no CreateTopics, so the client auto-creates the topic
        # through Metadata, with the cluster's default partition count (4 on the mock).
        result, _ = spool.run("topic", "create", "auto", "--partitions", "2")
        if result.returncode != 0 or "created topic auto with 4 partitions" not in result.stdout:
            fail(f"topic create (auto-creation): exit {result.returncode}: {result.stdout} {result.stderr}")
        again, _ = spool.run("topic", "create", "auto")
        if again.returncode == 0 or "TOPIC_ALREADY_EXISTS (36)" not in again.stderr:
            fail(f"topic create of an existing topic: exit {again.returncode}: {again.stderr}")
        # The mock gives each auto-created partition a leader at random (all four on one broker
        # one time in 27): spread them, and check that describe says where each one is.
        for partition in range(4):
            cluster.command(f"leader auto {partition} {partition % 3 + 1}")
        described, _ = spool.run("topic", "describe", "auto")
        leaders = {line.split("\t")[0]: line.split("\t")[1] for line in described.stdout.splitlines()[2:] if line}
        if described.returncode != 0 or leaders != {str(partition): str(partition % 3 + 1) for partition in range(4)}:
            fail(f"topic describe: leaders {leaders}: {described.stdout} {described.stderr}")
        print(f"ok: topic create falls back to auto-creation; partition leaders on brokers {sorted(set(leaders.values()))}", flush=True)

        # Produce and consume, with and without a group, on a topic whose leaders are spread
        # over the brokers and whose group coordinator is a broker of its own.
        cluster.command("topic orders 6")
        for partition in range(6):
            cluster.command(f"leader orders {partition} {partition % 3 + 1}")
        cluster.command("coordinator readers 3")
        records = lines(12, 600, "a")
        produce(spool, "orders", records, "spool produce")
        check_records(consume(spool, "orders", len(records), "spool consume"), records, "spool consume (no group)")
        check_records(consume(spool, "orders", len(records), "spool consume --group", group="readers"), records, "spool consume --group")
        result, _ = spool.run("group", "describe", "readers")
        if result.returncode != 0:
            fail(f"group describe: exit {result.returncode}: {result.stderr}")
        rows = [line.split("\t") for line in result.stdout.splitlines() if line.startswith("orders\t")]
        # Every partition that holds records is committed at its end (partitions no key maps to
        # have nothing to commit).
        if sum(int(row[3]) for row in rows) != len(records) or any(row[2] != row[3] or row[4] != "0" for row in rows) \
                or "total lag: 0" not in result.stdout or "does not serve DescribeGroups" not in result.stdout:
            fail(f"group describe: {result.stdout}")
        print(f"ok: spool group describe: {len(rows)} partitions committed at their end offsets, lag 0, members unavailable", flush=True)

        # The signup demo's job queue over the cluster: topics auto-created, workers as group members.
        result, seconds = spool.run("demo", "--users", "20", timeout=180)
        # One welcome email is cancelled (user-7), the duplicate signup sends none, the pings keep
        # the per-user rate.
        if result.returncode != 0 or "emails sent: 19 for 20 users" not in result.stdout \
                or "each user's third ping waited at least" not in result.stdout:
            fail(f"spool demo --broker: exit {result.returncode}: {result.stdout[-3000:]} {result.stderr[-2000:]}")
        print(f"ok: spool demo --broker: every job settled (one cancelled, pings rate-limited per user) in {seconds:.2f} s", flush=True)

        # Every partition's leader moves while records flow.
        cluster.command("topic moving 4")
        moved = lines(8, 1000, "m")

        def move_leaders():
            for partition in range(4):
                cluster.command(f"leader moving {partition} {(partition + 1) % 3 + 1}")
        produce_while(spool, cluster, "moving", moved, "movers", "leaders move", move_leaders)

        # Broker 2 (a leader of some partitions) goes down for 3 seconds while records flow.
        cluster.command("topic downtime 4")
        for partition in range(4):
            cluster.command(f"leader downtime {partition} {partition % 3 + 1}")
        cluster.command("coordinator survivors 2")
        down = lines(8, 1000, "d")

        def broker_down():
            cluster.command("down 2")
            time.sleep(3)
            cluster.command("up 2")
        produce_while(spool, cluster, "downtime", down, "survivors", "broker 2 down for 3 s (a leader and the group's coordinator)", broker_down)
    finally:
        cluster.stop()
    print(f"cluster tests passed in {time.monotonic() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
