"""The site served for a measurement as in production: gunicorn with gunicorn.conf.py,
DEBUG off, on a port of its own. Used by run.py, exports.py and load.py."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def served(*options, env=None, port=None, seconds=60):
    """gunicorn with these extra `options` (`--workers=1`, say) and environment, yielding
    the master process and the base address once the list page answers; stopped on exit.
    Only warnings are logged, and no access log: they would be the measuring process's
    output."""
    port = port or free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--config", "gunicorn.conf.py"]
        + [f"--bind=127.0.0.1:{port}", "--access-logfile=/dev/null", "--log-level=warning"]
        + list(options),
        cwd=ROOT,
        env=env,
    )
    try:
        give_up = time.monotonic() + seconds
        while True:
            try:
                urllib.request.urlopen(base + "/innovations/", timeout=seconds).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > give_up:
                    raise RuntimeError(f"gunicorn did not answer on {base}") from None
                time.sleep(0.2)
        yield server, base
    finally:
        server.terminate()
        server.wait(timeout=60)


def workers(master):
    """The process ids of a gunicorn master's workers (its children)."""
    return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def cpu_seconds(pid):
    """The processor time a process has spent, user and system."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")
