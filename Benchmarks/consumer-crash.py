#!/usr/bin/env python3
"""Consumer-crash torture: job workers killed with SIGKILL mid-job, against spool serve.

Starts `spool serve --fsync always`, enqueues --jobs jobs over --keys keys (Tests/JobWorker,
`spool-job-worker enqueue`), runs --workers worker processes of one group in .key order, and for
--cycles cycles, once the workers have made fresh progress, SIGKILLs a random worker at a random
moment (most are mid-job: each job sleeps 1-15 ms) and starts a new one. Then it waits for every job and checks:

  lost                    jobs that never completed (must be 0)
  side_effects_duplicated jobs whose side effect, recorded with its ProcessedJobs marker in one
                          write, happened more than once (must be 0)
  order_violations        keys whose jobs first completed out of enqueue order (must be 0)
  reruns                  completed runs beyond one per job: at-least-once at work (expected > 0)

Prints `cycles=N jobs=… completed=… lost=0 side_effects_duplicated=0 order_violations=0 reruns=…`
and exits 1 if any check fails. Every process is stopped by its pid; the data is removed.
"""
import argparse, os, random, shutil, signal, socket, subprocess, sys, tempfile, time

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--cycles", type=int, default=20)
parser.add_argument("--jobs", type=int, default=6000)
parser.add_argument("--keys", type=int, default=300)
parser.add_argument("--workers", type=int, default=3)
parser.add_argument("--timeout", type=int, default=600, help="seconds for the whole run")
args = parser.parse_args()

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
subprocess.run(["swift", "build", "-c", "release", "--product", "spool"], cwd=root, check=True, stdout=subprocess.DEVNULL)
subprocess.run(["swift", "build", "-c", "release", "--product", "spool-job-worker"], cwd=root, check=True, stdout=subprocess.DEVNULL)
spool = os.path.join(root, ".build/release/spool")
worker_binary = os.path.join(root, ".build/release/spool-job-worker")

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

work = tempfile.mkdtemp(prefix="spool-consumer-crash-")
processes = []
deadline = time.time() + args.timeout

def stop_all():
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()
    shutil.rmtree(work, ignore_errors=True)

try:
    port = free_port()
    bootstrap = f"127.0.0.1:{port}"
    server = subprocess.Popen([spool, "serve", "--data", os.path.join(work, "data"), "--listen", bootstrap, "--fsync", "always", "--http", "off"],
                              stderr=open(os.path.join(work, "serve.log"), "w"))
    processes.append(server)
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.time() > deadline or server.poll() is not None:
                sys.exit("spool serve did not start")
            time.sleep(0.05)
    subprocess.run([worker_binary, "enqueue", "--broker", bootstrap, "--count", str(args.jobs), "--keys", str(args.keys)], check=True, timeout=120)

    store, runs = os.path.join(work, "processed"), os.path.join(work, "runs")
    def start_worker():
        process = subprocess.Popen([worker_binary, "work", "--broker", bootstrap, "--group", "crash-workers", "--store", store, "--runs", runs],
                                   stderr=subprocess.DEVNULL)
        processes.append(process)
        return process
    workers = [start_worker() for _ in range(args.workers)]

    def completed_ids():
        if not os.path.exists(runs):
            return set()
        with open(runs) as lines:
            return {line.split()[0] for line in lines if line.endswith("\n")}

    def effect_ids():
        if not os.path.exists(store):
            return set()
        with open(store) as lines:
            return {line.split("\t")[0] for line in lines if line.endswith("\n")}

    kills = 0
    # Each kill waits for fresh progress first, so it lands while jobs run rather than while the
    # group is still rebalancing after the previous one.
    step = max(1, args.jobs // (2 * max(1, args.cycles)))
    for cycle in range(args.cycles):
        target = min(args.jobs - 1, len(completed_ids()) + step)
        while len(completed_ids()) < target and time.time() < deadline:
            time.sleep(0.02)
        time.sleep(random.uniform(0, 0.3))
        victim = random.randrange(len(workers))
        workers[victim].send_signal(signal.SIGKILL)
        workers[victim].wait()
        kills += 1
        workers[victim] = start_worker()
        print(f"cycle {cycle + 1}: killed worker {victim}, {len(completed_ids())} of {args.jobs} jobs completed so far", flush=True)
        if time.time() > deadline:
            break

    # A job's runs line is written before its effect: a worker killed between the two leaves a job
    # that shows as run but must run again once its partition moves (after the dead member's
    # session times out). So the wait ends when every job has both, not at the last runs line.
    while (len(completed_ids()) < args.jobs or len(effect_ids()) < args.jobs) and time.time() < deadline:
        time.sleep(0.2)
    for process in workers:
        process.send_signal(signal.SIGTERM)
    for process in workers:
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()

    expected = {f"job-{index}" for index in range(args.jobs)}
    first_done = {}
    run_count = 0
    with open(runs) as lines:
        for line in lines:
            if not line.endswith("\n"):
                continue
            job, key, sequence = line.split()
            run_count += 1
            first_done.setdefault(job, (key, int(sequence)))
    effects = {}
    with open(store) as lines:
        for line in lines:
            if line.endswith("\n"):
                effects[line.split("\t")[0]] = effects.get(line.split("\t")[0], 0) + 1
    lost = len(expected - set(first_done))
    duplicated = sum(1 for count in effects.values() if count > 1)
    missing_effects = len(expected - set(effects))
    order = {}
    violations = set()
    # The runs file is in completion order: per key, first completions must follow enqueue order.
    seen = set()
    with open(runs) as lines:
        for line in lines:
            if not line.endswith("\n"):
                continue
            job, key, sequence = line.split()
            if job in seen:
                continue
            seen.add(job)
            if int(sequence) != order.get(key, -1) + 1:
                violations.add(key)
            order[key] = max(order.get(key, -1), int(sequence))
    print(f"cycles={kills} jobs={args.jobs} completed={len(first_done)} lost={lost} side_effects_duplicated={duplicated} "
          f"missing_effects={missing_effects} order_violations={len(violations)} reruns={run_count - len(first_done)}")
    ok = lost == 0 and duplicated == 0 and missing_effects == 0 and not violations
    sys.exit(0 if ok else 1)
finally:
    stop_all()
