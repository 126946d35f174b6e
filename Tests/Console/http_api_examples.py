#!/usr/bin/env python3
"""Runs every ```sh example of docs/http-api.md against a real `spool serve` holding the demo's
jobs, with the documented address replaced by the test server's. Fails on the first example that
exits non-zero (the examples use `curl -f`, so an HTTP error fails them) or prints nothing."""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from spool_server import SpoolServer  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--spool", required=True)
    parser.add_argument("--doc", default="docs/http-api.md")
    arguments = parser.parse_args()
    blocks = re.findall(r"```sh\n(.*?)```", open(arguments.doc).read(), re.S)
    if not blocks:
        sys.exit(f"no ```sh examples in {arguments.doc}")
    server = SpoolServer(arguments.spool)
    try:
        server.run("demo", "--users", "20")
        for block in blocks:
            script = block.replace("127.0.0.1:9644", f"127.0.0.1:{server.http_port}")
            result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], capture_output=True, text=True, timeout=60)
            if result.returncode != 0 or not result.stdout.strip():
                print(f"example failed (exit {result.returncode}):\n{block}\nstdout: {result.stdout}\nstderr: {result.stderr}")
                sys.exit(1)
            print(f"ok: {block.strip().splitlines()[0][:100]}")
        print(f"all {len(blocks)} examples of {arguments.doc} ran")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
