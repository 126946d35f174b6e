"""Helpers shared by the reliability harnesses (torture.py, connections.py, scale.py)."""
import socket


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def memory(pid):
    """VmRSS, RssAnon and RssFile of process `pid` from /proc/PID/status, in bytes."""
    fields = {}
    with open(f'/proc/{pid}/status') as status:
        for line in status:
            name, _, rest = line.partition(':')
            if name in ('VmRSS', 'RssAnon', 'RssFile'):
                fields[name] = int(rest.split()[0]) * 1024
    return fields
