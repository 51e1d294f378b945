"""An in-memory index of the published catalogue, for counting facets and ordering.

Counting seven disjunctive facets over 100,000 cases in SQL takes hundreds of
milliseconds; over NumPy arrays it takes a few. Each process keeps one index and
reloads it whenever the catalogue version (migration 0005) has changed: every write
to the catalogue's tables replaces that number in the same transaction, so an index
is never used after the data it holds has changed. The filters' semantics stay in
`filters.py`: each filter there says how it narrows a queryset and an index alike.
"""

import dataclasses
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
from django.db import connection
from django.db.models import Window
from django.db.models.functions import RowNumber

from .models import TERM_FIELDS, Country, Innovation, fetch

_loaded = None


class Term(NamedTuple):
    slug: str
    name: str


@dataclass
class Vocabulary:
    """One facet's terms, in display order: `keys` (codes or slugs), their labels and
    their primary keys."""

    keys: list
    labels: list
    pks: list

    @cached_property
    def position(self):
        """Each term's place in the vocabulary, by key."""
        return {key: number for number, key in enumerate(self.keys)}

    @cached_property
    def terms(self):
        return [Term(key, str(label)) for key, label in zip(self.keys, self.labels, strict=True)]


@dataclass
class CatalogueIndex:
    version: int
    ids: np.ndarray  # the published cases' primary keys, ascending
    country: np.ndarray  # position in vocabularies["country"]
    level: np.ndarray  # position in Innovation.Level.values
    year: np.ndarray  # year of launch, 0 where unknown
    orders: dict  # sort key -> positions of the cases in that order
    terms: dict  # many-to-many field -> one packed bitset of cases per term
    capitals: np.ndarray  # each country's capital: latitude, longitude
    vocabularies: dict
    # Results worked out from this version of the catalogue, most recently used last.
    remembered: dict = dataclasses.field(default_factory=dict, repr=False)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    REMEMBER = 32

    def __len__(self):
        return len(self.ids)

    def remember(self, key, work_out):
        """What `work_out()` gives, worked out once for as long as the catalogue stays as
        it is: the next version brings a new index. The most recently used results are
        kept, up to REMEMBER of them."""
        with self.lock:
            result = self.remembered.pop(key, None)
        if result is None:
            result = work_out()
        with self.lock:
            self.remembered[key] = result
            while len(self.remembered) > self.REMEMBER:
                del self.remembered[next(iter(self.remembered))]
        return result

    def positions(self, pks):
        """Where the given case ids sit in the index (ids that are not published drop out)."""
        found, present = locate(self.ids, pks)
        return found[present]

    def having_any(self, field, columns):
        """Which cases have any of the terms at `columns` of a many-to-many field."""
        if not columns:
            return np.zeros(len(self.ids), dtype=bool)
        packed = np.bitwise_or.reduce(self.terms[field][columns], axis=0)
        return np.unpackbits(packed, count=len(self.ids)).astype(bool)

    def term_counts(self, field, mask):
        """How many cases in `mask` have each term of a many-to-many field."""
        return np.bitwise_count(self.terms[field] & np.packbits(mask)).sum(axis=1)

    def ordered(self, mask, key):
        """The positions of the cases in `mask`, in the static order `key`."""
        order = self.orders[key]
        return order[mask[order]]

    def terms_of(self, pks):
        """The many-to-many terms of each of these cases, in each vocabulary's order:
        {pk: {field: [Term, ...]}}. Cases that are not published have none."""
        columns = self.positions(pks)
        found = {pk: {field: [] for field in self.terms} for pk in pks}
        for field, bitsets in self.terms.items():
            terms = self.vocabularies[field].terms
            having = (bitsets[:, columns >> 3] >> (7 - (columns & 7)).astype(np.uint8)) & 1
            for pk, column in zip(self.ids[columns].tolist(), having.T, strict=True):
                found[pk][field] = [terms[number] for number in np.flatnonzero(column).tolist()]
        return found

    def holds(self, pks):
        """Which of these case ids the index holds: the published cases'."""
        return locate(self.ids, pks)[1]

    def contains(self, pks):
        mask = np.zeros(len(self.ids), dtype=bool)
        mask[self.positions(pks)] = True
        return mask


def locate(ids, pks):
    """Where each of `pks` sits in the ascending array `ids`, and whether it is there."""
    pks = np.asarray(pks, dtype=np.int64)
    found = np.searchsorted(ids, pks)
    found[found == len(ids)] = 0
    present = ids[found] == pks if len(ids) else np.zeros(len(pks), dtype=bool)
    return found, present


def current_version():
    with connection.cursor() as cursor:
        cursor.execute("SELECT number FROM innovations_catalogue_version")
        row = cursor.fetchone()
    return row[0] if row else None


def get_index(orders):
    """This process's index of the published catalogue, reloaded if it has changed."""
    global _loaded
    version = current_version()
    if _loaded is None or version is None or _loaded.version != version:
        _loaded = load(version, orders)
    return _loaded


def vocabulary(rows):
    """A Vocabulary from (key, label, pk) rows.

    Labels are kept as given: the levels' are lazy translations, and the index is
    shared by every request, so each page turns them into text in its own language.
    """
    rows = list(rows)
    return Vocabulary([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])


def load(version, orders):
    published = Innovation.objects.published().order_by("pk")
    rank_names = [f"rank_{key}" for key in orders]
    rows = fetch(
        published.annotate(
            **{
                name: Window(RowNumber(), order_by=orders[key])
                for name, key in zip(rank_names, orders, strict=True)
            }
        ).values_list("pk", "country_id", "level", "year", *rank_names)
    )
    columns = list(zip(*rows, strict=True)) or [()] * (4 + len(orders))
    ids = np.array(columns[0], dtype=np.int64)

    countries = list(Country.objects.values_list("code", "name", "code", "latitude", "longitude"))
    vocabularies = {
        "country": vocabulary(row[:3] for row in countries),
        "level": vocabulary(
            zip(
                Innovation.Level.values,
                Innovation.Level.labels,
                Innovation.Level.values,
                strict=True,
            )
        ),
    }
    terms = {}
    for name in TERM_FIELDS:
        field = Innovation._meta.get_field(name)
        vocabularies[name] = vocabulary(
            field.related_model.objects.values_list("slug", "name", "pk")
        )
        pks = np.array(vocabularies[name].pks, dtype=np.int64)
        column = np.zeros(pks.max() + 1 if len(pks) else 1, dtype=np.int64)
        column[pks] = np.arange(len(pks))
        # Every case's links, of which those of published cases are kept: cheaper than
        # asking the database to join them with the cases table.
        links = np.array(
            fetch(
                field.remote_field.through.objects.order_by().values_list(
                    field.m2m_column_name(), field.m2m_reverse_name()
                )
            ),
            dtype=np.int64,
        ).reshape(-1, 2)
        cases, published_case = locate(ids, links[:, 0])
        matrix = np.zeros((len(pks), len(ids)), dtype=bool)
        matrix[column[links[published_case, 1]], cases[published_case]] = True
        terms[name] = np.packbits(matrix, axis=1)

    def positions(name, keys):
        position = vocabularies[name].position
        return np.array([position[key] for key in keys], dtype=np.int32)

    return CatalogueIndex(
        version=version,
        ids=ids,
        country=positions("country", columns[1]),
        level=positions("level", columns[2]),
        year=np.array([year or 0 for year in columns[3]], dtype=np.int16),
        orders={
            key: np.argsort(np.array(columns[4 + number], dtype=np.int64), kind="stable")
            for number, key in enumerate(orders)
        },
        terms=terms,
        capitals=np.array([row[3:] for row in countries], dtype=float).reshape(-1, 2),
        vocabularies=vocabularies,
    )
