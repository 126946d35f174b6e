#!/usr/bin/env python3
"""A SpoolJobs worker group on a 3-broker Kafka-protocol cluster: librdkafka's mock cluster.

    python3 Tests/Cluster/cluster_jobs.py --worker .build/release/spool-job-worker

Starts 3 brokers (Tests/Cluster/mock-cluster.c, built as cluster_cli.py builds it), a job topic of
8 partitions whose leaders are spread over the brokers and a group coordinator on a broker of its
own, enqueues --jobs keyed jobs (Tests/JobWorker, `spool-job-worker enqueue`), and runs a group of 3
worker processes in .key order. A tenth of the jobs fail their first attempt and are retried in
place; one job fails every attempt and is dead-lettered. While they run, every partition's leader
moves; later broker 2 (a leader of some partitions) is down for --down seconds, and then broker 3, the
group's coordinator and a leader too. Then it checks:

  lost            jobs that never completed, the dead-lettered one aside (must be 0)
  order           keys whose jobs first completed out of enqueue order (must be 0)
  dead letters    exactly the poisoned job, once
  side effects    each job's marker, written with its side effect, once (ProcessedJobs)

Every wait is bounded; every process started here is stopped by its pid. Exit 0 when all pass.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_cli import REPO, Cluster, build_harness, fail  # noqa: E402

TOPIC = "crash-steps"
GROUP = "cluster-workers"
POISON = "job-42"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", default=os.path.join(REPO, ".build/release/spool-job-worker"))
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--keys", type=int, default=500)
    parser.add_argument("--down", type=float, default=4.0, help="seconds broker 2 is down")
    parser.add_argument("--timeout", type=int, default=240, help="seconds for the jobs to finish")
    options = parser.parse_args()
    worker_binary = os.path.abspath(options.worker)
    if not os.access(worker_binary, os.X_OK):
        fail(f"no worker binary at {worker_binary} (swift build -c release --product spool-job-worker)")
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="spool-cluster-jobs-")
    cluster = Cluster(build_harness())
    workers = []
    try:
        print(f"mock cluster of 3 brokers at {cluster.bootstrap}", flush=True)
        cluster.command(f"topic {TOPIC} 8")
        cluster.command(f"topic {TOPIC}.dlq 1")
        for partition in range(8):
            cluster.command(f"leader {TOPIC} {partition} {partition % 3 + 1}")
        cluster.command(f"coordinator {GROUP} 3")
        enqueue = subprocess.run([worker_binary, "enqueue", "--broker", cluster.bootstrap, "--count", str(options.jobs),
                                  "--keys", str(options.keys)], capture_output=True, text=True, timeout=180)
        if enqueue.returncode != 0:
            fail(f"enqueue: exit {enqueue.returncode}: {enqueue.stderr[-2000:]}")
        print(f"ok: enqueued {options.jobs} jobs over {options.keys} keys in {time.monotonic() - started:.1f} s", flush=True)

        store, runs = os.path.join(work, "processed"), os.path.join(work, "runs")
        for index in range(3):
            workers.append(subprocess.Popen(
                [worker_binary, "work", "--broker", cluster.bootstrap, "--group", GROUP, "--store", store, "--runs", runs,
                 "--fail-percent", "10", "--poison", POISON],
                stderr=open(os.path.join(work, f"worker-{index}.log"), "w")))

        def completed():
            if not os.path.exists(runs):
                return set()
            with open(runs) as lines:
                return {line.split()[0] for line in lines if line.endswith("\n")}

        expected = {f"job-{index}" for index in range(options.jobs)} - {POISON}
        deadline = time.monotonic() + options.timeout

        def wait_for(count, what):
            while len(completed()) < count:
                if time.monotonic() > deadline:
                    fail(f"{what}: {len(completed())} of {len(expected)} jobs completed in {options.timeout} s")
                for index, process in enumerate(workers):
                    if process.poll() is not None:
                        fail(f"worker {index} exited {process.returncode} while jobs ran")
                time.sleep(0.05)

        wait_for(len(expected) // 4, "before the leaders move")
        for partition in range(8):
            cluster.command(f"leader {TOPIC} {partition} {(partition + 1) % 3 + 1}")
        print(f"ok: every partition's leader moved with {len(completed())} jobs completed", flush=True)
        wait_for(len(expected) // 2, "after the leaders moved")
        cluster.command("down 2")
        print(f"ok: broker 2 down with {len(completed())} jobs completed", flush=True)
        time.sleep(options.down)
        cluster.command("up 2")
        print(f"ok: broker 2 up again after {options.down:.0f} s with {len(completed())} jobs completed", flush=True)
        wait_for(len(expected) * 3 // 4, "after broker 2 came back")
        cluster.command("down 3")
        print(f"ok: broker 3 (the group's coordinator) down with {len(completed())} jobs completed", flush=True)
        time.sleep(options.down)
        cluster.command("up 3")
        print(f"ok: broker 3 up again after {options.down:.0f} s with {len(completed())} jobs completed", flush=True)
        wait_for(len(expected), "after broker 3 came back")
        finished = time.monotonic() - started
        # The dead letter is written before its commit; give it a moment to be readable.
        letters = []
        for _ in range(100):
            result = subprocess.run([worker_binary, "dead-letters", "--broker", cluster.bootstrap], capture_output=True, text=True,
                                    timeout=60)
            letters = result.stdout.split()
            if POISON in letters:
                break
            time.sleep(0.2)
        for process in workers:
            process.send_signal(signal.SIGTERM)
        for index, process in enumerate(workers):
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                fail(f"worker {index} did not stop within 40 s of SIGTERM")

        # `spool-job-worker enqueue` makes job-N the job of key N % keys with sequence N // keys.
        poison_index = int(POISON.split("-")[1])
        poison_sequence = {f"key-{poison_index % options.keys}": poison_index // options.keys}
        first = {}
        order = {}
        violations = set()
        reruns = 0
        with open(runs) as lines:
            for line in lines:
                if not line.endswith("\n"):
                    continue
                job, key, sequence = line.split()
                if job in first:
                    reruns += 1
                    continue
                first[job] = key
                # The poisoned job never completes: its key's later jobs follow it without it.
                previous = order.get(key, -1)
                skipped = poison_sequence.get(key) == previous + 1
                if int(sequence) != previous + 1 and not (skipped and int(sequence) == previous + 2):
                    violations.add(key)
                order[key] = int(sequence)
        effects = {}
        with open(store) as lines:
            for line in lines:
                if line.endswith("\n"):
                    job = line.split("\t")[0]
                    effects[job] = effects.get(job, 0) + 1
        lost = expected - set(first)
        duplicated = [job for job, count in effects.items() if count > 1]
        print(f"jobs={options.jobs} completed={len(first)} lost={len(lost)} order_violations={len(violations)} "
              f"dead_letters={letters} side_effects_duplicated={len(duplicated)} reruns={reruns} ({finished:.1f} s)", flush=True)
        if lost:
            fail(f"{len(lost)} jobs never completed, e.g. {sorted(lost)[:5]}")
        if POISON in first:
            fail(f"the poisoned job {POISON} completed")
        if violations:
            fail(f"{len(violations)} keys completed out of order, e.g. {sorted(violations)[:5]}")
        if letters != [POISON]:
            fail(f"the dead-letter topic holds {letters}, not [{POISON}]")
        if duplicated:
            fail(f"{len(duplicated)} side effects happened twice, e.g. {duplicated[:5]}")
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
                process.wait()
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"cluster job tests passed in {time.monotonic() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
