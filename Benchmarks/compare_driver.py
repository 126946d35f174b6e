#!/usr/bin/env python3
"""Load drivers for Benchmarks/compare.sh where a peer has no benchmark tool of its own.

    compare_driver.py redis|nats|beanstalkd produce|consume|e2e --port P [--records N] [--size B]
                      [--connections C] [--rate R] [--max-seconds S]
    compare_driver.py report RESULTS.jsonl SVG_PATH

Each measurement prints one JSON object on its last line: records, seconds, records_per_s,
p50_ms, p99_ms, driver. Every loop is bounded by a record count and by --max-seconds; a run that
stops on the time bound reports the records it did and says so ("capped": true).

NATS and beanstalkd are driven over their text protocols directly (pipelined writes, one
incremental parser per connection) so that Python's per-message cost stays far below the
server's; Redis through redis-py with the hiredis parser. End-to-end latency is from the moment
a record is written to the socket to the moment the consumer has parsed it; the send time
travels in the record as decimal CLOCK_MONOTONIC nanoseconds (the same clock in every process).
"""
import argparse
import json
from xml.sax.saxutils import escape
import select
import socket
import sys
import threading
import time

NS = 1_000_000_000
STARTED = time.monotonic()


def now_ns():
    return time.monotonic_ns()


def stamped_value(size):
    stamp = b"%020d" % now_ns()
    return stamp + b"v" * max(0, size - len(stamp))


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, int(-(-p * len(sorted_values) // 1)) - 1))
    return sorted_values[index] / 1e6


def result(records, seconds, latencies_ns, driver, capped=False, extra=None):
    lat = sorted(latencies_ns)
    out = {"records": records, "seconds": round(seconds, 3),
           "records_per_s": round(records / seconds) if seconds > 0 else 0,
           "p50_ms": round(percentile(lat, 0.50), 3), "p99_ms": round(percentile(lat, 0.99), 3),
           "p999_ms": round(percentile(lat, 0.999), 3),
           "driver": driver, "capped": capped}
    # The driver's CPU time over its wall time (all threads, setup included): near 1.0, a whole
    # core under the GIL, means the driver rather than the server may have set the pace.
    out["driver_cpu_share"] = round(time.process_time() / max(1e-9, time.monotonic() - STARTED), 2)
    out.update(extra or {})
    return out


def fan_out(records, connections, work):
    """Runs work(index, share) on a thread per connection, the records split evenly; returns the
    records done in all and the seconds from the first start to the last finish."""
    done = [0] * connections
    shares = [records // connections + (1 if i < records % connections else 0) for i in range(connections)]
    threads = [threading.Thread(target=lambda i=i: done.__setitem__(i, work(i, shares[i]))) for i in range(connections)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done), time.monotonic() - started


class LineConn:
    """A TCP connection with a receive buffer and helpers for line-based protocols."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0

    def fill(self, timeout=None):
        if timeout is not None:
            ready, _, _ = select.select([self.sock], [], [], timeout)
            if not ready:
                return False
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("server closed the connection")
        if self.pos > (1 << 20):
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += data
        return True

    def frame(self, body_size):
        """The next line and, when body_size(parts of the line) names a size, the body after it
        (without its CRLF); None until the whole frame is buffered."""
        end = self.buf.find(b"\r\n", self.pos)
        if end < 0:
            return None
        parts = bytes(self.buf[self.pos:end]).split(b" ")
        size = body_size(parts)
        if size is None:
            self.pos = end + 2
            return parts, b""
        if len(self.buf) - (end + 2) < size + 2:
            return None
        body = bytes(self.buf[end + 2:end + 2 + size])
        self.pos = end + 4 + size
        return parts, body

    def send(self, data):
        self.sock.sendall(data)


# ---------------------------------------------------------------- NATS JetStream (text protocol)

class Nats(LineConn):
    """NATS client protocol: CONNECT, SUB, PUB, and a parser for MSG/HMSG/PING/+OK/-ERR."""

    def __init__(self, port):
        super().__init__(port)
        while self.frame(lambda parts: None) is None:  # INFO
            self.fill(5)
        self.send(b'CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true}\r\nPING\r\n')
        self.until(lambda kind, *_: kind == "PONG", 5)

    def messages(self):
        """Yields (kind, subject, payload, headers) for what is buffered; stops at an incomplete frame."""
        while (framed := self.frame(lambda parts: int(parts[-1]) if parts[0] in (b"MSG", b"HMSG") else None)) is not None:
            parts, payload = framed
            if parts[0] == b"HMSG":
                header_size = int(parts[-2])
                headers = payload[:header_size]
                # Flow control from a push consumer: answer on its reply subject or it stops.
                if len(parts) == 6 and b"FlowControl" in headers:
                    self.send(b"PUB %s 0\r\n\r\n" % parts[3])
                yield "HMSG", parts[1], payload[header_size:], headers
            elif parts[0] == b"MSG":
                yield "MSG", parts[1], payload, b""
            elif parts[0] == b"PING":
                self.send(b"PONG\r\n")
            elif parts[0] == b"PONG":
                yield "PONG", b"", b"", b""
            elif parts[0] == b"-ERR":
                raise RuntimeError("NATS: " + b" ".join(parts).decode())

    def until(self, predicate, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.messages():
                if predicate(*message):
                    return message
            self.fill(max(0.0, deadline - time.monotonic()))
        raise TimeoutError("NATS: no answer within %s s" % timeout)

    def request(self, subject, body):
        inbox = b"_INBOX.admin.%d" % now_ns()
        # UNSUB with a count of 1 ends the subscription once the answer has come.
        self.send(b"SUB %s 99\r\nUNSUB 99 1\r\nPUB %s %s %d\r\n%s\r\n" % (inbox, subject, inbox, len(body), body))
        _, _, payload, _ = self.until(lambda kind, subject_, *_: kind == "MSG" and subject_ == inbox, 10)
        answer = json.loads(payload)
        if "error" in answer:
            raise RuntimeError("NATS: %s" % answer["error"])
        return answer


def nats_setup(port):
    conn = Nats(port)
    try:
        conn.request(b"$JS.API.STREAM.INFO.BENCH", b"")
    except RuntimeError:
        config = {"name": "BENCH", "subjects": ["bench", "e2e"], "storage": "file", "retention": "limits",
                  "max_msgs": -1, "max_bytes": -1, "discard": "old", "num_replicas": 1}
        conn.request(b"$JS.API.STREAM.CREATE.BENCH", json.dumps(config).encode())
    return conn


def pipelined(conn, command, count, window, chunk, deadline, acks):
    """Sends `command` count times in chunks, keeping at most `window` unanswered, until all are
    answered or the deadline; acks() counts the answers parsed from what has arrived. Returns
    the number answered."""
    sent = answered = 0
    while answered < count and time.monotonic() < deadline:
        if sent < count and sent - answered <= window - chunk:
            n = min(chunk, count - sent)
            conn.send(command * n)
            sent += n
            timeout = 0
        else:
            timeout = 0.5
        if conn.fill(timeout):
            answered += acks()
    return answered


def nats_produce(conn, subject, count, size, window, deadline):
    """Publishes count records with JetStream acks, at most `window` unacknowledged; returns acked."""
    inbox = b"_INBOX.acks.%d" % now_ns()
    conn.send(b"SUB %s 1\r\n" % inbox)

    def acks():
        acked = 0
        for kind, subject, payload, _ in conn.messages():
            if kind == "MSG" and subject == inbox:
                if payload.startswith(b'{"error"'):
                    raise RuntimeError("NATS publish failed: %s" % payload.decode())
                acked += 1
        return acked
    one = b"PUB %s %s %d\r\n%s\r\n" % (subject, inbox, size, b"v" * size)
    return pipelined(conn, one, count, window, 500, deadline, acks)


def nats_consumer(conn, filter_subject, deliver_policy):
    deliver = b"deliver.%d" % now_ns()
    conn.send(b"SUB %s 2\r\n" % deliver)
    config = {"stream_name": "BENCH", "config": {"deliver_subject": deliver.decode(), "ack_policy": "none",
                                                "deliver_policy": deliver_policy, "filter_subject": filter_subject,
                                                "flow_control": True, "idle_heartbeat": NS}}
    conn.request(b"$JS.API.CONSUMER.CREATE.BENCH", json.dumps(config).encode())


def run_nats(args):
    deadline = time.monotonic() + args.max_seconds
    driver = "compare_driver.py: NATS text protocol, pipelined PUB with JetStream acks"
    if args.mode == "produce":
        conns = [nats_setup(args.port) for _ in range(args.connections)]
        done, seconds = fan_out(args.records, len(conns), lambda i, share: nats_produce(conns[i], b"bench", share, args.size, 4000, deadline))
        return result(done, seconds, [], driver + ", %d connections" % len(conns), done < args.records)
    if args.mode == "consume":
        conn = nats_setup(args.port)
        started = time.monotonic()
        nats_consumer(conn, "bench", "all")
        count = 0
        while count < args.records and time.monotonic() < deadline:
            conn.fill(1.0)
            for kind, _, _, _ in conn.messages():
                if kind == "MSG":
                    count += 1
        return result(count, time.monotonic() - started, [], "compare_driver.py: NATS push consumer, ack none", count < args.records)
    return e2e(args, lambda: NatsE2E(args.port), driver + " / push consumer")


class NatsE2E:
    def __init__(self, port):
        self.pub = nats_setup(port)
        self.sub = nats_setup(port)
        nats_consumer(self.sub, "e2e", "new")
        self.inbox = b"_INBOX.e2e.%d" % now_ns()
        self.pub.send(b"SUB %s 1\r\n" % self.inbox)

    def send(self, values):
        self.pub.send(b"".join(b"PUB e2e %s %d\r\n%s\r\n" % (self.inbox, len(v), v) for v in values))
        if self.pub.fill(0):
            for _ in self.pub.messages():
                pass

    def receive(self, timeout):
        self.sub.fill(timeout)
        return [payload for kind, _, payload, _ in self.sub.messages() if kind == "MSG"]


# ---------------------------------------------------------------- beanstalkd (text protocol)

class Beanstalk(LineConn):
    def replies(self):
        """Yields (word, id, body) for each complete reply buffered."""
        while (framed := self.frame(lambda parts: int(parts[2]) if parts[0] == b"RESERVED" else None)) is not None:
            parts, body = framed
            if parts[0] in (b"RESERVED", b"INSERTED", b"DELETED", b"TIMED_OUT", b"DEADLINE_SOON", b"USING", b"WATCHING"):
                yield parts[0].decode(), parts[1] if len(parts) > 1 else b"", body
            else:
                raise RuntimeError("beanstalkd: " + b" ".join(parts).decode())


def beanstalk_put(port, count, size, deadline, window=2000):
    conn = Beanstalk(port)
    one = b"put 0 0 60 %d\r\n%s\r\n" % (size, b"v" * size)
    return pipelined(conn, one, count, window, 200, deadline, lambda: sum(1 for word, _, _ in conn.replies() if word == "INSERTED"))


def run_beanstalkd(args):
    deadline = time.monotonic() + args.max_seconds
    driver = "compare_driver.py: beanstalkd protocol, pipelined"
    if args.mode == "produce":
        done, seconds = fan_out(args.records, args.connections, lambda i, share: beanstalk_put(args.port, share, args.size, deadline))
        return result(done, seconds, [], driver + " put, %d connections" % args.connections, done < args.records)
    if args.mode == "consume":
        conn = Beanstalk(args.port)
        started = time.monotonic()
        count = 0
        batch = 500
        while count < args.records and time.monotonic() < deadline:
            n = min(batch, args.records - count)
            conn.send(b"reserve-with-timeout 0\r\n" * n)
            got = timed_out = 0
            deletes = []
            while got + timed_out < n:
                conn.fill(5)
                for word, job, _ in conn.replies():
                    if word == "RESERVED":
                        got += 1
                        deletes.append(b"delete %s\r\n" % job)
                    elif word in ("TIMED_OUT", "DEADLINE_SOON"):
                        timed_out += 1
            conn.send(b"".join(deletes))
            deleted = 0
            while deleted < len(deletes):
                conn.fill(5)
                deleted += sum(1 for word, _, _ in conn.replies() if word == "DELETED")
            count += got
            if timed_out:
                break
        return result(count, time.monotonic() - started, [], driver + " reserve + delete, batches of %d" % batch, count < args.records)
    return e2e(args, lambda: BeanstalkE2E(args.port), driver + " put / reserve + delete")


class BeanstalkE2E:
    """Its own tube, so jobs left from the backlog (puts still in flight when a time bound
    stopped the producers) cannot mix in."""

    def __init__(self, port):
        self.pub = Beanstalk(port)
        self.pub.send(b"use e2e\r\n")
        self.sub = Beanstalk(port)
        self.sub.send(b"watch e2e\r\nignore default\r\nreserve-with-timeout 1\r\n")

    def send(self, values):
        self.pub.send(b"".join(b"put 0 0 60 %d\r\n%s\r\n" % (len(v), v) for v in values))
        if self.pub.fill(0):
            for _ in self.pub.replies():
                pass

    def receive(self, timeout):
        if not self.sub.fill(timeout):
            return []
        bodies, commands = [], []
        for word, job, body in self.sub.replies():
            # Each reserve is answered once (RESERVED or TIMED_OUT): ask for the next one then.
            if word == "RESERVED":
                bodies.append(body)
                commands.append(b"delete %s\r\nreserve-with-timeout 1\r\n" % job)
            elif word in ("TIMED_OUT", "DEADLINE_SOON"):
                commands.append(b"reserve-with-timeout 1\r\n")
        if commands:
            self.sub.send(b"".join(commands))
        return bodies


# ---------------------------------------------------------------- Redis Streams (redis-py + hiredis)

def run_redis(args):
    import redis
    deadline = time.monotonic() + args.max_seconds
    driver = "compare_driver.py: redis-py %s with hiredis" % redis.__version__
    if args.mode == "consume":
        client = redis.Redis(port=args.port, host="127.0.0.1")
        started = time.monotonic()
        count, last = 0, b"0-0"
        while count < args.records and time.monotonic() < deadline:
            answer = client.xread({"s": last}, count=10000)
            if not answer:
                break
            entries = answer[0][1]
            count += len(entries)
            last = entries[-1][0]
        return result(count, time.monotonic() - started, [], driver + ", XREAD COUNT 10000", count < args.records)
    if args.mode == "e2e":
        return e2e(args, lambda: RedisE2E(args.port), driver + ", pipelined XADD / XREAD BLOCK")
    raise SystemExit("redis produce is measured with redis-benchmark")


class RedisE2E:
    def __init__(self, port):
        import redis
        self.pub = redis.Redis(port=port, host="127.0.0.1")
        self.sub = redis.Redis(port=port, host="127.0.0.1")
        self.last = b"$"

    def send(self, values):
        pipe = self.pub.pipeline(transaction=False)
        for value in values:
            pipe.xadd("e2e", {"f": value})
        pipe.execute()

    def receive(self, timeout):
        answer = self.sub.xread({"e2e": self.last}, count=10000, block=max(1, int(timeout * 1000)))
        if not answer:
            return []
        entries = answer[0][1]
        self.last = entries[-1][0]
        return [fields[b"f"] for _, fields in entries]


# ---------------------------------------------------------------- end to end at a fixed rate

def e2e(args, make, driver):
    """Sends args.records stamped records at args.rate per second (as due, every millisecond) while
    a consumer thread receives them; latency is receipt minus the stamp."""
    peer = make()
    latencies = []
    done = threading.Event()
    failure = []

    def consume():
        try:
            grace_end = None
            while len(latencies) < args.records:
                if done.is_set():
                    grace_end = grace_end or time.monotonic() + 10
                    if time.monotonic() > grace_end:
                        return
                for value in peer.receive(0.2):
                    received = now_ns()
                    latencies.append(received - int(value[:20]))
        except Exception as error:  # reported by the main thread
            failure.append(error)

    receiver = threading.Thread(target=consume)
    receiver.start()
    time.sleep(0.5)  # the consumer is subscribed before the first send
    started = time.monotonic()
    interval = 1.0 / args.rate
    sent = 0
    deadline = started + args.max_seconds
    while sent < args.records and time.monotonic() < deadline and not failure:
        due = min(args.records, int((time.monotonic() - started) / interval) + 1)
        if due > sent:
            peer.send([stamped_value(args.size) for _ in range(due - sent)])
            sent = due
        time.sleep(0.001)
    send_seconds = time.monotonic() - started
    done.set()
    receiver.join()
    if failure:
        raise failure[0]
    return result(len(latencies), send_seconds, latencies, driver, len(latencies) < args.records,
                  {"sent": sent, "rate": args.rate})


# ---------------------------------------------------------------- report: markdown table and SVG chart

def report(results_path, svg_path):
    rows = [json.loads(line) for line in open(results_path) if line.strip()]
    systems = []
    for row in rows:
        if row["system"] not in systems:
            systems.append(row["system"])
    cell = {(row["system"], row["test"]): row for row in rows}
    print("| system | durability | produce records/s | consume (backlog) records/s | e2e p50 ms | e2e p99 ms | e2e received/sent |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for system in systems:
        produce, consume, latency = (cell.get((system, t)) for t in ("produce", "consume", "e2e"))
        durability = next(r.get("durability", "") for r in rows if r["system"] == system)

        def rate(row):
            if not row:
                return "–"
            text = "{:,}".format(row["records_per_s"])
            return text + (" (%s records, time cap)" % "{:,}".format(row["records"]) if row.get("capped") else "")
        e2e_cells = ("–", "–", "–") if not latency else (
            "%.1f" % latency["p50_ms"], "%.1f" % latency["p99_ms"], "%s/%s" % ("{:,}".format(latency["records"]), "{:,}".format(latency.get("sent", latency["records"]))))
        print("| %s | %s | %s | %s | %s | %s | %s |" % ((system, durability, rate(produce), rate(consume)) + e2e_cells))
    print()
    print("Drivers:")
    for row in rows:
        share = " (driver CPU: %.2f of a core)" % row["driver_cpu_share"] if "driver_cpu_share" in row else ""
        print("- %s %s: %s%s" % (row["system"], row["test"], row["driver"], share))
    durabilities = {row["system"]: row.get("durability", "") for row in rows}
    write_svg(systems, cell, durabilities, svg_path)


def write_svg(systems, cell, durabilities, path):
    """Three panels of horizontal bars: produce and consume records/s, e2e p99 latency."""
    colors = ["#2b6cb0", "#c53030", "#2f855a", "#b7791f", "#6b46c1"]
    panels = [("produce, records/s (higher is better)", "produce", "records_per_s"),
              ("consume a backlog, records/s (higher is better)", "consume", "records_per_s"),
              ("end to end at a fixed rate, p99 ms (lower is better)", "e2e", "p99_ms")]
    bar, gap, left, width = 22, 6, 120, 520
    panel_height = 34 + len(systems) * (bar + gap)
    height = 40 + panel_height * len(panels) + 18 * len(systems) + 10
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">' % (left + width + 140, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="10" y="22" font-size="15" font-weight="bold">Spool and its peers, 100-byte records, fsync before ack where the peer has it</text>']
    y = 40
    for title, test, key in panels:
        out.append('<text x="10" y="%d" font-weight="bold">%s</text>' % (y + 16, title))
        values = [cell[(s, test)][key] for s in systems if (s, test) in cell]
        top = max(values) if values else 1
        for index, system in enumerate(systems):
            row_y = y + 26 + index * (bar + gap)
            out.append('<text x="10" y="%d">%s</text>' % (row_y + 15, system))
            row = cell.get((system, test))
            if not row:
                out.append('<text x="%d" y="%d" fill="#666">not measured</text>' % (left, row_y + 15))
                continue
            length = max(1, int(width * row[key] / top)) if top else 1
            out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="%s"/>' % (left, row_y, length, bar, colors[index % len(colors)]))
            label = "{:,}".format(row[key]) if key == "records_per_s" else "%.1f ms" % row[key]
            out.append('<text x="%d" y="%d">%s</text>' % (left + length + 6, row_y + 15, label))
        y += panel_height
    for system in systems:
        out.append('<text x="10" y="%d" fill="#444">%s: %s</text>' % (y + 12, system, escape(durabilities.get(system, ""))))
        y += 18
    out.append("</svg>")
    with open(path, "w") as handle:
        handle.write("\n".join(out) + "\n")


def record(results_path, system, test, durability, driver):
    """Appends the JSON object on stdin's last line to the results, tagged with what it measured."""
    lines = [line for line in sys.stdin.read().splitlines() if line.strip()]
    if not lines:
        raise SystemExit("no result for %s %s" % (system, test))
    row = json.loads(lines[-1])
    row.update({"system": system, "test": test, "durability": durability})
    if driver:
        row["driver"] = driver
    row.setdefault("capped", False)
    with open(results_path, "a") as handle:
        handle.write(json.dumps(row) + "\n")
    print("%-10s %-8s %s" % (system, test, json.dumps(row)))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) in (6, 7) and sys.argv[1] == "record":
        record(*sys.argv[2:6], sys.argv[6] if len(sys.argv) == 7 else "")
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("system", choices=["redis", "nats", "beanstalkd"])
    parser.add_argument("mode", choices=["produce", "consume", "e2e"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--rate", type=int, default=10_000)
    parser.add_argument("--max-seconds", type=float, default=60)
    args = parser.parse_args()
    if args.size < 20:
        parser.error("--size must be at least 20 (the stamp)")
    run = {"redis": run_redis, "nats": run_nats, "beanstalkd": run_beanstalkd}[args.system]
    print(json.dumps(run(args)))


if __name__ == "__main__":
    main()
