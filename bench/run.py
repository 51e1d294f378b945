"""The catalogue's benchmark: `make bench`.

Serves the site as in production (gunicorn, 2 workers, DEBUG off) over a database of
100,000 synthetic cases, warms it up, then measures each page with wrk at concurrency
1 and 8, cycling through at least 200 distinct, seeded requests per measurement so no
response cache can stand in for the work. Prints a table and writes bench/results.json
with the latencies, the workers' processor time a request at concurrency 8 (and how
much of the machine stayed idle), the bytes a browser transfers for the list and map
pages, and the number of SQL queries each page makes. The `export_csv` page downloads
the CSV export of every case through a server of its own (bench/exports.py), for the
time to the first byte, the total time and the serving process's memory growth.
"""

import gzip
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsi.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-key")
os.environ["DEBUG"] = "false"
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
# The server and the index's loads run with the site's own time limits; the benchmark's
# own work (generating cases, VACUUM, finding words to search) may take minutes.
SITE_ENVIRONMENT = dict(os.environ)
os.environ["DATABASE_STATEMENT_TIMEOUT"] = "0"

import django  # noqa: E402

django.setup()

import exports  # noqa: E402  (bench/exports.py, beside this file)
import serving  # noqa: E402  (bench/serving.py)
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from innovations.catalogue import freshness  # noqa: E402
from innovations.models import Country, Innovation, Sector, Stage, Tag  # noqa: E402

CASES = int(os.environ.get("BENCH_CASES", "100000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
PAGES = os.environ.get("BENCH_PAGES", "")  # e.g. "list,detail"; empty for every page
COMBINATIONS = 240
MILLION = 1_000_000
TARGETS = {  # p95 at concurrency 1, in ms, at 100,000 cases
    "list": 80,
    "list_3_facets": 40,
    "list_json": 40,
    "search_facet": 40,
    "detail": 5,
    "detail_304": 2,
    "map_world": 30,
    "map_city": 20,
}
RATE_TARGET = 200  # requests a second for the filtered list at concurrency 8
# At a million cases the pages that must scale have targets of their own, and so do
# the index and the generator; the others are measured without one.
MILLION_TARGETS = dict.fromkeys(
    ("list", "list_3_facets", "list_json", "search_facet", "map_world"), 60
)
MILLION_LOAD_S = 5  # a full load of the index, median of fresh processes
MILLION_WORKER_MB = 400  # a worker's resident memory
MILLION_GENERATE_S = 6 * 60
EDITS_PER_SECOND = 1  # while list_during_writes is measured
EXPORT_RUNS = 3  # downloads of the whole CSV export


def ensure_cases():
    """Seconds taken to generate the synthetic cases, or None if they were there."""
    synthetic = Innovation.objects.filter(is_synthetic=True).count()
    took = None
    if synthetic != CASES:
        call_command("generate_cases", purge=True)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")  # new rows fill the purged rows' space, not new pages
        started = time.monotonic()
        call_command("generate_cases", count=CASES, seed=1)
        took = round(time.monotonic() - started, 1)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return took


# A fresh process loads the catalogue index: how long it takes, and how much resident
# memory the process gains (and its peak) while it does.
LOAD_INDEX = """
import json, os, time, django
django.setup()
from innovations.catalogue.freshness import current_index

def resident(field):
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith(field))
    return int(line.split()[1]) / 1024

before = resident("VmRSS:")
started = time.perf_counter()
index = current_index()
took = time.perf_counter() - started
print(json.dumps({"cases": len(index), "load_s": took, "gained_mb": resident("VmRSS:") - before,
                  "peak_mb": resident("VmHWM:")}))
"""


def index_cost(runs=3):
    """The index's load time and memory, each the median of `runs` fresh processes."""
    figures = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", LOAD_INDEX],
                cwd=ROOT,
                env=SITE_ENVIRONMENT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        )
        for _ in range(runs)
    ]
    return {
        key: round(sorted(run[key] for run in figures)[runs // 2], 2)
        for key in ("load_s", "gained_mb", "peak_mb")
    } | {"runs": runs}


def reference_loop():
    """A fixed piece of pure Python, the same on every run: how fast this machine's
    interpreter is, so that figures from different days and machines can be compared."""
    total = 0
    for number in range(3_000_000):
        total += len(str(number))
    return total


def machine(runs=5):
    """What the figures were measured on: the processor, the Python, and two reference
    timings (medians of `runs`): the loop above, and one `SELECT 1` round trip to the
    database over the site's own connection."""
    cpuinfo = Path("/proc/cpuinfo")
    names = [
        line.split(":", 1)[1].strip()
        for line in (cpuinfo.read_text().splitlines() if cpuinfo.exists() else [])
        if line.startswith("model name")
    ]

    def median_s(work, repeat=1):
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            for _ in range(repeat):
                work()
            timings.append((time.perf_counter() - started) / repeat)
        return sorted(timings)[runs // 2]

    def select_one():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    return {
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": names[0] if names else platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "reference_loop_s": round(median_s(reference_loop), 3),
        "select_1_ms": round(median_s(select_one, repeat=200) * 1000, 3),
    }


def workers_resident_mb(server):
    """Each gunicorn worker's resident memory, in MB."""
    return [round(serving.resident_mb(pid), 1) for pid in serving.workers(server.pid)]


def combinations(rng):
    """Seeded request paths for each measurement."""
    countries = list(Innovation.objects.published().values_list("country", flat=True).distinct())
    sectors = list(Sector.objects.values_list("slug", flat=True))
    stages = list(Stage.objects.values_list("slug", flat=True))
    tags = list(Tag.objects.values_list("slug", flat=True))
    levels = [c for c, _ in Innovation.Level.choices]
    slugs = list(
        Innovation.objects.filter(is_synthetic=True)
        .order_by("?")
        .values_list("slug", flat=True)[:COMBINATIONS]
    )
    sorts = ["newest", "added", "title"]

    def three_facets():
        parts = rng.sample(
            [
                f"country={','.join(rng.sample(countries, 2))}",
                f"sector={rng.choice(sectors)}",
                f"tag={rng.choice(tags)}",
                f"level={rng.choice(levels)}",
                f"stage={rng.choice(stages)}",
                f"year_from={rng.randint(1990, 2024)}",
            ],
            3,
        )
        return "&".join(parts) + f"&sort={rng.choice(sorts)}&page={rng.randint(1, 3)}"

    def one_facet():
        name, values = rng.choice([("sector", sectors), ("tag", tags), ("stage", stages)])
        return f"{name}={rng.choice(values)}"

    def unique(make):
        seen = {}
        for _ in range(COMBINATIONS * 20):
            seen[make()] = True
            if len(seen) == COMBINATIONS:
                return list(seen)
        raise ValueError("too few distinct requests")

    capitals = list(Country.objects.filter(code__in=countries).values_list("latitude", "longitude"))

    def city_box():
        """A city-sized box near a capital, in cells (zoom 11) or points (zoom 14) mode."""
        lat, lng = rng.choice(capitals)
        lat, lng = lat + rng.uniform(-1, 1), lng + rng.uniform(-1, 1)
        zoom = rng.choice([11, 14])
        half = 0.4 if zoom == 11 else 0.05
        return (
            f"bbox={lng - half:.3f},{lat - half:.3f},{lng + half:.3f},{lat + half:.3f}&zoom={zoom}"
        )

    words = iter(search_words(rng))

    return {
        "list": unique(lambda: f"/innovations/?page={rng.randint(1, 400)}"),
        "list_3_facets": unique(lambda: f"/innovations/?{three_facets()}"),
        "list_json": unique(lambda: f"/innovations/?format=json&{three_facets()}"),
        # One word found in 2-5% of the cases, a different one each time, and a facet.
        "search_facet": unique(
            lambda: f"/innovations/?q={next(words)}&{one_facet()}&page={rng.randint(1, 2)}"
        ),
        "detail": [f"/innovations/{slug}/" for slug in slugs],
        "detail_304": [f"/innovations/{slug}/" for slug in slugs],
        "map_world": unique(
            lambda: (
                f"/innovations/map.json?bbox=-180,-85,180,85&zoom=2"
                f"&sector={rng.choice(sectors)}&tag={rng.choice(tags)}&level={rng.choice(levels)}"
            )
        ),
        "map_city": unique(lambda: f"/innovations/map.json?{city_box()}"),
        "static": ["/static/css/site.css"],
    }


def search_words(rng):
    """COMBINATIONS words, each found in 2-5% of the cases, in a seeded order."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT word FROM ts_stat('SELECT vector FROM innovations_searchdocument') "
            "WHERE ndoc BETWEEN %s AND %s AND word ~ '^[a-z]+$' ORDER BY word",
            [CASES * 0.02, CASES * 0.05],
        )
        words = [row[0] for row in cursor.fetchall()]
    if len(words) < COMBINATIONS:
        raise ValueError(f"only {len(words)} words are found in 2-5% of the cases")
    return rng.sample(words, COMBINATIONS)


def transferred(base, page):
    """Gzipped bytes of a page's HTML and of the CSS and JS files it loads."""
    html = urllib.request.urlopen(base + page).read()
    sizes = {"html": len(gzip.compress(html, 6))}
    text = html.decode()
    for kind in ("css", "js"):
        total = 0
        for part in text.split('="/static/')[1:]:
            path = part.split('"')[0]
            if path.endswith("." + kind):
                request = urllib.request.Request(
                    f"{base}/static/{path}", headers={"Accept-Encoding": "gzip"}
                )
                total += len(urllib.request.urlopen(request).read())
        sizes[kind] = total
    sizes["total"] = sum(sizes.values())
    return sizes


def query_counts(paths):
    client = Client()
    client.get("/innovations/")  # the first request of a process loads the catalogue index
    freshness.attach_postings()  # as a worker's refresh thread does
    counts = {}
    for name, urls in paths.items():
        headers, expected = {}, 200
        if name == "detail_304":  # a repeat, with the ETag of the first answer
            headers = {"if-none-match": client.get(urls[0])["ETag"]}
            expected = 304
        with CaptureQueriesContext(connection) as context:
            status = client.get(urls[0], headers=headers).status_code
        counts[name] = len(context.captured_queries) if status == expected else None
    return counts


def wrk(base, paths, connections):
    """wrk's figures for requests cycling through `paths`; a path may be followed by a tab
    and the ETag to send in If-None-Match."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as listing:
        listing.write("\n".join(paths))
    output = subprocess.run(
        [
            "wrk",
            f"--threads={min(connections, 2)}",
            f"--connections={connections}",
            f"--duration={SECONDS}s",
            "--timeout=10s",
            f"--script={ROOT / 'bench' / 'wrk.lua'}",
            base,
        ],
        env={**os.environ, "WRK_PATHS": listing.name},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    os.unlink(listing.name)
    return json.loads(output.strip().splitlines()[-1])


def processor_time(server):
    """The processor time the workers have used so far, in seconds, and the machine's
    idle and total time, in clock ticks (the first line of /proc/stat)."""
    used = sum(serving.cpu_seconds(pid) for pid in serving.workers(server.pid))
    user, nice, system, idle, iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return used, idle + iowait, user + nice + system + idle + iowait + irq + softirq + steal


def wrk_with_load(server, base, urls, connections):
    """wrk's figures, and what the run cost: the workers' processor time a request, and
    the share of the machine left idle. At concurrency 8 these tell whether throughput
    is bound by the processor, and on a machine with more cores, roughly what it gives."""
    before = processor_time(server)
    result = wrk(base, urls, connections)
    used, idle, total = (
        after - then for then, after in zip(before, processor_time(server), strict=True)
    )
    result["worker_cpu_ms"] = round(used / max(result["requests"], 1) * 1000, 2)
    result["idle_pct"] = round(100 * idle / max(total, 1), 1)
    return result


def with_etags(base, urls):
    """Each path with its current ETag, for repeat requests that a 304 answers."""
    return [f"{url}\t{urllib.request.urlopen(base + url).headers['ETag']}" for url in urls]


class Writer(threading.Thread):
    """Another process's editors: each second, one published case is edited or one
    archived case published again; after each, how long until ten fresh connections in a
    row (so, very likely, both workers) show it."""

    def __init__(self, base, cases):
        super().__init__(daemon=True)
        self.base, self.cases = base, cases
        self.stop = threading.Event()
        self.lags, self.errors = [], 0

    def run(self):
        from django.db import connection

        archived = None
        try:
            for number, case in enumerate(self.cases):
                if self.stop.is_set():
                    break
                started = time.monotonic()
                if archived is not None:
                    archived.transition("published")
                    shown, archived = archived, None
                elif number % 2:
                    case.transition("archived")
                    archived = shown = case
                else:
                    case.title = f"Edited case {number}"
                    case.save()
                    shown = case
                self.lags.append(self.seen(shown, archived is shown) - started)
                time.sleep(max(0, 1 / EDITS_PER_SECOND - (time.monotonic() - started)))
        finally:
            connection.close()

    def seen(self, case, gone):
        """When ten requests in a row showed the change (giving up after ten seconds)."""
        in_a_row, give_up = 0, time.monotonic() + 10
        while in_a_row < 10 and time.monotonic() < give_up:
            try:
                page = urllib.request.urlopen(f"{self.base}/innovations/{case.slug}/").read()
                showing = not gone and case.title.encode() in page
            except urllib.error.HTTPError as error:
                showing = gone and error.code == 404
            in_a_row = in_a_row + 1 if showing else 0
        return time.monotonic()


def during_writes(base, urls):
    cases = list(Innovation.objects.published().filter(is_synthetic=True).order_by("?")[:600])
    writer = Writer(base, cases)
    writer.start()
    try:
        result = wrk(base, urls, 1)
    finally:
        writer.stop.set()
        writer.join()
    lags = sorted(writer.lags)
    result["edits"] = len(lags)
    result["edit_visible_max_s"] = round(lags[-1], 3) if lags else None
    result["edit_visible_median_s"] = round(lags[len(lags) // 2], 3) if lags else None
    return result


def main():
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: `apt-get install wrk` (make bench does this).")
    measured_on = machine()  # before anything else loads the machine
    generated_s = ensure_cases()
    started = time.monotonic()
    call_command("build_search_postings")
    postings_s = round(time.monotonic() - started, 1)
    call_command("collectstatic", interactive=False, verbosity=0)
    index = index_cost() | {"search_postings_build_s": postings_s}
    paths = combinations(random.Random(1))
    if PAGES:
        paths = {name: urls for name, urls in paths.items() if name in PAGES.split(",")}
    with serving.served("--workers=2", env=SITE_ENVIRONMENT) as (server, base):
        available = {}
        for name, urls in paths.items():
            try:
                urllib.request.urlopen(base + urls[0])
                available[name] = urls
            except OSError as error:
                print(f"skipping {name}: {urls[0]} answered {error}")
        # Warm up both workers: requests sent four at a time reach each of them.
        with ThreadPoolExecutor(max_workers=4) as pool:
            warm_up = [base + url for urls in available.values() for url in urls[:20]]
            list(pool.map(lambda url: urllib.request.urlopen(url).read(), warm_up))
        # Each worker's refresh thread gives its index the search postings in a round
        # after the index loads (at a million cases, reading them takes about a second).
        time.sleep(5)
        results = {
            "machine": measured_on,
            "cases": CASES,
            "seconds_per_run": SECONDS,
            "generated_s": generated_s,
            "index": index | {"worker_resident_mb_warm": workers_resident_mb(server)},
            "pages": {},
        }
        for name, urls in available.items():
            if name == "detail_304":
                urls = with_etags(base, urls)
            results["pages"][name] = {
                "distinct_requests": len(urls),
                "c1": wrk(base, urls, 1),
                "c8": wrk_with_load(server, base, urls, 8),
            }
        if "list_3_facets" in available and (not PAGES or "list_during_writes" in PAGES):
            results["pages"]["list_during_writes"] = {
                "distinct_requests": len(available["list_3_facets"]),
                "c1": during_writes(base, available["list_3_facets"]),
            }
        results["transfer_gzip_bytes"] = {
            "list": transferred(base, "/innovations/"),
            "map": transferred(base, "/innovations/map/") if "map_world" in available else None,
        }
        if "map_world" in available:
            world = urllib.request.urlopen(
                base + "/innovations/map.json?bbox=-180,-85,180,85&zoom=2"
            )
            results["transfer_gzip_bytes"]["map_json_world"] = len(gzip.compress(world.read(), 6))
        results["index"]["worker_resident_mb_after"] = workers_resident_mb(server)
    results["queries"] = query_counts(
        {name: urls for name, urls in available.items() if name != "static"}
    )
    if not PAGES or "export_csv" in PAGES.split(","):
        results["export_csv"] = exports.measure_exports(["csv"], EXPORT_RUNS)
    report(results)
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")


def report(results):
    on = results["machine"]
    print(
        f"\n{results['cases']} cases, {results['seconds_per_run']} s per run; measured "
        f"{on['measured']} on {on['cpu']} ({on['cores']} cores), {on['python']}; "
        f"reference loop {on['reference_loop_s']} s, SELECT 1 {on['select_1_ms']} ms\n"
    )
    if results["generated_s"] is not None:
        print(f"Generated the synthetic cases in {results['generated_s']} s")
    index = results["index"]
    print(
        f"Index: loads in {index['load_s']} s (median of {index['runs']} fresh processes), "
        f"{index['gained_mb']:.0f} MB resident gained ({index['peak_mb']:.0f} MB peak); "
        f"workers resident {index['worker_resident_mb_warm']} MB warm, "
        f"{index['worker_resident_mb_after']} MB after the runs; search postings built "
        f"in {index['search_postings_build_s']} s\n"
    )
    print(
        f"{'page':<15}{'p50 c1':>9}{'p95 c1':>9}{'target':>8}{'rps c1':>9}"
        f"{'p50 c8':>9}{'p95 c8':>9}{'rps c8':>9}{'cpu c8':>8}{'queries':>9}"
    )
    empty = dict.fromkeys(("p50_ms", "p95_ms", "rps", "worker_cpu_ms"), float("nan"))
    million = results["cases"] >= MILLION
    targets = MILLION_TARGETS if million else TARGETS
    for name, page in results["pages"].items():
        c1, c8 = page["c1"], page.get("c8", empty)
        target = targets.get(name)
        print(
            f"{name:<15}{c1['p50_ms']:>9.1f}{c1['p95_ms']:>9.1f}"
            f"{(str(target) if target else '-'):>8}{c1['rps']:>9.0f}"
            f"{c8['p50_ms']:>9.1f}{c8['p95_ms']:>9.1f}{c8['rps']:>9.0f}"
            f"{c8['worker_cpu_ms']:>8.1f}"
            f"{str(results['queries'].get(name, '-')):>9}"
        )
    if million:
        resident = index["worker_resident_mb_warm"] + index["worker_resident_mb_after"]
        generated = results["generated_s"]
        print(
            f"\nAt a million cases: index load {index['load_s']} s (target {MILLION_LOAD_S}), "
            f"workers at most {max(resident)} MB resident (target {MILLION_WORKER_MB}), "
            + (
                f"generated in {generated} s (target {MILLION_GENERATE_S})"
                if generated is not None
                else "the cases were there (generating them is measured on a fresh database)"
            )
        )
    writes = results["pages"].get("list_during_writes")
    if writes:
        quiet = results["pages"]["list_3_facets"]["c1"]["p95_ms"]
        c1 = writes["c1"]
        print(
            f"\nDuring writes: p95 {c1['p95_ms']:.1f} ms against {quiet:.1f} ms quiet"
            + ("" if million else f" (target {2 * quiet:.1f})")
            + f", {c1['errors']} errors, {c1['edits']} edits, each seen by ten fresh "
            f"requests in a row within {c1['edit_visible_max_s']} s at most "
            f"(median {c1['edit_visible_median_s']} s" + ("" if million else "; target 1 s") + ")"
        )
    if "list_3_facets" in results["pages"]:
        c8 = results["pages"]["list_3_facets"]["c8"]
        print(
            f"Filtered list at concurrency 8: {c8['rps']:.0f} requests/s"
            + ("" if million else f" (target {RATE_TARGET})")
            + f"; the workers used {c8['worker_cpu_ms']} ms of processor time a request, "
            f"and {c8['idle_pct']}% of the machine's {results['machine']['cores']} cores "
            "stayed idle"
        )
    print("\nBytes transferred, gzipped:")
    for page, sizes in results["transfer_gzip_bytes"].items():
        print(f"  {page}: {sizes}")
    if "export_csv" in results:
        exports.report(results["export_csv"])


if __name__ == "__main__":
    main()
