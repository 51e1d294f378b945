"""The published catalogue in memory: what every public page filters, counts, orders
and maps.

A few NumPy arrays, one entry per published case in ascending id order, and one
packed bitset per vocabulary term: seven disjunctive facet counts over 100,000 cases
take milliseconds, where SQL takes hundreds. Each process holds one index and brings it
up to date before it answers (`freshness.py`): a change to a few cases is patched in
(`CatalogueIndex.patched`), anything larger loads the whole index again (`load`).
Rows are read from PostgreSQL by id only to show them.
"""

import dataclasses
import itertools
import math
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np
from django.db import connection
from django.db.models import (
    BigIntegerField,
    BooleanField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, Ord, Substr

from ..models import TERM_FIELDS, Country, Innovation

# The static orders a list can take; relevance is worked out per search.
ORDERS = ("newest", "added", "title")
# The arrays that every static order but the title's is worked out from (order_keys()).
SORTED_BY = ("ids", "created", "year")
# Up to this many cases leaving or arriving (or read again), a patch shifts what lies
# past each of them, one at a time (`moved_bits()`, `renumbered()`); beyond, it works
# out every case's new place at once.
FEW_MOVES = 4
NOWHERE = np.zeros(0, dtype=np.int64)  # no positions: none gone, say


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


def vocabulary(rows):
    """A Vocabulary from (key, label, pk) rows.

    Labels are kept as given: the levels' are lazy translations, and the index is
    shared by every request, so each page turns them into text in its own language.
    """
    rows = list(rows)
    return Vocabulary([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])


@dataclass
class CatalogueIndex:
    version: int  # how many public changes the index has seen (freshness.py)
    ids: np.ndarray  # the published cases' primary keys, ascending
    country: np.ndarray  # position in vocabularies["country"]
    level: np.ndarray  # position in Innovation.Level.values
    year: np.ndarray  # year of launch, 0 where unknown
    created: np.ndarray  # when the case was added, in microseconds since 1970
    latitude: np.ndarray  # where the case sits on a map: its own location,
    longitude: np.ndarray  # else its country's capital
    located: np.ndarray  # whether the location is the case's own
    orders: dict  # ORDERS -> positions of the cases in that order
    terms: dict  # many-to-many field -> one packed bitset of cases per term
    capitals: np.ndarray  # each country's capital: latitude, longitude
    countries: list  # the Country rows, in the vocabulary's order
    vocabularies: dict
    # The common words' search postings (postings.py), once the refresh thread has
    # brought them up to date with this index; until then, PostgreSQL searches alone.
    postings: object = dataclasses.field(default=None, repr=False)
    # Results worked out from this version of the catalogue, most recently used last.
    remembered: dict = dataclasses.field(default_factory=dict, repr=False)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock, repr=False)

    REMEMBER = 32

    def __len__(self):
        return len(self.ids)

    def remember(self, key, work_out):
        """What `work_out()` gives, worked out once for as long as the catalogue stays as
        it is: any change brings a new index. The most recently used results are kept,
        up to REMEMBER of them."""
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

    def holds(self, pks):
        """Which of these case ids the index holds: the published cases'."""
        return locate(self.ids, pks)[1]

    def contains(self, pks):
        """A mask of the cases with these ids."""
        mask = np.zeros(len(self.ids), dtype=bool)
        mask[self.positions(pks)] = True
        return mask

    def having_any(self, field, columns):
        """Which cases have any of the terms at `columns` of a many-to-many field."""
        if not len(columns):
            return np.zeros(len(self.ids), dtype=bool)
        packed = np.bitwise_or.reduce(self.terms[field][columns], axis=0)
        return np.unpackbits(packed, count=len(self.ids)).view(bool)

    @cached_property
    def every_case(self):
        """The mask of every case, which the pages that filter nothing share: worked out
        from once, and read-only."""
        mask = np.ones(len(self.ids), dtype=bool)
        mask.flags.writeable = False
        return mask

    @cached_property
    def term_totals(self):
        """How many cases have each term, for each many-to-many field."""
        return {
            field: common_bits(bitsets, self.every_case) for field, bitsets in self.terms.items()
        }

    @cached_property
    def ids_in_order(self):
        """Every case's id, in each of the static orders."""
        orders = {key: self.ids[order] for key, order in self.orders.items()}
        for ids in orders.values():
            ids.flags.writeable = False
        return orders

    def work_out_shared(self):
        """Work out now what the pages that filter nothing share, so that no request
        waits for it after a change."""
        for name in ("term_totals", "ids_in_order"):
            getattr(self, name)

    def term_counts(self, field, mask):
        """How many cases in `mask` have each term of a many-to-many field."""
        if mask is self.every_case:
            return self.term_totals[field]
        return common_bits(self.terms[field], mask)

    def ordered(self, mask, key):
        """The positions of the cases in `mask`, in the static order `key`."""
        order = self.orders[key]
        return order if mask is self.every_case else order[mask[order]]

    def ordered_ids(self, mask, key):
        """The ids of the cases in `mask`, in the static order `key`."""
        if mask is self.every_case:
            return self.ids_in_order[key]
        return self.ids[self.ordered(mask, key)]

    def terms_of(self, pks):
        """The many-to-many terms of each of these cases, in each vocabulary's order:
        {pk: {field: [Term, ...]}}. Cases that are not published have none."""
        columns = self.positions(pks)
        found = {pk: {field: [] for field in self.terms} for pk in pks}
        for field in self.terms:
            terms = self.term_runs(field, columns, self.vocabularies[field].terms)
            for pk, chosen in zip(self.ids[columns].tolist(), terms, strict=True):
                found[pk][field] = chosen
        return found

    def term_runs(self, field, columns, values):
        """Which terms of a many-to-many field each of the cases at `columns` has: one
        list a case, in order, of the `values` (one a term, in the vocabulary's order)
        of its terms. For thousands of cases at once."""
        bitsets = self.terms[field]
        having = (bitsets[:, columns >> 3] >> (7 - (columns & 7)).astype(np.uint8)) & 1
        cases, numbers = np.nonzero(having.T)  # by case, then in the vocabulary's order
        chosen = [values[number] for number in numbers.tolist()]
        bounds = np.searchsorted(cases, np.arange(len(columns) + 1)).tolist()
        return [chosen[start:end] for start, end in itertools.pairwise(bounds)]

    def patched(self, version, changed):
        """This index with the cases whose ids are in `changed` read again: the ones
        still published as they are now, the others gone. For a few cases at a time."""
        changed = np.unique(np.asarray(list(changed), dtype=np.int64))
        fresh = cases_of(
            Innovation.objects.published().filter(pk__in=among(changed)),
            self.vocabularies,
            self.capitals,
            few=True,
        )
        links = fresh.pop("links")
        gone = self.positions(changed)  # where the changed cases were
        # Where each case read again goes: before the first case of this index that
        # comes after it.
        after = np.searchsorted(self.ids, fresh["ids"]) + self.holds(fresh["ids"])
        if np.array_equal(fresh["ids"], changed[self.holds(changed)]):  # none came or went
            inserted = gone
            arrays = {
                name: overwritten(getattr(self, name), inserted, values)
                for name, values in fresh.items()
            }
            terms = self.retermed(links, inserted)
        else:
            # Where each goes among the cases kept: after the kept cases of lower ids.
            added = np.searchsorted(self.ids, fresh["ids"]) - np.searchsorted(
                self.ids[gone], fresh["ids"]
            )
            arrays = {
                name: spliced(getattr(self, name), gone, added, values)
                for name, values in fresh.items()
            }
            inserted = np.searchsorted(arrays["ids"], fresh["ids"])
            terms = {
                field: moved_bits(bitsets, len(self.ids), gone, added, links[field])
                for field, bitsets in self.terms.items()
            }
        orders = {}
        for key in ORDERS:
            if key != "title" and all(arrays[name] is getattr(self, name) for name in SORTED_BY):
                orders[key] = self.orders[key]  # no case's place in it changed
                continue
            order = renumbered(self.orders[key], gone, after)
            points, values = insertion_points(key, arrays, order, inserted)
            orders[key] = spliced(order, NOWHERE, points, values)
        return dataclasses.replace(
            self,
            version=version,
            **{name: value for name, value in arrays.items()},
            orders=orders,
            terms=terms,
            postings=self.postings and self.postings.patched(changed),
            remembered={},
            lock=threading.Lock(),
        )

    def with_postings(self, postings):
        """This index, searching with these postings (up to date with it)."""
        return dataclasses.replace(self, postings=postings, remembered={}, lock=threading.Lock())

    def retermed(self, links, positions):
        """The terms' bitsets with the cases at `positions` given the terms in `links`
        instead of their own: when no case comes or goes, bit by bit. A field whose terms
        these cases keep keeps its bitsets."""
        terms = {}
        for field, bitsets in self.terms.items():
            having = np.zeros((len(bitsets), len(positions)), dtype=np.uint8)
            having[links[field]] = 1
            if np.array_equal(bits_at(bitsets, positions), having):
                terms[field] = bitsets
                continue
            bitsets = bitsets.copy()
            for position in positions.tolist():
                bitsets[:, position >> 3] &= ~np.uint8(128 >> (position & 7))
            for column, case in zip(*links[field], strict=True):
                position = int(positions[case])
                bitsets[column, position >> 3] |= np.uint8(128 >> (position & 7))
            terms[field] = bitsets
        return terms


def renumbered(order, gone, after):
    """An order's positions but those `gone`, as the patched index numbers them: one
    less for each case gone before, one more for each case read again before (`after`
    holds the first position that comes after each, ascending). For a few cases, a pass
    over the order for each; for more, one look-up of every position."""
    if len(gone) + len(after) <= FEW_MOVES:
        for position in gone.tolist():
            order = np.delete(order, np.flatnonzero(order == position))
        if np.array_equal(after, gone + 1):  # each case read again where it was
            return order
        shift = np.zeros(len(order), dtype=order.dtype)
        for position in gone.tolist():
            shift -= order > position
        for position in after.tolist():
            shift += order >= position
        return order + shift
    moved = np.arange(len(order))
    moved += np.searchsorted(after, moved, side="right") - np.searchsorted(gone, moved)
    moved[gone] = -1
    order = moved[order]
    return order[order >= 0]


def spliced(values, gone, added, new):
    """`values` without the entries at positions `gone` (ascending), and with `new` put
    in at `added` (places among the entries kept, as `np.insert()` takes them): one new
    array, for a few moves made of slices. Deleting, then inserting, made two arrays as
    long as the catalogue, and a worker maps each anew (gunicorn.conf.py)."""
    if len(gone) + len(added) > FEW_MOVES:
        return np.insert(np.delete(values, gone), added, new)
    new = np.asarray(new, dtype=values.dtype)
    # Where each insertion cuts `values`: past the entries gone before that place.
    cuts = added + np.searchsorted(gone - np.arange(len(gone)), added, side="right")
    moves = sorted(
        [(position, -1) for position in gone.tolist()]
        + [(cut, number) for number, cut in enumerate(cuts.tolist())]
    )
    pieces, start = [], 0
    for position, number in moves:
        pieces.append(values[start:position])
        if number < 0:  # an entry gone
            start = position + 1
        else:
            pieces.append(new[number : number + 1])
            start = position
    pieces.append(values[start:])
    return np.concatenate(pieces)


def overwritten(values, positions, new):
    """`values` with `new` at `positions`: the same array if they are there already,
    else a copy (an index's arrays are never changed in place: requests share them)."""
    if np.array_equal(values[positions], new, equal_nan=values.dtype.kind == "f"):
        return values
    values = values.copy()
    values[positions] = new
    return values


def bits_at(bitsets, positions):
    """Each packed bitset's bits (0 or 1) at these positions: one row a bitset."""
    return (bitsets[:, positions >> 3] >> (7 - (positions & 7)).astype(np.uint8)) & 1


def insertion_points(key, arrays, order, inserted):
    """Where in `order` (positions of the kept cases, in the order `key`) the cases at
    positions `inserted` go: (points, positions), both in that order."""
    if not len(inserted):
        return inserted, inserted
    if key == "title":
        by_title = Innovation.objects.filter(pk__in=among(arrays["ids"][inserted]))
        by_title = [pk for (pk,) in by_title.order_by("title", "pk").values_list("pk")]
        inserted = np.searchsorted(arrays["ids"], by_title)
        points = [title_point(arrays["ids"], order, pk, by_title) for pk in by_title]
        return np.array(points, dtype=np.int64), inserted

    def keys_at(positions):
        # Only the cases compared: a whole order's keys would be read for a handful.
        at = {name: arrays[name][positions] for name in ("ids", "created", "year")}
        return list(zip(*(part.tolist() for part in order_keys(key, at)), strict=True))

    wanted = keys_at(inserted)
    by_key = sorted(range(len(inserted)), key=wanted.__getitem__)
    points = []
    for number in by_key:
        low, high = 0, len(order)
        while low < high:
            middle = (low + high) // 2
            if keys_at(order[middle : middle + 1])[0] < wanted[number]:
                low = middle + 1
            else:
                high = middle
        points.append(low)
    return np.array(points, dtype=np.int64), inserted[by_key]


def order_keys(key, arrays):
    """The sort key of each static order but the title's, most significant part first:
    newest launch first (unknown years last), then most recently added, then by id."""
    added = (-arrays["created"], arrays["ids"])
    if key == "added":
        return added
    year = arrays["year"].astype(np.int64)
    return (np.where(year > 0, -year, 1), *added)


def title_point(ids, order, pk, inserted):
    """Where the case `pk` goes among the cases at positions `order` (of `ids`), which
    are the published cases but those `inserted`, in order of title as the database
    collates titles: just after the case that comes before it, which the titles' index
    (`innovation_status_title_id`) finds in one query reading one entry."""
    table = Innovation._meta.db_table
    comes_before = RawSQL(
        f"(title, id) < (SELECT title, id FROM {table} WHERE id = %s)",
        [pk],
        output_field=BooleanField(),
    )
    previous = (
        Innovation.objects.published()
        .filter(comes_before)
        .exclude(pk__in=among(inserted))
        .order_by("-title", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if previous is None:
        return 0
    return int(np.flatnonzero(order == np.searchsorted(ids, previous))[0]) + 1


def among(ids):
    """What `pk__in=` (or any `…__in=` of ids) takes for many ids: one array's text,
    unnested by PostgreSQL. The driver would send each id as a parameter of its own,
    which for hundreds of ids takes longer than the query."""
    return RawSQL("SELECT unnest(%s::bigint[])", [array_text(ids)])


def array_text(values):
    """Values (numbers or texts, a list or an array) as the text of a PostgreSQL array,
    each one quoted: the driver would adapt them one by one."""
    quoted = (
        str(value).replace("\\", "\\\\").replace('"', '\\"')
        for value in np.asarray(values).tolist()
    )
    return "{" + ",".join(f'"{value}"' for value in quoted) + "}"


def locate(ids, pks):
    """Where each of `pks` sits in the ascending array `ids`, and whether it is there."""
    pks = np.asarray(pks, dtype=np.int64)
    found = np.searchsorted(ids, pks)
    found[found == len(ids)] = 0
    present = ids[found] == pks if len(ids) else np.zeros(len(pks), dtype=bool)
    return found, present


# How many ids (of the first column) `copied()` reads a query at a time: each answer
# stays a few megabytes however large the catalogue.
SPAN = 1 << 17


def copied(queryset, columns, ids=None):
    """The rows of a `values_list()` queryset as NumPy arrays, one per column, in no
    particular order but the same in every column. `columns` gives each column's binary
    type ("i4", "i8", "f8" or "?"); none may be NULL.

    Each column comes back as one array in PostgreSQL's binary format (`array_send`), in
    a single row: rows sent one by one (COPY, or a cursor) cost Python a step each, which
    for millions of rows took longer than all the rest of a load. Given the range of ids
    the first column holds (`ids`: lowest, highest), the rows are read SPAN ids at a
    time: the driver keeps a buffer as large as the largest answer it has had for as
    long as the connection lives, and a whole catalogue's columns in one answer are
    hundreds of megabytes."""
    sql, params = queryset.order_by().query.sql_with_params()
    names = ", ".join(f"c{n}" for n in range(len(columns)))
    aggregates = ", ".join(f"array_send(array_agg(c{n}))" for n in range(len(columns)))
    query = f"SELECT {aggregates} FROM ({sql}) AS q({names})"
    if ids is None:
        queries = [(query, params)]
    else:
        low, high = ids
        queries = [
            (f"{query} WHERE c0 >= %s AND c0 < %s", [*params, start, start + SPAN])
            for start in range(low, high + 1, SPAN)
        ]
    parts = []
    with connection.binary_cursor() as cursor:
        for statement, values in queries:
            cursor.execute(statement, values)
            sent = cursor.fetchone()
            arrays = zip(sent, columns, strict=True)
            parts.append([binary_array(data, kind) for data, kind in arrays])
    return [np.concatenate(arrays) for arrays in zip(*parts, strict=True)] or [
        np.zeros(0, dtype=kind) for kind in columns
    ]


def copied_by_key(queryset):
    """The rows of a two-column `values_list()` queryset of ids, (key, value), as two
    NumPy arrays, a key's rows together. Each key's values come as one array in
    PostgreSQL's binary format: for a term and its cases, an answer no larger than a
    term in every case, and half the work of sending both columns."""
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.binary_cursor() as cursor:
        cursor.execute(
            f"SELECT c0, array_send(array_agg(c1)) FROM ({sql}) AS q(c0, c1) GROUP BY c0",
            params,
        )
        groups = [(key, binary_array(data, "i8")) for key, data in cursor.fetchall()]
    keys = np.array([key for key, _values in groups], dtype=np.int64)
    values = [values for _key, values in groups]
    sizes = [len(part) for part in values]
    return np.repeat(keys, sizes), np.concatenate(values or [np.zeros(0, dtype=np.int64)])


def copied_in_order(queryset, *order):
    """The primary keys of `queryset`'s rows in `order` (field names), as one NumPy
    array: the order of titles is PostgreSQL's collation's, which NumPy does not have.
    An array built from an ordered subquery keeps its order, so the rows may come in
    the order of an index that fits, where an ordered aggregate would sort them again."""
    sql, params = queryset.order_by(*order).values_list("pk").query.sql_with_params()
    with connection.binary_cursor() as cursor:
        cursor.execute(f"SELECT array_send(ARRAY({sql}))", params)
        return binary_array(cursor.fetchone()[0], "i8")


def bitset_bytes(cases):
    """The bytes of a packed bitset of `cases` bits: whole 64-bit words, so that bitsets
    are combined and counted a word at a time."""
    return -(-cases // 64) * 8


def common_bits(bitsets, mask):
    """How many of the cases in `mask` each packed bitset holds."""
    packed = np.zeros(bitsets.shape[1], dtype=np.uint8)
    packed[: (len(mask) + 7) // 8] = np.packbits(mask)
    words = bitsets.view(np.uint64) & packed.view(np.uint64)
    return np.bitwise_count(words, out=words).sum(axis=1)


def packed(terms, cases, columns, positions):
    """One packed bitset of `cases` bits per term (`terms` of them), with the bit of each
    distinct (column, position) pair set: without a matrix of a byte per case and term."""
    bitsets = np.zeros((terms, bitset_bytes(cases)), dtype=np.uint8)
    bits = (128 >> (positions & 7)).astype(np.uint8)
    np.bitwise_or.at(bitsets, (columns, positions >> 3), bits)
    return bitsets


def moved_bits(bitsets, cases, gone, added, links):
    """The packed bitsets of `cases` cases with those at positions `gone` taken out, and
    the added cases put in at `added` (where they go among the kept ones) with the terms
    in `links` (term, added case) pairs: a term at a time, so no matrix of a byte per
    case and term is made."""
    columns, numbers = links
    having = np.zeros((len(bitsets), len(added)), dtype=bool)
    having[columns, numbers] = True
    count = cases - len(gone) + len(added)
    if len(gone) + len(added) <= FEW_MOVES:
        return shifted_bits(bitsets, gone, added + np.arange(len(added)), having, count)
    keep = np.ones(cases, dtype=bool)
    keep[gone] = False
    moved = np.zeros((len(bitsets), bitset_bytes(count)), dtype=np.uint8)
    for column, bitset in enumerate(bitsets):
        kept = np.unpackbits(bitset, count=len(keep)).view(bool)[keep]
        bits = np.packbits(np.insert(kept, added, having[column]))
        moved[column, : len(bits)] = bits
    return moved


def shifted_bits(bitsets, gone, placed, having, count):
    """`moved_bits()` for a few cases: the bits at positions `gone` taken out, then a
    bit put in at each of the positions `placed` (ascending, where the cases end up),
    `having[:, i]` for the i-th; `count` cases in the end. Each step shifts every term's
    bits past its position by one, a byte at a time."""
    bits = bitsets
    for position in gone[::-1].tolist():
        bits = bit_taken_out(bits, position)
    for number, position in enumerate(placed.tolist()):
        if position >> 3 >= bits.shape[1] or (bits[:, -1] & 1).any():  # a full last byte
            bits = np.pad(bits, ((0, 0), (0, 8)))
        bits = bit_put_in(bits, position, having[:, number])
    width = bitset_bytes(count)
    if bits.shape[1] < width:
        return np.pad(bits, ((0, 0), (0, width - bits.shape[1])))
    return np.ascontiguousarray(bits[:, :width])


def bit_taken_out(bits, position):
    """Each row of packed bits without the bit at `position`: those after it move up."""
    first, offset = position >> 3, position & 7
    tail = bits[:, first:]
    following = np.zeros_like(tail)
    following[:, :-1] = tail[:, 1:]
    shifted = (tail << 1) | (following >> 7)
    before = np.uint8((0xFF00 >> offset) & 0xFF)  # the bits of its byte before it
    shifted[:, 0] = (tail[:, 0] & before) | (shifted[:, 0] & ~before)
    return np.concatenate([bits[:, :first], shifted], axis=1)


def bit_put_in(bits, position, values):
    """Each row of packed bits with `values` (one a row) put in at `position`: the bits
    from there on move down one, and the last bit of each row must be 0."""
    first, offset = position >> 3, position & 7
    tail = bits[:, first:]
    previous = np.zeros_like(tail)
    previous[:, 1:] = tail[:, :-1]
    shifted = (tail >> 1) | (previous << 7)
    before = np.uint8((0xFF00 >> offset) & 0xFF)
    bit = np.uint8(0x80 >> offset)
    shifted[:, 0] = (
        (tail[:, 0] & before) | (values.astype(np.uint8) * bit) | (shifted[:, 0] & ~(before | bit))
    )
    return np.concatenate([bits[:, :first], shifted], axis=1)


def binary_array(data, kind):
    """A one-dimensional array without NULLs, from `array_send`'s bytes: a header of five
    big-endian 4-byte integers (dimensions, NULLs, element type, length, lower bound),
    then each element's length and value."""
    if data is None or not np.frombuffer(data, dtype=">i4", count=1)[0]:
        return np.zeros(0, dtype=kind)  # no rows: NULL from an aggregate, {} from ARRAY()
    length = int(np.frombuffer(data, dtype=">i4", count=4)[3])
    element = np.dtype([("length", ">i4"), ("value", ">" + kind)])
    return np.frombuffer(data, dtype=element, offset=20, count=length)["value"].astype(kind)


def position_in(keys, field):
    """An expression: where the value of `field` is in `keys`, from 0. Each row is
    compared with the keys in turn: for a short list only."""
    return (
        Func(Value(list(keys)), F(field), function="array_position", output_field=IntegerField())
        - 1
    )


def code_number(field):
    """An expression: a country code's two characters as one number, which
    `code_positions()` turns into places in the vocabulary. A few operations a row, where
    finding a code among every country's took most of a full load's time."""
    first = Cast(Ord(field), output_field=BigIntegerField())
    return ExpressionWrapper(
        first * Value(CODE_BASE) + Ord(Substr(field, 2)), output_field=BigIntegerField()
    )


CODE_BASE = 1 << 21  # above every Unicode code point


def code_positions(vocabulary, numbers):
    """Where each country code, given by `code_number()`, sits in the vocabulary."""
    keys = np.array(
        [ord(key[:1] or "\0") * CODE_BASE + ord(key[1:2] or "\0") for key in vocabulary.keys]
    )
    order = np.argsort(keys)
    return order[np.searchsorted(keys[order], numbers)]


# 2000-01-01, from which PostgreSQL counts time, in microseconds since 1970.
POSTGRES_EPOCH = 946_684_800_000_000


def cases_of(queryset, vocabularies, capitals, few=False):
    """The index's arrays for the cases of `queryset`, ascending by id, with their
    terms' links: {"links": {field: (term positions, case positions)}}. For `few`
    cases, only their links are read; else every link, of which theirs are kept:
    cheaper than asking the database to join them with the cases table."""
    span = None
    if not few:
        bounds = Innovation.objects.aggregate(low=Min("pk"), high=Max("pk"))
        span = (bounds["low"] or 0, bounds["high"] or -1)
    columns = copied(
        queryset.values_list(
            "pk",
            code_number("country_id"),
            position_in(vocabularies["level"].keys, "level"),
            Cast(Coalesce("year", 0), IntegerField()),
            "created",  # PostgreSQL's binary form: microseconds since 2000
            Coalesce("latitude", Value(math.nan)),  # unknown: the capital's, below
            Coalesce("longitude", Value(math.nan)),
        ),
        ["i8", "i8", "i4", "i4", "i8", "f8", "f8"],
        span,
    )
    by_id = np.argsort(columns[0])
    columns = [column[by_id] for column in columns]
    ids = columns[0]
    links = {}
    for name in TERM_FIELDS:
        field = Innovation._meta.get_field(name)
        through = field.remote_field.through.objects.order_by()
        if few:
            through = through.filter(**{f"{field.m2m_column_name()}__in": among(ids)})
        if len(ids) or not few:
            terms, linked = copied_by_key(
                through.values_list(field.m2m_reverse_name(), field.m2m_column_name())
            )
        else:
            terms = linked = np.zeros(0, dtype=np.int64)
        cases, present = locate(ids, linked)
        pks = np.array(vocabularies[name].pks, dtype=np.int64)
        column = np.zeros(pks.max() + 1 if len(pks) else 1, dtype=np.int64)
        column[pks] = np.arange(len(pks))
        links[name] = (column[terms[present]], cases[present])
    country = code_positions(vocabularies["country"], columns[1]).astype(np.int16)
    latitude, longitude = columns[5], columns[6]
    located = ~np.isnan(latitude)
    latitude[~located], longitude[~located] = capitals[country[~located]].T
    return {
        "ids": ids,
        "country": country,
        "level": columns[2].astype(np.int8),
        "year": columns[3].astype(np.int16),
        "created": columns[4] + POSTGRES_EPOCH,
        "latitude": latitude,
        "longitude": longitude,
        "located": located,
        "links": links,
    }


def _vocabularies(countries):
    vocabularies = {
        "country": vocabulary((country.code, country.name, country.code) for country in countries),
        "level": vocabulary(
            zip(
                Innovation.Level.values,
                Innovation.Level.labels,
                Innovation.Level.values,
                strict=True,
            )
        ),
    }
    for name in TERM_FIELDS:
        model = Innovation._meta.get_field(name).related_model
        vocabularies[name] = vocabulary(model.objects.values_list("slug", "name", "pk"))
    return vocabularies


def load(version):
    """The whole index, read from the database."""
    # Any change to a country loads the index again, so its rows stay as they are now.
    countries = list(Country.objects.all())
    vocabularies = _vocabularies(countries)
    capitals = [(country.latitude, country.longitude) for country in countries]
    capitals = np.array(capitals, dtype=float).reshape(-1, 2)
    published = Innovation.objects.published()
    arrays = cases_of(published, vocabularies, capitals)
    terms = {
        name: packed(len(vocabularies[name].keys), len(arrays["ids"]), columns, cases)
        for name, (columns, cases) in arrays.pop("links").items()
    }
    orders = {key: np.lexsort(order_keys(key, arrays)[::-1]) for key in ORDERS if key != "title"}
    orders["title"] = locate(arrays["ids"], copied_in_order(published, "title", "pk"))[0]
    return CatalogueIndex(
        version=version,
        **arrays,
        orders=orders,
        terms=terms,
        capitals=capitals,
        countries=countries,
        vocabularies=vocabularies,
    )
