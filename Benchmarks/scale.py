#!/usr/bin/env python3
"""A large log under `spool serve`: write GB gigabytes across several partitions, kill the broker
with SIGKILL, restart it and time until it answers, then read everything back while sampling its
memory.

    python3 Benchmarks/scale.py [--spool .build/release/spool] [--gb 10] [--dir /tmp] [--drop-caches]

Writes with `spool bench produce` (records of --size bytes, acks=all, fsync=always), reads with
`spool bench consume`. Recovery time is from starting the process to the first ApiVersions answer
(the listener opens only once every partition is recovered), then to a Metadata answer for the
topic. Memory is sampled from /proc/PID/status every 100 ms: VmRSS and its parts RssAnon (heap,
stacks) and RssFile (mapped file pages: the log is read through mmap). Targets: restart under 2 s,
VmRSS under 200 MB while the whole log is read. --drop-caches empties the page cache before the
restart (root only), so recovery reads from the disk. The data is deleted at the end.
"""
import argparse, json, os, shutil, signal, socket, struct, subprocess, sys, tempfile, threading, time

from harness import free_port, memory


def request(port, api_key, version, body=b'', timeout=5.0):
    """One request on a fresh connection; the response body (after the correlation id)."""
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as sock:
        client = b'scale'
        frame = struct.pack('>hhih', api_key, version, 7, len(client)) + client + body
        sock.sendall(struct.pack('>i', len(frame)) + frame)
        data = b''
        while len(data) < 4 or len(data) < 4 + struct.unpack('>i', data[:4])[0]:
            chunk = sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError('closed')
            data += chunk
        return data[8:]


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, {'VmRSS': 0, 'RssAnon': 0, 'RssFile': 0}, threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                for name, value in memory(self.pid).items():
                    self.peak[name] = max(self.peak[name], value)
            except OSError:
                return
            time.sleep(0.1)


def mb(n):
    return f'{n / 1e6:.1f} MB'


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--spool', default='.build/release/spool')
    parser.add_argument('--gb', type=float, default=10)
    parser.add_argument('--size', type=int, default=65536, help='bytes per record')
    parser.add_argument('--partitions', type=int, default=8)
    parser.add_argument('--dir', default=tempfile.gettempdir(), help='where the data directory goes')
    parser.add_argument('--drop-caches', action='store_true')
    parser.add_argument('--restart-target-s', type=float, default=2.0)
    parser.add_argument('--rss-target-mb', type=float, default=200)
    args = parser.parse_args()
    spool = os.path.abspath(args.spool)
    records = int(args.gb * 1e9 / args.size)
    free = shutil.disk_usage(args.dir).free
    if free < args.gb * 1e9 * 1.2 + 2e9:
        sys.exit(f'{args.dir} has {free / 1e9:.1f} GB free; {args.gb * 1.2 + 2:.1f} GB needed')

    workdir = tempfile.mkdtemp(prefix='spool-scale-', dir=args.dir)
    port = free_port()
    broker = None
    log = open(os.path.join(workdir, 'serve.log'), 'ab')

    def start():
        started = time.monotonic()
        process = subprocess.Popen([spool, 'serve', '--data', os.path.join(workdir, 'data'), '--listen', f'127.0.0.1:{port}',
                                    '--fsync', 'always', '--http', 'off', '--partitions', str(args.partitions)],
                                   stdout=log, stderr=subprocess.STDOUT)
        while True:
            try:
                request(port, 18, 0)
                return process, time.monotonic() - started
            except OSError:
                if process.poll() is not None or time.monotonic() - started > 600:
                    raise RuntimeError('spool serve did not start')
                time.sleep(0.005)

    def bench(*words):
        result = subprocess.run([spool, 'bench', *words, '--broker', f'127.0.0.1:{port}', '--topic', 'scale', '--json'],
                                capture_output=True, text=True, timeout=3600)
        if result.returncode != 0:
            raise RuntimeError(f'spool bench {words[0]} failed: {result.stdout}{result.stderr}')
        return json.loads(result.stdout.strip().splitlines()[-1])

    failures = []
    try:
        broker, _ = start()
        began = time.monotonic()
        produced = bench('produce', '--records', str(records), '--size', str(args.size), '--partitions', str(args.partitions))
        written = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(os.path.join(workdir, 'data'))
                      for f in files if f.endswith('.log'))
        print(f'wrote {records} records of {args.size} bytes ({written / 1e9:.2f} GB of segments) in '
              f'{time.monotonic() - began:.1f} s: {produced["mb_per_s"]:.0f} MB/s, acks=all, fsync=always', flush=True)

        os.kill(broker.pid, signal.SIGKILL)
        broker.wait()
        if args.drop_caches:
            subprocess.run(['sync'], check=True)
            with open('/proc/sys/vm/drop_caches', 'w') as f:
                f.write('3\n')
        broker, listening_s = start()
        # Metadata v1 for the topic: the partitions are open and answerable.
        topic = b'scale'
        before = time.monotonic()
        request(port, 3, 1, struct.pack('>ih', 1, len(topic)) + topic)
        metadata_s = listening_s + time.monotonic() - before
        print(f'restart after SIGKILL{" (page cache dropped)" if args.drop_caches else ""}: ApiVersions answered '
              f'{listening_s * 1000:.0f} ms after start, Metadata {metadata_s * 1000:.0f} ms (target < {args.restart_target_s:.0f} s)',
              flush=True)
        if metadata_s > args.restart_target_s:
            failures.append(f'restart took {metadata_s:.2f} s')

        at_start = memory(broker.pid)
        sampler = Sampler(broker.pid)
        sampler.start()
        consumed = bench('consume', '--records', str(records))
        sampler.stop.set()
        sampler.join()
        after = memory(broker.pid)
        peak = sampler.peak
        print(f'read {records} records: {consumed["records_per_s"]:,.0f} records/s, {consumed["mb_per_s"]:.0f} MB/s', flush=True)
        print(f'broker memory after restart: VmRSS {mb(at_start["VmRSS"])} (anon {mb(at_start["RssAnon"])}, file {mb(at_start["RssFile"])})')
        print(f'broker memory during the read, peak: VmRSS {mb(peak["VmRSS"])}, RssAnon {mb(peak["RssAnon"])}, '
              f'RssFile {mb(peak["RssFile"])} (target VmRSS < {args.rss_target_mb:.0f} MB)')
        print(f'broker memory after the read: VmRSS {mb(after["VmRSS"])} (anon {mb(after["RssAnon"])}, file {mb(after["RssFile"])})')
        if peak['VmRSS'] > args.rss_target_mb * 1e6:
            failures.append(f'VmRSS peaked at {mb(peak["VmRSS"])}')
        for failure in failures:
            print('FAIL:', failure)
        return 1 if failures else 0
    finally:
        if broker and broker.poll() is None:
            broker.kill()
            broker.wait()
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
