#!/usr/bin/env python3
"""Captures what real Kafka clients send to `spool serve`, and what it answers, as codec fixtures.

For each client this starts a fresh `spool serve` (temporary data directory, free loopback port)
and a recording TCP proxy in front of it, then runs a realistic session of that client against the
proxy: metadata, an idempotent producer, a consumer group (join, sync, heartbeat, commit, fetch
offsets, leave) and every admin operation the client offers. Every request frame and its response
frame (size prefix removed) are recorded with the API key and version from the request header;
responses are matched to requests by correlation id, in order (a Produce with acks=0 has none).

All traffic goes through the proxy: spool is started with `--advertise <proxy address>`, so the
brokers listed in Metadata, the coordinator in FindCoordinator and the nodes in DescribeCluster all
point at the proxy, and clients that reconnect after bootstrap reconnect through it.

The first request/response pair of each API and version is kept (a Produce or Fetch pair with a
frame over 4 KiB is skipped in favour of a later, smaller one) and written to

    Tests/SpoolWireTests/Fixtures/<client>/NNNN-<Api>-v<version>-request.hex
    Tests/SpoolWireTests/Fixtures/<client>/NNNN-<Api>-v<version>-response.hex

(NNNN: order of capture; lowercase hex, 64 characters a line), with CLIENT.txt naming the client
and library versions. A request spool answered by closing the connection (one it cannot decode) is
kept as NNNN-<Api>-v<version>-rejected-request.hex. A client's directory is replaced when it is
recaptured.

    swift build -c release --product spool
    python3 Tests/Fixtures/capture.py --spool .build/release/spool            # every client
    python3 Tests/Fixtures/capture.py --spool .build/release/spool kafka-python

Needs kcat, confluent-kafka, kafka-python and aiokafka (only the clients asked for). Standard library
only otherwise. Binds 127.0.0.1 only; every session is bounded by --timeout seconds.
"""
import argparse, asyncio, os, re, shutil, signal, struct, subprocess, sys, tempfile, time

API_NAMES = {
    0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit", 9: "OffsetFetch",
    10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat", 13: "LeaveGroup", 14: "SyncGroup",
    15: "DescribeGroups", 16: "ListGroups", 17: "SaslHandshake", 18: "ApiVersions", 19: "CreateTopics",
    20: "DeleteTopics", 21: "DeleteRecords", 22: "InitProducerId", 23: "OffsetForLeaderEpoch",
    24: "AddPartitionsToTxn", 25: "AddOffsetsToTxn", 26: "EndTxn", 28: "TxnOffsetCommit",
    29: "DescribeAcls", 30: "CreateAcls", 31: "DeleteAcls", 32: "DescribeConfigs", 33: "AlterConfigs",
    35: "DescribeLogDirs", 36: "SaslAuthenticate", 37: "CreatePartitions", 42: "DeleteGroups",
    43: "ElectLeaders", 44: "IncrementalAlterConfigs", 47: "OffsetDelete", 50: "DescribeUserScramCredentials",
    60: "DescribeCluster", 61: "DescribeProducers", 65: "DescribeTransactions", 66: "ListTransactions",
    75: "DescribeTopicPartitions",
}
CLIENTS = ["kcat", "confluent-kafka", "kafka-python", "aiokafka"]
LARGE = 4096          # Produce/Fetch frames above this are not kept
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO, "Tests", "SpoolWireTests", "Fixtures")


def log(*words):
    print("capture:", *words, file=sys.stderr, flush=True)


# --- recording ----------------------------------------------------------------------------------

class Recorder:
    """The exchanges seen on every proxied connection, kept once per (API key, version)."""

    def __init__(self):
        self.kept = {}      # (key, version) -> [sequence, request, response or None]
        self.sequence = 0
        self.seen = {}      # (key, version) -> exchanges seen, kept or not
        self.rejected = {}  # (key, version) -> [sequence, request] spool answered by closing the connection
        self.stopping = False   # spool was told to stop: the connections it closes now say nothing

    def reject(self, request):
        key, version = struct.unpack(">hh", request[:4])
        if (key, version) not in self.rejected:
            self.sequence += 1
            self.rejected[(key, version)] = [self.sequence, request]

    def exchange(self, request, response):
        key, version = struct.unpack(">hh", request[:4])
        self.seen[(key, version)] = self.seen.get((key, version), 0) + 1
        if key in (0, 1) and (len(request) > LARGE or (response is not None and len(response) > LARGE)):
            return
        old = self.kept.get((key, version))
        if old is None:
            self.sequence += 1
            self.kept[(key, version)] = [self.sequence, request, response]
        elif old[2] is None and response is not None:   # a pair beats a request without an answer
            old[1], old[2] = request, response


class Connection:
    """Splits one connection's two byte streams into frames and pairs them up."""

    def __init__(self, recorder):
        self.recorder = recorder
        self.buffers = {"up": bytearray(), "down": bytearray()}
        self.pending = []   # requests awaiting a response, in order: (correlation id, frame)
        self.closed_by = None   # "client" or "server", whichever side closed first

    def feed(self, direction, data):
        buffer = self.buffers[direction]
        buffer += data
        while len(buffer) >= 4:
            size = struct.unpack(">i", buffer[:4])[0]
            if len(buffer) < 4 + size:
                break
            frame = bytes(buffer[4:4 + size])
            del buffer[:4 + size]
            if direction == "up":
                self.request(frame)
            else:
                self.response(frame)

    def request(self, frame):
        if len(frame) < 8:
            return
        correlation = struct.unpack(">i", frame[4:8])[0]
        self.pending.append((correlation, frame))

    def response(self, frame):
        if len(frame) < 4:
            return
        correlation = struct.unpack(">i", frame[:4])[0]
        # Requests before the answered one got no response (Produce with acks=0).
        while self.pending:
            pending_correlation, request = self.pending.pop(0)
            if pending_correlation == correlation:
                self.recorder.exchange(request, frame)
                return
            self.recorder.exchange(request, None)
        log(f"response with correlation id {correlation} matches no request")


async def proxy_server(recorder, target):
    """A loopback proxy that forwards to `target` (a future of spool's port) and records."""

    async def handle(client_reader, client_writer):
        port = await target
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            client_writer.close()
            return
        connection = Connection(recorder)

        async def pump(reader, writer, direction):
            try:
                while True:
                    data = await reader.read(65536)
                    if not data:
                        break
                    connection.feed(direction, data)
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                if connection.closed_by is None:
                    connection.closed_by = "client" if direction == "up" else "server"
                try:
                    writer.close()
                except Exception:
                    pass

        await asyncio.gather(pump(client_reader, server_writer, "up"), pump(server_reader, client_writer, "down"))
        # Spool closes a connection whose request it cannot decode: the request it closed on is kept
        # apart, as NNNN-<Api>-v<version>-rejected-request.hex. (Requests still pending when the
        # client hangs up, such as a long-polling Fetch, are not kept.)
        if connection.closed_by == "server" and connection.pending and not recorder.stopping:
            recorder.reject(connection.pending[0][1])

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def write_fixtures(recorder, directory, client):
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    frames = [(sequence, key, version, "", request, response) for (key, version), (sequence, request, response) in recorder.kept.items()]
    frames += [(sequence, key, version, "-rejected", request, None) for (key, version), (sequence, request) in recorder.rejected.items()]
    for sequence, key, version, kind, request, response in sorted(frames):
        stem = f"{sequence:04d}-{API_NAMES.get(key, f'Api{key}')}-v{version}{kind}"
        for suffix, frame in (("request", request), ("response", response)):
            if frame is None:
                continue
            text = frame.hex()
            with open(os.path.join(directory, f"{stem}-{suffix}.hex"), "w") as file:
                file.write("\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + "\n")
    with open(os.path.join(directory, "CLIENT.txt"), "w") as file:
        file.write(client_version(client) + "\n")


def client_version(client):
    if client == "kcat":
        out = subprocess.run(["kcat", "-V"], capture_output=True, text=True).stdout
        kcat = re.search(r"^Version (\S+)", out, re.M)
        librdkafka = re.search(r"librdkafka (\S+)", out)
        return f"kcat {kcat.group(1) if kcat else '?'} (librdkafka {librdkafka.group(1) if librdkafka else '?'})"
    if client == "confluent-kafka":
        import confluent_kafka
        return f"confluent-kafka {confluent_kafka.__version__} (librdkafka {confluent_kafka.libversion()[0]})"
    if client == "kafka-python":
        import kafka
        return f"kafka-python {kafka.__version__}"
    import aiokafka
    return f"aiokafka {aiokafka.__version__}"


async def capture(client, spool, out, timeout):
    recorder = Recorder()
    loop = asyncio.get_running_loop()
    target = loop.create_future()
    server = await proxy_server(recorder, target)
    proxy_port = server.sockets[0].getsockname()[1]
    data = tempfile.mkdtemp(prefix="spool-capture-")
    spool_process = await asyncio.create_subprocess_exec(
        spool, "serve", "--data", data, "--listen", "127.0.0.1:0", "--advertise", f"127.0.0.1:{proxy_port}",
        "--http", "off", "--fsync", "never", stderr=asyncio.subprocess.PIPE, stdin=asyncio.subprocess.DEVNULL)
    spool_log = []

    async def drain():
        while True:
            line = await spool_process.stderr.readline()
            if not line:
                break
            text = line.decode(errors="replace").rstrip()
            spool_log.append(text)
            if not target.done() and "listening on " in text:
                target.set_result(int(text.split("listening on ")[1].split()[0].rsplit(":", 1)[1]))

    drainer = asyncio.create_task(drain())
    try:
        await asyncio.wait_for(asyncio.shield(target), 15)
        log(f"{client}: spool on port {target.result()}, proxy on {proxy_port}")
        session = await asyncio.create_subprocess_exec(
            sys.executable, os.path.abspath(__file__), "--session", client, f"127.0.0.1:{proxy_port}",
            stdin=asyncio.subprocess.DEVNULL)
        try:
            await asyncio.wait_for(session.wait(), timeout)
        except asyncio.TimeoutError:
            log(f"{client}: session over {timeout} s, stopped")
            session.kill()
            await session.wait()
        if session.returncode:
            log(f"{client}: session exited with {session.returncode}")
        await asyncio.sleep(0.5)
    finally:
        recorder.stopping = True
        if spool_process.returncode is None:
            spool_process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(spool_process.wait(), 15)
            except asyncio.TimeoutError:
                spool_process.kill()
                await spool_process.wait()
        await drainer
        server.close()
        shutil.rmtree(data, ignore_errors=True)
    closed = [line for line in spool_log if "clos" in line and "connection" in line]
    for line in closed:
        log(f"{client}: {line}")
    if recorder.rejected:
        log(f"{client}: spool closed the connection on: " + ", ".join(f"{API_NAMES.get(k, k)} v{v}" for k, v in recorder.rejected))
    skipped = sorted(key for key in recorder.seen if key not in recorder.kept)
    if skipped:
        log(f"{client}: seen but not kept (over {LARGE} bytes): " + ", ".join(f"{API_NAMES.get(k, k)} v{v}" for k, v in skipped))
    write_fixtures(recorder, os.path.join(out, client), client)
    log(f"{client}: {len(recorder.kept)} API versions kept: " +
        ", ".join(f"{API_NAMES.get(k, k)} v{v}" for (k, v), _ in sorted(recorder.kept.items(), key=lambda i: i[1][0])))


# --- client sessions (run in a child process: `capture.py --session CLIENT BOOTSTRAP`) ---------

def attempt(label, call):
    """Runs one step; a step that fails (an API Spool does not serve, say) does not end the session."""
    try:
        result = call()
        print(f"session: {label}: ok", file=sys.stderr, flush=True)
        return result
    except Exception as error:   # noqa: BLE001 - the session goes on
        print(f"session: {label}: {type(error).__name__}: {error}", file=sys.stderr, flush=True)


def session_kcat(bootstrap):
    def kcat(*args, stdin=None, seconds=20):
        done = subprocess.run(["kcat", "-b", bootstrap, *args], input=stdin, capture_output=True, timeout=seconds)
        if done.returncode:
            raise RuntimeError(done.stderr.decode(errors="replace")[-300:])
        return done.stdout
    lines = "".join(f"user-{i}:event {i}\n" for i in range(20)).encode()
    attempt("metadata", lambda: kcat("-L"))
    attempt("idempotent produce", lambda: kcat("-P", "-t", "fx-kcat", "-K:", "-X", "enable.idempotence=true", stdin=lines))
    attempt("produce acks=0", lambda: kcat("-P", "-t", "fx-kcat", "-K:", "-X", "acks=0", "-X", "linger.ms=0", stdin=lines))
    attempt("consume to the end", lambda: kcat("-C", "-t", "fx-kcat", "-o", "beginning", "-e"))
    attempt("query offsets", lambda: kcat("-Q", "-t", "fx-kcat:0:-1"))

    def group():
        # A balanced consumer: joins, syncs, fetches, commits, heartbeats; SIGINT makes it commit and leave.
        process = subprocess.Popen(["kcat", "-b", bootstrap, "-G", "fx-kcat-group", "-X", "auto.offset.reset=earliest",
                                    "-X", "auto.commit.interval.ms=200", "-X", "heartbeat.interval.ms=300", "fx-kcat"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(6)
        process.send_signal(signal.SIGINT)
        process.wait(15)
    attempt("group consumer", group)


def session_confluent(bootstrap):
    from confluent_kafka import Consumer, Producer, TopicPartition, ConsumerGroupTopicPartitions, TopicCollection
    from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, NewPartitions,
                                       NewTopic, OffsetSpec)
    admin = AdminClient({"bootstrap.servers": bootstrap})

    def wait(futures):
        values = futures.values() if isinstance(futures, dict) else [futures]
        return [future.result(10) for future in values]

    topic, doomed, group = "fx-ck", "fx-ck-doomed", "fx-ck-group"
    attempt("metadata", lambda: admin.list_topics(timeout=10))
    attempt("create topics", lambda: wait(admin.create_topics([NewTopic(topic, 2, 1), NewTopic(doomed, 1, 1)])))
    attempt("create topics (validate only)", lambda: wait(admin.create_topics([NewTopic("fx-ck-dry", 1, 1)], validate_only=True)))
    attempt("describe cluster", lambda: wait(admin.describe_cluster()))
    attempt("describe topics", lambda: wait(admin.describe_topics(TopicCollection([topic]))))
    attempt("create partitions", lambda: wait(admin.create_partitions([NewPartitions(topic, 3)])))
    attempt("describe configs", lambda: wait(admin.describe_configs([ConfigResource("topic", topic)])))
    attempt("describe broker configs", lambda: wait(admin.describe_configs([ConfigResource("broker", "0")])))
    attempt("alter configs", lambda: wait(admin.alter_configs([ConfigResource("topic", topic, set_config={"retention.ms": "604800000"})])))
    attempt("incremental alter configs", lambda: wait(admin.incremental_alter_configs([ConfigResource("topic", topic, incremental_configs=[
        ConfigEntry("segment.bytes", "1048576", incremental_operation=AlterConfigOpType.SET),
        ConfigEntry("cleanup.policy", None, incremental_operation=AlterConfigOpType.DELETE)])])))

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "partitioner": "murmur2_random",
                         "linger.ms": 5})
    def produce():
        for i in range(30):
            producer.produce(topic, key=f"user-{i}".encode(), value=f"event {i}".encode())
        if producer.flush(15):
            raise RuntimeError("not all delivered")
    attempt("idempotent produce", produce)

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "heartbeat.interval.ms": 300, "session.timeout.ms": 6000})
    def consume():
        consumer.subscribe([topic])
        got, deadline = 0, time.time() + 20
        while got < 30 and time.time() < deadline:
            message = consumer.poll(0.5)
            if message is not None and not message.error():
                got += 1
        time.sleep(1)   # a heartbeat or two
        consumer.commit(asynchronous=False)
        consumer.committed([TopicPartition(topic, p) for p in range(3)], timeout=10)
        consumer.position([TopicPartition(topic, 0)])
        consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        consumer.offsets_for_times([TopicPartition(topic, 0, int(time.time() * 1000) - 60000)], timeout=10)
    attempt("group consume and commit", consume)
    attempt("leave group", consumer.close)

    attempt("list groups", lambda: wait(admin.list_consumer_groups()))
    attempt("describe groups", lambda: wait(admin.describe_consumer_groups([group])))
    attempt("list group offsets", lambda: wait(admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])))
    attempt("alter group offsets", lambda: wait(admin.alter_consumer_group_offsets(
        [ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, 1)])])))
    attempt("list offsets", lambda: wait(admin.list_offsets({TopicPartition(topic, 0): OffsetSpec.latest(),
                                                            TopicPartition(topic, 1): OffsetSpec.earliest()})))
    attempt("delete records", lambda: wait(admin.delete_records([TopicPartition(topic, 0, 2)])))
    attempt("delete groups", lambda: wait(admin.delete_consumer_groups([group])))
    attempt("delete topics", lambda: wait(admin.delete_topics([doomed])))
    producer.flush(5)


def session_kafka_python(bootstrap):
    from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic, OffsetSpec
    from kafka.structs import OffsetAndMetadata
    topic, doomed, group = "fx-kp", "fx-kp-doomed", "fx-kp-group"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    attempt("list topics", admin.list_topics)
    attempt("create topics", lambda: admin.create_topics([NewTopic(topic, 2, 1), NewTopic(doomed, 1, 1)]))
    attempt("describe cluster", admin.describe_cluster)
    attempt("describe topics", lambda: admin.describe_topics([topic]))
    attempt("create partitions", lambda: admin.create_partitions({topic: NewPartitions(3)}))
    attempt("describe configs", lambda: admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)]))
    attempt("describe broker configs", lambda: admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, "0")]))
    attempt("alter configs", lambda: admin.alter_configs(
        [ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": "604800000"})], incremental=False))
    attempt("incremental alter configs", lambda: admin.alter_configs(
        [ConfigResource(ConfigResourceType.TOPIC, topic, configs={"segment.bytes": "1048576"})], incremental=True))

    producer = KafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=5)
    def produce():
        futures = [producer.send(topic, key=f"user-{i}".encode(), value=f"event {i}".encode()) for i in range(30)]
        producer.flush(15)
        for future in futures:
            future.get(10)
    attempt("idempotent produce", produce)
    attempt("close producer", lambda: producer.close(10))

    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                             enable_auto_commit=False, heartbeat_interval_ms=300)
    def consume():
        got, deadline = 0, time.time() + 20
        while got < 30 and time.time() < deadline:
            got += sum(len(messages) for messages in consumer.poll(timeout_ms=500).values())
        consumer.poll(timeout_ms=1000)   # a heartbeat or two
        consumer.commit()
        consumer.committed(TopicPartition(topic, 0))
        partitions = [TopicPartition(topic, p) for p in range(3)]
        consumer.beginning_offsets(partitions)
        consumer.end_offsets(partitions)
        consumer.offsets_for_times({TopicPartition(topic, 0): int(time.time() * 1000) - 60000})
        return got
    attempt("group consume and commit", consume)
    attempt("leave group", consumer.close)

    tp0 = TopicPartition(topic, 0)
    attempt("list groups", admin.list_groups)
    attempt("describe groups", lambda: admin.describe_groups([group]))
    attempt("list group offsets", lambda: admin.list_group_offsets({group: None}))
    attempt("alter group offsets", lambda: admin.alter_group_offsets(group, {tp0: OffsetAndMetadata(1, "", -1)}))
    attempt("delete group offsets", lambda: admin.delete_group_offsets(group, [tp0]))
    attempt("list partition offsets", lambda: admin.list_partition_offsets({tp0: OffsetSpec.LATEST}))
    attempt("describe producers", lambda: admin.describe_producers([tp0]))
    attempt("describe log dirs", lambda: admin.describe_log_dirs())
    attempt("delete records", lambda: admin.delete_records({tp0: 2}))
    attempt("delete groups", lambda: admin.delete_groups([group]))
    attempt("delete topics", lambda: admin.delete_topics([doomed]))
    attempt("close admin", admin.close)


def session_aiokafka(bootstrap):
    import asyncio as aio
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic, RecordsToDelete
    from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
    topic, doomed, group = "fx-aio", "fx-aio-doomed", "fx-aio-group"

    async def step(label, awaitable):
        try:
            result = await aio.wait_for(awaitable, 20)
            print(f"session: {label}: ok", file=sys.stderr, flush=True)
            return result
        except Exception as error:   # noqa: BLE001
            print(f"session: {label}: {type(error).__name__}: {error}", file=sys.stderr, flush=True)

    async def run():
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        await step("list topics", admin.list_topics())
        await step("create topics", admin.create_topics([NewTopic(topic, 2, 1), NewTopic(doomed, 1, 1)]))
        await step("describe cluster", admin.describe_cluster())
        await step("describe topics", admin.describe_topics([topic]))
        await step("create partitions", admin.create_partitions({topic: NewPartitions(3)}))
        await step("describe configs", admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)]))
        await step("describe broker configs", admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, "0")]))
        await step("alter configs", admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic, configs={"retention.ms": "604800000"})]))

        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, linger_ms=5)
        await step("start producer", producer.start())
        async def produce():
            futures = [await producer.send(topic, key=f"user-{i}".encode(), value=f"event {i}".encode()) for i in range(30)]
            await aio.gather(*futures)
        await step("idempotent produce", produce())
        await step("stop producer", producer.stop())

        consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest",
                                    enable_auto_commit=False, heartbeat_interval_ms=300)
        await step("start consumer", consumer.start())
        async def consume():
            got = 0
            while got < 30:
                batches = await consumer.getmany(timeout_ms=1000)
                got += sum(len(messages) for messages in batches.values())
            await aio.sleep(1)   # a heartbeat or two
            await consumer.commit()
            await consumer.committed(TopicPartition(topic, 0))
            partitions = [TopicPartition(topic, p) for p in range(3)]
            await consumer.beginning_offsets(partitions)
            await consumer.end_offsets(partitions)
            await consumer.offsets_for_times({TopicPartition(topic, 0): int(time.time() * 1000) - 60000})
        await step("group consume and commit", consume())
        await step("leave group", consumer.stop())

        await step("find coordinator", admin.find_coordinator(group))
        await step("list groups", admin.list_consumer_groups())
        await step("describe groups", admin.describe_consumer_groups([group]))
        await step("list group offsets", admin.list_consumer_group_offsets(group))
        await step("delete records", admin.delete_records({TopicPartition(topic, 0): RecordsToDelete(2)}))
        await step("delete topics", admin.delete_topics([doomed]))
        await admin.close()

    aio.run(run())


SESSIONS = {"kcat": session_kcat, "confluent-kafka": session_confluent, "kafka-python": session_kafka_python,
            "aiokafka": session_aiokafka}


def main():
    parser = argparse.ArgumentParser(description="Record real Kafka clients' frames against spool serve as codec fixtures.")
    parser.add_argument("clients", nargs="*", help=f"clients to capture: {', '.join(CLIENTS)} (default: all)")
    parser.add_argument("--spool", default=os.path.join(REPO, ".build", "release", "spool"), help="the spool binary")
    parser.add_argument("--out", default=DEFAULT_OUT, help="fixtures directory (default: %(default)s)")
    parser.add_argument("--timeout", type=float, default=180, help="seconds allowed for each client's session")
    parser.add_argument("--session", nargs=2, metavar=("CLIENT", "BOOTSTRAP"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.session:
        SESSIONS[args.session[0]](args.session[1])
        return
    unknown = [client for client in args.clients if client not in CLIENTS]
    if unknown:
        parser.error(f"unknown client {unknown[0]}; choose from {', '.join(CLIENTS)}")
    if not os.access(args.spool, os.X_OK):
        sys.exit(f"capture: no spool binary at {args.spool} (swift build -c release --product spool)")
    for client in args.clients or CLIENTS:
        asyncio.run(capture(client, os.path.abspath(args.spool), args.out, args.timeout))


if __name__ == "__main__":
    main()
