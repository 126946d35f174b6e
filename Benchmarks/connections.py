#!/usr/bin/env python3
"""Idle connections beside an active producer and consumer, against `spool serve --fsync always`.

    python3 Benchmarks/connections.py [--spool .build/release/spool] [--idle 1000] [--records 200000]

Starts the broker on a free loopback port, runs `spool bench e2e` (producers and a consumer at
once) with no other connections, then opens IDLE connections that each complete an ApiVersions
request and go quiet, runs the same e2e load again, and checks every idle connection still answers.
Prints the active pair's records/s both times and the broker's memory (VmRSS, RssAnon, RssFile
from /proc/PID/status) before and after. Fails when an idle connection was dropped, the e2e load
failed, or the broker's anonymous memory grew by more than --rss-per-connection-kb per idle
connection.
"""
import argparse, json, os, resource, shutil, signal, socket, struct, subprocess, sys, tempfile, time

from harness import free_port, memory


def api_versions(sock, correlation):
    """Sends ApiVersions v0 and reads its whole response; False if the connection is gone."""
    client = b'idle'
    body = struct.pack('>hhih', 18, 0, correlation, len(client)) + client
    try:
        sock.sendall(struct.pack('>i', len(body)) + body)
        header = b''
        while len(header) < 4:
            chunk = sock.recv(4 - len(header))
            if not chunk:
                return False
            header += chunk
        size, = struct.unpack('>i', header)
        payload = b''
        while len(payload) < size:
            chunk = sock.recv(size - len(payload))
            if not chunk:
                return False
            payload += chunk
        return struct.unpack('>i', payload[:4])[0] == correlation
    except OSError:
        return False


def e2e(spool, port, topic, records):
    """records/s of `spool bench e2e`, or None when it failed."""
    result = subprocess.run([spool, 'bench', 'e2e', '--records', str(records), '--topic', topic, '--json',
                             '--broker', f'127.0.0.1:{port}'], capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--spool', default='.build/release/spool')
    parser.add_argument('--idle', type=int, default=1000)
    parser.add_argument('--records', type=int, default=200000, help='records of the e2e load, each time')
    parser.add_argument('--idle-seconds', type=float, default=5, help='how long the idle connections wait before the recheck, at least')
    parser.add_argument('--rss-per-connection-kb', type=int, default=64)
    args = parser.parse_args()
    spool = os.path.abspath(args.spool)

    # Both ends of every idle connection are file descriptors: raise the limit for this process and
    # the broker it starts.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.idle * 2 + 1024
    if hard != resource.RLIM_INFINITY and hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
        except (ValueError, OSError):
            sys.exit(f'cannot raise the open-file limit to {wanted} (hard limit {hard})')
    else:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))

    workdir = tempfile.mkdtemp(prefix='spool-connections-')
    port = free_port()
    log = open(os.path.join(workdir, 'serve.log'), 'wb')
    broker = subprocess.Popen([spool, 'serve', '--data', os.path.join(workdir, 'data'), '--listen', f'127.0.0.1:{port}',
                               '--fsync', 'always', '--http', 'off', '--idle-timeout-ms', '3600000'],
                              stdout=log, stderr=subprocess.STDOUT)
    idle = []
    failures = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(('127.0.0.1', port), timeout=0.5).close()
                break
            except OSError:
                if broker.poll() is not None or time.monotonic() > deadline:
                    sys.exit('spool serve did not start')
                time.sleep(0.02)
        start_memory = memory(broker.pid)

        quiet = e2e(spool, port, 'active-quiet', args.records)
        quiet_memory = memory(broker.pid)

        opened_at = time.monotonic()
        for n in range(args.idle):
            sock = socket.create_connection(('127.0.0.1', port), timeout=10)
            if not api_versions(sock, n):
                failures.append(f'idle connection {n}: no ApiVersions answer')
            idle.append(sock)
        open_ms = (time.monotonic() - opened_at) * 1000
        idle_memory = memory(broker.pid)

        loaded = e2e(spool, port, 'active-beside-idle', args.records)
        loaded_memory = memory(broker.pid)
        remaining = args.idle_seconds - (time.monotonic() - opened_at)
        if remaining > 0:
            time.sleep(remaining)
        alive = sum(1 for n, sock in enumerate(idle) if api_versions(sock, 1_000_000 + n))
        idle_for = time.monotonic() - opened_at

        if quiet is None or loaded is None:
            failures.append('spool bench e2e failed')
        if alive != args.idle:
            failures.append(f'{args.idle - alive} idle connections were dropped')
        growth_kb = (idle_memory['RssAnon'] - quiet_memory['RssAnon']) / 1024
        if growth_kb > args.rss_per_connection_kb * args.idle:
            failures.append(f'RssAnon grew by {growth_kb} KiB for {args.idle} idle connections')

        def mem(m):
            return f"VmRSS {m['VmRSS'] / 2**20:.1f} MiB (anon {m['RssAnon'] / 2**20:.1f}, file {m['RssFile'] / 2**20:.1f})"
        print(f'broker at start:                 {mem(start_memory)}')
        print(f'after e2e, no idle connections:  {mem(quiet_memory)}')
        print(f'with {args.idle} idle connections:   {mem(idle_memory)}  (opened in {open_ms:.0f} ms; '
              f'{growth_kb / max(args.idle, 1):.1f} KiB anon each)')
        print(f'after e2e beside them:           {mem(loaded_memory)}')
        if quiet and loaded:
            ratio = loaded['records_per_s'] / quiet['records_per_s']
            print(f"e2e {args.records} records: {quiet['records_per_s']:,.0f} records/s alone (p99 {quiet['p99_ms']} ms), "
                  f"{loaded['records_per_s']:,.0f} records/s beside {args.idle} idle connections (p99 {loaded['p99_ms']} ms): "
                  f'{ratio * 100:.0f} %')
        print(f'idle connections answering after {idle_for:.1f} s: {alive} of {args.idle}')
        for failure in failures:
            print('FAIL:', failure)
        return 1 if failures else 0
    finally:
        for sock in idle:
            sock.close()
        if broker.poll() is None:
            broker.send_signal(signal.SIGTERM)
            try:
                broker.wait(30)
            except subprocess.TimeoutExpired:
                broker.kill()
                broker.wait()
        log.close()
        if failures:
            with open(os.path.join(workdir, 'serve.log'), errors='replace') as text:
                sys.stderr.write(''.join(text.readlines()[-20:]))
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
