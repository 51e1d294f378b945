"""The postings of common words, in memory: which cases hold each word that is in at
least COMMON of them, so that a search for such words reads no vector.

PostgreSQL finds a rare word's few cases quickly through its GIN index, but for a word
in thousands of cases it reads every one of their rows. The few hundred words found in
at least COMMON of the cases hold most of the catalogue's postings. Their
postings, and those of the words in at least STORED of the cases, are built off the
request path (`build()`, `manage.py build_search_postings`), in one snapshot, which is
stored with them. A process holds the common words' and brings them up to date as it
does its catalogue index: the cases whose changes the build did not see are read again
(`changed_since()`, `patched()`). A search of words joined by and, or and not is
answered from them (`matching()`); a less common word's postings are read by primary
key, with the cases changed since the build read again, and the rarest words' few cases
come from PostgreSQL. A phrase or a prefix is left to PostgreSQL.
"""

import dataclasses
import math
import re

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from ..models import SearchPosting, SearchPostingsBuild
from .index import binary_array, bitset_bytes

# A word in at least this share of the cases has its postings held in memory.
COMMON = 0.02
# A word in at least this share of them has its postings stored: reading them takes a
# query by primary key, where PostgreSQL's vector index reads a row for each case.
STORED = 0.001
# Case ids past the highest when the postings were built, which they leave room for.
HEADROOM = 1 << 16
# The key of the advisory lock that one build at a time holds.
BUILDING = 0x6F707369  # "opsi"

STAMP = """
SELECT pg_current_snapshot()::text,
       coalesce(pg_current_xact_id_if_assigned()::text, ''),
       coalesce((SELECT max(id) FROM innovations_catalogue_change), 0),
       coalesce(max(innovation_id), 0),
       count(*)
FROM innovations_searchdocument
"""

COMMON_WORDS = """
SELECT coalesce(array_agg(word), '{}'), coalesce(array_agg(word) FILTER (WHERE ndoc >= %s), '{}')
FROM ts_stat('SELECT vector FROM innovations_searchdocument')
WHERE ndoc >= %s
"""

# The cases of words that processes do not hold, and those with them in their titles,
# in one query: a word's stored postings with which of the cases changed since the
# build hold it now, or, where none are stored, every case that holds it, found by the
# index of the vectors and by that of the titles' words.
LOOK_UP = """
SELECT word.lexeme, posting.packed, posting.cases, posting.titled,
       array_send(ARRAY(
           SELECT document.innovation_id FROM innovations_searchdocument AS document
           WHERE posting.lexeme IS NOT NULL
             AND document.innovation_id = ANY(%(changed)s::bigint[])
             AND document.vector @@ word.query
           UNION ALL
           SELECT document.innovation_id FROM innovations_searchdocument AS document
           WHERE posting.lexeme IS NULL AND document.vector @@ word.query
       )),
       array_send(ARRAY(
           SELECT document.innovation_id FROM innovations_searchdocument AS document
           WHERE posting.lexeme IS NOT NULL
             AND document.innovation_id = ANY(%(changed)s::bigint[])
             AND ts_filter(document.vector, '{a}'::"char"[]) @@ word.query
           UNION ALL
           SELECT document.innovation_id FROM innovations_searchdocument AS document
           WHERE posting.lexeme IS NULL
             AND ts_filter(document.vector, '{a}'::"char"[]) @@ word.query
       ))
FROM unnest(%(words)s::text[], %(queries)s::text[]::tsquery[]) AS word(lexeme, query)
LEFT JOIN innovations_searchposting AS posting ON posting.lexeme = word.lexeme
"""

POSTINGS = """
SELECT word.lexeme,
       array_send(array_agg(document.innovation_id)),
       array_send(array_agg(document.innovation_id) FILTER (WHERE 'A' = ANY(word.weights)))
FROM innovations_searchdocument AS document,
     unnest(document.vector) AS word(lexeme, positions, weights)
WHERE word.lexeme = ANY(%s::text[])
GROUP BY word.lexeme
"""

# Which of the given cases (the first parameter) hold each of the given words, and which
# in their titles.
CHANGED_WORDS = """
SELECT word.lexeme,
       array_send(array_agg(document.innovation_id)),
       array_send(coalesce(
           array_agg(document.innovation_id) FILTER (WHERE 'A' = ANY(word.weights)), '{}'
       ))
FROM innovations_searchdocument AS document,
     unnest(document.vector) AS word(lexeme, positions, weights)
WHERE document.innovation_id = ANY(%s::bigint[]) AND word.lexeme = ANY(%s::text[])
GROUP BY word.lexeme
"""

# The cases whose changes a build did not see: written by a transaction still running
# when its snapshot was taken or begun after it, or later in its own.
UNSEEN = """
SELECT coalesce(array_agg(DISTINCT innovation_id) FILTER (WHERE innovation_id IS NOT NULL),
                '{}'),
       coalesce(bool_or(innovation_id IS NULL), false),
       (SELECT through FROM innovations_catalogue_pruned)
           >= pg_snapshot_xmin(%(snapshot)s::pg_snapshot)
FROM innovations_catalogue_change
WHERE id > %(last_change)s
   OR (xid >= pg_snapshot_xmin(%(snapshot)s::pg_snapshot)
       AND NOT pg_visible_in_snapshot(xid, %(snapshot)s::pg_snapshot)
       AND xid::text <> %(own)s)
"""


def build():
    """Build the postings of the words in at least STORED of the cases from every
    case's vector, in one snapshot. How many words were posted in all and for
    processes to hold (in at least COMMON), or None where another build was running."""
    outermost = not connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        if outermost:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [BUILDING])
        if not cursor.fetchone()[0]:
            return None
        cursor.execute(STAMP)
        snapshot, own, last_change, highest, documents = cursor.fetchone()
        width = bitset_bytes(highest + 1 + HEADROOM) * 8
        least = (max(1, math.ceil(share * documents)) for share in (COMMON, STORED))
        cursor.execute(COMMON_WORDS, list(least))
        stored, common = cursor.fetchone()
        common = set(common)
        SearchPosting.objects.all().delete()
        # A row a word, as PostgreSQL finishes them: all of them at once would be
        # several times the postings' size at a million cases.
        with connection.connection.cursor(name="postings", binary=True) as rows:
            rows.itersize = 64
            rows.execute(POSTINGS, [stored])
            batch = []
            for lexeme, data, titled in rows:
                cases, titled = binary_array(data, "i8"), binary_array(titled, "i8")
                batch.append(posting(lexeme, cases, titled, width, lexeme in common))
                if len(batch) == rows.itersize:
                    SearchPosting.objects.bulk_create(batch)
                    batch = []
            SearchPosting.objects.bulk_create(batch)
        SearchPostingsBuild.objects.update_or_create(
            one=True,
            defaults={
                "snapshot": snapshot,
                "last_change": last_change,
                "transaction": own,
                "width": width,
                "built": timezone.now(),
            },
        )
        return len(stored), len(common)


def posting(lexeme, cases, titled, width, common=True):
    """A SearchPosting of these case ids, as bits or as the ids where they take less,
    and of those with the word in their titles, as ids."""
    if len(cases) * 4 < width // 8:
        packed, data = False, np.sort(cases).astype("<i4").tobytes()
    else:
        bits = np.zeros(width, dtype=bool)
        bits[cases] = True
        packed, data = True, np.packbits(bits).tobytes()
    titled = np.sort(titled).astype("<i4").tobytes()
    return SearchPosting(lexeme=lexeme, common=common, packed=packed, cases=data, titled=titled)


# Up to this many ids, `member()` looks for each bit on its own: a patch asks about
# every word, and for a case or two, NumPy's work on whole arrays costs more than it saves.
FEW = 8


def member(cases, ids):
    """Which of these ids (ascending) a posting's cases, bits or ids, hold: a list."""
    if not len(cases):
        return [False] * len(ids)
    if cases.dtype == np.uint8:
        if len(ids) > FEW:
            found = (cases[ids >> 3] >> (7 - (ids & 7)).astype(np.uint8)) & 1
            return found.astype(bool).tolist()
        return [bool(cases[pk >> 3] & (128 >> (pk & 7))) for pk in ids.tolist()]
    # Ids of the posting's own type: else NumPy would convert the whole posting first.
    ids = ids.astype(cases.dtype)
    return (cases[np.minimum(cases.searchsorted(ids), len(cases) - 1)] == ids).tolist()


def rewritten(cases, changed, holding):
    """A posting's cases, bits or ids, with the `changed` cases in or out as `holding`
    (the ids, ascending, of those that now have the word) says: the same array if none
    of them moved, else a new one."""
    wanted = member(holding, changed)
    if member(cases, changed) == wanted:
        return cases
    wanted = np.array(wanted, dtype=bool)
    if cases.dtype == np.uint8:
        cases = cases.copy()
        # Unbuffered, as two changed cases may share a byte.
        np.bitwise_and.at(cases, changed >> 3, ~(128 >> (changed & 7)).astype(np.uint8))
        chosen = changed[wanted]
        np.bitwise_or.at(cases, chosen >> 3, (128 >> (chosen & 7)).astype(np.uint8))
    else:
        cases = np.union1d(cases[~np.isin(cases, changed)], changed[wanted]).astype("<i4")
    cases.flags.writeable = False
    return cases


def decoded(packed, data):
    """A posting's cases as stored: bits (uint8) or ids (int32)."""
    return np.frombuffer(data, dtype=np.uint8 if packed else "<i4")


def ids_of(cases):
    """The ids of a posting's cases, ascending."""
    return np.flatnonzero(np.unpackbits(cases)) if cases.dtype == np.uint8 else cases


def built():
    """When the stored postings were built, or None if they never were."""
    return SearchPostingsBuild.objects.values_list("built", flat=True).first()


@dataclasses.dataclass(frozen=True)
class Postings:
    """Common words' cases, by word: a packed bitset over case ids (uint8) or the ids,
    ascending (int32); and the cases with them in their titles, as ids. Never changed in
    place: `patched()` copies the words it changes, so that the readers of an older
    catalogue index are never disturbed."""

    words: dict
    titles: dict  # the words in some title only
    width: int  # bits in each packed posting
    snapshot: str  # the build's
    last_change: int
    own: str  # the build's own transaction, if it had written before it
    built: object  # when
    # The ids of the cases read again since the build, ascending.
    changed: np.ndarray = dataclasses.field(default_factory=lambda: np.zeros(0, np.int64))

    @classmethod
    def read(cls):
        """The postings as last built, or None if they never were. Inside a transaction
        that sees one snapshot (freshness.snapshot()), so that the rows and their build
        agree."""
        build = SearchPostingsBuild.objects.first()
        if build is None:
            return None
        # A few words at a time: the driver's buffer for all of them at once would stay
        # in the process, freed but resident, as large as the postings.
        with connection.connection.cursor(name="postings", binary=True) as rows:
            rows.itersize = 32
            rows.execute(
                "SELECT lexeme, packed, cases, titled FROM innovations_searchposting WHERE common"
            )
            words, titles = {}, {}
            for lexeme, packed, data, titled in rows:
                words[lexeme] = decoded(packed, data)
                if titled:
                    titles[lexeme] = decoded(False, titled)
        return cls(
            words,
            titles,
            build.width,
            build.snapshot,
            build.last_change,
            build.transaction,
            build.built,
        )

    def changed_since(self):
        """The ids of the cases that may have changed since the build, or None when the
        postings can no longer be brought up to date: a vocabulary term or a country
        was renamed (its name is in the vectors of all of its cases), or the change log
        was pruned of rows the build did not see."""
        with connection.cursor() as cursor:
            cursor.execute(
                UNSEEN,
                {"snapshot": self.snapshot, "last_change": self.last_change, "own": self.own},
            )
            cases, renamed, pruned = cursor.fetchone()
        return None if renamed or pruned else np.array(cases, dtype=np.int64)

    def patched(self, changed):
        """These postings with the cases whose ids are in `changed` read again, or None
        if one of them lies past the postings' width."""
        changed = np.unique(np.asarray(changed, dtype=np.int64))
        if not len(changed):
            return self
        if changed[-1] >= self.width:
            return None
        holding, titling = {}, {}  # word -> the changed cases that hold it now, in titles
        with connection.binary_cursor() as cursor:
            cursor.execute(CHANGED_WORDS, [changed.tolist(), list(self.words)])
            for lexeme, cases, titled in cursor.fetchall():
                holding[lexeme] = np.sort(binary_array(cases, "i8"))
                titling[lexeme] = np.sort(binary_array(titled, "i8"))
        empty = np.zeros(0, dtype="<i4")
        words, titles = dict(self.words), dict(self.titles)
        for lexeme, cases in self.words.items():
            words[lexeme] = rewritten(cases, changed, holding.get(lexeme, empty))
            titled = rewritten(self.titles.get(lexeme, empty), changed, titling.get(lexeme, empty))
            if len(titled):
                titles[lexeme] = titled
            else:
                titles.pop(lexeme, None)
        return dataclasses.replace(
            self, words=words, titles=titles, changed=np.union1d(self.changed, changed)
        )

    def matching(self, written):
        """The ids, ascending, of the cases that a query finds, given as the text of a
        tsquery (`'open' & !'budget' | 'dat'`), whatever their status, and with a `!`
        ids of no case too (the catalogue index keeps the published cases); and those of
        the cases whose titles it finds. The words these postings do not hold are looked
        up in the database (`looked_up()`). None if the query has anything but words,
        and, or, not and parentheses (a phrase, a prefix)."""
        try:
            parser = Parser(written)
            tree = parser.query()
        except Unanswerable:
            return None
        if tree is None:  # only stop words: nothing matches
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        missing = sorted(parser.words - self.words.keys())
        found, titled = self.looked_up(missing) if missing else ({}, {})
        # Cases added past the postings' width have only looked-up words.
        size = max([self.width, *(int(ids[-1]) + 1 for ids in found.values() if len(ids))])
        empty = np.zeros(0, dtype="<i4")
        for word in parser.words - found.keys():
            found[word], titled[word] = self.words[word], self.titles.get(word, empty)
        return (
            np.flatnonzero(evaluate(tree, found, size)),
            np.flatnonzero(evaluate(tree, titled, size)),
        )

    def looked_up(self, words):
        """({word: ids}, {word: ids in titles}) of these words, which these postings do
        not hold, in one query: from their stored postings, brought up to date with the
        cases changed since the build, or for the rarest words, whose postings are not
        stored, from the indexes of the vectors and of the titles' words, which find
        their few cases quickly."""
        queries = ["'" + word.replace("\\", "\\\\").replace("'", "''") + "'" for word in words]
        with connection.binary_cursor() as cursor:
            cursor.execute(
                LOOK_UP, {"changed": self.changed.tolist(), "words": words, "queries": queries}
            )
            rows = cursor.fetchall()
        found, titled = {}, {}
        for lexeme, packed, data, titles, now, titled_now in rows:
            now, titled_now = binary_array(now, "i8"), binary_array(titled_now, "i8")
            if data is None:
                found[lexeme], titled[lexeme] = now, titled_now
            else:
                cases, titles = ids_of(decoded(packed, data)), decoded(False, titles)
                found[lexeme] = np.union1d(cases[~np.isin(cases, self.changed)], now)
                titled[lexeme] = np.union1d(titles[~np.isin(titles, self.changed)], titled_now)
        return found, titled


def evaluate(tree, cases, size):
    """The cases of the query `tree` as a mask over ids below `size`, given each word's
    `cases`, as bits (uint8) or ids."""
    operator, *operands = tree
    if operator == "word":
        having = cases[operands[0]]
        if having.dtype == np.uint8:
            return np.unpackbits(having, count=size).view(bool)
        mask = np.zeros(size, dtype=bool)
        mask[having] = True
        return mask
    if operator == "not":
        return ~evaluate(operands[0], cases, size)
    first, second = (evaluate(operand, cases, size) for operand in operands)
    return first & second if operator == "and" else first | second


class Unanswerable(Exception):
    """A query that the postings cannot answer."""


# A tsquery's text, as PostgreSQL writes it: quoted words (a quote or a backslash in
# one doubled), operators and parentheses.
TOKEN = re.compile(r"\s*(?:'((?:[^'\\]|''|\\\\)*)'|(\S))")


class Parser:
    """A tsquery's text as a tree of ("word", lexeme), ("not", tree), ("and" or "or",
    tree, tree), and the set of its `words`; `!` binds tighter than `&`, and `&` than
    `|`."""

    def __init__(self, text):
        self.words = set()
        self.tokens = []
        position = 0
        text = text.rstrip()
        while position < len(text):
            match = TOKEN.match(text, position)
            if match is None:
                raise Unanswerable(text)
            word, operator = match.groups()
            if word is not None:
                self.tokens.append(("word", word.replace("''", "'").replace("\\\\", "\\")))
            elif operator in "&|!()":
                self.tokens.append((operator, None))
            else:  # a phrase's <->, or a word's :* or weights
                raise Unanswerable(text)
            position = match.end()
        self.position = 0

    def query(self):
        if not self.tokens:
            return None
        tree = self.either()
        if self.position != len(self.tokens):
            raise Unanswerable("trailing tokens")
        return tree

    def peek(self):
        return self.tokens[self.position][0] if self.position < len(self.tokens) else None

    def take(self, kind):
        if self.peek() != kind:
            raise Unanswerable(f"expected {kind}")
        self.position += 1
        return self.tokens[self.position - 1][1]

    def either(self):
        tree = self.both()
        while self.peek() == "|":
            self.take("|")
            tree = ("or", tree, self.both())
        return tree

    def both(self):
        tree = self.single()
        while self.peek() == "&":
            self.take("&")
            tree = ("and", tree, self.single())
        return tree

    def single(self):
        if self.peek() == "!":
            self.take("!")
            return ("not", self.single())
        if self.peek() == "(":
            self.take("(")
            tree = self.either()
            self.take(")")
            return tree
        word = self.take("word")
        self.words.add(word)
        return ("word", word)
