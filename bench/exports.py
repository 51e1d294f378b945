"""How the whole-catalogue exports perform: `python bench/exports.py`.

Serves the site as in production (gunicorn, DEBUG off) with one worker, so that the
process answering is the one measured, and downloads the export of every case in each
format (`BENCH_FORMATS`, default csv,json,geojson) `BENCH_RUNS` times (default 3). For
each download it reports the time to the first byte of the answer, the total time, the
bytes, the growth of the worker's resident memory (VmRSS, sampled every 5 ms) over
what it held after warming up, and the processor time the worker spent (on a busy
machine the total time says more about the others' work than about the export's).
Targets for CSV: 5 s in all, the first byte within 200 ms, at most 50 MB more memory.
`make bench` runs it for CSV as its `export_csv` page.

It expects a database that already holds the synthetic catalogue:

    python manage.py generate_cases --count 100000 --seed 1

Only the standard library and the project; results go to bench/exports.json.
"""

import http.client
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsi.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-key")
os.environ["DEBUG"] = "false"

import django  # noqa: E402

django.setup()

import serving  # noqa: E402  (bench/serving.py, beside this file)
from django.core.management import call_command  # noqa: E402

from innovations.models import Innovation  # noqa: E402

FORMATS = os.environ.get("BENCH_FORMATS", "csv,json,geojson").split(",")
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
TARGETS = {"total_s": 5.0, "first_byte_ms": 200.0, "memory_growth_mb": 50.0}  # CSV, 100,000 cases


def worker_pid(master):
    """The one gunicorn worker: the master's child."""
    for _ in range(100):
        children = serving.workers(master)
        if children:
            return children[0]
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


class PeakMemory:
    """Samples a process's resident memory in a thread; `peak` is the highest seen."""

    def __init__(self, pid):
        self.pid, self.peak, self.running = pid, serving.resident_mb(pid), True
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self):
        while self.running:
            self.peak = max(self.peak, serving.resident_mb(self.pid))
            time.sleep(0.005)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


def download(port, path):
    """(seconds to the first byte, seconds in all, bytes, headers) of one GET."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    start = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()  # the status line and headers: the first bytes
    first = time.perf_counter() - start
    size = 0
    while chunk := response.read(65536):
        size += len(chunk)
    total = time.perf_counter() - start
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"{path} answered {response.status}")
    return first, total, size, dict(response.getheaders())


def measure(port, pid, format, count):
    path = f"/innovations/export.{format}"
    runs = []
    for _ in range(count):
        before, cpu = serving.resident_mb(pid), serving.cpu_seconds(pid)
        with PeakMemory(pid) as memory:
            first, total, size, headers = download(port, path)
        cpu = serving.cpu_seconds(pid) - cpu
        runs.append(
            {
                "first_byte_ms": round(first * 1000, 1),
                "total_s": round(total, 2),
                "cpu_s": round(cpu, 2),
                "megabytes": round(size / 1e6, 1),
                "cases": int(headers["X-Total-Count"]),
                "rss_before_mb": round(before, 1),
                "memory_growth_mb": round(memory.peak - before, 1),
            }
        )
    return runs


def main():
    published = Innovation.objects.published().count()
    if published < 100_000:
        print(f"The catalogue holds {published} published cases; for the figures, first run:")
        print("    python manage.py generate_cases --count 100000 --seed 1")
    call_command("collectstatic", interactive=False, verbosity=0)
    results = measure_exports(FORMATS, RUNS)
    report(results)
    (ROOT / "bench" / "exports.json").write_text(json.dumps(results, indent=2) + "\n")


def measure_exports(formats, runs):
    """Serve the site with one worker and measure the export of every case in each of
    `formats`, `runs` times each."""
    published = Innovation.objects.published().count()
    with serving.served("--workers=1", "--timeout=120") as (server, base):
        port = urlsplit(base).port
        pid = worker_pid(server.pid)
        # Warm up: the catalogue index, and each format's code on a small view.
        for format in formats:
            download(port, f"/innovations/export.{format}?country=PT")
        results = {"published_cases": published, "runs": runs, "formats": {}}
        for format in formats:
            results["formats"][format] = measure(port, pid, format, runs)
    return results


def report(results):
    print(f"\nExport of all {results['published_cases']} published cases, {results['runs']} runs")
    print(
        f"{'format':<9}{'first byte ms':>15}{'total s':>10}{'cpu s':>8}{'MB':>8}"
        f"{'RSS growth MB':>15}"
    )
    for format, runs in results["formats"].items():
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        low = {key: min(run[key] for run in runs) for key in runs[0]}
        high = {key: max(run[key] for run in runs) for key in runs[0]}
        print(
            f"{format:<9}{median['first_byte_ms']:>15.1f}{median['total_s']:>10.2f}"
            f"{median['cpu_s']:>8.2f}{median['megabytes']:>8.1f}"
            f"{median['memory_growth_mb']:>15.1f}"
            f"   (range: {low['first_byte_ms']:.1f}-{high['first_byte_ms']:.1f} ms, "
            f"{low['total_s']:.2f}-{high['total_s']:.2f} s, "
            f"{low['memory_growth_mb']:.1f}-{high['memory_growth_mb']:.1f} MB)"
        )
    print(
        f"\nTargets for csv at 100,000 cases: total <= {TARGETS['total_s']} s, first byte <= "
        f"{TARGETS['first_byte_ms']} ms, memory growth <= {TARGETS['memory_growth_mb']} MB"
    )


if __name__ == "__main__":
    main()
