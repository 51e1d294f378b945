"""Measure map.json with many cases: size (raw and gzipped), queries and time per view.

    DATABASE_URL=... SECRET_KEY=x .venv/bin/python scripts/measure_map.py [CASES]

Adds synthetic countries up to 249 and CASES synthetic published cases (100,000 by
default) inside a transaction that is rolled back at the end: the database is left
as it was.
"""

import gzip
import itertools
import os
import random
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsi.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from innovations.models import Country, Innovation  # noqa: E402

VIEWS = [
    ("world", "bbox=-180,-90,180,90&zoom=2"),
    ("world, one level", "bbox=-180,-90,180,90&zoom=2&level=local"),
    ("Europe, zoom 5", "bbox=-25,34,45,72&zoom=5"),
    ("Iberia, zoom 8", "bbox=-10,36,4,44&zoom=8"),
    ("Lisbon, zoom 14", "bbox=-9.25,38.68,-9.05,38.78&zoom=14"),
    ("world at zoom 12", "bbox=-180,-90,180,90&zoom=12"),
    ("world at zoom 20", "bbox=-180,-90,180,90&zoom=20"),
]


class Rollback(Exception):
    pass


def add_countries(rng):
    taken = set(Country.objects.values_list("code", flat=True))
    free = ("".join(pair) for pair in itertools.product(string.ascii_uppercase, repeat=2))
    codes = [code for code in free if code not in taken][: max(0, 249 - len(taken))]
    Country.objects.bulk_create(
        Country(
            code=code,
            name=f"Synthetic {code}",
            latitude=rng.uniform(-55, 70),
            longitude=rng.uniform(-180, 180),
        )
        for code in codes
    )


def add_cases(count, rng):
    countries = list(Country.objects.all())
    batch = []
    for n in range(count):
        country = rng.choice(countries)
        own = rng.random() < 0.4
        batch.append(
            Innovation(
                slug=f"synthetic-map-{n}",
                title=f"Synthetic case {n}",
                short_explanation="Synthetic.",
                country=country,
                level=rng.choice(["national", "regional", "local", "other"]),
                status="published",
                is_synthetic=True,
                latitude=max(-90, min(90, country.latitude + rng.gauss(0, 2))) if own else None,
                longitude=((country.longitude + rng.gauss(0, 2) + 180) % 360 - 180)
                if own
                else None,
            )
        )
        if len(batch) == 5000:
            Innovation.objects.bulk_create(batch)
            batch = []
    Innovation.objects.bulk_create(batch)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    rng = random.Random(1)
    setup_test_environment()
    client = Client()
    try:
        with transaction.atomic():
            add_countries(rng)
            add_cases(count, rng)
            cursor = connection.cursor()
            cursor.execute("ANALYZE innovations_innovation")
            total = Innovation.objects.published().count()
            print(f"{total} published cases in {Country.objects.count()} countries")
            for name, query in VIEWS:
                client.get(f"/innovations/map.json?{query}")  # warm up
                with CaptureQueriesContext(connection) as queries:
                    start = time.perf_counter()
                    response = client.get(f"/innovations/map.json?{query}")
                    took = time.perf_counter() - start
                data = response.json()
                rows = len(data["clusters"]) + len(data["points"])
                size, gzipped = len(response.content), len(gzip.compress(response.content))
                print(
                    f"{name:17} {data['mode']:9} count={data['count']:6} rows={rows:5} "
                    f"raw={size:6} B  gzip={gzipped:6} B  "
                    f"queries={len(queries)}  {took * 1000:.0f} ms"
                )
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()
