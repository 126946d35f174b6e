"""A real `spool serve` on free loopback ports for the console's script tests, stopped by pid."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SpoolServer:
    """Starts `spool serve` with its data in a temporary directory; `stop()` ends it by pid."""

    def __init__(self, spool, extra=()):
        self.spool = spool
        self.data = tempfile.mkdtemp(prefix="spool-console-")
        self.kafka_port = free_port()
        self.log_path = os.path.join(self.data, "serve.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [spool, "serve", "--data", os.path.join(self.data, "d"), "--listen", f"127.0.0.1:{self.kafka_port}",
             "--http", "127.0.0.1:0", *extra],
            stdout=subprocess.DEVNULL, stderr=self.log)
        self.http_port = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.http_port is None:
            time.sleep(0.1)
            found = re.search(r"console on http://127\.0\.0\.1:(\d+)/", open(self.log_path).read())
            if found:
                self.http_port = int(found.group(1))
            if self.process.poll() is not None:
                break
        if self.http_port is None:
            self.stop()
            raise RuntimeError("spool serve did not start:\n" + open(self.log_path).read())

    @property
    def bootstrap(self):
        return f"127.0.0.1:{self.kafka_port}"

    @property
    def url(self):
        return f"http://127.0.0.1:{self.http_port}"

    def run(self, *arguments, input=None, timeout=300):
        """Runs `spool ARGUMENTS --broker THIS` (with `input` on its standard input) and returns
        its completed process; fails when it fails."""
        result = subprocess.run([self.spool, *arguments, "--broker", self.bootstrap], input=input, capture_output=True, text=True,
                                timeout=timeout)
        if result.returncode != 0:
            raise AssertionError(f"spool {' '.join(arguments)} exited {result.returncode}: {result.stderr}")
        return result

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.data, ignore_errors=True)
