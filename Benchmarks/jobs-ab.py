#!/usr/bin/env python3
"""Two builds of spool-bench, `spool-bench jobs` alternating between them, for a before/after figure.

    python3 Benchmarks/jobs-ab.py --before /tmp/bench-before --after .build/release/spool-bench \\
        --rounds 3 -- --jobs 400000 --transport embedded --modes consumer,key

Each round runs the before build, then the after build (the order swaps every round, so neither
always runs on a machine warmed by the other), with the flags after `--`. A machine whose speed
drifts by minutes moves both builds alike; one build's runs an hour apart do not compare. Prints,
per transport and ordering, each build's median jobs/s and CPU µs per job with the lowest and
highest in brackets, and the share of the plain consumer of the same invocation, when `consumer`
is among the modes.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def run(binary, flags):
    """One `spool-bench jobs` invocation: its runs (each but the consumer's with `vs_consumer_pct`)."""
    completed = subprocess.run([binary, "jobs", *flags, "--json"], capture_output=True, text=True)
    if completed.returncode != 0:
        sys.exit(f"{binary} jobs failed ({completed.returncode}):\n{completed.stderr[-2000:]}")
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if not lines:
        sys.exit(f"{binary} jobs printed no JSON line:\n{completed.stdout[-2000:]}")
    return json.loads(lines[-1])["runs"]


def summary(values, digits, unit=""):
    if not values:
        return ""
    text = f"{statistics.median(values):,.{digits}f}{unit}"
    return text if len(values) == 1 else f"{text} ({min(values):,.{digits}f}-{max(values):,.{digits}f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the spool-bench binary before the change")
    parser.add_argument("--after", required=True, help="the spool-bench binary after it")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each build (default 3)")
    parser.add_argument("flags", nargs="*", help="flags for `spool-bench jobs`, after --")
    options = parser.parse_args()
    if options.rounds < 1:
        parser.error("--rounds needs 1 or more")
    if "--json" in options.flags or "--rounds" in options.flags:
        parser.error("--json and --rounds are this script's to pass")
    builds = {"before": options.before, "after": options.after}
    for name, binary in builds.items():
        if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
            parser.error(f"--{name} {binary}: not an executable file")
    results = {name: [] for name in builds}
    for round_number in range(options.rounds):
        order = ["before", "after"] if round_number % 2 == 0 else ["after", "before"]
        for name in order:
            results[name] += run(builds[name], options.flags)
            print(f"round {round_number + 1}: {name} done", file=sys.stderr)
    keys = []
    for entry in results["before"] + results["after"]:
        if (entry["transport"], entry["ordering"]) not in keys:
            keys.append((entry["transport"], entry["ordering"]))
    header = f"{'transport':10} {'ordering':16} {'build':7} {'jobs/s':28} {'vs plain consumer':22} {'vs decoding consumer':22} CPU µs per job"
    print(f"spool-bench jobs {' '.join(options.flags)}: {options.rounds} runs of each build, alternating; medians (lowest-highest)")
    print()
    print(header)
    for transport, ordering in keys:
        for name in builds:
            runs = [entry for entry in results[name] if entry["transport"] == transport and entry["ordering"] == ordering]
            print(f"{transport:10} {ordering:16} {name:7} {summary([e['jobs_per_s'] for e in runs], 0):28} "
                  f"{summary([e['vs_consumer_pct'] for e in runs if 'vs_consumer_pct' in e], 1, ' %'):22} "
                  f"{summary([e['vs_consumer_decode_pct'] for e in runs if 'vs_consumer_decode_pct' in e], 1, ' %'):22} "
                  f"{summary([e['cpu_us_per_job'] for e in runs], 2)}")


if __name__ == "__main__":
    main()
