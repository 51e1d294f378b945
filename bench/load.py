"""A load run over the public site: `make load`.

Serves the site as in production (gunicorn with gunicorn.conf.py, DEBUG off) over the
database DATABASE_URL names, and drives it with wrk for LOAD_SECONDS (default 60) at
LOAD_CONNECTIONS (default 32) connections, cycling through more than fifty distinct
public addresses: the list with filters in both languages, search, JSON, the map page
and map.json at several zooms, case pages, statistics, exports, the API document, the
sitemap, the feed, the home, about and embed pages. It only reads: every request is a
GET, and the addresses are built from what the database holds. Prints the requests,
the answers that were not 2xx and the latency percentiles, as a line of JSON.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsi.settings")
os.environ.setdefault("SECRET_KEY", "benchmark-only-key")
os.environ["DEBUG"] = "false"

import django  # noqa: E402

django.setup()

import serving  # noqa: E402  (bench/serving.py, beside this file)
from django.core.management import call_command  # noqa: E402

from innovations.models import Innovation, Sector, Stage, Tag  # noqa: E402

SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
CONNECTIONS = int(os.environ.get("LOAD_CONNECTIONS", "32"))
PORT = int(os.environ.get("LOAD_PORT", "8140"))


def addresses():
    """The distinct public addresses the run cycles through."""
    slugs = list(Innovation.objects.published().order_by("pk").values_list("slug", flat=True)[:10])
    sectors = list(Sector.objects.order_by("slug").values_list("slug", flat=True)[:3])
    tags = list(Tag.objects.order_by("slug").values_list("slug", flat=True)[:3])
    stage = Stage.objects.order_by("pk").values_list("slug", flat=True).first()
    lists = [
        "",
        "?page=2",
        "?page=40",
        "?country=PT",
        "?country=es,fr",
        "?level=local",
        f"?sector={sectors[0]}",
        f"?sector={sectors[1]}&level=national",
        f"?stage={stage}",
        "?recognition=award-winner",
        f"?tag={tags[0]}",
        f"?tag={tags[1]}&tag={tags[2]}&country=BR",
        "?year_from=2015&year_to=2020",
        "?sort=title",
        "?sort=added&page=3",
        "?bbox=-9.5,38.5,-8.5,41.5",
        "?q=data",
        "?q=health&country=PT",
        '?q="open+data"',
        "?q=chatbot+or+drones",
        "?q=inovacao&sort=newest",
        "?format=json",
        f"?country=PT&sector={sectors[2]}&format=json",
    ]
    urls = [f"/innovations/{query}" for query in lists]
    urls += [f"/pt/innovations/{query}" for query in ["", "?country=PT", "?level=local&sort=title"]]
    urls += ["/pt/innovations/?q=saude", "/pt/innovations/?format=json&page=2"]
    urls += ["/innovations/map/", "/innovations/map/?country=PT", "/pt/innovations/map/"]
    urls += [
        f"/innovations/map.json?bbox={box}&zoom={zoom}"
        for box, zoom in [
            ("-180,-85,180,85", 2),
            ("-30,30,40,70", 4),
            ("-10,36,4,44", 6),
            ("-9.6,38.4,-8.8,39", 11),
            ("-9.2,38.7,-9.1,38.76", 14),
        ]
    ]
    urls += ["/innovations/map.json?bbox=-180,-85,180,85&zoom=3&country=PT,ES"]
    urls += [f"/innovations/{slug}/" for slug in slugs[:6]]
    urls += [f"/pt/innovations/{slug}/" for slug in slugs[6:9]]
    urls += [f"/innovations/{slug}.json" for slug in slugs[9:]]
    urls += ["/innovations/stats/", "/innovations/stats/?country=PT", "/pt/innovations/stats/"]
    urls += [
        f"/innovations/export.{kind}?country=PT&sector={sectors[0]}"
        for kind in ["csv", "json", "geojson"]
    ]
    urls += ["/innovations/feed.atom", "/innovations/feed.atom?country=PT"]
    urls += ["/api/", "/pt/api/", "/api/openapi.json", "/sitemap.xml", "/robots.txt"]
    urls += ["/", "/pt/", "/about/", "/embed/list/?country=PT", "/embed/map/"]
    return urls


def main():
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: `apt-get install wrk` (make load does this).")
    call_command("collectstatic", interactive=False, verbosity=0)
    urls = addresses()
    with serving.served(port=PORT) as (_, base):
        for url in urls:  # each address answers, and both workers are warm
            for _ in range(2):
                try:
                    urllib.request.urlopen(base + url, timeout=60).read()
                except urllib.error.HTTPError as error:
                    sys.exit(f"{url} answered {error.code}")
        with tempfile.NamedTemporaryFile("w", suffix=".txt") as listing:
            listing.write("\n".join(urls))
            listing.flush()
            output = subprocess.run(
                ["wrk", "--threads=2", f"--connections={CONNECTIONS}", f"--duration={SECONDS}s"]
                + ["--timeout=30s", f"--script={ROOT / 'bench' / 'load.lua'}", base],
                env={**os.environ, "WRK_PATHS": listing.name},
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        result = json.loads(output.strip().splitlines()[-1])
        print(json.dumps({"urls": len(urls), "connections": CONNECTIONS, **result}))


if __name__ == "__main__":
    main()
